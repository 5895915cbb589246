//! Prints every quantity of the catalogue with its default arguments and its value.
fn main() {
    for q in dlf_engine::quantities::catalogue() {
        match dlf_engine::quantities::evaluate(q.name, &[]) {
            Ok(v) => println!("{:45} {v:e}", q.name),
            Err(e) => println!("{:45} error: {e}", q.name),
        }
    }
}

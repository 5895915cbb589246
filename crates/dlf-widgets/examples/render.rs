//! Renders one widget query and writes the figure to standard output.
//!
//! ```text
//! cargo run -p dlf-widgets --example render -- "widget=mlp-trainer&steps=100"          # the SVG
//! cargo run -p dlf-widgets --example render -- --json "widget=backprop-walk&hidden=3"  # the JSON
//! ```
//!
//! Useful for looking at a figure in a browser while working on a widget.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let Some(query) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: render [--json] \"widget=ID&name=value&...\"");
        return ExitCode::from(2);
    };
    match dlf_widgets::render_query(query) {
        Ok(fig) if json => {
            println!("{}", fig.to_json());
            ExitCode::SUCCESS
        }
        Ok(fig) => {
            println!("{}", fig.svg);
            for (label, value) in &fig.numbers {
                eprintln!("{label}: {value}");
            }
            eprintln!("{}", fig.description);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

//! How the time to check and render a lesson grows with its size and shape. Not a test: it prints times.
//!
//! ```sh
//! cargo run --release -p dlf-content --example check_bench            # the course's lessons, 1×, 10×, 100×
//! cargo run --release -p dlf-content --example check_bench -- shapes  # adversarial shapes at growing sizes
//! cargo run --release -p dlf-content --example check_bench -- deps    # pulldown-cmark and -latex alone
//! ```
//!
//! The first part repeats each lesson's body 1, 10 and 100 times under its front matter and times
//! [`Lesson::parse`] (everything `dlf check` does for one file); the claims, which run the engine, are
//! measured in the first copy only. The second part times
//! shapes that once made checking superlinear (issue 14): many emphasis spans, many formulas, deep nesting of
//! quotes, lists, links and formulas. A linear checker prints about the same time per megabyte at every size.

use std::path::Path;
use std::time::Instant;

use dlf_content::Lesson;

fn time_parse(name: &str, source: &str) -> (f64, usize) {
    let started = Instant::now();
    let (_, problems) = Lesson::parse(Path::new(name), source);
    (started.elapsed().as_secs_f64(), problems.len())
}

fn report(label: &str, source: &str) {
    let (seconds, problems) = time_parse("bench.md", source);
    let mb = source.len() as f64 / 1e6;
    println!(
        "{label:<44} {:>9.3} MB {:>9.3} s {:>9.3} s/MB  ({problems} diagnostics)",
        mb,
        seconds,
        seconds / mb
    );
}

fn lessons() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content/lessons");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("content/lessons")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("read a lesson");
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        // Front matter once, then the body `times` times.
        let end = source[3..].find("+++").map_or(0, |i| i + 6);
        let (front, body) = source.split_at(end);
        // Claims run the engine (trainings, finite differences: about a second per lesson's worth), a cost
        // per claim that does not depend on the text around it; the copies after the first leave them out so
        // that the times show how the parsing, checking and rendering of the text scale.
        let without_claims = strip_claims(body);
        for times in [1, 10, 100] {
            let grown = format!("{front}{body}{}", without_claims.repeat(times - 1));
            report(&format!("{name} ×{times}"), &grown);
        }
    }
}

/// `body` without its `:::claim` blocks.
fn strip_claims(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut in_claim = false;
    for line in body.split_inclusive('\n') {
        if line.starts_with(":::claim") {
            in_claim = true;
        } else if in_claim && line.trim_end() == ":::" {
            in_claim = false;
        } else if !in_claim {
            out.push_str(line);
        }
    }
    out
}

const FRONT: &str =
    "+++\nid = \"99-bench\"\ntitle = \"Bench\"\nstage = \"foundation\"\nprerequisites = []\n\
                     summary = \"s\"\nminutes = 1\n+++\n\n";

fn shapes() {
    type Shape = (&'static str, fn(usize) -> String);
    let shapes: [Shape; 12] = [
        ("`# a` headings of one name", |n| "# a\n\n".repeat(n)),
        ("`:::prompt` openers, unclosed", |n| {
            ":::prompt id=\"p\" level=\"screen\"\n".repeat(n)
        }),
        ("`:::note` blocks", |n| ":::note\ntext\n:::\n\n".repeat(n)),
        ("plain words", |n| "word ".repeat(n)),
        ("`*a*` spans", |n| "*a* ".repeat(n)),
        ("`$x$` formulas", |n| "$x$ ".repeat(n)),
        ("one line per `*a*`", |n| "*a*\n".repeat(n)),
        ("`x^{` nested in one formula", |n| {
            format!("${}x{}$", "x^{".repeat(n), "}".repeat(n))
        }),
        ("`\\left(` nested in one formula", |n| {
            format!("${}x{}$", "\\left(".repeat(n), "\\right)".repeat(n))
        }),
        ("`- > ` nested", |n| format!("{}x\n", "- > ".repeat(n))),
        ("`[a](` nested", |n| format!("{}x\n", "[a](".repeat(n))),
        ("`>` nested", |n| format!("{}x\n", "> ".repeat(n))),
    ];
    for (label, make) in shapes {
        for n in std::env::args()
            .nth(2)
            .map_or(vec![10_000, 40_000, 160_000], |s| {
                s.split(',').map(|n| n.parse().expect("a size")).collect()
            })
        {
            report(&format!("{label} ×{n}"), &format!("{FRONT}{}", make(n)));
        }
    }
}

/// The dependencies alone on nested input, to tell whose time it is: pulldown-cmark parsing (events counted)
/// and pulldown-latex rendering one formula (through `dlf_content::math::render`).
fn dependencies() {
    type Shape = (&'static str, fn(usize) -> String);
    let markdown: [Shape; 4] = [
        ("pulldown-cmark: `- > ` nested", |n| {
            format!("{}x\n", "- > ".repeat(n))
        }),
        ("pulldown-cmark: `[a](` nested", |n| {
            format!("{}x\n", "[a](".repeat(n))
        }),
        ("pulldown-cmark: `>` nested", |n| {
            format!("{}x\n", "> ".repeat(n))
        }),
        ("pulldown-cmark: `- ` nested", |n| {
            format!("{}x\n", "- ".repeat(n))
        }),
    ];
    for (label, make) in markdown {
        for n in [1_000, 2_000, 4_000, 8_000] {
            let text = make(n);
            let started = Instant::now();
            let events =
                pulldown_cmark::Parser::new_ext(&text, pulldown_cmark::Options::all()).count();
            let seconds = started.elapsed().as_secs_f64();
            println!("{label:<44} n={n:>6} {events:>7} events {seconds:>9.4} s");
        }
    }
    let latex: [Shape; 10] = [
        ("pulldown-latex: `}` unmatched", |n| "}".repeat(n)),
        ("pulldown-latex: `&` outside a table", |n| "x&".repeat(n)),
        ("pulldown-latex: `\\foo` unknown", |n| "\\foo ".repeat(n)),
        ("pulldown-latex: `x+` flat", |n| "x+".repeat(n)),
        ("pulldown-latex: `\\sqrt` chained", |n| {
            format!("{}x", "\\sqrt ".repeat(n))
        }),
        ("pulldown-latex: `\\frac1` chained", |n| {
            format!("{}x", "\\frac1".repeat(n))
        }),
        ("pulldown-latex: `{x}` siblings", |n| "{x}".repeat(n)),
        ("pulldown-latex: `x^{` nested", |n| {
            format!("{}x{}", "x^{".repeat(n), "}".repeat(n))
        }),
        ("pulldown-latex: `\\left(` nested", |n| {
            format!("{}x{}", "\\left(".repeat(n), "\\right)".repeat(n))
        }),
        ("pulldown-latex: `{` nested", |n| {
            format!("{}x{}", "{".repeat(n), "}".repeat(n))
        }),
    ];
    for (label, make) in latex {
        for n in [500, 1_000, 2_000, 4_000] {
            let text = make(n);
            let started = Instant::now();
            let (_, errors) = dlf_content::math::render(&text, dlf_content::math::MathMode::Inline);
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{label:<44} n={n:>6} {:>7} errors {seconds:>9.4} s",
                errors.len()
            );
        }
    }
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("shapes") => shapes(),
        Some("deps") => dependencies(),
        Some(other) => eprintln!("unknown argument {other:?}; use no argument or `shapes`"),
        None => lessons(),
    }
}

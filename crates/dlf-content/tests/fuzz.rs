//! A structured fuzzer on stable Rust for everything a lesson author or a learner can type (issue 14): the
//! lesson parser ([`Lesson::parse`], everything `dlf check` does for one file), the maths renderer
//! ([`math::render`]), the answer reader ([`answer::parse_answer`]) and the widget query parser
//! ([`dlf_widgets::query::parse_query`], and rendering through [`dlf_widgets::render_query`]).
//!
//! Each target starts from a corpus — `fuzz/corpus/<target>/` in the repository, plus the course itself for
//! lessons and formulas and every widget's id for queries — and mutates it with a seeded generator: bytes
//! flipped, inserted, deleted, ranges duplicated (to grow inputs) and spliced from another corpus entry,
//! tokens of the target's grammar inserted, and a token repeated hundreds or thousands of times (the shape
//! that found the quadratic and deeply nested cases). Every input must finish without a panic, within a
//! generous ceiling of time (only a superlinear blow-up reaches it), and satisfy the target's own checks.
//!
//! `cargo test` runs a short pass with a fixed seed (a fixed number of inputs per target, about a minute
//! in all in a debug build), so CI is deterministic. A long run, as the README says:
//!
//! ```sh
//! DLF_FUZZ_SECONDS=600 DLF_FUZZ_SEED=random cargo test --release -p dlf-content --test fuzz -- --nocapture
//! ```
//!
//! `DLF_FUZZ_SECONDS` gives each target that many seconds instead of a fixed count; `DLF_FUZZ_SEED` is a
//! number or `random` (printed, so a run can be repeated); `DLF_FUZZ_TARGET` runs one target;
//! `DLF_FUZZ_KEEP_SLOWEST` writes each target's slowest input to `fuzz/findings/<target>-slowest`. A failing
//! input is written to `fuzz/findings/<target>-<seed>-<n>` and named in the failure. cargo-fuzz would need
//! a nightly compiler, which this project's toolchain does not have; this harness runs on stable, inside the
//! ordinary test command.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dlf_content::math::{self, MathMode};
use dlf_content::{answer, Lesson};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// xorshift64*: small, seeded, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How a run is bounded: a number of inputs per target (CI), or seconds per target (a long run).
#[derive(Clone, Copy)]
enum Budget {
    Inputs(usize),
    Seconds(u64),
}

fn seed() -> u64 {
    match std::env::var("DLF_FUZZ_SEED").ok().as_deref() {
        None | Some("") => 0x5EED_0014,
        Some("random") => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            nanos | 1
        }
        Some(n) => n.parse().expect("DLF_FUZZ_SEED is a number or `random`"),
    }
}

fn budget(ci_inputs: usize) -> Budget {
    match std::env::var("DLF_FUZZ_SECONDS") {
        Ok(s) => Budget::Seconds(s.parse().expect("DLF_FUZZ_SECONDS is a number")),
        Err(_) => Budget::Inputs(ci_inputs),
    }
}

fn selected(target: &str) -> bool {
    std::env::var("DLF_FUZZ_TARGET").map_or(true, |t| t == target)
}

/// One input may take at most this long. Inputs are capped at [`MAX_INPUT`] bytes, so a linear checker
/// needs well under a second even unoptimised; only a superlinear case (or a hang) reaches the ceiling.
const CEILING: Duration = Duration::from_secs(30);
/// The largest input tried, in bytes.
const MAX_INPUT: usize = 256 * 1024;

/// Reads `fuzz/corpus/<target>/*`.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = repo().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .iter()
        .map(|p| std::fs::read(p).expect("read a corpus file"))
        .collect()
}

/// A mutation of one corpus entry: several edits, each chosen at random.
fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], tokens: &[&str]) -> Vec<u8> {
    let mut data = rng.pick(corpus).clone();
    let edits = 1 + rng.below(8);
    for _ in 0..edits {
        let len = data.len();
        match rng.below(9) {
            // Flip, replace or insert one byte.
            0 if len > 0 => {
                let at = rng.below(len);
                data[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                data[at] = *rng.pick(b"\n\r\t {}[]()*_`$\\^&=%+-.,:;#>|!\"'0123456789eEx");
            }
            2 => {
                let at = rng.below(len + 1);
                data.insert(at, (rng.next() & 0xFF) as u8);
            }
            // Delete a range.
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                data.drain(at..end);
            }
            // Duplicate a range (grow).
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(256)).min(len);
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            // Splice in part of another entry.
            5 => {
                let other = rng.pick(corpus);
                if !other.is_empty() {
                    let at = rng.below(other.len());
                    let end = (at + 1 + rng.below(512)).min(other.len());
                    let to = rng.below(data.len() + 1);
                    data.splice(to..to, other[at..end].iter().copied());
                }
            }
            // Repeat a token many times: deep nesting, many spans, long chains.
            6 => {
                let token = rng.pick(tokens).as_bytes();
                let times = [2, 10, 100, 1_000, 5_000][rng.below(5)];
                let to = rng.below(data.len() + 1);
                let run: Vec<u8> = token
                    .iter()
                    .copied()
                    .cycle()
                    .take(token.len() * times)
                    .collect();
                data.splice(to..to, run);
            }
            // Insert one token.
            _ => {
                let token = rng.pick(tokens).as_bytes();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, token.iter().copied());
            }
        }
    }
    data.truncate(MAX_INPUT);
    data
}

/// Runs `check` on every input the budget allows; a panic, a failed check or an input over the ceiling is
/// written to `fuzz/findings/` and fails the test.
fn run(
    target: &str,
    seeds: Vec<Vec<u8>>,
    tokens: &[&str],
    budget: Budget,
    check: impl Fn(&[u8]) -> Result<(), String>,
) {
    let seed = seed();
    let mut rng = Rng(seed
        ^ target
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b))
        | 1);
    let started = Instant::now();
    let mut count = 0usize;
    let mut slowest = (Duration::ZERO, 0usize);
    let keep_slowest = std::env::var_os("DLF_FUZZ_KEEP_SLOWEST").is_some();
    let done = |count: usize| match budget {
        Budget::Inputs(n) => count >= n,
        Budget::Seconds(s) => started.elapsed() >= Duration::from_secs(s),
    };
    while !done(count) {
        // Every seed once as it is, then mutations.
        let input = if count < seeds.len() {
            seeds[count].clone()
        } else {
            mutate(&mut rng, &seeds, tokens)
        };
        let t = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, input.len());
            if keep_slowest {
                let dir = repo().join("fuzz/findings");
                let _ = std::fs::create_dir_all(&dir);
                let _ = std::fs::write(dir.join(format!("{target}-slowest")), &input);
            }
        }
        let failure = match outcome {
            Err(panic) => Some(format!(
                "panicked: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
            )),
            Ok(Err(message)) => Some(message),
            Ok(Ok(())) if took > CEILING => Some(format!("took {took:?}")),
            Ok(Ok(())) => None,
        };
        if let Some(failure) = failure {
            let dir = repo().join("fuzz/findings");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{target}-{seed}-{count}"));
            let _ = std::fs::write(&file, &input);
            panic!(
                "{target}: input {count} (seed {seed}, {} bytes, saved to {}): {failure}",
                input.len(),
                file.display()
            );
        }
        count += 1;
    }
    eprintln!(
        "fuzz {target}: {count} inputs in {:.1} s (seed {seed}); slowest {:?} for {} bytes",
        started.elapsed().as_secs_f64(),
        slowest.0,
        slowest.1
    );
}

fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

const LESSON_TOKENS: &[&str] = &[
    "*a*",
    "_a_",
    "**",
    "`",
    "```\n",
    "$x$",
    "$$\n",
    "$",
    "\\$",
    "- ",
    "> ",
    "- > ",
    "1. ",
    "[a](",
    "[a]",
    "](",
    "![",
    "<",
    "&",
    "\n",
    "\n\n",
    "    ",
    "# ",
    "| a | b |\n",
    "[^1]",
    "{{num q=\"backprop.flop_ratio\"}}",
    "{{",
    "}}",
    ":::derive id=\"x\" seconds=60\n",
    ":::prompt id=\"p\" level=\"screen\"\n",
    ":::claim ",
    ":::widget ",
    ":::estimate generator=\"backprop.backward_flops\"\n",
    ":::note\n",
    ":::sources\n",
    ":::\n",
    "::prompt\n",
    "::answer\n",
    "::hire\n",
    "::strong\n",
    "x^{",
    "}",
    "\\left(",
    "\\right)",
    "\\frac{",
    "\\sqrt ",
    "+++\n",
    "id = \"",
    "\u{feff}",
    "é",
    "\u{0}",
];

const MATH_TOKENS: &[&str] = &[
    "{",
    "}",
    "x^{",
    "_{",
    "^",
    "_",
    "\\left(",
    "\\right)",
    "\\left\\{",
    "\\right.",
    "\\frac",
    "\\frac{1}{2}",
    "\\sqrt",
    "\\sqrt[3]",
    "\\^",
    "\\begin{aligned}",
    "\\end{aligned}",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "&",
    "\\\\",
    "\\text{",
    "\\operatorname{",
    "\\mathbb{R}",
    "\\",
    "'",
    "<",
    ">",
    "&amp;",
    "\\,",
    "\\ ",
    "~",
    "%",
    "#",
    "$",
    "\\over",
    "\\not",
    "\\mathrm",
    "é",
    "\n",
];

const ANSWER_TOKENS: &[&str] = &[
    "0", "1", "9", ".", "e", "E", "-", "+", "−", ",", " ", "\u{a0}", "\u{202f}", "_", "'", "×",
    "x", "*", "·", "10^", "10", "^", "⁻", "⁹", "⁰", "{", "}", "k", "M", "G", "T", "P", "e-400",
    "e400", "99999", "inf", "NaN",
];

const QUERY_TOKENS: &[&str] = &[
    "&",
    "=",
    "%",
    "%2",
    "%zz",
    "%FF",
    "%C3%A9",
    "+",
    "widget=",
    "widget=mlp-trainer",
    "?",
    "lr=",
    "1e308",
    "-1",
    "NaN",
    "inf",
    "0x10",
    "&&",
    "===",
    "é",
];

/// The course's formulas, for the maths corpus.
fn course_formulas() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(repo().join("content/lessons")).expect("content/lessons") {
        let source = std::fs::read_to_string(entry.expect("an entry").path()).expect("a lesson");
        for (i, part) in source.split('$').enumerate() {
            if i % 2 == 1 && !part.trim().is_empty() && part.len() < 2_000 {
                out.push(part.as_bytes().to_vec());
            }
        }
    }
    out
}

#[test]
fn fuzz_lesson_parser() {
    if !selected("lesson") {
        return;
    }
    let mut seeds = corpus("lesson");
    // The real lessons are large; in the short pass their sections stand in (split at headings), the whole
    // files join in a long run.
    for entry in std::fs::read_dir(repo().join("content/lessons")).expect("content/lessons") {
        let source = std::fs::read(entry.expect("an entry").path()).expect("a lesson");
        if std::env::var_os("DLF_FUZZ_SECONDS").is_some() {
            seeds.push(source.clone());
        }
        let text = String::from_utf8_lossy(&source).into_owned();
        let front_end = text[3..].find("+++").map_or(0, |i| i + 6);
        let (front, body) = text.split_at(front_end);
        for section in body.split("\n## ").filter(|s| s.len() < 6_000) {
            seeds.push(format!("{front}\n## {section}").into_bytes());
        }
    }
    run("lesson", seeds, LESSON_TOKENS, budget(400), |input| {
        let source = text(input);
        let lines = source.lines().count() + 1;
        let (_, problems) = Lesson::parse(Path::new("fuzz.md"), &source);
        for p in &problems {
            if p.line == 0 || p.line > lines + 1 {
                return Err(format!(
                    "diagnostic line {} outside 1..={}: {p}",
                    p.line, lines
                ));
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_maths_renderer() {
    if !selected("math") {
        return;
    }
    let mut seeds = corpus("math");
    seeds.extend(course_formulas());
    run("math", seeds, MATH_TOKENS, budget(4_000), |input| {
        let latex = text(input);
        for mode in [MathMode::Inline, MathMode::Display] {
            let (mathml, _) = math::render(&latex, mode);
            if !mathml.starts_with("<math") || !mathml.ends_with("</math>") {
                return Err(format!("not a <math> element: {mathml:.200}"));
            }
            if mathml.contains("<script") {
                return Err("a <script> in MathML".to_owned());
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_answer_reader() {
    if !selected("answer") {
        return;
    }
    run(
        "answer",
        corpus("answer"),
        ANSWER_TOKENS,
        budget(8_000),
        |input| {
            let typed = text(input);
            for unit in ["", "MiB", "parameters", "GFLOPs"] {
                if let Ok(v) = answer::parse_answer(&typed, unit) {
                    if !v.is_finite() || (v != 0.0 && v.abs() < answer::SMALLEST_ANSWER) {
                        return Err(format!(
                            "{typed:?} read as {v}, which cannot be stored faithfully"
                        ));
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_widget_query_parser() {
    if !selected("query") {
        return;
    }
    let mut seeds = corpus("query");
    for widget in dlf_widgets::registry() {
        let spec = widget.spec();
        let mut q = format!("widget={}", spec.id);
        for p in spec.params {
            q.push_str(&format!("&{}=", p.name));
        }
        seeds.push(q.into_bytes());
    }
    let rendered = std::cell::Cell::new(0usize);
    run("query", seeds, QUERY_TOKENS, budget(10_000), |input| {
        let query = text(input);
        let parsed = dlf_widgets::query::parse_query(&query);
        // Rendering trains networks at some settings: only a sample of the queries that parse is rendered.
        if parsed.is_ok() && rendered.get() < 40 && input.len() % 7 == 0 {
            rendered.set(rendered.get() + 1);
            if let Ok(figure) = dlf_widgets::render_query(&query) {
                if !figure.svg.starts_with("<svg") {
                    return Err(format!("not an SVG: {:.200}", figure.svg));
                }
            }
        }
        Ok(())
    });
}

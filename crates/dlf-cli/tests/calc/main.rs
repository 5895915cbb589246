//! `dlf calc` as a user runs it: the real binary, a problem on stdin, JSON or an error out. One test binary
//! for every topic (one module each, named by the lesson's topic), with the helpers they share here: running
//! the binary, reading its answer or its error, comparing numbers.

mod ab;
mod attention;
mod backprop;
mod calibration;
mod framework;
mod fuzz;
mod init;
mod moe;
mod norm;
mod optim;
mod posenc;
mod scaling;
mod transformer;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `dlf calc ARGS...` (the topic first) with `stdin` as its input.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .arg("calc")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dlf");
    let mut pipe = child.stdin.take().expect("stdin");
    // dlf may exit before it reads its input (an argument error is reported without touching stdin), and
    // then the pipe is closed under us: a broken pipe is that race, not a failure; anything else is.
    if let Err(e) = pipe.write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(pipe);
    child.wait_with_output().expect("dlf finishes")
}

/// Whether `v` holds a `null` anywhere (what a NaN or infinity would print as).
pub fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(fields) => fields.values().any(has_null),
        _ => false,
    }
}

/// The answer of a run that must succeed: exit 0, JSON on stdout, no `null` in it.
pub fn answer(args: &[&str], stdin: &str) -> Value {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "dlf calc {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(!has_null(&value), "null in the answer: {value}");
    value
}

/// The message of a run that must fail: exit 2, nothing on stdout, a message on stderr.
pub fn error(args: &[&str], stdin: &str) -> String {
    let out = run(args, stdin);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout when failing: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.trim().is_empty(), "a message on stderr");
    stderr
}

/// A run that must fail with a message containing `needle`.
pub fn fails(args: &[&str], stdin: &str, needle: &str) {
    let e = error(args, stdin);
    assert!(e.contains(needle), "stderr should mention {needle:?}: {e}");
}

/// `dlf calc TOPIC --help`.
pub fn help(topic: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .args(["calc", topic, "--help"])
        .output()
        .expect("run dlf");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every number in `v`, depth first.
pub fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

fn assert_close_by(actual: &Value, expected: &[f64], what: &str, bound: impl Fn(f64) -> f64) {
    let actual = flat(actual);
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= bound(*e), "{what}[{i}]: {a} vs {e}");
    }
}

/// Each number of `actual` within `tol·(1 + |expected|)` of `expected`.
pub fn assert_close(actual: &Value, expected: &[f64], tol: f64, what: &str) {
    assert_close_by(actual, expected, what, |e| tol * (1.0 + e.abs()));
}

/// Each number of `actual` within `tol` of `expected`.
pub fn assert_within(actual: &Value, expected: &[f64], tol: f64, what: &str) {
    assert_close_by(actual, expected, what, |_| tol);
}

/// A small seeded generator (SplitMix64), so the random tests are the same on every run.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[lo, hi)`, with all 53 bits of precision.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Any finite double, from its bits (every magnitude, subnormals included).
    pub fn any_double(&mut self) -> f64 {
        loop {
            let v = f64::from_bits(self.next_u64());
            if v.is_finite() {
                return v;
            }
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `[a, b, c]` with each number in full precision (`{:?}` prints the shortest text that reads back exactly).
pub fn list(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// A `rows × cols` matrix of numbers in `[-3, 3)` as JSON.
pub fn random_matrix(rng: &mut Rng, rows: usize, cols: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|_| {
            list(
                &(0..cols)
                    .map(|_| rng.uniform(-3.0, 3.0))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

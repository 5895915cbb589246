//! A bounded property test of `dlf calc`'s problem reader and solvers, which is also the fuzz harness for the
//! reader that issue 14 asks for: seeded random valid problems of every topic, and mutations of them (bytes
//! deleted, inserted or duplicated, text cut short, numbers replaced by extremes or by other JSON values,
//! fields added or renamed, options added). Whatever the input, `dlf calc` must not panic and must exit with
//! 0 (a complete JSON answer on stdout, without a `null`) or 2 (nothing on stdout, a message on stderr).
//! A few hundred cases run in a few seconds in a debug build; set `DLF_CALC_FUZZ_CASES` (cases per topic) to
//! fuzz longer, and `DLF_CALC_FUZZ_SEED` to try other inputs.

use serde_json::Value;

use super::{has_null, list, random_matrix, run, Rng};

/// Cases per topic unless `DLF_CALC_FUZZ_CASES` says otherwise.
const CASES: usize = 120;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What may replace a number.
const REPLACEMENTS: &[&str] = &[
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "5e-324",
    "-0.0",
    "0",
    "1e400",
    "-1e-400",
    "1e-170",
    "NaN",
    "\"1\"",
    "null",
    "[]",
    "[[]]",
    "true",
    "{}",
    "-",
    "0.18905338179353307",
    "18446744073709551616",
];

/// Fields that may be added, used or not.
const FIELDS: &[&str] = &[
    "\"eps\":0",
    "\"eps\":1e-300",
    "\"momentum\":0.5",
    "\"beta1\":0.9",
    "\"beta\":[0]",
    "\"gamma\":[1e308]",
    "\"mode\":\"eval\"",
    "\"running_var\":[0]",
    "\"weight_decay\":1e300",
    "\"dy\":[[1e308]]",
    "\"nesterov\":true",
    "\"previous_batches\":[[[1]]]",
    "\"schedule\":{\"warmup\":2,\"total\":1,\"cosine\":true}",
    "\"unknown\":1",
];

fn backprop(rng: &mut Rng) -> (Vec<&'static str>, String) {
    let (b, d, h, c) = (
        1 + rng.below(3),
        1 + rng.below(3),
        1 + rng.below(3),
        2 + rng.below(2),
    );
    let activation = rng.pick(&["relu", "tanh", "sigmoid", "gelu"]);
    let (loss, targets) = if rng.below(2) == 0 {
        let classes: Vec<String> = (0..b).map(|_| rng.below(c).to_string()).collect();
        ("cross_entropy", format!("[{}]", classes.join(",")))
    } else {
        ("mse", random_matrix(rng, b, c))
    };
    let problem = format!(
        r#"{{"x":{},"w1":{},"b1":{},"w2":{},"b2":{},"activation":"{activation}","loss":"{loss}","targets":{targets}}}"#,
        random_matrix(rng, b, d),
        random_matrix(rng, d, h),
        list(&vec![0.1; h]),
        random_matrix(rng, h, c),
        list(&vec![-0.1; c]),
    );
    (vec!["backprop"], problem)
}

fn optim(rng: &mut Rng) -> (Vec<&'static str>, String) {
    let kind = *rng.pick(&["sgd", "rmsprop", "adam", "adamw", "lion", "lamb"]);
    let n = 1 + rng.below(3);
    let nested = rng.below(2) == 0;
    let shaped = |rng: &mut Rng| {
        let v: Vec<f64> = (0..n).map(|_| rng.uniform(-2.0, 2.0)).collect();
        if nested {
            format!("[{},[0.5]]", list(&v))
        } else {
            list(&v)
        }
    };
    let params = shaped(rng);
    let grads: Vec<String> = (0..1 + rng.below(3)).map(|_| shaped(rng)).collect();
    let mut extra = String::new();
    let mut args = vec!["optim"];
    match kind {
        "sgd" if rng.below(2) == 0 => {
            extra.push_str(r#","momentum":0.9,"nesterov":true"#);
            args.extend(["--momentum-style", "ema"]);
        }
        "adam" | "adamw" | "lamb" | "rmsprop" if rng.below(2) == 0 => {
            extra.push_str(r#","eps":1e-6,"weight_decay":0.01"#);
            args.extend(["--eps-placement", *rng.pick(&["inside", "outside", "hat"])]);
        }
        "lion" | "adamw" => args.extend(["--decay-scaling", "schedule"]),
        _ => extra.push_str(r#","schedule":{"warmup":2,"total":4,"cosine":true,"min_ratio":0.1}"#),
    }
    let problem = format!(
        r#"{{"optimizer":"{kind}","lr":{:?},"params":{params},"grads":[{}]{extra}}}"#,
        rng.uniform(0.0, 0.5),
        grads.join(",")
    );
    (args, problem)
}

fn norm(rng: &mut Rng) -> (Vec<&'static str>, String) {
    let kind = *rng.pick(&["batchnorm", "layernorm", "rmsnorm"]);
    let (b, d) = (2 + rng.below(3), 1 + rng.below(4));
    let mut fields = vec![
        format!(r#""norm":"{kind}""#),
        format!(r#""x":{}"#, random_matrix(rng, b, d)),
    ];
    let mut args = vec!["norm"];
    if rng.below(2) == 0 {
        fields.push(format!(r#""dy":{}"#, random_matrix(rng, b, d)));
    }
    if rng.below(2) == 0 {
        let gamma: Vec<f64> = (0..d).map(|_| rng.uniform(-2.0, 2.0)).collect();
        fields.push(format!(r#""gamma":{}"#, list(&gamma)));
    }
    match kind {
        "batchnorm" if rng.below(2) == 0 => {
            fields.push(format!(
                r#""previous_batches":[{}],"momentum":0.2"#,
                random_matrix(rng, 2, d)
            ));
            args.extend(["--momentum-convention", "keras"]);
        }
        "batchnorm" => fields.push(format!(
            r#""mode":"eval","running_var":{}"#,
            list(&vec![0.5; d])
        )),
        "rmsnorm" => args.extend(["--rms-eps", "outside"]),
        _ => fields.push(format!(r#""beta":{}"#, list(&vec![0.1; d]))),
    }
    (args, format!("{{{}}}", fields.join(",")))
}

/// The byte ranges of the numbers in `text`.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || b".eE+-".contains(&bytes[i])) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// One random change to `text` (and sometimes to the options).
fn mutate(rng: &mut Rng, args: &mut Vec<&'static str>, text: &str) -> String {
    let mut s = text.to_string();
    let at = |rng: &mut Rng, s: &str| {
        let mut i = rng.below(s.len() + 1);
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match rng.below(8) {
        0 => {
            let i = at(rng, &s);
            if i < s.len() {
                s.remove(i);
            }
        }
        1 => {
            let i = at(rng, &s);
            s.insert(
                i,
                *rng.pick(&[
                    '[', ']', '{', '}', ',', ':', '"', '0', '.', 'e', '-', ' ', 'x', 'é',
                ]),
            );
        }
        2 | 3 => {
            let spans = numbers(&s);
            if !spans.is_empty() {
                let (a, b) = *rng.pick(&spans);
                let with = *rng.pick(REPLACEMENTS);
                s.replace_range(a..b, with);
            }
        }
        4 => {
            let i = at(rng, &s);
            s.truncate(i);
        }
        5 => {
            let (i, j) = (at(rng, &s), at(rng, &s));
            let (i, j) = (i.min(j), i.max(j));
            let piece = s[i..j].to_string();
            s.insert_str(j, &piece);
        }
        6 => {
            if let Some(i) = s.rfind('}') {
                s.insert_str(i, &format!(",{}", rng.pick(FIELDS)));
            }
        }
        _ => {
            const OPTIONS: [[&str; 2]; 6] = [
                ["--eps-placement", "hat"],
                ["--rms-eps", "inside"],
                ["--decay-scaling", "lr"],
                ["--momentum-convention", "pytorch"],
                ["--running-variance", "biased"],
                ["--momentum-style", "nonsense"],
            ];
            let option = rng.pick(&OPTIONS);
            args.extend_from_slice(option);
        }
    }
    s
}

fn check(args: &[&str], input: &str) {
    let out = run(args, input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {
            let v: Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{args:?} {input}: stdout is not JSON: {e}"));
            assert!(!has_null(&v), "{args:?} {input}: null in the answer");
        }
        Some(2) => {
            assert!(out.stdout.is_empty(), "{args:?} {input}: stdout on failure");
            assert!(!stderr.trim().is_empty(), "{args:?} {input}: no message");
        }
        other => panic!("{args:?} {input}: exit {other:?}: {stderr}"),
    }
}

fn property(seed: u64, generate: fn(&mut Rng) -> (Vec<&'static str>, String)) {
    let mut rng = Rng::new(seed.wrapping_add(env_number("DLF_CALC_FUZZ_SEED", 0)));
    for case in 0..env_number("DLF_CALC_FUZZ_CASES", CASES as u64) {
        let (mut args, problem) = generate(&mut rng);
        if case % 4 == 0 {
            // The valid problem itself must be solved.
            let out = run(&args, &problem);
            assert!(
                out.status.success(),
                "{args:?} {problem}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            check(&args, &problem);
            continue;
        }
        let mut input = problem;
        for _ in 0..1 + rng.below(3) {
            input = mutate(&mut rng, &mut args, &input);
        }
        check(&args, &input);
    }
}

#[test]
fn backprop_never_panics_nor_prints_null() {
    property(1, backprop);
}

#[test]
fn optim_never_panics_nor_prints_null() {
    property(2, optim);
}

#[test]
fn norm_never_panics_nor_prints_null() {
    property(3, norm);
}

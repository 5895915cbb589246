//! The `dlf` binary as a user runs it: every command, and every user-facing error message.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn dlf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dlf"))
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = dlf()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dlf");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("dlf finishes")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlf-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

fn assert_close(actual: &Value, expected: &[f64], what: &str) {
    let actual: Vec<f64> = match actual {
        Value::Array(items) if items.first().is_some_and(Value::is_array) => items
            .iter()
            .flat_map(|row| {
                row.as_array()
                    .expect("row")
                    .iter()
                    .map(|v| v.as_f64().expect("number"))
            })
            .collect(),
        Value::Array(items) => items.iter().map(|v| v.as_f64().expect("number")).collect(),
        other => vec![other.as_f64().expect("number")],
    };
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "{what}[{i}]: {a} vs {e}"
        );
    }
}

const PROBLEM_CE: &str = r#"{
  "x": [[1.0, -2.0], [0.5, 0.25], [-1.5, 2.0]],
  "w1": [[0.2, -0.4, 0.7], [0.1, 0.3, -0.5]],
  "b1": [0.05, -0.1, 0.2],
  "w2": [[0.6, -0.3], [-0.2, 0.8], [0.5, 0.1]],
  "b2": [0.01, -0.02],
  "activation": "relu",
  "loss": "cross_entropy",
  "targets": [1, 0, 1]
}"#;

// The expected values below were computed independently with numpy 2.4 (float64):
//
//   X = np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 2.0]])
//   W1 = np.array([[0.2, -0.4, 0.7], [0.1, 0.3, -0.5]]); b1 = np.array([0.05, -0.1, 0.2])
//   W2 = np.array([[0.6, -0.3], [-0.2, 0.8], [0.5, 0.1]]); b2 = np.array([0.01, -0.02])
//   y = np.array([1, 0, 1]); B = 3
//   Z1 = X @ W1 + b1; H1 = np.maximum(Z1, 0); Z2 = H1 @ W2 + b2
//   P = np.exp(Z2 - Z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
//   L = -np.log(P[np.arange(B), y]).mean(); dZ2 = (P - np.eye(2)[y]) / B
//   dW2 = H1.T @ dZ2; db2 = dZ2.sum(0); dH1 = dZ2 @ W2.T; dZ1 = dH1 * (Z1 > 0)
//   dW1 = X.T @ dZ1; db1 = dZ1.sum(0); dX = dZ1 @ W1.T
//
// and for the MSE case: H1 = np.tanh(Z1); Z2 = H1 @ W2 + b2; T = [[0.5, -0.5], [1.0, 0.0], [0.0, 2.0]];
// L = ((Z2 - T)**2).mean(); dZ2 = 2*(Z2 - T)/Z2.size; dZ1 = (dZ2 @ W2.T) * (1 - H1**2); dW1 = X.T @ dZ1.
#[test]
fn calc_backprop_matches_numpy_for_cross_entropy() {
    let out = run_with_stdin(&["calc", "backprop"], PROBLEM_CE);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    assert_close(&answer["loss"], &[0.673527024033825], "loss");
    assert_close(
        &answer["backward"]["dw1"],
        &[
            0.14748860233791042,
            0.12770154208626205,
            0.0655504899279602,
            -0.4493140346279565,
            -0.17026872278168273,
            -0.19969512650131402,
        ],
        "dw1",
    );
    assert_close(
        &answer["backward"]["db1"],
        &[
            0.08575387035705616,
            -0.08513436139084136,
            0.038112831269802736,
        ],
        "db1",
    );
    assert_close(
        &answer["backward"]["dw2"],
        &[
            -0.012384432752623065,
            0.01238443275262306,
            0.09364779752992548,
            -0.09364779752992551,
            0.3833886811354742,
            -0.38338868113547425,
        ],
        "dw2",
    );
    assert_close(
        &answer["backward"]["db2"],
        &[0.1804164395653482, -0.18041643956534825],
        "db2",
    );
    assert_close(
        &answer["backward"]["dx"],
        &[
            0.10693637087403529,
            -0.025571740861182354,
            -0.06310661491376214,
            0.015090712261986602,
            0.03405374455633655,
            -0.025540308417252407,
        ],
        "dx",
    );
    assert_eq!(answer["shapes"]["w1"], "2×3");
    assert_eq!(answer["shapes"]["z2"], "3×2");
}

#[test]
fn calc_backprop_matches_numpy_for_mse_with_tanh() {
    let problem = PROBLEM_CE
        .replace(r#""relu""#, r#""tanh""#)
        .replace(r#""cross_entropy""#, r#""mse""#)
        .replace("[1, 0, 1]", "[[0.5, -0.5], [1.0, 0.0], [0.0, 2.0]]");
    let out = run_with_stdin(&["calc", "backprop"], &problem);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    assert_close(&answer["loss"], &[0.5090296206756192], "loss");
    assert_close(
        &answer["backward"]["dw1"],
        &[
            -0.030690980736264542,
            0.16811492258857852,
            -0.023125870147402836,
            -0.08354201340261158,
            -0.22750648808424084,
            -0.058267166472741,
        ],
        "dw1",
    );
    assert_close(
        &answer["backward"]["db1"],
        &[
            -0.04587886161662409,
            -0.14834635906203716,
            -0.10808223363621647,
        ],
        "db1",
    );
    assert_close(
        &answer["backward"]["dw2"],
        &[
            -0.023137428173179802,
            0.010919486410166433,
            -0.17527920425642585,
            -0.35282931503326276,
            0.1791564191664096,
            0.40976198662399443,
        ],
        "dw2",
    );
}

fn assert_fails_with(args: &[&str], stdin: &str, needle: &str) {
    let out = run_with_stdin(args, stdin);
    assert_eq!(out.status.code(), Some(2), "exit status for {needle:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(needle),
        "stderr should mention {needle:?}: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout when failing");
}

#[test]
fn calc_backprop_explains_bad_input() {
    assert_fails_with(&["calc", "backprop"], "{not json", "not valid");
    assert_fails_with(
        &["calc", "backprop"],
        &PROBLEM_CE.replace(r#""relu""#, r#""swish""#),
        "unknown activation",
    );
    assert_fails_with(
        &["calc", "backprop"],
        &PROBLEM_CE.replace(r#""cross_entropy""#, r#""hinge""#),
        "unknown loss",
    );
    assert_fails_with(
        &["calc", "backprop"],
        &PROBLEM_CE.replace("[0.5, 0.25]", "[0.5]"),
        "x is ragged: row 0 has 2 entries but row 1 has 1",
    );
    assert_fails_with(
        &["calc", "backprop"],
        &PROBLEM_CE.replace("[0.05, -0.1, 0.2]", "[0.05, -0.1]"),
        "shapes do not fit",
    );
    assert_fails_with(
        &["calc", "backprop"],
        &PROBLEM_CE.replace("[1, 0, 1]", "[1, 0, 7]"),
        "shapes do not fit",
    );
    assert_fails_with(
        &["calc", "backprop"],
        &PROBLEM_CE.replace("[1, 0, 1]", "[[1, 0]]"),
        "class indices",
    );
}

#[test]
fn calc_backprop_help_states_the_conventions() {
    let out = dlf()
        .args(["calc", "backprop", "--help"])
        .output()
        .expect("run dlf");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Z1 = X·W1 + b1",
        "mean over the batch",
        "MSELoss",
        "ReLU derivative at exactly 0",
    ] {
        assert!(help.contains(needle), "--help mentions {needle:?}");
    }
}

#[test]
fn check_passes_on_the_real_course_and_reports_json() {
    let out = dlf().args(["check", "--json"]).output().expect("run dlf");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(out.status.success(), "dlf check failed: {report:#}");
    assert_eq!(report["ok"], true);
    let lessons = report["lessons"].as_array().expect("lessons");
    let backprop = lessons
        .iter()
        .find(|l| l["id"] == "01-backprop")
        .expect("lesson 01 is in the report");
    assert_eq!(backprop["stage"], "foundation");
    assert!(!backprop["derives"].as_array().expect("derives").is_empty());
    assert!(backprop["widgets"].as_array().expect("widgets").len() >= 2);
    assert!(backprop["prompts"].as_array().expect("prompts").len() >= 6);
    assert!(backprop["estimates"].as_array().expect("estimates").len() >= 2);
    let claims = backprop["claims"].as_array().expect("claims");
    assert!(claims.len() >= 3);
    for claim in claims {
        assert_eq!(claim["passed"], true, "{claim}");
        assert!(claim["measured"].is_number(), "{claim}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn check_names_file_and_line_of_a_broken_lesson() {
    let dir = scratch("broken");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content"),
        &dir,
    );
    let lesson = dir.join("lessons/01-backprop.md");
    let text = std::fs::read_to_string(&lesson).expect("read lesson");
    // Break the first display formula and find the line it is on.
    let at = text.find("$$").expect("the lesson has display maths");
    let line = text[..at].lines().count() + 1;
    let broken = format!("{}$$\\frac{{1}}{{\n{}", &text[..at], &text[at + 2..]);
    std::fs::write(&lesson, broken).expect("write lesson");
    let out = dlf()
        .args(["check", "--content"])
        .arg(&dir)
        .output()
        .expect("run dlf");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("01-backprop.md:"), "names the file: {text}");
    assert!(
        text.contains(&format!(":{line}")) || text.contains(&format!(":{}", line + 1)),
        "names the line {line}: {text}"
    );
}

#[test]
fn build_writes_a_static_site() {
    let dir = scratch("build");
    let out = dlf().arg("build").arg(&dir).output().expect("run dlf");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in [
        "index.html",
        "lessons/01-backprop/index.html",
        "assets/style.css",
        "assets/dlf.js",
        "assets/fonts/latinmodern-math.woff2",
        "assets/dlf_widgets.wasm",
    ] {
        assert!(dir.join(file).is_file(), "{file} is exported");
    }
    let lesson =
        std::fs::read_to_string(dir.join("lessons/01-backprop/index.html")).expect("lesson");
    assert!(
        lesson.contains(r#"href="../../assets/style.css""#),
        "links are relative"
    );
}

#[test]
fn serve_prints_its_url_and_answers() {
    // Without --data the progress file goes to the user's data directory; point that at a scratch directory so
    // the test neither touches the real one nor depends on it.
    let data_home = scratch("serve-data-home");
    let mut child = dlf()
        .args(["serve", "--port", "0"])
        .env("XDG_DATA_HOME", &data_home)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dlf serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("prints a loopback URL: {line}"))
        .to_owned();
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");
    assert!(
        data_home.join("dlf/progress.sqlite3").is_file(),
        "the default progress file is created under XDG_DATA_HOME"
    );
}

#[test]
fn serve_on_a_taken_port_says_what_to_do() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let out = dlf()
        .args(["serve", "--port", &port])
        .env("XDG_DATA_HOME", scratch("serve-taken-data-home"))
        .output()
        .expect("run dlf");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port"));
}

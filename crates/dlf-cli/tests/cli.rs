//! The `dlf` binary as a user runs it: every command, and every user-facing error message.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn dlf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dlf"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlf-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
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
        "index.html.br",
        "index.html.gz",
        "lessons/01-backprop/index.html",
        "lessons/01-backprop/index.html.br",
    ] {
        assert!(dir.join(file).is_file(), "{file} is exported");
    }
    // Assets carry their content hash in their names (style.0123456789abcdef.css), each with .br and .gz.
    let assets: Vec<String> = std::fs::read_dir(dir.join("assets"))
        .expect("assets/")
        .chain(std::fs::read_dir(dir.join("assets/fonts")).expect("assets/fonts/"))
        .chain(std::fs::read_dir(dir.join("assets/widgets")).expect("assets/widgets/"))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for (stem, ext) in [
        ("style.", ".css"),
        ("dlf.", ".js"),
        ("latinmodern-math.", ".otf"),
        // Each lesson's widget module (assets/widgets/TOPIC.HASH.wasm); lesson 01's stands for all.
        ("backprop.", ".wasm"),
    ] {
        let hashed = |suffix: &str| {
            assets.iter().any(|name| {
                name.strip_prefix(stem)
                    .and_then(|rest| rest.strip_suffix(&format!("{ext}{suffix}")))
                    .is_some_and(|hash| {
                        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
                    })
            })
        };
        assert!(hashed(""), "{stem}HASH{ext} is exported: {assets:?}");
        assert!(hashed(".br"), "{stem}HASH{ext}.br is exported: {assets:?}");
    }
    let lesson =
        std::fs::read_to_string(dir.join("lessons/01-backprop/index.html")).expect("lesson");
    assert!(
        lesson.contains(r#"href="../../assets/style."#),
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

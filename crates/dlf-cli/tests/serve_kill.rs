//! A server killed with SIGKILL in the middle of a practice session loses no answer it acknowledged; a
//! server asked to stop (SIGTERM, Ctrl-C) stops even while slow clients hold connections open.
//!
//! The real binary serves on a free port with its own progress file; a client thread posts reviews over plain
//! HTTP/1.1 as fast as the server answers and keeps the id of every review acknowledged with 201. Mid-session the
//! server is killed (`Child::kill` sends SIGKILL on Unix: no shutdown code runs). The file is then reopened with
//! `dlf_store::Store`, and every acknowledged review must be in it, with the database intact.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Kills the server if the test fails before it does.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request on a fresh connection, sent as a page of the server itself would send it (Host and
/// Origin naming the server). Returns the status code and the body.
fn request(port: u16, method: &str, path: &str, body: &Value) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = body.to_string();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP reply: {reply:?}")))?;
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn scratch_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlf-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir.join("progress.sqlite3")
}

#[test]
fn sigkill_mid_session_loses_no_acknowledged_review() {
    let data = scratch_file("kill");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .args(["serve", "--port", "0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dlf serve");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);

    // The first line names the address, the second the progress file.
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").expect("read stdout");
    let port: u16 = first
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let second = lines.next().expect("a second line").expect("read stdout");
    assert!(
        second.contains(&data.display().to_string()),
        "the data file is printed: {second:?}"
    );

    let (status, body) = request(
        port,
        "PUT",
        "/api/lessons/01-backprop/done",
        &json!({"done": true}),
    )
    .expect("mark lesson 01 done");
    assert_eq!(status, 200, "{body}");

    // Derive drills need no seed, so the client can answer as fast as the server acknowledges.
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let deck = dlf_content::practice::Deck::from_site(&site);
    let cards: Vec<String> = deck
        .cards
        .iter()
        .filter(|c| c.lesson == "01-backprop" && c.kind.name() == "derive")
        .map(|c| c.id.clone())
        .collect();
    assert!(!cards.is_empty(), "lesson 01 has derive cards");

    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let acknowledged = acknowledged.clone();
        std::thread::spawn(move || {
            for i in 0.. {
                let card = &cards[i % cards.len()];
                let self_check = ["got", "partly", "missed"][i % 3];
                let review =
                    json!({"card": card, "self_check": self_check, "seconds": 10 + i % 50});
                match request(port, "POST", "/api/practice/reviews", &review) {
                    Ok((201, body)) => {
                        // A reply cut off by the kill is not an acknowledgement the client could rely on.
                        let Ok(reply) = serde_json::from_str::<Value>(&body) else {
                            break;
                        };
                        let id = reply["review_id"].as_str().expect("a review id").to_owned();
                        acknowledged.lock().expect("lock").push((card.clone(), id));
                    }
                    Ok((status, body)) => panic!("review refused with {status}: {body}"),
                    // The server is gone: the session ends here.
                    Err(_) => break,
                }
            }
        })
    };

    // Let the session run until a good number of answers are in, then kill the server without warning.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().expect("lock").len() < 40 {
        assert!(
            Instant::now() < deadline,
            "the server acknowledged too few reviews in time"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(server);
    writer
        .join()
        .expect("the client thread ends once the server is gone");

    let acknowledged = acknowledged.lock().expect("lock").clone();
    let store = dlf_store::Store::open(&data).expect("reopen the progress file");
    assert_eq!(
        store.integrity_check().expect("run the integrity check"),
        vec!["ok".to_owned()],
        "SQLite's integrity check finds the file sound"
    );
    let mut missing = Vec::new();
    for (card, id) in &acknowledged {
        let stored = store.reviews(card).expect("read reviews");
        if !stored.iter().any(|r| &r.id == id) {
            missing.push(id.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged reviews are missing after SIGKILL: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
    assert!(
        store
            .lessons_done()
            .expect("lessons done")
            .iter()
            .any(|d| d.lesson == "01-backprop"),
        "the acknowledged 'done' mark survived too"
    );
    eprintln!(
        "{} acknowledged reviews, all present after SIGKILL",
        acknowledged.len()
    );
    let _ = std::fs::remove_dir_all(data.parent().expect("scratch dir"));
}

/// Starts `dlf serve` on a free port with a scratch progress file; returns the server and its port.
fn start_serve(data: &std::path::Path) -> (Server, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .args(["serve", "--port", "0", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dlf serve");
    let stdout = child.stdout.take().expect("stdout");
    let first = BufReader::new(stdout)
        .lines()
        .next()
        .expect("a first line")
        .expect("read stdout");
    let port: u16 = first
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    (Server(child), port)
}

/// Issue 14: with a client that sent half a header (or only a blank line, or nothing) still connected,
/// SIGTERM and Ctrl-C (SIGINT) did not stop the server. Now each stops it, cleanly (exit status 0), while
/// such connections are open.
#[test]
fn sigterm_and_sigint_stop_the_server_while_slow_connections_are_open() {
    let data = scratch_file("stop");
    for signal in ["-TERM", "-INT"] {
        let (mut server, port) = start_serve(&data);
        let mut slow = Vec::new();
        for opening in [&b"GET / HTTP/1.1\r\nHo"[..], b"\r\n", b""] {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            stream.write_all(opening).expect("send");
            slow.push(stream);
        }
        // One request answered, so the server is known to be serving before the signal.
        let (status, _) = request(port, "GET", "/healthz", &json!(null)).expect("health check");
        assert_eq!(status, 200);
        let pid = server.0.id().to_string();
        let sent = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("run kill");
        assert!(sent.success());
        // Only a hang reaches this ceiling; the server's own grace period is a few seconds.
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = server.0.try_wait().expect("poll the server") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "dlf serve did not stop on {signal} with slow connections open"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{signal}: {status:?}");
        drop(slow);
    }
    let _ = std::fs::remove_dir_all(data.parent().expect("scratch dir"));
}

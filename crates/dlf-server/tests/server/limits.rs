//! The server on a real socket, against slow, idle and too many clients (issue 14): a half-sent header and an
//! idle keep-alive connection are closed, a client beyond the connection limit gets a clean 503, and a stop
//! request ends the server while slow connections are still open. The limits are set short here so the test
//! waits little; no assertion is about speed (every wait has a generous ceiling that only a hang reaches).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dlf_server::{AppState, Limits};

fn state() -> Arc<AppState> {
    static SITE: OnceLock<dlf_content::Site> = OnceLock::new();
    let site =
        SITE.get_or_init(|| dlf_content::Site::load_embedded().expect("the course validates"));
    Arc::new(AppState::new(site))
}

/// A server on a free port with `limits`, stopped by sending on the returned channel; the join handle
/// completes when `serve_with` has returned.
fn start(
    limits: Limits,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<std::io::Result<()>>,
) {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            port_tx
                .send(listener.local_addr()?.port())
                .expect("send the port");
            dlf_server::serve_with(listener, state(), limits, async {
                let _ = stop_rx.await;
            })
            .await
        })
    });
    let port = port_rx.recv().expect("the server started");
    (port, stop_tx, handle)
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    // Only a hang reaches this.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("set a read timeout");
    stream
}

/// Reads until the server closes the connection; `Err` if it is still open after the read timeout.
fn read_to_close(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(String::from_utf8_lossy(&all).into_owned()),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(String::from_utf8_lossy(&all).into_owned())
            }
            Err(e) => return Err(e),
        }
    }
}

/// One complete keep-alive GET; returns the response head and body as far as the first response goes.
fn get_keep_alive(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("send a request");
    let mut buf = [0u8; 4096];
    let mut all = Vec::new();
    while !String::from_utf8_lossy(&all).ends_with("ok") {
        let n = stream.read(&mut buf).expect("read a response");
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&all)
        );
        all.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&all).into_owned()
}

fn short_limits() -> Limits {
    Limits {
        header_read: Duration::from_millis(500),
        request: Duration::from_secs(5),
        connection_lifetime: Duration::from_secs(60),
        max_connections: 8,
        shutdown_grace: Duration::from_secs(2),
    }
}

#[test]
fn slow_and_idle_connections_are_closed() {
    let (port, stop, server) = start(short_limits());
    // Half a header, then silence.
    let mut half = connect(port);
    half.write_all(b"GET / HTTP/1.1\r\nHo")
        .expect("send half a header");
    // Only a blank line.
    let mut blank = connect(port);
    blank.write_all(b"\r\n").expect("send a blank line");
    // Nothing at all.
    let mut silent = connect(port);
    // A keep-alive connection that made one request and then went idle.
    let mut idle = connect(port);
    assert!(get_keep_alive(&mut idle).starts_with("HTTP/1.1 200"));
    for (name, stream) in [
        ("half a header", &mut half),
        ("a blank line", &mut blank),
        ("nothing", &mut silent),
        ("idle keep-alive", &mut idle),
    ] {
        let rest = read_to_close(stream)
            .unwrap_or_else(|e| panic!("{name}: the server kept the connection open ({e})"));
        assert!(!rest.contains("200 OK"), "{name}: {rest}");
    }
    // The server still answers.
    let mut fresh = connect(port);
    assert!(get_keep_alive(&mut fresh).starts_with("HTTP/1.1 200"));
    stop.send(()).expect("stop the server");
    server
        .join()
        .expect("the server thread")
        .expect("serve returns Ok");
}

#[test]
fn beyond_the_connection_limit_a_client_gets_503_and_the_server_recovers() {
    let limits = Limits {
        header_read: Duration::from_secs(60),
        max_connections: 4,
        ..short_limits()
    };
    let (port, stop, server) = start(limits);
    // Four keep-alive connections, each proven accepted by an answer, hold every slot.
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut s = connect(port);
            assert!(get_keep_alive(&mut s).starts_with("HTTP/1.1 200"));
            s
        })
        .collect();
    let mut extra = connect(port);
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let answer = read_to_close(&mut extra).expect("the refusal closes the connection");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("too many connections"), "{answer}");
    // Once a slot is free, a new client is served again.
    drop(held.pop());
    let mut retried = None;
    // Up to 60 s of retries: only a server that never frees the slot runs out of them.
    for _ in 0..1200 {
        let mut again = connect(port);
        let _ = again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let answer = read_to_close(&mut again).expect("an answer");
        if answer.starts_with("HTTP/1.1 200") {
            retried = Some(answer);
            break;
        }
        // The freed slot is released when the server notices the close; try again shortly.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        retried.is_some(),
        "a slot freed by a closed connection is reused"
    );
    stop.send(()).expect("stop the server");
    server
        .join()
        .expect("the server thread")
        .expect("serve returns Ok");
}

#[test]
fn stopping_ends_the_server_while_slow_connections_are_open() {
    let limits = Limits {
        header_read: Duration::from_secs(600),
        request: Duration::from_secs(600),
        ..short_limits()
    };
    let (port, stop, server) = start(limits);
    let mut idle = connect(port);
    assert!(get_keep_alive(&mut idle).starts_with("HTTP/1.1 200"));
    let mut half = connect(port);
    half.write_all(b"GET / HTTP/1.1\r\nHo")
        .expect("send half a header");
    // A request in flight: its body is promised but never finished.
    let mut upload = connect(port);
    upload
        .write_all(
            b"POST /api/practice/reviews HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"card\":",
        )
        .expect("send part of a request");
    std::thread::sleep(Duration::from_millis(200));
    stop.send(()).expect("stop the server");
    // `serve_with` returns (the join would hang otherwise, and the test harness would report it).
    server
        .join()
        .expect("the server thread")
        .expect("serve returns Ok");
    for (name, stream) in [
        ("idle", &mut idle),
        ("half", &mut half),
        ("upload", &mut upload),
    ] {
        read_to_close(stream).unwrap_or_else(|e| panic!("{name}: still open after stop ({e})"));
    }
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the listener is closed"
    );
}

//! The accept loop: how `dlf serve` survives slow, idle and too many clients, and how it stops.
//!
//! `axum::serve` has no header timeout, no connection limit, and its graceful shutdown waits for every open
//! connection, so one client that sends half a header kept the server from stopping (issue 14). Here each
//! connection is served by hyper's HTTP/1 connection directly:
//!
//! - a client must send a request's whole head within [`Limits::header_read`] (hyper's
//!   `header_read_timeout`), else the connection is closed; this also bounds how long an idle keep-alive
//!   connection waits for its next request;
//! - a request (its body read, the handler, the response head) must finish within [`Limits::request`], else
//!   it is answered 408;
//! - a connection serves for at most [`Limits::connection_lifetime`]; after that it finishes the request in
//!   hand and closes (the browser opens another);
//! - at most [`Limits::max_connections`] connections are served at once; beyond that a client is answered
//!   503 with `Retry-After` and the connection is closed, without reading its request;
//! - on shutdown the listener closes, idle connections close at once, requests in flight get
//!   [`Limits::shutdown_grace`] to finish, and whatever is left is then dropped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::{app, AppState};

/// The server's limits on clients. [`Limits::default`] is what `dlf serve` uses.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send a request's head (and how long an idle keep-alive connection
    /// waits for the next one).
    pub header_read: Duration,
    /// How long one request may take, from its head to the response head, body upload included.
    pub request: Duration,
    /// How long one connection is kept, over all its requests.
    pub connection_lifetime: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
    /// How long requests in flight may run on after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            request: Duration::from_secs(30),
            connection_lifetime: Duration::from_secs(120),
            // With the 64 refusals that may be in progress, 192 sockets: under even a 256-descriptor limit
            // (the progress file, its WAL and the runtime need a few), and far above what one learner's
            // browser opens (six per host).
            max_connections: 128,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// The body of the answer to a client beyond [`Limits::max_connections`].
const BUSY: &str =
    "{\"error\":\"the server is serving too many connections; try again in a moment\"}";

/// Serves `state` on `listener` within `limits` until `shutdown` completes, then stops as described in the
/// module documentation. Returns once every connection is closed (at most `shutdown_grace` after the signal).
pub async fn serve_with(
    listener: TcpListener,
    state: Arc<AppState>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let request_limit = limits.request;
    let router: Router = app(state).layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match tokio::time::timeout(request_limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => request_timed_out(request_limit),
            }
        },
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Refusals are cheap but not free: past this many at once, a client beyond the limit is simply closed.
    let refusals = Arc::new(Semaphore::new(64));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks so the set does not grow with every connection ever served.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of file descriptors (EMFILE) or a connection reset before it was accepted: wait a
                // moment rather than spin, then go on accepting.
                eprintln!("dlf: could not accept a connection: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let router = router.clone();
                let stopping = stopping.clone();
                connections.spawn(async move {
                    serve_connection(stream, router, limits, stopping).await;
                    drop(slot);
                });
            }
            Err(_) => {
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    // Idle connections close now; requests in flight finish, within the grace period.
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    tokio::pin!(connection);
    let lifetime = tokio::time::sleep(limits.connection_lifetime);
    tokio::pin!(lifetime);
    let finish = tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopping.wait_for(|stop| *stop) => limits.shutdown_grace,
        () = &mut lifetime => limits.request,
    };
    // Close when idle, after the response in hand otherwise; a client that never reads its response does
    // not keep the connection past `finish`.
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(finish, connection).await;
}

/// Answers 503 to a client beyond the connection limit and closes. The request is not read; what it sent is
/// drained briefly after the answer so that closing does not reset the connection before the client reads.
async fn refuse(mut stream: TcpStream) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n{BUSY}",
        BUSY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    })
    .await;
}

fn request_timed_out(limit: Duration) -> Response {
    let body = format!(
        "{{\"error\":\"the request took longer than {} s and was abandoned\"}}",
        limit.as_secs()
    );
    (
        StatusCode::REQUEST_TIMEOUT,
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CONNECTION, "close"),
        ],
        body,
    )
        .into_response()
}

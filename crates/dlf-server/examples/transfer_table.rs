//! Bytes moved per page, first and repeat visit, counted by headless Chromium itself.
//!
//! `cargo run --release -p dlf-server --example transfer_table` serves the course as `dlf serve` does (with a
//! scratch progress store, so the pages' progress requests are counted too), and for every page opens a fresh
//! Chromium profile (empty cache), loads the page, waits for the widget module, then visits it again. Each visit
//! sums the Resource Timing API's `transferSize` (headers plus the encoded body as it crossed the wire; 0 for a
//! file taken from the cache) over the document and every resource. Budgets (issue 13): a first visit at most
//! 250 KB, a repeat visit at most 10 KB. It measures and prints; it asserts nothing (the test
//! `budget::every_page_moves_at_most_250_kb_on_a_first_visit_and_10_kb_on_a_repeat_visit` asserts the budgets on
//! the served bytes). A lesson's page loads its own lesson's widget module; the column "of which widget module"
//! shows it.
//! `-- --export DIR` measures the static export written by `dlf build DIR` instead, served by a small file
//! server that sends the `.br` siblings as a plain host with pre-compressed files would.

use std::net::TcpListener as StdListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

const FIRST_BUDGET: f64 = 250.0 * 1024.0;
const REPEAT_BUDGET: f64 = 10.0 * 1024.0;

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Every transfer of the current page: the document and each resource, as (name, bytes on the wire).
const TRANSFERS: &str = r#"
const out = [];
for (const e of performance.getEntriesByType("navigation")) out.push([e.name, e.transferSize]);
for (const e of performance.getEntriesByType("resource")) out.push([e.name, e.transferSize]);
return out;
"#;

async fn session(port: u16, profile: &std::path::Path) -> Client {
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({"binary": "/usr/bin/chromium", "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--no-first-run", format!("--user-data-dir={}", profile.display())]}),
    );
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        if let Ok(c) = ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no Chromium session (apt-get install chromium chromium-driver)")
}

/// Opens `url`, waits until the page has settled (widget module loaded or no widgets), returns its transfers.
async fn visit(client: &Client, url: &str) -> Vec<(String, f64)> {
    client.goto(url).await.expect("open the page");
    for _ in 0..100 {
        let settled = client
            .execute(
                "return document.readyState === 'complete' && (document.querySelector('figure.widget') === null \
                 || document.documentElement.dataset.widgetRenderer !== undefined);",
                vec![],
            )
            .await
            .expect("script");
        if settled == json!(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let late requests (fonts, the progress API) finish.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let list = client.execute(TRANSFERS, vec![]).await.expect("script");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|pair| {
            let name = pair[0].as_str().unwrap_or("").to_owned();
            let size = pair[1].as_f64().unwrap_or(0.0);
            (name, size)
        })
        .collect()
}

fn kb(bytes: f64) -> String {
    format!("{:.1} KB", bytes / 1024.0)
}

/// A file server for a static export that sends `FILE.br` with `Content-Encoding: br` when it exists, as nginx's
/// `brotli_static on` does, the cache headers the README's nginx example sets, and an `ETag` with `304` answers
/// as nginx gives every static file.
fn export_app(dir: std::path::PathBuf) -> axum::Router {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    axum::Router::new().fallback(
        move |uri: axum::http::Uri, request: axum::http::HeaderMap| {
            let dir = dir.clone();
            async move {
                let relative = uri.path().trim_start_matches('/');
                if relative.split('/').any(|p| p == "..") {
                    return StatusCode::BAD_REQUEST.into_response();
                }
                let mut path = dir.join(relative);
                if relative.is_empty() || relative.ends_with('/') {
                    path = path.join("index.html");
                }
                let mime = match path.extension().and_then(|e| e.to_str()) {
                    Some("html") => "text/html; charset=utf-8",
                    Some("css") => "text/css",
                    Some("js") => "text/javascript",
                    Some("wasm") => "application/wasm",
                    Some("otf") => "font/otf",
                    Some("svg") => "image/svg+xml",
                    _ => "application/octet-stream",
                };
                let cache = if relative.starts_with("assets/") {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                };
                let mut br = path.clone().into_os_string();
                br.push(".br");
                let (bytes, encoded) = match std::fs::read(&br) {
                    Ok(b) => (b, true),
                    Err(_) => match std::fs::read(&path) {
                        Ok(b) => (b, false),
                        Err(_) => return StatusCode::NOT_FOUND.into_response(),
                    },
                };
                let etag = format!("\"{}\"", dlf_server::bundle::content_hash(&bytes));
                let fresh = request
                    .get(header::IF_NONE_MATCH)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains(&etag));
                let mut response = if fresh {
                    (
                        StatusCode::NOT_MODIFIED,
                        [
                            (header::CACHE_CONTROL, cache),
                            (header::ETAG, etag.as_str()),
                        ],
                    )
                        .into_response()
                } else {
                    (
                        [
                            (header::CONTENT_TYPE, mime),
                            (header::CACHE_CONTROL, cache),
                            (header::ETAG, etag.as_str()),
                        ],
                        bytes,
                    )
                        .into_response()
                };
                if encoded && !fresh {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, "br".parse().expect("header"));
                }
                response
            }
        },
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let export = args
        .iter()
        .position(|a| a == "--export")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let scratch = std::env::temp_dir().join(format!("dlf-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let app = match &export {
        Some(dir) => export_app(dir.clone()),
        None => {
            let store = dlf_store::Store::open(&scratch.join("progress.sqlite3")).expect("a store");
            dlf_server::app(Arc::new(dlf_server::AppState::with_store(
                &site,
                Arc::new(store),
            )))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let port = free_port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver)");

    let mut urls = vec!["/".to_owned()];
    urls.extend(
        site.lessons()
            .iter()
            .map(|l| format!("/lessons/{}/", l.id())),
    );
    if export.is_none() {
        urls.push("/practice/".to_owned());
        urls.push("/progress/".to_owned());
    }
    let verbose = args.iter().any(|a| a == "--verbose");
    println!(
        "bytes on the wire per page, counted by Chromium ({}); budgets: first visit 250 KB, repeat visit 10 KB",
        if export.is_some() {
            "static export, .br siblings"
        } else {
            "dlf serve"
        }
    );
    println!("| page | requests | first visit | of which widget module | repeat visit |");
    println!("| --- | --- | --- | --- | --- |");
    for (n, url) in urls.iter().enumerate() {
        let profile = scratch.join(format!("profile-{n}"));
        let client = session(port, &profile).await;
        let full = format!("http://{addr}{url}");
        let first = visit(&client, &full).await;
        client.goto("about:blank").await.expect("leave");
        let repeat = visit(&client, &full).await;
        let total = |t: &[(String, f64)]| t.iter().map(|(_, s)| s).sum::<f64>();
        let (f, r) = (total(&first), total(&repeat));
        let flag = |v: f64, budget: f64| if v <= budget { "" } else { " (over budget)" };
        // Each lesson's page loads its own lesson's module (none without widgets).
        let module: f64 = first
            .iter()
            .filter(|(name, _)| name.ends_with(".wasm"))
            .map(|(_, s)| s)
            .sum();
        println!(
            "| {url} | {} | {}{} | {} | {}{} |",
            first.len(),
            kb(f),
            flag(f, FIRST_BUDGET),
            if module > 0.0 {
                kb(module)
            } else {
                "none".to_owned()
            },
            kb(r),
            flag(r, REPEAT_BUDGET)
        );
        if verbose {
            for (name, size) in &first {
                println!("|   first: {name} | | {} | |", kb(*size));
            }
            for (name, size) in &repeat {
                println!("|   repeat: {name} | | | {} |", kb(*size));
            }
        }
        let _ = client.close().await;
    }
    let _ = driver.kill();
    let _ = driver.wait();
    let _ = std::fs::remove_dir_all(&scratch);
}

//! In-browser render times of every widget, through the WebAssembly module, in headless Chromium.
//!
//! `cargo run --release -p dlf-server --example browser_bench` starts the server on a free loopback port,
//! drives Chromium through chromedriver, and for each widget times `dlf_render` (the exact call a slider drag
//! makes, via the page's `window.dlfRender`) at the widget's defaults and at every combination of its select
//! options with every size parameter at its maximum — the expensive corner (log-scale rates stay at their
//! defaults, since a diverging run stops early and would hide the expensive path). It prints the median and the
//! maximum of 15 renders per case and the worst case per widget against the 16 ms frame budget. It measures; it
//! asserts nothing (speed targets are not test assertions).

use std::net::TcpListener as StdListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dlf_widgets::ParamKind;
use fantoccini::wd::Capabilities;
use fantoccini::ClientBuilder;
use serde_json::json;

const RUNS: usize = 15;

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Every query worth timing for one widget: the defaults, then all ranges at their maximum with every
/// combination of select options.
fn cases(widget: &dyn dlf_widgets::Widget) -> Vec<(String, String)> {
    let spec = widget.spec();
    let mut out = vec![("default".to_owned(), format!("widget={}", spec.id))];
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for param in spec.params {
        let choices: Vec<String> = match &param.kind {
            // Sizes at their maximum cost the most. A learning rate or a step size changes no cost, but at its
            // maximum training may diverge and stop early, which would hide the expensive path: keep those at
            // their defaults.
            ParamKind::Range { default, .. } if param.name.starts_with("log10_") => {
                vec![format!("{default}")]
            }
            ParamKind::Range { max, .. } => vec![format!("{max}")],
            ParamKind::Select { options, .. } => {
                options.iter().map(|(v, _)| (*v).to_owned()).collect()
            }
            ParamKind::Toggle { .. } => vec!["true".to_owned(), "false".to_owned()],
        };
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                choices.iter().map(move |choice| {
                    let mut next = combo.clone();
                    next.push((param.name.to_owned(), choice.clone()));
                    next
                })
            })
            .collect();
    }
    for combo in combos {
        let label = combo
            .iter()
            .filter(|(name, _)| {
                spec.params
                    .iter()
                    .any(|p| p.name == name && !matches!(p.kind, ParamKind::Range { .. }))
            })
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let query = std::iter::once(format!("widget={}", spec.id))
            .chain(combo.iter().map(|(n, v)| format!("{n}={v}")))
            .collect::<Vec<_>>()
            .join("&");
        out.push((format!("max ranges [{label}]"), query));
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let state = Arc::new(dlf_server::AppState::new(&site));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, dlf_server::app(state)).await });

    let port = free_port();
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver)");
    let profile = std::env::temp_dir().join(format!("dlf-bench-{}", std::process::id()));
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({"binary": "/usr/bin/chromium", "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--no-first-run", format!("--user-data-dir={}", profile.display())]}),
    );
    let mut client = None;
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let client = client.expect("a Chromium session");
    client
        .goto(&format!("http://{addr}/lessons/01-backprop/"))
        .await
        .expect("open lesson 01");
    for _ in 0..100 {
        let ready = client
            .execute("return typeof window.dlfRender === 'function' && window.dlfRender('widget=backprop-walk') !== null;", vec![])
            .await
            .expect("script");
        if ready == json!(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    println!("in-browser render time through wasm, {RUNS} runs per case (median / max, ms); budget 16 ms");
    for widget in dlf_widgets::registry() {
        let mut worst = (0.0f64, String::new());
        for (label, query) in cases(*widget) {
            let times = client
                .execute(
                    "const q = arguments[0], n = arguments[1], t = [];
                     for (let i = 0; i < n; i++) { const s = performance.now(); const r = window.dlfRender(q);
                       if (r.error) throw new Error(r.error); t.push(performance.now() - s); }
                     t.sort((a, b) => a - b); return [t[Math.floor(n / 2)], t[n - 1]];",
                    vec![json!(query), json!(RUNS)],
                )
                .await
                .expect("render in the page");
            let median = times[0].as_f64().unwrap_or(f64::NAN);
            let max = times[1].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:>14} {:<44} {median:>7.2} / {max:>7.2}",
                widget.spec().id,
                label
            );
            if median > worst.0 {
                worst = (median, label);
            }
        }
        let verdict = if worst.0 < 16.0 { "within" } else { "OVER" };
        println!(
            "{:>14} worst median {:.2} ms ({}) — {verdict} the 16 ms frame\n",
            widget.spec().id,
            worst.0,
            worst.1
        );
    }
    let _ = client.close().await;
    let _ = driver.kill();
    let _ = driver.wait();
}

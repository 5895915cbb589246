//! In-browser render times of every widget, through the WebAssembly module, in headless Chromium.
//!
//! `cargo run --release -p dlf-server --example browser_bench` starts the server on a free loopback port,
//! drives Chromium through chromedriver, and for each widget times `dlf_step` (the exact call a slider drag
//! makes, via the page's `window.dlfStep`) at the widget's defaults and at every combination of its select
//! options with every size parameter at its maximum — the expensive corner (log-scale rates stay at their
//! defaults, since a diverging run stops early and would hide the expensive path). A widget that renders in one
//! call is timed per render; a widget whose work spans frames (`dlf_widgets::Stepped`) is timed per slice, every
//! slice of the computation, since each is one frame's work. It prints the median, 95th percentile and maximum
//! over 40 runs per case (with fewer, the 95th percentile of a one-call widget is its maximum, so one garbage
//! collection of the page decides it) and, per widget, the worst 95th percentile against the 4 ms redraw budget. It
//! measures; it asserts nothing (speed targets are not test assertions). Each widget is timed in its own lesson's
//! page, through that lesson's module; `-- ID …` times only the widgets named.

use std::net::TcpListener as StdListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dlf_widgets::ParamKind;
use fantoccini::wd::Capabilities;
use fantoccini::ClientBuilder;
use serde_json::json;

const RUNS: usize = 40;
/// The redraw budget of a widget, in milliseconds (a quarter of a 60 Hz frame).
const BUDGET_MS: f64 = 4.0;

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
            // The longest text costs the most; it is percent-encoded as it goes into the query.
            ParamKind::Text { default, max_len } => {
                let mut encoded = String::new();
                dlf_widgets::query::push_encoded(
                    &mut encoded,
                    &dlf_widgets::longest_text(default, *max_len),
                );
                vec![encoded]
            }
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
                spec.params.iter().any(|p| {
                    p.name == name
                        && matches!(p.kind, ParamKind::Select { .. } | ParamKind::Toggle { .. })
                })
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
    // Each lesson's page loads the module of its own widgets: a widget is timed in its lesson's page.
    // `-- ID …` times only the widgets named.
    let only: Vec<String> = std::env::args().skip(1).collect();
    let mut open_topic = None;
    let open_lesson = |topic: &'static str| {
        let lesson = site
            .lessons()
            .iter()
            .find(|l| l.meta.topic == topic)
            .map(|l| l.meta.id.clone())
            .unwrap_or_else(|| panic!("no written lesson has the topic `{topic}`"));
        let first = dlf_widgets::registry::lesson_widgets(topic)[0].spec().id;
        let client = client.clone();
        async move {
            client
                .goto(&format!("http://{addr}/lessons/{lesson}/"))
                .await
                .expect("open the lesson");
            for _ in 0..100 {
                let ready = client
                    .execute(
                        "return typeof window.dlfStep === 'function' && window.dlfStep(0, arguments[0]) !== null \
                         && document.documentElement.dataset.widgetsWarm === 'true';",
                        vec![json!(format!("widget={first}"))],
                    )
                    .await
                    .expect("script");
                if ready == json!(true) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    println!(
        "in-browser redraw time through wasm, {RUNS} runs per case, every slice of a computation that spans \
         frames (median / p95 / max ms, slices per run); budget {BUDGET_MS} ms"
    );
    let mut over = Vec::new();
    for widget in dlf_widgets::registry() {
        if !only.is_empty() && !only.iter().any(|id| id == widget.spec().id) {
            continue;
        }
        let topic = dlf_widgets::topic_of(widget.spec().id);
        if open_topic != topic {
            open_topic = topic;
            open_lesson(topic.expect("a registered widget has a lesson")).await;
        }
        let mut worst = (0.0f64, String::new());
        for (label, query) in cases(*widget) {
            let times = client
                .execute(
                    "const q = arguments[0], n = arguments[1], t = []; let slices = 0;
                     for (let i = 0; i < n; i++) {
                       for (;;) { const s = performance.now(); const r = window.dlfStep(0, q);
                         t.push(performance.now() - s); if (r.error) throw new Error(r.error);
                         slices++; if (r.done !== false) break; } }
                     t.sort((a, b) => a - b);
                     return [t[Math.floor(t.length / 2)], t[Math.min(t.length - 1, Math.floor(t.length * 0.95))],
                             t[t.length - 1], slices / n];",
                    vec![json!(query), json!(RUNS)],
                )
                .await
                .expect("render in the page");
            let get = |i: usize| times[i].as_f64().unwrap_or(f64::NAN);
            let (median, p95, max, slices) = (get(0), get(1), get(2), get(3));
            println!(
                "{:>18} {:<44} {median:>7.2} / {p95:>7.2} / {max:>7.2}  ×{slices:.0}",
                widget.spec().id,
                label
            );
            if p95 > worst.0 {
                worst = (p95, label);
            }
        }
        let within = worst.0 <= BUDGET_MS;
        if !within {
            over.push(widget.spec().id);
        }
        println!(
            "{:>18} worst p95 {:.2} ms ({}) — {} the {BUDGET_MS} ms budget\n",
            widget.spec().id,
            worst.0,
            worst.1,
            if within { "within" } else { "OVER" }
        );
    }
    if over.is_empty() {
        println!("every widget within {BUDGET_MS} ms at its worst case");
    } else {
        println!("over the {BUDGET_MS} ms budget: {}", over.join(", "));
    }
    let _ = client.close().await;
    let _ = driver.kill();
    let _ = driver.wait();
}

//! Every widget of the registry, three ways and in every written lesson.
//!
//! 1. A widget is a pure function of its parameters: for every benchmark case of every widget (defaults and
//!    the costliest settings, `dlf_widgets::bench_cases`) the JSON rendered natively, by the WebAssembly
//!    module inside headless Chromium, and by the server's fallback route is the same, byte for byte.
//! 2. A learner can operate every widget of every written lesson from the keyboard: each one redraws through
//!    WebAssembly, shows no error, and the page logs nothing to the console; a widget with a text parameter
//!    is also typed into.

use std::sync::Arc;

use fantoccini::key::Key;
use fantoccini::Locator;
use http::StatusCode;
use serde_json::json;

use crate::api::get;
use crate::browser::{
    connect, finish_without_console_errors, js, open_with_wasm, serve_app, start_driver, wait_for,
};

fn course() -> (dlf_content::Site, axum::Router) {
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let app = dlf_server::app(Arc::new(dlf_server::AppState::new(&site)));
    (site, app)
}

/// The body of the server's fallback route for `query` (`widget=ID&...`).
async fn server_render(query: &str) -> String {
    let q = dlf_widgets::query::parse_query(query).expect("a bench query parses");
    let params: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with("widget="))
        .collect();
    let uri = format!("/api/widgets/{}?{}", q.widget, params.join("&"));
    let (status, _, body) = get(&uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    String::from_utf8(body).expect("UTF-8 JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_widget_renders_the_same_bytes_natively_in_wasm_and_on_the_server() {
    let (_, app) = course();
    let addr = serve_app(app).await;
    let driver = start_driver();
    let client = connect(&driver).await;
    open_with_wasm(&client, &format!("http://{addr}/lessons/01-backprop/")).await;

    let cases = dlf_widgets::bench_cases();
    assert!(
        cases.len() >= 2 * dlf_widgets::registry().len(),
        "every widget has a costly case besides its defaults"
    );
    for (name, query) in &cases {
        let native = dlf_widgets::render_query(query)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .to_json();
        let quoted = serde_json::to_string(query).expect("quote the query");
        let wasm = js(&client, &format!("return window.dlfRenderText({quoted});")).await;
        let wasm = wasm
            .as_str()
            .unwrap_or_else(|| panic!("{name}: the module returned {wasm}"));
        let server = server_render(query).await;
        assert!(
            native == wasm,
            "{name}: the wasm module's figure differs from the native one ({} vs {} bytes; first difference at byte {})",
            wasm.len(),
            native.len(),
            native.bytes().zip(wasm.bytes()).position(|(a, b)| a != b).unwrap_or(native.len().min(wasm.len()))
        );
        assert!(
            native == server,
            "{name}: the server route's figure differs from the native one"
        );
    }
    finish_without_console_errors(client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_widget_of_every_lesson_responds_to_the_keyboard_through_wasm() {
    let (site, app) = course();
    let addr = serve_app(app).await;
    let driver = start_driver();
    let client = connect(&driver).await;
    let mut operated = 0;
    for lesson in site.lessons() {
        open_with_wasm(
            &client,
            &format!("http://{addr}/lessons/{}/", lesson.meta.id),
        )
        .await;
        for widget in &lesson.body.widgets {
            let id = format!("w-{}", widget.instance);
            wait_for(
                &client,
                &format!("document.querySelector('#{id}[data-ready]')"),
                &format!("{id} of {} to be wired", lesson.meta.id),
            )
            .await;
            let before = js(
                &client,
                &format!(
                    "const f = document.getElementById('{id}');
                     f.scrollIntoView({{block: 'center'}});
                     return [f.querySelector('.widget-figure').innerHTML, Number(f.dataset.renderCount || 0)];"
                ),
            )
            .await;
            // The first control of the widget, moved the way a keyboard user moves it: a slider by the arrow
            // keys (left at its maximum), a drop-down by the arrow keys, a checkbox by the space bar.
            let control = client
                .find(Locator::Css(&format!("#{id} input, #{id} select")))
                .await
                .unwrap_or_else(|_| panic!("{id} of {} has a control", lesson.meta.id));
            let kind = control
                .attr("type")
                .await
                .expect("attribute")
                .unwrap_or_default();
            let tag = control.tag_name().await.expect("tag");
            let keys = if tag == "select" {
                let at_end = js(&client, &format!("const s = document.querySelector('#{id} select'); return s.selectedIndex === s.options.length - 1;")).await;
                if at_end == json!(true) {
                    Key::Up
                } else {
                    Key::Down
                }
            } else if kind == "checkbox" {
                Key::Space
            } else {
                let at_max = js(&client, &format!("const r = document.querySelector('#{id} input'); return Number(r.value) >= Number(r.max);")).await;
                if at_max == json!(true) {
                    Key::Left
                } else {
                    Key::Right
                }
            };
            control
                .send_keys(&char::from(keys).to_string())
                .await
                .expect("press a key on the control");
            let count = before[1].as_u64().unwrap_or(0);
            wait_for(
                &client,
                &format!(
                    "Number(document.getElementById('{id}').dataset.renderCount || 0) > {count}"
                ),
                &format!("{id} of {} to redraw after a key press", lesson.meta.id),
            )
            .await;
            let after = js(
                &client,
                &format!(
                    "const f = document.getElementById('{id}');
                     const err = f.querySelector('.widget-error');
                     return [f.querySelector('.widget-figure').innerHTML, err ? err.textContent : ''];"
                ),
            )
            .await;
            assert_ne!(
                before[0], after[0],
                "{id} of {}: the figure changes",
                lesson.meta.id
            );
            assert_eq!(
                after[1],
                json!(""),
                "{id} of {}: no error is shown",
                lesson.meta.id
            );
            // A text parameter is typed into as well: a word appended to its text area redraws the figure.
            if let Ok(area) = client.find(Locator::Css(&format!("#{id} textarea"))).await {
                let count = js(
                    &client,
                    &format!(
                        "return Number(document.getElementById('{id}').dataset.renderCount || 0);"
                    ),
                )
                .await
                .as_u64()
                .unwrap_or(0);
                area.send_keys(" lower")
                    .await
                    .expect("type into the text area");
                wait_for(
                    &client,
                    &format!(
                        "Number(document.getElementById('{id}').dataset.renderCount || 0) > {count} && document.getElementById('{id}').dataset.progress === 'done'"
                    ),
                    &format!("{id} of {} to redraw after typing", lesson.meta.id),
                )
                .await;
                let error = js(
                    &client,
                    &format!("const err = document.querySelector('#{id} .widget-error'); return err && !err.hidden ? err.textContent : '';"),
                )
                .await;
                assert_eq!(
                    error,
                    json!(""),
                    "{id} of {}: typing shows no error",
                    lesson.meta.id
                );
            }
            operated += 1;
        }
    }
    assert_eq!(
        operated,
        site.lessons()
            .iter()
            .map(|l| l.body.widgets.len())
            .sum::<usize>()
    );
    finish_without_console_errors(client).await;
}

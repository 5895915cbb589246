//! The page-weight budgets of issue 13, asserted on the bytes the server sends (sizes, not timings): a first
//! visit to any page moves at most 250 KB, a repeat visit at most 10 KB.
//!
//! A first visit is counted as a browser with an empty cache makes it: the page and every file it loads
//! (`href` and `src` attributes: the stylesheet, the preloaded maths font, the scripts, the favicon; `data-wasm`:
//! its lesson's widget module; `url(…)` in the stylesheet), each as brotli over the wire, with the response's
//! status line and headers. The search index and the search library are not counted: the page fetches them only
//! when the search box is first focused. A repeat visit revalidates the page (`If-None-Match`, answered 304) and
//! takes every asset from the cache (they are `immutable`). `cargo run --release -p dlf-server --example
//! transfer_table` measures the same in Chromium.

use std::collections::BTreeSet;

use axum::http::StatusCode;

use crate::api::get_with;

const FIRST_VISIT_BUDGET: usize = 250 * 1024;
const REPEAT_VISIT_BUDGET: usize = 10 * 1024;
/// What a browser sends as `Accept-Encoding` (Chromium's value).
const ACCEPT: &str = "gzip, deflate, br, zstd";

/// Bytes on the wire of one response: the status line, every header line, the blank line and the body.
fn wire_size(headers: &axum::http::HeaderMap, body: &[u8]) -> usize {
    let head: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    "HTTP/1.1 200 OK\r\n".len() + head + 2 + body.len()
}

/// The values of every `NAME="…"` attribute in `html`.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    html.split(&format!(" {name}=\""))
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .collect()
}

/// The `assets/…` files a page loads on its own (not those fetched on a user's action), as paths below `/assets/`.
fn loaded_assets(html: &str) -> BTreeSet<String> {
    ["href", "src", "data-wasm"]
        .iter()
        .flat_map(|attribute| attribute_values(html, attribute))
        .filter_map(|value| value.split_once("assets/").map(|(_, path)| path.to_owned()))
        .collect()
}

#[tokio::test]
async fn every_page_moves_at_most_250_kb_on_a_first_visit_and_10_kb_on_a_repeat_visit() {
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let mut pages = vec![
        "/".to_owned(),
        "/practice/".to_owned(),
        "/progress/".to_owned(),
    ];
    pages.extend(
        site.lessons()
            .iter()
            .map(|l| format!("/lessons/{}/", l.id())),
    );
    let mut table = Vec::new();
    for page in &pages {
        let (status, headers, body) = get_with(page, &[("accept-encoding", ACCEPT)]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let mut first = wire_size(&headers, &body);
        let (_, _, html) = get_with(page, &[]).await;
        let html = String::from_utf8(html).expect("UTF-8 HTML");
        let mut files = loaded_assets(&html);
        // The stylesheet's own references (the maths font's @font-face).
        for css in files.clone().iter().filter(|f| f.ends_with(".css")) {
            let (_, _, text) = get_with(&format!("/assets/{css}"), &[]).await;
            let text = String::from_utf8(text).expect("UTF-8 CSS");
            for reference in text.split("url(").skip(1) {
                let reference = reference
                    .split(')')
                    .next()
                    .unwrap_or("")
                    .trim_matches(['"', '\'']);
                files.insert(reference.to_owned());
            }
        }
        let lesson = page.starts_with("/lessons/");
        let shows_widgets = html.contains("<figure class=\"widget\"");
        let modules = files.iter().filter(|f| f.ends_with(".wasm")).count();
        assert_eq!(
            modules,
            usize::from(shows_widgets),
            "{page}: a page with widgets loads exactly one module (its lesson's), a page without none"
        );
        assert!(
            !lesson || !shows_widgets || files.iter().any(|f| f.starts_with("widgets/")),
            "{page}: the module is its lesson's"
        );
        for file in &files {
            let (status, headers, body) =
                get_with(&format!("/assets/{file}"), &[("accept-encoding", ACCEPT)]).await;
            assert_eq!(status, StatusCode::OK, "{page} loads assets/{file}");
            assert!(
                headers[axum::http::header::CACHE_CONTROL]
                    .to_str()
                    .is_ok_and(|v| v.contains("immutable")),
                "assets/{file} is cached for good, so a repeat visit does not fetch it"
            );
            first += wire_size(&headers, &body);
        }
        // A repeat visit: the page revalidated against its ETag; every asset comes from the cache.
        let etag = headers[axum::http::header::ETAG]
            .to_str()
            .expect("ASCII")
            .to_owned();
        let (status, headers, body) = get_with(
            page,
            &[("accept-encoding", ACCEPT), ("if-none-match", &etag)],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{page} revalidates");
        let repeat = wire_size(&headers, &body);
        table.push(format!(
            "{page}: first visit {:.1} KB ({} files), repeat visit {:.1} KB",
            first as f64 / 1024.0,
            files.len() + 1,
            repeat as f64 / 1024.0
        ));
        assert!(
            first <= FIRST_VISIT_BUDGET,
            "{page}: a first visit moves {first} bytes, over the 250 KB budget\n{}",
            table.join("\n")
        );
        assert!(
            repeat <= REPEAT_VISIT_BUDGET,
            "{page}: a repeat visit moves {repeat} bytes, over the 10 KB budget"
        );
    }
    // Shown with `--nocapture`.
    println!("{}", table.join("\n"));
}

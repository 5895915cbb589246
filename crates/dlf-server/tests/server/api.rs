//! Requests through `app(state).oneshot(...)`: no sockets, the real router, the real course.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Rendering the course once is enough for every test in this file.
fn state() -> Arc<dlf_server::AppState> {
    static STATE: OnceLock<Arc<dlf_server::AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
            Arc::new(dlf_server::AppState::new(&site))
        })
        .clone()
}

/// `GET uri` on the real router over the real course: status, content type and body.
pub(crate) async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    answer(dlf_server::app(state()), request).await
}

/// Sends `request` through `app` (no socket) and returns the status, the content type and the body.
pub(crate) async fn answer(
    app: axum::Router,
    request: Request<Body>,
) -> (StatusCode, String, Vec<u8>) {
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, content_type, body)
}

fn text(body: &[u8]) -> String {
    String::from_utf8(body.to_vec()).expect("utf-8 body")
}

#[tokio::test]
async fn track_page_lists_every_stage_and_links_only_written_lessons() {
    let (status, content_type, body) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"));
    let html = text(&body);
    for stage in ["Foundation", "Architectures", "Production"] {
        assert!(
            html.contains(stage),
            "the track page names the stage {stage}"
        );
    }
    assert!(
        html.contains(r#"href="./lessons/01-backprop/""#),
        "lesson 01 is linked"
    );
    assert!(html.contains("What an interviewer is testing"));
    assert!(html.contains("does not cover"));
    // Every lesson of the track is listed by title; written ones are linked, unwritten ones are not.
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    for (entry, lesson) in site.entries() {
        assert!(
            html.contains(&entry.title),
            "the track page lists {}",
            entry.title
        );
        let link = format!("lessons/{}/", entry.id);
        assert_eq!(
            html.contains(&link),
            lesson.is_some(),
            "{}: linked exactly when written",
            entry.id
        );
    }
}

#[tokio::test]
async fn lesson_page_has_widgets_with_default_figures_and_rendered_maths() {
    let (status, _, body) = get("/lessons/01-backprop/").await;
    assert_eq!(status, StatusCode::OK);
    let html = text(&body);
    assert!(html.contains(r#"data-widget="mlp-trainer""#));
    assert!(html.contains(r#"data-widget="backprop-walk""#));
    assert!(
        html.contains("<svg"),
        "the default figure is in the HTML, so the page reads without JavaScript"
    );
    assert!(html.contains("<math"), "maths is rendered on the server");
    assert!(
        !html.contains("katex") && !html.contains("mathjax"),
        "no client-side maths library"
    );
    assert!(html.contains(r#"class="claim""#));
}

#[tokio::test]
async fn lesson_without_trailing_slash_redirects() {
    let (status, _, _) = get("/lessons/01-backprop").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn unknown_pages_are_404_with_a_page() {
    let (status, content_type, body) = get("/lessons/99-nothing/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(content_type.starts_with("text/html"));
    assert!(text(&body).contains("Not found"));
}

fn asset(source: &str) -> String {
    format!(
        "/assets/{}",
        dlf_server::bundle::asset_path(source).expect("a theme asset")
    )
}

#[tokio::test]
async fn assets_are_served_with_their_types() {
    let (status, content_type, body) = get(&asset("style.css")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/css"));
    let font = asset("fonts/latinmodern-math.otf");
    assert!(
        text(&body).contains(font.trim_start_matches("/assets/")),
        "the stylesheet declares the maths font under its hashed name"
    );
    let (status, content_type, _) = get(&font).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "font/otf");
    // One widget module per lesson topic with widgets, each built and embedded.
    let topics: Vec<&str> = dlf_widgets::registry::topics().collect();
    assert_eq!(
        dlf_server::WIDGET_MODULES
            .iter()
            .map(|(topic, _)| *topic)
            .collect::<Vec<_>>(),
        topics,
        "a module for every topic of the widgets' `lessons!` list, in order"
    );
    for topic in topics {
        let (status, content_type, body) = get(&asset(&format!("widgets/{topic}.wasm"))).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the {topic} widget module was built and embedded"
        );
        assert_eq!(content_type, "application/wasm");
        assert_eq!(&body[..4], b"\0asm", "{topic}: a WebAssembly module");
    }
    let (status, _, _) = get("/assets/style.css").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "only hashed names are served"
    );
}

/// Sends GET `uri` with `headers` and returns the response's status, headers and body.
pub(crate) async fn get_with(
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = dlf_server::app(state())
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

#[tokio::test]
async fn bodies_are_sent_pre_compressed_with_validators() {
    let header = |headers: &axum::http::HeaderMap, name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .unwrap_or_default()
    };
    let (status, plain, identity) = get_with("/lessons/01-backprop/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&plain, "content-encoding"), "");
    assert_eq!(header(&plain, "vary"), "Accept-Encoding");
    assert_eq!(header(&plain, "cache-control"), "no-cache");
    assert_eq!(header(&plain, "accept-ranges"), "none");
    assert!(header(&plain, "content-security-policy").contains("default-src 'self'"));

    let (_, br, compressed) = get_with(
        "/lessons/01-backprop/",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(header(&br, "content-encoding"), "br");
    let mut unpacked = Vec::new();
    brotli::BrotliDecompress(&mut &compressed[..], &mut unpacked).expect("valid brotli");
    assert_eq!(unpacked, identity, "brotli carries the same page");
    assert!(
        compressed.len() * 4 < identity.len(),
        "the page compresses well"
    );
    assert_ne!(
        header(&br, "etag"),
        header(&plain, "etag"),
        "each representation has its own tag"
    );

    let (_, gz, _) = get_with("/lessons/01-backprop/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&gz, "content-encoding"), "gzip");

    // A repeat visit: the page is revalidated and answered 304 with no body.
    let etag = header(&br, "etag");
    let (status, again, body) = get_with(
        "/lessons/01-backprop/",
        &[("accept-encoding", "br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&again, "etag"), etag);
    let (status, _, _) = get_with(
        "/lessons/01-backprop/",
        &[("if-none-match", "\"0000000000000000\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a stale tag gets the page");

    // Hashed assets are cached for good.
    let (status, css, _) = get_with(&asset("style.css"), &[("accept-encoding", "br")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&css, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&css, "content-encoding"), "br");
    assert_eq!(header(&css, "vary"), "Accept-Encoding");
}

#[tokio::test]
async fn widget_route_renders_a_figure() {
    let (status, content_type, body) =
        get("/api/widgets/mlp-trainer?width=4&activation=tanh&steps=50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let figure: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(figure["svg"]
        .as_str()
        .unwrap_or_default()
        .starts_with("<svg"));
    assert!(!figure["description"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    assert!(figure["numbers"].as_array().is_some_and(|n| !n.is_empty()));
}

#[tokio::test]
async fn widget_route_rejects_bad_input_with_a_message() {
    let (status, _, body) = get("/api/widgets/mlp-trainer?width=9999").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(
        error["error"]
            .as_str()
            .unwrap_or_default()
            .contains("width"),
        "{error}"
    );

    let (status, _, body) = get("/api/widgets/mlp-trainer?bogus=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text(&body).contains("bogus"));

    let (status, _, body) = get("/api/widgets/no-such-widget").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(text(&body).contains("no-such-widget"));

    let (status, _, _) = get("/api/widgets/mlp-trainer?widget=backprop-walk").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn widget_specs_are_listed() {
    let (status, _, body) = get("/api/widgets").await;
    assert_eq!(status, StatusCode::OK);
    let specs: Value = serde_json::from_slice(&body).expect("JSON");
    let ids: Vec<&str> = specs
        .as_array()
        .expect("an array of specs")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"mlp-trainer") && ids.contains(&"backprop-walk"),
        "{ids:?}"
    );
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy() {
    let response = dlf_server::app(state())
        .oneshot(Request::get("/").body(Body::empty()).expect("request"))
        .await
        .expect("the router answers");
    let csp = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a CSP header")
        .to_str()
        .expect("ascii");
    assert!(csp.contains("default-src 'self'"));
}

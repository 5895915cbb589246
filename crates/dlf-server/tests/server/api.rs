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

#[tokio::test]
async fn assets_are_served_with_their_types() {
    let (status, content_type, body) = get("/assets/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/css"));
    assert!(
        text(&body).contains("latinmodern-math.woff2"),
        "the stylesheet declares the maths font"
    );
    let (status, content_type, _) = get("/assets/fonts/latinmodern-math.woff2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "font/woff2");
    let (status, content_type, body) = get("/assets/dlf_widgets.wasm").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the widget wasm was built and embedded"
    );
    assert_eq!(content_type, "application/wasm");
    assert_eq!(&body[..4], b"\0asm", "a WebAssembly module");
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

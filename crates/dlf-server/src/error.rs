//! The one place that decides an error's status code and body.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Everything a request can fail with. The message is meant for the user; no internals leak.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No page or asset at this path.
    #[error("no page at {0}")]
    PageNotFound(String),
    /// `/api/widgets/{id}` with an id no widget has.
    #[error("unknown widget '{0}'")]
    UnknownWidget(String),
    /// A request whose parameters do not validate, or a body that is not JSON; the message names the problem.
    #[error("{0}")]
    BadRequest(String),
    /// A JSON body of the right shape whose fields do not fit the card (wrong kind-specific fields, a rubric of
    /// the wrong length, a value out of range).
    #[error("{0}")]
    Unprocessable(String),
    /// A state-changing request from a page that is not this server's own (another site, DNS rebinding).
    #[error("{0}")]
    Forbidden(String),
    /// A request body over [`crate::practice::BODY_LIMIT`] bytes.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A state-changing request whose body is not declared as JSON.
    #[error("send the body as JSON, with the header Content-Type: application/json")]
    UnsupportedMediaType,
    /// `/api/practice/cards/{id}` or a review for a card the course does not have.
    #[error("unknown card '{0}'")]
    UnknownCard(String),
    /// `/api/lessons/{id}/done` for a lesson that is not in the track or not written yet.
    #[error("unknown lesson '{0}' (only written lessons of the track can be marked done)")]
    UnknownLesson(String),
    /// A review of a card whose lesson is not marked done: practice follows the lessons, so the card is not
    /// in the learner's queue yet.
    #[error("lesson '{0}' is not marked done, so its cards cannot be reviewed yet; mark it done at the foot of its page first")]
    LessonNotDone(String),
    /// The server runs without a progress store, so practice and progress are unavailable.
    #[error("practice and progress need a progress store; this server was started without one (run `dlf serve`, which opens one)")]
    NoStore,
    /// An internal failure: the progress store could not read or write, a task did not finish. The detail
    /// (which may name the progress file) goes to the server's log on stderr under a short reference; the
    /// page gets only the reference.
    #[error("the server could not complete this request")]
    Store(String),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::PageNotFound(_)
            | AppError::UnknownWidget(_)
            | AppError::UnknownCard(_)
            | AppError::UnknownLesson(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::LessonNotDone(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::NoStore => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A short reference for an internal error, printed in the log beside the detail and sent to the page, so a
/// learner's report can be matched to the log line: the process id and a counter, in hex.
fn error_reference() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{:x}-{:x}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Store(detail) => {
                let reference = error_reference();
                eprintln!("dlf: internal error {reference}: {detail}");
                let message = format!(
                    "{self} (internal error {reference}; the details are in the server's log)"
                );
                let body = format!("{{\"error\":{}}}", serde_json::Value::String(message));
                (
                    status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
                    .into_response()
            }
            AppError::PageNotFound(path) if !path.starts_with("/api/") => {
                let root = root_for(path);
                let body = dlf_content::theme::not_found_page(&root, path);
                (
                    status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    )],
                    body,
                )
                    .into_response()
            }
            _ => {
                let body = format!(
                    "{{\"error\":{}}}",
                    serde_json::Value::String(self.to_string())
                );
                (
                    status,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
                    .into_response()
            }
        }
    }
}

/// The relative path from a request path back to the site root, so the 404 page's links and assets resolve.
fn root_for(path: &str) -> String {
    let depth = path.trim_start_matches('/').matches('/').count();
    if depth == 0 {
        "./".to_owned()
    } else {
        "../".repeat(depth)
    }
}

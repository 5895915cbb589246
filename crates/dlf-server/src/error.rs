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
    /// A request whose parameters do not validate; the message names the parameter.
    #[error("{0}")]
    BadRequest(String),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::PageNotFound(_) | AppError::UnknownWidget(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
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

//! The dlf web server.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests drive it with `oneshot` and no sockets, as
//! axum's own examples do. Pages are rendered once, when the state is built (never per request); requests only
//! look up bytes. The routes:
//!
//! | route | what |
//! | --- | --- |
//! | `GET /` | the track page |
//! | `GET /lessons/{id}/` | a lesson (`/lessons/{id}` redirects to it) |
//! | `GET /assets/{path}` | the stylesheet, the script, the maths font and the widget WebAssembly module |
//! | `GET /api/widgets` | every widget's parameter spec, as JSON |
//! | `GET /api/widgets/{id}?name=value&…` | one rendered figure, as JSON: the fallback where wasm is unavailable |
//! | `GET /healthz` | `ok` |
//! | `GET /practice/`, `GET /progress/` | practice and progress pages (served only: the static export has no store) |
//! | `/api/progress`, `/api/lessons/{id}/done`, `/api/practice/*` | the practice API, see [`practice`] |
//!
//! Practice needs a progress store: [`AppState::with_store`] gives it one. [`AppState::new`] serves the pages
//! alone, and the practice API then answers 503 with a message that says so.
//! Every error goes through [`AppError`], which picks the status and a message that never leaks internals.

mod error;
pub mod export;
mod listen;
pub mod practice;

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::Router;
use dlf_content::practice::Deck;
use dlf_store::Store;

pub use crate::error::AppError;
pub use crate::listen::{serve_with, Limits};

/// The widget WebAssembly module, built by this crate's build script. Empty when the wasm32 target was not
/// installed at build time; the page then falls back to `/api/widgets/{id}`.
pub static WIDGETS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dlf_widgets.wasm"));

/// The policy every HTML page is served with: only our own scripts (plus compiling our own wasm), no
/// third-party origins at all. Inline styles are allowed because widget SVGs carry presentation attributes.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// One file served under `/assets/`.
#[derive(Debug, Clone)]
pub struct ServedAsset {
    mime: &'static str,
    bytes: Cow<'static, [u8]>,
}

/// Everything the server answers with, rendered once up front, and the progress store when there is one.
pub struct AppState {
    pages: HashMap<String, String>,
    assets: HashMap<String, ServedAsset>,
    /// Every practice card of the course.
    deck: Deck,
    /// The track's lessons in order, for the progress API.
    lessons: Vec<practice::LessonInfo>,
    /// Where reviews and lessons done are kept; `None` serves pages only.
    store: Option<Arc<Store>>,
    /// `Host` values other than the local names under which state-changing requests are accepted.
    allowed_hosts: Vec<String>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("pages", &self.pages.len())
            .field("assets", &self.assets.len())
            .field("cards", &self.deck.cards.len())
            .field("store", &self.store.is_some())
            .field("allowed_hosts", &self.allowed_hosts)
            .finish()
    }
}

impl AppState {
    /// Renders every page of the course and gathers every asset, including the widget wasm when it was built.
    /// Without a store the practice API answers 503; see [`AppState::with_store`].
    pub fn new(site: &dlf_content::Site) -> AppState {
        let mut state = AppState {
            pages: HashMap::new(),
            assets: HashMap::new(),
            deck: Deck::from_site(site),
            lessons: site
                .entries()
                .map(|(entry, lesson)| practice::LessonInfo {
                    id: entry.id.clone(),
                    title: entry.title.clone(),
                    stage: entry.stage.clone(),
                    written: lesson.is_some(),
                })
                .collect(),
            store: None,
            allowed_hosts: Vec::new(),
        };
        for page in dlf_content::pages::render_all(site) {
            state.pages.insert(page.url, page.html);
        }
        // Served pages only: the static export has no store to practise against.
        state
            .pages
            .insert("/practice/".to_owned(), dlf_content::theme::practice_page());
        state
            .pages
            .insert("/progress/".to_owned(), dlf_content::theme::progress_page());
        for asset in dlf_content::theme::assets(dlf_content::math_css()) {
            state.assets.insert(
                asset.path.to_owned(),
                ServedAsset {
                    mime: asset.mime,
                    bytes: asset.bytes,
                },
            );
        }
        // Served even when empty (the wasm32 target was missing at build time): the page reads an empty module
        // as "no module" and renders through /api/widgets, with no failed request in the console.
        state.assets.insert(
            "dlf_widgets.wasm".to_owned(),
            ServedAsset {
                mime: "application/wasm",
                bytes: Cow::Borrowed(WIDGETS_WASM),
            },
        );
        state
    }

    /// Everything [`AppState::new`] serves, plus practice and progress kept in `store`.
    pub fn with_store(site: &dlf_content::Site, store: Arc<Store>) -> AppState {
        let mut state = AppState::new(site);
        state.store = Some(store);
        // Only pages of a server with a store ask the progress API: without one (and in the static export) the
        // pages make no request that could fail, and hide the controls that need it.
        for html in state.pages.values_mut() {
            *html = dlf_content::theme::mark_live(html);
        }
        state
    }

    /// Also accepts state-changing requests whose `Host` is `authority` (`host:port`, as a browser writes it),
    /// for a server bound to an address other than loopback. Local names are always accepted.
    pub fn allow_host(mut self, authority: &str) -> AppState {
        self.allowed_hosts.push(authority.to_ascii_lowercase());
        self
    }

    /// The practice cards the state serves.
    pub fn deck(&self) -> &Deck {
        &self.deck
    }

    /// The number of pages the state serves.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }
}

/// Builds the router.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/lessons/{id}", get(lesson_without_slash))
        .route("/lessons/{id}/", get(lesson))
        .route(
            "/practice",
            get(|| async { Redirect::permanent("/practice/") }),
        )
        .route("/practice/", get(practice_page))
        .route(
            "/progress",
            get(|| async { Redirect::permanent("/progress/") }),
        )
        .route("/progress/", get(progress_page))
        .route("/assets/{*path}", get(asset))
        .route("/api/progress", get(practice::progress))
        .route("/api/lessons/{id}/done", put(practice::set_done))
        .route("/api/practice/queue", get(practice::queue))
        .route("/api/practice/cards/{*id}", get(practice::card))
        .route("/api/practice/reviews", post(practice::review))
        .route("/api/widgets", get(widget_specs))
        .route("/api/widgets/{id}", get(widget_figure))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            practice::guard,
        ))
        .with_state(state)
}

/// Serves the app on `listener` with the default [`Limits`] until Ctrl-C or SIGTERM, then finishes requests in
/// flight (a few seconds at most) and returns. Prints nothing; the caller announces the URL.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    serve_with(listener, state, Limits::default(), shutdown_signal()).await
}

/// Binds `addr`, with an error message that says what to do when the port is taken.
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr}: {e} (choose another port with --port)"),
        )
    })
}

/// Completes on the first Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn html(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

fn page(state: &AppState, url: &str) -> Result<Response, AppError> {
    state
        .pages
        .get(url)
        .map(|body| html(body.clone()))
        .ok_or_else(|| AppError::PageNotFound(url.to_owned()))
}

async fn index(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    page(&state, "/")
}

async fn practice_page(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    page(&state, "/practice/")
}

async fn progress_page(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    page(&state, "/progress/")
}

async fn lesson(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    page(&state, &format!("/lessons/{id}/"))
}

async fn lesson_without_slash(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let url = format!("/lessons/{id}/");
    if state.pages.contains_key(&url) {
        Ok(Redirect::permanent(&url).into_response())
    } else {
        Err(AppError::PageNotFound(format!("/lessons/{id}")))
    }
}

async fn asset(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
) -> Result<Response, AppError> {
    let asset = state
        .assets
        .get(&path)
        .ok_or_else(|| AppError::PageNotFound(format!("/assets/{path}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes.clone().into_owned(),
    )
        .into_response())
}

async fn widget_specs() -> Response {
    json_response(StatusCode::OK, dlf_content::widget_specs_json())
}

async fn widget_figure(
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    if dlf_widgets::find(&id).is_none() {
        return Err(AppError::UnknownWidget(id));
    }
    // The widget id comes from the path; a `widget=` pair in the query would be ambiguous, so it is refused.
    let query = query.unwrap_or_default();
    if query
        .split('&')
        .any(|pair| pair == "widget" || pair.starts_with("widget="))
    {
        return Err(AppError::BadRequest(
            "the widget id belongs in the path, not in the query".to_owned(),
        ));
    }
    let full = if query.is_empty() {
        format!("widget={id}")
    } else {
        format!("widget={id}&{query}")
    };
    let figure =
        dlf_widgets::render_query(&full).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(json_response(StatusCode::OK, figure.to_json()))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

async fn not_found(uri: Uri) -> AppError {
    AppError::PageNotFound(uri.path().to_owned())
}

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
//! | `GET /assets/{path}` | the stylesheet, the scripts, the maths font and each lesson's widget WebAssembly module (`widgets/TOPIC.HASH.wasm`), each under a name carrying its content hash, `immutable` |
//! | `GET /api/widgets` | every widget's parameter spec, as JSON |
//! | `GET /api/widgets/{id}?name=value&…` | one rendered figure, as JSON: the fallback where wasm is unavailable |
//! | `GET /healthz` | `ok` |
//! | `GET /practice/`, `GET /progress/` | practice and progress pages (served only: the static export has no store) |
//! | `/api/progress`, `/api/lessons/{id}/done`, `/api/practice/*` | the practice API, see [`practice`] |
//!
//! Practice needs a progress store: [`AppState::with_store`] gives it one. [`AppState::new`] serves the pages
//! alone, and the practice API then answers 503 with a message that says so.
//! Every error goes through [`AppError`], which picks the status and a message that never leaks internals.
//!
//! Pages and assets are sent pre-compressed ([`bundle`]): brotli or gzip as `Accept-Encoding` allows, with
//! `Vary: Accept-Encoding`, a strong `ETag` per representation and `304 Not Modified` for `If-None-Match`. Range
//! requests are not served (`Accept-Ranges: none`): the largest body is a few hundred kilobytes before
//! compression, a range of a compressed representation is of no use to a browser, and the pages and the module
//! are only useful whole.

pub mod bundle;
mod error;
pub mod export;
mod listen;
pub mod practice;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post, put};
use axum::Router;
use dlf_content::practice::Deck;
use dlf_store::Store;

pub use crate::error::AppError;
pub use crate::listen::{serve_with, Limits};

/// The widget WebAssembly modules, one per lesson topic with widgets, as `(topic, module)` in course order, built
/// by this crate's build script from the `lessons!` list of `dlf-widgets` (each holds only its lesson's widgets).
/// A module is empty when the wasm32 target was not installed at build time; the page then falls back to
/// `/api/widgets/{id}`.
pub static WIDGET_MODULES: &[(&str, &[u8])] =
    include!(concat!(env!("OUT_DIR"), "/widget_modules.rs"));

/// The policy every HTML page is served with: only our own scripts (plus compiling our own wasm), no
/// third-party origins at all. Inline styles are allowed because widget SVGs carry presentation attributes.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// One file served under `/assets/`.
#[derive(Debug, Clone)]
pub struct ServedAsset {
    mime: &'static str,
    body: Arc<bundle::Body>,
}

/// Everything the server answers with, rendered once up front, and the progress store when there is one.
pub struct AppState {
    pages: HashMap<String, Arc<bundle::Body>>,
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
        AppState::build(site, None)
    }

    /// Everything [`AppState::new`] serves, plus practice and progress kept in `store`.
    pub fn with_store(site: &dlf_content::Site, store: Arc<Store>) -> AppState {
        AppState::build(site, Some(store))
    }

    fn build(site: &dlf_content::Site, store: Option<Arc<Store>>) -> AppState {
        let rendered = dlf_content::pages::render_all(site);
        let search = bundle::search_index(&rendered);
        let mut pages: Vec<(String, String)> = rendered
            .into_iter()
            .map(|page| (page.url, page.html))
            .collect();
        // Served pages only: the static export has no store to practise against.
        pages.push(("/practice/".to_owned(), dlf_content::theme::practice_page()));
        pages.push(("/progress/".to_owned(), dlf_content::theme::progress_page()));
        // Only pages of a server with a store ask the progress API: without one (and in the static export) the
        // pages make no request that could fail, and hide the controls that need it.
        if store.is_some() {
            for (_, html) in &mut pages {
                *html = dlf_content::theme::mark_live(html);
            }
        }
        let (urls, htmls): (Vec<String>, Vec<String>) = pages.into_iter().unzip();
        let bodies = bundle::compress_all(
            htmls
                .iter()
                .map(|html| bundle::link_page(html, &[&search]).into_bytes())
                .collect(),
        );
        let mut assets: HashMap<String, ServedAsset> = bundle::assets()
            .iter()
            .map(|asset| {
                (
                    asset.path.clone(),
                    ServedAsset {
                        mime: asset.mime,
                        body: asset.body.clone(),
                    },
                )
            })
            .collect();
        assets.insert(
            search.path.clone(),
            ServedAsset {
                mime: search.mime,
                body: search.body.clone(),
            },
        );
        AppState {
            pages: urls.into_iter().zip(bodies).collect(),
            assets,
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
            store,
            allowed_hosts: Vec::new(),
        }
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
            get(|| async { Redirect::permanent("practice/") }),
        )
        .route("/practice/", get(practice_page))
        .route(
            "/progress",
            get(|| async { Redirect::permanent("progress/") }),
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

/// Sends one pre-compressed body: the coding the client accepts, its `ETag`, and `304 Not Modified` when the
/// client's copy (any coding) is current. `extra` headers go on both answers.
fn send(
    request: &HeaderMap,
    body: &bundle::Body,
    mime: &'static str,
    cache_control: &'static str,
    extra: &[(header::HeaderName, &'static str)],
) -> Response {
    let text = |name: &header::HeaderName| {
        request
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (coding, bytes) = body.negotiate(text(&header::ACCEPT_ENCODING));
    let etag = body.etag(coding);
    let fresh = body.matches(text(&header::IF_NONE_MATCH));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.clone().into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("an ETag is hex digits and quotes"),
    );
    for (name, value) in extra {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
    if !fresh {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        match coding {
            bundle::Coding::Brotli => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            }
            bundle::Coding::Gzip => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            bundle::Coding::Identity => {}
        }
    }
    response
}

/// A page: revalidated on every visit (`no-cache`, answered 304 while unchanged), since it names the hashed
/// assets of the current build.
fn html(request: &HeaderMap, body: &bundle::Body) -> Response {
    send(
        request,
        body,
        "text/html; charset=utf-8",
        "no-cache",
        &[(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)],
    )
}

fn page(state: &AppState, request: &HeaderMap, url: &str) -> Result<Response, AppError> {
    state
        .pages
        .get(url)
        .map(|body| html(request, body))
        .ok_or_else(|| AppError::PageNotFound(url.to_owned()))
}

async fn index(
    State(state): State<Arc<AppState>>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    page(&state, &request, "/")
}

async fn practice_page(
    State(state): State<Arc<AppState>>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    page(&state, &request, "/practice/")
}

async fn progress_page(
    State(state): State<Arc<AppState>>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    page(&state, &request, "/progress/")
}

async fn lesson(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    page(&state, &request, &format!("/lessons/{id}/"))
}

async fn lesson_without_slash(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let url = format!("/lessons/{id}/");
    if state.pages.contains_key(&url) {
        // Relative, so that behind a reverse proxy that mounts the course under a path prefix the redirect stays
        // under it (`/prefix/lessons/x` → `/prefix/lessons/x/`); every link the pages write is relative too.
        Ok(Redirect::permanent(&format!("{id}/")).into_response())
    } else {
        Err(AppError::PageNotFound(format!("/lessons/{id}")))
    }
}

async fn asset(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    request: HeaderMap,
) -> Result<Response, AppError> {
    let asset = state
        .assets
        .get(&path)
        .ok_or_else(|| AppError::PageNotFound(format!("/assets/{path}")))?;
    // The name carries the content hash: these bytes never change under it.
    Ok(send(
        &request,
        &asset.body,
        asset.mime,
        "public, max-age=31536000, immutable",
        &[],
    ))
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

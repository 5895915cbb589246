//! Practice and progress over HTTP: the JSON API behind `/practice/`, `/progress/`, the track page's progress
//! line and each lesson's "mark done" button (see `docs/PRACTICE.md` for the contract).
//!
//! | route | what |
//! | --- | --- |
//! | `GET /api/progress` | lessons (done or not), the recommended next lesson, readiness per lesson, cards reviewed |
//! | `PUT /api/lessons/{id}/done` | `{"done": bool}`: mark a written lesson done or not done |
//! | `GET /api/practice/queue?limit=N` | the due cards, then new cards, of the lessons marked done |
//! | `GET /api/practice/cards/{card id}` | one card; an estimate comes with a fresh seed |
//! | `POST /api/practice/reviews` | one answer; the server grades it, records it and answers `201` |
//!
//! The server grades every answer with the store's grading rules (`grade_prompt`, `grade_derive`,
//! `grade_estimate`); a client never sends a rating. An estimate is regenerated from its seed, so the truth
//! never travels to the browser before the learner has answered.
//!
//! Security for an app on the learner's own machine: [`guard`] refuses every state-changing request, and every
//! read of the learner's data, whose `Host` is not a local name (DNS rebinding) or whose `Origin` is not this
//! server's own (another site open in the same browser), before any body is read. Bodies are capped at [`BODY_LIMIT`] bytes. Every check runs
//! before the store is touched, so a rejected request changes nothing. Store calls block on SQLite, so they run
//! on tokio's blocking pool.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dlf_content::practice::{Card, CardKind};
use dlf_store::chrono::{DateTime, Utc};
use dlf_store::{CardRef, NewReview, Rating, Schedule, SelfCheck, Store};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{AppError, AppState};

/// The largest request body accepted, in bytes (16 KiB): a prompt answer of a few pages fits; anything larger
/// is refused with 413 before it is parsed.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Seeds are kept below 2^53 so that they survive a round trip through a JavaScript number unchanged.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// The default and the largest number of cards `/api/practice/queue` returns.
const DEFAULT_QUEUE_LIMIT: usize = 20;
const MAX_QUEUE_LIMIT: usize = 500;

/// The longest derive time a review may report, in seconds (a day): anything longer is a client error.
const MAX_DERIVE_SECONDS: f64 = 86_400.0;

/// Host names that mean "this machine". `localhost` resolves to the loopback address in every resolver that
/// follows RFC 6761 §6.3; the bracketed form is how an IPv6 literal appears in a `Host` header (RFC 3986 §3.2.2).
const LOCAL_HOSTS: &[&str] = &["127.0.0.1", "localhost", "[::1]"];

/// A lesson of the track as the progress API lists it.
#[derive(Debug, Clone)]
pub(crate) struct LessonInfo {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) stage: String,
    pub(crate) written: bool,
}

/// The routes that read the learner's own data: guarded like writes, so that a page of another site that has
/// rebound its name to 127.0.0.1 cannot read the learner's answers either.
const PRIVATE_PREFIXES: &[&str] = &["/api/progress", "/api/lessons/", "/api/practice/"];

/// Refuses a state-changing request (anything but GET, HEAD and OPTIONS), and any request for the learner's data,
/// that does not come from a page of this server: its `Host` must name this machine (a local name, or an address
/// the server was told it is reachable at), and its `Origin`, when the browser sends one, must be `http://`
/// followed by that same `Host`. Course pages, assets and the widget API are public and stay unguarded for reads.
pub(crate) async fn guard(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method();
    let read = method == Method::GET || method == Method::HEAD || method == Method::OPTIONS;
    let private = PRIVATE_PREFIXES
        .iter()
        .any(|p| request.uri().path().starts_with(p));
    if read && !private {
        return next.run(request).await;
    }
    match check_origin(request.headers(), &state.allowed_hosts) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// The rule [`guard`] applies, on its own so that it reads (and is tested) in one place.
fn check_origin(headers: &HeaderMap, extra_hosts: &[String]) -> Result<(), AppError> {
    // A request carrying two Hosts or two Origins is not one a browser sends; checking only the first would
    // let the second disagree with it unseen, so both are refused.
    for name in [header::HOST, header::ORIGIN] {
        if headers.get_all(&name).iter().count() > 1 {
            return Err(AppError::Forbidden(format!(
                "refused: the request has more than one {name} header"
            )));
        }
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            AppError::Forbidden(
                "refused: the request has no Host header naming this server".to_owned(),
            )
        })?;
    let name = host_name(&host);
    let local = LOCAL_HOSTS.contains(&name) || extra_hosts.contains(&host);
    if !local {
        return Err(AppError::Forbidden(format!(
            "refused: '{host}' is not this machine; open dlf at http://127.0.0.1:PORT/ or http://localhost:PORT/"
        )));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
        if origin != format!("http://{host}") {
            return Err(AppError::Forbidden(format!(
                "refused: a page from '{origin}' may not change your progress; only pages of http://{host} may"
            )));
        }
    }
    Ok(())
}

/// The host part of a `Host` value: `127.0.0.1:8000` → `127.0.0.1`, `[::1]:8000` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Runs a blocking store call on tokio's blocking pool, so that SQLite never stalls the async workers.
async fn blocking<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Store(format!("a store task did not finish: {e}")))?
}

fn store_error(err: dlf_store::StoreError) -> AppError {
    AppError::Store(err.to_string())
}

fn store_of(state: &AppState) -> Result<Arc<Store>, AppError> {
    state.store.clone().ok_or(AppError::NoStore)
}

fn json_status(status: StatusCode, value: &Value) -> Response {
    crate::json_response(status, value.to_string())
}

/// Reads a JSON body of at most [`BODY_LIMIT`] bytes; the `Content-Type` must say JSON.
async fn read_json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, AppError> {
    let declared_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|n| n > BODY_LIMIT) {
        return Err(AppError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    if !declared_json {
        return Err(AppError::UnsupportedMediaType);
    }
    // The only way reading a body with a limit fails for a client that is still listening is the limit.
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| AppError::PayloadTooLarge { limit: BODY_LIMIT })?;
    serde_json::from_slice(&bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            AppError::Unprocessable(format!("the request body does not fit: {e}"))
        }
        _ => AppError::BadRequest(format!("the request body is not valid JSON: {e}")),
    })
}

/// `GET /api/progress`.
pub(crate) async fn progress(State(state): State<Arc<AppState>>) -> Result<Response, AppError> {
    let store = store_of(&state)?;
    let worker = state.clone();
    let value = blocking(move || progress_json(&worker, &store, Utc::now())).await?;
    Ok(json_status(StatusCode::OK, &value))
}

fn progress_json(state: &AppState, store: &Store, now: DateTime<Utc>) -> Result<Value, AppError> {
    let done = store.lessons_done().map_err(store_error)?;
    let done_at = |id: &str| done.iter().find(|d| d.lesson == id).map(|d| d.at);
    let lessons: Vec<Value> = state
        .lessons
        .iter()
        .map(|l| {
            let at = done_at(&l.id);
            json!({
                "id": l.id, "title": l.title, "stage": l.stage, "written": l.written,
                "done": at.is_some(), "done_at": at.map(|t| t.to_rfc3339()),
            })
        })
        .collect();
    // The recommended next lesson is the first written lesson of the linear order not marked done.
    let next = state
        .lessons
        .iter()
        .find(|l| l.written && done_at(&l.id).is_none())
        .map(|l| json!({"id": l.id, "title": l.title}));
    let refs = card_refs(state);
    let readiness = store.readiness(&refs, now).map_err(store_error)?;
    let readiness: Vec<Value> = readiness
        .iter()
        .map(|r| {
            let title = state
                .lessons
                .iter()
                .find(|l| l.id == r.lesson)
                .map_or(r.lesson.as_str(), |l| l.title.as_str());
            json!({
                "lesson": r.lesson, "title": title, "cards": r.cards, "seen": r.seen, "due": r.due,
                "retention": r.retention, "accuracy": r.accuracy,
            })
        })
        .collect();
    let mut reviewed = Vec::new();
    for card in &state.deck.cards {
        let Some(schedule) = store.schedule(&card.id).map_err(store_error)? else {
            continue;
        };
        let history = store.reviews(&card.id).map_err(store_error)?;
        let last = history.last();
        reviewed.push(json!({
            "id": card.id, "lesson": card.lesson, "title": card.title, "title_html": card.title_html, "kind": kind_name(&card.kind),
            "reviews": history.len(), "last_rating": last.map(|r| r.rating.name()),
            "last_review": schedule.last_review.map(|t| t.to_rfc3339()),
            "due": schedule.due.to_rfc3339(), "overdue": schedule.due <= now,
            "reps": schedule.reps, "lapses": schedule.lapses,
        }));
    }
    Ok(json!({ "lessons": lessons, "next": next, "readiness": readiness, "reviewed": reviewed }))
}

fn card_refs(state: &AppState) -> Vec<CardRef<'_>> {
    state
        .deck
        .cards
        .iter()
        .map(|c| CardRef {
            id: &c.id,
            lesson: &c.lesson,
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DoneBody {
    done: bool,
}

/// `PUT /api/lessons/{id}/done`.
pub(crate) async fn set_done(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let store = store_of(&state)?;
    if !state.lessons.iter().any(|l| l.id == id && l.written) {
        return Err(AppError::UnknownLesson(id));
    }
    let body: DoneBody = read_json_body(&headers, body).await?;
    let lesson = id.clone();
    blocking(move || {
        store
            .set_lesson_done(&lesson, body.done, Utc::now())
            .map_err(store_error)
    })
    .await?;
    Ok(json_status(
        StatusCode::OK,
        &json!({"id": id, "done": body.done}),
    ))
}

/// `GET /api/practice/queue?limit=N`.
pub(crate) async fn queue(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let limit = queue_limit(query.as_deref().unwrap_or_default())?;
    let store = store_of(&state)?;
    let worker = state.clone();
    let value = blocking(move || {
        let refs = card_refs(&worker);
        let now = Utc::now();
        let entries = store.queue(&refs, now, limit).map_err(store_error)?;
        let mut cards = Vec::with_capacity(entries.len());
        let mut due = 0;
        for entry in &entries {
            let Some(card) = worker.deck.card(&entry.card) else {
                continue;
            };
            if entry.due.is_some() {
                due += 1;
            }
            cards.push(card_with_history(&store, card)?);
        }
        let new = cards.len() - due;
        Ok(json!({ "cards": cards, "due": due, "new": new }))
    })
    .await?;
    Ok(json_status(StatusCode::OK, &value))
}

fn queue_limit(query: &str) -> Result<usize, AppError> {
    let mut limit = DEFAULT_QUEUE_LIMIT;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "limit" {
            return Err(AppError::BadRequest(format!(
                "unknown query parameter '{name}' (the queue takes only limit)"
            )));
        }
        limit = value
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_QUEUE_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_QUEUE_LIMIT}, not '{value}'"
                ))
            })?;
    }
    Ok(limit)
}

/// `GET /api/practice/cards/{card id}`.
pub(crate) async fn card(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let store = store_of(&state)?;
    if state.deck.card(&id).is_none() {
        return Err(AppError::UnknownCard(id));
    }
    let worker = state.clone();
    let value = blocking(move || {
        let card = worker
            .deck
            .card(&id)
            .ok_or_else(|| AppError::UnknownCard(id.clone()))?;
        card_with_history(&store, card)
    })
    .await?;
    Ok(json_status(StatusCode::OK, &value))
}

fn kind_name(kind: &CardKind) -> &'static str {
    match kind {
        CardKind::Prompt(_) => "prompt",
        CardKind::Derive(_) => "derive",
        CardKind::Estimate(_) => "estimate",
    }
}

/// [`card_json`] with the card's schedule and its last review from the store, and a fresh seed.
fn card_with_history(store: &Store, card: &Card) -> Result<Value, AppError> {
    let schedule = store.schedule(&card.id).map_err(store_error)?;
    let reviews = store.reviews(&card.id).map_err(store_error)?;
    let mut value = card_json(card, schedule.as_ref(), fresh_seed());
    // The last answer is shown back to the learner (as text, never as HTML) when the card returns.
    value["last"] = reviews.last().map_or(Value::Null, |r| {
        json!({
            "at": r.at.to_rfc3339(),
            "rating": r.rating.name(),
            "answer": r.detail.get("answer").filter(|a| a.is_string()),
            "value": r.detail.get("value").filter(|v| v.is_number()),
        })
    });
    value["reviews"] = json!(reviews.len());
    Ok(value)
}

/// One card as the practice page shows it. The HTML comes from the lessons (rendered by our own Markdown and
/// maths pipeline); an estimate carries its question for `seed` but neither its answer nor its solution.
fn card_json(card: &Card, schedule: Option<&Schedule>, seed: u64) -> Value {
    let fragments = |list: &[dlf_content::Fragment]| -> Vec<String> {
        list.iter().map(|f| f.html.clone()).collect()
    };
    let mut value = json!({
        "id": card.id, "lesson": card.lesson, "lesson_title": card.lesson_title, "title": card.title, "title_html": card.title_html,
        "kind": kind_name(&card.kind),
        "due": schedule.map(|s| s.due.to_rfc3339()),
        "reps": schedule.map_or(0, |s| s.reps),
    });
    match &card.kind {
        CardKind::Prompt(p) => {
            value["prompt"] = json!({
                "level": p.level.label(),
                "question_html": p.question.html,
                "hire_html": fragments(&p.hire),
                "strong_html": fragments(&p.strong),
                "weak_html": p.weak.html,
                "followups_html": p.followups.html,
            });
        }
        CardKind::Derive(d) => {
            value["derive"] = json!({
                "seconds": d.seconds,
                "prompt_html": d.prompt.html,
                "steps_html": fragments(&d.steps),
                "answer_html": d.answer.as_ref().map(|a| a.html.clone()),
            });
        }
        CardKind::Estimate(e) => {
            value["estimate"] = match dlf_engine::estimate::generate(e.generator, seed) {
                Ok(problem) => {
                    let rendered = dlf_content::practice::render_estimate(problem);
                    json!({
                        "generator": e.generator, "seed": seed,
                        "question_html": rendered.question_html,
                        "unit": rendered.estimate.unit,
                        "rel_tolerance": rendered.estimate.rel_tolerance,
                        "tolerance_text": dlf_content::practice::tolerance_text(rendered.estimate.rel_tolerance),
                    })
                }
                // The deck only holds generators `dlf check` found in the engine, so this is a build mismatch.
                Err(err) => json!({ "generator": e.generator, "error": err.to_string() }),
            };
        }
    }
    value
}

/// A seed for a fresh estimation problem: the process's randomly keyed hasher over the current time, cut to
/// [`MAX_SEED`].
fn fresh_seed() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish() & MAX_SEED
}

/// What the learner sends for one card. Which fields belong depends on the card's kind; the rest must be absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    card: String,
    hire: Option<Vec<bool>>,
    strong: Option<Vec<bool>>,
    answer: Option<String>,
    self_check: Option<String>,
    seconds: Option<f64>,
    seed: Option<u64>,
    /// An estimate's answer: a JSON number, or the text the learner typed (`3e9`, `3,000,000`, `3 000 000`).
    /// Kept as the raw JSON so that a number is read from its digits by the same reader as typed text:
    /// serde_json would read `1e-99999` as 0 without a word.
    value: Option<Box<serde_json::value::RawValue>>,
}

/// Reads an estimate's `value`, a JSON number or string, with [`dlf_content::answer::parse_answer`].
fn read_value(raw: &serde_json::value::RawValue, unit: &str) -> Result<f64, AppError> {
    let text = raw.get().trim();
    let typed: String = if text.starts_with('"') {
        serde_json::from_str(text).map_err(|e| AppError::Unprocessable(e.to_string()))?
    } else if text.starts_with(['-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']) {
        text.to_owned()
    } else {
        return Err(AppError::Unprocessable(
            "value must be a number, or the text the learner typed".to_owned(),
        ));
    };
    dlf_content::answer::parse_answer(&typed, unit).map_err(AppError::Unprocessable)
}

impl ReviewBody {
    /// Fails when a field of another kind of card is present.
    fn only(&self, kind: &str, allowed: &[&str]) -> Result<(), AppError> {
        let present = [
            ("hire", self.hire.is_some()),
            ("strong", self.strong.is_some()),
            ("answer", self.answer.is_some()),
            ("self_check", self.self_check.is_some()),
            ("seconds", self.seconds.is_some()),
            ("seed", self.seed.is_some()),
            ("value", self.value.is_some()),
        ];
        for (name, is_present) in present {
            if is_present && !allowed.contains(&name) {
                return Err(AppError::Unprocessable(format!(
                    "'{name}' does not belong to a review of a {kind} card (it takes {})",
                    allowed.join(", ")
                )));
            }
        }
        Ok(())
    }
}

fn required<T>(field: Option<T>, name: &str, kind: &str) -> Result<T, AppError> {
    field
        .ok_or_else(|| AppError::Unprocessable(format!("a review of a {kind} card needs '{name}'")))
}

/// `POST /api/practice/reviews`: grade, record, and answer with the next due date and feedback.
pub(crate) async fn review(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let store = store_of(&state)?;
    let body: ReviewBody = read_json_body(&headers, body).await?;
    let card = state
        .deck
        .card(&body.card)
        .ok_or_else(|| AppError::UnknownCard(body.card.clone()))?;
    let lesson = card.lesson.clone();
    let done = {
        let store = store.clone();
        blocking(move || store.lessons_done().map_err(store_error)).await?
    };
    if !done.iter().any(|d| d.lesson == lesson) {
        return Err(AppError::LessonNotDone(lesson));
    }
    let (rating, detail, feedback) = grade(card, body)?;
    let review = NewReview {
        card: card.id.clone(),
        lesson: card.lesson.clone(),
        rating,
        at: Utc::now(),
        detail,
    };
    let recorded = blocking(move || store.record_review(&review).map_err(store_error)).await?;
    Ok(json_status(
        StatusCode::CREATED,
        &json!({
            "review_id": recorded.review_id,
            "rating": rating.name(),
            "due": recorded.schedule.due.to_rfc3339(),
            "feedback": feedback,
        }),
    ))
}

/// Validates a review against its card and grades it: the rating, what is stored as the review's detail, and
/// the feedback shown to the learner.
fn grade(card: &Card, body: ReviewBody) -> Result<(Rating, Value, Value), AppError> {
    match &card.kind {
        CardKind::Prompt(p) => {
            body.only("prompt", &["hire", "strong", "answer"])?;
            let hire = required(body.hire, "hire", "prompt")?;
            let strong = required(body.strong, "strong", "prompt")?;
            if hire.len() != p.hire.len() || strong.len() != p.strong.len() {
                return Err(AppError::Unprocessable(format!(
                    "this prompt's rubric has {} hire and {} strong-hire points; the review ticks {} and {}",
                    p.hire.len(),
                    p.strong.len(),
                    hire.len(),
                    strong.len()
                )));
            }
            let hire_ticked = hire.iter().filter(|t| **t).count();
            let strong_ticked = strong.iter().filter(|t| **t).count();
            let rating =
                dlf_store::grade_prompt(hire_ticked, hire.len(), strong_ticked, strong.len());
            let detail =
                json!({"kind": "prompt", "hire": hire, "strong": strong, "answer": body.answer});
            let feedback = json!({
                "hire_ticked": hire_ticked, "hire_total": hire.len(),
                "strong_ticked": strong_ticked, "strong_total": strong.len(),
                "answer": body.answer,
            });
            Ok((rating, detail, feedback))
        }
        CardKind::Derive(d) => {
            body.only("derive", &["self_check", "seconds"])?;
            let said = required(body.self_check, "self_check", "derive")?;
            let self_check = match said.as_str() {
                "missed" => SelfCheck::Missed,
                "partly" => SelfCheck::Partly,
                "got" => SelfCheck::Got,
                other => {
                    return Err(AppError::Unprocessable(format!(
                        "self_check must be missed, partly or got, not '{other}'"
                    )))
                }
            };
            let seconds = required(body.seconds, "seconds", "derive")?;
            if !(0.0..=MAX_DERIVE_SECONDS).contains(&seconds) {
                return Err(AppError::Unprocessable(format!(
                    "seconds must be between 0 and {MAX_DERIVE_SECONDS}, not {seconds}"
                )));
            }
            let allowed = f64::from(d.seconds);
            let rating = dlf_store::grade_derive(self_check, seconds, allowed);
            let detail = json!({"kind": "derive", "self_check": said, "seconds": seconds});
            let feedback = json!({
                "self_check": said, "seconds": seconds, "allowed": d.seconds,
                "answer_html": d.answer.as_ref().map(|a| a.html.clone()),
            });
            Ok((rating, detail, feedback))
        }
        CardKind::Estimate(e) => {
            body.only("estimate", &["seed", "value"])?;
            let seed = required(body.seed, "seed", "estimate")?;
            if seed > MAX_SEED {
                return Err(AppError::Unprocessable(format!(
                    "seed must be at most {MAX_SEED}, the largest a page can send exactly"
                )));
            }
            let problem = dlf_engine::estimate::generate(e.generator, seed)
                .map_err(|err| AppError::Store(err.to_string()))?;
            let value = read_value(&required(body.value, "value", "estimate")?, &problem.unit)?;
            if !value.is_finite() {
                return Err(AppError::Unprocessable(
                    "value must be a finite number".to_owned(),
                ));
            }
            let rendered = dlf_content::practice::render_estimate(problem);
            let estimate = &rendered.estimate;
            let verdict = estimate.check(value);
            let rating = dlf_store::grade_estimate(
                verdict.within,
                verdict.rel_error,
                estimate.rel_tolerance,
            );
            let detail = json!({
                "kind": "estimate", "seed": seed, "value": value, "truth": estimate.answer,
                "rel_error": verdict.rel_error, "within": verdict.within,
            });
            let feedback = json!({
                "value": value, "truth": estimate.answer, "unit": estimate.unit,
                "rel_error": verdict.rel_error, "within": verdict.within,
                "rel_tolerance": estimate.rel_tolerance,
                "tolerance_text": dlf_content::practice::tolerance_text(estimate.rel_tolerance),
                "solution_html": rendered.solution_html,
            });
            Ok((rating, detail, feedback))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_split_from_ports() {
        assert_eq!(host_name("127.0.0.1:8000"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8000"), "[::1]");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(host_name("evil.example:80"), "evil.example");
    }
}

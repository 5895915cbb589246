//! The practice API through `app(state).oneshot(...)`, each test on its own store file: grading, the queue,
//! progress, and every way a request is refused, always checking that a refused request changed nothing.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dlf_store::{SelfCheck, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8000";
const ORIGIN: &str = "http://127.0.0.1:8000";

fn site() -> &'static dlf_content::Site {
    static SITE: OnceLock<dlf_content::Site> = OnceLock::new();
    SITE.get_or_init(|| dlf_content::Site::load_embedded().expect("the embedded course validates"))
}

/// A server with a fresh, empty store in its own file.
struct Fixture {
    state: Arc<dlf_server::AppState>,
    store: Arc<Store>,
    path: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

fn fixture(name: &str) -> Fixture {
    let path = std::env::temp_dir().join(format!(
        "dlf-practice-api-{}-{name}.sqlite3",
        std::process::id()
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Arc::new(Store::open(&path).expect("open a fresh store"));
    let state = Arc::new(dlf_server::AppState::with_store(site(), store.clone()));
    Fixture { state, store, path }
}

/// Everything the store holds, to compare before and after a refused request.
fn snapshot(store: &Store) -> String {
    store.export().expect("export the store").to_json()
}

struct Reply {
    status: StatusCode,
    content_type: String,
    json: Value,
}

async fn send(
    state: &Arc<dlf_server::AppState>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("request");
    let (status, content_type, bytes) =
        crate::api::answer(dlf_server::app(state.clone()), request).await;
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        json,
    }
}

/// A read as this server's own page sends it (a same-origin GET carries a Host and no Origin).
async fn get(state: &Arc<dlf_server::AppState>, uri: &str) -> Reply {
    send(state, "GET", uri, &[("host", HOST)], None).await
}

/// A state-changing request as this server's own page sends it.
async fn write(state: &Arc<dlf_server::AppState>, method: &str, uri: &str, body: Value) -> Reply {
    send(
        state,
        method,
        uri,
        &[
            ("host", HOST),
            ("origin", ORIGIN),
            ("content-type", "application/json"),
        ],
        Some(body.to_string()),
    )
    .await
}

async fn mark_done(state: &Arc<dlf_server::AppState>, lesson: &str) {
    let reply = write(
        state,
        "PUT",
        &format!("/api/lessons/{lesson}/done"),
        json!({"done": true}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

fn first_card_of_kind<'a>(
    deck: &'a dlf_content::practice::Deck,
    kind: &str,
) -> &'a dlf_content::practice::Card {
    deck.cards
        .iter()
        .find(|c| c.lesson == "01-backprop" && c.kind.name() == kind)
        .unwrap_or_else(|| panic!("lesson 01 has a {kind} card"))
}

/// A review body sent as raw bytes with the given `Content-Type`, from this server's own page.
async fn raw(state: &Arc<dlf_server::AppState>, body: &str, content_type: &str) -> Reply {
    let headers = [
        ("host", HOST),
        ("origin", ORIGIN),
        ("content-type", content_type),
    ];
    send(
        state,
        "POST",
        "/api/practice/reviews",
        &headers,
        Some(body.to_owned()),
    )
    .await
}

fn error_text(reply: &Reply) -> String {
    reply.json["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn without_a_store_the_api_says_so_and_pages_make_no_request() {
    let state = Arc::new(dlf_server::AppState::new(site()));
    let reply = get(&state, "/api/progress").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        error_text(&reply).contains("progress store"),
        "{}",
        reply.json
    );
    let reply = get(&state, "/api/practice/queue").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);

    // A page of a server without a store is not marked live, so its script never asks the API.
    let response = dlf_server::app(state.clone())
        .oneshot(
            Request::get("/lessons/01-backprop/")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("the router answers");
    let html = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    assert!(!html.contains("data-live"), "no store, no live page");
    assert!(
        html.contains("class=\"lesson-done live-only\""),
        "the control is in the page, hidden"
    );
}

#[tokio::test]
async fn pages_of_a_server_with_a_store_are_live_and_practice_pages_exist() {
    let f = fixture("pages");
    for (uri, needle) in [
        ("/", "class=\"track-progress live-only\""),
        ("/lessons/01-backprop/", "Mark lesson done"),
        ("/practice/", "data-practice"),
        ("/progress/", "data-progress"),
    ] {
        let response = dlf_server::app(f.state.clone())
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("the router answers");
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let html = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes()
                .to_vec(),
        )
        .expect("utf-8");
        assert!(
            html.contains("<html lang=\"en\" data-live=\"\""),
            "{uri} is live"
        );
        assert!(html.contains(needle), "{uri} contains {needle}");
        assert!(html.contains("assets/practice."), "{uri} loads practice.js");
    }
    let reply = get(&f.state, "/practice").await;
    assert_eq!(reply.status, StatusCode::PERMANENT_REDIRECT);
}

#[tokio::test]
async fn marking_a_lesson_done_moves_the_recommendation_and_fills_the_queue() {
    let f = fixture("done");
    let progress = get(&f.state, "/api/progress").await;
    assert_eq!(progress.status, StatusCode::OK);
    assert_eq!(
        progress.json["next"]["id"],
        json!("01-backprop"),
        "the first lesson is recommended first"
    );
    assert_eq!(progress.json["lessons"][0]["done"], json!(false));
    let queue = get(&f.state, "/api/practice/queue").await;
    assert_eq!(
        queue.json["cards"],
        json!([]),
        "nothing is queued before a lesson is done"
    );

    mark_done(&f.state, "01-backprop").await;
    let progress = get(&f.state, "/api/progress").await;
    let lessons = progress.json["lessons"].as_array().expect("lessons");
    assert_eq!(lessons[0]["id"], json!("01-backprop"));
    assert_eq!(lessons[0]["done"], json!(true));
    assert!(lessons[0]["done_at"].is_string());
    let second_written = lessons
        .iter()
        .skip(1)
        .find(|l| l["written"] == json!(true))
        .map(|l| l["id"].clone());
    assert_eq!(
        progress.json["next"]["id"],
        second_written.unwrap_or(Value::Null),
        "the next recommendation is the first written lesson not done"
    );
    let readiness = progress.json["readiness"].as_array().expect("readiness");
    let r01 = readiness
        .iter()
        .find(|r| r["lesson"] == json!("01-backprop"))
        .expect("readiness of lesson 01");
    let deck_01 = f
        .state
        .deck()
        .cards
        .iter()
        .filter(|c| c.lesson == "01-backprop")
        .count();
    assert_eq!(r01["cards"], json!(deck_01));
    assert_eq!(r01["seen"], json!(0));

    let queue = get(&f.state, "/api/practice/queue?limit=100").await;
    assert_eq!(queue.status, StatusCode::OK);
    let cards = queue.json["cards"].as_array().expect("cards");
    assert_eq!(
        cards.len(),
        deck_01,
        "every card of lesson 01 is new and queued"
    );
    assert_eq!(queue.json["new"], json!(deck_01));
    assert_eq!(queue.json["due"], json!(0));
    assert!(cards.iter().all(|c| c["lesson"] == json!("01-backprop")));
    let estimate = cards
        .iter()
        .find(|c| c["kind"] == json!("estimate"))
        .expect("lesson 01 has estimate cards");
    let seed = estimate["estimate"]["seed"].as_u64().expect("a seed");
    assert!(seed <= dlf_server::practice::MAX_SEED);
    assert!(
        estimate["estimate"].get("answer").is_none()
            && estimate["estimate"].get("solution_html").is_none(),
        "the answer is not sent before the learner answers: {estimate}"
    );

    let limited = get(&f.state, "/api/practice/queue?limit=2").await;
    assert_eq!(limited.json["cards"].as_array().map(Vec::len), Some(2));

    // Undo takes the lesson's cards out of the queue again.
    let reply = write(
        &f.state,
        "PUT",
        "/api/lessons/01-backprop/done",
        json!({"done": false}),
    )
    .await;
    assert_eq!(reply.json, json!({"id": "01-backprop", "done": false}));
    let queue = get(&f.state, "/api/practice/queue").await;
    assert_eq!(queue.json["cards"], json!([]));
}

#[tokio::test]
async fn a_prompt_is_graded_from_its_ticks_and_recorded() {
    let f = fixture("prompt");
    mark_done(&f.state, "01-backprop").await;
    let card = first_card_of_kind(f.state.deck(), "prompt");
    let dlf_content::practice::CardKind::Prompt(prompt) = &card.kind else {
        unreachable!("first_card_of_kind returned a prompt")
    };
    let (h, s) = (prompt.hire.len(), prompt.strong.len());
    // Every hire point and no strong point: the store's rule says what that earns.
    let hire = vec![true; h];
    let strong = vec![false; s];
    let answer = "<script>alert('x')</script> chain rule, then softmax minus one-hot";
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": card.id, "hire": hire, "strong": strong, "answer": answer}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let expected = dlf_store::grade_prompt(h, h, 0, s);
    assert_eq!(reply.json["rating"], json!(expected.name()));
    assert_eq!(reply.json["feedback"]["hire_ticked"], json!(h));
    assert_eq!(reply.json["feedback"]["strong_ticked"], json!(0));
    // The typed answer travels back as a JSON string in a JSON response, never as HTML.
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(reply.json["feedback"]["answer"], json!(answer));
    let due = reply.json["due"].as_str().expect("a due date");
    let due = dlf_store::chrono::DateTime::parse_from_rfc3339(due).expect("RFC 3339");
    assert!(
        due > dlf_store::chrono::Utc::now(),
        "the card is due in the future"
    );

    let reviews = f.store.reviews(&card.id).expect("reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(
        reviews[0].id,
        reply.json["review_id"].as_str().unwrap_or_default()
    );
    assert_eq!(reviews[0].detail["answer"], json!(answer));
    assert_eq!(reviews[0].detail["hire"], json!(vec![true; h]));

    // Progress lists the reviewed card with its due date.
    let progress = get(&f.state, "/api/progress").await;
    let reviewed = progress.json["reviewed"].as_array().expect("reviewed");
    assert_eq!(reviewed.len(), 1);
    assert_eq!(reviewed[0]["id"], json!(card.id));
    assert_eq!(reviewed[0]["last_rating"], json!(expected.name()));
    assert!(reviewed[0]["due"].is_string());

    // When the card comes back, it carries the last answer (as a JSON string, for the page to show as text).
    let again = get(&f.state, &format!("/api/practice/cards/{}", card.id)).await;
    assert_eq!(again.json["last"]["answer"], json!(answer));
    assert_eq!(again.json["last"]["rating"], json!(expected.name()));
    assert_eq!(again.json["reviews"], json!(1));

    // Ticking nothing earns the lowest grade the rule gives.
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": card.id, "hire": vec![false; h], "strong": vec![false; s]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.json["rating"],
        json!(dlf_store::grade_prompt(0, h, 0, s).name())
    );
}

#[tokio::test]
async fn a_derive_drill_is_graded_from_the_self_check_and_the_time() {
    let f = fixture("derive");
    let card = first_card_of_kind(f.state.deck(), "derive");
    let dlf_content::practice::CardKind::Derive(derive) = &card.kind else {
        unreachable!("first_card_of_kind returned a derive card")
    };
    // Practice follows the lessons: before its lesson is marked done, a card's review is refused (409) and
    // nothing is recorded.
    let early = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": card.id, "self_check": "got", "seconds": 10}),
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.json);
    assert!(
        error_text(&early).contains("not marked done"),
        "{}",
        early.json
    );
    assert!(f.store.reviews(&card.id).expect("reviews").is_empty());
    mark_done(&f.state, "01-backprop").await;
    let allowed = f64::from(derive.seconds);
    for (said, check, seconds) in [
        ("got", SelfCheck::Got, 0.25 * allowed),
        ("got", SelfCheck::Got, 2.0 * allowed),
        ("partly", SelfCheck::Partly, 10.0),
        ("missed", SelfCheck::Missed, 10.0),
    ] {
        let reply = write(
            &f.state,
            "POST",
            "/api/practice/reviews",
            json!({"card": card.id, "self_check": said, "seconds": seconds}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        let expected = dlf_store::grade_derive(check, seconds, allowed);
        assert_eq!(
            reply.json["rating"],
            json!(expected.name()),
            "{said} in {seconds} s"
        );
    }
    assert_eq!(f.store.reviews(&card.id).expect("reviews").len(), 4);
}

#[tokio::test]
async fn an_estimate_is_regenerated_from_its_seed_and_graded_against_the_engine() {
    let f = fixture("estimate");
    mark_done(&f.state, "01-backprop").await;
    let card = first_card_of_kind(f.state.deck(), "estimate");
    let fetched = get(&f.state, &format!("/api/practice/cards/{}", card.id)).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.json);
    let seed = fetched.json["estimate"]["seed"]
        .as_u64()
        .expect("a fresh seed");
    let generator = fetched.json["estimate"]["generator"]
        .as_str()
        .expect("generator")
        .to_owned();
    let truth = dlf_engine::estimate::generate(&generator, seed)
        .expect("the generator exists")
        .answer;

    // The exact answer, written as a learner types it in exponent form.
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": card.id, "seed": seed, "value": format!("{truth:e}")}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    let feedback = &reply.json["feedback"];
    assert_eq!(feedback["within"], json!(true));
    assert!(feedback["rel_error"].as_f64().unwrap_or(1.0) <= 1e-12);
    assert!((feedback["truth"].as_f64().unwrap_or(0.0) - truth).abs() <= 1e-12 * truth.abs());
    assert!(feedback["solution_html"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));

    // Twice the truth is 100 % off: outside any tolerance an interviewer accepts.
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": card.id, "seed": seed, "value": 2.0 * truth}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json["feedback"]["within"], json!(false));
    assert_eq!(reply.json["rating"], json!("again"));
    let rel = reply.json["feedback"]["rel_error"].as_f64().unwrap_or(0.0);
    assert!((rel - 1.0).abs() <= 1e-12, "|2t - t| / t = 1, got {rel}");
    let reviews = f.store.reviews(&card.id).expect("reviews");
    assert_eq!(reviews.len(), 2);
    assert_eq!(reviews[1].detail["seed"], json!(seed));
}

#[tokio::test]
async fn an_estimate_reads_whiteboard_notation_and_refuses_a_suffix_on_a_prefixed_unit() {
    let f = fixture("estimate-notation");
    mark_done(&f.state, "01-backprop").await;
    // The activation-memory problem is asked in MiB, a unit with a prefix of its own.
    let id = "01-backprop/estimate/backprop.activation_memory";
    let fetched = get(&f.state, &format!("/api/practice/cards/{id}")).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.json);
    assert_eq!(fetched.json["estimate"]["unit"], json!("MiB"));
    let seed = fetched.json["estimate"]["seed"]
        .as_u64()
        .expect("a fresh seed");
    let truth = dlf_engine::estimate::generate("backprop.activation_memory", seed)
        .expect("the generator exists")
        .answer;

    // "7.3M" on a MiB question most likely means 7.3 MiB: refused with a message, and nothing recorded.
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": id, "seed": seed, "value": "7.3M"}),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.json
    );
    let message = reply.json["error"].as_str().unwrap_or_default();
    assert!(message.contains("already asked in MiB"), "{message}");
    assert!(f.store.reviews(id).expect("reviews").is_empty());

    // The truth written as on a whiteboard, mantissa × 10^exponent, is read and graded within tolerance.
    let exponent = truth.abs().log10().floor();
    let mantissa = truth / 10f64.powf(exponent);
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": id, "seed": seed, "value": format!("{mantissa:.6} × 10^{exponent}")}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    assert_eq!(
        reply.json["feedback"]["within"],
        json!(true),
        "{}",
        reply.json
    );
}

/// Issue 14: one sitting of quick answers to one derive card (misses, then "got it") once drove its FSRS
/// stability to 0 and every later review to a 500. All 88 are accepted now.
#[tokio::test]
async fn eighty_eight_quick_reviews_of_one_card_are_all_accepted() {
    let f = fixture("quick");
    mark_done(&f.state, "01-backprop").await;
    let card = first_card_of_kind(f.state.deck(), "derive");
    let mut said = vec!["missed"; 60];
    said.extend(["got", "missed", "got", "got"]);
    said.extend((0..24).map(|i| ["missed", "partly", "got"][i % 3]));
    for (i, self_check) in said.iter().enumerate() {
        let reply = write(
            &f.state,
            "POST",
            "/api/practice/reviews",
            json!({"card": card.id, "self_check": self_check, "seconds": 5}),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "review {i}: {}",
            reply.json
        );
    }
    let schedule = f
        .store
        .schedule(&card.id)
        .expect("read")
        .expect("a schedule");
    assert_eq!(schedule.reps, 88);
    assert!(
        schedule.stability >= dlf_store::STABILITY_MIN,
        "{schedule:?}"
    );
}

/// A number too small or too large to represent is refused with a reason, whether sent as a JSON number or
/// as the text typed; nothing is recorded.
#[tokio::test]
async fn estimates_out_of_range_are_refused_with_a_reason() {
    let f = fixture("estimate-range");
    mark_done(&f.state, "01-backprop").await;
    let card = first_card_of_kind(f.state.deck(), "estimate");
    let before = snapshot(&f.store);
    for (value, word) in [
        ("1e-99999", "too small"),
        ("-1e-400", "too small"),
        ("\"1e-99999\"", "too small"),
        ("\"10^-400\"", "too small"),
        ("\"3 × 10^-320\"", "too small"),
        ("1e400", "too large"),
        ("\"10^400\"", "too large"),
        ("\"1e400\"", "too large"),
        ("true", "must be a number"),
        ("[1]", "must be a number"),
    ] {
        let body = format!(r#"{{"card": "{}", "seed": 7, "value": {value}}}"#, card.id);
        let reply = raw(&f.state, &body, "application/json").await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{value}: {}",
            reply.json
        );
        assert!(error_text(&reply).contains(word), "{value}: {}", reply.json);
    }
    assert_eq!(snapshot(&f.store), before);
    // The ordinary forms still work, as a JSON number and as text.
    for value in ["12.5", "\"12.5\"", "0"] {
        let body = format!(r#"{{"card": "{}", "seed": 7, "value": {value}}}"#, card.id);
        let reply = raw(&f.state, &body, "application/json").await;
        assert_eq!(reply.status, StatusCode::CREATED, "{value}: {}", reply.json);
    }
}

/// When the store fails, the page gets a generic 500 with a reference and never the progress file's path;
/// the detail goes to the server's log.
#[tokio::test]
async fn an_internal_error_does_not_show_the_progress_file() {
    let f = fixture("internal");
    mark_done(&f.state, "01-backprop").await;
    // Break the file behind the store's back: the next review cannot be written.
    break_schedules(&f.path);
    let card = first_card_of_kind(f.state.deck(), "derive");
    let reply = write(
        &f.state,
        "POST",
        "/api/practice/reviews",
        json!({"card": card.id, "self_check": "got", "seconds": 5}),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.json
    );
    let message = error_text(&reply);
    assert!(message.contains("internal error"), "{message}");
    let path = f.path.display().to_string();
    assert!(!message.contains(&path), "{message}");
    assert!(!message.contains("sqlite"), "{message}");
    assert!(!message.contains("/tmp"), "{message}");
}

/// Makes the store's next review fail: another connection drops the table of schedules, so the review's
/// transaction cannot write the card's schedule (and rolls back).
fn break_schedules(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).expect("open the file");
    conn.execute_batch("DROP TABLE schedules")
        .expect("drop a table");
}

#[tokio::test]
async fn foreign_origins_and_foreign_hosts_are_refused_and_change_nothing() {
    let f = fixture("origin");
    let before = snapshot(&f.store);
    let done = json!({"done": true}).to_string();
    let refused = [
        // Another site open in the same browser posts to the learner's server.
        vec![
            ("host", HOST),
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ],
        // Same host name, another port: another origin.
        vec![
            ("host", HOST),
            ("origin", "http://127.0.0.1:9999"),
            ("content-type", "application/json"),
        ],
        // A sandboxed frame or a privacy-stripped request.
        vec![
            ("host", HOST),
            ("origin", "null"),
            ("content-type", "application/json"),
        ],
        // DNS rebinding: a foreign name resolving to 127.0.0.1, with no Origin (or its own).
        vec![
            ("host", "evil.example:8000"),
            ("content-type", "application/json"),
        ],
        vec![
            ("host", "evil.example:8000"),
            ("origin", "http://evil.example:8000"),
            ("content-type", "application/json"),
        ],
        // No Host at all.
        vec![("content-type", "application/json")],
        // Two Origins, the first this server's own: only checking the first would let the second through.
        vec![
            ("host", HOST),
            ("origin", ORIGIN),
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ],
        // Two Origins, both this server's own: still not a request a browser sends.
        vec![
            ("host", HOST),
            ("origin", ORIGIN),
            ("origin", ORIGIN),
            ("content-type", "application/json"),
        ],
        // Two Hosts.
        vec![
            ("host", HOST),
            ("host", "evil.example:8000"),
            ("content-type", "application/json"),
        ],
    ];
    for headers in &refused {
        let reply = send(
            &f.state,
            "PUT",
            "/api/lessons/01-backprop/done",
            headers,
            Some(done.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(error_text(&reply).starts_with("refused"), "{}", reply.json);
        let card = first_card_of_kind(f.state.deck(), "derive");
        let review = json!({"card": card.id, "self_check": "got", "seconds": 5}).to_string();
        let reply = send(
            &f.state,
            "POST",
            "/api/practice/reviews",
            headers,
            Some(review),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(
        snapshot(&f.store),
        before,
        "no refused request wrote anything"
    );

    // The learner's data is not readable through a rebound name or by another site either.
    for headers in [
        vec![("host", "evil.example:8000")],
        vec![("host", HOST), ("origin", "https://evil.example")],
        vec![],
    ] {
        for uri in ["/api/progress", "/api/practice/queue"] {
            let reply = send(&f.state, "GET", uri, &headers, None).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri} {headers:?}");
        }
    }
    // Course pages and the widget API stay public.
    let reply = send(
        &f.state,
        "GET",
        "/api/widgets",
        &[("host", "evil.example:8000")],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);

    // Every local name is this machine; without an Origin (curl, the terminal) a local Host is enough.
    for headers in [
        vec![
            ("host", "localhost:8000"),
            ("origin", "http://localhost:8000"),
            ("content-type", "application/json"),
        ],
        vec![
            ("host", "[::1]:8000"),
            ("origin", "http://[::1]:8000"),
            ("content-type", "application/json"),
        ],
        vec![("host", HOST), ("content-type", "application/json")],
    ] {
        let reply = send(
            &f.state,
            "PUT",
            "/api/lessons/01-backprop/done",
            &headers,
            Some(done.clone()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}: {}", reply.json);
    }

    // A server bound to another address accepts that address when told to.
    let lan = Arc::new(
        dlf_server::AppState::with_store(site(), f.store.clone()).allow_host("192.168.1.20:8000"),
    );
    let headers = [
        ("host", "192.168.1.20:8000"),
        ("origin", "http://192.168.1.20:8000"),
        ("content-type", "application/json"),
    ];
    let reply = send(
        &lan,
        "PUT",
        "/api/lessons/01-backprop/done",
        &headers,
        Some(done.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

#[tokio::test]
async fn bad_requests_get_a_clear_message_and_change_nothing() {
    let f = fixture("bad");
    mark_done(&f.state, "01-backprop").await;
    let before = snapshot(&f.store);
    let prompt = first_card_of_kind(f.state.deck(), "prompt");
    let derive = first_card_of_kind(f.state.deck(), "derive");
    let estimate = first_card_of_kind(f.state.deck(), "estimate");
    let dlf_content::practice::CardKind::Prompt(p) = &prompt.kind else {
        unreachable!("a prompt card")
    };
    let hire = vec![true; p.hire.len()];
    let strong = vec![true; p.strong.len()];

    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"card": "01-backprop/prompt/no-such", "hire": [], "strong": []}),
            StatusCode::NOT_FOUND,
            "unknown card",
        ),
        (
            json!({"card": prompt.id, "hire": hire, "strong": strong, "self_check": "got"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'self_check' does not belong",
        ),
        (
            json!({"card": prompt.id, "hire": [true], "strong": strong}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rubric has",
        ),
        (
            json!({"card": prompt.id, "strong": strong}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs 'hire'",
        ),
        (
            json!({"card": prompt.id, "hire": hire, "strong": strong, "rating": "easy"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `rating`",
        ),
        (
            json!({"card": prompt.id, "hire": "all", "strong": strong}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "does not fit",
        ),
        (
            json!({"card": derive.id, "self_check": "maybe", "seconds": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missed, partly or got",
        ),
        (
            json!({"card": derive.id, "self_check": "got", "seconds": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "seconds must be",
        ),
        (
            json!({"card": derive.id, "self_check": "got", "seconds": 1e9}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "seconds must be",
        ),
        (
            json!({"card": derive.id, "self_check": "got"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs 'seconds'",
        ),
        (
            json!({"card": estimate.id, "seed": 7, "value": "three billion"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "could not read",
        ),
        (
            json!({"card": estimate.id, "seed": 7, "value": "3,5"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "groups of three digits",
        ),
        (
            json!({"card": estimate.id, "seed": u64::MAX, "value": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "seed must be at most",
        ),
        (
            json!({"card": estimate.id, "seed": -3, "value": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "does not fit",
        ),
        (
            json!({"card": estimate.id, "value": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs 'seed'",
        ),
    ];
    for (body, status, message) in cases {
        let reply = write(&f.state, "POST", "/api/practice/reviews", body.clone()).await;
        assert_eq!(reply.status, status, "{body} → {}", reply.json);
        assert!(
            error_text(&reply).contains(message),
            "{body}: expected '{message}' in {}",
            reply.json
        );
    }

    let reply = raw(&f.state, "{\"card\": ", "application/json").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        error_text(&reply).contains("not valid JSON"),
        "{}",
        reply.json
    );
    let reply = raw(&f.state, "card=x", "application/x-www-form-urlencoded").await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(error_text(&reply).contains("application/json"));
    // Over 16 KiB: refused before it is parsed, whatever it holds.
    let long = format!(
        "{{\"card\": \"{}\", \"hire\": [], \"strong\": [], \"answer\": \"{}\"}}",
        prompt.id,
        "x".repeat(dlf_server::practice::BODY_LIMIT)
    );
    let reply = raw(&f.state, &long, "application/json").await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_text(&reply).contains("16384"), "{}", reply.json);

    // Lessons: unknown, and in the track but not written (while the course has one).
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let unwritten: Vec<String> = site
        .entries()
        .filter(|(_, lesson)| lesson.is_none())
        .map(|(entry, _)| entry.id.clone())
        .take(1)
        .collect();
    for lesson in std::iter::once("99-nothing").chain(unwritten.iter().map(String::as_str)) {
        let reply = write(
            &f.state,
            "PUT",
            &format!("/api/lessons/{lesson}/done"),
            json!({"done": true}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{lesson}");
        assert!(error_text(&reply).contains(lesson));
    }
    let reply = write(
        &f.state,
        "PUT",
        "/api/lessons/01-backprop/done",
        json!({"done": "yes"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Reads with bad parameters.
    let reply = get(&f.state, "/api/practice/cards/01-backprop/prompt/no-such").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(error_text(&reply).contains("01-backprop/prompt/no-such"));
    for query in ["limit=0", "limit=abc", "limit=100000", "bogus=1"] {
        let reply = get(&f.state, &format!("/api/practice/queue?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
    }

    assert_eq!(
        snapshot(&f.store),
        before,
        "no rejected request changed the store"
    );
}

#[test]
fn the_static_export_has_no_practice_pages_and_no_live_controls() {
    let dir = std::env::temp_dir().join(format!("dlf-export-practice-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dlf_server::export::write(site(), &dir).expect("export the course");
    assert!(
        !dir.join("practice").exists(),
        "practice needs a server: not exported"
    );
    assert!(
        !dir.join("progress").exists(),
        "progress needs a server: not exported"
    );
    let lesson = std::fs::read_to_string(dir.join("lessons/01-backprop/index.html"))
        .expect("lesson 01 is exported");
    assert!(
        !lesson.contains("data-live"),
        "an exported page never asks the progress API"
    );
    assert!(
        lesson.contains(
            r#"<section class="lesson-done live-only" aria-label="Your progress" hidden>"#
        ),
        "the mark-done control is hidden in the export"
    );
    let css = std::fs::read_to_string(
        dir.join("assets")
            .join(dlf_server::bundle::asset_path("style.css").expect("the stylesheet is an asset")),
    )
    .expect("the stylesheet is exported");
    assert!(css.contains("html:not([data-live]) .live-only { display: none !important; }"));
    let _ = std::fs::remove_dir_all(&dir);
}

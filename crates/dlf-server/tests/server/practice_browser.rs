//! One full practice round in headless Chromium, as a learner does it: mark lesson 01 done with its button,
//! see the track page recommend the next lesson, practise a derivation drill, an interview prompt and an
//! estimation problem on /practice/, then find the reviews and their due dates on /progress/, with no console
//! error. The store is a real SQLite file; what the page shows is checked against what the store recorded.

use std::sync::Arc;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{
    connect, finish_without_console_errors, js, serve_app, start_driver, wait_for,
};

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("find {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn text(client: &Client, css: &str) -> String {
    js(
        client,
        &format!("const e = document.querySelector({css:?}); return e ? e.textContent : null;"),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// The id of the card on screen, once it is shown.
async fn current_card(client: &Client, seen: usize) -> (String, String) {
    wait_for(
        client,
        &format!("document.querySelector('.practice-card .card') && document.querySelector('.practice-card .card .meta').textContent.includes('card {} of')", seen + 1),
        "the next card",
    )
    .await;
    let v = js(
        client,
        "const c = document.querySelector('.practice-card .card'); return [c.dataset.card, c.className];",
    )
    .await;
    let id = v[0].as_str().unwrap_or_default().to_owned();
    let kind = v[1]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("card card-")
        .to_owned();
    (id, kind)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_full_practice_round_in_the_browser() {
    let path = std::env::temp_dir().join(format!(
        "dlf-practice-browser-{}.sqlite3",
        std::process::id()
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Arc::new(dlf_store::Store::open(&path).expect("open a fresh store"));
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let state = Arc::new(dlf_server::AppState::with_store(&site, store.clone()));
    let addr = serve_app(dlf_server::app(state.clone())).await;
    let driver = start_driver();
    let client = connect(&driver).await;

    // 1. Mark lesson 01 done with its button.
    client
        .goto(&format!("http://{addr}/lessons/01-backprop/"))
        .await
        .expect("open lesson 01");
    wait_for(
        &client,
        "document.querySelector('.lesson-done:not([hidden])')",
        "the mark-done control",
    )
    .await;
    assert_eq!(
        text(&client, ".lesson-done .mark-done").await,
        "Mark lesson done"
    );
    click(&client, ".lesson-done .mark-done").await;
    wait_for(
        &client,
        "document.querySelector('.lesson-done.is-done')",
        "the lesson to be marked done",
    )
    .await;
    // The button now names the way back, and it keeps the keyboard focus while the mark is saved, so a
    // keyboard user does not lose their place.
    assert_eq!(
        text(&client, ".lesson-done .mark-done").await,
        "Mark as not done"
    );
    assert_eq!(
        js(
            &client,
            "return document.activeElement === document.querySelector('.lesson-done .mark-done');"
        )
        .await,
        json!(true),
        "the mark-done button keeps the focus"
    );
    let done = store.lessons_done().expect("lessons done");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].lesson, "01-backprop");

    // 2. The track page marks it done and recommends the next written lesson.
    client
        .goto(&format!("http://{addr}/"))
        .await
        .expect("open the track");
    wait_for(
        &client,
        "document.querySelector('.track-progress:not([hidden])')",
        "the progress line",
    )
    .await;
    let marked = js(
        &client,
        "return !!document.querySelector(\"li.done[data-lesson='01-backprop'] .done-tag\");",
    )
    .await;
    assert_eq!(marked, json!(true), "lesson 01 shows its done mark");
    let line = text(&client, ".track-progress").await;
    assert!(
        line.contains("Recommended next") || line.contains("Every written lesson"),
        "{line}"
    );

    // 3. Practice: answer cards until a drill, a prompt and an estimate have each been done.
    client
        .goto(&format!("http://{addr}/practice/"))
        .await
        .expect("open practice");
    let (mut did_derive, mut did_prompt, mut did_estimate) = (false, false, false);
    let mut seen = 0;
    while !(did_derive && did_prompt && did_estimate) {
        let (card_id, kind) = current_card(&client, seen).await;
        let card = state
            .deck()
            .card(&card_id)
            .expect("a card of the deck")
            .clone();
        match kind.as_str() {
            "derive" => {
                let timer = text(&client, ".drill-timer").await;
                assert!(timer.contains(':'), "a visible countdown: {timer}");
                wait_for(
                    &client,
                    &format!("document.querySelector('.drill-timer').textContent !== {timer:?}"),
                    "the countdown to tick",
                )
                .await;
                let hidden = js(
                    &client,
                    "return document.querySelectorAll('.drill-step[hidden]').length;",
                )
                .await;
                assert!(hidden.as_u64().unwrap_or(0) >= 2, "steps start hidden");
                click(&client, ".next-step").await;
                let shown = js(
                    &client,
                    "return document.querySelectorAll('.drill-step:not([hidden])').length;",
                )
                .await;
                assert_eq!(shown, json!(1), "one click reveals one step");
                click(&client, ".next-step").await;
                let shown = js(
                    &client,
                    "return document.querySelectorAll('.drill-step:not([hidden])').length;",
                )
                .await;
                assert_eq!(shown, json!(2));
                click(&client, ".self-check [data-check=partly]").await;
                wait_for(
                    &client,
                    "document.querySelector('.card-feedback')",
                    "the drill's grade",
                )
                .await;
                // The learner's own choice stays marked among the disabled buttons.
                assert_eq!(
                    text(&client, ".self-check .chosen").await,
                    "Partly",
                    "the chosen self-check is marked"
                );
                let expected = dlf_store::grade_derive(dlf_store::SelfCheck::Partly, 1.0, 60.0);
                let grade = text(&client, ".card-feedback .grade strong").await;
                assert!(
                    grade.starts_with(expected.name()),
                    "{grade} vs {}",
                    expected.name()
                );
                did_derive = true;
            }
            "prompt" => {
                let dlf_content::practice::CardKind::Prompt(p) = &card.kind else {
                    panic!("{card_id} is shown as a prompt")
                };
                let typed =
                    "<script>window.pwned = 1</script> the gradient is softmax minus one-hot";
                client
                    .find(Locator::Css(".prompt-answer"))
                    .await
                    .expect("an answer box")
                    .send_keys(typed)
                    .await
                    .expect("type an answer");
                click(&client, ".reveal").await;
                wait_for(
                    &client,
                    "document.querySelector('.rubric:not([hidden])')",
                    "the rubric",
                )
                .await;
                // What the learner typed comes back as text: visible, inert.
                assert_eq!(text(&client, ".your-answer").await, typed);
                let inert = js(&client, "return document.querySelectorAll('.practice-card script').length === 0 && window.pwned === undefined;").await;
                assert_eq!(
                    inert,
                    json!(true),
                    "the typed <script> is not run or inserted"
                );
                // Tick the first hire point with its number key (focus is on it), the second with the mouse.
                let focused = js(&client, "return document.activeElement.name + ':' + document.activeElement.dataset.key;").await;
                assert_eq!(
                    focused,
                    json!("hire:1"),
                    "revealing the rubric focuses its first point"
                );
                client
                    .active_element()
                    .await
                    .expect("the focused checkbox")
                    .send_keys("1")
                    .await
                    .expect("press 1");
                click(&client, ".rubric .points.hire .point:nth-of-type(2) label").await;
                let ticks = js(&client, "return [...document.querySelectorAll('.rubric input[name=hire]')].map(b => b.checked);").await;
                let mut expected_ticks = vec![false; p.hire.len()];
                expected_ticks[0] = true;
                expected_ticks[1] = true;
                assert_eq!(ticks, json!(expected_ticks));
                click(&client, ".rubric .submit").await;
                wait_for(
                    &client,
                    "document.querySelector('.card-feedback')",
                    "the prompt's grade",
                )
                .await;
                let expected = dlf_store::grade_prompt(2, p.hire.len(), 0, p.strong.len());
                let grade = text(&client, ".card-feedback .grade strong").await;
                assert!(
                    grade.starts_with(expected.name()),
                    "{grade} vs {}",
                    expected.name()
                );
                let reviews = store.reviews(&card_id).expect("reviews");
                assert_eq!(reviews.len(), 1);
                assert_eq!(reviews[0].rating, expected);
                assert_eq!(reviews[0].detail["answer"], json!(typed));
                did_prompt = true;
            }
            "estimate" => {
                client
                    .find(Locator::Css(".estimate-value"))
                    .await
                    .expect("a number input")
                    // Written as on a whiteboard; the server reads it as the terminal drill does.
                    .send_keys("3 × 10^6")
                    .await
                    .expect("type an estimate");
                click(&client, ".estimate-form .submit").await;
                wait_for(
                    &client,
                    "document.querySelector('.card-feedback')",
                    "the estimate's verdict",
                )
                .await;
                assert!(
                    !text(&client, ".card-feedback .truth").await.is_empty(),
                    "the truth is shown"
                );
                let steps = js(
                    &client,
                    "return document.querySelectorAll('.card-feedback .solution li').length;",
                )
                .await;
                assert!(
                    steps.as_u64().unwrap_or(0) >= 1,
                    "the worked solution is shown"
                );
                // The server graded 3 × 10^6 against the engine's answer for the seed it had handed out.
                let reviews = store.reviews(&card_id).expect("reviews");
                assert_eq!(reviews.len(), 1);
                assert_eq!(reviews[0].detail["value"], json!(3_000_000.0));
                let dlf_content::practice::CardKind::Estimate(e) = &card.kind else {
                    panic!("{card_id} is shown as an estimate")
                };
                let seed = reviews[0].detail["seed"].as_u64().expect("the seed");
                let truth = dlf_engine::estimate::generate(e.generator, seed)
                    .expect("generator")
                    .answer;
                assert_eq!(reviews[0].detail["truth"], json!(truth));
                did_estimate = true;
            }
            other => panic!("unknown card kind {other}"),
        }
        let next_due = text(&client, ".card-feedback .next-due").await;
        assert!(!next_due.is_empty(), "the next due date is shown");
        let focused = js(&client, "return document.activeElement.className;").await;
        assert_eq!(
            focused,
            json!("next-card"),
            "focus moves to the next-card button"
        );
        // The keyboard moves on as well as the mouse: Enter on the focused button, every other card.
        if seen % 2 == 0 {
            client
                .active_element()
                .await
                .expect("the focused button")
                .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
                .await
                .expect("press Enter");
        } else {
            click(&client, ".next-card").await;
        }
        seen += 1;
    }

    eprintln!("practice round: {seen} cards answered in the browser");

    // 4. The progress page lists what was reviewed, with due dates, and the readiness of lesson 01.
    client
        .goto(&format!("http://{addr}/progress/"))
        .await
        .expect("open progress");
    wait_for(
        &client,
        "document.querySelector('.reviewed-table')",
        "the reviewed cards",
    )
    .await;
    let rows = js(
        &client,
        "return document.querySelectorAll('.reviewed-table tbody tr').length;",
    )
    .await;
    assert_eq!(rows, json!(seen), "every reviewed card is listed");
    let due = text(&client, ".reviewed-table tbody tr .due").await;
    assert!(!due.is_empty(), "a due date is shown");
    let seen_cell = text(
        &client,
        ".readiness-table tr[data-lesson='01-backprop'] td:nth-of-type(3)",
    )
    .await;
    assert_eq!(
        seen_cell,
        seen.to_string(),
        "readiness counts the cards seen"
    );

    // 5. Undo the lesson: its cards leave the queue, and the practice page says why it is empty.
    client
        .goto(&format!("http://{addr}/lessons/01-backprop/"))
        .await
        .expect("open lesson 01 again");
    wait_for(
        &client,
        "document.querySelector('.lesson-done.is-done:not([hidden])')",
        "the lesson shown as done",
    )
    .await;
    click(&client, ".lesson-done .mark-done").await;
    wait_for(
        &client,
        "!document.querySelector('.lesson-done').classList.contains('is-done')",
        "the lesson to be marked not done",
    )
    .await;
    assert!(store.lessons_done().expect("lessons done").is_empty());
    client
        .goto(&format!("http://{addr}/practice/"))
        .await
        .expect("open practice again");
    wait_for(
        &client,
        "document.querySelector('.practice-status').textContent.includes('Nothing to practise yet')",
        "the empty queue explained",
    )
    .await;
    let cards = js(
        &client,
        "return document.querySelectorAll('.practice-card .card').length;",
    )
    .await;
    assert_eq!(cards, json!(0), "no card is offered from an undone lesson");

    finish_without_console_errors(client).await;
    drop(driver);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

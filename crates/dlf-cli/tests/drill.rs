//! `dlf drill` driven through a pseudo-terminal, as a learner would use it: mark a lesson done, answer every
//! kind of card (including a wrong tick, a garbage number and a wrong self-check letter), quit with `q`, then
//! start again and leave with Ctrl-D; the progress file must hold exactly the answers that were acknowledged.

use std::path::{Path, PathBuf};
use std::process::Command;

use dlf_content::practice::{CardKind, Deck};
use dlf_store::{grade_prompt, Rating, Store};
use rexpect::process::wait::WaitStatus;
use rexpect::session::PtySession;

/// Every expectation waits at most this long; the binary answers in milliseconds, but CI machines are busy.
const TIMEOUT_MS: u64 = 60_000;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlf-drill-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

fn drill(data: &Path, extra: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dlf"));
    cmd.arg("drill")
        .arg("--data")
        .arg(data)
        .args(extra)
        .env("NO_COLOR", "1");
    rexpect::session::spawn_command(cmd, Some(TIMEOUT_MS)).expect("start dlf drill in a pty")
}

fn finish(mut session: PtySession) -> String {
    let rest = session.exp_eof().expect("dlf drill exits");
    match session.process().wait().expect("wait for dlf drill") {
        WaitStatus::Exited(_, 0) => rest,
        other => panic!("dlf drill ended with {other:?}; last output:\n{rest}"),
    }
}

#[test]
fn without_a_lesson_done_drill_says_how_to_start() {
    let dir = scratch("empty");
    let mut session = drill(&dir.join("p.sqlite3"), &[]);
    session
        .exp_string("No lesson is marked done yet")
        .expect("the empty-queue message");
    session
        .exp_string("dlf progress done 01-backprop")
        .expect("the command to run");
    finish(session);
}

#[test]
fn a_full_session_through_a_pty() {
    let dir = scratch("session");
    let data = dir.join("p.sqlite3");
    let lesson = "01-backprop";
    let marked = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .args(["progress", "done", lesson, "--data"])
        .arg(&data)
        .output()
        .expect("run dlf progress done");
    assert!(marked.status.success(), "{marked:?}");

    let site = dlf_content::Site::load_embedded().expect("the embedded course loads");
    let deck = Deck::from_site(&site);
    let cards: Vec<_> = deck.lesson_cards(lesson).collect();
    let n = cards.len();
    let kinds: Vec<&str> = cards.iter().map(|c| c.kind.name()).collect();
    for kind in ["derive", "prompt", "estimate"] {
        assert!(
            kinds.contains(&kind),
            "lesson 01 has a {kind} card: {kinds:?}"
        );
    }

    let seed = 4242u64;
    let mut session = drill(
        &data,
        &["--lesson", lesson, "--limit", "100", "--seed", "4242"],
    );
    session
        .exp_string(&format!("{n} cards: 0 due, {n} new"))
        .expect("the session header");

    // What each answered card should have stored: (card id, rating).
    let mut expected: Vec<(String, Rating)> = Vec::new();
    let (mut derives, mut prompts, mut estimates) = (0, 0, 0u64);
    for (i, card) in cards.iter().enumerate() {
        session
            .exp_string(&format!("[{}/{n}] {}", i + 1, card.id))
            .expect("the card header");
        if i + 1 == n {
            // The last card is left with q at its first prompt: nothing is recorded for it.
            session.exp_string("> ").expect("the first prompt");
            session.send_line("q").unwrap();
            break;
        }
        let rating = match &card.kind {
            CardKind::Derive(derive) => {
                session
                    .exp_string("The clock stops when you press Enter")
                    .unwrap();
                session.send_line("").unwrap();
                for _ in 1..derive.steps.len() {
                    session.exp_string("(Enter for the next step)").unwrap();
                    session.send_line("").unwrap();
                }
                session.exp_string("Did you get it?").unwrap();
                if derives == 0 {
                    session.send_line("yes").unwrap();
                    session.exp_string("Type g, p or m.").unwrap();
                    session.exp_string("Did you get it?").unwrap();
                }
                derives += 1;
                // The first drill is "got it" within seconds of a 60-90 s budget (Easy by grade_derive), the
                // others "partly" (Hard).
                if derives == 1 {
                    session.send_line("g").unwrap();
                    Rating::Easy
                } else {
                    session.send_line("p").unwrap();
                    Rating::Hard
                }
            }
            CardKind::Prompt(prompt) => {
                session.exp_string("press Enter to see the rubric").unwrap();
                session.send_line("softmax minus one-hot, over B").unwrap();
                session.exp_string("Which points did you cover?").unwrap();
                if prompts == 0 {
                    session.send_line("99").unwrap();
                    session.exp_string("is not a point number").unwrap();
                }
                prompts += 1;
                // Tick every hire point and the first strong point.
                let hire = prompt.hire.len();
                let ticks: Vec<String> = (1..=hire + 1).map(|k| k.to_string()).collect();
                session.send_line(&ticks.join(" ")).unwrap();
                session
                    .exp_string(&format!(
                        "You covered {hire} of {hire} hire points and 1 of {} strong points.",
                        prompt.strong.len()
                    ))
                    .unwrap();
                grade_prompt(hire, hire, 1, prompt.strong.len())
            }
            CardKind::Estimate(estimate) => {
                // The drill draws the k-th problem with seed 4242 + k, so the test can draw the same one.
                let problem = dlf_engine::estimate::generate(estimate.generator, seed + estimates)
                    .expect("a known generator");
                session.exp_string("Your answer").unwrap();
                if estimates == 0 {
                    session.send_line("banana").unwrap();
                    session
                        .exp_string("could not read 'banana' as a number")
                        .unwrap();
                    session.exp_string("Your answer").unwrap();
                    // Numbers beyond what a double holds are refused with a reason, not read as 0 or infinity.
                    session.send_line("1e-99999").unwrap();
                    session.exp_string("too small to represent").unwrap();
                    session.exp_string("Your answer").unwrap();
                    session.send_line("10^400").unwrap();
                    session.exp_string("too large to represent").unwrap();
                    session.exp_string("Your answer").unwrap();
                }
                estimates += 1;
                if estimates == 2 {
                    // Three times the truth is 200 % off: outside the tolerance and beyond twice it (Again).
                    session
                        .send_line(&format!("{:e}", 3.0 * problem.answer))
                        .unwrap();
                    session.exp_string("Outside tolerance.").unwrap();
                    Rating::Again
                } else {
                    // The exact truth, written in scientific notation (Easy).
                    session.send_line(&format!("{:e}", problem.answer)).unwrap();
                    session.exp_string("Within tolerance.").unwrap();
                    Rating::Easy
                }
            }
        };
        session
            .exp_string(&format!("Rated {}; saved. Next review", rating.name()))
            .unwrap();
        expected.push((card.id.clone(), rating));
    }
    session
        .exp_string(&format!("Session over: {} cards reviewed", n - 1))
        .unwrap();
    finish(session);
    assert!(
        derives >= 1 && prompts >= 1 && estimates >= 2,
        "every kind answered"
    );

    let store = Store::open(&data).expect("reopen the progress file");
    for (card, rating) in &expected {
        let reviews = store.reviews(card).unwrap();
        assert_eq!(reviews.len(), 1, "{card}");
        assert_eq!(reviews[0].rating, *rating, "{card}");
        assert!(store.schedule(card).unwrap().is_some(), "{card}");
        if card.contains("/prompt/") {
            assert_eq!(reviews[0].detail["answer"], "softmax minus one-hot, over B");
            assert_eq!(reviews[0].detail["hire"][0], true);
        }
        if card.contains("/estimate/") {
            assert!(reviews[0].detail["seed"].as_u64().unwrap() >= seed);
        }
    }
    let last = &cards[n - 1].id;
    assert!(
        store.reviews(last).unwrap().is_empty(),
        "the card left with q is not recorded"
    );
    let total = store.export().unwrap().reviews.len();
    assert_eq!(total, n - 1);
    drop(store);

    // A second session: the unanswered card is still in the queue; Ctrl-D at the first prompt ends cleanly.
    let mut session = drill(&data, &["--lesson", lesson]);
    session.exp_regex(r"\[1/\d+\] ").expect("a card");
    session.exp_string("> ").expect("the first prompt");
    session.send_control('d').unwrap();
    session
        .exp_string("Session over: 0 cards reviewed")
        .expect("Ctrl-D ends the session");
    finish(session);
    let store = Store::open(&data).unwrap();
    assert_eq!(store.export().unwrap().reviews.len(), total);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kind_filter_and_piped_input() {
    // Without a terminal the drill still works line by line: here only estimation cards, one of them, with a
    // replayable seed, answered with the exact truth.
    let dir = scratch("kind");
    let data = dir.join("p.sqlite3");
    let store = Store::open(&data).unwrap();
    store
        .set_lesson_done("01-backprop", true, dlf_store::chrono::Utc::now())
        .unwrap();
    drop(store);
    let site = dlf_content::Site::load_embedded().expect("the embedded course loads");
    let deck = Deck::from_site(&site);
    let first_estimate = deck
        .lesson_cards("01-backprop")
        .find_map(|c| match &c.kind {
            CardKind::Estimate(e) => Some((c.id.clone(), e.generator)),
            _ => None,
        })
        .expect("lesson 01 has an estimation card");
    let truth = dlf_engine::estimate::generate(first_estimate.1, 7)
        .unwrap()
        .answer;

    let mut child = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .args([
            "drill", "--kind", "estimate", "--limit", "1", "--seed", "7", "--data",
        ])
        .arg(&data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(child.stdin.take().unwrap(), "not a number\n{truth:e}").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("[1/1] {}", first_estimate.0)),
        "{text}"
    );
    assert!(
        text.contains("could not read 'not a number' as a number"),
        "{text}"
    );
    assert!(text.contains("Within tolerance."), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    let store = Store::open(&data).unwrap();
    let reviews = store.reviews(&first_estimate.0).unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].detail["seed"], 7);
    assert_eq!(reviews[0].rating, Rating::Easy);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn maths_reads_as_unicode_and_lines_wrap_at_words() {
    // A derivation card of lesson 01 through the pseudo-terminal, 60 columns wide (COLUMNS, which the drill
    // honours before asking the terminal): every formula is Unicode text, never LaTeX source, and no line is
    // wider than the terminal or ends inside a word that the next line continues.
    let dir = scratch("unicode");
    let data = dir.join("p.sqlite3");
    let store = Store::open(&data).unwrap();
    store
        .set_lesson_done("01-backprop", true, dlf_store::chrono::Utc::now())
        .unwrap();
    drop(store);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dlf"));
    cmd.args(["drill", "--kind", "derive", "--limit", "1", "--data"])
        .arg(&data)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "60");
    let mut session =
        rexpect::session::spawn_command(cmd, Some(TIMEOUT_MS)).expect("start dlf drill in a pty");
    let shown = session
        .exp_string("The clock stops when you press Enter")
        .expect("the derivation card");
    session.send_line("q").unwrap();
    let shown = shown + &finish(session);
    // rexpect reads the terminal byte by byte as Latin-1: put the bytes back together as the UTF-8 they are.
    let bytes: Vec<u8> = shown.chars().map(|c| c as u32 as u8).collect();
    let shown = String::from_utf8_lossy(&bytes).into_owned();
    for forbidden in ["\\frac", "\\partial", "\\mathrm", "$"] {
        assert!(
            !shown.contains(forbidden),
            "LaTeX source `{forbidden}` in the terminal:\n{shown}"
        );
    }
    assert!(
        shown.contains('∂') || shown.contains('ℓ') || shown.contains('·'),
        "the card's maths is Unicode:\n{shown}"
    );
    // The card's text (indented under its header) is what wraps; the session's own status lines are not checked.
    let lines: Vec<&str> = shown
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.starts_with("  "))
        .collect();
    for line in &lines {
        let columns = line
            .chars()
            .filter(|c| !matches!(*c as u32, 0x300..=0x36f | 0x20d0..=0x20ff))
            .count();
        assert!(columns <= 60, "a line of {columns} columns:\n{line}");
    }
    assert!(
        lines.iter().filter(|l| !l.is_empty()).count() >= 3,
        "the card wraps onto several lines:\n{shown}"
    );
}

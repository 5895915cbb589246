//! `dlf progress` as a user runs it: marking lessons, the summary, export → import round trips through files
//! and standard output, and every rejection (malformed or invalid import, unknown lesson, foreign file) exiting
//! with status 2, a clear message, and the progress file unchanged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dlf_store::chrono::{Duration, TimeZone, Utc};
use dlf_store::{NewReview, Rating, Store};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dlf-progress-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

fn progress(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlf"))
        .arg("progress")
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run dlf progress")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A progress file with lesson 01 done and five reviews on three cards, written through the store.
fn with_history(path: &Path) {
    let store = Store::open(path).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 4, 2, 18, 30, 0).unwrap();
    store.set_lesson_done("01-backprop", true, t0).unwrap();
    let cards = [
        "01-backprop/derive/softmax-ce",
        "01-backprop/prompt/p-softmax-ce",
        "01-backprop/derive/softmax-ce",
        "01-backprop/estimate/backprop.param_count",
        "01-backprop/prompt/p-softmax-ce",
    ];
    for (i, card) in cards.into_iter().enumerate() {
        store
            .record_review(&NewReview {
                card: card.into(),
                lesson: "01-backprop".into(),
                rating: Rating::ALL[i % 4],
                at: t0 + Duration::minutes(11 * i as i64),
                detail: serde_json::json!({"step": i}),
            })
            .unwrap();
    }
}

#[test]
fn done_undone_and_show() {
    let dir = scratch("show");
    let data = dir.join("p.sqlite3");
    let out = progress(&data, &["done", "01-backprop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("marked 01-backprop done"));

    let out = progress(&data, &["show"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("[x] 01-backprop"), "{text}");
    assert!(text.contains("next: "), "{text}");
    assert!(text.contains("readiness"), "{text}");
    assert!(text.contains("practice queue: 0 due, "), "{text}");

    let out = progress(&data, &["undone", "01-backprop"]);
    assert!(out.status.success());
    let text = stdout(&progress(&data, &["show"]));
    assert!(text.contains("[ ] 01-backprop"), "{text}");
    assert!(text.contains("next: 01-backprop"), "{text}");

    let out = progress(&data, &["done", "99-nothing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no written lesson \"99-nothing\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn export_import_round_trip_through_the_cli() {
    let dir = scratch("roundtrip");
    let source = dir.join("a.sqlite3");
    let target = dir.join("b.sqlite3");
    with_history(&source);

    let file = dir.join("progress.json");
    let out = progress(&source, &["export", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = std::fs::read_to_string(&file).unwrap();
    let json: serde_json::Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(json["format"], "dlf-progress");
    assert_eq!(json["version"], 1);
    assert_eq!(json["reviews"].as_array().unwrap().len(), 5);

    // Without a file the export goes to standard output, byte for byte the same.
    assert_eq!(stdout(&progress(&source, &["export"])), exported);

    let out = progress(&target, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "1 lessons newly done, 5 reviews added, 0 already present, 3 cards rescheduled"
        ),
        "{}",
        stdout(&out)
    );
    assert_eq!(stdout(&progress(&target, &["export"])), exported);

    // Importing the same file again changes nothing.
    let out = progress(&target, &["import", file.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("0 reviews added, 5 already present"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stdout(&progress(&target, &["export"])), exported);

    // The schedules were rebuilt from the reviews, identical to the source's.
    let (a, b) = (Store::open(&source).unwrap(), Store::open(&target).unwrap());
    for card in [
        "01-backprop/derive/softmax-ce",
        "01-backprop/prompt/p-softmax-ce",
    ] {
        assert_eq!(
            a.schedule(card).unwrap(),
            b.schedule(card).unwrap(),
            "{card}"
        );
    }
}

#[test]
fn bad_imports_exit_2_and_change_nothing() {
    let dir = scratch("badimport");
    let data = dir.join("p.sqlite3");
    with_history(&data);
    let before = stdout(&progress(&data, &["export"]));

    let malformed = dir.join("malformed.json");
    std::fs::write(
        &malformed,
        "{\"format\": \"dlf-progress\", \"version\": 1,\n \"lessons_done\": [], \"reviews\": [{]}\n",
    )
    .unwrap();
    let out = progress(&data, &["import", malformed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cannot import") && err.contains("malformed.json"),
        "{err}"
    );
    assert!(err.contains("line 2, column"), "{err}");

    let invalid = dir.join("invalid.json");
    std::fs::write(
        &invalid,
        r#"{"format": "dlf-progress", "version": 1, "lessons_done": [],
            "reviews": [{"id": "r1", "card": "01-backprop/prompt", "lesson": "01-backprop",
                         "rating": "good", "at": "2026-04-02T18:30:00Z", "detail": {}}]}"#,
    )
    .unwrap();
    let out = progress(&data, &["import", invalid.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("import rejected at reviews[0].card"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");

    let missing = dir.join("missing.json");
    let out = progress(&data, &["import", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));

    assert_eq!(stdout(&progress(&data, &["export"])), before);
}

#[test]
fn a_file_that_is_not_ours_is_refused() {
    let dir = scratch("foreign");
    let data = dir.join("notes.txt");
    let text = "shopping list: eggs, flour, milk\n".repeat(20);
    std::fs::write(&data, &text).unwrap();
    let out = progress(&data, &["show"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a dlf progress file (it is not a SQLite database)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&data).unwrap(), text);
}

#[test]
fn anki_writes_one_note_per_card() {
    let dir = scratch("anki");
    let file = dir.join("cards.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_dlf"))
        .arg("anki")
        .arg(&file)
        .output()
        .expect("run dlf anki");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    let deck = dlf_content::practice::Deck::from_site(&dlf_content::Site::load_embedded().unwrap());
    assert_eq!(text, dlf_content::anki::anki_export(&deck));
    let notes = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(notes, deck.cards.len());
    assert!(
        stdout(&out).contains(&format!("wrote {notes} cards to")),
        "{}",
        stdout(&out)
    );
}

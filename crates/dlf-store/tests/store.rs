//! Integration tests of the progress store: the file's lifecycle, every write read back, FSRS behaviour, the
//! queue, readiness, export/import, and two multi-process properties (a writer killed with SIGKILL loses no
//! acknowledged review; two writers on one file lose nothing).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, TimeZone, Utc};
use dlf_store::{
    grade_prompt, CardRef, NewReview, ProgressExport, Rating, Schedule, Store, StoreError,
    DIFFICULTY_MAX, DIFFICULTY_MIN, STABILITY_MAX, STABILITY_MIN,
};
use serde_json::json;

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dlf-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

fn review(card: &str, rating: Rating, at: DateTime<Utc>) -> NewReview {
    NewReview {
        card: card.to_owned(),
        lesson: card.split('/').next().unwrap().to_owned(),
        rating,
        at,
        detail: json!({"note": "test", "rating": rating.name()}),
    }
}

const A1: &str = "01-backprop/derive/softmax-ce";
const A2: &str = "01-backprop/prompt/p-softmax-ce";
const A3: &str = "01-backprop/estimate/backprop.backward_flops";
const B1: &str = "02-optim/prompt/p-adam";

fn deck() -> Vec<CardRef<'static>> {
    [A1, A2, A3, B1]
        .into_iter()
        .map(|id| CardRef {
            id,
            lesson: id.split('/').next().unwrap(),
        })
        .collect()
}

fn pragma(path: &Path, name: &str) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
        r.get::<_, rusqlite::types::Value>(0)
    })
    .map(|v| match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(t) => t,
        other => format!("{other:?}"),
    })
    .unwrap()
}

#[test]
fn open_creates_directories_migrates_and_reopens() {
    let dir = TempDir::new("open");
    let path = dir.file("nested/deeper/progress.sqlite3");
    {
        let store = Store::open(&path).unwrap();
        assert!(store.lessons_done().unwrap().is_empty());
        store.set_lesson_done("01-backprop", true, t0()).unwrap();
    }
    assert_eq!(pragma(&path, "user_version"), "1");
    // 0x646C6621 is "dlf!" as a big-endian i32.
    assert_eq!(pragma(&path, "application_id"), 0x646C_6621.to_string());
    assert_eq!(pragma(&path, "journal_mode"), "wal");
    let store = Store::open(&path).unwrap();
    let done = store.lessons_done().unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].lesson, "01-backprop");
    assert_eq!(done[0].at, t0());
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
}

#[test]
fn foreign_and_newer_files_are_refused_untouched() {
    let dir = TempDir::new("foreign");

    let other = dir.file("other.sqlite3");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    match Store::open(&other) {
        Err(StoreError::NotDlf { path, reason }) => {
            assert_eq!(path, other);
            assert!(reason.contains("no dlf marker"), "{reason}");
        }
        res => panic!("expected NotDlf, got {res:?}"),
    }
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "a refused file is not modified"
    );

    let app = dir.file("app.sqlite3");
    rusqlite::Connection::open(&app)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1234;")
        .unwrap();
    let err = Store::open(&app).unwrap_err();
    assert!(err.to_string().contains("application id 0x4d2"), "{err}");

    let text = dir.file("notes.txt");
    std::fs::write(&text, "not a database at all\n".repeat(40)).unwrap();
    let err = Store::open(&text).unwrap_err();
    assert!(
        matches!(&err, StoreError::NotDlf { reason, .. } if reason == "it is not a SQLite database"),
        "{err:?}"
    );
    assert!(err.to_string().contains("notes.txt"), "{err}");

    let newer = dir.file("newer.sqlite3");
    drop(Store::open(&newer).unwrap());
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    match Store::open(&newer) {
        Err(StoreError::TooNew {
            found, supported, ..
        }) => assert_eq!((found, supported), (99, 1)),
        res => panic!("expected TooNew, got {res:?}"),
    }
}

#[test]
fn lessons_done_round_trip() {
    let dir = TempDir::new("lessons");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    store.set_lesson_done("02-optim", true, t0()).unwrap();
    store
        .set_lesson_done("01-backprop", true, t0() + Duration::hours(1))
        .unwrap();
    // Marking again keeps the first time.
    store
        .set_lesson_done("02-optim", true, t0() + Duration::days(3))
        .unwrap();
    let done = store.lessons_done().unwrap();
    let names: Vec<_> = done.iter().map(|d| (d.lesson.as_str(), d.at)).collect();
    assert_eq!(
        names,
        vec![
            ("01-backprop", t0() + Duration::hours(1)),
            ("02-optim", t0())
        ]
    );
    store.set_lesson_done("02-optim", false, t0()).unwrap();
    assert_eq!(store.lessons_done().unwrap().len(), 1);
    assert!(matches!(
        store.set_lesson_done("../etc", true, t0()),
        Err(StoreError::InvalidLesson { lesson }) if lesson == "../etc"
    ));
}

#[test]
fn review_round_trip_and_validation() {
    let dir = TempDir::new("reviews");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    // Nanoseconds are dropped: the store keeps microseconds.
    let at = t0() + Duration::nanoseconds(123_456_789);
    let new = NewReview {
        detail: json!({"hire": [true, false], "strong": [], "answer": "<b>chain rule</b>"}),
        ..review(A2, Rating::Hard, at)
    };
    let recorded = store.record_review(&new).unwrap();
    assert_eq!(recorded.review_id.len(), 36);
    let stored = store.reviews(A2).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, recorded.review_id);
    assert_eq!(stored[0].card, A2);
    assert_eq!(stored[0].lesson, "01-backprop");
    assert_eq!(stored[0].rating, Rating::Hard);
    assert_eq!(stored[0].at, t0() + Duration::microseconds(123_456));
    assert_eq!(stored[0].detail, new.detail);
    assert_eq!(
        store.schedule(A2).unwrap().as_ref(),
        Some(&recorded.schedule)
    );
    assert_eq!(recorded.schedule.reps, 1);
    assert_eq!(recorded.schedule.state, "learning");
    assert!(store.schedule(A1).unwrap().is_none());

    // A second review gets a different id and the schedule moves on.
    let second = store
        .record_review(&review(A2, Rating::Good, t0() + Duration::hours(1)))
        .unwrap();
    assert_ne!(second.review_id, recorded.review_id);
    assert_eq!(store.reviews(A2).unwrap().len(), 2);
    assert_eq!(store.schedule(A2).unwrap().unwrap().reps, 2);

    // Malformed cards are refused and nothing is written.
    for (card, lesson) in [
        ("01-backprop/prompt", "01-backprop"),
        ("02-optim/prompt/p-adam", "01-backprop"),
        ("01-backprop/prompt/p x", "01-backprop"),
        ("01-backprop//x", "01-backprop"),
    ] {
        let bad = NewReview {
            card: card.into(),
            lesson: lesson.into(),
            ..review(A2, Rating::Good, t0())
        };
        assert!(
            matches!(
                store.record_review(&bad),
                Err(StoreError::InvalidCard { .. })
            ),
            "{card}"
        );
    }
    assert_eq!(store.export().unwrap().reviews.len(), 2);
}

/// Interval between a review and the due time it produced.
fn interval(s: &Schedule) -> Duration {
    s.due - s.last_review.unwrap()
}

#[test]
fn fsrs_answers_well_come_back_later() {
    let dir = TempDir::new("fsrs");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    let cards = [
        "01-backprop/prompt/again",
        "01-backprop/prompt/hard",
        "01-backprop/prompt/good",
        "01-backprop/prompt/easy",
    ];
    let dues: Vec<DateTime<Utc>> = cards
        .iter()
        .zip(Rating::ALL)
        .map(|(card, rating)| {
            store
                .record_review(&review(card, rating, t0()))
                .unwrap()
                .schedule
                .due
        })
        .collect();
    assert!(
        dues.windows(2).all(|w| w[0] < w[1]),
        "Again < Hard < Good < Easy: {dues:?}"
    );

    // Answering Good each time the card falls due: the interval never shrinks and ends up many days long.
    let card = "01-backprop/derive/chain";
    let mut at = t0();
    let mut intervals = Vec::new();
    for _ in 0..6 {
        let s = store
            .record_review(&review(card, Rating::Good, at))
            .unwrap()
            .schedule;
        intervals.push(interval(&s));
        at = s.due;
    }
    assert!(intervals.windows(2).all(|w| w[0] <= w[1]), "{intervals:?}");
    assert!(
        intervals[5] > intervals[2] && intervals[5] > Duration::days(7),
        "{intervals:?}"
    );

    // A lapse (Again after graduating) shortens the interval back to minutes and counts as a lapse.
    let lapse = store
        .record_review(&review(card, Rating::Again, at))
        .unwrap()
        .schedule;
    assert!(interval(&lapse) < Duration::hours(1), "{lapse:?}");
    assert_eq!(lapse.lapses, 1);
    assert_eq!(lapse.state, "relearning");
}

#[test]
fn queue_orders_due_then_new_and_filters_lessons() {
    let dir = TempDir::new("queue");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    let deck = deck();
    assert!(
        store.queue(&deck, t0(), 10).unwrap().is_empty(),
        "no lesson done"
    );
    store.set_lesson_done("01-backprop", true, t0()).unwrap();
    let ids = |q: Vec<dlf_store::QueueEntry>| q.into_iter().map(|e| e.card).collect::<Vec<_>>();
    assert_eq!(ids(store.queue(&deck, t0(), 10).unwrap()), vec![A1, A2, A3]);

    // A3 answered Again (due in 1 minute), then A2 answered Again a minute later; A1 answered Easy (days).
    store
        .record_review(&review(A3, Rating::Again, t0()))
        .unwrap();
    store
        .record_review(&review(A2, Rating::Again, t0() + Duration::minutes(1)))
        .unwrap();
    store
        .record_review(&review(A1, Rating::Easy, t0()))
        .unwrap();
    let now = t0() + Duration::minutes(30);
    let queue = store.queue(&deck, now, 10).unwrap();
    assert_eq!(
        ids(queue.clone()),
        vec![A3, A2],
        "most overdue first, A1 not due"
    );
    assert_eq!(queue[0].due, Some(t0() + Duration::minutes(1)));

    // B1 is new but only shows once its lesson is done; the limit cuts the tail.
    store.set_lesson_done("02-optim", true, t0()).unwrap();
    assert_eq!(ids(store.queue(&deck, now, 10).unwrap()), vec![A3, A2, B1]);
    assert_eq!(ids(store.queue(&deck, now, 2).unwrap()), vec![A3, A2]);
    assert_eq!(store.queue(&deck, now, 3).unwrap()[2].due, None);
    store.set_lesson_done("01-backprop", false, t0()).unwrap();
    assert_eq!(ids(store.queue(&deck, now, 10).unwrap()), vec![B1]);
}

#[test]
fn readiness_on_a_constructed_history() {
    let dir = TempDir::new("readiness");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    // A1: Good then Again an hour later; A2: Easy. A3 and B1 never seen.
    store
        .record_review(&review(A1, Rating::Good, t0()))
        .unwrap();
    store
        .record_review(&review(A1, Rating::Again, t0() + Duration::hours(1)))
        .unwrap();
    store
        .record_review(&review(A2, Rating::Easy, t0()))
        .unwrap();
    let now = t0() + Duration::hours(2);
    let r = store.readiness(&deck(), now).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].lesson.as_str(), r[0].cards, r[0].seen),
        ("01-backprop", 3, 2)
    );
    // A1 was due a minute after its Again; A2's Easy interval is days long.
    assert_eq!(r[0].due, 1);
    // Two of three reviews were Good or Easy.
    assert!((r[0].accuracy.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    // Retention recomputed here from the FSRS-4.5 forgetting curve R = (1 + 19/81 · t/S)^-0.5, t in days.
    let recall = |card: &str| {
        let s = store.schedule(card).unwrap().unwrap();
        let days = (now - s.last_review.unwrap()).num_seconds() as f64 / 86_400.0;
        (1.0 + 19.0 / 81.0 * days / s.stability).powf(-0.5)
    };
    let expected = (recall(A1) + recall(A2)) / 2.0;
    assert!((r[0].retention.unwrap() - expected).abs() < 1e-9, "{r:?}");
    assert!(r[0].retention.unwrap() > 0.5 && r[0].retention.unwrap() < 1.0);
    assert_eq!(r[1].lesson, "02-optim");
    assert_eq!((r[1].cards, r[1].seen, r[1].due), (1, 0, 0));
    assert_eq!((r[1].retention, r[1].accuracy), (None, None));
}

fn history(store: &Store) {
    store.set_lesson_done("01-backprop", true, t0()).unwrap();
    store
        .set_lesson_done("02-optim", true, t0() + Duration::days(1))
        .unwrap();
    let mut at = t0();
    for (i, card) in [A1, A2, A3, B1, A1, A2, A1].into_iter().enumerate() {
        let rating = Rating::ALL[i % 4];
        store.record_review(&review(card, rating, at)).unwrap();
        at += Duration::minutes(37);
    }
}

#[test]
fn export_import_round_trip_is_identical_and_idempotent() {
    let dir = TempDir::new("transfer");
    let source = Store::open(&dir.file("a.sqlite3")).unwrap();
    history(&source);
    let exported = source.export().unwrap();
    assert_eq!(
        (exported.format.as_str(), exported.version),
        ("dlf-progress", 1)
    );
    assert_eq!(exported.reviews.len(), 7);
    let text = exported.to_json();
    let parsed = ProgressExport::parse(&text).unwrap();
    assert_eq!(parsed, exported);

    let target = Store::open(&dir.file("b.sqlite3")).unwrap();
    let summary = target.import(&parsed).unwrap();
    assert_eq!(
        (
            summary.lessons_added,
            summary.reviews_added,
            summary.cards_rescheduled
        ),
        (2, 7, 4)
    );
    assert_eq!(target.export().unwrap(), exported);
    for card in [A1, A2, A3, B1] {
        assert_eq!(
            target.schedule(card).unwrap(),
            source.schedule(card).unwrap(),
            "{card}"
        );
    }

    let again = target.import(&parsed).unwrap();
    assert_eq!(
        (
            again.lessons_added,
            again.reviews_added,
            again.reviews_present,
            again.cards_rescheduled
        ),
        (0, 0, 7, 0)
    );
    assert_eq!(target.export().unwrap(), exported);

    // Merging: a review made on the target survives a re-import, and the source's reviews stay once.
    target
        .record_review(&review(A3, Rating::Good, t0() + Duration::days(2)))
        .unwrap();
    target.import(&parsed).unwrap();
    assert_eq!(target.export().unwrap().reviews.len(), 8);
}

#[test]
fn import_of_older_reviews_replays_in_time_order() {
    let dir = TempDir::new("order");
    let late = Store::open(&dir.file("late.sqlite3")).unwrap();
    late.record_review(&review(A1, Rating::Good, t0() + Duration::days(5)))
        .unwrap();
    let early = Store::open(&dir.file("early.sqlite3")).unwrap();
    early
        .record_review(&review(A1, Rating::Again, t0()))
        .unwrap();
    late.import(&early.export().unwrap()).unwrap();
    // The same two reviews recorded in time order in a third file give the same schedule.
    let both = Store::open(&dir.file("both.sqlite3")).unwrap();
    both.import(&early.export().unwrap()).unwrap();
    both.import(&late.export().unwrap()).unwrap();
    let s = late.schedule(A1).unwrap().unwrap();
    assert_eq!(Some(&s), both.schedule(A1).unwrap().as_ref());
    assert_eq!(s.last_review, Some(t0() + Duration::days(5)));
    assert_eq!(s.reps, 2);
}

#[test]
fn malformed_imports_are_rejected_and_change_nothing() {
    let dir = TempDir::new("badimport");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    history(&store);
    let good = store.export().unwrap();
    let before = store.export().unwrap();

    match ProgressExport::parse(
        "{\n  \"format\": \"dlf-progress\",\n  \"version\": 1,\n  \"reviews\": [}",
    ) {
        Err(StoreError::MalformedImport { line, .. }) => assert_eq!(line, 4),
        res => panic!("expected MalformedImport, got {res:?}"),
    }
    assert!(ProgressExport::parse(r#"{"format": "dlf-progress", "version": 1}"#).is_err());

    let mut cases: Vec<(ProgressExport, &str)> = Vec::new();
    let mut wrong_format = good.clone();
    wrong_format.format = "anki".into();
    cases.push((wrong_format, "format"));
    let mut wrong_version = good.clone();
    wrong_version.version = 2;
    cases.push((wrong_version, "version"));
    let mut bad_card = good.clone();
    bad_card.reviews[3].card = "01-backprop/prompt".into();
    cases.push((bad_card, "reviews[3].card"));
    let mut bad_lesson = good.clone();
    bad_lesson.lessons_done[1].lesson = "02 optim".into();
    cases.push((bad_lesson, "lessons_done[1].lesson"));
    let mut duplicate = good.clone();
    let copy = duplicate.reviews[0].clone();
    duplicate.reviews.push(copy);
    cases.push((duplicate, "reviews[7].id"));
    // The same id with a different rating conflicts with what is stored; the new review before it in the
    // file must not be kept either.
    let mut conflict = good.clone();
    let mut fresh = conflict.reviews[0].clone();
    fresh.id = "00000000-0000-4000-8000-000000000001".into();
    conflict.reviews.insert(0, fresh);
    conflict.reviews[2].rating = Rating::Easy;
    cases.push((conflict, "reviews[2]"));

    for (data, at_expected) in cases {
        match store.import(&data) {
            Err(StoreError::InvalidImport { at, reason }) => {
                assert_eq!(at, at_expected, "{reason}");
            }
            res => panic!("{at_expected}: expected InvalidImport, got {res:?}"),
        }
        assert_eq!(
            store.export().unwrap(),
            before,
            "{at_expected}: nothing changed"
        );
    }
}

#[test]
fn grading_feeds_the_schedule() {
    // The documented prompt rule through to a schedule: all hire points and half the strong ones is Easy.
    let dir = TempDir::new("grading");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    let rating = grade_prompt(3, 3, 1, 2);
    assert_eq!(rating, Rating::Easy);
    let s = store
        .record_review(&review(A2, rating, t0()))
        .unwrap()
        .schedule;
    assert_eq!(s.state, "review");
    assert!(s.due - t0() >= Duration::days(1));
    assert_eq!(Rating::parse("good").unwrap(), Rating::Good);
    assert!(matches!(Rating::parse("ok"), Err(StoreError::UnknownRating(name)) if name == "ok"));
    assert_eq!(serde_json::to_string(&Rating::Hard).unwrap(), "\"hard\"");
}

/// The environment variables that turn [`writer_loop`] into a child writer for the multi-process tests.
const CHILD_FILE: &str = "DLF_STORE_TEST_WRITER_FILE";
fn assert_in_range(s: &Schedule) {
    assert!(
        (STABILITY_MIN..=STABILITY_MAX).contains(&s.stability)
            && (DIFFICULTY_MIN..=DIFFICULTY_MAX).contains(&s.difficulty),
        "{s:?}"
    );
}

/// Issue 14: a derive card answered in one sitting, a run of "missed" then "got it", once drove rs-fsrs's
/// stability to 0 and the next review to NaN, which the store refused (and every later review with it).
/// Every one of these reviews must now be accepted, with a finite schedule in range.
#[test]
fn many_quick_reviews_of_one_card_are_all_accepted() {
    let dir = TempDir::new("quick");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    let mut ratings = vec![Rating::Again; 60];
    ratings.extend([Rating::Good, Rating::Again, Rating::Good, Rating::Good]);
    ratings.extend((0..24).map(|i| Rating::ALL[i % 4]));
    for (i, &rating) in ratings.iter().enumerate() {
        let recorded = store
            .record_review(&review(A1, rating, t0() + Duration::seconds(20 * i as i64)))
            .unwrap_or_else(|e| panic!("review {i} refused: {e}"));
        assert_in_range(&recorded.schedule);
    }
    assert_eq!(store.schedule(A1).unwrap().unwrap().reps, 88);
}

/// Several thousand reviews with zero, tiny and decades-long gaps, imported at once (one replay), leave every
/// card's schedule finite and in range; a further review of each is accepted.
#[test]
fn long_random_histories_import_and_review_in_range() {
    let dir = TempDir::new("long");
    let store = Store::open(&dir.file("p.sqlite3")).unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut reviews = Vec::new();
    for card in [A1, A2, A3, B1] {
        let mut at = t0();
        for _ in 0..1500 {
            at += match next(4) {
                0 => Duration::zero(),
                1 => Duration::seconds(next(90) as i64),
                2 => Duration::days(next(30) as i64),
                // Up to 80 years at once, a few times per card: the file holds years up to 9800.
                _ if next(50) == 0 => Duration::days(next(30_000) as i64),
                _ => Duration::days(next(400) as i64),
            };
            let rating = Rating::ALL[if next(3) == 0 { next(4) } else { 0 } as usize];
            reviews.push(review(card, rating, at));
        }
    }
    let export = ProgressExport {
        format: dlf_store::EXPORT_FORMAT.to_owned(),
        version: dlf_store::EXPORT_VERSION,
        lessons_done: vec![],
        reviews: reviews
            .iter()
            .enumerate()
            .map(|(i, r)| dlf_store::ReviewRecord {
                id: format!("00000000-0000-4000-8000-{i:012x}"),
                card: r.card.clone(),
                lesson: r.lesson.clone(),
                rating: r.rating,
                at: r.at,
                detail: r.detail.clone(),
            })
            .collect(),
    };
    store.import(&export).unwrap();
    for card in [A1, A2, A3, B1] {
        assert_in_range(&store.schedule(card).unwrap().unwrap());
        let last = store.reviews(card).unwrap().last().unwrap().at;
        let recorded = store
            .record_review(&review(card, Rating::Good, last))
            .unwrap();
        assert_in_range(&recorded.schedule);
    }
}

/// A file written before the guard may hold a schedule FSRS should never have produced (stability 0, an
/// infinite or out-of-range difficulty). Opening it recomputes those schedules from the reviews and leaves the
/// others alone.
#[test]
fn open_repairs_schedules_stored_out_of_range() {
    let dir = TempDir::new("repair");
    let path = dir.file("p.sqlite3");
    {
        let store = Store::open(&path).unwrap();
        for card in [A1, A2, B1] {
            store
                .record_review(&review(card, Rating::Good, t0()))
                .unwrap();
        }
    }
    let good = Store::open(&path).unwrap().schedule(B1).unwrap().unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE schedules SET stability = 0.0 WHERE card = ?1", [A1])
            .unwrap();
        conn.execute(
            "UPDATE schedules SET difficulty = 1e999 WHERE card = ?1",
            [A2],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    for card in [A1, A2, B1] {
        let s = store.schedule(card).unwrap().unwrap();
        assert_in_range(&s);
        assert_eq!(s.reps, 1);
    }
    assert_eq!(store.schedule(B1).unwrap().unwrap(), good);
    assert_eq!(store.repair_schedules().unwrap(), 0);
    // The repaired card takes further reviews.
    store
        .record_review(&review(A1, Rating::Again, t0() + Duration::minutes(1)))
        .unwrap();
}

const CHILD_COUNT: &str = "DLF_STORE_TEST_WRITER_COUNT";
const CHILD_CARD: &str = "DLF_STORE_TEST_WRITER_CARD";
const CHILD_PAUSE: &str = "DLF_STORE_TEST_WRITER_PAUSE_MS";

/// Records reviews in a loop and prints `ack ID` after each commit. Run directly it writes 20 reviews to a
/// temporary file and checks they are all there; the multi-process tests run this same test binary again
/// with the variables above, to write to their file (forever when the count is 0) until killed.
#[test]
fn writer_loop() {
    let own_dir;
    let (path, count, card) = match std::env::var_os(CHILD_FILE) {
        Some(path) => (
            PathBuf::from(path),
            std::env::var(CHILD_COUNT).unwrap().parse::<u64>().unwrap(),
            std::env::var(CHILD_CARD).unwrap(),
        ),
        None => {
            own_dir = TempDir::new("writer");
            (own_dir.file("p.sqlite3"), 20, A1.to_owned())
        }
    };
    let store = Store::open(&path).unwrap();
    let mut out = std::io::stdout().lock();
    let mut acked = Vec::new();
    let mut i = 0u64;
    while count == 0 || i < count {
        let rating = Rating::ALL[(i % 4) as usize];
        let recorded = store
            .record_review(&review(&card, rating, t0() + Duration::seconds(i as i64)))
            .unwrap();
        writeln!(out, "ack {}", recorded.review_id).unwrap();
        out.flush().unwrap();
        acked.push(recorded.review_id);
        i += 1;
        if let Some(pause) = std::env::var(CHILD_PAUSE).ok().and_then(|p| p.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
    }
    let stored: Vec<String> = store
        .reviews(&card)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    for id in &acked {
        assert!(stored.contains(id), "{id}");
    }
}

fn spawn_writer(path: &Path, count: u64, card: &str) -> std::process::Child {
    spawn_paced_writer(path, count, card, 0)
}

/// A writer that waits `pause_ms` after each acknowledged review, as a person (or a server serving one) does.
fn spawn_paced_writer(path: &Path, count: u64, card: &str, pause_ms: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["writer_loop", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_FILE, path)
        .env(CHILD_COUNT, count.to_string())
        .env(CHILD_CARD, card)
        .env(CHILD_PAUSE, pause_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn acks(stdout: impl std::io::Read) -> impl Iterator<Item = String> {
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // The test harness prints `test writer_loop ... ` without a newline before the test's own output, so
        // the first acknowledgement shares its line.
        .filter_map(|line| line.split_once("ack ").map(|(_, id)| id.to_owned()))
}

#[test]
fn a_writer_killed_mid_write_loses_no_acknowledged_review() {
    let dir = TempDir::new("kill");
    let path = dir.file("p.sqlite3");
    drop(Store::open(&path).unwrap());
    let mut child = spawn_writer(&path, 0, A1);
    let mut lines = acks(child.stdout.take().unwrap());
    let mut acked: Vec<String> = lines.by_ref().take(40).collect();
    assert_eq!(acked.len(), 40, "the writer stopped early");
    // `Child::kill` sends SIGKILL on Unix: no destructor, no rollback hook, no WAL checkpoint runs.
    child.kill().unwrap();
    child.wait().unwrap();
    // Acknowledgements already in the pipe were printed after their commits, so they count too.
    acked.extend(lines);

    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
    let stored: Vec<String> = store
        .reviews(A1)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    for id in &acked {
        assert!(stored.contains(id), "acknowledged review {id} is missing");
    }
    // Every stored review has its schedule: the two were written in one transaction.
    assert_eq!(
        store.schedule(A1).unwrap().unwrap().reps as usize,
        stored.len()
    );
}

#[test]
fn two_processes_write_the_same_file() {
    let dir = TempDir::new("concurrent");
    let path = dir.file("p.sqlite3");
    // Neither child finds the file ready: both race to create and migrate it.
    let mut first = spawn_writer(&path, 60, A1);
    let mut second = spawn_writer(&path, 60, B1);
    let out_first = first.stdout.take().unwrap();
    let out_second = second.stdout.take().unwrap();
    let reader = std::thread::spawn(move || acks(out_second).collect::<Vec<_>>());
    let acked_first: Vec<String> = acks(out_first).collect();
    let acked_second = reader.join().unwrap();
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    assert_eq!((acked_first.len(), acked_second.len()), (60, 60));

    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
    let all: Vec<String> = store
        .export()
        .unwrap()
        .reviews
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all.len(), 120);
    for id in acked_first.iter().chain(&acked_second) {
        assert!(all.contains(id), "{id}");
    }
    assert_eq!(store.schedule(A1).unwrap().unwrap().reps, 60);
    assert_eq!(store.schedule(B1).unwrap().unwrap().reps, 60);
}

/// Rounds of the kill test below; `DLF_KILL_ROUNDS` raises it for a soak (`scripts/soak-kill`).
fn kill_rounds() -> usize {
    std::env::var("DLF_KILL_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

/// Several rounds of: three writers on one file (two on one card, one on another), each killed with SIGKILL
/// after a few acknowledgements, at staggered moments. After every round the file passes `integrity_check`,
/// every acknowledged review is present, and every card's schedule counts all its reviews. Each round reopens
/// the file the previous round's kills left behind, so WAL recovery is exercised too. The count is bounded so
/// CI stays fast; `scripts/soak-kill` runs many more.
#[test]
fn repeated_kills_of_concurrent_writers_lose_no_acknowledged_review() {
    let dir = TempDir::new("kills");
    let path = dir.file("p.sqlite3");
    drop(Store::open(&path).unwrap());
    let mut all_acked: Vec<String> = Vec::new();
    for round in 0..kill_rounds() {
        let cards = [A1, A1, B1];
        let mut children: Vec<_> = cards
            .iter()
            // SQLite's locks are not fair: three processes committing back to back with no pause at all can
            // keep a fourth (a new writer opening the file) waiting past the 10 s busy timeout. Real writers
            // pause between answers; a few milliseconds here keeps the test about durability, not fairness.
            .map(|card| spawn_paced_writer(&path, 0, card, 5))
            .collect();
        let readers: Vec<_> = children
            .iter_mut()
            .enumerate()
            .map(|(i, child)| {
                let stdout = child.stdout.take().unwrap();
                let (tx, rx) = std::sync::mpsc::channel::<String>();
                let handle = std::thread::spawn(move || {
                    for id in acks(stdout) {
                        if tx.send(id).is_err() {
                            break;
                        }
                    }
                });
                (i, rx, handle)
            })
            .collect();
        // Wait for a few acknowledgements from each writer, a different number per writer and round, then
        // kill it at once.
        let mut collected: Vec<Vec<String>> = vec![Vec::new(); cards.len()];
        for (i, rx, _) in &readers {
            let want = 5 + (round * 7 + i * 3) % 11;
            while collected[*i].len() < want {
                let id = rx
                    .recv_timeout(std::time::Duration::from_secs(60))
                    .expect("a writer stopped acknowledging");
                collected[*i].push(id);
            }
            children[*i].kill().unwrap();
        }
        for child in &mut children {
            child.wait().unwrap();
        }
        for (i, rx, handle) in readers {
            handle.join().unwrap();
            collected[i].extend(rx.try_iter());
        }
        all_acked.extend(collected.into_iter().flatten());

        let store = Store::open(&path).unwrap();
        assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_owned()]);
        let stored: HashSet<String> = store
            .export()
            .unwrap()
            .reviews
            .into_iter()
            .map(|r| r.id)
            .collect();
        for id in &all_acked {
            assert!(
                stored.contains(id),
                "round {round}: acknowledged review {id} is missing"
            );
        }
        for card in [A1, B1] {
            let reviews = store.reviews(card).unwrap().len();
            let schedule = store.schedule(card).unwrap().unwrap();
            assert_eq!(schedule.reps as usize, reviews, "round {round}, {card}");
            assert_in_range(&schedule);
        }
    }
}

//! The store itself: one SQLite connection behind a mutex, every write one immediate transaction.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::transfer::{self, ImportSummary, ProgressExport, EXPORT_FORMAT, EXPORT_VERSION};
use crate::{
    model, scheduling, schema, CardRef, LessonDone, LessonReadiness, NewReview, QueueEntry, Rating,
    Recorded, ReviewRecord, Schedule, StoreError,
};

/// How long a write waits for another process (the server and `dlf drill` share the file) to finish its
/// transaction before giving up. A review transaction takes milliseconds, so ten seconds only runs out when
/// the other process is stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A learner's progress in one SQLite file.
///
/// Durability: the file is in WAL mode with `synchronous = FULL`, so a commit returns only after the WAL has
/// been fsynced. `NORMAL` would already survive a killed process (the WAL lives in the operating system's page
/// cache), but could lose the last answers on a power cut; answers arrive at human speed, one every few
/// seconds, so the cost of an fsync per answer is not noticeable and FULL keeps every acknowledged answer.
///
/// Concurrency: every write starts with `BEGIN IMMEDIATE`, which takes the write lock up front and so waits
/// on `busy_timeout` for another process's writer. A deferred transaction that reads first and upgrades to a
/// write could instead fail at once with `SQLITE_BUSY` in WAL mode, which `busy_timeout` does not retry.
///
/// `foreign_keys` is on so that any reference a later migration declares is enforced; schema 1 declares none,
/// because a schedule belongs to its reviews by card id (it is recomputed from them), not by a row reference.
///
/// The store is `Send + Sync`; calls from several threads are serialised by the mutex.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

/// Formats a timestamp as stored: RFC 3339 in UTC with exactly six fractional digits, so that text order is
/// time order.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A 128-bit random id written like a version-4 UUID. The randomness comes from the standard library's
/// per-process random hash keys, mixed with the time, the process id and a counter, so two processes writing
/// at the same instant still differ; no extra crate is needed for it.
fn new_review_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u64(count);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        h.finish()
    };
    let hi = (half(1) & !0xF000) | 0x4000; // version 4 in bits 12..16 of the third group
    let lo = (half(2) & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

impl Store {
    /// Opens (creating if needed) the progress file at `path` and its parent directories, switches it to WAL,
    /// and applies pending schema migrations. Refuses a file that is not a dlf progress file or was written by
    /// a newer dlf, without changing it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // SQLite does not always call the busy handler while a file is being set up: switching a new file to
        // WAL, or reading it while another process is creating or recovering it, can answer "database is
        // locked" at once. Two processes opening one file together (the server and `dlf drill`) must both
        // succeed, so the whole preparation is retried until the same timeout a write would wait.
        let started = Instant::now();
        loop {
            match prepare(&mut conn, path) {
                Err(err) if is_busy(&err) && started.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(err) => return Err(err),
                Ok(()) => break,
            }
        }
        let store = Store {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        };
        store.repair_schedules()?;
        Ok(store)
    }

    /// Recomputes, by replaying their reviews, the schedules of any card stored with a stability or difficulty
    /// outside FSRS's valid ranges (files written before the FSRS step was guarded could hold a stability of
    /// 0, on which the next review computed NaN and was refused). Runs at every open; costs one indexed-free
    /// scan of the schedules and writes only when something is wrong. Returns how many cards were repaired.
    pub fn repair_schedules(&self) -> Result<usize, StoreError> {
        let op = "repair schedules";
        let find = |tx: &Transaction<'_>| -> Result<Vec<String>, StoreError> {
            let mut stmt = tx
                .prepare(
                    "SELECT card FROM schedules
                     WHERE NOT (stability BETWEEN ?1 AND ?2) OR NOT (difficulty BETWEEN ?3 AND ?4)
                     ORDER BY card",
                )
                .map_err(self.sql(op))?;
            let rows = stmt
                .query_map(
                    params![
                        scheduling::STABILITY_MIN,
                        scheduling::STABILITY_MAX,
                        scheduling::DIFFICULTY_MIN,
                        scheduling::DIFFICULTY_MAX
                    ],
                    |r| r.get::<_, String>(0),
                )
                .map_err(self.sql(op))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(self.sql(op))
        };
        if self.read(op, find)?.is_empty() {
            return Ok(0);
        }
        self.write(op, |tx| {
            let cards = find(tx)?;
            for card in &cards {
                self.reschedule(tx, card)?;
            }
            Ok(cards.len())
        })
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which rolls back, so the connection is
        // in a clean state and the poison can be ignored.
        self.conn
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn sql(&self, operation: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            operation,
            source,
        }
    }

    fn corrupt(&self, what: String, reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            what,
            reason,
        }
    }

    fn parse_time(&self, what: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| self.corrupt(what.to_owned(), format!("{text:?}: {e}")))
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits; on any error the transaction rolls back.
    fn write<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql(operation))?;
        let out = f(&tx)?;
        tx.commit().map_err(self.sql(operation))?;
        Ok(out)
    }

    /// Runs `f` in one read transaction, so it sees a single snapshot even while another process writes.
    fn read<T>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(self.sql(operation))?;
        let out = f(&tx)?;
        tx.commit().map_err(self.sql(operation))?;
        Ok(out)
    }

    /// Marks `lesson` done at `now`, or not done. Marking a lesson done again keeps the first time.
    pub fn set_lesson_done(
        &self,
        lesson: &str,
        done: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !model::validate_lesson(lesson) {
            return Err(StoreError::InvalidLesson {
                lesson: lesson.to_owned(),
            });
        }
        self.write("mark a lesson", |tx| {
            if done {
                tx.execute(
                    "INSERT OR IGNORE INTO lessons_done (lesson, at) VALUES (?1, ?2)",
                    params![lesson, stamp(now)],
                )
            } else {
                tx.execute(
                    "DELETE FROM lessons_done WHERE lesson = ?1",
                    params![lesson],
                )
            }
            .map_err(self.sql("mark a lesson"))?;
            Ok(())
        })
    }

    /// The lessons marked done, by lesson id.
    pub fn lessons_done(&self) -> Result<Vec<LessonDone>, StoreError> {
        self.read("list the lessons done", |tx| self.lessons_done_in(tx))
    }

    fn lessons_done_in(&self, tx: &Transaction<'_>) -> Result<Vec<LessonDone>, StoreError> {
        let op = "list the lessons done";
        let mut stmt = tx
            .prepare("SELECT lesson, at FROM lessons_done ORDER BY lesson")
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.sql(op))?;
        let mut out = Vec::new();
        for row in rows {
            let (lesson, at) = row.map_err(self.sql(op))?;
            let at = self.parse_time(&format!("time lesson {lesson} was done"), &at)?;
            out.push(LessonDone { lesson, at });
        }
        Ok(out)
    }

    /// Stores one answer and the card's new schedule in one transaction; once this returns, the answer is on
    /// disk. The review time is kept to the microsecond.
    pub fn record_review(&self, review: &NewReview) -> Result<Recorded, StoreError> {
        model::validate_card(&review.card, &review.lesson)?;
        let id = new_review_id();
        let at = review.at.trunc_subsecs(6);
        let op = "record a review";
        let schedule = self.write(op, |tx| {
            tx.execute(
                "INSERT INTO reviews (id, card, lesson, rating, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    review.card,
                    review.lesson,
                    review.rating.name(),
                    stamp(at),
                    review.detail.to_string()
                ],
            )
            .map_err(self.sql(op))?;
            self.reschedule(tx, &review.card)
        })?;
        Ok(Recorded {
            review_id: id,
            schedule,
        })
    }

    /// Recomputes a card's schedule from all its reviews and stores it.
    fn reschedule(&self, tx: &Transaction<'_>, card: &str) -> Result<Schedule, StoreError> {
        let op = "reschedule a card";
        let reviews = self.reviews_in(tx, Some(card))?;
        let lesson = reviews.last().map(|r| r.lesson.clone()).unwrap_or_default();
        let schedule = scheduling::replay(card, reviews.iter().map(|r| (r.at, r.rating)))
            .ok_or_else(|| self.corrupt(format!("reviews of {card}"), "none found".to_owned()))?;
        tx.execute(
            "INSERT OR REPLACE INTO schedules
                (card, lesson, due, stability, difficulty, reps, lapses, state, last_review)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                card,
                lesson,
                stamp(schedule.due),
                schedule.stability,
                schedule.difficulty,
                schedule.reps,
                schedule.lapses,
                schedule.state,
                schedule.last_review.map(stamp)
            ],
        )
        .map_err(self.sql(op))?;
        Ok(schedule)
    }

    /// The card's current schedule, or `None` if it was never reviewed.
    pub fn schedule(&self, card: &str) -> Result<Option<Schedule>, StoreError> {
        self.read("read a schedule", |tx| {
            Ok(self
                .schedules_in(tx, Some(card))?
                .into_iter()
                .next()
                .map(|(_, s)| s))
        })
    }

    fn schedules_in(
        &self,
        tx: &Transaction<'_>,
        card: Option<&str>,
    ) -> Result<Vec<(String, Schedule)>, StoreError> {
        let op = "read schedules";
        let mut stmt = tx
            .prepare(
                "SELECT card, lesson, due, stability, difficulty, reps, lapses, state, last_review
                 FROM schedules WHERE ?1 IS NULL OR card = ?1 ORDER BY card",
            )
            .map_err(self.sql(op))?;
        type Row = (
            String,
            String,
            String,
            f64,
            f64,
            u32,
            u32,
            String,
            Option<String>,
        );
        let rows = stmt
            .query_map(params![card], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })
            .map_err(self.sql(op))?;
        let mut out = Vec::new();
        for row in rows {
            let (card, lesson, due, stability, difficulty, reps, lapses, state, last): Row =
                row.map_err(self.sql(op))?;
            let due = self.parse_time(&format!("due time of {card}"), &due)?;
            let last_review = last
                .map(|t| self.parse_time(&format!("last review of {card}"), &t))
                .transpose()?;
            out.push((
                lesson,
                Schedule {
                    card,
                    due,
                    stability,
                    difficulty,
                    reps,
                    lapses,
                    state,
                    last_review,
                },
            ));
        }
        Ok(out)
    }

    /// Every review of `card`, oldest first.
    pub fn reviews(&self, card: &str) -> Result<Vec<ReviewRecord>, StoreError> {
        self.read("read reviews", |tx| self.reviews_in(tx, Some(card)))
    }

    fn reviews_in(
        &self,
        tx: &Transaction<'_>,
        card: Option<&str>,
    ) -> Result<Vec<ReviewRecord>, StoreError> {
        let op = "read reviews";
        let mut stmt = tx
            .prepare(
                "SELECT id, card, lesson, rating, at, detail FROM reviews
                 WHERE ?1 IS NULL OR card = ?1 ORDER BY at, id",
            )
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map(params![card], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(self.sql(op))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, card, lesson, rating, at, detail) = row.map_err(self.sql(op))?;
            let what = |field: &str| format!("{field} of review {id}");
            let rating =
                Rating::parse(&rating).map_err(|e| self.corrupt(what("rating"), e.to_string()))?;
            let at = self.parse_time(&what("time"), &at)?;
            let detail = serde_json::from_str(&detail)
                .map_err(|e| self.corrupt(what("detail"), e.to_string()))?;
            out.push(ReviewRecord {
                id,
                card,
                lesson,
                rating,
                at,
                detail,
            });
        }
        Ok(out)
    }

    /// The practice queue: among `cards` (the deck, in course order) those of lessons marked done; first the
    /// cards due at `now`, most overdue first, then the cards never reviewed, in course order; at most `limit`.
    /// Cards reviewed and not yet due are left out.
    pub fn queue(
        &self,
        cards: &[CardRef<'_>],
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        let (done, schedules) = self.read("build the queue", |tx| {
            let done: HashSet<String> = self
                .lessons_done_in(tx)?
                .into_iter()
                .map(|d| d.lesson)
                .collect();
            let schedules: HashMap<String, Schedule> = self
                .schedules_in(tx, None)?
                .into_iter()
                .map(|(_, s)| (s.card.clone(), s))
                .collect();
            Ok((done, schedules))
        })?;
        let mut due = Vec::new();
        let mut new = Vec::new();
        for (order, card) in cards.iter().enumerate() {
            if !done.contains(card.lesson) {
                continue;
            }
            match schedules.get(card.id) {
                Some(s) if s.due <= now => due.push((s.due, order, card)),
                Some(_) => {}
                None => new.push(card),
            }
        }
        due.sort_by_key(|&(at, order, _)| (at, order));
        let entry = |card: &CardRef<'_>, due| QueueEntry {
            card: card.id.to_owned(),
            lesson: card.lesson.to_owned(),
            due,
        };
        Ok(due
            .into_iter()
            .map(|(at, _, card)| entry(card, Some(at)))
            .chain(new.into_iter().map(|card| entry(card, None)))
            .take(limit)
            .collect())
    }

    /// Readiness per lesson of `cards`, in the order the lessons first appear there.
    pub fn readiness(
        &self,
        cards: &[CardRef<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<LessonReadiness>, StoreError> {
        let op = "compute readiness";
        let (schedules, tallies) = self.read(op, |tx| {
            let schedules: HashMap<String, Schedule> = self
                .schedules_in(tx, None)?
                .into_iter()
                .map(|(_, s)| (s.card.clone(), s))
                .collect();
            let mut stmt = tx
                .prepare(
                    "SELECT card, count(*), sum(rating IN ('good', 'easy')) FROM reviews GROUP BY card",
                )
                .map_err(self.sql(op))?;
            let tallies: HashMap<String, (u64, u64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
                .map_err(self.sql(op))?
                .collect::<Result<_, _>>()
                .map_err(self.sql(op))?;
            Ok((schedules, tallies))
        })?;
        let mut out: Vec<LessonReadiness> = Vec::new();
        // Per lesson: sum of retrievabilities, reviews, successful reviews.
        let mut sums: Vec<(f64, u64, u64)> = Vec::new();
        for card in cards {
            let index = match out.iter().position(|r| r.lesson == card.lesson) {
                Some(i) => i,
                None => {
                    out.push(LessonReadiness {
                        lesson: card.lesson.to_owned(),
                        cards: 0,
                        seen: 0,
                        due: 0,
                        retention: None,
                        accuracy: None,
                    });
                    sums.push((0.0, 0, 0));
                    out.len() - 1
                }
            };
            let (entry, sum) = (&mut out[index], &mut sums[index]);
            entry.cards += 1;
            if let Some(s) = schedules.get(card.id) {
                entry.seen += 1;
                entry.due += usize::from(s.due <= now);
                sum.0 += s.retrievability(now);
            }
            if let Some(&(reviews, good)) = tallies.get(card.id) {
                sum.1 += reviews;
                sum.2 += good;
            }
        }
        for (entry, &(retrievability, reviews, good)) in out.iter_mut().zip(&sums) {
            entry.retention = (entry.seen > 0).then(|| retrievability / entry.seen as f64);
            entry.accuracy = (reviews > 0).then(|| good as f64 / reviews as f64);
        }
        Ok(out)
    }

    /// All progress as an export: lessons done and every review in time order.
    pub fn export(&self) -> Result<ProgressExport, StoreError> {
        self.read("export progress", |tx| {
            Ok(ProgressExport {
                format: EXPORT_FORMAT.to_owned(),
                version: EXPORT_VERSION,
                lessons_done: self.lessons_done_in(tx)?,
                reviews: self.reviews_in(tx, None)?,
            })
        })
    }

    /// Merges an export into this file in one transaction: lessons done are added (a lesson already done
    /// keeps its time), reviews are added by id, and every card that gained a review is rescheduled by
    /// replaying all its reviews. Importing the same data twice changes nothing the second time. Data that
    /// fails validation, or a review whose id is already stored with different content, is rejected and
    /// nothing is changed.
    pub fn import(&self, data: &ProgressExport) -> Result<ImportSummary, StoreError> {
        let data = transfer::validate(data)?;
        let op = "import progress";
        self.write(op, |tx| {
            let mut summary = ImportSummary {
                lessons_added: 0,
                reviews_added: 0,
                reviews_present: 0,
                cards_rescheduled: 0,
            };
            for done in &data.lessons_done {
                summary.lessons_added += tx
                    .execute(
                        "INSERT OR IGNORE INTO lessons_done (lesson, at) VALUES (?1, ?2)",
                        params![done.lesson, stamp(done.at)],
                    )
                    .map_err(self.sql(op))?;
            }
            let mut touched: Vec<&str> = Vec::new();
            for (i, review) in data.reviews.iter().enumerate() {
                let existing: Option<(String, String, String, String, String)> = tx
                    .query_row(
                        "SELECT card, lesson, rating, at, detail FROM reviews WHERE id = ?1",
                        params![review.id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .optional()
                    .map_err(self.sql(op))?;
                if let Some((card, lesson, rating, at, detail)) = existing {
                    let same_detail = serde_json::from_str::<serde_json::Value>(&detail)
                        .is_ok_and(|d| d == review.detail);
                    let same = card == review.card
                        && lesson == review.lesson
                        && rating == review.rating.name()
                        && at == stamp(review.at)
                        && same_detail;
                    if !same {
                        return Err(StoreError::InvalidImport {
                            at: format!("reviews[{i}]"),
                            reason: format!(
                                "review {} is already stored with different content",
                                review.id
                            ),
                        });
                    }
                    summary.reviews_present += 1;
                    continue;
                }
                tx.execute(
                    "INSERT INTO reviews (id, card, lesson, rating, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        review.id,
                        review.card,
                        review.lesson,
                        review.rating.name(),
                        stamp(review.at),
                        review.detail.to_string()
                    ],
                )
                .map_err(self.sql(op))?;
                summary.reviews_added += 1;
                if !touched.contains(&review.card.as_str()) {
                    touched.push(&review.card);
                }
            }
            for card in &touched {
                self.reschedule(tx, card)?;
            }
            summary.cards_rescheduled = touched.len();
            Ok(summary)
        })
    }

    /// Runs SQLite's `PRAGMA integrity_check` and returns its report (`["ok"]` for a sound file).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let op = "check integrity";
        let conn = self.lock();
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.sql(op))?;
        rows.collect::<Result<_, _>>().map_err(self.sql(op))
    }
}

/// Checks that `path` is a dlf file (or empty), switches it to WAL, sets the connection's pragmas and applies
/// the migrations; every step may be repeated, so [`Store::open`] can retry it when the file is busy.
fn prepare(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    schema::check_before_writing(conn, path)?;
    // WAL is a property of the file: once set it persists, so only a new file needs the switch (which takes
    // an exclusive lock).
    let current: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(open_err)?;
    if !current.eq_ignore_ascii_case("wal") {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotDlf {
                path: path.to_owned(),
                reason: format!("it cannot be switched to WAL mode (stays in {mode} mode)"),
            });
        }
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(open_err)?;
    schema::migrate(conn, path)
}

/// Whether `err` is SQLite saying another connection holds the file for now.
fn is_busy(err: &StoreError) -> bool {
    let source = match err {
        StoreError::Open { source, .. }
        | StoreError::Migration { source, .. }
        | StoreError::Sqlite { source, .. } => source,
        _ => return false,
    };
    matches!(
        source.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

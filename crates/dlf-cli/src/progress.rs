//! `dlf progress`: show, mark and move the learner's progress (the same SQLite file `dlf serve` and
//! `dlf drill` use).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use dlf_content::practice::Deck;
use dlf_content::Site;
use dlf_store::chrono::Utc;
use dlf_store::{CardRef, ProgressExport, Store};

/// What `dlf progress` does.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Show the lessons done, the recommended next lesson and readiness per lesson.
    Show,
    /// Mark a lesson done, so its cards join the practice queue.
    Done {
        /// The lesson id, e.g. 01-backprop.
        lesson: String,
    },
    /// Mark a lesson not done; its review history is kept.
    Undone {
        /// The lesson id, e.g. 01-backprop.
        lesson: String,
    },
    /// Write all progress as JSON to FILE, or to standard output without one.
    Export {
        /// The file to write (replaced if it exists).
        file: Option<PathBuf>,
    },
    /// Merge progress exported by `dlf progress export`; importing the same file twice changes nothing.
    Import {
        /// The JSON file to read.
        file: PathBuf,
    },
}

/// The deck's cards as the store wants them, in course order.
pub fn card_refs(deck: &Deck) -> Vec<CardRef<'_>> {
    deck.cards
        .iter()
        .map(|c| CardRef {
            id: &c.id,
            lesson: &c.lesson,
        })
        .collect()
}

/// Checks that `lesson` is a written lesson of the course.
fn check_lesson(site: &Site, lesson: &str) -> Result<()> {
    if site.lesson(lesson).is_none() {
        let written: Vec<&str> = site.lessons().iter().map(|l| l.id()).collect();
        bail!(
            "there is no written lesson {lesson:?}; the written lessons are {}",
            written.join(", ")
        )
    }
    Ok(())
}

/// Runs one `dlf progress` action. The course is loaded (`site`) only by the actions that need it: rendering
/// every lesson takes a moment, and export and import work on the progress file alone.
pub fn run(
    action: Action,
    store: &Store,
    site: impl FnOnce() -> Result<Site>,
    out: &mut impl Write,
) -> Result<()> {
    match action {
        Action::Show => show(store, &site()?, out),
        Action::Done { lesson } => {
            check_lesson(&site()?, &lesson)?;
            store.set_lesson_done(&lesson, true, Utc::now())?;
            writeln!(
                out,
                "marked {lesson} done; its cards are now in `dlf drill` (data: {})",
                store.path().display()
            )?;
            Ok(())
        }
        Action::Undone { lesson } => {
            // Unmarking does not need the course: a lesson renamed since it was marked can still be unmarked.
            store.set_lesson_done(&lesson, false, Utc::now())?;
            writeln!(out, "marked {lesson} not done; its review history is kept")?;
            Ok(())
        }
        Action::Export { file } => {
            let text = store.export()?.to_json();
            match file {
                Some(path) => {
                    write_replacing(&path, &text)?;
                    writeln!(out, "wrote progress to {}", path.display())?;
                }
                None => out.write_all(text.as_bytes())?,
            }
            Ok(())
        }
        Action::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let data = ProgressExport::parse(&text)
                .with_context(|| format!("cannot import {}", file.display()))?;
            let summary = store
                .import(&data)
                .with_context(|| format!("cannot import {}", file.display()))?;
            writeln!(
                out,
                "imported {}: {} lessons newly done, {} reviews added, {} already present, {} cards rescheduled",
                file.display(),
                summary.lessons_added,
                summary.reviews_added,
                summary.reviews_present,
                summary.cards_rescheduled
            )?;
            Ok(())
        }
    }
}

/// Writes `text` to a sibling temporary file and renames it over `path`, so a crash never leaves half an
/// export where a good one was.
pub fn write_replacing(path: &Path, text: &str) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.0} %", 100.0 * v))
}

fn show(store: &Store, site: &Site, out: &mut impl Write) -> Result<()> {
    let done = store.lessons_done()?;
    let deck = Deck::from_site(site);
    let cards = card_refs(&deck);
    let now = Utc::now();
    let readiness = store.readiness(&cards, now)?;
    writeln!(out, "progress file: {}", store.path().display())?;
    writeln!(out)?;
    let mut next = None;
    for (entry, lesson) in site.entries() {
        let done_at = done.iter().find(|d| d.lesson == entry.id).map(|d| d.at);
        let mark = match (lesson.is_some(), done_at) {
            (_, Some(_)) => "[x]",
            (true, None) => "[ ]",
            (false, None) => " - ",
        };
        if lesson.is_some() && done_at.is_none() && next.is_none() {
            next = Some(entry);
        }
        let when = done_at.map_or_else(String::new, |t| {
            format!("  (done {})", t.format("%Y-%m-%d"))
        });
        let written = if lesson.is_some() {
            ""
        } else {
            "  (not written yet)"
        };
        writeln!(out, "{mark} {}  {}{when}{written}", entry.id, entry.title)?;
    }
    writeln!(out)?;
    match next {
        Some(entry) => writeln!(out, "next: {} {}", entry.id, entry.title)?,
        None => writeln!(out, "next: every written lesson is done")?,
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<24} {:>5} {:>5} {:>5} {:>9} {:>9}",
        "readiness", "cards", "seen", "due", "retention", "accuracy"
    )?;
    for r in &readiness {
        writeln!(
            out,
            "{:<24} {:>5} {:>5} {:>5} {:>9} {:>9}",
            r.lesson,
            r.cards,
            r.seen,
            r.due,
            percent(r.retention),
            percent(r.accuracy)
        )?;
    }
    let queue = store.queue(&cards, now, usize::MAX)?;
    let due = queue.iter().filter(|e| e.due.is_some()).count();
    writeln!(out)?;
    writeln!(
        out,
        "practice queue: {due} due, {} new (run `dlf drill`)",
        queue.len() - due
    )?;
    Ok(())
}

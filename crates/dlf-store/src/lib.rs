//! The learner's progress: which lessons are done, every answer given in practice, and the FSRS schedule
//! derived from those answers, kept in one SQLite file shared by `dlf serve` and `dlf drill`.
//!
//! How it fits together:
//!
//! 1. [`Store::open`] creates or opens the file, refuses one that is not ours or is too new, switches it to
//!    WAL and applies the versioned migrations in one transaction.
//! 2. A front end grades an answer with [`grade_prompt`], [`grade_derive`] or [`grade_estimate`] and stores it
//!    with [`Store::record_review`], which writes the review and the card's new schedule in one transaction.
//! 3. Reviews are the source of truth. A card's [`Schedule`] is derived by replaying its reviews through FSRS
//!    (`rs-fsrs`, default parameters), so [`Store::import`] of an [`Store::export`] reproduces the same
//!    schedules and importing twice changes nothing.
//! 4. [`Store::queue`] and [`Store::readiness`] take the deck as [`CardRef`]s in course order; the store knows
//!    nothing about the course or about HTTP, and no SQL leaves this crate.
//!
//! ```
//! # fn main() -> Result<(), dlf_store::StoreError> {
//! use dlf_store::{chrono::Utc, grade_prompt, CardRef, NewReview, Store};
//! let dir = std::env::temp_dir().join(format!("dlf-store-doc-{}", std::process::id()));
//! let store = Store::open(&dir.join("progress.sqlite3"))?;
//! store.set_lesson_done("01-backprop", true, Utc::now())?;
//! let card = CardRef { id: "01-backprop/prompt/p-softmax-ce", lesson: "01-backprop" };
//! assert_eq!(store.queue(&[card], Utc::now(), 10)?.len(), 1);
//! let recorded = store.record_review(&NewReview {
//!     card: card.id.into(),
//!     lesson: card.lesson.into(),
//!     rating: grade_prompt(3, 3, 1, 2),
//!     at: Utc::now(),
//!     detail: serde_json::json!({"hire": [true, true, true], "strong": [true, false]}),
//! })?;
//! assert!(recorded.schedule.due > Utc::now());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```

pub use chrono;

mod error;
mod grading;
mod model;
mod scheduling;
mod schema;
mod store;
mod transfer;

pub use error::StoreError;
pub use grading::{grade_derive, grade_estimate, grade_prompt};
pub use model::{
    validate_card, CardRef, LessonDone, LessonReadiness, NewReview, QueueEntry, Rating, Recorded,
    ReviewRecord, Schedule, SelfCheck,
};
pub use scheduling::{DIFFICULTY_MAX, DIFFICULTY_MIN, STABILITY_MAX, STABILITY_MIN};
pub use store::Store;
pub use transfer::{ImportSummary, ProgressExport, EXPORT_FORMAT, EXPORT_VERSION};

use std::ffi::OsString;
use std::path::PathBuf;

/// The default progress file: `$XDG_DATA_HOME/dlf/progress.sqlite3` when `XDG_DATA_HOME` is set to an
/// absolute path (the XDG Base Directory Specification says to ignore a relative one), else
/// `$HOME/.local/share/dlf/progress.sqlite3`.
pub fn default_path() -> Result<PathBuf, StoreError> {
    default_path_from(std::env::var_os("XDG_DATA_HOME"), std::env::var_os("HOME"))
}

fn default_path_from(xdg: Option<OsString>, home: Option<OsString>) -> Result<PathBuf, StoreError> {
    let data = xdg
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.map(PathBuf::from)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|h| h.join(".local").join("share"))
        })
        .ok_or(StoreError::NoDataDir)?;
    Ok(data.join("dlf").join("progress.sqlite3"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_prefers_absolute_xdg() {
        let p = default_path_from(Some("/x/data".into()), Some("/home/a".into())).unwrap();
        assert_eq!(p, PathBuf::from("/x/data/dlf/progress.sqlite3"));
        let p = default_path_from(Some("relative".into()), Some("/home/a".into())).unwrap();
        assert_eq!(
            p,
            PathBuf::from("/home/a/.local/share/dlf/progress.sqlite3")
        );
        assert!(matches!(
            default_path_from(None, None),
            Err(StoreError::NoDataDir)
        ));
    }

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
    }
}

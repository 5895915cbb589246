//! The one error type of the store. Every variant names the file it concerns (or the piece of an import
//! that was rejected), so a front end can print it as it is and the learner knows what to do.

use std::path::PathBuf;

/// Everything that can go wrong when opening, reading or writing the progress file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Neither `$XDG_DATA_HOME` (absolute) nor `$HOME` is set, so there is no default location.
    #[error("cannot choose where to keep progress: neither XDG_DATA_HOME nor HOME is set; pass --data FILE")]
    NoDataDir,
    /// The directory that should hold the file could not be created.
    #[error("cannot create the directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// SQLite could not open the file at all (permissions, a directory in the way, ...).
    #[error("cannot open the progress file {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file exists but is not a dlf progress database: not SQLite at all, or another program's database.
    #[error("{path} is not a dlf progress file ({reason}); choose another file with --data")]
    NotDlf {
        /// The file.
        path: PathBuf,
        /// Why it was not recognised.
        reason: String,
    },
    /// The file was written by a newer dlf whose schema this build does not know.
    #[error(
        "{path} was written by a newer dlf (schema version {found}, this dlf reads up to {supported}); \
         update dlf or choose another file with --data"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// Applying a schema migration failed; the transaction was rolled back and the file is unchanged.
    #[error("{path}: upgrading to schema version {version} failed: {source}")]
    Migration {
        /// The file.
        path: PathBuf,
        /// The schema version that was being applied.
        version: i64,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A query or a write failed; a failed write was rolled back.
    #[error("{path}: could not {operation}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What the store was doing, as a verb phrase ("record a review").
        operation: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A stored row could not be read back (a timestamp or JSON value that does not parse).
    #[error("{path}: the stored {what} is damaged: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Which row or field.
        what: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A card id or lesson id does not have the documented shape.
    #[error("invalid card {card:?} of lesson {lesson:?}: {reason}")]
    InvalidCard {
        /// The card id as given.
        card: String,
        /// The lesson id as given.
        lesson: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A lesson id that does not have the documented shape.
    #[error(
        "invalid lesson id {lesson:?}: a lesson id holds 1 to 100 ASCII letters, digits, - or _"
    )]
    InvalidLesson {
        /// The lesson id as given.
        lesson: String,
    },
    /// A rating name other than again, hard, good or easy.
    #[error("unknown rating {0:?}: expected again, hard, good or easy")]
    UnknownRating(String),
    /// A self-check name other than missed, partly or got.
    #[error("unknown self-check {0:?}: expected missed, partly or got")]
    UnknownSelfCheck(String),
    /// An import file is not JSON of the expected shape.
    #[error("not a dlf progress export: line {line}, column {column}: {message}")]
    MalformedImport {
        /// 1-based line of the JSON text.
        line: usize,
        /// 1-based column of the JSON text.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// An import file parsed but its content is not acceptable; nothing was changed.
    #[error("import rejected at {at}: {reason}; nothing was changed")]
    InvalidImport {
        /// Where in the document, as a JSON path (`reviews[3].card`).
        at: String,
        /// What is wrong.
        reason: String,
    },
}

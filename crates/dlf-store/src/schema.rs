//! The file's identity and its versioned schema.
//!
//! A dlf file carries `PRAGMA application_id = 0x646C6621` (the bytes "dlf!") and `PRAGMA user_version` = its
//! schema version. At open, a file that is empty becomes a dlf file; a file with our id is migrated forward
//! one version at a time inside a single write transaction; anything else is refused without being touched.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// `PRAGMA application_id` of a dlf progress file: the ASCII bytes "dlf!" read as a big-endian i32.
pub(crate) const APPLICATION_ID: i64 = 0x646C_6621;

/// One schema step: the SQL that takes a file from `version - 1` to `version`.
struct Migration {
    version: i64,
    sql: &'static str,
}

/// Every schema step, oldest first. A released step is never edited; a change is a new step.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: "
        CREATE TABLE lessons_done (
            lesson TEXT PRIMARY KEY NOT NULL,
            at     TEXT NOT NULL
        ) STRICT;
        CREATE TABLE reviews (
            id     TEXT PRIMARY KEY NOT NULL,
            card   TEXT NOT NULL,
            lesson TEXT NOT NULL,
            rating TEXT NOT NULL CHECK (rating IN ('again', 'hard', 'good', 'easy')),
            at     TEXT NOT NULL,
            detail TEXT NOT NULL
        ) STRICT;
        CREATE INDEX reviews_by_card ON reviews (card, at, id);
        CREATE TABLE schedules (
            card        TEXT PRIMARY KEY NOT NULL,
            lesson      TEXT NOT NULL,
            due         TEXT NOT NULL,
            stability   REAL NOT NULL,
            difficulty  REAL NOT NULL,
            reps        INTEGER NOT NULL,
            lapses      INTEGER NOT NULL,
            state       TEXT NOT NULL,
            last_review TEXT
        ) STRICT;
    ",
}];

/// The newest schema version this build writes.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// What the file says about itself before anything is written to it.
struct Identity {
    application_id: i64,
    user_version: i64,
    objects: i64,
}

fn identity(conn: &Connection) -> rusqlite::Result<Identity> {
    Ok(Identity {
        application_id: conn.query_row("PRAGMA application_id", [], |r| r.get(0))?,
        user_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        objects: conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?,
    })
}

/// Refuses a file that is not ours or is too new; `Ok` means the file may be migrated.
fn check(path: &Path, id: &Identity) -> Result<(), StoreError> {
    if id.application_id == APPLICATION_ID {
        if id.user_version > latest_version() {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: id.user_version,
                supported: latest_version(),
            });
        }
        return Ok(());
    }
    if id.application_id == 0 && id.objects == 0 && id.user_version == 0 {
        return Ok(());
    }
    let reason = if id.application_id != 0 {
        format!(
            "it is the SQLite database of another program, application id {:#x}",
            id.application_id
        )
    } else {
        format!(
            "it is a SQLite database with {} tables or indexes but no dlf marker",
            id.objects
        )
    };
    Err(StoreError::NotDlf {
        path: path.to_owned(),
        reason,
    })
}

fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    if source.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        StoreError::NotDlf {
            path: path.to_owned(),
            reason: "it is not a SQLite database".to_owned(),
        }
    } else {
        StoreError::Open {
            path: path.to_owned(),
            source,
        }
    }
}

/// Checks the file before anything is written to it. Done outside a transaction first so that a foreign file
/// is refused before switching it to WAL (which would rewrite its header).
pub(crate) fn check_before_writing(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    // The three values are read in one read transaction: read one by one, they could straddle another
    // process's migration (no marker yet, but its tables already there) and a fresh dlf file would look foreign.
    let tx = conn
        .unchecked_transaction()
        .map_err(|e| open_error(path, e))?;
    let id = identity(&tx).map_err(|e| open_error(path, e))?;
    drop(tx);
    check(path, &id)
}

/// Applies the pending migrations in one immediate transaction. The identity is read again inside the
/// transaction because another process may have created or upgraded the file since the first check.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| open_error(path, e))?;
    let id = identity(&tx).map_err(|e| open_error(path, e))?;
    check(path, &id)?;
    if id.user_version == latest_version() {
        return Ok(());
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > id.user_version) {
        let fail = |source| StoreError::Migration {
            path: path.to_owned(),
            version: m.version,
            source,
        };
        tx.execute_batch(m.sql).map_err(fail)?;
        // PRAGMA arguments cannot be bound parameters; both values are integers produced here.
        tx.execute_batch(&format!(
            "PRAGMA user_version = {}; PRAGMA application_id = {APPLICATION_ID};",
            m.version
        ))
        .map_err(fail)?;
    }
    tx.commit().map_err(|source| StoreError::Migration {
        path: path.to_owned(),
        version: latest_version(),
        source,
    })
}

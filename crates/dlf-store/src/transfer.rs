//! The JSON export format: `{"format": "dlf-progress", "version": 1, "lessons_done": [...], "reviews": [...]}`.
//!
//! Only the source of truth travels: the lessons marked done and every review. Schedules are derived, so an
//! import replays the reviews through FSRS instead of trusting schedule numbers from a file.

use std::collections::HashMap;

use chrono::SubsecRound;
use serde::{Deserialize, Serialize};

use crate::{model, LessonDone, ReviewRecord, StoreError};

/// The value of the `format` field.
pub const EXPORT_FORMAT: &str = "dlf-progress";
/// The value of the `version` field this build writes and reads.
pub const EXPORT_VERSION: u32 = 1;

/// All of a learner's progress, as exported and imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressExport {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Always [`EXPORT_VERSION`].
    pub version: u32,
    /// The lessons marked done, by lesson id.
    pub lessons_done: Vec<LessonDone>,
    /// Every review, in time order.
    pub reviews: Vec<ReviewRecord>,
}

impl ProgressExport {
    /// Parses an export's JSON text; a syntax or shape error carries its line and column.
    pub fn parse(text: &str) -> Result<ProgressExport, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::MalformedImport {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// The pretty-printed JSON text, ending in a newline.
    pub fn to_json(&self) -> String {
        // Serialising cannot fail: every map key is a string and every value a plain serde type, so the
        // empty fallback is never taken.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Lessons newly marked done.
    pub lessons_added: usize,
    /// Reviews newly stored.
    pub reviews_added: usize,
    /// Reviews already present with the same content, skipped.
    pub reviews_present: usize,
    /// Cards whose schedules were recomputed.
    pub cards_rescheduled: usize,
}

fn invalid(at: String, reason: impl Into<String>) -> StoreError {
    StoreError::InvalidImport {
        at,
        reason: reason.into(),
    }
}

/// Checks everything that can be checked without the database and returns the data normalised (timestamps to
/// the microsecond, as stored). Nothing is written unless this passes.
pub(crate) fn validate(data: &ProgressExport) -> Result<ProgressExport, StoreError> {
    if data.format != EXPORT_FORMAT {
        return Err(invalid(
            "format".into(),
            format!("expected {EXPORT_FORMAT:?}, found {:?}", data.format),
        ));
    }
    if data.version != EXPORT_VERSION {
        return Err(invalid(
            "version".into(),
            format!(
                "this dlf reads version {EXPORT_VERSION}, the file has version {}",
                data.version
            ),
        ));
    }
    let mut out = data.clone();
    for (i, done) in out.lessons_done.iter_mut().enumerate() {
        if !model::validate_lesson(&done.lesson) {
            return Err(invalid(
                format!("lessons_done[{i}].lesson"),
                format!("{:?} is not a lesson id", done.lesson),
            ));
        }
        done.at = done.at.trunc_subsecs(6);
        storable(format!("lessons_done[{i}].at"), done.at)?;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, review) in out.reviews.iter_mut().enumerate() {
        if !valid_review_id(&review.id) {
            return Err(invalid(
                format!("reviews[{i}].id"),
                format!(
                    "{:?} is not a review id (1 to 64 ASCII letters, digits or -)",
                    review.id
                ),
            ));
        }
        if !model::validate_lesson(&review.lesson) {
            return Err(invalid(
                format!("reviews[{i}].lesson"),
                format!("{:?} is not a lesson id", review.lesson),
            ));
        }
        if let Err(e) = model::validate_card(&review.card, &review.lesson) {
            return Err(invalid(format!("reviews[{i}].card"), e.to_string()));
        }
        review.at = review.at.trunc_subsecs(6);
        storable(format!("reviews[{i}].at"), review.at)?;
        if let Some(first) = seen.insert(review.id.clone(), i) {
            return Err(invalid(
                format!("reviews[{i}].id"),
                format!("the id {:?} is used by reviews[{first}] too", review.id),
            ));
        }
    }
    let mut lessons: HashMap<&str, usize> = HashMap::new();
    for (i, done) in out.lessons_done.iter().enumerate() {
        if let Some(first) = lessons.insert(&done.lesson, i) {
            return Err(invalid(
                format!("lessons_done[{i}].lesson"),
                format!("{:?} is listed at lessons_done[{first}] too", done.lesson),
            ));
        }
    }
    Ok(out)
}

/// Times are stored as RFC 3339 text, which has four-digit years; FSRS then adds up to a hundred years to
/// a review time for its due date. A time outside 1970..=9800 would be stored but could not be read back.
fn storable(at: String, time: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
    use chrono::Datelike;
    if (1970..=9800).contains(&time.year()) {
        Ok(())
    } else {
        Err(invalid(
            at,
            format!("{time} is outside the years 1970 to 9800"),
        ))
    }
}

/// Review ids are generated as UUID-like hex with dashes; imported ones need only be short and plain.
pub(crate) fn valid_review_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

//! The values the store takes and gives back. None of them mentions SQL, so a later hosted store can offer
//! the same interface.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// How well a card was recalled, on the four-point scale of FSRS, the Free Spaced Repetition Scheduler
/// (open-spaced-repetition, "The Algorithm", FSRS-4.5 2023 and FSRS-5 2024; its memory model descends from
/// Ye, Su and Cao, "A Stochastic Shortest Path Algorithm for Optimizing Spaced Repetition Scheduling", KDD 2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Not recalled: the card comes back within minutes.
    Again,
    /// Recalled with serious difficulty.
    Hard,
    /// Recalled.
    Good,
    /// Recalled without effort.
    Easy,
}

impl Rating {
    /// All four ratings, worst first.
    pub const ALL: [Rating; 4] = [Rating::Again, Rating::Hard, Rating::Good, Rating::Easy];

    /// Parses the lowercase name (`"good"`), as stored and as exported.
    pub fn parse(name: &str) -> Result<Rating, StoreError> {
        Rating::ALL
            .into_iter()
            .find(|rating| rating.name() == name)
            .ok_or_else(|| StoreError::UnknownRating(name.to_owned()))
    }

    /// The lowercase name, the inverse of [`Rating::parse`].
    pub fn name(self) -> &'static str {
        match self {
            Rating::Again => "again",
            Rating::Hard => "hard",
            Rating::Good => "good",
            Rating::Easy => "easy",
        }
    }

    /// Whether the rating counts as a success for [`LessonReadiness::accuracy`].
    pub fn is_success(self) -> bool {
        matches!(self, Rating::Good | Rating::Easy)
    }
}

/// The learner's own verdict after revealing a derivation's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SelfCheck {
    /// The derivation went wrong or did not get started.
    Missed,
    /// Some steps were right, others needed the reveal.
    Partly,
    /// The whole derivation was right.
    Got,
}

impl SelfCheck {
    /// Parses `"missed"`, `"partly"` or `"got"`.
    pub fn parse(name: &str) -> Result<SelfCheck, StoreError> {
        match name {
            "missed" => Ok(SelfCheck::Missed),
            "partly" => Ok(SelfCheck::Partly),
            "got" => Ok(SelfCheck::Got),
            other => Err(StoreError::UnknownSelfCheck(other.to_owned())),
        }
    }

    /// The lowercase name, the inverse of [`SelfCheck::parse`].
    pub fn name(self) -> &'static str {
        match self {
            SelfCheck::Missed => "missed",
            SelfCheck::Partly => "partly",
            SelfCheck::Got => "got",
        }
    }
}

/// A lesson the learner has marked done, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonDone {
    /// The lesson id (`01-backprop`).
    pub lesson: String,
    /// When it was marked done.
    pub at: DateTime<Utc>,
}

/// A card as the store needs to know it: its id and the lesson it belongs to. The caller passes the whole
/// deck in course order, so the store never needs to know the course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardRef<'a> {
    /// The card id (`01-backprop/prompt/p-softmax-ce`).
    pub id: &'a str,
    /// The lesson id (`01-backprop`).
    pub lesson: &'a str,
}

/// One answer to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    /// The card id.
    pub card: String,
    /// The lesson the card belongs to; must be the card id's first part.
    pub lesson: String,
    /// The grade, from one of the `grade_*` functions.
    pub rating: Rating,
    /// When the answer was given. Stored to the microsecond.
    pub at: DateTime<Utc>,
    /// What the learner did (ticks, typed answer, number, seconds, self-check), kept for their history.
    pub detail: serde_json::Value,
}

/// One stored answer, as read back and as exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRecord {
    /// The review id (random, 128 bits, written like a UUID).
    pub id: String,
    /// The card id.
    pub card: String,
    /// The lesson id.
    pub lesson: String,
    /// The grade.
    pub rating: Rating,
    /// When the answer was given.
    pub at: DateTime<Utc>,
    /// What the learner did.
    pub detail: serde_json::Value,
}

/// What [`crate::Store::record_review`] acknowledges: the answer is committed once this is returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recorded {
    /// The id of the new review.
    pub review_id: String,
    /// The card's schedule after the review.
    pub schedule: Schedule,
}

/// A card's FSRS memory state and next due time, derived from its reviews.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// The card id.
    pub card: String,
    /// When the card should next be reviewed.
    pub due: DateTime<Utc>,
    /// FSRS stability S: the interval in days after which recall probability falls to 90 %.
    pub stability: f64,
    /// FSRS difficulty D, between 1 and 10.
    pub difficulty: f64,
    /// How many times the card was reviewed.
    pub reps: u32,
    /// How many times a card in review state was forgotten (rated Again).
    pub lapses: u32,
    /// FSRS state: `new`, `learning`, `review` or `relearning`.
    pub state: String,
    /// The last review's time.
    pub last_review: Option<DateTime<Utc>>,
}

impl Schedule {
    /// The probability of recalling the card at `now`, by FSRS's power forgetting curve
    /// R(t, S) = (1 + F·t/S)^C with C = −0.5 and F = 0.9^(1/C) − 1 = 19/81, so that R(S, S) = 0.9; t is in days
    /// since the last review (FSRS-4.5, 2023, kept by FSRS-5, 2024: open-spaced-repetition, "The Algorithm";
    /// computed by `rs_fsrs::Parameters::forgetting_curve`).
    /// Unlike `rs_fsrs::Card::get_retrievability`, t keeps its fraction of a day, so a card reviewed an hour ago
    /// is not treated as reviewed just now. A card never reviewed has retrievability 0.
    pub fn retrievability(&self, now: DateTime<Utc>) -> f64 {
        match self.last_review {
            Some(last) if self.state != "new" && self.stability > 0.0 => {
                // Milliseconds per day: 24 · 60 · 60 · 1000.
                let days = (now - last).num_milliseconds().max(0) as f64 / 86_400_000.0;
                rs_fsrs::Parameters::forgetting_curve(days, self.stability)
            }
            _ => 0.0,
        }
    }
}

/// One card in the practice queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueEntry {
    /// The card id.
    pub card: String,
    /// The lesson id.
    pub lesson: String,
    /// When it fell due; `None` for a card never reviewed.
    pub due: Option<DateTime<Utc>>,
}

/// How ready the learner is on one lesson's cards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LessonReadiness {
    /// The lesson id.
    pub lesson: String,
    /// How many cards the lesson has.
    pub cards: usize,
    /// How many of them were reviewed at least once.
    pub seen: usize,
    /// How many reviewed cards are due now.
    pub due: usize,
    /// The mean FSRS retrievability of the seen cards now ([`Schedule::retrievability`]); `None` if none seen.
    pub retention: Option<f64>,
    /// The share of this lesson's reviews rated Good or Easy; `None` if there are none.
    pub accuracy: Option<f64>,
}

/// Checks the documented shape of a card id: `LESSON/KIND/ID`, ASCII letters, digits and `-_./` only, the
/// first part equal to `lesson`, no empty part.
pub fn validate_card(card: &str, lesson: &str) -> Result<(), StoreError> {
    let fail = |reason: &str| {
        Err(StoreError::InvalidCard {
            card: card.to_owned(),
            lesson: lesson.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if card.is_empty() || card.len() > 200 {
        return fail("a card id has 1 to 200 characters");
    }
    if !card
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
    {
        return fail("a card id holds only ASCII letters, digits and -_./");
    }
    let mut parts = card.splitn(3, '/');
    let (Some(first), Some(kind), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return fail("a card id has the form LESSON/KIND/ID");
    };
    if first.is_empty() || kind.is_empty() || id.is_empty() {
        return fail("a card id has the form LESSON/KIND/ID with no empty part");
    }
    if first != lesson {
        return fail("the card id does not start with its lesson id");
    }
    Ok(())
}

/// Checks a lesson id: 1 to 100 ASCII letters, digits, `-` or `_`.
pub fn validate_lesson(lesson: &str) -> bool {
    !lesson.is_empty()
        && lesson.len() <= 100
        && lesson
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

//! FSRS scheduling through the `rs-fsrs` crate (open-spaced-repetition), default parameters: request
//! retention 0.9, the 19 published FSRS-5 default weights (open-spaced-repetition, "The Algorithm", 2024),
//! short-term (minutes-scale) learning steps on, no fuzz.
//!
//! A card's schedule is never updated in place: it is recomputed by replaying all of the card's reviews, in
//! time order, from a new card. That makes the review table the only source of truth, makes an import that
//! adds older reviews land in the right order, and keeps the whole thing deterministic (`rs-fsrs` seeds its
//! optional fuzz from the review time, and fuzz is off by default anyway).

use chrono::{DateTime, Utc};
use rs_fsrs::{Card, State, FSRS};

use crate::{Rating, Schedule};

fn fsrs_rating(rating: Rating) -> rs_fsrs::Rating {
    match rating {
        Rating::Again => rs_fsrs::Rating::Again,
        Rating::Hard => rs_fsrs::Rating::Hard,
        Rating::Good => rs_fsrs::Rating::Good,
        Rating::Easy => rs_fsrs::Rating::Easy,
    }
}

fn state_name(state: State) -> &'static str {
    match state {
        State::New => "new",
        State::Learning => "learning",
        State::Review => "review",
        State::Relearning => "relearning",
    }
}

/// Replays `reviews` (already in time order) and returns the resulting schedule, or `None` for no reviews.
pub(crate) fn replay(
    card_id: &str,
    reviews: impl IntoIterator<Item = (DateTime<Utc>, Rating)>,
) -> Option<Schedule> {
    let fsrs = FSRS::default();
    let mut card: Option<Card> = None;
    for (at, rating) in reviews {
        // A new card is built by hand rather than with `Card::new()`, which stamps the wall clock into it:
        // the replay must depend on the review times only.
        let current = card.take().unwrap_or_else(|| Card {
            due: at,
            last_review: at,
            ..Card::default()
        });
        card = Some(fsrs.next(current, at, fsrs_rating(rating)).card);
    }
    card.map(|card| Schedule {
        card: card_id.to_owned(),
        due: card.due,
        stability: card.stability,
        difficulty: card.difficulty,
        reps: u32::try_from(card.reps).unwrap_or(0),
        lapses: u32::try_from(card.lapses).unwrap_or(0),
        state: state_name(card.state).to_owned(),
        last_review: Some(card.last_review),
    })
}

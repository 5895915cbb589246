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

/// The smallest stability (days) a card may have. `rs-fsrs` applies no floor: same-day "again" and "hard"
/// answers multiply stability by about 0.51 and 0.80 (`short_term_stability`), so a long sitting of misses
/// drives it towards 0, it underflows, and the next review divides by it (the forgetting curve is
/// `elapsed / stability`) and yields NaN. ts-fsrs bounds stability to [0.01, 36500] for FSRS-5 (py-fsrs uses a
/// floor of 0.001); this floor is ts-fsrs's.
pub const STABILITY_MIN: f64 = 0.01;
/// The largest stability (days): a hundred years, the reference implementations' bound and `rs-fsrs`'s
/// maximum interval.
pub const STABILITY_MAX: f64 = 36_500.0;
/// FSRS difficulty lives in [1, 10]; `rs-fsrs` clamps its own outputs to this range, and so do we.
pub const DIFFICULTY_MIN: f64 = 1.0;
/// See [`DIFFICULTY_MIN`].
pub const DIFFICULTY_MAX: f64 = 10.0;

/// Brings a value into `[lo, hi]`; a NaN becomes `fallback` (`f64::clamp` would keep it NaN).
fn bound(value: f64, lo: f64, hi: f64, fallback: f64) -> f64 {
    if value.is_nan() {
        fallback
    } else {
        value.clamp(lo, hi)
    }
}

/// Keeps a card inside the model's valid ranges. Applied to the input and the output of every FSRS step, so
/// whatever the sequence of grades and times, a stored schedule is finite and in range.
fn guard(mut card: Card) -> Card {
    if card.state != State::New {
        card.stability = bound(card.stability, STABILITY_MIN, STABILITY_MAX, STABILITY_MIN);
        card.difficulty = bound(
            card.difficulty,
            DIFFICULTY_MIN,
            DIFFICULTY_MAX,
            DIFFICULTY_MAX,
        );
    }
    card
}

/// Whether a schedule is one FSRS (with the guard) can produce: finite stability and difficulty in range.
#[cfg(test)]
fn in_range(stability: f64, difficulty: f64) -> bool {
    (STABILITY_MIN..=STABILITY_MAX).contains(&stability)
        && (DIFFICULTY_MIN..=DIFFICULTY_MAX).contains(&difficulty)
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
        card = Some(guard(
            fsrs.next(guard(current), at, fsrs_rating(rating)).card,
        ));
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    /// A small seeded generator (xorshift64*), so a failing sequence can be replayed from its seed.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A gap between reviews: zero, seconds, minutes, days, or decades, the kinds a learner (or an import of
    /// old progress) produces.
    fn gap(g: &mut Gen) -> Duration {
        match g.below(6) {
            0 => Duration::zero(),
            1 => Duration::seconds(g.below(60) as i64),
            2 => Duration::minutes(g.below(120) as i64),
            3 => Duration::days(g.below(40) as i64),
            4 => Duration::days(g.below(40_000) as i64),
            _ => Duration::milliseconds(g.below(1000) as i64),
        }
    }

    fn check(schedule: &Schedule, seed: u64, step: usize) {
        assert!(
            in_range(schedule.stability, schedule.difficulty),
            "seed {seed}, review {step}: stability {} difficulty {}",
            schedule.stability,
            schedule.difficulty
        );
        assert!(schedule.due >= schedule.last_review.unwrap(), "seed {seed}");
    }

    /// Whatever the grades and gaps, every intermediate and final schedule is finite and within FSRS's ranges.
    /// 200 random sequences of up to 3,000 reviews, checked after every review; plus the worst sequences by
    /// construction (only misses, with no time between them; alternating misses and hard after decades).
    #[test]
    fn long_random_sequences_stay_in_range() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        for seed in 1..=200u64 {
            let mut g = Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let len = 1 + g.below(3000) as usize;
            // Each sequence leans towards one grade, so runs of misses are common.
            let lean = g.below(4) as usize;
            let mut at = start;
            let mut history = Vec::with_capacity(len);
            let mut card: Option<Card> = None;
            let fsrs = FSRS::default();
            for step in 0..len {
                at += gap(&mut g);
                let rating = if g.below(3) == 0 {
                    Rating::ALL[g.below(4) as usize]
                } else {
                    Rating::ALL[lean]
                };
                history.push((at, rating));
                // Step incrementally (the replay below does the same from scratch at the end).
                let current = card.take().unwrap_or_else(|| Card {
                    due: at,
                    last_review: at,
                    ..Card::default()
                });
                let next = guard(fsrs.next(guard(current), at, fsrs_rating(rating)).card);
                assert!(
                    in_range(next.stability, next.difficulty),
                    "seed {seed}, review {step}: {next:?}"
                );
                card = Some(next);
            }
            let schedule = replay("c", history.iter().copied()).unwrap();
            check(&schedule, seed, len);
            assert_eq!(schedule.reps as usize, len);
        }
        for rating in [Rating::Again, Rating::Hard] {
            let history: Vec<_> = (0..5000).map(|_| (start, rating)).collect();
            check(&replay("c", history).unwrap(), 0, 5000);
        }
        let history: Vec<_> = (0..2000)
            .map(|i| {
                let rating = if i % 2 == 0 {
                    Rating::Again
                } else {
                    Rating::Hard
                };
                (start + Duration::days(36_500 * (i / 100)), rating)
            })
            .collect();
        check(&replay("c", history).unwrap(), 0, 2000);
    }

    /// Without the guard, `rs-fsrs` drives a card to stability 0 and then NaN: this is the failure the guard
    /// exists for. Sixty quick misses halve stability sixty times (to about 1e-18); "got it" moves the card to
    /// review; a miss there computes `(S + 1)^w13 - 1`, which is exactly 0 once `S + 1 == 1`; after two more
    /// "got it" the forgetting curve divides 0 by 0.
    #[test]
    fn unguarded_fsrs_reaches_nan_and_the_guard_prevents_it() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut ratings = vec![Rating::Again; 60];
        ratings.extend([Rating::Good, Rating::Again, Rating::Good, Rating::Good]);
        let history: Vec<_> = ratings
            .iter()
            .enumerate()
            .map(|(i, &r)| (start + Duration::seconds(20 * i as i64), r))
            .collect();
        let fsrs = FSRS::default();
        let mut raw: Option<Card> = None;
        for &(at, rating) in &history {
            let current = raw.take().unwrap_or_else(|| Card {
                due: at,
                last_review: at,
                ..Card::default()
            });
            raw = Some(fsrs.next(current, at, fsrs_rating(rating)).card);
        }
        assert!(
            raw.unwrap().stability.is_nan(),
            "rs-fsrs no longer reaches NaN here; the guard may no longer be needed"
        );
        let schedule = replay("c", history).unwrap();
        assert!(
            in_range(schedule.stability, schedule.difficulty),
            "{schedule:?}"
        );
    }
}

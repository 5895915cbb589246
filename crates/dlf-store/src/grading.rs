//! The grading rules both front ends use, so a card answered in the browser and in the terminal earns the
//! same rating. Each rule maps what the learner did onto FSRS's four ratings; none of them is taken from a
//! paper, they are this course's choices, and the tests pin every boundary.

use crate::{Rating, SelfCheck};

/// Grades a prompt card from the rubric points the learner ticked.
///
/// - every hire point and at least half of the strong points → Easy;
/// - every hire point → Good;
/// - at least half of the hire points → Hard;
/// - fewer → Again.
///
/// "At least half" means `2·ticked ≥ total`, so it holds vacuously for an empty list: a prompt without
/// strong points earns Easy for all its hire points, the best answer it asks for. Ticks above a total are
/// counted as the total.
pub fn grade_prompt(
    hire_ticked: usize,
    hire_total: usize,
    strong_ticked: usize,
    strong_total: usize,
) -> Rating {
    let hire = hire_ticked.min(hire_total);
    let strong = strong_ticked.min(strong_total);
    let all_hire = hire == hire_total;
    let half = |ticked: usize, total: usize| 2 * ticked >= total;
    if all_hire && half(strong, strong_total) {
        Rating::Easy
    } else if all_hire {
        Rating::Good
    } else if half(hire, hire_total) {
        Rating::Hard
    } else {
        Rating::Again
    }
}

/// Grades a derivation drill from the learner's self-check and the time taken against the box's budget.
///
/// - missed → Again;
/// - partly → Hard;
/// - got it within half the budget → Easy;
/// - got it within the budget → Good;
/// - got it over the budget → Hard (a derivation an interviewer had to wait for is not yet fluent).
///
/// A time that is not a finite, non-negative number counts as over the budget.
pub fn grade_derive(self_check: SelfCheck, seconds: f64, allowed: f64) -> Rating {
    match self_check {
        SelfCheck::Missed => Rating::Again,
        SelfCheck::Partly => Rating::Hard,
        SelfCheck::Got => {
            let valid = seconds.is_finite() && seconds >= 0.0;
            if valid && seconds <= 0.5 * allowed {
                Rating::Easy
            } else if valid && seconds <= allowed {
                Rating::Good
            } else {
                Rating::Hard
            }
        }
    }
}

/// Grades an estimation problem from the relative error of the learner's number.
///
/// - within the tolerance and at most half of it off → Easy;
/// - within the tolerance → Good;
/// - within twice the tolerance → Hard (the right method with a slip);
/// - further off, or not a number → Again.
///
/// `within` is the engine's own verdict (`Estimate::check`) and is trusted for the Good/Easy boundary, so the
/// grade can never disagree with the verdict the learner is shown.
pub fn grade_estimate(within: bool, rel_error: f64, rel_tolerance: f64) -> Rating {
    if within {
        if rel_error.is_finite() && rel_error <= 0.5 * rel_tolerance {
            Rating::Easy
        } else {
            Rating::Good
        }
    } else if rel_error.is_finite() && rel_error <= 2.0 * rel_tolerance {
        Rating::Hard
    } else {
        Rating::Again
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_boundaries() {
        // Four hire points, three strong points.
        assert_eq!(grade_prompt(4, 4, 2, 3), Rating::Easy);
        assert_eq!(grade_prompt(4, 4, 1, 3), Rating::Good);
        assert_eq!(grade_prompt(3, 4, 3, 3), Rating::Hard);
        assert_eq!(grade_prompt(2, 4, 0, 3), Rating::Hard);
        assert_eq!(grade_prompt(1, 4, 3, 3), Rating::Again);
        // Without strong points, all hire points are the best answer.
        assert_eq!(grade_prompt(2, 2, 0, 0), Rating::Easy);
        // Ticks beyond the total do not help.
        assert_eq!(grade_prompt(9, 4, 0, 2), Rating::Good);
    }

    #[test]
    fn derive_boundaries() {
        assert_eq!(grade_derive(SelfCheck::Missed, 5.0, 60.0), Rating::Again);
        assert_eq!(grade_derive(SelfCheck::Partly, 5.0, 60.0), Rating::Hard);
        assert_eq!(grade_derive(SelfCheck::Got, 30.0, 60.0), Rating::Easy);
        assert_eq!(grade_derive(SelfCheck::Got, 30.5, 60.0), Rating::Good);
        assert_eq!(grade_derive(SelfCheck::Got, 60.0, 60.0), Rating::Good);
        assert_eq!(grade_derive(SelfCheck::Got, 61.0, 60.0), Rating::Hard);
        assert_eq!(grade_derive(SelfCheck::Got, f64::NAN, 60.0), Rating::Hard);
        assert_eq!(grade_derive(SelfCheck::Got, -1.0, 60.0), Rating::Hard);
    }

    #[test]
    fn estimate_boundaries() {
        assert_eq!(grade_estimate(true, 0.02, 0.05), Rating::Easy);
        assert_eq!(grade_estimate(true, 0.04, 0.05), Rating::Good);
        assert_eq!(grade_estimate(false, 0.08, 0.05), Rating::Hard);
        assert_eq!(grade_estimate(false, 0.11, 0.05), Rating::Again);
        assert_eq!(grade_estimate(false, f64::INFINITY, 0.05), Rating::Again);
    }
}

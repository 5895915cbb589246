//! Practice: estimation problems generated with fresh numbers.
//!
//! An estimation problem is the interview habit of turning shapes and counts into a number ("how many FLOPs is
//! the backward pass of this layer?", "how many gigabytes of optimizer state for 7B parameters in Adam?"). Each
//! [`GeneratorSpec`] draws its inputs from a seeded [`Rng`](crate::rng::Rng), so one seed is one problem on every
//! platform, and computes the answer with the same engine code the lessons use.
//!
//! Each lesson keeps its generators in its own folder (`lessons/backprop/estimates.rs` for lesson 01): a `SPECS`
//! table whose every entry carries its function, like [`crate::quantities`]; a generator's id starts with the
//! lesson's topic (`backprop.`, `optim.`, `norm.`). Lessons list the generators they offer with the
//! `:::estimate` directive.

use std::fmt;

use crate::rng::Rng;

pub mod format;

/// One generator of estimation problems.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorSpec {
    /// Dotted id, `lesson.what`, e.g. `"backprop.backward_flops"`.
    pub id: &'static str,
    /// A short title for a card, e.g. `"FLOPs of a linear layer's backward pass"`.
    pub title: &'static str,
    /// What is asked and how it is computed, in one line.
    pub description: &'static str,
    /// Draws one problem from the generator's random stream (`None` only if a draw cannot be completed).
    pub generate: fn(&mut Rng) -> Option<Problem>,
}

/// One generated problem: the question, the answer, the tolerance it is graded with and the worked solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The generator's id.
    pub generator: &'static str,
    /// The seed that produced this problem; the same seed gives the same problem.
    pub seed: u64,
    /// The question, in Markdown with `$...$` maths.
    pub question: String,
    /// The exact answer, in `unit`.
    pub answer: f64,
    /// The unit the answer is expected in (`"GB"`, `"FLOPs"`, `""` for a pure number).
    pub unit: String,
    /// The accepted relative error: an answer `a` is right when `|a - answer| <= rel_tolerance * |answer|`.
    pub rel_tolerance: f64,
    /// The worked solution, one Markdown step per entry, ending with the answer.
    pub solution: Vec<String>,
}

/// How far an answer is from the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// `|answer - truth| / |truth|` (the absolute error when the truth is 0).
    pub rel_error: f64,
    /// Whether the relative error is within the problem's tolerance.
    pub within: bool,
}

impl Estimate {
    /// Grades a numeric answer against the problem's tolerance. Non-finite answers are never within it.
    pub fn check(&self, answer: f64) -> Verdict {
        if !answer.is_finite() {
            return Verdict {
                rel_error: f64::INFINITY,
                within: false,
            };
        }
        let scale = self.answer.abs();
        let rel_error = if scale > 0.0 {
            (answer - self.answer).abs() / scale
        } else {
            (answer - self.answer).abs()
        };
        Verdict {
            rel_error,
            within: rel_error <= self.rel_tolerance,
        }
    }
}

/// A generator id that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownGenerator {
    /// The id asked for.
    pub id: String,
}

impl fmt::Display for UnknownGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown estimation generator `{}`; known: ", self.id)?;
        let ids: Vec<&str> = generators().iter().map(|g| g.id).collect();
        write!(f, "{}", ids.join(", "))
    }
}

impl std::error::Error for UnknownGenerator {}

const LESSONS: &[&[GeneratorSpec]] = crate::lessons::ESTIMATES;

const BLANK: GeneratorSpec = GeneratorSpec {
    id: "",
    title: "",
    description: "",
    generate: |_| None,
};

const GENERATORS_LEN: usize = crate::table::total_len(LESSONS);

static GENERATORS: [GeneratorSpec; GENERATORS_LEN] = crate::table::concat(LESSONS, BLANK);

/// Every generator, in course order.
pub fn generators() -> &'static [GeneratorSpec] {
    &GENERATORS
}

/// Looks up a generator by id.
pub fn find(id: &str) -> Option<&'static GeneratorSpec> {
    GENERATORS.iter().find(|g| g.id == id)
}

/// Generates the problem of generator `id` for `seed`.
///
/// # Errors
/// [`UnknownGenerator`] when no generator has that id.
pub fn generate(id: &str, seed: u64) -> Result<Estimate, UnknownGenerator> {
    let spec = find(id).ok_or_else(|| UnknownGenerator { id: id.to_string() })?;
    let mut rng = Rng::new(seed);
    let problem =
        (spec.generate)(&mut rng).ok_or_else(|| UnknownGenerator { id: id.to_string() })?;
    Ok(Estimate {
        generator: spec.id,
        seed,
        question: problem.question,
        answer: problem.answer,
        unit: problem.unit,
        rel_tolerance: problem.rel_tolerance,
        solution: problem.solution,
    })
}

/// What a generator's function returns; [`generate`] adds the id and the seed to make an [`Estimate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The question, in Markdown with `$...$` maths.
    pub question: String,
    /// The exact answer, in `unit`.
    pub answer: f64,
    /// The unit the answer is expected in.
    pub unit: String,
    /// The accepted relative error.
    pub rel_tolerance: f64,
    /// The worked solution, one Markdown step per entry.
    pub solution: Vec<String>,
}

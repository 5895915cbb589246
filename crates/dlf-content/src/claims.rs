//! Claims: quantitative sentences the engine checks when the site is built.
//!
//! A `:::claim` names an engine quantity (`q`), its arguments, the value the prose states (`expected`) and
//! how to compare: `cmp=approx` (the default) with an absolute `tol` or a relative `rel`, or `cmp=lt` /
//! `cmp=gt` for a bound. The engine's measurement is shown next to the sentence and a claim that does not hold
//! fails `dlf check`.
//!
//! Pass rules, with `m` the measured and `e` the expected value:
//!
//! - `approx` + `tol=t`: `|m − e| ≤ t`
//! - `approx` + `rel=r`: `|m − e| ≤ r·|e|`
//! - `lt`: `m < e`;  `gt`: `m > e`
//!
//! A measurement that is not finite never passes.

use serde::Serialize;

use crate::directive::{spec, Directive};
use crate::number::format_number;

/// How a claim compares the measured value with the stated one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// Equal within a tolerance.
    Approx,
    /// The measured value is below the stated bound.
    Lt,
    /// The measured value is above the stated bound.
    Gt,
}

impl Comparison {
    /// The keyword used in lessons.
    pub fn name(self) -> &'static str {
        match self {
            Comparison::Approx => "approx",
            Comparison::Lt => "lt",
            Comparison::Gt => "gt",
        }
    }
}

/// The tolerance of an `approx` claim. Serialises as `{"abs": t}` or `{"rel": r}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tolerance {
    /// `|m − e| ≤ t`.
    Abs(f64),
    /// `|m − e| ≤ r·|e|`.
    Rel(f64),
}

/// A claim after the engine has measured it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimResult {
    /// The claim's id (its HTML id is `claim-ID`).
    pub id: String,
    /// The engine quantity.
    pub q: String,
    /// The quantity's arguments as written, in order.
    pub args: Vec<(String, String)>,
    /// The stated value.
    pub expected: f64,
    /// The comparison.
    pub cmp: Comparison,
    /// The tolerance (`None` for `lt` and `gt`).
    pub tol: Option<Tolerance>,
    /// What the engine measured.
    pub measured: f64,
    /// Whether the claim holds.
    pub passed: bool,
    /// The line of the `:::claim`.
    pub line: usize,
    /// The claim's sentence as HTML (inline content).
    #[serde(skip)]
    pub sentence_html: String,
    /// `expected` as written in the lesson, which carries the author's precision.
    #[serde(skip)]
    pub expected_text: String,
    /// `tol` or `rel` as written in the lesson.
    #[serde(skip)]
    pub tol_text: Option<String>,
}

/// Whether measured value `m` satisfies the claim.
pub fn holds(cmp: Comparison, tol: Option<Tolerance>, measured: f64, expected: f64) -> bool {
    if !measured.is_finite() {
        return false;
    }
    match (cmp, tol) {
        (Comparison::Approx, Some(Tolerance::Abs(t))) => (measured - expected).abs() <= t,
        (Comparison::Approx, Some(Tolerance::Rel(r))) => {
            (measured - expected).abs() <= r * expected.abs()
        }
        // Validation requires a tolerance for `approx`; without one only an exact match would pass.
        (Comparison::Approx, None) => measured == expected,
        (Comparison::Lt, _) => measured < expected,
        (Comparison::Gt, _) => measured > expected,
    }
}

/// The keys of a claim that are not quantity arguments.
const CLAIM_KEYS: [&str; 6] = ["id", "q", "expected", "tol", "rel", "cmp"];

/// Evaluates `directive` (a validated `:::claim`) with the engine.
///
/// Returns the result, or the messages of every problem that prevented measuring it. A claim that was
/// measured but does not hold is returned with `passed = false`; the caller reports it.
pub(crate) fn evaluate(
    directive: &Directive,
    sentence_html: String,
) -> Result<ClaimResult, Vec<String>> {
    let mut problems = Vec::new();
    let id = directive.get("id").unwrap_or_default().to_owned();
    let q = directive.get("q").unwrap_or_default().to_owned();
    let expected_text = directive.get("expected").unwrap_or_default().to_owned();
    // Values were checked against the registry already; a failed parse here only repeats that problem.
    let expected: f64 = expected_text.parse().unwrap_or(f64::NAN);
    let cmp = match directive.get("cmp").unwrap_or("approx") {
        "lt" => Comparison::Lt,
        "gt" => Comparison::Gt,
        _ => Comparison::Approx,
    };
    let (tol, tol_text) = match (directive.get("tol"), directive.get("rel")) {
        (Some(t), None) => (t.parse().ok().map(Tolerance::Abs), Some(t.to_owned())),
        (None, Some(r)) => (r.parse().ok().map(Tolerance::Rel), Some(r.to_owned())),
        (Some(_), Some(_)) => {
            problems.push("give either `tol` (absolute) or `rel` (relative), not both".to_owned());
            (None, None)
        }
        (None, None) => (None, None),
    };
    match cmp {
        Comparison::Approx if tol_text.is_none() && problems.is_empty() => {
            problems.push(
                "`cmp=approx` needs a tolerance: `tol` (absolute) or `rel` (relative)".to_owned(),
            );
        }
        Comparison::Lt | Comparison::Gt if tol_text.is_some() => {
            problems.push(format!(
                "`cmp={}` compares with a bound and takes no `tol` or `rel`",
                cmp.name()
            ));
        }
        _ => {}
    }
    let args: Vec<(String, String)> = match spec("claim") {
        Some(claim_spec) => directive.extra_attrs(claim_spec),
        None => directive
            .attrs
            .iter()
            .filter(|a| !CLAIM_KEYS.contains(&a.key.as_str()))
            .map(|a| (a.key.clone(), a.value.clone()))
            .collect(),
    };
    let arg_refs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let measured = match dlf_engine::quantities::evaluate(&q, &arg_refs) {
        Ok(value) => value,
        Err(error) => {
            problems.push(format!("quantity `{q}`: {error}"));
            f64::NAN
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    let passed = holds(cmp, tol, measured, expected);
    Ok(ClaimResult {
        id,
        q,
        args,
        expected,
        cmp,
        tol,
        measured,
        passed,
        line: directive.line,
        sentence_html,
        expected_text,
        tol_text,
    })
}

impl ClaimResult {
    /// The measured value as shown in the badge: whole numbers below a million as they are, otherwise 4
    /// significant figures, in scientific notation for very large or very small magnitudes.
    pub fn measured_html(&self) -> String {
        let magnitude = self.measured.abs();
        // Counts (parameters, FLOPs, bytes) are whole numbers; "17.00" would suggest a measurement error.
        if magnitude < 1e6 && self.measured.fract() == 0.0 {
            return format_number(self.measured, 1, false);
        }
        let sci = magnitude != 0.0 && !(1e-3..1e6).contains(&magnitude);
        format_number(self.measured, 4, sci)
    }

    /// What the lesson states, as shown in the badge: `stated 0.5 ± 0.01`, `stated 0.5 ± 2%`, `stated < 0.5`.
    pub fn stated_text(&self) -> String {
        let expected = self.expected_text.replace('-', "\u{2212}");
        match (self.cmp, self.tol, &self.tol_text) {
            (Comparison::Approx, Some(Tolerance::Abs(_)), Some(text)) => {
                format!("stated {expected} ± {text}")
            }
            (Comparison::Approx, Some(Tolerance::Rel(r)), _) => {
                format!("stated {expected} ± {}%", trim_number(r * 100.0))
            }
            (Comparison::Approx, _, _) => format!("stated {expected}"),
            (Comparison::Lt, _, _) => format!("stated &lt; {expected}"),
            (Comparison::Gt, _, _) => format!("stated &gt; {expected}"),
        }
    }

    /// Why a claim failed, for its diagnostic.
    pub fn failure_message(&self) -> String {
        let stated = self.stated_text().replace("&lt;", "<").replace("&gt;", ">");
        format!(
            "claim does not hold: the engine measured {} for `{}`, but the lesson {stated}",
            self.measured, self.q
        )
    }
}

/// `x` in the shortest decimal form with at most 6 decimals (`2`, `0.5`, `12.5`).
fn trim_number(x: f64) -> String {
    let text = format!("{x:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_rules() {
        assert!(holds(
            Comparison::Approx,
            Some(Tolerance::Abs(0.1)),
            1.05,
            1.0
        ));
        assert!(!holds(
            Comparison::Approx,
            Some(Tolerance::Abs(0.01)),
            1.05,
            1.0
        ));
        // |1.05 − 1| = 0.05 ≤ 0.1·|1| = 0.1, but not ≤ 0.01·|1|.
        assert!(holds(
            Comparison::Approx,
            Some(Tolerance::Rel(0.1)),
            1.05,
            1.0
        ));
        assert!(!holds(
            Comparison::Approx,
            Some(Tolerance::Rel(0.01)),
            1.05,
            1.0
        ));
        assert!(holds(Comparison::Lt, None, 0.4, 0.5));
        assert!(!holds(Comparison::Lt, None, 0.5, 0.5));
        assert!(holds(Comparison::Gt, None, 0.6, 0.5));
        assert!(!holds(
            Comparison::Approx,
            Some(Tolerance::Abs(1.0)),
            f64::NAN,
            0.0
        ));
    }

    #[test]
    fn trims_percentages() {
        assert_eq!(trim_number(5.0), "5");
        assert_eq!(trim_number(0.5), "0.5");
        assert_eq!(trim_number(12.25), "12.25");
    }
}

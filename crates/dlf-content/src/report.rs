//! `dlf check`: everything the loader found, as text for people and as JSON (`--json`) for tools.
//!
//! ```json
//! { "ok": false,
//!   "lessons": [{ "id": "01-backprop", "title": "Backpropagation", "stage": "foundation",
//!                 "derives": ["chain-rule"], "widgets": [{ "id": "walk", "widget": "backprop-walk" }],
//!                 "prompts": ["why-transpose", "..."], "estimates": ["backprop.param_count", "..."],
//!                 "claims": [{ "id": "flops", "q": "backprop.flop_ratio", "args": { "batch": "64" },
//!                              "passed": true, "measured": 2.0, "expected": 2.0, "cmp": "approx",
//!                              "tol": { "abs": 0.01 } }] }],
//!   "diagnostics": [{ "file": "content/lessons/01-backprop.md", "line": 42,
//!                     "directive": "prompt why-transpose", "message": "missing section `::weak`" }] }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::claims::{Comparison, Tolerance};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::site::Site;

/// The result of checking the course.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// Whether no problem was found.
    pub ok: bool,
    /// Every lesson that loaded, in track order.
    pub lessons: Vec<LessonReport>,
    /// Every problem, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

/// One lesson's directives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LessonReport {
    /// The lesson id.
    pub id: String,
    /// The title.
    pub title: String,
    /// The stage id.
    pub stage: String,
    /// The derive ids.
    pub derives: Vec<String>,
    /// The widget instances.
    pub widgets: Vec<WidgetReport>,
    /// The prompt ids.
    pub prompts: Vec<String>,
    /// The estimation generators the lesson offers for practice.
    pub estimates: Vec<String>,
    /// The measured claims.
    pub claims: Vec<ClaimReport>,
}

/// A widget instance in a lesson.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WidgetReport {
    /// The instance id.
    pub id: String,
    /// The widget id.
    pub widget: String,
}

/// A measured claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimReport {
    /// The claim id.
    pub id: String,
    /// The quantity.
    pub q: String,
    /// The quantity's arguments as written.
    pub args: BTreeMap<String, String>,
    /// Whether it holds.
    pub passed: bool,
    /// The engine's value (`null` in JSON when not finite).
    pub measured: f64,
    /// The stated value.
    pub expected: f64,
    /// `approx`, `lt` or `gt`.
    pub cmp: Comparison,
    /// `{"abs": t}`, `{"rel": r}` or `null`.
    pub tol: Option<Tolerance>,
}

impl CheckReport {
    /// The report for a loaded site and its problems.
    pub fn new(site: &Site, diagnostics: &Diagnostics) -> CheckReport {
        let lessons = site
            .lessons()
            .iter()
            .map(|lesson| LessonReport {
                id: lesson.meta.id.clone(),
                title: lesson.meta.title.clone(),
                stage: lesson.meta.stage.clone(),
                derives: lesson.body.derives.iter().map(|d| d.id.clone()).collect(),
                widgets: lesson
                    .body
                    .widgets
                    .iter()
                    .map(|w| WidgetReport {
                        id: w.instance.clone(),
                        widget: w.widget.clone(),
                    })
                    .collect(),
                prompts: lesson.body.prompts.iter().map(|p| p.id.clone()).collect(),
                estimates: lesson
                    .body
                    .estimates
                    .iter()
                    .map(|e| e.generator.to_owned())
                    .collect(),
                claims: lesson
                    .body
                    .claims
                    .iter()
                    .map(|c| ClaimReport {
                        id: c.id.clone(),
                        q: c.q.clone(),
                        args: c.args.iter().cloned().collect(),
                        passed: c.passed,
                        measured: c.measured,
                        expected: c.expected,
                        cmp: c.cmp,
                        tol: c.tol,
                    })
                    .collect(),
            })
            .collect();
        CheckReport {
            ok: diagnostics.is_empty(),
            lessons,
            diagnostics: diagnostics.0.clone(),
        }
    }

    /// The report as `dlf check` prints it: one line per problem, one line per lesson, a verdict.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            let _ = writeln!(out, "{diagnostic}");
        }
        for lesson in &self.lessons {
            let passed = lesson.claims.iter().filter(|c| c.passed).count();
            let _ = writeln!(
                out,
                "{}: {} derive(s), {} widget(s), {} prompt(s), {} estimate(s), {passed}/{} claim(s) hold",
                lesson.id,
                lesson.derives.len(),
                lesson.widgets.len(),
                lesson.prompts.len(),
                lesson.estimates.len(),
                lesson.claims.len()
            );
        }
        if self.ok {
            let _ = writeln!(
                out,
                "ok: {} lesson(s) checked, no problems",
                self.lessons.len()
            );
        } else {
            let noun = if self.diagnostics.len() == 1 {
                "problem"
            } else {
                "problems"
            };
            let _ = writeln!(out, "failed: {} {noun}", self.diagnostics.len());
        }
        out
    }
}

/// Checks the course in `content_dir`, or the embedded course when `None`.
pub fn check(content_dir: Option<&Path>) -> CheckReport {
    let (site, diagnostics) = match content_dir {
        Some(dir) => Site::load_with_diagnostics(dir),
        None => Site::load_embedded_with_diagnostics(),
    };
    CheckReport::new(&site, &diagnostics)
}

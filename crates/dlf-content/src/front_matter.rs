//! A lesson's front matter: TOML between two `+++` lines at the top of the file.
//!
//! ```toml
//! +++
//! id = "01-backprop"
//! title = "Backpropagation"
//! stage = "foundation"
//! prerequisites = []
//! summary = "One sentence shown on the track page."
//! minutes = 45
//! topic = "backprop"
//! +++
//! ```
//!
//! This module parses and checks what can be checked from the file alone (the fields exist and have sensible
//! values, `id` equals the file stem, `topic` names a lesson folder the engine registers). Agreement with
//! `track.toml` and topics used once each are checked in [`crate::site`].

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostic::{line_at, Diagnostic};

/// The metadata of one lesson, from its front matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LessonMeta {
    /// `NN-slug`; equal to the file stem.
    pub id: String,
    /// The lesson's title.
    pub title: String,
    /// The id of its stage in track.toml.
    pub stage: String,
    /// Exactly the previous lesson's id, or empty for the first lesson.
    pub prerequisites: Vec<String>,
    /// One sentence shown on the track page.
    pub summary: String,
    /// Estimated reading and practice time in minutes.
    pub minutes: u32,
    /// The lesson's topic: the name of its folder in every crate with lesson code
    /// (`crates/dlf-engine/src/lessons/<topic>/`, `crates/dlf-widgets/src/lessons/<topic>/`, ...) and the
    /// prefix of its quantities and estimation generators (`optim.` for lesson 02).
    pub topic: String,
    /// Where each field is in the file, for diagnostics.
    #[serde(skip)]
    pub lines: MetaLines,
}

/// The 1-based line of each front-matter field that later checks point at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetaLines {
    /// The line of `id = ...`.
    pub id: usize,
    /// The line of `title = ...`.
    pub title: usize,
    /// The line of `stage = ...`.
    pub stage: usize,
    /// The line of `prerequisites = ...`.
    pub prerequisites: usize,
    /// The line of `topic = ...`.
    pub topic: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    id: Spanned<String>,
    title: Spanned<String>,
    stage: Spanned<String>,
    prerequisites: Spanned<Vec<String>>,
    summary: Spanned<String>,
    minutes: Spanned<u32>,
    topic: Spanned<String>,
}

/// A lesson file split into its parsed front matter and its Markdown body.
#[derive(Debug)]
pub(crate) struct Split<'a> {
    /// The front matter, when it parsed.
    pub meta: Option<LessonMeta>,
    /// The text after the closing `+++` line.
    pub body: &'a str,
    /// The 1-based line number of the body's first line in the file.
    pub body_first_line: usize,
}

/// The line that opens and closes the front matter.
const FENCE: &str = "+++";

/// Splits `source` into front matter and body, parsing and checking the front matter.
///
/// `stem` is the file name without `.md`; the front matter's `id` must equal it. Problems are appended to
/// `problems`; when the front matter cannot be parsed at all, `meta` is `None` and the body is still returned
/// (so that its directives and maths are checked too).
pub(crate) fn split<'a>(
    file: &Path,
    stem: &str,
    source: &'a str,
    problems: &mut Vec<Diagnostic>,
) -> Split<'a> {
    let first_line_end = source.find('\n').unwrap_or(source.len());
    if source[..first_line_end].trim_end() != FENCE {
        problems.push(Diagnostic::new(
            file,
            1,
            "a lesson must start with a `+++` line opening its TOML front matter",
        ));
        return Split {
            meta: None,
            body: source,
            body_first_line: 1,
        };
    }
    // Find the closing fence: the next line that is exactly `+++`.
    let toml_start = (first_line_end + 1).min(source.len());
    let mut offset = toml_start;
    let mut closing = None;
    for line in source[toml_start..].split_inclusive('\n') {
        if line.trim_end() == FENCE {
            closing = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((close_start, body_start)) = closing else {
        problems.push(Diagnostic::new(
            file,
            1,
            "the front matter opened on line 1 is never closed with a `+++` line",
        ));
        return Split {
            meta: None,
            body: "",
            body_first_line: line_at(source, source.len(), 1),
        };
    };
    let toml_text = &source[toml_start..close_start];
    let body = &source[body_start..];
    let body_first_line = line_at(source, body_start, 1);
    // Lines inside the TOML text are offset by the opening fence line.
    let toml_line = |offset: usize| line_at(toml_text, offset, 2);

    let raw: RawMeta = match toml::from_str(toml_text) {
        Ok(raw) => raw,
        Err(error) => {
            let line = error.span().map_or(1, |span| toml_line(span.start));
            problems.push(Diagnostic::new(
                file,
                line,
                format!("invalid front matter: {}", error.message()),
            ));
            return Split {
                meta: None,
                body,
                body_first_line,
            };
        }
    };

    let lines = MetaLines {
        id: toml_line(raw.id.span().start),
        title: toml_line(raw.title.span().start),
        stage: toml_line(raw.stage.span().start),
        prerequisites: toml_line(raw.prerequisites.span().start),
        topic: toml_line(raw.topic.span().start),
    };
    let summary_line = toml_line(raw.summary.span().start);
    let minutes_line = toml_line(raw.minutes.span().start);
    let meta = LessonMeta {
        id: raw.id.into_inner(),
        title: raw.title.into_inner(),
        stage: raw.stage.into_inner(),
        prerequisites: raw.prerequisites.into_inner(),
        summary: raw.summary.into_inner(),
        minutes: raw.minutes.into_inner(),
        topic: raw.topic.into_inner(),
        lines,
    };
    if meta.id != stem {
        problems.push(Diagnostic::new(
            file,
            lines.id,
            format!(
                "front matter id `{}` must equal the file name `{stem}`",
                meta.id
            ),
        ));
    }
    if meta.title.trim().is_empty() {
        problems.push(Diagnostic::new(file, lines.title, "the title is empty"));
    }
    if meta.summary.trim().is_empty() {
        problems.push(Diagnostic::new(file, summary_line, "the summary is empty"));
    }
    if dlf_engine::lessons::find(&meta.topic).is_none() {
        let known: Vec<&str> = dlf_engine::lessons::ALL.iter().map(|l| l.topic).collect();
        problems.push(Diagnostic::new(
            file,
            lines.topic,
            format!(
                "unknown topic `{}`: a topic names the lesson's folder in crates/dlf-engine/src/lessons/ and is registered in that folder's mod.rs; known topics: {}",
                meta.topic,
                known.join(", ")
            ),
        ));
    }
    if meta.minutes == 0 {
        problems.push(Diagnostic::new(
            file,
            minutes_line,
            "minutes must be at least 1",
        ));
    }
    Split {
        meta: Some(meta),
        body,
        body_first_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_starts_after_the_closing_fence() {
        let source = "+++\nid = \"01-a\"\ntitle = \"A\"\nstage = \"s\"\nprerequisites = []\nsummary = \"S.\"\nminutes = 5\ntopic = \"backprop\"\n+++\nfirst body line\n";
        let mut problems = Vec::new();
        let split = split(Path::new("01-a.md"), "01-a", source, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(split.body, "first body line\n");
        assert_eq!(split.body_first_line, 10);
        let meta = split.meta.unwrap();
        assert_eq!(meta.lines.stage, 4);
        assert_eq!(meta.minutes, 5);
        assert_eq!((meta.topic.as_str(), meta.lines.topic), ("backprop", 8));
    }

    #[test]
    fn an_unknown_topic_names_its_line_and_the_known_ones() {
        let source = "+++\nid = \"01-a\"\ntitle = \"A\"\nstage = \"s\"\nprerequisites = []\nsummary = \"S.\"\nminutes = 5\ntopic = \"optimizer\"\n+++\n";
        let mut problems = Vec::new();
        split(Path::new("01-a.md"), "01-a", source, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 8);
        let message = problems[0].to_string();
        assert!(
            message.contains("unknown topic `optimizer`")
                && message.contains("backprop, optim, norm"),
            "{message}"
        );
    }

    #[test]
    fn toml_errors_point_into_the_file() {
        let source = "+++\nid = \"01-a\"\ntitle = A\n+++\n";
        let mut problems = Vec::new();
        let split = split(Path::new("01-a.md"), "01-a", source, &mut problems);
        assert!(split.meta.is_none());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3, "{}", problems[0]);
    }
}

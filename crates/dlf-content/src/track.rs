//! The course's order: `content/track.toml`.
//!
//! The track lists the stages (what a learner can do after each) and every lesson in its strict linear
//! order, written or not. It is the single source of truth for a lesson's number, title, stage and
//! prerequisite: a lesson file must agree with its entry here (see [`crate::site`]).
//!
//! ```toml
//! [[stage]]
//! id = "foundation"
//! title = "Foundation"
//! outcome = "Derive the gradients of a small network by hand, ..."
//!
//! [[lesson]]
//! id = "01-backprop"
//! title = "Backpropagation"
//! stage = "foundation"
//! ```

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostic::{line_at, Diagnostic};

/// A stage of the track: a group of consecutive lessons and what a learner can do after finishing them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// The stage id lessons refer to in their front matter, e.g. `foundation`.
    pub id: String,
    /// The stage's title on the landing page.
    pub title: String,
    /// One sentence: what a learner can do after the stage.
    pub outcome: String,
}

/// One lesson of the track, whether or not its file has been written yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackEntry {
    /// `NN-slug`, where `NN` is the lesson's 1-based place in the track.
    pub id: String,
    /// The lesson's title.
    pub title: String,
    /// The id of the stage the lesson belongs to.
    pub stage: String,
    /// The line of the entry's `id` in track.toml, for diagnostics.
    pub line: usize,
}

/// The parsed and validated `track.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Track {
    /// The stages, in the order a learner meets them.
    pub stages: Vec<Stage>,
    /// Every lesson, in the track's strict linear order.
    pub lessons: Vec<TrackEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrack {
    #[serde(default)]
    stage: Vec<RawStage>,
    #[serde(default)]
    lesson: Vec<RawLesson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    id: Spanned<String>,
    title: String,
    outcome: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    id: Spanned<String>,
    title: String,
    stage: Spanned<String>,
}

impl Track {
    /// Parses and validates the text of `track.toml` (`file` is only used in diagnostics).
    ///
    /// Checks: stage and lesson ids are unique; every lesson names a known stage; lesson ids are `NN-slug`
    /// with `NN` equal to the lesson's 1-based position; stages are visited in order (a lesson's stage is the
    /// previous lesson's stage or a later one) and every stage has at least one lesson.
    pub fn parse(file: &Path, source: &str) -> Result<Track, Vec<Diagnostic>> {
        let raw: RawTrack = toml::from_str(source).map_err(|error| {
            let line = error
                .span()
                .map_or(1, |span| line_at(source, span.start, 1));
            vec![Diagnostic::new(
                file,
                line,
                format!("invalid track.toml: {}", error.message()),
            )]
        })?;
        let mut problems = Vec::new();
        let line_of = |spanned_start: usize| line_at(source, spanned_start, 1);

        let mut stage_ids = HashSet::new();
        let mut stages = Vec::new();
        for stage in raw.stage {
            let line = line_of(stage.id.span().start);
            let id = stage.id.into_inner();
            if !is_slug(&id) {
                problems.push(Diagnostic::new(
                    file,
                    line,
                    format!("stage id `{id}` must be lowercase letters, digits and hyphens"),
                ));
            }
            if !stage_ids.insert(id.clone()) {
                problems.push(Diagnostic::new(
                    file,
                    line,
                    format!("duplicate stage id `{id}`"),
                ));
                continue;
            }
            for (field, value) in [("title", &stage.title), ("outcome", &stage.outcome)] {
                if value.trim().is_empty() {
                    problems.push(Diagnostic::new(
                        file,
                        line,
                        format!("stage `{id}` has an empty {field}"),
                    ));
                }
            }
            stages.push(Stage {
                id,
                title: stage.title,
                outcome: stage.outcome,
            });
        }
        if stages.is_empty() {
            problems.push(Diagnostic::new(file, 1, "track.toml lists no [[stage]]"));
        }

        let mut lesson_ids = HashSet::new();
        let mut lessons = Vec::new();
        let mut previous_stage_index = 0;
        let mut stage_used = vec![false; stages.len()];
        for (index, lesson) in raw.lesson.into_iter().enumerate() {
            let line = line_of(lesson.id.span().start);
            let stage_line = line_of(lesson.stage.span().start);
            let id = lesson.id.into_inner();
            let stage = lesson.stage.into_inner();
            let expected_prefix = format!("{:02}-", index + 1);
            let slug_ok = id.strip_prefix(&expected_prefix).is_some_and(is_slug);
            if !slug_ok {
                problems.push(Diagnostic::new(
                    file,
                    line,
                    format!(
                        "lesson id `{id}` must be `{expected_prefix}slug`: its number is its place in the track"
                    ),
                ));
            }
            if !lesson_ids.insert(id.clone()) {
                problems.push(Diagnostic::new(
                    file,
                    line,
                    format!("duplicate lesson id `{id}`"),
                ));
            }
            if lesson.title.trim().is_empty() {
                problems.push(Diagnostic::new(
                    file,
                    line,
                    format!("lesson `{id}` has an empty title"),
                ));
            }
            match stages.iter().position(|s| s.id == stage) {
                None => problems.push(Diagnostic::new(
                    file,
                    stage_line,
                    format!("lesson `{id}` names unknown stage `{stage}`"),
                )),
                Some(stage_index) => {
                    if stage_index < previous_stage_index {
                        problems.push(Diagnostic::new(
                            file,
                            stage_line,
                            format!(
                                "lesson `{id}` goes back to stage `{stage}` after stage `{}`: stages are visited in order",
                                stages[previous_stage_index].id
                            ),
                        ));
                    }
                    previous_stage_index = previous_stage_index.max(stage_index);
                    stage_used[stage_index] = true;
                }
            }
            lessons.push(TrackEntry {
                id,
                title: lesson.title,
                stage,
                line,
            });
        }
        for (stage, used) in stages.iter().zip(&stage_used) {
            if !used {
                problems.push(Diagnostic::new(
                    file,
                    1,
                    format!("stage `{}` has no lessons", stage.id),
                ));
            }
        }

        if problems.is_empty() {
            Ok(Track { stages, lessons })
        } else {
            Err(problems)
        }
    }

    /// The track entry with id `id`.
    pub fn entry(&self, id: &str) -> Option<&TrackEntry> {
        self.lessons.iter().find(|entry| entry.id == id)
    }

    /// The 0-based position of lesson `id` in the track.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.lessons.iter().position(|entry| entry.id == id)
    }

    /// The stage with id `id`.
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.id == id)
    }

    /// The lessons of stage `stage_id`, in track order.
    pub fn lessons_in<'a>(
        &'a self,
        stage_id: &'a str,
    ) -> impl Iterator<Item = &'a TrackEntry> + 'a {
        self.lessons
            .iter()
            .filter(move |entry| entry.stage == stage_id)
    }
}

/// Whether `s` is a non-empty run of lowercase ASCII letters, digits and single inner hyphens.
pub(crate) fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_line_of_a_misnumbered_lesson() {
        let source = "[[stage]]\nid = \"a\"\ntitle = \"A\"\noutcome = \"x\"\n\n[[lesson]]\nid = \"02-first\"\ntitle = \"First\"\nstage = \"a\"\n";
        let problems = Track::parse(Path::new("track.toml"), source).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 7);
        assert!(
            problems[0].message.contains("`01-slug`"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn slugs() {
        assert!(is_slug("why-transpose"));
        assert!(is_slug("w1"));
        assert!(!is_slug("Why"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
        assert!(!is_slug(""));
    }
}

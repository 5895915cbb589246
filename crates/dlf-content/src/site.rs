//! The whole course: the track, the landing page's prose and every written lesson, loaded and validated once.
//!
//! [`Site::load`] reads `track.toml`, `track.md` and `lessons/*.md` from a content directory;
//! [`Site::load_embedded`] reads the copy of `content/` compiled into the library by `build.rs`. Both run the
//! same checks and collect every problem before returning. Everything is rendered here, once: serving a page
//! later only looks up its HTML.

use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::html::IdSet;
use crate::lesson::Lesson;
use crate::markdown::{self, Context, Heading};
use crate::track::{Track, TrackEntry};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_content.rs"));
}

/// The course, validated and rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// The stages and the lessons in order.
    pub track: Track,
    /// `track.md` rendered to HTML.
    pub track_html: String,
    /// The headings of `track.md`.
    pub track_headings: Vec<Heading>,
    lessons: Vec<Lesson>,
}

/// One source file of the course: its path relative to the content directory and its text.
#[derive(Debug, Clone)]
struct SourceFile {
    relative: String,
    text: Result<String, String>,
}

impl Site {
    /// Loads and validates the course in `content_dir`; every problem is returned if there is any.
    pub fn load(content_dir: &Path) -> Result<Site, Diagnostics> {
        let (site, problems) = Site::load_with_diagnostics(content_dir);
        if problems.is_empty() {
            Ok(site)
        } else {
            Err(problems)
        }
    }

    /// Loads the course in `content_dir` as far as possible and returns it with every problem found.
    ///
    /// Lessons whose front matter could not be parsed are left out; everything else is rendered.
    pub fn load_with_diagnostics(content_dir: &Path) -> (Site, Diagnostics) {
        let mut files = Vec::new();
        for relative in ["track.toml", "track.md"] {
            files.push(SourceFile {
                relative: relative.to_owned(),
                text: fs::read_to_string(content_dir.join(relative)).map_err(|e| e.to_string()),
            });
        }
        let mut read_errors = Vec::new();
        let lessons_dir = content_dir.join("lessons");
        match fs::read_dir(&lessons_dir) {
            Ok(entries) => {
                let mut paths: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
                    .collect();
                paths.sort();
                for path in paths {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    files.push(SourceFile {
                        relative: format!("lessons/{name}"),
                        text: fs::read_to_string(&path).map_err(|e| e.to_string()),
                    });
                }
            }
            Err(error) => read_errors.push(Diagnostic::new(
                &lessons_dir,
                1,
                format!("cannot read the lessons folder: {error}"),
            )),
        }
        let (site, mut problems) = Site::from_sources(content_dir, files);
        read_errors.append(&mut problems.0);
        (site, Diagnostics(read_errors))
    }

    /// Loads the course compiled into the library (the `content/` folder when it was built).
    ///
    /// Diagnostics name files as `content/...`.
    pub fn load_embedded() -> Result<Site, Diagnostics> {
        let (site, problems) = Site::load_embedded_with_diagnostics();
        if problems.is_empty() {
            Ok(site)
        } else {
            Err(problems)
        }
    }

    /// Like [`Site::load_embedded`], returning the course as far as it loads together with every problem.
    pub fn load_embedded_with_diagnostics() -> (Site, Diagnostics) {
        let mut files: Vec<SourceFile> = Vec::new();
        for relative in ["track.toml", "track.md"] {
            let text = embedded::FILES
                .iter()
                .find(|(path, _)| *path == relative)
                .map(|(_, text)| (*text).to_owned())
                .ok_or_else(|| "not found in the embedded course".to_owned());
            files.push(SourceFile {
                relative: relative.to_owned(),
                text,
            });
        }
        for (path, text) in embedded::FILES {
            let is_lesson = path
                .strip_prefix("lessons/")
                .is_some_and(|name| !name.contains('/') && name.ends_with(".md"));
            if is_lesson {
                files.push(SourceFile {
                    relative: (*path).to_owned(),
                    text: Ok((*text).to_owned()),
                });
            }
        }
        Site::from_sources(Path::new("content"), files)
    }

    fn from_sources(content_dir: &Path, files: Vec<SourceFile>) -> (Site, Diagnostics) {
        let mut problems = Vec::new();
        let mut track = Track {
            stages: Vec::new(),
            lessons: Vec::new(),
        };
        let mut track_html = String::new();
        let mut track_headings = Vec::new();
        let mut lessons = Vec::new();
        let mut lesson_sources = Vec::new();

        for file in files {
            let path = content_dir.join(&file.relative);
            let text = match file.text {
                Ok(text) => text.replace("\r\n", "\n"),
                Err(error) => {
                    problems.push(Diagnostic::new(
                        &path,
                        1,
                        format!("cannot read {}: {error}", file.relative),
                    ));
                    continue;
                }
            };
            match file.relative.as_str() {
                "track.toml" => match Track::parse(&path, &text) {
                    Ok(parsed) => track = parsed,
                    Err(mut list) => problems.append(&mut list),
                },
                "track.md" => {
                    let mut ids = IdSet::default();
                    let mut ctx = Context {
                        file: &path,
                        problems: &mut problems,
                        ids: &mut ids,
                    };
                    let rendered = markdown::render(&text, 1, None, &mut ctx);
                    track_html = rendered.html;
                    track_headings = rendered.headings;
                }
                _ => lesson_sources.push((path, text)),
            }
        }

        for (path, text) in lesson_sources {
            let (lesson, mut list) = Lesson::parse(&path, &text);
            if let Some(lesson) = lesson {
                if !track.lessons.is_empty() {
                    check_against_track(&lesson, &track, &mut list);
                }
                if let Some(owner) = lessons
                    .iter()
                    .find(|l: &&Lesson| l.meta.topic == lesson.meta.topic)
                {
                    list.push(Diagnostic::new(
                        &path,
                        lesson.meta.lines.topic,
                        format!(
                            "topic `{}` is already the topic of lesson `{}`: each lesson has its own folder",
                            lesson.meta.topic,
                            owner.id()
                        ),
                    ));
                }
                lessons.push(lesson);
            }
            // Within one file, problems are listed top to bottom.
            list.sort_by_key(|d| d.line);
            problems.append(&mut list);
        }
        // Lessons are kept in track order; a lesson missing from the track (already reported) goes last.
        lessons.sort_by_key(|l| track.position(l.id()).unwrap_or(usize::MAX));
        (
            Site {
                track,
                track_html,
                track_headings,
                lessons,
            },
            Diagnostics(problems),
        )
    }

    /// The written lessons, in track order.
    pub fn lessons(&self) -> &[Lesson] {
        &self.lessons
    }

    /// The written lesson `id`.
    pub fn lesson(&self, id: &str) -> Option<&Lesson> {
        self.lessons.iter().find(|l| l.id() == id)
    }

    /// Every lesson of the track in order, with its written lesson when there is one.
    pub fn entries(&self) -> impl Iterator<Item = (&TrackEntry, Option<&Lesson>)> + '_ {
        self.track
            .lessons
            .iter()
            .map(|entry| (entry, self.lesson(&entry.id)))
    }

    /// The lesson before `id` in the track (written or not).
    pub fn previous(&self, id: &str) -> Option<&TrackEntry> {
        let position = self.track.position(id)?;
        position.checked_sub(1).map(|p| &self.track.lessons[p])
    }

    /// The lesson after `id` in the track (written or not).
    pub fn next(&self, id: &str) -> Option<&TrackEntry> {
        let position = self.track.position(id)?;
        self.track.lessons.get(position + 1)
    }
}

/// Checks that a lesson agrees with its track entry: it is listed, has the same title and stage, and its
/// prerequisites are exactly the previous lesson.
fn check_against_track(lesson: &Lesson, track: &Track, problems: &mut Vec<Diagnostic>) {
    let meta = &lesson.meta;
    let file = &lesson.file;
    let Some(position) = track.position(&meta.id) else {
        problems.push(Diagnostic::new(
            file,
            meta.lines.id.max(1),
            format!(
                "lesson `{}` is not in track.toml: add it there, in its place in the order",
                meta.id
            ),
        ));
        return;
    };
    let entry = &track.lessons[position];
    if meta.title != entry.title {
        problems.push(Diagnostic::new(
            file,
            meta.lines.title,
            format!(
                "title `{}` differs from the track's title `{}`",
                meta.title, entry.title
            ),
        ));
    }
    if track.stage(&meta.stage).is_none() {
        problems.push(Diagnostic::new(
            file,
            meta.lines.stage,
            format!("unknown stage `{}`", meta.stage),
        ));
    } else if meta.stage != entry.stage {
        problems.push(Diagnostic::new(
            file,
            meta.lines.stage,
            format!(
                "stage `{}` differs from the track, which puts `{}` in stage `{}`",
                meta.stage, meta.id, entry.stage
            ),
        ));
    }
    let expected: Vec<String> = position
        .checked_sub(1)
        .map(|p| track.lessons[p].id.clone())
        .into_iter()
        .collect();
    if meta.prerequisites != expected {
        let want = match expected.first() {
            Some(previous) => format!("[\"{previous}\"] (the previous lesson in the track)"),
            None => "[] (it is the first lesson)".to_owned(),
        };
        problems.push(Diagnostic::new(
            file,
            meta.lines.prerequisites,
            format!("prerequisites must be {want}; the track is strictly linear"),
        ));
    }
}

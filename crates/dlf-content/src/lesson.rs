//! A validated lesson: its metadata, its rendered body and the structured pieces the product uses (derives
//! for drills, widgets, interview prompts for practice, measured claims for `dlf check`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::body::{render_body, Body};
use crate::diagnostic::Diagnostic;
use crate::front_matter::{self, LessonMeta};

/// A piece of Markdown inside a directive, with its rendered HTML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fragment {
    /// The Markdown source (trimmed), e.g. for a terminal drill.
    pub markdown: String,
    /// The rendered HTML.
    pub html: String,
    /// The line of its first line in the lesson file.
    pub line: usize,
}

/// A "derive this in 60 seconds" box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derive {
    /// The id (HTML id `derive-ID`).
    pub id: String,
    /// The title.
    pub title: String,
    /// The time allowed.
    pub seconds: u32,
    /// The line of the `:::derive`.
    pub line: usize,
    /// What to derive.
    pub prompt: Fragment,
    /// The steps, in order.
    pub steps: Vec<Fragment>,
    /// The result in one line, when given.
    pub answer: Option<Fragment>,
}

/// A live widget in a lesson.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WidgetInstance {
    /// The instance id, unique in the lesson (HTML id `w-ID`).
    pub instance: String,
    /// The widget id in the widget registry.
    pub widget: String,
    /// The caption.
    pub caption: String,
    /// The parameters set in the lesson (overriding the widget's defaults), as written.
    pub params: Vec<(String, String)>,
    /// The line of the `:::widget`.
    pub line: usize,
}

/// Whether an interview prompt is expected of everyone or is a stretch question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptLevel {
    /// Every candidate should answer it.
    Core,
    /// Separates a strong hire.
    Stretch,
}

impl PromptLevel {
    /// The keyword used in lessons.
    pub fn name(self) -> &'static str {
        match self {
            PromptLevel::Core => "core",
            PromptLevel::Stretch => "stretch",
        }
    }

    /// The label shown on the card.
    pub fn label(self) -> &'static str {
        match self {
            PromptLevel::Core => "Core",
            PromptLevel::Stretch => "Stretch",
        }
    }
}

/// An interview prompt card and its rubric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prompt {
    /// The id (HTML id `prompt-ID`).
    pub id: String,
    /// Core or stretch.
    pub level: PromptLevel,
    /// The line of the `:::prompt`.
    pub line: usize,
    /// The question.
    pub question: Fragment,
    /// What a hire says: the whole `::hire` list, for the lesson page.
    pub hire: Fragment,
    /// What a strong hire adds: the whole `::strong` list, for the lesson page.
    pub strong: Fragment,
    /// The `::hire` list's items, one rubric point each (at least two), for practice.
    pub hire_points: Vec<Fragment>,
    /// The `::strong` list's items, one rubric point each (at least two), for practice.
    pub strong_points: Vec<Fragment>,
    /// The weak answer.
    pub weak: Fragment,
    /// Follow-up questions (a Markdown list).
    pub followups: Fragment,
}

/// A `:::estimate` of a lesson: an estimation generator the lesson offers for practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LessonEstimate {
    /// The generator's id in [`dlf_engine::estimate::generators`], e.g. `"backprop.backward_flops"`.
    pub generator: &'static str,
    /// The generator's short title.
    pub title: &'static str,
    /// The line of the `:::estimate`.
    pub line: usize,
    /// The optional one-line introduction written in the directive's body.
    pub intro: Option<Fragment>,
}

/// A highlighted aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// `pitfall`, `aside` or `hardware`.
    pub kind: String,
    /// The line of the `:::note`.
    pub line: usize,
    /// Its text.
    pub body: Fragment,
}

/// How many of each directive a lesson must have, from content/FORMAT.md: at least one derive, one widget,
/// six prompts, three claims, two estimates, and exactly one sources list.
pub const REQUIRED_COUNTS: [(&str, usize); 6] = [
    ("derive", 1),
    ("widget", 1),
    ("prompt", 6),
    ("claim", 3),
    ("estimate", 2),
    ("sources", 1),
];

/// One lesson, parsed, validated and rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// The front matter.
    pub meta: LessonMeta,
    /// The file it was read from.
    pub file: PathBuf,
    /// The rendered body (without the title, which the theme writes) and what it contains: headings,
    /// derive boxes, widgets, prompts, measured claims, notes and sources, in order.
    pub body: Body,
}

impl Lesson {
    /// Parses, validates and renders the lesson in `source`, read from `file`.
    ///
    /// Checks everything that can be checked from the file alone: front matter, directive grammar, maths,
    /// widgets, claims, `{{num}}` and the required directive counts. Agreement with track.toml is checked by
    /// [`crate::Site`]. Returns the lesson when its front matter parsed (even if other problems were found,
    /// so that `dlf check --json` can list its claims) and every problem.
    pub fn parse(file: &Path, source: &str) -> (Option<Lesson>, Vec<Diagnostic>) {
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let mut problems = Vec::new();
        let split = front_matter::split(file, stem, source, &mut problems);
        let topic = split.meta.as_ref().map(|m| m.topic.as_str());
        let (body, body_problems) = render_body(file, split.body, split.body_first_line, topic);
        problems.extend(body_problems);
        for (name, minimum) in REQUIRED_COUNTS {
            let found = body.counts.get(name).copied().unwrap_or(0);
            if found < minimum {
                let message = if name == "sources" {
                    "a lesson needs a `:::sources` list of its primary sources".to_owned()
                } else {
                    format!("a lesson needs at least {minimum} `:::{name}`; found {found}")
                };
                problems.push(Diagnostic::new(file, 1, message));
            }
        }
        let lesson = split.meta.map(|meta| Lesson {
            meta,
            file: file.to_path_buf(),
            body,
        });
        (lesson, problems)
    }

    /// The lesson id (`NN-slug`).
    pub fn id(&self) -> &str {
        &self.meta.id
    }
}

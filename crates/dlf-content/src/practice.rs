//! The practice deck: every card of every written lesson, rendered (HTML) and as source (Markdown).
//!
//! A lesson yields three kinds of card (docs/PRACTICE.md):
//!
//! - a [`DeriveCard`] for each `:::derive` box (a timed derivation drill, steps revealed one at a time);
//! - a [`PromptCard`] for each `:::prompt` (the interview question and its rubric, one point per list item of
//!   `::hire` and `::strong`);
//! - an [`EstimateCard`] for each `:::estimate` (an estimation generator of [`dlf_engine::estimate`]; each
//!   review draws a fresh problem from a seed, which [`render_estimate`] turns into HTML).
//!
//! Card ids are `LESSON/KIND/ID`, e.g. `01-backprop/prompt/p-softmax-ce`, `01-backprop/derive/softmax-ce`,
//! `01-backprop/estimate/backprop.backward_flops`, and cards are ordered by lesson (track order), then derive
//! boxes, prompts and estimates, each in file order.

use std::path::Path;

use dlf_engine::estimate::Estimate;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::html::IdSet;
use crate::lesson::{Fragment, Lesson, PromptLevel};
use crate::markdown::{self, Context};
use crate::site::Site;

/// Every practice card of the course, in course order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deck {
    /// The cards: by lesson in track order, then derive boxes, prompts, estimates in file order.
    pub cards: Vec<Card>,
}

/// One practice card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    /// `LESSON/KIND/ID`, e.g. `01-backprop/prompt/p-softmax-ce`; only ASCII letters, digits and `-_./`.
    pub id: String,
    /// The lesson id, e.g. `01-backprop`.
    pub lesson: String,
    /// The lesson's title.
    pub lesson_title: String,
    /// A short plain-text title: the derive box's title, the prompt's question (shortened), the generator's
    /// title.
    pub title: String,
    /// The title as inline HTML, its maths rendered as MathML (for pages; `title` is for terminals and files).
    pub title_html: String,
    /// What the card asks and how it is answered.
    pub kind: CardKind,
}

/// The three kinds of card.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CardKind {
    /// An interview prompt with its rubric.
    Prompt(PromptCard),
    /// A timed derivation drill.
    Derive(DeriveCard),
    /// An estimation problem drawn fresh from a generator.
    Estimate(EstimateCard),
}

impl CardKind {
    /// The kind's name as it appears in card ids and tags: `prompt`, `derive` or `estimate`.
    pub fn name(&self) -> &'static str {
        match self {
            CardKind::Prompt(_) => "prompt",
            CardKind::Derive(_) => "derive",
            CardKind::Estimate(_) => "estimate",
        }
    }
}

/// An interview prompt: the question, then the rubric a learner ticks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptCard {
    /// Core or stretch.
    pub level: PromptLevel,
    /// The question.
    pub question: Fragment,
    /// What a hire says, one rubric point per entry (at least two).
    pub hire: Vec<Fragment>,
    /// What a strong hire adds, one rubric point per entry (at least two).
    pub strong: Vec<Fragment>,
    /// The weak answer, shown for contrast.
    pub weak: Fragment,
    /// The follow-up questions (a Markdown list).
    pub followups: Fragment,
}

/// A derivation drill: the prompt, the time allowed, the steps revealed one at a time and the result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeriveCard {
    /// The time allowed, in seconds.
    pub seconds: u32,
    /// What to derive.
    pub prompt: Fragment,
    /// The steps, in order.
    pub steps: Vec<Fragment>,
    /// The result in one line, when the lesson gives it.
    pub answer: Option<Fragment>,
}

/// An estimation card: which generator draws its problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EstimateCard {
    /// The generator id, e.g. `"backprop.backward_flops"`; pass it to [`dlf_engine::estimate::generate`] with a
    /// seed and give the result to [`render_estimate`].
    pub generator: &'static str,
}

/// A generated estimation problem with its question and worked solution rendered to HTML (maths as MathML).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedEstimate {
    /// The problem as the engine generated it (Markdown source, answer, unit, tolerance).
    pub estimate: Estimate,
    /// The question as HTML.
    pub question_html: String,
    /// Each step of the worked solution as HTML, in order.
    pub solution_html: Vec<String>,
}

/// The seed of the sample problem a lesson page shows for each `:::estimate`, so that the page is the same at
/// every build.
pub const SAMPLE_SEED: u64 = 1;

impl Deck {
    /// Every card of every written lesson of `site`, in course order.
    pub fn from_site(site: &Site) -> Deck {
        let mut cards = Vec::new();
        for lesson in site.lessons() {
            cards.extend(lesson_cards(lesson));
        }
        Deck { cards }
    }

    /// The card with id `id`.
    pub fn card(&self, id: &str) -> Option<&Card> {
        self.cards.iter().find(|c| c.id == id)
    }

    /// The cards of lesson `lesson`, in order.
    pub fn lesson_cards<'a>(&'a self, lesson: &'a str) -> impl Iterator<Item = &'a Card> + 'a {
        self.cards.iter().filter(move |c| c.lesson == lesson)
    }
}

/// The cards of one lesson: derive boxes, prompts, estimates, each in file order.
fn lesson_cards(lesson: &Lesson) -> Vec<Card> {
    let id = lesson.id();
    let card = |kind_name: &str, local: &str, title: String, kind: CardKind| Card {
        id: format!("{id}/{kind_name}/{local}"),
        lesson: id.to_owned(),
        lesson_title: lesson.meta.title.clone(),
        title_html: title_html(&title),
        title,
        kind,
    };
    let mut cards = Vec::new();
    for derive in &lesson.body.derives {
        cards.push(card(
            "derive",
            &derive.id,
            derive.title.clone(),
            CardKind::Derive(DeriveCard {
                seconds: derive.seconds,
                prompt: derive.prompt.clone(),
                steps: derive.steps.clone(),
                answer: derive.answer.clone(),
            }),
        ));
    }
    for prompt in &lesson.body.prompts {
        cards.push(card(
            "prompt",
            &prompt.id,
            short_title(&prompt.question.markdown),
            CardKind::Prompt(PromptCard {
                level: prompt.level,
                question: prompt.question.clone(),
                hire: prompt.hire_points.clone(),
                strong: prompt.strong_points.clone(),
                weak: prompt.weak.clone(),
                followups: prompt.followups.clone(),
            }),
        ));
    }
    for estimate in &lesson.body.estimates {
        cards.push(card(
            "estimate",
            estimate.generator,
            estimate.title.to_owned(),
            CardKind::Estimate(EstimateCard {
                generator: estimate.generator,
            }),
        ));
    }
    cards
}

/// A card title as inline HTML. The title comes from a lesson that has already validated, so its Markdown
/// and maths render without problems; should one appear anyway, the escaped plain title is used instead.
fn title_html(title: &str) -> String {
    let file = Path::new("<card title>");
    let mut problems = Vec::new();
    let mut ids = IdSet::default();
    let mut ctx = Context {
        file,
        problems: &mut problems,
        ids: &mut ids,
    };
    let (html, inline) = markdown::render_inline(title, 1, None, &mut ctx);
    if inline && problems.is_empty() {
        html
    } else {
        crate::html::escape(title)
    }
}

/// The longest a prompt card's title gets, in characters, before it is cut at a word.
const TITLE_CHARS: usize = 90;

/// A one-line title from a prompt's Markdown question: its first line, cut at a word boundary with an
/// ellipsis when longer than [`TITLE_CHARS`]. Maths stays as its `$...$` source.
fn short_title(markdown: &str) -> String {
    let joined = markdown.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= TITLE_CHARS {
        return joined;
    }
    let mut out = String::new();
    for word in joined.split(' ') {
        if out.chars().count() + word.chars().count() + 1 > TITLE_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    // A cut inside a formula would leave an odd number of `$`; drop the unfinished formula.
    if out.matches('$').count() % 2 == 1 {
        if let Some(at) = out.rfind('$') {
            out.truncate(at);
            out.truncate(out.trim_end().len());
        }
    }
    out.push('…');
    out
}

/// Renders a generated problem's question and worked solution through the lessons' Markdown and maths
/// pipeline (maths becomes MathML).
///
/// The engine's generators are tested to produce valid Markdown and LaTeX; should one not, the problem is
/// still rendered as far as possible, and [`render_estimate_checked`] reports it.
pub fn render_estimate(e: Estimate) -> RenderedEstimate {
    render_estimate_checked(e).0
}

/// Like [`render_estimate`], also returning every Markdown or LaTeX problem found in the generated text
/// (the file is named `<generator ID seed SEED>` and the line is 1).
pub fn render_estimate_checked(e: Estimate) -> (RenderedEstimate, Vec<Diagnostic>) {
    let name = format!("<generator {} seed {}>", e.generator, e.seed);
    let file = Path::new(&name);
    let mut problems = Vec::new();
    let mut ids = IdSet::default();
    let rendered = {
        let mut ctx = Context {
            file,
            problems: &mut problems,
            ids: &mut ids,
        };
        render_estimate_in(e, 1, None, &mut ctx)
    };
    (rendered, problems)
}

/// Renders a generated problem inside a lesson, reporting problems at `line` under `label`.
pub(crate) fn render_estimate_in(
    e: Estimate,
    line: usize,
    label: Option<&str>,
    ctx: &mut Context<'_>,
) -> RenderedEstimate {
    let question_html = markdown::render(&e.question, line, label, ctx).html;
    let solution_html = e
        .solution
        .iter()
        .map(|step| markdown::render(step, line, label, ctx).html)
        .collect();
    RenderedEstimate {
        estimate: e,
        question_html,
        solution_html,
    }
}

/// How a problem's answer is given and graded, in one sentence: "Answer in MiB, accepted within 5 %." or
/// "Answer as a number, accepted exactly, to within a relative error of 1e-6." (plain text, not HTML-escaped).
pub fn grading_text(estimate: &Estimate) -> String {
    let unit = if estimate.unit.is_empty() {
        "as a number".to_owned()
    } else {
        format!("in {}", estimate.unit)
    };
    format!(
        "Answer {unit}, accepted {}.",
        tolerance_text(estimate.rel_tolerance)
    )
}

/// The accepted tolerance in words: `"within 10 %"` for an estimate, `"exactly, to within a relative error of 1e-6"`
/// for a count graded to a tiny relative error.
pub fn tolerance_text(rel_tolerance: f64) -> String {
    if rel_tolerance >= 1e-3 {
        let percent = rel_tolerance * 100.0;
        // Whole percentages print without decimals; 2.5 % keeps its one decimal.
        let shown = if (percent - percent.round()).abs() < 1e-9 {
            format!("{percent:.0}")
        } else {
            format!("{percent:.1}")
        };
        format!("within {shown} %")
    } else {
        format!("exactly, to within a relative error of {rel_tolerance:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_titles_cut_at_words_and_never_inside_maths() {
        assert_eq!(short_title("Why is\n$x$ fine?"), "Why is $x$ fine?");
        let long = format!("{} $a + b$ tail", "word ".repeat(17));
        let title = short_title(&long);
        assert!(title.ends_with('…'), "{title}");
        assert_eq!(title.matches('$').count() % 2, 0, "{title}");
        assert!(title.chars().count() <= TITLE_CHARS + 1, "{title}");
    }

    #[test]
    fn tolerance_words() {
        assert_eq!(tolerance_text(0.1), "within 10 %");
        assert_eq!(tolerance_text(0.05), "within 5 %");
        assert_eq!(tolerance_text(0.025), "within 2.5 %");
        assert_eq!(
            tolerance_text(1e-6),
            "exactly, to within a relative error of 1e-6"
        );
    }
}

//! The practice deck as a file Anki imports: Anki's plain-text import format ("Importing → Text Files" in the
//! Anki manual), with file headers that fix every import option.
//!
//! ```text
//! #separator:tab
//! #html:true
//! #notetype:Basic
//! #deck:dlf
//! #tags column:3
//! FRONT<TAB>BACK<TAB>dlf lesson::01-backprop kind::prompt
//! ```
//!
//! - One line per card, three tab-separated columns: the front (the question), the back (the rubric, the steps
//!   or a sample estimate with its worked solution) and the tags (`dlf`, `lesson::LESSON`, `kind::KIND`; Anki
//!   shows `::` as a tag hierarchy).
//! - Fields are HTML (`#html:true`), rendered from each card's Markdown source, not from the MathML of the
//!   lesson pages: Anki typesets maths with MathJax, so `$...$` becomes `\(...\)` and `$$...$$` becomes
//!   `\[...\]` with the LaTeX unchanged (HTML-escaped, which MathJax reads back as the original characters).
//! - Nothing in a field can break the file apart: a field has no tab and no newline (line breaks in code
//!   become `<br>`, soft breaks become spaces), `"` is written `&quot;` so that Anki's CSV reader never sees a
//!   quoted field, and a literal dollar sign is written `&#36;`.
//! - The headers are read by Anki's importer (rslib `import_export/text/csv/metadata.rs`) as `#key:value`
//!   lines. `#notetype:Basic` names the stock note type every collection has. `#deck:dlf` selects a deck
//!   named `dlf` only if the collection already has one; Anki does not create it and falls back to its default
//!   deck otherwise (its own test `should_detect_deck_by_name_or_id` checks that fallback), so a learner
//!   creates the `dlf` deck first or picks a deck in the import dialog.
//! - An estimate card is a sample problem drawn with [`SAMPLE_SEED`], the same one the lesson page shows: an
//!   Anki card is static, so the fresh numbers of `dlf drill` and the web practice page cannot be had there.

use std::fmt::Write as _;
use std::ops::Range;

use pulldown_cmark::{CowStr, Event, Parser, Tag, TagEnd};

use crate::html::escape;
use crate::lesson::Fragment;
use crate::markdown;
use crate::number;
use crate::practice::{Card, CardKind, Deck, SAMPLE_SEED};

/// The header lines, in the order written; each ends with a newline.
pub const ANKI_HEADER: &str =
    "#separator:tab\n#html:true\n#notetype:Basic\n#deck:dlf\n#tags column:3\n";

/// The deck as the text of an Anki import file: [`ANKI_HEADER`], then one line per card in deck order.
pub fn anki_export(deck: &Deck) -> String {
    let mut out = String::from(ANKI_HEADER);
    for card in &deck.cards {
        let (front, back) = fields(card);
        let _ = writeln!(out, "{front}\t{back}\t{}", tags(card));
    }
    out
}

/// The tags of a card: `dlf lesson::LESSON kind::KIND`.
pub fn tags(card: &Card) -> String {
    format!(
        "dlf lesson::{} kind::{}",
        tag_word(&card.lesson),
        card.kind.name()
    )
}

/// A tag may not contain whitespace (Anki splits tags at spaces); lesson ids never do, but the rule is kept
/// here rather than assumed.
fn tag_word(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// The front and back of a card, as single-line HTML.
fn fields(card: &Card) -> (String, String) {
    // The lesson's title heads every front; derive and estimate cards add their own title (a prompt's title
    // is its question, shown in full below).
    let source = format!("<p>{}</p>", escape_field(&card.lesson_title));
    let title = field(&card.title);
    let title = title
        .strip_prefix("<p>")
        .and_then(|t| t.strip_suffix("</p>"))
        .unwrap_or(&title);
    match &card.kind {
        CardKind::Prompt(prompt) => {
            let front = format!(
                "{source}<p><b>Interview prompt ({})</b></p>{}",
                prompt.level.name(),
                field(&prompt.question.markdown)
            );
            let mut back = String::new();
            back.push_str("<p><b>What a hire says</b></p>");
            back.push_str(&points(&prompt.hire));
            back.push_str("<p><b>What a strong hire adds</b></p>");
            back.push_str(&points(&prompt.strong));
            back.push_str("<p><b>The weak answer</b></p>");
            back.push_str(&field(&prompt.weak.markdown));
            back.push_str("<p><b>Follow-up questions</b></p>");
            back.push_str(&field(&prompt.followups.markdown));
            (front, back)
        }
        CardKind::Derive(derive) => {
            let front = format!(
                "{source}<p><b>Derive this in {} seconds: {title}</b></p>{}",
                derive.seconds,
                field(&derive.prompt.markdown)
            );
            let mut back = String::from("<ol>");
            for step in &derive.steps {
                let _ = write!(back, "<li>{}</li>", field(&step.markdown));
            }
            back.push_str("</ol>");
            if let Some(answer) = &derive.answer {
                let _ = write!(back, "<p><b>Result</b></p>{}", field(&answer.markdown));
            }
            (front, back)
        }
        CardKind::Estimate(estimate) => {
            match dlf_engine::estimate::generate(estimate.generator, SAMPLE_SEED) {
                Ok(problem) => {
                    let front = format!(
                        "{source}<p><b>Back-of-envelope: {title}</b></p>{}<p><i>{}</i></p>",
                        field(&problem.question),
                        escape_field(&crate::practice::grading_text(&problem))
                    );
                    let mut back = String::from("<ol>");
                    for step in &problem.solution {
                        let _ = write!(back, "<li>{}</li>", field(step));
                    }
                    back.push_str("</ol>");
                    (front, back)
                }
                // A deck is built from a validated site, whose estimates all name existing generators; the
                // card still says what went wrong rather than vanishing should that ever change.
                Err(error) => (source, escape(&error.to_string())),
            }
        }
    }
}

/// Rubric points as an HTML list.
fn points(points: &[Fragment]) -> String {
    let mut out = String::from("<ul>");
    for point in points {
        let _ = write!(out, "<li>{}</li>", field(&point.markdown));
    }
    out.push_str("</ul>");
    out
}

/// The byte ranges of code spans, code blocks and formulas, where `{{num}}` is left alone (as in the
/// lesson pages).
fn protected_ranges(text: &str) -> Vec<Range<usize>> {
    Parser::new_ext(text, markdown::options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Code(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_)
            | Event::Start(Tag::CodeBlock(_)) => Some(range),
            _ => None,
        })
        .collect()
}

/// Renders Markdown to one line of HTML for an Anki field, with maths in MathJax delimiters.
///
/// `{{num}}` shortcodes are expanded by the engine, as on the lesson page (the site they come from was
/// validated, so they expand without problems; a problem would leave the shortcode's text in place).
pub fn field(markdown_source: &str) -> String {
    let mut num_problems = Vec::new();
    let expanded = number::expand(
        markdown_source,
        &protected_ranges(markdown_source),
        &mut num_problems,
    );
    let mut in_code_block = false;
    let events = Parser::new_ext(&expanded, markdown::options()).map(|event| match event {
        Event::InlineMath(latex) => {
            Event::InlineHtml(format!("\\({}\\)", escape_math(&latex)).into())
        }
        Event::DisplayMath(latex) => {
            Event::InlineHtml(format!("\\[{}\\]", escape_math(&latex)).into())
        }
        Event::SoftBreak => Event::Text(CowStr::from(" ")),
        Event::Start(Tag::CodeBlock(kind)) => {
            in_code_block = true;
            Event::Start(Tag::CodeBlock(kind))
        }
        Event::End(TagEnd::CodeBlock) => {
            in_code_block = false;
            Event::End(TagEnd::CodeBlock)
        }
        Event::Text(text) if in_code_block => Event::Html(escape_code(&text).into()),
        Event::Text(text) => Event::InlineHtml(escape_field(&text).into()),
        Event::Code(code) => {
            Event::InlineHtml(format!("<code>{}</code>", escape_field(&code)).into())
        }
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    // What remains of newlines and tabs lies between block tags (or in raw HTML), where they carry no meaning.
    html.replace(['\n', '\r'], "").replace('\t', " ")
}

/// Escapes text for an HTML field: the HTML specials, a literal `$` (so that only MathJax's `\(` `\)` mark
/// maths), tabs (which would end the field) and newlines (which would end the note; outside code a newline
/// in text is a space).
fn escape_field(text: &str) -> String {
    escape(text)
        .replace('$', "&#36;")
        .replace('\t', "&#9;")
        .replace('\r', "")
        .replace('\n', " ")
}

/// Escapes a code block's text for a field: as [`escape_field`], with each line break kept as `<br>`.
fn escape_code(text: &str) -> String {
    escape(text)
        .replace('$', "&#36;")
        .replace('\t', "&#9;")
        .replace('\r', "")
        .replace('\n', "<br>")
}

/// Escapes LaTeX for a field: the HTML specials (MathJax reads the decoded text, so `a &lt; b` typesets as
/// `a < b`) and line breaks, which become spaces as they are in TeX.
fn escape_math(latex: &str) -> String {
    escape(latex).replace(['\n', '\r', '\t'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maths_becomes_mathjax_and_nothing_breaks_the_line() {
        let html = field("Let $a < b$ and\n\n$$\n\\frac{1}{2}\n$$\n\nsay \"hi\"\tnow, \\$5.\n\n```\nx\ty\nz\n```\n");
        assert!(html.contains("\\(a &lt; b\\)"), "{html}");
        assert!(html.contains("\\[ \\frac{1}{2} \\]"), "{html}");
        assert!(!html.contains(['\n', '\t']), "{html}");
        assert!(!html.contains('$'), "{html}");
        assert!(!html.contains('"'), "{html}");
        assert!(html.contains("x&#9;y<br>z"), "{html}");
    }

    #[test]
    fn lists_stay_lists() {
        assert_eq!(
            field("- one $x$\n- two\n"),
            "<ul><li>one \\(x\\)</li><li>two</li></ul>"
        );
    }
}

//! Markdown with maths to HTML: one function, [`render`], used for the lesson body, every directive section
//! and the landing page.
//!
//! The pipeline for one piece of Markdown:
//!
//! 1. Find code spans, code blocks and formulas (a first `pulldown-cmark` pass) so that `{{num}}` inside them
//!    is left alone, then expand every other `{{num ...}}` ([`crate::number`]).
//! 2. Parse with `pulldown-cmark` (maths, GFM tables, footnotes, smart punctuation). Maths arrives as its
//!    own events, so smart punctuation never turns a `'` in `f'(x)` into a curly quote.
//! 3. Replace each maths event by MathML ([`crate::math`]), reporting LaTeX errors with their line.
//! 4. Give every heading a unique id (a slug of its text) and record it for the table of contents.

use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, LineIndex};
use crate::html::{slugify, IdSet};
use crate::math::{self, MathMode};
use crate::number;

/// A heading of a page, for its table of contents and deep links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heading {
    /// 1 for `#`, 2 for `##`, ...
    pub level: u8,
    /// The heading's HTML id (unique in the page).
    pub id: String,
    /// The heading's plain text (formulas as their LaTeX source).
    pub text: String,
    /// The heading's content as HTML (formulas as MathML), for a table of contents.
    pub html: String,
    /// The line of the heading in its file.
    pub line: usize,
}

/// Rendered Markdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
}

/// Where the Markdown comes from and where its problems and ids go.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub file: &'a Path,
    pub problems: &'a mut Vec<Diagnostic>,
    pub ids: &'a mut IdSet,
}

/// The `pulldown-cmark` options every page uses.
pub(crate) fn options() -> Options {
    Options::ENABLE_MATH
        | Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// The byte ranges of code spans, code blocks and formulas in `text`.
fn protected_ranges(text: &str) -> Vec<Range<usize>> {
    Parser::new_ext(text, options())
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

/// A heading being collected: where its start event is, its line and its text so far.
struct OpenHeading {
    start: usize,
    line: usize,
    text: String,
}

/// Renders `text`, whose first line is line `first_line` of `ctx.file`. `directive` labels the diagnostics
/// of Markdown inside a directive.
pub(crate) fn render(
    text: &str,
    first_line: usize,
    directive: Option<&str>,
    ctx: &mut Context<'_>,
) -> Rendered {
    let mut num_problems = Vec::new();
    let expanded = number::expand(text, &protected_ranges(text), &mut num_problems);
    let source_lines = LineIndex::new(text, first_line);
    for problem in num_problems {
        ctx.problems.push(Diagnostic::in_directive(
            ctx.file,
            source_lines.line(problem.offset),
            directive,
            problem.message,
        ));
    }

    let mut events: Vec<Event<'_>> = Vec::new();
    let mut headings = Vec::new();
    let mut open: Option<OpenHeading> = None;
    let mut in_code_block = false;
    // A stray `$$` arrives as two text events; one report per line is enough.
    let mut last_dollar_line = 0;
    let lines = LineIndex::new(&expanded, first_line);
    for (event, range) in Parser::new_ext(&expanded, options()).into_offset_iter() {
        let line = lines.line(range.start);
        match event {
            Event::InlineMath(latex) => {
                if let Some(h) = open.as_mut() {
                    h.text.push_str(&latex);
                }
                let (mathml, errors) = math::render(&latex, MathMode::Inline);
                for error in errors {
                    ctx.problems
                        .push(latex_diagnostic(ctx.file, line, directive, &latex, &error));
                }
                events.push(Event::InlineHtml(mathml.into()));
            }
            Event::DisplayMath(latex) => {
                let (mathml, errors) = math::render(&latex, MathMode::Display);
                for error in errors {
                    // Point at the line inside a multi-line formula where the error is: the middle of the
                    // context the parser quoted around it.
                    let content_start = (range.start + 2).min(expanded.len());
                    let error_line = error
                        .context
                        .as_deref()
                        .and_then(|c| latex.find(c).map(|at| at + c.len() / 2))
                        .map_or(line, |at| lines.line(content_start + at));
                    ctx.problems.push(latex_diagnostic(
                        ctx.file, error_line, directive, &latex, &error,
                    ));
                }
                events.push(Event::InlineHtml(mathml.into()));
            }
            Event::Start(Tag::Heading { .. }) => {
                open = Some(OpenHeading {
                    start: events.len(),
                    line,
                    text: String::new(),
                });
                events.push(event);
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some(h) = open.take() {
                    let id = ctx.ids.unique(&slugify(&h.text));
                    let mut inner = String::new();
                    pulldown_cmark::html::push_html(
                        &mut inner,
                        events[h.start + 1..].iter().cloned(),
                    );
                    if let Event::Start(Tag::Heading { id: heading_id, .. }) = &mut events[h.start]
                    {
                        *heading_id = Some(CowStr::from(id.clone()));
                    }
                    headings.push(Heading {
                        level: level as u8,
                        id,
                        text: h.text.trim().to_owned(),
                        html: inner,
                        line: h.line,
                    });
                }
                events.push(event);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                events.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                events.push(event);
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                let is_text = matches!(event, Event::Text(_));
                if is_text
                    && !in_code_block
                    && t.contains('$')
                    && line != last_dollar_line
                    && has_unescaped_dollar(&expanded, range.clone())
                {
                    last_dollar_line = line;
                    ctx.problems.push(Diagnostic::in_directive(
                        ctx.file,
                        line,
                        directive,
                        "a `$` that does not delimit a formula: check that the formula's braces are balanced \
                         (pulldown-cmark only accepts maths with balanced `{}`), or write `\\$` for a dollar sign",
                    ));
                }
                if let Some(h) = open.as_mut() {
                    h.text.push_str(t);
                }
                events.push(event);
            }
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(expanded.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Rendered { html, headings }
}

/// Whether `text[range]` has a `$` not preceded by a backslash (the backslash of `\$` may lie just before the
/// range of the text event it produced).
fn has_unescaped_dollar(text: &str, range: Range<usize>) -> bool {
    let bytes = text.as_bytes();
    range
        .filter(|&i| bytes.get(i) == Some(&b'$'))
        .any(|i| i == 0 || bytes[i - 1] != b'\\')
}

fn latex_diagnostic(
    file: &Path,
    line: usize,
    directive: Option<&str>,
    latex: &str,
    error: &math::LatexError,
) -> Diagnostic {
    let near = error
        .context
        .as_deref()
        .unwrap_or_else(|| latex.trim())
        .replace('\n', " ");
    // A message quotes at most 80 characters of a formula, however long the formula is.
    let near = match near.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &near[..cut]),
        None => near,
    };
    Diagnostic::in_directive(
        file,
        line,
        directive,
        format!("LaTeX error: {} in `{near}`", error.message),
    )
}

/// Renders `text` and returns the inside of its single paragraph (for a claim's sentence or a one-line
/// answer), or `None` when the text is not exactly one paragraph.
pub(crate) fn render_inline(
    text: &str,
    first_line: usize,
    directive: Option<&str>,
    ctx: &mut Context<'_>,
) -> (String, bool) {
    let rendered = render(text, first_line, directive, ctx);
    let html = rendered.html.trim_end();
    match html
        .strip_prefix("<p>")
        .and_then(|h| h.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => (inner.to_owned(), true),
        _ => (rendered.html, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_str(text: &str) -> (Rendered, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        let mut ids = IdSet::default();
        let mut ctx = Context {
            file: Path::new("t.md"),
            problems: &mut problems,
            ids: &mut ids,
        };
        let rendered = render(text, 1, None, &mut ctx);
        (rendered, problems)
    }

    #[test]
    fn smart_punctuation_leaves_maths_alone() {
        let (rendered, problems) = render_str("It's \"quoted\" -- and $f'(x)$ too.");
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            rendered.html.contains("It’s “quoted” – and"),
            "{}",
            rendered.html
        );
        assert!(
            rendered.html.contains("f&#39;(x)</annotation>"),
            "{}",
            rendered.html
        );
        assert!(rendered.html.contains("<mi>′</mi>"), "{}", rendered.html);
    }

    #[test]
    fn headings_get_unique_ids_and_lines() {
        let (rendered, _) = render_str("# Intro\n\ntext\n\n## Intro\n");
        assert_eq!(rendered.headings.len(), 2);
        assert_eq!(rendered.headings[1].id, "intro-1");
        assert_eq!(rendered.headings[1].line, 5);
        assert!(
            rendered.html.contains("<h2 id=\"intro-1\">Intro</h2>"),
            "{}",
            rendered.html
        );
    }

    #[test]
    fn latex_errors_name_their_line() {
        // The formula starts on line 3; the unknown command is on line 6.
        let (_, problems) = render_str("fine $x$\n\n$$\n\\begin{aligned}\na &= 1 \\\\\nb &= \\fract{1}{2}\n\\end{aligned}\n$$\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].message,
            "LaTeX error: unknown primitive command found in `b &= \\fract{1}{2} \\end{`"
        );
        assert_eq!(problems[0].line, 6, "{}", problems[0]);
    }

    #[test]
    fn unbalanced_braces_are_not_silently_text() {
        // pulldown-cmark does not recognise maths with unbalanced braces; the stray `$$` must be reported.
        let (_, problems) = render_str("Text.\n\n$$\n\\frac{1}{\n$$\n\nA price of \\$5 is fine.\n");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert!(
            problems[0].message.contains("braces are balanced"),
            "{}",
            problems[0].message
        );
        assert_eq!(problems[1].line, 5);
    }

    #[test]
    fn inline_only_for_one_paragraph() {
        let mut problems = Vec::new();
        let mut ids = IdSet::default();
        let mut ctx = Context {
            file: Path::new("t.md"),
            problems: &mut problems,
            ids: &mut ids,
        };
        assert_eq!(
            render_inline("Just *one*.\n", 1, None, &mut ctx),
            ("Just <em>one</em>.".to_owned(), true)
        );
        assert!(!render_inline("One.\n\nTwo.\n", 1, None, &mut ctx).1);
    }
}

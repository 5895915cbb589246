//! A lesson body from Markdown-with-directives to HTML, and the structured lists (derives, widgets, prompts,
//! claims) the rest of the product uses.
//!
//! 1. [`crate::directive::scan`] lifts the directives out and leaves placeholders.
//! 2. Every directive id is reserved as an HTML id (`derive-ID`, `w-ID`, `prompt-ID`, `claim-ID`) so that
//!    heading slugs never collide with them; duplicate ids are reported.
//! 3. The remaining Markdown is rendered ([`crate::markdown`]).
//! 4. Each directive is validated against the registry and rendered; claims are measured by the engine and
//!    widgets draw their default figure.
//! 5. The directive HTML replaces its placeholder.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::claims::{self, ClaimResult};
use crate::diagnostic::Diagnostic;
use crate::directive::{self, Directive};
use crate::html::{escape, IdSet};
use crate::lesson::{Derive, Fragment, LessonEstimate, Note, Prompt, PromptLevel, WidgetInstance};
use crate::markdown::{self, Context, Heading};
use crate::practice::{self, SAMPLE_SEED};
use crate::widget_html;

/// The default time of a `:::derive`, in seconds.
pub const DEFAULT_DERIVE_SECONDS: u32 = 60;

/// A rendered lesson body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Body {
    /// The body as HTML.
    pub html: String,
    /// The body's headings (plus the sources heading), in order, for a table of contents.
    pub headings: Vec<Heading>,
    /// The `:::derive` boxes.
    pub derives: Vec<Derive>,
    /// The `:::widget` instances.
    pub widgets: Vec<WidgetInstance>,
    /// The `:::prompt` cards.
    pub prompts: Vec<Prompt>,
    /// The measured `:::claim`s (a claim the engine could not measure is reported and not listed).
    pub claims: Vec<ClaimResult>,
    /// The `:::note` asides.
    pub notes: Vec<Note>,
    /// The `:::estimate` generators the lesson offers (an unknown generator is reported and not listed).
    pub estimates: Vec<LessonEstimate>,
    /// The `:::sources` list.
    pub sources: Option<Fragment>,
    /// How many directives of each known name the body has, measured or not.
    pub counts: HashMap<&'static str, usize>,
}

/// Renders a lesson body (the text after the front matter; its first line is line `first_line` of `file`).
/// `topic` is the lesson's topic from its front matter: the `:::estimate` generators must belong to it
/// (`None`, for a body rendered on its own, skips that check).
///
/// Every problem is returned; the body is rendered as completely as possible regardless.
pub fn render_body(
    file: &Path,
    text: &str,
    first_line: usize,
    topic: Option<&str>,
) -> (Body, Vec<Diagnostic>) {
    let mut problems = Vec::new();
    let scan = directive::scan(file, text, first_line, &mut problems);
    let mut ids = IdSet::default();
    reserve_ids(file, &scan.directives, &mut ids, &mut problems);

    let rendered = {
        let mut ctx = Context {
            file,
            problems: &mut problems,
            ids: &mut ids,
        };
        markdown::render(&scan.markdown, first_line, None, &mut ctx)
    };
    let mut body = Body {
        headings: rendered.headings,
        ..Body::default()
    };
    let html = rendered.html;

    let mut rendered_directives = Vec::with_capacity(scan.directives.len());
    for directive in &scan.directives {
        let spec = directive::validate(file, directive, &mut problems);
        let directive_html = match spec {
            Some(spec) => {
                *body.counts.entry(spec.name).or_default() += 1;
                let mut ctx = Context {
                    file,
                    problems: &mut problems,
                    ids: &mut ids,
                };
                render_directive(directive, topic, &mut body, &mut ctx)
            }
            None => String::new(),
        };
        rendered_directives.push(directive_html);
    }
    // Each directive's placeholder is replaced by its HTML in one pass over the page (searching the page
    // once per directive made checking quadratic in the number of directives).
    let places = directive::find_placeholders(&html, scan.directives.len());
    let mut spliced = String::with_capacity(
        html.len() + rendered_directives.iter().map(String::len).sum::<usize>(),
    );
    let mut order: Vec<(usize, std::ops::Range<usize>)> = places
        .iter()
        .enumerate()
        .filter_map(|(index, place)| place.clone().map(|range| (index, range)))
        .collect();
    order.sort_by_key(|(_, range)| range.start);
    let mut cursor = 0;
    for (index, range) in order {
        // The HTML block is the marker plus its newline; the directive's HTML ends with its own.
        let end = range.end + usize::from(html[range.end..].starts_with('\n'));
        spliced.push_str(&html[cursor..range.start]);
        spliced.push_str(&rendered_directives[index]);
        spliced.push('\n');
        cursor = end;
    }
    spliced.push_str(&html[cursor..]);
    let html = spliced;
    for (directive, place) in scan.directives.iter().zip(&places) {
        if place.is_none() {
            problems.push(Diagnostic::in_directive(
                file,
                directive.line,
                Some(&directive.label()),
                "the directive must start at the beginning of a line, outside lists and quotes",
            ));
        }
    }
    body.html = html;
    problems.sort_by_key(|d| d.line);
    (body, problems)
}

/// Reserves every directive's HTML id and reports ids used twice by directives of the same kind.
fn reserve_ids(
    file: &Path,
    directives: &[Directive],
    ids: &mut IdSet,
    problems: &mut Vec<Diagnostic>,
) {
    let mut first_use: HashMap<(String, String), usize> = HashMap::new();
    for directive in directives {
        let prefix = match directive.name.as_str() {
            "derive" => "derive-",
            "widget" => "w-",
            "prompt" => "prompt-",
            "claim" => "claim-",
            "estimate" => "estimate-",
            _ => continue,
        };
        let id = match directive.name.as_str() {
            "estimate" => directive.get("generator").map(estimate_html_id),
            _ => directive.get("id").map(str::to_owned),
        };
        let Some(id) = id else {
            continue;
        };
        match first_use.get(&(directive.name.clone(), id.clone())) {
            Some(&line) => problems.push(Diagnostic::in_directive(
                file,
                directive.line,
                Some(&directive.label()),
                if directive.name == "estimate" {
                    format!(
                        "duplicate generator `{}`: the `:::estimate` on line {line} already offers it",
                        directive.get("generator").unwrap_or_default()
                    )
                } else {
                    format!(
                        "duplicate id `{id}`: `:::{}` on line {line} already uses it",
                        directive.name
                    )
                },
            )),
            None => {
                first_use.insert((directive.name.clone(), id.clone()), directive.line);
                ids.reserve(&format!("{prefix}{id}"));
            }
        }
    }
    ids.reserve("sources");
}

/// Renders a section (or body) of Markdown into a [`Fragment`].
fn fragment(text: &str, first_line: usize, label: &str, ctx: &mut Context<'_>) -> Fragment {
    let rendered = markdown::render(text, first_line, Some(label), ctx);
    Fragment {
        markdown: text.trim().to_owned(),
        html: rendered.html,
        line: first_line,
    }
}

fn section_fragment(
    directive: &Directive,
    name: &str,
    label: &str,
    ctx: &mut Context<'_>,
) -> Fragment {
    match directive.sections_named(name).next() {
        Some(section) => fragment(&section.text, section.first_line(), label, ctx),
        // A missing section was reported by validation; an empty fragment keeps the card's shape.
        None => Fragment {
            markdown: String::new(),
            html: String::new(),
            line: directive.line,
        },
    }
}

/// Reports a fragment that should be a Markdown list but is not.
fn require_list(fragment: &Fragment, what: &str, label: &str, ctx: &mut Context<'_>) {
    let html = fragment.html.trim_start();
    let is_list = html.starts_with("<ul>") || html.starts_with("<ol");
    if !(fragment.markdown.is_empty() || is_list) {
        ctx.problems.push(Diagnostic::in_directive(
            ctx.file,
            fragment.line,
            Some(label),
            format!("{what} must be a Markdown list (lines starting with `- `)"),
        ));
    }
}

fn render_directive(
    directive: &Directive,
    topic: Option<&str>,
    body: &mut Body,
    ctx: &mut Context<'_>,
) -> String {
    let label = directive.label();
    let id = directive.get("id").unwrap_or_default().to_owned();
    let mut html = String::new();
    match directive.name.as_str() {
        "derive" => {
            let seconds = directive
                .get("seconds")
                .and_then(|s| s.parse().ok())
                .unwrap_or(DEFAULT_DERIVE_SECONDS);
            let title = directive.get("title").unwrap_or_default().to_owned();
            let prompt = section_fragment(directive, "prompt", &label, ctx);
            let steps: Vec<Fragment> = directive
                .sections_named("step")
                .map(|s| fragment(&s.text, s.first_line(), &label, ctx))
                .collect();
            let answer = directive
                .sections_named("answer")
                .next()
                .map(|s| fragment(&s.text, s.first_line(), &label, ctx));
            let id_html = escape(&id);
            let _ = writeln!(
                html,
                r#"<section class="derive" id="derive-{id_html}" data-seconds="{seconds}" aria-labelledby="derive-{id_html}-title">"#
            );
            let _ = writeln!(
                html,
                r#"<p class="box-label">Derive this in {}</p>"#,
                duration_words(seconds)
            );
            let _ = writeln!(
                html,
                r#"<h3 id="derive-{id_html}-title">{}</h3>"#,
                escape(&title)
            );
            let _ = writeln!(
                html,
                r#"<div class="derive-prompt">{}</div>"#,
                prompt.html.trim_end()
            );
            let _ = writeln!(
                html,
                r#"<div class="derive-controls"><button type="button" class="derive-start">Start the timer</button> <span class="derive-timer" role="timer">{}</span></div>"#,
                clock(seconds)
            );
            html.push_str("<ol class=\"derive-steps\">\n");
            for step in &steps {
                let _ = writeln!(
                    html,
                    r#"<li class="derive-step">{}</li>"#,
                    step.html.trim_end()
                );
            }
            html.push_str("</ol>\n");
            html.push_str("<button type=\"button\" class=\"derive-next\" hidden>Reveal the next step</button>\n");
            if let Some(answer) = &answer {
                let _ = writeln!(
                    html,
                    r#"<div class="derive-answer">{}</div>"#,
                    answer.html.trim_end()
                );
            }
            html.push_str("</section>");
            body.derives.push(Derive {
                id,
                title,
                seconds,
                line: directive.line,
                prompt,
                steps,
                answer,
            });
        }
        "widget" => {
            let widget_id = directive.get("widget").unwrap_or_default().to_owned();
            let caption = directive.get("caption").unwrap_or_default().to_owned();
            let params = directive::spec("widget")
                .map(|s| directive.extra_attrs(s))
                .unwrap_or_default();
            match dlf_widgets::find(&widget_id) {
                None => {
                    let known: Vec<String> = dlf_widgets::registry()
                        .iter()
                        .map(|w| format!("`{}`", w.spec().id))
                        .collect();
                    ctx.problems.push(Diagnostic::in_directive(
                        ctx.file,
                        directive.line,
                        Some(&label),
                        format!(
                            "unknown widget `{widget_id}`; known widgets: {}",
                            known.join(", ")
                        ),
                    ));
                }
                Some(widget) => {
                    let pairs: Vec<(&str, &str)> = params
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    match dlf_widgets::parse_params(widget.spec(), &pairs) {
                        Ok(values) => html = widget_html::render(widget, &id, &caption, &values),
                        Err(error) => ctx.problems.push(Diagnostic::in_directive(
                            ctx.file,
                            directive.line,
                            Some(&label),
                            error.to_string(),
                        )),
                    }
                }
            }
            body.widgets.push(WidgetInstance {
                instance: id,
                widget: widget_id,
                caption,
                params,
                line: directive.line,
            });
        }
        "prompt" => {
            let level = match directive.get("level") {
                Some("stretch") => PromptLevel::Stretch,
                _ => PromptLevel::Core,
            };
            let question = section_fragment(directive, "question", &label, ctx);
            let hire = section_fragment(directive, "hire", &label, ctx);
            let strong = section_fragment(directive, "strong", &label, ctx);
            let hire_points = rubric_points(directive, "hire", &label, ctx);
            let strong_points = rubric_points(directive, "strong", &label, ctx);
            let weak = section_fragment(directive, "weak", &label, ctx);
            let followups = section_fragment(directive, "followups", &label, ctx);
            require_list(&followups, "`::followups`", &label, ctx);
            let id_html = escape(&id);
            let _ = writeln!(
                html,
                r#"<section class="prompt" id="prompt-{id_html}" data-level="{level}" aria-labelledby="prompt-{id_html}-title">"#,
                level = level.name()
            );
            let _ = writeln!(
                html,
                r#"<h3 id="prompt-{id_html}-title">Interview prompt <span class="level">{}</span></h3>"#,
                level.label()
            );
            let _ = writeln!(
                html,
                r#"<div class="question">{}</div>"#,
                question.html.trim_end()
            );
            for (class, summary, part) in [
                ("hire", "What a hire says", &hire),
                ("strong", "What a strong hire adds", &strong),
                ("weak", "The weak answer", &weak),
                ("followups", "Follow-up questions", &followups),
            ] {
                let _ = writeln!(
                    html,
                    r#"<details class="{class}"><summary>{summary}</summary>{}</details>"#,
                    part.html.trim_end()
                );
            }
            html.push_str("</section>");
            body.prompts.push(Prompt {
                id,
                level,
                line: directive.line,
                question,
                hire,
                strong,
                hire_points,
                strong_points,
                weak,
                followups,
            });
        }
        "claim" => {
            let (sentence, single) = markdown::render_inline(
                &directive.body,
                directive.body_first_line(),
                Some(&label),
                ctx,
            );
            if !single && !directive.body.trim().is_empty() {
                ctx.problems.push(Diagnostic::in_directive(
                    ctx.file,
                    directive.body_first_line(),
                    Some(&label),
                    "a claim's sentence must be one paragraph",
                ));
            }
            let id_html = escape(&id);
            match claims::evaluate(directive, sentence.clone()) {
                Ok(result) => {
                    if !result.passed {
                        ctx.problems.push(Diagnostic::in_directive(
                            ctx.file,
                            directive.line,
                            Some(&label),
                            result.failure_message(),
                        ));
                    }
                    let mark = if result.passed { "✓" } else { "✗" };
                    let _ = write!(
                        html,
                        r#"<p class="claim" id="claim-{id_html}" data-passed="{passed}">{sentence} <span class="claim-badge">engine: {measured} ({stated}) {mark}</span></p>"#,
                        passed = result.passed,
                        measured = result.measured_html(),
                        stated = result.stated_text(),
                    );
                    body.claims.push(result);
                }
                Err(messages) => {
                    for message in messages {
                        ctx.problems.push(Diagnostic::in_directive(
                            ctx.file,
                            directive.line,
                            Some(&label),
                            message,
                        ));
                    }
                    let _ = write!(
                        html,
                        r#"<p class="claim" id="claim-{id_html}" data-passed="false">{sentence} <span class="claim-badge">engine: not measured ✗</span></p>"#
                    );
                }
            }
        }
        "sources" => {
            let sources = fragment(&directive.body, directive.body_first_line(), &label, ctx);
            require_list(&sources, "the sources", &label, ctx);
            let _ = write!(
                html,
                "<section class=\"sources\" aria-labelledby=\"sources\">\n<h2 id=\"sources\">Sources</h2>\n{}</section>",
                sources.html
            );
            let heading = Heading {
                level: 2,
                id: "sources".to_owned(),
                text: "Sources".to_owned(),
                html: "Sources".to_owned(),
                line: directive.line,
            };
            let at = body
                .headings
                .iter()
                .position(|h| h.line > directive.line)
                .unwrap_or(body.headings.len());
            body.headings.insert(at, heading);
            if body.sources.is_some() {
                ctx.problems.push(Diagnostic::in_directive(
                    ctx.file,
                    directive.line,
                    Some(&label),
                    "a lesson has exactly one `:::sources`",
                ));
            }
            body.sources = Some(sources);
        }
        "estimate" => render_estimate_directive(directive, topic, body, ctx, &mut html),
        "note" => {
            let kind = directive.get("kind").unwrap_or("aside").to_owned();
            let note = fragment(&directive.body, directive.body_first_line(), &label, ctx);
            let title = match kind.as_str() {
                "pitfall" => "Pitfall",
                "hardware" => "On the hardware",
                _ => "Aside",
            };
            let _ = write!(
                html,
                "<aside class=\"note {kind}\" aria-label=\"{title}\">\n<p class=\"box-label\">{title}</p>\n{}</aside>",
                note.html,
                kind = escape(&kind)
            );
            body.notes.push(Note {
                kind,
                line: directive.line,
                body: note,
            });
        }
        _ => {}
    }
    html
}

/// The HTML id (after `estimate-`) of a lesson's `:::estimate` box: the generator id with every character
/// other than an ASCII letter or digit replaced by `-` (`backprop.backward_flops` → `backprop-backward-flops`),
/// so that the id needs no escaping in a CSS selector.
pub fn estimate_html_id(generator: &str) -> String {
    generator
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Splits section `name` of a `:::prompt`, which must be one Markdown bullet list of at least two items,
/// into its items: each item is one rubric point, rendered on its own (the point's Markdown has the list
/// marker and the item's indentation removed; its line is the item's first line).
///
/// A section that is not exactly one bullet list, or has fewer than two items, is reported at its first
/// line. A missing section was reported by validation and gives no points.
fn rubric_points(
    directive: &Directive,
    name: &str,
    label: &str,
    ctx: &mut Context<'_>,
) -> Vec<Fragment> {
    use pulldown_cmark::{Event, Parser, Tag};

    let Some(section) = directive.sections_named(name).next() else {
        return Vec::new();
    };
    let text = section.text.as_str();
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut depth = 0usize;
    let mut lists = 0usize;
    let mut ordered = false;
    let mut other_block = false;
    let mut items = Vec::new();
    for (event, range) in Parser::new_ext(text, markdown::options()).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                match (depth, tag) {
                    (0, Tag::List(start)) => {
                        lists += 1;
                        ordered |= start.is_some();
                    }
                    (0, _) => other_block = true,
                    (1, Tag::Item) => items.push(range),
                    _ => {}
                }
                depth += 1;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ if depth == 0 => other_block = true,
            _ => {}
        }
    }
    let what = format!("`::{name}`");
    if lists != 1 || ordered || other_block {
        ctx.problems.push(Diagnostic::in_directive(
            ctx.file,
            section.first_line(),
            Some(label),
            format!(
                "{what} must be one Markdown bullet list (lines starting with `- `), one rubric point per item"
            ),
        ));
        return Vec::new();
    }
    if items.len() < 2 {
        ctx.problems.push(Diagnostic::in_directive(
            ctx.file,
            section.first_line(),
            Some(label),
            format!(
                "{what} needs at least 2 rubric points (list items); found {}",
                items.len()
            ),
        ));
    }
    let lines = crate::diagnostic::LineIndex::new(text, section.first_line());
    items
        .into_iter()
        .map(|range| {
            let line = lines.line(range.start);
            let point = item_markdown(text, range);
            fragment(&point, line, label, ctx)
        })
        .collect()
}

/// The Markdown of one list item (`range` in `text`, starting at its marker) without the marker and with
/// its continuation lines de-indented by the item's content column (CommonMark 5.2).
fn item_markdown(text: &str, range: std::ops::Range<usize>) -> String {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let slice = &text[range.start..range.end.min(text.len())];
    let marker_len = slice
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '*' | '+' | '.' | ')')))
        .unwrap_or(slice.len());
    let after_marker = &slice[marker_len..];
    let first_line_end = after_marker.find('\n').unwrap_or(after_marker.len());
    let spaces = after_marker[..first_line_end].len()
        - after_marker[..first_line_end].trim_start_matches(' ').len();
    // One to four spaces after the marker belong to it; more means the content is indented code, in which
    // case only one space belongs to the marker.
    let gap = if (1..=4).contains(&spaces) {
        spaces
    } else {
        1.min(spaces)
    };
    let content_column = (range.start - line_start) + marker_len + gap;
    let mut out = String::new();
    for (i, line) in after_marker[gap..].split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            let indent = line.len() - line.trim_start_matches(' ').len();
            out.push_str(&line[indent.min(content_column)..]);
        } else {
            out.push_str(line);
        }
    }
    out.trim_end().to_owned()
}

/// Renders a `:::estimate generator="..."`: checks the generator exists and belongs to the lesson's topic, then
/// writes the "Back-of-envelope" box with the generator's sample problem ([`SAMPLE_SEED`]) and its worked
/// solution folded in a `<details>`.
fn render_estimate_directive(
    directive: &Directive,
    topic: Option<&str>,
    body: &mut Body,
    ctx: &mut Context<'_>,
    html: &mut String,
) {
    let label = directive.label();
    let Some(generator) = directive.get("generator") else {
        return;
    };
    let report = |ctx: &mut Context<'_>, message: String| {
        ctx.problems.push(Diagnostic::in_directive(
            ctx.file,
            directive.line,
            Some(&label),
            message,
        ));
    };
    let Some(spec) = dlf_engine::estimate::find(generator) else {
        let known: Vec<String> = dlf_engine::estimate::generators()
            .iter()
            .map(|g| format!("`{}`", g.id))
            .collect();
        report(
            ctx,
            format!(
                "unknown estimation generator `{generator}`; known generators: {}",
                known.join(", ")
            ),
        );
        return;
    };
    let prefix = spec.id.split_once('.').map_or(spec.id, |(p, _)| p);
    if let Some(topic) = topic.filter(|t| *t != prefix) {
        report(
            ctx,
            format!(
                "generator `{}` belongs to the lesson whose topic is `{prefix}`, not this one: this lesson's topic is `{topic}` (its front matter), so its generators start with `{topic}.`",
                spec.id
            ),
        );
    }
    let intro = (!directive.body.trim().is_empty())
        .then(|| fragment(&directive.body, directive.body_first_line(), &label, ctx));
    if let Some(intro) = &intro {
        let inner = intro.html.trim();
        if !(inner.starts_with("<p>") && inner.matches("<p>").count() == 1) {
            ctx.problems.push(Diagnostic::in_directive(
                ctx.file,
                intro.line,
                Some(&label),
                "an estimate's introduction must be one paragraph",
            ));
        }
    }
    let sample = match dlf_engine::estimate::generate(spec.id, SAMPLE_SEED) {
        Ok(sample) => sample,
        Err(error) => {
            report(ctx, error.to_string());
            return;
        }
    };
    let rendered = practice::render_estimate_in(sample, directive.line, Some(&label), ctx);
    let id_html = estimate_html_id(spec.id);
    let _ = writeln!(
        html,
        r#"<section class="estimate" id="estimate-{id_html}" data-generator="{generator}" aria-labelledby="estimate-{id_html}-title">"#,
        generator = escape(spec.id)
    );
    html.push_str("<p class=\"box-label\">Back-of-envelope</p>\n");
    let _ = writeln!(
        html,
        r#"<h3 id="estimate-{id_html}-title">{}</h3>"#,
        escape(spec.title)
    );
    if let Some(intro) = &intro {
        let _ = writeln!(
            html,
            r#"<div class="estimate-intro">{}</div>"#,
            intro.html.trim_end()
        );
    }
    let _ = writeln!(
        html,
        r#"<div class="estimate-question">{}</div>"#,
        rendered.question_html.trim_end()
    );
    let _ = writeln!(
        html,
        r#"<p class="estimate-grading">{}</p>"#,
        escape(&practice::grading_text(&rendered.estimate))
    );
    html.push_str("<details class=\"estimate-solution\"><summary>Worked solution</summary>\n<ol class=\"estimate-steps\">\n");
    for step in &rendered.solution_html {
        let _ = writeln!(html, "<li>{}</li>", step.trim_end());
    }
    html.push_str("</ol>\n</details>\n</section>");
    body.estimates.push(LessonEstimate {
        generator: spec.id,
        title: spec.title,
        line: directive.line,
        intro,
    });
}

/// `m:ss`, the timer's starting display.
fn clock(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// "60 seconds", "2 minutes", "90 seconds": the box label's wording.
fn duration_words(seconds: u32) -> String {
    if seconds >= 120 && seconds % 60 == 0 {
        format!("{} minutes", seconds / 60)
    } else {
        format!("{seconds} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prompt whose `::hire` is `hire` and whose `::strong` is a valid two-point list.
    fn prompt_with_hire(hire: &str) -> (Body, Vec<Diagnostic>) {
        let text = format!(
            ":::prompt id=p level=core\n::question\nQ?\n::hire\n{hire}::strong\n- S1.\n- S2.\n::weak\nW.\n::followups\n- F\n:::\n"
        );
        render_body(Path::new("t.md"), &text, 1, None)
    }

    #[test]
    fn rubric_points_are_the_items_without_markers_or_indentation() {
        let (body, problems) = prompt_with_hire(
            "- First point with $x$\n  continued on a second line.\n- Second point:\n\n  - a nested list\n  - stays inside\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let points = &body.prompts[0].hire_points;
        assert_eq!(points.len(), 2);
        assert_eq!(
            points[0].markdown,
            "First point with $x$\ncontinued on a second line."
        );
        assert_eq!(points[0].line, 5);
        assert_eq!(
            points[1].markdown,
            "Second point:\n\n- a nested list\n- stays inside"
        );
        assert_eq!(points[1].line, 7);
        assert!(points[0].html.contains("<math"), "{}", points[0].html);
        assert!(points[1].html.contains("<ul>"), "{}", points[1].html);
        assert_eq!(body.prompts[0].strong_points.len(), 2);
    }

    #[test]
    fn rubric_sections_that_are_not_one_bullet_list_are_reported() {
        for hire in [
            "1. numbered\n2. list\n",
            "A paragraph.\n\n- then\n- a list\n",
            "- one list\n- of two\n\n+ and another\n+ list\n",
        ] {
            let (body, problems) = prompt_with_hire(hire);
            assert_eq!(problems.len(), 1, "{hire:?}: {problems:?}");
            assert_eq!(problems[0].line, 5, "{hire:?}");
            assert!(
                problems[0]
                    .message
                    .contains("must be one Markdown bullet list"),
                "{}",
                problems[0].message
            );
            assert!(body.prompts[0].hire_points.is_empty());
        }
    }

    #[test]
    fn estimate_ids_are_css_friendly() {
        assert_eq!(
            estimate_html_id("backprop.backward_flops"),
            "backprop-backward-flops"
        );
    }

    #[test]
    fn timer_text() {
        assert_eq!(clock(60), "1:00");
        assert_eq!(clock(95), "1:35");
        assert_eq!(duration_words(60), "60 seconds");
        assert_eq!(duration_words(90), "90 seconds");
        assert_eq!(duration_words(180), "3 minutes");
    }
}

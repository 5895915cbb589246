//! The directive grammar: `:::name key=value ...` blocks with `::section` lines, parsed before Markdown.
//!
//! Directives are found by a line scanner that runs on the raw lesson body, the way zola finds its
//! shortcodes before handing the text to the Markdown parser:
//!
//! 1. A line `:::name key=value key="quoted value"` at column 0 opens a directive; a line `:::` closes it.
//!    Fenced code blocks (```` ``` ```` or `~~~`) are skipped, so a lesson can show directive syntax in code.
//! 2. Inside a directive, a line `::name` starts a named section; the lines up to the next section or the
//!    closing `:::` are that section's Markdown.
//! 3. Each directive is replaced in the Markdown text by a one-line placeholder (an HTML comment) followed by
//!    blank lines, so every other line keeps its line number. After Markdown rendering, [`crate::body`]
//!    substitutes the rendered directive HTML for the placeholder.
//!
//! Every directive is then checked against [`REGISTRY`]: its name, its keys and their values, its sections
//! (unknown, missing, repeated) and whether it may have a body. Grammar errors (an unclosed `:::`, a directive
//! opened inside another, a malformed attribute, a repeated key) are reported with their line.

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::track::is_slug;

/// One `key=value` attribute of a directive's opening line, in the order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The key.
    pub key: String,
    /// The value, with quotes removed and `\"`, `\\` unescaped.
    pub value: String,
}

/// One `::name` section of a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The section name (`step`, `hire`, ...).
    pub name: String,
    /// The line of the `::name` line.
    pub line: usize,
    /// The section's Markdown: the lines after `::name` up to the next section or the closing `:::`.
    pub text: String,
}

impl Section {
    /// The line of the first line of [`Section::text`].
    pub fn first_line(&self) -> usize {
        self.line + 1
    }
}

/// A parsed directive, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The directive name after `:::`.
    pub name: String,
    /// The line of the opening `:::name` line.
    pub line: usize,
    /// The attributes on the opening line.
    pub attrs: Vec<Attr>,
    /// The Markdown between the opening line and the first section (or the closing line, when the directive
    /// has no sections).
    pub body: String,
    /// The sections, in order.
    pub sections: Vec<Section>,
    /// Whether the opening line's attributes failed to parse (then missing keys are not reported again).
    pub malformed: bool,
}

impl Directive {
    /// The value of attribute `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }

    /// The label diagnostics use: `name id` (`estimate GENERATOR` for an estimate), or `name` for a
    /// directive without one.
    pub fn label(&self) -> String {
        let key = if self.name == "estimate" {
            "generator"
        } else {
            "id"
        };
        match self.get(key) {
            Some(id) => format!("{} {id}", self.name),
            None => self.name.clone(),
        }
    }

    /// The line of the body's first line.
    pub fn body_first_line(&self) -> usize {
        self.line + 1
    }

    /// The sections named `name`, in order.
    pub fn sections_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Section> + 'a {
        self.sections.iter().filter(move |s| s.name == name)
    }

    /// The attributes the directive's spec does not name: widget parameters or quantity arguments.
    pub fn extra_attrs(&self, spec: &DirectiveSpec) -> Vec<(String, String)> {
        self.attrs
            .iter()
            .filter(|a| !spec.keys.iter().any(|k| k.name == a.key))
            .map(|a| (a.key.clone(), a.value.clone()))
            .collect()
    }
}

/// The result of scanning a lesson body.
#[derive(Debug)]
pub(crate) struct Scan {
    /// Every well-formed directive, in order. Directive `i` is at placeholder `i` in `markdown`.
    pub directives: Vec<Directive>,
    /// The body with each directive replaced by its placeholder line and blank lines (same line count).
    pub markdown: String,
}

/// The placeholder line for directive `index`.
pub(crate) fn placeholder(index: usize) -> String {
    format!("<!--dlf-directive-{index}-->")
}

/// Where the first placeholder of each of `count` directives is in `html` (the marker's byte range), in one
/// pass; `None` for a directive whose placeholder did not survive Markdown (inside a list or a quote).
pub(crate) fn find_placeholders(html: &str, count: usize) -> Vec<Option<std::ops::Range<usize>>> {
    const OPEN: &str = "<!--dlf-directive-";
    let mut places = vec![None; count];
    for (at, _) in html.match_indices(OPEN) {
        let rest = &html[at + OPEN.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !rest[digits..].starts_with("-->") {
            continue;
        }
        if let Ok(index) = rest[..digits].parse::<usize>() {
            if index.to_string() == rest[..digits] {
                if let Some(place @ None) = places.get_mut(index) {
                    *place = Some(at..at + OPEN.len() + digits + 3);
                }
            }
        }
    }
    places
}

/// An open fenced code block: its fence character and length.
#[derive(Debug, Clone, Copy)]
struct Fence {
    ch: u8,
    len: usize,
    line: usize,
}

fn fence_open(line: &str, line_no: usize) -> Option<Fence> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|&b| b == ch).count();
    // A backtick fence's info string may not contain backticks (CommonMark 4.5).
    (len >= 3 && !(ch == b'`' && rest[len..].contains('`'))).then_some(Fence {
        ch,
        len,
        line: line_no,
    })
}

fn fence_closes(fence: Fence, line: &str) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return false;
    }
    let rest = &line[indent..];
    let len = rest.bytes().take_while(|&b| b == fence.ch).count();
    len >= fence.len && rest[len..].trim().is_empty()
}

/// Whether `s` is a directive, section or attribute name: a lowercase ASCII letter followed by lowercase
/// letters, digits, `_` or `-`.
pub(crate) fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Parses `key=value key="quoted value"` pairs separated by whitespace.
///
/// Errors name the offending key; a repeated key is an error.
pub(crate) fn parse_attrs(text: &str) -> Result<Vec<Attr>, String> {
    let mut attrs: Vec<Attr> = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        if !is_name(key) {
            return Err(format!(
                "malformed attribute `{}`: expected `key=value`",
                first_word(rest)
            ));
        }
        rest = &rest[key_end..];
        let Some(after_eq) = rest.strip_prefix('=') else {
            return Err(format!(
                "attribute `{key}` has no value: write `{key}=value`"
            ));
        };
        let value;
        if let Some(quoted) = after_eq.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, escaped @ ('"' | '\\'))) => out.push(escaped),
                        _ => {
                            return Err(format!(
                                "attribute `{key}`: only `\\\"` and `\\\\` may follow a backslash"
                            ))
                        }
                    },
                    _ => out.push(c),
                }
            }
            let Some(end) = end else {
                return Err(format!(
                    "attribute `{key}`: the quoted value is never closed"
                ));
            };
            value = out;
            rest = &quoted[end..];
            if rest.chars().next().is_some_and(|c| !c.is_whitespace()) {
                return Err(format!(
                    "attribute `{key}`: expected a space after the closing quote"
                ));
            }
        } else {
            let end = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
            let raw = &after_eq[..end];
            if raw.is_empty() {
                return Err(format!("attribute `{key}` has an empty value: quote it as `{key}=\"\"` if that is meant"));
            }
            if raw.contains('"') {
                return Err(format!("attribute `{key}`: a quote may only start a value"));
            }
            value = raw.to_owned();
            rest = &after_eq[end..];
        }
        if attrs.iter().any(|a| a.key == key) {
            return Err(format!("duplicate key `{key}`"));
        }
        attrs.push(Attr {
            key: key.to_owned(),
            value,
        });
        rest = rest.trim_start();
    }
    Ok(attrs)
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or(s)
}

/// Where the scanner is putting the lines it reads.
struct Open {
    directive: Directive,
    /// Index into `directive.sections` of the section being filled, or `None` for the body.
    section: Option<usize>,
}

impl Open {
    fn push_line(&mut self, line: &str) {
        let target = match self.section {
            Some(i) => &mut self.directive.sections[i].text,
            None => &mut self.directive.body,
        };
        target.push_str(line);
        target.push('\n');
    }
}

/// Scans `text` (whose first line is `first_line`) for directives; grammar problems go to `problems`.
pub(crate) fn scan(
    file: &Path,
    text: &str,
    first_line: usize,
    problems: &mut Vec<Diagnostic>,
) -> Scan {
    let mut directives = Vec::new();
    let mut markdown = String::with_capacity(text.len());
    let mut open: Option<Open> = None;
    let mut fence: Option<Fence> = None;
    // After a malformed opening line, the lines up to the next `:::` belong to it and are dropped.
    let mut skipping = false;

    let finish = |open: Open, directives: &mut Vec<Directive>, markdown: &mut String| {
        // The placeholder was reserved when the directive opened; the directive takes its index now.
        let index = directives.len();
        let reserved = "<!--dlf-directive-?-->";
        if let Some(at) = markdown.rfind(reserved) {
            markdown.replace_range(at..at + reserved.len(), &placeholder(index));
        }
        directives.push(open.directive);
    };

    for (i, raw_line) in text.split('\n').enumerate() {
        let line_no = first_line + i;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        if i > 0 {
            markdown.push('\n');
        }
        let in_directive = open.is_some();

        if let Some(current) = fence {
            if fence_closes(current, line) {
                fence = None;
            }
            match open.as_mut() {
                Some(o) => o.push_line(line),
                None => markdown.push_str(line),
            }
            continue;
        }
        if let Some(new_fence) = fence_open(line, line_no) {
            fence = Some(new_fence);
            match open.as_mut() {
                Some(o) => o.push_line(line),
                None => markdown.push_str(line),
            }
            continue;
        }

        if let Some(rest) = line.strip_prefix(":::") {
            let rest = rest.trim_end();
            if rest.is_empty() && skipping {
                skipping = false;
                continue;
            }
            if rest.is_empty() {
                match open.take() {
                    Some(o) => finish(o, &mut directives, &mut markdown),
                    None => problems.push(Diagnostic::new(
                        file,
                        line_no,
                        "`:::` closes no open directive",
                    )),
                }
                continue;
            }
            let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let name = &rest[..name_end];
            if !is_name(name) {
                problems.push(Diagnostic::new(
                    file,
                    line_no,
                    format!("malformed directive line `{line}`: a directive opens with `:::name key=value ...` and closes with `:::`"),
                ));
                skipping = !in_directive;
                continue;
            }
            if let Some(previous) = open.take() {
                problems.push(Diagnostic::in_directive(
                    file,
                    line_no,
                    Some(&previous.directive.label()),
                    format!(
                        "`:::{name}` opened inside `:::{}` (line {}): directives do not nest; close the first with `:::`",
                        previous.directive.name, previous.directive.line
                    ),
                ));
                finish(previous, &mut directives, &mut markdown);
            }
            skipping = false;
            let (attrs, malformed) = match parse_attrs(&rest[name_end..]) {
                Ok(attrs) => (attrs, false),
                Err(message) => {
                    problems.push(Diagnostic::in_directive(file, line_no, Some(name), message));
                    (Vec::new(), true)
                }
            };
            markdown.push_str("<!--dlf-directive-?-->");
            open = Some(Open {
                directive: Directive {
                    name: name.to_owned(),
                    line: line_no,
                    attrs,
                    body: String::new(),
                    sections: Vec::new(),
                    malformed,
                },
                section: None,
            });
            continue;
        }

        if let (Some(o), Some(rest)) = (open.as_mut(), line.strip_prefix("::")) {
            let name = rest.trim_end();
            if is_name(name) {
                o.directive.sections.push(Section {
                    name: name.to_owned(),
                    line: line_no,
                    text: String::new(),
                });
                o.section = Some(o.directive.sections.len() - 1);
            } else {
                problems.push(Diagnostic::in_directive(
                    file,
                    line_no,
                    Some(&o.directive.label()),
                    format!("malformed section line `{line}`: a section starts with `::name` alone on its line"),
                ));
            }
            continue;
        }

        match open.as_mut() {
            Some(o) => o.push_line(line),
            None if skipping => {}
            None => markdown.push_str(line),
        }
    }

    if let Some(o) = open {
        let mut message = format!(
            "`:::{}` is never closed: end it with a line `:::`",
            o.directive.name
        );
        if let Some(f) = fence {
            message.push_str(&format!(
                " (a code fence opened on line {} is still open)",
                f.line
            ));
        }
        problems.push(Diagnostic::in_directive(
            file,
            o.directive.line,
            Some(&o.directive.label()),
            message,
        ));
        finish(o, &mut directives, &mut markdown);
    }
    Scan {
        directives,
        markdown,
    }
}

/// What values a directive key accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Lowercase letters, digits and single hyphens: used in HTML ids and URLs.
    Slug,
    /// Any non-empty text.
    Text,
    /// A whole number of at least 1.
    PositiveInteger,
    /// A finite decimal number.
    Number,
    /// A finite decimal number of at least 0.
    NonNegativeNumber,
    /// One of the listed words.
    OneOf(&'static [&'static str]),
}

/// One key a directive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// The key.
    pub name: &'static str,
    /// Whether the directive must have it.
    pub required: bool,
    /// What values it accepts.
    pub values: Values,
}

/// One section a directive accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionSpec {
    /// The section name after `::`.
    pub name: &'static str,
    /// Whether the directive must have it.
    pub required: bool,
    /// Whether it may appear more than once (`::step`).
    pub repeatable: bool,
}

/// The rules for one directive name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectiveSpec {
    /// The name after `:::`.
    pub name: &'static str,
    /// The keys it accepts.
    pub keys: &'static [KeySpec],
    /// When keys beyond `keys` are allowed, what they are (`"widget parameter"`, `"quantity argument"`);
    /// they are validated by the widget registry or the engine, not here.
    pub extra_keys: Option<&'static str>,
    /// The sections it accepts; empty when the directive has a plain body.
    pub sections: &'static [SectionSpec],
    /// Whether the directive's body (the text before the first section) must be non-empty, must be empty,
    /// or may be either.
    pub body: BodyRule,
}

/// What a directive's body (the text before its first section) may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRule {
    /// The body must be non-empty (a claim's sentence, a note's text, the sources list).
    Required,
    /// The body must be empty: everything is in sections or keys.
    Forbidden,
    /// The body may be empty or not (an estimate's optional one-line introduction).
    Optional,
}

const fn key(name: &'static str, required: bool, values: Values) -> KeySpec {
    KeySpec {
        name,
        required,
        values,
    }
}

const fn section(name: &'static str, required: bool, repeatable: bool) -> SectionSpec {
    SectionSpec {
        name,
        required,
        repeatable,
    }
}

/// Every directive a lesson may use, as specified in content/FORMAT.md.
pub const REGISTRY: &[DirectiveSpec] = &[
    DirectiveSpec {
        name: "derive",
        keys: &[
            key("id", true, Values::Slug),
            key("title", true, Values::Text),
            key("seconds", false, Values::PositiveInteger),
        ],
        extra_keys: None,
        sections: &[
            section("prompt", true, false),
            section("step", true, true),
            section("answer", false, false),
        ],
        body: BodyRule::Forbidden,
    },
    DirectiveSpec {
        name: "widget",
        keys: &[
            key("id", true, Values::Slug),
            key("widget", true, Values::Text),
            key("caption", true, Values::Text),
        ],
        extra_keys: Some("widget parameter"),
        sections: &[],
        body: BodyRule::Forbidden,
    },
    DirectiveSpec {
        name: "prompt",
        keys: &[
            key("id", true, Values::Slug),
            key("level", true, Values::OneOf(&["core", "stretch"])),
        ],
        extra_keys: None,
        sections: &[
            section("question", true, false),
            section("hire", true, false),
            section("strong", true, false),
            section("weak", true, false),
            section("followups", true, false),
        ],
        body: BodyRule::Forbidden,
    },
    DirectiveSpec {
        name: "claim",
        keys: &[
            key("id", true, Values::Slug),
            key("q", true, Values::Text),
            key("expected", true, Values::Number),
            key("tol", false, Values::NonNegativeNumber),
            key("rel", false, Values::NonNegativeNumber),
            key("cmp", false, Values::OneOf(&["approx", "lt", "gt"])),
        ],
        extra_keys: Some("quantity argument"),
        sections: &[],
        body: BodyRule::Required,
    },
    DirectiveSpec {
        name: "sources",
        keys: &[],
        extra_keys: None,
        sections: &[],
        body: BodyRule::Required,
    },
    DirectiveSpec {
        name: "estimate",
        keys: &[key("generator", true, Values::Text)],
        extra_keys: None,
        sections: &[],
        body: BodyRule::Optional,
    },
    DirectiveSpec {
        name: "note",
        keys: &[key(
            "kind",
            true,
            Values::OneOf(&["pitfall", "aside", "hardware"]),
        )],
        extra_keys: None,
        sections: &[],
        body: BodyRule::Required,
    },
];

/// The spec of directive `name`.
pub fn spec(name: &str) -> Option<&'static DirectiveSpec> {
    REGISTRY.iter().find(|s| s.name == name)
}

fn check_value(values: Values, value: &str) -> Result<(), String> {
    let number = || value.parse::<f64>().ok().filter(|x| x.is_finite());
    match values {
        Values::Slug if is_slug(value) => Ok(()),
        Values::Slug => Err("must be lowercase letters, digits and single hyphens".to_owned()),
        Values::Text if !value.trim().is_empty() => Ok(()),
        Values::Text => Err("must not be empty".to_owned()),
        Values::PositiveInteger if value.parse::<u32>().is_ok_and(|n| n >= 1) => Ok(()),
        Values::PositiveInteger => Err("must be a whole number of at least 1".to_owned()),
        Values::Number if number().is_some() => Ok(()),
        Values::Number => Err("must be a number".to_owned()),
        Values::NonNegativeNumber if number().is_some_and(|x| x >= 0.0) => Ok(()),
        Values::NonNegativeNumber => Err("must be a number of at least 0".to_owned()),
        Values::OneOf(options) if options.contains(&value) => Ok(()),
        Values::OneOf(options) => Err(format!(
            "must be one of {}",
            options
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Checks `directive` against [`REGISTRY`], appending every problem to `problems`.
///
/// Returns the directive's spec when the name is known (even if other problems were found), so that the
/// caller can still render what is there.
pub(crate) fn validate(
    file: &Path,
    directive: &Directive,
    problems: &mut Vec<Diagnostic>,
) -> Option<&'static DirectiveSpec> {
    let label = directive.label();
    let mut report = |line: usize, message: String| {
        problems.push(Diagnostic::in_directive(file, line, Some(&label), message));
    };
    let Some(spec) = spec(&directive.name) else {
        let known: Vec<String> = REGISTRY.iter().map(|s| format!("`{}`", s.name)).collect();
        report(
            directive.line,
            format!(
                "unknown directive `:::{}`; known: {}",
                directive.name,
                known.join(", ")
            ),
        );
        return None;
    };

    for attr in &directive.attrs {
        match spec.keys.iter().find(|k| k.name == attr.key) {
            Some(key) => {
                if let Err(why) = check_value(key.values, &attr.value) {
                    report(
                        directive.line,
                        format!("bad value `{}` for key `{}`: {why}", attr.value, attr.key),
                    );
                }
            }
            None if spec.extra_keys.is_some() => {}
            None => {
                let known: Vec<String> =
                    spec.keys.iter().map(|k| format!("`{}`", k.name)).collect();
                let known = if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                };
                report(
                    directive.line,
                    format!(
                        "unknown key `{}` for `:::{}`; known keys: {known}",
                        attr.key, spec.name
                    ),
                );
            }
        }
    }
    for key in spec
        .keys
        .iter()
        .filter(|k| k.required && !directive.malformed)
    {
        if directive.get(key.name).is_none() {
            report(directive.line, format!("missing key `{}`", key.name));
        }
    }

    for section in &directive.sections {
        match spec.sections.iter().find(|s| s.name == section.name) {
            None if spec.sections.is_empty() => {
                report(
                    section.line,
                    format!(
                        "`:::{}` has no sections, but found `::{}`",
                        spec.name, section.name
                    ),
                );
            }
            None => {
                let known: Vec<String> = spec
                    .sections
                    .iter()
                    .map(|s| format!("`::{}`", s.name))
                    .collect();
                report(
                    section.line,
                    format!(
                        "unknown section `::{}`; known sections: {}",
                        section.name,
                        known.join(", ")
                    ),
                );
            }
            Some(known) => {
                let first = directive
                    .sections_named(&section.name)
                    .next()
                    .map(|s| s.line);
                if !known.repeatable && first != Some(section.line) {
                    report(
                        section.line,
                        format!(
                            "duplicate section `::{}` (first on line {})",
                            section.name,
                            first.unwrap_or(0)
                        ),
                    );
                }
                if section.text.trim().is_empty() {
                    report(
                        section.line,
                        format!("section `::{}` is empty", section.name),
                    );
                }
            }
        }
    }
    for section in spec.sections.iter().filter(|s| s.required) {
        if directive.sections_named(section.name).next().is_none() {
            report(
                directive.line,
                format!("missing section `::{}`", section.name),
            );
        }
    }
    // Known section order matters for `::step` only, and there the order written is the order shown.

    let body_empty = directive.body.trim().is_empty();
    if spec.body == BodyRule::Required && body_empty {
        let what = match spec.name {
            "claim" => "the claim's sentence",
            "sources" => "a Markdown list of sources",
            _ => "its text",
        };
        report(
            directive.line,
            format!("`:::{}` needs a body: {what}", spec.name),
        );
    } else if spec.body == BodyRule::Forbidden && !body_empty {
        let message = if spec.sections.is_empty() {
            format!("`:::{}` takes no body text", spec.name)
        } else {
            format!(
                "text before the first section of `:::{}`: start it with a `::section` line",
                spec.name
            )
        };
        report(directive.body_first_line(), message);
    }
    Some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(text: &str) -> (Scan, Vec<Diagnostic>) {
        let mut problems = Vec::new();
        let scan = scan(Path::new("t.md"), text, 1, &mut problems);
        (scan, problems)
    }

    #[test]
    fn attributes_quoted_and_bare() {
        let attrs = parse_attrs(r#" id=a-1 title="Say \"hi\" \\ now"  seconds=90"#).unwrap();
        let pairs: Vec<(&str, &str)> = attrs
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("id", "a-1"),
                ("title", r#"Say "hi" \ now"#),
                ("seconds", "90")
            ]
        );
    }

    #[test]
    fn attribute_errors() {
        assert_eq!(parse_attrs("id=a id=b").unwrap_err(), "duplicate key `id`");
        assert!(parse_attrs("title=\"open")
            .unwrap_err()
            .contains("never closed"));
        assert!(parse_attrs("id").unwrap_err().contains("has no value"));
        assert!(parse_attrs("Id=x")
            .unwrap_err()
            .contains("malformed attribute"));
    }

    #[test]
    fn placeholders_keep_line_numbers() {
        let text = "one\n:::note kind=aside\nbody\n:::\nfive";
        let (scan, problems) = scan_str(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(scan.markdown, "one\n<!--dlf-directive-0-->\n\n\nfive");
        assert_eq!(scan.directives[0].body, "body\n");
        assert_eq!(scan.directives[0].line, 2);
    }

    #[test]
    fn fences_hide_directives() {
        let text = "```md\n:::note kind=aside\n```\n";
        let (scan, problems) = scan_str(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(scan.directives.is_empty());
        assert_eq!(scan.markdown, text);
    }

    #[test]
    fn sections_split_the_text() {
        let text = ":::derive id=d title=T\n::prompt\nP\n::step\nS1\n::step\nS2\n:::\n";
        let (scan, problems) = scan_str(text);
        assert!(problems.is_empty(), "{problems:?}");
        let d = &scan.directives[0];
        let names: Vec<&str> = d.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["prompt", "step", "step"]);
        assert_eq!(d.sections[2].text, "S2\n");
        assert_eq!(d.sections[2].first_line(), 7);
    }
}

//! LaTeX to MathML, once, at build time.
//!
//! Formulas are parsed by `pulldown-latex` and written as MathML Core, which current browsers lay out
//! natively: the page needs no client-side JavaScript and no CDN. Three details are handled here:
//!
//! - Every parser error becomes a message (the caller turns it into a [`crate::Diagnostic`] with the
//!   formula's line); the rendered output still contains the `<merror>` so a broken page shows where.
//! - Display maths must look like TeX's display style, including inside `aligned`. MathML Core lays out
//!   `<mtable>` cells in compact style (`math-style: compact` in the user-agent style sheet), which would
//!   shrink every `\frac` in a derivation to script size. We therefore put `displaystyle="true"` on the
//!   `<math>` element and on every `<mtable>` of a display formula, and [`MATH_CSS`] repeats the rule for the
//!   table cells.
//! - `pulldown-latex` 0.8 writes some operator text unescaped (`<mo><</mo>`) and copies the annotation
//!   verbatim. We escape the annotation before handing it over and escape stray `<`, `>` and `&` in text
//!   afterwards, so the MathML is well-formed HTML.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, Parser, RenderConfig, Storage};

use crate::html::escape;

/// Whether a formula is inline (`$...$`) or display (`$$...$$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathMode {
    /// Inline in a sentence: text style.
    Inline,
    /// On its own lines: display style.
    Display,
}

/// A LaTeX parse error: the parser's message and the stretch of source it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatexError {
    /// What went wrong, in one line (e.g. "unknown primitive command found").
    pub message: String,
    /// The source text around the error, as the parser quoted it (it may span lines).
    pub context: Option<String>,
}

impl LatexError {
    fn from_parser(error: &pulldown_latex::ParserError) -> LatexError {
        let text = error.to_string();
        let mut lines = text.lines();
        let message = lines
            .next()
            .unwrap_or("")
            .trim_start_matches("parsing error: ")
            .trim()
            .to_owned();
        // The parser quotes about a dozen characters either side of the error in a box: lines starting with
        // "│", an ellipsis where it cut the source, then a line of carets.
        let quoted: Vec<&str> = lines
            .filter_map(|l| l.strip_prefix('│'))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .take_while(|l| l.trim().is_empty() || !l.trim().chars().all(|c| c == '^'))
            .collect();
        let joined = quoted.join("\n");
        let snippet = joined.trim().trim_matches('…').trim();
        let context = (!snippet.is_empty()).then(|| snippet.to_owned());
        LatexError { message, context }
    }
}

/// The deepest nesting of groups (`{`, `\left`, `\begin`) a formula may have. pulldown-latex 0.8 takes time
/// quadratic in this depth (1,000 nested `x^{` take 0.04 s, 8,000 take 2.2 s, 100,000 over a minute), so a
/// formula is refused beyond it before the parser sees it. The deepest formula in the course nests 3 deep.
pub const MAX_NESTING: usize = 32;

/// The most LaTeX commands and braces one formula may have. pulldown-latex parses a command's argument
/// recursively, so a chain like `\sqrt\sqrt\sqrt…x` or `\frac1\frac1…` is a recursion as deep as the chain:
/// about 2,000 deep it overflows a 2 MiB thread stack (the size of a test's or a server task's thread) and
/// aborts the process. Counting commands and braces bounds every such chain without modelling the grammar;
/// the course's busiest formula has about 120.
pub const MAX_COMMANDS: usize = 500;

/// How many parse errors of one formula are reported.
const MAX_ERRORS: usize = 5;

/// Refuses, before pulldown-latex sees it, a formula nested deeper than [`MAX_NESTING`] or with more than
/// [`MAX_COMMANDS`] commands and braces: one linear scan.
pub fn check_size(latex: &str) -> Result<(), LatexError> {
    let bytes = latex.as_bytes();
    let (mut depth, mut deepest, mut commands) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                commands += 1;
                let name_start = i + 1;
                let mut end = name_start;
                while end < bytes.len() && bytes[end].is_ascii_alphabetic() {
                    end += 1;
                }
                // A one-character command (`\{`, `\,`, `\\`) is one byte long; skip it whole so that an
                // escaped brace is not counted as a group.
                let end = if end == name_start {
                    latex[name_start..]
                        .chars()
                        .next()
                        .map_or(name_start, |c| name_start + c.len_utf8())
                } else {
                    end
                };
                match &latex[name_start..end] {
                    "left" | "begin" => depth += 1,
                    "right" | "end" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                i = end;
                deepest = deepest.max(depth);
                continue;
            }
            b'{' => {
                commands += 1;
                depth += 1;
            }
            b'}' => {
                commands += 1;
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
        deepest = deepest.max(depth);
        i += 1;
    }
    let start: String = latex.trim().chars().take(40).collect();
    let context = Some(format!("{start}…"));
    if deepest > MAX_NESTING {
        return Err(LatexError {
            message: format!(
                "the formula nests groups (`{{`, `\\left`, `\\begin`) {deepest} deep; the limit is {MAX_NESTING}, \
                 because the maths parser slows down with the square of the depth"
            ),
            context,
        });
    }
    if commands > MAX_COMMANDS {
        return Err(LatexError {
            message: format!(
                "the formula has {commands} commands and braces; the limit is {MAX_COMMANDS} per formula, \
                 because the maths parser reads nested arguments recursively: split it into several formulas"
            ),
            context,
        });
    }
    Ok(())
}

/// A formula that is not rendered: an `<merror>` with `text`.
fn merror(mode: MathMode, text: &str) -> String {
    let display = if mode == MathMode::Display {
        " display=\"block\""
    } else {
        ""
    };
    format!("<math{display}><merror><mtext>{text}</mtext></merror></math>")
}

/// MathML for `latex`, and the parse errors found in it (the first five).
pub fn render(latex: &str, mode: MathMode) -> (String, Vec<LatexError>) {
    if let Err(error) = check_size(latex) {
        return (merror(mode, "formula too large to render"), vec![error]);
    }
    let storage = Storage::new();
    // The first few errors are what an author needs. Past them the parse is abandoned and the formula shown
    // as an error: a formula of garbage yields an error per character, and pulldown-latex's cost per error
    // grows with the formula (5,000 stray `&` took 0.3 s), so reading on would make it quadratic.
    let mut events = Vec::new();
    let mut errors: Vec<LatexError> = Vec::new();
    for event in Parser::new(latex, &storage) {
        if let Err(error) = &event {
            if errors.len() == MAX_ERRORS {
                return (
                    merror(mode, "formula has too many errors to render"),
                    errors,
                );
            }
            errors.push(LatexError::from_parser(error));
        }
        events.push(event);
    }
    let annotation = escape(latex.trim());
    let config = RenderConfig {
        display_mode: match mode {
            MathMode::Inline => DisplayMode::Inline,
            MathMode::Display => DisplayMode::Block,
        },
        annotation: Some(&annotation),
        ..RenderConfig::default()
    };
    let mut raw = String::new();
    // Writing into a String cannot fail: the only I/O error source would be the writer.
    if push_mathml(&mut raw, events.into_iter(), config).is_err() {
        return (String::new(), errors);
    }
    // pulldown-latex 0.8 writes the text of `\ ` and `~` as an already-escaped `&amp;nbsp;`, which would show
    // the entity's name on the page; a numeric character reference is what it means.
    let mut mathml = escape_stray_text(&raw).replace("&amp;nbsp;", "&#160;");
    if mode == MathMode::Display {
        mathml = mathml
            .replacen(
                "<math display=\"block\"",
                "<math display=\"block\" displaystyle=\"true\"",
                1,
            )
            .replace("<mtable", "<mtable displaystyle=\"true\"");
    }
    (mathml, errors)
}

/// Escapes `<`, `>` and `&` that are text rather than markup.
///
/// A `<` starts a tag only when followed by a letter or `/`; a `>` outside a tag is text; an `&` that does not
/// begin an entity (`&name;` or `&#...;`) is text.
fn escape_stray_text(markup: &str) -> String {
    let mut out = String::with_capacity(markup.len() + 16);
    let mut in_tag = false;
    let bytes = markup.as_bytes();
    for (i, c) in markup.char_indices() {
        if in_tag {
            out.push(c);
            if c == '>' {
                in_tag = false;
            }
            continue;
        }
        match c {
            '<' => {
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                if next.is_ascii_alphabetic() || next == b'/' {
                    in_tag = true;
                    out.push('<');
                } else {
                    out.push_str("&lt;");
                }
            }
            '>' => out.push_str("&gt;"),
            '&' => {
                let rest = &markup[i + 1..];
                let name_len = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
                    .count();
                if name_len > 0 && rest.as_bytes().get(name_len) == Some(&b';') {
                    out.push('&');
                } else {
                    out.push_str("&amp;");
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The style sheet for our MathML: the maths font and the layout of `pulldown-latex`'s table environments.
///
/// The font is Latin Modern Math (GUST Font License), served by the binary at
/// `/assets/fonts/latinmodern-math.otf`, subset to the characters the course uses (see [`crate::maths_font`]). The class names are those `pulldown-latex` 0.8 writes on `<mtable>`:
/// `menv-alignlike` (columns alternate right/left around the `&`), `menv-align` (extra space between
/// equation pairs), `menv-cells-left`/`menv-cells-right`, `menv-cases`, `menv-arraylike`, `menv-multline`,
/// `menv-with-eqn`, and `menv-hline`/`menv-hdashline` on rows.
pub const MATH_CSS: &str = r#"@font-face {
  font-family: "Latin Modern Math";
  src: url("/assets/fonts/latinmodern-math.otf") format("opentype");
  font-display: swap;
}

math {
  font-family: "Latin Modern Math", "STIX Two Math", math;
  font-size: 1.1em;
}

/* A display formula is a centred block that scrolls sideways on narrow screens instead of overflowing. */
math[display="block"] {
  display: block math;
  margin: 0.9em 0;
  overflow-x: auto;
  overflow-y: hidden;
  padding: 0.1em 0;
}

/* TeX sets the rows of aligned/align in display style; MathML Core's tables default to compact style. */
math[display="block"] mtable,
math[display="block"] mtable > mtr > mtd {
  math-style: normal;
}

mtable > mtr > mtd {
  padding: 0.25em 0;
}

/* aligned: odd columns sit flush right against the alignment point, even columns flush left. */
mtable.menv-alignlike > mtr > mtd:nth-child(odd) {
  text-align: right;
  /* Chromium lays out a cell's maths as a block that only honours its prefixed keyword. */
  text-align: -webkit-right;
  padding-right: 0;
}
mtable.menv-alignlike > mtr > mtd:nth-child(even) {
  text-align: left;
  padding-left: 0;
}
/* Separate successive right/left pairs of an align by a quad. */
mtable.menv-align > mtr > mtd:nth-child(odd):not(:first-child) {
  padding-left: 1em;
}

mtable.menv-cells-left > mtr > mtd,
mtable.menv-cases > mtr > mtd {
  text-align: left;
}
mtable.menv-cells-right > mtr > mtd {
  text-align: right;
  text-align: -webkit-right;
}
mtable.menv-cases > mtr > mtd:first-child {
  padding-right: 1em;
}
mtable.menv-arraylike > mtr > mtd {
  padding: 0.2em 0.4em;
}
mtable.menv-multline > mtr:first-child > mtd {
  text-align: left;
}
mtable.menv-multline > mtr:last-child > mtd {
  text-align: right;
  text-align: -webkit-right;
}

/* A trailing `\\` leaves an empty last row; it should take no space. */
mtable > mtr:last-child:has(> mtd:empty:only-child) {
  display: none;
}

mtr.menv-hline > mtd {
  border-top: 0.06em solid currentColor;
}
mtr.menv-hdashline > mtd {
  border-top: 0.06em dashed currentColor;
}

/* A formula that failed to parse (dlf check reports it; this only makes it visible on the page). */
merror {
  border: 0.06em solid #b22222;
  padding: 0 0.2em;
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_aligned_rows_keep_display_style() {
        let (mathml, errors) = render(
            r"\begin{aligned} a &= \frac{1}{2} \end{aligned}",
            MathMode::Display,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            mathml.starts_with("<math display=\"block\" displaystyle=\"true\">"),
            "{mathml}"
        );
        assert!(
            mathml.contains("<mtable displaystyle=\"true\" class=\"menv-alignlike menv-align\">"),
            "{mathml}"
        );
        assert!(mathml.contains("<mfrac>"), "{mathml}");
    }

    /// Issue 14: deep nesting made pulldown-latex quadratic (100,000 nested `x^{` took over a minute), and a
    /// long chain of commands overflowed the stack and aborted the process. Both are refused with a message
    /// before the parser runs; formulas like the course's pass.
    #[test]
    fn deep_or_huge_formulas_are_refused_before_parsing() {
        let deep_sup = format!("{}x{}", "x^{".repeat(100_000), "}".repeat(100_000));
        let deep_left = format!(
            "{}x{}",
            "\\left(".repeat(100_000),
            "\\right)".repeat(100_000)
        );
        let deep_env = "\\begin{aligned}".repeat(MAX_NESTING) + "x";
        let sqrt_chain = format!("{}x", "\\sqrt ".repeat(100_000));
        let frac_chain = format!("{}x", "\\frac1".repeat(5_000));
        let accent_chain = format!("{}x", "\\^".repeat(5_000));
        for (latex, word) in [
            (&deep_sup, "deep; the limit is 32"),
            (&deep_left, "deep; the limit is 32"),
            (&deep_env, "deep; the limit is 32"),
            (&sqrt_chain, "the limit is 500"),
            (&frac_chain, "the limit is 500"),
            (&accent_chain, "the limit is 500"),
        ] {
            for mode in [MathMode::Inline, MathMode::Display] {
                let (mathml, errors) = render(latex, mode);
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert!(errors[0].message.contains(word), "{}", errors[0].message);
                assert!(errors[0].context.as_ref().unwrap().len() < 60);
                assert!(mathml.contains("<merror>"), "{mathml}");
            }
        }
        // At the limits, and with escaped braces (delimiters, not groups), formulas still render.
        let at_limit = format!("{}x{}", "{".repeat(MAX_NESTING), "}".repeat(MAX_NESTING));
        let escaped = "\\{".repeat(400) + "x";
        let busy = r"\left\{ \frac{\partial L}{\partial W_1} = X^\top \left( \delta_2 W_2^\top \odot \sigma'(Z_1) \right) \right\}";
        for latex in [at_limit.as_str(), escaped.as_str(), busy] {
            let (_, errors) = render(latex, MathMode::Inline);
            assert!(errors.is_empty(), "{latex}: {errors:?}");
        }
        assert!(check_size(&"x^{".repeat(MAX_NESTING + 1)).is_err());
        // A backslash before a multi-byte character, or at the very end (found by the fuzzer).
        assert!(check_size("\\é x \\").is_ok());
        // Thousands of errors in one formula: the first few are reported and the parse stops there.
        let (mathml, errors) = render(&"x&amp;".repeat(20_000), MathMode::Inline);
        assert_eq!(errors.len(), MAX_ERRORS);
        assert!(mathml.contains("too many errors"), "{mathml}");
    }

    #[test]
    fn inline_maths_is_not_forced_to_display_style() {
        let (mathml, _) = render(r"\frac{1}{2}", MathMode::Inline);
        assert!(mathml.starts_with("<math display=\"inline\">"), "{mathml}");
        assert!(!mathml.contains("displaystyle"), "{mathml}");
    }

    #[test]
    fn a_control_space_is_a_no_break_space_not_an_entity_name() {
        let (html, errors) = render(r"a,\ b", MathMode::Inline);
        assert!(errors.is_empty());
        assert!(!html.contains("&amp;nbsp;"), "{html}");
        assert!(html.contains("&#160;"), "{html}");
    }

    #[test]
    fn less_than_is_escaped_in_text_and_annotation() {
        let (mathml, errors) = render("a<b", MathMode::Inline);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(mathml.contains("<mo>&lt;</mo>"), "{mathml}");
        assert!(
            mathml.contains("<annotation encoding=\"application/x-tex\">a&lt;b</annotation>"),
            "{mathml}"
        );
    }

    #[test]
    fn errors_carry_message_and_context() {
        let (mathml, errors) = render(r"x + \foo y", MathMode::Inline);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].message, "unknown primitive command found");
        assert_eq!(errors[0].context.as_deref(), Some(r"x + \foo y"));
        assert!(mathml.contains("<merror"), "{mathml}");
    }
}

//! Inline computed numbers: `{{num q="quantity.name" digits=3 sci=true arg=value ...}}`.
//!
//! Before a piece of Markdown is rendered, every `{{num ...}}` outside code spans, code blocks and maths is
//! replaced by the engine's value of the named quantity (`dlf_engine::quantities::evaluate`), formatted by
//! [`format_number`]. The replacement never contains a newline, so line numbers after it do not move.

use std::ops::Range;

use crate::directive::parse_attrs;

/// Digits used when `{{num}}` does not say.
pub const DEFAULT_DIGITS: usize = 3;

/// Formats `x` for prose, as HTML.
///
/// - Fixed notation (`sci = false`): `digits` significant figures, but the integer part is never rounded
///   away (`12345.6` with 3 digits is `12346`), and trailing zeros are kept to show the precision
///   (`0.5` with 3 digits is `0.500`).
/// - Scientific notation (`sci = true`): a mantissa with `digits` significant figures times a power of ten,
///   `1.23×10<sup>−4</sup>`; the power is omitted when it is 0.
///
/// Negative numbers use the minus sign U+2212, as typeset maths does. Infinities and NaN are written out
/// (`∞`, `NaN`); callers report them as problems.
pub fn format_number(x: f64, digits: usize, sci: bool) -> String {
    let digits = digits.max(1);
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "∞".to_owned()
        } else {
            "\u{2212}∞".to_owned()
        };
    }
    let text = if sci {
        scientific(x, digits)
    } else {
        group_thousands(&fixed(x, digits))
    };
    match text.strip_prefix('-') {
        // Rounding can produce "-0.00"; a zero has no sign.
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
        Some(rest) => format!("\u{2212}{rest}"),
        None => text,
    }
}

fn magnitude(x: f64) -> i32 {
    // The decimal exponent of |x|: 0 for 1..10, -1 for 0.1..1. `x` is finite and non-zero here.
    x.abs().log10().floor() as i32
}

fn fixed(x: f64, digits: usize) -> String {
    if x == 0.0 {
        return format!("{:.*}", digits.saturating_sub(1), 0.0);
    }
    let mag = magnitude(x);
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    let text = format!("{x:.decimals$}");
    // Rounding may carry into a new leading digit (9.996 -> "10.00"): drop one decimal to keep `digits`.
    let rounded: f64 = text.parse().unwrap_or(x);
    if decimals > 0 && rounded != 0.0 && magnitude(rounded) > mag {
        format!("{x:.prec$}", prec = decimals - 1)
    } else {
        text
    }
}

/// Groups the integer part of a fixed-notation number in threes with commas once it has five or more digits
/// (`203530` becomes `203,530`; `2048` stays as it is), so large counts read at a glance.
fn group_thousands(text: &str) -> String {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if integer.len() < 5 {
        return text.to_owned();
    }
    let mut grouped = String::with_capacity(integer.len() + integer.len() / 3);
    for (i, digit) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn scientific(x: f64, digits: usize) -> String {
    let text = format!("{x:.prec$e}", prec = digits - 1);
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent == 0 {
        return mantissa.to_owned();
    }
    let power = if exponent < 0 {
        format!("\u{2212}{}", -exponent)
    } else {
        exponent.to_string()
    };
    format!("{mantissa}×10<sup>{power}</sup>")
}

/// A problem with one `{{num}}`: the byte offset where it starts and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumProblem {
    pub offset: usize,
    pub message: String,
}

/// Replaces every `{{num ...}}` in `text` outside the `protected` byte ranges (code and maths).
pub(crate) fn expand(
    text: &str,
    protected: &[Range<usize>],
    problems: &mut Vec<NumProblem>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut search = 0;
    // Every lookup below moves forward only, so the whole expansion is linear in the text however many `{{`
    // it holds: the protected ranges (in order, not overlapping) by binary search, and the end of the
    // current line and the next `}}` remembered until `start` passes them.
    let mut line_end = 0;
    let mut next_close: Option<usize> = None;
    while let Some(found) = text[search..].find("{{") {
        let start = search + found;
        search = start + 2;
        let before = protected.partition_point(|r| r.start <= start);
        if before > 0 && protected[before - 1].contains(&start) {
            continue;
        }
        if line_end <= start {
            line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        }
        if next_close.is_none_or(|at| at < start + 2) {
            next_close = text[start + 2..].find("}}").map(|n| start + 2 + n);
        }
        let Some(close) = next_close
            .filter(|&at| at + 2 <= line_end)
            .map(|at| at - start)
        else {
            problems.push(NumProblem {
                offset: start,
                message: "`{{` is not closed by `}}` on the same line".to_owned(),
            });
            continue;
        };
        let end = start + close + 2;
        let inner = text[start + 2..end - 2].trim();
        let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
        if &inner[..name_end] != "num" {
            problems.push(NumProblem {
                offset: start,
                message: format!("unknown inline shortcode `{{{{{}}}}}`; the only one is `{{{{num q=\"...\"}}}}`", &inner[..name_end]),
            });
            search = end;
            continue;
        }
        match evaluate_num(&inner[name_end..]) {
            Ok(formatted) => {
                out.push_str(&text[copied..start]);
                out.push_str(&formatted);
                copied = end;
            }
            Err(message) => problems.push(NumProblem {
                offset: start,
                message,
            }),
        }
        search = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Evaluates the attributes of one `{{num ...}}` and formats the value.
fn evaluate_num(attr_text: &str) -> Result<String, String> {
    let attrs = parse_attrs(attr_text).map_err(|m| format!("in `{{{{num}}}}`: {m}"))?;
    let mut quantity = None;
    let mut digits = DEFAULT_DIGITS;
    let mut sci = false;
    let mut args: Vec<(&str, &str)> = Vec::new();
    for attr in &attrs {
        match attr.key.as_str() {
            "q" => quantity = Some(attr.value.as_str()),
            "digits" => {
                digits = attr
                    .value
                    .parse()
                    .ok()
                    .filter(|d| (1..=17).contains(d))
                    .ok_or_else(|| format!("in `{{{{num}}}}`: digits must be a whole number from 1 to 17, not `{}`", attr.value))?;
            }
            "sci" => {
                sci = match attr.value.as_str() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(format!(
                            "in `{{{{num}}}}`: sci must be `true` or `false`, not `{other}`"
                        ))
                    }
                };
            }
            _ => args.push((attr.key.as_str(), attr.value.as_str())),
        }
    }
    let quantity = quantity.ok_or("`{{num}}` needs `q=\"quantity.name\"`")?;
    let value = dlf_engine::quantities::evaluate(quantity, &args)
        .map_err(|e| format!("quantity `{quantity}`: {e}"))?;
    if !value.is_finite() {
        return Err(format!(
            "quantity `{quantity}` evaluated to {value}, which cannot be shown as a number"
        ));
    }
    Ok(format_number(value, digits, sci))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_notation_keeps_significant_figures() {
        assert_eq!(format_number(0.0012345, 3, false), "0.00123");
        assert_eq!(format_number(12.345, 3, false), "12.3");
        assert_eq!(format_number(12345.6, 3, false), "12,346");
        assert_eq!(format_number(2048.0, 3, false), "2048");
        assert_eq!(format_number(203530.0, 3, false), "203,530");
        assert_eq!(format_number(-26017792.0, 3, false), "\u{2212}26,017,792");
        assert_eq!(format_number(123456.789, 9, false), "123,456.789");
        assert_eq!(format_number(0.5, 3, false), "0.500");
        assert_eq!(format_number(9.996, 3, false), "10.0");
        assert_eq!(format_number(-2.5, 2, false), "\u{2212}2.5");
        assert_eq!(format_number(-0.0001, 1, false), "\u{2212}0.0001");
        assert_eq!(format_number(0.0, 3, false), "0.00");
    }

    #[test]
    fn scientific_notation() {
        assert_eq!(
            format_number(0.000123456, 3, true),
            "1.23×10<sup>\u{2212}4</sup>"
        );
        assert_eq!(format_number(5.6e9, 2, true), "5.6×10<sup>9</sup>");
        assert_eq!(format_number(3.0, 2, true), "3.0");
    }

    #[test]
    fn protected_ranges_and_unknown_shortcodes() {
        let mut problems = Vec::new();
        let text = "a `{{num q=\"x\"}}` b {{nope}} c {{num";
        let code_span = 2..17;
        let out = expand(text, std::slice::from_ref(&code_span), &mut problems);
        assert_eq!(out, text);
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("unknown inline shortcode `{{nope}}`"),
            "{messages:?}"
        );
        assert!(messages[1].contains("not closed"), "{messages:?}");
    }
}

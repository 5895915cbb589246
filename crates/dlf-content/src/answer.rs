//! Reading a learner's numeric answer as people type it, shared by the browser (`dlf serve`) and the terminal
//! (`dlf drill`) so both accept and refuse exactly the same answers.

/// Reads a number as people type it: `3e9`, `3000000`, `3,000,000`, `3 000 000`, `-1.5`, a power of ten as
/// written on a whiteboard (`3 × 10^9`, `3x10^9`, `3*10^9`, `3·10⁹`, `10^9`), or with an SI suffix (`k`, `M`,
/// `G`, `T`, `P`: 10³ to 10¹⁵), the forms `dlf drill` reads too, so both front ends accept the same answers. A
/// separator (comma, space, no-break space, underscore, apostrophe) is accepted only between groups of exactly
/// three digits, so `3,5` is refused rather than guessed.
pub fn parse_number(text: &str) -> Result<f64, String> {
    // The typographic minus sign is what a word processor or a copied formula gives.
    let trimmed = text.trim().replace('\u{2212}', "-");
    let refused = || {
        format!(
            "could not read '{}' as a number (type only the number, like 2500, 2,500, 2.5e3 or 2.5 × 10^3)",
            text.trim()
        )
    };
    if let Some(power) = power_of_ten(&trimmed) {
        let (mantissa, exponent) = power.map_err(|()| refused())?;
        let m = if mantissa.is_empty() {
            1.0
        } else {
            parse_plain(mantissa)?
        };
        // Beyond ±400 the power is 0 or infinite whatever the mantissa; clamping keeps `powi` exact enough
        // below it and lets `representable` name the problem above it.
        let value = m * 10f64.powi(exponent.clamp(-400, 400));
        return representable(value, m != 0.0, text);
    }
    if let Some(last) = trimmed.chars().last() {
        let scale = match last {
            'k' | 'K' => Some(1e3),
            'M' => Some(1e6),
            'G' => Some(1e9),
            'T' => Some(1e12),
            'P' => Some(1e15),
            _ => None,
        };
        if let Some(scale) = scale {
            let mantissa = trimmed[..trimmed.len() - last.len_utf8()].trim_end();
            let m = parse_plain(mantissa).map_err(|e| {
                if e.contains("to represent") {
                    e
                } else {
                    refused()
                }
            })?;
            return representable(m * scale, m != 0.0, text);
        }
    }
    parse_plain(&trimmed)
}

/// Reads an estimate's answer typed for a problem asked in `unit`. As [`parse_number`], except that an SI
/// suffix is refused when the unit already carries a prefix (`MiB`, `GFLOPs`, `GB`): there `7.3M` is far more
/// likely to mean 7.3 MiB than 7.3 million MiB, and grading the literal reading would mark a right answer wrong
/// by a factor of a million.
pub fn parse_answer(text: &str, unit: &str) -> Result<f64, String> {
    let prefixed = unit.len() > 1 && unit.starts_with(['k', 'M', 'G', 'T', 'P']);
    let suffixed = text.trim().ends_with(['k', 'K', 'M', 'G', 'T', 'P']);
    if prefixed && suffixed {
        return Err(format!(
            "the answer is already asked in {unit}: type the number of {unit} alone (for 7.3 {unit}, type 7.3), \
             without a k, M, G, T or P after it"
        ));
    }
    parse_number(text)
}

/// Splits `M × 10^E` (the sign one of `×`, `x`, `X`, `*`, `·`, `⋅`; the exponent after `^` or in superscript
/// digits) or a bare `10^E` into the mantissa's text (empty for a bare power) and the exponent. `None` when
/// the text is not written as a power of ten at all; `Some(Err(()))` when it is, but the exponent is unreadable.
fn power_of_ten(text: &str) -> Option<Result<(&str, i32), ()>> {
    let (mantissa, power) = match text.rfind(['×', 'x', 'X', '*', '·', '⋅']) {
        Some(at) => {
            let sign = text[at..].chars().next()?;
            (text[..at].trim(), text[at + sign.len_utf8()..].trim())
        }
        None => ("", text),
    };
    let exponent = power.strip_prefix("10")?;
    let exponent: String = match exponent.strip_prefix('^') {
        Some(plain) => plain.trim().to_owned(),
        None if !exponent.is_empty() => exponent
            .chars()
            .map(|c| match c {
                '⁰' => Some('0'),
                '¹' => Some('1'),
                '²' => Some('2'),
                '³' => Some('3'),
                '⁴' => Some('4'),
                '⁵' => Some('5'),
                '⁶' => Some('6'),
                '⁷' => Some('7'),
                '⁸' => Some('8'),
                '⁹' => Some('9'),
                '⁻' => Some('-'),
                '⁺' => Some('+'),
                _ => None,
            })
            .collect::<Option<String>>()?,
        None => return None,
    };
    let exponent = exponent.trim_start_matches('{').trim_end_matches('}');
    Some(
        exponent
            .parse::<i32>()
            .ok()
            .map(|e| (mantissa, e))
            .ok_or(()),
    )
}

/// The smallest magnitude an answer may have other than 0: `f64::MIN_POSITIVE` (about 2.2 × 10^-308). Below
/// it a double keeps fewer digits (subnormal), and far enough below it the number becomes 0; a learner who
/// typed a non-zero number must not be graded as if they had typed 0.
pub const SMALLEST_ANSWER: f64 = f64::MIN_POSITIVE;

/// Accepts `value` only if it is a normal double (or a zero that was typed as zero); names the problem
/// otherwise. `nonzero` says whether the typed mantissa has a non-zero digit.
fn representable(value: f64, nonzero: bool, text: &str) -> Result<f64, String> {
    let text = text.trim();
    if value.is_infinite() {
        return Err(format!(
            "'{text}' is too large to represent: the largest number dlf can store is about 1.8 × 10^308"
        ));
    }
    if value.is_nan() {
        return Err(format!("could not read '{text}' as a number"));
    }
    if nonzero && value.abs() < SMALLEST_ANSWER {
        return Err(format!(
            "'{text}' is too small to represent: a number other than 0 must be at least about 2.2 × 10^-308 \
             in size, or it would be stored as 0"
        ));
    }
    Ok(value)
}

/// Reads a plain decimal number with optional three-digit group separators and an optional `e` exponent.
fn parse_plain(trimmed: &str) -> Result<f64, String> {
    let refused = format!(
        "could not read '{trimmed}' as a number (type only the number, like 2500, 2,500, 2.5e3 or 2.5 × 10^3)"
    );
    // A unit or a word typed after the number is the commonest slip; it gets the general message, not a
    // complaint about separators.
    let allowed = |c: char| {
        c.is_ascii_digit()
            || matches!(
                c,
                '.' | 'e' | 'E' | '+' | '-' | ',' | ' ' | '\u{a0}' | '\u{202f}' | '_' | '\''
            )
    };
    if trimmed.is_empty() || !trimmed.chars().all(allowed) {
        return Err(refused);
    }
    let chars: Vec<char> = trimmed.chars().collect();
    let mut cleaned = String::with_capacity(trimmed.len());
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}' | '_' | '\'') {
            let before_digit = i > 0 && chars[i - 1].is_ascii_digit();
            let group = chars
                .get(i + 1..i + 4)
                .is_some_and(|g| g.iter().all(char::is_ascii_digit));
            let ends = chars.get(i + 4).is_none_or(|c| !c.is_ascii_digit());
            if !(before_digit && group && ends) {
                return Err(format!(
                    "could not read '{trimmed}' as a number: a separator must sit between groups of three digits"
                ));
            }
            continue;
        }
        cleaned.push(c);
    }
    let ok_chars = cleaned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !ok_chars {
        return Err(refused);
    }
    // Rust's parser rounds an exponent out of range to infinity or 0 without saying so.
    let nonzero = cleaned
        .split(['e', 'E'])
        .next()
        .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
    match cleaned.parse::<f64>() {
        Ok(v) => representable(v, nonzero, trimmed),
        Err(_) => Err(refused),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_people_type_them() {
        let cases = [
            ("3e9", 3e9),
            ("3E9", 3e9),
            ("3,000,000", 3e6),
            ("3 000 000", 3e6),
            ("3\u{202f}000", 3e3),
            (" 1.5 ", 1.5),
            ("-2.5e-3", -2.5e-3),
            ("12_345.5", 12_345.5),
            // Powers of ten as written on a whiteboard, and SI suffixes, as `dlf drill` reads them.
            ("3 × 10^9", 3e9),
            ("3x10^9", 3e9),
            ("2.5 * 10^-3", 2.5e-3),
            ("1.5·10⁹", 1.5e9),
            ("4 × 10⁻²", 4e-2),
            ("10^6", 1e6),
            ("10⁹", 1e9),
            ("1,024 × 10^3", 1.024e6),
            ("\u{2212}2.5", -2.5),
            ("1.2k", 1.2e3),
            ("275G", 2.75e11),
            ("3 M", 3e6),
            ("1000", 1e3),
            ("10", 10.0),
        ];
        for (text, expected) in cases {
            let got = parse_number(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                (got - expected).abs() <= 1e-12 * expected.abs(),
                "{text} → {got}"
            );
        }
        for bad in [
            "3,5",
            "1,00",
            "abc",
            "",
            "inf",
            "NaN",
            "3e999",
            "3 GB",
            ",300",
            "0x10",
            "3 × 10^",
            "3 × 10^x",
            "3 × 10^999",
            "3 × 2^9",
            "G",
            "k",
            "1e400k",
        ] {
            assert!(parse_number(bad).is_err(), "'{bad}' must be refused");
        }
        // Zero is an answer; a non-zero number too small or too large to hold is refused with a reason.
        for zero in ["0", "0.0", "0e-99999", "0 × 10^-400", "-0"] {
            assert_eq!(parse_number(zero).map(f64::abs), Ok(0.0), "{zero}");
        }
        for (tiny, word) in [
            ("1e-99999", "too small"),
            ("10^-400", "too small"),
            ("10^-2147483648", "too small"),
            ("10^-99999999999", "could not read"),
            ("3 × 10^-320", "too small"),
            ("1e-310", "too small"),
            ("-1e-400", "too small"),
            ("0.000000001e-300", "too small"),
            ("1e400", "too large"),
            ("1e99999", "too large"),
            ("10^400", "too large"),
            ("10^2147483647", "too large"),
            ("2 × 10^308", "too large"),
            ("-1e309", "too large"),
            ("1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "too large"),
            ("1e400k", "too large"),
        ] {
            let message = parse_number(tiny).expect_err(tiny);
            assert!(message.contains(word), "{tiny}: {message}");
        }
        assert_eq!(parse_number("2.3e-308"), Ok(2.3e-308));
        assert_eq!(parse_number("1.7e308"), Ok(1.7e308));
        let small = parse_number("10^-307").unwrap();
        assert!((small / 1e-307 - 1.0).abs() < 1e-12, "{small}");
        // An SI suffix is refused where the unit has a prefix already, and read where it has none.
        assert!(parse_answer("7.3M", "MiB").is_err());
        assert!(parse_answer("275G", "GFLOPs").is_err());
        assert_eq!(parse_answer("7.3", "MiB"), Ok(7.3));
        assert_eq!(parse_answer("1.2M", "parameters"), Ok(1.2e6));
        assert_eq!(parse_answer("3k", "steps"), Ok(3e3));
        assert_eq!(parse_answer("3k", ""), Ok(3e3));
        // A unit typed after the number is told to leave it out, not that its separators are wrong.
        let message = parse_number("4 GFLOPs").expect_err("a unit is refused");
        assert!(message.contains("type only the number"), "{message}");
    }
}

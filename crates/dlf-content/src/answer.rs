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
        let value = m * 10f64.powi(exponent);
        return if value.is_finite() {
            Ok(value)
        } else {
            Err(refused())
        };
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
            let value = parse_plain(mantissa).map_err(|_| refused())? * scale;
            return if value.is_finite() {
                Ok(value)
            } else {
                Err(refused())
            };
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
            .filter(|e| e.abs() <= 400)
            .map(|e| (mantissa, e))
            .ok_or(()),
    )
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
    match cleaned.parse::<f64>() {
        Ok(v) if ok_chars && v.is_finite() => Ok(v),
        _ => Err(refused),
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

//! Numbers written into estimation problems and their worked solutions, shared by every lesson's generators.

/// `x` with `digits` significant digits, as LaTeX: `3.436 \times 10^{10}` or `68.72`.
pub fn tex_number(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let exponent = crate::math::log10(x.abs()).floor() as i32;
    if (-3..6).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        let mantissa = x / 10f64.powi(exponent);
        let decimals = digits.saturating_sub(1);
        format!("{mantissa:.decimals$} \\times 10^{{{exponent}}}")
    }
}

/// A whole number with thin spaces between groups of three digits, as LaTeX: `25\,165\,824`.
pub fn tex_int(n: u64) -> String {
    grouped(n, "\\,")
}

/// A whole number with commas between groups of three digits, for prose: `25,165,824`.
pub fn prose_int(n: u64) -> String {
    grouped(n, ",")
}

fn grouped(n: u64, separator: &str) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// `x` as LaTeX scientific notation with four significant figures, e.g. `9.9990 \\times 10^{-4}`.
pub fn tex_sci(x: f64) -> String {
    let text = format!("{x:.3e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => format!("{mantissa} \\times 10^{{{exponent}}}"),
        None => text,
    }
}

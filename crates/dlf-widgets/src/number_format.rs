//! Compact, deterministic number formatting for SVG coordinates, tick labels and the numbers panel.
//!
//! The formatting is written out by hand rather than through `format!("{}", x)` for two reasons: the
//! output must be short (an SVG with a thousand rectangles repeats these strings thousands of times),
//! and the wasm build should not carry the general float-to-decimal machinery of `core::fmt` when
//! rounding to a fixed number of decimals is all a figure needs. Every function here is a pure function
//! of its input, so figures are byte-for-byte reproducible across platforms.

/// Appends the decimal digits of `v` to `out`.
fn push_u64(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        // `v % 10` is below 10, so the narrowing cast cannot lose information.
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in digits[..n].iter().rev() {
        out.push(char::from(d));
    }
}

/// Appends a signed integer in decimal.
pub fn push_int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Formats a signed integer in decimal.
pub fn int(v: i64) -> String {
    let mut s = String::new();
    push_int(&mut s, v);
    s
}

/// The largest magnitude, after scaling by `10^decimals`, that still fits the integer path exactly.
/// 2^53 is where consecutive f64 values stop being one apart, so rounding beyond it is meaningless.
const EXACT_LIMIT: f64 = 9.007_199_254_740_992e15;

/// Appends `x` rounded to at most `decimals` decimals, with trailing zeros (and a bare point) removed:
/// `12.50` is written `12.5`, `3.0` is written `3`, and a value that rounds to zero is written `0`
/// without a sign. Non-finite values are written `NaN`, `inf` or `-inf`; callers that build SVG filter
/// them out before they get here. Magnitudes too large for exact fixed-point output fall back to
/// scientific notation with six significant digits.
pub fn push_fixed(out: &mut String, x: f64, decimals: u32) {
    if !x.is_finite() {
        push_non_finite(out, x);
        return;
    }
    let decimals = decimals.min(15);
    let scale = 10f64.powi(decimals as i32);
    let scaled = (x.abs() * scale).round();
    if scaled >= EXACT_LIMIT {
        push_sci(out, x, 6);
        return;
    }
    // `scaled` is a non-negative integer below 2^53, so the cast is exact.
    let v = scaled as u64;
    if v == 0 {
        out.push('0');
        return;
    }
    if x < 0.0 {
        out.push('-');
    }
    let unit = 10u64.pow(decimals);
    push_u64(out, v / unit);
    let mut frac = v % unit;
    if frac == 0 {
        return;
    }
    out.push('.');
    // Write the fractional digits most significant first and stop at the last non-zero digit.
    let mut width = decimals;
    while frac % 10 == 0 {
        frac /= 10;
        width -= 1;
    }
    let mut divisor = 10u64.pow(width - 1);
    while divisor > 0 {
        // The quotient is a single digit because `frac < 10 * divisor` at every step.
        out.push(char::from(b'0' + (frac / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// [`push_fixed`] returning a new string.
pub fn fixed(x: f64, decimals: u32) -> String {
    let mut s = String::new();
    push_fixed(&mut s, x, decimals);
    s
}

fn push_non_finite(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x > 0.0 {
        out.push_str("inf");
    } else {
        out.push_str("-inf");
    }
}

/// Splits a finite non-zero `|x|` into a mantissa in `[1, 10)` rounded to `digits` significant digits
/// and a decimal exponent, so that `|x| ≈ mantissa · 10^exponent`.
fn decompose(x: f64, digits: u32) -> (f64, i32) {
    let a = x.abs();
    // `log10` of a finite non-zero f64 lies within ±324, so the cast to i32 is exact.
    let mut e = dlf_engine::math::log10(a).floor() as i32;
    let mut m = a / 10f64.powi(e);
    // `log10` can land one below or above the true exponent near exact powers of ten.
    if m >= 10.0 {
        m /= 10.0;
        e += 1;
    } else if m < 1.0 {
        m *= 10.0;
        e -= 1;
    }
    let step = 10f64.powi(digits.saturating_sub(1) as i32);
    m = (m * step).round() / step;
    if m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    (m, e)
}

/// Appends `x` in scientific notation with `digits` significant digits, e.g. `1.5e-7`, `2e3`.
pub fn push_sci(out: &mut String, x: f64, digits: u32) {
    if !x.is_finite() {
        push_non_finite(out, x);
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    let digits = digits.clamp(1, 15);
    let (m, e) = decompose(x, digits);
    if x < 0.0 {
        out.push('-');
    }
    push_fixed(out, m, digits - 1);
    out.push('e');
    push_int(out, i64::from(e));
}

/// [`push_sci`] returning a new string.
pub fn sci(x: f64, digits: u32) -> String {
    let mut s = String::new();
    push_sci(&mut s, x, digits);
    s
}

/// Formats `x` with `digits` significant digits in the shortest natural form: plain decimals for
/// magnitudes in `[1e-3, 1e6)` (`0.0123`, `98.5`, `12000`) and scientific notation outside it
/// (`3.2e-9`). This is the format of every number in a widget's numbers panel and description.
pub fn sig(x: f64, digits: u32) -> String {
    let mut s = String::new();
    push_sig(&mut s, x, digits);
    s
}

/// [`sig`] appending to a buffer.
pub fn push_sig(out: &mut String, x: f64, digits: u32) {
    if !x.is_finite() {
        push_non_finite(out, x);
        return;
    }
    if x == 0.0 {
        out.push('0');
        return;
    }
    let digits = digits.clamp(1, 15);
    let (_, e) = decompose(x, digits);
    if !(-3..6).contains(&e) {
        push_sci(out, x, digits);
        return;
    }
    // With exponent e the last significant digit sits at decimal place digits-1-e.
    let decimals = (digits as i32 - 1 - e).max(0);
    push_fixed(out, x, decimals as u32);
}

/// Formats a fraction in `[0, 1]` as a whole-number percentage, e.g. `0.981` as `98%`.
pub fn percent(fraction: f64) -> String {
    let mut s = String::new();
    push_fixed(&mut s, fraction * 100.0, 0);
    s.push('%');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_trims_zeros_and_signs() {
        assert_eq!(fixed(12.5, 2), "12.5");
        assert_eq!(fixed(3.0, 2), "3");
        assert_eq!(fixed(-0.25, 2), "-0.25");
        assert_eq!(fixed(-0.0001, 2), "0");
        assert_eq!(fixed(0.105, 1), "0.1");
        assert_eq!(fixed(1.96, 1), "2");
        assert_eq!(fixed(123456.0, 0), "123456");
        assert_eq!(fixed(0.05, 3), "0.05");
        assert_eq!(fixed(f64::NAN, 2), "NaN");
        assert_eq!(fixed(f64::NEG_INFINITY, 2), "-inf");
    }

    #[test]
    fn fixed_falls_back_to_scientific_for_huge_values() {
        assert_eq!(fixed(1e300, 2), "1e300");
    }

    #[test]
    fn scientific_rounds_mantissa_and_carries() {
        assert_eq!(sci(1.5e-7, 3), "1.5e-7");
        assert_eq!(sci(9.996e-5, 3), "1e-4");
        assert_eq!(sci(-2000.0, 2), "-2e3");
        assert_eq!(sci(1e-12, 1), "1e-12");
        assert_eq!(sci(0.1, 1), "1e-1");
        assert_eq!(sci(0.0, 3), "0");
    }

    #[test]
    fn significant_digits_choose_a_natural_form() {
        assert_eq!(sig(0.0123456, 3), "0.0123");
        assert_eq!(sig(98.54, 3), "98.5");
        assert_eq!(sig(12000.0, 3), "12000");
        assert_eq!(sig(3.2e-9, 2), "3.2e-9");
        assert_eq!(sig(0.6874, 2), "0.69");
        assert_eq!(sig(2.5e7, 3), "2.5e7");
        assert_eq!(sig(-0.5, 3), "-0.5");
        assert_eq!(sig(0.0, 3), "0");
    }

    #[test]
    fn integers_and_percentages() {
        assert_eq!(int(0), "0");
        assert_eq!(int(-1234567), "-1234567");
        assert_eq!(int(i64::MIN), "-9223372036854775808");
        assert_eq!(percent(0.981), "98%");
        assert_eq!(percent(1.0), "100%");
    }
}

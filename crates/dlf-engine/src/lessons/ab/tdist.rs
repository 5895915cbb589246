//! Student's t distribution's upper tail, for the t-tests of [`super::significance`].
//!
//! `P(T > t) = ½ I_{ν/(ν+t²)}(ν/2, ½)` for `t ≥ 0` (Abramowitz & Stegun 26.5.27 with 26.7.1), where `I_x(a, b)`
//! is the regularized incomplete beta function, evaluated by its continued fraction (A&S 26.5.8) with the
//! modified Lentz algorithm (Lentz 1976; Thompson & Barnett 1986), on the side of `x = (a+1)/(a+b+2)` where it
//! converges fast (the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` covers the other side). `ln Γ` is Lanczos'
//! approximation (Lanczos, "A precision approximation of the gamma function", SIAM J. Numer. Anal. B 1, 1964)
//! with `g = 7` and nine coefficients (the set Numerical Recipes and many libraries print), relative error
//! about 1e-15.

use crate::math::{exp, ln};

/// Lanczos coefficients for `g = 7`, `n = 9`.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// `ln Γ(x)` for `x > 0`.
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return ln(pi / crate::math::sin(pi * x)) - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * ln(std::f64::consts::TAU) + (x + 0.5) * ln(t) - t + ln(a)
}

/// The continued fraction of `I_x(a, b)` (A&S 26.5.8) by the modified Lentz algorithm.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..1000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function `I_x(a, b)` for `a, b > 0`, `0 ≤ x ≤ 1`.
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = exp(ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * ln(x) + b * crate::math::ln_1p(-x));
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// `P(T > t)` for Student's t with `df > 0` degrees of freedom.
pub fn t_sf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
    if t >= 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// The `t` with `P(T > t) = p`, by bisection on [`t_sf`] (for intervals; `0 < p < 1`).
pub fn t_upper_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (-1e3, 1e3);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_sf(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-14 * (1.0 + mid.abs()) {
            break;
        }
    }
    0.5 * (lo + hi)
}

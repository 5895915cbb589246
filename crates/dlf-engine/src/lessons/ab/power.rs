//! Sample size, power and the minimum detectable effect of a two-arm conversion experiment, under the
//! formula variants in use, and the winner's curse of an under-powered design.
//!
//! Notation: baseline rate `p₁` (control), treatment rate `p₂ = p₁ + δ`, `q = 1 − p`, equal arms of `n`
//! users each, `z_a` the critical value (`z_{α/2}` two-sided, `z_α` one-sided) and `z_b = Φ⁻¹(power)`.

use super::{fail, AbError, Alternative};
use crate::normal::{cdf, pdf, quantile, sf};

/// A sample-size formula for two proportions, named after who uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleSizeFormula {
    /// `n = [z_a √(2p̄q̄) + z_b √(p₁q₁ + p₂q₂)]² / δ²`, `p̄ = (p₁ + p₂)/2`: the variance under H0 for the
    /// critical value and under H1 for the power (Fleiss, Levin & Paik 2003, eq. 4.14 without the continuity
    /// correction; R `power.prop.test`; statsmodels `samplesize_proportions_2indep_onetail`).
    Pooled,
    /// `n = (z_a + z_b)² (p₁q₁ + p₂q₂) / δ²`: the unpooled variance throughout (the Wald test's formula;
    /// most online calculators and textbooks' first derivation).
    Unpooled,
    /// `n = 2 (z_a + z_b)² / h²` with Cohen's `h = 2 asin √p₂ − 2 asin √p₁` (Cohen, "Statistical Power
    /// Analysis for the Behavioral Sciences", 2nd ed. 1988, ch. 6): the arcsine transform makes the variance
    /// `1/n` whatever the rate.
    CohenH,
    /// The same `h`, but the power counts both tails, `Φ(h√(n/2) − z_{α/2}) + Φ(−h√(n/2) − z_{α/2})`, solved
    /// for `n` numerically: statsmodels `NormalIndPower().solve_power(proportion_effectsize(p₂, p₁), …)`.
    Statsmodels,
    /// Lehr's rule of thumb `n = 16 p₁q₁/δ²` (Lehr, "Sixteen S-squared over D-squared: a relation for crude
    /// sample size estimates", Statistics in Medicine 1992; Kohavi, Tang & Xu 2020 ch. 17): `2(1.96 +
    /// 0.84)² ≈ 15.7 ≈ 16` with the baseline variance, so only for α = 0.05 two-sided and 80 % power.
    Lehr,
}

impl SampleSizeFormula {
    /// Every formula, in the order `--help` lists them.
    pub const ALL: [SampleSizeFormula; 5] = [
        SampleSizeFormula::Pooled,
        SampleSizeFormula::Unpooled,
        SampleSizeFormula::CohenH,
        SampleSizeFormula::Statsmodels,
        SampleSizeFormula::Lehr,
    ];

    /// Parses `pooled`, `unpooled`, `cohen-h` (`arcsine`), `statsmodels`, `lehr`.
    pub fn parse(s: &str) -> Option<SampleSizeFormula> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pooled" | "fleiss" => Some(SampleSizeFormula::Pooled),
            "unpooled" | "wald" => Some(SampleSizeFormula::Unpooled),
            "cohen-h" | "cohen_h" | "arcsine" => Some(SampleSizeFormula::CohenH),
            "statsmodels" => Some(SampleSizeFormula::Statsmodels),
            "lehr" | "16" => Some(SampleSizeFormula::Lehr),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            SampleSizeFormula::Pooled => "pooled",
            SampleSizeFormula::Unpooled => "unpooled",
            SampleSizeFormula::CohenH => "cohen-h",
            SampleSizeFormula::Statsmodels => "statsmodels",
            SampleSizeFormula::Lehr => "lehr",
        }
    }
}

/// Cohen's `h = 2 asin √p₂ − 2 asin √p₁`.
pub fn cohen_h(p1: f64, p2: f64) -> f64 {
    2.0 * asin(p2.sqrt()) - 2.0 * asin(p1.sqrt())
}

/// `asin x = 2 atan(x/(1 + √(1 − x²)))` for `0 ≤ x ≤ 1` (`crate::math` wraps no inverse trigonometric
/// function, and Cohen's h needs only this range).
fn asin(x: f64) -> f64 {
    2.0 * atan(x / (1.0 + (1.0 - x * x).sqrt()))
}

/// `atan x` for `0 ≤ x ≤ 1` by argument halving and the Taylor series (enough for Cohen's h, whose
/// arguments are `√p ≤ 1`): `atan x = 2 atan(x/(1 + √(1 + x²)))` twice brings `x` below 0.2, where 20 terms of
/// `Σ (−1)^k x^{2k+1}/(2k+1)` are exact to double precision.
fn atan(x: f64) -> f64 {
    let mut y = x;
    let mut scale = 1.0;
    while y.abs() > 0.1 {
        y /= 1.0 + (1.0 + y * y).sqrt();
        scale *= 2.0;
    }
    let (y2, mut term, mut sum) = (y * y, y, 0.0);
    for k in 0..12 {
        sum += term / (2 * k + 1) as f64;
        term *= -y2;
    }
    scale * sum
}

/// A design's inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Design {
    /// The control's rate `p₁`.
    pub baseline: f64,
    /// The treatment's rate `p₂` the test should detect.
    pub treatment: f64,
    /// The significance level α.
    pub alpha: f64,
    /// The power `1 − β`.
    pub power: f64,
    /// Two-sided or one-sided (`Larger` and `Smaller` both use `z_α`).
    pub alternative: Alternative,
}

impl Design {
    fn check(&self) -> Result<(), AbError> {
        for (v, name) in [(self.baseline, "baseline"), (self.treatment, "treatment rate")] {
            if !(v > 0.0 && v < 1.0) {
                return fail(format!("the {name} must lie in (0, 1), got {v}"));
            }
        }
        if self.baseline == self.treatment {
            return fail("the effect is zero: no sample size detects it");
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return fail(format!("alpha must lie in (0, 1), got {}", self.alpha));
        }
        if !(self.power > 0.0 && self.power < 1.0) {
            return fail(format!("power must lie in (0, 1), got {}", self.power));
        }
        Ok(())
    }
}

/// Users per arm (not rounded up) under `formula`.
///
/// # Errors
/// Rates outside (0, 1), a zero effect, α or power outside (0, 1); for `lehr`, α ≠ 0.05 two-sided or
/// power ≠ 0.8, the only design its constant 16 stands for; for `statsmodels`, a power not above α/2.
pub fn sample_size(formula: SampleSizeFormula, d: &Design) -> Result<f64, AbError> {
    d.check()?;
    let (p1, p2) = (d.baseline, d.treatment);
    let delta = (p2 - p1).abs();
    let za = d.alternative.critical(d.alpha);
    let zb = quantile(d.power);
    let var1 = p1 * (1.0 - p1) + p2 * (1.0 - p2);
    Ok(match formula {
        SampleSizeFormula::Pooled => {
            let pb = 0.5 * (p1 + p2);
            let root = za * (2.0 * pb * (1.0 - pb)).sqrt() + zb * var1.sqrt();
            root * root / (delta * delta)
        }
        SampleSizeFormula::Unpooled => (za + zb) * (za + zb) * var1 / (delta * delta),
        SampleSizeFormula::CohenH => {
            let h = cohen_h(p1, p2);
            2.0 * (za + zb) * (za + zb) / (h * h)
        }
        SampleSizeFormula::Statsmodels => {
            let h = cohen_h(p1, p2).abs();
            let power_at = |n: f64| {
                let shift = h * (0.5 * n).sqrt();
                match d.alternative {
                    Alternative::TwoSided => sf(za - shift) + cdf(-za - shift),
                    _ => sf(za - shift),
                }
            };
            let floor = power_at(0.0);
            if d.power <= floor {
                return fail(format!(
                    "a power of {} is below what n = 0 already gives ({floor}): ask for more",
                    d.power
                ));
            }
            // Start from the one-tail closed form (an upper bound on n) and bisect.
            let (mut lo, mut hi) = (0.0, 2.0 * (za + zb).max(1.0).powi(2) / (h * h) * 2.0 + 1.0);
            while hi - lo > 1e-11 * hi {
                let mid = 0.5 * (lo + hi);
                if power_at(mid) < d.power {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        }
        SampleSizeFormula::Lehr => {
            if d.alternative != Alternative::TwoSided
                || (d.alpha - 0.05).abs() > 1e-12
                || (d.power - 0.8).abs() > 1e-12
            {
                return fail(
                    "Lehr's 16 stands for α = 0.05 two-sided and 80 % power only: use another formula",
                );
            }
            16.0 * p1 * (1.0 - p1) / (delta * delta)
        }
    })
}

/// The power a formula implies for `n` users per arm (its sample-size equation solved for `z_b`).
///
/// # Errors
/// As [`sample_size`] (the `power` field of `d` is ignored).
pub fn power_for(formula: SampleSizeFormula, d: &Design, n: f64) -> Result<f64, AbError> {
    d.check()?;
    if n.is_nan() || n <= 0.0 {
        return fail(format!("n must be positive, got {n}"));
    }
    let (p1, p2) = (d.baseline, d.treatment);
    let delta = (p2 - p1).abs();
    let za = d.alternative.critical(d.alpha);
    let var1 = p1 * (1.0 - p1) + p2 * (1.0 - p2);
    let zb = match formula {
        SampleSizeFormula::Pooled => {
            let pb = 0.5 * (p1 + p2);
            (delta * n.sqrt() - za * (2.0 * pb * (1.0 - pb)).sqrt()) / var1.sqrt()
        }
        SampleSizeFormula::Unpooled => delta * (n / var1).sqrt() - za,
        SampleSizeFormula::CohenH => cohen_h(p1, p2).abs() * (0.5 * n).sqrt() - za,
        SampleSizeFormula::Statsmodels => {
            let shift = cohen_h(p1, p2).abs() * (0.5 * n).sqrt();
            return Ok(match d.alternative {
                Alternative::TwoSided => sf(za - shift) + cdf(-za - shift),
                _ => sf(za - shift),
            });
        }
        SampleSizeFormula::Lehr => delta * (n / (2.0 * p1 * (1.0 - p1))).sqrt() - za,
    };
    Ok(cdf(zb))
}

/// The minimum detectable effect: the absolute lift `δ > 0` (upward from the baseline) that `n` users per arm
/// detect with the design's power under `formula`, found by bisection on [`sample_size`].
///
/// # Errors
/// As [`sample_size`]; `n` too small to detect any lift below `1 − p₁`.
pub fn mde(formula: SampleSizeFormula, d: &Design, n: f64) -> Result<f64, AbError> {
    if n.is_nan() || n <= 0.0 {
        return fail(format!("n must be positive, got {n}"));
    }
    let p1 = d.baseline;
    let at = |delta: f64| {
        sample_size(
            formula,
            &Design {
                treatment: p1 + delta,
                ..*d
            },
        )
    };
    let top = (1.0 - p1) * (1.0 - 1e-9);
    if at(top)? > n {
        return fail(format!(
            "{n} users per arm cannot detect even a lift to 100 %: the design needs more users"
        ));
    }
    let (mut lo, mut hi) = (0.0, top);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if at(mid)? > n {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// Days of traffic for `n` users per arm: `⌈arms · n / (daily · allocation)⌉`, and that rounded up to whole
/// weeks (to average over the weekly cycle).
pub fn days_needed(n_per_arm: f64, arms: usize, daily_users: f64, allocation: f64) -> (f64, f64) {
    let days = (arms as f64 * n_per_arm.ceil() / (daily_users * allocation)).ceil();
    (days, 7.0 * (days / 7.0).ceil())
}

/// What a significant result means when the true effect is `λ` standard errors (`λ = δ/SE`), for a
/// two-sided test at critical value `z` (Gelman & Carlin, "Beyond Power Calculations: Assessing Type S
/// (Sign) and Type M (Magnitude) Errors", Perspectives on Psychological Science 2014).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WinnersCurse {
    /// `P(|Ẑ| > z) = 1 − Φ(z − λ) + Φ(−z − λ)`.
    pub power: f64,
    /// Type S: the share of significant results with the wrong sign, `Φ(−z − λ)/power`.
    pub type_s: f64,
    /// Type M, the exaggeration ratio `E[|δ̂| | significant]/δ`.
    pub exaggeration: f64,
}

/// The winner's curse in closed form: with `Y = δ̂/SE ~ N(λ, 1)`,
/// `E[Y; Y > z] = λ(1 − Φ(z − λ)) + φ(z − λ)` and `E[−Y; Y < −z] = φ(z + λ) − λΦ(−z − λ)`, so
/// `exaggeration = (E[Y; Y > z] + E[−Y; Y < −z]) / (λ · power)`.
pub fn winners_curse(lambda: f64, z: f64) -> WinnersCurse {
    let up = sf(z - lambda);
    let down = cdf(-z - lambda);
    let power = up + down;
    let mean_abs = lambda * up + pdf(z - lambda) + pdf(z + lambda) - lambda * down;
    WinnersCurse {
        power,
        type_s: down / power,
        exaggeration: mean_abs / (lambda * power),
    }
}

/// The same by simulation: `trials` draws of `Y ~ N(λ, 1)`; returns (power, exaggeration) measured.
pub fn winners_curse_simulated(lambda: f64, z: f64, trials: usize, seed: u64) -> (f64, f64) {
    let mut rng = crate::rng::Rng::new(seed);
    let (mut hits, mut sum) = (0usize, 0.0);
    for _ in 0..trials {
        let y = lambda + rng.normal();
        if y.abs() > z {
            hits += 1;
            sum += y.abs();
        }
    }
    let power = hits as f64 / trials as f64;
    (power, sum / hits.max(1) as f64 / lambda)
}

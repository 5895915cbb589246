//! The ECE as an estimator: its bias and spread against the sample size and the number of bins.
//!
//! Model: top-label confidences `c ~ Uniform(1/2, 1)` and correctness `o ~ Bernoulli(c − g)`, so the true
//! calibration gap is the constant `g` and the true ECE is `g` under any binning. In a bin holding `n_b`
//! examples the estimated gap `acc_b − conf_b = (1/n_b) Σ (o_i − c_i)` has mean `−g` and variance
//! `v_b / n_b` with `v_b = E_b[(c − g)(1 − c + g)]` (the Bernoulli variance averaged over the bin; `c`'s own
//! spread cancels because `E[o − c | c] = −g` is constant). For `X ~ N(μ, s²)`,
//! `E|X| = s √(2/π) exp(−μ²/2s²) + μ (1 − 2Φ(−μ/s))` (the folded normal; Leone, Nelson & Nottingham 1961), so
//! with `n_b ≈ N w_b` the expected estimate is `Σ_b w_b E|X_b|`: for `g = 0` it is
//! `√(2/(πN)) Σ_b √(w_b v_b)`, a bias growing like `√(B/N)` (Kumar, Liang & Ma 2019; Roelofs et al. 2022).

use crate::activation::normal_cdf;
use crate::lessons::calibration::{reliability, Binning};
use crate::math;
use crate::rng::Rng;

/// Equal-width or equal-mass bins for the estimator study.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `B` equal-width bins on `[0, 1]` (half of them cover the confidences in `[1/2, 1]`), right-closed.
    EqualWidth,
    /// `B` equal-mass bins.
    EqualMass,
}

/// The bins' weights `w_b` and mean per-sample variances `v_b` for confidences uniform on `[1/2, 1]`.
fn bin_moments(bins: usize, scheme: Scheme, gap: f64) -> Vec<(f64, f64)> {
    let intervals: Vec<(f64, f64)> = match scheme {
        Scheme::EqualWidth => (0..bins)
            .filter_map(|b| {
                let lo = (b as f64 / bins as f64).max(0.5);
                let hi = ((b + 1) as f64 / bins as f64).max(0.5);
                (hi > lo).then_some((lo, hi))
            })
            .collect(),
        Scheme::EqualMass => (0..bins)
            .map(|b| {
                (
                    0.5 + 0.5 * b as f64 / bins as f64,
                    0.5 + 0.5 * (b + 1) as f64 / bins as f64,
                )
            })
            .collect(),
    };
    intervals
        .into_iter()
        .map(|(lo, hi)| {
            let w = (hi - lo) / 0.5;
            let mean = 0.5 * (lo + hi) - gap;
            let second = (hi - lo) * (hi - lo) / 12.0 + mean * mean;
            (w, mean - second)
        })
        .collect()
}

/// `(E|X|, Var|X|)` for `X ~ N(mu, s²)`.
fn folded_normal(mu: f64, s: f64) -> (f64, f64) {
    if s <= 0.0 {
        return (mu.abs(), 0.0);
    }
    let m = s * (2.0 / std::f64::consts::PI).sqrt() * math::exp(-mu * mu / (2.0 * s * s))
        + mu * (1.0 - 2.0 * normal_cdf(-mu / s));
    (m, (mu * mu + s * s - m * m).max(0.0))
}

/// The normal-approximation mean and standard deviation of the estimated ECE with `n` examples.
pub fn ece_mean_sd(n: usize, bins: usize, scheme: Scheme, gap: f64) -> (f64, f64) {
    let (mut mean, mut var) = (0.0, 0.0);
    for (w, v) in bin_moments(bins, scheme, gap) {
        let nb = n as f64 * w;
        let (m, s2) = folded_normal(gap, (v / nb).sqrt());
        mean += w * m;
        var += w * w * s2;
    }
    (mean, var.sqrt())
}

/// Monte-Carlo mean and standard deviation of the estimated ECE over `reps` data sets of `n` examples.
pub fn ece_monte_carlo(
    n: usize,
    bins: usize,
    scheme: Scheme,
    gap: f64,
    reps: usize,
    seed: u64,
) -> (f64, f64) {
    let mut rng = Rng::new(seed);
    let binning = match scheme {
        Scheme::EqualWidth => Binning::RightClosed,
        Scheme::EqualMass => Binning::EqualMass,
    };
    let mut conf = vec![0.0; n];
    let mut hit = vec![0.0; n];
    let mut values = Vec::with_capacity(reps);
    for _ in 0..reps {
        for (c, o) in conf.iter_mut().zip(hit.iter_mut()) {
            *c = 0.5 + 0.5 * rng.uniform();
            *o = if rng.uniform() < *c - gap { 1.0 } else { 0.0 };
        }
        values.push(reliability(&conf, &hit, bins, binning).ece);
    }
    let mean = crate::stats::mean(&values);
    let sd = if reps > 1 {
        crate::stats::sample_variance(&values).sqrt()
    } else {
        0.0
    };
    (mean, sd)
}

//! CUPED (Deng, Xu, Kohavi & Walker, "Improving the Sensitivity of Online Controlled Experiments by Utilizing
//! Pre-Experiment Data", WSDM 2013): replace each user's metric `Y` by `Y − θ(X − E X)`, where `X` is a
//! covariate measured before the experiment (so the treatment cannot move it). The mean is unchanged in
//! expectation, and `Var(Y − θX) = Var Y − 2θ Cov(X, Y) + θ² Var X` is smallest at
//! `θ = Cov(X, Y)/Var X`, where it equals `Var Y · (1 − ρ²)`.

use super::{fail, AbError};
use crate::rng::Rng;
use crate::stats::{mean, sample_variance};

/// One arm's per-user data: the pre-period covariate `x` and the metric `y`.
#[derive(Debug, Clone, Copy)]
pub struct ArmData<'a> {
    /// Pre-experiment covariate, one per user.
    pub x: &'a [f64],
    /// The experiment's metric, one per user.
    pub y: &'a [f64],
}

/// CUPED applied to a two-arm comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CupedResult {
    /// `θ = Cov(X, Y)/Var X` over both arms pooled (one θ for both, so the adjustment cannot create a
    /// difference between the arms).
    pub theta: f64,
    /// The pooled correlation of `X` and `Y`.
    pub rho: f64,
    /// `ȳ_B − ȳ_A`.
    pub diff_raw: f64,
    /// `√(s²_{Y,A}/n_A + s²_{Y,B}/n_B)`.
    pub se_raw: f64,
    /// The adjusted difference `(ȳ_B − θ x̄_B) − (ȳ_A − θ x̄_A)`.
    pub diff_adjusted: f64,
    /// Its standard error from the adjusted metric's sample variances.
    pub se_adjusted: f64,
    /// `se_adjusted² / se_raw²`, which approaches `1 − ρ²`.
    pub variance_ratio: f64,
}

/// CUPED on data.
///
/// # Errors
/// An arm with fewer than two users, `x` and `y` of different lengths, or a constant covariate.
pub fn cuped(a: ArmData, b: ArmData) -> Result<CupedResult, AbError> {
    for (arm, name) in [(a, "control"), (b, "treatment")] {
        if arm.x.len() != arm.y.len() || arm.x.len() < 2 {
            return fail(format!(
                "{name} needs the same number (≥ 2) of x and y values, got {} and {}",
                arm.x.len(),
                arm.y.len()
            ));
        }
    }
    let xs: Vec<f64> = a.x.iter().chain(b.x).copied().collect();
    let ys: Vec<f64> = a.y.iter().chain(b.y).copied().collect();
    let (mx, my) = (mean(&xs), mean(&ys));
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    if sxx.is_nan() || sxx <= 0.0 {
        return fail("the covariate x is constant, so θ = Cov(X, Y)/Var X is undefined");
    }
    let theta = sxy / sxx;
    let rho = if syy > 0.0 { sxy / (sxx * syy).sqrt() } else { 0.0 };
    let adjust = |arm: ArmData| -> Vec<f64> {
        arm.x
            .iter()
            .zip(arm.y)
            .map(|(x, y)| y - theta * (x - mx))
            .collect()
    };
    let (adj_a, adj_b) = (adjust(a), adjust(b));
    let se = |ya: &[f64], yb: &[f64]| {
        (sample_variance(ya) / ya.len() as f64 + sample_variance(yb) / yb.len() as f64).sqrt()
    };
    let se_raw = se(a.y, b.y);
    let se_adjusted = se(&adj_a, &adj_b);
    Ok(CupedResult {
        theta,
        rho,
        diff_raw: mean(b.y) - mean(a.y),
        se_raw,
        diff_adjusted: mean(&adj_b) - mean(&adj_a),
        se_adjusted,
        variance_ratio: se_adjusted * se_adjusted / (se_raw * se_raw),
    })
}

/// Per-user data of one simulated arm: `X ~ N(0, 1)`, `Y = effect + ρX + √(1 − ρ²) ε`, so `Corr(X, Y) = ρ`
/// and `Var Y = 1`.
pub fn simulate_arm(n: usize, rho: f64, effect: f64, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let s = (1.0 - rho * rho).max(0.0).sqrt();
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let a = rng.normal();
        let e = rng.normal();
        x.push(a);
        y.push(effect + rho * a + s * e);
    }
    (x, y)
}

/// Over `trials` simulated A/B tests of `n` users per arm, the variance of the CUPED-adjusted difference
/// over the variance of the raw difference (the theory: `1 − ρ²`, up to `O(1/n)` for estimating θ), and
/// the mean of the two estimates (both unbiased for `effect`).
pub fn simulate(rho: f64, n: usize, effect: f64, trials: usize, seed: u64) -> (f64, f64, f64) {
    let mut rng = Rng::new(seed);
    let (mut raw, mut adj) = (Vec::with_capacity(trials), Vec::with_capacity(trials));
    for _ in 0..trials {
        let (xa, ya) = simulate_arm(n, rho, 0.0, &mut rng);
        let (xb, yb) = simulate_arm(n, rho, effect, &mut rng);
        if let Ok(r) = cuped(ArmData { x: &xa, y: &ya }, ArmData { x: &xb, y: &yb }) {
            raw.push(r.diff_raw);
            adj.push(r.diff_adjusted);
        }
    }
    (
        sample_variance(&adj) / sample_variance(&raw),
        mean(&raw),
        mean(&adj),
    )
}

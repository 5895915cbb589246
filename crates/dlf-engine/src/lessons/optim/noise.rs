//! Adam under gradient noise and bias correction; RAdam's variance rectification.

use super::*;
use crate::rng::Rng;

/// Adam's step after `t` steps of the constant gradient `g`, in units of the learning rate: `|Δp_t|/η`.
/// With bias correction it is `|g|/(|g| + ε)` ≈ 1 for any scale of `g` ≫ ε; without it,
/// `(1 − β₁ᵗ)/√(1 − β₂ᵗ)` at small `t` (3.16 at t = 1 with the defaults).
pub fn adam_constant_gradient_step(
    g: f64,
    t: u64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    bias_correction: bool,
) -> f64 {
    let mut c = Config::new(Kind::Adam, 1.0);
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.eps = eps;
    c.bias_correction = bias_correction;
    let Ok(mut opt) = Optimizer::new(c, &[1]) else {
        return f64::NAN;
    };
    let mut p = [0.0];
    let mut last = 0.0;
    for _ in 0..t {
        let before = p[0];
        if opt.step(&mut p, &[g], 1.0).is_err() {
            return f64::NAN;
        }
        last = (p[0] - before).abs();
    }
    last
}

/// Adam's mean step per learning rate under noisy gradients `g ~ N(μ, σ²)` with `μ = snr·σ`, σ = 1,
/// measured over `steps` steps after a burn-in of `burn_in` steps: `E[Δp]/η` (signed, so it measures the
/// progress along the true gradient) and the standard deviation of `Δp/η`.
///
/// Theory (Kingma & Ba 2015, §2, "the effective step... SNR"): at stationarity `m ≈ μ` and `v ≈ μ² + σ²`,
/// so the step tends to `μ/√(μ² + σ²) = snr/√(1 + snr²)`; small at low SNR, 1 at high SNR.
pub fn adam_noisy_step(
    snr: f64,
    beta1: f64,
    beta2: f64,
    burn_in: usize,
    steps: usize,
    seed: u64,
) -> (f64, f64) {
    match adam_noisy_trace(snr, beta1, beta2, burn_in, steps, seed) {
        Some(trace) => step_mean_and_std(&trace),
        None => (f64::NAN, f64::NAN),
    }
}

/// The run behind [`adam_noisy_step`]: Adam (lr 1) on gradients `g ~ N(snr, 1)` from `p = 0`, and every step
/// after the first `burn_in`, signed so that progress along −E[g] is positive. `None` if the optimizer
/// refuses the β's.
pub fn adam_noisy_trace(
    snr: f64,
    beta1: f64,
    beta2: f64,
    burn_in: usize,
    steps: usize,
    seed: u64,
) -> Option<Vec<f64>> {
    let mut c = Config::new(Kind::Adam, 1.0);
    c.beta1 = beta1;
    c.beta2 = beta2;
    let mut opt = Optimizer::new(c, &[1]).ok()?;
    let mut rng = Rng::new(seed);
    let mut p = [0.0];
    let mut trace = Vec::with_capacity(steps);
    for k in 0..burn_in + steps {
        let g = snr + rng.normal();
        let before = p[0];
        opt.step(&mut p, &[g], 1.0).ok()?;
        if k >= burn_in {
            // The step moves against the gradient; report progress along −g's mean as positive.
            trace.push(before - p[0]);
        }
    }
    Some(trace)
}

/// The mean and the (population) standard deviation of a trace of steps; `(0, 0)` for an empty one.
pub fn step_mean_and_std(trace: &[f64]) -> (f64, f64) {
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for d in trace {
        sum += d;
        sum_sq += d * d;
    }
    let n = trace.len().max(1) as f64;
    let mean = sum / n;
    (mean, (sum_sq / n - mean * mean).max(0.0).sqrt())
}

/// The theoretical stationary step of [`adam_noisy_step`]: `snr/√(1 + snr²)`.
pub fn adam_noisy_step_theory(snr: f64) -> f64 {
    snr / (1.0 + snr * snr).sqrt()
}

/// Monte Carlo estimate of `E[m_t]/E[g]` for an EMA `m_t = β m_{t−1} + (1 − β) g_t` from `m_0 = 0` with
/// i.i.d. `g ~ N(1, 1)`, over `runs` independent runs. Theory: `1 − βᵗ` (Kingma & Ba 2015, §3).
pub fn ema_bias_ratio(beta: f64, t: u64, runs: usize, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let mut total = 0.0;
    for _ in 0..runs {
        let mut m = 0.0;
        for _ in 0..t {
            m = beta * m + (1.0 - beta) * (1.0 + rng.normal());
        }
        total += m;
    }
    total / runs.max(1) as f64
}

/// RAdam's length of the approximated simple moving average at step `t` (Liu et al. 2020, "On the variance
/// of the adaptive learning rate and beyond", ICLR, eq. for ρ_t): `ρ_∞ = 2/(1 − β₂) − 1`,
/// `ρ_t = ρ_∞ − 2 t β₂ᵗ/(1 − β₂ᵗ)`. Modelling `1/v̂` as a scaled inverse χ² variable with `ρ_t` degrees of
/// freedom, the variance of the adaptive rate `1/√v̂` is infinite for `ρ_t ≤ 2`; the paper's first-order
/// approximation of it, and with it the rectification, needs `ρ_t > 4`.
pub fn radam_rho(beta2: f64, t: u64) -> f64 {
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let b = crate::math::powf(beta2, t as f64);
    rho_inf - 2.0 * t as f64 * b / (1.0 - b)
}

/// The first step at which RAdam's `ρ_t > 4`, so its variance rectification switches on (searches up to
/// 10⁶ steps; returns that bound if never).
pub fn radam_first_rectified_step(beta2: f64) -> u64 {
    (1..=1_000_000)
        .find(|&t| radam_rho(beta2, t) > 4.0)
        .unwrap_or(1_000_000)
}

/// RAdam's rectification term `r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))` (Liu et al. 2020),
/// or 0 while `ρ_t ≤ 4`.
pub fn radam_rectification(beta2: f64, t: u64) -> f64 {
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let rho = radam_rho(beta2, t);
    if rho <= 4.0 {
        return 0.0;
    }
    ((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)).sqrt()
}

//! BatchNorm's train/eval gap against the batch size, by simulation.
//!
//! One feature is drawn i.i.d. from `N(μ, σ²)`. BatchNorm ([`crate::lessons::norm::batch_norm_train`], `γ = 1`,
//! `β = 0`) first trains its running statistics for `warmup` batches of size `B`, then, on `trials`
//! fresh batches, the same inputs are normalised twice: with the batch's own statistics (training mode)
//! and with the running ones (evaluation mode, [`crate::lessons::norm::batch_norm_eval`]). The gap is the mean
//! squared difference of the two outputs.
//!
//! Where the `1/B` comes from: the batch mean `m_B` has variance `σ²/B` (the variance of a mean of `B`
//! independent draws), and the batch standard deviation's relative error has variance `≈ 1/(2B)` for a
//! Gaussian, so to first order `x̂_train − x̂_eval ≈ −(m_B − μ)/σ − x̂ (s_B − σ)/σ` and the expected
//! squared gap is `≈ (1 + E[x̂²]/2)/B = 1.5/B` plus the running estimate's own noise. The simulation
//! measures it instead of trusting the expansion, and also reports the measured variance of the batch mean
//! and the ratio of the running variance to the true one (which shows the `(B − 1)/B` bias of the biased
//! estimator at small `B`).

use crate::lessons::norm::{
    batch_norm_eval, batch_norm_train, MomentumConvention, RunningStats, RunningVariance,
};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// One simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapConfig {
    /// Batch size `B` (≥ 2).
    pub batch: usize,
    /// Batches that train the running statistics before measuring.
    pub warmup: usize,
    /// Batches measured.
    pub trials: usize,
    /// The momentum, in `convention`'s meaning.
    pub momentum: f64,
    /// PyTorch's or Keras's momentum rule.
    pub convention: MomentumConvention,
    /// Which variance the running estimate absorbs.
    pub variance: RunningVariance,
    /// The feature's true mean `μ`.
    pub mean: f64,
    /// The feature's true standard deviation `σ`.
    pub std: f64,
    /// Seed.
    pub seed: u64,
}

impl GapConfig {
    /// PyTorch's defaults (momentum 0.1, unbiased running variance), `μ = 3`, `σ = 2`, 200 warm-up and
    /// 200 measured batches.
    pub fn pytorch(batch: usize, seed: u64) -> GapConfig {
        GapConfig {
            batch,
            warmup: 200,
            trials: 200,
            momentum: 0.1,
            convention: MomentumConvention::PyTorch,
            variance: RunningVariance::Unbiased,
            mean: 3.0,
            std: 2.0,
            seed,
        }
    }
}

/// What one simulation measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GapResult {
    /// Mean over all measured examples of `(y_train − y_eval)²`.
    pub gap: f64,
    /// Mean over the measured batches of `(m_B − μ)²/σ²`: the batch mean's variance in units of `σ²`.
    pub batch_mean_var: f64,
    /// Mean over the measured batches of `σ²_B/σ²` (biased batch variance).
    pub batch_var_ratio: f64,
    /// Running variance after the warm-up, divided by `σ²`.
    pub running_var_ratio: f64,
}

/// Runs the simulation. `batch` is clamped to at least 2 and `trials` to at least 1.
///
/// # Errors
/// A message if the momentum is outside `[0, 1]`.
pub fn train_eval_gap(cfg: &GapConfig) -> Result<GapResult, String> {
    let b = cfg.batch.max(2);
    let trials = cfg.trials.max(1);
    let mut rng = Rng::new(cfg.seed);
    let draw = |rng: &mut Rng| -> Tensor {
        let data: Vec<f64> = (0..b).map(|_| cfg.mean + cfg.std * rng.normal()).collect();
        Tensor::new(&[b, 1], data).unwrap_or_else(|_| Tensor::zeros(&[b, 1]))
    };
    let (gamma, beta) = ([1.0], [0.0]);
    let mut running = RunningStats::new(1);
    for _ in 0..cfg.warmup {
        let x = draw(&mut rng);
        let f = batch_norm_train(&x, &gamma, &beta, 1e-5).map_err(|e| e.to_string())?;
        running
            .update(&f, cfg.momentum, cfg.convention, cfg.variance)
            .map_err(|e| e.to_string())?;
    }
    let var = cfg.std * cfg.std;
    let running_var_ratio = running.var[0] / var;
    let (mut gap, mut mean_var, mut var_ratio) = (0.0, 0.0, 0.0);
    for _ in 0..trials {
        let x = draw(&mut rng);
        let t = batch_norm_train(&x, &gamma, &beta, 1e-5).map_err(|e| e.to_string())?;
        let e = batch_norm_eval(&x, &gamma, &beta, &running, 1e-5).map_err(|e| e.to_string())?;
        gap +=
            t.y.data()
                .iter()
                .zip(e.y.data())
                .map(|(a, c)| (a - c) * (a - c))
                .sum::<f64>()
                / b as f64;
        mean_var += (t.mean[0] - cfg.mean).powi(2) / var;
        var_ratio += t.var[0] / var;
    }
    let n = trials as f64;
    Ok(GapResult {
        gap: gap / n,
        batch_mean_var: mean_var / n,
        batch_var_ratio: var_ratio / n,
        running_var_ratio,
    })
}

/// How BatchNorm's running statistics are brought up to date after the weights changed under them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recalibration {
    /// Keep the statistics estimated for the old weights.
    Stale,
    /// Run `batches` forward passes in training mode with PyTorch's default EMA (momentum 0.1), starting
    /// from the stale statistics.
    Ema,
    /// Reset and average the `batches` batch statistics with equal weights (PyTorch's `momentum=None`, the
    /// cumulative average; "precise BN" in Wu & Johnson 2021).
    Cumulative,
}

impl Recalibration {
    /// Parses `stale`, `ema` or `cumulative`.
    pub fn parse(s: &str) -> Option<Recalibration> {
        match s.trim().to_ascii_lowercase().as_str() {
            "stale" => Some(Recalibration::Stale),
            "ema" => Some(Recalibration::Ema),
            "cumulative" | "precise" => Some(Recalibration::Cumulative),
            _ => None,
        }
    }
}

/// Mean squared error of evaluation-mode BatchNorm's output against the output normalised with the true
/// statistics, after the feature's distribution moved from `N(3, 2²)` (where the running statistics had
/// converged) to `N(1, 1.5²)` — what averaging weights (SWA), pruning or quantising does to the features a
/// BatchNorm sees — and the statistics were recalibrated with `batches` batches of size `batch`.
///
/// For running statistics `(r_μ, r_v)` and a feature `x ~ N(μ, σ²)` the error is exact:
/// `E[((x − r_μ)/√r_v − (x − μ)/σ)²] = ((μ − r_μ)/√r_v)² + (σ/√r_v − 1)²` (ε neglected); it is averaged over
/// `trials` independent recalibrations.
///
/// # Errors
/// A message if a BatchNorm forward pass or update fails (it cannot for the shapes used here).
pub fn recalibration_error(
    method: Recalibration,
    batches: usize,
    batch: usize,
    trials: usize,
    seed: u64,
) -> Result<f64, String> {
    let (old_mean, old_std) = (3.0, 2.0);
    let (new_mean, new_std) = (1.0, 1.5);
    let b = batch.max(2);
    let trials = trials.max(1);
    let mut rng = Rng::new(seed);
    let mut total = 0.0;
    for _ in 0..trials {
        let mut r = RunningStats {
            mean: vec![old_mean],
            var: vec![old_std * old_std],
            steps: 0,
        };
        if method != Recalibration::Stale {
            if method == Recalibration::Cumulative {
                r = RunningStats::new(1);
            }
            for n in 1..=batches {
                let data: Vec<f64> = (0..b).map(|_| new_mean + new_std * rng.normal()).collect();
                let x = Tensor::new(&[b, 1], data).map_err(|e| e.to_string())?;
                let f = batch_norm_train(&x, &[1.0], &[0.0], 1e-5).map_err(|e| e.to_string())?;
                // PyTorch's momentum=None is the running average with weight 1/n on the n-th batch.
                let momentum = match method {
                    Recalibration::Cumulative => 1.0 / n as f64,
                    _ => 0.1,
                };
                r.update(
                    &f,
                    momentum,
                    MomentumConvention::PyTorch,
                    RunningVariance::Unbiased,
                )
                .map_err(|e| e.to_string())?;
            }
        }
        let s = r.var[0].sqrt();
        total += ((new_mean - r.mean[0]) / s).powi(2) + (new_std / s - 1.0).powi(2);
    }
    Ok(total / trials as f64)
}

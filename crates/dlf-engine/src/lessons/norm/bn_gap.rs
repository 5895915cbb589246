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


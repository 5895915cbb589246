//! Activation and gradient statistics through depth at finite width, beside the mean-field prediction.
//!
//! A bias-free square MLP `h^l = W^l φ(h^{l−1})` (`h^1 = W^1 x`, `x ~ N(0, 1)`, width `n`) is initialised with
//! a [`Preset`]; one forward pass records the quantiles of every layer's pre-activation magnitudes `|h|`, one backward pass
//! from a random unit-variance gradient at the last layer records the root mean square of
//! `δ^l = ∂L/∂h^l`. The mean field ([`MeanField`]) predicts `√q^l` for the first and
//! `rms δ^{l−1} = rms δ^l · √χ(q^{l−1})` for the second.

use super::mean_field::MeanField;
use super::{Nonlin, Preset};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// One depth experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthConfig {
    /// The activation between layers.
    pub phi: Nonlin,
    /// The initialisation.
    pub preset: Preset,
    /// Number of layers `L`.
    pub depth: usize,
    /// Width `n` of every layer.
    pub width: usize,
    /// Number of inputs pushed through together.
    pub batch: usize,
    /// Seed of the inputs, the weights and the output gradient.
    pub seed: u64,
}

/// The quantiles recorded per layer.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// What one run measured and what the mean field predicts, layer by layer (index `l − 1` for layer `l`).
#[derive(Debug, Clone, PartialEq)]
pub struct DepthProfile {
    /// `σ_w²` of the preset at this width and activation.
    pub sigma_w2: f64,
    /// The [`QUANTILES`] of every layer's pre-activation magnitudes `|h|` (the spread across units and
    /// inputs, on a scale that a log axis can show).
    pub quantiles: Vec<[f64; 5]>,
    /// Root mean square of every layer's pre-activations.
    pub rms: Vec<f64>,
    /// The mean-field `√q^l`.
    pub predicted_rms: Vec<f64>,
    /// Root mean square of `δ^l`, divided by that of the last layer's (1 at `l = L`).
    pub grad_rms: Vec<f64>,
    /// The mean-field prediction of the same ratio.
    pub predicted_grad_rms: Vec<f64>,
    /// Fraction of units that are zero for every input of the batch after the activation (dead ReLUs), per
    /// layer.
    pub dead_fraction: Vec<f64>,
}

fn rms(v: &[f64]) -> f64 {
    (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt()
}

/// The `p`-quantile of sorted values, by linear interpolation between order statistics (numpy's default).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let t = pos - i as f64;
    sorted[i] * (1.0 - t) + sorted[j] * t
}

/// Runs the experiment.
pub fn depth_profile(cfg: &DepthConfig) -> DepthProfile {
    let mut run = DepthRun::new(cfg);
    while !run.advance(cfg.depth.max(1)) {}
    run.profile()
}

/// [`depth_profile`] a few layers at a time, so that a widget can spread the weight draws (depth × width²
/// normal deviates, the bulk of the cost) over several frames. The seeded stream is consumed in the same order
/// however the run is sliced — the input, each layer's weights in turn, then the output gradient — so the
/// profile is the same.
#[derive(Debug, Clone)]
pub struct DepthRun {
    cfg: DepthConfig,
    rng: Rng,
    weights: Vec<Tensor>,
    pre: Vec<Tensor>,
    input: Tensor,
    dead_fraction: Vec<f64>,
}

impl DepthRun {
    /// Draws the input batch.
    pub fn new(cfg: &DepthConfig) -> Self {
        let (n, b) = (cfg.width.max(1), cfg.batch.max(1));
        let mut rng = Rng::new(cfg.seed);
        let input = Tensor::randn(&[b, n], 1.0, &mut rng);
        DepthRun {
            cfg: *cfg,
            rng,
            weights: Vec::new(),
            pre: Vec::new(),
            input,
            dead_fraction: Vec::new(),
        }
    }

    /// Layers whose forward pass is done.
    pub fn layers_done(&self) -> usize {
        self.weights.len()
    }

    /// Draws the weights of up to `layers` more layers and runs them forward; `true` once every layer has.
    pub fn advance(&mut self, layers: usize) -> bool {
        let cfg = &self.cfg;
        let (n, b, depth) = (cfg.width.max(1), cfg.batch.max(1), cfg.depth.max(1));
        for _ in 0..layers {
            if self.weights.len() >= depth {
                break;
            }
            let w = cfg.preset.draw(n, n, cfg.phi, &mut self.rng);
            // Forward: keep every pre-activation for the backward pass and the statistics.
            let h = self.input.matmul_nt(&w).unwrap_or_else(|_| Tensor::zeros(&[b, n]));
            self.input = h.map(|v| cfg.phi.apply(v));
            let dead = (0..n)
                .filter(|&j| (0..b).all(|i| self.input.get2(i, j) == 0.0))
                .count();
            self.dead_fraction.push(dead as f64 / n as f64);
            self.pre.push(h);
            self.weights.push(w);
        }
        self.weights.len() >= depth
    }

    /// The profile: statistics, the backward pass and the mean-field prediction. Call it once
    /// [`DepthRun::advance`] has returned `true`.
    pub fn profile(&self) -> DepthProfile {
        let cfg = &self.cfg;
        let (n, b) = (cfg.width.max(1), cfg.batch.max(1));
        let depth = self.weights.len().max(1);
        let sigma_w2 = cfg.preset.sigma_w2(n, cfg.phi);
        let weights = &self.weights;
        let pre = &self.pre;
        let dead_fraction = self.dead_fraction.clone();
        let mut rng = self.rng.clone();
    let mut quantiles = Vec::with_capacity(depth);
    let mut measured = Vec::with_capacity(depth);
    for h in pre {
        let mut v: Vec<f64> = h.data().iter().map(|x| x.abs()).collect();
        v.sort_by(f64::total_cmp);
        quantiles.push(QUANTILES.map(|p| quantile_sorted(&v, p)));
        measured.push(rms(h.data()));
    }
    // Backward from δ^L ~ N(0, 1): δ^{l−1} = φ'(h^{l−1}) ⊙ (δ^l W^l).
        let mut delta = Tensor::randn(&[b, n], 1.0, &mut rng);
    let mut grad = vec![0.0; depth];
    grad[depth - 1] = rms(delta.data());
    for l in (1..depth).rev() {
        let g = delta.matmul(&weights[l]).unwrap_or_else(|_| Tensor::zeros(&[b, n]));
        delta = g
            .zip_map(&pre[l - 1], |g, h| g * cfg.phi.derivative(h))
            .unwrap_or_else(|_| Tensor::zeros(&[b, n]));
        grad[l - 1] = rms(delta.data());
    }
    let last = grad[depth - 1];
    let grad_rms = grad.iter().map(|g| g / last).collect();
    let mf = MeanField::fast(cfg.phi, sigma_w2, 0.0);
    // The first layer sees the raw input x ~ N(0, 1), whose second moment is 1.
    let q = mf.trajectory(1.0, depth);
    let predicted_rms = q.iter().map(|v| v.sqrt()).collect();
    let mut predicted_grad_rms = vec![1.0; depth];
    for l in (1..depth).rev() {
        predicted_grad_rms[l - 1] = predicted_grad_rms[l] * mf.chi(q[l - 1]).sqrt();
    }
    DepthProfile {
        sigma_w2,
        quantiles,
        rms: measured,
        predicted_rms,
        grad_rms,
        predicted_grad_rms,
        dead_fraction,
    }
}
}

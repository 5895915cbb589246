//! A deep MLP trained live from a chosen activation, initialisation and learning rate, with the per-layer
//! statistics that diagnose a divergence: activation scale (forward variance against the gain), gradient
//! norm and update-to-weight ratio (the learning rate against the gradient scale, lesson 02), and numerics —
//! the largest activation against the float16 range and the fraction of dead units.
//!
//! The network is `x ∈ R^8 → L hidden layers of width 32 → 1`, bias-free (biases start at zero and do not
//! change the initial statistics), trained by full-batch gradient descent on `½·mean (f(x) − y)²` over 32
//! fixed examples with `y = sin(2x₀) + x₁x₂/2` and `x ~ N(0, 1)`. The run is a resumable state: [`Run::step`]
//! does one update, so a widget can spread the training over animation frames; the result does not depend
//! on how the steps are sliced.

use super::{Nonlin, Preset};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Inputs per example.
pub const INPUTS: usize = 8;
/// Hidden width.
pub const WIDTH: usize = 32;
/// Training examples (one full batch).
pub const EXAMPLES: usize = 32;
/// Largest finite float16 value: an activation above it overflows to infinity in fp16.
pub const FP16_MAX: f64 = 65504.0;
/// A loss above this (or not finite) counts as diverged and stops the run.
pub const DIVERGED_LOSS: f64 = 1e6;

/// One training run's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunConfig {
    /// The hidden activation.
    pub phi: Nonlin,
    /// The initialisation of every layer.
    pub preset: Preset,
    /// Number of hidden layers.
    pub depth: usize,
    /// Gradient-descent learning rate.
    pub lr: f64,
    /// Number of steps.
    pub steps: usize,
    /// Seed of the data and the weights.
    pub seed: u64,
}

/// Per-layer statistics at one moment of training (index `l` for weight matrix `l`, the output layer last).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LayerStats {
    /// RMS of each hidden layer's post-activations (the output layer's is its prediction).
    pub act_rms: Vec<f64>,
    /// Largest |pre-activation| in each layer.
    pub max_abs: Vec<f64>,
    /// Frobenius norm of each weight's gradient.
    pub grad_norm: Vec<f64>,
    /// `lr·‖∇W‖/‖W‖`: the relative size of the next update.
    pub update_ratio: Vec<f64>,
    /// Fraction of hidden units that are zero on every example (0 for the output layer).
    pub dead_fraction: Vec<f64>,
}

/// A training run in progress.
#[derive(Debug, Clone)]
pub struct Run {
    /// The settings.
    pub cfg: RunConfig,
    weights: Vec<Tensor>,
    x: Tensor,
    y: Vec<f64>,
    /// The loss before each step taken so far.
    pub losses: Vec<f64>,
    /// Statistics at initialisation.
    pub initial: LayerStats,
    /// Statistics before the latest step (or at the end).
    pub latest: LayerStats,
    /// The step at which the loss diverged, if it did.
    pub diverged_at: Option<usize>,
}

/// The forward pass's kept values.
struct Forward {
    pre: Vec<Tensor>,
    post: Vec<Tensor>,
    out: Vec<f64>,
}

impl Run {
    /// Draws the data and the weights.
    pub fn new(cfg: RunConfig) -> Run {
        let mut rng = Rng::new(cfg.seed);
        let x = Tensor::randn(&[EXAMPLES, INPUTS], 1.0, &mut rng);
        let y = (0..EXAMPLES)
            .map(|i| crate::math::sin(2.0 * x.get2(i, 0)) + 0.5 * x.get2(i, 1) * x.get2(i, 2))
            .collect();
        let mut weights = Vec::with_capacity(cfg.depth + 1);
        let mut fan_in = INPUTS;
        for _ in 0..cfg.depth.max(1) {
            weights.push(cfg.preset.draw(WIDTH, fan_in, cfg.phi, &mut rng));
            fan_in = WIDTH;
        }
        // The readout is linear: the same preset with the identity's gain.
        weights.push(cfg.preset.draw(1, fan_in, Nonlin::Linear, &mut rng));
        let mut run = Run {
            cfg,
            weights,
            x,
            y,
            losses: Vec::new(),
            initial: LayerStats::default(),
            latest: LayerStats::default(),
            diverged_at: None,
        };
        let (_, stats, _) = run.evaluate();
        run.initial = stats.clone();
        run.latest = stats;
        run
    }

    /// Whether the run is over (all steps taken, or diverged).
    pub fn finished(&self) -> bool {
        self.diverged_at.is_some() || self.losses.len() >= self.cfg.steps
    }

    fn forward(&self) -> Forward {
        let mut pre = Vec::with_capacity(self.weights.len());
        let mut post = Vec::with_capacity(self.weights.len());
        let mut a = self.x.clone();
        let last = self.weights.len() - 1;
        for (l, w) in self.weights.iter().enumerate() {
            let h = a.matmul_nt(w).unwrap_or_else(|_| Tensor::zeros(&[EXAMPLES, w.rows()]));
            a = if l < last {
                h.map(|v| self.cfg.phi.apply(v))
            } else {
                h.clone()
            };
            pre.push(h);
            post.push(a.clone());
        }
        let out = a.data().to_vec();
        Forward { pre, post, out }
    }

    /// The loss, the statistics and the weight gradients at the current weights.
    fn evaluate(&self) -> (f64, LayerStats, Vec<Tensor>) {
        let f = self.forward();
        let m = EXAMPLES as f64;
        let resid: Vec<f64> = f.out.iter().zip(&self.y).map(|(o, y)| o - y).collect();
        let loss = 0.5 * resid.iter().map(|r| r * r).sum::<f64>() / m;
        let last = self.weights.len() - 1;
        let mut grads = vec![Tensor::zeros(&[1, 1]); self.weights.len()];
        // δ at the output: ∂L/∂out = (out − y)/m.
        let mut delta = Tensor::from_fn(EXAMPLES, 1, |i, _| resid[i] / m);
        for l in (0..=last).rev() {
            let input = if l == 0 { &self.x } else { &f.post[l - 1] };
            // ∂L/∂W = δᵀ a (out × in).
            grads[l] = delta.matmul_tn(input).unwrap_or_else(|_| Tensor::zeros(&[1, 1]));
            if l > 0 {
                let g = delta.matmul(&self.weights[l]).unwrap_or_else(|_| Tensor::zeros(&[1, 1]));
                delta = g
                    .zip_map(&f.pre[l - 1], |g, h| g * self.cfg.phi.derivative(h))
                    .unwrap_or_else(|_| Tensor::zeros(&[1, 1]));
            }
        }
        let rms = |t: &Tensor| (t.data().iter().map(|v| v * v).sum::<f64>() / t.len() as f64).sqrt();
        let stats = LayerStats {
            act_rms: f.post.iter().map(rms).collect(),
            max_abs: f
                .pre
                .iter()
                .map(|t| t.data().iter().fold(0.0_f64, |m, v| m.max(v.abs())))
                .collect(),
            grad_norm: grads.iter().map(Tensor::frobenius_norm).collect(),
            update_ratio: grads
                .iter()
                .zip(&self.weights)
                .map(|(g, w)| self.cfg.lr * g.frobenius_norm() / w.frobenius_norm().max(1e-300))
                .collect(),
            dead_fraction: f
                .post
                .iter()
                .enumerate()
                .map(|(l, a)| {
                    if l == last {
                        return 0.0;
                    }
                    let cols = a.cols();
                    let dead = (0..cols)
                        .filter(|&j| (0..EXAMPLES).all(|i| a.get2(i, j) == 0.0))
                        .count();
                    dead as f64 / cols as f64
                })
                .collect(),
        };
        (loss, stats, grads)
    }

    /// One gradient-descent step (nothing once finished). The loss recorded is the one before the step.
    pub fn step(&mut self) {
        if self.finished() {
            return;
        }
        let (loss, stats, grads) = self.evaluate();
        self.losses.push(loss);
        self.latest = stats;
        if !loss.is_finite() || loss > DIVERGED_LOSS {
            self.diverged_at = Some(self.losses.len() - 1);
            return;
        }
        let lr = self.cfg.lr;
        for (w, g) in self.weights.iter_mut().zip(&grads) {
            for (wv, gv) in w.data_mut().iter_mut().zip(g.data()) {
                *wv -= lr * gv;
            }
        }
    }

    /// Up to `n` steps; returns whether the run is finished.
    pub fn advance(&mut self, n: usize) -> bool {
        for _ in 0..n {
            self.step();
        }
        self.finished()
    }

    /// Runs to the end.
    pub fn to_end(cfg: RunConfig) -> Run {
        let mut r = Run::new(cfg);
        while !r.finished() {
            r.step();
        }
        r
    }

    /// The weights (for tests that check the gradient against the autograd tape).
    pub fn weights(&self) -> &[Tensor] {
        &self.weights
    }

    /// The weight gradients at the current weights.
    pub fn gradients(&self) -> Vec<Tensor> {
        self.evaluate().2
    }

    /// The inputs and targets.
    pub fn data(&self) -> (&Tensor, &[f64]) {
        (&self.x, &self.y)
    }
}

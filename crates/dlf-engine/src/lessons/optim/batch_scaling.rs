//! Batch size against steps on a noisy quadratic: the critical batch size, the optimal learning rate and
//! the linear scaling rule.
//!
//! # The model
//!
//! The loss is the race's bowl `f(x) = ½ Σᵢ hᵢ xᵢ²` with curvatures `h = (κ, 1)` (so `L = κ`, `μ = 1`), started
//! with `E[xᵢ²] = 1/hᵢ`: each direction holds half of the initial loss `L₀ = 1`. A per-example gradient is
//! `hᵢ xᵢ (1 + s ξᵢ)` with independent `ξᵢ ~ N(0, 1)`: noise proportional to the gradient, as in a model that
//! fits every example. A batch of `B` examples averages `B` such draws, so its gradient is
//! `gᵢ = hᵢ xᵢ (1 + s ξᵢ/√B)`, and McCandlish et al.'s noise scale (2018, "An empirical model of large-batch
//! training", §2.2) is the same at every point:
//!
//! ```text
//! B_noise = tr(HΣ)/(GᵀHG) = Σ hᵢ · s² hᵢ² xᵢ² / Σ hᵢ³ xᵢ² = s²,   and B_simple = tr(Σ)/|G|² = s² too.
//! ```
//!
//! # Exact expected dynamics
//!
//! One SGD step with learning rate `ε` maps `xᵢ ← (1 − ε hᵢ (1 + s ξᵢ/√B)) xᵢ`, so the second moments evolve
//! exactly as `E[xᵢ²] ← fᵢ E[xᵢ²]` with
//!
//! ```text
//! fᵢ(ε, B) = (1 − ε hᵢ)² + ε² hᵢ² B_noise/B,
//! ```
//!
//! and the expected loss after `t` steps is `E[L_t] = ½ Σᵢ hᵢ E[xᵢ²]₀ fᵢᵗ = ½ Σᵢ fᵢᵗ`. The engine evaluates
//! this expectation in closed form (no Monte Carlo, so a step count carries no sampling error), as Zhang et
//! al. (2019, "Which algorithmic choices matter at which batch sizes? Insights from a noisy quadratic
//! model") do for their noisy quadratic model.
//!
//! # What theory predicts
//!
//! Minimising the slower of the two contractions over `ε` balances the ends of the spectrum as for plain
//! gradient descent: `f(μ) = f(L)` at `ε*(B) = ε_max/(1 + B_noise/B)` with `ε_max = 2/(L + μ)`, McCandlish et
//! al.'s optimal step `ε_max/(1 + B_noise/B)` (their eq. 2.7). There both directions contract by
//! `1 − c/(1 + B_noise/B)` with `c = 4Lμ/(L + μ)²`, so for `c ≪ 1` the steps to a target fall as
//! `S(B) = S_min (1 + B_noise/B)` (their eq. 2.11). The measured optimum of a constant learning rate does
//! slightly better than the balance: it lets the sharp direction (fast anyway) settle first, so only the flat
//! direction's half of `L₀` has to reach the target, and `S_min = ln(1/(2δ))/c` for a target `δ L₀`.

use super::{Config, Kind, Optimizer};
use crate::rng::Rng;
use crate::stats::{least_squares, mean};

/// The batch sizes of the experiment: `1, 2, 4, …, 4096`.
pub const BATCH_SIZES: [f64; 13] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
];

/// The noisy quadratic of the module documentation: condition number `kappa` and noise scale `noise_scale`
/// (`B_noise = s²`); the target is an expected loss of `target` times the initial loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoisyQuadratic {
    /// `κ = L/μ`, the sharp curvature (the flat one is 1).
    pub kappa: f64,
    /// `B_noise = s²`, the batch size at which gradient noise and signal are equal.
    pub noise_scale: f64,
    /// The target expected loss as a fraction `δ` of the initial loss.
    pub target: f64,
}

/// The most steps [`NoisyQuadratic::steps_to_target`] looks at.
const MAX_STEPS: u64 = 100_000_000;

impl NoisyQuadratic {
    /// GD's best learning rate on the noiseless problem, `ε_max = 2/(L + μ)`.
    pub fn lr_max(&self) -> f64 {
        2.0 / (self.kappa + 1.0)
    }

    /// The per-step factors `fᵢ(ε, B)` of the expected squared coordinates, sharp direction first.
    pub fn contractions(&self, lr: f64, batch: f64) -> [f64; 2] {
        [self.kappa, 1.0].map(|h| {
            let a = lr * h;
            (1.0 - a) * (1.0 - a) + a * a * self.noise_scale / batch
        })
    }

    /// The expected loss after `t` steps of SGD with learning rate `lr` and batch `batch`, from `L₀ = 1`.
    pub fn expected_loss(&self, lr: f64, batch: f64, t: u64) -> f64 {
        let f = self.contractions(lr, batch);
        0.5 * (crate::math::powf(f[0], t as f64) + crate::math::powf(f[1], t as f64))
    }

    /// The fewest steps after which the expected loss is at most the target, or `None` if it never gets
    /// there (a contraction factor of 1 or more, or more than 10⁸ steps). The expected loss falls
    /// monotonically in `t`, so a bisection finds the first step.
    pub fn steps_to_target(&self, lr: f64, batch: f64) -> Option<u64> {
        let f = self.contractions(lr, batch);
        if lr.is_nan() || lr <= 0.0 || f.iter().any(|x| x.is_nan() || *x >= 1.0) {
            return None;
        }
        if self.expected_loss(lr, batch, MAX_STEPS) > self.target {
            return None;
        }
        let (mut lo, mut hi) = (0u64, MAX_STEPS);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.expected_loss(lr, batch, mid) <= self.target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }

    /// The best constant learning rate for a batch and its step count, found by a search over 600
    /// learning rates spaced geometrically (2 % apart) from `10⁻⁵ ε_max` to `1.05 ε_max` (beyond `2/L`, which
    /// is below `1.01 ε_max` for κ ≥ 100, every rate diverges). Ties keep the smaller rate.
    pub fn best(&self, batch: f64) -> Option<(f64, u64)> {
        const POINTS: usize = 600;
        let (lo, hi) = (crate::math::ln(1e-5f64), crate::math::ln(1.05f64));
        let mut best: Option<(f64, u64)> = None;
        for k in 0..POINTS {
            let lr = self.lr_max() * crate::math::exp(lo + (hi - lo) * k as f64 / (POINTS - 1) as f64);
            if let Some(s) = self.steps_to_target(lr, batch) {
                match best {
                    Some((_, b)) if b <= s => {}
                    _ => best = Some((lr, s)),
                }
            }
        }
        best
    }

    /// McCandlish et al.'s optimal learning rate `ε_max/(1 + B_noise/B)`.
    pub fn lr_theory(&self, batch: f64) -> f64 {
        self.lr_max() / (1.0 + self.noise_scale / batch)
    }

    /// `S_min = ln(1/(2δ))/c` with `c = 4κ/(κ + 1)²` (module documentation).
    pub fn min_steps_theory(&self) -> f64 {
        let c = 4.0 * self.kappa / ((self.kappa + 1.0) * (self.kappa + 1.0));
        crate::math::ln(1.0 / (2.0 * self.target)) / c
    }

    /// The predicted steps `S_min (1 + B_noise/B)`.
    pub fn steps_theory(&self, batch: f64) -> f64 {
        self.min_steps_theory() * (1.0 + self.noise_scale / batch)
    }

    /// Monte Carlo check of the expected dynamics with the engine's SGD: from `xᵢ = 1/√hᵢ` (loss 1), `runs`
    /// independent single steps with batch gradients `hᵢ xᵢ (1 + s ξᵢ/√B)`, and the mean loss after the step.
    /// [`NoisyQuadratic::expected_loss`] at `t = 1` is its expectation, `½(f₀ + f₁)`.
    pub fn one_step_loss_sgd(&self, lr: f64, batch: f64, runs: usize, seed: u64) -> f64 {
        let Ok(mut opt) = Optimizer::new(Config::new(Kind::Sgd, lr), &[2]) else {
            return f64::NAN;
        };
        let h = [self.kappa, 1.0];
        let start = h.map(|hi| 1.0 / hi.sqrt());
        let spread = (self.noise_scale / batch).sqrt();
        let mut rng = Rng::new(seed);
        let mut losses = Vec::with_capacity(runs);
        for _ in 0..runs {
            let mut x = start;
            let g = [0, 1].map(|i| h[i] * x[i] * (1.0 + spread * rng.normal()));
            if opt.step(&mut x, &g, lr).is_err() {
                return f64::NAN;
            }
            losses.push(0.5 * (h[0] * x[0] * x[0] + h[1] * x[1] * x[1]));
        }
        mean(&losses)
    }

    /// Fits `S(B) = S_min + S_min·B_crit/B` by least squares on `(1/B, S)` over [`BATCH_SIZES`] with the best
    /// learning rate at each, and returns `(S_min, B_crit)`; `NaN`s if a batch size never reaches the target.
    pub fn fit(&self) -> (f64, f64) {
        let mut points = Vec::with_capacity(BATCH_SIZES.len());
        for &b in &BATCH_SIZES {
            match self.best(b) {
                Some((_, s)) => points.push((1.0 / b, s as f64)),
                None => return (f64::NAN, f64::NAN),
            }
        }
        let line = least_squares(&points);
        (line.intercept, line.slope / line.intercept)
    }
}

/// One step of the linear scaling rule, to first order: `k` steps of batch `B` at learning rate `ε` and one
/// step of batch `kB` at `kε` from the same point on the 1-D quadratic `½ h x²` with noiseless gradients.
/// Returns the relative difference `|Δ_k − Δ_1|/|Δ_1|` of the two displacements, which is
/// `|1 − ((1 − εh)ᵏ − 1)/(−kεh)|`, about `(k − 1)εh/2` while `kεh ≪ 1` (Goyal et al. 2017, §2.1: the
/// two agree when the gradient barely changes over the `k` steps).
pub fn linear_scaling_gap(h: f64, lr: f64, k: u32) -> f64 {
    // k small steps: x_k = (1 − εh)ᵏ x₀, displacement x₀((1 − εh)ᵏ − 1); one big step: −kεh x₀.
    let small = (1.0 - lr * h).powi(k as i32) - 1.0;
    let big = -(k as f64) * lr * h;
    ((small - big) / big).abs()
}

/// McCandlish et al.'s steps to a target at batch `batch`: `S = S_min (1 + B_noise/B)` (2018, eq. 2.11).
pub fn critical_batch_steps(min_steps: f64, noise_scale: f64, batch: f64) -> f64 {
    min_steps * (1.0 + noise_scale / batch)
}

/// The training examples the same run processes, `E = B·S = E_min (1 + B/B_noise)` with
/// `E_min = S_min B_noise`.
pub fn critical_batch_examples(min_steps: f64, noise_scale: f64, batch: f64) -> f64 {
    batch * critical_batch_steps(min_steps, noise_scale, batch)
}

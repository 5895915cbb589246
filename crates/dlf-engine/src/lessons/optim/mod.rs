//! Optimizers (lesson 02): SGD with heavy-ball and Nesterov momentum, RMSProp, Adam, AdamW, Lion and LAMB,
//! a warm-up + cosine learning-rate schedule, the 2-D test surfaces of the optimizer race, and the small
//! experiments the lesson's claims measure.
//!
//! # The update rules
//!
//! Every optimizer works on one flat parameter vector split into *groups* (layers): LAMB's trust ratio is
//! computed per group; the others treat every coordinate alike. `t` counts steps from 1; `g` is the gradient,
//! `λ` the weight decay, `η` the learning rate of this step.
//!
//! - **SGD with momentum** (Polyak 1964, "Some methods of speeding up the convergence of iteration methods";
//!   PyTorch's `torch.optim.SGD`): `g ← g + λp` (L2), then with [`MomentumStyle::Accumulate`]
//!   `b₁ = g`, `b_t = μ b_{t−1} + (1 − τ) g` (τ = dampening) and with [`MomentumStyle::Ema`]
//!   `b_t = μ b_{t−1} + (1 − μ) g` from `b₀ = 0`. The direction is `b_t`, or with Nesterov momentum
//!   (Nesterov 1983; Sutskever, Martens, Dahl & Hinton 2013, in PyTorch's rewritten form) `g + μ b_t`
//!   (EMA style: `(1 − μ) g + μ b_t`). Then `p ← p − η · direction`.
//! - **RMSProp** (Tieleman & Hinton 2012, Coursera lecture 6.5): `v_t = α v_{t−1} + (1 − α) g²`,
//!   `p ← p − η g / (√v_t + ε)` (PyTorch) or `/ √(v_t + ε)` (TensorFlow's placement); optional momentum
//!   `b_t = μ b_{t−1} + g/(√v_t + ε)`, `p ← p − η b_t`.
//! - **Adam** (Kingma & Ba 2015, "Adam: A method for stochastic optimization", ICLR): `g ← g + λp` (L2,
//!   coupled), `m_t = β₁ m_{t−1} + (1 − β₁) g`, `v_t = β₂ v_{t−1} + (1 − β₂) g²`, `m̂ = m_t / (1 − β₁ᵗ)`,
//!   `v̂ = v_t / (1 − β₂ᵗ)`, `p ← p − η m̂ / (√v̂ + ε)`; see [`EpsPlacement`] for the other two places ε sits.
//! - **AdamW** (Loshchilov & Hutter 2019, "Decoupled weight decay regularization", ICLR): the Adam step on the
//!   raw gradient plus a separate decay `p ← p − η λ p` (PyTorch's `AdamW`, [`DecayScaling::Lr`]) or
//!   `p ← p − s_t λ p` with `s_t = η_t / η₀` the schedule multiplier alone (the paper, [`DecayScaling::Schedule`]).
//! - **Lion** (Chen et al. 2023, "Symbolic discovery of optimization algorithms", NeurIPS):
//!   `c = β₁ m + (1 − β₁) g`, `p ← p − η (sign(c) + λ p)`, then `m ← β₂ m + (1 − β₂) g`.
//! - **LAMB** (You et al. 2020, "Large batch optimization for deep learning: training BERT in 76 minutes",
//!   ICLR): per group, `r = m̂/(√v̂ + ε)`, `u = r + λ p`, trust ratio `φ = ‖p‖/‖u‖` (1 when either norm is 0),
//!   `p ← p − η φ u`.
//!
//! # Example
//!
//! ```
//! use dlf_engine::lessons::optim::{Config, Kind, Optimizer};
//!
//! // Adam on a constant gradient: the bias-corrected step is lr · sign(g), whatever the gradient's scale.
//! let mut opt = Optimizer::new(Config::new(Kind::Adam, 0.01), &[1]).unwrap();
//! let mut p = [0.0];
//! opt.step(&mut p, &[1234.5], 0.01).unwrap();
//! assert!((p[0] + 0.01).abs() < 1e-9);
//! ```

mod batch_scaling;
mod decay_race;
mod estimates;
mod layer_ratios;
mod memory;
mod noise;
mod optimizer;
mod quadratic;
mod quantities;
mod surfaces;
#[cfg(test)]
mod tests;

pub use batch_scaling::*;
pub use decay_race::*;
pub use layer_ratios::*;
pub use memory::*;
pub use noise::*;
pub use optimizer::*;
pub use quadratic::*;
pub use surfaces::*;

/// Lesson 02's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "optim",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

//! Pure numerics for the dlf course: tensors, reverse-mode autograd, a fast MLP trainer, toy datasets,
//! optimizers, normalization layers, estimation-problem generators, and the named quantities that lessons
//! quote and check.
//!
//! The crate does no I/O, spawns no threads, keeps no global state and never reads a clock, so every
//! result is a deterministic function of its arguments and seeds, and the same code runs natively and in
//! `wasm32-unknown-unknown`. On wasm32 it has no dependencies; natively it uses two for speed only (pulp
//! to run the exact matrix kernel with the CPU's widest vectors, matrixmultiply through ndarray for the
//! opt-in fast kernel), neither of which changes a result that a figure or lesson shows (see [`kernel`]).
//!
//! # The pipeline, step by step
//!
//! 1. **Randomness** — [`rng::Rng`] (xoshiro256** seeded by SplitMix64) gives uniform, normal and integer
//!    deviates that are identical on every platform.
//! 2. **Arrays** — [`tensor::Tensor`] is a row-major `f64` array with the matrix products (`A B`, `Aᵀ B`,
//!    `A Bᵀ`) that forward and backward passes need; [`kernel`] decides how products are summed (the
//!    exact, same-bits-everywhere kernel by default).
//! 3. **Nonlinearities** — [`activation`] holds ReLU, tanh, sigmoid and GELU (exact, with an own `erf`, and
//!    the tanh approximation) with their derivatives.
//! 4. **Autograd** — [`autograd::Graph`] records operations on a tape and runs the chain rule backwards, one
//!    `match` arm per [`autograd::Op`], skipping gradients nobody needs and counting FLOPs. Values may
//!    have batch and head axes: batched products, masked softmax, LayerNorm/RMSNorm, embeddings and the
//!    head split/merge make a transformer block ([`autograd::Graph::self_attention`]); [`gradcheck`]
//!    checks any gradient against central differences.
//! 5. **Lesson 01's network** — [`backprop`] spells out every intermediate tensor of a two-layer MLP with the
//!    closed-form gradients, checks them against the tape and against finite differences.
//! 6. **Fast training** — [`mlp::Mlp`] is an allocation-free MLP with a hand-written backward pass for the
//!    interactive trainer, on the 2-D sets of [`datasets`].
//! 7. **Floating point** — [`softmax_stability`] computes softmax cross-entropy naively, with the maximum
//!    subtracted, and fused (log-sum-exp), in `f32` and `f64`, and finds where the first two break.
//! 8. **Optimizers (lesson 02)** — [`optim::Optimizer`] steps SGD (heavy-ball or Nesterov momentum), RMSProp,
//!    Adam, AdamW, Lion and LAMB over parameter groups, with the conventions on which libraries differ as
//!    explicit options, a warm-up + cosine [`optim::Schedule`], and the 2-D surfaces of the optimizer race.
//! 9. **Normalization (lesson 03)** — [`norm`] holds BatchNorm (train and eval, running statistics in
//!    PyTorch's or Keras's convention), LayerNorm and RMSNorm with forward and backward passes, the
//!    deep-residual depth experiment and the BatchNorm train/eval-gap simulation.
//! 10. **Quantities** — [`quantities::evaluate`] computes a named number (`"backprop.param_count"`, ...) from
//!     string arguments; lessons cite these instead of hard-coding results.
//! 11. **Practice** — [`practice::generate`] draws a fresh back-of-envelope problem (question, answer,
//!     tolerance, worked solution) from a seeded generator; lessons offer them with `:::estimate`.
//!
//! # Example
//!
//! ```
//! use dlf_engine::autograd::Graph;
//! use dlf_engine::tensor::Tensor;
//!
//! // L = mean(tanh(x W)²) for a 2×3 input and 3×1 weights; dL/dW by the tape.
//! let mut g = Graph::new();
//! let x = g.constant(Tensor::new(&[2, 3], vec![0.5, -1.0, 2.0, 1.5, 0.25, -0.75]).unwrap());
//! let w = g.param(Tensor::new(&[3, 1], vec![0.1, -0.2, 0.3]).unwrap());
//! let z = g.matmul(x, w).unwrap();
//! let h = g.tanh(z);
//! let s = g.square(h);
//! let loss = g.mean(s);
//! g.backward(loss).unwrap();
//! assert_eq!(g.grad(w).shape(), &[3, 1]);
//! assert!(g.flops().backward > 0);
//!
//! let params = dlf_engine::quantities::evaluate("backprop.param_count", &[("hidden", "128")]).unwrap();
//! assert_eq!(params, (784 * 128 + 128 + 128 * 10 + 10) as f64);
//! ```

#![warn(missing_docs)]

pub mod activation;
pub mod autograd;
mod dense;
pub mod error;
pub mod estimate;
pub mod gradcheck;
pub mod kernel;
pub mod lessons;
pub mod math;
pub mod normal;
pub mod quantities;
pub mod rng;
pub mod stats;
mod table;
pub mod tensor;

pub use error::{QuantityError, ShapeError};

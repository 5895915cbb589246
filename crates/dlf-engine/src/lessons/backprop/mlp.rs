//! A fast multilayer perceptron with hand-written forward and backward passes, for the trainer widget.
//!
//! The network maps `x` through `L` affine layers, `z_l = a_{l-1} W_l + b_l`, with the chosen activation
//! between them (`a_l = f(z_l)`, `a_0 = x`) and a softmax on the last one. It is trained by full-batch
//! gradient descent on the mean softmax cross-entropy, with the backward pass written out as in lesson 01:
//!
//! ```text
//! δ_L = (P - Y) / B                              (softmax + cross-entropy, mean over the batch)
//! dW_l = a_{l-1}ᵀ δ_l,   db_l = Σ_rows δ_l
//! δ_{l-1} = (δ_l W_lᵀ) ⊙ f'(z_{l-1})
//! ```
//!
//! There is no tape: every intermediate lives in buffers owned by the [`Mlp`] that are sized on the first
//! step and reused, so [`Mlp::train_step`] allocates only the small `weight_grad_norms` vector it returns
//! (and [`Mlp::train`] and [`Mlp::train_step_recording`] not even that per step). A test checks the
//! gradients against [`crate::autograd`].
//!
//! Speed, without changing a result bit: the three products of a step (`a W + b`, `aᵀ δ` and `δ Wᵀ`) run
//! through a register-blocked kernel that sums every entry in the order of the plain triple loop, and the
//! forward pass of a training step stores `f'(z)` beside `f(z)` ([`Activation::apply_with_derivative`];
//! for GELU, `Φ` and `φ` share one exponential, which moves its derivative by a few ulp against
//! `y/x + x φ(x)`). Inference ([`Mlp::forward_probs`]) runs in chunks of 64 rows, so a grid of a thousand
//! points stays in cache instead of allocating megabytes.
//!
//! # Initialisation
//! Biases start at zero. Weights are Gaussian with variance chosen per activation ([`Init::for_activation`]):
//! - ReLU and GELU: He et al., "Delving deep into rectifiers", ICCV 2015 — `Var(W) = 2 / fan_in`, which keeps
//!   the second moment of the pre-activations constant through a ReLU, since it zeroes half the signal.
//! - tanh and sigmoid: Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
//!   networks", AISTATS 2010 — `Var(W) = 2 / (fan_in + fan_out)`, the compromise between preserving forward
//!   activations and backward gradients. (The paper draws from a uniform distribution with this variance; the
//!   normal variant used here has the same variance.)

use crate::activation::Activation;
use crate::dense::{matmul_into, Left};
use crate::error::ShapeError;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Architecture and seed of an [`Mlp`].
#[derive(Debug, Clone, PartialEq)]
pub struct MlpConfig {
    /// Input dimension (2 for the toy datasets).
    pub input: usize,
    /// Width of each hidden layer, input side first (empty for softmax regression).
    pub hidden: Vec<usize>,
    /// Number of classes.
    pub output: usize,
    /// The hidden-layer nonlinearity.
    pub activation: Activation,
    /// Seed of the weight initialisation.
    pub seed: u64,
}

/// Weight initialisation scheme (biases always start at zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// `N(0, 2 / fan_in)` (He et al. 2015).
    He,
    /// `N(0, 2 / (fan_in + fan_out))` (Glorot & Bengio 2010).
    Glorot,
    /// `N(0, std²)` regardless of layer size (e.g. `std = 1`, the naive choice that makes deep nets explode
    /// or saturate).
    Normal {
        /// The standard deviation.
        std: f64,
    },
}

impl Init {
    /// He for ReLU and GELU, Glorot for tanh and sigmoid.
    pub fn for_activation(a: Activation) -> Init {
        match a {
            Activation::Relu | Activation::Gelu => Init::He,
            Activation::Tanh | Activation::Sigmoid => Init::Glorot,
        }
    }

    /// The standard deviation for a layer with the given fan-in and fan-out.
    pub fn std(self, fan_in: usize, fan_out: usize) -> f64 {
        match self {
            Init::He => (2.0 / fan_in as f64).sqrt(),
            Init::Glorot => (2.0 / (fan_in + fan_out) as f64).sqrt(),
            Init::Normal { std } => std,
        }
    }
}

/// What one training step measured (on the batch, before the parameter update).
#[derive(Debug, Clone, PartialEq)]
pub struct StepStats {
    /// Mean softmax cross-entropy.
    pub loss: f64,
    /// Fraction of rows whose most probable class is the target.
    pub accuracy: f64,
    /// Frobenius norm of `dW` per layer, input layer first.
    pub weight_grad_norms: Vec<f64>,
}

/// Reused per-batch storage: pre-activations, activations and activation derivatives per layer, two `δ`
/// buffers, and `Wᵀ`.
#[derive(Debug, Clone, Default)]
struct Buffers {
    batch: usize,
    z: Vec<Vec<f64>>,
    a: Vec<Vec<f64>>,
    /// `f'(z_l)` per hidden layer, filled by the forward pass of a training step for the backward pass.
    d: Vec<Vec<f64>>,
    delta: Vec<f64>,
    delta_prev: Vec<f64>,
    /// `W_lᵀ` per layer, refreshed in each backward pass.
    wt: Vec<Vec<f64>>,
}

impl Buffers {
    /// Buffers for `batch` rows; the derivative buffers only when `training` (inference never reads them).
    fn for_batch(sizes: &[usize], batch: usize, training: bool) -> Buffers {
        let widest = sizes.iter().copied().max().unwrap_or(0);
        Buffers {
            batch,
            z: sizes[1..].iter().map(|&n| vec![0.0; batch * n]).collect(),
            a: sizes[1..].iter().map(|&n| vec![0.0; batch * n]).collect(),
            d: if training {
                sizes[1..].iter().map(|&n| vec![0.0; batch * n]).collect()
            } else {
                Vec::new()
            },
            delta: vec![0.0; batch * widest],
            delta_prev: vec![0.0; batch * widest],
            wt: sizes.windows(2).map(|w| vec![0.0; w[0] * w[1]]).collect(),
        }
    }
}

/// A softmax-classifier MLP with preallocated buffers (see the module documentation).
#[derive(Debug, Clone)]
pub struct Mlp {
    sizes: Vec<usize>,
    activation: Activation,
    weights: Vec<Tensor>,
    biases: Vec<Vec<f64>>,
    grad_w: Vec<Tensor>,
    grad_b: Vec<Vec<f64>>,
    buf: Buffers,
}

/// `out[b, :] = bias + Σ_k input[b, k] W[k, :]` for a batch of rows, summed in increasing `k`.
fn affine(input: &[f64], w: &Tensor, bias: &[f64], out: &mut [f64]) {
    let (n_in, n_out) = (w.rows(), w.cols());
    let batch = out.len() / n_out;
    matmul_into(
        Left::Plain,
        input,
        w.data(),
        Some(bias),
        out,
        batch,
        n_in,
        n_out,
    );
}

/// Row-wise softmax of `z` into `p`, returning `Σ_b -log p[b, y_b]` when targets are given (log-sum-exp).
fn softmax_rows_into(z: &[f64], p: &mut [f64], classes: usize, y: Option<&[usize]>) -> f64 {
    let mut nll = 0.0;
    for (b, (zr, pr)) in z
        .chunks_exact(classes)
        .zip(p.chunks_exact_mut(classes))
        .enumerate()
    {
        // The row maximum by comparison rather than `f64::max`, which is a libm call on wasm32 (NaN
        // entries are skipped either way).
        let mut m = f64::NEG_INFINITY;
        for &zv in zr {
            if zv > m {
                m = zv;
            }
        }
        let mut s = 0.0;
        for (pv, &zv) in pr.iter_mut().zip(zr) {
            *pv = crate::math::exp(zv - m);
            s += *pv;
        }
        let inv = 1.0 / s;
        pr.iter_mut().for_each(|v| *v *= inv);
        if let Some(y) = y {
            nll -= zr[y[b]] - m - crate::math::ln(s);
        }
    }
    nll
}

/// The forward pass into `z` and `a` (the last `a` holds the probabilities); returns the summed NLL. With
/// `d`, the hidden layers' activation derivatives `f'(z)` are stored there for a backward pass.
#[allow(clippy::too_many_arguments)]
fn forward_into(
    weights: &[Tensor],
    biases: &[Vec<f64>],
    activation: Activation,
    x: &[f64],
    y: Option<&[usize]>,
    z: &mut [Vec<f64>],
    a: &mut [Vec<f64>],
    mut d: Option<&mut [Vec<f64>]>,
) -> f64 {
    let layers = weights.len();
    for l in 0..layers {
        let (before, rest) = a.split_at_mut(l);
        let input: &[f64] = if l == 0 { x } else { &before[l - 1] };
        affine(input, &weights[l], &biases[l], &mut z[l]);
        if l + 1 < layers {
            match d.as_deref_mut() {
                Some(d) => {
                    for ((av, dv), &zv) in rest[0].iter_mut().zip(d[l].iter_mut()).zip(&z[l]) {
                        (*av, *dv) = activation.apply_with_derivative(zv);
                    }
                }
                None => {
                    for (av, &zv) in rest[0].iter_mut().zip(&z[l]) {
                        *av = activation.apply(zv);
                    }
                }
            }
        }
    }
    let classes = weights[layers - 1].cols();
    softmax_rows_into(&z[layers - 1], &mut a[layers - 1], classes, y)
}

impl Mlp {
    /// A network with the activation's default initialisation ([`Init::for_activation`]).
    pub fn new(cfg: &MlpConfig) -> Mlp {
        Mlp::with_init(cfg, Init::for_activation(cfg.activation))
    }

    /// A network with an explicit initialisation scheme.
    ///
    /// # Panics
    /// If `cfg.input` or `cfg.output` or a hidden width is zero.
    pub fn with_init(cfg: &MlpConfig, init: Init) -> Mlp {
        let mut sizes = vec![cfg.input];
        sizes.extend(&cfg.hidden);
        sizes.push(cfg.output);
        assert!(
            sizes.iter().all(|&s| s > 0),
            "MLP layer sizes must be positive, got {sizes:?}"
        );
        let mut rng = Rng::new(cfg.seed);
        let weights: Vec<Tensor> = sizes
            .windows(2)
            .map(|w| Tensor::randn(&[w[0], w[1]], init.std(w[0], w[1]), &mut rng))
            .collect();
        let biases: Vec<Vec<f64>> = sizes[1..].iter().map(|&n| vec![0.0; n]).collect();
        Mlp {
            grad_w: weights.iter().map(|w| Tensor::zeros(w.shape())).collect(),
            grad_b: biases.clone(),
            sizes,
            activation: cfg.activation,
            weights,
            biases,
            buf: Buffers::default(),
        }
    }

    /// Layer sizes `[input, hidden..., output]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The hidden nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Number of affine layers (hidden layers + 1).
    pub fn layers(&self) -> usize {
        self.weights.len()
    }

    /// Weight matrix of layer `l` (`fan_in × fan_out`, input layer is `l = 0`).
    pub fn weight(&self, l: usize) -> &Tensor {
        &self.weights[l]
    }

    /// Bias of layer `l`.
    pub fn bias(&self, l: usize) -> &[f64] {
        &self.biases[l]
    }

    /// `∂L/∂W_l` from the last [`Mlp::compute_gradients`] or [`Mlp::train_step`].
    pub fn weight_grad(&self, l: usize) -> &Tensor {
        &self.grad_w[l]
    }

    /// `∂L/∂b_l` from the last [`Mlp::compute_gradients`] or [`Mlp::train_step`].
    pub fn bias_grad(&self, l: usize) -> &[f64] {
        &self.grad_b[l]
    }

    /// Total number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    fn check(&self, x: &Tensor, y: Option<&[usize]>) -> Result<(), ShapeError> {
        if x.cols() != self.sizes[0] {
            return Err(ShapeError::Invalid {
                op: "mlp",
                message: format!(
                    "input has {} columns, the network expects {}",
                    x.cols(),
                    self.sizes[0]
                ),
            });
        }
        if let Some(y) = y {
            let classes = self.sizes[self.sizes.len() - 1];
            if y.len() != x.rows() {
                return Err(ShapeError::Invalid {
                    op: "mlp",
                    message: format!("{} labels for {} rows", y.len(), x.rows()),
                });
            }
            if let Some(&c) = y.iter().find(|&&c| c >= classes) {
                return Err(ShapeError::Invalid {
                    op: "mlp",
                    message: format!("label {c} out of range for {classes} classes"),
                });
            }
        }
        Ok(())
    }

    /// The `B × C` softmax probabilities for the rows of `x`.
    ///
    /// # Panics
    /// If `x` does not have `input` columns.
    pub fn forward_probs(&self, x: &Tensor) -> Tensor {
        if let Err(e) = self.check(x, None) {
            panic!("Mlp::forward_probs: {e}");
        }
        // Rows are independent, so they go through the network in chunks of `INFERENCE_CHUNK`: the
        // buffers stay small enough for the L1/L2 caches, and a large input (a decision-region grid of
        // a thousand points) does not allocate megabytes of fresh, page-faulting memory per call.
        const INFERENCE_CHUNK: usize = 64;
        let (n_in, classes) = (self.sizes[0], self.sizes[self.sizes.len() - 1]);
        let rows = x.rows();
        let mut probs = vec![0.0; rows * classes];
        let mut buf = Buffers::for_batch(&self.sizes, INFERENCE_CHUNK.min(rows), false);
        for (x_chunk, p_chunk) in x
            .data()
            .chunks(INFERENCE_CHUNK * n_in)
            .zip(probs.chunks_mut(INFERENCE_CHUNK * classes))
        {
            let batch = x_chunk.len() / n_in;
            if batch != buf.batch {
                buf = Buffers::for_batch(&self.sizes, batch, false);
            }
            forward_into(
                &self.weights,
                &self.biases,
                self.activation,
                x_chunk,
                None,
                &mut buf.z,
                &mut buf.a,
                None,
            );
            p_chunk.copy_from_slice(&buf.a[buf.a.len() - 1]);
        }
        Tensor::new(&[rows, classes], probs).expect("sized by the network")
    }

    /// Class probabilities for points in the plane (one `Vec` of length `output` per point).
    ///
    /// # Panics
    /// If the network's input dimension is not 2.
    pub fn probabilities(&self, x: &[[f64; 2]]) -> Vec<Vec<f64>> {
        let t = Tensor::from_fn(x.len(), 2, |r, c| x[r][c]);
        let p = self.forward_probs(&t);
        (0..x.len()).map(|r| p.row_slice(r).to_vec()).collect()
    }

    /// Mean cross-entropy and accuracy on `(x, y)` without touching the gradients.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if the shapes or labels do not fit the network.
    pub fn loss_and_accuracy(&self, x: &Tensor, y: &[usize]) -> Result<(f64, f64), ShapeError> {
        self.check(x, Some(y))?;
        let mut buf = Buffers::for_batch(&self.sizes, x.rows(), false);
        let nll = forward_into(
            &self.weights,
            &self.biases,
            self.activation,
            x.data(),
            Some(y),
            &mut buf.z,
            &mut buf.a,
            None,
        );
        let probs = buf.a.last().expect("at least one layer");
        Ok((
            nll / x.rows() as f64,
            accuracy(probs, y, self.sizes[self.sizes.len() - 1]),
        ))
    }

    /// Forward and backward on the full batch, storing `∂L/∂W_l` and `∂L/∂b_l` (no update). Returns the
    /// loss, the accuracy and the gradient norms.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if the shapes or labels do not fit the network.
    pub fn compute_gradients(&mut self, x: &Tensor, y: &[usize]) -> Result<StepStats, ShapeError> {
        let (loss, acc) = self.gradients_in_place(x, y)?;
        Ok(self.stats(loss, acc))
    }

    /// The statistics of the gradients now stored: loss, accuracy and each layer's `‖∂L/∂W_l‖_F`.
    fn stats(&self, loss: f64, accuracy: f64) -> StepStats {
        StepStats {
            loss,
            accuracy,
            weight_grad_norms: self
                .grad_w
                .iter()
                .map(|g| frobenius_norm(g.data()))
                .collect(),
        }
    }

    /// The allocation-free core of a step: forward, loss, accuracy, and the backward into `grad_w/grad_b`.
    // On wasm32, LLVM may vectorise these element-wise loops only where 128-bit SIMD is enabled (see `dense`).
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    fn gradients_in_place(&mut self, x: &Tensor, y: &[usize]) -> Result<(f64, f64), ShapeError> {
        self.check(x, Some(y))?;
        let batch = x.rows();
        if self.buf.batch != batch || self.buf.z.is_empty() {
            self.buf = Buffers::for_batch(&self.sizes, batch, true);
        }
        let Mlp {
            sizes,
            activation,
            weights,
            biases,
            grad_w,
            grad_b,
            buf,
        } = self;
        let layers = weights.len();
        let classes = sizes[layers];
        let nll = forward_into(
            weights,
            biases,
            *activation,
            x.data(),
            Some(y),
            &mut buf.z,
            &mut buf.a,
            Some(&mut buf.d),
        );
        let probs = &buf.a[layers - 1];
        let acc = accuracy(probs, y, classes);

        // δ_L = (P - Y) / B.
        let inv_b = 1.0 / batch as f64;
        let delta = &mut buf.delta[..batch * classes];
        for (d, &p) in delta.iter_mut().zip(probs.iter()) {
            *d = p * inv_b;
        }
        for (b, &t) in y.iter().enumerate() {
            delta[b * classes + t] -= inv_b;
        }

        for l in (0..layers).rev() {
            let (n_in, n_out) = (sizes[l], sizes[l + 1]);
            let input: &[f64] = if l == 0 { x.data() } else { &buf.a[l - 1] };
            let delta = &buf.delta[..batch * n_out];
            // dW_l = a_{l-1}ᵀ δ_l, each entry summed over the batch in row order.
            matmul_into(
                Left::Transposed,
                input,
                delta,
                None,
                grad_w[l].data_mut(),
                n_in,
                batch,
                n_out,
            );
            // db_l = column sums of δ_l.
            let gb = &mut grad_b[l];
            gb.fill(0.0);
            for d_row in delta.chunks_exact(n_out) {
                for (g, &d) in gb.iter_mut().zip(d_row) {
                    *g += d;
                }
            }
            if l > 0 {
                // δ_{l-1} = (δ_l W_lᵀ) ⊙ f'(z_{l-1}); the input layer needs no δ (the data has no gradient).
                // The product reads `W_lᵀ` row by row, so the transpose is refreshed first (W changed in
                // the last update); f'(z_{l-1}) was stored by the forward pass.
                let w = weights[l].data();
                let wt = &mut buf.wt[l][..n_out * n_in];
                for (k, w_row) in w.chunks_exact(n_out).enumerate() {
                    for (j, &wv) in w_row.iter().enumerate() {
                        wt[j * n_in + k] = wv;
                    }
                }
                let prev = &mut buf.delta_prev[..batch * n_in];
                matmul_into(Left::Plain, delta, wt, None, prev, batch, n_out, n_in);
                for (p, &dv) in prev.iter_mut().zip(&buf.d[l - 1]) {
                    *p *= dv;
                }
                std::mem::swap(&mut buf.delta, &mut buf.delta_prev);
            }
        }
        Ok((nll * inv_b, acc))
    }

    /// Moves every parameter against its stored gradient: `θ ← θ - lr · ∂L/∂θ`.
    // On wasm32, LLVM may vectorise these element-wise loops only where 128-bit SIMD is enabled (see `dense`).
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    fn sgd_update(&mut self, lr: f64) {
        for (w, g) in self.weights.iter_mut().zip(&self.grad_w) {
            for (wv, gv) in w.data_mut().iter_mut().zip(g.data()) {
                *wv -= lr * gv;
            }
        }
        for (b, g) in self.biases.iter_mut().zip(&self.grad_b) {
            for (bv, gv) in b.iter_mut().zip(g) {
                *bv -= lr * gv;
            }
        }
    }

    /// One full-batch gradient-descent step on the mean softmax cross-entropy. The returned statistics
    /// describe the batch before the update.
    ///
    /// # Panics
    /// If `x` does not have `input` columns, `y` has not one label per row, or a label is `≥ output`
    /// (use [`Mlp::try_train_step`] to get the error instead).
    pub fn train_step(&mut self, x: &Tensor, y: &[usize], lr: f64) -> StepStats {
        self.try_train_step(x, y, lr)
            .unwrap_or_else(|e| panic!("Mlp::train_step: {e}"))
    }

    /// [`Mlp::train_step`] returning shape errors instead of panicking.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if the shapes or labels do not fit the network.
    pub fn try_train_step(
        &mut self,
        x: &Tensor,
        y: &[usize],
        lr: f64,
    ) -> Result<StepStats, ShapeError> {
        let stats = self.compute_gradients(x, y)?;
        self.sgd_update(lr);
        Ok(stats)
    }

    /// [`Mlp::try_train_step`] without allocating: returns the batch's `(loss, accuracy)` before the update
    /// and appends the Frobenius norm of `dW` per layer (input layer first) to `norms`, so a caller that
    /// records every step can keep all the norms in one growing vector.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if the shapes or labels do not fit the network.
    pub fn train_step_recording(
        &mut self,
        x: &Tensor,
        y: &[usize],
        lr: f64,
        norms: &mut Vec<f64>,
    ) -> Result<(f64, f64), ShapeError> {
        let stats = self.gradients_in_place(x, y)?;
        norms.extend(self.grad_w.iter().map(|g| frobenius_norm(g.data())));
        self.sgd_update(lr);
        Ok(stats)
    }

    /// `steps` full-batch steps; returns the statistics of the last one. Allocates nothing per step after
    /// the first, so it is the call to use in an animation frame.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if the shapes or labels do not fit the network.
    pub fn train(
        &mut self,
        x: &Tensor,
        y: &[usize],
        lr: f64,
        steps: usize,
    ) -> Result<StepStats, ShapeError> {
        let mut last = (f64::NAN, f64::NAN);
        for _ in 0..steps {
            last = self.gradients_in_place(x, y)?;
            self.sgd_update(lr);
        }
        Ok(self.stats(last.0, last.1))
    }
}

/// `√(Σ v²)` with four interleaved partial sums, which the compiler can keep in flight (and vectorise)
/// where one running sum would wait for every addition in turn; this is called for every layer on every
/// training step. The partial sums make it no less accurate than the sequential sum (each adds a quarter
/// of the terms).
// On wasm32, LLVM may vectorise these element-wise loops only where 128-bit SIMD is enabled (see `dense`).
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn frobenius_norm(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (s, &x) in acc.iter_mut().zip(c) {
            *s += x * x;
        }
    }
    let tail: f64 = rest.iter().map(|x| x * x).sum();
    ((acc[0] + acc[1]) + (acc[2] + acc[3]) + tail).sqrt()
}

/// Fraction of rows of `probs` whose argmax equals the label.
fn accuracy(probs: &[f64], y: &[usize], classes: usize) -> f64 {
    let correct = probs
        .chunks_exact(classes)
        .zip(y)
        .filter(|(row, &t)| {
            let mut best = 0;
            for (j, &p) in row.iter().enumerate() {
                if p > row[best] {
                    best = j;
                }
            }
            best == t
        })
        .count();
    correct as f64 / y.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::{GeluForm, Graph};
    use crate::lessons::backprop::datasets::{make_dataset, DatasetKind};

    /// The same network on the autograd tape; returns the loss and `(dW, db)` per layer.
    fn autograd_gradients(m: &Mlp, x: &Tensor, y: &[usize]) -> (f64, Vec<(Tensor, Tensor)>) {
        let mut g = Graph::new();
        let mut h = g.constant(x.clone());
        let mut params = Vec::new();
        for l in 0..m.layers() {
            let w = g.param(m.weight(l).clone());
            let b = g.param(Tensor::row(m.bias(l)));
            params.push((w, b));
            let z = g.matmul(h, w).unwrap();
            let z = g.add(z, b).unwrap();
            h = if l + 1 == m.layers() {
                z
            } else {
                match m.activation() {
                    Activation::Relu => g.relu(z),
                    Activation::Tanh => g.tanh(z),
                    Activation::Sigmoid => g.sigmoid(z),
                    Activation::Gelu => g.gelu(z, GeluForm::Erf),
                }
            };
        }
        let loss = g.cross_entropy(h, y).unwrap();
        g.backward(loss).unwrap();
        let grads = params
            .iter()
            .map(|&(w, b)| (g.grad(w).clone(), g.grad(b).clone()))
            .collect();
        (g.value(loss).data()[0], grads)
    }

    fn rel(a: &[f64], b: &[f64]) -> f64 {
        let d: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt();
        let n: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt()
            + b.iter().map(|x| x * x).sum::<f64>().sqrt();
        d / n.max(1e-300)
    }

    #[test]
    fn gradients_match_autograd_for_every_activation() {
        // The explicit backward and the tape compute the same sums in a different order, so they agree to
        // rounding (≈ 1e-15 relative); 1e-9 is the bound the lesson promises.
        let mut rng = Rng::new(4);
        let x = Tensor::randn(&[7, 3], 1.0, &mut rng);
        let y: Vec<usize> = (0..7).map(|_| rng.below(4)).collect();
        for activation in Activation::ALL {
            let cfg = MlpConfig {
                input: 3,
                hidden: vec![5, 6],
                output: 4,
                activation,
                seed: 8,
            };
            let mut m = Mlp::new(&cfg);
            // Non-zero biases so their gradients flow through a non-trivial path.
            for l in 0..m.layers() {
                for (j, b) in m.biases[l].iter_mut().enumerate() {
                    *b = 0.1 * (j as f64) - 0.2;
                }
            }
            let stats = m.compute_gradients(&x, &y).unwrap();
            let (loss, grads) = autograd_gradients(&m, &x, &y);
            assert!((stats.loss - loss).abs() < 1e-12, "{}", activation.name());
            for (l, (gw, gb)) in grads.iter().enumerate() {
                assert!(
                    rel(m.weight_grad(l).data(), gw.data()) < 1e-9,
                    "{} dW{l}",
                    activation.name()
                );
                assert!(
                    rel(m.bias_grad(l), gb.data()) < 1e-9,
                    "{} db{l}",
                    activation.name()
                );
                assert!((stats.weight_grad_norms[l] - gw.frobenius_norm()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn chunked_inference_equals_row_by_row() {
        // 150 rows cross two chunk boundaries (64 + 64 + 22); every row's probabilities must be the bits
        // that the same row gets on its own, since rows never interact.
        let mut rng = Rng::new(9);
        let x = Tensor::randn(&[150, 2], 1.5, &mut rng);
        let m = Mlp::new(&MlpConfig {
            input: 2,
            hidden: vec![7, 5],
            output: 3,
            activation: Activation::Gelu,
            seed: 2,
        });
        let all = m.forward_probs(&x);
        for r in 0..150 {
            let one = m.forward_probs(&Tensor::from_fn(1, 2, |_, c| x.get2(r, c)));
            let same = all
                .row_slice(r)
                .iter()
                .zip(one.data())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "row {r}");
        }
        assert_eq!(m.forward_probs(&Tensor::zeros(&[0, 2])).shape(), &[0, 3]);
    }

    #[test]
    fn recording_step_equals_the_allocating_step() {
        // Two copies of one network take the same steps through the two entry points; they run the same
        // arithmetic, so losses, norms and weights agree bit for bit.
        let d = make_dataset(DatasetKind::Spirals, 24, 0.1, 3);
        let x = d.x_tensor();
        let cfg = MlpConfig {
            input: 2,
            hidden: vec![6, 5],
            output: d.classes,
            activation: Activation::Gelu,
            seed: 5,
        };
        let (mut a, mut b) = (Mlp::new(&cfg), Mlp::new(&cfg));
        let mut norms = Vec::new();
        for step in 0..3 {
            let stats = a.try_train_step(&x, &d.y, 0.3).unwrap();
            let (loss, acc) = b.train_step_recording(&x, &d.y, 0.3, &mut norms).unwrap();
            assert_eq!(loss.to_bits(), stats.loss.to_bits());
            assert_eq!(acc.to_bits(), stats.accuracy.to_bits());
            let recorded = &norms[step * 3..(step + 1) * 3];
            assert!(recorded
                .iter()
                .zip(&stats.weight_grad_norms)
                .all(|(p, q)| p.to_bits() == q.to_bits()));
        }
        for l in 0..a.layers() {
            let (wa, wb) = (a.weight(l).data(), b.weight(l).data());
            assert!(
                wa.iter().zip(wb).all(|(p, q)| p.to_bits() == q.to_bits()),
                "W{l}"
            );
        }
        assert!(b
            .train_step_recording(&Tensor::zeros(&[2, 3]), &[0, 1], 0.1, &mut norms)
            .is_err());
    }

    #[test]
    fn learns_moons() {
        // One hidden layer of 16 ReLUs separates two noisy moons; 300 full-batch steps at lr 0.5 reach well
        // above 95% training accuracy (the quantity `backprop.mlp_train_accuracy` reports the exact value).
        let d = make_dataset(DatasetKind::Moons, 200, 0.1, 1);
        let x = d.x_tensor();
        let cfg = MlpConfig {
            input: 2,
            hidden: vec![16],
            output: 2,
            activation: Activation::Relu,
            seed: 1,
        };
        let mut m = Mlp::new(&cfg);
        let first = m.train_step(&x, &d.y, 0.5);
        let last = m.train(&x, &d.y, 0.5, 299).unwrap();
        let (loss, acc) = m.loss_and_accuracy(&x, &d.y).unwrap();
        assert!(acc > 0.95, "accuracy {acc}");
        assert!(loss < first.loss / 3.0, "loss {} -> {loss}", first.loss);
        assert!(last.loss >= loss - 1e-3);
        let p = m.probabilities(&d.x[..3]);
        assert!(p
            .iter()
            .all(|row| (row.iter().sum::<f64>() - 1.0).abs() < 1e-12));
    }

    #[test]
    fn init_scales_follow_the_papers() {
        // He: sd = sqrt(2/fan_in) = sqrt(2/400) ≈ 0.0707; Glorot: sqrt(2/(400+400)) = 0.05. The sample sd over
        // 160 000 weights has relative standard error 1/sqrt(2·160000) ≈ 0.18%; allow 1%.
        for (a, expected) in [
            (Activation::Relu, (2.0f64 / 400.0).sqrt()),
            (Activation::Tanh, 0.05),
        ] {
            let m = Mlp::new(&MlpConfig {
                input: 400,
                hidden: vec![400],
                output: 2,
                activation: a,
                seed: 2,
            });
            let w = m.weight(0);
            let sd = (w.data().iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
            assert!((sd / expected - 1.0).abs() < 0.01, "{} sd {sd}", a.name());
        }
        assert_eq!(
            Mlp::new(&MlpConfig {
                input: 2,
                hidden: vec![3],
                output: 2,
                activation: Activation::Relu,
                seed: 0
            })
            .parameter_count(),
            2 * 3 + 3 + 3 * 2 + 2
        );
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut m = Mlp::new(&MlpConfig {
            input: 2,
            hidden: vec![],
            output: 3,
            activation: Activation::Tanh,
            seed: 0,
        });
        let x = Tensor::zeros(&[4, 3]);
        assert!(matches!(
            m.try_train_step(&x, &[0, 1, 2, 0], 0.1),
            Err(ShapeError::Invalid { op: "mlp", .. })
        ));
        let x = Tensor::zeros(&[4, 2]);
        assert!(m.try_train_step(&x, &[0, 1, 3, 0], 0.1).is_err());
        assert!(m.try_train_step(&x, &[0, 1], 0.1).is_err());
        assert!(m.try_train_step(&x, &[0, 1, 2, 0], 0.1).is_ok());
    }
}

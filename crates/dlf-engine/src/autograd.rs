//! Reverse-mode automatic differentiation on a tape.
//!
//! A [`Graph`] records every operation as a node holding its value and its [`Op`] (which nodes it came from).
//! Nodes are appended in the order they are computed, so the tape order is already a topological order:
//! every node comes after its inputs. [`Graph::backward`] therefore walks the tape once in reverse, and each
//! node sends its gradient to its inputs by the chain rule — one `match` arm per operation (the design of
//! huggingface/candle's `backprop.rs`). The method is the reverse accumulation of Linnainmaa (1970), as
//! popularised for neural networks by Rumelhart, Hinton & Williams, "Learning representations by
//! back-propagating errors", Nature 1986.
//!
//! # Shapes
//! Every value has rank 2 or more: a 1-D input becomes a `1 × n` row, scalars (losses) are `1 × 1`, and
//! higher ranks are kept as given. Tensors stay plain row-major N-d arrays rather than a separate "batch
//! of matrices" type, because attention needs two leading axes (`[B, H, T, Dh]`) and moves between
//! layouts (`[B, T, H·Dh] ↔ [B, H, T, Dh]`) that a fixed batched-2-D type would have to special-case; the
//! operations say which axes they use:
//! - [`Graph::matmul`] multiplies the last two axes and treats the leading ones as a batch, broadcasting
//!   a plain matrix over it (`[B, T, d] × [d, e]`, the `X W` of a layer applied to every token);
//! - the elementwise binary operations broadcast by numpy's rule (a `1 × D` bias over `[B, T, D]`);
//! - softmax, log-softmax, cross-entropy, the masked softmax and the norms work on the last axis, every
//!   other axis being rows;
//! - [`Graph::transpose`], [`Graph::reshape`], [`Graph::split_heads`] and [`Graph::merge_heads`] move
//!   elements.
//!
//! # Matrix-product kernel
//! Products use the exact, fixed-order kernel unless the graph was made with
//! [`Graph::with_kernel`]`(`[`Kernel::Fast`]`)`, which is for native benchmarks and experiments whose
//! results no figure or lesson number depends on (see [`crate::kernel`]).
//!
//! # Which nodes get gradients
//! [`Graph::param`] creates a leaf that requires a gradient, [`Graph::constant`] one that does not; an
//! operation requires a gradient when any input does. The backward pass computes a gradient for an input
//! only if that input requires one — so with a constant input `X`, the product `X W` never computes
//! `dX = G Wᵀ`. That is what makes the FLOP count honest: the first layer of a network does not pay for
//! the gradient of the data.
//!
//! # FLOP counting ([`Graph::flops`])
//! A multiply-add counts as 2 FLOPs. Per operation, with `n` the number of output elements and an `r × c`
//! input for the row-wise ops:
//!
//! | op | forward | backward, per input that requires a gradient |
//! | --- | --- | --- |
//! | `matmul` `(m×k)(k×n)`, per batch entry | `2mkn` | `2mkn` for `dA = G Bᵀ`, `2mkn` for `dB = Aᵀ G`, plus the size of the operand per extra batch entry when a shared left operand's gradient is summed over the batch |
//! | `add`, `sub`, `mul` | `n` | `0` (add), `n` (negate for `sub`'s right side, product for `mul`), plus `n` to sum a broadcast input's gradient back to its shape |
//! | `scale` | `n` | `n` |
//! | `relu`, `tanh`, `sigmoid`, `gelu`, `exp`, `log`, `square` | `n` (one per element, whatever the function costs) | `2n` (local derivative, then the product with the upstream gradient) |
//! | `softmax` | `5rc` (max, subtract, exp, sum, divide) | `4rc` (`y ⊙ (g - Σ g⊙y)`) |
//! | `log_softmax` | `5rc + r` (as softmax, with a log per row and a subtract in place of the divide) | `4rc` |
//! | `cross_entropy` | `5rc + 2r + 1` (log-softmax, pick and sum, divide by the batch) | `2rc` (`(P - Y)·g/B`) |
//! | `mse` | `3n + 1` (subtract, square, sum, divide) | `2n` once for `2(a - b)/n`, plus `n` to negate it for the target |
//! | `sum`, `mean` | `n`, `n + 1` | `0`, `1` (filling a tensor is a copy, not a FLOP) |
//! | `masked_softmax` | `5` per kept entry | `4` per kept entry |
//! | `layer_norm`, `rms_norm` (`r` rows of `D`) | `7rD`, `4rD` | `x`: `8rD`, `6rD` (`7rD` with ε outside); `γ`: `2rD`; `β`: `rD` |
//! | `embedding` (`N` ids, `D` wide) | `0` (a copy) | `ND` (scatter-add) |
//! | `transpose`, `reshape`, `split_heads`, `merge_heads` | `0` | `0` (copies) |
//!
//! Adding a second gradient contribution into a node that already has one costs `n` more. Copies, index
//! arithmetic and comparisons for the max are memory traffic rather than arithmetic; the max is still
//! counted (as `c` per row) because it is a pass over the data comparable to the sum.

use crate::activation::{gelu_erf, gelu_erf_derivative, gelu_tanh, gelu_tanh_derivative, sigmoid};
use crate::error::ShapeError;
pub use crate::kernel::Kernel;
use crate::lessons::norm::NormForward;
use crate::tensor::{mismatch, Tensor};

mod batched;
mod broadcast;
mod ops_attention;
mod ops_norm;
mod ops_shape;

pub use ops_attention::{AttentionMask, AttentionWeights};

use batched::Batched;
use broadcast::{broadcast_shape, broadcast_zip, reduce_to};
use ops_attention::{embedding_backward, softmax_backward, softmax_last_axis};
use ops_shape::{permute_heads, transpose_last};

/// A handle to a node of a [`Graph`] (its index on the tape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Var(usize);

impl Var {
    /// The node's position on the tape.
    pub fn index(self) -> usize {
        self.0
    }
}

/// Which formula a GELU node uses (see [`crate::activation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeluForm {
    /// `x Φ(x)` with the exact error function (PyTorch's default).
    Erf,
    /// `x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))`.
    Tanh,
}

/// The operation that produced a node: the closed set of differentiable operations the engine knows.
#[derive(Debug, Clone)]
pub enum Op {
    /// A leaf that requires a gradient (a weight, or an input whose gradient we want).
    Param,
    /// A leaf that does not (data, targets, fixed masks).
    Constant,
    /// Matrix product `A B` over the last two axes, batched over the leading ones.
    MatMul(Var, Var),
    /// `A + B` with broadcasting.
    Add(Var, Var),
    /// `A - B` with broadcasting.
    Sub(Var, Var),
    /// `A ⊙ B` (elementwise) with broadcasting.
    Mul(Var, Var),
    /// `s · A` for a fixed scalar `s`.
    Scale(Var, f64),
    /// `max(0, A)`.
    Relu(Var),
    /// `tanh A`.
    Tanh(Var),
    /// `σ(A)`.
    Sigmoid(Var),
    /// GELU in the given form.
    Gelu(Var, GeluForm),
    /// Softmax of each row.
    Softmax(Var),
    /// Log-softmax of each row.
    LogSoftmax(Var),
    /// Mean over rows of `-log softmax(logits)[row, target]`; `probs` caches the softmax for the backward.
    CrossEntropy {
        /// The `B × C` logits.
        logits: Var,
        /// One class index per row.
        targets: Vec<usize>,
        /// `softmax(logits)`, kept from the forward pass.
        probs: Tensor,
    },
    /// Mean over all elements of `(A - B)²`.
    Mse(Var, Var),
    /// Sum of all elements.
    Sum(Var),
    /// Mean of all elements.
    Mean(Var),
    /// `A ⊙ A`.
    Square(Var),
    /// `e^A`.
    Exp(Var),
    /// `ln A`.
    Log(Var),
    /// `A` with its last two axes swapped.
    Transpose(Var),
    /// The elements of `A` in another shape.
    Reshape(Var),
    /// `[B, T, H·Dh] → [B, H, T, Dh]` for the given number of heads.
    SplitHeads(Var, usize),
    /// `[B, H, T, Dh] → [B, T, H·Dh]`.
    MergeHeads(Var),
    /// Softmax over the last axis with the positions a mask hides at exactly 0.
    MaskedSoftmax {
        /// The scores.
        input: Var,
        /// Which positions were visible.
        mask: AttentionMask,
        /// How many entries were kept (for the FLOP count).
        kept: usize,
    },
    /// LayerNorm or RMSNorm over the last axis.
    Norm {
        /// The input.
        x: Var,
        /// The gain `γ`.
        gamma: Var,
        /// The shift `β` (LayerNorm only).
        beta: Option<Var>,
        /// The forward pass on the `[rows, D]` view, with the statistics the backward pass reuses.
        fwd: Box<NormForward>,
    },
    /// Rows of a table gathered by index.
    Embedding {
        /// The `V × D` table.
        table: Var,
        /// One row index per output row.
        ids: Vec<usize>,
    },
}

/// Floating-point operations counted by the tape (see the module documentation for what is counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlopCount {
    /// FLOPs of all operations recorded so far.
    pub forward: u64,
    /// FLOPs of the most recent [`Graph::backward`].
    pub backward: u64,
}

impl FlopCount {
    /// `backward / forward` (NaN if nothing was recorded).
    pub fn ratio(&self) -> f64 {
        self.backward as f64 / self.forward as f64
    }
}

#[derive(Debug, Clone)]
struct Node {
    op: Op,
    value: Tensor,
    requires_grad: bool,
}

/// A tape of nodes; build the forward computation with its methods, then call [`Graph::backward`].
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: Vec<Node>,
    grads: Vec<Option<Tensor>>,
    flops: FlopCount,
    kernel: Kernel,
}

/// A tape value: a tensor of rank 0 or 1 becomes its `1 × n` matrix view, higher ranks stay as they are.
fn as_matrix(t: Tensor) -> Tensor {
    if t.shape().len() >= 2 {
        return t;
    }
    let (r, c) = (t.rows(), t.cols());
    t.reshape(&[r, c]).expect("same number of elements")
}

/// Length of the last axis (the "columns" of the row-wise operations).
fn last_axis(t: &Tensor) -> usize {
    t.shape().last().copied().unwrap_or(1).max(1)
}

/// Row-wise log-softmax `x - m - ln Σ e^{x - m}` with `m` the row maximum (the log-sum-exp trick).
fn log_softmax_rows(x: &Tensor) -> Tensor {
    let c = last_axis(x);
    let mut out = x.clone();
    for row in out.data_mut().chunks_exact_mut(c) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + crate::math::ln(row.iter().map(|v| crate::math::exp(v - m)).sum::<f64>());
        for v in row.iter_mut() {
            *v -= lse;
        }
    }
    out
}

impl Graph {
    /// An empty tape.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// An empty tape whose matrix products use `kernel` ([`Kernel::Exact`] is what [`Graph::new`] uses;
    /// [`Kernel::Fast`] must not feed anything a lesson or figure shows, see [`crate::kernel`]).
    pub fn with_kernel(kernel: Kernel) -> Graph {
        Graph {
            kernel,
            ..Graph::default()
        }
    }

    /// The matrix-product kernel of this tape.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn push(&mut self, op: Op, value: Tensor, requires_grad: bool, flops: u64) -> Var {
        self.nodes.push(Node {
            op,
            value,
            requires_grad,
        });
        self.grads.push(None);
        self.flops.forward += flops;
        Var(self.nodes.len() - 1)
    }

    fn rg(&self, v: Var) -> bool {
        self.nodes[v.0].requires_grad
    }

    /// A leaf whose gradient [`Graph::backward`] computes.
    pub fn param(&mut self, value: Tensor) -> Var {
        self.push(Op::Param, as_matrix(value), true, 0)
    }

    /// A leaf that needs no gradient; no gradient is ever computed for it.
    pub fn constant(&mut self, value: Tensor) -> Var {
        self.push(Op::Constant, as_matrix(value), false, 0)
    }

    /// The value computed for `v`.
    pub fn value(&self, v: Var) -> &Tensor {
        &self.nodes[v.0].value
    }

    /// The operation that produced `v`.
    pub fn op(&self, v: Var) -> &Op {
        &self.nodes[v.0].op
    }

    /// Whether `v` requires a gradient.
    pub fn requires_grad(&self, v: Var) -> bool {
        self.rg(v)
    }

    /// Number of nodes on the tape.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tape is empty.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// FLOPs recorded so far (forward) and by the last backward pass.
    pub fn flops(&self) -> FlopCount {
        self.flops
    }

    /// `∂loss/∂v` from the last [`Graph::backward`], or `None` if `v` does not require a gradient or
    /// backward has not run. Every [`Graph::param`] has one after backward (zeros if the loss does not
    /// depend on it).
    pub fn try_grad(&self, v: Var) -> Option<&Tensor> {
        self.grads.get(v.0).and_then(Option::as_ref)
    }

    /// `∂loss/∂v` from the last [`Graph::backward`].
    ///
    /// # Panics
    /// If `v` has no gradient: backward has not run, `v` is a constant (or computed only from constants),
    /// or `v` comes after the loss on the tape. Use [`Graph::try_grad`] to ask without panicking.
    pub fn grad(&self, v: Var) -> &Tensor {
        self.try_grad(v).unwrap_or_else(|| {
            panic!(
                "node {} has no gradient: call backward first, and only on nodes that require a gradient",
                v.0
            )
        })
    }

    /// Matrix product `a · b` over the last two axes: `[.., m, k] × [.., k, n] → [.., m, n]`, where the
    /// leading (batch) axes of `a` and `b` are equal, or one operand is a plain matrix shared by every
    /// batch entry (`[B, T, d] × [d, e]`).
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the inner dimensions or the batch axes differ.
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var, ShapeError> {
        let (va, vb) = (self.value(a), self.value(b));
        let plan = Batched::of(va, vb)?;
        let data = plan.forward(self.kernel, va.data(), vb.data());
        let value = Tensor::new(&plan.out_shape, data).expect("sized by the plan");
        let rg = self.rg(a) || self.rg(b);
        Ok(self.push(Op::MatMul(a, b), value, rg, 2 * plan.multiply_adds()))
    }

    fn binary(
        &mut self,
        op: Op,
        a: Var,
        b: Var,
        name: &'static str,
        f: impl Fn(f64, f64) -> f64,
    ) -> Result<Var, ShapeError> {
        let shape = broadcast_shape(name, self.value(a), self.value(b))?;
        let value = broadcast_zip(self.value(a), self.value(b), &shape, f);
        let n = value.len() as u64;
        let rg = self.rg(a) || self.rg(b);
        Ok(self.push(op, value, rg, n))
    }

    /// `a + b`, broadcasting either operand along an axis of size 1 or a missing leading axis (numpy's
    /// rule; e.g. a `1 × H` bias over `B × H` or over `[B, T, H]`).
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the shapes do not broadcast.
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var, ShapeError> {
        self.binary(Op::Add(a, b), a, b, "add", |x, y| x + y)
    }

    /// `a - b` with broadcasting as in [`Graph::add`].
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the shapes do not broadcast.
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var, ShapeError> {
        self.binary(Op::Sub(a, b), a, b, "sub", |x, y| x - y)
    }

    /// Elementwise `a ⊙ b` with broadcasting as in [`Graph::add`].
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the shapes do not broadcast.
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var, ShapeError> {
        self.binary(Op::Mul(a, b), a, b, "mul", |x, y| x * y)
    }

    fn unary(&mut self, op: Op, a: Var, f: impl Fn(f64) -> f64) -> Var {
        let value = self.value(a).map(f);
        let n = value.len() as u64;
        let rg = self.rg(a);
        self.push(op, value, rg, n)
    }

    /// `s · a`.
    pub fn scale(&mut self, a: Var, s: f64) -> Var {
        self.unary(Op::Scale(a, s), a, |x| s * x)
    }

    /// `max(0, a)`.
    pub fn relu(&mut self, a: Var) -> Var {
        self.unary(Op::Relu(a), a, |x| x.max(0.0))
    }

    /// `tanh a`.
    pub fn tanh(&mut self, a: Var) -> Var {
        self.unary(Op::Tanh(a), a, crate::math::tanh)
    }

    /// The logistic sigmoid of `a`, computed stably for large `|a|`.
    pub fn sigmoid(&mut self, a: Var) -> Var {
        self.unary(Op::Sigmoid(a), a, sigmoid)
    }

    /// GELU of `a` in the given form.
    pub fn gelu(&mut self, a: Var, form: GeluForm) -> Var {
        match form {
            GeluForm::Erf => self.unary(Op::Gelu(a, form), a, gelu_erf),
            GeluForm::Tanh => self.unary(Op::Gelu(a, form), a, gelu_tanh),
        }
    }

    /// `a ⊙ a`.
    pub fn square(&mut self, a: Var) -> Var {
        self.unary(Op::Square(a), a, |x| x * x)
    }

    /// `e^a`.
    pub fn exp(&mut self, a: Var) -> Var {
        self.unary(Op::Exp(a), a, crate::math::exp)
    }

    /// `ln a` (NaN for negative entries, `-∞` at zero, as in IEEE arithmetic).
    pub fn log(&mut self, a: Var) -> Var {
        self.unary(Op::Log(a), a, crate::math::ln)
    }

    /// Softmax of each row (over the last axis), `e^{x_j - m} / Σ_k e^{x_k - m}` with `m` the row maximum.
    pub fn softmax(&mut self, a: Var) -> Var {
        let v = self.value(a);
        let (value, _) = softmax_last_axis(v, |_| usize::MAX);
        let flops = 5 * v.len() as u64;
        let rg = self.rg(a);
        self.push(Op::Softmax(a), value, rg, flops)
    }

    /// Log-softmax of each row (over the last axis), `x_j - m - ln Σ_k e^{x_k - m}`.
    pub fn log_softmax(&mut self, a: Var) -> Var {
        let v = self.value(a);
        let value = log_softmax_rows(v);
        let flops = (5 * v.len() + v.len() / last_axis(v)) as u64;
        let rg = self.rg(a);
        self.push(Op::LogSoftmax(a), value, rg, flops)
    }

    /// Cross-entropy of `B × C` logits (or `[.., C]`, every other axis being rows) against class targets,
    /// averaged over rows:
    /// `L = -(1/B) Σ_b log softmax(z_b)[y_b]` (PyTorch's `cross_entropy`, `reduction="mean"`).
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if there is not one target per row or a target is `≥ C`.
    pub fn cross_entropy(&mut self, logits: Var, targets: &[usize]) -> Result<Var, ShapeError> {
        let z = self.value(logits);
        let c = last_axis(z);
        let b = z.len() / c;
        if targets.len() != b {
            return Err(ShapeError::Invalid {
                op: "cross_entropy",
                message: format!("{} targets for {b} rows of logits", targets.len()),
            });
        }
        if let Some(&t) = targets.iter().find(|&&t| t >= c) {
            return Err(ShapeError::Invalid {
                op: "cross_entropy",
                message: format!("target class {t} out of range for {c} classes"),
            });
        }
        let logp = log_softmax_rows(z);
        let loss = -targets
            .iter()
            .enumerate()
            .map(|(i, &t)| logp.data()[i * c + t])
            .sum::<f64>()
            / b as f64;
        let probs = logp.map(crate::math::exp);
        let flops = (5 * b * c + 2 * b + 1) as u64;
        let rg = self.rg(logits);
        let op = Op::CrossEntropy {
            logits,
            targets: targets.to_vec(),
            probs,
        };
        Ok(self.push(op, Tensor::scalar(loss), rg, flops))
    }

    /// Mean squared error over all elements, `(1/n) Σ (a - b)²` (PyTorch's `MSELoss`, `reduction="mean"`).
    ///
    /// # Errors
    /// [`ShapeError::Mismatch`] if the shapes differ (no broadcasting, to catch transposed targets).
    pub fn mse(&mut self, a: Var, b: Var) -> Result<Var, ShapeError> {
        let (va, vb) = (self.value(a), self.value(b));
        if va.shape() != vb.shape() {
            return Err(mismatch("mse", va, vb));
        }
        let n = va.len();
        let loss = va
            .data()
            .iter()
            .zip(vb.data())
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            / n as f64;
        let rg = self.rg(a) || self.rg(b);
        Ok(self.push(Op::Mse(a, b), Tensor::scalar(loss), rg, (3 * n + 1) as u64))
    }

    /// Sum of all elements, as a `1 × 1` tensor.
    pub fn sum(&mut self, a: Var) -> Var {
        let v = self.value(a);
        let (s, n) = (v.sum(), v.len() as u64);
        let rg = self.rg(a);
        self.push(Op::Sum(a), Tensor::scalar(s), rg, n)
    }

    /// Mean of all elements, as a `1 × 1` tensor.
    pub fn mean(&mut self, a: Var) -> Var {
        let v = self.value(a);
        let (s, n) = (v.sum() / v.len() as f64, v.len() as u64);
        let rg = self.rg(a);
        self.push(Op::Mean(a), Tensor::scalar(s), rg, n + 1)
    }

    /// Adds `g` into the gradient of `v` (counting the addition if `v` already had one).
    fn accumulate(&mut self, v: Var, g: Tensor, flops: &mut u64) {
        match &mut self.grads[v.0] {
            Some(existing) => {
                *flops += g.len() as u64;
                for (e, x) in existing.data_mut().iter_mut().zip(g.data()) {
                    *e += x;
                }
            }
            slot @ None => *slot = Some(g),
        }
    }

    /// Computes `∂loss/∂v` for every node `v` that requires a gradient and on which `loss` depends.
    ///
    /// Previous gradients and the previous backward FLOP count are discarded first, so calling it twice
    /// gives the same result.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `loss` is not `1 × 1`.
    pub fn backward(&mut self, loss: Var) -> Result<(), ShapeError> {
        if self.value(loss).len() != 1 {
            return Err(ShapeError::Invalid {
                op: "backward",
                message: format!(
                    "the loss must be a 1 × 1 scalar, got shape {:?}",
                    self.value(loss).shape()
                ),
            });
        }
        self.grads.iter_mut().for_each(|g| *g = None);
        let mut flops = 0u64;
        if self.rg(loss) {
            self.grads[loss.0] = Some(Tensor::scalar(1.0));
        }
        for i in (0..=loss.0).rev() {
            if !self.nodes[i].requires_grad {
                continue;
            }
            let Some(g) = self.grads[i].take() else {
                continue;
            };
            let contributions = self.node_backward(i, &g, &mut flops);
            self.grads[i] = Some(g);
            for (v, gv) in contributions {
                self.accumulate(v, gv, &mut flops);
            }
        }
        // A parameter the loss does not depend on has gradient zero; store it so `grad` never surprises.
        for i in 0..self.nodes.len() {
            if matches!(self.nodes[i].op, Op::Param) && self.grads[i].is_none() {
                self.grads[i] = Some(Tensor::zeros(self.nodes[i].value.shape()));
            }
        }
        self.flops.backward = flops;
        Ok(())
    }

    /// The chain rule for node `i` with upstream gradient `g`: the gradient contribution for each input
    /// that requires one.
    fn node_backward(&self, i: usize, g: &Tensor, flops: &mut u64) -> Vec<(Var, Tensor)> {
        let node = &self.nodes[i];
        let y = &node.value;
        let n = y.len() as u64;
        let mut out = Vec::with_capacity(2);
        // The gradient of a unary elementwise op: g ⊙ f'(input), costing 2 FLOPs per element.
        let elementwise =
            |a: Var, out: &mut Vec<(Var, Tensor)>, flops: &mut u64, d: &dyn Fn(f64, f64) -> f64| {
                let x = &self.nodes[a.0].value;
                let data = x
                    .data()
                    .iter()
                    .zip(y.data())
                    .zip(g.data())
                    .map(|((&xi, &yi), &gi)| gi * d(xi, yi))
                    .collect();
                *flops += 2 * n;
                out.push((
                    a,
                    Tensor::new(x.shape(), data).expect("same shape as input"),
                ));
            };
        match &node.op {
            Op::Param | Op::Constant => {}
            Op::MatMul(a, b) => {
                let (va, vb) = (&self.nodes[a.0].value, &self.nodes[b.0].value);
                let plan = Batched::of(va, vb).expect("shapes checked in forward");
                let mkn = 2 * plan.multiply_adds();
                // C = A B  =>  dA = G Bᵀ and dB = Aᵀ G, per batch entry (summed where shared).
                for (this, value) in [(*a, va), (*b, vb)] {
                    if !self.rg(this) {
                        continue;
                    }
                    let (grad, sum_flops) = if this == *a {
                        plan.grad_a(self.kernel, g.data(), vb.data())
                    } else {
                        plan.grad_b(self.kernel, va.data(), g.data())
                    };
                    *flops += mkn + sum_flops;
                    out.push((
                        this,
                        Tensor::new(value.shape(), grad).expect("operand's shape"),
                    ));
                }
            }
            Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) => {
                let (va, vb) = (&self.nodes[a.0].value, &self.nodes[b.0].value);
                for (side, other_value, this) in [(0, vb, *a), (1, va, *b)] {
                    if !self.rg(this) {
                        continue;
                    }
                    let full = match (&node.op, side) {
                        // d(a + b) = da + db: the upstream gradient passes through unchanged.
                        (Op::Add(..), _) | (Op::Sub(..), 0) => g.clone(),
                        // d(a - b)/db = -1.
                        (Op::Sub(..), _) => {
                            *flops += n;
                            g.map(|x| -x)
                        }
                        // d(a ⊙ b)/da = b (broadcast to the output shape), and symmetrically.
                        _ => {
                            *flops += n;
                            broadcast_zip(g, other_value, g.shape(), |gi, o| gi * o)
                        }
                    };
                    let target = &self.nodes[this.0].value;
                    let (reduced, f) = reduce_to(full, target.shape());
                    *flops += f;
                    out.push((this, reduced));
                }
            }
            Op::Scale(a, s) => {
                *flops += n;
                out.push((*a, g.map(|x| s * x)));
            }
            // d relu(x)/dx = 1 if x > 0 else 0.
            Op::Relu(a) => {
                elementwise(*a, &mut out, flops, &|x, _| if x > 0.0 { 1.0 } else { 0.0 })
            }
            // d tanh(x)/dx = 1 - tanh²(x).
            Op::Tanh(a) => elementwise(*a, &mut out, flops, &|_, t| 1.0 - t * t),
            // d σ(x)/dx = σ(x)(1 - σ(x)).
            Op::Sigmoid(a) => elementwise(*a, &mut out, flops, &|_, s| s * (1.0 - s)),
            Op::Gelu(a, GeluForm::Erf) => {
                elementwise(*a, &mut out, flops, &|x, _| gelu_erf_derivative(x))
            }
            Op::Gelu(a, GeluForm::Tanh) => {
                elementwise(*a, &mut out, flops, &|x, _| gelu_tanh_derivative(x))
            }
            // d x²/dx = 2x.
            Op::Square(a) => elementwise(*a, &mut out, flops, &|x, _| 2.0 * x),
            // d eˣ/dx = eˣ, which is the stored output.
            Op::Exp(a) => elementwise(*a, &mut out, flops, &|_, e| e),
            // d ln x/dx = 1/x.
            Op::Log(a) => elementwise(*a, &mut out, flops, &|x, _| 1.0 / x),
            Op::Softmax(a) => {
                // y = softmax(x) per row  =>  dx = y ⊙ (g - Σ_j g_j y_j).
                *flops += 4 * n;
                out.push((*a, softmax_backward(y, g)));
            }
            Op::MaskedSoftmax { input, kept, .. } => {
                // The same formula; masked entries have y = 0 and so get 0.
                *flops += 4 * *kept as u64;
                out.push((*input, softmax_backward(y, g)));
            }
            Op::LogSoftmax(a) => {
                // y = log softmax(x) per row  =>  dx = g - softmax(x) Σ_j g_j, with softmax(x) = e^y.
                let c = last_axis(y);
                let mut dx = g.clone();
                for ((d, gr), yr) in dx
                    .data_mut()
                    .chunks_exact_mut(c)
                    .zip(g.data().chunks_exact(c))
                    .zip(y.data().chunks_exact(c))
                {
                    let total: f64 = gr.iter().sum();
                    for (dv, &yv) in d.iter_mut().zip(yr) {
                        *dv -= crate::math::exp(yv) * total;
                    }
                }
                *flops += 4 * n;
                out.push((*a, dx));
            }
            Op::CrossEntropy {
                logits,
                targets,
                probs,
            } => {
                // L = -(1/B) Σ_b log p_b[y_b]  =>  dL/dz = (P - Y)/B with Y the one-hot targets.
                let b = targets.len();
                let c = last_axis(probs);
                let scale = g.data()[0] / b as f64;
                let mut dz = probs.clone();
                for (r, &t) in targets.iter().enumerate() {
                    let idx = r * c + t;
                    dz.data_mut()[idx] -= 1.0;
                }
                dz.data_mut().iter_mut().for_each(|d| *d *= scale);
                *flops += 2 * probs.len() as u64;
                out.push((*logits, dz));
            }
            Op::Mse(a, b) => {
                // L = (1/n) Σ (a - b)²  =>  dL/da = 2(a - b)/n and dL/db = -2(a - b)/n.
                let (va, vb) = (&self.nodes[a.0].value, &self.nodes[b.0].value);
                let k = 2.0 * g.data()[0] / va.len() as f64;
                let da = va
                    .zip_map(vb, |x, t| k * (x - t))
                    .expect("shapes checked in forward");
                let m = va.len() as u64;
                *flops += 2 * m;
                if self.rg(*b) {
                    *flops += m;
                    out.push((*b, da.map(|x| -x)));
                }
                if self.rg(*a) {
                    out.push((*a, da));
                }
            }
            Op::Sum(a) => {
                // d(Σ x)/dx_i = 1.
                let shape = self.nodes[a.0].value.shape();
                out.push((*a, Tensor::full(shape, g.data()[0])));
            }
            Op::Mean(a) => {
                // d(Σ x / n)/dx_i = 1/n.
                let shape = self.nodes[a.0].value.shape();
                let m = self.nodes[a.0].value.len() as f64;
                *flops += 1;
                out.push((*a, Tensor::full(shape, g.data()[0] / m)));
            }
            // Movements: the gradient moves back the inverse way.
            Op::Transpose(a) => out.push((*a, transpose_last(g))),
            Op::Reshape(a) => {
                let shape = self.nodes[a.0].value.shape();
                out.push((
                    *a,
                    g.clone().reshape(shape).expect("same number of elements"),
                ));
            }
            Op::SplitHeads(a, _) | Op::MergeHeads(a) => {
                let input_shape = self.nodes[a.0].value.shape();
                // Both are described by the `[B, H, T, Dh]` side's sizes.
                let (b, h, t, dh) = match &node.op {
                    Op::SplitHeads(..) => (y.shape()[0], y.shape()[1], y.shape()[2], y.shape()[3]),
                    _ => (
                        input_shape[0],
                        input_shape[1],
                        input_shape[2],
                        input_shape[3],
                    ),
                };
                // Splitting moved tokens-major data to heads-major; its adjoint moves it back.
                let split_back = matches!(node.op, Op::MergeHeads(..));
                let data = permute_heads(g.data(), (b, t, h, dh), split_back);
                out.push((*a, Tensor::new(input_shape, data).expect("input's shape")));
            }
            Op::Norm {
                x,
                gamma,
                beta,
                fwd,
            } => out = self.norm_backward((*x, *gamma, *beta), fwd, g, flops),
            Op::Embedding { table, ids } => {
                let shape = self.nodes[table.0].value.shape();
                *flops += (ids.len() * last_axis(y)) as u64;
                out.push((*table, embedding_backward(shape, ids, g)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;

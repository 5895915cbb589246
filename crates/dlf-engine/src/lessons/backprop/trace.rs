//! Lesson 01's two-layer network with every intermediate tensor of the forward and backward pass.
//!
//! # Conventions
//! Rows are examples: `X` is `B × D` (batch × input features), weights map rows on the right.
//!
//! ```text
//! Z1 = X W1 + b1          (B × H; b1 broadcast over rows)
//! H1 = act(Z1)            (B × H)
//! Z2 = H1 W2 + b2         (B × C)
//! softmax cross-entropy:  P = softmax(Z2) per row,  L = -(1/B) Σ_b log P[b, y_b]
//! mean squared error:     L = (1/(B·C)) Σ_{b,c} (Z2[b,c] - Y[b,c])²   (PyTorch MSELoss, reduction="mean")
//! ```
//!
//! The backward pass, by the chain rule (Rumelhart, Hinton & Williams, Nature 1986):
//!
//! ```text
//! dZ2 = (P - Y) / B              for softmax cross-entropy (Y one-hot)
//! dZ2 = 2 (Z2 - Y) / (B·C)       for mean squared error
//! dW2 = H1ᵀ dZ2,   db2 = Σ_rows dZ2
//! dH1 = dZ2 W2ᵀ
//! dZ1 = dH1 ⊙ act'(Z1)
//! dW1 = Xᵀ dZ1,    db1 = Σ_rows dZ1
//! dX  = dZ1 W1ᵀ
//! ```
//!
//! Every `dT` is `∂L/∂T` and has the shape of `T`. GELU is the exact form `x Φ(x)` (see
//! [`crate::activation`]), in both [`forward_backward`] and [`forward_backward_autograd`].

use crate::activation::Activation;
use crate::autograd::{GeluForm, Graph, Var};
use crate::error::ShapeError;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The training objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Softmax followed by cross-entropy with class targets, mean over the batch.
    SoftmaxCrossEntropy,
    /// Mean over all `B·C` elements of `(Z2 - Y)²`.
    MeanSquaredError,
}

/// Targets matching the [`Loss`].
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class index per row (for [`Loss::SoftmaxCrossEntropy`]).
    Classes(Vec<usize>),
    /// A `B × C` matrix of real targets (for [`Loss::MeanSquaredError`]).
    Values(Tensor),
}

/// A two-layer network with its data: everything needed to run one forward and backward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerProblem {
    /// Inputs, `B × D`.
    pub x: Tensor,
    /// First-layer weights, `D × H`.
    pub w1: Tensor,
    /// First-layer bias, length `H`.
    pub b1: Vec<f64>,
    /// Second-layer weights, `H × C`.
    pub w2: Tensor,
    /// Second-layer bias, length `C`.
    pub b2: Vec<f64>,
    /// The hidden nonlinearity.
    pub activation: Activation,
    /// The objective.
    pub loss: Loss,
    /// Targets of the objective.
    pub targets: Targets,
}

/// Every intermediate tensor of one forward and backward pass (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct TwoLayerTrace {
    /// `X W1 + b1`.
    pub z1: Tensor,
    /// `act(Z1)`.
    pub h1: Tensor,
    /// `H1 W2 + b2`.
    pub z2: Tensor,
    /// Softmax probabilities `P` for cross-entropy, or the predictions `Z2` for MSE.
    pub out: Tensor,
    /// The loss value.
    pub loss: f64,
    /// `∂L/∂Z2`.
    pub dz2: Tensor,
    /// `∂L/∂W2`.
    pub dw2: Tensor,
    /// `∂L/∂b2`.
    pub db2: Vec<f64>,
    /// `∂L/∂H1`.
    pub dh1: Tensor,
    /// `∂L/∂Z1`.
    pub dz1: Tensor,
    /// `∂L/∂W1`.
    pub dw1: Tensor,
    /// `∂L/∂b1`.
    pub db1: Vec<f64>,
    /// `∂L/∂X`.
    pub dx: Tensor,
}

fn invalid(message: String) -> ShapeError {
    ShapeError::Invalid {
        op: "TwoLayerProblem",
        message,
    }
}

impl TwoLayerProblem {
    /// Batch size `B`.
    pub fn batch(&self) -> usize {
        self.x.rows()
    }

    /// Checks that all shapes agree and that the targets fit the loss.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] naming the first inconsistent field.
    pub fn validate(&self) -> Result<(), ShapeError> {
        let (b, d) = (self.x.rows(), self.x.cols());
        let (h, c) = (self.w1.cols(), self.w2.cols());
        if self.w1.rows() != d {
            return Err(invalid(format!(
                "W1 has {} rows but X has {d} columns",
                self.w1.rows()
            )));
        }
        if self.b1.len() != h {
            return Err(invalid(format!(
                "b1 has length {} but W1 has {h} columns",
                self.b1.len()
            )));
        }
        if self.w2.rows() != h {
            return Err(invalid(format!(
                "W2 has {} rows but W1 has {h} columns",
                self.w2.rows()
            )));
        }
        if self.b2.len() != c {
            return Err(invalid(format!(
                "b2 has length {} but W2 has {c} columns",
                self.b2.len()
            )));
        }
        match (&self.loss, &self.targets) {
            (Loss::SoftmaxCrossEntropy, Targets::Classes(y)) => {
                if y.len() != b {
                    return Err(invalid(format!(
                        "{} class targets for a batch of {b}",
                        y.len()
                    )));
                }
                if let Some(&t) = y.iter().find(|&&t| t >= c) {
                    return Err(invalid(format!(
                        "class target {t} out of range for {c} classes"
                    )));
                }
            }
            (Loss::MeanSquaredError, Targets::Values(t)) => {
                if t.rows() != b || t.cols() != c {
                    return Err(invalid(format!(
                        "value targets are {} × {} but the output is {b} × {c}",
                        t.rows(),
                        t.cols()
                    )));
                }
            }
            (Loss::SoftmaxCrossEntropy, Targets::Values(_)) => {
                return Err(invalid("softmax cross-entropy needs class targets".into()));
            }
            (Loss::MeanSquaredError, Targets::Classes(_)) => {
                return Err(invalid("mean squared error needs value targets".into()));
            }
        }
        Ok(())
    }

    /// A random problem: `X ~ N(0, 1)`, `W1 ~ N(0, 1/D)`, `W2 ~ N(0, 1/H)` (LeCun-style fan-in scaling, so
    /// pre-activations are of order 1), biases `~ N(0, 0.1²)`, class targets uniform in `0..C` or value
    /// targets `~ N(0, 1)`, all from one seeded stream.
    pub fn random(
        batch: usize,
        d_in: usize,
        hidden: usize,
        classes: usize,
        activation: Activation,
        loss: Loss,
        seed: u64,
    ) -> Self {
        let mut rng = Rng::new(seed);
        let x = Tensor::randn(&[batch, d_in], 1.0, &mut rng);
        let w1 = Tensor::randn(&[d_in, hidden], 1.0 / (d_in.max(1) as f64).sqrt(), &mut rng);
        let b1 = (0..hidden).map(|_| 0.1 * rng.normal()).collect();
        let w2 = Tensor::randn(
            &[hidden, classes],
            1.0 / (hidden.max(1) as f64).sqrt(),
            &mut rng,
        );
        let b2 = (0..classes).map(|_| 0.1 * rng.normal()).collect();
        let targets = match loss {
            Loss::SoftmaxCrossEntropy => {
                Targets::Classes((0..batch).map(|_| rng.below(classes.max(1))).collect())
            }
            Loss::MeanSquaredError => {
                Targets::Values(Tensor::randn(&[batch, classes], 1.0, &mut rng))
            }
        };
        TwoLayerProblem {
            x,
            w1,
            b1,
            w2,
            b2,
            activation,
            loss,
            targets,
        }
    }
}

/// Adds the row vector `b` to every row of `z` in place.
fn add_row(z: &mut Tensor, b: &[f64]) {
    let c = z.cols();
    for row in z.data_mut().chunks_exact_mut(c) {
        for (v, bv) in row.iter_mut().zip(b) {
            *v += bv;
        }
    }
}

/// The forward pass: `(Z1, H1, Z2, out, loss)`.
fn forward(p: &TwoLayerProblem) -> Result<(Tensor, Tensor, Tensor, Tensor, f64), ShapeError> {
    p.validate()?;
    let mut z1 = p.x.matmul(&p.w1)?;
    add_row(&mut z1, &p.b1);
    let h1 = z1.map(|v| p.activation.apply(v));
    let mut z2 = h1.matmul(&p.w2)?;
    add_row(&mut z2, &p.b2);
    let (out, loss) = match &p.targets {
        Targets::Classes(y) => {
            let c = z2.cols();
            let mut probs = z2.clone();
            let mut nll = 0.0;
            for (b, row) in probs.data_mut().chunks_exact_mut(c).enumerate() {
                // log P[b, y] = z_y - m - ln Σ e^{z - m}, with m the row maximum (log-sum-exp).
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let zy = row[y[b]];
                let mut s = 0.0;
                for v in row.iter_mut() {
                    *v = crate::math::exp(*v - m);
                    s += *v;
                }
                row.iter_mut().for_each(|v| *v /= s);
                nll -= zy - m - crate::math::ln(s);
            }
            (probs, nll / y.len() as f64)
        }
        Targets::Values(t) => {
            let n = z2.len() as f64;
            let loss = z2
                .data()
                .iter()
                .zip(t.data())
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                / n;
            (z2.clone(), loss)
        }
    };
    Ok((z1, h1, z2, out, loss))
}

/// The loss alone (one forward pass).
///
/// # Errors
/// [`ShapeError`] if the problem does not [validate](TwoLayerProblem::validate).
pub fn loss(p: &TwoLayerProblem) -> Result<f64, ShapeError> {
    forward(p).map(|f| f.4)
}

/// Forward and backward pass with the closed-form gradients of the module documentation.
///
/// # Errors
/// [`ShapeError`] if the problem does not [validate](TwoLayerProblem::validate).
pub fn forward_backward(p: &TwoLayerProblem) -> Result<TwoLayerTrace, ShapeError> {
    let (z1, h1, z2, out, loss) = forward(p)?;
    let dz2 = match &p.targets {
        Targets::Classes(y) => {
            // dZ2 = (P - Y) / B.
            let b = y.len() as f64;
            let mut d = out.map(|v| v / b);
            for (r, &t) in y.iter().enumerate() {
                let v = d.get2(r, t);
                d.set2(r, t, v - 1.0 / b);
            }
            d
        }
        // dZ2 = 2 (Z2 - Y) / (B·C).
        Targets::Values(t) => {
            let n = z2.len() as f64;
            z2.zip_map(t, |a, b| 2.0 * (a - b) / n)?
        }
    };
    let dw2 = h1.matmul_tn(&dz2)?;
    let db2 = dz2.col_sums();
    let dh1 = dz2.matmul_nt(&p.w2)?;
    let act = p.activation;
    let dz1 = Tensor::from_fn(z1.rows(), z1.cols(), |r, c| {
        dh1.get2(r, c) * act.derivative_from_output(z1.get2(r, c), h1.get2(r, c))
    });
    let dw1 = p.x.matmul_tn(&dz1)?;
    let db1 = dz1.col_sums();
    let dx = dz1.matmul_nt(&p.w1)?;
    Ok(TwoLayerTrace {
        z1,
        h1,
        z2,
        out,
        loss,
        dz2,
        dw2,
        db2,
        dh1,
        dz1,
        dw1,
        db1,
        dx,
    })
}

/// The handles of the problem's graph nodes.
struct Nodes {
    x: Var,
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
    z1: Var,
    h1: Var,
    z2: Var,
    out: Var,
    loss: Var,
}

/// Records the problem on a tape. `x_requires_grad` decides whether `X` is a parameter (so `dX` is
/// computed) or a constant; `trace_softmax` whether to record `P = softmax(Z2)` for the trace (cross-entropy
/// computes its own softmax, so this node exists only for display and costs extra forward FLOPs).
fn build_graph(
    p: &TwoLayerProblem,
    x_requires_grad: bool,
    trace_softmax: bool,
) -> Result<(Graph, Nodes), ShapeError> {
    p.validate()?;
    let mut g = Graph::new();
    let x = if x_requires_grad {
        g.param(p.x.clone())
    } else {
        g.constant(p.x.clone())
    };
    let w1 = g.param(p.w1.clone());
    let b1 = g.param(Tensor::row(&p.b1));
    let w2 = g.param(p.w2.clone());
    let b2 = g.param(Tensor::row(&p.b2));
    let xw = g.matmul(x, w1)?;
    let z1 = g.add(xw, b1)?;
    let h1 = match p.activation {
        Activation::Relu => g.relu(z1),
        Activation::Tanh => g.tanh(z1),
        Activation::Sigmoid => g.sigmoid(z1),
        Activation::Gelu => g.gelu(z1, GeluForm::Erf),
    };
    let hw = g.matmul(h1, w2)?;
    let z2 = g.add(hw, b2)?;
    let (out, loss) = match &p.targets {
        Targets::Classes(y) => {
            let loss = g.cross_entropy(z2, y)?;
            (None, loss)
        }
        Targets::Values(t) => {
            let t = g.constant(t.clone());
            (Some(z2), g.mse(z2, t)?)
        }
    };
    // The softmax for the trace is recorded after the loss, so the backward pass (which starts at the loss)
    // never visits it.
    let out = match out {
        Some(o) => o,
        None if trace_softmax => g.softmax(z2),
        None => z2,
    };
    Ok((
        g,
        Nodes {
            x,
            w1,
            b1,
            w2,
            b2,
            z1,
            h1,
            z2,
            out,
            loss,
        },
    ))
}

/// The same trace computed by the autograd tape (with `X` a parameter so that `dX` exists).
///
/// # Errors
/// [`ShapeError`] if the problem does not [validate](TwoLayerProblem::validate).
pub fn forward_backward_autograd(p: &TwoLayerProblem) -> Result<TwoLayerTrace, ShapeError> {
    let (mut g, n) = build_graph(p, true, true)?;
    g.backward(n.loss)?;
    Ok(TwoLayerTrace {
        z1: g.value(n.z1).clone(),
        h1: g.value(n.h1).clone(),
        z2: g.value(n.z2).clone(),
        out: g.value(n.out).clone(),
        loss: g.value(n.loss).data()[0],
        dz2: g.grad(n.z2).clone(),
        dw2: g.grad(n.w2).clone(),
        db2: g.grad(n.b2).data().to_vec(),
        dh1: g.grad(n.h1).clone(),
        dz1: g.grad(n.z1).clone(),
        dw1: g.grad(n.w1).clone(),
        db1: g.grad(n.b1).data().to_vec(),
        dx: g.grad(n.x).clone(),
    })
}

/// The autograd tape of the problem after its backward pass, for FLOP accounting
/// ([`Graph::flops`]); `x_requires_grad` chooses whether the backward computes `dX`. Only the operations
/// the loss needs are recorded (no separate softmax for display).
///
/// # Errors
/// [`ShapeError`] if the problem does not [validate](TwoLayerProblem::validate).
pub fn autograd_tape(p: &TwoLayerProblem, x_requires_grad: bool) -> Result<Graph, ShapeError> {
    let (mut g, n) = build_graph(p, x_requires_grad, false)?;
    g.backward(n.loss)?;
    Ok(g)
}

/// Finite-difference formula for [`grad_check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// `(L(θ + ε) - L(θ)) / ε`: truncation error `O(ε)`, best `ε ≈ √(machine ε) ≈ 1e-8`.
    Forward,
    /// `(L(θ + ε) - L(θ - ε)) / 2ε`: truncation error `O(ε²)`, best `ε ≈ ∛(machine ε) ≈ 6e-6`.
    Central,
}

impl Difference {
    /// Parses `"forward"` or `"central"`.
    pub fn parse(s: &str) -> Option<Difference> {
        match s.trim().to_ascii_lowercase().as_str() {
            "forward" => Some(Difference::Forward),
            "central" => Some(Difference::Central),
            _ => None,
        }
    }
}

/// The result of comparing analytic and numerical gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheck {
    /// `‖g_analytic - g_numeric‖₂ / (‖g_analytic‖₂ + ‖g_numeric‖₂)` over all parameters at once.
    pub rel_error: f64,
    /// `max |g_analytic - g_numeric|` over all parameter entries.
    pub max_abs_error: f64,
    /// The entry with the largest absolute error, e.g. `"W1[2,3]"` or `"b2[0]"`.
    pub worst: String,
}

/// Checks the closed-form gradients of [`forward_backward`] for `W1, b1, W2, b2` against finite differences
/// of [`loss`] with step `eps`.
///
/// The relative error is the ratio of norms given in [`GradCheck::rel_error`]: it is scale-free, and unlike
/// a per-entry ratio it does not blow up on entries whose true gradient is zero. To check one problem at
/// several steps, build a [`GradChecker`] once.
///
/// # Panics
/// If the problem does not validate (use [`try_grad_check`] to get the error).
pub fn grad_check(p: &TwoLayerProblem, eps: f64, diff: Difference) -> GradCheck {
    try_grad_check(p, eps, diff).unwrap_or_else(|e| panic!("grad_check: {e}"))
}

/// [`grad_check`] returning a shape error instead of panicking.
///
/// # Errors
/// [`ShapeError`] if the problem does not [validate](TwoLayerProblem::validate).
pub fn try_grad_check(
    p: &TwoLayerProblem,
    eps: f64,
    diff: Difference,
) -> Result<GradCheck, ShapeError> {
    Ok(GradChecker::new(p)?.check(eps, diff))
}

/// [`grad_check`] for one problem at many steps: the backward pass and the forward pass's intermediate
/// tensors are computed once, and each perturbed loss recomputes only what the perturbed entry affects.
///
/// Changing `W1[r, c]` or `b1[c]` changes column `c` of `Z1` and `H1` only, so that column is recomputed
/// and `Z2` rebuilt from the cached other columns; changing `W2[h, o]` or `b2[o]` changes column `o` of `Z2`
/// only. Every recomputed entry is summed in the same order as in [`loss`], so each perturbed loss is
/// bit-for-bit the loss of the perturbed problem (a test checks this for every entry), and the finite
/// differences, round-off included, are exactly those of re-running the whole forward pass.
#[derive(Debug, Clone)]
pub struct GradChecker {
    problem: TwoLayerProblem,
    trace: TwoLayerTrace,
    /// `X·W1` before the bias, `B × H`.
    xw1: Vec<f64>,
    /// `H1·W2` before the bias, `B × C`.
    h1w2: Vec<f64>,
    /// Scratch: `H1` with one column replaced.
    h1: Vec<f64>,
    /// Scratch: `Z2` of the perturbed problem.
    z2: Vec<f64>,
}

impl GradChecker {
    /// Runs the forward and backward pass of `p` once and caches what the perturbed losses reuse.
    ///
    /// # Errors
    /// [`ShapeError`] if the problem does not [validate](TwoLayerProblem::validate).
    pub fn new(p: &TwoLayerProblem) -> Result<GradChecker, ShapeError> {
        let trace = forward_backward(p)?;
        let xw1 = p.x.matmul(&p.w1)?.into_data();
        let h1w2 = trace.h1.matmul(&p.w2)?.into_data();
        Ok(GradChecker {
            problem: p.clone(),
            h1: trace.h1.data().to_vec(),
            z2: vec![0.0; h1w2.len()],
            trace,
            xw1,
            h1w2,
        })
    }

    /// The analytic gradients and intermediate tensors of the unperturbed problem.
    pub fn trace(&self) -> &TwoLayerTrace {
        &self.trace
    }

    /// The gradient check at step `eps` (see [`grad_check`]).
    pub fn check(&mut self, eps: f64, diff: Difference) -> GradCheck {
        let base = self.trace.loss;
        let (mut diff2, mut a2, mut n2) = (0.0f64, 0.0f64, 0.0f64);
        // (error, parameter, entry) of the worst entry so far; its label is formatted once at the end.
        let mut worst: Option<(f64, usize, usize)> = None;
        for k in 0..4 {
            for j in 0..self.param_len(k) {
                let a = self.analytic(k, j);
                let original = param_get(&self.problem, k, j);
                let plus = self.perturbed_loss(k, j, original + eps);
                let numeric = match diff {
                    Difference::Forward => (plus - base) / eps,
                    Difference::Central => {
                        let minus = self.perturbed_loss(k, j, original - eps);
                        (plus - minus) / (2.0 * eps)
                    }
                };
                let e = (a - numeric).abs();
                diff2 += e * e;
                a2 += a * a;
                n2 += numeric * numeric;
                if worst.is_none_or(|(w, _, _)| e > w) {
                    worst = Some((e, k, j));
                }
            }
        }
        let (max_abs_error, worst) = match worst {
            Some((e, k, j)) => (e, self.label(k, j)),
            None => (0.0, String::new()),
        };
        GradCheck {
            rel_error: diff2.sqrt() / (a2.sqrt() + n2.sqrt()).max(f64::MIN_POSITIVE),
            max_abs_error,
            worst,
        }
    }

    fn param_len(&self, k: usize) -> usize {
        match k {
            0 => self.problem.w1.len(),
            1 => self.problem.b1.len(),
            2 => self.problem.w2.len(),
            _ => self.problem.b2.len(),
        }
    }

    fn analytic(&self, k: usize, j: usize) -> f64 {
        match k {
            0 => self.trace.dw1.data()[j],
            1 => self.trace.db1[j],
            2 => self.trace.dw2.data()[j],
            _ => self.trace.db2[j],
        }
    }

    /// `"W1[2,3]"` or `"b2[0]"`.
    fn label(&self, k: usize, j: usize) -> String {
        match k {
            0 => format!(
                "W1[{},{}]",
                j / self.problem.w1.cols(),
                j % self.problem.w1.cols()
            ),
            1 => format!("b1[{j}]"),
            2 => format!(
                "W2[{},{}]",
                j / self.problem.w2.cols(),
                j % self.problem.w2.cols()
            ),
            _ => format!("b2[{j}]"),
        }
    }

    /// The loss with parameter `k`, entry `j` set to `value` (see the type's documentation).
    fn perturbed_loss(&mut self, k: usize, j: usize, value: f64) -> f64 {
        let p = &self.problem;
        let (b, d) = (p.x.rows(), p.x.cols());
        let (h, c) = (p.w1.cols(), p.w2.cols());
        let x = p.x.data();
        let (w1, w2) = (p.w1.data(), p.w2.data());
        match k {
            0 | 1 => {
                // Column `col` of Z1 = X·W1 + b1 and of H1 changes; the rest of H1 is the cached one.
                let col = if k == 0 { j % h } else { j };
                for i in 0..b {
                    let pre = if k == 0 {
                        // Σ_q X[i,q] W1[q,col] in increasing q from 0.0, as `Tensor::matmul` sums it.
                        let mut s = 0.0;
                        for q in 0..d {
                            let w = if q * h + col == j {
                                value
                            } else {
                                w1[q * h + col]
                            };
                            s += x[i * d + q] * w;
                        }
                        s
                    } else {
                        self.xw1[i * h + col]
                    };
                    let bias = if k == 1 { value } else { p.b1[col] };
                    self.h1[i * h + col] = p.activation.apply(pre + bias);
                }
                // Z2 = H1·W2 + b2 in full: every entry depends on the changed column.
                for i in 0..b {
                    for o in 0..c {
                        let mut s = 0.0;
                        for q in 0..h {
                            s += self.h1[i * h + q] * w2[q * c + o];
                        }
                        self.z2[i * c + o] = s + p.b2[o];
                    }
                }
                let loss = loss_from_z2(p, &self.z2);
                // Restore the cached column for the next perturbation.
                let h1 = self.trace.h1.data();
                for i in 0..b {
                    self.h1[i * h + col] = h1[i * h + col];
                }
                loss
            }
            _ => {
                // Column `col` of Z2 = H1·W2 + b2 changes; the other columns are the cached products.
                let col = if k == 2 { j % c } else { j };
                let h1 = self.trace.h1.data();
                for i in 0..b {
                    for o in 0..c {
                        let product = if k == 2 && o == col {
                            let mut s = 0.0;
                            for q in 0..h {
                                let w = if q * c + o == j { value } else { w2[q * c + o] };
                                s += h1[i * h + q] * w;
                            }
                            s
                        } else {
                            self.h1w2[i * c + o]
                        };
                        let bias = if k == 3 && o == col { value } else { p.b2[o] };
                        self.z2[i * c + o] = product + bias;
                    }
                }
                loss_from_z2(p, &self.z2)
            }
        }
    }
}

/// The loss from `Z2` (row-major `B × C`) with the same arithmetic as [`loss`].
fn loss_from_z2(p: &TwoLayerProblem, z2: &[f64]) -> f64 {
    match &p.targets {
        Targets::Classes(y) => {
            let c = p.w2.cols();
            let mut nll = 0.0;
            for (b, row) in z2.chunks_exact(c).enumerate() {
                let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut s = 0.0;
                for &v in row {
                    s += crate::math::exp(v - m);
                }
                nll -= row[y[b]] - m - crate::math::ln(s);
            }
            nll / y.len() as f64
        }
        Targets::Values(t) => {
            let n = z2.len() as f64;
            z2.iter()
                .zip(t.data())
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                / n
        }
    }
}

/// Parameter `k` (0 = W1, 1 = b1, 2 = W2, 3 = b2), entry `j` in row-major order.
fn param_get(p: &TwoLayerProblem, k: usize, j: usize) -> f64 {
    match k {
        0 => p.w1.data()[j],
        1 => p.b1[j],
        2 => p.w2.data()[j],
        _ => p.b2[j],
    }
}

/// Sets parameter `k`, entry `j` (the tests build perturbed problems with it).
#[cfg(test)]
fn param_set(p: &mut TwoLayerProblem, k: usize, j: usize, v: f64) {
    match k {
        0 => p.w1.data_mut()[j] = v,
        1 => p.b1[j] = v,
        2 => p.w2.data_mut()[j] = v,
        _ => p.b2[j] = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        a.max_abs_diff(b).expect("same shapes")
    }

    fn vec_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn explicit_formulas_equal_autograd() {
        // Both paths compute the same sums in slightly different orders, so they agree to rounding.
        for activation in Activation::ALL {
            for loss in [Loss::SoftmaxCrossEntropy, Loss::MeanSquaredError] {
                let p = TwoLayerProblem::random(6, 4, 5, 3, activation, loss, 11);
                let e = forward_backward(&p).unwrap();
                let a = forward_backward_autograd(&p).unwrap();
                let what = format!("{} {:?}", activation.name(), loss);
                assert!((e.loss - a.loss).abs() < 1e-12, "{what}");
                for (x, y) in [
                    (&e.z1, &a.z1),
                    (&e.h1, &a.h1),
                    (&e.z2, &a.z2),
                    (&e.out, &a.out),
                    (&e.dz2, &a.dz2),
                    (&e.dw2, &a.dw2),
                    (&e.dh1, &a.dh1),
                    (&e.dz1, &a.dz1),
                    (&e.dw1, &a.dw1),
                    (&e.dx, &a.dx),
                ] {
                    assert!(max_diff(x, y) < 1e-12, "{what}");
                }
                assert!(vec_diff(&e.db1, &a.db1) < 1e-12, "{what}");
                assert!(vec_diff(&e.db2, &a.db2) < 1e-12, "{what}");
            }
        }
    }

    #[test]
    fn grad_check_passes_for_every_activation_and_loss() {
        // Central differences at eps = 1e-6: truncation O(eps²) ≈ 1e-12 and rounding ≈ 1e-16/eps ≈ 1e-10
        // relative, far below 1e-6. A random ReLU problem has no pre-activation within 1e-6 of the kink
        // (the nearest one is checked to be farther away below, so this cannot pass by luck unnoticed).
        for activation in Activation::ALL {
            for loss in [Loss::SoftmaxCrossEntropy, Loss::MeanSquaredError] {
                let p = TwoLayerProblem::random(4, 3, 5, 3, activation, loss, 7);
                if activation == Activation::Relu {
                    let t = forward_backward(&p).unwrap();
                    assert!(t.z1.data().iter().all(|z| z.abs() > 1e-4));
                }
                let c = grad_check(&p, 1e-6, Difference::Central);
                assert!(c.rel_error < 1e-6, "{} {loss:?}: {c:?}", activation.name());
            }
        }
    }

    #[test]
    fn perturbed_losses_are_the_full_forward_pass_bit_for_bit() {
        // The checker's shortcut must not change a single bit of any loss, or the finite differences (and
        // their round-off, which the widget's sweep displays) would differ from re-running the forward pass.
        // Compared through the bit patterns because equality, not closeness, is the contract.
        for activation in Activation::ALL {
            for loss_kind in [Loss::SoftmaxCrossEntropy, Loss::MeanSquaredError] {
                for (b, d, h, c) in [(1, 1, 1, 2), (3, 2, 4, 3), (8, 6, 8, 5)] {
                    let p = TwoLayerProblem::random(b, d, h, c, activation, loss_kind, 11);
                    let mut checker = GradChecker::new(&p).unwrap();
                    for k in 0..4 {
                        for j in 0..checker.param_len(k) {
                            for delta in [1e-7, -0.3] {
                                let value = param_get(&p, k, j) + delta;
                                let mut q = p.clone();
                                param_set(&mut q, k, j, value);
                                let full = loss(&q).unwrap();
                                let fast = checker.perturbed_loss(k, j, value);
                                assert_eq!(
                                    fast.to_bits(),
                                    full.to_bits(),
                                    "{} {loss_kind:?} {b}×{d}×{h}×{c} param {k} entry {j}",
                                    activation.name()
                                );
                            }
                        }
                    }
                    // The cached state is restored after every perturbation.
                    assert_eq!(checker.h1, checker.trace().h1.data());
                }
            }
        }
    }

    #[test]
    fn grad_check_reports_an_inaccurate_difference() {
        // A forward difference with a step of 1 has a truncation error of order |L''|·eps/2, so the check must
        // report a large error and name an entry, rather than averaging the disagreement away.
        let p = TwoLayerProblem::random(4, 3, 5, 3, Activation::Tanh, Loss::SoftmaxCrossEntropy, 7);
        let c = grad_check(&p, 1.0, Difference::Forward);
        assert!(c.rel_error > 1e-2, "{c:?}");
        assert!(c.worst.starts_with('W') || c.worst.starts_with('b'));
    }

    /// The fixed problem of `numpy_reference`, written out by hand.
    fn fixed_problem(loss: Loss) -> TwoLayerProblem {
        TwoLayerProblem {
            x: Tensor::new(&[2, 3], vec![0.5, -1.0, 2.0, 1.5, 0.25, -0.75]).unwrap(),
            w1: Tensor::new(&[3, 2], vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6]).unwrap(),
            b1: vec![0.01, -0.02],
            w2: Tensor::new(&[2, 3], vec![0.7, -0.8, 0.9, -1.0, 1.1, 0.2]).unwrap(),
            b2: vec![0.05, 0.0, -0.05],
            activation: Activation::Tanh,
            targets: match loss {
                Loss::SoftmaxCrossEntropy => Targets::Classes(vec![2, 0]),
                Loss::MeanSquaredError => Targets::Values(
                    Tensor::new(&[2, 3], vec![0.0, 1.0, -1.0, 0.5, 0.5, 0.0]).unwrap(),
                ),
            },
            loss,
        }
    }

    #[test]
    fn numpy_reference() {
        // Expected values computed independently with numpy 2.4 (python3):
        //   import numpy as np
        //   X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
        //   W1 = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]); b1 = np.array([0.01, -0.02])
        //   W2 = np.array([[0.7, -0.8, 0.9], [-1.0, 1.1, 0.2]]); b2 = np.array([0.05, 0.0, -0.05])
        //   y = np.array([2, 0])
        //   Z1 = X @ W1 + b1; H1 = np.tanh(Z1); Z2 = H1 @ W2 + b2
        //   P = np.exp(Z2 - Z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
        //   B = X.shape[0]; L = -np.log(P[np.arange(B), y]).mean()
        //   Y = np.eye(3)[y]; dZ2 = (P - Y) / B
        //   dW2 = H1.T @ dZ2; db2 = dZ2.sum(0); dH1 = dZ2 @ W2.T; dZ1 = dH1 * (1 - H1**2)
        //   dW1 = X.T @ dZ1; db1 = dZ1.sum(0); dX = dZ1 @ W1.T
        //   T = np.array([[0.0, 1.0, -1.0], [0.5, 0.5, 0.0]])
        //   Lm = ((Z2 - T)**2).mean(); dZ2m = 2 * (Z2 - T) / Z2.size
        //   dW1m = X.T @ ((dZ2m @ W2.T) * (1 - H1**2))
        //   print(L, dW1.ravel(), db1, dW2.ravel(), db2, dX.ravel(), Lm, dW1m.ravel())
        let t = forward_backward(&fixed_problem(Loss::SoftmaxCrossEntropy)).unwrap();
        let close = |got: &[f64], want: &[f64]| {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-14, "{got:?} vs {want:?}");
            }
        };
        close(&[t.loss], &[1.3506421795479993]);
        close(
            t.dw1.data(),
            &[
                -0.1280489649724311,
                0.3673631870043045,
                0.19642677914353682,
                -0.16932541281372668,
                -0.38826346976389475,
                0.2951584439970778,
            ],
        );
        close(&t.db1, &[-0.2193772217594312, 0.3867873209656045]);
        close(
            t.dw2.data(),
            &[
                -0.13408306461977965,
                -0.32640086483810954,
                0.46048392945788924,
                0.13302284823567162,
                0.22061748135184062,
                -0.3536403295875122,
            ],
        );
        close(
            &t.db2,
            &[
                -0.15689411455810795,
                0.44839847086611745,
                -0.2915043563080095,
            ],
        );
        close(
            t.dx.data(),
            &[
                -0.06266524565549202,
                0.02482205747762619,
                0.2281991104998192,
                -0.036629940713572,
                0.06407970438078625,
                0.11356189295925909,
            ],
        );
        let m = forward_backward(&fixed_problem(Loss::MeanSquaredError)).unwrap();
        close(&[m.loss], &[0.7247853069487801]);
        close(
            m.dw1.data(),
            &[
                0.636864129324986,
                -0.5511884620214991,
                0.1863027667067725,
                -0.4568125277925722,
                -0.48491561228714075,
                1.0335627057263421,
            ],
        );
    }

    #[test]
    fn validate_names_the_inconsistent_field() {
        let mut p = fixed_problem(Loss::SoftmaxCrossEntropy);
        p.b1 = vec![0.0; 3];
        let e = p.validate().unwrap_err();
        assert!(e.to_string().contains("b1 has length 3"), "{e}");
        let mut p = fixed_problem(Loss::SoftmaxCrossEntropy);
        p.targets = Targets::Classes(vec![0, 3]);
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("class target 3"));
        let mut p = fixed_problem(Loss::MeanSquaredError);
        p.targets = Targets::Classes(vec![0, 1]);
        assert!(forward_backward(&p).is_err());
        assert!(try_grad_check(&p, 1e-6, Difference::Central).is_err());
    }
}

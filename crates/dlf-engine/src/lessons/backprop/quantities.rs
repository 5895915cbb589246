//! Quantities of lesson 01 (backpropagation).

use crate::activation::Activation;
use crate::autograd::Graph;
use crate::error::QuantityError;
use crate::lessons::backprop::datasets::make_dataset;
use crate::lessons::backprop::mlp::{Init, Mlp, MlpConfig};
use crate::lessons::backprop::softmax_stability::{
    first_failing_scale, gradient_error, log_margins, MarginGrid, Part, Precision, Route,
};
use crate::lessons::backprop::{autograd_tape, try_grad_check, Difference, Loss, TwoLayerProblem};
use crate::quantities::{Args, QuantitySpec};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Shape arguments of the lesson's reference network (an MNIST-sized 784-256-10 MLP).
const MNIST_SHAPE: &[(&str, &str)] = &[
    ("batch", "64"),
    ("d_in", "784"),
    ("hidden", "256"),
    ("classes", "10"),
];

/// A random softmax-CE problem shaped by the arguments `batch`, `d_in`, `hidden`, `classes` (each a whole
/// number in `1..=max`).
fn shaped_problem(
    a: &Args,
    max: usize,
    activation: Activation,
    seed: u64,
) -> Result<TwoLayerProblem, QuantityError> {
    Ok(TwoLayerProblem::random(
        a.usize_in("batch", 1, max)?,
        a.usize_in("d_in", 1, max)?,
        a.usize_in("hidden", 1, max)?,
        a.usize_in("classes", 1, max)?,
        activation,
        Loss::SoftmaxCrossEntropy,
        seed,
    ))
}

/// The lesson's small gradient-check problem: 4 examples, 3 inputs, 5 hidden units, 3 classes, softmax CE.
fn small_problem(activation: Activation, seed: u64) -> TwoLayerProblem {
    TwoLayerProblem::random(4, 3, 5, 3, activation, Loss::SoftmaxCrossEntropy, seed)
}

pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "backprop.softmax_ce_grad_gap",
        description: "max |autograd dL/dZ - (P - Y)/B| for mean softmax cross-entropy on random N(0, 3²) logits; route=fused uses the tape's cross-entropy op, route=composed builds the loss from softmax, log, a one-hot mask and a sum, so the autograd goes through the full softmax Jacobian and never sees P - Y",
        args: &[("batch", "8"), ("classes", "5"), ("seed", "1"), ("route", "fused")],
        eval: |a| softmax_ce_grad_gap(a),
    },
    QuantitySpec {
        name: "backprop.backward_forward_flop_ratio",
        description: "backward FLOPs / forward FLOPs of a 2-layer ReLU MLP with softmax CE, counted by the autograd tape (input_grad=1 also computes dX)",
        args: &[("batch", "64"), ("d_in", "784"), ("hidden", "256"), ("classes", "10"), ("input_grad", "1")],
        eval: |a| {
            let p = shaped_problem(a, MAX_WIDTH, Activation::Relu, 0)?;
            let g = autograd_tape(&p, a.flag("input_grad")?).map_err(|e| a.failed(e))?;
            Ok(g.flops().ratio())
        },
    },
    QuantitySpec {
        name: "backprop.deep_flop_ratio",
        description: "backward / forward FLOPs of a deep ReLU MLP (layers affine maps: width→width, last width→classes) with softmax CE and no dX",
        args: &[("layers", "8"), ("width", "512"), ("batch", "64"), ("classes", "10")],
        eval: |a| deep_flop_ratio(a),
    },
    QuantitySpec {
        name: "backprop.gradcheck_rel_error",
        description: "grad_check relative error ‖g - g_fd‖/(‖g‖ + ‖g_fd‖) on a random two-layer problem with softmax CE",
        args: &[
            ("eps", "1e-5"),
            ("difference", "central"),
            ("activation", "tanh"),
            ("batch", "4"),
            ("d_in", "3"),
            ("hidden", "5"),
            ("classes", "3"),
            ("seed", "7"),
        ],
        eval: |a| {
            let p = shaped_problem(a, MAX_CHECK_DIM, a.activation("activation")?, a.seed("seed")?)?;
            let eps = a.f64_in("eps", 1e-300, 1.0)?;
            let c =
                try_grad_check(&p, eps, a.difference("difference")?).map_err(|e| a.failed(e))?;
            Ok(c.rel_error)
        },
    },
    QuantitySpec {
        name: "backprop.gradcheck_best_eps",
        description: "the step eps = 10^-k, k = 1, 1.5, ..., 12, with the smallest grad_check relative error (4×3×5×3 problem)",
        args: &[("difference", "central"), ("activation", "tanh"), ("seed", "7")],
        eval: |a| {
            let p = small_problem(a.activation("activation")?, a.seed("seed")?);
            let diff = a.difference("difference")?;
            let mut best = (f64::INFINITY, f64::NAN);
            // k = 1, 1.5, 2, ..., 12: 23 steps half a decade apart.
            for half_decades in 2..=24 {
                let eps = crate::math::powf(10f64, -f64::from(half_decades) / 2.0);
                let e = try_grad_check(&p, eps, diff)
                    .map_err(|e| a.failed(e))?
                    .rel_error;
                if e < best.0 {
                    best = (e, eps);
                }
            }
            Ok(best.1)
        },
    },
    QuantitySpec {
        name: "backprop.relu_kink_fd_error",
        description: "grad_check relative error (central, step eps) on a ReLU network with one pre-activation placed at eps/2, inside the step",
        args: &[("eps", "1e-3"), ("seed", "7")],
        eval: |a| relu_kink(a, true),
    },
    QuantitySpec {
        name: "backprop.relu_kink_fd_error_safe",
        description: "the same check with that pre-activation moved to +0.5, away from the kink",
        args: &[("eps", "1e-3"), ("seed", "7")],
        eval: |a| relu_kink(a, false),
    },
    QuantitySpec {
        name: "backprop.sigmoid_max_derivative",
        description: "max over an evenly spaced grid on [-10, 10] of the autograd derivative of the sigmoid",
        args: &[("points", "20001")],
        eval: |a| max_derivative(a, Graph::sigmoid),
    },
    QuantitySpec {
        name: "backprop.tanh_max_derivative",
        description: "max over an evenly spaced grid on [-10, 10] of the autograd derivative of tanh",
        args: &[("points", "20001")],
        eval: |a| max_derivative(a, Graph::tanh),
    },
    QuantitySpec {
        name: "backprop.grad_norm_ratio",
        description: "‖dL/dW_first‖_F / ‖dL/dW_last‖_F at initialisation of a deep MLP (depth hidden layers of width, 10 classes, Gaussian inputs, random labels)",
        args: &[
            ("depth", "10"),
            ("width", "64"),
            ("activation", "sigmoid"),
            ("batch", "64"),
            ("seed", "3"),
            ("init", "glorot"),
        ],
        eval: |a| grad_norm_ratio(a),
    },
    QuantitySpec {
        name: "backprop.mlp_train_accuracy",
        description: "training accuracy after full-batch gradient descent with the explicit-backward MLP",
        args: TRAIN_ARGS,
        eval: |a| train(a).map(|(_, acc)| acc),
    },
    QuantitySpec {
        name: "backprop.mlp_final_loss",
        description: "training cross-entropy after full-batch gradient descent with the explicit-backward MLP",
        args: TRAIN_ARGS,
        eval: |a| train(a).map(|(loss, _)| loss),
    },
    QuantitySpec {
        name: "backprop.param_count",
        description: "parameters of the 2-layer MLP including biases: D·H + H + H·C + C",
        args: &[("d_in", "784"), ("hidden", "256"), ("classes", "10")],
        eval: |a| {
            // Counted in f64: D·H can exceed 2^32 for large arguments, which would overflow usize on wasm32.
            let (d, h, c) = (
                a.usize_in("d_in", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("hidden", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("classes", 1, MAX_COUNT_DIM)? as f64,
            );
            Ok(d * h + h + h * c + c)
        },
    },
    QuantitySpec {
        name: "backprop.forward_flops",
        description: "matmul FLOPs of the 2-layer MLP's forward pass, 2·B·(D·H + H·C)",
        args: MNIST_SHAPE,
        eval: |a| {
            let (b, d, h, c) = (
                a.usize_in("batch", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("d_in", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("hidden", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("classes", 1, MAX_COUNT_DIM)? as f64,
            );
            Ok(2.0 * b * (d * h + h * c))
        },
    },
    QuantitySpec {
        name: "backprop.activation_memory_bytes",
        description: "bytes of activations kept for the backward pass: X, Z1, H1 and P, i.e. B·(D + 2H + C)·bytes",
        args: &[("batch", "64"), ("d_in", "784"), ("hidden", "256"), ("classes", "10"), ("bytes", "4")],
        eval: |a| {
            // Kept for the backward pass: X (for dW1 = Xᵀ dZ1), Z1 (for act'(Z1); a ReLU could keep a 1-bit
            // mask instead, which this count does not assume), H1 (for dW2 = H1ᵀ dZ2) and P (for P - Y).
            // The weights themselves are parameters, not activations, and are not counted.
            let (b, d, h, c) = (
                a.usize_in("batch", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("d_in", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("hidden", 1, MAX_COUNT_DIM)? as f64,
                a.usize_in("classes", 1, MAX_COUNT_DIM)? as f64,
            );
            let bytes = a.usize_in("bytes", 1, 16)? as f64;
            Ok(b * (d + 2.0 * h + c) * bytes)
        },
    },
    QuantitySpec {
        name: "backprop.naive_ce_first_failure",
        description: "smallest margin M on the grid 0, 0.01, ..., 10^4 at which the route's (naive: softmax then log; shifted: the same after subtracting the max logit) loss or gradient (part = any, loss or gradient) is no longer finite, in precision f32 or f64, for the confidently wrong logits [M, 0, ..., 0] (classes entries) with the last class as target; the gradient is the chain rule (-1/p_y) times p_y(e_y - p)",
        args: &[("precision", "f32"), ("route", "naive"), ("classes", "10"), ("part", "any")],
        eval: |a| naive_ce_first_failure(a),
    },
    QuantitySpec {
        name: "backprop.fused_ce_max_error",
        description: "max over margins M = 0 and 10^t, t = -1, -0.995, ..., 4, of max_k |g_k - (P - Y)_k|, where g is the fused log-softmax cross-entropy gradient computed in precision f32 or f64 for the logits [M, 0, ..., 0] with the last class as target, and P - Y the exact f64 closed form",
        args: &[("precision", "f32"), ("classes", "10")],
        eval: |a| fused_ce_max_error(a),
    },
    QuantitySpec {
        name: "backprop.lora_step_ratio",
        description: "FLOPs of a training step over those of a forward pass for `layers` frozen D×D linear layers (batch B cancels) each with a trainable LoRA adapter of rank r (x ↦ xW + (xA)B): forward 2D² + 4Dr per token and layer; backward 2D² for dX through W (not in the first layer, whose input is data), 6Dr for dB, the adapter's hidden gradient and dA, 2Dr for dX through the adapter (not in the first layer); rank 0 is a frozen stack that only passes gradients down",
        args: &[("layers", "32"), ("width", "4096"), ("rank", "16")],
        eval: |a| {
            let l = a.usize_in("layers", 1, 10_000)? as f64;
            let d = a.usize_in("width", 1, MAX_COUNT_DIM)? as f64;
            let r = a.usize_in("rank", 0, MAX_COUNT_DIM)? as f64;
            let forward = l * (2.0 * d * d + 4.0 * d * r);
            // No dW = Xᵀ dZ for the frozen W: that product is the one LoRA skips.
            let backward = (l - 1.0) * (2.0 * d * d + 2.0 * d * r) + l * 6.0 * d * r;
            Ok((forward + backward) / forward)
        },
    },
    QuantitySpec {
        name: "backprop.full_step_ratio",
        description: "FLOPs of a training step over those of a forward pass for `layers` equal trainable linear layers: 1 + (2 − 1/L), every dW plus every dX but the first layer's",
        args: &[("layers", "32")],
        eval: |a| Ok(3.0 - 1.0 / a.usize_in("layers", 1, 10_000)? as f64),
    },
    QuantitySpec {
        name: "backprop.gelu_derivative_root",
        description: "the negative input at which GELU's derivative Φ(z) + z·φ(z) crosses zero, by bisection on [−2, −0.1] of the engine's exact (erf) GELU derivative",
        args: &[],
        eval: |_| {
            // GELU'(−2) < 0 < GELU'(−0.1); 60 halvings shrink the bracket below 2⁻⁶⁰ · 1.9.
            let (mut lo, mut hi) = (-2.0_f64, -0.1_f64);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if crate::activation::gelu_erf_derivative(mid) < 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            Ok(0.5 * (lo + hi))
        },
    },
    QuantitySpec {
        name: "backprop.elementwise_traffic_ratio",
        description: "HBM traffic of an elementwise activation's backward pass over its forward pass, in tensors moved: forward reads z and writes h (2); backward reads the upstream gradient and the saved z or h and writes dz (3)",
        args: &[],
        eval: |_| Ok(3.0 / 2.0),
    },
];

const TRAIN_ARGS: &[(&str, &str)] = &[
    ("dataset", "moons"),
    ("n", "200"),
    ("noise", "0.1"),
    ("width", "16"),
    ("depth", "1"),
    ("activation", "relu"),
    ("lr", "0.5"),
    ("steps", "300"),
    ("seed", "1"),
];

/// Largest layer width accepted where a matrix of `width²` entries is built.
const MAX_WIDTH: usize = 4096;
/// Largest dimension accepted in the closed-form counts (no memory is allocated for them).
const MAX_COUNT_DIM: usize = 100_000;
/// Largest dimension of the problems that are finite-differenced (one forward pass per parameter entry).
const MAX_CHECK_DIM: usize = 64;

/// Largest class count of the floating-point experiments (the widget offers 2 to 10).
const MAX_CE_CLASSES: usize = 1000;

fn precision(a: &Args) -> Result<Precision, QuantityError> {
    Precision::parse(a.raw("precision")).ok_or_else(|| a.invalid("precision", "f32 or f64".into()))
}

fn naive_ce_first_failure(a: &Args) -> Result<f64, QuantityError> {
    let precision = precision(a)?;
    let route = match Route::parse(a.raw("route")) {
        Some(r @ (Route::Naive | Route::Shifted)) => r,
        _ => return Err(a.invalid("route", "naive or shifted".into())),
    };
    let classes = a.usize_in("classes", 2, MAX_CE_CLASSES)?;
    let part = Part::parse(a.raw("part"))
        .ok_or_else(|| a.invalid("part", "any, loss or gradient".into()))?;
    first_failing_scale(precision, route, classes, part, MarginGrid::FINE).ok_or_else(|| {
        a.failed(format!(
            "the {} route stays finite for every margin up to {}",
            route.name(),
            MarginGrid::FINE.max
        ))
    })
}

fn fused_ce_max_error(a: &Args) -> Result<f64, QuantityError> {
    let precision = precision(a)?;
    let classes = a.usize_in("classes", 2, MAX_CE_CLASSES)?;
    // 1001 margins spaced 0.005 apart in log10 from 0.1 to 10^4, plus M = 0 (all logits equal).
    let margins = std::iter::once(0.0).chain(log_margins(-1.0, 4.0, 1001));
    Ok(margins
        .map(|m| gradient_error(precision, Route::Fused, m, classes))
        .fold(0.0, f64::max))
}

/// Builds random logits and class targets, runs the tape, and compares with `(P - Y)/B` computed directly.
fn softmax_ce_grad_gap(a: &Args) -> Result<f64, QuantityError> {
    let (b, c) = (
        a.usize_in("batch", 1, MAX_WIDTH)?,
        a.usize_in("classes", 1, MAX_WIDTH)?,
    );
    let mut rng = Rng::new(a.seed("seed")?);
    let z = Tensor::randn(&[b, c], 3.0, &mut rng);
    let y: Vec<usize> = (0..b).map(|_| rng.below(c)).collect();
    let mut g = Graph::new();
    let zv = g.param(z.clone());
    let loss = match a.raw("route").trim() {
        "fused" => g.cross_entropy(zv, &y).map_err(|e| a.failed(e))?,
        "composed" => {
            // L = -(1/B) Σ_b Σ_k Y_bk log softmax(Z)_bk, from general ops: the backward pass multiplies by the
            // log's 1/P and then by the softmax Jacobian diag(p) - p pᵀ, and nowhere writes P - Y.
            let p = g.softmax(zv);
            let logp = g.log(p);
            let onehot = Tensor::from_fn(b, c, |r, k| if y[r] == k { 1.0 } else { 0.0 });
            let mask = g.constant(onehot);
            let picked = g.mul(logp, mask).map_err(|e| a.failed(e))?;
            let total = g.sum(picked);
            g.scale(total, -1.0 / b as f64)
        }
        _ => return Err(a.invalid("route", "fused or composed".into())),
    };
    g.backward(loss).map_err(|e| a.failed(e))?;
    let mut gap = 0.0f64;
    for (r, &t) in y.iter().enumerate() {
        let row = z.row_slice(r);
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| crate::math::exp(v - m)).sum();
        for (j, &v) in row.iter().enumerate() {
            let p = crate::math::exp(v - m) / s;
            let onehot = if j == t { 1.0 } else { 0.0 };
            gap = gap.max((g.grad(zv).get2(r, j) - (p - onehot) / b as f64).abs());
        }
    }
    Ok(gap)
}

fn deep_flop_ratio(a: &Args) -> Result<f64, QuantityError> {
    let layers = a.usize_in("layers", 1, 64)?;
    let width = a.usize_in("width", 1, MAX_WIDTH)?;
    let batch = a.usize_in("batch", 1, MAX_WIDTH)?;
    let classes = a.usize_in("classes", 1, MAX_WIDTH)?;
    let mut rng = Rng::new(0);
    let mut g = Graph::new();
    // The input is data: a constant, so the first layer computes dW but not dX.
    let mut h = g.constant(Tensor::randn(&[batch, width], 1.0, &mut rng));
    for l in 0..layers {
        let out = if l + 1 == layers { classes } else { width };
        let w = g.param(Tensor::randn(
            &[width, out],
            (2.0 / width as f64).sqrt(),
            &mut rng,
        ));
        let b = g.param(Tensor::zeros(&[1, out]));
        let z = g.matmul(h, w).map_err(|e| a.failed(e))?;
        let z = g.add(z, b).map_err(|e| a.failed(e))?;
        h = if l + 1 == layers { z } else { g.relu(z) };
    }
    let y: Vec<usize> = (0..batch).map(|_| rng.below(classes)).collect();
    let loss = g.cross_entropy(h, &y).map_err(|e| a.failed(e))?;
    g.backward(loss).map_err(|e| a.failed(e))?;
    Ok(g.flops().ratio())
}

/// The two-layer ReLU problem of the kink quantities, with pre-activation `Z1[0, 0]` placed at `target`
/// by shifting `b1[0]` (which moves column 0 of `Z1` for every row).
pub(crate) fn kink_problem(seed: u64, target: f64) -> TwoLayerProblem {
    let mut p = small_problem(Activation::Relu, seed);
    let z00: f64 = (0..3)
        .map(|k| p.x.get2(0, k) * p.w1.get2(k, 0))
        .sum::<f64>()
        + p.b1[0];
    p.b1[0] += target - z00;
    p
}

fn relu_kink(a: &Args, at_kink: bool) -> Result<f64, QuantityError> {
    let eps = a.f64_in("eps", 1e-12, 0.1)?;
    let target = if at_kink { eps / 2.0 } else { 0.5 };
    let p = kink_problem(a.seed("seed")?, target);
    let c = try_grad_check(&p, eps, Difference::Central).map_err(|e| a.failed(e))?;
    Ok(c.rel_error)
}

fn max_derivative(
    a: &Args,
    f: fn(&mut Graph, crate::autograd::Var) -> crate::autograd::Var,
) -> Result<f64, QuantityError> {
    let n = a.usize_in("points", 2, 1_000_001)?;
    let x = Tensor::from_fn(1, n, |_, j| -10.0 + 20.0 * j as f64 / (n - 1) as f64);
    let mut g = Graph::new();
    let xv = g.param(x);
    let y = f(&mut g, xv);
    // L = Σ f(x_j), so ∂L/∂x_j = f'(x_j): one backward pass gives the derivative at every grid point.
    let loss = g.sum(y);
    g.backward(loss).map_err(|e| a.failed(e))?;
    Ok(g.grad(xv)
        .data()
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max))
}

/// The deep network and data of `backprop.grad_norm_ratio`.
pub(crate) fn deep_init_setup(
    depth: usize,
    width: usize,
    activation: Activation,
    batch: usize,
    seed: u64,
    init: Init,
) -> (Mlp, Tensor, Vec<usize>) {
    let cfg = MlpConfig {
        input: width,
        hidden: vec![width; depth],
        output: 10,
        activation,
        seed,
    };
    let mlp = Mlp::with_init(&cfg, init);
    // The data stream is forked from the seed so it differs from the weight stream.
    let mut rng = Rng::new(seed ^ 0x5EED_DA7A);
    let x = Tensor::randn(&[batch, width], 1.0, &mut rng);
    let y = (0..batch).map(|_| rng.below(10)).collect();
    (mlp, x, y)
}

fn grad_norm_ratio(a: &Args) -> Result<f64, QuantityError> {
    let (mut mlp, x, y) = deep_init_setup(
        a.usize_in("depth", 1, 64)?,
        a.usize_in("width", 1, 1024)?,
        a.activation("activation")?,
        a.usize_in("batch", 1, 4096)?,
        a.seed("seed")?,
        a.init("init")?,
    );
    let s = mlp.compute_gradients(&x, &y).map_err(|e| a.failed(e))?;
    let norms = s.weight_grad_norms;
    Ok(norms[0] / norms[norms.len() - 1])
}

/// Trains the explicit MLP as `backprop.mlp_*` describe; returns the final `(loss, accuracy)`, measured
/// after the last update.
fn train(a: &Args) -> Result<(f64, f64), QuantityError> {
    let kind = a.dataset("dataset")?;
    let n = a.usize_in("n", 2, 10_000)?;
    let noise = a.f64_in("noise", 0.0, 10.0)?;
    let width = a.usize_in("width", 1, 256)?;
    let depth = a.usize_in("depth", 0, 16)?;
    let activation = a.activation("activation")?;
    let lr = a.f64_in("lr", 1e-9, 100.0)?;
    let steps = a.usize_in("steps", 0, 100_000)?;
    let seed = a.seed("seed")?;
    let d = make_dataset(kind, n, noise, seed);
    let x = d.x_tensor();
    let mut m = Mlp::new(&MlpConfig {
        input: 2,
        hidden: vec![width; depth],
        output: d.classes,
        activation,
        seed,
    });
    m.train(&x, &d.y, lr, steps).map_err(|e| a.failed(e))?;
    m.loss_and_accuracy(&x, &d.y).map_err(|e| a.failed(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::backprop::forward_backward;
    use crate::quantities::evaluate;

    fn q(name: &str, args: &[(&str, &str)]) -> f64 {
        evaluate(name, args).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn softmax_ce_grad_gap_through_the_softmax_jacobian_is_rounding_only() {
        // Composed from softmax, log, mask and sum, the gradient reaches Z through 1/P and diag(p) - p pᵀ; that
        // it equals (P - Y)/B to rounding is the derivation's result, not its implementation. Rounding here is
        // larger than for the fused op (1/P amplifies the error of a small P), but stays far below 1e-12.
        let v = q("backprop.softmax_ce_grad_gap", &[("route", "composed")]);
        assert!((0.0..1e-13).contains(&v), "{v}");
        assert!(evaluate("backprop.softmax_ce_grad_gap", &[("route", "fused-ish")]).is_err());
    }

    #[test]
    fn softmax_ce_grad_gap_is_rounding_only() {
        // The tape's CE backward is (P - Y)/B by construction (P from exp(log-softmax) rather than
        // e^{z-m}/Σ), so the two differ only by rounding: a few ulps of numbers below 1/B = 0.125.
        let v = q("backprop.softmax_ce_grad_gap", &[]);
        assert!((0.0..1e-16).contains(&v), "{v}");
    }

    #[test]
    fn flop_ratio_of_the_two_layer_mlp() {
        // From the FLOP table in autograd's module doc, with B = 64, D = 784, H = 256, C = 10:
        //   forward  = 2B(DH + HC) + BH (bias) + BH (relu) + BC (bias) + 5BC + 2B + 1 (CE)
        //            = 26017792 + 16384 + 16384 + 640 + 3329 = 26054529
        //   backward = 2BC (CE) + BC (db2) + 4BHC (dH1, dW2) + 2BH (relu) + BH (db1) + 2BDH (dW1) [+ 2BDH (dX)]
        //            = 1280 + 640 + 655360 + 32768 + 16384 + 25690112 [+ 25690112]
        //   python3 -c "print((26396544 + 25690112) / 26054529, 26396544 / 26054529)"
        //   -> 1.999140187872903 1.0131268924492935
        let with_dx = q("backprop.backward_forward_flop_ratio", &[]);
        assert!((with_dx - 1.999_140_187_872_903).abs() < 1e-12, "{with_dx}");
        let without = q(
            "backprop.backward_forward_flop_ratio",
            &[("input_grad", "0")],
        );
        assert!(
            (without - 1.013_126_892_449_293_5).abs() < 1e-12,
            "{without}"
        );
        // The brief's approximation 1 + HC/(DH + HC) = 1 + 2560/203264 ≈ 1.0126 ignores elementwise work.
        assert!((without - (1.0 + 2560.0 / 203_264.0)).abs() < 1e-3);
    }

    #[test]
    fn deep_flop_ratio_approaches_two() {
        // L = 8 layers, W = 512, B = 64, C = 10, counted with the autograd FLOP table. Each of the L - 1
        // hidden layers costs 2BW² (matmul) + BW (bias) + BW (relu) forward, and 4BW² (dW and dX) + 2BW (relu)
        // + BW (db) backward — except that the first layer skips dX, saving 2BW². The output layer costs
        // 2BWC + BC forward and 4BWC + BC backward; the cross-entropy 5BC + 2B + 1 forward and 2BC backward.
        let (l, w, b, c) = (8.0, 512.0, 64.0, 10.0);
        let fwd = (l - 1.0) * (2.0 * b * w * w + 2.0 * b * w)
            + 2.0 * b * w * c
            + b * c
            + 5.0 * b * c
            + 2.0 * b
            + 1.0;
        let bwd = (l - 1.0) * 4.0 * b * w * w - 2.0 * b * w * w
            + (l - 1.0) * 3.0 * b * w
            + 4.0 * b * w * c
            + b * c
            + 2.0 * b * c;
        let v = q("backprop.deep_flop_ratio", &[]);
        assert!((v - bwd / fwd).abs() < 1e-12, "{v} vs {}", bwd / fwd);
        // The matmul-only limit (2(L-1) - 1)/(L-1) for the 7 square layers is 13/7 ≈ 1.857.
        assert!((v - 13.0 / 7.0).abs() < 0.01);
    }

    #[test]
    fn gradcheck_errors_and_best_steps() {
        // Central differences at 1e-5: error ≈ eps²·|L'''|/6 relative to |L'| — about 1e-10 here — far below
        // the 1e-6 pass mark; forward differences at 1e-5 have error ≈ eps·|L''|/2 ≈ 1e-6..1e-5.
        let central = q("backprop.gradcheck_rel_error", &[]);
        assert!(central < 1e-8, "{central}");
        let forward = q("backprop.gradcheck_rel_error", &[("difference", "forward")]);
        assert!(forward > 1e-7 && forward < 1e-3, "{forward}");
        // Balancing truncation (eps² or eps) against rounding (u/eps) with u = 2.2e-16 puts the optimum near
        // u^(1/3) ≈ 6e-6 for central and u^(1/2) ≈ 1.5e-8 for forward differences.
        let best_c = q("backprop.gradcheck_best_eps", &[]);
        assert!((1e-7..=1e-4).contains(&best_c), "{best_c}");
        let best_f = q("backprop.gradcheck_best_eps", &[("difference", "forward")]);
        assert!((1e-10..=1e-6).contains(&best_f), "{best_f}");
    }

    #[test]
    fn relu_kink_breaks_the_check_and_moving_away_fixes_it() {
        // With Z1[0,0] = eps/2 the central difference of b1[0] straddles the kink: the numerical slope of the
        // ReLU there is about 3/4 instead of 1, an O(1) error in that entry, hence ≫ 1e-6 overall.
        let p = kink_problem(7, 0.5e-3);
        let z = forward_backward(&p).unwrap().z1;
        assert!((z.get2(0, 0) - 0.5e-3).abs() < 1e-15);
        let kink = q("backprop.relu_kink_fd_error", &[]);
        assert!(kink > 1e-3, "{kink}");
        // Away from the kink only the O(eps²) truncation of the smooth softmax remains.
        let p = kink_problem(7, 0.5);
        let z = forward_backward(&p).unwrap().z1;
        assert!(
            z.data().iter().all(|v| v.abs() > 1e-3),
            "another unit sits near its kink: {z:?}"
        );
        let safe = q("backprop.relu_kink_fd_error_safe", &[]);
        assert!(safe < 1e-6, "{safe}");
    }

    #[test]
    fn max_derivatives() {
        // σ'(x) = σ(x)(1 - σ(x)) peaks at x = 0 (on the grid: 20001 points include 0) with σ(0) = 1/2: 1/4.
        assert!((q("backprop.sigmoid_max_derivative", &[]) - 0.25).abs() < 1e-15);
        // tanh'(x) = 1 - tanh²(x) peaks at x = 0 with value 1.
        assert!((q("backprop.tanh_max_derivative", &[]) - 1.0).abs() < 1e-15);
        // With an even number of points 0 is missed; the nearest grid point is 10/1999 away, so the maximum is
        // 1 - tanh²(10/1999) ≈ 1 - 2.5e-5.
        let v = q("backprop.tanh_max_derivative", &[("points", "2000")]);
        assert!(
            (v - (1.0 - crate::math::tanh(10.0f64 / 1999.0).powi(2))).abs() < 1e-12,
            "{v}"
        );
    }

    #[test]
    fn grad_norm_ratio_vanishes_for_deep_sigmoid_and_matches_autograd() {
        // Each sigmoid layer scales the backward signal by at most σ' ≤ 1/4 times a Glorot weight matrix of
        // spectral size ≈ 2 (a 64×64 Gaussian with variance 1/64 has largest singular value ≈ 2), so through 10
        // layers the first-layer gradient is orders of magnitude smaller than the last.
        let sig = q("backprop.grad_norm_ratio", &[]);
        assert!(sig < 1e-3, "{sig}");
        // ReLU with He initialisation preserves the gradient scale in expectation (He et al. 2015): order 1.
        let relu = q(
            "backprop.grad_norm_ratio",
            &[("activation", "relu"), ("init", "he")],
        );
        assert!((0.1..10.0).contains(&relu), "{relu}");
        // tanh with N(0, 1) weights: the forward activations saturate at ±1 (bounded), while the backward
        // signal is multiplied by a 64×64 matrix of norm ≈ 2·sqrt(64) = 16 times a mean tanh' well above 1/16
        // per layer, so the first layer's gradient is far larger than the last one's (exploding).
        let big = q(
            "backprop.grad_norm_ratio",
            &[("activation", "tanh"), ("init", "normal1")],
        );
        assert!(big > 100.0, "{big}");
        // ReLU with N(0, 1) weights: every gradient is huge (activations grow by ≈ sqrt(64/2) per layer going
        // forward, δ by as much going backward), but in the product dW_l = a_{l-1}ᵀ δ_l the two growths
        // cancel, so the *ratio* stays of order 1 — the ratio alone does not reveal this explosion.
        let relu_n = q(
            "backprop.grad_norm_ratio",
            &[("activation", "relu"), ("init", "normal1")],
        );
        assert!((0.05..20.0).contains(&relu_n), "{relu_n}");
        // Independent check of the sigmoid number: the same network on the autograd tape.
        let (mlp, x, y) = deep_init_setup(10, 64, Activation::Sigmoid, 64, 3, Init::Glorot);
        let mut g = Graph::new();
        let mut h = g.constant(x);
        let mut ws = Vec::new();
        for l in 0..mlp.layers() {
            let w = g.param(mlp.weight(l).clone());
            let b = g.param(Tensor::row(mlp.bias(l)));
            ws.push(w);
            let z = g.matmul(h, w).unwrap();
            let z = g.add(z, b).unwrap();
            h = if l + 1 < mlp.layers() {
                g.sigmoid(z)
            } else {
                z
            };
        }
        let loss = g.cross_entropy(h, &y).unwrap();
        g.backward(loss).unwrap();
        let expected = g.grad(ws[0]).frobenius_norm() / g.grad(ws[ws.len() - 1]).frobenius_norm();
        assert!(
            ((sig - expected) / expected).abs() < 1e-9,
            "{sig} vs {expected}"
        );
    }

    #[test]
    fn moons_training() {
        // Two moons with noise 0.1 are separable by a smooth curve that 16 ReLUs represent; a few hundred
        // full-batch steps get nearly every training point right and drive the loss well below ln 2 ≈ 0.693
        // (the loss of a constant 50/50 prediction).
        let acc = q("backprop.mlp_train_accuracy", &[]);
        assert!(acc > 0.95, "{acc}");
        let loss = q("backprop.mlp_final_loss", &[]);
        assert!(loss > 0.0 && loss < 0.2, "{loss}");
        // Zero steps leave an untrained network: near-chance loss.
        let untrained = q("backprop.mlp_final_loss", &[("steps", "0")]);
        assert!(untrained > 0.3, "{untrained}");
    }

    #[test]
    fn naive_ce_first_failure_sits_at_the_overflow_threshold() {
        // e^M overflows for M > ln(f32::MAX) = 88.72283905206835 and M > ln(f64::MAX) = 709.782712893384
        // (python3 -c "import math, numpy as np; print(math.log(np.finfo(np.float32).max),
        // math.log(np.finfo(np.float64).max))"); the first 0.01-grid point above is 88.73 and 709.79.
        let f32_naive = q("backprop.naive_ce_first_failure", &[]);
        assert!((f32_naive - 88.73).abs() < 1e-9, "{f32_naive}");
        let f64_naive = q("backprop.naive_ce_first_failure", &[("precision", "f64")]);
        assert!((f64_naive - 709.79).abs() < 1e-9, "{f64_naive}");
        // The shifted route's gradient overflows at the same margin (-1/p_y > MAX once p_y < 1/MAX = e^-88.72),
        // but its loss lasts until e^-M rounds to zero: M > 150 ln 2 = 103.97207708399179 in f32.
        let shifted = q("backprop.naive_ce_first_failure", &[("route", "shifted")]);
        assert!((shifted - 88.73).abs() < 0.011, "{shifted}");
        let shifted_loss = q(
            "backprop.naive_ce_first_failure",
            &[("route", "shifted"), ("part", "loss")],
        );
        assert!((shifted_loss - 103.98).abs() < 1e-9, "{shifted_loss}");
        let e = evaluate("backprop.naive_ce_first_failure", &[("route", "fused")]).unwrap_err();
        assert!(e.to_string().contains("naive or shifted"), "{e}");
        let e = evaluate("backprop.naive_ce_first_failure", &[("precision", "f16")]).unwrap_err();
        assert!(e.to_string().contains("f32 or f64"), "{e}");
    }

    #[test]
    fn fused_ce_max_error_is_rounding_only() {
        // f32: the inputs and log p carry relative errors of a few 2^-24 ≈ 6e-8; f64: a few 2^-53 ≈ 1.1e-16 (measured 8.9e-16, four ulps of 1).
        let f32_err = q("backprop.fused_ce_max_error", &[]);
        assert!(f32_err > 0.0 && f32_err < 1e-6, "{f32_err}");
        let f64_err = q("backprop.fused_ce_max_error", &[("precision", "f64")]);
        assert!((0.0..4e-15).contains(&f64_err), "{f64_err}");
    }

    #[test]
    fn closed_form_counts() {
        // 784·256 + 256 + 256·10 + 10 = 200704 + 256 + 2560 + 10 = 203530.
        assert!((q("backprop.param_count", &[]) - 203_530.0).abs() < 0.5);
        // 2·64·(784·256 + 256·10) = 128·203264 = 26017792.
        assert!((q("backprop.forward_flops", &[]) - 26_017_792.0).abs() < 0.5);
        // 64·(784 + 2·256 + 10)·4 = 64·1306·4 = 334336 bytes.
        assert!((q("backprop.activation_memory_bytes", &[]) - 334_336.0).abs() < 0.5);
    }

    #[test]
    fn lora_skips_the_weight_gradient_products() {
        // python: L, D, r = 32, 4096, 16; f = L*(2*D*D + 4*D*r); b = (L-1)*(2*D*D + 2*D*r) + L*6*D*r;
        // (f + b)/f = 1.976623; a frozen stack (r = 0) gives 1 + 31/32 = 1.96875, against 3 − 1/32 for
        // full fine-tuning (backward 2 − 1/L, the deep-stack count above).
        let lora = q("backprop.lora_step_ratio", &[]);
        assert!((lora - 1.976_623).abs() < 1e-6, "{lora}");
        assert!(
            (q("backprop.lora_step_ratio", &[("rank", "0")]) - (1.0 + 31.0 / 32.0)).abs() < 1e-12
        );
        assert_eq!(q("backprop.elementwise_traffic_ratio", &[]), 1.5);
        assert_eq!(q("backprop.full_step_ratio", &[]), 3.0 - 1.0 / 32.0);
        // scipy: brentq(lambda z: norm.cdf(z) + z * norm.pdf(z), -2, -0.1) = -0.751791524693564.
        assert!((q("backprop.gelu_derivative_root", &[]) + 0.751_791_524_693_564).abs() < 1e-9);
    }
}

//! Quantities of lesson 03 (normalization); names start with `norm.`.

use crate::error::QuantityError;
use crate::lessons::norm::bn_gap::{recalibration_error, train_eval_gap, GapConfig, Recalibration};
use crate::lessons::norm::depth::{depth_profile, stream_variance_slope, DepthConfig, Placement};
use crate::lessons::norm::equilibrium::{relative_step, simulate, EquilibriumConfig, Optimizer};
use crate::stats::power_law_fit;
use crate::lessons::norm::{
    self, backward, batch_norm_train, layer_norm, rms_norm, RmsEps, MomentumConvention,
    NormKind, RunningStats, RunningVariance,
};
use crate::quantities::{Args, QuantitySpec};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Arguments of the depth experiment.
const DEPTH_ARGS: &[(&str, &str)] = &[
    ("norm", "layernorm"),
    ("placement", "pre"),
    ("depth", "32"),
    ("width", "32"),
    ("batch", "32"),
    ("gain", "1"),
    ("seed", "1"),
];

/// Arguments of the BatchNorm gap simulation.
const GAP_ARGS: &[(&str, &str)] = &[
    ("batch", "16"),
    ("convention", "pytorch"),
    ("momentum", "0.1"),
    ("variance", "unbiased"),
    ("warmup", "200"),
    ("trials", "200"),
    ("seed", "5"),
];

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "norm.bn_batch1_spread",
        description: "max − min over `trials` random single-example batches (D = 4, inputs N(0, 3²)) of BatchNorm's training-mode output for feature 0 with γ = 1.5, β = 0.2: zero, because x − μ = 0 for a batch of one",
        args: &[("trials", "100"), ("seed", "1")],
        eval: |a| {
            let mut rng = Rng::new(a.seed("seed")?);
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for _ in 0..a.usize_in("trials", 1, 100_000)? {
                let x = Tensor::randn(&[1, 4], 3.0, &mut rng);
                let f =
                    batch_norm_train(&x, &[1.5; 4], &[0.2; 4], 1e-5).map_err(|e| a.failed(e))?;
                lo = lo.min(f.y.get2(0, 0));
                hi = hi.max(f.y.get2(0, 0));
            }
            Ok(hi - lo)
        },
    },
    QuantitySpec {
        name: "norm.cross_example_grad",
        description: "∂y[0,0]/∂x[1,0] (how example 1's input moves example 0's output) from the engine's backward pass of a BatchNorm or LayerNorm (kind) over a random batch×4 input, γ = 1",
        args: &[("kind", "batchnorm"), ("batch", "4"), ("seed", "1")],
        eval: |a| {
            let kind = kind(a, "kind")?;
            let (x, dy) = coupling_batch(a)?;
            let ones = [1.0; 4];
            let f = match kind {
                NormKind::Batch => batch_norm_train(&x, &ones, &[0.0; 4], 1e-5),
                NormKind::Layer => layer_norm(&x, &ones, &[0.0; 4], 1e-5),
                NormKind::Rms => rms_norm(&x, &ones, 1e-5, RmsEps::Inside),
            }
            .map_err(|e| a.failed(e))?;
            let g = backward(&f, &ones, &dy, false).map_err(|e| a.failed(e))?;
            Ok(g.dx.get2(1, 0))
        },
    },
    QuantitySpec {
        name: "norm.cross_example_grad_formula",
        description: "the same derivative from the closed form −(γ s/B)(1 + x̂₀ x̂₁) for BatchNorm, on the same batch",
        args: &[("batch", "4"), ("seed", "1")],
        eval: |a| {
            let (x, _) = coupling_batch(a)?;
            let f = batch_norm_train(&x, &[1.0; 4], &[0.0; 4], 1e-5).map_err(|e| a.failed(e))?;
            let b = x.rows() as f64;
            Ok(-(f.inv_std[0] / b) * (1.0 + f.x_hat.get2(0, 0) * f.x_hat.get2(1, 0)))
        },
    },
    QuantitySpec {
        name: "norm.bn_gap",
        description: "BatchNorm train/eval gap: mean squared difference between training-mode and evaluation-mode outputs of the same inputs (one N(3, 2²) feature), after `warmup` batches train the running statistics; averaged over `trials` batches",
        args: GAP_ARGS,
        eval: |a| Ok(gap(a)?.gap),
    },
    QuantitySpec {
        name: "norm.bn_gap_times_b",
        description: "B × the train/eval gap (roughly constant if the gap falls like 1/B)",
        args: GAP_ARGS,
        eval: |a| Ok(gap(a)?.gap * a.usize_in("batch", 2, 4096)? as f64),
    },
    QuantitySpec {
        name: "norm.bn_gap_slope",
        description: "least-squares slope of ln(gap) against ln(B) over B = 4, 8, ..., 256 (PyTorch defaults)",
        args: &[("seed", "5")],
        eval: |a| {
            let seed = a.seed("seed")?;
            let mut pts = Vec::new();
            for b in [4usize, 8, 16, 32, 64, 128, 256] {
                let r = train_eval_gap(&GapConfig::pytorch(b, seed)).map_err(|e| a.failed(e))?;
                pts.push((b as f64, r.gap));
            }
            Ok(power_law_fit(&pts).0)
        },
    },
    QuantitySpec {
        name: "norm.batch_mean_var",
        description: "measured variance of the batch mean in units of σ² (over `trials` batches of one N(3, 2²) feature); the theory is 1/B",
        args: GAP_ARGS,
        eval: |a| Ok(gap(a)?.batch_mean_var),
    },
    QuantitySpec {
        name: "norm.batch_var_ratio",
        description: "measured E[σ²_B]/σ² of the biased batch variance; the theory is (B − 1)/B",
        args: GAP_ARGS,
        eval: |a| Ok(gap(a)?.batch_var_ratio),
    },
    QuantitySpec {
        name: "norm.running_mean_after",
        description: "BatchNorm running mean after `steps` training batches whose mean is exactly 1, from the initial 0, with the engine's running-statistics update (convention pytorch: keep 1 − m; keras: keep m)",
        args: &[("steps", "10"), ("momentum", "0.1"), ("convention", "pytorch")],
        eval: |a| {
            let conv = convention(a)?;
            let m = a.f64_in("momentum", 0.0, 1.0)?;
            let steps = a.usize_in("steps", 0, 1_000_000)?;
            let mut r = RunningStats::new(1);
            // A batch of two values 1 ± 1 has mean exactly 1.
            let x = Tensor::new(&[2, 1], vec![0.0, 2.0]).map_err(|e| a.failed(e))?;
            let f = batch_norm_train(&x, &[1.0], &[0.0], 1e-5).map_err(|e| a.failed(e))?;
            for _ in 0..steps {
                r.update(&f, m, conv, RunningVariance::Unbiased)
                    .map_err(|e| a.failed(e))?;
            }
            Ok(r.mean[0])
        },
    },
    QuantitySpec {
        name: "norm.padding_shift",
        description: "mean |Δy| over the real rows of a BatchNorm'd batch (B rows, 8 features of N(1, 1)) when a fraction `pad` of extra all-zero padding rows joins the batch, against the real rows alone",
        args: &[("batch", "32"), ("pad", "0.5"), ("seed", "2")],
        eval: |a| padding_shift(a),
    },
    QuantitySpec {
        name: "norm.recentre_change",
        description: "max |N(x + c·1) − N(x)| over a random 8×16 input for N = layernorm or rmsnorm (γ = 1, β = 0, ε = 0): LayerNorm is invariant to adding a constant to every feature, RMSNorm is not",
        args: &[("kind", "layernorm"), ("shift", "1"), ("seed", "3")],
        eval: recentre_change,
    },
    QuantitySpec {
        name: "norm.rescale_change",
        description: "max |N(αx) − N(x)| over a random 8×16 input (γ = 1, β = 0, ε = 0) for N = layernorm or rmsnorm",
        args: &[("kind", "rmsnorm"), ("scale", "10"), ("seed", "3")],
        eval: recentre_change,
    },
    QuantitySpec {
        name: "norm.weight_scale_grad_ratio",
        description: "‖dL/dW‖ at weights αW over ‖dL/dW‖ at W for y = N(xW) with a fixed linear loss (8×16 input, 16×16 W, N = rmsnorm or layernorm, ε = 0): 1/α by re-scaling invariance",
        args: &[("kind", "rmsnorm"), ("scale", "4"), ("seed", "3")],
        eval: |a| {
            let kind = kind(a, "kind")?;
            let s = a.f64_in("scale", 1e-3, 1e3)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let x = Tensor::randn(&[8, 16], 1.0, &mut rng);
            let w = Tensor::randn(&[16, 16], 0.25, &mut rng);
            let dy = Tensor::randn(&[8, 16], 1.0, &mut rng);
            let grad = |w: &Tensor| -> Result<f64, QuantityError> {
                let z = x.matmul(w).map_err(|e| a.failed(e))?;
                let f = plain_forward(kind, &z).map_err(|e| a.failed(e))?;
                let g = backward(&f, &[1.0; 16], &dy, false).map_err(|e| a.failed(e))?;
                Ok(x.matmul_tn(&g.dx)
                    .map_err(|e| a.failed(e))?
                    .frobenius_norm())
            };
            Ok(grad(&w.map(|v| v * s))? / grad(&w)?)
        },
    },
    QuantitySpec {
        name: "norm.eps_placement_gap",
        description: "max relative difference between RMSNorm with ε inside and outside the square root for a row whose RMS is `rms` (16 features)",
        args: &[("rms", "1"), ("eps", "1e-6"), ("seed", "3")],
        eval: |a| {
            let rms = a.f64_in("rms", 1e-12, 1e6)?;
            let eps = a.f64_in("eps", 0.0, 1.0)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let raw = Tensor::randn(&[1, 16], 1.0, &mut rng);
            let cur = (raw.data().iter().map(|v| v * v).sum::<f64>() / 16.0).sqrt();
            let x = raw.map(|v| v * rms / cur);
            let ones = [1.0; 16];
            let i = rms_norm(&x, &ones, eps, RmsEps::Inside).map_err(|e| a.failed(e))?;
            let o = rms_norm(&x, &ones, eps, RmsEps::Outside).map_err(|e| a.failed(e))?;
            Ok(i.y
                .data()
                .iter()
                .zip(o.y.data())
                .map(|(p, q)| ((p - q) / p).abs())
                .fold(0.0, f64::max))
        },
    },
    QuantitySpec {
        name: "norm.param_count",
        description: "parameters of one norm layer over `width` features: 2·width for layernorm/batchnorm, width for rmsnorm",
        args: &[("kind", "layernorm"), ("width", "4096")],
        eval: |a| {
            Ok(norm::param_count(kind(a, "kind")?, a.usize_in("width", 1, 1 << 20)?) as f64)
        },
    },
    QuantitySpec {
        name: "norm.transformer_norm_params",
        description: "parameters of all norms of a pre-norm transformer: (2·layers + 1) norm layers (two per block and a final one)",
        args: &[("kind", "layernorm"), ("width", "4096"), ("layers", "32")],
        eval: |a| {
            let per = norm::param_count(kind(a, "kind")?, a.usize_in("width", 1, 1 << 20)?);
            Ok(((2 * a.usize_in("layers", 1, 10_000)? + 1) * per) as f64)
        },
    },
    QuantitySpec {
        name: "norm.forward_flops_per_row",
        description: "forward FLOPs of one norm over one row of `width` features by the engine's count (7·width LayerNorm, 4·width RMSNorm)",
        args: &[("kind", "layernorm"), ("width", "4096")],
        eval: |a| Ok(norm::forward_flops_per_row(
            kind(a, "kind")?,
            a.usize_in("width", 1, 1 << 20)?,
        ) as f64),
    },
    QuantitySpec {
        name: "norm.rms_flop_saving",
        description: "fraction of a LayerNorm's forward FLOPs that RMSNorm saves, 1 − 4/7",
        args: &[("width", "4096")],
        eval: |a| {
            let d = a.usize_in("width", 1, 1 << 20)?;
            let ln = norm::forward_flops_per_row(NormKind::Layer, d) as f64;
            let rms = norm::forward_flops_per_row(NormKind::Rms, d) as f64;
            Ok(1.0 - rms / ln)
        },
    },
    QuantitySpec {
        name: "norm.depth_act_std",
        description: "standard deviation of the residual stream after block `layer` of the deep residual MLP (norm = none, batchnorm, layernorm, rmsnorm; placement = pre or post)",
        args: &[
            ("norm", "layernorm"),
            ("placement", "pre"),
            ("depth", "32"),
            ("layer", "32"),
            ("width", "32"),
            ("batch", "32"),
            ("gain", "1"),
            ("seed", "1"),
        ],
        eval: |a| {
            let cfg = depth_config(a)?;
            let layer = a.usize_in("layer", 0, cfg.depth)?;
            Ok(depth_profile(&cfg).act_std[layer])
        },
    },
    QuantitySpec {
        name: "norm.depth_grad_ratio",
        description: "weight-gradient norm of the first block over that of the last block of the deep residual MLP",
        args: DEPTH_ARGS,
        eval: |a| {
            let p = depth_profile(&depth_config(a)?);
            Ok(p.grad_norm[0] / p.grad_norm[p.grad_norm.len() - 1])
        },
    },
    QuantitySpec {
        name: "norm.depth_last_grad",
        description: "weight-gradient norm of the last block of the deep residual MLP",
        args: DEPTH_ARGS,
        eval: |a| {
            let p = depth_profile(&depth_config(a)?);
            Ok(p.grad_norm[p.grad_norm.len() - 1])
        },
    },
    QuantitySpec {
        name: "norm.depth_grad_sum",
        description: "sum over blocks of the weight-gradient norms ‖g_l‖ of the deep residual MLP: the first-order change of its linear loss per unit step when every block's weights move by a fixed length along their own gradient (a per-block normalised step, like Adam's per-coordinate one), ΔL = −η Σ_l ‖g_l‖",
        args: DEPTH_ARGS,
        eval: |a| Ok(depth_profile(&depth_config(a)?).grad_norm.iter().sum()),
    },
    QuantitySpec {
        name: "norm.depth_var_slope",
        description: "least-squares slope of the stream's variance against the block index over the second half of the blocks, divided by the branch's variance gain² (about 1 when each block adds one unit of variance); averaged over `seeds` networks with seeds seed, seed + 1, …, because one narrow network's slope scatters widely",
        args: &[
            ("norm", "layernorm"),
            ("placement", "pre"),
            ("depth", "32"),
            ("width", "32"),
            ("batch", "32"),
            ("gain", "1"),
            ("seed", "1"),
            ("seeds", "1"),
        ],
        eval: |a| {
            let cfg = depth_config(a)?;
            if cfg.gain <= 0.0 {
                return Err(a.invalid("gain", "positive: the slope is in units of gain²".into()));
            }
            let seeds = a.usize_in("seeds", 1, 64)?;
            // At width 32 each block's realised branch variance, and its chance correlation with the
            // stream, vary from network to network, so one seed's slope can be off by half; the mean over
            // several independent networks is what the derivation's expectation describes.
            let total: f64 = (0..seeds as u64)
                .map(|k| {
                    variance_slope(&DepthConfig {
                        seed: cfg.seed.wrapping_add(k),
                        ..cfg
                    })
                })
                .sum();
            Ok(total / seeds as f64)
        },
    },
    QuantitySpec {
        name: "norm.equilibrium_norm",
        description: "mean ‖w‖ over the second half of `steps` steps of a scale-invariant toy weight vector (gradient: fresh noise projected orthogonally to w, divided by ‖w‖) trained by SGD (momentum = α, decay through the gradient) or AdamW (momentum = β₁, β₂ = 0.999, decoupled decay) with learning rate `lr` and weight decay `wd`",
        args: EQUILIBRIUM_ARGS,
        eval: |a| Ok(simulate(&equilibrium_config(a)?).norm),
    },
    QuantitySpec {
        name: "norm.equilibrium_angle",
        description: "mean angle in radians between consecutive weight vectors over the second half of the same run (the angular update per step)",
        args: EQUILIBRIUM_ARGS,
        eval: |a| Ok(simulate(&equilibrium_config(a)?).angle),
    },
    QuantitySpec {
        name: "norm.equilibrium_norm_formula",
        description: "derived equilibrium norm: (η(C − 1)/(2λ(1 − α)))^(1/4) for SGD, √(ηC/(2λ)) for AdamW",
        args: EQUILIBRIUM_ARGS,
        eval: |a| Ok(equilibrium_config(a)?.predicted_norm()),
    },
    QuantitySpec {
        name: "norm.equilibrium_angle_formula",
        description: "derived equilibrium angular update per step: √(2ηλ/(1 + α)) for SGD (Wan et al.), √(2ηλ(1 − β₁)/(1 + β₁)) for AdamW (Kosson et al.)",
        args: EQUILIBRIUM_ARGS,
        eval: |a| Ok(equilibrium_config(a)?.predicted_angle()),
    },
    QuantitySpec {
        name: "norm.relative_step_ratio",
        description: "relative step ‖Δw‖/‖w‖ of SGD or of Adam's first step for the scale-invariant toy gradient at ‖w‖ = scale, divided by the same at ‖w‖ = 1 (1/scale² for SGD, 1/scale for Adam)",
        args: &[("optimizer", "sgd"), ("scale", "4"), ("seed", "2")],
        eval: |a| {
            let o = optimizer(a)?;
            let r = a.f64_in("scale", 1e-3, 1e3)?;
            let seed = a.seed("seed")?;
            Ok(relative_step(o, 0.01, r, 64, seed) / relative_step(o, 0.01, 1.0, 64, seed))
        },
    },
    QuantitySpec {
        name: "norm.ema_effective_batches",
        description: "number of equally weighted batches whose average has the variance of an exponential moving average with PyTorch momentum m: Var = m/(2 − m) per unit batch variance, so (2 − m)/m batches",
        args: &[("momentum", "0.1")],
        eval: |a| {
            let m = a.f64_in("momentum", 1e-6, 1.0)?;
            Ok((2.0 - m) / m)
        },
    },
    QuantitySpec {
        name: "norm.bn_recalibration_error",
        description: "mean squared error of evaluation-mode BatchNorm against the true normalisation after a feature moved from N(3, 2²) to N(1, 1.5²), with the running statistics left stale, updated by `batches` EMA steps (momentum 0.1), or recomputed as a cumulative average of `batches` batches (momentum=None); averaged over `trials` recalibrations",
        args: &[
            ("method", "cumulative"),
            ("batches", "10"),
            ("batch", "32"),
            ("trials", "200"),
            ("seed", "1"),
        ],
        eval: |a| {
            let method = Recalibration::parse(a.raw("method"))
                .ok_or_else(|| a.invalid("method", "stale, ema or cumulative".into()))?;
            recalibration_error(
                method,
                a.usize_in("batches", 1, 10_000)?,
                a.usize_in("batch", 2, 4096)?,
                a.usize_in("trials", 1, 10_000)?,
                a.seed("seed")?,
            )
            .map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "norm.model_params",
        description: "total parameters of a GPT-2-shaped (learned positions, LayerNorm with bias, biased projections, tied embeddings, 4d MLP) or LLaMA-shaped (no biases, RMSNorm, gated MLP of width ffn, untied output head) pre-norm transformer",
        args: MODEL_ARGS,
        eval: |a| Ok(model_shape(a)?.params()),
    },
    QuantitySpec {
        name: "norm.model_norm_share",
        description: "fraction of the same model's parameters that sit in its 2·layers + 1 norm layers",
        args: MODEL_ARGS,
        eval: |a| {
            let m = model_shape(a)?;
            Ok(m.norm_params() / m.params())
        },
    },
    QuantitySpec {
        name: "norm.arithmetic_intensity",
        description: "forward FLOPs per byte of one norm over a row: the engine's FLOP count (7d LayerNorm, 4d RMSNorm) over reading and writing d values of `bytes` bytes each",
        args: &[("kind", "layernorm"), ("width", "4096"), ("bytes", "2")],
        eval: |a| {
            let d = a.usize_in("width", 1, 1 << 20)?;
            let bytes = a.f64_in("bytes", 0.5, 8.0)?;
            Ok(norm::forward_flops_per_row(kind(a, "kind")?, d) as f64 / (2.0 * d as f64 * bytes))
        },
    },
    QuantitySpec {
        name: "norm.ridge_point",
        description: "an accelerator's ridge point in FLOPs per byte: peak TFLOP/s over memory bandwidth in TB/s (defaults: H100 SXM, 989 TFLOP/s dense bf16, 3.35 TB/s HBM3)",
        args: &[("peak_tflops", "989"), ("bandwidth_tbs", "3.35")],
        eval: |a| Ok(a.f64_in("peak_tflops", 1e-3, 1e6)? / a.f64_in("bandwidth_tbs", 1e-3, 1e3)?),
    },
    QuantitySpec {
        name: "norm.roofline_time_share",
        description: "share of a transformer block's forward time spent in its two norms under a roofline model: matrix products (2 FLOPs per weight per token, attention scores ignored) at peak compute, unfused norms reading and writing the row once at peak bandwidth; `ridge` is peak FLOP/s over bytes/s",
        args: &[
            ("arch", "gpt2"),
            ("width", "768"),
            ("ffn", "3072"),
            ("ridge", "295"),
            ("bytes", "2"),
        ],
        eval: |a| {
            let m = ModelShape {
                arch: arch(a)?,
                width: a.usize_in("width", 1, 1 << 20)? as f64,
                layers: 1.0,
                vocab: 0.0,
                ffn: a.usize_in("ffn", 1, 1 << 22)? as f64,
                ctx: 0.0,
            };
            let ridge = a.f64_in("ridge", 1.0, 1e5)?;
            let bytes = a.f64_in("bytes", 0.5, 8.0)?;
            // Time in units of one FLOP at peak: a norm moves 2·d·bytes, which costs ridge FLOP-times per byte.
            let norm_time = 2.0 * 2.0 * m.width * bytes * ridge;
            let matmul_time = 2.0 * m.block_matrix_params();
            Ok(norm_time / (norm_time + matmul_time))
        },
    },
];

/// Arguments of the rotational-equilibrium toy.
const EQUILIBRIUM_ARGS: &[(&str, &str)] = &[
    ("optimizer", "adamw"),
    ("lr", "0.01"),
    ("wd", "0.1"),
    ("momentum", "0.9"),
    ("dim", "64"),
    ("steps", "6000"),
    ("seed", "1"),
];

/// Arguments of a whole model's shape (GPT-2 small by default).
const MODEL_ARGS: &[(&str, &str)] = &[
    ("arch", "gpt2"),
    ("width", "768"),
    ("layers", "12"),
    ("vocab", "50257"),
    ("ffn", "3072"),
    ("ctx", "1024"),
];

fn optimizer(a: &Args) -> Result<Optimizer, QuantityError> {
    Optimizer::parse(a.raw("optimizer"))
        .ok_or_else(|| a.invalid("optimizer", "sgd or adamw".into()))
}

fn equilibrium_config(a: &Args) -> Result<EquilibriumConfig, QuantityError> {
    let wd = a.f64_in("wd", 0.0, 10.0)?;
    if wd <= 0.0 {
        return Err(a.invalid(
            "wd",
            "positive: without decay there is no equilibrium".into(),
        ));
    }
    Ok(EquilibriumConfig {
        optimizer: optimizer(a)?,
        lr: a.f64_in("lr", 1e-6, 10.0)?,
        wd,
        momentum: a.f64_in("momentum", 0.0, 0.999)?,
        dim: a.usize_in("dim", 2, 4096)?,
        steps: a.usize_in("steps", 2, 100_000)?,
        seed: a.seed("seed")?,
    })
}

/// The two transformer families whose parameters the lesson counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    /// GPT-2 (Radford et al. 2019): LayerNorm with β, biases everywhere, learned positions, tied embeddings.
    Gpt2,
    /// LLaMA (Touvron et al. 2023): RMSNorm, no biases, rotary positions, SwiGLU MLP, untied head.
    Llama,
}

fn arch(a: &Args) -> Result<Arch, QuantityError> {
    match a.raw("arch").trim() {
        "gpt2" => Ok(Arch::Gpt2),
        "llama" => Ok(Arch::Llama),
        _ => Err(a.invalid("arch", "gpt2 or llama".into())),
    }
}

/// A pre-norm transformer's shape; counts are `f64` because they multiply into the billions.
struct ModelShape {
    arch: Arch,
    width: f64,
    layers: f64,
    vocab: f64,
    ffn: f64,
    ctx: f64,
}

impl ModelShape {
    /// Weights and biases of one block's matrix products: attention `4d²` (+ `4d` biases) and the MLP,
    /// `2·d·ffn` (+ `ffn + d`) for GPT-2 or `3·d·ffn` (gate, up, down) for LLaMA.
    fn block_matrix_params(&self) -> f64 {
        let d = self.width;
        match self.arch {
            Arch::Gpt2 => 4.0 * d * d + 4.0 * d + 2.0 * d * self.ffn + self.ffn + d,
            Arch::Llama => 4.0 * d * d + 3.0 * d * self.ffn,
        }
    }

    /// One norm layer: `2d` for LayerNorm, `d` for RMSNorm.
    fn per_norm(&self) -> f64 {
        match self.arch {
            Arch::Gpt2 => 2.0 * self.width,
            Arch::Llama => self.width,
        }
    }

    /// `2·layers + 1` norms.
    fn norm_params(&self) -> f64 {
        (2.0 * self.layers + 1.0) * self.per_norm()
    }

    /// Everything: embeddings (and positions for GPT-2, the separate output head for LLaMA), blocks, norms.
    fn params(&self) -> f64 {
        let d = self.width;
        let embeddings = match self.arch {
            Arch::Gpt2 => self.vocab * d + self.ctx * d,
            Arch::Llama => 2.0 * self.vocab * d,
        };
        embeddings + self.layers * self.block_matrix_params() + self.norm_params()
    }
}

fn model_shape(a: &Args) -> Result<ModelShape, QuantityError> {
    Ok(ModelShape {
        arch: arch(a)?,
        width: a.usize_in("width", 1, 1 << 20)? as f64,
        layers: a.usize_in("layers", 1, 10_000)? as f64,
        vocab: a.usize_in("vocab", 1, 1 << 24)? as f64,
        ffn: a.usize_in("ffn", 1, 1 << 22)? as f64,
        ctx: a.usize_in("ctx", 0, 1 << 24)? as f64,
    })
}

/// Shared by `norm.recentre_change`, `norm.rescale_change`.
fn recentre_change(a: &Args) -> Result<f64, QuantityError> {
    let kind = kind(a, "kind")?;
    let mut rng = Rng::new(a.seed("seed")?);
    let x = Tensor::randn(&[8, 16], 1.0, &mut rng);
    let moved = if a.name() == "norm.recentre_change" {
        let c = a.f64_in("shift", -1e6, 1e6)?;
        x.map(|v| v + c)
    } else {
        let s = a.f64_in("scale", 1e-6, 1e6)?;
        x.map(|v| v * s)
    };
    let y0 = plain_norm(kind, &x).map_err(|e| a.failed(e))?;
    let y1 = plain_norm(kind, &moved).map_err(|e| a.failed(e))?;
    y0.max_abs_diff(&y1).map_err(|e| a.failed(e))
}
/// Least-squares slope of the stream's variance against the block index over the second half of the
/// blocks of one network, in units of the branch variance `gain²`.
fn variance_slope(cfg: &DepthConfig) -> f64 {
    stream_variance_slope(&depth_profile(cfg).act_std) / (cfg.gain * cfg.gain)
}

fn kind(a: &Args, arg: &str) -> Result<NormKind, QuantityError> {
    NormKind::parse(a.raw(arg))
        .ok_or_else(|| a.invalid(arg, "one of batchnorm, layernorm, rmsnorm".into()))
}

fn convention(a: &Args) -> Result<MomentumConvention, QuantityError> {
    MomentumConvention::parse(a.raw("convention"))
        .ok_or_else(|| a.invalid("convention", "pytorch or keras".into()))
}

/// A random `batch × 4` input and the upstream gradient that selects `y[0,0]`.
fn coupling_batch(a: &Args) -> Result<(Tensor, Tensor), QuantityError> {
    let b = a.usize_in("batch", 2, 4096)?;
    let mut rng = Rng::new(a.seed("seed")?);
    let x = Tensor::randn(&[b, 4], 1.0, &mut rng);
    let mut dy = Tensor::zeros(&[b, 4]);
    dy.set2(0, 0, 1.0);
    Ok((x, dy))
}

fn gap(a: &Args) -> Result<crate::lessons::norm::bn_gap::GapResult, QuantityError> {
    let cfg = GapConfig {
        batch: a.usize_in("batch", 2, 4096)?,
        warmup: a.usize_in("warmup", 0, 100_000)?,
        trials: a.usize_in("trials", 1, 100_000)?,
        momentum: a.f64_in("momentum", 0.0, 1.0)?,
        convention: convention(a)?,
        variance: RunningVariance::parse(a.raw("variance"))
            .ok_or_else(|| a.invalid("variance", "unbiased or biased".into()))?,
        ..GapConfig::pytorch(2, a.seed("seed")?)
    };
    train_eval_gap(&cfg).map_err(|e| a.failed(e))
}

/// LayerNorm or RMSNorm with γ = 1, β = 0, ε = 0 (BatchNorm is not a per-row norm and is refused).
fn plain_forward(kind: NormKind, x: &Tensor) -> Result<norm::NormForward, String> {
    let d = x.cols();
    match kind {
        NormKind::Layer => {
            layer_norm(x, &vec![1.0; d], &vec![0.0; d], 0.0).map_err(|e| e.to_string())
        }
        NormKind::Rms => {
            rms_norm(x, &vec![1.0; d], 0.0, RmsEps::Inside).map_err(|e| e.to_string())
        }
        NormKind::Batch => {
            Err("this quantity compares the per-row norms layernorm and rmsnorm".into())
        }
    }
}

fn plain_norm(kind: NormKind, x: &Tensor) -> Result<Tensor, String> {
    plain_forward(kind, x).map(|f| f.y)
}

fn padding_shift(a: &Args) -> Result<f64, QuantityError> {
    let b = a.usize_in("batch", 2, 4096)?;
    let pad = a.f64_in("pad", 0.0, 10.0)?;
    let extra = (pad * b as f64).round() as usize;
    let mut rng = Rng::new(a.seed("seed")?);
    let d = 8;
    let real: Vec<f64> = (0..b * d).map(|_| 1.0 + rng.normal()).collect();
    let mut padded = real.clone();
    padded.extend(std::iter::repeat_n(0.0, extra * d));
    let g = vec![1.0; d];
    let z = vec![0.0; d];
    let x = Tensor::new(&[b, d], real).map_err(|e| a.failed(e))?;
    let xp = Tensor::new(&[b + extra, d], padded).map_err(|e| a.failed(e))?;
    let y = batch_norm_train(&x, &g, &z, 1e-5)
        .map_err(|e| a.failed(e))?
        .y;
    let yp = batch_norm_train(&xp, &g, &z, 1e-5)
        .map_err(|e| a.failed(e))?
        .y;
    let n = (b * d) as f64;
    Ok(y.data()
        .iter()
        .zip(&yp.data()[..b * d])
        .map(|(p, q)| (p - q).abs())
        .sum::<f64>()
        / n)
}

fn depth_config(a: &Args) -> Result<DepthConfig, QuantityError> {
    let norm = match a.raw("norm").trim() {
        "none" => None,
        other => Some(NormKind::parse(other).ok_or_else(|| {
            a.invalid("norm", "one of none, batchnorm, layernorm, rmsnorm".into())
        })?),
    };
    Ok(DepthConfig {
        depth: a.usize_in("depth", 1, 256)?,
        width: a.usize_in("width", 2, 256)?,
        batch: a.usize_in("batch", 2, 512)?,
        norm,
        placement: Placement::parse(a.raw("placement"))
            .ok_or_else(|| a.invalid("placement", "pre or post".into()))?,
        gain: a.f64_in("gain", 0.0, 10.0)?,
        seed: a.seed("seed")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::quantities::evaluate;

    fn q(name: &str, args: &[(&str, &str)]) -> f64 {
        evaluate(name, args).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn closed_forms_match_their_formulas() {
        // 2·4096 (γ and β) and 4096 (γ only).
        assert_eq!(q("norm.param_count", &[]), 8192.0);
        assert_eq!(q("norm.param_count", &[("kind", "rmsnorm")]), 4096.0);
        // (2·32 + 1) · 8192 = 532480.
        assert_eq!(q("norm.transformer_norm_params", &[]), 532_480.0);
        // 1 − 4/7 = 3/7.
        assert!((q("norm.rms_flop_saving", &[]) - 3.0 / 7.0).abs() < 1e-15);
        // PyTorch: 1 − 0.9^10 = 0.6513215599; Keras with m = 0.99: 1 − 0.99^10 = 0.0956179249.
        assert!((q("norm.running_mean_after", &[]) - (1.0 - 0.9f64.powi(10))).abs() < 1e-12);
        let k = q(
            "norm.running_mean_after",
            &[("convention", "keras"), ("momentum", "0.99")],
        );
        assert!((k - (1.0 - 0.99f64.powi(10))).abs() < 1e-12);
    }

    #[test]
    fn invariances_and_coupling_hold() {
        assert_eq!(q("norm.bn_batch1_spread", &[]), 0.0);
        assert!(q("norm.recentre_change", &[]) < 1e-12);
        assert!(q("norm.recentre_change", &[("kind", "rmsnorm")]) > 0.1);
        assert!(q("norm.rescale_change", &[]) < 1e-12);
        // Re-scaling invariance: the weight gradient scales like 1/α.
        assert!((q("norm.weight_scale_grad_ratio", &[]) - 0.25).abs() < 1e-12);
        let bn = q("norm.cross_example_grad", &[]);
        assert!(bn.abs() > 1e-3);
        assert!((bn - q("norm.cross_example_grad_formula", &[])).abs() < 1e-12);
        assert_eq!(q("norm.cross_example_grad", &[("kind", "layernorm")]), 0.0);
        assert!(evaluate("norm.rescale_change", &[("kind", "batchnorm")]).is_err());
    }

    #[test]
    fn pre_norm_variance_grows_by_one_branch_per_block_on_average() {
        // The derivation's Var[x_{l+1}] = Var[x_l] + g² holds in expectation over the weights. One width-32
        // network scatters, so the claim averages 16 networks; the average must sit near 1 and the
        // single-network values must actually differ (otherwise averaging would be pointless).
        let avg = q("norm.depth_var_slope", &[("seeds", "16")]);
        let one = q("norm.depth_var_slope", &[("seed", "2")]);
        let other = q("norm.depth_var_slope", &[("seed", "3")]);
        eprintln!("average {avg}, seed 2 {one}, seed 3 {other}");
        assert!((avg - 1.0).abs() < 0.2, "average slope {avg}");
        assert!((one - other).abs() > 0.01);
        assert!(evaluate("norm.depth_var_slope", &[("gain", "0")]).is_err());
    }

    #[test]
    fn whole_model_counts_match_the_published_totals() {
        // GPT-2 small (python: 50257·768 + 1024·768 + 12·(4·768 + 3·768² + 3·768 + 768² + 768 + 2·768·3072
        // + 3072 + 768) + 2·768) = 124 439 808, the usual "124M"; its 25 LayerNorms hold 38 400.
        assert_eq!(q("norm.model_params", &[]), 124_439_808.0);
        assert!((q("norm.model_norm_share", &[]) - 38_400.0 / 124_439_808.0).abs() < 1e-15);
        // LLaMA-7B: 2·32000·4096 + 32·(4·4096² + 3·4096·11008 + 2·4096) + 4096 = 6 738 415 616.
        let llama = [
            ("arch", "llama"),
            ("width", "4096"),
            ("layers", "32"),
            ("vocab", "32000"),
            ("ffn", "11008"),
        ];
        assert_eq!(q("norm.model_params", &llama), 6_738_415_616.0);
        assert!((q("norm.model_norm_share", &llama) - 266_240.0 / 6_738_415_616.0).abs() < 1e-15);
        // 7d FLOPs over 2·2d bytes = 1.75; 4d over 4d = 1.
        assert!((q("norm.arithmetic_intensity", &[]) - 1.75).abs() < 1e-15);
        // 989/3.35 = 295.22.
        assert!((q("norm.ridge_point", &[]) - 295.223_880_597).abs() < 1e-6);
        assert!((q("norm.arithmetic_intensity", &[("kind", "rmsnorm")]) - 1.0).abs() < 1e-15);
        // Roofline (python): 4·768·2·295 / (that + 2·(4·768² + 4·768 + 2·768·3072 + 3072 + 768)) = 0.113407;
        // LLaMA-7B's block: 0.023326.
        assert!((q("norm.roofline_time_share", &[]) - 0.113_407).abs() < 1e-5);
        let l = q(
            "norm.roofline_time_share",
            &[("arch", "llama"), ("width", "4096"), ("ffn", "11008")],
        );
        assert!((l - 0.023_326).abs() < 1e-5, "{l}");
        assert!(evaluate("norm.model_params", &[("arch", "bert")]).is_err());
    }

    #[test]
    fn equilibrium_quantities_agree_with_their_formulas() {
        let sgd = [("optimizer", "sgd"), ("lr", "0.1"), ("wd", "0.01")];
        let n = q("norm.equilibrium_norm", &sgd) / q("norm.equilibrium_norm_formula", &sgd);
        let t = q("norm.equilibrium_angle", &sgd) / q("norm.equilibrium_angle_formula", &sgd);
        assert!((n - 1.0).abs() < 0.03 && (t - 1.0).abs() < 0.02, "{n} {t}");
        // √(2·0.01·0.1·0.1/1.9) = 0.0102598 (AdamW, β₁ = 0.9).
        assert!((q("norm.equilibrium_angle_formula", &[]) - 0.010_259_8).abs() < 1e-7);
        assert!(evaluate("norm.equilibrium_norm", &[("wd", "0")]).is_err());
        assert!((q("norm.relative_step_ratio", &[]) - 1.0 / 16.0).abs() < 1e-12);
        assert!((q("norm.relative_step_ratio", &[("optimizer", "adamw")]) - 0.25).abs() < 1e-5);
    }

    #[test]
    fn recalibration_removes_the_stale_statistics() {
        // Stale: ((1 − 3)/2)² + (1.5/2 − 1)² = 1.0625 exactly.
        // Σ_k m²(1 − m)^{2k} = m/(2 − m): an EMA with m = 0.1 averages like 19 equal batches.
        assert!((q("norm.ema_effective_batches", &[]) - 19.0).abs() < 1e-12);
        let stale = q("norm.bn_recalibration_error", &[("method", "stale")]);
        assert!((stale - 1.0625).abs() < 1e-12);
        // Ten EMA steps keep 0.9¹⁰ = 0.35 of the stale values; ten cumulative batches of 32 leave only
        // sampling error of order 1.5/320.
        let ema = q("norm.bn_recalibration_error", &[("method", "ema")]);
        let cum = q("norm.bn_recalibration_error", &[]);
        assert!(ema > 0.1 && ema < 0.3, "{ema}");
        assert!(cum < 0.01, "{cum}");
    }

    #[test]
    fn normalised_steps_move_a_post_norm_network_more() {
        // Release run over seeds 1-4 (width 32, batch 32): Σ‖g_l‖ is 26.7 / 41.7 (pre / post) at depth 8,
        // 61.7 / 233 at depth 32 and 150 / 3935 at depth 128. The sum must equal the per-block norms added up.
        let pre = q("norm.depth_grad_sum", &[("depth", "32")]);
        let post = q(
            "norm.depth_grad_sum",
            &[("depth", "32"), ("placement", "post")],
        );
        assert!(post > 2.0 * pre, "pre {pre} post {post}");
        let last = q("norm.depth_last_grad", &[("depth", "8")]);
        assert!(q("norm.depth_grad_sum", &[("depth", "8")]) > last);
    }
}

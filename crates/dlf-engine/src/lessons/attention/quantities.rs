//! Quantities of lesson 04 (attention); names start with `attention.`.

use crate::error::QuantityError;
use crate::lessons::attention::cost;
use crate::lessons::attention::gradient_checks::{finite_difference_error, problem, tape_difference};
use crate::lessons::attention::map::{attention_map, MapConfig, MapMask};
use crate::lessons::attention::saturation::{
    row_stats, score_moments, train_retrieval, RetrievalConfig, RowStats,
};
use crate::lessons::attention::{sdpa, CausalAlign, Mask, MaskFill, SdpaOptions};
use crate::quantities::{one_of, Args, QuantitySpec};

/// Arguments of the score-moment experiment.
const MOMENT_ARGS: &[(&str, &str)] = &[
    ("d_k", "64"),
    ("rho", "0"),
    ("scaled", "0"),
    ("samples", "4000"),
    ("seed", "1"),
];

/// Arguments of the softmax-row experiment.
const ROW_ARGS: &[(&str, &str)] = &[
    ("d_k", "64"),
    ("keys", "16"),
    ("scaled", "1"),
    ("rows", "200"),
    ("seed", "1"),
];

/// Arguments of the retrieval training run.
const TRAIN_ARGS: &[(&str, &str)] = &[
    ("d_k", "64"),
    ("scaled", "1"),
    ("step", "40"),
    ("lr", "1"),
    ("seed", "3"),
];

/// Arguments of the attention-map experiment.
const MAP_ARGS: &[(&str, &str)] = &[
    ("n", "8"),
    ("heads", "2"),
    ("mask", "causal"),
    ("pad", "2"),
    ("sharpness", "1"),
    ("head", "0"),
    ("seed", "1"),
];

fn moments(a: &Args) -> Result<crate::lessons::attention::saturation::Moments, QuantityError> {
    let d = a.usize_in("d_k", 1, 4096)?;
    let scale = if a.flag("scaled")? {
        1.0 / (d as f64).sqrt()
    } else {
        1.0
    };
    Ok(score_moments(
        d,
        a.f64_in("rho", -1.0, 1.0)?,
        scale,
        a.usize_in("samples", 2, 100_000)?,
        a.seed("seed")?,
    ))
}

fn rows(a: &Args) -> Result<RowStats, QuantityError> {
    Ok(row_stats(
        a.usize_in("d_k", 1, 4096)?,
        a.usize_in("keys", 2, 4096)?,
        a.flag("scaled")?,
        a.usize_in("rows", 1, 10_000)?,
        a.seed("seed")?,
    ))
}

fn fill(a: &Args) -> Result<MaskFill, QuantityError> {
    MaskFill::parse(a.raw("fill"))
        .ok_or_else(|| a.invalid("fill", one_of(MaskFill::ALL.map(MaskFill::name))))
}

fn align(a: &Args) -> Result<CausalAlign, QuantityError> {
    CausalAlign::parse(a.raw("align"))
        .ok_or_else(|| a.invalid("align", one_of(CausalAlign::ALL.map(CausalAlign::name))))
}

fn train(a: &Args) -> Result<f64, QuantityError> {
    let mut cfg = RetrievalConfig::lesson(a.usize_in("d_k", 1, 1024)?, a.flag("scaled")?);
    cfg.lr = a.f64_in("lr", 1e-6, 1e3)?;
    cfg.seed = a.seed("seed")?;
    let step = a.usize_in("step", 0, 400)?;
    cfg.steps = step.max(1);
    Ok(train_retrieval(&cfg)[step])
}

fn map_cfg(a: &Args) -> Result<MapConfig, QuantityError> {
    let heads = a.usize_in("heads", 1, 8)?;
    if crate::lessons::attention::map::MODEL_WIDTH % heads != 0 {
        return Err(a.invalid("heads", "1, 2, 4 or 8".into()));
    }
    Ok(MapConfig {
        n: a.usize_in("n", 2, 16)?,
        heads,
        mask: MapMask::parse(a.raw("mask"))
            .ok_or_else(|| a.invalid("mask", "none or causal".into()))?,
        pad: a.usize_in("pad", 0, 15)?,
        sharpness: a.f64_in("sharpness", 0.0, 100.0)?,
        seed: a.seed("seed")?,
    })
}

/// `n` and `d` of the cost quantities.
fn nd(a: &Args) -> Result<(f64, f64), QuantityError> {
    Ok((
        a.f64_in("n", 1.0, 1e8)?,
        a.f64_in("d", 1.0, 1e6)?,
    ))
}

/// The row of a fully masked query, under a fill: `(sum of its weights, max |w − softmax(raw scores)|)`.
fn fully_masked_row(a: &Args) -> Result<(f64, f64), QuantityError> {
    let fill = fill(a)?;
    let [q, k, v, _] = problem(3, 4, 2, a.seed("seed")?);
    // Query 0 of a top-left causal mask sees key 0 only; hiding it too masks the whole row.
    let mut mask = Mask::causal(3, 4, CausalAlign::TopLeft);
    mask.visible[0] = false;
    let opts = SdpaOptions {
        scale: None,
        fill,
        fill_value: a.f64_in("fill_value", -1e300, 0.0)?,
    };
    let f = sdpa(&q, &k, &v, &mask, &opts).map_err(|e| a.failed(e))?;
    let row = f.weights.row_slice(0);
    let raw = crate::lessons::attention::saturation::softmax(f.scores.row_slice(0));
    let diff = row
        .iter()
        .zip(&raw)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    Ok((row.iter().sum(), diff))
}

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "attention.score_var",
        description: "sample variance of s·q·k over `samples` pairs with N(0, 1) components, component pairs correlated by rho; s = 1/√d_k if scaled, else 1",
        args: MOMENT_ARGS,
        eval: |a| Ok(moments(a)?.var),
    },
    QuantitySpec {
        name: "attention.score_mean",
        description: "sample mean of s·q·k under the same setting as attention.score_var",
        args: MOMENT_ARGS,
        eval: |a| Ok(moments(a)?.mean),
    },
    QuantitySpec {
        name: "attention.row_entropy",
        description: "mean normalised entropy H(p)/ln(keys) of softmax rows p = softmax(s·K q), components N(0, 1), s = 1/√d_k if scaled else 1",
        args: ROW_ARGS,
        eval: |a| Ok(rows(a)?.entropy),
    },
    QuantitySpec {
        name: "attention.row_max_weight",
        description: "mean largest weight of the same softmax rows",
        args: ROW_ARGS,
        eval: |a| Ok(rows(a)?.max_weight),
    },
    QuantitySpec {
        name: "attention.jacobian_norm",
        description: "mean Frobenius norm of the softmax Jacobian diag(p) − ppᵀ of the same rows",
        args: ROW_ARGS,
        eval: |a| Ok(rows(a)?.jacobian_norm),
    },
    QuantitySpec {
        name: "attention.saturated_rows",
        description: "fraction of the same softmax rows whose largest weight exceeds 0.99",
        args: ROW_ARGS,
        eval: |a| Ok(rows(a)?.saturated),
    },
    QuantitySpec {
        name: "attention.grad_scores_norm",
        description: "mean ‖∂L/∂z‖ reaching the scores of the same rows, for N(0, 1) values (width 4) and upstream gradient",
        args: ROW_ARGS,
        eval: |a| Ok(rows(a)?.grad_scores_norm),
    },
    QuantitySpec {
        name: "attention.train_loss",
        description: "mean loss ½‖o − v_t‖² of 8 retrieval problems (8 keys, values of width 4) after `step` steps of gradient descent on the queries, with or without the 1/√d_k scale",
        args: TRAIN_ARGS,
        eval: train,
    },
    QuantitySpec {
        name: "attention.tape_diff",
        description: "largest |difference| between the closed-form dQ, dK, dV (and output) and the autograd tape's, for a random t×d query, s×d keys and values, causal (bottom-right) or not",
        args: &[("t", "5"), ("s", "7"), ("d", "4"), ("causal", "1"), ("seed", "1")],
        eval: |a| {
            tape_difference(
                a.usize_in("t", 1, 64)?,
                a.usize_in("s", 1, 64)?,
                a.usize_in("d", 1, 64)?,
                a.flag("causal")?,
                a.seed("seed")?,
            )
            .map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "attention.fd_error",
        description: "relative error of the closed-form gradient in Q, K and V against central differences, causal top-left mask with one fully masked query row, under a mask fill",
        args: &[("fill", "neg-inf"), ("seed", "1")],
        eval: |a| finite_difference_error(fill(a)?, a.seed("seed")?).map_err(|e| a.failed(e)),
    },
    QuantitySpec {
        name: "attention.masked_row_sum",
        description: "sum of the attention weights of a query whose every key is masked, under a mask fill (neg-inf, masked-fill, additive) with constant fill_value",
        args: &[("fill", "neg-inf"), ("fill_value", "-1e9"), ("seed", "1")],
        eval: |a| Ok(fully_masked_row(a)?.0),
    },
    QuantitySpec {
        name: "attention.masked_row_vs_raw",
        description: "max |w_j − softmax(raw scores)_j| over the fully masked row: 0 when the fill is a constant added to the whole row",
        args: &[("fill", "additive"), ("fill_value", "-1e4"), ("seed", "1")],
        eval: |a| Ok(fully_masked_row(a)?.1),
    },
    QuantitySpec {
        name: "attention.causal_visible",
        description: "visible (query, key) pairs of a causal mask with t queries and s keys, aligned top-left or bottom-right",
        args: &[("t", "2"), ("s", "5"), ("align", "top-left")],
        eval: |a| {
            let m = Mask::causal(a.usize_in("t", 1, 4096)?, a.usize_in("s", 1, 4096)?, align(a)?);
            Ok(m.visible_count() as f64)
        },
    },
    QuantitySpec {
        name: "attention.core_flops",
        description: "forward FLOPs of QKᵀ and PV over all heads for n tokens of width d: 4n²d (half if causal)",
        args: &[("n", "4096"), ("d", "4096"), ("causal", "0")],
        eval: |a| {
            let (n, d) = nd(a)?;
            Ok(cost::core_flops(n, d, a.flag("causal")?))
        },
    },
    QuantitySpec {
        name: "attention.projection_flops",
        description: "forward FLOPs of the Q, K, V, O projections for n tokens of width d: 8nd²",
        args: &[("n", "4096"), ("d", "4096")],
        eval: |a| {
            let (n, d) = nd(a)?;
            Ok(cost::projection_flops(n, d))
        },
    },
    QuantitySpec {
        name: "attention.mlp_flops",
        description: "forward FLOPs of a 4d-wide MLP for n tokens of width d: 16nd²",
        args: &[("n", "4096"), ("d", "4096")],
        eval: |a| {
            let (n, d) = nd(a)?;
            Ok(cost::mlp_flops(n, d))
        },
    },
    QuantitySpec {
        name: "attention.core_mlp_ratio",
        description: "quadratic attention FLOPs over MLP FLOPs, n/(4d)",
        args: &[("n", "4096"), ("d", "4096")],
        eval: |a| {
            let (n, d) = nd(a)?;
            Ok(cost::core_to_mlp_ratio(n, d))
        },
    },
    QuantitySpec {
        name: "attention.crossover_n",
        description: "the context length at which the quadratic attention FLOPs equal the MLP's (core_mlp_ratio = 1), found by bisection",
        args: &[("d", "4096")],
        eval: |a| {
            let d = a.f64_in("d", 1.0, 1e6)?;
            let (mut lo, mut hi) = (1.0, 1e9);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if cost::core_to_mlp_ratio(mid, d) < 1.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            Ok(0.5 * (lo + hi))
        },
    },
    QuantitySpec {
        name: "attention.quadratic_share",
        description: "share of one layer's forward FLOPs (projections, QKᵀ, softmax, PV, 4d MLP) in the quadratic part and the softmax",
        args: &[("n", "4096"), ("d", "4096"), ("heads", "32")],
        eval: |a| {
            let (n, d) = nd(a)?;
            Ok(cost::attention_share(n, d, a.f64_in("heads", 1.0, 1e4)?))
        },
    },
    QuantitySpec {
        name: "attention.score_gb",
        description: "GB (1e9 bytes) of one layer's materialised scores: batch·heads·n²·bytes",
        args: &[("batch", "8"), ("heads", "32"), ("n", "4096"), ("bytes", "2")],
        eval: |a| {
            Ok(cost::score_bytes(
                a.f64_in("batch", 1.0, 1e6)?,
                a.f64_in("heads", 1.0, 1e4)?,
                a.f64_in("n", 1.0, 1e8)?,
                a.f64_in("bytes", 0.5, 8.0)?,
            ) / 1e9)
        },
    },
    QuantitySpec {
        name: "attention.softmax_intensity",
        description: "FLOPs per byte of a materialised softmax: 5 FLOPs per score over one read and one write",
        args: &[("bytes", "2")],
        eval: |a| Ok(cost::softmax_intensity(a.f64_in("bytes", 0.5, 8.0)?)),
    },
    QuantitySpec {
        name: "attention.qk_intensity",
        description: "FLOPs per byte of one head's QKᵀ: 2n²d_h over reading Q, K and writing the n² scores",
        args: &[("n", "4096"), ("d_h", "128"), ("bytes", "2")],
        eval: |a| {
            Ok(cost::scores_matmul_intensity(
                a.f64_in("n", 1.0, 1e8)?,
                a.f64_in("d_h", 1.0, 1e5)?,
                a.f64_in("bytes", 0.5, 8.0)?,
            ))
        },
    },
    QuantitySpec {
        name: "attention.h100_ridge",
        description: "FLOPs per byte at which an H100 SXM turns compute-bound: 989e12 / 3.35e12",
        args: &[],
        eval: |_| Ok(cost::h100_ridge()),
    },
    QuantitySpec {
        name: "attention.unfused_softmax_ratio",
        description: "unfused attention on an H100: time the softmax spends moving scores over the time of QKᵀ and PV at peak, bytes·ridge/(2 d_h)",
        args: &[("d_h", "128"), ("bytes", "2")],
        eval: |a| {
            Ok(cost::unfused_softmax_time_ratio(
                a.f64_in("d_h", 1.0, 1e5)?,
                a.f64_in("bytes", 0.5, 8.0)?,
            ))
        },
    },
    QuantitySpec {
        name: "attention.mha_params",
        description: "parameters of multi-head attention of width d with `heads` heads, counted head by head: per head W_q, W_k, W_v blocks of d × d/h (and biases), plus W_o (and its bias)",
        args: &[("d", "512"), ("heads", "8"), ("bias", "1")],
        eval: |a| {
            let d = a.usize_in("d", 1, 1 << 20)?;
            let heads = a.usize_in("heads", 1, 4096)?;
            if d % heads != 0 {
                return Err(a.invalid("heads", format!("a divisor of d = {d}")));
            }
            let bias = a.flag("bias")?;
            let dh = d / heads;
            let per_head = 3 * (d * dh + if bias { dh } else { 0 });
            let total = heads * per_head + d * d + if bias { d } else { 0 };
            debug_assert_eq!(total as f64, cost::mha_params(d as f64, bias));
            Ok(total as f64)
        },
    },
    QuantitySpec {
        name: "attention.map_entropy",
        description: "mean normalised entropy of one head of the attention map of a short random sequence (n tokens, model width 8)",
        args: MAP_ARGS,
        eval: |a| {
            let cfg = map_cfg(a)?;
            let head = a.usize_in("head", 0, 7)?;
            let m = attention_map(&cfg).map_err(|e| a.failed(e))?;
            m.entropy
                .get(head)
                .copied()
                .ok_or_else(|| a.invalid("head", format!("below {} heads", cfg.heads)))
        },
    },
];

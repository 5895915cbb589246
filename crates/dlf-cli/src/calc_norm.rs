//! `dlf calc norm`: one forward (and optionally backward) pass of BatchNorm, LayerNorm or RMSNorm on a
//! matrix, with every statistic, the running statistics and the gradients, so a learner can check a hand
//! computation line by line. The layers are the engine's (`dlf_engine::lessons::norm`); where libraries differ the
//! choice is a command-line option.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};
use dlf_engine::lessons::norm::{
    backward, batch_norm_eval, batch_norm_train, layer_norm, rms_norm, MomentumConvention,
    NormForward, NormKind, RmsEps, RunningStats, RunningVariance,
};
use dlf_engine::tensor::Tensor;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::calc::{matrix, pretty};

/// The conventions of `dlf calc norm`, printed by `--help`.
pub const CONVENTIONS: &str = "\
Reads one JSON object on stdin, runs one normalisation layer forward (and backward if dy is given) and prints
the statistics, the output, the running statistics and the gradients.

Input (matrices are arrays of rows; a row is an example or a token, a column a feature):
  norm          \"batchnorm\" | \"layernorm\" | \"rmsnorm\"
  x             B×D input
  gamma         D gains (default all 1)
  beta          D shifts (default all 0; rmsnorm has none and refuses one)
  eps           default 1e-5 (batchnorm, layernorm: PyTorch's default), 1e-6 (rmsnorm: the LLaMA reference code)
  dy            optional B×D upstream gradient dL/dy
  batchnorm only:
    mode          \"train\" (default: batch statistics) | \"eval\" (running statistics)
    running_mean  D values (default all 0), running_var D values (default all 1), as PyTorch and Keras start
    momentum      default 0.1 with --momentum-convention pytorch, 0.99 with keras
    previous_batches  optional list of earlier training batches (each n×D, any n ≥ 2), run in training mode
                  before x, in order, each updating the running statistics: a multi-step check of the
                  running averages (\"running_history\" lists the statistics after each of them)

Formulas:
  batchnorm  per feature j over the B rows: μ_j = mean_i x_ij, σ²_j = mean_i (x_ij − μ_j)² (biased, as every
             library normalises), x̂ = (x − μ)/√(σ² + ε), y = γ x̂ + β   (Ioffe & Szegedy 2015)
             eval: μ, σ² replaced by running_mean, running_var; the running statistics are not updated
             train: running ← k·running + (1 − k)·batch, k = 1 − momentum (pytorch) or momentum (keras);
             the variance absorbed is B/(B−1)·σ² (unbiased) or σ² (biased)
  layernorm  per row i over the D features, same formulas   (Ba, Kiros & Hinton 2016)
  rmsnorm    per row: r = √(mean x² + ε) (inside) or √(mean x²) + ε (outside); x̂ = x/r; y = γ x̂
             (Zhang & Sennrich 2019)
  backward   g = dy ⊙ γ; over each group (a column for batchnorm, a row for layernorm) with s = 1/√(σ² + ε):
             dx = s·(g − mean(g) − x̂·mean(g ⊙ x̂)); rmsnorm (inside): dx = (1/r)(g − x̂·mean(g ⊙ x̂));
             rmsnorm (outside, q = √(mean x²), r = q + ε): dx = (1/r)(g − x̂·(r/q)·mean(g ⊙ x̂));
             batchnorm eval: dx = g·s; dγ_j = Σ_i dy_ij x̂_ij; dβ_j = Σ_i dy_ij

Where libraries differ (options):
  --momentum-convention pytorch|keras   PyTorch nn.BatchNorm*: r = (1−m)r + m·batch, m = 0.1;
                                        Keras BatchNormalization: r = m·r + (1−m)·batch, m = 0.99
  --running-variance unbiased|biased    PyTorch stores the unbiased B/(B−1)·σ²; Keras 3 the biased σ²
                                        (default: the one that goes with the momentum convention)
  --rms-eps inside|outside              inside: PyTorch nn.RMSNorm, T5 and LLaMA reference code;
                                        outside: the RMSNorm authors' released PyTorch code

Output: {\"topic\", \"norm\", \"conventions\", \"shapes\", \"forward\": {mean, var (rmsnorm: mean_square),
inv_std (rmsnorm: inv_rms), x_hat, y}, \"running_history\": [{mean, var} after each previous batch],
\"running\": {mean, var} (batchnorm, after x in training mode), \"backward\": {dx, dgamma, dbeta} (when dy is
given)}; per-feature statistics for batchnorm, per-row for the others.

Example:
  echo '{\"norm\":\"layernorm\",\"x\":[[1,2,3],[0,0,3]],\"dy\":[[1,0,0],[0,1,0]]}' | dlf calc norm";

/// Options of `dlf calc norm`.
#[derive(Debug, clap::Args)]
pub struct NormArgs {
    /// How BatchNorm's running statistics absorb a batch: pytorch (keep 1 − m) or keras (keep m).
    #[arg(long, value_name = "pytorch|keras", default_value = "pytorch")]
    pub momentum_convention: String,
    /// Which variance BatchNorm's running estimate absorbs: unbiased (PyTorch) or biased (Keras 3).
    /// Defaults to the one that goes with --momentum-convention.
    #[arg(long, value_name = "unbiased|biased")]
    pub running_variance: Option<String>,
    /// Where RMSNorm's ε goes: inside the square root (PyTorch, T5, LLaMA) or outside (the authors' code).
    #[arg(long, value_name = "inside|outside", default_value = "inside")]
    pub rms_eps: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NormInput {
    norm: String,
    x: Vec<Vec<f64>>,
    gamma: Option<Vec<f64>>,
    beta: Option<Vec<f64>>,
    eps: Option<f64>,
    dy: Option<Vec<Vec<f64>>>,
    mode: Option<String>,
    running_mean: Option<Vec<f64>>,
    running_var: Option<Vec<f64>>,
    momentum: Option<f64>,
    previous_batches: Option<Vec<Vec<Vec<f64>>>>,
}

/// Reads a problem from `input` and returns the answer as pretty JSON.
pub fn run(args: &NormArgs, mut input: impl Read) -> Result<String> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .context("could not read stdin")?;
    Ok(pretty(&solve(args, &text)?))
}

fn vector(name: &str, v: Option<Vec<f64>>, d: usize, fill: f64) -> Result<Vec<f64>> {
    match v {
        None => Ok(vec![fill; d]),
        Some(v) if v.len() != d => bail!(
            "{name} has {} entries but x has {d} features (columns)",
            v.len()
        ),
        Some(v) => {
            if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
                bail!("{name} contains a non-finite value {bad}");
            }
            Ok(v)
        }
    }
}

fn rows(t: &Tensor) -> Value {
    Value::Array(
        (0..t.rows())
            .map(|r| json!(t.row_slice(r)))
            .collect::<Vec<_>>(),
    )
}

/// Solves one problem given as JSON text.
pub fn solve(args: &NormArgs, text: &str) -> Result<Value> {
    let raw: NormInput = serde_json::from_str(text).map_err(|e| {
        anyhow!(
            "the problem is not valid: {e} (see `dlf calc norm --help` for the expected fields)"
        )
    })?;
    let kind = NormKind::parse(&raw.norm).ok_or_else(|| {
        anyhow!(
            "unknown norm {:?}: use \"batchnorm\", \"layernorm\" or \"rmsnorm\"",
            raw.norm
        )
    })?;
    let convention = MomentumConvention::parse(&args.momentum_convention).ok_or_else(|| {
        anyhow!(
            "unknown --momentum-convention {:?}: use pytorch or keras",
            args.momentum_convention
        )
    })?;
    let variance = match &args.running_variance {
        Some(s) => RunningVariance::parse(s)
            .ok_or_else(|| anyhow!("unknown --running-variance {s:?}: use unbiased or biased"))?,
        None => match convention {
            MomentumConvention::PyTorch => RunningVariance::Unbiased,
            MomentumConvention::Keras => RunningVariance::Biased,
        },
    };
    let placement = RmsEps::parse(&args.rms_eps).ok_or_else(|| {
        anyhow!(
            "unknown --rms-eps {:?}: use inside or outside",
            args.rms_eps
        )
    })?;

    let x = matrix("x", &raw.x)?;
    let d = x.cols();
    let gamma = vector("gamma", raw.gamma, d, 1.0)?;
    if kind == NormKind::Rms && raw.beta.is_some() {
        bail!("rmsnorm has no beta (no shift): remove the \"beta\" field");
    }
    let beta = vector("beta", raw.beta, d, 0.0)?;
    let eps = raw
        .eps
        .unwrap_or(if kind == NormKind::Rms { 1e-6 } else { 1e-5 });
    if !(eps.is_finite() && eps >= 0.0) {
        bail!("eps must be a finite number ≥ 0, got {eps}");
    }
    if kind != NormKind::Batch {
        for field in [
            ("mode", raw.mode.is_some()),
            ("running_mean", raw.running_mean.is_some()),
            ("running_var", raw.running_var.is_some()),
            ("momentum", raw.momentum.is_some()),
            ("previous_batches", raw.previous_batches.is_some()),
        ] {
            if field.1 {
                bail!(
                    "\"{}\" applies to batchnorm only: {} keeps no running statistics",
                    field.0,
                    kind.name()
                );
            }
        }
    }
    let eval = match raw.mode.as_deref() {
        None | Some("train") => false,
        Some("eval") => true,
        Some(other) => bail!("unknown mode {other:?}: use \"train\" or \"eval\""),
    };
    let mut running = RunningStats {
        mean: vector("running_mean", raw.running_mean, d, 0.0)?,
        var: vector("running_var", raw.running_var, d, 1.0)?,
        steps: 0,
    };
    let momentum = raw
        .momentum
        .unwrap_or_else(|| convention.default_momentum());

    // Earlier training batches update the running statistics in order before x is processed.
    let mut history = Vec::new();
    for (k, rows) in raw.previous_batches.iter().flatten().enumerate() {
        let name = format!("previous_batches[{k}]");
        let batch = matrix(&name, rows)?;
        if batch.cols() != d {
            bail!(
                "{name} has {} features but x has {d}: every batch feeds the same layer",
                batch.cols()
            );
        }
        let f = batch_norm_train(&batch, &gamma, &beta, eps).map_err(|e| anyhow!("{name}: {e}"))?;
        running
            .update(&f, momentum, convention, variance)
            .map_err(|e| anyhow!("{name}: {e}"))?;
        history.push(json!({"mean": running.mean, "var": running.var}));
    }

    let fwd: NormForward = match kind {
        NormKind::Batch if eval => batch_norm_eval(&x, &gamma, &beta, &running, eps),
        NormKind::Batch => batch_norm_train(&x, &gamma, &beta, eps),
        NormKind::Layer => layer_norm(&x, &gamma, &beta, eps),
        NormKind::Rms => rms_norm(&x, &gamma, eps, placement),
    }
    .map_err(|e| anyhow!("{e}"))?;
    if kind == NormKind::Batch && !eval {
        running
            .update(&fwd, momentum, convention, variance)
            .map_err(|e| anyhow!("{e}"))?;
    }

    let mut forward = Map::new();
    if kind == NormKind::Rms {
        forward.insert("mean_square".into(), json!(fwd.var));
        forward.insert("inv_rms".into(), json!(fwd.inv_std));
    } else {
        forward.insert("mean".into(), json!(fwd.mean));
        forward.insert("var".into(), json!(fwd.var));
        forward.insert("inv_std".into(), json!(fwd.inv_std));
    }
    forward.insert("x_hat".into(), rows(&fwd.x_hat));
    forward.insert("y".into(), rows(&fwd.y));

    let mut conventions = Map::new();
    conventions.insert("eps".into(), json!(eps));
    match kind {
        NormKind::Batch => {
            conventions.insert("mode".into(), json!(if eval { "eval" } else { "train" }));
            conventions.insert("momentum_convention".into(), json!(convention.name()));
            conventions.insert("momentum".into(), json!(momentum));
            conventions.insert("running_variance".into(), json!(variance.name()));
        }
        NormKind::Rms => {
            conventions.insert("rms_eps".into(), json!(placement.name()));
        }
        NormKind::Layer => {}
    }

    let mut out = Map::new();
    out.insert("topic".into(), json!("norm"));
    out.insert("norm".into(), json!(kind.name()));
    out.insert("conventions".into(), Value::Object(conventions));
    out.insert("shapes".into(), json!({"x": [x.rows(), d]}));
    out.insert("forward".into(), Value::Object(forward));
    if kind == NormKind::Batch {
        if !history.is_empty() {
            out.insert("running_history".into(), Value::Array(history));
        }
        out.insert(
            "running".into(),
            json!({"mean": running.mean, "var": running.var}),
        );
    }
    if let Some(dy) = raw.dy {
        let dy = matrix("dy", &dy)?;
        if dy.shape() != x.shape() {
            bail!(
                "dy is {}×{} but x is {}×{}: the upstream gradient has the output's shape",
                dy.rows(),
                dy.cols(),
                x.rows(),
                d
            );
        }
        let g = backward(&fwd, &gamma, &dy, eval).map_err(|e| anyhow!("{e}"))?;
        let mut b = Map::new();
        b.insert("dx".into(), rows(&g.dx));
        b.insert("dgamma".into(), json!(g.dgamma));
        if kind != NormKind::Rms {
            b.insert("dbeta".into(), json!(g.dbeta));
        }
        out.insert("backward".into(), Value::Object(b));
    }
    Ok(Value::Object(out))
}

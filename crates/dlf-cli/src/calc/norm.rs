//! `dlf calc norm`: one forward (and optionally backward) pass of BatchNorm, LayerNorm or RMSNorm on a
//! matrix, with every statistic, the running statistics and the gradients, so a learner can check a hand
//! computation line by line (lesson 03). The layers are the engine's (`dlf_engine::lessons::norm`); where
//! libraries differ the choice is a command-line option.

use anyhow::{anyhow, bail, Result};
use dlf_engine::lessons::norm::{
    backward, batch_norm_eval, batch_norm_train, layer_norm, rms_norm, RmsEps,
    MomentumConvention, NormForward, NormKind, RunningStats, RunningVariance,
};
use dlf_engine::tensor::Tensor;
use serde::Serialize;

use super::{
    check_finite, given, named, rows, Given, Name, Named, Numbers, Pairs, Quantity, Scalar, Topic,
    Uses,
};

/// `dlf calc norm`.
#[derive(Debug)]
pub struct Norm;

/// Options of `dlf calc norm`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// How BatchNorm's running statistics absorb a batch: pytorch (keep 1 − m; the default) or keras
    /// (keep m).
    #[arg(long, value_parser = named::<MomentumConvention>())]
    pub momentum_convention: Option<MomentumConvention>,
    /// Which variance BatchNorm's running estimate absorbs: unbiased (PyTorch) or biased (Keras 3).
    /// Defaults to the one that goes with --momentum-convention.
    #[arg(long, value_parser = named::<RunningVariance>())]
    pub running_variance: Option<RunningVariance>,
    /// Where RMSNorm's ε goes: inside the square root (PyTorch, T5, LLaMA; the default) or outside (the
    /// authors' code).
    #[arg(long, value_parser = named::<RmsEps>())]
    pub rms_eps: Option<RmsEps>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--momentum-convention", self.momentum_convention.is_some()),
            ("--running-variance", self.running_variance.is_some()),
            ("--rms-eps", self.rms_eps.is_some()),
        ])
    }
}

/// BatchNorm's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics, and the running statistics updated.
    Train,
    /// The running statistics.
    Eval,
}

impl Named for Mode {
    const WHAT: &'static str = "mode";
    const ALL: &'static [Self] = &[Mode::Train, Mode::Eval];
    fn name(self) -> &'static str {
        match self {
            Mode::Train => "train",
            Mode::Eval => "eval",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
}

problem! {
    /// A normalisation problem as the learner writes it.
    pub struct Problem {
        required {
            norm: Name<NormKind>,
            x: Numbers,
        }
        optional {
            gamma: Vec<f64>,
            beta: Vec<f64>,
            eps: f64,
            dy: Numbers,
            mode: Name<Mode>,
            running_mean: Vec<f64>,
            running_var: Vec<f64>,
            momentum: f64,
            previous_batches: Vec<Numbers>,
        }
    }
}

const CONVENTIONS: &str = "\
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
given)}; per-feature statistics for batchnorm, per-row for the others. A field or option the chosen norm
does not use (beta for rmsnorm, running statistics for layernorm) is refused.

Example:
  echo '{\"norm\":\"layernorm\",\"x\":[[1,2,3],[0,0,3]],\"dy\":[[1,0,0],[0,1,0]]}' | dlf calc norm";


/// The optional fields and options each norm uses.
fn fields(kind: NormKind) -> Vec<&'static str> {
    let mut fields = vec!["gamma", "beta", "eps", "dy"];
    match kind {
        NormKind::Batch => fields.extend([
            "mode",
            "running_mean",
            "running_var",
            "momentum",
            "previous_batches",
            "--momentum-convention",
            "--running-variance",
        ]),
        NormKind::Layer => {}
        NormKind::Rms => {
            fields.retain(|&f| f != "beta");
            fields.push("--rms-eps");
        }
    }
    fields
}

/// Everything printed, in this order.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    norm: &'static str,
    conventions: Pairs,
    shapes: Shapes,
    forward: Forward,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    running_history: Vec<Running>,
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<Running>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backward: Option<Backward>,
}

#[derive(Debug, Serialize)]
struct Shapes {
    x: [usize; 2],
}

/// The forward pass: mean, var and inv_std, or RMSNorm's mean_square and inv_rms.
#[derive(Debug, Serialize)]
struct Forward {
    #[serde(skip_serializing_if = "Option::is_none")]
    mean: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    var: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inv_std: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_square: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inv_rms: Option<Vec<f64>>,
    #[serde(serialize_with = "rows")]
    x_hat: Tensor,
    #[serde(serialize_with = "rows")]
    y: Tensor,
}

#[derive(Debug, Serialize)]
struct Running {
    mean: Vec<f64>,
    var: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Backward {
    #[serde(serialize_with = "rows")]
    dx: Tensor,
    dgamma: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dbeta: Option<Vec<f64>>,
}

fn vector(name: &str, v: Option<Vec<f64>>, d: usize, fill: f64) -> Result<Vec<f64>> {
    match v {
        None => Ok(vec![fill; d]),
        Some(v) if v.len() != d => bail!(
            "{name} has {} entries but x has {d} features (columns)",
            v.len()
        ),
        Some(v) => Ok(v),
    }
}

impl Topic for Norm {
    const NAME: &'static str = "norm";
    const ABOUT: &'static str =
        "Forward and backward pass of BatchNorm, LayerNorm or RMSNorm on a matrix (lesson 03)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        let kind = problem.norm.0;
        Uses {
            method: kind.name(),
            fields: fields(kind),
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        let kind = raw.norm.0;
        let convention = options
            .momentum_convention
            .unwrap_or(MomentumConvention::PyTorch);
        let variance = options.running_variance.unwrap_or(match convention {
            MomentumConvention::PyTorch => RunningVariance::Unbiased,
            MomentumConvention::Keras => RunningVariance::Biased,
        });
        let placement = options.rms_eps.unwrap_or(RmsEps::Inside);

        let x = raw.x.matrix("x")?;
        let d = x.cols();
        let gamma = vector("gamma", raw.gamma, d, 1.0)?;
        let beta = vector("beta", raw.beta, d, 0.0)?;
        let eps = raw
            .eps
            .unwrap_or(if kind == NormKind::Rms { 1e-6 } else { 1e-5 });
        if !(eps.is_finite() && eps >= 0.0) {
            bail!("eps must be a finite number ≥ 0, got {eps}");
        }
        let eval = raw.mode.is_some_and(|m| m.0 == Mode::Eval);
        let mut running = RunningStats {
            mean: vector("running_mean", raw.running_mean, d, 0.0)?,
            var: vector("running_var", raw.running_var, d, 1.0)?,
            steps: 0,
        };
        let momentum = raw
            .momentum
            .unwrap_or_else(|| convention.default_momentum());
        let dy = match raw.dy {
            None => None,
            Some(dy) => {
                let dy = dy.matrix("dy")?;
                if dy.shape() != x.shape() {
                    bail!(
                        "dy is {}×{} but x is {}×{}: the upstream gradient has the output's shape",
                        dy.rows(),
                        dy.cols(),
                        x.rows(),
                        d
                    );
                }
                Some(dy)
            }
        };

        // Earlier training batches update the running statistics in order before x is processed.
        let mut history = Vec::new();
        for (k, rows) in raw.previous_batches.into_iter().flatten().enumerate() {
            let name = format!("previous_batches[{k}]");
            let batch = rows.matrix(&name)?;
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
            check_running(&name, &running)?;
            history.push(Running {
                mean: running.mean.clone(),
                var: running.var.clone(),
            });
        }

        let fwd: NormForward = match kind {
            NormKind::Batch if eval => batch_norm_eval(&x, &gamma, &beta, &running, eps),
            NormKind::Batch => batch_norm_train(&x, &gamma, &beta, eps),
            NormKind::Layer => layer_norm(&x, &gamma, &beta, eps),
            NormKind::Rms => rms_norm(&x, &gamma, eps, placement),
        }
        .map_err(|e| anyhow!("{e}"))?;
        check_forward(&fwd, &x, eval)?;
        if kind == NormKind::Batch && !eval {
            running
                .update(&fwd, momentum, convention, variance)
                .map_err(|e| anyhow!("{e}"))?;
            check_running("running", &running)?;
        }
        let backward = match dy {
            None => None,
            Some(dy) => {
                let g = backward(&fwd, &gamma, &dy, eval).map_err(|e| anyhow!("{e}"))?;
                check_finite(
                    Norm::NAME,
                    "backward",
                    &[
                        Quantity::vector("dgamma", &g.dgamma, "Σ dy ⊙ x̂"),
                        Quantity::vector("dbeta", &g.dbeta, "Σ dy"),
                        Quantity::matrix("dx", &g.dx, "s·(g − mean(g) − x̂·mean(g ⊙ x̂))"),
                    ],
                    |_, _| None,
                )?;
                Some(Backward {
                    dx: g.dx,
                    dgamma: g.dgamma,
                    dbeta: (kind != NormKind::Rms).then_some(g.dbeta),
                })
            }
        };

        let mut conventions = vec![("eps", Scalar::Number(eps))];
        match kind {
            NormKind::Batch => conventions.extend([
                ("mode", Scalar::Text(if eval { "eval" } else { "train" })),
                ("momentum_convention", Scalar::Text(convention.name())),
                ("momentum", Scalar::Number(momentum)),
                ("running_variance", Scalar::Text(variance.name())),
            ]),
            NormKind::Rms => conventions.push(("rms_eps", Scalar::Text(placement.name()))),
            NormKind::Layer => {}
        }
        let forward = if kind == NormKind::Rms {
            Forward {
                mean: None,
                var: None,
                inv_std: None,
                mean_square: Some(fwd.var),
                inv_rms: Some(fwd.inv_std),
                x_hat: fwd.x_hat,
                y: fwd.y,
            }
        } else {
            Forward {
                mean: Some(fwd.mean),
                var: Some(fwd.var),
                inv_std: Some(fwd.inv_std),
                mean_square: None,
                inv_rms: None,
                x_hat: fwd.x_hat,
                y: fwd.y,
            }
        };
        Ok(Answer {
            topic: Norm::NAME,
            norm: kind.name(),
            conventions: Pairs(conventions),
            shapes: Shapes { x: [x.rows(), d] },
            forward,
            running_history: history,
            running: (kind == NormKind::Batch).then_some(Running {
                mean: running.mean,
                var: running.var,
            }),
            backward,
        })
    }
}

fn check_running(step: &str, running: &RunningStats) -> Result<()> {
    check_finite(
        Norm::NAME,
        step,
        &[
            Quantity::vector("running_mean", &running.mean, "k·running_mean + (1 − k)·μ"),
            Quantity::vector("running_var", &running.var, "k·running_var + (1 − k)·σ²"),
        ],
        |_, _| None,
    )
}

/// Checks the forward pass in the order it is computed; a zero denominator (a constant group with eps = 0)
/// is named as such.
fn check_forward(f: &NormForward, x: &Tensor, eval: bool) -> Result<()> {
    let rms = f.kind == NormKind::Rms;
    let batch = f.kind == NormKind::Batch;
    let (var, inv) = if rms {
        ("mean_square", "inv_rms")
    } else {
        ("var", "inv_std")
    };
    let inv_formula = match (rms, f.eps_placement) {
        (true, RmsEps::Outside) => "1/(√(mean x²) + ε)",
        (true, RmsEps::Inside) => "1/√(mean x² + ε)",
        (false, _) => "1/√(σ² + ε)",
    };
    let group = |i: usize| -> (String, Vec<f64>) {
        if batch {
            let column = (0..x.rows()).map(|r| x.get2(r, i)).collect();
            (format!("feature (column) {i}"), column)
        } else {
            (format!("row {i}"), x.row_slice(i).to_vec())
        }
    };
    let mut quantities = Vec::new();
    if !rms {
        quantities.push(Quantity::vector("mean", &f.mean, "mean(x) of each group"));
    }
    quantities.extend([
        Quantity::vector(
            var,
            &f.var,
            if rms { "mean(x²) of each row" } else { "mean((x − μ)²) of each group" },
        ),
        Quantity::vector(inv, &f.inv_std, inv_formula),
        Quantity::matrix("x_hat", &f.x_hat, "(x − μ)·s"),
        Quantity::matrix("y", &f.y, "γ·x̂ + β"),
    ]);
    check_finite(Norm::NAME, "forward", &quantities, |q, i| {
        if q.name != inv || f.var[i] != 0.0 || f.eps != 0.0 {
            return None;
        }
        if batch && eval {
            return Some(format!(
                "running_var[{i}] is 0 and eps = 0, so {inv_formula} = 1/0"
            ));
        }
        let (name, values) = group(i);
        let (what, x_hat) = if rms {
            if values.iter().all(|&v| v == 0.0) {
                (format!("{name} is all zeros (mean square 0)"), "0·∞ = NaN")
            } else {
                (
                    format!("{name}'s mean square underflows to 0 (its values are below about 1e-154)"),
                    "±∞",
                )
            }
        } else if values.iter().all(|&v| v == values[0]) {
            (format!("{name} is constant (variance 0)"), "0·∞ = NaN")
        } else {
            (
                format!(
                    "{name}'s variance underflows to 0 (its values differ by less than about 1e-154)"
                ),
                "±∞",
            )
        };
        Some(format!(
            "{what} and eps = 0, so {inv_formula} = 1/0 and x̂ is {x_hat}"
        ))
    })
}

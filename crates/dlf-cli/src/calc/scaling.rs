//! `dlf calc scaling`: the parametric scaling law under a named constant set, the compute-optimal model for a
//! budget, training time on given hardware, and a fit of the law to measured runs (lesson 08). Every number is
//! the engine's (`dlf_engine::lessons::scaling`).

use anyhow::{bail, Result};
use dlf_engine::lessons::scaling::fit::{fit_with, Run, HUBER_DELTA};
use dlf_engine::lessons::scaling::{
    kaplan_loss, training_flops, training_seconds, ConstantSet, Parametric, KAPLAN_N_EXPONENT,
};
use serde::Serialize;

use super::{check_finite, given, Given, Name, Named, Numbers, Quantity, Topic, Uses};

/// `dlf calc scaling`.
#[derive(Debug)]
pub struct Scaling;

/// Options of `dlf calc scaling` (the constant set and conventions are problem fields).
#[derive(Debug, clap::Args)]
pub struct Options {}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[])
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `L(N, D)` under the constant set, and Kaplan's law.
    Loss,
    /// The compute-optimal `N`, `D` for a budget, and the tokens-per-parameter rule of thumb.
    Optimal,
    /// Days on given hardware.
    TrainingTime,
    /// The Huber fit of the law to runs.
    Fit,
}

impl Named for Method {
    const WHAT: &'static str = "method";
    const ALL: &'static [Self] = &[Method::Loss, Method::Optimal, Method::TrainingTime, Method::Fit];
    fn name(self) -> &'static str {
        match self {
            Method::Loss => "loss",
            Method::Optimal => "optimal",
            Method::TrainingTime => "training_time",
            Method::Fit => "fit",
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
    /// A scaling problem as the learner writes it.
    pub struct Problem {
        required {
            method: Name<Method>,
        }
        optional {
            set: Name<ConstantSet>,
            n: f64,
            d: f64,
            flops: f64,
            tokens_per_param: f64,
            gpus: f64,
            peak_tflops: f64,
            mfu: f64,
            runs: Numbers,
            huber_delta: f64,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin and prints every intermediate quantity of a scaling-law computation.

Input:
  method        \"loss\" | \"optimal\" | \"training_time\" | \"fit\"
  set           the constant set of L(N, D) = E + A/N^α + B/D^β (loss, optimal; default chinchilla):
                  chinchilla            Hoffmann et al. 2022, eq. 10 as printed: E 1.69, A 406.4, B 410.7,
                                        α 0.34, β 0.28
                  chinchilla-unrounded  the same fit unrounded, from the paper's TeX source: E 1.6934,
                                        A 406.40, B 410.72, α 0.33917, β 0.28491 (the rounding moves N_opt
                                        by ~20% at Chinchilla's budget)
                  epoch                 Besiroglu et al. 2024's refit of the same data: E 1.8169, A 482.01,
                                        B 2085.43, α 0.34781, β 0.36585
  loss:          n (parameters), d (tokens)
  optimal:       flops (the budget C); tokens_per_param (the rule of thumb's ratio, default 20)
  training_time: n and d (C = 6ND) or flops; gpus; peak_tflops (per accelerator, dense; H100 SXM BF16 989,
                 A100 312); mfu (model FLOPs utilisation, default 1)
  fit:           runs, an array of [N, D, loss] rows (at least 5); huber_delta (default 1e-3, the paper's;
                 a large value gives least squares on log-loss); flops (optional: the fitted law's optimum there)

Formulas:
  C = 6ND                      2N FLOPs per token forward, 4N backward (Kaplan et al. 2020, §2.1)
  N_opt = G (C/6)^(β/(α+β)), D_opt = C/(6 N_opt), G = (αA/(βB))^(1/(α+β))   (minimise L subject to C = 6ND;
                               at the optimum α·A/N^α = β·B/D^β)
  rule of thumb                D = k N with C = 6ND gives N = √(C/(6k)), D = kN (k = 20: Hoffmann et al.'s
                               approaches 1 and 2)
  Kaplan et al. 2020 eq. 1.5   L(N, D) = [(8.8e13/N)^(0.076/0.095) + 5.4e13/D]^0.095 (N without embeddings);
                               their compute-efficient frontier has N ∝ C^0.73
  training time                t = C / (gpus · peak · mfu)
  fit                          minimise Σ Huber_δ(LSE(a − α log N, b − β log D, e) − log L) by BFGS from a grid
                               of 288 starts (Hoffmann et al. 2022, appendix D.2); A = e^a, B = e^b, E = e^e

Output: {\"topic\", \"method\", then the method's quantities}; a field the method does not use is refused.

Examples:
  echo '{\"method\":\"optimal\",\"flops\":5.76e23}' | dlf calc scaling
  echo '{\"method\":\"training_time\",\"n\":70e9,\"d\":1.4e12,\"gpus\":1000,\"peak_tflops\":989,\"mfu\":0.4}' | dlf calc scaling";

/// Everything printed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// `method: loss`.
    Loss(LossAnswer),
    /// `method: optimal`.
    Optimal(OptimalAnswer),
    /// `method: training_time`.
    Time(TimeAnswer),
    /// `method: fit`.
    Fit(FitAnswer),
}

#[derive(Debug, Serialize)]
struct Constants {
    set: &'static str,
    e: f64,
    a: f64,
    b: f64,
    alpha: f64,
    beta: f64,
}

fn constants(set: Option<ConstantSet>, law: &Parametric) -> Constants {
    Constants {
        set: set.map_or("fitted", ConstantSet::name),
        e: law.e,
        a: law.a,
        b: law.b,
        alpha: law.alpha,
        beta: law.beta,
    }
}

/// The answer of `loss`.
#[derive(Debug, Serialize)]
pub struct LossAnswer {
    topic: &'static str,
    method: &'static str,
    constants: Constants,
    n: f64,
    d: f64,
    parameter_term: f64,
    data_term: f64,
    loss: f64,
    kaplan_loss: f64,
    training_flops: f64,
}

/// The optimum of a law at a budget.
#[derive(Debug, Serialize)]
struct Optimum {
    g: f64,
    n_exponent: f64,
    d_exponent: f64,
    n_opt: f64,
    d_opt: f64,
    tokens_per_param: f64,
    loss: f64,
}

fn optimum(law: &Parametric, flops: f64) -> Optimum {
    let opt = law.optimal(flops);
    let a = law.n_exponent();
    Optimum {
        g: law.g(),
        n_exponent: a,
        d_exponent: 1.0 - a,
        n_opt: opt.n,
        d_opt: opt.d,
        tokens_per_param: opt.tokens_per_param(),
        loss: opt.loss,
    }
}

/// The rule of thumb `D = kN`.
#[derive(Debug, Serialize)]
struct RuleOfThumb {
    tokens_per_param: f64,
    n: f64,
    d: f64,
    loss: f64,
}

/// The answer of `optimal`.
#[derive(Debug, Serialize)]
pub struct OptimalAnswer {
    topic: &'static str,
    method: &'static str,
    constants: Constants,
    flops: f64,
    optimum: Optimum,
    rule_of_thumb: RuleOfThumb,
    kaplan_n_exponent: f64,
}

/// The answer of `training_time`.
#[derive(Debug, Serialize)]
pub struct TimeAnswer {
    topic: &'static str,
    method: &'static str,
    flops: f64,
    gpus: f64,
    peak_flops_per_gpu: f64,
    mfu: f64,
    delivered_flops_per_second: f64,
    seconds: f64,
    days: f64,
    gpu_hours: f64,
}

/// The answer of `fit`.
#[derive(Debug, Serialize)]
pub struct FitAnswer {
    topic: &'static str,
    method: &'static str,
    runs: usize,
    huber_delta: f64,
    starts: usize,
    objective: f64,
    constants: Constants,
    #[serde(skip_serializing_if = "Option::is_none")]
    optimum_at_flops: Option<Optimum>,
}

fn positive(name: &str, v: Option<f64>) -> Result<f64> {
    match v {
        None => bail!("this method needs {name}"),
        Some(x) if x.is_finite() && x > 0.0 => Ok(x),
        Some(x) => bail!("{name} must be a finite number > 0, got {x}"),
    }
}

impl Topic for Scaling {
    const NAME: &'static str = "scaling";
    const ABOUT: &'static str =
        "Scaling-law loss, compute-optimal N and D, training time, and the parametric fit (lesson 08)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        let method = problem.method.0;
        Uses {
            method: method.name(),
            fields: match method {
                Method::Loss => vec!["set", "n", "d"],
                Method::Optimal => vec!["set", "flops", "tokens_per_param"],
                Method::TrainingTime => vec!["n", "d", "flops", "gpus", "peak_tflops", "mfu"],
                Method::Fit => vec!["runs", "huber_delta", "flops"],
            },
        }
    }

    fn solve(raw: Problem, _: &Options) -> Result<Answer> {
        let set = raw.set.map_or(ConstantSet::Chinchilla, |s| s.0);
        let law = set.constants();
        let method = raw.method.0;
        let answer = match method {
            Method::Loss => {
                let (n, d) = (positive("n", raw.n)?, positive("d", raw.d)?);
                let parameter_term = law.a * dlf_engine::math::powf(n, -law.alpha);
                let data_term = law.b * dlf_engine::math::powf(d, -law.beta);
                let loss = law.loss(n, d);
                let kaplan = kaplan_loss(n, d);
                let flops = training_flops(n, d);
                check_finite(
                    "scaling",
                    "loss",
                    &[
                        Quantity::scalar("parameter_term", &parameter_term, "A/N^α"),
                        Quantity::scalar("data_term", &data_term, "B/D^β"),
                        Quantity::scalar("loss", &loss, "E + A/N^α + B/D^β"),
                        Quantity::scalar("kaplan_loss", &kaplan, "Kaplan et al. 2020, eq. 1.5"),
                        Quantity::scalar("training_flops", &flops, "6ND"),
                    ],
                    |_, _| None,
                )?;
                Answer::Loss(LossAnswer {
                    topic: "scaling",
                    method: method.name(),
                    constants: constants(Some(set), &law),
                    n,
                    d,
                    parameter_term,
                    data_term,
                    loss,
                    kaplan_loss: kaplan,
                    training_flops: flops,
                })
            }
            Method::Optimal => {
                let flops = positive("flops", raw.flops)?;
                let k = raw.tokens_per_param.unwrap_or(20.0);
                if !(k.is_finite() && k > 0.0) {
                    bail!("tokens_per_param must be a finite number > 0, got {k}");
                }
                let opt = optimum(&law, flops);
                let n = (flops / (6.0 * k)).sqrt();
                let rule = RuleOfThumb {
                    tokens_per_param: k,
                    n,
                    d: k * n,
                    loss: law.loss(n, k * n),
                };
                check_finite(
                    "scaling",
                    "optimal",
                    &[
                        Quantity::scalar("n_opt", &opt.n_opt, "G (C/6)^(β/(α+β))"),
                        Quantity::scalar("d_opt", &opt.d_opt, "C/(6 N_opt)"),
                        Quantity::scalar("loss", &opt.loss, "L(N_opt, D_opt)"),
                        Quantity::scalar("rule_of_thumb.n", &rule.n, "√(C/(6k))"),
                    ],
                    |_, _| None,
                )?;
                Answer::Optimal(OptimalAnswer {
                    topic: "scaling",
                    method: method.name(),
                    constants: constants(Some(set), &law),
                    flops,
                    optimum: opt,
                    rule_of_thumb: rule,
                    kaplan_n_exponent: KAPLAN_N_EXPONENT,
                })
            }
            Method::TrainingTime => {
                let flops = match (raw.flops, raw.n, raw.d) {
                    (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                        bail!("give either flops or n and d, not both")
                    }
                    (Some(c), None, None) => positive("flops", Some(c))?,
                    (None, n, d) => training_flops(positive("n", n)?, positive("d", d)?),
                };
                let gpus = positive("gpus", raw.gpus)?;
                let peak = positive("peak_tflops", raw.peak_tflops)? * 1e12;
                let mfu = raw.mfu.unwrap_or(1.0);
                if !(mfu > 0.0 && mfu <= 1.0) {
                    bail!("mfu is a fraction of peak in (0, 1], got {mfu}");
                }
                let seconds = training_seconds(flops, gpus, peak, mfu);
                Answer::Time(TimeAnswer {
                    topic: "scaling",
                    method: method.name(),
                    flops,
                    gpus,
                    peak_flops_per_gpu: peak,
                    mfu,
                    delivered_flops_per_second: gpus * peak * mfu,
                    seconds,
                    days: seconds / 86_400.0,
                    gpu_hours: seconds * gpus / 3_600.0,
                })
            }
            Method::Fit => {
                let Some(runs) = raw.runs else {
                    bail!("fit needs runs: an array of [N, D, loss] rows")
                };
                let m = runs.matrix("runs")?;
                if m.cols() != 3 {
                    bail!("each run is [N, D, loss]: 3 numbers, got {}", m.cols());
                }
                let runs: Vec<Run> = (0..m.rows())
                    .map(|i| Run {
                        n: m.get2(i, 0),
                        d: m.get2(i, 1),
                        loss: m.get2(i, 2),
                    })
                    .collect();
                if runs.len() < 5 {
                    bail!("fit needs at least 5 runs (the law has 5 constants), got {}", runs.len());
                }
                if let Some(i) = runs.iter().position(|r| !(r.n > 0.0 && r.d > 0.0 && r.loss > 0.0)) {
                    bail!("runs[{i}]: N, D and loss must all be > 0 (the fit works on their logarithms)");
                }
                let delta = raw.huber_delta.unwrap_or(HUBER_DELTA);
                if delta.is_nan() || delta <= 0.0 {
                    bail!("huber_delta must be > 0, got {delta}");
                }
                let Some(f) = fit_with(&runs, delta) else {
                    bail!("the fit found no finite optimum from any start");
                };
                let at = raw.flops.map(|c| positive("flops", Some(c))).transpose()?;
                let values = [f.law.e, f.law.a, f.law.b, f.law.alpha, f.law.beta];
                check_finite(
                    "scaling",
                    "fit",
                    &[Quantity::vector("constants", &values, "the fitted E, A, B, α, β")],
                    |_, _| None,
                )?;
                Answer::Fit(FitAnswer {
                    topic: "scaling",
                    method: method.name(),
                    runs: runs.len(),
                    huber_delta: delta,
                    starts: f.starts,
                    objective: f.objective,
                    constants: constants(None, &f.law),
                    optimum_at_flops: at.map(|c| optimum(&f.law, c)),
                })
            }
        };
        Ok(answer)
    }
}

//! `dlf calc optim`: run an optimizer on given gradients and print the parameters and optimizer state after
//! every step, so a learner can check a hand computation of Adam, AdamW, Lion, LAMB, RMSProp or SGD line by
//! line (lesson 02). The update rules are the engine's (`dlf_engine::lessons::optim`); where libraries differ
//! the choice is a command-line option.

use anyhow::{anyhow, bail, Result};
use dlf_engine::lessons::optim::{
    Config, DecayScaling, EpsPlacement, Kind, MomentumStyle, Optimizer, Schedule,
};
use serde::{Deserialize, Serialize, Serializer};

use super::{
    check_finite, given, named, Given, Groups, Name, Numbers, Pairs, Quantity, Scalar, Shape,
    Topic, Uses,
};

/// `dlf calc optim`.
#[derive(Debug)]
pub struct Optim;

/// Options of `dlf calc optim`; each defaults to PyTorch's convention.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// SGD momentum buffer: `accumulate` (b = μb + g, PyTorch; the default) or `ema` (b = μb + (1−μ)g).
    #[arg(long, value_parser = named::<MomentumStyle>())]
    pub momentum_style: Option<MomentumStyle>,
    /// Where ε sits: `outside` (√v̂ + ε, PyTorch; the default), `inside` (√(v̂ + ε)), `hat` (TensorFlow's
    /// Adam ε̂).
    #[arg(long, value_parser = named::<EpsPlacement>())]
    pub eps_placement: Option<EpsPlacement>,
    /// Decoupled decay of AdamW and Lion multiplied by `lr` (PyTorch; the default) or by the schedule
    /// multiplier only.
    #[arg(long, value_parser = named::<DecayScaling>())]
    pub decay_scaling: Option<DecayScaling>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--momentum-style", self.momentum_style.is_some()),
            ("--eps-placement", self.eps_placement.is_some()),
            ("--decay-scaling", self.decay_scaling.is_some()),
        ])
    }
}

problem! {
    /// An optimizer problem as the learner writes it.
    pub struct Problem {
        required {
            optimizer: Name<Kind>,
            lr: f64,
            /// One array of numbers (one group) or an array of arrays (one group per layer).
            params: Numbers,
            /// One gradient per step, each shaped like `params`.
            grads: Vec<Numbers>,
        }
        optional {
            momentum: f64,
            dampening: f64,
            nesterov: bool,
            alpha: f64,
            beta1: f64,
            beta2: f64,
            eps: f64,
            weight_decay: f64,
            bias_correction: bool,
            schedule: ScheduleInput,
        }
    }
}

/// The learning-rate schedule as the learner writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    #[serde(default)]
    warmup: u64,
    #[serde(default)]
    total: u64,
    #[serde(default)]
    cosine: bool,
    #[serde(default)]
    min_ratio: f64,
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin, runs an optimizer over a sequence of gradients and prints the learning rate,
the parameters and the optimizer state after every step.

Input:
  optimizer     \"sgd\" | \"rmsprop\" | \"adam\" | \"adamw\" | \"lion\" | \"lamb\"
  lr            base learning rate η₀
  params        initial parameters: an array of numbers (one group), or an array of arrays (one group per
                layer; LAMB computes its trust ratio per group)
  grads         one gradient per step, each shaped like params
  optional hyperparameters (PyTorch's defaults when absent):
    momentum 0, dampening 0, nesterov false        (sgd; momentum also for rmsprop)
    alpha 0.99                                     (rmsprop)
    beta1 0.9, beta2 0.999 (lion: 0.99)            (adam, adamw, lamb, lion)
    eps 1e-8 (lamb: 1e-6), weight_decay 0, bias_correction true
  schedule      optional {\"warmup\": W, \"total\": T, \"cosine\": true, \"min_ratio\": m}: lr_t = η₀·s_t with
                s_t = t/W during warm-up, then ½(1+cos(π(t−W)/(T−W))) scaled into [m, 1] (or 1 without cosine)

Update rules (t counts from 1; g is the step's gradient; λ the weight decay):
  sgd      g ← g + λp;  b = g at t = 1, then b = μb + (1−τ)g;  p ← p − lr·b,  or with nesterov p ← p − lr·(g + μb)
           (Polyak 1964; Sutskever et al. 2013 in PyTorch's form)
  rmsprop  g ← g + λp;  v = αv + (1−α)g²;  p ← p − lr·g/(√v + ε);  with momentum b = μb + g/(√v+ε), p ← p − lr·b
           (Tieleman & Hinton 2012)
  adam     g ← g + λp (L2);  m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  m̂ = m/(1−β₁ᵗ);  v̂ = v/(1−β₂ᵗ);
           p ← p − lr·m̂/(√v̂ + ε)   (Kingma & Ba 2015)
  adamw    p ← p − lr·λ·p, then the adam step on the raw g   (Loshchilov & Hutter 2019)
  lion     c = β₁m + (1−β₁)g;  p ← p − lr·(sign(c) + λp);  m = β₂m + (1−β₂)g   (Chen et al. 2023)
  lamb     per group: u = m̂/(√v̂ + ε) + λp;  r = ‖p‖/‖u‖ (1 if either is 0);  p ← p − lr·r·u   (You et al. 2020,
           whose numerator φ(‖p‖) may clip the norm; here φ is the identity)

Where libraries differ (options):
  --momentum-style accumulate   b = μb + g, p ← p − lr·b (PyTorch SGD); while lr is constant this is the same
                                trajectory as Sutskever et al.'s v = μv + lr·g, p ← p − v, with v = lr·b  [default]
  --momentum-style ema          b = μb + (1−μ)g from b = 0 (an exponential moving average, the form of Adam's m;
                                nesterov then uses (1−μ)g + μb)
  --eps-placement outside       √v̂ + ε (PyTorch Adam, AdamW, RMSprop; Kingma & Ba's Algorithm 1)  [default]
  --eps-placement inside        √(v̂ + ε) (TensorFlow's RMSProp puts ε under the root)
  --eps-placement hat           lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε̂): ε added to the uncorrected √v, the form before
                                Kingma & Ba's Section 2.1 that TensorFlow's and Keras's Adam use
  --decay-scaling lr            decoupled decay p ← p − lr_t·λ·p (PyTorch AdamW; Lion's paper)  [default]
  --decay-scaling schedule      p ← p − (lr_t/η₀)·λ·p: only the schedule multiplier, as in Loshchilov & Hutter's
                                Algorithm 2, where λ is not multiplied by the step size α

Output: {\"topic\", \"optimizer\", \"conventions\", \"hyperparameters\", \"steps\": [{\"t\", \"lr\", \"params\",
\"state\": {\"exp_avg\", \"exp_avg_sq\" | \"momentum_buffer\" | \"square_avg\"}, \"trust_ratios\" (lamb)}]}
with params and state shaped like the input params. State names are PyTorch's. Only the hyperparameters and
conventions the optimizer uses are echoed; a hyperparameter or option it does not use is refused.

Example:
  echo '{\"optimizer\":\"adam\",\"lr\":0.1,\"params\":[1.0,-2.0],\"grads\":[[0.5,-1.0],[0.25,0.0]]}' | dlf calc optim";


/// Every optional field and option, in the order messages list and answers echo them.
const FIELDS: [&str; 14] = [
    "lr",
    "momentum",
    "dampening",
    "nesterov",
    "alpha",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "bias_correction",
    "schedule",
    "--momentum-style",
    "--eps-placement",
    "--decay-scaling",
];

/// Whether optimizer `kind` reads `field` (one of [`FIELDS`]).
fn reads(kind: Kind, field: &str) -> bool {
    use Kind::{Adam, AdamW, Lamb, Lion, RmsProp, Sgd};
    match field {
        "momentum" => matches!(kind, Sgd | RmsProp),
        "dampening" | "nesterov" | "--momentum-style" => kind == Sgd,
        "alpha" => kind == RmsProp,
        "beta1" | "beta2" => matches!(kind, Adam | AdamW | Lion | Lamb),
        "eps" | "--eps-placement" => matches!(kind, RmsProp | Adam | AdamW | Lamb),
        "bias_correction" => matches!(kind, Adam | AdamW | Lamb),
        "--decay-scaling" => matches!(kind, AdamW | Lion),
        _ => true,
    }
}

/// The optional fields and options `kind` reads, in [`FIELDS`] order.
fn fields(kind: Kind) -> Vec<&'static str> {
    FIELDS.into_iter().filter(|f| reads(kind, f)).collect()
}

/// Everything printed.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    optimizer: &'static str,
    conventions: Pairs,
    hyperparameters: Pairs,
    steps: Steps,
}

/// The steps, each with the parameters and state shaped like the input parameters.
#[derive(Debug)]
struct Steps {
    groups: Groups,
    list: Vec<Step>,
}

#[derive(Debug)]
struct Step {
    t: u64,
    lr: f64,
    params: Vec<f64>,
    state: Vec<(&'static str, Vec<f64>)>,
    trust_ratios: Option<Vec<f64>>,
}

#[derive(Serialize)]
struct StepView<'a> {
    t: u64,
    lr: f64,
    params: Shaped<'a>,
    state: StateView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trust_ratios: Option<&'a [f64]>,
}

/// A flat vector printed as the input parameters were given: flat, or one array per group.
#[derive(Clone, Copy)]
struct Shaped<'a> {
    values: &'a [f64],
    groups: &'a Groups,
}

struct StateView<'a> {
    state: &'a [(&'static str, Vec<f64>)],
    groups: &'a Groups,
}

impl Serialize for Shaped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if !self.groups.nested {
            return s.collect_seq(self.values);
        }
        let mut rest = self.values;
        s.collect_seq(self.groups.sizes.iter().map(|&n| {
            let (group, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            group
        }))
    }
}

impl Serialize for StateView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.state.iter().map(|(name, values)| {
            (
                name,
                Shaped {
                    values,
                    groups: self.groups,
                },
            )
        }))
    }
}

impl Serialize for Steps {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let groups = &self.groups;
        s.collect_seq(self.list.iter().map(|step| StepView {
            t: step.t,
            lr: step.lr,
            params: Shaped {
                values: &step.params,
                groups,
            },
            state: StateView {
                state: &step.state,
                groups,
            },
            trust_ratios: step.trust_ratios.as_deref(),
        }))
    }
}

impl Topic for Optim {
    const NAME: &'static str = "optim";
    const ABOUT: &'static str = "Parameters and optimizer state after each step of SGD, momentum, RMSProp, Adam, \
                                 AdamW, Lion or LAMB (lesson 02)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        let kind = problem.optimizer.0;
        Uses {
            method: kind.name(),
            fields: fields(kind),
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        let kind = raw.optimizer.0;
        let mut c = Config::new(kind, raw.lr);
        // A value the problem or the command line gives replaces the engine's default of the same name.
        macro_rules! given_or_default {
            ($config:ident, $source:ident: $($field:ident),+) => {
                $(if let Some(v) = $source.$field {
                    $config.$field = v;
                })+
            };
        }
        given_or_default!(c, raw: momentum, dampening, nesterov, alpha, beta1, beta2, eps, weight_decay,
            bias_correction);
        given_or_default!(c, options: momentum_style, eps_placement, decay_scaling);
        // PyTorch refuses the same combinations: Nesterov's look-ahead is defined for undamped momentum only.
        if c.nesterov && (kind != Kind::Sgd || c.momentum <= 0.0 || c.dampening != 0.0) {
            bail!("nesterov needs optimizer \"sgd\", a momentum above 0 and zero dampening (as in PyTorch)");
        }
        let schedule = raw.schedule.map_or(Schedule::CONSTANT, |s| Schedule {
            warmup: s.warmup,
            total: s.total,
            cosine: s.cosine,
            min_ratio: s.min_ratio,
        });
        if !(0.0..=1.0).contains(&schedule.min_ratio) {
            bail!(
                "schedule.min_ratio must be in [0, 1], got {}",
                schedule.min_ratio
            );
        }

        let (mut params, groups) = raw.params.groups("params")?;
        if raw.grads.is_empty() {
            bail!("grads is empty: give one gradient per step");
        }
        let mut opt = Optimizer::new(c, &groups.sizes).map_err(|e| anyhow!("{e}"))?;
        let mut list = Vec::with_capacity(raw.grads.len());
        for (k, g) in raw.grads.into_iter().enumerate() {
            let name = format!("grads[{k}]");
            let (grad, shape) = g.groups(&name)?;
            if shape.sizes != groups.sizes {
                bail!(
                    "{name} has group sizes {:?} but params has {:?}: every gradient must be shaped like params",
                    shape.sizes,
                    groups.sizes
                );
            }
            let t = k as u64 + 1;
            let lr = c.lr * schedule.multiplier(t);
            let before = params.clone();
            let info = opt
                .step(&mut params, &grad, lr)
                .map_err(|e| anyhow!("step {t}: {e}"))?;
            let trust_ratios = (kind == Kind::Lamb).then_some(info.trust_ratios);
            check_step(&opt, t, &groups, &params, trust_ratios.as_deref(), |i| {
                grad[i] + if decays_gradient(kind) { c.weight_decay * before[i] } else { 0.0 }
            })?;
            list.push(Step {
                t,
                lr,
                params: params.clone(),
                state: opt
                    .state()
                    .into_iter()
                    .map(|(name, values)| (name, values.to_vec()))
                    .collect(),
                trust_ratios,
            });
        }
        let conventions = [
            ("momentum_style", c.momentum_style.name()),
            ("eps_placement", c.eps_placement.name()),
            ("decay_scaling", c.decay_scaling.name()),
        ]
        .into_iter()
        .filter(|(key, _)| reads(kind, &format!("--{}", key.replace('_', "-"))))
        .map(|(key, value)| (key, Scalar::Text(value)))
        .collect();
        let hyperparameters = [
            ("lr", Scalar::Number(c.lr)),
            ("momentum", Scalar::Number(c.momentum)),
            ("dampening", Scalar::Number(c.dampening)),
            ("nesterov", Scalar::Flag(c.nesterov)),
            ("alpha", Scalar::Number(c.alpha)),
            ("beta1", Scalar::Number(c.beta1)),
            ("beta2", Scalar::Number(c.beta2)),
            ("eps", Scalar::Number(c.eps)),
            ("weight_decay", Scalar::Number(c.weight_decay)),
            ("bias_correction", Scalar::Flag(c.bias_correction)),
        ]
        .into_iter()
        .filter(|(key, _)| reads(kind, key))
        .collect();
        Ok(Answer {
            topic: Optim::NAME,
            optimizer: kind.name(),
            conventions: Pairs(conventions),
            hyperparameters: Pairs(hyperparameters),
            steps: Steps { groups, list },
        })
    }
}

/// Whether weight decay is added to the gradient (an L2 term) rather than decoupled.
fn decays_gradient(kind: Kind) -> bool {
    matches!(kind, Kind::Sgd | Kind::RmsProp | Kind::Adam)
}

/// How each state vector is updated, for messages.
fn state_formula(kind: Kind, name: &str) -> &'static str {
    match (kind, name) {
        (Kind::Sgd, _) => "μ·b + (1 − τ)·g",
        (Kind::RmsProp, "momentum_buffer") => "μ·b + g/(√v + ε)",
        (_, "square_avg") => "α·v + (1 − α)·g²",
        (Kind::Lion, _) => "β₂·m + (1 − β₂)·g",
        (_, "exp_avg") => "β₁·m + (1 − β₁)·g",
        _ => "β₂·v + (1 − β₂)·g²",
    }
}

/// The division of the update, for messages.
fn update_formula(kind: Kind, placement: EpsPlacement) -> &'static str {
    match (kind, placement) {
        (Kind::RmsProp, EpsPlacement::Inside) => "g/√(v+ε)",
        (Kind::RmsProp, _) => "g/(√v+ε)",
        (_, EpsPlacement::Outside) => "m̂/(√v̂+ε)",
        (_, EpsPlacement::Inside) => "m̂/√(v̂+ε)",
        (_, EpsPlacement::Hat) => "m/(√v+ε̂)",
    }
}

/// The parameters' update, for messages.
fn params_formula(kind: Kind) -> &'static str {
    match kind {
        Kind::Sgd => "p − lr·b",
        Kind::RmsProp => "p − lr·g/(√v + ε)",
        Kind::Adam => "p − lr·m̂/(√v̂ + ε)",
        Kind::AdamW => "p − lr·λ·p − lr·m̂/(√v̂ + ε)",
        Kind::Lion => "p − lr·(sign(c) + λ·p)",
        Kind::Lamb => "p − lr·r·u",
    }
}

/// Checks one step's state, trust ratios and parameters, in the order they are computed. `gradient(i)` is the
/// gradient the step used for entry `i` (with an L2 decay term where there is one).
fn check_step(
    opt: &Optimizer,
    t: u64,
    groups: &Groups,
    params: &[f64],
    trust_ratios: Option<&[f64]>,
    gradient: impl Fn(usize) -> f64,
) -> Result<()> {
    let c = opt.config();
    let state = opt.state();
    let mut quantities: Vec<Quantity> = state
        .iter()
        .map(|(name, values)| Quantity {
            name,
            values,
            shape: Shape::Groups(groups),
            formula: state_formula(c.kind, name),
        })
        .collect();
    if let Some(ratios) = trust_ratios {
        quantities.push(Quantity::vector("trust_ratios", ratios, "‖p‖/‖u‖"));
    }
    quantities.push(Quantity {
        name: "params",
        values: params,
        shape: Shape::Groups(groups),
        formula: params_formula(c.kind),
    });
    check_finite(Optim::NAME, &format!("step {t}"), &quantities, |q, i| {
        // The one division by a value that can be exactly 0: √v + ε with ε = 0 and v = 0. It reaches the
        // parameters (and RMSProp's momentum buffer) of the same entry, or with LAMB the whole group through
        // the trust ratio.
        if !matches!(q.name, "params" | "momentum_buffer") || c.eps != 0.0 {
            return None;
        }
        let (second, values) = state
            .iter()
            .find(|(name, _)| matches!(*name, "exp_avg_sq" | "square_avg"))?;
        let j = if values[i] == 0.0 {
            i
        } else if c.kind == Kind::Lamb {
            values.iter().position(|&v| v == 0.0)?
        } else {
            return None;
        };
        let numerator = match state.iter().find(|(name, _)| *name == "exp_avg") {
            Some((_, m)) => m[j],
            None => gradient(j),
        };
        let update = update_formula(c.kind, c.eps_placement);
        let at = Quantity {
            name: second,
            values,
            shape: Shape::Groups(groups),
            formula: "",
        }
        .entry(j);
        Some(if numerator == 0.0 {
            format!("{at} is 0 and eps is 0, so the update {update} is 0/0")
        } else {
            format!(
                "{at} is 0 (the square of the gradient {:e} underflows to 0) and eps is 0, so the update \
                 {update} divides {numerator:e} by 0",
                gradient(j)
            )
        })
    })
}

//! `dlf calc optim`: run an optimizer on given gradients and print the parameters and optimizer state after
//! every step, so a learner can check a hand computation of Adam, AdamW, Lion, LAMB, RMSProp or SGD line by
//! line. The update rules are the engine's (`dlf_engine::lessons::optim`); where libraries differ the choice is a
//! command-line option.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};
use dlf_engine::lessons::optim::{
    Config, DecayScaling, EpsPlacement, Kind, MomentumStyle, Optimizer, Schedule,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::calc::pretty;

/// The conventions of `dlf calc optim`, printed by `--help`.
pub const CONVENTIONS: &str = "\
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
with params and state shaped like the input params. State names are PyTorch's.

Example:
  echo '{\"optimizer\":\"adam\",\"lr\":0.1,\"params\":[1.0,-2.0],\"grads\":[[0.5,-1.0],[0.25,0.0]]}' | dlf calc optim";

/// Options of `dlf calc optim`.
#[derive(Debug, clap::Args)]
pub struct OptimArgs {
    /// SGD momentum buffer: `accumulate` (b = μb + g, PyTorch) or `ema` (b = μb + (1−μ)g).
    #[arg(long, default_value = "accumulate", value_parser = ["accumulate", "ema"])]
    pub momentum_style: String,
    /// Where ε sits: `outside` (√v̂ + ε, PyTorch), `inside` (√(v̂ + ε)), `hat` (TensorFlow's Adam ε̂).
    #[arg(long, default_value = "outside", value_parser = ["outside", "inside", "hat"])]
    pub eps_placement: String,
    /// Decoupled decay of AdamW and Lion multiplied by `lr` (PyTorch) or by the schedule multiplier only.
    #[arg(long, default_value = "lr", value_parser = ["lr", "schedule"])]
    pub decay_scaling: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptimInput {
    optimizer: String,
    lr: f64,
    params: Value,
    grads: Vec<Value>,
    momentum: Option<f64>,
    dampening: Option<f64>,
    nesterov: Option<bool>,
    alpha: Option<f64>,
    beta1: Option<f64>,
    beta2: Option<f64>,
    eps: Option<f64>,
    weight_decay: Option<f64>,
    bias_correction: Option<bool>,
    schedule: Option<ScheduleInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleInput {
    #[serde(default)]
    warmup: u64,
    #[serde(default)]
    total: u64,
    #[serde(default)]
    cosine: bool,
    #[serde(default)]
    min_ratio: f64,
}

/// Reads a problem from `input` and returns the answer as pretty JSON.
pub fn run(args: &OptimArgs, mut input: impl Read) -> Result<String> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .context("could not read stdin")?;
    Ok(pretty(&run_str(args, &text)?))
}

/// The parameters' layout: one flat group, or several named by their position.
struct Layout {
    groups: Vec<usize>,
    nested: bool,
}

/// Flattens `value` (numbers, or arrays of numbers) into `out` and returns its layout.
fn flatten(name: &str, value: &Value, out: &mut Vec<f64>) -> Result<Layout> {
    let items = value.as_array().ok_or_else(|| {
        anyhow!("{name} must be an array of numbers or an array of arrays of numbers")
    })?;
    if items.is_empty() {
        bail!("{name} is empty");
    }
    let number = |v: &Value, at: String| -> Result<f64> {
        let x = v
            .as_f64()
            .ok_or_else(|| anyhow!("{name}{at} is not a number: {v}"))?;
        if !x.is_finite() {
            bail!("{name}{at} is not finite");
        }
        Ok(x)
    };
    if items.iter().all(Value::is_array) {
        let mut groups = Vec::with_capacity(items.len());
        for (i, group) in items.iter().enumerate() {
            let group = group.as_array().map(Vec::as_slice).unwrap_or_default();
            if group.is_empty() {
                bail!("{name}[{i}] is an empty group");
            }
            for (j, v) in group.iter().enumerate() {
                out.push(number(v, format!("[{i}][{j}]"))?);
            }
            groups.push(group.len());
        }
        Ok(Layout {
            groups,
            nested: true,
        })
    } else {
        for (j, v) in items.iter().enumerate() {
            out.push(number(v, format!("[{j}]"))?);
        }
        Ok(Layout {
            groups: vec![items.len()],
            nested: false,
        })
    }
}

/// `values` shaped like the layout.
fn shaped(layout: &Layout, values: &[f64]) -> Value {
    if !layout.nested {
        return json!(values);
    }
    let mut start = 0;
    let mut groups = Vec::with_capacity(layout.groups.len());
    for &n in &layout.groups {
        groups.push(json!(values[start..start + n].to_vec()));
        start += n;
    }
    Value::Array(groups)
}

/// Solves one optimizer problem given as JSON text.
pub fn run_str(args: &OptimArgs, text: &str) -> Result<Value> {
    let raw: OptimInput = serde_json::from_str(text).map_err(|e| {
        anyhow!(
            "the problem is not valid: {e} (see `dlf calc optim --help` for the expected fields)"
        )
    })?;
    let kind = Kind::parse(&raw.optimizer).ok_or_else(|| {
        anyhow!(
            "unknown optimizer {:?}: use \"sgd\", \"rmsprop\", \"adam\", \"adamw\", \"lion\" or \"lamb\"",
            raw.optimizer
        )
    })?;
    let mut c = Config::new(kind, raw.lr);
    c.momentum = raw.momentum.unwrap_or(c.momentum);
    c.dampening = raw.dampening.unwrap_or(c.dampening);
    c.nesterov = raw.nesterov.unwrap_or(c.nesterov);
    c.alpha = raw.alpha.unwrap_or(c.alpha);
    c.beta1 = raw.beta1.unwrap_or(c.beta1);
    c.beta2 = raw.beta2.unwrap_or(c.beta2);
    c.eps = raw.eps.unwrap_or(c.eps);
    c.weight_decay = raw.weight_decay.unwrap_or(c.weight_decay);
    c.bias_correction = raw.bias_correction.unwrap_or(c.bias_correction);
    // The clap value parsers admit only the names these parse.
    c.momentum_style =
        MomentumStyle::parse(&args.momentum_style).unwrap_or(MomentumStyle::Accumulate);
    c.eps_placement = EpsPlacement::parse(&args.eps_placement).unwrap_or(EpsPlacement::Outside);
    c.decay_scaling = DecayScaling::parse(&args.decay_scaling).unwrap_or(DecayScaling::Lr);
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

    let mut params = Vec::new();
    let layout = flatten("params", &raw.params, &mut params)?;
    if raw.grads.is_empty() {
        bail!("grads is empty: give one gradient per step");
    }
    let mut opt = Optimizer::new(c, &layout.groups).map_err(|e| anyhow!("{e}"))?;
    let mut steps = Vec::with_capacity(raw.grads.len());
    for (k, g) in raw.grads.iter().enumerate() {
        let mut grad = Vec::with_capacity(params.len());
        let name = format!("grads[{k}]");
        let gl = flatten(&name, g, &mut grad)?;
        if gl.groups != layout.groups {
            bail!(
                "{name} has group sizes {:?} but params has {:?}: every gradient must be shaped like params",
                gl.groups,
                layout.groups
            );
        }
        let t = k as u64 + 1;
        let lr = c.lr * schedule.multiplier(t);
        let info = opt
            .step(&mut params, &grad, lr)
            .map_err(|e| anyhow!("step {t}: {e}"))?;
        let mut state = Map::new();
        for (name, values) in opt.state() {
            state.insert(name.to_string(), shaped(&layout, values));
        }
        let mut step = Map::new();
        step.insert("t".into(), json!(t));
        step.insert("lr".into(), json!(lr));
        step.insert("params".into(), shaped(&layout, &params));
        step.insert("state".into(), Value::Object(state));
        if kind == Kind::Lamb {
            step.insert("trust_ratios".into(), json!(info.trust_ratios));
        }
        steps.push(Value::Object(step));
    }
    Ok(json!({
        "topic": "optim",
        "optimizer": kind.name(),
        "conventions": {
            "momentum_style": c.momentum_style.name(),
            "eps_placement": c.eps_placement.name(),
            "decay_scaling": c.decay_scaling.name(),
        },
        "hyperparameters": {
            "lr": c.lr, "momentum": c.momentum, "dampening": c.dampening, "nesterov": c.nesterov,
            "alpha": c.alpha, "beta1": c.beta1, "beta2": c.beta2, "eps": c.eps,
            "weight_decay": c.weight_decay, "bias_correction": c.bias_correction,
        },
        "steps": steps,
    }))
}

//! Quantities of lesson 11 (initialization); names start with `init.`.

use crate::error::QuantityError;
use crate::lessons::init::depth::{depth_profile, DepthConfig, DepthProfile};
use crate::lessons::init::divergence::{Run, RunConfig};
use crate::lessons::init::mean_field::{critical_sigma_w2, depth_scale, MeanField};
use crate::lessons::init::{
    fans, init_stats, pytorch_default_variance, truncated_normal_std, FanMode, Layout, Nonlin,
    Preset, Scheme,
};
use crate::quantities::{one_of, Args, QuantitySpec};

/// Arguments of an initialiser's statistics.
const INIT_ARGS: &[(&str, &str)] = &[
    ("scheme", "kaiming_uniform"),
    ("shape", "64x3x3x3"),
    ("layout", "pytorch"),
    ("activation", "relu"),
    ("slope", "0.01"),
    ("mode", "default"),
];

/// Arguments of the mean-field maps.
const MF_ARGS: &[(&str, &str)] = &[
    ("activation", "tanh"),
    ("slope", "0.01"),
    ("sigma_w2", "1.5"),
    ("sigma_b2", "0.05"),
];

/// Arguments of the length-map trajectory.
const TRAJ_ARGS: &[(&str, &str)] = &[
    ("activation", "relu"),
    ("slope", "0.01"),
    ("sigma_w2", "1"),
    ("sigma_b2", "0"),
    ("q0", "1"),
    ("layer", "50"),
];

/// Arguments of the finite-width depth experiment.
const DEPTH_ARGS: &[(&str, &str)] = &[
    ("activation", "tanh"),
    ("slope", "0.01"),
    ("init", "lecun"),
    ("depth", "30"),
    ("width", "128"),
    ("batch", "8"),
    ("seed", "1"),
];

/// Arguments of the training run.
const RUN_ARGS: &[(&str, &str)] = &[
    ("activation", "relu"),
    ("slope", "0.01"),
    ("init", "he"),
    ("depth", "8"),
    ("lr", "0.05"),
    ("steps", "100"),
    ("seed", "1"),
];

fn nonlin(a: &Args) -> Result<Nonlin, QuantityError> {
    let slope = a.f64_in("slope", 0.0, 10.0)?;
    Nonlin::parse(a.raw("activation"), slope)
        .ok_or_else(|| a.invalid("activation", one_of(Nonlin::NAMES)))
}

fn preset(a: &Args) -> Result<Preset, QuantityError> {
    Preset::parse(a.raw("init")).ok_or_else(|| a.invalid("init", one_of(Preset::ALL.map(Preset::name))))
}

fn shape(a: &Args) -> Result<Vec<usize>, QuantityError> {
    let parsed: Option<Vec<usize>> = a
        .raw("shape")
        .split('x')
        .map(|s| s.trim().parse::<usize>().ok().filter(|&n| (1..=1_000_000).contains(&n)))
        .collect();
    parsed
        .filter(|v| !v.is_empty() && v.len() <= 6)
        .ok_or_else(|| a.invalid("shape", "sizes from 1 to 10⁶ joined by x, e.g. 64x3x3x3".into()))
}

/// `(gain-scaled) variance`, `std`, `uniform bound` of a scheme.
fn stats(a: &Args) -> Result<crate::lessons::init::InitStats, QuantityError> {
    let scheme = Scheme::parse(a.raw("scheme"))
        .ok_or_else(|| a.invalid("scheme", one_of(Scheme::ALL.map(Scheme::name))))?;
    let layout = Layout::parse(a.raw("layout"))
        .ok_or_else(|| a.invalid("layout", "pytorch or keras".into()))?;
    let f = fans(&shape(a)?, layout).map_err(|e| a.failed(e))?;
    let mode = match a.raw("mode") {
        "default" => scheme.default_mode(),
        m => FanMode::parse(m)
            .ok_or_else(|| a.invalid("mode", "default, fan_in, fan_out or fan_avg".into()))?,
    };
    let gain = if scheme.has_gain() {
        let phi = nonlin(a)?;
        phi.pytorch_gain()
            .ok_or_else(|| a.failed("PyTorch's calculate_gain has no gain for gelu or silu"))?
    } else {
        1.0
    };
    Ok(init_stats(f, mode, gain, false))
}

fn mean_field(a: &Args) -> Result<MeanField, QuantityError> {
    Ok(MeanField::new(
        nonlin(a)?,
        a.f64_in("sigma_w2", 0.0, 100.0)?,
        a.f64_in("sigma_b2", 0.0, 100.0)?,
    ))
}

fn profile(a: &Args) -> Result<DepthProfile, QuantityError> {
    Ok(depth_profile(&DepthConfig {
        phi: nonlin(a)?,
        preset: preset(a)?,
        depth: a.usize_in("depth", 2, 200)?,
        width: a.usize_in("width", 2, 512)?,
        batch: a.usize_in("batch", 1, 64)?,
        seed: a.seed("seed")?,
    }))
}

fn run(a: &Args) -> Result<Run, QuantityError> {
    Ok(Run::to_end(RunConfig {
        phi: nonlin(a)?,
        preset: preset(a)?,
        depth: a.usize_in("depth", 1, 16)?,
        lr: a.f64_in("lr", 0.0, 10.0)?,
        steps: a.usize_in("steps", 1, 300)?,
        seed: a.seed("seed")?,
    }))
}

/// A layer argument in `1..=depth`, as an index.
fn layer(a: &Args, depth: usize) -> Result<usize, QuantityError> {
    Ok(a.usize_in("layer", 1, depth)? - 1)
}

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "init.fan_in",
        description: "fan_in of a weight shape (sizes joined by x) in the pytorch (out, in, *kernel) or keras (*kernel, in, out) layout",
        args: &[("shape", "64x3x3x3"), ("layout", "pytorch")],
        eval: |a| {
            let layout = Layout::parse(a.raw("layout")).ok_or_else(|| a.invalid("layout", "pytorch or keras".into()))?;
            Ok(fans(&shape(a)?, layout).map_err(|e| a.failed(e))?.fan_in as f64)
        },
    },
    QuantitySpec {
        name: "init.fan_out",
        description: "fan_out of a weight shape in the pytorch or keras layout",
        args: &[("shape", "64x3x3x3"), ("layout", "pytorch")],
        eval: |a| {
            let layout = Layout::parse(a.raw("layout")).ok_or_else(|| a.invalid("layout", "pytorch or keras".into()))?;
            Ok(fans(&shape(a)?, layout).map_err(|e| a.failed(e))?.fan_out as f64)
        },
    },
    QuantitySpec {
        name: "init.variance",
        description: "weight variance gain²/fan of a scheme (PyTorch names and gains) for a shape and layout",
        args: INIT_ARGS,
        eval: |a| Ok(stats(a)?.variance),
    },
    QuantitySpec {
        name: "init.std",
        description: "weight standard deviation gain/√fan of a scheme",
        args: INIT_ARGS,
        eval: |a| Ok(stats(a)?.std),
    },
    QuantitySpec {
        name: "init.bound",
        description: "bound a = √3·std of the uniform distribution with the scheme's variance",
        args: INIT_ARGS,
        eval: |a| Ok(stats(a)?.uniform_bound),
    },
    QuantitySpec {
        name: "init.pytorch_gain",
        description: "torch.nn.init.calculate_gain for an activation (leaky ReLU's slope as `slope`)",
        args: &[("activation", "tanh"), ("slope", "0.01")],
        eval: |a| nonlin(a)?.pytorch_gain().ok_or_else(|| a.failed("PyTorch has no gain for gelu or silu")),
    },
    QuantitySpec {
        name: "init.moment_gain",
        description: "1/√E[φ(z)²], z ~ N(0,1): the gain that makes q = 1 a fixed point of the length map without bias",
        args: &[("activation", "tanh"), ("slope", "0.01")],
        eval: |a| Ok(nonlin(a)?.moment_gain()),
    },
    QuantitySpec {
        name: "init.second_moment",
        description: "E[φ(z)²] for z ~ N(0, 1), by quadrature (Gauss–Hermite, or split at the kink)",
        args: &[("activation", "relu"), ("slope", "0.01")],
        eval: |a| {
            let phi = nonlin(a)?;
            Ok(phi.rule().expect(|z| phi.apply(z) * phi.apply(z)))
        },
    },
    QuantitySpec {
        name: "init.post_variance",
        description: "Var[φ(z)] = E[φ(z)²] − E[φ(z)]² for z ~ N(0, 1) (for ReLU: 1/2 − 1/(2π))",
        args: &[("activation", "relu"), ("slope", "0.01")],
        eval: |a| {
            let phi = nonlin(a)?;
            let g = phi.rule();
            let m = g.expect(|z| phi.apply(z));
            Ok(g.expect(|z| phi.apply(z) * phi.apply(z)) - m * m)
        },
    },
    QuantitySpec {
        name: "init.truncated_std",
        description: "standard deviation of a standard normal truncated to [−c, c] (Keras/JAX divide by it at c = 2)",
        args: &[("c", "2")],
        eval: |a| Ok(truncated_normal_std(a.f64_in("c", 0.01, 40.0)?)),
    },
    QuantitySpec {
        name: "init.torch_default_sigma_w2",
        description: "fan_in × the variance of PyTorch's default Linear/Conv init kaiming_uniform_(a=√5): 1/3",
        args: &[("fan_in", "512")],
        eval: |a| {
            let n = a.usize_in("fan_in", 1, 1 << 24)?;
            Ok(pytorch_default_variance(n) * n as f64)
        },
    },
    QuantitySpec {
        name: "init.q_star",
        description: "fixed point q* of the mean-field length map q ↦ σ_w² E[φ(√q z)²] + σ_b², iterated from q = 1",
        args: MF_ARGS,
        eval: |a| mean_field(a)?.fixed_point().ok_or_else(|| a.failed("the length map has no attracting fixed point here")),
    },
    QuantitySpec {
        name: "init.chi1",
        description: "χ₁ = σ_w² E[φ'(√q* z)²] at the fixed point (1 is the edge of chaos)",
        args: MF_ARGS,
        eval: |a| mean_field(a)?.chi1().ok_or_else(|| a.failed("the length map has no attracting fixed point here")),
    },
    QuantitySpec {
        name: "init.depth_scale",
        description: "ξ = −1/ln χ₁: layers over which gradients change by a factor e",
        args: MF_ARGS,
        eval: |a| {
            let c = mean_field(a)?.chi1().ok_or_else(|| a.failed("no fixed point"))?;
            Ok(depth_scale(c))
        },
    },
    QuantitySpec {
        name: "init.critical_sigma_w2",
        description: "the σ_w² with χ₁ = 1 (edge of chaos) for an activation and σ_b², by bisection on [0.5, 10]",
        args: &[("activation", "tanh"), ("slope", "0.01"), ("sigma_b2", "0.05")],
        eval: |a| {
            critical_sigma_w2(nonlin(a)?, a.f64_in("sigma_b2", 0.0, 10.0)?, 0.5, 10.0)
                .ok_or_else(|| a.failed("χ₁ − 1 does not change sign on [0.5, 10]"))
        },
    },
    QuantitySpec {
        name: "init.correlation_after",
        description: "correlation of two inputs after `layers` layers of the correlation map at q*, from c0",
        args: &[
            ("activation", "tanh"),
            ("slope", "0.01"),
            ("sigma_w2", "1.5"),
            ("sigma_b2", "0.05"),
            ("c0", "0.5"),
            ("layers", "20"),
        ],
        eval: |a| {
            let mf = mean_field(a)?;
            let q = mf.fixed_point().ok_or_else(|| a.failed("no fixed point"))?;
            let n = a.usize_in("layers", 1, 200)?;
            let c = mf.correlation_trajectory(q, a.f64_in("c0", -1.0, 1.0)?, n);
            Ok(c[n])
        },
    },
    QuantitySpec {
        name: "init.q_layer",
        description: "mean-field second moment q^l of layer `layer`'s pre-activations from an input of second moment q0",
        args: TRAJ_ARGS,
        eval: |a| {
            let mf = mean_field(a)?;
            let n = a.usize_in("layer", 1, 1000)?;
            Ok(mf.trajectory(a.f64_in("q0", 0.0, 1e6)?, n)[n - 1])
        },
    },
    QuantitySpec {
        name: "init.sim_rms",
        description: "finite-width simulation: RMS of the last layer's pre-activations (x ~ N(0,1), bias-free square MLP)",
        args: DEPTH_ARGS,
        eval: |a| Ok(*profile(a)?.rms.last().unwrap_or(&f64::NAN)),
    },
    QuantitySpec {
        name: "init.sim_rms_ratio",
        description: "simulated / mean-field RMS of the last layer's pre-activations",
        args: DEPTH_ARGS,
        eval: |a| {
            let p = profile(a)?;
            Ok(p.rms[p.rms.len() - 1] / p.predicted_rms[p.rms.len() - 1])
        },
    },
    QuantitySpec {
        name: "init.sim_grad_first",
        description: "simulation: RMS of the first layer's backpropagated gradient δ¹ relative to the last layer's",
        args: DEPTH_ARGS,
        eval: |a| Ok(profile(a)?.grad_rms[0]),
    },
    QuantitySpec {
        name: "init.sim_grad_ratio",
        description: "simulated / mean-field first-layer gradient RMS (both relative to the last layer)",
        args: DEPTH_ARGS,
        eval: |a| {
            let p = profile(a)?;
            Ok(p.grad_rms[0] / p.predicted_grad_rms[0])
        },
    },
    QuantitySpec {
        name: "init.sim_dead",
        description: "simulation: fraction of units in the last layer that output zero for every input of the batch",
        args: DEPTH_ARGS,
        eval: |a| Ok(*profile(a)?.dead_fraction.last().unwrap_or(&f64::NAN)),
    },
    QuantitySpec {
        name: "init.run_final_loss",
        description: "training run: loss before the last step taken (diverged runs stop at the divergence)",
        args: RUN_ARGS,
        eval: |a| {
            let r = run(a)?;
            let l = *r.losses.last().unwrap_or(&f64::NAN);
            Ok(if l.is_finite() { l } else { f64::MAX })
        },
    },
    QuantitySpec {
        name: "init.run_initial_loss",
        description: "training run: loss at initialisation",
        args: RUN_ARGS,
        eval: |a| Ok(run(a)?.losses[0]),
    },
    QuantitySpec {
        name: "init.run_diverged_step",
        description: "training run: the step at which the loss exceeded 1e6 or stopped being finite, or `steps` if it never did",
        args: RUN_ARGS,
        eval: |a| {
            let r = run(a)?;
            Ok(r.diverged_at.unwrap_or(r.cfg.steps) as f64)
        },
    },
    QuantitySpec {
        name: "init.run_update_ratio",
        description: "training run at initialisation: lr·‖∇W‖/‖W‖ of weight matrix `layer` (1 = first; depth + 1 = readout)",
        args: &[
            ("activation", "relu"),
            ("slope", "0.01"),
            ("init", "he"),
            ("depth", "8"),
            ("lr", "0.05"),
            ("steps", "1"),
            ("seed", "1"),
            ("layer", "1"),
        ],
        eval: |a| {
            let r = run(a)?;
            let l = layer(a, r.initial.update_ratio.len())?;
            Ok(r.initial.update_ratio[l])
        },
    },
    QuantitySpec {
        name: "init.run_max_act",
        description: "training run at initialisation: largest |pre-activation| of the last hidden layer",
        args: RUN_ARGS,
        eval: |a| {
            let r = run(a)?;
            Ok(r.initial.max_abs[r.initial.max_abs.len() - 2])
        },
    },
    QuantitySpec {
        name: "init.residual_var",
        description: "variance of a pre-norm residual stream after L blocks of 2 branches each adding variance v, with branch outputs scaled by 1/√(2L) (scaled = 1) or not",
        args: &[("layers", "48"), ("branch_var", "1"), ("scaled", "1")],
        eval: |a| {
            let l = a.usize_in("layers", 1, 10_000)? as f64;
            let v = a.f64_in("branch_var", 0.0, 100.0)?;
            let s = if a.flag("scaled")? { 1.0 / (2.0 * l) } else { 1.0 };
            Ok(1.0 + 2.0 * l * v * s)
        },
    },
    QuantitySpec {
        name: "init.gpt2_residual_std",
        description: "GPT-2's residual-projection init std: 0.02/√(2·n_layer)",
        args: &[("layers", "12")],
        eval: |a| Ok(0.02 / (2.0 * a.usize_in("layers", 1, 10_000)? as f64).sqrt()),
    },
];

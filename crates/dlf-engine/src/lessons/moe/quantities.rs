//! Quantities of lesson 12 (mixture of experts); names start with `moe.`.

use crate::error::QuantityError;
use crate::lessons::moe::params::{active_from_split, MoeConfig, Preset};
use crate::lessons::moe::router_sim::{RouterSim, SimConfig, StepRecord};
use crate::lessons::moe::{
    capacity, dispatch, expected_experts_touched, random_drop_fraction, route, z_loss,
    AuxConvention, CapacityRounding, Priority, Score, TopKNorm,
};
use crate::quantities::{Args, QuantitySpec};
use crate::rng::Rng;

/// Arguments of the parameter-count quantities.
const PRESET_ARGS: &[(&str, &str)] = &[("preset", "mixtral-8x7b"), ("top_k", "0")];

/// Arguments of the router simulation.
const SIM_ARGS: &[(&str, &str)] = &[
    ("tokens", "256"),
    ("experts", "8"),
    ("k", "1"),
    ("capacity_factor", "1.25"),
    ("aux_coef", "0"),
    ("bias_rate", "0"),
    ("z_coef", "0"),
    ("steps", "120"),
    ("seeds", "3"),
];

/// Arguments of the synthetic routings the auxiliary loss is measured on.
const AUX_ARGS: &[(&str, &str)] = &[
    ("case", "balanced"),
    ("convention", "all-choices-over-k"),
    ("experts", "8"),
    ("k", "2"),
    ("tokens", "64"),
    ("sharpness", "30"),
];

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "moe.total_params",
        description: "total parameters (billions) of a preset MoE transformer (mixtral-8x7b, deepseek-v3, switch-base, brief-50b); top_k = 0 keeps the preset's k",
        args: PRESET_ARGS,
        eval: |a| Ok(preset(a)?.count().total() / 1e9),
    },
    QuantitySpec {
        name: "moe.active_params",
        description: "parameters (billions) one token's forward pass uses: everything outside the routed experts plus k routed experts per MoE layer",
        args: PRESET_ARGS,
        eval: |a| Ok(preset(a)?.count().active() / 1e9),
    },
    QuantitySpec {
        name: "moe.active_fraction",
        description: "active over total parameters",
        args: PRESET_ARGS,
        eval: |a| {
            let c = preset(a)?.count();
            Ok(c.active() / c.total())
        },
    },
    QuantitySpec {
        name: "moe.embedding_params",
        description: "parameters (billions) of the input embedding, the output head if untied, and the final norm",
        args: PRESET_ARGS,
        eval: |a| Ok(preset(a)?.count().embeddings / 1e9),
    },
    QuantitySpec {
        name: "moe.shared_params",
        description: "parameters (billions) outside the routed experts (embeddings, attention, norms, routers, dense and shared-expert FFNs)",
        args: PRESET_ARGS,
        eval: |a| Ok(preset(a)?.count().shared_part() / 1e9),
    },
    QuantitySpec {
        name: "moe.routed_fraction",
        description: "fraction of all parameters that sit in routed experts",
        args: PRESET_ARGS,
        eval: |a| {
            let c = preset(a)?.count();
            Ok(c.routed_total / c.total())
        },
    },
    QuantitySpec {
        name: "moe.expert_params",
        description: "parameters (millions) of one routed expert: matrices × d × expert width",
        args: PRESET_ARGS,
        eval: |a| Ok(preset(a)?.count().expert / 1e6),
    },
    QuantitySpec {
        name: "moe.attention_params",
        description: "parameters (billions) of every layer's attention and norms together",
        args: PRESET_ARGS,
        eval: |a| Ok(preset(a)?.count().attention / 1e9),
    },
    QuantitySpec {
        name: "moe.naive_total",
        description: "the naive reading of a name like 8x7B: experts × active parameters of one dense model (billions), here E × (active with k = 1)",
        args: &[("preset", "mixtral-8x7b")],
        eval: |a| {
            let cfg = Preset::parse(a.raw("preset")).ok_or_else(|| preset_error(a))?.config();
            let dense = MoeConfig { top_k: 1, ..cfg };
            Ok(cfg.experts as f64 * dense.count().active() / 1e9)
        },
    },
    QuantitySpec {
        name: "moe.flops_per_token",
        description: "forward GFLOPs per token from the weights, 2 × (active − input embedding), attention scores left out",
        args: PRESET_ARGS,
        eval: |a| {
            let cfg = preset(a)?;
            Ok(cfg.count().flops_per_token(&cfg) / 1e9)
        },
    },
    QuantitySpec {
        name: "moe.weight_gb",
        description: "GB (1e9 bytes) of weights at `bytes` per parameter: total (what must be in memory) or active (what one token reads)",
        args: &[("preset", "mixtral-8x7b"), ("which", "total"), ("bytes", "2")],
        eval: |a| {
            let c = Preset::parse(a.raw("preset")).ok_or_else(|| preset_error(a))?.config().count();
            let bytes = a.f64_in("bytes", 0.25, 32.0)?;
            let n = match a.raw("which") {
                "total" => c.total(),
                "active" => c.active(),
                _ => return Err(a.invalid("which", "total or active".into())),
            };
            Ok(n * bytes / 1e9)
        },
    },
    QuantitySpec {
        name: "moe.active_from_split",
        description: "active parameters (billions) of a model with `total` billions, E experts, top-k and `shared` billions outside the routed experts: (k/E)·total + (1 − k/E)·shared",
        args: &[("total", "50"), ("experts", "8"), ("k", "1"), ("shared", "0")],
        eval: |a| {
            let total = a.f64_in("total", 0.0, 1e6)?;
            let shared = a.f64_in("shared", 0.0, total)?;
            let e = a.usize_in("experts", 1, 4096)?;
            let k = a.usize_in("k", 1, e)?;
            Ok(active_from_split(total, e, k, shared))
        },
    },
    QuantitySpec {
        name: "moe.shared_for_active",
        description: "shared parameters (billions) a model of `total` billions with E experts and top-k needs for `active` billions: (active − (k/E)·total)/(1 − k/E); negative means impossible",
        args: &[("total", "50"), ("active", "6"), ("experts", "8"), ("k", "1")],
        eval: |a| {
            let total = a.f64_in("total", 0.0, 1e6)?;
            let active = a.f64_in("active", 0.0, total)?;
            let e = a.usize_in("experts", 2, 4096)?;
            let k = a.usize_in("k", 1, e - 1)?;
            let r = k as f64 / e as f64;
            Ok((active - r * total) / (1.0 - r))
        },
    },
    QuantitySpec {
        name: "moe.aux_loss",
        description: "the Switch loss E·Σ f_i P_i (no α) of a synthetic routing: balanced (token t leans to experts t, t+1, … mod E), collapsed (every token leans to expert 0), uniform (all logits 0); logit gap `sharpness`",
        args: AUX_ARGS,
        eval: |a| {
            let (logits, e, k) = synthetic_logits(a)?;
            let conv = AuxConvention::parse(a.raw("convention")).ok_or_else(|| {
                a.invalid("convention", "first-choice, all-choices or all-choices-over-k".into())
            })?;
            let r = route(&logits, e, k, Score::Softmax, TopKNorm::None, &[], 1.0);
            Ok(r.aux_loss(conv))
        },
    },
    QuantitySpec {
        name: "moe.z_loss_constant",
        description: "router z-loss mean (log Σ_j e^{x_j})² of logits that are all equal to `shift` (softmax is uniform whatever the shift): (shift + ln E)²",
        args: &[("experts", "8"), ("shift", "0")],
        eval: |a| {
            let e = a.usize_in("experts", 1, 4096)?;
            let shift = a.f64_in("shift", -100.0, 100.0)?;
            Ok(z_loss(&vec![shift; 4 * e], e))
        },
    },
    QuantitySpec {
        name: "moe.top1_gate_slope",
        description: "∂g/∂x_e of a top-1 gate with respect to its own logit (central difference) for logits (2, 1, 0, −1): p(1 − p) without normalisation, 0 when the single gate is renormalised to 1",
        args: &[("norm", "none")],
        eval: |a| {
            let norm = TopKNorm::parse(a.raw("norm"))
                .ok_or_else(|| a.invalid("norm", "none or renormalize".into()))?;
            let gate = |x0: f64| {
                route(&[x0, 1.0, 0.0, -1.0], 4, 1, Score::Softmax, norm, &[], 1.0).gates[0]
            };
            let h = 1e-5;
            Ok((gate(2.0 + h) - gate(2.0 - h)) / (2.0 * h))
        },
    },
    QuantitySpec {
        name: "moe.capacity",
        description: "expert capacity rounding(cf · k · T / E) under floor, round or ceil",
        args: &[
            ("tokens", "4096"),
            ("experts", "64"),
            ("k", "2"),
            ("capacity_factor", "1.25"),
            ("rounding", "ceil"),
        ],
        eval: |a| {
            let t = a.usize_in("tokens", 1, 10_000_000)?;
            let e = a.usize_in("experts", 1, 4096)?;
            let k = a.usize_in("k", 1, e)?;
            let cf = a.f64_in("capacity_factor", 0.0, 1000.0)?;
            let rounding = CapacityRounding::parse(a.raw("rounding"))
                .ok_or_else(|| a.invalid("rounding", "floor, round or ceil".into()))?;
            Ok(capacity(t, e, k, cf, rounding) as f64)
        },
    },
    QuantitySpec {
        name: "moe.random_drop_fraction",
        description: "expected fraction of assignments dropped when T·k assignments land uniformly at random on E experts of capacity ⌈cf·k·T/E⌉ (exact binomial sum)",
        args: &[("tokens", "512"), ("experts", "8"), ("k", "1"), ("capacity_factor", "1")],
        eval: |a| {
            let (t, e, k, c) = random_setup(a)?;
            Ok(random_drop_fraction(t, e, k, c))
        },
    },
    QuantitySpec {
        name: "moe.random_drop_fraction_sim",
        description: "the same fraction measured: `trials` batches of uniformly random top-1 choices dispatched with the engine's capacity code",
        args: &[
            ("tokens", "512"),
            ("experts", "8"),
            ("k", "1"),
            ("capacity_factor", "1"),
            ("trials", "400"),
            ("seed", "1"),
        ],
        eval: |a| {
            let (t, e, k, c) = random_setup(a)?;
            if k != 1 {
                return Err(a.invalid("k", "1 (the simulation draws one expert per token)".into()));
            }
            let mut rng = Rng::new(a.seed("seed")?);
            let trials = a.usize_in("trials", 1, 100_000)?;
            let mut dropped = 0usize;
            for _ in 0..trials {
                // One-hot logits: the drawn expert gets 1, so top-1 picks it.
                let mut logits = vec![0.0; t * e];
                for row in logits.chunks_mut(e) {
                    row[rng.below(e)] = 1.0;
                }
                let r = route(&logits, e, 1, Score::Softmax, TopKNorm::None, &[], 1.0);
                dropped += dispatch(&r, c, Priority::InOrder).dropped;
            }
            Ok(dropped as f64 / (trials * t) as f64)
        },
    },
    QuantitySpec {
        name: "moe.dropped_gate_mass",
        description: "share of the total top-1 gate mass that capacity drops for 256 tokens with N(0, 1) logits over 8 experts skewed towards expert 0 (+1), capacity ⌈cf·T/E⌉, in the given priority order",
        args: &[("priority", "in-order"), ("capacity_factor", "1"), ("seed", "3")],
        eval: |a| {
            let priority = Priority::parse(a.raw("priority"))
                .ok_or_else(|| a.invalid("priority", "in-order or batch-priority".into()))?;
            let cf = a.f64_in("capacity_factor", 0.0, 8.0)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let (t, e) = (256, 8);
            let logits: Vec<f64> = (0..t * e)
                .map(|i| rng.normal() + if i % e == 0 { 1.0 } else { 0.0 })
                .collect();
            let r = route(&logits, e, 1, Score::Softmax, TopKNorm::None, &[], 1.0);
            let d = dispatch(&r, capacity(t, e, 1, cf, CapacityRounding::Ceil), priority);
            let lost: f64 = (0..t).filter(|&i| !d.kept[i]).map(|i| r.gates[i]).sum();
            Ok(lost / r.gates.iter().sum::<f64>())
        },
    },
    QuantitySpec {
        name: "moe.experts_touched",
        description: "expected distinct experts a decode batch of B tokens reads when each token picks k of E uniformly: E·(1 − (1 − k/E)^B)",
        args: &[("experts", "8"), ("k", "2"), ("batch", "16")],
        eval: |a| {
            let e = a.usize_in("experts", 1, 4096)?;
            let k = a.usize_in("k", 1, e)?;
            Ok(expected_experts_touched(e, k, a.usize_in("batch", 1, 1_000_000)?))
        },
    },
    QuantitySpec {
        name: "moe.routing_combinations",
        description: "how many expert sets a token can pick: the binomial coefficient C(E, k) (DeepSeekMoE's argument for fine-grained experts)",
        args: &[("experts", "16"), ("k", "2")],
        eval: |a| {
            let e = a.usize_in("experts", 1, 4096)?;
            let k = a.usize_in("k", 0, e)?;
            Ok((0..k).fold(1.0, |acc, i| acc * (e - i) as f64 / (i + 1) as f64))
        },
    },
    QuantitySpec {
        name: "moe.sim_dropped",
        description: "router simulation: fraction of assignments dropped, averaged over the last 20 steps and over `seeds` seeds",
        args: SIM_ARGS,
        eval: |a| sim_mean(a, |r| r.dropped),
    },
    QuantitySpec {
        name: "moe.sim_first_dropped",
        description: "router simulation: fraction of assignments dropped at the first step (untrained router), averaged over seeds",
        args: SIM_ARGS,
        eval: |a| sim_first(a, |r| r.dropped),
    },
    QuantitySpec {
        name: "moe.sim_max_load",
        description: "router simulation: largest expert demand over the mean kT/E, last 20 steps, averaged over seeds",
        args: SIM_ARGS,
        eval: |a| sim_mean(a, |r| r.max_load_ratio),
    },
    QuantitySpec {
        name: "moe.sim_task_loss",
        description: "router simulation: task loss mean ‖ŷ − y‖²/4, last 20 steps, averaged over seeds",
        args: SIM_ARGS,
        eval: |a| sim_mean(a, |r| r.task_loss),
    },
    QuantitySpec {
        name: "moe.sim_z_loss",
        description: "router simulation: router z-loss mean (log Σ e^z)², last 20 steps, averaged over seeds",
        args: SIM_ARGS,
        eval: |a| sim_mean(a, |r| r.z_loss),
    },
];

fn preset_error(a: &Args) -> QuantityError {
    a.invalid(
        "preset",
        "one of mixtral-8x7b, deepseek-v3, switch-base, brief-50b".into(),
    )
}

/// The preset's configuration, with `top_k` overridden unless it is 0.
fn preset(a: &Args) -> Result<MoeConfig, QuantityError> {
    let cfg = Preset::parse(a.raw("preset")).ok_or_else(|| preset_error(a))?.config();
    let k = a.usize_in("top_k", 0, cfg.experts)?;
    Ok(if k == 0 { cfg } else { MoeConfig { top_k: k, ..cfg } })
}

fn random_setup(a: &Args) -> Result<(usize, usize, usize, usize), QuantityError> {
    let t = a.usize_in("tokens", 1, 100_000)?;
    let e = a.usize_in("experts", 1, 1024)?;
    let k = a.usize_in("k", 1, e)?;
    let cf = a.f64_in("capacity_factor", 0.0, 100.0)?;
    Ok((t, e, k, capacity(t, e, k, cf, CapacityRounding::Ceil)))
}

/// Logits for the synthetic aux-loss cases.
fn synthetic_logits(a: &Args) -> Result<(Vec<f64>, usize, usize), QuantityError> {
    let e = a.usize_in("experts", 1, 1024)?;
    let k = a.usize_in("k", 1, e)?;
    let t = a.usize_in("tokens", 1, 100_000)?;
    let s = a.f64_in("sharpness", 0.0, 200.0)?;
    let mut logits = vec![0.0; t * e];
    match a.raw("case") {
        "balanced" => {
            // Token t prefers t mod E most, then t + 1, …: mean probabilities and counts are uniform when
            // E divides T.
            for (i, row) in logits.chunks_mut(e).enumerate() {
                for j in 0..k {
                    row[(i + j) % e] = s * (k - j) as f64;
                }
            }
        }
        "collapsed" => {
            for row in logits.chunks_mut(e) {
                for (j, v) in row.iter_mut().enumerate().take(k) {
                    *v = s * (k - j) as f64;
                }
            }
        }
        "uniform" => {}
        _ => return Err(a.invalid("case", "balanced, collapsed or uniform".into())),
    }
    Ok((logits, e, k))
}

fn sim_config(a: &Args, seed: u64) -> Result<SimConfig, QuantityError> {
    let experts = a.usize_in("experts", 2, 16)?;
    Ok(SimConfig {
        tokens: a.usize_in("tokens", 16, 2048)?,
        experts,
        k: a.usize_in("k", 1, experts)?,
        capacity_factor: a.f64_in("capacity_factor", 0.1, 16.0)?,
        aux_coef: a.f64_in("aux_coef", 0.0, 100.0)?,
        bias_rate: a.f64_in("bias_rate", 0.0, 1.0)?,
        z_coef: a.f64_in("z_coef", 0.0, 10.0)?,
        steps: a.usize_in("steps", 1, 1000)?,
        seed,
        ..SimConfig::new(0.0, 0.0, seed)
    })
}

fn sim_mean(a: &Args, field: fn(&StepRecord) -> f64) -> Result<f64, QuantityError> {
    let seeds = a.usize_in("seeds", 1, 50)?;
    let mut total = 0.0;
    for seed in 1..=seeds as u64 {
        total += RouterSim::run(sim_config(a, seed)?).tail_mean(20, field);
    }
    Ok(total / seeds as f64)
}

fn sim_first(a: &Args, field: fn(&StepRecord) -> f64) -> Result<f64, QuantityError> {
    let seeds = a.usize_in("seeds", 1, 50)?;
    let mut total = 0.0;
    for seed in 1..=seeds as u64 {
        let mut cfg = sim_config(a, seed)?;
        cfg.steps = 1;
        total += field(&RouterSim::run(cfg).history[0]);
    }
    Ok(total / seeds as f64)
}

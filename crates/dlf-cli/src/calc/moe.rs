//! `dlf calc moe`: routing of a batch of router logits — scores, top-k choices, gates under each normalisation
//! convention, load fractions and mean probabilities, the Switch auxiliary loss under each way of counting
//! `f`, the router z-loss, expert capacity under each rounding and capacity-limited dispatch under each
//! priority order — or the total and active parameter counts of a configuration (lesson 12). Everything is
//! computed by `dlf_engine::lessons::moe`.

use anyhow::{bail, Result};
use dlf_engine::lessons::moe::params::{Attention, MoeConfig, ParamCount, Preset};
use dlf_engine::lessons::moe::{
    capacity, capacity_exact, dispatch, route, z_loss, AuxConvention, CapacityRounding, Dispatch, Priority,
    Routing, Score, TopKNorm,
};
use serde::{Deserialize, Serialize};

use super::{check_finite, given, named, Given, Name, Numbers, Pairs, Quantity, Scalar, Topic, Uses};

/// `dlf calc moe`.
#[derive(Debug)]
pub struct Moe;

/// Options of `dlf calc moe`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The router's score function: softmax over the experts (Switch, GShard, Mixtral, DeepSeek-V2; the
    /// default) or an elementwise sigmoid (DeepSeek-V3).
    #[arg(long, value_parser = named::<Score>())]
    pub score: Option<Score>,
    /// How the capacity used for dispatch is rounded: ceil (DeepSpeed, Megatron-Core, V-MoE; the default),
    /// round (V-MoE's option) or floor (Mesh-TensorFlow). Every rounding's capacity is printed anyway.
    #[arg(long, value_parser = named::<CapacityRounding>())]
    pub capacity_rounding: Option<CapacityRounding>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--score", self.score.is_some()),
            ("--capacity-rounding", self.capacity_rounding.is_some()),
        ])
    }
}

/// A configuration to count, as JSON gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    d_model: usize,
    layers: usize,
    vocab: usize,
    heads: usize,
    kv_heads: usize,
    #[serde(default)]
    head_dim: Option<usize>,
    d_ff_expert: usize,
    #[serde(default)]
    d_ff_dense: Option<usize>,
    experts: usize,
    top_k: usize,
    #[serde(default)]
    shared_experts: usize,
    #[serde(default)]
    dense_layers: usize,
    #[serde(default)]
    moe_every: Option<usize>,
    #[serde(default)]
    ffn_matrices: Option<usize>,
    #[serde(default)]
    tied: bool,
    #[serde(default)]
    router_bias: bool,
}

problem! {
    /// A routing problem (`logits`, `k`) or a counting problem (`config` or `preset`).
    pub struct Problem {
        required {}
        optional {
            logits: Numbers,
            k: usize,
            bias: Vec<f64>,
            route_scale: f64,
            capacity_factor: f64,
            config: Config,
            preset: Name<Preset>,
            top_k: usize,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin. Either a routing problem:
  logits           T×E router logits (a row per token)
  k                experts per token, 1 ≤ k ≤ E
  bias             optional E selection biases added to the scores for choosing only (auxiliary-loss-free
                   balancing, Wang et al. 2024; DeepSeek-V3); the gates use the unbiased scores
  route_scale      optional factor on every gate (DeepSeek-V3: 2.5; default 1)
  capacity_factor  optional cf: prints the capacity and the capacity-limited dispatch
or a counting problem:
  preset           \"mixtral-8x7b\" | \"deepseek-v3\" | \"switch-base\" | \"brief-50b\" (with optional top_k)
  config           {d_model, layers, vocab, heads, kv_heads, head_dim (default d_model/heads), d_ff_expert,
                    experts, top_k, and optionally d_ff_dense, shared_experts, dense_layers, moe_every (1),
                    ffn_matrices (3: SwiGLU; 2: ReLU), tied (false), router_bias (false)}

Routing (Shazeer et al. 2017; Fedus et al. 2021; Lepikhin et al. 2020):
  scores   s = softmax(x) per row (--score softmax) or s = sigmoid(x) elementwise (--score sigmoid)
  probs    p = s for softmax; s / Σ_j s_j for sigmoid (DeepSeek-V3's normalised scores for P)
  chosen   the k largest s + bias per row, best first; ties go to the lower expert index
  gates    \"none\": g = scale·s_e (Switch, DeepSeek-V2, OLMoE)
           \"renormalize\": g = scale·s_e / Σ_{top-k} s (GShard top-2, Mixtral, DeepSeek-V3)
  load     counts of first choices and of all choices per expert; P_i = mean_t p_ti
           f \"first-choice\"       = first-choice count / T      (Mesh-TF top-2, GShard, DeepSpeed top2gating)
           f \"all-choices\"        = all-choice count / T        (Hugging Face load_balancing_loss_func; Σf = k)
           f \"all-choices-over-k\" = all-choice count / (k·T)    (DeepSpeed topkgating, Megatron-Core, DeepSeekMoE)
  aux      E · Σ_i f_i P_i under each f (no coefficient): 1 at balance, k for \"all-choices\", → E at collapse
  z_loss   mean_t (log Σ_j e^{x_tj})²  (Zoph et al. 2022, ST-MoE; no coefficient)
  capacity exact = (k·T/E)·cf (in that order, as DeepSpeed and Megatron-Core compute it) and its floor (Mesh-TF, which leaves out k), round (V-MoE option) and ceil
           (DeepSpeed, Megatron-Core, V-MoE default); dispatch uses --capacity-rounding (default ceil)
  dispatch slot-major (every first choice before any second choice); within a slot tokens in batch order
           (\"in-order\": Mesh-TF, V-MoE vanilla) or by descending top gate (\"batch-priority\": Riquelme et al.
           2021); an assignment past its expert's capacity is dropped
Counting: total = embeddings + Σ_layers (attention + 2 norms + router + (S + E)·expert);
          active = the same with k in place of E; expert = ffn_matrices·d_model·d_ff_expert.

Output: routing: {\"router\": {scores, probs, chosen, gates: {none, renormalize}}, \"load\": {counts_first_choice,
counts_all_choices, f: {...}, P}, \"losses\": {aux: {...}, z_loss}, \"capacity\", \"dispatch\": {in-order,
batch-priority}: {kept, slot, demand, load, dropped, tokens_fully_dropped}}; counting: {\"params\": {total,
active, ...}}.

Examples:
  echo '{\"logits\":[[1,2,3,0],[0,1,0,2]],\"k\":2,\"capacity_factor\":1}' | dlf calc moe
  echo '{\"preset\":\"mixtral-8x7b\"}' | dlf calc moe";

/// Everything printed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// A routing problem's answer.
    Routing(Box<RoutingAnswer>),
    /// A counting problem's answer.
    Counting(CountingAnswer),
}

#[derive(Debug, Serialize)]
pub struct RoutingAnswer {
    topic: &'static str,
    method: &'static str,
    conventions: Pairs,
    shapes: Shapes,
    router: Router,
    load: Load,
    losses: Losses,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity: Option<Capacity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dispatch: Option<Dispatches>,
}

#[derive(Debug, Serialize)]
struct Shapes {
    logits: [usize; 2],
}

#[derive(Debug, Serialize)]
struct Router {
    scores: Vec<Vec<f64>>,
    probs: Vec<Vec<f64>>,
    chosen: Vec<Vec<usize>>,
    gates: Gates,
}

#[derive(Debug, Serialize)]
struct Gates {
    none: Vec<Vec<f64>>,
    renormalize: Vec<Vec<f64>>,
}

#[derive(Debug, Serialize)]
struct ByConvention {
    #[serde(rename = "first-choice")]
    first_choice: f64,
    #[serde(rename = "all-choices")]
    all_choices: f64,
    #[serde(rename = "all-choices-over-k")]
    all_choices_over_k: f64,
}

#[derive(Debug, Serialize)]
struct FractionsByConvention {
    #[serde(rename = "first-choice")]
    first_choice: Vec<f64>,
    #[serde(rename = "all-choices")]
    all_choices: Vec<f64>,
    #[serde(rename = "all-choices-over-k")]
    all_choices_over_k: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Load {
    counts_first_choice: Vec<usize>,
    counts_all_choices: Vec<usize>,
    f: FractionsByConvention,
    #[serde(rename = "P")]
    p: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Losses {
    aux: ByConvention,
    z_loss: f64,
}

#[derive(Debug, Serialize)]
struct Capacity {
    exact: f64,
    floor: usize,
    round: usize,
    ceil: usize,
    used: usize,
}

#[derive(Debug, Serialize)]
struct Dispatches {
    #[serde(rename = "in-order")]
    in_order: DispatchAnswer,
    #[serde(rename = "batch-priority")]
    batch_priority: DispatchAnswer,
}

#[derive(Debug, Serialize)]
struct DispatchAnswer {
    kept: Vec<Vec<bool>>,
    slot: Vec<Vec<usize>>,
    demand: Vec<usize>,
    load: Vec<usize>,
    dropped: usize,
    tokens_fully_dropped: usize,
}

#[derive(Debug, Serialize)]
pub struct CountingAnswer {
    topic: &'static str,
    method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    preset: Option<&'static str>,
    params: Counts,
}

#[derive(Debug, Serialize)]
struct Counts {
    total: f64,
    active: f64,
    active_fraction: f64,
    outside_routed_experts: f64,
    embeddings: f64,
    attention_and_norms: f64,
    dense_ffn: f64,
    routers: f64,
    shared_experts: f64,
    routed_experts_total: f64,
    routed_experts_active: f64,
    one_expert: f64,
    moe_layers: usize,
    forward_flops_per_token: f64,
}

fn rows<T: Copy>(v: &[T], cols: usize) -> Vec<Vec<T>> {
    v.chunks(cols).map(<[T]>::to_vec).collect()
}

fn dispatch_answer(d: Dispatch, k: usize) -> DispatchAnswer {
    DispatchAnswer {
        kept: rows(&d.kept, k),
        // A dropped assignment has no slot; 0 stands there, and `kept` says which.
        slot: rows(&d.slot, k),
        demand: d.demand,
        load: d.load,
        dropped: d.dropped,
        tokens_fully_dropped: d.tokens_fully_dropped,
    }
}

impl Topic for Moe {
    const NAME: &'static str = "moe";
    const ABOUT: &'static str =
        "Top-k routing, balancing losses, capacity and dispatch, or total and active parameters (lesson 12)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        if problem.logits.is_some() {
            Uses {
                method: "routing",
                fields: vec![
                    "logits",
                    "k",
                    "bias",
                    "route_scale",
                    "capacity_factor",
                    "--score",
                    "--capacity-rounding",
                ],
            }
        } else if problem.preset.is_some() {
            Uses {
                method: "counting a preset",
                fields: vec!["preset", "top_k"],
            }
        } else {
            Uses {
                method: "counting a config",
                fields: vec!["config"],
            }
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        if let Some(logits) = raw.logits {
            return solve_routing(logits, raw.k, raw.bias, raw.route_scale, raw.capacity_factor, options)
                .map(|a| Answer::Routing(Box::new(a)));
        }
        if let Some(preset) = raw.preset {
            let base = preset.0.config();
            let cfg = match raw.top_k {
                None => base,
                Some(k) if (1..=base.experts).contains(&k) => MoeConfig { top_k: k, ..base },
                Some(k) => bail!("top_k is {k} but {} has {} experts: use 1 to {}", preset.0.name(), base.experts, base.experts),
            };
            return Ok(Answer::Counting(counting(cfg, Some(preset.0.name()))?));
        }
        let Some(c) = raw.config else {
            bail!("give logits and k (routing), preset, or config (counting): see `dlf calc moe --help`");
        };
        let cfg = config(c)?;
        Ok(Answer::Counting(counting(cfg, None)?))
    }
}

fn config(c: Config) -> Result<MoeConfig> {
    let positive = [
        ("d_model", c.d_model),
        ("layers", c.layers),
        ("vocab", c.vocab),
        ("heads", c.heads),
        ("kv_heads", c.kv_heads),
        ("d_ff_expert", c.d_ff_expert),
        ("experts", c.experts),
        ("top_k", c.top_k),
    ];
    for (name, v) in positive {
        if v == 0 {
            bail!("config.{name} must be at least 1");
        }
    }
    if c.top_k > c.experts {
        bail!("config.top_k is {} but there are only {} experts", c.top_k, c.experts);
    }
    if c.dense_layers > c.layers {
        bail!("config.dense_layers is {} but there are only {} layers", c.dense_layers, c.layers);
    }
    let moe_every = c.moe_every.unwrap_or(1);
    if moe_every == 0 {
        bail!("config.moe_every must be at least 1 (1: every layer is MoE; 2: every other layer)");
    }
    let ffn_matrices = c.ffn_matrices.unwrap_or(3);
    if !(2..=3).contains(&ffn_matrices) {
        bail!("config.ffn_matrices must be 3 (SwiGLU) or 2 (ReLU/GELU), got {ffn_matrices}");
    }
    let head_dim = match c.head_dim {
        Some(0) => bail!("config.head_dim must be at least 1"),
        Some(h) => h,
        None if c.d_model % c.heads == 0 => c.d_model / c.heads,
        None => bail!("config.heads ({}) does not divide d_model ({}): give head_dim", c.heads, c.d_model),
    };
    Ok(MoeConfig {
        d_model: c.d_model,
        layers: c.layers,
        dense_layers: c.dense_layers,
        moe_every,
        vocab: c.vocab,
        tied: c.tied,
        attention: Attention::Gqa {
            heads: c.heads,
            kv_heads: c.kv_heads,
            head_dim,
        },
        d_ff_dense: c.d_ff_dense.unwrap_or(c.d_ff_expert),
        d_ff_expert: c.d_ff_expert,
        ffn_matrices,
        experts: c.experts,
        shared: c.shared_experts,
        top_k: c.top_k,
        router_bias: c.router_bias,
    })
}

fn counting(cfg: MoeConfig, preset: Option<&'static str>) -> Result<CountingAnswer> {
    let c: ParamCount = cfg.count();
    let counts = Counts {
        total: c.total(),
        active: c.active(),
        active_fraction: c.active() / c.total(),
        outside_routed_experts: c.shared_part(),
        embeddings: c.embeddings,
        attention_and_norms: c.attention,
        dense_ffn: c.dense_ffn,
        routers: c.routers,
        shared_experts: c.shared_experts,
        routed_experts_total: c.routed_total,
        routed_experts_active: c.routed_active,
        one_expert: c.expert,
        moe_layers: c.moe_layers,
        forward_flops_per_token: c.flops_per_token(&cfg),
    };
    let values = [counts.total, counts.active, counts.forward_flops_per_token];
    check_finite(
        Moe::NAME,
        "counting",
        &[Quantity::vector("params", &values, "the products of the configuration's sizes")],
        |_, _| None,
    )?;
    Ok(CountingAnswer {
        topic: Moe::NAME,
        method: "counting",
        preset,
        params: counts,
    })
}

fn solve_routing(
    logits: Numbers,
    k: Option<usize>,
    bias: Option<Vec<f64>>,
    route_scale: Option<f64>,
    capacity_factor: Option<f64>,
    options: &Options,
) -> Result<RoutingAnswer> {
    let logits = logits.matrix("logits")?;
    let (t, e) = (logits.rows(), logits.cols());
    let Some(k) = k else {
        bail!("routing needs k, the number of experts per token (1 to {e})");
    };
    if !(1..=e).contains(&k) {
        bail!("k is {k} but logits have {e} experts (columns): use 1 to {e}");
    }
    let bias = bias.unwrap_or_default();
    if !bias.is_empty() && bias.len() != e {
        bail!("bias has {} entries but logits have {e} experts (columns)", bias.len());
    }
    let scale = route_scale.unwrap_or(1.0);
    if !scale.is_finite() || scale <= 0.0 {
        bail!("route_scale must be a finite number > 0, got {scale}");
    }
    if let Some(cf) = capacity_factor {
        if !(0.0..=1e6).contains(&cf) {
            bail!("capacity_factor must be a number from 0 to 1e6, got {cf}");
        }
    }
    let score = options.score.unwrap_or(Score::Softmax);
    let rounding = options.capacity_rounding.unwrap_or(CapacityRounding::Ceil);
    let x = logits.data();
    let plain: Routing = route(x, e, k, score, TopKNorm::None, &bias, scale);
    let renorm: Routing = route(x, e, k, score, TopKNorm::Renormalize, &bias, scale);
    let p = plain.mean_probs();
    let f: Vec<Vec<f64>> = AuxConvention::ALL
        .iter()
        .map(|&c| plain.load_fractions(c))
        .collect();
    let aux: Vec<f64> = AuxConvention::ALL.iter().map(|&c| plain.aux_loss(c)).collect();
    let z = z_loss(x, e);
    check_finite(
        Moe::NAME,
        "routing",
        &[
            Quantity::vector("scores", &plain.scores, "softmax or sigmoid of the logits"),
            Quantity::vector("gates.none", &plain.gates, "scale · s_e"),
            Quantity::vector("gates.renormalize", &renorm.gates, "scale · s_e / Σ_top-k s"),
            Quantity::vector("P", &p, "mean_t p_ti"),
            Quantity::vector("aux", &aux, "E · Σ f_i P_i"),
            Quantity::scalar("z_loss", &z, "mean_t (log Σ_j e^{x_tj})²"),
        ],
        |q, _| {
            (q.name == "z_loss").then(|| {
                "(log Σ e^x)² passes the largest double: the logits are beyond about ±1.3e154".to_string()
            })
        },
    )?;
    let (cap, dispatches) = match capacity_factor {
        None => (None, None),
        Some(cf) => {
            let used = capacity(t, e, k, cf, rounding);
            let c = Capacity {
                exact: capacity_exact(t, e, k, cf),
                floor: capacity(t, e, k, cf, CapacityRounding::Floor),
                round: capacity(t, e, k, cf, CapacityRounding::Round),
                ceil: capacity(t, e, k, cf, CapacityRounding::Ceil),
                used,
            };
            let d = Dispatches {
                in_order: dispatch_answer(dispatch(&plain, used, Priority::InOrder), k),
                batch_priority: dispatch_answer(dispatch(&plain, used, Priority::BatchPriority), k),
            };
            (Some(c), Some(d))
        }
    };
    let mut conventions = vec![
        ("score", Scalar::Text(score.name())),
        ("k", Scalar::Number(k as f64)),
        ("route_scale", Scalar::Number(scale)),
    ];
    if capacity_factor.is_some() {
        conventions.push(("capacity_rounding", Scalar::Text(rounding.name())));
    }
    Ok(RoutingAnswer {
        topic: Moe::NAME,
        method: "routing",
        conventions: Pairs(conventions),
        shapes: Shapes { logits: [t, e] },
        router: Router {
            scores: rows(&plain.scores, e),
            probs: rows(&plain.probs, e),
            chosen: rows(&plain.chosen, k),
            gates: Gates {
                none: rows(&plain.gates, k),
                renormalize: rows(&renorm.gates, k),
            },
        },
        load: Load {
            counts_first_choice: plain.counts(1),
            counts_all_choices: plain.counts(k),
            f: FractionsByConvention {
                first_choice: f[0].clone(),
                all_choices: f[1].clone(),
                all_choices_over_k: f[2].clone(),
            },
            p,
        },
        losses: Losses {
            aux: ByConvention {
                first_choice: aux[0],
                all_choices: aux[1],
                all_choices_over_k: aux[2],
            },
            z_loss: z,
        },
        capacity: cap,
        dispatch: dispatches,
    })
}

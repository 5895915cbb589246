//! Mixture of experts (lesson 12): routing a token to `k` of `E` feed-forward experts, the balancing losses,
//! expert capacity and capacity-limited dispatch, and total against active parameter counts.
//!
//! A router is a linear map from the token's `d`-vector to `E` logits `x_t` (Shazeer et al., "Outrageously
//! Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer", ICLR 2017). Its scores are
//! `s_t = softmax(x_t)` (Switch, Fedus, Zoph & Shazeer 2021; GShard, Lepikhin et al. 2020; Mixtral, Jiang et
//! al. 2024) or `s_t = sigmoid(x_t)` elementwise (DeepSeek-V3, 2024). The token goes to the `k` experts with the
//! largest `s_t + b` (`b` is the selection-only bias of auxiliary-loss-free balancing, Wang et al. 2024; zero
//! otherwise), and expert `e`'s output is weighted by a gate built from the *unbiased* score `s_te`:
//!
//! - [`TopKNorm::None`]: `g = s_te` (Switch top-1; DeepSeek-V2; OLMoE's `norm_topk_prob = false`),
//! - [`TopKNorm::Renormalize`]: `g = s_te / Σ_{j ∈ top-k} s_tj` (GShard top-2, Mixtral — where it equals a
//!   softmax over the top-k logits —, DeepSeek-V3 with its sigmoid scores),
//!
//! then times a routed scaling factor (DeepSeek-V3's `route_scale = 2.5`; 1 elsewhere).
//!
//! The Switch load-balancing loss is `L_aux = E · Σ_i f_i P_i` with `P_i = (1/T) Σ_t p_ti` the mean router
//! probability (differentiable) and `f_i` the fraction of tokens sent to expert `i` (a count, not
//! differentiable); how `f` counts with `k > 1` is a convention ([`AuxConvention`]). The router z-loss is
//! `L_z = (1/T) Σ_t (log Σ_j e^{x_tj})²` (Zoph et al., "ST-MoE", 2022). An expert's capacity is
//! `C = rounding(cf · k · T / E)` ([`CapacityRounding`]); assignments beyond it are dropped in a priority order
//! ([`Priority`]).

pub mod params;
pub mod router_sim;

mod estimates;
mod quantities;
#[cfg(test)]
mod tests;

/// Lesson 12's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "moe",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

/// The router's score function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    /// `softmax` over all `E` logits (Switch, GShard, Mixtral, DeepSeek-V2).
    Softmax,
    /// `sigmoid` of each logit separately (DeepSeek-V3).
    Sigmoid,
}

impl Score {
    /// Every score function.
    pub const ALL: [Score; 2] = [Score::Softmax, Score::Sigmoid];

    /// Parses `softmax` or `sigmoid`.
    pub fn parse(s: &str) -> Option<Score> {
        match s.trim().to_ascii_lowercase().as_str() {
            "softmax" => Some(Score::Softmax),
            "sigmoid" => Some(Score::Sigmoid),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Score::Softmax => "softmax",
            Score::Sigmoid => "sigmoid",
        }
    }
}

/// How the `k` selected scores become gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopKNorm {
    /// The selected scores as they are (Switch, DeepSeek-V2, OLMoE).
    None,
    /// The selected scores divided by their sum (GShard top-2, Mixtral, DeepSeek-V3).
    Renormalize,
}

impl TopKNorm {
    /// Every convention.
    pub const ALL: [TopKNorm; 2] = [TopKNorm::None, TopKNorm::Renormalize];

    /// Parses `none` or `renormalize`.
    pub fn parse(s: &str) -> Option<TopKNorm> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(TopKNorm::None),
            "renormalize" | "renormalise" => Some(TopKNorm::Renormalize),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            TopKNorm::None => "none",
            TopKNorm::Renormalize => "renormalize",
        }
    }
}

/// How the load fraction `f_i` of the auxiliary loss counts a token routed to `k > 1` experts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuxConvention {
    /// Only each token's first choice: `f_i = #{t: top-1(t) = i}/T`, `Σf = 1`, value 1 at balance
    /// (Mesh-TensorFlow's `_top_2_gating`, GShard; DeepSpeed's `top2gating`).
    FirstChoice,
    /// Every choice, per token: `f_i = #{t: i ∈ top-k(t)}/T`, `Σf = k`, value `k` at balance (Hugging Face
    /// transformers' `load_balancing_loss_func`, used by Mixtral and the models built on that file).
    AllChoices,
    /// Every choice, per assignment: `f_i = #{t: i ∈ top-k(t)}/(kT)`, `Σf = 1`, value 1 at balance (DeepSpeed's
    /// `topkgating`, Megatron-Core, DeepSeekMoE's expert-level loss with its `N/(K T)` factor).
    AllChoicesOverK,
}

impl AuxConvention {
    /// Every convention.
    pub const ALL: [AuxConvention; 3] = [
        AuxConvention::FirstChoice,
        AuxConvention::AllChoices,
        AuxConvention::AllChoicesOverK,
    ];

    /// Parses `first-choice`, `all-choices` or `all-choices-over-k`.
    pub fn parse(s: &str) -> Option<AuxConvention> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        AuxConvention::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            AuxConvention::FirstChoice => "first-choice",
            AuxConvention::AllChoices => "all-choices",
            AuxConvention::AllChoicesOverK => "all-choices-over-k",
        }
    }
}

/// How `cf · k · T / E` becomes a whole number of slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityRounding {
    /// Round down (Mesh-TensorFlow's `int(...)`, which also leaves out `k`).
    Floor,
    /// Round to nearest, ties to even — Python's `round`, which V-MoE's `compute_capacity` uses for
    /// `capacity_ceil_or_round = "round"`.
    Round,
    /// Round up (DeepSpeed, Megatron-Core, V-MoE's default).
    Ceil,
}

impl CapacityRounding {
    /// Every rounding.
    pub const ALL: [CapacityRounding; 3] = [
        CapacityRounding::Floor,
        CapacityRounding::Round,
        CapacityRounding::Ceil,
    ];

    /// Parses `floor`, `round` or `ceil`.
    pub fn parse(s: &str) -> Option<CapacityRounding> {
        match s.trim().to_ascii_lowercase().as_str() {
            "floor" => Some(CapacityRounding::Floor),
            "round" => Some(CapacityRounding::Round),
            "ceil" => Some(CapacityRounding::Ceil),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            CapacityRounding::Floor => "floor",
            CapacityRounding::Round => "round",
            CapacityRounding::Ceil => "ceil",
        }
    }
}

/// Which assignments claim an expert's slots first when more than `C` tokens choose it. In both orders every
/// token's first choice comes before any token's second choice (Mesh-TensorFlow, GShard, V-MoE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Position in the batch: earlier tokens first (Mesh-TensorFlow's cumulative sum, V-MoE's "vanilla").
    InOrder,
    /// Batch priority routing: tokens with the largest top score first (Riquelme et al. 2021, V-MoE).
    BatchPriority,
}

impl Priority {
    /// Every order.
    pub const ALL: [Priority; 2] = [Priority::InOrder, Priority::BatchPriority];

    /// Parses `in-order` or `batch-priority`.
    pub fn parse(s: &str) -> Option<Priority> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "in-order" => Some(Priority::InOrder),
            "batch-priority" | "bpr" => Some(Priority::BatchPriority),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Priority::InOrder => "in-order",
            Priority::BatchPriority => "batch-priority",
        }
    }
}

/// A routing decision for `T` tokens: the scores, the selected experts and their gates.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// Tokens `T`.
    pub tokens: usize,
    /// Experts `E`.
    pub experts: usize,
    /// Experts per token `k`.
    pub k: usize,
    /// `T × E` scores `s` (softmax or sigmoid of the logits; no bias).
    pub scores: Vec<f64>,
    /// `T × E` probabilities used for `P_i`: the softmax, or for sigmoid scores each row divided by its sum
    /// (DeepSeek-V3's normalised scores `s'`).
    pub probs: Vec<f64>,
    /// `T × k` selected experts, best first (by `s + b`; ties go to the lower index).
    pub chosen: Vec<usize>,
    /// `T × k` gates: the selected scores times the scale, normalised or not.
    pub gates: Vec<f64>,
}

/// `softmax` of one row, shifted by its maximum.
pub fn softmax_row(x: &[f64]) -> Vec<f64> {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|&v| crate::math::exp(v - m)).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// `log Σ_j e^{x_j}`, shifted by the maximum.
pub fn logsumexp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    m + crate::math::ln(x.iter().map(|&v| crate::math::exp(v - m)).sum::<f64>())
}

/// `1/(1 + e^{−x})`, written so neither branch overflows.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + crate::math::exp(-x))
    } else {
        let e = crate::math::exp(x);
        e / (1.0 + e)
    }
}

/// The `k` indices with the largest values, largest first; ties go to the lower index.
pub fn top_k(values: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    // A stable sort on the value descending keeps equal values in index order.
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    idx.truncate(k);
    idx
}

/// Routes `T` tokens given their `T × E` logits (row-major).
///
/// `bias` (length `E`, or empty) is added to the scores for the *selection only*, as auxiliary-loss-free
/// balancing does (Wang et al. 2024; DeepSeek-V3); the gates use the unbiased scores. `scale` multiplies every
/// gate (DeepSeek-V3's routed scaling factor).
///
/// # Panics
/// If `logits.len() != tokens · experts`, `k` is 0 or above `E`, or `bias` has the wrong length (callers
/// validate).
pub fn route(
    logits: &[f64],
    experts: usize,
    k: usize,
    score: Score,
    norm: TopKNorm,
    bias: &[f64],
    scale: f64,
) -> Routing {
    assert!(experts > 0 && logits.len() % experts == 0 && (1..=experts).contains(&k));
    assert!(bias.is_empty() || bias.len() == experts);
    let tokens = logits.len() / experts;
    let mut scores = Vec::with_capacity(logits.len());
    let mut probs = Vec::with_capacity(logits.len());
    let mut chosen = Vec::with_capacity(tokens * k);
    let mut gates = Vec::with_capacity(tokens * k);
    for row in logits.chunks(experts) {
        let s: Vec<f64> = match score {
            Score::Softmax => softmax_row(row),
            Score::Sigmoid => row.iter().map(|&x| sigmoid(x)).collect(),
        };
        let p: Vec<f64> = match score {
            Score::Softmax => s.clone(),
            Score::Sigmoid => {
                let total: f64 = s.iter().sum();
                s.iter().map(|v| v / total).collect()
            }
        };
        let selection: Vec<f64> = if bias.is_empty() {
            s.clone()
        } else {
            s.iter().zip(bias).map(|(a, b)| a + b).collect()
        };
        let top = top_k(&selection, k);
        let denom: f64 = match norm {
            TopKNorm::None => 1.0,
            TopKNorm::Renormalize => top.iter().map(|&e| s[e]).sum(),
        };
        for &e in &top {
            gates.push(scale * s[e] / denom);
        }
        chosen.extend(top);
        scores.extend(s);
        probs.extend(p);
    }
    Routing {
        tokens,
        experts,
        k,
        scores,
        probs,
        chosen,
        gates,
    }
}

impl Routing {
    /// `P_i = (1/T) Σ_t p_ti`, the mean router probability of each expert.
    pub fn mean_probs(&self) -> Vec<f64> {
        let mut p = vec![0.0; self.experts];
        for row in self.probs.chunks(self.experts) {
            for (acc, v) in p.iter_mut().zip(row) {
                *acc += v;
            }
        }
        p.iter().map(|v| v / self.tokens as f64).collect()
    }

    /// Assignments per expert: `counts[i] = #{(t, j): chosen[t][j] = i}` over the first `slots` choices.
    pub fn counts(&self, slots: usize) -> Vec<usize> {
        let mut c = vec![0; self.experts];
        for row in self.chosen.chunks(self.k) {
            for &e in &row[..slots.min(self.k)] {
                c[e] += 1;
            }
        }
        c
    }

    /// The load fractions `f_i` under a convention.
    pub fn load_fractions(&self, convention: AuxConvention) -> Vec<f64> {
        let t = self.tokens as f64;
        let (counts, denom) = match convention {
            AuxConvention::FirstChoice => (self.counts(1), t),
            AuxConvention::AllChoices => (self.counts(self.k), t),
            AuxConvention::AllChoicesOverK => (self.counts(self.k), t * self.k as f64),
        };
        counts.iter().map(|&c| c as f64 / denom).collect()
    }

    /// The Switch auxiliary loss `E · Σ_i f_i P_i` (without the coefficient α) under a convention.
    pub fn aux_loss(&self, convention: AuxConvention) -> f64 {
        let f = self.load_fractions(convention);
        let p = self.mean_probs();
        self.experts as f64 * f.iter().zip(&p).map(|(a, b)| a * b).sum::<f64>()
    }
}

/// The router z-loss `(1/T) Σ_t (log Σ_j e^{x_tj})²` of `T × E` logits (Zoph et al. 2022), without its
/// coefficient (ST-MoE uses 0.001).
pub fn z_loss(logits: &[f64], experts: usize) -> f64 {
    let rows = logits.len() / experts;
    logits
        .chunks(experts)
        .map(|r| {
            let z = logsumexp(r);
            z * z
        })
        .sum::<f64>()
        / rows as f64
}

/// Expert capacity `rounding(cf · k · T / E)` in slots, evaluated as `((k·T)/E) · cf` in floating point — the
/// order of DeepSpeed's `_capacity` and Megatron-Core's `get_capacity`, which matters when the product lands a
/// rounding error away from a whole number.
pub fn capacity(tokens: usize, experts: usize, k: usize, factor: f64, rounding: CapacityRounding) -> usize {
    let exact = capacity_exact(tokens, experts, k, factor);
    let c = match rounding {
        CapacityRounding::Floor => exact.floor(),
        CapacityRounding::Round => exact.round_ties_even(),
        CapacityRounding::Ceil => exact.ceil(),
    };
    c.max(0.0) as usize
}

/// `((k·T)/E) · cf` before rounding.
pub fn capacity_exact(tokens: usize, experts: usize, k: usize, factor: f64) -> f64 {
    (k * tokens) as f64 / experts as f64 * factor
}

/// The outcome of capacity-limited dispatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatch {
    /// `T × k`: whether assignment `(t, j)` got a slot.
    pub kept: Vec<bool>,
    /// `T × k`: the slot it got in its expert's buffer (meaningful where kept).
    pub slot: Vec<usize>,
    /// Assignments each expert received before the cap.
    pub demand: Vec<usize>,
    /// Assignments each expert processes (at most the capacity).
    pub load: Vec<usize>,
    /// Assignments dropped.
    pub dropped: usize,
    /// Tokens whose every assignment was dropped (they pass through the residual connection only).
    pub tokens_fully_dropped: usize,
}

/// The order in which assignments claim slots: slot-major (every token's first choice, then every second
/// choice), tokens in batch order or by descending top gate (ties keep batch order).
pub fn priority_order(r: &Routing, priority: Priority) -> Vec<usize> {
    let mut tokens: Vec<usize> = (0..r.tokens).collect();
    if priority == Priority::BatchPriority {
        // V-MoE ranks tokens by their largest routing weight, which is the first gate.
        tokens.sort_by(|&a, &b| r.gates[b * r.k].total_cmp(&r.gates[a * r.k]));
    }
    let mut order = Vec::with_capacity(r.tokens * r.k);
    for j in 0..r.k {
        order.extend(tokens.iter().map(|&t| t * r.k + j));
    }
    order
}

/// Fills each expert's `capacity` slots in the priority order and drops the rest.
pub fn dispatch(r: &Routing, capacity: usize, priority: Priority) -> Dispatch {
    let n = r.tokens * r.k;
    let mut kept = vec![false; n];
    let mut slot = vec![0; n];
    let mut load = vec![0; r.experts];
    let mut demand = vec![0; r.experts];
    for a in priority_order(r, priority) {
        let e = r.chosen[a];
        demand[e] += 1;
        if load[e] < capacity {
            kept[a] = true;
            slot[a] = load[e];
            load[e] += 1;
        }
    }
    let dropped = kept.iter().filter(|&&k| !k).count();
    let tokens_fully_dropped = kept.chunks(r.k).filter(|row| row.iter().all(|&k| !k)).count();
    Dispatch {
        kept,
        slot,
        demand,
        load,
        dropped,
        tokens_fully_dropped,
    }
}

/// Expected fraction of assignments dropped when `T·k` assignments land uniformly at random on `E` experts
/// of capacity `C` each: `E · E[(n − C)⁺] / (kT)` with `n ~ Binomial(kT, 1/E)` (the exact sum; assignments of
/// one token are treated as independent, which is exact for `k = 1`).
pub fn random_drop_fraction(tokens: usize, experts: usize, k: usize, capacity: usize) -> f64 {
    let n = tokens * k;
    let p = 1.0 / experts as f64;
    // log C(n, j) p^j (1 − p)^{n − j} built up term by term to stay finite for large n.
    let ln_p = crate::math::ln(p);
    let ln_q = crate::math::ln_1p(-p);
    let mut ln_choose = 0.0;
    let mut excess = 0.0;
    for j in 0..=n {
        if j > 0 {
            ln_choose += crate::math::ln((n - j + 1) as f64) - crate::math::ln(j as f64);
        }
        if j > capacity {
            let ln_pmf = ln_choose + j as f64 * ln_p + (n - j) as f64 * ln_q;
            excess += (j - capacity) as f64 * crate::math::exp(ln_pmf);
        }
    }
    experts as f64 * excess / n as f64
}

/// Expected number of distinct experts a batch of `B` tokens touches when each picks `k` distinct experts
/// uniformly at random: `E · (1 − (1 − k/E)^B)`.
pub fn expected_experts_touched(experts: usize, k: usize, batch: usize) -> f64 {
    let miss = 1.0 - k as f64 / experts as f64;
    experts as f64 * (1.0 - miss.powi(batch as i32))
}

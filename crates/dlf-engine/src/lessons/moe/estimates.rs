//! Estimation problems of the lesson on mixture of experts (ids start with `moe.`).
//!
//! Every answer comes from [`crate::lessons::moe`]: the parameter counts of [`MoeConfig::count`], the
//! capacity of [`capacity`] and the expected experts touched of [`expected_experts_touched`].

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::moe::params::{Attention, MoeConfig};
use crate::lessons::moe::{capacity, expected_experts_touched, CapacityRounding};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "moe.active_params",
        title: "Total and active parameters of an MoE transformer",
        description: "Billions of parameters in total or used per token by a decoder with GQA attention and top-k of E SwiGLU experts in every layer",
        generate: |rng| Some(active_params(rng)),
    },
    GeneratorSpec {
        id: "moe.capacity",
        title: "Expert capacity and the tokens it can drop",
        description: "Slots per expert ⌈cf·k·T/E⌉, or how many assignments an overloaded expert drops",
        generate: |rng| Some(capacity_problem(rng)),
    },
    GeneratorSpec {
        id: "moe.decode_bytes",
        title: "Expert weights one decode step reads",
        description: "GB of routed-expert weights read per decode step for a batch of B tokens, from the expected number of distinct experts touched per layer",
        generate: |rng| Some(decode_bytes(rng)),
    },
];

fn active_params(rng: &mut Rng) -> Problem {
    let (d, layers, heads, kv) = rng.pick(&[
        (2048usize, 24usize, 16usize, 4usize),
        (4096, 32, 32, 8),
        (5120, 40, 40, 8),
        (6144, 48, 48, 8),
    ]);
    let ff = d * rng.pick(&[2usize, 3, 4]);
    let experts = rng.pick(&[8usize, 16, 32, 64]);
    let k = rng.pick(&[1usize, 2, 4]);
    let vocab = rng.pick(&[32000usize, 65536, 128_000]);
    let cfg = MoeConfig {
        d_model: d,
        layers,
        dense_layers: 0,
        moe_every: 1,
        vocab,
        tied: false,
        attention: Attention::Gqa {
            heads,
            kv_heads: kv,
            head_dim: d / heads,
        },
        d_ff_dense: ff,
        d_ff_expert: ff,
        ffn_matrices: 3,
        experts,
        shared: 0,
        top_k: k,
        router_bias: false,
    };
    let c = cfg.count();
    let ask_total = rng.below(2) == 0;
    let answer = if ask_total { c.total() } else { c.active() } / 1e9;
    let hd = d / heads;
    let attn = 2 * d * d + 2 * d * kv * hd;
    let expert = 3 * d * ff;
    let what = if ask_total {
        "in total"
    } else {
        "are active for one token"
    };
    let last = if ask_total {
        format!(
            "Total: embeddings plus $L \\times$ (attention $+$ ${experts}$ experts): $\\approx {answer:.2}$B (norms and routers add under 0.1 %)."
        )
    } else {
        format!(
            "Active: embeddings plus $L \\times$ (attention $+$ ${k}$ experts) $\\approx {answer:.2}$B — the other ${}$ experts per layer sit idle for this token.",
            experts - k
        )
    };
    Problem {
        question: format!(
            "A decoder has $L = {layers}$ layers of width $d = {d}$, grouped-query attention with ${heads}$ query \
             heads and ${kv}$ key/value heads of width ${hd}$, and in every layer ${experts}$ SwiGLU experts \
             (three $d \\times {ff}$ matrices each) of which each token uses the top ${k}$. The vocabulary has \
             ${vocab}$ entries, with separate input and output embeddings. How many billion parameters {what}?"
        ),
        answer,
        unit: "B parameters".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!(
                "Attention per layer: $q, o$: $2d^2$; $k, v$: $2 d \\cdot {kv} \\cdot {hd}$; together ${:.1}$M.",
                attn as f64 / 1e6
            ),
            format!(
                "One expert: $3 \\times {d} \\times {ff} = {:.1}$M.",
                expert as f64 / 1e6
            ),
            format!(
                "Embeddings: $2 \\times {vocab} \\times {d} = {:.2}$B.",
                (2 * vocab * d) as f64 / 1e9
            ),
            last,
        ],
    }
}

fn capacity_problem(rng: &mut Rng) -> Problem {
    let tokens = rng.pick(&[1024usize, 2048, 4096, 8192]);
    let experts = rng.pick(&[8usize, 16, 64, 128]);
    let k = rng.pick(&[1usize, 2]);
    let cf = rng.pick(&[1.0f64, 1.25, 1.5, 2.0]);
    let c = capacity(tokens, experts, k, cf, CapacityRounding::Ceil);
    if rng.below(2) == 0 {
        Problem {
            question: format!(
                "A batch of $T = {tokens}$ tokens is routed top-{k} over $E = {experts}$ experts with capacity \
                 factor ${cf}$. Capacity is rounded up, as DeepSpeed and Megatron-Core do. How many slots does \
                 each expert have?"
            ),
            answer: c as f64,
            unit: "slots".into(),
            rel_tolerance: 0.01,
            solution: vec![
                format!(
                    "Assignments: $kT = {}$; an even share per expert: $kT/E = {}$.",
                    k * tokens,
                    (k * tokens) as f64 / experts as f64
                ),
                format!("Capacity: $\\lceil {cf} \\times {} \\rceil = {c}$ slots.", (k * tokens) as f64 / experts as f64),
            ],
        }
    } else {
        let pct = rng.pick(&[20usize, 25, 30]);
        let demand = pct * k * tokens / 100;
        let dropped = demand.saturating_sub(c);
        Problem {
            question: format!(
                "A batch of $T = {tokens}$ tokens is routed top-{k} over $E = {experts}$ experts with capacity \
                 factor ${cf}$ (rounded up). A collapsing router sends {}% of all assignments to one expert. \
                 How many of that expert's assignments are dropped?",
                pct
            ),
            answer: dropped as f64,
            unit: "assignments".into(),
            rel_tolerance: 0.02,
            solution: vec![
                format!(
                    "Capacity: $\\lceil {cf} \\times {k} \\times {tokens} / {experts} \\rceil = {c}$ slots."
                ),
                format!(
                    "Demand: ${pct}\\% \\times {} = {demand}$ assignments.",
                    k * tokens
                ),
                format!(
                    "Dropped: ${demand} - {c} = {dropped}$ — these tokens skip the expert and keep only their residual."
                ),
            ],
        }
    }
}

fn decode_bytes(rng: &mut Rng) -> Problem {
    let (name, experts, k, layers, d, ff) = rng.pick(&[
        ("An 8-expert top-2 model", 8usize, 2usize, 32usize, 4096usize, 14336usize),
        ("A 64-expert top-6 model", 64, 6, 28, 2048, 1408),
        ("A 16-expert top-2 model", 16, 2, 40, 5120, 8192),
    ]);
    let batch = rng.pick(&[1usize, 4, 16, 64]);
    let bytes = rng.pick(&[(2.0f64, "bf16"), (1.0, "fp8")]);
    let touched = expected_experts_touched(experts, k, batch);
    let expert_bytes = (3 * d * ff) as f64 * bytes.0;
    let answer = touched * expert_bytes * layers as f64 / 1e9;
    Problem {
        question: format!(
            "{name} ($E = {experts}$, $k = {k}$, $L = {layers}$ MoE layers, each expert three ${d} \\times {ff}$ \
             matrices in {}) decodes a batch of $B = {batch}$ sequences, one token each. If every token picks \
             its $k$ experts uniformly at random, how many GB of routed-expert weights does one decode step \
             read from HBM (each touched expert read once per layer)?",
            bytes.1
        ),
        answer,
        unit: "GB".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!(
                "An expert is missed by one token with probability $1 - k/E = {:.4}$, by all $B$ with $(1 - k/E)^B$.",
                1.0 - k as f64 / experts as f64
            ),
            format!(
                "Distinct experts per layer: $E(1 - (1 - k/E)^B) = {touched:.2}$ of ${experts}$."
            ),
            format!(
                "Bytes: ${touched:.2} \\times 3 \\times {d} \\times {ff} \\times {} \\times {layers} = {answer:.2}$ GB — at large $B$ every expert is read, so decode pays for total, not active, expert weights.",
                bytes.0
            ),
        ],
    }
}

//! Estimation problems of lesson 06 (ids start with `transformer.`).
//!
//! Every answer comes from [`crate::lessons::transformer::count`]: the parameter count of a drawn
//! configuration, the key/value cache of [`Config::kv_cache_bytes_per_token`], and the `6N` training rule of
//! [`Config::training_flops_per_token`] under Kaplan's convention without its attention term.

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::norm::NormKind;
use crate::lessons::transformer::count::{Config, MlpKind};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "transformer.param_count",
        title: "Parameters of a decoder-only transformer",
        description: "Total parameters of a GPT-2-style (LayerNorm, biases, GELU, tied, learned positions) or LLaMA-style (RMSNorm, no biases, SwiGLU, untied, RoPE) model from its shape",
        generate: |rng| Some(param_count(rng)),
    },
    GeneratorSpec {
        id: "transformer.kv_cache",
        title: "Key/value cache of a batch at inference",
        description: "GB of bf16 keys and values for a batch of long sequences, with multi-head, grouped-query or multi-query attention",
        generate: |rng| Some(kv_cache(rng)),
    },
    GeneratorSpec {
        id: "transformer.training_days",
        title: "Days to train a model on a cluster",
        description: "Wall-clock days for 6·N·D training FLOPs on G accelerators at a given peak and model-FLOPs utilisation",
        generate: |rng| Some(training_days(rng)),
    },
];

fn param_count(rng: &mut Rng) -> Problem {
    if rng.below(2) == 0 {
        let d = rng.pick(&[512u64, 768, 1024, 1536, 2048]);
        let layers = rng.pick(&[6u64, 12, 24, 36]);
        let heads = d / 64;
        let vocab = rng.pick(&[32_000u64, 50_257, 65_536]);
        let ctx = rng.pick(&[1024u64, 2048]);
        let c = Config {
            d_model: d,
            n_layers: layers,
            n_heads: heads,
            n_kv_heads: heads,
            d_head: 64,
            d_ff: 4 * d,
            vocab,
            n_ctx: ctx,
            mlp: MlpKind::Gelu,
            bias: true,
            tied: true,
            norm: NormKind::Layer,
            learned_positions: true,
        };
        let p = c.params();
        Problem {
            question: format!(
                "A GPT-2-style decoder has $L = {layers}$ blocks of width $d = {d}$ ({heads} heads of 64), an MLP \
                 of width $4d$ with GELU, biases on every linear layer, LayerNorm (with $\\beta$) before each \
                 branch and at the end, a learned position table for ${ctx}$ positions and a vocabulary of \
                 ${vocab}$ tied to the output. How many parameters does it have?"
            ),
            answer: p.total() as f64,
            unit: "parameters".into(),
            rel_tolerance: 0.01,
            solution: vec![
                format!(
                    "Per block: attention $4d^2 + 4d = {}$, MLP $8d^2 + 5d = {}$, two LayerNorms $4d = {}$; total $12d^2 + 13d = {}$.",
                    p.attention_per_layer, p.mlp_per_layer, p.norms_per_layer, p.per_layer()
                ),
                format!("All blocks: ${layers} \\times {} = {}$.", p.per_layer(), p.blocks()),
                format!(
                    "Embeddings: tokens $Vd = {}$, positions $n_{{ctx}} d = {}$; final LayerNorm $2d = {}$; tied output: 0.",
                    p.token_embedding, p.position_embedding, p.final_norm
                ),
                format!("Total: ${}$ ($\\approx 12Ld^2 + Vd$).", p.total()),
            ],
        }
    } else {
        let (d, layers, ff) = rng.pick(&[
            (2048u64, 16u64, 5632u64),
            (3072, 28, 8192),
            (4096, 32, 11_008),
            (5120, 40, 13_824),
        ]);
        let heads = d / 128;
        let kv = rng.pick(&[heads, heads / 4, 8.min(heads)]);
        let vocab = rng.pick(&[32_000u64, 128_256]);
        let c = Config {
            d_model: d,
            n_layers: layers,
            n_heads: heads,
            n_kv_heads: kv,
            d_head: 128,
            d_ff: ff,
            vocab,
            n_ctx: 4096,
            mlp: MlpKind::SwiGlu,
            bias: false,
            tied: false,
            norm: NormKind::Rms,
            learned_positions: false,
        };
        let p = c.params();
        Problem {
            question: format!(
                "A LLaMA-style decoder has $L = {layers}$ blocks of width $d = {d}$, {heads} query heads and \
                 {kv} key/value heads of width 128, a SwiGLU MLP of width ${ff}$, no biases, RMSNorm before \
                 each branch and at the end, rotary positions (no table), and an untied vocabulary of ${vocab}$. \
                 How many parameters does it have?"
            ),
            answer: p.total() as f64,
            unit: "parameters".into(),
            rel_tolerance: 0.01,
            solution: vec![
                format!(
                    "Attention per block: $W_q, W_o$: $2d^2$; $W_k, W_v$: $2 d \\cdot H_{{kv}} d_h = 2 \\cdot {d} \\cdot {}$; together ${}$.",
                    kv * 128,
                    p.attention_per_layer
                ),
                format!(
                    "SwiGLU: $3 d\\, d_{{ff}} = {}$; two RMSNorms $2d = {}$; per block ${}$.",
                    p.mlp_per_layer, p.norms_per_layer, p.per_layer()
                ),
                format!("All blocks: ${layers} \\times {} = {}$.", p.per_layer(), p.blocks()),
                format!(
                    "Embedding and untied output: $2Vd = {}$; final RMSNorm ${d}$. Total: ${}$.",
                    p.token_embedding + p.unembedding,
                    p.total()
                ),
            ],
        }
    }
}

fn kv_cache(rng: &mut Rng) -> Problem {
    let (name, d, layers, heads) = rng.pick(&[
        ("7B", 4096u64, 32u64, 32u64),
        ("13B", 5120, 40, 40),
        ("70B", 8192, 80, 64),
    ]);
    let kv = rng.pick(&[heads, 8, 1]);
    let batch = rng.pick(&[8u64, 16, 32, 64]);
    let ctx = rng.pick(&[2048u64, 4096, 8192]);
    let c = Config {
        d_model: d,
        n_layers: layers,
        n_heads: heads,
        n_kv_heads: kv,
        d_head: 128,
        d_ff: 4 * d,
        vocab: 32_000,
        n_ctx: ctx,
        mlp: MlpKind::SwiGlu,
        bias: false,
        tied: false,
        norm: NormKind::Rms,
        learned_positions: false,
    };
    let per_token = c.kv_cache_bytes_per_token(2.0);
    let answer = per_token * (batch * ctx) as f64 / 1e9;
    let kind = if kv == heads {
        "multi-head attention".to_string()
    } else if kv == 1 {
        "multi-query attention (one key/value head)".to_string()
    } else {
        format!("grouped-query attention with {kv} key/value heads")
    };
    Problem {
        question: format!(
            "A {name} decoder ($L = {layers}$, $d = {d}$, {heads} query heads of width 128) uses {kind}. It serves \
             a batch of ${batch}$ sequences of ${ctx}$ tokens with a bf16 key/value cache. How many GB \
             ($10^9$ bytes) does the cache hold?"
        ),
        answer,
        unit: "GB".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!(
                "Per token: keys and values ($2$) × $L$ × $H_{{kv}} d_h$ × 2 bytes $= 2 \\times {layers} \\times {} \\times 2 = {per_token}$ bytes.",
                kv * 128
            ),
            format!("Tokens: ${batch} \\times {ctx} = {}$.", batch * ctx),
            format!("Cache: ${per_token} \\times {}$ bytes $= {answer:.1}$ GB.", batch * ctx),
        ],
    }
}

fn training_days(rng: &mut Rng) -> Problem {
    let n_b = rng.pick(&[1.0f64, 7.0, 13.0, 70.0]);
    let tokens_t = rng.pick(&[0.3f64, 1.0, 2.0, 15.0]);
    let gpus = rng.pick(&[256.0f64, 1024.0, 2048.0]);
    let (gpu, peak) = rng.pick(&[("A100", 312e12f64), ("H100", 989e12)]);
    let mfu = rng.pick(&[0.35f64, 0.4, 0.5]);
    // 6N per token: the convention's forward 2N (no attention term) times 3 for forward and backward.
    let flops = 6.0 * n_b * 1e9 * tokens_t * 1e12;
    let seconds = flops / (gpus * peak * mfu);
    let answer = seconds / 86_400.0;
    Problem {
        question: format!(
            "A {n_b}B-parameter model is trained on {tokens_t}T tokens with {gpus} {gpu}s (bf16 dense peak \
             {:.0} TFLOP/s each) at a model-FLOPs utilisation of {:.0}%. Counting $6N$ FLOPs per token, how \
             many days does it take?",
            peak / 1e12,
            mfu * 100.0
        ),
        answer,
        unit: "days".into(),
        rel_tolerance: 0.1,
        solution: vec![
            format!("Compute: $6ND = 6 \\times {n_b} \\cdot 10^9 \\times {tokens_t} \\cdot 10^{{12}} = {flops:.3e}$ FLOPs."),
            format!(
                "Throughput: ${gpus} \\times {:.0} \\cdot 10^{{12}} \\times {mfu} = {:.3e}$ FLOP/s.",
                peak / 1e12,
                gpus * peak * mfu
            ),
            format!("Time: ${seconds:.3e}$ s $= {answer:.1}$ days."),
        ],
    }
}

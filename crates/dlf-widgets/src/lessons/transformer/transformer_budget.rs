//! "Parameters, FLOPs and memory of a decoder": the engine's counts
//! (`dlf_engine::lessons::transformer::count`) for a GPT-2 or LLaMA preset with the context, the batch, the
//! key/value heads and the recomputation policy changeable. Three panels of bars: parameters by component,
//! forward FLOPs per token under Kaplan's, the matmul and Chinchilla's conventions, and training memory
//! (bf16 weights, gradients and Adam state, activations) beside the inference key/value cache.
//!
//! Cost: a few dozen multiplications and the SVG; well under 0.1 ms.

use dlf_engine::lessons::transformer::count::{
    adam_mixed_bytes_per_param, FlopConvention, Preset, Recompute,
};

use crate::figure::Figure;
use crate::number_format::{int, percent, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{Anchor, Axis, Plot, Rect, Svg};

/// The "Parameters, FLOPs and memory of a decoder" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TransformerBudget;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "transformer-budget",
    title: "Parameters, FLOPs and memory of a decoder",
    summary: "Parameters by component, forward FLOPs per token under three conventions, and training and \
              inference memory of GPT-2 and LLaMA models, with the context, batch, KV heads and recomputation changeable.",
    params: &[
        ParamSpec::select(
            "model",
            "Model",
            &[
                ("gpt2-small", "GPT-2 small"),
                ("gpt2-medium", "GPT-2 medium"),
                ("gpt2-large", "GPT-2 large"),
                ("gpt2-xl", "GPT-2 XL"),
                ("llama-2-7b", "LLaMA-2 7B"),
                ("llama-2-13b", "LLaMA-2 13B"),
                ("llama-2-70b", "LLaMA-2 70B"),
                ("llama-3-8b", "LLaMA-3 8B"),
            ],
            "llama-2-7b",
        )
        .help("The released configuration (width, depth, heads, MLP, vocabulary)."),
        ParamSpec::range("log2_ctx", "log₂ context", 9.0..=17.0, 12.0)
            .help("Tokens per sequence: the attention span in the FLOPs, the activations and the cache (12 → 4096)."),
        ParamSpec::range("batch", "Batch (sequences)", 1.0..=64.0, 8.0)
            .help("Sequences per step: scales the activations and the key/value cache."),
        ParamSpec::select(
            "kv",
            "Key/value heads",
            &[
                ("preset", "as released"),
                ("mha", "one per query head (MHA)"),
                ("gqa8", "8 (GQA)"),
                ("mqa", "1 (MQA)"),
            ],
            "preset",
        )
        .help("Sharing keys and values among query heads shrinks W_k, W_v and the cache."),
        ParamSpec::select(
            "recompute",
            "Recomputation",
            &[
                ("none", "none"),
                ("selective", "selective (attention)"),
                ("full", "full (block inputs only)"),
            ],
            "none",
        )
        .help("What the backward pass recomputes instead of storing (Korthikanti et al. 2022)."),
    ],
    bench: &[BenchCase {
        name: "largest-70b",
        query: "model=llama-2-70b&log2_ctx=17&batch=64",
    }],
};

fn config(p: &Params) -> dlf_engine::lessons::transformer::count::Config {
    let preset = Preset::parse(p.str("model")).unwrap_or(Preset::Llama2_7b);
    let mut c = preset.config();
    c.n_ctx = 1 << p.usize("log2_ctx").clamp(9, 17);
    c.n_kv_heads = match p.str("kv") {
        "mha" => c.n_heads,
        "gqa8" => 8.min(c.n_heads),
        "mqa" => 1,
        _ => c.n_kv_heads,
    };
    // GPT-2 XL has 25 heads: 8 KV heads do not divide them, so GQA falls back to the largest divisor ≤ 8.
    while c.n_heads % c.n_kv_heads != 0 {
        c.n_kv_heads -= 1;
    }
    // A learned position table has one row per position, so a longer context is a bigger table.
    c
}

/// An x axis without ticks for a bar chart whose bars carry their own labels: a log axis strictly inside
/// one decade has no power of ten to tick.
fn category_axis() -> Axis {
    Axis::log10(2.0, 3.0, "")
}

impl Widget for TransformerBudget {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let c = config(p);
        let recompute = Recompute::parse(p.str("recompute")).unwrap_or(Recompute::None);
        let batch = p.usize("batch").clamp(1, 64) as f64;
        let n = c.params();
        let total = n.total() as f64;
        let tokens = batch * c.n_ctx as f64;
        let mut svg = Svg::new(724.0, 330.0, SPEC.title);

        // Parameters by component, in millions or billions.
        let (unit, scale) = if total >= 2e9 { ("billions", 1e9) } else { ("millions", 1e6) };
        let parts = [
            (n.token_embedding + n.position_embedding) as f64,
            (n.layers * n.attention_per_layer) as f64,
            (n.layers * n.mlp_per_layer) as f64,
            (n.layers * n.norms_per_layer + n.final_norm) as f64,
            n.unembedding as f64,
        ];
        let scaled: Vec<f64> = parts.iter().map(|v| v / scale).collect();
        let left = Plot::new(
            Rect::new(56.0, 44.0, 190.0, 220.0),
            category_axis(),
            Axis::fit_linear(scaled.iter().copied(), true, unit),
        );
        left.draw_axes(&mut svg, "Parameters");
        left.bars(&mut svg, &scaled, &["emb", "attn", "MLP", "norm", "out"]);

        // FLOPs per token, forward, in GFLOPs.
        let flops: Vec<f64> = FlopConvention::ALL
            .iter()
            .map(|&conv| c.forward_flops_per_token(conv) / 1e9)
            .collect();
        let two_n = 2.0 * total / 1e9;
        let middle = Plot::new(
            Rect::new(300.0, 44.0, 170.0, 220.0),
            category_axis(),
            Axis::fit_linear(flops.iter().copied().chain([two_n]), true, "GFLOPs"),
        );
        middle.draw_axes(&mut svg, "Forward FLOPs / token");
        middle.bars(&mut svg, &flops, &["Kaplan", "matmul", "Chinch."]);
        middle.line(&mut svg, &[(2.0, two_n), (3.0, two_n)], "dlf-ln dlf-s3 dlf-thin");

        // Memory, GB.
        let state = total * adam_mixed_bytes_per_param() / 1e9;
        let acts = c.activation_bytes_per_token(recompute) * tokens / 1e9;
        let kv = c.kv_cache_bytes_per_token(2.0) * tokens / 1e9;
        let weights = total * 2.0 / 1e9;
        let mem = [weights, state, acts, kv];
        let right = Plot::new(
            Rect::new(530.0, 44.0, 170.0, 220.0),
            category_axis(),
            Axis::fit_log10(mem.iter().copied(), "GB"),
        );
        right.draw_axes(&mut svg, "Memory (GB, log)");
        right.bars(&mut svg, &mem, &["bf16 W", "W+G+Adam", "activ.", "KV"]);
        let kv_label = match p.str("kv") {
            "mha" => "one per query head",
            "gqa8" => "grouped, 8 or fewer",
            "mqa" => "one (multi-query)",
            _ => "as released",
        };
        svg.text(
            56.0,
            318.0,
            Anchor::Start,
            "dlf-ts",
            &format!(
                "{} · context {} · batch {} · {} KV heads ({}) · recomputation: {}",
                p.str("model"),
                c.n_ctx,
                batch,
                c.n_kv_heads,
                kv_label,
                recompute.name()
            ),
        );
        let svg = svg.finish();

        let kaplan = flops[0];
        let numbers = vec![
            ("key/value heads".to_string(), format!("{} ({kv_label})", c.n_kv_heads)),
            ("parameters".to_string(), int(n.total() as i64)),
            ("non-embedding parameters (Kaplan's N)".to_string(), int(n.non_embedding() as i64)),
            ("parameters per block".to_string(), int(n.per_layer() as i64)),
            ("forward GFLOPs/token, Kaplan".to_string(), sig(flops[0], 4)),
            ("forward GFLOPs/token, matmul".to_string(), sig(flops[1], 4)),
            ("forward GFLOPs/token, Chinchilla".to_string(), sig(flops[2], 4)),
            ("2N (GFLOPs)".to_string(), sig(two_n, 4)),
            ("training GFLOPs/token (3× matmul)".to_string(), sig(3.0 * flops[1], 4)),
            ("weights, bf16 (GB)".to_string(), sig(weights, 4)),
            ("weights + gradients + Adam, mixed precision (GB)".to_string(), sig(state, 4)),
            ("activations for the batch (GB)".to_string(), sig(acts, 4)),
            ("key/value cache for the batch (GB)".to_string(), sig(kv, 4)),
            (
                "attention share of matmul FLOPs".to_string(),
                percent(4.0 * (c.n_layers * c.n_ctx * c.d_attn()) as f64 / 1e9 / flops[1]),
            ),
        ];
        let d = format!(
            "{} with a context of {} tokens and {} key/value heads: {} parameters; {} GFLOPs per token forward by \
             Kaplan's count, {} by the matmul count, {} by Chinchilla's (2N = {}); training state {} GB, \
             activations {} GB for {} sequences with {} recomputation, key/value cache {} GB.",
            p.str("model"),
            c.n_ctx,
            c.n_kv_heads,
            int(n.total() as i64),
            sig(kaplan, 4),
            sig(flops[1], 4),
            sig(flops[2], 4),
            sig(two_n, 4),
            sig(state, 4),
            sig(acts, 4),
            batch,
            recompute.name(),
            sig(kv, 4)
        );
        Figure {
            svg,
            numbers,
            description: d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_params;

    fn render(pairs: &[(&str, &str)]) -> Figure {
        TransformerBudget.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn the_numbers_are_the_engines() {
        let f = render(&[("model", "gpt2-small"), ("log2_ctx", "10")]);
        // The published GPT-2 small count.
        assert_eq!(f.expect_number("parameters"), 124_439_808.0);
        let f = render(&[]);
        assert_eq!(f.expect_number("parameters"), 6_738_415_616.0);
        // MQA shrinks the 7B cache 32× (32 KV heads → 1).
        let mha = render(&[]).expect_number("key/value cache for the batch (GB)");
        let mqa = render(&[("kv", "mqa")]).expect_number("key/value cache for the batch (GB)");
        assert!((mha / mqa - 32.0).abs() < 0.01, "{mha} {mqa}");
        // Full recomputation keeps 2d per layer and token instead of 34d + 5·H·S.
        let none = render(&[]).expect_number("activations for the batch (GB)");
        let full = render(&[("recompute", "full")]).expect_number("activations for the batch (GB)");
        assert!(none > 50.0 * full, "{none} {full}");
    }
}

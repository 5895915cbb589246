//! "Total against active parameters": the engine's parameter counts (`dlf_engine::lessons::moe::params`) of
//! Mixtral 8x7B, DeepSeek-V3, a Switch-style model and the brief's 50B/8-expert case. The left panel stacks
//! each count by where the parameters sit (embeddings, attention, dense and shared feed-forward blocks with
//! the routers, routed experts) for the total and for one token; the right panel plots the weights one
//! decode step reads from memory against the batch size — `shared + (expected experts touched) × expert`
//! per MoE layer — between the active and the total weights, so the serving trade-off is visible.
//!
//! Cost: closed-form counts and 64 points of a formula; well under a millisecond.

use dlf_engine::lessons::moe::expected_experts_touched;
use dlf_engine::lessons::moe::params::{MoeConfig, Preset};

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Anchor, Axis, Plot, Rect, Svg};

/// The "Total against active parameters" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoeParams;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "moe-params",
    title: "Total against active parameters",
    summary: "Where an MoE model's parameters sit, how many one token uses, and how many bytes a decode step \
              reads as the batch grows, for Mixtral, DeepSeek-V3, a Switch-style model and a 50B/8-expert model.",
    params: &[
        ParamSpec::select(
            "preset",
            "Model",
            &[
                ("mixtral-8x7b", "Mixtral 8x7B"),
                ("deepseek-v3", "DeepSeek-V3"),
                ("switch-base", "Switch-style (T5-Base width)"),
                ("brief-50b", "≈50B, 8 experts, top-1"),
            ],
            "mixtral-8x7b",
        )
        .help("The configuration whose parameters are counted."),
        ParamSpec::range("top_k", "Experts per token k (0: the model's)", 0.0..=8.0, 0.0)
            .help("Override the model's k to see the active count move; 0 keeps the model's own k."),
        ParamSpec::select(
            "bytes",
            "Weight format",
            &[("2", "bf16 (2 bytes)"), ("1", "fp8 (1 byte)")],
            "2",
        )
        .help("Bytes per parameter for the memory numbers."),
        ParamSpec::range("batch", "Decode batch B", 1.0..=256.0, 1.0)
            .help("Sequences decoding one token each in a step; each picks its experts uniformly at random."),
    ],
    bench: &[BenchCase {
        name: "deepseek-v3-k8-batch-256",
        query: "preset=deepseek-v3&top_k=8&batch=256",
    }],
};

/// GB of weights one decode step reads for a batch of `b`: everything outside the routed experts, plus every
/// distinct routed expert touched in each MoE layer.
fn decode_gb(cfg: &MoeConfig, b: usize, bytes: f64) -> f64 {
    let c = cfg.count();
    let touched = expected_experts_touched(cfg.experts, cfg.top_k, b);
    (c.shared_part() + c.moe_layers as f64 * touched * c.expert) * bytes / 1e9
}

impl Widget for MoeParams {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let preset = Preset::parse(p.str("preset")).unwrap_or(Preset::Mixtral);
        let base = preset.config();
        let k = match p.usize("top_k") {
            0 => base.top_k,
            k => k.min(base.experts),
        };
        let cfg = MoeConfig { top_k: k, ..base };
        let bytes: f64 = if p.str("bytes") == "1" { 1.0 } else { 2.0 };
        let batch = p.usize("batch").max(1);
        let c = cfg.count();
        let billions = |x: f64| x / 1e9;
        let other = c.dense_ffn + c.routers + c.shared_experts;
        let total_parts = [
            billions(c.embeddings),
            billions(c.attention),
            billions(other),
            billions(c.routed_total),
        ];
        let active_parts = [
            billions(c.embeddings),
            billions(c.attention),
            billions(other),
            billions(c.routed_active),
        ];

        let mut svg = Svg::new(724.0, 372.0, SPEC.title);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 260.0, 270.0),
            Axis::linear(0.0, 2.0, "left bar: all parameters; right bar: one token's"),
            Axis::fit_linear([billions(c.total()) * 1.08], true, "parameters (billions)"),
        );
        left.draw_axes(&mut svg, "Total and active parameters");
        for (i, (parts, label)) in [(total_parts, "total"), (active_parts, "active per token")]
            .iter()
            .enumerate()
        {
            let x = 64.0 + 130.0 * i as f64 + 25.0;
            let mut acc = 0.0;
            for (j, &v) in parts.iter().enumerate() {
                if let (Some(y0), Some(y1)) = (left.py(acc), left.py(acc + v)) {
                    svg.rect(Rect::new(x, y1, 80.0, (y0 - y1).max(0.0)), fill_class(j));
                }
                acc += v;
            }
            if let Some(y) = left.py(acc) {
                let mut text = String::from(*label);
                text.push_str(": ");
                text.push_str(&sig(acc, 3));
                text.push('B');
                svg.text(x + 40.0, y - 4.0, Anchor::Middle, "dlf-ts", &text);
            }
        }

        let batches: Vec<f64> = (0..=64)
            .map(|i| dlf_engine::math::powf(256.0, i as f64 / 64.0))
            .collect();
        let curve: Vec<(f64, f64)> = batches
            .iter()
            .map(|&b| (b, decode_gb(&cfg, b.round() as usize, bytes)))
            .collect();
        let total_gb = c.total() * bytes / 1e9;
        let active_gb = c.active() * bytes / 1e9;
        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 270.0),
            Axis::log10(1.0, 256.0, "decode batch B"),
            Axis::fit_linear([total_gb, 0.0], true, "GB read per decode step"),
        );
        right.draw_axes(&mut svg, "Weights read per decode step");
        let mut thin = String::from(line_class(3));
        thin.push_str(" dlf-thin");
        right.line(&mut svg, &[(1.0, total_gb), (256.0, total_gb)], &thin);
        right.line(&mut svg, &[(1.0, active_gb), (256.0, active_gb)], &thin);
        right.line(&mut svg, &curve, line_class(0));
        let here = decode_gb(&cfg, batch, bytes);
        right.scatter(&mut svg, &[(batch as f64, here)], 4.0, fill_class(0));
        if let Some(y) = right.py(total_gb) {
            svg.text(700.0, y - 4.0, Anchor::End, "dlf-ts", "all weights");
        }
        if let Some(y) = right.py(active_gb) {
            svg.text(700.0, y + 12.0, Anchor::End, "dlf-ts", "one token's weights");
        }
        svg.legend(
            64.0,
            16.0,
            &[
                ("embeddings", fill_class(0)),
                ("attention", fill_class(1)),
                ("dense/shared FFN, routers", fill_class(2)),
                ("routed experts", fill_class(3)),
            ],
        );
        let svg = svg.finish();

        let ratio = c.active() / c.total();
        let numbers = vec![
            ("experts E".to_string(), int(cfg.experts as i64)),
            ("experts per token k".to_string(), int(k as i64)),
            ("total parameters (B)".to_string(), sig(billions(c.total()), 4)),
            ("active parameters (B)".to_string(), sig(billions(c.active()), 4)),
            ("active / total".to_string(), sig(ratio, 3)),
            (
                "outside routed experts (B)".to_string(),
                sig(billions(c.shared_part()), 4),
            ),
            (
                "forward GFLOPs per token".to_string(),
                sig(c.flops_per_token(&cfg) / 1e9, 4),
            ),
            ("weights in memory (GB)".to_string(), sig(total_gb, 4)),
            ("GB read per decode step".to_string(), sig(here, 4)),
            (
                "GB read per token".to_string(),
                sig(here / batch as f64, 4),
            ),
        ];
        let mut d = String::new();
        d.push_str("With top-");
        d.push_str(&int(k as i64));
        d.push_str(" of ");
        d.push_str(&int(cfg.experts as i64));
        d.push_str(" experts the model has ");
        d.push_str(&sig(billions(c.total()), 4));
        d.push_str("B parameters of which ");
        d.push_str(&sig(billions(c.active()), 4));
        d.push_str("B act per token (");
        d.push_str(&sig(ratio * 100.0, 3));
        d.push_str("%); ");
        d.push_str(&sig(billions(c.shared_part()), 3));
        d.push_str("B sit outside the routed experts. A decode step of ");
        d.push_str(&int(batch as i64));
        d.push_str(" tokens reads ");
        d.push_str(&sig(here, 3));
        d.push_str(" GB of the ");
        d.push_str(&sig(total_gb, 3));
        d.push_str(" GB of weights.");
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

    #[test]
    fn mixtral_numbers_are_the_engines() {
        let fig = MoeParams.render(&parse_params(&SPEC, &[]).unwrap());
        let c = Preset::Mixtral.config().count();
        assert!((fig.expect_number("total parameters (B)") - c.total() / 1e9).abs() < 0.01);
        assert!((fig.expect_number("active parameters (B)") - c.active() / 1e9).abs() < 0.01);
        // Batch 1 reads the active weights except the experts' share that the uniform model may repeat: k
        // distinct experts per layer, so exactly the active weights in bf16.
        let read = fig.expect_number("GB read per decode step");
        assert!((read - 2.0 * c.active() / 1e9).abs() < 0.01, "{read}");
    }

    #[test]
    fn a_large_batch_reads_nearly_every_weight() {
        let fig = MoeParams.render(&parse_params(&SPEC, &[("batch", "256")]).unwrap());
        let read = fig.expect_number("GB read per decode step");
        let all = fig.expect_number("weights in memory (GB)");
        assert!(read > 0.99 * all && read <= all * (1.0 + 1e-9), "{read} {all}");
    }
}

//! "An attention map": the weights of every head of multi-head self-attention over a short random
//! sequence (`dlf_engine::lessons::attention::map`), with a causal mask or none, padding at the end, a
//! temperature on the scores, and one query highlighted. Each head is a `n × n` grid (rows: queries, top to
//! bottom; columns: keys, left to right) whose cells are shaded by their weight; hidden cells are drawn as
//! empty boxes.
//!
//! Cost: one forward pass of `H` heads over at most 12 tokens of width 8 — a few thousand FLOPs; the figure
//! has at most `4 · 144` cells.

use dlf_engine::lessons::attention::map::{attention_map, MapConfig, MapMask, MODEL_WIDTH};

use crate::figure::Figure;
use crate::number_format::sig;
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, Anchor, Rect, Svg};

/// The "An attention map" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttentionMapWidget;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "attention-map",
    title: "An attention map",
    summary: "The attention weights of every head over a short random sequence, with a causal mask, \
              padding, a temperature on the scores and one query highlighted.",
    params: &[
        ParamSpec::range("n", "Tokens n", 4.0..=12.0, 8.0).help("Length of the sequence."),
        ParamSpec::select(
            "heads",
            "Heads",
            &[("1", "1 head of width 8"), ("2", "2 heads of width 4"), ("4", "4 heads of width 2")],
            "2",
        )
        .help("The model width 8 is split into this many heads: more heads, more independent maps, each narrower."),
        ParamSpec::select(
            "mask",
            "Mask",
            &[("causal", "causal (decoder)"), ("none", "none (encoder)")],
            "causal",
        )
        .help("Causal: token i sees tokens j ≤ i only."),
        ParamSpec::range("pad", "Padding tokens", 0.0..=4.0, 1.0)
            .help("The last tokens are padding: every query's weight on them is exactly 0."),
        ParamSpec::range("sharpness", "Score multiplier", 0.25..=8.0, 1.0)
            .step(0.25)
            .help("Multiplies the scaled scores: 1 is softmax(QKᵀ/√d_h); larger values sharpen every row, as an unscaled or saturated softmax would."),
        ParamSpec::range("query", "Highlighted query", 0.0..=11.0, 5.0)
            .help("The query row whose weights are listed (clamped to the sequence)."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws the tokens and the weights."),
    ],
    bench: &[BenchCase {
        name: "worst-12-tokens-4-heads",
        query: "n=12&heads=4&mask=none&pad=0",
    }],
};

impl Widget for AttentionMapWidget {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let n = p.usize("n").clamp(4, 12);
        let heads = p.str("heads").parse::<usize>().unwrap_or(2);
        let mask = MapMask::parse(p.str("mask")).unwrap_or(MapMask::Causal);
        let pad = p.usize("pad").min(n - 1);
        let query = p.usize("query").min(n - 1);
        let cfg = MapConfig {
            n,
            heads,
            mask,
            pad,
            sharpness: p.f64("sharpness"),
            seed: p.usize("seed") as u64,
        };
        let map = match attention_map(&cfg) {
            Ok(m) => m,
            Err(e) => {
                // Heads come from a fixed list of divisors of the width, so this cannot happen; say so in
                // the figure rather than panic if the list ever changes.
                let mut svg = Svg::new(724.0, 60.0, SPEC.title);
                svg.text(20.0, 30.0, Anchor::Start, "dlf-t", &e.to_string());
                return Figure {
                    svg: svg.finish(),
                    numbers: vec![],
                    description: e.to_string(),
                };
            }
        };

        let width = 724.0;
        let gap = 24.0;
        let side = ((width - 40.0 - gap * (heads as f64 - 1.0)) / heads as f64).min(260.0);
        let cell = side / n as f64;
        let top = 48.0;
        let mut svg = Svg::new(width, top + side + 40.0, SPEC.title);
        for (h, w) in map.weights.iter().enumerate() {
            let x0 = 20.0 + h as f64 * (side + gap);
            let mut title = String::from("head ");
            title.push_str(&(h + 1).to_string());
            title.push_str(" (d_h = ");
            title.push_str(&(MODEL_WIDTH / heads).to_string());
            title.push_str("), entropy ");
            title.push_str(&sig(map.entropy[h], 2));
            svg.text(x0, top - 8.0, Anchor::Start, "dlf-th", &title);
            for i in 0..n {
                for j in 0..n {
                    let r = Rect::new(x0 + j as f64 * cell, top + i as f64 * cell, cell, cell);
                    if map.mask.sees(i, j) {
                        svg.rect_with_opacity(r, fill_class(h), w.get2(i, j).clamp(0.0, 1.0));
                    } else {
                        svg.rect(r, "dlf-fbox");
                    }
                }
            }
            svg.rect(
                Rect::new(x0, top + query as f64 * cell, side, cell),
                "dlf-acc",
            );
            svg.text(x0, top + side + 14.0, Anchor::Start, "dlf-ts", "keys j →   (rows: queries i ↓)");
        }
        svg.text(
            20.0,
            18.0,
            Anchor::Start,
            "dlf-t",
            "Shade = attention weight; empty boxes = hidden by the mask; dashed row = highlighted query",
        );
        let svg = svg.finish();

        let mut numbers = Vec::new();
        for (h, e) in map.entropy.iter().enumerate() {
            let mut label = String::from("head ");
            label.push_str(&(h + 1).to_string());
            label.push_str(" mean entropy / ln(keys seen)");
            numbers.push((label, sig(*e, 3)));
        }
        let row = map.weights[0].row_slice(query);
        let visible = (0..n).filter(|&j| map.mask.sees(query, j)).count();
        numbers.push(("keys the highlighted query sees".to_string(), visible.to_string()));
        numbers.push((
            "head 1: largest weight of the highlighted query".to_string(),
            sig(row.iter().copied().fold(0.0, f64::max), 3),
        ));
        numbers.push((
            "head 1: weight on padding".to_string(),
            sig(row[n - pad..].iter().sum::<f64>(), 3),
        ));
        let mut d = String::from("Query ");
        d.push_str(&query.to_string());
        d.push_str(" sees ");
        d.push_str(&visible.to_string());
        d.push_str(" of ");
        d.push_str(&n.to_string());
        d.push_str(" keys; its weights in head 1 are ");
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                d.push_str(", ");
            }
            d.push_str(&sig(*v, 2));
        }
        d.push_str(". Mean normalised entropy per head: ");
        for (h, e) in map.entropy.iter().enumerate() {
            if h > 0 {
                d.push_str(", ");
            }
            d.push_str(&sig(*e, 3));
        }
        d.push('.');
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
        AttentionMapWidget.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn masks_and_sharpness_do_what_the_lesson_says() {
        // Causal with one padding token: query 5 sees keys 0..=5; padding gets exactly zero weight.
        let f = render(&[]);
        assert_eq!(f.expect_number("keys the highlighted query sees"), 6.0);
        assert_eq!(f.expect_number("head 1: weight on padding"), 0.0);
        // Without the causal mask the same query sees every key but the padding.
        let enc = render(&[("mask", "none")]);
        assert_eq!(enc.expect_number("keys the highlighted query sees"), 7.0);
        // A larger multiplier concentrates the weights: lower entropy, larger top weight.
        let sharp = render(&[("sharpness", "8")]);
        assert!(
            sharp.expect_number("head 1 mean entropy / ln(keys seen)")
                < f.expect_number("head 1 mean entropy / ln(keys seen)")
        );
    }
}

//! "ALiBi past the training length": the engine's ALiBi slopes and attention (`dlf_engine::lessons::posenc`).
//! The left panel plots every head's bias `−m_h·k` against the distance `k` back to the key, the chosen head
//! drawn thick, with the trained length marked; the right panel is the chosen head's attention over a
//! sequence `stretch` times the trained length — 32 query rows spread over the sequence, keys summed into 64
//! bins, each row shaded relative to its largest bin — with the diagonal `j = i − L` that bounds the distances
//! seen in training. The logits are the bias plus uniform noise of a chosen standard deviation standing in for content.
//! The figure's numbers put ALiBi beside the other schemes at the same length.
//!
//! Cost: 32 rows × on average 1024 causal keys at the longest sequence (1024 tokens) ≈ 16 000 uniform draws and exponentials. Measured natively with
//! `cargo bench -p dlf-widgets --bench widgets -- alibi-beyond` on a loaded two-core machine: see the lesson's
//! report; the bench case is the longest sequence.

use dlf_engine::lessons::posenc::curves::{alibi_pattern, pairs_longer_than};
use dlf_engine::lessons::posenc::{alibi_slopes, alibi_span, Rope};

use crate::figure::Figure;
use crate::number_format::{int, percent, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "ALiBi past the training length" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlibiBeyond;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "alibi-beyond",
    title: "ALiBi past the training length: the bias per head and the attention it leaves",
    summary: "ALiBi's linear bias for every head (slopes by the reference rule, any head count) and one head's \
              attention over a sequence longer than the one it was trained on, with the other schemes' state at \
              that length.",
    params: &[
        ParamSpec::range("heads", "Heads H", 1.0..=32.0, 12.0)
            .help("The number of heads; a count that is not a power of two gets the reference code's interleaved slopes."),
        ParamSpec::range("head", "Head shown h", 1.0..=32.0, 8.0)
            .help("Which head's attention the right panel shows (1 has the steepest slope of the first group; clamped to H)."),
        ParamSpec::range("log2_train", "log₂ trained length L", 5.0..=8.0, 7.0)
            .help("The length the model was trained on: 7 → 128 tokens."),
        ParamSpec::range("stretch", "Sequence / L", 1.0..=4.0, 4.0)
            .help("How many times the trained length the sequence is."),
        ParamSpec::range("content", "Content score std", 0.0..=4.0, 1.0)
            .step(0.5)
            .help("The standard deviation of the random content part of each logit, next to the bias."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws the content scores."),
    ],
    bench: &[BenchCase {
        name: "worst-longest",
        query: "log2_train=8&stretch=4&heads=32&head=32",
    }],
};

/// Query rows and key bins of the attention map.
const ROWS: usize = 32;
const BINS: usize = 64;
/// The lowest bias drawn in the left panel.
const BIAS_FLOOR: f64 = -12.0;

impl Widget for AlibiBeyond {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let heads = p.usize("heads").clamp(1, 32);
        let head = p.usize("head").clamp(1, heads);
        let train = 1usize << p.usize("log2_train").clamp(5, 8);
        let len = train * p.usize("stretch").clamp(1, 4);
        let slopes = alibi_slopes(heads).unwrap_or_default();
        let pattern = alibi_pattern(heads, head - 1, len, ROWS, train, p.f64("content"), p.usize("seed") as u64);

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, len as f64, "distance back to the key k = i − j"),
            Axis::linear(BIAS_FLOOR, 0.0, "bias −m·k"),
        );
        left.draw_axes(&mut svg, "Bias of every head");
        let mut thin = String::from(line_class(1));
        thin.push_str(" dlf-thin");
        for (h, &m) in slopes.iter().enumerate() {
            // Each line stops where it leaves the panel, at k = −floor/m.
            let end = (-BIAS_FLOOR / m).min(len as f64);
            let line = [(0.0, 0.0), (end, -m * end)];
            if h + 1 == head {
                continue;
            }
            left.line(&mut svg, &line, &thin);
        }
        if let Some(&m) = slopes.get(head - 1) {
            let end = (-BIAS_FLOOR / m).min(len as f64);
            left.line(&mut svg, &[(0.0, 0.0), (end, -m * end)], line_class(0));
        }
        left.vline(&mut svg, train as f64, "trained L");

        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, len as f64, "key position j"),
            Axis::linear(0.0, len as f64, "query position i (top: 0)"),
        );
        right.draw_axes(&mut svg, "Attention of the chosen head");
        if let Ok(pat) = &pattern {
            // Sum each row's weights into bins, then shade relative to the row's largest bin.
            let mut binned = vec![0.0; ROWS * BINS];
            for r in 0..ROWS {
                for j in 0..len {
                    binned[r * BINS + j * BINS / len] += pat.weights.get2(r, j);
                }
                let max = binned[r * BINS..(r + 1) * BINS].iter().fold(0.0f64, |m, v| m.max(*v));
                if max > 0.0 {
                    for b in &mut binned[r * BINS..(r + 1) * BINS] {
                        *b /= max;
                    }
                }
            }
            right.raster(&mut svg, BINS, ROWS, |i, j| (0, binned[(ROWS - 1 - j) * BINS + i]));
            // The edge of the trained window: keys exactly L back, j = i − L (y counts from the top).
            let l = len as f64;
            let t = train as f64;
            right.line(&mut svg, &[(0.0, l - t), (l - t, 0.0)], line_class(2));
        }
        svg.legend(
            64.0,
            16.0,
            &[
                ("chosen head", fill_class(0)),
                ("other heads", fill_class(1)),
                ("keys L back (j = i − L)", fill_class(2)),
            ],
        );
        let svg = svg.finish();

        let m = slopes.get(head - 1).copied().unwrap_or(f64::NAN);
        let span = alibi_span(m, len, 0.9);
        let beyond = pattern.as_ref().map_or(f64::NAN, |p| p.mass_beyond_train);
        let rope_pairs = pairs_longer_than(&Rope::new(128, 10_000.0), train as f64).unwrap_or(0);
        let numbers = vec![
            ("slope m".to_string(), sig(m, 4)),
            ("keys holding 90% (bias alone)".to_string(), int(span as i64)),
            ("last query's attention beyond L".to_string(), sig(beyond, 3)),
            ("sequence length".to_string(), int(len as i64)),
            ("learned: positions with no embedding".to_string(), int((len - train) as i64)),
            ("RoPE (d = 128, b = 10⁴): pairs with wavelength > L".to_string(), int(rope_pairs as i64)),
        ];
        let mut d = String::new();
        d.push_str("Head ");
        d.push_str(&int(head as i64));
        d.push_str(" of ");
        d.push_str(&int(heads as i64));
        d.push_str(" has slope ");
        d.push_str(&sig(m, 4));
        d.push_str("; with the bias alone, 90% of a query's attention sits on its ");
        d.push_str(&int(span as i64));
        d.push_str(" most recent keys. Over ");
        d.push_str(&int(len as i64));
        d.push_str(" tokens, ");
        d.push_str(&int(train as i64));
        d.push_str(" of them trained, the last query puts ");
        d.push_str(&percent(beyond));
        d.push_str(" of its attention farther back than any distance seen in training. A learned table would have no \
                    embedding for ");
        d.push_str(&int((len - train) as i64));
        d.push_str(" of these positions.");
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

    fn render(q: &[(&str, &str)]) -> Figure {
        AlibiBeyond.render(&parse_params(&SPEC, q).unwrap())
    }

    #[test]
    fn slopes_and_spans_are_the_engines() {
        // Head 8 of 12 (the defaults): slope 2^−8; head 9 of 12: 2^−1/2 (reference rule, the lesson's claim c-slope-12).
        let f = render(&[]);
        // The figure prints four significant figures.
        assert!((f.expect_number("slope m") - 0.00390625).abs() < 1e-6);
        let f = render(&[("heads", "12"), ("head", "9")]);
        assert!((f.expect_number("slope m") - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-4);
        assert!(f.expect_number("keys holding 90% (bias alone)") <= 4.0);
        // A steep head keeps nothing beyond L; the flattest keeps a good share.
        let steep = render(&[("heads", "8"), ("head", "1"), ("content", "0")]);
        assert!(steep.expect_number("last query's attention beyond L") < 1e-6);
        let flat = render(&[("heads", "8"), ("head", "8"), ("content", "0")]);
        assert!(flat.expect_number("last query's attention beyond L") > 0.2);
    }
}

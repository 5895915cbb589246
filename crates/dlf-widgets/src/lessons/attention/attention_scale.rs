//! "Why divide by √d_k": softmax rows of random scores with and without the `1/√d_k` scale, from the engine
//! (`dlf_engine::lessons::attention::saturation`). The left panel shows, against `d_k` on a log axis, the
//! normalised entropy of the weights and the share of saturated rows (largest weight above 0.99); the
//! middle panel the norm of the gradient that reaches the scores through the softmax Jacobian; the right
//! panel a small retrieval task trained by gradient descent at the chosen `d_k`, with and without the scale.
//!
//! Cost: the sweep draws about `2n + 6` normals per row, 24 rows at each of nine widths (about 9 000 draws at
//! the defaults, thanks to the exact shortcuts of `row_stats`), and the two training runs do
//! `2 · 8 problems · 40 steps · 8 keys · 2 d_k` multiply-adds, about 0.3 M at `d_k = 64` and 0.7 M at 128.
//! Measured natively with `cargo bench -p dlf-widgets --bench widgets -- attention-scale` on the shared
//! two-core machine at a load average of 26: 3.6 ms at the defaults and 6.6 ms at the worst case, while
//! `norm-depth`'s defaults (1.6 ms in its own note) measured 9.2 ms in the same run — so about 0.6 ms and
//! 1.2 ms at that widget's load. The training runs and the sweep take about half each.

use dlf_engine::lessons::attention::saturation::{
    row_stats_both, train_retrieval, RetrievalConfig, RowStats,
};

use crate::figure::Figure;
use crate::number_format::sig;
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Why divide by √d_k" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttentionScale;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "attention-scale",
    title: "Why divide by √d_k",
    summary: "Entropy, saturation and score gradient of softmax rows of q·k scores against d_k, with and \
              without the 1/√d_k scale, and a retrieval task trained with and without it.",
    params: &[
        ParamSpec::range("log2_dk", "log₂ d_k", 2.0..=7.0, 6.0)
            .help("The query and key width d_k = 2^value (4 to 128) for the marker and the training run."),
        ParamSpec::range("keys", "Keys per row n", 4.0..=32.0, 16.0)
            .help("How many keys each query scores: more keys, more chances of a near-tie."),
        ParamSpec::range("lr", "Learning rate", 0.25..=4.0, 1.0)
            .step(0.25)
            .help("Gradient-descent step size of the training run (the same for both settings)."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0)
            .help("Draws the scores, values and the training problems."),
    ],
    // The sweep's cost grows with the keys per row, the training's with d_k: both at their maxima.
    bench: &[
        BenchCase {
            name: "worst-dk128-keys32",
            query: "log2_dk=7&keys=32",
        },
        BenchCase {
            name: "defaults",
            query: "",
        },
    ],
};

/// The widths of the sweep: 4 to 1024.
const SWEEP: [usize; 9] = [4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Rows per width in the sweep.
const ROWS: usize = 24;

impl Widget for AttentionScale {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let dk = 1usize << p.usize("log2_dk").clamp(2, 7);
        let keys = p.usize("keys").clamp(4, 32);
        let seed = p.usize("seed") as u64;
        let sweep: Vec<(f64, RowStats, RowStats)> = SWEEP
            .iter()
            .map(|&d| {
                let (with, without) = row_stats_both(d, keys, ROWS, seed);
                (d as f64, with, without)
            })
            .collect();
        let (at_with, at_without) = row_stats_both(dk, keys, ROWS, seed);
        let run = |scaled| {
            let mut cfg = RetrievalConfig::lesson(dk, scaled);
            cfg.lr = p.f64("lr");
            cfg.seed = seed + 2;
            train_retrieval(&cfg)
        };
        let (loss_with, loss_without) = (run(true), run(false));

        let mut svg = Svg::new(724.0, 330.0, SPEC.title);
        let x_axis = || Axis::log10(3.0, 1400.0, "d_k");
        let left = Plot::new(
            Rect::new(48.0, 44.0, 180.0, 230.0),
            x_axis(),
            Axis::linear(0.0, 1.0, ""),
        );
        left.draw_axes(&mut svg, "Entropy / ln n and saturated rows");
        let series = |f: &dyn Fn(&(f64, RowStats, RowStats)) -> f64| -> Vec<(f64, f64)> {
            sweep.iter().map(|s| (s.0, f(s))).collect()
        };
        left.line(&mut svg, &series(&|s| s.1.entropy), line_class(0));
        left.line(&mut svg, &series(&|s| s.2.entropy), line_class(1));
        let mut thin0 = String::from(line_class(0));
        thin0.push_str(" dlf-thin");
        let mut thin1 = String::from(line_class(1));
        thin1.push_str(" dlf-thin");
        left.line(&mut svg, &series(&|s| s.1.saturated), &thin0);
        left.line(&mut svg, &series(&|s| s.2.saturated), &thin1);
        left.vline(&mut svg, dk as f64, "");

        let grads = sweep
            .iter()
            .flat_map(|s| [s.1.grad_scores_norm, s.2.grad_scores_norm]);
        let middle = Plot::new(
            Rect::new(290.0, 44.0, 180.0, 230.0),
            x_axis(),
            Axis::fit_log10(grads, ""),
        );
        middle.draw_axes(&mut svg, "‖∂L/∂z‖ reaching the scores");
        middle.line(&mut svg, &series(&|s| s.1.grad_scores_norm), line_class(0));
        middle.line(&mut svg, &series(&|s| s.2.grad_scores_norm), line_class(1));
        middle.vline(&mut svg, dk as f64, "");

        let steps = loss_with.len() - 1;
        let right = Plot::new(
            Rect::new(532.0, 44.0, 172.0, 230.0),
            Axis::linear(0.0, steps as f64, "step"),
            Axis::fit_linear(loss_with.iter().chain(&loss_without).copied(), true, "loss"),
        );
        right.draw_axes(&mut svg, "Training at the chosen d_k");
        let curve = |l: &[f64]| -> Vec<(f64, f64)> {
            l.iter().enumerate().map(|(i, &v)| (i as f64, v)).collect()
        };
        right.line(&mut svg, &curve(&loss_with), line_class(0));
        right.line(&mut svg, &curve(&loss_without), line_class(1));
        svg.legend(
            48.0,
            16.0,
            &[
                ("scaled by 1/√d_k", fill_class(0)),
                ("unscaled", fill_class(1)),
                ("thin: share of rows with max weight > 0.99", "dlf-facc"),
            ],
        );
        let svg = svg.finish();

        let last = |l: &[f64]| l[l.len() - 1];
        let numbers = vec![
            ("d_k".to_string(), dk.to_string()),
            ("entropy / ln n, scaled".to_string(), sig(at_with.entropy, 3)),
            ("entropy / ln n, unscaled".to_string(), sig(at_without.entropy, 3)),
            ("saturated rows, unscaled".to_string(), sig(at_without.saturated, 3)),
            ("mean largest weight, unscaled".to_string(), sig(at_without.max_weight, 3)),
            ("‖∂L/∂z‖ scaled / unscaled".to_string(), sig(at_with.grad_scores_norm / at_without.grad_scores_norm, 3)),
            ("final loss, scaled".to_string(), sig(last(&loss_with), 3)),
            ("final loss, unscaled".to_string(), sig(last(&loss_without), 3)),
        ];
        let mut d = String::from("At d_k = ");
        d.push_str(&dk.to_string());
        d.push_str(" with ");
        d.push_str(&keys.to_string());
        d.push_str(" keys per row, the scaled softmax keeps a normalised entropy of ");
        d.push_str(&sig(at_with.entropy, 3));
        d.push_str(" while the unscaled one falls to ");
        d.push_str(&sig(at_without.entropy, 3));
        d.push_str(", with ");
        d.push_str(&sig(100.0 * at_without.saturated, 3));
        d.push_str(" % of rows saturated; the retrieval loss goes from ");
        d.push_str(&sig(loss_with[0], 3));
        d.push_str(" to ");
        d.push_str(&sig(last(&loss_with), 3));
        d.push_str(" with the scale and from ");
        d.push_str(&sig(loss_without[0], 3));
        d.push_str(" to ");
        d.push_str(&sig(last(&loss_without), 3));
        d.push_str(" without it.");
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
        AttentionScale.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn the_figure_shows_what_the_lesson_says() {
        let f = render(&[]);
        // At d_k = 64: the scaled rows stay spread out, the unscaled ones concentrate; the scaled run learns
        // and the unscaled one stalls (the engine's test of the same task uses the same defaults).
        assert!(f.expect_number("entropy / ln n, scaled") > 0.7);
        assert!(f.expect_number("entropy / ln n, unscaled") < 0.3);
        assert!(f.expect_number("final loss, scaled") < 0.2 * f.expect_number("final loss, unscaled"));
        // At d_k = 4 the scale is a factor of 1/2 only: both settings stay soft.
        let small = render(&[("log2_dk", "2")]);
        assert!(small.expect_number("entropy / ln n, unscaled") > 0.5);
    }
}

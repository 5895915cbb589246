//! "Ablate the transformer block": the engine's tiny decoder (`dlf_engine::lessons::transformer::tiny`)
//! trained live on the copy task (`a b c d a b c d`, predict the second copy) with parts of the block
//! switched off — residual connections, the norms or their placement, the `1/√d_h` scale, positions — and
//! 1 to 4 heads. The left panel shows the training loss of the ablated model and, faintly, of the full model
//! with the same seed; the right panels show per-block statistics of both at the end of training: the
//! residual stream's standard deviation by depth, and the attention a predicted token pays to the token it
//! must copy (the best head's mean weight) and the attention entropy.
//!
//! Progressive: each slice takes one training step of one of the two models (alternating), so the curves
//! grow together. Cost per step: 2 blocks of width 12 on 6 sequences of 8 tokens, about 0.5 M multiply-adds
//! forward and backward plus the tape's bookkeeping. Measured natively (`cargo bench -p dlf-widgets --bench
//! widgets -- transformer`, the whole render, on the loaded two-core build machine): 240 ms for the default
//! (one model, 120 slices) and 491 ms for `worst-post-4-heads` (two models, 240 slices), about 2.0 ms per
//! slice; not yet timed in WebAssembly, where one step may be close to the 4 ms frame budget.

use dlf_engine::lessons::transformer::tiny::{
    NormPlacement, Positions, TinyConfig, Trainer, VOCAB,
};

use crate::figure::Figure;
use crate::number_format::{percent, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Ablate the transformer block" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TransformerAblation;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "transformer-ablation",
    title: "Ablate the transformer block",
    summary: "A 2-block decoder trained live on a copy task with residuals, norms, the √d_h scale, \
              positions or heads changed, against the full model: loss curves and per-block statistics.",
    params: &[
        ParamSpec::toggle("residual", "Residual connections", true)
            .help("x + F(x) around attention and the MLP; off: x ← F(x)."),
        ParamSpec::select(
            "norm",
            "LayerNorm",
            &[
                ("pre", "pre-norm"),
                ("post", "post-norm"),
                ("none", "none"),
            ],
            "pre",
        )
        .help("Pre-norm: x + F(LN(x)) and a final LN. Post-norm: LN(x + F(x)). None: no norm at all."),
        ParamSpec::toggle("scale", "Scale scores by 1/√d_h", true)
            .help("Divide QKᵀ by √d_h before the softmax."),
        ParamSpec::select(
            "positions",
            "Positions",
            &[
                ("learned", "learned table"),
                ("sinusoidal", "sinusoidal"),
                ("none", "none"),
            ],
            "learned",
        )
        .help("What tells the model where a token is: a learned vector per position, fixed sinusoids, or nothing."),
        ParamSpec::range("heads", "Heads", 1.0..=4.0, 2.0)
            .help("Attention heads per block; the width 12 is split among them (d_h = 12/H)."),
        ParamSpec::range("seed", "Seed", 1.0..=10.0, 1.0)
            .help("Draws the initial weights and the training batches (the same for both models)."),
    ],
    // Any ablation trains two models (the ablated one and the full one); the costliest per step have
    // the most heads (more, smaller attention products) and post-norm (two more norms per block).
    bench: &[
        BenchCase {
            name: "worst-post-4-heads",
            query: "norm=post&heads=4&residual=false",
        },
        BenchCase {
            name: "worst-sinusoidal-noscale",
            query: "positions=sinusoidal&scale=false&heads=3",
        },
    ],
};

/// Training steps of each model.
const STEPS: usize = 120;

/// The ablated model and the full reference (`None` when nothing is ablated: the same model).
pub(crate) struct Progress {
    ablated: Trainer,
    full: Option<Trainer>,
    error: Option<String>,
}

fn config(p: &Params) -> TinyConfig {
    TinyConfig {
        residual: p.bool("residual"),
        norm: NormPlacement::parse(p.str("norm")).unwrap_or(NormPlacement::Pre),
        scale: p.bool("scale"),
        positions: Positions::parse(p.str("positions")).unwrap_or(Positions::Learned),
        heads: p.usize("heads").clamp(1, 4),
        steps: STEPS,
        ..TinyConfig::full(p.usize("seed") as u64)
    }
}

fn label(c: &TinyConfig) -> String {
    let full = TinyConfig::full(c.seed);
    let mut parts = Vec::new();
    if !c.residual {
        parts.push("no residual".to_string());
    }
    match c.norm {
        NormPlacement::Pre => {}
        NormPlacement::Post => parts.push("post-norm".to_string()),
        NormPlacement::None => parts.push("no norm".to_string()),
    }
    if !c.scale {
        parts.push("no 1/√d_h".to_string());
    }
    match c.positions {
        Positions::Learned => {}
        Positions::Sinusoidal => parts.push("sinusoidal positions".to_string()),
        Positions::None => parts.push("no positions".to_string()),
    }
    if c.heads != full.heads {
        parts.push(format!("{} head{}", c.heads, if c.heads == 1 { "" } else { "s" }));
    }
    if parts.is_empty() {
        "full model".to_string()
    } else {
        parts.join(", ")
    }
}

fn series(t: &Trainer) -> Vec<(f64, f64)> {
    t.losses
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_finite())
        .map(|(i, l)| ((i + 1) as f64, *l))
        .collect()
}

/// Mean of the last 10 losses taken.
fn tail_loss(t: &Trainer) -> f64 {
    t.final_loss(10)
}

impl Stepped for TransformerAblation {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> Progress {
        let cfg = config(p);
        let full_cfg = TinyConfig {
            steps: STEPS,
            ..TinyConfig::full(cfg.seed)
        };
        // The parameters are validated by the spec (heads 1–4 all divide the width 12), so these succeed.
        let ablated = Trainer::new(cfg).expect("a valid tiny configuration");
        let full = (cfg != full_cfg).then(|| Trainer::new(full_cfg).expect("the full configuration"));
        Progress {
            ablated,
            full,
            error: None,
        }
    }

    fn advance(&self, _p: &Params, s: &mut Progress) -> bool {
        if s.error.is_some() {
            return true;
        }
        // Alternate: step whichever model has taken fewer steps (the ablated one first).
        let behind_full = s
            .full
            .as_ref()
            .is_some_and(|f| f.losses.len() < s.ablated.losses.len());
        let result = match (&mut s.full, behind_full) {
            (Some(f), true) => f.step(),
            _ => s.ablated.step(),
        };
        if let Err(e) = result {
            s.error = Some(e.to_string());
            return true;
        }
        s.ablated.finished() && s.full.as_ref().is_none_or(Trainer::finished)
    }

    fn draw(&self, p: &Params, s: &Progress) -> Figure {
        let cfg = config(p);
        let name = label(&cfg);
        let chance = dlf_engine::math::ln(VOCAB as f64);
        let mut svg = Svg::new(724.0, 360.0, SPEC.title);

        // Loss curves.
        let losses = s
            .ablated
            .losses
            .iter()
            .chain(s.full.iter().flat_map(|f| f.losses.iter()))
            .copied()
            .chain([chance]);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 300.0, 260.0),
            Axis::linear(0.0, STEPS as f64, "training step"),
            Axis::fit_linear(losses, true, "loss (nats)"),
        );
        left.draw_axes(&mut svg, "Training loss on the copy task");
        let mut faint = String::from(line_class(1));
        faint.push_str(" dlf-thin");
        if let Some(f) = &s.full {
            left.line(&mut svg, &series(f), &faint);
        }
        left.line(&mut svg, &series(&s.ablated), line_class(0));
        let mut dashed = String::from(line_class(3));
        dashed.push_str(" dlf-thin");
        left.line(&mut svg, &[(0.0, chance), (STEPS as f64, chance)], &dashed);

        // Per-block statistics: stream std by depth (input, after block 1, after block 2).
        let depth = |t: &Trainer| -> Vec<(f64, f64)> {
            if t.stats.is_empty() {
                return Vec::new();
            }
            std::iter::once((0.0, t.input_std))
                .chain(t.stats.iter().enumerate().map(|(l, b)| ((l + 1) as f64, b.stream_std)))
                .collect()
        };
        let layers = cfg.layers as f64;
        let stds = depth(&s.ablated)
            .into_iter()
            .chain(s.full.iter().flat_map(depth))
            .map(|(_, v)| v);
        let top = Plot::new(
            Rect::new(450.0, 44.0, 250.0, 100.0),
            Axis::linear(0.0, layers, "depth (0 = embeddings)"),
            Axis::fit_linear(stds, true, ""),
        );
        top.draw_axes(&mut svg, "Residual-stream std");
        if let Some(f) = &s.full {
            top.line(&mut svg, &depth(f), &faint);
            top.scatter(&mut svg, &depth(f), 2.5, fill_class(1));
        }
        top.line(&mut svg, &depth(&s.ablated), line_class(0));
        top.scatter(&mut svg, &depth(&s.ablated), 3.0, fill_class(0));

        // Copy attention by block (solid) and attention entropy in nats / ln 8 (dotted).
        let copy = |t: &Trainer| -> Vec<(f64, f64)> {
            t.stats
                .iter()
                .enumerate()
                .map(|(l, b)| ((l + 1) as f64, b.copy_attention))
                .collect()
        };
        let bottom = Plot::new(
            Rect::new(450.0, 204.0, 250.0, 100.0),
            Axis::linear(0.5, layers + 0.5, "block"),
            Axis::linear(0.0, 1.0, ""),
        );
        bottom.draw_axes(&mut svg, "Weight on the token to copy");
        if let Some(f) = &s.full {
            bottom.line(&mut svg, &copy(f), &faint);
            bottom.scatter(&mut svg, &copy(f), 2.5, fill_class(1));
        }
        bottom.line(&mut svg, &copy(&s.ablated), line_class(0));
        bottom.scatter(&mut svg, &copy(&s.ablated), 3.0, fill_class(0));

        let mut legend: Vec<(&str, &str)> = vec![(name.as_str(), fill_class(0))];
        if s.full.is_some() {
            legend.push(("full model", fill_class(1)));
        }
        legend.push(("chance: ln 8", fill_class(3)));
        svg.legend(64.0, 16.0, &legend);
        let svg = svg.finish();

        let a = &s.ablated;
        let mut numbers = vec![
            ("steps taken".to_string(), a.losses.len().to_string()),
            ("final loss (last 10 steps)".to_string(), sig(tail_loss(a), 3)),
            (
                "final accuracy (last 10 steps)".to_string(),
                percent(a.final_accuracy(10)),
            ),
        ];
        if let Some(f) = &s.full {
            numbers.push(("full model: final loss".to_string(), sig(tail_loss(f), 3)));
        }
        for (l, b) in a.stats.iter().enumerate() {
            numbers.push((format!("block {}: stream std", l + 1), sig(b.stream_std, 3)));
            numbers.push((format!("block {}: copy attention", l + 1), sig(b.copy_attention, 3)));
            numbers.push((
                format!("block {}: attention entropy (nats)", l + 1),
                sig(b.attention_entropy, 3),
            ));
            numbers.push((format!("block {}: gradient norm", l + 1), sig(b.grad_norm, 3)));
        }
        for (l, b) in a.init_stats.iter().enumerate() {
            numbers.push((
                format!("block {}: attention entropy at step 1", l + 1),
                sig(b.attention_entropy, 3),
            ));
        }

        let mut d = format!(
            "The {name} ({} parameters) after {} of {STEPS} steps: loss {} (chance {}), accuracy {}.",
            a.param_count(),
            a.losses.len(),
            sig(tail_loss(a), 3),
            sig(chance, 3),
            percent(a.final_accuracy(10))
        );
        if let Some(f) = &s.full {
            d.push_str(&format!(" The full model with the same seed reaches {}.", sig(tail_loss(f), 3)));
        }
        if let Some(b) = a.stats.first() {
            d.push_str(&format!(
                " Block 1 puts {} of a predicted token's attention on the token it must copy.",
                sig(b.copy_attention, 2)
            ));
        }
        if let Some(e) = &s.error {
            d.push_str(" Training stopped: ");
            d.push_str(e);
        }
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
    use crate::registry::Widget;
    use crate::spec::parse_params;

    fn render(pairs: &[(&str, &str)]) -> Figure {
        TransformerAblation.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn the_figure_shows_what_the_lesson_says() {
        let full = render(&[]);
        let no_pos = render(&[("positions", "none")]);
        let f = full.expect_number("final loss (last 10 steps)");
        let p = no_pos.expect_number("final loss (last 10 steps)");
        assert!(f < 0.5 && p > 1.0, "full {f}, no positions {p}");
        // The reference curve is the same full model: its final loss is the default figure's.
        assert_eq!(no_pos.expect_number("full model: final loss"), f);
        assert!(full.number("full model: final loss").is_none());
        assert!(no_pos.description.contains("no positions"));
        assert_eq!(full.expect_number("steps taken"), STEPS as f64);
    }

    #[test]
    fn slicing_does_not_change_the_figure() {
        let p = parse_params(&SPEC, &[("scale", "false")]).unwrap();
        let mut s = TransformerAblation.start(&p);
        let mut frames = 0;
        while !TransformerAblation.advance(&p, &mut s) {
            frames += 1;
            if frames % 50 == 0 {
                // An intermediate draw is cheap and does not disturb the state.
                let _ = TransformerAblation.draw(&p, &s);
            }
        }
        assert_eq!(frames, 2 * STEPS - 1);
        let sliced = TransformerAblation.draw(&p, &s);
        assert_eq!(sliced.svg, TransformerAblation.render(&p).svg);
    }
}

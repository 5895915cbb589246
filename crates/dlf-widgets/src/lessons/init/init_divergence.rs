//! "The swapped activation": a deep MLP trained live (`dlf_engine::lessons::init::divergence`) with a chosen
//! activation, initialisation and learning rate, showing the three per-layer readings that diagnose a
//! divergence — the forward scale (activation RMS per layer), the step size (update-to-weight ratio
//! lr·‖∇W‖/‖W‖ per layer) and the numerics (largest pre-activation against the float16 range, dead units) —
//! at initialisation and at the latest step, beside the loss curve.
//!
//! Progressive ([`Stepped`]): each slice takes [`SLICE_STEPS`] gradient step of a network of at most 12
//! hidden layers of width 32 on 32 examples (about 3 × 32 × 32² × 13 ≈ 1.3 M multiply-adds per step).

use dlf_engine::lessons::init::divergence::{LayerStats, Run, RunConfig, FP16_MAX};

use super::{label, nonlin, preset, ACTIVATIONS, INITS};
use crate::figure::Figure;
use crate::number_format::{int, percent, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "swapped activation" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InitDivergence;

static SPEC: WidgetSpec = WidgetSpec {
    id: "init-divergence",
    title: "The swapped activation",
    summary: "Train a deep MLP with a chosen activation, initialisation and learning rate, and read the \
              per-layer statistics that say why it diverges.",
    params: &[
        ParamSpec::select("activation", "Activation", ACTIVATIONS, "relu")
            .help("The hidden nonlinearity: swap it and keep the initialisation to see what breaks."),
        ParamSpec::select("init", "Initialisation", INITS, "he")
            .help("Weight variance σ_w²/fan_in of every layer (the readout uses the identity's gain)."),
        ParamSpec::range("log10_lr", "log₁₀ learning rate", -3.0..=0.0, -1.3)
            .step(0.1)
            .help("Full-batch gradient descent."),
        ParamSpec::range("depth", "Hidden layers", 2.0..=12.0, 8.0).help("Hidden layers of width 32."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws the data and the weights."),
    ],
    // The deepest network with a learning rate that does not diverge runs all its steps; GELU and SELU cost
    // an erf or an exponential per unit.
    bench: &[
        BenchCase {
            name: "worst-gelu-12",
            query: "activation=gelu&depth=12&log10_lr=-2",
        },
        BenchCase {
            name: "worst-selu-matched-12",
            query: "activation=selu&init=matched&depth=12&log10_lr=-2",
        },
    ],
};

/// Training steps of every run.
pub(crate) const STEPS: usize = 100;
/// Gradient steps per slice (per animation frame in the page).
pub(crate) const SLICE_STEPS: usize = 1;

fn config(p: &Params) -> RunConfig {
    RunConfig {
        phi: nonlin(p),
        preset: preset(p),
        depth: p.usize("depth").clamp(2, 12),
        lr: dlf_engine::math::powf(10.0, p.f64("log10_lr")),
        steps: STEPS,
        seed: p.usize("seed") as u64,
    }
}

fn positive(v: f64) -> f64 {
    if v.is_finite() && v > 1e-300 {
        v.min(1e300)
    } else if v.is_finite() || v.is_nan() {
        1e-300
    } else {
        1e300
    }
}

fn per_layer(v: &[f64]) -> Vec<(f64, f64)> {
    v.iter()
        .enumerate()
        .map(|(l, x)| ((l + 1) as f64, positive(*x)))
        .collect()
}

/// The findings, one sentence each, from the statistics at initialisation and now.
fn diagnosis(run: &Run) -> Vec<&'static str> {
    let mut out = Vec::new();
    let s0: &LayerStats = &run.initial;
    let hidden = s0.act_rms.len() - 1;
    // The geometric-mean change of the activation RMS per hidden layer at initialisation.
    let growth = dlf_engine::math::powf(
        positive(s0.act_rms[hidden - 1]) / positive(s0.act_rms[0]),
        1.0 / (hidden.max(2) - 1) as f64,
    );
    if growth > 1.1 {
        out.push("forward scale grows with depth: the initialisation's gain is too large for this activation");
    } else if growth < 0.9 {
        out.push("forward scale shrinks with depth: the gain is too small for this activation");
    }
    let spread = s0.update_ratio.iter().fold(0.0_f64, |m, v| m.max(positive(*v)))
        / s0.update_ratio.iter().fold(f64::INFINITY, |m, v| m.min(positive(*v)));
    if spread > 100.0 {
        out.push("update ratios at initialisation differ by over 100× across layers: the gradient vanishes towards the input");
    }
    let worst_ratio = run.latest.update_ratio.iter().fold(0.0_f64, |m, v| m.max(positive(*v)));
    if worst_ratio > 0.1 {
        out.push("updates above 10 % of the weights: the learning rate is too large for this gradient scale");
    }
    if run.latest.max_abs.iter().any(|v| !(v.is_finite() && *v <= FP16_MAX)) {
        out.push("activations beyond the float16 range (65504)");
    }
    if run.latest.dead_fraction.iter().any(|d| *d > 0.5) {
        out.push("more than half the units of a layer are dead");
    }
    if out.is_empty() {
        out.push("no alarm: scale, step size and numerics are in range");
    }
    out
}

fn draw_figure(p: &Params, run: &Run) -> Figure {
    let mut svg = Svg::new(760.0, 340.0, SPEC.title);
    // Loss curve.
    let losses: Vec<(f64, f64)> = run
        .losses
        .iter()
        .enumerate()
        .map(|(t, l)| (t as f64, positive(*l)))
        .collect();
    let loss_plot = Plot::new(
        Rect::new(56.0, 48.0, 190.0, 230.0),
        Axis::linear(0.0, STEPS as f64, "step"),
        Axis::fit_log10(losses.iter().map(|p| p.1).chain([1e-3, 10.0]), ""),
    );
    loss_plot.draw_axes(&mut svg, "Training loss");
    loss_plot.line(&mut svg, &losses, line_class(0));

    let layers = run.initial.act_rms.len() as f64;
    let acts = run.initial.act_rms.iter().chain(&run.latest.act_rms).copied().map(positive);
    let act_plot = Plot::new(
        Rect::new(306.0, 48.0, 190.0, 230.0),
        Axis::linear(1.0, layers, "layer (last = readout)"),
        Axis::fit_log10(acts, ""),
    );
    act_plot.draw_axes(&mut svg, "Activation RMS");
    let mut faint = String::from(line_class(1));
    faint.push_str(" dlf-thin");
    act_plot.line(&mut svg, &per_layer(&run.initial.act_rms), &faint);
    act_plot.line(&mut svg, &per_layer(&run.latest.act_rms), line_class(1));

    let ratios = run
        .initial
        .update_ratio
        .iter()
        .chain(&run.latest.update_ratio)
        .copied()
        .map(positive)
        .chain([1e-4, 1e-2]);
    let ratio_plot = Plot::new(
        Rect::new(556.0, 48.0, 190.0, 230.0),
        Axis::linear(1.0, layers, "layer"),
        Axis::fit_log10(ratios, ""),
    );
    ratio_plot.draw_axes(&mut svg, "Update / weight, lr‖∇W‖/‖W‖");
    let mut faint2 = String::from(line_class(2));
    faint2.push_str(" dlf-thin");
    ratio_plot.line(&mut svg, &per_layer(&run.initial.update_ratio), &faint2);
    ratio_plot.line(&mut svg, &per_layer(&run.latest.update_ratio), line_class(2));
    let mut reference = String::from(line_class(3));
    reference.push_str(" dlf-thin");
    ratio_plot.line(&mut svg, &[(1.0, 1e-3), (layers, 1e-3)], &reference);
    svg.legend(
        56.0,
        16.0,
        &[
            ("loss", fill_class(0)),
            ("activation RMS (faint: at init)", fill_class(1)),
            ("update ratio (faint: at init)", fill_class(2)),
            ("10⁻³ rule of thumb", fill_class(3)),
        ],
    );
    let svg = svg.finish();

    let last_loss = run.losses.last().copied().unwrap_or(f64::NAN);
    let hidden = run.initial.act_rms.len() - 1;
    let numbers = vec![
        (
            "diverged at step".to_string(),
            run.diverged_at.map_or("never".to_string(), |s| int(s as i64)),
        ),
        ("steps taken".to_string(), int(run.losses.len() as i64)),
        ("initial loss".to_string(), sig(run.losses.first().copied().unwrap_or(f64::NAN).min(1e300), 3)),
        (
            "latest loss".to_string(),
            if last_loss.is_finite() { sig(last_loss, 3) } else { "overflow".to_string() },
        ),
        (
            "activation RMS, last hidden / first hidden (init)".to_string(),
            sig(
                positive(run.initial.act_rms[hidden - 1]) / positive(run.initial.act_rms[0]),
                3,
            ),
        ),
        (
            "largest update ratio (latest)".to_string(),
            sig(run.latest.update_ratio.iter().fold(0.0_f64, |m, v| m.max(positive(*v))), 3),
        ),
        (
            "largest |pre-activation| (latest)".to_string(),
            sig(run.latest.max_abs.iter().fold(0.0_f64, |m, v| m.max(positive(*v))), 3),
        ),
        (
            "dead units, worst layer (latest)".to_string(),
            percent(run.latest.dead_fraction.iter().fold(0.0_f64, |m, v| m.max(*v))),
        ),
    ];
    let mut d = String::from("Training a ");
    d.push_str(&run.cfg.depth.to_string());
    d.push_str("-layer MLP with ");
    d.push_str(label(ACTIVATIONS, p.str("activation")));
    d.push_str(", ");
    d.push_str(label(INITS, p.str("init")));
    d.push_str(" and learning rate ");
    d.push_str(&sig(run.cfg.lr, 2));
    match run.diverged_at {
        Some(s) => {
            d.push_str(": the loss diverged at step ");
            d.push_str(&s.to_string());
        }
        None => {
            d.push_str(": after ");
            d.push_str(&run.losses.len().to_string());
            d.push_str(" steps the loss is ");
            d.push_str(&sig(last_loss, 3));
        }
    }
    d.push_str(". Diagnosis: ");
    d.push_str(&diagnosis(run).join("; "));
    d.push('.');
    Figure {
        svg,
        numbers,
        description: d,
    }
}

impl Stepped for InitDivergence {
    type State = Run;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> Run {
        Run::new(config(p))
    }

    fn advance(&self, _p: &Params, state: &mut Run) -> bool {
        state.advance(SLICE_STEPS)
    }

    fn draw(&self, p: &Params, state: &Run) -> Figure {
        draw_figure(p, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Widget;
    use crate::spec::parse_params;

    fn render(pairs: &[(&str, &str)]) -> Figure {
        InitDivergence.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn swapping_relu_for_selu_under_he_diverges_and_the_matched_gain_trains() {
        let relu = render(&[]);
        assert!(relu.expect_number("latest loss") < 0.1);
        let selu = render(&[("activation", "selu")]);
        assert!(selu.description.contains("diverged"), "{}", selu.description);
        assert!(selu.description.contains("forward scale grows"), "{}", selu.description);
        let fixed = render(&[("activation", "selu"), ("init", "matched")]);
        assert!(!fixed.description.contains("diverged"), "{}", fixed.description);
        // A learning rate too large for ReLU + He: the update ratio gives it away.
        let hot = render(&[("log10_lr", "-0.5")]);
        assert!(hot.description.contains("learning rate is too large"), "{}", hot.description);
        // The figure's numbers are the engine's.
        let run = Run::to_end(config(&parse_params(&SPEC, &[]).unwrap()));
        let want = run.losses.last().copied().unwrap();
        assert!((relu.expect_number("latest loss") - want).abs() <= 0.005 * want);
    }
}

//! "Signal through depth": the spread of every layer's pre-activations and the size of every layer's
//! backpropagated gradient in a freshly initialised bias-free MLP, for an activation × initialisation × depth ×
//! width, against the mean-field prediction (`dlf_engine::lessons::init::depth`). The left panel shows, per
//! layer, the 25–75 % and 5–95 % quantile bands of |h| with the measured RMS and the mean-field √q^l; the
//! right panel the RMS of δ^l = ∂L/∂h^l relative to the last layer, measured and predicted. Both axes are
//! logarithmic, so a geometric drift is a straight line.
//!
//! Cost: one forward and one backward pass of `depth` square layers with batch·width = 256 rows×units: at
//! width 128 and depth 32 about 2 × 256 × 128 × 32 ≈ 2.1 M multiply-adds (lesson 03's `norm-depth` measured
//! about 1 ms per M natively), plus the quadrature of the mean field (two 96-node sums per layer).

use dlf_engine::lessons::init::depth::{DepthConfig, DepthProfile, DepthRun};

use super::{label, nonlin, preset, ACTIVATIONS, INITS};
use crate::figure::Figure;
use crate::number_format::{percent, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Signal through depth" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InitDepth;

static SPEC: WidgetSpec = WidgetSpec {
    id: "init-depth",
    title: "Signal through depth",
    summary: "Per-layer spread of the pre-activations and size of the backpropagated gradient of a freshly \
              initialised MLP, against the mean-field prediction.",
    params: &[
        ParamSpec::select("activation", "Activation", ACTIVATIONS, "tanh")
            .help("The nonlinearity between layers."),
        ParamSpec::select("init", "Initialisation", INITS, "he")
            .help("Weight variance σ_w²/n: fixed small, PyTorch's default (σ_w² = 1/3), LeCun (1), He (2), or the activation's own gain."),
        ParamSpec::range("depth", "Layers L", 2.0..=32.0, 30.0).help("Number of layers."),
        ParamSpec::select(
            "width",
            "Width n",
            &[("16", "16"), ("32", "32"), ("64", "64"), ("128", "128")],
            "128",
        )
        .help("Units per layer; the batch is 256/n inputs, so every layer shows 256 values."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws the inputs and the weights."),
    ],
    // The work is batch × width² × depth with batch × width fixed, so the widest, deepest network costs most;
    // SELU and GELU are the dearest activations (an exponential or erf per unit).
    bench: &[
        BenchCase {
            name: "worst-selu-128-32",
            query: "activation=selu&width=128&depth=32",
        },
        BenchCase {
            name: "worst-gelu-128-32",
            query: "activation=gelu&width=128&depth=32&init=matched",
        },
    ],
};

/// Values shown per layer: batch × width.
const VALUES_PER_LAYER: usize = 256;

fn config(p: &Params) -> DepthConfig {
    let width = p.str("width").parse::<usize>().unwrap_or(128);
    DepthConfig {
        phi: nonlin(p),
        preset: preset(p),
        depth: p.usize("depth").clamp(2, 32),
        width,
        batch: VALUES_PER_LAYER / width,
        seed: p.usize("seed") as u64,
    }
}

/// Finite, positive values for a log axis (an underflowed 0 sits at the axis's floor).
fn positive(v: f64) -> f64 {
    if v.is_finite() && v > 1e-300 {
        v
    } else {
        1e-300
    }
}

fn series(v: &[f64]) -> Vec<(f64, f64)> {
    v.iter()
        .enumerate()
        .map(|(l, x)| ((l + 1) as f64, positive(*x)))
        .collect()
}

fn draw(cfg: &DepthConfig, m: &DepthProfile) -> String {
    let depth = cfg.depth;
    let mut svg = Svg::new(724.0, 352.0, SPEC.title);
    let values = m
        .quantiles
        .iter()
        .flat_map(|q| [q[0], q[4]])
        .chain(m.rms.iter().copied())
        .chain(m.predicted_rms.iter().copied())
        .map(positive);
    let left = Plot::new(
        Rect::new(64.0, 44.0, 272.0, 250.0),
        Axis::linear(1.0, depth as f64, "layer l"),
        Axis::fit_log10(values, ""),
    );
    left.draw_axes(&mut svg, "Pre-activations |h^l|");
    svg.vertical_text(18.0, 169.0, "dlf-t", "|h|: quantiles, RMS, √q");
    // Per-layer boxes: 5–95 % faint, 25–75 % stronger (a box plot without whiskers).
    let step = left.px(2.0).unwrap_or(0.0) - left.px(1.0).unwrap_or(0.0);
    let half = (0.35 * step).clamp(1.0, 6.0);
    for (lo, hi, opacity) in [(0usize, 4usize, 0.18), (1, 3, 0.4)] {
        for (l, q) in m.quantiles.iter().enumerate() {
            let (Some(x), Some(top), Some(bottom)) = (
                left.px((l + 1) as f64),
                left.py(positive(q[hi])),
                left.py(positive(q[lo])),
            ) else {
                continue;
            };
            svg.rect_with_opacity(
                Rect::new(x - half, top, 2.0 * half, bottom - top),
                fill_class(0),
                opacity,
            );
        }
    }
    left.line(&mut svg, &series(&m.rms), line_class(0));
    let mut dashed = String::from(line_class(3));
    dashed.push_str(" dlf-thin");
    left.line(&mut svg, &series(&m.predicted_rms), &dashed);

    let grads = m
        .grad_rms
        .iter()
        .chain(&m.predicted_grad_rms)
        .copied()
        .map(positive);
    let right = Plot::new(
        Rect::new(432.0, 44.0, 272.0, 250.0),
        Axis::linear(1.0, depth as f64, "layer l"),
        Axis::fit_log10(grads, ""),
    );
    right.draw_axes(&mut svg, "Backpropagated gradient δ^l");
    svg.vertical_text(386.0, 169.0, "dlf-t", "RMS δ^l / RMS δ^L");
    right.line(&mut svg, &series(&m.grad_rms), line_class(1));
    right.line(&mut svg, &series(&m.predicted_grad_rms), &dashed);
    svg.legend(
        64.0,
        16.0,
        &[
            ("measured RMS |h| (bands: 25–75 %, 5–95 %)", fill_class(0)),
            ("measured gradient", fill_class(1)),
            ("mean field", fill_class(3)),
        ],
    );
    svg.finish()
}

/// Layers drawn and run forward per frame: each layer draws width² normal deviates (16,384 at width 128,
/// about 0.3 ms natively), the bulk of the cost, so four layers a frame (with the drawing of the layers so far)
/// keep a frame near 2 ms natively; 32 layers take eight frames, the last also doing the final statistics.
const LAYERS_PER_SLICE: usize = 4;

/// The run so far, and its profile once every layer has run.
#[derive(Debug)]
pub(crate) struct Progress {
    run: DepthRun,
    profile: Option<DepthProfile>,
}

/// Drawing depth × width² weights is over the 4 ms budget at the largest settings, so the widget is
/// [`Stepped`]: a few layers per frame, the figure showing the layers drawn so far.
impl Stepped for InitDepth {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> Progress {
        Progress {
            run: DepthRun::new(&config(p)),
            profile: None,
        }
    }

    fn advance(&self, _p: &Params, state: &mut Progress) -> bool {
        if state.run.advance(LAYERS_PER_SLICE) && state.profile.is_none() {
            state.profile = Some(state.run.profile());
        }
        state.profile.is_some()
    }

    fn draw(&self, p: &Params, state: &Progress) -> Figure {
        let mut cfg = config(p);
        // Before the last frame the figure shows the network of the layers drawn so far.
        let partial;
        let m = match &state.profile {
            Some(m) => m,
            None => {
                cfg.depth = state.run.layers_done().max(1);
                partial = state.run.profile();
                &partial
            }
        };
        let svg = draw(&cfg, m);
        let last = cfg.depth - 1;
        let per_layer = if last > 0 {
            dlf_engine::math::powf(positive(m.rms[last]) / positive(m.rms[0]), 1.0 / last as f64)
        } else {
            1.0
        };
        let numbers = vec![
            ("σ_w² = n·Var(w)".to_string(), sig(m.sigma_w2, 3)),
            ("RMS of h, last layer".to_string(), sig(m.rms[last], 3)),
            ("mean-field √q, last layer".to_string(), sig(m.predicted_rms[last], 3)),
            ("RMS growth per layer".to_string(), sig(per_layer, 3)),
            ("gradient, first / last layer".to_string(), sig(m.grad_rms[0], 3)),
            ("mean-field gradient, first / last".to_string(), sig(m.predicted_grad_rms[0], 3)),
            ("units dead on the whole batch, last layer".to_string(), percent(m.dead_fraction[last])),
        ];
        let mut d = String::from("With ");
        d.push_str(label(ACTIVATIONS, p.str("activation")));
        d.push_str(" and ");
        d.push_str(label(INITS, p.str("init")));
        d.push_str(" (σ_w² = ");
        d.push_str(&sig(m.sigma_w2, 3));
        d.push_str(") at width ");
        d.push_str(p.str("width"));
        d.push_str(", the RMS pre-activation goes from ");
        d.push_str(&sig(m.rms[0], 3));
        d.push_str(" in layer 1 to ");
        d.push_str(&sig(m.rms[last], 3));
        d.push_str(" in layer ");
        d.push_str(&cfg.depth.to_string());
        d.push_str(" (mean field: ");
        d.push_str(&sig(m.predicted_rms[last], 3));
        d.push_str("), and the gradient reaching layer 1 is ");
        d.push_str(&sig(m.grad_rms[0], 3));
        d.push_str(" times the last layer's (mean field: ");
        d.push_str(&sig(m.predicted_grad_rms[0], 3));
        d.push_str(").");
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
    use dlf_engine::lessons::init::depth::depth_profile;

    fn render(pairs: &[(&str, &str)]) -> Figure {
        InitDepth.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn the_figure_shows_what_the_lesson_says() {
        // He keeps a ReLU network's scale; the same init on tanh sits in the chaotic phase (gradients grow
        // towards the input); LeCun on ReLU halves the second moment per layer.
        let relu_he = render(&[("activation", "relu")]);
        let rms = relu_he.expect_number("RMS of h, last layer");
        // Mean field: √2 at every layer; two inputs at width 128 scatter around it (Hanin & Nica 2019).
        assert!(rms > 0.5 && rms < 4.0, "{rms}");
        let tanh_he = render(&[]);
        let chaotic = tanh_he.expect_number("mean-field gradient, first / last");
        let measured = tanh_he.expect_number("gradient, first / last layer");
        assert!(chaotic > 1.5 && measured > 1.5, "{chaotic} {measured}");
        let relu_lecun = render(&[("activation", "relu"), ("init", "lecun")]);
        let g = relu_lecun.expect_number("RMS growth per layer");
        assert!((g - 0.5f64.sqrt()).abs() < 0.05, "{g}");
        // The measured numbers agree with the engine's run of the same configuration.
        let m = depth_profile(&config(&parse_params(&SPEC, &[("activation", "relu")]).unwrap()));
        assert!((m.rms[29] - rms).abs() <= 0.005 * rms);
    }
}

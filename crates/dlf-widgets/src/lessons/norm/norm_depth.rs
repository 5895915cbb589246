//! "Activations and gradients through depth": a deep residual MLP built with the engine
//! (`dlf_engine::lessons::norm::depth`) with no norm, BatchNorm, LayerNorm or RMSNorm, placed before the branch
//! (pre-norm, Xiong et al. 2020) or after the residual addition (post-norm, Vaswani et al. 2017). The left
//! panel shows the residual stream's standard deviation after every block, the right panel the norm of
//! every block's weight gradient, both on log scales, for the chosen network and, faintly, the same norm in
//! the other placement and the plain network without a norm.
//!
//! Cost: three forward-and-backward passes of a width-16 network (two 16×16 matrices per block) at the
//! chosen depth and batch: at depth 48 and batch 16 about 3 × 48 × 6 × 16³ ≈ 3.5 M multiply-adds. Measured
//! natively with `cargo bench -p dlf-widgets --bench widgets -- norm-depth` on a loaded two-core machine:
//! 1.6 ms at the defaults, 3.1–3.5 ms at depth 48; in WebAssembly under Node (the bench-wasm module), median
//! 4.0 ms at the defaults and 7.1–7.7 ms at depth 48.

use dlf_engine::lessons::norm::depth::{
    depth_profile, stream_variance_slope, DepthConfig, DepthProfile, Placement,
};
use dlf_engine::lessons::norm::NormKind;

use crate::figure::Figure;
use crate::number_format::sig;
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Activations and gradients through depth" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NormDepth;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "norm-depth",
    title: "Activations and gradients through depth",
    summary:
        "Per-block residual-stream standard deviation and weight-gradient norm of a deep residual \
              MLP with no norm, BatchNorm, LayerNorm or RMSNorm, pre-norm or post-norm.",
    params: &[
        ParamSpec::select(
            "norm",
            "Norm",
            &[
                ("none", "none"),
                ("batchnorm", "BatchNorm"),
                ("layernorm", "LayerNorm"),
                ("rmsnorm", "RMSNorm"),
            ],
            "layernorm",
        ).help("The normalisation layer in every block."),
        ParamSpec::select(
            "placement",
            "Placement",
            &[
                ("pre", "pre-norm"),
                ("post", "post-norm"),
            ],
            "pre",
        ).help("Pre-norm: x + F(N(x)) with a final norm. Post-norm: N(x + F(x))."),
        ParamSpec::range("depth", "Blocks L", 2.0..=48.0, 32.0).help("Number of residual blocks."),
        ParamSpec::range("gain", "Branch gain", 0.1..=2.0, 1.0)
            .step(0.05)
            .help("The standard deviation of each branch's output for a unit-variance input."),
        ParamSpec::range("batch", "Batch B", 2.0..=16.0, 16.0)
            .help("Examples per batch: BatchNorm's statistics come from these."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0)
            .help("Draws the input, the weights and the loss direction."),
    ],
    // Three forward-and-backward passes (chosen, other placement, no norm) at the largest depth and batch; BatchNorm transposes its input, so it is the costliest norm.
    bench: &[
        BenchCase {
            name: "worst-batchnorm-48",
            query: "norm=batchnorm&depth=48&batch=16",
        },
        BenchCase {
            name: "worst-layernorm-48",
            query: "norm=layernorm&depth=48&batch=16",
        },
    ],
};

/// Width of every block: small enough that three passes at depth 48 fit in a frame.
const WIDTH: usize = 16;

fn norm_of(s: &str) -> Option<NormKind> {
    NormKind::parse(s)
}

fn norm_label(n: Option<NormKind>) -> &'static str {
    match n {
        None => "no norm",
        Some(NormKind::Batch) => "BatchNorm",
        Some(NormKind::Layer) => "LayerNorm",
        Some(NormKind::Rms) => "RMSNorm",
    }
}

fn placement_label(p: Placement) -> &'static str {
    match p {
        Placement::Pre => "pre-norm",
        Placement::Post => "post-norm",
    }
}

/// One curve: its legend label, colour, whether it is the chosen network, and its profile.
#[derive(Debug)]
pub(crate) struct Series {
    label: String,
    colour: usize,
    main: bool,
    profile: DepthProfile,
}

/// The configuration the parameters describe, and the label of its curve.
fn config(p: &Params) -> (DepthConfig, String) {
    let norm = norm_of(p.str("norm"));
    let placement = Placement::parse(p.str("placement")).unwrap_or(Placement::Pre);
    let cfg = DepthConfig {
        depth: p.usize("depth").clamp(2, 48),
        width: WIDTH,
        batch: p.usize("batch").clamp(2, 16),
        norm,
        placement,
        gain: p.f64("gain"),
        seed: p.usize("seed") as u64,
    };
    let main_label = match norm {
        None => "no norm".to_string(),
        Some(_) => {
            let mut s = String::from(norm_label(norm));
            s.push_str(", ");
            s.push_str(placement_label(placement));
            s
        }
    };
    (cfg, main_label)
}

/// Each network's forward and backward pass costs up to about 1 ms natively at depth 48, three of them over the
/// 4 ms redraw budget in WebAssembly, so the widget is [`Stepped`]: the chosen network in the first animation
/// frame, the two comparison curves in the second.
impl Stepped for NormDepth {
    type State = Vec<Series>;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, _p: &Params) -> Vec<Series> {
        Vec::new()
    }

    fn advance(&self, p: &Params, series: &mut Vec<Series>) -> bool {
        let (cfg, main_label) = config(p);
        if series.is_empty() {
            series.push(Series {
                label: main_label,
                colour: 0,
                main: true,
                profile: depth_profile(&cfg),
            });
            return cfg.norm.is_none();
        }
        if cfg.norm.is_some() && series.len() == 1 {
            let other = match cfg.placement {
                Placement::Pre => Placement::Post,
                Placement::Post => Placement::Pre,
            };
            let mut label = String::from(norm_label(cfg.norm));
            label.push_str(", ");
            label.push_str(placement_label(other));
            series.push(Series {
                label,
                colour: 1,
                main: false,
                profile: depth_profile(&DepthConfig {
                    placement: other,
                    ..cfg
                }),
            });
            series.push(Series {
                label: "no norm".to_string(),
                colour: 2,
                main: false,
                profile: depth_profile(&DepthConfig { norm: None, ..cfg }),
            });
        }
        true
    }

    fn draw(&self, p: &Params, series: &Vec<Series>) -> Figure {
        let series = series.as_slice();
        let (cfg, main_label) = config(p);
        let depth = cfg.depth;
        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let top = (1.0 + depth as f64 * cfg.gain * cfg.gain).sqrt();
        let stds = series
            .iter()
            .flat_map(|s| s.profile.act_std.iter().copied())
            .chain([top]);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, depth as f64, "block l"),
            Axis::fit_log10(stds, ""),
        );
        left.draw_axes(&mut svg, "Residual stream: activation std");
        // Log ticks between 1e3 and 1e5 print in full ("100000"), wider than the shared axis code's gap
        // before its vertical label, so this widget places its two vertical labels further out itself.
        svg.vertical_text(18.0, 169.0, "dlf-t", "std of the stream x_l");
        let grads = series
            .iter()
            .flat_map(|s| s.profile.grad_norm.iter().copied());
        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::linear(1.0, depth as f64, "block l"),
            Axis::fit_log10(grads, ""),
        );
        right.draw_axes(&mut svg, "Weight-gradient norm per block");
        svg.vertical_text(386.0, 169.0, "dlf-t", "‖dL/dW_l‖");
        // The comparison curves go underneath, thin; the chosen network is drawn last, at full strength.
        for s in series.iter().rev() {
            let class = if s.main {
                line_class(s.colour).to_string()
            } else {
                let mut c = String::from(line_class(s.colour));
                c.push_str(" dlf-thin");
                c
            };
            let act: Vec<(f64, f64)> = s
                .profile
                .act_std
                .iter()
                .enumerate()
                .map(|(l, v)| (l as f64, *v))
                .collect();
            left.line(&mut svg, &act, &class);
            let g: Vec<(f64, f64)> = s
                .profile
                .grad_norm
                .iter()
                .enumerate()
                .map(|(l, v)| ((l + 1) as f64, *v))
                .collect();
            right.line(&mut svg, &g, &class);
        }
        // The pre-norm prediction Var[x_l] = Var[x_0] + l·g² (the lesson's derivation), drawn thin so the
        // measured curve can be compared with it.
        let var0 = series[0].profile.act_std[0].powi(2);
        let gain = cfg.gain;
        let theory: Vec<(f64, f64)> = (0..=depth)
            .map(|l| (l as f64, (var0 + l as f64 * gain * gain).sqrt()))
            .collect();
        let mut dashed = String::from(line_class(3));
        dashed.push_str(" dlf-thin");
        left.line(&mut svg, &theory, &dashed);
        let mut legend: Vec<(&str, &str)> = series
            .iter()
            .map(|s| (s.label.as_str(), fill_class(s.colour)))
            .collect();
        legend.push(("pre-norm theory √(1 + l·g²)", fill_class(3)));
        svg.legend(64.0, 16.0, &legend);
        let svg = svg.finish();

        let m = &series[0].profile;
        let last_std = m.act_std[depth];
        let first_grad = m.grad_norm[0];
        let last_grad = m.grad_norm[depth - 1];
        let ratio = first_grad / last_grad;
        let numbers = vec![
            (
                "stream std after the last block".to_string(),
                sig(last_std, 3),
            ),
            (
                "stream variance growth per block (last half)".to_string(),
                sig(stream_variance_slope(&m.act_std), 3),
            ),
            ("gradient norm, first block".to_string(), sig(first_grad, 3)),
            ("gradient norm, last block".to_string(), sig(last_grad, 3)),
            ("first / last gradient norm".to_string(), sig(ratio, 3)),
        ];
        let mut d = String::from("For ");
        d.push_str(&main_label);
        d.push_str(" with ");
        d.push_str(&depth.to_string());
        d.push_str(" blocks, the residual stream's standard deviation goes from ");
        d.push_str(&sig(m.act_std[0], 3));
        d.push_str(" at the input to ");
        d.push_str(&sig(last_std, 3));
        d.push_str(" after the last block, and the weight-gradient norm goes from ");
        d.push_str(&sig(first_grad, 3));
        d.push_str(" in the first block to ");
        d.push_str(&sig(last_grad, 3));
        d.push_str(" in the last (ratio ");
        d.push_str(&sig(ratio, 3));
        d.push_str(").");
        for s in series.iter().skip(1) {
            d.push_str(" For ");
            d.push_str(&s.label);
            d.push_str(" the stream ends at std ");
            d.push_str(&sig(s.profile.act_std[depth], 3));
            d.push_str(" and the first/last gradient ratio is ");
            d.push_str(&sig(
                s.profile.grad_norm[0] / s.profile.grad_norm[depth - 1],
                3,
            ));
            d.push('.');
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
        NormDepth.render(&parse_params(&SPEC, pairs).unwrap())
    }

    #[test]
    fn the_figure_shows_what_the_lesson_says() {
        // Post-norm pins the stream at unit scale; pre-norm lets it grow slowly (variance about linear
        // in depth); without a norm it grows geometrically.
        let post = render(&[("placement", "post")]);
        let pre = render(&[]);
        let plain = render(&[("norm", "none"), ("depth", "16")]);
        let post_std = post.expect_number("stream std after the last block");
        let pre_std = pre.expect_number("stream std after the last block");
        assert!((post_std - 1.0).abs() < 0.05, "{post_std}");
        assert!(pre_std > 3.0 && pre_std < 10.0, "{pre_std}");
        let plain_std = depth_profile(&DepthConfig {
            depth: 24,
            width: WIDTH,
            batch: 16,
            norm: None,
            placement: Placement::Pre,
            gain: 1.0,
            seed: 1,
        })
        .act_std[24];
        assert!(plain_std > 100.0, "{plain_std}");
        assert!(plain.description.contains("no norm"));
        // Pre-norm: later blocks get smaller gradients than the first (the stream they are added to is
        // larger), and the last block's gradient is smaller than post-norm's (Xiong et al. 2020: pre-LN's
        // last-layer gradient shrinks like 1/√L, post-LN's does not).
        assert!(pre.expect_number("first / last gradient norm") > 2.0);
        let (pre_last, post_last) = (
            pre.expect_number("gradient norm, last block"),
            post.expect_number("gradient norm, last block"),
        );
        assert!(
            post_last > 2.0 * pre_last,
            "post {post_last}, pre {pre_last}"
        );
        assert!(pre.svg.contains("LayerNorm, post-norm") && pre.svg.contains("no norm"));
        // The lesson: with BatchNorm in the post-norm position the gradient grows steeply towards the input.
        let bn_post = render(&[("norm", "batchnorm"), ("placement", "post")]);
        let r = bn_post.expect_number("first / last gradient norm");
        assert!(r > 5.0, "{r}");
    }
}

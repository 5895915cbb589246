//! "Adam + L2 against AdamW": two parameters whose gradients differ in scale by a chosen factor, each
//! sitting at its unregularised optimum `p = 1` of `½ aᵢ (pᵢ − 1)²`, regularised with the same λ by Adam
//! with an L2 term in the gradient and by AdamW with decoupled decay (Loshchilov & Hutter 2019).
//!
//! What it shows: under Adam the L2 gradient `λp` is divided by `√v̂` together with the loss gradient, so
//! its pull depends on how large that parameter's gradients are; Adam + L2 converges to the L2 minimiser
//! `aᵢ/(aᵢ + λ)` (dashed), which shrinks the small-gradient parameter and leaves the large-gradient one
//! untouched. AdamW shrinks every parameter by the same factor `1 − ηλ` per step and lets the normalised
//! gradient push back; that balance does not depend on the gradient's scale, so its two curves coincide.
//! Without noise the normalised gradient stays near ±1 however close a parameter is to its optimum, so a
//! decay with `λp < 1` never wins and AdamW stays at 1; with relative noise `s` the normalised gradient's mean
//! is about the signal-to-noise ratio `(1 − p)/s` (Kingma & Ba 2015, §2), and the balance `(1 − p)/s ≈ λp`
//! puts both parameters near `1/(1 + sλ)`. The end point is then one random draw, so the figure also reports
//! each path's mean over its second half.
//!
//! Cost: two runs of at most 5000 two-coordinate steps. Measured natively (`cargo bench -p dlf-widgets
//! --bench widgets -- adamw-vs-l2`): 0.33 ms at the defaults, 0.85 ms at 5000 noisy steps; in WebAssembly
//! (Node 20) 0.67 ms and 1.5 ms.

use dlf_engine::lessons::optim::{decay_race, l2_fixed_point, second_half_mean, Kind};

use crate::figure::Figure;
use crate::number_format::sig;
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Adam + L2 against AdamW" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamwVsL2;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "adamw-vs-l2",
    title: "Adam + L2 against AdamW on two gradient scales",
    summary: "Two parameters at their optimum with curvatures differing by a chosen factor, regularised with \
              the same λ by Adam with an L2 term and by AdamW with decoupled decay.",
    params: &[
        ParamSpec::range("log10_ratio", "log₁₀ gradient-scale ratio", 0.0..=6.0, 4.0)
            .step(0.25)
            .help("Curvatures a_big = 10^(r/2) and a_small = 10^(−r/2); r = 0 makes the parameters identical."),
        ParamSpec::range("log10_lambda", "log₁₀ λ", -3.0..=0.0, -1.0)
            .step(0.1)
            .help("Weight decay λ of both methods, as a power of ten."),
        ParamSpec::range("log10_lr", "log₁₀ learning rate", -4.0..=-1.0, -2.0)
            .step(0.1)
            .help("Learning rate of both methods, as a power of ten."),
        ParamSpec::range("steps", "Steps", 100.0..=5000.0, 2000.0)
            .step(100.0)
            .help("How many steps both methods take."),
        ParamSpec::range("noise", "Relative gradient noise", 0.0..=1.0, 0.1)
            .step(0.05)
            .help("Gaussian noise on each gradient, as a multiple of that parameter's curvature."),
        ParamSpec::range("seed", "Noise seed", 0.0..=99.0, 1.0).help("Seed of the gradient noise."),
    ],
    // Two runs of 5000 two-coordinate steps with noise.
    bench: &[
        BenchCase {
            name: "worst-5000",
            query: "steps=5000&noise=1",
        },
    ],
};

/// At most this many points per drawn curve; longer runs are subsampled for drawing only.
const MAX_DRAWN: usize = 400;

impl Widget for AdamwVsL2 {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let r = p.f64("log10_ratio");
        let a = [dlf_engine::math::powf(10f64, r / 2.0), dlf_engine::math::powf(10f64, -r / 2.0)];
        let lambda = dlf_engine::math::powf(10f64, p.f64("log10_lambda"));
        let lr = dlf_engine::math::powf(10f64, p.f64("log10_lr"));
        let steps = p.usize("steps");
        let noise = p.f64("noise");
        let seed = p.usize("seed") as u64;
        let adam = decay_race(Kind::Adam, a, lr, lambda, noise, steps, seed);
        let adamw = decay_race(Kind::AdamW, a, lr, lambda, noise, steps, seed);
        let fixed = [l2_fixed_point(a[0], lambda), l2_fixed_point(a[1], lambda)];

        let mut svg = Svg::new(724.0, 340.0, SPEC.title);
        let values = adam
            .iter()
            .chain(&adamw)
            .flat_map(|q| q.iter().copied())
            .chain(fixed)
            .chain([0.0, 1.0]);
        let plot = Plot::new(
            Rect::new(60.0, 40.0, 420.0, 250.0),
            Axis::linear(0.0, steps as f64, "step"),
            Axis::fit_linear(values, true, "parameter (optimum without decay = 1)"),
        );
        plot.draw_axes(&mut svg, "Both parameters under Adam + L2 and under AdamW");
        let stride = (steps / MAX_DRAWN).max(1);
        let curve = |path: &[[f64; 2]], i: usize| -> Vec<(f64, f64)> {
            path.iter()
                .enumerate()
                .filter(|(t, _)| t % stride == 0 || *t == path.len() - 1)
                .map(|(t, q)| (t as f64, q[i]))
                .collect()
        };
        // Colours: Adam + L2 in vermillion (large gradients) and purple (small), AdamW in blue and green.
        for (path, colours) in [(&adam, [1, 3]), (&adamw, [0, 2])] {
            for (i, &colour) in colours.iter().enumerate() {
                plot.line(&mut svg, &curve(path, i), line_class(colour));
            }
        }
        // The L2 minimisers are reference lines in the foreground colour: the page theme's accent is the same
        // blue as series 0 (AdamW's large-gradient curve), so an accent line would read as part of that curve.
        for &f in &fixed {
            plot.line(&mut svg, &[(0.0, f), (steps as f64, f)], "dlf-ax dlf-thin");
        }
        svg.legend(
            60.0,
            16.0,
            &[
                ("Adam+L2, large g", fill_class(1)),
                ("Adam+L2, small g", fill_class(3)),
                ("AdamW, large g", fill_class(0)),
                ("AdamW, small g", fill_class(2)),
                ("L2 minimiser (thin grey)", "dlf-arh"),
            ],
        );
        let last = |path: &[[f64; 2]]| *path.last().unwrap_or(&[f64::NAN, f64::NAN]);
        let (fa, fw) = (last(&adam), last(&adamw));
        // A text panel with the final values, so the figure states what it shows without the table.
        let x0 = 500.0;
        let mut y = 60.0;
        let mut line = |svg: &mut Svg, text: &str| {
            svg.text(x0, y, crate::svg::Anchor::Start, "dlf-ts", text);
            y += 16.0;
        };
        line(&mut svg, "after the last step:");
        for (name, f) in [("Adam+L2", fa), ("AdamW", fw)] {
            let mut t = String::from(name);
            t.push_str(": large ");
            t.push_str(&sig(f[0], 3));
            t.push_str(", small ");
            t.push_str(&sig(f[1], 3));
            line(&mut svg, &t);
        }
        let mut t = String::from("L2 minimiser: ");
        t.push_str(&sig(fixed[0], 3));
        t.push_str(", ");
        t.push_str(&sig(fixed[1], 3));
        line(&mut svg, &t);
        let mut t = String::from("curvatures a: ");
        t.push_str(&sig(a[0], 3));
        t.push_str(", ");
        t.push_str(&sig(a[1], 3));
        line(&mut svg, &t);
        let svg = svg.finish();

        let numbers = vec![
            (
                "Adam+L2: large-gradient parameter".to_string(),
                sig(fa[0], 4),
            ),
            (
                "Adam+L2: small-gradient parameter".to_string(),
                sig(fa[1], 4),
            ),
            ("AdamW: large-gradient parameter".to_string(), sig(fw[0], 4)),
            ("AdamW: small-gradient parameter".to_string(), sig(fw[1], 4)),
            ("L2 minimiser, large".to_string(), sig(fixed[0], 4)),
            ("L2 minimiser, small".to_string(), sig(fixed[1], 4)),
            (
                "Adam+L2, mean of the second half: large".to_string(),
                sig(second_half_mean(&adam, 0), 4),
            ),
            (
                "Adam+L2, mean of the second half: small".to_string(),
                sig(second_half_mean(&adam, 1), 4),
            ),
            (
                "AdamW, mean of the second half: large".to_string(),
                sig(second_half_mean(&adamw, 0), 4),
            ),
            (
                "AdamW, mean of the second half: small".to_string(),
                sig(second_half_mean(&adamw, 1), 4),
            ),
        ];
        let mut description = String::from("With gradient scales ");
        description.push_str(&sig(a[0] / a[1], 3));
        description.push_str("× apart and λ = ");
        description.push_str(&sig(lambda, 2));
        description.push_str(", Adam + L2 ends at ");
        description.push_str(&sig(fa[0], 3));
        description.push_str(" (large gradients) and ");
        description.push_str(&sig(fa[1], 3));
        description.push_str(" (small gradients); AdamW ends at ");
        description.push_str(&sig(fw[0], 3));
        description.push_str(" and ");
        description.push_str(&sig(fw[1], 3));
        description.push('.');
        Figure {
            svg,
            numbers,
            description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_params;


    #[test]
    fn adam_l2_splits_the_parameters_and_adamw_treats_them_alike() {
        let fig = AdamwVsL2.render(&parse_params(&SPEC, &[("noise", "0")]).unwrap());
        let adam_gap = fig.expect_number("Adam+L2: large-gradient parameter")
            - fig.expect_number("Adam+L2: small-gradient parameter");
        let adamw_gap = (fig.expect_number("AdamW: large-gradient parameter")
            - fig.expect_number("AdamW: small-gradient parameter"))
        .abs();
        assert!(adam_gap > 0.5, "{adam_gap}");
        assert!(adamw_gap < 0.05, "{adamw_gap}");
        // Adam + L2 reaches the L2 minimiser of the small-gradient parameter.
        let small = fig.expect_number("Adam+L2: small-gradient parameter");
        let target = fig.expect_number("L2 minimiser, small");
        assert!((small - target).abs() < 0.05, "{small} vs {target}");
    }

    #[test]
    fn with_noise_adamw_shrinks_both_scales_alike() {
        // Relative noise s = 1, λ = 0.1, lr = 0.01, 5000 steps: the balance (1 − p)/√(1 + (1 − p)²) = 0.1·p
        // (the stationary signal-to-noise step of Kingma & Ba 2015, §2) gives p = 0.9087 for both parameters;
        // the mean over 2500 steps with a correlation time of about s/lr = 100 steps carries a sampling error
        // of a few hundredths, hence the tolerance. Adam + L2's small-gradient parameter stays near its L2
        // minimiser 0.01/0.11 = 0.0909.
        let fig =
            AdamwVsL2.render(&parse_params(&SPEC, &[("noise", "1"), ("steps", "5000")]).unwrap());
        for which in ["large", "small"] {
            let w = fig.expect_number(&format!("AdamW, mean of the second half: {which}"));
            assert!((w - 0.9087).abs() < 0.05, "AdamW {which}: {w}");
        }
        let small = fig.expect_number("Adam+L2, mean of the second half: small");
        assert!((small - 0.0909).abs() < 0.03, "{small}");
    }

    #[test]
    fn with_equal_scales_the_methods_differ_only_in_form() {
        let fig = AdamwVsL2
            .render(&parse_params(&SPEC, &[("log10_ratio", "0"), ("noise", "0")]).unwrap());
        let a = fig.expect_number("Adam+L2: large-gradient parameter");
        let b = fig.expect_number("Adam+L2: small-gradient parameter");
        assert!((a - b).abs() < 1e-9);
    }
}

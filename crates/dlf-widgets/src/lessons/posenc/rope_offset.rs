//! "RoPE's score against the offset, and each pair's wavelength against the context": the engine's RoPE
//! (`dlf_engine::lessons::posenc`) for a head width, a base and a context-extension rule. The left panel plots
//! the score of a query and key that are the same vector of ones, `(2/d)·s²·Σ_i cos(Δθ_i)`, against the
//! offset `Δ` on a log axis up to the extended context `s·L`, with plain RoPE faintly behind it; the right
//! panel plots the wavelength `2π/θ_i` of every pair, trained and after the rule, against horizontal lines at
//! the trained context `L` and the extended one `s·L` (and YaRN's ramp bounds).
//!
//! Cost: 160 offsets × d/2 pairs of cosines for the rule and 80 for plain RoPE: at d = 256, 30 720 cosines.
//! Measured natively with `cargo bench -p dlf-widgets --bench widgets -- rope-offset` on a loaded two-core
//! machine: see the lesson's report; the bench case is d = 256 with YaRN.

use dlf_engine::lessons::posenc::curves::{matched_score, pairs_longer_than, unseen_angle_pairs};
use dlf_engine::lessons::posenc::{Rope, Scaling};
use dlf_engine::math;

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "RoPE's score against the offset" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RopeOffset;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "rope-offset",
    title: "RoPE's score against the offset, and each pair's wavelength against the context",
    summary: "The attention score of a matched query and key under RoPE as their distance grows, for a base, \
              a head width and a context-extension rule (position interpolation, NTK-aware, YaRN), beside the \
              wavelength of every rotated pair against the trained and the extended context.",
    params: &[
        ParamSpec::range("log10_base", "log₁₀ base b", 2.0..=6.7, 4.0)
            .step(0.1)
            .help("The base of the frequencies θ_i = b^(−2i/d): 4 → 10 000 (RoFormer, LLaMA 1–2), 5.7 → 500 000 (LLaMA 3)."),
        ParamSpec::range("dim", "Head width d", 16.0..=256.0, 128.0)
            .step(16.0)
            .help("The rotated width: d/2 pairs, each with its own frequency."),
        ParamSpec::select(
            "scaling",
            "Extension rule",
            &[
                ("none", "none (extrapolate)"),
                ("linear", "position interpolation"),
                ("ntk", "NTK-aware base"),
                ("yarn", "YaRN"),
            ],
            "none",
        )
        .help("How the frequencies change to run at s times the trained context."),
        ParamSpec::range("factor", "Extension factor s", 1.0..=32.0, 4.0)
            .help("The new context over the trained one; the offset axis runs to s·L."),
        ParamSpec::range("log2_context", "log₂ trained context L", 9.0..=14.0, 11.0)
            .help("The context the model was trained on: 11 → 2048 tokens."),
    ],
    bench: &[BenchCase {
        name: "worst-d256-yarn",
        query: "dim=256&scaling=yarn&factor=32&log2_context=14",
    }],
};

/// Offsets sampled on the log axis.
const OFFSETS: usize = 160;

impl Widget for RopeOffset {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let base = math::powf(10.0, p.f64("log10_base"));
        let dim = p.usize("dim").max(16) / 2 * 2;
        let scaling = Scaling::parse(p.str("scaling")).unwrap_or(Scaling::None);
        let factor = p.f64("factor").max(1.0);
        let context = (1usize << p.usize("log2_context").clamp(9, 14)) as f64;
        let plain = Rope::new(dim, base).scaled(Scaling::None, factor, context);
        let rope = plain.scaled(scaling, factor, context);
        let extended = factor * context;
        let offsets: Vec<f64> = (0..OFFSETS)
            .map(|k| math::powf(extended, k as f64 / (OFFSETS - 1) as f64))
            .collect();
        let scores = matched_score(&rope, &offsets).unwrap_or_default();
        // Plain RoPE is drawn behind the rule only when there is a rule, at every other offset (it is the
        // faint reference line, and half the cosines keep the worst case inside the frame budget).
        let plain_offsets: Vec<f64> = if scaling == Scaling::None {
            Vec::new()
        } else {
            offsets.iter().step_by(2).copied().collect()
        };
        let plain_scores = matched_score(&plain, &plain_offsets).unwrap_or_default();
        let trained = plain.frequencies().unwrap_or_default();
        let scaled = rope.frequencies().unwrap_or_default();
        let tau = 2.0 * std::f64::consts::PI;

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let ymax = scores.iter().chain(&plain_scores).fold(1.0f64, |m, v| m.max(*v));
        let ymin = scores.iter().chain(&plain_scores).fold(-0.2f64, |m, v| m.min(*v));
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::log10(1.0, extended, "offset Δ = n − m (tokens)"),
            Axis::linear(ymin - 0.05, ymax * 1.05, "score of q = k = 1, over d"),
        );
        left.draw_axes(&mut svg, "Matched score against the offset");
        let mut thin = String::from(line_class(1));
        thin.push_str(" dlf-thin");
        let pts = |o: &[f64], s: &[f64]| -> Vec<(f64, f64)> { o.iter().copied().zip(s.iter().copied()).collect() };
        left.line(&mut svg, &pts(&plain_offsets, &plain_scores), &thin);
        left.line(&mut svg, &pts(&offsets, &scores), line_class(0));
        left.vline(&mut svg, context, "trained L");

        let pairs = trained.len();
        let lam_lo = tau * 0.8;
        let lam_hi = trained
            .iter()
            .chain(&scaled)
            .map(|t| tau / t)
            .fold(extended * 1.5, f64::max);
        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, pairs as f64, "pair i"),
            Axis::log10(lam_lo, lam_hi, "wavelength 2π/θ_i (tokens)"),
        );
        right.draw_axes(&mut svg, "Wavelength of each pair");
        let wave = |f: &[f64]| -> Vec<(f64, f64)> {
            f.iter().enumerate().map(|(i, t)| (i as f64 + 0.5, tau / t)).collect()
        };
        right.line(&mut svg, &[(0.0, context), (pairs as f64, context)], line_class(2));
        right.line(&mut svg, &[(0.0, extended), (pairs as f64, extended)], line_class(3));
        right.line(&mut svg, &wave(&trained), &thin);
        right.line(&mut svg, &wave(&scaled), line_class(0));
        if scaling == Scaling::Yarn {
            let (low, high) = rope.yarn_bounds();
            right.vline(&mut svg, low, "ramp");
            right.vline(&mut svg, high, "");
        }
        svg.legend(
            64.0,
            16.0,
            &[
                ("with the rule", fill_class(0)),
                ("plain RoPE", fill_class(1)),
                ("trained L", fill_class(2)),
                ("extended s·L", fill_class(3)),
            ],
        );
        let svg = svg.finish();

        let longer = pairs_longer_than(&plain, context).unwrap_or(0);
        let unseen = unseen_angle_pairs(&rope).unwrap_or(0);
        let at = |o: f64| matched_score(&rope, &[o]).map(|v| v[0]).unwrap_or(f64::NAN);
        let numbers = vec![
            ("base b".to_string(), sig(base, 3)),
            ("pairs d/2".to_string(), int(pairs as i64)),
            ("pairs with wavelength > L".to_string(), int(longer as i64)),
            ("pairs turned past their trained angles at s·L".to_string(), int(unseen as i64)),
            ("fastest pair's angle per token θ'_0".to_string(), sig(scaled.first().copied().unwrap_or(f64::NAN), 3)),
            ("slowest wavelength (tokens)".to_string(), sig(scaled.last().map_or(f64::NAN, |t| tau / t), 3)),
            ("score at Δ = L".to_string(), sig(at(context), 3)),
            ("score at Δ = s·L".to_string(), sig(at(extended), 3)),
            ("logit scale".to_string(), sig(rope.magnitude_scale().powi(2), 4)),
        ];
        let mut d = String::new();
        d.push_str("With base ");
        d.push_str(&sig(base, 3));
        d.push_str(" and ");
        d.push_str(&int(pairs as i64));
        d.push_str(" pairs, ");
        d.push_str(&int(longer as i64));
        d.push_str(" pairs have a wavelength longer than the trained context of ");
        d.push_str(&int(context as i64));
        d.push_str(" tokens. Running at ");
        d.push_str(&int(extended as i64));
        d.push_str(" tokens with ");
        d.push_str(match scaling {
            Scaling::None => "no rule",
            Scaling::Linear => "position interpolation",
            Scaling::Ntk => "the NTK-aware base",
            Scaling::Yarn => "YaRN",
        });
        d.push_str(", ");
        d.push_str(&int(unseen as i64));
        d.push_str(" pairs turn past every angle they reached in training");
        if scaling == Scaling::Linear {
            d.push_str(", at the price of a fastest pair that now turns only ");
            d.push_str(&sig(scaled.first().copied().unwrap_or(f64::NAN), 3));
            d.push_str(" rad per token");
        }
        d.push_str(". The matched score falls from ");
        d.push_str(&sig(at(0.0), 3));
        d.push_str(" at Δ = 0 to ");
        d.push_str(&sig(at(context), 3));
        d.push_str(" at Δ = L.");
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
        RopeOffset.render(&parse_params(&SPEC, q).unwrap())
    }

    #[test]
    fn the_counts_are_the_engines() {
        // d = 128, b = 10 000, L = 2048: 23 pairs longer than L (the lesson's claim c-pairs-longer), all 23
        // extrapolated at 4L; position interpolation and YaRN leave none past its trained angles, NTK 22.
        let plain = render(&[]);
        assert_eq!(plain.expect_number("pairs with wavelength > L"), 23.0);
        assert_eq!(plain.expect_number("pairs turned past their trained angles at s·L"), 23.0);
        for (rule, want) in [("linear", 0.0), ("yarn", 0.0), ("ntk", 22.0)] {
            let f = render(&[("scaling", rule)]);
            assert_eq!(f.expect_number("pairs turned past their trained angles at s·L"), want, "{rule}");
        }
        let pi = render(&[("scaling", "linear")]);
        assert!((pi.expect_number("fastest pair's angle per token θ'_0") - 0.25).abs() < 1e-9);
        let yarn = render(&[("scaling", "yarn"), ("factor", "16")]);
        assert!((yarn.expect_number("logit scale") - 1.631).abs() < 1e-3);
        assert!(pi.description.contains("position interpolation"));
    }
}

//! "Iso-FLOP curves": the loss the parametric law `L(N, D) = E + A/N^α + B/D^β` predicts along `C = 6ND` for five
//! budgets a decade apart, with each curve's minimum (the compute-optimal model, `dlf_engine::lessons::scaling`),
//! the frontier those minima trace, and the line Kaplan et al. 2020's `N ∝ C^{0.73}` would draw through the chosen
//! budget's optimum. The right panel is the tokens per parameter of the optimum against the budget for the three
//! constant sets (Hoffmann et al. 2022 as printed and unrounded; Besiroglu et al. 2024's refit) beside the rule of
//! thumb of 20. A smaller model for cheaper inference (`fraction` of the optimal size) is marked with the tokens
//! it needs to reach the optimal loss and the training compute that costs.
//!
//! Cost: closed forms; about 600 evaluations of the law. Well under a millisecond.

use dlf_engine::lessons::scaling::{training_flops, ConstantSet, KAPLAN_N_EXPONENT};
use dlf_engine::math;

use crate::figure::Figure;
use crate::number_format::sig;
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Iso-FLOP curves" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IsoFlop;

static SPEC: WidgetSpec = WidgetSpec {
    id: "iso-flop",
    title: "Iso-FLOP curves and the compute-optimal model",
    summary: "The loss along C = 6ND for five budgets, each curve's minimum, Kaplan's N ∝ C^0.73 beside it, and \
              the tokens per parameter of the optimum under three fits of the same law.",
    params: &[
        ParamSpec::range("log10_flops", "log₁₀ budget C (FLOPs)", 18.0..=27.0, 23.76)
            .step(0.01)
            .help("The training budget; Chinchilla's (and Gopher's) was 5.76·10²³ FLOPs, 10^23.76."),
        ParamSpec::select(
            "set",
            "Constants of L(N, D)",
            &[
                ("chinchilla", "Hoffmann 2022, printed"),
                ("chinchilla-unrounded", "Hoffmann 2022, unrounded"),
                ("epoch", "Besiroglu 2024 refit"),
            ],
            "epoch",
        )
        .help("Which fit of E, A, B, α, β draws the curves."),
        ParamSpec::range("fraction", "Smaller model (× N_opt)", 0.1..=1.0, 0.5)
            .step(0.05)
            .help("A model this fraction of the optimal size, trained longer to reach the same loss (for cheaper inference)."),
    ],
    bench: &[BenchCase {
        name: "largest",
        query: "log10_flops=27&set=chinchilla&fraction=0.1",
    }],
};

/// Budgets drawn: the chosen one and two decades either side.
const DECADES: [f64; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

impl Widget for IsoFlop {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let log_c = p.f64("log10_flops");
        let flops = math::powf(10.0, log_c);
        let set = ConstantSet::parse(p.str("set")).unwrap_or(ConstantSet::Epoch);
        let law = set.constants();
        let opt = law.optimal(flops);
        let fraction = p.f64("fraction");
        let small_n = opt.n * fraction;
        let small_d = law.tokens_to_reach(small_n, opt.loss);

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        // Left: L against N on each iso-FLOP curve, N from 1/30 to 30 times the curve's optimum.
        let mut curves = Vec::new();
        let mut optima = Vec::new();
        for (k, dec) in DECADES.iter().enumerate() {
            let c = math::powf(10.0, log_c + dec);
            let o = law.optimal(c);
            let pts: Vec<(f64, f64)> = (0..=80)
                .map(|i| {
                    let n = o.n * math::powf(10.0, -1.5 + 3.0 * i as f64 / 80.0);
                    (n, law.iso_flop_loss(c, n))
                })
                .collect();
            curves.push((k, pts));
            optima.push((o.n, o.loss));
        }
        let ns = curves.iter().flat_map(|(_, c)| c.iter().map(|q| q.0));
        let ls: Vec<f64> = optima.iter().map(|o| o.1).collect();
        let l_lo = ls.iter().copied().fold(f64::INFINITY, f64::min) * 0.97;
        let l_hi = ls.iter().copied().fold(0.0, f64::max) * 1.35;
        let left = Plot::new(
            Rect::new(60.0, 40.0, 290.0, 250.0),
            Axis::fit_log10(ns, "parameters N"),
            Axis::linear(l_lo, l_hi, "predicted loss (nats/token)"),
        );
        left.draw_axes(&mut svg, "Loss along C = 6ND, five budgets");
        for (k, pts) in &curves {
            let visible: Vec<(f64, f64)> = pts.iter().copied().filter(|q| q.1 <= l_hi).collect();
            let class = if *k == 2 { line_class(0).to_string() } else {
                let mut c = String::from(line_class(0));
                c.push_str(" dlf-thin");
                c
            };
            left.line(&mut svg, &visible, &class);
        }
        left.line(&mut svg, &optima, line_class(1));
        left.scatter(&mut svg, &optima, 3.5, fill_class(1));
        // Kaplan's exponent through the chosen optimum: N = N_opt (C'/C)^0.73, loss read off each curve.
        let kaplan: Vec<(f64, f64)> = DECADES
            .iter()
            .map(|dec| {
                let c = math::powf(10.0, log_c + dec);
                let n = opt.n * math::powf(10.0, dec * KAPLAN_N_EXPONENT);
                (n, law.iso_flop_loss(c, n))
            })
            .filter(|q| q.1 <= l_hi)
            .collect();
        left.line(&mut svg, &kaplan, line_class(2));
        if let Some(d) = small_d {
            if law.loss(small_n, d) <= l_hi {
                left.scatter(&mut svg, &[(small_n, opt.loss)], 4.0, fill_class(3));
            }
        }
        svg.legend(
            60.0,
            16.0,
            &[
                ("iso-FLOP curves", fill_class(0)),
                ("optima", fill_class(1)),
                ("Kaplan N ∝ C^0.73", fill_class(2)),
                ("smaller model", fill_class(3)),
            ],
        );

        // Right: tokens per parameter at the optimum against C for every set, and the rule of thumb.
        let right = Plot::new(
            Rect::new(430.0, 40.0, 270.0, 250.0),
            Axis::log10(1e18, 1e27, "budget C (FLOPs)"),
            Axis::log10(5.0, 500.0, "tokens per parameter"),
        );
        right.draw_axes(&mut svg, "D/N at the optimum");
        for (i, s) in ConstantSet::ALL.iter().enumerate() {
            let l = s.constants();
            let pts: Vec<(f64, f64)> = (0..=36)
                .map(|k| {
                    let c = math::powf(10.0, 18.0 + 9.0 * k as f64 / 36.0);
                    (c, l.optimal(c).tokens_per_param())
                })
                .collect();
            let class = if *s == set { line_class(i).to_string() } else {
                let mut c = String::from(line_class(i));
                c.push_str(" dlf-thin");
                c
            };
            right.line(&mut svg, &pts, &class);
        }
        right.line(&mut svg, &[(1e18, 20.0), (1e27, 20.0)], "dlf-acc");
        right.vline(&mut svg, flops, "C");
        svg.legend(
            430.0,
            16.0,
            &[
                ("printed", fill_class(0)),
                ("unrounded", fill_class(1)),
                ("refit", fill_class(2)),
            ],
        );
        let svg = svg.finish();

        let mut numbers = vec![
            ("budget C (FLOPs)".to_string(), sig(flops, 3)),
            ("optimal N".to_string(), sig(opt.n, 3)),
            ("optimal D (tokens)".to_string(), sig(opt.d, 3)),
            ("tokens per parameter".to_string(), sig(opt.tokens_per_param(), 3)),
            ("loss at the optimum".to_string(), sig(opt.loss, 4)),
            ("N exponent β/(α+β)".to_string(), sig(law.n_exponent(), 3)),
        ];
        let mut description = String::from("With the ");
        description.push_str(match set {
            ConstantSet::Chinchilla => "printed Hoffmann et al. constants",
            ConstantSet::ChinchillaUnrounded => "unrounded Hoffmann et al. constants",
            ConstantSet::Epoch => "Besiroglu et al. refit",
        });
        description.push_str(", a budget of ");
        description.push_str(&sig(flops, 3));
        description.push_str(" FLOPs is best spent on ");
        description.push_str(&sig(opt.n, 3));
        description.push_str(" parameters and ");
        description.push_str(&sig(opt.d, 3));
        description.push_str(" tokens (");
        description.push_str(&sig(opt.tokens_per_param(), 3));
        description.push_str(" tokens per parameter). ");
        match small_d {
            Some(d) => {
                let ratio = training_flops(small_n, d) / flops;
                numbers.push(("smaller model: tokens to the same loss".to_string(), sig(d, 3)));
                numbers.push(("smaller model: training compute ÷ C".to_string(), sig(ratio, 3)));
                description.push_str("A model ");
                description.push_str(&sig(fraction, 2));
                description.push_str(" times that size reaches the same loss on ");
                description.push_str(&sig(d, 3));
                description.push_str(" tokens, at ");
                description.push_str(&sig(ratio, 3));
                description.push_str(" times the training compute.");
            }
            None => {
                numbers.push(("smaller model: tokens to the same loss".to_string(), "unreachable".to_string()));
                description.push_str("A model ");
                description.push_str(&sig(fraction, 2));
                description.push_str(" times that size cannot reach the same loss with any amount of data: its parameter term alone exceeds the gap.");
            }
        }
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
    fn the_figure_quotes_the_engine_s_optimum() {
        let fig = IsoFlop.render(&parse_params(&SPEC, &[("log10_flops", "24"), ("set", "chinchilla")]).unwrap());
        let opt = ConstantSet::Chinchilla.constants().optimal(1e24);
        let shown = fig.expect_number("optimal N");
        assert!((shown - opt.n).abs() < 0.01 * opt.n, "{shown} vs {}", opt.n);
        // The smaller model must spend more than the budget to reach the optimal loss.
        assert!(fig.expect_number("smaller model: training compute ÷ C") > 1.0);
    }
}

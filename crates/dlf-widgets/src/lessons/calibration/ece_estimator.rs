//! "The ECE as an estimator": its bias and spread against the number of test examples and of bins. A model
//! whose top-label confidences are uniform on `[1/2, 1]` and whose accuracy is `confidence − gap` has a true
//! ECE of exactly `gap` (`dlf_engine::lessons::calibration::ece_noise`). The left panel plots the estimated
//! ECE against `N` on log axes: Monte-Carlo means with ±1 standard-deviation bars and the folded-normal
//! closed form, above the true value; the right panel plots the closed form against the number of bins at
//! the chosen `N`, with the Monte-Carlo point at the chosen bin count.
//!
//! Cost: five sample sizes from 100 to 10 000, five data sets each (73 000 simulated predictions binned),
//! plus closed forms that cost microseconds; equal-mass bins add a sort per data set.

use dlf_engine::lessons::calibration::ece_noise::{ece_mean_sd, ece_monte_carlo, Scheme};

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "ECE estimator" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EceEstimator;

static SPEC: WidgetSpec = WidgetSpec {
    id: "ece-estimator",
    title: "The ECE as an estimator: bias and spread against sample size and bin count",
    summary: "Monte-Carlo and closed-form mean and spread of the binned ECE of a model whose true calibration \
              error is known, against the number of test examples and the number of bins.",
    params: &[
        ParamSpec::range("log10_n", "log₁₀ test examples", 2.0..=4.0, 3.0)
            .step(0.5)
            .help("The sample size marked in both panels (2 → 100, 4 → 10 000)."),
        ParamSpec::range("bins", "Bins", 2.0..=30.0, 15.0).help("Number of bins the ECE uses."),
        ParamSpec::range("gap", "True ECE", 0.0..=0.2, 0.0)
            .step(0.01)
            .help("Accuracy is confidence minus this gap everywhere, so this is the ECE of the population."),
        ParamSpec::select(
            "scheme",
            "Bins",
            &[("equal-width", "equal width"), ("equal-mass", "equal mass")],
            "equal-width",
        )
        .help("Equal-width bins on [0, 1] (half of them cover [1/2, 1]) or equal-mass bins."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws the simulated test sets."),
    ],
    bench: &[BenchCase {
        name: "worst-equal-mass-30",
        query: "scheme=equal-mass&bins=30&log10_n=4",
    }],
};

/// Simulated test sets per sample size.
const REPS: usize = 5;
/// Sample sizes simulated: 10^2, 10^2.5, …, 10^4.
const SIZES: [usize; 5] = [100, 316, 1000, 3162, 10_000];

/// The Monte-Carlo points computed so far, by sample size (`None` until computed).
#[derive(Debug, Default)]
pub(crate) struct Progress {
    mc: [Option<(f64, f64, f64)>; SIZES.len()],
}

/// The parameters' sample-size index, bins, gap, scheme and seed.
fn choice(p: &Params) -> (usize, usize, f64, Scheme, u64) {
    let idx = ((p.f64("log10_n") - 2.0) * 2.0).round().clamp(0.0, 4.0) as usize;
    let scheme = if p.str("scheme") == "equal-mass" {
        Scheme::EqualMass
    } else {
        Scheme::EqualWidth
    };
    (idx, p.usize("bins").max(1), p.f64("gap"), scheme, p.usize("seed") as u64)
}

/// The Monte-Carlo estimate at the five sample sizes costs up to about 2 ms natively (more in WebAssembly), so
/// the widget is [`Stepped`]: one sample size per frame, the chosen one first so that its numbers appear at
/// once. Each size keeps its own seed, so the result does not depend on the order.
impl Stepped for EceEstimator {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, _p: &Params) -> Progress {
        Progress::default()
    }

    fn advance(&self, p: &Params, state: &mut Progress) -> bool {
        let (idx, bins, gap, scheme, seed) = choice(p);
        let next = if state.mc[idx].is_none() {
            Some(idx)
        } else {
            state.mc.iter().position(Option::is_none)
        };
        if let Some(i) = next {
            let ni = SIZES[i];
            let (m, sd) = ece_monte_carlo(ni, bins, scheme, gap, REPS, seed * 16 + i as u64);
            state.mc[i] = Some((ni as f64, m, sd));
        }
        state.mc.iter().all(Option::is_some)
    }

    fn draw(&self, p: &Params, state: &Progress) -> Figure {
        let (idx, bins, gap, scheme, _) = choice(p);
        let n = SIZES[idx];
        let mc: Vec<(f64, f64, f64)> = state.mc.iter().flatten().copied().collect();
        let formula: Vec<(f64, f64)> = (0..=40)
            .map(|i| {
                let ni = 80.0 * dlf_engine::math::powf(150.0, i as f64 / 40.0);
                (ni, ece_mean_sd(ni.round() as usize, bins, scheme, gap).0)
            })
            .collect();
        let (f_mean, f_sd) = ece_mean_sd(n, bins, scheme, gap);
        let (_, mc_mean, mc_sd) = state.mc[idx].unwrap_or((n as f64, f64::NAN, f64::NAN));

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let values = mc
            .iter()
            .flat_map(|&(_, m, sd)| [m + sd, (m - sd).max(m / 3.0)])
            .chain(formula.iter().map(|x| x.1))
            .chain((gap > 0.0).then_some(gap));
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::log10(80.0, 12_000.0, "test examples N"),
            Axis::fit_log10(values, "estimated ECE"),
        );
        left.draw_axes(&mut svg, "Estimated ECE against N");
        left.line(&mut svg, &formula, line_class(1));
        for &(x, m, sd) in &mc {
            left.line(&mut svg, &[(x, (m - sd).max(m / 3.0)), (x, m + sd)], line_class(0));
        }
        let points: Vec<(f64, f64)> = mc.iter().map(|&(x, m, _)| (x, m)).collect();
        left.scatter(&mut svg, &points, 3.0, fill_class(0));
        if gap > 0.0 {
            left.line(&mut svg, &[(80.0, gap), (12_000.0, gap)], "dlf-acc");
        }
        left.vline(&mut svg, n as f64, "chosen N");

        let by_bins: Vec<(f64, f64)> = [1usize, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100]
            .iter()
            .map(|&b| (b as f64, ece_mean_sd(n, b, scheme, gap).0))
            .collect();
        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::log10(1.0, 100.0, "bins B"),
            Axis::linear(
                0.0,
                by_bins
                    .iter()
                    .map(|x| x.1)
                    .fold(mc_mean + mc_sd, f64::max)
                    .max(gap)
                    * 1.1,
                "expected ECE at the chosen N",
            ),
        );
        right.draw_axes(&mut svg, "Expected ECE against the bin count");
        right.line(&mut svg, &by_bins, line_class(1));
        right.line(
            &mut svg,
            &[(bins as f64, (mc_mean - mc_sd).max(0.0)), (bins as f64, mc_mean + mc_sd)],
            line_class(0),
        );
        right.scatter(&mut svg, &[(bins as f64, mc_mean)], 3.5, fill_class(0));
        if gap > 0.0 {
            right.line(&mut svg, &[(1.0, gap), (100.0, gap)], "dlf-acc");
        }
        svg.legend(
            64.0,
            16.0,
            &[
                ("Monte Carlo ±1 sd", fill_class(0)),
                ("closed form", fill_class(1)),
                ("true ECE", "dlf-facc"),
            ],
        );
        let svg = svg.finish();

        let numbers = vec![
            ("test examples N".to_string(), int(n as i64)),
            ("bins B".to_string(), int(bins as i64)),
            ("true ECE".to_string(), sig(gap, 3)),
            ("Monte-Carlo mean ECE".to_string(), sig(mc_mean, 3)),
            ("Monte-Carlo sd".to_string(), sig(mc_sd, 3)),
            ("closed-form mean ECE".to_string(), sig(f_mean, 3)),
            ("closed-form sd".to_string(), sig(f_sd, 3)),
            ("bias (closed form)".to_string(), sig(f_mean - gap, 3)),
        ];
        let description = format!(
            "With {} test examples in {} bins a model whose true ECE is {} reads an ECE of {} ± {} on \
             average over {} simulated test sets (closed form {} ± {}): a bias of {}.",
            int(n as i64),
            int(bins as i64),
            sig(gap, 3),
            sig(mc_mean, 3),
            sig(mc_sd, 3),
            REPS,
            sig(f_mean, 3),
            sig(f_sd, 3),
            sig(f_mean - gap, 3)
        );
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
    use crate::registry::Widget;
    use crate::spec::parse_params;

    #[test]
    fn a_calibrated_model_reads_a_positive_ece_that_shrinks_with_n() {
        let small = EceEstimator.render(&parse_params(&SPEC, &[("log10_n", "2")]).unwrap());
        let large = EceEstimator.render(&parse_params(&SPEC, &[("log10_n", "4")]).unwrap());
        let (s, l) = (
            small.expect_number("closed-form mean ECE"),
            large.expect_number("closed-form mean ECE"),
        );
        // √(B/N) scaling: 100× the examples, a tenth of the bias (within 10 %).
        assert!((s / l - 10.0).abs() < 1.0, "{s} {l}");
        assert!(large.expect_number("Monte-Carlo mean ECE") > 0.0);
    }

    #[test]
    fn more_bins_mean_more_bias() {
        let few = EceEstimator.render(&parse_params(&SPEC, &[("bins", "5")]).unwrap());
        let many = EceEstimator.render(&parse_params(&SPEC, &[("bins", "30")]).unwrap());
        assert!(many.expect_number("closed-form mean ECE") > 1.5 * few.expect_number("closed-form mean ECE"));
    }
}

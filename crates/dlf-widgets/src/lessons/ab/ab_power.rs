//! "Power and sample size": users per arm and days of traffic for a baseline rate, a minimum detectable
//! relative lift, α and power under a chosen formula (`dlf_engine::lessons::ab::power`), and the winner's
//! curse of running the design against a smaller true effect.
//!
//! Left: users per arm against the relative MDE (log–log, slope −2), the chosen design marked. Right: power
//! and the exaggeration ratio of significant estimates against the true effect as a fraction of the MDE.
//!
//! Cost: 60 sample sizes (one bisection each for the statsmodels formula) and 60 closed-form winner's-curse
//! evaluations.

use dlf_engine::lessons::ab::power::{
    days_needed, power_for, sample_size, winners_curse, Design, SampleSizeFormula,
};
use dlf_engine::lessons::ab::Alternative;

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The power explorer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AbPower;

static SPEC: WidgetSpec = WidgetSpec {
    id: "ab-power",
    title: "Power, sample size and the winner's curse",
    summary: "Users per arm and days of traffic a conversion test needs, and how much a significant result \
              exaggerates the effect when the true lift is smaller than the one the test was sized for.",
    params: &[
        ParamSpec::range("baseline", "Baseline rate %", 0.5..=30.0, 5.0)
            .step(0.5)
            .help("The control's conversion rate."),
        ParamSpec::range("mde", "Relative MDE %", 1.0..=30.0, 5.0)
            .step(0.5)
            .help("The smallest relative lift the test should detect with the chosen power."),
        ParamSpec::range("alpha", "α (two-sided)", 0.01..=0.1, 0.05)
            .step(0.01)
            .help("The false-positive rate of one look at a null effect."),
        ParamSpec::range("power", "Power", 0.5..=0.95, 0.8)
            .step(0.05)
            .help("The chance of a significant result when the true lift equals the MDE."),
        ParamSpec::range("log10_daily", "log₁₀ daily users", 3.0..=7.0, 5.0)
            .step(0.1)
            .help("Eligible users a day, all of whom enter the two arms."),
        ParamSpec::select(
            "formula",
            "Formula",
            &[
                ("unpooled", "unpooled"),
                ("pooled", "pooled (R, statsmodels one-tail)"),
                ("cohen-h", "Cohen's h"),
                ("statsmodels", "statsmodels NormalIndPower"),
            ],
            "unpooled",
        )
        .help("Which sample-size formula: they differ by well under 1 % at small effects."),
        ParamSpec::range("true_fraction", "True lift / MDE", 0.1..=1.5, 0.5)
            .step(0.05)
            .help("The true effect as a fraction of the MDE the test was sized for."),
    ],
    bench: &[BenchCase {
        name: "worst-statsmodels-bisection",
        query: "formula=statsmodels&baseline=0.5&mde=1",
    }],
};

impl Widget for AbPower {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let p1 = p.f64("baseline") / 100.0;
        let lift = p.f64("mde") / 100.0;
        let alpha = p.f64("alpha");
        let power = p.f64("power");
        let daily = dlf_engine::math::powf(10.0, p.f64("log10_daily"));
        let formula = SampleSizeFormula::parse(p.str("formula")).unwrap_or(SampleSizeFormula::Unpooled);
        let fraction = p.f64("true_fraction");
        let design = |l: f64| Design {
            baseline: p1,
            treatment: (p1 * (1.0 + l)).min(0.999),
            alpha,
            power,
            alternative: Alternative::TwoSided,
        };
        let n = sample_size(formula, &design(lift)).unwrap_or(f64::NAN);
        let (days, week_days) = days_needed(n, 2, daily, 1.0);

        let curve: Vec<(f64, f64)> = (0..60)
            .map(|i| {
                let l = 0.005 * dlf_engine::math::powf(0.4 / 0.005, i as f64 / 59.0);
                (100.0 * l, sample_size(formula, &design(l)).unwrap_or(f64::NAN))
            })
            .collect();

        // The design's λ at the MDE, from its own power; a true effect t·MDE has λ ≈ t·λ_MDE.
        let z = dlf_engine::normal::upper_quantile(alpha / 2.0);
        let lambda_mde = z + dlf_engine::normal::quantile(power);
        let curse: Vec<(f64, f64, f64)> = (1..=60)
            .map(|i| {
                let t = 1.5 * i as f64 / 60.0;
                let w = winners_curse(t * lambda_mde, z);
                (t, w.power, w.exaggeration)
            })
            .collect();
        let here = winners_curse(fraction * lambda_mde, z);
        let true_power = power_for(formula, &design(lift * fraction), n).unwrap_or(f64::NAN);

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::log10(0.5, 40.0, "relative MDE %"),
            Axis::fit_log10(curve.iter().map(|q| q.1), "users per arm"),
        );
        left.draw_axes(&mut svg, "Users per arm against the MDE");
        left.line(&mut svg, &curve, line_class(0));
        left.scatter(&mut svg, &[(100.0 * lift, n)], 4.0, fill_class(0));
        let mut label = int(days as i64);
        label.push_str(" days");
        left.vline(&mut svg, 100.0 * lift, &label);

        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, 1.5, "true lift / MDE"),
            Axis::linear(0.0, 5.0, "power · exaggeration"),
        );
        right.draw_axes(&mut svg, "Winner's curse");
        let pw: Vec<(f64, f64)> = curse.iter().map(|c| (c.0, c.1)).collect();
        let ex: Vec<(f64, f64)> = curse.iter().filter(|c| c.2 <= 5.0).map(|c| (c.0, c.2)).collect();
        right.line(&mut svg, &pw, line_class(1));
        right.line(&mut svg, &ex, line_class(2));
        right.vline(&mut svg, fraction, "true lift");
        svg.legend(
            64.0,
            16.0,
            &[
                ("n per arm", fill_class(0)),
                ("power", fill_class(1)),
                ("exaggeration E|δ̂|/δ", fill_class(2)),
            ],
        );
        let svg = svg.finish();

        let numbers = vec![
            ("users per arm".to_string(), int(n.ceil() as i64)),
            ("users in total".to_string(), int(2 * n.ceil() as i64)),
            ("absolute MDE (percentage points)".to_string(), sig(100.0 * p1 * lift, 3)),
            ("days of traffic".to_string(), int(days as i64)),
            ("days, whole weeks".to_string(), int(week_days as i64)),
            ("power at the true lift".to_string(), sig(true_power, 3)),
            ("exaggeration ratio if significant".to_string(), sig(here.exaggeration, 3)),
            ("wrong-sign share if significant".to_string(), sig(here.type_s, 2)),
        ];
        let mut d = String::new();
        d.push_str("Detecting a ");
        d.push_str(&sig(100.0 * lift, 3));
        d.push_str("% relative lift on a ");
        d.push_str(&sig(100.0 * p1, 3));
        d.push_str("% baseline needs ");
        d.push_str(&int(n.ceil() as i64));
        d.push_str(" users per arm, ");
        d.push_str(&int(days as i64));
        d.push_str(" days of traffic (");
        d.push_str(&int(week_days as i64));
        d.push_str(" in whole weeks). If the true lift is ");
        d.push_str(&sig(fraction, 2));
        d.push_str(" of that, the power falls to ");
        d.push_str(&sig(true_power, 2));
        d.push_str(" and a significant estimate overstates the effect ");
        d.push_str(&sig(here.exaggeration, 3));
        d.push_str("-fold on average.");
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

    #[test]
    fn the_numbers_are_the_engines_and_small_true_effects_are_exaggerated() {
        let fig = AbPower.render(&parse_params(&SPEC, &[]).unwrap());
        let d = Design {
            baseline: 0.05,
            treatment: 0.0525,
            alpha: 0.05,
            power: 0.8,
            alternative: Alternative::TwoSided,
        };
        let n = sample_size(SampleSizeFormula::Unpooled, &d).unwrap();
        assert_eq!(fig.expect_number("users per arm"), n.ceil());
        assert!(fig.expect_number("exaggeration ratio if significant") > 1.5);
        let full = AbPower.render(&parse_params(&SPEC, &[("true_fraction", "1")]).unwrap());
        let p = full.expect_number("power at the true lift");
        assert!((p - 0.8).abs() < 0.01, "{p}");
    }
}

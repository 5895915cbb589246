//! "CUPED": one simulated experiment whose users have a pre-period covariate correlated ρ with the metric
//! (`dlf_engine::lessons::ab::cuped`). Left: the variance ratio against ρ, the theory `1 − ρ²` and this
//! experiment's measured ratio. Right: the 95 % intervals of the raw and the CUPED-adjusted difference.
//!
//! Cost: 4n normal draws (n ≤ 5 000 users per arm) and two passes over the data.

use dlf_engine::lessons::ab::cuped::{cuped, simulate_arm, ArmData};
use dlf_engine::rng::Rng;

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The CUPED widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AbCuped;

static SPEC: WidgetSpec = WidgetSpec {
    id: "ab-cuped",
    title: "CUPED: a pre-period covariate against the interval width",
    summary: "How much a covariate measured before the experiment shrinks the variance and the confidence \
              interval of the treatment effect, as a function of its correlation with the metric.",
    params: &[
        ParamSpec::range("rho", "Correlation ρ", 0.0..=0.95, 0.6)
            .step(0.05)
            .help("Correlation between the pre-period covariate X and the metric Y."),
        ParamSpec::range("users", "Users per arm", 200.0..=5000.0, 1000.0)
            .step(100.0)
            .help("Users in each arm of the simulated experiment."),
        ParamSpec::range("effect", "True effect (in SD of Y)", 0.0..=0.3, 0.1)
            .step(0.01)
            .help("The treatment's true shift of the metric's mean."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws every user."),
    ],
    bench: &[BenchCase {
        name: "worst-5000-users",
        query: "users=5000",
    }],
};

impl Widget for AbCuped {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let rho = p.f64("rho");
        let n = p.usize("users");
        let effect = p.f64("effect");
        let mut rng = Rng::new(p.usize("seed") as u64);
        let (xa, ya) = simulate_arm(n, rho, 0.0, &mut rng);
        let (xb, yb) = simulate_arm(n, rho, effect, &mut rng);
        let r = cuped(ArmData { x: &xa, y: &ya }, ArmData { x: &xb, y: &yb }).ok();
        let z = dlf_engine::normal::upper_quantile(0.025);

        let theory: Vec<(f64, f64)> = (0..=50)
            .map(|i| {
                let q = 0.99 * i as f64 / 50.0;
                (q, 1.0 - q * q)
            })
            .collect();
        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, 1.0, "correlation ρ"),
            Axis::linear(0.0, 1.2, "variance after / before"),
        );
        left.draw_axes(&mut svg, "Variance kept: 1 − ρ²");
        left.line(&mut svg, &theory, line_class(0));
        if let Some(r) = r {
            left.scatter(&mut svg, &[(rho, r.variance_ratio)], 4.0, fill_class(2));
        }
        left.vline(&mut svg, rho, "ρ");

        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::linear(-0.3, 0.6, "treatment − control (SD of Y)"),
            Axis::linear(0.0, 3.0, ""),
        );
        right.draw_axes(&mut svg, "95% intervals");
        if let Some(r) = r {
            for (row, (d, s, class)) in [
                (r.diff_raw, r.se_raw, 1usize),
                (r.diff_adjusted, r.se_adjusted, 2usize),
            ]
            .into_iter()
            .enumerate()
            {
                let y = 2.0 - row as f64;
                right.line(&mut svg, &[(d - z * s, y), (d + z * s, y)], line_class(class));
                right.scatter(&mut svg, &[(d, y)], 4.0, fill_class(class));
            }
        }
        right.vline(&mut svg, effect, "true effect");
        right.vline(&mut svg, 0.0, "");
        svg.legend(
            64.0,
            16.0,
            &[
                ("1 − ρ²", fill_class(0)),
                ("raw", fill_class(1)),
                ("CUPED", fill_class(2)),
            ],
        );
        let svg = svg.finish();

        let mut numbers = vec![
            ("users per arm".to_string(), int(n as i64)),
            ("theory 1 − ρ²".to_string(), sig(1.0 - rho * rho, 3)),
        ];
        let mut d = String::new();
        if let Some(r) = r {
            numbers.push(("θ = Cov(X, Y)/Var X".to_string(), sig(r.theta, 3)));
            numbers.push(("measured variance ratio".to_string(), sig(r.variance_ratio, 3)));
            numbers.push(("raw difference".to_string(), sig(r.diff_raw, 3)));
            numbers.push(("raw 95% half-width".to_string(), sig(z * r.se_raw, 3)));
            numbers.push(("CUPED difference".to_string(), sig(r.diff_adjusted, 3)));
            numbers.push(("CUPED 95% half-width".to_string(), sig(z * r.se_adjusted, 3)));
            numbers.push((
                "equivalent extra traffic 1/(1 − ρ²)".to_string(),
                sig(1.0 / (1.0 - rho * rho), 3),
            ));
            d.push_str("With ρ = ");
            d.push_str(&sig(rho, 2));
            d.push_str(" CUPED keeps ");
            d.push_str(&sig(r.variance_ratio, 3));
            d.push_str(" of the variance (theory ");
            d.push_str(&sig(1.0 - rho * rho, 3));
            d.push_str("): the 95% interval's half-width goes from ");
            d.push_str(&sig(z * r.se_raw, 3));
            d.push_str(" to ");
            d.push_str(&sig(z * r.se_adjusted, 3));
            d.push_str(", as if the experiment had ");
            d.push_str(&sig(1.0 / (1.0 - rho * rho), 3));
            d.push_str(" times the users.");
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
    use crate::spec::parse_params;

    #[test]
    fn the_measured_ratio_follows_one_minus_rho_squared() {
        for rho in ["0", "0.5", "0.9"] {
            let fig = AbCuped.render(&parse_params(&SPEC, &[("rho", rho), ("users", "5000")]).unwrap());
            let want = fig.expect_number("theory 1 − ρ²");
            let got = fig.expect_number("measured variance ratio");
            // One experiment of 5 000 users per arm: the ratio of sample variances is within a few % of theory.
            assert!((got - want).abs() < 0.05 * want + 0.01, "ρ = {rho}: {got} vs {want}");
        }
    }
}

//! "Adam's step under gradient noise": the mean step Adam takes per unit of learning rate when each
//! gradient is drawn from `N(μ, σ²)`, against the signal-to-noise ratio `μ/σ`, simulated with the engine's
//! Adam and compared with the stationary prediction `m ≈ μ`, `v ≈ μ² + σ²`, so the step is
//! `μ/√(μ² + σ²) = snr/√(1 + snr²)` (Kingma & Ba 2015, §2, who call `m̂/√v̂` a signal-to-noise ratio and
//! note the step shrinks where it is small). The right panel shows the individual steps at the chosen SNR.
//!
//! Cost: nine SNR values of at most 200 + 3000 Adam steps on one coordinate each, plus the trace: about
//! 30 000 scalar updates. Measured natively (`cargo bench -p dlf-widgets --bench widgets -- adam-noise`):
//! 0.88 ms at the defaults, 1.6 ms at 3000 steps; in WebAssembly (Node 20) 2.2 ms and 6.2 ms (median on
//! a loaded two-core machine). Over the 4 ms redraw budget in WebAssembly at the worst case, so the widget is
//! [`Stepped`]: four runs per animation frame, the chosen SNR's first so its numbers appear at once.

use dlf_engine::lessons::optim::{
    adam_noisy_step, adam_noisy_step_theory, adam_noisy_trace, step_mean_and_std,
};

use crate::figure::Figure;
use crate::number_format::sig;
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "Adam's step under gradient noise" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamNoise;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "adam-noise",
    title: "Adam's effective step under gradient noise",
    summary: "The mean step per unit learning rate of Adam on gradients N(μ, σ²) against the \
              signal-to-noise ratio μ/σ: simulation against the stationary theory snr/√(1 + snr²).",
    params: &[
        ParamSpec::range("log10_snr", "log₁₀ SNR μ/σ", -2.0..=2.0, -0.5)
            .step(0.05)
            .help("The gradient's mean over its standard deviation, as a power of ten (marked on the left)."),
        ParamSpec::range("beta1", "β₁", 0.0..=0.99, 0.9)
            .step(0.01)
            .help("Decay of the first moment: larger averages more noise away from m."),
        ParamSpec::range("beta2", "β₂", 0.9..=0.999, 0.999)
            .step(0.001)
            .help("Decay of the second moment."),
        ParamSpec::range("steps", "Simulated steps", 200.0..=3000.0, 1500.0)
            .step(100.0)
            .help("Steps averaged per SNR value after a burn-in of 200 steps."),
        ParamSpec::range("seed", "Seed", 0.0..=99.0, 1.0).help("Seed of the simulated gradients."),
    ],
    // Ten runs of 200 + 3000 Adam steps plus the 3000-step trace.
    bench: &[
        BenchCase {
            name: "worst-3000",
            query: "steps=3000",
        },
    ],
};

/// Steps discarded before averaging: bias correction makes `v̂` unbiased from step 1, the burn-in only
/// lets its early sampling noise settle.
const BURN_IN: usize = 200;
/// Simulated SNR values: 10^-2 … 10^2 in steps of half a decade.
const SIM_POINTS: usize = 9;

/// Runs per slice of a progressive redraw: a run is at most 200 + 3000 scalar Adam steps (about 0.35 ms
/// natively), so four of them stay well within the 4 ms budget in WebAssembly, and the ten runs (the trace at the
/// chosen SNR first, then the nine simulated SNR values) take three frames.
const RUNS_PER_SLICE: usize = 4;

/// The runs done so far: the trace at the chosen SNR, then the simulated points in SNR order.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    trace: Option<Vec<f64>>,
    sims: Vec<(f64, f64, f64)>,
}

impl Stepped for AdamNoise {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, _p: &Params) -> Progress {
        Progress::default()
    }

    fn advance(&self, p: &Params, state: &mut Progress) -> bool {
        let snr = dlf_engine::math::powf(10f64, p.f64("log10_snr"));
        let (beta1, beta2) = (p.f64("beta1"), p.f64("beta2"));
        let steps = p.usize("steps");
        let seed = p.usize("seed") as u64;
        for _ in 0..RUNS_PER_SLICE {
            if state.trace.is_none() {
                // The run at the chosen SNR: its steps per unit lr are the trace, their mean and spread the marker.
                state.trace = Some(
                    adam_noisy_trace(snr, beta1, beta2, BURN_IN, steps, seed + 1000).unwrap_or_default(),
                );
            } else if state.sims.len() < SIM_POINTS {
                let k = state.sims.len();
                let s = dlf_engine::math::powf(10f64, -2.0 + 0.5 * k as f64);
                let (mean, std) = adam_noisy_step(s, beta1, beta2, BURN_IN, steps, seed + k as u64);
                state.sims.push((s, mean, std));
            }
        }
        state.sims.len() == SIM_POINTS
    }

    fn draw(&self, p: &Params, state: &Progress) -> Figure {
        let snr = dlf_engine::math::powf(10f64, p.f64("log10_snr"));
        let beta1 = p.f64("beta1");
        let steps = p.usize("steps");
        let sims = &state.sims;
        let steps_here: &[f64] = state.trace.as_deref().unwrap_or_default();
        let (here_mean, here_std) = step_mean_and_std(steps_here);
        let theory_here = adam_noisy_step_theory(snr);
        let trace: Vec<(f64, f64)> = steps_here
            .iter()
            .enumerate()
            .map(|(k, &d)| ((k + 1) as f64, d))
            .collect();

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let left = Plot::new(
            Rect::new(56.0, 40.0, 300.0, 260.0),
            Axis::log10(0.01, 100.0, "signal-to-noise ratio μ/σ"),
            Axis::linear(-0.2, 1.2, "mean step / lr"),
        );
        left.draw_axes(&mut svg, "Mean step per unit learning rate");
        let theory: Vec<(f64, f64)> = (0..=120)
            .map(|k| {
                let s = dlf_engine::math::powf(10f64, -2.0 + 4.0 * k as f64 / 120.0);
                (s, adam_noisy_step_theory(s))
            })
            .collect();
        left.line(&mut svg, &theory, line_class(0));
        for &(s, mean, std) in sims {
            left.line(
                &mut svg,
                &[(s, mean - std), (s, mean + std)],
                "dlf-ln dlf-s1 dlf-thin",
            );
        }
        let points: Vec<(f64, f64)> = sims.iter().map(|&(s, m, _)| (s, m)).collect();
        left.scatter(&mut svg, &points, 3.5, fill_class(1));
        left.vline(&mut svg, snr, "chosen SNR");
        svg.legend(
            56.0,
            16.0,
            &[
                ("theory snr/√(1+snr²)", fill_class(0)),
                ("simulated mean ± std", fill_class(1)),
            ],
        );

        let right = Plot::new(
            Rect::new(420.0, 40.0, 280.0, 260.0),
            Axis::linear(0.0, steps as f64, "step after burn-in"),
            Axis::fit_linear(
                trace.iter().map(|t| t.1).chain([0.0, 1.0]),
                true,
                "step / lr",
            ),
        );
        let mut title = String::from("Every step at SNR ");
        title.push_str(&sig(snr, 3));
        right.draw_axes(&mut svg, &title);
        right.line(&mut svg, &trace, "dlf-ln dlf-s1 dlf-thin");
        right.line(
            &mut svg,
            &[(0.0, theory_here), (steps as f64, theory_here)],
            line_class(0),
        );
        // The simulated mean in the simulation's colour (series 1, as the points on the left), so that it
        // cannot be mistaken for the theory line in series 0's blue, which the page theme's accent shares.
        right.line(
            &mut svg,
            &[(0.0, here_mean), (steps as f64, here_mean)],
            line_class(1),
        );
        let svg = svg.finish();

        // Consecutive steps are strongly correlated: m is an exponential moving average of white noise, an
        // AR(1) process with coefficient β₁, whose integrated autocorrelation time is (1 + β₁)/(1 − β₁) (19
        // steps at β₁ = 0.9). The simulated mean therefore rests on about steps·(1 − β₁)/(1 + β₁) independent
        // samples, and its standard error is the step's spread over the square root of that. Showing it tells
        // the learner whether a gap between simulation and theory is more than sampling noise.
        let effective = steps as f64 * (1.0 - beta1) / (1.0 + beta1);
        let here_se = here_std / effective.max(1.0).sqrt();
        let numbers = vec![
            ("SNR μ/σ".to_string(), sig(snr, 3)),
            ("theory: mean step / lr".to_string(), sig(theory_here, 3)),
            ("simulated: mean step / lr".to_string(), sig(here_mean, 3)),
            (
                "simulated: standard error of the mean".to_string(),
                sig(here_se, 2),
            ),
            ("simulated: std of step / lr".to_string(), sig(here_std, 3)),
        ];
        let mut description = String::from("At SNR ");
        description.push_str(&sig(snr, 3));
        description.push_str(", Adam's mean step is ");
        description.push_str(&sig(here_mean, 3));
        description.push_str(" ± ");
        description.push_str(&sig(here_se, 2));
        description.push_str(" (standard error) learning rates (theory ");
        description.push_str(&sig(theory_here, 3));
        description.push_str("), with a step-to-step standard deviation of ");
        description.push_str(&sig(here_std, 3));
        if sims.len() == SIM_POINTS {
            description
                .push_str(" learning rates; across the simulated range the mean step runs from ");
            description.push_str(&sig(sims[0].1, 2));
            description.push_str(" at SNR 0.01 to ");
            description.push_str(&sig(sims[SIM_POINTS - 1].1, 3));
            description.push_str(" at SNR 100.");
        } else {
            description.push_str(" learning rates; the other SNR values are still being simulated.");
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
    use crate::registry::Widget;
    use crate::spec::parse_params;


    #[test]
    fn the_default_gap_to_the_theory_is_within_sampling_noise() {
        // At the defaults (SNR 10^-0.5, β₁ = 0.9, 1500 steps) the simulated mean and the theory
        // 0.316/√1.1 = 0.302 differ by a few hundredths; the standard error must be large enough to cover a
        // gap of that size at three standard errors, and small enough to be informative (below 0.05).
        let fig = AdamNoise.render(&parse_params(&SPEC, &[]).unwrap());
        let gap = (fig.expect_number("simulated: mean step / lr")
            - fig.expect_number("theory: mean step / lr"))
        .abs();
        let se = fig.expect_number("simulated: standard error of the mean");
        assert!(
            gap < 3.0 * se && se < 0.05,
            "gap {gap}, standard error {se}"
        );
    }

    #[test]
    fn the_step_shrinks_with_snr_and_follows_the_theory() {
        let low = AdamNoise.render(&parse_params(&SPEC, &[("log10_snr", "-1.5")]).unwrap());
        let high = AdamNoise.render(&parse_params(&SPEC, &[("log10_snr", "1.5")]).unwrap());
        let (l, h) = (
            low.expect_number("simulated: mean step / lr"),
            high.expect_number("simulated: mean step / lr"),
        );
        assert!(l < 0.1 && h > 0.95, "low {l}, high {h}");
        let t = high.expect_number("theory: mean step / lr");
        assert!((h - t).abs() < 0.05, "{h} vs {t}");
    }
}

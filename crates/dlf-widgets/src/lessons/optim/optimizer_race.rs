//! "Optimizer race": SGD (with heavy-ball or Nesterov momentum), RMSProp, Adam and Lion started from the
//! same point of a 2-D loss surface, their trajectories drawn over the surface's contours and their losses
//! against the step.
//!
//! The surfaces are those of `dlf_engine::lessons::optim::Surface`: the ill-conditioned bowl `½(x² + y²/κ)` (where
//! plain gradient descent zig-zags or crawls and momentum's `(√κ−1)/(√κ+1)` rate beats GD's
//! `(κ−1)/(κ+1)`, Polyak 1964), Rosenbrock's banana (Rosenbrock 1960; scaled by 1/100 so that one learning
//! rate range serves all three surfaces) and a saddle `½x² − ½y² + y⁴/4` started almost on its ridge. Every
//! hyperparameter of every racer is a control; the update rules are the engine's (`dlf_engine::lessons::optim`),
//! so the figure is what the lesson's formulas do.
//!
//! Cost: four trajectories of at most 400 steps (a few µs each) and a 40×40 grid of surface values for the
//! shading and the contours (marching squares, Lorensen & Cline 1987). Measured natively with `cargo bench
//! -p dlf-widgets --bench widgets -- optimizer-race`: 0.31 ms at the defaults and 0.45 ms at the worst case
//! (Rosenbrock, 400 steps, noise and warm-up); in WebAssembly (Node 20, the bench-wasm harness with these
//! cases) 1.0 ms and 1.1 ms.

use dlf_engine::lessons::optim::{trajectory, Config, Kind, MomentumStyle, Schedule, Surface};

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Anchor, Axis, Plot, Rect, Svg};

/// The "Optimizer race" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OptimizerRace;
/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "optimizer-race",
    title: "Optimizer race on a 2-D loss surface",
    summary: "SGD with momentum, RMSProp, Adam and Lion from the same start on an ill-conditioned bowl, \
              Rosenbrock's banana or a saddle, with every hyperparameter live and optional gradient noise.",
    params: &[
        ParamSpec::select(
            "surface",
            "Surface",
            &[
                ("quadratic", "ill-conditioned bowl ½(x² + y²/κ)"),
                ("rosenbrock", "Rosenbrock banana (÷100)"),
                ("saddle", "saddle ½x² − ½y² + y⁴/4"),
            ],
            "quadratic",
        ).help("The loss surface the four optimizers descend."),
        ParamSpec::range("kappa", "Condition number κ (bowl)", 1.0..=200.0, 50.0)
            .help("Ratio of the bowl's largest to smallest curvature."),
        ParamSpec::range("steps", "Steps", 10.0..=400.0, 150.0)
            .step(10.0)
            .help("How many steps every optimizer takes."),
        ParamSpec::range("sgd_log10_lr", "SGD log₁₀ lr", -3.0..=0.5, -0.3)
            .step(0.05)
            .help("SGD's learning rate, as a power of ten."),
        ParamSpec::range("momentum", "SGD momentum μ", 0.0..=0.99, 0.8)
            .step(0.01)
            .help("Heavy-ball momentum (0 is plain gradient descent), PyTorch form b = μb + g."),
        ParamSpec::toggle("nesterov", "Nesterov momentum", false)
            .help("Use the look-ahead gradient g + μb (PyTorch's Nesterov form)."),
        ParamSpec::range("rms_log10_lr", "RMSProp log₁₀ lr", -3.0..=0.0, -1.3)
            .step(0.05)
            .help("RMSProp's learning rate, as a power of ten."),
        ParamSpec::range("alpha", "RMSProp α", 0.5..=0.999, 0.9)
            .step(0.001)
            .help("Decay of RMSProp's running mean of g²."),
        ParamSpec::range("adam_log10_lr", "Adam log₁₀ lr", -3.0..=0.0, -1.3)
            .step(0.05)
            .help("Adam's learning rate, as a power of ten."),
        ParamSpec::range("beta1", "Adam β₁", 0.0..=0.99, 0.9)
            .step(0.01)
            .help("Decay of Adam's first moment."),
        ParamSpec::range("beta2", "Adam β₂", 0.5..=0.9999, 0.999)
            .step(0.0001)
            .help("Decay of Adam's second moment."),
        ParamSpec::range("lion_log10_lr", "Lion log₁₀ lr", -3.5..=-0.5, -1.5)
            .step(0.05)
            .help("Lion's learning rate, as a power of ten: every coordinate moves by exactly this much."),
        ParamSpec::range("lion_beta1", "Lion β₁", 0.0..=0.99, 0.9)
            .step(0.01)
            .help("Lion's interpolation between momentum and gradient for the sign."),
        ParamSpec::range("lion_beta2", "Lion β₂", 0.0..=0.999, 0.99)
            .step(0.001)
            .help("Decay of Lion's single momentum state."),
        ParamSpec::range("log10_eps", "log₁₀ ε", -12.0..=0.0, -8.0)
            .step(0.5)
            .help("ε of RMSProp and Adam, outside the square root."),
        ParamSpec::range("warmup", "Warm-up steps", 0.0..=100.0, 0.0)
            .help("Linear learning-rate warm-up for every optimizer (0 = none)."),
        ParamSpec::range("noise", "Gradient noise σ", 0.0..=2.0, 0.1)
            .step(0.05)
            .help("Standard deviation of Gaussian noise added to each gradient coordinate."),
        ParamSpec::range("seed", "Noise seed", 0.0..=99.0, 1.0).help("Seed of the gradient noise."),
    ],
    // Four 400-step trajectories on the surface with the costliest gradient, with noise and warm-up.
    bench: &[
        BenchCase {
            name: "worst-rosenbrock-400",
            query: "surface=rosenbrock&steps=400&noise=2&warmup=100",
        },
    ],
};

/// Grid points per side for the shading and the contours.
const GRID: usize = 40;
/// Number of contour levels.
const LEVELS: usize = 9;
/// The racers, in colour order.
const NAMES: [&str; 4] = ["SGD", "RMSProp", "Adam", "Lion"];

fn configs(p: &Params) -> [Config; 4] {
    let ten = |name: &str| dlf_engine::math::powf(10f64, p.f64(name));
    let eps = ten("log10_eps");
    let mut sgd = Config::new(Kind::Sgd, ten("sgd_log10_lr"));
    sgd.momentum = p.f64("momentum");
    sgd.nesterov = p.bool("nesterov") && sgd.momentum > 0.0;
    sgd.momentum_style = MomentumStyle::Accumulate;
    let mut rms = Config::new(Kind::RmsProp, ten("rms_log10_lr"));
    rms.alpha = p.f64("alpha");
    rms.eps = eps;
    let mut adam = Config::new(Kind::Adam, ten("adam_log10_lr"));
    adam.beta1 = p.f64("beta1");
    adam.beta2 = p.f64("beta2");
    adam.eps = eps;
    let mut lion = Config::new(Kind::Lion, ten("lion_log10_lr"));
    lion.beta1 = p.f64("lion_beta1");
    lion.beta2 = p.f64("lion_beta2");
    [sgd, rms, adam, lion]
}

/// One racer's run.
struct Run {
    points: Vec<[f64; 2]>,
    losses: Vec<f64>,
}

impl Run {
    fn diverged(&self, steps: usize) -> bool {
        self.points.len() < steps + 1 || self.losses.iter().any(|l| !l.is_finite())
    }
}

impl Widget for OptimizerRace {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let kappa = p.f64("kappa");
        let surface =
            Surface::parse(p.str("surface"), kappa).unwrap_or(Surface::Quadratic { kappa });
        let steps = p.usize("steps");
        let noise = p.f64("noise");
        let seed = p.usize("seed") as u64;
        let warmup = p.usize("warmup") as u64;
        let schedule = Schedule {
            warmup,
            ..Schedule::CONSTANT
        };
        let (start, bounds) = surface.start_and_box();
        let runs: Vec<Run> = configs(p)
            .iter()
            .enumerate()
            .map(|(k, c)| {
                // Each racer gets its own noise stream from the one seed, so changing one racer's settings
                // does not change the noise the others see.
                let points = trajectory(
                    surface,
                    *c,
                    schedule,
                    start,
                    steps,
                    noise,
                    seed * 4 + k as u64,
                )
                .unwrap_or_else(|_| vec![start]);
                let losses = points
                    .iter()
                    .map(|q| surface.value(q[0], q[1]) - surface.min_value())
                    .collect();
                Run { points, losses }
            })
            .collect();

        let mut svg = Svg::new(724.0, 372.0, SPEC.title);
        let plot = Plot::new(
            Rect::new(44.0, 40.0, 300.0, 290.0),
            Axis::linear(bounds[0], bounds[1], "x"),
            Axis::linear(bounds[2], bounds[3], "y"),
        );
        // The surface, shaded by log loss above its minimum (darker = lower), with log-spaced contours.
        let mut values = vec![0.0; GRID * GRID];
        for j in 0..GRID {
            for i in 0..GRID {
                let c = plot.cell_centre(i, j, GRID, GRID);
                values[j * GRID + i] = (surface.value(c[0], c[1]) - surface.min_value()).max(1e-12);
            }
        }
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let (llo, lhi) = (dlf_engine::math::log10(lo.max(1e-4)), dlf_engine::math::log10(hi));
        plot.smooth_raster(&mut svg, GRID, GRID, 1, |i, j| {
            let v = dlf_engine::math::log10(values[j * GRID + i]);
            (0, 0.35 * (1.0 - ((v - llo) / (lhi - llo)).clamp(0.0, 1.0)))
        });
        let mut segments = Vec::new();
        for k in 1..=LEVELS {
            let level = dlf_engine::math::powf(10f64, llo + (lhi - llo) * k as f64 / (LEVELS + 1) as f64);
            plot.contour(&values, GRID, level, &mut segments);
        }
        for [a, b] in &segments {
            if let (Some(x1), Some(y1), Some(x2), Some(y2)) =
                (plot.px(a.0), plot.py(a.1), plot.px(b.0), plot.py(b.1))
            {
                svg.line(x1, y1, x2, y2, "dlf-ax dlf-thin");
            }
        }
        let title = match surface {
            Surface::Quadratic { .. } => {
                let mut t = String::from("Bowl ½(x² + y²/κ), κ = ");
                t.push_str(&int(kappa as i64));
                t
            }
            Surface::Rosenbrock => "Rosenbrock banana, minimum at (1, 1)".to_string(),
            Surface::Saddle => "Saddle at the origin, minima at (0, ±1)".to_string(),
        };
        plot.draw_axes(&mut svg, &title);
        for (k, run) in runs.iter().enumerate() {
            let pts: Vec<(f64, f64)> = run.points.iter().map(|q| (q[0], q[1])).collect();
            plot.line(&mut svg, &pts, line_class(k));
            if let Some(last) = run.points.last() {
                if let (Some(x), Some(y)) = (plot.px(last[0]), plot.py(last[1])) {
                    svg.circle(x, y, 3.5, fill_class(k));
                }
            }
        }
        if let (Some(x), Some(y)) = (plot.px(start[0]), plot.py(start[1])) {
            svg.circle(x, y, 4.0, "dlf-arh");
            svg.text(x + 6.0, y - 6.0, Anchor::Start, "dlf-ts", "start");
        }
        let legend: Vec<(&str, &str)> = NAMES
            .iter()
            .enumerate()
            .map(|(k, n)| (*n, fill_class(k)))
            .collect();
        svg.legend(44.0, 16.0, &legend);

        // Loss above the minimum against the step, log scale. A diverging racer's loss grows without bound
        // (to 10²⁶ and beyond), which would squash every other curve into the bottom decade; the axis therefore
        // stops at a thousand times the starting loss, and a diverging curve runs along the top edge because
        // points are clamped to the frame.
        let start_loss = (surface.value(start[0], start[1]) - surface.min_value()).max(1e-12);
        let cap = 1e3 * start_loss;
        let loss_plot = Plot::new(
            Rect::new(420.0, 40.0, 280.0, 290.0),
            Axis::linear(0.0, steps as f64, "step"),
            Axis::fit_log10(
                runs.iter()
                    .flat_map(|r| r.losses.iter().copied())
                    .map(|v| v.clamp(1e-12, cap)),
                "loss − minimum",
            ),
        );
        loss_plot.draw_axes(&mut svg, "Loss against step (log scale)");
        for (k, run) in runs.iter().enumerate() {
            let pts: Vec<(f64, f64)> = run
                .losses
                .iter()
                .enumerate()
                .map(|(t, &l)| (t as f64, l.max(1e-12)))
                .collect();
            loss_plot.line(&mut svg, &pts, line_class(k));
        }
        let svg = svg.finish();

        let mut numbers = Vec::new();
        for (name, run) in NAMES.iter().zip(&runs) {
            let mut label = String::from("final loss − min, ");
            label.push_str(name);
            let value = if run.diverged(steps) {
                "diverged".to_string()
            } else {
                sig(*run.losses.last().unwrap_or(&f64::NAN), 3)
            };
            numbers.push((label, value));
        }
        for (name, run) in NAMES.iter().zip(&runs) {
            let mut label = String::from("first step with loss − min < 10⁻³, ");
            label.push_str(name);
            let value = run
                .losses
                .iter()
                .position(|&l| l < 1e-3)
                .map_or_else(|| "not reached".to_string(), |t| int(t as i64));
            numbers.push((label, value));
        }
        let description = describe(&title, steps, noise, &runs);
        Figure {
            svg,
            numbers,
            description,
        }
    }
}

fn describe(title: &str, steps: usize, noise: f64, runs: &[Run]) -> String {
    let mut d = String::from(title);
    d.push_str(": after ");
    d.push_str(&int(steps as i64));
    d.push_str(" steps");
    if noise > 0.0 {
        d.push_str(" with gradient noise σ = ");
        d.push_str(&sig(noise, 2));
    }
    d.push_str(", the loss above the minimum is ");
    for (k, (name, run)) in NAMES.iter().zip(runs).enumerate() {
        if k > 0 {
            d.push_str(if k == NAMES.len() - 1 { " and " } else { ", " });
        }
        d.push_str(name);
        d.push(' ');
        if run.diverged(steps) {
            d.push_str("diverged");
        } else {
            d.push_str(&sig(*run.losses.last().unwrap_or(&f64::NAN), 3));
        }
    }
    // Name the leader from the measured numbers, not from expectations.
    let best = runs
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.diverged(steps))
        .min_by(|a, b| {
            let la = a.1.losses.last().copied().unwrap_or(f64::INFINITY);
            let lb = b.1.losses.last().copied().unwrap_or(f64::INFINITY);
            la.total_cmp(&lb)
        });
    if let Some((k, _)) = best {
        d.push_str("; lowest: ");
        d.push_str(NAMES[k]);
    }
    d.push('.');
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_params;

    fn final_loss(fig: &Figure, name: &str) -> f64 {
        let label = format!("final loss − min, {name}");
        let v = &fig.numbers.iter().find(|(l, _)| *l == label).unwrap().1;
        v.replace('−', "-")
            .replace("×10", "e")
            .parse()
            .unwrap_or(f64::INFINITY)
    }

    #[test]
    fn momentum_beats_plain_gd_on_the_ill_conditioned_bowl() {
        let plain = parse_params(
            &SPEC,
            &[("kappa", "100"), ("momentum", "0"), ("noise", "0")],
        )
        .unwrap();
        let heavy = parse_params(
            &SPEC,
            &[("kappa", "100"), ("momentum", "0.9"), ("noise", "0")],
        )
        .unwrap();
        let a = OptimizerRace.render(&plain);
        let b = OptimizerRace.render(&heavy);
        let (la, lb) = (final_loss(&a, "SGD"), final_loss(&b, "SGD"));
        assert!(lb < la / 10.0, "momentum {lb} vs plain {la}");
        assert!(a.svg.contains("<polyline"));
    }

    #[test]
    fn too_large_a_learning_rate_diverges_and_says_so() {
        // Curvature 1 along x: plain GD is stable only for lr < 2, and 10^0.5 = 3.16 is beyond it.
        let p = parse_params(&SPEC, &[("sgd_log10_lr", "0.5"), ("momentum", "0")]).unwrap();
        let fig = OptimizerRace.render(&p);
        assert!(fig
            .numbers
            .iter()
            .any(|(l, v)| l == "final loss − min, SGD" && v == "diverged"));
        assert!(fig.description.contains("SGD diverged"));
    }

    #[test]
    fn a_diverging_racer_does_not_stretch_the_loss_axis() {
        // SGD at lr 10^0.5 without momentum diverges on the bowl (curvature 1 along x, limit lr < 2). The
        // loss axis must still end within a thousand times the starting loss ½(1.8² + 1.6²/50) = 1.6456,
        // i.e. its top tick label is at most 10⁴ (fit_log10 rounds the top up to a power of ten).
        let p = parse_params(
            &SPEC,
            &[("sgd_log10_lr", "0.5"), ("momentum", "0"), ("steps", "400")],
        )
        .unwrap();
        let fig = OptimizerRace.render(&p);
        assert!(fig.description.contains("SGD diverged"));
        for big in ["1e5", "1e6", "1e11", "1e16", "1e21", "1e26"] {
            assert!(
                !fig.svg.contains(&format!(">{big}<")),
                "tick {big} on the loss axis"
            );
        }
    }

    #[test]
    fn every_surface_renders_with_noise() {
        for s in ["quadratic", "rosenbrock", "saddle"] {
            let p =
                parse_params(&SPEC, &[("surface", s), ("noise", "0.5"), ("steps", "400")]).unwrap();
            let fig = OptimizerRace.render(&p);
            assert!(fig.svg.starts_with("<svg") && fig.numbers.len() == 8, "{s}");
        }
    }
}

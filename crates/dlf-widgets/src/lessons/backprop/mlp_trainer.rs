//! "Train an MLP": a small multilayer perceptron trained by mini-batch SGD on a 2D toy data set, shown
//! as decision regions, a loss curve and per-layer gradient norms.
//!
//! What the learner should see: with ReLU, tanh or GELU the network separates moons and circles within
//! a few hundred steps; with the sigmoid at depth 3 the first layer's gradient norm sits one or two
//! orders of magnitude below the last layer's, because every sigmoid layer multiplies the backward
//! signal by `σ'(z) ≤ 1/4` (the vanishing-gradient problem: S. Hochreiter, diploma thesis, TU Munich,
//! 1991; Bengio, Simard & Frasconi,
//! "Learning long-term dependencies with gradient descent is difficult", IEEE TNN 1994; Glorot & Bengio,
//! "Understanding the difficulty of training deep feedforward neural networks", AISTATS 2010).
//!
//! Cost and the choices that keep it interactive. A training step costs about `6 · P` FLOPs per example
//! (forward `2P`, backward `4P`, for `P` weights; Kaplan et al., "Scaling Laws for Neural Language
//! Models", 2020, section 2.1). At the worst case (three hidden layers of 32, so `P ≈ 2200`) full-batch
//! training on 150 points for 500 steps would be about 1 GFLOP, some 200 ms on this machine. The widget
//! therefore trains with mini-batches of [`BATCH`] examples drawn without replacement from a training
//! set of [`POINTS`] points (an epoch is `POINTS / BATCH` steps), and evaluates the decision regions on
//! a [`GRID`]×[`GRID`] grid. The parameter ranges are the ones the lesson promises; only these three
//! constants trade fidelity for speed. Nothing is computed every k-th step only: every step's loss and
//! gradient norms are recorded, the full training set is evaluated exactly twice (before the first and
//! after the last step), and the trailing means are computed once per render. The training loop
//! allocates nothing per step (one batch tensor is refilled, the norms go into one growing vector), and
//! the engine's products are register-blocked (`dlf_engine::lessons::backprop::mlp`).
//!
//! Measured render times (`cargo bench -p dlf-widgets --bench widgets` natively; `node
//! crates/dlf-widgets/bench-wasm/bench.mjs` for the WebAssembly build the server embeds, in Node 20's
//! V8), on the 2-core build machine shared with other builds, so ±10%: 0.56 ms natively at the
//! defaults; at three hidden layers of 32 and 500 steps, 4.7 ms with ReLU, 6.5 ms with the sigmoid,
//! 8.2 ms with tanh and 8.9 ms with GELU natively, and 7.6, 10.2, 11.8 and 12.7 ms in WebAssembly. The
//! smooth activations cost more than ReLU because every unit of every step evaluates a transcendental
//! function (`exp`, `tanh`, or the engine's `erf` and `exp` for the exact GELU and its derivative).
//!
//! The decision regions are drawn from the grid as one small greyscale PNG per class that the browser
//! scales up with interpolation ([`Plot::smooth_raster`]), so the regions look smooth although the network
//! is evaluated at [`GRID`]² points only. The loss curve shows each mini-batch's loss (thin) and its
//! trailing mean over [`SMOOTHING`] steps (bold); the final loss and accuracy are measured on the whole
//! training set.

use dlf_engine::activation::Activation;
use dlf_engine::lessons::backprop::datasets::{Dataset2D, DatasetKind};
use dlf_engine::lessons::backprop::minibatch::{
    points_tensor, MinibatchConfig, MinibatchTraining, Run,
};
use dlf_engine::lessons::backprop::mlp::StepStats;
use dlf_engine::tensor::Tensor;

use crate::figure::Figure;
use crate::number_format::{int, percent, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Anchor, Axis, Plot, Rect, Svg};

/// Training-set size. Each step sees [`BATCH`] of these, so the size only sets the epoch length and
/// the cost of the two full-set evaluations (before and after training).
pub const POINTS: usize = 160;
/// Mini-batch size: 20 steps make one epoch of [`POINTS`].
pub const BATCH: usize = 8;
/// Points per side of the grid on which the decision regions are evaluated (the image the browser
/// smooths when it scales it to the panel).
pub const GRID: usize = 32;
/// Window of the trailing mean drawn over the noisy mini-batch losses.
pub const SMOOTHING: usize = 16;

/// The "Train an MLP" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MlpTrainer;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "mlp-trainer",
    title: "Train an MLP",
    summary:
        "Train a small multilayer perceptron on a 2D toy problem and watch its decision regions, \
              loss and per-layer gradient norms.",
    params: &[
        ParamSpec::select(
            "dataset",
            "Data set",
            &[
                ("moons", "Two moons"),
                ("circles", "Circles"),
                ("xor", "XOR"),
                ("spirals", "Spirals"),
            ],
            "moons",
        ).help("The 2D classification problem."),
        ParamSpec::range("noise", "Noise", 0.0..=0.5, 0.1)
            .step(0.05)
            .help("Standard deviation of the Gaussian noise added to every point."),
        ParamSpec::range("width", "Width", 2.0..=32.0, 16.0).help("Units in each hidden layer."),
        ParamSpec::range("depth", "Hidden layers", 1.0..=3.0, 2.0).help("Number of hidden layers."),
        ParamSpec::select(
            "activation",
            "Activation",
            &[
                ("relu", "ReLU"),
                ("tanh", "tanh"),
                ("gelu", "GELU"),
                ("sigmoid", "sigmoid"),
            ],
            "relu",
        ).help("The non-linearity after every hidden layer."),
        ParamSpec::range("log10_lr", "log₁₀ learning rate", -3.0..=0.5, -0.5)
            .step(0.1)
            .help("Base-10 logarithm of the SGD step size."),
        ParamSpec::range("steps", "Steps", 0.0..=500.0, 200.0)
            .step(10.0)
            .help("Number of mini-batch SGD steps."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0)
            .help("Seed for the data, the initial weights and the batch order."),
    ],
    // Three hidden layers of 32 units trained for the full 500 steps on spirals, with each activation: its cost differs widely (the exact GELU evaluates erf per unit).
    bench: &[
        BenchCase {
            name: "worst-gelu",
            query: "dataset=spirals&width=32&depth=3&steps=500&activation=gelu",
        },
        BenchCase {
            name: "worst-sigmoid",
            query: "dataset=spirals&width=32&depth=3&steps=500&activation=sigmoid",
        },
        BenchCase {
            name: "worst-tanh",
            query: "dataset=spirals&width=32&depth=3&steps=500&activation=tanh",
        },
        BenchCase {
            name: "worst-relu",
            query: "dataset=spirals&width=32&depth=3&steps=500&activation=relu",
        },
    ],
};

/// Human-readable data-set names for the description.
fn dataset_phrase(kind: &str) -> &'static str {
    match kind {
        "moons" => "the two moons",
        "circles" => "the two circles",
        "xor" => "the XOR quadrants",
        _ => "the spirals",
    }
}

/// Display name of an activation.
fn activation_label(a: Activation) -> &'static str {
    match a {
        Activation::Relu => "ReLU",
        Activation::Tanh => "tanh",
        Activation::Gelu => "GELU",
        Activation::Sigmoid => "sigmoid",
    }
}

/// Whether a step's loss and gradient norms are all finite numbers.
fn finite(s: &StepStats) -> bool {
    s.loss.is_finite() && s.weight_grad_norms.iter().all(|g| g.is_finite())
}

/// Mini-batch steps per slice of a progressive redraw: at the worst case (three hidden layers of 32 with tanh or
/// the exact GELU) a step costs about 20–25 µs natively and somewhat more in WebAssembly, and drawing the run so
/// far about 1 ms; in Chromium a 40-step GELU slice measured 6 ms, so a slice is 20 steps; 500 steps take 25 frames.
pub const SLICE_STEPS: usize = 20;

/// A run in progress: the training, then the final decision-region grid, evaluated a slice at a time.
#[derive(Debug)]
pub(crate) struct Progress {
    training: MinibatchTraining,
    /// Class probabilities of the first `cells_done` cells of the final [`GRID`]² raster.
    regions: Vec<f64>,
    cells_done: usize,
}

impl Progress {
    /// Whether training is over and the final grid is evaluated.
    fn complete(&self) -> bool {
        self.training.finished() && self.cells_done == GRID * GRID
    }
}

/// The training run the parameters describe, for the engine's mini-batch trainer.
fn training(p: &Params) -> MinibatchTraining {
    let cfg = MinibatchConfig {
        dataset: DatasetKind::parse(p.str("dataset")).expect("spec options are engine data sets"),
        points: POINTS,
        noise: p.f64("noise"),
        activation: Activation::parse(p.str("activation")).expect("spec options are activations"),
        depth: p.usize("depth").max(1),
        width: p.usize("width").max(1),
        lr: dlf_engine::math::powf(10f64, p.f64("log10_lr")),
        steps: p.usize("steps"),
        batch: BATCH,
        seed: p.usize("seed") as u64,
    };
    MinibatchTraining::new(&cfg)
}

/// The square data window shown in the decision-region panel: the data's bounding box, made square
/// and padded by 15% so points never sit on the frame.
fn data_window(data: &Dataset2D) -> (Axis, Axis) {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for pt in &data.x {
        for k in 0..2 {
            lo[k] = lo[k].min(pt[k]);
            hi[k] = hi[k].max(pt[k]);
        }
    }
    if !(lo[0].is_finite() && lo[1].is_finite() && hi[0].is_finite() && hi[1].is_finite()) {
        return (Axis::linear(-1.0, 1.0, "x₁"), Axis::linear(-1.0, 1.0, "x₂"));
    }
    let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0).max(0.5) * 1.15;
    let c = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    (
        Axis::linear(c[0] - half, c[0] + half, "x₁"),
        Axis::linear(c[1] - half, c[1] + half, "x₂"),
    )
}

/// Points per side of the decision-region grid while training is in progress: a quarter of the final grid's
/// cost, so a frame that trains a slice and draws stays within budget; the final figure uses [`GRID`].
pub const PREVIEW_GRID: usize = 16;

/// Rows of the final [`GRID`]² region grid evaluated per slice once training is over (a multiple of the
/// network's 64-row inference chunk, so the slicing changes no bit of the result).
pub const REGION_ROWS_PER_SLICE: usize = 256;

/// The decision-region panel's plot: the data window in the panel's frame.
fn region_plot(run: &Run) -> Plot {
    let (xa, ya) = data_window(&run.data);
    Plot::new(Rect::new(44.0, 26.0, 262.0, 262.0), xa, ya)
}

/// The network's class probabilities at the centres of cells `cells` of a `grid`×`grid` raster over the
/// panel, row-major from the top left.
fn region_probs(run: &Run, grid: usize, cells: std::ops::Range<usize>) -> Tensor {
    let plot = region_plot(run);
    run.mlp
        .forward_probs(&points_tensor(cells.map(|c| plot.cell_centre(c % grid, c / grid, grid, grid))))
}

/// Draws the regions from `probs`, the class probabilities at every cell of a `grid`×`grid` raster.
fn draw_regions(svg: &mut Svg, run: &Run, grid: usize, probs: &[f64]) {
    let plot = region_plot(run);
    let classes = run.data.classes.max(2);
    let chance = 1.0 / classes as f64;
    plot.smooth_raster(svg, grid, grid, classes, |i, j| {
        let at = (j * grid + i) * run.data.classes;
        let row = &probs[at..at + run.data.classes];
        let (best, p) =
            row.iter()
                .copied()
                .enumerate()
                .fold(
                    (0, f64::NEG_INFINITY),
                    |acc, (k, v)| if v > acc.1 { (k, v) } else { acc },
                );
        // Opacity grows from 0.08 where the classes tie (p = 1/C) to 0.6 where the network is certain,
        // so confident regions are saturated while the data points drawn on top stay visible.
        let confidence = ((p - chance) / (1.0 - chance)).clamp(0.0, 1.0);
        (best, 0.08 + 0.52 * confidence)
    });
    plot.draw_axes(svg, "Decision regions and training data");
    if run.diverged_at.is_some() {
        svg.text(
            plot.frame.cx(),
            plot.frame.y + 18.0,
            Anchor::Middle,
            "dlf-th",
            "training diverged (weights not finite)",
        );
    }
    for class in 0..run.data.classes {
        let pts: Vec<(f64, f64)> = run
            .data
            .x
            .iter()
            .zip(&run.data.y)
            .filter(|(_, &y)| y == class)
            .map(|(x, _)| (x[0], x[1]))
            .collect();
        let class_name = fill_class(class);
        let mut cls = String::with_capacity(20);
        cls.push_str(class_name);
        cls.push_str(" dlf-pt");
        plot.scatter(svg, &pts, 2.6, &cls);
    }
}

/// Trailing mean over the last `window` values at every index (the first values average what exists).
fn trailing_mean(values: &[f64], window: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut sum = 0.0;
    for (i, v) in values.iter().enumerate() {
        sum += v;
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

fn draw_loss(svg: &mut Svg, run: &Run, steps: usize) {
    let losses = &run.losses;
    let x_axis = Axis::linear(0.0, steps.max(10) as f64, "step");
    let y_axis = Axis::fit_linear(
        losses.iter().copied().chain([run.initial.loss]),
        true,
        "loss",
    );
    let plot = Plot::new(Rect::new(384.0, 26.0, 240.0, 96.0), x_axis, y_axis);
    plot.draw_axes(svg, "Training loss (cross-entropy)");
    if losses.is_empty() {
        svg.text(
            plot.frame.cx(),
            plot.frame.cy(),
            Anchor::Middle,
            "dlf-ts",
            "no training steps yet",
        );
        return;
    }
    let raw: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .map(|(i, &l)| ((i + 1) as f64, l))
        .collect();
    let smooth: Vec<(f64, f64)> = trailing_mean(losses, SMOOTHING)
        .into_iter()
        .enumerate()
        .map(|(i, l)| ((i + 1) as f64, l))
        .collect();
    plot.line(svg, &raw, "dlf-ln dlf-s0 dlf-thin");
    plot.line(svg, &smooth, line_class(0));
}

fn draw_grad_norms(svg: &mut Svg, run: &Run, steps: usize) {
    let layers = run.layers;
    // Mini-batch gradient norms fluctuate by an order of magnitude from step to step; the trailing
    // mean keeps the gap between layers readable, which is what this panel is for.
    let smoothed: Vec<Vec<f64>> = (0..layers)
        .map(|layer| {
            let raw: Vec<f64> = run
                .norms
                .iter()
                .skip(layer)
                .step_by(layers)
                .copied()
                .collect();
            trailing_mean(&raw, SMOOTHING)
        })
        .collect();
    let values = smoothed
        .iter()
        .flatten()
        .copied()
        .chain(run.initial.weight_grad_norms.iter().copied());
    let y_axis = Axis::fit_log10(values, "‖∂L/∂W‖");
    let x_axis = Axis::linear(0.0, steps.max(10) as f64, "step");
    let plot = Plot::new(Rect::new(384.0, 184.0, 240.0, 104.0), x_axis, y_axis);
    plot.draw_axes(svg, "Weight-gradient norm per layer");
    let names: Vec<String> = (1..=layers).map(format_layer).collect();
    let entries: Vec<(&str, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), fill_class(i)))
        .collect();
    svg.legend(384.0, 334.0, &entries);
    let mut note = String::from("log scale; lines: means over ");
    note.push_str(&int(SMOOTHING as i64));
    note.push_str(" steps; dots: full set at step 0");
    svg.text(384.0, 350.0, Anchor::Start, "dlf-ts", &note);
    for (layer, series) in smoothed.iter().enumerate() {
        let pts: Vec<(f64, f64)> = series
            .iter()
            .enumerate()
            .map(|(i, &g)| ((i + 1) as f64, g))
            .collect();
        plot.line(svg, &pts, line_class(layer));
    }
    // The full-set norms before training, one dot per layer at step 0.
    for (layer, &g) in run.initial.weight_grad_norms.iter().enumerate() {
        let mut cls = String::from(fill_class(layer));
        cls.push_str(" dlf-pt");
        plot.scatter(svg, &[(0.0, g)], 3.2, &cls);
    }
}

/// `W1`, `W2`, ...
fn format_layer(l: usize) -> String {
    let mut s = String::from("W");
    s.push_str(&int(l as i64));
    s
}

/// Training takes up to 500 steps, over a frame at the worst case, so the widget trains [`SLICE_STEPS`] steps per
/// frame and draws the run so far after each slice; the final figure is the same however the run was sliced.
///
/// While training, each frame draws the regions on a coarse [`PREVIEW_GRID`]; once training is over, the
/// final [`GRID`]² regions are evaluated [`REGION_ROWS_PER_SLICE`] cells per frame, since at full width they
/// cost as much as a slice of training.
impl Stepped for MlpTrainer {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> Progress {
        Progress {
            training: training(p),
            regions: Vec::new(),
            cells_done: 0,
        }
    }

    fn advance(&self, _p: &Params, state: &mut Progress) -> bool {
        if !state.training.finished() {
            state.training.advance(SLICE_STEPS);
        } else {
            let run = state.training.run();
            let end = (state.cells_done + REGION_ROWS_PER_SLICE).min(GRID * GRID);
            let probs = region_probs(&run, GRID, state.cells_done..end);
            state.regions.extend_from_slice(probs.data());
            state.cells_done = end;
        }
        state.complete()
    }

    fn draw(&self, p: &Params, state: &Progress) -> Figure {
        let run = state.training.run();
        let steps = p.usize("steps");
        let lr = dlf_engine::math::powf(10f64, p.f64("log10_lr"));

        let mut svg = Svg::new(640.0, 360.0, SPEC.title);
        if state.complete() {
            draw_regions(&mut svg, &run, GRID, &state.regions);
        } else {
            let probs = region_probs(&run, PREVIEW_GRID, 0..PREVIEW_GRID * PREVIEW_GRID);
            draw_regions(&mut svg, &run, PREVIEW_GRID, probs.data());
        }
        draw_loss(&mut svg, &run, steps);
        draw_grad_norms(&mut svg, &run, steps);
        let svg = svg.finish();

        let (final_loss, final_accuracy) = if finite(&run.last) {
            (sig(run.last.loss, 3), percent(run.last.accuracy))
        } else {
            ("diverged".to_string(), "diverged".to_string())
        };
        let mut numbers = vec![
            ("final loss (training set)".to_string(), final_loss),
            ("train accuracy".to_string(), final_accuracy),
            ("initial loss".to_string(), sig(run.initial.loss, 3)),
            ("learning rate".to_string(), sig(lr, 2)),
            (
                "parameters".to_string(),
                int(run.mlp.parameter_count() as i64),
            ),
        ];
        // The norms of the last mini-batch step with finite values (where the curves end); before
        // any step, the full-set norms at initialisation (where the dots are).
        let (norms, when) = match (0..run.losses.len()).rev().find(|&i| run.step_finite(i)) {
            Some(i) => {
                let mut when = String::from("‖, step ");
                when.push_str(&int(i as i64 + 1));
                (run.step_norms(i), when)
            }
            None => (
                run.initial.weight_grad_norms.as_slice(),
                "‖, initial".to_string(),
            ),
        };
        for (i, g) in norms.iter().enumerate() {
            let mut label = String::from("‖∂L/∂");
            label.push_str(&format_layer(i + 1));
            label.push_str(&when);
            numbers.push((label, sig(*g, 2)));
        }

        let mut description = describe(p, &run, steps, lr);
        if !state.complete() {
            let mut progress = String::from("step ");
            progress.push_str(&int(state.training.steps_done() as i64));
            progress.push_str(" of ");
            progress.push_str(&int(steps as i64));
            numbers.insert(0, ("training".to_string(), progress));
            description.insert_str(0, "Training in progress; the figure so far. ");
        }
        Figure {
            svg,
            numbers,
            description,
        }
    }
}

/// The network in words: "2-hidden-layer, 16-unit ReLU network".
fn network_phrase(p: &Params) -> String {
    let activation = Activation::parse(p.str("activation")).unwrap_or(Activation::Relu);
    let mut s = int(p.usize("depth") as i64);
    s.push_str("-hidden-layer, ");
    s.push_str(&int(p.usize("width") as i64));
    s.push_str("-unit ");
    s.push_str(activation_label(activation));
    s.push_str(" network");
    s
}

fn describe(p: &Params, run: &Run, steps: usize, lr: f64) -> String {
    let mut d = String::new();
    let net = network_phrase(p);
    if let Some(k) = run.diverged_at {
        d.push_str("Training diverged: with learning rate ");
        d.push_str(&sig(lr, 2));
        d.push_str(" the ");
        d.push_str(&net);
        d.push_str(" overshoots until, at step ");
        d.push_str(&int(k as i64));
        d.push_str(", its loss or gradients are no longer finite numbers (the loss started at ");
        d.push_str(&sig(run.initial.loss, 2));
        d.push_str("). Lower the learning rate to train it.");
    } else if steps == 0 {
        d.push_str("Before any training the ");
        d.push_str(&net);
        d.push_str(" classifies ");
        d.push_str(&percent(run.last.accuracy));
        d.push_str(" of ");
        d.push_str(dataset_phrase(p.str("dataset")));
        d.push_str(" correctly; its loss is ");
        d.push_str(&sig(run.last.loss, 2));
        d.push('.');
    } else {
        d.push_str("After ");
        d.push_str(&int(steps as i64));
        d.push_str(" steps of mini-batch SGD (learning rate ");
        d.push_str(&sig(lr, 2));
        d.push_str(", batches of ");
        d.push_str(&int(BATCH as i64));
        d.push_str(") the ");
        d.push_str(&net);
        d.push_str(" classifies ");
        d.push_str(dataset_phrase(p.str("dataset")));
        d.push_str(" with ");
        d.push_str(&percent(run.last.accuracy));
        d.push_str(" training accuracy; the training-set loss went from ");
        d.push_str(&sig(run.initial.loss, 2));
        d.push_str(" to ");
        d.push_str(&sig(run.last.loss, 2));
        d.push('.');
    }
    // The vanishing-gradient comparison is made at initialisation, on the full training set, where it
    // is free of mini-batch noise and of what training has done to the weights.
    let norms = &run.initial.weight_grad_norms;
    if let (Some(&first), Some(&last)) = (norms.first(), norms.last()) {
        d.push_str(" At initialisation the weight-gradient norm is ");
        d.push_str(&sig(first, 2));
        d.push_str(" for the first layer and ");
        d.push_str(&sig(last, 2));
        d.push_str(" for the output layer");
        if first > 0.0 && last > 0.0 && norms.len() > 1 {
            let ratio = last / first;
            if ratio >= 10.0 {
                d.push_str(", so the first layer's gradient is ");
                d.push_str(&sig(ratio, 2));
                d.push_str(" times smaller: the backward signal shrinks on its way to the input");
            } else if ratio <= 0.1 {
                d.push_str(", so the first layer's gradient is ");
                d.push_str(&sig(1.0 / ratio, 2));
                d.push_str(" times larger");
            }
        }
        d.push('.');
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_mean_averages_what_exists() {
        let m = trailing_mean(&[1.0, 3.0, 5.0, 7.0], 2);
        let expected = [1.0, 2.0, 4.0, 6.0];
        for (a, b) in m.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}

//! "Walk the forward and backward pass": the computation graph of lesson 01's two-layer MLP with every
//! tensor's name, shape and formula, and a finite-difference gradient check swept over the step size.
//!
//! The network is `Z1 = X W1 + b1`, `H1 = f(Z1)`, `Z2 = H1 W2 + b2`, then either softmax cross-entropy
//! or mean squared error (the conventions of `dlf_engine::lessons::backprop`). The backward formulas shown in the
//! boxes are the reverse-mode chain rule of Rumelhart, Hinton & Williams, "Learning representations by
//! back-propagating errors", Nature 1986; every number comes from the engine's `forward_backward` and
//! `grad_check`.
//!
//! The lower panel plots the finite-difference check's relative error against the step `ε` for the
//! forward difference `(L(θ+ε) − L(θ))/ε`, whose truncation error is `O(ε)`, and the central difference
//! `(L(θ+ε) − L(θ−ε))/2ε`, whose truncation error is `O(ε²)`. Round-off in evaluating `L` contributes
//! about `u·|L|/ε` (u ≈ 1.1e-16 for f64), so the total error falls and then rises as `ε` shrinks: the
//! V-shape, with its minimum near `ε ≈ √u ≈ 1e-8` for forward and `ε ≈ u^(1/3) ≈ 5e-6` for central
//! differences (Nocedal & Wright, "Numerical Optimization", 2nd ed. 2006, section 8.1).
//!
//! FLOPs are the matrix products' multiply-adds counted as two FLOPs each: forward
//! `2BDH + 2BHC`; backward `2HBC` (dW2) `+ 2BCH` (dH1) `+ 2DBH` (dW1) `+ 2BHD` (dX), twice the forward
//! count — the "backward costs two forwards" rule (Kaplan et al., "Scaling Laws for Neural Language
//! Models", 2020, section 2.1). Bias additions and element-wise operations are lower order and left out.
//!
//! Cost: each gradient check perturbs every parameter (101 of them at the largest shapes) and
//! re-evaluates the loss once (forward) or twice (central). The sweep evaluates whole decades and refines
//! only around each scheme's minimum: 29 checks instead of the 47 of a half-decade grid. All checks of a
//! render share one `dlf_engine::lessons::backprop::GradChecker`, which runs the backward pass once and re-evaluates
//! only the part of the forward pass that a perturbed entry changes, with the same arithmetic as the full
//! pass (so every finite difference, round-off included, is what re-running the whole pass would give).
//! Measured with `cargo bench -p dlf-widgets --bench widgets` (native) and
//! `crates/dlf-widgets/bench-wasm/bench.mjs` (WebAssembly in Node 20): 0.25 ms natively at the defaults;
//! at the largest shapes 1.6 ms natively and 3.3 ms in WebAssembly with GELU, 1.6 and 3.5 ms with tanh —
//! close to the 4 ms redraw budget, so the widget is [`Stepped`]: one scheme's sweep per animation frame.

use dlf_engine::activation::Activation;
use dlf_engine::lessons::backprop::{Difference, GradCheck, GradChecker, Loss, TwoLayerProblem};

use crate::figure::Figure;
use crate::number_format::{int, sci, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Anchor, Axis, Plot, Rect, Svg};

/// The "Walk the forward and backward pass" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackpropWalk;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "backprop-walk",
    title: "Walk the forward and backward pass",
    summary:
        "Every tensor of a two-layer MLP with its shape and formula, and the finite-difference \
              check of its gradients as the step size shrinks.",
    params: &[
        ParamSpec::range("batch", "Batch B", 1.0..=8.0, 4.0)
            .help("Examples in the batch (rows of X)."),
        ParamSpec::range("d_in", "Inputs D", 1.0..=6.0, 3.0)
            .help("Features per example (columns of X)."),
        ParamSpec::range("hidden", "Hidden H", 1.0..=8.0, 5.0).help("Units in the hidden layer."),
        ParamSpec::range("classes", "Outputs C", 2.0..=5.0, 3.0)
            .help("Classes (cross-entropy) or regression outputs (squared error)."),
        ParamSpec::select(
            "activation",
            "Activation f",
            &[
                ("tanh", "tanh"),
                ("relu", "ReLU"),
                ("gelu", "GELU"),
                ("sigmoid", "sigmoid"),
            ],
            "tanh",
        ).help("The non-linearity of the hidden layer."),
        ParamSpec::select(
            "loss",
            "Loss",
            &[
                ("ce", "softmax cross-entropy"),
                ("mse", "mean squared error"),
            ],
            "ce",
        ).help("Softmax cross-entropy on class labels, or mean squared error on real targets."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0)
            .help("Seed for the inputs, weights and targets."),
        ParamSpec::range("log10_eps", "log₁₀ ε", -12.0..=-1.0, -6.0)
            .step(0.5)
            .help("Base-10 logarithm of the finite-difference step."),
        ParamSpec::select(
            "difference",
            "Difference",
            &[
                ("central", "central"),
                ("forward", "forward"),
            ],
            "central",
        ).help("Central (L(θ+ε) − L(θ−ε))/2ε or forward (L(θ+ε) − L(θ))/ε."),
    ],
    // Every dimension at its maximum with the cross-entropy loss (softmax per row).
    bench: &[
        BenchCase {
            name: "worst-gelu",
            query: "batch=8&d_in=6&hidden=8&classes=5&activation=gelu",
        },
        BenchCase {
            name: "worst-tanh",
            query: "batch=8&d_in=6&hidden=8&classes=5&activation=tanh",
        },
    ],
};

/// Decimal exponents of the sweep's coarse grid: every decade from 1e-12 to 1e-1.
const DECADES: std::ops::RangeInclusive<i32> = -12..=-1;

/// One scheme's relative error as a function of the step: `(log10 ε, relative error)` pairs in
/// increasing ε.
type Curve = Vec<(f64, f64)>;

/// The error curve of one difference scheme: the engine's full gradient check at every decade, then
/// at the two half-decade neighbours of the best decade (so the minimum is located to the slider's
/// resolution), plus any `extra` points already computed. Sweeping every half decade instead would
/// cost 23 checks per scheme rather than 14, for detail only near the minimum matters.
fn sweep(checker: &mut GradChecker, diff: Difference, extra: &[(f64, f64)]) -> Curve {
    let mut check = |exp: f64| (exp, checker.check(dlf_engine::math::powf(10f64, exp), diff).rel_error);
    let mut curve: Curve = DECADES.map(|k| check(f64::from(k))).collect();
    if let Some((best, _)) = best_point(&curve) {
        let (lo, hi) = (f64::from(*DECADES.start()), f64::from(*DECADES.end()));
        for exp in [best - 0.5, best + 0.5] {
            if (lo..=hi).contains(&exp) {
                curve.push(check(exp));
            }
        }
    }
    curve.extend_from_slice(extra);
    curve.sort_by(|a, b| a.0.total_cmp(&b.0));
    // An extra point can coincide with a grid point; both are the same check, so keep one.
    curve.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9);
    curve
}

/// The shapes of the problem, named as in the lesson.
#[derive(Debug, Clone, Copy)]
struct Dims {
    b: usize,
    d: usize,
    h: usize,
    c: usize,
}

impl Dims {
    /// Matrix-product FLOPs of the forward pass: `2BDH + 2BHC`.
    fn forward_flops(&self) -> u64 {
        let (b, d, h, c) = (self.b as u64, self.d as u64, self.h as u64, self.c as u64);
        2 * b * d * h + 2 * b * h * c
    }

    /// Matrix-product FLOPs of the backward pass: dW2, dH1, dW1 and dX, each as large as one forward
    /// product, so `4BHC + 4BDH`.
    fn backward_flops(&self) -> u64 {
        let (b, d, h, c) = (self.b as u64, self.d as u64, self.h as u64, self.c as u64);
        2 * h * b * c + 2 * b * c * h + 2 * d * b * h + 2 * b * h * d
    }
}

/// `"4×5"`.
fn pair(a: usize, b: usize) -> String {
    let mut s = int(a as i64);
    s.push('×');
    s.push_str(&int(b as i64));
    s
}

/// `"Z1 : B×H = 4×5"`.
fn shape_line(name: &str, symbolic: &str, a: usize, b: usize) -> String {
    let mut s = String::from(name);
    s.push_str(" : ");
    s.push_str(symbolic);
    s.push_str(" = ");
    s.push_str(&pair(a, b));
    s
}

/// `"db1 : H = 5"`.
fn vector_line(name: &str, symbolic: &str, n: usize) -> String {
    let mut s = String::from(name);
    s.push_str(" : ");
    s.push_str(symbolic);
    s.push_str(" = ");
    s.push_str(&int(n as i64));
    s
}

fn activation_formula(a: Activation) -> &'static str {
    match a {
        Activation::Relu => "H1 = relu(Z1)",
        Activation::Tanh => "H1 = tanh(Z1)",
        Activation::Gelu => "H1 = gelu(Z1)",
        Activation::Sigmoid => "H1 = σ(Z1)",
    }
}

/// Column `k` of the graph (0 to 5) in row `r` (0 forward, 1 backward chain, 2 parameter gradients).
fn cell(k: usize, r: usize) -> Rect {
    Rect::new(8.0 + 118.0 * k as f64, 30.0 + 92.0 * r as f64, 112.0, 58.0)
}

/// The point of a curve with the smallest finite relative error (ties go to the smaller step).
fn best_point(curve: &[(f64, f64)]) -> Option<(f64, f64)> {
    curve
        .iter()
        .copied()
        .filter(|(_, r)| r.is_finite())
        .fold(None, |best, (e, r)| match best {
            Some((_, br)) if br <= r => best,
            _ => Some((e, r)),
        })
}

/// The walk's computation: the checker, the check at the chosen ε, and the two sweeps, the chosen scheme's
/// first. At the largest shapes each sweep costs about half the whole render (0.8 ms natively), so the widget
/// is [`Stepped`]: the chosen scheme's sweep in the first animation frame, the other scheme's in the second.
#[derive(Debug)]
pub(crate) struct Walk {
    checker: Option<GradChecker>,
    current: GradCheck,
    chosen_curve: Curve,
    other_curve: Option<Curve>,
}

/// The chosen scheme (from the `difference` parameter) and the other one.
fn schemes(p: &Params) -> (Difference, Difference) {
    if p.str("difference") == "central" {
        (Difference::Central, Difference::Forward)
    } else {
        (Difference::Forward, Difference::Central)
    }
}

/// The problem's shapes as the parameters give them.
fn dims(p: &Params) -> Dims {
    Dims {
        b: p.usize("batch").max(1),
        d: p.usize("d_in").max(1),
        h: p.usize("hidden").max(1),
        c: p.usize("classes").max(1),
    }
}

impl Stepped for BackpropWalk {
    type State = Walk;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> Walk {
        let dims = dims(p);
        let activation = Activation::parse(p.str("activation")).unwrap_or(Activation::Tanh);
        let loss_kind = if p.str("loss") == "ce" {
            Loss::SoftmaxCrossEntropy
        } else {
            Loss::MeanSquaredError
        };
        let problem = TwoLayerProblem::random(
            dims.b,
            dims.d,
            dims.h,
            dims.c,
            activation,
            loss_kind,
            p.usize("seed") as u64,
        );
        // One checker serves every gradient check of the render: the backward pass and the forward
        // intermediates are computed once (see `GradChecker`).
        Walk {
            checker: GradChecker::new(&problem).ok(),
            current: GradCheck {
                rel_error: f64::NAN,
                max_abs_error: f64::NAN,
                worst: String::new(),
            },
            chosen_curve: Vec::new(),
            other_curve: None,
        }
    }

    fn advance(&self, p: &Params, walk: &mut Walk) -> bool {
        let (chosen, other) = schemes(p);
        let log10_eps = p.f64("log10_eps");
        let Some(checker) = walk.checker.as_mut() else {
            walk.other_curve = Some(Vec::new());
            return true;
        };
        if walk.other_curve.is_some() {
            return true;
        }
        if walk.chosen_curve.is_empty() {
            walk.current = checker.check(dlf_engine::math::powf(10f64, log10_eps), chosen);
            walk.chosen_curve = sweep(checker, chosen, &[(log10_eps, walk.current.rel_error)]);
            false
        } else {
            walk.other_curve = Some(sweep(checker, other, &[]));
            true
        }
    }

    fn draw(&self, p: &Params, walk: &Walk) -> Figure {
        let dims = dims(p);
        let activation = Activation::parse(p.str("activation")).unwrap_or(Activation::Tanh);
        let cross_entropy = p.str("loss") == "ce";
        let central = p.str("difference") == "central";
        let log10_eps = p.f64("log10_eps");
        let eps = dlf_engine::math::powf(10f64, log10_eps);
        let current = &walk.current;
        let chosen_curve: &[(f64, f64)] = &walk.chosen_curve;
        // Before the second frame the other scheme's curve is not drawn yet.
        let other_curve: &[(f64, f64)] = walk.other_curve.as_deref().unwrap_or_default();
        let best = best_point(chosen_curve).map(|(e, r)| (dlf_engine::math::powf(10f64, e), r));
        let other_best = best_point(other_curve).map(|(e, r)| (dlf_engine::math::powf(10f64, e), r));
        let (central_curve, forward_curve) = if central {
            (chosen_curve, other_curve)
        } else {
            (other_curve, chosen_curve)
        };
        let checker = walk.checker.as_ref();
        let loss = checker.map_or(f64::NAN, |c| c.trace().loss);

        let mut svg = Svg::new(724.0, 470.0, SPEC.title);
        draw_graph(&mut svg, dims, activation, cross_entropy, loss);
        draw_sweep(
            &mut svg,
            central_curve,
            forward_curve,
            eps,
            current,
            central,
        );
        let svg = svg.finish();

        let scheme = if central { "central" } else { "forward" };
        let mut label = String::from("relative error (");
        label.push_str(scheme);
        label.push_str(", ε = ");
        label.push_str(&sig(eps, 2));
        label.push(')');
        let mut best_label = String::from("best ε of the sweep (");
        best_label.push_str(scheme);
        best_label.push(')');
        let numbers = vec![
            ("loss".to_string(), sig(loss, 4)),
            (label, sci(current.rel_error, 2)),
            ("largest error at".to_string(), current.worst.clone()),
            (
                best_label,
                best.map(|(e, _)| sig(e, 2))
                    .unwrap_or_else(|| "none".to_string()),
            ),
            (
                "forward FLOPs (matmuls)".to_string(),
                int(dims.forward_flops() as i64),
            ),
            (
                "backward FLOPs (matmuls)".to_string(),
                int(dims.backward_flops() as i64),
            ),
        ];

        let description = describe(
            dims,
            activation,
            cross_entropy,
            loss,
            eps,
            scheme,
            current,
            best,
            other_best,
        );
        Figure {
            svg,
            numbers,
            description,
        }
    }
}

fn draw_graph(svg: &mut Svg, dims: Dims, activation: Activation, cross_entropy: bool, loss: f64) {
    let Dims { b, d, h, c } = dims;
    svg.text(
        8.0,
        20.0,
        Anchor::Start,
        "dlf-th",
        "Forward pass, left to right",
    );
    svg.text(
        8.0,
        112.0,
        Anchor::Start,
        "dlf-th",
        "Backward pass, right to left, then into the parameters",
    );
    let mut loss_line = String::from("L = ");
    loss_line.push_str(&sig(loss, 4));
    let out_name = if cross_entropy { "P" } else { "Ŷ" };
    let forward: [(String, &str, String); 6] = [
        (shape_line("X", "B×D", b, d), "input batch", String::new()),
        (
            shape_line("Z1", "B×H", b, h),
            "Z1 = X·W1 + b1",
            "(B×D)(D×H)".to_string(),
        ),
        (
            shape_line("H1", "B×H", b, h),
            activation_formula(activation),
            "element-wise".to_string(),
        ),
        (
            shape_line("Z2", "B×C", b, c),
            "Z2 = H1·W2 + b2",
            "(B×H)(H×C)".to_string(),
        ),
        (
            shape_line(out_name, "B×C", b, c),
            if cross_entropy {
                "P = softmax(Z2)"
            } else {
                "Ŷ = Z2"
            },
            if cross_entropy {
                "row-wise".to_string()
            } else {
                "identity output".to_string()
            },
        ),
        (
            "L : scalar".to_string(),
            if cross_entropy {
                "L = −mean log P[y]"
            } else {
                "L = mean (Ŷ − Y)²"
            },
            loss_line,
        ),
    ];
    for (k, (title, formula, extra)) in forward.iter().enumerate() {
        let lines: Vec<&str> = [title.as_str(), formula, extra.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        svg.labelled_box(cell(k, 0), &lines, "dlf-fbox");
        if k > 0 {
            let (from, to) = (cell(k - 1, 0), cell(k, 0));
            svg.arrow(from.x + from.w, from.cy(), to.x, to.cy());
        }
    }

    // The backward chain sits under the tensors whose gradients it holds.
    let chain: [(usize, String, &str, &str); 4] = [
        (
            3,
            shape_line("dZ2", "B×C", b, c),
            if cross_entropy {
                "dZ2 = (P − Y)/B"
            } else {
                "dZ2 = 2(Ŷ − Y)/(BC)"
            },
            if cross_entropy {
                "Y one-hot"
            } else {
                "element-wise"
            },
        ),
        (
            2,
            shape_line("dH1", "B×H", b, h),
            "dH1 = dZ2·W2ᵀ",
            "(B×C)(C×H)",
        ),
        (
            1,
            shape_line("dZ1", "B×H", b, h),
            "dZ1 = dH1 ⊙ f′(Z1)",
            "element-wise",
        ),
        (
            0,
            shape_line("dX", "B×D", b, d),
            "dX = dZ1·W1ᵀ",
            "(B×H)(H×D)",
        ),
    ];
    for (i, (k, title, formula, extra)) in chain.iter().enumerate() {
        svg.labelled_box(cell(*k, 1), &[title.as_str(), formula, extra], "dlf-box");
        if i > 0 {
            let (from, to) = (cell(*k + 1, 1), cell(*k, 1));
            svg.arrow(from.x, from.cy(), to.x + to.w, to.cy());
        }
    }
    // The loss feeds the first backward box.
    let (l, dz2) = (cell(5, 0), cell(3, 1));
    svg.arrow(l.cx(), l.y + l.h, dz2.x + dz2.w, dz2.cy());

    let params: [(usize, usize, String, &str, &str); 4] = [
        (
            1,
            0,
            shape_line("dW1", "D×H", d, h),
            "dW1 = Xᵀ·dZ1",
            "(D×B)(B×H)",
        ),
        (
            1,
            1,
            vector_line("db1", "H", h),
            "db1 = Σ rows dZ1",
            "sum over B",
        ),
        (
            3,
            2,
            shape_line("dW2", "H×C", h, c),
            "dW2 = H1ᵀ·dZ2",
            "(H×B)(B×C)",
        ),
        (
            3,
            3,
            vector_line("db2", "C", c),
            "db2 = Σ rows dZ2",
            "sum over B",
        ),
    ];
    for (source, k, title, formula, extra) in &params {
        let target = cell(*k, 2);
        svg.labelled_box(target, &[title.as_str(), formula, extra], "dlf-box");
        let from = cell(*source, 1);
        svg.arrow(from.cx(), from.y + from.h, target.cx(), target.y);
    }

    // A key to the shape letters fills the space to the right of the parameter gradients.
    let key_x = cell(4, 1).x + 6.0;
    let key = [
        shape_key("B", b, "examples in the batch"),
        shape_key("D", d, "input features"),
        shape_key("H", h, "hidden units"),
        shape_key("C", c, if cross_entropy { "classes" } else { "outputs" }),
    ];
    svg.text(
        key_x,
        cell(4, 1).y + 74.0,
        Anchor::Start,
        "dlf-th",
        "Shapes",
    );
    for (i, line) in key.iter().enumerate() {
        svg.text(
            key_x,
            cell(4, 1).y + 92.0 + 15.0 * i as f64,
            Anchor::Start,
            "dlf-t",
            line,
        );
    }
}

/// `"B = 4 examples in the batch"`.
fn shape_key(letter: &str, n: usize, what: &str) -> String {
    let mut s = String::from(letter);
    s.push_str(" = ");
    s.push_str(&int(n as i64));
    s.push(' ');
    s.push_str(what);
    s
}

fn draw_sweep(
    svg: &mut Svg,
    central_curve: &[(f64, f64)],
    forward_curve: &[(f64, f64)],
    eps: f64,
    current: &GradCheck,
    central: bool,
) {
    let errors = central_curve
        .iter()
        .chain(forward_curve)
        .map(|&(_, r)| r)
        .chain([current.rel_error]);
    let plot = Plot::new(
        Rect::new(76.0, 330.0, 520.0, 104.0),
        Axis::log10(1e-12, 1e-1, "finite-difference step ε"),
        Axis::fit_log10(errors, "relative error"),
    );
    plot.draw_axes(
        svg,
        "Gradient check: relative error of finite differences against backprop",
    );
    svg.legend(606.0, 350.0, &[("central", fill_class(0))]);
    svg.legend(606.0, 368.0, &[("forward", fill_class(1))]);
    let series = |curve: &[(f64, f64)]| -> Vec<(f64, f64)> {
        curve.iter().map(|&(e, r)| (dlf_engine::math::powf(10f64, e), r)).collect()
    };
    plot.line(svg, &series(central_curve), line_class(0));
    plot.line(svg, &series(forward_curve), line_class(1));
    let mut label = String::from("ε = ");
    label.push_str(&sig(eps, 2));
    plot.vline(svg, eps, &label);
    let mut cls = String::from(fill_class(if central { 0 } else { 1 }));
    cls.push_str(" dlf-pt");
    plot.scatter(svg, &[(eps, current.rel_error)], 4.0, &cls);
}

#[allow(clippy::too_many_arguments)]
fn describe(
    dims: Dims,
    activation: Activation,
    cross_entropy: bool,
    loss: f64,
    eps: f64,
    scheme: &str,
    current: &GradCheck,
    best: Option<(f64, f64)>,
    other_best: Option<(f64, f64)>,
) -> String {
    let Dims { b, d, h, c } = dims;
    let mut s = String::from("Forward: X (");
    s.push_str(&pair(b, d));
    s.push_str(") times W1 (");
    s.push_str(&pair(d, h));
    s.push_str(") plus b1 gives Z1 (");
    s.push_str(&pair(b, h));
    s.push_str("), ");
    s.push_str(activation.name());
    s.push_str(" gives H1, times W2 (");
    s.push_str(&pair(h, c));
    s.push_str(") plus b2 gives Z2 (");
    s.push_str(&pair(b, c));
    s.push_str(if cross_entropy {
        "), and softmax cross-entropy gives the loss "
    } else {
        "), and the mean squared error gives the loss "
    });
    s.push_str(&sig(loss, 4));
    s.push_str(
        ". Backward: dZ2 flows into dW2 = H1ᵀ·dZ2 and dH1 = dZ2·W2ᵀ, then through f′ into dZ1, ",
    );
    s.push_str("which gives dW1 = Xᵀ·dZ1 (");
    s.push_str(&pair(d, h));
    s.push_str(") and dX = dZ1·W1ᵀ. ");
    s.push_str("The ");
    s.push_str(scheme);
    s.push_str(" difference with ε = ");
    s.push_str(&sig(eps, 2));
    s.push_str(" agrees with backprop to a relative error of ");
    s.push_str(&sci(current.rel_error, 2));
    if let Some((e, r)) = best {
        s.push_str("; over ε from 1e-12 to 0.1 its error is smallest, ");
        s.push_str(&sci(r, 2));
        s.push_str(", at ε = ");
        s.push_str(&sig(e, 2));
    }
    if let Some((e, _)) = other_best {
        s.push_str(" (the ");
        s.push_str(if scheme == "central" {
            "forward"
        } else {
            "central"
        });
        s.push_str(" difference is best at ");
        s.push_str(&sig(e, 2));
        s.push(')');
    }
    s.push_str(". Larger steps suffer truncation error, smaller ones round-off.");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_matmul_flops_are_twice_forward() {
        let dims = Dims {
            b: 4,
            d: 3,
            h: 5,
            c: 3,
        };
        // Forward: 2·4·3·5 + 2·4·5·3 = 120 + 120 = 240.
        assert_eq!(dims.forward_flops(), 240);
        assert_eq!(dims.backward_flops(), 480);
    }

    #[test]
    fn best_point_prefers_the_smallest_finite_error() {
        let curve = [(-3.0, 1e-5), (-2.0, 1e-9), (-1.5, 1e-9), (-1.0, f64::NAN)];
        assert_eq!(best_point(&curve), Some((-2.0, 1e-9)));
        assert_eq!(best_point(&[(-1.0, f64::NAN)]), None);
    }

    #[test]
    fn sweep_refines_around_the_minimum_and_merges_extras() {
        let problem =
            TwoLayerProblem::random(2, 2, 3, 2, Activation::Tanh, Loss::SoftmaxCrossEntropy, 1);
        let mut checker = GradChecker::new(&problem).unwrap();
        let curve = sweep(&mut checker, Difference::Central, &[(-6.0, 0.5)]);
        // Twelve decades, two refinements, and the extra point merged into the decade at -6.
        assert_eq!(curve.len(), 14, "{curve:?}");
        assert!(curve.windows(2).all(|w| w[0].0 < w[1].0));
        let (best, _) = best_point(&curve).unwrap();
        // Central differences are most accurate near ε ≈ u^(1/3) ≈ 5e-6, i.e. log10 ε ≈ -5.3; the
        // sweep's resolution is half a decade and round-off depends on the problem, so allow ±1.5.
        assert!((best + 5.3).abs() <= 1.5, "{best}");
    }
}

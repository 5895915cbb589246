//! "Why frameworks fuse log-softmax and cross-entropy": the loss and gradient of a confidently wrong
//! example computed three ways in `f32` or `f64`, over margins from 0.1 to 10⁴, with the places where
//! each way stops producing finite numbers.
//!
//! The example has logits `[M, 0, …, 0]` and its target is the last class, so the wrong class's logit
//! exceeds the target's by the margin `M`. The routes are those of `dlf_engine::lessons::backprop::softmax_stability`:
//! naive (softmax `e^z/Σe^z`, then `−log p_y`, gradient `(−1/p_y)·p_y(e_y − p)` by the chain rule),
//! shifted (the same after subtracting the largest logit), and fused (log-softmax by the log-sum-exp
//! `log p_y = z_y − m − log Σ_j e^{z_j − m}`, gradient `P − Y`). The softmax is Bridle's (1990); the
//! shift and its rounding analysis are in Blanchard, Higham & Higham, "Accurately computing the log-sum-exp
//! and softmax functions", IMA J. Numer. Anal. 41(4), 2021. The exact column is the `f64` closed form
//! `L = M + ln(1 + (C − 1)e^{−M})`, `p_0 = 1/(1 + (C − 1)e^{−M})`.
//!
//! Cost: the curves evaluate every route at 401 margins (at most 10 classes each), and the break points
//! come from the engine's bracketed scan of the 0.01 grid (every 100th point, then the bracket before
//! the first failure: under 900 evaluations per scan). Measured natively with `cargo bench -p dlf-widgets
//! --bench widgets -- softmax`: 0.21 ms at the defaults, 0.28 ms with 10 classes in float32 and 0.43 ms
//! with 10 classes in float64 (the longest scans) — far inside a 16 ms frame.

use dlf_engine::lessons::backprop::softmax_stability::{
    confidently_wrong_exact, confidently_wrong_logits, cross_entropy,
    first_failing_scale_bracketed, log_margins, CrossEntropy, MarginGrid, Part, Precision, Route,
};

use crate::figure::Figure;
use crate::number_format::{fixed, int, sci, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Anchor, Axis, Plot, Rect, Svg};

/// The "Why frameworks fuse log-softmax and cross-entropy" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SoftmaxStability;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "softmax-stability",
    title: "Why frameworks fuse log-softmax and cross-entropy",
    summary: "The loss and gradient of a confidently wrong example computed naively, with the max \
              subtracted, and fused, in float32 or float64: where each stops being finite.",
    params: &[
        ParamSpec::range("log10_margin", "log₁₀ margin M", -1.0..=4.0, 2.0)
            .step(0.05)
            .help("How far the wrong class's logit exceeds the target's, as a power of ten."),
        ParamSpec::range("classes", "Classes C", 2.0..=10.0, 3.0)
            .help("Number of classes; the other wrong classes have logit 0 like the target."),
        ParamSpec::select(
            "precision",
            "Precision",
            &[
                ("float32", "float32"),
                ("float64", "float64"),
            ],
            "float32",
        ).help("The floating-point format every route computes in."),
        ParamSpec::select(
            "highlight",
            "Highlight",
            &[
                ("naive", "naive: softmax, then log"),
                ("shifted", "shifted: max subtracted, then log"),
                ("fused", "fused: log-softmax"),
            ],
            "naive",
        ).help("The route drawn on top, with its non-finite region shaded."),
    ],
    // Ten classes: the longest break-point scans (the shifted loss lasts until M = 745 in float64) and the largest gradient table; at the largest margin every broken route is drawn.
    bench: &[
        BenchCase {
            name: "worst-f64",
            query: "classes=10&precision=float64&log10_margin=4",
        },
        BenchCase {
            name: "worst-f32",
            query: "classes=10&precision=float32&log10_margin=4",
        },
    ],
};

/// Points of each curve, evenly spaced in log10 of the margin over the slider's range.
const CURVE_POINTS: usize = 401;
/// Slider range in log10 of the margin.
const LOG10_LO: f64 = -1.0;
const LOG10_HI: f64 = 4.0;
/// Coarse stride of the bracketed scan: every 100th point of the 0.01 grid, i.e. every whole margin.
const SCAN_STRIDE: u64 = 100;

/// The colour index of each route (`--c1` vermillion, `--c2` green, `--c0` blue).
fn colour(route: Route) -> usize {
    match route {
        Route::Naive => 1,
        Route::Shifted => 2,
        Route::Fused => 0,
    }
}

/// What is still finite in one result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Loss and gradient finite.
    Finite,
    /// Loss finite, some gradient entry not.
    GradientBroken,
    /// The loss is not finite (the gradient never is then, either).
    LossBroken,
}

fn state(r: &CrossEntropy) -> State {
    if !r.loss_finite() {
        State::LossBroken
    } else if !r.grad_finite() {
        State::GradientBroken
    } else {
        State::Finite
    }
}

/// A value for the figure: `sig` for finite numbers, `inf`, `-inf` or `nan` otherwise. NaN is written
/// in lower case, as numpy prints it.
fn value(x: f64, digits: u32) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else {
        sig(x, digits)
    }
}

/// How the non-finite entries of a gradient look: `"nan"` if any entry is NaN, else `"inf"`.
fn broken_kind(grad: &[f64]) -> &'static str {
    if grad.iter().any(|g| g.is_nan()) {
        "nan"
    } else {
        "inf"
    }
}

/// The short label of a broken state, from the values themselves.
fn state_label(r: &CrossEntropy) -> String {
    match state(r) {
        State::Finite => "finite".to_string(),
        State::GradientBroken => {
            let mut s = String::from("gradient ");
            s.push_str(broken_kind(&r.grad));
            s
        }
        State::LossBroken => {
            let mut s = String::from("loss ");
            s.push_str(&value(r.loss, 3));
            s.push_str(", gradient ");
            s.push_str(broken_kind(&r.grad));
            s
        }
    }
}

/// One route evaluated along the curve's margins.
struct Curve {
    route: Route,
    results: Vec<CrossEntropy>,
}

/// A run of equal states along a curve: the index of its first and last point.
struct Run {
    first: usize,
    last: usize,
    state: State,
}

fn runs(results: &[CrossEntropy]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let s = state(r);
        match out.last_mut() {
            Some(run) if run.state == s => run.last = i,
            _ => out.push(Run {
                first: i,
                last: i,
                state: s,
            }),
        }
    }
    out
}

/// The break points of one precision, from the engine's scan of the 0.01 grid.
struct Breaks {
    naive: Option<f64>,
    shifted_gradient: Option<f64>,
    shifted_loss: Option<f64>,
}

fn breaks(precision: Precision, classes: usize) -> Breaks {
    let scan = |route, part| {
        first_failing_scale_bracketed(
            precision,
            route,
            classes,
            part,
            MarginGrid::FINE,
            SCAN_STRIDE,
        )
    };
    Breaks {
        naive: scan(Route::Naive, Part::Either),
        shifted_gradient: scan(Route::Shifted, Part::Gradient),
        shifted_loss: scan(Route::Shifted, Part::Loss),
    }
}

/// `"88.73"`, or `"none up to 10000"`.
fn margin_text(m: Option<f64>) -> String {
    match m {
        Some(m) => fixed(m, 2),
        None => {
            let mut s = String::from("none up to ");
            s.push_str(&int(MarginGrid::FINE.max as i64));
            s
        }
    }
}

/// The largest absolute difference between a gradient and the exact one, or `∞` if it is not finite.
fn grad_error(r: &CrossEntropy, exact: &CrossEntropy) -> f64 {
    if !r.grad_finite() {
        return f64::INFINITY;
    }
    r.grad
        .iter()
        .zip(&exact.grad)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

impl Widget for SoftmaxStability {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let margin = dlf_engine::math::powf(10f64, p.f64("log10_margin"));
        let classes = p.usize("classes").clamp(2, 10);
        let precision = Precision::parse(p.str("precision")).unwrap_or(Precision::F32);
        let highlight = Route::parse(p.str("highlight")).unwrap_or(Route::Naive);
        let target = classes - 1;

        let margins = log_margins(LOG10_LO, LOG10_HI, CURVE_POINTS);
        let run_route = |route: Route, m: f64| -> CrossEntropy {
            let z = confidently_wrong_logits(m, classes);
            // The logits are finite and the target is in range, so the engine cannot refuse them.
            cross_entropy(route, precision, &z, target).unwrap_or(CrossEntropy {
                loss: f64::NAN,
                grad: vec![f64::NAN; classes],
            })
        };
        let curves: Vec<Curve> = Route::ALL
            .iter()
            .map(|&route| Curve {
                route,
                results: margins.iter().map(|&m| run_route(route, m)).collect(),
            })
            .collect();
        let current: Vec<CrossEntropy> = Route::ALL.iter().map(|&r| run_route(r, margin)).collect();
        let exact = confidently_wrong_exact(margin, classes);
        let br = breaks(precision, classes);

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let plot = draw_plot(
            &mut svg, &margins, &curves, &current, margin, precision, highlight,
        );
        draw_strips(&mut svg, &plot, &margins, &curves, margin, highlight);
        draw_table(&mut svg, &current, &exact, margin, precision, highlight);
        let svg = svg.finish();

        let hi_index = Route::ALL.iter().position(|&r| r == highlight).unwrap_or(0);
        let hi_error = grad_error(&current[hi_index], &exact);
        let mut numbers = Vec::with_capacity(8);
        for (route, r) in Route::ALL.iter().zip(&current) {
            let mut label = String::from("loss, ");
            label.push_str(route.name());
            numbers.push((label, value(r.loss, 5)));
        }
        numbers.push((
            "exact loss (f64 closed form)".to_string(),
            sig(exact.loss, 5),
        ));
        let mut label = String::from("naive breaks from M (");
        label.push_str(precision.name());
        label.push(')');
        numbers.push((label, margin_text(br.naive)));
        numbers.push((
            "shifted: gradient breaks from M".to_string(),
            margin_text(br.shifted_gradient),
        ));
        numbers.push((
            "shifted: loss breaks from M".to_string(),
            margin_text(br.shifted_loss),
        ));
        let mut label = String::from("largest gradient error, ");
        label.push_str(highlight.name());
        numbers.push((
            label,
            if hi_error.is_finite() {
                sci(hi_error, 2)
            } else {
                "not finite".to_string()
            },
        ));

        // Whether the fused route stayed finite at every plotted margin: measured, not assumed.
        let fused_first_failure = curves
            .iter()
            .find(|c| c.route == Route::Fused)
            .and_then(|c| c.results.iter().position(|r| state(r) != State::Finite))
            .map(|i| margins[i]);
        let description = describe(
            margin,
            classes,
            precision,
            &current,
            &exact,
            &br,
            fused_first_failure,
        );
        Figure {
            svg,
            numbers,
            description,
        }
    }
}

fn draw_plot(
    svg: &mut Svg,
    margins: &[f64],
    curves: &[Curve],
    current: &[CrossEntropy],
    margin: f64,
    precision: Precision,
    highlight: Route,
) -> Plot {
    let losses = curves
        .iter()
        .flat_map(|c| c.results.iter().map(|r| r.loss))
        .chain(current.iter().map(|r| r.loss));
    let plot = Plot::new(
        Rect::new(64.0, 44.0, 372.0, 196.0),
        Axis::log10(
            dlf_engine::math::powf(10f64, LOG10_LO),
            dlf_engine::math::powf(10f64, LOG10_HI),
            "margin M",
        ),
        Axis::fit_log10(losses, "loss −log p_y"),
    );
    // The highlighted route's non-finite regions, shaded under everything else.
    let f = plot.frame;
    if let Some(curve) = curves.iter().find(|c| c.route == highlight) {
        for run in runs(&curve.results) {
            if run.state == State::Finite {
                continue;
            }
            let (Some(x0), Some(x1)) = (plot.px(margins[run.first]), plot.px(margins[run.last]))
            else {
                continue;
            };
            let opacity = if run.state == State::LossBroken {
                0.28
            } else {
                0.14
            };
            svg.rect_with_opacity(
                Rect::new(x0, f.y, (x1 - x0).max(1.0), f.h),
                fill_class(colour(highlight)),
                opacity,
            );
            // The label starts at the band's left edge (a narrow band's label runs past it, over the
            // next band, whose own label sits one line lower), or ends at the frame's right edge.
            let text = state_label(&curve.results[run.first]);
            let width = 5.4 * text.chars().count() as f64;
            let (tx, anchor) = if x0 + 3.0 + width < f.x + f.w {
                (x0 + 3.0, Anchor::Start)
            } else {
                (f.x + f.w - 3.0, Anchor::End)
            };
            let ty = if run.state == State::LossBroken {
                f.y + f.h - 8.0
            } else {
                f.y + f.h - 22.0
            };
            svg.text(tx, ty, anchor, "dlf-ts", &text);
        }
    }
    let mut title = String::from("Loss of the confidently wrong example, ");
    title.push_str(precision.name());
    plot.draw_axes(svg, &title);
    svg.legend(
        64.0,
        16.0,
        &[
            ("naive: softmax, then log", fill_class(colour(Route::Naive))),
            (
                "shifted: max subtracted first",
                fill_class(colour(Route::Shifted)),
            ),
            ("fused: log-softmax", fill_class(colour(Route::Fused))),
        ],
    );
    // Where routes agree their lines coincide; the highlighted one is drawn last, at full strength.
    for curve in curves.iter().filter(|c| c.route != highlight) {
        let points: Vec<(f64, f64)> = margins
            .iter()
            .zip(&curve.results)
            .map(|(&m, r)| (m, r.loss))
            .collect();
        let mut class = String::from(line_class(colour(curve.route)));
        class.push_str(" dlf-thin");
        plot.line(svg, &points, &class);
    }
    if let Some(curve) = curves.iter().find(|c| c.route == highlight) {
        let points: Vec<(f64, f64)> = margins
            .iter()
            .zip(&curve.results)
            .map(|(&m, r)| (m, r.loss))
            .collect();
        plot.line(svg, &points, line_class(colour(curve.route)));
    }
    let mut label = String::from("M = ");
    label.push_str(&sig(margin, 3));
    plot.vline(svg, margin, &label);
    let mut broken_row = 0.0;
    for (route, r) in Route::ALL.iter().zip(current) {
        let mut cls = String::from(fill_class(colour(*route)));
        cls.push_str(" dlf-pt");
        if r.loss_finite() {
            plot.scatter(svg, &[(margin, r.loss)], 3.5, &cls);
        } else if let Some(x) = plot.px(margin) {
            // An infinite loss has no place on the axis: say so at the top of the marker line.
            let mut text = String::from(route.name());
            text.push_str(": loss ");
            text.push_str(&value(r.loss, 3));
            let anchor = if x > f.x + f.w * 0.7 {
                Anchor::End
            } else {
                Anchor::Start
            };
            let dx = if anchor == Anchor::End { -3.0 } else { 3.0 };
            svg.text(x + dx, f.y + 23.0 + broken_row, anchor, "dlf-ts", &text);
            broken_row += 12.0;
        }
    }
    plot
}

/// One strip per route under the plot, along the same margin axis: pale where the route's loss and
/// gradient are finite, darker where the gradient is not, darkest where the loss is not either.
fn draw_strips(
    svg: &mut Svg,
    plot: &Plot,
    margins: &[f64],
    curves: &[Curve],
    margin: f64,
    highlight: Route,
) {
    let f = plot.frame;
    let top = 284.0;
    let (row, height) = (20.0, 15.0);
    svg.text(
        f.x,
        top - 6.0,
        Anchor::Start,
        "dlf-th",
        "Finite? Pale: yes; darker: gradient not finite; darkest: loss not finite either",
    );
    for (i, curve) in curves.iter().enumerate() {
        let y = top + row * i as f64;
        let label_class = if curve.route == highlight {
            "dlf-th"
        } else {
            "dlf-ts"
        };
        svg.text(
            f.x - 5.0,
            y + 11.0,
            Anchor::End,
            label_class,
            curve.route.name(),
        );
        for run in runs(&curve.results) {
            let x0 = plot.px(margins[run.first]).unwrap_or(f.x);
            // A run ends where the next one starts, or at the frame's right edge.
            let x1 = margins
                .get(run.last + 1)
                .and_then(|&m| plot.px(m))
                .unwrap_or(f.x + f.w);
            let opacity = match run.state {
                State::Finite => 0.2,
                State::GradientBroken => 0.5,
                State::LossBroken => 0.8,
            };
            svg.rect_with_opacity(
                Rect::new(x0, y, (x1 - x0).max(1.0), height),
                fill_class(colour(curve.route)),
                opacity,
            );
            let text = state_label(&curve.results[run.first]);
            if x1 - x0 > 5.4 * text.chars().count() as f64 + 6.0 {
                svg.text(x0 + 3.0, y + 11.0, Anchor::Start, "dlf-ts", &text);
            }
        }
    }
    if let Some(x) = plot.px(margin) {
        svg.line(
            x,
            top - 2.0,
            x,
            top + row * curves.len() as f64 - 3.0,
            "dlf-acc",
        );
    }
}

/// The gradient at the current margin, one column per route and the exact `f64` values.
fn draw_table(
    svg: &mut Svg,
    current: &[CrossEntropy],
    exact: &CrossEntropy,
    margin: f64,
    precision: Precision,
    highlight: Route,
) {
    let x0 = 462.0;
    let label_w = 56.0;
    let col_w = 50.0;
    let classes = exact.grad.len();
    let mut title = String::from("∂L/∂z at M = ");
    title.push_str(&sig(margin, 3));
    title.push_str(", ");
    title.push_str(precision.name());
    svg.text(x0, 37.0, Anchor::Start, "dlf-th", &title);
    let header_y = 56.0;
    let row_y = |i: usize| 72.0 + 15.0 * i as f64;
    let col_x = |j: usize| x0 + label_w + col_w * j as f64;
    let names = ["naive", "shifted", "fused", "exact"];
    for (j, name) in names.iter().enumerate() {
        let class = if j < 3 && Route::ALL[j] == highlight {
            "dlf-th"
        } else {
            "dlf-t"
        };
        svg.text(
            col_x(j) + col_w / 2.0,
            header_y,
            Anchor::Middle,
            class,
            name,
        );
    }
    // Row 0 is the loss, rows 1..=C the gradient entries.
    let mut rows: Vec<(String, Vec<f64>)> = Vec::with_capacity(classes + 1);
    let mut loss_row: Vec<f64> = current.iter().map(|r| r.loss).collect();
    loss_row.push(exact.loss);
    rows.push(("loss".to_string(), loss_row));
    for k in 0..classes {
        let mut label = String::from("z");
        label.push_str(&int(k as i64));
        if k == 0 {
            label.push_str(" wrong");
        } else if k + 1 == classes {
            label.push_str(" target");
        }
        let mut cells: Vec<f64> = current.iter().map(|r| r.grad[k]).collect();
        cells.push(exact.grad[k]);
        rows.push((label, cells));
    }
    for (i, (label, cells)) in rows.iter().enumerate() {
        let y = row_y(i);
        svg.text(x0, y, Anchor::Start, "dlf-ts", label);
        for (j, &v) in cells.iter().enumerate() {
            if !v.is_finite() {
                svg.rect_with_opacity(
                    Rect::new(col_x(j) + 2.0, y - 10.0, col_w - 4.0, 13.0),
                    "dlf-facc",
                    0.35,
                );
            }
            svg.text(
                col_x(j) + col_w / 2.0,
                y,
                Anchor::Middle,
                "dlf-ts",
                &value(v, 3),
            );
        }
        if i == 0 {
            svg.line(x0, y + 4.0, col_x(names.len()), y + 4.0, "dlf-gr");
        }
    }
    // A dashed outline around the highlighted route's column.
    let j = Route::ALL.iter().position(|&r| r == highlight).unwrap_or(0);
    let bottom = row_y(rows.len() - 1) + 5.0;
    svg.rect(
        Rect::new(col_x(j), header_y - 13.0, col_w, bottom - header_y + 13.0),
        "dlf-acc",
    );
    let note_y = bottom + 16.0;
    svg.text(
        x0,
        note_y,
        Anchor::Start,
        "dlf-ts",
        "exact: f64 closed form of P − Y",
    );
    svg.text(
        x0,
        note_y + 13.0,
        Anchor::Start,
        "dlf-ts",
        "nan: 0·∞ or ∞/∞; inf: overflow",
    );
}

/// What happened to one route, in words.
fn route_sentence(route: Route, r: &CrossEntropy, exact: &CrossEntropy) -> String {
    let mut s = String::from(match route {
        Route::Naive => "the naive route (softmax, then log) gives ",
        Route::Shifted => "the shifted route (maximum subtracted, then log) gives ",
        Route::Fused => "the fused log-softmax gives ",
    });
    match state(r) {
        State::Finite => {
            s.push_str("loss ");
            s.push_str(&sig(r.loss, 5));
            let err = grad_error(r, exact);
            if err > 0.0 {
                s.push_str(" and a gradient within ");
                s.push_str(&sci(err, 2));
                s.push_str(" of the exact P − Y");
            } else {
                s.push_str(" and a gradient equal to the exact P − Y");
            }
        }
        State::GradientBroken => {
            s.push_str("loss ");
            s.push_str(&sig(r.loss, 5));
            s.push_str(if broken_kind(&r.grad) == "nan" {
                " but a gradient with infinite and undefined (0·∞) entries, because −1/p_y overflowed"
            } else {
                " but a gradient with infinite entries, because −1/p_y overflowed"
            });
        }
        State::LossBroken => {
            s.push_str("an infinite loss, because p_y is 0, and a gradient that is not a number, ");
            s.push_str("because −1/p_y = −∞ is multiplied by p_y = 0");
        }
    }
    s
}

fn describe(
    margin: f64,
    classes: usize,
    precision: Precision,
    current: &[CrossEntropy],
    exact: &CrossEntropy,
    br: &Breaks,
    fused_first_failure: Option<f64>,
) -> String {
    let mut s = String::from("At margin M = ");
    s.push_str(&sig(margin, 3));
    s.push_str(" (the wrong class's logit is that far above the target's), with ");
    s.push_str(&int(classes as i64));
    s.push_str(" classes in ");
    s.push_str(precision.name());
    s.push_str(": ");
    for (i, (route, r)) in Route::ALL.iter().zip(current).enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(&route_sentence(*route, r, exact));
    }
    s.push_str(". The exact loss is ");
    s.push_str(&sig(exact.loss, 5));
    s.push_str(". Scanning margins in steps of 0.01, the naive route first fails at M = ");
    s.push_str(&margin_text(br.naive));
    s.push_str(", the shifted route's gradient at M = ");
    s.push_str(&margin_text(br.shifted_gradient));
    s.push_str(" and its loss at M = ");
    s.push_str(&margin_text(br.shifted_loss));
    match fused_first_failure {
        None => s.push_str("; the fused route stays finite at every plotted margin up to 10000."),
        Some(m) => {
            s.push_str("; the fused route stops being finite at M = ");
            s.push_str(&sig(m, 4));
            s.push('.');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_params;

    fn render(pairs: &[(&str, &str)]) -> Figure {
        SoftmaxStability.render(&parse_params(&SPEC, pairs).unwrap())
    }

    fn number<'a>(fig: &'a Figure, label: &str) -> &'a str {
        &fig.numbers
            .iter()
            .find(|(l, _)| l.starts_with(label))
            .unwrap_or_else(|| panic!("no number {label}: {:?}", fig.numbers))
            .1
    }

    #[test]
    fn float32_at_margin_100_breaks_naive_and_shifted_gradient() {
        let fig = render(&[]);
        // f32: e^100 overflows (ln f32::MAX ≈ 88.72), so the naive loss is inf; the shifted loss is
        // -ln(subnormal e^-100) ≈ 99.98 (numpy float32 gives 99.98309); the fused loss is 100 + ln(1 + 2e^-100).
        assert_eq!(number(&fig, "loss, naive"), "inf");
        assert!(
            number(&fig, "loss, shifted").starts_with("99.98"),
            "{:?}",
            fig.numbers
        );
        assert_eq!(number(&fig, "loss, fused"), "100");
        assert_eq!(number(&fig, "naive breaks"), "88.73");
        assert_eq!(number(&fig, "shifted: gradient"), "88.73");
        assert_eq!(number(&fig, "shifted: loss"), "103.98");
        assert_eq!(number(&fig, "largest gradient error"), "not finite");
        assert!(
            fig.description.contains("infinite loss"),
            "{}",
            fig.description
        );
        assert!(fig.svg.contains(">nan<") && fig.svg.contains(">inf<"));
    }

    #[test]
    fn float64_holds_at_100_and_breaks_past_709() {
        let fig = render(&[("precision", "float64")]);
        assert_eq!(number(&fig, "loss, naive"), "100");
        assert_eq!(number(&fig, "naive breaks"), "709.79");
        assert_eq!(number(&fig, "shifted: loss"), "745.14");
        // 10^2.9 ≈ 794 is past both thresholds.
        let fig = render(&[("precision", "float64"), ("log10_margin", "2.9")]);
        assert_eq!(number(&fig, "loss, naive"), "inf");
        assert_eq!(number(&fig, "loss, shifted"), "inf");
        assert!(
            number(&fig, "loss, fused").starts_with("794.3"),
            "{:?}",
            fig.numbers
        );
    }

    #[test]
    fn small_margins_agree_everywhere() {
        let fig = render(&[("log10_margin", "-1"), ("highlight", "fused")]);
        // M = 0.1, C = 3: L = 0.1 + ln(1 + 2e^-0.1) = 1.13307 (python3 -c "import math;
        // print(0.1 + math.log(1 + 2*math.exp(-0.1)))" -> 1.133068759949576).
        for route in ["naive", "shifted", "fused"] {
            let mut label = String::from("loss, ");
            label.push_str(route);
            assert_eq!(number(&fig, &label), "1.1331", "{route}");
        }
        let err: f64 = number(&fig, "largest gradient error").parse().unwrap();
        assert!(err < 1e-6, "{err}");
    }
}

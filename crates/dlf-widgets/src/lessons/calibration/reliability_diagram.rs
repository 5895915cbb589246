//! "A reliability diagram with a live temperature": the simulated four-class model of
//! `dlf_engine::lessons::calibration::simulate`, whose logits are the true ones times a known factor `s`,
//! drawn twice (a held-out set that fits the temperature, a test set that is measured). The left panel is
//! the test set's reliability diagram after dividing the logits by the chosen `T`: per bin, the accuracy
//! (bar) against the mean confidence (dot) and the diagonal of perfect calibration. The right panel sweeps
//! `T`: the test ECE and the NLL above its minimum, with the chosen `T`, the fitted `T̂` and the true `s`.
//!
//! Confidences are rounded to 0.01 before binning by default, as a report or an API shows them: the scores
//! then sit on bin edges, and the four binning conventions give different diagrams.
//!
//! Cost: two draws of up to 1 000 examples × 4 classes, the temperature fit (Newton, a handful of NLL
//! evaluations on 4 000 logits), the metrics at T and at T̂, and 9 swept temperatures (one pass each, no
//! probability rows): about 90 000 `exp` calls at the largest sample.

use dlf_engine::lessons::calibration::simulate::{draw, SimConfig};
use dlf_engine::lessons::calibration::{
    fit_temperature, metrics, nll_in_beta, probabilities, reliability, top_label, Binning, Metrics,
    Reduction,
};

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "reliability diagram" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReliabilityDiagram;

static SPEC: WidgetSpec = WidgetSpec {
    id: "reliability-diagram",
    title: "Reliability diagram of a model with a known over-confidence, and a live temperature",
    summary: "A four-class model whose logits are the calibrated ones times s: its reliability diagram, ECE, \
              MCE, NLL, Brier score and accuracy after dividing the logits by T, and the temperature fitted \
              on held-out data.",
    params: &[
        ParamSpec::range("scale", "Over-confidence s", 0.4..=3.0, 1.6)
            .step(0.1)
            .help("The model reports s times the calibrated logits: s > 1 is over-confident, s < 1 under-confident."),
        ParamSpec::range("temperature", "Temperature T", 0.25..=4.0, 1.0)
            .step(0.05)
            .help("Every logit is divided by T before the softmax; T = s undoes the miscalibration."),
        ParamSpec::range("samples", "Examples per set", 200.0..=1000.0, 600.0)
            .step(100.0)
            .help("Size of the held-out set (fits T̂) and of the test set (measured)."),
        ParamSpec::range("bins", "Bins", 5.0..=30.0, 15.0).help("Number of bins of the diagram and the ECE."),
        ParamSpec::select(
            "binning",
            "Binning",
            &[
                ("right-closed", "equal width (lo, hi] (scikit-learn, Guo et al.)"),
                ("left-closed", "equal width [lo, hi) (numpy, netcal)"),
                ("left-closed-own-one", "[lo, hi), 1.0 alone (torchmetrics)"),
                ("equal-mass", "equal mass (quantiles)"),
            ],
            "right-closed",
        )
        .help("Which scores share a bin, and where a score on an edge goes."),
        ParamSpec::toggle("rounded", "Round confidences to 2 decimals", true).help(
            "Bin the confidences as a report or an API shows them, rounded to 0.01: scores then sit on bin \
             edges and the edge conventions disagree.",
        ),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws both data sets."),
    ],
    bench: &[BenchCase {
        name: "worst-1000-samples",
        query: "samples=1000&bins=30&binning=equal-mass",
    }],
};

/// Temperatures swept in the right panel: 9 points log-spaced over [0.25, 4].
const SWEEP: usize = 9;

impl Widget for ReliabilityDiagram {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let s = p.f64("scale");
        let t = p.f64("temperature");
        let n = p.usize("samples");
        let bins = p.usize("bins");
        let binning = Binning::parse(p.str("binning")).unwrap_or(Binning::RightClosed);
        let seed = p.usize("seed") as u64;
        let cfg = SimConfig {
            scale: s,
            ..SimConfig::headline(n, seed)
        };
        let held_out = draw(&cfg);
        let test = draw(&SimConfig {
            seed: seed + 1000,
            ..cfg
        });
        let k = test.classes;
        let fitted = fit_temperature(&held_out.logits, k, &held_out.labels).ok();
        let rounded = p.bool("rounded");
        let measure = |t: f64| measure(&test.logits, k, &test.labels, t, bins, binning, rounded);
        let (m, mean_conf) = measure(t);
        let after = fitted.map(|tf| measure(tf).0);
        let sweep: Vec<(f64, f64, f64)> = (0..SWEEP)
            .map(|i| {
                let ti = 0.25 * dlf_engine::math::powf(16.0, i as f64 / (SWEEP - 1) as f64);
                let (ece, nll) = sweep_point(&test.logits, k, &test.labels, ti, bins, binning, rounded);
                (ti, ece, nll)
            })
            .collect();
        let nll_min = fitted
            .map(|tf| nll_in_beta(&test.logits, k, &test.labels, 1.0 / tf).0)
            .unwrap_or(f64::INFINITY)
            .min(sweep.iter().map(|x| x.2).fold(f64::INFINITY, f64::min));

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, 1.0, "confidence (top-label probability)"),
            Axis::linear(0.0, 1.0, "accuracy in the bin"),
        );
        left.draw_axes(&mut svg, "Reliability diagram (test set)");
        let mut thin = String::from(line_class(1));
        thin.push_str(" dlf-thin");
        left.line(&mut svg, &[(0.0, 0.0), (1.0, 1.0)], &thin);
        let base = left.py(0.0).unwrap_or(0.0);
        let mut dots = Vec::new();
        let largest = m.bins.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
        for b in m.bins.iter().filter(|b| b.count > 0) {
            let (Some(x0), Some(x1), Some(top)) = (left.px(b.lo), left.px(b.hi), left.py(b.accuracy))
            else {
                continue;
            };
            let w = (x1 - x0).max(1.0);
            // Bars are shaded by how many examples the bin holds, so a gap in a near-empty bin reads as noise.
            let opacity = 0.25 + 0.6 * b.count as f64 / largest;
            svg.rect_with_opacity(Rect::new(x0, top, w, base - top), fill_class(0), opacity);
            dots.push((b.confidence, b.accuracy));
            left.line(
                &mut svg,
                &[(b.confidence, b.accuracy), (b.confidence, b.confidence)],
                line_class(1),
            );
        }
        left.scatter(
            &mut svg,
            &dots.iter().map(|&(c, _)| (c, c)).collect::<Vec<_>>(),
            3.0,
            fill_class(1),
        );

        let ece_top = sweep.iter().map(|x| x.1).fold(0.0, f64::max);
        let nll_top = sweep.iter().map(|x| x.2 - nll_min).fold(0.0, f64::max);
        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::log10(0.25, 4.0, "temperature T"),
            Axis::linear(0.0, (ece_top.max(nll_top) * 1.1).max(0.05), "ECE, NLL − min NLL"),
        );
        right.draw_axes(&mut svg, "Test ECE and NLL against T");
        let ece_line: Vec<(f64, f64)> = sweep.iter().map(|x| (x.0, x.1)).collect();
        let nll_line: Vec<(f64, f64)> = sweep.iter().map(|x| (x.0, x.2 - nll_min)).collect();
        right.line(&mut svg, &ece_line, line_class(0));
        right.scatter(&mut svg, &ece_line, 2.5, fill_class(0));
        right.line(&mut svg, &nll_line, line_class(2));
        right.scatter(&mut svg, &nll_line, 2.5, fill_class(2));
        right.vline(&mut svg, t, "T");
        if let Some(tf) = fitted {
            right.vline(&mut svg, tf, "T̂");
        }
        svg.legend(
            64.0,
            16.0,
            &[
                ("bin accuracy", fill_class(0)),
                ("bin confidence", fill_class(1)),
                ("ECE", fill_class(0)),
                ("NLL − min", fill_class(2)),
            ],
        );
        let svg = svg.finish();

        let mut numbers = vec![
            ("over-confidence s".to_string(), sig(s, 3)),
            ("temperature T".to_string(), sig(t, 3)),
            ("accuracy".to_string(), sig(m.accuracy, 3)),
            ("mean confidence".to_string(), sig(mean_conf, 3)),
            ("ECE".to_string(), sig(m.ece, 3)),
            ("MCE".to_string(), sig(m.mce, 3)),
            ("NLL".to_string(), sig(m.nll, 4)),
            ("Brier".to_string(), sig(m.brier, 4)),
            ("test examples".to_string(), int(n as i64)),
        ];
        let mut d = format!(
            "Dividing logits that are {} times too large by T = {} gives accuracy {} at mean confidence {}: \
             ECE {}, MCE {}, NLL {}, Brier {}. ",
            sig(s, 3),
            sig(t, 3),
            sig(m.accuracy, 3),
            sig(mean_conf, 3),
            sig(m.ece, 3),
            sig(m.mce, 3),
            sig(m.nll, 4),
            sig(m.brier, 4)
        );
        match (fitted, after) {
            (Some(tf), Some(a)) => {
                numbers.push(("fitted T̂".to_string(), sig(tf, 3)));
                numbers.push(("ECE at T̂".to_string(), sig(a.ece, 3)));
                numbers.push(("NLL at T̂".to_string(), sig(a.nll, 4)));
                d.push_str(&format!(
                    "The temperature fitted on the held-out set is {} (the truth is {}); at it the test ECE \
                     is {} and the NLL {}.",
                    sig(tf, 3),
                    sig(s, 3),
                    sig(a.ece, 3),
                    sig(a.nll, 4)
                ));
            }
            _ => d.push_str("No finite temperature minimises the held-out NLL."),
        }
        Figure {
            svg,
            numbers,
            description: d,
        }
    }
}

/// The metrics of the test logits at temperature `t`, and the mean confidence. NLL, Brier and accuracy use
/// the exact probabilities; the bins, ECE and MCE use the top-label confidences, rounded to 0.01 when
/// `rounded` (a probability rounded to 0 would make the NLL infinite, so only the binned score is rounded).
fn measure(
    logits: &[f64],
    k: usize,
    labels: &[usize],
    t: f64,
    bins: usize,
    binning: Binning,
    rounded: bool,
) -> (Metrics, f64) {
    let probs = probabilities(logits, k, t);
    let mut m = metrics(&probs, k, labels, bins, binning, Reduction::TopLabel);
    let (mut conf, correct) = top_label(&probs, k, labels);
    let mean_conf = dlf_engine::stats::mean(&conf);
    if rounded {
        for c in conf.iter_mut() {
            *c = (*c * 100.0).round() / 100.0;
        }
        let r = reliability(&conf, &correct, bins, binning);
        m.ece = r.ece;
        m.mce = r.mce;
        m.bins = r.bins;
    }
    (m, mean_conf)
}

/// The ECE and NLL at temperature `t` without building probability rows: per example, the top-label
/// confidence is `1/Σ_k exp((z_k − z_max)/t)` and `−ln p_y = ln Σ_k exp((z_k − z_max)/t) − (z_y − z_max)/t`,
/// one pass with `K` exponentials and one logarithm (the sweep is most of this widget's cost).
fn sweep_point(
    logits: &[f64],
    k: usize,
    labels: &[usize],
    t: f64,
    bins: usize,
    binning: Binning,
    rounded: bool,
) -> (f64, f64) {
    let mut conf = Vec::with_capacity(labels.len());
    let mut correct = Vec::with_capacity(labels.len());
    let mut nll = 0.0;
    for (z, &y) in logits.chunks(k).zip(labels) {
        let top = dlf_engine::lessons::calibration::argmax(z);
        let m = z[top];
        let sum: f64 = z.iter().map(|&v| dlf_engine::math::exp((v - m) / t)).sum();
        let c = 1.0 / sum;
        conf.push(if rounded { (c * 100.0).round() / 100.0 } else { c });
        correct.push(f64::from(u8::from(top == y)));
        nll += dlf_engine::math::ln(sum) - (z[y] - m) / t;
    }
    let r = reliability(&conf, &correct, bins, binning);
    (r.ece, nll / labels.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_params;

    #[test]
    fn the_fitted_temperature_finds_the_scale_and_leaves_accuracy_alone() {
        let fig = ReliabilityDiagram.render(&parse_params(&SPEC, &[("samples", "1000")]).unwrap());
        // s = 1.6; the fitted T from 1 000 held-out examples has a standard error of about 0.07.
        let tf = fig.expect_number("fitted T̂");
        assert!((tf - 1.6).abs() < 0.2, "{tf}");
        assert!(fig.expect_number("ECE at T̂") < fig.expect_number("ECE") / 2.0);
        let at_t = ReliabilityDiagram
            .render(&parse_params(&SPEC, &[("samples", "1000"), ("temperature", "1.6")]).unwrap());
        assert!(
            (at_t.expect_number("accuracy") - fig.expect_number("accuracy")).abs() < 1e-12,
            "temperature must not move accuracy"
        );
    }

    #[test]
    fn over_confidence_shows_as_confidence_above_accuracy() {
        let over = ReliabilityDiagram.render(&parse_params(&SPEC, &[("scale", "2.5")]).unwrap());
        assert!(over.expect_number("mean confidence") > over.expect_number("accuracy") + 0.1);
        let under = ReliabilityDiagram.render(&parse_params(&SPEC, &[("scale", "0.5")]).unwrap());
        assert!(under.expect_number("mean confidence") < under.expect_number("accuracy") - 0.1);
    }
}

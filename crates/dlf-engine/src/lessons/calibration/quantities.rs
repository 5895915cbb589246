//! Quantities of lesson 09 (calibration); names start with `calibration.`.

use crate::error::QuantityError;
use crate::lessons::calibration::ece_noise::{ece_mean_sd, ece_monte_carlo, Scheme};
use crate::lessons::calibration::simulate::{accuracy, draw, SimConfig};
use crate::lessons::calibration::{
    fit_temperature, metrics, murphy_decomposition, nll_in_beta, probabilities, reliability, Binning,
    Metrics, Reduction,
};
use crate::quantities::{one_of, Args, QuantitySpec};
use crate::rng::Rng;

/// Arguments of the simulated model (see [`crate::lessons::calibration::simulate`]).
const SIM_ARGS: &[(&str, &str)] = &[
    ("metric", "ece"),
    ("scale", "1.6"),
    ("temperature", "1"),
    ("signal", "1.45"),
    ("classes", "4"),
    ("n", "10000"),
    ("bins", "15"),
    ("binning", "right-closed"),
    ("reduction", "top-label"),
    ("seed", "2"),
];

/// The lesson's hand-computed case, chosen so that scores sit on the edges of four equal-width bins:
/// `(score, correct)`.
pub(crate) const EDGE_CASE: [(f64, f64); 8] = [
    (0.25, 0.0),
    (0.5, 1.0),
    (0.5, 0.0),
    (0.75, 1.0),
    (1.0, 1.0),
    (0.1, 0.0),
    (0.9, 1.0),
    (0.6, 0.0),
];

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "calibration.sim_metric",
        description: "a metric (accuracy, ece, mce, nll, brier, confidence = mean top-label confidence) of the simulated K-class model whose logits are the true ones times `scale`, after dividing them by `temperature`, on n examples",
        args: SIM_ARGS,
        eval: |a| {
            let cfg = sim_config(a)?;
            let t = a.f64_in("temperature", 0.01, 100.0)?;
            let data = draw(&cfg);
            let m = sim_metrics(a, &data.logits, cfg.classes, &data.labels, t)?;
            pick_metric(a, &m, &data.logits, cfg.classes, &data.labels, t)
        },
    },
    QuantitySpec {
        name: "calibration.sim_fitted_temperature",
        description: "the temperature minimising the NLL of the simulated model on a held-out draw of n examples (seed); the true answer is `scale`",
        args: SIM_ARGS,
        eval: |a| {
            let cfg = sim_config(a)?;
            let data = draw(&cfg);
            fit_temperature(&data.logits, cfg.classes, &data.labels).map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "calibration.sim_after_fit",
        description: "a metric of the simulated model on a fresh test draw (seed + 1) after dividing its logits by the temperature fitted on a held-out draw (seed)",
        args: SIM_ARGS,
        eval: |a| {
            let cfg = sim_config(a)?;
            let held_out = draw(&cfg);
            let t = fit_temperature(&held_out.logits, cfg.classes, &held_out.labels)
                .map_err(|e| a.failed(e))?;
            let test = draw(&SimConfig {
                seed: cfg.seed + 1,
                ..cfg
            });
            let m = sim_metrics(a, &test.logits, cfg.classes, &test.labels, t)?;
            pick_metric(a, &m, &test.logits, cfg.classes, &test.labels, t)
        },
    },
    QuantitySpec {
        name: "calibration.temperature_accuracy_change",
        description: "the largest |accuracy(T) − accuracy(1)| of the simulated model over T in {0.25, 0.5, 2, 4}: zero, because dividing logits by T > 0 keeps every argmax",
        args: SIM_ARGS,
        eval: |a| {
            let cfg = sim_config(a)?;
            let data = draw(&cfg);
            let base = accuracy(&data);
            let mut worst = 0.0f64;
            for t in [0.25, 0.5, 2.0, 4.0] {
                let p = probabilities(&data.logits, cfg.classes, t);
                let m = metrics(&p, cfg.classes, &data.labels, 15, Binning::RightClosed, Reduction::TopLabel);
                worst = worst.max((m.accuracy - base).abs());
            }
            Ok(worst)
        },
    },
    QuantitySpec {
        name: "calibration.nll_min_curvature",
        description: "the smallest second derivative of the simulated model's NLL in β = 1/T over β in [0.05, 5] (41 points): non-negative, so the NLL is convex in 1/T",
        args: SIM_ARGS,
        eval: |a| {
            let cfg = sim_config(a)?;
            let data = draw(&cfg);
            let mut least = f64::INFINITY;
            for i in 0..=40 {
                let beta = 0.05 * crate::math::powf(100.0, i as f64 / 40.0);
                least = least.min(nll_in_beta(&data.logits, cfg.classes, &data.labels, beta).2);
            }
            Ok(least)
        },
    },
    QuantitySpec {
        name: "calibration.edge_case_ece",
        description: "ECE (metric = ece), MCE (mce) or the number of occupied bins (occupied) of the lesson's eight-score hand case in four equal-width bins under a bin-edge convention",
        args: &[("binning", "right-closed"), ("metric", "ece")],
        eval: |a| {
            let binning = binning(a, "binning")?;
            let (s, o): (Vec<f64>, Vec<f64>) = EDGE_CASE.iter().copied().unzip();
            let r = reliability(&s, &o, 4, binning);
            match a.raw("metric").trim() {
                "ece" => Ok(r.ece),
                "mce" => Ok(r.mce),
                "occupied" => Ok(r.bins.iter().filter(|b| b.count > 0).count() as f64),
                _ => Err(a.invalid("metric", "one of ece, mce, occupied".into())),
            }
        },
    },
    QuantitySpec {
        name: "calibration.ece_mc",
        description: "Monte-Carlo mean (stat = mean) or standard deviation (stat = sd) over `reps` data sets of the estimated ECE with n examples, confidences uniform on [1/2, 1], accuracy confidence − gap",
        args: &[
            ("stat", "mean"),
            ("n", "1000"),
            ("bins", "15"),
            ("scheme", "equal-width"),
            ("gap", "0"),
            ("reps", "400"),
            ("seed", "3"),
        ],
        eval: |a| {
            let (n, bins, scheme, gap) = noise_args(a)?;
            let (m, sd) = ece_monte_carlo(
                n,
                bins,
                scheme,
                gap,
                a.usize_in("reps", 2, 5000)?,
                a.seed("seed")?,
            );
            stat(a, m, sd)
        },
    },
    QuantitySpec {
        name: "calibration.ece_formula",
        description: "the normal-approximation mean (stat = mean) or standard deviation (stat = sd) of the estimated ECE: Σ_b w_b E|N(−gap, v_b/(N w_b))| (the folded normal)",
        args: &[
            ("stat", "mean"),
            ("n", "1000"),
            ("bins", "15"),
            ("scheme", "equal-width"),
            ("gap", "0"),
        ],
        eval: |a| {
            let (n, bins, scheme, gap) = noise_args(a)?;
            let (m, sd) = ece_mean_sd(n, bins, scheme, gap);
            stat(a, m, sd)
        },
    },
    QuantitySpec {
        name: "calibration.ece_bias_ratio",
        description: "the calibrated model's expected ECE (normal approximation, equal-mass bins) at (n, bins) divided by that at (n_ref, bins_ref): √(B/N) scaling predicts √((bins/n)/(bins_ref/n_ref))",
        args: &[("n", "1000"), ("bins", "15"), ("n_ref", "4000"), ("bins_ref", "15")],
        eval: |a| {
            let n = a.usize_in("n", 10, 10_000_000)?;
            let b = a.usize_in("bins", 1, 1000)?;
            let nr = a.usize_in("n_ref", 10, 10_000_000)?;
            let br = a.usize_in("bins_ref", 1, 1000)?;
            Ok(ece_mean_sd(n, b, Scheme::EqualMass, 0.0).0 / ece_mean_sd(nr, br, Scheme::EqualMass, 0.0).0)
        },
    },
    QuantitySpec {
        name: "calibration.murphy_residual",
        description: "|Brier − (reliability − resolution + uncertainty)| for 2000 random binary forecasts taking ten distinct values, outcomes drawn from a miscalibrated truth: zero up to rounding (Murphy 1973)",
        args: &[("seed", "4")],
        eval: |a| {
            let (f, o, brier) = murphy_sample(a.seed("seed")?);
            let (rel, res, unc) = murphy_decomposition(&f, &o);
            Ok((brier - (rel - res + unc)).abs())
        },
    },
    QuantitySpec {
        name: "calibration.murphy_term",
        description: "one term (term = brier, reliability, resolution, uncertainty) of Murphy's decomposition for the same 2000 forecasts, whose truth is the forecast squashed towards 1/2 (over-confident forecasts)",
        args: &[("term", "reliability"), ("seed", "4")],
        eval: |a| {
            let (f, o, brier) = murphy_sample(a.seed("seed")?);
            let (rel, res, unc) = murphy_decomposition(&f, &o);
            match a.raw("term").trim() {
                "brier" => Ok(brier),
                "reliability" => Ok(rel),
                "resolution" => Ok(res),
                "uncertainty" => Ok(unc),
                _ => Err(a.invalid("term", "one of brier, reliability, resolution, uncertainty".into())),
            }
        },
    },
];

fn sim_config(a: &Args) -> Result<SimConfig, QuantityError> {
    Ok(SimConfig {
        classes: a.usize_in("classes", 2, 100)?,
        signal: a.f64_in("signal", 0.0, 20.0)?,
        scale: a.f64_in("scale", 0.01, 100.0)?,
        n: a.usize_in("n", 10, 200_000)?,
        seed: a.seed("seed")?,
    })
}

fn binning(a: &Args, arg: &str) -> Result<Binning, QuantityError> {
    Binning::parse(a.raw(arg)).ok_or_else(|| a.invalid(arg, one_of(Binning::ALL.map(Binning::name))))
}

fn sim_metrics(
    a: &Args,
    logits: &[f64],
    classes: usize,
    labels: &[usize],
    t: f64,
) -> Result<Metrics, QuantityError> {
    let reduction = Reduction::parse(a.raw("reduction"))
        .ok_or_else(|| a.invalid("reduction", "top-label or class-wise".into()))?;
    let p = probabilities(logits, classes, t);
    Ok(metrics(
        &p,
        classes,
        labels,
        a.usize_in("bins", 1, 1000)?,
        binning(a, "binning")?,
        reduction,
    ))
}

fn pick_metric(
    a: &Args,
    m: &Metrics,
    logits: &[f64],
    classes: usize,
    labels: &[usize],
    t: f64,
) -> Result<f64, QuantityError> {
    match a.raw("metric").trim() {
        "accuracy" => Ok(m.accuracy),
        "ece" => Ok(m.ece),
        "mce" => Ok(m.mce),
        "nll" => Ok(m.nll),
        "brier" => Ok(m.brier),
        "confidence" => {
            let p = probabilities(logits, classes, t);
            let (conf, _) = crate::lessons::calibration::top_label(&p, classes, labels);
            Ok(crate::stats::mean(&conf))
        }
        _ => Err(a.invalid(
            "metric",
            "one of accuracy, ece, mce, nll, brier, confidence".into(),
        )),
    }
}

fn noise_args(a: &Args) -> Result<(usize, usize, Scheme, f64), QuantityError> {
    let scheme = match a.raw("scheme").trim() {
        "equal-width" => Scheme::EqualWidth,
        "equal-mass" => Scheme::EqualMass,
        _ => return Err(a.invalid("scheme", "equal-width or equal-mass".into())),
    };
    Ok((
        a.usize_in("n", 10, 1_000_000)?,
        a.usize_in("bins", 1, 1000)?,
        scheme,
        a.f64_in("gap", 0.0, 0.5)?,
    ))
}

fn stat(a: &Args, mean: f64, sd: f64) -> Result<f64, QuantityError> {
    match a.raw("stat").trim() {
        "mean" => Ok(mean),
        "sd" => Ok(sd),
        _ => Err(a.invalid("stat", "mean or sd".into())),
    }
}

/// 2000 forecasts `f ∈ {0.05, 0.15, …, 0.95}` with outcomes drawn from the truth `1/2 + 0.6 (f − 1/2)` (an
/// over-confident forecaster), and their Brier score `(1/N) Σ (f − o)²`.
fn murphy_sample(seed: u64) -> (Vec<f64>, Vec<f64>, f64) {
    let mut rng = Rng::new(seed);
    let mut f = Vec::with_capacity(2000);
    let mut o = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let p = 0.05 + 0.1 * rng.below(10) as f64;
        let truth = 0.5 + 0.6 * (p - 0.5);
        f.push(p);
        o.push(if rng.uniform() < truth { 1.0 } else { 0.0 });
    }
    let brier = f.iter().zip(&o).map(|(p, y)| (p - y) * (p - y)).sum::<f64>() / 2000.0;
    (f, o, brier)
}

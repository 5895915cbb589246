//! Calibration (lesson 09): reliability diagrams, the expected and maximum calibration errors under each
//! binning convention libraries use, the proper scoring rules (NLL, Brier), and temperature scaling.
//!
//! A classifier is **calibrated** when `P(Y = Ŷ | confidence = p) = p` for every `p` (top-label calibration,
//! Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017). The binned estimate
//! of the gap is the **expected calibration error** (Naeini, Cooper & Hauskrecht, "Obtaining Well Calibrated
//! Probabilities Using Bayesian Binning", AAAI 2015):
//!
//! `ECE = Σ_b (n_b / N) · |acc_b − conf_b|`, `MCE = max_b |acc_b − conf_b|` over non-empty bins,
//!
//! where `acc_b` is the fraction of bin `b`'s examples that are correct and `conf_b` their mean confidence.
//! Which bin a score on an edge falls into is a convention, and libraries differ ([`Binning`]).
//!
//! **Temperature scaling** (Guo et al. 2017) divides every logit by one `T > 0` fitted by minimising the NLL
//! on held-out data. With `β = 1/T` the NLL `(1/N) Σ_i [logsumexp(β z_i) − β z_{i,y_i}]` is convex in `β`:
//! its second derivative is the mean variance of the logit under `softmax(β z_i)`, which is ≥ 0
//! ([`fit_temperature`]). Dividing by `T > 0` keeps every argmax, so accuracy is unchanged.

use crate::math;

pub mod ece_noise;
mod estimates;
mod quantities;
pub mod simulate;

/// Lesson 09's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "calibration",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};
#[cfg(test)]
mod tests;

/// How scores are assigned to bins. Equal-width edges are `k · (1/K)` for `k = 0..K`, computed exactly as
/// `numpy.linspace(0, 1, K + 1)` computes them (so `3 · 0.1 = 0.30000000000000004` for `K = 10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binning {
    /// Equal width, right-closed `(lo, hi]`, with 0 in the first bin: scikit-learn's `calibration_curve`
    /// (`np.searchsorted(edges[1:-1], p)`, side `left`) and Guo et al.'s reference code
    /// (`conf > lo and conf <= hi`, which leaves an exact 0 out; a top-label confidence is never 0).
    RightClosed,
    /// Equal width, left-closed `[lo, hi)`, with 1 in the last bin: `numpy.histogram`'s rule, used by netcal
    /// (which also clips scores to `[ε, 1 − ε]` first).
    LeftClosed,
    /// Equal width, left-closed `[lo, hi)`, with a score of exactly 1 in an extra bin of its own:
    /// torchmetrics (`torch.bucketize(conf, edges, right=True) − 1` into `K + 1` slots).
    LeftClosedOwnOne,
    /// Equal mass: edges at the `k/K` quantiles of the scores (`numpy.percentile`, linear interpolation),
    /// right-closed as [`Binning::RightClosed`]: scikit-learn's `calibration_curve(strategy="quantile")`; the
    /// adaptive binning of Nixon et al. (2019).
    EqualMass,
}

impl Binning {
    /// Every convention, in the order `--help` lists them.
    pub const ALL: [Binning; 4] = [
        Binning::RightClosed,
        Binning::LeftClosed,
        Binning::LeftClosedOwnOne,
        Binning::EqualMass,
    ];

    /// Parses a canonical name or an alias naming who uses it.
    pub fn parse(s: &str) -> Option<Binning> {
        match s.trim().to_ascii_lowercase().as_str() {
            "right-closed" | "right" | "sklearn" | "guo" => Some(Binning::RightClosed),
            "left-closed" | "left" | "netcal" | "numpy" => Some(Binning::LeftClosed),
            "left-closed-own-one" | "torchmetrics" => Some(Binning::LeftClosedOwnOne),
            "equal-mass" | "quantile" | "adaptive" => Some(Binning::EqualMass),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Binning::RightClosed => "right-closed",
            Binning::LeftClosed => "left-closed",
            Binning::LeftClosedOwnOne => "left-closed-own-one",
            Binning::EqualMass => "equal-mass",
        }
    }
}

/// The `K + 1` equal-width edges `k · (1/K)`, as `numpy.linspace(0, 1, K + 1)` computes them.
pub fn equal_width_edges(bins: usize) -> Vec<f64> {
    let step = 1.0 / bins as f64;
    let mut e: Vec<f64> = (0..=bins).map(|k| k as f64 * step).collect();
    e[bins] = 1.0;
    e
}

/// The `K + 1` equal-mass edges: the `k/K` quantiles of `scores` by linear interpolation between order
/// statistics (`numpy.percentile`'s default), with numpy's interpolation formula (`b − (b − a)(1 − t)` when
/// `t ≥ 1/2`) so that an edge falling on a data point equals it exactly.
pub fn equal_mass_edges(scores: &[f64], bins: usize) -> Vec<f64> {
    let mut sorted = scores.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = sorted.len();
    let step = 1.0 / bins as f64;
    (0..=bins)
        .map(|k| {
            let h = (k as f64 * step) * (n - 1) as f64;
            let lo = (h.floor() as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            let t = h - lo as f64;
            let (a, b) = (sorted[lo], sorted[hi]);
            if t >= 0.5 {
                b - (b - a) * (1.0 - t)
            } else {
                a + (b - a) * t
            }
        })
        .collect()
}

/// The bin of score `p` among `K = edges.len() − 1` bins (`K + 1` slots for
/// [`Binning::LeftClosedOwnOne`], whose last slot holds exactly 1).
pub fn bin_index(p: f64, edges: &[f64], binning: Binning) -> usize {
    let k = edges.len() - 1;
    let inner = &edges[1..k];
    match binning {
        // searchsorted(inner, p, side="left"): the number of inner edges strictly below p.
        Binning::RightClosed | Binning::EqualMass => inner.partition_point(|&e| e < p),
        // The number of inner edges at or below p, so p = 1 stays in the last bin.
        Binning::LeftClosed => inner.partition_point(|&e| e <= p),
        Binning::LeftClosedOwnOne => {
            if p >= edges[k] {
                k
            } else {
                inner.partition_point(|&e| e <= p)
            }
        }
    }
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// How many scores fell in it.
    pub count: usize,
    /// Fraction of them that were correct (positive); 0 when empty.
    pub accuracy: f64,
    /// Their mean score; 0 when empty.
    pub confidence: f64,
}

/// A reliability diagram and the calibration errors read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reliability {
    /// Every bin, empty ones included.
    pub bins: Vec<Bin>,
    /// `Σ_b (n_b/N)|acc_b − conf_b|`.
    pub ece: f64,
    /// `max_b |acc_b − conf_b|` over non-empty bins.
    pub mce: f64,
}

/// Bins `scores` (each in `[0, 1]`) with their 0/1 `outcomes` and reads the ECE and MCE.
///
/// # Panics
/// If the slices differ in length, are empty, or `bins == 0`.
pub fn reliability(scores: &[f64], outcomes: &[f64], bins: usize, binning: Binning) -> Reliability {
    assert!(bins > 0 && !scores.is_empty() && scores.len() == outcomes.len());
    let edges = match binning {
        Binning::EqualMass => equal_mass_edges(scores, bins),
        _ => equal_width_edges(bins),
    };
    let slots = if binning == Binning::LeftClosedOwnOne {
        bins + 1
    } else {
        bins
    };
    let mut count = vec![0usize; slots];
    let mut correct = vec![0.0; slots];
    let mut conf = vec![0.0; slots];
    for (&p, &o) in scores.iter().zip(outcomes) {
        let b = bin_index(p, &edges, binning);
        count[b] += 1;
        correct[b] += o;
        conf[b] += p;
    }
    let n = scores.len() as f64;
    let (mut ece, mut mce) = (0.0, 0.0f64);
    let bins: Vec<Bin> = (0..slots)
        .map(|b| {
            let (lo, hi) = if b < edges.len() - 1 {
                (edges[b], edges[b + 1])
            } else {
                (1.0, 1.0)
            };
            let (accuracy, confidence) = if count[b] > 0 {
                let c = count[b] as f64;
                (correct[b] / c, conf[b] / c)
            } else {
                (0.0, 0.0)
            };
            if count[b] > 0 {
                let gap = (accuracy - confidence).abs();
                ece += count[b] as f64 / n * gap;
                mce = mce.max(gap);
            }
            Bin {
                lo,
                hi,
                count: count[b],
                accuracy,
                confidence,
            }
        })
        .collect();
    Reliability { bins, ece, mce }
}

/// Softmax of `z / t` into `out` (max-subtracted).
pub fn softmax_t(z: &[f64], t: f64, out: &mut [f64]) {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for (o, &v) in out.iter_mut().zip(z) {
        *o = math::exp((v - m) / t);
        s += *o;
    }
    for o in out.iter_mut() {
        *o /= s;
    }
}

/// The index of the largest entry (the first on ties, as `argmax` in numpy and PyTorch).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Which reliability diagram of a multi-class model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// The top label: confidence `max_k p_k`, outcome "the argmax is the label" (Guo et al. 2017).
    TopLabel,
    /// Class-wise: one diagram per class `k` of `p_k` against `1[y = k]`, ECEs averaged over classes
    /// (classwise-ECE, Kull et al. 2019; the static calibration error of Nixon et al. 2019).
    ClassWise,
}

impl Reduction {
    /// Parses `top-label` or `class-wise`.
    pub fn parse(s: &str) -> Option<Reduction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "top-label" | "top" | "confidence" => Some(Reduction::TopLabel),
            "class-wise" | "classwise" => Some(Reduction::ClassWise),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::TopLabel => "top-label",
            Reduction::ClassWise => "class-wise",
        }
    }
}

/// Every metric of a set of probability rows (`n × c`, row-major) against labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Fraction whose argmax is the label.
    pub accuracy: f64,
    /// The top-label (or averaged class-wise) reliability.
    pub ece: f64,
    /// Maximum calibration error (top-label; the largest class's for class-wise).
    pub mce: f64,
    /// The top-label diagram's bins (for class-wise, those of class 0 — the calc prints each class's).
    pub bins: Vec<Bin>,
    /// `−(1/N) Σ ln p_{i, y_i}`.
    pub nll: f64,
    /// `(1/N) Σ_i Σ_k (p_ik − 1[y_i = k])²` (Brier 1950, summed over classes).
    pub brier: f64,
}

/// Top-label confidences and 0/1 correctness of probability rows.
pub fn top_label(probs: &[f64], classes: usize, labels: &[usize]) -> (Vec<f64>, Vec<f64>) {
    probs
        .chunks(classes)
        .zip(labels)
        .map(|(row, &y)| {
            let k = argmax(row);
            (row[k], f64::from(u8::from(k == y)))
        })
        .unzip()
}

/// Accuracy, ECE, MCE, NLL and Brier of probability rows.
pub fn metrics(
    probs: &[f64],
    classes: usize,
    labels: &[usize],
    bins: usize,
    binning: Binning,
    reduction: Reduction,
) -> Metrics {
    let n = labels.len() as f64;
    let (conf, correct) = top_label(probs, classes, labels);
    let accuracy = correct.iter().sum::<f64>() / n;
    let (ece, mce, bins_out) = match reduction {
        Reduction::TopLabel => {
            let r = reliability(&conf, &correct, bins, binning);
            (r.ece, r.mce, r.bins)
        }
        Reduction::ClassWise => {
            let (mut ece, mut mce, mut first) = (0.0, 0.0f64, Vec::new());
            for k in 0..classes {
                let p: Vec<f64> = probs.chunks(classes).map(|row| row[k]).collect();
                let o: Vec<f64> = labels.iter().map(|&y| f64::from(u8::from(y == k))).collect();
                let r = reliability(&p, &o, bins, binning);
                ece += r.ece / classes as f64;
                mce = mce.max(r.mce);
                if k == 0 {
                    first = r.bins;
                }
            }
            (ece, mce, first)
        }
    };
    let mut nll = 0.0;
    let mut brier = 0.0;
    for (row, &y) in probs.chunks(classes).zip(labels) {
        nll -= math::ln(row[y]);
        for (k, &p) in row.iter().enumerate() {
            let t = if k == y { 1.0 } else { 0.0 };
            brier += (p - t) * (p - t);
        }
    }
    Metrics {
        accuracy,
        ece,
        mce,
        bins: bins_out,
        nll: nll / n,
        brier: brier / n,
    }
}

/// NLL of `softmax(β z)` and its first two derivatives in `β = 1/T`:
/// `f(β) = (1/N) Σ_i [logsumexp(β z_i) − β z_{i,y_i}]`, `f′ = (1/N) Σ_i (E_i[z] − z_{i,y_i})`,
/// `f″ = (1/N) Σ_i Var_i[z] ≥ 0`, with `E_i`, `Var_i` under `softmax(β z_i)`.
pub fn nll_in_beta(logits: &[f64], classes: usize, labels: &[usize], beta: f64) -> (f64, f64, f64) {
    let (mut f, mut d1, mut d2) = (0.0, 0.0, 0.0);
    for (z, &y) in logits.chunks(classes).zip(labels) {
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut s, mut sz, mut szz) = (0.0, 0.0, 0.0);
        for &v in z {
            let w = math::exp(beta * (v - m));
            s += w;
            sz += w * v;
            szz += w * v * v;
        }
        let mean = sz / s;
        f += beta * m + math::ln(s) - beta * z[y];
        d1 += mean - z[y];
        d2 += (szz / s - mean * mean).max(0.0);
    }
    let n = labels.len() as f64;
    (f / n, d1 / n, d2 / n)
}

/// Why a temperature could not be fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemperatureError {
    /// The NLL keeps falling as `T → 0`: every label has the largest logit (or ties it), so sharper is better.
    Separable,
    /// The NLL keeps falling as `T → ∞`: the logits carry no information about the labels (or point away).
    Uninformative,
}

impl std::fmt::Display for TemperatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemperatureError::Separable => f.write_str(
                "the NLL keeps falling as T → 0: every label already has the largest logit, so no finite \
                 temperature is optimal",
            ),
            TemperatureError::Uninformative => f.write_str(
                "the NLL keeps falling as T → ∞: the logits do not rank the labels above chance, so the \
                 best temperature is infinite (uniform probabilities)",
            ),
        }
    }
}

/// The smallest and largest `β = 1/T` searched: `T` in `[1e-3, 1e3]`.
const BETA_RANGE: (f64, f64) = (1e-3, 1e3);

/// The temperature minimising the NLL of `softmax(z / T)` (Guo et al. 2017): Newton's method on the convex
/// `f(β)`, `β = 1/T`, safeguarded by bisection on the sign of `f′` inside a bracket.
///
/// # Errors
/// [`TemperatureError`] when the minimum lies outside `T ∈ [1e-3, 1e3]`.
pub fn fit_temperature(
    logits: &[f64],
    classes: usize,
    labels: &[usize],
) -> Result<f64, TemperatureError> {
    let (mut lo, mut hi) = BETA_RANGE;
    // A derivative that is not negative at the flattest end means the NLL never falls by sharpening
    // (constant logits land here too); one that is not positive at the sharpest end means it never rises.
    if nll_in_beta(logits, classes, labels, lo).1 >= 0.0 {
        return Err(TemperatureError::Uninformative);
    }
    if nll_in_beta(logits, classes, labels, hi).1 <= 0.0 {
        return Err(TemperatureError::Separable);
    }
    let mut beta = 1.0;
    for _ in 0..100 {
        let (_, d1, d2) = nll_in_beta(logits, classes, labels, beta);
        // A Newton step below 1e-11·β is rounding noise (the sums behind f′ carry about 1e-15 per term):
        // converged. Checking this before the bracket matters: at the optimum f′ is ±1e-17, and a step that
        // lands a hair outside the bracket must not trigger a bisection back to the bracket's middle.
        if d2 > 0.0 && (d1 / d2).abs() <= 1e-11 * beta {
            beta -= d1 / d2;
            break;
        }
        if d1 > 0.0 {
            hi = beta;
        } else {
            lo = beta;
        }
        let newton = beta - d1 / d2;
        beta = if d2 > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
    }
    Ok(1.0 / beta)
}

/// Applies temperature `t` to logit rows, returning probability rows.
pub fn probabilities(logits: &[f64], classes: usize, t: f64) -> Vec<f64> {
    let mut out = vec![0.0; logits.len()];
    for (z, p) in logits.chunks(classes).zip(out.chunks_mut(classes)) {
        softmax_t(z, t, p);
    }
    out
}

/// Murphy's (1973) decomposition of the binary Brier score over the distinct forecast values:
/// `Brier = REL − RES + UNC` with `REL = Σ_f (n_f/N)(f − ō_f)²`, `RES = Σ_f (n_f/N)(ō_f − ō)²`,
/// `UNC = ō(1 − ō)`. Exact when forecasts are grouped by their distinct values, as here.
pub fn murphy_decomposition(forecasts: &[f64], outcomes: &[f64]) -> (f64, f64, f64) {
    let n = forecasts.len() as f64;
    let base = outcomes.iter().sum::<f64>() / n;
    let mut order: Vec<usize> = (0..forecasts.len()).collect();
    order.sort_by(|&a, &b| forecasts[a].total_cmp(&forecasts[b]));
    let (mut rel, mut res) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let f = forecasts[order[i]];
        let mut j = i;
        let mut hits = 0.0;
        while j < order.len() && forecasts[order[j]] == f {
            hits += outcomes[order[j]];
            j += 1;
        }
        let nf = (j - i) as f64;
        let o = hits / nf;
        rel += nf / n * (f - o) * (f - o);
        res += nf / n * (o - base) * (o - base);
        i = j;
    }
    (rel, res, base * (1.0 - base))
}

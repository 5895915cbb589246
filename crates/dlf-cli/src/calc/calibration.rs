//! `dlf calc calibration`: probabilities (or logits) and labels in; accuracy, the reliability diagram's bins,
//! ECE and MCE under a chosen binning convention, NLL and Brier, and the temperature that minimises the NLL
//! with every metric before and after (lesson 09). The metrics and the fit are the engine's
//! (`dlf_engine::lessons::calibration`); where libraries differ the choice is a command-line option.

use anyhow::{bail, Result};
use dlf_engine::lessons::calibration::{
    fit_temperature, metrics, probabilities, reliability, Bin, Binning, Reduction,
};
use dlf_engine::math;
use serde::Serialize;

use super::{check_finite, given, named, Given, Numbers, Pairs, Quantity, Scalar, Topic, Uses};

/// `dlf calc calibration`.
#[derive(Debug)]
pub struct Calibration;

/// Options of `dlf calc calibration`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Which scores share a bin and where a score on an edge goes: right-closed (scikit-learn, Guo et al.;
    /// the default), left-closed (numpy.histogram, netcal), left-closed-own-one (torchmetrics) or equal-mass
    /// (scikit-learn's strategy="quantile").
    #[arg(long, value_parser = named::<Binning>())]
    pub binning: Option<Binning>,
    /// For class-probability rows: top-label (the default; Guo et al.) or class-wise (the mean of the
    /// per-class ECEs; Kull et al. 2019).
    #[arg(long, value_parser = named::<Reduction>())]
    pub reliability: Option<Reduction>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--binning", self.binning.is_some()),
            ("--reliability", self.reliability.is_some()),
        ])
    }
}

problem! {
    /// A calibration problem as the learner writes it.
    pub struct Problem {
        required {
            labels: Vec<f64>,
        }
        optional {
            probs: Numbers,
            logits: Numbers,
            bins: f64,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin and prints the accuracy, the reliability diagram's bins, ECE, MCE, NLL and
Brier score, then fits a temperature on the same data and prints every metric again after it.

Input (exactly one of probs and logits):
  labels   N class indices (0 or 1 for a binary problem)
  probs    N×C rows of class probabilities (each row sums to 1), or N numbers: P(y = 1) of a binary model
  logits   N×C rows of logits (softmax), or N numbers: binary logits (sigmoid)
  bins     number of bins, default 15 (Guo et al.'s code and torchmetrics; scikit-learn's default is 5)

Reliability (--reliability, for C-column rows):
  top-label   confidence max_k p_k, correct when argmax_k p_k = label (first index on ties)   (Guo et al. 2017)
  class-wise  one diagram per class k of p_k against 1[y = k]; ECE = mean over classes, MCE = max
              (Kull et al. 2019)
  A binary problem (a flat array) bins P(y = 1) against y, as scikit-learn's calibration_curve does;
  it predicts 1 when P(y = 1) > 0.5.

Metrics:
  ECE = Σ_b (n_b/N)|acc_b − conf_b|, MCE = max over non-empty bins |acc_b − conf_b|   (Naeini et al. 2015)
  NLL = −(1/N) Σ ln p_{i,y_i}   (natural log)
  Brier = (1/N) Σ_i Σ_k (p_ik − 1[y_i = k])² for rows (Brier 1950); (1/N) Σ (p_i − y_i)² for a binary
          problem (scikit-learn's brier_score_loss: half the two-column sum)
  temperature: T minimising the NLL of softmax(z/T) (sigmoid(z/T)), Newton's method on β = 1/T, where the
          NLL is convex (Guo et al. 2017); probabilities are turned into logits z = ln p first. Fitted on the
          problem's own data: in practice fit on a held-out set and measure on another.

Binning (--binning); equal-width edges are k·(1/K) as numpy.linspace(0, 1, K + 1) computes them:
  right-closed         (lo, hi], 0 in the first bin: scikit-learn calibration_curve (np.searchsorted on the
                       inner edges); Guo et al.'s reference code (gpleiss/temperature_scaling)
  left-closed          [lo, hi), 1 in the last bin: numpy.histogram's rule, netcal
  left-closed-own-one  [lo, hi), a score of exactly 1 in an extra bin of its own: torchmetrics
                       (torch.bucketize(..., right=True) − 1 into K + 1 slots)
  equal-mass           edges at the k/K quantiles of the scores (numpy.percentile, linear), right-closed:
                       scikit-learn calibration_curve(strategy=\"quantile\")

Output: {\"topic\", \"conventions\", \"n\", \"classes\", \"before\": {accuracy, ece, mce, nll, brier, bins: [{class,
lo, hi, count, accuracy, confidence}]}, \"temperature\": {fitted, after: {...}} or \"temperature_note\"}. Empty
bins are listed with accuracy and confidence 0 and do not count in the ECE or MCE.

Example:
  echo '{\"probs\":[0.25,0.5,0.5,0.75,1,0.1,0.9,0.6],\"labels\":[0,1,0,1,1,0,1,0],\"bins\":4}' | dlf calc calibration";

/// Everything printed, in this order.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    conventions: Pairs,
    n: usize,
    classes: usize,
    before: Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<Fit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature_note: Option<String>,
}

#[derive(Debug, Serialize)]
struct Fit {
    fitted: f64,
    after: Report,
}

#[derive(Debug, Serialize)]
struct Report {
    accuracy: f64,
    ece: f64,
    mce: f64,
    nll: f64,
    brier: f64,
    bins: Vec<Table>,
}

/// One reliability diagram, one line per column.
#[derive(Debug, Serialize)]
struct Table {
    #[serde(skip_serializing_if = "Option::is_none")]
    class: Option<usize>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    count: Vec<usize>,
    accuracy: Vec<f64>,
    confidence: Vec<f64>,
}

impl Table {
    fn new(class: Option<usize>, bins: &[Bin]) -> Table {
        Table {
            class,
            lo: bins.iter().map(|b| b.lo).collect(),
            hi: bins.iter().map(|b| b.hi).collect(),
            count: bins.iter().map(|b| b.count).collect(),
            accuracy: bins.iter().map(|b| b.accuracy).collect(),
            confidence: bins.iter().map(|b| b.confidence).collect(),
        }
    }
}

/// The scores as the engine takes them: logit rows, and whether the problem is binary.
struct Scores {
    logits: Vec<f64>,
    classes: usize,
    binary: bool,
    /// Probabilities as given (kept exact: converting to logits and back would round them).
    probs: Option<Vec<f64>>,
}

fn read_scores(raw_probs: Option<Numbers>, raw_logits: Option<Numbers>, n: usize) -> Result<Scores> {
    let (numbers, is_probs, name) = match (raw_probs, raw_logits) {
        (Some(p), None) => (p, true, "probs"),
        (None, Some(z)) => (z, false, "logits"),
        (Some(_), Some(_)) => bail!("give probs or logits, not both"),
        (None, None) => bail!("the problem needs probs (probabilities) or logits"),
    };
    let (values, classes, binary) = match numbers.flat() {
        Ok(v) => (v, 2, true),
        Err(rows) => {
            let m = rows.matrix(name)?;
            if m.cols() < 2 {
                bail!("{name} has one column: give a flat array for a binary problem, or C ≥ 2 columns");
            }
            let c = m.cols();
            (m.data().to_vec(), c, false)
        }
    };
    let rows = if binary { values.len() } else { values.len() / classes };
    if rows != n {
        bail!("{name} has {rows} rows but labels has {n} entries");
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        bail!("{name} entry {i} is not a finite number");
    }
    if !is_probs {
        let logits = if binary {
            values.iter().flat_map(|&z| [0.0, z]).collect()
        } else {
            values
        };
        return Ok(Scores {
            logits,
            classes,
            binary,
            probs: None,
        });
    }
    if let Some(i) = values.iter().position(|v| !(0.0..=1.0).contains(v)) {
        bail!("probs entry {i} is {}, outside [0, 1]", values[i]);
    }
    let probs: Vec<f64> = if binary {
        values.iter().flat_map(|&p| [1.0 - p, p]).collect()
    } else {
        for (r, row) in values.chunks(classes).enumerate() {
            let s: f64 = row.iter().sum();
            if (s - 1.0).abs() > 1e-6 {
                bail!("probs row {r} sums to {s}, not 1 (within 1e-6): give probabilities, or logits");
            }
        }
        values.clone()
    };
    let logits = probs.iter().map(|&p| math::ln(p)).collect();
    Ok(Scores {
        logits,
        classes,
        binary,
        probs: Some(if binary { values } else { probs }),
    })
}

/// The metrics of probabilities: rows of `classes` columns, or (binary) P(y = 1) per example.
fn report(
    probs: &[f64],
    s: &Scores,
    labels: &[usize],
    bins: usize,
    binning: Binning,
    reduction: Reduction,
) -> Report {
    if s.binary {
        let y: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
        let r = reliability(probs, &y, bins, binning);
        let n = labels.len() as f64;
        let accuracy = probs
            .iter()
            .zip(labels)
            .filter(|(&p, &l)| usize::from(p > 0.5) == l)
            .count() as f64
            / n;
        let nll = -probs
            .iter()
            .zip(labels)
            .map(|(&p, &l)| math::ln(if l == 1 { p } else { 1.0 - p }))
            .sum::<f64>()
            / n;
        let brier = probs.iter().zip(&y).map(|(p, y)| (p - y) * (p - y)).sum::<f64>() / n;
        return Report {
            accuracy,
            ece: r.ece,
            mce: r.mce,
            nll,
            brier,
            bins: vec![Table::new(None, &r.bins)],
        };
    }
    let c = s.classes;
    let m = metrics(probs, c, labels, bins, binning, reduction);
    let tables = match reduction {
        Reduction::TopLabel => vec![Table::new(None, &m.bins)],
        Reduction::ClassWise => (0..c)
            .map(|k| {
                let p: Vec<f64> = probs.chunks(c).map(|row| row[k]).collect();
                let o: Vec<f64> = labels.iter().map(|&y| f64::from(u8::from(y == k))).collect();
                Table::new(Some(k), &reliability(&p, &o, bins, binning).bins)
            })
            .collect(),
    };
    Report {
        accuracy: m.accuracy,
        ece: m.ece,
        mce: m.mce,
        nll: m.nll,
        brier: m.brier,
        bins: tables,
    }
}

fn check(step: &str, r: &Report, labels: &[usize], probs: &[f64], s: &Scores) -> Result<()> {
    check_finite(
        Calibration::NAME,
        step,
        &[Quantity::scalar("nll", &r.nll, "−mean ln p_label")],
        |_, _| {
            let i = (0..labels.len()).find(|&i| {
                let p = if s.binary {
                    if labels[i] == 1 {
                        probs[i]
                    } else {
                        1.0 - probs[i]
                    }
                } else {
                    probs[i * s.classes + labels[i]]
                };
                p == 0.0
            })?;
            Some(format!(
                "example {i} gives its label probability 0, so −ln p = ∞: a model that is ever certain and \
                 wrong has infinite log loss"
            ))
        },
    )
}

impl Topic for Calibration {
    const NAME: &'static str = "calibration";
    const ABOUT: &'static str =
        "Reliability bins, ECE, MCE, NLL, Brier and a fitted temperature of probabilities or logits (lesson 09)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        // A flat array (no inner arrays) is a binary problem.
        let flat = |n: &Option<Numbers>| n.as_ref().is_some_and(|v| v.rows.is_none());
        let binary = flat(&problem.probs) || flat(&problem.logits);
        let mut fields = vec!["probs", "logits", "bins", "--binning"];
        if !binary {
            fields.push("--reliability");
        }
        Uses {
            method: if binary {
                "a binary problem"
            } else {
                "a multi-class problem"
            },
            fields,
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        let binning = options.binning.unwrap_or(Binning::RightClosed);
        let reduction = options.reliability.unwrap_or(Reduction::TopLabel);
        let bins = match raw.bins {
            None => 15,
            Some(b) if b.fract() == 0.0 && (1.0..=10_000.0).contains(&b) => b as usize,
            Some(b) => bail!("bins must be a whole number from 1 to 10000, got {b}"),
        };
        let n = raw.labels.len();
        if n == 0 {
            bail!("labels is empty");
        }
        let s = read_scores(raw.probs, raw.logits, n)?;
        let mut labels = Vec::with_capacity(n);
        for (i, &l) in raw.labels.iter().enumerate() {
            if !(l.fract() == 0.0 && l >= 0.0 && l < s.classes as f64) {
                bail!(
                    "labels[{i}] is {l}: labels are class indices from 0 to {}",
                    s.classes - 1
                );
            }
            labels.push(l as usize);
        }
        let probs_before = match &s.probs {
            Some(p) => p.clone(),
            None => positive_or_rows(&s, 1.0),
        };
        let before = report(&probs_before, &s, &labels, bins, binning, reduction);
        check("before", &before, &labels, &probs_before, &s)?;

        let (temperature, temperature_note) = if s.logits.iter().any(|z| !z.is_finite()) {
            (
                None,
                Some(
                    "not fitted: a probability of exactly 0 or 1 has an infinite logit, which no temperature changes"
                        .to_string(),
                ),
            )
        } else {
            match fit_temperature(&s.logits, s.classes, &labels) {
                Ok(t) => {
                    let p = positive_or_rows(&s, t);
                    let after = report(&p, &s, &labels, bins, binning, reduction);
                    check("after", &after, &labels, &p, &s)?;
                    (Some(Fit { fitted: t, after }), None)
                }
                Err(e) => (None, Some(format!("not fitted: {e}"))),
            }
        };
        let mut conventions = vec![
            ("binning", Scalar::Text(binning.name())),
            ("bins", Scalar::Number(bins as f64)),
        ];
        conventions.push((
            "reliability",
            Scalar::Text(if s.binary {
                "positive-class"
            } else {
                reduction.name()
            }),
        ));
        Ok(Answer {
            topic: Calibration::NAME,
            conventions: Pairs(conventions),
            n,
            classes: s.classes,
            before,
            temperature,
            temperature_note,
        })
    }
}

/// Probabilities at temperature `t`: rows, or P(y = 1) for a binary problem.
fn positive_or_rows(s: &Scores, t: f64) -> Vec<f64> {
    let p = probabilities(&s.logits, s.classes, t);
    if s.binary {
        p.chunks(2).map(|r| r[1]).collect()
    } else {
        p
    }
}

//! A simulated classifier whose miscalibration is a known temperature.
//!
//! Each example has "true" logits `z*_k = σ g_k` with `g_k ~ N(0, 1)` over `K` classes, and its label is
//! drawn from `softmax(z*)`: a model reporting `softmax(z*)` is perfectly calibrated by construction. The
//! simulated model instead reports the logits `z = s · z*`. With `s > 1` every softmax is sharper than the
//! truth (over-confident), with `s < 1` flatter (under-confident), and dividing by the temperature `T = s`
//! recovers the calibrated model exactly, so temperature scaling can be checked against a known answer.
//! The argmax of `z` is that of `z*` for every `s > 0`, so accuracy does not depend on `s`.

use crate::lessons::calibration::{argmax, softmax_t};
use crate::rng::Rng;

/// The simulated model's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// Number of classes `K`.
    pub classes: usize,
    /// Spread `σ` of the true logits: larger is easier (higher accuracy).
    pub signal: f64,
    /// The over-confidence factor `s` the model multiplies its logits by (the temperature that undoes it).
    pub scale: f64,
    /// Number of examples.
    pub n: usize,
    /// Seed of the draw.
    pub seed: u64,
}

impl SimConfig {
    /// The lesson's running example: four classes, σ = 1.45 (about 60 % accuracy), logits scaled by 1.6.
    pub fn headline(n: usize, seed: u64) -> SimConfig {
        SimConfig {
            classes: 4,
            signal: 1.45,
            scale: 1.6,
            n,
            seed,
        }
    }
}

/// A draw: the model's logits (`n × K`, row-major) and the labels.
#[derive(Debug, Clone, PartialEq)]
pub struct SimData {
    /// The model's reported logits `s · z*`.
    pub logits: Vec<f64>,
    /// Labels drawn from `softmax(z*)`.
    pub labels: Vec<usize>,
    /// Number of classes.
    pub classes: usize,
}

/// Draws `n` examples of the simulated model.
pub fn draw(cfg: &SimConfig) -> SimData {
    let k = cfg.classes;
    let mut rng = Rng::new(cfg.seed);
    let mut logits = vec![0.0; cfg.n * k];
    let mut labels = Vec::with_capacity(cfg.n);
    let mut p = vec![0.0; k];
    for row in logits.chunks_mut(k) {
        for v in row.iter_mut() {
            *v = cfg.signal * rng.normal();
        }
        softmax_t(row, 1.0, &mut p);
        let u = rng.uniform();
        let mut acc = 0.0;
        let mut y = k - 1;
        for (c, &pc) in p.iter().enumerate() {
            acc += pc;
            if u < acc {
                y = c;
                break;
            }
        }
        labels.push(y);
        for v in row.iter_mut() {
            *v *= cfg.scale;
        }
    }
    SimData {
        logits,
        labels,
        classes: k,
    }
}

/// Fraction of examples whose largest logit is the label.
pub fn accuracy(data: &SimData) -> f64 {
    let hits = data
        .logits
        .chunks(data.classes)
        .zip(&data.labels)
        .filter(|(z, &y)| argmax(z) == y)
        .count();
    hits as f64 / data.labels.len() as f64
}

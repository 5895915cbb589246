//! Softmax cross-entropy in floating point: why frameworks fuse the log-softmax with the loss.
//!
//! For logits `z ∈ R^C` and a target class `y`, the softmax (Bridle, "Probabilistic interpretation of
//! feedforward classification network outputs", 1990) is `p_k = e^{z_k} / Σ_j e^{z_j}`, the cross-entropy
//! is `L = −log p_y`, and its gradient is `∂L/∂z_k = p_k − δ_yk` (`P − Y`). This module computes the loss
//! and the gradient by three routes, each in `f32` or `f64` (generic over [`Real`]):
//!
//! 1. [`Route::Naive`] — softmax first, `p_k = e^{z_k} / Σ_j e^{z_j}`, then `L = −log p_y`, and the
//!    gradient by the chain rule exactly as lesson 01 derives it: the log's upstream factor `a = −1/p_y`
//!    is computed first, then multiplied by the softmax Jacobian's row `p_y(δ_yk − p_k)`, so
//!    `g_k = a · (p_y · (δ_yk − p_k))`. Once `e^{z_k}` overflows, the sum is `∞`, `p_y = 1/∞ = 0`, the loss
//!    is `∞`, and `a · 0 = −∞ · 0` is NaN.
//! 2. [`Route::Shifted`] — the same, but with the maximum `m = max_j z_j` subtracted first:
//!    `p_k = e^{z_k − m} / Σ_j e^{z_j − m}`. No exponent is positive, so nothing overflows, but a
//!    confidently wrong example still has `p_y = e^{z_y − m}/…` that underflows to `0`: `L = −log 0 = ∞`.
//!    Before that, `p_y` is a tiny (subnormal) number whose reciprocal `−1/p_y` already overflows, so the
//!    gradient is `±∞` while the loss is still finite.
//! 3. [`Route::Fused`] — log-softmax and loss in one step: `log p_y = z_y − m − log Σ_j e^{z_j − m}`
//!    (every exponent `≤ 0`, and the sum is at least `1` because it contains `e^0`), `L = −log p_y`, and
//!    the gradient `P − Y` written directly, with `P_k = exp(log p_k)`. Nothing in it can overflow,
//!    underflow harmfully, or divide by zero for finite logits.
//!
//! The shift `m` is the standard log-sum-exp rewriting; its rounding errors are analysed by Blanchard,
//! Higham & Higham, "Accurately computing the log-sum-exp and softmax functions", IMA Journal of Numerical
//! Analysis 41(4), 2021, who also tabulate where `e^x` overflows: for `x > log r_max`, i.e.
//! `ln(f32::MAX) ≈ 88.72` in single and `ln(f64::MAX) ≈ 709.78` in double precision (IEEE 754-2019).
//!
//! [`first_failing_scale`] scans the margin `M` of a confidently wrong example — logits `[M, 0, …, 0]`
//! with the target the last class, so the target's logit is `M` below the wrong class's — on a fine grid
//! and reports the first margin at which a route's loss or gradient is no longer finite.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::error::ShapeError;

/// The floating-point operations the three routes need, implemented for `f32` and `f64`.
pub trait Real:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `−∞`, the start of a running maximum.
    const NEG_INFINITY: Self;
    /// `e^self`, rounded to this precision.
    fn exp(self) -> Self;
    /// The natural logarithm, rounded to this precision.
    fn ln(self) -> Self;
    /// `v` rounded to this precision (to nearest; values beyond the range become `±∞`).
    fn from_f64(v: f64) -> Self;
    /// The value as an `f64` (exact for both implementations).
    fn to_f64(self) -> f64;
}

impl Real for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    const NEG_INFINITY: f32 = f32::NEG_INFINITY;
    fn exp(self) -> f32 {
        crate::math::expf(self)
    }
    fn ln(self) -> f32 {
        crate::math::lnf(self)
    }
    fn from_f64(v: f64) -> f32 {
        // Rounding to the nearest f32 is the point: the f32 routes must see f32 logits.
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    const NEG_INFINITY: f64 = f64::NEG_INFINITY;
    fn exp(self) -> f64 {
        crate::math::exp(self)
    }
    fn ln(self) -> f64 {
        crate::math::ln(self)
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// The floating-point format the loss is computed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// IEEE 754 binary32 (`f32`).
    F32,
    /// IEEE 754 binary64 (`f64`).
    F64,
}

impl Precision {
    /// Both precisions, single first.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::F64];

    /// `"f32"`/`"float32"` or `"f64"`/`"float64"` (case-insensitive).
    pub fn parse(s: &str) -> Option<Precision> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" => Some(Precision::F32),
            "f64" | "float64" => Some(Precision::F64),
            _ => None,
        }
    }

    /// `"float32"` or `"float64"`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "float32",
            Precision::F64 => "float64",
        }
    }

    /// `ln` of the largest finite number: `e^x` overflows for `x` above it (computed in `f64`, where both
    /// values are far from any rounding trouble): `ln(f32::MAX) ≈ 88.7228`, `ln(f64::MAX) ≈ 709.7827`.
    pub fn exp_overflow_threshold(self) -> f64 {
        match self {
            Precision::F32 => crate::math::ln(f64::from(f32::MAX)),
            Precision::F64 => crate::math::ln(f64::MAX),
        }
    }

    /// The `x` below which `e^{−x}` rounds to zero: half the smallest subnormal, `2^−150` for `f32` and
    /// `2^−1075` for `f64`, so `150·ln 2 ≈ 103.97` and `1075·ln 2 ≈ 745.13`.
    pub fn exp_underflow_threshold(self) -> f64 {
        match self {
            Precision::F32 => 150.0 * std::f64::consts::LN_2,
            Precision::F64 => 1075.0 * std::f64::consts::LN_2,
        }
    }
}

/// How the loss and its gradient are evaluated (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Softmax `e^z/Σe^z`, then `−log p_y`, gradient through `−1/p_y` and the softmax Jacobian.
    Naive,
    /// As `Naive`, with the maximum logit subtracted before exponentiating.
    Shifted,
    /// Log-softmax by log-sum-exp and the gradient `P − Y` directly.
    Fused,
}

impl Route {
    /// The three routes, from the most fragile to the fused one.
    pub const ALL: [Route; 3] = [Route::Naive, Route::Shifted, Route::Fused];

    /// `"naive"`, `"shifted"` or `"fused"`.
    pub fn parse(s: &str) -> Option<Route> {
        match s.trim().to_ascii_lowercase().as_str() {
            "naive" => Some(Route::Naive),
            "shifted" => Some(Route::Shifted),
            "fused" => Some(Route::Fused),
            _ => None,
        }
    }

    /// `"naive"`, `"shifted"` or `"fused"`.
    pub fn name(self) -> &'static str {
        match self {
            Route::Naive => "naive",
            Route::Shifted => "shifted",
            Route::Fused => "fused",
        }
    }
}

/// Which part of the result must stay finite for [`first_failing_scale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The loss and every gradient entry.
    Either,
    /// The loss only.
    Loss,
    /// Every gradient entry only.
    Gradient,
}

impl Part {
    /// `"any"`, `"loss"` or `"gradient"`.
    pub fn parse(s: &str) -> Option<Part> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" | "either" => Some(Part::Either),
            "loss" => Some(Part::Loss),
            "gradient" | "grad" => Some(Part::Gradient),
            _ => None,
        }
    }
}

/// The loss and gradient of one route, widened to `f64` (exactly) whatever precision computed them.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossEntropy {
    /// `L = −log p_y`.
    pub loss: f64,
    /// `∂L/∂z`, one entry per logit.
    pub grad: Vec<f64>,
}

impl CrossEntropy {
    /// Whether the loss is a finite number.
    pub fn loss_finite(&self) -> bool {
        self.loss.is_finite()
    }

    /// Whether every gradient entry is a finite number.
    pub fn grad_finite(&self) -> bool {
        self.grad.iter().all(|g| g.is_finite())
    }

    /// Whether the part `part` is finite.
    pub fn finite(&self, part: Part) -> bool {
        match part {
            Part::Either => self.loss_finite() && self.grad_finite(),
            Part::Loss => self.loss_finite(),
            Part::Gradient => self.grad_finite(),
        }
    }
}

/// The softmax probabilities `e^{z_k − s}/Σ_j e^{z_j − s}` written into `p`, for a shift `s` (`0` for the
/// naive route, the maximum for the shifted one); returns `p_y`.
fn softmax_into<F: Real>(z: &[F], shift: F, y: usize, p: &mut [F]) -> F {
    let mut sum = F::ZERO;
    for (pk, &zk) in p.iter_mut().zip(z) {
        *pk = Real::exp(zk - shift);
        sum = sum + *pk;
    }
    for pk in p.iter_mut() {
        *pk = *pk / sum;
    }
    p[y]
}

/// `−log p_y` and the chain-rule gradient `g_k = (−1/p_y) · (p_y (δ_yk − p_k))`, evaluated in that order,
/// from probabilities already in `g` (overwritten with the gradient).
fn log_then_jacobian<F: Real>(py: F, y: usize, g: &mut [F]) -> F {
    let loss = -Real::ln(py);
    // The log's backward factor, computed on its own as an autograd tape would: −1/p_y.
    let upstream = -(F::ONE / py);
    for (k, gk) in g.iter_mut().enumerate() {
        let delta = if k == y { F::ONE } else { F::ZERO };
        // The softmax Jacobian's row y, entry k: ∂p_y/∂z_k = p_y (δ_yk − p_k).
        let jacobian = py * (delta - *gk);
        *gk = upstream * jacobian;
    }
    loss
}

/// Route 1: `p = e^z/Σe^z`, `L = −log p_y`, `g = (−1/p_y)·p_y(e_y − p)`. Writes `∂L/∂z` into `grad` and
/// returns `L`. `z`, `grad` must have the same length and `y < z.len()` (the public
/// [`cross_entropy`] checks this).
pub fn naive<F: Real>(z: &[F], y: usize, grad: &mut [F]) -> F {
    let py = softmax_into(z, F::ZERO, y, grad);
    log_then_jacobian(py, y, grad)
}

/// Route 2: as [`naive`] with `m = max_j z_j` subtracted before exponentiating.
pub fn shifted<F: Real>(z: &[F], y: usize, grad: &mut [F]) -> F {
    let m = max(z);
    let py = softmax_into(z, m, y, grad);
    log_then_jacobian(py, y, grad)
}

/// Route 3: `log p_k = z_k − m − log Σ_j e^{z_j − m}`, `L = −log p_y`, `g = P − Y` with
/// `P_k = exp(log p_k)`.
pub fn fused<F: Real>(z: &[F], y: usize, grad: &mut [F]) -> F {
    let m = max(z);
    let mut sum = F::ZERO;
    for &zk in z {
        sum = sum + Real::exp(zk - m);
    }
    // The sum contains e^{m − m} = 1, so it is at least 1 and its logarithm is finite and ≥ 0.
    let lse = Real::ln(sum);
    for (k, (gk, &zk)) in grad.iter_mut().zip(z).enumerate() {
        let delta = if k == y { F::ONE } else { F::ZERO };
        *gk = Real::exp(zk - m - lse) - delta;
    }
    -(z[y] - m - lse)
}

fn max<F: Real>(z: &[F]) -> F {
    z.iter()
        .copied()
        .fold(F::NEG_INFINITY, |a, b| if b > a { b } else { a })
}

/// Runs `route` in precision `F` on `z` (already rounded), with `buf` as the gradient buffer.
fn run_in<F: Real>(route: Route, z: &[F], y: usize, buf: &mut [F]) -> F {
    match route {
        Route::Naive => naive(z, y, buf),
        Route::Shifted => shifted(z, y, buf),
        Route::Fused => fused(z, y, buf),
    }
}

fn checked(logits: &[f64], target: usize) -> Result<(), ShapeError> {
    if logits.is_empty() {
        return Err(ShapeError::Invalid {
            op: "cross_entropy",
            message: "no logits".into(),
        });
    }
    if target >= logits.len() {
        return Err(ShapeError::Invalid {
            op: "cross_entropy",
            message: format!(
                "target class {target} is out of range for {} logits",
                logits.len()
            ),
        });
    }
    if let Some(k) = logits.iter().position(|z| !z.is_finite()) {
        return Err(ShapeError::Invalid {
            op: "cross_entropy",
            message: format!("logit {k} is {} (logits must be finite)", logits[k]),
        });
    }
    Ok(())
}

/// The loss and gradient of `route` for `logits` and class `target`, computed in `precision` (the logits
/// are first rounded to it).
///
/// # Errors
/// [`ShapeError::Invalid`] for no logits, a target out of range, or a non-finite logit.
pub fn cross_entropy(
    route: Route,
    precision: Precision,
    logits: &[f64],
    target: usize,
) -> Result<CrossEntropy, ShapeError> {
    checked(logits, target)?;
    Ok(match precision {
        Precision::F32 => {
            let z: Vec<f32> = logits.iter().map(|&v| f32::from_f64(v)).collect();
            let mut g = vec![0f32; z.len()];
            let loss = run_in(route, &z, target, &mut g);
            CrossEntropy {
                loss: loss.to_f64(),
                grad: g.iter().map(|v| v.to_f64()).collect(),
            }
        }
        Precision::F64 => {
            let mut g = vec![0f64; logits.len()];
            let loss = run_in(route, logits, target, &mut g);
            CrossEntropy { loss, grad: g }
        }
    })
}

/// The logits of a confidently wrong example with margin `margin`: `[margin, 0, …, 0]` over `classes`
/// classes, whose target is the last class (logit 0). Needs `classes ≥ 2`.
pub fn confidently_wrong_logits(margin: f64, classes: usize) -> Vec<f64> {
    let mut z = vec![0.0; classes.max(2)];
    z[0] = margin;
    z
}

/// The exact loss and gradient of the confidently wrong example in `f64`, from closed forms that share no
/// code with the three routes: with `s = 1 + (C − 1)e^{−M}`, `p_0 = 1/s`, every other `p_k = e^{−M}/s`, so
/// `L = M + ln s` (by `ln_1p`) and `g = P − e_{C−1}`.
pub fn confidently_wrong_exact(margin: f64, classes: usize) -> CrossEntropy {
    let c = classes.max(2);
    let tail = (c - 1) as f64 * crate::math::exp(-margin);
    let s = 1.0 + tail;
    let mut grad = vec![crate::math::exp(-margin) / s; c];
    grad[0] = 1.0 / s;
    grad[c - 1] -= 1.0;
    CrossEntropy {
        loss: margin + crate::math::ln_1p(tail),
        grad,
    }
}

/// The grid [`first_failing_scale`] scans: margins `k · step` for `k = 0, 1, …` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginGrid {
    /// Spacing of the margins.
    pub step: f64,
    /// Largest margin scanned.
    pub max: f64,
}

impl MarginGrid {
    /// The grid of the lesson's quantities: margins `0, 0.01, 0.02, …, 10⁴` (a million points). Both
    /// thresholds of interest lie far inside it, and `0.01` resolves them to two decimals.
    pub const FINE: MarginGrid = MarginGrid {
        step: 0.01,
        max: 1e4,
    };

    /// Index of the last grid point.
    fn last(&self) -> u64 {
        // A small allowance keeps `max` itself on the grid when `max / step` rounds just below an integer.
        (self.max / self.step + 1e-9).floor().max(0.0) as u64
    }

    fn margin(&self, k: u64) -> f64 {
        k as f64 * self.step
    }
}

/// A reusable evaluator for the confidently wrong example: buffers allocated once per scan.
struct Prober {
    route: Route,
    precision: Precision,
    target: usize,
    z32: Vec<f32>,
    g32: Vec<f32>,
    z64: Vec<f64>,
    g64: Vec<f64>,
}

impl Prober {
    fn new(route: Route, precision: Precision, classes: usize) -> Prober {
        let c = classes.max(2);
        Prober {
            route,
            precision,
            target: c - 1,
            z32: vec![0.0; c],
            g32: vec![0.0; c],
            z64: vec![0.0; c],
            g64: vec![0.0; c],
        }
    }

    /// Whether `part` of the result at `margin` is finite.
    fn finite(&mut self, margin: f64, part: Part) -> bool {
        fn ok<F: Real>(loss: F, g: &[F], part: Part) -> bool {
            let loss_ok = loss.to_f64().is_finite();
            let grad_ok = g.iter().all(|v| v.to_f64().is_finite());
            match part {
                Part::Either => loss_ok && grad_ok,
                Part::Loss => loss_ok,
                Part::Gradient => grad_ok,
            }
        }
        match self.precision {
            Precision::F32 => {
                self.z32[0] = f32::from_f64(margin);
                let loss = run_in(self.route, &self.z32, self.target, &mut self.g32);
                ok(loss, &self.g32, part)
            }
            Precision::F64 => {
                self.z64[0] = margin;
                let loss = run_in(self.route, &self.z64, self.target, &mut self.g64);
                ok(loss, &self.g64, part)
            }
        }
    }
}

/// The smallest margin on `grid` at which `part` of `route`'s result for the confidently wrong example
/// ([`confidently_wrong_logits`] with `classes` classes) stops being finite in `precision`; `None` if it
/// stays finite over the whole grid. Every grid point is evaluated, in increasing order.
pub fn first_failing_scale(
    precision: Precision,
    route: Route,
    classes: usize,
    part: Part,
    grid: MarginGrid,
) -> Option<f64> {
    let mut probe = Prober::new(route, precision, classes);
    (0..=grid.last())
        .map(|k| grid.margin(k))
        .find(|&m| !probe.finite(m, part))
}

/// [`first_failing_scale`] in two passes: every `stride`-th grid point first, then every point of the
/// bracket before the first coarse failure. It returns the same margin as the full scan whenever failure
/// persists once it starts (true of all three routes here: past an overflow or underflow threshold the
/// exponential stays overflowed or underflowed; the tests compare the two scans), at a fraction of the
/// cost — the widget calls it on every redraw.
pub fn first_failing_scale_bracketed(
    precision: Precision,
    route: Route,
    classes: usize,
    part: Part,
    grid: MarginGrid,
    stride: u64,
) -> Option<f64> {
    let stride = stride.max(1);
    let mut probe = Prober::new(route, precision, classes);
    let last = grid.last();
    let mut prev = 0u64;
    let mut k = 0u64;
    loop {
        if !probe.finite(grid.margin(k), part) {
            let start = if k == 0 { 0 } else { prev + 1 };
            return (start..=k)
                .map(|j| grid.margin(j))
                .find(|&m| !probe.finite(m, part));
        }
        if k == last {
            return None;
        }
        prev = k;
        k = (k + stride).min(last);
    }
}

/// The largest absolute difference between `route`'s gradient in `precision` and the exact `f64` gradient
/// ([`confidently_wrong_exact`]) for the confidently wrong example with this margin and class count;
/// `∞` if the route's gradient is not finite.
pub fn gradient_error(precision: Precision, route: Route, margin: f64, classes: usize) -> f64 {
    let z = confidently_wrong_logits(margin, classes);
    let exact = confidently_wrong_exact(margin, classes);
    match cross_entropy(route, precision, &z, z.len() - 1) {
        Ok(r) if r.grad_finite() => r
            .grad
            .iter()
            .zip(&exact.grad)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max),
        _ => f64::INFINITY,
    }
}

/// Margins `10^t` for `t` evenly spaced over `[log10_lo, log10_hi]` (`points ≥ 2`), increasing.
pub fn log_margins(log10_lo: f64, log10_hi: f64, points: usize) -> Vec<f64> {
    let n = points.max(2);
    (0..n)
        .map(|i| crate::math::powf(10f64, log10_lo + (log10_hi - log10_lo) * i as f64 / (n - 1) as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    // Reference values from numpy 2.4.6 (float32 and float64 scalars), each route written out literally:
    //
    //   import numpy as np
    //   def naive(z, y, t):
    //       z = np.array(z, dtype=t); e = np.exp(z); p = e / e.sum(dtype=t)
    //       a = -t(1) / p[y]; d = np.zeros_like(p); d[y] = 1
    //       return -np.log(p[y]), a * (p[y] * (d - p))
    //   def shifted(z, y, t):
    //       z = np.array(z, dtype=t); e = np.exp(z - z.max()); p = e / e.sum(dtype=t)
    //       a = -t(1) / p[y]; d = np.zeros_like(p); d[y] = 1
    //       return -np.log(p[y]), a * (p[y] * (d - p))
    //   def fused(z, y, t):
    //       z = np.array(z, dtype=t); m = z.max(); lse = np.log(np.exp(z - m).sum(dtype=t))
    //       logp = z - m - lse; d = np.zeros_like(z); d[y] = 1
    //       return -logp[y], np.exp(logp) - d
    //   with np.errstate(all="ignore"):
    //       for f in (naive, shifted, fused):
    //           for t in (np.float32, np.float64):
    //               for z in ([2.0, -1.0, 0.5], [100.0, 0.0, 0.0], [750.0, 0.0, 0.0]):
    //                   l, g = f(z, 2, t); print(f.__name__, t.__name__, z[0], repr(l), g.tolist())

    #[test]
    fn moderate_logits_agree_with_numpy_in_both_precisions() {
        // numpy, every route, z = [2, -1, 0.5], y = 2: loss 1.7413112966571571 (float64), 1.7413113 or
        // 1.7413112 (float32, by route); grad [0.7855970345892758, 0.039112573270687456, -0.8247096078599634]
        // (float64; the float32 gradients agree to within 2e-7).
        let z = [2.0, -1.0, 0.5];
        let loss = 1.741_311_296_657_157_1;
        let grad = [
            0.785_597_034_589_275_8,
            0.039_112_573_270_687_456,
            -0.824_709_607_859_963_4,
        ];
        for route in Route::ALL {
            for (precision, rel, abs) in
                [(Precision::F64, 1e-14, 1e-15), (Precision::F32, 1e-6, 1e-6)]
            {
                let r = cross_entropy(route, precision, &z, 2).unwrap();
                assert!(
                    close(r.loss, loss, rel),
                    "{route:?} {precision:?}: {}",
                    r.loss
                );
                for (g, e) in r.grad.iter().zip(grad) {
                    assert!(
                        (g - e).abs() <= abs,
                        "{route:?} {precision:?}: {:?}",
                        r.grad
                    );
                }
            }
        }
    }

    #[test]
    fn margin_100_breaks_the_f32_routes_but_not_f64() {
        // numpy float32, z = [100, 0, 0], y = 2:
        //   naive:   loss inf,       grad [nan, nan, nan]   (exp(100) = inf in float32)
        //   shifted: loss 99.98309,  grad [inf, nan, -inf]  (exp(-100) rounds to the subnormal 3.78e-44, so the
        //            loss is off by 0.017; -1/p_y overflows to -inf; the middle entry is -inf * (p_y * -p_y),
        //            and p_y * p_y underflows to -0)
        //   fused:   loss 100.0,     grad [1.0, 3.783505853677006e-44, -1.0]
        let z = [100.0, 0.0, 0.0];
        let naive = cross_entropy(Route::Naive, Precision::F32, &z, 2).unwrap();
        assert!(naive.loss.is_infinite() && naive.loss > 0.0);
        assert!(naive.grad.iter().all(|g| g.is_nan()), "{naive:?}");
        let shifted = cross_entropy(Route::Shifted, Precision::F32, &z, 2).unwrap();
        assert!(close(shifted.loss, 99.983_09, 1e-6), "{shifted:?}");
        // +inf, NaN, -inf.
        let g = &shifted.grad;
        assert!(g[0].is_infinite() && g[0] > 0.0 && g[1].is_nan(), "{g:?}");
        assert!(g[2].is_infinite() && g[2] < 0.0, "{g:?}");
        assert!(!shifted.finite(Part::Gradient) && shifted.finite(Part::Loss));
        let fused = cross_entropy(Route::Fused, Precision::F32, &z, 2).unwrap();
        assert!(close(fused.loss, 100.0, 1e-7));
        assert!((fused.grad[0] - 1.0).abs() < 1e-7 && (fused.grad[2] + 1.0).abs() < 1e-7);
        // A subnormal: allow a few of its 1.4e-45 quanta between libm implementations.
        assert!(
            (fused.grad[1] - 3.783_505_853_677_006e-44).abs() < 5e-45,
            "{fused:?}"
        );
        // numpy float64, same logits: every route gives loss 100.0 and grad [1.0, 3.7200759760208356e-44, -1.0]
        // (up to 1 - 1.1e-16 for the shifted route): 3.7e-44 is far above the f64 subnormals.
        for route in Route::ALL {
            let r = cross_entropy(route, Precision::F64, &z, 2).unwrap();
            assert!(close(r.loss, 100.0, 1e-15), "{route:?} {r:?}");
            assert!((r.grad[0] - 1.0).abs() < 1e-15 && (r.grad[2] + 1.0).abs() < 1e-15);
            assert!(
                close(r.grad[1], 3.720_075_976_020_835_6e-44, 1e-12),
                "{route:?} {r:?}"
            );
        }
    }

    #[test]
    fn margin_750_breaks_the_f64_routes_but_not_fused() {
        // numpy float64, z = [750, 0, 0], y = 2: naive loss inf, grad nan everywhere; shifted loss inf
        // (exp(-750) underflows to 0), grad nan everywhere (-inf * 0); fused loss 750.0, grad [1, 0, -1].
        let z = [750.0, 0.0, 0.0];
        for route in [Route::Naive, Route::Shifted] {
            let r = cross_entropy(route, Precision::F64, &z, 2).unwrap();
            assert!(r.loss.is_infinite() && r.loss > 0.0, "{route:?} {r:?}");
            assert!(r.grad.iter().all(|g| g.is_nan()), "{route:?} {r:?}");
        }
        let fused = cross_entropy(Route::Fused, Precision::F64, &z, 2).unwrap();
        assert!((fused.loss - 750.0).abs() < 1e-12, "{fused:?}");
        for (g, e) in fused.grad.iter().zip([1.0, 0.0, -1.0]) {
            assert!((g - e).abs() < 1e-15, "{fused:?}");
        }
    }

    #[test]
    fn thresholds_match_the_formats() {
        // ln(3.4028234663852886e38) = 88.72283905206835, ln(1.7976931348623157e308) = 709.782712893384
        // (python3 -c "import math, numpy as np; print(math.log(np.finfo(np.float32).max), math.log(np.finfo(np.float64).max))").
        assert!((Precision::F32.exp_overflow_threshold() - 88.722_839_052_068_35).abs() < 1e-9);
        assert!((Precision::F64.exp_overflow_threshold() - 709.782_712_893_384).abs() < 1e-9);
        // 150 ln 2 = 103.97207708399179, 1075 ln 2 = 745.1332191019412.
        assert!((Precision::F32.exp_underflow_threshold() - 103.972_077_083_991_79).abs() < 1e-9);
        assert!((Precision::F64.exp_underflow_threshold() - 745.133_219_101_941_2).abs() < 1e-9);
        // The format's own exponential agrees: finite just below, overflowed just above.
        assert!(crate::math::expf(88.72).is_finite() && crate::math::expf(88.73).is_infinite());
        assert!(crate::math::exp(709.78f64).is_finite() && crate::math::exp(709.79f64).is_infinite());
        assert!(crate::math::expf(-103.97) > 0.0 && crate::math::expf(-103.98) == 0.0);
        assert!(crate::math::exp(-745.13f64) > 0.0 && crate::math::exp(-745.14f64) == 0.0);
    }

    #[test]
    fn first_failures_sit_at_the_overflow_and_underflow_thresholds() {
        let grid = MarginGrid::FINE;
        for precision in Precision::ALL {
            let over = precision.exp_overflow_threshold();
            let under = precision.exp_underflow_threshold();
            // Naive: e^M overflows, so the first failing grid point is the first one above ln(MAX).
            let naive =
                first_failing_scale(precision, Route::Naive, 10, Part::Either, grid).unwrap();
            assert!(
                naive > over && naive <= over + grid.step,
                "{precision:?} {naive}"
            );
            // Shifted: −1/p_y overflows once p_y = e^{−M}/… < 1/MAX, i.e. at the same margin …
            let shifted =
                first_failing_scale(precision, Route::Shifted, 10, Part::Either, grid).unwrap();
            assert!(
                (shifted - over).abs() <= grid.step,
                "{precision:?} {shifted}"
            );
            let grad = first_failing_scale(precision, Route::Shifted, 10, Part::Gradient, grid);
            // Both scans return a grid point computed the same way, so equal margins are bitwise equal.
            assert_eq!(grad, Some(shifted));
            // … while the loss stays finite until e^{−M} itself rounds to zero.
            let loss =
                first_failing_scale(precision, Route::Shifted, 10, Part::Loss, grid).unwrap();
            assert!(
                loss > under && loss <= under + grid.step,
                "{precision:?} {loss}"
            );
            // The fused route never fails on the grid.
            assert_eq!(
                first_failing_scale(precision, Route::Fused, 10, Part::Either, grid),
                None
            );
        }
    }

    #[test]
    fn bracketed_scan_equals_the_full_scan() {
        let grid = MarginGrid {
            step: 0.01,
            max: 1000.0,
        };
        for precision in Precision::ALL {
            for route in Route::ALL {
                for part in [Part::Either, Part::Loss, Part::Gradient] {
                    for classes in [2, 3, 10] {
                        let full = first_failing_scale(precision, route, classes, part, grid);
                        // Both return grid points k·step, computed identically: bitwise equality is right.
                        let fast = first_failing_scale_bracketed(
                            precision, route, classes, part, grid, 100,
                        );
                        assert_eq!(full, fast, "{precision:?} {route:?} {part:?} {classes}");
                    }
                }
            }
        }
        // A failure at the very first point is found too.
        let tiny = MarginGrid {
            step: 1.0,
            max: 5.0,
        };
        assert_eq!(
            first_failing_scale_bracketed(Precision::F32, Route::Fused, 2, Part::Either, tiny, 3),
            None
        );
    }

    #[test]
    fn fused_gradient_is_accurate_over_the_whole_range() {
        // Against the closed form, the f64 fused gradient is exact to a few ulps at every margin up to 10^4.
        // In f32 the margin itself is rounded (relative 2^-24 ≈ 6e-8), and log p_k = z_k - m - lse carries
        // an absolute error of a few ulps of |log p_k|, which exp turns into a relative error of p_k: the
        // product p·|log p|·u peaks at u/e, times a few roundings — well under 1e-6.
        for m in log_margins(-1.0, 4.0, 201) {
            let e64 = gradient_error(Precision::F64, Route::Fused, m, 10);
            let e32 = gradient_error(Precision::F32, Route::Fused, m, 10);
            assert!(e64 < 4e-15, "{m}: {e64}");
            assert!(e32 < 1e-6, "{m}: {e32}");
        }
        // The naive route's gradient is as good while it lasts, and infinite-error past the threshold.
        assert!(gradient_error(Precision::F32, Route::Naive, 50.0, 3) < 1e-6);
        assert!(gradient_error(Precision::F32, Route::Naive, 100.0, 3).is_infinite());
    }

    #[test]
    fn closed_form_matches_its_definition() {
        // C = 3, M = 2: s = 1 + 2e^-2, L = 2 + ln s; python3 -c "import math; s=1+2*math.exp(-2);
        // print(2+math.log(s), 1/s, math.exp(-2)/s)" -> 2.2395447662218846 0.7869860421615985 0.10650697891920076
        let e = confidently_wrong_exact(2.0, 3);
        assert!((e.loss - 2.239_544_766_221_884_6).abs() < 1e-15);
        assert!((e.grad[0] - 0.786_986_042_161_598_5).abs() < 1e-15);
        assert!((e.grad[1] - 0.106_506_978_919_200_76).abs() < 1e-15);
        assert!((e.grad[2] - (0.106_506_978_919_200_76 - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(cross_entropy(Route::Fused, Precision::F64, &[], 0).is_err());
        let e = cross_entropy(Route::Fused, Precision::F64, &[1.0, 2.0], 2).unwrap_err();
        assert!(e.to_string().contains("target class 2"), "{e}");
        let e = cross_entropy(Route::Naive, Precision::F32, &[1.0, f64::NAN], 0).unwrap_err();
        assert!(e.to_string().contains("logit 1"), "{e}");
        assert_eq!(Precision::parse("float32"), Some(Precision::F32));
        assert_eq!(Route::parse("Fused"), Some(Route::Fused));
        assert_eq!(Part::parse("grad"), Some(Part::Gradient));
        assert_eq!(Precision::parse("f16"), None);
    }
}

//! One finite-difference gradient checker for the whole engine.
//!
//! [`check`] compares an analytic gradient (from the tape or a hand-written backward pass) with central
//! differences `(f(x + h eᵢ) − f(x − h eᵢ)) / 2h` of a scalar function `f`, entry by entry. In `f64` with
//! `h ≈ 1e-6` the truncation error is `O(h²) ≈ 1e-12` and the rounding error about `ε_mach·|f| / h ≈ 1e-10`,
//! so a correct gradient shows a relative error around `1e-9` or less, while a wrong one (a missing factor,
//! a sign, a transposed product) shows an error of order one.
//!
//! The relative error is `‖a − n‖₂ / (‖a‖₂ + ‖n‖₂)` over all entries (CS231n's "relative error", taken
//! over the whole vector so that entries whose gradient is zero do not divide by zero); the report also
//! names the entry with the largest absolute disagreement.

/// What a finite-difference check found.
#[derive(Debug, Clone, PartialEq)]
pub struct GradReport {
    /// The central-difference gradient, one entry per input.
    pub numeric: Vec<f64>,
    /// `‖analytic − numeric‖₂ / (‖analytic‖₂ + ‖numeric‖₂)` (0 when both are zero).
    pub relative_error: f64,
    /// `max_i |analytic_i − numeric_i|`.
    pub max_abs_error: f64,
    /// The entry where that maximum occurs (0 for an empty input).
    pub worst_index: usize,
}

impl GradReport {
    /// Whether the relative error is below `tol`.
    pub fn passes(&self, tol: f64) -> bool {
        self.relative_error < tol
    }
}

/// Checks `analytic ≈ ∇f(x)` by central differences with step `h` (see the module documentation).
///
/// `f` is evaluated `2·x.len()` times, each time at a copy of `x` with one entry moved by `±h`.
///
/// # Panics
/// If `analytic` and `x` differ in length.
pub fn check(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], analytic: &[f64], h: f64) -> GradReport {
    assert_eq!(
        x.len(),
        analytic.len(),
        "gradcheck: one analytic derivative per input"
    );
    let mut point = x.to_vec();
    let numeric: Vec<f64> = (0..x.len())
        .map(|i| {
            point[i] = x[i] + h;
            let plus = f(&point);
            point[i] = x[i] - h;
            let minus = f(&point);
            point[i] = x[i];
            (plus - minus) / (2.0 * h)
        })
        .collect();
    let (mut diff2, mut a2, mut n2) = (0.0, 0.0, 0.0);
    let (mut max_abs_error, mut worst_index) = (0.0, 0);
    for (i, (&a, &n)) in analytic.iter().zip(&numeric).enumerate() {
        let d = a - n;
        diff2 += d * d;
        a2 += a * a;
        n2 += n * n;
        if d.abs() > max_abs_error {
            (max_abs_error, worst_index) = (d.abs(), i);
        }
    }
    let denom = a2.sqrt() + n2.sqrt();
    let relative_error = if denom == 0.0 {
        0.0
    } else {
        diff2.sqrt() / denom
    };
    GradReport {
        numeric,
        relative_error,
        max_abs_error,
        worst_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_right_gradient_and_rejects_a_wrong_one() {
        // f(x) = x₀² x₁ + sin x₂  =>  ∇f = (2 x₀ x₁, x₀², cos x₂).
        let f = |x: &[f64]| x[0] * x[0] * x[1] + crate::math::sin(x[2]);
        let x = [0.7, -1.3, 0.4];
        let right = [2.0 * 0.7 * -1.3, 0.49, crate::math::cos(0.4f64)];
        let r = check(f, &x, &right, 1e-6);
        assert!(r.passes(1e-8), "{r:?}");
        // A factor of 2 missing in the first entry: the error is of order one and located at entry 0.
        let wrong = [0.7 * -1.3, 0.49, crate::math::cos(0.4f64)];
        let r = check(f, &x, &wrong, 1e-6);
        assert!(r.relative_error > 0.1 && r.worst_index == 0, "{r:?}");
        // A constant function with a zero gradient is a pass, not a division by zero.
        assert_eq!(check(|_| 3.0, &x, &[0.0; 3], 1e-6).relative_error, 0.0);
    }
}

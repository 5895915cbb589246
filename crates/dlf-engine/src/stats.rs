//! Statistics shared by every lesson: means, standard errors, norms and least-squares fits.
//!
//! Each function sums left to right in index order, so a result is the same bit for bit on every platform and
//! in every caller (the widgets' figures and the lessons' claims quote the same numbers).

/// The arithmetic mean; `NaN` for an empty slice.
pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// The unbiased sample variance `Σ(x − x̄)²/(n − 1)`; `NaN` for fewer than two values.
pub fn sample_variance(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64
}

/// The standard error of the mean of `n` independent draws with sample variance `var`: `√(var/n)`.
pub fn standard_error(var: f64, n: f64) -> f64 {
    (var / n).sqrt()
}

/// The Euclidean norm `‖x‖₂ = √Σ xᵢ²`.
pub fn l2_norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// A straight line fitted by least squares: `y ≈ slope · x + intercept`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// `Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²`.
    pub slope: f64,
    /// `ȳ − slope · x̄`.
    pub intercept: f64,
}

/// The ordinary least-squares line through `points`; both fields are `NaN` for fewer than two points or
/// when every `x` is the same.
pub fn least_squares(points: &[(f64, f64)]) -> LineFit {
    if points.len() < 2 {
        return LineFit {
            slope: f64::NAN,
            intercept: f64::NAN,
        };
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|q| q.0).sum::<f64>() / n;
    let my = points.iter().map(|q| q.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    let sxx: f64 = points.iter().map(|q| (q.0 - mx) * (q.0 - mx)).sum();
    let slope = sxy / sxx;
    LineFit {
        slope,
        intercept: my - slope * mx,
    }
}

/// Fits the power law `y ≈ c · x^slope` by least squares on `(ln x, ln y)`, skipping points where either is
/// not positive; returns `(slope, c)` (`NaN`s with fewer than two usable points).
pub fn power_law_fit(points: &[(f64, f64)]) -> (f64, f64) {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (crate::math::ln(*x), crate::math::ln(*y)))
        .collect();
    let fit = least_squares(&logs);
    (fit.slope, crate::math::exp(fit.intercept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_recover_exact_lines_and_power_laws() {
        let line: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 3.0 - 0.5 * i as f64)).collect();
        let fit = least_squares(&line);
        assert!((fit.slope + 0.5).abs() < 1e-12 && (fit.intercept - 3.0).abs() < 1e-12);
        let law: Vec<(f64, f64)> = [4.0, 8.0, 16.0, 32.0]
            .iter()
            .map(|&b| (b, 2.0 / b))
            .collect();
        let (slope, c) = power_law_fit(&law);
        assert!(
            (slope + 1.0).abs() < 1e-12 && (c - 2.0).abs() < 1e-12,
            "{slope} {c}"
        );
        assert!(least_squares(&[(1.0, 1.0)]).slope.is_nan());
        assert!(power_law_fit(&[(1.0, 0.0), (2.0, -1.0)]).0.is_nan());
    }

    #[test]
    fn moments_and_norms() {
        assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
        assert!(mean(&[]).is_nan());
        assert_eq!(sample_variance(&[1.0, 2.0, 6.0]), 7.0);
        assert_eq!(l2_norm(&[3.0, 4.0]), 5.0);
        assert_eq!(standard_error(4.0, 16.0), 0.5);
    }
}

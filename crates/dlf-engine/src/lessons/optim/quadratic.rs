//! Momentum on a quadratic: GD's and the heavy ball's contraction factors, the stable learning-rate limit,
//! measured rates, and SGD's noise floor.

use super::*;
use crate::rng::Rng;
use crate::stats::l2_norm;

/// Gradient descent's best contraction factor on a quadratic with condition number κ = L/μ, reached with
/// `η = 2/(L + μ)`: `(κ − 1)/(κ + 1)` per step (Polyak 1964; Nesterov 2004, "Introductory lectures", §2.1).
pub fn gd_rate(kappa: f64) -> f64 {
    (kappa - 1.0) / (kappa + 1.0)
}

/// The heavy-ball method's best asymptotic contraction factor on the same quadratic, `(√κ − 1)/(√κ + 1)`,
/// reached with `η = 4/(√L + √μ)²` and `μ_m = ((√κ − 1)/(√κ + 1))²` (Polyak 1964).
pub fn heavy_ball_rate(kappa: f64) -> f64 {
    let s = kappa.sqrt();
    (s - 1.0) / (s + 1.0)
}

/// The largest stable learning rate of the heavy ball (PyTorch form, momentum μ) along a direction of
/// curvature `h`: the recurrence `x_{t+1} = (1 + μ − ηh) x_t − μ x_{t−1}` has characteristic polynomial
/// `r² − (1 + μ − ηh) r + μ`, which for `0 ≤ μ < 1` keeps both roots inside the unit circle exactly while
/// `0 < ηh < 2(1 + μ)` (at the bound a root sits at `r = −1`; Polyak 1964). Plain gradient descent is `μ = 0`.
pub fn heavy_ball_lr_limit(h: f64, momentum: f64) -> f64 {
    2.0 * (1.0 + momentum) / h
}

/// Runs SGD (optionally heavy-ball momentum, PyTorch form) with the optimal tuning of [`gd_rate`] or
/// [`heavy_ball_rate`] on `f(x) = ½(L x₁² + μ x₂²)` with `L = κ`, `μ = 1`, from `(1, 1)`, and returns the
/// measured per-step contraction `(‖x_T‖/‖x_{T/2}‖)^{2/T}` over the second half of `steps` steps. Measuring
/// over the second half only removes the transient; heavy ball's iteration matrix is defective at its
/// optimal tuning, so its error decays as `t·rᵗ` and the polynomial factor still inflates the estimate by
/// `2^{2/T}` (0.14 % at T = 1000).
pub fn measured_quadratic_rate(kappa: f64, heavy_ball: bool, steps: usize) -> f64 {
    let (l, mu): (f64, f64) = (kappa, 1.0);
    let (lr, momentum) = if heavy_ball {
        let r = heavy_ball_rate(kappa);
        (4.0 / (l.sqrt() + mu.sqrt()).powi(2), r * r)
    } else {
        (2.0 / (l + mu), 0.0)
    };
    let mut c = Config::new(Kind::Sgd, lr);
    c.momentum = momentum;
    let Ok(mut opt) = Optimizer::new(c, &[2]) else {
        return f64::NAN;
    };
    let mut x = [1.0, 1.0];
    let half = steps / 2;
    let mut start = l2_norm(&x);
    for k in 0..steps {
        if k == half {
            start = l2_norm(&x);
        }
        let g = [l * x[0], mu * x[1]];
        if opt.step(&mut x, &g, lr).is_err() {
            return f64::NAN;
        }
    }
    crate::math::powf(l2_norm(&x) / start, 1.0 / (steps - half) as f64)
}

/// The stationary variance of plain SGD on `f(x) = ½ h x²` with additive gradient noise `N(0, σ²)`:
/// `x ← x − η(h x + σ ξ)` has the fixed point `Var = η σ² / (h (2 − η h))` of the variance recursion
/// `V ← (1 − ηh)² V + η² σ²`, about `η σ²/(2h)` for small `ηh` — proportional to the learning rate, which is
/// why SGD's learning rate must decay to converge (Robbins & Monro 1951 for the decaying-step condition).
pub fn sgd_stationary_variance(h: f64, lr: f64, sigma: f64) -> f64 {
    lr * sigma * sigma / (h * (2.0 - lr * h))
}

/// Measures the stationary variance of [`sgd_stationary_variance`]'s process with the engine's SGD: `steps`
/// steps after a burn-in of `10/(ηh)` steps (at least 100), from `x = 0`.
pub fn sgd_measured_variance(h: f64, lr: f64, sigma: f64, steps: usize, seed: u64) -> f64 {
    let Ok(mut opt) = Optimizer::new(Config::new(Kind::Sgd, lr), &[1]) else {
        return f64::NAN;
    };
    let mut rng = Rng::new(seed);
    let burn_in = ((10.0 / (lr * h)).ceil() as usize).max(100);
    let mut x = [0.0];
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for k in 0..burn_in + steps {
        let g = h * x[0] + sigma * rng.normal();
        if opt.step(&mut x, &[g], lr).is_err() {
            return f64::NAN;
        }
        if k >= burn_in {
            sum += x[0];
            sum_sq += x[0] * x[0];
        }
    }
    let n = steps.max(1) as f64;
    sum_sq / n - (sum / n).powi(2)
}

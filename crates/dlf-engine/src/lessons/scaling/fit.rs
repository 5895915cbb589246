//! Fitting the parametric law to measured runs, as Hoffmann et al. 2022 (appendix D.2) do: minimise the Huber
//! loss (δ = 10⁻³) between the predicted and the measured log-loss, with the prediction written as a
//! log-sum-exp so that every parameter is unconstrained,
//!
//! ```text
//! log L̂(N, D) = LSE(a − α log N, b − β log D, e),   A = e^a, B = e^b, E = e^e,
//! ```
//!
//! from a grid of starting points (the objective has many local minima), keeping the best. The paper used
//! L-BFGS; this is BFGS with the exact gradient and a backtracking line search, which on five parameters is
//! the same method without the memory limit. Besiroglu et al. 2024 showed the paper's own optimiser stopped
//! early (a loss scale too small for its tolerance), so convergence is tested on the gradient, not only on the
//! objective's change.

use crate::math;

/// One measured run: parameters, tokens and final loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    /// Parameters.
    pub n: f64,
    /// Training tokens.
    pub d: f64,
    /// Final loss (nats per token).
    pub loss: f64,
}

/// The Huber threshold of Hoffmann et al. 2022: residuals in log-loss beyond 10⁻³ count linearly.
pub const HUBER_DELTA: f64 = 1e-3;

/// A fitted law and how well it fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The fitted constants.
    pub law: super::Parametric,
    /// The objective at the optimum (sum of Huber losses).
    pub objective: f64,
    /// Starting points tried.
    pub starts: usize,
}

/// The five unconstrained parameters `(a, b, e, α, β)`.
type Theta = [f64; 5];

/// A run's `(ln N, ln D, ln L)`, computed once per fit rather than at every evaluation of the objective (the
/// fit evaluates it tens of thousands of times; the logarithms were most of its cost).
type LogRun = [f64; 3];

/// The Huber objective and its gradient at `t`.
fn objective(t: &Theta, runs: &[LogRun], delta: f64) -> (f64, Theta) {
    let (mut f, mut g) = (0.0, [0.0; 5]);
    for &[ln_n, ln_d, ln_l] in runs {
        let terms = [t[0] - t[3] * ln_n, t[1] - t[4] * ln_d, t[2]];
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w = terms.map(|x| math::exp(x - m));
        let z = w[0] + w[1] + w[2];
        let pred = m + math::ln(z);
        let res = pred - ln_l;
        // Huber: r²/2 inside ±δ, δ(|r| − δ/2) outside; its derivative is r clipped to ±δ.
        f += if res.abs() <= delta {
            0.5 * res * res
        } else {
            delta * (res.abs() - 0.5 * delta)
        };
        let dres = res.clamp(-delta, delta);
        let (p0, p1, p2) = (w[0] / z, w[1] / z, w[2] / z);
        g[0] += dres * p0;
        g[1] += dres * p1;
        g[2] += dres * p2;
        g[3] -= dres * p0 * ln_n;
        g[4] -= dres * p1 * ln_d;
    }
    (f, g)
}

fn dot(a: &Theta, b: &Theta) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// BFGS from `t0`: returns the minimiser and the objective there.
fn bfgs(t0: Theta, runs: &[LogRun], delta: f64) -> (Theta, f64) {
    let mut t = t0;
    let (mut f, mut g) = objective(&t, runs, delta);
    // The inverse-Hessian estimate, started at the identity.
    let mut h = [[0.0; 5]; 5];
    for (i, row) in h.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for _ in 0..500 {
        let gnorm = dot(&g, &g).sqrt();
        if !gnorm.is_finite() || gnorm < 1e-12 {
            break;
        }
        let mut p = [0.0; 5];
        for i in 0..5 {
            p[i] = -(0..5).map(|j| h[i][j] * g[j]).sum::<f64>();
        }
        let mut slope = dot(&p, &g);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            for (i, row) in h.iter_mut().enumerate() {
                *row = [0.0; 5];
                row[i] = 1.0;
            }
            p = g.map(|x| -x);
            slope = dot(&p, &g);
        }
        // Backtracking line search with the Armijo condition.
        let mut step = 1.0;
        let (mut t_new, mut f_new, mut g_new) = (t, f, g);
        let mut accepted = false;
        for _ in 0..60 {
            for i in 0..5 {
                t_new[i] = t[i] + step * p[i];
            }
            let (fv, gv) = objective(&t_new, runs, delta);
            if fv.is_finite() && fv <= f + 1e-4 * step * slope {
                (f_new, g_new) = (fv, gv);
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
        let s: Theta = std::array::from_fn(|i| t_new[i] - t[i]);
        let y: Theta = std::array::from_fn(|i| g_new[i] - g[i]);
        let sy = dot(&s, &y);
        let improvement = f - f_new;
        (t, f, g) = (t_new, f_new, g_new);
        if sy > 1e-18 {
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/(yᵀs).
            let rho = 1.0 / sy;
            let hy: Theta = std::array::from_fn(|i| (0..5).map(|j| h[i][j] * y[j]).sum());
            let yhy = dot(&y, &hy);
            for i in 0..5 {
                for j in 0..5 {
                    h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
        if improvement.abs() < 1e-16 * f.abs().max(1e-300) && dot(&g, &g).sqrt() < 1e-9 {
            break;
        }
    }
    (t, f)
}

/// The default grid of starting points: α, β ∈ {0.2, 0.5, 1}, e ∈ {−0.5, 0.5}, a, b ∈ {0, 5, 10, 20}.
fn starts() -> Vec<Theta> {
    let mut out = Vec::new();
    for &alpha in &[0.2, 0.5, 1.0] {
        for &beta in &[0.2, 0.5, 1.0] {
            for &e in &[-0.5, 0.5] {
                for &a in &[0.0, 5.0, 10.0, 20.0] {
                    for &b in &[0.0, 5.0, 10.0, 20.0] {
                        out.push([a, b, e, alpha, beta]);
                    }
                }
            }
        }
    }
    out
}

/// Fits `L = E + A/N^α + B/D^β` to `runs` by the Huber loss on log-loss from every start of the grid; `None`
/// with fewer than five runs or a non-positive value.
pub fn fit(runs: &[Run]) -> Option<Fit> {
    fit_with(runs, HUBER_DELTA)
}

/// [`fit`] with another Huber threshold (`δ = ∞` is least squares on log-loss).
pub fn fit_with(runs: &[Run], delta: f64) -> Option<Fit> {
    fit_from(runs, delta, &starts())
}

/// The small grid the lesson's quantities fit from (α, β ∈ {0.3, 0.6}, e ∈ {0.5}, a, b ∈ {5, 8}: 16 starts, a
/// eighteenth of [`fit`]'s), so that every course build can afford its fits; the tests check it reaches the
/// same optimum as the full grid on the lesson's sweeps.
pub fn quick_starts() -> Vec<[f64; 5]> {
    let mut out = Vec::new();
    for &alpha in &[0.3, 0.6] {
        for &beta in &[0.3, 0.6] {
            for &a in &[5.0, 8.0] {
                for &b in &[5.0, 8.0] {
                    out.push([a, b, 0.5, alpha, beta]);
                }
            }
        }
    }
    out
}

/// [`fit_with`] from the given starting points `(a, b, e, α, β)`.
pub fn fit_from(runs: &[Run], delta: f64, grid: &[[f64; 5]]) -> Option<Fit> {
    if runs.len() < 5 || runs.iter().any(|r| !(r.n > 0.0 && r.d > 0.0 && r.loss > 0.0)) {
        return None;
    }
    let logs: Vec<LogRun> = runs
        .iter()
        .map(|r| [math::ln(r.n), math::ln(r.d), math::ln(r.loss)])
        .collect();
    let mut best: Option<(Theta, f64)> = None;
    for t0 in grid {
        let (t, f) = bfgs(*t0, &logs, delta);
        if f.is_finite() && best.is_none_or(|(_, fb)| f < fb) {
            best = Some((t, f));
        }
    }
    let (t, objective) = best?;
    Some(Fit {
        law: super::Parametric {
            a: math::exp(t[0]),
            b: math::exp(t[1]),
            e: math::exp(t[2]),
            alpha: t[3],
            beta: t[4],
        },
        objective,
        starts: grid.len(),
    })
}

/// Synthetic runs from `law`: every pair of `sizes` × `tokens`, each loss multiplied by `exp(σ z)` with `z`
/// standard normal from the seeded stream (σ = 0 gives the exact law).
pub fn synthetic_runs(
    law: &super::Parametric,
    sizes: &[f64],
    tokens: &[f64],
    sigma: f64,
    seed: u64,
) -> Vec<Run> {
    let mut rng = crate::rng::Rng::new(seed);
    let mut out = Vec::with_capacity(sizes.len() * tokens.len());
    for &n in sizes {
        for &d in tokens {
            let noise = math::exp(sigma * rng.normal());
            out.push(Run {
                n,
                d,
                loss: law.loss(n, d) * noise,
            });
        }
    }
    out
}

/// A grid of runs spanning Hoffmann et al.'s range (70M to 16B parameters, 5B to 500B tokens), log-spaced:
/// seven sizes by six token counts.
pub fn chinchilla_like_grid() -> (Vec<f64>, Vec<f64>) {
    let sizes = (0..7)
        .map(|k| 7e7 * math::powf(16e9 / 7e7, k as f64 / 6.0))
        .collect();
    let tokens = (0..6)
        .map(|k| 5e9 * math::powf(100.0, k as f64 / 5.0))
        .collect();
    (sizes, tokens)
}

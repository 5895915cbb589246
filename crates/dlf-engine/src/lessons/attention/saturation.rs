//! Why attention divides by `√d_k`: the experiments behind the lesson's first widget.
//!
//! - [`score_moments`]: the mean and variance of `q·k` for `q, k` with independent `N(0, 1)` components,
//!   or with each pair `(q_i, k_i)` correlated by `ρ` (a trained query that looks for its key). For
//!   independent components `Var(q·k) = d_k` (Vaswani et al. 2017, footnote 4); with correlation `ρ`,
//!   `E[q·k] = ρ d_k` and `Var(q·k) = d_k (1 + ρ²)`, since `E[q_i² k_i²] = 1 + 2ρ²` for a standard bivariate
//!   normal pair.
//! - [`row_stats`]: what a softmax row of `n` such scores looks like, with and without the scale: its
//!   entropy, its largest weight, how often it is saturated, the Frobenius norm of its Jacobian
//!   `diag(p) − p pᵀ`, and the norm of the gradient that reaches the scores through it.
//! - [`train_retrieval`]: a small training run in which each query must learn to retrieve one key's value;
//!   without the scale the softmax starts saturated and the gradient that reaches the query is tiny.

use crate::rng::Rng;

/// Mean and variance of sampled scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// The sample mean.
    pub mean: f64,
    /// The sample variance.
    pub var: f64,
}

/// A query and key whose component pairs have correlation `rho`: `k = ρ q + √(1 − ρ²) ε`.
fn correlated_pair(rng: &mut Rng, d: usize, rho: f64) -> (Vec<f64>, Vec<f64>) {
    let q: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
    let c = (1.0 - rho * rho).sqrt();
    let k = q.iter().map(|&qi| rho * qi + c * rng.normal()).collect();
    (q, k)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The sample mean and variance of `scale·q·k` over `samples` pairs (see the module documentation).
pub fn score_moments(d: usize, rho: f64, scale: f64, samples: usize, seed: u64) -> Moments {
    let mut rng = Rng::new(seed);
    let z: Vec<f64> = (0..samples)
        .map(|_| {
            let (q, k) = correlated_pair(&mut rng, d, rho);
            scale * dot(&q, &k)
        })
        .collect();
    Moments {
        mean: crate::stats::mean(&z),
        var: crate::stats::sample_variance(&z),
    }
}

/// What one softmax row looks like, averaged over rows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RowStats {
    /// The entropy `−Σ p ln p` divided by its maximum `ln n` (1: uniform; 0: one-hot).
    pub entropy: f64,
    /// The largest weight.
    pub max_weight: f64,
    /// `‖diag(p) − p pᵀ‖_F`: how much the weights can still move when the scores move.
    pub jacobian_norm: f64,
    /// The fraction of rows whose largest weight exceeds 0.99 (saturated rows).
    pub saturated: f64,
    /// `‖∂L/∂z‖`, the gradient that reaches the scores, for values and an upstream gradient with `N(0, 1)`
    /// entries.
    pub grad_scores_norm: f64,
}

/// The softmax of `z` (max-subtracted).
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|&v| crate::math::exp(v - m)).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Statistics of one row of `n` scores `z` (already scaled), given `dp_j = ∂L/∂p_j`.
fn one_row(z: &[f64], dp: &[f64]) -> RowStats {
    let n = z.len();
    let p = softmax(z);
    let entropy = -p
        .iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * crate::math::ln(v))
        .sum::<f64>()
        / crate::math::ln(n as f64);
    // ‖diag(p) − ppᵀ‖²_F = Σ_i p_i² (1 − p_i)² + Σ_{i≠j} p_i² p_j².
    let sum_sq: f64 = p.iter().map(|v| v * v).sum();
    let mut frob2 = 0.0;
    for &pi in &p {
        frob2 += pi * pi * (1.0 - pi) * (1.0 - pi) + pi * pi * (sum_sq - pi * pi);
    }
    // dz = p ⊙ (dp − p·dp).
    let pdp = dot(&p, dp);
    let dz2: f64 = (0..n)
        .map(|j| {
            let dz = p[j] * (dp[j] - pdp);
            dz * dz
        })
        .sum();
    let max_weight = p.iter().copied().fold(0.0, f64::max);
    RowStats {
        entropy,
        max_weight,
        jacobian_norm: frob2.sqrt(),
        saturated: if max_weight > 0.99 { 1.0 } else { 0.0 },
        grad_scores_norm: dz2.sqrt(),
    }
}

/// [`RowStats`] averaged over `rows` random rows of `n` keys of width `d`, every component `N(0, 1)`,
/// with scores multiplied by `1/√d` when `scaled` (else 1), for values of width 4 and an upstream gradient
/// `g` with `N(0, 1)` entries. The same random numbers for both settings.
///
/// The draws use two exact shortcuts, so that a sweep up to `d_k = 1024` fits in a widget's frame. Given the
/// query `q`, the scores `K q` of keys with independent `N(0, 1)` components are independent `N(0, ‖q‖²)`,
/// and `‖q‖²` is chi-squared with `d` degrees of freedom ([`chi_square`]); given `g`, the products
/// `∂L/∂p_j = v_j·g` of independent value rows are independent `N(0, ‖g‖²)`. A row then costs about
/// `2n + 6` normal draws instead of `d(n + 1) + 4n + 4`.
pub fn row_stats(d: usize, n: usize, scaled: bool, rows: usize, seed: u64) -> RowStats {
    let (with, without) = row_stats_both(d, n, rows, seed);
    if scaled {
        with
    } else {
        without
    }
}

/// [`row_stats`] with and without the scale, from the same draws (half the cost of two calls).
pub fn row_stats_both(d: usize, n: usize, rows: usize, seed: u64) -> (RowStats, RowStats) {
    let mut rng = Rng::new(seed);
    let dv = 4;
    let mut acc = [RowStats::default(); 2];
    for _ in 0..rows {
        let q_norm = chi_square(&mut rng, d).sqrt();
        let raw: Vec<f64> = (0..n).map(|_| q_norm * rng.normal()).collect();
        let g_norm = (0..dv)
            .map(|_| {
                let x = rng.normal();
                x * x
            })
            .sum::<f64>()
            .sqrt();
        let dp: Vec<f64> = (0..n).map(|_| g_norm * rng.normal()).collect();
        let scaled: Vec<f64> = raw.iter().map(|z| z / (d as f64).sqrt()).collect();
        for (a, z) in acc.iter_mut().zip([&scaled, &raw]) {
            let r = one_row(z, &dp);
            a.entropy += r.entropy;
            a.max_weight += r.max_weight;
            a.jacobian_norm += r.jacobian_norm;
            a.saturated += r.saturated;
            a.grad_scores_norm += r.grad_scores_norm;
        }
    }
    let k = rows.max(1) as f64;
    let mean = |a: &RowStats| RowStats {
        entropy: a.entropy / k,
        max_weight: a.max_weight / k,
        jacobian_norm: a.jacobian_norm / k,
        saturated: a.saturated / k,
        grad_scores_norm: a.grad_scores_norm / k,
    };
    (mean(&acc[0]), mean(&acc[1]))
}

/// A chi-squared draw with `k ≥ 2` degrees of freedom: `2·Gamma(k/2)`, with the gamma variate drawn by
/// Marsaglia & Tsang's method ("A simple method for generating gamma variables", ACM TOMS 26(3), 2000),
/// which needs shape ≥ 1 and costs about one normal and one uniform draw.
pub fn chi_square(rng: &mut Rng, k: usize) -> f64 {
    let shape = (k.max(2) as f64) / 2.0;
    let dm = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * dm).sqrt();
    loop {
        let x = rng.normal();
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = rng.uniform();
        // The squeeze accepts most draws without a logarithm; the exact test decides the rest.
        if u < 1.0 - 0.0331 * x * x * x * x
            || crate::math::ln(u) < 0.5 * x * x + dm * (1.0 - v + crate::math::ln(v))
        {
            return 2.0 * dm * v;
        }
    }
}

/// One example row's weights (for a figure): `softmax(scale·K q)` for `n` keys of width `d`.
pub fn example_weights(d: usize, n: usize, scaled: bool, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let scale = if scaled { 1.0 / (d as f64).sqrt() } else { 1.0 };
    let q: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
    let z: Vec<f64> = (0..n)
        .map(|_| {
            let k: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
            scale * dot(&q, &k)
        })
        .collect();
    softmax(&z)
}

/// A retrieval task trained by plain gradient descent (see [`train_retrieval`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrievalConfig {
    /// Query and key width `d_k`.
    pub d: usize,
    /// Keys per problem.
    pub keys: usize,
    /// Independent problems (the loss is their mean).
    pub problems: usize,
    /// Gradient steps.
    pub steps: usize,
    /// Learning rate.
    pub lr: f64,
    /// Multiply scores by `1/√d` (else by 1).
    pub scaled: bool,
    /// Seed of the keys, values, targets and initial queries.
    pub seed: u64,
}

impl RetrievalConfig {
    /// The lesson's defaults for width `d`.
    pub fn lesson(d: usize, scaled: bool) -> RetrievalConfig {
        RetrievalConfig {
            d,
            keys: 8,
            problems: 8,
            steps: 40,
            lr: 1.0,
            scaled,
            seed: 3,
        }
    }
}

/// Width of the values in the retrieval task.
const VALUE_WIDTH: usize = 4;

/// Trains one query per problem to retrieve a target key's value: `o = softmax(s·K q) V`, loss
/// `½‖o − v_t‖²`, queries started with `N(0, 1)` components as a projection with a standard initialisation
/// gives them, plain gradient descent on the queries. Returns the mean loss before each step and after the
/// last (`steps + 1` values).
pub fn train_retrieval(cfg: &RetrievalConfig) -> Vec<f64> {
    let mut rng = Rng::new(cfg.seed);
    let scale = if cfg.scaled {
        1.0 / (cfg.d as f64).sqrt()
    } else {
        1.0
    };
    let n = cfg.keys;
    struct Problem {
        keys: Vec<Vec<f64>>,
        values: Vec<Vec<f64>>,
        target: usize,
        q: Vec<f64>,
    }
    let mut problems: Vec<Problem> = (0..cfg.problems)
        .map(|_| Problem {
            keys: (0..n)
                .map(|_| (0..cfg.d).map(|_| rng.normal()).collect())
                .collect(),
            values: (0..n)
                .map(|_| (0..VALUE_WIDTH).map(|_| rng.normal()).collect())
                .collect(),
            target: rng.below(n),
            q: (0..cfg.d).map(|_| rng.normal()).collect(),
        })
        .collect();
    let mut losses = Vec::with_capacity(cfg.steps + 1);
    for step in 0..=cfg.steps {
        let mut total = 0.0;
        for pr in &mut problems {
            let z: Vec<f64> = pr.keys.iter().map(|k| scale * dot(&pr.q, k)).collect();
            let p = softmax(&z);
            let mut o = [0.0; VALUE_WIDTH];
            for (pj, v) in p.iter().zip(&pr.values) {
                for (oc, vc) in o.iter_mut().zip(v) {
                    *oc += pj * vc;
                }
            }
            let d_o: Vec<f64> = o
                .iter()
                .zip(&pr.values[pr.target])
                .map(|(a, b)| a - b)
                .collect();
            total += 0.5 * dot(&d_o, &d_o);
            if step == cfg.steps {
                continue;
            }
            let dp: Vec<f64> = pr.values.iter().map(|v| dot(v, &d_o)).collect();
            let pdp = dot(&p, &dp);
            let mut dq = vec![0.0; cfg.d];
            for j in 0..n {
                let dz = p[j] * (dp[j] - pdp);
                for (a, &kv) in dq.iter_mut().zip(&pr.keys[j]) {
                    *a += scale * dz * kv;
                }
            }
            for (qv, g) in pr.q.iter_mut().zip(&dq) {
                *qv -= cfg.lr * g;
            }
        }
        losses.push(total / cfg.problems as f64);
    }
    losses
}

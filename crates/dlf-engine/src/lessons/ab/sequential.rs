//! Peeking and group-sequential tests: the probability that an A/A test crosses a boundary at one of `K`
//! equally spaced looks, by numerical integration and by simulation, and the Pocock and O'Brien–Fleming
//! boundaries that hold that probability at α.
//!
//! # The recursion (Armitage, McPherson & Rowe 1969)
//!
//! With equal increments of information, the z statistic at look `k` is `Z_k = S_k/√k`, where
//! `S_k = X₁ + … + X_k` sums independent `N(0, 1)` increments under H0 (each look adds the same number of
//! users, and the difference in means they add is normal; Armitage, McPherson & Rowe, "Repeated significance
//! tests on accumulating data", J. R. Stat. Soc. A 132, 1969). A two-sided boundary `c_k` on `Z_k` is
//! `b_k = c_k √k` on `S_k`. Let `f_k(s)` be the sub-density of `S_k` on the paths that have not crossed by
//! look `k` (supported on `[−b_k, b_k]`). Then `f₁ = φ` and
//!
//! `f_k(s) = ∫_{−b_{k−1}}^{b_{k−1}} f_{k−1}(u) φ(s − u) du`,
//! `P(first crossing at k) = ∫ f_{k−1}(u) [1 − Φ(b_k − u) + Φ(−b_k − u)] du`.
//!
//! Each integral is composite Simpson on a uniform grid of `r` points per unit of `u` (the increments' standard
//! deviation; Jennison & Turnbull, "Group Sequential Methods with Applications to Clinical Trials", 2000,
//! ch. 19, use the same scale). Since `φ(s − u)` on a uniform grid satisfies
//! `φ(d − (j+1)h) = φ(d − jh) · e^{h(d − jh) − h²/2}`, the inner sums need two `exp` per row and two
//! multiplications per term, and terms with `|s − u| > 9` (below 1e-17) are skipped. The tests check the
//! result against simulation and against published constants; `r = 8` agrees with `r = 32` to within
//! 1e-6 (Simpson's `h⁴` error), far below the third decimal that published tables give.
//!
//! # Boundaries
//!
//! - **Fixed** `c_k = z_{α/2}` at every look: the naive peeker's rule, whose error rate grows with `K`.
//! - **Pocock** (Pocock, "Group sequential methods in the design and analysis of clinical trials",
//!   Biometrika 64, 1977): one constant `c_k = c_P(K, α)` chosen so the total crossing probability is α.
//! - **O'Brien–Fleming** (O'Brien & Fleming, "A multiple testing procedure for clinical trials", Biometrics
//!   35, 1979): `c_k = c_B √(K/k)`, a constant boundary `c_B √K` on `S_k`: very strict early, close to the
//!   fixed-sample `z` at the end.

use super::{fail, AbError};
use crate::math::exp;
use crate::normal::{cdf, sf};
use crate::rng::Rng;

/// A group-sequential boundary shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// `z_{α/2}` at every look (no correction).
    Fixed,
    /// Pocock: a constant on the z scale.
    Pocock,
    /// O'Brien–Fleming: `c √(K/k)` on the z scale.
    OBrienFleming,
}

impl Boundary {
    /// Every shape.
    pub const ALL: [Boundary; 3] = [Boundary::Fixed, Boundary::Pocock, Boundary::OBrienFleming];

    /// Parses `fixed`, `pocock`, `obrien-fleming` (`obf`).
    pub fn parse(s: &str) -> Option<Boundary> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fixed" | "naive" => Some(Boundary::Fixed),
            "pocock" => Some(Boundary::Pocock),
            "obrien-fleming" | "obrien_fleming" | "obf" | "o'brien-fleming" => {
                Some(Boundary::OBrienFleming)
            }
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Boundary::Fixed => "fixed",
            Boundary::Pocock => "pocock",
            Boundary::OBrienFleming => "obrien-fleming",
        }
    }

    /// The z-scale boundary at each of `looks` looks for the constant `c`.
    pub fn z_bounds(self, c: f64, looks: usize) -> Vec<f64> {
        (1..=looks)
            .map(|k| match self {
                Boundary::Fixed | Boundary::Pocock => c,
                Boundary::OBrienFleming => c * (looks as f64 / k as f64).sqrt(),
            })
            .collect()
    }
}

/// Grid points per unit standard deviation of an increment used by default.
pub const POINTS_PER_SD: usize = 8;

/// `P(first crossing at look k)` for `k = 1..=K` under H0, two-sided, for z-scale boundaries `z_bounds`
/// (equally spaced looks), by the Armitage–McPherson–Rowe recursion with `points_per_sd` grid points per
/// unit (see the module's documentation).
pub fn crossing_probabilities(z_bounds: &[f64], points_per_sd: usize) -> Vec<f64> {
    crossing_probabilities_sized(z_bounds, z_bounds, points_per_sd)
}

/// [`crossing_probabilities`] with each look's number of grid intervals set from `size_bounds` instead of
/// `z_bounds` (elementwise at least as large). A root search over the boundary's constant sizes every grid
/// from the top of its bracket, so the number of grid points does not jump as the constant moves, and the
/// crossing probability is a smooth function of it (a jump of Simpson's error, about 1e-6, would stall a
/// fast root finder at the jump).
fn crossing_probabilities_sized(
    z_bounds: &[f64],
    size_bounds: &[f64],
    points_per_sd: usize,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(z_bounds.len());
    let Some(&c1) = z_bounds.first() else {
        return out;
    };
    out.push(2.0 * sf(c1));
    // The grid of the current look: points u_j, Simpson weights w_j (with h/3), sub-density f_j.
    let (mut u, mut w) = grid(c1, intervals(size_bounds[0], points_per_sd));
    let mut f: Vec<f64> = u.iter().map(|&x| crate::normal::pdf(x)).collect();
    for (k, &c) in z_bounds.iter().enumerate().skip(1) {
        let b = c * ((k + 1) as f64).sqrt();
        let mass: Vec<f64> = w.iter().zip(&f).map(|(w, f)| w * f).collect();
        out.push(
            u.iter()
                .zip(&mass)
                .map(|(&x, m)| m * (sf(b - x) + cdf(-b - x)))
                .sum(),
        );
        if k + 1 == z_bounds.len() {
            break;
        }
        let size = size_bounds[k] * ((k + 1) as f64).sqrt();
        let (nu, nw) = grid(b, intervals(size, points_per_sd));
        let h = u.get(1).map_or(1.0, |v| v - u[0]);
        let mut nf = Vec::with_capacity(nu.len());
        for &s in &nu {
            nf.push(convolve(s, &u, &mass, h));
        }
        u = nu;
        w = nw;
        f = nf;
    }
    out
}

/// `Σ_j mass_j φ(s − u_j)` over the `u_j` within 9 of `s`, on the uniform grid `u` of spacing `h`, by the
/// two-multiplication recurrence for `φ` on a lattice.
fn convolve(s: f64, u: &[f64], mass: &[f64], h: f64) -> f64 {
    const REACH: f64 = 9.0;
    let first = ((s - REACH - u[0]) / h).ceil().max(0.0) as usize;
    let last = (((s + REACH - u[0]) / h).floor() as isize).min(u.len() as isize - 1);
    if last < first as isize {
        return 0.0;
    }
    let d = s - u[first];
    // g = φ(d − jh) for j = 0, 1, …; a = e^{h(d − jh) − h²/2}; q = e^{−h²}.
    let mut g = exp(-0.5 * d * d) * 0.398_942_280_401_432_7;
    let mut a = exp(h * d - 0.5 * h * h);
    let q = exp(-h * h);
    let mut sum = 0.0;
    for m in &mass[first..=last as usize] {
        sum += m * g;
        g *= a;
        a *= q;
    }
    sum
}

/// An even number of Simpson intervals with at least `points_per_sd` per unit over `[−b, b]`.
fn intervals(b: f64, points_per_sd: usize) -> usize {
    let m = ((2.0 * b * points_per_sd as f64).ceil() as usize).max(2);
    m + m % 2
}

/// A uniform grid on `[−b, b]` with `m` (even) intervals, and its composite Simpson weights.
fn grid(b: f64, m: usize) -> (Vec<f64>, Vec<f64>) {
    let h = 2.0 * b / m as f64;
    let u = (0..=m).map(|i| -b + i as f64 * h).collect();
    let w = (0..=m)
        .map(|i| {
            let c = if i == 0 || i == m {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            c * h / 3.0
        })
        .collect();
    (u, w)
}

/// The false-positive rate of a fixed two-sided z test at critical value `z` checked at each of `looks`
/// equally spaced looks (stopping at the first crossing).
pub fn fixed_z_false_positive_rate(z: f64, looks: usize) -> f64 {
    crossing_probabilities(&vec![z; looks], POINTS_PER_SD)
        .iter()
        .sum()
}

/// The constant of a boundary shape for `looks` looks and two-sided level `alpha`: `z_{α/2}` for
/// [`Boundary::Fixed`]; for Pocock and O'Brien–Fleming the `c` whose total crossing probability is `alpha`
/// (with [`POINTS_PER_SD`] grid points per unit).
///
/// # Errors
/// `looks` outside 1..=200 or `alpha` outside (0, 1).
pub fn boundary_constant(boundary: Boundary, looks: usize, alpha: f64) -> Result<f64, AbError> {
    boundary_constant_on(boundary, looks, alpha, POINTS_PER_SD)
}

/// [`boundary_constant`] on a grid of `points_per_sd` points per unit (a widget uses a coarser grid).
///
/// The total crossing probability falls monotonically in `c`, and its logarithm is close to linear, so the
/// root of `ln P(c) − ln α` is found by the Illinois variant of regula falsi (Dowell & Jarratt, "A modified
/// regula falsi method for computing the root of an equation", BIT 11, 1971), which keeps a bracket like
/// bisection but needs about 6 recursions instead of 30.
///
/// # Errors
/// As [`boundary_constant`].
pub fn boundary_constant_on(
    boundary: Boundary,
    looks: usize,
    alpha: f64,
    points_per_sd: usize,
) -> Result<f64, AbError> {
    if !(1..=200).contains(&looks) {
        return fail(format!("looks must be between 1 and 200, got {looks}"));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return fail(format!("alpha must lie in (0, 1), got {alpha}"));
    }
    let mut search = BoundarySearch::new(boundary, looks, alpha, points_per_sd);
    while !search.step() {}
    Ok(search.constant())
}

/// [`boundary_constant_on`]'s search, one recursion at a time, so that a widget can spread it over several
/// frames; run to the end it gives exactly the same constant. [`BoundarySearch::step`] evaluates the total
/// crossing probability once (about 1 ms natively at 20 looks on the coarse grid).
#[derive(Debug, Clone)]
pub struct BoundarySearch {
    boundary: Boundary,
    looks: usize,
    points_per_sd: usize,
    target: f64,
    size: Vec<f64>,
    a: f64,
    b: f64,
    fa: Option<f64>,
    fb: Option<f64>,
    kept: i8,
    c: f64,
    iterations: usize,
    done: bool,
}

impl BoundarySearch {
    /// Starts the search; `looks` in 1..=200 and `alpha` in (0, 1) (see [`boundary_constant_on`], which checks
    /// them). For the fixed boundary or one look the constant is `z_{α/2}` and the search is already done.
    pub fn new(boundary: Boundary, looks: usize, alpha: f64, points_per_sd: usize) -> Self {
        let z = crate::normal::upper_quantile(alpha / 2.0);
        // The constant lies between the one-look z (too low: more looks cross more) and the Bonferroni bound
        // z_{α/(2K)} (too high for correlated looks; O'Brien–Fleming's final bar is below it as well).
        let b = crate::normal::upper_quantile(alpha / (2.0 * looks.max(1) as f64)) + 0.25;
        let trivial = boundary == Boundary::Fixed || looks <= 1;
        BoundarySearch {
            boundary,
            looks,
            points_per_sd,
            target: crate::math::ln(alpha),
            size: boundary.z_bounds(b, looks),
            a: z,
            b,
            fa: None,
            fb: None,
            kept: 0,
            c: if trivial { z } else { 0.5 * (z + b) },
            iterations: 0,
            done: trivial,
        }
    }

    fn g(&self, c: f64) -> f64 {
        let total: f64 = crossing_probabilities_sized(
            &self.boundary.z_bounds(c, self.looks),
            &self.size,
            self.points_per_sd,
        )
        .iter()
        .sum();
        crate::math::ln(total) - self.target
    }

    /// One evaluation of the crossing probability; `true` once the constant is found.
    pub fn step(&mut self) -> bool {
        if self.done {
            return true;
        }
        let (Some(fa), Some(fb)) = (self.fa, self.fb) else {
            if self.fa.is_none() {
                self.fa = Some(self.g(self.a));
            } else {
                self.fb = Some(self.g(self.b));
            }
            return false;
        };
        let (mut fa, mut fb) = (fa, fb);
        let c = (self.a * fb - self.b * fa) / (fb - fa);
        self.c = c;
        let fc = self.g(c);
        self.iterations += 1;
        if fc.abs() < 1e-13 || (self.b - self.a).abs() < 1e-12 || self.iterations >= 60 {
            self.done = true;
            return true;
        }
        if fc * fb > 0.0 {
            self.b = c;
            fb = fc;
            if self.kept == -1 {
                fa *= 0.5;
            }
            self.kept = -1;
        } else {
            self.a = c;
            fa = fc;
            if self.kept == 1 {
                fb *= 0.5;
            }
            self.kept = 1;
        }
        (self.fa, self.fb) = (Some(fa), Some(fb));
        false
    }

    /// The constant found (the latest iterate while the search runs).
    pub fn constant(&self) -> f64 {
        self.c
    }

    /// Whether the search has finished.
    pub fn done(&self) -> bool {
        self.done
    }
}

/// Counts from an A/A simulation of peeking.
#[derive(Debug, Clone, PartialEq)]
pub struct PeekingSimulation {
    /// `first[k]`: experiments whose first crossing was at look `k + 1`.
    pub first: Vec<usize>,
    /// Experiments simulated.
    pub trials: usize,
}

impl PeekingSimulation {
    /// The share of experiments that crossed at one of the first `looks` looks.
    pub fn rate_by(&self, looks: usize) -> f64 {
        self.first[..looks.min(self.first.len())].iter().sum::<usize>() as f64 / self.trials as f64
    }

    /// Its Monte-Carlo standard error `√(r(1 − r)/trials)`.
    pub fn standard_error_by(&self, looks: usize) -> f64 {
        let r = self.rate_by(looks);
        (r * (1.0 - r) / self.trials as f64).sqrt()
    }
}

/// A/A experiments with normal increments: `S_k = S_{k−1} + N(0, 1)`, `Z_k = S_k/√k`, stop when
/// `|Z_k| > z_bounds[k]`.
pub fn simulate_normal(z_bounds: &[f64], trials: usize, seed: u64) -> PeekingSimulation {
    let mut rng = Rng::new(seed);
    let mut first = vec![0; z_bounds.len()];
    let roots: Vec<f64> = (1..=z_bounds.len()).map(|k| (k as f64).sqrt()).collect();
    for _ in 0..trials {
        let mut s = 0.0;
        for (k, &c) in z_bounds.iter().enumerate() {
            s += rng.normal();
            if s.abs() > c * roots[k] {
                first[k] += 1;
                break;
            }
        }
    }
    PeekingSimulation { first, trials }
}

/// A binomial draw by inversion of the CDF with the ratio recurrence `P(k+1)/P(k) = (n−k)p/((k+1)(1−p))`
/// (Devroye, "Non-Uniform Random Variate Generation", 1986, §X.4): `O(np)` steps, for `np` up to a few
/// hundred (beyond that `(1 − p)^n` underflows).
pub fn binomial(n: u64, p: f64, rng: &mut Rng) -> u64 {
    let u = rng.uniform();
    let ratio = p / (1.0 - p);
    let mut pk = crate::math::powf(1.0 - p, n as f64);
    let mut cdf = pk;
    let mut k = 0;
    while u >= cdf && k < n {
        pk *= (n - k) as f64 / (k + 1) as f64 * ratio;
        k += 1;
        cdf += pk;
        if pk == 0.0 && cdf < u {
            // The remaining mass is below rounding: the draw is in the far tail; stop where it is.
            break;
        }
    }
    k
}

/// A/A experiments on real conversions: at each look, each arm gains `users_per_look` users converting
/// with probability `rate` (binomial draws), and the pooled two-proportion z statistic of the cumulative
/// counts is compared with `z_bounds[k]`.
///
/// # Errors
/// A rate outside (0, 1), no users, or `users_per_look · rate` above 500 (where the inversion's first term
/// underflows).
pub fn simulate_binomial(
    z_bounds: &[f64],
    users_per_look: u64,
    rate: f64,
    trials: usize,
    seed: u64,
) -> Result<PeekingSimulation, AbError> {
    if !(rate > 0.0 && rate < 1.0) || users_per_look == 0 {
        return fail("the rate must lie in (0, 1) and each look needs users");
    }
    if users_per_look as f64 * rate > 500.0 {
        return fail("users_per_look · rate must be at most 500");
    }
    let mut rng = Rng::new(seed);
    let mut first = vec![0; z_bounds.len()];
    for _ in 0..trials {
        let (mut xa, mut xb) = (0u64, 0u64);
        for (k, &c) in z_bounds.iter().enumerate() {
            xa += binomial(users_per_look, rate, &mut rng);
            xb += binomial(users_per_look, rate, &mut rng);
            let n = (k as u64 + 1) * users_per_look;
            let pooled = (xa + xb) as f64 / (2 * n) as f64;
            let se = (pooled * (1.0 - pooled) * 2.0 / n as f64).sqrt();
            if se > 0.0 && ((xb as f64 - xa as f64) / n as f64 / se).abs() > c {
                first[k] += 1;
                break;
            }
        }
    }
    Ok(PeekingSimulation { first, trials })
}

/// The z statistics `Z_k = S_k/√k` of `count` simulated A/A experiments over `looks` looks, without
/// stopping (for drawing paths).
pub fn aa_paths(looks: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let mut s = 0.0;
            (1..=looks)
                .map(|k| {
                    s += rng.normal();
                    s / (k as f64).sqrt()
                })
                .collect()
        })
        .collect()
}

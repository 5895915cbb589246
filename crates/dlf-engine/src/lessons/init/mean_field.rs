//! Mean-field signal propagation through a deep random network (Poole, Lahiri, Raghu, Sohl-Dickstein &
//! Ganguli, "Exponential expressivity in deep neural networks through transient chaos", NeurIPS 2016;
//! Schoenholz, Gilmer, Ganguli & Sohl-Dickstein, "Deep Information Propagation", ICLR 2017).
//!
//! A layer `h^l = W^l φ(h^{l−1}) + b^l` with `W_ij ~ N(0, σ_w²/n)` and `b_i ~ N(0, σ_b²)`, in the limit of
//! infinite width, has Gaussian pre-activations whose second moment `q^l` obeys the **length map**
//!
//! `q^l = σ_w² E_z[φ(√q^{l−1} z)²] + σ_b²`,   `z ~ N(0, 1)`,
//!
//! and two inputs' correlation `c^l` obeys the **correlation map**
//!
//! `c^l = (σ_w² E[φ(u₁) φ(u₂)] + σ_b²) / q*`,  `u₁ = √q* z₁`, `u₂ = √q* (c z₁ + √(1 − c²) z₂)`,
//!
//! at the length map's fixed point `q*`. Its slope at `c = 1` is `χ₁ = σ_w² E[φ'(√q* z)²]`, which is also the
//! factor by which the mean squared gradient grows per layer going backwards: `χ₁ < 1` is the ordered phase
//! (inputs collapse together, gradients vanish), `χ₁ > 1` the chaotic phase (nearby inputs decorrelate,
//! gradients explode), `χ₁ = 1` the edge of chaos. Signals survive about `ξ = −1/ln χ₁` layers.
//! Every expectation is a quadrature sum: graded Gauss–Legendre panels for one-dimensional expectations,
//! Gauss–Hermite (or panels split at the kink, for ReLU-like activations) for the two-dimensional one
//! ([`super::quadrature`]).

use super::quadrature::{split_normal, GaussHermite};
use super::Nonlin;

/// The mean-field maps of one activation, weight variance and bias variance.
#[derive(Debug, Clone)]
pub struct MeanField {
    /// The activation.
    pub phi: Nonlin,
    /// `σ_w²`: `fan_in · Var(w)`.
    pub sigma_w2: f64,
    /// `σ_b²`: the bias variance.
    pub sigma_b2: f64,
    rule: GaussHermite,
    /// The rule of the two-dimensional correlation map (a product rule costs its square).
    rule2: GaussHermite,
}

impl MeanField {
    /// The maps for `phi`, `σ_w²` and `σ_b²`, with the accurate quadrature ([`Nonlin::rule`]).
    pub fn new(phi: Nonlin, sigma_w2: f64, sigma_b2: f64) -> MeanField {
        MeanField {
            phi,
            sigma_w2,
            sigma_b2,
            rule: phi.rule(),
            rule2: phi.fast_rule(),
        }
    }

    /// The same maps with the cheaper rule ([`Nonlin::fast_rule`]), for figures.
    pub fn fast(phi: Nonlin, sigma_w2: f64, sigma_b2: f64) -> MeanField {
        let rule = phi.fast_rule();
        MeanField {
            phi,
            sigma_w2,
            sigma_b2,
            rule2: rule.clone(),
            rule,
        }
    }

    /// `E[φ(√q z)²]`: the second moment of a post-activation whose pre-activation has second moment `q`.
    pub fn activation_moment(&self, q: f64) -> f64 {
        let s = q.max(0.0).sqrt();
        self.rule.expect(|z| {
            let a = self.phi.apply(s * z);
            a * a
        })
    }

    /// The length map `q ↦ σ_w² E[φ(√q z)²] + σ_b²`.
    pub fn length_map(&self, q: f64) -> f64 {
        self.sigma_w2 * self.activation_moment(q) + self.sigma_b2
    }

    /// `q^1, …, q^depth` from an input of second moment `q_in`: `q^1 = σ_w² q_in + σ_b²` (the first layer
    /// sees the raw input), then the length map.
    pub fn trajectory(&self, q_in: f64, depth: usize) -> Vec<f64> {
        let mut q = Vec::with_capacity(depth);
        let mut cur = self.sigma_w2 * q_in + self.sigma_b2;
        for _ in 0..depth {
            q.push(cur);
            cur = self.length_map(cur);
        }
        q
    }

    /// `χ(q) = σ_w² E[φ'(√q z)²]`: the per-layer growth of the mean squared gradient at second moment `q`.
    pub fn chi(&self, q: f64) -> f64 {
        let s = q.max(0.0).sqrt();
        self.sigma_w2
            * self.rule.expect(|z| {
                let d = self.phi.derivative(s * z);
                d * d
            })
    }

    /// The fixed point `q*` of the length map reached from `q = 1`, or `None` if the iteration runs away
    /// (above 1e12) or collapses to 0 without a bias (linear and ReLU networks have no attracting fixed
    /// point away from `σ_w² E[φ(z)²] = 1`) or has not settled after 2000 iterations.
    pub fn fixed_point(&self) -> Option<f64> {
        let mut q = 1.0;
        for _ in 0..2000 {
            let next = self.length_map(q);
            if !next.is_finite() || next > 1e12 {
                return None;
            }
            if (next - q).abs() <= 1e-13 * q.max(1e-300) {
                return (next > 1e-200).then_some(next);
            }
            q = next;
        }
        None
    }

    /// `χ₁ = σ_w² E[φ'(√q* z)²]` at the fixed point.
    pub fn chi1(&self) -> Option<f64> {
        self.fixed_point().map(|q| self.chi(q))
    }

    /// The correlation map at `q*`: `c ↦ (σ_w² E[φ(u₁)φ(u₂)] + σ_b²)/q*` (a product Gauss–Hermite rule).
    pub fn correlation_map(&self, q_star: f64, c: f64) -> f64 {
        let s = q_star.sqrt();
        let c = c.clamp(-1.0, 1.0);
        let r = (1.0 - c * c).max(0.0).sqrt();
        let f = |z1: f64, z2: f64| self.phi.apply(s * z1) * self.phi.apply(s * (c * z1 + r * z2));
        let e = if self.phi.kinked() && r > 0.0 {
            // The second factor's kink sits at z₂ = −c z₁/r, which moves with z₁: split the inner rule there.
            self.rule2
                .expect(|z1| split_normal(-c * z1 / r).expect(|z2| f(z1, z2)))
        } else {
            self.rule2.expect2_product(f)
        };
        (self.sigma_w2 * e + self.sigma_b2) / q_star
    }

    /// The correlations `c^0 = c0, c^1, …, c^depth` of two inputs through the correlation map at `q*`.
    pub fn correlation_trajectory(&self, q_star: f64, c0: f64, depth: usize) -> Vec<f64> {
        let mut out = vec![c0];
        let mut c = c0;
        for _ in 0..depth {
            c = self.correlation_map(q_star, c);
            out.push(c);
        }
        out
    }
}

/// The depth scale `ξ = −1/ln χ₁` (Schoenholz et al. 2017): the number of layers over which a gradient
/// (or a correlation near 1) changes by a factor `e`. Infinite at the edge of chaos.
pub fn depth_scale(chi1: f64) -> f64 {
    -1.0 / crate::math::ln(chi1)
}

/// The `σ_w²` on the edge of chaos (`χ₁ = 1`) for `phi` and `σ_b²`, by bisection on `[lo, hi]` where `χ₁ − 1`
/// changes sign; `None` if it does not.
pub fn critical_sigma_w2(phi: Nonlin, sigma_b2: f64, lo: f64, hi: f64) -> Option<f64> {
    let f = |s: f64| MeanField::new(phi, s, sigma_b2).chi1().map(|c| c - 1.0);
    let (mut a, mut b) = (lo, hi);
    let (fa, fb) = (f(a)?, f(b)?);
    if fa * fb > 0.0 {
        return None;
    }
    let mut fa = fa;
    for _ in 0..60 {
        let m = 0.5 * (a + b);
        let fm = f(m)?;
        if fm * fa <= 0.0 {
            b = m;
        } else {
            a = m;
            fa = fm;
        }
    }
    Some(0.5 * (a + b))
}

/// The ReLU correlation map in closed form (the degree-1 arc-cosine kernel of Cho & Saul, "Kernel Methods for
/// Deep Learning", NeurIPS 2009) with `σ_w² = 2`, `σ_b² = 0`: `c ↦ (√(1 − c²) + (π − arccos c)·c)/π`.
pub fn relu_correlation_closed_form(c: f64) -> f64 {
    let c = c.clamp(-1.0, 1.0);
    let theta = acos(c);
    ((1.0 - c * c).sqrt() + (std::f64::consts::PI - theta) * c) / std::f64::consts::PI
}

/// `arccos` by Newton's method on `cos θ = c` (the engine's math module has `cos` and `sin`, not `acos`).
fn acos(c: f64) -> f64 {
    let mut t = std::f64::consts::FRAC_PI_2 - c; // a starting guess within the basin on [−1, 1]
    for _ in 0..60 {
        let s = crate::math::sin(t);
        if s.abs() < 1e-300 {
            break;
        }
        let step = (crate::math::cos(t) - c) / s;
        t = (t + step).clamp(0.0, std::f64::consts::PI);
        if step.abs() < 1e-15 {
            break;
        }
    }
    t
}

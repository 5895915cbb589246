//! Gauss–Hermite quadrature for expectations over a standard normal: `E[f(z)] ≈ Σ_i w_i f(x_i)`.
//!
//! The nodes are the roots of the Hermite polynomial `H_n`, found by Newton's method on the orthonormal
//! recurrence with the starting guesses of Press, Teukolsky, Vetterling & Flannery, *Numerical Recipes*
//! (3rd ed., 2007, §4.6, `gauher`); the weights `2/H̃'_n(x)²` integrate against `e^{−x²}`, and the change of
//! variable `z = √2 x` with the factor `1/√π` turns them into an expectation over `N(0, 1)`. An `n`-node rule
//! is exact for polynomials of degree `2n − 1`.
//!
//! The nodes come in `±` pairs with equal weights, so the rule really integrates the even part
//! `(f(z) + f(−z))/2`. That matters for the kinked activations: `relu(x)² + relu(−x)² = x²` and
//! `relu'(x)² + relu'(−x)² = 1` are polynomials, so the ReLU length map and `χ₁` come out exact (with an even
//! `n`, no node sits on the kink). It does not save SELU, whose even part has a jump in its third derivative at
//! 0: there the Gauss–Hermite error falls only like `n⁻²` (measured: 9.5e-5 at 96 nodes for `E[selu(z)²] − 1`).
//! Gauss–Hermite also converges slowly when the integrand has poles near the real axis, as `tanh'(√q z)²` does
//! for larger `q`. So the lesson's one-dimensional expectations use [`graded_normal`] (Gauss–Legendre panels
//! split at 0 and graded towards it); [`split_normal`] (uniform panels split at any point, exact to rounding
//! for a function smooth on each side; the mass beyond ±12 is below 1e-32) serves the inner integral of the
//! ReLU-like correlation map, and Gauss–Hermite the smooth correlation map and the widgets' curves.

/// The number of nodes the lesson uses: enough for 1e-12 on the smooth activations at `q ≤ 100`.
pub const DEFAULT_NODES: usize = 96;

/// A quadrature rule for `N(0, 1)` expectations: Gauss–Hermite ([`GaussHermite::new`]) or split
/// Gauss–Legendre ([`split_normal`]).
#[derive(Debug, Clone)]
pub struct GaussHermite {
    /// Nodes `z_i` (already scaled by √2).
    pub nodes: Vec<f64>,
    /// Weights, summing to 1.
    pub weights: Vec<f64>,
}

impl GaussHermite {
    /// The `n`-node rule (`n ≥ 1`).
    pub fn new(n: usize) -> GaussHermite {
        let n = n.max(1);
        // π^{-1/4}, the leading coefficient of the orthonormal Hermite function at order 0.
        const PIM4: f64 = 0.751_125_544_464_942_5;
        let mut x = vec![0.0; n];
        let mut w = vec![0.0; n];
        let m = n.div_ceil(2);
        let nf = n as f64;
        let mut z = 0.0;
        // The recurrence's coefficients √(2/(j+1)) and √(j/(j+1)), computed once.
        let up: Vec<f64> = (0..n).map(|j| (2.0 / (j as f64 + 1.0)).sqrt()).collect();
        let down: Vec<f64> = (0..n).map(|j| (j as f64 / (j as f64 + 1.0)).sqrt()).collect();
        for i in 0..m {
            z = match i {
                0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * crate::math::powf(2.0 * nf + 1.0, -0.16667),
                1 => z - 1.14 * crate::math::powf(nf, 0.426) / z,
                2 => 1.86 * z - 0.86 * x[0],
                3 => 1.91 * z - 0.91 * x[1],
                _ => 2.0 * z - x[i - 2],
            };
            let mut pp = 1.0;
            // Newton converges quadratically from these guesses; ten iterations and Numerical Recipes'
            // 3e-14 stop are enough (a tighter stop can stall at rounding and spend the whole budget).
            for _ in 0..10 {
                let (mut p1, mut p2) = (PIM4, 0.0);
                for (a, b) in up.iter().zip(&down) {
                    let p3 = p2;
                    p2 = p1;
                    p1 = z * a * p2 - b * p3;
                }
                pp = (2.0 * nf).sqrt() * p2;
                let z1 = z;
                z = z1 - p1 / pp;
                if (z - z1).abs() <= 3e-14 {
                    break;
                }
            }
            x[i] = z;
            x[n - 1 - i] = -z;
            w[i] = 2.0 / (pp * pp);
            w[n - 1 - i] = w[i];
        }
        let norm = 1.0 / std::f64::consts::PI.sqrt();
        GaussHermite {
            nodes: x.iter().map(|v| v * std::f64::consts::SQRT_2).collect(),
            weights: w.iter().map(|v| v * norm).collect(),
        }
    }

    /// `E[f(z)]`, `z ~ N(0, 1)`.
    pub fn expect(&self, f: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(z, w)| w * f(*z))
            .sum()
    }

    /// `E[f(z₁, z₂)]` over two independent standard normals (the product rule).
    pub fn expect2_product(&self, f: impl Fn(f64, f64) -> f64) -> f64 {
        let mut s = 0.0;
        for (z1, w1) in self.nodes.iter().zip(&self.weights) {
            let mut inner = 0.0;
            for (z2, w2) in self.nodes.iter().zip(&self.weights) {
                inner += w2 * f(*z1, *z2);
            }
            s += w1 * inner;
        }
        s
    }
}

/// Gauss–Legendre nodes and weights on `[−1, 1]`, by Newton's method on the Legendre recurrence (Press et
/// al., *Numerical Recipes*, 3rd ed., §4.6, `gauleg`).
pub fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let n = n.max(1);
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    let nf = n as f64;
    for i in 0..n.div_ceil(2) {
        let mut z = crate::math::cos(std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5));
        let mut pp = 1.0;
        for _ in 0..100 {
            let (mut p1, mut p2) = (1.0, 0.0);
            for j in 0..n {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = ((2.0 * jf + 1.0) * z * p2 - jf * p3) / (jf + 1.0);
            }
            pp = nf * (z * p1 - p2) / (z * z - 1.0);
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-15 {
                break;
            }
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * pp * pp);
        w[n - 1 - i] = w[i];
    }
    (x, w)
}

/// Half-width of the split rule's support: `P(|z| > 12) ≈ 3.5e-33`.
const SPLIT_RANGE: f64 = 12.0;
/// Panels per side and Gauss–Legendre nodes per panel of the split rule.
const SPLIT_PANELS: usize = 6;
const SPLIT_ORDER: usize = 14;

/// Nodes and weights (density included) of composite Gauss–Legendre on `[a, b]`.
fn panels(a: f64, b: f64, gl: &(Vec<f64>, Vec<f64>), out: &mut GaussHermite) {
    if b <= a {
        return;
    }
    let h = (b - a) / SPLIT_PANELS as f64;
    for p in 0..SPLIT_PANELS {
        let mid = a + (p as f64 + 0.5) * h;
        for (t, w) in gl.0.iter().zip(&gl.1) {
            let z = mid + 0.5 * h * t;
            out.nodes.push(z);
            out.weights.push(0.5 * h * w * crate::activation::normal_pdf(z));
        }
    }
}

/// Panel boundaries of [`graded_normal`] on one side: geometric from 2⁻⁷ to 1, then unit panels to 12.
const GRADED_EDGES: [f64; 20] = [
    0.0,
    0.007_812_5,
    0.015_625,
    0.031_25,
    0.0625,
    0.125,
    0.25,
    0.5,
    1.0,
    2.0,
    3.0,
    4.0,
    5.0,
    6.0,
    7.0,
    8.0,
    9.0,
    10.0,
    11.0,
    12.0,
];

/// The accurate `N(0, 1)` rule the lesson's quantities and `dlf calc init` use: 16-node Gauss–Legendre panels
/// on `[−12, 12]`, split at 0 and graded towards it (panel widths from 2⁻⁷ near 0 to 1 beyond `|z| = 1`), so
/// that both a kink at 0 and a feature as narrow as `φ(√q z)` for `q` up to about 10⁴ are resolved. Measured
/// against scipy's adaptive `quad`: about 1e-15 relative on `E[tanh'(√q z)²]` at `q = 1.55`, where 96-node
/// Gauss–Hermite is off by 2e-7 (the integrand's poles at `z = ±iπ/(2√q)` sit close to the real axis).
pub fn graded_normal() -> GaussHermite {
    let gl = gauss_legendre(16);
    let mut r = GaussHermite {
        nodes: Vec::with_capacity(2 * 19 * 16),
        weights: Vec::with_capacity(2 * 19 * 16),
    };
    for pair in GRADED_EDGES.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        for (t, w) in gl.0.iter().zip(&gl.1) {
            for sign in [-1.0, 1.0] {
                let z = sign * (mid + half * t);
                r.nodes.push(z);
                r.weights
                    .push(half * w * crate::activation::normal_pdf(z));
            }
        }
    }
    r
}

/// The `N(0, 1)` rule split at `s`: Gauss–Legendre panels on `[−12, s]` and `[s, 12]`, exact to rounding
/// for an integrand that is smooth on each side of `s`.
pub fn split_normal(s: f64) -> GaussHermite {
    let gl = gauss_legendre(SPLIT_ORDER);
    let s = s.clamp(-SPLIT_RANGE, SPLIT_RANGE);
    let mut r = GaussHermite {
        nodes: Vec::with_capacity(2 * SPLIT_PANELS * SPLIT_ORDER),
        weights: Vec::with_capacity(2 * SPLIT_PANELS * SPLIT_ORDER),
    };
    panels(-SPLIT_RANGE, s, &gl, &mut r);
    panels(s, SPLIT_RANGE, &gl, &mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_of_the_normal_are_exact() {
        let g = GaussHermite::new(DEFAULT_NODES);
        assert!((g.expect(|_| 1.0) - 1.0).abs() < 1e-13);
        assert!((g.expect(|z| z * z) - 1.0).abs() < 1e-12);
        // E[z⁴] = 3, E[z⁶] = 15, E[z⁸] = 105 (double factorials).
        assert!((g.expect(|z| z.powi(4)) - 3.0).abs() < 1e-11);
        assert!((g.expect(|z| z.powi(8)) - 105.0).abs() < 1e-9);
        // E[e^z] = e^{1/2}.
        let want = crate::math::exp(0.5);
        assert!((g.expect(crate::math::exp) - want).abs() < 1e-12);
        let split = split_normal(0.0);
        assert!((split.expect(|z| z.powi(4)) - 3.0).abs() < 1e-12);
        // E[relu(z)] = 1/√(2π), and SELU's constants make E[selu(z)²] = 1 (Klambauer et al. 2017).
        let relu_mean = split.expect(|z| z.max(0.0));
        assert!((relu_mean - crate::activation::normal_pdf(0.0)).abs() < 1e-14);
        let selu2 = split.expect(|z| super::super::Nonlin::Selu.apply(z).powi(2));
        assert!((selu2 - 1.0).abs() < 1e-13, "{selu2}");
        let graded = graded_normal();
        assert!((graded.expect(|z| z.powi(4)) - 3.0).abs() < 1e-12);
        let g_selu2 = graded.expect(|z| super::super::Nonlin::Selu.apply(z).powi(2));
        assert!((g_selu2 - 1.0).abs() < 1e-13, "{g_selu2}");
        // scipy: 1.5·quad(sech⁴(√1.55 z)·φ(z)) = 0.5842784522820855.
        let chi = 1.5
            * graded.expect(|z| {
                let t = crate::math::tanh(1.55f64.sqrt() * z);
                (1.0 - t * t).powi(2)
            });
        assert!((chi - 0.584_278_452_282_085_5).abs() < 1e-13, "{chi}");
        let small = GaussHermite::new(5);
        assert!((small.expect(|z| z.powi(8)) - 105.0).abs() < 1e-9, "degree 2n−1 = 9 is exact");
    }
}

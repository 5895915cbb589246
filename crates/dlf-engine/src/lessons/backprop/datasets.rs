//! Two-dimensional toy classification sets for the trainer widget, seeded and with Gaussian noise.
//!
//! Every generator places the noiseless points deterministically, adds independent `N(0, noise²)` noise to
//! each coordinate, and shuffles the order with the same seeded [`Rng`] — so a seed fixes the data exactly,
//! and the classes are interleaved (useful if a caller takes mini-batches). All sets are centred near the
//! origin with coordinates roughly in `[-1.5, 1.5]` (before noise), a scale at which standard
//! initialisations work without input normalisation.
//!
//! | kind | classes | noiseless geometry |
//! | --- | --- | --- |
//! | moons | 2 | two interleaved half circles of radius 1 (the shape of scikit-learn's `make_moons`), shifted by `(-0.5, -0.25)` |
//! | circles | 2 | concentric circles of radius 1 (class 0) and 0.5 (class 1) |
//! | xor | 2 | uniform in `[-1, 1]²`, class 1 when the two coordinates have opposite signs |
//! | spirals | 2 (or K with [`make_spirals`]) | K arms `r(cos θ, sin θ)`, `r` from 0.05 to 1, `θ = 2πk/K + 3πr` (one and a half turns), after Lang & Witbrock's two-spirals task (1988) |

use crate::rng::Rng;
use std::f64::consts::{PI, TAU};

/// Which toy set to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    /// Two interleaved half circles.
    Moons,
    /// Two concentric circles.
    Circles,
    /// The four quadrants, labelled by the sign of `x·y`.
    Xor,
    /// Interleaved spiral arms.
    Spirals,
}

impl DatasetKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DatasetKind; 4] = [
        DatasetKind::Moons,
        DatasetKind::Circles,
        DatasetKind::Xor,
        DatasetKind::Spirals,
    ];

    /// Parses `"moons"`, `"circles"`, `"xor"` or `"spirals"` (ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<DatasetKind> {
        DatasetKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }

    /// The lower-case name that [`DatasetKind::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Moons => "moons",
            DatasetKind::Circles => "circles",
            DatasetKind::Xor => "xor",
            DatasetKind::Spirals => "spirals",
        }
    }
}

/// A labelled set of points in the plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset2D {
    /// The points.
    pub x: Vec<[f64; 2]>,
    /// The class of each point, in `0..classes`.
    pub y: Vec<usize>,
    /// Number of classes.
    pub classes: usize,
}

impl Dataset2D {
    /// The points as an `n × 2` [`crate::tensor::Tensor`], ready for [`crate::lessons::backprop::mlp::Mlp::train_step`].
    pub fn x_tensor(&self) -> crate::tensor::Tensor {
        crate::tensor::Tensor::from_fn(self.x.len(), 2, |r, c| self.x[r][c])
    }
}

/// `n` points of the given kind with Gaussian noise of standard deviation `noise` on each coordinate.
pub fn make_dataset(kind: DatasetKind, n: usize, noise: f64, seed: u64) -> Dataset2D {
    let mut rng = Rng::new(seed);
    let mut data = match kind {
        DatasetKind::Moons => moons(n),
        DatasetKind::Circles => circles(n),
        DatasetKind::Xor => xor(n, &mut rng),
        DatasetKind::Spirals => spirals(n, 2),
    };
    finish(&mut data, noise, &mut rng);
    data
}

/// `n` points on `classes` interleaved spiral arms (at least 2), with Gaussian noise as in [`make_dataset`].
pub fn make_spirals(n: usize, classes: usize, noise: f64, seed: u64) -> Dataset2D {
    let mut rng = Rng::new(seed);
    let mut data = spirals(n, classes.max(2));
    finish(&mut data, noise, &mut rng);
    data
}

/// Size of class `k` when `n` points are split over `classes` as evenly as possible.
fn class_size(n: usize, classes: usize, k: usize) -> usize {
    n / classes + usize::from(k < n % classes)
}

/// Evenly spaced positions `i / (m - 1)` in `[0, 1]` (just `0` when `m == 1`).
fn fraction(i: usize, m: usize) -> f64 {
    if m <= 1 {
        0.0
    } else {
        i as f64 / (m - 1) as f64
    }
}

fn moons(n: usize) -> Dataset2D {
    let mut d = Dataset2D {
        x: Vec::with_capacity(n),
        y: Vec::with_capacity(n),
        classes: 2,
    };
    for k in 0..2 {
        let m = class_size(n, 2, k);
        for i in 0..m {
            let t = PI * fraction(i, m);
            let p = if k == 0 {
                [crate::math::cos(t), crate::math::sin(t)]
            } else {
                [1.0 - crate::math::cos(t), 0.5 - crate::math::sin(t)]
            };
            d.x.push([p[0] - 0.5, p[1] - 0.25]);
            d.y.push(k);
        }
    }
    d
}

fn circles(n: usize) -> Dataset2D {
    let mut d = Dataset2D {
        x: Vec::with_capacity(n),
        y: Vec::with_capacity(n),
        classes: 2,
    };
    for (k, radius) in [(0, 1.0), (1, 0.5)] {
        let m = class_size(n, 2, k);
        for i in 0..m {
            let t = TAU * i as f64 / m as f64;
            d.x.push([radius * crate::math::cos(t), radius * crate::math::sin(t)]);
            d.y.push(k);
        }
    }
    d
}

fn xor(n: usize, rng: &mut Rng) -> Dataset2D {
    let mut d = Dataset2D {
        x: Vec::with_capacity(n),
        y: Vec::with_capacity(n),
        classes: 2,
    };
    for _ in 0..n {
        let p = [2.0 * rng.uniform() - 1.0, 2.0 * rng.uniform() - 1.0];
        d.y.push(usize::from((p[0] < 0.0) != (p[1] < 0.0)));
        d.x.push(p);
    }
    d
}

fn spirals(n: usize, classes: usize) -> Dataset2D {
    let mut d = Dataset2D {
        x: Vec::with_capacity(n),
        y: Vec::with_capacity(n),
        classes,
    };
    for k in 0..classes {
        let m = class_size(n, classes, k);
        for i in 0..m {
            let r = 0.05 + 0.95 * fraction(i, m);
            let theta = TAU * k as f64 / classes as f64 + 3.0 * PI * r;
            d.x.push([r * crate::math::cos(theta), r * crate::math::sin(theta)]);
            d.y.push(k);
        }
    }
    d
}

/// Adds the coordinate noise and shuffles points and labels together.
fn finish(d: &mut Dataset2D, noise: f64, rng: &mut Rng) {
    for p in &mut d.x {
        p[0] += noise * rng.normal();
        p[1] += noise * rng.normal();
    }
    let mut order: Vec<usize> = (0..d.x.len()).collect();
    rng.shuffle(&mut order);
    d.x = order.iter().map(|&i| d.x[i]).collect();
    d.y = order.iter().map(|&i| d.y[i]).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_labels_and_determinism() {
        for kind in DatasetKind::ALL {
            let d = make_dataset(kind, 201, 0.1, 5);
            assert_eq!(d.x.len(), 201);
            assert_eq!(d.y.len(), 201);
            assert!(d.y.iter().all(|&c| c < d.classes));
            assert_eq!(
                make_dataset(kind, 201, 0.1, 5),
                d,
                "{} not deterministic",
                kind.name()
            );
            assert_ne!(
                make_dataset(kind, 201, 0.1, 6),
                d,
                "{} ignores its seed",
                kind.name()
            );
            assert_eq!(DatasetKind::parse(kind.name()), Some(kind));
        }
        let s = make_spirals(300, 3, 0.0, 1);
        assert_eq!(s.classes, 3);
        for k in 0..3 {
            assert_eq!(s.y.iter().filter(|&&c| c == k).count(), 100);
        }
    }

    #[test]
    fn noiseless_geometry() {
        // Without noise, moon 0 lies on the unit circle centred at (-0.5, -0.25) and moon 1 on the unit circle
        // centred at (0.5, 0.25) (the original centres (0, 0) and (1, 0.5), shifted).
        let d = make_dataset(DatasetKind::Moons, 100, 0.0, 1);
        for (p, &c) in d.x.iter().zip(&d.y) {
            let centre = if c == 0 { [-0.5, -0.25] } else { [0.5, 0.25] };
            let r = ((p[0] - centre[0]).powi(2) + (p[1] - centre[1]).powi(2)).sqrt();
            assert!((r - 1.0).abs() < 1e-12);
        }
        let d = make_dataset(DatasetKind::Circles, 100, 0.0, 1);
        for (p, &c) in d.x.iter().zip(&d.y) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((r - if c == 0 { 1.0 } else { 0.5 }).abs() < 1e-12);
        }
        let d = make_dataset(DatasetKind::Xor, 100, 0.0, 1);
        for (p, &c) in d.x.iter().zip(&d.y) {
            assert_eq!(c == 1, p[0] * p[1] < 0.0);
        }
    }

    #[test]
    fn noise_has_the_requested_spread() {
        // Residuals from the noiseless circles have standard deviation `noise` in each coordinate; the radial
        // residual of a circle point is their projection on the radius, also N(0, noise²) (to first order).
        // With 4000 points the sample sd has relative standard error 1/sqrt(2·4000) ≈ 1.1%; allow 5%.
        let noise = 0.05;
        let d = make_dataset(DatasetKind::Circles, 4000, noise, 9);
        let var: f64 =
            d.x.iter()
                .zip(&d.y)
                .map(|(p, &c)| {
                    let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
                    (r - if c == 0 { 1.0 } else { 0.5 }).powi(2)
                })
                .sum::<f64>()
                / 4000.0;
        assert!((var.sqrt() / noise - 1.0).abs() < 0.05, "sd {}", var.sqrt());
    }
}

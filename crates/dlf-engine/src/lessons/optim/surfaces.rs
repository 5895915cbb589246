//! 2-D surfaces for the optimizer race and the trajectory of an optimizer on one.

use super::*;
use crate::rng::Rng;

/// A 2-D loss surface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Surface {
    /// An ill-conditioned bowl `f(x, y) = ½(x² + y²/κ)`.
    Quadratic {
        /// Condition number κ = largest/smallest curvature.
        kappa: f64,
    },
    /// Rosenbrock's banana `f = (1 − x)² + 100 (y − x²)²` (Rosenbrock 1960), scaled by 1/100.
    Rosenbrock,
    /// A saddle with a floor: `f = ½x² − ½y² + y⁴/4` — minima at `(0, ±1)`, a saddle at the origin.
    Saddle,
}

impl Surface {
    /// Parses `quadratic` (with the given κ), `rosenbrock` or `saddle`.
    pub fn parse(s: &str, kappa: f64) -> Option<Surface> {
        match s.trim().to_ascii_lowercase().as_str() {
            "quadratic" => Some(Surface::Quadratic { kappa }),
            "rosenbrock" => Some(Surface::Rosenbrock),
            "saddle" => Some(Surface::Saddle),
            _ => None,
        }
    }

    /// `f(x, y)`. The quadratic is `½(x² + y²/κ)`: curvature 1 along x, 1/κ along y, so the largest stable
    /// plain-GD learning rate is 2 whatever κ is and the slow direction takes ~κ steps.
    pub fn value(&self, x: f64, y: f64) -> f64 {
        match *self {
            Surface::Quadratic { kappa } => 0.5 * (x * x + y * y / kappa),
            Surface::Rosenbrock => ((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)) / 100.0,
            Surface::Saddle => 0.5 * x * x - 0.5 * y * y + 0.25 * y.powi(4),
        }
    }

    /// `∇f(x, y)`.
    pub fn grad(&self, x: f64, y: f64) -> [f64; 2] {
        match *self {
            Surface::Quadratic { kappa } => [x, y / kappa],
            Surface::Rosenbrock => [
                (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x)) / 100.0,
                200.0 * (y - x * x) / 100.0,
            ],
            Surface::Saddle => [x, -y + y.powi(3)],
        }
    }

    /// The minimum value of the surface.
    pub fn min_value(&self) -> f64 {
        match self {
            Surface::Quadratic { .. } | Surface::Rosenbrock => 0.0,
            Surface::Saddle => -0.25,
        }
    }

    /// A default start point and plotting box `[x0, x1, y0, y1]`.
    pub fn start_and_box(&self) -> ([f64; 2], [f64; 4]) {
        match self {
            Surface::Quadratic { .. } => ([-1.8, 1.6], [-2.0, 2.0, -2.0, 2.0]),
            Surface::Rosenbrock => ([-1.2, 1.0], [-1.6, 1.6, -0.6, 1.6]),
            Surface::Saddle => ([-1.5, 1e-3], [-2.0, 2.0, -1.6, 1.6]),
        }
    }
}

/// Runs an optimizer on a surface from `start` for `steps` steps with the `schedule` and optional Gaussian
/// gradient noise of standard deviation `noise` (seeded); returns every point (the start first). A
/// trajectory that leaves `|x|, |y| ≤ 1e6` stops there.
pub fn trajectory(
    surface: Surface,
    config: Config,
    schedule: Schedule,
    start: [f64; 2],
    steps: usize,
    noise: f64,
    seed: u64,
) -> Result<Vec<[f64; 2]>, OptimError> {
    let mut opt = Optimizer::new(config, &[2])?;
    let mut rng = Rng::new(seed);
    let mut p = start;
    let mut out = Vec::with_capacity(steps + 1);
    out.push(p);
    for t in 1..=steps as u64 {
        let mut g = surface.grad(p[0], p[1]);
        if noise > 0.0 {
            g[0] += noise * rng.normal();
            g[1] += noise * rng.normal();
        }
        if !(g[0].is_finite() && g[1].is_finite()) {
            break;
        }
        opt.step(&mut p, &g, config.lr * schedule.multiplier(t))?;
        out.push(p);
        if !(p[0].abs() <= 1e6 && p[1].abs() <= 1e6) {
            break;
        }
    }
    Ok(out)
}

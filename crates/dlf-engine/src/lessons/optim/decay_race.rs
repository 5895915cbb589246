//! AdamW against Adam + L2 on a two-parameter problem.

use super::*;
use crate::rng::Rng;

/// The two-parameter problem on which Adam + L2 and AdamW differ: `f(p) = ½ Σᵢ aᵢ (pᵢ − 1)²` with curvatures
/// `a = (a_big, a_small)`, so the gradient scales differ by `a_big/a_small`, started at `p = (1, 1)` (the
/// unregularised optimum). Returns the parameters after `steps` steps of `kind` (Adam: λ as L2; AdamW:
/// decoupled λ) with learning rate `lr` and optional N(0, noise²) gradient noise, every step recorded.
pub fn decay_race(
    kind: Kind,
    a: [f64; 2],
    lr: f64,
    weight_decay: f64,
    noise: f64,
    steps: usize,
    seed: u64,
) -> Vec<[f64; 2]> {
    let mut c = Config::new(kind, lr);
    c.weight_decay = weight_decay;
    let mut out = Vec::with_capacity(steps + 1);
    let mut p = [1.0, 1.0];
    out.push(p);
    let Ok(mut opt) = Optimizer::new(c, &[2]) else {
        return out;
    };
    let mut rng = Rng::new(seed);
    for _ in 0..steps {
        let g = [
            a[0] * (p[0] - 1.0) + noise * a[0] * rng.normal(),
            a[1] * (p[1] - 1.0) + noise * a[1] * rng.normal(),
        ];
        if opt.step(&mut p, &g, lr).is_err() {
            break;
        }
        out.push(p);
    }
    out
}

/// The mean of coordinate `coord` over the second half of a recorded path (the first half is discarded as
/// the transient), e.g. of [`decay_race`]: with gradient noise the end point is one random draw, and the
/// time average is what an equilibrium argument predicts. `NaN` for an empty path.
pub fn second_half_mean(path: &[[f64; 2]], coord: usize) -> f64 {
    let tail = &path[path.len() / 2..];
    if tail.is_empty() || coord > 1 {
        return f64::NAN;
    }
    tail.iter().map(|p| p[coord]).sum::<f64>() / tail.len() as f64
}

/// The fixed point of gradient descent on `f + (λ/2)‖p‖²` for [`decay_race`]'s problem, coordinate `i`:
/// `aᵢ/(aᵢ + λ)` — where Adam + L2 converges without noise, since its fixed points are the stationary points
/// of the regularised loss.
pub fn l2_fixed_point(a: f64, weight_decay: f64) -> f64 {
    a / (a + weight_decay)
}

//! The closed-form backward pass of [`super::sdpa_backward`] checked two independent ways, as numbers the
//! lesson quotes: against the autograd tape (which composes matmul, transpose, scale and masked softmax and
//! differentiates each), and against central finite differences of the forward pass ([`crate::gradcheck`]).

use super::{sdpa, sdpa_backward, CausalAlign, Mask, MaskFill, SdpaOptions};
use crate::autograd::{AttentionMask, Graph};
use crate::error::ShapeError;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// A random problem: `Q` (`t × d`), `K`, `V` (`s × d`) and `dO` (`t × d`), entries `N(0, 1)`.
pub fn problem(t: usize, s: usize, d: usize, seed: u64) -> [Tensor; 4] {
    let mut rng = Rng::new(seed);
    [
        Tensor::randn(&[t, d], 1.0, &mut rng),
        Tensor::randn(&[s, d], 1.0, &mut rng),
        Tensor::randn(&[s, d], 1.0, &mut rng),
        Tensor::randn(&[t, d], 1.0, &mut rng),
    ]
}

/// The largest absolute difference between the closed-form `dQ, dK, dV` and the tape's, for a causal
/// (bottom-right, the tape's alignment) or unmasked problem.
///
/// # Errors
/// If a shape does not fit (it cannot for these problems).
pub fn tape_difference(
    t: usize,
    s: usize,
    d: usize,
    causal: bool,
    seed: u64,
) -> Result<f64, ShapeError> {
    let [q, k, v, d_out] = problem(t, s, d, seed);
    let mask = if causal {
        Mask::causal(t, s, CausalAlign::BottomRight)
    } else {
        Mask::none(t, s)
    };
    let opts = SdpaOptions::default();
    let f = sdpa(&q, &k, &v, &mask, &opts)?;
    let closed = sdpa_backward(&f, &q, &k, &v, &mask, MaskFill::NegInf, &d_out)?;

    let mut g = Graph::new();
    let (qv, kv, vv) = (g.param(q), g.param(k), g.param(v));
    let dov = g.constant(d_out);
    let kt = g.transpose(kv);
    let scores = g.matmul(qv, kt)?;
    let scores = g.scale(scores, f.scale);
    let tape_mask = if causal {
        AttentionMask::causal()
    } else {
        AttentionMask::none()
    };
    let weights = g.masked_softmax(scores, &tape_mask)?;
    let out = g.matmul(weights, vv)?;
    let weighted = g.mul(out, dov)?;
    let loss = g.sum(weighted);
    g.backward(loss)?;
    let mut worst: f64 = f.out.max_abs_diff(g.value(out))?;
    for (mine, var) in [(&closed.dq, qv), (&closed.dk, kv), (&closed.dv, vv)] {
        worst = worst.max(mine.max_abs_diff(g.grad(var))?);
    }
    Ok(worst)
}

/// The relative error (CS231n's, over all entries) between the closed-form gradient of
/// `L = Σ dO ⊙ O` with respect to `Q`, `K` and `V` together and central differences (`h = 1e-6`), with a
/// causal top-left mask, one query row fully masked by key padding, and the given fill.
///
/// # Errors
/// If a shape does not fit (it cannot for these problems).
pub fn finite_difference_error(fill: MaskFill, seed: u64) -> Result<f64, ShapeError> {
    let (t, s, d) = (4, 5, 3);
    let [q, k, v, d_out] = problem(t, s, d, seed);
    // Under the top-left causal mask query 0 sees key 0 only; hiding that entry too leaves query 0 with no
    // key at all, so the check covers a fully masked row as well as ordinary hidden entries.
    let mut mask = Mask::causal(t, s, CausalAlign::TopLeft);
    mask.visible[0] = false;
    let opts = SdpaOptions {
        scale: None,
        fill,
        fill_value: -30.0,
    };
    let f = sdpa(&q, &k, &v, &mask, &opts)?;
    let g = sdpa_backward(&f, &q, &k, &v, &mask, fill, &d_out)?;
    let x: Vec<f64> = [q.data(), k.data(), v.data()].concat();
    let analytic: Vec<f64> = [g.dq.data(), g.dk.data(), g.dv.data()].concat();
    let (nq, nk) = (q.len(), k.len());
    let loss = |x: &[f64]| -> f64 {
        let q = Tensor::new(&[t, d], x[..nq].to_vec()).expect("sized");
        let k = Tensor::new(&[s, d], x[nq..nq + nk].to_vec()).expect("sized");
        let v = Tensor::new(&[s, d], x[nq + nk..].to_vec()).expect("sized");
        let f = sdpa(&q, &k, &v, &mask, &opts).expect("same shapes");
        f.out.data().iter().zip(d_out.data()).map(|(a, b)| a * b).sum()
    };
    Ok(crate::gradcheck::check(loss, &x, &analytic, 1e-6).relative_error)
}

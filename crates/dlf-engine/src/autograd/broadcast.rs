//! numpy's broadcasting rule for the tape's binary operations, in any rank.
//!
//! Shapes are aligned at their last axis; along each axis the sizes must be equal or one of them 1, and a
//! missing leading axis counts as 1. So a `[1, D]` bias broadcasts over a `[B, T, D]` activation, and a
//! `[1, 1]` scalar over anything. The adjoint of broadcasting sums the gradient back over the axes an
//! operand was stretched along ([`reduce_to`]).

use crate::error::ShapeError;
use crate::tensor::{mismatch, Tensor};

/// Size of axis `i` of `shape` when it is aligned at the right with a shape of rank `rank`.
fn aligned_dim(shape: &[usize], rank: usize, i: usize) -> usize {
    let offset = rank - shape.len();
    if i < offset {
        1
    } else {
        shape[i - offset]
    }
}

/// The shape of the result of broadcasting `a` with `b`.
pub(super) fn broadcast_shape(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
) -> Result<Vec<usize>, ShapeError> {
    let (sa, sb) = (a.shape(), b.shape());
    let rank = sa.len().max(sb.len());
    (0..rank)
        .map(|i| {
            let (x, y) = (aligned_dim(sa, rank, i), aligned_dim(sb, rank, i));
            if x == y || y == 1 {
                Ok(x)
            } else if x == 1 {
                Ok(y)
            } else {
                Err(mismatch(op, a, b))
            }
        })
        .collect()
}

/// For each element of `out_shape`, in row-major order, the flat index of the element of a tensor of
/// shape `shape` (broadcastable to `out_shape`) that it reads.
fn source_offsets(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let rank = out_shape.len();
    let mut strides = vec![0; rank];
    let mut stride = 1;
    for i in (0..rank).rev() {
        let d = aligned_dim(shape, rank, i);
        strides[i] = if d == 1 { 0 } else { stride };
        stride *= d;
    }
    let n: usize = out_shape.iter().product();
    let mut offsets = Vec::with_capacity(n);
    let (mut index, mut offset) = (vec![0; rank], 0);
    for _ in 0..n {
        offsets.push(offset);
        // An odometer over the output's multi-index, carrying the source offset along.
        for axis in (0..rank).rev() {
            index[axis] += 1;
            offset += strides[axis];
            if index[axis] < out_shape[axis] {
                break;
            }
            offset -= strides[axis] * index[axis];
            index[axis] = 0;
        }
    }
    offsets
}

/// Whether `t` is a single row of `d` entries (`[1, d]`, `[1, 1, d]`, …).
fn is_row(t: &Tensor, d: usize) -> bool {
    t.len() == d && t.shape().last() == Some(&d)
}

/// `f(a[·], b[·])` over the broadcast shape `out_shape`.
pub(super) fn broadcast_zip(
    a: &Tensor,
    b: &Tensor,
    out_shape: &[usize],
    f: impl Fn(f64, f64) -> f64,
) -> Tensor {
    if a.shape() == b.shape() {
        return a.zip_map(b, f).expect("same shapes");
    }
    let (ad, bd) = (a.data(), b.data());
    let d = out_shape.last().copied().unwrap_or(1);
    // The common case of a bias: one row of the last axis's length against a full tensor.
    if is_row(b, d) && a.shape() == out_shape {
        let data = ad
            .chunks_exact(d.max(1))
            .flat_map(|row| row.iter().zip(bd).map(|(&x, &y)| f(x, y)))
            .collect();
        return Tensor::new(out_shape, data).expect("one value per output element");
    }
    let data = source_offsets(a.shape(), out_shape)
        .into_iter()
        .zip(source_offsets(b.shape(), out_shape))
        .map(|(i, j)| f(ad[i], bd[j]))
        .collect();
    Tensor::new(out_shape, data).expect("one value per output element")
}

/// Sums a gradient of the broadcast shape back to an input of shape `shape` (the adjoint of
/// broadcasting), adding the contributions to each input element in row-major order of the gradient.
/// Returns the reduced gradient and the FLOPs spent (0 when no reduction was needed).
pub(super) fn reduce_to(g: Tensor, shape: &[usize]) -> (Tensor, u64) {
    if g.shape() == shape {
        return (g, 0);
    }
    let mut out = vec![0.0; shape.iter().product()];
    let d = g.shape().last().copied().unwrap_or(1);
    if shape.last() == Some(&d) && out.len() == d {
        // A bias's gradient: the column sums, row after row (the order of the general path below).
        for row in g.data().chunks_exact(d.max(1)) {
            out.iter_mut().zip(row).for_each(|(o, &gv)| *o += gv);
        }
    } else {
        for (&gv, o) in g.data().iter().zip(source_offsets(shape, g.shape())) {
            out[o] += gv;
        }
    }
    let flops = g.len() as u64;
    (Tensor::new(shape, out).expect("sized by shape"), flops)
}

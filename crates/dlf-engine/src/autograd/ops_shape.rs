//! Operations that move elements without arithmetic: transpose of the last two axes, reshape, and the
//! split and merge of attention heads. They cost no FLOPs (copies are memory traffic), and each backward
//! pass is the inverse movement of the upstream gradient.

use super::{Graph, Op, Var};
use crate::error::ShapeError;
use crate::tensor::Tensor;

/// The tensor with its last two axes swapped (`[.., r, c] → [.., c, r]`).
pub(super) fn transpose_last(t: &Tensor) -> Tensor {
    let shape = t.shape();
    let rank = shape.len();
    let (r, c) = (shape[rank - 2], shape[rank - 1]);
    let mut out_shape = shape.to_vec();
    out_shape.swap(rank - 2, rank - 1);
    let mut out = vec![0.0; t.len()];
    for (src, dst) in t
        .data()
        .chunks_exact((r * c).max(1))
        .zip(out.chunks_exact_mut((r * c).max(1)))
    {
        for i in 0..r {
            for j in 0..c {
                dst[j * r + i] = src[i * c + j];
            }
        }
    }
    Tensor::new(&out_shape, out).expect("same number of elements")
}

/// Moves `[B, T, H, Dh]`-ordered data to `[B, H, T, Dh]` order (`split`) or back (`!split`).
pub(super) fn permute_heads(
    data: &[f64],
    (b, t, h, dh): (usize, usize, usize, usize),
    split: bool,
) -> Vec<f64> {
    let mut out = vec![0.0; data.len()];
    for bi in 0..b {
        for ti in 0..t {
            for hi in 0..h {
                let tokens_major = ((bi * t + ti) * h + hi) * dh;
                let heads_major = ((bi * h + hi) * t + ti) * dh;
                let (from, to) = if split {
                    (tokens_major, heads_major)
                } else {
                    (heads_major, tokens_major)
                };
                out[to..to + dh].copy_from_slice(&data[from..from + dh]);
            }
        }
    }
    out
}

fn invalid(op: &'static str, message: String) -> ShapeError {
    ShapeError::Invalid { op, message }
}

impl Graph {
    /// `aᵀ` over the last two axes: `[.., r, c] → [.., c, r]` (for a matrix, the transpose; for
    /// `[B, H, T, Dh]` keys, the `Kᵀ` of attention scores).
    pub fn transpose(&mut self, a: Var) -> Var {
        let value = transpose_last(self.value(a));
        let rg = self.rg(a);
        self.push(Op::Transpose(a), value, rg, 0)
    }

    /// The same elements, row-major, in shape `shape` (of rank 2 or more).
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `shape` has fewer than two axes; [`ShapeError::DataLength`] if it does not
    /// hold as many elements as `a`.
    pub fn reshape(&mut self, a: Var, shape: &[usize]) -> Result<Var, ShapeError> {
        if shape.len() < 2 {
            return Err(invalid(
                "reshape",
                format!("the tape keeps tensors of rank 2 or more, got shape {shape:?}"),
            ));
        }
        let value = self.value(a).clone().reshape(shape)?;
        let rg = self.rg(a);
        Ok(self.push(Op::Reshape(a), value, rg, 0))
    }

    /// Splits the features of `[B, T, H·Dh]` into `heads` heads: `[B, H, T, Dh]`, where head `h` holds
    /// features `h·Dh .. (h+1)·Dh` of every token (the layout of Vaswani et al. 2017's multi-head
    /// attention after the joint projection).
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `a` is not rank 3 or its last axis is not a multiple of `heads`.
    pub fn split_heads(&mut self, a: Var, heads: usize) -> Result<Var, ShapeError> {
        let shape = self.value(a).shape().to_vec();
        if shape.len() != 3 || heads == 0 || shape[2] % heads != 0 {
            return Err(invalid(
                "split_heads",
                format!("cannot split shape {shape:?} into {heads} heads along the last axis"),
            ));
        }
        let (b, t, dh) = (shape[0], shape[1], shape[2] / heads);
        let data = permute_heads(self.value(a).data(), (b, t, heads, dh), true);
        let value = Tensor::new(&[b, heads, t, dh], data).expect("same number of elements");
        let rg = self.rg(a);
        Ok(self.push(Op::SplitHeads(a, heads), value, rg, 0))
    }

    /// Merges `[B, H, T, Dh]` heads back into `[B, T, H·Dh]` (the inverse of [`Graph::split_heads`]).
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `a` is not rank 4.
    pub fn merge_heads(&mut self, a: Var) -> Result<Var, ShapeError> {
        let shape = self.value(a).shape().to_vec();
        if shape.len() != 4 {
            return Err(invalid(
                "merge_heads",
                format!("expected [B, H, T, Dh], got shape {shape:?}"),
            ));
        }
        let (b, h, t, dh) = (shape[0], shape[1], shape[2], shape[3]);
        let data = permute_heads(self.value(a).data(), (b, t, h, dh), false);
        let value = Tensor::new(&[b, t, h * dh], data).expect("same number of elements");
        let rg = self.rg(a);
        Ok(self.push(Op::MergeHeads(a), value, rg, 0))
    }
}

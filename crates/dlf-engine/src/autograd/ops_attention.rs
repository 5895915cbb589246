//! The attention-specific operations: the masked softmax over the last axis and the embedding lookup.
//!
//! Scaled dot-product attention (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. 1) is
//! `softmax(Q Kᵀ / √d_k + M) V` with `M` 0 where a query may look and `−∞` where it may not. Adding `−∞`
//! and exponentiating gives exactly 0, which is what [`Graph::masked_softmax`] computes directly: masked
//! entries are skipped when the row maximum and the sum are taken and get weight exactly 0, without any
//! infinity on the tape.
//!
//! **A fully masked row** (a padded query whose keys are all padding, or a key length of 0) has no
//! position to put weight on; `softmax` of a row of `−∞` is `0/0 = NaN` in IEEE arithmetic (a plain `torch.softmax` or
//! `jax.nn.softmax` of such a row returns NaN). Here such a row is **all zeros with zero
//! gradient**: the attention output for that query is the zero vector, and nothing flows back through it,
//! so one padded sequence cannot poison a batch with NaN.

use super::{Graph, Op, Var};
use crate::error::ShapeError;
use crate::tensor::Tensor;

/// Which key positions each query of a masked softmax may attend to.
///
/// The scores have shape `[.., T, S]` (`T` queries, `S` keys); query `i` and key `j` are kept when both
/// rules allow it:
/// - `causal`: `j ≤ i + (S − T)`, i.e. no query looks at a later position (with `S = T`, `j ≤ i`; with a
///   longer key sequence, the queries are taken to be its last `T` positions);
/// - `key_lengths`: for batch entry `b` (axis 0 of the scores) only keys `j < key_lengths[b]` are real,
///   the rest is padding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttentionMask {
    /// Hide later positions from each query.
    pub causal: bool,
    /// The number of real (non-padding) keys of each batch entry, if the batch is padded.
    pub key_lengths: Option<Vec<usize>>,
}

impl AttentionMask {
    /// No masking: an ordinary softmax over the last axis.
    pub fn none() -> AttentionMask {
        AttentionMask::default()
    }

    /// The causal (autoregressive, "look-ahead") mask.
    pub fn causal() -> AttentionMask {
        AttentionMask {
            causal: true,
            key_lengths: None,
        }
    }

    /// This mask with key padding: batch entry `b` has `lengths[b]` real keys.
    pub fn with_key_lengths(self, lengths: Vec<usize>) -> AttentionMask {
        AttentionMask {
            key_lengths: Some(lengths),
            ..self
        }
    }

    /// How many keys query `i` of batch entry `b` sees, for `t` queries and `s` keys: both rules keep a
    /// prefix of the keys, so the visible ones are exactly `0 .. visible_keys(..)`.
    pub fn visible_keys(&self, b: usize, i: usize, t: usize, s: usize) -> usize {
        // Causal: j ≤ i + (s − t), i.e. j < i + s + 1 − t (none when that is ≤ 0).
        let causal = if self.causal {
            (i + s + 1).saturating_sub(t).min(s)
        } else {
            s
        };
        let padding = self.key_lengths.as_ref().map_or(s, |l| l[b]);
        causal.min(padding)
    }
}

/// Softmax over the last axis of `x` where row `r` keeps only its first `visible(r)` entries: the rest,
/// and every entry of a row that keeps none, are exactly 0. Returns the result and the number of kept
/// entries. With every entry kept this is the ordinary max-subtracted softmax (the same operations in
/// the same order).
pub(super) fn softmax_last_axis(x: &Tensor, visible: impl Fn(usize) -> usize) -> (Tensor, usize) {
    let c = x.shape().last().copied().unwrap_or(1).max(1);
    let mut out = x.clone();
    let mut kept = 0;
    for (r, row) in out.data_mut().chunks_exact_mut(c).enumerate() {
        let (seen, hidden) = row.split_at_mut(visible(r).min(c));
        hidden.fill(0.0);
        kept += seen.len();
        if seen.is_empty() {
            continue;
        }
        let m = seen.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = 0.0;
        for v in seen.iter_mut() {
            *v = crate::math::exp(*v - m);
            s += *v;
        }
        for v in seen.iter_mut() {
            *v /= s;
        }
    }
    (out, kept)
}

/// The backward pass of a (masked) softmax over the last axis: `dx = y ⊙ (g − Σ_j g_j y_j)` per row.
/// Masked entries and fully masked rows have `y = 0` and so get exactly 0.
pub(super) fn softmax_backward(y: &Tensor, g: &Tensor) -> Tensor {
    let c = y.shape().last().copied().unwrap_or(1).max(1);
    let mut dx = y.clone();
    for ((d, yr), gr) in dx
        .data_mut()
        .chunks_exact_mut(c)
        .zip(y.data().chunks_exact(c))
        .zip(g.data().chunks_exact(c))
    {
        let dot: f64 = yr.iter().zip(gr).map(|(a, b)| a * b).sum();
        for ((dv, &yv), &gv) in d.iter_mut().zip(yr).zip(gr) {
            *dv = yv * (gv - dot);
        }
    }
    dx
}

fn invalid(op: &'static str, message: String) -> ShapeError {
    ShapeError::Invalid { op, message }
}

impl Graph {
    /// Softmax over the last axis of scores `[.., T, S]` with the positions `mask` hides at exactly 0 (see
    /// the module documentation; a fully masked row is all zeros with zero gradient).
    ///
    /// FLOPs: as [`Graph::softmax`], counted over the kept entries only (`5` per kept entry forward, `4`
    /// backward): a masked position is skipped, not computed.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `mask.key_lengths` is given for scores of rank 2, does not have one entry
    /// per batch entry (axis 0), or a length exceeds `S`.
    pub fn masked_softmax(&mut self, a: Var, mask: &AttentionMask) -> Result<Var, ShapeError> {
        let x = self.value(a);
        let shape = x.shape();
        let rank = shape.len();
        let (t, s) = (shape[rank - 2], shape[rank - 1]);
        if let Some(lengths) = &mask.key_lengths {
            if rank < 3 || lengths.len() != shape[0] {
                return Err(invalid(
                    "masked_softmax",
                    format!(
                        "{} key lengths for scores of shape {shape:?} (one per entry of axis 0 is needed)",
                        lengths.len()
                    ),
                ));
            }
            if let Some(&l) = lengths.iter().find(|&&l| l > s) {
                return Err(invalid(
                    "masked_softmax",
                    format!("key length {l} exceeds the {s} keys of the scores"),
                ));
            }
        }
        // Rows per batch entry: a row's batch entry is `row / rows_per_batch`, its query `row % T`.
        let rows_per_batch = if rank >= 3 {
            shape[1..rank - 1].iter().product::<usize>().max(1)
        } else {
            usize::MAX
        };
        let (value, kept) = softmax_last_axis(x, |r| {
            mask.visible_keys(r / rows_per_batch, r % t.max(1), t, s)
        });
        let rg = self.rg(a);
        let op = Op::MaskedSoftmax {
            input: a,
            mask: mask.clone(),
            kept,
        };
        Ok(self.push(op, value, rg, 5 * kept as u64))
    }

    /// Embedding lookup: row `ids[i]` of the `V × D` `table` for each index, giving shape
    /// `index_shape + [D]` (e.g. token ids `[B, T]` give `[B, T, D]`). The backward pass scatter-adds each
    /// output row's gradient into the row of the table it came from (an id used twice collects both), at
    /// `D` FLOPs per index; the forward pass is a copy and costs none.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `index_shape` does not hold `ids.len()` entries or an id is `≥ V`.
    pub fn embedding(
        &mut self,
        table: Var,
        ids: &[usize],
        index_shape: &[usize],
    ) -> Result<Var, ShapeError> {
        let t = self.value(table);
        let (v, d) = (t.rows(), t.cols());
        if index_shape.iter().product::<usize>() != ids.len() {
            return Err(invalid(
                "embedding",
                format!(
                    "index shape {index_shape:?} does not hold {} ids",
                    ids.len()
                ),
            ));
        }
        if let Some(&bad) = ids.iter().find(|&&i| i >= v) {
            return Err(invalid(
                "embedding",
                format!("id {bad} out of range for a table of {v} rows"),
            ));
        }
        let mut data = Vec::with_capacity(ids.len() * d);
        for &i in ids {
            data.extend_from_slice(t.row_slice(i));
        }
        let mut shape = index_shape.to_vec();
        shape.push(d);
        if shape.len() < 2 {
            shape.insert(0, 1);
        }
        let value = Tensor::new(&shape, data).expect("one row per id");
        let rg = self.rg(table);
        let op = Op::Embedding {
            table,
            ids: ids.to_vec(),
        };
        Ok(self.push(op, value, rg, 0))
    }
}

/// The four `d × d` projections of multi-head self-attention: queries, keys, values and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionWeights {
    /// `W_q`.
    pub wq: Var,
    /// `W_k`.
    pub wk: Var,
    /// `W_v`.
    pub wv: Var,
    /// `W_o`.
    pub wo: Var,
}

impl From<[Var; 4]> for AttentionWeights {
    /// `[W_q, W_k, W_v, W_o]`.
    fn from([wq, wk, wv, wo]: [Var; 4]) -> AttentionWeights {
        AttentionWeights { wq, wk, wv, wo }
    }
}

impl Graph {
    /// Multi-head self-attention of tokens `x` (`[B, T, d]`) as a composition of tape operations
    /// (Vaswani et al. 2017, §3.2.2): `Q = X W_q`, `K = X W_k`, `V = X W_v`, each split into `heads`
    /// heads of `d_h = d / heads`; per head `softmax(Q Kᵀ/√d_h)` with `mask` applied, times `V`; heads
    /// merged and projected by `W_o`. Returns the `[B, T, d]` output.
    ///
    /// # Errors
    /// [`ShapeError`] if `x` is not `[B, T, d]` with `d` a multiple of `heads`, the weights are not `d × d`,
    /// or the mask does not fit.
    pub fn self_attention(
        &mut self,
        x: Var,
        w: &AttentionWeights,
        heads: usize,
        mask: &AttentionMask,
    ) -> Result<Var, ShapeError> {
        let d = self.value(x).shape().last().copied().unwrap_or(1);
        let mut qkv = [w.wq, w.wk, w.wv];
        for p in &mut qkv {
            let projected = self.matmul(x, *p)?;
            *p = self.split_heads(projected, heads)?;
        }
        let [q, k, v] = qkv;
        let kt = self.transpose(k);
        let scores = self.matmul(q, kt)?;
        let scores = self.scale(scores, 1.0 / ((d / heads) as f64).sqrt());
        let weights = self.masked_softmax(scores, mask)?;
        let out = self.matmul(weights, v)?;
        let merged = self.merge_heads(out)?;
        self.matmul(merged, w.wo)
    }
}

/// The embedding's backward: `dTable[ids[i]] += G[i]` in index order.
pub(super) fn embedding_backward(table_shape: &[usize], ids: &[usize], g: &Tensor) -> Tensor {
    let d = table_shape.last().copied().unwrap_or(1).max(1);
    let mut out = Tensor::zeros(table_shape);
    for (&id, gr) in ids.iter().zip(g.data().chunks_exact(d)) {
        for (o, &gv) in out.data_mut()[id * d..(id + 1) * d].iter_mut().zip(gr) {
            *o += gv;
        }
    }
    out
}

//! Why attention needs positions: single-head self-attention `softmax(QKᵀ/√d + B)V` with `Q = XW_q`,
//! `K = XW_k`, `V = XW_v` is permutation-equivariant — permuting the rows (tokens) of `X` permutes the rows of
//! the output the same way, `Attn(PX) = P·Attn(X)` — unless something ties a row to its place: an encoding
//! added to `X`, RoPE on `Q` and `K`, a bias `B` that depends on `i − j`, or a causal mask. This module runs
//! that experiment; the lesson derives it.

use crate::error::ShapeError;
use crate::lessons::posenc::{
    alibi_bias, alibi_slopes, apply_rope, frequencies_for_base, sinusoidal, Pairing,
    SinusoidLayout, DEFAULT_BASE,
};
use crate::math;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Which position information the attention layer gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Positions {
    /// None at all.
    None,
    /// Sinusoids added to the input rows.
    Sinusoidal,
    /// RoPE on the queries and keys.
    Rope,
    /// ALiBi's bias (one head: slope 1/2).
    Alibi,
}

impl Positions {
    /// Parses `none`, `sinusoidal`, `rope`, `alibi`.
    pub fn parse(s: &str) -> Option<Positions> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "nope" => Some(Positions::None),
            "sinusoidal" => Some(Positions::Sinusoidal),
            "rope" => Some(Positions::Rope),
            "alibi" => Some(Positions::Alibi),
            _ => None,
        }
    }
}

/// Row-wise softmax of `logits`, with `masked(i, j)` entries excluded (weight 0).
pub fn softmax_rows(logits: &Tensor, masked: impl Fn(usize, usize) -> bool) -> Tensor {
    let (n, m) = (logits.rows(), logits.cols());
    let mut out = Tensor::zeros(&[n, m]);
    for i in 0..n {
        let max = (0..m)
            .filter(|&j| !masked(i, j))
            .map(|j| logits.get2(i, j))
            .fold(f64::NEG_INFINITY, f64::max);
        let mut sum = 0.0;
        for j in (0..m).filter(|&j| !masked(i, j)) {
            let e = math::exp(logits.get2(i, j) - max);
            out.set2(i, j, e);
            sum += e;
        }
        for j in 0..m {
            out.set2(i, j, out.get2(i, j) / sum);
        }
    }
    out
}

/// One attention layer's weights, drawn once.
#[derive(Debug, Clone)]
pub struct Layer {
    wq: Tensor,
    wk: Tensor,
    wv: Tensor,
}

impl Layer {
    /// `d × d` projections with `N(0, 1/d)` entries.
    pub fn random(d: usize, rng: &mut Rng) -> Layer {
        let std = 1.0 / (d as f64).sqrt();
        Layer {
            wq: Tensor::randn(&[d, d], std, rng),
            wk: Tensor::randn(&[d, d], std, rng),
            wv: Tensor::randn(&[d, d], std, rng),
        }
    }

    /// The layer's output for the token rows `x`, with the given position information, token `r` sitting at
    /// position `r`.
    ///
    /// # Errors
    /// Shapes that do not fit.
    pub fn forward(&self, x: &Tensor, positions: Positions, causal: bool) -> Result<Tensor, ShapeError> {
        let (n, d) = (x.rows(), x.cols());
        let pos: Vec<f64> = (0..n).map(|p| p as f64).collect();
        let x = match positions {
            Positions::Sinusoidal => {
                let pe = sinusoidal(&pos, d, DEFAULT_BASE, SinusoidLayout::Interleaved)?;
                x.zip_map(&pe, |a, b| a + b)?
            }
            _ => x.clone(),
        };
        let mut q = x.matmul(&self.wq)?;
        let mut k = x.matmul(&self.wk)?;
        let v = x.matmul(&self.wv)?;
        if positions == Positions::Rope {
            let f = frequencies_for_base(d, DEFAULT_BASE);
            q = apply_rope(&q, &pos, &f, Pairing::Interleaved, 1.0)?;
            k = apply_rope(&k, &pos, &f, Pairing::Interleaved, 1.0)?;
        }
        let mut logits = q.matmul_nt(&k)?.map(|s| s / (d as f64).sqrt());
        if positions == Positions::Alibi {
            let slope = alibi_slopes(16)?[0];
            logits = logits.zip_map(&alibi_bias(slope, n), |a, b| a + b)?;
        }
        softmax_rows(&logits, |i, j| causal && j > i).matmul(&v)
    }
}

/// `max |Attn(PX) − P·Attn(X)|` for random tokens `X` (`n × d`, `N(0, 1)`), a random layer and the cyclic
/// shift `P` (row `r` moves to `r + 1 mod n`). Zero to rounding exactly when the layer cannot see positions.
/// (The cyclic shift, not the reversal: a symmetric bias `−m|i − j|` is unchanged by reversing the sequence,
/// so the reversal would not reveal it.)
///
/// # Errors
/// Shapes that do not fit.
pub fn permutation_error(
    n: usize,
    d: usize,
    positions: Positions,
    causal: bool,
    seed: u64,
) -> Result<f64, ShapeError> {
    let mut rng = Rng::new(seed);
    let layer = Layer::random(d, &mut rng);
    let x = Tensor::randn(&[n, d], 1.0, &mut rng);
    // Row r of P·T is row r − 1 (mod n) of T.
    let shift = |t: &Tensor| {
        let n = t.rows();
        Tensor::from_fn(n, t.cols(), |r, c| t.get2((r + n - 1) % n, c))
    };
    let out = layer.forward(&x, positions, causal)?;
    let out_of_permuted = layer.forward(&shift(&x), positions, causal)?;
    out_of_permuted.max_abs_diff(&shift(&out))
}

//! Attention (lesson 04): scaled dot-product attention written out in closed form, forward and backward,
//! with the conventions in which libraries differ as options, and multi-head attention from the input `X`.
//!
//! **Scaled dot-product attention** (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. 1): for
//! queries `Q ∈ R^{T×d_k}`, keys `K ∈ R^{S×d_k}` and values `V ∈ R^{S×d_v}`,
//!
//! `Z = s·Q Kᵀ` (`s = 1/√d_k` unless given), `P = softmax_rows(Z + M)`, `O = P V`,
//!
//! where the mask `M` hides key `j` from query `i`. How a hidden entry enters the softmax is a convention
//! ([`MaskFill`]): removed (`−∞`), replaced by a finite constant, or a finite constant added.
//!
//! **Backward** (the closed form the lesson derives; the tape of [`crate::autograd`] computes the same by
//! composition, and the tests compare both with finite differences): with upstream gradient `dO`,
//!
//! - `dV = Pᵀ dO`, `dP = dO Vᵀ`;
//! - through each row's softmax Jacobian `diag(p) − p pᵀ`: `dZ_ij = P_ij (dP_ij − Σ_k P_ik dP_ik)` for every
//!   entry whose logit depends on `Z` (a visible one, or a hidden one under [`MaskFill::Additive`]), else 0;
//! - `dQ = s·dZ K`, `dK = s·dZᵀ Q`.
//!
//! **Multi-head attention** (Vaswani et al. 2017, §3.2.2): `Q = X W_q + b_q`, `K = X W_k + b_k`,
//! `V = X W_v + b_v`; head `h` owns columns `h·d_h .. (h+1)·d_h` of each (as PyTorch's
//! `nn.MultiheadAttention` and Hugging Face's models reshape them); the heads' outputs are concatenated and
//! projected, `Y = concat(O_1 … O_H) W_o + b_o`. A fused `W_qkv` is split into `W_q, W_k, W_v` by a
//! [`QkvLayout`].

use crate::error::ShapeError;
use crate::tensor::Tensor;

pub mod cost;
pub mod gradient_checks;
mod estimates;
pub mod map;
mod quantities;
pub mod saturation;

/// Lesson 04's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "attention",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};
#[cfg(test)]
mod tests;

fn invalid(op: &'static str, message: String) -> ShapeError {
    ShapeError::Invalid { op, message }
}

/// Where a causal mask's diagonal sits when there are `T` queries and `S ≠ T` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CausalAlign {
    /// Query `i` sees keys `j ≤ i`: the queries are the first `T` positions. PyTorch's
    /// `scaled_dot_product_attention(is_causal=True)` and `causal_upper_left`.
    TopLeft,
    /// Query `i` sees keys `j ≤ i + S − T`: the queries are the last `T` positions, as when decoding with a
    /// cache of earlier keys. FlashAttention from version 2.1, PyTorch's `causal_lower_right`, and this
    /// engine's [`crate::autograd::AttentionMask`].
    BottomRight,
}

impl CausalAlign {
    /// Every alignment, in the order `--help` lists them.
    pub const ALL: [CausalAlign; 2] = [CausalAlign::TopLeft, CausalAlign::BottomRight];

    /// `top-left` or `bottom-right`.
    pub fn name(self) -> &'static str {
        match self {
            CausalAlign::TopLeft => "top-left",
            CausalAlign::BottomRight => "bottom-right",
        }
    }

    /// Parses a name (also `upper-left`, `lower-right`).
    pub fn parse(s: &str) -> Option<CausalAlign> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "top-left" | "upper-left" => Some(CausalAlign::TopLeft),
            "bottom-right" | "lower-right" => Some(CausalAlign::BottomRight),
            _ => None,
        }
    }
}

/// How a hidden (masked) score enters the softmax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskFill {
    /// The entry is `−∞`: weight exactly 0, and a row with every key hidden is all zeros with zero gradient
    /// (PyTorch's `scaled_dot_product_attention` with a boolean mask, which zeroes fully masked rows since
    /// version 2.5; a plain softmax of a row of `−∞` is `0/0 = NaN`).
    NegInf,
    /// The entry is *replaced* by a finite constant `c` (`scores.masked_fill(mask == 0, -1e9)` in The
    /// Annotated Transformer): weight `≈ e^{c − max}`, and a fully masked row becomes uniform `1/S`.
    MaskedFill,
    /// A finite constant `c` is *added* to the entry (BERT's `(1 − mask)·(−10000)`, Hugging Face's extended
    /// attention mask with the dtype's minimum): a fully masked row becomes the softmax of its raw scores,
    /// since a softmax ignores a shift shared by the whole row.
    Additive,
}

impl MaskFill {
    /// Every fill, in the order `--help` lists them.
    pub const ALL: [MaskFill; 3] = [MaskFill::NegInf, MaskFill::MaskedFill, MaskFill::Additive];

    /// `neg-inf`, `masked-fill` or `additive`.
    pub fn name(self) -> &'static str {
        match self {
            MaskFill::NegInf => "neg-inf",
            MaskFill::MaskedFill => "masked-fill",
            MaskFill::Additive => "additive",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<MaskFill> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        MaskFill::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// How the columns of a fused `d_model × 3d` projection `W_qkv` are assigned to queries, keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QkvLayout {
    /// `[Q | K | V]`: three blocks of `d` columns, each then split into heads (GPT-2's `c_attn`, PyTorch's
    /// `nn.MultiheadAttention.in_proj_weight`).
    Blocks,
    /// `[q_0 k_0 v_0 | q_1 k_1 v_1 | …]`: per head, its query, key and value columns side by side (GPT-NeoX,
    /// BLOOM, Megatron-LM's fused projection).
    PerHead,
}

impl QkvLayout {
    /// Every layout, in the order `--help` lists them.
    pub const ALL: [QkvLayout; 2] = [QkvLayout::Blocks, QkvLayout::PerHead];

    /// `blocks` or `per-head`.
    pub fn name(self) -> &'static str {
        match self {
            QkvLayout::Blocks => "blocks",
            QkvLayout::PerHead => "per-head",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<QkvLayout> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        QkvLayout::ALL.into_iter().find(|f| f.name() == s)
    }

    /// For column `c` of the fused `3d`-column output: which of Q, K, V (0, 1, 2) and which column of it.
    pub fn source(self, c: usize, d: usize, heads: usize) -> (usize, usize) {
        match self {
            QkvLayout::Blocks => (c / d, c % d),
            QkvLayout::PerHead => {
                let dh = d / heads;
                let (h, r) = (c / (3 * dh), c % (3 * dh));
                (r / dh, h * dh + r % dh)
            }
        }
    }

    /// Splits the columns of a fused `rows × 3d` matrix (a weight, or a bias as one row) into Q, K and V.
    ///
    /// # Errors
    /// If the columns are not `3d` with `d` a multiple of `heads`.
    pub fn split(self, fused: &Tensor, heads: usize) -> Result<[Tensor; 3], ShapeError> {
        let (r, c3) = (fused.rows(), fused.cols());
        if heads == 0 || c3 % 3 != 0 || (c3 / 3) % heads != 0 {
            return Err(invalid(
                "qkv split",
                format!("{c3} fused columns are not 3·d with d a multiple of {heads} heads"),
            ));
        }
        let d = c3 / 3;
        let mut out = [Tensor::zeros(&[r, d]), Tensor::zeros(&[r, d]), Tensor::zeros(&[r, d])];
        for i in 0..r {
            for c in 0..c3 {
                let (which, col) = self.source(c, d, heads);
                out[which].set2(i, col, fused.get2(i, c));
            }
        }
        Ok(out)
    }

    /// The inverse of [`QkvLayout::split`]: Q, K, V (each `rows × d`) back into the fused layout.
    pub fn merge(self, parts: &[Tensor; 3], heads: usize) -> Tensor {
        let (r, d) = (parts[0].rows(), parts[0].cols());
        Tensor::from_fn(r, 3 * d, |i, c| {
            let (which, col) = self.source(c, d, heads);
            parts[which].get2(i, col)
        })
    }
}

/// Which keys each query may see: a `T × S` table of booleans, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    /// Queries.
    pub t: usize,
    /// Keys.
    pub s: usize,
    /// `visible[i·S + j]`: query `i` may attend to key `j`.
    pub visible: Vec<bool>,
}

impl Mask {
    /// Every key visible to every query.
    pub fn none(t: usize, s: usize) -> Mask {
        Mask {
            t,
            s,
            visible: vec![true; t * s],
        }
    }

    /// The causal mask with the given alignment.
    pub fn causal(t: usize, s: usize, align: CausalAlign) -> Mask {
        let mut m = Mask::none(t, s);
        let offset = match align {
            CausalAlign::TopLeft => 0,
            CausalAlign::BottomRight => s as isize - t as isize,
        };
        for i in 0..t {
            for j in 0..s {
                m.visible[i * s + j] = j as isize <= i as isize + offset;
            }
        }
        m
    }

    /// This mask with keys `j ≥ length` hidden (key padding).
    pub fn with_key_length(mut self, length: usize) -> Mask {
        for i in 0..self.t {
            for j in length.min(self.s)..self.s {
                self.visible[i * self.s + j] = false;
            }
        }
        self
    }

    /// This mask combined (AND) with another of the same shape.
    pub fn and(mut self, other: &Mask) -> Mask {
        for (a, b) in self.visible.iter_mut().zip(&other.visible) {
            *a = *a && *b;
        }
        self
    }

    /// Whether query `i` may see key `j`.
    pub fn sees(&self, i: usize, j: usize) -> bool {
        self.visible[i * self.s + j]
    }

    /// The number of visible (query, key) pairs.
    pub fn visible_count(&self) -> usize {
        self.visible.iter().filter(|&&v| v).count()
    }

    /// The queries that see no key at all.
    pub fn fully_masked_rows(&self) -> Vec<usize> {
        (0..self.t)
            .filter(|&i| (0..self.s).all(|j| !self.sees(i, j)))
            .collect()
    }
}

/// The options of one scaled dot-product attention.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SdpaOptions {
    /// The factor on `Q Kᵀ`; `None` means `1/√d_k`.
    pub scale: Option<f64>,
    /// How hidden entries enter the softmax.
    pub fill: MaskFill,
    /// The constant `c` of [`MaskFill::MaskedFill`] and [`MaskFill::Additive`] (ignored for `NegInf`).
    pub fill_value: f64,
}

impl Default for SdpaOptions {
    fn default() -> SdpaOptions {
        SdpaOptions {
            scale: None,
            fill: MaskFill::NegInf,
            fill_value: -1e9,
        }
    }
}

/// The forward pass of one head, with what the backward pass reuses.
#[derive(Debug, Clone, PartialEq)]
pub struct SdpaForward {
    /// The factor used on `Q Kᵀ`.
    pub scale: f64,
    /// `Z = s·Q Kᵀ`, `T × S`, before any mask.
    pub scores: Tensor,
    /// The softmax weights `P`, `T × S` (hidden entries 0 under `NegInf`).
    pub weights: Tensor,
    /// `O = P V`, `T × d_v`.
    pub out: Tensor,
}

/// The gradients of one head.
#[derive(Debug, Clone, PartialEq)]
pub struct SdpaGrads {
    /// `dP = dO Vᵀ`.
    pub d_weights: Tensor,
    /// `dZ`, the gradient with respect to the scaled scores `Z`.
    pub d_scores: Tensor,
    /// `dQ = s·dZ K`.
    pub dq: Tensor,
    /// `dK = s·dZᵀ Q`.
    pub dk: Tensor,
    /// `dV = Pᵀ dO`.
    pub dv: Tensor,
}

/// Whether entry `(i, j)`'s logit depends on the score `Z_ij` under `fill`.
fn depends_on_score(mask: &Mask, fill: MaskFill, i: usize, j: usize) -> bool {
    mask.sees(i, j) || fill == MaskFill::Additive
}

/// Scaled dot-product attention of one head (see the module documentation).
///
/// # Errors
/// If `Q` and `K` differ in width, `K` and `V` in length, or the mask is not `T × S`.
pub fn sdpa(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Mask,
    opts: &SdpaOptions,
) -> Result<SdpaForward, ShapeError> {
    let (t, dk) = (q.rows(), q.cols());
    let s = k.rows();
    if k.cols() != dk {
        return Err(invalid(
            "attention",
            format!("queries have width {dk} but keys {}", k.cols()),
        ));
    }
    if v.rows() != s {
        return Err(invalid(
            "attention",
            format!("{s} keys but {} values", v.rows()),
        ));
    }
    if mask.t != t || mask.s != s {
        return Err(invalid(
            "attention",
            format!("a {}×{} mask for {t} queries and {s} keys", mask.t, mask.s),
        ));
    }
    let scale = opts.scale.unwrap_or(1.0 / (dk as f64).sqrt());
    let scores = q.matmul_nt(k)?.map(|z| z * scale);
    let mut weights = Tensor::zeros(&[t, s]);
    let mut logits = vec![0.0; s];
    for i in 0..t {
        let mut kept = vec![false; s];
        for j in 0..s {
            let z = scores.get2(i, j);
            let (keep, logit) = match (mask.sees(i, j), opts.fill) {
                (true, _) => (true, z),
                (false, MaskFill::NegInf) => (false, 0.0),
                (false, MaskFill::MaskedFill) => (true, opts.fill_value),
                (false, MaskFill::Additive) => (true, z + opts.fill_value),
            };
            kept[j] = keep;
            logits[j] = logit;
        }
        // Max-subtracted softmax over the kept entries; a row with none stays all zeros.
        let m = (0..s)
            .filter(|&j| kept[j])
            .map(|j| logits[j])
            .fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            continue;
        }
        let mut sum = 0.0;
        for j in (0..s).filter(|&j| kept[j]) {
            let e = crate::math::exp(logits[j] - m);
            weights.set2(i, j, e);
            sum += e;
        }
        for j in 0..s {
            weights.set2(i, j, weights.get2(i, j) / sum);
        }
    }
    let out = weights.matmul(v)?;
    Ok(SdpaForward {
        scale,
        scores,
        weights,
        out,
    })
}

/// The closed-form backward pass of [`sdpa`] (see the module documentation).
///
/// # Errors
/// If `dO` does not have the output's shape.
pub fn sdpa_backward(
    f: &SdpaForward,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Mask,
    fill: MaskFill,
    d_out: &Tensor,
) -> Result<SdpaGrads, ShapeError> {
    if d_out.shape() != f.out.shape() {
        return Err(invalid(
            "attention backward",
            format!(
                "upstream gradient of shape {:?} for an output of shape {:?}",
                d_out.shape(),
                f.out.shape()
            ),
        ));
    }
    let (t, s) = (f.weights.rows(), f.weights.cols());
    let dv = f.weights.matmul_tn(d_out)?;
    let d_weights = d_out.matmul_nt(v)?;
    let mut d_scores = Tensor::zeros(&[t, s]);
    for i in 0..t {
        let p = f.weights.row_slice(i);
        let g = d_weights.row_slice(i);
        let dot: f64 = p.iter().zip(g).map(|(a, b)| a * b).sum();
        for j in 0..s {
            if depends_on_score(mask, fill, i, j) {
                d_scores.set2(i, j, p[j] * (g[j] - dot));
            }
        }
    }
    let dq = d_scores.matmul(k)?.map(|x| x * f.scale);
    let dk = d_scores.matmul_tn(q)?.map(|x| x * f.scale);
    Ok(SdpaGrads {
        d_weights,
        d_scores,
        dq,
        dk,
        dv,
    })
}

/// Columns `h·w .. (h+1)·w` of `m`.
pub fn head_columns(m: &Tensor, h: usize, w: usize) -> Tensor {
    Tensor::from_fn(m.rows(), w, |i, c| m.get2(i, h * w + c))
}

/// Adds `part` into columns `h·w ..` of `m`.
fn add_head_columns(m: &mut Tensor, part: &Tensor, h: usize) {
    let w = part.cols();
    for i in 0..part.rows() {
        for c in 0..w {
            m.set2(i, h * w + c, m.get2(i, h * w + c) + part.get2(i, c));
        }
    }
}

/// Multi-head attention over given `Q` (`T × d`), `K` (`S × d`), `V` (`S × d_v`): head `h` owns columns
/// `h·d/H ..` of `Q` and `K` and `h·d_v/H ..` of `V`. Returns each head's forward pass and the
/// concatenated output (`T × d_v`).
///
/// # Errors
/// If the widths are not multiples of `heads`, or as [`sdpa`].
pub fn multi_head(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    heads: usize,
    mask: &Mask,
    opts: &SdpaOptions,
) -> Result<(Vec<SdpaForward>, Tensor), ShapeError> {
    let (d, dv) = (q.cols(), v.cols());
    if heads == 0 || d % heads != 0 || dv % heads != 0 {
        return Err(invalid(
            "multi-head attention",
            format!("widths {d} (queries, keys) and {dv} (values) must be multiples of {heads} heads"),
        ));
    }
    let (dh, dvh) = (d / heads, dv / heads);
    let mut out = Tensor::zeros(&[q.rows(), dv]);
    let mut per_head = Vec::with_capacity(heads);
    for h in 0..heads {
        let f = sdpa(
            &head_columns(q, h, dh),
            &head_columns(k, h, dh),
            &head_columns(v, h, dvh),
            mask,
            opts,
        )?;
        add_head_columns(&mut out, &f.out, h);
        per_head.push(f);
    }
    Ok((per_head, out))
}

/// The gradients of [`multi_head`]: each head's, and `dQ`, `dK`, `dV` assembled.
///
/// # Errors
/// As [`sdpa_backward`].
#[allow(clippy::too_many_arguments)]
pub fn multi_head_backward(
    per_head: &[SdpaForward],
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: &Mask,
    fill: MaskFill,
    d_out: &Tensor,
) -> Result<(Vec<SdpaGrads>, [Tensor; 3]), ShapeError> {
    let heads = per_head.len();
    let (dh, dvh) = (q.cols() / heads, v.cols() / heads);
    let mut dq = Tensor::zeros(q.shape());
    let mut dk = Tensor::zeros(k.shape());
    let mut dv = Tensor::zeros(v.shape());
    let mut grads = Vec::with_capacity(heads);
    for (h, f) in per_head.iter().enumerate() {
        let g = sdpa_backward(
            f,
            &head_columns(q, h, dh),
            &head_columns(k, h, dh),
            &head_columns(v, h, dvh),
            mask,
            fill,
            &head_columns(d_out, h, dvh),
        )?;
        add_head_columns(&mut dq, &g.dq, h);
        add_head_columns(&mut dk, &g.dk, h);
        add_head_columns(&mut dv, &g.dv, h);
        grads.push(g);
    }
    Ok((grads, [dq, dk, dv]))
}

/// `X W + b` (a bias of `None` is zero).
///
/// # Errors
/// If the shapes do not fit.
pub fn affine(x: &Tensor, w: &Tensor, b: Option<&[f64]>) -> Result<Tensor, ShapeError> {
    let mut y = x.matmul(w)?;
    if let Some(b) = b {
        if b.len() != y.cols() {
            return Err(invalid(
                "affine",
                format!("a bias of {} entries for {} outputs", b.len(), y.cols()),
            ));
        }
        let c = y.cols();
        for (i, v) in y.data_mut().iter_mut().enumerate() {
            *v += b[i % c];
        }
    }
    Ok(y)
}

/// The column sums of `m` (a bias gradient).
pub fn column_sums(m: &Tensor) -> Vec<f64> {
    (0..m.cols())
        .map(|c| (0..m.rows()).map(|r| m.get2(r, c)).sum())
        .collect()
}

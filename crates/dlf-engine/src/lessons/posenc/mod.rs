//! Positional encodings (lesson 05): sinusoidal encodings, rotary embeddings (RoPE) with their two pairing
//! conventions and three context-extension rules, and ALiBi's per-head linear biases.
//!
//! Attention without positions is permutation-equivariant ([`equivariance`]); each scheme here breaks that
//! symmetry in a different place:
//!
//! - **Sinusoidal** (Vaswani et al., "Attention Is All You Need", NeurIPS 2017, §3.5): a fixed vector added to
//!   the token embedding, `PE(p, 2i) = sin(p·ω_i)`, `PE(p, 2i+1) = cos(p·ω_i)`, `ω_i = b^(−2i/d)`, `b = 10000`.
//!   The tensor2tensor / fairseq code lays the same sines and cosines out as `[sin | cos]` with
//!   `ω_i = b^(−i/(d/2 − 1))` ([`SinusoidLayout`]).
//! - **RoPE** (Su et al., "RoFormer: Enhanced Transformer with Rotary Position Embedding", 2021): rotate pair
//!   `i` of the query and of the key at position `p` by the angle `p·θ_i`, `θ_i = b^(−2i/d)`. Because a rotation
//!   by `m·θ` followed by the transpose of a rotation by `n·θ` is a rotation by `(m − n)·θ`,
//!   `⟨R_m q, R_n k⟩ = ⟨q, R_(n−m) k⟩` depends on the offset only. Which coordinates form a pair is a
//!   convention ([`Pairing`]).
//! - **Context extension of RoPE** ([`Scaling`]): position interpolation (Chen et al. 2023) divides every
//!   frequency by the factor `s`; "NTK-aware" scaling (bloc97, 2023) raises the base to `b·s^(d/(d−2))`; YaRN
//!   (Peng et al. 2023) interpolates only the low frequencies, with a linear ramp in the number of rotations a
//!   pair makes over the original context, and scales the logits by `(0.1·ln s + 1)²`.
//! - **ALiBi** (Press, Smith & Lewis, "Train Short, Test Long", ICLR 2022): no embedding at all; head `h` adds
//!   `−m_h·(i − j)` to the logit of query `i` and key `j ≤ i`, with geometric slopes ([`alibi_slopes`]).

use crate::error::ShapeError;
use crate::math;
use crate::tensor::Tensor;

pub mod curves;
pub mod equivariance;
mod estimates;
mod quantities;

/// Lesson 05's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "posenc",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};
#[cfg(test)]
mod tests;

/// The base every reference implementation uses for sinusoids and RoPE unless configured otherwise.
pub const DEFAULT_BASE: f64 = 10_000.0;

fn invalid(op: &'static str, message: impl Into<String>) -> ShapeError {
    ShapeError::Invalid {
        op,
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Sinusoidal encodings.

/// How the sines and cosines of a sinusoidal encoding are laid out and which frequencies they use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinusoidLayout {
    /// The paper's formula: column `2i` is `sin(p·ω_i)`, column `2i + 1` is `cos(p·ω_i)`, `ω_i = b^(−2i/d)`
    /// (Vaswani et al. 2017, §3.5; the Annotated Transformer and PyTorch's tutorial code).
    Interleaved,
    /// tensor2tensor's `get_timing_signal_1d` and fairseq's `SinusoidalPositionalEmbedding`: the first half of
    /// the columns are sines, the second half cosines, with `ω_i = b^(−i/(d/2 − 1))`, so the slowest
    /// frequency is exactly `1/b`.
    Tensor2Tensor,
}

impl SinusoidLayout {
    /// Every layout.
    pub const ALL: [SinusoidLayout; 2] = [SinusoidLayout::Interleaved, SinusoidLayout::Tensor2Tensor];

    /// `interleaved` or `tensor2tensor`.
    pub fn name(self) -> &'static str {
        match self {
            SinusoidLayout::Interleaved => "interleaved",
            SinusoidLayout::Tensor2Tensor => "tensor2tensor",
        }
    }

    /// Parses a name; `paper` and `fairseq` are accepted as aliases.
    pub fn parse(s: &str) -> Option<SinusoidLayout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "interleaved" | "paper" => Some(SinusoidLayout::Interleaved),
            "tensor2tensor" | "fairseq" => Some(SinusoidLayout::Tensor2Tensor),
            _ => None,
        }
    }
}

/// The `d/2` angular frequencies `ω_i` of a sinusoidal encoding of width `dim` (see [`SinusoidLayout`]).
///
/// # Errors
/// An odd or too small `dim` (tensor2tensor's spacing needs `d/2 ≥ 2`), or a base that is not above 1.
pub fn sinusoid_frequencies(
    dim: usize,
    base: f64,
    layout: SinusoidLayout,
) -> Result<Vec<f64>, ShapeError> {
    let min = match layout {
        SinusoidLayout::Interleaved => 2,
        SinusoidLayout::Tensor2Tensor => 4,
    };
    if dim < min || dim % 2 != 0 {
        return Err(invalid(
            "sinusoidal",
            format!("dim must be even and at least {min} for the {} layout, got {dim}", layout.name()),
        ));
    }
    check_base("sinusoidal", base)?;
    let half = dim / 2;
    Ok((0..half)
        .map(|i| match layout {
            SinusoidLayout::Interleaved => math::powf(base, -((2 * i) as f64) / dim as f64),
            SinusoidLayout::Tensor2Tensor => math::powf(base, -(i as f64) / (half - 1) as f64),
        })
        .collect())
}

fn check_base(op: &'static str, base: f64) -> Result<(), ShapeError> {
    if base.is_finite() && base > 1.0 {
        Ok(())
    } else {
        Err(invalid(op, format!("base must be a finite number above 1, got {base}")))
    }
}

/// The sinusoidal encodings of `positions` (one row each), `dim` columns.
///
/// # Errors
/// As [`sinusoid_frequencies`].
pub fn sinusoidal(
    positions: &[f64],
    dim: usize,
    base: f64,
    layout: SinusoidLayout,
) -> Result<Tensor, ShapeError> {
    let freqs = sinusoid_frequencies(dim, base, layout)?;
    let half = dim / 2;
    let mut out = Tensor::zeros(&[positions.len(), dim]);
    for (r, &p) in positions.iter().enumerate() {
        for (i, &w) in freqs.iter().enumerate() {
            let (s, c) = (math::sin(p * w), math::cos(p * w));
            let (cs, cc) = match layout {
                SinusoidLayout::Interleaved => (2 * i, 2 * i + 1),
                SinusoidLayout::Tensor2Tensor => (i, half + i),
            };
            out.set2(r, cs, s);
            out.set2(r, cc, c);
        }
    }
    Ok(out)
}

/// The matrix `M_k` with `PE(p + k) = M_k · PE(p)` for every `p` (interleaved layout): block-diagonal, one
/// 2×2 rotation `[[cos kω_i, sin kω_i], [−sin kω_i, cos kω_i]]` per frequency, acting on `(sin, cos)`.
/// It follows from `sin(a + b) = sin a cos b + cos a sin b` and `cos(a + b) = cos a cos b − sin a sin b`, and
/// does not depend on `p`: a fixed offset is a linear map of the encoding (Vaswani et al. 2017, §3.5).
///
/// # Errors
/// As [`sinusoid_frequencies`].
pub fn sinusoid_shift_matrix(dim: usize, base: f64, offset: f64) -> Result<Tensor, ShapeError> {
    let freqs = sinusoid_frequencies(dim, base, SinusoidLayout::Interleaved)?;
    let mut m = Tensor::zeros(&[dim, dim]);
    for (i, &w) in freqs.iter().enumerate() {
        let (s, c) = (math::sin(offset * w), math::cos(offset * w));
        m.set2(2 * i, 2 * i, c);
        m.set2(2 * i, 2 * i + 1, s);
        m.set2(2 * i + 1, 2 * i, -s);
        m.set2(2 * i + 1, 2 * i + 1, c);
    }
    Ok(m)
}

// ---------------------------------------------------------------------------------------------------------
// RoPE.

/// Which coordinates RoPE rotates together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Adjacent coordinates `(2i, 2i + 1)` form pair `i`: the RoFormer paper (Su et al. 2021, eq. 34), Meta's
    /// LLaMA reference code (`torch.view_as_complex` on pairs of adjacent numbers), GPT-J (`rotate_every_two`).
    Interleaved,
    /// Coordinates `i` and `i + d/2` form pair `i`: GPT-NeoX and Hugging Face transformers' LLaMA
    /// (`rotate_half`). HF's LLaMA conversion script permutes the rows of `W_q` and `W_k` so that the two
    /// conventions give the same scores for the converted weights.
    RotateHalf,
}

impl Pairing {
    /// Every pairing.
    pub const ALL: [Pairing; 2] = [Pairing::Interleaved, Pairing::RotateHalf];

    /// `interleaved` or `rotate-half`.
    pub fn name(self) -> &'static str {
        match self {
            Pairing::Interleaved => "interleaved",
            Pairing::RotateHalf => "rotate-half",
        }
    }

    /// Parses a name (`rotate_half`, `neox` and `gptj` are accepted as aliases).
    pub fn parse(s: &str) -> Option<Pairing> {
        match s.trim().to_ascii_lowercase().as_str() {
            "interleaved" | "gptj" => Some(Pairing::Interleaved),
            "rotate-half" | "rotate_half" | "neox" => Some(Pairing::RotateHalf),
            _ => None,
        }
    }

    /// The two coordinates of pair `i` in a vector of width `dim`.
    pub fn coordinates(self, i: usize, dim: usize) -> (usize, usize) {
        match self {
            Pairing::Interleaved => (2 * i, 2 * i + 1),
            Pairing::RotateHalf => (i, i + dim / 2),
        }
    }
}

/// How RoPE's frequencies are changed to run past the context it was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// The trained frequencies `θ_i = b^(−2i/d)`.
    None,
    /// Position interpolation (Chen et al. 2023): `θ_i / s`, i.e. position `p` is used as `p/s`.
    Linear,
    /// "NTK-aware" scaling (bloc97 2023): the base becomes `b·s^(d/(d−2))`, which leaves `θ_0 = 1` and
    /// divides the slowest frequency `θ_(d/2−1)` by exactly `s`.
    Ntk,
    /// YaRN (Peng et al. 2023): per pair, `(1 − γ)·θ_i/s + γ·θ_i` with a ramp `γ` in the number of rotations
    /// over the original context, and logits multiplied by `(0.1·ln s + 1)²`.
    Yarn,
}

impl Scaling {
    /// Every scaling.
    pub const ALL: [Scaling; 4] = [Scaling::None, Scaling::Linear, Scaling::Ntk, Scaling::Yarn];

    /// `none`, `linear`, `ntk` or `yarn`.
    pub fn name(self) -> &'static str {
        match self {
            Scaling::None => "none",
            Scaling::Linear => "linear",
            Scaling::Ntk => "ntk",
            Scaling::Yarn => "yarn",
        }
    }

    /// Parses a name (`pi` and `interpolation` are aliases of `linear`).
    pub fn parse(s: &str) -> Option<Scaling> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Scaling::None),
            "linear" | "pi" | "interpolation" => Some(Scaling::Linear),
            "ntk" => Some(Scaling::Ntk),
            "yarn" => Some(Scaling::Yarn),
            _ => None,
        }
    }
}

/// A RoPE configuration: head width, base, and the context-extension rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rope {
    /// Rotated width `d` (even).
    pub dim: usize,
    /// The base `b` (10 000 in RoFormer and LLaMA 1–2, 500 000 in LLaMA 3).
    pub base: f64,
    /// The extension rule.
    pub scaling: Scaling,
    /// The extension factor `s` (new context / original context), ≥ 1.
    pub factor: f64,
    /// The original (training) context `L`, used by YaRN's ramp.
    pub original_context: f64,
    /// YaRN's `β` (the reference code's `beta_fast`): pairs making more than this many rotations over `L`
    /// are not interpolated. 32 for LLaMA.
    pub beta_fast: f64,
    /// YaRN's `α` (`beta_slow`): pairs making fewer rotations than this over `L` are fully interpolated. 1 for LLaMA.
    pub beta_slow: f64,
}

impl Rope {
    /// Plain RoPE of width `dim` and base `base`.
    pub fn new(dim: usize, base: f64) -> Rope {
        Rope {
            dim,
            base,
            scaling: Scaling::None,
            factor: 1.0,
            original_context: 2048.0,
            beta_fast: 32.0,
            beta_slow: 1.0,
        }
    }

    /// The same RoPE with an extension rule, factor `s` and original context `L`.
    pub fn scaled(self, scaling: Scaling, factor: f64, original_context: f64) -> Rope {
        Rope {
            scaling,
            factor,
            original_context,
            ..self
        }
    }

    fn validate(&self) -> Result<(), ShapeError> {
        if self.dim < 4 || self.dim % 2 != 0 {
            return Err(invalid("rope", format!("dim must be even and at least 4, got {}", self.dim)));
        }
        check_base("rope", self.base)?;
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return Err(invalid("rope", format!("factor must be a finite number ≥ 1, got {}", self.factor)));
        }
        if !(self.original_context.is_finite() && self.original_context >= 1.0) {
            return Err(invalid(
                "rope",
                format!("original_context must be ≥ 1, got {}", self.original_context),
            ));
        }
        if !(self.beta_slow > 0.0 && self.beta_fast > self.beta_slow && self.beta_fast.is_finite()) {
            return Err(invalid(
                "rope",
                format!(
                    "YaRN needs 0 < beta_slow < beta_fast, got beta_slow = {} and beta_fast = {}",
                    self.beta_slow, self.beta_fast
                ),
            ));
        }
        Ok(())
    }

    /// The trained frequencies `θ_i = b^(−2i/d)`, `i = 0, …, d/2 − 1`.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn base_frequencies(&self) -> Result<Vec<f64>, ShapeError> {
        self.validate()?;
        Ok(frequencies_for_base(self.dim, self.base))
    }

    /// The base after NTK-aware scaling, `b·s^(d/(d−2))` (the base itself for the other rules).
    pub fn effective_base(&self) -> f64 {
        match self.scaling {
            Scaling::Ntk => {
                let d = self.dim as f64;
                self.base * math::powf(self.factor, d / (d - 2.0))
            }
            _ => self.base,
        }
    }

    /// YaRN's ramp bounds on the pair index, as the reference code computes them: the pair index at which a
    /// pair makes `r` rotations over the original context `L` is `d·ln(L/(2π r)) / (2 ln b)`; `low` is that
    /// index for `r = beta_fast` rounded down, `high` for `r = beta_slow` rounded up, clamped to `[0, d − 1]`.
    pub fn yarn_bounds(&self) -> (f64, f64) {
        let d = self.dim as f64;
        let index = |rotations: f64| {
            d * math::ln(self.original_context / (rotations * 2.0 * std::f64::consts::PI))
                / (2.0 * math::ln(self.base))
        };
        let low = index(self.beta_fast).floor().max(0.0);
        let high = index(self.beta_slow).ceil().min(d - 1.0);
        (low, high)
    }

    /// YaRN's weight `γ_i ∈ [0, 1]` of the original frequency of pair `i` (1: kept, 0: interpolated):
    /// `1 − clamp((i − low)/(high − low), 0, 1)` (`high` is nudged by 0.001 when it equals `low`, as in the
    /// reference code).
    pub fn yarn_keep(&self, i: usize) -> f64 {
        let (low, mut high) = self.yarn_bounds();
        if high == low {
            high += 0.001;
        }
        1.0 - ((i as f64 - low) / (high - low)).clamp(0.0, 1.0)
    }

    /// The frequencies after the extension rule.
    ///
    /// # Errors
    /// An invalid configuration.
    pub fn frequencies(&self) -> Result<Vec<f64>, ShapeError> {
        self.validate()?;
        let s = self.factor;
        Ok(match self.scaling {
            Scaling::None => frequencies_for_base(self.dim, self.base),
            Scaling::Linear => frequencies_for_base(self.dim, self.base)
                .into_iter()
                .map(|t| t / s)
                .collect(),
            Scaling::Ntk => frequencies_for_base(self.dim, self.effective_base()),
            Scaling::Yarn => frequencies_for_base(self.dim, self.base)
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    let keep = self.yarn_keep(i);
                    t / s * (1.0 - keep) + t * keep
                })
                .collect(),
        })
    }

    /// The factor that multiplies both `cos` and `sin` (so every rotated query and key): YaRN's
    /// `√(1/t) = 0.1·ln s + 1` for `s > 1`, and 1 otherwise. The logits are multiplied by its square.
    pub fn magnitude_scale(&self) -> f64 {
        if self.scaling == Scaling::Yarn && self.factor > 1.0 {
            0.1 * math::ln(self.factor) + 1.0
        } else {
            1.0
        }
    }

    /// Wavelength in tokens of pair `i` after the extension rule, `2π/θ_i`.
    ///
    /// # Errors
    /// An invalid configuration or a pair index past `d/2 − 1`.
    pub fn wavelength(&self, pair: usize) -> Result<f64, ShapeError> {
        let f = self.frequencies()?;
        let t = f.get(pair).ok_or_else(|| {
            invalid("rope", format!("pair {pair} does not exist: there are {} pairs", f.len()))
        })?;
        Ok(2.0 * std::f64::consts::PI / t)
    }
}

/// `θ_i = b^(−2i/d)` for `i < d/2`.
pub fn frequencies_for_base(dim: usize, base: f64) -> Vec<f64> {
    (0..dim / 2)
        .map(|i| math::powf(base, -((2 * i) as f64) / dim as f64))
        .collect()
}

/// Rotates every row of `x` (one token per row, `d` columns) by its position: pair `i` of row `r` turns by
/// the angle `positions[r]·freqs[i]`, then every entry is multiplied by `scale` (YaRN's magnitude factor, 1
/// otherwise). `(a, b) ↦ (a cos φ − b sin φ, a sin φ + b cos φ)` on the pair's coordinates ([`Pairing`]).
///
/// # Errors
/// When `x` has an odd number of columns, `freqs` is not `d/2` long, or `positions` is not one per row.
pub fn apply_rope(
    x: &Tensor,
    positions: &[f64],
    freqs: &[f64],
    pairing: Pairing,
    scale: f64,
) -> Result<Tensor, ShapeError> {
    rotate(x, positions, freqs, pairing, scale, 1.0)
}

/// The backward pass of [`apply_rope`]: a rotation is orthogonal, so `dx` is `dy` rotated by the opposite
/// angle (the transpose), times the same `scale`.
///
/// # Errors
/// As [`apply_rope`].
pub fn rope_backward(
    dy: &Tensor,
    positions: &[f64],
    freqs: &[f64],
    pairing: Pairing,
    scale: f64,
) -> Result<Tensor, ShapeError> {
    rotate(dy, positions, freqs, pairing, scale, -1.0)
}

fn rotate(
    x: &Tensor,
    positions: &[f64],
    freqs: &[f64],
    pairing: Pairing,
    scale: f64,
    sign: f64,
) -> Result<Tensor, ShapeError> {
    if x.shape().len() != 2 {
        return Err(invalid("rope", format!("x must be a matrix, got shape {:?}", x.shape())));
    }
    let d = x.cols();
    if d % 2 != 0 || freqs.len() != d / 2 {
        return Err(invalid(
            "rope",
            format!("x has {d} columns but there are {} frequencies: a width of 2 × frequencies is needed", freqs.len()),
        ));
    }
    if positions.len() != x.rows() {
        return Err(invalid(
            "rope",
            format!("{} positions for {} rows: give one position per row", positions.len(), x.rows()),
        ));
    }
    let mut out = Tensor::zeros(&[x.rows(), d]);
    for (r, &p) in positions.iter().enumerate() {
        for (i, &t) in freqs.iter().enumerate() {
            let (c0, c1) = pairing.coordinates(i, d);
            let angle = sign * p * t;
            let (s, c) = (math::sin(angle), math::cos(angle));
            let (a, b) = (x.get2(r, c0), x.get2(r, c1));
            out.set2(r, c0, scale * (a * c - b * s));
            out.set2(r, c1, scale * (a * s + b * c));
        }
    }
    Ok(out)
}

/// The column permutation that turns an interleaved layout into a rotate-half one: column `2i` goes to `i`
/// and `2i + 1` to `i + d/2`. Applying RoPE with [`Pairing::RotateHalf`] to `x·P` gives RoPE with
/// [`Pairing::Interleaved`] on `x`, permuted the same way; the scores `q·k` are identical. HF's LLaMA
/// conversion applies this permutation to the rows of `W_q` and `W_k`.
pub fn interleaved_to_half(dim: usize) -> Vec<usize> {
    let mut to = vec![0; dim];
    for i in 0..dim / 2 {
        to[2 * i] = i;
        to[2 * i + 1] = i + dim / 2;
    }
    to
}

/// `x` with column `c` moved to `to[c]`.
pub fn permute_columns(x: &Tensor, to: &[usize]) -> Tensor {
    let mut out = Tensor::zeros(&[x.rows(), x.cols()]);
    for r in 0..x.rows() {
        for (c, &t) in to.iter().enumerate() {
            out.set2(r, t, x.get2(r, c));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------
// ALiBi.

/// ALiBi's head slopes, following the reference code (Press et al. 2022,
/// `attention_with_linear_biases/fairseq/models/transformer.py`, `get_slopes`):
///
/// - for `n` a power of two, `m_h = 2^(−8h/n)`, `h = 1, …, n` (a geometric sequence from `2^(−8/n)` to `2^(−8)`);
/// - otherwise, with `p` the largest power of two below `n`, the `p` slopes for `p` heads, followed by the
///   first `n − p` of every other slope for `2p` heads: `2^(−4(2j+1)/p)`, `j = 0, …, n − p − 1` — slopes that
///   fall between the first ones, so the set still spans the same range.
///
/// # Errors
/// `heads = 0`.
pub fn alibi_slopes(heads: usize) -> Result<Vec<f64>, ShapeError> {
    if heads == 0 {
        return Err(invalid("alibi", "heads must be at least 1"));
    }
    let geometric = |n: usize| -> Vec<f64> {
        (1..=n)
            .map(|h| math::powf(2.0, -8.0 * h as f64 / n as f64))
            .collect()
    };
    if heads.is_power_of_two() {
        return Ok(geometric(heads));
    }
    let p = 1usize << (usize::BITS - 1 - heads.leading_zeros());
    let mut slopes = geometric(p);
    slopes.extend(geometric(2 * p).into_iter().step_by(2).take(heads - p));
    Ok(slopes)
}

/// ALiBi's bias for one head over `len` positions: entry `(i, j)` is `−m·|i − j|`. A causal model uses the
/// entries with `j ≤ i`, `−m·(i − j)`; the entries above the diagonal are masked anyway.
pub fn alibi_bias(slope: f64, len: usize) -> Tensor {
    // `0 − x` rather than `−x`, so the diagonal prints as 0 rather than −0.
    Tensor::from_fn(len, len, |i, j| 0.0 - slope * (i as f64 - j as f64).abs())
}

/// The number of most recent keys that receive a fraction `fraction` of a query's attention when the logits
/// are ALiBi's bias alone: weights `∝ e^(−m k)` over the distances `k = 0, …, n − 1`. For a long context the
/// answer tends to `ln(1/(1 − fraction))/m`; this is the exact count for a query with `n` keys:
/// the smallest `w` with `(1 − e^(−m w))/(1 − e^(−m n)) ≥ fraction`, i.e. `w = ⌈−ln(1 − fraction·(1 − e^(−m n)))/m⌉`.
pub fn alibi_span(slope: f64, keys: usize, fraction: f64) -> usize {
    // The first w keys hold (1 − q^w)/(1 − q^n) of the mass, q = e^(−m); solve for the smallest whole w.
    let total = 1.0 - math::exp(-slope * keys as f64);
    let w = (math::ln_1p(-fraction * total) / -slope).ceil();
    (w.max(1.0) as usize).min(keys)
}

//! What attention costs, at the level of FLOPs and bytes (one sequence of `n` tokens, model width `d`,
//! `h` heads of width `d_h = d/h`; a multiply-add is 2 FLOPs, as in Kaplan et al. 2020 §2.1).
//!
//! Forward FLOPs of one layer:
//! - the four projections `Q, K, V, O`: `4 · 2 n d² = 8 n d²`;
//! - the scores `Q Kᵀ` over all heads: `h · 2 n² d_h = 2 n² d`, and the weighted sum `P V`: another
//!   `2 n² d` — together `4 n² d`, quadratic in the context;
//! - the softmax: about 5 FLOPs per score (max, subtract, exponentiate, sum, divide), `5 h n²`;
//! - for comparison, a feed-forward block of width `4d` (Vaswani et al. 2017): `2 · 2 n d · 4d = 16 n d²`.
//!
//! So the quadratic part `4 n² d` overtakes the MLP's `16 n d²` at `n = 4d`, and all the linear layers
//! (`24 n d²`) at `n = 6d`. A causal mask halves the quadratic part for a kernel that skips hidden blocks.
//!
//! Bytes: a materialised score matrix holds `h n²` numbers per sequence. The softmax reads each score once
//! and writes each weight once while doing ~5 FLOPs on it, so its arithmetic intensity is about
//! `5 / (2·b)` FLOP/byte for `b`-byte numbers — about 1.25 in bf16, against the ~295 FLOP/byte an H100
//! (989 TFLOP/s dense bf16, 3.35 TB/s HBM3) needs to be compute-bound: it is memory-bound.

/// FLOPs of the four projections: `8 n d²`.
pub fn projection_flops(n: f64, d: f64) -> f64 {
    8.0 * n * d * d
}

/// FLOPs of `Q Kᵀ` and `P V` over all heads: `4 n² d` (`causal`: half, for a kernel that skips hidden
/// entries).
pub fn core_flops(n: f64, d: f64, causal: bool) -> f64 {
    let full = 4.0 * n * n * d;
    if causal {
        full / 2.0
    } else {
        full
    }
}

/// FLOPs of the softmax over all heads: `5 h n²`.
pub fn softmax_flops(n: f64, heads: f64) -> f64 {
    5.0 * heads * n * n
}

/// FLOPs of a feed-forward block of width `4d`: `16 n d²`.
pub fn mlp_flops(n: f64, d: f64) -> f64 {
    16.0 * n * d * d
}

/// `core / MLP = n / (4d)`.
pub fn core_to_mlp_ratio(n: f64, d: f64) -> f64 {
    core_flops(n, d, false) / mlp_flops(n, d)
}

/// The share of a layer's forward FLOPs (projections, core, softmax, MLP) spent in the quadratic core and
/// the softmax.
pub fn attention_share(n: f64, d: f64, heads: f64) -> f64 {
    let quad = core_flops(n, d, false) + softmax_flops(n, heads);
    quad / (quad + projection_flops(n, d) + mlp_flops(n, d))
}

/// Bytes of the materialised scores of one layer: `batch · h · n² · bytes`.
pub fn score_bytes(batch: f64, heads: f64, n: f64, bytes: f64) -> f64 {
    batch * heads * n * n * bytes
}

/// FLOPs per byte of the softmax: 5 FLOPs per score over one read and one write of `bytes` each.
pub fn softmax_intensity(bytes: f64) -> f64 {
    5.0 / (2.0 * bytes)
}

/// FLOPs per byte of `Q Kᵀ` for one head: `2 n² d_h` FLOPs over reading `Q`, `K` (`2 n d_h` numbers) and
/// writing the `n²` scores.
pub fn scores_matmul_intensity(n: f64, dh: f64, bytes: f64) -> f64 {
    2.0 * n * n * dh / (bytes * (2.0 * n * dh + n * n))
}

/// Peak dense bf16 FLOP/s of an H100 SXM (NVIDIA datasheet).
pub const H100_FLOPS: f64 = 989e12;
/// HBM3 bandwidth of an H100 SXM in bytes/s (NVIDIA datasheet).
pub const H100_BYTES_PER_S: f64 = 3.35e12;

/// The arithmetic intensity (FLOP/byte) above which a kernel is compute-bound on an H100.
pub fn h100_ridge() -> f64 {
    H100_FLOPS / H100_BYTES_PER_S
}

/// In an unfused implementation on an H100: the time the softmax spends moving scores (read `S`, write `P`
/// at `bytes` each) over the time the two matrix products take at peak, `= (2·bytes·h n²/BW)/(4 n² d/F)`,
/// which is `bytes · ridge / (2 d_h)` — independent of `n`.
pub fn unfused_softmax_time_ratio(dh: f64, bytes: f64) -> f64 {
    bytes * h100_ridge() / (2.0 * dh)
}

/// Parameters of multi-head attention of width `d`: `4 d²` weights, plus `4 d` biases if `bias` — the same
/// for any number of heads.
pub fn mha_params(d: f64, bias: bool) -> f64 {
    4.0 * d * d + if bias { 4.0 * d } else { 0.0 }
}

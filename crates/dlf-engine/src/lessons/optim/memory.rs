//! Bytes of training state per parameter.

use super::Kind;

/// Bytes of training state per parameter: weights, gradients, an optional fp32 master copy and the optimizer
/// states. In mixed precision (Micikevicius et al. 2018; the accounting of Rajbhandari et al. 2020, "ZeRO")
/// weights and gradients are 2-byte bf16/fp16, the master copy and every optimizer state fp32:
/// `2 + 2 + 4 + 4k` bytes for `k` state slots — 16 for Adam. In plain fp32 training it is `4 + 4 + 4k`.
pub fn training_bytes_per_param(kind: Kind, momentum: bool, mixed_precision: bool) -> f64 {
    let states = 4.0 * kind.state_slots(momentum) as f64;
    // (weights, gradients, fp32 master copy): the master copy replaces nothing, it is extra; the two totals
    // coincide (2 + 2 + 4 = 4 + 4) because halving weights and gradients saves exactly the master copy's 4 bytes.
    let (weights, grads, master) = if mixed_precision {
        (2.0, 2.0, 4.0)
    } else {
        (4.0, 4.0, 0.0)
    };
    weights + grads + master + states
}

/// Bytes of optimizer state alone per parameter: `k · state_bytes`.
pub fn state_bytes_per_param(kind: Kind, momentum: bool, state_bytes: f64) -> f64 {
    kind.state_slots(momentum) as f64 * state_bytes
}

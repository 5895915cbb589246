//! Lesson 05's engine tests: RoPE's backward pass against finite differences, the reference numbers of ALiBi's
//! slopes and of the extension rules (computed with the Python below, which transcribes the reference code),
//! and the properties the lesson states.
//
//   import math, numpy as np
//   # ALiBi: get_slopes from ofirpress/attention_with_linear_biases, fairseq/models/transformer.py
//   def get_slopes(n):
//       def p2(n):
//           start = (2**(-2**-(math.log2(n)-3))); ratio = start
//           return [start*ratio**i for i in range(n)]
//       if math.log2(n).is_integer(): return p2(n)
//       c = 2**math.floor(math.log2(n))
//       return p2(c) + get_slopes(2*c)[0::2][:n-c]
//   # YaRN: jquesnelle/yarn, scaled_rope/LlamaYaRNScaledRotaryEmbedding.py (find_correction_range,
//   # linear_ramp_mask, get_mscale), transcribed in numpy float64
//   def yarn_inv_freq(dim, base, scale, L, beta_fast=32, beta_slow=1):
//       pos = base ** (np.arange(0, dim, 2).astype(np.float64) / dim)
//       ext = 1.0/pos; inter = 1.0/(scale*pos)
//       fd = lambda r: (dim*math.log(L/(r*2*math.pi)))/(2*math.log(base))
//       low = max(math.floor(fd(beta_fast)), 0); high = min(math.ceil(fd(beta_slow)), dim-1)
//       if low == high: high += 0.001
//       mask = 1 - np.clip((np.arange(dim//2) - low)/(high-low), 0, 1)
//       return inter*(1-mask) + ext*mask, low, high, 0.1*math.log(scale)+1.0
//   f, lo, hi, ms = yarn_inv_freq(128, 10000.0, 16.0, 4096)   # lo 20, hi 46, ms 1.2772588722239782
//   [f[i]/(10000.0**(-2*i/128)) for i in (0,20,30,40,63)]     # 1, 1, 0.639423076923077, 0.2788461538461538, 0.0625
//   10000*4**(128/126)                                         # NTK base: 40889.94243248622
//   2*math.pi*10000**(126/128)                                 # slowest wavelength: 54410.14313077674

use super::curves::{alibi_pattern, matched_score, pairs_longer_than};
use super::equivariance::{permutation_error, Positions};
use super::*;
use crate::gradcheck;
use std::f64::consts::FRAC_1_SQRT_2;
use crate::rng::Rng;

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol * (1.0 + b.abs()), "{a} vs {b}");
}

#[test]
fn alibi_slopes_match_the_reference_code_for_every_head_count() {
    close_all(&alibi_slopes(8).unwrap(), &[0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625]);
    close_all(
        &alibi_slopes(12).unwrap(),
        &[
            0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625, FRAC_1_SQRT_2,
            0.35355339059327384, 0.17677669529663692, 0.08838834764831849,
        ],
    );
    close_all(&alibi_slopes(6).unwrap(), &[0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125]);
    close_all(&alibi_slopes(3).unwrap(), &[0.0625, 0.00390625, 0.25]);
    close_all(&alibi_slopes(1).unwrap(), &[0.00390625]);
    let twenty = alibi_slopes(20).unwrap();
    close(twenty[0], FRAC_1_SQRT_2, 1e-14);
    close(twenty[16], 0.8408964152537145, 1e-14);
    close(twenty[19], 0.2973017787506802, 1e-14);
    assert!(alibi_slopes(0).is_err());
}

fn close_all(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        close(*x, *y, 1e-14);
    }
}

#[test]
fn yarn_ntk_and_interpolation_match_the_reference_formulas() {
    let yarn = Rope::new(128, 10_000.0).scaled(Scaling::Yarn, 16.0, 4096.0);
    assert_eq!(yarn.yarn_bounds(), (20.0, 46.0));
    close(yarn.magnitude_scale(), 1.2772588722239782, 1e-14);
    let f = yarn.frequencies().unwrap();
    let b = yarn.base_frequencies().unwrap();
    for (i, want) in [(0, 1.0), (20, 1.0), (30, 0.639423076923077), (40, 0.2788461538461538), (63, 0.0625)] {
        close(f[i] / b[i], want, 1e-12);
    }
    let ntk = Rope::new(128, 10_000.0).scaled(Scaling::Ntk, 4.0, 2048.0);
    close(ntk.effective_base(), 40889.94243248622, 1e-12);
    let nf = ntk.frequencies().unwrap();
    // NTK-aware scaling keeps θ_0 = 1 and divides the slowest frequency by exactly s.
    close(nf[0], 1.0, 1e-15);
    close(nf[63], frequencies_for_base(128, 10_000.0)[63] / 4.0, 1e-12);
    let pi = Rope::new(128, 10_000.0).scaled(Scaling::Linear, 4.0, 2048.0);
    for (x, y) in pi.frequencies().unwrap().iter().zip(frequencies_for_base(128, 10_000.0)) {
        close(*x, y / 4.0, 1e-15);
    }
    close(Rope::new(128, 10_000.0).wavelength(63).unwrap(), 54410.14313077674, 1e-12);
    assert!(Rope::new(7, 10_000.0).frequencies().is_err());
    assert!(Rope::new(8, 1.0).frequencies().is_err());
    assert!(Rope::new(8, 10.0).scaled(Scaling::Linear, 0.5, 10.0).frequencies().is_err());
}

#[test]
fn rope_backward_is_the_inverse_rotation_by_finite_differences() {
    let mut rng = Rng::new(9);
    for pairing in Pairing::ALL {
        let x = Tensor::randn(&[4, 6], 1.0, &mut rng);
        let dy = Tensor::randn(&[4, 6], 1.0, &mut rng);
        let pos = [0.0, 1.0, 17.0, 4000.0];
        let f = frequencies_for_base(6, 500.0);
        // dL/dx = Rᵀ·s·dy for L = Σ dy ⊙ s·R x.
        let analytic = rope_backward(&dy, &pos, &f, pairing, 0.7).unwrap();
        let loss = |v: &[f64]| {
            let t = Tensor::new(&[4, 6], v.to_vec()).unwrap();
            let y = apply_rope(&t, &pos, &f, pairing, 0.7).unwrap();
            y.data().iter().zip(dy.data()).map(|(a, b)| a * b).sum::<f64>()
        };
        let report = gradcheck::check(loss, x.data(), analytic.data(), 1e-6);
        assert!(report.passes(1e-8), "{pairing:?}: {report:?}");
    }
}

#[test]
fn rope_on_one_pair_is_a_hand_computed_rotation() {
    // x = (1, 0) at position 2 with θ = 1 (d = 2 is below the Rope minimum, but apply_rope takes any even width):
    // (cos 2, sin 2) = (−0.4161468365471424, 0.9092974268256817).
    let y = apply_rope(&Tensor::row(&[1.0, 0.0]), &[2.0], &[1.0], Pairing::Interleaved, 1.0).unwrap();
    close(y.get2(0, 0), -0.4161468365471424, 1e-15);
    close(y.get2(0, 1), 0.9092974268256817, 1e-15);
    // Rotate-half pairs column 0 with column 2 in width 4.
    let y = apply_rope(&Tensor::row(&[1.0, 0.0, 0.0, 0.0]), &[2.0], &[1.0, 0.0], Pairing::RotateHalf, 1.0).unwrap();
    close(y.get2(0, 2), 0.9092974268256817, 1e-15);
    assert!(apply_rope(&Tensor::row(&[1.0, 0.0, 0.0]), &[2.0], &[1.0], Pairing::Interleaved, 1.0).is_err());
}

#[test]
fn the_two_pairings_agree_after_the_conversion_permutation() {
    let mut rng = Rng::new(5);
    let q = Tensor::randn(&[5, 8], 1.0, &mut rng);
    let pos = [0.0, 3.0, 9.0, 27.0, 81.0];
    let f = frequencies_for_base(8, 10_000.0);
    let to = interleaved_to_half(8);
    let meta = permute_columns(&apply_rope(&q, &pos, &f, Pairing::Interleaved, 1.0).unwrap(), &to);
    let hf = apply_rope(&permute_columns(&q, &to), &pos, &f, Pairing::RotateHalf, 1.0).unwrap();
    assert!(meta.max_abs_diff(&hf).unwrap() < 1e-14);
}

#[test]
fn attention_is_permutation_equivariant_only_without_positions() {
    assert!(permutation_error(6, 8, Positions::None, false, 1).unwrap() < 1e-12);
    for p in [Positions::Sinusoidal, Positions::Rope, Positions::Alibi] {
        assert!(permutation_error(6, 8, p, false, 1).unwrap() > 1e-3, "{p:?}");
    }
    // A causal mask alone ties each token to its place.
    assert!(permutation_error(6, 8, Positions::None, true, 1).unwrap() > 1e-3);
}

#[test]
fn sinusoid_layouts_and_the_shift_matrix() {
    // tensor2tensor: ω_i = b^(−i/(d/2 − 1)); d = 8 gives 1, 10^(−4/3), 10^(−8/3), 10^(−4).
    let f = sinusoid_frequencies(8, 10_000.0, SinusoidLayout::Tensor2Tensor).unwrap();
    close(f[3], 1e-4, 1e-12);
    let pe = sinusoidal(&[7.0], 8, 10_000.0, SinusoidLayout::Tensor2Tensor).unwrap();
    close(pe.get2(0, 0), crate::math::sin(7.0), 1e-15);
    close(pe.get2(0, 4), crate::math::cos(7.0), 1e-15);
    let m = sinusoid_shift_matrix(8, 10_000.0, 13.0).unwrap();
    let a = sinusoidal(&[5.0], 8, 10_000.0, SinusoidLayout::Interleaved).unwrap();
    let b = sinusoidal(&[18.0], 8, 10_000.0, SinusoidLayout::Interleaved).unwrap();
    assert!(a.matmul_nt(&m).unwrap().max_abs_diff(&b).unwrap() < 1e-12);
    assert!(sinusoid_frequencies(5, 10_000.0, SinusoidLayout::Interleaved).is_err());
    assert!(sinusoid_frequencies(2, 10_000.0, SinusoidLayout::Tensor2Tensor).is_err());
}

#[test]
fn long_range_decay_and_wavelength_counts() {
    let rope = Rope::new(128, 10_000.0);
    let s = matched_score(&rope, &[0.0, 10.0, 1000.0]).unwrap();
    close(s[0], 1.0, 1e-15);
    assert!(s[1] < s[0] && s[2] < s[1]);
    // 2π·10000^(2i/128) > 2048 for i ≥ 41: 23 pairs (Python above).
    assert_eq!(pairs_longer_than(&rope, 2048.0).unwrap(), 23);
}

#[test]
fn alibi_attention_concentrates_on_recent_keys() {
    // Head 1 of 8 (slope 1/2) keeps essentially nothing beyond 256 tokens; head 8 (slope 1/256) keeps some.
    let steep = alibi_pattern(8, 0, 1024, 4, 256, 0.0, 1).unwrap();
    let flat = alibi_pattern(8, 7, 1024, 4, 256, 0.0, 1).unwrap();
    assert!(steep.mass_beyond_train < 1e-40);
    // e^(−257/256)·(1 − e^(−767/256))/(1 − e^(−1024/256)) ≈ 0.35
    assert!((flat.mass_beyond_train - 0.35).abs() < 0.02, "{}", flat.mass_beyond_train);
    assert_eq!(alibi_span(0.5, 100_000, 0.9), 5);
    assert!(alibi_pattern(8, 8, 1024, 4, 256, 0.0, 1).is_err());
}


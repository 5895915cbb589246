//! Lesson 04's engine tests: the closed-form backward against the tape and finite differences, the mask
//! conventions, the head layouts, and the statistical facts the lesson states.

use super::gradient_checks::{finite_difference_error, problem, tape_difference};
use super::saturation::{row_stats, score_moments, train_retrieval, RetrievalConfig};
use super::*;
use crate::autograd::{AttentionMask, AttentionWeights, Graph};
use crate::rng::Rng;

#[test]
fn closed_form_backward_matches_the_tape() {
    // The tape differentiates matmul, transpose, scale and masked softmax one by one; the closed form
    // dZ = P ⊙ (dP − rowsum(P ⊙ dP)) must give the same dQ, dK, dV to rounding.
    for (t, s, causal) in [(5, 7, true), (4, 4, true), (3, 6, false)] {
        let diff = tape_difference(t, s, 4, causal, 7).unwrap();
        assert!(diff < 1e-12, "t={t} s={s} causal={causal}: {diff}");
    }
}

#[test]
fn closed_form_backward_matches_finite_differences_under_every_fill() {
    for fill in MaskFill::ALL {
        let err = finite_difference_error(fill, 3).unwrap();
        assert!(err < 1e-7, "{}: {err}", fill.name());
    }
    // A wrong backward (forgetting the scale in dQ) is caught by the same check.
    let [q, k, v, d_out] = problem(3, 3, 2, 1);
    let mask = Mask::none(3, 3);
    let f = sdpa(&q, &k, &v, &mask, &SdpaOptions::default()).unwrap();
    let g = sdpa_backward(&f, &q, &k, &v, &mask, MaskFill::NegInf, &d_out).unwrap();
    let wrong: Vec<f64> = g.dq.data().iter().map(|x| x / f.scale).collect();
    let loss = |x: &[f64]| {
        let q = Tensor::new(&[3, 2], x.to_vec()).unwrap();
        let f = sdpa(&q, &k, &v, &mask, &SdpaOptions::default()).unwrap();
        f.out.data().iter().zip(d_out.data()).map(|(a, b)| a * b).sum()
    };
    assert!(crate::gradcheck::check(loss, q.data(), &wrong, 1e-6).relative_error > 0.1);
}

#[test]
fn multi_head_matches_the_tapes_self_attention() {
    // Graph::self_attention projects with d × d weights, splits heads contiguously, masks causally and
    // projects back: the lesson's multi-head functions must give the same output and input gradient.
    let (t, d, heads) = (5, 8, 2);
    let mut rng = Rng::new(11);
    let x = Tensor::randn(&[t, d], 1.0, &mut rng);
    let w: Vec<Tensor> = (0..4)
        .map(|_| Tensor::randn(&[d, d], 0.4, &mut rng))
        .collect();
    let dy = Tensor::randn(&[t, d], 1.0, &mut rng);

    let mask = Mask::causal(t, t, CausalAlign::BottomRight);
    let opts = SdpaOptions::default();
    let (q, k, v) = (
        affine(&x, &w[0], None).unwrap(),
        affine(&x, &w[1], None).unwrap(),
        affine(&x, &w[2], None).unwrap(),
    );
    let (per_head, concat) = multi_head(&q, &k, &v, heads, &mask, &opts).unwrap();
    let y = affine(&concat, &w[3], None).unwrap();
    let d_concat = dy.matmul_nt(&w[3]).unwrap();
    let (_, [dq, dk, dv]) =
        multi_head_backward(&per_head, &q, &k, &v, &mask, MaskFill::NegInf, &d_concat).unwrap();
    let dx = dq
        .matmul_nt(&w[0])
        .unwrap()
        .zip_map(&dk.matmul_nt(&w[1]).unwrap(), |a, b| a + b)
        .unwrap()
        .zip_map(&dv.matmul_nt(&w[2]).unwrap(), |a, b| a + b)
        .unwrap();

    let mut g = Graph::new();
    let xv = g.param(x.clone().reshape(&[1, t, d]).unwrap());
    let ws: Vec<_> = w.iter().map(|m| g.param(m.clone())).collect();
    let weights = AttentionWeights::from([ws[0], ws[1], ws[2], ws[3]]);
    let out = g
        .self_attention(xv, &weights, heads, &AttentionMask::causal())
        .unwrap();
    let dyv = g.constant(dy.reshape(&[1, t, d]).unwrap());
    let prod = g.mul(out, dyv).unwrap();
    let loss = g.sum(prod);
    g.backward(loss).unwrap();
    let tape_y = g.value(out).clone().reshape(&[t, d]).unwrap();
    let tape_dx = g.grad(xv).clone().reshape(&[t, d]).unwrap();
    assert!(y.max_abs_diff(&tape_y).unwrap() < 1e-12);
    assert!(dx.max_abs_diff(&tape_dx).unwrap() < 1e-12);
}

#[test]
fn causal_alignments_differ_only_when_lengths_differ() {
    // PyTorch's documentation of CausalVariant, shape (3, 4): upper-left [[1,0,0,0],[1,1,0,0],[1,1,1,0]],
    // lower-right [[1,1,0,0],[1,1,1,0],[1,1,1,1]].
    let tl = Mask::causal(3, 4, CausalAlign::TopLeft);
    let br = Mask::causal(3, 4, CausalAlign::BottomRight);
    let as_ints = |m: &Mask| m.visible.iter().map(|&v| u8::from(v)).collect::<Vec<_>>();
    assert_eq!(as_ints(&tl), [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0]);
    assert_eq!(as_ints(&br), [1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1]);
    assert_eq!(
        Mask::causal(4, 4, CausalAlign::TopLeft),
        Mask::causal(4, 4, CausalAlign::BottomRight)
    );
    // The tape's AttentionMask is bottom-right: query i sees visible_keys(..) = i + s − t + 1 keys.
    let tape = AttentionMask::causal();
    for i in 0..3 {
        let seen = (0..4).filter(|&j| br.sees(i, j)).count();
        assert_eq!(seen, tape.visible_keys(0, i, 3, 4));
    }
    // More queries than keys, top... bottom-right leaves the first queries with nothing to see.
    assert_eq!(Mask::causal(4, 2, CausalAlign::BottomRight).fully_masked_rows(), [0, 1]);
}

#[test]
fn fully_masked_rows_follow_the_fill_convention() {
    let [q, k, v, _] = problem(2, 3, 2, 5);
    let mask = Mask::none(2, 3).with_key_length(0);
    let run = |fill, fill_value| {
        let opts = SdpaOptions {
            scale: None,
            fill,
            fill_value,
        };
        sdpa(&q, &k, &v, &mask, &opts).unwrap()
    };
    // −∞: zeros, and so a zero output.
    let f = run(MaskFill::NegInf, 0.0);
    assert!(f.weights.data().iter().all(|&w| w == 0.0) && f.out.data().iter().all(|&o| o == 0.0));
    // Replaced by a constant: uniform over the keys.
    let f = run(MaskFill::MaskedFill, -1e9);
    assert!(f.weights.data().iter().all(|&w| (w - 1.0 / 3.0).abs() < 1e-15));
    // Added: the softmax of the raw scores (exactly, up to the rounding of z + c).
    let f = run(MaskFill::Additive, -1e4);
    for i in 0..2 {
        let raw = saturation::softmax(f.scores.row_slice(i));
        for (a, b) in f.weights.row_slice(i).iter().zip(&raw) {
            assert!((a - b).abs() < 1e-10, "{a} {b}");
        }
    }
}

#[test]
fn fused_qkv_layouts_split_and_merge() {
    // d = 4, 2 heads of width 2: blocks read [q0 q1 q2 q3 | k0 .. | v0 ..]; per-head reads
    // [q0 q1 k0 k1 v0 v1 | q2 q3 k2 k3 v2 v3].
    let fused = Tensor::from_fn(1, 12, |_, c| c as f64);
    let [q, k, v] = QkvLayout::Blocks.split(&fused, 2).unwrap();
    assert_eq!(q.data(), [0.0, 1.0, 2.0, 3.0]);
    assert_eq!(v.data(), [8.0, 9.0, 10.0, 11.0]);
    let [q, k2, v] = QkvLayout::PerHead.split(&fused, 2).unwrap();
    assert_eq!(q.data(), [0.0, 1.0, 6.0, 7.0]);
    assert_eq!(k2.data(), [2.0, 3.0, 8.0, 9.0]);
    assert_eq!(v.data(), [4.0, 5.0, 10.0, 11.0]);
    assert_eq!(k.data(), [4.0, 5.0, 6.0, 7.0]);
    for layout in QkvLayout::ALL {
        let parts = layout.split(&fused, 2).unwrap();
        assert_eq!(layout.merge(&parts, 2), fused);
    }
    assert!(QkvLayout::Blocks.split(&Tensor::zeros(&[1, 9]), 2).is_err());
}

#[test]
fn score_variance_is_d_k_and_correlation_adds_a_mean() {
    // Var(q·k) = d_k for independent unit components; with correlation ρ: mean ρ d_k, variance d_k(1 + ρ²).
    let m = score_moments(64, 0.0, 1.0, 20_000, 2);
    assert!((m.var / 64.0 - 1.0).abs() < 0.04, "{m:?}");
    assert!(m.mean.abs() < 0.2, "{m:?}");
    let m = score_moments(64, 0.0, 1.0 / 8.0, 20_000, 2);
    assert!((m.var - 1.0).abs() < 0.04, "{m:?}");
    let m = score_moments(64, 0.5, 1.0, 20_000, 2);
    assert!((m.mean - 32.0).abs() < 0.3 && (m.var / 80.0 - 1.0).abs() < 0.05, "{m:?}");
}

#[test]
fn without_the_scale_the_softmax_saturates_and_the_gradient_vanishes() {
    let scaled = row_stats(256, 16, true, 200, 1);
    let raw = row_stats(256, 16, false, 200, 1);
    assert!(scaled.entropy > 0.6 && raw.entropy < 0.1, "{scaled:?} {raw:?}");
    assert!(raw.max_weight > 0.9 && raw.saturated > 0.5, "{raw:?}");
    assert!(scaled.saturated == 0.0, "{scaled:?}");
    assert!(raw.jacobian_norm < 0.4 * scaled.jacobian_norm, "{scaled:?} {raw:?}");
    assert!(raw.grad_scores_norm < 0.4 * scaled.grad_scores_norm, "{scaled:?} {raw:?}");
}

#[test]
fn the_retrieval_task_trains_with_the_scale_and_stalls_without() {
    let with = train_retrieval(&RetrievalConfig::lesson(64, true));
    let without = train_retrieval(&RetrievalConfig::lesson(64, false));
    let (w0, w_end) = (with[0], *with.last().unwrap());
    let (r0, r_end) = (without[0], *without.last().unwrap());
    assert!(w_end < 0.3 * w0, "scaled: {w0} → {w_end}");
    assert!(r_end > 0.5 * r0, "unscaled: {r0} → {r_end}");
}

#[test]
fn mha_parameters_do_not_depend_on_heads() {
    for heads in [1, 2, 8, 64] {
        let v = crate::quantities::evaluate(
            "attention.mha_params",
            &[("d", "512"), ("heads", &heads.to_string())],
        )
        .unwrap();
        assert_eq!(v, 4.0 * 512.0 * 512.0 + 4.0 * 512.0);
    }
}



#[test]
fn chi_square_draws_have_the_right_mean_and_variance() {
    // χ²_k has mean k and variance 2k.
    let mut rng = Rng::new(4);
    for k in [4usize, 64, 1024] {
        let x: Vec<f64> = (0..20_000).map(|_| saturation::chi_square(&mut rng, k)).collect();
        let (m, v) = (crate::stats::mean(&x), crate::stats::sample_variance(&x));
        assert!((m / k as f64 - 1.0).abs() < 0.01, "k={k}: mean {m}");
        assert!((v / (2 * k) as f64 - 1.0).abs() < 0.05, "k={k}: variance {v}");
    }
}

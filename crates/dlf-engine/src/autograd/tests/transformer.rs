//! Finite-difference checks of the N-d and transformer operations, and whole causal self-attention
//! (single- and multi-head) against central differences and against a hand computation.

use super::super::*;
use super::{gradcheck, TOL};
use crate::lessons::norm::{self, RmsEps};
use crate::rng::Rng;

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, 1.0, &mut Rng::new(seed))
}

#[test]
fn grad_batched_matmul_in_every_broadcast_form() {
    // C_b = A_b B_b  =>  dA_b = G_b B_bᵀ, dB_b = A_bᵀ G_b; a shared operand's gradient sums over b.
    let cases: [(&[usize], &[usize]); 4] = [
        (&[2, 3, 4], &[4, 5]),          // X W: a weight shared by the batch
        (&[2, 3, 4], &[2, 4, 5]),       // one matrix per batch entry on both sides
        (&[3, 4], &[2, 4, 5]),          // a shared left operand
        (&[2, 2, 3, 4], &[2, 2, 4, 3]), // batch and heads
    ];
    for (k, (sa, sb)) in cases.iter().enumerate() {
        let e = gradcheck(
            &[randn(sa, 40 + k as u64), randn(sb, 50 + k as u64)],
            &|g, v| g.matmul(v[0], v[1]),
        );
        assert!(e < TOL, "{sa:?} × {sb:?}: {e}");
    }
}

#[test]
fn batched_matmul_values_and_flops() {
    // [2, 1, 2] × [2, 2] with a shared weight: each batch entry is a row times W. By hand:
    // [1, 2]·[[1, 0], [1, 1]] = [3, 2] and [3, 4]·W = [7, 4].
    let mut g = Graph::new();
    let a = g.param(Tensor::new(&[2, 1, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap());
    let w = g.param(Tensor::new(&[2, 2], vec![1.0, 0.0, 1.0, 1.0]).unwrap());
    let c = g.matmul(a, w).unwrap();
    assert_eq!(g.value(c).shape(), &[2, 1, 2]);
    assert_eq!(g.value(c).data(), &[3.0, 2.0, 7.0, 4.0]);
    // Forward 2·(2·1·2·2) = 16 FLOPs; the sum adds 4; backward 16 for dA and 16 for dW.
    let l = g.sum(c);
    g.backward(l).unwrap();
    assert_eq!(
        g.flops(),
        FlopCount {
            forward: 20,
            backward: 32
        }
    );
    // A shared left operand [1, 2] × [3, 2, 1]: dA sums three per-entry products, (3 − 1)·2 = 4 more FLOPs.
    let mut g = Graph::new();
    let a = g.param(randn(&[1, 2], 1));
    let b = g.param(randn(&[3, 2, 1], 2));
    let c = g.matmul(a, b).unwrap();
    let l = g.sum(c);
    g.backward(l).unwrap();
    assert_eq!(g.flops().backward, 12 + 12 + 4);
    assert!(matches!(
        g.matmul(b, b),
        Err(ShapeError::Mismatch { op: "matmul", .. })
    ));
}

#[test]
fn grad_broadcasting_binary_ops_in_three_dimensions() {
    // A 1 × D bias over [B, T, D], a per-token column over [B, T, D], and a full [B, T, D] product.
    let e = gradcheck(&[randn(&[2, 3, 4], 1), randn(&[1, 4], 2)], &|g, v| {
        g.add(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4], 3), randn(&[3, 1], 4)], &|g, v| {
        g.mul(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4], 5), randn(&[2, 1, 4], 6)], &|g, v| {
        g.sub(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
    let mut g = Graph::new();
    let a = g.param(randn(&[2, 3, 4], 7));
    let b = g.param(randn(&[2, 4], 8));
    assert!(matches!(
        g.add(a, b),
        Err(ShapeError::Mismatch { op: "add", .. })
    ));
}

#[test]
fn grad_transpose_reshape_and_heads() {
    // Pure movements: the gradient is the upstream gradient moved back.
    let e = gradcheck(&[randn(&[2, 3, 4], 9)], &|g, v| Ok(g.transpose(v[0])));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4], 10)], &|g, v| g.reshape(v[0], &[4, 6]));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 6], 11)], &|g, v| g.split_heads(v[0], 3));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4, 2], 12)], &|g, v| g.merge_heads(v[0]));
    assert!(e < TOL, "{e}");
}

#[test]
fn heads_split_and_merge_are_inverse_and_put_features_where_expected() {
    // [1, 2, 4] with 2 heads: head 0 holds features 0..2 of each token, head 1 features 2..4.
    let mut g = Graph::new();
    let x = g.param(Tensor::new(&[1, 2, 4], (0..8).map(f64::from).collect()).unwrap());
    let s = g.split_heads(x, 2).unwrap();
    assert_eq!(g.value(s).shape(), &[1, 2, 2, 2]);
    assert_eq!(g.value(s).data(), &[0.0, 1.0, 4.0, 5.0, 2.0, 3.0, 6.0, 7.0]);
    let m = g.merge_heads(s).unwrap();
    assert_eq!(g.value(m), g.value(x));
    let t = g.transpose(s);
    assert_eq!(g.value(t).data(), &[0.0, 4.0, 1.0, 5.0, 2.0, 6.0, 3.0, 7.0]);
    assert!(matches!(
        g.split_heads(x, 3),
        Err(ShapeError::Invalid {
            op: "split_heads",
            ..
        })
    ));
    assert!(matches!(
        g.merge_heads(x),
        Err(ShapeError::Invalid {
            op: "merge_heads",
            ..
        })
    ));
    assert!(matches!(
        g.reshape(x, &[3, 3]),
        Err(ShapeError::DataLength { .. })
    ));
}

#[test]
fn grad_masked_softmax_causal_and_padded() {
    // y = softmax over the kept entries  =>  dx = y ⊙ (g − Σ g y), 0 on masked entries.
    let e = gradcheck(&[randn(&[2, 4, 4], 13)], &|g, v| {
        g.masked_softmax(v[0], &AttentionMask::causal())
    });
    assert!(e < TOL, "{e}");
    let mask = AttentionMask::causal().with_key_lengths(vec![4, 2]);
    let e = gradcheck(&[randn(&[2, 2, 4, 4], 14)], &|g, v| {
        g.masked_softmax(v[0], &mask)
    });
    assert!(e < TOL, "{e}");
    // No mask is the ordinary softmax, bit for bit.
    let mut g = Graph::new();
    let x = g.param(randn(&[3, 5], 15));
    let a = g.masked_softmax(x, &AttentionMask::none()).unwrap();
    let b = g.softmax(x);
    assert_eq!(g.value(a), g.value(b));
}

#[test]
fn masked_positions_get_exactly_zero_and_a_fully_masked_row_is_zero_with_zero_gradient() {
    // Batch entry 1 has key length 0: every row of it is fully masked.
    let mut g = Graph::new();
    let x = g.param(randn(&[2, 3, 3], 16).map(|v| 10.0 * v));
    let mask = AttentionMask::causal().with_key_lengths(vec![2, 0]);
    let p = g.masked_softmax(x, &mask).unwrap();
    let y = g.value(p).clone();
    for i in 0..3 {
        for j in 0..3 {
            let v = y.data()[i * 3 + j];
            if j > i || j >= 2 {
                assert_eq!(v.to_bits(), 0.0f64.to_bits(), "({i}, {j})");
            }
        }
        let row: f64 = y.data()[i * 3..i * 3 + 3].iter().sum();
        assert!((row - 1.0).abs() < 1e-15);
    }
    assert!(y.data()[9..].iter().all(|&v| v == 0.0));
    let w = g.constant(randn(&[2, 3, 3], 17));
    let pw = g.mul(p, w).unwrap();
    let l = g.sum(pw);
    g.backward(l).unwrap();
    let dx = g.grad(x);
    assert!(dx.data().iter().all(|v| v.is_finite()));
    assert!(dx.data()[9..].iter().all(|&v| v == 0.0));
    // Kept entries: rows 0, 1, 2 of batch 0 keep 1, 2, 2 keys; batch 1 keeps none: 5 kept entries.
    assert_eq!(g.flops().forward, 5 * 5 + 18 + 18);
    // With more keys than queries the queries are the last positions: query 0 of 2 over 4 keys is
    // position 2 and sees keys 0..=2; padding to 2 keys cuts that to 2.
    assert_eq!(AttentionMask::causal().visible_keys(0, 0, 2, 4), 3);
    assert_eq!(mask.visible_keys(0, 0, 2, 4), 2);
    assert_eq!(AttentionMask::none().visible_keys(0, 5, 2, 4), 4);
    let bad = AttentionMask::none().with_key_lengths(vec![1]);
    assert!(matches!(
        g.masked_softmax(x, &bad),
        Err(ShapeError::Invalid {
            op: "masked_softmax",
            ..
        })
    ));
}

#[test]
fn grad_layer_norm_and_rms_norm_on_tokens() {
    // The closed forms of `norm::backward` (dx = s(g − mean g − x̂ mean(g x̂)), dγ = Σ dy x̂, dβ = Σ dy),
    // reached through the tape on a [B, T, D] input.
    let x = randn(&[2, 3, 5], 18);
    let (gamma, beta) = (randn(&[1, 5], 19), randn(&[1, 5], 20));
    let e = gradcheck(&[x.clone(), gamma.clone(), beta], &|g, v| {
        g.layer_norm(v[0], v[1], v[2], 1e-5)
    });
    assert!(e < TOL, "{e}");
    for placement in [RmsEps::Inside, RmsEps::Outside] {
        let e = gradcheck(&[x.clone(), gamma.clone()], &|g, v| {
            g.rms_norm(v[0], v[1], 1e-3, placement)
        });
        assert!(e < TOL, "{placement:?}: {e}");
    }
}

#[test]
fn tape_norms_equal_the_lesson_layers_bit_for_bit() {
    let x = randn(&[4, 6], 21);
    let (gamma, beta) = (randn(&[1, 6], 22), randn(&[1, 6], 23));
    let mut g = Graph::new();
    let (xv, gv, bv) = (
        g.param(x.clone()),
        g.param(gamma.clone()),
        g.param(beta.clone()),
    );
    let ln = g.layer_norm(xv, gv, bv, 1e-5).unwrap();
    let rms = g.rms_norm(xv, gv, 1e-6, RmsEps::Outside).unwrap();
    let expected = norm::layer_norm(&x, gamma.data(), beta.data(), 1e-5).unwrap();
    assert_eq!(g.value(ln), &expected.y);
    let expected = norm::rms_norm(&x, gamma.data(), 1e-6, RmsEps::Outside).unwrap();
    assert_eq!(g.value(rms), &expected.y);
    // 4 rows of 6: LayerNorm 7·24, RMSNorm 4·24 forward FLOPs.
    assert_eq!(g.flops().forward, 7 * 24 + 4 * 24);
    assert!(matches!(
        g.layer_norm(xv, gv, bv, -1.0),
        Err(ShapeError::Invalid {
            op: "layer_norm",
            ..
        })
    ));
}

#[test]
fn grad_embedding_scatter_adds_repeated_ids() {
    // out[i] = table[ids[i]]  =>  dTable[v] = Σ_{i: ids[i] = v} G[i]; id 2 is used twice, id 0 never.
    let ids = [2, 1, 2, 3];
    let e = gradcheck(&[randn(&[4, 3], 24)], &|g, v| {
        g.embedding(v[0], &ids, &[2, 2])
    });
    assert!(e < TOL, "{e}");
    let mut g = Graph::new();
    let t = g.param(randn(&[4, 3], 24));
    let out = g.embedding(t, &ids, &[2, 2]).unwrap();
    assert_eq!(g.value(out).shape(), &[2, 2, 3]);
    let l = g.sum(out);
    g.backward(l).unwrap();
    // d(Σ out)/dTable[v] = (number of uses of v) in every column.
    let uses = [0.0, 1.0, 2.0, 1.0];
    for (v, &u) in uses.iter().enumerate() {
        assert!(g.grad(t).row_slice(v).iter().all(|&d| d == u));
    }
    assert_eq!(g.flops().backward, 4 * 3);
    assert!(matches!(
        g.embedding(t, &[4], &[1]),
        Err(ShapeError::Invalid {
            op: "embedding",
            ..
        })
    ));
}

#[test]
fn grad_softmax_family_on_three_dimensional_logits() {
    // The row-wise operations work on the last axis of any rank.
    let e = gradcheck(&[randn(&[2, 3, 4], 25)], &|g, v| Ok(g.softmax(v[0])));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4], 26)], &|g, v| Ok(g.log_softmax(v[0])));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4], 27)], &|g, v| {
        g.cross_entropy(v[0], &[0, 3, 1, 2, 2, 0])
    });
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(&[2, 3, 4], 28).map(|x| 2.0 * x)], &|g, v| {
        Ok(g.gelu(v[0], GeluForm::Erf))
    });
    assert!(e < TOL, "{e}");
}

/// Causal multi-head self-attention through [`Graph::self_attention`], inputs `[X, W_q, W_k, W_v, W_o]`.
fn self_attention(g: &mut Graph, v: &[Var], heads: usize) -> Result<Var, ShapeError> {
    let w = AttentionWeights::from([v[1], v[2], v[3], v[4]]);
    g.self_attention(v[0], &w, heads, &AttentionMask::causal())
}

fn attention_inputs(b: usize, t: usize, d: usize, seed: u64) -> Vec<Tensor> {
    let mut rng = Rng::new(seed);
    let mut inputs = vec![Tensor::randn(&[b, t, d], 1.0, &mut rng)];
    for _ in 0..4 {
        inputs.push(Tensor::randn(&[d, d], 1.0 / (d as f64).sqrt(), &mut rng));
    }
    inputs
}

#[test]
fn causal_self_attention_single_and_multi_head_match_finite_differences() {
    // Every input — tokens and the four projections — through one scalar loss.
    for heads in [1, 2] {
        let e = gradcheck(&attention_inputs(2, 4, 4, 29), &|g, v| {
            self_attention(g, v, heads)
        });
        assert!(e < TOL, "{heads} heads: {e}");
    }
}

#[test]
fn single_head_attention_equals_a_hand_computation() {
    // B = 1, T = 3, d = 2, identity projections, so Q = K = V = X and the output is
    // softmax(X Xᵀ/√2 + causal mask) X, computed here with plain loops.
    let x = [[1.0, 0.0], [0.5, -1.0], [-0.25, 2.0]];
    let eye = Tensor::new(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap();
    let xt = Tensor::new(&[1, 3, 2], x.concat()).unwrap();
    let mut g = Graph::new();
    let v: Vec<Var> = [xt, eye.clone(), eye.clone(), eye.clone(), eye]
        .into_iter()
        .map(|t| g.param(t))
        .collect();
    let out = self_attention(&mut g, &v, 1).unwrap();
    for i in 0..3 {
        let scores: Vec<f64> = (0..=i)
            .map(|j| (x[i][0] * x[j][0] + x[i][1] * x[j][1]) / 2f64.sqrt())
            .collect();
        let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scores.iter().map(|s| crate::math::exp(s - m)).sum();
        let row = &g.value(out).data()[i * 2..i * 2 + 2];
        for (c, &got) in row.iter().enumerate() {
            let expected: f64 = (0..=i)
                .map(|j| crate::math::exp(scores[j] - m) / z * x[j][c])
                .sum();
            assert!(
                (got - expected).abs() < 1e-14,
                "({i}, {c}): {got} vs {expected}"
            );
        }
    }
    // The first token sees only itself, so its output is itself exactly.
    assert_eq!(&g.value(out).data()[..2], &[1.0, 0.0]);
}

#[test]
fn the_fast_kernel_gives_the_same_attention_to_rounding() {
    // B = 2, T = 32, d = 64, 4 heads: products large enough for the fast kernel to take over.
    let inputs = attention_inputs(2, 32, 64, 30);
    let run = |kernel: Kernel| {
        let mut g = Graph::with_kernel(kernel);
        let v: Vec<Var> = inputs.iter().map(|t| g.param(t.clone())).collect();
        let out = self_attention(&mut g, &v, 4).unwrap();
        let l = g.mean(out);
        g.backward(l).unwrap();
        (g.value(out).clone(), g.grad(v[1]).clone(), g.flops())
    };
    let (exact, fast) = (run(Kernel::Exact), run(Kernel::Fast));
    assert!(exact.0.max_abs_diff(&fast.0).unwrap() < 1e-12);
    let scale = exact.1.frobenius_norm();
    assert!(exact.1.max_abs_diff(&fast.1).unwrap() < 1e-12 * scale.max(1.0));
    assert_eq!(exact.2, fast.2);
}

//! Finite-difference checks of every operation's backward, plus stability, FLOP and error tests.
//!
//! Each check builds the operation on `param` inputs, reduces a non-scalar output to a scalar with fixed
//! random weights (`L = Σ R ⊙ out`, so every output element matters with a different weight), and compares
//! the tape's gradient with central differences `(L(x + h) - L(x - h)) / 2h` at `h = 1e-6` in f64. The
//! truncation error is `O(h²) ≈ 1e-12` and the rounding error about `1e-16 / h ≈ 1e-10`, so a relative error
//! `‖analytic - numeric‖ / (‖analytic‖ + ‖numeric‖)` below `1e-6` leaves a wide margin while any wrong
//! derivative (a missing factor, a sign, a transposed product) gives an error of order 1.

use super::*;
use crate::rng::Rng;

mod transformer;

pub(super) type Build<'a> = dyn Fn(&mut Graph, &[Var]) -> Result<Var, ShapeError> + 'a;

/// Evaluates the scalar loss of `build` at `inputs`, with the projection described in the module doc.
fn loss_of(inputs: &[Tensor], build: &Build<'_>) -> (Graph, Vec<Var>, Var) {
    let mut g = Graph::new();
    let vars: Vec<Var> = inputs.iter().map(|t| g.param(t.clone())).collect();
    let out = build(&mut g, &vars).expect("build succeeds");
    let loss = if g.value(out).len() == 1 {
        out
    } else {
        let v = g.value(out);
        let weights = Tensor::randn(v.shape(), 1.0, &mut Rng::new(99));
        let r = g.constant(weights);
        let p = g.mul(out, r).expect("same shape");
        g.sum(p)
    };
    (g, vars, loss)
}

/// The relative error between the tape's gradients and central differences, over all inputs (flattened
/// into one vector for [`crate::gradcheck::check`]).
pub(super) fn gradcheck(inputs: &[Tensor], build: &Build<'_>) -> f64 {
    let (mut g, vars, loss) = loss_of(inputs, build);
    g.backward(loss).expect("scalar loss");
    let flat: Vec<f64> = inputs.iter().flat_map(|t| t.data().to_vec()).collect();
    let analytic: Vec<f64> = vars
        .iter()
        .flat_map(|&v| g.grad(v).data().to_vec())
        .collect();
    let loss_at = |x: &[f64]| {
        let mut rest = x;
        let moved: Vec<Tensor> = inputs
            .iter()
            .map(|t| {
                let (head, tail) = rest.split_at(t.len());
                rest = tail;
                Tensor::new(t.shape(), head.to_vec()).expect("same shape")
            })
            .collect();
        let (g, _, l) = loss_of(&moved, build);
        g.value(l).data()[0]
    };
    crate::gradcheck::check(loss_at, &flat, &analytic, 1e-6).relative_error
}

fn randn(rows: usize, cols: usize, seed: u64) -> Tensor {
    Tensor::randn(&[rows, cols], 1.0, &mut Rng::new(seed))
}

/// Random entries pushed at least 0.1 away from zero, so no finite difference straddles a ReLU kink.
fn away_from_zero(rows: usize, cols: usize, seed: u64) -> Tensor {
    randn(rows, cols, seed).map(|x| if x >= 0.0 { x + 0.1 } else { x - 0.1 })
}

pub(super) const TOL: f64 = 1e-6;

#[test]
fn grad_matmul() {
    // C = A B  =>  dL/dA = G Bᵀ, dL/dB = Aᵀ G.
    let e = gradcheck(&[randn(3, 4, 1), randn(4, 2, 2)], &|g, v| {
        g.matmul(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_add_same_shape_row_and_general_broadcast() {
    // d(a + b)/da = d(a + b)/db = 1, summed over the axes along which an operand was broadcast.
    let e = gradcheck(&[randn(3, 4, 1), randn(3, 4, 2)], &|g, v| g.add(v[0], v[1]));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(3, 4, 3), randn(1, 4, 4)], &|g, v| g.add(v[0], v[1]));
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(3, 1, 5), randn(1, 4, 6)], &|g, v| g.add(v[0], v[1]));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_sub() {
    // d(a - b)/da = 1, d(a - b)/db = -1 (summed over b's broadcast column axis).
    let e = gradcheck(&[randn(3, 4, 7), randn(3, 1, 8)], &|g, v| g.sub(v[0], v[1]));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_mul() {
    // d(a ⊙ b)/da = b, d(a ⊙ b)/db = a (summed over broadcast axes, here rows and then everything).
    let e = gradcheck(&[randn(3, 4, 9), randn(1, 4, 10)], &|g, v| {
        g.mul(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
    let e = gradcheck(&[randn(3, 4, 11), randn(1, 1, 12)], &|g, v| {
        g.mul(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_scale() {
    // d(s·x)/dx = s.
    let e = gradcheck(&[randn(2, 3, 13)], &|g, v| Ok(g.scale(v[0], -2.5)));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_relu() {
    // d relu(x)/dx = 1 if x > 0 else 0 (inputs kept 0.1 away from the kink).
    let e = gradcheck(&[away_from_zero(3, 4, 14)], &|g, v| Ok(g.relu(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_tanh() {
    // d tanh(x)/dx = 1 - tanh(x)².
    let e = gradcheck(&[randn(3, 4, 15)], &|g, v| Ok(g.tanh(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_sigmoid() {
    // d σ(x)/dx = σ(x)(1 - σ(x)).
    let e = gradcheck(&[randn(3, 4, 16).map(|x| 3.0 * x)], &|g, v| {
        Ok(g.sigmoid(v[0]))
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_gelu_erf() {
    // d[x Φ(x)]/dx = Φ(x) + x φ(x).
    let e = gradcheck(&[randn(3, 4, 17).map(|x| 2.0 * x)], &|g, v| {
        Ok(g.gelu(v[0], GeluForm::Erf))
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_gelu_tanh() {
    // d/dx [x/2 (1 + tanh u)] = (1 + tanh u)/2 + x/2 (1 - tanh² u) √(2/π)(1 + 3·0.044715 x²).
    let e = gradcheck(&[randn(3, 4, 18).map(|x| 2.0 * x)], &|g, v| {
        Ok(g.gelu(v[0], GeluForm::Tanh))
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_softmax() {
    // y = softmax(x) per row  =>  dL/dx = y ⊙ (g - Σ_j g_j y_j).
    let e = gradcheck(&[randn(3, 5, 19)], &|g, v| Ok(g.softmax(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_log_softmax() {
    // y = log softmax(x) per row  =>  dL/dx = g - softmax(x) Σ_j g_j.
    let e = gradcheck(&[randn(3, 5, 20)], &|g, v| Ok(g.log_softmax(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_cross_entropy() {
    // L = -(1/B) Σ_b log softmax(z_b)[y_b]  =>  dL/dz = (P - Y)/B.
    let e = gradcheck(&[randn(4, 3, 21)], &|g, v| {
        g.cross_entropy(v[0], &[0, 2, 1, 2])
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_mse() {
    // L = (1/n) Σ (a - b)²  =>  dL/da = 2(a - b)/n, dL/db = -2(a - b)/n.
    let e = gradcheck(&[randn(3, 2, 22), randn(3, 2, 23)], &|g, v| {
        g.mse(v[0], v[1])
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_sum() {
    // d(Σ x)/dx_i = 1; the square in front makes the upstream gradient (2 Σ x) differ from 1.
    let e = gradcheck(&[randn(2, 3, 24)], &|g, v| {
        let s = g.sum(v[0]);
        Ok(g.square(s))
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_mean() {
    // d(Σ x / n)/dx_i = 1/n, again behind a square so the upstream gradient is not 1.
    let e = gradcheck(&[randn(2, 3, 25)], &|g, v| {
        let s = g.mean(v[0]);
        Ok(g.square(s))
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_square() {
    // d x²/dx = 2x.
    let e = gradcheck(&[randn(3, 3, 26)], &|g, v| Ok(g.square(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_exp() {
    // d eˣ/dx = eˣ.
    let e = gradcheck(&[randn(3, 3, 27)], &|g, v| Ok(g.exp(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_log() {
    // d ln x/dx = 1/x (inputs in [0.5, 2.5) so the logarithm is defined and well conditioned).
    let mut r = Rng::new(28);
    let x = Tensor::from_fn(3, 3, |_, _| 0.5 + 2.0 * r.uniform());
    let e = gradcheck(&[x], &|g, v| Ok(g.log(v[0])));
    assert!(e < TOL, "{e}");
}

#[test]
fn grad_through_a_shared_node() {
    // L = Σ (x ⊙ x + x): x feeds two consumers, so its gradient 2x + 1 is the sum of two contributions.
    let e = gradcheck(&[randn(2, 3, 29)], &|g, v| {
        let sq = g.mul(v[0], v[0])?;
        let s = g.add(sq, v[0])?;
        Ok(g.sum(s))
    });
    assert!(e < TOL, "{e}");
}

#[test]
fn softmax_family_is_stable_for_huge_logits() {
    let logits = Tensor::new(&[2, 3], vec![1000.0, 999.0, -1000.0, -1000.0, 0.0, 1000.0]).unwrap();
    let mut g = Graph::new();
    let z = g.param(logits);
    let p = g.softmax(z);
    let lp = g.log_softmax(z);
    let ce = g.cross_entropy(z, &[1, 0]).unwrap();
    assert!(g.value(p).data().iter().all(|v| v.is_finite()));
    assert!(g.value(lp).data().iter().all(|v| v.is_finite()));
    // Row 0: log softmax = z - 1000 - ln(1 + e^-1 + e^-2000); python3:
    //   import math; 999 - 1000 - math.log(1 + math.exp(-1))  ->  -1.3132616875182228
    assert!((g.value(lp).get2(0, 1) - (-1.313_261_687_518_222_8)).abs() < 1e-12);
    // Row 1 puts all mass on class 2, so log p[1, 0] = -2000 exactly in floating point.
    assert!((g.value(lp).get2(1, 0) + 2000.0).abs() < 1e-9);
    // CE = (1.3132616875182228 + 2000) / 2.
    assert!((g.value(ce).data()[0] - 1_000.656_630_843_759_1).abs() < 1e-9);
    g.backward(ce).unwrap();
    assert!(g.grad(z).data().iter().all(|v| v.is_finite()));
}

#[test]
fn constants_get_no_gradient_and_cost_no_backward_flops() {
    // X (4×3, constant) · W (3×2, param): the backward computes only dW = Xᵀ G, 2·4·3·2 = 48 FLOPs, and no
    // dX; the forward is the same 48 FLOPs, and sum adds 8 forward FLOPs and 0 backward.
    let mut g = Graph::new();
    let x = g.constant(randn(4, 3, 30));
    let w = g.param(randn(3, 2, 31));
    let z = g.matmul(x, w).unwrap();
    let l = g.sum(z);
    g.backward(l).unwrap();
    assert!(g.try_grad(x).is_none());
    assert_eq!(g.grad(w).shape(), &[3, 2]);
    assert_eq!(
        g.flops(),
        FlopCount {
            forward: 48 + 8,
            backward: 48
        }
    );
    // With X a parameter both products are computed: 96 backward FLOPs.
    let mut g = Graph::new();
    let x = g.param(randn(4, 3, 30));
    let w = g.param(randn(3, 2, 31));
    let z = g.matmul(x, w).unwrap();
    let l = g.sum(z);
    g.backward(l).unwrap();
    assert_eq!(g.flops().backward, 96);
}

#[test]
fn unused_params_get_zero_gradients_and_backward_is_repeatable() {
    let mut g = Graph::new();
    let a = g.param(randn(2, 2, 32));
    let unused = g.param(randn(1, 3, 33));
    let l = g.sum(a);
    g.backward(l).unwrap();
    assert_eq!(g.grad(unused), &Tensor::zeros(&[1, 3]));
    let first = g.grad(a).clone();
    g.backward(l).unwrap();
    assert_eq!(g.grad(a), &first);
}

#[test]
fn shape_errors_name_the_operation() {
    let mut g = Graph::new();
    let a = g.param(randn(2, 3, 34));
    let b = g.param(randn(2, 2, 35));
    assert_eq!(
        g.matmul(a, b),
        Err(ShapeError::Mismatch {
            op: "matmul",
            left: vec![2, 3],
            right: vec![2, 2]
        })
    );
    assert!(matches!(
        g.add(a, b),
        Err(ShapeError::Mismatch { op: "add", .. })
    ));
    assert!(matches!(
        g.cross_entropy(a, &[0, 3]),
        Err(ShapeError::Invalid {
            op: "cross_entropy",
            ..
        })
    ));
    assert!(matches!(
        g.backward(a),
        Err(ShapeError::Invalid { op: "backward", .. })
    ));
}

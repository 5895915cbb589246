//! Unit tests of the norm layers: forward values against numpy, backward passes against central finite
//! differences, running statistics in both libraries' conventions, and the depth and gap experiments.

use super::bn_gap::{train_eval_gap, GapConfig};
use crate::stats::power_law_fit;
use super::depth::{depth_profile, DepthConfig, Placement};
use super::*;
use crate::rng::Rng;

/// The 4 × 3 input, gain and shift of the numpy reference script below.
fn example() -> (Tensor, Vec<f64>, Vec<f64>) {
    let x = Tensor::new(
        &[4, 3],
        vec![
            1.0, -2.0, 0.5, 3.0, 0.0, -1.0, -0.5, 1.5, 2.0, 2.0, -1.0, 0.0,
        ],
    )
    .unwrap();
    (x, vec![1.5, -0.5, 2.0], vec![0.1, 0.2, -0.3])
}

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "entry {i}: got {g}, want {w}");
    }
}

// The expected values below were printed by this numpy script (numpy 2.x, float64):
//
//   x=np.array([[1.0,-2.0,0.5],[3.0,0.0,-1.0],[-0.5,1.5,2.0],[2.0,-1.0,0.0]])
//   g=np.array([1.5,-0.5,2.0]); b=np.array([0.1,0.2,-0.3]); eps=1e-5
//   mu=x.mean(0); var=x.var(0); y=g*(x-mu)/np.sqrt(var+eps)+b            # BatchNorm
//   mu=x.mean(1,keepdims=True); var=x.var(1,keepdims=True)
//   y=g*(x-mu)/np.sqrt(var+eps)+b                                        # LayerNorm
//   ms=(x*x).mean(1,keepdims=True); y=g*x/np.sqrt(ms+eps)                # RMSNorm
//   mu=x.mean(0); vu=x.var(0,ddof=1)
//   0.9*0+0.1*mu, 0.9*1+0.1*vu                                           # PyTorch running stats
//   0.99*1+0.01*x.var(0)                                                 # Keras running variance

#[test]
fn batch_norm_forward_matches_numpy() {
    let (x, g, b) = example();
    let f = batch_norm_train(&x, &g, &b, 1e-5).unwrap();
    assert_close(
        f.y.data(),
        &[
            -0.33503011904783897,
            0.8283768386246562,
            -0.06906087766230293,
            1.9851305158739687,
            0.05498996031738704,
            -2.8403303457146674,
            -2.0751505952391947,
            -0.5250501984130649,
            2.702208590390062,
            0.8250501984130649,
            0.44168339947102164,
            -0.9928173670130911,
        ],
        1e-12,
    );
    assert_close(&f.mean, &[1.375, -0.375, 0.375], 1e-15);
    assert_close(&f.var, &[1.671875, 1.671875, 1.171875], 1e-15);
}

#[test]
fn layer_and_rms_norm_forward_match_numpy() {
    let (x, g, b) = example();
    let f = layer_norm(&x, &g, &b, 1e-5).unwrap();
    assert_close(
        f.y.data(),
        &[
            1.4334974620633754,
            0.8984986706046252,
            0.7159980663340002,
            2.1592158549265754,
            0.3961157957072929,
            -2.2611579570729288,
            -1.9830862969946694,
            -0.03145403299940774,
            1.551632263995262,
            2.104452871469308,
            0.7345207657251487,
            -0.8345207657251488,
        ],
        1e-12,
    );
    let f = rms_norm(&x, &g, 1e-5, RmsEps::Inside).unwrap();
    assert_close(
        f.y.data(),
        &[
            1.133890179346083,
            0.7559267862307221,
            0.7559267862307221,
            2.464747811654303,
            0.0,
            -1.0954434718463568,
            -0.5095234895429874,
            -0.5095234895429874,
            2.7174586108959327,
            2.3237830363857976,
            0.3872971727309663,
            0.0,
        ],
        1e-12,
    );
}

#[test]
fn running_statistics_follow_each_library() {
    let (x, g, b) = example();
    let f = batch_norm_train(&x, &g, &b, 1e-5).unwrap();
    let mut torch = RunningStats::new(3);
    torch
        .update(
            &f,
            0.1,
            MomentumConvention::PyTorch,
            RunningVariance::Unbiased,
        )
        .unwrap();
    assert_close(&torch.mean, &[0.1375, -0.0375, 0.0375], 1e-15);
    assert_close(
        &torch.var,
        &[1.1229166666666668, 1.1229166666666668, 1.05625],
        1e-14,
    );
    let mut keras = RunningStats::new(3);
    keras
        .update(&f, 0.99, MomentumConvention::Keras, RunningVariance::Biased)
        .unwrap();
    assert_close(
        &keras.var,
        &[1.0067187499999999, 1.0067187499999999, 1.00171875],
        1e-14,
    );
    // A batch of one has no unbiased variance: the error says so instead of dividing by zero.
    let one = batch_norm_train(
        &Tensor::new(&[1, 3], vec![1.0, 2.0, 3.0]).unwrap(),
        &g,
        &b,
        1e-5,
    )
    .unwrap();
    let e = torch
        .update(
            &one,
            0.1,
            MomentumConvention::PyTorch,
            RunningVariance::Unbiased,
        )
        .unwrap_err();
    assert!(e.to_string().contains("at least 2"), "{e}");
}

#[test]
fn batch_of_one_outputs_beta_whatever_the_input() {
    let g = [1.5, -0.5, 2.0];
    let b = [0.1, 0.2, -0.3];
    for row in [[1.0, 2.0, 3.0], [-40.0, 7.0, 0.25]] {
        let x = Tensor::new(&[1, 3], row.to_vec()).unwrap();
        let f = batch_norm_train(&x, &g, &b, 1e-5).unwrap();
        // x − μ = 0 exactly for a batch of one, so y = β.
        assert_close(f.y.data(), &b, 0.0);
    }
}

/// Central finite differences of `L = Σ dy ⊙ f(x, γ, β)` against the closed-form backward pass, through the
/// engine's one checker ([`crate::gradcheck::check`]) over the inputs `(x, γ, β)` flattened into one vector;
/// returns the largest absolute error. RMSNorm has no β, so its β entries must show a zero derivative.
fn grad_check(kind: NormKind, placement: RmsEps, eps: f64, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let (bsz, d) = (5, 4);
    let x = Tensor::randn(&[bsz, d], 1.3, &mut rng);
    let g: Vec<f64> = (0..d).map(|_| 1.0 + 0.5 * rng.normal()).collect();
    let be: Vec<f64> = (0..d).map(|_| 0.3 * rng.normal()).collect();
    let dy = Tensor::randn(&[bsz, d], 1.0, &mut rng);
    let forward = |x: &Tensor, g: &[f64], be: &[f64]| match kind {
        NormKind::Batch => batch_norm_train(x, g, be, eps),
        NormKind::Layer => layer_norm(x, g, be, eps),
        NormKind::Rms => rms_norm(x, g, eps, placement),
    }
    .unwrap();
    let n = x.len();
    let loss = |v: &[f64]| -> f64 {
        let xv = Tensor::new(&[bsz, d], v[..n].to_vec()).unwrap();
        let f = forward(&xv, &v[n..n + d], &v[n + d..]);
        f.y.data().iter().zip(dy.data()).map(|(a, b)| a * b).sum()
    };
    let grads = backward(&forward(&x, &g, &be), &g, &dy, false).unwrap();
    let point: Vec<f64> = x.data().iter().chain(&g).chain(&be).copied().collect();
    let analytic: Vec<f64> = grads
        .dx
        .data()
        .iter()
        .chain(&grads.dgamma)
        .chain(&grads.dbeta)
        .copied()
        .collect();
    crate::gradcheck::check(loss, &point, &analytic, 1e-6).max_abs_error
}

#[test]
fn every_backward_pass_matches_finite_differences() {
    // Central differences with h = 1e-6 on O(1) values have truncation error O(h²) ≈ 1e-12 and rounding
    // error ≈ 1e-16/1e-6 = 1e-10, so 1e-7 leaves a wide margin while still catching any wrong term
    // (a missing mean path changes the gradient by O(1)).
    for seed in [1, 2, 3] {
        for (kind, placement, eps) in [
            (NormKind::Batch, RmsEps::Inside, 1e-5),
            (NormKind::Layer, RmsEps::Inside, 1e-5),
            (NormKind::Rms, RmsEps::Inside, 1e-5),
            (NormKind::Rms, RmsEps::Outside, 1e-2),
            (NormKind::Rms, RmsEps::Inside, 0.3),
            (NormKind::Layer, RmsEps::Inside, 0.3),
        ] {
            let e = grad_check(kind, placement, eps, seed);
            assert!(
                e < 1e-7,
                "{kind:?} {placement:?} eps {eps} seed {seed}: {e}"
            );
        }
    }
}

#[test]
fn eval_mode_backward_is_a_per_feature_scale() {
    let (x, g, b) = example();
    let mut r = RunningStats::new(3);
    r.mean = vec![1.0, 0.0, -1.0];
    r.var = vec![4.0, 1.0, 0.25];
    let f = batch_norm_eval(&x, &g, &b, &r, 0.0).unwrap();
    let dy = Tensor::full(&[4, 3], 1.0);
    let grads = backward(&f, &g, &dy, true).unwrap();
    // dx_ij = dy_ij γ_j / √(r_var_j): 1.5/2, −0.5/1, 2/0.5.
    for row in 0..4 {
        assert_close(grads.dx.row_slice(row), &[0.75, -0.5, 4.0], 1e-15);
    }
}

#[test]
fn batch_norm_couples_examples_and_layer_norm_does_not() {
    // The gradient of example 0's first output with respect to example 1's input: non-zero for BatchNorm
    // (−(γ s/B)(1 + x̂_0 x̂_1) from the closed form), exactly zero for LayerNorm.
    let (x, g, b) = example();
    let mut dy = Tensor::zeros(&[4, 3]);
    dy.set2(0, 0, 1.0);
    let f = batch_norm_train(&x, &g, &b, 1e-5).unwrap();
    let grads = backward(&f, &g, &dy, false).unwrap();
    let (s, xh0, xh1) = (f.inv_std[0], f.x_hat.get2(0, 0), f.x_hat.get2(1, 0));
    let want = -(g[0] * s / 4.0) * (1.0 + xh0 * xh1);
    assert!((grads.dx.get2(1, 0) - want).abs() < 1e-12);
    let f = layer_norm(&x, &g, &b, 1e-5).unwrap();
    let grads = backward(&f, &g, &dy, false).unwrap();
    assert_close(grads.dx.row_slice(1), &[0.0, 0.0, 0.0], 0.0);
}

#[test]
fn errors_name_what_does_not_fit() {
    let (x, g, b) = example();
    let e = layer_norm(&x, &g[..2], &b, 1e-5).unwrap_err();
    assert!(e.to_string().contains("gamma has 2 entries"), "{e}");
    let e = batch_norm_train(&x, &g, &b, -1.0).unwrap_err();
    assert!(e.to_string().contains("eps"), "{e}");
    let f = layer_norm(&x, &g, &b, 1e-5).unwrap();
    let e = backward(&f, &g, &Tensor::zeros(&[2, 3]), false).unwrap_err();
    assert!(e.to_string().contains("dy has shape"), "{e}");
}

fn profile(
    norm: Option<NormKind>,
    placement: Placement,
    depth: usize,
) -> super::depth::DepthProfile {
    depth_profile(&DepthConfig {
        depth,
        width: 32,
        batch: 32,
        norm,
        placement,
        gain: 1.0,
        seed: 1,
    })
}

#[test]
fn residual_stream_growth_depends_on_the_norm_and_its_place() {
    let plain = profile(None, Placement::Pre, 24);
    let pre = profile(Some(NormKind::Layer), Placement::Pre, 24);
    let post = profile(Some(NormKind::Layer), Placement::Post, 24);
    // Without a norm every block adds a branch about as large as the stream, so the stream's standard
    // deviation grows geometrically: far beyond the pre-norm stream, which grows like √l.
    assert!(
        plain.act_std[24] > 100.0 * pre.act_std[24],
        "{:?}",
        plain.act_std
    );
    assert!(
        pre.act_std[24] > 2.0 && pre.act_std[24] < 10.0,
        "{:?}",
        pre.act_std
    );
    // Post-norm re-normalises after every addition: the stream stays at unit scale.
    assert!((post.act_std[24] - 1.0).abs() < 0.05, "{:?}", post.act_std);
    assert_eq!(pre.grad_norm.len(), 24);
    assert_eq!(pre.stream_grad_rms.len(), 25);
}

#[test]
fn depth_backward_matches_finite_differences_of_its_loss() {
    // Every configuration's hand-written backward pass (ReLU branch, skip path, norm before or after the
    // addition, final norm) against central differences of the loss in a few weights of every block.
    let configs = [
        (None, Placement::Pre),
        (Some(NormKind::Batch), Placement::Pre),
        (Some(NormKind::Layer), Placement::Pre),
        (Some(NormKind::Rms), Placement::Pre),
        (Some(NormKind::Batch), Placement::Post),
        (Some(NormKind::Layer), Placement::Post),
        (Some(NormKind::Rms), Placement::Post),
    ];
    for (norm, placement) in configs {
        let cfg = DepthConfig {
            depth: 3,
            width: 4,
            batch: 5,
            norm,
            placement,
            gain: 1.0,
            seed: 11,
        };
        let (_, _, dws) = super::depth::run(&cfg, None);
        let h = 1e-6;
        for (l, dw) in dws.iter().enumerate() {
            for k in [0, 5, 10, 15, 16, 21, 31] {
                let lp = super::depth::run(&cfg, Some((l, k, h))).1;
                let lm = super::depth::run(&cfg, Some((l, k, -h))).1;
                let fd = (lp - lm) / (2.0 * h);
                let analytic = if k < 16 {
                    dw.0.data()[k]
                } else {
                    dw.1.data()[k - 16]
                };
                // Same error budget as the layer checks above; a ReLU kink inside ±h would break this,
                // and with these seeds none is within 1e-6 of zero.
                assert!(
                    (fd - analytic).abs() < 1e-7,
                    "{norm:?} {placement:?} block {l} weight {k}: fd {fd}, backward {analytic}"
                );
            }
        }
    }
}

#[test]
fn train_eval_gap_falls_like_one_over_b() {
    let pts: Vec<(f64, f64)> = [4, 8, 16, 32, 64]
        .iter()
        .map(|&b| {
            let r = train_eval_gap(&GapConfig::pytorch(b, 5)).unwrap();
            (b as f64, r.gap)
        })
        .collect();
    let (slope, _) = power_law_fit(&pts);
    assert!((slope + 1.0).abs() < 0.2, "slope {slope}, points {pts:?}");
    // The biased batch variance is low by (B − 1)/B on average: 0.75 at B = 4.
    let r = train_eval_gap(&GapConfig {
        trials: 4000,
        ..GapConfig::pytorch(4, 9)
    })
    .unwrap();
    assert!((r.batch_var_ratio - 0.75).abs() < 0.03, "{r:?}");
    assert!((r.batch_mean_var - 0.25).abs() < 0.02, "{r:?}");
}

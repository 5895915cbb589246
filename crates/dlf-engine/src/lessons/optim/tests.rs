//! Tests of lesson 02's engine code.

use super::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn run(c: Config, groups: &[usize], p0: &[f64], grads: &[&[f64]]) -> (Vec<f64>, Optimizer) {
    let mut opt = Optimizer::new(c, groups).unwrap();
    let mut p = p0.to_vec();
    for g in grads {
        opt.step(&mut p, g, c.lr).unwrap();
    }
    (p, opt)
}

#[test]
fn sgd_momentum_matches_hand_computation() {
    // PyTorch convention, μ = 0.9, lr = 0.1, p0 = 1, grads 1 then 2:
    // b1 = 1, p1 = 1 − 0.1 = 0.9; b2 = 0.9·1 + 2 = 2.9, p2 = 0.9 − 0.29 = 0.61.
    let mut c = Config::new(Kind::Sgd, 0.1);
    c.momentum = 0.9;
    let (p, _) = run(c, &[1], &[1.0], &[&[1.0], &[2.0]]);
    assert!(close(p[0], 0.61, 1e-12), "{p:?}");
    // Nesterov: d1 = g + μ b1 = 1 + 0.9 = 1.9, p1 = 0.81; b2 = 2.9, d2 = 2 + 2.61 = 4.61, p2 = 0.349.
    c.nesterov = true;
    let (p, _) = run(c, &[1], &[1.0], &[&[1.0], &[2.0]]);
    assert!(close(p[0], 0.349, 1e-12), "{p:?}");
    // EMA: b1 = 0.1, p1 = 0.99; b2 = 0.09 + 0.2 = 0.29, p2 = 0.99 − 0.029 = 0.961.
    c.nesterov = false;
    c.momentum_style = MomentumStyle::Ema;
    let (p, _) = run(c, &[1], &[1.0], &[&[1.0], &[2.0]]);
    assert!(close(p[0], 0.961, 1e-12), "{p:?}");
}

#[test]
fn adam_constant_gradient_step_is_lr_times_sign_for_any_scale() {
    for g in [1e-4, 1.0, 1e3, -7.0] {
        for t in [1, 2, 10, 1000] {
            let s = adam_constant_gradient_step(g, t, 0.9, 0.999, 1e-8, true);
            assert!(close(s, 1.0, 1e-3), "g={g} t={t}: {s}");
        }
    }
    // Without bias correction the first step is (1 − β1)/√(1 − β2) = 0.1/√0.001 = 3.1623 lr.
    let s = adam_constant_gradient_step(1.0, 1, 0.9, 0.999, 0.0, false);
    assert!(close(s, 0.1 / 0.001f64.sqrt(), 1e-12), "{s}");
}

#[test]
fn adam_eps_placements_agree_when_eps_is_zero_and_differ_otherwise() {
    let mut c = Config::new(Kind::Adam, 0.1);
    c.eps = 0.0;
    let grads: [&[f64]; 3] = [&[0.3], &[-0.1], &[0.2]];
    let (a, _) = run(c, &[1], &[0.5], &grads);
    c.eps_placement = EpsPlacement::Hat;
    let (b, _) = run(c, &[1], &[0.5], &grads);
    c.eps_placement = EpsPlacement::Inside;
    let (d, _) = run(c, &[1], &[0.5], &grads);
    assert!(close(a[0], b[0], 1e-12) && close(a[0], d[0], 1e-12));
    c.eps = 0.01;
    c.eps_placement = EpsPlacement::Outside;
    let (a, _) = run(c, &[1], &[0.5], &grads);
    c.eps_placement = EpsPlacement::Inside;
    let (d, _) = run(c, &[1], &[0.5], &grads);
    assert!((a[0] - d[0]).abs() > 1e-4);
}

#[test]
fn adamw_differs_from_adam_with_l2_and_equals_it_for_sgd() {
    // For SGD, decoupled decay p -= lr λ p and L2 g += λ p are the same update.
    let lr = 0.1;
    let lam = 0.5;
    let p0 = 2.0;
    let g = 0.3;
    let l2 = p0 - lr * (g + lam * p0);
    let decoupled = p0 - lr * lam * p0 - lr * g;
    assert!(close(l2, decoupled, 1e-15));
    // Under Adam the L2 term is normalised away with the gradient; AdamW's is not.
    let mut c = Config::new(Kind::Adam, lr);
    c.weight_decay = lam;
    let (adam, _) = run(c, &[1], &[p0], &[&[g]]);
    c.kind = Kind::AdamW;
    let (adamw, _) = run(c, &[1], &[p0], &[&[g]]);
    // Adam+L2 first step: lr·sign(g + λp) = 0.1 → 1.9. AdamW: 2 − 0.1 − 0.1 = 1.8 (up to ε).
    assert!(close(adam[0], 1.9, 1e-6), "{adam:?}");
    assert!(close(adamw[0], 1.8, 1e-6), "{adamw:?}");
}

#[test]
fn lion_moves_every_coordinate_by_exactly_lr_plus_decay() {
    let mut c = Config::new(Kind::Lion, 0.01);
    let (p, opt) = run(c, &[3], &[1.0, -2.0, 0.5], &[&[3.0, 1e-6, -40.0]]);
    assert!(close(p[0], 0.99, 1e-15) && close(p[1], -2.01, 1e-15) && close(p[2], 0.51, 1e-15));
    // The state is one vector: m = (1 − β2) g.
    let state = opt.state();
    assert_eq!(state.len(), 1);
    assert!(close(state[0].1[0], 0.01 * 3.0, 1e-15));
    c.weight_decay = 1.0;
    let (p, _) = run(c, &[1], &[1.0], &[&[3.0]]);
    // p − lr (sign + λ p) = 1 − 0.01 (1 + 1) = 0.98.
    assert!(close(p[0], 0.98, 1e-15));
}

#[test]
fn lamb_trust_ratio_is_per_group() {
    // Group 1: p = (3, 4) (norm 5), group 2: p = (0.1). First step: u = sign(g) (up to ε), so
    // ‖u‖ = √2 and 1; trust ratios 5/√2 and 0.1.
    let mut c = Config::new(Kind::Lamb, 0.01);
    c.eps = 0.0;
    let mut opt = Optimizer::new(c, &[2, 1]).unwrap();
    let mut p = [3.0, 4.0, 0.1];
    let info = opt.step(&mut p, &[1.0, -2.0, 5.0], 0.01).unwrap();
    assert!(close(info.trust_ratios[0], 5.0 / 2f64.sqrt(), 1e-12));
    assert!(close(info.trust_ratios[1], 0.1, 1e-12));
    assert!(close(p[0], 3.0 - 0.01 * 5.0 / 2f64.sqrt(), 1e-12));
    assert!(close(p[2], 0.1 - 0.01 * 0.1, 1e-12));
    assert!(close(trust_ratio(0.0, 3.0), 1.0, 0.0));
}

#[test]
fn rmsprop_matches_hand_computation_in_both_eps_placements() {
    // v1 = 0.01·4 = 0.04, step = lr·2/(0.2 + ε).
    let mut c = Config::new(Kind::RmsProp, 0.01);
    c.eps = 0.01;
    let (p, _) = run(c, &[1], &[0.0], &[&[2.0]]);
    assert!(close(p[0], -0.01 * 2.0 / 0.21, 1e-15));
    c.eps_placement = EpsPlacement::Inside;
    let (p, _) = run(c, &[1], &[0.0], &[&[2.0]]);
    assert!(close(p[0], -0.01 * 2.0 / 0.05f64.sqrt(), 1e-15));
}

#[test]
fn bias_correction_ratio_matches_one_minus_beta_to_the_t() {
    for t in [1, 3, 10] {
        let r = ema_bias_ratio(0.9, t, 20_000, 5);
        let theory = 1.0 - 0.9f64.powi(t as i32);
        assert!(close(r, theory, 0.01), "t={t}: {r} vs {theory}");
    }
}

#[test]
fn heavy_ball_beats_gd_at_its_predicted_rate() {
    let kappa = 100.0;
    let gd = measured_quadratic_rate(kappa, false, 400);
    let hb = measured_quadratic_rate(kappa, true, 1000);
    assert!(close(gd, gd_rate(kappa), 1e-6), "{gd}");
    // The t·rᵗ decay of the defective heavy-ball iteration inflates the measured rate by 2^(1/500).
    assert!(close(hb, heavy_ball_rate(kappa), 0.002), "{hb}");
}

#[test]
fn heavy_ball_is_stable_up_to_two_times_one_plus_mu_over_h() {
    // On ½hx² the heavy ball's characteristic polynomial r² − (1 + μ − ηh)r + μ has a root at r = −1
    // exactly when ηh = 2(1 + μ): 3.6 for μ = 0.8, h = 1 (the lesson's race at its default momentum).
    let run_to = |lr: f64| {
        let mut c = Config::new(Kind::Sgd, lr);
        c.momentum = 0.8;
        let mut opt = Optimizer::new(c, &[1]).unwrap();
        let mut x = [1.0];
        // 500 steps: |r| = √0.8 inside the bound shrinks x below 1e-24, the real root −1.27 just outside
        // it grows x past 1e51, and neither overflows.
        for _ in 0..500 {
            let g = [x[0]];
            opt.step(&mut x, &g, lr).unwrap();
        }
        x[0].abs()
    };
    assert!(close(heavy_ball_lr_limit(1.0, 0.8), 3.6, 1e-12));
    assert!(run_to(3.5) < 1e-3, "{}", run_to(3.5));
    assert!(run_to(3.7) > 1e3, "{}", run_to(3.7));
}

#[test]
fn second_half_mean_averages_the_tail() {
    // Path of four points: the second half is the last two, whose first coordinates average (3 + 5)/2.
    let path = [[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
    assert!(close(second_half_mean(&path, 0), 4.0, 1e-15));
    assert!(close(second_half_mean(&path, 1), 5.0, 1e-15));
    assert!(second_half_mean(&[], 0).is_nan());
}

#[test]
fn sgd_noise_floor_is_proportional_to_the_learning_rate() {
    for lr in [0.01, 0.1] {
        let measured = sgd_measured_variance(1.0, lr, 1.0, 200_000, 9);
        let theory = sgd_stationary_variance(1.0, lr, 1.0);
        // Successive iterates are correlated over ~1/(ηh) steps, so 200 000 steps give about 2000/(1/η)
        // effective samples; 10 % covers the sampling error at η = 0.01.
        assert!(
            close(measured, theory, 0.1 * theory),
            "lr={lr}: {measured} vs {theory}"
        );
    }
}

#[test]
fn noisy_adam_step_shrinks_with_snr() {
    for snr in [0.1, 1.0, 10.0] {
        let (mean, _) = adam_noisy_step(snr, 0.9, 0.999, 2000, 20_000, 3);
        let theory = adam_noisy_step_theory(snr);
        assert!(
            close(mean, theory, 0.1 * theory + 0.01),
            "snr={snr}: {mean} vs {theory}"
        );
    }
}

#[test]
fn radam_switches_on_at_step_five_for_default_beta2() {
    assert_eq!(radam_first_rectified_step(0.999), 5);
    assert!(radam_rectification(0.999, 4) == 0.0);
    assert!(radam_rectification(0.999, 100_000) > 0.99);
}

#[test]
fn schedule_and_memory() {
    let s = Schedule {
        warmup: 10,
        total: 110,
        cosine: true,
        min_ratio: 0.1,
    };
    assert!(close(s.multiplier(5), 0.5, 1e-15));
    assert!(close(s.multiplier(10), 1.0, 1e-15));
    assert!(close(s.multiplier(60), 0.55, 1e-12));
    assert!(close(s.multiplier(110), 0.1, 1e-12));
    assert_eq!(warmup_steps_to_fraction(2000, 0.25), 500);
    assert!(close(
        training_bytes_per_param(Kind::Adam, false, true),
        16.0,
        0.0
    ));
    assert!(close(
        training_bytes_per_param(Kind::Lion, false, true),
        12.0,
        0.0
    ));
    assert!(close(
        state_bytes_per_param(Kind::AdamW, false, 4.0),
        8.0,
        0.0
    ));
    assert!(close(
        state_bytes_per_param(Kind::Sgd, false, 4.0),
        0.0,
        0.0
    ));
}

#[test]
fn surfaces_gradients_match_finite_differences() {
    let h = 1e-6;
    for s in [
        Surface::Quadratic { kappa: 30.0 },
        Surface::Rosenbrock,
        Surface::Saddle,
    ] {
        for &(x, y) in &[(0.3, -0.7), (-1.2, 1.0), (0.9, 0.4)] {
            let g = s.grad(x, y);
            let fx = (s.value(x + h, y) - s.value(x - h, y)) / (2.0 * h);
            let fy = (s.value(x, y + h) - s.value(x, y - h)) / (2.0 * h);
            assert!(close(g[0], fx, 1e-6 * (1.0 + fx.abs())), "{s:?}");
            assert!(close(g[1], fy, 1e-6 * (1.0 + fy.abs())), "{s:?}");
        }
    }
}

#[test]
fn errors_name_the_problem() {
    let mut c = Config::new(Kind::Adam, 0.1);
    c.beta2 = 1.0;
    assert!(matches!(
        Optimizer::new(c, &[1]),
        Err(OptimError::Hyperparameter { name: "beta2", .. })
    ));
    let mut opt = Optimizer::new(Config::new(Kind::Adam, 0.1), &[2]).unwrap();
    let mut p = [0.0, 0.0];
    assert_eq!(
        opt.step(&mut p, &[1.0], 0.1),
        Err(OptimError::Length {
            what: "gradients",
            expected: 2,
            got: 1
        })
    );
    assert_eq!(
        opt.step(&mut p, &[1.0, f64::NAN], 0.1),
        Err(OptimError::NonFinite {
            what: "gradient",
            index: 1
        })
    );
    assert_eq!(opt.steps(), 0);
}

#[test]
fn noisy_quadratic_steps_match_a_brute_force_count_and_the_critical_batch_is_the_noise_scale() {
    let q = NoisyQuadratic {
        kappa: 100.0,
        noise_scale: 64.0,
        target: 1e-3,
    };
    // The bisection finds the same first step as walking the expected loss forward one step at a time.
    for (lr, b) in [(0.002, 8.0), (0.0099, 64.0), (0.019, 4096.0)] {
        let f = q.contractions(lr, b);
        let (mut m, mut t) = ([1.0f64, 1.0], 0u64);
        assert!(f[0] < 1.0 && f[1] < 1.0, "a stable pair");
        while 0.5 * (m[0] + m[1]) > q.target {
            m = [m[0] * f[0], m[1] * f[1]];
            t += 1;
        }
        assert_eq!(q.steps_to_target(lr, b), Some(t), "lr {lr} B {b}");
    }
    // Beyond the stability limit 2/(L(1 + B_noise/B)) the expected loss grows: no step count.
    assert_eq!(q.steps_to_target(2.0 / 100.0 * 1.01, 1e9), None);
    // The reference script (numpy, the same 600-point grid from 1e-5 to 1.05 ε_max) found, for B = 1, 64,
    // 4096: 10477, 318, 160 steps at 0.01532, 0.4946, 0.9720 ε_max; and the fit S = a + b/B over
    // B = 1…4096 gave S_min = 155.41, B_crit = 66.31:
    //   f = (1-lr*h)**2 + lr**2*h**2*64/B;  L(t) = 0.5*sum(f**t);  first t with L(t) <= 1e-3
    for (b, steps, frac) in [
        (1.0, 10477, 0.015325),
        (64.0, 318, 0.494615),
        (4096.0, 160, 0.971983),
    ] {
        let (lr, s) = q.best(b).unwrap();
        assert_eq!(s, steps, "B {b}");
        assert!(
            close(lr / q.lr_max(), frac, 1e-5),
            "B {b}: {}",
            lr / q.lr_max()
        );
        // McCandlish et al.'s ε_max/(1 + B_noise/B) is within 2 % of the searched optimum.
        assert!(close(lr / q.lr_theory(b), 1.0, 0.02), "B {b}");
    }
    let (s_min, b_crit) = q.fit();
    assert!(close(s_min, 155.409, 1e-2), "{s_min}");
    assert!(close(b_crit, 66.310, 1e-2), "{b_crit}");
    // ln(1/(2·10⁻³))·101²/400 = 158.488.
    assert!(close(q.min_steps_theory(), 158.488, 1e-3));
}

#[test]
fn linear_scaling_is_first_order_exact() {
    // k = 8 steps of 0.01 against one of 0.08 on h = 1: |((0.99⁸ − 1) + 0.08)/0.08| = 0.034309 (numpy),
    // close to (k − 1)εh/2 = 0.035.
    assert!(close(linear_scaling_gap(1.0, 0.01, 8), 0.034309, 1e-6));
    assert!(linear_scaling_gap(1.0, 0.01, 1) < 1e-15);
    // The gap grows with kεh: at kεh = 0.8 it is about a third.
    assert!(linear_scaling_gap(1.0, 0.1, 8) > 0.2);
}

#[test]
fn fresh_mlp_layer_ratios_differ_and_lamb_trust_is_the_weight_rms() {
    let r = layer_ratios(64, 3, 1).unwrap();
    assert_eq!(r.ratios.len(), 4);
    for l in 0..4 {
        assert!(close(
            r.ratios[l],
            r.weight_norms[l] / r.grad_norms[l],
            1e-12
        ));
    }
    assert!(r.spread() > 1.0);
    // The input layer (He std 1 for fan-in 2) has large weights and small gradients, the output layer the
    // reverse: their ratios are the extremes (289.7 and 3.50 in a first run; the spread is 82.8).
    assert!(r.ratios[0] > 100.0 && r.ratios[3] < 10.0, "{:?}", r.ratios);
    assert!(close(r.spread(), r.ratios[0] / r.ratios[3], 1e-9));
    // At step 1 LAMB's direction is g/(|g| + ε): ±1 where the gradient is non-zero, 0 where a dead ReLU
    // unit gives it none. So ‖u‖ ≤ √n and the trust ratio is at least the RMS of the layer's weights,
    // ‖W‖/√n; it equals it when every entry has a gradient, as in the input layer, whose 128 weights all feed
    // live units here.
    let sizes = [2 * 64, 64 * 64, 64 * 64, 64 * 2];
    for (l, n) in sizes.iter().enumerate() {
        let rms = r.weight_norms[l] / (*n as f64).sqrt();
        assert!(r.lamb_trust[l] >= rms * (1.0 - 1e-9), "layer {l}");
        assert!(
            r.lamb_trust[l] <= rms * 2f64.sqrt(),
            "layer {l}: most entries have a gradient"
        );
    }
    assert!(close(
        r.lamb_trust[0],
        r.weight_norms[0] / 128f64.sqrt(),
        0.01
    ));
}

//! Lesson 11's engine tests: fans and statistics against hand-computed values, the mean-field maps against
//! closed forms and a finite-width simulation, the training run's gradients against the autograd tape.

use super::depth::{depth_profile, DepthConfig};
use super::divergence::{Run, RunConfig};
use super::mean_field::{critical_sigma_w2, relu_correlation_closed_form, MeanField};
use super::*;
use crate::autograd::Graph;

#[test]
fn fans_in_both_layouts() {
    // (out, in, kh, kw) = (64, 3, 3, 3): fan_in = 3·9 = 27, fan_out = 64·9 = 576.
    let f = fans(&[64, 3, 3, 3], Layout::PyTorch).unwrap();
    assert_eq!((f.fan_in, f.fan_out, f.receptive_field), (27, 576, 9));
    // The same kernel in Keras's (kh, kw, in, out) layout has the same fans.
    let k = fans(&[3, 3, 3, 64], Layout::Keras).unwrap();
    assert_eq!(k, f);
    // Reading a Keras kernel with PyTorch's rule swaps roles: fan_in = 3·(3·64), fan_out = 3·(3·64).
    let wrong = fans(&[3, 3, 3, 64], Layout::PyTorch).unwrap();
    assert_eq!((wrong.fan_in, wrong.fan_out), (576, 576));
    // Dense layers: PyTorch (out, in), Keras (in, out).
    assert_eq!(fans(&[10, 784], Layout::PyTorch).unwrap().fan_in, 784);
    assert_eq!(fans(&[784, 10], Layout::Keras).unwrap().fan_in, 784);
    assert!(fans(&[5], Layout::PyTorch).is_err());
    assert_eq!(fans(&[5], Layout::Keras).unwrap().fan_out, 5);
}

#[test]
fn schemes_match_their_closed_forms() {
    let f = fans(&[256, 128], Layout::PyTorch).unwrap();
    // Xavier uniform: a = √(6/(128 + 256)) = 0.125.
    let x = init_stats(f, FanMode::FanAvg, 1.0, false);
    assert!((x.uniform_bound - 0.125).abs() < 1e-15);
    // Kaiming normal, ReLU: std = √(2/128) = 0.125.
    let k = init_stats(f, FanMode::FanIn, Nonlin::Relu.pytorch_gain().unwrap(), false);
    assert!((k.std - 0.125).abs() < 1e-15);
    // PyTorch's default Linear init has bound 1/√fan_in, hence σ_w² = 1/3.
    assert!((pytorch_default_variance(128) * 128.0 - 1.0 / 3.0).abs() < 1e-15);
    // scipy.stats.truncnorm.std(-2, 2) = 0.8796256610342398 (the constant in Keras and JAX).
    assert!((truncated_normal_std(2.0) - 0.879_625_661_034_239_8).abs() < 1e-15);
}

#[test]
fn moment_gains_match_pytorch_where_pytorch_derives_them() {
    for phi in [Nonlin::Linear, Nonlin::Relu, Nonlin::LeakyRelu(0.2)] {
        let (m, p) = (phi.moment_gain(), phi.pytorch_gain().unwrap());
        assert!((m - p).abs() < 1e-12, "{phi:?}: {m} vs {p}");
    }
    // SELU's constants are chosen so that E[selu(z)²] = 1 (Klambauer et al. 2017): gain 1, not PyTorch's 3/4.
    assert!((Nonlin::Selu.moment_gain() - 1.0).abs() < 1e-12);
    // tanh: PyTorch's 5/3 is larger than the moment gain.
    let t = Nonlin::Tanh.moment_gain();
    assert!(t > 1.5 && t < 5.0 / 3.0, "{t}");
}

#[test]
fn derivatives_match_finite_differences() {
    for phi in [
        Nonlin::LeakyRelu(0.1),
        Nonlin::Silu,
        Nonlin::Selu,
        Nonlin::Gelu,
        Nonlin::Tanh,
        Nonlin::Sigmoid,
    ] {
        for x in [-2.3, -0.7, 0.4, 1.9] {
            let h = 1e-6;
            let fd = (phi.apply(x + h) - phi.apply(x - h)) / (2.0 * h);
            assert!((fd - phi.derivative(x)).abs() < 1e-8, "{phi:?} at {x}");
        }
    }
}

#[test]
fn relu_length_map_and_correlation_map_have_closed_forms() {
    // q ↦ σ_w² q/2 for ReLU without bias.
    let mf = MeanField::new(Nonlin::Relu, 2.0, 0.0);
    assert!((mf.length_map(3.7) - 3.7).abs() < 1e-12);
    assert!((mf.chi(1.3) - 1.0).abs() < 1e-12);
    // The correlation map against the arc-cosine kernel (Cho & Saul 2009).
    for c in [-0.5, 0.0, 0.3, 0.8] {
        let got = mf.correlation_map(1.0, c);
        let want = relu_correlation_closed_form(c);
        assert!((got - want).abs() < 1e-12, "c = {c}: {got} vs {want}");
    }
}

#[test]
fn tanh_edge_of_chaos_and_phases() {
    let crit = critical_sigma_w2(Nonlin::Tanh, 0.05, 0.5, 10.0).unwrap();
    let below = MeanField::new(Nonlin::Tanh, crit * 0.8, 0.05).chi1().unwrap();
    let above = MeanField::new(Nonlin::Tanh, crit * 1.2, 0.05).chi1().unwrap();
    assert!(below < 1.0 && above > 1.0, "{below} {above}");
    // Without bias the edge of chaos of tanh is σ_w² = 1 exactly (q* = 0, tanh'(0) = 1).
    let zero_bias = critical_sigma_w2(Nonlin::Tanh, 0.0, 0.5, 10.0);
    assert!(zero_bias.is_none() || (zero_bias.unwrap() - 1.0).abs() < 1e-3);
}

#[test]
fn simulation_agrees_with_the_mean_field() {
    for (phi, preset) in [
        (Nonlin::Tanh, Preset::Lecun),
        (Nonlin::Relu, Preset::He),
        (Nonlin::Gelu, Preset::Matched),
    ] {
        // At finite width the squared norm of a deep ReLU network's output is close to log-normal, with a
        // log-variance growing like depth/width (Hanin & Nica 2019), so one batch can be 20 % off; the mean
        // square over seeds is what the mean field predicts.
        let mut ratio = 0.0;
        for seed in 1..=6 {
            let p = depth_profile(&DepthConfig {
                phi,
                preset,
                depth: 12,
                width: 256,
                batch: 8,
                seed,
            });
            ratio += (p.rms[11] / p.predicted_rms[11]).powi(2) / 6.0;
        }
        assert!((ratio - 1.0).abs() < 0.12, "{phi:?}: {ratio}");
    }
}

#[test]
fn training_gradients_match_the_autograd_tape() {
    for phi in [Nonlin::Relu, Nonlin::Tanh] {
        let run = Run::new(RunConfig {
            phi,
            preset: Preset::He,
            depth: 3,
            lr: 0.01,
            steps: 1,
            seed: 2,
        });
        let grads = run.gradients();
        let (x, y) = run.data();
        let mut g = Graph::new();
        let mut a = g.constant(x.clone());
        let ws: Vec<_> = run
            .weights()
            .iter()
            .map(|w| g.param(w.transpose()))
            .collect();
        for (l, w) in ws.iter().enumerate() {
            let h = g.matmul(a, *w).unwrap();
            a = if l + 1 < ws.len() {
                match phi {
                    Nonlin::Relu => g.relu(h),
                    _ => g.tanh(h),
                }
            } else {
                h
            };
        }
        let target = g.constant(crate::tensor::Tensor::new(&[y.len(), 1], y.to_vec()).unwrap());
        // The tape's mse is the mean of squares; the run's loss is half of it.
        let mse = g.mse(a, target).unwrap();
        let loss = g.scale(mse, 0.5);
        g.backward(loss).unwrap();
        for (l, w) in ws.iter().enumerate() {
            let tape = g.grad(*w).transpose();
            let d = tape.max_abs_diff(&grads[l]).unwrap();
            assert!(d < 1e-12, "{phi:?} layer {l}: {d}");
        }
    }
}

#[test]
fn slicing_the_run_does_not_change_it() {
    let cfg = RunConfig {
        phi: Nonlin::Tanh,
        preset: Preset::He,
        depth: 4,
        lr: 0.05,
        steps: 20,
        seed: 1,
    };
    let whole = Run::to_end(cfg);
    let mut sliced = Run::new(cfg);
    while !sliced.advance(3) {}
    assert_eq!(whole.losses, sliced.losses);
}



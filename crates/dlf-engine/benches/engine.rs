//! Criterion benchmarks of the engine's hot paths.
//!
//! - `mlp_train_step/*`: one full-batch step of the trainer widget's network on 200 moons points, at the
//!   widget's default size (1 hidden layer of 16) and its worst case (3 hidden layers of 32, GELU and ReLU).
//! - `two_layer/*`: lesson 01's 64×784×256×10 problem through the closed-form backward and through the tape
//!   (the same problem on the fast kernel is timed by `examples/jax_compare.rs`, beside JAX).
//! - `attention/*`: causal multi-head self-attention forward and backward on the tape (B = 2, T = 32,
//!   d = 64, 4 heads), on the exact and the fast kernel.
//! - `optimizer_step/*`: one step of each lesson-02 optimizer on 2^20 parameters (LAMB in 16 groups).
//! - `norm/*`: lesson 03's layers forward and backward on a 256×1024 matrix, and one pass of the depth
//!   experiment at the size of the lesson's quantities (32 blocks of width 32, batch 32).

use criterion::{criterion_group, criterion_main, Criterion};
use dlf_engine::activation::Activation;
use dlf_engine::autograd::{AttentionMask, AttentionWeights, Graph, Kernel, Var};
use dlf_engine::lessons::backprop::datasets::{make_dataset, DatasetKind};
use dlf_engine::lessons::backprop::mlp::{Mlp, MlpConfig};
use dlf_engine::lessons::backprop::{autograd_tape, forward_backward, Loss, TwoLayerProblem};
use dlf_engine::lessons::norm::depth::{depth_profile, DepthConfig, Placement};
use dlf_engine::lessons::norm::{self, NormKind, RmsEps};
use dlf_engine::lessons::optim::{Config, Kind, Optimizer};
use dlf_engine::rng::Rng;
use dlf_engine::tensor::Tensor;
use std::hint::black_box;

fn mlp_steps(c: &mut Criterion) {
    let d = make_dataset(DatasetKind::Moons, 200, 0.1, 1);
    let x = d.x_tensor();
    let cases = [
        ("default_1x16_relu", vec![16], Activation::Relu),
        ("worst_3x32_relu", vec![32, 32, 32], Activation::Relu),
        ("worst_3x32_tanh", vec![32, 32, 32], Activation::Tanh),
        ("worst_3x32_gelu", vec![32, 32, 32], Activation::Gelu),
    ];
    let mut group = c.benchmark_group("mlp_train_step");
    for (name, hidden, activation) in cases {
        let cfg = MlpConfig {
            input: 2,
            hidden,
            output: 2,
            activation,
            seed: 1,
        };
        let mut m = Mlp::new(&cfg);
        group.bench_function(name, |b| {
            b.iter(|| black_box(m.train(&x, &d.y, 0.1, 1).unwrap()))
        });
    }
    group.finish();
}

fn two_layer(c: &mut Criterion) {
    let p = TwoLayerProblem::random(
        64,
        784,
        256,
        10,
        Activation::Relu,
        Loss::SoftmaxCrossEntropy,
        1,
    );
    let mut group = c.benchmark_group("two_layer_64x784x256x10");
    group.bench_function("forward_backward", |b| {
        b.iter(|| black_box(forward_backward(&p).unwrap()))
    });
    group.bench_function("autograd", |b| {
        b.iter(|| black_box(autograd_tape(&p, true).unwrap()))
    });
    group.finish();
}

/// Causal multi-head self-attention on the tape, `L = mean(out²)`, backward to `X` and all projections.
fn attention_step(inputs: &[Tensor], heads: usize, kernel: Kernel) -> Graph {
    let mut g = Graph::with_kernel(kernel);
    let v: Vec<Var> = inputs.iter().map(|t| g.param(t.clone())).collect();
    let w = AttentionWeights::from([v[1], v[2], v[3], v[4]]);
    let out = g
        .self_attention(v[0], &w, heads, &AttentionMask::causal())
        .unwrap();
    let sq = g.square(out);
    let loss = g.mean(sq);
    g.backward(loss).unwrap();
    g
}

fn attention(c: &mut Criterion) {
    let mut rng = Rng::new(7);
    let mut inputs = vec![Tensor::randn(&[2, 32, 64], 1.0, &mut rng)];
    for _ in 0..4 {
        inputs.push(Tensor::randn(&[64, 64], 0.125, &mut rng));
    }
    let mut group = c.benchmark_group("attention_b2_t32_d64_h4");
    for (name, kernel) in [("exact", Kernel::Exact), ("fast", Kernel::Fast)] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(attention_step(&inputs, 4, kernel)))
        });
    }
    group.finish();
}

fn optimizer_steps(c: &mut Criterion) {
    const N: usize = 1 << 20;
    let grads: Vec<f64> = (0..N).map(|i| ((i % 97) as f64 - 48.0) * 1e-3).collect();
    let mut group = c.benchmark_group("optimizer_step_1M");
    for kind in Kind::ALL {
        let mut config = Config::new(kind, 1e-3);
        config.momentum = 0.9;
        config.weight_decay = 0.01;
        let groups = if kind == Kind::Lamb {
            vec![N / 16; 16]
        } else {
            vec![N]
        };
        let mut opt = Optimizer::new(config, &groups).expect("valid config");
        let mut params = vec![0.01; N];
        group.bench_function(kind.name(), |b| {
            b.iter(|| black_box(opt.step(&mut params, &grads, 1e-3).expect("finite")))
        });
    }
    group.finish();
}

fn norm_layers(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let x = Tensor::randn(&[256, 1024], 1.0, &mut rng);
    let dy = Tensor::randn(&[256, 1024], 1.0, &mut rng);
    let (gamma, beta) = (vec![1.0; 1024], vec![0.0; 1024]);
    let mut group = c.benchmark_group("norm");
    group.bench_function("batchnorm_fwd_bwd_256x1024", |b| {
        b.iter(|| {
            let f = norm::batch_norm_train(black_box(&x), &gamma, &beta, 1e-5).expect("shapes fit");
            black_box(norm::backward(&f, &gamma, &dy, false).expect("shapes fit"))
        })
    });
    group.bench_function("layernorm_fwd_bwd_256x1024", |b| {
        b.iter(|| {
            let f = norm::layer_norm(black_box(&x), &gamma, &beta, 1e-5).expect("shapes fit");
            black_box(norm::backward(&f, &gamma, &dy, false).expect("shapes fit"))
        })
    });
    group.bench_function("rmsnorm_fwd_bwd_256x1024", |b| {
        b.iter(|| {
            let f =
                norm::rms_norm(black_box(&x), &gamma, 1e-6, RmsEps::Inside).expect("shapes fit");
            black_box(norm::backward(&f, &gamma, &dy, false).expect("shapes fit"))
        })
    });
    group.bench_function("depth_profile_32x32", |b| {
        b.iter(|| {
            black_box(depth_profile(&DepthConfig {
                depth: 32,
                width: 32,
                batch: 32,
                norm: Some(NormKind::Layer),
                placement: Placement::Pre,
                gain: 1.0,
                seed: 1,
            }))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    mlp_steps,
    two_layer,
    attention,
    optimizer_steps,
    norm_layers
);
criterion_main!(benches);

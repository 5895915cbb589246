//! The Rust side of `bench/jax_compare`: times each case and prints one JSON object `{case: µs}`.
//!
//! Each case is timed as JAX's side is: a warm-up, then 11 repeats of a loop long enough to take about
//! 20 ms, and the fastest repeat's per-call time (the machine is shared: the minimum is the measurement
//! least disturbed by other processes). The shapes and step definitions are documented
//! in `bench/jax_compare/README.md`; `compare.py` runs the same computations in JAX.
//!
//! Run with `cargo run --release -p dlf-engine --example jax_compare [FILTER]`; with a filter, only the
//! cases whose name contains it are timed (for profiling one case).

use dlf_engine::activation::Activation;
use dlf_engine::autograd::{AttentionMask, AttentionWeights, Graph, Kernel, Var};
use dlf_engine::error::ShapeError;
use dlf_engine::lessons::backprop::datasets::{make_dataset, DatasetKind};
use dlf_engine::lessons::backprop::mlp::{Mlp, MlpConfig};
use dlf_engine::lessons::backprop::{forward_backward, Loss, TwoLayerProblem};
use dlf_engine::rng::Rng;
use dlf_engine::tensor::Tensor;
use std::hint::black_box;
use std::time::Instant;

/// The fastest per-call time in microseconds of `f` over 11 repeats (see the module documentation).
///
/// With `DLF_BENCH_CALLS=N` in the environment it only calls `f` N times and returns 0, so that a profiler
/// (`perf stat -e cycles:u`) can count the work of a fixed number of calls on a busy machine.
fn time_us(mut f: impl FnMut()) -> f64 {
    if let Some(calls) = std::env::var("DLF_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        (0..calls).for_each(|_| f());
        return 0.0;
    }
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed().as_secs_f64() < 0.05 || calls < 3 {
        f();
        calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / f64::from(calls);
    let iters = ((0.02 / per_call).ceil() as u32).max(1);
    let samples: Vec<f64> = (0..11)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() / f64::from(iters) * 1e6
        })
        .collect();
    samples.into_iter().fold(f64::INFINITY, f64::min)
}

/// One step of the trainer's MLP (2 → hidden → 2, softmax cross-entropy, plain SGD) on `batch` moons.
fn mlp_case(hidden: &[usize], activation: Activation, batch: usize) -> f64 {
    let d = make_dataset(DatasetKind::Moons, batch, 0.1, 1);
    let x = d.x_tensor();
    let mut m = Mlp::new(&MlpConfig {
        input: 2,
        hidden: hidden.to_vec(),
        output: 2,
        activation,
        seed: 1,
    });
    time_us(|| {
        black_box(m.train(&x, &d.y, 0.1, 1).expect("shapes fit"));
    })
}

/// Lesson 01's two-layer problem on the tape with the given kernel: forward, loss, backward (with `dX`).
fn two_layer_tape(p: &TwoLayerProblem, kernel: Kernel) -> Result<f64, ShapeError> {
    let mut g = Graph::with_kernel(kernel);
    let x = g.param(p.x.clone());
    let w1 = g.param(p.w1.clone());
    let b1 = g.param(Tensor::row(&p.b1));
    let w2 = g.param(p.w2.clone());
    let b2 = g.param(Tensor::row(&p.b2));
    let z1 = g.matmul(x, w1)?;
    let z1 = g.add(z1, b1)?;
    let h1 = g.relu(z1);
    let z2 = g.matmul(h1, w2)?;
    let z2 = g.add(z2, b2)?;
    let y: Vec<usize> = (0..p.x.rows()).map(|i| i % p.w2.cols()).collect();
    let loss = g.cross_entropy(z2, &y)?;
    g.backward(loss)?;
    Ok(g.value(loss).data()[0])
}

/// Causal multi-head self-attention forward and backward: `L = mean(out²)` with `out` the attention
/// output `merge(softmax(Q Kᵀ/√d_h + mask) V) W_o`, gradients for `X` and all four projections.
fn attention(inputs: &[Tensor], heads: usize, kernel: Kernel) -> Result<f64, ShapeError> {
    let mut g = Graph::with_kernel(kernel);
    let v: Vec<Var> = inputs.iter().map(|t| g.param(t.clone())).collect();
    let w = AttentionWeights::from([v[1], v[2], v[3], v[4]]);
    let out = g.self_attention(v[0], &w, heads, &AttentionMask::causal())?;
    let sq = g.square(out);
    let loss = g.mean(sq);
    g.backward(loss)?;
    Ok(g.value(loss).data()[0])
}

fn main() -> Result<(), ShapeError> {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let wanted = |case: &str| case.contains(filter.as_str());
    let mut results: Vec<(String, f64)> = Vec::new();
    for batch in [200, 8] {
        let cases: [(&str, &[usize], Activation); 4] = [
            ("1x16_relu", &[16], Activation::Relu),
            ("3x32_relu", &[32, 32, 32], Activation::Relu),
            ("3x32_tanh", &[32, 32, 32], Activation::Tanh),
            ("3x32_gelu", &[32, 32, 32], Activation::Gelu),
        ];
        for (name, hidden, activation) in cases {
            let case = format!("mlp_step_b{batch}_{name}");
            if wanted(&case) {
                results.push((case, mlp_case(hidden, activation, batch)));
            }
        }
    }

    let p = TwoLayerProblem::random(
        64,
        784,
        256,
        10,
        Activation::Relu,
        Loss::SoftmaxCrossEntropy,
        1,
    );
    if wanted("mlp784_fwd_bwd_closed_form_exact") {
        let us = time_us(|| {
            black_box(forward_backward(&p).expect("valid problem"));
        });
        results.push(("mlp784_fwd_bwd_closed_form_exact".into(), us));
    }
    for (name, kernel) in [("exact", Kernel::Exact), ("fast", Kernel::Fast)] {
        let case = format!("mlp784_fwd_bwd_tape_{name}");
        if wanted(&case) {
            let us = time_us(|| {
                black_box(two_layer_tape(&p, kernel).expect("valid problem"));
            });
            results.push((case, us));
        }
    }

    let (b, t, d, heads) = (2, 32, 64, 4);
    let mut rng = Rng::new(7);
    let mut inputs = vec![Tensor::randn(&[b, t, d], 1.0, &mut rng)];
    for _ in 0..4 {
        inputs.push(Tensor::randn(&[d, d], 1.0 / (d as f64).sqrt(), &mut rng));
    }
    for (name, kernel) in [("exact", Kernel::Exact), ("fast", Kernel::Fast)] {
        let case = format!("attention_b2_t32_d64_h4_tape_{name}");
        if wanted(&case) {
            let us = time_us(|| {
                black_box(attention(&inputs, heads, kernel).expect("valid shapes"));
            });
            results.push((case, us));
        }
    }

    let body: Vec<String> = results
        .iter()
        .map(|(k, v)| format!("  \"{k}\": {v:.3}"))
        .collect();
    println!("{{\n{}\n}}", body.join(",\n"));
    Ok(())
}

//! Render time of every widget at its default and at its most expensive parameters.
//!
//! The budget is one animation frame (16 ms) in the browser, where the WebAssembly build runs 1.5–2×
//! slower than native code, so each case should stay below about 8 ms here. The same cases in
//! WebAssembly: `node crates/dlf-widgets/bench-wasm/bench.mjs path/to/dlf_widgets.wasm`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dlf_widgets::{parse_params, registry};

/// The most expensive parameters of each widget, by id, under a short name. The activation is varied
/// at the largest shapes because its cost differs widely: the exact GELU evaluates `erf` per unit.
fn worst_cases(id: &str) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let with = |base: &[(&'static str, &'static str)], activation: &'static str| {
        let mut v = base.to_vec();
        v.push(("activation", activation));
        v
    };
    match id {
        // Three hidden layers of 32 units trained for the full 500 steps on spirals.
        "mlp-trainer" => {
            let base = [
                ("dataset", "spirals"),
                ("width", "32"),
                ("depth", "3"),
                ("steps", "500"),
            ];
            vec![
                ("worst-gelu", with(&base, "gelu")),
                ("worst-sigmoid", with(&base, "sigmoid")),
                ("worst-tanh", with(&base, "tanh")),
                ("worst-relu", with(&base, "relu")),
            ]
        }
        // Every dimension at its maximum with the cross-entropy loss (softmax per row).
        "backprop-walk" => {
            let base = [
                ("batch", "8"),
                ("d_in", "6"),
                ("hidden", "8"),
                ("classes", "5"),
            ];
            vec![
                ("worst-gelu", with(&base, "gelu")),
                ("worst-tanh", with(&base, "tanh")),
            ]
        }
        // Ten classes in float64: the longest break-point scans (the shifted loss lasts until M = 745) and
        // the largest gradient table; at the largest margin every broken route is drawn.
        "softmax-stability" => vec![
            (
                "worst-f64",
                vec![
                    ("classes", "10"),
                    ("precision", "float64"),
                    ("log10_margin", "4"),
                ],
            ),
            (
                "worst-f32",
                vec![
                    ("classes", "10"),
                    ("precision", "float32"),
                    ("log10_margin", "4"),
                ],
            ),
        ],
        // Four 400-step trajectories on the surface with the costliest gradient, with noise and warm-up.
        "optimizer-race" => vec![(
            "worst-rosenbrock-400",
            vec![
                ("surface", "rosenbrock"),
                ("steps", "400"),
                ("noise", "2"),
                ("warmup", "100"),
            ],
        )],
        // Ten runs of 200 + 3000 Adam steps plus the 3000-step trace.
        "adam-noise" => vec![("worst-3000", vec![("steps", "3000")])],
        // Two runs of 5000 two-coordinate steps with noise.
        "adamw-vs-l2" => vec![("worst-5000", vec![("steps", "5000"), ("noise", "1")])],
        // Three forward-and-backward passes (chosen, other placement, no norm) at the largest depth and
        // batch; BatchNorm transposes its input, so it is the costliest norm.
        "norm-depth" => vec![
            (
                "worst-batchnorm-48",
                vec![("norm", "batchnorm"), ("depth", "48"), ("batch", "16")],
            ),
            (
                "worst-layernorm-48",
                vec![("norm", "layernorm"), ("depth", "48"), ("batch", "16")],
            ),
        ],
        // The longest warm-up: seven batch sizes of 300 + 100 batches each.
        "bn-batch-gap" => vec![("worst-warmup-300", vec![("warmup", "300")])],
        _ => Vec::new(),
    }
}

fn bench_widgets(c: &mut Criterion) {
    for w in registry() {
        let spec = w.spec();
        let defaults = parse_params(spec, &[]).expect("defaults are valid");
        c.bench_function(&format!("{}/default", spec.id), |b| {
            b.iter(|| black_box(w.render(black_box(&defaults))))
        });
        for (name, pairs) in worst_cases(spec.id) {
            let params = parse_params(spec, &pairs).expect("worst case is valid");
            c.bench_function(&format!("{}/{name}", spec.id), |b| {
                b.iter(|| black_box(w.render(black_box(&params))))
            });
        }
    }
}

criterion_group!(benches, bench_widgets);
criterion_main!(benches);

//! Render time of every widget at its default and at its most expensive parameters.
//!
//! The budget is one animation frame (16 ms) natively, with room to spare for the browser.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dlf_widgets::{parse_params, registry};

/// The most expensive parameters of each widget, by id.
fn worst_case(id: &str) -> &'static [(&'static str, &'static str)] {
    match id {
        // Three hidden layers of 32 units trained for the full 500 steps; GELU evaluates erf, the
        // costliest activation, and spirals is the data set with the most classes.
        "mlp-trainer" => &[
            ("dataset", "spirals"),
            ("width", "32"),
            ("depth", "3"),
            ("activation", "gelu"),
            ("steps", "500"),
        ],
        // Every dimension at its maximum, GELU, and the cross-entropy loss (softmax per row).
        "backprop-walk" => &[
            ("batch", "8"),
            ("d_in", "6"),
            ("hidden", "8"),
            ("classes", "5"),
            ("activation", "gelu"),
        ],
        _ => &[],
    }
}

fn bench_widgets(c: &mut Criterion) {
    for w in registry() {
        let spec = w.spec();
        let defaults = parse_params(spec, &[]).expect("defaults are valid");
        c.bench_function(&format!("{}/default", spec.id), |b| {
            b.iter(|| black_box(w.render(black_box(&defaults))))
        });
        let worst = parse_params(spec, worst_case(spec.id)).expect("worst case is valid");
        c.bench_function(&format!("{}/worst", spec.id), |b| {
            b.iter(|| black_box(w.render(black_box(&worst))))
        });
    }
}

criterion_group!(benches, bench_widgets);
criterion_main!(benches);

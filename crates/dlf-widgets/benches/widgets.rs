//! Render time of every widget at its default and at its most expensive parameters.
//!
//! The budget is one animation frame (16 ms) in the browser, where the WebAssembly build runs 1.5–2×
//! slower than native code, so each case should stay below about 8 ms here. The same cases in
//! WebAssembly: `node crates/dlf-widgets/bench-wasm/bench.mjs path/to/dlf_widgets.wasm`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dlf_widgets::{bench_cases, find, parse_params, query::parse_query};

/// Every widget at its defaults and at the costliest parameters its spec lists (`WidgetSpec::bench`).
fn bench_widgets(c: &mut Criterion) {
    for (name, query) in bench_cases() {
        let parsed = parse_query(&query).expect("a bench query parses");
        let widget = find(&parsed.widget).expect("a bench case names a registered widget");
        let params =
            parse_params(widget.spec(), &parsed.pair_refs()).expect("bench parameters are valid");
        c.bench_function(&name, |b| {
            b.iter(|| black_box(widget.render(black_box(&params))))
        });
    }
}

criterion_group!(benches, bench_widgets);
criterion_main!(benches);

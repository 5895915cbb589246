//! Interactive figures for the dlf course: each widget is a static parameter spec plus a pure,
//! deterministic `render(params) -> Figure`.
//!
//! The same code runs in three places: natively when the lessons are built (the default figure is in
//! the HTML), in the browser through WebAssembly on every input event, and on the server as a
//! fallback route. A render goes through these steps:
//!
//! 1. A query `widget=ID&name=value&...` (the widget's URL state) is split and percent-decoded
//!    ([`query::parse_query`]).
//! 2. The id is looked up in the [`registry()`] ([`find`]).
//! 3. The values are validated against the widget's [`WidgetSpec`] ([`parse_params`]); missing ones take
//!    their defaults, bad ones produce a [`ParamError`] naming the parameter.
//! 4. The widget runs the engine (`dlf-engine`) and draws what it computed with the plotting kit in
//!    [`svg`], producing a [`Figure`]: an SVG, the numbers it measured, and a text description. Raster
//!    panels embed small PNGs that [`png`] encodes.
//! 5. The figure is serialised to JSON ([`Figure::to_json`]) for the browser or the server.
//!
//! [`render_query`] does steps 1–4 in one call.
//!
//! ```
//! let figure = dlf_widgets::render_query("widget=backprop-walk&hidden=3").unwrap();
//! assert!(figure.svg.starts_with("<svg"));
//! assert!(!figure.description.is_empty());
//! ```
//!
//! On `wasm32` the module `wasm_abi` holds a pointer/length ABI (`dlf_alloc`, `dlf_free`, `dlf_render`,
//! `dlf_step`, `dlf_bench_cases`) and the macro `wasm_module!("topic")` that exports it over one lesson's widgets:
//! the server's build script links one such module per lesson, so a page loads only its own widgets' code. It is
//! the only place in the workspace with `unsafe`. `bench-wasm/bench.mjs` times that ABI under Node (see
//! `bench-wasm/README.md`).

pub mod figure;
mod lessons;
pub mod number_format;
pub mod png;
pub mod query;
pub mod registry;
pub mod spec;
pub mod svg;

#[cfg(target_arch = "wasm32")]
pub mod wasm_abi;

pub use figure::Figure;
pub use query::{render_query, start_query, Redraw, WidgetError};
pub use registry::{bench_cases, find, registry, topic_of, Session, Stepped, Widget};
pub use spec::{
    longest_text, parse_params, BenchCase, ParamError, ParamKind, ParamSpec, Params, Value,
    WidgetSpec,
};

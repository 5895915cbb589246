//! Lesson 11's widgets (initialization).

use crate::registry::Widget;

mod init_depth;
mod init_divergence;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[&init_depth::InitDepth, &init_divergence::InitDivergence];

/// The activations both widgets offer, as the engine's [`dlf_engine::lessons::init::Nonlin`] names them.
const ACTIVATIONS: &[(&str, &str)] = &[
    ("relu", "ReLU"),
    ("leaky_relu", "leaky ReLU (0.1)"),
    ("tanh", "tanh"),
    ("sigmoid", "sigmoid"),
    ("gelu", "GELU"),
    ("silu", "SiLU / Swish"),
    ("selu", "SELU"),
    ("linear", "none (linear)"),
];

/// The initialisations both widgets offer ([`dlf_engine::lessons::init::Preset`]).
const INITS: &[(&str, &str)] = &[
    ("small", "N(0, 0.01²)"),
    ("torch_default", "PyTorch default U(±1/√n)"),
    ("lecun", "LeCun / Xavier (1/n)"),
    ("he", "He (2/n)"),
    ("matched", "gain-matched 1/(n E[φ²])"),
];

/// The leaky ReLU's negative slope in both widgets.
const LEAKY_SLOPE: f64 = 0.1;

fn nonlin(p: &crate::spec::Params) -> dlf_engine::lessons::init::Nonlin {
    dlf_engine::lessons::init::Nonlin::parse(p.str("activation"), LEAKY_SLOPE)
        .unwrap_or(dlf_engine::lessons::init::Nonlin::Relu)
}

fn preset(p: &crate::spec::Params) -> dlf_engine::lessons::init::Preset {
    dlf_engine::lessons::init::Preset::parse(p.str("init"))
        .unwrap_or(dlf_engine::lessons::init::Preset::He)
}

fn label(options: &[(&str, &'static str)], value: &str) -> &'static str {
    options
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("?", |(_, l)| *l)
}

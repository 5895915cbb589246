//! The list of every widget, looked up by id.

use crate::figure::Figure;
use crate::spec::{Params, WidgetSpec};
use crate::widgets::{
    adam_noise::AdamNoise, adamw_vs_l2::AdamwVsL2, backprop_walk::BackpropWalk,
    bn_batch_gap::BnBatchGap, mlp_trainer::MlpTrainer, norm_depth::NormDepth,
    optimizer_race::OptimizerRace, softmax_stability::SoftmaxStability,
};

/// A widget: a static parameter spec and a pure, deterministic render function.
///
/// `render` receives parameters that [`crate::parse_params`] has already validated against `spec()`,
/// so it may read them without further checks. It must not panic for any valid parameters and must
/// return the same figure for the same parameters on every platform.
pub trait Widget: Sync {
    /// The widget's id, title, summary and parameters.
    fn spec(&self) -> &'static WidgetSpec;
    /// The figure for one set of validated parameters.
    fn render(&self, p: &Params) -> Figure;
}

static REGISTRY: [&dyn Widget; 8] = [
    &MlpTrainer,
    &BackpropWalk,
    &SoftmaxStability,
    &OptimizerRace,
    &AdamNoise,
    &AdamwVsL2,
    &NormDepth,
    &BnBatchGap,
];

/// Every widget, in the order the lessons introduce them.
pub fn registry() -> &'static [&'static dyn Widget] {
    &REGISTRY
}

/// The widget with this id.
pub fn find(id: &str) -> Option<&'static dyn Widget> {
    registry().iter().copied().find(|w| w.spec().id == id)
}

//! Lesson 01's widgets (backpropagation).

use crate::registry::Widget;

mod backprop_walk;
mod mlp_trainer;
mod softmax_stability;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[
    &mlp_trainer::MlpTrainer,
    &backprop_walk::BackpropWalk,
    &softmax_stability::SoftmaxStability,
];

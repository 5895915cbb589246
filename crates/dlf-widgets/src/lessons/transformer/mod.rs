//! Lesson 06's widgets (the transformer block).

use crate::registry::Widget;

mod transformer_ablation;
mod transformer_budget;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[
    &transformer_budget::TransformerBudget,
    &transformer_ablation::TransformerAblation,
];

//! Lesson 08's widgets (scaling laws).

use crate::registry::Widget;

mod iso_flop;
mod training_cost;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[&iso_flop::IsoFlop, &training_cost::TrainingCost];

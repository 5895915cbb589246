//! Lesson 09's widgets (calibration).

use crate::registry::Widget;

mod ece_estimator;
mod reliability_diagram;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[
    &reliability_diagram::ReliabilityDiagram,
    &ece_estimator::EceEstimator,
];

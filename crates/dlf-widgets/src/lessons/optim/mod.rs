//! Lesson 02's widgets (optimizers).

use crate::registry::Widget;

mod adam_noise;
mod adamw_vs_l2;
mod optimizer_race;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[
    &optimizer_race::OptimizerRace,
    &adam_noise::AdamNoise,
    &adamw_vs_l2::AdamwVsL2,
];

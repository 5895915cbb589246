//! Lesson 10's widgets (A/B testing).

use crate::registry::Widget;

mod ab_cuped;
mod ab_peeking;
mod ab_power;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] =
    &[&ab_power::AbPower, &ab_peeking::AbPeeking, &ab_cuped::AbCuped];

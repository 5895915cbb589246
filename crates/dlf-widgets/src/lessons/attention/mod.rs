//! Lesson 04's widgets (attention).

use crate::registry::Widget;

mod attention_map;
mod attention_scale;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[
    &attention_map::AttentionMapWidget,
    &attention_scale::AttentionScale,
];

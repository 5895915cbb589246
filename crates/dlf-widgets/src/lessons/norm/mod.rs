//! Lesson 03's widgets (normalization).

use crate::registry::Widget;

mod bn_batch_gap;
mod norm_depth;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[&norm_depth::NormDepth, &bn_batch_gap::BnBatchGap];

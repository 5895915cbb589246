//! Lesson 12's widgets (mixture of experts).

use crate::registry::Widget;

mod moe_params;
mod moe_router;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[&moe_params::MoeParams, &moe_router::MoeRouter];

//! Lesson 05's widgets (positional encodings).

use crate::registry::Widget;

mod alibi_beyond;
mod rope_offset;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[&rope_offset::RopeOffset, &alibi_beyond::AlibiBeyond];

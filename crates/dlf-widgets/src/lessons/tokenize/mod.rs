//! Lesson 07's widgets (tokenization).

use crate::registry::Widget;

mod bpe_steps;
mod tokenizer_compare;

/// The lesson's widgets, in the order it introduces them.
pub(crate) const WIDGETS: &[&dyn Widget] = &[&bpe_steps::BpeSteps, &tokenizer_compare::TokenizerCompare];

//! Quantities of the lesson on tokenization (names start with `tokenize.`).

use crate::quantities::QuantitySpec;

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[];

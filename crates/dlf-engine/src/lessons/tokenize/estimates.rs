//! Estimation problems of the lesson on tokenization (ids start with `tokenize.`).

use crate::estimate::GeneratorSpec;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[];

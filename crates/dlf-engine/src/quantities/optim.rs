//! Quantities of the lesson on optim (names start with `optim.`).

use super::{Args, QuantitySpec};
use crate::error::QuantityError;

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[];

/// Computes one quantity of this lesson.
pub(crate) fn evaluate(name: &str, _a: &Args) -> Result<f64, QuantityError> {
    Err(QuantityError::UnknownQuantity {
        name: name.to_string(),
    })
}

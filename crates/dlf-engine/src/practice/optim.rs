//! Estimation problems of the lesson on optim (ids start with `optim.`).

use super::{GeneratorSpec, Problem};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[];

/// Generates one problem of generator `id`, or `None` if `id` is not one of [`SPECS`].
pub(crate) fn generate(id: &str, _rng: &mut Rng) -> Option<Problem> {
    let _ = id;
    None
}

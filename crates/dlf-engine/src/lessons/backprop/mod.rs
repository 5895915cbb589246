//! Lesson 01 (backpropagation): the two-layer network with every intermediate tensor and its closed-form
//! gradients ([`trace`]), the fast explicit MLP ([`mlp`]) the trainer widget runs with mini-batches
//! ([`minibatch`]) on the 2-D sets of [`datasets`], softmax cross-entropy in floating point ([`softmax_stability`]), and the lesson's quantities
//! and estimation problems.

pub mod datasets;
mod estimates;
pub mod minibatch;
pub mod mlp;
mod quantities;
pub mod softmax_stability;
pub mod trace;

pub use trace::*;

/// Lesson 01's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "backprop",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

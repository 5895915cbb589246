//! The transformer block (lesson 06): counting a decoder-only model (parameters by component, FLOPs per
//! token under Kaplan's, the matmul and Chinchilla's conventions, training and activation memory) in
//! [`count`], and a tiny decoder trained on a copy task with every part of the block switchable in [`tiny`].

pub mod count;
mod estimates;
mod quantities;
pub mod tiny;

/// Lesson 06's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "transformer",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

#[cfg(test)]
mod tests;

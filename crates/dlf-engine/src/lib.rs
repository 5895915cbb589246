//! dlf-engine
pub mod activation;
pub mod autograd;
pub mod backprop;
pub mod datasets;
pub mod error;
pub mod mlp;
pub mod quantities;
pub mod rng;
pub mod tensor;

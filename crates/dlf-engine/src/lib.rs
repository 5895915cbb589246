//! dlf-engine
pub mod activation;
pub mod autograd;
pub mod error;
pub mod rng;
pub mod tensor;

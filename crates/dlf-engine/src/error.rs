//! Error types of the engine.
//!
//! The engine has no dependencies, so the `Display` and `std::error::Error` implementations are written by
//! hand rather than derived with `thiserror`; every variant carries what a caller needs to fix the problem
//! (the operation, the shapes, the quantity and argument names).

use std::fmt;

/// A tensor shape did not fit the operation it was given to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    /// `Tensor::new` got a data vector whose length is not the product of the shape.
    DataLength {
        /// The requested shape.
        shape: Vec<usize>,
        /// The number of elements the shape needs.
        expected: usize,
        /// The number of elements supplied.
        got: usize,
    },
    /// Two operands of a binary operation have incompatible shapes.
    Mismatch {
        /// The operation, e.g. `"matmul"`.
        op: &'static str,
        /// Shape of the left operand.
        left: Vec<usize>,
        /// Shape of the right operand.
        right: Vec<usize>,
    },
    /// An operand has the wrong rank or size for the operation (e.g. a non-scalar loss, a bias of the wrong
    /// length, a class index out of range).
    Invalid {
        /// The operation or object being checked.
        op: &'static str,
        /// What was wrong, in words.
        message: String,
    },
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::DataLength {
                shape,
                expected,
                got,
            } => write!(
                f,
                "shape {shape:?} needs {expected} elements but {got} were given"
            ),
            ShapeError::Mismatch { op, left, right } => {
                write!(f, "{op}: incompatible shapes {left:?} and {right:?}")
            }
            ShapeError::Invalid { op, message } => write!(f, "{op}: {message}"),
        }
    }
}

impl std::error::Error for ShapeError {}

/// A named quantity could not be evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantityError {
    /// No quantity of this name is in the catalogue.
    UnknownQuantity {
        /// The name asked for.
        name: String,
    },
    /// The quantity exists but takes no argument of this name.
    UnknownArgument {
        /// The quantity's name.
        quantity: String,
        /// The argument given.
        argument: String,
        /// The arguments the quantity does accept, comma-separated.
        known: String,
    },
    /// The argument's value could not be parsed or is out of its allowed range.
    InvalidValue {
        /// The quantity's name.
        quantity: String,
        /// The argument's name.
        argument: String,
        /// The value given.
        value: String,
        /// What was expected instead, in words.
        expected: String,
    },
    /// The arguments were valid one by one but the experiment could not run (e.g. inconsistent shapes).
    Failed {
        /// The quantity's name.
        quantity: String,
        /// Why it failed.
        message: String,
    },
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantityError::UnknownQuantity { name } => write!(f, "unknown quantity `{name}`"),
            QuantityError::UnknownArgument {
                quantity,
                argument,
                known,
            } => write!(
                f,
                "quantity `{quantity}` has no argument `{argument}` (it takes: {known})"
            ),
            QuantityError::InvalidValue {
                quantity,
                argument,
                value,
                expected,
            } => write!(
                f,
                "quantity `{quantity}`: argument `{argument}` = `{value}` is invalid; expected {expected}"
            ),
            QuantityError::Failed { quantity, message } => {
                write!(f, "quantity `{quantity}` failed: {message}")
            }
        }
    }
}

impl std::error::Error for QuantityError {}

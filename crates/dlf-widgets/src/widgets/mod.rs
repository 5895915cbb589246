//! One module per widget. Each defines a unit struct implementing [`crate::Widget`] and its static
//! [`crate::WidgetSpec`].

pub mod backprop_walk;
pub mod mlp_trainer;
pub mod softmax_stability;

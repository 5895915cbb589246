//! One module per widget. Each defines a unit struct implementing [`crate::Widget`] and its static
//! [`crate::WidgetSpec`].

pub mod adam_noise;
pub mod adamw_vs_l2;
pub mod backprop_walk;
pub mod bn_batch_gap;
pub mod mlp_trainer;
pub mod norm_depth;
pub mod optimizer_race;
pub mod softmax_stability;

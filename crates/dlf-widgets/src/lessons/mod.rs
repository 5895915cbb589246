//! One folder per lesson, named by the lesson's topic (the same name as the engine's `lessons/<topic>/` and
//! the lesson's `topic` in its front matter). Each widget is a module of its lesson's folder defining a unit
//! struct that implements [`crate::Widget`] and its static [`crate::WidgetSpec`]; the folder's `mod.rs` lists
//! them in `WIDGETS`, and [`lessons!`] below lists the folders in course order, one line per lesson.
//!
//! Widget modules are private: a widget written but left out of its lesson's `WIDGETS` is dead code, which
//! this module denies, so forgetting to register one fails the build.
#![deny(dead_code)]

use crate::registry::Widget;

/// Declares the lesson modules and the list of their widgets, one line per lesson in course order.
macro_rules! lessons {
    ($($topic:ident,)*) => {
        $(mod $topic;)*

        /// `(topic, widgets)` of every lesson, in course order.
        pub(crate) const LESSONS: &[(&str, &[&dyn Widget])] = &[$((stringify!($topic), $topic::WIDGETS)),*];
    };
}

lessons! {
    backprop,
    optim,
    norm,
    attention,
    posenc,
    transformer,
    tokenize,
    scaling,
    calibration,
    ab,
    init,
    moe,
}

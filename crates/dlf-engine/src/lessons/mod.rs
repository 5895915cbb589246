//! One folder per lesson, named by the lesson's topic (the `topic` in its front matter): its model code, its
//! experiments, the quantities it quotes and checks (`quantities.rs`), the estimation problems it offers
//! (`estimates.rs`) and its tests. Each folder's `mod.rs` exports one value, [`Lesson`], and [`lessons!`]
//! below lists them in course order — adding a lesson adds one line there.
//!
//! A quantity's name and a generator's id start with the topic and a dot (`optim.gd_rate`); a test checks it.

use crate::estimate::GeneratorSpec;
use crate::quantities::QuantitySpec;

/// What a lesson contributes to the engine's shared tables.
#[derive(Debug, Clone, Copy)]
pub struct Lesson {
    /// The topic: the folder's name, the prefix of the lesson's quantities and generators, and the `topic` the
    /// lesson declares in its front matter.
    pub topic: &'static str,
    /// The quantities the lesson quotes (`{{num}}`) and checks (`:::claim`).
    pub quantities: &'static [QuantitySpec],
    /// The estimation-problem generators the lesson offers (`:::estimate`).
    pub estimates: &'static [GeneratorSpec],
}

/// Declares the lesson modules and the lists built from them, one line per lesson in course order.
macro_rules! lessons {
    ($($topic:ident,)*) => {
        $(pub mod $topic;)*

        /// Every lesson with engine code, in course order.
        pub const ALL: &[Lesson] = &[$($topic::LESSON),*];

        /// The lessons' quantity tables, in course order (joined by [`crate::quantities::catalogue`]).
        pub(crate) const QUANTITIES: &[&[QuantitySpec]] = &[$($topic::LESSON.quantities),*];

        /// The lessons' generator tables, in course order (joined by [`crate::estimate::generators`]).
        pub(crate) const ESTIMATES: &[&[GeneratorSpec]] = &[$($topic::LESSON.estimates),*];
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

/// The lesson whose topic is `topic`.
pub fn find(topic: &str) -> Option<&'static Lesson> {
    ALL.iter().find(|l| l.topic == topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_starts_with_its_lessons_topic_and_topics_are_unique() {
        for (i, lesson) in ALL.iter().enumerate() {
            assert!(
                !ALL[..i].iter().any(|l| l.topic == lesson.topic),
                "topic `{}` is declared twice",
                lesson.topic
            );
            let prefix = format!("{}.", lesson.topic);
            for q in lesson.quantities {
                assert!(
                    q.name.starts_with(&prefix),
                    "quantity `{}` is not `{prefix}…`",
                    q.name
                );
            }
            for g in lesson.estimates {
                assert!(
                    g.id.starts_with(&prefix),
                    "generator `{}` is not `{prefix}…`",
                    g.id
                );
            }
        }
    }
}

//! Lesson 07 — tokenization: pre-tokenisation, byte-pair encoding (Sennrich et al. 2016; byte-level as in
//! Radford et al. 2019), WordPiece (Schuster & Nakajima 2012; Wu et al. 2016) and the Unigram language model
//! (Kudo 2018) — trainers, encoders, the Unigram segmentation lattice with Viterbi and forward–backward.

pub mod bpe;
pub mod corpus;
mod estimates;
pub mod pretokenize;
mod quantities;
pub mod unigram;
pub mod wordpiece;

use crate::lessons::Lesson;

/// The lesson's contribution to the engine's tables.
pub const LESSON: Lesson = Lesson {
    topic: "tokenize",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

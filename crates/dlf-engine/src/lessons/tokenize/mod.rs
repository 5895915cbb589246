//! Lesson 07 — tokenization: how text becomes the integer sequences a language model reads.
//!
//! - [`pretokenize`]: cutting text into words before a subword model sees it (BERT's, whitespace, GPT-2's regex,
//!   SentencePiece's '▁' metaspace).
//! - [`bpe`]: byte-pair encoding (Sennrich, Haddow & Birch 2016; byte-level as in Radford et al. 2019). Training
//!   repeatedly merges the most frequent adjacent pair, weighted by word counts, with three tie-breaking
//!   conventions (Hugging Face's smaller ids, first seen, lexicographic); the incremental trainer keeps pair counts
//!   and a lazy max-heap, so a merge costs O(w_m ℓ_m log P) for the w_m words containing the pair instead of a
//!   full recount O(W n̄). Encoding applies the merges by rank (GPT-2's rule).
//! - [`wordpiece`]: WordPiece (Schuster & Nakajima 2012; Wu et al. 2016). Training by the likelihood score
//!   count(ab)/(count(a)·count(b)) — the per-occurrence gain in unigram log-likelihood, k[log(kN/(c_a c_b)) − 1] for
//!   k merged occurrences — or by frequency (what Hugging Face's `WordPieceTrainer` does); encoding greedy longest
//!   match first with `##` continuation pieces, a whole word becoming `[UNK]` when any position matches nothing.
//! - [`unigram`]: the Unigram language model (Kudo 2018): P(x) = Π p(x_i) over a segmentation; the lattice of all
//!   segmentations, Viterbi δ_j = max_i [δ_i + log p(X_{i:j})], forward–backward marginals
//!   exp(α_i + log p + β_j − log Z), EM with pruning, and sampling ∝ P(x)^α (subword regularisation).
//! - [`corpus`]: the small built-in corpora the widgets train on and the claims quote.
//! - [`experiments`]: what the lesson's claims measure on them (compression, fertility, trainer work, lattice
//!   checks against brute force, digit segmentation, unused tokens, non-canonical spellings, RL loss weights).

pub mod bpe;
pub mod corpus;
mod estimates;
pub mod experiments;
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

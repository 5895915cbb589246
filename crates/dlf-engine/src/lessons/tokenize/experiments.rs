//! The experiments lesson 07's claims and inline numbers measure: the hand-worked BPE example on Sennrich et
//! al.'s toy words, compression and fertility of byte-level BPE across languages, the work of the naive and the
//! incremental BPE trainers, WordPiece's likelihood score against frequency, the Unigram lattice (segmentation
//! counts, Viterbi, forward–backward against brute force, sampling), digit segmentation, tokens BPE makes and
//! never uses, non-canonical tokenizations, and the RL weighting examples.
//!
//! Every tokenizer here is the engine's own ([`super::bpe`], [`super::wordpiece`], [`super::unigram`]) trained
//! on the built-in corpora of [`super::corpus`] or on the parallel paragraph below; nothing is hard-coded.

use std::collections::{BTreeSet, HashSet};

use super::bpe::{self, Alphabet, Bpe, BpeConfig, MergeStep, TieBreak, TrainWork};
use super::corpus;
use super::pretokenize::{count_words, pre_tokenize, PreTokenizer};
use super::unigram::{self, Lattice, Unigram, UnigramConfig, UnigramRound};
use super::wordpiece::{self, PairScore, WordPiece, WordPieceConfig, WordPieceStep};
use crate::rng::Rng;

/// The first paragraph of [`corpus::ENGLISH`], translated for this course into German, Russian and Japanese:
/// a small parallel text on which the cost of the same content in four scripts is compared (Petrov et al. 2023
/// use the FLORES-200 parallel sentences the same way).
pub const PARALLEL: [(&str, &str); 3] = [
    (
        "german",
        "Die Bäckerin wacht vor den Vögeln auf. Das Backen beginnt um vier, wenn die Straße noch dunkel ist und \
         die Öfen das einzig Warme in der Stadt sind. Sie mischt das Mehl, das Wasser, das Salz und den \
         Sauerteig, und sie lässt den Teig ruhen, während sie die Bestellungen prüft. Die neueste Bestellung ist \
         die größte: Eine Hochzeit möchte dreihundert Brötchen, gebacken und geliefert bis Mittag.",
    ),
    (
        "russian",
        "Пекарь просыпается раньше птиц. Выпечка начинается в четыре, когда улица ещё тёмная, а печи — \
         единственное тёплое место в городе. Она смешивает муку, воду, соль и закваску и оставляет тесто \
         отдыхать, пока проверяет заказы. Самый новый заказ — самый большой: свадьбе нужны триста булочек, \
         испечённых и доставленных к полудню.",
    ),
    (
        "japanese",
        "パン職人は鳥よりも早く目を覚ます。パンを焼き始めるのは四時で、通りはまだ暗く、町で暖かいのはオーブンだけだ。\
         彼女は小麦粉と水と塩と発酵種を混ぜ、注文を確かめる間、生地を寝かせておく。一番新しい注文が一番大きい。\
         結婚式のために、ロールパン三百個を昼までに焼いて届けてほしいという。",
    ),
];

/// The languages of the parallel paragraph, English first.
pub const LANGUAGES: [&str; 4] = ["english", "german", "russian", "japanese"];

/// The parallel paragraph in `lang` (English: the first paragraph of [`corpus::ENGLISH`]).
pub fn parallel(lang: &str) -> Option<&'static str> {
    if lang == "english" {
        let text = corpus::ENGLISH;
        return Some(text.split("\n\n").next().unwrap_or(text).trim());
    }
    PARALLEL.iter().find(|(l, _)| *l == lang).map(|(_, t)| *t)
}

/// The text of a built-in corpus by id.
pub fn corpus_text(id: &str) -> Option<&'static str> {
    corpus::find(id).map(|c| c.text)
}

/// UTF-8 bytes per Unicode character of a text.
pub fn bytes_per_char(text: &str) -> f64 {
    text.len() as f64 / text.chars().count() as f64
}

/// The fraction of `text`'s non-space characters that never occur in `reference`: what a character-level
/// vocabulary trained on `reference` would have to map to an unknown token.
pub fn oov_char_rate(text: &str, reference: &str) -> f64 {
    let known: HashSet<char> = reference.chars().collect();
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let unknown = chars.iter().filter(|c| !known.contains(c)).count();
    unknown as f64 / chars.len() as f64
}

// ---------------------------------------------------------------------------------------------------------
// BPE on the toy words and on the corpora
// ---------------------------------------------------------------------------------------------------------

/// The toy words of Sennrich et al. (2016) with their counts, from [`corpus::SENNRICH`].
pub fn toy_words() -> Vec<(String, u64)> {
    count_words([corpus::SENNRICH], PreTokenizer::Whitespace)
}

/// The size of the toy corpus's character alphabet (`d e i l n o r s t w`).
pub fn toy_alphabet() -> usize {
    let chars: BTreeSet<char> = corpus::SENNRICH.chars().filter(|c| !c.is_whitespace()).collect();
    chars.len()
}

/// Character-level BPE on the toy words with `merges` merges under a tie-breaking rule, no end-of-word marker.
pub fn toy_bpe(merges: usize, tie: TieBreak) -> (Bpe, Vec<MergeStep>) {
    let cfg = BpeConfig {
        vocab_size: toy_alphabet() + merges,
        alphabet: Alphabet::Chars,
        tie_break: tie,
        ..BpeConfig::default()
    };
    bpe::train(&toy_words(), &cfg)
}

/// Length of the toy corpus in tokens after `step` merges (0: the characters).
pub fn toy_corpus_tokens(step: usize, tie: TieBreak) -> Option<u64> {
    if step == 0 {
        return Some(toy_words().iter().map(|(w, c)| c * w.chars().count() as u64).sum());
    }
    let (_, steps) = toy_bpe(step, tie);
    steps.get(step - 1).map(|s| s.corpus_tokens)
}

/// Byte-level BPE (GPT-2 pre-tokenizer, Hugging Face tie-breaking) trained on `text` to `vocab` tokens.
pub fn byte_bpe(text: &str, vocab: usize) -> (Bpe, Vec<MergeStep>) {
    let words = count_words([text], PreTokenizer::Gpt2);
    let cfg = BpeConfig {
        vocab_size: vocab,
        alphabet: Alphabet::Bytes,
        ..BpeConfig::default()
    };
    bpe::train(&words, &cfg)
}

/// Number of tokens of `text` under a byte-level BPE with the GPT-2 pre-tokenizer.
pub fn byte_tokens(model: &Bpe, text: &str) -> usize {
    model.encode(text, PreTokenizer::Gpt2).len()
}

/// The work of the textbook trainer (recount every pair after every merge) and of the incremental one (pair
/// counts updated by deltas, a lazy max-heap, only the words containing the merged pair revisited), measured by
/// the trainers themselves on the same run of merges.
pub fn train_work(words: &[(String, u64)], cfg: &BpeConfig) -> (TrainWork, TrainWork) {
    let (_, _, naive) = bpe::train_naive_with_work(words, cfg);
    let (_, _, incremental) = bpe::train_with_work(words, cfg);
    (naive, incremental)
}

/// Number of ways to write `text` as a sequence of vocabulary strings: `N_0 = 1`, `N_j = Σ N_i` over the
/// vocabulary strings equal to characters `i..j` (the lattice recursion with counts instead of probabilities).
pub fn count_segmentations(text: &str, vocab: &HashSet<&str>) -> f64 {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let mut n = vec![0.0f64; bounds.len()];
    n[0] = 1.0;
    for j in 1..bounds.len() {
        for i in 0..j {
            if n[i] > 0.0 && vocab.contains(&text[bounds[i]..bounds[j]]) {
                n[j] += n[i];
            }
        }
    }
    n[bounds.len() - 1]
}

/// `text` written in GPT-2's printable byte stand-ins, as the byte-level vocabulary stores it.
pub fn byte_symbols(text: &str) -> String {
    text.bytes().map(bpe::byte_to_char).collect()
}

/// Merged tokens (not alphabet symbols) that never occur when the model encodes the words it was trained on.
pub fn dead_tokens(model: &Bpe, words: &[(String, u64)]) -> usize {
    let used: BTreeSet<u32> = words.iter().flat_map(|(w, _)| model.encode_word(w)).collect();
    model
        .merges()
        .iter()
        .filter_map(|(l, r)| model.token_to_id(&format!("{l}{r}")))
        .collect::<BTreeSet<u32>>()
        .iter()
        .filter(|id| !used.contains(id))
        .count()
}

/// How many distinct patterns of token lengths (in digits, leading space not counted) the numbers 1000–1999,
/// written after a space as in running text, are cut into by a byte-level BPE of `vocab` tokens trained on the
/// built-in numbers corpus. With `split_digits`, digit runs are first cut into single digits (LLaMA's rule), so
/// every number comes out as four one-digit tokens.
pub fn number_patterns(vocab: usize, split_digits: bool) -> usize {
    let (model, _) = byte_bpe(corpus::NUMBERS, vocab);
    let mut patterns = BTreeSet::new();
    for k in 1000..2000usize {
        let s = k.to_string();
        let pattern: Vec<usize> = if split_digits {
            s.chars().map(|_| 1).collect()
        } else {
            model
                .encode(&format!(" {s}"), PreTokenizer::Gpt2)
                .iter()
                .map(|&id| {
                    let token = &model.vocab()[id as usize];
                    token.chars().filter(|c| bpe::char_to_byte(*c).is_some_and(|b| b.is_ascii_digit())).count()
                })
                .filter(|&digits| digits > 0)
                .collect()
        };
        patterns.insert(pattern);
    }
    patterns.len()
}

// ---------------------------------------------------------------------------------------------------------
// WordPiece
// ---------------------------------------------------------------------------------------------------------

/// WordPiece trained to completion on the toy words with the given pair score: the model and every merge.
pub fn toy_wordpiece(score: PairScore) -> (WordPiece, Vec<WordPieceStep>) {
    let cfg = WordPieceConfig {
        vocab_size: 100,
        score,
        ..WordPieceConfig::default()
    };
    wordpiece::train(&toy_words(), &cfg)
}

/// WordPiece trained on a corpus with the BERT pre-tokenizer.
pub fn corpus_wordpiece(text: &str, vocab: usize, score: PairScore) -> WordPiece {
    let words = count_words([text], PreTokenizer::Bert);
    let cfg = WordPieceConfig {
        vocab_size: vocab,
        score,
        ..WordPieceConfig::default()
    };
    wordpiece::train(&words, &cfg).0
}

/// The fraction of `vocab` tokens that the likelihood-score and frequency-score WordPiece trainers share.
pub fn wordpiece_overlap(text: &str, vocab: usize) -> f64 {
    let a = corpus_wordpiece(text, vocab, PairScore::Likelihood);
    let b = corpus_wordpiece(text, vocab, PairScore::Frequency);
    let sa: BTreeSet<&String> = a.vocab().iter().collect();
    let sb: BTreeSet<&String> = b.vocab().iter().collect();
    sa.intersection(&sb).count() as f64 / sa.len().max(sb.len()) as f64
}

// ---------------------------------------------------------------------------------------------------------
// Unigram
// ---------------------------------------------------------------------------------------------------------

/// The word the lesson's Unigram examples use.
pub const DEMO_WORD: &str = "remembers";

/// The Unigram model trained on the English corpus (whitespace words) to `vocab` pieces, with its rounds.
pub fn english_unigram(vocab: usize) -> (Unigram, Vec<UnigramRound>) {
    let words = count_words([corpus::ENGLISH], PreTokenizer::Whitespace);
    let cfg = UnigramConfig {
        vocab_size: vocab,
        ..UnigramConfig::default()
    };
    unigram::train(&words, &cfg)
}

/// Number of paths from 0 to the end of a lattice.
pub fn lattice_paths(lattice: &Lattice) -> f64 {
    let mut n = vec![0.0f64; lattice.len + 1];
    n[0] = 1.0;
    // Nodes are sorted by (start, end), so every node's start count is final when it is reached.
    for node in &lattice.nodes {
        n[node.end] += n[node.start];
    }
    n[lattice.len]
}

/// `log Σ exp(x)` of a slice, stably.
pub fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + crate::math::ln(xs.iter().map(|x| crate::math::exp(x - m)).sum::<f64>())
}

/// The largest differences between the forward–backward results and brute-force enumeration of every path:
/// (|log Z − brute force|, max over nodes |marginal − brute force|).
pub fn lattice_brute_force_errors(lattice: &Lattice) -> Option<(f64, f64)> {
    let paths = lattice.enumerate(1 << 16)?;
    let logs: Vec<f64> = paths.iter().map(|(_, lp)| *lp).collect();
    let log_z = log_sum_exp(&logs);
    let mut marg = vec![0.0f64; lattice.nodes.len()];
    for (path, lp) in &paths {
        for &k in path {
            marg[k] += crate::math::exp(lp - log_z);
        }
    }
    let z_err = (lattice.log_partition() - log_z).abs();
    let m_err = lattice
        .marginals()
        .iter()
        .zip(&marg)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    Some((z_err, m_err))
}

/// The single-character path through a lattice: its node indices, if every character is a piece.
pub fn char_path(lattice: &Lattice) -> Option<Vec<usize>> {
    (0..lattice.len)
        .map(|i| {
            lattice
                .nodes
                .iter()
                .position(|n| n.start == i && n.end == i + 1)
        })
        .collect()
}

/// Mean number of pieces over `samples` segmentations drawn with exponent `alpha`.
pub fn mean_sample_len(model: &Unigram, word: &str, alpha: f64, samples: usize, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let total: usize = (0..samples)
        .map(|_| model.sample(word, alpha, &mut rng).len())
        .sum();
    total as f64 / samples as f64
}

/// Word count of a corpus under whitespace pre-tokenization (the denominator of per-word log-likelihoods).
pub fn word_count(text: &str) -> u64 {
    count_words([text], PreTokenizer::Whitespace)
        .iter()
        .map(|(_, c)| c)
        .sum()
}

/// Per-word counts used by fertility: whitespace-separated words of a text.
pub fn whitespace_words(text: &str) -> usize {
    pre_tokenize(text, PreTokenizer::Whitespace).len()
}

// ---------------------------------------------------------------------------------------------------------
// RL weighting
// ---------------------------------------------------------------------------------------------------------

/// How a policy-gradient loss normalises over the tokens of a group of responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossAggregation {
    /// GRPO (Shao et al. 2024): mean over each response's tokens, then mean over the group: `1/(G |o_i|)`.
    Grpo,
    /// DAPO (Yu et al. 2025): token-level mean over every token of the group: `1/Σ|o_i|`.
    Dapo,
    /// Dr. GRPO (Liu et al. 2025): no per-response length division; a constant `1/(G L_max)`.
    DrGrpo,
}

impl LossAggregation {
    /// Parses `grpo`, `dapo`, `drgrpo`.
    pub fn parse(s: &str) -> Option<LossAggregation> {
        match s {
            "grpo" => Some(LossAggregation::Grpo),
            "dapo" => Some(LossAggregation::Dapo),
            "drgrpo" => Some(LossAggregation::DrGrpo),
            _ => None,
        }
    }
}

/// The weight on each token of a response of `len` tokens in a group whose response lengths are `lens`
/// (which includes `len`), for a loss aggregated by `agg` with maximum generation length `max_len`.
pub fn token_weight(agg: LossAggregation, len: usize, lens: &[usize], max_len: usize) -> f64 {
    let g = lens.len() as f64;
    match agg {
        LossAggregation::Grpo => 1.0 / (g * len as f64),
        LossAggregation::Dapo => 1.0 / lens.iter().sum::<usize>() as f64,
        LossAggregation::DrGrpo => 1.0 / (g * max_len as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The toy run, checked against an independent Python trainer (tie-breaking by token ids, as Hugging Face):
    ///
    /// ```python
    /// words = {'low': 5, 'lower': 2, 'newest': 6, 'widest': 3}
    /// segs = {w: list(w) for w in words}; ids = {c: i for i, c in enumerate(sorted(set(''.join(words))))}
    /// for _ in range(7):
    ///     counts = {}
    ///     for w in sorted(words):
    ///         for p in zip(segs[w], segs[w][1:]): counts[p] = counts.get(p, 0) + words[w]
    ///     m = max(counts.values()); p = min((q for q in counts if counts[q] == m), key=lambda q: (ids[q[0]], ids[q[1]]))
    ///     ids[p[0] + p[1]] = len(ids)   # then replace p in every word, left to right
    /// # merges: es 9, est 9, lo 7, low 7, ew 6, new 6, newest 6; corpus tokens 70 61 54 47 41 35 29
    /// ```
    #[test]
    fn toy_bpe_matches_the_python_reference() {
        let (_, steps) = toy_bpe(7, TieBreak::HuggingFace);
        let merged: Vec<&str> = steps.iter().map(|s| s.merged.as_str()).collect();
        assert_eq!(merged, ["es", "est", "lo", "low", "ew", "new", "newest"]);
        let counts: Vec<u64> = steps.iter().map(|s| s.count).collect();
        assert_eq!(counts, [9, 9, 7, 7, 6, 6, 6]);
        let tokens: Vec<u64> = steps.iter().map(|s| s.corpus_tokens).collect();
        assert_eq!(tokens, [70, 61, 54, 47, 41, 35, 29]);
        assert_eq!(toy_corpus_tokens(0, TieBreak::HuggingFace), Some(79));
    }

    /// Same Python trainer with `min(candidates)` (lexicographic) and first-seen order: the fifth and sixth merges
    /// are `ew`, `ewest` and `ne`, `new` respectively.
    #[test]
    fn tie_breaking_conventions_diverge_after_four_merges() {
        let merged = |tie| -> Vec<String> { toy_bpe(7, tie).1.into_iter().map(|s| s.merged).collect() };
        assert_eq!(merged(TieBreak::Lexicographic)[4..6], ["ew".to_string(), "ewest".to_string()]);
        assert_eq!(merged(TieBreak::FirstSeen)[4..6], ["ne".to_string(), "new".to_string()]);
    }

    #[test]
    fn segmentation_count_matches_brute_force() {
        // "lowest" over {chars, es, est, lo, low}: N = 1, 1, 2, 3, 3, 6, 9 by hand.
        let vocab: HashSet<&str> = ["l", "o", "w", "e", "s", "t", "es", "est", "lo", "low"].into_iter().collect();
        assert_eq!(count_segmentations("lowest", &vocab), 9.0);
        // With every substring available a word of n characters has 2^(n-1) segmentations.
        let word = "abcdef";
        let all: Vec<String> = (0..6).flat_map(|i| (i + 1..=6).map(move |j| word[i..j].to_string())).collect();
        let all: HashSet<&str> = all.iter().map(String::as_str).collect();
        assert_eq!(count_segmentations(word, &all), 32.0);
    }

    #[test]
    fn utf8_lengths_and_unknown_characters() {
        assert_eq!(bytes_per_char("aé日🙂"), 10.0 / 4.0);
        assert!((oov_char_rate("ab xé", "abc") - 0.5).abs() < 1e-15);
        assert_eq!(bytes_per_char(parallel("japanese").unwrap()), 3.0);
    }

    #[test]
    fn loss_aggregations_weigh_lengths_as_the_papers_write_them() {
        let lens = [2, 5];
        // GRPO: 1/(G|o|); DAPO: 1/Σ|o|; Dr. GRPO: 1/(G L_max).
        assert!((token_weight(LossAggregation::Grpo, 2, &lens, 8) - 0.25).abs() < 1e-15);
        assert!((token_weight(LossAggregation::Dapo, 5, &lens, 8) - 1.0 / 7.0).abs() < 1e-15);
        assert!((token_weight(LossAggregation::DrGrpo, 5, &lens, 8) - 1.0 / 16.0).abs() < 1e-15);
    }

    #[test]
    fn digit_splitting_gives_one_pattern_and_plain_bpe_several() {
        assert_eq!(number_patterns(400, true), 1);
        assert!(number_patterns(400, false) > 1);
    }
}

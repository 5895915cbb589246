//! Quantities of the lesson on tokenization (names start with `tokenize.`). The parameter-count and cost
//! quantities are closed forms; every other one trains the engine's tokenizers ([`super::bpe`],
//! [`super::wordpiece`], [`super::unigram`]) on the built-in corpora through [`super::experiments`].

use std::collections::HashSet;

use super::bpe::TieBreak;
use super::experiments::{self as ex, LossAggregation};
use super::pretokenize::{count_words, PreTokenizer};
use super::wordpiece::PairScore;
use crate::error::QuantityError;
use crate::quantities::{Args, QuantitySpec};

/// A decoder-only transformer's shape, for parameter counts.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Vocabulary size.
    pub vocab: f64,
    /// Model width.
    pub d: f64,
    /// Number of blocks.
    pub layers: f64,
    /// Learned positions (0 for rotary or other parameter-free positions).
    pub ctx: f64,
    /// Output layer separate from the input embedding.
    pub untied: bool,
    /// MLP hidden width over `d`.
    pub mlp: f64,
    /// Gated MLP (three matrices, SwiGLU) instead of two.
    pub gated: bool,
    /// Width of the keys and values over `d` (1 for multi-head attention, `kv_heads/heads` for grouped-query).
    pub kv: f64,
    /// Biases and LayerNorm shifts (GPT-2) or neither, with RMSNorm gains only (LLaMA).
    pub biases: bool,
}

impl Shape {
    /// Parameters of one block: attention `d²(2 + 2kv)`, MLP `(2 or 3)·mlp·d²`, plus biases and norm gains.
    pub fn block_params(&self) -> f64 {
        let d = self.d;
        let attention = d * d * (2.0 + 2.0 * self.kv);
        let mlp = if self.gated { 3.0 } else { 2.0 } * self.mlp * d * d;
        let extra = if self.biases {
            // Q, K, V and output biases, the two MLP biases, two LayerNorms with gain and shift.
            d * (2.0 + 2.0 * self.kv) + self.mlp * d + d + 4.0 * d
        } else {
            2.0 * d
        };
        attention + mlp + extra
    }

    /// Parameters in the vocabulary matrices: `V·d`, twice if the output layer is untied.
    pub fn vocab_params(&self) -> f64 {
        self.vocab * self.d * if self.untied { 2.0 } else { 1.0 }
    }

    /// Every parameter: blocks, vocabulary matrices, learned positions and the final norm.
    pub fn total(&self) -> f64 {
        let final_norm = if self.biases { 2.0 * self.d } else { self.d };
        self.layers * self.block_params() + self.vocab_params() + self.ctx * self.d + final_norm
    }
}

fn shape(a: &Args) -> Result<Shape, QuantityError> {
    Ok(Shape {
        vocab: a.f64_in("vocab", 1.0, 1e7)?,
        d: a.f64_in("d", 1.0, 1e6)?,
        layers: a.f64_in("layers", 0.0, 1e4)?,
        ctx: a.f64_in("ctx", 0.0, 1e8)?,
        untied: a.flag("untied")?,
        mlp: a.f64_in("mlp", 0.0, 100.0)?,
        gated: a.flag("gated")?,
        kv: a.f64_in("kv", 0.0, 1.0)?,
        biases: a.flag("biases")?,
    })
}

/// GPT-2 small's shape as the defaults.
const SHAPE_ARGS: &[(&str, &str)] = &[
    ("vocab", "50257"),
    ("d", "768"),
    ("layers", "12"),
    ("ctx", "1024"),
    ("untied", "false"),
    ("mlp", "4"),
    ("gated", "false"),
    ("kv", "1"),
    ("biases", "true"),
];

fn tie(a: &Args) -> Result<TieBreak, QuantityError> {
    match a.raw("tie") {
        "huggingface" => Ok(TieBreak::HuggingFace),
        "first-seen" => Ok(TieBreak::FirstSeen),
        "lexicographic" => Ok(TieBreak::Lexicographic),
        _ => Err(a.invalid("tie", "one of huggingface, first-seen, lexicographic".into())),
    }
}

fn corpus(a: &Args, arg: &str) -> Result<&'static str, QuantityError> {
    ex::corpus_text(a.raw(arg)).ok_or_else(|| {
        a.invalid(
            arg,
            format!(
                "one of {}",
                super::corpus::ALL.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

fn parallel(a: &Args) -> Result<&'static str, QuantityError> {
    ex::parallel(a.raw("lang"))
        .ok_or_else(|| a.invalid("lang", format!("one of {}", ex::LANGUAGES.join(", "))))
}

fn score(a: &Args) -> Result<PairScore, QuantityError> {
    match a.raw("score") {
        "likelihood" => Ok(PairScore::Likelihood),
        "frequency" => Ok(PairScore::Frequency),
        _ => Err(a.invalid("score", "likelihood or frequency".into())),
    }
}

fn aggregation(a: &Args) -> Result<LossAggregation, QuantityError> {
    LossAggregation::parse(a.raw("scheme"))
        .ok_or_else(|| a.invalid("scheme", "one of grpo, dapo, drgrpo".into()))
}

/// The byte-level premium of the parallel paragraph in `lang` over English: tokens / English tokens.
fn premium(a: &Args) -> Result<f64, QuantityError> {
    let text = parallel(a)?;
    let (model, _) = ex::byte_bpe(corpus(a, "train")?, a.usize_in("vocab", 256, 4096)?);
    let english = ex::parallel("english").unwrap_or_default();
    Ok(ex::byte_tokens(&model, text) as f64 / ex::byte_tokens(&model, english) as f64)
}

/// Unigram model on the English corpus, and the lattice of the `word` argument.
fn demo_lattice(a: &Args) -> Result<(super::unigram::Unigram, super::unigram::Lattice), QuantityError> {
    let (model, _) = ex::english_unigram(a.usize_in("vocab", 64, 4096)?);
    let word = a.raw("word");
    if word.is_empty() || word.chars().count() > 24 {
        return Err(a.invalid("word", "a word of 1 to 24 characters".into()));
    }
    let lattice = model.lattice(word);
    Ok((model, lattice))
}

/// Node indices and log-probability of the `path` argument's segmentation of the demo lattice.
fn demo_path(a: &Args) -> Result<(usize, f64), QuantityError> {
    let (_, lattice) = demo_lattice(a)?;
    let path = match a.raw("path") {
        "viterbi" => lattice.viterbi().0,
        "chars" => ex::char_path(&lattice)
            .ok_or_else(|| a.failed("some character of the word is not a piece"))?,
        _ => return Err(a.invalid("path", "viterbi or chars".into())),
    };
    let lp = path.iter().map(|&k| lattice.nodes[k].log_prob).sum();
    Ok((path.len(), lp))
}

const UNIGRAM_ARGS: &[(&str, &str)] = &[("word", ex::DEMO_WORD), ("vocab", "160")];
const PATH_ARGS: &[(&str, &str)] = &[("word", ex::DEMO_WORD), ("vocab", "160"), ("path", "viterbi")];
const RL_ARGS: &[(&str, &str)] = &[("scheme", "grpo"), ("len", "2"), ("other", "5"), ("max_len", "8")];

fn rl_weights(a: &Args) -> Result<(f64, f64, usize, usize), QuantityError> {
    let agg = aggregation(a)?;
    let len = a.usize_in("len", 1, 1_000_000)?;
    let other = a.usize_in("other", 1, 1_000_000)?;
    let max_len = a.usize_in("max_len", 1, 1_000_000)?;
    if agg == LossAggregation::DrGrpo && len.max(other) > max_len {
        return Err(a.invalid("max_len", "at least the longest response".into()));
    }
    let lens = [len, other];
    Ok((
        ex::token_weight(agg, len, &lens, max_len),
        ex::token_weight(agg, other, &lens, max_len),
        len,
        other,
    ))
}

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    // --- costs of a vocabulary -------------------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.embedding_params",
        description: "parameters of one vocabulary matrix, V·d",
        args: &[("vocab", "50257"), ("d", "768")],
        eval: |a| Ok(a.f64_in("vocab", 1.0, 1e7)? * a.f64_in("d", 1.0, 1e6)?),
    },
    QuantitySpec {
        name: "tokenize.gpt2_params",
        description: "parameters of a decoder-only transformer (GPT-2 small by default): blocks, vocabulary matrices, positions, final norm",
        args: SHAPE_ARGS,
        eval: |a| Ok(shape(a)?.total()),
    },
    QuantitySpec {
        name: "tokenize.embedding_share",
        description: "share of a transformer's parameters in its vocabulary matrices (V·d, twice if untied)",
        args: SHAPE_ARGS,
        eval: |a| {
            let s = shape(a)?;
            Ok(s.vocab_params() / s.total())
        },
    },
    QuantitySpec {
        name: "tokenize.lm_head_flops",
        description: "forward FLOPs of the output layer per token, 2·d·V",
        args: &[("vocab", "50257"), ("d", "768")],
        eval: |a| Ok(2.0 * a.f64_in("d", 1.0, 1e6)? * a.f64_in("vocab", 1.0, 1e7)?),
    },
    QuantitySpec {
        name: "tokenize.lm_head_flop_share",
        description: "the LM head's share of the forward weight FLOPs of a GPT-2-style model: 2dV / (2dV + 2L(12d² + 13d))",
        args: &[("vocab", "50257"), ("d", "768"), ("layers", "12")],
        eval: |a| {
            let (v, d, l) = (
                a.f64_in("vocab", 1.0, 1e7)?,
                a.f64_in("d", 1.0, 1e6)?,
                a.f64_in("layers", 0.0, 1e4)?,
            );
            let head = 2.0 * d * v;
            Ok(head / (head + 2.0 * l * (12.0 * d * d + 13.0 * d)))
        },
    },
    QuantitySpec {
        name: "tokenize.logits_bytes",
        description: "bytes of a batch's logits, B·T·V·(bytes per number)",
        args: &[("batch", "8"), ("seq", "1024"), ("vocab", "50257"), ("bytes", "4")],
        eval: |a| {
            Ok(a.f64_in("batch", 1.0, 1e6)?
                * a.f64_in("seq", 1.0, 1e8)?
                * a.f64_in("vocab", 1.0, 1e7)?
                * a.f64_in("bytes", 0.5, 8.0)?)
        },
    },
    // --- bytes, compression, fertility -----------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.bytes_per_char",
        description: "UTF-8 bytes per character of the parallel paragraph in a language",
        args: &[("lang", "english")],
        eval: |a| Ok(ex::bytes_per_char(parallel(a)?)),
    },
    QuantitySpec {
        name: "tokenize.oov_char_rate",
        description: "fraction of the parallel paragraph's non-space characters that never occur in the English corpus",
        args: &[("lang", "german")],
        eval: |a| Ok(ex::oov_char_rate(parallel(a)?, super::corpus::ENGLISH)),
    },
    QuantitySpec {
        name: "tokenize.bpe_compression",
        description: "bytes per token of byte-level BPE (GPT-2 pre-tokenizer) on the corpus it was trained on",
        args: &[("corpus", "english"), ("vocab", "512")],
        eval: |a| {
            let text = corpus(a, "corpus")?;
            let (model, _) = ex::byte_bpe(text, a.usize_in("vocab", 256, 4096)?);
            Ok(text.len() as f64 / ex::byte_tokens(&model, text) as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.premium",
        description: "tokens of the parallel paragraph in a language over its English original, byte-level BPE trained on a corpus",
        args: &[("lang", "russian"), ("train", "english"), ("vocab", "512")],
        eval: premium,
    },
    QuantitySpec {
        name: "tokenize.fertility",
        description: "tokens per whitespace-separated word of the parallel paragraph, byte-level BPE trained on a corpus",
        args: &[("lang", "english"), ("train", "english"), ("vocab", "512")],
        eval: |a| {
            let text = parallel(a)?;
            let (model, _) = ex::byte_bpe(corpus(a, "train")?, a.usize_in("vocab", 256, 4096)?);
            Ok(ex::byte_tokens(&model, text) as f64 / ex::whitespace_words(text) as f64)
        },
    },
    // --- the toy BPE example ---------------------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.toy_corpus_tokens",
        description: "length in tokens of Sennrich et al.'s toy corpus after `step` character-level BPE merges",
        args: &[("step", "0"), ("tie", "huggingface")],
        eval: |a| {
            ex::toy_corpus_tokens(a.usize_in("step", 0, 40)?, tie(a)?)
                .map(|t| t as f64)
                .ok_or_else(|| a.failed("the trainer stopped before that step"))
        },
    },
    QuantitySpec {
        name: "tokenize.toy_merge_count",
        description: "how many times the pair merged at `step` occurred in the toy corpus",
        args: &[("step", "1"), ("tie", "huggingface")],
        eval: |a| {
            let step = a.usize_in("step", 1, 40)?;
            let (_, steps) = ex::toy_bpe(step, tie(a)?);
            steps
                .get(step - 1)
                .map(|s| s.count as f64)
                .ok_or_else(|| a.failed("the trainer stopped before that step"))
        },
    },
    QuantitySpec {
        name: "tokenize.toy_merge_is",
        description: "1 if the toy corpus's merge at `step` creates the token `merged`, else 0",
        args: &[("step", "1"), ("tie", "huggingface"), ("merged", "es")],
        eval: |a| {
            let step = a.usize_in("step", 1, 40)?;
            let (_, steps) = ex::toy_bpe(step, tie(a)?);
            let s = steps
                .get(step - 1)
                .ok_or_else(|| a.failed("the trainer stopped before that step"))?;
            Ok(if s.merged == a.raw("merged") { 1.0 } else { 0.0 })
        },
    },
    QuantitySpec {
        name: "tokenize.toy_encode_len",
        description: "tokens of a word encoded by merge rank with the first `merges` merges of the toy corpus",
        args: &[("word", "lowest"), ("merges", "4"), ("tie", "huggingface")],
        eval: |a| {
            let (model, _) = ex::toy_bpe(a.usize_in("merges", 0, 40)?, tie(a)?);
            Ok(model.encode_word(a.raw("word")).len() as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.toy_segmentations",
        description: "ways to write a word with the toy vocabulary after `merges` merges (Hugging Face tie-breaking)",
        args: &[("word", "lowest"), ("merges", "4")],
        eval: |a| {
            let (model, _) = ex::toy_bpe(a.usize_in("merges", 0, 40)?, TieBreak::HuggingFace);
            let vocab: HashSet<&str> = model.vocab().iter().map(String::as_str).collect();
            Ok(ex::count_segmentations(a.raw("word"), &vocab))
        },
    },
    QuantitySpec {
        name: "tokenize.toy_dead_tokens",
        description: "merged tokens of the toy vocabulary never used when the toy words are encoded",
        args: &[("merges", "7")],
        eval: |a| {
            let (model, _) = ex::toy_bpe(a.usize_in("merges", 0, 40)?, TieBreak::HuggingFace);
            Ok(ex::dead_tokens(&model, &ex::toy_words()) as f64)
        },
    },
    // --- BPE on the corpora ----------------------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.train_work",
        description: "work of the textbook (recount) or incremental BPE trainer, byte-level, to `vocab`: symbols scanned, pair-count updates or words visited",
        args: &[("corpus", "english"), ("vocab", "512"), ("method", "naive"), ("what", "symbols")],
        eval: |a| {
            let words = count_words([corpus(a, "corpus")?], PreTokenizer::Gpt2);
            let cfg = super::bpe::BpeConfig {
                vocab_size: a.usize_in("vocab", 256, 4096)?,
                alphabet: super::bpe::Alphabet::Bytes,
                ..super::bpe::BpeConfig::default()
            };
            let (naive, incremental) = ex::train_work(&words, &cfg);
            let work = match a.raw("method") {
                "naive" => naive,
                "incremental" => incremental,
                _ => return Err(a.invalid("method", "naive or incremental".into())),
            };
            match a.raw("what") {
                "symbols" => Ok(work.symbols_scanned as f64),
                "pair_updates" => Ok(work.pair_updates as f64),
                "words" => Ok(work.words_visited as f64),
                _ => Err(a.invalid("what", "one of symbols, pair_updates, words".into())),
            }
        },
    },
    QuantitySpec {
        name: "tokenize.train_work_ratio",
        description: "symbols scanned by the textbook BPE trainer over those scanned by the incremental one (byte-level, same merges)",
        args: &[("corpus", "english"), ("vocab", "512")],
        eval: |a| {
            let words = count_words([corpus(a, "corpus")?], PreTokenizer::Gpt2);
            let cfg = super::bpe::BpeConfig {
                vocab_size: a.usize_in("vocab", 256, 4096)?,
                alphabet: super::bpe::Alphabet::Bytes,
                ..super::bpe::BpeConfig::default()
            };
            let (naive, incremental) = ex::train_work(&words, &cfg);
            Ok(naive.symbols_scanned as f64 / incremental.symbols_scanned as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.dead_tokens",
        description: "merged tokens of a byte-level BPE never produced when it encodes its own training corpus",
        args: &[("corpus", "english"), ("vocab", "512")],
        eval: |a| {
            let text = corpus(a, "corpus")?;
            let (model, _) = ex::byte_bpe(text, a.usize_in("vocab", 256, 4096)?);
            Ok(ex::dead_tokens(&model, &count_words([text], PreTokenizer::Gpt2)) as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.bpe_segmentations",
        description: "ways to write a string (as bytes) with the vocabulary of a byte-level BPE trained on a corpus",
        args: &[("word", " remembers"), ("corpus", "english"), ("vocab", "512")],
        eval: |a| {
            let (model, _) = ex::byte_bpe(corpus(a, "corpus")?, a.usize_in("vocab", 256, 4096)?);
            let vocab: HashSet<&str> = model.vocab().iter().map(String::as_str).collect();
            Ok(ex::count_segmentations(&ex::byte_symbols(a.raw("word")), &vocab))
        },
    },
    QuantitySpec {
        name: "tokenize.bpe_encode_len",
        description: "tokens of a string under a byte-level BPE trained on a corpus (canonical encoding)",
        args: &[("word", " remembers"), ("corpus", "english"), ("vocab", "512")],
        eval: |a| {
            let (model, _) = ex::byte_bpe(corpus(a, "corpus")?, a.usize_in("vocab", 256, 4096)?);
            Ok(ex::byte_tokens(&model, a.raw("word")) as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.number_patterns",
        description: "distinct token-length patterns of ' 1000'–' 1999' under byte-level BPE trained on the numbers corpus, plain or digit-split",
        args: &[("split", "none"), ("vocab", "400")],
        eval: |a| {
            let split = match a.raw("split") {
                "none" => false,
                "digits" => true,
                _ => return Err(a.invalid("split", "none or digits".into())),
            };
            Ok(ex::number_patterns(a.usize_in("vocab", 256, 4096)?, split) as f64)
        },
    },
    // --- WordPiece -------------------------------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.wp_toy_first",
        description: "pair count or score of WordPiece's first merge on the toy words, by likelihood score or frequency",
        args: &[("score", "likelihood"), ("what", "count")],
        eval: |a| {
            let (_, steps) = ex::toy_wordpiece(score(a)?);
            let first = steps.first().ok_or_else(|| a.failed("no merge was made"))?;
            match a.raw("what") {
                "count" => Ok(first.pair_count as f64),
                "score" => Ok(first.score),
                _ => Err(a.invalid("what", "count or score".into())),
            }
        },
    },
    QuantitySpec {
        name: "tokenize.wp_overlap",
        description: "fraction of tokens shared by WordPiece vocabularies trained by likelihood score and by frequency",
        args: &[("corpus", "english"), ("vocab", "300")],
        eval: |a| Ok(ex::wordpiece_overlap(corpus(a, "corpus")?, a.usize_in("vocab", 64, 4096)?)),
    },
    QuantitySpec {
        name: "tokenize.wp_encode_len",
        description: "tokens of a word under greedy longest-match WordPiece trained on the English corpus (an unmatched word is one [UNK])",
        args: &[("word", "naïve"), ("vocab", "300")],
        eval: |a| {
            let model = ex::corpus_wordpiece(super::corpus::ENGLISH, a.usize_in("vocab", 64, 4096)?, PairScore::Likelihood);
            Ok(model.encode(a.raw("word"), PreTokenizer::Bert).len() as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.wp_unk_word",
        description: "1 if greedy WordPiece (English corpus) cannot match the word and emits a single [UNK], else 0",
        args: &[("word", "naïve"), ("vocab", "300")],
        eval: |a| {
            let model = ex::corpus_wordpiece(super::corpus::ENGLISH, a.usize_in("vocab", 64, 4096)?, PairScore::Likelihood);
            let ids = model.encode(a.raw("word"), PreTokenizer::Bert);
            let unk = model.token_to_id(model.unk_token());
            Ok(if ids.len() == 1 && Some(ids[0]) == unk { 1.0 } else { 0.0 })
        },
    },
    // --- Unigram ---------------------------------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.uni_segmentations",
        description: "paths through the Unigram lattice of a word (model trained on the English corpus)",
        args: UNIGRAM_ARGS,
        eval: |a| Ok(ex::lattice_paths(&demo_lattice(a)?.1)),
    },
    QuantitySpec {
        name: "tokenize.uni_viterbi_len",
        description: "pieces in the Viterbi segmentation of a word (Unigram, English corpus)",
        args: UNIGRAM_ARGS,
        eval: |a| Ok(demo_lattice(a)?.1.viterbi().0.len() as f64),
    },
    QuantitySpec {
        name: "tokenize.uni_viterbi_share",
        description: "probability of the Viterbi segmentation over the total probability of the word, exp(best − log Z)",
        args: UNIGRAM_ARGS,
        eval: |a| {
            let (_, lattice) = demo_lattice(a)?;
            Ok(crate::math::exp(lattice.viterbi().1 - lattice.log_partition()))
        },
    },
    QuantitySpec {
        name: "tokenize.uni_logz_error",
        description: "|forward-algorithm log Z − brute-force log Σ exp over every path| for a word's lattice",
        args: UNIGRAM_ARGS,
        eval: |a| {
            let (_, lattice) = demo_lattice(a)?;
            ex::lattice_brute_force_errors(&lattice)
                .map(|e| e.0)
                .ok_or_else(|| a.failed("too many paths to enumerate"))
        },
    },
    QuantitySpec {
        name: "tokenize.uni_marginal_error",
        description: "largest |forward–backward marginal − brute-force marginal| over a word's lattice nodes",
        args: UNIGRAM_ARGS,
        eval: |a| {
            let (_, lattice) = demo_lattice(a)?;
            ex::lattice_brute_force_errors(&lattice)
                .map(|e| e.1)
                .ok_or_else(|| a.failed("too many paths to enumerate"))
        },
    },
    QuantitySpec {
        name: "tokenize.uni_sample_len",
        description: "mean pieces per sampled segmentation of a word at exponent alpha (forward filtering, backward sampling)",
        args: &[("word", ex::DEMO_WORD), ("vocab", "160"), ("alpha", "1"), ("samples", "2000"), ("seed", "1")],
        eval: |a| {
            let (model, _) = demo_lattice(a)?;
            Ok(ex::mean_sample_len(
                &model,
                a.raw("word"),
                a.f64_in("alpha", 0.0, 100.0)?,
                a.usize_in("samples", 1, 100_000)?,
                a.seed("seed")?,
            ))
        },
    },
    QuantitySpec {
        name: "tokenize.uni_rounds",
        description: "EM-and-prune rounds the Unigram trainer takes on the English corpus to reach `vocab` pieces",
        args: &[("vocab", "80")],
        eval: |a| Ok(ex::english_unigram(a.usize_in("vocab", 64, 4096)?).1.len() as f64),
    },
    QuantitySpec {
        name: "tokenize.uni_pieces",
        description: "pieces (unknown token included) of the Unigram model trained on the English corpus with a target of `vocab`",
        args: &[("vocab", "160")],
        eval: |a| Ok(ex::english_unigram(a.usize_in("vocab", 64, 4096)?).0.pieces().len() as f64),
    },
    QuantitySpec {
        name: "tokenize.uni_loglik_per_word",
        description: "corpus log-likelihood per word (nats) after the first or the last Unigram training round",
        args: &[("vocab", "80"), ("round", "last")],
        eval: |a| {
            let (_, rounds) = ex::english_unigram(a.usize_in("vocab", 64, 4096)?);
            let r = match a.raw("round") {
                "first" => rounds.first(),
                "last" => rounds.last(),
                _ => return Err(a.invalid("round", "first or last".into())),
            }
            .ok_or_else(|| a.failed("the trainer made no round"))?;
            Ok(r.log_likelihood / ex::word_count(super::corpus::ENGLISH) as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.uni_path_len",
        description: "pieces in a segmentation of the demo word: the Viterbi path or single characters",
        args: PATH_ARGS,
        eval: |a| Ok(demo_path(a)?.0 as f64),
    },
    QuantitySpec {
        name: "tokenize.uni_path_logprob",
        description: "log-probability (nats) of a segmentation of the demo word under the Unigram model",
        args: PATH_ARGS,
        eval: |a| Ok(demo_path(a)?.1),
    },
    QuantitySpec {
        name: "tokenize.uni_path_mean_logprob",
        description: "log-probability per token of a segmentation of the demo word",
        args: PATH_ARGS,
        eval: |a| {
            let (n, lp) = demo_path(a)?;
            Ok(lp / n as f64)
        },
    },
    // --- RL --------------------------------------------------------------------------------------------
    QuantitySpec {
        name: "tokenize.kl_mean_penalty",
        description: "a sequence-level divergence `delta` averaged over the tokens of a segmentation of the demo word",
        args: &[("delta", "1"), ("word", ex::DEMO_WORD), ("vocab", "160"), ("path", "viterbi")],
        eval: |a| {
            let delta = a.f64_in("delta", 0.0, 1e6)?;
            Ok(delta / demo_path(a)?.0 as f64)
        },
    },
    QuantitySpec {
        name: "tokenize.per_token_ratio",
        description: "each token's probability ratio when a string's log-probability rises by `delta` nats spread evenly over `len` tokens, exp(delta/len)",
        args: &[("delta", "0.5"), ("len", "2")],
        eval: |a| Ok(crate::math::exp(a.f64_in("delta", -100.0, 100.0)? / a.usize_in("len", 1, 1_000_000)? as f64)),
    },
    QuantitySpec {
        name: "tokenize.rl_token_weight",
        description: "loss weight on each token of a response of `len` tokens beside one of `other` tokens (group of 2)",
        args: RL_ARGS,
        eval: |a| Ok(rl_weights(a)?.0),
    },
    QuantitySpec {
        name: "tokenize.rl_response_share",
        description: "share of a group's total token weight carried by the response of `len` tokens (group of 2)",
        args: RL_ARGS,
        eval: |a| {
            let (w, w_other, len, other) = rl_weights(a)?;
            Ok(w * len as f64 / (w * len as f64 + w_other * other as f64))
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_small_has_124_439_808_parameters() {
        // Hand count: 12·(12·768² + 13·768) + 50257·768 + 1024·768 + 2·768 = 124,439,808, the figure
        // `sum(p.numel() for p in GPT2Model.from_pretrained("gpt2").parameters())` prints.
        let s = Shape {
            vocab: 50257.0,
            d: 768.0,
            layers: 12.0,
            ctx: 1024.0,
            untied: false,
            mlp: 4.0,
            gated: false,
            kv: 1.0,
            biases: true,
        };
        assert_eq!(s.total(), 124_439_808.0);
        assert_eq!(s.vocab_params(), 38_597_376.0);
    }

    #[test]
    fn llama3_70b_shape_counts_70_6_billion() {
        // Llama-3-70B: 80 blocks, d = 8192, SwiGLU hidden 28672 = 3.5 d, 8 of 64 heads for K and V, untied head,
        // vocabulary 128256: 70,553,706,496 parameters, the count of the released checkpoint ("70.6B").
        let s = Shape {
            vocab: 128_256.0,
            d: 8192.0,
            layers: 80.0,
            ctx: 0.0,
            untied: true,
            mlp: 3.5,
            gated: true,
            kv: 0.125,
            biases: false,
        };
        assert_eq!(s.total(), 70_553_706_496.0);
    }
}

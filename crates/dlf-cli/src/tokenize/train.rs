//! `dlf tokenize train`: count the words of the corpus files (after pre-tokenisation), run the engine's BPE,
//! WordPiece or Unigram trainer, print what it did (every merge or round with `--steps`), and save the model
//! as Hugging Face `tokenizer.json`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use dlf_engine::lessons::tokenize::bpe::{
    Alphabet, Bpe, BpeConfig, BpeOptions, BpeTrainer, TieBreak,
};
use dlf_engine::lessons::tokenize::pretokenize::{count_words, PreTokenizer};
use dlf_engine::lessons::tokenize::unigram::{Unigram, UnigramConfig, UnigramTrainer};
use dlf_engine::lessons::tokenize::wordpiece::{
    PairScore, WordPiece, WordPieceConfig, WordPieceTrainer,
};
use serde::Serialize;

use super::input;
use super::names::{one_of, show, ModelKind, Preset};
use super::tokenizer_json::{Added, Model, Tokenizer};
use crate::calc::{named, Named};

/// `dlf tokenize train --help`.
pub const LONG_HELP: &str = "\
Train a tokenizer on FILE… (UTF-8; `-` is standard input) and save it with -o as Hugging Face
tokenizer.json. Prints the corpus, the initial vocabulary (special tokens + alphabet + prefixed/suffixed
forms), the merges or rounds made, and the compression: tokens of the training corpus and bytes per token.
--steps lists every merge (left, right, merged, count, vocabulary size, corpus tokens after it) — a hand-run
BPE on a small corpus can be checked line by line — or, for Unigram, every EM + pruning round.

--vocab-size counts everything: special tokens, the alphabet (for chars also its '##'/'</w>' forms) and the
merges, as Hugging Face and SentencePiece count it; it cannot be smaller than the initial vocabulary.

  dlf tokenize train --preset gpt2 --vocab-size 5000 corpus.txt -o gpt2-style.json
  dlf tokenize train --model bpe --alphabet chars --pre-tokenizer whitespace --end-of-word-suffix '</w>' \\
      --tie-break first-seen --vocab-size 40 --steps toy.txt
  dlf tokenize train --preset bert --vocab-size 8000 corpus.txt -o wordpiece.json
  dlf tokenize train --preset sentencepiece --vocab-size 8000 corpus.txt -o unigram.json

See `dlf tokenize --help` for every convention and who uses it.";

/// Options of `dlf tokenize train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Corpus files (UTF-8 text); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The model: bpe (default conventions: GPT-2's), wordpiece (BERT's) or unigram (SentencePiece's).
    #[arg(long, value_parser = named::<ModelKind>(), conflicts_with = "preset")]
    pub model: Option<ModelKind>,
    /// A model with the conventions of a known tokenizer: gpt2, bert or sentencepiece.
    #[arg(long, value_parser = named::<Preset>())]
    pub preset: Option<Preset>,
    /// The final vocabulary size, special tokens and alphabet included.
    #[arg(long, value_name = "N")]
    pub vocab_size: usize,
    /// How text is cut into words: whitespace, bert, gpt2 or metaspace.
    #[arg(long, value_parser = named::<PreTokenizer>())]
    pub pre_tokenizer: Option<PreTokenizer>,
    /// BPE's initial symbols: chars (Unicode characters) or bytes (GPT-2's byte-level).
    #[arg(long, value_parser = named::<Alphabet>())]
    pub alphabet: Option<Alphabet>,
    /// BPE: which of several pairs with the top count is merged: hf, first-seen or lexicographic.
    #[arg(long, value_parser = named::<TieBreak>())]
    pub tie_break: Option<TieBreak>,
    /// BPE: a suffix on the last symbol of every word, e.g. '</w>' (subword-nmt, CLIP).
    #[arg(long, value_name = "SUFFIX")]
    pub end_of_word_suffix: Option<String>,
    /// BPE, WordPiece: a prefix on every symbol that does not start a word, e.g. '##' (BERT).
    #[arg(long, value_name = "PREFIX")]
    pub continuing_subword_prefix: Option<String>,
    /// WordPiece: the pair score, frequency (HF) or likelihood (Schuster & Nakajima 2012).
    #[arg(long, value_parser = named::<PairScore>())]
    pub score: Option<PairScore>,
    /// BPE: a pair seen fewer times than this is never merged (default 0, as Hugging Face).
    #[arg(long, value_name = "COUNT")]
    pub min_frequency: Option<u64>,
    /// A special token (repeat the option for several); they take the first ids, in the order given.
    #[arg(long = "special-token", value_name = "TOKEN")]
    pub special_tokens: Vec<String>,
    /// The unknown token: WordPiece [UNK], Unigram <unk>; BPE none (for a char-level BPE: e.g. '<unk>').
    #[arg(long, value_name = "TOKEN")]
    pub unk_token: Option<String>,
    /// Where to write tokenizer.json (`-` for standard output; the summary then goes to standard error).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print every merge (BPE, WordPiece) or EM + pruning round (Unigram).
    #[arg(long)]
    pub steps: bool,
    /// Print the summary (and steps) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The options after the preset and the model's defaults are applied.
#[derive(Debug, Clone)]
struct Resolved {
    model: ModelKind,
    pre: PreTokenizer,
    alphabet: Alphabet,
    tie_break: TieBreak,
    suffix: Option<String>,
    prefix: Option<String>,
    score: PairScore,
    min_frequency: u64,
    specials: Vec<String>,
    unk: Option<String>,
}

fn resolve(args: &TrainArgs) -> Result<Resolved> {
    let model = match (args.preset, args.model) {
        (Some(Preset::Gpt2), _) => ModelKind::Bpe,
        (Some(Preset::Bert), _) => ModelKind::WordPiece,
        (Some(Preset::SentencePiece), _) => ModelKind::Unigram,
        (None, Some(m)) => m,
        (None, None) => bail!(
            "say which model to train: --model bpe|wordpiece|unigram, or --preset {}",
            Preset::ALL
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join("|")
        ),
    };
    // Options the model does not use are refused, as `dlf calc` refuses unused fields.
    let given: [(&str, bool); 7] = [
        ("--alphabet", args.alphabet.is_some()),
        ("--tie-break", args.tie_break.is_some()),
        ("--end-of-word-suffix", args.end_of_word_suffix.is_some()),
        (
            "--continuing-subword-prefix",
            args.continuing_subword_prefix.is_some(),
        ),
        ("--score", args.score.is_some()),
        ("--min-frequency", args.min_frequency.is_some()),
        ("--unk-token", args.unk_token.is_some()),
    ];
    let uses: &[&str] = match model {
        ModelKind::Bpe => &[
            "--alphabet",
            "--tie-break",
            "--end-of-word-suffix",
            "--continuing-subword-prefix",
            "--min-frequency",
            "--unk-token",
        ],
        ModelKind::WordPiece => &["--continuing-subword-prefix", "--score", "--unk-token"],
        ModelKind::Unigram => &["--unk-token"],
    };
    for (name, present) in given {
        if present && !uses.contains(&name) {
            bail!(
                "{} does not use {name}; besides --pre-tokenizer, --vocab-size and --special-token it uses {}",
                model.name(),
                one_of(uses, "and")
            );
        }
    }
    let preset = args.preset;
    let specials_default: Vec<&str> = match preset {
        Some(Preset::Gpt2) => vec!["<|endoftext|>"],
        Some(Preset::Bert) => vec!["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        Some(Preset::SentencePiece) => vec!["<unk>"],
        None => vec![],
    };
    let specials: Vec<String> = if args.special_tokens.is_empty() {
        specials_default.into_iter().map(String::from).collect()
    } else {
        args.special_tokens.clone()
    };
    if let Some(empty) = specials.iter().position(String::is_empty) {
        bail!("--special-token number {} is empty", empty + 1);
    }
    let pre = args.pre_tokenizer.unwrap_or(match model {
        ModelKind::Bpe => PreTokenizer::Gpt2,
        ModelKind::WordPiece => PreTokenizer::Bert,
        ModelKind::Unigram => PreTokenizer::Metaspace,
    });
    let prefix = match model {
        ModelKind::WordPiece => Some(
            args.continuing_subword_prefix
                .clone()
                .unwrap_or_else(|| "##".into()),
        ),
        _ => args.continuing_subword_prefix.clone(),
    };
    let suffix = args.end_of_word_suffix.clone();
    for (name, v) in [
        ("--continuing-subword-prefix", &prefix),
        ("--end-of-word-suffix", &suffix),
    ] {
        if v.as_deref() == Some("") {
            bail!(
                "{name} is empty: give the marker (e.g. '##' or '</w>'), or leave the option out"
            );
        }
    }
    let unk = match model {
        ModelKind::Bpe => args.unk_token.clone(),
        ModelKind::WordPiece => Some(args.unk_token.clone().unwrap_or_else(|| "[UNK]".into())),
        ModelKind::Unigram => Some(args.unk_token.clone().unwrap_or_else(|| "<unk>".into())),
    };
    // The unknown token is a special token; listed first when not listed already (its place if it is).
    let mut specials = specials;
    if let Some(u) = &unk {
        if !specials.contains(u) {
            specials.insert(0, u.clone());
        }
    }
    let mut seen = BTreeSet::new();
    if let Some(dup) = specials.iter().find(|s| !seen.insert(s.as_str())) {
        bail!("the special token {dup:?} is given twice");
    }
    Ok(Resolved {
        model,
        pre,
        alphabet: args.alphabet.unwrap_or(if model == ModelKind::Bpe {
            Alphabet::Bytes
        } else {
            Alphabet::Chars
        }),
        tie_break: args.tie_break.unwrap_or(TieBreak::HuggingFace),
        suffix,
        prefix,
        score: args.score.unwrap_or(PairScore::Frequency),
        min_frequency: args.min_frequency.unwrap_or(0),
        specials,
        unk,
    })
}

/// One merge, for `--steps`.
#[derive(Debug, Serialize)]
struct Step {
    rank: usize,
    left: String,
    right: String,
    merged: String,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    vocab_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    corpus_tokens: Option<u64>,
}

/// One Unigram round, for `--steps`.
#[derive(Debug, Serialize)]
struct Round {
    round: usize,
    vocab_size: usize,
    log_likelihood: f64,
    pruned: usize,
    viterbi_tokens: u64,
}

/// What `train` prints (as text, or as JSON with `--json`).
#[derive(Debug, Serialize)]
struct Summary {
    model: &'static str,
    pre_tokenizer: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alphabet: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tie_break: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continuing_subword_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_of_word_suffix: Option<String>,
    files: Vec<String>,
    bytes: u64,
    lines: u64,
    words: u64,
    distinct_words: usize,
    special_tokens: Vec<String>,
    alphabet_size: usize,
    initial_vocab_size: usize,
    vocab_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    merges: Option<usize>,
    symbols_before: u64,
    tokens: u64,
    bytes_per_token: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<Step>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rounds: Option<Vec<Round>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
}

/// Reorders the first ids of a trained vocabulary so the special tokens come in the order given (the
/// engine's trainers put the unknown token first; Hugging Face's put the special tokens in the order given,
/// wherever the unknown token is among them). Leaves the vocabulary alone if its first ids are not exactly
/// the special tokens.
fn order_specials(vocab: &mut [String], specials: &[String]) {
    let k = specials.len();
    if vocab.len() < k {
        return;
    }
    let head: BTreeSet<&str> = vocab[..k].iter().map(String::as_str).collect();
    let want: BTreeSet<&str> = specials.iter().map(String::as_str).collect();
    if head == want {
        vocab[..k].clone_from_slice(specials);
    }
}

/// Runs `dlf tokenize train`.
///
/// # Errors
/// See [`super::run`].
pub fn run(args: &TrainArgs, out: &mut impl Write) -> Result<()> {
    let cfg = resolve(args)?;
    let mut texts = Vec::new();
    for f in &args.files {
        texts.push(input::read(f)?);
    }
    let bytes: u64 = texts.iter().map(|t| t.text.len() as u64).sum();
    let lines: u64 = texts
        .iter()
        .map(|t| input::lines_with_endings(&t.text).count() as u64)
        .sum();
    let words = count_words(
        texts
            .iter()
            .flat_map(|t| input::lines_with_endings(&t.text)),
        cfg.pre,
    );
    if words.is_empty() {
        let names: Vec<&str> = texts.iter().map(|t| t.name.as_str()).collect();
        bail!(
            "no words to train on: {} {} nothing but whitespace",
            one_of(&names, "and"),
            if names.len() == 1 { "holds" } else { "hold" }
        );
    }
    let word_total: u64 = words.iter().map(|(_, c)| c).sum();
    let chars: BTreeSet<char> = words.iter().flat_map(|(w, _)| w.chars()).collect();
    let alphabet_size = match (cfg.model, cfg.alphabet) {
        (ModelKind::Bpe, Alphabet::Bytes) => 256,
        _ => chars.len(),
    };
    let specials = cfg.specials.len();

    let too_small = |initial: usize, forms: &str, why: &str| -> anyhow::Error {
        let alphabet = match (cfg.model, cfg.alphabet) {
            (ModelKind::Bpe, Alphabet::Bytes) => "256 bytes".to_string(),
            _ => format!("{alphabet_size} distinct characters in the corpus"),
        };
        anyhow::anyhow!(
            "--vocab-size {} is smaller than the initial vocabulary of {initial}: {specials} special token{} + \
             {alphabet}{forms}; {why}, so use --vocab-size {initial} or more",
            args.vocab_size,
            if specials == 1 { "" } else { "s" },
        )
    };

    let mut summary = Summary {
        model: cfg.model.name(),
        pre_tokenizer: Named::name(cfg.pre),
        alphabet: None,
        tie_break: None,
        score: None,
        continuing_subword_prefix: cfg.prefix.clone(),
        end_of_word_suffix: cfg.suffix.clone(),
        files: texts.iter().map(|t| t.name.clone()).collect(),
        bytes,
        lines,
        words: word_total,
        distinct_words: words.len(),
        special_tokens: cfg.specials.clone(),
        alphabet_size,
        initial_vocab_size: 0,
        vocab_size: 0,
        merges: None,
        symbols_before: 0,
        tokens: 0,
        bytes_per_token: 0.0,
        steps: None,
        rounds: None,
        output: None,
    };

    let model = match cfg.model {
        ModelKind::Bpe => {
            summary.alphabet = Some(Named::name(cfg.alphabet));
            summary.tie_break = Some(Named::name(cfg.tie_break));
            let bcfg = BpeConfig {
                vocab_size: args.vocab_size,
                min_frequency: cfg.min_frequency,
                alphabet: cfg.alphabet,
                tie_break: cfg.tie_break,
                end_of_word_suffix: cfg.suffix.clone(),
                continuing_subword_prefix: cfg.prefix.clone(),
                special_tokens: cfg.specials.clone(),
            };
            let mut trainer = BpeTrainer::new(&words, &bcfg);
            let initial = trainer.vocab_size();
            let forms = initial.saturating_sub(specials + alphabet_size);
            if args.vocab_size < initial {
                let forms = if forms > 0 {
                    format!(" + {forms} forms with the continuation prefix or end-of-word suffix")
                } else {
                    String::new()
                };
                return Err(too_small(
                    initial,
                    &forms,
                    "BPE starts from every symbol and only adds merges",
                ));
            }
            summary.initial_vocab_size = initial;
            summary.symbols_before = trainer.corpus_tokens();
            let mut steps = Vec::new();
            while let Some(s) = trainer.step() {
                steps.push(Step {
                    rank: steps.len() + 1,
                    left: s.left,
                    right: s.right,
                    merged: s.merged,
                    count: s.count,
                    score: None,
                    vocab_size: s.vocab_size,
                    corpus_tokens: Some(s.corpus_tokens),
                });
            }
            summary.merges = Some(steps.len());
            if args.steps {
                summary.steps = Some(steps);
            }
            let mut bpe = trainer.finish();
            if cfg.unk != bpe.options().unk_token {
                let options = BpeOptions {
                    unk_token: cfg.unk.clone(),
                    ..bpe.options().clone()
                };
                bpe = Bpe::from_parts(bpe.vocab().to_vec(), bpe.merges().to_vec(), options)
                    .map_err(|e| anyhow::anyhow!("the trained model: {e}"))?;
            }
            Model::Bpe(bpe)
        }
        ModelKind::WordPiece => {
            summary.score = Some(Named::name(cfg.score));
            let unk = cfg.unk.clone().expect("WordPiece has an unknown token");
            let wcfg = WordPieceConfig {
                vocab_size: args.vocab_size,
                score: cfg.score,
                continuing_subword_prefix: cfg.prefix.clone().expect("WordPiece has a prefix"),
                unk_token: unk.clone(),
                special_tokens: cfg
                    .specials
                    .iter()
                    .filter(|s| **s != unk)
                    .cloned()
                    .collect(),
                ..WordPieceConfig::default()
            };
            let mut trainer = WordPieceTrainer::new(&words, &wcfg);
            let initial = trainer.vocab_size();
            if args.vocab_size < initial {
                let forms = initial.saturating_sub(specials + alphabet_size);
                return Err(too_small(
                    initial,
                    &format!(" + {forms} forms with the continuation prefix"),
                    "WordPiece starts from every character and its prefixed form and only adds merges",
                ));
            }
            summary.initial_vocab_size = initial;
            summary.symbols_before = trainer.corpus_tokens();
            let mut steps = Vec::new();
            while let Some(s) = trainer.step() {
                steps.push(Step {
                    rank: steps.len() + 1,
                    left: s.left,
                    right: s.right,
                    merged: s.merged,
                    count: s.pair_count,
                    score: Some(s.score),
                    vocab_size: s.vocab_size,
                    corpus_tokens: Some(trainer.corpus_tokens()),
                });
            }
            summary.merges = Some(steps.len());
            if args.steps {
                summary.steps = Some(steps);
            }
            let wp = trainer.finish();
            let mut vocab = wp.vocab().to_vec();
            order_specials(&mut vocab, &cfg.specials);
            let wp = WordPiece::from_vocab(
                vocab,
                wp.prefix(),
                wp.unk_token(),
                wp.max_input_chars_per_word(),
            )
            .map_err(|e| anyhow::anyhow!("the trained model: {e}"))?;
            Model::WordPiece(wp)
        }
        ModelKind::Unigram => {
            let unk = cfg.unk.clone().expect("Unigram has an unknown token");
            let initial = specials + alphabet_size;
            if args.vocab_size < initial {
                return Err(too_small(
                    initial,
                    "",
                    "every character stays a piece so that every word can be segmented",
                ));
            }
            let ucfg = UnigramConfig {
                vocab_size: args.vocab_size,
                unk_token: unk.clone(),
                special_tokens: cfg
                    .specials
                    .iter()
                    .filter(|s| **s != unk)
                    .cloned()
                    .collect(),
                ..UnigramConfig::default()
            };
            let mut trainer = UnigramTrainer::new(&words, &ucfg);
            summary.initial_vocab_size = trainer.vocab_size();
            summary.symbols_before = words
                .iter()
                .map(|(w, c)| c * w.chars().count() as u64)
                .sum();
            let mut rounds = Vec::new();
            while let Some(r) = trainer.step() {
                rounds.push(Round {
                    round: rounds.len() + 1,
                    vocab_size: r.vocab_size,
                    log_likelihood: r.log_likelihood,
                    pruned: r.pruned,
                    viterbi_tokens: r.viterbi_tokens,
                });
            }
            summary.merges = None;
            if args.steps {
                summary.rounds = Some(rounds);
            }
            let uni = trainer.finish();
            let mut names: Vec<String> = uni.pieces().iter().map(|(p, _)| p.clone()).collect();
            order_specials(&mut names, &cfg.specials);
            let scores: Vec<(String, f64)> = names
                .into_iter()
                .map(|p| {
                    let s = uni
                        .token_to_id(&p)
                        .map_or(0.0, |id| uni.pieces()[id as usize].1);
                    (p, s)
                })
                .collect();
            let unk_id = scores.iter().position(|(p, _)| *p == unk).map(|i| i as u32);
            let uni = Unigram::new(scores, unk_id, uni.byte_fallback())
                .map_err(|e| anyhow::anyhow!("the trained model: {e}"))?;
            Model::Unigram(uni)
        }
    };

    let added: Vec<Added> = cfg
        .specials
        .iter()
        .filter_map(|s| {
            model.token_to_id(s).map(|id| Added {
                id,
                content: s.clone(),
                special: true,
            })
        })
        .collect();
    let tokenizer = Tokenizer {
        model,
        pre: Some(cfg.pre),
        added,
        cleanup: false,
        metaspace_first: false,
    };
    summary.vocab_size = tokenizer.model.vocab_len();
    // The compression achieved on the training corpus: every distinct word encoded once, times its count.
    summary.tokens = words
        .iter()
        .map(|(w, c)| c * tokenizer.model_encode_word_len(w) as u64)
        .sum();
    summary.bytes_per_token = if summary.tokens == 0 {
        0.0
    } else {
        bytes as f64 / summary.tokens as f64
    };

    let to_stdout = args.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = &args.output {
        summary.output = Some(if to_stdout {
            "standard output".into()
        } else {
            path.display().to_string()
        });
    }
    let json = tokenizer.to_json();
    // The model is written before the summary, so a failed write is reported before anything is printed.
    if let Some(path) = args.output.as_ref().filter(|_| !to_stdout) {
        std::fs::write(path, &json)
            .with_context(|| format!("could not write {}", path.display()))?;
    }
    if to_stdout {
        out.write_all(json.as_bytes())?;
        let mut err = std::io::stderr().lock();
        print_summary(&summary, args.json, &mut err)?;
    } else {
        print_summary(&summary, args.json, out)?;
    }
    Ok(())
}

fn print_summary(s: &Summary, json: bool, out: &mut impl Write) -> Result<()> {
    // Text output formats numbers itself, so it checks what the JSON printer would refuse.
    let scores = s.steps.iter().flatten().filter_map(|st| st.score);
    let likelihoods = s.rounds.iter().flatten().map(|r| r.log_likelihood);
    if let Some(bad) = scores.chain(likelihoods).find(|x| !x.is_finite()) {
        bail!("tokenize train: the trainer reported a score or log-likelihood of {bad}, which is not finite");
    }
    if json {
        return crate::calc::print("tokenize train", s, out);
    }
    if let Some(steps) = &s.steps {
        let w = steps
            .iter()
            .flat_map(|st| [show(&st.left), show(&st.right), show(&st.merged)])
            .map(|t| t.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let has_score = steps.iter().any(|st| st.score.is_some());
        write!(
            out,
            "{:>5}  {:<w$}  {:<w$}  {:<w$}  {:>8}",
            "rank", "left", "right", "merged", "count"
        )?;
        if has_score {
            write!(out, "  {:>12}", "score")?;
        }
        writeln!(out, "  {:>6}  {:>10}", "vocab", "tokens")?;
        for st in steps {
            write!(
                out,
                "{:>5}  {:<w$}  {:<w$}  {:<w$}  {:>8}",
                st.rank,
                pad(&show(&st.left), w),
                pad(&show(&st.right), w),
                pad(&show(&st.merged), w),
                st.count
            )?;
            if let Some(score) = st.score {
                write!(out, "  {:>12}", format_sig(score))?;
            }
            match st.corpus_tokens {
                Some(t) => writeln!(out, "  {:>6}  {:>10}", st.vocab_size, t)?,
                None => writeln!(out, "  {:>6}", st.vocab_size)?,
            }
        }
        writeln!(out)?;
    }
    if let Some(rounds) = &s.rounds {
        writeln!(out, "round  vocab  log-likelihood  pruned  viterbi tokens")?;
        for r in rounds {
            writeln!(
                out,
                "{:>5}  {:>5}  {:>14}  {:>6}  {:>14}",
                r.round,
                r.vocab_size,
                format!("{:.4}", r.log_likelihood),
                r.pruned,
                r.viterbi_tokens
            )?;
        }
        writeln!(out)?;
    }
    let mut conventions = vec![format!("{} pre-tokenizer", s.pre_tokenizer)];
    if let Some(a) = s.alphabet {
        conventions.push(format!("alphabet {a}"));
    }
    if let Some(t) = s.tie_break {
        conventions.push(format!("ties {t}"));
    }
    if let Some(sc) = s.score {
        conventions.push(format!("score {sc}"));
    }
    if let Some(p) = &s.continuing_subword_prefix {
        conventions.push(format!("prefix {p:?}"));
    }
    if let Some(x) = &s.end_of_word_suffix {
        conventions.push(format!("suffix {x:?}"));
    }
    writeln!(out, "model: {} ({})", s.model, conventions.join(", "))?;
    writeln!(
        out,
        "corpus: {} ({} bytes, {} line{}): {} words, {} distinct",
        s.files.join(", "),
        s.bytes,
        s.lines,
        if s.lines == 1 { "" } else { "s" },
        s.words,
        s.distinct_words
    )?;
    let specials = if s.special_tokens.is_empty() {
        "no special tokens".to_string()
    } else {
        format!("special tokens {}", s.special_tokens.join(" "))
    };
    writeln!(
        out,
        "initial vocabulary: {} ({specials}; alphabet {})",
        s.initial_vocab_size, s.alphabet_size
    )?;
    match s.merges {
        Some(m) => writeln!(out, "merges: {m}; final vocabulary: {}", s.vocab_size)?,
        None => writeln!(out, "final vocabulary: {} pieces", s.vocab_size)?,
    }
    writeln!(
        out,
        "training corpus: {} symbols before training, {} tokens after ({} bytes/token)",
        s.symbols_before,
        s.tokens,
        format_sig(s.bytes_per_token)
    )?;
    if let Some(o) = &s.output {
        writeln!(out, "wrote {o} (Hugging Face tokenizer.json)")?;
    }
    Ok(())
}

/// Pads to `w` characters (Rust's `{:<w$}` counts chars too, but a quoted token is already a String).
fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

/// A number with 6 significant digits, for text output (JSON output keeps every digit).
pub fn format_sig(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&a) {
        // Six significant digits for the numbers of a hand computation (a log-probability, bytes/token).
        let decimals = if a >= 1e5 {
            0
        } else if a >= 1e4 {
            1
        } else if a >= 1e3 {
            2
        } else if a >= 1e2 {
            3
        } else if a >= 1e1 {
            4
        } else if a >= 1.0 {
            5
        } else if a >= 0.1 {
            6
        } else if a >= 0.01 {
            7
        } else {
            8
        };
        format!("{x:.decimals$}")
    } else {
        format!("{x:.5e}")
    }
}

impl Tokenizer {
    /// How many tokens the model gives one pre-tokenised word (the unit training counted).
    fn model_encode_word_len(&self, word: &str) -> usize {
        match &self.model {
            Model::Bpe(m) => m.encode_word(word).len(),
            Model::WordPiece(m) => m.encode_word(word).map_or(1, |ids| ids.len()),
            Model::Unigram(m) => m.encode_word(word).len(),
        }
    }
}

//! The names `dlf tokenize` gives the engine's conventions on the command line, through the same [`Named`]
//! trait as `dlf calc` (so `--help` and an unknown value both list every allowed name).

use dlf_engine::lessons::tokenize::bpe::{Alphabet, TieBreak};
use dlf_engine::lessons::tokenize::pretokenize::PreTokenizer;
use dlf_engine::lessons::tokenize::wordpiece::PairScore;

use crate::calc::Named;

/// Finds the value whose name (or one of its aliases) is `s`, ignoring case and surrounding space.
fn find<T: Named>(s: &str, aliases: &[(&str, T)]) -> Option<T> {
    let s = s.trim().to_ascii_lowercase();
    T::ALL
        .iter()
        .copied()
        .find(|v| v.name() == s)
        .or_else(|| aliases.iter().find(|(a, _)| *a == s).map(|(_, v)| *v))
}

/// Which subword model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Byte-pair encoding (Sennrich et al. 2016; byte-level: Radford et al. 2019).
    Bpe,
    /// WordPiece (Schuster & Nakajima 2012; BERT).
    WordPiece,
    /// The Unigram language model (Kudo 2018; SentencePiece).
    Unigram,
}

impl Named for ModelKind {
    const WHAT: &'static str = "model";
    const ALL: &'static [Self] = &[ModelKind::Bpe, ModelKind::WordPiece, ModelKind::Unigram];
    fn name(self) -> &'static str {
        match self {
            ModelKind::Bpe => "bpe",
            ModelKind::WordPiece => "wordpiece",
            ModelKind::Unigram => "unigram",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        find(s, &[("word-piece", ModelKind::WordPiece)])
    }
}

/// A bundle of defaults named after the tokenizer that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// GPT-2 / RoBERTa: byte-level BPE, the GPT-2 regex, `<|endoftext|>`.
    Gpt2,
    /// BERT: WordPiece, the BERT pre-tokenizer, `##`, `[PAD] [UNK] [CLS] [SEP] [MASK]`.
    Bert,
    /// SentencePiece / T5: Unigram with the metaspace `▁`, `<unk>`.
    SentencePiece,
}

impl Named for Preset {
    const WHAT: &'static str = "preset";
    const ALL: &'static [Self] = &[Preset::Gpt2, Preset::Bert, Preset::SentencePiece];
    fn name(self) -> &'static str {
        match self {
            Preset::Gpt2 => "gpt2",
            Preset::Bert => "bert",
            Preset::SentencePiece => "sentencepiece",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        find(
            s,
            &[
                ("gpt-2", Preset::Gpt2),
                ("t5", Preset::SentencePiece),
                ("spm", Preset::SentencePiece),
            ],
        )
    }
}

impl Named for PreTokenizer {
    const WHAT: &'static str = "pre-tokenizer";
    const ALL: &'static [Self] = &[
        PreTokenizer::Whitespace,
        PreTokenizer::Bert,
        PreTokenizer::Gpt2,
        PreTokenizer::Metaspace,
    ];
    fn name(self) -> &'static str {
        // The match makes a variant the engine adds a build error until it is named here.
        match self {
            PreTokenizer::Whitespace
            | PreTokenizer::Bert
            | PreTokenizer::Gpt2
            | PreTokenizer::Metaspace => PreTokenizer::name(self),
        }
    }
    fn parse(s: &str) -> Option<Self> {
        find(
            s,
            &[
                ("whitespace-split", PreTokenizer::Whitespace),
                ("byte-level", PreTokenizer::Gpt2),
                ("gpt-2", PreTokenizer::Gpt2),
                ("sentencepiece", PreTokenizer::Metaspace),
            ],
        )
    }
}

impl Named for Alphabet {
    const WHAT: &'static str = "alphabet";
    const ALL: &'static [Self] = &[Alphabet::Chars, Alphabet::Bytes];
    fn name(self) -> &'static str {
        match self {
            Alphabet::Chars => "chars",
            Alphabet::Bytes => "bytes",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        find(
            s,
            &[
                ("characters", Alphabet::Chars),
                ("byte-level", Alphabet::Bytes),
            ],
        )
    }
}

impl Named for TieBreak {
    const WHAT: &'static str = "tie-break";
    const ALL: &'static [Self] = &[
        TieBreak::HuggingFace,
        TieBreak::Lexicographic,
        TieBreak::FirstSeen,
    ];
    fn name(self) -> &'static str {
        match self {
            TieBreak::HuggingFace => "hf",
            TieBreak::Lexicographic => "lexicographic",
            TieBreak::FirstSeen => "first-seen",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        find(
            s,
            &[
                ("huggingface", TieBreak::HuggingFace),
                ("sennrich", TieBreak::FirstSeen),
            ],
        )
    }
}

impl Named for PairScore {
    const WHAT: &'static str = "score";
    const ALL: &'static [Self] = &[PairScore::Likelihood, PairScore::Frequency];
    fn name(self) -> &'static str {
        match self {
            PairScore::Likelihood => "likelihood",
            PairScore::Frequency => "frequency",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        find(s, &[("count", PairScore::Frequency)])
    }
}

/// `a, b or c`.
pub fn one_of(items: &[&str], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} {word} {last}", rest.join(", ")),
    }
}

/// A token as printed in a table: bare when that is unambiguous, else quoted with escapes (a token with a
/// space, a control character, a quote, or an empty one).
pub fn show(token: &str) -> String {
    if token.is_empty()
        || token
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        format!("{token:?}")
    } else {
        token.to_string()
    }
}

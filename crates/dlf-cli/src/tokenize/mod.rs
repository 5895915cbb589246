//! `dlf tokenize`: train a BPE, WordPiece or Unigram tokenizer on files, encode and decode with it, and print a
//! Unigram segmentation lattice with its Viterbi path, log Z, marginals, n best and samples — for checking a
//! hand computation (lesson 07) and for real use. The algorithms are the engine's
//! (`dlf_engine::lessons::tokenize`); this module reads text and options, and reads and writes Hugging Face
//! `tokenizer.json` ([`tokenizer_json`]). Where libraries differ, the choice is an option named after who uses
//! it, and `--help` lists every convention.

mod encode;
mod input;
mod lattice;
pub mod names;
mod tokenizer_json;
mod train;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;

pub use tokenizer_json::Tokenizer;

/// The conventions, printed by `dlf tokenize --help`.
pub const CONVENTIONS: &str = "\
Train a subword tokenizer on text files, encode and decode with it, and show a Unigram lattice.
The tokenizer is saved as Hugging Face tokenizer.json (it loads with tokenizers.Tokenizer.from_file, and a
tokenizer.json from Hugging Face loads here if it uses only what dlf implements).

  dlf tokenize train --preset gpt2 --vocab-size 1000 corpus.txt -o tok.json
  dlf tokenize encode --tokenizer tok.json 'the lowest newer'
  dlf tokenize decode --tokenizer tok.json 1 2 3
  dlf tokenize lattice --tokenizer unigram.json lowest --n-best 5

Conventions (each is an option of `train`, named after who uses it):

Pre-tokenisation (--pre-tokenizer): how text is cut into words before the subword model sees it; no token
crosses a word boundary.
  whitespace  split on whitespace, drop it (HF WhitespaceSplit; subword-nmt on tokenised text, Sennrich et
              al. 2016)
  bert        split on whitespace, then split off every punctuation character (BERT's BasicTokenizer without
              lower-casing; HF BertPreTokenizer)
  gpt2        GPT-2's regex 's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+ : the
              leading space stays on the word (\" world\"), letters, digits and punctuation apart (GPT-2,
              RoBERTa; GPT-4's and LLaMA-3's regexes are variants; HF ByteLevel(add_prefix_space=false))
  metaspace   no split on spaces: every space becomes '▁' (U+2581), one '▁' is prepended, and pieces start
              at each '▁' (SentencePiece: T5, ALBERT, XLNet, LLaMA-1/2, Mistral; HF Metaspace)

Alphabet (--alphabet, BPE): the initial symbols.
  chars       Unicode characters (Sennrich et al. 2016); a character never seen in training is unknown
  bytes       the 256 bytes of UTF-8, each shown as GPT-2's printable stand-in ('Ġ' is the space byte, 'Ċ' the
              newline): nothing is ever unknown (byte-level BPE: GPT-2, RoBERTa, GPT-3/4, LLaMA-3; Radford
              et al. 2019)

Tie-breaking (--tie-break, BPE): which pair is merged when several have the highest count.
  hf             the pair of smaller token ids (left id, then right id): special tokens first, the alphabet
                 sorted by code point, then '##'/'</w>' forms in order of first appearance, then merges in
                 order (Hugging Face tokenizers' BpeTrainer and WordPieceTrainer; HF itself numbers the forms
                 in hash-map order, so with a prefix or suffix its ties can differ from run to run)
  first-seen     the pair whose first occurrence comes first scanning the words, sorted, left to right
                 (Python's max() keeps the first maximum, as in Algorithm 1 of Sennrich et al. 2016)
  lexicographic  the lexicographically smallest pair of token strings (a rule easy to apply by hand)
  (subword-nmt since 2017 takes max over (count, pair): the lexicographically largest pair; not offered)

Word-boundary markers (BPE; WordPiece always uses a prefix):
  --continuing-subword-prefix '##'  on every symbol that does not start a word: 'low ##er' (BERT's WordPiece,
                                    HF WordPiece; available for BPE as in HF)
  --end-of-word-suffix '</w>'       on the last symbol of every word: 'low er</w>' (subword-nmt, codes
                                    format 0.2; CLIP; the paper's Algorithm 1, Sennrich et al. 2016, has
                                    '</w>' as a separate symbol instead)
  (none)                            byte-level BPE marks the start of a word with its leading space 'Ġ';
                                    SentencePiece with '▁'

WordPiece pair score (--score): which pair to merge (ties: hf, as above).
  frequency   count(ab), BPE's rule — what Hugging Face's WordPieceTrainer does (it runs its BPE trainer with
              the '##' prefix); the default
  likelihood  count(ab) / (count(a)·count(b)): the gain in corpus likelihood of the original WordPiece
              (Schuster & Nakajima 2012)
  Encoding is greedy longest-match-first from the left (BERT); a word with a position no piece matches
  becomes one unknown token, [UNK].

Unigram (Kudo 2018): pieces with log-probabilities; a word's segmentation is the most probable path through
its lattice (Viterbi). Training starts from frequent substrings and alternates EM with pruning the pieces
whose removal costs least likelihood (SentencePiece's shrinking factor 0.75).

Presets (--preset) set the model and these defaults; explicit options override them:
  gpt2           bpe, bytes, gpt2 pre-tokenizer, hf ties, special token <|endoftext|>
  bert           wordpiece, bert pre-tokenizer, '##', frequency, [PAD] [UNK] [CLS] [SEP] [MASK]
  sentencepiece  unigram, metaspace, <unk>
Without a preset, each model's defaults are those of its best-known user: bpe as gpt2 (without the special
token), wordpiece as bert (special token [UNK]), unigram as sentencepiece.

Input: UTF-8 text, trained line by line with each line's newline kept (as Hugging Face's trainer reads
files); `-` reads standard input. Not implemented: normalizers (lower-casing, NFKC), post-processors
([CLS] … [SEP] templates), BPE-dropout, byte fallback in BPE; a tokenizer.json using one is refused with the
JSON path of the field.";

/// `dlf tokenize` actions.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Train a BPE, WordPiece or Unigram tokenizer on files and save it as tokenizer.json.
    #[command(long_about = train::LONG_HELP)]
    Train(train::TrainArgs),
    /// Encode text (an argument, a file or standard input): tokens and ids.
    #[command(long_about = encode::ENCODE_HELP)]
    Encode(encode::EncodeArgs),
    /// Decode ids back to text.
    #[command(long_about = encode::DECODE_HELP)]
    Decode(encode::DecodeArgs),
    /// A Unigram segmentation lattice: every piece, the Viterbi path, log Z, marginals, n best, samples.
    #[command(long_about = lattice::LONG_HELP)]
    Lattice(lattice::LatticeArgs),
}

/// Runs one `dlf tokenize` action, printing to standard output.
///
/// # Errors
/// A message for the user (exit code 2): a file that cannot be read, text that is not UTF-8, a tokenizer.json
/// dlf cannot use (naming the JSON path), an option that does not fit the model.
pub fn run(action: Action) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match action {
        Action::Train(args) => train::run(&args, &mut out),
        Action::Encode(args) => encode::run_encode(&args, &mut out),
        Action::Decode(args) => encode::run_decode(&args, &mut out),
        Action::Lattice(args) => lattice::run(&args, &mut out),
    }
}

/// Reads a tokenizer.json, naming the file in every error.
///
/// # Errors
/// The file cannot be read, is not UTF-8 or JSON, or holds something dlf cannot use.
pub fn load(path: &Path) -> Result<Tokenizer> {
    let text = input::read(path)?;
    Tokenizer::from_json(&text.text)
        .with_context(|| format!("{} is not a tokenizer dlf can use", text.name))
}

/// The `--tokenizer FILE` option every action but `train` has.
#[derive(Debug, clap::Args)]
pub struct TokenizerFile {
    /// A tokenizer.json (written by `dlf tokenize train` or by Hugging Face tokenizers).
    #[arg(long, short = 't', value_name = "FILE")]
    pub tokenizer: PathBuf,
}

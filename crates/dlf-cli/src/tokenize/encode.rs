//! `dlf tokenize encode` and `decode`: a text through a tokenizer.json and back.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use serde::Serialize;

use super::names::show;
use super::train::format_sig;
use super::{input, load, TokenizerFile};

/// `dlf tokenize encode --help`.
pub const ENCODE_HELP: &str = "\
Encode TEXT (or --file F, or standard input with neither) with a tokenizer.json: one line per token with
its id, then the count and bytes per token; --json prints {\"tokens\": […], \"ids\": […], …}.

As Hugging Face's encode(text, add_special_tokens=False): added tokens (e.g. <|endoftext|>) are matched in
the raw text first and kept whole; the text between them is pre-tokenised and encoded by the model — BPE by
merge rank (the lowest-ranked merge present is applied first, GPT-2's rule), WordPiece greedily
longest-match-first (a word with an unmatched position becomes one unknown token), Unigram by Viterbi.
No post-processor adds [CLS]/[SEP] or <s>.

  dlf tokenize encode --tokenizer tok.json 'the lowest newer'
  dlf tokenize encode --tokenizer tok.json --file essay.txt --json";

/// `dlf tokenize decode --help`.
pub const DECODE_HELP: &str = "\
Decode token ids (arguments, or standard input with none; separated by spaces or commas) with a
tokenizer.json: byte-level BPE turns its stand-ins back into bytes (invalid UTF-8 becomes U+FFFD), '</w>'
ends a word, '##' continues one, '▁' is a space. Special tokens are left out, as Hugging Face's
decode(ids) does, unless --keep-special.";

/// Options of `dlf tokenize encode`.
#[derive(Debug, clap::Args)]
pub struct EncodeArgs {
    #[command(flatten)]
    pub tokenizer: TokenizerFile,
    /// The text to encode.
    #[arg(conflicts_with = "file")]
    pub text: Option<String>,
    /// Encode this file (UTF-8) instead; `-` is standard input.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Print JSON: tokens, ids, count, bytes per token.
    #[arg(long)]
    pub json: bool,
}

/// Options of `dlf tokenize decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub tokenizer: TokenizerFile,
    /// Token ids, e.g. `1 2 3` or `1,2,3`.
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Keep special tokens in the text.
    #[arg(long)]
    pub keep_special: bool,
}

#[derive(Debug, Serialize)]
struct Encoded<'a> {
    tokens: Vec<&'a str>,
    ids: Vec<u32>,
    count: usize,
    bytes: usize,
    bytes_per_token: f64,
}

/// Runs `dlf tokenize encode`.
///
/// # Errors
/// See [`super::run`].
pub fn run_encode(args: &EncodeArgs, out: &mut impl Write) -> Result<()> {
    let tok = load(&args.tokenizer.tokenizer)?;
    let text = match (&args.text, &args.file) {
        (Some(t), _) => t.clone(),
        (None, Some(f)) => input::read(f)?.text,
        (None, None) => input::read(std::path::Path::new("-"))?.text,
    };
    let ids = tok.encode(&text)?;
    let tokens: Vec<&str> = ids
        .iter()
        .map(|&id| tok.token(id).expect("the model's own ids"))
        .collect();
    let bytes_per_token = if ids.is_empty() {
        0.0
    } else {
        text.len() as f64 / ids.len() as f64
    };
    let enc = Encoded {
        count: ids.len(),
        bytes: text.len(),
        bytes_per_token,
        tokens,
        ids,
    };
    if args.json {
        return crate::calc::print("tokenize encode", &enc, out);
    }
    let w = enc
        .ids
        .iter()
        .map(|id| id.to_string().len())
        .max()
        .unwrap_or(1);
    for (id, t) in enc.ids.iter().zip(&enc.tokens) {
        writeln!(out, "{id:>w$}  {}", show(t))?;
    }
    writeln!(
        out,
        "{} tokens from {} bytes ({} bytes/token)",
        enc.count,
        enc.bytes,
        format_sig(enc.bytes_per_token)
    )?;
    Ok(())
}

/// Runs `dlf tokenize decode`.
///
/// # Errors
/// See [`super::run`].
pub fn run_decode(args: &DecodeArgs, out: &mut impl Write) -> Result<()> {
    let tok = load(&args.tokenizer.tokenizer)?;
    let owned;
    let words: Vec<&str> = if args.ids.is_empty() {
        owned = input::read(std::path::Path::new("-"))?.text;
        vec![owned.as_str()]
    } else {
        args.ids.iter().map(String::as_str).collect()
    };
    let mut ids = Vec::new();
    for part in words
        .iter()
        .flat_map(|w| w.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|p| !p.is_empty())
    {
        match part.parse::<u32>() {
            Ok(id) => ids.push(id),
            Err(_) => bail!(
                "{part:?} is not a token id: give non-negative integers, e.g. 15 4 1 or 15,4,1"
            ),
        }
    }
    let text = tok.decode(&ids, args.keep_special)?;
    writeln!(out, "{text}")?;
    Ok(())
}

//! Pre-tokenisation: how raw text is cut into "words" before a subword model (BPE, WordPiece, Unigram) sees it.
//!
//! A subword model never merges across a word boundary, so the pre-tokeniser decides which strings can ever be a
//! single token: whether a space belongs to the following word (GPT-2, Radford et al. 2019), is dropped (BERT,
//! Devlin et al. 2019; subword-nmt, Sennrich et al. 2016) or becomes a visible marker `▁` (SentencePiece, Kudo &
//! Richardson 2018). Each convention is named after who uses it and reproduces the Hugging Face `tokenizers`
//! pre-tokeniser of the same behaviour character for character (checked in `pretokenize_tests.rs`).
//!
//! Everything here is hand-written (no regex crate): the GPT-2 pattern is a small state machine, and the Unicode
//! classes it needs (`\p{L}`, punctuation) come from generated range tables in `pretokenize/unicode_tables.rs`.

mod unicode_tables;

/// How text is cut into "words" before a subword model sees it. Conventions, named after who uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PreTokenizer {
    /// Split on Unicode whitespace, drop it; then split off every punctuation character (BERT's BasicTokenizer
    /// without lower-casing/accent stripping; HF `pre_tokenizers.BertPreTokenizer`). Punctuation is ASCII
    /// punctuation (which includes symbols such as `$+<=>^|~`) or any Unicode general category P*.
    Bert,
    /// Split on whitespace only, drop it (HF `WhitespaceSplit`; Sennrich et al.'s subword-nmt on tokenised text).
    Whitespace,
    /// GPT-2's regex  `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`  (leading
    /// space kept on the word; HF `ByteLevel(add_prefix_space=false, use_regex=true)`), hand-written, no regex
    /// crate. The words are returned as raw text; the byte-level BPE maps their UTF-8 bytes to printable stand-ins.
    Gpt2,
    /// SentencePiece: no split on spaces; every space becomes '▁' (U+2581) and one '▁' is prefixed
    /// (HF `Metaspace(replacement='▁', prepend_scheme="always", split=true)`). `pre_tokenize` returns the
    /// '▁'-prefixed pieces split before each '▁' (a piece never crosses a '▁' start, except '▁' itself).
    Metaspace,
}

impl PreTokenizer {
    /// Every convention, in the order the lesson and `dlf tokenize --help` list them.
    pub const ALL: [PreTokenizer; 4] = [
        PreTokenizer::Bert,
        PreTokenizer::Whitespace,
        PreTokenizer::Gpt2,
        PreTokenizer::Metaspace,
    ];

    /// The convention's short name: "bert", "whitespace", "gpt2", "metaspace".
    pub fn name(self) -> &'static str {
        match self {
            PreTokenizer::Bert => "bert",
            PreTokenizer::Whitespace => "whitespace",
            PreTokenizer::Gpt2 => "gpt2",
            PreTokenizer::Metaspace => "metaspace",
        }
    }

    /// The convention with this short name (the inverse of [`PreTokenizer::name`]).
    pub fn from_name(name: &str) -> Option<PreTokenizer> {
        PreTokenizer::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The SentencePiece whitespace marker U+2581 "▁" (LOWER ONE EIGHTH BLOCK).
pub const METASPACE: char = '\u{2581}';

fn in_table(table: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    // Binary search for the last range starting at or before c.
    let i = table.partition_point(|&(lo, _)| lo <= c);
    i > 0 && c <= table[i - 1].1
}

/// `\p{L}`: a Unicode letter (general categories Lu, Ll, Lt, Lm, Lo).
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_table(unicode_tables::LETTER, c)
}

/// `\p{N}`: a Unicode number (Nd, Nl, No) — exactly what `char::is_numeric` tests.
pub fn is_number(c: char) -> bool {
    c.is_numeric()
}

/// `\s`: Unicode White_Space (what both Rust's `char::is_whitespace` and Oniguruma's `\s` use).
pub fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// BERT's punctuation test: ASCII punctuation (including `$+<=>^`|~`, which Unicode calls symbols) or any
/// Unicode P* category (HF `bert.rs`'s `is_bert_punc`; Google's `_is_punctuation`).
pub fn is_bert_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    in_table(unicode_tables::PUNCTUATION, c)
}

/// Calls `f` on each word of `text` in order, without allocating for the conventions whose words are slices of
/// the text (all but Metaspace). This is what [`pre_tokenize`] and [`count_words`] are built on.
pub fn for_each_word(text: &str, pre: PreTokenizer, mut f: impl FnMut(&str)) {
    match pre {
        PreTokenizer::Whitespace => text.split(is_space).filter(|w| !w.is_empty()).for_each(f),
        PreTokenizer::Bert => {
            for chunk in text.split(is_space).filter(|w| !w.is_empty()) {
                let mut start = 0;
                for (i, c) in chunk.char_indices() {
                    if is_bert_punctuation(c) {
                        if start < i {
                            f(&chunk[start..i]);
                        }
                        let end = i + c.len_utf8();
                        f(&chunk[i..end]);
                        start = end;
                    }
                }
                if start < chunk.len() {
                    f(&chunk[start..]);
                }
            }
        }
        PreTokenizer::Gpt2 => {
            let mut pos = 0;
            while pos < text.len() {
                let end = gpt2_match_end(text, pos);
                f(&text[pos..end]);
                pos = end;
            }
        }
        PreTokenizer::Metaspace => {
            // Every ' ' (U+0020 only, as HF's `replace(' ', "▁")`) becomes '▁'; one '▁' is prepended unless the
            // text already starts with one; then the text is cut before every '▁' (HF `MergedWithNext`).
            if text.is_empty() {
                return;
            }
            let mut piece = String::new();
            if !text.starts_with([' ', METASPACE]) {
                piece.push(METASPACE);
            }
            for c in text.chars() {
                let c = if c == ' ' { METASPACE } else { c };
                if c == METASPACE && !piece.is_empty() {
                    f(&piece);
                    piece.clear();
                }
                piece.push(c);
            }
            if !piece.is_empty() {
                f(&piece);
            }
        }
    }
}

/// The byte offset where the GPT-2 pattern's match starting at `pos` ends. The pattern is an alternation tried
/// left to right, and its alternatives together match every character, so successive matches tile the text:
/// `'s|'t|'re|'ve|'m|'ll|'d` (lower case only), ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`, `\s+(?!\S)`, `\s+`.
fn gpt2_match_end(text: &str, pos: usize) -> usize {
    let rest = &text[pos..];
    let mut chars = rest.chars();
    let c = chars.next().expect("pos < text.len()");
    // 1. Contractions.
    if c == '\'' {
        for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
            if rest[1..].starts_with(suffix) {
                return pos + 1 + suffix.len();
            }
        }
    }
    // 2–4. An optional single ' ' then a run of one class.
    let (class_start, first) = if c == ' ' {
        match chars.next() {
            Some(n) => (1, n),
            None => return pos + 1, // a lone trailing space: `\s+(?!\S)`
        }
    } else {
        (0, c)
    };
    let run = |pred: &dyn Fn(char) -> bool| -> usize {
        let from = pos + class_start;
        let len: usize = text[from..].chars().take_while(|&ch| pred(ch)).map(char::len_utf8).sum();
        from + len
    };
    if is_letter(first) {
        return run(&is_letter);
    }
    if is_number(first) {
        return run(&is_number);
    }
    let other = |ch: char| !is_space(ch) && !is_letter(ch) && !is_number(ch);
    if other(first) {
        return run(&other);
    }
    // 5–6. Whitespace: the whole run if it ends the text; otherwise all but its last character, so that the last
    // one (if it is ' ') can lead the next word — unless the run is a single character (then `\s+` takes it).
    let mut end = pos;
    let mut last_len = 0;
    for ch in rest.chars().take_while(|&ch| is_space(ch)) {
        end += ch.len_utf8();
        last_len = ch.len_utf8();
    }
    if end == text.len() || end - pos == last_len {
        end
    } else {
        end - last_len
    }
}

/// The words of `text`, in order (each a slice of text or, for Metaspace, a new String).
pub fn pre_tokenize(text: &str, pre: PreTokenizer) -> Vec<String> {
    let mut words = Vec::new();
    for_each_word(text, pre, |w| words.push(w.to_string()));
    words
}

/// Word frequencies over many texts, sorted by word (byte order) — the input of every trainer.
pub fn count_words<'a>(texts: impl IntoIterator<Item = &'a str>, pre: PreTokenizer) -> Vec<(String, u64)> {
    // Counting goes through a hash map with a cheap hasher; the output is sorted, so no hash order leaks out.
    let mut counts: std::collections::HashMap<String, u64, crate::lessons::tokenize::bpe::FastHash> =
        std::collections::HashMap::default();
    for text in texts {
        for_each_word(text, pre, |w| {
            if let Some(n) = counts.get_mut(w) {
                *n += 1;
            } else {
                counts.insert(w.to_string(), 1);
            }
        });
    }
    let mut out: Vec<(String, u64)> = counts.into_iter().collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
#[path = "pretokenize_tests.rs"]
mod tests;

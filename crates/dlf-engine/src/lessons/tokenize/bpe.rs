//! Byte-pair encoding: training (Sennrich, Haddow & Birch 2016, "Neural Machine Translation of Rare Words with
//! Subword Units"; byte-level as in Radford et al. 2019, "Language Models are Unsupervised Multitask Learners")
//! and encoding by merge rank.
//!
//! **Training.** Start from the alphabet (characters, or the 256 bytes), split every word into it, then repeat:
//! count every adjacent pair of symbols over the corpus (each word weighted by its frequency), merge the most
//! frequent pair everywhere into a new symbol, until the vocabulary has `vocab_size` entries. Ties between pairs
//! of equal count are broken by a convention ([`TieBreak`]); Hugging Face `tokenizers` takes the pair of smaller
//! token ids.
//!
//! **Cost.** The textbook loop ([`train_naive`]) recounts every pair of every word after every merge: with `W`
//! distinct words of `L` symbols on average, `O(W·L)` work per merge, `O(M·W·L)` for `M` merges. The incremental
//! trainer ([`BpeTrainer`], [`train`]) counts pairs once, keeps for every pair the list of words containing it, and
//! after merging pair `(a, b)` visits only the words on that pair's list, adjusting the counts of the pairs next to
//! each merged occurrence (`(p, a)` and `(b, q)` lose, `(p, ab)` and `(ab, q)` gain). Its work per merge is
//! `O(Σ len(w))` over the words containing the pair (a handful for most merges — Zipf's law makes late merges
//! rare) plus `O(log P)` heap operations; [`TrainWork`] counts both sides so the lesson can quote the ratio. On the
//! Python documentation (11 MB, 50k distinct GPT-2 words; `cargo xtask bench-tokenize`, README) 32k merges visit
//! 18 words and read about 100 symbols per merge, where each textbook recount reads about 120,000.
//! The best pair comes from a max-heap with lazy deletion: an entry whose stored count no longer matches the
//! pair's current count is re-pushed with the current count when it reaches the top (counts of existing pairs only
//! fall, so the first entry that matches is the true maximum). FirstSeen ties use the same trick: a pair's first
//! occurrence (word index, offset in initial symbols) only moves later as occurrences are merged away, so it is
//! stored in the entry and re-checked at the top like the count.
//!
//! **Conventions (Hugging Face `tokenizers`, `models/bpe/trainer.rs`, checked in `bpe_tests.rs`).** Ids: special
//! tokens first, then the alphabet sorted by code point (for bytes: GPT-2's stand-in characters, whose code-point
//! order is GPT-2's `bytes_to_unicode` order), then — with `end_of_word_suffix` / `continuing_subword_prefix` —
//! the suffixed/prefixed variants of alphabet symbols that occur, then one id per new token in merge order. HF adds
//! those variants in its hash map's iteration order, which is randomly seeded per process, so their ids (and hence
//! tie-breaks between pairs made of them) are not reproducible in HF; here they are added sorted by string. A
//! merge whose result already exists would add a merge but no token, as in HF — but in training every merge adds
//! exactly one token: a stretch of text that ends up as one token never shares a token with its surroundings on
//! the way, so it is merged the same way, at the same steps, wherever it occurs, and the same string cannot be
//! reached by two different merges (checked on every test corpus). The suffix sits on the last symbol of a word,
//! the prefix on every symbol but the first; merging `a` with `##b` gives `ab` (the right part's prefix is
//! dropped).
//!
//! **Encoding** ([`Bpe::encode_word`]): split the word into alphabet symbols, then repeatedly apply the merge of
//! lowest rank present (leftmost first among equal ranks) — GPT-2's `encoder.py` `bpe()` and HF's `merge_all`.

use super::pretokenize::{for_each_word, PreTokenizer, METASPACE};
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// A multiplicative hasher in the style of rustc's `FxHasher` (Firefox's hash): one rotate, xor and multiply per
/// 8 bytes. BPE training is dominated by hash-map look-ups of small integer keys (packed symbol pairs); SipHash,
/// the standard library's default, is built to resist collision attacks and costs several times more per look-up.
/// Nothing here hashes attacker-chosen keys into a long-lived server structure, and no output depends on
/// iteration order (everything leaving these maps is sorted or looked up), so the cheap hash is safe.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher {
    hash: u64,
}

const FX_SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes its 7 control bits from the top of the hash and the bucket from the bottom; the rotate
        // moves the well-mixed high bits of the last multiply into the bucket index.
        self.hash.rotate_left(26)
    }
}

/// `BuildHasher` for [`FastHasher`].
pub type FastHash = BuildHasherDefault<FastHasher>;
type FastMap<K, V> = HashMap<K, V, FastHash>;

/// What the initial symbols are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alphabet {
    /// Unicode scalar values (Sennrich et al. 2016).
    Chars,
    /// The 256 bytes of UTF-8, each shown as GPT-2's printable stand-in character (bytes_to_unicode: 'Ġ' for
    /// space); no unknown token can ever occur (Radford et al. 2019).
    Bytes,
}

impl Alphabet {
    /// Both alphabets.
    pub const ALL: [Alphabet; 2] = [Alphabet::Chars, Alphabet::Bytes];
    /// "chars" or "bytes".
    pub fn name(self) -> &'static str {
        match self {
            Alphabet::Chars => "chars",
            Alphabet::Bytes => "bytes",
        }
    }
    /// The alphabet with this name (the inverse of [`Alphabet::name`]).
    pub fn from_name(name: &str) -> Option<Alphabet> {
        Alphabet::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Which pair wins when several have the same count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TieBreak {
    /// Hugging Face `tokenizers`: the pair of smaller token ids (ids: initial alphabet sorted, then merges in
    /// order); compared as (left id, right id).
    HuggingFace,
    /// The lexicographically smallest pair of token strings (left string first, byte order).
    Lexicographic,
    /// The pair first seen scanning the sorted word list left to right at the current segmentation (Python's
    /// `max()` over insertion order, as in Algorithm 1 of Sennrich et al. 2016; current subword-nmt instead takes
    /// `max` of `(count, pair)`, i.e. the lexicographically largest pair).
    FirstSeen,
}

impl TieBreak {
    /// Every convention.
    pub const ALL: [TieBreak; 3] = [TieBreak::HuggingFace, TieBreak::Lexicographic, TieBreak::FirstSeen];
    /// "huggingface", "lexicographic", "first-seen".
    pub fn name(self) -> &'static str {
        match self {
            TieBreak::HuggingFace => "huggingface",
            TieBreak::Lexicographic => "lexicographic",
            TieBreak::FirstSeen => "first-seen",
        }
    }
    /// The convention with this name (the inverse of [`TieBreak::name`]).
    pub fn from_name(name: &str) -> Option<TieBreak> {
        TieBreak::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpeConfig {
    /// Final vocabulary size including the alphabet (and special tokens). Training stops before a merge once the
    /// vocabulary has this many tokens (so an alphabet larger than this is kept whole and no merge is made).
    pub vocab_size: usize,
    /// A pair seen fewer times is never merged (HF default 0; subword-nmt's default 2).
    pub min_frequency: u64,
    /// Characters or bytes.
    pub alphabet: Alphabet,
    /// Which pair wins a tie.
    pub tie_break: TieBreak,
    /// E.g. "</w>" (subword-nmt), appended to each word's last symbol.
    pub end_of_word_suffix: Option<String>,
    /// E.g. "##" on every non-initial symbol.
    pub continuing_subword_prefix: Option<String>,
    /// Given the first ids, never merged (e.g. "<unk>").
    pub special_tokens: Vec<String>,
}

impl Default for BpeConfig {
    fn default() -> Self {
        BpeConfig {
            vocab_size: 1000,
            min_frequency: 0,
            alphabet: Alphabet::Chars,
            tie_break: TieBreak::HuggingFace,
            end_of_word_suffix: None,
            continuing_subword_prefix: None,
            special_tokens: Vec::new(),
        }
    }
}

/// One merge, as the trainer made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeStep {
    /// Left symbol.
    pub left: String,
    /// Right symbol.
    pub right: String,
    /// The new symbol (`left` + `right` without the continuation prefix).
    pub merged: String,
    /// Occurrences of the pair in the weighted corpus at the time of the merge.
    pub count: u64,
    /// Vocabulary size after the merge (unchanged when `merged` already existed).
    pub vocab_size: usize,
    /// Total tokens of the weighted corpus after the merge (sum over words of count · number of symbols).
    pub corpus_tokens: u64,
}

/// How a trained model splits words into its initial symbols and what it does with unknown ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpeOptions {
    /// Characters or bytes.
    pub alphabet: Alphabet,
    /// Appended to the last symbol of each word.
    pub end_of_word_suffix: Option<String>,
    /// Prepended to every symbol but the first of each word.
    pub continuing_subword_prefix: Option<String>,
    /// The token emitted for a symbol not in the vocabulary (one per unknown character, HF's `fuse_unk=false`);
    /// `None` drops unknown characters (HF's behaviour without an unk token).
    pub unk_token: Option<String>,
}

impl Default for BpeOptions {
    fn default() -> Self {
        BpeOptions {
            alphabet: Alphabet::Chars,
            end_of_word_suffix: None,
            continuing_subword_prefix: None,
            unk_token: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// GPT-2's byte stand-ins.

/// Whether GPT-2 shows byte `b` as itself: the printable Latin-1 ranges `!`..`~`, `¡`..`¬`, `®`..`ÿ`.
const fn byte_is_printable(b: u32) -> bool {
    (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
}

const fn build_byte_table() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut n = 0;
    let mut b = 0;
    while b < 256 {
        // Printable bytes stand for themselves; the 68 others take 256, 257, … in byte order (GPT-2 encoder.py).
        let code = if byte_is_printable(b) {
            b
        } else {
            n += 1;
            255 + n
        };
        table[b as usize] = match char::from_u32(code) {
            Some(c) => c,
            None => panic!("stand-ins are below 0x144"),
        };
        b += 1;
    }
    table
}

const BYTE_TO_CHAR: [char; 256] = build_byte_table();

const fn build_unprintable() -> [u8; 68] {
    let mut out = [0u8; 68];
    let mut n = 0;
    let mut b = 0;
    while b < 256 {
        if !byte_is_printable(b) {
            out[n] = b as u8;
            n += 1;
        }
        b += 1;
    }
    out
}

/// The non-printable bytes in order: byte `UNPRINTABLE[k]` is shown as U+0100 + k.
const UNPRINTABLE: [u8; 68] = build_unprintable();

/// GPT-2's byte → printable character table (`bytes_to_unicode` in `encoder.py`): 'Ġ' (U+0120) for space,
/// 'Ċ' (U+010A) for newline.
pub fn byte_to_char(b: u8) -> char {
    BYTE_TO_CHAR[b as usize]
}

/// The inverse of [`byte_to_char`]; `None` for a character that stands for no byte.
pub fn char_to_byte(c: char) -> Option<u8> {
    let c = c as u32;
    if c < 256 && byte_is_printable(c) {
        Some(c as u8)
    } else if (256..256 + 68).contains(&c) {
        Some(UNPRINTABLE[(c - 256) as usize])
    } else {
        None
    }
}

/// The initial symbols of `word` as strings: its characters (or its bytes' stand-ins), with the continuation
/// prefix on all but the first and the end-of-word suffix on the last.
fn initial_symbols(word: &str, opts: &SymbolOpts<'_>, mut f: impl FnMut(&str)) {
    let mut buf = String::new();
    let mut emit = |c: char, first: bool, last: bool| {
        buf.clear();
        if !first {
            if let Some(p) = opts.prefix {
                buf.push_str(p);
            }
        }
        buf.push(c);
        if last {
            if let Some(s) = opts.suffix {
                buf.push_str(s);
            }
        }
        f(&buf);
    };
    match opts.alphabet {
        Alphabet::Chars => {
            let mut it = word.chars().peekable();
            let mut first = true;
            while let Some(c) = it.next() {
                emit(c, first, it.peek().is_none());
                first = false;
            }
        }
        Alphabet::Bytes => {
            let bytes = word.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                emit(byte_to_char(b), i == 0, i + 1 == bytes.len());
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SymbolOpts<'a> {
    alphabet: Alphabet,
    prefix: Option<&'a str>,
    suffix: Option<&'a str>,
}

impl BpeOptions {
    fn symbol_opts(&self) -> SymbolOpts<'_> {
        SymbolOpts {
            alphabet: self.alphabet,
            prefix: self.continuing_subword_prefix.as_deref(),
            suffix: self.end_of_word_suffix.as_deref(),
        }
    }
}

#[inline]
fn pack(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

#[inline]
fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// The merged token's string: `left` + `right` without its continuation prefix (HF trainer.rs).
fn merged_string(left: &str, right: &str, prefix: Option<&str>) -> String {
    let right = match prefix {
        Some(p) => right.strip_prefix(p).unwrap_or(right),
        None => right,
    };
    let mut s = String::with_capacity(left.len() + right.len());
    s.push_str(left);
    s.push_str(right);
    s
}

// ---------------------------------------------------------------------------------------------------------------
// The trained model.

/// A trained model: vocabulary (id → token string) and ordered merges (rank = index).
#[derive(Debug, Clone, PartialEq)]
pub struct Bpe {
    vocab: Vec<String>,
    ids: FastMap<String, u32>,
    merges: Vec<(String, String)>,
    /// (left id, right id) packed → (rank, merged id). When a pair appears twice in the merge list the later rank
    /// wins, as in HF's map built from the list.
    ranks: FastMap<u64, (u32, u32)>,
    options: BpeOptions,
}

impl Bpe {
    /// A model from a vocabulary (ids in order) and merges (ranks in order), e.g. read from an HF
    /// `tokenizer.json`. Fails when a token repeats, a merge names a token not in the vocabulary, a merge's result
    /// is missing, or the unk token is missing.
    pub fn from_parts(vocab: Vec<String>, merges: Vec<(String, String)>, cfg_like: BpeOptions) -> Result<Bpe, String> {
        let mut ids: FastMap<String, u32> = FastMap::default();
        for (i, t) in vocab.iter().enumerate() {
            if ids.insert(t.clone(), i as u32).is_some() {
                return Err(format!("token {t:?} appears twice in the vocabulary"));
            }
        }
        if let Some(unk) = &cfg_like.unk_token {
            if !ids.contains_key(unk) {
                return Err(format!("the unk token {unk:?} is not in the vocabulary"));
            }
        }
        let mut ranks = FastMap::default();
        for (rank, (l, r)) in merges.iter().enumerate() {
            let id = |t: &str| ids.get(t).copied().ok_or_else(|| format!("merge {rank} ({l:?}, {r:?}): {t:?} is not in the vocabulary"));
            let (a, b) = (id(l)?, id(r)?);
            let m = id(&merged_string(l, r, cfg_like.continuing_subword_prefix.as_deref()))?;
            ranks.insert(pack(a, b), (rank as u32, m));
        }
        Ok(Bpe { vocab, ids, merges, ranks, options: cfg_like })
    }

    /// Id → token string.
    pub fn vocab(&self) -> &[String] {
        &self.vocab
    }

    /// The merges in rank order.
    pub fn merges(&self) -> &[(String, String)] {
        &self.merges
    }

    /// The id of a token string.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// Alphabet, suffix, prefix, unk token.
    pub fn options(&self) -> &BpeOptions {
        &self.options
    }

    /// Encode one pre-tokenised word by merge rank: repeatedly apply the lowest-rank merge present, leftmost
    /// first among equal ranks (GPT-2 `encoder.py`, HF `Word::merge_all`).
    pub fn encode_word(&self, word: &str) -> Vec<u32> {
        let unk = self.options.unk_token.as_deref().and_then(|u| self.token_to_id(u));
        let mut syms: Vec<u32> = Vec::with_capacity(word.len());
        initial_symbols(word, &self.options.symbol_opts(), |s| match self.ids.get(s) {
            Some(&id) => syms.push(id),
            None => {
                if let Some(u) = unk {
                    syms.push(u);
                }
            }
        });
        self.merge_by_rank(&mut syms);
        syms
    }

    /// Applies the merges to a symbol sequence in rank order. A min-heap of (rank, position) over adjacent pairs
    /// with a doubly linked list of live symbols: `O(n log n)` per word instead of GPT-2's `O(n²)` rescans, same
    /// result (pairs created by a merge always have a larger rank than the merge itself).
    fn merge_by_rank(&self, syms: &mut Vec<u32>) {
        let n = syms.len();
        if n < 2 {
            return;
        }
        let mut next: Vec<usize> = (1..=n).collect(); // n = none
        let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect(); // usize::MAX = none
        let mut alive = vec![true; n];
        let mut heap = BinaryHeap::new();
        for i in 0..n - 1 {
            if let Some(&(rank, m)) = self.ranks.get(&pack(syms[i], syms[i + 1])) {
                heap.push(std::cmp::Reverse((rank, i, m)));
            }
        }
        while let Some(std::cmp::Reverse((rank, i, m))) = heap.pop() {
            let j = next[i];
            if !alive[i] || j >= n {
                continue;
            }
            // Skip stale entries: the pair at i must still be the one this entry was made for.
            match self.ranks.get(&pack(syms[i], syms[j])) {
                Some(&(r, mm)) if r == rank && mm == m => {}
                _ => continue,
            }
            syms[i] = m;
            alive[j] = false;
            next[i] = next[j];
            if next[j] < n {
                prev[next[j]] = i;
            }
            if prev[i] != usize::MAX {
                let p = prev[i];
                if let Some(&(r, mm)) = self.ranks.get(&pack(syms[p], m)) {
                    heap.push(std::cmp::Reverse((r, p, mm)));
                }
            }
            if next[i] < n {
                if let Some(&(r, mm)) = self.ranks.get(&pack(m, syms[next[i]])) {
                    heap.push(std::cmp::Reverse((r, i, mm)));
                }
            }
        }
        let mut k = 0;
        for i in 0..n {
            if alive[i] {
                syms[k] = syms[i];
                k += 1;
            }
        }
        syms.truncate(k);
    }

    /// Pre-tokenise then encode.
    pub fn encode(&self, text: &str, pre: PreTokenizer) -> Vec<u32> {
        let mut out = Vec::new();
        for_each_word(text, pre, |w| out.extend(self.encode_word(w)));
        out
    }

    /// The tokens' strings joined back into text. Byte stand-ins (Bytes alphabet) become bytes again, invalid
    /// UTF-8 becomes U+FFFD; a token ending in the end-of-word suffix ends a word (suffix → space, HF's
    /// `BPEDecoder`); with a continuation prefix, a token carrying it is glued to the previous one (prefix removed)
    /// and any other token after the first starts a new word (HF's `WordPiece` decoder); the SentencePiece marker
    /// '▁' becomes a space and a leading one is dropped (HF's `Metaspace` decoder). Trailing spaces are trimmed.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes: Vec<u8> = Vec::new();
        let prefix = self.options.continuing_subword_prefix.as_deref();
        let suffix = self.options.end_of_word_suffix.as_deref();
        for (k, &id) in ids.iter().enumerate() {
            let Some(tok) = self.vocab.get(id as usize) else { continue };
            let mut t = tok.as_str();
            if let Some(p) = prefix {
                if let Some(rest) = t.strip_prefix(p) {
                    t = rest;
                } else if k > 0 && bytes.last() != Some(&b' ') {
                    bytes.push(b' ');
                }
            }
            let mut ends_word = false;
            if let Some(s) = suffix {
                if let Some(rest) = t.strip_suffix(s) {
                    t = rest;
                    ends_word = true;
                }
            }
            match self.options.alphabet {
                Alphabet::Chars => bytes.extend_from_slice(t.as_bytes()),
                Alphabet::Bytes => {
                    for c in t.chars() {
                        match char_to_byte(c) {
                            Some(b) => bytes.push(b),
                            None => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                        }
                    }
                }
            }
            if ends_word {
                bytes.push(b' ');
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_prefix(METASPACE).unwrap_or(&text);
        let text: String = text.chars().map(|c| if c == METASPACE { ' ' } else { c }).collect();
        text.trim_end_matches(' ').to_string()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared set-up of both trainers.

/// The vocabulary before any merge and every word as initial symbol ids.
struct Initial {
    tokens: Vec<String>,
    ids: FastMap<String, u32>,
    words: Vec<Vec<u32>>,
}

fn add_token(tokens: &mut Vec<String>, ids: &mut FastMap<String, u32>, t: &str) -> u32 {
    if let Some(&id) = ids.get(t) {
        return id;
    }
    let id = tokens.len() as u32;
    tokens.push(t.to_string());
    ids.insert(t.to_string(), id);
    id
}

/// `variant_order`: the order in which to number the prefixed/suffixed variants (tests replay the order an HF run
/// used); `None` numbers them sorted by string.
fn initial(words: &[(String, u64)], cfg: &BpeConfig, variant_order: Option<&[&str]>) -> Initial {
    let mut tokens = Vec::new();
    let mut ids = FastMap::default();
    for s in &cfg.special_tokens {
        add_token(&mut tokens, &mut ids, s);
    }
    // The alphabet, sorted by code point (HF `compute_alphabet`).
    match cfg.alphabet {
        Alphabet::Chars => {
            let chars: BTreeSet<char> = words.iter().flat_map(|(w, _)| w.chars()).collect();
            for c in chars {
                add_token(&mut tokens, &mut ids, c.encode_utf8(&mut [0; 4]));
            }
        }
        Alphabet::Bytes => {
            let mut chars: Vec<char> = BYTE_TO_CHAR.to_vec();
            chars.sort_unstable();
            for c in chars {
                add_token(&mut tokens, &mut ids, c.encode_utf8(&mut [0; 4]));
            }
        }
    }
    let opts = SymbolOpts {
        alphabet: cfg.alphabet,
        prefix: cfg.continuing_subword_prefix.as_deref(),
        suffix: cfg.end_of_word_suffix.as_deref(),
    };
    // Prefixed / suffixed variants that occur, sorted by string (HF: hash order, see the module doc).
    if opts.prefix.is_some() || opts.suffix.is_some() {
        let mut variants: BTreeSet<String> = BTreeSet::new();
        for (w, _) in words {
            initial_symbols(w, &opts, |s| {
                if !ids.contains_key(s) && !variants.contains(s) {
                    variants.insert(s.to_string());
                }
            });
        }
        match variant_order {
            Some(order) => {
                for v in order {
                    assert!(variants.remove(*v), "{v:?} is not a variant of this corpus");
                    add_token(&mut tokens, &mut ids, v);
                }
                assert!(variants.is_empty(), "variants missing from the order: {variants:?}");
            }
            None => {
                for v in variants {
                    add_token(&mut tokens, &mut ids, &v);
                }
            }
        }
    }
    let words = words
        .iter()
        .map(|(w, _)| {
            let mut syms = Vec::with_capacity(w.len());
            initial_symbols(w, &opts, |s| syms.push(ids[s]));
            syms
        })
        .collect();
    Initial { tokens, ids, words }
}

/// Counts of the work a trainer did, for the lesson's cost comparison. "Pair updates" are hash-map updates of a
/// pair's count (the textbook trainer makes one per adjacent pair of every word per merge; the incremental one
/// about four per merged occurrence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrainWork {
    /// Merges made.
    pub merges: u64,
    /// Words visited (with repetition across merges).
    pub words_visited: u64,
    /// Symbols read while visiting those words.
    pub symbols_scanned: u64,
    /// Updates of a pair's count.
    pub pair_updates: u64,
    /// Heap pushes and pops (zero for the textbook trainer, which scans all counts for the maximum).
    pub heap_operations: u64,
    /// Symbols the textbook trainer scans for the same merges: before each merge it recounts every pair, reading
    /// every symbol of every distinct word (for the incremental trainer this is computed, not done, so the lesson
    /// can quote the ratio on corpora where the textbook loop would take too long).
    pub textbook_symbols: u64,
}

// ---------------------------------------------------------------------------------------------------------------
// The incremental trainer.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    count: u64,
    pair: u64,
    /// FirstSeen only: where the pair first occurs, `(word index << 32) | offset in initial symbols`; 0 otherwise.
    first: u64,
}

/// The order of candidate merges: higher count first, then the tie-break.
#[derive(Debug, Clone, Copy)]
struct Order<'a> {
    tie: TieBreak,
    tokens: &'a [String],
}

impl Order<'_> {
    /// Whether `x` should be merged before `y`.
    #[inline]
    fn before(&self, x: &Entry, y: &Entry) -> bool {
        if x.count != y.count {
            return x.count > y.count;
        }
        match self.tie {
            TieBreak::HuggingFace => x.pair < y.pair,
            TieBreak::FirstSeen => (x.first, x.pair) < (y.first, y.pair),
            TieBreak::Lexicographic => {
                let (xa, xb) = unpack(x.pair);
                let (ya, yb) = unpack(y.pair);
                let xs = (self.tokens[xa as usize].as_str(), self.tokens[xb as usize].as_str());
                let ys = (self.tokens[ya as usize].as_str(), self.tokens[yb as usize].as_str());
                xs < ys
            }
        }
    }
}

/// A binary max-heap over a flat vector with an explicit order (the order needs the token strings, so it cannot
/// be an `Ord` impl).
fn heap_push(heap: &mut Vec<Entry>, e: Entry, ord: &Order<'_>) {
    heap.push(e);
    let mut i = heap.len() - 1;
    while i > 0 {
        let parent = (i - 1) / 2;
        if ord.before(&heap[i], &heap[parent]) {
            heap.swap(i, parent);
            i = parent;
        } else {
            break;
        }
    }
}

fn heap_pop(heap: &mut Vec<Entry>, ord: &Order<'_>) -> Option<Entry> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let top = std::mem::replace(&mut heap[0], last);
    let n = heap.len();
    let mut i = 0;
    loop {
        let l = 2 * i + 1;
        if l >= n {
            break;
        }
        let r = l + 1;
        let c = if r < n && ord.before(&heap[r], &heap[l]) { r } else { l };
        if ord.before(&heap[c], &heap[i]) {
            heap.swap(c, i);
            i = c;
        } else {
            break;
        }
    }
    Some(top)
}

/// The efficient trainer: pair counts kept incrementally (pair → count, pair → words containing it) and a max-heap
/// with lazy deletion; each merge touches only the words containing the pair. Steppable for the widget.
#[derive(Debug, Clone)]
pub struct BpeTrainer {
    vocab_size: usize,
    min_frequency: u64,
    tie: TieBreak,
    options: BpeOptions,
    tokens: Vec<String>,
    ids: FastMap<String, u32>,
    /// Number of initial symbols in each token (FirstSeen's offsets).
    width: Vec<u32>,
    /// Every word's current symbols, flattened: word `w` is `syms[start[w]..start[w] + len[w]]`.
    syms: Vec<u32>,
    start: Vec<u32>,
    len: Vec<u32>,
    counts: Vec<u64>,
    pair_count: FastMap<u64, u64>,
    /// The words containing each pair (a superset: words that lost the pair stay until the pair is merged).
    pair_words: FastMap<u64, Vec<u32>>,
    heap: Vec<Entry>,
    merges: Vec<(u32, u32)>,
    corpus_tokens: u64,
    /// Σ over distinct words of their current number of symbols (what one textbook recount reads).
    live_symbols: u64,
    /// The merge number at which each word was last visited, to visit a word once per merge.
    visited: Vec<u32>,
    done: bool,
    work: TrainWork,
    fresh: Vec<u64>,
}

impl BpeTrainer {
    /// Splits every word into the alphabet and counts every adjacent pair once.
    pub fn new(words: &[(String, u64)], cfg: &BpeConfig) -> BpeTrainer {
        BpeTrainer::with_variant_order(words, cfg, None)
    }

    fn with_variant_order(words: &[(String, u64)], cfg: &BpeConfig, variant_order: Option<&[&str]>) -> BpeTrainer {
        let init = initial(words, cfg, variant_order);
        let total: usize = init.words.iter().map(Vec::len).sum();
        let mut syms = Vec::with_capacity(total);
        let mut start = Vec::with_capacity(words.len());
        let mut len = Vec::with_capacity(words.len());
        let counts: Vec<u64> = words.iter().map(|(_, c)| *c).collect();
        let mut corpus_tokens = 0u64;
        let mut pair_count: FastMap<u64, u64> = FastMap::default();
        let mut pair_words: FastMap<u64, Vec<u32>> = FastMap::default();
        let mut work = TrainWork::default();
        for (w, ws) in init.words.iter().enumerate() {
            start.push(syms.len() as u32);
            len.push(ws.len() as u32);
            syms.extend_from_slice(ws);
            let c = counts[w];
            corpus_tokens += c * ws.len() as u64;
            work.words_visited += 1;
            work.symbols_scanned += ws.len() as u64;
            if c == 0 {
                continue;
            }
            for pair in ws.windows(2) {
                let p = pack(pair[0], pair[1]);
                *pair_count.entry(p).or_insert(0) += c;
                let list = pair_words.entry(p).or_default();
                if list.last() != Some(&(w as u32)) {
                    list.push(w as u32);
                }
                work.pair_updates += 1;
            }
        }
        let mut t = BpeTrainer {
            vocab_size: cfg.vocab_size,
            min_frequency: cfg.min_frequency,
            tie: cfg.tie_break,
            options: BpeOptions {
                alphabet: cfg.alphabet,
                end_of_word_suffix: cfg.end_of_word_suffix.clone(),
                continuing_subword_prefix: cfg.continuing_subword_prefix.clone(),
                unk_token: None,
            },
            width: vec![1; init.tokens.len()],
            tokens: init.tokens,
            ids: init.ids,
            syms,
            start,
            len,
            counts,
            pair_count,
            pair_words,
            heap: Vec::new(),
            merges: Vec::new(),
            corpus_tokens,
            live_symbols: total as u64,
            visited: vec![u32::MAX; words.len()],
            done: false,
            work,
            fresh: Vec::new(),
        };
        let mut entries: Vec<Entry> = t
            .pair_count
            .iter()
            .map(|(&pair, &count)| Entry { count, pair, first: 0 })
            .collect();
        if t.tie == TieBreak::FirstSeen {
            for e in &mut entries {
                e.first = t.first_occurrence(e.pair);
            }
        }
        // Sorted so that the heap's layout does not depend on hash order (the order of pops never does).
        entries.sort_unstable_by_key(|e| e.pair);
        let ord = Order { tie: t.tie, tokens: &t.tokens };
        t.heap.reserve(entries.len());
        for e in entries {
            heap_push(&mut t.heap, e, &ord);
        }
        t.work.heap_operations += t.heap.len() as u64;
        t
    }

    /// Current vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// Total tokens of the weighted corpus at the current segmentation.
    pub fn corpus_tokens(&self) -> u64 {
        self.corpus_tokens
    }

    /// Current segmentation of word i (index into the sorted input) as token strings — for the widget.
    pub fn word_segmentation(&self, i: usize) -> Vec<&str> {
        let s = self.start[i] as usize;
        self.syms[s..s + self.len[i] as usize].iter().map(|&t| self.tokens[t as usize].as_str()).collect()
    }

    /// The work done so far (set-up included).
    pub fn work(&self) -> TrainWork {
        self.work
    }

    /// The pair to merge next (removed from the heap), or None when no pair is left.
    fn select(&mut self) -> Option<Entry> {
        loop {
            let ord = Order { tie: self.tie, tokens: &self.tokens };
            let top = heap_pop(&mut self.heap, &ord)?;
            self.work.heap_operations += 1;
            let cur = self.pair_count.get(&top.pair).copied().unwrap_or(0);
            if cur != top.count {
                if cur > 0 {
                    heap_push(&mut self.heap, Entry { count: cur, ..top }, &ord);
                    self.work.heap_operations += 1;
                }
                continue;
            }
            if self.tie == TieBreak::FirstSeen {
                // The stored first occurrence may have been merged away; like the count, it only ever gets worse
                // (later), so an entry whose count and first occurrence are both current is the true best.
                let first = self.first_occurrence(top.pair);
                if first != top.first {
                    let ord = Order { tie: self.tie, tokens: &self.tokens };
                    heap_push(&mut self.heap, Entry { first, ..top }, &ord);
                    self.work.heap_operations += 1;
                    continue;
                }
            }
            return Some(top);
        }
    }

    /// Where `pair` first occurs scanning the words in order: `(word index << 32) | offset`, the offset counted in
    /// initial symbols so that merges to its left do not move it.
    fn first_occurrence(&self, pair: u64) -> u64 {
        let (a, b) = unpack(pair);
        let mut best = u64::MAX;
        let Some(list) = self.pair_words.get(&pair) else { return best };
        for &w in list {
            if (u64::from(w) << 32) >= best {
                continue;
            }
            let s = self.start[w as usize] as usize;
            let syms = &self.syms[s..s + self.len[w as usize] as usize];
            let mut offset = 0u64;
            for i in 0..syms.len().saturating_sub(1) {
                if syms[i] == a && syms[i + 1] == b {
                    best = best.min((u64::from(w) << 32) | offset);
                    break;
                }
                offset += u64::from(self.width[syms[i] as usize]);
            }
        }
        best
    }

    /// Make the next merge; None when the vocabulary is full or no pair reaches min_frequency / count ≥ 1.
    pub fn step(&mut self) -> Option<MergeStep> {
        if self.done || self.tokens.len() >= self.vocab_size {
            self.done = true;
            return None;
        }
        let Some(best) = self.select() else {
            self.done = true;
            return None;
        };
        if best.count < 1 || best.count < self.min_frequency {
            self.done = true;
            return None;
        }
        let (a, b) = unpack(best.pair);
        let merged = merged_string(
            &self.tokens[a as usize],
            &self.tokens[b as usize],
            self.options.continuing_subword_prefix.as_deref(),
        );
        let x = add_token(&mut self.tokens, &mut self.ids, &merged);
        if x as usize == self.width.len() {
            self.width.push(self.width[a as usize] + self.width[b as usize]);
        }
        let step_no = self.merges.len() as u32;
        self.merges.push((a, b));
        self.work.merges += 1;
        self.work.textbook_symbols += self.live_symbols;

        let list = self.pair_words.remove(&best.pair).unwrap_or_default();
        self.fresh.clear();
        for &w in &list {
            let wi = w as usize;
            if self.visited[wi] == step_no {
                continue;
            }
            self.visited[wi] = step_no;
            self.merge_in_word(wi, a, b, x);
        }
        self.pair_count.remove(&best.pair);
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.sort_unstable();
        fresh.dedup();
        for &p in &fresh {
            let count = self.pair_count.get(&p).copied().unwrap_or(0);
            if count > 0 {
                let first = if self.tie == TieBreak::FirstSeen { self.first_occurrence(p) } else { 0 };
                let ord = Order { tie: self.tie, tokens: &self.tokens };
                heap_push(&mut self.heap, Entry { count, pair: p, first }, &ord);
                self.work.heap_operations += 1;
            }
        }
        self.fresh = fresh;
        Some(MergeStep {
            left: self.tokens[a as usize].clone(),
            right: self.tokens[b as usize].clone(),
            merged,
            count: best.count,
            vocab_size: self.tokens.len(),
            corpus_tokens: self.corpus_tokens,
        })
    }

    /// Replaces every occurrence of (a, b) in word `w` by `x`, left to right without overlap, and adjusts the
    /// counts of the neighbouring pairs (HF `Word::merge`): for an occurrence between `p` and `q`, `(p, a)` and
    /// `(b, q)` lose the word's count, `(p, x)` and `(x, q)` gain it. `p` is the symbol already written (so in
    /// `a b a b` the second occurrence sees `p = x`, and the `(x, a)` gained by the first is taken back).
    fn merge_in_word(&mut self, w: usize, a: u32, b: u32, x: u32) {
        let s = self.start[w] as usize;
        let n = self.len[w] as usize;
        let c = self.counts[w];
        self.work.words_visited += 1;
        self.work.symbols_scanned += n as u64;
        let mut r = 0;
        let mut o = 0;
        let mut occurrences = 0u64;
        while r < n {
            if r + 1 < n && self.syms[s + r] == a && self.syms[s + r + 1] == b {
                if o > 0 {
                    let p = self.syms[s + o - 1];
                    self.dec(pack(p, a), c);
                    self.inc(pack(p, x), c, w);
                }
                if r + 2 < n {
                    let q = self.syms[s + r + 2];
                    self.dec(pack(b, q), c);
                    self.inc(pack(x, q), c, w);
                }
                self.syms[s + o] = x;
                o += 1;
                r += 2;
                occurrences += 1;
            } else {
                self.syms[s + o] = self.syms[s + r];
                o += 1;
                r += 1;
            }
        }
        self.len[w] = o as u32;
        self.corpus_tokens -= c * occurrences;
        self.live_symbols -= occurrences;
    }

    #[inline]
    fn dec(&mut self, p: u64, c: u64) {
        self.work.pair_updates += 1;
        if let Some(n) = self.pair_count.get_mut(&p) {
            *n -= c;
        }
    }

    #[inline]
    fn inc(&mut self, p: u64, c: u64, w: usize) {
        self.work.pair_updates += 1;
        *self.pair_count.entry(p).or_insert(0) += c;
        let list = self.pair_words.entry(p).or_default();
        if list.last() != Some(&(w as u32)) {
            list.push(w as u32);
            self.fresh.push(p);
        }
    }

    /// The model trained so far.
    pub fn finish(self) -> Bpe {
        let merges: Vec<(String, String)> = self
            .merges
            .iter()
            .map(|&(a, b)| (self.tokens[a as usize].clone(), self.tokens[b as usize].clone()))
            .collect();
        let mut ranks = FastMap::default();
        for (rank, &(a, b)) in self.merges.iter().enumerate() {
            let (l, r) = &merges[rank];
            let m = self.ids[&merged_string(l, r, self.options.continuing_subword_prefix.as_deref())];
            ranks.insert(pack(a, b), (rank as u32, m));
        }
        Bpe { vocab: self.tokens, ids: self.ids, merges, ranks, options: self.options }
    }
}

/// Train to completion: (model, every merge step in order).
pub fn train(words: &[(String, u64)], cfg: &BpeConfig) -> (Bpe, Vec<MergeStep>) {
    let (bpe, steps, _) = train_with_work(words, cfg);
    (bpe, steps)
}

/// [`train`], also returning the work done.
pub fn train_with_work(words: &[(String, u64)], cfg: &BpeConfig) -> (Bpe, Vec<MergeStep>, TrainWork) {
    let mut t = BpeTrainer::new(words, cfg);
    let mut steps = Vec::new();
    while let Some(s) = t.step() {
        steps.push(s);
    }
    let work = t.work();
    (t.finish(), steps, work)
}

// ---------------------------------------------------------------------------------------------------------------
// The textbook trainer.

/// The textbook trainer (recount every pair after every merge), same output; the lesson's cost comparison.
pub fn train_naive(words: &[(String, u64)], cfg: &BpeConfig) -> (Bpe, Vec<MergeStep>) {
    let (bpe, steps, _) = train_naive_with_work(words, cfg);
    (bpe, steps)
}

/// [`train_naive`], also returning the work done.
pub fn train_naive_with_work(words: &[(String, u64)], cfg: &BpeConfig) -> (Bpe, Vec<MergeStep>, TrainWork) {
    naive(words, cfg, None)
}

fn naive(words: &[(String, u64)], cfg: &BpeConfig, variant_order: Option<&[&str]>) -> (Bpe, Vec<MergeStep>, TrainWork) {
    let Initial { mut tokens, mut ids, words: mut segs } = initial(words, cfg, variant_order);
    let counts: Vec<u64> = words.iter().map(|(_, c)| *c).collect();
    let prefix = cfg.continuing_subword_prefix.as_deref();
    let mut merges: Vec<(u32, u32)> = Vec::new();
    let mut steps = Vec::new();
    let mut work = TrainWork::default();
    while tokens.len() < cfg.vocab_size {
        // Recount: pair → (count, first-seen index).
        let mut stats: FastMap<u64, (u64, usize)> = FastMap::default();
        let mut recount = TrainWork::default();
        for (w, seg) in segs.iter().enumerate() {
            recount.words_visited += 1;
            recount.symbols_scanned += seg.len() as u64;
            if counts[w] == 0 {
                continue;
            }
            for pair in seg.windows(2) {
                recount.pair_updates += 1;
                let next = stats.len();
                stats.entry(pack(pair[0], pair[1])).or_insert((0, next)).0 += counts[w];
            }
        }
        let better = |x: (u64, u64, usize), y: (u64, u64, usize)| -> bool {
            if x.0 != y.0 {
                return x.0 > y.0;
            }
            match cfg.tie_break {
                TieBreak::HuggingFace => x.1 < y.1,
                TieBreak::FirstSeen => x.2 < y.2,
                TieBreak::Lexicographic => {
                    let (xa, xb) = unpack(x.1);
                    let (ya, yb) = unpack(y.1);
                    (tokens[xa as usize].as_str(), tokens[xb as usize].as_str())
                        < (tokens[ya as usize].as_str(), tokens[yb as usize].as_str())
                }
            }
        };
        let mut best: Option<(u64, u64, usize)> = None;
        for (&p, &(count, first)) in &stats {
            let cand = (count, p, first);
            if best.is_none_or(|b| better(cand, b)) {
                best = Some(cand);
            }
        }
        let Some((count, pair, _)) = best else { break };
        if count < 1 || count < cfg.min_frequency {
            break;
        }
        let (a, b) = unpack(pair);
        let merged = merged_string(&tokens[a as usize], &tokens[b as usize], prefix);
        let x = add_token(&mut tokens, &mut ids, &merged);
        merges.push((a, b));
        // The recount's work is charged to the merge it chose (a final recount that finds nothing is not).
        work.merges += 1;
        work.words_visited += recount.words_visited;
        work.symbols_scanned += recount.symbols_scanned;
        work.pair_updates += recount.pair_updates;
        work.textbook_symbols += recount.symbols_scanned;
        let mut corpus_tokens = 0u64;
        for (w, seg) in segs.iter_mut().enumerate() {
            let mut out = Vec::with_capacity(seg.len());
            let mut r = 0;
            while r < seg.len() {
                if r + 1 < seg.len() && seg[r] == a && seg[r + 1] == b {
                    out.push(x);
                    r += 2;
                } else {
                    out.push(seg[r]);
                    r += 1;
                }
            }
            *seg = out;
            corpus_tokens += counts[w] * seg.len() as u64;
        }
        steps.push(MergeStep {
            left: tokens[a as usize].clone(),
            right: tokens[b as usize].clone(),
            merged,
            count,
            vocab_size: tokens.len(),
            corpus_tokens,
        });
    }
    let merge_strings: Vec<(String, String)> =
        merges.iter().map(|&(a, b)| (tokens[a as usize].clone(), tokens[b as usize].clone())).collect();
    let options = BpeOptions {
        alphabet: cfg.alphabet,
        end_of_word_suffix: cfg.end_of_word_suffix.clone(),
        continuing_subword_prefix: cfg.continuing_subword_prefix.clone(),
        unk_token: None,
    };
    let bpe = Bpe::from_parts(tokens, merge_strings, options).expect("the trainer's merges are consistent");
    (bpe, steps, work)
}

#[cfg(test)]
#[path = "bpe_tests.rs"]
mod tests;

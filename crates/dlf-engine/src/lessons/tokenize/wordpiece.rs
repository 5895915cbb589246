//! WordPiece: a trainer that grows a vocabulary by merging adjacent symbols, and BERT's greedy
//! longest-match-first encoder (Schuster & Nakajima, "Japanese and Korean voice search", ICASSP 2012;
//! Wu et al., "Google's neural machine translation system", 2016; Devlin et al., "BERT", 2019).
//!
//! **Training.** Every word starts as its characters; every character after the first carries the
//! continuation prefix (`##`), so `"hug"` is `h ##u ##g`, and `h` and `##h` are different symbols. Each step
//! merges the adjacent pair with the best score into one new symbol (`h` + `##u` → `hu`, `##u` + `##g` → `##ug`):
//! - [`PairScore::Likelihood`]: `score(a, b) = count(ab) / (count(a)·count(b))`, counts weighted by word
//!   frequency in the current segmentation. Schuster & Nakajima (2012) state the criterion only in words — add
//!   the unit that most increases the training data's likelihood under the language model — and Google's
//!   trainer is not public; this formula is the one Hugging Face's course gives for WordPiece. Under a unigram
//!   model over N tokens it is `exp(PMI(a, b)) / N` with `PMI = log p(ab)/(p(a)p(b))`, the change in a text's
//!   log-probability when one `a b` becomes `ab`, so it ranks pairs by PMI: pairs whose parts rarely occur
//!   apart win even when rare (the corpus-level gain would be about `count(ab)·PMI`, which also weighs frequency).
//! - [`PairScore::Frequency`]: `score = count(ab)`, BPE's rule (Sennrich et al. 2016). This is what Hugging Face
//!   `tokenizers`' `WordPieceTrainer` does: it is its `BpeTrainer` with `continuing_subword_prefix = "##"`
//!   (tokenizers/src/models/wordpiece/trainer.rs), ties going to the pair of smaller token ids.
//!
//! Token ids are: the unknown token and the special tokens, then the alphabet sorted by code point, then the
//! `##`-prefixed characters in order of first appearance scanning the words in the given (sorted) order, then
//! the merged symbols in the order they were made. Hugging Face assigns the `##`-prefixed characters in hash-map
//! order, so its ids (and therefore its choice among *tied* pairs that involve them) change from run to run: on
//! the test corpus 12 HF runs gave one vocabulary at 50–70 tokens but 2–9 different ones at 80–300. Started
//! from the initial ids of an HF run ([`WordPieceTrainer::with_initial_vocab`]), the frequency trainer
//! reproduces that run's vocabulary id for id (tested at 60, 150 and 300 tokens); with our own id order it
//! gives the same set wherever HF's runs agree.
//!
//! **Encoding (BERT's `WordpieceTokenizer`, Hugging Face `models.WordPiece`).** For one pre-tokenised word:
//! starting at the first character, take the longest vocabulary entry that matches there (with the `##` prefix
//! unless at the start of the word), move past it and repeat. If at some position not even one character
//! matches, the *whole word* becomes the single unknown token `[UNK]` — not just the failing piece — and a
//! word longer than `max_input_chars_per_word` (100 in BERT) is `[UNK]` without trying. Greedy longest match
//! is not the segmentation with fewest pieces in general, and it never backtracks: with the vocabulary
//! `{a, ab, ##bc}` (no `##c`), `"abc"` takes `ab`, finds no piece for `##c`, and the whole word becomes
//! `[UNK]`, although `a ##bc` would have covered it.

use super::pretokenize::{pre_tokenize, PreTokenizer};
use std::collections::HashMap;

/// How the trainer scores a candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairScore {
    /// `count(ab) / (count(a)·count(b))` — the likelihood-gain rule of the original WordPiece (Schuster & Nakajima
    /// 2012), in the form Hugging Face's course gives.
    Likelihood,
    /// `count(ab)` — BPE's rule (what Hugging Face `WordPieceTrainer` actually does: its BPE trainer with the `##` prefix).
    Frequency,
}

impl PairScore {
    /// Both rules, likelihood first.
    pub const ALL: [PairScore; 2] = [PairScore::Likelihood, PairScore::Frequency];

    /// Short name: `"likelihood"` or `"frequency"`.
    pub fn name(self) -> &'static str {
        match self {
            PairScore::Likelihood => "likelihood",
            PairScore::Frequency => "frequency",
        }
    }
}

/// Training options.
#[derive(Debug, Clone, PartialEq)]
pub struct WordPieceConfig {
    /// Final vocabulary size, counting the unknown and special tokens, the alphabet and its `##` forms.
    pub vocab_size: usize,
    /// The pair-scoring rule.
    pub score: PairScore,
    /// Marks a piece that continues a word (`"##"` in BERT).
    pub continuing_subword_prefix: String,
    /// The unknown token (`"[UNK]"`); always given id 0 by the trainer.
    pub unk_token: String,
    /// Longer words encode as the unknown token (100 in BERT).
    pub max_input_chars_per_word: usize,
    /// Tokens given the ids after the unknown token (e.g. `[CLS]`, `[SEP]`), never produced by merges.
    pub special_tokens: Vec<String>,
}

impl Default for WordPieceConfig {
    fn default() -> Self {
        WordPieceConfig {
            vocab_size: 1000,
            score: PairScore::Likelihood,
            continuing_subword_prefix: "##".to_string(),
            unk_token: "[UNK]".to_string(),
            max_input_chars_per_word: 100,
            special_tokens: Vec::new(),
        }
    }
}

/// One merge as the trainer made it.
#[derive(Debug, Clone, PartialEq)]
pub struct WordPieceStep {
    /// Left symbol (as in the vocabulary, e.g. `"h"` or `"##u"`).
    pub left: String,
    /// Right symbol (always `##`-prefixed).
    pub right: String,
    /// The new symbol: left followed by right without its prefix.
    pub merged: String,
    /// The pair's score under the configured rule at the time of the merge.
    pub score: f64,
    /// Occurrences of the pair in the weighted corpus at the time of the merge.
    pub pair_count: u64,
    /// Vocabulary size after the merge (unchanged when the merged string was already a token).
    pub vocab_size: usize,
}

/// A WordPiece model: vocabulary, continuation prefix, unknown token, word-length limit.
#[derive(Debug, Clone, PartialEq)]
pub struct WordPiece {
    vocab: Vec<String>,
    ids: HashMap<String, u32>,
    prefix: String,
    unk: String,
    unk_id: u32,
    max_input_chars_per_word: usize,
}

impl WordPiece {
    /// A model from its vocabulary (id = index). The unknown token must be in it; entries must be distinct.
    pub fn from_vocab(
        vocab: Vec<String>,
        prefix: &str,
        unk: &str,
        max_input_chars_per_word: usize,
    ) -> Result<WordPiece, String> {
        let mut ids = HashMap::with_capacity(vocab.len());
        for (i, t) in vocab.iter().enumerate() {
            if t.is_empty() {
                return Err(format!("vocabulary entry {i} is empty"));
            }
            if ids.insert(t.clone(), i as u32).is_some() {
                return Err(format!("vocabulary entry {t:?} appears twice"));
            }
        }
        let unk_id = *ids
            .get(unk)
            .ok_or_else(|| format!("the unknown token {unk:?} is not in the vocabulary"))?;
        Ok(WordPiece {
            vocab,
            ids,
            prefix: prefix.to_string(),
            unk: unk.to_string(),
            unk_id,
            max_input_chars_per_word,
        })
    }

    /// Id → token.
    pub fn vocab(&self) -> &[String] {
        &self.vocab
    }

    /// Token → id.
    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        self.ids.get(t).copied()
    }

    /// The continuation prefix (`"##"`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The unknown token.
    pub fn unk_token(&self) -> &str {
        &self.unk
    }

    /// The unknown token's id.
    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    /// The word-length limit in characters.
    pub fn max_input_chars_per_word(&self) -> usize {
        self.max_input_chars_per_word
    }

    /// Greedy longest-match-first (BERT): `Ok(ids)` or, when some position matches no piece (or the word is
    /// too long), `Err(position in chars where matching failed)` (0 for a too-long word) — the caller then emits
    /// the single unk id for the whole word. The empty word is `Ok(vec![])`.
    pub fn encode_word(&self, word: &str) -> Result<Vec<u32>, usize> {
        // Byte offsets of every char boundary, so candidate ends move one character at a time.
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(word.len()))
            .collect();
        let n = bounds.len() - 1;
        if n > self.max_input_chars_per_word {
            return Err(0);
        }
        let mut out = Vec::new();
        let mut key = String::with_capacity(word.len() + self.prefix.len());
        let mut start = 0;
        while start < n {
            let mut found = None;
            let mut end = n;
            while end > start {
                key.clear();
                if start > 0 {
                    key.push_str(&self.prefix);
                }
                key.push_str(&word[bounds[start]..bounds[end]]);
                if let Some(&id) = self.ids.get(key.as_str()) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => return Err(start),
            }
        }
        Ok(out)
    }

    /// Pre-tokenise then encode; unmatched words become one unk id each (BERT/HF behaviour).
    pub fn encode(&self, text: &str, pre: PreTokenizer) -> Vec<u32> {
        let mut out = Vec::new();
        for w in pre_tokenize(text, pre) {
            match self.encode_word(&w) {
                Ok(ids) => out.extend(ids),
                Err(_) => out.push(self.unk_id),
            }
        }
        out
    }

    /// Joins the tokens: a continuation piece is glued to the previous one without its prefix, any other piece
    /// starts a new space-separated word (as BERT's `convert_tokens_to_string`). Unknown ids are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut s = String::new();
        for &id in ids {
            let Some(t) = self.vocab.get(id as usize) else {
                continue;
            };
            match t.strip_prefix(self.prefix.as_str()) {
                Some(rest) if !self.prefix.is_empty() => s.push_str(rest),
                _ => {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push_str(t);
                }
            }
        }
        s
    }
}

/// A symbol pair (left id, right id).
type Pair = (u32, u32);

/// A pair with its score `count / denom` (denom = count(a)·count(b) for the likelihood rule, 1 for frequency), as
/// it was when pushed on the heap. Ordered by score, then the smaller pair of ids first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    count: u64,
    denom: u128,
    pair: Pair,
}

impl Ord for Candidate {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // count·denom' vs count'·denom: below 2^64 · 2^64 counts of a real corpus never overflow u128.
        (self.count as u128 * o.denom)
            .cmp(&(o.count as u128 * self.denom))
            .then_with(|| o.pair.cmp(&self.pair))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// The steppable trainer: pair counts and symbol counts kept incrementally, candidates in a max-heap with lazy
/// deletion (an entry whose score is out of date is re-pushed with the current one when it surfaces), and each
/// merge re-segments only the words containing the chosen pair. A pair's score can only go *up* when its count
/// goes up or, under the likelihood rule, when the count of one of its symbols goes down — the merged pair's
/// two symbols — so exactly those pairs are re-pushed after a merge; every other entry can only overestimate,
/// which the check on popping corrects. The choice is therefore the exact argmax (ties: smaller ids).
#[derive(Debug, Clone)]
pub struct WordPieceTrainer {
    cfg: WordPieceConfig,
    vocab: Vec<String>,
    ids: HashMap<String, u32>,
    /// Each word as symbol ids, and its corpus count.
    words: Vec<Vec<u32>>,
    counts: Vec<u64>,
    /// Weighted occurrences of each adjacent pair; entries may fall to zero.
    pair_counts: HashMap<Pair, i64>,
    /// Words that contained each pair at some point (a superset; deduplicated when used).
    pair_words: HashMap<Pair, Vec<usize>>,
    /// Weighted occurrences of each symbol in the current segmentation.
    symbol_counts: Vec<i64>,
    /// Pairs each symbol has been part of (a superset).
    symbol_pairs: Vec<Vec<Pair>>,
    heap: std::collections::BinaryHeap<Candidate>,
    done: bool,
}

impl WordPieceTrainer {
    /// Starts from characters (see the module doc for the id order).
    pub fn new(words: &[(String, u64)], cfg: &WordPieceConfig) -> WordPieceTrainer {
        Self::with_initial_vocab(words, cfg, &[])
    }

    /// Starts from characters, giving the tokens of `initial` the first ids in that order (the rest follow in the
    /// usual order). Ties between pairs are broken by ids, so this reproduces a run of Hugging Face's trainer
    /// from the initial ids that run happened to assign (its `##` characters get hash-map order).
    pub fn with_initial_vocab(
        words: &[(String, u64)],
        cfg: &WordPieceConfig,
        initial: &[String],
    ) -> WordPieceTrainer {
        let mut vocab: Vec<String> = Vec::new();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let add = |t: &str, vocab: &mut Vec<String>, ids: &mut HashMap<String, u32>| -> u32 {
            if let Some(&id) = ids.get(t) {
                return id;
            }
            let id = vocab.len() as u32;
            vocab.push(t.to_string());
            ids.insert(t.to_string(), id);
            id
        };
        for t in initial {
            add(t, &mut vocab, &mut ids);
        }
        add(&cfg.unk_token, &mut vocab, &mut ids);
        for s in &cfg.special_tokens {
            add(s, &mut vocab, &mut ids);
        }
        let mut alphabet: Vec<char> = words.iter().flat_map(|(w, _)| w.chars()).collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        for c in alphabet {
            add(c.encode_utf8(&mut [0; 4]), &mut vocab, &mut ids);
        }
        let mut segs = Vec::with_capacity(words.len());
        let mut counts = Vec::with_capacity(words.len());
        let mut buf = String::new();
        for (w, c) in words {
            let mut seg = Vec::with_capacity(w.len());
            for (k, ch) in w.chars().enumerate() {
                buf.clear();
                if k > 0 {
                    buf.push_str(&cfg.continuing_subword_prefix);
                }
                buf.push(ch);
                seg.push(add(&buf, &mut vocab, &mut ids));
            }
            segs.push(seg);
            counts.push(*c);
        }
        let mut t = WordPieceTrainer {
            cfg: cfg.clone(),
            vocab,
            ids,
            words: segs,
            counts,
            pair_counts: HashMap::new(),
            pair_words: HashMap::new(),
            symbol_counts: Vec::new(),
            symbol_pairs: Vec::new(),
            heap: std::collections::BinaryHeap::new(),
            done: false,
        };
        t.symbol_counts = vec![0; t.vocab.len()];
        for (i, seg) in t.words.iter().enumerate() {
            let c = t.counts[i] as i64;
            for &s in seg {
                t.symbol_counts[s as usize] += c;
            }
            for p in seg.windows(2) {
                *t.pair_counts.entry((p[0], p[1])).or_insert(0) += c;
                t.pair_words.entry((p[0], p[1])).or_default().push(i);
            }
        }
        t.symbol_pairs = vec![Vec::new(); t.vocab.len()];
        let pairs: Vec<Pair> = t.pair_counts.keys().copied().collect();
        for p in pairs {
            t.symbol_pairs[p.0 as usize].push(p);
            if p.1 != p.0 {
                t.symbol_pairs[p.1 as usize].push(p);
            }
            t.push(p);
        }
        t
    }

    /// The pair's current candidate.
    fn candidate(&self, p: Pair) -> Candidate {
        let count = self.pair_counts.get(&p).copied().unwrap_or(0).max(0) as u64;
        let denom = match self.cfg.score {
            PairScore::Frequency => 1,
            PairScore::Likelihood => {
                self.symbol_counts[p.0 as usize] as u128 * self.symbol_counts[p.1 as usize] as u128
            }
        };
        Candidate {
            count,
            denom: denom.max(1),
            pair: p,
        }
    }

    /// Pushes the pair's current score if it occurs.
    fn push(&mut self, p: Pair) {
        let c = self.candidate(p);
        if c.count > 0 {
            self.heap.push(c);
        }
    }

    /// Current vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Total tokens of the weighted corpus in the current segmentation.
    pub fn corpus_tokens(&self) -> u64 {
        self.words
            .iter()
            .zip(&self.counts)
            .map(|(w, &c)| w.len() as u64 * c)
            .sum()
    }

    /// Current segmentation of word `i` (index into the input) as token strings.
    pub fn word_segmentation(&self, i: usize) -> Vec<&str> {
        self.words[i]
            .iter()
            .map(|&s| self.vocab[s as usize].as_str())
            .collect()
    }

    /// The best pair by scanning every pair (the test's reference for the heap).
    #[cfg(test)]
    fn best_by_scan(&self) -> Option<(Pair, i64)> {
        let mut best: Option<(Pair, i64)> = None;
        for (&p, &c) in &self.pair_counts {
            if c > 0 && best.is_none_or(|b| self.better((p, c), b)) {
                best = Some((p, c));
            }
        }
        best
    }

    /// `a` is better than `b` (higher score; on a tie, the smaller pair of ids, as Hugging Face).
    #[cfg(test)]
    fn better(&self, a: (Pair, i64), b: (Pair, i64)) -> bool {
        let ord = match self.cfg.score {
            PairScore::Frequency => a.1.cmp(&b.1),
            PairScore::Likelihood => {
                // Compare c_a/(x_a·y_a) with c_b/(x_b·y_b) exactly by cross-multiplication (all positive).
                let da = self.symbol_counts[a.0 .0 as usize] as u128
                    * self.symbol_counts[a.0 .1 as usize] as u128;
                let db = self.symbol_counts[b.0 .0 as usize] as u128
                    * self.symbol_counts[b.0 .1 as usize] as u128;
                (a.1 as u128 * db).cmp(&(b.1 as u128 * da))
            }
        };
        match ord {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => a.0 < b.0,
        }
    }

    fn score_of(&self, p: Pair, c: i64) -> f64 {
        match self.cfg.score {
            PairScore::Frequency => c as f64,
            PairScore::Likelihood => {
                c as f64
                    / (self.symbol_counts[p.0 as usize] as f64
                        * self.symbol_counts[p.1 as usize] as f64)
            }
        }
    }

    /// Makes the next merge; `None` when the vocabulary is full or no pair is left.
    pub fn step(&mut self) -> Option<WordPieceStep> {
        if self.done || self.vocab.len() >= self.cfg.vocab_size {
            self.done = true;
            return None;
        }
        let (pair, count) = loop {
            let Some(top) = self.heap.pop() else {
                self.done = true;
                return None;
            };
            let cur = self.candidate(top.pair);
            if cur.count == 0 {
                continue;
            }
            if cur != top {
                self.heap.push(cur);
                continue;
            }
            break (top.pair, top.count as i64);
        };
        let score = self.score_of(pair, count);
        let left = self.vocab[pair.0 as usize].clone();
        let right = self.vocab[pair.1 as usize].clone();
        let right_bare = right
            .strip_prefix(self.cfg.continuing_subword_prefix.as_str())
            .unwrap_or(&right);
        let merged = format!("{left}{right_bare}");
        let new_id = match self.ids.get(&merged) {
            Some(&id) => id,
            None => {
                let id = self.vocab.len() as u32;
                self.vocab.push(merged.clone());
                self.ids.insert(merged.clone(), id);
                self.symbol_counts.push(0);
                self.symbol_pairs.push(Vec::new());
                id
            }
        };
        let mut list = self.pair_words.remove(&pair).unwrap_or_default();
        list.sort_unstable();
        list.dedup();
        let mut touched: Vec<Pair> = Vec::new();
        for &i in &list {
            if self.merge_in_word(i, pair, new_id) {
                touched.extend(self.words[i].windows(2).map(|w| (w[0], w[1])));
            }
        }
        if self.cfg.score == PairScore::Likelihood {
            // count(a) and count(b) fell, so every pair containing a or b scores higher now.
            for s in [pair.0, pair.1] {
                touched.extend(self.symbol_pairs[s as usize].iter().copied());
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for p in touched {
            self.push(p);
        }
        // Keep the heap within a small multiple of the live pairs.
        if self.heap.len() > 4 * self.pair_counts.len() + 1024 {
            self.pair_counts.retain(|_, c| *c > 0);
            let pairs: Vec<Pair> = self.pair_counts.keys().copied().collect();
            self.heap.clear();
            for p in pairs {
                self.push(p);
            }
        }
        Some(WordPieceStep {
            left,
            right,
            merged,
            score,
            pair_count: count as u64,
            vocab_size: self.vocab.len(),
        })
    }

    /// Replaces every non-overlapping occurrence of `pair` in word `i`, left to right, updating the counts;
    /// false when the word does not contain the pair.
    fn merge_in_word(&mut self, i: usize, pair: Pair, new_id: u32) -> bool {
        let c = self.counts[i] as i64;
        let old = std::mem::take(&mut self.words[i]);
        if !old.windows(2).any(|w| (w[0], w[1]) == pair) {
            self.words[i] = old;
            return false;
        }
        for w in old.windows(2) {
            *self.pair_counts.entry((w[0], w[1])).or_insert(0) -= c;
        }
        let mut new = Vec::with_capacity(old.len());
        let mut k = 0;
        while k < old.len() {
            if k + 1 < old.len() && (old[k], old[k + 1]) == pair {
                new.push(new_id);
                self.symbol_counts[pair.0 as usize] -= c;
                self.symbol_counts[pair.1 as usize] -= c;
                self.symbol_counts[new_id as usize] += c;
                k += 2;
            } else {
                new.push(old[k]);
                k += 1;
            }
        }
        for w in new.windows(2) {
            let p = (w[0], w[1]);
            let e = self.pair_counts.entry(p).or_insert_with(|| {
                self.symbol_pairs[p.0 as usize].push(p);
                if p.1 != p.0 {
                    self.symbol_pairs[p.1 as usize].push(p);
                }
                0
            });
            *e += c;
            if p != pair {
                self.pair_words.entry(p).or_default().push(i);
            }
        }
        if new.windows(2).any(|w| (w[0], w[1]) == pair) {
            self.pair_words.entry(pair).or_default().push(i);
        }
        self.words[i] = new;
        true
    }

    /// The model with the current vocabulary.
    pub fn model(&self) -> WordPiece {
        WordPiece::from_vocab(
            self.vocab.clone(),
            &self.cfg.continuing_subword_prefix,
            &self.cfg.unk_token,
            self.cfg.max_input_chars_per_word,
        )
        .expect("the trainer's vocabulary holds the unknown token and distinct entries")
    }

    /// The trained model.
    pub fn finish(self) -> WordPiece {
        self.model()
    }
}

/// Train to completion: (model, every merge step in order).
pub fn train(words: &[(String, u64)], cfg: &WordPieceConfig) -> (WordPiece, Vec<WordPieceStep>) {
    let mut t = WordPieceTrainer::new(words, cfg);
    let mut steps = Vec::new();
    while let Some(s) = t.step() {
        steps.push(s);
    }
    (t.finish(), steps)
}

/// A small corpus written for these tests (40 lines of plain English, 2,794 bytes), shared with unigram.rs.
#[cfg(test)]
pub(crate) const TEST_CORPUS: &str = "\
the cat sat on the mat and the dog sat on the log.\n\
a tokenizer cuts text into pieces, and the pieces become the tokens a model reads.\n\
the lower the loss, the better the model predicts the next token.\n\
reading and writing are the two halves of learning to think clearly.\n\
the farmer planted seeds in the spring and harvested wheat in the autumn.\n\
she walked to the market, bought bread and cheese, and walked home slowly.\n\
unhappiness and happiness share a root, and so do kindness and unkindness.\n\
the runner was running faster than the other runners in the running club.\n\
players played the game while the older player watched the playing field.\n\
the teacher teaches, the learner learns, and the reader reads the readings.\n\
rethinking the thinking of thinkers is what the thoughtful thinker does.\n\
international nationals and the nation's national anthem were played loudly.\n\
the quick brown fox jumps over the lazy dog, and the lazy dog sleeps.\n\
jumping, jumped, jumps and jumper all begin with the same four letters.\n\
a lower learning rate makes training slower but often more stable.\n\
the walker walked, the talker talked, and the worker worked all week.\n\
the workers were working on the new works of the old workshop.\n\
small models learn quickly, larger models learn slowly but learn more.\n\
the sun rises in the east and sets in the west every single day.\n\
the rain in the plain falls mainly on the plains and the mountains.\n\
the baker bakes bread in the bakery, and the bakers sell the baked bread.\n\
the singer sang a song, the singers sang songs, and everyone was singing.\n\
the printer printed the prints, and the reprinted print looked better.\n\
the cook cooked, the cooks were cooking, and the cookbook was open.\n\
the painter painted the painting, and the painted walls were bright.\n\
the builder built the building, and the builders were building more.\n\
the swimmer swam, the swimmers were swimming, and the pool was cold.\n\
the driver drove, the drivers were driving, and the road was long.\n\
the speaker spoke, the speakers were speaking, and the hall was quiet.\n\
the dreamer dreamed, the dreamers were dreaming, and the night was deep.\n\
the hunter hunted, the hunters were hunting, and the forest was dark.\n\
the helper helped, the helpers were helping, and the work was done.\n\
the player replayed the replay, and the replayed game was the best one.\n\
the undoing of the undone work was done by the doer who did it.\n\
the teachers taught the students, and the students taught each other.\n\
the learners learned the lessons, and the lessons were learned well.\n\
the readers read the books, and the books were read again and again.\n\
the thinkers thought the thoughts, and the thoughts were thought through.\n\
the makers made the things, and the things were made to last.\n\
the takers took the cakes, and the cakes were taken home.\n\
";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Word counts of the test corpus split on whitespace (HF `pre_tokenizers.WhitespaceSplit`), sorted.
    pub(crate) fn whitespace_words(text: &str) -> Vec<(String, u64)> {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for w in text.split_whitespace() {
            *m.entry(w.to_string()).or_insert(0) += 1;
        }
        m.into_iter().collect()
    }

    // The Hugging Face side (tokenizers 0.23.3, venv /work/venv-tok), corpus.txt = TEST_CORPUS:
    // # Reference for crates/dlf-engine/src/lessons/tokenize/wordpiece.rs tests (tokenizers 0.23.3).
    // import json
    // from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    // lines = open("corpus.txt").read().splitlines()
    // def train(vs):
    //     tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    //     tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    //     tr = trainers.WordPieceTrainer(vocab_size=vs, special_tokens=["[UNK]"], show_progress=False)
    //     tok.train_from_iterator(lines, tr)
    //     v = tok.get_vocab()
    //     return sorted(v, key=v.get)
    // out = {"vocab": {vs: " ".join(train(vs)) for vs in [60, 150, 300]}}
    // # Encoder: the 150-token vocabulary, max_input_chars_per_word = 12.
    // vocab = out["vocab"][150].split(" ")
    // wp = models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]", max_input_chars_per_word=12)
    // words = ("the thinker rethinking unthinkable players replayed zebra quiz xylophone jumped walked talkers "
    //          "baked bakery cooking cookbooks happiness unkindness naïve café tokenizers national internationally "
    //          "a b c x . , the. dog, helpers. antidisestablishment singers songbird overplayed learning slower "
    //          "workshop printed reprinted painting swimmer swimmers qq théâtre 123 tea-time").split()
    // out["encode_vocab"] = 150
    // out["words"] = [[w, [t.id for t in wp.tokenize(w)]] for w in words]
    // print(json.dumps(out))

    // Generated by /work/tok-unigram-ref/wp_ref.py (below, in the tests).
    const HF_VOCAB_60: &str = "[UNK] ' , . a b c d e f g h i j k l m n o p q r s t u v w x y z ##o ##r ##e ##. ##a ##c ##h ##s ##g ##, ##n ##k ##i ##z ##m ##d ##w ##l ##y ##t ##u ##b ##x ##p ##v ##f ##' th the ##er";
    const HF_VOCAB_150: &str = "[UNK] ' , . a b c d e f g h i j k l m n o p q r s t u v w x y z ##a ##k ##e ##s ##, ##r ##i ##t ##n ##g ##u ##m ##. ##o ##h ##l ##b ##p ##d ##f ##v ##y ##z ##c ##w ##x ##' th the ##er ##in ##nd and ##ea ##ing ##ed ##es ##ers wa wer were ##ok ##on ##ain ##or ##ak ##el ##nt ##gh ##ear ##ead was lear ##at ##ay ##ou ##ook ##ing, ##ght learn pl ##al ##s, dr read wor ##ui work in ##et ##ld ##ed, do ##ar ##en ##e. ##ep ##um ##ow ##ly ##ink ##ess ##ought play br bak bui cook jum on of pr sp ##ter ##ted ##un ##me ##ch think thought wal jump hu hel mo pain rep run sl sw sing wh ##s. ##ion ##ut ##de ##del ##ver ##eam ##ation";
    const HF_VOCAB_300: &str = "[UNK] ' , . a b c d e f g h i j k l m n o p q r s t u v w x y z ##e ##a ##r ##n ##t ##s ##i ##g ##h ##d ##. ##k ##o ##, ##m ##l ##p ##u ##y ##c ##w ##v ##x ##z ##b ##f ##' th the ##er ##in ##nd and ##ea ##ing ##ed ##es ##ers wa wer were ##ok ##on ##ain ##or ##el ##ak ##nt ##gh ##ear ##ead was lear ##at ##ay ##ou ##ook ##ing, ##ght learn pl ##al ##s, dr read wor ##ui work in ##et ##ld ##ed, do ##en ##e. ##ep ##ar ##ow ##ly ##um ##ink ##ess ##ought play br bak bui cook jum on of pr sp ##ter ##ted ##me ##un ##ch think thought wal jump hu hel mo pain rep run sl sw sing wh ##s. ##ion ##de ##del ##ut ##ver ##eam ##ation dream build prin walk hunt help model runn la mor nation qui sa st to tea tok ##e, ##ec ##th ##im ##he ##lay ##eak ##est ##es, ##one ##ong ##all dri dog ##ower ##ly. bread speak replay swim teach token swimm ag al book bet but cl cak ea ever ga ho int lo less lower ma mak ne old oth pi ro sat song ta tak tal un und ##eep ##ap ##ng ##ness ##t. ##ight ##dness ##k. ##le ##pin ##ught ##ude ##ck ##ves ##xt ##zy thing ##indness ##ell learning learned plain reading works player played baker thinkers jumps painted slow print walked models running lazy more. national quick sang stude driv replayed again all better every game lesson made other piec taught talk ##appin student ##appiness ar ant aut be by bought bec best co cat cut che di don day dar done deep fa fi fo for fou far";
    const HF_ENCODED: &[(&str, &[u32])] = &[
        ("the", &[58]),
        ("thinker", &[128, 59]),
        ("rethinking", &[21, 99, 44, 110, 64]),
        ("unthinkable", &[24, 77, 44, 110, 30, 46, 45, 32]),
        ("players", &[113, 67]),
        ("replayed", &[136, 45, 84, 65]),
        ("zebra", &[29, 32, 46, 35, 30]),
        ("quiz", &[20, 96, 52]),
        ("xylophone", &[27, 51, 45, 43, 47, 44, 72, 32]),
        ("jumped", &[131, 65]),
        ("walked", &[130, 31, 65]),
        ("talkers", &[23, 91, 31, 67]),
        ("baked", &[115, 65]),
        ("bakery", &[115, 59, 51]),
        ("cooking", &[117, 64]),
        ("cookbooks", &[117, 46, 86, 33]),
        ("happiness", &[11, 30, 47, 47, 60, 111]),
        ("unkindness", &[24, 38, 31, 60, 48, 38, 111]),
        ("naïve", &[0]),
        ("café", &[0]),
        ("tokenizers", &[23, 71, 104, 36, 52, 67]),
        ("national", &[17, 149, 91]),
        ("internationally", &[0]),
        ("a", &[4]),
        ("b", &[5]),
        ("c", &[6]),
        ("x", &[27]),
        (".", &[3]),
        (",", &[2]),
        ("the.", &[58, 42]),
        ("dog,", &[102, 39, 34]),
        ("helpers.", &[133, 47, 67, 42]),
        ("antidisestablishment", &[0]),
        ("singers", &[140, 67]),
        ("songbird", &[22, 72, 39, 46, 36, 35, 48]),
        ("overplayed", &[18, 147, 47, 45, 84, 65]),
        ("learning", &[89, 64]),
        ("slower", &[138, 108, 59]),
        ("workshop", &[97, 33, 44, 43, 47]),
        ("printed", &[121, 60, 124]),
        ("reprinted", &[136, 35, 60, 124]),
        ("painting", &[135, 37, 64]),
        ("swimmer", &[139, 36, 41, 126, 35]),
        ("swimmers", &[139, 36, 41, 126, 35, 33]),
        ("qq", &[0]),
        ("théâtre", &[0]),
        ("123", &[0]),
        ("tea-time", &[0]),
    ];

    fn hf(v: &str) -> Vec<String> {
        v.split(' ').map(str::to_string).collect()
    }

    /// Length of HF's initial vocabulary: [UNK], the alphabet, the `##` characters (before the first merge).
    fn initial_len(v: &[String]) -> usize {
        v.iter()
            .take_while(|t| t.as_str() == "[UNK]" || t.trim_start_matches("##").chars().count() == 1)
            .count()
    }

    fn frequency_cfg(vocab_size: usize) -> WordPieceConfig {
        WordPieceConfig {
            vocab_size,
            score: PairScore::Frequency,
            ..WordPieceConfig::default()
        }
    }

    #[test]
    fn frequency_trainer_reproduces_hugging_face_ids_given_its_initial_ids() {
        // HF's `##` characters get hash-map ids, so its tie-breaks (and vocabulary) vary between runs; starting
        // from the initial ids of the run above, every later id must be the same token.
        let words = whitespace_words(TEST_CORPUS);
        for (size, v) in [(60, HF_VOCAB_60), (150, HF_VOCAB_150), (300, HF_VOCAB_300)] {
            let v = hf(v);
            let k = initial_len(&v);
            let t = WordPieceTrainer::with_initial_vocab(&words, &frequency_cfg(size), &v[..k]);
            let mut t = t;
            while t.step().is_some() {}
            assert_eq!(t.finish().vocab(), &v[..], "vocab_size {size}");
        }
    }

    #[test]
    fn frequency_trainer_matches_hugging_face_where_its_runs_agree() {
        // At 60 tokens 16 HF runs gave one and the same vocabulary (no decisive tie involves a `##` character);
        // our default id order (`##` characters by first appearance) must give that set.
        let words = whitespace_words(TEST_CORPUS);
        let (m, _) = train(&words, &frequency_cfg(60));
        let mut ours: Vec<String> = m.vocab().to_vec();
        let mut theirs = hf(HF_VOCAB_60);
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn encoder_matches_hugging_face_word_by_word() {
        let v = hf(HF_VOCAB_150);
        let wp = WordPiece::from_vocab(v, "##", "[UNK]", 12).unwrap();
        let mut unk = 0;
        for (w, ids) in HF_ENCODED {
            let ours = match wp.encode_word(w) {
                Ok(ids) => ids,
                Err(_) => {
                    unk += 1;
                    vec![wp.unk_id()]
                }
            };
            assert_eq!(&ours[..], *ids, "{w}");
        }
        // The list exercises the unknown path: unseen letters (z, q, x, accents, digits) and a word over 12 chars.
        assert!(unk >= 8, "{unk} unknown words");
    }

    #[test]
    fn greedy_longest_match_fails_where_another_split_exists() {
        let v = ["[UNK]", "a", "ab", "##bc"].map(str::to_string).to_vec();
        let wp = WordPiece::from_vocab(v, "##", "[UNK]", 100).unwrap();
        // "ab" is taken first, then "##c" is missing at char 2, so the whole word is unknown, though a ##bc exists.
        assert_eq!(wp.encode_word("abc"), Err(2));
        assert_eq!(wp.encode_word("a"), Ok(vec![1]));
        assert_eq!(wp.decode(&[2, 1, 3]), "ab abc");
    }

    #[test]
    fn likelihood_prefers_pairs_whose_parts_rarely_occur_apart() {
        // "th" is frequent but t and h occur elsewhere; "qz" is rare but q and z only occur together.
        let words: Vec<(String, u64)> = vec![
            ("qz".into(), 2),
            ("that".into(), 10),
            ("the".into(), 10),
            ("tot".into(), 10),
            ("hoh".into(), 10),
        ];
        let cfg = WordPieceConfig {
            vocab_size: 100,
            ..WordPieceConfig::default()
        };
        let mut t = WordPieceTrainer::new(&words, &cfg);
        let first = t.step().unwrap();
        assert_eq!((first.merged.as_str(), first.pair_count), ("qz", 2));
        assert!((first.score - 0.5).abs() < 1e-15, "2 / (2·2)");
        let mut f = WordPieceTrainer::new(&words, &frequency_cfg(100));
        // Frequency: the most frequent pair; ties between ##h+##o... are broken by smaller ids.
        assert_eq!(f.step().unwrap().pair_count, 20);
    }

    #[test]
    fn heap_choice_equals_a_full_scan_at_every_step() {
        let words = whitespace_words(TEST_CORPUS);
        for score in PairScore::ALL {
            let cfg = WordPieceConfig {
                vocab_size: 400,
                score,
                ..WordPieceConfig::default()
            };
            let mut t = WordPieceTrainer::new(&words, &cfg);
            let mut n = 0;
            loop {
                let scan = t.best_by_scan();
                match t.step() {
                    Some(s) => {
                        let (p, c) = scan.unwrap();
                        assert_eq!((s.left.as_str(), s.right.as_str()), (t.vocab[p.0 as usize].as_str(), t.vocab[p.1 as usize].as_str()));
                        assert_eq!(s.pair_count, c as u64);
                        n += 1;
                    }
                    None => break,
                }
            }
            assert!(n > 200, "{n} merges");
        }
    }

    #[test]
    fn degenerate_corpora_train_without_panicking() {
        let (m, steps) = train(&[], &WordPieceConfig::default());
        assert_eq!((m.vocab().len(), steps.len()), (1, 0));
        assert_eq!(m.encode_word("abc"), Err(0));
        assert_eq!(m.encode_word(""), Ok(vec![]));
        let (m, _) = train(&[("aaaa".to_string(), 5)], &frequency_cfg(10));
        // a ##a, then a+##a → aa, ##a+##a → ##aa: aa ##aa is the word.
        assert_eq!(m.encode_word("aaaa").unwrap().len(), 1, "{:?}", m.vocab());
    }

    #[test]
    fn steps_account_for_vocabulary_and_counts() {
        let words = whitespace_words(TEST_CORPUS);
        for score in PairScore::ALL {
            let cfg = WordPieceConfig {
                vocab_size: 200,
                score,
                ..WordPieceConfig::default()
            };
            let mut t = WordPieceTrainer::new(&words, &cfg);
            let text: String = words.iter().map(|w| w.0.as_str()).collect();
            let mut prev = t.corpus_tokens();
            while let Some(s) = t.step() {
                let now = t.corpus_tokens();
                assert_eq!(prev - now, s.pair_count, "each merge removes one token per occurrence");
                prev = now;
                assert_eq!(s.vocab_size, t.vocab_size());
            }
            assert_eq!(t.vocab_size(), 200);
            // Every word still spells itself.
            let m = t.model();
            for (i, (w, _)) in words.iter().enumerate() {
                let seg: String = t.word_segmentation(i).iter().map(|p| p.trim_start_matches("##")).collect();
                assert_eq!(&seg, w);
                let ids = m.encode_word(w).unwrap();
                assert_eq!(m.decode(&ids), *w);
            }
            assert!(!text.is_empty());
        }
    }
}

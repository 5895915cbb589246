//! The Unigram language model tokenizer (Kudo, "Subword regularization", ACL 2018), as in SentencePiece
//! (Kudo & Richardson, EMNLP 2018 demo) and Hugging Face `tokenizers.models.Unigram`.
//!
//! **Model.** A vocabulary of pieces `x` with log probabilities `log p(x)`; a segmentation `s = (x₁ … x_k)` of a
//! text has probability `P(s) = Π p(xᵢ)` (pieces independent). All segmentations of a text form a *lattice*: one
//! node per vocabulary piece matching at a character span, a path from position 0 to the end per segmentation.
//! - Encoding is the most probable path, found by Viterbi in O(nodes): `best[end] = max best[start] + log p`.
//! - The forward algorithm gives `log Z = log Σ_s P(s)` with log-sum-exp in place of max; the backward pass gives
//!   `β`, and a node's marginal (its probability of lying on the path) is `exp(α[start] + log p + β[end] − log Z)`.
//!   Summed over the corpus these are the E-step's expected piece counts.
//! - Subword regularisation samples `s` with probability `∝ P(s)^α` (SentencePiece's `alpha`): forward-filter
//!   with scores `α·log p`, then walk back from the end choosing each incoming node with probability
//!   `exp(fwd[start] + α·log p − fwd[end])` (forward-filtering backward-sampling), exact in O(nodes).
//!
//! **Unknown characters.** A position where no single-character piece matches gets an unknown node with score
//! `min_score − 10` (SentencePiece's and Hugging Face's `kUnkPenalty`), so every text has a path. In the output,
//! runs of consecutive unknown nodes become one unknown id (both libraries fuse them); with byte fallback each
//! unknown character becomes the `<0xNN>` pieces of its UTF-8 bytes instead, as SentencePiece does when
//! `byte_fallback=true`.
//!
//! **Training** ([`UnigramTrainer`]) follows SentencePiece's `unigram_model_trainer.cc`:
//! 1. *Seeds*: every character (score = its count) plus the `seed_size` most frequent substrings by
//!    `count × length` (SentencePiece's "character coverage" score). SentencePiece finds them with a suffix
//!    array over the whole corpus (Yamamoto & Church's esaxx), keeping the substrings that are internal nodes of
//!    the suffix tree: they occur ≥ 2 times and are followed by ≥ 2 different characters. Here the count is exact
//!    over the word list (weighted by word count) with the same filter, a word end counting as one follower (in
//!    SentencePiece's text a word is followed by the next word's `▁`). So `▁the` is *not* a seed when every `▁the`
//!    is a whole word — spm behaves the same way, which is why small spm models split `▁` + `the`. Pieces are at
//!    most `max_piece_length` characters, have `▁` only first, and never mix letters with non-letters (a coarse
//!    stand-in for SentencePiece's one-Unicode-script-per-piece rule, exact for ASCII text). On the test corpus
//!    this gives spm's 623 seeds and its first two EM objectives (10.9488, 9.6633 nats per word) to 5 digits.
//!    Scores are then normalised to log probabilities.
//! 2. *EM* (`em_iterations` sub-iterations per round). E-step: expected count `c(x)` of each piece = Σ over words
//!    of count × marginal. M-step: pieces with `c(x) < 0.5` are dropped, and
//!    `log p(x) = ψ(c(x)) − ψ(Σ_y c(y))`, with ψ the digamma function, instead of the maximum-likelihood
//!    `log c(x) − log Σ c(y)`. This is the variational-Bayes EM for a multinomial under a Dirichlet prior with
//!    tiny concentration (Liang & Klein's "DP-ified EM", NAACL 2007 tutorial; Beal 2003): since
//!    `ψ(c) ≈ log(c − ½)`, it subtracts about half a count from every piece, which acts as a sparse prior that
//!    pushes rare pieces toward zero so that pruning removes them.
//! 3. *Pruning*. For each piece, its best alternative: the second-best segmentation of the piece's own string
//!    (a piece whose best segmentation is already split is removed; one with no alternative, e.g. a single
//!    character, is kept). Then with Viterbi counts `f(x)` over the corpus, the loss of removing `x` is
//!    `F(x) · (log p(x) − Σ_{y ∈ alt(x)} log p'(y))` where `F(x)` is the share of words (weighted) whose Viterbi
//!    path uses `x` (per use), and `p'` are the Viterbi-count probabilities after `x`'s count moves to its
//!    alternative pieces. Pieces with zero Viterbi count go; the rest are kept by decreasing loss down to
//!    `max(1.1·vocab_size, shrinking_factor × current size)`.
//! 4. Rounds repeat until the size is ≤ 1.1·vocab_size; then the final vocabulary is every character (those
//!    pruned earlier come back with score `min_score + 0.0001·k`, k counting them in order of frequency) and the
//!    highest-scoring pieces, up to `vocab_size` counting the unknown and special tokens.
//!
//! Ids: the unknown token (0), the special tokens, then the pieces by decreasing score (ties by the piece's
//! bytes), as SentencePiece orders its model after the `<unk>`, `<s>`, `</s>` meta pieces.

use super::pretokenize::{pre_tokenize, PreTokenizer};
use crate::math;
use crate::rng::Rng;
use std::collections::HashMap;

/// SentencePiece's and Hugging Face's penalty of an unknown node below the lowest piece score.
pub const UNK_PENALTY: f64 = 10.0;

/// The piece SentencePiece uses for byte `b` under byte fallback: `<0x41>` for `b'A'`.
pub fn byte_piece(b: u8) -> String {
    format!("<0x{b:02X}>")
}

/// The byte of a `<0xNN>` piece.
fn parse_byte_piece(s: &str) -> Option<u8> {
    let hex = s.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

/// `log(e^a + e^b)` without overflow; `-inf` is the identity.
fn log_add_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + math::ln_1p(math::exp(lo - hi))
}

/// A Unigram model.
#[derive(Debug, Clone, PartialEq)]
pub struct Unigram {
    pieces: Vec<(String, f64)>,
    ids: HashMap<String, u32>,
    unk_id: Option<u32>,
    byte_fallback: bool,
    /// Lowest piece score (over every entry, as Hugging Face).
    min_score: f64,
    /// Id of `<0xNN>` for each byte, when present.
    byte_ids: Vec<Option<u32>>,
    /// Character trie of the pieces a lattice may use (SentencePiece and HF match with a trie as well).
    trie: Vec<TrieNode>,
}

/// One trie node: children sorted by character, and the piece ending here.
#[derive(Debug, Clone, PartialEq, Default)]
struct TrieNode {
    children: Vec<(char, u32)>,
    piece: Option<u32>,
}

/// A lattice node in the working form the algorithms use.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    start: usize,
    end: usize,
    id: u32,
    score: f64,
    unk: bool,
}

impl Unigram {
    /// Pieces with their log probabilities (as in SentencePiece's model / HF tokenizer.json "Unigram.vocab"),
    /// the unk id, and whether unknown characters fall back to `<0xNN>` byte pieces.
    pub fn new(
        pieces: Vec<(String, f64)>,
        unk_id: Option<u32>,
        byte_fallback: bool,
    ) -> Result<Unigram, String> {
        if pieces.is_empty() {
            return Err("the vocabulary is empty".to_string());
        }
        if let Some(u) = unk_id {
            if u as usize >= pieces.len() {
                return Err(format!(
                    "unk id {u} is outside the vocabulary of {} pieces",
                    pieces.len()
                ));
            }
        }
        let mut ids = HashMap::with_capacity(pieces.len());
        let mut min_score = f64::INFINITY;
        let mut byte_ids = vec![None; 256];
        for (i, (p, s)) in pieces.iter().enumerate() {
            if p.is_empty() {
                return Err(format!("piece {i} is empty"));
            }
            if !s.is_finite() {
                return Err(format!("piece {p:?} has a non-finite score {s}"));
            }
            if ids.insert(p.clone(), i as u32).is_some() {
                return Err(format!("piece {p:?} appears twice"));
            }
            min_score = min_score.min(*s);
            if let Some(b) = parse_byte_piece(p) {
                byte_ids[b as usize] = Some(i as u32);
            }
        }
        // The unknown token, and byte pieces under byte fallback, are never matched against text (SentencePiece
        // keeps them out of its trie).
        let mut trie = vec![TrieNode::default()];
        for (i, (p, _)) in pieces.iter().enumerate() {
            if Some(i as u32) == unk_id || (byte_fallback && parse_byte_piece(p).is_some()) {
                continue;
            }
            let mut node = 0usize;
            for c in p.chars() {
                node = match trie[node].children.binary_search_by_key(&c, |x| x.0) {
                    Ok(k) => trie[node].children[k].1 as usize,
                    Err(k) => {
                        let id = trie.len();
                        trie.push(TrieNode::default());
                        trie[node].children.insert(k, (c, id as u32));
                        id
                    }
                };
            }
            trie[node].piece = Some(i as u32);
        }
        Ok(Unigram {
            pieces,
            ids,
            unk_id,
            byte_fallback,
            min_score,
            byte_ids,
            trie,
        })
    }

    /// Pieces and log probabilities, by id.
    pub fn pieces(&self) -> &[(String, f64)] {
        &self.pieces
    }

    /// Piece → id.
    pub fn token_to_id(&self, t: &str) -> Option<u32> {
        self.ids.get(t).copied()
    }

    /// The unknown id.
    pub fn unk_id(&self) -> Option<u32> {
        self.unk_id
    }

    /// Whether unknown characters become byte pieces.
    pub fn byte_fallback(&self) -> bool {
        self.byte_fallback
    }

    /// Lowest piece score; unknown nodes score `min_score − 10`.
    pub fn min_score(&self) -> f64 {
        self.min_score
    }

    /// Lattice nodes of `text` sorted by (start, end), and its char→byte boundaries.
    fn nodes(&self, text: &str) -> (Vec<Node>, Vec<usize>) {
        let mut bounds: Vec<usize> = Vec::with_capacity(text.len() + 1);
        let mut chars: Vec<char> = Vec::with_capacity(text.len());
        for (b, c) in text.char_indices() {
            bounds.push(b);
            chars.push(c);
        }
        bounds.push(text.len());
        let n = chars.len();
        let unk_score = self.min_score - UNK_PENALTY;
        let mut nodes = Vec::with_capacity(n * 2);
        for start in 0..n {
            let mut has_single = false;
            let mut t = 0usize;
            for (end, &c) in chars.iter().enumerate().skip(start) {
                let kids = &self.trie[t].children;
                match kids.binary_search_by_key(&c, |x| x.0) {
                    Ok(k) => t = kids[k].1 as usize,
                    Err(_) => break,
                }
                if let Some(id) = self.trie[t].piece {
                    nodes.push(Node {
                        start,
                        end: end + 1,
                        id,
                        score: self.pieces[id as usize].1,
                        unk: false,
                    });
                    has_single |= end == start;
                }
            }
            if !has_single {
                // Keep (start, end) order: the unknown node spans one char, so it goes before longer ones.
                let pos = nodes
                    .iter()
                    .rposition(|m| m.start < start)
                    .map_or(0, |k| k + 1);
                nodes.insert(
                    pos,
                    Node {
                        start,
                        end: start + 1,
                        id: self.unk_id.unwrap_or(u32::MAX),
                        score: unk_score,
                        unk: true,
                    },
                );
            }
        }
        (nodes, bounds)
    }

    /// The segmentation lattice of one (pre-tokenised) word/sentence.
    pub fn lattice(&self, text: &str) -> Lattice {
        let (nodes, bounds) = self.nodes(text);
        Lattice {
            text: text.to_string(),
            len: bounds.len() - 1,
            nodes: nodes
                .iter()
                .map(|m| LatticeNode {
                    start: m.start,
                    end: m.end,
                    id: m.id,
                    piece: text[bounds[m.start]..bounds[m.end]].to_string(),
                    log_prob: m.score,
                })
                .collect(),
        }
    }

    /// Ids of a path: unknown runs fused into one unknown id, or byte pieces under byte fallback; an unknown
    /// character without an unknown id or byte pieces is dropped.
    fn path_ids(&self, text: &str, bounds: &[usize], nodes: &[Node], path: &[usize]) -> Vec<u32> {
        let mut out = Vec::with_capacity(path.len());
        let mut prev_unk = false;
        for &k in path {
            let m = nodes[k];
            if !m.unk {
                out.push(m.id);
                prev_unk = false;
                continue;
            }
            if self.byte_fallback {
                let s = &text[bounds[m.start]..bounds[m.end]];
                let bytes: Option<Vec<u32>> = s.bytes().map(|b| self.byte_ids[b as usize]).collect();
                if let Some(b) = bytes {
                    out.extend(b);
                    prev_unk = false;
                    continue;
                }
            }
            if let Some(u) = self.unk_id {
                if !prev_unk {
                    out.push(u);
                }
                prev_unk = true;
            }
        }
        out
    }

    /// Viterbi: the most probable segmentation (ids) — SentencePiece's/HF's encode.
    pub fn encode_word(&self, text: &str) -> Vec<u32> {
        if text.is_empty() {
            return Vec::new();
        }
        let (nodes, bounds) = self.nodes(text);
        let (path, _) = viterbi(bounds.len() - 1, &nodes);
        self.path_ids(text, &bounds, &nodes, &path)
    }

    /// Pre-tokenise (usually `Metaspace`) then encode each word.
    pub fn encode(&self, text: &str, pre: PreTokenizer) -> Vec<u32> {
        pre_tokenize(text, pre)
            .iter()
            .flat_map(|w| self.encode_word(w))
            .collect()
    }

    /// Concatenates the pieces, turns byte pieces back into bytes (invalid UTF-8 → U+FFFD), `▁` into spaces,
    /// and drops the one leading space the `Metaspace` prefix added (as SentencePiece's decoder).
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes: Vec<u8> = Vec::new();
        for &id in ids {
            let Some((p, _)) = self.pieces.get(id as usize) else {
                continue;
            };
            match parse_byte_piece(p) {
                Some(b) if self.byte_fallback => bytes.push(b),
                _ => bytes.extend_from_slice(p.as_bytes()),
            }
        }
        let s = String::from_utf8_lossy(&bytes).replace('\u{2581}', " ");
        match s.strip_prefix(' ') {
            Some(rest) => rest.to_string(),
            None => s,
        }
    }

    /// Subword regularisation: sample a segmentation with probability ∝ P(seg)^alpha (forward-filtering,
    /// backward-sampling; Kudo 2018 with SentencePiece's `alpha`).
    pub fn sample(&self, text: &str, alpha: f64, rng: &mut Rng) -> Vec<u32> {
        if text.is_empty() {
            return Vec::new();
        }
        let (nodes, bounds) = self.nodes(text);
        let path = sample_path(bounds.len() - 1, &nodes, alpha, rng);
        self.path_ids(text, &bounds, &nodes, &path)
    }
}

/// One lattice node.
#[derive(Debug, Clone, PartialEq)]
pub struct LatticeNode {
    /// First character (offset in chars).
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// Vocabulary id (the unknown id, or `u32::MAX` without one, for an unknown node).
    pub id: u32,
    /// The text the node covers.
    pub piece: String,
    /// The piece's log probability (`min_score − 10` for an unknown node).
    pub log_prob: f64,
}

/// The segmentation lattice of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Lattice {
    /// The text.
    pub text: String,
    /// Its length in characters.
    pub len: usize,
    /// Nodes sorted by (start, end).
    pub nodes: Vec<LatticeNode>,
}

impl Lattice {
    fn work_nodes(&self) -> Vec<Node> {
        self.nodes
            .iter()
            .map(|m| Node {
                start: m.start,
                end: m.end,
                id: m.id,
                score: m.log_prob,
                unk: false,
            })
            .collect()
    }

    /// Best path: node indices from start to end, and its total log prob (ties: the path whose last differing
    /// node starts earliest, as SentencePiece and Hugging Face). An empty text gives `([], 0)`; a lattice with no
    /// complete path gives `([], -inf)`.
    pub fn viterbi(&self) -> (Vec<usize>, f64) {
        viterbi(self.len, &self.work_nodes())
    }

    /// log Z = log Σ over all segmentations of exp(Σ log_prob) (forward algorithm, log-sum-exp).
    pub fn log_partition(&self) -> f64 {
        forward(self.len, &self.work_nodes(), 1.0)[self.len]
    }

    /// Marginal probability of each node being on the path (forward–backward), same order as `nodes`.
    pub fn marginals(&self) -> Vec<f64> {
        marginals(self.len, &self.work_nodes()).0
    }

    /// Every segmentation with its log prob, in depth-first order (shorter first pieces first); `None` when there
    /// are more than `limit` (exponential; for tests and tiny widget examples).
    pub fn enumerate(&self, limit: usize) -> Option<Vec<(Vec<usize>, f64)>> {
        let by_start = index_by(self.len, self.nodes.iter().map(|m| m.start));
        let mut out = Vec::new();
        let mut path = Vec::new();
        if self.len == 0 {
            return Some(vec![(vec![], 0.0)]);
        }
        fn go(
            l: &Lattice,
            by_start: &[Vec<usize>],
            pos: usize,
            score: f64,
            path: &mut Vec<usize>,
            out: &mut Vec<(Vec<usize>, f64)>,
            limit: usize,
        ) -> bool {
            if pos == l.len {
                if out.len() == limit {
                    return false;
                }
                out.push((path.clone(), score));
                return true;
            }
            for &k in &by_start[pos] {
                path.push(k);
                let ok = go(l, by_start, l.nodes[k].end, score + l.nodes[k].log_prob, path, out, limit);
                path.pop();
                if !ok {
                    return false;
                }
            }
            true
        }
        go(self, &by_start, 0, 0.0, &mut path, &mut out, limit).then_some(out)
    }

    /// The n best segmentations, best first (exact: each position keeps its n best partial paths).
    pub fn n_best(&self, n: usize) -> Vec<(Vec<usize>, f64)> {
        n_best(self.len, &self.work_nodes(), n)
    }
}

/// For each position 0..=len, the indices of the nodes whose `key` (start or end) is that position, in order.
fn index_by(len: usize, keys: impl Iterator<Item = usize>) -> Vec<Vec<usize>> {
    let mut v = vec![Vec::new(); len + 1];
    for (k, p) in keys.enumerate() {
        v[p].push(k);
    }
    v
}

/// Viterbi over nodes sorted by start: a node starting at `s` is relaxed after every node ending at `s`.
fn viterbi(len: usize, nodes: &[Node]) -> (Vec<usize>, f64) {
    let mut best = vec![f64::NEG_INFINITY; len + 1];
    let mut back: Vec<Option<usize>> = vec![None; len + 1];
    best[0] = 0.0;
    for (k, m) in nodes.iter().enumerate() {
        if best[m.start] == f64::NEG_INFINITY {
            continue;
        }
        let cand = best[m.start] + m.score;
        // Strict: among equal scores the node met first (earliest start) wins.
        if back[m.end].is_none() || cand > best[m.end] {
            best[m.end] = cand;
            back[m.end] = Some(k);
        }
    }
    if len == 0 {
        return (vec![], 0.0);
    }
    if back[len].is_none() {
        return (vec![], f64::NEG_INFINITY);
    }
    let mut path = Vec::new();
    let mut pos = len;
    while pos > 0 {
        let k = back[pos].expect("a reached position has a best incoming node");
        path.push(k);
        pos = nodes[k].start;
    }
    path.reverse();
    (path, best[len])
}

/// Forward log-sums with scores scaled by `theta`: `fwd[p]` = log Σ over paths from 0 to p of exp(θ·score).
fn forward(len: usize, nodes: &[Node], theta: f64) -> Vec<f64> {
    let mut fwd = vec![f64::NEG_INFINITY; len + 1];
    fwd[0] = 0.0;
    for m in nodes {
        if fwd[m.start] != f64::NEG_INFINITY {
            fwd[m.end] = log_add_exp(fwd[m.end], fwd[m.start] + theta * m.score);
        }
    }
    fwd
}

/// Backward log-sums: `bwd[p]` = log Σ over paths from p to the end.
fn backward(len: usize, nodes: &[Node]) -> Vec<f64> {
    let mut bwd = vec![f64::NEG_INFINITY; len + 1];
    bwd[len] = 0.0;
    for m in nodes.iter().rev() {
        if bwd[m.end] != f64::NEG_INFINITY {
            bwd[m.start] = log_add_exp(bwd[m.start], m.score + bwd[m.end]);
        }
    }
    bwd
}

/// Node marginals and log Z.
fn marginals(len: usize, nodes: &[Node]) -> (Vec<f64>, f64) {
    let fwd = forward(len, nodes, 1.0);
    let bwd = backward(len, nodes);
    let z = fwd[len];
    if z == f64::NEG_INFINITY {
        return (vec![0.0; nodes.len()], z);
    }
    let m = nodes
        .iter()
        .map(|m| {
            let a = fwd[m.start] + m.score + bwd[m.end];
            if a == f64::NEG_INFINITY {
                0.0
            } else {
                math::exp(a - z)
            }
        })
        .collect();
    (m, z)
}

/// Exact n-best: each position keeps its `n` best (score, node, rank at the node's start) partial paths.
fn n_best(len: usize, nodes: &[Node], n: usize) -> Vec<(Vec<usize>, f64)> {
    if n == 0 {
        return vec![];
    }
    if len == 0 {
        return vec![(vec![], 0.0)];
    }
    let by_end = index_by(len, nodes.iter().map(|m| m.end));
    // lists[p]: (score, node index or usize::MAX at p = 0, rank in lists[start]).
    let mut lists: Vec<Vec<(f64, usize, usize)>> = vec![Vec::new(); len + 1];
    lists[0].push((0.0, usize::MAX, 0));
    for p in 1..=len {
        let mut cands = Vec::new();
        for &k in &by_end[p] {
            let m = nodes[k];
            for (r, e) in lists[m.start].iter().enumerate() {
                cands.push((e.0 + m.score, k, r));
            }
        }
        // Stable sort: ties keep node order (earlier start first), then rank.
        cands.sort_by(|a, b| b.0.total_cmp(&a.0));
        cands.truncate(n);
        lists[p] = cands;
    }
    lists[len]
        .iter()
        .map(|&(score, k, r)| {
            let mut path = vec![k];
            let (mut k, mut r) = (k, r);
            while nodes[k].start > 0 {
                let e = lists[nodes[k].start][r];
                path.push(e.1);
                k = e.1;
                r = e.2;
            }
            path.reverse();
            (path, score)
        })
        .collect()
}

/// Forward-filtering backward-sampling of a path with probability ∝ exp(θ·Σ score).
fn sample_path(len: usize, nodes: &[Node], theta: f64, rng: &mut Rng) -> Vec<usize> {
    let fwd = forward(len, nodes, theta);
    if fwd[len] == f64::NEG_INFINITY {
        return vec![];
    }
    let by_end = index_by(len, nodes.iter().map(|m| m.end));
    let mut path = Vec::new();
    let mut pos = len;
    while pos > 0 {
        let u = rng.uniform();
        let mut acc = 0.0;
        let mut chosen = None;
        for &k in &by_end[pos] {
            let m = nodes[k];
            if fwd[m.start] == f64::NEG_INFINITY {
                continue;
            }
            acc += math::exp(fwd[m.start] + theta * m.score - fwd[pos]);
            chosen = Some(k);
            if u < acc {
                break;
            }
        }
        let k = chosen.expect("a reachable position has a reachable incoming node");
        path.push(k);
        pos = nodes[k].start;
    }
    path.reverse();
    path
}

/// SentencePiece's digamma: recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 7, then the asymptotic series
/// ψ(x) ≈ ln(x−½) + 1/(24(x−½)²) − 7/(960(x−½)⁴) + 31/(8064(x−½)⁶) − 127/(30720(x−½)⁸).
pub fn digamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 7.0 {
        r -= 1.0 / x;
        x += 1.0;
    }
    x -= 0.5;
    let xx = 1.0 / x;
    let xx2 = xx * xx;
    let xx4 = xx2 * xx2;
    r + math::ln(x) + xx2 / 24.0 - 7.0 / 960.0 * xx4 + 31.0 / 8064.0 * xx4 * xx2
        - 127.0 / 30720.0 * xx4 * xx4
}

/// Trainer options (SentencePiece's names and defaults where they exist).
#[derive(Debug, Clone, PartialEq)]
pub struct UnigramConfig {
    /// Final vocabulary size, counting the unknown and special tokens (SentencePiece's `vocab_size`). Every
    /// character of the corpus is kept, so the result is larger when the characters alone exceed it.
    pub vocab_size: usize,
    /// Candidate substrings kept as seeds (`seed_sentencepiece_size`, 1,000,000).
    pub seed_size: usize,
    /// Share of pieces kept by each pruning (`shrinking_factor`, 0.75).
    pub shrinking_factor: f64,
    /// EM iterations per round (`num_sub_iterations`, 2).
    pub em_iterations: usize,
    /// Longest piece in characters (`max_sentencepiece_length`, 16).
    pub max_piece_length: usize,
    /// The unknown token, id 0.
    pub unk_token: String,
    /// Tokens with the next ids (e.g. `<s>`, `</s>` as SentencePiece's defaults), score 0, never trained.
    pub special_tokens: Vec<String>,
}

impl Default for UnigramConfig {
    fn default() -> Self {
        UnigramConfig {
            vocab_size: 1000,
            seed_size: 1_000_000,
            shrinking_factor: 0.75,
            em_iterations: 2,
            max_piece_length: 16,
            unk_token: "<unk>".to_string(),
            special_tokens: Vec::new(),
        }
    }
}

/// One EM + pruning round, for the widget and the lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct UnigramRound {
    /// Model size after the round (unknown and special tokens included).
    pub vocab_size: usize,
    /// Total corpus log-likelihood Σ_words count·log Z(word) at the last E-step of the round (before its M-step).
    pub log_likelihood: f64,
    /// Pieces removed by this round's pruning (or by the final trim).
    pub pruned: usize,
    /// Σ_words count × (Viterbi pieces of the word) at that E-step.
    pub viterbi_tokens: u64,
}

/// Characters that are letters versus anything else: a piece never mixes the two (see the module doc).
fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

/// The steppable trainer (see the module doc for the algorithm).
#[derive(Debug, Clone)]
pub struct UnigramTrainer {
    cfg: UnigramConfig,
    words: Vec<(String, u64)>,
    /// Current pieces and log probabilities (no unknown/special tokens).
    pieces: Vec<(String, f64)>,
    /// Every character with its count, by decreasing count then code point.
    required: Vec<(char, u64)>,
    desired: usize,
    done: bool,
    rounds: usize,
}

impl UnigramTrainer {
    /// Counts characters and seed substrings of `words` (word, count) and sets their initial log probabilities.
    pub fn new(words: &[(String, u64)], cfg: &UnigramConfig) -> UnigramTrainer {
        let mut chars: HashMap<char, u64> = HashMap::new();
        // substring -> (count, first follower (None = word end), seen with a second, different follower)
        let mut subs: HashMap<&str, (u64, Option<Option<char>>, bool)> = HashMap::new();
        for (w, c) in words {
            if *c == 0 {
                continue;
            }
            let cs: Vec<(usize, char)> = w.char_indices().collect();
            let n = cs.len();
            for &(_, ch) in &cs {
                *chars.entry(ch).or_insert(0) += c;
            }
            for i in 0..n {
                let mut class = if cs[i].1 == '\u{2581}' {
                    None
                } else {
                    Some(is_letter(cs[i].1))
                };
                for j in i + 1..n.min(i + cfg.max_piece_length) {
                    let ch = cs[j].1;
                    if ch == '\u{2581}' {
                        break;
                    }
                    let l = is_letter(ch);
                    match class {
                        Some(k) if k != l => break,
                        _ => class = Some(l),
                    }
                    let end = cs.get(j + 1).map_or(w.len(), |x| x.0);
                    let e = subs.entry(&w[cs[i].0..end]).or_insert((0, None, false));
                    e.0 += c;
                    let follower = cs.get(j + 1).map(|x| x.1);
                    match e.1 {
                        None => e.1 = Some(follower),
                        Some(f) if f != follower => e.2 = true,
                        _ => {}
                    }
                }
            }
        }
        // Internal nodes of the suffix tree: ≥ 2 occurrences and ≥ 2 different followers, a word end counting as
        // one follower (in SentencePiece's text a word is followed by the next word's `▁`).
        let mut seeds: Vec<(&str, u64)> = subs
            .into_iter()
            .filter(|(_, (c, _, branching))| *c >= 2 && *branching)
            .map(|(s, (c, ..))| (s, c * s.chars().count() as u64))
            .collect();
        seeds.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        seeds.truncate(cfg.seed_size);
        let mut required: Vec<(char, u64)> = chars.into_iter().collect();
        required.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut char_sorted = required.clone();
        char_sorted.sort_unstable_by_key(|x| x.0);
        let mut pieces: Vec<(String, f64)> = char_sorted
            .iter()
            .map(|&(ch, c)| (ch.to_string(), c as f64))
            .collect();
        pieces.extend(seeds.into_iter().map(|(s, sc)| (s.to_string(), sc as f64)));
        let sum: f64 = pieces.iter().map(|p| p.1).sum();
        let log_sum = math::ln(sum);
        for p in &mut pieces {
            p.1 = math::ln(p.1) - log_sum;
        }
        let mut ws: Vec<(String, u64)> = words.iter().filter(|w| w.1 > 0).cloned().collect();
        ws.retain(|w| !w.0.is_empty());
        UnigramTrainer {
            cfg: cfg.clone(),
            words: ws,
            pieces,
            required,
            desired: (cfg.vocab_size as f64 * 1.1) as usize,
            done: false,
            rounds: 0,
        }
    }

    fn specials(&self) -> Vec<(String, f64)> {
        let mut v = vec![(self.cfg.unk_token.clone(), 0.0)];
        for s in &self.cfg.special_tokens {
            if !v.iter().any(|x| &x.0 == s) {
                v.push((s.clone(), 0.0));
            }
        }
        v
    }

    /// Current model size (unknown and special tokens included).
    pub fn vocab_size(&self) -> usize {
        self.pieces.len() + self.specials().len()
    }

    /// Current pieces with their log probabilities (without the unknown and special tokens).
    pub fn pieces(&self) -> &[(String, f64)] {
        &self.pieces
    }

    /// Rounds made so far.
    pub fn rounds(&self) -> usize {
        self.rounds
    }

    /// Whether training has finished.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The current model: unknown token (id 0), special tokens, then the current pieces.
    pub fn model(&self) -> Unigram {
        let mut v = self.specials();
        let taken: std::collections::HashSet<String> = v.iter().map(|x| x.0.clone()).collect();
        v.extend(self.pieces.iter().filter(|p| !taken.contains(&p.0)).cloned());
        Unigram::new(v, Some(0), false).expect("trainer pieces are distinct, non-empty and finite")
    }

    /// A model over the bare pieces (no specials), so piece index = id.
    fn work_model(&self) -> Unigram {
        let mut v = self.pieces.clone();
        v.push((self.cfg.unk_token.clone(), 0.0));
        let unk = (v.len() - 1) as u32;
        let mut m = Unigram::new(v, Some(unk), false).expect("trainer pieces are distinct");
        // The unknown entry's score must not set the minimum (SentencePiece's min_score is over pieces).
        m.min_score = self.pieces.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        m
    }

    /// E-step: expected counts per piece, Σ count·log Z, Σ count·Viterbi length.
    fn e_step(&self, m: &Unigram) -> (Vec<f64>, f64, u64) {
        let mut expected = vec![0.0; self.pieces.len()];
        let mut ll = 0.0;
        let mut toks = 0u64;
        for (w, c) in &self.words {
            let (nodes, bounds) = m.nodes(w);
            let len = bounds.len() - 1;
            let (marg, z) = marginals(len, &nodes);
            let cf = *c as f64;
            ll += cf * z;
            for (node, p) in nodes.iter().zip(&marg) {
                if !node.unk {
                    expected[node.id as usize] += cf * p;
                }
            }
            toks += viterbi(len, &nodes).0.len() as u64 * c;
        }
        (expected, ll, toks)
    }

    /// M-step: drop pieces expected fewer than 0.5 times, digamma-normalise the rest.
    fn m_step(&mut self, expected: &[f64]) {
        let kept: Vec<(String, f64)> = self
            .pieces
            .iter()
            .zip(expected)
            .filter(|(_, &e)| e >= 0.5)
            .map(|(p, &e)| (p.0.clone(), e))
            .collect();
        let sum: f64 = kept.iter().map(|p| p.1).sum();
        let log_sum = digamma(sum);
        self.pieces = kept
            .into_iter()
            .map(|(p, e)| (p, digamma(e) - log_sum))
            .collect();
    }

    /// SentencePiece's PruneSentencePieces (see the module doc).
    fn prune(&mut self) {
        let m = self.work_model();
        let n = self.pieces.len();
        let mut always_keep = vec![true; n];
        let mut alternatives: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, (p, _)) in self.pieces.iter().enumerate() {
            let (nodes, bounds) = m.nodes(p);
            let nb = n_best(bounds.len() - 1, &nodes, 2);
            if nb.len() < 2 {
                continue;
            }
            if nb[0].0.len() >= 2 {
                always_keep[i] = false;
            } else {
                alternatives[i] = nb[1].0.iter().map(|&k| nodes[k].id).collect();
            }
        }
        let mut freq = vec![0.0; n];
        let mut occ = vec![0.0; n];
        let mut vsum = 0.0;
        for (w, c) in &self.words {
            let (nodes, bounds) = m.nodes(w);
            let cf = *c as f64;
            vsum += cf;
            for k in viterbi(bounds.len() - 1, &nodes).0 {
                let node = nodes[k];
                if !node.unk {
                    freq[node.id as usize] += cf;
                    occ[node.id as usize] += cf;
                }
            }
        }
        let sum: f64 = freq.iter().sum();
        let log_sum = math::ln(sum);
        let mut keep: Vec<usize> = Vec::new();
        let mut candidates: Vec<(usize, f64)> = Vec::new();
        for i in 0..n {
            if freq[i] == 0.0 || !always_keep[i] {
                continue;
            }
            if alternatives[i].is_empty() {
                keep.push(i);
                continue;
            }
            let f = occ[i] / vsum;
            let logprob_sp = math::ln(freq[i]) - log_sum;
            let log_sum_alt = math::ln(sum + freq[i] * (alternatives[i].len() as f64 - 1.0));
            let logprob_alt: f64 = alternatives[i]
                .iter()
                .map(|&a| {
                    // An unknown node in the alternative (a character pruned earlier) has no count of its own.
                    let fa = if (a as usize) < n { freq[a as usize] } else { 0.0 };
                    math::ln(fa + freq[i]) - log_sum_alt
                })
                .sum();
            candidates.push((i, f * (logprob_sp - logprob_alt)));
        }
        let pruned_size = self
            .desired
            .max((self.cfg.shrinking_factor * n as f64) as usize);
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, _) in candidates {
            if keep.len() >= pruned_size {
                break;
            }
            keep.push(i);
        }
        self.pieces = keep.into_iter().map(|i| self.pieces[i].clone()).collect();
    }

    /// The final vocabulary: every character, then the best pieces, up to `vocab_size` (SentencePiece's
    /// FinalizeSentencePieces), sorted by decreasing score.
    fn finalize(&mut self) {
        let min_score = self.pieces.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let have: HashMap<&str, f64> = self.pieces.iter().map(|p| (p.0.as_str(), p.1)).collect();
        let mut out: Vec<(String, f64)> = Vec::new();
        let mut penalty = 0.0;
        for &(ch, _) in &self.required {
            let s = ch.to_string();
            let score = match have.get(s.as_str()) {
                Some(&sc) => sc,
                None => {
                    let sc = min_score + penalty;
                    penalty += 0.0001;
                    sc
                }
            };
            out.push((s, score));
        }
        let budget = self.cfg.vocab_size.saturating_sub(self.specials().len());
        let mut sorted = self.pieces.clone();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let specials: Vec<String> = self.specials().into_iter().map(|x| x.0).collect();
        for p in sorted {
            if out.len() >= budget {
                break;
            }
            if p.0.chars().count() == 1 || specials.contains(&p.0) {
                continue;
            }
            out.push(p);
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        self.pieces = out;
    }

    /// One round: `em_iterations` EM steps, then pruning, or the final trim when the size is within 1.1 ×
    /// `vocab_size`. `None` once finished.
    pub fn step(&mut self) -> Option<UnigramRound> {
        if self.done {
            return None;
        }
        let mut ll = 0.0;
        let mut toks = 0;
        for _ in 0..self.cfg.em_iterations.max(1) {
            let m = self.work_model();
            let (expected, l, t) = self.e_step(&m);
            ll = l;
            toks = t;
            self.m_step(&expected);
        }
        let before = self.pieces.len();
        if self.pieces.len() <= self.desired {
            self.finalize();
            self.done = true;
        } else {
            self.prune();
            if self.pieces.len() == before {
                self.finalize();
                self.done = true;
            }
        }
        self.rounds += 1;
        Some(UnigramRound {
            vocab_size: self.vocab_size(),
            log_likelihood: ll,
            pruned: before.saturating_sub(self.pieces.len()),
            viterbi_tokens: toks,
        })
    }

    /// Runs the remaining rounds and returns the model.
    pub fn finish(mut self) -> Unigram {
        while self.step().is_some() {}
        self.model()
    }
}

/// Train to completion: (model, every round in order).
pub fn train(words: &[(String, u64)], cfg: &UnigramConfig) -> (Unigram, Vec<UnigramRound>) {
    let mut t = UnigramTrainer::new(words, cfg);
    let mut rounds = Vec::new();
    while let Some(r) = t.step() {
        rounds.push(r);
    }
    (t.model(), rounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::tokenize::wordpiece::TEST_CORPUS;
    use std::collections::BTreeMap;

    /// A lattice over `text` from a vocabulary of (piece, log prob).
    fn model(pieces: &[(&str, f64)]) -> Unigram {
        let mut v = vec![("<unk>".to_string(), 0.0)];
        v.extend(pieces.iter().map(|&(p, s)| (p.to_string(), s)));
        Unigram::new(v, Some(0), false).unwrap()
    }

    /// log Σ exp over the enumerated paths, and each node's share of the total.
    fn brute_force(l: &Lattice) -> (f64, Vec<f64>) {
        let paths = l.enumerate(100_000).unwrap();
        let max = paths.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = paths.iter().map(|p| math::exp(p.1 - max)).sum();
        let mut marg = vec![0.0; l.nodes.len()];
        for (path, s) in &paths {
            for &k in path {
                marg[k] += math::exp(s - max) / z;
            }
        }
        (max + math::ln(z), marg)
    }

    #[test]
    fn forward_backward_and_viterbi_equal_brute_force_enumeration() {
        let mut rng = Rng::new(7);
        for trial in 0..40 {
            // Every substring of length ≤ 3 over {a, b, c} with a random log probability.
            let mut pieces = Vec::new();
            for len in 1..=3u32 {
                for code in 0..3usize.pow(len) {
                    let mut s = String::new();
                    let mut c = code;
                    for _ in 0..len {
                        s.push(['a', 'b', 'c'][c % 3]);
                        c /= 3;
                    }
                    if len == 1 || rng.uniform() < 0.6 {
                        pieces.push((s, -0.5 - 6.0 * rng.uniform()));
                    }
                }
            }
            let refs: Vec<(&str, f64)> = pieces.iter().map(|(p, s)| (p.as_str(), *s)).collect();
            let m = model(&refs);
            let n = 1 + trial % 11;
            let text: String = (0..n).map(|_| ['a', 'b', 'c'][rng.below(3)]).collect();
            let l = m.lattice(&text);
            let (log_z, marg) = brute_force(&l);
            assert!((l.log_partition() - log_z).abs() < 1e-12, "{text}: log Z");
            for (a, b) in l.marginals().iter().zip(&marg) {
                assert!((a - b).abs() < 1e-12, "{text}: marginal {a} vs {b}");
            }
            // Marginals of the nodes covering any one character sum to 1.
            for pos in 0..l.len {
                let s: f64 = l.nodes.iter().zip(l.marginals()).filter(|(m, _)| m.start <= pos && pos < m.end).map(|x| x.1).sum();
                assert!((s - 1.0).abs() < 1e-12);
            }
            let mut all = l.enumerate(100_000).unwrap();
            all.sort_by(|a, b| b.1.total_cmp(&a.1));
            let (best, score) = l.viterbi();
            assert!((score - all[0].1).abs() < 1e-12);
            let best_score: f64 = best.iter().map(|&k| l.nodes[k].log_prob).sum();
            assert!((best_score - score).abs() < 1e-12);
            let nb = l.n_best(5);
            assert_eq!(nb.len(), all.len().min(5));
            for (a, b) in nb.iter().zip(&all) {
                assert!((a.1 - b.1).abs() < 1e-12, "n-best scores follow the sorted enumeration");
                let s: f64 = a.0.iter().map(|&k| l.nodes[k].log_prob).sum();
                assert!((s - a.1).abs() < 1e-12);
            }
            assert_eq!(nb[0].0, best);
        }
    }

    #[test]
    fn enumeration_refuses_more_than_the_limit() {
        let m = model(&[("a", -1.0), ("aa", -1.5)]);
        // "aaaaa" has Fibonacci(6) = 8 segmentations.
        let l = m.lattice("aaaaa");
        assert_eq!(l.enumerate(8).unwrap().len(), 8);
        assert!(l.enumerate(7).is_none());
    }

    #[test]
    fn sampling_frequencies_match_the_exact_probabilities() {
        let m = model(&[("a", -2.0), ("b", -2.5), ("ab", -3.0), ("ba", -3.5), ("aba", -4.0), ("bab", -5.0)]);
        let text = "ababa";
        let l = m.lattice(text);
        let paths = l.enumerate(1000).unwrap();
        for alpha in [1.0, 0.3] {
            // Exact: P(s)^α / Σ P(s')^α.
            let w: Vec<f64> = paths.iter().map(|p| math::exp(alpha * p.1)).collect();
            let total: f64 = w.iter().sum();
            let mut counts: BTreeMap<Vec<u32>, u64> = BTreeMap::new();
            let mut rng = Rng::new(2018);
            let n = 40_000;
            for _ in 0..n {
                *counts.entry(m.sample(text, alpha, &mut rng)).or_insert(0) += 1;
            }
            let mut chi2 = 0.0;
            for (p, wi) in paths.iter().zip(&w) {
                let ids: Vec<u32> = p.0.iter().map(|&k| l.nodes[k].id).collect();
                let expect = n as f64 * wi / total;
                let seen = counts.remove(&ids).unwrap_or(0) as f64;
                chi2 += (seen - expect).powi(2) / expect;
            }
            assert!(counts.is_empty(), "only lattice paths are sampled");
            // df = paths − 1; the bound is df + 6·sqrt(2·df) (over 4 standard deviations of a χ² variable).
            let df = (paths.len() - 1) as f64;
            assert!(chi2 < df + 6.0 * (2.0 * df).sqrt(), "alpha {alpha}: chi2 {chi2} with {df} df");
        }
    }

    // The sentencepiece / Hugging Face side (sentencepiece 0.2.3, tokenizers 0.23.3, venv /work/venv-tok),
    // corpus.txt = TEST_CORPUS. Every expected id list was identical from spm and from HF; the generator asserts it.
    // # Reference for crates/dlf-engine/src/lessons/tokenize/unigram.rs tests (sentencepiece 0.2.3, tokenizers 0.23.3).
    // import json, sentencepiece as spm
    // from tokenizers import Tokenizer, models, pre_tokenizers
    // out = {}
    // for name, vs, bf in [("plain", 150, False), ("bytes", 400, True)]:
    //     spm.SentencePieceTrainer.train(input="corpus.txt", model_prefix=f"spm_{name}", model_type="unigram",
    //                                    vocab_size=vs, byte_fallback=bf, hard_vocab_limit=False,
    //                                    num_threads=1, minloglevel=2)
    //     sp = spm.SentencePieceProcessor(model_file=f"spm_{name}.model")
    //     pieces = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    //     texts = ["the thinker was rethinking the unthinkable", "players replayed the played games",
    //              "zebras quietly jumped over xylophones", "internationally, the bakers baked.",
    //              "a naïve café owner's théâtre", "the cat sat on the mat and the dog sat on the log.",
    //              "learning slower learners learn", "qqq zzz! 123"]
    //     enc = [[t, sp.encode(t)] for t in texts]
    //     # HF Unigram given the same pieces (Metaspace pre-tokenizer, as converted spm models use).
    //     tok = Tokenizer(models.Unigram(pieces, unk_id=0, byte_fallback=bf))
    //     tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    //     hf = [[t, tok.encode(t).ids] for t in texts]
    //     out[name] = {"pieces": pieces, "spm": enc, "hf": hf}
    // print(json.dumps(out, ensure_ascii=False))
    pub(super) const SPM_PLAIN_PIECES: &str = r#"
<unk> 0.0
<s> 0.0
</s> 0.0
▁ -1.810564398765564
the -2.342719793319702
s -2.734529733657837
d -3.038001537322998
, -3.343892812728882
. -3.343892812728882
▁an -3.4271047115325928
t -3.5664899349212646
e -3.843712091445923
ing -3.9391541481018066
re -4.0893402099609375
▁we -4.138455390930176
ed -4.399099349975586
r -4.400463104248047
▁wa -4.530190944671631
er -4.722504615783691
i -4.9765801429748535
▁learn -4.992457866668701
▁in -5.017266273498535
n -5.053394317626953
▁lo -5.149132251739502
▁w -5.2140326499938965
▁a -5.2411322593688965
a -5.297482967376709
▁work -5.3024067878723145
▁jump -5.514103412628174
▁cook -5.514249324798584
▁of -5.5142502784729
▁ma -5.516956329345703
▁on -5.647254467010498
l -5.665627956390381
p -5.7081732749938965
u -5.716058254241943
b -5.745011806488037
g -5.750049114227295
un -5.751903533935547
y -5.752338886260986
▁model -5.764102935791016
▁print -5.766558647155762
ly -5.767335891723633
st -5.767581462860107
▁la -5.769842147827148
at -5.773463726043701
le -5.778706073760986
ll -5.879642009735107
all -5.961292743682861
▁sa -5.962637901306152
▁thought -6.011155605316162
m -6.0759100914001465
ng -6.095030784606934
think -6.0957255363464355
x -6.09743595123291
z -6.09743595123291
▁replay -6.09743595123291
▁bread -6.097440242767334
national -6.097451210021973
▁token -6.097458362579346
▁fo -6.097720146179199
▁thinker -6.09915018081665
▁dog -6.101211071014404
▁more -6.101973056793213
▁to -6.102400779724121
▁do -6.10297155380249
▁be -6.10405969619751
▁baker -6.106423377990723
ame -6.106754302978516
▁player -6.1079535484313965
▁walked -6.110987186431885
ri -6.1327290534973145
o -6.134955406188965
▁fa -6.1413726806640625
▁se -6.253219127655029
wer -6.362672805786133
▁read -6.468292236328125
▁painte -6.480776786804199
f -6.528678894042969
ught -6.5380144119262695
▁bake -6.5829267501831055
▁runn -6.585849285125732
▁help -6.585901260375977
▁hunt -6.585901260375977
▁dream -6.586496829986572
▁cl -6.5974345207214355
▁every -6.597435474395752
har -6.59743595123291
ight -6.59743595123291
kindness -6.59743595123291
ove -6.59743595123291
▁again -6.59743595123291
▁cakes -6.59743595123291
▁home -6.59743595123291
▁lessons -6.59743595123291
▁pieces -6.59743595123291
▁quick -6.59743595123291
▁students -6.59743595123291
▁things -6.59743595123291
▁hal -6.597436428070068
▁talke -6.597436428070068
▁better -6.5974507331848145
▁builder -6.5976433753967285
▁take -6.597710609436035
▁plain -6.597729206085205
▁other -6.597851276397705
▁building -6.5978851318359375
▁old -6.597929000854492
rain -6.597957611083984
▁make -6.598159313201904
▁song -6.598559379577637
▁slowly -6.598934650421143
pin -6.599330902099609
nted -6.600058078765869
▁driver -6.601733207702637
▁speaker -6.601734161376953
▁swimmer -6.601734161376953
▁books -6.602421760559082
oke -6.6029744148254395
▁done -6.603261470794678
▁teacher -6.603389263153076
▁br -6.603404521942139
op -6.6047515869140625
▁helper -6.609103202819824
▁hunter -6.609103202819824
▁dreamer -6.609106063842773
▁runner -6.609193801879883
▁singer -6.610054016113281
▁reader -6.61069393157959
▁ta -6.614597320556641
▁bu -6.622661113739014
▁reading -6.626610279083252
▁sp -6.630453586578369
eep -6.6354851722717285
▁worker -6.64017915725708
▁undo -6.6454081535339355
ut -6.657415390014648
▁learner -6.65826940536499
ough -6.660499572753906
ess -6.720033168792725
▁paint -6.729053020477295
▁ro -6.8345723152160645
w -7.408097743988037
k -7.590909481048584
' -7.59743595123291
q -7.616873741149902
j -7.616973876953125
v -7.617074012756348
c -7.617173671722412
h -7.617273807525635
"#;
    const SPM_PLAIN_ENCODED: &[(&str, &[u32])] = &[
        ("the thinker was rethinking the unthinkable", &[3, 4, 61, 17, 5, 3, 13, 53, 12, 3, 4, 3, 38, 53, 26, 36, 46]),
        ("players replayed the played games", &[69, 5, 56, 15, 3, 4, 3, 34, 33, 26, 39, 15, 3, 37, 68, 5]),
        ("zebras quietly jumped over xylophones", &[3, 55, 11, 36, 16, 26, 5, 3, 145, 35, 19, 11, 10, 42, 28, 15, 3, 90, 16, 3, 54, 39, 33, 122, 149, 72, 22, 11, 5]),
        ("internationally, the bakers baked.", &[21, 10, 18, 58, 42, 7, 3, 4, 67, 5, 80, 6, 8]),
        ("a naïve café owner's théâtre", &[25, 3, 22, 26, 0, 147, 11, 3, 148, 26, 78, 0, 3, 72, 142, 22, 18, 144, 5, 3, 10, 149, 0, 10, 13]),
        ("the cat sat on the mat and the dog sat on the log.", &[3, 4, 3, 148, 45, 49, 10, 32, 3, 4, 31, 10, 9, 6, 3, 4, 62, 49, 10, 32, 3, 4, 23, 37, 8]),
        ("learning slower learners learn", &[20, 12, 3, 5, 33, 72, 75, 137, 5, 20]),
        ("qqq zzz! 123", &[3, 145, 145, 145, 3, 55, 55, 55, 0, 3, 0]),
    ];
    const SPM_BYTES_PIECES: &str = r#"
<unk> 0.0
<s> 0.0
</s> 0.0
BYTES
▁ -2.4980833530426025
the -2.8091824054718018
s -2.9477126598358154
e -3.0209012031555176
d -3.226263999938965
, -3.2718312740325928
. -3.2718312740325928
▁th -3.356818199157715
▁an -3.647463321685791
ing -3.8960697650909424
re -4.106337547302246
▁we -4.143620014190674
t -4.180339336395264
▁a -4.188344478607178
▁t -4.3673295974731445
he -4.49263858795166
▁wa -4.571653366088867
r -4.687016487121582
ed -4.725225448608398
▁learn -4.915966510772705
er -5.047497749328613
▁in -5.059642791748047
▁w -5.194051265716553
▁lo -5.2314863204956055
n -5.3636064529418945
▁s -5.375248908996582
▁of -5.442306995391846
▁cook -5.448421478271484
▁ma -5.491359233856201
▁on -5.512707710266113
▁jump -5.525103569030762
▁work -5.5809125900268555
all -5.58646297454834
p -5.597055912017822
i -5.6300835609436035
y -5.681270122528076
▁model -5.692041397094727
ly -5.694486141204834
at -5.7806806564331055
▁la -5.815883636474609
▁print -5.856055736541748
u -5.895506381988525
ers -5.917652606964111
▁sa -5.918146133422852
l -5.961188316345215
▁c -5.964400768280029
▁thought -5.984398365020752
le -5.98824405670166
g -5.995270252227783
x -6.025374412536621
z -6.025374412536621
▁replay -6.025374412536621
▁token -6.02540397644043
▁bread -6.0254106521606445
ng -6.025491714477539
▁dog -6.0275187492370605
▁fo -6.028512477874756
▁more -6.029358863830566
▁walked -6.033301830291748
▁b -6.042698383331299
▁to -6.054002285003662
▁baker -6.061896324157715
st -6.065921306610107
ame -6.079126834869385
▁player -6.0881266593933105
wer -6.121101379394531
▁thinker -6.147415637969971
ri -6.149421215057373
▁wh -6.186246395111084
▁read -6.26168966293335
▁be -6.3502655029296875
▁think -6.3740620613098145
▁f -6.390415668487549
▁runn -6.399661540985107
ut -6.416950225830078
rs -6.4189887046813965
ll -6.421452045440674
▁do -6.428881645202637
▁paint -6.432145118713379
b -6.4506425857543945
▁bake -6.468404293060303
m -6.4823431968688965
▁sing -6.515593528747559
ught -6.5203704833984375
ight -6.525374412536621
kindness -6.525374412536621
ves -6.525374412536621
▁lessons -6.525374412536621
▁pieces -6.525374412536621
▁quick -6.525374412536621
▁students -6.525374412536621
▁cakes -6.525374889373779
▁better -6.525379180908203
▁every -6.525379657745361
▁again -6.525384426116943
▁home -6.525431156158447
▁building -6.525686740875244
▁other -6.525979518890381
▁take -6.5263752937316895
▁plain -6.5265793800354
▁song -6.526642799377441
▁books -6.526853084564209
▁slowly -6.526966094970703
▁builder -6.527003765106201
▁old -6.527194023132324
▁make -6.527659893035889
▁done -6.530783176422119
▁un -6.5335917472839355
eep -6.534642696380615
rain -6.536774635314941
nted -6.547479629516602
▁br -6.549067974090576
▁ro -6.55182409286499
▁sp -6.552842140197754
▁things -6.553369045257568
▁undo -6.561291694641113
▁teacher -6.564255237579346
▁national -6.566000461578369
▁reading -6.56995153427124
▁driver -6.591548919677734
▁speaker -6.592818737030029
▁swimmer -6.592878341674805
▁ta -6.6013078689575195
▁reads -6.606221675872803
▁ne -6.609989166259766
▁thoughts -6.612429141998291
▁painte -6.627924919128418
ld -6.646875858306885
▁hunter -6.650472164154053
▁helper -6.650590419769287
o -6.660569190979004
a -6.742029666900635
w -7.416225910186768
f -7.449548721313477
k -7.509990215301514
' -7.525374412536621
q -8.711090087890625
j -8.711189270019531
v -8.711289405822754
c -8.711389541625977
h -8.7114896774292
"#;
    const SPM_BYTES_ENCODED: &[(&str, &[u32])] = &[
        ("the thinker was rethinking the unthinkable", &[259, 260, 325, 275, 261, 259, 269, 271, 399, 293, 283, 393, 268, 259, 260, 366, 271, 399, 293, 283, 393, 390, 338, 306]),
        ("players replayed the played games", &[323, 261, 310, 277, 259, 260, 259, 292, 303, 390, 294, 277, 259, 307, 322, 261]),
        ("zebras quietly jumped over xylophones", &[259, 309, 262, 338, 276, 390, 261, 259, 395, 300, 293, 262, 271, 296, 289, 277, 259, 389, 397, 279, 259, 308, 294, 303, 389, 292, 399, 389, 283, 262, 261]),
        ("internationally, the bakers baked.", &[280, 271, 279, 283, 297, 293, 389, 283, 291, 294, 264, 259, 260, 320, 261, 339, 263, 265]),
        ("a naïve café owner's théâtre", &[272, 259, 283, 390, 198, 178, 397, 262, 304, 390, 392, 198, 172, 259, 389, 391, 283, 279, 394, 261, 266, 198, 172, 198, 165, 271, 269]),
        ("the cat sat on the mat and the dog sat on the log.", &[259, 260, 304, 297, 302, 271, 288, 259, 260, 287, 271, 267, 263, 259, 260, 314, 302, 271, 288, 259, 260, 282, 307, 265]),
        ("learning slower learners learn", &[278, 268, 284, 303, 389, 324, 278, 301, 278]),
        ("qqq zzz! 123", &[259, 395, 395, 395, 259, 309, 309, 309, 36, 259, 52, 53, 54]),
    ];
    // # sentencepiece 0.2.0 (venv /work/venv-tok-spm020): the release whose unigram trainer is the source read for this
    // # file (src/unigram_model_trainer.cc as of 2024–25); 0.2.3 (above) rewrote seed extraction and the last round.
    // import sentencepiece as spm
    // spm.SentencePieceTrainer.train(input="corpus.txt", model_prefix="spm020", model_type="unigram", vocab_size=150,
    //                                hard_vocab_limit=False, character_coverage=1.0, num_threads=1, minloglevel=2)
    // sp = spm.SentencePieceProcessor(model_file="spm020.model")
    // for i in range(sp.get_piece_size()):
    //     print(sp.id_to_piece(i), repr(sp.get_score(i)))
    pub(super) const SPM020_PIECES: &str = r#"
<unk> 0.0
<s> 0.0
</s> 0.0
▁ -1.7847074270248413
the -2.37127423286438
s -2.645181655883789
d -3.01458477973938
, -3.3724567890167236
. -3.3724567890167236
▁an -3.4531614780426025
t -3.6287753582000732
e -3.827636241912842
ing -3.889258861541748
re -4.069512844085693
▁we -4.1599955558776855
r -4.399777889251709
ed -4.503276824951172
▁wa -4.557979583740234
a -4.686060428619385
er -4.754464626312256
n -4.761394500732422
i -4.778624534606934
▁learn -5.021222114562988
▁in -5.032466411590576
o -5.114723205566406
▁lo -5.182464122772217
▁w -5.283235549926758
l -5.2998576164245605
▁work -5.330814361572266
y -5.336686611175537
▁a -5.428143501281738
st -5.460618495941162
u -5.496987819671631
p -5.510009765625
b -5.524675369262695
g -5.529983043670654
m -5.531711101531982
▁thought -5.542665958404541
▁cook -5.542666435241699
▁jump -5.542666435241699
▁of -5.543050765991211
▁ma -5.549540042877197
at -5.638792514801025
▁on -5.722641468048096
▁read -5.755341529846191
un -5.770987510681152
▁model -5.792667865753174
▁print -5.792721748352051
▁la -5.7952470779418945
ly -5.800745010375977
le -5.820112228393555
ll -5.895649433135986
all -6.009287357330322
▁sa -6.0754852294921875
think -6.124235153198242
x -6.125999927520752
z -6.125999927520752
▁replay -6.126000881195068
▁bread -6.126008987426758
▁token -6.126028060913086
national -6.126043796539307
▁fo -6.126736640930176
▁thinker -6.127767562866211
ng -6.127934455871582
ame -6.129199504852295
▁more -6.130711078643799
▁dog -6.130772590637207
▁be -6.133776664733887
▁player -6.134946823120117
▁baker -6.134976863861084
▁to -6.139719486236572
▁walked -6.139787197113037
▁do -6.146512985229492
▁fa -6.163430213928223
ri -6.174866676330566
▁se -6.276638507843018
▁painte -6.414267539978027
w -6.426430702209473
wer -6.439529895782471
ught -6.509080410003662
f -6.56548547744751
ook -6.604033946990967
▁bake -6.611507892608643
▁playe -6.613124370574951
▁help -6.614401817321777
▁hunt -6.614401817321777
▁runn -6.614455223083496
▁dream -6.614997863769531
▁pla -6.62434720993042
▁quick -6.625999450683594
har -6.625999927520752
ight -6.625999927520752
kindness -6.625999927520752
ove -6.625999927520752
▁again -6.625999927520752
▁cakes -6.625999927520752
▁home -6.625999927520752
▁lessons -6.625999927520752
▁pieces -6.625999927520752
▁students -6.625999927520752
▁things -6.625999927520752
▁every -6.62600040435791
▁hal -6.62600040435791
▁cl -6.626001358032227
▁talke -6.626001834869385
rain -6.626007080078125
▁better -6.626014232635498
▁books -6.62606143951416
▁plain -6.626102447509766
▁song -6.6261491775512695
▁builder -6.626206874847412
▁old -6.626224040985107
pin -6.626270771026611
▁take -6.626280784606934
▁building -6.626476287841797
▁make -6.626700401306152
▁other -6.6270751953125
▁slowly -6.627462863922119
▁singer -6.62810754776001
nted -6.628703594207764
▁driver -6.630288124084473
▁speaker -6.630288124084473
▁swimmer -6.630288124084473
▁teacher -6.631938934326172
▁br -6.633917331695557
▁done -6.6358723640441895
▁ro -6.637519359588623
▁dreamer -6.637726783752441
▁helper -6.637729167938232
▁hunter -6.637729167938232
▁runner -6.637730121612549
op -6.64861536026001
oke -6.649404048919678
▁reader -6.653085231781006
eep -6.653947830200195
▁bu -6.65871524810791
▁ta -6.663408279418945
▁worker -6.669337272644043
▁sp -6.673349857330322
▁learner -6.685788631439209
▁reading -6.688570499420166
ut -6.703973770141602
▁undo -6.7077107429504395
k -7.6201701164245605
' -7.625999927520752
q -7.657930374145508
j -7.6580305099487305
v -7.658130645751953
c -7.658230304718018
h -7.65833044052124
"#;

    /// Pieces from the listing above; `BYTES` stands for the 256 pieces `<0x00>` … `<0xFF>` with score 0.
    pub(super) fn spm_pieces(listing: &str) -> Vec<(String, f64)> {
        let mut v = Vec::new();
        for line in listing.lines().filter(|l| !l.is_empty()) {
            if line == "BYTES" {
                v.extend((0..=255u8).map(|b| (byte_piece(b), 0.0)));
                continue;
            }
            let (p, s) = line.rsplit_once(' ').unwrap();
            v.push((p.to_string(), s.parse().unwrap()));
        }
        v
    }

    #[test]
    fn viterbi_encoding_matches_sentencepiece_and_hugging_face() {
        for (listing, encoded, byte_fallback, size) in [
            (SPM_PLAIN_PIECES, SPM_PLAIN_ENCODED, false, 150),
            (SPM_BYTES_PIECES, SPM_BYTES_ENCODED, true, 400),
        ] {
            let pieces = spm_pieces(listing);
            assert_eq!(pieces.len(), size);
            let m = Unigram::new(pieces, Some(0), byte_fallback).unwrap();
            for (text, ids) in encoded {
                assert_eq!(&m.encode(text, PreTokenizer::Metaspace)[..], *ids, "{text}");
                if byte_fallback {
                    assert_eq!(m.decode(ids), *text, "byte fallback round-trips");
                }
            }
        }
    }

    #[test]
    fn unknown_characters_fuse_into_one_unknown_or_become_bytes() {
        let m = Unigram::new(
            vec![("<unk>".into(), 0.0), ("a".into(), -1.0), ("<0xC3>".into(), 0.0), ("<0xA9>".into(), 0.0)],
            Some(0),
            true,
        )
        .unwrap();
        // é = C3 A9 in UTF-8; ü = C3 BC has no <0xBC> piece, so it stays unknown; the unknowns x y fuse.
        assert_eq!(m.encode_word("aéa"), vec![1, 2, 3, 1]);
        assert_eq!(m.encode_word("axya"), vec![1, 0, 1]);
        assert_eq!(m.encode_word("aü"), vec![1, 0]);
        let l = m.lattice("ax");
        assert_eq!(l.nodes[1].log_prob, -1.0 - UNK_PENALTY);
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ = −0.5772156649015329; ψ(0.5) = −γ − 2 ln 2 = −1.9635100260214235; ψ(10) = 2.251752589066721
        // (Abramowitz & Stegun 6.3.2, 6.3.3; scipy.special.digamma(10)). SentencePiece's series stops at the
        // 1/(x−½)⁸ term; the next term at x − ½ = 6.5 is about 511/(67584·6.5¹⁰) ≈ 5e-11, so 1e-9 is the bound.
        assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-9);
        assert!((digamma(0.5) + 1.963_510_026_021_423_5).abs() < 1e-9);
        assert!((digamma(10.0) - 2.251_752_589_066_721).abs() < 1e-9);
        // ψ(c) ≈ ln(c − ½): the M-step's half-count discount.
        assert!((digamma(50.0) - math::ln(49.5)).abs() < 1e-4);
    }

    /// Metaspace words of the test corpus, one sentence per line (as spm reads corpus.txt).
    fn metaspace_words() -> Vec<(String, u64)> {
        let mut m: BTreeMap<String, u64> = BTreeMap::new();
        for line in TEST_CORPUS.lines() {
            for w in pre_tokenize(line, PreTokenizer::Metaspace) {
                *m.entry(w).or_insert(0) += 1;
            }
        }
        m.into_iter().collect()
    }

    /// (Σ count·Viterbi log-prob, Σ count·log Z, Viterbi tokens per word) of a model on weighted words.
    pub(super) fn corpus_stats(m: &Unigram, words: &[(String, u64)]) -> (f64, f64, f64) {
        let (mut vit, mut lz, mut toks, mut n) = (0.0, 0.0, 0.0, 0.0);
        for (w, c) in words {
            let l = m.lattice(w);
            let (path, s) = l.viterbi();
            vit += *c as f64 * s;
            lz += *c as f64 * l.log_partition();
            toks += (*c * path.len() as u64) as f64;
            n += *c as f64;
        }
        (vit, lz, toks / n)
    }

    #[test]
    fn trainer_is_close_to_sentencepiece_on_the_same_corpus() {
        // Same corpus, same settings (vocab 150 with <unk> <s> </s>, character coverage 1, shrinking 0.75, two EM
        // sub-iterations). Our seed extraction gives spm's 623 seeds and its first EM objectives (10.9488, 9.6633
        // nats per word) — checked by hand against spm's log — but the pruning rounds then differ slightly (spm
        // computes in f32; spm 0.2.3 also replaced the last EM round by a reachability prune), so the test asks
        // for near agreement, not identity.
        let words = metaspace_words();
        let cfg = UnigramConfig {
            vocab_size: 150,
            special_tokens: vec!["<s>".into(), "</s>".into()],
            ..UnigramConfig::default()
        };
        let (ours, rounds) = train(&words, &cfg);
        assert_eq!(ours.pieces().len(), 150);
        assert_eq!(rounds.len(), 3, "spm also ran three rounds: 248 → 186 → 165 → 150 (its log)");
        let pieces = |m: &Unigram| -> std::collections::BTreeSet<String> {
            m.pieces()[3..].iter().map(|p| p.0.clone()).collect()
        };
        let ours_set = pieces(&ours);
        let (ov, _, ot) = corpus_stats(&ours, &words);
        for (listing, min_overlap) in [(SPM020_PIECES, 136), (SPM_PLAIN_PIECES, 136)] {
            let spm = Unigram::new(spm_pieces(listing), Some(0), false).unwrap();
            let overlap = ours_set.intersection(&pieces(&spm)).count();
            let (sv, _, st) = corpus_stats(&spm, &words);
            // Measured: ours 2.456 tokens/word, Viterbi log-likelihood −4893 nats; spm 0.2.0 → 140/147 pieces shared,
            // 2.474 tokens/word, −4987; spm 0.2.3 → 139/147, 2.483, −5080 (its scores come from the 185-piece model
            // before its last prune). Bounds: ≥ 136/147 (92.5 %) shared, tokens/word within 3 %, log-likelihood
            // within 5 %. A trainer keeping only characters would share 29 pieces and need 5.7 tokens per word.
            assert!(overlap >= min_overlap, "{overlap} of 147 pieces shared");
            assert!((ot - st).abs() / st < 0.03, "tokens/word {ot} vs {st}");
            assert!((ov - sv).abs() / sv.abs() < 0.05, "Viterbi log-likelihood {ov} vs {sv}");
        }
    }

    #[test]
    fn degenerate_corpora_train_without_panicking() {
        let cfg = UnigramConfig {
            vocab_size: 10,
            ..UnigramConfig::default()
        };
        let (m, _) = train(&[], &cfg);
        assert_eq!(m.pieces().len(), 1, "only <unk>");
        assert_eq!(m.encode_word("abc"), vec![0], "unknown characters fuse into one <unk>");
        let (m, _) = train(&[("\u{2581}aaaa".to_string(), 3)], &cfg);
        assert_eq!(m.decode(&m.encode_word("\u{2581}aaaa")), "aaaa");
        // Fewer pieces asked for than there are characters: every character is still kept (spm refuses instead).
        let words: Vec<(String, u64)> = vec![("abcdefghijkl".to_string(), 2)];
        let (m, _) = train(&words, &cfg);
        assert_eq!(m.pieces().len(), 13);
        assert!(!m.encode_word("lkjihgfedcba").contains(&0));
    }

    #[test]
    fn trained_model_covers_every_character_and_round_trips() {
        let words = metaspace_words();
        let cfg = UnigramConfig {
            vocab_size: 120,
            ..UnigramConfig::default()
        };
        let mut t = UnigramTrainer::new(&words, &cfg);
        let seeds = t.vocab_size();
        let mut last = seeds;
        while let Some(r) = t.step() {
            assert!(r.vocab_size <= last);
            assert_eq!(r.vocab_size, t.vocab_size());
            last = r.vocab_size;
        }
        let m = t.model();
        assert_eq!(m.pieces().len(), 120);
        for line in TEST_CORPUS.lines() {
            let ids = m.encode(line, PreTokenizer::Metaspace);
            assert!(!ids.contains(&0), "every character of the corpus is a piece");
            assert_eq!(m.decode(&ids), line);
        }
    }
}

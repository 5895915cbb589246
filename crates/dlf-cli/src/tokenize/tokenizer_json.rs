//! Hugging Face `tokenizer.json`, the subset `dlf tokenize` writes and reads: the model (BPE, WordPiece or
//! Unigram with its vocabulary, merges, unknown token, continuation prefix, end-of-word suffix and byte
//! fallback), the pre-tokenizer, the decoder and the added (special) tokens. The layout follows
//! `tokenizers/src/models/*/serialization.rs`, `pre_tokenizers/*.rs` and `tokenizer/serialization.rs` of
//! huggingface/tokenizers (read at v0.23): a BPE vocabulary is an object `{token: id}`, merges are `"a b"`
//! strings (before 0.20) or `["a", "b"]` pairs (since) — both are read, pairs are written; a Unigram
//! vocabulary is a list of `[piece, log-prob]`.
//!
//! What the file holds beyond that subset is refused with the JSON path of the field and the reason (a
//! normalizer or post-processor changes the tokens, and dlf does not implement them), except fields that
//! cannot change a single sequence's tokens (`version`, a `ByteLevel` post-processor, which only trims
//! offsets; a decoder, which only affects `decode`), which are accepted.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};
use dlf_engine::lessons::tokenize::bpe::{Alphabet, Bpe, BpeOptions};
use dlf_engine::lessons::tokenize::pretokenize::{pre_tokenize, PreTokenizer};
use dlf_engine::lessons::tokenize::unigram::Unigram;
use dlf_engine::lessons::tokenize::wordpiece::WordPiece;
use serde_json::{json, Map, Value};

/// GPT-2's pre-tokenisation regex as Hugging Face writes it in a `Split` pre-tokenizer (and uses inside
/// `ByteLevel`): how a character-level BPE with the GPT-2 pre-tokenizer is saved.
pub const GPT2_REGEX: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// The trained or loaded subword model.
#[derive(Debug, Clone)]
pub enum Model {
    /// Byte-pair encoding.
    Bpe(Bpe),
    /// WordPiece.
    WordPiece(WordPiece),
    /// The Unigram language model.
    Unigram(Unigram),
}

/// An added token: matched in the raw text before pre-tokenisation and given its id whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    /// Its id.
    pub id: u32,
    /// Its text.
    pub content: String,
    /// Whether it is special (skipped by `decode` unless asked).
    pub special: bool,
}

/// A tokenizer: pre-tokenizer (none: the whole text is one word), model and added tokens.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// The subword model.
    pub model: Model,
    /// How text is cut into words first.
    pub pre: Option<PreTokenizer>,
    /// The added tokens, in the file's order.
    pub added: Vec<Added>,
    /// A WordPiece decoder's `cleanup` (BERT's: no space before `.`, `,`, `?`, `!`, `'s` …); dlf writes false.
    pub cleanup: bool,
    /// Metaspace's `prepend_scheme: "first"`: '▁' is prepended only to text at the start of the input, not to
    /// text after an added token (dlf trains with "always").
    pub metaspace_first: bool,
}

impl Model {
    /// `BPE`, `WordPiece` or `Unigram`, as the file's `model.type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Model::Bpe(_) => "BPE",
            Model::WordPiece(_) => "WordPiece",
            Model::Unigram(_) => "Unigram",
        }
    }

    /// How many tokens the model's own vocabulary has.
    pub fn vocab_len(&self) -> usize {
        match self {
            Model::Bpe(m) => m.vocab().len(),
            Model::WordPiece(m) => m.vocab().len(),
            Model::Unigram(m) => m.pieces().len(),
        }
    }

    /// The token of a model id.
    pub fn token(&self, id: u32) -> Option<&str> {
        let i = id as usize;
        match self {
            Model::Bpe(m) => m.vocab().get(i).map(String::as_str),
            Model::WordPiece(m) => m.vocab().get(i).map(String::as_str),
            Model::Unigram(m) => m.pieces().get(i).map(|(p, _)| p.as_str()),
        }
    }

    /// The id of a token of the model's vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        match self {
            Model::Bpe(m) => m.token_to_id(token),
            Model::WordPiece(m) => m.token_to_id(token),
            Model::Unigram(m) => m.token_to_id(token),
        }
    }

    /// Encodes one pre-tokenised word (or a whole text when there is no pre-tokenizer).
    fn encode_word(&self, word: &str) -> Vec<u32> {
        match self {
            Model::Bpe(m) => m.encode_word(word),
            Model::WordPiece(m) => m.encode_word(word).unwrap_or_else(|_| {
                // BERT's rule: a word with a position no piece matches becomes one unknown token.
                m.token_to_id(m.unk_token()).into_iter().collect()
            }),
            Model::Unigram(m) => m.encode_word(word),
        }
    }

    fn encode(&self, text: &str, pre: Option<PreTokenizer>) -> Vec<u32> {
        match (self, pre) {
            (_, None) => self.encode_word(text),
            (Model::Bpe(m), Some(p)) => m.encode(text, p),
            (Model::WordPiece(m), Some(p)) => m.encode(text, p),
            (Model::Unigram(m), Some(p)) => m.encode(text, p),
        }
    }

    fn decode(&self, ids: &[u32]) -> String {
        match self {
            Model::Bpe(m) => m.decode(ids),
            Model::WordPiece(m) => m.decode(ids),
            Model::Unigram(m) => m.decode(ids),
        }
    }
}

impl Tokenizer {
    /// The token text of an id (an added token's content, or the model's token).
    pub fn token(&self, id: u32) -> Option<&str> {
        self.added
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.content.as_str())
            .or_else(|| self.model.token(id))
    }

    /// Every id is below this.
    pub fn id_bound(&self) -> u32 {
        let model = u32::try_from(self.model.vocab_len()).unwrap_or(u32::MAX);
        self.added.iter().map(|a| a.id + 1).fold(model, u32::max)
    }

    /// Encodes a text as Hugging Face does a single sequence without special tokens (`encode(text,
    /// add_special_tokens=False)`): added tokens are found first (leftmost, then longest), each becomes its
    /// id, and the text between them is pre-tokenised and encoded by the model.
    ///
    /// # Errors
    /// A Unigram model without an unknown token meets a character that is no piece (Hugging Face refuses too).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let start = text.len() - rest.len();
            let (segment, added) = match self.next_added(rest) {
                Some((at, added)) => (&rest[..at], Some(added)),
                None => (rest, None),
            };
            if !segment.is_empty() {
                self.check_unknown(segment)?;
                ids.extend(self.encode_segment(segment, start));
            }
            match added {
                Some(a) => {
                    ids.push(a.id);
                    rest = &rest[segment.len() + a.content.len()..];
                }
                None => break,
            }
        }
        Ok(ids)
    }

    /// A Unigram model with no unknown token cannot segment a character that is no piece: Hugging Face
    /// errors ("unk_id is missing") and so does dlf, naming the character.
    fn check_unknown(&self, segment: &str) -> Result<()> {
        let Model::Unigram(m) = &self.model else {
            return Ok(());
        };
        if m.unk_id().is_some() {
            return Ok(());
        }
        let words = match self.pre {
            Some(p) => pre_tokenize(segment, p),
            None => vec![segment.to_string()],
        };
        for w in &words {
            let mut buf = [0u8; 4];
            if let Some(c) = w
                .chars()
                .find(|c| m.token_to_id(c.encode_utf8(&mut buf)).is_none())
            {
                bail!(
                    "{c:?} is no piece of this Unigram model and it has no unknown token (model.unk_id), so \
                     {w:?} cannot be segmented"
                );
            }
        }
        Ok(())
    }

    /// Encodes text between added tokens that starts at byte `start` of the input.
    fn encode_segment(&self, segment: &str, start: usize) -> Vec<u32> {
        let first_only = self.metaspace_first && self.pre == Some(PreTokenizer::Metaspace);
        if !first_only || start == 0 || segment.starts_with([' ', '▁']) {
            return self.model.encode(segment, self.pre);
        }
        // Hugging Face's "first": no '▁' before a segment that does not start the input (its pre-tokenizer
        // checks the segment's offset in the original text), so the '▁' dlf's metaspace adds comes off again.
        let mut words = pre_tokenize(segment, PreTokenizer::Metaspace);
        if let Some(w) = words.first_mut() {
            *w = w.strip_prefix('▁').unwrap_or(w).to_string();
        }
        words
            .iter()
            .filter(|w| !w.is_empty())
            .flat_map(|w| self.model.encode_word(w))
            .collect()
    }

    /// The leftmost added token in `text` (the longest of those starting there) and its byte offset.
    fn next_added(&self, text: &str) -> Option<(usize, &Added)> {
        let mut best: Option<(usize, &Added)> = None;
        for a in self.added.iter().filter(|a| !a.content.is_empty()) {
            if let Some(at) = text.find(&a.content) {
                let better = match best {
                    None => true,
                    Some((b, cur)) => at < b || (at == b && a.content.len() > cur.content.len()),
                };
                if better {
                    best = Some((at, a));
                }
            }
        }
        best
    }

    /// Decodes ids as Hugging Face does: special tokens are dropped first unless `keep_special` (its `decode`
    /// skips them by default), then the remaining tokens go through the model's decoder as one sequence (so a
    /// dropped token leaves the spaces around it); an added token outside the model's vocabulary is spliced
    /// in as its text.
    ///
    /// # Errors
    /// An id that is neither in the model's vocabulary nor an added token.
    pub fn decode(&self, ids: &[u32], keep_special: bool) -> Result<String> {
        let bound = self.id_bound();
        if let Some(&bad) = ids
            .iter()
            .find(|&&id| id >= bound || self.token(id).is_none())
        {
            bail!(
                "id {bad} is not in the vocabulary: ids run from 0 to {} ({} model tokens, {} added)",
                bound.saturating_sub(1),
                self.model.vocab_len(),
                self.added.len()
            );
        }
        let model_len = self.model.vocab_len();
        let mut out = String::new();
        let mut run: Vec<u32> = Vec::new();
        for &id in ids {
            let added = self.added.iter().find(|a| a.id == id);
            if added.is_some_and(|a| a.special && !keep_special) {
                continue;
            }
            if (id as usize) < model_len {
                run.push(id);
            } else if let Some(a) = added {
                if !run.is_empty() {
                    out.push_str(&self.decode_run(&run, out.is_empty()));
                    run.clear();
                }
                out.push_str(&a.content);
            }
        }
        if !run.is_empty() {
            out.push_str(&self.decode_run(&run, out.is_empty()));
        }
        Ok(out)
    }

    /// Model ids to text: the model's own decoder, except a WordPiece decoder with `cleanup`, which is
    /// Hugging Face's per-token rule (tokens/src/decoders/wordpiece.rs): a continuation loses its prefix, any
    /// other token after the first gets a space before it, then each token is cleaned up.
    fn decode_run(&self, ids: &[u32], first: bool) -> String {
        match &self.model {
            Model::WordPiece(m) if self.cleanup => {
                let mut out = String::new();
                for (i, &id) in ids.iter().enumerate() {
                    let token = self.model.token(id).unwrap_or_default();
                    let piece = match token.strip_prefix(m.prefix()) {
                        Some(rest) if i > 0 || !first => rest.to_string(),
                        _ if i > 0 || !first => format!(" {token}"),
                        _ => token.to_string(),
                    };
                    out.push_str(&wordpiece_cleanup(&piece));
                }
                out
            }
            _ => self.model.decode(ids),
        }
    }

    /// Whether the model works on GPT-2's byte stand-ins.
    fn bytes(&self) -> bool {
        matches!(&self.model, Model::Bpe(m) if m.options().alphabet == Alphabet::Bytes)
    }

    // -----------------------------------------------------------------------------------------------------
    // Writing.

    /// The tokenizer as Hugging Face `tokenizer.json` (pretty-printed, keys in HF's order).
    pub fn to_json(&self) -> String {
        let added: Vec<Value> = self
            .added
            .iter()
            .map(|a| {
                json!({
                    "id": a.id, "content": a.content, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": a.special,
                })
            })
            .collect();
        let mut root = Map::new();
        root.insert("version".into(), json!("1.0"));
        root.insert("truncation".into(), Value::Null);
        root.insert("padding".into(), Value::Null);
        root.insert("added_tokens".into(), Value::Array(added));
        root.insert("normalizer".into(), Value::Null);
        root.insert("pre_tokenizer".into(), self.pre_tokenizer_json());
        root.insert("post_processor".into(), Value::Null);
        root.insert("decoder".into(), self.decoder_json());
        root.insert("model".into(), self.model_json());
        let mut text = serde_json::to_string_pretty(&Value::Object(root))
            .expect("JSON of strings and numbers");
        text.push('\n');
        text
    }

    fn pre_tokenizer_json(&self) -> Value {
        let byte_level = |use_regex: bool| json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": use_regex});
        let plain = |p: PreTokenizer| match p {
            PreTokenizer::Whitespace => json!({"type": "WhitespaceSplit"}),
            PreTokenizer::Bert => json!({"type": "BertPreTokenizer"}),
            PreTokenizer::Metaspace if self.metaspace_first => {
                json!({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true})
            }
            PreTokenizer::Metaspace => metaspace_json(),
            PreTokenizer::Gpt2 => json!({
                "type": "Split", "pattern": {"Regex": GPT2_REGEX}, "behavior": "Isolated", "invert": false,
            }),
        };
        match (self.pre, self.bytes()) {
            (None, false) => Value::Null,
            (None, true) => byte_level(false),
            (Some(PreTokenizer::Gpt2), true) => byte_level(true),
            (Some(p), true) => {
                json!({"type": "Sequence", "pretokenizers": [plain(p), byte_level(false)]})
            }
            (Some(p), false) => plain(p),
        }
    }

    fn decoder_json(&self) -> Value {
        match &self.model {
            Model::Bpe(m) => {
                let o = m.options();
                let byte_level = json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true});
                if o.alphabet == Alphabet::Bytes && self.pre == Some(PreTokenizer::Metaspace) {
                    // Bytes back to text, then every '▁' to a space and the first space dropped, as dlf's
                    // decode does (HF's Metaspace decoder after ByteLevel drops the '▁'s without a space,
                    // because ByteLevel has joined the tokens into one; LLaMA's tokenizer.json uses this pair).
                    json!({"type": "Sequence", "decoders": [
                        byte_level,
                        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                        {"type": "Strip", "content": " ", "start": 1, "stop": 0},
                    ]})
                } else if o.alphabet == Alphabet::Bytes {
                    byte_level
                } else if let Some(suffix) = &o.end_of_word_suffix {
                    json!({"type": "BPEDecoder", "suffix": suffix})
                } else if let Some(prefix) = &o.continuing_subword_prefix {
                    json!({"type": "WordPiece", "prefix": prefix, "cleanup": false})
                } else if self.pre == Some(PreTokenizer::Metaspace) {
                    metaspace_json()
                } else {
                    json!({"type": "Fuse"})
                }
            }
            Model::WordPiece(m) => {
                json!({"type": "WordPiece", "prefix": m.prefix(), "cleanup": false})
            }
            Model::Unigram(_) if self.pre == Some(PreTokenizer::Metaspace) => metaspace_json(),
            Model::Unigram(_) => json!({"type": "Fuse"}),
        }
    }

    fn model_json(&self) -> Value {
        let ordered = |vocab: &[String]| {
            let mut map = Map::new();
            for (i, t) in vocab.iter().enumerate() {
                map.insert(t.clone(), json!(i));
            }
            Value::Object(map)
        };
        match &self.model {
            Model::Bpe(m) => {
                let o = m.options();
                let merges: Vec<Value> = m.merges().iter().map(|(a, b)| json!([a, b])).collect();
                json!({
                    "type": "BPE", "dropout": null, "unk_token": o.unk_token,
                    "continuing_subword_prefix": o.continuing_subword_prefix,
                    "end_of_word_suffix": o.end_of_word_suffix, "fuse_unk": false, "byte_fallback": false,
                    "ignore_merges": false, "vocab": ordered(m.vocab()), "merges": merges,
                })
            }
            Model::WordPiece(m) => json!({
                "type": "WordPiece", "unk_token": m.unk_token(), "continuing_subword_prefix": m.prefix(),
                "max_input_chars_per_word": m.max_input_chars_per_word(), "vocab": ordered(m.vocab()),
            }),
            Model::Unigram(m) => {
                let vocab: Vec<Value> = m.pieces().iter().map(|(p, s)| json!([p, s])).collect();
                json!({"type": "Unigram", "unk_id": m.unk_id(), "vocab": vocab, "byte_fallback": m.byte_fallback()})
            }
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Reading.

    /// Reads the subset of `tokenizer.json` described in the module documentation. Only `model` is required,
    /// so a hand-written `{"model": {"type": "Unigram", "vocab": [["a", -1.2], …]}}` loads.
    ///
    /// # Errors
    /// Naming the JSON path of the first field that is missing, has the wrong type, is inconsistent, or
    /// holds a pipeline part dlf does not implement.
    pub fn from_json(text: &str) -> Result<Tokenizer> {
        let root: Value = serde_json::from_str(text).map_err(|e| anyhow!("not valid JSON: {e}"))?;
        let root = At::root(&root);
        root.only(&[
            "version",
            "truncation",
            "padding",
            "added_tokens",
            "normalizer",
            "pre_tokenizer",
            "post_processor",
            "decoder",
            "model",
        ])?;
        for (field, why) in [
            (
                "normalizer",
                "it rewrites the text before tokenisation (lower-casing, Unicode normalisation, …)",
            ),
            ("truncation", "it cuts the token sequence"),
            ("padding", "it adds padding tokens"),
        ] {
            if let Some(v) = root.opt(field) {
                return Err(v.err(&format!(
                    "{} is not implemented by dlf: {why}; set it to null to tokenise without it",
                    describe_type(v.v)
                )));
            }
        }
        if let Some(post) = root.opt("post_processor") {
            let kind = post.req("type")?.str()?;
            if kind != "ByteLevel" {
                return Err(post.err(&format!(
                    "{kind} is not implemented by dlf: it adds special tokens around each sequence; set it to \
                     null to encode the model's tokens alone, as Hugging Face's encode(text, \
                     add_special_tokens=False) does"
                )));
            }
        }
        let (pre, bytes) = match root.opt("pre_tokenizer") {
            None => (None, false),
            Some(p) => read_pre_tokenizer(&p)?,
        };
        let mut cleanup = false;
        if let Some(decoder) = root.opt("decoder") {
            read_decoder(&decoder, &mut cleanup)?;
        }
        let model = read_model(&root.req("model")?, bytes)?;
        let added = match root.opt("added_tokens") {
            None => Vec::new(),
            Some(list) => read_added(&list, &model)?,
        };
        let metaspace_first = root
            .opt("pre_tokenizer")
            .and_then(|p| p.opt("prepend_scheme"))
            .is_some_and(|s| s.v.as_str() == Some("first"));
        Ok(Tokenizer {
            model,
            pre,
            added,
            cleanup,
            metaspace_first,
        })
    }
}

/// Hugging Face's WordPiece `cleanup` of one decoded token.
fn wordpiece_cleanup(token: &str) -> String {
    token
        .replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" do not", " don't")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}

fn metaspace_json() -> Value {
    json!({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true})
}

/// A value in the document with its JSON path, for messages.
#[derive(Debug, Clone)]
struct At<'a> {
    v: &'a Value,
    path: String,
}

/// `null`, `a string`, … for messages.
fn describe_type(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some(t) => format!("a {t}"),
            None => "an object".into(),
        },
    }
}

impl<'a> At<'a> {
    fn root(v: &'a Value) -> At<'a> {
        At {
            v,
            path: String::new(),
        }
    }

    fn err(&self, msg: &str) -> anyhow::Error {
        if self.path.is_empty() {
            anyhow!("{msg}")
        } else {
            anyhow!("{}: {msg}", self.path)
        }
    }

    fn child_key(&self, key: &str) -> String {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match (self.path.is_empty(), plain) {
            (true, true) => key.to_string(),
            (false, true) => format!("{}.{key}", self.path),
            (_, false) => format!("{}[{key:?}]", self.path),
        }
    }

    /// The field `key`, or `None` when it is absent or null.
    fn opt(&self, key: &str) -> Option<At<'a>> {
        match self.v.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(At {
                v,
                path: self.child_key(key),
            }),
        }
    }

    fn req(&self, key: &str) -> Result<At<'a>> {
        self.opt(key).ok_or_else(|| {
            let path = self.child_key(key);
            anyhow!("{path}: missing (or null)")
        })
    }

    /// Refuses any field not in `known`.
    fn only(&self, known: &[&str]) -> Result<()> {
        let obj = self.obj()?;
        if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
            let path = self.child_key(k);
            bail!(
                "{path}: unknown field; dlf reads {}",
                crate::tokenize::names::one_of(known, "and")
            );
        }
        Ok(())
    }

    fn obj(&self) -> Result<&'a Map<String, Value>> {
        self.v.as_object().ok_or_else(|| {
            self.err(&format!(
                "expected an object, found {}",
                describe_type(self.v)
            ))
        })
    }

    fn items(&self) -> Result<Vec<At<'a>>> {
        let arr = self.v.as_array().ok_or_else(|| {
            self.err(&format!(
                "expected an array, found {}",
                describe_type(self.v)
            ))
        })?;
        Ok(arr
            .iter()
            .enumerate()
            .map(|(i, v)| At {
                v,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    fn str(&self) -> Result<&'a str> {
        self.v.as_str().ok_or_else(|| {
            self.err(&format!(
                "expected a string, found {}",
                describe_type(self.v)
            ))
        })
    }

    fn bool(&self) -> Result<bool> {
        self.v.as_bool().ok_or_else(|| {
            self.err(&format!(
                "expected true or false, found {}",
                describe_type(self.v)
            ))
        })
    }

    fn u32(&self) -> Result<u32> {
        self.v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                self.err(&format!(
                    "expected a token id (0 to 2^32 − 1), found {}",
                    describe_type(self.v)
                ))
            })
    }

    fn f64(&self) -> Result<f64> {
        match self.v.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(self.err(&format!(
                "expected a finite number, found {}",
                describe_type(self.v)
            ))),
        }
    }

    /// An optional boolean that must equal `want` (dlf implements only that setting).
    fn flag_must_be(&self, key: &str, want: bool, why: &str) -> Result<()> {
        if let Some(v) = self.opt(key) {
            if v.bool()? != want {
                return Err(v.err(&format!("{} is not supported: {why}", !want)));
            }
        }
        Ok(())
    }
}

/// The pre-tokenizer and whether it maps bytes to GPT-2's stand-ins (`ByteLevel`).
fn read_pre_tokenizer(p: &At) -> Result<(Option<PreTokenizer>, bool)> {
    let kind = p.req("type")?.str()?;
    let supported =
        "dlf reads ByteLevel (GPT-2), BertPreTokenizer, WhitespaceSplit, Metaspace, a Split with \
                     GPT-2's regex, or a Sequence of one of these and ByteLevel(use_regex=false)";
    match kind {
        "ByteLevel" => {
            p.only(&["type", "add_prefix_space", "trim_offsets", "use_regex"])?;
            p.flag_must_be(
                "add_prefix_space",
                false,
                "dlf's GPT-2 pre-tokenizer adds no space before the first word (RoBERTa's setting is not \
                 implemented)",
            )?;
            let regex = match p.opt("use_regex") {
                Some(v) => v.bool()?,
                None => true,
            };
            Ok((regex.then_some(PreTokenizer::Gpt2), true))
        }
        "Sequence" => {
            p.only(&["type", "pretokenizers"])?;
            let list = p.req("pretokenizers")?.items()?;
            match list.as_slice() {
                [first, second] if second.req("type")?.str()? == "ByteLevel" => {
                    let (pre, bytes) = read_pre_tokenizer(first)?;
                    if bytes {
                        return Err(first.err("two ByteLevel pre-tokenizers in a row are not supported"));
                    }
                    let (regex, _) = read_pre_tokenizer(second)?;
                    if regex.is_some() {
                        return Err(second.err(
                            "a ByteLevel with use_regex=true after another pre-tokenizer is not supported",
                        ));
                    }
                    Ok((pre, true))
                }
                _ => Err(p.err(&format!("this Sequence is not supported: {supported}"))),
            }
        }
        "BertPreTokenizer" => {
            p.only(&["type"])?;
            Ok((Some(PreTokenizer::Bert), false))
        }
        "WhitespaceSplit" => {
            p.only(&["type"])?;
            Ok((Some(PreTokenizer::Whitespace), false))
        }
        "Metaspace" => {
            p.only(&["type", "replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep"])?;
            let replacement = p.req("replacement")?;
            if replacement.str()? != "▁" {
                return Err(replacement.err("only the replacement \"▁\" (U+2581, SentencePiece's) is supported"));
            }
            if let Some(s) = p.opt("prepend_scheme") {
                // "first" prepends only to text at the start of the input, not after an added token.
                let scheme = s.str()?;
                if scheme != "always" && scheme != "first" {
                    return Err(s.err(&format!(
                        "{scheme:?} is not supported: dlf prepends \"▁\" to every text (\"always\", \"first\")"
                    )));
                }
            }
            p.flag_must_be("add_prefix_space", true, "dlf always prepends \"▁\"")?;
            p.flag_must_be("split", true, "dlf splits the text before every \"▁\"")?;
            Ok((Some(PreTokenizer::Metaspace), false))
        }
        "Split" => {
            p.only(&["type", "pattern", "behavior", "invert"])?;
            let regex = p.req("pattern")?.opt("Regex").map(|r| r.str()).transpose()?;
            let behavior = p.opt("behavior").map(|b| b.str()).transpose()?;
            let invert = p.opt("invert").map(|b| b.bool()).transpose()?;
            if regex == Some(GPT2_REGEX) && behavior == Some("Isolated") && invert != Some(true) {
                Ok((Some(PreTokenizer::Gpt2), false))
            } else {
                Err(p.err(&format!(
                    "only a Split with GPT-2's regex {GPT2_REGEX:?}, behavior \"Isolated\" and invert false is \
                     supported; {supported}"
                )))
            }
        }
        "Whitespace" => Err(p.err(
            "Whitespace (the regex \\w+|[^\\w\\s]+, which also splits punctuation off) is not implemented; \
             WhitespaceSplit (split on whitespace only) and BertPreTokenizer (whitespace, then every \
             punctuation character) are",
        )),
        other => Err(p.err(&format!("{other} is not implemented; {supported}"))),
    }
}

/// Checks the decoder is one dlf's `decode` agrees with (it decodes by the model's own rules).
fn read_decoder(d: &At, cleanup: &mut bool) -> Result<()> {
    let kind = d.req("type")?.str()?;
    match kind {
        "WordPiece" => {
            if let Some(c) = d.opt("cleanup") {
                *cleanup = c.bool()?;
            }
            Ok(())
        }
        "ByteLevel" | "BPEDecoder" | "Metaspace" | "Fuse" | "Replace" | "Strip" => Ok(()),
        "Sequence" => {
            for item in d.req("decoders")?.items()? {
                read_decoder(&item, cleanup)?;
            }
            Ok(())
        }
        other => Err(d.err(&format!(
            "{other} is not implemented; dlf decodes by the model's own rules, which agree with ByteLevel, \
             WordPiece, BPEDecoder, Metaspace, Fuse, Replace and Strip (set it to null to decode by those rules)"
        ))),
    }
}

/// `{token: id}` as the vocabulary in id order; ids must be 0..n−1, each once.
fn ordered_vocab(v: &At) -> Result<Vec<String>> {
    let obj = v.obj()?;
    let mut by_id: Vec<Option<String>> = vec![None; obj.len()];
    for (token, id) in obj {
        let at = At {
            v: id,
            path: v.child_key(token),
        };
        let id = at.u32()? as usize;
        if id >= obj.len() {
            return Err(at.err(&format!(
                "id {id} is out of range: a vocabulary of {} tokens has ids 0 to {}",
                obj.len(),
                obj.len() - 1
            )));
        }
        if let Some(other) = &by_id[id] {
            return Err(at.err(&format!("id {id} is also the id of {other:?}")));
        }
        by_id[id] = Some(token.clone());
    }
    Ok(by_id
        .into_iter()
        .map(|t| t.expect("n distinct ids below n cover 0..n"))
        .collect())
}

fn opt_string(m: &At, key: &str) -> Result<Option<String>> {
    m.opt(key).map(|v| v.str().map(str::to_string)).transpose()
}

/// A prefix or suffix: GPT-2's own tokenizer.json writes `""` for none.
fn opt_marker(m: &At, key: &str) -> Result<Option<String>> {
    Ok(opt_string(m, key)?.filter(|s| !s.is_empty()))
}

fn read_model(m: &At, bytes: bool) -> Result<Model> {
    let kind = m.req("type")?;
    match kind.str()? {
        "BPE" => {
            m.only(&[
                "type",
                "dropout",
                "unk_token",
                "continuing_subword_prefix",
                "end_of_word_suffix",
                "fuse_unk",
                "byte_fallback",
                "ignore_merges",
                "vocab",
                "merges",
            ])?;
            if let Some(d) = m.opt("dropout") {
                return Err(d.err("BPE-dropout makes encoding random; dlf encodes deterministically (set it to null)"));
            }
            m.flag_must_be(
                "fuse_unk",
                false,
                "dlf gives each unknown symbol its own unknown token",
            )?;
            m.flag_must_be(
                "byte_fallback",
                false,
                "dlf's BPE has no <0xNN> byte fallback (use a byte-level BPE)",
            )?;
            m.flag_must_be(
                "ignore_merges",
                false,
                "dlf always applies the merges, even to a word that is itself in the vocabulary",
            )?;
            let vocab_at = m.req("vocab")?;
            let vocab = ordered_vocab(&vocab_at)?;
            let merges_at = m.req("merges")?;
            let known: std::collections::HashSet<&str> = vocab.iter().map(String::as_str).collect();
            let mut merges = Vec::new();
            for item in merges_at.items()? {
                let pair = match item.v {
                    Value::String(s) => {
                        // The format before tokenizers 0.20: "a b", split at its single space.
                        let parts: Vec<&str> = s.split(' ').collect();
                        match parts.as_slice() {
                            [a, b] => (a.to_string(), b.to_string()),
                            _ => {
                                return Err(item.err(&format!(
                                    "a merge written as a string must be two tokens separated by one space, \
                                     found {s:?}"
                                )))
                            }
                        }
                    }
                    Value::Array(a) if a.len() == 2 => {
                        let parts = item.items()?;
                        (parts[0].str()?.to_string(), parts[1].str()?.to_string())
                    }
                    other => {
                        return Err(item.err(&format!(
                            "expected a merge, \"a b\" or [\"a\", \"b\"], found {}",
                            describe_type(other)
                        )))
                    }
                };
                for (side, t) in [("left", &pair.0), ("right", &pair.1)] {
                    if !known.contains(t.as_str()) {
                        return Err(
                            item.err(&format!("its {side} token {t:?} is not in model.vocab"))
                        );
                    }
                }
                merges.push(pair);
            }
            let options = BpeOptions {
                alphabet: if bytes {
                    Alphabet::Bytes
                } else {
                    Alphabet::Chars
                },
                end_of_word_suffix: opt_marker(m, "end_of_word_suffix")?,
                continuing_subword_prefix: opt_marker(m, "continuing_subword_prefix")?,
                unk_token: opt_string(m, "unk_token")?,
            };
            if let Some(unk) = &options.unk_token {
                if !vocab.contains(unk) {
                    return Err(m
                        .req("unk_token")?
                        .err(&format!("{unk:?} is not in model.vocab")));
                }
            }
            Bpe::from_parts(vocab, merges, options)
                .map_err(|e| m.err(&e))
                .map(Model::Bpe)
        }
        "WordPiece" => {
            if bytes {
                return Err(
                    m.err("a WordPiece model after a ByteLevel pre-tokenizer is not supported")
                );
            }
            m.only(&[
                "type",
                "unk_token",
                "continuing_subword_prefix",
                "max_input_chars_per_word",
                "vocab",
            ])?;
            let unk = opt_string(m, "unk_token")?.unwrap_or_else(|| "[UNK]".to_string());
            let prefix =
                opt_string(m, "continuing_subword_prefix")?.unwrap_or_else(|| "##".to_string());
            let max = match m.opt("max_input_chars_per_word") {
                Some(v) => v.u32()? as usize,
                None => 100,
            };
            let vocab = ordered_vocab(&m.req("vocab")?)?;
            if !vocab.contains(&unk) {
                return Err(m.err(&format!("unk_token {unk:?} is not in model.vocab")));
            }
            WordPiece::from_vocab(vocab, &prefix, &unk, max)
                .map_err(|e| m.err(&e))
                .map(Model::WordPiece)
        }
        "Unigram" => {
            if bytes {
                return Err(
                    m.err("a Unigram model after a ByteLevel pre-tokenizer is not supported")
                );
            }
            m.only(&["type", "unk_id", "vocab", "byte_fallback"])?;
            let mut pieces = Vec::new();
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for item in m.req("vocab")?.items()? {
                let pair = item.items()?;
                if pair.len() != 2 {
                    return Err(item.err("expected [piece, log-probability]"));
                }
                let piece = pair[0].str()?;
                let score = pair[1].f64()?;
                if let Some(first) = seen.insert(piece, pieces.len()) {
                    return Err(
                        item.err(&format!("the piece {piece:?} is also model.vocab[{first}]"))
                    );
                }
                pieces.push((piece.to_string(), score));
            }
            let unk_id = match m.opt("unk_id") {
                Some(v) => {
                    let id = v.u32()?;
                    if id as usize >= pieces.len() {
                        return Err(v.err(&format!(
                            "{id} is not an index of model.vocab ({} pieces)",
                            pieces.len()
                        )));
                    }
                    Some(id)
                }
                None => None,
            };
            let byte_fallback = match m.opt("byte_fallback") {
                Some(v) => v.bool()?,
                None => false,
            };
            Unigram::new(pieces, unk_id, byte_fallback)
                .map_err(|e| m.err(&e))
                .map(Model::Unigram)
        }
        "WordLevel" => {
            Err(kind.err("WordLevel is not implemented; dlf reads BPE, WordPiece and Unigram"))
        }
        other => Err(kind.err(&format!(
            "{other:?} is not a model dlf reads: BPE, WordPiece or Unigram"
        ))),
    }
}

fn read_added(list: &At, model: &Model) -> Result<Vec<Added>> {
    let mut out: Vec<Added> = Vec::new();
    for item in list.items()? {
        item.only(&[
            "id",
            "content",
            "single_word",
            "lstrip",
            "rstrip",
            "normalized",
            "special",
        ])?;
        let id = item.req("id")?.u32()?;
        let content = item.req("content")?.str()?.to_string();
        for flag in ["single_word", "lstrip", "rstrip"] {
            item.flag_must_be(
                flag,
                false,
                "dlf matches added tokens exactly, without stripping or word checks",
            )?;
        }
        let special = match item.opt("special") {
            Some(v) => v.bool()?,
            None => false,
        };
        if let Some(model_id) = model.token_to_id(&content) {
            if model_id != id {
                return Err(item.err(&format!(
                    "{content:?} has id {id} here but {model_id} in model.vocab"
                )));
            }
        } else if (id as usize) < model.vocab_len() {
            let other = model.token(id).unwrap_or_default();
            return Err(item.err(&format!(
                "id {id} of {content:?} is the id of {other:?} in model.vocab"
            )));
        }
        if let Some(prev) = out.iter().find(|a| a.id == id || a.content == content) {
            let mut msg = String::new();
            let _ = write!(msg, "repeats id {} / {:?}", prev.id, prev.content);
            return Err(item.err(&msg));
        }
        out.push(Added {
            id,
            content,
            special,
        });
    }
    Ok(out)
}

//! "Three tokenizers, one sentence": byte-pair encoding (Sennrich, Haddow & Birch, ACL 2016), WordPiece
//! (Schuster & Nakajima, ICASSP 2012; Wu et al. 2016) and the Unigram language model (Kudo, ACL 2018), each
//! trained on the same built-in corpus to the same vocabulary size and each pre-tokenising as its best-known
//! user does (BPE on words split at spaces with Sennrich's `</w>`; WordPiece on BERT's words with `##`
//! continuations; Unigram on SentencePiece's `▁`-marked pieces). The sentence is shown cut by each, with its
//! token count; below, the Unigram segmentation lattice of one word: every vocabulary piece that matches a
//! span of the word is a bar over its characters, the Viterbi path (the most probable segmentation, which
//! is what Unigram encodes to) is drawn solid, and every bar's opacity and number is its marginal
//! probability of lying on a segmentation drawn from the model, computed by forward–backward; `log Z` sums
//! the probabilities of all segmentations.
//!
//! Training three tokenizers does not fit one 4 ms frame at the largest vocabulary, so this is a
//! [`Stepped`] widget: each slice makes at most [`SLICE_MERGES`] BPE or WordPiece merges or one Unigram
//! EM-and-prune round, and the figure shows the finished tokenizers as they arrive. Everything drawn is
//! computed by the engine (`dlf_engine::lessons::tokenize::{bpe, wordpiece, unigram}`). Each trainer is also
//! set up in a slice of its own (the Unigram trainer's seed pieces cost about as much as one of its rounds).
//!
//! Measured natively in release on the shared two-core machine (the fastest of 15 runs of each bench case):
//! the costliest slice 0.64–0.87 ms (a Unigram round or the final draw), the whole computation 2.2–3.6 ms in
//! 9–15 slices; `cargo bench` (which times the whole computation) gave 18–30 ms while the machine's load
//! average was 12, so those numbers measure the machine, not the widget. In headless Chromium through
//! WebAssembly (`window.dlfStep`, fastest of 7 runs): the costliest slice 0.9–1.3 ms, the whole computation
//! 7.7–10.9 ms, which is why it is sliced.

use dlf_engine::lessons::tokenize::bpe::{Bpe, BpeConfig, BpeTrainer};
use dlf_engine::lessons::tokenize::corpus;
use dlf_engine::lessons::tokenize::pretokenize::{count_words, pre_tokenize, PreTokenizer};
use dlf_engine::lessons::tokenize::unigram::{Lattice, Unigram, UnigramConfig, UnigramTrainer};
use dlf_engine::lessons::tokenize::wordpiece::{WordPiece, WordPieceConfig, WordPieceTrainer};

use crate::figure::Figure;
use crate::number_format::{fixed, int};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, Anchor, Rect, Svg};

/// BPE or WordPiece merges per slice of a progressive redraw.
pub const SLICE_MERGES: usize = 100;

/// The longest sentence admitted.
pub const MAX_SENTENCE_CHARS: usize = 160;

/// Figure width, and the left margin of its panels.
const WIDTH: f64 = 640.0;
const LEFT: f64 = 14.0;
/// Height of one row of token boxes.
const ROW: f64 = 19.0;
/// Lattice rows drawn at most; a word with more overlapping pieces says how many were left out.
const LATTICE_ROWS: usize = 12;

/// The "Three tokenizers, one sentence" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenizerCompare;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "tokenizer-compare",
    title: "Three tokenizers, one sentence",
    summary: "The same sentence cut by BPE, WordPiece and Unigram trained on the same corpus to the same \
              vocabulary size, and the Unigram lattice of one word with its Viterbi path and marginals.",
    params: &[
        ParamSpec::text(
            "sentence",
            "Sentence",
            "The tiredest bakers were rising earlier than the newest helpers.",
            MAX_SENTENCE_CHARS,
        )
        .help("The text every tokenizer encodes."),
        ParamSpec::select(
            "corpus",
            "Training corpus",
            &[
                ("english", "English prose"),
                ("code", "Rust code"),
                ("german", "German prose"),
                ("numbers", "Numbers"),
            ],
            "english",
        )
        .help("The built-in text all three tokenizers are trained on."),
        ParamSpec::range("vocab", "Vocabulary size", 100.0..=500.0, 200.0)
            .step(20.0)
            .help("The vocabulary every tokenizer is trained to, alphabet included."),
        ParamSpec::range("word", "Lattice of word", 1.0..=24.0, 2.0)
            .help("Which word of the sentence (as SentencePiece cuts it) the lattice shows; past the last word, the last."),
    ],
    // The largest vocabulary on every corpus, with the longest sentence the box admits (a 160-character line
    // of long words, so the lattices and token rows are as large as they get).
    bench: &[
        BenchCase { name: "english-500-long", query: "corpus=english&vocab=500&word=24&sentence=Uncharacteristically+overwhelming+counterrevolutionaries+misunderstood+the+incomprehensibilities+of+internationalisation+and+institutionalisation+again" },
        BenchCase { name: "code-500-long", query: "corpus=code&vocab=500&word=24&sentence=Uncharacteristically+overwhelming+counterrevolutionaries+misunderstood+the+incomprehensibilities+of+internationalisation+and+institutionalisation+again" },
        BenchCase { name: "german-500-long", query: "corpus=german&vocab=500&word=24&sentence=Uncharacteristically+overwhelming+counterrevolutionaries+misunderstood+the+incomprehensibilities+of+internationalisation+and+institutionalisation+again" },
        BenchCase { name: "numbers-500-long", query: "corpus=numbers&vocab=500&word=24&sentence=Uncharacteristically+overwhelming+counterrevolutionaries+misunderstood+the+incomprehensibilities+of+internationalisation+and+institutionalisation+again" },
    ],
};

/// A tokenizer being trained or trained.
enum Stage<T, M> {
    /// Not set up yet: each trainer is built in a slice of its own (the Unigram trainer's seed pieces cost
    /// as much as a round), so that no frame does two expensive things.
    Waiting,
    Training(T),
    Done(M),
    /// Only while moving from `Training` to `Done`.
    Moving,
}

/// The training in progress and, once all three are trained, the figure's data.
pub(crate) struct Progress {
    bpe: Stage<BpeTrainer, Bpe>,
    wordpiece: Stage<WordPieceTrainer, WordPiece>,
    unigram: Stage<UnigramTrainer, Unigram>,
    /// BPE merges, WordPiece merges and Unigram rounds done so far.
    work: [usize; 3],
}

impl Progress {
    fn finished(&self) -> bool {
        matches!(
            (&self.bpe, &self.wordpiece, &self.unigram),
            (Stage::Done(_), Stage::Done(_), Stage::Done(_))
        )
    }
}

/// The built-in corpus the parameters name.
fn training_text(p: &Params) -> &'static str {
    corpus::find(p.str("corpus")).map_or("", |c| c.text)
}

/// BPE as in Sennrich et al.: characters, words split at spaces, `</w>` on each word's last symbol.
fn bpe_config(vocab: usize) -> BpeConfig {
    BpeConfig {
        vocab_size: vocab,
        end_of_word_suffix: Some("</w>".to_string()),
        ..BpeConfig::default()
    }
}

const BPE_PRE: PreTokenizer = PreTokenizer::Whitespace;
const WORDPIECE_PRE: PreTokenizer = PreTokenizer::Bert;
const UNIGRAM_PRE: PreTokenizer = PreTokenizer::Metaspace;

/// The tokens of `sentence` under each tokenizer, as strings, with the unknown token marked.
fn tokens(progress: &Progress, sentence: &str) -> [Option<Vec<String>>; 3] {
    let bpe = match &progress.bpe {
        Stage::Done(m) => Some(
            m.encode(sentence, BPE_PRE)
                .into_iter()
                .map(|id| m.vocab().get(id as usize).cloned().unwrap_or_default())
                .collect(),
        ),
        _ => None,
    };
    let wordpiece = match &progress.wordpiece {
        Stage::Done(m) => Some(
            m.encode(sentence, WORDPIECE_PRE)
                .into_iter()
                .map(|id| m.vocab().get(id as usize).cloned().unwrap_or_default())
                .collect(),
        ),
        _ => None,
    };
    let unigram = match &progress.unigram {
        Stage::Done(m) => Some(
            m.encode(sentence, UNIGRAM_PRE)
                .into_iter()
                .map(|id| {
                    m.pieces()
                        .get(id as usize)
                        .map(|(piece, _)| piece.clone())
                        .unwrap_or_default()
                })
                .collect(),
        ),
        _ => None,
    };
    [bpe, wordpiece, unigram]
}

/// The word of the sentence whose lattice is drawn (SentencePiece's `▁`-marked pieces), if the sentence
/// has any.
fn lattice_word(p: &Params) -> Option<String> {
    let words = pre_tokenize(p.text("sentence"), UNIGRAM_PRE);
    let k = p.usize("word").clamp(1, words.len().max(1));
    words.into_iter().nth(k - 1)
}

/// Approximate width in pixels of `s` in the 9.5 px figure font.
fn text_width(s: &str) -> f64 {
    5.6 * s.chars().count() as f64
}

/// `s` cut to `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Lays out token boxes from `top`, wrapping at the figure's width; returns the y below the last row.
fn draw_tokens(svg: &mut Svg, tokens: &[String], top: f64) -> f64 {
    let (mut x, mut y) = (LEFT + 96.0, top);
    for (t, token) in tokens.iter().enumerate() {
        let shown = clip(&token.replace(' ', "␣"), 24);
        let w = text_width(&shown) + 6.0;
        if x + w > WIDTH - LEFT && x > LEFT + 96.0 {
            x = LEFT + 96.0;
            y += ROW;
        }
        svg.rect_with_opacity(Rect::new(x, y, w, 15.0), fill_class(t), 0.22);
        svg.text(x + 3.0, y + 11.0, Anchor::Start, "dlf-ts", &shown);
        x += w + 2.0;
    }
    y + ROW
}

/// Interval packing: the row of each node (sorted by start, then end), the lowest row free at its start.
fn lattice_rows(lattice: &Lattice) -> Vec<usize> {
    let mut row_end: Vec<usize> = Vec::new();
    lattice
        .nodes
        .iter()
        .map(|n| match row_end.iter().position(|&end| end <= n.start) {
            Some(r) => {
                row_end[r] = n.end;
                r
            }
            None => {
                row_end.push(n.end);
                row_end.len() - 1
            }
        })
        .collect()
}

/// What the lattice panel shows, computed by the engine.
struct LatticeView {
    lattice: Lattice,
    path: Vec<usize>,
    best: f64,
    log_z: f64,
    marginals: Vec<f64>,
}

fn lattice_view(model: &Unigram, word: &str) -> LatticeView {
    let lattice = model.lattice(word);
    let (path, best) = lattice.viterbi();
    let log_z = lattice.log_partition();
    let marginals = lattice.marginals();
    LatticeView {
        lattice,
        path,
        best,
        log_z,
        marginals,
    }
}

/// Draws the lattice from `top`; returns the y below it.
fn draw_lattice(svg: &mut Svg, view: &LatticeView, top: f64) -> f64 {
    let lattice = &view.lattice;
    let chars: Vec<char> = lattice.text.chars().collect();
    let n = chars.len().max(1);
    let cell = ((WIDTH - 2.0 * LEFT) / n as f64).min(44.0);
    let x_of = |i: usize| LEFT + cell * i as f64;
    // The characters, one cell each.
    for (i, c) in chars.iter().enumerate() {
        svg.rect(Rect::new(x_of(i), top, cell, 18.0), "dlf-box");
        svg.text(x_of(i) + cell / 2.0, top + 13.0, Anchor::Middle, "dlf-t", &c.to_string());
    }
    let rows = lattice_rows(lattice);
    let shown_rows = rows.iter().copied().max().map_or(0, |r| r + 1).min(LATTICE_ROWS);
    let bar_top = |r: usize| top + 24.0 + 17.0 * r as f64;
    let mut hidden = 0;
    for (k, node) in lattice.nodes.iter().enumerate() {
        let r = rows[k];
        if r >= LATTICE_ROWS {
            hidden += 1;
            continue;
        }
        let on_path = view.path.contains(&k);
        let m = view.marginals.get(k).copied().unwrap_or(0.0);
        let bar = Rect::new(x_of(node.start) + 1.0, bar_top(r), cell * (node.end - node.start) as f64 - 2.0, 14.0);
        // Opacity from 0.1 (never on a sampled path) to 0.9 (always): the marginal made visible.
        svg.rect_with_opacity(bar, if on_path { "dlf-f1" } else { "dlf-f0" }, 0.1 + 0.8 * m.clamp(0.0, 1.0));
        if on_path {
            svg.rect(bar, "dlf-acc");
        }
        // Two decimals; a marginal that rounds to zero is written "≈0" (it is never exactly zero).
        let short = if m < 0.005 { "≈0".to_string() } else { fixed(m, 2) };
        let label = {
            let mut s = node.piece.clone();
            s.push(' ');
            s.push_str(&short);
            s
        };
        let text = if text_width(&label) + 4.0 <= bar.w {
            Some(label)
        } else if text_width(&short) + 2.0 <= bar.w {
            Some(short)
        } else {
            None
        };
        if let Some(text) = text {
            svg.text(bar.cx(), bar.y + 10.5, Anchor::Middle, "dlf-ts", &text);
        }
    }
    let mut y = bar_top(shown_rows) + 4.0;
    let mut legend = String::from("bars: pieces (opacity and number: marginal probability); outlined: the Viterbi path");
    if hidden > 0 {
        legend.push_str("; ");
        legend.push_str(&int(hidden as i64));
        legend.push_str(" more pieces not drawn");
    }
    svg.text(LEFT, y + 8.0, Anchor::Start, "dlf-ts", &legend);
    y += 14.0;
    y
}

/// Draws the heading, the three segmentations and the lattice; returns the height used.
fn draw_body(
    svg: &mut Svg,
    p: &Params,
    s: &Progress,
    all: &[Option<Vec<String>>; 3],
    word: Option<&str>,
    view: Option<&LatticeView>,
) -> f64 {
    let names = ["BPE", "WordPiece", "Unigram"];
    let styles = ["words, </w>", "BERT words, ##", "SentencePiece ▁"];
    let mut heading = String::from("Trained on ");
    heading.push_str(corpus::find(p.str("corpus")).map_or("", |c| c.name));
    heading.push_str(" to ");
    heading.push_str(&int(p.usize("vocab") as i64));
    heading.push_str(" tokens each");
    svg.text(LEFT, 14.0, Anchor::Start, "dlf-th", &heading);
    let mut y = 26.0;
    for (k, name) in names.iter().enumerate() {
        svg.text(LEFT, y + 11.0, Anchor::Start, "dlf-th", name);
        svg.text(LEFT, y + 22.0, Anchor::Start, "dlf-ts", styles[k]);
        match &all[k] {
            Some(tokens) if tokens.is_empty() => {
                svg.text(LEFT + 96.0, y + 11.0, Anchor::Start, "dlf-ts", "no tokens: the sentence is empty");
                y += 2.0 * ROW;
            }
            Some(tokens) => {
                let mut label = int(tokens.len() as i64);
                label.push_str(" tokens");
                svg.text(LEFT, y + 33.0, Anchor::Start, "dlf-ts", &label);
                y = draw_tokens(svg, tokens, y).max(y + 2.0 * ROW + 6.0);
            }
            None => {
                let mut msg = String::from("training… ");
                msg.push_str(&int(s.work[k] as i64));
                msg.push_str(if k == 2 { " EM rounds so far" } else { " merges so far" });
                svg.text(LEFT + 96.0, y + 11.0, Anchor::Start, "dlf-ts", &msg);
                y += 2.0 * ROW;
            }
        }
        y += 4.0;
    }
    y += 12.0;
    match (view, word) {
        (Some(v), Some(word)) => {
            let mut title = String::from("Unigram lattice of “");
            title.push_str(&clip(word, 30));
            title.push('”');
            svg.text(LEFT, y, Anchor::Start, "dlf-th", &title);
            y = draw_lattice(svg, v, y + 8.0);
        }
        (_, None) => {
            svg.text(LEFT, y, Anchor::Start, "dlf-ts", "no word to draw a lattice for: the sentence is empty");
            y += 10.0;
        }
        (None, Some(_)) => {
            svg.text(LEFT, y, Anchor::Start, "dlf-ts", "the Unigram lattice appears once Unigram is trained");
            y += 10.0;
        }
    }
    y + 8.0
}

impl Stepped for TokenizerCompare {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, _p: &Params) -> Progress {
        Progress {
            bpe: Stage::Waiting,
            wordpiece: Stage::Waiting,
            unigram: Stage::Waiting,
            work: [0; 3],
        }
    }

    fn advance(&self, p: &Params, s: &mut Progress) -> bool {
        let text = training_text(p);
        let vocab = p.usize("vocab");
        if matches!(s.bpe, Stage::Waiting) {
            s.bpe = Stage::Training(BpeTrainer::new(
                &count_words([text], BPE_PRE),
                &bpe_config(vocab),
            ));
        } else if let Stage::Training(trainer) = &mut s.bpe {
            for _ in 0..SLICE_MERGES {
                if trainer.step().is_none() {
                    if let Stage::Training(t) = std::mem::replace(&mut s.bpe, Stage::Moving) {
                        s.bpe = Stage::Done(t.finish());
                    }
                    break;
                }
                s.work[0] += 1;
            }
        } else if matches!(s.wordpiece, Stage::Waiting) {
            s.wordpiece = Stage::Training(WordPieceTrainer::new(
                &count_words([text], WORDPIECE_PRE),
                &WordPieceConfig {
                    vocab_size: vocab,
                    ..WordPieceConfig::default()
                },
            ));
        } else if let Stage::Training(trainer) = &mut s.wordpiece {
            for _ in 0..SLICE_MERGES {
                if trainer.step().is_none() {
                    if let Stage::Training(t) = std::mem::replace(&mut s.wordpiece, Stage::Moving) {
                        s.wordpiece = Stage::Done(t.finish());
                    }
                    break;
                }
                s.work[1] += 1;
            }
        } else if matches!(s.unigram, Stage::Waiting) {
            s.unigram = Stage::Training(UnigramTrainer::new(
                &count_words([text], UNIGRAM_PRE),
                &UnigramConfig {
                    vocab_size: vocab,
                    ..UnigramConfig::default()
                },
            ));
        } else if let Stage::Training(trainer) = &mut s.unigram {
            if trainer.step().is_none() {
                if let Stage::Training(t) = std::mem::replace(&mut s.unigram, Stage::Moving) {
                    s.unigram = Stage::Done(t.finish());
                }
            } else {
                s.work[2] += 1;
            }
        }
        s.finished()
    }

    fn draw(&self, p: &Params, s: &Progress) -> Figure {
        let all = tokens(s, p.text("sentence"));
        let word = lattice_word(p);
        let view = match (&s.unigram, &word) {
            (Stage::Done(model), Some(word)) => Some(lattice_view(model, word)),
            _ => None,
        };
        // Token rows wrap, so the height is known only once laid out: lay out into a scratch document first.
        let mut scratch = Svg::new(WIDTH, 100.0, "");
        let height = draw_body(&mut scratch, p, s, &all, word.as_deref(), view.as_ref());
        let mut svg = Svg::new(
            WIDTH,
            height,
            "One sentence cut by BPE, WordPiece and Unigram; the Unigram lattice of one word",
        );
        draw_body(&mut svg, p, s, &all, word.as_deref(), view.as_ref());
        let names = ["BPE", "WordPiece", "Unigram"];
        let mut description = String::new();
        let mut counts = Vec::new();
        for (k, name) in names.iter().enumerate() {
            if let Some(tokens) = &all[k] {
                let mut label = String::from(*name);
                label.push_str(" tokens");
                counts.push((label, int(tokens.len() as i64)));
            }
        }
        let mut numbers = counts;
        let sizes = [
            match &s.bpe {
                Stage::Done(m) => Some(m.vocab().len()),
                _ => None,
            },
            match &s.wordpiece {
                Stage::Done(m) => Some(m.vocab().len()),
                _ => None,
            },
            match &s.unigram {
                Stage::Done(m) => Some(m.pieces().len()),
                _ => None,
            },
        ];
        for (k, size) in sizes.iter().enumerate() {
            if let Some(size) = size {
                let mut label = String::from(names[k]);
                label.push_str(" vocabulary");
                numbers.push((label, int(*size as i64)));
            }
        }
        for (k, work) in s.work.iter().enumerate() {
            let label = ["BPE merges", "WordPiece merges", "Unigram EM rounds"][k];
            numbers.push((label.to_string(), int(*work as i64)));
        }
        if let Some(v) = &view {
            let path: Vec<&str> = v.path.iter().map(|&i| v.lattice.nodes[i].piece.as_str()).collect();
            numbers.push(("Viterbi path".to_string(), path.join(" | ")));
            numbers.push(("Viterbi log p".to_string(), fixed(v.best, 3)));
            numbers.push(("log Z".to_string(), fixed(v.log_z, 3)));
            numbers.push((
                "P(Viterbi | word)".to_string(),
                fixed(dlf_engine::math::exp(v.best - v.log_z), 3),
            ));
            numbers.push(("Lattice pieces".to_string(), int(v.lattice.nodes.len() as i64)));
        }
        if s.finished() {
            description.push_str("The sentence takes ");
            for (k, name) in names.iter().enumerate() {
                let n = all[k].as_ref().map_or(0, Vec::len);
                description.push_str(&int(n as i64));
                description.push(' ');
                description.push_str(name);
                description.push_str(if k == 0 { " tokens, " } else if k == 1 { " tokens and " } else { " tokens" });
            }
            description.push_str(" at the same vocabulary size. ");
            // A small corpus can run out of candidates before the target size: say so rather than pretend.
            let target = p.usize("vocab");
            for (k, size) in sizes.iter().enumerate() {
                if let Some(size) = size.filter(|&n| n < target) {
                    description.push_str(names[k]);
                    description.push_str(" stops at ");
                    description.push_str(&int(size as i64));
                    description.push_str(" tokens: the corpus offers no more candidates. ");
                }
            }
            if let Some(v) = &view {
                description.push_str("Its lattice word has ");
                description.push_str(&int(v.lattice.nodes.len() as i64));
                description.push_str(" candidate pieces; the Viterbi segmentation has probability ");
                description.push_str(&fixed(dlf_engine::math::exp(v.best - v.log_z), 3));
                description.push_str(" among all segmentations.");
            }
        } else {
            description.push_str("Training the three tokenizers, a slice per frame: ");
            description.push_str(&int(s.work[0] as i64));
            description.push_str(" BPE merges, ");
            description.push_str(&int(s.work[1] as i64));
            description.push_str(" WordPiece merges, ");
            description.push_str(&int(s.work[2] as i64));
            description.push_str(" Unigram rounds so far.");
        }
        Figure {
            svg: svg.finish(),
            numbers,
            description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Widget;
    use crate::spec::parse_params;
    use dlf_engine::lessons::tokenize::{bpe, unigram, wordpiece};

    fn params(pairs: &[(&str, &str)]) -> Params {
        parse_params(&SPEC, pairs).expect("valid parameters")
    }

    /// The three tokenizers trained in one call each by the engine, as the widget configures them.
    fn trained(corpus_id: &str, vocab: usize) -> (Bpe, WordPiece, Unigram) {
        let text = corpus::find(corpus_id).expect("a built-in corpus").text;
        let (b, _) = bpe::train(&count_words([text], BPE_PRE), &bpe_config(vocab));
        let (w, _) = wordpiece::train(
            &count_words([text], WORDPIECE_PRE),
            &WordPieceConfig {
                vocab_size: vocab,
                ..WordPieceConfig::default()
            },
        );
        let (u, _) = unigram::train(
            &count_words([text], UNIGRAM_PRE),
            &UnigramConfig {
                vocab_size: vocab,
                ..UnigramConfig::default()
            },
        );
        (b, w, u)
    }

    #[test]
    fn token_counts_are_the_engines() {
        for (corpus_id, vocab) in [("english", 200), ("german", 340)] {
            let vocab_text = vocab.to_string();
            let p = params(&[("corpus", corpus_id), ("vocab", vocab_text.as_str())]);
            let fig = TokenizerCompare.render(&p);
            let sentence = p.text("sentence");
            let (b, w, u) = trained(corpus_id, vocab);
            assert_eq!(fig.expect_number("BPE tokens"), b.encode(sentence, BPE_PRE).len() as f64);
            assert_eq!(
                fig.expect_number("WordPiece tokens"),
                w.encode(sentence, WORDPIECE_PRE).len() as f64
            );
            assert_eq!(
                fig.expect_number("Unigram tokens"),
                u.encode(sentence, UNIGRAM_PRE).len() as f64
            );
        }
    }

    #[test]
    fn the_lattice_shows_the_engines_viterbi_path_and_log_z() {
        let p = params(&[]);
        let fig = TokenizerCompare.render(&p);
        let (_, _, u) = trained("english", 200);
        let word = lattice_word(&p).expect("the default sentence has words");
        assert_eq!(word, "▁tiredest");
        let lattice = u.lattice(&word);
        let (path, best) = lattice.viterbi();
        let pieces: Vec<&str> = path.iter().map(|&i| lattice.nodes[i].piece.as_str()).collect();
        let shown = fig.numbers.iter().find(|(l, _)| l == "Viterbi path").map(|(_, v)| v.clone());
        assert_eq!(shown, Some(pieces.join(" | ")));
        assert!((fig.expect_number("log Z") - lattice.log_partition()).abs() < 5e-4);
        assert!((fig.expect_number("Viterbi log p") - best).abs() < 5e-4);
        // Each piece of the path is drawn outlined, and nothing else is (the lattice fits its rows here).
        assert!(lattice_rows(&lattice).iter().all(|&r| r < LATTICE_ROWS));
        assert_eq!(fig.svg.matches("class=\"dlf-acc\"").count(), path.len());
        // The Viterbi path is one segmentation, so its probability is at most the whole: log p ≤ log Z.
        assert!(best <= lattice.log_partition() + 1e-12);
    }

    #[test]
    fn the_word_slider_picks_the_sentences_words_and_stops_at_the_last() {
        let words = |k: &str| lattice_word(&params(&[("word", k), ("sentence", "low lower newest")]));
        assert_eq!(words("1").as_deref(), Some("▁low"));
        assert_eq!(words("3").as_deref(), Some("▁newest"));
        assert_eq!(words("24").as_deref(), Some("▁newest"));
        assert_eq!(lattice_word(&params(&[("sentence", "")])), None);
    }
}

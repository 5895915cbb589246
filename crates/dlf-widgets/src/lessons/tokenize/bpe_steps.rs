//! "BPE, one merge at a time": byte-pair encoding trained on an editable corpus (Sennrich, Haddow & Birch,
//! "Neural Machine Translation of Rare Words with Subword Units", ACL 2016; byte-level as in Radford et al.,
//! "Language Models are Unsupervised Multitask Learners", 2019), shown after any number of merges: the merge
//! table so far with its counts, the most frequent words cut into their current tokens, and the trade-off
//! curve of the corpus's length in tokens against the vocabulary size.
//!
//! Each merge adds one token to the vocabulary (one more row in the embedding matrix, `d` more parameters)
//! and shortens the corpus by the merged pair's count; the counts fall merge after merge, so the curve
//! flattens: the first merges buy a lot of compression, the later ones little. The curve is drawn over the
//! whole slider range (training runs to [`MAX_MERGES`] at every redraw) so the current point sits on it.
//!
//! Everything drawn comes from the engine's incremental trainer (`dlf_engine::lessons::tokenize::bpe::
//! BpeTrainer`): the merges and their counts, the vocabulary sizes, the corpus lengths and the words'
//! segmentations; the widget only chooses what to show. Cost: counting the words of at most
//! [`MAX_CORPUS_CHARS`] characters and [`MAX_MERGES`] merges of the incremental trainer, each touching only
//! the words that contain the merged pair; see the bench cases. Measured with `cargo bench -p dlf-widgets
//! --bench widgets -- bpe-steps` on the shared two-core machine: 0.04 ms at the defaults and 0.46–0.75 ms at
//! 300 merges on the built-in corpora (the German corpus under the byte alphabet is the costliest); in
//! headless Chromium through WebAssembly (`window.dlfStep`, fastest of 7 runs) 0.1 ms at the defaults and
//! 0.6–0.9 ms at the bench cases.

use dlf_engine::lessons::tokenize::bpe::{Alphabet, BpeConfig, BpeTrainer, MergeStep, TieBreak};
use dlf_engine::lessons::tokenize::corpus;
use dlf_engine::lessons::tokenize::pretokenize::{count_words, PreTokenizer};

use crate::figure::Figure;
use crate::number_format::{fixed, int};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{Anchor, Axis, Plot, Rect, Svg};

/// The most merges the slider offers: enough to turn every frequent word of the built-in corpora into one
/// token, so the trade-off curve flattens within the range.
pub const MAX_MERGES: usize = 300;

/// The longest corpus the text box admits: about the size of the built-in corpora, which the bench times.
pub const MAX_CORPUS_CHARS: usize = 2000;

/// Embedding width used to turn the vocabulary size into parameters (GPT-2 small's `d_model`, Radford et
/// al. 2019): the embedding matrix has `V · d` of them, and so does an untied output layer.
pub const EMBED_DIM: usize = 768;

/// Merge-table rows shown (the latest ones).
const TABLE_ROWS: usize = 10;
/// Words shown with their segmentation (the most frequent ones), in two columns.
const WORDS_SHOWN: usize = 12;

/// The "BPE, one merge at a time" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BpeSteps;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "bpe-steps",
    title: "BPE, one merge at a time",
    summary: "Train byte-pair encoding on a corpus you can edit and watch the merge table grow, the words \
              fall into fewer tokens and the corpus shorten as the vocabulary grows.",
    params: &[
        ParamSpec::range("merges", "Merges", 0.0..=300.0, 5.0)
            .help("How many merges the trainer has made: each adds one token to the vocabulary."),
        ParamSpec::select(
            "source",
            "Corpus",
            &[
                ("text", "the text below"),
                ("english", "English prose"),
                ("code", "Rust code"),
                ("german", "German prose"),
                ("numbers", "Numbers"),
            ],
            "text",
        )
        .help("What to train on: the editable text below, or a built-in corpus (the text box is then ignored)."),
        ParamSpec::select(
            "alphabet",
            "Alphabet",
            &[("chars", "characters"), ("bytes", "bytes (GPT-2)")],
            "chars",
        )
        .help("The initial symbols: the corpus's characters, or the 256 bytes of UTF-8 (no unknown symbol ever)."),
        ParamSpec::toggle("eow", "End-of-word marker </w>", true)
            .help("Append </w> to each word's last symbol (Sennrich et al.), so a word-final piece differs from the same letters inside a word."),
        ParamSpec::select(
            "pre",
            "Pre-tokenizer",
            &[
                ("whitespace", "split on spaces"),
                ("gpt2", "GPT-2 regex (space kept on the word)"),
            ],
            "whitespace",
        )
        .help("How the text is cut into words before counting (merges never cross a word boundary): at spaces, dropping them, or by GPT-2's pattern, which keeps each word's leading space and splits off punctuation and digits."),
        ParamSpec::select(
            "tie",
            "Tie-break",
            &[
                ("hf", "smaller ids (Hugging Face)"),
                ("lexicographic", "lexicographic"),
                ("first-seen", "first seen (subword-nmt)"),
            ],
            "hf",
        )
        .help("Which pair is merged when several have the same count."),
        ParamSpec::text("corpus", "Corpus text", corpus::SENNRICH, MAX_CORPUS_CHARS)
            .help("The training text (used when the corpus is \"the text below\"); words repeat to make their pairs frequent."),
    ],
    // Every merge of the slider on each built-in corpus (about the size of the longest text the box admits),
    // under both alphabets; the byte alphabet starts from 256 symbols and splits umlauts into two bytes.
    bench: &[
        BenchCase { name: "english-300", query: "merges=300&source=english" },
        BenchCase { name: "english-300-bytes-gpt2", query: "merges=300&source=english&alphabet=bytes&pre=gpt2" },
        BenchCase { name: "code-300-bytes-gpt2", query: "merges=300&source=code&alphabet=bytes&pre=gpt2" },
        BenchCase { name: "german-300-bytes", query: "merges=300&source=german&alphabet=bytes" },
        BenchCase { name: "numbers-300-gpt2", query: "merges=300&source=numbers&pre=gpt2" },
    ],
};

/// The engine's pre-tokenizer for the `pre` option.
fn pre_tokenizer(p: &Params) -> PreTokenizer {
    match p.str("pre") {
        "gpt2" => PreTokenizer::Gpt2,
        _ => PreTokenizer::Whitespace,
    }
}

/// The engine's tie-break for the `tie` option.
fn tie_break(p: &Params) -> TieBreak {
    match p.str("tie") {
        "lexicographic" => TieBreak::Lexicographic,
        "first-seen" => TieBreak::FirstSeen,
        _ => TieBreak::HuggingFace,
    }
}

/// The text to train on.
fn training_text(p: &Params) -> &str {
    match p.str("source") {
        "text" => p.text("corpus"),
        id => corpus::find(id).map_or("", |c| c.text),
    }
}

/// What one run of the trainer gives the figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Run {
    /// The words of the corpus with their counts, as the trainer saw them (sorted by word).
    pub words: Vec<(String, u64)>,
    /// Vocabulary size and corpus length in tokens before any merge.
    pub initial: (usize, u64),
    /// Every merge made, up to [`MAX_MERGES`].
    pub steps: Vec<MergeStep>,
    /// The merges asked for, capped by the merges the corpus allows.
    pub shown: usize,
    /// The indices into `words` of the most frequent words and their tokens after `shown` merges.
    pub segmented: Vec<(usize, Vec<String>)>,
}

/// Trains to [`MAX_MERGES`] merges (or until no pair is left), recording the segmentation of the most
/// frequent words after the requested number of merges.
pub(crate) fn run(p: &Params) -> Run {
    let words = count_words([training_text(p)], pre_tokenizer(p));
    let cfg = BpeConfig {
        // The trainer stops on its own when the vocabulary is full; the widget stops it after MAX_MERGES.
        vocab_size: usize::MAX,
        alphabet: if p.str("alphabet") == "bytes" {
            Alphabet::Bytes
        } else {
            Alphabet::Chars
        },
        tie_break: tie_break(p),
        end_of_word_suffix: p.bool("eow").then(|| "</w>".to_string()),
        ..BpeConfig::default()
    };
    let mut order: Vec<usize> = (0..words.len()).collect();
    // Most frequent first; equal counts in the word list's (byte) order, so the choice is deterministic.
    order.sort_by(|&a, &b| words[b].1.cmp(&words[a].1).then(a.cmp(&b)));
    order.truncate(WORDS_SHOWN);
    let wanted = p.usize("merges").min(MAX_MERGES);
    let mut trainer = BpeTrainer::new(&words, &cfg);
    let initial = (trainer.vocab_size(), trainer.corpus_tokens());
    let mut steps = Vec::new();
    let mut segmented = Vec::new();
    let snapshot = |trainer: &BpeTrainer| -> Vec<(usize, Vec<String>)> {
        order
            .iter()
            .map(|&i| {
                let tokens = trainer
                    .word_segmentation(i)
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                (i, tokens)
            })
            .collect()
    };
    if wanted == 0 {
        segmented = snapshot(&trainer);
    }
    while steps.len() < MAX_MERGES {
        let Some(step) = trainer.step() else { break };
        steps.push(step);
        if steps.len() == wanted {
            segmented = snapshot(&trainer);
        }
    }
    let shown = wanted.min(steps.len());
    if shown < wanted {
        // The corpus ran out of pairs before the requested merge: show where training stopped.
        segmented = snapshot(&trainer);
    }
    Run {
        words,
        initial,
        steps,
        shown,
        segmented,
    }
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

/// Approximate width in pixels of `s` in the 9.5 px figure font (about 5.6 px per character).
fn text_width(s: &str) -> f64 {
    5.6 * s.chars().count() as f64
}

fn draw_table(svg: &mut Svg, run: &Run) {
    let (x, y) = (14.0, 30.0);
    svg.text(x, y - 8.0, Anchor::Start, "dlf-th", "Merge table (latest last)");
    if run.shown == 0 {
        svg.text(x, y + 14.0, Anchor::Start, "dlf-ts", "no merges yet: every token is one symbol");
        return;
    }
    svg.text(x, y + 8.0, Anchor::Start, "dlf-ts", "rank");
    svg.text(x + 40.0, y + 8.0, Anchor::Start, "dlf-ts", "pair → new token");
    svg.text(x + 290.0, y + 8.0, Anchor::End, "dlf-ts", "count");
    let first = run.shown.saturating_sub(TABLE_ROWS);
    if first > 0 {
        let mut more = String::from("… ");
        more.push_str(&int(first as i64));
        more.push_str(" earlier merges");
        svg.text(x + 40.0, y + 22.0, Anchor::Start, "dlf-ts", &more);
    }
    for (row, (rank, step)) in run.steps[first..run.shown].iter().enumerate().map(|(r, s)| (r, (first + r + 1, s))) {
        let top = y + 27.0 + 15.0 * row as f64;
        if rank == run.shown {
            svg.rect_with_opacity(Rect::new(x - 4.0, top, 300.0, 14.0), "dlf-facc", 0.35);
        }
        let mut pair = clip(&step.left, 12);
        pair.push_str(" + ");
        pair.push_str(&clip(&step.right, 12));
        pair.push_str(" → ");
        pair.push_str(&clip(&step.merged, 16));
        svg.text(x, top + 11.0, Anchor::Start, "dlf-ts", &int(rank as i64));
        svg.text(x + 40.0, top + 11.0, Anchor::Start, "dlf-ts", &pair);
        svg.text(x + 290.0, top + 11.0, Anchor::End, "dlf-ts", &int(step.count as i64));
    }
}

fn draw_curve(svg: &mut Svg, run: &Run, unit: &str) {
    let mut points = vec![(run.initial.0 as f64, run.initial.1 as f64)];
    points.extend(run.steps.iter().map(|s| (s.vocab_size as f64, s.corpus_tokens as f64)));
    let x_axis = Axis::fit_linear(points.iter().map(|p| p.0), false, "vocabulary size V");
    let y_axis = Axis::fit_linear(points.iter().map(|p| p.1), true, "corpus length (tokens)");
    let plot = Plot::new(Rect::new(378.0, 30.0, 240.0, 150.0), x_axis, y_axis);
    plot.draw_axes(svg, "Corpus length against vocabulary");
    plot.line(svg, &points, "dlf-ln dlf-s0");
    let current = points[run.shown];
    let mut label = String::from("now: ");
    label.push_str(&fixed(run.initial.1 as f64 / current.1.max(1.0), 2));
    label.push(' ');
    label.push_str(unit);
    label.push_str("/token");
    plot.vline(svg, current.0, "");
    plot.scatter(svg, &[current], 4.0, "dlf-facc dlf-pt");
    // The label sits on whichever side of the marker has room.
    if let Some(x) = plot.px(current.0) {
        let f = plot.frame;
        if x > f.cx() {
            svg.text(x - 3.0, f.y + 10.0, Anchor::End, "dlf-ts", &label);
        } else {
            svg.text(x + 3.0, f.y + 10.0, Anchor::Start, "dlf-ts", &label);
        }
    }
}

/// Rows of the word panel: one column up to half of [`WORDS_SHOWN`] words, two columns beyond.
fn word_rows(run: &Run) -> usize {
    let n = run.segmented.len();
    if n <= WORDS_SHOWN / 2 {
        n.max(1)
    } else {
        n.div_ceil(2)
    }
}

fn draw_words(svg: &mut Svg, run: &Run, top: f64) {
    svg.text(14.0, top, Anchor::Start, "dlf-th", "Most frequent words, cut into their current tokens");
    if run.segmented.is_empty() {
        svg.text(14.0, top + 18.0, Anchor::Start, "dlf-ts", "the corpus has no words");
        return;
    }
    let rows = word_rows(run);
    for (k, (i, tokens)) in run.segmented.iter().enumerate() {
        let (column, row) = (k / rows, k % rows);
        let x0 = 14.0 + 310.0 * column as f64;
        let y = top + 10.0 + 19.0 * row as f64;
        let mut count = String::from("×");
        count.push_str(&int(run.words[*i].1 as i64));
        svg.text(x0 + 30.0, y + 11.0, Anchor::End, "dlf-ts", &count);
        let mut x = x0 + 36.0;
        for (t, token) in tokens.iter().enumerate() {
            let shown = clip(token, 18);
            let w = text_width(&shown) + 6.0;
            if x + w > x0 + 300.0 {
                svg.text(x, y + 11.0, Anchor::Start, "dlf-ts", "…");
                break;
            }
            svg.rect_with_opacity(Rect::new(x, y, w, 15.0), crate::svg::fill_class(t), 0.22);
            svg.text(x + 3.0, y + 11.0, Anchor::Start, "dlf-ts", &shown);
            x += w + 2.0;
        }
    }
}

impl Widget for BpeSteps {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let run = run(p);
        let unit = if p.str("alphabet") == "bytes" { "bytes" } else { "chars" };
        let rows = word_rows(&run) as f64;
        let words_top = 232.0;
        let height = words_top + 16.0 + 19.0 * rows;
        let mut svg = Svg::new(640.0, height, "BPE merges, segmentation and compression");
        draw_table(&mut svg, &run);
        draw_curve(&mut svg, &run, unit);
        draw_words(&mut svg, &run, words_top);

        let (vocab, tokens) = match run.shown {
            0 => run.initial,
            k => (run.steps[k - 1].vocab_size, run.steps[k - 1].corpus_tokens),
        };
        let per_token = run.initial.1 as f64 / tokens.max(1) as f64;
        let mut numbers = vec![
            ("Merges made".to_string(), int(run.shown as i64)),
            ("Vocabulary size V".to_string(), int(vocab as i64)),
            ("Corpus length (tokens)".to_string(), int(tokens as i64)),
            (
                if unit == "bytes" { "Bytes per token" } else { "Characters per token" }.to_string(),
                fixed(per_token, 2),
            ),
            (
                "Embedding parameters V·768".to_string(),
                int((vocab * EMBED_DIM) as i64),
            ),
        ];
        let mut description = String::new();
        if let Some(last) = run.shown.checked_sub(1).map(|k| &run.steps[k]) {
            let mut latest = last.left.clone();
            latest.push_str(" + ");
            latest.push_str(&last.right);
            latest.push_str(" → ");
            latest.push_str(&last.merged);
            numbers.push(("Latest merge".to_string(), latest.clone()));
            numbers.push(("Its count".to_string(), int(last.count as i64)));
            description.push_str("Merge ");
            description.push_str(&int(run.shown as i64));
            description.push_str(" joined ");
            description.push_str(&latest);
            description.push_str(", a pair seen ");
            description.push_str(&int(last.count as i64));
            description.push_str(if last.count == 1 { " time; " } else { " times; " });
        } else {
            description.push_str("Before any merge every symbol is a token; ");
        }
        description.push_str("the vocabulary has ");
        description.push_str(&int(vocab as i64));
        description.push_str(" tokens and the corpus is ");
        description.push_str(&int(tokens as i64));
        description.push_str(" tokens long, ");
        description.push_str(&fixed(per_token, 2));
        description.push(' ');
        description.push_str(unit);
        description.push_str(" per token. ");
        if run.steps.len() < MAX_MERGES {
            description.push_str("Training ran out of pairs after ");
            description.push_str(&int(run.steps.len() as i64));
            description.push_str(" merges: every word is a single token.");
        } else {
            description.push_str("Each further merge adds 768 embedding parameters and saves fewer tokens than the one before.");
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
    use crate::spec::parse_params;
    use dlf_engine::lessons::tokenize::bpe;

    fn params(pairs: &[(&str, &str)]) -> Params {
        parse_params(&SPEC, pairs).expect("valid parameters")
    }

    #[test]
    fn the_figure_shows_the_engines_merges_and_lengths() {
        let p = params(&[("merges", "4"), ("tie", "lexicographic")]);
        let fig = BpeSteps.render(&p);
        // The same training through the engine's one-call trainer.
        let words = count_words([corpus::SENNRICH], PreTokenizer::Whitespace);
        let cfg = BpeConfig {
            vocab_size: usize::MAX,
            tie_break: TieBreak::Lexicographic,
            end_of_word_suffix: Some("</w>".to_string()),
            ..BpeConfig::default()
        };
        let (_, steps) = bpe::train(&words, &cfg);
        let fourth = &steps[3];
        assert_eq!(fig.expect_number("Vocabulary size V"), fourth.vocab_size as f64);
        assert_eq!(fig.expect_number("Corpus length (tokens)"), fourth.corpus_tokens as f64);
        assert_eq!(fig.expect_number("Its count"), fourth.count as f64);
        let latest = fig.numbers.iter().find(|(l, _)| l == "Latest merge").map(|(_, v)| v.as_str());
        let expected = format!("{} + {} → {}", fourth.left, fourth.right, fourth.merged);
        assert_eq!(latest, Some(expected.as_str()));
        // Sennrich et al.'s corpus: 16 words; before any merge, 5·3 + 2·5 + 6·6 + 3·6 = 79 symbols.
        let run = run(&params(&[("merges", "0")]));
        assert_eq!(run.initial.1, 79);
        assert_eq!(run.words.len(), 4);
    }

    #[test]
    fn the_corpus_shortens_by_each_merges_count() {
        // Every merge replaces `count` occurrences of a pair by one token each.
        let run = run(&params(&[("merges", "300"), ("source", "english")]));
        assert_eq!(run.steps.len(), MAX_MERGES);
        let mut before = run.initial.1;
        for s in &run.steps {
            assert_eq!(before - s.corpus_tokens, s.count, "{s:?}");
            before = s.corpus_tokens;
        }
    }

    #[test]
    fn the_latest_merge_is_highlighted_and_words_show_their_tokens() {
        let fig = BpeSteps.render(&params(&[("merges", "300")]));
        // Sennrich's corpus runs out of pairs long before 300 merges: each word is one token then.
        assert!(fig.description.contains("ran out of pairs"), "{}", fig.description);
        assert!(fig.svg.contains("dlf-facc"));
        assert!(fig.svg.contains("newest&lt;/w&gt;"), "newest</w> is a token of its own");
    }

    #[test]
    fn an_empty_corpus_draws_an_empty_run() {
        let fig = BpeSteps.render(&params(&[("corpus", "")]));
        assert_eq!(fig.expect_number("Merges made"), 0.0);
        assert!(fig.svg.contains("the corpus has no words"));
    }
}

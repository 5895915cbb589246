//! Tests of the BPE trainers and encoder; the expected merges and vocabularies are Hugging Face `tokenizers`
//! output (the generating Python snippets sit beside the data).

use super::*;
use crate::lessons::tokenize::pretokenize::count_words;

fn words(text: &str, pre: PreTokenizer) -> Vec<(String, u64)> {
    count_words([text], pre)
}

#[test]
fn byte_table_matches_gpt2() {
    // GPT-2 encoder.py bytes_to_unicode: space → 'Ġ' (U+0120), newline → 'Ċ' (U+010A), '!' → '!', 0x00 → 'Ā'.
    assert_eq!(byte_to_char(b' '), 'Ġ');
    assert_eq!(byte_to_char(b'\n'), 'Ċ');
    assert_eq!(byte_to_char(b'!'), '!');
    assert_eq!(byte_to_char(0), 'Ā');
    assert_eq!(byte_to_char(0xAD), 'Ń');
    for b in 0..=255u8 {
        assert_eq!(char_to_byte(byte_to_char(b)), Some(b));
    }
    assert_eq!(char_to_byte('€'), None);
}

#[test]
fn incremental_equals_naive_on_a_toy_corpus() {
    let text = "low low low low low lower lower newest newest newest newest newest newest widest widest widest";
    for tie_break in TieBreak::ALL {
        for alphabet in Alphabet::ALL {
            for (suffix, prefix) in [(None, None), (Some("</w>"), None), (None, Some("##"))] {
                let cfg = BpeConfig {
                    vocab_size: 60,
                    tie_break,
                    alphabet,
                    end_of_word_suffix: suffix.map(String::from),
                    continuing_subword_prefix: prefix.map(String::from),
                    ..BpeConfig::default()
                };
                let w = words(text, PreTokenizer::Whitespace);
                let (fast, fast_steps) = train(&w, &cfg);
                let (slow, slow_steps) = train_naive(&w, &cfg);
                assert_eq!(fast_steps, slow_steps, "{tie_break:?} {alphabet:?} {suffix:?} {prefix:?}");
                assert_eq!(fast.vocab(), slow.vocab());
                assert_eq!(fast.merges(), slow.merges());
            }
        }
    }
}

/// One Hugging Face training run: a corpus (trained on its lines), a configuration name, HF's vocabulary (by id)
/// and merges (by rank), and HF's encodings of the held-out sentences.
pub(super) struct HfCase {
    corpus: &'static str,
    held_out: &'static [&'static str],
    config: &'static str,
    vocab: &'static [&'static str],
    merges: &'static [(&'static str, &'static str)],
    encodings: &'static [&'static [u32]],
}

#[path = "bpe_hf_data.rs"]
mod hf;

/// The configuration named in `CONFIGS` of the generating snippet (bpe_hf_data.rs).
fn hf_config(name: &str) -> (PreTokenizer, BpeConfig) {
    let base = BpeConfig { tie_break: TieBreak::HuggingFace, ..BpeConfig::default() };
    let s = |x: &str| Some(x.to_string());
    match name {
        "whitespace_chars" => (PreTokenizer::Whitespace, BpeConfig { vocab_size: 150, ..base }),
        "bert_chars_specials" => (
            PreTokenizer::Bert,
            BpeConfig { vocab_size: 160, special_tokens: vec!["<unk>".into(), "<pad>".into()], ..base },
        ),
        "bert_chars_min2" => (PreTokenizer::Bert, BpeConfig { vocab_size: 400, min_frequency: 2, ..base }),
        "bert_suffix" => (PreTokenizer::Bert, BpeConfig { vocab_size: 200, end_of_word_suffix: s("</w>"), ..base }),
        "bert_prefix" => {
            (PreTokenizer::Bert, BpeConfig { vocab_size: 200, continuing_subword_prefix: s("##"), ..base })
        }
        "gpt2_bytes" => (PreTokenizer::Gpt2, BpeConfig { vocab_size: 330, alphabet: Alphabet::Bytes, ..base }),
        _ => panic!("unknown config {name}"),
    }
}

#[test]
fn trainers_match_hugging_face() {
    assert_eq!(hf::CASES.len(), 24);
    for case in hf::CASES {
        let (pre, cfg) = hf_config(case.config);
        let w = count_words(case.corpus.split('\n'), pre);
        let label = format!("{} on {:.20}", case.config, case.corpus);
        // HF numbers the `</w>` / `##` variants in hash order: replay the order this run used (the initial
        // tokens of HF's vocabulary that are neither special tokens nor single characters).
        let n_initial = BpeTrainer::new(&w, &cfg).vocab_size();
        let variants: Vec<&str> = case.vocab[..n_initial]
            .iter()
            .copied()
            .filter(|t| t.chars().count() > 1 && !cfg.special_tokens.iter().any(|s| s == t))
            .collect();
        let order = (!variants.is_empty()).then_some(variants.as_slice());
        let mut trainer = BpeTrainer::with_variant_order(&w, &cfg, order);
        let mut steps = Vec::new();
        while let Some(s) = trainer.step() {
            steps.push(s);
        }
        // Every merge adds exactly one token (the module doc says why a merge never repeats a token).
        for (k, s) in steps.iter().enumerate() {
            assert_eq!(s.vocab_size, n_initial + k + 1, "{label}");
        }
        let bpe = trainer.finish();
        assert_eq!(bpe.vocab(), case.vocab, "vocabulary, {label}");
        let merges: Vec<(String, String)> =
            case.merges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(bpe.merges(), merges.as_slice(), "merges, {label}");
        for (sentence, ids) in case.held_out.iter().zip(case.encodings) {
            assert_eq!(bpe.encode(sentence, pre), *ids, "encoding of {sentence:?}, {label}");
        }
        // The textbook trainer makes the same merges with the same counts.
        let (naive_bpe, naive_steps, _) = naive(&w, &cfg, order);
        assert_eq!(naive_steps, steps, "naive trainer, {label}");
        assert_eq!(naive_bpe, bpe);
    }
}

#[path = "bpe_ref_data.rs"]
mod reference;

#[test]
fn first_seen_and_lexicographic_match_the_textbook_loop_in_python() {
    for (corpus, rule, expected) in reference::REFERENCE {
        let text = match *corpus {
            "ENGLISH" => hf::ENGLISH,
            "GERMAN" => hf::GERMAN,
            other => panic!("unknown corpus {other}"),
        };
        let tie_break = match *rule {
            "first_seen" => TieBreak::FirstSeen,
            "lexicographic" => TieBreak::Lexicographic,
            other => panic!("unknown rule {other}"),
        };
        let cfg = BpeConfig {
            vocab_size: 150,
            tie_break,
            end_of_word_suffix: Some("</w>".into()),
            ..BpeConfig::default()
        };
        let w = count_words(text.split('\n'), PreTokenizer::Whitespace);
        let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let (fast, fast_steps) = train(&w, &cfg);
        assert_eq!(fast.merges(), expected.as_slice(), "{corpus} {rule}");
        let (slow, slow_steps) = train_naive(&w, &cfg);
        assert_eq!(slow.merges(), expected.as_slice(), "{corpus} {rule} (textbook trainer)");
        assert_eq!(fast_steps, slow_steps);
    }
}

#[test]
fn tie_breaks_disagree_somewhere() {
    // The three conventions are different rules: on the English corpus each pair of them makes different merges.
    let w = count_words(hf::ENGLISH.split('\n'), PreTokenizer::Whitespace);
    let merges = |tie_break| {
        let cfg = BpeConfig { vocab_size: 150, tie_break, ..BpeConfig::default() };
        train(&w, &cfg).0.merges().to_vec()
    };
    let (hf_m, lex, first) =
        (merges(TieBreak::HuggingFace), merges(TieBreak::Lexicographic), merges(TieBreak::FirstSeen));
    assert_ne!(hf_m, lex);
    assert_ne!(hf_m, first);
    assert_ne!(lex, first);
}

#[test]
fn byte_level_round_trips_any_text() {
    // Byte-level BPE has no unknown symbol: decoding the encoding gives back the text, whatever its script.
    let mut corpus = String::new();
    for c in [hf::ENGLISH, hf::CODE, hf::GERMAN, hf::EMOJI] {
        corpus.push_str(c);
    }
    let w = count_words(corpus.split('\n'), PreTokenizer::Gpt2);
    let cfg = BpeConfig { vocab_size: 500, alphabet: Alphabet::Bytes, ..BpeConfig::default() };
    let (bpe, _) = train(&w, &cfg);
    for text in [hf::ENGLISH, hf::CODE, "Ελληνικά κείμενα 中文 \u{0} \t tabs", "a\u{7f}b\u{ad}c"] {
        let ids = bpe.encode(text, PreTokenizer::Gpt2);
        assert_eq!(bpe.decode(&ids), text.trim_end_matches(' '));
    }
    // A lone continuation byte decodes to U+FFFD (lossy), never panics.
    let cont = bpe.token_to_id(&byte_to_char(0x80).to_string()).expect("every byte is in the vocabulary");
    assert_eq!(bpe.decode(&[cont]), "\u{fffd}");
}

#[test]
fn decode_undoes_suffix_prefix_and_metaspace() {
    let w = count_words(hf::ENGLISH.split('\n'), PreTokenizer::Whitespace);
    let sentence = "the tokens were split and the words";
    for (suffix, prefix) in [(Some("</w>"), None), (None, Some("##"))] {
        let cfg = BpeConfig {
            vocab_size: 200,
            end_of_word_suffix: suffix.map(String::from),
            continuing_subword_prefix: prefix.map(String::from),
            ..BpeConfig::default()
        };
        let (bpe, _) = train(&w, &cfg);
        let ids = bpe.encode(sentence, PreTokenizer::Whitespace);
        assert!(ids.len() > 7, "some words are split");
        assert_eq!(bpe.decode(&ids), sentence);
    }
    let w = count_words(hf::ENGLISH.split('\n'), PreTokenizer::Metaspace);
    let (bpe, _) = train(&w, &BpeConfig { vocab_size: 200, ..BpeConfig::default() });
    assert_eq!(bpe.decode(&bpe.encode(sentence, PreTokenizer::Metaspace)), sentence);
}

#[test]
fn incremental_trainer_does_less_work_than_the_textbook_loop() {
    let w = count_words(hf::ENGLISH.split('\n'), PreTokenizer::Bert);
    let cfg = BpeConfig { vocab_size: 300, ..BpeConfig::default() };
    let (_, steps, fast) = train_with_work(&w, &cfg);
    let (_, _, slow) = train_naive_with_work(&w, &cfg);
    assert_eq!(fast.merges, steps.len() as u64);
    assert_eq!(slow.merges, fast.merges);
    // The computed textbook cost is exactly what the textbook trainer scanned.
    assert_eq!(fast.textbook_symbols, slow.symbols_scanned);
    assert_eq!(slow.textbook_symbols, slow.symbols_scanned);
    // Visiting only the words that contain the merged pair: over ten times fewer word visits here.
    assert!(fast.words_visited * 10 < slow.words_visited, "{fast:?} vs {slow:?}");
    assert!(fast.pair_updates * 5 < slow.pair_updates, "{fast:?} vs {slow:?}");
}

#[test]
fn steps_report_vocabulary_and_corpus_size() {
    let w = count_words(hf::ENGLISH.split('\n'), PreTokenizer::Whitespace);
    let cfg = BpeConfig { vocab_size: 150, ..BpeConfig::default() };
    let mut t = BpeTrainer::new(&w, &cfg);
    let initial_tokens: u64 = w.iter().map(|(s, c)| c * s.chars().count() as u64).sum();
    assert_eq!(t.corpus_tokens(), initial_tokens);
    let mut prev_vocab = t.vocab_size();
    let mut prev_tokens = t.corpus_tokens();
    while let Some(s) = t.step() {
        assert_eq!(s.merged, format!("{}{}", s.left, s.right));
        assert!(s.vocab_size == prev_vocab + 1 || s.vocab_size == prev_vocab, "a merge adds at most one token");
        // Each merged occurrence removes one token; overlapping occurrences (a a a) are counted but merged once.
        assert!(s.corpus_tokens < prev_tokens && prev_tokens - s.corpus_tokens <= s.count);
        assert_eq!(s.corpus_tokens, t.corpus_tokens());
        prev_vocab = s.vocab_size;
        prev_tokens = s.corpus_tokens;
    }
    assert_eq!(t.vocab_size(), 150);
    assert_eq!(t.step(), None, "a finished trainer stays finished");
    // The segmentation of "the" after training is one token.
    let i = w.iter().position(|(s, _)| s == "the").expect("'the' is in the corpus");
    assert_eq!(t.word_segmentation(i), vec!["the"]);
}

#[test]
fn stopping_rules() {
    let w = count_words(["aaab aab ab ab"], PreTokenizer::Whitespace);
    // A vocabulary no larger than the alphabet makes no merge and keeps the whole alphabet.
    let (bpe, steps) = train(&w, &BpeConfig { vocab_size: 1, ..BpeConfig::default() });
    assert!(steps.is_empty());
    assert_eq!(bpe.vocab(), ["a", "b"]);
    // min_frequency: (a, b) occurs 4 times, then (a, ab) twice; with min_frequency 3 only the first is made.
    let (bpe, steps) = train(&w, &BpeConfig { min_frequency: 3, ..BpeConfig::default() });
    assert_eq!(bpe.merges(), [("a".to_string(), "b".to_string())]);
    assert_eq!(steps[0].count, 4);
    // Without it, training goes on until every word is one token.
    let (_, steps) = train(&w, &BpeConfig::default());
    assert_eq!(steps.last().map(|s| s.corpus_tokens), Some(4));
    // Special tokens come first and are never merged.
    let cfg = BpeConfig { special_tokens: vec!["<unk>".into(), "a".into()], ..BpeConfig::default() };
    let (bpe, _) = train(&w, &cfg);
    assert_eq!(&bpe.vocab()[..3], ["<unk>", "a", "b"]);
}

#[test]
fn from_parts_checks_its_input() {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let m = |a: &str, b: &str| (a.to_string(), b.to_string());
    let ok = Bpe::from_parts(v(&["a", "b", "ab"]), vec![m("a", "b")], BpeOptions::default());
    assert_eq!(ok.expect("valid").encode_word("abab"), vec![2, 2]);
    let dup = Bpe::from_parts(v(&["a", "a"]), vec![], BpeOptions::default());
    assert!(dup.unwrap_err().contains("twice"));
    let missing = Bpe::from_parts(v(&["a", "b"]), vec![m("a", "b")], BpeOptions::default());
    assert!(missing.unwrap_err().contains("\"ab\""));
    let unk = BpeOptions { unk_token: Some("<unk>".into()), ..BpeOptions::default() };
    assert!(Bpe::from_parts(v(&["a"]), vec![], unk.clone()).unwrap_err().contains("unk"));
    // With an unk token, each unknown character becomes one unk id (HF fuse_unk = false); without, it is dropped.
    let bpe = Bpe::from_parts(v(&["<unk>", "a", "b", "ab"]), vec![m("a", "b")], unk).expect("valid");
    assert_eq!(bpe.encode_word("xabyy"), vec![0, 3, 0, 0]);
    let bpe = Bpe::from_parts(v(&["a", "b", "ab"]), vec![m("a", "b")], BpeOptions::default()).expect("valid");
    assert_eq!(bpe.encode_word("xab"), vec![2]);
}

#[test]
fn encoding_applies_merges_by_rank_not_greedily() {
    // Merges: (b, c) first, then (a, b). "abc" → a + bc (rank 0 wins even though a·b is leftmost); the leftmost
    // of equal ranks goes first: "aaa" with (a, a) → aa + a.
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let m = |a: &str, b: &str| (a.to_string(), b.to_string());
    let bpe = Bpe::from_parts(
        v(&["a", "b", "c", "bc", "ab", "aa"]),
        vec![m("b", "c"), m("a", "b"), m("a", "a")],
        BpeOptions::default(),
    )
    .expect("valid");
    assert_eq!(bpe.encode_word("abc"), vec![0, 3]);
    assert_eq!(bpe.encode_word("abab"), vec![4, 4]);
    assert_eq!(bpe.encode_word("aaa"), vec![5, 0]);
}

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

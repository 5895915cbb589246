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

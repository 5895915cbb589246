//! The pre-tokenisers against Hugging Face `tokenizers` 0.23.3 `pre_tokenize_str` output.
//!
//! The expected words below were printed by this snippet (venv /work/venv-tok; ByteLevel's byte stand-ins are
//! mapped back to text, since [`pre_tokenize`] returns raw slices and the byte-level BPE maps bytes itself):
//! ```python
//! from tokenizers import pre_tokenizers as pt
//! pres = {"Gpt2": pt.ByteLevel(add_prefix_space=False, use_regex=True), "Bert": pt.BertPreTokenizer(),
//!         "Whitespace": pt.WhitespaceSplit(),
//!         "Metaspace": pt.Metaspace(replacement="▁", prepend_scheme="always", split=True)}
//! bs = list(range(ord("!"), ord("~")+1)) + list(range(ord("¡"), ord("¬")+1)) + list(range(ord("®"), ord("ÿ")+1))
//! cs = bs[:]; n = 0
//! for b in range(256):
//!     if b not in bs: bs.append(b); cs.append(256 + n); n += 1
//! inv = {chr(c): b for b, c in zip(bs, cs)}
//! raw = lambda s: bytes(inv[ch] for ch in s).decode("utf-8")
//! for case in CASES:  # the texts below (contractions, digits, runs of spaces, newlines, scripts, emoji, marks)
//!     for name, p in pres.items():
//!         ws = [w for w, _ in p.pre_tokenize_str(case)]
//!         print(name, [raw(w) for w in ws] if name == "Gpt2" else ws)
//! ```

use super::*;

/// Words per pre-tokeniser for one text.
type Expected = &'static [(PreTokenizer, &'static [&'static str])];

const CASES: &[(&str, Expected)] = &[
    ("Hello world! It's a test.", &[
        (PreTokenizer::Gpt2, &["Hello", " world", "!", " It", "'s", " a", " test", "."]),
        (PreTokenizer::Bert, &["Hello", "world", "!", "It", "'", "s", "a", "test", "."]),
        (PreTokenizer::Whitespace, &["Hello", "world!", "It's", "a", "test."]),
        (PreTokenizer::Metaspace, &["▁Hello", "▁world!", "▁It's", "▁a", "▁test."]),
    ]),
    ("I'm sure they'll say we'd've DON'T 'tis", &[
        (PreTokenizer::Gpt2, &["I", "'m", " sure", " they", "'ll", " say", " we", "'d", "'ve", " DON", "'", "T", " '", "tis"]),
        (PreTokenizer::Bert, &["I", "'", "m", "sure", "they", "'", "ll", "say", "we", "'", "d", "'", "ve", "DON", "'", "T", "'", "tis"]),
        (PreTokenizer::Whitespace, &["I'm", "sure", "they'll", "say", "we'd've", "DON'T", "'tis"]),
        (PreTokenizer::Metaspace, &["▁I'm", "▁sure", "▁they'll", "▁say", "▁we'd've", "▁DON'T", "▁'tis"]),
    ]),
    ("numbers 12345 and 3.14 plus x2y 1,000", &[
        (PreTokenizer::Gpt2, &["numbers", " 12345", " and", " 3", ".", "14", " plus", " x", "2", "y", " 1", ",", "000"]),
        (PreTokenizer::Bert, &["numbers", "12345", "and", "3", ".", "14", "plus", "x2y", "1", ",", "000"]),
        (PreTokenizer::Whitespace, &["numbers", "12345", "and", "3.14", "plus", "x2y", "1,000"]),
        (PreTokenizer::Metaspace, &["▁numbers", "▁12345", "▁and", "▁3.14", "▁plus", "▁x2y", "▁1,000"]),
    ]),
    ("multiple   spaces\tand\ttabs  ", &[
        (PreTokenizer::Gpt2, &["multiple", "  ", " spaces", "\t", "and", "\t", "tabs", "  "]),
        (PreTokenizer::Bert, &["multiple", "spaces", "and", "tabs"]),
        (PreTokenizer::Whitespace, &["multiple", "spaces", "and", "tabs"]),
        (PreTokenizer::Metaspace, &["▁multiple", "▁", "▁", "▁spaces\tand\ttabs", "▁", "▁"]),
    ]),
    ("line one\nline two\n\n  indented\r\n", &[
        (PreTokenizer::Gpt2, &["line", " one", "\n", "line", " two", "\n\n ", " indented", "\r\n"]),
        (PreTokenizer::Bert, &["line", "one", "line", "two", "indented"]),
        (PreTokenizer::Whitespace, &["line", "one", "line", "two", "indented"]),
        (PreTokenizer::Metaspace, &["▁line", "▁one\nline", "▁two\n\n", "▁", "▁indented\r\n"]),
    ]),
    ("Grüße aus Köln, schöne Straße!", &[
        (PreTokenizer::Gpt2, &["Grüße", " aus", " Köln", ",", " schöne", " Straße", "!"]),
        (PreTokenizer::Bert, &["Grüße", "aus", "Köln", ",", "schöne", "Straße", "!"]),
        (PreTokenizer::Whitespace, &["Grüße", "aus", "Köln,", "schöne", "Straße!"]),
        (PreTokenizer::Metaspace, &["▁Grüße", "▁aus", "▁Köln,", "▁schöne", "▁Straße!"]),
    ]),
    ("Привет, мир! Это тест.", &[
        (PreTokenizer::Gpt2, &["Привет", ",", " мир", "!", " Это", " тест", "."]),
        (PreTokenizer::Bert, &["Привет", ",", "мир", "!", "Это", "тест", "."]),
        (PreTokenizer::Whitespace, &["Привет,", "мир!", "Это", "тест."]),
        (PreTokenizer::Metaspace, &["▁Привет,", "▁мир!", "▁Это", "▁тест."]),
    ]),
    ("日本語のテキスト、句読点。", &[
        (PreTokenizer::Gpt2, &["日本語のテキスト", "、", "句読点", "。"]),
        (PreTokenizer::Bert, &["日本語のテキスト", "、", "句読点", "。"]),
        (PreTokenizer::Whitespace, &["日本語のテキスト、句読点。"]),
        (PreTokenizer::Metaspace, &["▁日本語のテキスト、句読点。"]),
    ]),
    ("emoji 😀👍🏽 and symbols $5 + €3 = ¥?", &[
        (PreTokenizer::Gpt2, &["emoji", " 😀👍🏽", " and", " symbols", " $", "5", " +", " €", "3", " =", " ¥?"]),
        (PreTokenizer::Bert, &["emoji", "😀👍🏽", "and", "symbols", "$", "5", "+", "€3", "=", "¥", "?"]),
        (PreTokenizer::Whitespace, &["emoji", "😀👍🏽", "and", "symbols", "$5", "+", "€3", "=", "¥?"]),
        (PreTokenizer::Metaspace, &["▁emoji", "▁😀👍🏽", "▁and", "▁symbols", "▁$5", "▁+", "▁€3", "▁=", "▁¥?"]),
    ]),
    ("  leading and trailing  ", &[
        (PreTokenizer::Gpt2, &[" ", " leading", " and", " trailing", "  "]),
        (PreTokenizer::Bert, &["leading", "and", "trailing"]),
        (PreTokenizer::Whitespace, &["leading", "and", "trailing"]),
        (PreTokenizer::Metaspace, &["▁", "▁leading", "▁and", "▁trailing", "▁", "▁"]),
    ]),
    ("tabs\t\tthen word", &[
        (PreTokenizer::Gpt2, &["tabs", "\t", "\t", "then", " word"]),
        (PreTokenizer::Bert, &["tabs", "then", "word"]),
        (PreTokenizer::Whitespace, &["tabs", "then", "word"]),
        (PreTokenizer::Metaspace, &["▁tabs\t\tthen", "▁word"]),
    ]),
    ("a\u{a0}b\u{2003}c\u{3000}d", &[
        (PreTokenizer::Gpt2, &["a", "\u{a0}", "b", "\u{2003}", "c", "\u{3000}", "d"]),
        (PreTokenizer::Bert, &["a", "b", "c", "d"]),
        (PreTokenizer::Whitespace, &["a", "b", "c", "d"]),
        (PreTokenizer::Metaspace, &["▁a\u{a0}b\u{2003}c\u{3000}d"]),
    ]),
    ("don't-stop (really) [yes] {no} <tag> \"quote\" ‘curly’ «guillemets»", &[
        (PreTokenizer::Gpt2, &["don", "'t", "-", "stop", " (", "really", ")", " [", "yes", "]", " {", "no", "}", " <", "tag", ">", " \"", "quote", "\"", " ‘", "curly", "’", " «", "guillemets", "»"]),
        (PreTokenizer::Bert, &["don", "'", "t", "-", "stop", "(", "really", ")", "[", "yes", "]", "{", "no", "}", "<", "tag", ">", "\"", "quote", "\"", "‘", "curly", "’", "«", "guillemets", "»"]),
        (PreTokenizer::Whitespace, &["don't-stop", "(really)", "[yes]", "{no}", "<tag>", "\"quote\"", "‘curly’", "«guillemets»"]),
        (PreTokenizer::Metaspace, &["▁don't-stop", "▁(really)", "▁[yes]", "▁{no}", "▁<tag>", "▁\"quote\"", "▁‘curly’", "▁«guillemets»"]),
    ]),
    ("١٢٣ ٤٥ Ⅻ ½ x²", &[
        (PreTokenizer::Gpt2, &["١٢٣", " ٤٥", " Ⅻ", " ½", " x", "²"]),
        (PreTokenizer::Bert, &["١٢٣", "٤٥", "Ⅻ", "½", "x²"]),
        (PreTokenizer::Whitespace, &["١٢٣", "٤٥", "Ⅻ", "½", "x²"]),
        (PreTokenizer::Metaspace, &["▁١٢٣", "▁٤٥", "▁Ⅻ", "▁½", "▁x²"]),
    ]),
    ("  ", &[
        (PreTokenizer::Gpt2, &["  "]),
        (PreTokenizer::Bert, &[]),
        (PreTokenizer::Whitespace, &[]),
        (PreTokenizer::Metaspace, &["▁", "▁"]),
    ]),
    ("", &[
        (PreTokenizer::Gpt2, &[]),
        (PreTokenizer::Bert, &[]),
        (PreTokenizer::Whitespace, &[]),
        (PreTokenizer::Metaspace, &[]),
    ]),
    ("cafe\u{301} naïve résumé", &[
        (PreTokenizer::Gpt2, &["cafe", "\u{301}", " naïve", " résumé"]),
        (PreTokenizer::Bert, &["cafe\u{301}", "naïve", "résumé"]),
        (PreTokenizer::Whitespace, &["cafe\u{301}", "naïve", "résumé"]),
        (PreTokenizer::Metaspace, &["▁cafe\u{301}", "▁naïve", "▁résumé"]),
    ]),
    ("हिन्दी भाषा", &[
        (PreTokenizer::Gpt2, &["ह", "ि", "न", "्", "द", "ी", " भ", "ा", "ष", "ा"]),
        (PreTokenizer::Bert, &["हिन्दी", "भाषा"]),
        (PreTokenizer::Whitespace, &["हिन्दी", "भाषा"]),
        (PreTokenizer::Metaspace, &["▁हिन्दी", "▁भाषा"]),
    ]),
    ("한국어 텍스트 ภาษาไทย", &[
        (PreTokenizer::Gpt2, &["한국어", " 텍스트", " ภาษาไทย"]),
        (PreTokenizer::Bert, &["한국어", "텍스트", "ภาษาไทย"]),
        (PreTokenizer::Whitespace, &["한국어", "텍스트", "ภาษาไทย"]),
        (PreTokenizer::Metaspace, &["▁한국어", "▁텍스트", "▁ภาษาไทย"]),
    ]),
    ("'S 'LL '' it''s rock'n'roll", &[
        (PreTokenizer::Gpt2, &["'", "S", " '", "LL", " ''", " it", "''", "s", " rock", "'", "n", "'", "roll"]),
        (PreTokenizer::Bert, &["'", "S", "'", "LL", "'", "'", "it", "'", "'", "s", "rock", "'", "n", "'", "roll"]),
        (PreTokenizer::Whitespace, &["'S", "'LL", "''", "it''s", "rock'n'roll"]),
        (PreTokenizer::Metaspace, &["▁'S", "▁'LL", "▁''", "▁it''s", "▁rock'n'roll"]),
    ]),
    ("x\u{2028}y\u{85}z \u{200b}zero-width", &[
        (PreTokenizer::Gpt2, &["x", "\u{2028}", "y", "\u{85}", "z", " \u{200b}", "zero", "-", "width"]),
        (PreTokenizer::Bert, &["x", "y", "z", "\u{200b}zero", "-", "width"]),
        (PreTokenizer::Whitespace, &["x", "y", "z", "\u{200b}zero-width"]),
        (PreTokenizer::Metaspace, &["▁x\u{2028}y\u{85}z", "▁\u{200b}zero-width"]),
    ]),
    ("▁already metaspace▁▁", &[
        (PreTokenizer::Gpt2, &["▁", "already", " metaspace", "▁▁"]),
        (PreTokenizer::Bert, &["▁already", "metaspace▁▁"]),
        (PreTokenizer::Whitespace, &["▁already", "metaspace▁▁"]),
        (PreTokenizer::Metaspace, &["▁already", "▁metaspace", "▁", "▁"]),
    ]),
    ("  \n\n  x", &[
        (PreTokenizer::Gpt2, &["  \n\n ", " x"]),
        (PreTokenizer::Bert, &["x"]),
        (PreTokenizer::Whitespace, &["x"]),
        (PreTokenizer::Metaspace, &["▁", "▁\n\n", "▁", "▁x"]),
    ]),
];

#[test]
fn pre_tokenizers_match_hugging_face() {
    for (text, expected) in CASES {
        for (pre, words) in *expected {
            let got = pre_tokenize(text, *pre);
            assert_eq!(got, *words, "{pre:?} on {text:?}");
        }
    }
}

#[test]
fn gpt2_words_tile_the_text() {
    // The GPT-2 pattern matches every character, so its words concatenate back to the input.
    for (text, _) in CASES {
        assert_eq!(pre_tokenize(text, PreTokenizer::Gpt2).concat(), *text);
    }
}

#[test]
fn names_round_trip() {
    for p in PreTokenizer::ALL {
        assert_eq!(PreTokenizer::from_name(p.name()), Some(p));
    }
    assert_eq!(PreTokenizer::from_name("regex"), None);
}

#[test]
fn count_words_is_sorted_and_weighted() {
    let counts = count_words(["b a b", "a c"], PreTokenizer::Whitespace);
    let expected: Vec<(String, u64)> = vec![("a".into(), 2), ("b".into(), 2), ("c".into(), 1)];
    assert_eq!(counts, expected);
}

//! Small built-in corpora for the tokenization lesson: its widgets train on them, its claims quote them.
//!
//! Each text was written for this course (none is quoted from elsewhere) and is a few hundred words long,
//! small enough that a tokenizer trains on it within a frame, large enough that the merges say something:
//!
//! - [`SENNRICH`], the toy word list of Sennrich, Haddow & Birch, "Neural Machine Translation of Rare Words
//!   with Subword Units" (ACL 2016), Figure 1: `low` ×5, `lower` ×2, `newest` ×6, `widest` ×3, on which the
//!   first merges (with the end-of-word marker) build `est</w>` from pairs seen 9 times, then `lo` (7 times);
//!   which of the tied pairs goes first is the tie-breaking convention;
//! - [`ENGLISH`], prose whose words share stems and suffixes (`-ing`, `-ed`, `-er`, `-est`, `-tion`), so that
//!   frequent words become single tokens early and suffixes become tokens of their own;
//! - [`CODE`], a Rust function with its test, whose indentation, keywords and identifiers repeat;
//! - [`GERMAN`], prose with compounds and inflection (`Haus`, `Hauses`, `Häuser`, `Haustür`), where a word
//!   splits into more pieces than an English word at the same vocabulary size (higher fertility) and the
//!   umlauts cost two bytes each under a byte alphabet;
//! - [`NUMBERS`], text full of dates, prices, measurements and sums, where BPE merges frequent digit strings
//!   into tokens of uneven length, so the same number can be cut differently in different contexts.

/// One built-in corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corpus {
    /// Stable identifier (`"english"`), used in widget queries and claims.
    pub id: &'static str,
    /// Short name for a drop-down.
    pub name: &'static str,
    /// What makes its merges instructive, in one sentence.
    pub note: &'static str,
    /// The text.
    pub text: &'static str,
}

/// Sennrich et al. (2016)'s toy corpus (their Figure 1), written out as running text: `low` 5 times, `lower` 2,
/// `newest` 6, `widest` 3 (16 words, 78 characters without spaces).
pub const SENNRICH: &str = "low low low low low lower lower newest newest newest newest newest newest widest widest widest";

/// English prose about a baker's week, full of shared stems and suffixes.
pub const ENGLISH: &str = "\
The baker wakes before the birds. Baking starts at four, when the street is still dark and the ovens are \
the only warm thing in the town. She mixes the flour, the water, the salt and the starter, and she leaves \
the dough resting while she checks the orders. The newest order is the largest: a wedding wants three \
hundred rolls, baked and delivered by noon.

Her helpers arrive at five. The younger one is learning; the older one has been baking longer than anyone \
remembers. They are shaping, folding, proving and baking, and the kitchen is getting warmer and louder. \
The slowest part is waiting. Bread is not hurried: rising takes the time it takes, and a baker who rushes \
the rising gets the lowest, densest loaves in the street.

By seven the first loaves are cooling on the racks. The smell is drifting out of the open door, and the \
early walkers are stopping, smiling and buying. The baker is counting rolls, the helpers are packing \
boxes, and the delivery van is waiting outside. Nothing is wasted: the broken loaves become crumbs, the \
crumbs become coatings, and yesterday's bread becomes pudding.

What makes a good baker? Patience, a good nose, and repetition. The same movements are repeated every \
morning until the hands know them better than the head. The oldest baker in the town says that the best \
bread is baked by the tiredest hands, because tired hands stop fighting the dough. Her helpers laughed \
when they first heard it. Now they are the ones saying it to the newer helpers, and the newer helpers are \
laughing, and the ovens are warming again before the birds.
";

/// A Rust function that counts adjacent pairs, with its test: repeated keywords, identifiers and indentation.
pub const CODE: &str = "\
/// Counts how often each adjacent pair of symbols occurs, weighted by word frequency.
pub fn count_pairs(words: &[(Vec<u32>, u64)]) -> BTreeMap<(u32, u32), u64> {
    let mut counts = BTreeMap::new();
    for (symbols, count) in words {
        for pair in symbols.windows(2) {
            let key = (pair[0], pair[1]);
            *counts.entry(key).or_insert(0) += count;
        }
    }
    counts
}

/// Replaces every occurrence of the pair (left, right) in the word by the new symbol.
pub fn merge_pair(symbols: &mut Vec<u32>, left: u32, right: u32, merged: u32) {
    let mut i = 0;
    while i + 1 < symbols.len() {
        if symbols[i] == left && symbols[i + 1] == right {
            symbols[i] = merged;
            symbols.remove(i + 1);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_pair_once_per_occurrence() {
        let words = vec![(vec![1, 2, 1, 2], 3), (vec![2, 1], 1)];
        let counts = count_pairs(&words);
        assert_eq!(counts[&(1, 2)], 6);
        assert_eq!(counts[&(2, 1)], 4);
    }

    #[test]
    fn merging_shortens_the_word() {
        let mut symbols = vec![1, 2, 1, 2, 3];
        merge_pair(&mut symbols, 1, 2, 9);
        assert_eq!(symbols, vec![9, 9, 3]);
    }
}
";

/// German prose about a house and its neighbours: compounds, inflected forms and umlauts.
pub const GERMAN: &str = "\
Am Ende der Straße steht ein altes Haus. Das Haus gehört einer Familie, die seit vier Generationen darin \
wohnt. Die Haustür ist grün, das Hausdach ist rot, und im Hausflur hängen die Bilder der Großeltern. Die \
Nachbarhäuser sind neuer und größer, aber kein anderes Haus in der Straße hat einen so schönen Garten.

Im Garten wachsen Apfelbäume, Birnbäume und ein einzelner Kirschbaum. Jeden Herbst sammeln die Kinder \
die Äpfel, und die Großmutter kocht daraus Apfelmus, Apfelkuchen und Apfelsaft. Die Nachbarskinder helfen \
beim Sammeln, denn sie bekommen dafür ein Stück Kuchen. Die Kinder der Nachbarn und die Kinder des Hauses \
sind Freunde geworden; sie spielen zusammen, sie streiten zusammen, und sie versöhnen sich wieder.

Die Besitzer der neuen Häuser möchten die Straße verbreitern. Die Stadtverwaltung hat eine \
Bürgerversammlung einberufen, und in der Versammlung wurde lange diskutiert. Die Verbreiterung der Straße \
würde den Verkehr beschleunigen, aber sie würde auch den Garten des alten Hauses verkleinern. Die \
Verkleinerung des Gartens wäre für die Familie eine Enttäuschung. Die Entscheidung wurde vertagt.

Die Großmutter sagt, dass Entscheidungen über Häuser und Gärten nie schnell getroffen werden sollten. \
Ein Haus ist mehr als seine Wände: es ist die Erinnerung an alle, die darin gewohnt haben. Die \
Hausbewohner hoffen, dass die Versammlung das versteht. Bis zur nächsten Versammlung werden die Äpfel \
weiter wachsen, die Kinder weiter spielen, und die Haustür wird grün bleiben.
";

/// Text full of numbers: dates, times, prices, measurements and sums.
pub const NUMBERS: &str = "\
On 12 March 2024 the shop sold 1,204 items for a total of 18,376.50 euros. On 13 March 2024 it sold 987 \
items for 15,220.75 euros, and on 14 March 2024 it sold 1,312 items for 20,044.10 euros. The average \
price was 15.26 euros on the first day, 15.42 on the second and 15.28 on the third.

The delivery van left at 06:30, reached the first stop at 07:15 and the last at 11:45. It drove 142.7 km \
and used 11.3 litres of fuel, which is 7.92 litres per 100 km. In 2023 the same route was 138.2 km long; \
the detour added 4.5 km, an increase of 3.26 percent.

Some sums from the ledger: 250 + 750 = 1000; 1024 - 512 = 512; 12 * 12 = 144; 144 / 12 = 12; \
3.14 + 2.72 = 5.86; 99 + 1 = 100; 100 - 1 = 99; 2048 + 2048 = 4096; 365 * 24 = 8760. The order numbers \
for March were 20240301, 20240302, 20240303, 20240304 and 20240305, and the invoices were numbered \
INV-0001 to INV-0042.

The year 1999 was followed by 2000, then 2001, 2002 and 2003. The shop opened in 1987, moved in 1996, \
expanded in 2008 and was renovated in 2019 and again in 2024. Its phone number changed from 555 0142 to \
555 0199, and its postcode is 10115. A customer who bought 3 loaves at 2.40, 2 cakes at 12.90 and 1 tart \
at 18.00 paid 7.20 + 25.80 + 18.00 = 51.00 euros.
";

/// Every built-in corpus, in the order a drop-down lists them.
pub const ALL: [Corpus; 5] = [
    Corpus {
        id: "english",
        name: "English prose",
        note: "shared stems and suffixes: frequent words become one token, suffixes become tokens of their own",
        text: ENGLISH,
    },
    Corpus {
        id: "code",
        name: "Rust code",
        note: "runs of spaces, keywords and identifiers repeat, so indentation and names merge early",
        text: CODE,
    },
    Corpus {
        id: "german",
        name: "German prose",
        note: "compounds and inflection: more pieces per word, and umlauts cost two bytes each",
        text: GERMAN,
    },
    Corpus {
        id: "numbers",
        name: "Numbers",
        note: "dates, prices and sums: frequent digit strings merge into tokens of uneven length",
        text: NUMBERS,
    },
    Corpus {
        id: "sennrich",
        name: "low / lower / newest / widest",
        note: "Sennrich et al. (2016)'s toy example: the first merges build `est` and `low`",
        text: SENNRICH,
    },
];

/// The built-in corpus with this id.
pub fn find(id: &str) -> Option<&'static Corpus> {
    ALL.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found() {
        for (i, c) in ALL.iter().enumerate() {
            assert!(ALL[..i].iter().all(|d| d.id != c.id), "{}", c.id);
            assert_eq!(find(c.id), Some(c));
        }
        assert_eq!(find("klingon"), None);
    }

    #[test]
    fn prose_corpora_are_a_few_hundred_words() {
        for c in ALL.iter().filter(|c| c.id != "sennrich") {
            let words = c.text.split_whitespace().count();
            assert!((150..=600).contains(&words), "{}: {words} words", c.id);
        }
    }

    #[test]
    fn sennrich_has_the_papers_word_counts() {
        // Sennrich, Haddow & Birch (2016), Figure 1: {'l o w </w>': 5, 'l o w e r </w>': 2,
        // 'n e w e s t </w>': 6, 'w i d e s t </w>': 3}.
        let count = |w: &str| SENNRICH.split(' ').filter(|x| *x == w).count();
        assert_eq!(
            [count("low"), count("lower"), count("newest"), count("widest")],
            [5, 2, 6, 3]
        );
        assert_eq!(SENNRICH.split(' ').count(), 16);
    }

    #[test]
    fn texts_have_no_control_characters_but_newlines() {
        for c in &ALL {
            assert!(
                c.text.chars().all(|ch| !ch.is_control() || ch == '\n'),
                "{}",
                c.id
            );
        }
    }
}

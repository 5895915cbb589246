//! Expected merges of the textbook BPE loop (Sennrich et al. 2016, Algorithm 1, with subword-nmt's `</w>` on
//! the last symbol), run in plain Python over the sorted word list, for the two tie-breaks HF does not use.
//! Corpora: `bpe_hf_data.rs`, split on whitespace; vocabulary size 150 (initial symbols included).
//! ```python
//!
//! def learn(text, vocab_size, rule, suffix="</w>"):
//!     counts = collections.Counter(w for line in text.split("\n") for w in line.split())
//!     # Sorted word list; each word as symbols with the suffix on the last one (subword-nmt >= 0.2).
//!     vocab = {tuple(w[:-1]) + (w[-1] + suffix,): c for w, c in sorted(counts.items())}
//!     # Vocabulary as HF counts it: every character, plus the suffixed symbols that occur.
//!     tokens = {c for w in counts for c in w} | {s for w in vocab for s in w}
//!     merges = []
//!     while len(tokens) < vocab_size:
//!         stats = collections.defaultdict(int)   # insertion order = first seen
//!         for word, freq in vocab.items():
//!             for a, b in zip(word, word[1:]):
//!                 stats[a, b] += freq
//!         if not stats:
//!             break
//!         if rule == "first_seen":
//!             best = max(stats, key=stats.get)                 # Sennrich et al. 2016, Algorithm 1
//!         else:
//!             best = min(stats, key=lambda p: (-stats[p], p))  # lexicographically smallest pair
//!         merges.append(best)
//!         tokens.add(best[0] + best[1])
//!         new = {}
//!         for word, freq in vocab.items():
//!             out, i = [], 0
//!             while i < len(word):
//!                 if i + 1 < len(word) and (word[i], word[i + 1]) == best:
//!                     out.append(best[0] + best[1]); i += 2
//!                 else:
//!                     out.append(word[i]); i += 1
//!             new[tuple(out)] = freq
//!         vocab = new
//!     return merges
//!
//! for corpus in ENGLISH, GERMAN:
//!     for rule in 'first_seen', 'lexicographic':
//!         print(corpus, rule, learn(CORPORA[corpus], 150, rule))  # emitted as Rust literals below
//! ```

/// (corpus name, tie-break name, merges).
/// Merges as (left, right).
type Merges = &'static [(&'static str, &'static str)];

pub(super) const REFERENCE: &[(&str, &str, Merges)] = &[
    ("ENGLISH", "first_seen", &[
        ("t", "h"), ("e", "n"), ("th", "e</w>"), ("i", "n"), ("a", "r"), ("a", "n"), ("e", "r"), ("an", "d</w>"),
        ("o", "r"), ("q", "u"), ("a", "s</w>"), ("e", "r</w>"), ("e", "s</w>"), ("e", "qu"), ("equ", "en"),
        ("o", "k"), ("ok", "en"), ("in", "g</w>"), ("o", "d"), ("w", "or"), ("i", "r</w>"), ("T", "h"),
        ("er", "s</w>"), ("b", "e"), ("b", "u"), ("d", "o"), ("l", "ar"), ("l", "e"), ("s", "p"), ("sp", "l"),
        ("spl", "i"), ("t", "oken"), ("w", "as</w>"), ("wor", "d"), ("t", "e"), ("p", "a"), ("pa", "ir</w>"),
        ("r", "equen"), ("requen", "t</w>"), ("Th", "e</w>"), ("e", "n</w>"), ("i", "z"), ("a", "d"), ("a", "c"),
        ("en", "t</w>"), ("a", "in"), ("s", "t</w>"), ("ar", "e</w>"), ("g", "er</w>"), ("r", "o"), ("n", ".</w>"),
        ("f", "o"), ("fo", "x</w>"), ("m", "od"), ("mod", "e"), ("o", "n</w>"), ("c", "es</w>"), ("e", "p"),
        ("s", "equen"), ("l", "e</w>"), ("spli", "t"), ("er", "e</w>"), ("token", "s"), ("tokens", ",</w>"),
        ("t", "r"), ("v", "o"), ("vo", "c"), ("voc", "a"), ("voca", "bu"), ("vocabu", "lar"), ("vocabular", "y</w>"),
        ("word", "s</w>"), ("B", "y"), ("By", "te"), ("Byte", "-"), ("Byte-", "pair</w>"), ("F", "requent</w>"),
        ("I", "n</w>"), ("Th", "en</w>"), ("T", "oken"), ("Token", "iz"), ("Tokeniz", "ers</w>"), ("ad", "j"),
        ("adj", "ac"), ("adjac", "ent</w>"), ("a", "g"), ("ag", "ain"), ("again", "st</w>"), ("be", "f"),
        ("bef", "or"), ("befor", "e"), ("before", ".</w>"), ("be", "g"), ("beg", "in"), ("begin", "n"),
    ]),
    ("ENGLISH", "lexicographic", &[
        ("t", "h"), ("e", "n"), ("th", "e</w>"), ("i", "n"), ("a", "r"), ("a", "n"), ("an", "d</w>"), ("e", "r"),
        ("o", "r"), ("a", "s</w>"), ("e", "r</w>"), ("e", "s</w>"), ("q", "u"), ("e", "qu"), ("en", "t</w>"),
        ("in", "g</w>"), ("k", "en"), ("o", "d"), ("o", "ken"), ("w", "or"), ("T", "h"), ("a", "b"), ("b", "e"),
        ("d", "o"), ("en", "c"), ("er", "s</w>"), ("i", "r</w>"), ("l", "ar"), ("l", "e"), ("l", "i"), ("p", "li"),
        ("s", "pli"), ("t", "oken"), ("w", "as</w>"), ("wor", "d"), ("Th", "e</w>"), ("a", "c"), ("a", "d"),
        ("a", "in"), ("a", "ir</w>"), ("ab", "u"), ("abu", "lar"), ("abular", "y</w>"), ("ar", "e</w>"),
        ("c", "abulary</w>"), ("e", "n</w>"), ("e", "p"), ("equ", "enc"), ("equ", "ent</w>"), ("er", "e</w>"),
        ("f", "o"), ("f", "r"), ("fo", "x</w>"), ("g", "er</w>"), ("i", "z"), ("l", "e</w>"), ("m", "od"),
        ("mod", "e"), ("n", ".</w>"), ("o", "cabulary</w>"), ("o", "n</w>"), ("o", "s"), ("p", "air</w>"),
        ("s", ",</w>"), ("s", "equenc"), ("spli", "t"), ("t", "e"), ("t", "r"), ("token", "s,</w>"),
        ("v", "ocabulary</w>"), ("word", "s</w>"), ("-", "pair</w>"), ("B", "y"), ("By", "te"),
        ("Byte", "-pair</w>"), ("F", "r"), ("Fr", "equent</w>"), ("I", "n</w>"), ("T", "oken"), ("Th", "en</w>"),
        ("Token", "iz"), ("Tokeniz", "ers</w>"), ("a", "g"), ("a", "l"), ("a", "t</w>"), ("a", "te"), ("a", "z"),
        ("ab", "le"), ("able", ".</w>"), ("ac", "ent</w>"), ("ac", "t"), ("act", "ers</w>"), ("ad", "e</w>"),
        ("ad", "j"), ("adj", "acent</w>"),
    ]),
    ("GERMAN", "first_seen", &[
        ("e", "n</w>"), ("e", "n"), ("i", "e</w>"), ("e", "i"), ("c", "h"), ("e", "r"), ("ü", "n"), ("r", "a"),
        ("ra", "ß"), ("d", "ie</w>"), ("e", "l"), ("Ä", "p"), ("Äp", "f"), ("ün", "f</w>"), ("G", "r"), ("ü", "ß"),
        ("u", "n"), ("g", "en</w>"), ("S", "t"), ("St", "raß"), ("Straß", "en"), ("a", "h"), ("e", "l</w>"),
        ("k", "en</w>"), ("ü", "h"), ("c", "h</w>"), ("f", "r"), ("g", "r"), ("er", "e</w>"), ("ei", "n"),
        ("m", "u"), ("s", "ch"), ("e", "r</w>"), ("Äpf", "el"), ("Ü", "b"), ("B", "ä"), ("Bä", "u"), ("Bäu", "m"),
        ("Bäum", "e</w>"), ("D", "ie</w>"), ("F", "r"), ("Fr", "ei"), ("Frei", "h"), ("Freih", "ei"),
        ("Freihei", "t</w>"), ("F", "ü"), ("Fü", "ch"), ("Füch", "s"), ("Füchs", "e</w>"), ("F", "ünf</w>"),
        ("Gr", "ün"), ("Grün", "en"), ("Grünen", ".</w>"), ("Gr", "üß"), ("Grüß", "e</w>"), ("J", "un"),
        ("Jun", "gen</w>"), ("K", "ö"), ("Kö", "l"), ("Köl", "n"), ("Köln", ":</w>"), ("M", "ä"), ("Mä", "d"),
        ("Mäd", "ch"), ("Mädch", "en</w>"), ("Straßen", ",</w>"), ("Straßen", "b"), ("Straßenb", "ah"),
        ("Straßenbah", "n"), ("Straßenbahn", "en</w>"), ("V", "ö"), ("Vö", "g"), ("Vög", "el</w>"), ("W", "o"),
        ("Wo", "l"), ("Wol", "ken</w>"), ("a", "l"), ("al", "s</w>"), ("a", "u"), ("au", "s</w>"), ("b", "l"),
        ("bl", "üh"), ("blüh", "en</w>"), ("d", "en</w>"), ("d", "u"), ("du", "r"), ("dur", "ch</w>"), ("f", "ah"),
        ("fah", "r"), ("fahr", "en</w>"), ("f", "raß"), ("fraß", "en</w>"),
    ]),
    ("GERMAN", "lexicographic", &[
        ("e", "n</w>"), ("e", "n"), ("c", "h"), ("e", "i"), ("e", "r"), ("i", "e</w>"), ("a", "ß"), ("d", "ie</w>"),
        ("e", "l"), ("f", "r"), ("p", "f"), ("Ä", "pf"), ("ü", "n"), ("G", "r"), ("S", "t"), ("St", "r"),
        ("Str", "aß"), ("Straß", "en"), ("a", "h"), ("c", "h</w>"), ("e", "l</w>"), ("e", "r</w>"), ("ei", "n"),
        ("er", "e</w>"), ("g", "en</w>"), ("g", "r"), ("k", "en</w>"), ("m", "u"), ("n", "gen</w>"), ("s", "ch"),
        ("Äpf", "el"), ("Ü", "b"), ("ü", "h"), ("ü", "ß"), ("ün", "f</w>"), ("B", "ä"), ("Bä", "u"), ("Bäu", "m"),
        ("Bäum", "e</w>"), ("D", "ie</w>"), ("F", "r"), ("F", "ü"), ("F", "ünf</w>"), ("Fr", "ei"), ("Frei", "h"),
        ("Freih", "ei"), ("Freihei", "t</w>"), ("Fü", "ch"), ("Füch", "s"), ("Füchs", "e</w>"), ("Gr", "ün"),
        ("Gr", "üß"), ("Grün", "en"), ("Grünen", ".</w>"), ("Grüß", "e</w>"), ("J", "u"), ("Ju", "ngen</w>"),
        ("K", "ö"), ("Kö", "l"), ("Köl", "n"), ("Köln", ":</w>"), ("M", "ä"), ("Mä", "d"), ("Mäd", "ch"),
        ("Mädch", "en</w>"), ("Straßen", ",</w>"), ("Straßen", "b"), ("Straßenb", "ah"), ("Straßenbah", "n"),
        ("Straßenbahn", "en</w>"), ("V", "ö"), ("Vö", "g"), ("Vög", "el</w>"), ("W", "o"), ("Wo", "l"),
        ("Wol", "ken</w>"), ("a", "l"), ("a", "u"), ("ah", "r"), ("ahr", "en</w>"), ("al", "s</w>"), ("au", "s</w>"),
        ("aß", "en</w>"), ("b", "l"), ("bl", "üh"), ("blüh", "en</w>"), ("c", "ken</w>"), ("d", "en</w>"),
        ("d", "u"), ("du", "r"), ("dur", "ch</w>"), ("e", "cken</w>"),
    ]),
];

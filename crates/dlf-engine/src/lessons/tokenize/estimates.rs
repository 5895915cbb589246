//! Estimation problems of the lesson on tokenization (ids start with `tokenize.`): what a vocabulary costs at
//! the output layer, how many tokens a document needs, the share of parameters in the vocabulary matrices, and
//! how many ways a vocabulary can spell a word.

use crate::estimate::format::{prose_int, tex_int, tex_number};
use crate::estimate::{GeneratorSpec, Problem};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "tokenize.lm_head_cost",
        title: "What the output layer costs for a vocabulary",
        description: "Forward FLOPs per token of the LM head (2dV), or gigabytes of fp32 logits for a batch (B·T·V·4)",
        generate: |rng| Some(lm_head_cost(rng)),
    },
    GeneratorSpec {
        id: "tokenize.doc_tokens",
        title: "Tokens and context windows for a document",
        description: "Tokens of a document from its size in bytes and the tokenizer's bytes per token, and how many context windows it fills",
        generate: |rng| Some(doc_tokens(rng)),
    },
    GeneratorSpec {
        id: "tokenize.embedding_share",
        title: "Share of a model's parameters in the embedding",
        description: "V·d over V·d + 12·L·d² for a GPT-style model with a tied output layer",
        generate: |rng| Some(embedding_share(rng)),
    },
    GeneratorSpec {
        id: "tokenize.segmentations",
        title: "How many ways can a vocabulary spell a word?",
        description: "Segmentations of an n-character word when every string of up to L characters is a token: N_j = N_{j-1} + … + N_{j-L}",
        generate: |rng| Some(segmentations(rng)),
    },
];

/// (name, vocabulary size, width) of real tokenizers and models.
const MODELS: &[(&str, f64, f64)] = &[
    ("GPT-2 small", 50_257.0, 768.0),
    ("a LLaMA-2-7B-like model", 32_000.0, 4_096.0),
    ("a Llama-3-8B-like model", 128_256.0, 4_096.0),
    ("a Gemma-like model", 256_000.0, 3_072.0),
    ("BERT-base", 30_522.0, 768.0),
];

fn lm_head_cost(rng: &mut Rng) -> Problem {
    let (what, v, d) = rng.pick(MODELS);
    if rng.below(2) == 0 {
        let flops = 2.0 * d * v;
        Problem {
            question: format!(
                "{what} has a vocabulary of ${}$ tokens and width $d = {}$. How many FLOPs does its output layer \
                 (the logits $hW^\\top$) take per token in the forward pass?",
                tex_int(v as u64),
                tex_int(d as u64)
            ),
            answer: flops,
            unit: "FLOPs".into(),
            rel_tolerance: 0.05,
            solution: vec![
                "The logits are a $1\\times d$ by $d\\times V$ product: one multiply and one add per weight.".into(),
                format!(
                    "$2dV = 2 \\times {} \\times {} = {}$ FLOPs per token.",
                    tex_int(d as u64),
                    tex_int(v as u64),
                    tex_number(flops, 3)
                ),
            ],
        }
    } else {
        let batch = rng.pick(&[4.0, 8.0, 16.0, 32.0]);
        let seq = rng.pick(&[1_024.0, 2_048.0, 4_096.0, 8_192.0]);
        let gb = batch * seq * v * 4.0 / 1e9;
        Problem {
            question: format!(
                "Training {what} (vocabulary ${}$) on a batch of ${batch:.0}$ sequences of ${}$ tokens, how many GB do \
                 the fp32 logits take if they are materialised?",
                tex_int(v as u64),
                tex_int(seq as u64)
            ),
            answer: gb,
            unit: "GB".into(),
            rel_tolerance: 0.05,
            solution: vec![
                "The logits are a $B \\times T \\times V$ tensor of 4-byte numbers.".into(),
                format!(
                    "${batch:.0} \\times {} \\times {} \\times 4 = {}$ bytes $= {}$ GB (and the backward pass needs a \
                     tensor of the same shape).",
                    tex_int(seq as u64),
                    tex_int(v as u64),
                    tex_number(gb * 1e9, 3),
                    tex_number(gb, 3)
                ),
            ],
        }
    }
}

/// (document, size in bytes) — rough but typical sizes of plain UTF-8 text.
const DOCUMENTS: &[(&str, f64)] = &[
    ("a 300-page English novel of about 600 KB of plain text", 600e3),
    ("a 20-page paper of about 80 KB of text", 80e3),
    ("a code repository of 5 MB of source", 5e6),
    ("a 1 GB crawl shard", 1e9),
];

fn doc_tokens(rng: &mut Rng) -> Problem {
    let (doc, bytes) = rng.pick(DOCUMENTS);
    let bpt = rng.pick(&[3.0, 3.5, 4.0, 4.5]);
    let window = rng.pick(&[4_096.0, 8_192.0, 32_768.0, 131_072.0]);
    let tokens = bytes / bpt;
    let ask_windows = rng.below(2) == 0;
    let (answer, unit) = if ask_windows { (tokens / window, "windows") } else { (tokens, "tokens") };
    Problem {
        question: format!(
            "A tokenizer compresses your text to ${bpt}$ bytes per token. How many {} does {doc} need{}?",
            if ask_windows { "context windows" } else { "tokens" },
            if ask_windows { format!(" with a context of ${}$ tokens", tex_int(window as u64)) } else { String::new() }
        ),
        answer,
        unit: unit.into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!(
                "Tokens = bytes / (bytes per token) $= {} / {bpt} = {}$.",
                tex_number(bytes, 3),
                tex_number(tokens, 3)
            ),
            format!(
                "Context windows of ${}$ tokens: ${} / {} = {}$.",
                prose_int(window as u64),
                tex_number(tokens, 3),
                tex_int(window as u64),
                tex_number(tokens / window, 3)
            ),
        ],
    }
}

fn embedding_share(rng: &mut Rng) -> Problem {
    let v = rng.pick(&[32_000.0, 50_257.0, 100_000.0, 128_256.0, 256_000.0]);
    let (d, layers) = rng.pick(&[(512.0, 8.0), (768.0, 12.0), (1_024.0, 24.0), (2_048.0, 24.0), (4_096.0, 32.0)]);
    let emb = v * d;
    let blocks = 12.0 * layers * d * d;
    let share = emb / (emb + blocks);
    Problem {
        question: format!(
            "A GPT-style model has $L = {layers:.0}$ blocks of width $d = {}$ (about $12d^2$ parameters per block) and a \
             vocabulary of ${}$ tokens with the output layer tied to the input embedding. What fraction of its \
             parameters is the embedding? (Ignore positions, biases and norms.)",
            tex_int(d as u64),
            tex_int(v as u64)
        ),
        answer: share,
        unit: "".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!("Embedding: $Vd = {} \\times {} = {}$.", tex_int(v as u64), tex_int(d as u64), tex_number(emb, 3)),
            format!(
                "Blocks: $12 L d^2 = 12 \\times {layers:.0} \\times {}^2 = {}$.",
                tex_int(d as u64),
                tex_number(blocks, 3)
            ),
            format!("Share: ${} / ({} + {}) = {}$.", tex_number(emb, 3), tex_number(emb, 3), tex_number(blocks, 3), tex_number(share, 3)),
        ],
    }
}

/// Segmentations of `n` characters when every string of 1 to `max_piece` characters is a token.
pub(crate) fn compositions(n: usize, max_piece: usize) -> Vec<f64> {
    let mut counts = vec![0.0f64; n + 1];
    counts[0] = 1.0;
    for j in 1..=n {
        counts[j] = (1..=max_piece.min(j)).map(|k| counts[j - k]).sum();
    }
    counts
}

fn segmentations(rng: &mut Rng) -> Problem {
    let n = 5 + rng.below(8);
    let max_piece = 2 + rng.below(3);
    let counts = compositions(n, max_piece);
    let answer = counts[n];
    let shown: Vec<String> = counts.iter().map(|c| format!("{c:.0}")).collect();
    Problem {
        question: format!(
            "A vocabulary contains every string of 1 to {max_piece} characters over the alphabet of a word of {n} \
             characters (and nothing longer). In how many ways can the word be written as a sequence of tokens?"
        ),
        answer,
        unit: "segmentations".into(),
        rel_tolerance: 0.001,
        solution: vec![
            format!(
                "Let $N_j$ count the segmentations of the first $j$ characters. The last token has length 1 to \
                 {max_piece}, so $N_j = \\sum_{{k=1}}^{{{max_piece}}} N_{{j-k}}$ with $N_0 = 1$ (terms with $j - k < 0$ are zero)."
            ),
            format!("$N_0, \\dots, N_{{{n}}} = {}$.", shown.join(", ")),
            format!(
                "So {answer:.0} segmentations, one of which the encoder calls canonical (with no length limit it would be \
                 $2^{{n-1}} = {}$).",
                1u64 << (n - 1)
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositions_match_hand_counts() {
        // With pieces of length 1 or 2 the counts are Fibonacci numbers: 1, 1, 2, 3, 5, 8.
        assert_eq!(compositions(5, 2), vec![1.0, 1.0, 2.0, 3.0, 5.0, 8.0]);
        // With no effective limit, 2^(n-1).
        assert_eq!(compositions(6, 6)[6], 32.0);
    }
}

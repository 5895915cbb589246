//! Estimation problems of the lesson on attention (ids start with `attention.`). Every answer comes from
//! [`crate::lessons::attention::cost`].

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::attention::cost;
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "attention.flop_share",
        title: "Attention's quadratic FLOPs against the MLP's",
        description: "The ratio of QKᵀ + PV FLOPs to a 4d MLP's at a given context, or the context where they are equal",
        generate: |rng| Some(flop_share(rng)),
    },
    GeneratorSpec {
        id: "attention.score_memory",
        title: "Memory of a materialised attention matrix",
        description: "GB of one layer's scores for a batch, heads, context length and dtype",
        generate: |rng| Some(score_memory(rng)),
    },
    GeneratorSpec {
        id: "attention.softmax_time",
        title: "Is the softmax or the matrix product the bottleneck?",
        description: "Microseconds an H100 spends moving a layer's scores through an unfused softmax, against the matrix products at peak",
        generate: |rng| Some(softmax_time(rng)),
    },
];

/// Realistic `(width, heads)` pairs.
const SHAPES: &[(usize, usize)] = &[(768, 12), (1024, 16), (2048, 16), (4096, 32), (5120, 40), (8192, 64)];

fn flop_share(rng: &mut Rng) -> Problem {
    let (d, _) = rng.pick(SHAPES);
    if rng.below(2) == 0 {
        let n = rng.pick(&[2048usize, 8192, 32768, 131_072]);
        let core = cost::core_flops(n as f64, d as f64, false);
        let mlp = cost::mlp_flops(n as f64, d as f64);
        let ratio = core / mlp;
        Problem {
            question: format!(
                "A transformer layer has width $d = {d}$ and a feed-forward block of width $4d$. For one \
                 sequence of $n = {n}$ tokens, what is the ratio of the FLOPs of $QK^\\top$ and $PV$ (all \
                 heads, no causal skipping) to the MLP's FLOPs?"
            ),
            answer: ratio,
            unit: "×".into(),
            rel_tolerance: 0.05,
            solution: vec![
                format!("$QK^\\top$ and $PV$: $2n^2d$ each, $4n^2d = {core:.3e}$ FLOPs."),
                format!("MLP: two matrices $d\\times 4d$, $2\\cdot 2nd\\cdot 4d = 16nd^2 = {mlp:.3e}$ FLOPs."),
                format!("Ratio $n/(4d) = {n}/{} = {ratio:.3}$.", 4 * d),
            ],
        }
    } else {
        let n = 4.0 * d as f64;
        Problem {
            question: format!(
                "At what context length $n$ do the quadratic attention FLOPs ($QK^\\top$ and $PV$) of a \
                 layer of width $d = {d}$ equal those of its $4d$-wide MLP?"
            ),
            answer: n,
            unit: "tokens".into(),
            rel_tolerance: 0.02,
            solution: vec![
                "Quadratic part: $4n^2d$. MLP: $16nd^2$.".to_string(),
                format!("Equal when $4n^2d = 16nd^2$, i.e. $n = 4d = {n}$ tokens."),
            ],
        }
    }
}

fn score_memory(rng: &mut Rng) -> Problem {
    let (_, heads) = rng.pick(SHAPES);
    let batch = rng.pick(&[1usize, 4, 8, 16]);
    let n = rng.pick(&[2048usize, 4096, 8192, 16384]);
    let (bytes, dtype) = rng.pick(&[(2usize, "bf16"), (4, "fp32")]);
    let gb = cost::score_bytes(batch as f64, heads as f64, n as f64, bytes as f64) / 1e9;
    Problem {
        question: format!(
            "An attention layer with {heads} heads runs on a batch of {batch} sequences of {n} tokens and \
             materialises its score matrix in {dtype}. How many GB ($10^9$ bytes) does that matrix take?"
        ),
        answer: gb,
        unit: "GB".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!("One score per (sequence, head, query, key): ${batch} \\times {heads} \\times {n}^2$."),
            format!("At {bytes} bytes each: ${gb:.2}$ GB, and the softmax's output $P$ is another matrix of the same size."),
        ],
    }
}

fn softmax_time(rng: &mut Rng) -> Problem {
    let (d, heads) = rng.pick(SHAPES);
    let n = rng.pick(&[2048usize, 4096, 8192]);
    let dh = d / heads;
    let elements = heads as f64 * (n as f64) * (n as f64);
    // Read the scores and write the weights, 2 bytes each (bf16).
    let seconds = 2.0 * 2.0 * elements / cost::H100_BYTES_PER_S;
    let matmul = cost::core_flops(n as f64, d as f64, false) / cost::H100_FLOPS;
    Problem {
        question: format!(
            "Unfused attention on an H100 (3.35 TB/s HBM, 989 TFLOP/s bf16): one sequence of $n = {n}$ \
             tokens, {heads} heads of width {dh}. The softmax reads the bf16 scores from HBM and writes the \
             bf16 weights back. How many microseconds does that memory traffic take at full bandwidth? \
             (Compare with the two matrix products at peak.)"
        ),
        answer: seconds * 1e6,
        unit: "µs".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!("Scores: $h n^2 = {heads} \\times {n}^2 = {elements:.3e}$ numbers."),
            format!("Traffic: read and write, 2 bytes each: $4 h n^2 = {:.3e}$ bytes; at 3.35 TB/s that is {:.0} µs.", 4.0 * elements, seconds * 1e6),
            format!(
                "The products $QK^\\top$ and $PV$ take $4n^2d = {:.3e}$ FLOPs, {:.0} µs at peak: the softmax's traffic alone costs {:.1}× as much, which is why fused kernels never write the scores to HBM.",
                cost::core_flops(n as f64, d as f64, false),
                matmul * 1e6,
                seconds / matmul
            ),
        ],
    }
}

//! Estimation problems of the lesson on positional encodings (ids start with `posenc.`).
//!
//! Every answer comes from [`crate::lessons::posenc`]: RoPE's frequencies and extension rules ([`Rope`]) and
//! ALiBi's slopes ([`alibi_slopes`]).

use std::f64::consts::PI;

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::posenc::curves::pairs_longer_than;
use crate::lessons::posenc::{alibi_slopes, alibi_span, Rope, Scaling};
use crate::math;
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "posenc.rope_wavelengths",
        title: "How many RoPE pairs never finish a turn inside the training context",
        description: "Count the pairs of a RoPE head whose wavelength 2π·b^(2i/d) exceeds the training context",
        generate: rope_wavelengths,
    },
    GeneratorSpec {
        id: "posenc.alibi_slopes",
        title: "ALiBi's slope for one head, and how far back it looks",
        description: "The slope of head h of H (H possibly not a power of two) by the reference rule, and the number of recent keys holding 90% of its attention",
        generate: alibi_head,
    },
    GeneratorSpec {
        id: "posenc.context_extension",
        title: "Stretching a RoPE model's context: the new base, or YaRN's logit scale",
        description: "The NTK-aware base b·s^(d/(d−2)) or YaRN's logit factor (0.1 ln s + 1)² for an extension factor s",
        generate: context_extension,
    },
];

fn rope_wavelengths(rng: &mut Rng) -> Option<Problem> {
    let dim = rng.pick(&[64usize, 128]);
    let (base, base_text) = rng.pick(&[(10_000.0, "10\\,000"), (500_000.0, "500\\,000")]);
    let context = rng.pick(&[2048usize, 4096, 8192]);
    let rope = Rope::new(dim, base);
    let n = pairs_longer_than(&rope, context as f64).ok()?;
    // The first pair index whose wavelength passes the context: 2π b^(2i/d) > L ⇔ i > (d/2)·ln(L/2π)/ln b.
    let threshold = dim as f64 / 2.0 * math::ln(context as f64 / (2.0 * PI)) / math::ln(base);
    Some(Problem {
        question: format!(
            "A RoPE head of width $d = {dim}$ with base $b = {base_text}$ was trained on ${context}$-token \
             contexts. Pair $i$ turns by $\\theta_i = b^{{-2i/d}}$ per token, $i = 0, \\dots, {}$. How many \
             pairs have a wavelength longer than the context, so that they never complete a turn during \
             training?",
            dim / 2 - 1
        ),
        answer: n as f64,
        unit: "pairs".into(),
        rel_tolerance: 0.06,
        solution: vec![
            "Wavelength of pair $i$: $\\lambda_i = 2\\pi/\\theta_i = 2\\pi\\, b^{2i/d}$.".into(),
            format!(
                "$\\lambda_i > L \\iff i > \\tfrac{{d}}{{2}}\\,\\ln(L/2\\pi)/\\ln b = {} \\times \\ln({context}/2\\pi)/\\ln b = {threshold:.2}$.",
                dim / 2
            ),
            format!(
                "The indices above ${threshold:.2}$ up to ${}$: ${n}$ pairs of ${}$ only ever see a fraction of a turn.",
                dim / 2 - 1,
                dim / 2
            ),
        ],
    })
}

fn alibi_head(rng: &mut Rng) -> Option<Problem> {
    let heads = rng.pick(&[8usize, 12, 16, 20, 24, 32, 40]);
    let head = 1 + rng.below(heads);
    let slopes = alibi_slopes(heads).ok()?;
    let m = slopes[head - 1];
    let p = 1usize << (usize::BITS - 1 - heads.leading_zeros());
    let rule = if heads == p {
        format!("$H = {heads}$ is a power of two: $m_h = 2^{{-8h/H}} = 2^{{-8 \\cdot {head}/{heads}}}$.")
    } else if head <= p {
        format!(
            "$H = {heads}$ is not a power of two. The largest power of two below it is $p = {p}$; the first ${p}$ \
             heads take the slopes of a ${p}$-head model, $2^{{-8h/p}}$: $m_{{{head}}} = 2^{{-8\\cdot{head}/{p}}}$."
        )
    } else {
        let j = head - p - 1;
        format!(
            "$H = {heads}$ is not a power of two; $p = {p}$. Heads ${}$ to ${heads}$ take every other slope of a \
             ${}$-head model, $2^{{-4(2j+1)/p}}$ with $j = h - p - 1 = {j}$: $m_{{{head}}} = 2^{{-4 \\cdot {}/{p}}}$.",
            p + 1,
            2 * p,
            2 * j + 1
        )
    };
    let span = alibi_span(m, 1_000_000, 0.9);
    if rng.below(2) == 0 {
        Some(Problem {
            question: format!(
                "An ALiBi model has $H = {heads}$ heads, with slopes set by the reference code's rule. What is the \
                 slope $m$ of head $h = {head}$ (1-based)?"
            ),
            answer: m,
            unit: String::new(),
            rel_tolerance: 0.01,
            solution: vec![rule, format!("$m = {m:.6}$.")],
        })
    } else {
        Some(Problem {
            question: format!(
                "An ALiBi model has $H = {heads}$ heads (reference slope rule). With no content signal, the logits \
                 of head $h = {head}$ are $-m k$ for a key $k$ tokens back. Over a very long context, how many of \
                 the most recent keys hold 90% of its attention?"
            ),
            answer: span as f64,
            unit: "tokens".into(),
            rel_tolerance: 0.05,
            solution: vec![
                rule,
                format!("$m = {m:.6}$."),
                "Weights $\\propto e^{-mk}$: the first $w$ keys hold $1 - e^{-mw}$ of the mass, so \
                 $w = \\ln 10/m$ for 90%."
                    .into(),
                format!("$w = 2.3026/{m:.6} \\approx {span}$ tokens."),
            ],
        })
    }
}

fn context_extension(rng: &mut Rng) -> Option<Problem> {
    let dim = rng.pick(&[64usize, 128]);
    let factor = rng.pick(&[2.0, 4.0, 8.0, 16.0, 32.0]);
    if rng.below(2) == 0 {
        let base = rng.pick(&[10_000.0, 500_000.0]);
        let r = Rope::new(dim, base).scaled(Scaling::Ntk, factor, 4096.0);
        let new = r.effective_base();
        let exponent = dim as f64 / (dim as f64 - 2.0);
        Some(Problem {
            question: format!(
                "A RoPE model with head width $d = {dim}$ and base $b = {base}$ is stretched by $s = {factor}$ \
                 with NTK-aware scaling, which changes only the base so that the slowest pair's frequency \
                 falls by exactly $s$. What is the new base?"
            ),
            answer: new,
            unit: String::new(),
            rel_tolerance: 0.02,
            solution: vec![
                "The slowest pair is $i = d/2 - 1$ with $\\theta = b^{-(d-2)/d}$. Requiring \
                 $b'^{-(d-2)/d} = b^{-(d-2)/d}/s$ gives $b' = b\\, s^{d/(d-2)}$."
                    .into(),
                format!("$d/(d-2) = {exponent:.5}$, so $b' = {base} \\times {factor}^{{{exponent:.5}}} = {new:.0}$."),
            ],
        })
    } else {
        let r = Rope::new(dim, 10_000.0).scaled(Scaling::Yarn, factor, 4096.0);
        let scale = r.magnitude_scale();
        Some(Problem {
            question: format!(
                "YaRN extends a RoPE model's context by $s = {factor}$. By what factor does its attention \
                 temperature correction multiply the logits $q\\cdot k/\\sqrt{{d}}$?"
            ),
            answer: scale * scale,
            unit: String::new(),
            rel_tolerance: 0.01,
            solution: vec![
                "YaRN sets $\\sqrt{1/t} = 0.1\\ln s + 1$ and multiplies both the rotated query and key by it, so \
                 the logits gain $(0.1 \\ln s + 1)^2 = 1/t$."
                    .into(),
                format!(
                    "$0.1 \\ln {factor} + 1 = {scale:.5}$; squared: ${:.5}$.",
                    scale * scale
                ),
            ],
        })
    }
}

//! Estimation problems of the lesson on backprop (ids start with `backprop.`).
//!
//! Four generators, each the kind of count an interviewer asks for on a whiteboard:
//!
//! - `backprop.linear_backward_flops`: the backward pass of one linear layer `Y = XW` costs two matmuls the
//!   size of the forward one, `dX = G Wᵀ` and `dW = Xᵀ G`, so `4·B·D·H` FLOPs against the forward's
//!   `2·B·D·H` (a multiply-add is 2 FLOPs).
//! - `backprop.mlp_step_flops`: one training step of an MLP is about three forward passes, the "6 FLOPs per
//!   parameter per example" rule of Kaplan et al., "Scaling Laws for Neural Language Models" (2020, section
//!   2.1: forward `2N`, backward `4N` per token), less the first layer's `dX`, which nobody needs for data.
//! - `backprop.activation_memory`: what the backward pass of a two-layer MLP reads from the forward pass
//!   (`X`, `Z1`, `H1`, `P`), in MiB for a given precision.
//! - `backprop.param_count`: the parameters of a two-layer MLP with biases, `D·H + H + H·C + C`.
//!
//! The FLOP counts follow the convention of [`crate::autograd`] (a `(m×k)(k×n)` matmul is `2mkn` FLOPs), and
//! the tests check the closed forms against the autograd tape's own count on small shapes; the memory and
//! parameter answers are the engine's quantities `backprop.activation_memory_bytes` and
//! `backprop.param_count`.

use crate::estimate::{GeneratorSpec, Problem};
use crate::quantities;
use crate::estimate::format::{prose_int, tex_int, tex_number};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "backprop.linear_backward_flops",
        title: "FLOPs of a linear layer's backward pass",
        description: "GFLOPs of dX = G Wᵀ and dW = Xᵀ G for a batch of B rows through a D → H linear layer: 4·B·D·H",
        generate: |rng| Some(linear_backward(rng)),
    },
    GeneratorSpec {
        id: "backprop.mlp_step_flops",
        title: "FLOPs of one MLP training step",
        description: "GFLOPs of the matmuls of one forward and backward pass of an MLP on data: 3·F − 2·B·D·H, F the forward's 2·B·(weights)",
        generate: |rng| Some(mlp_step(rng)),
    },
    GeneratorSpec {
        id: "backprop.activation_memory",
        title: "Activation memory of a two-layer MLP",
        description: "MiB kept for the backward pass of a D → H → C MLP: X, Z1, H1 and P, B·(D + 2H + C) values",
        generate: activation_memory,
    },
    GeneratorSpec {
        id: "backprop.param_count",
        title: "Parameters of a two-layer MLP",
        description: "exact parameter count of a D → H → C MLP with biases: D·H + H + H·C + C",
        generate: param_count,
    },
];

/// The accepted relative error of the FLOP and memory estimates: an interviewer takes a count that is right
/// to a few per cent, not one that forgets a matmul (which is off by a third or more).
const ESTIMATE_TOLERANCE: f64 = 0.05;
/// The accepted relative error of one training step's FLOPs: 10 %, so that the "6 × parameters × batch"
/// rule of thumb (which ignores the first layer's skipped `dX`, at most about 8 % here) is accepted.
const STEP_TOLERANCE: f64 = 0.10;
/// The accepted relative error of an exact count.
const EXACT_TOLERANCE: f64 = 1e-6;

/// FLOPs of the forward product of a linear layer on `b` rows, `d` inputs and `h` outputs: `2·b·d·h` (a
/// multiply-add is 2 FLOPs, as in [`crate::autograd`]).
pub(crate) fn linear_forward_flops(b: u64, d: u64, h: u64) -> u64 {
    2 * b * d * h
}

/// FLOPs of the backward pass of that layer: `dW = Xᵀ G` always (`2·b·d·h`) and `dX = G Wᵀ` (another
/// `2·b·d·h`) when the input needs a gradient, i.e. when it is not the data.
pub(crate) fn linear_backward_flops(b: u64, d: u64, h: u64, input_grad: bool) -> u64 {
    let one = linear_forward_flops(b, d, h);
    if input_grad {
        2 * one
    } else {
        one
    }
}

/// The widths of an MLP's matmuls: `d → h` (`layers` times, the first from `d`, then `h → h`) and `h → c`.
fn mlp_widths(d: u64, h: u64, layers: u64, c: u64) -> Vec<(u64, u64)> {
    let mut widths = vec![(d, h)];
    for _ in 1..layers {
        widths.push((h, h));
    }
    widths.push((h, c));
    widths
}

/// Matmul FLOPs of one training step (forward and backward) of an MLP on a batch of `b` data rows, with
/// `layers` hidden layers of width `h`, input `d` and `c` outputs: every layer's forward and `dW`, and `dX`
/// for every layer but the first (its input is data). Biases and activations are `O(b·h)` and not counted.
pub(crate) fn mlp_step_flops(b: u64, d: u64, h: u64, layers: u64, c: u64) -> (u64, u64) {
    let widths = mlp_widths(d, h, layers, c);
    let forward: u64 = widths
        .iter()
        .map(|&(i, o)| linear_forward_flops(b, i, o))
        .sum();
    let backward: u64 = widths
        .iter()
        .enumerate()
        .map(|(k, &(i, o))| linear_backward_flops(b, i, o, k > 0))
        .sum();
    (forward, backward)
}

fn linear_backward(rng: &mut Rng) -> Problem {
    let b = rng.pick(&[256u64, 512, 1024, 2048, 4096]);
    let d = rng.pick(&[1024u64, 2048, 4096, 8192]);
    let h = rng.pick(&[1024u64, 2048, 4096, 8192]);
    let forward = linear_forward_flops(b, d, h);
    let backward = linear_backward_flops(b, d, h, true);
    let gflops = backward as f64 / 1e9;
    let question = format!(
        "A linear layer $Y = XW$ receives a batch $X \\in \\mathbb{{R}}^{{B \\times D}}$ with $B = {b}$ and \
         $D = {d}$, and has weights $W \\in \\mathbb{{R}}^{{D \\times H}}$ with $H = {h}$. Its input is the output of an \
         earlier layer, so the backward pass computes both $\\partial L/\\partial X$ and $\\partial L/\\partial W$. \
         How many GFLOPs does this layer's backward pass cost? Count a multiply-add as 2 FLOPs; \
         1 GFLOP $= 10^9$ FLOPs."
    );
    let solution = vec![
        format!(
            "The forward product $XW$ multiplies a ${b} \\times {d}$ matrix by a ${d} \\times {h}$ one: \
             $2BDH = 2 \\cdot {b} \\cdot {d} \\cdot {h} = {}$ FLOPs.",
            tex_number(forward as f64, 4)
        ),
        "With $G = \\partial L/\\partial Y$, the backward pass needs $\\partial L/\\partial X = G W^\\top$ \
         (a $(B \\times H)(H \\times D)$ product) and $\\partial L/\\partial W = X^\\top G$ (a \
         $(D \\times B)(B \\times H)$ product). Each has the same $B \\cdot D \\cdot H$ multiply-adds as the \
         forward."
            .to_owned(),
        format!(
            "So the backward pass costs $2 \\times 2BDH = 4BDH = {}$ FLOPs, twice the forward: \
             **{} GFLOPs**.",
            tex_number(backward as f64, 4),
            tex_number(gflops, 4)
        ),
    ];
    Problem {
        question,
        answer: gflops,
        unit: "GFLOPs".to_owned(),
        rel_tolerance: ESTIMATE_TOLERANCE,
        solution,
    }
}

fn mlp_step(rng: &mut Rng) -> Problem {
    let b = rng.pick(&[256u64, 512, 1024, 2048]);
    let d = rng.pick(&[512u64, 1024]);
    let h = rng.pick(&[2048u64, 4096]);
    let layers = rng.pick(&[2u64, 3, 4]);
    let c = rng.pick(&[10u64, 100, 1000]);
    let (forward, backward) = mlp_step_flops(b, d, h, layers, c);
    let total = forward + backward;
    let weights: u64 = mlp_widths(d, h, layers, c)
        .iter()
        .map(|&(i, o)| i * o)
        .sum();
    let first = linear_forward_flops(b, d, h);
    let gflops = total as f64 / 1e9;
    let question = format!(
        "An MLP takes inputs of width $D = {d}$ through {layers} hidden layers of width $H = {h}$ to \
         $C = {c}$ outputs. Estimate the FLOPs of its matrix multiplications in one training step (forward \
         and backward) on a batch of $B = {b}$ examples, in GFLOPs. The input is data, so nobody needs its \
         gradient; ignore biases and activations (they cost $O(BH)$, not $O(BH^2)$). Count a multiply-add \
         as 2 FLOPs."
    );
    let hidden_terms = if layers > 1 {
        format!(" + {} \\cdot {h}^2", layers - 1)
    } else {
        String::new()
    };
    let solution = vec![
        format!(
            "The weight matrices hold $N = {d} \\cdot {h}{hidden_terms} + {h} \\cdot {c} = {}$ entries, and \
             the forward pass multiplies each by every example once: $F = 2BN = {}$ FLOPs.",
            tex_int(weights),
            tex_number(forward as f64, 4)
        ),
        "Backward, every layer computes $\\partial L/\\partial W = X^\\top G$ and every layer but the first \
         computes $\\partial L/\\partial X = G W^\\top$, each as costly as its forward product: $2F$ less the \
         first layer's $2BDH$."
            .to_owned(),
        format!(
            "The first layer's skipped product is $2BDH = {}$ FLOPs, so the backward pass costs \
             $2F - 2BDH = {}$ FLOPs.",
            tex_number(first as f64, 4),
            tex_number(backward as f64, 4)
        ),
        format!(
            "One step is $3F - 2BDH = {}$ FLOPs: **{} GFLOPs**. The rule of thumb $6 \\cdot N \\cdot B$ \
             (Kaplan et al. 2020) gives ${}$ GFLOPs, within {:.0} % because it charges the first layer's \
             $\\partial L/\\partial X$ too.",
            tex_number(total as f64, 4),
            tex_number(gflops, 4),
            tex_number(3.0 * forward as f64 / 1e9, 4),
            (3.0 * forward as f64 / total as f64 - 1.0) * 100.0
        ),
    ];
    Problem {
        question,
        answer: gflops,
        unit: "GFLOPs".to_owned(),
        rel_tolerance: STEP_TOLERANCE,
        solution,
    }
}

/// Bytes in a mebibyte, `2^20`.
const MIB: f64 = 1_048_576.0;

fn activation_memory(rng: &mut Rng) -> Option<Problem> {
    let b = rng.pick(&[256u64, 512, 1024, 4096]);
    let d = rng.pick(&[784u64, 1024, 3072]);
    let h = rng.pick(&[1024u64, 2048, 4096]);
    let c = rng.pick(&[10u64, 100, 1000]);
    let (precision, bytes) = rng.pick(&[("float32", 4u64), ("bfloat16", 2)]);
    let args = [
        ("batch", b.to_string()),
        ("d_in", d.to_string()),
        ("hidden", h.to_string()),
        ("classes", c.to_string()),
        ("bytes", bytes.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The quantity validates its arguments; the drawn shapes are all within its limits.
    let total_bytes = quantities::evaluate("backprop.activation_memory_bytes", &pairs).ok()?;
    let values = b * (d + 2 * h + c);
    let mib = total_bytes / MIB;
    let question = format!(
        "A two-layer MLP computes $Z_1 = X W_1 + b_1$, $H_1 = \\mathrm{{ReLU}}(Z_1)$, \
         $Z_2 = H_1 W_2 + b_2$, $P = \\mathrm{{softmax}}(Z_2)$ with $D = {d}$ inputs, $H = {h}$ hidden units \
         and $C = {c}$ classes, on a batch of $B = {b}$ in {precision} ({bytes} bytes per value). How many MiB \
         of activations must the forward pass keep for the backward pass? Count every tensor a gradient \
         formula reads, not the weights. 1 MiB $= 2^{{20}}$ bytes."
    );
    let solution = vec![
        "The gradient formulas read: $X$ (for $\\partial L/\\partial W_1 = X^\\top G_1$), $Z_1$ (for \
         $\\mathrm{ReLU}'(Z_1)$), $H_1$ (for $\\partial L/\\partial W_2 = H_1^\\top G_2$) and $P$ (for \
         $\\partial L/\\partial Z_2 = (P - Y)/B$)."
            .to_owned(),
        format!(
            "They hold $B(D + 2H + C) = {b} \\cdot ({d} + 2 \\cdot {h} + {c}) = {}$ values.",
            tex_int(values)
        ),
        format!(
            "At {bytes} bytes each that is ${}$ bytes; dividing by $2^{{20}}$ gives **{} MiB**.",
            tex_int(values * bytes),
            tex_number(mib, 4)
        ),
    ];
    Some(Problem {
        question,
        answer: mib,
        unit: "MiB".to_owned(),
        rel_tolerance: ESTIMATE_TOLERANCE,
        solution,
    })
}

fn param_count(rng: &mut Rng) -> Option<Problem> {
    let d = rng.pick(&[784u64, 1024, 3072, 4096]);
    let h = rng.pick(&[128u64, 256, 512, 1024, 2048]);
    let c = rng.pick(&[10u64, 100, 1000]);
    let args = [
        ("d_in", d.to_string()),
        ("hidden", h.to_string()),
        ("classes", c.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let count = quantities::evaluate("backprop.param_count", &pairs).ok()?;
    let question = format!(
        "How many trainable parameters does a two-layer MLP $x \\mapsto W_2^\\top \\mathrm{{ReLU}}(W_1^\\top x + \
         b_1) + b_2$ have, with $D = {d}$ inputs, $H = {h}$ hidden units and $C = {c}$ outputs? Give the exact \
         count."
    );
    let solution = vec![
        format!(
            "The first layer has a ${d} \\times {h}$ weight matrix and ${h}$ biases: ${} + {h} = {}$.",
            tex_int(d * h),
            tex_int(d * h + h)
        ),
        format!(
            "The second layer has a ${h} \\times {c}$ weight matrix and ${c}$ biases: ${} + {c} = {}$.",
            tex_int(h * c),
            tex_int(h * c + c)
        ),
        format!(
            "In total $DH + H + HC + C = {}$ parameters: **{}**.",
            tex_int(d * h + h + h * c + c),
            prose_int(count as u64)
        ),
    ];
    Some(Problem {
        question,
        answer: count,
        unit: String::new(),
        rel_tolerance: EXACT_TOLERANCE,
        solution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::Graph;
    use crate::estimate::generate as generate_estimate;
    use crate::tensor::Tensor;

    /// The numbers after `$B = ` etc. in a question, read back so that the test recomputes the answer from
    /// what the learner is shown rather than from the generator's variables.
    fn shown(question: &str, name: &str) -> f64 {
        let key = format!("${name} = ");
        let at = question
            .find(&key)
            .unwrap_or_else(|| panic!("{name} not in {question}"));
        let rest = &question[at + key.len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..end].parse().unwrap()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn closed_forms_match_the_autograd_tape() {
        // A matmul chain on a constant input with a sum loss: `sum` costs n forward and 0 backward (see the
        // table in crate::autograd), so the tape's matmul FLOPs are exactly the closed forms'.
        for &(b, d, h, layers, c) in &[
            (3u64, 5u64, 4u64, 1u64, 2u64),
            (2, 3, 6, 3, 4),
            (4, 7, 5, 2, 3),
        ] {
            let mut rng = Rng::new(9);
            let mut g = Graph::new();
            let mut x = g.constant(Tensor::randn(&[b as usize, d as usize], 1.0, &mut rng));
            for (i, o) in mlp_widths(d, h, layers, c) {
                let w = g.param(Tensor::randn(&[i as usize, o as usize], 1.0, &mut rng));
                x = g.matmul(x, w).unwrap();
            }
            let loss = g.sum(x);
            g.backward(loss).unwrap();
            let (forward, backward) = mlp_step_flops(b, d, h, layers, c);
            let flops = g.flops();
            assert_eq!(
                flops.forward,
                forward + b * c,
                "forward {b} {d} {h} {layers} {c}"
            );
            assert_eq!(
                flops.backward, backward,
                "backward {b} {d} {h} {layers} {c}"
            );
        }
        // One layer whose input needs a gradient: the backward is exactly twice the forward.
        let mut rng = Rng::new(2);
        let mut g = Graph::new();
        let x = g.param(Tensor::randn(&[3, 5], 1.0, &mut rng));
        let w = g.param(Tensor::randn(&[5, 4], 1.0, &mut rng));
        let y = g.matmul(x, w).unwrap();
        let loss = g.sum(y);
        g.backward(loss).unwrap();
        assert_eq!(g.flops().backward, linear_backward_flops(3, 5, 4, true));
        assert_eq!(linear_backward_flops(3, 5, 4, true), 4 * 3 * 5 * 4);
    }

    #[test]
    fn linear_backward_answers_for_several_seeds() {
        for seed in 0..20 {
            let e = generate_estimate("backprop.linear_backward_flops", seed).unwrap();
            let (b, d, h) = (
                shown(&e.question, "B"),
                shown(&e.question, "D"),
                shown(&e.question, "H"),
            );
            // Independent: 4·B·D·H FLOPs over 1e9.
            let expected = 4.0 * b * d * h / 1e9;
            assert!(
                close(e.answer, expected, 1e-12),
                "seed {seed}: {} vs {expected}",
                e.answer
            );
            assert_eq!(e.rel_tolerance, 0.05);
            assert!(e.check(expected * 1.04).within && !e.check(expected * 0.5).within);
        }
    }

    #[test]
    fn mlp_step_answers_for_several_seeds() {
        for seed in 0..20 {
            let e = generate_estimate("backprop.mlp_step_flops", seed).unwrap();
            let (b, d, h, c) = (
                shown(&e.question, "B"),
                shown(&e.question, "D"),
                shown(&e.question, "H"),
                shown(&e.question, "C"),
            );
            let layers: f64 = e
                .question
                .split(" hidden layers")
                .next()
                .unwrap()
                .rsplit(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            // Independent: weights N = DH + (L-1)H² + HC; one step = 6BN - 2BDH.
            let n = d * h + (layers - 1.0) * h * h + h * c;
            let expected = (6.0 * b * n - 2.0 * b * d * h) / 1e9;
            assert!(
                close(e.answer, expected, 1e-12),
                "seed {seed}: {} vs {expected}",
                e.answer
            );
            // The 6·N·B rule of thumb must be accepted, as the solution says.
            assert!(e.check(6.0 * b * n / 1e9).within, "seed {seed}");
        }
    }

    #[test]
    fn activation_memory_answers_for_several_seeds() {
        for seed in 0..20 {
            let e = generate_estimate("backprop.activation_memory", seed).unwrap();
            let (b, d, h, c) = (
                shown(&e.question, "B"),
                shown(&e.question, "D"),
                shown(&e.question, "H"),
                shown(&e.question, "C"),
            );
            let bytes = if e.question.contains("float32") {
                4.0
            } else {
                2.0
            };
            // Independent: X, Z1, H1, P hold B(D + 2H + C) values.
            let expected = b * (d + 2.0 * h + c) * bytes / 1_048_576.0;
            assert!(
                close(e.answer, expected, 1e-12),
                "seed {seed}: {} vs {expected}",
                e.answer
            );
        }
        // One worked case by hand: B = 1024, D = 784, H = 1024, C = 10 in float32 is
        // 1024 · (784 + 2048 + 10) · 4 / 2^20 = 11.1015625 MiB.
        let bytes = quantities::evaluate(
            "backprop.activation_memory_bytes",
            &[
                ("batch", "1024"),
                ("d_in", "784"),
                ("hidden", "1024"),
                ("classes", "10"),
                ("bytes", "4"),
            ],
        )
        .unwrap();
        assert!((bytes / MIB - 11.1015625).abs() < 1e-12);
    }

    #[test]
    fn param_count_answers_for_several_seeds() {
        for seed in 0..20 {
            let e = generate_estimate("backprop.param_count", seed).unwrap();
            let (d, h, c) = (
                shown(&e.question, "D"),
                shown(&e.question, "H"),
                shown(&e.question, "C"),
            );
            let expected = d * h + h + h * c + c;
            assert_eq!(e.answer, expected, "seed {seed}");
            assert!(
                !e.check(expected + h).within,
                "forgetting a bias vector is wrong"
            );
        }
    }

    #[test]
    fn every_solution_ends_with_the_answer_and_seeds_repeat() {
        for spec in SPECS {
            for seed in [0u64, 1, 7, 12345] {
                let e = generate_estimate(spec.id, seed).unwrap();
                assert_eq!(
                    e,
                    generate_estimate(spec.id, seed).unwrap(),
                    "{} is not deterministic",
                    spec.id
                );
                let last = e.solution.last().unwrap();
                let stated = if e.answer.fract() == 0.0 && e.unit.is_empty() {
                    prose_int(e.answer as u64)
                } else {
                    tex_number(e.answer, 4)
                };
                assert!(
                    last.contains(&format!("**{stated}")),
                    "{}: `{last}` lacks {stated}",
                    spec.id
                );
                assert!(e.question.matches('$').count() % 2 == 0, "{}", e.question);
            }
        }
    }

    #[test]
    fn number_formatting() {
        assert_eq!(tex_number(34_359_738_368.0, 4), "3.436 \\times 10^{10}");
        assert_eq!(tex_number(68.719_476_736, 4), "68.72");
        assert_eq!(tex_number(11.101_562_5, 4), "11.10");
        assert_eq!(tex_int(25_165_824), "25\\,165\\,824");
        assert_eq!(tex_int(999), "999");
        assert_eq!(prose_int(1_624_676), "1,624,676");
    }
}

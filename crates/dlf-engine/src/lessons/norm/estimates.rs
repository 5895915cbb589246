//! Estimation problems of the lesson on normalization (ids start with `norm.`).
//!
//! Every answer comes from [`crate::lessons::norm`]: the parameter, FLOP and saved-activation counts of
//! [`param_count`], [`forward_flops_per_row`] and [`saved_values_per_row`], the running statistics of a real
//! [`RunningStats`] being updated, and a real [`batch_norm_train`] forward pass.

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::norm::equilibrium::{EquilibriumConfig, Optimizer};
use crate::lessons::norm::{
    batch_norm_train, forward_flops_per_row, param_count, saved_values_per_row, MomentumConvention,
    NormKind, RunningStats, RunningVariance,
};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "norm.activation_memory",
        title: "Activation memory the norm layers of a transformer keep for the backward pass",
        description: "GB saved by all (2L + 1) norms of a pre-norm transformer: the bf16 input plus fp32 row statistics per token",
        generate: |rng| Some(activation_memory(rng)),
    },
    GeneratorSpec {
        id: "norm.rms_savings",
        title: "What RMSNorm saves over LayerNorm in a whole model",
        description: "Norm parameters or forward GFLOPs per batch saved by replacing every LayerNorm of a transformer with RMSNorm",
        generate: |rng| Some(rms_savings(rng)),
    },
    GeneratorSpec {
        id: "norm.running_mean_steps",
        title: "How many steps BatchNorm's running mean needs to catch up",
        description: "Steps until a running mean started at 0 reaches a fraction f of a constant batch mean, in PyTorch's or Keras's momentum convention",
        generate: |rng| Some(running_mean_steps(rng)),
    },
    GeneratorSpec {
        id: "norm.equilibrium",
        title: "Equilibrium weight norm and angular update of a weight before a norm layer",
        description: "The steady-state rotation per step, or AdamW's steady-state weight norm, of a scale-invariant weight vector trained with weight decay",
        generate: |rng| Some(equilibrium(rng)),
    },
    GeneratorSpec {
        id: "norm.bn_output",
        title: "BatchNorm's training-mode output for one example by hand",
        description: "γ(x − μ_B)/√(σ²_B + ε) + β for one entry of a small batch, with the biased batch variance",
        generate: bn_output,
    },
];

/// A realistic transformer shape: (layers, width).
const SHAPES: &[(usize, usize)] = &[(12, 768), (24, 1024), (32, 4096), (40, 5120), (80, 8192)];

fn activation_memory(rng: &mut Rng) -> Problem {
    let (layers, width) = rng.pick(SHAPES);
    let batch = rng.pick(&[4usize, 8, 16, 32]);
    let seq = rng.pick(&[1024usize, 2048, 4096]);
    let (kind, label) = rng.pick(&[(NormKind::Layer, "LayerNorm"), (NormKind::Rms, "RMSNorm")],
    );
    let norms = 2 * layers + 1;
    let tokens = batch * seq;
    let stats = saved_values_per_row(kind, width) - width;
    // The input is kept in bf16 (2 bytes), the per-token statistics in fp32 (4 bytes).
    let bytes_per_token = 2 * width + 4 * stats;
    let answer = (norms * tokens * bytes_per_token) as f64 / 1e9;
    let stat_words = if stats == 2 {
        "its mean and $1/\\sigma$"
    } else {
        "its $1/\\mathrm{RMS}$"
    };
    Problem {
        question: format!(
            "A pre-norm transformer has $L = {layers}$ blocks of width $d = {width}$, two {label}s per block \
             and one before the output head. It trains on batches of ${batch}$ sequences of ${seq}$ tokens. \
             Each norm keeps its bf16 input and, per token, {stat_words} in fp32 for the backward pass. How \
             many GB ($10^9$ bytes) do the norms keep in total?"
        ),
        answer,
        unit: "GB".into(),
        rel_tolerance: 0.1,
        solution: vec![
            format!("Norm layers: $2L + 1 = {norms}$. Tokens per batch: ${batch} \\times {seq} = {tokens}$."),
            format!(
                "Per token and norm: $2d = {}$ bytes of input plus ${stats} \\times 4$ bytes of statistics $= {bytes_per_token}$ bytes.",
                2 * width
            ),
            format!(
                "Total: ${norms} \\times {tokens} \\times {bytes_per_token}$ bytes $= {answer:.2}$ GB."
            ),
        ],
    }
}

fn rms_savings(rng: &mut Rng) -> Problem {
    let (layers, width) = rng.pick(SHAPES);
    let norms = 2 * layers + 1;
    if rng.below(2) == 0 {
        let saved =
            norms * (param_count(NormKind::Layer, width) - param_count(NormKind::Rms, width));
        Problem {
            question: format!(
                "A pre-norm transformer with $L = {layers}$ blocks of width $d = {width}$ has two norms per \
                 block and a final one. How many parameters disappear when every LayerNorm becomes an \
                 RMSNorm?"
            ),
            answer: saved as f64,
            unit: "parameters".into(),
            rel_tolerance: 1e-6,
            solution: vec![
                format!("Norm layers: $2L + 1 = {norms}$."),
                format!("LayerNorm has $\\gamma$ and $\\beta$ ($2d$), RMSNorm only $\\gamma$ ($d$): each saves $d = {width}$."),
                format!("Saved: ${norms} \\times {width} = {saved}$ parameters (a rounding error next to the model's weights)."),
            ],
        }
    } else {
        let batch = rng.pick(&[8usize, 16, 32]);
        let seq = rng.pick(&[1024usize, 2048, 4096]);
        let tokens = batch * seq;
        let per_row = forward_flops_per_row(NormKind::Layer, width)
            - forward_flops_per_row(NormKind::Rms, width);
        let answer = (norms * tokens * per_row) as f64 / 1e9;
        Problem {
            question: format!(
                "Count a LayerNorm's forward pass over one token of width $d$ as $7d$ FLOPs (mean, centre, \
                 square, sum, scale, gain, shift) and an RMSNorm's as $4d$ (square, sum, scale, gain). A \
                 pre-norm transformer with $L = {layers}$ blocks of width $d = {width}$ (two norms per block \
                 and a final one) runs forward on ${batch}$ sequences of ${seq}$ tokens. How many GFLOPs \
                 does replacing every LayerNorm by RMSNorm save?"
            ),
            answer,
            unit: "GFLOPs".into(),
            rel_tolerance: 0.05,
            solution: vec![
                format!("Per token and norm: $7d - 4d = 3d = {per_row}$ FLOPs."),
                format!("Norms: $2L + 1 = {norms}$; tokens: ${batch} \\times {seq} = {tokens}$."),
                format!(
                    "Saved: ${norms} \\times {tokens} \\times {per_row} = {answer:.2}$ GFLOPs — tiny next to the matrix products, which is why the measured gain comes from memory traffic and one reduction fewer, not from FLOPs."
                ),
            ],
        }
    }
}

fn running_mean_steps(rng: &mut Rng) -> Problem {
    let keras = rng.below(2) == 1;
    let (convention, momentum) = if keras {
        (MomentumConvention::Keras, rng.pick(&[0.9, 0.99, 0.999]))
    } else {
        (MomentumConvention::PyTorch, rng.pick(&[0.1, 0.05, 0.01]))
    };
    let target = rng.pick(&[0.9, 0.95, 0.99]);
    // Count the steps with the engine's own update on batches whose mean is exactly 1 (values 0 and 2).
    let mut r = RunningStats::new(1);
    let x = Tensor::new(&[2, 1], vec![0.0, 2.0]).unwrap_or_else(|_| Tensor::zeros(&[2, 1]));
    let mut steps = 0usize;
    if let Ok(f) = batch_norm_train(&x, &[1.0], &[0.0], 1e-5) {
        while r.mean[0] < target && steps < 1_000_000 {
            if r.update(&f, momentum, convention, RunningVariance::Unbiased)
                .is_err()
            {
                break;
            }
            steps += 1;
        }
    }
    let keep = convention.keep(momentum);
    let (library, rule) = if keras {
        (
            "Keras",
            format!("r \\leftarrow {momentum}\\,r + (1 - {momentum})\\,\\mu_B"),
        )
    } else {
        (
            "PyTorch",
            format!("r \\leftarrow (1 - {momentum})\\,r + {momentum}\\,\\mu_B"),
        )
    };
    Problem {
        question: format!(
            "A BatchNorm layer in {library} with momentum ${momentum}$ starts its running mean at $0$ and then \
             sees batches whose mean is always $1$. After how many training steps does the running mean first \
             reach ${target}$?"
        ),
        answer: steps as f64,
        unit: "steps".into(),
        rel_tolerance: 0.1,
        solution: vec![
            format!("{library}'s rule is ${rule}$: the old value keeps weight $k = {keep}$."),
            format!("From $0$ with a constant $1$: $r_n = 1 - k^n$. Need $k^n \\le {:.2}$.", 1.0 - target),
            format!(
                "$n \\ge \\ln({:.2})/\\ln({keep}) = {:.1}$, so $n = {steps}$ steps.",
                1.0 - target,
                crate::math::ln(1.0 - target) / crate::math::ln(keep)
            ),
        ],
    }
}

fn equilibrium(rng: &mut Rng) -> Problem {
    let adamw = rng.below(2) == 1;
    let (optimizer, lr, wd, momentum) = if adamw {
        (
            Optimizer::AdamW,
            rng.pick(&[1e-4, 3e-4, 1e-3, 3e-3]),
            rng.pick(&[0.01, 0.05, 0.1]),
            rng.pick(&[0.0, 0.9]),
        )
    } else {
        (
            Optimizer::Sgd,
            rng.pick(&[0.05, 0.1, 0.2, 0.4]),
            rng.pick(&[1e-4, 5e-4, 1e-3]),
            rng.pick(&[0.0, 0.9]),
        )
    };
    let dim = rng.pick(&[256usize, 768, 1024, 4096]);
    let cfg = EquilibriumConfig {
        optimizer,
        lr,
        wd,
        momentum,
        dim,
        steps: 0,
        seed: 0,
    };
    let angle_deg = cfg.predicted_angle().to_degrees();
    if adamw && rng.below(2) == 0 {
        let norm = cfg.predicted_norm();
        return Problem {
            question: format!(
                "A neuron's weight vector has ${dim}$ entries and feeds a normalization layer, so the loss \
                 ignores its scale. It is trained with AdamW at learning rate $\\eta = {lr}$ and decoupled \
                 weight decay $\\lambda = {wd}$; each coordinate's Adam step has size about $\\eta$. What is \
                 the weight norm at equilibrium?"
            ),
            answer: norm,
            unit: String::new(),
            rel_tolerance: 0.05,
            solution: vec![
                "The gradient is orthogonal to $w$, so each step adds $\\|\\Delta w\\|^2 \\approx \\eta^2 C$ to $\\|w\\|^2$ (over many steps, whatever $\\beta_1$).".into(),
                "The decay multiplies $w$ by $1 - \\eta\\lambda$, removing about $2\\eta\\lambda\\|w\\|^2$ per step.".into(),
                format!(
                    "Balance: $2\\eta\\lambda\\|w\\|^2 = \\eta^2 C$, so $\\|w\\|^\\ast = \\sqrt{{\\eta C/(2\\lambda)}} = \\sqrt{{{lr} \\times {dim}/(2 \\times {wd})}} = {norm:.3}$."
                ),
            ],
        };
    }
    let (name, rule, formula) = if adamw {
        (
            "AdamW",
            format!("$\\beta_1 = {momentum}$"),
            "\\sqrt{2\\eta\\lambda(1-\\beta_1)/(1+\\beta_1)}",
        )
    } else {
        (
            "SGD",
            format!("momentum $\\alpha = {momentum}$ and the decay added to the gradient"),
            "\\sqrt{2\\eta\\lambda/(1+\\alpha)}",
        )
    };
    Problem {
        question: format!(
            "A weight vector of ${dim}$ entries feeds a normalization layer. It is trained with {name} \
             ({rule}) at learning rate $\\eta = {lr}$ and weight decay $\\lambda = {wd}$. By how many \
             degrees does it rotate per step once its norm has reached equilibrium?"
        ),
        answer: angle_deg,
        unit: "degrees".into(),
        rel_tolerance: 0.05,
        solution: vec![
            "Scale invariance makes the gradient orthogonal to $w$: the gradient step grows $\\|w\\|^2$ by $\\|\\Delta w\\|^2$, the decay shrinks it by about $2\\eta\\lambda\\|w\\|^2$.".into(),
            "At equilibrium the two balance, so the angular update $\\|\\Delta w\\|/\\|w\\|$ is set by $\\eta\\lambda$ alone (the dimension and the gradient's size drop out); momentum averages uncorrelated steps and shrinks it.".into(),
            format!(
                "${formula} = {:.4}$ radians, or ${angle_deg:.3}$ degrees, per step.",
                cfg.predicted_angle()
            ),
        ],
    }
}

fn bn_output(rng: &mut Rng) -> Option<Problem> {
    // Small integers keep the arithmetic doable by hand; the batch is redrawn until its values are not all
    // equal (a zero variance would make the problem degenerate).
    let batch = 4;
    let mut values: Vec<f64>;
    loop {
        values = (0..batch).map(|_| rng.below(9) as f64 - 2.0).collect();
        if values.iter().any(|v| *v != values[0]) {
            break;
        }
    }
    let gamma = rng.pick(&[0.5, 1.0, 2.0, 3.0]);
    let beta = rng.pick(&[-1.0, 0.0, 0.5, 1.0]);
    let which = rng.below(batch);
    let x = Tensor::new(&[batch, 1], values.clone()).ok()?;
    let f = batch_norm_train(&x, &[gamma], &[beta], 1e-5).ok()?;
    let answer = f.y.get2(which, 0);
    let list = values
        .iter()
        .map(|v| format!("{v}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Problem {
        question: format!(
            "One feature of a batch of four examples has the values ${list}$. BatchNorm in training mode \
             has $\\gamma = {gamma}$, $\\beta = {beta}$ and $\\epsilon = 10^{{-5}}$. What is its output for \
             example {} (the value ${}$)?",
            which + 1,
            values[which]
        ),
        answer,
        unit: String::new(),
        rel_tolerance: 0.02,
        solution: vec![
            format!("Batch mean $\\mu_B = {}$.", f.mean[0]),
            format!(
                "Biased batch variance $\\sigma^2_B = \\frac{{1}}{{4}}\\sum (x_i - \\mu_B)^2 = {}$ (divide by $B$, not $B - 1$).",
                f.var[0]
            ),
            format!(
                "$\\hat x = ({} - {})/\\sqrt{{{} + 10^{{-5}}}} = {:.4}$.",
                values[which],
                f.mean[0],
                f.var[0],
                f.x_hat.get2(which, 0)
            ),
            format!("$y = {gamma} \\times {:.4} + {beta} = {answer:.4}$.", f.x_hat.get2(which, 0)),
        ],
    })
}

#[cfg(test)]
mod tests {
    use crate::estimate::generate;

    /// The number written right after `marker` in a question, up to the closing `$` of its maths.
    fn after(question: &str, marker: &str) -> f64 {
        let tail = question
            .split(marker)
            .nth(1)
            .unwrap_or_else(|| panic!("`{marker}` is in: {question}"));
        let text = tail.split('$').next().unwrap_or(tail);
        text.parse()
            .unwrap_or_else(|_| panic!("a number after `{marker}` in: {question}"))
    }

    #[test]
    fn activation_memory_matches_an_independent_count() {
        for seed in 0..20 {
            let e = generate("norm.activation_memory", seed).unwrap();
            // Re-derive from the numbers in the question: L, d, batch, sequence length, kind.
            let nums: Vec<f64> = e
                .question
                .split(|c: char| !(c.is_ascii_digit()))
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            // The question names L, d, batch, seq in that order (then 10^9 and fp32's 32, 16 of bf16).
            let (l, d, b, t) = (nums[0], nums[1], nums[2], nums[3]);
            let stats = if e.question.contains("LayerNorm") {
                2.0
            } else {
                1.0
            };
            let want = (2.0 * l + 1.0) * b * t * (2.0 * d + 4.0 * stats) / 1e9;
            assert!(
                e.check(want).within && (e.answer - want).abs() < 1e-9 * want,
                "{e:?}"
            );
            assert!(e.solution.last().unwrap().contains("GB"));
        }
    }

    #[test]
    fn running_mean_steps_match_the_logarithm() {
        for seed in 0..20 {
            let e = generate("norm.running_mean_steps", seed).unwrap();
            let keras = e.question.contains("Keras");
            let m: f64 = after(&e.question, "momentum $");
            let target: f64 = after(&e.question, "first reach $");
            let keep = if keras { m } else { 1.0 - m };
            // Smallest n with 1 − keep^n ≥ target, i.e. n = ceil(ln(1 − target)/ln keep) (up to rounding
            // exactly at an integer, which the 10 % tolerance absorbs).
            let want = (crate::math::ln(1.0 - target) / crate::math::ln(keep)).ceil();
            assert!((e.answer - want).abs() <= 1.0, "{e:?} want {want}");
            assert!(e
                .solution
                .last()
                .unwrap()
                .contains(&format!("$n = {}$ steps", e.answer)));
        }
    }

    #[test]
    fn bn_output_matches_the_formula() {
        for seed in 0..20 {
            let e = generate("norm.bn_output", seed).unwrap();
            let inside = e
                .question
                .split("values $")
                .nth(1)
                .unwrap()
                .split('$')
                .next()
                .unwrap();
            let xs: Vec<f64> = inside.split(", ").map(|s| s.parse().unwrap()).collect();
            let g: f64 = after(&e.question, "\\gamma = ");
            let b: f64 = after(&e.question, "\\beta = ");
            let v: f64 = after(&e.question, "(the value $");
            let mu = xs.iter().sum::<f64>() / 4.0;
            let var = xs.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / 4.0;
            let want = g * (v - mu) / (var + 1e-5).sqrt() + b;
            assert!((e.answer - want).abs() < 1e-12, "{e:?} want {want}");
        }
    }

    #[test]
    fn rms_savings_match_the_counts() {
        for seed in 0..20 {
            let e = generate("norm.rms_savings", seed).unwrap();
            let l: f64 = after(&e.question, "$L = ");
            let d: f64 = after(&e.question, "$d = ");
            let want = if e.unit == "parameters" {
                (2.0 * l + 1.0) * d
            } else {
                let b: f64 = after(&e.question, "forward on $");
                let t: f64 = after(&e.question, "sequences of $");
                (2.0 * l + 1.0) * b * t * 3.0 * d / 1e9
            };
            assert!((e.answer - want).abs() < 1e-9 * want, "{e:?} want {want}");
        }
    }

    #[test]
    fn equilibrium_answers_match_the_closed_forms() {
        let mut kinds = (0, 0, 0);
        for seed in 0..40 {
            let e = generate("norm.equilibrium", seed).unwrap();
            let lr: f64 = after(&e.question, "\\eta = ");
            let wd: f64 = after(&e.question, "\\lambda = ");
            if e.unit == "degrees" {
                // The decay balances the orthogonal steps: √(2ηλ/(1 + α)) for SGD (Wan et al.),
                // √(2ηλ(1 − β₁)/(1 + β₁)) for AdamW (Kosson et al.), in radians.
                let want = if e.question.contains("SGD") {
                    kinds.0 += 1;
                    let a: f64 = after(&e.question, "\\alpha = ");
                    (2.0 * lr * wd / (1.0 + a)).sqrt()
                } else {
                    kinds.1 += 1;
                    let b: f64 = after(&e.question, "\\beta_1 = ");
                    (2.0 * lr * wd * (1.0 - b) / (1.0 + b)).sqrt()
                };
                assert!((e.answer - want.to_degrees()).abs() < 1e-12, "{e:?}");
            } else {
                kinds.2 += 1;
                let c: f64 = after(&e.question, "has $");
                assert!(
                    (e.answer - (lr * c / (2.0 * wd)).sqrt()).abs() < 1e-12,
                    "{e:?}"
                );
            }
            assert!(e.check(e.answer * 1.03).within && !e.check(e.answer * 1.2).within);
        }
        assert!(kinds.0 > 0 && kinds.1 > 0 && kinds.2 > 0, "{kinds:?}");
    }
}

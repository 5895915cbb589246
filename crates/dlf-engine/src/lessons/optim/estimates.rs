//! Estimation problems of the lesson on optimizers (ids start with `optim.`).
//!
//! Every answer comes from [`crate::lessons::optim`]: the memory model of [`training_bytes_per_param`], Adam's step
//! from a real [`Optimizer`] run, the schedule's multiplier, and LAMB's trust ratio from a real step on a
//! randomly initialised layer.

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::optim::{
    adam_constant_gradient_step, critical_batch_examples, critical_batch_steps,
    state_bytes_per_param, training_bytes_per_param, Config, Kind, Optimizer, Schedule,
};
use crate::estimate::format::{tex_sci};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "optim.state_memory",
        title: "Optimizer and training-state memory of a large model",
        description: "GB of optimizer state, or of the whole mixed-precision training state, for N parameters",
        generate: |rng| Some(state_memory(rng)),
    },
    GeneratorSpec {
        id: "optim.adam_step",
        title: "Adam's step under a constant gradient, with and without bias correction",
        description: "|Δp| at step t of Adam with a constant gradient: lr·(1−β1ᵗ)/√(1−β2ᵗ) uncorrected, ≈ lr corrected",
        generate: |rng| Some(adam_step(rng)),
    },
    GeneratorSpec {
        id: "optim.warmup_cosine_lr",
        title: "Learning rate under linear warm-up and cosine decay",
        description: "The learning rate at step t of a linear warm-up followed by a cosine decay",
        generate: |rng| Some(warmup_cosine(rng)),
    },
    GeneratorSpec {
        id: "optim.lamb_trust_ratio",
        title: "LAMB's first-step trust ratio for a freshly initialised layer",
        description: "‖p‖/‖u‖ at step 1, where u ≈ sign(g): about the initialisation's standard deviation",
        generate: lamb_trust,
    },
    GeneratorSpec {
        id: "optim.critical_batch",
        title: "Steps or examples at batch B from S_min and the noise scale",
        description: "S = S_min(1 + B_noise/B) steps and E = S_min(B + B_noise) examples (McCandlish et al. 2018)",
        generate: |rng| Some(critical_batch(rng)),
    },
    GeneratorSpec {
        id: "optim.linear_scaling_lr",
        title: "Linearly scaled learning rate and warm-up length for a larger batch",
        description: "Peak lr η₀·B/B₀ (Goyal et al. 2017) or the steps of a warm-up of a few epochs at batch B",
        generate: |rng| Some(linear_scaling_lr(rng)),
    },
];

fn state_memory(rng: &mut Rng) -> Problem {
    let billions = rng.pick(&[1.3, 7.0, 13.0, 34.0, 70.0]);
    let (kind, momentum, label) = rng.pick(&[
            (Kind::Adam, false, "Adam"),
            (Kind::AdamW, false, "AdamW"),
            (Kind::Lion, false, "Lion"),
            (Kind::Sgd, true, "SGD with momentum"),
        ],
    );
    let whole = rng.below(2) == 1;
    let slots = kind.state_slots(momentum);
    let (per, question, steps) = if whole {
        let per = training_bytes_per_param(kind, momentum, true);
        (
            per,
            format!(
                "A {billions}B-parameter model is trained with {label} in mixed precision: bf16 weights and \
                 gradients, an fp32 master copy of the weights, fp32 optimizer states. How many GB \
                 ($10^9$ bytes) do weights, gradients, master weights and optimizer states take together \
                 (ignore activations)?"
            ),
            vec![
                format!("{label} keeps {slots} state value(s) per parameter, each fp32: ${slots} \\times 4$ bytes."),
                format!(
                    "Per parameter: bf16 weight 2 + bf16 gradient 2 + fp32 master 4 + states ${} = {per}$ bytes.",
                    4 * slots
                ),
            ],
        )
    } else {
        let per = state_bytes_per_param(kind, momentum, 4.0);
        (
            per,
            format!(
                "How many GB ($10^9$ bytes) of optimizer state does {label} keep for a {billions}B-parameter \
                 model when its states are fp32?"
            ),
            vec![format!(
                "{label} keeps {slots} state value(s) per parameter, 4 bytes each: {per} bytes per parameter."
            )],
        )
    };
    let answer = billions * per;
    let mut solution = steps;
    solution.push(format!(
        "Total: ${billions} \\times 10^9 \\times {per}$ bytes $= {answer:.1}$ GB."
    ));
    Problem {
        question,
        answer,
        unit: "GB".into(),
        rel_tolerance: 0.05,
        solution,
    }
}

fn adam_step(rng: &mut Rng) -> Problem {
    let lr = rng.pick(&[1e-4, 3e-4, 1e-3, 3e-3]);
    let beta2 = rng.pick(&[0.99, 0.999]);
    let t = rng.pick(&[1u64, 2, 5, 10]);
    let g = rng.pick(&[0.001, 0.05, 2.0, 40.0]);
    let corrected = rng.below(2) == 1;
    let per_lr = adam_constant_gradient_step(g, t, 0.9, beta2, 1e-8, corrected);
    let answer = lr * per_lr;
    let question = format!(
        "Adam with $\\eta = {lr}$, $\\beta_1 = 0.9$, $\\beta_2 = {beta2}$, $\\epsilon = 10^{{-8}}$, {} bias \
         correction, sees the same gradient $g = {g}$ at every step from zero state. How large is the \
         parameter change $|\\Delta p|$ at step $t = {t}$?",
        if corrected { "with" } else { "without" }
    );
    let b1t = 1.0 - crate::math::powf(0.9f64, t as f64);
    let b2t = 1.0 - crate::math::powf(beta2, t as f64);
    let mut solution = vec![
        format!(
            "With a constant gradient the moments are $m_t = (1-\\beta_1^t)g = {:.4}\\,g$ and $v_t = (1-\\beta_2^t)g^2 = {:.4}\\,g^2$.",
            b1t, b2t
        ),
    ];
    if corrected {
        solution.push(
            "Bias correction divides them back: $\\hat m = g$, $\\hat v = g^2$, so the step is $\\eta\\,|g|/(|g|+\\epsilon) \\approx \\eta$ — the gradient's scale cancels."
                .to_string(),
        );
    } else {
        solution.push(format!(
            "Uncorrected, the step is $\\eta\\,(1-\\beta_1^t)/\\sqrt{{1-\\beta_2^t}} = \\eta \\times {:.4}$ (the gradient's scale still cancels).",
            b1t / b2t.sqrt()
        ));
    }
    solution.push(format!("$|\\Delta p| = {}$.", tex_sci(answer)));
    Problem {
        question,
        answer,
        unit: String::new(),
        rel_tolerance: 0.03,
        solution,
    }
}

fn warmup_cosine(rng: &mut Rng) -> Problem {
    let peak = rng.pick(&[1e-4, 3e-4, 6e-4, 1e-3]);
    let warmup = rng.pick(&[500u64, 1000, 2000, 4000]);
    let total = warmup * rng.pick(&[10u64, 20, 50]);
    let min_ratio = rng.pick(&[0.0, 0.1]);
    let in_warmup = rng.below(3) == 0;
    let t = if in_warmup {
        warmup / rng.pick(&[2u64, 4, 5])
    } else {
        warmup + (total - warmup) / rng.pick(&[2u64, 3, 4])
    };
    let s = Schedule {
        warmup,
        total,
        cosine: true,
        min_ratio,
    };
    let mult = s.multiplier(t);
    let answer = peak * mult;
    // "to 0 × peak" reads oddly; a floor of zero is said as "to zero".
    let floor = if min_ratio == 0.0 {
        "zero".to_owned()
    } else {
        format!("{min_ratio} × peak")
    };
    let question = format!(
        "A run warms the learning rate up linearly over {warmup} steps to a peak of {peak}, then decays it \
         with a cosine to {floor} at step {total}. What is the learning rate at step {t}?"
    );
    let mut solution = Vec::new();
    if in_warmup {
        solution.push(format!(
            "Step {t} is inside the warm-up: the multiplier is $t/W = {t}/{warmup} = {mult:.4}$."
        ));
    } else {
        let progress = (t - warmup) as f64 / (total - warmup) as f64;
        solution.push(format!(
            "After warm-up, progress through the cosine is $(t-W)/(T-W) = {progress:.4}$."
        ));
        solution.push(format!(
            "Multiplier $= m + (1-m)\\tfrac12(1+\\cos(\\pi \\cdot {progress:.4})) = {mult:.4}$ with $m = {min_ratio}$."
        ));
    }
    solution.push(format!(
        "Learning rate $= {peak} \\times {mult:.4} = {}$.",
        tex_sci(answer)
    ));
    Problem {
        question,
        answer,
        unit: String::new(),
        rel_tolerance: 0.03,
        solution,
    }
}

fn lamb_trust(rng: &mut Rng) -> Option<Problem> {
    let d_in = rng.pick(&[256usize, 512, 1024]);
    let d_out = rng.pick(&[256usize, 512, 1024]);
    let std = rng.pick(&[0.02, 0.01, 0.05]);
    let seed = rng.next_u64();
    // The layer the question describes, drawn from its own seed so the answer is a real LAMB step.
    let mut layer = Rng::new(seed);
    let n = d_in * d_out;
    let mut p: Vec<f64> = (0..n).map(|_| std * layer.normal()).collect();
    let g: Vec<f64> = (0..n).map(|_| 1e-3 * layer.normal()).collect();
    let mut opt = Optimizer::new(Config::new(Kind::Lamb, 1e-3), &[n]).ok()?;
    let info = opt.step(&mut p, &g, 1e-3).ok()?;
    let answer = *info.trust_ratios.first()?;
    Some(Problem {
        question: format!(
            "A {d_in}×{d_out} linear layer is initialised with weights $\\mathcal N(0, {std}^2)$. LAMB \
             ($\\beta_1=0.9$, $\\beta_2=0.999$, bias correction, no weight decay) takes its first step with \
             gradients of typical size $10^{{-3}}$. What is the layer's trust ratio $\\|p\\|/\\|u\\|$?"
        ),
        answer,
        unit: String::new(),
        rel_tolerance: 0.05,
        solution: vec![
            "At step 1 bias correction gives $\\hat m = g$, $\\hat v = g^2$, so $u = g/(|g|+\\epsilon) \\approx \\mathrm{sign}(g)$ elementwise.".to_string(),
            format!("Hence $\\|u\\| \\approx \\sqrt{{n}}$ with $n = {n}$, and $\\|p\\| \\approx {std}\\sqrt{{n}}$."),
            format!("Trust ratio $\\approx {std}$; the engine's step on a drawn layer gives ${answer:.4}$."),
        ],
    })
}

fn critical_batch(rng: &mut Rng) -> Problem {
    let min_steps = rng.pick(&[2000.0, 5000.0, 10000.0, 20000.0]);
    let noise = rng.pick(&[256.0, 1024.0, 4096.0, 16384.0]);
    let batch = noise * rng.pick(&[0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]);
    let examples = rng.below(2) == 1;
    let steps = critical_batch_steps(min_steps, noise, batch);
    let setting = format!(
        "A training run reaches its target loss in $S_{{\\min}} = {min_steps}$ steps in the limit of \
         a huge batch, and its gradient noise scale is $B_{{\\text{{noise}}}} = {noise}$. Assume \
         McCandlish et al.'s trade-off with the best learning rate at every batch size."
    );
    let mut solution = vec![format!(
        "Steps: $S = S_{{\\min}}(1 + B_{{\\text{{noise}}}}/B) = {min_steps} \\times (1 + {noise}/{batch}) = {steps:.0}$."
    )];
    let (question, answer, unit) = if examples {
        let e = critical_batch_examples(min_steps, noise, batch);
        solution.push(format!(
            "Examples: $E = B\\,S = S_{{\\min}}(B + B_{{\\text{{noise}}}}) = {min_steps} \\times {} = {}$; \
             the minimum, $E_{{\\min}} = S_{{\\min}} B_{{\\text{{noise}}}}$, needs a tiny batch.",
            batch + noise,
            tex_sci(e)
        ));
        (
            format!("{setting} How many training examples does it process at batch size {batch}?"),
            e,
            "examples",
        )
    } else {
        solution.push(format!(
            "At $B = B_{{\\text{{noise}}}}$ the run takes twice the minimum steps and twice the minimum examples; \
             here $B/B_{{\\text{{noise}}}} = {}$.",
            batch / noise
        ));
        (
            format!("{setting} How many steps does it take at batch size {batch}?"),
            steps,
            "steps",
        )
    };
    Problem {
        question,
        answer,
        unit: unit.into(),
        rel_tolerance: 0.05,
        solution,
    }
}

fn linear_scaling_lr(rng: &mut Rng) -> Problem {
    let base_lr = rng.pick(&[0.1, 0.2, 0.05]);
    let base_batch = 256.0;
    let batch = rng.pick(&[1024.0, 2048.0, 4096.0, 8192.0, 16384.0]);
    let dataset = rng.pick(&[1.28e6, 5e5, 2e6]);
    let epochs = rng.pick(&[5.0, 2.0, 10.0]);
    let ask_lr = rng.below(2) == 1;
    let k = batch / base_batch;
    let question = format!(
        "A recipe trains with SGD at learning rate {base_lr} for batch size {base_batch}. You move to batch \
         size {batch} with the linear scaling rule and a gradual warm-up over the first {epochs} epochs of a \
         ${}$-example training set. {}",
        tex_sci(dataset),
        if ask_lr {
            "What is the peak learning rate?"
        } else {
            "How many optimizer steps does the warm-up last?"
        }
    );
    let mut solution = vec![format!(
        "The batch grows by $k = {batch}/{base_batch} = {k}$; the linear rule multiplies the learning rate by $k$."
    )];
    let answer = if ask_lr {
        let lr = base_lr * k;
        solution.push(format!(
            "Peak learning rate $= {base_lr} \\times {k} = {lr}$."
        ));
        lr
    } else {
        let steps = epochs * dataset / batch;
        solution.push(format!(
            "One epoch is ${}/{batch} = {:.1}$ steps at the new batch, so {epochs} epochs are ${steps:.0}$ steps.",
            tex_sci(dataset),
            dataset / batch
        ));
        steps
    };
    Problem {
        question,
        answer,
        unit: if ask_lr {
            String::new()
        } else {
            "steps".into()
        },
        rel_tolerance: 0.03,
        solution,
    }
}

#[cfg(test)]
mod tests {
    use crate::estimate::generate;

    #[test]
    fn scientific_numbers_are_written_as_latex() {
        assert_eq!(crate::estimate::format::tex_sci(0.00099990), "9.999 \\times 10^{-4}");
        assert_eq!(crate::estimate::format::tex_sci(3.0e-4), "3.000 \\times 10^{-4}");
    }

    #[test]
    fn state_memory_matches_an_independent_count() {
        for seed in 0..40 {
            let e = generate("optim.state_memory", seed).unwrap();
            // Recompute from the question's own words: billions, optimizer and whether it is the whole state.
            let billions: f64 = e
                .question
                .split_whitespace()
                .find_map(|w| w.strip_suffix("B-parameter").and_then(|n| n.parse().ok()))
                .unwrap();
            let slots = if e.question.contains("Lion") || e.question.contains("SGD") {
                1.0
            } else {
                2.0
            };
            let per = if e.question.contains("mixed precision") {
                8.0 + 4.0 * slots
            } else {
                4.0 * slots
            };
            assert!(
                (e.answer - billions * per).abs() < 1e-9,
                "seed {seed}: {e:?}"
            );
            assert!(e.check(e.answer * 1.04).within);
            assert!(!e.check(e.answer * 1.2).within);
            assert!(e.solution.last().unwrap().contains("GB"));
        }
    }

    #[test]
    fn adam_step_matches_the_closed_form() {
        for seed in 0..40 {
            let e = generate("optim.adam_step", seed).unwrap();
            let num = |key: &str| -> f64 {
                let start = e.question.find(key).unwrap() + key.len();
                let rest = &e.question[start..];
                let end = rest.find(['$', ',']).unwrap();
                rest[..end].trim().parse().unwrap()
            };
            let lr = num("$\\eta = ");
            let b2 = num("$\\beta_2 = ");
            let t = num("$t = ");
            let g = num("$g = ");
            // Closed form: m_t = (1−0.9ᵗ)g, v_t = (1−β2ᵗ)g²; uncorrected step lr·m_t/(√v_t + ε), corrected
            // lr·g/(|g| + ε).
            let expected = if e.question.contains("without") {
                lr * (1.0 - crate::math::powf(0.9f64, t)) * g / ((1.0 - crate::math::powf(b2, t)).sqrt() * g + 1e-8)
            } else {
                lr * g / (g + 1e-8)
            };
            assert!(
                (e.answer - expected).abs() <= 1e-9 * expected,
                "seed {seed}: {} vs {expected}",
                e.answer
            );
        }
    }

    #[test]
    fn warmup_cosine_matches_the_formula() {
        for seed in 0..40 {
            let e = generate("optim.warmup_cosine_lr", seed).unwrap();
            // Read the numbers back from the question: "over W steps to a peak of P", "to m × peak at step
            // T" (or "to zero at step T"), "at step t?".
            let words: Vec<&str> = e.question.split_whitespace().collect();
            let num =
                |i: usize| -> f64 { words[i].trim_end_matches([',', '.', '?']).parse().unwrap() };
            let at = |w: &str| words.iter().position(|x| *x == w).unwrap();
            let warmup = num(at("over") + 1);
            let peak = num(at("of") + 1);
            let min = words
                .iter()
                .position(|x| *x == "×")
                .map_or(0.0, |i| num(i - 1));
            let steps: Vec<usize> = (0..words.len()).filter(|&i| words[i] == "step").collect();
            let total = num(steps[0] + 1);
            let t_step = num(steps[1] + 1);
            let expected = if t_step <= warmup {
                peak * t_step / warmup
            } else {
                let progress = (t_step - warmup) / (total - warmup);
                peak * (min + (1.0 - min) * 0.5 * (1.0 + crate::math::cos(std::f64::consts::PI * progress)))
            };
            assert!(
                (e.answer - expected).abs() <= 1e-12,
                "seed {seed}: {} vs {expected}",
                e.answer
            );
        }
    }

    #[test]
    fn lamb_trust_ratio_is_about_the_init_std() {
        for seed in 0..6 {
            let e = generate("optim.lamb_trust_ratio", seed).unwrap();
            let std: f64 = e
                .question
                .split("N(0, ")
                .nth(1)
                .and_then(|s| s.split('^').next())
                .and_then(|s| s.parse().ok())
                .unwrap();
            // ‖u‖ = √n·(1 − O(ε/|g|)) and ‖p‖ ≈ std·√n, so the ratio is std within sampling error.
            assert!(
                (e.answer - std).abs() < 0.02 * std,
                "seed {seed}: {} vs {std}",
                e.answer
            );
        }
    }

    /// The number right after `key` in `text` (up to a space, `$`, `,` or `?`).
    fn number_after(text: &str, key: &str) -> f64 {
        let start = text.find(key).unwrap() + key.len();
        let rest = text[start..].trim_start();
        let end = rest.find([' ', '$', ',', '?']).unwrap_or(rest.len());
        rest[..end].trim_end_matches('.').parse().unwrap()
    }

    #[test]
    fn critical_batch_follows_mccandlish() {
        let mut saw = [false, false];
        for seed in 0..40 {
            let e = generate("optim.critical_batch", seed).unwrap();
            let s_min = number_after(&e.question, "S_{\\min} = ");
            let noise = number_after(&e.question, "B_{\\text{noise}} = ");
            let batch = number_after(&e.question, "at batch size ");
            // S = S_min(1 + B_noise/B); E = B·S. At B = B_noise both are twice their minimum.
            let steps = s_min * (1.0 + noise / batch);
            if e.unit == "examples" {
                saw[1] = true;
                assert!(
                    (e.answer - batch * steps).abs() < 1e-9 * e.answer,
                    "seed {seed}"
                );
            } else {
                saw[0] = true;
                assert!((e.answer - steps).abs() < 1e-9 * e.answer, "seed {seed}");
            }
            assert!(e.check(e.answer * 1.04).within && !e.check(e.answer * 1.2).within);
        }
        assert!(saw[0] && saw[1], "both kinds of question appear");
    }

    #[test]
    fn linear_scaling_lr_multiplies_by_k_and_counts_warmup_steps() {
        for seed in 0..40 {
            let e = generate("optim.linear_scaling_lr", seed).unwrap();
            let base_lr = number_after(&e.question, "learning rate ");
            let batch = number_after(&e.question, "You move to batch size ");
            let epochs = number_after(&e.question, "the first ");
            if e.question.ends_with("peak learning rate?") {
                assert!(
                    (e.answer - base_lr * batch / 256.0).abs() < 1e-12,
                    "seed {seed}"
                );
            } else {
                // The data-set size is written as LaTeX, e.g. "1.280 \times 10^{6}".
                let mantissa = number_after(&e.question, "epochs of a $");
                let exponent: i32 = e.question.split("10^{").nth(1).unwrap()[..1]
                    .parse()
                    .unwrap();
                let n = mantissa * 10f64.powi(exponent);
                assert!(
                    (e.answer - epochs * n / batch).abs() < 1e-9 * e.answer,
                    "seed {seed}"
                );
            }
        }
    }
}

//! Estimation problems of the lesson on scaling laws (ids start with `scaling.`). Every answer comes from
//! [`crate::lessons::scaling`]: [`training_flops`], [`training_seconds`] and the constant sets' [`Parametric`]
//! laws.

use crate::estimate::format::tex_number;
use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::scaling::{training_flops, training_seconds, ConstantSet, Parametric};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "scaling.training_time",
        title: "How long does a training run take?",
        description: "Days to train N parameters on D tokens (6ND FLOPs) on a cluster at a given peak and model FLOPs utilisation",
        generate: |rng| Some(training_time(rng)),
    },
    GeneratorSpec {
        id: "scaling.twenty_tokens",
        title: "Compute-optimal model for a budget by the 20-tokens-per-parameter rule",
        description: "N (or D) of the compute-optimal model for a budget C under C = 6ND and D = 20N",
        generate: |rng| Some(twenty_tokens(rng)),
    },
    GeneratorSpec {
        id: "scaling.law_loss",
        title: "The Chinchilla law's loss by hand",
        description: "E + A/N^α + B/D^β under the printed Chinchilla constants for a given model and data size",
        generate: |rng| Some(law_loss(rng)),
    },
];

/// (name, parameters, tokens) of real or typical runs.
const RUNS: &[(&str, f64, f64)] = &[
    ("a 7B model", 7e9, 2e12),
    ("a 13B model", 13e9, 2e12),
    ("a 70B model", 70e9, 1.4e12),
    ("a 70B model", 70e9, 15e12),
    ("a 1.3B model", 1.3e9, 26e9),
    ("a 175B model", 175e9, 300e9),
    ("a 400B model", 400e9, 15e12),
];

/// (name, dense BF16 peak in TFLOP/s).
const CHIPS: &[(&str, f64)] = &[("H100 (989 dense BF16 TFLOP/s)", 989.0), ("A100 (312 dense BF16 TFLOP/s)", 312.0)];

fn training_time(rng: &mut Rng) -> Problem {
    let (what, n, d) = rng.pick(RUNS);
    let (chip, peak) = rng.pick(CHIPS);
    let gpus = rng.pick(&[256.0, 512.0, 1024.0, 2048.0, 4096.0]);
    let mfu = rng.pick(&[0.3, 0.4, 0.5]);
    let flops = training_flops(n, d);
    let days = training_seconds(flops, gpus, peak * 1e12, mfu) / 86_400.0;
    Problem {
        question: format!(
            "You train {what} ($N = {}$ parameters) on $D = {}$ tokens on ${gpus:.0}$ {chip} at a model FLOPs \
             utilisation of ${:.0}\\%$. How many days does the run take?",
            tex_number(n, 2),
            tex_number(d, 2),
            mfu * 100.0
        ),
        answer: days,
        unit: "days".into(),
        rel_tolerance: 0.1,
        solution: vec![
            format!("Training FLOPs: $C = 6ND = 6 \\times {} \\times {} = {}$.", tex_number(n, 2), tex_number(d, 2), tex_number(flops, 3)),
            format!(
                "Delivered FLOP/s: ${gpus:.0} \\times {peak:.0} \\times 10^{{12}} \\times {mfu} = {}$.",
                tex_number(gpus * peak * 1e12 * mfu, 3)
            ),
            format!(
                "Time: ${} / {} = {}$ s $= {}$ days.",
                tex_number(flops, 3),
                tex_number(gpus * peak * 1e12 * mfu, 3),
                tex_number(days * 86_400.0, 3),
                tex_number(days, 3)
            ),
        ],
    }
}

fn twenty_tokens(rng: &mut Rng) -> Problem {
    let mantissa = rng.pick(&[1.0, 2.0, 3.0, 5.0]);
    let exponent = rng.pick(&[21, 22, 23, 24, 25]);
    let flops = mantissa * 10f64.powi(exponent);
    // C = 6 N D and D = 20 N give C = 120 N², so N = √(C/120).
    let n = (flops / 120.0).sqrt();
    let ask_tokens = rng.below(2) == 0;
    let (answer, unit) = if ask_tokens { (20.0 * n, "tokens") } else { (n, "parameters") };
    Problem {
        question: format!(
            "A compute budget of $C = {}$ FLOPs is to be spent compute-optimally by the rule of thumb of 20 training \
             tokens per parameter, with $C = 6ND$. How many {} should the run use?",
            tex_number(flops, 2),
            if ask_tokens { "training tokens" } else { "parameters" }
        ),
        answer,
        unit: unit.into(),
        rel_tolerance: 0.05,
        solution: vec![
            "Substitute $D = 20N$ into $C = 6ND$: $C = 120 N^2$.".to_string(),
            format!("$N = \\sqrt{{C/120}} = \\sqrt{{{}}} = {}$ parameters.", tex_number(flops / 120.0, 3), tex_number(n, 3)),
            format!("$D = 20N = {}$ tokens.", tex_number(20.0 * n, 3)),
        ],
    }
}

fn law_loss(rng: &mut Rng) -> Problem {
    let (what, n, d) = rng.pick(RUNS);
    let law: Parametric = ConstantSet::Chinchilla.constants();
    let pn = law.a * crate::math::powf(n, -law.alpha);
    let pd = law.b * crate::math::powf(d, -law.beta);
    let loss = law.loss(n, d);
    Problem {
        question: format!(
            "Under Hoffmann et al.'s printed fit $L(N, D) = 1.69 + 406.4/N^{{0.34}} + 410.7/D^{{0.28}}$, what loss \
             (nats per token) does the law predict for {what} ($N = {}$) trained on $D = {}$ tokens?",
            tex_number(n, 2),
            tex_number(d, 2)
        ),
        answer: loss,
        unit: "nats".into(),
        rel_tolerance: 0.01,
        solution: vec![
            format!("Parameter term: $406.4 / ({})^{{0.34}} = {}$.", tex_number(n, 2), tex_number(pn, 3)),
            format!("Data term: $410.7 / ({})^{{0.28}} = {}$.", tex_number(d, 2), tex_number(pd, 3)),
            format!("Total: $1.69 + {} + {} = {}$ nats per token.", tex_number(pn, 3), tex_number(pd, 3), tex_number(loss, 4)),
        ],
    }
}

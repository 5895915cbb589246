//! Estimation problems of the lesson on A/B testing (ids start with `ab.`). Every answer comes from
//! [`crate::lessons::ab::power`] and [`crate::lessons::ab::sequential`].

use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::ab::power::{days_needed, sample_size, Design, SampleSizeFormula};
use crate::lessons::ab::sequential::fixed_z_false_positive_rate;
use crate::lessons::ab::Alternative;
use crate::normal;
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "ab.sample_size",
        title: "Users per arm to detect a lift",
        description: "n per arm = (z_{α/2} + z_β)²(p₁q₁ + p₂q₂)/δ² for a baseline rate and a relative lift at α = 0.05, 80 % power",
        generate: |rng| Some(users_per_arm(rng)),
    },
    GeneratorSpec {
        id: "ab.test_days",
        title: "Days (and whole weeks) an experiment must run",
        description: "Days of traffic for both arms at a given daily volume and allocation, rounded up to whole weeks",
        generate: |rng| Some(test_days(rng)),
    },
    GeneratorSpec {
        id: "ab.mde",
        title: "Minimum detectable effect of a fixed budget",
        description: "The relative lift n users per arm detect: δ ≈ (z_{α/2} + z_β)√(2p(1−p)/n), over p",
        generate: |rng| Some(mde(rng)),
    },
    GeneratorSpec {
        id: "ab.peeking",
        title: "False-positive rate of a peeker",
        description: "The A/A false-positive rate of a two-sided z = 1.96 test checked at K equally spaced looks",
        generate: |rng| Some(peeking(rng)),
    },
];

const BASELINES: &[f64] = &[0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.2];
const LIFTS: &[f64] = &[0.01, 0.02, 0.03, 0.05, 0.1];

fn design(p1: f64, lift: f64) -> Design {
    Design {
        baseline: p1,
        treatment: p1 * (1.0 + lift),
        alpha: 0.05,
        power: 0.8,
        alternative: Alternative::TwoSided,
    }
}

fn pct(x: f64) -> String {
    let s = format!("{:.2}", 100.0 * x);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn users_per_arm(rng: &mut Rng) -> Problem {
    let p1 = rng.pick(BASELINES);
    let lift = rng.pick(LIFTS);
    let d = design(p1, lift);
    let n = sample_size(SampleSizeFormula::Unpooled, &d).unwrap_or(f64::NAN);
    let p2 = d.treatment;
    let (za, zb) = (normal::upper_quantile(0.025), normal::quantile(0.8));
    let var = p1 * (1.0 - p1) + p2 * (1.0 - p2);
    Problem {
        question: format!(
            "A checkout page converts at {}%. How many users per arm does a two-sided test at $\\alpha = 0.05$ \
             with 80% power need to detect a relative lift of {}%?",
            pct(p1),
            pct(lift)
        ),
        answer: n,
        unit: "users per arm".into(),
        rel_tolerance: 0.1,
        solution: vec![
            format!(
                "Absolute effect: $\\delta = {p1} \\times {lift} = {:.6}$; $p_2 = {:.6}$.",
                p2 - p1,
                p2
            ),
            format!(
                "$(z_{{0.025}} + z_{{0.2}})^2 = ({za:.3} + {zb:.3})^2 = {:.2}$; $p_1 q_1 + p_2 q_2 = {var:.5}$.",
                (za + zb) * (za + zb)
            ),
            format!(
                "$n = {:.2} \\times {var:.5} / {:.3e} \\approx {:.0}$ per arm (Lehr's $16 p q/\\delta^2$ gives about the same).",
                (za + zb) * (za + zb),
                (p2 - p1) * (p2 - p1),
                n
            ),
        ],
    }
}

fn test_days(rng: &mut Rng) -> Problem {
    let p1 = rng.pick(BASELINES);
    let lift = rng.pick(&[0.02, 0.03, 0.05, 0.1]);
    let daily = rng.pick(&[20_000.0, 50_000.0, 100_000.0, 250_000.0, 1_000_000.0]);
    let allocation = rng.pick(&[0.1, 0.2, 0.5, 1.0]);
    let d = design(p1, lift);
    let n = sample_size(SampleSizeFormula::Unpooled, &d).unwrap_or(f64::NAN);
    let (days, weeks) = days_needed(n, 2, daily, allocation);
    Problem {
        question: format!(
            "A page converting at {}% gets {daily:.0} eligible users a day, and {}% of them enter a two-arm \
             experiment. To detect a {}% relative lift (α = 0.05 two-sided, 80% power) how many days must it \
             run, rounded up to whole weeks?",
            pct(p1),
            pct(allocation),
            pct(lift)
        ),
        answer: weeks,
        unit: "days".into(),
        rel_tolerance: 0.01,
        solution: vec![
            format!(
                "Users per arm: $n = 7.85\\,(p_1q_1 + p_2q_2)/\\delta^2 \\approx {:.0}$.",
                n.ceil()
            ),
            format!(
                "Both arms need ${:.0}$ users; at ${:.0}$ a day that is ${days:.0}$ days.",
                2.0 * n.ceil(),
                daily * allocation
            ),
            format!("Rounded up to whole weeks (weekly cycles): **{weeks:.0} days**."),
        ],
    }
}

fn mde(rng: &mut Rng) -> Problem {
    let p = rng.pick(BASELINES);
    let n = rng.pick(&[10_000.0, 50_000.0, 100_000.0, 500_000.0, 2_000_000.0]);
    let (za, zb) = (normal::upper_quantile(0.025), normal::quantile(0.8));
    let delta = (za + zb) * (2.0 * p * (1.0 - p) / n).sqrt();
    Problem {
        question: format!(
            "An experiment will have {n:.0} users per arm on a metric converting at {}%. What relative lift \
             can it detect at α = 0.05 two-sided with 80% power (use the baseline variance in both arms)?",
            pct(p)
        ),
        answer: 100.0 * delta / p,
        unit: "% relative lift".into(),
        rel_tolerance: 0.05,
        solution: vec![
            format!(
                "$SE = \\sqrt{{2p(1-p)/n}} = \\sqrt{{2 \\times {p} \\times {:.2} / {n:.0}}} = {:.3e}$.",
                1.0 - p,
                (2.0 * p * (1.0 - p) / n).sqrt()
            ),
            format!(
                "$\\delta = (z_{{0.025}} + z_{{0.2}})\\,SE = {:.3} \\times SE = {delta:.3e}$.",
                za + zb
            ),
            format!("Relative: $\\delta/p = {:.2}$%.", 100.0 * delta / p),
        ],
    }
}

fn peeking(rng: &mut Rng) -> Problem {
    let k = rng.pick(&[2usize, 3, 4, 5, 7, 10, 14, 20]);
    let rate = fixed_z_false_positive_rate(normal::upper_quantile(0.025), k);
    Problem {
        question: format!(
            "An analyst checks an A/A test's two-sided z-test at $|z| > 1.96$ after every day for {k} days \
             (equal traffic per day) and stops at the first significant look. What is the chance of a false \
             positive?"
        ),
        answer: rate,
        unit: "".into(),
        rel_tolerance: 0.15,
        solution: vec![
            "Looks are correlated: $\\mathrm{Corr}(Z_j, Z_k) = \\sqrt{j/k}$, so the rate lies between $0.05$ and the Bonferroni bound.".into(),
            format!("Bonferroni bound: $1 - 0.95^{{{k}}} = {:.3}$ (independent looks), an overestimate.", 1.0 - crate::math::powf(0.95, k as f64)),
            format!("The recursion of Armitage, McPherson & Rowe (1969) gives **{rate:.3}**."),
        ],
    }
}

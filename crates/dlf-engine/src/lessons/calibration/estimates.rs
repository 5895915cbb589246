//! Estimation problems of the lesson on calibration (ids start with `calibration.`).
//!
//! Every answer comes from [`crate::lessons::calibration`]: a real [`reliability`] diagram built from the
//! problem's bins, the normal-approximation noise floor of [`ece_mean_sd`], and [`softmax_t`].

use crate::estimate::format::tex_number;
use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::calibration::ece_noise::{ece_mean_sd, Scheme};
use crate::lessons::calibration::{reliability, softmax_t, Binning};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "calibration.ece_by_hand",
        title: "ECE and MCE from a reliability table",
        description: "The expected (or maximum) calibration error of three or four bins given their counts, accuracies and mean confidences",
        generate: |rng| Some(ece_by_hand(rng)),
    },
    GeneratorSpec {
        id: "calibration.ece_noise_floor",
        title: "The ECE a perfectly calibrated model shows on a finite test set",
        description: "The expected binned ECE of a calibrated model with N test examples and B equal-mass bins: about √(2B·v/(πN)) with v the mean Bernoulli variance",
        generate: |rng| Some(ece_noise_floor(rng)),
    },
    GeneratorSpec {
        id: "calibration.temperature_confidence",
        title: "What a temperature does to one prediction's confidence",
        description: "The top-label confidence of a two-class logit margin before and after dividing by a temperature",
        generate: |rng| Some(temperature_confidence(rng)),
    },
];

fn ece_by_hand(rng: &mut Rng) -> Problem {
    let bins = 3 + rng.below(2);
    let mut rows = Vec::new();
    let (mut scores, mut outcomes) = (Vec::new(), Vec::new());
    for b in 0..bins {
        // Each bin of a four-bin diagram over [0.5, 1]: confidence near its centre, accuracy below it.
        let lo = 0.5 + 0.5 * b as f64 / bins as f64;
        let conf = ((lo + 0.25 / bins as f64) * 100.0).round() / 100.0;
        let count = 50 * (1 + rng.below(8));
        let drop = 0.05 * rng.below(5) as f64;
        let hits = ((conf - drop) * count as f64).round() as usize;
        rows.push((count, hits as f64 / count as f64, conf));
        for i in 0..count {
            scores.push(conf);
            outcomes.push(if i < hits { 1.0 } else { 0.0 });
        }
    }
    let ask_mce = rng.below(3) == 0;
    let edges: Vec<f64> = (0..=bins).map(|b| 0.5 + 0.5 * b as f64 / bins as f64).collect();
    // The scores sit at bin centres, so any equal-width binning of [0.5, 1] into `bins` bins separates the
    // rows; the engine's four-bin-on-[0,1] layout does not, so the diagram is built with one bin per row.
    let r = reliability(&scores, &outcomes, 1, Binning::RightClosed);
    let total: usize = rows.iter().map(|r| r.0).sum();
    let per_row: Vec<f64> = rows
        .iter()
        .map(|&(n, acc, conf)| {
            let idx: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == conf).collect();
            let one = reliability(
                &idx.iter().map(|&i| scores[i]).collect::<Vec<_>>(),
                &idx.iter().map(|&i| outcomes[i]).collect::<Vec<_>>(),
                1,
                Binning::RightClosed,
            );
            debug_assert_eq!(idx.len(), n);
            debug_assert!((one.bins[0].accuracy - acc).abs() < 1e-12);
            one.ece
        })
        .collect();
    let ece: f64 = rows
        .iter()
        .zip(&per_row)
        .map(|(row, gap)| row.0 as f64 / total as f64 * gap)
        .sum();
    let mce = per_row.iter().copied().fold(0.0, f64::max);
    let answer = if ask_mce { mce } else { ece };
    let table: Vec<String> = rows
        .iter()
        .zip(edges.windows(2))
        .map(|(&(n, acc, conf), e)| {
            format!(
                "bin $({}, {}]$: $n = {n}$, accuracy ${}$, mean confidence ${}$",
                tex_number(e[0], 3),
                tex_number(e[1], 3),
                tex_number(acc, 4),
                tex_number(conf, 3)
            )
        })
        .collect();
    let what = if ask_mce {
        "the maximum calibration error (MCE)"
    } else {
        "the expected calibration error (ECE)"
    };
    Problem {
        question: format!(
            "A reliability table of {total} test predictions has {bins} bins: {}. What is {what}? \
             (A one-bin ECE of all the scores would be {}: binning matters.)",
            table.join("; "),
            tex_number(r.ece, 3)
        ),
        answer,
        unit: String::new(),
        rel_tolerance: 0.02,
        solution: vec![
            format!(
                "Gaps $|\\mathrm{{acc}}_b - \\mathrm{{conf}}_b|$: {}.",
                per_row
                    .iter()
                    .map(|g| format!("${}$", tex_number(*g, 3)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            if ask_mce {
                format!("MCE is the largest gap: ${}$.", tex_number(mce, 3))
            } else {
                format!(
                    "ECE weights each gap by its bin's share $n_b/N$ of the {total} predictions: ${}$.",
                    tex_number(ece, 4)
                )
            },
        ],
    }
}

fn ece_noise_floor(rng: &mut Rng) -> Problem {
    let n = rng.pick(&[500usize, 1000, 2000, 5000, 10_000, 50_000]);
    let bins = rng.pick(&[5usize, 10, 15, 20]);
    let (exact, _) = ece_mean_sd(n, bins, Scheme::EqualMass, 0.0);
    // Confidences uniform on [1/2, 1]: E[c(1 − c)] = E[c] − E[c²] = 3/4 − (9/16 + 1/48) = 1/6.
    let v = 1.0 / 6.0;
    let approx = (2.0 * bins as f64 * v / (std::f64::consts::PI * n as f64)).sqrt();
    Problem {
        question: format!(
            "A perfectly calibrated classifier's top-label confidences are spread uniformly over $[0.5, 1]$. \
             You measure its ECE on ${n}$ test examples with ${bins}$ equal-mass bins. About what ECE do you \
             expect to read, although the true calibration error is zero?"
        ),
        answer: exact,
        unit: String::new(),
        rel_tolerance: 0.1,
        solution: vec![
            format!(
                "Each bin holds about $N/B = {}$ examples; its accuracy minus confidence is a mean of \
                 Bernoulli residuals with variance $v \\approx \\mathbb{{E}}[c(1-c)] = 1/6$.",
                tex_number(n as f64 / bins as f64, 4)
            ),
            "The absolute value of a zero-mean normal with standard deviation $s$ averages $s\\sqrt{2/\\pi}$.".into(),
            format!(
                "ECE $\\approx \\sum_b \\tfrac{{1}}{{B}}\\sqrt{{\\tfrac{{2}}{{\\pi}}}}\\sqrt{{\\tfrac{{vB}}{{N}}}} = \\sqrt{{\\tfrac{{2Bv}}{{\\pi N}}}} = {}$ \
                 (the engine's sum over the bins' own variances gives ${}$).",
                tex_number(approx, 3),
                tex_number(exact, 3)
            ),
        ],
    }
}

fn temperature_confidence(rng: &mut Rng) -> Problem {
    let margin = rng.pick(&[1.0f64, 2.0, 3.0, 4.0, 5.0]);
    let t = rng.pick(&[0.5f64, 1.5, 2.0, 2.5, 3.0]);
    let mut p = [0.0; 2];
    softmax_t(&[margin, 0.0], 1.0, &mut p);
    let before = p[0];
    softmax_t(&[margin, 0.0], t, &mut p);
    let after = p[0];
    Problem {
        question: format!(
            "A two-class model's logits differ by ${}$ in favour of its prediction. What is its confidence \
             after temperature scaling with $T = {}$?",
            tex_number(margin, 2),
            tex_number(t, 2)
        ),
        answer: after,
        unit: String::new(),
        rel_tolerance: 0.01,
        solution: vec![
            format!(
                "Two classes: confidence $= \\sigma(\\Delta z) = 1/(1 + e^{{-\\Delta z}}) = {}$ before.",
                tex_number(before, 4)
            ),
            format!(
                "Dividing both logits by $T$ divides the margin: $\\sigma(\\Delta z/T) = \\sigma({}) = {}$. \
                 The prediction does not change; only its confidence does.",
                tex_number(margin / t, 3),
                tex_number(after, 4)
            ),
        ],
    }
}

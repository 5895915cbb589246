//! Engine tests of lesson 09: each bin-edge convention on a hand-computed case, the metrics on small
//! problems worked by hand, the temperature fit against its optimality condition and a known answer, and
//! the estimator study's closed form against Monte Carlo.

use super::ece_noise::{ece_mean_sd, ece_monte_carlo, Scheme};
use super::quantities::EDGE_CASE;
use super::simulate::{draw, SimConfig};
use super::*;

fn edge_case(binning: Binning) -> Reliability {
    let (s, o): (Vec<f64>, Vec<f64>) = EDGE_CASE.iter().copied().unzip();
    reliability(&s, &o, 4, binning)
}

#[test]
fn right_closed_puts_edge_scores_in_the_lower_bin() {
    // Edges 0, .25, .5, .75, 1. (lo, hi]: 0.1, 0.25 → bin 0; 0.5, 0.5 → bin 1; 0.6, 0.75 → bin 2;
    // 0.9, 1.0 → bin 3. Gaps: |0 − .175| = .175, |.5 − .5| = 0, |.5 − .675| = .175, |1 − .95| = .05.
    // ECE = (2·.175 + 0 + 2·.175 + 2·.05)/8 = 0.1; MCE = 0.175.
    let r = edge_case(Binning::RightClosed);
    let counts: Vec<usize> = r.bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![2, 2, 2, 2]);
    assert!((r.ece - 0.1).abs() < 1e-15, "{}", r.ece);
    assert!((r.mce - 0.175).abs() < 1e-15);
}

#[test]
fn left_closed_puts_edge_scores_in_the_upper_bin_and_one_in_the_last() {
    // [lo, hi): 0.1 → 0; 0.25 → 1; 0.5, 0.5, 0.6 → 2; 0.75, 0.9, 1.0 → 3.
    // Gaps: |0 − .1| = .1; |0 − .25| = .25; |1/3 − 1.6/3| = .2; |1 − 2.65/3| = .35/3.
    // ECE = (.1 + .25 + 3·.2 + 3·.35/3)/8 = 1.3/8 = 0.1625; MCE = 0.25.
    let r = edge_case(Binning::LeftClosed);
    let counts: Vec<usize> = r.bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![1, 1, 3, 3]);
    assert!((r.ece - 0.1625).abs() < 1e-15, "{}", r.ece);
    assert!((r.mce - 0.25).abs() < 1e-15);
}

#[test]
fn torchmetrics_gives_an_exact_one_its_own_bin() {
    // As left-closed, but 1.0 sits alone in a fifth slot: bin 3 holds 0.75, 0.9 (acc 1, conf .825, gap .175),
    // slot 4 holds 1.0 (gap 0). ECE = (.1 + .25 + .6 + 2·.175 + 0)/8 = 1.3/8 = 0.1625, MCE = 0.25.
    let r = edge_case(Binning::LeftClosedOwnOne);
    let counts: Vec<usize> = r.bins.iter().map(|b| b.count).collect();
    assert_eq!(counts, vec![1, 1, 3, 2, 1]);
    assert!((r.ece - 0.1625).abs() < 1e-15, "{}", r.ece);
    assert!((r.bins[3].confidence - 0.825).abs() < 1e-15);
}

#[test]
fn equal_mass_edges_are_numpy_percentiles() {
    // Sorted scores .1 .25 .5 .5 .6 .75 .9 1; n − 1 = 7; quantile k/4 sits at position 7k/4:
    // 0 → .1; 1.75 → .25 + .75·(.5 − .25) = .4375; 3.5 → .5 + .5·(.6 − .5) = .55; 5.25 → .75 + .25·.15 = .7875; 7 → 1.
    let (s, o): (Vec<f64>, Vec<f64>) = EDGE_CASE.iter().copied().unzip();
    let e = equal_mass_edges(&s, 4);
    for (a, b) in e.iter().zip([0.1, 0.4375, 0.55, 0.7875, 1.0]) {
        assert!((a - b).abs() < 1e-15, "{e:?}");
    }
    // Bins (right-closed on these edges): {.1,.25} {.5,.5} {.6,.75} {.9,1}: the same as right-closed above.
    let r = reliability(&s, &o, 4, Binning::EqualMass);
    assert!((r.ece - 0.1).abs() < 1e-15);
}

#[test]
fn numpy_linspace_edges_are_k_times_one_over_k() {
    let e = equal_width_edges(10);
    assert_eq!(e[3], 3.0 * 0.1);
    assert_ne!(e[3], 0.3);
    assert_eq!(e[10], 1.0);
}

#[test]
fn metrics_of_a_small_problem_by_hand() {
    // Two rows: p = (.7, .2, .1) label 0; p = (.3, .6, .1) label 0.
    // Accuracy 1/2. NLL = −(ln .7 + ln .3)/2. Brier = ((.3² + .2² + .1²) + (.7² + .6² + .1²))/2 = (.14 + .86)/2 = 0.5.
    let p = [0.7, 0.2, 0.1, 0.3, 0.6, 0.1];
    let m = metrics(&p, 3, &[0, 0], 10, Binning::RightClosed, Reduction::TopLabel);
    assert!((m.accuracy - 0.5).abs() < 1e-15);
    let nll = -(crate::math::ln(0.7) + crate::math::ln(0.3)) / 2.0;
    assert!((m.nll - nll).abs() < 1e-15);
    assert!((m.brier - 0.5).abs() < 1e-15);
    // Top-label: .7 correct in (.6, .7], .6 wrong in (.5, .6]; ECE = (.3 + .6)/2 = .45.
    assert!((m.ece - 0.45).abs() < 1e-12, "{}", m.ece);
}

#[test]
fn the_fitted_temperature_zeroes_the_derivative_and_recovers_the_scale() {
    let cfg = SimConfig {
        n: 20_000,
        ..SimConfig::headline(20_000, 7)
    };
    let d = draw(&cfg);
    let t = fit_temperature(&d.logits, d.classes, &d.labels).unwrap();
    let (_, d1, d2) = nll_in_beta(&d.logits, d.classes, &d.labels, 1.0 / t);
    assert!(d1.abs() < 1e-10 * d2.max(1.0), "{d1}");
    // The standard error of the fitted T at N = 20 000 is about 0.02; 0.1 is five of them.
    assert!((t - cfg.scale).abs() < 0.1, "{t}");
    // The NLL is lower at the fitted T than a little either side.
    let f = |b: f64| nll_in_beta(&d.logits, d.classes, &d.labels, b).0;
    assert!(f(1.0 / t) < f(1.0 / t * 1.01) && f(1.0 / t) < f(1.0 / t * 0.99));
}

#[test]
fn the_derivatives_match_finite_differences() {
    let d = draw(&SimConfig::headline(300, 1));
    let b = 0.7;
    let h = 1e-5;
    let (_, d1, d2) = nll_in_beta(&d.logits, d.classes, &d.labels, b);
    let f = |x: f64| nll_in_beta(&d.logits, d.classes, &d.labels, x);
    let fd1 = (f(b + h).0 - f(b - h).0) / (2.0 * h);
    let fd2 = (f(b + h).1 - f(b - h).1) / (2.0 * h);
    assert!((d1 - fd1).abs() < 1e-7, "{d1} {fd1}");
    assert!((d2 - fd2).abs() < 1e-7, "{d2} {fd2}");
}

#[test]
fn separable_and_uninformative_data_have_no_finite_temperature() {
    // Every label is the argmax: sharper is always better.
    let z = [2.0, 0.0, 0.0, 3.0];
    assert_eq!(fit_temperature(&z, 2, &[0, 1]), Err(TemperatureError::Separable));
    // Every label is the argmin: flatter is always better.
    assert_eq!(fit_temperature(&z, 2, &[1, 0]), Err(TemperatureError::Uninformative));
}

#[test]
fn murphy_terms_add_up_on_a_hand_case() {
    // Forecasts .2 ×2 (outcomes 0, 1) and .8 ×2 (1, 1). Base rate 3/4, UNC = 3/16.
    // REL = ½(.2 − .5)² + ½(.8 − 1)² = .045 + .02 = .065; RES = ½(.5 − .75)² + ½(1 − .75)² = .0625.
    // Brier = (.04 + .64 + .04 + .04)/4 = .19 = .065 − .0625 + .1875.
    let (rel, res, unc) = murphy_decomposition(&[0.2, 0.2, 0.8, 0.8], &[0.0, 1.0, 1.0, 1.0]);
    assert!((rel - 0.065).abs() < 1e-15 && (res - 0.0625).abs() < 1e-15 && (unc - 0.1875).abs() < 1e-15);
}

#[test]
fn the_noise_formula_agrees_with_monte_carlo() {
    // 400 repetitions: the Monte-Carlo mean has standard error sd/20; allow four of them plus 5 % for the
    // normal approximation (bin counts are treated as fixed at N·w_b).
    for (n, bins, scheme, gap) in [
        (1000, 15, Scheme::EqualWidth, 0.0),
        (300, 10, Scheme::EqualMass, 0.0),
        (2000, 15, Scheme::EqualWidth, 0.05),
    ] {
        let (fm, _) = ece_mean_sd(n, bins, scheme, gap);
        let (mm, sd) = ece_monte_carlo(n, bins, scheme, gap, 400, 11);
        assert!(
            (fm - mm).abs() < 4.0 * sd / 20.0 + 0.05 * fm,
            "{n} {bins} {scheme:?} {gap}: formula {fm}, MC {mm} ± {sd}"
        );
    }
}

//! Tests of lesson 08's engine against closed forms and independently computed numbers.
//!
//! Reference numbers (Python 3, numpy only; pasted where used):
//!
//! ```python
//! import numpy as np
//! E, A, B, a, b = 1.69, 406.4, 410.7, 0.34, 0.28
//! L = lambda N, D: E + A / N**a + B / D**b
//! G = (a * A / (b * B)) ** (1 / (a + b))
//! C = 5.76e23
//! N = G * (C / 6) ** (b / (a + b)); D = C / 6 / N
//! print(L(70e9, 1.4e12), N, D, D / N)
//! # 1.9366... 3.29e10 ... (printed below with full precision)
//! ```

use super::fit::{chinchilla_like_grid, fit, synthetic_runs};
use super::*;

fn close(x: f64, y: f64, rel: f64) -> bool {
    (x - y).abs() <= rel * y.abs()
}

#[test]
fn the_optimum_is_where_the_iso_flop_curve_is_lowest() {
    // The closed form must agree with a brute-force minimum over N along the iso-FLOP curve.
    for set in ConstantSet::ALL {
        let law = set.constants();
        for flops in [1e20, 5.76e23, 1e26] {
            let opt = law.optimal(flops);
            let mut best = (f64::INFINITY, 0.0);
            for k in 0..=4000 {
                let n = opt.n * crate::math::powf(10.0, -1.0 + 2.0 * k as f64 / 4000.0);
                let l = law.iso_flop_loss(flops, n);
                if l < best.0 {
                    best = (l, n);
                }
            }
            assert!(close(best.1, opt.n, 2e-3), "{set:?} {flops}: {} vs {}", best.1, opt.n);
            assert!((6.0 * opt.n * opt.d - flops).abs() < 1e-9 * flops);
        }
    }
}

#[test]
fn at_the_optimum_the_two_terms_stand_in_the_ratio_beta_to_alpha() {
    // α A N^−α = β B D^−β, so (A N^−α)/(B D^−β) = β/α.
    let law = ConstantSet::Chinchilla.constants();
    let opt = law.optimal(1e24);
    let ratio = (law.a * crate::math::powf(opt.n, -law.alpha)) / (law.b * crate::math::powf(opt.d, -law.beta));
    assert!(close(ratio, law.beta / law.alpha, 1e-12), "{ratio}");
}

#[test]
fn budget_for_params_inverts_the_optimum() {
    let law = ConstantSet::Epoch.constants();
    let c = law.budget_for_params(70e9);
    assert!(close(law.optimal(c).n, 70e9, 1e-12));
}

#[test]
fn the_brief_s_training_time_is_six_point_nine_days_at_full_utilisation() {
    // 6 · 70e9 · 1.4e12 = 5.88e23 FLOPs; / (1000 · 989e12) = 594,540 s = 6.88 days; at 40% MFU 17.2 days.
    let flops = training_flops(70e9, 1.4e12);
    assert!((flops - 5.88e23).abs() < 1e9);
    let days = training_seconds(flops, 1000.0, H100_BF16_DENSE, 1.0) / 86_400.0;
    assert!((days - 6.881).abs() < 1e-3, "{days}");
    let days40 = training_seconds(flops, 1000.0, H100_BF16_DENSE, 0.4) / 86_400.0;
    assert!((days40 - 17.20).abs() < 1e-2, "{days40}");
}

#[test]
fn kaplan_loss_matches_the_formula_by_hand() {
    // [(8.8e13/1e9)^(0.076/0.095) + 5.4e13/1e10]^0.095, computed term by term:
    // (88000)^0.8 = 8,914.8…; 5.4e13/1e10 = 5400; (14,314.8…)^0.095 = 2.4839…
    let by_hand = crate::math::powf(crate::math::powf(88_000.0, 0.8) + 5400.0, 0.095);
    assert!(close(kaplan_loss(1e9, 1e10), by_hand, 1e-15));
    assert!((kaplan_loss(1e9, 1e10) - 2.4839).abs() < 1e-3);
}

#[test]
fn the_fit_recovers_the_law_from_noiseless_runs() {
    let (sizes, tokens) = chinchilla_like_grid();
    for set in [ConstantSet::Chinchilla, ConstantSet::Epoch] {
        let truth = set.constants();
        let runs = synthetic_runs(&truth, &sizes, &tokens, 0.0, 1);
        let f = fit(&runs).expect("a fit");
        assert!((f.law.alpha - truth.alpha).abs() < 1e-3, "{set:?} α {}", f.law.alpha);
        assert!((f.law.beta - truth.beta).abs() < 1e-3, "{set:?} β {}", f.law.beta);
        assert!((f.law.e - truth.e).abs() < 1e-3, "{set:?} E {}", f.law.e);
    }
}

#[test]
fn the_fit_recovers_the_exponents_within_noise() {
    let (sizes, tokens) = chinchilla_like_grid();
    let truth = ConstantSet::Chinchilla.constants();
    let runs = synthetic_runs(&truth, &sizes, &tokens, 0.01, 3);
    let f = fit(&runs).expect("a fit");
    assert!((f.law.alpha - truth.alpha).abs() < 0.05, "α {}", f.law.alpha);
    assert!((f.law.beta - truth.beta).abs() < 0.05, "β {}", f.law.beta);
}

#[test]
fn overtraining_to_the_optimal_loss_costs_more_compute() {
    let law = ConstantSet::Chinchilla.constants();
    let opt = law.optimal(1e24);
    let n = opt.n / 2.0;
    let d = law.tokens_to_reach(n, opt.loss).expect("reachable");
    assert!(training_flops(n, d) > 1e24);
    assert!(close(law.loss(n, d), opt.loss, 1e-12));
}

#[test]
fn the_quick_grid_reaches_the_full_grid_s_optimum_on_the_lesson_s_sweeps() {
    use super::fit::{fit_from, fit_with, quick_starts, HUBER_DELTA};
    let (sizes, tokens) = chinchilla_like_grid();
    for (set, sigma, seed) in [(ConstantSet::Chinchilla, 0.0, 1), (ConstantSet::Chinchilla, 0.01, 1), (ConstantSet::Epoch, 0.01, 1)] {
        let runs = synthetic_runs(&set.constants(), &sizes, &tokens, sigma, seed);
        let full = fit_with(&runs, HUBER_DELTA).expect("a fit");
        let quick = fit_from(&runs, HUBER_DELTA, &quick_starts()).expect("a fit");
        assert!(quick.objective <= full.objective * (1.0 + 1e-6) + 1e-18, "{set:?} {sigma}: {} vs {}", quick.objective, full.objective);
        assert!((quick.law.alpha - full.law.alpha).abs() < 1e-4 && (quick.law.beta - full.law.beta).abs() < 1e-4, "{set:?} {sigma}");
    }
}

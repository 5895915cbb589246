//! Lesson 10's engine tests: every statistic against scipy or statsmodels (the snippet beside each
//! number), the sequential recursion against published constants and against simulation, and the
//! simulations against their closed forms within Monte-Carlo error.
//!
//! The reference numbers were printed by this script (numpy 2, scipy 1.x, statsmodels 0.14):
//!
//!   from statsmodels.stats.proportion import (proportions_ztest, proportion_effectsize,
//!       samplesize_proportions_2indep_onetail, confint_proportions_2indep, test_proportions_2indep)
//!   from statsmodels.stats.power import NormalIndPower
//!   from scipy import stats
//!   proportions_ztest([2438, 2300], [46000, 46000])                      # pooled, two-sided
//!   proportions_ztest([2438, 2300], [46000, 46000], alternative='larger')
//!   test_proportions_2indep(2438, 46000, 2300, 46000, method='wald')     # unpooled
//!   confint_proportions_2indep(2438, 46000, 2300, 46000, method='wald')  # and alpha=0.1
//!   samplesize_proportions_2indep_onetail(0.0025, 0.05, 0.8, ratio=1, alpha=0.05, alternative='two-sided')
//!   h = proportion_effectsize(0.0525, 0.05)
//!   NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1, alternative='two-sided')
//!   NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1, alternative='larger')
//!   NormalIndPower().power(effect_size=h, nobs1=100000, alpha=0.05, ratio=1, alternative='two-sided')
//!   stats.ttest_ind_from_stats(11.5, 6, 40, 10, 4, 50, equal_var=False)   # and equal_var=True
//!   stats.chisquare([50000, 50600]); stats.chisquare([33500, 33000, 33800])
//!   stats.chi2.sf(x, k); stats.t.sf(t, df); scipy.special.gammaln(x)

use super::cuped::{cuped, simulate as simulate_cuped, ArmData};
use super::power::{
    cohen_h, mde, power_for, sample_size, winners_curse, winners_curse_simulated, Design,
    SampleSizeFormula,
};
use super::sequential::{
    binomial, boundary_constant, crossing_probabilities, fixed_z_false_positive_rate,
    simulate_binomial, simulate_normal, Boundary,
};
use super::significance::{
    chi2_sf, delta_ratio, srm_test, two_proportion_ztest, welch_or_student, Arm, Summary,
    TTestVariance,
};
use super::tdist::{ln_gamma, t_sf, t_upper_quantile};
use super::{Alternative, StdError};
use crate::rng::Rng;

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

const A: Arm = Arm {
    conversions: 2300.0,
    users: 46000.0,
};
const B: Arm = Arm {
    conversions: 2438.0,
    users: 46000.0,
};

#[test]
fn ztest_matches_statsmodels_with_both_standard_errors() {
    let t = two_proportion_ztest(A, B, StdError::Pooled, Alternative::TwoSided, 0.05).unwrap();
    assert!(rel(t.z, 2.0585569705447893) < 1e-12);
    assert!(rel(t.p_value, 0.03953669840453671) < 1e-11);
    let t = two_proportion_ztest(A, B, StdError::Pooled, Alternative::Larger, 0.05).unwrap();
    assert!(rel(t.p_value, 0.019768349202268356) < 1e-11);
    let t = two_proportion_ztest(A, B, StdError::Unpooled, Alternative::TwoSided, 0.05).unwrap();
    assert!(rel(t.z, 2.058604382280221) < 1e-12);
    assert!(rel(t.p_value, 0.03953215261590903) < 1e-11);
    assert!(rel(t.ci_low, 0.00014374845199383165) < 1e-10);
    assert!(rel(t.ci_high, 0.005856251548006159) < 1e-12);
    let t = two_proportion_ztest(A, B, StdError::Unpooled, Alternative::TwoSided, 0.1).unwrap();
    assert!(rel(t.ci_low, 0.0006029581383730298) < 1e-11);
    assert!(rel(t.ci_high, 0.005397041861626962) < 1e-12);
    // A smaller alternative flips the tail.
    let t = two_proportion_ztest(A, B, StdError::Pooled, Alternative::Smaller, 0.05).unwrap();
    assert!((t.p_value - (1.0 - 0.019768349202268356)).abs() < 1e-12);
}

#[test]
fn ztest_refuses_what_it_cannot_compute() {
    let none = Arm {
        conversions: 0.0,
        users: 100.0,
    };
    assert!(two_proportion_ztest(none, none, StdError::Pooled, Alternative::TwoSided, 0.05).is_err());
    let bad = Arm {
        conversions: 120.0,
        users: 100.0,
    };
    assert!(two_proportion_ztest(A, bad, StdError::Pooled, Alternative::TwoSided, 0.05).is_err());
    assert!(two_proportion_ztest(A, B, StdError::Pooled, Alternative::TwoSided, 1.5).is_err());
}

#[test]
fn t_tests_match_scipy() {
    let a = Summary { mean: 10.0, sd: 4.0, n: 50.0 };
    let b = Summary { mean: 11.5, sd: 6.0, n: 40.0 };
    let w = welch_or_student(a, b, TTestVariance::Welch, Alternative::TwoSided, 0.05).unwrap();
    assert!(rel(w.t, 1.358036190637778) < 1e-12);
    assert!(rel(w.p_value, 0.17913958856689988) < 1e-10);
    assert!(rel(w.df, 65.11213361536137) < 1e-12);
    // Interval half-width t_{0.025, df}·SE with stats.t.isf(0.025, 65.112…) = 1.9970727079493635.
    assert!(rel((w.ci_high - w.ci_low) / 2.0 / w.se, 1.9970727079493635) < 1e-10);
    let s = welch_or_student(a, b, TTestVariance::Student, Alternative::TwoSided, 0.05).unwrap();
    assert!(rel(s.t, 1.418086358932134) < 1e-12);
    assert!(rel(s.p_value, 0.15969709270661908) < 1e-10);
    assert_eq!(s.df, 88.0);
}

#[test]
fn student_t_tail_and_log_gamma_match_scipy() {
    // stats.t.sf(t, df)
    for (t, df, want) in [
        (0.5, 3.0, 0.3257239824240755),
        (2.0, 10.0, 0.03669401738537018),
        (-1.3, 7.5, 0.8839366105921956),
        (4.0, 30.0, 0.0001909228180418782),
        (2.5, 1000.0, 0.0062892839005454036),
        (8.0, 5.0, 0.0002464533302862221),
        (1.96, 1e6, 0.024998033792634926),
    ] {
        // Large df: ln Γ(ν/2 + ½) − ln Γ(ν/2) cancels ~7 digits of ln Γ's ~1e-15, hence the looser bound.
        let tol = if df > 1e5 { 1e-8 } else { 1e-12 };
        assert!(rel(t_sf(t, df), want) < tol, "t = {t}, df = {df}: {}", t_sf(t, df));
    }
    // scipy.special.gammaln(x)
    for (x, want) in [
        (0.1, 2.252712651734206),
        (0.5, 0.5723649429247),
        (1.5, -0.12078223763524526),
        (3.7, 1.428072326665388),
        (10.0, 12.801827480081469),
        (100.5, 361.43554046777757),
        (100000.0, 1051287.7089736569),
    ] {
        assert!((ln_gamma(x) - want).abs() < 1e-13 * (1.0 + want.abs()), "x = {x}");
    }
    // stats.t.isf(0.025, 20)
    assert!(rel(t_upper_quantile(0.025, 20.0), 2.0859634472658652) < 1e-12);
}

#[test]
fn chi_square_tail_and_srm_match_scipy() {
    for (x, k, want) in [
        (0.5, 1, 0.47950012218695337),
        (3.84, 1, 0.05004352124870519),
        (7.2, 2, 0.027323722447292555),
        (11.0, 3, 0.0117258755784214),
        (2.0, 4, 0.7357588823428847),
        (20.0, 5, 0.0012497305630313773),
        (30.0, 10, 0.000856641210775301),
        (0.001, 7, 0.9999999999997597),
    ] {
        assert!(rel(chi2_sf(x, k), want) < 1e-12, "χ²({k}) > {x}: {}", chi2_sf(x, k));
    }
    let s = srm_test(&[50000.0, 50600.0], &[1.0, 1.0]).unwrap();
    assert!(rel(s.chi2, 3.5785288270377733) < 1e-12);
    assert!(rel(s.p_value, 0.058530965566157854) < 1e-12);
    let s = srm_test(&[33500.0, 33000.0, 33800.0], &[1.0, 1.0, 1.0]).unwrap();
    assert!(rel(s.chi2, 9.770687936191425) < 1e-12);
    assert!(rel(s.p_value, 0.007556524111759864) < 1e-12);
    assert!(srm_test(&[1.0], &[1.0]).is_err());
    assert!(srm_test(&[1.0, 2.0], &[1.0]).is_err());
}

fn design(alternative: Alternative) -> Design {
    Design {
        baseline: 0.05,
        treatment: 0.0525,
        alpha: 0.05,
        power: 0.8,
        alternative,
    }
}

#[test]
fn sample_sizes_match_statsmodels_and_the_closed_forms() {
    let d = design(Alternative::TwoSided);
    let pooled = sample_size(SampleSizeFormula::Pooled, &d).unwrap();
    assert!(rel(pooled, 122123.46528317548) < 1e-10, "{pooled}");
    let sm = sample_size(SampleSizeFormula::Statsmodels, &d).unwrap();
    assert!(rel(sm, 122106.78101940255) < 1e-9, "{sm}");
    let sm1 = sample_size(SampleSizeFormula::Statsmodels, &design(Alternative::Larger)).unwrap();
    assert!(rel(sm1, 96183.66400742298) < 1e-9, "{sm1}");
    // proportion_effectsize(0.0525, 0.05) = 0.011338312223164948.
    assert!(rel(cohen_h(0.05, 0.0525), 0.011338312223164948) < 1e-13);
    // Unpooled: (z + z_β)²(p₁q₁ + p₂q₂)/δ² by hand with scipy's quantiles 1.959963984540054, 0.8416212335729143.
    let hand = (1.959963984540054f64 + 0.8416212335729143).powi(2) * (0.05 * 0.95 + 0.0525 * 0.9475)
        / 0.0025f64.powi(2);
    assert!(rel(sample_size(SampleSizeFormula::Unpooled, &d).unwrap(), hand) < 1e-12);
    let lehr = sample_size(SampleSizeFormula::Lehr, &d).unwrap();
    assert!(rel(lehr, 16.0 * 0.05 * 0.95 / 0.0025f64.powi(2)) < 1e-12);
    assert!(sample_size(SampleSizeFormula::Lehr, &Design { power: 0.9, ..d }).is_err());
    // NormalIndPower().power(h, nobs1=100000) = 0.7174794482658869.
    let p = power_for(SampleSizeFormula::Statsmodels, &d, 100000.0).unwrap();
    assert!(rel(p, 0.7174794482658869) < 1e-10);
    // Each formula's power at its own n is the design's power, and the MDE at that n is the design's δ.
    for f in SampleSizeFormula::ALL {
        let n = sample_size(f, &d).unwrap();
        let p = power_for(f, &d, n).unwrap();
        // Lehr's 16 rounds 2(z + z_β)² = 15.7 up and uses the baseline variance: slightly more power.
        let tol = if f == SampleSizeFormula::Lehr { 0.01 } else { 1e-9 };
        assert!((p - 0.8).abs() < tol, "{f:?}: {p}");
        let delta = mde(f, &d, n).unwrap();
        assert!(rel(delta, 0.0025) < 1e-6, "{f:?}: {delta}");
    }
}

#[test]
fn winners_curse_closed_form_matches_simulation() {
    let z = 1.959963984540054;
    for lambda in [0.5, 1.0, 2.0, 2.8] {
        let c = winners_curse(lambda, z);
        let (p, e) = winners_curse_simulated(lambda, z, 200_000, 11);
        let se_p = (c.power * (1.0 - c.power) / 200_000.0).sqrt();
        assert!((p - c.power).abs() < 4.0 * se_p, "λ = {lambda}: {p} vs {}", c.power);
        // The exaggeration averages about 200 000·power draws of |Y|/λ, whose spread is below 1.5/λ.
        let se_e = 1.5 / lambda / (200_000.0 * c.power).sqrt();
        assert!((e - c.exaggeration).abs() < 4.0 * se_e, "λ = {lambda}: {e} vs {}", c.exaggeration);
    }
    // At 80 % power (λ = z + z_β) the exaggeration is small; at λ = 0.5 it is large.
    assert!(winners_curse(2.8016, z).exaggeration < 1.15);
    assert!(winners_curse(0.5, z).exaggeration > 4.0);
}

#[test]
fn peeking_rates_and_boundaries_match_the_published_tables() {
    // Armitage, McPherson & Rowe (1969), Table 2 (also Jennison & Turnbull 2000, Table 1.1): the
    // probability that a two-sided 5 % test crosses at one of K looks, to three decimals.
    for (k, want) in [(2, 0.083), (3, 0.107), (4, 0.126), (5, 0.142), (10, 0.193), (20, 0.248), (50, 0.320)] {
        let r = fixed_z_false_positive_rate(1.959963984540054, k);
        assert!((r - want).abs() < 0.0006, "K = {k}: {r}");
    }
    // Jennison & Turnbull (2000), Tables 2.1 and 2.3: C_P(K, 0.05) and C_B(K, 0.05).
    for (k, pocock, obf) in [
        (2, 2.178, 1.977),
        (3, 2.289, 2.004),
        (4, 2.361, 2.024),
        (5, 2.413, 2.040),
        (10, 2.555, 2.087),
    ] {
        let p = boundary_constant(Boundary::Pocock, k, 0.05).unwrap();
        let o = boundary_constant(Boundary::OBrienFleming, k, 0.05).unwrap();
        assert!((p - pocock).abs() < 0.0006, "Pocock K = {k}: {p}");
        assert!((o - obf).abs() < 0.0006, "O'Brien–Fleming K = {k}: {o}");
    }
    assert_eq!(
        boundary_constant(Boundary::Fixed, 5, 0.05).unwrap(),
        crate::normal::upper_quantile(0.025)
    );
    assert!(boundary_constant(Boundary::Pocock, 0, 0.05).is_err());
}

#[test]
fn the_recursion_converges_with_the_grid_and_one_look_is_exact() {
    let one = crossing_probabilities(&[1.959963984540054], 8);
    assert!((one[0] - 0.05).abs() < 1e-15);
    let coarse: f64 = crossing_probabilities(&[2.0; 10], 8).iter().sum();
    let fine: f64 = crossing_probabilities(&[2.0; 10], 32).iter().sum();
    assert!((coarse - fine).abs() < 1e-6, "{coarse} vs {fine}");
}

#[test]
fn simulated_peeking_agrees_with_the_recursion_within_monte_carlo_error() {
    let z = 1.959963984540054;
    let sim = simulate_normal(&[z; 10], 40_000, 21);
    for k in [1, 2, 5, 10] {
        let want = fixed_z_false_positive_rate(z, k);
        let got = sim.rate_by(k);
        assert!((got - want).abs() < 4.0 * sim.standard_error_by(k), "K = {k}: {got} vs {want}");
    }
    // Conversions (binomial, 500 users per arm per look at 10 %): discreteness and the pooled variance's
    // estimation move the rate by less than a Monte-Carlo standard error at this size.
    let sim = simulate_binomial(&[z; 5], 500, 0.1, 6000, 22).unwrap();
    let want = fixed_z_false_positive_rate(z, 5);
    assert!((sim.rate_by(5) - want).abs() < 4.0 * sim.standard_error_by(5), "{}", sim.rate_by(5));
    // A Pocock boundary holds the rate at α.
    let c = boundary_constant(Boundary::Pocock, 5, 0.05).unwrap();
    let sim = simulate_normal(&Boundary::Pocock.z_bounds(c, 5), 40_000, 23);
    assert!((sim.rate_by(5) - 0.05).abs() < 4.0 * sim.standard_error_by(5));
}

#[test]
fn binomial_draws_have_the_binomial_mean_and_variance() {
    let mut rng = Rng::new(5);
    let (n, p, m) = (200u64, 0.1, 20_000);
    let draws: Vec<f64> = (0..m).map(|_| binomial(n, p, &mut rng) as f64).collect();
    let mean = crate::stats::mean(&draws);
    let var = crate::stats::sample_variance(&draws);
    let (mu, v) = (n as f64 * p, n as f64 * p * (1.0 - p));
    assert!((mean - mu).abs() < 4.0 * (v / m as f64).sqrt(), "{mean}");
    // The sample variance's standard error is about v·√(2/m).
    assert!((var - v).abs() < 4.0 * v * (2.0 / m as f64).sqrt(), "{var}");
}

#[test]
fn cuped_reduces_variance_by_one_minus_rho_squared_and_stays_unbiased() {
    for rho in [0.0, 0.5, 0.9] {
        let (ratio, raw, adj) = simulate_cuped(rho, 400, 0.1, 1000, 31);
        // The ratio of two sample variances over 1000 trials: relative error about √(2/1000)·(1 + ρ²)… use 4σ.
        let want = 1.0 - rho * rho;
        assert!((ratio - want).abs() < 0.2 * want + 0.01, "ρ = {rho}: {ratio} vs {want}");
        // Both estimators are unbiased for the effect 0.1: their means over 1000 trials of SE ≈ 0.07.
        assert!((raw - 0.1).abs() < 0.01 && (adj - 0.1).abs() < 0.01, "{raw} {adj}");
    }
}

#[test]
fn cuped_on_hand_data() {
    // numpy: xa, ya = [1, 2, 3, 4], [2, 3, 5, 6]; xb, yb = [2, 3, 4, 5], [4, 4, 7, 8]; x, y = both arms
    //   theta = np.cov(x, y)[0, 1] / np.var(x, ddof=1)                      # 1.5
    //   aa, ab = ya - theta*(xa - x.mean()), yb - theta*(xb - x.mean())
    //   yb.mean() - ya.mean(), ab.mean() - aa.mean()                        # 1.75, 0.25
    //   np.sqrt(aa.var(ddof=1)/4 + ab.var(ddof=1)/4)                        # 0.3818813079129867
    //   np.sqrt(ya.var(ddof=1)/4 + yb.var(ddof=1)/4)                        # 1.3768926368215255
    let r = cuped(
        ArmData { x: &[1.0, 2.0, 3.0, 4.0], y: &[2.0, 3.0, 5.0, 6.0] },
        ArmData { x: &[2.0, 3.0, 4.0, 5.0], y: &[4.0, 4.0, 7.0, 8.0] },
    )
    .unwrap();
    assert!(rel(r.theta, 1.5) < 1e-14);
    assert!((r.diff_raw - 1.75).abs() < 1e-14);
    assert!((r.diff_adjusted - 0.25).abs() < 1e-14);
    assert!(rel(r.se_adjusted, 0.3818813079129867) < 1e-14);
    assert!(rel(r.se_raw, 1.3768926368215255) < 1e-14);
    assert!(cuped(ArmData { x: &[1.0, 1.0], y: &[1.0, 2.0] }, ArmData { x: &[1.0, 1.0], y: &[3.0, 1.0] }).is_err());
}

#[test]
fn delta_method_matches_the_spread_of_the_ratio() {
    let v = crate::quantities::evaluate("ab.delta_se_coverage", &[]).unwrap();
    // 200 trials estimate the standard deviation to about 1/√400 = 5 %.
    assert!((v - 1.0).abs() < 0.2, "{v}");
    let r = delta_ratio(&[1.0, 2.0, 3.0], &[0.0, 1.0, 1.0]).unwrap();
    assert!((r.ratio - 1.0 / 3.0).abs() < 1e-15);
    assert!(delta_ratio(&[1.0], &[1.0]).is_err());
}


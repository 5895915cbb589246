//! `dlf calc ab`: every method against scipy or statsmodels under each convention it offers, and the error
//! messages a user sees.
//!
//! The expected numbers were printed by this script (numpy 2, scipy 1.x, statsmodels 0.14):
//!
//!   from statsmodels.stats.proportion import (proportions_ztest, test_proportions_2indep,
//!       confint_proportions_2indep, samplesize_proportions_2indep_onetail, proportion_effectsize)
//!   from statsmodels.stats.power import NormalIndPower
//!   from scipy import stats; from scipy.optimize import brentq; import numpy as np
//!   proportions_ztest([2438, 2300], [46000, 46000])                       # z, p (pooled)
//!   proportions_ztest([2438, 2300], [46000, 46000], alternative='larger')
//!   test_proportions_2indep(2438, 46000, 2300, 46000, method='wald')      # z, p (unpooled)
//!   confint_proportions_2indep(2438, 46000, 2300, 46000, method='wald')   # the interval
//!   stats.ttest_ind_from_stats(11.5, 6, 40, 10, 4, 50, equal_var=False)  # and True; and alternative='greater'
//!   samplesize_proportions_2indep_onetail(0.0025, 0.05, 0.8, ratio=1, alpha=0.05, alternative='two-sided')
//!   h = proportion_effectsize(0.0525, 0.05)
//!   NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1, alternative='two-sided')
//!   NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1, alternative='larger')
//!   za, zb = stats.norm.isf(0.025), stats.norm.ppf(0.8)
//!   (za + zb)**2 * (0.05*0.95 + 0.0525*0.9475) / 0.0025**2                # unpooled
//!   2 * (za + zb)**2 / h**2                                               # cohen-h
//!   # MDE, statsmodels: solve_power(effect_size=None, …) stops early (its answer has power 0.80001), so the
//!   # reference solves NormalIndPower().power for the lift to full precision instead:
//!   h = lambda d: 2*np.arcsin(np.sqrt(0.05 + d)) - 2*np.arcsin(np.sqrt(0.05))
//!   brentq(lambda d: NormalIndPower().power(h(d), nobs1=100000, alpha=0.05) - 0.8, 1e-5, 0.1, xtol=1e-17)
//!   brentq(lambda d: (za+zb)**2*(0.05*0.95+(0.05+d)*(0.95-d))/d**2 - 100000, 1e-6, 0.5, xtol=1e-16)
//!   stats.chisquare([33500, 33000, 33800])
//!   # CUPED on the arms below: theta = np.cov(x, y)[0, 1]/np.var(x, ddof=1) over both arms,
//!   # adjusted y − theta (x − x.mean()), standard errors √(s_A²/n_A + s_B²/n_B)

use super::{answer as run_answer, error as run_error, fails};

fn answer(args: &[&str], stdin: &str) -> serde_json::Value {
    let mut all = vec!["ab"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn close(v: &serde_json::Value, want: f64, rel: f64, what: &str) {
    let got = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"));
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "{what}: {got} vs {want}"
    );
}

const ZTEST: &str = r#"{"method":"ztest","control":{"conversions":2300,"users":46000},"treatment":{"conversions":2438,"users":46000}}"#;

#[test]
fn ztest_pooled_and_unpooled_match_statsmodels() {
    let a = answer(&[], ZTEST);
    assert_eq!(a["se_convention"], "pooled");
    close(&a["z"], 2.0585569705447893, 1e-12, "pooled z");
    close(&a["p_value"], 0.03953669840453671, 1e-11, "pooled p");
    close(&a["ci"][0], 0.00014374845199383165, 1e-10, "ci low");
    close(&a["ci"][1], 0.005856251548006159, 1e-12, "ci high");
    let a = answer(&["--alternative", "larger"], ZTEST);
    close(&a["p_value"], 0.019768349202268356, 1e-11, "one-sided p");
    let a = answer(&["--se", "unpooled"], ZTEST);
    close(&a["z"], 2.058604382280221, 1e-12, "unpooled z");
    close(&a["p_value"], 0.03953215261590903, 1e-11, "unpooled p");
}

#[test]
fn ttest_welch_and_student_match_scipy() {
    let p = r#"{"method":"ttest","control":{"mean":10,"sd":4,"n":50},"treatment":{"mean":11.5,"sd":6,"n":40}}"#;
    let a = answer(&[], p);
    close(&a["t"], 1.358036190637778, 1e-12, "welch t");
    close(&a["p_value"], 0.17913958856689988, 1e-10, "welch p");
    close(&a["df"], 65.11213361536137, 1e-12, "welch df");
    let a = answer(&["--variance", "student"], p);
    close(&a["t"], 1.418086358932134, 1e-12, "student t");
    close(&a["p_value"], 0.15969709270661908, 1e-10, "student p");
    let a = answer(&["--alternative", "larger"], p);
    close(
        &a["p_value"],
        0.08956979428344994,
        1e-10,
        "welch one-sided p",
    );
}

#[test]
fn sample_size_under_every_formula_matches_its_reference() {
    let p = r#"{"method":"sample_size","baseline":0.05,"relative_lift":0.05}"#;
    for (formula, want, rel) in [
        ("pooled", 122123.46528317548, 1e-10),
        ("statsmodels", 122106.78101940255, 1e-9),
        ("unpooled", 122120.71978673749, 1e-11),
        ("cohen-h", 122107.08010812473, 1e-11),
        ("lehr", 121600.0, 1e-12),
    ] {
        let a = answer(&["--formula", formula], p);
        assert_eq!(a["formula"], formula);
        close(&a["n_per_arm"], want, rel, formula);
    }
    let a = answer(&["--formula", "statsmodels", "--alternative", "larger"], p);
    close(
        &a["n_per_arm"],
        96183.66400742298,
        1e-9,
        "statsmodels one-sided",
    );
    // Days: 2 × 122 121 users at 30 000 a day = 8.14 → 9 days, 14 in whole weeks.
    let a = answer(
        &[],
        r#"{"method":"sample_size","baseline":0.05,"absolute_lift":0.0025,"daily_users":30000}"#,
    );
    assert_eq!(a["days"], 9.0);
    assert_eq!(a["days_whole_weeks"], 14.0);
}

#[test]
fn mde_matches_statsmodels_and_brentq() {
    let p = r#"{"method":"mde","baseline":0.05,"n":100000}"#;
    let a = answer(&["--formula", "statsmodels"], p);
    close(
        &a["mde_absolute"],
        0.0027658921211554093,
        1e-9,
        "statsmodels MDE",
    );
    let a = answer(&[], p);
    close(
        &a["mde_absolute"],
        0.0027660859156707325,
        1e-9,
        "unpooled MDE",
    );
    close(&a["power_check"], 0.8, 1e-9, "power at the MDE");
}

#[test]
fn peeking_and_boundaries_match_the_published_tables() {
    // Armitage, McPherson & Rowe (1969): 0.142 at five looks; Jennison & Turnbull (2000) Tables 2.1, 2.3:
    // Pocock 2.413, O'Brien–Fleming 2.040 for K = 5, α = 0.05 (three decimals).
    let a = answer(&[], r#"{"method":"peeking","looks":5}"#);
    close(&a["false_positive_rate"], 0.142, 0.004, "fixed");
    let a = answer(
        &["--boundary", "pocock"],
        r#"{"method":"peeking","looks":5}"#,
    );
    close(&a["constant"], 2.413, 0.0003, "Pocock");
    close(&a["false_positive_rate"], 0.05, 1e-6, "Pocock total");
    let a = answer(
        &["--boundary", "obrien-fleming"],
        r#"{"method":"peeking","looks":5}"#,
    );
    close(&a["constant"], 2.040, 0.0003, "O'Brien–Fleming");
    // Its first-look boundary is 2.040·√5 = 4.562 (Jennison & Turnbull, Table 2.3's boundaries).
    close(
        &a["z_bounds"][0],
        4.562,
        0.0003,
        "O'Brien–Fleming first look",
    );
}

#[test]
fn cuped_matches_numpy() {
    let p = r#"{"method":"cuped",
      "control":{"x":[16.12,2.33,11.25,8.3,8.64,9.35,3.94,9.3,7.4,19.97,10.68,8.94],
                 "y":[12.47,0.86,7.42,6.05,7.63,7.12,4.59,7.14,5.96,18.29,9.36,6.39]},
      "treatment":{"x":[9.45,11.62,15.81,9.19,9.27,13.01,7.34,9.12,12.65,11.74,10.27,12.01],
                   "y":[4.02,11.53,11.91,5.55,8.53,12.16,5.9,6.38,10.86,10.01,11.02,11.43]}}"#;
    let a = answer(&[], p);
    close(&a["theta"], 0.9054923064797449, 1e-13, "theta");
    close(&a["rho"], 0.9186209174472743, 1e-13, "rho");
    close(&a["diff_raw"], 1.334999999999999, 1e-13, "raw diff");
    close(
        &a["diff_adjusted"],
        0.18351561692659146,
        1e-12,
        "adjusted diff",
    );
    close(&a["se_raw"], 1.494500609135731, 1e-13, "raw se");
    close(&a["se_adjusted"], 0.5998763674987088, 1e-12, "adjusted se");
}

#[test]
fn srm_matches_scipy() {
    let a = answer(&[], r#"{"method":"srm","observed":[33500,33000,33800]}"#);
    close(&a["chi2"], 9.770687936191425, 1e-12, "chi2");
    close(&a["p_value"], 0.007556524111759864, 1e-12, "p");
    assert_eq!(a["df"], 2);
    assert_eq!(a["mismatch_at_0_0005"], false);
    let a = answer(
        &[],
        r#"{"method":"srm","observed":[9000,21000],"weights":[0.3,0.7]}"#,
    );
    close(&a["p_value"], 1.0, 1e-12, "a perfect 30/70 split");
}

#[test]
fn bad_input_is_refused_with_a_message_naming_it() {
    fails(
        &["ab", "--variance", "welch"],
        ZTEST,
        "ztest does not use --variance",
    );
    fails(
        &["ab"],
        r#"{"method":"ztest","control":{"conversions":10,"users":100,"mean":1},"treatment":{"conversions":1,"users":100}}"#,
        "does not use control.mean",
    );
    fails(
        &["ab"],
        r#"{"method":"ztest","control":{"conversions":10},"treatment":{"conversions":1,"users":100}}"#,
        "needs control.users",
    );
    fails(
        &["ab"],
        r#"{"method":"ztest","control":{"conversions":200,"users":100},"treatment":{"conversions":1,"users":100}}"#,
        "between 0 and its 100 users",
    );
    fails(
        &["ab"],
        r#"{"method":"sample_size","baseline":0.05}"#,
        "exactly one of relative_lift and absolute_lift",
    );
    fails(
        &["ab"],
        r#"{"method":"sample_size","baseline":0.05,"relative_lift":0.05,"n":5}"#,
        "sample_size does not use n",
    );
    fails(
        &["ab", "--formula", "lehr"],
        r#"{"method":"sample_size","baseline":0.05,"relative_lift":0.05,"power":0.9}"#,
        "Lehr",
    );
    fails(
        &["ab"],
        r#"{"method":"peeking","looks":2.5}"#,
        "whole number",
    );
    fails(
        &["ab"],
        r#"{"method":"srm","observed":[10,20],"weights":[1]}"#,
        "one weight per arm",
    );
    fails(&["ab"], r#"{"method":"anova"}"#, "unknown method");
    fails(
        &["ab"],
        r#"{"method":"ztest","control":{"conversions":0,"users":100},"treatment":{"conversions":0,"users":100}}"#,
        "standard error is 0",
    );
    let e = run_error(&["ab", "--formula", "magic"], ZTEST);
    assert!(e.contains("pooled") && e.contains("statsmodels"), "{e}");
}

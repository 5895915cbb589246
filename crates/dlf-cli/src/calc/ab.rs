//! `dlf calc ab`: the computations of an A/B test's design and readout (lesson 10) — the two-proportion
//! z-test with both standard errors and its interval, the t-test, sample size under each formula variant,
//! the minimum detectable effect, the false-positive rate of peeking and group-sequential boundaries, CUPED on
//! given data and the sample-ratio-mismatch check. The statistics are the engine's
//! (`dlf_engine::lessons::ab`); where libraries differ, the choice is a command-line option.

use anyhow::{anyhow, bail, Result};
use dlf_engine::lessons::ab::cuped::{cuped, ArmData};
use dlf_engine::lessons::ab::power::{
    days_needed, mde, power_for, sample_size, Design, SampleSizeFormula,
};
use dlf_engine::lessons::ab::sequential::{boundary_constant, crossing_probabilities, Boundary, POINTS_PER_SD};
use dlf_engine::lessons::ab::significance::{
    srm_test, two_proportion_ztest, welch_or_student, Arm, Summary, TTestVariance,
};
use dlf_engine::lessons::ab::{Alternative, StdError};
use dlf_engine::normal;
use serde::{Deserialize, Serialize};

use super::{given, named, Given, Name, Named, Topic, Uses};

/// `dlf calc ab`.
#[derive(Debug)]
pub struct Ab;

/// Options of `dlf calc ab`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The z-test's standard error: pooled (the variance under H0; statsmodels proportions_ztest, R
    /// prop.test; the default) or unpooled (Wald; statsmodels test_proportions_2indep(method="wald")).
    #[arg(long, value_parser = named::<StdError>())]
    pub se: Option<StdError>,
    /// two-sided (the default), larger (treatment > control) or smaller.
    #[arg(long, value_parser = named::<Alternative>())]
    pub alternative: Option<Alternative>,
    /// The t-test's variance: welch (scipy equal_var=False; the default) or student (equal_var=True).
    #[arg(long, value_parser = named::<TTestVariance>())]
    pub variance: Option<TTestVariance>,
    /// The sample-size formula: unpooled (the default), pooled (R power.prop.test, statsmodels
    /// samplesize_proportions_2indep_onetail), cohen-h (arcsine, closed form), statsmodels (NormalIndPower
    /// with Cohen's h, both tails) or lehr (16 p q/δ²).
    #[arg(long, value_parser = named::<SampleSizeFormula>())]
    pub formula: Option<SampleSizeFormula>,
    /// The boundary for peeking: fixed (z_{α/2} at every look; the default), pocock or obrien-fleming.
    #[arg(long, value_parser = named::<Boundary>())]
    pub boundary: Option<Boundary>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--se", self.se.is_some()),
            ("--alternative", self.alternative.is_some()),
            ("--variance", self.variance.is_some()),
            ("--formula", self.formula.is_some()),
            ("--boundary", self.boundary.is_some()),
        ])
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The two-proportion z-test.
    Ztest,
    /// The two-sample t-test from summary statistics.
    Ttest,
    /// Users per arm (and days).
    SampleSize,
    /// The minimum detectable effect of a given n.
    Mde,
    /// The false-positive rate of K looks, or a sequential boundary.
    Peeking,
    /// CUPED on per-user data.
    Cuped,
    /// The sample-ratio-mismatch check.
    Srm,
}

impl Named for Method {
    const WHAT: &'static str = "method";
    const ALL: &'static [Self] = &[
        Method::Ztest,
        Method::Ttest,
        Method::SampleSize,
        Method::Mde,
        Method::Peeking,
        Method::Cuped,
        Method::Srm,
    ];
    fn name(self) -> &'static str {
        match self {
            Method::Ztest => "ztest",
            Method::Ttest => "ttest",
            Method::SampleSize => "sample_size",
            Method::Mde => "mde",
            Method::Peeking => "peeking",
            Method::Cuped => "cuped",
            Method::Srm => "srm",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.iter().copied().find(|m| m.name() == s)
    }
}

/// One arm as the learner gives it; which fields a method needs is checked in `solve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmInput {
    conversions: Option<f64>,
    users: Option<f64>,
    mean: Option<f64>,
    sd: Option<f64>,
    n: Option<f64>,
    x: Option<Vec<f64>>,
    y: Option<Vec<f64>>,
}

impl ArmInput {
    /// Refuses fields other than `wanted`, and requires each of them.
    fn only(&self, which: &str, method: &str, wanted: &[&str]) -> Result<()> {
        let present = [
            ("conversions", self.conversions.is_some()),
            ("users", self.users.is_some()),
            ("mean", self.mean.is_some()),
            ("sd", self.sd.is_some()),
            ("n", self.n.is_some()),
            ("x", self.x.is_some()),
            ("y", self.y.is_some()),
        ];
        for (name, is) in present {
            if is && !wanted.contains(&name) {
                bail!(
                    "{method} does not use {which}.{name}; {which} needs {}",
                    wanted.join(", ")
                );
            }
            if !is && wanted.contains(&name) {
                bail!("{method} needs {which}.{name} ({which} needs {})", wanted.join(", "));
            }
        }
        Ok(())
    }
}

problem! {
    /// An A/B problem as the learner writes it.
    pub struct Problem {
        required {
            method: Name<Method>,
        }
        optional {
            control: ArmInput,
            treatment: ArmInput,
            alpha: f64,
            power: f64,
            baseline: f64,
            relative_lift: f64,
            absolute_lift: f64,
            n: f64,
            daily_users: f64,
            allocation: f64,
            looks: f64,
            observed: Vec<f64>,
            weights: Vec<f64>,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin with a \"method\" and the fields it uses, and prints every intermediate
quantity. Control is arm A, treatment arm B; differences are B − A. alpha defaults to 0.05, power to 0.8.

Methods and fields:
  ztest        control, treatment: {\"conversions\", \"users\"}; alpha
               --se pooled|unpooled, --alternative two-sided|larger|smaller
  ttest        control, treatment: {\"mean\", \"sd\" (n − 1), \"n\"}; alpha
               --variance welch|student, --alternative
  sample_size  baseline (rate of A), relative_lift or absolute_lift, alpha, power; optional daily_users and
               allocation (share of traffic in the experiment, default 1) for days
               --formula, --alternative (two-sided uses z_{α/2}; larger/smaller z_α)
  mde          baseline, n (users per arm), alpha, power; --formula, --alternative
  peeking      looks (K ≥ 1), alpha; --boundary fixed|pocock|obrien-fleming
  cuped        control, treatment: {\"x\": pre-period covariate per user, \"y\": metric per user}; alpha
  srm          observed: users per arm; weights: the designed split (default equal)

Formulas (p̄ = pooled rate, q = 1 − p, δ = p_B − p_A):
  ztest   z = δ/SE; pooled SE = √(p̄q̄(1/n_A + 1/n_B)) (variance under H0: statsmodels proportions_ztest, R
          prop.test without continuity correction); unpooled SE = √(p_A q_A/n_A + p_B q_B/n_B) (Wald:
          statsmodels test_proportions_2indep(method=\"wald\")). The interval is always the Wald interval
          δ ± z_{α/2}·SE_unpooled (statsmodels confint_proportions_2indep(method=\"wald\")).
  ttest   welch: SE² = s_A²/n_A + s_B²/n_B, Welch–Satterthwaite df (scipy ttest_ind(equal_var=False));
          student: pooled s_p², df = n_A + n_B − 2 (scipy's default equal_var=True)
  sample_size, per arm (z_a = z_{α/2} two-sided or z_α one-sided, z_b = Φ⁻¹(power)):
    unpooled     (z_a + z_b)²(p₁q₁ + p₂q₂)/δ²
    pooled       [z_a√(2p̄q̄) + z_b√(p₁q₁ + p₂q₂)]²/δ²  (Fleiss; R power.prop.test;
                 statsmodels samplesize_proportions_2indep_onetail)
    cohen-h      2(z_a + z_b)²/h², h = 2 asin√p₂ − 2 asin√p₁ (Cohen 1988)
    statsmodels  the n with Φ(h√(n/2) − z_a) + Φ(−h√(n/2) − z_a) = power (NormalIndPower.solve_power with
                 proportion_effectsize; the second tail only for two-sided)
    lehr         16 p₁q₁/δ² (Lehr 1992; only α = 0.05 two-sided, power 0.8)
    days         ⌈2n/(daily_users · allocation)⌉, and rounded up to whole weeks
  mde     the δ at which the formula's n equals the given n (bisection)
  peeking S_k = sum of k unit increments; boundary b_k = c_k√k; the recursion of Armitage, McPherson & Rowe
          (1969) gives P(first crossing at k); fixed c_k = z_{α/2}; pocock c_k = c (Pocock 1977);
          obrien-fleming c_k = c√(K/k) (O'Brien & Fleming 1979), c solved so the total is α
  cuped   θ = Cov(X, Y)/Var X over both arms, Y' = Y − θ(X − X̄) (Deng, Xu, Kohavi & Walker 2013);
          variance ratio → 1 − ρ²
  srm     χ² = Σ(O − E)²/E, df = arms − 1 (scipy.stats.chisquare); p < 0.0005 flags a mismatch

Example:
  echo '{\"method\":\"ztest\",\"control\":{\"conversions\":2300,\"users\":46000},
        \"treatment\":{\"conversions\":2438,\"users\":46000}}' | dlf calc ab --se unpooled";

/// The optional fields and options each method uses.
fn fields(method: Method) -> Vec<&'static str> {
    match method {
        Method::Ztest => vec!["control", "treatment", "alpha", "--se", "--alternative"],
        Method::Ttest => vec!["control", "treatment", "alpha", "--variance", "--alternative"],
        Method::SampleSize => vec![
            "baseline",
            "relative_lift",
            "absolute_lift",
            "alpha",
            "power",
            "daily_users",
            "allocation",
            "--formula",
            "--alternative",
        ],
        Method::Mde => vec!["baseline", "n", "alpha", "power", "--formula", "--alternative"],
        Method::Peeking => vec!["looks", "alpha", "--boundary"],
        Method::Cuped => vec!["control", "treatment", "alpha"],
        Method::Srm => vec!["observed", "weights"],
    }
}

/// Everything printed: the method, then its own block.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    method: &'static str,
    #[serde(flatten)]
    result: Result_,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Result_ {
    Ztest(ZOut),
    Ttest(TOut),
    SampleSize(SizeOut),
    Mde(MdeOut),
    Peeking(PeekOut),
    Cuped(CupedOut),
    Srm(SrmOut),
}

#[derive(Debug, Serialize)]
struct ZOut {
    se_convention: &'static str,
    alternative: &'static str,
    alpha: f64,
    p_control: f64,
    p_treatment: f64,
    pooled_rate: f64,
    diff: f64,
    relative_lift: f64,
    se_pooled: f64,
    se_unpooled: f64,
    z: f64,
    p_value: f64,
    critical_z: f64,
    significant: bool,
    ci: [f64; 2],
}

#[derive(Debug, Serialize)]
struct TOut {
    variance: &'static str,
    alternative: &'static str,
    alpha: f64,
    diff: f64,
    se: f64,
    df: f64,
    t: f64,
    p_value: f64,
    ci: [f64; 2],
}

#[derive(Debug, Serialize)]
struct SizeOut {
    formula: &'static str,
    alternative: &'static str,
    alpha: f64,
    power: f64,
    baseline: f64,
    treatment_rate: f64,
    absolute_lift: f64,
    relative_lift: f64,
    z_alpha: f64,
    z_beta: f64,
    n_per_arm: f64,
    n_per_arm_rounded_up: f64,
    total_users: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days_whole_weeks: Option<f64>,
    every_formula: Vec<FormulaN>,
}

#[derive(Debug, Serialize)]
struct FormulaN {
    formula: &'static str,
    n_per_arm: f64,
}

#[derive(Debug, Serialize)]
struct MdeOut {
    formula: &'static str,
    alternative: &'static str,
    alpha: f64,
    power: f64,
    baseline: f64,
    n_per_arm: f64,
    mde_absolute: f64,
    mde_relative: f64,
    power_check: f64,
}

#[derive(Debug, Serialize)]
struct PeekOut {
    boundary: &'static str,
    alpha: f64,
    looks: usize,
    constant: f64,
    z_bounds: Vec<f64>,
    nominal_p_per_look: Vec<f64>,
    first_crossing: Vec<f64>,
    cumulative_false_positive_rate: Vec<f64>,
    false_positive_rate: f64,
}

#[derive(Debug, Serialize)]
struct CupedOut {
    alpha: f64,
    theta: f64,
    rho: f64,
    diff_raw: f64,
    se_raw: f64,
    ci_raw: [f64; 2],
    diff_adjusted: f64,
    se_adjusted: f64,
    ci_adjusted: [f64; 2],
    variance_ratio: f64,
    theory_one_minus_rho_squared: f64,
}

#[derive(Debug, Serialize)]
struct SrmOut {
    observed: Vec<f64>,
    expected: Vec<f64>,
    chi2: f64,
    df: usize,
    p_value: f64,
    mismatch_at_0_0005: bool,
}

fn need<T>(v: Option<T>, name: &str, method: Method) -> Result<T> {
    v.ok_or_else(|| anyhow!("{} needs {name}", method.name()))
}

fn level(v: Option<f64>, name: &str, default: f64) -> Result<f64> {
    let v = v.unwrap_or(default);
    if !(v > 0.0 && v < 1.0) {
        bail!("{name} must lie strictly between 0 and 1, got {v}");
    }
    Ok(v)
}

impl Topic for Ab {
    const NAME: &'static str = "ab";
    const ABOUT: &'static str =
        "A/B tests: z-test and t-test, sample size and MDE, peeking, CUPED, SRM (lesson 10)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        Uses {
            method: problem.method.0.name(),
            fields: fields(problem.method.0),
        }
    }

    fn solve(raw: Problem, o: &Options) -> Result<Answer> {
        let method = raw.method.0;
        let alternative = o.alternative.unwrap_or(Alternative::TwoSided);
        let alpha = level(raw.alpha, "alpha", 0.05)?;
        let power = level(raw.power, "power", 0.8)?;
        let result = match method {
            Method::Ztest => {
                let arm = |a: Option<ArmInput>, which: &str| -> Result<Arm> {
                    let a = need(a, which, method)?;
                    a.only(which, "ztest", &["conversions", "users"])?;
                    Ok(Arm {
                        conversions: a.conversions.unwrap_or_default(),
                        users: a.users.unwrap_or_default(),
                    })
                };
                let (a, b) = (arm(raw.control, "control")?, arm(raw.treatment, "treatment")?);
                let se = o.se.unwrap_or(StdError::Pooled);
                let t = two_proportion_ztest(a, b, se, alternative, alpha).map_err(|e| anyhow!("{e}"))?;
                Result_::Ztest(ZOut {
                    se_convention: se.name(),
                    alternative: alternative.name(),
                    alpha,
                    p_control: t.p_a,
                    p_treatment: t.p_b,
                    pooled_rate: t.pooled,
                    diff: t.diff,
                    relative_lift: t.relative_lift,
                    se_pooled: t.se_pooled,
                    se_unpooled: t.se_unpooled,
                    z: t.z,
                    p_value: t.p_value,
                    critical_z: t.critical,
                    significant: t.p_value < alpha,
                    ci: [t.ci_low, t.ci_high],
                })
            }
            Method::Ttest => {
                let arm = |a: Option<ArmInput>, which: &str| -> Result<Summary> {
                    let a = need(a, which, method)?;
                    a.only(which, "ttest", &["mean", "sd", "n"])?;
                    Ok(Summary {
                        mean: a.mean.unwrap_or_default(),
                        sd: a.sd.unwrap_or_default(),
                        n: a.n.unwrap_or_default(),
                    })
                };
                let (a, b) = (arm(raw.control, "control")?, arm(raw.treatment, "treatment")?);
                let variance = o.variance.unwrap_or(TTestVariance::Welch);
                let t = welch_or_student(a, b, variance, alternative, alpha).map_err(|e| anyhow!("{e}"))?;
                Result_::Ttest(TOut {
                    variance: variance.name(),
                    alternative: alternative.name(),
                    alpha,
                    diff: t.diff,
                    se: t.se,
                    df: t.df,
                    t: t.t,
                    p_value: t.p_value,
                    ci: [t.ci_low, t.ci_high],
                })
            }
            Method::SampleSize => {
                let p1 = need(raw.baseline, "baseline", method)?;
                let p2 = match (raw.relative_lift, raw.absolute_lift) {
                    (Some(r), None) => p1 * (1.0 + r),
                    (None, Some(d)) => p1 + d,
                    _ => bail!("sample_size needs exactly one of relative_lift and absolute_lift"),
                };
                let formula = o.formula.unwrap_or(SampleSizeFormula::Unpooled);
                let d = Design {
                    baseline: p1,
                    treatment: p2,
                    alpha,
                    power,
                    alternative,
                };
                let n = sample_size(formula, &d).map_err(|e| anyhow!("{e}"))?;
                let every_formula = SampleSizeFormula::ALL
                    .iter()
                    .filter_map(|&f| {
                        sample_size(f, &d).ok().map(|n| FormulaN {
                            formula: f.name(),
                            n_per_arm: n,
                        })
                    })
                    .collect();
                if raw.allocation.is_some() && raw.daily_users.is_none() {
                    bail!("allocation is the share of daily_users in the experiment: give daily_users too");
                }
                let (days, weeks) = match raw.daily_users {
                    None => (None, None),
                    Some(daily) => {
                        if !(daily > 0.0 && daily.is_finite()) {
                            bail!("daily_users must be positive, got {daily}");
                        }
                        let alloc = raw.allocation.unwrap_or(1.0);
                        if !(alloc > 0.0 && alloc <= 1.0) {
                            bail!("allocation must lie in (0, 1], got {alloc}");
                        }
                        let (d, w) = days_needed(n, 2, daily, alloc);
                        (Some(d), Some(w))
                    }
                };
                let za = alternative.critical(alpha);
                Result_::SampleSize(SizeOut {
                    formula: formula.name(),
                    alternative: alternative.name(),
                    alpha,
                    power,
                    baseline: p1,
                    treatment_rate: p2,
                    absolute_lift: p2 - p1,
                    relative_lift: (p2 - p1) / p1,
                    z_alpha: za,
                    z_beta: normal::quantile(power),
                    n_per_arm: n,
                    n_per_arm_rounded_up: n.ceil(),
                    total_users: 2.0 * n.ceil(),
                    days,
                    days_whole_weeks: weeks,
                    every_formula,
                })
            }
            Method::Mde => {
                let p1 = need(raw.baseline, "baseline", method)?;
                let n = need(raw.n, "n", method)?;
                if !(n > 0.0 && n.is_finite()) {
                    bail!("n must be a positive number of users per arm, got {n}");
                }
                let formula = o.formula.unwrap_or(SampleSizeFormula::Unpooled);
                // The treatment rate is a placeholder: mde replaces it while it searches.
                let d = Design {
                    baseline: p1,
                    treatment: (p1 * 1.1).min(0.999),
                    alpha,
                    power,
                    alternative,
                };
                let delta = mde(formula, &d, n).map_err(|e| anyhow!("{e}"))?;
                let check = power_for(
                    formula,
                    &Design {
                        treatment: p1 + delta,
                        ..d
                    },
                    n,
                )
                .map_err(|e| anyhow!("{e}"))?;
                Result_::Mde(MdeOut {
                    formula: formula.name(),
                    alternative: alternative.name(),
                    alpha,
                    power,
                    baseline: p1,
                    n_per_arm: n,
                    mde_absolute: delta,
                    mde_relative: delta / p1,
                    power_check: check,
                })
            }
            Method::Peeking => {
                let k = need(raw.looks, "looks", method)?;
                if !(k.fract() == 0.0 && (1.0..=200.0).contains(&k)) {
                    bail!("looks must be a whole number between 1 and 200, got {k}");
                }
                let k = k as usize;
                let boundary = o.boundary.unwrap_or(Boundary::Fixed);
                let c = boundary_constant(boundary, k, alpha).map_err(|e| anyhow!("{e}"))?;
                let bounds = boundary.z_bounds(c, k);
                let first = crossing_probabilities(&bounds, POINTS_PER_SD);
                let mut total = 0.0;
                let cumulative: Vec<f64> = first
                    .iter()
                    .map(|f| {
                        total += f;
                        total
                    })
                    .collect();
                Result_::Peeking(PeekOut {
                    boundary: boundary.name(),
                    alpha,
                    looks: k,
                    constant: c,
                    nominal_p_per_look: bounds.iter().map(|b| 2.0 * normal::sf(*b)).collect(),
                    z_bounds: bounds,
                    first_crossing: first,
                    false_positive_rate: total,
                    cumulative_false_positive_rate: cumulative,
                })
            }
            Method::Cuped => {
                let (a, b) = (need(raw.control, "control", method)?, need(raw.treatment, "treatment", method)?);
                a.only("control", "cuped", &["x", "y"])?;
                b.only("treatment", "cuped", &["x", "y"])?;
                let (xa, ya, xb, yb) = (
                    a.x.unwrap_or_default(),
                    a.y.unwrap_or_default(),
                    b.x.unwrap_or_default(),
                    b.y.unwrap_or_default(),
                );
                let r = cuped(ArmData { x: &xa, y: &ya }, ArmData { x: &xb, y: &yb })
                    .map_err(|e| anyhow!("{e}"))?;
                let z = normal::upper_quantile(alpha / 2.0);
                Result_::Cuped(CupedOut {
                    alpha,
                    theta: r.theta,
                    rho: r.rho,
                    diff_raw: r.diff_raw,
                    se_raw: r.se_raw,
                    ci_raw: [r.diff_raw - z * r.se_raw, r.diff_raw + z * r.se_raw],
                    diff_adjusted: r.diff_adjusted,
                    se_adjusted: r.se_adjusted,
                    ci_adjusted: [
                        r.diff_adjusted - z * r.se_adjusted,
                        r.diff_adjusted + z * r.se_adjusted,
                    ],
                    variance_ratio: r.variance_ratio,
                    theory_one_minus_rho_squared: 1.0 - r.rho * r.rho,
                })
            }
            Method::Srm => {
                let observed = need(raw.observed, "observed", method)?;
                let weights = raw.weights.unwrap_or_else(|| vec![1.0; observed.len()]);
                let s = srm_test(&observed, &weights).map_err(|e| anyhow!("{e}"))?;
                Result_::Srm(SrmOut {
                    observed,
                    expected: s.expected,
                    chi2: s.chi2,
                    df: s.df,
                    p_value: s.p_value,
                    mismatch_at_0_0005: s.p_value < 0.0005,
                })
            }
        };
        Ok(Answer {
            topic: Ab::NAME,
            method: method.name(),
            result,
        })
    }
}

//! Quantities of lesson 10 (A/B testing); names start with `ab.`.

use crate::error::QuantityError;
use crate::lessons::ab::cuped::{self, ArmData};
use crate::lessons::ab::power::{
    self, days_needed, mde, power_for, sample_size, winners_curse, Design, SampleSizeFormula,
};
use crate::lessons::ab::sequential::{
    boundary_constant, crossing_probabilities, fixed_z_false_positive_rate, simulate_binomial,
    simulate_normal, Boundary, POINTS_PER_SD,
};
use crate::lessons::ab::significance::{delta_ratio, srm_test, two_proportion_ztest, Arm};
use crate::lessons::ab::{Alternative, StdError};
use crate::normal;
use crate::quantities::{Args, QuantitySpec};
use crate::rng::Rng;

/// Arguments of a sample-size design.
const DESIGN: &[(&str, &str)] = &[
    ("baseline", "0.05"),
    ("relative_lift", "0.05"),
    ("alpha", "0.05"),
    ("power", "0.8"),
    ("formula", "unpooled"),
    ("alternative", "two-sided"),
];

/// Arguments of a z-test: the lesson's running example, 5.0 % against 5.3 % on 46 000 users per arm.
const ZTEST: &[(&str, &str)] = &[
    ("xa", "2300"),
    ("na", "46000"),
    ("xb", "2438"),
    ("nb", "46000"),
    ("se", "pooled"),
    ("alternative", "two-sided"),
    ("alpha", "0.05"),
];

fn formula(a: &Args, arg: &str) -> Result<SampleSizeFormula, QuantityError> {
    SampleSizeFormula::parse(a.raw(arg)).ok_or_else(|| {
        a.invalid(arg, "one of pooled, unpooled, cohen-h, statsmodels, lehr".into())
    })
}

fn alternative(a: &Args) -> Result<Alternative, QuantityError> {
    Alternative::parse(a.raw("alternative"))
        .ok_or_else(|| a.invalid("alternative", "one of two-sided, larger, smaller".into()))
}

fn boundary(a: &Args) -> Result<Boundary, QuantityError> {
    Boundary::parse(a.raw("boundary"))
        .ok_or_else(|| a.invalid("boundary", "one of fixed, pocock, obrien-fleming".into()))
}

fn design(a: &Args) -> Result<Design, QuantityError> {
    let baseline = a.f64_in("baseline", 1e-6, 0.999)?;
    let lift = a.f64_in("relative_lift", -0.99, 100.0)?;
    Ok(Design {
        baseline,
        treatment: baseline * (1.0 + lift),
        alpha: a.f64_in("alpha", 1e-12, 0.5)?,
        power: a.f64_in("power", 0.01, 0.999_999)?,
        alternative: alternative(a)?,
    })
}

fn n_per_arm(a: &Args) -> Result<f64, QuantityError> {
    let d = design(a)?;
    sample_size(formula(a, "formula")?, &d).map_err(|e| a.failed(e))
}

fn ztest(a: &Args) -> Result<crate::lessons::ab::ZTest, QuantityError> {
    let arm = |x: &str, n: &str| -> Result<Arm, QuantityError> {
        Ok(Arm {
            conversions: a.f64_in(x, 0.0, 1e12)?,
            users: a.f64_in(n, 1.0, 1e12)?,
        })
    };
    let se = StdError::parse(a.raw("se"))
        .ok_or_else(|| a.invalid("se", "pooled or unpooled".into()))?;
    two_proportion_ztest(
        arm("xa", "na")?,
        arm("xb", "nb")?,
        se,
        alternative(a)?,
        a.f64_in("alpha", 1e-12, 0.5)?,
    )
    .map_err(|e| a.failed(e))
}

/// Arguments of the peeking computations.
const PEEK: &[(&str, &str)] = &[("looks", "5"), ("z", "1.959963984540054")];

/// Arguments of the A/A simulations.
const PEEK_SIM: &[(&str, &str)] = &[
    ("looks", "5"),
    ("z", "1.959963984540054"),
    ("trials", "20000"),
    ("seed", "1"),
];

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "ab.normal_upper_quantile",
        description: "z with 1 − Φ(z) = p (Wichura's AS 241 in dlf_engine::normal)",
        args: &[("p", "0.025")],
        eval: |a| Ok(normal::upper_quantile(a.f64_in("p", 1e-300, 0.999_999)?)),
    },
    QuantitySpec {
        name: "ab.ztest_z",
        description: "two-proportion z statistic (p_B − p_A)/SE with the pooled or unpooled SE",
        args: ZTEST,
        eval: |a| Ok(ztest(a)?.z),
    },
    QuantitySpec {
        name: "ab.ztest_p",
        description: "p-value of the two-proportion z-test",
        args: ZTEST,
        eval: |a| Ok(ztest(a)?.p_value),
    },
    QuantitySpec {
        name: "ab.ztest_se",
        description: "the chosen standard error of p_B − p_A",
        args: ZTEST,
        eval: |a| {
            let t = ztest(a)?;
            Ok(if a.raw("se") == "pooled" { t.se_pooled } else { t.se_unpooled })
        },
    },
    QuantitySpec {
        name: "ab.ci_low",
        description: "lower end of the two-sided 1 − α Wald interval for p_B − p_A",
        args: ZTEST,
        eval: |a| Ok(ztest(a)?.ci_low),
    },
    QuantitySpec {
        name: "ab.ci_high",
        description: "upper end of the two-sided 1 − α Wald interval for p_B − p_A",
        args: ZTEST,
        eval: |a| Ok(ztest(a)?.ci_high),
    },
    QuantitySpec {
        name: "ab.sample_size",
        description: "users per arm (unrounded) to detect baseline·(1 + relative_lift) with the given α, power and formula",
        args: DESIGN,
        eval: n_per_arm,
    },
    QuantitySpec {
        name: "ab.sample_size_ratio",
        description: "users per arm under `formula` over users per arm under `other` for the same design",
        args: &[
            ("baseline", "0.05"),
            ("relative_lift", "0.05"),
            ("alpha", "0.05"),
            ("power", "0.8"),
            ("formula", "pooled"),
            ("other", "unpooled"),
            ("alternative", "two-sided"),
        ],
        eval: |a| {
            let d = design(a)?;
            let n1 = sample_size(formula(a, "formula")?, &d).map_err(|e| a.failed(e))?;
            let n2 = sample_size(formula(a, "other")?, &d).map_err(|e| a.failed(e))?;
            Ok(n1 / n2)
        },
    },
    QuantitySpec {
        name: "ab.days",
        description: "days of traffic for the design: ⌈2n/(daily users · allocation)⌉, or rounded up to whole weeks (weeks = 1)",
        args: &[
            ("baseline", "0.05"),
            ("relative_lift", "0.05"),
            ("alpha", "0.05"),
            ("power", "0.8"),
            ("formula", "unpooled"),
            ("alternative", "two-sided"),
            ("daily_users", "100000"),
            ("allocation", "1"),
            ("weeks", "0"),
        ],
        eval: |a| {
            let n = n_per_arm(a)?;
            let (days, weeks) = days_needed(
                n,
                2,
                a.f64_in("daily_users", 1.0, 1e12)?,
                a.f64_in("allocation", 1e-6, 1.0)?,
            );
            Ok(if a.flag("weeks")? { weeks } else { days })
        },
    },
    QuantitySpec {
        name: "ab.mde_relative",
        description: "minimum detectable relative lift (δ/p₁) for n users per arm under the formula",
        args: &[
            ("baseline", "0.05"),
            ("n", "100000"),
            ("alpha", "0.05"),
            ("power", "0.8"),
            ("formula", "unpooled"),
            ("alternative", "two-sided"),
        ],
        eval: |a| {
            let p1 = a.f64_in("baseline", 1e-6, 0.999)?;
            let d = Design {
                baseline: p1,
                treatment: p1 * 1.1,
                alpha: a.f64_in("alpha", 1e-12, 0.5)?,
                power: a.f64_in("power", 0.01, 0.999_999)?,
                alternative: alternative(a)?,
            };
            let n = a.f64_in("n", 1.0, 1e12)?;
            Ok(mde(formula(a, "formula")?, &d, n).map_err(|e| a.failed(e))? / p1)
        },
    },
    QuantitySpec {
        name: "ab.power",
        description: "power of n users per arm against baseline·(1 + relative_lift) under the formula",
        args: &[
            ("baseline", "0.05"),
            ("relative_lift", "0.05"),
            ("n", "100000"),
            ("alpha", "0.05"),
            ("power", "0.8"),
            ("formula", "unpooled"),
            ("alternative", "two-sided"),
        ],
        eval: |a| {
            let d = design(a)?;
            power_for(formula(a, "formula")?, &d, a.f64_in("n", 1.0, 1e13)?)
                .map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "ab.z_from_p",
        description: "the |z| a two-sided p-value implies: z_{p/2}",
        args: &[("p", "0.04")],
        eval: |a| Ok(normal::upper_quantile(a.f64_in("p", 1e-300, 1.0)? / 2.0)),
    },
    QuantitySpec {
        name: "ab.power_at_observed",
        description: "power against an effect equal to the observed one, for a two-sided test at α whose observed p-value was p: Φ(z_obs − z_{α/2}) + Φ(−z_obs − z_{α/2})",
        args: &[("p", "0.04"), ("alpha", "0.05")],
        eval: |a| {
            let z = normal::upper_quantile(a.f64_in("p", 1e-300, 1.0)? / 2.0);
            let c = normal::upper_quantile(a.f64_in("alpha", 1e-12, 0.5)? / 2.0);
            Ok(normal::sf(c - z) + normal::cdf(-c - z))
        },
    },
    QuantitySpec {
        name: "ab.mde_over_observed",
        description: "the effect the test had `power` for, over the observed effect: (z_{α/2} + z_β)/z_obs with z_obs from the p-value",
        args: &[("p", "0.04"), ("alpha", "0.05"), ("power", "0.8")],
        eval: |a| {
            let z = normal::upper_quantile(a.f64_in("p", 1e-300, 1.0)? / 2.0);
            let c = normal::upper_quantile(a.f64_in("alpha", 1e-12, 0.5)? / 2.0);
            Ok((c + normal::quantile(a.f64_in("power", 0.01, 0.999_999)?)) / z)
        },
    },
    QuantitySpec {
        name: "ab.implied_users",
        description: "users per arm implied by a two-sided p-value and an observed relative lift on a baseline: n = (p₁q₁ + p₂q₂)(z_obs/δ)²",
        args: &[("p", "0.04"), ("baseline", "0.05"), ("relative_lift", "0.003")],
        eval: |a| {
            let z = normal::upper_quantile(a.f64_in("p", 1e-300, 1.0)? / 2.0);
            let p1 = a.f64_in("baseline", 1e-6, 0.999)?;
            let p2 = p1 * (1.0 + a.f64_in("relative_lift", -0.99, 100.0)?);
            let d = p2 - p1;
            Ok((p1 * (1.0 - p1) + p2 * (1.0 - p2)) * (z / d) * (z / d))
        },
    },
    QuantitySpec {
        name: "ab.false_discovery_risk",
        description: "P(no real effect | significant winner) = (α/2)(1 − π)/((α/2)(1 − π) + power·π), π the share of ideas that truly win (Kohavi, Deng & Vermeer 2022)",
        args: &[("prior", "0.1"), ("alpha", "0.05"), ("power", "0.8")],
        eval: |a| {
            let pi = a.f64_in("prior", 1e-6, 1.0)?;
            let half = 0.5 * a.f64_in("alpha", 1e-12, 0.5)?;
            let pw = a.f64_in("power", 1e-6, 1.0)?;
            Ok(half * (1.0 - pi) / (half * (1.0 - pi) + pw * pi))
        },
    },
    QuantitySpec {
        name: "ab.exaggeration",
        description: "type M error E[|δ̂| | significant]/δ for a two-sided test at α whose power against the true effect is `power` (closed form, Gelman & Carlin 2014)",
        args: &[("power", "0.2"), ("alpha", "0.05")],
        eval: |a| Ok(curse(a)?.exaggeration),
    },
    QuantitySpec {
        name: "ab.type_s",
        description: "type S error: share of significant results with the wrong sign at the given power",
        args: &[("power", "0.2"), ("alpha", "0.05")],
        eval: |a| Ok(curse(a)?.type_s),
    },
    QuantitySpec {
        name: "ab.exaggeration_simulated",
        description: "the exaggeration ratio measured over `trials` simulated estimates N(λ, 1)",
        args: &[("power", "0.2"), ("alpha", "0.05"), ("trials", "200000"), ("seed", "3")],
        eval: |a| {
            let (lambda, z) = lambda_for_power(a)?;
            Ok(power::winners_curse_simulated(
                lambda,
                z,
                a.usize_in("trials", 100, 10_000_000)?,
                a.seed("seed")?,
            )
            .1)
        },
    },
    QuantitySpec {
        name: "ab.peeking_fpr",
        description: "false-positive rate of a two-sided fixed-z test checked at `looks` equally spaced looks (Armitage–McPherson–Rowe recursion)",
        args: PEEK,
        eval: |a| {
            Ok(fixed_z_false_positive_rate(
                a.f64_in("z", 0.1, 10.0)?,
                a.usize_in("looks", 1, 400)?,
            ))
        },
    },
    QuantitySpec {
        name: "ab.peeking_fpr_fine",
        description: "the same with 32 grid points per standard deviation instead of 8 (a convergence check)",
        args: PEEK,
        eval: |a| {
            let z = a.f64_in("z", 0.1, 10.0)?;
            let k = a.usize_in("looks", 1, 400)?;
            Ok(crossing_probabilities(&vec![z; k], 32).iter().sum())
        },
    },
    QuantitySpec {
        name: "ab.peeking_fpr_simulated",
        description: "the same rate measured on `trials` A/A experiments with normal increments",
        args: PEEK_SIM,
        eval: |a| {
            let k = a.usize_in("looks", 1, 400)?;
            let z = a.f64_in("z", 0.1, 10.0)?;
            let sim = simulate_normal(
                &vec![z; k],
                a.usize_in("trials", 100, 2_000_000)?,
                a.seed("seed")?,
            );
            Ok(sim.rate_by(k))
        },
    },
    QuantitySpec {
        name: "ab.peeking_fpr_binomial",
        description: "the same rate on A/A conversion experiments: 500 users per arm per look converting at 10 %, pooled z-test on the running counts",
        args: &[
            ("looks", "5"),
            ("z", "1.959963984540054"),
            ("trials", "4000"),
            ("seed", "2"),
        ],
        eval: |a| {
            let k = a.usize_in("looks", 1, 100)?;
            let z = a.f64_in("z", 0.1, 10.0)?;
            let sim = simulate_binomial(
                &vec![z; k],
                500,
                0.1,
                a.usize_in("trials", 100, 100_000)?,
                a.seed("seed")?,
            )
            .map_err(|e| a.failed(e))?;
            Ok(sim.rate_by(k))
        },
    },
    QuantitySpec {
        name: "ab.boundary_constant",
        description: "the constant of a fixed, Pocock or O'Brien–Fleming boundary for `looks` looks at two-sided level α (computed by bisection on the recursion)",
        args: &[("boundary", "pocock"), ("looks", "5"), ("alpha", "0.05")],
        eval: |a| {
            boundary_constant(
                boundary(a)?,
                a.usize_in("looks", 1, 200)?,
                a.f64_in("alpha", 1e-6, 0.5)?,
            )
            .map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "ab.boundary_first_look",
        description: "the z boundary at the first look of a `looks`-look design",
        args: &[("boundary", "obrien-fleming"), ("looks", "5"), ("alpha", "0.05")],
        eval: |a| {
            let b = boundary(a)?;
            let k = a.usize_in("looks", 1, 200)?;
            let c = boundary_constant(b, k, a.f64_in("alpha", 1e-6, 0.5)?)
                .map_err(|e| a.failed(e))?;
            Ok(b.z_bounds(c, k)[0])
        },
    },
    QuantitySpec {
        name: "ab.boundary_simulated_fpr",
        description: "A/A false-positive rate of a computed boundary, measured on `trials` simulated experiments",
        args: &[
            ("boundary", "pocock"),
            ("looks", "5"),
            ("alpha", "0.05"),
            ("trials", "40000"),
            ("seed", "4"),
        ],
        eval: |a| {
            let b = boundary(a)?;
            let k = a.usize_in("looks", 1, 200)?;
            let c = boundary_constant(b, k, a.f64_in("alpha", 1e-6, 0.5)?)
                .map_err(|e| a.failed(e))?;
            let sim = simulate_normal(
                &b.z_bounds(c, k),
                a.usize_in("trials", 100, 2_000_000)?,
                a.seed("seed")?,
            );
            Ok(sim.rate_by(k))
        },
    },
    QuantitySpec {
        name: "ab.boundary_max_n_inflation",
        description: "maximum sample size of a group-sequential design over the fixed design's at equal power (80 %, two-sided α = 0.05): the squared drift each needs, from the recursion with shifted increments",
        args: &[("boundary", "pocock"), ("looks", "5")],
        eval: |a| {
            let b = boundary(a)?;
            let k = a.usize_in("looks", 1, 50)?;
            let c = boundary_constant(b, k, 0.05).map_err(|e| a.failed(e))?;
            Ok(max_n_inflation(&b.z_bounds(c, k), 0.8))
        },
    },
    QuantitySpec {
        name: "ab.srm_p",
        description: "p-value of the χ² sample-ratio-mismatch check of two arms against a 50/50 split",
        args: &[("a", "50000"), ("b", "50600")],
        eval: |a| {
            let obs = [a.f64_in("a", 0.0, 1e12)?, a.f64_in("b", 0.0, 1e12)?];
            Ok(srm_test(&obs, &[1.0, 1.0]).map_err(|e| a.failed(e))?.p_value)
        },
    },
    QuantitySpec {
        name: "ab.cuped_variance_ratio",
        description: "variance of the CUPED-adjusted difference over the raw one across `trials` simulated A/B tests (theory 1 − ρ²)",
        args: &[("rho", "0.7"), ("n", "200"), ("trials", "300"), ("seed", "5")],
        eval: |a| {
            Ok(cuped::simulate(
                a.f64_in("rho", -0.999, 0.999)?,
                a.usize_in("n", 2, 100_000)?,
                0.1,
                a.usize_in("trials", 10, 100_000)?,
                a.seed("seed")?,
            )
            .0)
        },
    },
    QuantitySpec {
        name: "ab.cuped_theta",
        description: "θ = Cov(X, Y)/Var X estimated on one simulated experiment (n users per arm, Var X = Var Y = 1, so θ → ρ)",
        args: &[("rho", "0.7"), ("n", "5000"), ("seed", "6")],
        eval: |a| {
            let rho = a.f64_in("rho", -0.999, 0.999)?;
            let n = a.usize_in("n", 2, 1_000_000)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let (xa, ya) = cuped::simulate_arm(n, rho, 0.0, &mut rng);
            let (xb, yb) = cuped::simulate_arm(n, rho, 0.0, &mut rng);
            Ok(cuped::cuped(ArmData { x: &xa, y: &ya }, ArmData { x: &xb, y: &yb })
                .map_err(|e| a.failed(e))?
                .theta)
        },
    },
    QuantitySpec {
        name: "ab.delta_se_ratio",
        description: "delta-method SE of a click-through rate (clicks/views per user, views 1–9 per user) over the naive binomial SE that treats views as independent, on simulated users whose own CTR varies",
        args: &[("users", "20000"), ("seed", "7")],
        eval: |a| {
            let (x, y) = clustered_ctr(a.usize_in("users", 10, 1_000_000)?, a.seed("seed")?);
            let r = delta_ratio(&x, &y).map_err(|e| a.failed(e))?;
            Ok(r.se_delta / r.se_naive_binomial)
        },
    },
    QuantitySpec {
        name: "ab.delta_se_coverage",
        description: "the delta-method SE over the standard deviation of the ratio across `trials` simulated experiments (1 if the delta method is right)",
        args: &[("users", "1000"), ("trials", "200"), ("seed", "8")],
        eval: |a| {
            let users = a.usize_in("users", 10, 100_000)?;
            let trials = a.usize_in("trials", 10, 10_000)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let (mut ratios, mut ses) = (Vec::new(), Vec::new());
            for _ in 0..trials {
                let (x, y) = clustered_ctr(users, rng.next_u64() >> 11);
                let r = delta_ratio(&x, &y).map_err(|e| a.failed(e))?;
                ratios.push(r.ratio);
                ses.push(r.se_delta);
            }
            Ok(crate::stats::mean(&ses) / crate::stats::sample_variance(&ratios).sqrt())
        },
    },
    QuantitySpec {
        name: "ab.familywise",
        description: "P(at least one of m independent null tests at level α is significant) = 1 − (1 − α)^m",
        args: &[("m", "20"), ("alpha", "0.05")],
        eval: |a| {
            let m = a.usize_in("m", 1, 1_000_000)?;
            let alpha = a.f64_in("alpha", 0.0, 1.0)?;
            Ok(1.0 - crate::math::powf(1.0 - alpha, m as f64))
        },
    },
    QuantitySpec {
        name: "ab.n_ratio",
        description: "users needed at (alpha, power, alternative) over users needed at α = 0.05 two-sided, 80 % power, for the same effect (unpooled formula, 5 % → 5.25 %)",
        args: &[("alpha", "0.05"), ("power", "0.8"), ("alternative", "two-sided")],
        eval: |a| {
            let d = Design {
                baseline: 0.05,
                treatment: 0.0525,
                alpha: a.f64_in("alpha", 1e-12, 0.5)?,
                power: a.f64_in("power", 0.01, 0.999_999)?,
                alternative: alternative(a)?,
            };
            let reference = Design {
                alpha: 0.05,
                power: 0.8,
                alternative: Alternative::TwoSided,
                ..d
            };
            let f = SampleSizeFormula::Unpooled;
            Ok(sample_size(f, &d).map_err(|e| a.failed(e))?
                / sample_size(f, &reference).map_err(|e| a.failed(e))?)
        },
    },
    QuantitySpec {
        name: "ab.z_sum_squared",
        description: "(z_{α/2} + z_β)², the constant of the two-sided sample-size formula",
        args: &[("alpha", "0.05"), ("power", "0.8")],
        eval: |a| {
            let s = normal::upper_quantile(a.f64_in("alpha", 1e-12, 0.5)? / 2.0)
                + normal::quantile(a.f64_in("power", 0.01, 0.999_999)?);
            Ok(s * s)
        },
    },
];

/// `λ` (the true effect in standard errors) for which a two-sided test at α has the argument `power`,
/// and the critical value.
fn lambda_for_power(a: &Args) -> Result<(f64, f64), QuantityError> {
    let z = normal::upper_quantile(a.f64_in("alpha", 1e-12, 0.5)? / 2.0);
    let target = a.f64_in("power", 0.06, 0.999_999)?;
    // Power rises with λ; bisection on [0, z + 10].
    let (mut lo, mut hi) = (0.0, z + 10.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if winners_curse(mid, z).power < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok((0.5 * (lo + hi), z))
}

fn curse(a: &Args) -> Result<power::WinnersCurse, QuantityError> {
    let (lambda, z) = lambda_for_power(a)?;
    Ok(winners_curse(lambda, z))
}

/// The drift (expected final z) a sequential design needs for `power`, squared, over the fixed design's
/// `(z_{α/2} + z_β)²`: the ratio of maximum sample sizes. The drift is found by bisection; the power of
/// a drift θ is one minus the probability of staying inside the boundaries, computed by the same recursion
/// on the shifted increments (each increment has mean θ/√K).
fn max_n_inflation(z_bounds: &[f64], power: f64) -> f64 {
    let k = z_bounds.len();
    let fixed = normal::upper_quantile(0.025) + normal::quantile(power);
    let reject = |theta: f64| sequential_power(z_bounds, theta / (k as f64).sqrt());
    let (mut lo, mut hi) = (0.0, 3.0 * fixed);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if reject(mid) < power {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let theta = 0.5 * (lo + hi);
    (theta / fixed) * (theta / fixed)
}

/// P(cross at some look) when each increment is `N(μ, 1)`: the recursion of [`crossing_probabilities`]
/// with the increments' density shifted by μ (a plain sum; this runs only for claims, not in a widget).
fn sequential_power(z_bounds: &[f64], mu: f64) -> f64 {
    // Integrate on the uncentred scale: f_k(s) on [−b_k, b_k], increments N(μ, 1).
    let r = POINTS_PER_SD as f64;
    let b1 = z_bounds[0];
    let mut total = normal::sf(b1 - mu) + normal::cdf(-b1 - mu);
    let make = |b: f64| {
        let mut m = ((2.0 * b * r).ceil() as usize).max(2);
        m += m % 2;
        let h = 2.0 * b / m as f64;
        let pts: Vec<f64> = (0..=m).map(|i| -b + i as f64 * h).collect();
        let w: Vec<f64> = (0..=m)
            .map(|i| {
                let c = if i == 0 || i == m {
                    1.0
                } else if i % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                c * h / 3.0
            })
            .collect();
        (pts, w)
    };
    let (mut u, mut w) = make(b1);
    let mut f: Vec<f64> = u.iter().map(|&x| normal::pdf(x - mu)).collect();
    for (k, &c) in z_bounds.iter().enumerate().skip(1) {
        let b = c * ((k + 1) as f64).sqrt();
        let mass: Vec<f64> = w.iter().zip(&f).map(|(w, f)| w * f).collect();
        total += u
            .iter()
            .zip(&mass)
            .map(|(&x, m)| m * (normal::sf(b - x - mu) + normal::cdf(-b - x - mu)))
            .sum::<f64>();
        if k + 1 == z_bounds.len() {
            break;
        }
        let (nu, nw) = make(b);
        let nf = nu
            .iter()
            .map(|&s| {
                u.iter()
                    .zip(&mass)
                    .map(|(&x, m)| m * normal::pdf(s - x - mu))
                    .sum()
            })
            .collect();
        u = nu;
        w = nw;
        f = nf;
    }
    total
}

/// Simulated users for a click-through rate: views 1–9 per user, each user with their own CTR drawn from
/// {0.02, 0.1, 0.3} (heavy and light clickers), clicks binomial given views. Returns (views, clicks).
fn clustered_ctr(users: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(users);
    let mut y = Vec::with_capacity(users);
    for _ in 0..users {
        let views = 1 + rng.below(9) as u64;
        let ctr = rng.pick(&[0.02, 0.1, 0.3]);
        let clicks = crate::lessons::ab::sequential::binomial(views, ctr, &mut rng);
        x.push(views as f64);
        y.push(clicks as f64);
    }
    (x, y)
}

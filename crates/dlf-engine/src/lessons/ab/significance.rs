//! The tests an experiment's readout runs: the two-proportion z-test with its interval, the t-test for
//! means (Welch's and Student's), the sample-ratio-mismatch check and the delta method for ratio metrics.

use super::{fail, AbError, Alternative, StdError};
use crate::lessons::ab::tdist::{t_sf, t_upper_quantile};
use crate::normal;

/// One arm of a conversion experiment: `conversions` of `users`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arm {
    /// Users who converted.
    pub conversions: f64,
    /// Users exposed.
    pub users: f64,
}

impl Arm {
    /// The conversion rate.
    pub fn rate(self) -> f64 {
        self.conversions / self.users
    }

    fn check(self, which: &str) -> Result<(), AbError> {
        if !(self.users >= 1.0 && self.users.is_finite()) {
            return fail(format!("{which} needs at least one user, got {}", self.users));
        }
        if !(0.0..=self.users).contains(&self.conversions) {
            return fail(format!(
                "{which} has {} conversions, which must lie between 0 and its {} users",
                self.conversions, self.users
            ));
        }
        Ok(())
    }
}

/// The two-proportion z-test of `B − A` with every intermediate quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTest {
    /// Control's rate `p_A`.
    pub p_a: f64,
    /// Treatment's rate `p_B`.
    pub p_b: f64,
    /// The pooled rate `(x_A + x_B)/(n_A + n_B)`.
    pub pooled: f64,
    /// `p_B − p_A`.
    pub diff: f64,
    /// `(p_B − p_A)/p_A`.
    pub relative_lift: f64,
    /// The pooled standard error `√(p̄(1 − p̄)(1/n_A + 1/n_B))`.
    pub se_pooled: f64,
    /// The unpooled (Wald) standard error `√(p_A q_A/n_A + p_B q_B/n_B)`.
    pub se_unpooled: f64,
    /// The statistic `diff / se` with the chosen standard error.
    pub z: f64,
    /// The p-value under the chosen alternative.
    pub p_value: f64,
    /// The critical value (`z_{α/2}` or `z_α`).
    pub critical: f64,
    /// The two-sided `1 − α` Wald interval `diff ± z_{α/2} · se_unpooled` (statsmodels
    /// `confint_proportions_2indep(method="wald")`).
    pub ci_low: f64,
    /// Its upper end.
    pub ci_high: f64,
}

/// The two-proportion z-test (the normal approximation to the binomial; e.g. Fleiss, Levin & Paik,
/// "Statistical Methods for Rates and Proportions", 3rd ed. 2003, §3): `z = (p_B − p_A)/SE`.
///
/// # Errors
/// An arm with no users, conversions outside `[0, users]`, `alpha` outside (0, 1), or a zero standard
/// error (both arms at 0 % or both at 100 %).
pub fn two_proportion_ztest(
    a: Arm,
    b: Arm,
    se: StdError,
    alternative: Alternative,
    alpha: f64,
) -> Result<ZTest, AbError> {
    a.check("control (A)")?;
    b.check("treatment (B)")?;
    if !(alpha > 0.0 && alpha < 1.0) {
        return fail(format!("alpha must lie in (0, 1), got {alpha}"));
    }
    let (p_a, p_b) = (a.rate(), b.rate());
    let pooled = (a.conversions + b.conversions) / (a.users + b.users);
    let se_pooled = (pooled * (1.0 - pooled) * (1.0 / a.users + 1.0 / b.users)).sqrt();
    let se_unpooled = (p_a * (1.0 - p_a) / a.users + p_b * (1.0 - p_b) / b.users).sqrt();
    let s = match se {
        StdError::Pooled => se_pooled,
        StdError::Unpooled => se_unpooled,
    };
    if s <= 0.0 {
        return fail(format!(
            "the {} standard error is 0 (every user in both arms converted, or none did), so z is undefined",
            se.name()
        ));
    }
    let diff = p_b - p_a;
    let z = diff / s;
    let half = normal::upper_quantile(alpha / 2.0) * se_unpooled;
    Ok(ZTest {
        p_a,
        p_b,
        pooled,
        diff,
        relative_lift: diff / p_a,
        se_pooled,
        se_unpooled,
        z,
        p_value: alternative.p_value(z),
        critical: alternative.critical(alpha),
        ci_low: diff - half,
        ci_high: diff + half,
    })
}

/// Which variance the t-test assumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TTestVariance {
    /// Welch (1947): each arm its own variance, `SE² = s_A²/n_A + s_B²/n_B`, Welch–Satterthwaite degrees of
    /// freedom (scipy `ttest_ind(equal_var=False)`; the safe default in experiments).
    Welch,
    /// Student: one pooled variance `s_p² = ((n_A−1)s_A² + (n_B−1)s_B²)/(n_A+n_B−2)`, `n_A + n_B − 2`
    /// degrees of freedom (scipy `ttest_ind`'s default, `equal_var=True`).
    Student,
}

impl TTestVariance {
    /// Parses `welch` or `student` (`pooled`).
    pub fn parse(s: &str) -> Option<TTestVariance> {
        match s.trim().to_ascii_lowercase().as_str() {
            "welch" | "unequal" => Some(TTestVariance::Welch),
            "student" | "pooled" | "equal" => Some(TTestVariance::Student),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            TTestVariance::Welch => "welch",
            TTestVariance::Student => "student",
        }
    }
}

/// A t-test of `mean_B − mean_A` from summary statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// `mean_B − mean_A`.
    pub diff: f64,
    /// Its standard error.
    pub se: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// `diff / se`.
    pub t: f64,
    /// The p-value.
    pub p_value: f64,
    /// The two-sided `1 − α` interval `diff ± t_{α/2, df} · se`.
    pub ci_low: f64,
    /// Its upper end.
    pub ci_high: f64,
}

/// Summary statistics of one arm for a t-test: mean, sample standard deviation (n − 1), size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The arm's mean.
    pub mean: f64,
    /// Its sample standard deviation (with n − 1).
    pub sd: f64,
    /// Its size.
    pub n: f64,
}

/// Welch's or Student's two-sample t-test (Welch, "The generalization of 'Student's' problem when several
/// different population variances are involved", Biometrika 1947).
///
/// # Errors
/// An arm with fewer than two observations or a non-positive total variance, `alpha` outside (0, 1).
pub fn welch_or_student(
    a: Summary,
    b: Summary,
    variance: TTestVariance,
    alternative: Alternative,
    alpha: f64,
) -> Result<TTest, AbError> {
    for (s, which) in [(a, "control (A)"), (b, "treatment (B)")] {
        if s.n.is_nan() || s.n < 2.0 || s.sd.is_nan() || s.sd < 0.0 {
            return fail(format!(
                "{which} needs n ≥ 2 and sd ≥ 0, got n = {}, sd = {}",
                s.n, s.sd
            ));
        }
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return fail(format!("alpha must lie in (0, 1), got {alpha}"));
    }
    let (va, vb) = (a.sd * a.sd / a.n, b.sd * b.sd / b.n);
    let (se, df) = match variance {
        TTestVariance::Welch => {
            let se2 = va + vb;
            let df = se2 * se2 / (va * va / (a.n - 1.0) + vb * vb / (b.n - 1.0));
            (se2.sqrt(), df)
        }
        TTestVariance::Student => {
            let df = a.n + b.n - 2.0;
            let sp2 = ((a.n - 1.0) * a.sd * a.sd + (b.n - 1.0) * b.sd * b.sd) / df;
            ((sp2 * (1.0 / a.n + 1.0 / b.n)).sqrt(), df)
        }
    };
    if se.is_nan() || se <= 0.0 {
        return fail("both arms have zero variance, so t is undefined");
    }
    let diff = b.mean - a.mean;
    let t = diff / se;
    let p_value = match alternative {
        Alternative::TwoSided => 2.0 * t_sf(t.abs(), df),
        Alternative::Larger => t_sf(t, df),
        Alternative::Smaller => t_sf(-t, df),
    };
    let half = t_upper_quantile(alpha / 2.0, df) * se;
    Ok(TTest {
        diff,
        se,
        df,
        t,
        p_value,
        ci_low: diff - half,
        ci_high: diff + half,
    })
}

/// The sample-ratio-mismatch check: Pearson's χ² goodness-of-fit of the observed arm sizes against the
/// designed split.
#[derive(Debug, Clone, PartialEq)]
pub struct Srm {
    /// Expected users per arm: total × weight / Σ weights.
    pub expected: Vec<f64>,
    /// `Σ (observed − expected)²/expected`.
    pub chi2: f64,
    /// Degrees of freedom: arms − 1.
    pub df: usize,
    /// `P(χ²_df > chi2)`.
    pub p_value: f64,
}

/// Pearson's χ² test of the arm sizes (Pearson 1900; `scipy.stats.chisquare`). An SRM at p < 0.0005 (the
/// threshold Fabijan et al., "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments", KDD 2019,
/// report using) means the assignment or the logging is broken and the experiment's result cannot be trusted.
///
/// # Errors
/// Fewer than two arms, a different number of weights, a negative count or a non-positive weight.
pub fn srm_test(observed: &[f64], weights: &[f64]) -> Result<Srm, AbError> {
    if observed.len() < 2 {
        return fail("the SRM check needs at least two arms");
    }
    if weights.len() != observed.len() {
        return fail(format!(
            "{} arms but {} weights: give one weight per arm",
            observed.len(),
            weights.len()
        ));
    }
    if let Some(i) = observed.iter().position(|&o| o.is_nan() || o < 0.0) {
        return fail(format!("observed[{i}] must be a count ≥ 0"));
    }
    if let Some(i) = weights.iter().position(|&w| !(w > 0.0 && w.is_finite())) {
        return fail(format!("weights[{i}] must be positive"));
    }
    let total: f64 = observed.iter().sum();
    if total.is_nan() || total <= 0.0 {
        return fail("no users observed");
    }
    let wsum: f64 = weights.iter().sum();
    let expected: Vec<f64> = weights.iter().map(|w| total * w / wsum).collect();
    let chi2 = observed
        .iter()
        .zip(&expected)
        .map(|(o, e)| (o - e) * (o - e) / e)
        .sum();
    let df = observed.len() - 1;
    Ok(Srm {
        expected,
        chi2,
        df,
        p_value: chi2_sf(chi2, df),
    })
}

/// `P(χ²_k > x)` for a whole number of degrees of freedom `k ≥ 1`, in closed form (Abramowitz & Stegun
/// 26.4.4–26.4.5): for even `k`, `e^{−x/2} Σ_{j<k/2} (x/2)^j/j!`; for odd `k`,
/// `2(1 − Φ(√x)) + 2φ(√x) Σ_{j=1}^{(k−1)/2} x^{j−1/2}/(1·3·5···(2j−1))`.
pub fn chi2_sf(x: f64, k: usize) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if k % 2 == 0 {
        let half = 0.5 * x;
        let (mut term, mut sum) = (1.0, 1.0);
        for j in 1..k / 2 {
            term *= half / j as f64;
            sum += term;
        }
        crate::math::exp(-half) * sum
    } else {
        let r = x.sqrt();
        let (mut term, mut sum) = (r, 0.0);
        for j in 1..=(k - 1) / 2 {
            if j > 1 {
                term *= x / (2 * j - 1) as f64;
            }
            sum += term;
        }
        2.0 * normal::sf(r) + 2.0 * normal::pdf(r) * sum
    }
}

/// A ratio metric `R = Σ y / Σ x` over users (clicks per page view, revenue per session) with its delta-
/// method standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioEstimate {
    /// `ȳ / x̄`.
    pub ratio: f64,
    /// The delta-method standard error
    /// `√((1/n)(s_y² − 2R s_xy + R² s_x²)/x̄²)`.
    pub se_delta: f64,
    /// The naive standard error that treats each page view as independent:
    /// `√(R(1 − R)/Σx)` for a click-through rate (valid only when every user has one view).
    pub se_naive_binomial: f64,
}

/// The delta method for the ratio of two means (Deng, Knoblich & Lu, "Applying the Delta Method in Metric
/// Analytics: A Practical Guide with Novel Ideas", KDD 2018): with per-user pairs `(x_i, y_i)` independent
/// across users, `Var(ȳ/x̄) ≈ (1/n)(σ_y² − 2R σ_xy + R² σ_x²)/μ_x²`, a first-order Taylor expansion of
/// `f(ȳ, x̄) = ȳ/x̄` around the means.
///
/// # Errors
/// Fewer than two users, `x` and `y` of different lengths, or `x̄ ≤ 0`.
pub fn delta_ratio(x: &[f64], y: &[f64]) -> Result<RatioEstimate, AbError> {
    if x.len() != y.len() || x.len() < 2 {
        return fail(format!(
            "the delta method needs the same number (≥ 2) of x and y values, got {} and {}",
            x.len(),
            y.len()
        ));
    }
    let n = x.len() as f64;
    let (mx, my) = (crate::stats::mean(x), crate::stats::mean(y));
    if mx.is_nan() || mx <= 0.0 {
        return fail("the mean of x (the denominator) must be positive");
    }
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
        sxy += (a - mx) * (b - my);
    }
    let (sxx, syy, sxy) = (sxx / (n - 1.0), syy / (n - 1.0), sxy / (n - 1.0));
    let r = my / mx;
    let var = (syy - 2.0 * r * sxy + r * r * sxx) / (mx * mx * n);
    let total_x: f64 = x.iter().sum();
    Ok(RatioEstimate {
        ratio: r,
        se_delta: var.max(0.0).sqrt(),
        se_naive_binomial: (r * (1.0 - r) / total_x).max(0.0).sqrt(),
    })
}

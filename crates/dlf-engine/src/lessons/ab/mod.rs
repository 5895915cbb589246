//! A/B testing (lesson 10): the two-proportion z-test with pooled and unpooled standard errors, Welch's and
//! Student's t-tests, the delta method for ratio metrics, the sample-ratio-mismatch check, sample size and
//! the minimum detectable effect under the formula variants libraries use, the winner's curse, peeking and
//! group-sequential boundaries, and CUPED.
//!
//! - [`significance`]: the two-proportion z-test, the t-tests ([`tdist`] holds Student's t distribution), the
//!   SRM check and the delta method.
//! - [`power`]: sample size, MDE, power and the exaggeration of significant estimates.
//! - [`sequential`]: the false-positive rate of repeated looks by numerical integration (Armitage, McPherson
//!   & Rowe 1969), Pocock and O'Brien–Fleming constants, and A/A simulations of peeking.
//! - [`cuped`]: CUPED (Deng, Xu, Kohavi & Walker 2013) on data and in simulation.
//!
//! The normal CDF and quantile come from [`crate::normal`] (full double precision in both tails).

pub mod cuped;
mod estimates;
pub mod power;
mod quantities;
pub mod sequential;
pub mod tdist;
pub mod significance;
#[cfg(test)]
mod tests;

pub use significance::{
    delta_ratio, srm_test, two_proportion_ztest, welch_or_student, Arm, RatioEstimate, Srm, Summary,
    TTest, TTestVariance, ZTest,
};

/// Lesson 10's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "ab",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

/// An input the statistics cannot use (a rate outside (0, 1), too few users, a non-positive variance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbError(pub String);

impl std::fmt::Display for AbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AbError {}

/// `Err(AbError(message))`.
pub(crate) fn fail<T>(message: impl Into<String>) -> Result<T, AbError> {
    Err(AbError(message.into()))
}

/// Which standard error the two-proportion z statistic divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdError {
    /// `√(p̄(1 − p̄)(1/n_A + 1/n_B))` with the pooled rate `p̄`: the variance under H0 (p_A = p_B), used by
    /// the classical test (statsmodels `proportions_ztest`, R `prop.test` without correction).
    Pooled,
    /// `√(p_A(1 − p_A)/n_A + p_B(1 − p_B)/n_B)`: the Wald standard error, which every interval uses
    /// (statsmodels `test_proportions_2indep(method="wald")`).
    Unpooled,
}

impl StdError {
    /// Parses `pooled` or `unpooled` (`wald`).
    pub fn parse(s: &str) -> Option<StdError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pooled" => Some(StdError::Pooled),
            "unpooled" | "wald" => Some(StdError::Unpooled),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            StdError::Pooled => "pooled",
            StdError::Unpooled => "unpooled",
        }
    }
}

/// The alternative hypothesis, for the difference `B − A` (treatment minus control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// `B ≠ A`: p = 2(1 − Φ(|z|)).
    TwoSided,
    /// `B > A`: p = 1 − Φ(z).
    Larger,
    /// `B < A`: p = Φ(z).
    Smaller,
}

impl Alternative {
    /// Parses `two-sided`, `larger` or `smaller` (scipy's and statsmodels' spellings).
    pub fn parse(s: &str) -> Option<Alternative> {
        match s.trim().to_ascii_lowercase().as_str() {
            "two-sided" | "two_sided" | "twosided" => Some(Alternative::TwoSided),
            "larger" | "greater" => Some(Alternative::Larger),
            "smaller" | "less" => Some(Alternative::Smaller),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Alternative::TwoSided => "two-sided",
            Alternative::Larger => "larger",
            Alternative::Smaller => "smaller",
        }
    }

    /// The p-value of a standard-normal statistic `z`.
    pub fn p_value(self, z: f64) -> f64 {
        match self {
            Alternative::TwoSided => 2.0 * crate::normal::sf(z.abs()),
            Alternative::Larger => crate::normal::sf(z),
            Alternative::Smaller => crate::normal::cdf(z),
        }
    }

    /// The critical value: `z_{α/2}` two-sided, `z_α` one-sided.
    pub fn critical(self, alpha: f64) -> f64 {
        match self {
            Alternative::TwoSided => crate::normal::upper_quantile(alpha / 2.0),
            _ => crate::normal::upper_quantile(alpha),
        }
    }
}

//! The standard normal distribution to full double precision: the CDF `Φ`, its upper tail `1 − Φ`, the
//! density `φ` and the quantile `Φ⁻¹`, in both tails.
//!
//! - `Φ(x) = erfc(−x/√2)/2` and `1 − Φ(x) = erfc(x/√2)/2` use the engine's own `erfc`
//!   ([`crate::activation::erfc`]), which is accurate relative to its own size out to `erfc(27)` (measured
//!   against mpmath in `activation`), so `Φ(−37)` ≈ 5.7e-300 keeps its digits instead of being `1 − 1`.
//! - `Φ⁻¹(p)` is Wichura's algorithm AS 241 (PPND16: M. J. Wichura, "Algorithm AS 241: The Percentage
//!   Points of the Normal Distribution", Applied Statistics 37(3), 1988, 477–484): rational functions of
//!   degree 7/7 in `r = 0.180625 − (p − ½)²` near the centre, and in `√(−ln min(p, 1 − p))` in the tails,
//!   accurate to about 1 part in 10¹⁶. [`upper_quantile`] takes a small upper-tail probability directly, so
//!   `z_{α/2}` for α = 1e-12 does not pass through `1 − α/2`, which has lost most of α's digits.
//!
//! These are shared numerics (lesson 10 uses them for every test, interval and sample size), so they live
//! here rather than in a lesson's folder. The tests compare them with scipy at many points, deep tails
//! included.

use crate::activation::erfc;
use std::f64::consts::FRAC_1_SQRT_2;

/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `Φ(x) = P(Z ≤ x)` for a standard normal `Z`.
pub fn cdf(x: f64) -> f64 {
    0.5 * erfc(-x * FRAC_1_SQRT_2)
}

/// `1 − Φ(x) = P(Z > x)`, accurate relative to its own size for large `x` (where `1 − cdf(x)` cancels).
pub fn sf(x: f64) -> f64 {
    0.5 * erfc(x * FRAC_1_SQRT_2)
}

/// The density `φ(x) = e^{−x²/2}/√(2π)`.
pub fn pdf(x: f64) -> f64 {
    crate::math::exp(-0.5 * x * x) * FRAC_1_SQRT_2PI
}

/// `Φ⁻¹(p)`, the `z` with `Φ(z) = p`; `−∞` at 0, `+∞` at 1, NaN outside `[0, 1]` (Wichura's AS 241).
pub fn quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        return q * central(0.180_625 - q * q);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let z = tail_deviate(tail);
    if q < 0.0 {
        -z
    } else {
        z
    }
}

/// `z` with `1 − Φ(z) = p`, i.e. `−Φ⁻¹(p)`: the upper critical value for a tail probability `p`
/// (`upper_quantile(0.025)` = 1.959963984540054), computed from `p` itself so a tiny `p` keeps its digits.
pub fn upper_quantile(p: f64) -> f64 {
    -quantile(p)
}

/// AS 241's central rational function: `Φ⁻¹(½ + q) = q · R(0.180625 − q²)` for `|q| ≤ 0.425`.
fn central(r: f64) -> f64 {
    let num = ((((((((2_509.080_928_730_122_7 * r) + 33_430.575_583_588_13) * r
        + 67_265.770_927_008_7)
        * r
        + 45_921.953_931_549_87)
        * r
        + 13_731.693_765_509_46)
        * r
        + 1_971.590_950_306_551_4)
        * r
        + 133.141_667_891_784_38)
        * r)
        + 3.387_132_872_796_366_6;
    let den = ((((((((5_226.495_278_852_854 * r) + 28_729.085_735_721_943) * r
        + 39_307.895_800_092_71)
        * r
        + 21_213.794_301_586_596)
        * r
        + 5_394.196_021_424_751)
        * r
        + 687.187_007_492_057_9)
        * r
        + 42.313_330_701_600_91)
        * r)
        + 1.0;
    num / den
}

/// AS 241's tail: `Φ⁻¹(1 − t)` for `0 < t < 0.075`, from `r = √(−ln t)`.
fn tail_deviate(t: f64) -> f64 {
    let r = (-crate::math::ln(t)).sqrt();
    if r <= 5.0 {
        let r = r - 1.6;
        let num = ((((((((7.745_450_142_783_414e-4 * r) + 0.022_723_844_989_269_184) * r
            + 0.241_780_725_177_450_6)
            * r
            + 1.270_458_252_452_368_4)
            * r
            + 3.647_848_324_763_204_6)
            * r
            + 5.769_497_221_460_691)
            * r
            + 4.630_337_846_156_545)
            * r)
            + 1.423_437_110_749_683_6;
        let den = ((((((((1.050_750_071_644_416_8e-9 * r) + 5.475_938_084_995_345e-4) * r
            + 0.015_198_666_563_616_457)
            * r
            + 0.148_103_976_427_480_08)
            * r
            + 0.689_767_334_985_1)
            * r
            + 1.676_384_830_183_803_8)
            * r
            + 2.053_191_626_637_759)
            * r)
            + 1.0;
        num / den
    } else {
        let r = r - 5.0;
        let num = ((((((((2.010_334_399_292_288_1e-7 * r) + 2.711_555_568_743_487_6e-5) * r
            + 0.001_242_660_947_388_078_4)
            * r
            + 0.026_532_189_526_576_124)
            * r
            + 0.296_560_571_828_504_9)
            * r
            + 1.784_826_539_917_291_3)
            * r
            + 5.463_784_911_164_114)
            * r)
            + 6.657_904_643_501_103;
        let den = ((((((((2.044_263_103_389_939_8e-15 * r) + 1.421_511_758_316_446e-7) * r
            + 1.846_318_317_510_054_7e-5)
            * r
            + 7.868_691_311_456_133e-4)
            * r
            + 0.014_875_361_290_850_615)
            * r
            + 0.136_929_880_922_735_8)
            * r
            + 0.599_832_206_555_887_9)
            * r)
            + 1.0;
        num / den
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(x, Φ(x), 1 − Φ(x))` correctly rounded, from mpmath at 50 digits; scipy's `norm.cdf`/`norm.sf`
    /// (Cephes' `ndtr`) agree with these to within 2.1e-16·(1 + x²) relative at every point:
    ///
    ///   import mpmath; mpmath.mp.dps = 50
    ///   for x in xs: print((x, float(mpmath.ncdf(x)), float(1 - mpmath.ncdf(x))))
    const CDF: &[(f64, f64, f64)] = &[
        (-37.0, 5.725571222524577e-300, 1.0),
        (-30.0, 4.906713927148187e-198, 1.0),
        (-20.0, 2.7536241186062337e-89, 1.0),
        (-12.0, 1.776482112077679e-33, 1.0),
        (-8.5, 9.479534822203318e-18, 1.0),
        (-6.0, 9.86587645037698e-10, 0.9999999990134123),
        (-4.0, 3.1671241833119924e-05, 0.9999683287581669),
        (-3.0, 0.0013498980316300946, 0.9986501019683699),
        (-2.5, 0.006209665325776135, 0.9937903346742238),
        (-1.959963984540054, 0.025000000000000012, 0.975),
        (-1.0, 0.15865525393145705, 0.8413447460685429),
        (-0.3, 0.3820885778110474, 0.6179114221889527),
        (0.0, 0.5, 0.5),
        (0.3, 0.6179114221889527, 0.3820885778110474),
        (1.0, 0.8413447460685429, 0.15865525393145705),
        (1.6448536269514722, 0.95, 0.05000000000000005),
        (2.0, 0.9772498680518208, 0.02275013194817921),
        (3.5, 0.9997673709209645, 0.00023262907903552504),
        (5.0, 0.9999997133484281, 2.866515718791939e-07),
        (7.0, 0.9999999999987201, 1.279812543885835e-12),
        (8.0, 0.9999999999999993, 6.220960574271784e-16),
        (9.5, 1.0, 1.0494515075362608e-21),
    ];

    /// `(p, Φ⁻¹(p))` from `scipy.stats.norm.ppf(p)` (Cephes' `ndtri`), the same script.
    const PPF: &[(f64, f64)] = &[
        (1e-300, -37.0470962993612),
        (1e-100, -21.273453560965322),
        (1e-30, -11.464024688443613),
        (1e-15, -7.941345326170998),
        (1e-10, -6.361340902404056),
        (1e-06, -4.753424308822899),
        (0.0001, -3.7190164854556804),
        (0.001, -3.090232306167813),
        (0.01, -2.3263478740408408),
        (0.025, -1.9599639845400545),
        (0.05, -1.6448536269514729),
        (0.075, -1.4395314709384563),
        (0.0751, -1.4388253927525403),
        (0.1, -1.2815515655446004),
        (0.2, -0.8416212335729142),
        (0.3, -0.5244005127080409),
        (0.4, -0.2533471031357997),
        (0.5, 0.0),
        (0.6, 0.2533471031357997),
        (0.75, 0.6744897501960817),
        (0.9, 1.2815515655446004),
        (0.95, 1.6448536269514722),
        (0.975, 1.959963984540054),
        (0.99, 2.3263478740408408),
        (0.999, 3.090232306167813),
        (0.9999, 3.719016485455709),
    ];

    fn rel(a: f64, b: f64) -> f64 {
        if b == 0.0 {
            a.abs()
        } else {
            ((a - b) / b).abs()
        }
    }

    #[test]
    fn cdf_and_upper_tail_are_correctly_rounded_to_within_their_conditioning_in_both_tails() {
        for &(x, c, s) in CDF {
            // The argument x/√2 is rounded once, which moves erfc by about x²·2⁻⁵³ relative to itself
            // (the condition number of Φ in the tail), so the bound grows with x².
            let bound = 4e-16 * (2.0 + x * x);
            assert!(rel(cdf(x), c) < bound, "Φ({x}) = {:e} vs {c:e}", cdf(x));
            assert!(rel(sf(x), s) < bound, "1 − Φ({x}) = {:e} vs {s:e}", sf(x));
        }
    }

    #[test]
    fn quantile_matches_scipy_from_1e_300_to_the_upper_tail() {
        for &(p, z) in PPF {
            assert!(
                rel(quantile(p), z) < 2e-15,
                "Φ⁻¹({p}) = {} vs {z}",
                quantile(p)
            );
        }
        assert!(rel(upper_quantile(0.025), 1.959963984540054) < 2e-15);
        assert_eq!(quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(quantile(1.0), f64::INFINITY);
        assert!(quantile(1.5).is_nan() && quantile(-0.1).is_nan() && quantile(f64::NAN).is_nan());
    }

    #[test]
    fn quantile_inverts_the_cdf_over_the_whole_range() {
        // Round trip Φ(Φ⁻¹(p)) = p, relative to p in the lower tail, where p carries all its digits.
        for k in 1..=600 {
            let p = crate::math::powf(10.0, -(k as f64) / 2.0);
            // A relative error ε in z moves p by about z²ε relative to p (d ln Φ/dz ≈ −z in the tail).
            let z = quantile(p);
            assert!(rel(cdf(z), p) < 1e-15 * (1.0 + z * z), "p = {p}");
        }
        for k in 1..1000 {
            let p = k as f64 / 1000.0;
            assert!((cdf(quantile(p)) - p).abs() < 4e-16, "p = {p}");
        }
    }

    #[test]
    fn the_density_is_the_derivative_of_the_cdf() {
        for k in -40..=40 {
            let x = k as f64 * 0.2;
            let h = 1e-5;
            let fd = (cdf(x + h) - cdf(x - h)) / (2.0 * h);
            assert!((fd - pdf(x)).abs() < 1e-9, "x = {x}");
        }
    }
}

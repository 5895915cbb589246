//! Activation functions, their derivatives, and the error function `erf` that the exact GELU needs.
//!
//! | activation | `f(x)` | `f'(x)` | source |
//! | --- | --- | --- | --- |
//! | ReLU | `max(0, x)` | `1` if `x > 0`, else `0` | Nair & Hinton, ICML 2010 |
//! | tanh | `tanh x` | `1 - tanh² x` | |
//! | sigmoid | `σ(x) = 1 / (1 + e^-x)` | `σ(x)(1 - σ(x))` | |
//! | GELU (exact, default) | `x Φ(x) = x/2 · (1 + erf(x/√2))` | `Φ(x) + x φ(x)` | Hendrycks & Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415, 2016 |
//! | GELU (tanh approximation) | `x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))` | see [`gelu_tanh_derivative`] | same paper, eq. for the fast approximation |
//!
//! `Φ` and `φ` are the standard normal CDF and density. The exact form is the default because it is what
//! PyTorch's `nn.GELU()` computes unless `approximate="tanh"` is passed. The ReLU derivative at exactly
//! `x = 0` is taken as `0` (the convention of PyTorch and JAX); a finite-difference check straddling the kink
//! disagrees with any choice, which is the point of the `backprop.relu_kink_fd_error` quantity.

use std::f64::consts::{FRAC_2_SQRT_PI, PI, SQRT_2};

/// A pointwise nonlinearity of the engine's networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// Rectified linear unit `max(0, x)`.
    Relu,
    /// Hyperbolic tangent.
    Tanh,
    /// Gaussian error linear unit in its exact form `x Φ(x)`.
    Gelu,
    /// Logistic sigmoid `1 / (1 + e^-x)`.
    Sigmoid,
}

impl Activation {
    /// Every activation, in a fixed order (useful for select boxes).
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Sigmoid,
    ];

    /// Parses `"relu"`, `"tanh"`, `"gelu"` or `"sigmoid"` (ASCII case-insensitive).
    pub fn parse(s: &str) -> Option<Activation> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s.trim()))
    }

    /// The lower-case name that [`Activation::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// `f(x)`.
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Tanh => x.tanh(),
            Activation::Gelu => gelu_erf(x),
            Activation::Sigmoid => sigmoid(x),
        }
    }

    /// `f'(x)`, the derivative with respect to the pre-activation `x`.
    #[inline]
    pub fn derivative(self, x: f64) -> f64 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Tanh => {
                let t = x.tanh();
                1.0 - t * t
            }
            Activation::Gelu => gelu_erf_derivative(x),
            Activation::Sigmoid => {
                let s = sigmoid(x);
                s * (1.0 - s)
            }
        }
    }

    /// `f'(x)` given both the pre-activation `x` and the already computed output `y = f(x)`, which saves a
    /// transcendental call: `1 - y²` for tanh, `y(1 - y)` for sigmoid, `y/x + x φ(x)` for GELU.
    #[inline]
    pub fn derivative_from_output(self, x: f64, y: f64) -> f64 {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Tanh => 1.0 - y * y,
            // Φ(x) = y / x saves a second erf evaluation; at |x| so small that y may be subnormal, Φ(x) is 1/2
            // to double precision (Φ(x) = 1/2 + x φ(0) + ...).
            Activation::Gelu => {
                let cdf = if x.abs() > 1e-200 { y / x } else { 0.5 };
                cdf + x * normal_pdf(x)
            }
            Activation::Sigmoid => y * (1.0 - y),
        }
    }
}

/// Numerically stable logistic sigmoid: `1 / (1 + e^-x)` for `x ≥ 0` and `e^x / (1 + e^x)` for `x < 0`,
/// so the exponential never overflows.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Below this `|x|` the error function is summed from its power series, above it `erfc` is evaluated by a
/// continued fraction. At 2.5 both need about 40 terms for full double precision (measured with a Python
/// prototype of the same two loops against `math.erf`), so the switch point balances the cost.
const ERF_SWITCH: f64 = 2.5;

/// `erfc` switches to the continued fraction earlier than `erf`: below 2 the value `1 - erf(x)` loses
/// `log10(1/erfc(x))` digits to cancellation (2.3 digits at x = 2, relative error ≈ 2e-14), while the continued
/// fraction still converges in about 60 terms there.
const ERFC_SWITCH: f64 = 2.0;

/// `erf(x) = 2/√π ∫₀ˣ e^{-t²} dt`, accurate to a few units in the last place (absolute error < 1e-15).
///
/// For `|x| < 2.5` it sums the series with only positive terms (Abramowitz & Stegun 7.1.6)
/// `erf x = 2/√π · e^{-x²} · Σₙ 2ⁿ x^{2n+1} / (1·3·5···(2n+1))`, which has no cancellation; otherwise it uses
/// `1 - erfc(x)` with [`erfc`]'s continued fraction.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let ax = x.abs();
    let v = if ax < ERF_SWITCH {
        erf_series(ax)
    } else {
        1.0 - erfc_continued_fraction(ax)
    };
    v.copysign(x)
}

/// The complementary error function `erfc(x) = 1 - erf(x)`, computed without cancellation for large
/// positive `x` (where `erf x` rounds to 1) by the continued fraction (Abramowitz & Stegun 7.1.14)
/// `erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))`,
/// evaluated with the modified Lentz algorithm (Lentz 1976; Thompson & Barnett 1986).
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x >= ERFC_SWITCH {
        erfc_continued_fraction(x)
    } else if x <= -ERFC_SWITCH {
        2.0 - erfc_continued_fraction(-x)
    } else {
        1.0 - erf(x)
    }
}

/// The positive-term series of [`erf`] for `0 ≤ x < ERF_SWITCH`.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    // Each term is the previous one times 2x²/(2n+1); the ratio drops below 1 once n > x² - 1/2, after which
    // the tail is smaller than the last term times a geometric factor, so stopping at 1e-17 relative is safe.
    loop {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
        if term <= 1e-17 * sum {
            break;
        }
    }
    FRAC_2_SQRT_PI * (-x2).exp() * sum
}

/// `erfc(x)` for `x ≥ ERFC_SWITCH` by the continued fraction of [`erfc`] (modified Lentz).
fn erfc_continued_fraction(x: f64) -> f64 {
    if x > 27.3 {
        // erfc(27.3) ≈ 5e-326 is below the smallest subnormal double, so the answer underflows to zero.
        return 0.0;
    }
    // f = x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...))): partial numerators a_n = n/2, denominators b_n = x.
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for n in 1..500 {
        let a = f64::from(n) / 2.0;
        d = 1.0 / (x + a * d);
        c = x + a / c;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / (PI.sqrt() * f)
}

/// Standard normal CDF `Φ(x) = erfc(-x/√2) / 2`, accurate in both tails.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// Standard normal density `φ(x) = e^{-x²/2} / √(2π)`.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// Exact GELU `x Φ(x)` (Hendrycks & Gimpel 2016), the default form.
#[inline]
pub fn gelu_erf(x: f64) -> f64 {
    x * normal_cdf(x)
}

/// Derivative of the exact GELU: `d/dx [x Φ(x)] = Φ(x) + x φ(x)`.
#[inline]
pub fn gelu_erf_derivative(x: f64) -> f64 {
    normal_cdf(x) + x * normal_pdf(x)
}

/// `√(2/π)`, the slope of the tanh argument in the GELU approximation.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation, chosen by Hendrycks & Gimpel (2016) to match `Φ`.
const GELU_TANH_CUBIC: f64 = 0.044_715;

/// The tanh approximation of GELU (Hendrycks & Gimpel 2016; PyTorch's `approximate="tanh"`):
/// `x/2 · (1 + tanh(u))` with `u = √(2/π)(x + 0.044715 x³)`.
#[inline]
pub fn gelu_tanh(x: f64) -> f64 {
    let u = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
    0.5 * x * (1.0 + u.tanh())
}

/// Derivative of [`gelu_tanh`] by the product and chain rules:
/// `(1 + t)/2 + x/2 · (1 - t²) · √(2/π)(1 + 3·0.044715 x²)` with `t = tanh(u)`.
#[inline]
pub fn gelu_tanh_derivative(x: f64) -> f64 {
    let u = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
    let t = u.tanh();
    let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_CUBIC * x * x);
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_python_math_erf() {
        // Reference values from CPython's `math` module (the platform libm):
        //   python3 -c "import math; [print(repr(x), repr(math.erf(x)), repr(math.erfc(x))) for x in
        //               (0.0, 1e-8, 0.1, 0.5, 1.0, 2.0, 2.4999, 2.5, 3.0, 5.0, 10.0)]"
        let cases = [
            (0.0, 0.0, 1.0),
            (1e-8, 1.1283791670955126e-08, 0.9999999887162083),
            (0.1, 0.1124629160182849, 0.8875370839817152),
            (0.5, 0.5204998778130465, 0.4795001221869535),
            (1.0, 0.8427007929497149, 0.15729920705028513),
            (2.0, 0.9953222650189527, 0.004677734981047265),
            (2.4999, 0.9995928300996666, 0.0004071699003334514),
            (2.5, 0.999593047982555, 0.0004069520174449589),
            (3.0, 0.9999779095030014, 2.2090496998585438e-05),
            (5.0, 0.9999999999984626, 1.5374597944280351e-12),
            (10.0, 1.0, 2.088487583762545e-45),
        ];
        for (x, e, ec) in cases {
            assert!((erf(x) - e).abs() < 1e-15, "erf({x}) = {} vs {e}", erf(x));
            assert!((erf(-x) + e).abs() < 1e-15, "erf(-{x})");
            // erfc is compared relatively: in the tail its value is tiny but must keep its digits.
            assert!(
                ((erfc(x) - ec) / ec).abs() < 1e-13,
                "erfc({x}) = {} vs {ec}",
                erfc(x)
            );
            assert!((erfc(-x) - (2.0 - ec)).abs() < 1e-15, "erfc(-{x})");
        }
        assert_eq!(erfc(30.0), 0.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn gelu_values_match_pytorch_formulas() {
        // From numpy/math with the defining formulas (same as torch.nn.functional.gelu, both forms):
        //   import math
        //   exact = lambda x: 0.5*x*(1+math.erf(x/math.sqrt(2)))
        //   approx = lambda x: 0.5*x*(1+math.tanh(math.sqrt(2/math.pi)*(x+0.044715*x**3)))
        //   [(x, exact(x), approx(x)) for x in (-3.0, -1.0, 0.5, 2.0)]
        let cases = [
            (-3.0, -0.00404969409489031, -0.0036373920817729943),
            (-1.0, -0.15865525393145707, -0.15880800939172324),
            (0.5, 0.34573123063700656, 0.34571400982514394),
            (2.0, 1.9544997361036416, 1.954597694087775),
        ];
        for (x, exact, approx) in cases {
            assert!((gelu_erf(x) - exact).abs() < 1e-15, "gelu_erf({x})");
            assert!((gelu_tanh(x) - approx).abs() < 1e-15, "gelu_tanh({x})");
        }
    }

    #[test]
    fn derivatives_match_central_differences() {
        // Central differences have truncation error O(h²·f''') ≈ 1e-10 at h = 1e-5 and rounding error
        // ≈ 1e-16/h ≈ 1e-11, so 1e-8 absolute is a comfortable bound for these smooth functions.
        let h = 1e-5;
        for a in [Activation::Tanh, Activation::Gelu, Activation::Sigmoid] {
            for &x in &[-4.0, -1.3, -0.2, 0.3, 1.7, 5.0] {
                let fd = (a.apply(x + h) - a.apply(x - h)) / (2.0 * h);
                assert!((a.derivative(x) - fd).abs() < 1e-8, "{} at {x}", a.name());
                let y = a.apply(x);
                assert!((a.derivative_from_output(x, y) - a.derivative(x)).abs() < 1e-15);
            }
            // The shortcut through the output must also hold at and next to zero (GELU divides by x).
            for x in [0.0, 1e-250, -1e-250, 1e-8] {
                let y = a.apply(x);
                assert!(
                    (a.derivative_from_output(x, y) - a.derivative(x)).abs() < 1e-15,
                    "{x}"
                );
            }
        }
        for &x in &[-2.0, -0.5, 0.7, 3.0] {
            let fd = (gelu_tanh(x + h) - gelu_tanh(x - h)) / (2.0 * h);
            assert!((gelu_tanh_derivative(x) - fd).abs() < 1e-8);
        }
        // d relu(x)/dx = 1 for x > 0 and 0 for x < 0.
        assert_eq!(Activation::Relu.derivative(0.5), 1.0);
        assert_eq!(Activation::Relu.derivative(-0.5), 0.0);
    }

    #[test]
    fn sigmoid_is_stable_far_out() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-16);
    }

    #[test]
    fn parse_round_trips() {
        for a in Activation::ALL {
            assert_eq!(Activation::parse(a.name()), Some(a));
        }
        assert_eq!(Activation::parse("ReLU"), Some(Activation::Relu));
        assert_eq!(Activation::parse("swish"), None);
    }
}

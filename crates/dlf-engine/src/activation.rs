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

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// `1/√(2π)`, the normal density at 0 (rounded to double precision).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

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
            Activation::Relu => relu(x),
            Activation::Tanh => crate::math::tanh(x),
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
                let t = crate::math::tanh(x);
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

    /// `(f(x), f'(x))` in one call, for a forward pass that keeps the derivative for the backward pass.
    /// Equal to `(apply(x), derivative_from_output(x, apply(x)))` bit for bit except for GELU, whose
    /// derivative is computed as `Φ(x) + x φ(x)` from [`normal_cdf_and_pdf`] (one exponential shared with
    /// `Φ` where possible) rather than through `y / x`; the two agree to a few ulp.
    #[inline]
    pub fn apply_with_derivative(self, x: f64) -> (f64, f64) {
        match self {
            Activation::Relu => {
                if x > 0.0 {
                    (x, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
            Activation::Tanh => {
                let t = crate::math::tanh(x);
                (t, 1.0 - t * t)
            }
            Activation::Gelu => gelu_erf_with_derivative(x),
            Activation::Sigmoid => {
                let s = sigmoid(x);
                (s, s * (1.0 - s))
            }
        }
    }
}

/// `max(0, x)`, with NaN mapped to 0 like `f64::max` does. Written as a comparison because `f64::max`
/// compiles to a call of the C library's `fmax` on wasm32 (whose `f64.max` instruction treats NaN
/// differently), which cost more than the rest of the ReLU forward pass in the browser.
#[inline]
fn relu(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

/// Numerically stable logistic sigmoid: `1 / (1 + e^-x)` for `x ≥ 0` and `e^x / (1 + e^x)` for `x < 0`,
/// so the exponential never overflows.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + crate::math::exp(-x))
    } else {
        let e = crate::math::exp(x);
        e / (1.0 + e)
    }
}

/// Below this `|x|`, `erf` is the odd polynomial `x · P(x²)`; above it, `erfc` is `e^{-x²} · g(x)`.
const ERF_SMALL_LIMIT: f64 = 0.5;
/// From here on `erf(x) = ±1` to double precision (`erfc(6) ≈ 2.2e-17` is below half an ulp of 1), and
/// `erfc` switches to the continued fraction, which needs fewer than 40 terms at and beyond 6.
const ERF_POLY_LIMIT: f64 = 6.0;

// Coefficients generated by crates/dlf-engine/tools/erf_fit.py (mpmath at 50 digits; run it to reproduce
// these tables and the error report below). Interpolation at Chebyshev nodes, written in monomial form:
//
// ERF_SMALL: erf(t)/t as a polynomial in s = t² for 0 ≤ t ≤ 0.5; relative error of erf ≤ 2.3e-16 measured
//   in double precision with the evaluation order of `poly_eval`.
// ERFC_TAIL[k]: g(t) = e^{t²} erfc(t) on [0.5 + k/2, 1 + k/2] as a polynomial in u = t - (0.75 + k/2);
//   relative error of g ≤ 2.2e-16 on every interval.
// The leading coefficient is 2/√π to double precision, as it must be (erf'(0) = 2/√π); the table is kept
// exactly as the script prints it.
#[allow(clippy::approx_constant)]
const ERF_SMALL: [f64; 10] = [
    1.1283791670955126,
    -0.3761263890318375,
    0.1128379167095487,
    -0.02686617064499972,
    0.0052239776220169365,
    -0.0008548326510724796,
    0.00012055286202005714,
    -1.4923003368152099e-05,
    1.637123442577e-06,
    -1.462091340945175e-07,
];
const ERFC_TAIL: [[f64; 14]; 11] = [
    [
        0.5069376502931449,
        -0.3679726916557954,
        0.23095813155129497,
        -0.12983606199488007,
        0.06679054252841538,
        -0.031897262039946896,
        0.01428919858470859,
        -0.006051532271776434,
        0.002437641069942269,
        -0.000938513222881505,
        0.00034666379283020214,
        -0.00012332717214560827,
        4.337915907561481e-05,
        -1.440376961255891e-05,
    ],
    [
        0.3678229164523611,
        -0.20882187596460985,
        0.10679557149659845,
        -0.05021827439590747,
        0.022011364250946238,
        -0.009081627632959959,
        0.003553109894683297,
        -0.0013257829272368543,
        0.0004739707006153454,
        -0.00016296012111131222,
        5.404491508514403e-05,
        -1.7341459254977562e-05,
        5.501701839828387e-06,
        -1.6610767030625112e-06,
    ],
    [
        0.2849722347374364,
        -0.1309763455144852,
        0.05576363008708723,
        -0.022259995241388317,
        0.008404319207340187,
        -0.0030209746514281146,
        0.001039204521356914,
        -0.00034353335318474803,
        0.0001095053381684006,
        -3.375536830552878e-05,
        1.0085518680104132e-05,
        -2.92763224927802e-06,
        8.406449608561853e-07,
        -2.3131132443809953e-07,
    ],
    [
        0.23108725873039188,
        -0.08848650280874916,
        0.031992627410706256,
        -0.011002060756440045,
        0.0036189953543597905,
        -0.0011437284836541604,
        0.0003485354218814771,
        -0.00010272108111777696,
        2.9353254863530408e-05,
        -8.150285053705488e-06,
        2.2028461470983834e-06,
        -5.805909757132036e-07,
        1.5147418685283685e-07,
        -3.8093997572624824e-08,
    ],
    [
        0.1936620962790687,
        -0.06323763756063484,
        0.019758592987322864,
        -0.005934337896997976,
        0.001719581885289515,
        -0.0004821950849811217,
        0.00013118180050158485,
        -3.469860957140213e-05,
        8.940157366119897e-06,
        -2.2473737254695783e-06,
        5.519449177126979e-07,
        -1.3261857188670576e-07,
        3.1568164431976944e-08,
        -7.279738484278512e-09,
    ],
    [
        0.16633534842682188,
        -0.047199402321170376,
        0.012937290883018157,
        -0.003435471300907574,
        0.0008860045775343321,
        -0.00022238256956848873,
        5.442040880644052e-05,
        -1.3004640264149419e-05,
        3.0388322525197412e-06,
        -6.952081224454215e-07,
        1.558749388297477e-07,
        -3.4288600060257634e-08,
        7.478692856076797e-09,
        -1.586936266709577e-09,
    ],
    [
        0.14558972127503855,
        -0.03645625753272353,
        0.008878755527325298,
        -0.00210728287016911,
        0.00048822238209558116,
        -0.00011057957492429544,
        2.4516325375175097e-05,
        -5.326672789022946e-06,
        1.1353256642536615e-06,
        -2.3760040556954934e-07,
        4.8863416523494246e-08,
        -9.882877201280105e-09,
        1.983538604342367e-09,
        -3.886928977136085e-10,
    ],
    [
        0.12934527478598792,
        -0.028944331414615332,
        0.006331866273872749,
        -0.0013559331671040983,
        0.0002845751568401692,
        -5.8595500213358165e-05,
        1.1848093644133921e-05,
        -2.3546006354783887e-06,
        4.602602510051801e-07,
        -8.855436560091711e-08,
        1.678048346916335e-08,
        -3.1337186685536493e-09,
        5.811724586030923e-10,
        -1.0555257375577111e-10,
    ],
    [
        0.11630270721024731,
        -0.02350344859816315,
        0.00466132636897234,
        -0.0009080988970296905,
        0.00017392830404065597,
        -3.277578113463187e-05,
        6.081114550292908e-06,
        -1.1115677200716773e-06,
        2.002919741920613e-07,
        -3.5595747942067336e-08,
        6.242335630900769e-09,
        -1.0807446894693348e-09,
        1.859478945996065e-10,
        -3.141135105048579e-11,
    ],
    [
        0.1056127354688918,
        -0.01944544467214865,
        0.003524150940111397,
        -0.0006291014910425433,
        0.00011068405606902267,
        -1.920407867207035e-05,
        3.287547680190039e-06,
        -5.55558100260598e-07,
        9.271691472357647e-08,
        -1.52876234438342e-08,
        2.4913485679760037e-09,
        -4.0142946040380724e-10,
        6.432031515574242e-11,
        -1.0140384592111234e-11,
    ],
    [
        0.09669877816971392,
        -0.016343218143802483,
        0.002725273842849635,
        -0.00044859569827805586,
        7.2924288875407e-05,
        -1.1712414897786451e-05,
        1.8593010710359471e-06,
        -2.918382112209443e-07,
        4.5307839541466324e-08,
        -6.959585888416656e-09,
        1.0580344538295682e-09,
        -1.5924080266529063e-10,
        2.384598604374149e-11,
        -3.5200073691581453e-12,
    ],
];

/// `erf(x) = 2/√π ∫₀ˣ e^{-t²} dt`, with absolute error below 5e-16 everywhere and relative error of a few ulp.
///
/// Own piecewise polynomials (coefficients from `tools/erf_fit.py`, interpolation at Chebyshev nodes,
/// which is within a small factor of the minimax polynomial: Trefethen, "Approximation Theory and
/// Approximation Practice", 2013, ch. 16), evaluated by Horner's rule for the two leading coefficients
/// and Estrin's scheme (1960) for the rest, which shortens the chain of dependent operations:
/// - `|x| < 0.5`: `erf x = x · P(x²)`, the shape of the Maclaurin series (Abramowitz & Stegun 7.1.5);
/// - `0.5 ≤ |x| < 6`: `erf x = ±(1 - erfc |x|)` with `erfc t = e^{-t²} g(t)` from eleven polynomials
///   for `g` on intervals of width 1/2 (see [`erfc`]);
/// - `|x| ≥ 6`: `±1`, which is `erf x` rounded to double precision.
pub fn erf(x: f64) -> f64 {
    let t = x.abs();
    if t < ERF_SMALL_LIMIT {
        x * erf_small_series(x * x)
    } else if t < ERF_POLY_LIMIT {
        (1.0 - erfc_tail_poly(t)).copysign(x)
    } else if t.is_nan() {
        f64::NAN
    } else {
        1.0f64.copysign(x)
    }
}

/// The complementary error function `erfc(x) = 1 - erf(x)`, accurate relative to its own size in the
/// right tail, where `1 - erf(x)` would have cancelled to nothing.
///
/// - `|x| < 0.5`: `1 - x · P(x²)` (the value lies in (0.47, 1.53), so the subtraction loses nothing);
/// - `0.5 ≤ x < 6`: `erfc x = e^{-x²} g(x)`, where `g(x) = e^{x²} erfc x` is smooth and slowly varying
///   (`g(0) = 1`, `g(x) ≈ 1/(x√π)` for large `x`, A&S 7.1.23), so one polynomial per interval of width 1/2
///   reaches full precision; `e^{-x²}` is formed with `x²` split into an exact part and a small
///   remainder, so the rounding of `x²` does not cost `x²` ulp of relative accuracy;
/// - `x ≥ 6`: the continued fraction (Abramowitz & Stegun 7.1.14)
///   `erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))`, evaluated with the modified Lentz
///   algorithm (Lentz 1976; Thompson & Barnett 1986);
/// - `x < 0`: `2 - erfc(-x)`.
///
/// Measured against mpmath (tests below): relative error below 1e-15 for `x < 27`, where `erfc`
/// underflows.
#[inline]
pub fn erfc(x: f64) -> f64 {
    let t = x.abs();
    if t < ERF_SMALL_LIMIT {
        return 1.0 - x * erf_small_series(x * x);
    }
    let tail = if t < ERF_POLY_LIMIT {
        erfc_tail_poly(t)
    } else if t.is_nan() {
        return f64::NAN;
    } else {
        erfc_continued_fraction(t)
    };
    if x > 0.0 {
        tail
    } else {
        2.0 - tail
    }
}

/// `P(s)` with `erf t = t · P(t²)` for `t < 0.5`.
#[inline]
fn erf_small_series(s: f64) -> f64 {
    poly_eval(&ERF_SMALL, s)
}

/// `Σ c[i] v^i` as `c[0] + v (c[1] + v E(v))`, where `E` sums the remaining coefficients by Estrin's scheme
/// (Estrin, "Organization of computer systems: the fixed plus variable structure computer", 1960):
/// neighbouring coefficients are paired with `v`, then neighbouring pairs with `v²`, `v⁴`, and so on.
///
/// Horner's rule would chain one dependent multiply-add per coefficient (14 of them, over 100 cycles, for
/// the tail pieces); this takes about six, so the processor can overlap the evaluations of neighbouring
/// units in a layer. The two Horner steps on top add the leading terms last, which keeps the rounding error
/// at Horner's level (`tools/erf_fit.py` measures this exact evaluation order).
#[inline(always)]
fn poly_eval<const N: usize>(c: &[f64; N], v: f64) -> f64 {
    c[0] + v * (c[1] + v * estrin(&c[2..], v))
}

/// Estrin's scheme for up to 16 coefficients (see [`poly_eval`]); fully unrolled once `c.len()` is known.
#[inline(always)]
fn estrin(c: &[f64], v: f64) -> f64 {
    let mut a = [0.0f64; 16];
    a[..c.len()].copy_from_slice(c);
    let (mut n, mut p) = (c.len(), v);
    while n > 1 {
        let half = n.div_ceil(2);
        for i in 0..half {
            a[i] = if 2 * i + 1 < n {
                a[2 * i] + a[2 * i + 1] * p
            } else {
                a[2 * i]
            };
        }
        n = half;
        p *= p;
    }
    a[0]
}

/// The interval of `ERFC_TAIL` that holds `t ∈ [0.5, 6)` and its centre.
#[inline]
fn tail_interval(t: f64) -> (usize, f64) {
    // ⌊2t⌋ - 1 is 0 on [0.5, 1), 1 on [1, 1.5), ..., 10 on [5.5, 6); the min guards the last interval's end.
    let k = ((2.0 * t) as usize - 1).min(ERFC_TAIL.len() - 1);
    (k, 0.75 + 0.5 * k as f64)
}

/// `e^{-t²}` with the argument's rounding removed: `t = hi + lo` where `hi` keeps the upper 26 significant
/// bits, so `hi²` is exact, and `e^{-t²} = e^{-hi²} · e^{-lo(t + hi)}`. For `t < 64`, `|lo(t + hi)| < 2⁻¹⁸`,
/// so `e^{-d} = 1 - d + d²/2` with an error below `d³/6 < 1e-16 · 2⁻³⁰`. (The same splitting as in Sun's
/// fdlibm `s_erf.c`, which takes a second exponential instead of the short series.)
#[inline]
fn exp_neg_square(t: f64) -> f64 {
    let hi = f64::from_bits(t.to_bits() & 0xffff_ffff_f800_0000);
    let d = (t - hi) * (t + hi);
    crate::math::exp(-hi * hi) * (1.0 - d * (1.0 - 0.5 * d))
}

/// `erfc(t) = e^{-t²} g(t)` for `0.5 ≤ t < 6`, and `e^{-t²}` itself.
#[inline]
fn erfc_tail_parts(t: f64) -> (f64, f64) {
    let (k, centre) = tail_interval(t);
    let e = exp_neg_square(t);
    (e * poly_eval(&ERFC_TAIL[k], t - centre), e)
}

/// `erfc(t)` for `0.5 ≤ t < 6`.
#[inline]
fn erfc_tail_poly(t: f64) -> f64 {
    erfc_tail_parts(t).0
}

/// `erfc(x)` for `x ≥ ERF_POLY_LIMIT` by the continued fraction of [`erfc`] (modified Lentz).
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
    exp_neg_square(x) / (PI.sqrt() * f)
}

/// Standard normal CDF `Φ(x) = erfc(-x/√2) / 2`, accurate in both tails.
pub fn normal_cdf(x: f64) -> f64 {
    // `x · (1/√2)` rather than `x / √2`: a multiplication instead of a division in every GELU unit, for
    // at most one more rounding (half an ulp) in the argument; the tests' error bound covers both.
    0.5 * erfc(-x * FRAC_1_SQRT_2)
}

/// Standard normal density `φ(x) = e^{-x²/2} / √(2π)`.
pub fn normal_pdf(x: f64) -> f64 {
    crate::math::exp(-0.5 * x * x) * FRAC_1_SQRT_2PI
}

/// `(Φ(x), φ(x))` together. Where [`erfc`] evaluates `e^{-u²}` for `u = -x/√2` anyway
/// (`0.5 ≤ |u| < 6`), that exponential is `√(2π) φ(x)` and is reused, which saves one `exp` in the
/// GELU derivative `Φ(x) + x φ(x)`. `Φ` is bit-for-bit [`normal_cdf`]; `φ` may differ from [`normal_pdf`]
/// in the last few bits, since `u²` is the rounded `x²/2`.
#[inline]
pub fn normal_cdf_and_pdf(x: f64) -> (f64, f64) {
    let u = -x * FRAC_1_SQRT_2;
    let t = u.abs();
    if (ERF_SMALL_LIMIT..ERF_POLY_LIMIT).contains(&t) {
        let (tail, e) = erfc_tail_parts(t);
        // The same arithmetic as `0.5 * erfc(u)`, so Φ matches `normal_cdf` exactly.
        let cdf = if u > 0.0 {
            0.5 * tail
        } else {
            0.5 * (2.0 - tail)
        };
        (cdf, e * FRAC_1_SQRT_2PI)
    } else {
        (normal_cdf(x), normal_pdf(x))
    }
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

/// `(gelu(x), gelu'(x))` from one [`normal_cdf_and_pdf`]: what a training step needs in its forward pass.
#[inline]
pub fn gelu_erf_with_derivative(x: f64) -> (f64, f64) {
    let (cdf, pdf) = normal_cdf_and_pdf(x);
    (x * cdf, cdf + x * pdf)
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
    0.5 * x * (1.0 + crate::math::tanh(u))
}

/// Derivative of [`gelu_tanh`] by the product and chain rules:
/// `(1 + t)/2 + x/2 · (1 - t²) · √(2/π)(1 + 3·0.044715 x²)` with `t = tanh(u)`.
#[inline]
pub fn gelu_tanh_derivative(x: f64) -> f64 {
    let u = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
    let t = crate::math::tanh(u);
    let du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_CUBIC * x * x);
    0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
}

#[cfg(test)]
mod erf_reference;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_and_erfc_match_mpmath() {
        // Reference values: crates/dlf-engine/tools/erf_reference.py (mpmath at 50 digits, rounded to double),
        // 297 points covering every polynomial piece, both sides of each boundary, tiny arguments and the
        // continued-fraction tail.
        let (mut worst_abs, mut worst_rel) = (0.0f64, 0.0f64);
        for &(x, e, ec) in erf_reference::ERF_ERFC {
            let abs = (erf(x) - e).abs();
            // The target of the implementation: a few ulp, never more than 5e-16 absolute.
            assert!(abs <= 5e-16, "erf({x:e}) = {:e}, mpmath {e:e}", erf(x));
            if e != 0.0 {
                // Relative accuracy near zero, where erf x ≈ 2x/√π: within 2 ulp (2 · 2.2e-16).
                let rel = abs / e.abs();
                worst_rel = worst_rel.max(rel);
                if x.abs() < ERF_SMALL_LIMIT {
                    assert!(rel <= 4.5e-16, "erf({x:e}) relative error {rel:e}");
                }
            }
            worst_abs = worst_abs.max(abs);
            // erfc relative to its own size, down to where it underflows (erfc(27) ≈ 5e-319 is subnormal,
            // so from there on only the absolute error is meaningful).
            let got = erfc(x);
            if ec > 1e-300 {
                let rel = ((got - ec) / ec).abs();
                assert!(
                    rel <= 1e-15,
                    "erfc({x:e}) = {got:e}, mpmath {ec:e}, relative {rel:e}"
                );
            } else {
                assert!((got - ec).abs() <= 1e-320, "erfc({x:e}) = {got:e}");
            }
        }
        assert!(worst_abs <= 5e-16 && worst_rel.is_finite());
        assert!(erf(f64::NAN).is_nan() && erfc(f64::NAN).is_nan());
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert_eq!(erfc(f64::NEG_INFINITY), 2.0);
        assert_eq!(erfc(30.0), 0.0);
    }

    #[test]
    fn normal_cdf_and_pdf_match_mpmath() {
        // Reference values: crates/dlf-engine/tools/erf_reference.py (mpmath's ncdf and npdf at 50 digits).
        // Φ(x) = erfc(-x/√2)/2 inherits the rounding of u = -x/√2: the constant √2 and the division each
        // contribute a relative error of up to 1.1e-16 to u, and a relative error δ in u moves erfc(u) by a
        // relative 2u²δ = x²δ, so the bound grows like x² · 2.2e-16 (2e-13 at x = -30, where Φ ≈ 5e-198).
        // The same holds for φ computed from e^{-u²}.
        for &(x, cdf, pdf) in erf_reference::NORMAL {
            let bound = 1e-15 + x * x * 2.5e-16;
            let got = normal_cdf(x);
            assert!(
                ((got - cdf) / cdf).abs() <= bound,
                "Φ({x}) = {got:e} vs {cdf:e}"
            );
            let (joint_cdf, joint_pdf) = normal_cdf_and_pdf(x);
            assert_eq!(
                joint_cdf.to_bits(),
                got.to_bits(),
                "Φ({x}) from the joint routine"
            );
            assert!(
                ((joint_pdf - pdf) / pdf).abs() <= bound,
                "φ({x}) = {joint_pdf:e} vs {pdf:e}"
            );
            assert!(((normal_pdf(x) - pdf) / pdf).abs() <= bound, "φ({x})");
        }
    }

    #[test]
    fn apply_with_derivative_agrees_with_the_separate_calls() {
        // Identical bits for ReLU, tanh and sigmoid (the same arithmetic); GELU's derivative takes another
        // route (Φ + xφ instead of y/x + xφ), so it is compared to 4 ulp of the larger term, 1e-15.
        for a in Activation::ALL {
            for i in -80..=80 {
                let x = f64::from(i) * 0.1;
                let (y, dy) = a.apply_with_derivative(x);
                assert_eq!(y.to_bits(), a.apply(x).to_bits(), "{} at {x}", a.name());
                let expected = a.derivative_from_output(x, a.apply(x));
                if a == Activation::Gelu {
                    assert!(
                        (dy - expected).abs() <= 1e-15,
                        "gelu' at {x}: {dy} vs {expected}"
                    );
                } else {
                    assert_eq!(dy.to_bits(), expected.to_bits(), "{}' at {x}", a.name());
                }
            }
        }
    }

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

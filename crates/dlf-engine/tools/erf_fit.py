"""Generates the polynomial coefficients of dlf-engine's `erf` and `erfc` (crates/dlf-engine/src/activation.rs).

Run:  pip install mpmath numpy && python3 crates/dlf-engine/tools/erf_fit.py
It prints the Rust constant tables that activation.rs contains, followed by the largest error of each piece
measured in double-precision Horner evaluation against mpmath at 50 significant digits.

The pieces (t = |x|):
  * 0 <= t < 0.5:  erf(t) = t * P(t^2).  P interpolates erf(t)/t, an even entire function, at Chebyshev nodes in
    s = t^2 on [0, 1/4]; written as a polynomial in s it is close to the Taylor series (Abramowitz & Stegun
    7.1.5) with its coefficients adjusted so the truncation error is spread over the interval.
  * 0.5 <= t < 6:  erfc(t) = exp(-t^2) * g(t) with g(t) = exp(t^2) erfc(t), a smooth, slowly varying function
    (g(0) = 1, g(t) ~ 1/(t sqrt(pi)) for large t, A&S 7.1.23).  Each interval [a, b] gets a polynomial in
    u = t - (a + b)/2 interpolating g at Chebyshev nodes.  Factoring out exp(-t^2) is what keeps erfc accurate
    relative to its own size far into the tail, where 1 - erf(t) would have no correct digits left.
  * t >= 6:  erf(t) = 1 to double precision (erfc(6) = 2.2e-17 is below half an ulp of 1); erfc uses the
    continued fraction A&S 7.1.14.

Interpolation at Chebyshev nodes is within a small factor of the best (minimax) polynomial of the same degree
(Trefethen, "Approximation Theory and Approximation Practice", 2013, ch. 16), which is all the accuracy this
needs; the degrees below are the smallest that keep the double-precision evaluation within ~1-2 ulp.
They are evaluated as in the Rust code (`poly_eval` below): Horner's rule for the two leading coefficients
and Estrin's scheme for the rest, whose shorter chains of dependent operations let the processor overlap work.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50

SMALL = (0.0, 0.5, 10)  # erf(t)/t in s = t^2: (t_lo, t_hi, coefficients)
# g(t) on the eleven intervals [0.5 + k/2, 1 + k/2], k = 0..10, each in u = t - (centre of the interval), all with
# the same number of coefficients so the Rust side is one table indexed by k = floor(2t) - 1.
TAIL_N = 14
TAIL = [(0.5 + 0.5 * k, 1.0 + 0.5 * k, TAIL_N) for k in range(11)]


def cheb_interp_monomial(f, lo, hi, n):
    """Coefficients (ascending) of the degree n-1 polynomial in v = y - (lo+hi)/2 that interpolates f at the
    n Chebyshev points of the first kind on [lo, hi]; exact in mpmath, then rounded to doubles."""
    lo, hi = mp.mpf(lo), mp.mpf(hi)
    c, h = (lo + hi) / 2, (hi - lo) / 2
    nodes = [c + h * mp.cos(mp.pi * (2 * j + 1) / (2 * n)) for j in range(n)]
    # Solve the Vandermonde system in v exactly (50 digits are plenty for n <= 17 on |v| <= 1.5).
    A = mp.matrix([[(y - c) ** k for k in range(n)] for y in nodes])
    b = mp.matrix([f(y) for y in nodes])
    coef = mp.lu_solve(A, b)
    return c, [float(coef[k]) for k in range(n)]


def estrin(coef, v):
    """Estrin's scheme (Estrin, "Organization of computer systems: the fixed plus variable structure
    computer", 1960): neighbouring coefficients are paired with v, then neighbouring pairs with v^2, v^4, ..."""
    a = list(coef)
    p = v
    while len(a) > 1:
        a = [a[i] + a[i + 1] * p if i + 1 < len(a) else a[i] for i in range(0, len(a), 2)]
        p = p * p
    return a[0]


def poly_eval(coef, v):
    """Evaluates the polynomial exactly as activation.rs does: two steps of Horner's rule on top of Estrin's
    scheme for the rest, c0 + v (c1 + v E(v)). The Horner steps keep the rounding of the final result close to
    Horner's (the leading terms are added last); Estrin's scheme shortens the chain of dependent operations
    from one multiply-add per coefficient to about log2 of their number. Python floats are IEEE doubles
    without fused multiply-adds, like Rust's, so the error measured here is the error of the Rust code."""
    return coef[0] + v * (coef[1] + v * estrin(coef[2:], v))


def g(t):
    # Converted first: squaring a Python float would round t^2 and put an error of t^2 ulp into exp(t^2).
    t = mp.mpf(t)
    return mp.exp(t * t) * mp.erfc(t)


def main():
    out = []
    # erf(t)/t as a function of s = t^2, interpolated in s on [0, 0.25] and written as a polynomial in s
    # (centre 0): the centre returned by cheb_interp_monomial is 1/8, so re-expand about 0.
    lo, hi, n = SMALL
    s_lo, s_hi = lo * lo, hi * hi
    f = lambda s: (mp.erf(mp.sqrt(s)) / mp.sqrt(s)) if s > 0 else 2 / mp.sqrt(mp.pi)
    s_nodes = [(s_lo + s_hi) / 2 + (s_hi - s_lo) / 2 * mp.cos(mp.pi * (2 * j + 1) / (2 * n)) for j in range(n)]
    A = mp.matrix([[s ** k for k in range(n)] for s in s_nodes])
    coef = mp.lu_solve(A, mp.matrix([f(s) for s in s_nodes]))
    small = [float(coef[k]) for k in range(n)]
    out.append(("ERF_SMALL", small))
    worst = 0.0
    for t in np.linspace(0, hi, 20001)[1:]:
        t = float(t)
        approx = t * poly_eval(small, t * t)
        exact = mp.erf(t)
        worst = max(worst, float(abs((approx - exact) / exact)))
    print(f"// erf on [0, {hi}]: max relative error {worst:.3g}")

    for a, b, n in TAIL:
        c, coef = cheb_interp_monomial(g, a, b, n)
        out.append((a, coef))
        worst = 0.0
        for t in np.linspace(a, b, 20001):
            t = float(t)
            approx = poly_eval(coef, t - float(c))
            exact = g(t)
            worst = max(worst, float(abs((approx - exact) / exact)))
        print(f"// g on [{a}, {b}] (centre {float(c)}), {n} coefficients: max relative error {worst:.3g}")

    name, coef = out[0]
    print(f"const {name}: [f64; {len(coef)}] = [")
    for v in coef:
        print(f"    {v!r},")
    print("];")
    print(f"const ERFC_TAIL: [[f64; {TAIL_N}]; {len(TAIL)}] = [")
    for name, coef in out[1:]:
        print("    [")
        for v in coef:
            print(f"        {v!r},")
        print("    ],")
    print("];")


if __name__ == "__main__":
    main()

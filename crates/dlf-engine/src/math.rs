//! Transcendental functions that give the same bits natively and in WebAssembly.
//!
//! `f64::exp`, `ln`, `powf`, `log10`, `tanh`, `sin`, `cos` and `ln_1p` call the platform's C library natively
//! (glibc on Linux) but a Rust port of musl's on `wasm32-unknown-unknown`, and the two differ in the last bit
//! for a good share of arguments (measured on 2·10⁶ random arguments in [−30, 30]: about 10 % for `exp` and
//! `powf`, 5 % for `ln`, 3 % for `sin`, 1 % for `tanh`). A figure that amplifies rounding — a finite difference
//! with a step of 1e-12 divides it by 1e-12 — then shows other digits in the page than in the HTML rendered at
//! build time. These wrappers call the `libm` crate, the code the standard library itself uses on wasm32, on
//! every target, so a widget is the same function of its parameters everywhere. `sqrt` is correctly rounded on
//! every target and `powi` is the same multiplication loop everywhere, so they stay the standard ones.
//! Clippy's `disallowed-methods` (clippy.toml) refuses the standard functions in the engine and the widgets;
//! the server test `every_widget_renders_the_same_bytes_natively_in_wasm_and_on_the_server` checks the result.
#![allow(clippy::disallowed_methods)]

/// `eˣ`.
pub fn exp(x: f64) -> f64 {
    libm::exp(x)
}

/// The natural logarithm.
pub fn ln(x: f64) -> f64 {
    libm::log(x)
}

/// The base-10 logarithm.
pub fn log10(x: f64) -> f64 {
    libm::log10(x)
}

/// `xʸ`.
pub fn powf(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

/// `eˣ` in single precision.
pub fn expf(x: f32) -> f32 {
    libm::expf(x)
}

/// The natural logarithm in single precision.
pub fn lnf(x: f32) -> f32 {
    libm::logf(x)
}

/// The hyperbolic tangent.
pub fn tanh(x: f64) -> f64 {
    libm::tanh(x)
}

/// The sine (radians).
pub fn sin(x: f64) -> f64 {
    libm::sin(x)
}

/// The cosine (radians).
pub fn cos(x: f64) -> f64 {
    libm::cos(x)
}

/// `ln(1 + x)`, accurate near 0.
pub fn ln_1p(x: f64) -> f64 {
    libm::log1p(x)
}

#[cfg(test)]
mod tests {
    #[test]
    fn agree_with_the_standard_library_to_an_ulp_or_two() {
        for i in -400..400 {
            let x = i as f64 * 0.0173;
            for (ours, std) in [
                (super::tanh(x), x.tanh()),
                (super::sin(x), x.sin()),
                (super::cos(x), x.cos()),
                (super::ln_1p(x.abs()), x.abs().ln_1p()),
                (super::exp(x), x.exp()),
                (super::ln(x.abs()), x.abs().ln()),
                (super::log10(x.abs()), x.abs().log10()),
                (super::powf(1.7, x), 1.7f64.powf(x)),
            ] {
                assert!(
                    ours == std || (ours - std).abs() <= 4.0 * f64::EPSILON * std.abs(),
                    "{x}: {ours} vs {std}"
                );
            }
        }
    }
}

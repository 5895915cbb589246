//! Lesson 08 — scaling laws: the parametric loss `L(N, D) = E + A/N^α + B/D^β` of Hoffmann et al. 2022
//! ("Training Compute-Optimal Large Language Models", approach 3) under named constant sets, Kaplan et al. 2020's
//! `L(N, D)` ("Scaling Laws for Neural Language Models", eq. 1.5), the compute-optimal allocation under
//! `C ≈ 6ND` derived by a Lagrange multiplier, training time from hardware and model FLOPs utilisation, and the
//! robust fit of the parametric law ([`fit`]).
//!
//! # The compute-optimal allocation
//!
//! Minimise `A N^{−α} + B D^{−β}` subject to `6ND = C`. Substituting `D = C/(6N)` and setting the derivative in
//! `N` to zero gives `α A N^{−α} = β B D^{−β}` — at the optimum the two reducible terms stand in the ratio
//! `β : α` — and so
//!
//! ```text
//! N_opt = G (C/6)^{β/(α+β)},   D_opt = G^{−1} (C/6)^{α/(α+β)},   G = (αA / (βB))^{1/(α+β)}.
//! ```
//!
//! The exponents `a = β/(α+β)` and `b = α/(α+β)` sum to one; the tokens per parameter
//! `D_opt/N_opt = G^{−2} (C/6)^{(α−β)/(α+β)}` are constant in `C` only when `α = β`.

pub mod fit;
mod estimates;
mod quantities;

use crate::lessons::Lesson;
use crate::math;

/// The lesson's contribution to the engine's tables.
pub const LESSON: Lesson = Lesson {
    topic: "scaling",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

/// The constants of the parametric law `L = E + A/N^α + B/D^β` (loss in nats per token).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parametric {
    /// The irreducible loss `E`.
    pub e: f64,
    /// The parameter term's coefficient `A`.
    pub a: f64,
    /// The data term's coefficient `B`.
    pub b: f64,
    /// The parameter exponent `α`.
    pub alpha: f64,
    /// The data exponent `β`.
    pub beta: f64,
}

/// The named constant sets of the parametric law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstantSet {
    /// Hoffmann et al. 2022, eq. 10 as printed: E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28.
    Chinchilla,
    /// The same fit with the unrounded values of the paper's TeX source (as Besiroglu et al. 2024 recovered
    /// them): e^{0.5267228} = 1.6934, e^{6.0073404} = 406.40, e^{6.0179186} = 410.72, α = 0.33917084,
    /// β = 0.2849083.
    ChinchillaUnrounded,
    /// Besiroglu, Erdil, Barnett & You 2024, "Chinchilla Scaling: A replication attempt": the refit on data
    /// reconstructed from the paper's figure, E = 1.82, A = 482.01, B = 2085.43, α = 0.3478, β = 0.3658.
    Epoch,
}

impl ConstantSet {
    /// Every set, in the order the lesson and `dlf calc scaling` list them.
    pub const ALL: [ConstantSet; 3] = [
        ConstantSet::Chinchilla,
        ConstantSet::ChinchillaUnrounded,
        ConstantSet::Epoch,
    ];

    /// The name used on the command line and in quantities.
    pub fn name(self) -> &'static str {
        match self {
            ConstantSet::Chinchilla => "chinchilla",
            ConstantSet::ChinchillaUnrounded => "chinchilla-unrounded",
            ConstantSet::Epoch => "epoch",
        }
    }

    /// The set with this name.
    pub fn parse(name: &str) -> Option<ConstantSet> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The constants.
    pub fn constants(self) -> Parametric {
        match self {
            ConstantSet::Chinchilla => Parametric {
                e: 1.69,
                a: 406.4,
                b: 410.7,
                alpha: 0.34,
                beta: 0.28,
            },
            // The TeX source gives the fit in log form: a = ln A, b = ln B, e = ln E.
            ConstantSet::ChinchillaUnrounded => Parametric {
                e: math::exp(0.526_722_8),
                a: math::exp(6.007_340_4),
                b: math::exp(6.017_918_6),
                alpha: 0.339_170_84,
                beta: 0.284_908_3,
            },
            ConstantSet::Epoch => Parametric {
                e: 1.816_86,
                a: 482.005_72,
                b: 2_085.434_2,
                alpha: 0.347_81,
                beta: 0.365_85,
            },
        }
    }
}

/// The compute-optimal model for a budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allocation {
    /// Parameters.
    pub n: f64,
    /// Training tokens.
    pub d: f64,
    /// The loss the law predicts there.
    pub loss: f64,
}

impl Allocation {
    /// Tokens per parameter.
    pub fn tokens_per_param(&self) -> f64 {
        self.d / self.n
    }
}

impl Parametric {
    /// The predicted loss of `n` parameters trained on `d` tokens.
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.e + self.a * math::powf(n, -self.alpha) + self.b * math::powf(d, -self.beta)
    }

    /// `G = (αA/(βB))^{1/(α+β)}`, the scale of the optimal `N` (see the module docs).
    pub fn g(&self) -> f64 {
        math::powf(
            self.alpha * self.a / (self.beta * self.b),
            1.0 / (self.alpha + self.beta),
        )
    }

    /// The exponent `a = β/(α+β)` of `N_opt ∝ C^a`.
    pub fn n_exponent(&self) -> f64 {
        self.beta / (self.alpha + self.beta)
    }

    /// The compute-optimal `N` and `D` for `flops` under `C = 6ND` (closed form, see the module docs).
    pub fn optimal(&self, flops: f64) -> Allocation {
        let c6 = flops / 6.0;
        let s = self.alpha + self.beta;
        let n = self.g() * math::powf(c6, self.beta / s);
        let d = c6 / n;
        Allocation {
            n,
            d,
            loss: self.loss(n, d),
        }
    }

    /// The loss on the iso-FLOP curve of `flops` at `n` parameters (`D = C/(6N)`).
    pub fn iso_flop_loss(&self, flops: f64, n: f64) -> f64 {
        self.loss(n, flops / (6.0 * n))
    }

    /// The budget whose compute-optimal model has `n` parameters (the inverse of [`Parametric::optimal`]).
    pub fn budget_for_params(&self, n: f64) -> f64 {
        let s = self.alpha + self.beta;
        6.0 * math::powf(n / self.g(), s / self.beta)
    }

    /// Over-training for inference: the tokens a model of `n` parameters needs to reach `target` loss
    /// (`B/D^β = target − E − A/N^α`); `None` when `n` parameters cannot reach it with any amount of data.
    pub fn tokens_to_reach(&self, n: f64, target: f64) -> Option<f64> {
        let room = target - self.e - self.a * math::powf(n, -self.alpha);
        (room > 0.0).then(|| math::powf(self.b / room, 1.0 / self.beta))
    }
}

/// Kaplan et al. 2020, eq. 1.5: `L(N, D) = [(N_c/N)^{α_N/α_D} + D_c/D]^{α_D}` with `N` the non-embedding
/// parameters, `α_N = 0.076`, `α_D = 0.095`, `N_c = 8.8·10¹³`, `D_c = 5.4·10¹³` tokens.
pub fn kaplan_loss(n: f64, d: f64) -> f64 {
    const ALPHA_N: f64 = 0.076;
    const ALPHA_D: f64 = 0.095;
    const N_C: f64 = 8.8e13;
    const D_C: f64 = 5.4e13;
    math::powf(
        math::powf(N_C / n, ALPHA_N / ALPHA_D) + D_C / d,
        ALPHA_D,
    )
}

/// Kaplan et al. 2020 (eq. 1.7 and figure 14): along the compute-efficient frontier `N ∝ C^{0.73}`, the rest of
/// the compute going into data (`D ∝ C^{0.27}`).
pub const KAPLAN_N_EXPONENT: f64 = 0.73;

/// The published exponents `a` of `N_opt ∝ C^a` of Hoffmann et al. 2022, table 2: approach 1 (minimum over
/// training curves), approach 2 (iso-FLOP profiles) and approach 3 (the parametric fit).
pub const CHINCHILLA_APPROACH_EXPONENTS: [(&str, f64); 3] =
    [("approach 1", 0.50), ("approach 2", 0.49), ("approach 3", 0.46)];

/// Training FLOPs `C = 6ND` (Kaplan et al. 2020, section 2.1: 2N per token forward, 4N backward).
pub fn training_flops(n: f64, d: f64) -> f64 {
    6.0 * n * d
}

/// Wall-clock seconds to spend `flops` on `gpus` accelerators of `peak` FLOP/s each at model FLOPs
/// utilisation `mfu` (the fraction of peak the model's own FLOPs achieve; Chowdhery et al. 2022, PaLM,
/// appendix B).
pub fn training_seconds(flops: f64, gpus: f64, peak: f64, mfu: f64) -> f64 {
    flops / (gpus * peak * mfu)
}

/// NVIDIA H100 SXM dense BF16 peak, FLOP/s (989.4 TFLOPS without sparsity; the data-sheet's 1,979 counts 2:4
/// sparsity).
pub const H100_BF16_DENSE: f64 = 989e12;

/// NVIDIA A100 dense BF16 peak, FLOP/s.
pub const A100_BF16_DENSE: f64 = 312e12;

#[cfg(test)]
mod tests;

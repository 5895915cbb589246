//! Quantities of lesson 08 (scaling laws); names start with `scaling.`.

use crate::error::QuantityError;
use crate::lessons::scaling::fit::{
    chinchilla_like_grid, fit_from, quick_starts, synthetic_runs, HUBER_DELTA,
};
use crate::lessons::scaling::{
    kaplan_loss, training_flops, training_seconds, ConstantSet, Parametric,
};
use crate::quantities::{one_of, Args, QuantitySpec};

/// The constant set named by argument `arg`.
fn set(a: &Args, arg: &str) -> Result<Parametric, QuantityError> {
    let name = a.raw(arg);
    ConstantSet::parse(name)
        .map(ConstantSet::constants)
        .ok_or_else(|| {
            a.invalid(
                arg,
                one_of([
                    ConstantSet::Chinchilla.name(),
                    ConstantSet::ChinchillaUnrounded.name(),
                    ConstantSet::Epoch.name(),
                ]),
            )
        })
}

/// A synthetic sweep from the named law, refitted from the quick grid of starts ([`quick_starts`]): the fitted
/// law.
fn refit(a: &Args) -> Result<Parametric, QuantityError> {
    let truth = set(a, "set")?;
    let (sizes, tokens) = chinchilla_like_grid();
    let runs = synthetic_runs(
        &truth,
        &sizes,
        &tokens,
        a.f64_in("sigma", 0.0, 0.2)?,
        a.seed("seed")?,
    );
    let delta = if a.flag("least_squares")? {
        f64::INFINITY
    } else {
        HUBER_DELTA
    };
    fit_from(&runs, delta, &quick_starts())
        .map(|f| f.law)
        .ok_or_else(|| a.failed("the fit found no finite optimum"))
}

const FIT_ARGS: &[(&str, &str)] = &[
    ("set", "chinchilla"),
    ("sigma", "0.01"),
    ("seed", "1"),
    ("least_squares", "false"),
];

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "scaling.loss",
        description: "the parametric law's loss L(N, D) = E + A/N^α + B/D^β (nats per token) under a named constant set",
        args: &[("set", "chinchilla"), ("n", "70e9"), ("d", "1.4e12")],
        eval: |a| {
            Ok(set(a, "set")?.loss(a.f64_in("n", 1.0, 1e16)?, a.f64_in("d", 1.0, 1e18)?))
        },
    },
    QuantitySpec {
        name: "scaling.kaplan_loss",
        description: "Kaplan et al. 2020's L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (nats per token, N without embeddings)",
        args: &[("n", "70e9"), ("d", "1.4e12")],
        eval: |a| Ok(kaplan_loss(a.f64_in("n", 1.0, 1e16)?, a.f64_in("d", 1.0, 1e18)?)),
    },
    QuantitySpec {
        name: "scaling.optimal_n",
        description: "the compute-optimal parameter count G (C/6)^(β/(α+β)) for a budget of `flops` under C = 6ND",
        args: &[("set", "chinchilla"), ("flops", "5.76e23")],
        eval: |a| Ok(set(a, "set")?.optimal(a.f64_in("flops", 1e10, 1e32)?).n),
    },
    QuantitySpec {
        name: "scaling.optimal_d",
        description: "the compute-optimal token count C/(6 N_opt) for a budget of `flops`",
        args: &[("set", "chinchilla"), ("flops", "5.76e23")],
        eval: |a| Ok(set(a, "set")?.optimal(a.f64_in("flops", 1e10, 1e32)?).d),
    },
    QuantitySpec {
        name: "scaling.tokens_per_param",
        description: "D_opt/N_opt at a budget of `flops`: constant in C only when α = β",
        args: &[("set", "chinchilla"), ("flops", "5.76e23")],
        eval: |a| {
            Ok(set(a, "set")?
                .optimal(a.f64_in("flops", 1e10, 1e32)?)
                .tokens_per_param())
        },
    },
    QuantitySpec {
        name: "scaling.n_exponent",
        description: "the exponent a = β/(α+β) of N_opt ∝ C^a under a named constant set",
        args: &[("set", "chinchilla")],
        eval: |a| Ok(set(a, "set")?.n_exponent()),
    },
    QuantitySpec {
        name: "scaling.optimality_ratio",
        description: "at the compute-optimal point, the parameter term A/N^α over the data term B/D^β: β/α (the Lagrange condition α A N^−α = β B D^−β)",
        args: &[("set", "chinchilla"), ("flops", "5.76e23")],
        eval: |a| {
            let law = set(a, "set")?;
            let opt = law.optimal(a.f64_in("flops", 1e10, 1e32)?);
            Ok((law.a * crate::math::powf(opt.n, -law.alpha))
                / (law.b * crate::math::powf(opt.d, -law.beta)))
        },
    },
    QuantitySpec {
        name: "scaling.off_frontier_excess",
        description: "loss above the compute-optimal loss at the same budget for a model `factor` times the optimal size (D shrinks by the same factor)",
        args: &[("set", "chinchilla"), ("flops", "5.76e23"), ("factor", "4")],
        eval: |a| {
            let law = set(a, "set")?;
            let flops = a.f64_in("flops", 1e10, 1e32)?;
            let opt = law.optimal(flops);
            Ok(law.iso_flop_loss(flops, opt.n * a.f64_in("factor", 1e-4, 1e4)?) - opt.loss)
        },
    },
    QuantitySpec {
        name: "scaling.overtrain_compute_ratio",
        description: "training compute needed by a model `fraction` of the compute-optimal size to reach the optimal loss of a budget, over that budget",
        args: &[("set", "chinchilla"), ("flops", "5.76e23"), ("fraction", "0.5")],
        eval: |a| {
            let law = set(a, "set")?;
            let flops = a.f64_in("flops", 1e10, 1e32)?;
            let opt = law.optimal(flops);
            let n = opt.n * a.f64_in("fraction", 1e-3, 1.0)?;
            let d = law
                .tokens_to_reach(n, opt.loss)
                .ok_or_else(|| a.failed("a model this small cannot reach the optimal loss"))?;
            Ok(training_flops(n, d) / flops)
        },
    },
    QuantitySpec {
        name: "scaling.overtrain_tokens_per_param",
        description: "tokens per parameter of a model `fraction` of the compute-optimal size trained to the optimal loss of a budget",
        args: &[("set", "chinchilla"), ("flops", "5.76e23"), ("fraction", "0.5")],
        eval: |a| {
            let law = set(a, "set")?;
            let opt = law.optimal(a.f64_in("flops", 1e10, 1e32)?);
            let n = opt.n * a.f64_in("fraction", 1e-3, 1.0)?;
            let d = law
                .tokens_to_reach(n, opt.loss)
                .ok_or_else(|| a.failed("a model this small cannot reach the optimal loss"))?;
            Ok(d / n)
        },
    },
    QuantitySpec {
        name: "scaling.run_tokens_per_param",
        description: "tokens per parameter D/N of a given run (20 for Chinchilla's 70B on 1.4T tokens)",
        args: &[("n", "70e9"), ("d", "1.4e12")],
        eval: |a| Ok(a.f64_in("d", 1.0, 1e18)? / a.f64_in("n", 1.0, 1e16)?),
    },
    QuantitySpec {
        name: "scaling.bits_per_byte",
        description: "bits per byte of a per-token loss: (L / ln 2) / (bytes per token), the tokenizer-free unit",
        args: &[("loss", "2"), ("bytes_per_token", "4")],
        eval: |a| {
            Ok(a.f64_in("loss", 0.0, 100.0)?
                / core::f64::consts::LN_2
                / a.f64_in("bytes_per_token", 0.1, 100.0)?)
        },
    },
    QuantitySpec {
        name: "scaling.training_flops",
        description: "training FLOPs 6ND",
        args: &[("n", "70e9"), ("d", "1.4e12")],
        eval: |a| Ok(training_flops(a.f64_in("n", 1.0, 1e16)?, a.f64_in("d", 1.0, 1e18)?)),
    },
    QuantitySpec {
        name: "scaling.training_days",
        description: "days to train N parameters on D tokens (6ND FLOPs) on `gpus` accelerators of `peak` TFLOP/s at model FLOPs utilisation `mfu`",
        args: &[
            ("n", "70e9"),
            ("d", "1.4e12"),
            ("gpus", "1000"),
            ("peak", "989"),
            ("mfu", "1"),
        ],
        eval: |a| {
            let flops = training_flops(a.f64_in("n", 1.0, 1e16)?, a.f64_in("d", 1.0, 1e18)?);
            Ok(training_seconds(
                flops,
                a.f64_in("gpus", 1.0, 1e7)?,
                a.f64_in("peak", 1e-3, 1e6)? * 1e12,
                a.f64_in("mfu", 1e-3, 1.0)?,
            ) / 86_400.0)
        },
    },
    QuantitySpec {
        name: "scaling.fit_alpha",
        description: "α recovered by the Huber fit (δ = 1e−3, or least squares) from 42 synthetic runs of a named law with log-normal noise σ",
        args: FIT_ARGS,
        eval: |a| Ok(refit(a)?.alpha),
    },
    QuantitySpec {
        name: "scaling.fit_beta",
        description: "β recovered by the fit from the same synthetic runs",
        args: FIT_ARGS,
        eval: |a| Ok(refit(a)?.beta),
    },
    QuantitySpec {
        name: "scaling.fit_e",
        description: "E recovered by the fit from the same synthetic runs",
        args: FIT_ARGS,
        eval: |a| Ok(refit(a)?.e),
    },
    QuantitySpec {
        name: "scaling.fit_tokens_per_param",
        description: "tokens per parameter at a budget of `flops` under the refitted law",
        args: &[
            ("set", "chinchilla"),
            ("sigma", "0.01"),
            ("seed", "1"),
            ("least_squares", "false"),
            ("flops", "5.76e23"),
        ],
        eval: |a| {
            Ok(refit(a)?
                .optimal(a.f64_in("flops", 1e10, 1e32)?)
                .tokens_per_param())
        },
    },
];

//! Quantities of the lesson on optimizers (names start with `optim.`).

use crate::error::QuantityError;
use crate::lessons::optim::{self, Config, Kind, Optimizer};
use crate::quantities::{Args, QuantitySpec};
use crate::rng::Rng;

/// The arguments of the noisy-quadratic quantities that take a batch size.
const BATCH_ARGS: &[(&str, &str)] = &[
    ("batch", "64"),
    ("kappa", "100"),
    ("noise_scale", "64"),
    ("target", "1e-3"),
];

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "optim.sgd_noise_variance",
        description: "Measured stationary variance of SGD on ½hx² with gradient noise N(0, σ²)",
        args: &[
            ("h", "1"),
            ("lr", "0.1"),
            ("sigma", "1"),
            ("steps", "200000"),
            ("seed", "1"),
        ],
        eval: sgd_noise_variance,
    },
    QuantitySpec {
        name: "optim.sgd_noise_variance_theory",
        description: "Stationary variance ησ²/(h(2 − ηh)) of SGD on ½hx² with gradient noise N(0, σ²)",
        args: &[("h", "1"), ("lr", "0.1"), ("sigma", "1")],
        eval: sgd_noise_variance,
    },
    QuantitySpec {
        name: "optim.adam_const_step",
        description: "Adam's step |Δp|/lr at step t of a constant gradient g (engine optimizer)",
        args: &[
            ("g", "1"),
            ("t", "1"),
            ("beta1", "0.9"),
            ("beta2", "0.999"),
            ("eps", "1e-8"),
            ("bias_correction", "1"),
        ],
        eval: |a| {
            let g = a.f64_in("g", -1e12, 1e12)?;
            let t = a.usize_in("t", 1, 100_000)? as u64;
            let b1 = a.f64_in("beta1", 0.0, 0.9999)?;
            let b2 = a.f64_in("beta2", 0.0, 0.99999)?;
            let eps = a.f64_in("eps", 0.0, 1.0)?;
            let bc = a.flag("bias_correction")?;
            Ok(optim::adam_constant_gradient_step(g, t, b1, b2, eps, bc))
        },
    },
    QuantitySpec {
        name: "optim.one_minus_beta_t",
        description: "The bias factor 1 − β^t of an exponential moving average started at zero",
        args: &[("beta", "0.9"), ("t", "1")],
        eval: |a| {
            let b = a.f64_in("beta", 0.0, 0.99999)?;
            let t = a.usize_in("t", 0, 10_000_000)?;
            Ok(1.0 - crate::math::powf(b, t as f64))
        },
    },
    QuantitySpec {
        name: "optim.ema_bias_ratio",
        description: "Monte Carlo E[m_t]/E[g] of an EMA from m_0 = 0 with g ~ N(1, 1)",
        args: &[
            ("beta", "0.9"),
            ("t", "1"),
            ("runs", "20000"),
            ("seed", "1"),
        ],
        eval: |a| {
            let b = a.f64_in("beta", 0.0, 0.9999)?;
            let t = a.usize_in("t", 1, 1000)? as u64;
            let runs = a.usize_in("runs", 1, 200_000)?;
            Ok(optim::ema_bias_ratio(b, t, runs, a.seed("seed")?))
        },
    },
    QuantitySpec {
        name: "optim.adam_noise_step",
        description: "Adam's simulated mean step per lr under gradients N(snr, 1) after a burn-in",
        args: &[
            ("snr", "1"),
            ("beta1", "0.9"),
            ("beta2", "0.999"),
            ("steps", "20000"),
            ("seed", "1"),
        ],
        eval: |a| {
            let snr = a.f64_in("snr", 0.0, 1000.0)?;
            let b1 = a.f64_in("beta1", 0.0, 0.9999)?;
            let b2 = a.f64_in("beta2", 0.0, 0.99999)?;
            let steps = a.usize_in("steps", 1, 1_000_000)?;
            // A burn-in of ten second-moment time constants lets v forget its zero start.
            let burn_in = (10.0 / (1.0 - b2)).min(100_000.0) as usize;
            Ok(optim::adam_noisy_step(snr, b1, b2, burn_in, steps, a.seed("seed")?).0)
        },
    },
    QuantitySpec {
        name: "optim.adam_step_rms",
        description: "Adam's simulated root-mean-square step per lr under gradients N(snr, 1) after a burn-in",
        args: &[
            ("snr", "0"),
            ("beta1", "0.9"),
            ("beta2", "0.999"),
            ("steps", "20000"),
            ("seed", "1"),
        ],
        eval: |a| {
            let snr = a.f64_in("snr", 0.0, 1000.0)?;
            let b1 = a.f64_in("beta1", 0.0, 0.9999)?;
            let b2 = a.f64_in("beta2", 0.0, 0.99999)?;
            let steps = a.usize_in("steps", 1, 1_000_000)?;
            let burn_in = (10.0 / (1.0 - b2)).min(100_000.0) as usize;
            let (mean, std) = optim::adam_noisy_step(snr, b1, b2, burn_in, steps, a.seed("seed")?);
            Ok((mean * mean + std * std).sqrt())
        },
    },
    QuantitySpec {
        name: "optim.adam_noise_theory",
        description: "Adam's stationary step per lr in theory: snr/sqrt(1 + snr^2)",
        args: &[("snr", "1")],
        eval: |a| {
            Ok(optim::adam_noisy_step_theory(a.f64_in("snr", 0.0, 1000.0)?))
        },
    },
    QuantitySpec {
        name: "optim.gd_rate",
        description: "Best per-step contraction of gradient descent on a quadratic: (κ−1)/(κ+1)",
        args: &[("kappa", "100")],
        eval: |a| Ok(optim::gd_rate(a.f64_in("kappa", 1.0, 1e9)?)),
    },
    QuantitySpec {
        name: "optim.heavy_ball_rate",
        description:
            "Best per-step contraction of heavy-ball momentum on a quadratic: (√κ−1)/(√κ+1)",
        args: &[("kappa", "100")],
        eval: |a| Ok(optim::heavy_ball_rate(a.f64_in("kappa", 1.0, 1e9)?)),
    },
    QuantitySpec {
        name: "optim.heavy_ball_lr_limit",
        description: "Largest stable learning rate of heavy-ball momentum μ on curvature h: 2(1 + μ)/h",
        args: &[("h", "1"), ("momentum", "0")],
        eval: |a| Ok(optim::heavy_ball_lr_limit(
            a.f64_in("h", 1e-9, 1e9)?,
            a.f64_in("momentum", 0.0, 0.9999)?,
        )),
    },
    QuantitySpec {
        name: "optim.measured_rate",
        description:
            "Measured per-step contraction of optimally tuned GD or heavy ball on ½(κx² + y²)",
        args: &[("kappa", "100"), ("heavy_ball", "0"), ("steps", "1000")],
        eval: |a| {
            let kappa = a.f64_in("kappa", 1.0, 1e6)?;
            let hb = a.flag("heavy_ball")?;
            let steps = a.usize_in("steps", 1, 100_000)?;
            Ok(optim::measured_quadratic_rate(kappa, hb, steps))
        },
    },
    QuantitySpec {
        name: "optim.iterations",
        description: "Steps to shrink the error by `factor` at the optimal GD or heavy-ball rate",
        args: &[("kappa", "100"), ("heavy_ball", "0"), ("factor", "1e-6")],
        eval: |a| {
            let kappa = a.f64_in("kappa", 1.0001, 1e9)?;
            let rate = if a.flag("heavy_ball")? {
                optim::heavy_ball_rate(kappa)
            } else {
                optim::gd_rate(kappa)
            };
            let factor = a.f64_in("factor", 1e-300, 0.999)?;
            Ok((crate::math::ln(factor) / crate::math::ln(rate)).ceil())
        },
    },
    QuantitySpec {
        name: "optim.bytes_per_param",
        description:
            "Training bytes per parameter: weights, grads, fp32 master (mixed) and optimizer states",
        args: &[
            ("optimizer", "adam"),
            ("mixed", "1"),
            ("momentum", "0"),
            ("states_only", "0"),
        ],
        eval: bytes_per_param,
    },
    QuantitySpec {
        name: "optim.memory_gb",
        description:
            "Training memory in GB (10^9 bytes) for `billions` parameters, as optim.bytes_per_param",
        args: &[
            ("billions", "7"),
            ("optimizer", "adam"),
            ("mixed", "1"),
            ("momentum", "0"),
            ("states_only", "0"),
        ],
        eval: bytes_per_param,
    },
    QuantitySpec {
        name: "optim.decay_race",
        description:
            "Parameter `coord` after `steps` of Adam+L2 or AdamW on ½Σ a_i (p_i − 1)^2 from p = 1",
        args: &[
            ("optimizer", "adam"),
            ("coord", "1"),
            ("a_big", "100"),
            ("a_small", "0.01"),
            ("lr", "0.01"),
            ("weight_decay", "0.1"),
            ("steps", "2000"),
        ],
        eval: |a| {
            let k = kind(a, "optimizer")?;
            let coord = a.usize_in("coord", 0, 1)?;
            let big = a.f64_in("a_big", 1e-6, 1e6)?;
            let small = a.f64_in("a_small", 1e-6, 1e6)?;
            let lr = a.f64_in("lr", 0.0, 10.0)?;
            let wd = a.f64_in("weight_decay", 0.0, 10.0)?;
            let steps = a.usize_in("steps", 1, 200_000)?;
            let path = optim::decay_race(k, [big, small], lr, wd, 0.0, steps, 0);
            Ok(path.last().map_or(f64::NAN, |p| p[coord]))
        },
    },
    QuantitySpec {
        name: "optim.decay_race_mean",
        description: "Mean of parameter `coord` over the second half of `steps` of Adam+L2 or AdamW on \
                      ½Σ a_i (p_i − 1)^2 from p = 1, with gradient noise N(0, (noise·a_i)^2)",
        args: &[
            ("optimizer", "adamw"),
            ("coord", "1"),
            ("a_big", "100"),
            ("a_small", "0.01"),
            ("lr", "0.01"),
            ("weight_decay", "0.1"),
            ("noise", "1"),
            ("steps", "40000"),
            ("seed", "1"),
        ],
        eval: |a| {
            let k = kind(a, "optimizer")?;
            let coord = a.usize_in("coord", 0, 1)?;
            let big = a.f64_in("a_big", 1e-6, 1e6)?;
            let small = a.f64_in("a_small", 1e-6, 1e6)?;
            let lr = a.f64_in("lr", 0.0, 10.0)?;
            let wd = a.f64_in("weight_decay", 0.0, 10.0)?;
            let noise = a.f64_in("noise", 0.0, 100.0)?;
            let steps = a.usize_in("steps", 2, 1_000_000)?;
            let path = optim::decay_race(k, [big, small], lr, wd, noise, steps, a.seed("seed")?);
            Ok(optim::second_half_mean(&path, coord))
        },
    },
    QuantitySpec {
        name: "optim.l2_fixed_point",
        description: "Minimiser a/(a + λ) of ½a(p − 1)^2 + ½λp^2",
        args: &[("a", "0.01"), ("weight_decay", "0.1")],
        eval: |a| Ok(optim::l2_fixed_point(
            a.f64_in("a", 1e-9, 1e9)?,
            a.f64_in("weight_decay", 0.0, 1e9)?,
        )),
    },
    QuantitySpec {
        name: "optim.lion_step",
        description:
            "Mean |Δp|/lr of one Lion step on n random coordinates with gradients of scale `scale`",
        args: &[("n", "1000"), ("scale", "1"), ("seed", "1")],
        eval: |a| {
            let n = a.usize_in("n", 1, 1_000_000)?;
            let scale = a.f64_in("scale", 1e-12, 1e12)?;
            let (mut p, mut g) = random_layer(n, 1.0, a.seed("seed")?);
            g.iter_mut().for_each(|x| *x *= scale);
            let before = p.clone();
            let lr = 1e-3;
            let mut opt =
                Optimizer::new(Config::new(Kind::Lion, lr), &[n]).map_err(|e| a.failed(e))?;
            opt.step(&mut p, &g, lr).map_err(|e| a.failed(e))?;
            Ok(p.iter()
                .zip(&before)
                .map(|(x, y)| (x - y).abs())
                .sum::<f64>()
                / (n as f64 * lr))
        },
    },
    QuantitySpec {
        name: "optim.lamb_relative_update",
        description: "‖Δp‖/‖p‖ of LAMB's first step on a layer of n weights N(0, std²), no decay",
        args: &[
            ("n", "4096"),
            ("std", "0.02"),
            ("lr", "0.001"),
            ("seed", "1"),
        ],
        eval: |a| relative_update(a, Kind::Lamb),
    },
    QuantitySpec {
        name: "optim.adam_relative_update",
        description: "‖Δp‖/‖p‖ of Adam's first step on a layer of n weights N(0, std²)",
        args: &[
            ("n", "4096"),
            ("std", "0.02"),
            ("lr", "0.001"),
            ("seed", "1"),
        ],
        eval: |a| relative_update(a, Kind::Adam),
    },
    QuantitySpec {
        name: "optim.radam_first_step",
        description: "First step t at which RAdam's ρ_t exceeds 4 (rectification on)",
        args: &[("beta2", "0.999")],
        eval: |a| {
            Ok(optim::radam_first_rectified_step(a.f64_in("beta2", 0.5, 0.99999)?) as f64)
        },
    },
    QuantitySpec {
        name: "optim.radam_rectification",
        description: "RAdam's rectification factor r_t at step t",
        args: &[("beta2", "0.999"), ("t", "10")],
        eval: |a| Ok(optim::radam_rectification(
            a.f64_in("beta2", 0.5, 0.99999)?,
            a.usize_in("t", 1, 10_000_000)? as u64,
        )),
    },
    QuantitySpec {
        name: "optim.v_hat_rel_std",
        description:
            "Relative std of Adam's v̂_t (β2) over runs, gradients N(0, 1): how noisy early v̂ is",
        args: &[
            ("beta2", "0.999"),
            ("t", "1"),
            ("runs", "20000"),
            ("seed", "1"),
        ],
        eval: |a| {
            let b2 = a.f64_in("beta2", 0.0, 0.99999)?;
            let t = a.usize_in("t", 1, 10_000)?;
            let runs = a.usize_in("runs", 2, 200_000)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let (mut s, mut s2) = (0.0, 0.0);
            for _ in 0..runs {
                let mut v = 0.0;
                for _ in 0..t {
                    let g = rng.normal();
                    v = b2 * v + (1.0 - b2) * g * g;
                }
                let v_hat = v / (1.0 - crate::math::powf(b2, t as f64));
                s += v_hat;
                s2 += v_hat * v_hat;
            }
            let n = runs as f64;
            let mean = s / n;
            Ok((s2 / n - mean * mean).max(0.0).sqrt() / mean)
        },
    },
    QuantitySpec {
        name: "optim.batch_steps",
        description: "Fewest SGD steps to an expected loss of target·L0 on the noisy quadratic ½(κx² + y²) \
                      with noise scale B_noise, at the best constant learning rate for batch size B",
        args: BATCH_ARGS,
        eval: batch_best,
    },
    QuantitySpec {
        name: "optim.batch_best_lr",
        description: "The best constant learning rate for batch size B on the noisy quadratic, as a \
                      fraction of ε_max = 2/(κ + 1)",
        args: BATCH_ARGS,
        eval: batch_best,
    },
    QuantitySpec {
        name: "optim.batch_lr_theory",
        description: "McCandlish et al.'s optimal learning rate as a fraction of ε_max: 1/(1 + B_noise/B)",
        args: &[("batch", "64"), ("noise_scale", "64")],
        eval: |a| {
            let b = a.f64_in("batch", 1.0, 1e6)?;
            let n = a.f64_in("noise_scale", 0.0, 1e6)?;
            Ok(1.0 / (1.0 + n / b))
        },
    },
    QuantitySpec {
        name: "optim.batch_steps_theory",
        description: "Predicted steps S_min(1 + B_noise/B) on the noisy quadratic, S_min = ln(1/(2·target))(κ + 1)²/(4κ)",
        args: BATCH_ARGS,
        eval: |a| {
            let b = a.f64_in("batch", 1.0, 1e6)?;
            Ok(noisy_quadratic(a)?.steps_theory(b))
        },
    },
    QuantitySpec {
        name: "optim.batch_step_loss_sgd",
        description: "Mean loss after one engine-SGD step from loss 1 on the noisy quadratic, over `runs` \
                      Monte Carlo draws, at learning rate lr_frac·ε_max and batch B",
        args: &[
            ("batch", "64"),
            ("lr_frac", "0.5"),
            ("kappa", "100"),
            ("noise_scale", "64"),
            ("runs", "20000"),
            ("seed", "1"),
        ],
        eval: batch_step_loss,
    },
    QuantitySpec {
        name: "optim.batch_step_loss",
        description: "Expected loss after one SGD step from loss 1 on the noisy quadratic: ½Σ((1 − εhᵢ)² + \
                      ε²hᵢ²B_noise/B), ε = lr_frac·ε_max",
        args: &[
            ("batch", "64"),
            ("lr_frac", "0.5"),
            ("kappa", "100"),
            ("noise_scale", "64"),
        ],
        eval: batch_step_loss,
    },
    QuantitySpec {
        name: "optim.batch_fit_min_steps",
        description: "S_min fitted to S(B) = S_min(1 + B_crit/B) over B = 1, 2, …, 4096 on the noisy quadratic",
        args: &[("kappa", "100"), ("noise_scale", "64"), ("target", "1e-3")],
        eval: |a| Ok(noisy_quadratic(a)?.fit().0),
    },
    QuantitySpec {
        name: "optim.batch_fit_critical",
        description: "Critical batch size B_crit fitted to S(B) = S_min(1 + B_crit/B) over B = 1, 2, …, 4096 \
                      on the noisy quadratic",
        args: &[("kappa", "100"), ("noise_scale", "64"), ("target", "1e-3")],
        eval: |a| Ok(noisy_quadratic(a)?.fit().1),
    },
    QuantitySpec {
        name: "optim.batch_lr_exponent",
        description: "Slope of log(best learning rate) against log(B) between batch sizes b_lo and b_hi \
                      (powers of 2) on the noisy quadratic: 1 is the linear scaling rule",
        args: &[
            ("b_lo", "1"),
            ("b_hi", "8"),
            ("kappa", "100"),
            ("noise_scale", "64"),
            ("target", "1e-3"),
        ],
        eval: |a| {
            let lo = a.f64_in("b_lo", 1.0, 1e6)?;
            let hi = a.f64_in("b_hi", 2.0, 1e6)?;
            if hi <= lo {
                return Err(a.invalid("b_hi", "a batch size above b_lo".into()));
            }
            let q = noisy_quadratic(a)?;
            let mut points = Vec::new();
            let mut b = lo;
            while b <= hi {
                let (lr, _) = q
                    .best(b)
                    .ok_or_else(|| a.failed("no learning rate reaches the target"))?;
                points.push((b, lr));
                b *= 2.0;
            }
            Ok(crate::stats::power_law_fit(&points).0)
        },
    },
    QuantitySpec {
        name: "optim.linear_scaling_gap",
        description: "Relative difference between k GD steps at lr and one step at k·lr on ½hx² \
                      (noiseless): ≈ (k − 1)·lr·h/2",
        args: &[("h", "1"), ("lr", "0.01"), ("k", "8")],
        eval: |a| {
            let h = a.f64_in("h", 1e-9, 1e9)?;
            let lr = a.f64_in("lr", 1e-12, 1e3)?;
            let k = a.usize_in("k", 1, 1_000_000)? as u32;
            Ok(optim::linear_scaling_gap(h, lr, k))
        },
    },
    QuantitySpec {
        name: "optim.layer_ratio",
        description: "‖W_l‖/‖∇W_l‖ of weight matrix `layer` (0 = input side) of a fresh He-initialised ReLU MLP \
                      2 → width×depth → 2 on 256 two-spiral points",
        args: &[("layer", "0"), ("width", "64"), ("depth", "3"), ("seed", "1")],
        eval: |a| layer_stat(a, |r, l| r.ratios[l]),
    },
    QuantitySpec {
        name: "optim.layer_ratio_spread",
        description: "max/min over layers of ‖W_l‖/‖∇W_l‖ for the fresh MLP of optim.layer_ratio",
        args: &[("width", "64"), ("depth", "3"), ("seed", "1")],
        eval: |a| layer_stat(a, |r, _| r.spread()),
    },
    QuantitySpec {
        name: "optim.layer_lamb_trust",
        description: "LAMB's first-step trust ratio ‖W_l‖/‖u_l‖ of weight matrix `layer` of the fresh MLP of \
                      optim.layer_ratio (engine LAMB step, no decay)",
        args: &[("layer", "0"), ("width", "64"), ("depth", "3"), ("seed", "1")],
        eval: |a| layer_stat(a, |r, l| r.lamb_trust[l]),
    },
    QuantitySpec {
        name: "optim.layer_trust_spread",
        description: "max/min over layers of LAMB's first-step trust ratio for the fresh MLP of optim.layer_ratio: \
                      the spread of Adam's relative per-layer update",
        args: &[("width", "64"), ("depth", "3"), ("seed", "1")],
        eval: |a| {
            layer_stat(a, |r, _| {
                let max = r.lamb_trust.iter().copied().fold(f64::MIN, f64::max);
                let min = r.lamb_trust.iter().copied().fold(f64::MAX, f64::min);
                max / min
            })
        },
    },
];

/// The noisy quadratic of `optim.batch_*` from the arguments `kappa`, `noise_scale` and `target`.
fn noisy_quadratic(a: &Args) -> Result<optim::NoisyQuadratic, QuantityError> {
    Ok(optim::NoisyQuadratic {
        kappa: a.f64_in("kappa", 10.0, 1e4)?,
        noise_scale: a.f64_in("noise_scale", 0.0, 1e4)?,
        target: a.f64_in("target", 1e-9, 0.4)?,
    })
}

/// Shared by `optim.batch_step_loss` (the exact expectation) and `optim.batch_step_loss_sgd` (its Monte Carlo
/// estimate with the engine's SGD).
fn batch_step_loss(a: &Args) -> Result<f64, QuantityError> {
    let b = a.f64_in("batch", 1.0, 1e6)?;
    let q = optim::NoisyQuadratic {
        kappa: a.f64_in("kappa", 10.0, 1e4)?,
        noise_scale: a.f64_in("noise_scale", 0.0, 1e4)?,
        target: 1e-3,
    };
    let lr = a.f64_in("lr_frac", 0.0, 1.05)? * q.lr_max();
    if a.name() == "optim.batch_step_loss" {
        return Ok(q.expected_loss(lr, b, 1));
    }
    let runs = a.usize_in("runs", 2, 200_000)?;
    Ok(q.one_step_loss_sgd(lr, b, runs, a.seed("seed")?))
}

/// Shared by `optim.batch_steps` (the step count) and `optim.batch_best_lr` (the rate over `ε_max`).
fn batch_best(a: &Args) -> Result<f64, QuantityError> {
    let b = a.f64_in("batch", 1.0, 1e6)?;
    let q = noisy_quadratic(a)?;
    let (lr, steps) = q
        .best(b)
        .ok_or_else(|| a.failed("no learning rate reaches the target"))?;
    if a.name() == "optim.batch_steps" {
        Ok(steps as f64)
    } else {
        Ok(lr / q.lr_max())
    }
}

/// Evaluates `pick(ratios, layer)` on the MLP of `optim.layer_*`; `layer` is read only when the quantity has it.
fn layer_stat(a: &Args, pick: fn(&optim::LayerRatios, usize) -> f64) -> Result<f64, QuantityError> {
    let width = a.usize_in("width", 2, 512)?;
    let depth = a.usize_in("depth", 1, 8)?;
    let layer = if a.name().ends_with("_spread") {
        0
    } else {
        a.usize_in("layer", 0, depth)?
    };
    let r = optim::layer_ratios(width, depth, a.seed("seed")?)
        .ok_or_else(|| a.failed("the network could not be built"))?;
    Ok(pick(&r, layer))
}

fn kind(a: &Args, arg: &str) -> Result<Kind, QuantityError> {
    Kind::parse(a.raw(arg))
        .ok_or_else(|| a.invalid(arg, crate::quantities::one_of(Kind::ALL.map(Kind::name))))
}

fn random_layer(n: usize, std: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(seed);
    let p: Vec<f64> = (0..n).map(|_| std * rng.normal()).collect();
    let g: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    (p, g)
}

fn relative_update(a: &Args, k: Kind) -> Result<f64, QuantityError> {
    let n = a.usize_in("n", 1, 1_000_000)?;
    let std = a.f64_in("std", 1e-6, 10.0)?;
    let lr = a.f64_in("lr", 0.0, 1.0)?;
    let seed = a.seed("seed")?;
    let (mut p, g) = random_layer(n, std, seed);
    let before = p.clone();
    let mut opt = Optimizer::new(Config::new(k, lr), &[n]).map_err(|e| a.failed(e))?;
    opt.step(&mut p, &g, lr).map_err(|e| a.failed(e))?;
    let delta: Vec<f64> = p.iter().zip(&before).map(|(x, y)| x - y).collect();
    Ok(crate::stats::l2_norm(&delta) / crate::stats::l2_norm(&before))
}

/// Shared by `optim.sgd_noise_variance`, `optim.sgd_noise_variance_theory`.
fn sgd_noise_variance(a: &Args) -> Result<f64, QuantityError> {
    let h = a.f64_in("h", 1e-3, 1e3)?;
    let sigma = a.f64_in("sigma", 0.0, 1e3)?;
    let lr = a.f64_in("lr", 1e-6, 1e3)?;
    if lr * h >= 2.0 {
        return Err(a.invalid(
            "lr",
            "a learning rate below 2/h (otherwise SGD diverges)".into(),
        ));
    }
    if a.name() == "optim.sgd_noise_variance_theory" {
        return Ok(optim::sgd_stationary_variance(h, lr, sigma));
    }
    let steps = a.usize_in("steps", 100, 2_000_000)?;
    Ok(optim::sgd_measured_variance(
        h,
        lr,
        sigma,
        steps,
        a.seed("seed")?,
    ))
}

/// Shared by `optim.bytes_per_param`, `optim.memory_gb`.
fn bytes_per_param(a: &Args) -> Result<f64, QuantityError> {
    let k = kind(a, "optimizer")?;
    let mixed = a.flag("mixed")?;
    let momentum = a.flag("momentum")?;
    let per = if a.flag("states_only")? {
        optim::state_bytes_per_param(k, momentum, 4.0)
    } else {
        optim::training_bytes_per_param(k, momentum, mixed)
    };
    if a.name() == "optim.bytes_per_param" {
        Ok(per)
    } else {
        Ok(a.f64_in("billions", 0.0, 1e6)? * per)
    }
}
#[cfg(test)]
mod tests {
    use crate::quantities::evaluate;

    #[test]
    fn memory_for_seven_billion_parameters() {
        // Adam's two fp32 states: 7e9 · 8 B = 56 GB; mixed-precision training state: 7e9 · 16 B = 112 GB
        // (Rajbhandari et al. 2020 count 2 + 2 + 12 bytes per parameter for mixed-precision Adam).
        let states = evaluate("optim.memory_gb", &[("states_only", "1")]).unwrap();
        assert!((states - 56.0).abs() < 1e-9);
        let all = evaluate("optim.memory_gb", &[]).unwrap();
        assert!((all - 112.0).abs() < 1e-9);
        let lion = evaluate("optim.memory_gb", &[("optimizer", "lion")]).unwrap();
        assert!((lion - 84.0).abs() < 1e-9);
    }

    #[test]
    fn adam_with_l2_shrinks_the_small_gradient_parameter_and_adamw_does_not() {
        let adam = evaluate("optim.decay_race", &[("optimizer", "adam")]).unwrap();
        let adamw = evaluate("optim.decay_race", &[("optimizer", "adamw")]).unwrap();
        // The L2 fixed point of the small-curvature coordinate is 0.01/(0.01 + 0.1) = 0.0909.
        assert!((adam - 0.0909).abs() < 0.02, "{adam}");
        assert!(adamw > 0.5, "{adamw}");
    }

    #[test]
    fn noisy_adamw_shrinks_both_scales_alike_and_adam_l2_does_not() {
        // AdamW balances its decay λθ against the normalised gradient, whose mean is snr/√(1 + snr²) with
        // snr = (1 − θ)/s for relative noise s: solving (1 − θ)/√(1 + (1 − θ)²) = 0.1·θ gives θ = 0.9087
        // for s = 1, whatever the curvature. A numpy run of the same Adam update on one coordinate
        // (β = (0.9, 0.999), ε = 1e-8, lr = 0.01, λ = 0.1, 40 000 steps, mean of the second half) gave
        // 0.9086 for a = 100 and for a = 0.01 with the same noise draws:
        //   th -= lr*lam*th; g = a*(th-1) + a*xi; m = .9*m + .1*g; v = .999*v + .001*g*g;
        //   th -= lr*(m/(1-.9**t))/(sqrt(v/(1-.999**t)) + 1e-8)
        // The tolerance covers the time average's Monte Carlo error (θ wanders by about 0.1 with a
        // correlation time of about s/lr = 100 steps, so 100 000 averaged steps leave about ±0.005) and the
        // theory's neglect of those wanderings.
        for coord in ["0", "1"] {
            let w = evaluate(
                "optim.decay_race_mean",
                &[("coord", coord), ("steps", "200000")],
            )
            .unwrap();
            assert!((w - 0.9087).abs() < 0.02, "AdamW coord {coord}: {w}");
        }
        // Adam + L2 under the same noise sits at the L2 minimisers 100/100.1 = 0.999 and 0.01/0.11 = 0.0909.
        let big = evaluate(
            "optim.decay_race_mean",
            &[("optimizer", "adam"), ("coord", "0"), ("steps", "200000")],
        )
        .unwrap();
        let small = evaluate(
            "optim.decay_race_mean",
            &[("optimizer", "adam"), ("coord", "1"), ("steps", "200000")],
        )
        .unwrap();
        assert!((big - 0.999).abs() < 0.01, "{big}");
        assert!((small - 0.0909).abs() < 0.01, "{small}");
    }

    #[test]
    fn lamb_moves_each_layer_by_lr_relative_and_lion_by_exactly_lr() {
        let r = evaluate("optim.lamb_relative_update", &[]).unwrap();
        assert!((r - 0.001).abs() < 1e-6, "{r}");
        let l = evaluate("optim.lion_step", &[("scale", "1e-6")]).unwrap();
        assert!((l - 1.0).abs() < 1e-9, "{l}");
    }

    #[test]
    fn rates_and_iterations() {
        // (100 − 1)/(100 + 1) = 0.980198; (10 − 1)/(10 + 1) = 0.818182.
        let gd = evaluate("optim.gd_rate", &[]).unwrap();
        assert!((gd - 99.0 / 101.0).abs() < 1e-15);
        let hb = evaluate("optim.heavy_ball_rate", &[]).unwrap();
        assert!((hb - 9.0 / 11.0).abs() < 1e-15);
        // ln(1e-6)/ln(99/101) = 690.8 → 691; ln(1e-6)/ln(9/11) = 68.85 → 69.
        let n = evaluate("optim.iterations", &[]).unwrap();
        assert!((n - 691.0).abs() < 0.5, "{n}");
        let n = evaluate("optim.iterations", &[("heavy_ball", "1")]).unwrap();
        assert!((n - 69.0).abs() < 0.5, "{n}");
    }

    #[test]
    fn early_v_hat_is_noisy() {
        // At t = 1, v̂ = g² with g ~ N(0,1): a chi-square with one degree of freedom, relative std √2.
        let r = evaluate("optim.v_hat_rel_std", &[("t", "1")]).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 0.05, "{r}");
    }

    #[test]
    fn batch_scaling_quantities() {
        // Reference values from the numpy script pasted in lessons/optim/tests.rs (the same grid and fit).
        let crit = evaluate("optim.batch_fit_critical", &[]).unwrap();
        assert!((crit - 66.310).abs() < 0.01, "{crit}");
        let steps = evaluate("optim.batch_steps", &[("batch", "1")]).unwrap();
        assert!((steps - 10477.0).abs() < 0.5, "{steps}");
        let lr = evaluate("optim.batch_best_lr", &[("batch", "64")]).unwrap();
        assert!((lr - 0.494615).abs() < 1e-5, "{lr}");
        assert_eq!(evaluate("optim.batch_lr_theory", &[]).unwrap(), 0.5);
        // The slope of log lr against log B over B = 1…8 is 0.9468 in the reference script: nearly linear.
        let slope = evaluate("optim.batch_lr_exponent", &[]).unwrap();
        assert!((slope - 0.94678).abs() < 1e-3, "{slope}");
        let flat = evaluate(
            "optim.batch_lr_exponent",
            &[("b_lo", "512"), ("b_hi", "4096")],
        )
        .unwrap();
        assert!(flat < 0.15, "{flat}");
        assert!(evaluate("optim.batch_lr_exponent", &[("b_lo", "8"), ("b_hi", "8")]).is_err());
    }

    #[test]
    fn engine_sgd_reproduces_the_expected_one_step_loss() {
        // At ε = ε_max/2 = 1/101 and B = B_noise = 64 both directions contract by
        // (1 − εh)² + ε²h² = 0.980394 (numpy: h = 100: 0.0000980 + 0.980296; h = 1: 0.980296 + 0.0000980).
        let exact = evaluate("optim.batch_step_loss", &[]).unwrap();
        assert!((exact - 0.980394).abs() < 1e-6, "{exact}");
        let mc = evaluate("optim.batch_step_loss_sgd", &[]).unwrap();
        // The sharp direction's loss after the step is a scaled χ² with one degree of freedom (relative std √2),
        // so 20 000 draws leave a standard error of about 0.7 % of it.
        assert!((mc / exact - 1.0).abs() < 0.03, "{mc} vs {exact}");
        // Without noise the sharp direction is solved in one step and the loss halves.
        let clean = evaluate("optim.batch_step_loss_sgd", &[("noise_scale", "0")]).unwrap();
        assert!(
            (clean - 0.5 * (0.0000980 + 0.980296)).abs() < 1e-5,
            "{clean}"
        );
    }

    #[test]
    fn layer_ratio_quantities_agree() {
        let spread = evaluate("optim.layer_ratio_spread", &[]).unwrap();
        let first = evaluate("optim.layer_ratio", &[("layer", "0")]).unwrap();
        let last = evaluate("optim.layer_ratio", &[("layer", "3")]).unwrap();
        assert!((spread - first / last).abs() < 1e-9 * spread);
        assert!(evaluate("optim.layer_ratio", &[("layer", "4")]).is_err());
        let trust = evaluate("optim.layer_trust_spread", &[]).unwrap();
        assert!(trust > 1.0 && trust < spread, "{trust} vs {spread}");
    }
}

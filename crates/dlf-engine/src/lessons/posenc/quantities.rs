//! Quantities of lesson 05 (positional encodings); names start with `posenc.`.

use crate::error::QuantityError;
use crate::gradcheck;
use crate::lessons::posenc::curves::{
    alibi_pattern, matched_score, pairs_longer_than, unseen_angle_pairs,
};
use crate::lessons::posenc::equivariance::{permutation_error, Positions};
use crate::lessons::posenc::{
    alibi_slopes, alibi_span, apply_rope, frequencies_for_base, interleaved_to_half,
    permute_columns, rope_backward, sinusoid_shift_matrix, sinusoidal, Pairing, Rope, Scaling,
    SinusoidLayout,
};
use crate::quantities::{Args, QuantitySpec};
use crate::rng::Rng;
use crate::tensor::Tensor;

fn rope(a: &Args) -> Result<Rope, QuantityError> {
    let scaling = Scaling::parse(a.raw("scaling"))
        .ok_or_else(|| a.invalid("scaling", "one of none, linear, ntk, yarn".into()))?;
    let r = Rope::new(a.usize_in("dim", 4, 4096)?, a.f64_in("base", 1.0001, 1e9)?).scaled(
        scaling,
        a.f64_in("factor", 1.0, 1024.0)?,
        a.f64_in("original", 1.0, 1e7)?,
    );
    Ok(r)
}

fn positions(a: &Args, arg: &str) -> Result<Positions, QuantityError> {
    Positions::parse(a.raw(arg))
        .ok_or_else(|| a.invalid(arg, "one of none, sinusoidal, rope, alibi".into()))
}

/// Random `rows × dim` queries and keys.
fn random_qk(dim: usize, rows: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = Rng::new(seed);
    (
        Tensor::randn(&[rows, dim], 1.0, &mut rng),
        Tensor::randn(&[rows, dim], 1.0, &mut rng),
    )
}

/// `⟨RoPE(q, m), RoPE(k, n)⟩` for rows `q`, `k` of width `d`.
fn rotated_score(q: &[f64], k: &[f64], m: f64, n: f64, pairing: Pairing, base: f64) -> f64 {
    let d = q.len();
    let f = frequencies_for_base(d, base);
    let row = |v: &[f64], p: f64| {
        apply_rope(&Tensor::row(v), &[p], &f, pairing, 1.0)
            .expect("one row of even width")
            .into_data()
    };
    let (a, b) = (row(q, m), row(k, n));
    a.iter().zip(&b).map(|(x, y)| x * y).sum()
}

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "posenc.permutation_error",
        description: "max |Attn(PX) − P·Attn(X)| for one random single-head attention layer, random tokens X (n × d) and the cyclic shift P, with the given position information (none, sinusoidal, rope, alibi) and optionally a causal mask",
        args: &[("positions", "none"), ("causal", "0"), ("n", "6"), ("d", "8"), ("seed", "1")],
        eval: |a| {
            permutation_error(
                a.usize_in("n", 2, 64)?,
                a.usize_in("d", 4, 64)?,
                positions(a, "positions")?,
                a.flag("causal")?,
                a.seed("seed")?,
            )
            .map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "posenc.sinusoid_shift_error",
        description: "max over positions p = 0..49 of |M_k·PE(p) − PE(p + k)|, with M_k the block-diagonal rotation built from the offset k alone (interleaved sinusoids, base 10 000)",
        args: &[("dim", "16"), ("offset", "5")],
        eval: |a| {
            let dim = a.usize_in("dim", 2, 512)?;
            let k = a.f64_in("offset", -1e4, 1e4)?;
            let m = sinusoid_shift_matrix(dim, 10_000.0, k).map_err(|e| a.failed(e))?;
            let mut worst: f64 = 0.0;
            for p in 0..50 {
                let p = p as f64;
                let pe = sinusoidal(&[p], dim, 10_000.0, SinusoidLayout::Interleaved)
                    .map_err(|e| a.failed(e))?;
                let shifted = sinusoidal(&[p + k], dim, 10_000.0, SinusoidLayout::Interleaved)
                    .map_err(|e| a.failed(e))?;
                let moved = pe.matmul_nt(&m).map_err(|e| a.failed(e))?;
                worst = worst.max(moved.max_abs_diff(&shifted).map_err(|e| a.failed(e))?);
            }
            Ok(worst)
        },
    },
    QuantitySpec {
        name: "posenc.rope_relative_error",
        description: "max over shifts t of |⟨R_(m+t) q, R_(n+t) k⟩ − ⟨R_m q, R_n k⟩| for random q, k (N(0,1), width d), m = 3, n = 11 and t up to `shift`: zero to rounding because RoPE's score depends on n − m only",
        args: &[("dim", "8"), ("shift", "1000"), ("pairing", "interleaved"), ("seed", "1")],
        eval: |a| {
            let dim = a.usize_in("dim", 4, 512)?;
            let pairing = pairing(a)?;
            let (q, k) = random_qk(dim, 1, a.seed("seed")?);
            let base_score = rotated_score(q.data(), k.data(), 3.0, 11.0, pairing, 10_000.0);
            let shift = a.usize_in("shift", 1, 1_000_000)?;
            let mut worst: f64 = 0.0;
            for t in [1, shift / 7 + 1, shift / 2, shift] {
                let t = t as f64;
                let s = rotated_score(q.data(), k.data(), 3.0 + t, 11.0 + t, pairing, 10_000.0);
                worst = worst.max((s - base_score).abs());
            }
            Ok(worst)
        },
    },
    QuantitySpec {
        name: "posenc.absolute_relative_error",
        description: "the same test with sinusoids added to q and k instead of RoPE: max over shifts of |⟨q + PE(m+t), k + PE(n+t)⟩ − ⟨q + PE(m), k + PE(n)⟩| (not zero: the cross terms q·PE depend on absolute positions)",
        args: &[("dim", "8"), ("shift", "1000"), ("seed", "1")],
        eval: |a| {
            let dim = a.usize_in("dim", 4, 512)?;
            let (q, k) = random_qk(dim, 1, a.seed("seed")?);
            let score = |m: f64, n: f64| -> Result<f64, QuantityError> {
                let pe = sinusoidal(&[m, n], dim, 10_000.0, SinusoidLayout::Interleaved)
                    .map_err(|e| a.failed(e))?;
                Ok((0..dim)
                    .map(|c| (q.get2(0, c) + pe.get2(0, c)) * (k.get2(0, c) + pe.get2(1, c)))
                    .sum())
            };
            let base_score = score(3.0, 11.0)?;
            let shift = a.usize_in("shift", 1, 1_000_000)?;
            let mut worst: f64 = 0.0;
            for t in [1, shift / 7 + 1, shift / 2, shift] {
                let t = t as f64;
                worst = worst.max((score(3.0 + t, 11.0 + t)? - base_score).abs());
            }
            Ok(worst)
        },
    },
    QuantitySpec {
        name: "posenc.rope_norm_change",
        description: "max over 16 random rows and positions up to 10⁵ of | ‖RoPE(x)‖ − ‖x‖ |: a rotation keeps the norm",
        args: &[("dim", "64"), ("seed", "2")],
        eval: |a| {
            let dim = a.usize_in("dim", 4, 512)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let x = Tensor::randn(&[16, dim], 1.0, &mut rng);
            let pos: Vec<f64> = (0..16).map(|_| (rng.uniform() * 1e5).floor()).collect();
            let y = apply_rope(&x, &pos, &frequencies_for_base(dim, 10_000.0), Pairing::RotateHalf, 1.0)
                .map_err(|e| a.failed(e))?;
            let norm = |t: &Tensor, r: usize| t.row_slice(r).iter().map(|v| v * v).sum::<f64>().sqrt();
            Ok((0..16).map(|r| (norm(&y, r) - norm(&x, r)).abs()).fold(0.0, f64::max))
        },
    },
    QuantitySpec {
        name: "posenc.pairing_gap",
        description: "max |scores| difference between interleaved RoPE on q, k and rotate-half RoPE on q, k with their columns permuted (2i → i, 2i+1 → i + d/2), over 8 random tokens at positions 0..7; `permute=0` skips the permutation (loading weights in the wrong convention)",
        args: &[("dim", "16"), ("permute", "1"), ("seed", "3")],
        eval: |a| {
            let dim = a.usize_in("dim", 4, 512)?;
            let (q, k) = random_qk(dim, 8, a.seed("seed")?);
            let pos: Vec<f64> = (0..8).map(f64::from).collect();
            let f = frequencies_for_base(dim, 10_000.0);
            let scores = |q: &Tensor, k: &Tensor, p: Pairing| -> Result<Tensor, QuantityError> {
                let rq = apply_rope(q, &pos, &f, p, 1.0).map_err(|e| a.failed(e))?;
                let rk = apply_rope(k, &pos, &f, p, 1.0).map_err(|e| a.failed(e))?;
                rq.matmul_nt(&rk).map_err(|e| a.failed(e))
            };
            let meta = scores(&q, &k, Pairing::Interleaved)?;
            let (hq, hk) = if a.flag("permute")? {
                let to = interleaved_to_half(dim);
                (permute_columns(&q, &to), permute_columns(&k, &to))
            } else {
                (q, k)
            };
            let hf = scores(&hq, &hk, Pairing::RotateHalf)?;
            meta.max_abs_diff(&hf).map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "posenc.rope_gradcheck",
        description: "relative error of RoPE's backward pass (the inverse rotation) against central differences of L = Σ dy ⊙ RoPE(x), 3 tokens of width d",
        args: &[("dim", "8"), ("pairing", "rotate-half"), ("seed", "4")],
        eval: |a| {
            let dim = a.usize_in("dim", 4, 64)?;
            let p = pairing(a)?;
            let mut rng = Rng::new(a.seed("seed")?);
            let x = Tensor::randn(&[3, dim], 1.0, &mut rng);
            let dy = Tensor::randn(&[3, dim], 1.0, &mut rng);
            let pos = [0.0, 5.0, 123.0];
            let f = frequencies_for_base(dim, 10_000.0);
            let analytic = rope_backward(&dy, &pos, &f, p, 1.3).map_err(|e| a.failed(e))?;
            let loss = |v: &[f64]| {
                let t = Tensor::new(&[3, dim], v.to_vec()).expect("same shape");
                let y = apply_rope(&t, &pos, &f, p, 1.3).expect("valid");
                y.data().iter().zip(dy.data()).map(|(u, w)| u * w).sum()
            };
            Ok(gradcheck::check(loss, x.data(), analytic.data(), 1e-6).relative_error)
        },
    },
    QuantitySpec {
        name: "posenc.rope_wavelength",
        description: "wavelength 2π/θ_i in tokens of RoPE pair i (0-based) after the scaling rule",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "none"), ("factor", "1"), ("original", "2048"), ("pair", "63")],
        eval: |a| {
            let r = rope(a)?;
            r.wavelength(a.usize_in("pair", 0, 2047)?).map_err(|e| a.failed(e))
        },
    },
    QuantitySpec {
        name: "posenc.rope_angle",
        description: "the angle p·θ_i in radians by which pair i (0-based) is turned at position p, after the scaling rule",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "none"), ("factor", "1"), ("original", "2048"), ("pair", "63"), ("position", "2048")],
        eval: |a| {
            let r = rope(a)?;
            let f = r.frequencies().map_err(|e| a.failed(e))?;
            let i = a.usize_in("pair", 0, 2047)?;
            let t = f.get(i).ok_or_else(|| a.invalid("pair", format!("a pair index below {}", f.len())))?;
            Ok(a.f64_in("position", 0.0, 1e9)? * t)
        },
    },
    QuantitySpec {
        name: "posenc.rope_pairs_longer",
        description: "number of RoPE pairs whose wavelength exceeds `context` tokens (they never complete a turn inside it)",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "none"), ("factor", "1"), ("original", "2048"), ("context", "2048")],
        eval: |a| {
            let r = rope(a)?;
            Ok(pairs_longer_than(&r, a.f64_in("context", 1.0, 1e9)?).map_err(|e| a.failed(e))? as f64)
        },
    },
    QuantitySpec {
        name: "posenc.unseen_angle_pairs",
        description: "number of RoPE pairs that, at the extended context s·L, turn past every angle they reached over the original context L (after the scaling rule)",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "none"), ("factor", "4"), ("original", "2048")],
        eval: |a| Ok(unseen_angle_pairs(&rope(a)?).map_err(|e| a.failed(e))? as f64),
    },
    QuantitySpec {
        name: "posenc.rope_matched_score",
        description: "RoPE's score for a query and key equal to a vector of ones, over d, at offset Δ: (2/d)·s²·Σ cos(Δθ_i) (s: YaRN's magnitude factor)",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "none"), ("factor", "1"), ("original", "2048"), ("offset", "0")],
        eval: |a| {
            let r = rope(a)?;
            let off = a.f64_in("offset", 0.0, 1e9)?;
            Ok(matched_score(&r, &[off]).map_err(|e| a.failed(e))?[0])
        },
    },
    QuantitySpec {
        name: "posenc.rope_mean_score",
        description: "mean of RoPE's matched score (see rope_matched_score) over offsets lo..hi in steps of 1: the level around which it ripples",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "none"), ("factor", "1"), ("original", "2048"), ("lo", "0"), ("hi", "100")],
        eval: |a| {
            let r = rope(a)?;
            let lo = a.usize_in("lo", 0, 10_000_000)?;
            let hi = a.usize_in("hi", lo + 1, 10_000_000)?;
            // Sampled on at most 4000 offsets, so a claim stays cheap whatever the range.
            let step = ((hi - lo) / 4000).max(1);
            let offsets: Vec<f64> = (lo..=hi).step_by(step).map(|o| o as f64).collect();
            let s = matched_score(&r, &offsets).map_err(|e| a.failed(e))?;
            Ok(s.iter().sum::<f64>() / s.len() as f64)
        },
    },
    QuantitySpec {
        name: "posenc.frequency_ratio",
        description: "θ'_i/θ_i: pair i's frequency after the scaling rule over its trained frequency (1: untouched, 1/s: fully interpolated)",
        args: &[("dim", "128"), ("base", "10000"), ("scaling", "yarn"), ("factor", "16"), ("original", "4096"), ("pair", "0")],
        eval: |a| {
            let r = rope(a)?;
            let i = a.usize_in("pair", 0, 2047)?;
            let f = r.frequencies().map_err(|e| a.failed(e))?;
            let b = r.base_frequencies().map_err(|e| a.failed(e))?;
            match (f.get(i), b.get(i)) {
                (Some(x), Some(y)) => Ok(x / y),
                _ => Err(a.invalid("pair", format!("a pair index below {}", f.len()))),
            }
        },
    },
    QuantitySpec {
        name: "posenc.ntk_base",
        description: "the NTK-aware base b·s^(d/(d−2))",
        args: &[("dim", "128"), ("base", "10000"), ("factor", "4")],
        eval: |a| {
            let r = Rope::new(a.usize_in("dim", 4, 4096)?, a.f64_in("base", 1.0001, 1e9)?)
                .scaled(Scaling::Ntk, a.f64_in("factor", 1.0, 1024.0)?, 2048.0);
            Ok(r.effective_base())
        },
    },
    QuantitySpec {
        name: "posenc.yarn_logit_scale",
        description: "YaRN's factor on the attention logits, (0.1·ln s + 1)² (each of q and k is scaled by 0.1·ln s + 1)",
        args: &[("factor", "16")],
        eval: |a| {
            let r = Rope::new(128, 10_000.0).scaled(Scaling::Yarn, a.f64_in("factor", 1.0, 1024.0)?, 4096.0);
            Ok(r.magnitude_scale().powi(2))
        },
    },
    QuantitySpec {
        name: "posenc.yarn_bound",
        description: "YaRN's ramp bound on the pair index (which = low: pairs below it keep their frequency; high: pairs above it are fully interpolated), with β = 32, α = 1",
        args: &[("dim", "128"), ("base", "10000"), ("original", "4096"), ("which", "low")],
        eval: |a| {
            let r = Rope::new(a.usize_in("dim", 4, 4096)?, a.f64_in("base", 1.0001, 1e9)?)
                .scaled(Scaling::Yarn, 2.0, a.f64_in("original", 1.0, 1e7)?);
            let (low, high) = r.yarn_bounds();
            match a.raw("which").trim() {
                "low" => Ok(low),
                "high" => Ok(high),
                _ => Err(a.invalid("which", "low or high".into())),
            }
        },
    },
    QuantitySpec {
        name: "posenc.alibi_slope",
        description: "ALiBi's slope of head h (1-based) of H heads, by the reference code's rule (interleaving for H not a power of two)",
        args: &[("heads", "8"), ("head", "1")],
        eval: |a| {
            let heads = a.usize_in("heads", 1, 1024)?;
            let h = a.usize_in("head", 1, heads)?;
            Ok(alibi_slopes(heads).map_err(|e| a.failed(e))?[h - 1])
        },
    },
    QuantitySpec {
        name: "posenc.alibi_span",
        description: "the number of most recent keys that take `fraction` of a query's attention when the logits are ALiBi's bias of head h (1-based) of H alone, for a query with `keys` keys",
        args: &[("heads", "8"), ("head", "8"), ("fraction", "0.9"), ("keys", "100000")],
        eval: |a| {
            let heads = a.usize_in("heads", 1, 1024)?;
            let h = a.usize_in("head", 1, heads)?;
            let m = alibi_slopes(heads).map_err(|e| a.failed(e))?[h - 1];
            Ok(alibi_span(m, a.usize_in("keys", 1, 10_000_000)?, a.f64_in("fraction", 0.01, 0.9999)?) as f64)
        },
    },
    QuantitySpec {
        name: "posenc.alibi_mass_beyond",
        description: "fraction of the last query's attention (position len − 1) on keys more than train_len tokens back, for ALiBi head h (1-based) of H, logits = bias + content noise of std `content`",
        args: &[("heads", "8"), ("head", "8"), ("len", "1024"), ("train_len", "256"), ("content", "1"), ("seed", "1")],
        eval: |a| {
            let heads = a.usize_in("heads", 1, 1024)?;
            let h = a.usize_in("head", 1, heads)?;
            let p = alibi_pattern(
                heads,
                h - 1,
                a.usize_in("len", 2, 100_000)?,
                1,
                a.usize_in("train_len", 1, 100_000)?,
                a.f64_in("content", 0.0, 20.0)?,
                a.seed("seed")?,
            )
            .map_err(|e| a.failed(e))?;
            Ok(p.mass_beyond_train)
        },
    },
    QuantitySpec {
        name: "posenc.learned_params",
        description: "parameters of a learned absolute position table: context × width",
        args: &[("context", "1024"), ("width", "768")],
        eval: |a| Ok((a.usize_in("context", 1, 10_000_000)? * a.usize_in("width", 1, 100_000)?) as f64),
    },
    QuantitySpec {
        name: "posenc.rope_flop_share",
        description: "RoPE's FLOPs per token and layer (3 per rotated coordinate, on q and k: 6·width) over the attention projections' 8·width² (Q, K, V, O)",
        args: &[("width", "4096")],
        eval: |a| {
            let w = a.usize_in("width", 1, 1_000_000)? as f64;
            Ok(6.0 * w / (8.0 * w * w))
        },
    },
];

fn pairing(a: &Args) -> Result<Pairing, QuantityError> {
    Pairing::parse(a.raw("pairing")).ok_or_else(|| a.invalid("pairing", "interleaved or rotate-half".into()))
}

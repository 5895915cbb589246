//! Activation and gradient statistics through a deep residual network, with no norm, BatchNorm, LayerNorm
//! or RMSNorm, placed before the branch (pre-norm) or after the residual addition (post-norm).
//!
//! The network is a deep residual MLP shaped like a transformer's feed-forward sub-layers: a stream
//! `x_0 ∈ R^{B×D}` of standard normal entries and `L` residual blocks whose branch is
//! `F_l(u) = relu(u A_l) B_l` with `A_l ~ N(0, 2/D)` (He) and `B_l ~ N(0, gain²/D)`, so a unit-variance
//! input gives a zero-mean branch output of variance `≈ gain²`:
//!
//! - no norm: `x_{l+1} = x_l + F_l(x_l)`;
//! - pre-norm: `x_{l+1} = x_l + F_l(N(x_l))`, with a final norm `y = N(x_L)` (as in GPT-2 and the pre-LN
//!   transformer of Xiong et al., "On Layer Normalization in the Transformer Architecture", ICML 2020);
//! - post-norm: `x_{l+1} = N(x_l + F_l(x_l))` (the original transformer, Vaswani et al., "Attention Is All
//!   You Need", NeurIPS 2017), output `y = x_L`.
//!
//! The loss is linear in the output, `L = (1/B) Σ y ⊙ R` with a fixed `R ~ N(0, 1)`, so the upstream
//! gradient `R/B` has the same size whatever the network does, and everything measured is the network's
//! own amplification. The norms have `γ = 1`, `β = 0` and `ε = 10⁻⁵`. The backward pass uses the norm
//! layers' closed forms from [`crate::lessons::norm::backward`].

use crate::lessons::norm::{self, RmsEps, NormForward, NormKind};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Where the norm sits in each residual block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `x + F(N(x))`, plus a final norm.
    Pre,
    /// `N(x + F(x))`.
    Post,
}

impl Placement {
    /// Parses `pre` or `post`.
    pub fn parse(s: &str) -> Option<Placement> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pre" => Some(Placement::Pre),
            "post" => Some(Placement::Post),
            _ => None,
        }
    }
}

/// One experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthConfig {
    /// Number of residual blocks `L` (≥ 1).
    pub depth: usize,
    /// Width `D` (≥ 2).
    pub width: usize,
    /// Batch size `B` (≥ 2, so BatchNorm has a variance to divide by).
    pub batch: usize,
    /// The norm, or `None` for a plain residual network (the placement is then irrelevant).
    pub norm: Option<NormKind>,
    /// Pre-norm or post-norm.
    pub placement: Placement,
    /// The branch's output scale: `B_l ~ N(0, gain²/D)`.
    pub gain: f64,
    /// Seed of the input, the weights and `R`.
    pub seed: u64,
}

/// What one forward-and-backward pass measured, block by block.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthProfile {
    /// Standard deviation over all entries of the stream `x_l`, `l = 0..=L` (length `L + 1`).
    pub act_std: Vec<f64>,
    /// Frobenius norm of block `l`'s weight gradient, `√(‖dL/dA_l‖² + ‖dL/dB_l‖²)`, `l = 0..L`
    /// (length `L`), first block first.
    pub grad_norm: Vec<f64>,
    /// Root mean square of the entries of `dL/dx_l`, `l = 0..=L` (length `L + 1`).
    pub stream_grad_rms: Vec<f64>,
}

const EPS: f64 = 1e-5;

fn normalise(kind: NormKind, x: &Tensor, ones: &[f64], zeros: &[f64]) -> NormForward {
    // The shapes are built here and always fit, and ε is a positive constant, so the layers cannot fail;
    // the fallback keeps the function total without a panic path.
    let r = match kind {
        NormKind::Batch => norm::batch_norm_train(x, ones, zeros, EPS),
        NormKind::Layer => norm::layer_norm(x, ones, zeros, EPS),
        NormKind::Rms => norm::rms_norm(x, ones, EPS, RmsEps::Inside),
    };
    r.unwrap_or_else(|_| passthrough(kind, x))
}

fn passthrough(kind: NormKind, x: &Tensor) -> NormForward {
    NormForward {
        kind,
        y: x.clone(),
        x_hat: x.clone(),
        mean: Vec::new(),
        var: Vec::new(),
        inv_std: vec![1.0; x.rows().max(x.cols())],
        eps_placement: RmsEps::Inside,
        eps: EPS,
    }
}

fn norm_back(f: &NormForward, ones: &[f64], dy: &Tensor) -> Tensor {
    norm::backward(f, ones, dy, false)
        .map(|g| g.dx)
        .unwrap_or_else(|_| dy.clone())
}

fn std_of(t: &Tensor) -> f64 {
    let n = t.len() as f64;
    let mean = t.sum() / n;
    (t.data()
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / n)
        .sqrt()
}

fn rms_of(t: &Tensor) -> f64 {
    (t.data().iter().map(|v| v * v).sum::<f64>() / t.len() as f64).sqrt()
}

fn add(a: &Tensor, b: &Tensor) -> Tensor {
    let mut out = a.clone();
    for (o, v) in out.data_mut().iter_mut().zip(b.data()) {
        *o += v;
    }
    out
}

/// What the backward pass of one block needs.
struct Block {
    /// The branch input `u` (`N(x)` for pre-norm, `x` otherwise).
    u: Tensor,
    /// The pre-activation `z = u W`.
    z: Tensor,
    /// The norm's forward pass, if the block has one.
    norm: Option<NormForward>,
}

/// Runs the network forward and backward once and reports the statistics of every block.
///
/// Dimensions are clamped to `depth ≥ 1`, `width ≥ 2`, `batch ≥ 2`.
pub fn depth_profile(cfg: &DepthConfig) -> DepthProfile {
    run(cfg, None).0
}

/// The experiment itself; `perturb = Some((l, k, h))` adds `h` to entry `k` of `A_l` (`k < D²`) or entry
/// `k − D²` of `B_l` (for the finite-difference test). Returns the profile, the loss and every
/// `(dL/dA_l, dL/dB_l)`.
pub(crate) fn run(
    cfg: &DepthConfig,
    perturb: Option<(usize, usize, f64)>,
) -> (DepthProfile, f64, Vec<(Tensor, Tensor)>) {
    let depth = cfg.depth.max(1);
    let (b, d) = (cfg.batch.max(2), cfg.width.max(2));
    let mut rng = Rng::new(cfg.seed);
    let mut x = Tensor::randn(&[b, d], 1.0, &mut rng);
    // He for the first matrix (ReLU follows it), variance gain²/D for the second, so a branch fed a
    // unit-variance input returns entries of variance ≈ gain² with mean zero.
    let std_a = (2.0 / d as f64).sqrt();
    let std_b = cfg.gain * (1.0 / d as f64).sqrt();
    let mut weights: Vec<(Tensor, Tensor)> = (0..depth)
        .map(|_| {
            let a = Tensor::randn(&[d, d], std_a, &mut rng);
            (a, Tensor::randn(&[d, d], std_b, &mut rng))
        })
        .collect();
    if let Some((l, k, h)) = perturb {
        if let Some((wa, wb)) = weights.get_mut(l) {
            let target = if k < d * d {
                wa.data_mut().get_mut(k)
            } else {
                wb.data_mut().get_mut(k - d * d)
            };
            if let Some(v) = target {
                *v += h;
            }
        }
    }
    let r = Tensor::randn(&[b, d], 1.0, &mut rng);
    let ones = vec![1.0; d];
    let zeros = vec![0.0; d];
    let branch = |u: &Tensor, wa: &Tensor, wb: &Tensor| -> (Tensor, Tensor) {
        let z = u.matmul(wa).unwrap_or_else(|_| Tensor::zeros(&[b, d]));
        let h = z.map(|v| v.max(0.0));
        let f = h.matmul(wb).unwrap_or_else(|_| Tensor::zeros(&[b, d]));
        (z, f)
    };

    let mut act_std = Vec::with_capacity(depth + 1);
    act_std.push(std_of(&x));
    let mut blocks = Vec::with_capacity(depth);
    for (wa, wb) in &weights {
        match (cfg.norm, cfg.placement) {
            (None, _) => {
                let (z, f) = branch(&x, wa, wb);
                let next = add(&x, &f);
                let u = std::mem::replace(&mut x, next);
                blocks.push(Block { u, z, norm: None });
            }
            (Some(kind), Placement::Pre) => {
                let nf = normalise(kind, &x, &ones, &zeros);
                let (z, f) = branch(&nf.y, wa, wb);
                x = add(&x, &f);
                blocks.push(Block {
                    u: nf.y.clone(),
                    z,
                    norm: Some(nf),
                });
            }
            (Some(kind), Placement::Post) => {
                let (z, f) = branch(&x, wa, wb);
                let s = add(&x, &f);
                let nf = normalise(kind, &s, &ones, &zeros);
                let u = std::mem::replace(&mut x, nf.y.clone());
                blocks.push(Block {
                    u,
                    z,
                    norm: Some(nf),
                });
            }
        }
        act_std.push(std_of(&x));
    }
    let final_norm = match (cfg.norm, cfg.placement) {
        (Some(kind), Placement::Pre) => Some(normalise(kind, &x, &ones, &zeros)),
        _ => None,
    };

    let inv_b = 1.0 / b as f64;
    let out = final_norm.as_ref().map_or(&x, |f| &f.y);
    let loss = out
        .data()
        .iter()
        .zip(r.data())
        .map(|(a, c)| a * c)
        .sum::<f64>()
        * inv_b;
    let mut dws = Vec::with_capacity(depth);
    let dy = r.map(|v| v * inv_b);
    let mut dx = match &final_norm {
        Some(f) => norm_back(f, &ones, &dy),
        None => dy,
    };
    let mut grad_norm = vec![0.0; depth];
    let mut stream_grad_rms = vec![0.0; depth + 1];
    stream_grad_rms[depth] = rms_of(&dx);

    for l in (0..depth).rev() {
        let blk = &blocks[l];
        let (wa, wb) = &weights[l];
        // Post-norm: the gradient first goes back through this block's norm, then splits into the skip
        // path and the branch. Pre-norm and no norm: it splits straight away.
        let df = match (cfg.norm, cfg.placement, blk.norm.as_ref()) {
            (Some(_), Placement::Post, Some(f)) => norm_back(f, &ones, &dx),
            _ => dx.clone(),
        };
        let h = blk.z.map(|v| v.max(0.0));
        let dwb = h.matmul_tn(&df).unwrap_or_else(|_| Tensor::zeros(&[d, d]));
        let dh = df.matmul_nt(wb).unwrap_or_else(|_| Tensor::zeros(&[b, d]));
        let dz = dh
            .zip_map(&blk.z, |g, z| if z > 0.0 { g } else { 0.0 })
            .unwrap_or_else(|_| Tensor::zeros(&[b, d]));
        let dwa = blk
            .u
            .matmul_tn(&dz)
            .unwrap_or_else(|_| Tensor::zeros(&[d, d]));
        grad_norm[l] = (dwa.frobenius_norm().powi(2) + dwb.frobenius_norm().powi(2)).sqrt();
        let du = dz.matmul_nt(wa).unwrap_or_else(|_| Tensor::zeros(&[b, d]));
        dx = match (cfg.placement, blk.norm.as_ref()) {
            (Placement::Pre, Some(f)) => add(&df, &norm_back(f, &ones, &du)),
            _ => add(&df, &du),
        };
        dws.push((dwa, dwb));
        stream_grad_rms[l] = rms_of(&dx);
    }
    dws.reverse();
    let profile = DepthProfile {
        act_std,
        grad_norm,
        stream_grad_rms,
    };
    (profile, loss, dws)
}

/// The least-squares slope of the residual stream's variance against the block index over the second half of
/// the blocks (indices `L/2 ..= L` of `act_std`, whose entry 0 is the embedding): how much variance each block
/// adds once the stream has settled — about `gain²` per block with pre-norm, about 0 with post-norm.
pub fn stream_variance_slope(act_std: &[f64]) -> f64 {
    let depth = act_std.len().saturating_sub(1);
    let points: Vec<(f64, f64)> = act_std
        .iter()
        .enumerate()
        .skip(depth / 2)
        .map(|(l, s)| (l as f64, s * s))
        .collect();
    crate::stats::least_squares(&points).slope
}

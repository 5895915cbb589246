//! Normalization layers (lesson 03): BatchNorm, LayerNorm and RMSNorm, forward and backward, with the
//! conventions in which libraries differ offered as options.
//!
//! Every layer here takes a `B × D` matrix `X` (rows are examples or tokens, columns are features) and a
//! per-feature gain `γ ∈ R^D` (and, except RMSNorm, a shift `β ∈ R^D`):
//!
//! - **BatchNorm** (Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
//!   Internal Covariate Shift", ICML 2015) normalises each *column* over the batch:
//!   `μ_j = (1/B) Σ_i x_ij`, `σ²_j = (1/B) Σ_i (x_ij − μ_j)²` (the biased variance, as the paper's
//!   Algorithm 1 and every major library do at training time), `x̂_ij = (x_ij − μ_j)/√(σ²_j + ε)`,
//!   `y_ij = γ_j x̂_ij + β_j`. At evaluation time the batch statistics are replaced by running estimates
//!   ([`RunningStats`]).
//! - **LayerNorm** (Ba, Kiros & Hinton, "Layer Normalization", arXiv 2016) normalises each *row* over its
//!   `D` features with the same formulas, so no statistic is shared between examples.
//! - **RMSNorm** (Zhang & Sennrich, "Root Mean Square Layer Normalization", NeurIPS 2019) drops the mean:
//!   `r_i = √((1/D) Σ_j x_ij² + ε)`, `y_ij = γ_j x_ij / r_i`, and has no `β`. Where `ε` sits is a
//!   convention ([`RmsEps`]).
//!
//! # Backward
//!
//! With `g = dy ⊙ γ` (the upstream gradient through the gain), the gradient of a mean-and-variance
//! normalisation over a group of `n` entries with inverse standard deviation `s = 1/√(σ² + ε)` is
//!
//! `dx = s · (g − mean(g) − x̂ · mean(g ⊙ x̂))`,
//!
//! the closed form derived in the lesson (the two subtracted terms are the paths through `μ` and `σ²`).
//! Dropping the mean (RMSNorm, ε inside the root) removes the middle term: `dx = (1/r)(g − x̂ · mean(g ⊙ x̂))`.
//! The parameter gradients are `dγ_j = Σ_i dy_ij x̂_ij` and `dβ_j = Σ_i dy_ij`.
//!
//! The unit tests check every backward pass against central finite differences of the forward pass.

use crate::error::ShapeError;
use crate::tensor::Tensor;

pub mod bn_gap;
pub mod depth;
pub mod equilibrium;
mod estimates;
mod quantities;

/// Lesson 03's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "norm",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};
#[cfg(test)]
mod tests;

/// Which normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormKind {
    /// Statistics per feature over the batch (Ioffe & Szegedy 2015).
    Batch,
    /// Mean and variance per row over the features (Ba, Kiros & Hinton 2016).
    Layer,
    /// Root mean square per row over the features, no mean, no shift (Zhang & Sennrich 2019).
    Rms,
}

impl NormKind {
    /// Parses `batch`/`batchnorm`/`bn`, `layer`/`layernorm`/`ln`, `rms`/`rmsnorm`.
    pub fn parse(s: &str) -> Option<NormKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "batch" | "batchnorm" | "bn" => Some(NormKind::Batch),
            "layer" | "layernorm" | "ln" => Some(NormKind::Layer),
            "rms" | "rmsnorm" => Some(NormKind::Rms),
            _ => None,
        }
    }

    /// The canonical name: `batchnorm`, `layernorm` or `rmsnorm`.
    pub fn name(self) -> &'static str {
        match self {
            NormKind::Batch => "batchnorm",
            NormKind::Layer => "layernorm",
            NormKind::Rms => "rmsnorm",
        }
    }
}

/// How a running statistic `r` absorbs a batch statistic `b` with the momentum `m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentumConvention {
    /// `r ← (1 − m) r + m b`, default `m = 0.1`: PyTorch's `nn.BatchNorm*` (its docs state this rule).
    PyTorch,
    /// `r ← m r + (1 − m) b`, default `m = 0.99`: Keras/TensorFlow's `BatchNormalization`.
    Keras,
}

impl MomentumConvention {
    /// Parses `pytorch`/`torch` or `keras`/`tf`/`tensorflow`.
    pub fn parse(s: &str) -> Option<MomentumConvention> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pytorch" | "torch" => Some(MomentumConvention::PyTorch),
            "keras" | "tf" | "tensorflow" => Some(MomentumConvention::Keras),
            _ => None,
        }
    }

    /// `pytorch` or `keras`.
    pub fn name(self) -> &'static str {
        match self {
            MomentumConvention::PyTorch => "pytorch",
            MomentumConvention::Keras => "keras",
        }
    }

    /// The library's default momentum: 0.1 for PyTorch (which keeps 90 % of the old value) and 0.99 for
    /// Keras (which keeps 99 %).
    pub fn default_momentum(self) -> f64 {
        match self {
            MomentumConvention::PyTorch => 0.1,
            MomentumConvention::Keras => 0.99,
        }
    }

    /// The weight on the *old* running value: `1 − m` (PyTorch) or `m` (Keras).
    pub fn keep(self, momentum: f64) -> f64 {
        match self {
            MomentumConvention::PyTorch => 1.0 - momentum,
            MomentumConvention::Keras => momentum,
        }
    }
}

/// Which variance the running estimate absorbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunningVariance {
    /// `B/(B − 1) · σ²_B` (Bessel's correction): PyTorch, and the estimator of Ioffe & Szegedy's
    /// Algorithm 2, step 10.
    Unbiased,
    /// `σ²_B` as used for normalising: Keras 3 (`ops.moments` gives the biased variance).
    Biased,
}

impl RunningVariance {
    /// Parses `unbiased` or `biased`.
    pub fn parse(s: &str) -> Option<RunningVariance> {
        match s.trim().to_ascii_lowercase().as_str() {
            "unbiased" => Some(RunningVariance::Unbiased),
            "biased" => Some(RunningVariance::Biased),
            _ => None,
        }
    }

    /// `unbiased` or `biased`.
    pub fn name(self) -> &'static str {
        match self {
            RunningVariance::Unbiased => "unbiased",
            RunningVariance::Biased => "biased",
        }
    }
}

/// Where RMSNorm's `ε` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RmsEps {
    /// `x / √(mean(x²) + ε)`: PyTorch `nn.RMSNorm`, the T5 and LLaMA reference code.
    Inside,
    /// `x / (√mean(x²) + ε)`: the RMSNorm authors' released PyTorch code (bzhangGo/rmsnorm).
    Outside,
}

impl RmsEps {
    /// Parses `inside` or `outside`.
    pub fn parse(s: &str) -> Option<RmsEps> {
        match s.trim().to_ascii_lowercase().as_str() {
            "inside" => Some(RmsEps::Inside),
            "outside" => Some(RmsEps::Outside),
            _ => None,
        }
    }

    /// `inside` or `outside`.
    pub fn name(self) -> &'static str {
        match self {
            RmsEps::Inside => "inside",
            RmsEps::Outside => "outside",
        }
    }
}

/// Everything a forward pass computes and its backward pass needs.
#[derive(Debug, Clone, PartialEq)]
pub struct NormForward {
    /// Which layer produced this.
    pub kind: NormKind,
    /// The output `Y` (`B × D`).
    pub y: Tensor,
    /// The normalised input `X̂` before the gain (`B × D`).
    pub x_hat: Tensor,
    /// The means that were subtracted: per feature (BatchNorm, length `D`), per row (LayerNorm, length
    /// `B`), empty for RMSNorm.
    pub mean: Vec<f64>,
    /// The variances (BatchNorm, LayerNorm: biased) or mean squares (RMSNorm) of each group.
    pub var: Vec<f64>,
    /// The factor each group was multiplied by: `1/√(σ² + ε)`, or RMSNorm's `1/r`.
    pub inv_std: Vec<f64>,
    /// RMSNorm's ε placement (`Inside` for the other layers, where ε is always inside the root).
    pub eps_placement: RmsEps,
    /// The ε used.
    pub eps: f64,
}

/// The gradients of one backward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct NormGrads {
    /// `dL/dX` (`B × D`).
    pub dx: Tensor,
    /// `dL/dγ` (length `D`).
    pub dgamma: Vec<f64>,
    /// `dL/dβ` (length `D`; all zeros for RMSNorm, which has no shift).
    pub dbeta: Vec<f64>,
}

fn invalid(op: &'static str, message: String) -> ShapeError {
    ShapeError::Invalid { op, message }
}

fn check_params(
    op: &'static str,
    x: &Tensor,
    gamma: &[f64],
    beta: Option<&[f64]>,
) -> Result<(), ShapeError> {
    if x.shape().len() != 2 || x.rows() == 0 || x.cols() == 0 {
        return Err(invalid(
            op,
            format!(
                "the input must be a non-empty B × D matrix, got shape {:?}",
                x.shape()
            ),
        ));
    }
    if gamma.len() != x.cols() {
        return Err(invalid(
            op,
            format!(
                "gamma has {} entries but the input has {} features",
                gamma.len(),
                x.cols()
            ),
        ));
    }
    if let Some(b) = beta {
        if b.len() != x.cols() {
            return Err(invalid(
                op,
                format!(
                    "beta has {} entries but the input has {} features",
                    b.len(),
                    x.cols()
                ),
            ));
        }
    }
    Ok(())
}

fn check_eps(op: &'static str, eps: f64) -> Result<(), ShapeError> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            op,
            format!("eps must be a finite number ≥ 0, got {eps}"),
        ))
    }
}

/// Standardises each row of a row-major `rows × cols` buffer: returns `(x̂, mean, biased var, inv_std)`.
fn standardize_rows(
    data: &[f64],
    rows: usize,
    cols: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut x_hat = vec![0.0; rows * cols];
    let mut means = Vec::with_capacity(rows);
    let mut vars = Vec::with_capacity(rows);
    let mut inv = Vec::with_capacity(rows);
    let n = cols as f64;
    for r in 0..rows {
        let row = &data[r * cols..(r + 1) * cols];
        let mean = row.iter().sum::<f64>() / n;
        // Two passes (mean, then squared deviations) rather than E[x²] − E[x]², which cancels
        // catastrophically when the mean is large against the spread.
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let s = 1.0 / (var + eps).sqrt();
        for (o, v) in x_hat[r * cols..(r + 1) * cols].iter_mut().zip(row) {
            *o = (v - mean) * s;
        }
        means.push(mean);
        vars.push(var);
        inv.push(s);
    }
    (x_hat, means, vars, inv)
}

/// The backward pass of [`standardize_rows`]: `dx = s (g − mean(g) − x̂ mean(g x̂))` per row.
fn standardize_rows_backward(
    g: &[f64],
    x_hat: &[f64],
    inv: &[f64],
    rows: usize,
    cols: usize,
) -> Vec<f64> {
    let mut dx = vec![0.0; rows * cols];
    let n = cols as f64;
    for r in 0..rows {
        let gr = &g[r * cols..(r + 1) * cols];
        let xr = &x_hat[r * cols..(r + 1) * cols];
        let mean_g = gr.iter().sum::<f64>() / n;
        let mean_gx = gr.iter().zip(xr).map(|(a, b)| a * b).sum::<f64>() / n;
        for ((o, &gv), &xv) in dx[r * cols..(r + 1) * cols].iter_mut().zip(gr).zip(xr) {
            *o = inv[r] * (gv - mean_g - xv * mean_gx);
        }
    }
    dx
}

/// Standardises each column of a row-major `rows × cols` buffer (BatchNorm's grouping), walking the rows
/// in order so no transpose is needed: returns `(x̂, mean, biased var, inv_std)`.
fn standardize_cols(
    data: &[f64],
    rows: usize,
    cols: usize,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = rows as f64;
    let mut mean = vec![0.0; cols];
    for row in data.chunks_exact(cols) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0; cols];
    for row in data.chunks_exact(cols) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    var.iter_mut().for_each(|s| *s /= n);
    let inv: Vec<f64> = var.iter().map(|s| 1.0 / (s + eps).sqrt()).collect();
    let mut x_hat = vec![0.0; rows * cols];
    for (out, row) in x_hat.chunks_exact_mut(cols).zip(data.chunks_exact(cols)) {
        for (((o, v), m), k) in out.iter_mut().zip(row).zip(&mean).zip(&inv) {
            *o = (v - m) * k;
        }
    }
    (x_hat, mean, var, inv)
}

/// The backward pass of [`standardize_cols`]: `dx = s (g − mean(g) − x̂ mean(g x̂))` per column.
fn standardize_cols_backward(
    g: &[f64],
    x_hat: &[f64],
    inv: &[f64],
    rows: usize,
    cols: usize,
) -> Vec<f64> {
    let n = rows as f64;
    let mut mean_g = vec![0.0; cols];
    let mut mean_gx = vec![0.0; cols];
    for (gr, xr) in g.chunks_exact(cols).zip(x_hat.chunks_exact(cols)) {
        for j in 0..cols {
            mean_g[j] += gr[j];
            mean_gx[j] += gr[j] * xr[j];
        }
    }
    mean_g.iter_mut().for_each(|v| *v /= n);
    mean_gx.iter_mut().for_each(|v| *v /= n);
    let mut dx = vec![0.0; rows * cols];
    for ((out, gr), xr) in dx
        .chunks_exact_mut(cols)
        .zip(g.chunks_exact(cols))
        .zip(x_hat.chunks_exact(cols))
    {
        for j in 0..cols {
            out[j] = inv[j] * (gr[j] - mean_g[j] - xr[j] * mean_gx[j]);
        }
    }
    dx
}

fn affine(x_hat: &[f64], cols: usize, gamma: &[f64], beta: Option<&[f64]>) -> Vec<f64> {
    x_hat
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let j = k % cols;
            gamma[j] * v + beta.map_or(0.0, |b| b[j])
        })
        .collect()
}

fn matrix(rows: usize, cols: usize, data: Vec<f64>) -> Tensor {
    // The caller built `data` with exactly rows × cols entries, so the shape always fits.
    Tensor::new(&[rows, cols], data).unwrap_or_else(|_| Tensor::zeros(&[rows, cols]))
}

/// BatchNorm in training mode: statistics of each feature over the `B` rows of `x`.
///
/// `y_ij = γ_j (x_ij − μ_j)/√(σ²_j + ε) + β_j` with the biased batch variance (Ioffe & Szegedy 2015,
/// Algorithm 1). With `B = 1`, `x − μ = 0` and every output equals `β`.
///
/// # Errors
/// [`ShapeError::Invalid`] if `x` is not a non-empty matrix, `γ`/`β` do not have `D` entries or `ε < 0`.
pub fn batch_norm_train(
    x: &Tensor,
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
) -> Result<NormForward, ShapeError> {
    check_params("batch_norm", x, gamma, Some(beta))?;
    check_eps("batch_norm", eps)?;
    let (b, d) = (x.rows(), x.cols());
    let (x_hat, mean, var, inv_std) = standardize_cols(x.data(), b, d, eps);
    let y = affine(&x_hat, d, gamma, Some(beta));
    Ok(NormForward {
        kind: NormKind::Batch,
        y: matrix(b, d, y),
        x_hat: matrix(b, d, x_hat),
        mean,
        var,
        inv_std,
        eps_placement: RmsEps::Inside,
        eps,
    })
}

/// BatchNorm in evaluation mode: the running statistics replace the batch's, so each row is
/// transformed independently by the fixed affine map `y = γ (x − r_μ)/√(r_σ² + ε) + β`.
///
/// # Errors
/// [`ShapeError::Invalid`] on mismatched lengths, `ε < 0` or a negative running variance.
pub fn batch_norm_eval(
    x: &Tensor,
    gamma: &[f64],
    beta: &[f64],
    running: &RunningStats,
    eps: f64,
) -> Result<NormForward, ShapeError> {
    check_params("batch_norm_eval", x, gamma, Some(beta))?;
    check_eps("batch_norm_eval", eps)?;
    let (b, d) = (x.rows(), x.cols());
    if running.mean.len() != d || running.var.len() != d {
        return Err(invalid(
            "batch_norm_eval",
            format!(
                "running statistics have {} means and {} variances but the input has {d} features",
                running.mean.len(),
                running.var.len()
            ),
        ));
    }
    if running.var.iter().any(|v| *v < 0.0 || !v.is_finite()) {
        return Err(invalid(
            "batch_norm_eval",
            "running variances must be finite and ≥ 0".into(),
        ));
    }
    let inv_std: Vec<f64> = running.var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
    let x_hat: Vec<f64> = x
        .data()
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let j = k % d;
            (v - running.mean[j]) * inv_std[j]
        })
        .collect();
    let y = affine(&x_hat, d, gamma, Some(beta));
    Ok(NormForward {
        kind: NormKind::Batch,
        y: matrix(b, d, y),
        x_hat: matrix(b, d, x_hat),
        mean: running.mean.clone(),
        var: running.var.clone(),
        inv_std,
        eps_placement: RmsEps::Inside,
        eps,
    })
}

/// LayerNorm: each row normalised over its `D` features, `y_ij = γ_j (x_ij − μ_i)/√(σ²_i + ε) + β_j`
/// (Ba, Kiros & Hinton 2016); the same computation in training and inference.
///
/// # Errors
/// [`ShapeError::Invalid`] on mismatched lengths or `ε < 0`.
pub fn layer_norm(
    x: &Tensor,
    gamma: &[f64],
    beta: &[f64],
    eps: f64,
) -> Result<NormForward, ShapeError> {
    check_params("layer_norm", x, gamma, Some(beta))?;
    check_eps("layer_norm", eps)?;
    let (b, d) = (x.rows(), x.cols());
    let (x_hat, mean, var, inv_std) = standardize_rows(x.data(), b, d, eps);
    let y = affine(&x_hat, d, gamma, Some(beta));
    Ok(NormForward {
        kind: NormKind::Layer,
        y: matrix(b, d, y),
        x_hat: matrix(b, d, x_hat),
        mean,
        var,
        inv_std,
        eps_placement: RmsEps::Inside,
        eps,
    })
}

/// RMSNorm: `y_ij = γ_j x_ij / r_i` with `r_i = √(mean_j x_ij² + ε)` ([`RmsEps::Inside`]) or
/// `r_i = √(mean_j x_ij²) + ε` ([`RmsEps::Outside`]) (Zhang & Sennrich 2019). `var` holds the mean
/// squares `mean_j x_ij²`.
///
/// # Errors
/// [`ShapeError::Invalid`] on mismatched lengths or `ε < 0`.
pub fn rms_norm(
    x: &Tensor,
    gamma: &[f64],
    eps: f64,
    placement: RmsEps,
) -> Result<NormForward, ShapeError> {
    check_params("rms_norm", x, gamma, None)?;
    check_eps("rms_norm", eps)?;
    let (b, d) = (x.rows(), x.cols());
    let mut x_hat = vec![0.0; b * d];
    let mut ms = Vec::with_capacity(b);
    let mut inv = Vec::with_capacity(b);
    for r in 0..b {
        let row = x.row_slice(r);
        let m = row.iter().map(|v| v * v).sum::<f64>() / d as f64;
        let rms = match placement {
            RmsEps::Inside => (m + eps).sqrt(),
            RmsEps::Outside => m.sqrt() + eps,
        };
        let s = 1.0 / rms;
        for (o, v) in x_hat[r * d..(r + 1) * d].iter_mut().zip(row) {
            *o = v * s;
        }
        ms.push(m);
        inv.push(s);
    }
    let y = affine(&x_hat, d, gamma, None);
    Ok(NormForward {
        kind: NormKind::Rms,
        y: matrix(b, d, y),
        x_hat: matrix(b, d, x_hat),
        mean: Vec::new(),
        var: ms,
        inv_std: inv,
        eps_placement: placement,
        eps,
    })
}

/// The backward pass of a training-mode forward pass: `dX`, `dγ`, `dβ` for the upstream gradient `dy`.
///
/// BatchNorm and LayerNorm use `dx = s (g − mean(g) − x̂ mean(g x̂))` with `g = dy γ` over each group
/// (a column for BatchNorm, a row for LayerNorm). RMSNorm with ε inside uses `dx = (1/r)(g − x̂ mean(g x̂))`;
/// with ε outside, `r = q + ε` with `q = √mean(x²)`, and `dx = (1/r)(g − x · mean(g x)/(q r))` (zero for
/// the second term when `q = 0`, where `x = 0` too). For a BatchNorm forward pass in *evaluation* mode
/// ([`batch_norm_eval`]) the statistics are constants and `dx = g · s` per feature: pass `eval = true` for
/// such a forward pass, `false` for every training-mode one (LayerNorm and RMSNorm ignore it).
///
/// # Errors
/// [`ShapeError::Invalid`] if `dy` or `γ` do not fit the forward pass.
pub fn backward(
    fwd: &NormForward,
    gamma: &[f64],
    dy: &Tensor,
    eval: bool,
) -> Result<NormGrads, ShapeError> {
    let (b, d) = (fwd.y.rows(), fwd.y.cols());
    if dy.shape() != fwd.y.shape() {
        return Err(invalid(
            "norm_backward",
            format!(
                "dy has shape {:?} but the output has shape {:?}",
                dy.shape(),
                fwd.y.shape()
            ),
        ));
    }
    if gamma.len() != d {
        return Err(invalid(
            "norm_backward",
            format!(
                "gamma has {} entries but the output has {d} features",
                gamma.len()
            ),
        ));
    }
    let xh = fwd.x_hat.data();
    let dyd = dy.data();
    let mut dgamma = vec![0.0; d];
    let mut dbeta = vec![0.0; d];
    for (k, (&g, &v)) in dyd.iter().zip(xh).enumerate() {
        dgamma[k % d] += g * v;
        dbeta[k % d] += g;
    }
    if fwd.kind == NormKind::Rms {
        dbeta.iter_mut().for_each(|v| *v = 0.0);
    }
    let g: Vec<f64> = dyd
        .iter()
        .enumerate()
        .map(|(k, &v)| v * gamma[k % d])
        .collect();
    let dx = match (fwd.kind, eval) {
        (NormKind::Batch, true) => g
            .iter()
            .enumerate()
            .map(|(k, &v)| v * fwd.inv_std[k % d])
            .collect(),
        (NormKind::Batch, false) => standardize_cols_backward(&g, xh, &fwd.inv_std, b, d),
        (NormKind::Layer, _) => standardize_rows_backward(&g, xh, &fwd.inv_std, b, d),
        (NormKind::Rms, _) => rms_backward(fwd, &g, b, d),
    };
    Ok(NormGrads {
        dx: matrix(b, d, dx),
        dgamma,
        dbeta,
    })
}

fn rms_backward(fwd: &NormForward, g: &[f64], b: usize, d: usize) -> Vec<f64> {
    let xh = fwd.x_hat.data();
    let n = d as f64;
    let mut dx = vec![0.0; b * d];
    for r in 0..b {
        let s = fwd.inv_std[r];
        let gr = &g[r * d..(r + 1) * d];
        let xr = &xh[r * d..(r + 1) * d];
        let out = &mut dx[r * d..(r + 1) * d];
        match fwd.eps_placement {
            RmsEps::Inside => {
                // r² = mean(x²) + ε, so ∂r/∂x_j = x_j/(n r) and x_j/r = x̂_j.
                let mean_gx = gr.iter().zip(xr).map(|(a, c)| a * c).sum::<f64>() / n;
                for ((o, &gv), &xv) in out.iter_mut().zip(gr).zip(xr) {
                    *o = s * (gv - xv * mean_gx);
                }
            }
            RmsEps::Outside => {
                // r = q + ε with q = √mean(x²): ∂r/∂x_j = x_j/(n q). In terms of x̂ = x/r:
                // dx = (1/r)(g − x̂ · (r/q) · mean(g x̂)).
                let q = fwd.var[r].sqrt();
                if q == 0.0 {
                    for (o, &gv) in out.iter_mut().zip(gr) {
                        *o = s * gv;
                    }
                } else {
                    let rr = 1.0 / s;
                    let mean_gx = gr.iter().zip(xr).map(|(a, c)| a * c).sum::<f64>() / n;
                    for ((o, &gv), &xv) in out.iter_mut().zip(gr).zip(xr) {
                        *o = s * (gv - xv * (rr / q) * mean_gx);
                    }
                }
            }
        }
    }
    dx
}

/// BatchNorm's running estimates of the mean and variance of each feature, used at evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningStats {
    /// Running means (PyTorch and Keras both start at 0).
    pub mean: Vec<f64>,
    /// Running variances (both libraries start at 1).
    pub var: Vec<f64>,
    /// How many batches have been absorbed.
    pub steps: usize,
}

impl RunningStats {
    /// Fresh statistics for `d` features: means 0, variances 1, as PyTorch and Keras initialise them.
    pub fn new(d: usize) -> RunningStats {
        RunningStats {
            mean: vec![0.0; d],
            var: vec![1.0; d],
            steps: 0,
        }
    }

    /// Absorbs one training batch's statistics (`fwd` from [`batch_norm_train`], whose `var` is biased):
    /// `r ← k r + (1 − k) b` with `k` = [`MomentumConvention::keep`], and for the variance
    /// `b = σ²_B · B/(B − 1)` ([`RunningVariance::Unbiased`]) or `σ²_B` ([`RunningVariance::Biased`]).
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if the forward pass is not BatchNorm, the feature counts differ, the
    /// momentum is outside `[0, 1]`, or the unbiased variance is asked of a batch of one.
    pub fn update(
        &mut self,
        fwd: &NormForward,
        momentum: f64,
        convention: MomentumConvention,
        variance: RunningVariance,
    ) -> Result<(), ShapeError> {
        if fwd.kind != NormKind::Batch {
            return Err(invalid(
                "running_stats",
                format!(
                    "only BatchNorm keeps running statistics, not {}",
                    fwd.kind.name()
                ),
            ));
        }
        if fwd.mean.len() != self.mean.len() {
            return Err(invalid(
                "running_stats",
                format!(
                    "the batch has {} features but the running statistics {}",
                    fwd.mean.len(),
                    self.mean.len()
                ),
            ));
        }
        if !(0.0..=1.0).contains(&momentum) {
            return Err(invalid(
                "running_stats",
                format!("momentum must be in [0, 1], got {momentum}"),
            ));
        }
        let b = fwd.y.rows();
        let correction = match variance {
            RunningVariance::Biased => 1.0,
            RunningVariance::Unbiased if b > 1 => b as f64 / (b as f64 - 1.0),
            RunningVariance::Unbiased => {
                return Err(invalid(
                    "running_stats",
                    "the unbiased variance B/(B−1)·σ² needs a batch of at least 2".into(),
                ))
            }
        };
        let keep = convention.keep(momentum);
        for j in 0..self.mean.len() {
            self.mean[j] = keep * self.mean[j] + (1.0 - keep) * fwd.mean[j];
            self.var[j] = keep * self.var[j] + (1.0 - keep) * fwd.var[j] * correction;
        }
        self.steps += 1;
        Ok(())
    }
}

/// Parameters of one norm layer over `d` features: `2d` (γ and β) for BatchNorm and LayerNorm, `d` (γ)
/// for RMSNorm.
pub fn param_count(kind: NormKind, d: usize) -> usize {
    match kind {
        NormKind::Batch | NormKind::Layer => 2 * d,
        NormKind::Rms => d,
    }
}

/// Floating-point operations of one forward pass over one row of `d` features, counting each add,
/// subtract, multiply as one and the O(1) square root and reciprocal per row as nothing.
///
/// LayerNorm: the mean (`d` adds), centring (`d` subtracts), the variance (`d` squares and `d` adds),
/// scaling by `1/σ` (`d` multiplies) and the affine map (`d` multiplies, `d` adds): `7d`. RMSNorm: the mean
/// square (`d` squares, `d` adds), scaling by `1/r` (`d`) and the gain (`d`): `4d`. BatchNorm at
/// evaluation time folds into one multiply-add per entry (`2d`); in training it costs what LayerNorm does,
/// per entry, with the reductions over the batch instead.
pub fn forward_flops_per_row(kind: NormKind, d: usize) -> usize {
    match kind {
        NormKind::Batch | NormKind::Layer => 7 * d,
        NormKind::Rms => 4 * d,
    }
}

/// Values per row a training framework keeps for the backward pass: the input (`d`) plus the row
/// statistics, mean and `1/σ` for LayerNorm (2), `1/r` for RMSNorm (1). BatchNorm keeps its statistics
/// per feature, not per row, so it is reported as `d` per row here.
pub fn saved_values_per_row(kind: NormKind, d: usize) -> usize {
    match kind {
        NormKind::Batch => d,
        NormKind::Layer => d + 2,
        NormKind::Rms => d + 1,
    }
}

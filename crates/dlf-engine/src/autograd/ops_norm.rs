//! LayerNorm and RMSNorm over the last axis as tape operations.
//!
//! The arithmetic is that of [`crate::lessons::norm`] (lesson 03), called on the `[rows, D]` view of the input, so
//! the tape and the lesson's layers give the same bits: LayerNorm (Ba, Kiros & Hinton, "Layer
//! Normalization", 2016) `y = γ ⊙ (x − μ)/√(σ² + ε) + β` with the biased variance of each row, and RMSNorm
//! (Zhang & Sennrich, "Root Mean Square Layer Normalization", NeurIPS 2019) `y = γ ⊙ x / r` with
//! `r = √(mean(x²) + ε)` or `r = √mean(x²) + ε` ([`RmsEps`]).
//!
//! FLOPs per row of `D` features: forward as [`crate::lessons::norm::forward_flops_per_row`] (`7D` LayerNorm, `4D`
//! RMSNorm). Backward, for `x`: `8D` for LayerNorm (`g = dy ⊙ γ`, the two row means, and
//! `s (g − mean g − x̂ mean(g x̂))`), `6D` for RMSNorm with ε inside and `7D` with ε outside (one more
//! multiply by `r/q`); for `γ`: `2D` (`Σ dy x̂`); for `β`: `D` (`Σ dy`).

use super::{Graph, Op, Var};
use crate::error::ShapeError;
use crate::lessons::norm::{self, NormForward, NormKind, RmsEps};
use crate::tensor::Tensor;

/// The `[rows, D]` view of a tensor whose last axis has `D` entries.
fn rows_view(t: &Tensor) -> Tensor {
    let d = t.shape().last().copied().unwrap_or(1).max(1);
    t.clone()
        .reshape(&[t.len() / d, d])
        .expect("same number of elements")
}

impl Graph {
    /// LayerNorm of each row (last axis) of `x` with gain `gamma` and shift `beta` (each `D` entries, e.g.
    /// a `1 × D` parameter), matching [`crate::lessons::norm::layer_norm`] bit for bit.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `γ` or `β` do not have `D` entries or `ε` is negative or not finite.
    pub fn layer_norm(
        &mut self,
        x: Var,
        gamma: Var,
        beta: Var,
        eps: f64,
    ) -> Result<Var, ShapeError> {
        let fwd = norm::layer_norm(
            &rows_view(self.value(x)),
            self.value(gamma).data(),
            self.value(beta).data(),
            eps,
        )?;
        Ok(self.push_norm(x, gamma, Some(beta), fwd))
    }

    /// RMSNorm of each row (last axis) of `x` with gain `gamma` and ε placed as `placement` says, matching
    /// [`crate::lessons::norm::rms_norm`] bit for bit.
    ///
    /// # Errors
    /// [`ShapeError::Invalid`] if `γ` does not have `D` entries or `ε` is negative or not finite.
    pub fn rms_norm(
        &mut self,
        x: Var,
        gamma: Var,
        eps: f64,
        placement: RmsEps,
    ) -> Result<Var, ShapeError> {
        let fwd = norm::rms_norm(
            &rows_view(self.value(x)),
            self.value(gamma).data(),
            eps,
            placement,
        )?;
        Ok(self.push_norm(x, gamma, None, fwd))
    }

    fn push_norm(&mut self, x: Var, gamma: Var, beta: Option<Var>, fwd: NormForward) -> Var {
        let shape = self.value(x).shape().to_vec();
        let (rows, d) = (fwd.y.rows(), fwd.y.cols());
        let value = fwd
            .y
            .clone()
            .reshape(&shape)
            .expect("same number of elements");
        let flops = (rows * norm::forward_flops_per_row(fwd.kind, d)) as u64;
        let rg = self.rg(x) || self.rg(gamma) || beta.is_some_and(|b| self.rg(b));
        let op = Op::Norm {
            x,
            gamma,
            beta,
            fwd: Box::new(fwd),
        };
        self.push(op, value, rg, flops)
    }

    /// The chain rule for a norm node: contributions for `x`, `γ` and `β` as far as they need one.
    pub(super) fn norm_backward(
        &self,
        (x, gamma, beta): (Var, Var, Option<Var>),
        fwd: &NormForward,
        g: &Tensor,
        flops: &mut u64,
    ) -> Vec<(Var, Tensor)> {
        let (rows, d) = (fwd.y.rows(), fwd.y.cols());
        let g2 = rows_view(g);
        let grads = norm::backward(fwd, self.value(gamma).data(), &g2, false)
            .expect("shapes checked in forward");
        let per_row = |k: usize| (rows * k * d) as u64;
        let mut out = Vec::with_capacity(3);
        if self.rg(x) {
            *flops += per_row(match (fwd.kind, fwd.eps_placement) {
                (NormKind::Rms, RmsEps::Inside) => 6,
                (NormKind::Rms, RmsEps::Outside) => 7,
                _ => 8,
            });
            let shape = self.value(x).shape();
            out.push((x, grads.dx.reshape(shape).expect("same number of elements")));
        }
        let as_param = |v: Var, data: Vec<f64>| {
            Tensor::new(self.value(v).shape(), data).expect("one entry per feature")
        };
        if self.rg(gamma) {
            *flops += per_row(2);
            out.push((gamma, as_param(gamma, grads.dgamma)));
        }
        if let Some(b) = beta.filter(|&b| self.rg(b)) {
            *flops += per_row(1);
            out.push((b, as_param(b, grads.dbeta)));
        }
        out
    }
}

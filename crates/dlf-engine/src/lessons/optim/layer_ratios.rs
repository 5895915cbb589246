//! Per-layer weight-to-gradient norm ratios of a freshly initialised MLP: the measurement that motivates
//! LARS (You, Gitman & Ginsburg 2017, "Large batch training of convolutional networks") and LAMB (You et
//! al. 2020).
//!
//! SGD moves layer `l` by `η‖∇W_l‖`, a relative change `η‖∇W_l‖/‖W_l‖ = η/r_l` with `r_l = ‖W_l‖/‖∇W_l‖`.
//! When the `r_l` differ by a factor `max r/min r` between layers, one global `η` that keeps the most
//! sensitive layer (smallest `r`) stable moves the least sensitive one that many times too slowly. LARS
//! instead scales each layer's step by `r_l` (times a trust coefficient), LAMB by `‖W_l‖/‖u_l‖` with `u_l`
//! Adam's direction.
//!
//! The network is the backprop lesson's [`Mlp`]: input 2, `depth` hidden ReLU layers of `width` units, 2
//! classes, He initialisation, zero biases; the gradient is the full-batch gradient of the mean
//! cross-entropy on 256 points of the two-spirals set. Only the weight matrices count (biases start at
//! zero, and LARS and LAMB implementations usually exclude them).

use crate::activation::Activation;
use crate::lessons::backprop::datasets::{make_dataset, DatasetKind};
use crate::lessons::backprop::mlp::{Mlp, MlpConfig};
use crate::lessons::optim::{Config, Kind, Optimizer};

/// What [`layer_ratios`] measured, one entry per weight matrix, input side first.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRatios {
    /// `‖W_l‖_F`.
    pub weight_norms: Vec<f64>,
    /// `‖∇W_l‖_F`.
    pub grad_norms: Vec<f64>,
    /// `r_l = ‖W_l‖/‖∇W_l‖`.
    pub ratios: Vec<f64>,
    /// LAMB's trust ratio `‖W_l‖/‖u_l‖` at its first step (no weight decay), from a real engine step.
    pub lamb_trust: Vec<f64>,
}

impl LayerRatios {
    /// `max_l r_l / min_l r_l`: how far apart the layers' ratios are.
    pub fn spread(&self) -> f64 {
        let max = self.ratios.iter().copied().fold(f64::MIN, f64::max);
        let min = self.ratios.iter().copied().fold(f64::MAX, f64::min);
        max / min
    }
}

/// Measures the ratios of a fresh `2 → width × depth → 2` ReLU MLP (module documentation); `None` if the
/// network or the optimizer cannot be built.
pub fn layer_ratios(width: usize, depth: usize, seed: u64) -> Option<LayerRatios> {
    let data = make_dataset(DatasetKind::Spirals, 256, 0.1, seed);
    let mut net = Mlp::new(&MlpConfig {
        input: 2,
        hidden: vec![width; depth],
        output: 2,
        activation: Activation::Relu,
        seed,
    });
    net.compute_gradients(&data.x_tensor(), &data.y).ok()?;
    let layers = net.layers();
    let weight_norms: Vec<f64> = (0..layers)
        .map(|l| net.weight(l).frobenius_norm())
        .collect();
    let grad_norms: Vec<f64> = (0..layers)
        .map(|l| net.weight_grad(l).frobenius_norm())
        .collect();
    let ratios = weight_norms
        .iter()
        .zip(&grad_norms)
        .map(|(w, g)| w / g)
        .collect();
    // One LAMB step over the weight matrices, one group per layer.
    let groups: Vec<usize> = (0..layers).map(|l| net.weight(l).len()).collect();
    let mut params: Vec<f64> = (0..layers)
        .flat_map(|l| net.weight(l).data().to_vec())
        .collect();
    let grads: Vec<f64> = (0..layers)
        .flat_map(|l| net.weight_grad(l).data().to_vec())
        .collect();
    let lr = 1e-3;
    let mut opt = Optimizer::new(Config::new(Kind::Lamb, lr), &groups).ok()?;
    let info = opt.step(&mut params, &grads, lr).ok()?;
    Some(LayerRatios {
        weight_norms,
        grad_norms,
        ratios,
        lamb_trust: info.trust_ratios,
    })
}

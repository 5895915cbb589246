//! The attention map of a short sequence (the lesson's second widget): random token embeddings `X`
//! (`n × d_model`), random projections, `H` heads, a mask, and a temperature on the scores, computed by
//! [`super::multi_head`]. Everything the figure draws comes from here.

use super::{affine, multi_head, CausalAlign, Mask, SdpaOptions};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Model width of the toy sequence.
pub const MODEL_WIDTH: usize = 8;

/// Which mask the map uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMask {
    /// Every token sees every token (an encoder).
    None,
    /// Token `i` sees tokens `j ≤ i` (a decoder).
    Causal,
}

impl MapMask {
    /// `none` or `causal`.
    pub fn parse(s: &str) -> Option<MapMask> {
        match s {
            "none" => Some(MapMask::None),
            "causal" => Some(MapMask::Causal),
            _ => None,
        }
    }
}

/// The settings of one map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapConfig {
    /// Tokens.
    pub n: usize,
    /// Heads (a divisor of [`MODEL_WIDTH`]).
    pub heads: usize,
    /// The mask.
    pub mask: MapMask,
    /// Padding tokens at the end of the sequence: no query sees them (at most `n − 1`).
    pub pad: usize,
    /// A multiplier on the scaled scores (1: plain `1/√d_h`; larger: sharper).
    pub sharpness: f64,
    /// Seed of the embeddings and weights.
    pub seed: u64,
}

/// What the map shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionMap {
    /// Each head's `n × n` weights.
    pub weights: Vec<Tensor>,
    /// Each head's mean normalised entropy over the queries that see at least two keys.
    pub entropy: Vec<f64>,
    /// The mask used.
    pub mask: Mask,
}

/// Computes the map. Heads that do not divide [`MODEL_WIDTH`] are an error.
///
/// # Errors
/// As [`multi_head`].
pub fn attention_map(cfg: &MapConfig) -> Result<AttentionMap, crate::error::ShapeError> {
    let mut rng = Rng::new(cfg.seed);
    let d = MODEL_WIDTH;
    let x = Tensor::randn(&[cfg.n, d], 1.0, &mut rng);
    // Weights with variance 1/d keep the projected components at unit variance (a standard init).
    let std = 1.0 / (d as f64).sqrt();
    let wq = Tensor::randn(&[d, d], std, &mut rng);
    let wk = Tensor::randn(&[d, d], std, &mut rng);
    let wv = Tensor::randn(&[d, d], std, &mut rng);
    let q = affine(&x, &wq, None)?;
    let k = affine(&x, &wk, None)?;
    let v = affine(&x, &wv, None)?;
    let mask = match cfg.mask {
        MapMask::None => Mask::none(cfg.n, cfg.n),
        MapMask::Causal => Mask::causal(cfg.n, cfg.n, CausalAlign::TopLeft),
    }
    .with_key_length(cfg.n - cfg.pad.min(cfg.n - 1));
    let dh = d / cfg.heads.max(1);
    let opts = SdpaOptions {
        scale: Some(cfg.sharpness / (dh as f64).sqrt()),
        ..SdpaOptions::default()
    };
    let (per_head, _) = multi_head(&q, &k, &v, cfg.heads, &mask, &opts)?;
    let entropy = per_head
        .iter()
        .map(|f| {
            let mut total = 0.0;
            let mut rows = 0;
            for i in 0..cfg.n {
                let seen = (0..cfg.n).filter(|&j| mask.sees(i, j)).count();
                if seen < 2 {
                    continue;
                }
                let h: f64 = f
                    .weights
                    .row_slice(i)
                    .iter()
                    .filter(|&&p| p > 0.0)
                    .map(|&p| -p * crate::math::ln(p))
                    .sum();
                total += h / crate::math::ln(seen as f64);
                rows += 1;
            }
            if rows == 0 {
                0.0
            } else {
                total / rows as f64
            }
        })
        .collect();
    Ok(AttentionMap {
        weights: per_head.into_iter().map(|f| f.weights).collect(),
        entropy,
        mask,
    })
}

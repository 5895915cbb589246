//! The traces the lesson's widgets draw and its claims quote: RoPE's score against the offset, the
//! wavelength of every pair against the context, and ALiBi's attention pattern past the training length.

use crate::error::ShapeError;
use crate::lessons::posenc::{alibi_slopes, Rope};
use crate::math;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// The score `⟨R_m q, R_n k⟩` of a query and key that are the same vector of ones, divided by `d`, at offset
/// `Δ = n − m`: `(2/d)·s²·Σ_i cos(Δ·θ_i)`, with `s` the magnitude scale (YaRN's; 1 otherwise). At `Δ = 0` it is
/// `s²`; as `Δ` grows the cosines fall out of phase and the sum decays, with ripples — RoFormer's "long-term
/// decay" (Su et al. 2021, §3.4.3).
///
/// # Errors
/// An invalid configuration.
pub fn matched_score(rope: &Rope, offsets: &[f64]) -> Result<Vec<f64>, ShapeError> {
    let f = rope.frequencies()?;
    let s2 = rope.magnitude_scale().powi(2);
    let d = rope.dim as f64;
    Ok(offsets
        .iter()
        .map(|&delta| 2.0 / d * s2 * f.iter().map(|&t| math::cos(delta * t)).sum::<f64>())
        .collect())
}

/// The number of pairs whose wavelength `2π/θ_i` is longer than `context`: over a context of that length
/// they never complete a turn, so positions past it show them angles training never did.
///
/// # Errors
/// An invalid configuration.
pub fn pairs_longer_than(rope: &Rope, context: f64) -> Result<usize, ShapeError> {
    Ok(rope
        .frequencies()?
        .iter()
        .filter(|&&t| 2.0 * std::f64::consts::PI / t > context)
        .count())
}

/// ALiBi's attention past the training length: for `queries` query positions spread evenly over
/// `0..len`, each row holds the weights over all `len` keys (zero above the diagonal) of head `head`
/// (0-based) of `heads`, when the logits are the bias plus a content score drawn uniformly with standard
/// deviation `content_std` per entry.
#[derive(Debug, Clone)]
pub struct AlibiPattern {
    /// The slope of the head.
    pub slope: f64,
    /// Query positions of the rows.
    pub query_positions: Vec<usize>,
    /// `queries × len` attention weights.
    pub weights: Tensor,
    /// For the last query (position `len − 1`): the fraction of its attention on keys farther than
    /// `train_len` tokens back.
    pub mass_beyond_train: f64,
}

/// Computes an [`AlibiPattern`].
///
/// # Errors
/// `heads = 0`, `head ≥ heads`, `len < 2` or `queries = 0`.
pub fn alibi_pattern(
    heads: usize,
    head: usize,
    len: usize,
    queries: usize,
    train_len: usize,
    content_std: f64,
    seed: u64,
) -> Result<AlibiPattern, ShapeError> {
    let slopes = alibi_slopes(heads)?;
    let slope = *slopes.get(head).ok_or_else(|| ShapeError::Invalid {
        op: "alibi",
        message: format!("head {head} does not exist: there are {heads} heads (0-based)"),
    })?;
    if len < 2 || queries == 0 {
        return Err(ShapeError::Invalid {
            op: "alibi",
            message: format!("need len ≥ 2 and at least one query, got len {len}, {queries} queries"),
        });
    }
    let query_positions: Vec<usize> = (0..queries)
        .map(|r| ((r + 1) * (len - 1)) / queries)
        .collect();
    let mut rng = Rng::new(seed);
    // Uniform noise with the chosen standard deviation, √3·σ·(2u − 1): a stand-in for the content score that
    // costs one draw and no logarithm, so a 2048-token map stays inside a widget's frame budget. Only the
    // causal entries j ≤ i are drawn.
    let half_width = 3f64.sqrt() * content_std;
    let mut weights = Tensor::zeros(&[queries, len]);
    let mut row = Vec::with_capacity(len);
    for (r, &i) in query_positions.iter().enumerate() {
        row.clear();
        row.extend((0..=i).map(|j| half_width * (2.0 * rng.uniform() - 1.0) - slope * (i - j) as f64));
        let max = row.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
        let mut sum = 0.0;
        for v in &mut row {
            *v = math::exp(*v - max);
            sum += *v;
        }
        for (j, v) in row.iter().enumerate() {
            weights.set2(r, j, v / sum);
        }
    }
    let last = queries - 1;
    let i = query_positions[last];
    let mass_beyond_train = (0..=i)
        .filter(|&j| i - j > train_len)
        .map(|j| weights.get2(last, j))
        .sum();
    Ok(AlibiPattern {
        slope,
        query_positions,
        weights,
        mass_beyond_train,
    })
}

/// The number of pairs that, at the extended context `s·L`, turn past every angle they reached in training:
/// a pair with wavelength `λ_i ≤ L` saw every angle during training; one with `λ_i > L` saw only
/// `[0, L·θ_i)`, and is pushed past it when `s·L·θ'_i > L·θ_i` (with a relative margin of 10⁻⁹ so that
/// position interpolation's exact equality counts as seen).
///
/// # Errors
/// An invalid configuration.
pub fn unseen_angle_pairs(rope: &Rope) -> Result<usize, ShapeError> {
    let trained = rope.base_frequencies()?;
    let scaled = rope.frequencies()?;
    let l = rope.original_context;
    let s = rope.factor;
    Ok(trained
        .iter()
        .zip(&scaled)
        .filter(|(&t, &t2)| 2.0 * std::f64::consts::PI / t > l && s * l * t2 > l * t * (1.0 + 1e-9))
        .count())
}

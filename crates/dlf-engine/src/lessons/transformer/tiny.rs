//! A tiny decoder-only transformer trained on a copy task, with every part of the block switchable, so the
//! lesson can show what each part is for.
//!
//! **Task.** A sequence of `2K` tokens is `K` random symbols followed by the same `K` symbols again
//! (`a b c d e a b c d e`). The model is trained, with causal attention, to predict the second copy: at
//! position `t ≥ K − 1` the target is token `t + 1`, which equals token `t + 1 − K`. Nothing in the current
//! token tells the model what comes next; it must *look back exactly `K − 1` positions*, so it needs
//! attention (to move information between positions) and positions (to know which one to look at). A
//! model that cannot do this predicts a uniform symbol and stays at the loss `ln V`.
//!
//! **Model.** Token embedding plus a learned or sinusoidal (Vaswani et al. 2017, §3.5) position vector;
//! `L` blocks of causal multi-head attention and a GELU MLP of width `4d`, each wrapped in a residual
//! connection and a LayerNorm placed before the branch (pre-norm, the GPT-2 layout), after the residual sum
//! (post-norm, the 2017 layout) or nowhere; a final LayerNorm (pre-norm only); an untied unembedding. The
//! attention is written out on the tape so the `1/√d_h` scale can be switched off. Adam (lesson 02) at a
//! fixed learning rate; a fresh batch every step, so the training loss is also a held-out loss.
//!
//! **Work.** With 2 blocks of width 12 on 6 sequences of 8 tokens, one step is roughly
//! `3 × 48 × 2 × 12·12²` ≈ 0.5 M multiply-adds plus the tape's bookkeeping; [`Trainer::step`] does one
//! step, so a caller can spread the run over frames.

use crate::autograd::{AttentionMask, GeluForm, Graph, Var};
use crate::error::ShapeError;
use crate::lessons::optim::{Config as AdamConfig, Kind, Optimizer};
use crate::math;
use crate::rng::Rng;
use crate::tensor::Tensor;

/// Where the LayerNorms go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormPlacement {
    /// `x + F(LN(x))`, with a final LN (GPT-2; Xiong et al. 2020).
    Pre,
    /// `LN(x + F(x))` (Vaswani et al. 2017).
    Post,
    /// No norm at all.
    None,
}

impl NormPlacement {
    /// Every placement.
    pub const ALL: &'static [NormPlacement] =
        &[NormPlacement::Pre, NormPlacement::Post, NormPlacement::None];

    /// `pre`, `post` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            NormPlacement::Pre => "pre",
            NormPlacement::Post => "post",
            NormPlacement::None => "none",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<NormPlacement> {
        Self::ALL.iter().copied().find(|k| k.name() == s.trim())
    }
}

/// How positions enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Positions {
    /// A learned `2K × d` table added to the token embeddings (GPT-2).
    Learned,
    /// Fixed sinusoids `sin(t/10000^{2i/d})`, `cos(…)` added (Vaswani et al. 2017).
    Sinusoidal,
    /// Nothing: only the causal mask distinguishes positions.
    None,
}

impl Positions {
    /// Every option.
    pub const ALL: &'static [Positions] =
        &[Positions::Learned, Positions::Sinusoidal, Positions::None];

    /// `learned`, `sinusoidal` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Positions::Learned => "learned",
            Positions::Sinusoidal => "sinusoidal",
            Positions::None => "none",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Positions> {
        Self::ALL.iter().copied().find(|k| k.name() == s.trim())
    }
}

/// The switchable parts and the run's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TinyConfig {
    /// Blocks `L`.
    pub layers: usize,
    /// Heads (must divide [`WIDTH`]).
    pub heads: usize,
    /// Residual connections around both branches.
    pub residual: bool,
    /// Norm placement.
    pub norm: NormPlacement,
    /// Divide the attention scores by `√d_h`.
    pub scale: bool,
    /// Position information.
    pub positions: Positions,
    /// Training steps.
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the initialisation and the batches.
    pub seed: u64,
}

impl TinyConfig {
    /// Every part on: 2 pre-norm blocks, 2 heads, learned positions, 150 steps at lr 0.01.
    pub fn full(seed: u64) -> TinyConfig {
        TinyConfig {
            layers: 2,
            heads: 2,
            residual: true,
            norm: NormPlacement::Pre,
            scale: true,
            positions: Positions::Learned,
            steps: 120,
            lr: 0.01,
            seed,
        }
    }
}

/// Width of the residual stream.
pub const WIDTH: usize = 12;
/// Symbols in the vocabulary.
pub const VOCAB: usize = 8;
/// Length of the pattern that is copied; the sequence is twice as long.
pub const PATTERN: usize = 4;
/// Sequences per batch.
pub const BATCH: usize = 6;
/// Largest number of blocks the trainer accepts.
pub const MAX_LAYERS: usize = 3;

const SEQ: usize = 2 * PATTERN;
/// Predicted positions per sequence: `K − 1 … 2K − 2`.
const TARGETS: usize = PATTERN;

/// One block's parameters, as indices into [`Trainer`]'s tensor list.
#[derive(Debug, Clone, Copy)]
struct BlockIds {
    ln1: [usize; 2],
    attn: [usize; 4],
    ln2: [usize; 2],
    w1: usize,
    b1: usize,
    w2: usize,
    b2: usize,
}

/// A finished forward and backward pass.
pub(crate) struct Pass {
    pub(crate) g: Graph,
    pub(crate) vars: Vec<Var>,
    logits: Var,
    pub(crate) loss: Var,
    input: Var,
    streams: Vec<Var>,
    weights: Vec<Var>,
}

/// Statistics of one block, measured on the most recent step's batch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BlockStats {
    /// Standard deviation of the residual stream after the block.
    pub stream_std: f64,
    /// Mean entropy (nats) of the attention rows, over heads, queries at predicted positions and the batch.
    pub attention_entropy: f64,
    /// Largest, over heads, mean attention weight a predicted position puts on its source `t + 1 − K`.
    pub copy_attention: f64,
    /// Frobenius norm of the gradient of every weight in the block.
    pub grad_norm: f64,
}

/// Training state: parameters, Adam's state, the curves so far, and the latest per-block statistics.
#[derive(Debug, Clone)]
pub struct Trainer {
    cfg: TinyConfig,
    params: Vec<Tensor>,
    embed: usize,
    pos: Option<usize>,
    blocks: Vec<BlockIds>,
    ln_f: [usize; 2],
    unembed: usize,
    sinusoids: Tensor,
    opt: Optimizer,
    rng: Rng,
    flat: Vec<f64>,
    /// Loss (nats) of every step so far, measured before the step's update.
    pub losses: Vec<f64>,
    /// Fraction of predicted tokens the argmax got right, every step so far.
    pub accuracies: Vec<f64>,
    /// Standard deviation of the embedded input (block 0's input) on the latest batch.
    pub input_std: f64,
    /// Per-block statistics of the latest step.
    pub stats: Vec<BlockStats>,
    /// Per-block statistics of the first step (the initialisation).
    pub init_stats: Vec<BlockStats>,
}

/// Sinusoidal position vectors for `t = 0 … n−1` (Vaswani et al. 2017, §3.5): entry `2i` is
/// `sin(t / 10000^{2i/d})`, entry `2i + 1` the cosine of the same angle.
pub fn sinusoids(n: usize, d: usize) -> Tensor {
    let mut out = Tensor::zeros(&[n, d]);
    for t in 0..n {
        for i in 0..d / 2 {
            let angle = t as f64 / math::powf(10_000.0, (2 * i) as f64 / d as f64);
            out.set2(t, 2 * i, math::sin(angle));
            out.set2(t, 2 * i + 1, math::cos(angle));
        }
    }
    out
}

/// Why a tiny configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinyError(pub String);

impl std::fmt::Display for TinyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TinyError {}

impl From<ShapeError> for TinyError {
    fn from(e: ShapeError) -> TinyError {
        TinyError(e.to_string())
    }
}

impl Trainer {
    /// A fresh model and optimizer for `cfg` (cheap: draws the initial weights).
    ///
    /// # Errors
    /// [`TinyError`] if `layers` is not 1–3, `heads` does not divide [`WIDTH`], `steps` is 0 or above 2000,
    /// or the learning rate is not in (0, 1].
    pub fn new(cfg: TinyConfig) -> Result<Trainer, TinyError> {
        if !(1..=MAX_LAYERS).contains(&cfg.layers) {
            return Err(TinyError(format!("layers must be 1 to {MAX_LAYERS}, got {}", cfg.layers)));
        }
        if cfg.heads == 0 || WIDTH % cfg.heads != 0 {
            return Err(TinyError(format!(
                "heads must divide the width {WIDTH}, got {}",
                cfg.heads
            )));
        }
        if cfg.steps == 0 || cfg.steps > 2000 {
            return Err(TinyError(format!("steps must be 1 to 2000, got {}", cfg.steps)));
        }
        if !(cfg.lr > 0.0 && cfg.lr <= 1.0) {
            return Err(TinyError(format!("lr must be in (0, 1], got {}", cfg.lr)));
        }
        let d = WIDTH;
        let mut rng = Rng::new(cfg.seed);
        let mut params = Vec::new();
        let mut push = |t: Tensor| {
            params.push(t);
            params.len() - 1
        };
        // Weights N(0, 1/fan_in) so every projection keeps a unit-variance input at unit variance; the
        // embeddings N(0, 1) so the stream starts at unit scale with or without a norm.
        let embed = push(Tensor::randn(&[VOCAB, d], 1.0, &mut rng));
        let pos = (cfg.positions == Positions::Learned)
            .then(|| push(Tensor::randn(&[SEQ, d], 1.0, &mut rng)));
        let inv = 1.0 / (d as f64).sqrt();
        let mut blocks = Vec::new();
        for _ in 0..cfg.layers {
            let ln1 = [push(Tensor::full(&[1, d], 1.0)), push(Tensor::zeros(&[1, d]))];
            let attn = [
                push(Tensor::randn(&[d, d], inv, &mut rng)),
                push(Tensor::randn(&[d, d], inv, &mut rng)),
                push(Tensor::randn(&[d, d], inv, &mut rng)),
                push(Tensor::randn(&[d, d], inv, &mut rng)),
            ];
            let ln2 = [push(Tensor::full(&[1, d], 1.0)), push(Tensor::zeros(&[1, d]))];
            let w1 = push(Tensor::randn(&[d, 4 * d], inv, &mut rng));
            let b1 = push(Tensor::zeros(&[1, 4 * d]));
            let w2 = push(Tensor::randn(&[4 * d, d], 0.5 * inv, &mut rng));
            let b2 = push(Tensor::zeros(&[1, d]));
            blocks.push(BlockIds {
                ln1,
                attn,
                ln2,
                w1,
                b1,
                w2,
                b2,
            });
        }
        let ln_f = [push(Tensor::full(&[1, d], 1.0)), push(Tensor::zeros(&[1, d]))];
        let unembed = push(Tensor::randn(&[d, VOCAB], inv, &mut rng));
        let sizes: Vec<usize> = params.iter().map(Tensor::len).collect();
        let opt = Optimizer::new(AdamConfig::new(Kind::Adam, cfg.lr), &[sizes.iter().sum()])
            .map_err(|e| TinyError(e.to_string()))?;
        Ok(Trainer {
            cfg,
            params,
            embed,
            pos,
            blocks,
            ln_f,
            unembed,
            sinusoids: sinusoids(SEQ, d),
            opt,
            rng,
            flat: Vec::new(),
            losses: Vec::new(),
            accuracies: Vec::new(),
            input_std: 0.0,
            stats: Vec::new(),
            init_stats: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TinyConfig {
        &self.cfg
    }

    /// Whether every step has been taken.
    pub fn finished(&self) -> bool {
        self.losses.len() >= self.cfg.steps
    }

    /// Number of trainable scalars.
    pub fn param_count(&self) -> usize {
        self.params.iter().map(Tensor::len).sum()
    }

    /// One batch: `BATCH` sequences of a random pattern repeated twice.
    fn batch(&mut self) -> (Vec<usize>, Vec<usize>) {
        let mut ids = Vec::with_capacity(BATCH * SEQ);
        let mut targets = Vec::with_capacity(BATCH * TARGETS);
        for _ in 0..BATCH {
            let pattern: Vec<usize> = (0..PATTERN).map(|_| self.rng.below(VOCAB)).collect();
            ids.extend_from_slice(&pattern);
            ids.extend_from_slice(&pattern);
            targets.extend_from_slice(&pattern);
        }
        (ids, targets)
    }

    /// One block's attention written out, so the `1/√d_h` scale can be switched off. Returns the output
    /// and the attention weights `[B, H, T, T]`.
    fn attention(&self, g: &mut Graph, x: Var, w: [Var; 4]) -> Result<(Var, Var), ShapeError> {
        let h = self.cfg.heads;
        let mut qkv = [w[0], w[1], w[2]];
        for p in &mut qkv {
            let projected = g.matmul(x, *p)?;
            *p = g.split_heads(projected, h)?;
        }
        let [q, k, v] = qkv;
        let kt = g.transpose(k);
        let mut scores = g.matmul(q, kt)?;
        if self.cfg.scale {
            scores = g.scale(scores, 1.0 / ((WIDTH / h) as f64).sqrt());
        }
        let weights = g.masked_softmax(scores, &AttentionMask::causal())?;
        let out = g.matmul(weights, v)?;
        let merged = g.merge_heads(out)?;
        Ok((g.matmul(merged, w[3])?, weights))
    }

    /// `x + branch` with the residual on, `branch` alone with it off.
    fn join(&self, g: &mut Graph, x: Var, branch: Var) -> Result<Var, ShapeError> {
        if self.cfg.residual {
            g.add(x, branch)
        } else {
            Ok(branch)
        }
    }

    /// The forward and backward pass of `params` (in the trainer's layout) on one batch.
    pub(crate) fn pass(
        &self,
        params: &[Tensor],
        ids: &[usize],
        targets: &[usize],
    ) -> Result<Pass, ShapeError> {
        let mut g = Graph::new();
        let vars: Vec<Var> = params.iter().map(|t| g.param(t.clone())).collect();
        let tokens = g.embedding(vars[self.embed], ids, &[BATCH, SEQ])?;
        let mut x = match (self.cfg.positions, self.pos) {
            (Positions::Learned, Some(p)) => g.add(tokens, vars[p])?,
            (Positions::Sinusoidal, _) => {
                let s = g.constant(self.sinusoids.clone());
                g.add(tokens, s)?
            }
            _ => tokens,
        };
        let input = x;
        let norm = self.cfg.norm;
        let mut streams = Vec::new();
        let mut weights = Vec::new();
        for b in &self.blocks {
            let w = [
                vars[b.attn[0]],
                vars[b.attn[1]],
                vars[b.attn[2]],
                vars[b.attn[3]],
            ];
            let a_in = if norm == NormPlacement::Pre {
                g.layer_norm(x, vars[b.ln1[0]], vars[b.ln1[1]], 1e-5)?
            } else {
                x
            };
            let (a, att) = self.attention(&mut g, a_in, w)?;
            weights.push(att);
            let mut h = self.join(&mut g, x, a)?;
            if norm == NormPlacement::Post {
                h = g.layer_norm(h, vars[b.ln1[0]], vars[b.ln1[1]], 1e-5)?;
            }
            let m_in = if norm == NormPlacement::Pre {
                g.layer_norm(h, vars[b.ln2[0]], vars[b.ln2[1]], 1e-5)?
            } else {
                h
            };
            let hidden = g.matmul(m_in, vars[b.w1])?;
            let hidden = g.add(hidden, vars[b.b1])?;
            let hidden = g.gelu(hidden, GeluForm::Erf);
            let m = g.matmul(hidden, vars[b.w2])?;
            let m = g.add(m, vars[b.b2])?;
            x = self.join(&mut g, h, m)?;
            if norm == NormPlacement::Post {
                x = g.layer_norm(x, vars[b.ln2[0]], vars[b.ln2[1]], 1e-5)?;
            }
            streams.push(x);
        }
        let out = if norm == NormPlacement::Pre {
            g.layer_norm(x, vars[self.ln_f[0]], vars[self.ln_f[1]], 1e-5)?
        } else {
            x
        };
        // Keep only the predicted positions K−1 … 2K−2 with a constant 0/1 selection matrix (shared over
        // the batch), so the other positions' hidden states are neither unembedded nor trained on.
        let select = Tensor::from_fn(TARGETS, SEQ, |r, c| f64::from(u8::from(c == r + PATTERN - 1)));
        let select = g.constant(select);
        let picked = g.matmul(select, out)?;
        let logits = g.matmul(picked, vars[self.unembed])?;
        let loss = g.cross_entropy(logits, targets)?;
        g.backward(loss)?;
        Ok(Pass {
            g,
            vars,
            logits,
            loss,
            input,
            streams,
            weights,
        })
    }

    /// The parameters, in the trainer's layout.
    #[cfg(test)]
    pub(crate) fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// Draws the next batch (token ids and targets) from the trainer's stream.
    #[cfg(test)]
    pub(crate) fn next_batch(&mut self) -> (Vec<usize>, Vec<usize>) {
        self.batch()
    }

    /// Takes one training step (if any are left) and returns whether training is finished.
    ///
    /// # Errors
    /// [`TinyError`] if the optimizer meets a non-finite gradient (a diverged run).
    pub fn step(&mut self) -> Result<bool, TinyError> {
        if self.finished() {
            return Ok(true);
        }
        let (ids, targets) = self.batch();
        let Pass {
            g,
            vars,
            logits,
            loss,
            input,
            streams,
            weights,
        } = self.pass(&self.params, &ids, &targets)?;
        let flat_logits = g.value(logits).clone().reshape(&[BATCH * TARGETS, VOCAB])?;
        let predicted = flat_logits.argmax_rows();
        let right = predicted.iter().zip(&targets).filter(|(p, t)| p == t).count();
        self.losses.push(g.value(loss).data()[0]);
        self.accuracies.push(right as f64 / targets.len() as f64);
        self.input_std = std_of(g.value(input).data());
        self.stats = self
            .blocks
            .iter()
            .enumerate()
            .map(|(l, b)| {
                let mut sq = 0.0;
                let ids = [
                    b.ln1[0], b.ln1[1], b.attn[0], b.attn[1], b.attn[2], b.attn[3], b.ln2[0],
                    b.ln2[1], b.w1, b.b1, b.w2, b.b2,
                ];
                for &i in &ids {
                    sq += g.grad(vars[i]).data().iter().map(|v| v * v).sum::<f64>();
                }
                let (entropy, copy) = attention_stats(g.value(weights[l]), self.cfg.heads);
                BlockStats {
                    stream_std: std_of(g.value(streams[l]).data()),
                    attention_entropy: entropy,
                    copy_attention: copy,
                    grad_norm: sq.sqrt(),
                }
            })
            .collect();
        if self.losses.len() == 1 {
            self.init_stats = self.stats.clone();
        }

        self.flat.clear();
        let mut grads = Vec::with_capacity(self.param_count());
        for (t, v) in self.params.iter().zip(&vars) {
            self.flat.extend_from_slice(t.data());
            grads.extend_from_slice(g.grad(*v).data());
        }
        self.opt
            .step(&mut self.flat, &grads, self.cfg.lr)
            .map_err(|e| TinyError(format!("training diverged: {e}")))?;
        let mut at = 0;
        for t in &mut self.params {
            let n = t.len();
            t.data_mut().copy_from_slice(&self.flat[at..at + n]);
            at += n;
        }
        Ok(self.finished())
    }

    /// Runs every remaining step.
    ///
    /// # Errors
    /// As [`Trainer::step`].
    pub fn run(mut self) -> Result<Trainer, TinyError> {
        while !self.step()? {}
        Ok(self)
    }

    /// Mean loss over the last `n` steps taken (or all, if fewer).
    pub fn final_loss(&self, n: usize) -> f64 {
        let tail = &self.losses[self.losses.len().saturating_sub(n)..];
        tail.iter().sum::<f64>() / tail.len().max(1) as f64
    }

    /// Mean accuracy over the last `n` steps taken.
    pub fn final_accuracy(&self, n: usize) -> f64 {
        let tail = &self.accuracies[self.accuracies.len().saturating_sub(n)..];
        tail.iter().sum::<f64>() / tail.len().max(1) as f64
    }
}

/// Population standard deviation of all entries.
fn std_of(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// Mean row entropy over predicted query positions, and the best head's mean weight on the copy source.
fn attention_stats(w: &Tensor, heads: usize) -> (f64, f64) {
    let (mut entropy, mut rows) = (0.0, 0usize);
    let mut copy = vec![0.0; heads];
    for (r, row) in w.data().chunks_exact(SEQ).enumerate() {
        let t = r % SEQ;
        if t + 1 < PATTERN {
            continue;
        }
        let h = (r / SEQ) % heads;
        entropy -= row
            .iter()
            .filter(|&&p| p > 0.0)
            .map(|&p| p * math::ln(p))
            .sum::<f64>();
        rows += 1;
        copy[h] += row[t + 1 - PATTERN];
    }
    let per_head = (rows / heads).max(1) as f64;
    let best = copy.iter().copied().fold(0.0, f64::max) / per_head;
    (entropy / rows.max(1) as f64, best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinusoids_match_the_formula() {
        // PE(t, 2i) = sin(t / 10000^(2i/d)); t = 3, i = 1, d = 16: 10000^(1/8) = 3.16227766...,
        // (python3: math.sin(3/10000**(2/16)) = 0.8126488966420368)
        let s = sinusoids(10, 16);
        assert!((s.get2(3, 2) - 0.812_648_896_642_036_8).abs() < 1e-12);
        assert!((s.get2(0, 1) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn bad_configurations_are_refused() {
        let mut c = TinyConfig::full(1);
        c.heads = 5;
        assert!(Trainer::new(c).unwrap_err().0.contains("heads"));
        c.heads = 2;
        c.layers = 4;
        assert!(Trainer::new(c).unwrap_err().0.contains("layers"));
    }
}

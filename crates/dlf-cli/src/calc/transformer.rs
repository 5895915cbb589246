//! `dlf calc transformer`: the parameters of a decoder-only transformer by component, its FLOPs per token
//! under the three conventions papers use, and its memory, from a configuration or a named preset (lesson 06).
//! The counts are the engine's (`dlf_engine::lessons::transformer::count`).

use anyhow::{bail, Result};
use dlf_engine::lessons::norm::NormKind;
use dlf_engine::lessons::transformer::count::{
    adam_mixed_bytes_per_param, Config, FlopConvention, MlpKind, Preset, Recompute,
};
use serde::Serialize;

use super::{named, Given, Name, Topic, Uses};

/// `dlf calc transformer`.
#[derive(Debug)]
pub struct Transformer;

/// Options of `dlf calc transformer`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// What the backward pass recomputes for the batch's activation memory: none (the default), selective
    /// (the attention scores; Korthikanti et al. 2022) or full (everything but each block's input).
    #[arg(long, value_parser = named::<Recompute>())]
    pub recompute: Option<Recompute>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        super::given(&[("--recompute", self.recompute.is_some())])
    }
}

problem! {
    /// A configuration as the learner writes it: a preset, fields, or a preset with fields overriding it.
    pub struct Problem {
        required {}
        optional {
            preset: Name<Preset>,
            d_model: f64,
            n_layers: f64,
            n_heads: f64,
            n_kv_heads: f64,
            d_head: f64,
            d_ff: f64,
            vocab: f64,
            n_ctx: f64,
            mlp: Name<MlpKind>,
            bias: bool,
            tied: bool,
            norm: Name<NormKind>,
            learned_positions: bool,
            batch: f64,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin describing a decoder-only transformer and prints its parameters by component,
its FLOPs per token under three conventions, and its memory.

Input: a preset, or every architecture field, or a preset with some fields overriding it:
  preset             \"gpt2-small\" | \"gpt2-medium\" | \"gpt2-large\" | \"gpt2-xl\" | \"llama-2-7b\" | \"llama-2-13b\" |
                     \"llama-2-70b\" | \"llama-3-8b\" (the released checkpoints' shapes)
  d_model, n_layers, n_heads, d_ff, vocab, n_ctx     positive integers
  n_kv_heads         key/value heads (default n_heads; 1 = multi-query; must divide n_heads)
  d_head             width of a head (default d_model / n_heads)
  mlp                \"gelu\" (two matrices, d_model×d_ff and d_ff×d_model) | \"swiglu\" (three)
  norm               \"layernorm\" (γ and β) | \"rmsnorm\" (γ)
  bias, tied, learned_positions    booleans: biases on linear layers; unembedding = embeddingᵀ; a learned
                     n_ctx×d_model position table (false for RoPE, ALiBi or sinusoids)
  batch              sequences of n_ctx tokens for the batch memory (default 1)

Parameters (per block): attention d·H·d_h + 2·d·H_kv·d_h + H·d_h·d (+ H·d_h + 2·H_kv·d_h + d biases);
  MLP 2·d·d_ff (gelu, + d_ff + d biases) or 3·d·d_ff (swiglu, + 2·d_ff + d); two norms (2d or d each).
  Outside: token embedding V·d, position table n_ctx·d, final norm, unembedding d·V unless tied.
  non_embedding = all blocks + final norm (Kaplan et al. 2020's N: no token, position or untied output matrix).

FLOPs per token, forward (a multiply-add is 2 FLOPs); training = 3 × forward (backward = 2 × forward):
  kaplan      Kaplan et al. 2020, Table 1: 2·N + 2·n_layers·n_ctx·d_attn, d_attn = H·d_h (no embedding, no logits;
              attention against the context counted once)
  matmul      every matrix product of one token: 2 × (every block's weight matrices) + 2·d·V (logits) +
              n_layers · 2·2·n_ctx·d_attn (QKᵀ and A·V against all n_ctx keys)
  chinchilla  Hoffmann et al. 2022, appendix F, per sequence of S = n_ctx tokens divided by S: embeddings 2·V·d;
              per layer QKV projection, logits 2·S·d_attn, softmax 3·H·S, softmax·V 2·S·d_attn, output projection,
              dense block; final logits 2·d·V. Written in the paper for multi-head attention and a two-matrix MLP;
              here the projections use n_kv_heads and the third SwiGLU matrix, the paper's formula otherwise.

Memory: weights at 2 (bf16) and 4 (fp32) bytes per parameter; training state of mixed-precision Adam, 16 bytes
  per parameter (bf16 weights and gradients, fp32 master weights and two moments; Rajbhandari et al. 2020);
  activations kept for the backward pass per token, 16-bit (Korthikanti et al. 2022, no tensor parallelism):
  n_layers × (34·d + 5·H·n_ctx) bytes with no recomputation, 34·d selective, 2·d full; key/value cache per
  token 2·n_layers·H_kv·d_h values at 2 bytes. GB are 10⁹ bytes.

Options:
  --recompute none|selective|full    which activation figure the batch totals use (default none)

Output: {\"topic\", \"config\", \"params\", \"flops_per_token\": {forward, training, two_n, six_n},
\"memory\": {bytes per parameter, per token and for the batch}}.

Example:
  echo '{\"preset\":\"gpt2-small\"}' | dlf calc transformer
  echo '{\"preset\":\"llama-2-7b\",\"n_kv_heads\":8,\"batch\":4}' | dlf calc transformer --recompute selective";

/// Every architecture field, in the order the messages list them.
const ARCHITECTURE: &[&str] = &[
    "d_model",
    "n_layers",
    "n_heads",
    "n_kv_heads",
    "d_head",
    "d_ff",
    "vocab",
    "n_ctx",
    "mlp",
    "bias",
    "tied",
    "norm",
    "learned_positions",
];

/// The configuration echoed back.
#[derive(Debug, Serialize)]
struct ConfigOut {
    source: String,
    d_model: u64,
    n_layers: u64,
    n_heads: u64,
    n_kv_heads: u64,
    d_head: u64,
    d_ff: u64,
    vocab: u64,
    n_ctx: u64,
    mlp: &'static str,
    bias: bool,
    tied: bool,
    norm: &'static str,
    learned_positions: bool,
}

#[derive(Debug, Serialize)]
struct Params {
    token_embedding: u64,
    position_embedding: u64,
    attention_per_layer: u64,
    mlp_per_layer: u64,
    norms_per_layer: u64,
    per_layer: u64,
    blocks: u64,
    final_norm: u64,
    unembedding: u64,
    total: u64,
    non_embedding: u64,
}

#[derive(Debug, Serialize)]
struct ByConvention {
    kaplan: f64,
    matmul: f64,
    chinchilla: f64,
}

#[derive(Debug, Serialize)]
struct Flops {
    forward: ByConvention,
    training: ByConvention,
    /// 2 × all parameters.
    two_n: f64,
    /// 6 × all parameters.
    six_n: f64,
}

#[derive(Debug, Serialize)]
struct Memory {
    weights_bf16_gb: f64,
    weights_fp32_gb: f64,
    adam_mixed_bytes_per_param: f64,
    training_state_gb: f64,
    activation_bytes_per_token: ActivationBytes,
    kv_cache_bytes_per_token: f64,
    batch: u64,
    recompute: &'static str,
    batch_activations_gb: f64,
    batch_kv_cache_gb: f64,
}

#[derive(Debug, Serialize)]
struct ActivationBytes {
    none: f64,
    selective: f64,
    full: f64,
}

/// Everything printed, in this order.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    config: ConfigOut,
    params: Params,
    flops_per_token: Flops,
    memory: Memory,
}

fn by_convention(f: impl Fn(FlopConvention) -> f64) -> ByConvention {
    ByConvention {
        kaplan: f(FlopConvention::Kaplan),
        matmul: f(FlopConvention::Matmul),
        chinchilla: f(FlopConvention::Chinchilla),
    }
}

/// A size field as a whole number, or an error naming the field (JSON numbers are read as doubles so a
/// negative, fractional or huge value gets a message that names it rather than a type error).
fn whole(name: &str, v: Option<f64>) -> Result<Option<u64>> {
    match v {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && (1.0..=16_777_216.0).contains(&x) => Ok(Some(x as u64)),
        Some(x) => bail!("{name} must be a whole number from 1 to 16,777,216, got {x}"),
    }
}

/// The configuration: the preset's, with every given field replacing its value; without a preset, every
/// field but `n_kv_heads` and `d_head` must be given.
fn configuration(raw: &Problem) -> Result<(Config, String)> {
    let given = raw.given();
    let overridden: Vec<&str> = ARCHITECTURE
        .iter()
        .copied()
        .filter(|f| given.contains(f))
        .collect();
    let (base, source) = match &raw.preset {
        Some(p) => {
            let mut s = format!("preset {}", p.0.name());
            if !overridden.is_empty() {
                s.push_str(" with ");
                s.push_str(&overridden.join(", "));
                s.push_str(" overridden");
            }
            (Some(p.0.config()), s)
        }
        None => (None, "the given fields".to_string()),
    };
    if base.is_none() {
        let missing: Vec<&str> = ARCHITECTURE
            .iter()
            .copied()
            .filter(|f| !matches!(*f, "n_kv_heads" | "d_head") && !given.contains(f))
            .collect();
        if !missing.is_empty() {
            bail!(
                "without a preset the problem needs {}; missing: {} (or give \"preset\", e.g. \"gpt2-small\")",
                ARCHITECTURE
                    .iter()
                    .copied()
                    .filter(|f| !matches!(*f, "n_kv_heads" | "d_head"))
                    .collect::<Vec<_>>()
                    .join(", "),
                missing.join(", ")
            );
        }
    }
    let [d_model_in, n_layers_in, n_heads_in, n_kv_in, d_head_in, d_ff_in, vocab_in, n_ctx_in] = [
        ("d_model", raw.d_model),
        ("n_layers", raw.n_layers),
        ("n_heads", raw.n_heads),
        ("n_kv_heads", raw.n_kv_heads),
        ("d_head", raw.d_head),
        ("d_ff", raw.d_ff),
        ("vocab", raw.vocab),
        ("n_ctx", raw.n_ctx),
    ]
    .map(|(name, v)| whole(name, v));
    let (d_model_in, n_layers_in, n_heads_in, n_kv_in) = (d_model_in?, n_layers_in?, n_heads_in?, n_kv_in?);
    let (d_head_in, d_ff_in, vocab_in, n_ctx_in) = (d_head_in?, d_ff_in?, vocab_in?, n_ctx_in?);
    let pick = |v: Option<u64>, b: Option<u64>| v.or(b).unwrap_or(0);
    let d_model = pick(d_model_in, base.map(|c| c.d_model));
    let n_heads = pick(n_heads_in, base.map(|c| c.n_heads));
    // A preset's d_head and n_kv_heads follow a changed width or head count unless given.
    let heads_changed = d_model_in.is_some() || n_heads_in.is_some();
    let d_head = match d_head_in {
        Some(v) => v,
        None => match base {
            Some(c) if !heads_changed => c.d_head,
            _ => {
                if d_model % n_heads != 0 {
                    bail!(
                        "d_model = {d_model} is not a multiple of n_heads = {n_heads}: give d_head explicitly"
                    );
                }
                d_model / n_heads
            }
        },
    };
    let n_kv_heads = match n_kv_in {
        Some(v) => v,
        None => match base {
            Some(c) if n_heads_in.is_none() => c.n_kv_heads,
            _ => n_heads,
        },
    };
    let c = Config {
        d_model,
        n_layers: pick(n_layers_in, base.map(|c| c.n_layers)),
        n_heads,
        n_kv_heads,
        d_head,
        d_ff: pick(d_ff_in, base.map(|c| c.d_ff)),
        vocab: pick(vocab_in, base.map(|c| c.vocab)),
        n_ctx: pick(n_ctx_in, base.map(|c| c.n_ctx)),
        mlp: raw
            .mlp
            .as_ref()
            .map(|m| m.0)
            .or(base.map(|c| c.mlp))
            .unwrap_or(MlpKind::Gelu),
        bias: raw.bias.or(base.map(|c| c.bias)).unwrap_or(false),
        tied: raw.tied.or(base.map(|c| c.tied)).unwrap_or(false),
        norm: raw
            .norm
            .as_ref()
            .map(|n| n.0)
            .or(base.map(|c| c.norm))
            .unwrap_or(NormKind::Layer),
        learned_positions: raw
            .learned_positions
            .or(base.map(|c| c.learned_positions))
            .unwrap_or(false),
    };
    c.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((c, source))
}

impl Topic for Transformer {
    const NAME: &'static str = "transformer";
    const ABOUT: &'static str =
        "Parameters by component, FLOPs per token (Kaplan, matmul, Chinchilla) and memory of a decoder (lesson 06)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        let mut fields = vec!["preset"];
        fields.extend_from_slice(ARCHITECTURE);
        fields.extend(["batch", "--recompute"]);
        Uses {
            method: match &problem.preset {
                Some(p) => p.0.name(),
                None => "a custom configuration",
            },
            fields,
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        let (c, source) = configuration(&raw)?;
        let batch = whole("batch", raw.batch)?.unwrap_or(1);
        let recompute = options.recompute.unwrap_or(Recompute::None);
        let n = c.params();
        let total = n.total() as f64;
        let tokens = (batch * c.n_ctx) as f64;
        Ok(Answer {
            topic: "transformer",
            config: ConfigOut {
                source,
                d_model: c.d_model,
                n_layers: c.n_layers,
                n_heads: c.n_heads,
                n_kv_heads: c.n_kv_heads,
                d_head: c.d_head,
                d_ff: c.d_ff,
                vocab: c.vocab,
                n_ctx: c.n_ctx,
                mlp: c.mlp.name(),
                bias: c.bias,
                tied: c.tied,
                norm: c.norm.name(),
                learned_positions: c.learned_positions,
            },
            params: Params {
                token_embedding: n.token_embedding,
                position_embedding: n.position_embedding,
                attention_per_layer: n.attention_per_layer,
                mlp_per_layer: n.mlp_per_layer,
                norms_per_layer: n.norms_per_layer,
                per_layer: n.per_layer(),
                blocks: n.blocks(),
                final_norm: n.final_norm,
                unembedding: n.unembedding,
                total: n.total(),
                non_embedding: n.non_embedding(),
            },
            flops_per_token: Flops {
                forward: by_convention(|k| c.forward_flops_per_token(k)),
                training: by_convention(|k| c.training_flops_per_token(k)),
                two_n: 2.0 * total,
                six_n: 6.0 * total,
            },
            memory: Memory {
                weights_bf16_gb: 2.0 * total / 1e9,
                weights_fp32_gb: 4.0 * total / 1e9,
                adam_mixed_bytes_per_param: adam_mixed_bytes_per_param(),
                training_state_gb: adam_mixed_bytes_per_param() * total / 1e9,
                activation_bytes_per_token: ActivationBytes {
                    none: c.activation_bytes_per_token(Recompute::None),
                    selective: c.activation_bytes_per_token(Recompute::Selective),
                    full: c.activation_bytes_per_token(Recompute::Full),
                },
                kv_cache_bytes_per_token: c.kv_cache_bytes_per_token(2.0),
                batch,
                recompute: recompute.name(),
                batch_activations_gb: c.activation_bytes_per_token(recompute) * tokens / 1e9,
                batch_kv_cache_gb: c.kv_cache_bytes_per_token(2.0) * tokens / 1e9,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calc::Named;

    #[test]
    fn every_name_round_trips() {
        for p in Preset::ALL {
            assert_eq!(<Preset as Named>::parse(p.name()), Some(*p));
        }
    }
}

//! Quantities of lesson 06 (the transformer block); names start with `transformer.`.

use crate::error::QuantityError;
use crate::lessons::transformer::count::{
    adam_mixed_bytes_per_param, Config, FlopConvention, MlpKind, Preset, Recompute,
};
use crate::lessons::transformer::tiny::{BlockStats, NormPlacement, Positions, TinyConfig, Trainer};
use crate::quantities::{one_of, Args, QuantitySpec};

/// The counting arguments (`model` and its overrides) plus more.
macro_rules! with_model {
    ($($extra:expr),* $(,)?) => {
        &[
            ("model", "gpt2-small"),
            ("kv_heads", "0"),
            ("d_ff", "0"),
            ("mlp", "preset"),
            ("n_ctx", "0"),
            $($extra),*
        ]
    };
}

/// The model and the overrides every counting quantity accepts (0 or `preset` keeps the preset's value).
const MODEL: &[(&str, &str)] = with_model![];

/// The preset named by `model`, with the overrides applied and validated.
fn model(a: &Args) -> Result<Config, QuantityError> {
    let name = a.raw("model");
    let Some(p) = Preset::parse(name) else {
        let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
        return Err(a.invalid("model", format!("one of {}", names.join(", "))));
    };
    let mut c = p.config();
    let kv = a.usize_in("kv_heads", 0, 1 << 20)? as u64;
    if kv > 0 {
        c.n_kv_heads = kv;
    }
    let ff = a.usize_in("d_ff", 0, 1 << 24)? as u64;
    if ff > 0 {
        c.d_ff = ff;
    }
    match a.raw("mlp") {
        "preset" => {}
        other => {
            c.mlp = MlpKind::parse(other)
                .ok_or_else(|| a.invalid("mlp", one_of(["preset", "gelu", "swiglu"])))?;
        }
    }
    let ctx = a.usize_in("n_ctx", 0, 1 << 24)? as u64;
    if ctx > 0 {
        c.n_ctx = ctx;
    }
    c.validate().map_err(|e| a.failed(e))?;
    Ok(c)
}

fn convention(a: &Args) -> Result<FlopConvention, QuantityError> {
    FlopConvention::parse(a.raw("convention"))
        .ok_or_else(|| a.invalid("convention", one_of(["kaplan", "matmul", "chinchilla"])))
}

fn recompute(a: &Args) -> Result<Recompute, QuantityError> {
    Recompute::parse(a.raw("recompute"))
        .ok_or_else(|| a.invalid("recompute", one_of(["none", "selective", "full"])))
}

/// The ablation arguments of the tiny model.
const TINY: &[(&str, &str)] = &[
    ("stat", "entropy"),
    ("layer", "0"),
    ("residual", "1"),
    ("norm", "pre"),
    ("scale", "1"),
    ("positions", "learned"),
    ("heads", "1"),
    ("seed", "1"),
];

fn tiny_config(a: &Args) -> Result<TinyConfig, QuantityError> {
    let norm = NormPlacement::parse(a.raw("norm"))
        .ok_or_else(|| a.invalid("norm", one_of(["pre", "post", "none"])))?;
    let positions = Positions::parse(a.raw("positions"))
        .ok_or_else(|| a.invalid("positions", one_of(["learned", "sinusoidal", "none"])))?;
    Ok(TinyConfig {
        residual: a.flag("residual")?,
        norm,
        scale: a.flag("scale")?,
        positions,
        heads: a.usize_in("heads", 1, 16)?,
        steps: 1,
        ..TinyConfig::full(a.seed("seed")?)
    })
}

fn block_stat(a: &Args, s: &BlockStats) -> Result<f64, QuantityError> {
    match a.raw("stat") {
        "entropy" => Ok(s.attention_entropy),
        "stream_std" => Ok(s.stream_std),
        "grad_norm" => Ok(s.grad_norm),
        "copy_attention" => Ok(s.copy_attention),
        _ => Err(a.invalid(
            "stat",
            one_of(["entropy", "stream_std", "grad_norm", "copy_attention"]),
        )),
    }
}

/// The quantities this lesson quotes and checks.
pub(crate) const SPECS: &[QuantitySpec] = &[
    QuantitySpec {
        name: "transformer.params",
        description: "parameters of a preset (with optional overrides: kv_heads, d_ff, mlp, n_ctx) by part: total, non_embedding (Kaplan's N), token_embedding, position_embedding, unembedding, attention, mlp, norms (per layer), per_layer, blocks",
        args: with_model![("part", "total")],
        eval: |a| {
            let p = model(a)?.params();
            let v = match a.raw("part") {
                "total" => p.total(),
                "non_embedding" => p.non_embedding(),
                "token_embedding" => p.token_embedding,
                "position_embedding" => p.position_embedding,
                "unembedding" => p.unembedding,
                "attention" => p.attention_per_layer,
                "mlp" => p.mlp_per_layer,
                "norms" => p.norms_per_layer,
                "per_layer" => p.per_layer(),
                "blocks" => p.blocks(),
                _ => {
                    return Err(a.invalid(
                        "part",
                        "one of total, non_embedding, token_embedding, position_embedding, unembedding, attention, mlp, norms, per_layer, blocks".into(),
                    ))
                }
            };
            Ok(v as f64)
        },
    },
    QuantitySpec {
        name: "transformer.flops_per_token",
        description: "forward (or training = 3× forward) FLOPs per token of a preset under a convention: kaplan (2N + 2·L·n_ctx·d_attn), matmul (every matrix product), chinchilla (Hoffmann et al. 2022 appendix F)",
        args: with_model![("convention", "kaplan"), ("training", "0")],
        eval: |a| {
            let c = model(a)?;
            let conv = convention(a)?;
            Ok(if a.flag("training")? {
                c.training_flops_per_token(conv)
            } else {
                c.forward_flops_per_token(conv)
            })
        },
    },
    QuantitySpec {
        name: "transformer.flops_over_2n",
        description: "forward FLOPs per token under a convention divided by 2N (N = all parameters): how far the 2N rule is from the convention",
        args: with_model![("convention", "matmul")],
        eval: |a| {
            let c = model(a)?;
            Ok(c.forward_flops_per_token(convention(a)?) / (2.0 * c.params().total() as f64))
        },
    },
    QuantitySpec {
        name: "transformer.attention_share",
        description: "fraction of the matmul-count forward FLOPs per token spent in QKᵀ and AV (4·L·n_ctx·d_attn of the total)",
        args: MODEL,
        eval: |a| {
            let c = model(a)?;
            let attn = 4.0 * (c.n_layers * c.n_ctx * c.d_attn()) as f64;
            Ok(attn / c.forward_flops_per_token(FlopConvention::Matmul))
        },
    },
    QuantitySpec {
        name: "transformer.attention_break_even_ctx",
        description: "context length at which one layer's QKᵀ and AV FLOPs (4·n_ctx·d_attn per token) equal its weight-matrix FLOPs (2 × matrix parameters)",
        args: MODEL,
        eval: |a| {
            let c = model(a)?;
            Ok(c.matrix_params_per_layer() as f64 / (2.0 * c.d_attn() as f64))
        },
    },
    QuantitySpec {
        name: "transformer.training_state_gb",
        description: "GB (10⁹ bytes) of weights, gradients and Adam state in mixed precision (16 bytes per parameter)",
        args: MODEL,
        eval: |a| Ok(model(a)?.params().total() as f64 * adam_mixed_bytes_per_param() / 1e9),
    },
    QuantitySpec {
        name: "transformer.weights_gb",
        description: "GB (10⁹ bytes) of the weights alone at `bytes` bytes per parameter (2 for bf16, 4 for fp32)",
        args: with_model![("bytes", "2")],
        eval: |a| Ok(model(a)?.params().total() as f64 * a.f64_in("bytes", 0.125, 8.0)? / 1e9),
    },
    QuantitySpec {
        name: "transformer.activation_gb",
        description: "GB of 16-bit activations kept for the backward pass by `batch` sequences of n_ctx tokens (Korthikanti et al. 2022), with recompute none, selective or full",
        args: with_model![("recompute", "none"), ("batch", "1")],
        eval: |a| {
            let c = model(a)?;
            let tokens = (a.usize_in("batch", 1, 1 << 20)? as u64 * c.n_ctx) as f64;
            Ok(c.activation_bytes_per_token(recompute(a)?) * tokens / 1e9)
        },
    },
    QuantitySpec {
        name: "transformer.kv_cache_gb",
        description: "GB of the bf16 key/value cache for `batch` sequences of n_ctx tokens (2·L·H_kv·d_h values per token)",
        args: with_model![("batch", "1")],
        eval: |a| {
            let c = model(a)?;
            let tokens = (a.usize_in("batch", 1, 1 << 20)? as u64 * c.n_ctx) as f64;
            Ok(c.kv_cache_bytes_per_token(2.0) * tokens / 1e9)
        },
    },
    QuantitySpec {
        name: "transformer.swiglu_width",
        description: "the LLaMA reference code's SwiGLU width for model width d: ⌊2·4d/3⌋ rounded up to a multiple of `multiple_of`",
        args: &[("d", "4096"), ("multiple_of", "256")],
        eval: |a| {
            let d = a.usize_in("d", 1, 1 << 20)?;
            let m = a.usize_in("multiple_of", 1, 1 << 16)?;
            Ok(swiglu_width(d, m) as f64)
        },
    },
    QuantitySpec {
        name: "transformer.training_days",
        description: "days to train N parameters (billions) on D tokens (trillions) at 6·N·D FLOPs with `gpus` accelerators of `peak` TFLOP/s at utilisation `mfu`",
        args: &[("n_b", "70"), ("tokens_t", "1.4"), ("gpus", "1000"), ("peak", "989"), ("mfu", "1")],
        eval: |a| {
            let flops = 6.0 * a.f64_in("n_b", 1e-6, 1e6)? * 1e9 * a.f64_in("tokens_t", 1e-9, 1e6)? * 1e12;
            let rate = a.f64_in("gpus", 1.0, 1e8)? * a.f64_in("peak", 1e-3, 1e9)? * 1e12 * a.f64_in("mfu", 1e-6, 1.0)?;
            Ok(flops / rate / 86_400.0)
        },
    },
    QuantitySpec {
        name: "transformer.tiny_init",
        description: "a statistic (entropy, stream_std, grad_norm, copy_attention) of block `layer` of the lesson's tiny 2-block transformer at initialisation (its first training batch), with parts switched off",
        args: TINY,
        eval: |a| {
            let cfg = tiny_config(a)?;
            let layer = a.usize_in("layer", 0, cfg.layers - 1)?;
            let t = Trainer::new(cfg)
                .map_err(|e| a.failed(e))?
                .run()
                .map_err(|e| a.failed(e))?;
            block_stat(a, &t.init_stats[layer])
        },
    },
    QuantitySpec {
        name: "transformer.tiny_params",
        description: "trainable parameters of the lesson's tiny transformer (learned positions, 2 blocks, width 12)",
        args: &[],
        eval: |a| {
            let t = Trainer::new(TinyConfig::full(1)).map_err(|e| a.failed(e))?;
            Ok(t.param_count() as f64)
        },
    },
];

/// LLaMA's SwiGLU width (Touvron et al. 2023, reference code `FeedForward`): start from the GELU width
/// `4d`, take two thirds so three matrices hold as many parameters as two did, round up to `multiple_of`.
pub fn swiglu_width(d: usize, multiple_of: usize) -> usize {
    let hidden = 2 * 4 * d / 3;
    hidden.div_ceil(multiple_of) * multiple_of
}

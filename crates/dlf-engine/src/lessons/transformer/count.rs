//! Counting a decoder-only transformer: parameters by component, FLOPs per token under the three
//! conventions papers use, and training memory.
//!
//! # Parameters
//! For width `d`, `H` query heads and `H_kv` key/value heads of width `d_h`, MLP width `d_ff`, vocabulary
//! `V` and context `n_ctx`, one block holds
//! - attention: `d·H·d_h` (W_q) + `2·d·H_kv·d_h` (W_k, W_v) + `H·d_h·d` (W_o), plus `H·d_h + 2·H_kv·d_h + d`
//!   biases if the linear layers have them (GPT-2 does, LLaMA does not);
//! - MLP: `2·d·d_ff` for the GELU MLP (Radford et al. 2019) or `3·d·d_ff` for SwiGLU's gate, up and down
//!   matrices (Shazeer 2020; Touvron et al. 2023), plus `d_ff + d` (GELU) or `2·d_ff + d` (SwiGLU) biases;
//! - two norms: `2d` each for LayerNorm (γ, β), `d` for RMSNorm (γ).
//!
//! Outside the blocks: the token embedding `V·d`, a learned position table `n_ctx·d` (GPT-2; none with
//! RoPE), the final norm, and the unembedding `d·V` unless it is tied to the token embedding (Press &
//! Wolf 2017). GPT-2 small comes to 124,439,808 and LLaMA-2-7B to 6,738,415,616, the published counts.
//!
//! # FLOPs per token, forward (a multiply-add = 2 FLOPs)
//! - **Kaplan et al. 2020**, Table 1: `2N + 2·n_layer·n_ctx·d_attn`, with `N` the non-embedding parameters
//!   and `d_attn = H·d_h`; the embedding and the logits are left out, and attention over the context is
//!   counted once (the `QKᵀ` "mask" row).
//! - **Matmul count**: every matrix product of one token's forward pass: `2×` each weight matrix, the
//!   unembedding `2dV`, and per layer `QKᵀ` and `AV` against all `n_ctx` keys, `2·2·n_ctx·H·d_h`.
//! - **Hoffmann et al. 2022 (Chinchilla), appendix F**, per sequence of `S = n_ctx` tokens, divided by `S`:
//!   embeddings `2·V·d` (counted as a one-hot product), per layer the `QKV` projection, the logits `2·S·H·d_h`,
//!   the softmax `3·H·S`, the weighted values `2·S·H·d_h`, the output projection and the dense block, and
//!   the final logits `2dV`. The paper writes it for multi-head attention and a two-matrix MLP; here the
//!   projections use the configured widths (fewer K/V heads, a third SwiGLU matrix), which reduces to the
//!   paper's formula for the GPT-2 presets.
//!
//! Training is the forward pass plus a backward pass of twice its cost (both papers), so `3×` forward.
//!
//! # Memory
//! Weights, gradients and Adam's state in mixed precision are `2 + 2 + 4 + 8 = 16` bytes per parameter
//! (Rajbhandari et al. 2020, via [`crate::lessons::optim::training_bytes_per_param`]). Activations kept for
//! the backward pass per token and layer, in 16-bit (Korthikanti et al. 2022, eq. 1–2 without tensor
//! parallelism): `34d + 5·H·S` bytes with nothing recomputed, `34d` when the attention scores are recomputed
//! (selective recomputation), `2d` when only each block's input is kept (full recomputation). The key/value
//! cache of inference holds `2·n_layer·H_kv·d_h` values per token.

use crate::lessons::norm::NormKind;
use crate::lessons::optim::{training_bytes_per_param, Kind};

/// The MLP of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlpKind {
    /// `W₂ GELU(W₁ x)`: two matrices (GPT-2).
    Gelu,
    /// `W₂ (SiLU(W_g x) ⊙ W₁ x)`: three matrices (PaLM, LLaMA).
    SwiGlu,
}

impl MlpKind {
    /// Every kind, for lists of names.
    pub const ALL: &'static [MlpKind] = &[MlpKind::Gelu, MlpKind::SwiGlu];

    /// `gelu` or `swiglu`.
    pub fn name(self) -> &'static str {
        match self {
            MlpKind::Gelu => "gelu",
            MlpKind::SwiGlu => "swiglu",
        }
    }

    /// Parses `gelu` or `swiglu` (any case).
    pub fn parse(s: &str) -> Option<MlpKind> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Weight matrices of size `d × d_ff`: 2 or 3.
    pub fn matrices(self) -> u64 {
        match self {
            MlpKind::Gelu => 2,
            MlpKind::SwiGlu => 3,
        }
    }
}

/// Which FLOP-counting convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlopConvention {
    /// Kaplan et al. 2020, Table 1: `2N + 2·n_layer·n_ctx·d_attn`.
    Kaplan,
    /// Every matrix product, attention against the full context.
    Matmul,
    /// Hoffmann et al. 2022, appendix F.
    Chinchilla,
}

impl FlopConvention {
    /// Every convention.
    pub const ALL: &'static [FlopConvention] = &[
        FlopConvention::Kaplan,
        FlopConvention::Matmul,
        FlopConvention::Chinchilla,
    ];

    /// `kaplan`, `matmul` or `chinchilla`.
    pub fn name(self) -> &'static str {
        match self {
            FlopConvention::Kaplan => "kaplan",
            FlopConvention::Matmul => "matmul",
            FlopConvention::Chinchilla => "chinchilla",
        }
    }

    /// Parses a name (any case).
    pub fn parse(s: &str) -> Option<FlopConvention> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// What is kept for the backward pass (Korthikanti et al. 2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recompute {
    /// Everything the backward pass reads is stored: `34d + 5·H·S` bytes per token and layer.
    None,
    /// The attention scores, softmax and its dropout are recomputed: `34d`.
    Selective,
    /// Only each block's input is stored and the block is rerun: `2d`.
    Full,
}

impl Recompute {
    /// Every option.
    pub const ALL: &'static [Recompute] = &[Recompute::None, Recompute::Selective, Recompute::Full];

    /// `none`, `selective` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            Recompute::None => "none",
            Recompute::Selective => "selective",
            Recompute::Full => "full",
        }
    }

    /// Parses a name (any case).
    pub fn parse(s: &str) -> Option<Recompute> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// The shape of a decoder-only transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Width of the residual stream `d`.
    pub d_model: u64,
    /// Number of blocks `L`.
    pub n_layers: u64,
    /// Query heads `H`.
    pub n_heads: u64,
    /// Key/value heads `H_kv` (`H` for multi-head, 1 for multi-query, in between for grouped-query).
    pub n_kv_heads: u64,
    /// Width of one head `d_h`.
    pub d_head: u64,
    /// Hidden width of the MLP.
    pub d_ff: u64,
    /// Vocabulary size `V`.
    pub vocab: u64,
    /// Context length `n_ctx` (the learned position table's length and the attention span).
    pub n_ctx: u64,
    /// The MLP's form.
    pub mlp: MlpKind,
    /// Whether the linear layers have biases.
    pub bias: bool,
    /// Whether the unembedding is the token embedding's transpose.
    pub tied: bool,
    /// LayerNorm or RMSNorm ([`NormKind::Batch`] is refused by [`Config::validate`]).
    pub norm: NormKind,
    /// Whether positions are a learned table (`false`: RoPE, ALiBi or sinusoids, no parameters).
    pub learned_positions: bool,
}

/// A named configuration whose parameter count is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// GPT-2 124M (Radford et al. 2019; the released checkpoint's shapes).
    Gpt2Small,
    /// GPT-2 355M.
    Gpt2Medium,
    /// GPT-2 774M.
    Gpt2Large,
    /// GPT-2 1.5B.
    Gpt2Xl,
    /// LLaMA-2 7B (Touvron et al. 2023b).
    Llama2_7b,
    /// LLaMA-2 13B.
    Llama2_13b,
    /// LLaMA-2 70B (grouped-query attention, 8 KV heads).
    Llama2_70b,
    /// LLaMA-3 8B (Dubey et al. 2024; 8 KV heads, vocabulary 128,256).
    Llama3_8b,
}

impl Preset {
    /// Every preset.
    pub const ALL: &'static [Preset] = &[
        Preset::Gpt2Small,
        Preset::Gpt2Medium,
        Preset::Gpt2Large,
        Preset::Gpt2Xl,
        Preset::Llama2_7b,
        Preset::Llama2_13b,
        Preset::Llama2_70b,
        Preset::Llama3_8b,
    ];

    /// The preset's name, e.g. `gpt2-small`, `llama-2-7b`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "gpt2-small",
            Preset::Gpt2Medium => "gpt2-medium",
            Preset::Gpt2Large => "gpt2-large",
            Preset::Gpt2Xl => "gpt2-xl",
            Preset::Llama2_7b => "llama-2-7b",
            Preset::Llama2_13b => "llama-2-13b",
            Preset::Llama2_70b => "llama-2-70b",
            Preset::Llama3_8b => "llama-3-8b",
        }
    }

    /// Parses a name (any case).
    pub fn parse(s: &str) -> Option<Preset> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
    }

    /// The configuration, from the released checkpoints' config files (GPT-2: `n_embd`, `n_layer`, `n_head`,
    /// `n_positions` 1024, vocabulary 50,257, `d_ff = 4d`; LLaMA: `hidden_size`, `num_hidden_layers`,
    /// `num_attention_heads`, `num_key_value_heads`, `intermediate_size`, `vocab_size`).
    pub fn config(self) -> Config {
        let gpt2 = |d: u64, layers: u64, heads: u64| Config {
            d_model: d,
            n_layers: layers,
            n_heads: heads,
            n_kv_heads: heads,
            d_head: d / heads,
            d_ff: 4 * d,
            vocab: 50_257,
            n_ctx: 1024,
            mlp: MlpKind::Gelu,
            bias: true,
            tied: true,
            norm: NormKind::Layer,
            learned_positions: true,
        };
        let llama = |d: u64, layers: u64, heads: u64, kv: u64, ff: u64, vocab: u64, ctx: u64| Config {
            d_model: d,
            n_layers: layers,
            n_heads: heads,
            n_kv_heads: kv,
            d_head: d / heads,
            d_ff: ff,
            vocab,
            n_ctx: ctx,
            mlp: MlpKind::SwiGlu,
            bias: false,
            tied: false,
            norm: NormKind::Rms,
            learned_positions: false,
        };
        match self {
            Preset::Gpt2Small => gpt2(768, 12, 12),
            Preset::Gpt2Medium => gpt2(1024, 24, 16),
            Preset::Gpt2Large => gpt2(1280, 36, 20),
            Preset::Gpt2Xl => gpt2(1600, 48, 25),
            Preset::Llama2_7b => llama(4096, 32, 32, 32, 11_008, 32_000, 4096),
            Preset::Llama2_13b => llama(5120, 40, 40, 40, 13_824, 32_000, 4096),
            Preset::Llama2_70b => llama(8192, 80, 64, 8, 28_672, 32_000, 4096),
            Preset::Llama3_8b => llama(4096, 32, 32, 8, 14_336, 128_256, 8192),
        }
    }
}

/// Parameters by component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamCount {
    /// `V·d`.
    pub token_embedding: u64,
    /// `n_ctx·d` for a learned table, else 0.
    pub position_embedding: u64,
    /// One block's attention (weights and biases).
    pub attention_per_layer: u64,
    /// One block's MLP.
    pub mlp_per_layer: u64,
    /// One block's two norms.
    pub norms_per_layer: u64,
    /// The final norm.
    pub final_norm: u64,
    /// `d·V` if untied, else 0.
    pub unembedding: u64,
    /// Number of blocks.
    pub layers: u64,
}

impl ParamCount {
    /// One block.
    pub fn per_layer(&self) -> u64 {
        self.attention_per_layer + self.mlp_per_layer + self.norms_per_layer
    }

    /// All blocks.
    pub fn blocks(&self) -> u64 {
        self.layers * self.per_layer()
    }

    /// Everything.
    pub fn total(&self) -> u64 {
        self.token_embedding
            + self.position_embedding
            + self.blocks()
            + self.final_norm
            + self.unembedding
    }

    /// Kaplan et al.'s `N`: everything but the token and position embeddings and an untied unembedding.
    pub fn non_embedding(&self) -> u64 {
        self.blocks() + self.final_norm
    }
}

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks that every size is at least 1, the KV heads divide the query heads, and the norm is
    /// LayerNorm or RMSNorm.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let sizes = [
            ("d_model", self.d_model),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("n_kv_heads", self.n_kv_heads),
            ("d_head", self.d_head),
            ("d_ff", self.d_ff),
            ("vocab", self.vocab),
            ("n_ctx", self.n_ctx),
        ];
        for (name, v) in sizes {
            if v == 0 {
                return Err(ConfigError(format!("{name} must be at least 1")));
            }
            // 2^24 per size keeps every count below 2^63 (the largest product is about d·d_ff·L ≤ 2^72 only
            // if all three are at the bound, so the product bound is checked below as well).
            if v > 1 << 24 {
                return Err(ConfigError(format!(
                    "{name} = {v} is larger than 16,777,216"
                )));
            }
        }
        if self.n_heads % self.n_kv_heads != 0 {
            return Err(ConfigError(format!(
                "n_kv_heads = {} must divide n_heads = {} (each key/value head serves a group of query heads)",
                self.n_kv_heads, self.n_heads
            )));
        }
        if self.norm == NormKind::Batch {
            return Err(ConfigError(
                "norm must be layernorm or rmsnorm: a decoder normalises each token, not the batch".into(),
            ));
        }
        let biggest = (self.d_model as u128)
            * (self.d_ff.max(self.n_heads * self.d_head).max(self.vocab) as u128)
            * (self.n_layers as u128 + 2)
            * 8
            * (self.n_ctx as u128 + 1);
        if biggest > 1u128 << 62 {
            return Err(ConfigError(
                "the model is too large to count in 64-bit integers (d_model × widths × layers × context)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// `d_attn = H·d_h`, the width of the concatenated heads.
    pub fn d_attn(&self) -> u64 {
        self.n_heads * self.d_head
    }

    /// Parameters by component.
    pub fn params(&self) -> ParamCount {
        let (d, h, kv, dh, ff, v) = (
            self.d_model,
            self.n_heads,
            self.n_kv_heads,
            self.d_head,
            self.d_ff,
            self.vocab,
        );
        let b = u64::from(self.bias);
        let attention = d * h * dh + 2 * d * kv * dh + h * dh * d + b * (h * dh + 2 * kv * dh + d);
        let mlp = match self.mlp {
            MlpKind::Gelu => 2 * d * ff + b * (ff + d),
            MlpKind::SwiGlu => 3 * d * ff + b * (2 * ff + d),
        };
        let norm = match self.norm {
            NormKind::Rms => d,
            _ => 2 * d,
        };
        ParamCount {
            token_embedding: v * d,
            position_embedding: if self.learned_positions {
                self.n_ctx * d
            } else {
                0
            },
            attention_per_layer: attention,
            mlp_per_layer: mlp,
            norms_per_layer: 2 * norm,
            final_norm: norm,
            unembedding: if self.tied { 0 } else { d * v },
            layers: self.n_layers,
        }
    }

    /// Weight-matrix parameters of one block (no biases, no norms): what a token multiplies by.
    pub fn matrix_params_per_layer(&self) -> u64 {
        let (d, dh) = (self.d_model, self.d_head);
        d * self.n_heads * dh
            + 2 * d * self.n_kv_heads * dh
            + self.n_heads * dh * d
            + self.mlp.matrices() * d * self.d_ff
    }

    /// Forward FLOPs per token under `convention` (see the module documentation).
    pub fn forward_flops_per_token(&self, convention: FlopConvention) -> f64 {
        let (l, d, v, s) = (
            self.n_layers as f64,
            self.d_model as f64,
            self.vocab as f64,
            self.n_ctx as f64,
        );
        let d_attn = self.d_attn() as f64;
        match convention {
            FlopConvention::Kaplan => {
                2.0 * self.params().non_embedding() as f64 + 2.0 * l * s * d_attn
            }
            FlopConvention::Matmul => {
                2.0 * l * self.matrix_params_per_layer() as f64 + 4.0 * l * s * d_attn + 2.0 * d * v
            }
            FlopConvention::Chinchilla => {
                let heads = self.n_heads as f64;
                let per_layer = 2.0 * self.matrix_params_per_layer() as f64 // QKV, output, dense block
                    + 2.0 * s * d_attn // key @ query logits
                    + 3.0 * heads * s // softmax
                    + 2.0 * s * d_attn; // softmax @ values
                2.0 * v * d + l * per_layer + 2.0 * d * v
            }
        }
    }

    /// Training FLOPs per token: forward plus a backward of twice the forward.
    pub fn training_flops_per_token(&self, convention: FlopConvention) -> f64 {
        3.0 * self.forward_flops_per_token(convention)
    }

    /// Activation bytes kept per token for the backward pass, all layers, 16-bit (Korthikanti et al. 2022).
    pub fn activation_bytes_per_token(&self, recompute: Recompute) -> f64 {
        let (l, d) = (self.n_layers as f64, self.d_model as f64);
        let per_layer = match recompute {
            Recompute::None => 34.0 * d + 5.0 * self.n_heads as f64 * self.n_ctx as f64,
            Recompute::Selective => 34.0 * d,
            Recompute::Full => 2.0 * d,
        };
        l * per_layer
    }

    /// Key/value cache bytes per token at `bytes_per_value` (2 for bf16): `2·L·H_kv·d_h` values.
    pub fn kv_cache_bytes_per_token(&self, bytes_per_value: f64) -> f64 {
        2.0 * (self.n_layers * self.n_kv_heads * self.d_head) as f64 * bytes_per_value
    }
}

/// Bytes per parameter of mixed-precision Adam training: bf16 weights and gradients, fp32 master weights
/// and two fp32 moments (16).
pub fn adam_mixed_bytes_per_param() -> f64 {
    training_bytes_per_param(Kind::Adam, false, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_published_counts() {
        // Published totals: GPT-2 small 124,439,808 (the HF checkpoint's parameter count); LLaMA-2-7B
        // 6,738,415,616 (sum of the released tensors' sizes).
        assert_eq!(Preset::Gpt2Small.config().params().total(), 124_439_808);
        assert_eq!(Preset::Llama2_7b.config().params().total(), 6_738_415_616);
    }

    #[test]
    fn every_preset_is_valid_and_names_round_trip() {
        for p in Preset::ALL {
            p.config().validate().unwrap();
            assert_eq!(Preset::parse(p.name()), Some(*p));
        }
        for m in MlpKind::ALL {
            assert_eq!(MlpKind::parse(m.name()), Some(*m));
        }
    }

    #[test]
    fn conventions_differ_by_the_terms_they_leave_out() {
        let c = Preset::Gpt2Small.config();
        let kaplan = c.forward_flops_per_token(FlopConvention::Kaplan);
        let matmul = c.forward_flops_per_token(FlopConvention::Matmul);
        // Kaplan leaves out the logits (2dV) and counts attention once; it includes biases and norms (2×).
        let p = c.params();
        let expected = matmul - 2.0 * 768.0 * 50_257.0 - 2.0 * 12.0 * 1024.0 * 768.0
            + 2.0 * (p.non_embedding() - 12 * c.matrix_params_per_layer()) as f64;
        assert!((kaplan - expected).abs() < 1e-6 * kaplan);
        let chin = c.forward_flops_per_token(FlopConvention::Chinchilla);
        let expected = matmul + 2.0 * 768.0 * 50_257.0 + 12.0 * 3.0 * 12.0 * 1024.0;
        assert!((chin - expected).abs() < 1e-6 * chin);
    }

    #[test]
    fn bad_configurations_are_refused_naming_the_field() {
        let mut c = Preset::Llama2_70b.config();
        c.n_kv_heads = 7;
        assert!(c.validate().unwrap_err().0.contains("n_kv_heads"));
        let mut c = Preset::Gpt2Small.config();
        c.d_ff = 0;
        assert!(c.validate().unwrap_err().0.contains("d_ff"));
        c.d_ff = 3072;
        c.norm = NormKind::Batch;
        assert!(c.validate().unwrap_err().0.contains("norm"));
    }
}

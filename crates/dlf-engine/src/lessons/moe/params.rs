//! Total and active parameter counts of a decoder-only MoE transformer.
//!
//! A layer holds attention (shared by every token), two RMSNorm gains, and either a dense feed-forward block
//! or an MoE block: a router (`d × E`, plus a selection bias of `E` when the model balances by bias), `S`
//! shared experts that every token uses (DeepSeekMoE, Dai et al. 2024) and `E` routed experts of which each
//! token uses `k`. An expert of width `f` has `m · d · f` weights (`m = 3` for a gated SwiGLU block — `w1`,
//! `w2`, `w3` in Mixtral and DeepSeek — and `m = 2` for the ReLU block of Switch). Then
//!
//! `total = embeddings + Σ_layers (attention + norms + router + (S + E) · expert)`,
//! `active = embeddings + Σ_layers (attention + norms + router + (S + k) · expert)`,
//!
//! so `active = total − Σ_MoE layers (E − k) · expert`. With shared parameters `Sh` (everything that is not a
//! routed expert) and routed-expert parameters `X`, `active = Sh + (k/E) · X = (k/E) · total + (1 − k/E) · Sh`.

/// The attention block's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attention {
    /// Grouped-query attention (`kv_heads < heads`; multi-head when equal): `q` and `o` are `d × h·d_h`, `k`
    /// and `v` are `d × g·d_h`.
    Gqa {
        /// Query heads `h`.
        heads: usize,
        /// Key/value heads `g`.
        kv_heads: usize,
        /// Head width `d_h`.
        head_dim: usize,
    },
    /// DeepSeek's multi-head latent attention (DeepSeek-V2 2024): low-rank query and key/value projections,
    /// the shapes of `inference/model.py`'s `MLA` in the DeepSeek-V3 repository.
    Mla {
        /// Heads.
        heads: usize,
        /// Query low rank (`wq_a`: `d × q_rank`, then a norm and `wq_b`).
        q_rank: usize,
        /// Key/value low rank (`wkv_a`: `d × (kv_rank + rope)`, then a norm and `wkv_b`).
        kv_rank: usize,
        /// Per-head query/key width without position (`qk_nope_head_dim`).
        nope: usize,
        /// Per-head rotary width (`qk_rope_head_dim`).
        rope: usize,
        /// Per-head value width.
        v_dim: usize,
    },
}

impl Attention {
    /// Weights of one attention block (norms inside MLA included).
    pub fn params(&self, d: usize) -> usize {
        match *self {
            Attention::Gqa {
                heads,
                kv_heads,
                head_dim,
            } => 2 * d * heads * head_dim + 2 * d * kv_heads * head_dim,
            Attention::Mla {
                heads,
                q_rank,
                kv_rank,
                nope,
                rope,
                v_dim,
            } => {
                d * q_rank
                    + q_rank
                    + q_rank * heads * (nope + rope)
                    + d * (kv_rank + rope)
                    + kv_rank
                    + kv_rank * heads * (nope + v_dim)
                    + heads * v_dim * d
            }
        }
    }
}

/// A decoder-only MoE transformer's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoeConfig {
    /// Model width `d`.
    pub d_model: usize,
    /// Layers `L`.
    pub layers: usize,
    /// The first `dense_layers` layers have a dense feed-forward block (DeepSeek's `first_k_dense_replace`).
    pub dense_layers: usize,
    /// After the dense layers, every `moe_every`-th layer is an MoE layer and the others dense (Switch and
    /// GShard alternate: 2; Mixtral and DeepSeek: 1).
    pub moe_every: usize,
    /// Vocabulary.
    pub vocab: usize,
    /// Whether the output head shares the input embedding.
    pub tied: bool,
    /// The attention block.
    pub attention: Attention,
    /// Width of a dense feed-forward block.
    pub d_ff_dense: usize,
    /// Width of one expert.
    pub d_ff_expert: usize,
    /// Matrices per feed-forward block: 3 (SwiGLU) or 2 (ReLU/GELU).
    pub ffn_matrices: usize,
    /// Routed experts `E`.
    pub experts: usize,
    /// Shared experts `S`, used by every token.
    pub shared: usize,
    /// Routed experts per token `k`.
    pub top_k: usize,
    /// Whether the router has a per-expert selection bias (DeepSeek-V3).
    pub router_bias: bool,
}

/// The counts, split by where the parameters sit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamCount {
    /// Input embedding plus (if untied) output head plus the final norm.
    pub embeddings: f64,
    /// Attention and norms of every layer.
    pub attention: f64,
    /// Dense feed-forward blocks.
    pub dense_ffn: f64,
    /// Routers.
    pub routers: f64,
    /// Shared experts.
    pub shared_experts: f64,
    /// Every routed expert.
    pub routed_total: f64,
    /// The `k` routed experts a token uses, over the MoE layers.
    pub routed_active: f64,
    /// MoE layers.
    pub moe_layers: usize,
    /// Parameters of one expert.
    pub expert: f64,
}

impl ParamCount {
    /// All parameters.
    pub fn total(&self) -> f64 {
        self.shared_part() + self.routed_total
    }

    /// The parameters one token's forward pass uses.
    pub fn active(&self) -> f64 {
        self.shared_part() + self.routed_active
    }

    /// Everything outside the routed experts (what every token uses).
    pub fn shared_part(&self) -> f64 {
        self.embeddings + self.attention + self.dense_ffn + self.routers + self.shared_experts
    }

    /// Forward FLOPs per token from the weights: `2 × (active − input embedding)` (a lookup costs no
    /// multiply-adds; attention's score and value products, which grow with context, are left out).
    pub fn flops_per_token(&self, cfg: &MoeConfig) -> f64 {
        2.0 * (self.active() - (cfg.vocab * cfg.d_model) as f64)
    }
}

impl MoeConfig {
    /// Whether layer `l` (0-based) is an MoE layer.
    pub fn is_moe(&self, l: usize) -> bool {
        l >= self.dense_layers && (l - self.dense_layers + 1) % self.moe_every.max(1) == 0
    }

    /// The parameter counts.
    pub fn count(&self) -> ParamCount {
        let d = self.d_model;
        let expert = (self.ffn_matrices * d * self.d_ff_expert) as f64;
        let dense = (self.ffn_matrices * d * self.d_ff_dense) as f64;
        let attention = (self.attention.params(d) + 2 * d) as f64;
        let router = (d * self.experts + if self.router_bias { self.experts } else { 0 }) as f64;
        let mut c = ParamCount {
            embeddings: (self.vocab * d * if self.tied { 1 } else { 2 } + d) as f64,
            attention: 0.0,
            dense_ffn: 0.0,
            routers: 0.0,
            shared_experts: 0.0,
            routed_total: 0.0,
            routed_active: 0.0,
            moe_layers: 0,
            expert,
        };
        for l in 0..self.layers {
            c.attention += attention;
            if self.is_moe(l) {
                c.moe_layers += 1;
                c.routers += router;
                c.shared_experts += self.shared as f64 * expert;
                c.routed_total += self.experts as f64 * expert;
                c.routed_active += self.top_k as f64 * expert;
            } else {
                c.dense_ffn += dense;
            }
        }
        c
    }
}

/// The presets the lesson and the widget use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Mixtral 8x7B (Jiang et al. 2024; its Hugging Face config): d 4096, 32 layers, SwiGLU experts of width
    /// 14336, 32 query and 8 key/value heads of 128, vocabulary 32000, untied head, top-2 of 8.
    Mixtral,
    /// DeepSeek-V3 (2024; `inference/configs/config_671B.json`): d 7168, 61 layers of which the first 3 dense
    /// (width 18432), 256 routed experts of width 2048 plus 1 shared, top-8, MLA attention, vocabulary 129280.
    DeepSeekV3,
    /// A Switch-style decoder at T5-Base width (Fedus et al. 2021 build Switch-Base from T5-Base): d 768, 24
    /// layers with an MoE block in every other layer, 128 ReLU experts of width 3072, top-1, 12 heads,
    /// vocabulary 32128, tied embeddings. Not the paper's encoder–decoder: an illustration of the Switch recipe.
    SwitchBase,
    /// The brief's "≈ 50B with 8 experts": Mixtral's attention and widths with experts widened to 15360 and
    /// top-1 routing — the most favourable reading, which still gives ≈ 7.6B active, not 6B.
    Brief50b,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 4] = [
        Preset::Mixtral,
        Preset::DeepSeekV3,
        Preset::SwitchBase,
        Preset::Brief50b,
    ];

    /// Parses a preset name.
    pub fn parse(s: &str) -> Option<Preset> {
        let s = s.trim().to_ascii_lowercase();
        Preset::ALL.into_iter().find(|p| p.name() == s)
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Mixtral => "mixtral-8x7b",
            Preset::DeepSeekV3 => "deepseek-v3",
            Preset::SwitchBase => "switch-base",
            Preset::Brief50b => "brief-50b",
        }
    }

    /// The configuration.
    pub fn config(self) -> MoeConfig {
        let mixtral = MoeConfig {
            d_model: 4096,
            layers: 32,
            dense_layers: 0,
            moe_every: 1,
            vocab: 32000,
            tied: false,
            attention: Attention::Gqa {
                heads: 32,
                kv_heads: 8,
                head_dim: 128,
            },
            d_ff_dense: 14336,
            d_ff_expert: 14336,
            ffn_matrices: 3,
            experts: 8,
            shared: 0,
            top_k: 2,
            router_bias: false,
        };
        match self {
            Preset::Mixtral => mixtral,
            Preset::Brief50b => MoeConfig {
                d_ff_expert: 15360,
                top_k: 1,
                ..mixtral
            },
            Preset::DeepSeekV3 => MoeConfig {
                d_model: 7168,
                layers: 61,
                dense_layers: 3,
                moe_every: 1,
                vocab: 129_280,
                tied: false,
                attention: Attention::Mla {
                    heads: 128,
                    q_rank: 1536,
                    kv_rank: 512,
                    nope: 128,
                    rope: 64,
                    v_dim: 128,
                },
                d_ff_dense: 18432,
                d_ff_expert: 2048,
                ffn_matrices: 3,
                experts: 256,
                shared: 1,
                top_k: 8,
                router_bias: true,
            },
            Preset::SwitchBase => MoeConfig {
                d_model: 768,
                layers: 24,
                dense_layers: 0,
                moe_every: 2,
                vocab: 32128,
                tied: true,
                attention: Attention::Gqa {
                    heads: 12,
                    kv_heads: 12,
                    head_dim: 64,
                },
                d_ff_dense: 3072,
                d_ff_expert: 3072,
                ffn_matrices: 2,
                experts: 128,
                shared: 0,
                top_k: 1,
                router_bias: false,
            },
        }
    }
}

/// The smallest active count a model of `total` parameters with `E` experts and top-`k` can have, with
/// `shared` parameters outside the routed experts: `(k/E) · total + (1 − k/E) · shared`.
pub fn active_from_split(total: f64, experts: usize, k: usize, shared: f64) -> f64 {
    let r = k as f64 / experts as f64;
    r * total + (1.0 - r) * shared
}

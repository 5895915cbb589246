//! `dlf calc transformer`: parameter counts, FLOPs under each convention and memory against an independent
//! Python reference, the published totals, and the error messages a user sees.
//!
//! The expected numbers were printed by this plain-Python script (integer arithmetic is exact; the FLOP
//! conventions are written from the papers: Kaplan et al. 2020 Table 1, Hoffmann et al. 2022 appendix F):
//!
//   def params(d, L, H, kv, dh, ff, V, ctx, swiglu, bias, tied, rms, learned):
//       attn = d*H*dh + 2*d*kv*dh + H*dh*d + (H*dh + 2*kv*dh + d if bias else 0)
//       mlp = (3 if swiglu else 2)*d*ff + ((2*ff if swiglu else ff) + d if bias else 0)
//       norm = d if rms else 2*d
//       emb = V*d + (ctx*d if learned else 0)
//       unemb = 0 if tied else d*V
//       nonemb = L*(attn + mlp + 2*norm) + norm
//       return emb + nonemb + unemb, nonemb
//   def kaplan(*c):              # C_forward = 2N + 2 n_layer n_ctx d_attn
//       d, L, H, kv, dh, ff, V, ctx = c[:8]; return 2*params(*c)[1] + 2*L*ctx*(H*dh)
//   def chinchilla(d, L, H, kv, dh, ff, V, ctx, swiglu, *rest):   # per sequence of S tokens, / S
//       S = ctx; emb = 2*S*V*d
//       att = 2*S*d*(H*dh + 2*kv*dh) + 2*S*S*(H*dh) + 3*H*S*S + 2*S*S*(H*dh) + 2*S*(H*dh)*d
//       dense = 2*S*(3 if swiglu else 2)*d*ff; logits = 2*S*d*V
//       return (emb + L*(att + dense) + logits) / S
//   def matmul(d, L, H, kv, dh, ff, V, ctx, swiglu, *rest):
//       w = d*H*dh + 2*d*kv*dh + H*dh*d + (3 if swiglu else 2)*d*ff
//       return 2*L*w + 4*L*ctx*H*dh + 2*d*V
//   g = lambda d, L, H: (d, L, H, H, d//H, 4*d, 50257, 1024, False, True, True, False, True)
//   ll = lambda d, L, H, kv, ff, V, ctx: (d, L, H, kv, d//H, ff, V, ctx, True, False, False, True, False)
//   P = {"gpt2-small": g(768,12,12), "gpt2-medium": g(1024,24,16), "gpt2-large": g(1280,36,20),
//        "gpt2-xl": g(1600,48,25), "llama-2-7b": ll(4096,32,32,32,11008,32000,4096),
//        "llama-2-13b": ll(5120,40,40,40,13824,32000,4096), "llama-2-70b": ll(8192,80,64,8,28672,32000,4096),
//        "llama-3-8b": ll(4096,32,32,8,14336,128256,8192)}
//   for k, c in P.items(): print(k, params(*c), kaplan(*c), matmul(*c), repr(chinchilla(*c)))
//   for k, c in P.items():   # Korthikanti et al. 2022 activations; 16 B/param Adam; bf16 KV cache
//       d, L, H, kv, dh, ff, V, ctx = c[:8]; tot = params(*c)[0]
//       print(k, L*(34*d + 5*H*ctx), L*34*d, L*2*d, 2*L*kv*dh*2, repr(16*tot/1e9))
//   c = ll(4096,32,32,8,11008,32000,4096)   # llama-2-7b with 8 KV heads, batch 4, selective
//   print(params(*c), kaplan(*c), matmul(*c), repr(chinchilla(*c)),
//         repr(32*34*4096*4*4096/1e9), repr(2*32*8*128*2*4*4096/1e9))
//   c = (512, 8, 8, 2, 64, 1536, 1000, 256, True, True, False, False, True)   # a custom configuration
//   print(params(*c), kaplan(*c), matmul(*c), repr(chinchilla(*c)))

use serde_json::Value;

use super::{answer as run_answer, fails as run_fails, help};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["transformer"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn fails(args: &[&str], stdin: &str, needle: &str) {
    let mut all = vec!["transformer"];
    all.extend_from_slice(args);
    run_fails(&all, stdin, needle);
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("an integer: {v}"))
}

fn close(v: &Value, want: f64, what: &str) {
    let got = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: a number: {v}"));
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

/// (preset, total, non-embedding, Kaplan, matmul, Chinchilla, activations none/selective/full per token,
/// KV bytes per token, training state GB) from the script above.
#[allow(clippy::type_complexity)]
const PRESETS: &[(&str, u64, u64, f64, f64, f64, [f64; 3], f64, f64)] = &[
    (
        "gpt2-small",
        124_439_808,
        85_056_000,
        188_986_368.0,
        284_812_800.0,
        362_449_920.0,
        [1_050_624.0, 313_344.0, 18_432.0],
        36_864.0,
        1.991_036_928,
    ),
    (
        "gpt2-medium",
        354_823_168,
        302_311_424,
        654_954_496.0,
        807_569_408.0,
        911_675_392.0,
        [2_801_664.0, 835_584.0, 49_152.0],
        98_304.0,
        5.677_170_688,
    ),
    (
        "gpt2-large",
        774_030_080,
        708_390_400,
        1_511_152_640.0,
        1_732_979_200.0,
        1_863_848_960.0,
        [5_253_120.0, 1_566_720.0, 92_160.0],
        184_320.0,
        12.384_481_28,
    ),
    (
        "gpt2-xl",
        1_557_611_200,
        1_475_561_600,
        3_108_409_600.0,
        3_424_515_200.0,
        3_589_024_000.0,
        [8_755_200.0, 2_611_200.0, 153_600.0],
        307_200.0,
        24.921_779_2,
    ),
    (
        "llama-2-7b",
        6_738_415_616,
        6_476_271_616,
        14_026_285_056.0,
        15_361_638_400.0,
        15_636_365_312.0,
        [25_427_968.0, 4_456_448.0, 262_144.0],
        524_288.0,
        107.814_649_856,
    ),
    (
        "llama-2-13b",
        13_015_864_320,
        12_688_184_320,
        27_054_090_240.0,
        29_058_662_400.0,
        29_406_003_200.0,
        [39_731_200.0, 6_963_200.0, 409_600.0],
        819_200.0,
        208.253_829_12,
    ),
    (
        "llama-2-70b",
        68_976_648_192,
        68_452_360_192,
        142_273_429_504.0,
        148_163_788_800.0,
        148_750_991_360.0,
        [127_139_840.0, 22_282_240.0, 1_310_720.0],
        327_680.0,
        1_103.626_371_072,
    ),
    (
        "llama-3-8b",
        8_030_261_248,
        6_979_588_096,
        16_106_659_840.0,
        19_304_284_160.0,
        20_380_123_136.0,
        [46_399_488.0, 4_456_448.0, 262_144.0],
        131_072.0,
        128.484_179_968,
    ),
];

#[test]
fn every_preset_matches_the_reference_under_every_convention() {
    for &(name, total, non_emb, kaplan, matmul, chinchilla, acts, kv, state) in PRESETS {
        let a = answer(&[], &format!(r#"{{"preset":"{name}"}}"#));
        assert_eq!(u(&a["params"]["total"]), total, "{name}");
        assert_eq!(u(&a["params"]["non_embedding"]), non_emb, "{name}");
        let f = &a["flops_per_token"];
        close(&f["forward"]["kaplan"], kaplan, name);
        close(&f["forward"]["matmul"], matmul, name);
        close(&f["forward"]["chinchilla"], chinchilla, name);
        close(&f["training"]["kaplan"], 3.0 * kaplan, name);
        close(&f["training"]["chinchilla"], 3.0 * chinchilla, name);
        close(&f["six_n"], 6.0 * total as f64, name);
        let m = &a["memory"];
        close(&m["activation_bytes_per_token"]["none"], acts[0], name);
        close(&m["activation_bytes_per_token"]["selective"], acts[1], name);
        close(&m["activation_bytes_per_token"]["full"], acts[2], name);
        close(&m["kv_cache_bytes_per_token"], kv, name);
        close(&m["training_state_gb"], state, name);
    }
}

#[test]
fn the_published_totals() {
    // GPT-2 small: 124,439,808 (the released checkpoint); LLaMA-2-7B: 6,738,415,616 (the released tensors).
    let a = answer(&[], r#"{"preset":"gpt2-small"}"#);
    assert_eq!(u(&a["params"]["total"]), 124_439_808);
    assert_eq!(u(&a["params"]["position_embedding"]), 786_432);
    assert_eq!(u(&a["params"]["unembedding"]), 0);
    let a = answer(&[], r#"{"preset":"llama-2-7b"}"#);
    assert_eq!(u(&a["params"]["total"]), 6_738_415_616);
    assert_eq!(u(&a["params"]["per_layer"]), 202_383_360);
}

#[test]
fn overrides_and_options() {
    // LLaMA-2-7B with grouped-query attention (8 KV heads), batch 4, selective recomputation.
    let a = answer(
        &["--recompute", "selective"],
        r#"{"preset":"llama-2-7b","n_kv_heads":8,"batch":4}"#,
    );
    assert_eq!(u(&a["params"]["total"]), 5_933_109_248);
    assert_eq!(u(&a["params"]["non_embedding"]), 5_670_965_248);
    close(
        &a["flops_per_token"]["forward"]["kaplan"],
        12_415_672_320.0,
        "kaplan",
    );
    close(
        &a["flops_per_token"]["forward"]["matmul"],
        13_751_025_664.0,
        "matmul",
    );
    close(
        &a["flops_per_token"]["forward"]["chinchilla"],
        14_025_752_576.0,
        "chinchilla",
    );
    close(
        &a["memory"]["batch_activations_gb"],
        73.014_444_032,
        "activations",
    );
    close(&a["memory"]["batch_kv_cache_gb"], 2.147_483_648, "kv");
    assert_eq!(a["memory"]["recompute"], "selective");
    assert!(a["config"]["source"]
        .as_str()
        .unwrap()
        .contains("n_kv_heads"));
}

#[test]
fn a_custom_configuration() {
    let a = answer(
        &[],
        r#"{"d_model":512,"n_layers":8,"n_heads":8,"n_kv_heads":2,"d_ff":1536,"vocab":1000,"n_ctx":256,
            "mlp":"swiglu","bias":true,"tied":false,"norm":"layernorm","learned_positions":true}"#,
    );
    assert_eq!(u(&a["params"]["total"]), 25_328_640);
    assert_eq!(u(&a["params"]["non_embedding"]), 24_173_568);
    assert_eq!(u(&a["config"]["d_head"]), 64);
    close(
        &a["flops_per_token"]["forward"]["kaplan"],
        50_444_288.0,
        "kaplan",
    );
    close(
        &a["flops_per_token"]["forward"]["matmul"],
        53_452_800.0,
        "matmul",
    );
    close(
        &a["flops_per_token"]["forward"]["chinchilla"],
        54_525_952.0,
        "chinchilla",
    );
}

#[test]
fn bad_input_is_refused_with_a_message() {
    fails(&[], r#"{"d_model":512}"#, "missing: n_layers");
    fails(&[], r#"{"preset":"gpt3"}"#, "gpt2-small");
    fails(
        &[],
        r#"{"preset":"llama-2-70b","n_kv_heads":7}"#,
        "n_kv_heads",
    );
    fails(
        &[],
        r#"{"preset":"gpt2-small","norm":"batchnorm"}"#,
        "norm must be",
    );
    fails(&[], r#"{"preset":"gpt2-small","d_model":-5}"#, "d_model");
    fails(&[], r#"{"preset":"gpt2-small","heads":12}"#, "heads");
    fails(
        &[],
        r#"{"preset":"gpt2-small","n_layers":0}"#,
        "n_layers must be a whole number",
    );
    fails(
        &[],
        r#"{"preset":"gpt2-small","d_ff":1.5}"#,
        "d_ff must be a whole number",
    );
    fails(&[], r#"{"preset":"gpt2-small","batch":0}"#, "batch");
    fails(
        &["--recompute", "some"],
        r#"{"preset":"gpt2-small"}"#,
        "none",
    );
    fails(
        &[],
        r#"{"preset":"gpt2-small","d_model":1000}"#,
        "multiple of n_heads",
    );
}

#[test]
fn help_names_every_convention_and_its_source() {
    let h = help("transformer");
    for needle in [
        "kaplan",
        "matmul",
        "chinchilla",
        "Kaplan et al. 2020",
        "Hoffmann et al. 2022",
        "Korthikanti",
    ] {
        assert!(h.contains(needle), "{needle}");
    }
}

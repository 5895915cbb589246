//! Lesson 06's engine tests: the counts against an independent Python reference, the tiny model's gradient
//! against finite differences, and the ablations the lesson describes.
//!
//! The reference numbers were printed by this plain-Python script (integers are exact):
//!
//!   def params(d, L, H, kv, dh, ff, V, ctx, swiglu, bias, tied, rms, learned):
//!       attn = d*H*dh + 2*d*kv*dh + H*dh*d + (H*dh + 2*kv*dh + d if bias else 0)
//!       mlp = (3 if swiglu else 2)*d*ff + ((2*ff if swiglu else ff) + d if bias else 0)
//!       norm = d if rms else 2*d
//!       emb = V*d + (ctx*d if learned else 0)
//!       unemb = 0 if tied else d*V
//!       nonemb = L*(attn + mlp + 2*norm) + norm
//!       return emb + nonemb + unemb, nonemb
//!   def kaplan(*c):   # Kaplan et al. 2020 Table 1: C_forward = 2N + 2 n_layer n_ctx d_attn
//!       d, L, H, kv, dh, ff, V, ctx = c[:8]; return 2*params(*c)[1] + 2*L*ctx*(H*dh)
//!   def chinchilla(d, L, H, kv, dh, ff, V, ctx, swiglu, *rest):   # Hoffmann et al. 2022 app. F, / S
//!       S = ctx; emb = 2*S*V*d
//!       att = 2*S*d*(H*dh + 2*kv*dh) + 2*S*S*(H*dh) + 3*H*S*S + 2*S*S*(H*dh) + 2*S*(H*dh)*d
//!       dense = 2*S*(3 if swiglu else 2)*d*ff; logits = 2*S*d*V
//!       return (emb + L*(att + dense) + logits) / S
//!   def matmul(d, L, H, kv, dh, ff, V, ctx, swiglu, *rest):
//!       w = d*H*dh + 2*d*kv*dh + H*dh*d + (3 if swiglu else 2)*d*ff
//!       return 2*L*w + 4*L*ctx*H*dh + 2*d*V
//!   g = lambda d, L, H: (d, L, H, H, d//H, 4*d, 50257, 1024, False, True, True, False, True)
//!   ll = lambda d, L, H, kv, ff, V, ctx: (d, L, H, kv, d//H, ff, V, ctx, True, False, False, True, False)
//!   P = {"gpt2-small": g(768,12,12), "gpt2-medium": g(1024,24,16), "gpt2-large": g(1280,36,20),
//!        "gpt2-xl": g(1600,48,25), "llama-2-7b": ll(4096,32,32,32,11008,32000,4096),
//!        "llama-2-13b": ll(5120,40,40,40,13824,32000,4096), "llama-2-70b": ll(8192,80,64,8,28672,32000,4096),
//!        "llama-3-8b": ll(4096,32,32,8,14336,128256,8192)}
//!   for k, c in P.items(): print(k, params(*c), kaplan(*c), matmul(*c), repr(chinchilla(*c)))

use super::count::{FlopConvention, Preset};
use super::quantities::swiglu_width;
use super::tiny::*;
use crate::gradcheck;

/// (preset, total, non-embedding, Kaplan, matmul, Chinchilla) from the script above.
const REFERENCE: &[(Preset, u64, u64, f64, f64, f64)] = &[
    (Preset::Gpt2Small, 124_439_808, 85_056_000, 188_986_368.0, 284_812_800.0, 362_449_920.0),
    (Preset::Gpt2Medium, 354_823_168, 302_311_424, 654_954_496.0, 807_569_408.0, 911_675_392.0),
    (Preset::Gpt2Large, 774_030_080, 708_390_400, 1_511_152_640.0, 1_732_979_200.0, 1_863_848_960.0),
    (Preset::Gpt2Xl, 1_557_611_200, 1_475_561_600, 3_108_409_600.0, 3_424_515_200.0, 3_589_024_000.0),
    (Preset::Llama2_7b, 6_738_415_616, 6_476_271_616, 14_026_285_056.0, 15_361_638_400.0, 15_636_365_312.0),
    (Preset::Llama2_13b, 13_015_864_320, 12_688_184_320, 27_054_090_240.0, 29_058_662_400.0, 29_406_003_200.0),
    (Preset::Llama2_70b, 68_976_648_192, 68_452_360_192, 142_273_429_504.0, 148_163_788_800.0, 148_750_991_360.0),
    (Preset::Llama3_8b, 8_030_261_248, 6_979_588_096, 16_106_659_840.0, 19_304_284_160.0, 20_380_123_136.0),
];

#[test]
fn counts_match_the_python_reference_for_every_preset() {
    for &(p, total, non_emb, kaplan, matmul, chinchilla) in REFERENCE {
        let c = p.config();
        let n = c.params();
        assert_eq!(n.total(), total, "{}", p.name());
        assert_eq!(n.non_embedding(), non_emb, "{}", p.name());
        for (conv, want) in [
            (FlopConvention::Kaplan, kaplan),
            (FlopConvention::Matmul, matmul),
            (FlopConvention::Chinchilla, chinchilla),
        ] {
            let got = c.forward_flops_per_token(conv);
            assert!((got - want).abs() <= 1e-12 * want, "{} {}: {got} vs {want}", p.name(), conv.name());
            assert!((c.training_flops_per_token(conv) - 3.0 * want).abs() <= 1e-12 * want);
        }
    }
}

#[test]
fn llama_swiglu_widths_come_from_two_thirds_of_4d() {
    // LLaMA-2 7B and 13B config files: intermediate_size 11008 and 13824.
    assert_eq!(swiglu_width(4096, 256), 11_008);
    assert_eq!(swiglu_width(5120, 256), 13_824);
}

#[test]
fn the_tiny_models_gradient_matches_finite_differences() {
    for cfg in [
        TinyConfig::full(3),
        TinyConfig {
            norm: NormPlacement::Post,
            positions: Positions::Sinusoidal,
            scale: false,
            heads: 4,
            ..TinyConfig::full(4)
        },
        TinyConfig {
            norm: NormPlacement::None,
            residual: false,
            layers: 1,
            ..TinyConfig::full(5)
        },
    ] {
        let mut t = Trainer::new(cfg).unwrap();
        let (ids, targets) = t.next_batch();
        let params = t.params().to_vec();
        let pass = t.pass(&params, &ids, &targets).unwrap();
        // Every tensor of the first block and the embedding (indices 0..14 cover the embedding, the
        // position table when there is one and the first block), a few entries each to keep it quick.
        for i in 0..params.len().min(14) {
            let analytic: Vec<f64> = pass.g.grad(pass.vars[i]).data().iter().take(6).copied().collect();
            let x: Vec<f64> = params[i].data().iter().take(6).copied().collect();
            let report = gradcheck::check(
                |v| {
                    let mut p = params.clone();
                    p[i].data_mut()[..v.len()].copy_from_slice(v);
                    let pass = t.pass(&p, &ids, &targets).unwrap();
                    pass.g.value(pass.loss).data()[0]
                },
                &x,
                &analytic,
                1e-5,
            );
            assert!(report.passes(1e-6), "tensor {i}: {report:?}");
        }
    }
}

#[test]
fn stepping_one_step_at_a_time_is_the_same_run() {
    let cfg = TinyConfig {
        steps: 5,
        ..TinyConfig::full(7)
    };
    let whole = Trainer::new(cfg).unwrap().run().unwrap();
    let mut sliced = Trainer::new(cfg).unwrap();
    let mut n = 0;
    while !sliced.step().unwrap() {
        n += 1;
    }
    assert_eq!(n, 4);
    assert_eq!(whole.losses, sliced.losses);
    assert_eq!(whole.stats, sliced.stats);
}

#[test]
fn ablations_change_what_the_model_learns() {
    // Seed 1, 120 steps: the full model learns the copy (loss near 0); without positions it cannot know
    // which earlier token to copy; without residuals the same steps get much less far.
    let full = Trainer::new(TinyConfig::full(1)).unwrap().run().unwrap();
    let no_pos = Trainer::new(TinyConfig {
        positions: Positions::None,
        ..TinyConfig::full(1)
    })
    .unwrap()
    .run()
    .unwrap();
    let no_res = Trainer::new(TinyConfig {
        residual: false,
        ..TinyConfig::full(1)
    })
    .unwrap()
    .run()
    .unwrap();
    let (f, p, r) = (full.final_loss(10), no_pos.final_loss(10), no_res.final_loss(10));
    assert!(f < 0.5, "full {f}");
    assert!(p > 1.0, "no positions {p}");
    assert!(r > 2.0 * f, "no residual {r} vs full {f}");
    assert!(full.final_accuracy(10) > 0.9);
    // The first block of the trained full model has a head that looks at the copy source.
    assert!(full.stats[0].copy_attention > 0.5, "{:?}", full.stats);
    // Chance level at the start: ln 8 ≈ 2.08 nats, give or take the random initial logits.
    assert!((full.losses[0] - crate::math::ln(8.0)).abs() < 0.6, "{}", full.losses[0]);
}

#[test]
fn without_the_scale_attention_starts_sharper() {
    let stat = |scale: bool| {
        let t = Trainer::new(TinyConfig {
            scale,
            heads: 1,
            steps: 1,
            ..TinyConfig::full(2)
        })
        .unwrap()
        .run()
        .unwrap();
        t.init_stats[0].attention_entropy
    };
    let (with, without) = (stat(true), stat(false));
    assert!(without < with - 0.1, "with {with}, without {without}");
}


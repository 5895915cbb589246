//! Lesson 12's engine tests: routing by hand, the losses' stated values, capacity and dispatch, parameter
//! counts against the published totals, and the toy router's gradients against finite differences.

use super::params::{active_from_split, Preset};
use super::router_sim::{RouterSim, SimConfig};
use super::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn top2_softmax_gates_by_hand() {
    // Logits (1, 2, 3, 0): softmax = e^x / Σ e^x with Σ = e + e² + e³ + 1.
    let logits = [1.0, 2.0, 3.0, 0.0];
    let z: f64 = logits.iter().map(|&x: &f64| crate::math::exp(x)).sum();
    let r = route(&logits, 4, 2, Score::Softmax, TopKNorm::None, &[], 1.0);
    assert_eq!(r.chosen, vec![2, 1]);
    assert!(close(r.gates[0], crate::math::exp(3.0) / z, 1e-15));
    assert!(close(r.gates[1], crate::math::exp(2.0) / z, 1e-15));
    // Renormalised, the gates are a softmax over the two selected logits (Mixtral's reference code).
    let r = route(&logits, 4, 2, Score::Softmax, TopKNorm::Renormalize, &[], 1.0);
    let two = softmax_row(&[3.0, 2.0]);
    assert!(close(r.gates[0], two[0], 1e-15) && close(r.gates[1], two[1], 1e-15));
}

#[test]
fn the_selection_bias_changes_the_choice_but_not_the_gate() {
    let logits = [0.5, 0.4, -1.0];
    let plain = route(&logits, 3, 1, Score::Sigmoid, TopKNorm::Renormalize, &[], 2.5);
    assert_eq!(plain.chosen, vec![0]);
    // Sigmoid top-1 renormalised is 1, times DeepSeek-V3's scale 2.5.
    assert!(close(plain.gates[0], 2.5, 1e-15));
    let biased = route(&logits, 3, 1, Score::Sigmoid, TopKNorm::None, &[0.0, 0.1, 0.0], 1.0);
    assert_eq!(biased.chosen, vec![1]);
    assert!(close(biased.gates[0], sigmoid(0.4), 1e-15));
    // The normalised sigmoid scores that P uses sum to 1.
    assert!(close(biased.probs.iter().sum::<f64>(), 1.0, 1e-15));
}

#[test]
fn ties_go_to_the_lower_index() {
    assert_eq!(top_k(&[1.0, 3.0, 3.0, 0.0], 2), vec![1, 2]);
    assert_eq!(top_k(&[0.0; 4], 1), vec![0]);
}

#[test]
fn aux_loss_is_one_at_balance_and_e_at_collapse() {
    for (k, all) in [(1usize, 1.0), (2, 2.0), (4, 4.0)] {
        let mut logits = vec![0.0; 64 * 8];
        for (t, row) in logits.chunks_mut(8).enumerate() {
            for j in 0..k {
                row[(t + j) % 8] = 40.0 * (k - j) as f64;
            }
        }
        let r = route(&logits, 8, k, Score::Softmax, TopKNorm::None, &[], 1.0);
        assert!(close(r.aux_loss(AuxConvention::FirstChoice), 1.0, 1e-9));
        assert!(close(r.aux_loss(AuxConvention::AllChoicesOverK), 1.0, 1e-9));
        assert!(close(r.aux_loss(AuxConvention::AllChoices), all, 1e-9));
    }
    // Every token certain of expert 0: f_0 = 1, P_0 → 1, the loss → E.
    let mut logits = vec![0.0; 16 * 8];
    for row in logits.chunks_mut(8) {
        row[0] = 40.0;
    }
    let r = route(&logits, 8, 1, Score::Softmax, TopKNorm::None, &[], 1.0);
    assert!(close(r.aux_loss(AuxConvention::FirstChoice), 8.0, 1e-9));
    // Uniform probabilities give 1 whatever f is: Σ f_i / E = 1/E.
    let r = route(&[0.0; 40], 8, 1, Score::Softmax, TopKNorm::None, &[], 1.0);
    assert_eq!(r.counts(1), vec![5, 0, 0, 0, 0, 0, 0, 0]);
    assert!(close(r.aux_loss(AuxConvention::FirstChoice), 1.0, 1e-12));
}

#[test]
fn z_loss_of_constant_logits_is_shift_plus_ln_e_squared() {
    for shift in [-3.0, 0.0, 5.0] {
        let want = (shift + crate::math::ln(8.0)).powi(2);
        assert!(close(z_loss(&[shift; 16], 8), want, 1e-12));
    }
}

#[test]
fn capacity_roundings() {
    // 1.25 · 2 · 100 / 8 = 31.25.
    assert_eq!(capacity(100, 8, 2, 1.25, CapacityRounding::Floor), 31);
    assert_eq!(capacity(100, 8, 2, 1.25, CapacityRounding::Round), 31);
    assert_eq!(capacity(100, 8, 2, 1.25, CapacityRounding::Ceil), 32);
    // 1.5 · 100 / 8 = 18.75.
    assert_eq!(capacity(100, 8, 1, 1.5, CapacityRounding::Round), 19);
}

#[test]
fn dispatch_fills_first_choices_first_in_either_order() {
    // Four tokens all want expert 0 first and expert 1 second; capacity 2.
    let logits = [
        2.0, 1.0, 0.0, //
        3.0, 1.0, 0.0, //
        1.5, 1.0, 0.0, //
        4.0, 1.0, 0.0,
    ];
    let r = route(&logits, 3, 2, Score::Softmax, TopKNorm::None, &[], 1.0);
    let d = dispatch(&r, 2, Priority::InOrder);
    // In order: tokens 0 and 1 get expert 0; expert 1 then takes tokens 0 and 1's second choices.
    assert_eq!(d.kept, vec![true, true, true, true, false, false, false, false]);
    assert_eq!(d.tokens_fully_dropped, 2);
    let d = dispatch(&r, 2, Priority::BatchPriority);
    // By top gate: token 3 (4.0) and token 1 (3.0) first.
    assert_eq!(d.kept, vec![false, false, true, true, false, false, true, true]);
    assert_eq!(d.demand, vec![4, 4, 0]);
    assert_eq!(d.load, vec![2, 2, 0]);
    assert_eq!(d.dropped, 4);
}

#[test]
fn random_drop_fraction_agrees_with_a_direct_binomial_sum_and_simulation() {
    // Direct sum with exact binomial coefficients for a small case: n = 16, p = 1/4, C = 4.
    let (n, p, c) = (16u32, 0.25f64, 4u32);
    let mut excess = 0.0;
    for j in c + 1..=n {
        let choose = (0..j).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64);
        excess += (j - c) as f64 * choose * p.powi(j as i32) * (1.0 - p).powi((n - j) as i32);
    }
    let want = 4.0 * excess / 16.0;
    assert!(close(random_drop_fraction(16, 4, 1, 4), want, 1e-12));
    let exact = crate::quantities::evaluate("moe.random_drop_fraction", &[]).unwrap();
    let sim = crate::quantities::evaluate("moe.random_drop_fraction_sim", &[]).unwrap();
    // 400 × 512 draws: the standard error of the dropped fraction is about 0.001.
    assert!(close(exact, sim, 0.004), "{exact} vs {sim}");
}

#[test]
fn mixtral_and_deepseek_v3_match_their_published_totals() {
    let m = Preset::Mixtral.config().count();
    // Mixtral paper: 46.7B total, 12.9B active.
    assert!(close(m.total() / 1e9, 46.7, 0.05), "{}", m.total());
    assert!(close(m.active() / 1e9, 12.9, 0.05), "{}", m.active());
    let d = Preset::DeepSeekV3.config().count();
    // DeepSeek-V3 report: 671B total, 37B activated.
    assert!(close(d.total() / 1e9, 671.0, 0.5), "{}", d.total());
    assert!(close(d.active() / 1e9, 37.0, 0.8), "{}", d.active());
    // active = (k/E) total + (1 − k/E) shared, the identity the lesson derives.
    let cfg = Preset::Mixtral.config();
    let split = active_from_split(m.total(), cfg.experts, cfg.top_k, m.shared_part());
    assert!(close(split, m.active(), 1.0));
}

#[test]
fn router_gradients_match_finite_differences() {
    let cfg = SimConfig {
        tokens: 48,
        experts: 4,
        k: 2,
        aux_coef: 0.7,
        z_coef: 0.05,
        ..SimConfig::new(0.0, 0.0, 3)
    };
    let mut sim = RouterSim::new(cfg);
    for _ in 0..5 {
        sim.step();
    }
    let w = sim.router_weights().to_vec();
    let m = sim.expert_weights().to_vec();
    let pass = sim.forward_backward(&w, &m);
    let h = 1e-6;
    for i in 0..w.len() {
        let (mut wp, mut wm) = (w.clone(), w.clone());
        wp[i] += h;
        wm[i] -= h;
        let fd = (sim.forward_backward(&wp, &m).objective - sim.forward_backward(&wm, &m).objective)
            / (2.0 * h);
        assert!(close(fd, pass.d_router[i], 1e-6 * (1.0 + fd.abs())), "w[{i}]: {fd} vs {}", pass.d_router[i]);
    }
    for i in (0..m.len()).step_by(7) {
        let (mut mp, mut mm) = (m.clone(), m.clone());
        mp[i] += h;
        mm[i] -= h;
        let fd = (sim.forward_backward(&w, &mp).objective - sim.forward_backward(&w, &mm).objective)
            / (2.0 * h);
        assert!(close(fd, pass.d_experts[i], 1e-6 * (1.0 + fd.abs())), "m[{i}]");
    }
}

#[test]
fn balancing_cuts_the_drops_of_an_unbalanced_router() {
    let run = |aux: f64, bias: f64| {
        (1..=3)
            .map(|s| RouterSim::run(SimConfig::new(aux, bias, s)).tail_mean(20, |r| r.dropped))
            .sum::<f64>()
            / 3.0
    };
    let none = run(0.0, 0.0);
    assert!(none > 0.3, "{none}");
    assert!(run(1.0, 0.0) < 0.5 * none);
    assert!(run(0.0, 0.01) < 0.5 * none);
}

#[test]
fn stepping_in_slices_gives_the_same_run() {
    let cfg = SimConfig::new(0.3, 0.0, 2);
    let whole = RouterSim::run(cfg);
    let mut sliced = RouterSim::new(cfg);
    while !sliced.finished() {
        for _ in 0..7 {
            sliced.step();
        }
    }
    assert_eq!(whole.history, sliced.history);
}


//! `dlf calc optim`: one-step and multi-step results of every optimizer against numbers
//! computed independently with numpy, the convention options, and the error messages.
//!
//! Every expected number below was printed by this numpy script (numpy 2.4, float64), run as
//! `python3 ref.py`; each test names the function and the call that produced its numbers.
//!
//! ```python
//! import numpy as np
//! def adam(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
//!     p = np.array(p, float); m = np.zeros_like(p); v = np.zeros_like(p); out = []
//!     for t, g in enumerate(grads, 1):
//!         g = np.array(g, float)
//!         if decoupled: p = p - lr * wd * p
//!         else: g = g + wd * p
//!         m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g * g
//!         mh = m / (1 - b1**t); vh = v / (1 - b2**t)
//!         p = p - lr * mh / (np.sqrt(vh) + eps)
//!         out.append((p.tolist(), m.tolist(), v.tolist()))
//!     return out
//! def sgd(p, grads, lr, mu, wd=0.0, nesterov=False):
//!     p = np.array(p, float); b = None; out = []
//!     for g in grads:
//!         g = np.array(g, float) + wd * p
//!         b = g.copy() if b is None else mu * b + g
//!         d = g + mu * b if nesterov else b
//!         p = p - lr * d
//!         out.append((p.tolist(), b.tolist()))
//!     return out
//! def rms_inside(p, grads, lr, alpha=0.99, eps=1e-8):
//!     p = np.array(p, float); v = np.zeros_like(p); out = []
//!     for g in grads:
//!         g = np.array(g, float); v = alpha * v + (1 - alpha) * g * g
//!         p = p - lr * g / np.sqrt(v + eps); out.append((p.tolist(), v.tolist()))
//!     return out
//! def lion(p, grads, lr, b1=0.9, b2=0.99, wd=0.0):
//!     p = np.array(p, float); m = np.zeros_like(p); out = []
//!     for g in grads:
//!         g = np.array(g, float); c = b1 * m + (1 - b1) * g
//!         p = p - lr * (np.sign(c) + wd * p); m = b2 * m + (1 - b2) * g
//!         out.append((p.tolist(), m.tolist()))
//!     return out
//! def lamb(groups, grads, lr, b1=0.9, b2=0.999, eps=1e-6, wd=0.0):
//!     ps = [np.array(g, float) for g in groups]; ms = [np.zeros_like(p) for p in ps]
//!     vs = [np.zeros_like(p) for p in ps]; out = []
//!     for t, gs in enumerate(grads, 1):
//!         ratios = []
//!         for i, g in enumerate(gs):
//!             g = np.array(g, float)
//!             ms[i] = b1 * ms[i] + (1 - b1) * g; vs[i] = b2 * vs[i] + (1 - b2) * g * g
//!             u = (ms[i] / (1 - b1**t)) / (np.sqrt(vs[i] / (1 - b2**t)) + eps) + wd * ps[i]
//!             pn, un = np.linalg.norm(ps[i]), np.linalg.norm(u)
//!             r = pn / un if pn > 0 and un > 0 else 1.0
//!             ps[i] = ps[i] - lr * r * u; ratios.append(r)
//!         out.append(([p.tolist() for p in ps], ratios))
//!     return out
//! def adamw_sched(p, grads, lr0, warmup, wd, scaling, b1=0.9, b2=0.999, eps=1e-8):
//!     p = np.array(p, float); m = np.zeros_like(p); v = np.zeros_like(p); out = []
//!     for t, g in enumerate(grads, 1):
//!         lr = lr0 * min(1.0, t / warmup)
//!         g = np.array(g, float)
//!         p = p - (lr * wd if scaling == "lr" else (lr / lr0) * wd) * p
//!         m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g * g
//!         p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
//!         out.append((lr, p.tolist()))
//!     return out
//! ```

use serde_json::Value;

use super::{answer, assert_close, error, fails, help};

fn ok(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["optim"];
    all.extend_from_slice(args);
    answer(&all, stdin)
}

fn fails_with(args: &[&str], stdin: &str, needle: &str) {
    let mut all = vec!["optim"];
    all.extend_from_slice(args);
    fails(&all, stdin, needle);
}

fn step(answer: &Value, k: usize) -> &Value {
    &answer["steps"][k]
}

const GRADS3: &str = "[[0.5, -1.0], [0.25, 0.0], [-0.1, 0.3]]";

#[test]
fn adam_three_steps_match_numpy() {
    // adam([1.0, -2.0], [[0.5, -1.0], [0.25, 0.0], [-0.1, 0.3]], 0.1)
    let input = format!(r#"{{"optimizer":"adam","lr":0.1,"params":[1.0,-2.0],"grads":{GRADS3}}}"#);
    let a = ok(&[], &input);
    assert_eq!(a["optimizer"], "adam");
    assert_close(
        &step(&a, 0)["params"],
        &[0.900000002, -1.900000001],
        1e-12,
        "p1",
    );
    assert_close(
        &step(&a, 0)["state"]["exp_avg"],
        &[0.04999999999999999, -0.09999999999999998],
        1e-12,
        "m1",
    );
    assert_close(
        &step(&a, 0)["state"]["exp_avg_sq"],
        &[0.0002500000000000002, 0.0010000000000000009],
        1e-12,
        "v1",
    );
    assert_close(
        &step(&a, 1)["params"],
        &[0.8067820404774624, -1.8329941765341886],
        1e-12,
        "p2",
    );
    assert_close(
        &step(&a, 2)["params"],
        &[0.7471109386505732, -1.8017600277539443],
        1e-12,
        "p3",
    );
    assert_close(
        &step(&a, 2)["state"]["exp_avg_sq"],
        &[0.0003219377500000003, 0.001088001000000001],
        1e-12,
        "v3",
    );
}

#[test]
fn adamw_decouples_the_decay() {
    // adam([1.0, -2.0], GRADS3, 0.1, wd=0.1, decoupled=True)
    let input = format!(
        r#"{{"optimizer":"adamw","lr":0.1,"weight_decay":0.1,"params":[1.0,-2.0],"grads":{GRADS3}}}"#
    );
    let a = ok(&[], &input);
    assert_close(
        &step(&a, 0)["params"],
        &[0.890000002, -1.880000001],
        1e-12,
        "p1",
    );
    assert_close(
        &step(&a, 2)["params"],
        &[0.7203321182259985, -1.7450180859787023],
        1e-12,
        "p3",
    );
}

#[test]
fn adamw_with_warmup_and_schedule_scaled_decay() {
    // adamw_sched([1.0, -2.0], GRADS3, 0.1, 2, 0.1, "schedule")
    let input = format!(
        r#"{{"optimizer":"adamw","lr":0.1,"weight_decay":0.1,"params":[1.0,-2.0],"grads":{GRADS3},
             "schedule":{{"warmup":2}}}}"#
    );
    let a = ok(&["--decay-scaling", "schedule"], &input);
    assert_eq!(a["conventions"]["decay_scaling"], "schedule");
    assert_close(&step(&a, 0)["lr"], &[0.05], 1e-12, "lr1");
    assert_close(
        &step(&a, 0)["params"],
        &[0.900000001, -1.8500000005],
        1e-12,
        "p1",
    );
    assert_close(
        &step(&a, 1)["params"],
        &[0.7167820393774624, -1.5979941759841885],
        1e-12,
        "p2",
    );
    assert_close(
        &step(&a, 2)["params"],
        &[0.585432733612827, -1.4069606096055252],
        1e-12,
        "p3",
    );
}

#[test]
fn sgd_nesterov_with_weight_decay_matches_numpy() {
    // sgd([1.0, -0.5], [[0.2, 0.4], [-0.3, 0.1], [0.5, -0.2]], 0.1, 0.9, wd=0.01, nesterov=True)
    let input = r#"{"optimizer":"sgd","lr":0.1,"momentum":0.9,"nesterov":true,"weight_decay":0.01,
                    "params":[1.0,-0.5],"grads":[[0.2,0.4],[-0.3,0.1],[0.5,-0.2]]}"#;
    let a = ok(&[], input);
    assert_close(
        &step(&a, 0)["params"],
        &[0.9601, -0.5750500000000001],
        1e-12,
        "p1",
    );
    assert_close(
        &step(&a, 0)["state"]["momentum_buffer"],
        &[0.21000000000000002, 0.395],
        1e-12,
        "b1",
    );
    assert_close(
        &step(&a, 2)["params"],
        &[0.9095824239609999, -0.6221947049305],
        1e-12,
        "p3",
    );
    assert_close(
        &step(&a, 2)["state"]["momentum_buffer"],
        &[0.41872355810000006, 0.19852502595],
        1e-12,
        "b3",
    );
}

#[test]
fn ema_momentum_differs_from_accumulate() {
    // By hand: EMA b1 = 0.1·1 = 0.1, p1 = 1 − 0.1·0.1 = 0.99; b2 = 0.09 + 0.2 = 0.29, p2 = 0.961.
    let input =
        r#"{"optimizer":"sgd","lr":0.1,"momentum":0.9,"params":[1.0],"grads":[[1.0],[2.0]]}"#;
    let a = ok(&["--momentum-style", "ema"], input);
    assert_close(&step(&a, 1)["params"], &[0.961], 1e-12, "ema p2");
    let b = ok(&[], input);
    // Accumulate: b1 = 1, p1 = 0.9; b2 = 2.9, p2 = 0.61.
    assert_close(&step(&b, 1)["params"], &[0.61], 1e-12, "accumulate p2");
}

#[test]
fn rmsprop_with_eps_inside_the_root() {
    // rms_inside([0.5], [[1.0], [-2.0]], 0.01, eps=0.01)
    let input =
        r#"{"optimizer":"rmsprop","lr":0.01,"eps":0.01,"params":[0.5],"grads":[[1.0],[-2.0]]}"#;
    let a = ok(&["--eps-placement", "inside"], input);
    assert_close(&step(&a, 0)["params"], &[0.4292893218813453], 1e-12, "p1");
    assert_close(&step(&a, 1)["params"], &[0.511007106525889], 1e-12, "p2");
    assert_close(
        &step(&a, 1)["state"]["square_avg"],
        &[0.04990000000000004],
        1e-12,
        "v2",
    );
}

#[test]
fn lion_two_steps_with_decay_match_numpy() {
    // lion([1.0, -1.0, 0.5], [[0.3, -0.2, 0.0], [-0.1, -0.4, 0.2]], 0.01, wd=0.5)
    let input = r#"{"optimizer":"lion","lr":0.01,"weight_decay":0.5,"params":[1.0,-1.0,0.5],
                    "grads":[[0.3,-0.2,0.0],[-0.1,-0.4,0.2]]}"#;
    let a = ok(&[], input);
    assert_close(
        &step(&a, 0)["params"],
        &[0.985, -0.985, 0.4975],
        1e-12,
        "p1",
    );
    assert_close(
        &step(&a, 1)["params"],
        &[0.990075, -0.970075, 0.4850125],
        1e-12,
        "p2",
    );
    assert_close(
        &step(&a, 1)["state"]["exp_avg"],
        &[
            0.0019700000000000017,
            -0.005980000000000005,
            0.0020000000000000018,
        ],
        1e-12,
        "m2",
    );
}

#[test]
fn lamb_trust_ratios_per_group_match_numpy() {
    // lamb([[3.0, 4.0], [0.1]], [[[1.0, -2.0], [5.0]], [[0.5, 0.5], [-1.0]]], 0.01, wd=0.01)
    let input = r#"{"optimizer":"lamb","lr":0.01,"weight_decay":0.01,"params":[[3.0,4.0],[0.1]],
                    "grads":[[[1.0,-2.0],[5.0]],[[0.5,0.5],[-1.0]]]}"#;
    let a = ok(&[], input);
    assert_close(
        &step(&a, 0)["trust_ratios"],
        &[3.551106825892046, 0.09990011986015983],
        1e-12,
        "ratios1",
    );
    assert_close(
        &step(&a, 0)["params"],
        &[2.963423635204345, 4.034090607773038, 0.099],
        1e-12,
        "p1",
    );
    assert_close(
        &step(&a, 1)["trust_ratios"],
        &[4.752721221617967, 0.19335335709673046],
        1e-12,
        "ratios2",
    );
    assert_close(
        &step(&a, 1)["params"],
        &[2.9177113590958195, 4.0544858150610015, 0.09801],
        1e-12,
        "p2",
    );
    // Grouped input gives grouped output.
    assert!(step(&a, 1)["params"][1].is_array());
}

#[test]
fn errors_are_clear_and_exit_2() {
    fails_with(
        &[],
        r#"{"optimizer":"adagrad","lr":0.1,"params":[1],"grads":[[1]]}"#,
        "unknown optimizer \"adagrad\"",
    );
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"params":[1,2],"grads":[[1,2],[1]]}"#,
        "grads[1] has group sizes [1] but params has [2]",
    );
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"betas":[0.9,0.99],"params":[1],"grads":[[1]]}"#,
        "unknown field `betas`",
    );
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"beta2":1.0,"params":[1],"grads":[[1]]}"#,
        "hyperparameter `beta2` = 1 is invalid",
    );
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"params":[1],"grads":[]}"#,
        "grads is empty",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"momentum":0.9,"dampening":0.5,"nesterov":true,"params":[1],"grads":[[1]]}"#,
        "zero dampening",
    );
    let e = error(&["optim", "--eps-placement", "under"], "{}");
    assert!(e.contains("possible values: outside, inside, hat"), "{e}");
}

#[test]
fn help_states_the_conventions_and_libraries() {
    let help = help("optim");
    for needle in [
        "PyTorch",
        "TensorFlow",
        "Loshchilov & Hutter",
        "--eps-placement",
        "trust ratio",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn a_non_finite_result_is_an_error_naming_step_quantity_and_cause() {
    // Before: params printed as null with exit code 0.
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"eps":0,"params":[1.0],"grads":[[0.0]]}"#,
        "optim: step 1: params[0] is NaN: exp_avg_sq[0] is 0 and eps is 0, so the update m̂/(√v̂+ε) is 0/0",
    );
    // The same with ε under the root, for AdamW, in a group.
    fails_with(
        &["--eps-placement", "inside"],
        r#"{"optimizer":"adamw","lr":0.1,"eps":0,"params":[[1.0],[2.0, 3.0]],"grads":[[[1.0],[0.0, 2.0]]]}"#,
        "optim: step 1: params[1][0] is NaN: exp_avg_sq[1][0] is 0 and eps is 0, so the update m̂/√(v̂+ε) is 0/0",
    );
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"eps":0,"params":[[1.0],[2.0, 3.0]],"grads":[[[1.0],[1.0, 0.0]]]}"#,
        "optim: step 1: params[1][1] is NaN: exp_avg_sq[1][1] is 0 and eps is 0",
    );
    fails_with(
        &[],
        r#"{"optimizer":"rmsprop","lr":0.1,"eps":0,"params":[1.0, 2.0],"grads":[[1.0, 0.0]]}"#,
        "optim: step 1: params[1] is NaN: square_avg[1] is 0 and eps is 0, so the update g/(√v+ε) is 0/0",
    );
    fails_with(
        &[],
        r#"{"optimizer":"lamb","lr":0.1,"eps":0,"params":[1.0, 2.0],"grads":[[0.0, 1.0]]}"#,
        "optim: step 1: params[0] is NaN: exp_avg_sq[0] is 0 and eps is 0",
    );
    fails_with(
        &[],
        r#"{"optimizer":"rmsprop","lr":0.1,"eps":0,"momentum":0.9,"params":[1.0],"grads":[[0.0]]}"#,
        "optim: step 1: momentum_buffer[0] is NaN: square_avg[0] is 0 and eps is 0, so the update g/(√v+ε) is 0/0",
    );
    // A gradient whose square underflows: v = 0 but m is not, so the update is m̂/0 = ±∞.
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"eps":0,"params":[1.0],"grads":[[1e-170]]}"#,
        "exp_avg_sq[0] is 0 (the square of the gradient 1e-170 underflows to 0) and eps is 0",
    );
    // A gradient whose square overflows: v is infinite (the parameters would still be finite).
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"params":[1.0],"grads":[[1e200]]}"#,
        "optim: step 1: exp_avg_sq[0] is inf: β₂·v + (1 − β₂)·g² overflows",
    );
    // A step that overflows the parameters, and a momentum buffer that overflows in step 2.
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":1e300,"params":[1.0],"grads":[[1e10]]}"#,
        "optim: step 1: params[0] is -inf: p − lr·b overflows",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.0,"momentum":0.9,"params":[1.0],"grads":[[1.7e308],[1.7e308]]}"#,
        "optim: step 2: momentum_buffer[0] is inf",
    );
    // LAMB's ‖p‖ overflows.
    fails_with(
        &[],
        r#"{"optimizer":"lamb","lr":0.1,"params":[1e200, 1.0],"grads":[[1.0, 1.0]]}"#,
        "optim: step 1: trust_ratios[0] is inf",
    );
}

#[test]
fn a_hyperparameter_the_optimizer_does_not_use_is_refused() {
    fails_with(
        &[],
        r#"{"optimizer":"adam","lr":0.1,"momentum":0.9,"params":[1],"grads":[[1]]}"#,
        "adam does not use momentum; it uses lr, beta1, beta2, eps, weight_decay, bias_correction, schedule \
         and --eps-placement",
    );
    fails_with(
        &[],
        r#"{"optimizer":"lion","lr":0.1,"eps":1e-8,"params":[1],"grads":[[1]]}"#,
        "lion does not use eps; it uses lr, beta1, beta2, weight_decay, schedule and --decay-scaling",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"beta1":0.9,"params":[1],"grads":[[1]]}"#,
        "sgd does not use beta1",
    );
    fails_with(
        &["--eps-placement", "inside"],
        r#"{"optimizer":"sgd","lr":0.1,"params":[1],"grads":[[1]]}"#,
        "sgd does not use --eps-placement",
    );
    fails_with(
        &["--decay-scaling", "schedule"],
        r#"{"optimizer":"adam","lr":0.1,"params":[1],"grads":[[1]]}"#,
        "adam does not use --decay-scaling",
    );
    fails_with(
        &["--momentum-style", "ema"],
        r#"{"optimizer":"rmsprop","lr":0.1,"params":[1],"grads":[[1]]}"#,
        "rmsprop does not use --momentum-style",
    );
    // Only what the optimizer uses is echoed.
    let a = ok(
        &[],
        r#"{"optimizer":"lion","lr":0.1,"params":[1],"grads":[[1]]}"#,
    );
    let keys: Vec<&str> = a["hyperparameters"]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["lr", "beta1", "beta2", "weight_decay"]);
    let conventions: Vec<&str> = a["conventions"]
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(conventions, ["decay_scaling"]);
}

#[test]
fn shapes_and_empty_arrays_are_named() {
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"params":[],"grads":[[1]]}"#,
        "params is empty",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"params":[[1],[]],"grads":[[[1],[]]]}"#,
        "params[1] is an empty group",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"params":[1,[2]],"grads":[[1,[2]]]}"#,
        "params[1] is an array but params[0] is a number",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"params":[[1,2]],"grads":[[[1],[2]]]}"#,
        "grads[0] has group sizes [1, 1] but params has [2]",
    );
    fails_with(
        &[],
        r#"{"optimizer":"sgd","lr":0.1,"params":[1],"grads":[["a"]]}"#,
        "invalid type: string \"a\", expected a number or an array of numbers at line 1 column",
    );
}

//! `dlf calc calibration`: every metric against scikit-learn, numpy and scipy under each binning convention,
//! each convention on a hand-computed case, and the error messages a user sees.
//!
//! The reference numbers were printed by this script (numpy 2.x, scipy, scikit-learn 1.9.1, float64). The
//! ECE and MCE are computed from numpy's bincount over the bin indices each library's rule gives
//! (`np.searchsorted` on the inner edges as scikit-learn's calibration_curve does; `side="right"` for
//! left-closed bins; `searchsorted(edges, p, side="right") − 1` into K + 1 slots as torchmetrics'
//! `torch.bucketize(right=True) − 1`); the bins' accuracy and confidence are scikit-learn's
//! `calibration_curve` itself; the temperature is scipy's bounded `minimize_scalar` of the NLL (xatol 1e-10,
//! hence the 1e-6 tolerance on T).
//!
//   import numpy as np, json
//   from sklearn.calibration import calibration_curve
//   from sklearn.metrics import log_loss, brier_score_loss
//   from scipy.optimize import minimize_scalar
//   from scipy.special import log_softmax, expit
//   rng = np.random.default_rng(9)
//   # Binary: 40 probabilities rounded to 2 decimals (so some sit on edges of 10 bins), labels from a
//   # miscalibrated truth.
//   p = np.round(rng.uniform(0.02, 0.98, 40), 2)
//   y = (rng.uniform(size=40) < 0.5 + 0.6 * (p - 0.5)).astype(int)
//   def ece_mce(conf, hit, idx, slots):
//       n = np.bincount(idx, minlength=slots); a = np.bincount(idx, weights=hit, minlength=slots)
//       c = np.bincount(idx, weights=conf, minlength=slots); nz = n > 0
//       gap = np.abs(a[nz]/n[nz] - c[nz]/n[nz])
//       return float((n[nz]/len(conf) * gap).sum()), float(gap.max()), n.tolist()
//   K = 10
//   edges = np.linspace(0, 1, K + 1)
//   out = {}
//   pt, pp = calibration_curve(y, p, n_bins=K, strategy="uniform")
//   out["bin_acc_uniform"] = pt.tolist(); out["bin_conf_uniform"] = pp.tolist()
//   out["right"] = ece_mce(p, y, np.searchsorted(edges[1:-1], p), K)
//   out["left"] = ece_mce(p, y, np.searchsorted(edges[1:-1], p, side="right"), K)
//   idx = np.searchsorted(edges, p, side="right") - 1   # torch.bucketize(right=True) - 1
//   out["own_one"] = ece_mce(p, y, idx, K + 1)
//   pt, pp = calibration_curve(y, p, n_bins=K, strategy="quantile")
//   out["bin_acc_quantile"] = pt.tolist(); out["bin_conf_quantile"] = pp.tolist()
//   q = np.percentile(p, np.linspace(0, 1, K + 1) * 100)
//   out["quantile"] = ece_mce(p, y, np.searchsorted(q[1:-1], p), K)
//   out["accuracy"] = float(((p > 0.5).astype(int) == y).mean())
//   out["nll"] = log_loss(y, p); out["brier"] = brier_score_loss(y, p)
//   z = np.log(p) - np.log1p(-p)
//   f = lambda t: log_loss(y, expit(z / t))
//   r = minimize_scalar(f, bounds=(0.05, 20), method="bounded", options={"xatol": 1e-10})
//   out["T_binary"] = r.x; out["nll_after_binary"] = r.fun
//   pa = expit(z / r.x)
//   out["right_after"] = ece_mce(pa, y, np.searchsorted(edges[1:-1], pa), K)
//   out["brier_after_binary"] = brier_score_loss(y, pa)
//   print("P =", json.dumps(p.tolist())); print("Y =", json.dumps(y.tolist()))
//   # Multi-class: 30 rows of 3 logits, labels drawn from softmax(logits / 2) (over-confident by 2).
//   Z = np.round(rng.normal(0, 2.0, (30, 3)), 3)
//   pz = np.exp(log_softmax(Z / 2, axis=1))
//   L = np.array([rng.choice(3, p=row) for row in pz])
//   P = np.exp(log_softmax(Z, axis=1))
//   conf = P.max(1); pred = P.argmax(1); hit = (pred == L).astype(float)
//   out["mc_accuracy"] = hit.mean()
//   out["mc_right"] = ece_mce(conf, hit, np.searchsorted(edges[1:-1], conf), K)
//   out["mc_nll"] = log_loss(L, P, labels=[0, 1, 2])
//   onehot = np.eye(3)[L]; out["mc_brier"] = float(((P - onehot) ** 2).sum(1).mean())
//   cw = [ece_mce(P[:, k], (L == k).astype(float), np.searchsorted(edges[1:-1], P[:, k]), K) for k in range(3)]
//   out["mc_classwise_ece"] = float(np.mean([c[0] for c in cw])); out["mc_classwise_mce"] = max(c[1] for c in cw)
//   g = lambda t: -log_softmax(Z / t, axis=1)[np.arange(30), L].mean()
//   r = minimize_scalar(g, bounds=(0.05, 20), method="bounded", options={"xatol": 1e-10})
//   out["T_mc"] = r.x; out["mc_nll_after"] = r.fun
//   Pa = np.exp(log_softmax(Z / r.x, axis=1)); ca = Pa.max(1)
//   out["mc_right_after"] = ece_mce(ca, hit, np.searchsorted(edges[1:-1], ca), K)
//   print("Z =", json.dumps(Z.tolist())); print("L =", json.dumps(L.tolist()))
//   for k, v in out.items(): print(k, "=", json.dumps(v))

use serde_json::Value;

use super::{answer as run_answer, assert_within, error as run_error, flat};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["calibration"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn error(args: &[&str], stdin: &str) -> String {
    let mut all = vec!["calibration"];
    all.extend_from_slice(args);
    run_error(&all, stdin)
}

const P: &str = "[0.86, 0.3, 0.6, 0.77, 0.71, 0.9, 0.85, 0.9, 0.05, 0.44, 0.49, 0.08, 0.03, 0.82, 0.96, 0.77, 0.32, 0.7, 0.31, 0.73, 0.29, 0.77, 0.97, 0.97, 0.87, 0.9, 0.7, 0.55, 0.91, 0.11, 0.38, 0.6, 0.48, 0.78, 0.21, 0.08, 0.14, 0.94, 0.15, 0.24]";
const Y: &str = "[1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]";
const Z: &str = "[[1.83, -2.231, 1.126], [0.677, -0.872, 3.926], [-2.237, -0.555, 0.91], [0.486, -0.342, 2.754], [2.891, 1.825, 2.003], [-0.11, -2.33, 4.376], [-1.915, 4.459, -0.254], [0.464, -0.338, 1.916], [-1.016, 3.686, 1.07], [0.349, -1.14, 0.561], [-0.006, 3.8, 1.872], [-3.12, 3.058, -4.746], [3.082, -3.772, 0.002], [1.625, -0.015, -2.196], [2.467, -3.559, -2.92], [2.768, -1.73, 0.493], [1.62, -0.213, 0.553], [0.241, 0.428, 2.374], [1.868, 0.647, 1.835], [-1.084, -1.529, -2.003], [1.568, 3.249, 0.17], [-3.957, -1.017, 0.936], [0.594, 0.187, 1.978], [1.853, -2.682, 0.869], [-1.479, 0.466, 2.488], [3.663, 1.4, -1.011], [-0.703, 1.066, -1.976], [-0.135, 1.21, 1.837], [-0.594, 0.74, 2.725], [0.611, -3.433, 0.429]]";
const L: &str =
    "[0, 2, 1, 0, 1, 2, 1, 2, 1, 2, 2, 1, 2, 0, 0, 0, 2, 2, 1, 2, 2, 2, 1, 2, 1, 0, 0, 2, 2, 0]";

fn binary(extra: &str) -> String {
    format!(r#"{{"probs":{P},"labels":{Y},"bins":10{extra}}}"#)
}

fn multiclass(extra: &str) -> String {
    format!(r#"{{"logits":{Z},"labels":{L},"bins":10{extra}}}"#)
}

/// The non-empty bins' values of column `what` of the first table.
fn nonempty(a: &Value, what: &str) -> Vec<f64> {
    let t = &a["before"]["bins"][0];
    let counts = flat(&t["count"]);
    flat(&t[what])
        .into_iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0.0)
        .map(|(v, _)| v)
        .collect()
}

fn check_binning(binning: &str, ece: f64, mce: f64, counts: &[f64]) {
    let a = answer(&["--binning", binning], &binary(""));
    assert_within(&a["before"]["ece"], &[ece], 1e-12, "ece");
    assert_within(&a["before"]["mce"], &[mce], 1e-12, "mce");
    assert_within(&a["before"]["bins"][0]["count"], counts, 0.0, "count");
}

#[test]
fn right_closed_matches_scikit_learn() {
    check_binning(
        "right-closed",
        0.15825000000000003,
        0.32999999999999996,
        &[4.0, 3.0, 4.0, 3.0, 3.0, 3.0, 2.0, 6.0, 7.0, 5.0],
    );
    let a = answer(&[], &binary(""));
    let acc = Value::from(nonempty(&a, "accuracy"));
    let conf = Value::from(nonempty(&a, "confidence"));
    assert_within(
        &acc,
        &[
            0.25,
            0.3333333333333333,
            0.0,
            0.6666666666666666,
            0.3333333333333333,
            0.3333333333333333,
            0.5,
            0.6666666666666666,
            0.8571428571428571,
            0.8,
        ],
        1e-12,
        "calibration_curve prob_true",
    );
    assert_within(
        &conf,
        &[
            0.06,
            0.13333333333333333,
            0.26,
            0.33666666666666667,
            0.47,
            0.5833333333333334,
            0.7,
            0.755,
            0.8714285714285716,
            0.95,
        ],
        1e-12,
        "calibration_curve prob_pred",
    );
    assert_within(&a["before"]["accuracy"], &[0.7], 1e-15, "accuracy");
    assert_within(
        &a["before"]["nll"],
        &[0.6333635717508238],
        1e-12,
        "log_loss",
    );
    assert_within(
        &a["before"]["brier"],
        &[0.2079075],
        1e-12,
        "brier_score_loss",
    );
}

#[test]
fn left_closed_matches_numpy_histogram_rule() {
    check_binning(
        "left-closed",
        0.18825,
        0.32999999999999996,
        &[4.0, 3.0, 4.0, 3.0, 3.0, 3.0, 2.0, 6.0, 4.0, 8.0],
    );
}

#[test]
fn torchmetrics_rule_has_an_extra_slot_for_one() {
    check_binning(
        "left-closed-own-one",
        0.18825,
        0.32999999999999996,
        &[4.0, 3.0, 4.0, 3.0, 3.0, 3.0, 2.0, 6.0, 4.0, 8.0, 0.0],
    );
}

#[test]
fn equal_mass_matches_scikit_learn_quantile() {
    check_binning(
        "equal-mass",
        0.12825,
        0.20999999999999996,
        &[4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0],
    );
    let a = answer(&["--binning", "equal-mass"], &binary(""));
    let acc = Value::from(nonempty(&a, "accuracy"));
    let conf = Value::from(nonempty(&a, "confidence"));
    assert_within(
        &acc,
        &[0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.75, 1.0, 0.75, 0.75],
        1e-12,
        "prob_true",
    );
    assert_within(
        &conf,
        &[
            0.06,
            0.1525,
            0.285,
            0.405,
            0.5599999999999999,
            0.71,
            0.7725,
            0.85,
            0.9025000000000001,
            0.96,
        ],
        1e-12,
        "prob_pred",
    );
}

#[test]
fn binary_temperature_matches_scipy() {
    let a = answer(&[], &binary(""));
    let t = &a["temperature"];
    assert_within(&t["fitted"], &[1.797858307201145], 1e-6, "T");
    assert_within(
        &t["after"]["nll"],
        &[0.5913983365229637],
        1e-12,
        "nll after",
    );
    assert_within(
        &t["after"]["brier"],
        &[0.20115423216775122],
        1e-8,
        "brier after",
    );
    assert_within(
        &t["after"]["ece"],
        &[0.10890501914927324],
        1e-7,
        "ece after",
    );
    // Temperature scaling never changes a prediction.
    assert_within(&t["after"]["accuracy"], &[0.7], 0.0, "accuracy after");
}

#[test]
fn multiclass_top_label_and_temperature_match_numpy_and_scipy() {
    let a = answer(&[], &multiclass(""));
    let b = &a["before"];
    assert_within(&b["accuracy"], &[0.5666666666666667], 1e-15, "accuracy");
    assert_within(&b["ece"], &[0.272390562970757], 1e-12, "ece");
    assert_within(&b["mce"], &[0.4661260861201231], 1e-12, "mce");
    assert_within(
        &b["bins"][0]["count"],
        &[0.0, 0.0, 0.0, 0.0, 2.0, 4.0, 2.0, 5.0, 10.0, 7.0],
        0.0,
        "count",
    );
    assert_within(&b["nll"], &[1.019563103998842], 1e-12, "nll");
    assert_within(&b["brier"], &[0.6330303431165425], 1e-12, "brier");
    let t = &a["temperature"];
    assert_within(&t["fitted"], &[2.189284504359406], 1e-6, "T");
    assert_within(
        &t["after"]["nll"],
        &[0.8601790873267284],
        1e-12,
        "nll after",
    );
    assert_within(
        &t["after"]["ece"],
        &[0.10006566638677933],
        1e-7,
        "ece after",
    );
    assert_within(
        &t["after"]["accuracy"],
        &[0.5666666666666667],
        0.0,
        "accuracy after",
    );
}

#[test]
fn class_wise_averages_the_per_class_diagrams() {
    let a = answer(&["--reliability", "class-wise"], &multiclass(""));
    assert_within(
        &a["before"]["ece"],
        &[0.23594502008873808],
        1e-12,
        "classwise ece",
    );
    assert_within(
        &a["before"]["mce"],
        &[0.8399366303060111],
        1e-12,
        "classwise mce",
    );
    assert_eq!(a["before"]["bins"].as_array().map(Vec::len), Some(3));
}

// The hand-computed case of the lesson: scores .25 .5 .5 .75 1 .1 .9 .6, outcomes 0 1 0 1 1 0 1 0, four bins
// with edges 0, .25, .5, .75, 1 (exact in binary).
//   right-closed (lo, hi]: {.1 .25} {.5 .5} {.6 .75} {.9 1}: gaps .175, 0, .175, .05; ECE = (.35 + .35 + .1)/8 = .1
//   left-closed [lo, hi):  {.1} {.25} {.5 .5 .6} {.75 .9 1}: gaps .1, .25, .2, .35/3; ECE = 1.3/8 = .1625
//   torchmetrics:          {.1} {.25} {.5 .5 .6} {.75 .9} {1}: gaps .1, .25, .2, .175, 0; ECE = 1.3/8 = .1625
//   equal-mass: edges .1, .4375, .55, .7875, 1 (numpy.percentile); right-closed: the first layout; ECE = .1
const HAND: &str =
    r#"{"probs":[0.25,0.5,0.5,0.75,1,0.1,0.9,0.6],"labels":[0,1,0,1,1,0,1,0],"bins":4}"#;

#[test]
fn hand_case_under_each_convention() {
    for (binning, ece, mce, counts) in [
        ("right-closed", 0.1, 0.175, vec![2.0, 2.0, 2.0, 2.0]),
        ("left-closed", 0.1625, 0.25, vec![1.0, 1.0, 3.0, 3.0]),
        (
            "left-closed-own-one",
            0.1625,
            0.25,
            vec![1.0, 1.0, 3.0, 2.0, 1.0],
        ),
        ("equal-mass", 0.1, 0.175, vec![2.0, 2.0, 2.0, 2.0]),
    ] {
        let a = answer(&["--binning", binning], HAND);
        assert_within(&a["before"]["ece"], &[ece], 1e-15, binning);
        assert_within(&a["before"]["mce"], &[mce], 1e-15, binning);
        assert_within(&a["before"]["bins"][0]["count"], &counts, 0.0, binning);
    }
    let a = answer(&["--binning", "equal-mass"], HAND);
    assert_within(
        &a["before"]["bins"][0]["hi"],
        &[0.4375, 0.55, 0.7875, 1.0],
        1e-15,
        "equal-mass edges",
    );
    // A probability of exactly 1 has an infinite logit: no temperature, and the answer says why.
    assert!(a["temperature_note"]
        .as_str()
        .is_some_and(|s| s.contains("infinite logit")));
}

#[test]
fn bad_input_gets_a_message_naming_it() {
    assert!(error(&[], r#"{"labels":[0,1]}"#).contains("probs"));
    assert!(
        error(&[], r#"{"probs":[0.2,0.7],"logits":[1,2],"labels":[0,1]}"#).contains("not both")
    );
    assert!(
        error(&[], r#"{"probs":[[0.2,0.7],[0.5,0.5]],"labels":[0,1]}"#).contains("row 0 sums to")
    );
    assert!(error(&[], r#"{"probs":[0.2,1.7],"labels":[0,1]}"#).contains("outside [0, 1]"));
    assert!(error(&[], r#"{"probs":[0.2,0.7],"labels":[0,2]}"#).contains("labels[1]"));
    assert!(error(&[], r#"{"probs":[0.2,0.7,0.1],"labels":[0,1]}"#).contains("3 rows"));
    assert!(error(&[], r#"{"probs":[0.2,0.7],"labels":[0,1],"bins":2.5}"#).contains("bins"));
    // A binary problem has no top-label/class-wise choice.
    assert!(error(
        &["--reliability", "class-wise"],
        r#"{"probs":[0.2,0.7],"labels":[0,1]}"#
    )
    .contains("--reliability"));
    assert!(error(&["--binning", "sideways"], HAND).contains("right-closed"));
    assert!(error(&[], r#"{"probs":[0.2,0.7],"labels":[0,1],"bin":3}"#).contains("bin"));
    // Certain and wrong: the NLL is infinite, and the message says why instead of printing it.
    assert!(error(&[], r#"{"probs":[0.0,0.7],"labels":[1,1]}"#).contains("label probability 0"));
}

#[test]
fn separable_data_get_a_note_instead_of_a_temperature() {
    let a = answer(&[], r#"{"logits":[[3,0],[0,2]],"labels":[0,1]}"#);
    assert!(a["temperature_note"]
        .as_str()
        .is_some_and(|s| s.contains("T → 0")));
}

//! `dlf calc backprop`: a two-layer MLP's forward and backward pass against numpy, and the errors.

use super::{answer, assert_close, fails, help};

const PROBLEM_CE: &str = r#"{
  "x": [[1.0, -2.0], [0.5, 0.25], [-1.5, 2.0]],
  "w1": [[0.2, -0.4, 0.7], [0.1, 0.3, -0.5]],
  "b1": [0.05, -0.1, 0.2],
  "w2": [[0.6, -0.3], [-0.2, 0.8], [0.5, 0.1]],
  "b2": [0.01, -0.02],
  "activation": "relu",
  "loss": "cross_entropy",
  "targets": [1, 0, 1]
}"#;

// The expected values below were computed independently with numpy 2.4 (float64):
//
//   X = np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 2.0]])
//   W1 = np.array([[0.2, -0.4, 0.7], [0.1, 0.3, -0.5]]); b1 = np.array([0.05, -0.1, 0.2])
//   W2 = np.array([[0.6, -0.3], [-0.2, 0.8], [0.5, 0.1]]); b2 = np.array([0.01, -0.02])
//   y = np.array([1, 0, 1]); B = 3
//   Z1 = X @ W1 + b1; H1 = np.maximum(Z1, 0); Z2 = H1 @ W2 + b2
//   P = np.exp(Z2 - Z2.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
//   L = -np.log(P[np.arange(B), y]).mean(); dZ2 = (P - np.eye(2)[y]) / B
//   dW2 = H1.T @ dZ2; db2 = dZ2.sum(0); dH1 = dZ2 @ W2.T; dZ1 = dH1 * (Z1 > 0)
//   dW1 = X.T @ dZ1; db1 = dZ1.sum(0); dX = dZ1 @ W1.T
//
// and for the MSE case: H1 = np.tanh(Z1); Z2 = H1 @ W2 + b2; T = [[0.5, -0.5], [1.0, 0.0], [0.0, 2.0]];
// L = ((Z2 - T)**2).mean(); dZ2 = 2*(Z2 - T)/Z2.size; dZ1 = (dZ2 @ W2.T) * (1 - H1**2); dW1 = X.T @ dZ1.
#[test]
fn matches_numpy_for_cross_entropy() {
    let answer = answer(&["backprop"], PROBLEM_CE);
    assert_close(&answer["loss"], &[0.673527024033825], 1e-12, "loss");
    assert_close(
        &answer["backward"]["dw1"],
        &[
            0.14748860233791042,
            0.12770154208626205,
            0.0655504899279602,
            -0.4493140346279565,
            -0.17026872278168273,
            -0.19969512650131402,
        ],
        1e-12,
        "dw1",
    );
    assert_close(
        &answer["backward"]["db1"],
        &[
            0.08575387035705616,
            -0.08513436139084136,
            0.038112831269802736,
        ],
        1e-12,
        "db1",
    );
    assert_close(
        &answer["backward"]["dw2"],
        &[
            -0.012384432752623065,
            0.01238443275262306,
            0.09364779752992548,
            -0.09364779752992551,
            0.3833886811354742,
            -0.38338868113547425,
        ],
        1e-12,
        "dw2",
    );
    assert_close(
        &answer["backward"]["db2"],
        &[0.1804164395653482, -0.18041643956534825],
        1e-12,
        "db2",
    );
    assert_close(
        &answer["backward"]["dx"],
        &[
            0.10693637087403529,
            -0.025571740861182354,
            -0.06310661491376214,
            0.015090712261986602,
            0.03405374455633655,
            -0.025540308417252407,
        ],
        1e-12,
        "dx",
    );
    assert_eq!(answer["shapes"]["w1"], "2×3");
    assert_eq!(answer["shapes"]["z2"], "3×2");
}

#[test]
fn matches_numpy_for_mse_with_tanh() {
    let problem = PROBLEM_CE
        .replace(r#""relu""#, r#""tanh""#)
        .replace(r#""cross_entropy""#, r#""mse""#)
        .replace("[1, 0, 1]", "[[0.5, -0.5], [1.0, 0.0], [0.0, 2.0]]");
    let answer = answer(&["backprop"], &problem);
    assert_close(&answer["loss"], &[0.5090296206756192], 1e-12, "loss");
    assert_close(
        &answer["backward"]["dw1"],
        &[
            -0.030690980736264542,
            0.16811492258857852,
            -0.023125870147402836,
            -0.08354201340261158,
            -0.22750648808424084,
            -0.058267166472741,
        ],
        1e-12,
        "dw1",
    );
    assert_close(
        &answer["backward"]["db1"],
        &[
            -0.04587886161662409,
            -0.14834635906203716,
            -0.10808223363621647,
        ],
        1e-12,
        "db1",
    );
    assert_close(
        &answer["backward"]["dw2"],
        &[
            -0.023137428173179802,
            0.010919486410166433,
            -0.17527920425642585,
            -0.35282931503326276,
            0.1791564191664096,
            0.40976198662399443,
        ],
        1e-12,
        "dw2",
    );
}

#[test]
fn explains_bad_input() {
    fails(&["backprop"], "{not json", "not valid");
    fails(
        &["backprop"],
        &PROBLEM_CE.replace(r#""relu""#, r#""swish""#),
        "unknown activation",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace(r#""cross_entropy""#, r#""hinge""#),
        "unknown loss",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[0.5, 0.25]", "[0.5]"),
        "x is ragged: row 0 has 2 entries but row 1 has 1",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[0.05, -0.1, 0.2]", "[0.05, -0.1]"),
        "shapes do not fit",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[1, 0, 1]", "[1, 0, 7]"),
        "shapes do not fit",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[1, 0, 1]", "[[1, 0]]"),
        "class indices",
    );
}

#[test]
fn help_states_the_conventions() {
    let help = help("backprop");
    for needle in [
        "Z1 = X·W1 + b1",
        "mean over the batch",
        "MSELoss",
        "ReLU derivative at exactly 0",
    ] {
        assert!(help.contains(needle), "--help mentions {needle:?}");
    }
}

/// A one-example, one-unit network with the given input, first weight and MSE target.
fn tiny(x: &str, w1: &str, targets: &str) -> String {
    format!(
        r#"{{"x":{x},"w1":{w1},"b1":[0],"w2":[[1]],"b2":[0],"activation":"relu","loss":"mse","targets":{targets}}}"#
    )
}

#[test]
fn an_overflowing_result_is_an_error_naming_the_quantity_and_step() {
    // Before: the loss printed as null with exit code 0. Z2 = 5e199 is finite; its square is not.
    fails(
        &["backprop"],
        &tiny("[[1e200, 1]]", "[[0.5], [0.5]]", "[[0]]"),
        "backprop: forward: loss is inf: (1/(B·C)) Σ (Z2 − Y)² overflows",
    );
    // An overflow in the first product is named there, not in what follows from it.
    fails(
        &["backprop"],
        &tiny("[[1e200]]", "[[1e200]]", "[[0]]"),
        "backprop: forward: z1[0][0] is inf: X·W1 + b1 overflows",
    );
    // Cross-entropy: logits that overflow.
    fails(
        &["backprop"],
        &PROBLEM_CE
            .replace(
                "[[0.6, -0.3], [-0.2, 0.8], [0.5, 0.1]]",
                "[[1e308, -0.3], [1e308, 0.8], [0.5, 0.1]]",
            )
            .replace("[0.01, -0.02]", "[1.79e308, -0.02]"),
        "backprop: forward: z2[0][0] is inf: H1·W2 + b2 overflows",
    );
    // The backward pass: dW1 = Xᵀ·dZ1 sums two products of 1e308 and 11.
    fails(
        &["backprop"],
        &tiny("[[1e308], [1e308]]", "[[1e-308]]", "[[-10], [-10]]"),
        "backprop: backward: dw1[0][0] is inf: Xᵀ·dZ1 overflows",
    );
}

#[test]
fn wrong_shapes_and_empty_arrays_are_named() {
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[[0.2, -0.4, 0.7], [0.1, 0.3, -0.5]]", "[[0.2, -0.4, 0.7]]"),
        "W1 has 1 rows but X has 2 columns",
    );
    fails(
        &["backprop"],
        &tiny("[]", "[[1]]", "[[0]]"),
        "x is empty: it needs at least one row",
    );
    fails(
        &["backprop"],
        &tiny("[[]]", "[[1]]", "[[0]]"),
        "x has an empty first row",
    );
    fails(
        &["backprop"],
        &tiny("[1, 2]", "[[1]]", "[[0]]"),
        "x must be a matrix (an array of rows)",
    );
    fails(
        &["backprop"],
        &tiny("[[1], 2]", "[[1]]", "[[0]]"),
        "x[1] is a number but x[0] is an array",
    );
    fails(
        &["backprop"],
        &tiny("[[1]]", "[[1]]", "[]"),
        "targets is empty",
    );
    fails(
        &["backprop"],
        &tiny("[[1]]", "[[1]]", "[0]"),
        "targets must be a B×C matrix",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[1, 0, 1]", "[]"),
        "0 class targets for a batch of 3",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[1, 0, 1]", "[1, 0.5, 1]"),
        "class indices",
    );
    fails(
        &["backprop"],
        &PROBLEM_CE.replace("[0.01, -0.02]", "[]"),
        "b2 has length 0",
    );
}

#[test]
fn loss_aliases_are_read_and_echoed_by_their_canonical_name() {
    let a = answer(
        &["backprop"],
        &PROBLEM_CE.replace(r#""cross_entropy""#, r#""ce""#),
    );
    assert_eq!(a["loss_kind"], "cross_entropy");
    fails(
        &["backprop"],
        &PROBLEM_CE.replace(r#""relu""#, r#""swish""#),
        r#"unknown activation "swish": use "relu", "tanh", "gelu" or "sigmoid""#,
    );
}

//! `dlf calc posenc`: sinusoids in both layouts, RoPE in both pairings and with every extension rule, ALiBi's
//! slopes, all against numbers computed independently with numpy (float64), and the error messages a user sees.
//!
//! The RoPE references reimplement the two reference codebases' conventions: Meta's LLaMA `model.py`
//! (`view_as_complex` on adjacent pairs times `polar(1, p·θ)`: interleaved) and Hugging Face's LLaMA /
//! GPT-NeoX (`x·cos + rotate_half(x)·sin` with `cos, sin` of `cat(freqs, freqs)`: rotate-half). YaRN and NTK
//! follow jquesnelle/yarn's `LlamaYaRNScaledRotaryEmbedding` and `LlamaNTKScaledRotaryEmbedding`; the
//! tensor2tensor layout follows fairseq's `SinusoidalPositionalEmbedding.get_embedding`; the ALiBi slopes are
//! the reference code's `get_slopes` (ofirpress/attention_with_linear_biases).
//
//   import numpy as np, math, json
//   x = np.array([[1.0, -2.0, 0.5, 3.0, 0.25, -1.0], [0.5, 1.5, -0.75, 2.0, -1.0, 0.125]])
//   k = np.array([[0.3, 0.7, -1.2, 0.4, 2.0, -0.5], [-1.0, 0.25, 0.6, -0.3, 1.1, 0.9]])
//   pos = np.array([7.0, 42.0]); base = 10000.0; d = 6
//   theta = base ** (-np.arange(0, d, 2) / d)
//   def meta(x, pos, theta):
//       xc = x[:, 0::2] + 1j * x[:, 1::2]
//       out = xc * np.exp(1j * np.outer(pos, theta))
//       r = np.empty_like(x); r[:, 0::2] = out.real; r[:, 1::2] = out.imag
//       return r
//   def hf(x, pos, theta, scale=1.0):
//       f = np.outer(pos, theta); emb = np.concatenate([f, f], axis=1)
//       cos, sin = np.cos(emb) * scale, np.sin(emb) * scale
//       h = x.shape[1] // 2
//       rot = np.concatenate([-x[:, h:], x[:, :h]], axis=1)
//       return x * cos + rot * sin
//   meta(x, pos, theta); meta(x, pos, theta) @ meta(k, pos, theta).T
//   hf(x, pos, theta);   hf(x, pos, theta) @ hf(k, pos, theta).T
//   def yarn(dim, base, s, L, bf=32, bs=1):
//       pf = base ** (np.arange(0, dim, 2) / dim); ext = 1 / pf; inter = 1 / (s * pf)
//       fd = lambda r: (dim * math.log(L / (r * 2 * math.pi))) / (2 * math.log(base))
//       lo = max(math.floor(fd(bf)), 0); hi = min(math.ceil(fd(bs)), dim - 1)
//       if lo == hi: hi += 0.001
//       mask = 1 - np.clip((np.arange(dim // 2) - lo) / (hi - lo), 0, 1)
//       return inter * (1 - mask) + ext * mask, lo, hi, 0.1 * math.log(s) + 1
//   yf, lo, hi, ms = yarn(8, 10000.0, 4.0, 64)
//   hf(np.array([[1.0, 2.0, -1.0, 0.5, 0.3, -0.7, 1.1, 0.2]]), np.array([100.0]), yf, ms)
//   10000.0 * 4.0 ** (8 / 6)                          # NTK base
//   P = np.array([0.0, 1.0, 17.0, 300.0]); D = 8
//   w = 10000.0 ** (-np.arange(0, D, 2) / D); pe = np.zeros((4, D))
//   pe[:, 0::2] = np.sin(np.outer(P, w)); pe[:, 1::2] = np.cos(np.outer(P, w))
//   half = D // 2; inc = math.log(10000.0) / (half - 1); inv = np.exp(np.arange(half) * -inc)
//   np.concatenate([np.sin(np.outer(P, inv)), np.cos(np.outer(P, inv))], axis=1)

use serde_json::Value;

use super::{answer as run_answer, assert_within, error as run_error, help};

fn answer(args: &[&str], stdin: &str) -> Value {
    let mut all = vec!["posenc"];
    all.extend_from_slice(args);
    run_answer(&all, stdin)
}

fn error(args: &[&str], stdin: &str) -> String {
    let mut all = vec!["posenc"];
    all.extend_from_slice(args);
    run_error(&all, stdin)
}

const X: &str = "[[1.0,-2.0,0.5,3.0,0.25,-1.0],[0.5,1.5,-0.75,2.0,-1.0,0.125]]";
const K: &str = "[[0.3,0.7,-1.2,0.4,2.0,-0.5],[-1.0,0.25,0.6,-0.3,1.1,0.9]]";

/// A run of `dlf calc posenc ARGS` that must fail with a message containing `needle`.
fn fails(args: &[&str], stdin: &str, needle: &str) {
    let e = error(args, stdin);
    assert!(e.contains(needle), "stderr should mention {needle:?}: {e}");
}

fn rope_problem(extra: &str) -> String {
    format!(r#"{{"method":"rope","x":{X},"k":{K},"positions":[7,42]{extra}}}"#)
}

#[test]
fn rope_interleaved_matches_metas_complex_multiplication() {
    let a = answer(&["--pairing", "interleaved"], &rope_problem(""));
    assert_within(
        &a["rotated"],
        &[
            2.067875451780883,
            -0.8508179099678201,
            -0.4838344160989722,
            3.002649539622992,
            0.26505204197728055,
            -0.9961161654363782,
            1.174789664379275,
            -1.0582387464403438,
            -1.5810491009969625,
            -1.4362394439078383,
            -1.007204264637594,
            0.03412578637692418,
        ],
        1e-12,
        "rotated",
    );
    assert_within(
        &a["scores"],
        &[
            0.5000000000000002,
            1.8626005422293723,
            -1.0737995527771003,
            -2.1625,
        ],
        1e-12,
        "scores",
    );
    assert_eq!(a["conventions"]["pairing"], "interleaved");
}

#[test]
fn rope_rotate_half_matches_hugging_faces_rotate_half_and_is_the_default() {
    let a = answer(&[], &rope_problem(""));
    assert_eq!(a["conventions"]["pairing"], "rotate-half");
    assert_within(
        &a["rotated"],
        &[
            -1.2170575418130625,
            -1.9751643055314685,
            0.5150236127845037,
            2.9186933617487028,
            -0.4015295333526435,
            -0.9923460476438638,
            1.6330504383370918,
            0.37462787765980754,
            -0.7582270368382809,
            -1.2582314039345195,
            1.7634210935792134,
            0.056716493257607276,
        ],
        1e-12,
        "rotated",
    );
    // Same weights, other convention: the same-position scores agree (offset 0), the others do not.
    assert_within(
        &a["scores"],
        &[
            0.5000000000000002,
            4.467034377467394,
            3.9331376029049068,
            -2.1625,
        ],
        1e-12,
        "scores",
    );
    assert_within(
        &a["frequencies"],
        &[1.0, 0.046415888336127795, 0.0021544346900318843],
        1e-15,
        "θ",
    );
}

#[test]
fn rope_scores_depend_only_on_the_offset() {
    // The same two tokens at positions (7, 42) and (1007, 1042): every score is the same.
    let near = answer(&["--pairing", "interleaved"], &rope_problem(""));
    let far = answer(
        &["--pairing", "interleaved"],
        &format!(r#"{{"method":"rope","x":{X},"k":{K},"positions":[1007,1042]}}"#),
    );
    let expected: Vec<f64> = super::flat(&near["scores"]);
    assert_within(&far["scores"], &expected, 1e-9, "shifted scores");
}

#[test]
fn yarn_ntk_and_linear_follow_the_reference_code() {
    let p = r#"{"method":"rope","x":[[1.0,2.0,-1.0,0.5,0.3,-0.7,1.1,0.2]],"positions":[100],"scaling":"yarn","factor":4,"original_context":64}"#;
    let a = answer(&[], p);
    assert_within(
        &a["frequencies"],
        &[1.0, 0.0625, 0.0025, 0.00025],
        1e-15,
        "YaRN θ",
    );
    assert_eq!(a["conventions"]["ramp_low"], 0.0);
    assert_eq!(a["conventions"]["ramp_high"], 2.0);
    assert_within(
        &a["conventions"]["magnitude_scale"],
        &[1.138629436111989],
        1e-14,
        "mscale",
    );
    assert_within(
        &a["rotated"],
        &[
            1.154830498622639,
            2.249559872151107,
            -1.4131037780539293,
            0.5634442623096717,
            -0.282004329012795,
            -0.8721594345031565,
            0.9318539941938717,
            0.24188611199635815,
        ],
        1e-12,
        "YaRN rotated",
    );
    let ntk = answer(
        &[],
        &p.replace("yarn", "ntk")
            .replace(r#","original_context":64"#, ""),
    );
    assert_within(
        &ntk["conventions"]["effective_base"],
        &[63496.04207872797],
        1e-8,
        "NTK base",
    );
    assert_within(
        &ntk["frequencies"],
        &[1.0, 0.06299605249474366, 0.003968502629920499, 0.00025],
        1e-15,
        "NTK θ",
    );
    let linear = answer(
        &[],
        &p.replace("yarn", "linear")
            .replace(r#","original_context":64"#, ""),
    );
    assert_within(
        &linear["frequencies"],
        &[0.25, 0.025, 0.0025, 0.00025],
        1e-15,
        "PI θ",
    );
}

#[test]
fn sinusoids_in_the_papers_layout_and_tensor2tensors() {
    let p = r#"{"method":"sinusoidal","positions":[0,1,17,300],"dim":8}"#;
    let paper = answer(&[], p);
    assert_within(
        &paper["encoding"],
        &[
            0.0,
            1.0,
            0.0,
            1.0,
            0.0,
            1.0,
            0.0,
            1.0,
            0.8414709848078965,
            0.5403023058681398,
            0.09983341664682815,
            0.9950041652780258,
            0.009999833334166664,
            0.9999500004166653,
            0.0009999998333333417,
            0.9999995000000417,
            -0.9613974918795568,
            -0.27516333805159693,
            0.9916648104524686,
            -0.12884449429552486,
            0.16918234906699603,
            0.9855847669095608,
            0.01699918117849873,
            0.9998555034800082,
            -0.9997558399011495,
            -0.022096619278683942,
            -0.9880316240928618,
            0.15425144988758405,
            0.1411200080598672,
            -0.9899924966004454,
            0.29552020666133955,
            0.955336489125606,
        ],
        1e-12,
        "paper",
    );
    let t2t = answer(&["--layout", "tensor2tensor"], p);
    assert_within(
        &t2t["encoding"],
        &[
            0.0,
            0.0,
            0.0,
            0.0,
            1.0,
            1.0,
            1.0,
            1.0,
            0.8414709848078965,
            0.04639922346473126,
            0.0021544330233656027,
            9.999999983333325e-05,
            0.5403023058681398,
            0.9989229760406304,
            0.9999976792064809,
            0.999999995,
            -0.9613974918795568,
            0.709698460834362,
            0.036617201946390496,
            0.0016999991811667834,
            -0.27516333805159693,
            0.7045055675360823,
            0.9993293653854155,
            0.999998555000348,
            -0.9997558399011495,
            0.977527701895581,
            0.6022610340763312,
            0.029995500202495636,
            -0.022096619278683942,
            0.2108070018446825,
            0.7982992213658411,
            0.9995500337489875,
        ],
        1e-12,
        "tensor2tensor",
    );
}

#[test]
fn alibi_slopes_follow_the_reference_rule_for_any_head_count() {
    let a = answer(&[], r#"{"method":"alibi","heads":12}"#);
    assert_within(
        &a["slopes"],
        &[
            0.5,
            0.25,
            0.125,
            0.0625,
            0.03125,
            0.015625,
            0.0078125,
            0.00390625,
            std::f64::consts::FRAC_1_SQRT_2,
            0.35355339059327384,
            0.17677669529663692,
            0.08838834764831849,
        ],
        1e-14,
        "12 heads",
    );
    let a = answer(&[], r#"{"method":"alibi","heads":6,"length":3}"#);
    assert_within(
        &a["slopes"],
        &[0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125],
        1e-14,
        "6 heads",
    );
    // Head 5 (slope 1/2): −m·|i − j|.
    assert_within(
        &a["bias"][4],
        &[0.0, -0.5, -1.0, -0.5, 0.0, -0.5, -1.0, -0.5, 0.0],
        1e-15,
        "bias",
    );
}

#[test]
fn bad_input_is_refused_with_a_message_naming_it() {
    fails(
        &[],
        r#"{"method":"alibi","heads":6,"dim":3}"#,
        "alibi does not use dim",
    );
    fails(
        &[],
        r#"{"method":"alibi","heads":0}"#,
        "heads must be a whole number",
    );
    fails(
        &[],
        r#"{"method":"sinusoidal","positions":[1],"dim":5}"#,
        "dim must be even",
    );
    fails(&[], r#"{"method":"rope","x":[[1,2,3]]}"#, "even width");
    fails(
        &[],
        r#"{"method":"rope","x":[[1,2,3,4]],"positions":[1,2]}"#,
        "one position per row",
    );
    fails(
        &[],
        r#"{"method":"rope","x":[[1,2,3,4]],"scaling":"yarn"}"#,
        "needs factor",
    );
    fails(
        &[],
        r#"{"method":"rope","x":[[1,2,3,4]],"factor":2}"#,
        "rope does not use factor",
    );
    fails(
        &[],
        r#"{"method":"rope","x":[[1,2,3,4]],"scaling":"linear","factor":0.5}"#,
        "factor must be",
    );
    fails(
        &[],
        r#"{"method":"rope","x":[[1,2,3,4]],"scaling":"warp","factor":2}"#,
        "unknown scaling",
    );
    fails(
        &["--layout", "paper"],
        r#"{"method":"alibi","heads":4}"#,
        "alibi does not use --layout",
    );
    fails(
        &[],
        r#"{"method":"rope","x":[[1,2,3,4]],"base":1}"#,
        "base must be",
    );
    let e = error(
        &["--pairing", "diagonal"],
        r#"{"method":"rope","x":[[1,2,3,4]]}"#,
    );
    assert!(
        e.contains("interleaved") && e.contains("rotate-half"),
        "{e}"
    );
    assert!(help("posenc").contains("rotate_half"));
}

//! What every topic shares: numbers read and printed exactly, JSON errors with their line and column, the
//! extremes of the doubles.

use serde_json::Value;

use super::{answer, error, fails, list, run, Rng};

/// The number at `path` in `v`.
fn number(v: &Value, path: &[&str]) -> f64 {
    let mut at = v;
    for key in path {
        at = match key.parse::<usize>() {
            Ok(i) => &at[i],
            Err(_) => &at[*key],
        };
    }
    at.as_f64().expect("a number")
}

/// Checks that the test's own JSON parser reads exactly, so the comparisons below test `dlf`, not serde_json.
fn parser_is_exact() {
    let text = "0.18905338179353307";
    let parsed: f64 = serde_json::from_str(text).expect("a number");
    assert_eq!(
        parsed.to_bits(),
        text.parse::<f64>().expect("a number").to_bits()
    );
}

#[test]
fn a_full_precision_double_comes_back_bit_identical() {
    parser_is_exact();
    // Before: read as 0.1890533817935331, one ulp off.
    let text = "0.18905338179353307";
    let exact: f64 = text.parse().expect("a number");
    let out = run(
        &["optim"],
        &format!(r#"{{"optimizer":"sgd","lr":{text},"params":[{text}],"grads":[[0.0]]}}"#),
    );
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!(r#""lr": {text},"#)), "{stdout}");
    assert!(
        stdout.contains(&format!(r#""params": [{text}],"#)),
        "{stdout}"
    );
    let a: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        number(&a, &["hyperparameters", "lr"]).to_bits(),
        exact.to_bits()
    );
}

#[test]
fn random_full_precision_doubles_are_echoed_bit_identical() {
    parser_is_exact();
    let mut rng = Rng::new(8);
    // SGD with zero gradients keeps the parameters exactly (p − lr·0 = p), so every input number is echoed:
    // doubles of every magnitude, from their bits, and in [0, 1) with all 53 bits.
    let mut params: Vec<f64> = (0..200).map(|_| rng.any_double()).collect();
    params.extend((0..200).map(|_| rng.uniform(0.0, 1.0)));
    params.retain(|&p| p != 0.0);
    let lr = rng.uniform(0.0, 1.0);
    let zeros = list(&vec![0.0; params.len()]);
    let a = answer(
        &["optim"],
        &format!(
            r#"{{"optimizer":"sgd","lr":{lr:?},"params":{},"grads":[{zeros}]}}"#,
            list(&params)
        ),
    );
    assert_eq!(
        number(&a, &["hyperparameters", "lr"]).to_bits(),
        lr.to_bits()
    );
    let echoed = a["steps"][0]["params"].as_array().expect("params");
    assert_eq!(echoed.len(), params.len());
    for (e, p) in echoed.iter().zip(&params) {
        let e = e.as_f64().expect("a number");
        assert_eq!(e.to_bits(), p.to_bits(), "{p:?} came back as {e:?}");
    }
    // BatchNorm in evaluation mode echoes its running statistics, eps and momentum.
    let mean: Vec<f64> = (0..50).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let var: Vec<f64> = (0..50).map(|_| rng.uniform(0.5, 2.0)).collect();
    let eps = rng.uniform(1e-6, 1e-5);
    let momentum = rng.uniform(0.0, 1.0);
    let x = format!("[{}]", list(&vec![1.0; 50]));
    let a = answer(
        &["norm"],
        &format!(
            r#"{{"norm":"batchnorm","mode":"eval","x":{x},"running_mean":{},"running_var":{},"eps":{eps:?},"momentum":{momentum:?}}}"#,
            list(&mean),
            list(&var)
        ),
    );
    assert_eq!(number(&a, &["conventions", "eps"]).to_bits(), eps.to_bits());
    assert_eq!(
        number(&a, &["conventions", "momentum"]).to_bits(),
        momentum.to_bits()
    );
    for (key, want) in [("mean", &mean), ("var", &var)] {
        let got = a["running"][key].as_array().expect("running statistics");
        for (g, w) in got.iter().zip(want.iter()) {
            assert_eq!(g.as_f64().expect("a number").to_bits(), w.to_bits());
        }
    }
}

#[test]
fn extreme_doubles_are_read_and_printed_exactly() {
    let a = answer(
        &["optim"],
        r#"{"optimizer":"sgd","lr":0.5,"params":[1e308,5e-324,-0.0,-1.7976931348623157e308,2.2250738585072014e-308],
            "grads":[[0,0,0,0,0]]}"#,
    );
    let params = a["steps"][0]["params"].as_array().expect("params");
    let bits: Vec<u64> = params
        .iter()
        .map(|v| v.as_f64().expect("a number").to_bits())
        .collect();
    let want: Vec<u64> = [1e308, 5e-324, -0.0, f64::MIN, f64::MIN_POSITIVE]
        .iter()
        .map(|v: &f64| v.to_bits())
        .collect();
    assert_eq!(bits, want);
    let out = run(
        &["optim"],
        r#"{"optimizer":"sgd","lr":0.5,"params":[1e308,5e-324,-0.0],"grads":[[0,0,0]]}"#,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[1e+308, 5e-324, -0.0]"), "{text}");
    // A number no double holds is refused where it stands, not read as infinity.
    fails(
        &["optim"],
        r#"{"optimizer":"sgd","lr":1e309,"params":[1],"grads":[[1]]}"#,
        "number out of range at line 1 column 29",
    );
    // The smallest subnormal survives a forward pass.
    let a = answer(
        &["backprop"],
        r#"{"x":[[5e-324]],"w1":[[1]],"b1":[0],"w2":[[1]],"b2":[0],"activation":"relu","loss":"mse","targets":[[0]]}"#,
    );
    assert_eq!(number(&a, &["forward", "z1", "0", "0"]), 5e-324);
}

#[test]
fn bad_json_names_its_line_and_column() {
    let e = error(&["backprop"], "{\"x\": [[1, 2],\n [3, }");
    assert!(
        e.contains("the problem is not valid: expected value at line 2 column 6"),
        "{e}"
    );
    let e = error(&["norm"], "");
    assert!(
        e.contains("EOF while parsing a value at line 1 column 0"),
        "{e}"
    );
    let e = error(&["norm"], r#"{"norm":"layernorm","x":[[1,2]]} extra"#);
    assert!(e.contains("trailing characters at line 1 column"), "{e}");
    let e = error(
        &["optim"],
        r#"{"optimizer":"sgd","lr":"0.1","params":[1],"grads":[[1]]}"#,
    );
    assert!(
        e.contains("invalid type: string \"0.1\", expected f64 at line 1 column"),
        "{e}"
    );
    let e = error(
        &["optim"],
        r#"{"optimizer":"sgd","lr":0.1,"params":[1],"grads":[[null]]}"#,
    );
    assert!(e.contains("invalid type: null"), "{e}");
    let e = error(
        &["optim"],
        r#"{"optimizer":"sgd","lr":0.1,"params":[1],"grads":[[NaN]]}"#,
    );
    assert!(e.contains("at line 1 column"), "{e}");
    let e = error(&["norm"], r#"{"norm":"layernorm","x":[[1,2]],"x":[[1,2]]}"#);
    assert!(e.contains("duplicate field `x`"), "{e}");
}

#[test]
fn an_option_value_lists_the_names_from_the_engine() {
    for (topic, option, names) in [
        ("optim", "--momentum-style", "accumulate, ema"),
        ("optim", "--eps-placement", "outside, inside, hat"),
        ("optim", "--decay-scaling", "lr, schedule"),
        ("norm", "--momentum-convention", "pytorch, keras"),
        ("norm", "--running-variance", "unbiased, biased"),
        ("norm", "--rms-eps", "inside, outside"),
    ] {
        let e = error(&[topic, option, "nonsense"], "{}");
        assert!(e.contains(&format!("[possible values: {names}]")), "{e}");
    }
    // The engine's aliases are accepted too.
    let a = answer(
        &["norm", "--momentum-convention", "torch"],
        r#"{"norm":"bn","x":[[1,2],[3,4]]}"#,
    );
    assert_eq!(a["conventions"]["momentum_convention"], "pytorch");
    assert_eq!(a["norm"], "batchnorm");
}

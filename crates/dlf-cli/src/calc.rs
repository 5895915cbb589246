//! `dlf calc`: checkers for hand computations. Each topic reads one JSON problem on stdin and prints JSON with
//! every intermediate quantity, so a learner can compare a derivation done on paper line by line.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};
use dlf_engine::activation::Activation;
use dlf_engine::lessons::backprop::{
    forward_backward, Loss, Targets, TwoLayerProblem, TwoLayerTrace,
};
use dlf_engine::tensor::Tensor;
use serde::Deserialize;
use serde_json::{json, Value};

/// The conventions of `dlf calc backprop`, printed by `--help` and echoed in every answer.
pub const BACKPROP_CONVENTIONS: &str = "\
Reads one JSON object on stdin and prints every intermediate tensor and gradient of a two-layer MLP.

Input (all matrices are arrays of rows):
  x           B×D   the mini-batch, one example per row
  w1, b1      D×H, H   first layer:  Z1 = X·W1 + b1   (weights are input-major: W1[i][j] connects input i to unit j)
  w2, b2      H×C, C   second layer: Z2 = H1·W2 + b2
  activation  \"relu\" | \"tanh\" | \"sigmoid\" | \"gelu\"   H1 = act(Z1); gelu is the exact x·Φ(x) (PyTorch's default)
  loss        \"cross_entropy\" | \"mse\"
  targets     cross_entropy: B class indices in 0..C;  mse: a B×C matrix Y

Conventions:
  cross_entropy: P = softmax(Z2) row by row; L = -(1/B) Σ_b log P[b][y_b]  (mean over the batch)
  mse:           L = (1/(B·C)) Σ_b Σ_c (Z2[b][c] - Y[b][c])²   (mean over every element, as PyTorch's MSELoss)
  Every gradient is of that mean loss. The ReLU derivative at exactly 0 is taken as 0.
  dZ2 = (P - onehot(y))/B  or  2(Z2 - Y)/(B·C);  dW2 = H1ᵀ·dZ2;  db2 = Σ_b dZ2;  dH1 = dZ2·W2ᵀ;
  dZ1 = dH1 ⊙ act'(Z1);  dW1 = Xᵀ·dZ1;  db1 = Σ_b dZ1;  dX = dZ1·W1ᵀ

Output: {\"topic\", \"conventions\", \"shapes\", \"loss\", \"forward\": {z1, h1, z2, out}, \"backward\": {dz2, dw2, db2,
dh1, dz1, dw1, db1, dx}} where out is P for cross_entropy and Z2 for mse.

Example:
  echo '{\"x\":[[1,2]],\"w1\":[[0.1,0.2],[0.3,0.4]],\"b1\":[0,0],\"w2\":[[1,-1],[0.5,0.5]],\"b2\":[0,0],
         \"activation\":\"relu\",\"loss\":\"cross_entropy\",\"targets\":[1]}' | dlf calc backprop";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackpropInput {
    x: Vec<Vec<f64>>,
    w1: Vec<Vec<f64>>,
    b1: Vec<f64>,
    w2: Vec<Vec<f64>>,
    b2: Vec<f64>,
    activation: String,
    loss: String,
    targets: Value,
}

/// Reads a problem from `input` and returns the answer as pretty JSON.
pub fn backprop(mut input: impl Read) -> Result<String> {
    let mut text = String::new();
    input
        .read_to_string(&mut text)
        .context("could not read stdin")?;
    let answer = backprop_str(&text)?;
    Ok(pretty(&answer))
}

/// Pretty JSON in which an array of numbers (a vector, or one row of a matrix) stays on one line, so a matrix
/// reads as rows, as it would on paper.
pub fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write_pretty(value, 0, &mut out);
    out
}

fn write_pretty(value: &Value, depth: usize, out: &mut String) {
    let pad = |d: usize| "  ".repeat(d);
    match value {
        Value::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => {
            out.push_str(&Value::Array(items.clone()).to_string().replace(',', ", "));
        }
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Object(fields) => {
            out.push_str("{\n");
            for (i, (key, item)) in fields.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Solves one backprop problem given as JSON text.
pub fn backprop_str(text: &str) -> Result<Value> {
    let raw: BackpropInput = serde_json::from_str(text).map_err(|e| {
        anyhow!(
            "the problem is not valid: {e} (see `dlf calc backprop --help` for the expected fields)"
        )
    })?;
    let x = matrix("x", &raw.x)?;
    let w1 = matrix("w1", &raw.w1)?;
    let w2 = matrix("w2", &raw.w2)?;
    let activation = Activation::parse(&raw.activation).ok_or_else(|| {
        anyhow!(
            "unknown activation {:?}: use \"relu\", \"tanh\", \"sigmoid\" or \"gelu\"",
            raw.activation
        )
    })?;
    let (loss, targets) = match raw.loss.as_str() {
        "cross_entropy" | "softmax_cross_entropy" | "ce" => {
            let classes: Vec<usize> = serde_json::from_value(raw.targets.clone()).map_err(|_| {
                anyhow!("for loss \"cross_entropy\", targets must be an array of class indices (non-negative integers)")
            })?;
            (Loss::SoftmaxCrossEntropy, Targets::Classes(classes))
        }
        "mse" | "mean_squared_error" => {
            let rows: Vec<Vec<f64>> = serde_json::from_value(raw.targets.clone()).map_err(|_| {
                anyhow!("for loss \"mse\", targets must be a B×C matrix (an array of rows of numbers)")
            })?;
            (
                Loss::MeanSquaredError,
                Targets::Values(matrix("targets", &rows)?),
            )
        }
        other => bail!("unknown loss {other:?}: use \"cross_entropy\" or \"mse\""),
    };
    let problem = TwoLayerProblem {
        x,
        w1,
        b1: raw.b1,
        w2,
        b2: raw.b2,
        activation,
        loss,
        targets,
    };
    problem
        .validate()
        .map_err(|e| anyhow!("the shapes do not fit: {e}"))?;
    let trace = forward_backward(&problem).map_err(|e| anyhow!("the shapes do not fit: {e}"))?;
    Ok(report(&problem, &trace, &raw.loss))
}

/// A JSON matrix (an array of rows) as a tensor, with an error naming `name` when it is empty, ragged or not
/// finite.
pub(crate) fn matrix(name: &str, rows: &[Vec<f64>]) -> Result<Tensor> {
    let r = rows.len();
    if r == 0 {
        bail!("{name} is empty: it needs at least one row");
    }
    let c = rows[0].len();
    if c == 0 {
        bail!("{name} has an empty first row");
    }
    let mut data = Vec::with_capacity(r * c);
    for (i, row) in rows.iter().enumerate() {
        if row.len() != c {
            bail!(
                "{name} is ragged: row 0 has {c} entries but row {i} has {}",
                row.len()
            );
        }
        data.extend_from_slice(row);
    }
    if let Some(bad) = data.iter().find(|v| !v.is_finite()) {
        bail!("{name} contains a non-finite value {bad}");
    }
    Tensor::new(&[r, c], data).map_err(|e| anyhow!("{name}: {e}"))
}

fn rows(t: &Tensor) -> Value {
    let (r, c) = (t.rows(), t.cols());
    Value::Array(
        (0..r)
            .map(|i| json!(t.data()[i * c..(i + 1) * c].to_vec()))
            .collect(),
    )
}

fn shape(t: &Tensor) -> String {
    format!("{}×{}", t.rows(), t.cols())
}

fn report(p: &TwoLayerProblem, t: &TwoLayerTrace, loss_name: &str) -> Value {
    json!({
        "topic": "backprop",
        "conventions": {
            "layout": "Z1 = X·W1 + b1, Z2 = H1·W2 + b2; matrices are arrays of rows",
            "loss": if matches!(p.loss, Loss::SoftmaxCrossEntropy) {
                "cross_entropy: mean over the batch of -log softmax(Z2)[y]"
            } else {
                "mse: mean over all B·C elements of (Z2 - Y)^2"
            },
            "relu_at_zero": 0.0,
            "activation": p.activation.name(),
        },
        "shapes": {
            "x": shape(&p.x), "w1": shape(&p.w1), "b1": p.b1.len().to_string(),
            "w2": shape(&p.w2), "b2": p.b2.len().to_string(),
            "z1": shape(&t.z1), "h1": shape(&t.h1), "z2": shape(&t.z2), "out": shape(&t.out),
        },
        "loss_kind": loss_name,
        "loss": t.loss,
        "forward": { "z1": rows(&t.z1), "h1": rows(&t.h1), "z2": rows(&t.z2), "out": rows(&t.out) },
        "backward": {
            "dz2": rows(&t.dz2), "dw2": rows(&t.dw2), "db2": t.db2, "dh1": rows(&t.dh1),
            "dz1": rows(&t.dz1), "dw1": rows(&t.dw1), "db1": t.db1, "dx": rows(&t.dx),
        },
    })
}

//! `dlf calc backprop`: one forward and backward pass of a two-layer MLP on a mini-batch, with every
//! intermediate tensor and gradient (lesson 01). The pass is the engine's
//! (`dlf_engine::lessons::backprop::forward_backward`).

use anyhow::{anyhow, bail, Result};
use dlf_engine::activation::Activation;
use dlf_engine::lessons::backprop::{forward_backward, Loss, Targets, TwoLayerProblem, TwoLayerTrace};
use dlf_engine::tensor::Tensor;
use serde::Serialize;

use super::{check_finite, rows, Given, Name, Named, Numbers, Quantity, Topic, Uses};

/// `dlf calc backprop`.
#[derive(Debug)]
pub struct Backprop;

/// `dlf calc backprop` has no options: the problem says everything.
#[derive(Debug, clap::Args)]
pub struct Options {}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        Vec::new()
    }
}

problem! {
    /// A two-layer MLP problem as the learner writes it.
    pub struct Problem {
        required {
            x: Numbers,
            w1: Numbers,
            b1: Vec<f64>,
            w2: Numbers,
            b2: Vec<f64>,
            activation: Name<Activation>,
            loss: Name<Loss>,
            /// Class indices (cross-entropy) or a matrix (MSE).
            targets: Numbers,
        }
        optional {}
    }
}

const CONVENTIONS: &str = "\
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


/// Every intermediate of the pass, printed in this order.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    conventions: Conventions,
    shapes: Shapes,
    loss_kind: &'static str,
    loss: f64,
    forward: Forward,
    backward: Backward,
}

#[derive(Debug, Serialize)]
struct Conventions {
    layout: &'static str,
    loss: &'static str,
    relu_at_zero: f64,
    activation: &'static str,
}

#[derive(Debug, Serialize)]
struct Shapes {
    x: String,
    w1: String,
    b1: String,
    w2: String,
    b2: String,
    z1: String,
    h1: String,
    z2: String,
    out: String,
}

#[derive(Debug, Serialize)]
struct Forward {
    #[serde(serialize_with = "rows")]
    z1: Tensor,
    #[serde(serialize_with = "rows")]
    h1: Tensor,
    #[serde(serialize_with = "rows")]
    z2: Tensor,
    #[serde(serialize_with = "rows")]
    out: Tensor,
}

#[derive(Debug, Serialize)]
struct Backward {
    #[serde(serialize_with = "rows")]
    dz2: Tensor,
    #[serde(serialize_with = "rows")]
    dw2: Tensor,
    db2: Vec<f64>,
    #[serde(serialize_with = "rows")]
    dh1: Tensor,
    #[serde(serialize_with = "rows")]
    dz1: Tensor,
    #[serde(serialize_with = "rows")]
    dw1: Tensor,
    db1: Vec<f64>,
    #[serde(serialize_with = "rows")]
    dx: Tensor,
}

impl Topic for Backprop {
    const NAME: &'static str = "backprop";
    const ABOUT: &'static str =
        "Forward and backward pass of a two-layer MLP on a mini-batch (lesson 01)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        Uses {
            method: problem.loss.0.name(),
            fields: Vec::new(),
        }
    }

    fn solve(raw: Problem, _: &Options) -> Result<Answer> {
        let loss = raw.loss.0;
        let targets = match loss {
            Loss::SoftmaxCrossEntropy => Targets::Classes(classes(raw.targets)?),
            Loss::MeanSquaredError => match raw.targets.flat() {
                Ok(v) if !v.is_empty() => bail!(
                    "for loss \"mse\", targets must be a B×C matrix (an array of rows of numbers)"
                ),
                Ok(_) => bail!("targets is empty: it needs at least one row"),
                Err(matrix) => Targets::Values(matrix.matrix("targets")?),
            },
        };
        let problem = TwoLayerProblem {
            x: raw.x.matrix("x")?,
            w1: raw.w1.matrix("w1")?,
            b1: raw.b1,
            w2: raw.w2.matrix("w2")?,
            b2: raw.b2,
            activation: raw.activation.0,
            loss,
            targets,
        };
        problem
            .validate()
            .map_err(|e| anyhow!("the shapes do not fit: {e}"))?;
        let trace =
            forward_backward(&problem).map_err(|e| anyhow!("the shapes do not fit: {e}"))?;
        check(&problem, &trace)?;
        Ok(answer(problem, trace))
    }
}

/// Class indices: whole numbers ≥ 0.
fn classes(targets: Numbers) -> Result<Vec<usize>> {
    let wrong = || {
        anyhow!(
            "for loss \"cross_entropy\", targets must be an array of class indices (non-negative integers)"
        )
    };
    let values = targets.flat().map_err(|_| wrong())?;
    values
        .into_iter()
        .map(|v| {
            if v >= 0.0 && v.fract() == 0.0 && v < 9.0e15 {
                Ok(v as usize)
            } else {
                Err(wrong())
            }
        })
        .collect()
}

/// Every quantity in the order it is computed, so the first that is not finite is where the overflow happened.
fn check(p: &TwoLayerProblem, t: &TwoLayerTrace) -> Result<()> {
    let act = format!("{}(Z1)", p.activation.name());
    let ce = p.loss == Loss::SoftmaxCrossEntropy;
    let mut forward = vec![
        Quantity::matrix("z1", &t.z1, "X·W1 + b1"),
        Quantity::matrix("h1", &t.h1, &act),
        Quantity::matrix("z2", &t.z2, "H1·W2 + b2"),
    ];
    if ce {
        forward.push(Quantity::matrix("out", &t.out, "softmax(Z2)"));
        forward.push(Quantity::scalar("loss", &t.loss, "−(1/B) Σ_b log P[b][y_b]"));
    } else {
        forward.push(Quantity::scalar("loss", &t.loss, "(1/(B·C)) Σ (Z2 − Y)²"));
    }
    check_finite(Backprop::NAME, "forward", &forward, |_, _| None)?;
    let act_prime = format!("dH1 ⊙ {}'(Z1)", p.activation.name());
    let backward = [
        Quantity::matrix(
            "dz2",
            &t.dz2,
            if ce { "(P − onehot(y))/B" } else { "2(Z2 − Y)/(B·C)" },
        ),
        Quantity::matrix("dw2", &t.dw2, "H1ᵀ·dZ2"),
        Quantity::vector("db2", &t.db2, "Σ_b dZ2"),
        Quantity::matrix("dh1", &t.dh1, "dZ2·W2ᵀ"),
        Quantity::matrix("dz1", &t.dz1, &act_prime),
        Quantity::matrix("dw1", &t.dw1, "Xᵀ·dZ1"),
        Quantity::vector("db1", &t.db1, "Σ_b dZ1"),
        Quantity::matrix("dx", &t.dx, "dZ1·W1ᵀ"),
    ];
    check_finite(Backprop::NAME, "backward", &backward, |_, _| None)
}

fn shape(t: &Tensor) -> String {
    format!("{}×{}", t.rows(), t.cols())
}

fn answer(p: TwoLayerProblem, t: TwoLayerTrace) -> Answer {
    let ce = p.loss == Loss::SoftmaxCrossEntropy;
    Answer {
        topic: Backprop::NAME,
        conventions: Conventions {
            layout: "Z1 = X·W1 + b1, Z2 = H1·W2 + b2; matrices are arrays of rows",
            loss: if ce {
                "cross_entropy: mean over the batch of -log softmax(Z2)[y]"
            } else {
                "mse: mean over all B·C elements of (Z2 - Y)^2"
            },
            relu_at_zero: 0.0,
            activation: p.activation.name(),
        },
        shapes: Shapes {
            x: shape(&p.x),
            w1: shape(&p.w1),
            b1: p.b1.len().to_string(),
            w2: shape(&p.w2),
            b2: p.b2.len().to_string(),
            z1: shape(&t.z1),
            h1: shape(&t.h1),
            z2: shape(&t.z2),
            out: shape(&t.out),
        },
        loss_kind: p.loss.name(),
        loss: t.loss,
        forward: Forward {
            z1: t.z1,
            h1: t.h1,
            z2: t.z2,
            out: t.out,
        },
        backward: Backward {
            dz2: t.dz2,
            dw2: t.dw2,
            db2: t.db2,
            dh1: t.dh1,
            dz1: t.dz1,
            dw1: t.dw1,
            db1: t.db1,
            dx: t.dx,
        },
    }
}

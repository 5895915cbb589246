//! The trainer widget's run: mini-batch SGD on a 2-D data set with the explicit [`Mlp`], recording the loss
//! and every layer's weight-gradient norm at every step, and full-training-set statistics before and after.
//!
//! Full-batch training at the widget's largest settings costs about a GFLOP per render, far over a frame, so
//! the widget trains with mini-batches drawn without replacement (reshuffled every epoch); claims that quote
//! training results use the full-batch [`Mlp::train`].

use crate::activation::Activation;
use crate::lessons::backprop::datasets::{make_dataset, Dataset2D, DatasetKind};
use crate::lessons::backprop::mlp::{Mlp, MlpConfig, StepStats};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct MinibatchConfig {
    /// The 2-D data set.
    pub dataset: DatasetKind,
    /// Training-set size.
    pub points: usize,
    /// The data set's noise level.
    pub noise: f64,
    /// The hidden layers' activation.
    pub activation: Activation,
    /// Number of hidden layers (at least 1).
    pub depth: usize,
    /// Units per hidden layer (at least 1).
    pub width: usize,
    /// The learning rate.
    pub lr: f64,
    /// Mini-batch steps to take.
    pub steps: usize,
    /// Examples per mini-batch (at most `points`).
    pub batch: usize,
    /// Seeds the data, the initial weights and (through a stream of its own) the batch order.
    pub seed: u64,
}

/// The history of one training run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The training set.
    pub data: Dataset2D,
    /// The network after the last step.
    pub mlp: Mlp,
    /// Full-training-set statistics before the first step.
    pub initial: StepStats,
    /// Full-training-set statistics after the last step.
    pub last: StepStats,
    /// The mini-batch loss of every step taken.
    pub losses: Vec<f64>,
    /// The weight-gradient norms of every step taken, `layers` per step (input layer first).
    pub norms: Vec<f64>,
    /// Number of weight matrices.
    pub layers: usize,
    /// The step (counting from 1) whose loss or gradients stopped being finite numbers, after which training
    /// stops: with too large a learning rate the weights overflow to infinity or NaN.
    pub diverged_at: Option<usize>,
}

impl Run {
    /// The gradient norms of step `i` (counting from 0).
    pub fn step_norms(&self, i: usize) -> &[f64] {
        &self.norms[i * self.layers..(i + 1) * self.layers]
    }

    /// Whether step `i`'s loss and gradient norms are all finite numbers.
    pub fn step_finite(&self, i: usize) -> bool {
        self.losses[i].is_finite() && self.step_norms(i).iter().all(|g| g.is_finite())
    }
}

/// Packs points into an `n×2` tensor.
pub fn points_tensor(points: impl ExactSizeIterator<Item = [f64; 2]>) -> Tensor {
    let n = points.len();
    let mut data = Vec::with_capacity(2 * n);
    for [a, b] in points {
        data.push(a);
        data.push(b);
    }
    Tensor::new(&[n, 2], data).expect("2·n values form an n×2 tensor")
}

/// A training run that can be advanced a few steps at a time (the widget spreads a long run over several
/// animation frames) and gives the same [`Run`] as [`train_minibatch`] however it is sliced: every step's
/// randomness comes from the batch-order stream, which the slicing never touches.
#[derive(Debug, Clone)]
pub struct MinibatchTraining {
    data: Dataset2D,
    mlp: Mlp,
    all_x: Tensor,
    initial: StepStats,
    lr: f64,
    steps: usize,
    order_rng: Rng,
    order: Vec<usize>,
    cursor: usize,
    losses: Vec<f64>,
    norms: Vec<f64>,
    layers: usize,
    diverged_at: Option<usize>,
    // One batch tensor and label vector, refilled every step: the loop allocates nothing.
    xb: Tensor,
    yb: Vec<usize>,
}

impl MinibatchTraining {
    /// Builds the data set and the network and measures the full training set before the first step.
    pub fn new(cfg: &MinibatchConfig) -> Self {
        let seed = cfg.seed;
        let data = make_dataset(cfg.dataset, cfg.points, cfg.noise, seed);
        let net = MlpConfig {
            input: 2,
            hidden: vec![cfg.width.max(1); cfg.depth.max(1)],
            output: data.classes,
            activation: cfg.activation,
            seed,
        };
        let mut mlp = Mlp::new(&net);
        let layers = mlp.layers();
        let all_x = points_tensor(data.x.iter().copied());
        // Full-set statistics come from the gradient computation without an update.
        let initial = mlp
            .compute_gradients(&all_x, &data.y)
            .expect("the data set's points and labels fit the network built for it");
        // The batch order has its own stream so that changing the step count never changes the data or the
        // initial weights; the constant only separates this stream from the other uses of `seed`.
        let order_rng = Rng::new(seed ^ 0x6d6c_702d_6261_7463);
        let order: Vec<usize> = (0..data.x.len()).collect();
        let cursor = order.len();
        let batch = cfg.batch.min(order.len());
        MinibatchTraining {
            mlp,
            all_x,
            initial,
            lr: cfg.lr,
            steps: cfg.steps,
            order_rng,
            cursor,
            losses: Vec::with_capacity(cfg.steps),
            norms: Vec::with_capacity(cfg.steps * layers),
            layers,
            diverged_at: None,
            xb: Tensor::zeros(&[batch, 2]),
            yb: vec![0; batch],
            order,
            data,
        }
    }

    /// Steps taken so far.
    pub fn steps_done(&self) -> usize {
        self.losses.len()
    }

    /// Whether the run is over: every step taken, or stopped at a divergence.
    pub fn finished(&self) -> bool {
        self.diverged_at.is_some() || self.losses.len() >= self.steps
    }

    /// Takes up to `n` more steps (fewer at the end of the run or at a divergence); returns
    /// [`MinibatchTraining::finished`].
    pub fn advance(&mut self, n: usize) -> bool {
        let batch = self.yb.len();
        for _ in 0..n {
            if self.finished() {
                break;
            }
            let step = self.losses.len();
            if self.cursor + batch > self.order.len() {
                self.order_rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            let idx = &self.order[self.cursor..self.cursor + batch];
            self.cursor += batch;
            for ((row, y), &i) in self.xb.data_mut().chunks_exact_mut(2).zip(&mut self.yb).zip(idx) {
                row.copy_from_slice(&self.data.x[i]);
                *y = self.data.y[i];
            }
            let (loss, _) = self
                .mlp
                .train_step_recording(&self.xb, &self.yb, self.lr, &mut self.norms)
                .expect("the batch's points and labels fit the network built for it");
            self.losses.push(loss);
            let ok = loss.is_finite() && self.norms[step * self.layers..].iter().all(|g| g.is_finite());
            if !ok {
                self.diverged_at = Some(step + 1);
            }
        }
        self.finished()
    }

    /// The run so far as a [`Run`]: `last` measures the full training set with the current weights (after the
    /// last step when the run is finished).
    pub fn run(&self) -> Run {
        let mut mlp = self.mlp.clone();
        let last = mlp
            .compute_gradients(&self.all_x, &self.data.y)
            .expect("the data set's points and labels fit the network built for it");
        Run {
            data: self.data.clone(),
            mlp,
            initial: self.initial.clone(),
            last,
            losses: self.losses.clone(),
            norms: self.norms.clone(),
            layers: self.layers,
            diverged_at: self.diverged_at,
        }
    }
}

/// Trains a fresh network as `cfg` says.
pub fn train_minibatch(cfg: &MinibatchConfig) -> Run {
    let mut training = MinibatchTraining::new(cfg);
    training.advance(cfg.steps);
    training.run()
}

//! Optimizers (lesson 02): SGD with heavy-ball and Nesterov momentum, RMSProp, Adam, AdamW, Lion and LAMB,
//! a warm-up + cosine learning-rate schedule, the 2-D test surfaces of the optimizer race, and the small
//! experiments the lesson's claims measure.
//!
//! # The update rules
//!
//! Every optimizer works on one flat parameter vector split into *groups* (layers): LAMB's trust ratio is
//! computed per group; the others treat every coordinate alike. `t` counts steps from 1; `g` is the gradient,
//! `λ` the weight decay, `η` the learning rate of this step.
//!
//! - **SGD with momentum** (Polyak 1964, "Some methods of speeding up the convergence of iteration methods";
//!   PyTorch's `torch.optim.SGD`): `g ← g + λp` (L2), then with [`MomentumStyle::Accumulate`]
//!   `b₁ = g`, `b_t = μ b_{t−1} + (1 − τ) g` (τ = dampening) and with [`MomentumStyle::Ema`]
//!   `b_t = μ b_{t−1} + (1 − μ) g` from `b₀ = 0`. The direction is `b_t`, or with Nesterov momentum
//!   (Nesterov 1983; Sutskever, Martens, Dahl & Hinton 2013, in PyTorch's rewritten form) `g + μ b_t`
//!   (EMA style: `(1 − μ) g + μ b_t`). Then `p ← p − η · direction`.
//! - **RMSProp** (Tieleman & Hinton 2012, Coursera lecture 6.5): `v_t = α v_{t−1} + (1 − α) g²`,
//!   `p ← p − η g / (√v_t + ε)` (PyTorch) or `/ √(v_t + ε)` (TensorFlow's placement); optional momentum
//!   `b_t = μ b_{t−1} + g/(√v_t + ε)`, `p ← p − η b_t`.
//! - **Adam** (Kingma & Ba 2015, "Adam: A method for stochastic optimization", ICLR): `g ← g + λp` (L2,
//!   coupled), `m_t = β₁ m_{t−1} + (1 − β₁) g`, `v_t = β₂ v_{t−1} + (1 − β₂) g²`, `m̂ = m_t / (1 − β₁ᵗ)`,
//!   `v̂ = v_t / (1 − β₂ᵗ)`, `p ← p − η m̂ / (√v̂ + ε)`; see [`EpsPlacement`] for the other two places ε sits.
//! - **AdamW** (Loshchilov & Hutter 2019, "Decoupled weight decay regularization", ICLR): the Adam step on the
//!   raw gradient plus a separate decay `p ← p − η λ p` (PyTorch's `AdamW`, [`DecayScaling::Lr`]) or
//!   `p ← p − s_t λ p` with `s_t = η_t / η₀` the schedule multiplier alone (the paper, [`DecayScaling::Schedule`]).
//! - **Lion** (Chen et al. 2023, "Symbolic discovery of optimization algorithms", NeurIPS):
//!   `c = β₁ m + (1 − β₁) g`, `p ← p − η (sign(c) + λ p)`, then `m ← β₂ m + (1 − β₂) g`.
//! - **LAMB** (You et al. 2020, "Large batch optimization for deep learning: training BERT in 76 minutes",
//!   ICLR): per group, `r = m̂/(√v̂ + ε)`, `u = r + λ p`, trust ratio `φ = ‖p‖/‖u‖` (1 when either norm is 0),
//!   `p ← p − η φ u`.
//!
//! # Example
//!
//! ```
//! use dlf_engine::optim::{Config, Kind, Optimizer};
//!
//! // Adam on a constant gradient: the bias-corrected step is lr · sign(g), whatever the gradient's scale.
//! let mut opt = Optimizer::new(Config::new(Kind::Adam, 0.01), &[1]).unwrap();
//! let mut p = [0.0];
//! opt.step(&mut p, &[1234.5], 0.01).unwrap();
//! assert!((p[0] + 0.01).abs() < 1e-9);
//! ```

use std::fmt;

use crate::rng::Rng;

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Stochastic gradient descent, optionally with heavy-ball or Nesterov momentum.
    Sgd,
    /// RMSProp: the gradient divided by a running root-mean-square.
    RmsProp,
    /// Adam with weight decay as an L2 term added to the gradient (PyTorch's `Adam(weight_decay=λ)`).
    Adam,
    /// Adam with decoupled weight decay.
    AdamW,
    /// Lion: the sign of an interpolated momentum.
    Lion,
    /// LAMB: Adam's direction scaled per group by the trust ratio ‖p‖/‖u‖.
    Lamb,
}

impl Kind {
    /// Every kind, in the lesson's order.
    pub const ALL: [Kind; 6] = [
        Kind::Sgd,
        Kind::RmsProp,
        Kind::Adam,
        Kind::AdamW,
        Kind::Lion,
        Kind::Lamb,
    ];

    /// Parses `sgd`, `rmsprop`, `adam`, `adamw`, `lion`, `lamb` (case-insensitive).
    pub fn parse(s: &str) -> Option<Kind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sgd" => Some(Kind::Sgd),
            "rmsprop" => Some(Kind::RmsProp),
            "adam" => Some(Kind::Adam),
            "adamw" => Some(Kind::AdamW),
            "lion" => Some(Kind::Lion),
            "lamb" => Some(Kind::Lamb),
            _ => None,
        }
    }

    /// The lower-case name [`Kind::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sgd => "sgd",
            Kind::RmsProp => "rmsprop",
            Kind::Adam => "adam",
            Kind::AdamW => "adamw",
            Kind::Lion => "lion",
            Kind::Lamb => "lamb",
        }
    }

    /// How many state values per parameter the optimizer keeps (SGD's momentum buffer only when
    /// `momentum > 0`; RMSProp's momentum buffer only when its momentum is positive).
    pub fn state_slots(self, momentum: bool) -> usize {
        match self {
            Kind::Sgd => usize::from(momentum),
            Kind::RmsProp => 1 + usize::from(momentum),
            Kind::Adam | Kind::AdamW | Kind::Lamb => 2,
            Kind::Lion => 1,
        }
    }
}

/// How SGD's momentum buffer accumulates gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentumStyle {
    /// `b = μ b + (1 − τ) g`, first step `b = g` (PyTorch `SGD`; τ = dampening, 0 by default). The
    /// stationary buffer under a constant gradient is `g/(1 − μ)`, so momentum also multiplies the step.
    Accumulate,
    /// `b = μ b + (1 − μ) g` from `b = 0`: an exponential moving average whose stationary value is `g`, so
    /// momentum smooths without changing the step size (the form of Adam's first moment).
    Ema,
}

impl MomentumStyle {
    /// Parses `accumulate` (alias `pytorch`) or `ema`.
    pub fn parse(s: &str) -> Option<MomentumStyle> {
        match s.trim().to_ascii_lowercase().as_str() {
            "accumulate" | "pytorch" => Some(MomentumStyle::Accumulate),
            "ema" => Some(MomentumStyle::Ema),
            _ => None,
        }
    }

    /// The name [`MomentumStyle::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            MomentumStyle::Accumulate => "accumulate",
            MomentumStyle::Ema => "ema",
        }
    }
}

/// Where ε enters the denominator of RMSProp, Adam, AdamW and LAMB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpsPlacement {
    /// `√v̂ + ε` (Kingma & Ba's Algorithm 1; PyTorch's `Adam`, `AdamW`, `RMSprop`).
    Outside,
    /// `√(v̂ + ε)` (TensorFlow's RMSProp puts ε under the root).
    Inside,
    /// Kingma & Ba's faster form (the formula before their Section 2.1, used by TensorFlow's Adam):
    /// `η_t = η √(1 − β₂ᵗ)/(1 − β₁ᵗ)`, `p ← p − η_t m/(√v + ε̂)`, i.e. ε added to the *uncorrected* `√v`.
    /// For RMSProp, which has no bias correction, it equals [`EpsPlacement::Outside`].
    Hat,
}

impl EpsPlacement {
    /// Parses `outside`, `inside` or `hat`.
    pub fn parse(s: &str) -> Option<EpsPlacement> {
        match s.trim().to_ascii_lowercase().as_str() {
            "outside" => Some(EpsPlacement::Outside),
            "inside" => Some(EpsPlacement::Inside),
            "hat" => Some(EpsPlacement::Hat),
            _ => None,
        }
    }

    /// The name [`EpsPlacement::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            EpsPlacement::Outside => "outside",
            EpsPlacement::Inside => "inside",
            EpsPlacement::Hat => "hat",
        }
    }
}

/// What multiplies the decoupled weight decay of AdamW and Lion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecayScaling {
    /// `p ← p − η_t λ p`: the full learning rate (PyTorch's `AdamW`; Lion's paper).
    Lr,
    /// `p ← p − (η_t/η₀) λ p`: only the schedule multiplier (Loshchilov & Hutter's Algorithm 2, where the
    /// decay is `η_t λ` with `η_t` the schedule multiplier, not the step size α).
    Schedule,
}

impl DecayScaling {
    /// Parses `lr` or `schedule`.
    pub fn parse(s: &str) -> Option<DecayScaling> {
        match s.trim().to_ascii_lowercase().as_str() {
            "lr" => Some(DecayScaling::Lr),
            "schedule" => Some(DecayScaling::Schedule),
            _ => None,
        }
    }

    /// The name [`DecayScaling::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            DecayScaling::Lr => "lr",
            DecayScaling::Schedule => "schedule",
        }
    }
}

/// Hyperparameters of one optimizer. Fields an optimizer does not use are ignored by it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// The update rule.
    pub kind: Kind,
    /// Base learning rate η₀ (the schedule multiplies it; [`DecayScaling::Schedule`] divides by it).
    pub lr: f64,
    /// SGD's and RMSProp's momentum μ (0 disables it).
    pub momentum: f64,
    /// SGD's dampening τ ([`MomentumStyle::Accumulate`] only).
    pub dampening: f64,
    /// Nesterov momentum for SGD.
    pub nesterov: bool,
    /// How SGD's buffer accumulates.
    pub momentum_style: MomentumStyle,
    /// RMSProp's smoothing constant α (PyTorch's name; Hinton's lecture uses 0.9).
    pub alpha: f64,
    /// First-moment decay β₁ (Adam, AdamW, LAMB, Lion).
    pub beta1: f64,
    /// Second-moment decay β₂ (Adam, AdamW, LAMB), or Lion's momentum decay.
    pub beta2: f64,
    /// ε of the denominator.
    pub eps: f64,
    /// Where ε sits.
    pub eps_placement: EpsPlacement,
    /// Weight decay λ: an L2 gradient term for SGD, RMSProp and Adam; decoupled for AdamW and Lion; inside
    /// the trust-ratio direction for LAMB.
    pub weight_decay: f64,
    /// What multiplies the decoupled decay (AdamW, Lion).
    pub decay_scaling: DecayScaling,
    /// Whether Adam, AdamW and LAMB divide by `1 − βᵗ`.
    pub bias_correction: bool,
}

impl Config {
    /// The defaults of PyTorch for `kind` (Lion's from its paper, LAMB's from its paper's BERT runs), with
    /// learning rate `lr`: momentum 0, α = 0.99, β = (0.9, 0.999) or Lion's (0.9, 0.99), ε = 1e-8 (LAMB
    /// 1e-6), no weight decay, ε outside the root, decay scaled by lr, bias correction on.
    pub fn new(kind: Kind, lr: f64) -> Config {
        Config {
            kind,
            lr,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            momentum_style: MomentumStyle::Accumulate,
            alpha: 0.99,
            beta1: 0.9,
            beta2: if kind == Kind::Lion { 0.99 } else { 0.999 },
            eps: if kind == Kind::Lamb { 1e-6 } else { 1e-8 },
            eps_placement: EpsPlacement::Outside,
            weight_decay: 0.0,
            decay_scaling: DecayScaling::Lr,
            bias_correction: true,
        }
    }

    /// Checks every hyperparameter the kind uses: finite, lr ≥ 0, decays in [0, 1), ε ≥ 0, λ ≥ 0.
    ///
    /// # Errors
    /// [`OptimError::Hyperparameter`] naming the first bad value.
    pub fn validate(&self) -> Result<(), OptimError> {
        let bad = |name: &'static str, value: f64, expected: &'static str| {
            Err(OptimError::Hyperparameter {
                name,
                value,
                expected,
            })
        };
        if !(self.lr.is_finite() && self.lr >= 0.0) {
            return bad("lr", self.lr, "a finite number >= 0");
        }
        for (name, v) in [
            ("momentum", self.momentum),
            ("alpha", self.alpha),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
        ] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return bad(name, v, "a number in [0, 1)");
            }
        }
        if !(self.dampening.is_finite() && (0.0..=1.0).contains(&self.dampening)) {
            return bad("dampening", self.dampening, "a number in [0, 1]");
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return bad("eps", self.eps, "a finite number >= 0");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight_decay", self.weight_decay, "a finite number >= 0");
        }
        Ok(())
    }
}

/// An optimizer could not be built or stepped.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimError {
    /// A hyperparameter is out of its range.
    Hyperparameter {
        /// Its name (`"beta2"`).
        name: &'static str,
        /// The value given.
        value: f64,
        /// What was expected, in words.
        expected: &'static str,
    },
    /// Parameters, gradients and group sizes do not agree in length.
    Length {
        /// What was being checked (`"gradients"`, `"groups"`).
        what: &'static str,
        /// The length expected.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A gradient or parameter is NaN or infinite.
    NonFinite {
        /// `"gradient"` or `"parameter"`.
        what: &'static str,
        /// Its index in the flat vector.
        index: usize,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::Hyperparameter {
                name,
                value,
                expected,
            } => write!(
                f,
                "hyperparameter `{name}` = {value} is invalid; expected {expected}"
            ),
            OptimError::Length {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected length {expected}, got {got}"),
            OptimError::NonFinite { what, index } => {
                write!(f, "{what} [{index}] is not a finite number")
            }
        }
    }
}

impl std::error::Error for OptimError {}

/// What one step did, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct StepInfo {
    /// The step number `t` (1 for the first step).
    pub t: u64,
    /// The learning rate used.
    pub lr: f64,
    /// LAMB's trust ratio per group (empty for the other kinds).
    pub trust_ratios: Vec<f64>,
}

/// An optimizer's configuration and state for one flat parameter vector split into groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimizer {
    config: Config,
    groups: Vec<usize>,
    t: u64,
    /// First state slot: SGD/RMSProp momentum buffer (`b`) or Adam/Lion/LAMB first moment (`m`).
    m: Vec<f64>,
    /// Second state slot: RMSProp/Adam/LAMB second moment (`v`).
    v: Vec<f64>,
}

impl Optimizer {
    /// An optimizer with zero state for parameters split into groups of the given sizes.
    ///
    /// # Errors
    /// [`OptimError::Hyperparameter`] from [`Config::validate`]; [`OptimError::Length`] if a group is empty.
    pub fn new(config: Config, groups: &[usize]) -> Result<Optimizer, OptimError> {
        config.validate()?;
        if let Some(i) = groups.iter().position(|&g| g == 0) {
            return Err(OptimError::Length {
                what: "groups (every group needs at least one parameter)",
                expected: 1,
                got: groups[i],
            });
        }
        let n: usize = groups.iter().sum();
        Ok(Optimizer {
            config,
            groups: groups.to_vec(),
            t: 0,
            m: vec![0.0; n],
            v: vec![0.0; n],
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The number of steps taken.
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// The named state vectors the optimizer keeps, e.g. `[("momentum_buffer", b)]` or
    /// `[("exp_avg", m), ("exp_avg_sq", v)]` (PyTorch's state names).
    pub fn state(&self) -> Vec<(&'static str, &[f64])> {
        match self.config.kind {
            Kind::Sgd if self.config.momentum > 0.0 => vec![("momentum_buffer", &self.m)],
            Kind::Sgd => vec![],
            Kind::RmsProp if self.config.momentum > 0.0 => {
                vec![("square_avg", &self.v), ("momentum_buffer", &self.m)]
            }
            Kind::RmsProp => vec![("square_avg", &self.v)],
            Kind::Lion => vec![("exp_avg", &self.m)],
            Kind::Adam | Kind::AdamW | Kind::Lamb => {
                vec![("exp_avg", &self.m), ("exp_avg_sq", &self.v)]
            }
        }
    }

    /// One step with learning rate `lr` (the schedule's value for this step).
    ///
    /// # Errors
    /// [`OptimError::Length`] if `params` or `grads` do not have the total group length;
    /// [`OptimError::NonFinite`] for a NaN or infinite gradient or parameter (nothing is changed then).
    pub fn step(
        &mut self,
        params: &mut [f64],
        grads: &[f64],
        lr: f64,
    ) -> Result<StepInfo, OptimError> {
        let n = self.m.len();
        if params.len() != n {
            return Err(OptimError::Length {
                what: "parameters",
                expected: n,
                got: params.len(),
            });
        }
        if grads.len() != n {
            return Err(OptimError::Length {
                what: "gradients",
                expected: n,
                got: grads.len(),
            });
        }
        if let Some(index) = grads.iter().position(|g| !g.is_finite()) {
            return Err(OptimError::NonFinite {
                what: "gradient",
                index,
            });
        }
        if let Some(index) = params.iter().position(|p| !p.is_finite()) {
            return Err(OptimError::NonFinite {
                what: "parameter",
                index,
            });
        }
        if !(lr.is_finite() && lr >= 0.0) {
            return Err(OptimError::Hyperparameter {
                name: "lr",
                value: lr,
                expected: "a finite number >= 0",
            });
        }
        self.t += 1;
        let c = self.config;
        let bias = bias_factors(&c, self.t as f64);
        let mut trust_ratios = Vec::new();
        match c.kind {
            Kind::Sgd => {
                for i in 0..n {
                    let g = grads[i] + c.weight_decay * params[i];
                    let dir = if c.momentum > 0.0 {
                        let b = match c.momentum_style {
                            MomentumStyle::Accumulate if self.t == 1 => g,
                            MomentumStyle::Accumulate => {
                                c.momentum * self.m[i] + (1.0 - c.dampening) * g
                            }
                            MomentumStyle::Ema => c.momentum * self.m[i] + (1.0 - c.momentum) * g,
                        };
                        self.m[i] = b;
                        match (c.nesterov, c.momentum_style) {
                            (false, _) => b,
                            (true, MomentumStyle::Accumulate) => g + c.momentum * b,
                            (true, MomentumStyle::Ema) => (1.0 - c.momentum) * g + c.momentum * b,
                        }
                    } else {
                        g
                    };
                    params[i] -= lr * dir;
                }
            }
            Kind::RmsProp => {
                for i in 0..n {
                    let g = grads[i] + c.weight_decay * params[i];
                    self.v[i] = c.alpha * self.v[i] + (1.0 - c.alpha) * g * g;
                    let denom = match c.eps_placement {
                        EpsPlacement::Inside => (self.v[i] + c.eps).sqrt(),
                        EpsPlacement::Outside | EpsPlacement::Hat => self.v[i].sqrt() + c.eps,
                    };
                    if c.momentum > 0.0 {
                        self.m[i] = c.momentum * self.m[i] + g / denom;
                        params[i] -= lr * self.m[i];
                    } else {
                        params[i] -= lr * g / denom;
                    }
                }
            }
            Kind::Adam | Kind::AdamW => {
                let decoupled = c.kind == Kind::AdamW;
                let decay = decoupled_decay(&c, lr);
                for i in 0..n {
                    let g = if decoupled {
                        grads[i]
                    } else {
                        grads[i] + c.weight_decay * params[i]
                    };
                    if decoupled {
                        params[i] -= decay * params[i];
                    }
                    self.m[i] = c.beta1 * self.m[i] + (1.0 - c.beta1) * g;
                    self.v[i] = c.beta2 * self.v[i] + (1.0 - c.beta2) * g * g;
                    params[i] -= lr * adam_direction(&c, self.m[i], self.v[i], bias);
                }
            }
            Kind::Lion => {
                let decay = decoupled_decay(&c, lr);
                for i in 0..n {
                    let g = grads[i];
                    let interp = c.beta1 * self.m[i] + (1.0 - c.beta1) * g;
                    params[i] -= lr * sign(interp) + decay * params[i];
                    self.m[i] = c.beta2 * self.m[i] + (1.0 - c.beta2) * g;
                }
            }
            Kind::Lamb => {
                let mut start = 0;
                let mut u = Vec::new();
                for &size in &self.groups {
                    let range = start..start + size;
                    start += size;
                    u.clear();
                    for i in range.clone() {
                        let g = grads[i];
                        self.m[i] = c.beta1 * self.m[i] + (1.0 - c.beta1) * g;
                        self.v[i] = c.beta2 * self.v[i] + (1.0 - c.beta2) * g * g;
                        u.push(
                            adam_direction(&c, self.m[i], self.v[i], bias)
                                + c.weight_decay * params[i],
                        );
                    }
                    let p_norm = norm(&params[range.clone()]);
                    let ratio = trust_ratio(p_norm, norm(&u));
                    trust_ratios.push(ratio);
                    for (k, i) in range.enumerate() {
                        params[i] -= lr * ratio * u[k];
                    }
                }
            }
        }
        Ok(StepInfo {
            t: self.t,
            lr,
            trust_ratios,
        })
    }
}

/// The decoupled decay factor of one step: `η λ` or `(η/η₀) λ`.
fn decoupled_decay(c: &Config, lr: f64) -> f64 {
    match c.decay_scaling {
        DecayScaling::Lr => lr * c.weight_decay,
        DecayScaling::Schedule if c.lr > 0.0 => lr / c.lr * c.weight_decay,
        DecayScaling::Schedule => 0.0,
    }
}

/// Adam's bias-correction denominators `(1 − β₁ᵗ, 1 − β₂ᵗ)` at step `t`, or `(1, 1)` without correction;
/// computed once per step rather than once per coordinate.
fn bias_factors(c: &Config, t: f64) -> (f64, f64) {
    if c.bias_correction {
        (1.0 - c.beta1.powf(t), 1.0 - c.beta2.powf(t))
    } else {
        (1.0, 1.0)
    }
}

/// Adam's per-coordinate direction `m̂/(√v̂ + ε)` (or its ε variants) given the step's bias factors.
fn adam_direction(c: &Config, m: f64, v: f64, (bc1, bc2): (f64, f64)) -> f64 {
    match c.eps_placement {
        EpsPlacement::Outside => (m / bc1) / ((v / bc2).sqrt() + c.eps),
        EpsPlacement::Inside => (m / bc1) / (v / bc2 + c.eps).sqrt(),
        EpsPlacement::Hat => bc2.sqrt() / bc1 * m / (v.sqrt() + c.eps),
    }
}

/// `sign(x)` with `sign(0) = 0`, as `torch.sign`.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// The Euclidean norm.
pub fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// LAMB's trust ratio `‖p‖/‖u‖`, taken as 1 when either norm is zero (You et al. 2020, Algorithm 2, with
/// the identity as the scaling function φ; the "either norm zero" rule is the common implementation choice
/// that keeps freshly zero-initialised biases moving).
pub fn trust_ratio(p_norm: f64, u_norm: f64) -> f64 {
    if p_norm > 0.0 && u_norm > 0.0 {
        p_norm / u_norm
    } else {
        1.0
    }
}

/// A learning-rate schedule: linear warm-up from `lr/warmup` to `lr` over `warmup` steps, then constant or
/// cosine decay to `min_ratio · lr` at step `total` (Loshchilov & Hutter 2017, "SGDR", for the cosine; Goyal
/// et al. 2017, "Accurate, large minibatch SGD", for the linear warm-up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Warm-up steps (0 for none).
    pub warmup: u64,
    /// Total steps of the cosine (ignored when `cosine` is false).
    pub total: u64,
    /// Cosine decay after the warm-up; otherwise constant.
    pub cosine: bool,
    /// The final learning rate as a fraction of the peak.
    pub min_ratio: f64,
}

impl Schedule {
    /// A constant schedule.
    pub const CONSTANT: Schedule = Schedule {
        warmup: 0,
        total: 0,
        cosine: false,
        min_ratio: 0.0,
    };

    /// The multiplier of step `t` (1-based): `t/warmup` during warm-up, then
    /// `min + (1 − min)·½(1 + cos(π (t − w)/(T − w)))` or 1.
    pub fn multiplier(&self, t: u64) -> f64 {
        if self.warmup > 0 && t <= self.warmup {
            return t as f64 / self.warmup as f64;
        }
        if !self.cosine || self.total <= self.warmup {
            return 1.0;
        }
        let progress = ((t - self.warmup) as f64 / (self.total - self.warmup) as f64).min(1.0);
        self.min_ratio
            + (1.0 - self.min_ratio) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// The smallest number of linear warm-up steps `t` with `t/warmup ≥ fraction` (for the estimation drill).
pub fn warmup_steps_to_fraction(warmup: u64, fraction: f64) -> u64 {
    (fraction * warmup as f64 - 1e-9).ceil().max(1.0) as u64
}

// ---------------------------------------------------------------------------------------------------------
// Memory.

/// Bytes of training state per parameter: weights, gradients, an optional fp32 master copy and the optimizer
/// states. In mixed precision (Micikevicius et al. 2018; the accounting of Rajbhandari et al. 2020, "ZeRO")
/// weights and gradients are 2-byte bf16/fp16, the master copy and every optimizer state fp32:
/// `2 + 2 + 4 + 4k` bytes for `k` state slots — 16 for Adam. In plain fp32 training it is `4 + 4 + 4k`.
pub fn training_bytes_per_param(kind: Kind, momentum: bool, mixed_precision: bool) -> f64 {
    let states = 4.0 * kind.state_slots(momentum) as f64;
    // (weights, gradients, fp32 master copy): the master copy replaces nothing, it is extra; the two totals
    // coincide (2 + 2 + 4 = 4 + 4) because halving weights and gradients saves exactly the master copy's 4 bytes.
    let (weights, grads, master) = if mixed_precision {
        (2.0, 2.0, 4.0)
    } else {
        (4.0, 4.0, 0.0)
    };
    weights + grads + master + states
}

/// Bytes of optimizer state alone per parameter: `k · state_bytes`.
pub fn state_bytes_per_param(kind: Kind, momentum: bool, state_bytes: f64) -> f64 {
    kind.state_slots(momentum) as f64 * state_bytes
}

// ---------------------------------------------------------------------------------------------------------
// Momentum on a quadratic.

/// Gradient descent's best contraction factor on a quadratic with condition number κ = L/μ, reached with
/// `η = 2/(L + μ)`: `(κ − 1)/(κ + 1)` per step (Polyak 1964; Nesterov 2004, "Introductory lectures", §2.1).
pub fn gd_rate(kappa: f64) -> f64 {
    (kappa - 1.0) / (kappa + 1.0)
}

/// The heavy-ball method's best asymptotic contraction factor on the same quadratic, `(√κ − 1)/(√κ + 1)`,
/// reached with `η = 4/(√L + √μ)²` and `μ_m = ((√κ − 1)/(√κ + 1))²` (Polyak 1964).
pub fn heavy_ball_rate(kappa: f64) -> f64 {
    let s = kappa.sqrt();
    (s - 1.0) / (s + 1.0)
}

/// The largest stable learning rate of the heavy ball (PyTorch form, momentum μ) along a direction of
/// curvature `h`: the recurrence `x_{t+1} = (1 + μ − ηh) x_t − μ x_{t−1}` has characteristic polynomial
/// `r² − (1 + μ − ηh) r + μ`, which for `0 ≤ μ < 1` keeps both roots inside the unit circle exactly while
/// `0 < ηh < 2(1 + μ)` (at the bound a root sits at `r = −1`; Polyak 1964). Plain gradient descent is `μ = 0`.
pub fn heavy_ball_lr_limit(h: f64, momentum: f64) -> f64 {
    2.0 * (1.0 + momentum) / h
}

/// Runs SGD (optionally heavy-ball momentum, PyTorch form) with the optimal tuning of [`gd_rate`] or
/// [`heavy_ball_rate`] on `f(x) = ½(L x₁² + μ x₂²)` with `L = κ`, `μ = 1`, from `(1, 1)`, and returns the
/// measured per-step contraction `(‖x_T‖/‖x_{T/2}‖)^{2/T}` over the second half of `steps` steps. Measuring
/// over the second half only removes the transient; heavy ball's iteration matrix is defective at its
/// optimal tuning, so its error decays as `t·rᵗ` and the polynomial factor still inflates the estimate by
/// `2^{2/T}` (0.14 % at T = 1000).
pub fn measured_quadratic_rate(kappa: f64, heavy_ball: bool, steps: usize) -> f64 {
    let (l, mu): (f64, f64) = (kappa, 1.0);
    let (lr, momentum) = if heavy_ball {
        let r = heavy_ball_rate(kappa);
        (4.0 / (l.sqrt() + mu.sqrt()).powi(2), r * r)
    } else {
        (2.0 / (l + mu), 0.0)
    };
    let mut c = Config::new(Kind::Sgd, lr);
    c.momentum = momentum;
    let Ok(mut opt) = Optimizer::new(c, &[2]) else {
        return f64::NAN;
    };
    let mut x = [1.0, 1.0];
    let half = steps / 2;
    let mut start = norm(&x);
    for k in 0..steps {
        if k == half {
            start = norm(&x);
        }
        let g = [l * x[0], mu * x[1]];
        if opt.step(&mut x, &g, lr).is_err() {
            return f64::NAN;
        }
    }
    (norm(&x) / start).powf(1.0 / (steps - half) as f64)
}

/// The stationary variance of plain SGD on `f(x) = ½ h x²` with additive gradient noise `N(0, σ²)`:
/// `x ← x − η(h x + σ ξ)` has the fixed point `Var = η σ² / (h (2 − η h))` of the variance recursion
/// `V ← (1 − ηh)² V + η² σ²`, about `η σ²/(2h)` for small `ηh` — proportional to the learning rate, which is
/// why SGD's learning rate must decay to converge (Robbins & Monro 1951 for the decaying-step condition).
pub fn sgd_stationary_variance(h: f64, lr: f64, sigma: f64) -> f64 {
    lr * sigma * sigma / (h * (2.0 - lr * h))
}

/// Measures the stationary variance of [`sgd_stationary_variance`]'s process with the engine's SGD: `steps`
/// steps after a burn-in of `10/(ηh)` steps (at least 100), from `x = 0`.
pub fn sgd_measured_variance(h: f64, lr: f64, sigma: f64, steps: usize, seed: u64) -> f64 {
    let Ok(mut opt) = Optimizer::new(Config::new(Kind::Sgd, lr), &[1]) else {
        return f64::NAN;
    };
    let mut rng = Rng::new(seed);
    let burn_in = ((10.0 / (lr * h)).ceil() as usize).max(100);
    let mut x = [0.0];
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for k in 0..burn_in + steps {
        let g = h * x[0] + sigma * rng.normal();
        if opt.step(&mut x, &[g], lr).is_err() {
            return f64::NAN;
        }
        if k >= burn_in {
            sum += x[0];
            sum_sq += x[0] * x[0];
        }
    }
    let n = steps.max(1) as f64;
    sum_sq / n - (sum / n).powi(2)
}

// ---------------------------------------------------------------------------------------------------------
// Adam under noise and bias correction.

/// Adam's step after `t` steps of the constant gradient `g`, in units of the learning rate: `|Δp_t|/η`.
/// With bias correction it is `|g|/(|g| + ε)` ≈ 1 for any scale of `g` ≫ ε; without it,
/// `(1 − β₁ᵗ)/√(1 − β₂ᵗ)` at small `t` (3.16 at t = 1 with the defaults).
pub fn adam_constant_gradient_step(
    g: f64,
    t: u64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    bias_correction: bool,
) -> f64 {
    let mut c = Config::new(Kind::Adam, 1.0);
    c.beta1 = beta1;
    c.beta2 = beta2;
    c.eps = eps;
    c.bias_correction = bias_correction;
    let Ok(mut opt) = Optimizer::new(c, &[1]) else {
        return f64::NAN;
    };
    let mut p = [0.0];
    let mut last = 0.0;
    for _ in 0..t {
        let before = p[0];
        if opt.step(&mut p, &[g], 1.0).is_err() {
            return f64::NAN;
        }
        last = (p[0] - before).abs();
    }
    last
}

/// Adam's mean step per learning rate under noisy gradients `g ~ N(μ, σ²)` with `μ = snr·σ`, σ = 1,
/// measured over `steps` steps after a burn-in of `burn_in` steps: `E[Δp]/η` (signed, so it measures the
/// progress along the true gradient) and the standard deviation of `Δp/η`.
///
/// Theory (Kingma & Ba 2015, §2, "the effective step... SNR"): at stationarity `m ≈ μ` and `v ≈ μ² + σ²`,
/// so the step tends to `μ/√(μ² + σ²) = snr/√(1 + snr²)`; small at low SNR, 1 at high SNR.
pub fn adam_noisy_step(
    snr: f64,
    beta1: f64,
    beta2: f64,
    burn_in: usize,
    steps: usize,
    seed: u64,
) -> (f64, f64) {
    let mut c = Config::new(Kind::Adam, 1.0);
    c.beta1 = beta1;
    c.beta2 = beta2;
    let Ok(mut opt) = Optimizer::new(c, &[1]) else {
        return (f64::NAN, f64::NAN);
    };
    let mut rng = Rng::new(seed);
    let mut p = [0.0];
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    for k in 0..burn_in + steps {
        let g = snr + rng.normal();
        let before = p[0];
        if opt.step(&mut p, &[g], 1.0).is_err() {
            return (f64::NAN, f64::NAN);
        }
        if k >= burn_in {
            // The step moves against the gradient; report progress along −g's mean as positive.
            let d = before - p[0];
            sum += d;
            sum_sq += d * d;
        }
    }
    let n = steps.max(1) as f64;
    let mean = sum / n;
    (mean, (sum_sq / n - mean * mean).max(0.0).sqrt())
}

/// The theoretical stationary step of [`adam_noisy_step`]: `snr/√(1 + snr²)`.
pub fn adam_noisy_step_theory(snr: f64) -> f64 {
    snr / (1.0 + snr * snr).sqrt()
}

/// Monte Carlo estimate of `E[m_t]/E[g]` for an EMA `m_t = β m_{t−1} + (1 − β) g_t` from `m_0 = 0` with
/// i.i.d. `g ~ N(1, 1)`, over `runs` independent runs. Theory: `1 − βᵗ` (Kingma & Ba 2015, §3).
pub fn ema_bias_ratio(beta: f64, t: u64, runs: usize, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let mut total = 0.0;
    for _ in 0..runs {
        let mut m = 0.0;
        for _ in 0..t {
            m = beta * m + (1.0 - beta) * (1.0 + rng.normal());
        }
        total += m;
    }
    total / runs.max(1) as f64
}

/// RAdam's length of the approximated simple moving average at step `t` (Liu et al. 2020, "On the variance
/// of the adaptive learning rate and beyond", ICLR, eq. for ρ_t): `ρ_∞ = 2/(1 − β₂) − 1`,
/// `ρ_t = ρ_∞ − 2 t β₂ᵗ/(1 − β₂ᵗ)`. Modelling `1/v̂` as a scaled inverse χ² variable with `ρ_t` degrees of
/// freedom, the variance of the adaptive rate `1/√v̂` is infinite for `ρ_t ≤ 2`; the paper's first-order
/// approximation of it, and with it the rectification, needs `ρ_t > 4`.
pub fn radam_rho(beta2: f64, t: u64) -> f64 {
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let b = beta2.powf(t as f64);
    rho_inf - 2.0 * t as f64 * b / (1.0 - b)
}

/// The first step at which RAdam's `ρ_t > 4`, so its variance rectification switches on (searches up to
/// 10⁶ steps; returns that bound if never).
pub fn radam_first_rectified_step(beta2: f64) -> u64 {
    (1..=1_000_000)
        .find(|&t| radam_rho(beta2, t) > 4.0)
        .unwrap_or(1_000_000)
}

/// RAdam's rectification term `r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))` (Liu et al. 2020),
/// or 0 while `ρ_t ≤ 4`.
pub fn radam_rectification(beta2: f64, t: u64) -> f64 {
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let rho = radam_rho(beta2, t);
    if rho <= 4.0 {
        return 0.0;
    }
    ((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)).sqrt()
}

// ---------------------------------------------------------------------------------------------------------
// AdamW against Adam + L2.

/// The two-parameter problem on which Adam + L2 and AdamW differ: `f(p) = ½ Σᵢ aᵢ (pᵢ − 1)²` with curvatures
/// `a = (a_big, a_small)`, so the gradient scales differ by `a_big/a_small`, started at `p = (1, 1)` (the
/// unregularised optimum). Returns the parameters after `steps` steps of `kind` (Adam: λ as L2; AdamW:
/// decoupled λ) with learning rate `lr` and optional N(0, noise²) gradient noise, every step recorded.
pub fn decay_race(
    kind: Kind,
    a: [f64; 2],
    lr: f64,
    weight_decay: f64,
    noise: f64,
    steps: usize,
    seed: u64,
) -> Vec<[f64; 2]> {
    let mut c = Config::new(kind, lr);
    c.weight_decay = weight_decay;
    let mut out = Vec::with_capacity(steps + 1);
    let mut p = [1.0, 1.0];
    out.push(p);
    let Ok(mut opt) = Optimizer::new(c, &[2]) else {
        return out;
    };
    let mut rng = Rng::new(seed);
    for _ in 0..steps {
        let g = [
            a[0] * (p[0] - 1.0) + noise * a[0] * rng.normal(),
            a[1] * (p[1] - 1.0) + noise * a[1] * rng.normal(),
        ];
        if opt.step(&mut p, &g, lr).is_err() {
            break;
        }
        out.push(p);
    }
    out
}

/// The mean of coordinate `coord` over the second half of a recorded path (the first half is discarded as
/// the transient), e.g. of [`decay_race`]: with gradient noise the end point is one random draw, and the
/// time average is what an equilibrium argument predicts. `NaN` for an empty path.
pub fn second_half_mean(path: &[[f64; 2]], coord: usize) -> f64 {
    let tail = &path[path.len() / 2..];
    if tail.is_empty() || coord > 1 {
        return f64::NAN;
    }
    tail.iter().map(|p| p[coord]).sum::<f64>() / tail.len() as f64
}

/// The fixed point of gradient descent on `f + (λ/2)‖p‖²` for [`decay_race`]'s problem, coordinate `i`:
/// `aᵢ/(aᵢ + λ)` — where Adam + L2 converges without noise, since its fixed points are the stationary points
/// of the regularised loss.
pub fn l2_fixed_point(a: f64, weight_decay: f64) -> f64 {
    a / (a + weight_decay)
}

// ---------------------------------------------------------------------------------------------------------
// 2-D surfaces for the optimizer race.

/// A 2-D loss surface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Surface {
    /// An ill-conditioned bowl `f(x, y) = ½(x² + y²/κ)`.
    Quadratic {
        /// Condition number κ = largest/smallest curvature.
        kappa: f64,
    },
    /// Rosenbrock's banana `f = (1 − x)² + 100 (y − x²)²` (Rosenbrock 1960), scaled by 1/100.
    Rosenbrock,
    /// A saddle with a floor: `f = ½x² − ½y² + y⁴/4` — minima at `(0, ±1)`, a saddle at the origin.
    Saddle,
}

impl Surface {
    /// Parses `quadratic` (with the given κ), `rosenbrock` or `saddle`.
    pub fn parse(s: &str, kappa: f64) -> Option<Surface> {
        match s.trim().to_ascii_lowercase().as_str() {
            "quadratic" => Some(Surface::Quadratic { kappa }),
            "rosenbrock" => Some(Surface::Rosenbrock),
            "saddle" => Some(Surface::Saddle),
            _ => None,
        }
    }

    /// `f(x, y)`. The quadratic is `½(x² + y²/κ)`: curvature 1 along x, 1/κ along y, so the largest stable
    /// plain-GD learning rate is 2 whatever κ is and the slow direction takes ~κ steps.
    pub fn value(&self, x: f64, y: f64) -> f64 {
        match *self {
            Surface::Quadratic { kappa } => 0.5 * (x * x + y * y / kappa),
            Surface::Rosenbrock => ((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)) / 100.0,
            Surface::Saddle => 0.5 * x * x - 0.5 * y * y + 0.25 * y.powi(4),
        }
    }

    /// `∇f(x, y)`.
    pub fn grad(&self, x: f64, y: f64) -> [f64; 2] {
        match *self {
            Surface::Quadratic { kappa } => [x, y / kappa],
            Surface::Rosenbrock => [
                (-2.0 * (1.0 - x) - 400.0 * x * (y - x * x)) / 100.0,
                200.0 * (y - x * x) / 100.0,
            ],
            Surface::Saddle => [x, -y + y.powi(3)],
        }
    }

    /// The minimum value of the surface.
    pub fn min_value(&self) -> f64 {
        match self {
            Surface::Quadratic { .. } | Surface::Rosenbrock => 0.0,
            Surface::Saddle => -0.25,
        }
    }

    /// A default start point and plotting box `[x0, x1, y0, y1]`.
    pub fn start_and_box(&self) -> ([f64; 2], [f64; 4]) {
        match self {
            Surface::Quadratic { .. } => ([-1.8, 1.6], [-2.0, 2.0, -2.0, 2.0]),
            Surface::Rosenbrock => ([-1.2, 1.0], [-1.6, 1.6, -0.6, 1.6]),
            Surface::Saddle => ([-1.5, 1e-3], [-2.0, 2.0, -1.6, 1.6]),
        }
    }
}

/// Runs an optimizer on a surface from `start` for `steps` steps with the `schedule` and optional Gaussian
/// gradient noise of standard deviation `noise` (seeded); returns every point (the start first). A
/// trajectory that leaves `|x|, |y| ≤ 1e6` stops there.
pub fn trajectory(
    surface: Surface,
    config: Config,
    schedule: Schedule,
    start: [f64; 2],
    steps: usize,
    noise: f64,
    seed: u64,
) -> Result<Vec<[f64; 2]>, OptimError> {
    let mut opt = Optimizer::new(config, &[2])?;
    let mut rng = Rng::new(seed);
    let mut p = start;
    let mut out = Vec::with_capacity(steps + 1);
    out.push(p);
    for t in 1..=steps as u64 {
        let mut g = surface.grad(p[0], p[1]);
        if noise > 0.0 {
            g[0] += noise * rng.normal();
            g[1] += noise * rng.normal();
        }
        if !(g[0].is_finite() && g[1].is_finite()) {
            break;
        }
        opt.step(&mut p, &g, config.lr * schedule.multiplier(t))?;
        out.push(p);
        if !(p[0].abs() <= 1e6 && p[1].abs() <= 1e6) {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn run(c: Config, groups: &[usize], p0: &[f64], grads: &[&[f64]]) -> (Vec<f64>, Optimizer) {
        let mut opt = Optimizer::new(c, groups).unwrap();
        let mut p = p0.to_vec();
        for g in grads {
            opt.step(&mut p, g, c.lr).unwrap();
        }
        (p, opt)
    }

    #[test]
    fn sgd_momentum_matches_hand_computation() {
        // PyTorch convention, μ = 0.9, lr = 0.1, p0 = 1, grads 1 then 2:
        // b1 = 1, p1 = 1 − 0.1 = 0.9; b2 = 0.9·1 + 2 = 2.9, p2 = 0.9 − 0.29 = 0.61.
        let mut c = Config::new(Kind::Sgd, 0.1);
        c.momentum = 0.9;
        let (p, _) = run(c, &[1], &[1.0], &[&[1.0], &[2.0]]);
        assert!(close(p[0], 0.61, 1e-12), "{p:?}");
        // Nesterov: d1 = g + μ b1 = 1 + 0.9 = 1.9, p1 = 0.81; b2 = 2.9, d2 = 2 + 2.61 = 4.61, p2 = 0.349.
        c.nesterov = true;
        let (p, _) = run(c, &[1], &[1.0], &[&[1.0], &[2.0]]);
        assert!(close(p[0], 0.349, 1e-12), "{p:?}");
        // EMA: b1 = 0.1, p1 = 0.99; b2 = 0.09 + 0.2 = 0.29, p2 = 0.99 − 0.029 = 0.961.
        c.nesterov = false;
        c.momentum_style = MomentumStyle::Ema;
        let (p, _) = run(c, &[1], &[1.0], &[&[1.0], &[2.0]]);
        assert!(close(p[0], 0.961, 1e-12), "{p:?}");
    }

    #[test]
    fn adam_constant_gradient_step_is_lr_times_sign_for_any_scale() {
        for g in [1e-4, 1.0, 1e3, -7.0] {
            for t in [1, 2, 10, 1000] {
                let s = adam_constant_gradient_step(g, t, 0.9, 0.999, 1e-8, true);
                assert!(close(s, 1.0, 1e-3), "g={g} t={t}: {s}");
            }
        }
        // Without bias correction the first step is (1 − β1)/√(1 − β2) = 0.1/√0.001 = 3.1623 lr.
        let s = adam_constant_gradient_step(1.0, 1, 0.9, 0.999, 0.0, false);
        assert!(close(s, 0.1 / 0.001f64.sqrt(), 1e-12), "{s}");
    }

    #[test]
    fn adam_eps_placements_agree_when_eps_is_zero_and_differ_otherwise() {
        let mut c = Config::new(Kind::Adam, 0.1);
        c.eps = 0.0;
        let grads: [&[f64]; 3] = [&[0.3], &[-0.1], &[0.2]];
        let (a, _) = run(c, &[1], &[0.5], &grads);
        c.eps_placement = EpsPlacement::Hat;
        let (b, _) = run(c, &[1], &[0.5], &grads);
        c.eps_placement = EpsPlacement::Inside;
        let (d, _) = run(c, &[1], &[0.5], &grads);
        assert!(close(a[0], b[0], 1e-12) && close(a[0], d[0], 1e-12));
        c.eps = 0.01;
        c.eps_placement = EpsPlacement::Outside;
        let (a, _) = run(c, &[1], &[0.5], &grads);
        c.eps_placement = EpsPlacement::Inside;
        let (d, _) = run(c, &[1], &[0.5], &grads);
        assert!((a[0] - d[0]).abs() > 1e-4);
    }

    #[test]
    fn adamw_differs_from_adam_with_l2_and_equals_it_for_sgd() {
        // For SGD, decoupled decay p -= lr λ p and L2 g += λ p are the same update.
        let lr = 0.1;
        let lam = 0.5;
        let p0 = 2.0;
        let g = 0.3;
        let l2 = p0 - lr * (g + lam * p0);
        let decoupled = p0 - lr * lam * p0 - lr * g;
        assert!(close(l2, decoupled, 1e-15));
        // Under Adam the L2 term is normalised away with the gradient; AdamW's is not.
        let mut c = Config::new(Kind::Adam, lr);
        c.weight_decay = lam;
        let (adam, _) = run(c, &[1], &[p0], &[&[g]]);
        c.kind = Kind::AdamW;
        let (adamw, _) = run(c, &[1], &[p0], &[&[g]]);
        // Adam+L2 first step: lr·sign(g + λp) = 0.1 → 1.9. AdamW: 2 − 0.1 − 0.1 = 1.8 (up to ε).
        assert!(close(adam[0], 1.9, 1e-6), "{adam:?}");
        assert!(close(adamw[0], 1.8, 1e-6), "{adamw:?}");
    }

    #[test]
    fn lion_moves_every_coordinate_by_exactly_lr_plus_decay() {
        let mut c = Config::new(Kind::Lion, 0.01);
        let (p, opt) = run(c, &[3], &[1.0, -2.0, 0.5], &[&[3.0, 1e-6, -40.0]]);
        assert!(close(p[0], 0.99, 1e-15) && close(p[1], -2.01, 1e-15) && close(p[2], 0.51, 1e-15));
        // The state is one vector: m = (1 − β2) g.
        let state = opt.state();
        assert_eq!(state.len(), 1);
        assert!(close(state[0].1[0], 0.01 * 3.0, 1e-15));
        c.weight_decay = 1.0;
        let (p, _) = run(c, &[1], &[1.0], &[&[3.0]]);
        // p − lr (sign + λ p) = 1 − 0.01 (1 + 1) = 0.98.
        assert!(close(p[0], 0.98, 1e-15));
    }

    #[test]
    fn lamb_trust_ratio_is_per_group() {
        // Group 1: p = (3, 4) (norm 5), group 2: p = (0.1). First step: u = sign(g) (up to ε), so
        // ‖u‖ = √2 and 1; trust ratios 5/√2 and 0.1.
        let mut c = Config::new(Kind::Lamb, 0.01);
        c.eps = 0.0;
        let mut opt = Optimizer::new(c, &[2, 1]).unwrap();
        let mut p = [3.0, 4.0, 0.1];
        let info = opt.step(&mut p, &[1.0, -2.0, 5.0], 0.01).unwrap();
        assert!(close(info.trust_ratios[0], 5.0 / 2f64.sqrt(), 1e-12));
        assert!(close(info.trust_ratios[1], 0.1, 1e-12));
        assert!(close(p[0], 3.0 - 0.01 * 5.0 / 2f64.sqrt(), 1e-12));
        assert!(close(p[2], 0.1 - 0.01 * 0.1, 1e-12));
        assert!(close(trust_ratio(0.0, 3.0), 1.0, 0.0));
    }

    #[test]
    fn rmsprop_matches_hand_computation_in_both_eps_placements() {
        // v1 = 0.01·4 = 0.04, step = lr·2/(0.2 + ε).
        let mut c = Config::new(Kind::RmsProp, 0.01);
        c.eps = 0.01;
        let (p, _) = run(c, &[1], &[0.0], &[&[2.0]]);
        assert!(close(p[0], -0.01 * 2.0 / 0.21, 1e-15));
        c.eps_placement = EpsPlacement::Inside;
        let (p, _) = run(c, &[1], &[0.0], &[&[2.0]]);
        assert!(close(p[0], -0.01 * 2.0 / 0.05f64.sqrt(), 1e-15));
    }

    #[test]
    fn bias_correction_ratio_matches_one_minus_beta_to_the_t() {
        for t in [1, 3, 10] {
            let r = ema_bias_ratio(0.9, t, 20_000, 5);
            let theory = 1.0 - 0.9f64.powi(t as i32);
            assert!(close(r, theory, 0.01), "t={t}: {r} vs {theory}");
        }
    }

    #[test]
    fn heavy_ball_beats_gd_at_its_predicted_rate() {
        let kappa = 100.0;
        let gd = measured_quadratic_rate(kappa, false, 400);
        let hb = measured_quadratic_rate(kappa, true, 1000);
        assert!(close(gd, gd_rate(kappa), 1e-6), "{gd}");
        // The t·rᵗ decay of the defective heavy-ball iteration inflates the measured rate by 2^(1/500).
        assert!(close(hb, heavy_ball_rate(kappa), 0.002), "{hb}");
    }

    #[test]
    fn heavy_ball_is_stable_up_to_two_times_one_plus_mu_over_h() {
        // On ½hx² the heavy ball's characteristic polynomial r² − (1 + μ − ηh)r + μ has a root at r = −1
        // exactly when ηh = 2(1 + μ): 3.6 for μ = 0.8, h = 1 (the lesson's race at its default momentum).
        let run_to = |lr: f64| {
            let mut c = Config::new(Kind::Sgd, lr);
            c.momentum = 0.8;
            let mut opt = Optimizer::new(c, &[1]).unwrap();
            let mut x = [1.0];
            // 500 steps: |r| = √0.8 inside the bound shrinks x below 1e-24, the real root −1.27 just outside
            // it grows x past 1e51, and neither overflows.
            for _ in 0..500 {
                let g = [x[0]];
                opt.step(&mut x, &g, lr).unwrap();
            }
            x[0].abs()
        };
        assert!(close(heavy_ball_lr_limit(1.0, 0.8), 3.6, 1e-12));
        assert!(run_to(3.5) < 1e-3, "{}", run_to(3.5));
        assert!(run_to(3.7) > 1e3, "{}", run_to(3.7));
    }

    #[test]
    fn second_half_mean_averages_the_tail() {
        // Path of four points: the second half is the last two, whose first coordinates average (3 + 5)/2.
        let path = [[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        assert!(close(second_half_mean(&path, 0), 4.0, 1e-15));
        assert!(close(second_half_mean(&path, 1), 5.0, 1e-15));
        assert!(second_half_mean(&[], 0).is_nan());
    }

    #[test]
    fn sgd_noise_floor_is_proportional_to_the_learning_rate() {
        for lr in [0.01, 0.1] {
            let measured = sgd_measured_variance(1.0, lr, 1.0, 200_000, 9);
            let theory = sgd_stationary_variance(1.0, lr, 1.0);
            // Successive iterates are correlated over ~1/(ηh) steps, so 200 000 steps give about 2000/(1/η)
            // effective samples; 10 % covers the sampling error at η = 0.01.
            assert!(
                close(measured, theory, 0.1 * theory),
                "lr={lr}: {measured} vs {theory}"
            );
        }
    }

    #[test]
    fn noisy_adam_step_shrinks_with_snr() {
        for snr in [0.1, 1.0, 10.0] {
            let (mean, _) = adam_noisy_step(snr, 0.9, 0.999, 2000, 20_000, 3);
            let theory = adam_noisy_step_theory(snr);
            assert!(
                close(mean, theory, 0.1 * theory + 0.01),
                "snr={snr}: {mean} vs {theory}"
            );
        }
    }

    #[test]
    fn radam_switches_on_at_step_five_for_default_beta2() {
        assert_eq!(radam_first_rectified_step(0.999), 5);
        assert!(radam_rectification(0.999, 4) == 0.0);
        assert!(radam_rectification(0.999, 100_000) > 0.99);
    }

    #[test]
    fn schedule_and_memory() {
        let s = Schedule {
            warmup: 10,
            total: 110,
            cosine: true,
            min_ratio: 0.1,
        };
        assert!(close(s.multiplier(5), 0.5, 1e-15));
        assert!(close(s.multiplier(10), 1.0, 1e-15));
        assert!(close(s.multiplier(60), 0.55, 1e-12));
        assert!(close(s.multiplier(110), 0.1, 1e-12));
        assert_eq!(warmup_steps_to_fraction(2000, 0.25), 500);
        assert!(close(
            training_bytes_per_param(Kind::Adam, false, true),
            16.0,
            0.0
        ));
        assert!(close(
            training_bytes_per_param(Kind::Lion, false, true),
            12.0,
            0.0
        ));
        assert!(close(
            state_bytes_per_param(Kind::AdamW, false, 4.0),
            8.0,
            0.0
        ));
        assert!(close(
            state_bytes_per_param(Kind::Sgd, false, 4.0),
            0.0,
            0.0
        ));
    }

    #[test]
    fn surfaces_gradients_match_finite_differences() {
        let h = 1e-6;
        for s in [
            Surface::Quadratic { kappa: 30.0 },
            Surface::Rosenbrock,
            Surface::Saddle,
        ] {
            for &(x, y) in &[(0.3, -0.7), (-1.2, 1.0), (0.9, 0.4)] {
                let g = s.grad(x, y);
                let fx = (s.value(x + h, y) - s.value(x - h, y)) / (2.0 * h);
                let fy = (s.value(x, y + h) - s.value(x, y - h)) / (2.0 * h);
                assert!(close(g[0], fx, 1e-6 * (1.0 + fx.abs())), "{s:?}");
                assert!(close(g[1], fy, 1e-6 * (1.0 + fy.abs())), "{s:?}");
            }
        }
    }

    #[test]
    fn errors_name_the_problem() {
        let mut c = Config::new(Kind::Adam, 0.1);
        c.beta2 = 1.0;
        assert!(matches!(
            Optimizer::new(c, &[1]),
            Err(OptimError::Hyperparameter { name: "beta2", .. })
        ));
        let mut opt = Optimizer::new(Config::new(Kind::Adam, 0.1), &[2]).unwrap();
        let mut p = [0.0, 0.0];
        assert_eq!(
            opt.step(&mut p, &[1.0], 0.1),
            Err(OptimError::Length {
                what: "gradients",
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            opt.step(&mut p, &[1.0, f64::NAN], 0.1),
            Err(OptimError::NonFinite {
                what: "gradient",
                index: 1
            })
        );
        assert_eq!(opt.steps(), 0);
    }
}

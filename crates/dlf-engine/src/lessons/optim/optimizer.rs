//! The update rules (SGD, RMSProp, Adam, AdamW, Lion, LAMB) over parameter groups, their conventions, and the
//! learning-rate schedule.

use std::fmt;

use crate::stats::l2_norm;

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
                    let p_norm = l2_norm(&params[range.clone()]);
                    let ratio = trust_ratio(p_norm, l2_norm(&u));
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
        (1.0 - crate::math::powf(c.beta1, t), 1.0 - crate::math::powf(c.beta2, t))
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
            + (1.0 - self.min_ratio) * 0.5 * (1.0 + crate::math::cos(std::f64::consts::PI * progress))
    }
}

/// The smallest number of linear warm-up steps `t` with `t/warmup ≥ fraction` (for the estimation drill).
pub fn warmup_steps_to_fraction(warmup: u64, fraction: f64) -> u64 {
    (fraction * warmup as f64 - 1e-9).ceil().max(1.0) as u64
}

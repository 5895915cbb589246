//! Initialization (lesson 11): the variance rules of Glorot & Bengio (2010), He et al. (2015) and LeCun et
//! al. (1998), the fans of a weight tensor in PyTorch's and Keras's layouts, the gains per activation, the
//! mean-field signal-propagation maps of Poole et al. (2016) and Schoenholz et al. (2017), a finite-width
//! simulation through depth and a deep network trained from a chosen initialisation.
//!
//! # The rule
//!
//! For `y = W x` with `n_in` inputs, independent zero-mean weights of variance `Var(w)` and inputs with second
//! moment `E[x²]`, `Var(y_i) = n_in · Var(w) · E[x²]` (sum of `n_in` independent products). Keeping the
//! forward second moment fixed asks `n_in Var(w) = 1/E[φ(h)²]·Var(h)`; keeping the backward one fixed asks
//! the same with `n_out`. The schemes pick `Var(w) = gain² / fan` with
//!
//! | scheme | fan | default gain | source |
//! | --- | --- | --- | --- |
//! | LeCun | `fan_in` | 1 | LeCun, Bottou, Orr & Müller, "Efficient BackProp", 1998 |
//! | Glorot / Xavier | `(fan_in + fan_out)/2` | 1 | Glorot & Bengio, AISTATS 2010 |
//! | He / Kaiming | `fan_in` (or `fan_out`) | √2 (ReLU) | He, Zhang, Ren & Sun, ICCV 2015 |
//!
//! A uniform distribution on `[−a, a]` has variance `a²/3`, so the bound with standard deviation `s` is
//! `a = √3·s`. Keras and JAX draw their "normal" variants from a normal truncated at two standard deviations
//! and divide `s` by that truncated normal's standard deviation (0.8796…, [`truncated_normal_std`]) so the
//! variance after truncation is the intended one; PyTorch draws an untruncated normal.

use crate::activation::{erf, gelu_erf, normal_pdf, sigmoid, Activation};
use crate::error::ShapeError;

pub mod depth;
pub mod divergence;
mod estimates;
pub mod mean_field;
pub mod quadrature;
mod quantities;
#[cfg(test)]
mod tests;

/// Lesson 11's entry in [`crate::lessons::ALL`].
pub const LESSON: crate::lessons::Lesson = crate::lessons::Lesson {
    topic: "init",
    quantities: quantities::SPECS,
    estimates: estimates::SPECS,
};

/// SELU's `α` (Klambauer, Unterthiner, Mayr & Hochreiter, "Self-Normalizing Neural Networks", NeurIPS 2017),
/// the value PyTorch's `nn.SELU` uses.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
/// SELU's `λ` (same paper and library).
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// A pointwise nonlinearity as the initialisation rules see it: the shared [`Activation`]s plus the ones
/// only this lesson needs (identity, leaky ReLU with its slope, SiLU, SELU).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlin {
    /// The identity (a linear layer, or a convolution with no activation).
    Linear,
    /// `max(0, x)` (Nair & Hinton 2010).
    Relu,
    /// `x` for `x > 0`, `a·x` otherwise (Maas, Hannun & Ng 2013); `a` is the negative slope.
    LeakyRelu(f64),
    /// `tanh x`.
    Tanh,
    /// The logistic sigmoid.
    Sigmoid,
    /// Exact GELU `x Φ(x)` (Hendrycks & Gimpel 2016).
    Gelu,
    /// SiLU / Swish `x σ(x)` (Elfwing, Uchibe & Doya 2018; Ramachandran, Zoph & Le 2017).
    Silu,
    /// SELU `λ x` for `x > 0`, `λ α (eˣ − 1)` otherwise (Klambauer et al. 2017).
    Selu,
}

impl Nonlin {
    /// The names [`Nonlin::parse`] accepts, in a fixed order (the leaky ReLU's slope is a separate parameter).
    pub const NAMES: [&'static str; 8] = [
        "linear",
        "relu",
        "leaky_relu",
        "tanh",
        "sigmoid",
        "gelu",
        "silu",
        "selu",
    ];

    /// Parses a name of [`Nonlin::NAMES`] (`swish` is SiLU, `identity` is linear); `slope` is the leaky
    /// ReLU's negative slope (ignored by the others).
    pub fn parse(s: &str, slope: f64) -> Option<Nonlin> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "linear" | "identity" => Nonlin::Linear,
            "relu" => Nonlin::Relu,
            "leaky_relu" | "leakyrelu" => Nonlin::LeakyRelu(slope),
            "tanh" => Nonlin::Tanh,
            "sigmoid" => Nonlin::Sigmoid,
            "gelu" => Nonlin::Gelu,
            "silu" | "swish" => Nonlin::Silu,
            "selu" => Nonlin::Selu,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Nonlin::Linear => "linear",
            Nonlin::Relu => "relu",
            Nonlin::LeakyRelu(_) => "leaky_relu",
            Nonlin::Tanh => "tanh",
            Nonlin::Sigmoid => "sigmoid",
            Nonlin::Gelu => "gelu",
            Nonlin::Silu => "silu",
            Nonlin::Selu => "selu",
        }
    }

    /// The shared activation this is, if it is one (the autograd tape differentiates those).
    pub fn shared(self) -> Option<Activation> {
        match self {
            Nonlin::Relu => Some(Activation::Relu),
            Nonlin::Tanh => Some(Activation::Tanh),
            Nonlin::Sigmoid => Some(Activation::Sigmoid),
            Nonlin::Gelu => Some(Activation::Gelu),
            _ => None,
        }
    }

    /// `φ(x)`.
    #[inline]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Nonlin::Linear => x,
            Nonlin::Relu => Activation::Relu.apply(x),
            Nonlin::LeakyRelu(a) => {
                if x > 0.0 {
                    x
                } else {
                    a * x
                }
            }
            Nonlin::Tanh => crate::math::tanh(x),
            Nonlin::Sigmoid => sigmoid(x),
            Nonlin::Gelu => gelu_erf(x),
            Nonlin::Silu => x * sigmoid(x),
            Nonlin::Selu => {
                if x > 0.0 {
                    SELU_SCALE * x
                } else {
                    SELU_SCALE * SELU_ALPHA * (crate::math::exp(x) - 1.0)
                }
            }
        }
    }

    /// `φ'(x)` (the kinks of ReLU and leaky ReLU take the left derivative at 0, as PyTorch does).
    #[inline]
    pub fn derivative(self, x: f64) -> f64 {
        match self {
            Nonlin::Linear => 1.0,
            Nonlin::LeakyRelu(a) => {
                if x > 0.0 {
                    1.0
                } else {
                    a
                }
            }
            Nonlin::Silu => {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }
            Nonlin::Selu => {
                if x > 0.0 {
                    SELU_SCALE
                } else {
                    SELU_SCALE * SELU_ALPHA * crate::math::exp(x)
                }
            }
            other => other.shared().map_or(1.0, |a| a.derivative(x)),
        }
    }

    /// `(φ(x), φ'(x))`.
    #[inline]
    pub fn apply_with_derivative(self, x: f64) -> (f64, f64) {
        match self.shared() {
            Some(a) => a.apply_with_derivative(x),
            None => (self.apply(x), self.derivative(x)),
        }
    }

    /// PyTorch's `torch.nn.init.calculate_gain`: 1 for linear and sigmoid, 5/3 for tanh, √2 for ReLU,
    /// √(2/(1 + a²)) for leaky ReLU, 3/4 for SELU; PyTorch has no gain for GELU or SiLU (`None`).
    pub fn pytorch_gain(self) -> Option<f64> {
        match self {
            Nonlin::Linear | Nonlin::Sigmoid => Some(1.0),
            Nonlin::Tanh => Some(5.0 / 3.0),
            Nonlin::Relu => Some(std::f64::consts::SQRT_2),
            Nonlin::LeakyRelu(a) => Some((2.0 / (1.0 + a * a)).sqrt()),
            Nonlin::Selu => Some(0.75),
            Nonlin::Gelu | Nonlin::Silu => None,
        }
    }

    /// Whether `φ` or `φ'` has a kink or jump (at 0): ReLU, leaky ReLU, SELU.
    pub fn kinked(self) -> bool {
        matches!(self, Nonlin::Relu | Nonlin::LeakyRelu(_) | Nonlin::Selu)
    }

    /// The accurate `N(0, 1)` rule for one-dimensional expectations of `φ` ([`quadrature::graded_normal`]).
    pub fn rule(self) -> quadrature::GaussHermite {
        quadrature::graded_normal()
    }

    /// A cheaper rule, accurate to about 1e-7 (what a figure needs): Gauss–Hermite for the smooth activations,
    /// Gauss–Legendre panels split at the kink for the others ([`quadrature`] explains why).
    pub fn fast_rule(self) -> quadrature::GaussHermite {
        if self.kinked() {
            quadrature::split_normal(0.0)
        } else {
            quadrature::GaussHermite::new(quadrature::DEFAULT_NODES)
        }
    }

    /// The gain that keeps a unit second moment fixed: `1/√E[φ(z)²]`, `z ~ N(0, 1)` — the `σ_w` for which
    /// `q = 1` is a fixed point of the length map with no bias. It is √2 for ReLU and √(2/(1 + a²)) for
    /// leaky ReLU (PyTorch's values), 1 for SELU (its self-normalising fixed point) and about 1.59 for tanh.
    pub fn moment_gain(self) -> f64 {
        let m = self.rule().expect(|z| self.apply(z) * self.apply(z));
        1.0 / m.sqrt()
    }
}

/// The layout of a weight tensor's axes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `(out, in, *kernel)`: PyTorch's `nn.Linear` `(out, in)` and `nn.Conv2d` `(out, in, kh, kw)`.
    PyTorch,
    /// `(*kernel, in, out)`: Keras/TensorFlow `Dense` `(in, out)` and `Conv2D` `(kh, kw, in, out)`; also
    /// JAX/Flax's default (`in_axis = −2`, `out_axis = −1`).
    Keras,
}

impl Layout {
    /// Every layout.
    pub const ALL: [Layout; 2] = [Layout::PyTorch, Layout::Keras];
    /// `pytorch` (also `torch`) or `keras` (also `tf`, `tensorflow`, `jax`, `flax`).
    pub fn parse(s: &str) -> Option<Layout> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pytorch" | "torch" => Some(Layout::PyTorch),
            "keras" | "tf" | "tensorflow" | "jax" | "flax" => Some(Layout::Keras),
            _ => None,
        }
    }
    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Layout::PyTorch => "pytorch",
            Layout::Keras => "keras",
        }
    }
}

/// The fans of a weight tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fans {
    /// Inputs that feed one output: `in · receptive_field`.
    pub fan_in: usize,
    /// Outputs one input feeds: `out · receptive_field`.
    pub fan_out: usize,
    /// The product of the kernel's spatial sizes (1 for a dense layer).
    pub receptive_field: usize,
}

/// The fans of a weight of `shape` in `layout`, as PyTorch's `_calculate_fan_in_and_fan_out` and Keras's
/// `compute_fans` compute them. PyTorch refuses fewer than two axes; Keras takes a single axis as both fans.
///
/// # Errors
/// An empty shape, a zero size, or a one-axis shape in PyTorch's layout.
pub fn fans(shape: &[usize], layout: Layout) -> Result<Fans, ShapeError> {
    if shape.is_empty() || shape.contains(&0) {
        return Err(ShapeError::Invalid {
            op: "fans",
            message: format!("a weight shape needs at least one axis and no zero size, got {shape:?}"),
        });
    }
    if shape.len() == 1 {
        return match layout {
            Layout::Keras => Ok(Fans {
                fan_in: shape[0],
                fan_out: shape[0],
                receptive_field: 1,
            }),
            Layout::PyTorch => Err(ShapeError::Invalid {
                op: "fans",
                message: "PyTorch cannot compute fans for a tensor with fewer than 2 dimensions"
                    .to_string(),
            }),
        };
    }
    let (fan_in_axis, fan_out_axis, receptive_field) = match layout {
        Layout::PyTorch => (shape[1], shape[0], shape[2..].iter().product::<usize>()),
        Layout::Keras => {
            let n = shape.len();
            (shape[n - 2], shape[n - 1], shape[..n - 2].iter().product())
        }
    };
    Ok(Fans {
        fan_in: fan_in_axis * receptive_field,
        fan_out: fan_out_axis * receptive_field,
        receptive_field,
    })
}

/// Which fan a scheme divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanMode {
    /// Preserves the forward second moment (LeCun, He's default).
    FanIn,
    /// Preserves the backward second moment (He et al. 2015, §2.2 "backward propagation case").
    FanOut,
    /// The average `(fan_in + fan_out)/2` (Glorot & Bengio's compromise).
    FanAvg,
}

impl FanMode {
    /// Every mode.
    pub const ALL: [FanMode; 3] = [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg];
    /// `fan_in`, `fan_out` or `fan_avg`.
    pub fn parse(s: &str) -> Option<FanMode> {
        FanMode::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
            FanMode::FanAvg => "fan_avg",
        }
    }
    /// The fan this mode divides by.
    pub fn of(self, f: Fans) -> f64 {
        match self {
            FanMode::FanIn => f.fan_in as f64,
            FanMode::FanOut => f.fan_out as f64,
            FanMode::FanAvg => (f.fan_in + f.fan_out) as f64 / 2.0,
        }
    }
}

/// An initialisation scheme as the libraries name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `xavier_uniform_` / `GlorotUniform`: `U(−a, a)`, `a = gain·√(6/(fan_in + fan_out))`.
    XavierUniform,
    /// `xavier_normal_` / `GlorotNormal`: std `gain·√(2/(fan_in + fan_out))`.
    XavierNormal,
    /// `kaiming_uniform_` / `HeUniform`: `a = gain·√(3/fan)`.
    KaimingUniform,
    /// `kaiming_normal_` / `HeNormal`: std `gain/√fan`.
    KaimingNormal,
    /// `LecunUniform`: `a = √(3/fan_in)`.
    LecunUniform,
    /// `LecunNormal`: std `1/√fan_in`.
    LecunNormal,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Scheme; 6] = [
        Scheme::XavierUniform,
        Scheme::XavierNormal,
        Scheme::KaimingUniform,
        Scheme::KaimingNormal,
        Scheme::LecunUniform,
        Scheme::LecunNormal,
    ];
    /// The names PyTorch and Keras use (`glorot_uniform`, `he_normal`, … are accepted too).
    pub fn parse(s: &str) -> Option<Scheme> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "xavier_uniform" | "glorot_uniform" => Scheme::XavierUniform,
            "xavier_normal" | "glorot_normal" => Scheme::XavierNormal,
            "kaiming_uniform" | "he_uniform" => Scheme::KaimingUniform,
            "kaiming_normal" | "he_normal" => Scheme::KaimingNormal,
            "lecun_uniform" => Scheme::LecunUniform,
            "lecun_normal" => Scheme::LecunNormal,
            _ => return None,
        })
    }
    /// The canonical (PyTorch-style) name.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::XavierUniform => "xavier_uniform",
            Scheme::XavierNormal => "xavier_normal",
            Scheme::KaimingUniform => "kaiming_uniform",
            Scheme::KaimingNormal => "kaiming_normal",
            Scheme::LecunUniform => "lecun_uniform",
            Scheme::LecunNormal => "lecun_normal",
        }
    }
    /// Whether the scheme draws from a uniform distribution.
    pub fn uniform(self) -> bool {
        matches!(
            self,
            Scheme::XavierUniform | Scheme::KaimingUniform | Scheme::LecunUniform
        )
    }
    /// The fan the scheme divides by unless told otherwise.
    pub fn default_mode(self) -> FanMode {
        match self {
            Scheme::XavierUniform | Scheme::XavierNormal => FanMode::FanAvg,
            _ => FanMode::FanIn,
        }
    }
    /// Whether the scheme takes an activation's gain (LeCun's does not: its gain is 1).
    pub fn has_gain(self) -> bool {
        !matches!(self, Scheme::LecunUniform | Scheme::LecunNormal)
    }
}

/// Everything one initialisation computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitStats {
    /// The fans of the shape.
    pub fans: Fans,
    /// The fan divided by (after the mode).
    pub fan: f64,
    /// The gain.
    pub gain: f64,
    /// The weights' variance `gain²/fan`.
    pub variance: f64,
    /// Its standard deviation.
    pub std: f64,
    /// The bound `√3·std` of the uniform distribution with that variance (the scheme's bound if uniform).
    pub uniform_bound: f64,
    /// For a normal scheme drawn truncated at ±2 scale units (Keras, JAX), the scale parameter passed to the
    /// truncated normal, `std / 0.8796…`; equal to `std` for an untruncated draw.
    pub normal_scale: f64,
}

/// The statistics of `scheme` for a weight of fans `fans`, with `gain` and fan mode `mode`; `truncated`
/// says whether a normal draw is truncated at two scale units and corrected (Keras, JAX) or not (PyTorch).
pub fn init_stats(fans: Fans, mode: FanMode, gain: f64, truncated: bool) -> InitStats {
    let fan = mode.of(fans);
    let variance = gain * gain / fan;
    let std = variance.sqrt();
    InitStats {
        fans,
        fan,
        gain,
        variance,
        std,
        uniform_bound: 3f64.sqrt() * std,
        normal_scale: if truncated {
            std / truncated_normal_std(2.0)
        } else {
            std
        },
    }
}

/// The standard deviation of a standard normal truncated to `[−c, c]`:
/// `√(1 − 2cφ(c)/(2Φ(c) − 1))`. At `c = 2` it is 0.8796…, the constant Keras's `VarianceScaling` and JAX's
/// `variance_scaling` divide by.
pub fn truncated_normal_std(c: f64) -> f64 {
    let mass = erf(c / std::f64::consts::SQRT_2);
    (1.0 - 2.0 * c * normal_pdf(c) / mass).sqrt()
}

/// PyTorch's default for `nn.Linear` and `nn.Conv*` weights: `kaiming_uniform_(a = √5)`, i.e. gain
/// `√(2/(1 + 5)) = √(1/3)` and bound `√3·gain/√fan_in = 1/√fan_in`; its variance is `1/(3 fan_in)`.
pub fn pytorch_default_variance(fan_in: usize) -> f64 {
    let gain = Nonlin::LeakyRelu(5f64.sqrt()).pytorch_gain().unwrap_or(1.0);
    let bound = 3f64.sqrt() * gain / (fan_in as f64).sqrt();
    bound * bound / 3.0
}

/// The initialisations the experiments compare, for a layer of `fan_in` inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// `N(0, 0.01²)` whatever the width: the fixed small scale of pre-2010 practice.
    Small,
    /// PyTorch's `nn.Linear` default, `U(−1/√fan_in, 1/√fan_in)`: `σ_w² = 1/3`.
    TorchDefault,
    /// LeCun `N(0, 1/fan_in)` (equal to Glorot for a square layer): `σ_w² = 1`.
    Lecun,
    /// He `N(0, 2/fan_in)`: `σ_w² = 2`.
    He,
    /// `N(0, g²/fan_in)` with the activation's moment gain `g = 1/√E[φ(z)²]` ([`Nonlin::moment_gain`]).
    Matched,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 5] = [
        Preset::Small,
        Preset::TorchDefault,
        Preset::Lecun,
        Preset::He,
        Preset::Matched,
    ];
    /// `small`, `torch_default`, `lecun` (also `xavier`, `glorot`), `he` (also `kaiming`), `matched`.
    pub fn parse(s: &str) -> Option<Preset> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "small" => Preset::Small,
            "torch_default" | "pytorch_default" => Preset::TorchDefault,
            "lecun" | "xavier" | "glorot" => Preset::Lecun,
            "he" | "kaiming" => Preset::He,
            "matched" => Preset::Matched,
            _ => return None,
        })
    }
    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Small => "small",
            Preset::TorchDefault => "torch_default",
            Preset::Lecun => "lecun",
            Preset::He => "he",
            Preset::Matched => "matched",
        }
    }
    /// `σ_w² = fan_in · Var(w)` for a layer of `fan_in` inputs before `phi`.
    pub fn sigma_w2(self, fan_in: usize, phi: Nonlin) -> f64 {
        match self {
            Preset::Small => fan_in as f64 * 1e-4,
            Preset::TorchDefault => pytorch_default_variance(fan_in) * fan_in as f64,
            Preset::Lecun => 1.0,
            Preset::He => 2.0,
            Preset::Matched => {
                let g = phi.moment_gain();
                g * g
            }
        }
    }
    /// Whether the weights are drawn uniform (PyTorch's default) rather than normal.
    pub fn uniform(self) -> bool {
        self == Preset::TorchDefault
    }
    /// An `out × in` weight matrix with variance `σ_w²/in`.
    pub fn draw(
        self,
        out: usize,
        fan_in: usize,
        phi: Nonlin,
        rng: &mut crate::rng::Rng,
    ) -> crate::tensor::Tensor {
        let std = (self.sigma_w2(fan_in, phi) / fan_in as f64).sqrt();
        let a = 3f64.sqrt() * std;
        let uniform = self.uniform();
        crate::tensor::Tensor::from_fn(out, fan_in, |_, _| {
            if uniform {
                a * (2.0 * rng.uniform() - 1.0)
            } else {
                std * rng.normal()
            }
        })
    }
}

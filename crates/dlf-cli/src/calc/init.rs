//! `dlf calc init`: the fans, gain, variance, standard deviation and bounds of an initialisation scheme for a
//! weight shape in PyTorch's or Keras's layout, or the mean-field second-moment recursion through depth for an
//! activation and weight and bias variances (lesson 11). The formulas are the engine's
//! (`dlf_engine::lessons::init`); where libraries differ the choice is a command-line option.

use anyhow::{bail, Result};
use dlf_engine::lessons::init::mean_field::{depth_scale, MeanField};
use dlf_engine::lessons::init::{fans, init_stats, FanMode, Layout, Nonlin, Scheme};
use serde::Serialize;

use super::{check_finite, given, named, Given, Name, Named, Pairs, Quantity, Scalar, Topic, Uses};

/// `dlf calc init`.
#[derive(Debug)]
pub struct Init;

/// Which gain table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GainTable {
    /// `torch.nn.init.calculate_gain` (no entry for GELU or SiLU).
    PyTorch,
    /// `1/√E[φ(z)²]`, the gain that makes a unit second moment a fixed point.
    Moment,
}

impl Named for GainTable {
    const WHAT: &'static str = "gain table";
    const ALL: &'static [Self] = &[GainTable::PyTorch, GainTable::Moment];
    fn name(self) -> &'static str {
        match self {
            GainTable::PyTorch => "pytorch",
            GainTable::Moment => "moment",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// How a normal scheme draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormalDraw {
    /// An untruncated normal with the scheme's standard deviation (PyTorch).
    Plain,
    /// A normal truncated at ±2 scale units, the scale divided by 0.8796… (Keras `VarianceScaling`, JAX).
    Truncated,
}

impl Named for NormalDraw {
    const WHAT: &'static str = "normal draw";
    const ALL: &'static [Self] = &[NormalDraw::Plain, NormalDraw::Truncated];
    fn name(self) -> &'static str {
        match self {
            NormalDraw::Plain => "plain",
            NormalDraw::Truncated => "truncated",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// Options of `dlf calc init`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// The weight layout: pytorch (out, in, *kernel; the default) or keras (*kernel, in, out; also
    /// TensorFlow and JAX/Flax).
    #[arg(long, value_parser = named::<Layout>())]
    pub layout: Option<Layout>,
    /// The gain table: pytorch (torch.nn.init.calculate_gain; the default) or moment (1/√E[φ(z)²]).
    #[arg(long, value_parser = named::<GainTable>())]
    pub gain: Option<GainTable>,
    /// How a normal scheme draws: plain (PyTorch; the default) or truncated (Keras, JAX: truncated at ±2
    /// with the scale divided by 0.8796…).
    #[arg(long, value_parser = named::<NormalDraw>())]
    pub normal: Option<NormalDraw>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--layout", self.layout.is_some()),
            ("--gain", self.gain.is_some()),
            ("--normal", self.normal.is_some()),
        ])
    }
}

problem! {
    /// An initialisation or mean-field problem as the learner writes it: `scheme` and `shape` for the
    /// first, `sigma_w2` (and `activation`) for the second.
    pub struct Problem {
        required {}
        optional {
            scheme: Name<Scheme>,
            shape: Vec<usize>,
            activation: String,
            param: f64,
            mode: Name<FanMode>,
            sigma_w2: f64,
            sigma_b2: f64,
            q0: f64,
            depth: usize,
            c0: f64,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin. With \"scheme\", prints the fans, gain, variance, standard deviation and bounds
of an initialisation for a weight shape; with \"sigma_w2\" (and no scheme), prints the mean-field recursion of
the pre-activations' second moment through depth.

Initialisation input:
  scheme      \"xavier_uniform\" | \"xavier_normal\" | \"kaiming_uniform\" | \"kaiming_normal\" | \"lecun_uniform\" |
              \"lecun_normal\" (glorot_* and he_* accepted)
  shape       the weight's shape, e.g. [64, 3, 3, 3]
  activation  for the gain (xavier_*, kaiming_*): linear | relu | leaky_relu | tanh | sigmoid | gelu | silu | selu
              (default: relu for kaiming_*, linear for xavier_*; lecun_* has gain 1 and takes none)
  param       leaky_relu's negative slope (default 0.01, PyTorch's)
  mode        \"fan_in\" | \"fan_out\" | \"fan_avg\" (default: fan_avg for xavier_*, fan_in otherwise)

Formulas:
  fans      pytorch (out, in, *k): fan_in = in·Πk, fan_out = out·Πk   (torch.nn.init._calculate_fan_in_and_fan_out)
            keras (*k, in, out):   fan_in = in·Πk, fan_out = out·Πk   (keras compute_fans; one axis: both = it)
  variance  gain²/fan; std = gain/√fan; a uniform on [−a, a] with that variance has a = √3·std
            xavier (Glorot & Bengio 2010): fan = (fan_in + fan_out)/2; kaiming (He et al. 2015): fan = fan_in;
            lecun (LeCun et al. 1998): fan = fan_in, gain 1
  gain      pytorch: linear/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1 + param²)), selu 3/4, none for gelu
            and silu; moment: 1/√E[φ(z)²], z ~ N(0, 1)

Mean-field input (Poole et al. 2016; Schoenholz et al. 2017):
  activation  as above (required); param as above
  sigma_w2    fan_in·Var(w) (required); sigma_b2 bias variance (default 0)
  q0          second moment of the input (default 1); depth layers (default 10)
  c0          optional correlation of two inputs, followed through the correlation map at q*
  q^1 = sigma_w2·q0 + sigma_b2, q^l = sigma_w2·E[φ(√q^{l−1} z)²] + sigma_b2;
  chi^l = sigma_w2·E[φ'(√q^l z)²] (the mean squared gradient's factor per layer); q* the fixed point from
  q = 1, chi1 = chi at q*, depth_scale = −1/ln chi1; c ↦ (sigma_w2·E[φ(u1)φ(u2)] + sigma_b2)/q*

Where libraries differ (options):
  --layout pytorch|keras        PyTorch (out, in, kh, kw); Keras/TensorFlow and JAX/Flax (kh, kw, in, out)
  --gain pytorch|moment         PyTorch's calculate_gain table, or the second-moment fixed-point gain
  --normal plain|truncated      PyTorch draws an untruncated normal; Keras VarianceScaling and JAX
                                variance_scaling truncate at ±2 and divide the scale by 0.87962566103423978

Output: {\"topic\", \"method\", \"conventions\", \"fans\": {fan_in, fan_out, receptive_field}, \"mode\", \"fan\",
\"gain\", \"variance\", \"std\", \"bound\" (uniform schemes) or \"uniform_bound\" and \"normal_scale\" (normal
schemes)}; or {\"topic\", \"method\": \"mean_field\", \"conventions\", \"q\", \"chi\", \"q_star\", \"chi1\",
\"depth_scale\", \"phase\", \"c\" (when c0 is given)}.

Examples:
  echo '{\"scheme\":\"kaiming_uniform\",\"shape\":[64,3,3,3],\"activation\":\"relu\"}' | dlf calc init
  echo '{\"scheme\":\"he_normal\",\"shape\":[3,3,64,128]}' | dlf calc init --layout keras --normal truncated
  echo '{\"activation\":\"tanh\",\"sigma_w2\":1.5,\"sigma_b2\":0.05,\"depth\":5}' | dlf calc init";

/// Everything printed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// An initialisation's statistics.
    Init(InitAnswer),
    /// The mean-field recursion.
    MeanField(MeanFieldAnswer),
}

/// An initialisation's statistics.
#[derive(Debug, Serialize)]
pub struct InitAnswer {
    topic: &'static str,
    method: &'static str,
    conventions: Pairs,
    fans: FansOut,
    mode: &'static str,
    fan: f64,
    gain: f64,
    variance: f64,
    std: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    bound: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uniform_bound: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    normal_scale: Option<f64>,
}

#[derive(Debug, Serialize)]
struct FansOut {
    fan_in: usize,
    fan_out: usize,
    receptive_field: usize,
}

/// The mean-field recursion.
#[derive(Debug, Serialize)]
pub struct MeanFieldAnswer {
    topic: &'static str,
    method: &'static str,
    conventions: Pairs,
    q: Vec<f64>,
    chi: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    q_star: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chi1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    depth_scale: Option<f64>,
    phase: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    c: Option<Vec<f64>>,
}

fn activation(raw: Option<&str>, param: Option<f64>, default: &str) -> Result<Nonlin> {
    let slope = param.unwrap_or(0.01);
    if !(slope.is_finite() && slope >= 0.0) {
        bail!("param (the leaky ReLU's negative slope) must be a finite number ≥ 0, got {slope}");
    }
    let name = raw.unwrap_or(default);
    Nonlin::parse(name, slope).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown activation `{name}`; known: {}",
            Nonlin::NAMES.join(", ")
        )
    })
}

fn init_fields(scheme: Scheme, activation: Option<&str>) -> Vec<&'static str> {
    let mut f = vec!["scheme", "shape", "mode", "--layout"];
    if scheme.has_gain() {
        f.extend(["activation", "--gain"]);
        if activation.is_some_and(|a| a.trim().eq_ignore_ascii_case("leaky_relu")) {
            f.push("param");
        }
    }
    if !scheme.uniform() {
        f.push("--normal");
    }
    f
}

fn solve_init(scheme: Scheme, raw: Problem, options: &Options) -> Result<InitAnswer> {
    let layout = options.layout.unwrap_or(Layout::PyTorch);
    let Some(shape) = raw.shape else {
        bail!("{} needs \"shape\", the weight's shape (e.g. [64, 3, 3, 3])", scheme.name());
    };
    let f = fans(&shape, layout)?;
    let mode = raw.mode.map_or(scheme.default_mode(), |m| m.0);
    let table = options.gain.unwrap_or(GainTable::PyTorch);
    let (gain, act_name) = if scheme.has_gain() {
        let default = if matches!(scheme, Scheme::KaimingUniform | Scheme::KaimingNormal) {
            "relu"
        } else {
            "linear"
        };
        let phi = activation(raw.activation.as_deref(), raw.param, default)?;
        let g = match table {
            GainTable::PyTorch => phi.pytorch_gain().ok_or_else(|| {
                anyhow::anyhow!(
                    "PyTorch's calculate_gain has no gain for {}; use --gain moment for 1/√E[φ(z)²]",
                    phi.name()
                )
            })?,
            GainTable::Moment => phi.moment_gain(),
        };
        (g, phi.name())
    } else {
        (1.0, "none (LeCun: gain 1)")
    };
    let draw = options.normal.unwrap_or(NormalDraw::Plain);
    let s = init_stats(f, mode, gain, draw == NormalDraw::Truncated);
    let mut conventions = vec![
        ("layout", Scalar::Text(layout.name())),
        ("activation", Scalar::Text(act_name)),
    ];
    if scheme.has_gain() {
        conventions.push(("gain_table", Scalar::Text(table.name())));
    }
    if !scheme.uniform() {
        conventions.push(("normal", Scalar::Text(draw.name())));
    }
    Ok(InitAnswer {
        topic: Init::NAME,
        method: scheme.name(),
        conventions: Pairs(conventions),
        fans: FansOut {
            fan_in: f.fan_in,
            fan_out: f.fan_out,
            receptive_field: f.receptive_field,
        },
        mode: mode.name(),
        fan: s.fan,
        gain,
        variance: s.variance,
        std: s.std,
        bound: scheme.uniform().then_some(s.uniform_bound),
        uniform_bound: (!scheme.uniform()).then_some(s.uniform_bound),
        normal_scale: (!scheme.uniform()).then_some(s.normal_scale),
    })
}

fn solve_mean_field(raw: Problem) -> Result<MeanFieldAnswer> {
    let Some(sigma_w2) = raw.sigma_w2 else {
        bail!("give \"scheme\" (an initialiser) or \"sigma_w2\" (the mean-field recursion)");
    };
    let Some(act) = raw.activation.as_deref() else {
        bail!("the mean-field recursion needs \"activation\"");
    };
    let phi = activation(Some(act), raw.param, "relu")?;
    let sigma_b2 = raw.sigma_b2.unwrap_or(0.0);
    let q0 = raw.q0.unwrap_or(1.0);
    for (name, v) in [("sigma_w2", sigma_w2), ("sigma_b2", sigma_b2), ("q0", q0)] {
        if !(v.is_finite() && v >= 0.0) {
            bail!("{name} must be a finite number ≥ 0, got {v}");
        }
    }
    let depth = raw.depth.unwrap_or(10);
    if !(1..=10_000).contains(&depth) {
        bail!("depth must be between 1 and 10000, got {depth}");
    }
    let mf = MeanField::new(phi, sigma_w2, sigma_b2);
    let q = mf.trajectory(q0, depth);
    check_finite(
        Init::NAME,
        "length map",
        &[Quantity::vector("q", &q, "sigma_w2·E[φ(√q z)²] + sigma_b2")],
        |_, _| Some("the second moment grows past the range of a double: the map has no fixed point".into()),
    )?;
    let chi: Vec<f64> = q.iter().map(|v| mf.chi(*v)).collect();
    let q_star = mf.fixed_point();
    let chi1 = q_star.map(|v| mf.chi(v));
    let phase = match chi1 {
        None => "no fixed point (the second moment runs away or collapses)",
        Some(c) if (c - 1.0).abs() < 1e-9 => "critical (edge of chaos)",
        Some(c) if c < 1.0 => "ordered (chi1 < 1: gradients vanish, inputs converge)",
        Some(_) => "chaotic (chi1 > 1: gradients explode, inputs decorrelate)",
    };
    let c = match raw.c0 {
        None => None,
        Some(c0) => {
            if !(-1.0..=1.0).contains(&c0) {
                bail!("c0 is a correlation and must lie in [−1, 1], got {c0}");
            }
            let Some(qs) = q_star else {
                bail!("c0 needs the length map's fixed point q*, which this activation and sigma_w2 do not have");
            };
            Some(mf.correlation_trajectory(qs, c0, depth))
        }
    };
    Ok(MeanFieldAnswer {
        topic: Init::NAME,
        method: "mean_field",
        conventions: Pairs(vec![
            ("activation", Scalar::Text(phi.name())),
            ("sigma_w2", Scalar::Number(sigma_w2)),
            ("sigma_b2", Scalar::Number(sigma_b2)),
            ("q0", Scalar::Number(q0)),
        ]),
        q,
        chi,
        q_star,
        chi1,
        depth_scale: chi1.filter(|c| (c - 1.0).abs() > 1e-12).map(depth_scale).filter(|v| v.is_finite()),
        phase,
        c,
    })
}

impl Topic for Init {
    const NAME: &'static str = "init";
    const ABOUT: &'static str =
        "Fans, gain, variance and bounds of an initialiser, or the mean-field recursion through depth (lesson 11)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        match problem.scheme {
            Some(Name(scheme)) => Uses {
                method: scheme.name(),
                fields: init_fields(scheme, problem.activation.as_deref()),
            },
            None => {
                let mut fields = vec!["activation", "sigma_w2", "sigma_b2", "q0", "depth", "c0"];
                if problem
                    .activation
                    .as_deref()
                    .is_some_and(|a| a.trim().eq_ignore_ascii_case("leaky_relu"))
                {
                    fields.push("param");
                }
                Uses {
                    method: "mean_field",
                    fields,
                }
            }
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        match raw.scheme {
            Some(Name(scheme)) => Ok(Answer::Init(solve_init(scheme, raw, options)?)),
            None => Ok(Answer::MeanField(solve_mean_field(raw)?)),
        }
    }
}

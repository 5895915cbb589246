//! `dlf calc posenc`: sinusoidal encodings of given positions, RoPE applied to a matrix (with the scores of
//! rotated queries and keys), and ALiBi's slopes and bias matrices, so a learner can check a hand computation
//! line by line (lesson 05). The numerics are the engine's (`dlf_engine::lessons::posenc`); where codebases
//! differ the choice is a command-line option named after who uses it.

use anyhow::{anyhow, bail, Result};
use dlf_engine::lessons::posenc::{
    alibi_bias, alibi_slopes, apply_rope, sinusoid_frequencies, sinusoidal, Pairing, Rope, Scaling,
    SinusoidLayout, DEFAULT_BASE,
};
use dlf_engine::tensor::Tensor;
use serde::Serialize;

use super::{check_finite, given, named, rows, Given, Name, Named, Numbers, Pairs, Quantity, Scalar, Topic, Uses};

/// `dlf calc posenc`.
#[derive(Debug)]
pub struct Posenc;

/// Options of `dlf calc posenc`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Sinusoid layout: interleaved (the paper's sin/cos in alternate columns, ω_i = b^(−2i/d); the default)
    /// or tensor2tensor ([sin | cos] halves, ω_i = b^(−i/(d/2−1)); also fairseq).
    #[arg(long, value_parser = named::<SinusoidLayout>())]
    pub layout: Option<SinusoidLayout>,
    /// RoPE pairing: interleaved (coordinates 2i, 2i+1: RoFormer, Meta's LLaMA code, GPT-J) or rotate-half
    /// (coordinates i, i + d/2: GPT-NeoX, Hugging Face LLaMA; the default).
    #[arg(long, value_parser = named::<Pairing>())]
    pub pairing: Option<Pairing>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[("--layout", self.layout.is_some()), ("--pairing", self.pairing.is_some())])
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Sinusoidal encodings.
    Sinusoidal,
    /// RoPE on a matrix.
    Rope,
    /// ALiBi slopes and biases.
    Alibi,
}

impl Named for Method {
    const WHAT: &'static str = "method";
    const ALL: &'static [Self] = &[Method::Sinusoidal, Method::Rope, Method::Alibi];
    fn name(self) -> &'static str {
        match self {
            Method::Sinusoidal => "sinusoidal",
            Method::Rope => "rope",
            Method::Alibi => "alibi",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
}

problem! {
    /// A positional-encoding problem as the learner writes it.
    pub struct Problem {
        required {
            method: Name<Method>,
        }
        optional {
            positions: Vec<f64>,
            dim: f64,
            base: f64,
            x: Numbers,
            k: Numbers,
            scaling: Name<Scaling>,
            factor: f64,
            original_context: f64,
            beta_fast: f64,
            beta_slow: f64,
            heads: f64,
            length: f64,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin and prints a positional encoding with every intermediate.

method \"sinusoidal\": the encodings of the given positions
  positions   list of positions (required), dim (required, even), base (default 10000)
  interleaved   PE[p][2i] = sin(p·ω_i), PE[p][2i+1] = cos(p·ω_i), ω_i = base^(−2i/dim)   (Vaswani et al. 2017)
  tensor2tensor PE[p][i] = sin(p·ω_i), PE[p][dim/2+i] = cos(p·ω_i), ω_i = base^(−i/(dim/2−1))
                (tensor2tensor's get_timing_signal_1d, fairseq's SinusoidalPositionalEmbedding)
method \"rope\": RoPE applied to each row of x (a token per row, width d even)
  x (required), positions (default 0, 1, …), base (default 10000), k (optional matrix of keys, same width:
  prints the scores q_m·k_n of the rotated rows), scaling \"none\" | \"linear\" | \"ntk\" | \"yarn\" with factor s
  (≥ 1) and original_context L (YaRN, default 2048; beta_fast default 32, beta_slow default 1)
  θ_i = base^(−2i/d) (Su et al. 2021); pair i turns by p·θ_i: (a, b) ↦ (a cos − b sin, a sin + b cos)
  linear (position interpolation, Chen et al. 2023): θ_i/s
  ntk (bloc97 2023): base·s^(d/(d−2))
  yarn (Peng et al. 2023): (1 − γ_i)·θ_i/s + γ_i·θ_i, γ_i = 1 − clamp((i − low)/(high − low), 0, 1),
    low = ⌊d·ln(L/(2π·beta_fast))/(2 ln base)⌋, high = ⌈d·ln(L/(2π·beta_slow))/(2 ln base)⌉ (the reference
    code's rounding), and every rotated entry times 0.1·ln s + 1 (so the logits times its square)
method \"alibi\": ALiBi's slopes for heads (required), and with length the bias matrices −m·|i − j|
  (a causal model uses j ≤ i: −m·(i − j))   (Press, Smith & Lewis 2022)
  heads = 2^k: m_h = 2^(−8h/heads), h = 1..heads; otherwise, p = the largest power of two below heads:
  the p slopes for p heads, then 2^(−4(2j+1)/p), j = 0..heads−p−1 (the reference code's get_slopes)

Where codebases differ (options):
  --layout interleaved|tensor2tensor      sinusoid layout (see above)
  --pairing interleaved|rotate-half       RoPE's pairs: interleaved (2i, 2i+1): the RoFormer paper, Meta's
                                          LLaMA reference code (view_as_complex), GPT-J; rotate-half (i, i+d/2):
                                          GPT-NeoX, Hugging Face transformers (rotate_half) — the default

Example:
  echo '{\"method\":\"rope\",\"x\":[[1,0,0,1]],\"positions\":[3]}' | dlf calc posenc --pairing interleaved";

/// Everything printed.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    method: &'static str,
    conventions: Pairs,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequencies: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wavelengths: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_rows")]
    encoding: Option<Tensor>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_rows")]
    angles: Option<Tensor>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_rows")]
    rotated: Option<Tensor>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_rows")]
    rotated_k: Option<Tensor>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_rows")]
    scores: Option<Tensor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slopes: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bias: Vec<Matrix>,
}

/// A matrix printed as rows.
#[derive(Debug, Serialize)]
struct Matrix(#[serde(serialize_with = "rows")] Tensor);

fn opt_rows<S: serde::Serializer>(t: &Option<Tensor>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rows(t, s),
        None => s.serialize_none(),
    }
}

/// A whole number ≥ `min` from a JSON number.
fn whole(name: &str, v: f64, min: usize, max: usize) -> Result<usize> {
    if v.fract() != 0.0 || v < min as f64 || v > max as f64 {
        bail!("{name} must be a whole number between {min} and {max}, got {v}");
    }
    Ok(v as usize)
}

fn fields(method: Method, scaling: Option<Scaling>) -> Vec<&'static str> {
    match method {
        Method::Sinusoidal => vec!["positions", "dim", "base", "--layout"],
        Method::Rope => {
            let mut f = vec!["positions", "base", "k", "scaling", "--pairing"];
            match scaling {
                Some(Scaling::Linear | Scaling::Ntk) => f.push("factor"),
                Some(Scaling::Yarn) => f.extend(["factor", "original_context", "beta_fast", "beta_slow"]),
                Some(Scaling::None) | None => {}
            }
            f
        }
        Method::Alibi => vec!["length"],
    }
}

impl Topic for Posenc {
    const NAME: &'static str = "posenc";
    const ABOUT: &'static str =
        "Sinusoidal encodings, RoPE on a matrix (two pairings, PI/NTK/YaRN) and ALiBi slopes and biases (lesson 05)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, _: &Options) -> Uses {
        let method = problem.method.0;
        let mut f = fields(method, problem.scaling.map(|s| s.0));
        // The required fields of each method are listed so that the "unused" check lets them through; a
        // missing one is reported by solve.
        match method {
            Method::Rope => f.push("x"),
            Method::Alibi => f.push("heads"),
            Method::Sinusoidal => {}
        }
        Uses {
            method: method.name(),
            fields: f,
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        let method = raw.method.0;
        let base = raw.base.unwrap_or(DEFAULT_BASE);
        let mut answer = Answer {
            topic: Posenc::NAME,
            method: method.name(),
            conventions: Pairs::default(),
            frequencies: None,
            wavelengths: None,
            encoding: None,
            angles: None,
            rotated: None,
            rotated_k: None,
            scores: None,
            slopes: None,
            bias: Vec::new(),
        };
        match method {
            Method::Sinusoidal => {
                let layout = options.layout.unwrap_or(SinusoidLayout::Interleaved);
                let positions = raw.positions.ok_or_else(|| anyhow!("sinusoidal needs positions"))?;
                let dim = whole("dim", raw.dim.ok_or_else(|| anyhow!("sinusoidal needs dim"))?, 2, 1 << 16)?;
                let freqs = sinusoid_frequencies(dim, base, layout).map_err(|e| anyhow!("{e}"))?;
                let pe = sinusoidal(&positions, dim, base, layout).map_err(|e| anyhow!("{e}"))?;
                check_finite(Posenc::NAME, "encoding", &[Quantity::matrix("encoding", &pe, "sin(p·ω), cos(p·ω)")], |_, _| None)?;
                answer.conventions = Pairs(vec![("layout", Scalar::Text(layout.name())), ("base", Scalar::Number(base))]);
                answer.wavelengths = Some(freqs.iter().map(|w| 2.0 * std::f64::consts::PI / w).collect());
                answer.frequencies = Some(freqs);
                answer.encoding = Some(pe);
            }
            Method::Rope => {
                let pairing = options.pairing.unwrap_or(Pairing::RotateHalf);
                let x = raw.x.ok_or_else(|| anyhow!("rope needs x (a matrix, one token per row)"))?.matrix("x")?;
                let d = x.cols();
                if d % 2 != 0 || d < 4 {
                    bail!("x has {d} columns: RoPE needs an even width of at least 4");
                }
                let positions = match raw.positions {
                    Some(p) if p.len() != x.rows() => bail!(
                        "positions has {} entries but x has {} rows: give one position per row",
                        p.len(),
                        x.rows()
                    ),
                    Some(p) => p,
                    None => (0..x.rows()).map(|r| r as f64).collect(),
                };
                let scaling = raw.scaling.map_or(Scaling::None, |s| s.0);
                let mut rope = Rope::new(d, base).scaled(
                    scaling,
                    raw.factor.unwrap_or(1.0),
                    raw.original_context.unwrap_or(2048.0),
                );
                rope.beta_fast = raw.beta_fast.unwrap_or(32.0);
                rope.beta_slow = raw.beta_slow.unwrap_or(1.0);
                if scaling != Scaling::None && raw.factor.is_none() {
                    bail!("scaling {} needs factor (the extension factor s ≥ 1)", scaling.name());
                }
                let freqs = rope.frequencies().map_err(|e| anyhow!("{e}"))?;
                let scale = rope.magnitude_scale();
                let angles = Tensor::from_fn(x.rows(), freqs.len(), |r, i| positions[r] * freqs[i]);
                let rotated = apply_rope(&x, &positions, &freqs, pairing, scale).map_err(|e| anyhow!("{e}"))?;
                check_finite(
                    Posenc::NAME,
                    "rope",
                    &[
                        Quantity::matrix("angles", &angles, "p·θ_i"),
                        Quantity::matrix("rotated", &rotated, "(a cos − b sin, a sin + b cos)"),
                    ],
                    |_, _| None,
                )?;
                if let Some(k) = raw.k {
                    let k = k.matrix("k")?;
                    if k.cols() != d || k.rows() != x.rows() {
                        bail!(
                            "k is {}×{} but x is {}×{d}: the keys sit at the same positions, one per row",
                            k.rows(),
                            k.cols(),
                            x.rows()
                        );
                    }
                    let rk = apply_rope(&k, &positions, &freqs, pairing, scale).map_err(|e| anyhow!("{e}"))?;
                    let scores = rotated.matmul_nt(&rk).map_err(|e| anyhow!("{e}"))?;
                    check_finite(Posenc::NAME, "scores", &[Quantity::matrix("scores", &scores, "q_m·k_n")], |_, _| None)?;
                    answer.rotated_k = Some(rk);
                    answer.scores = Some(scores);
                }
                let mut conventions = vec![
                    ("pairing", Scalar::Text(pairing.name())),
                    ("base", Scalar::Number(base)),
                    ("scaling", Scalar::Text(scaling.name())),
                ];
                match scaling {
                    Scaling::None => {}
                    Scaling::Linear => conventions.push(("factor", Scalar::Number(rope.factor))),
                    Scaling::Ntk => conventions.extend([
                        ("factor", Scalar::Number(rope.factor)),
                        ("effective_base", Scalar::Number(rope.effective_base())),
                    ]),
                    Scaling::Yarn => {
                        let (low, high) = rope.yarn_bounds();
                        conventions.extend([
                            ("factor", Scalar::Number(rope.factor)),
                            ("original_context", Scalar::Number(rope.original_context)),
                            ("ramp_low", Scalar::Number(low)),
                            ("ramp_high", Scalar::Number(high)),
                            ("magnitude_scale", Scalar::Number(scale)),
                            ("logit_scale", Scalar::Number(scale * scale)),
                        ]);
                    }
                }
                answer.conventions = Pairs(conventions);
                answer.wavelengths = Some(freqs.iter().map(|w| 2.0 * std::f64::consts::PI / w).collect());
                answer.frequencies = Some(freqs);
                answer.angles = Some(angles);
                answer.rotated = Some(rotated);
            }
            Method::Alibi => {
                let heads = whole("heads", raw.heads.ok_or_else(|| anyhow!("alibi needs heads"))?, 1, 4096)?;
                let slopes = alibi_slopes(heads).map_err(|e| anyhow!("{e}"))?;
                if let Some(len) = raw.length {
                    let len = whole("length", len, 1, 512)?;
                    answer.bias = slopes.iter().map(|&m| Matrix(alibi_bias(m, len))).collect();
                }
                answer.conventions = Pairs(vec![(
                    "rule",
                    Scalar::Text(if heads.is_power_of_two() {
                        "power of two: 2^(-8h/H)"
                    } else {
                        "not a power of two: p = largest power of two below H, p slopes then every other slope of 2p heads"
                    }),
                )]);
                answer.slopes = Some(slopes);
            }
        }
        Ok(answer)
    }
}

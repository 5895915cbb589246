//! `dlf calc`: checkers for hand computations. Each topic reads one JSON problem on stdin and prints JSON with
//! every intermediate quantity, so a learner can compare a derivation done on paper line by line.
//!
//! This file is the framework every topic shares; a topic is one file next to it, named by its lesson's topic,
//! with a type implementing [`Topic`], and one line in the `topics!` list at the end of this file. The
//! framework gives each topic:
//!
//! - **one reader**: the problem is deserialised from stdin's text straight into the topic's typed struct
//!   (numbers into flat `Vec<f64>`s through [`Numbers`], names into the engine's enums through [`Name`]), with
//!   no `serde_json::Value` in between, so memory stays near the input's size, and a JSON error names its
//!   line and column. serde_json's `float_roundtrip` feature makes every number the nearest double to its
//!   decimal text;
//! - **one validator**: [`Numbers`] turns arrays into matrices or parameter groups with messages naming the
//!   field; a field or option the chosen method does not use is refused ([`Topic::uses`]);
//! - **one finiteness check**: [`check_finite`] names the first entry that is not finite, its step and its
//!   cause, and the printer refuses to print any number that is not finite, so a result is either complete,
//!   finite JSON or an error;
//! - **one printer**: [`print`] streams the answer through a formatter that keeps each vector (and each row
//!   of a matrix) on one line, numbers in their shortest form that reads back to the same double (ryu);
//! - **one kind of option**: an option naming an engine enum takes its values from [`Named`], the single
//!   place where the names of the engine's enums are listed for the command line and the problems.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::marker::PhantomData;

use anyhow::{anyhow, bail, Context, Result};
use dlf_engine::activation::Activation;
use dlf_engine::lessons::ab::power::SampleSizeFormula;
use dlf_engine::lessons::ab::sequential::Boundary;
use dlf_engine::lessons::ab::significance::TTestVariance;
use dlf_engine::lessons::ab::{Alternative, StdError};
use dlf_engine::lessons::attention::{CausalAlign, MaskFill, QkvLayout};
use dlf_engine::lessons::backprop::Loss;
use dlf_engine::lessons::calibration::{Binning, Reduction};
use dlf_engine::lessons::init::{FanMode, Layout as InitLayout, Scheme};
use dlf_engine::lessons::moe::params::Preset as MoePreset;
use dlf_engine::lessons::moe::{CapacityRounding, Score};
use dlf_engine::lessons::norm::{MomentumConvention, NormKind, RmsEps as NormEps, RunningVariance};
use dlf_engine::lessons::optim::{DecayScaling, EpsPlacement as OptimEps, Kind, MomentumStyle};
use dlf_engine::lessons::posenc::{Pairing, Scaling, SinusoidLayout};
use dlf_engine::lessons::scaling::ConstantSet;
use dlf_engine::lessons::transformer::count::{MlpKind, Preset, Recompute};
use dlf_engine::tensor::Tensor;
use serde::de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::ser::{CompactFormatter, Formatter};

/// One `dlf calc` topic: its name, its help, its options and problem, and how to solve it.
pub trait Topic {
    /// The subcommand, which is also the lesson's topic (`backprop`).
    const NAME: &'static str;
    /// One line for `dlf calc --help`.
    const ABOUT: &'static str;
    /// The conventions and formulas, printed by `dlf calc NAME --help`.
    const CONVENTIONS: &'static str;
    /// The command-line options.
    type Options: clap::Args + Given + fmt::Debug;
    /// The problem as JSON gives it, deserialised without an intermediate `serde_json::Value`.
    type Problem: DeserializeOwned + Given;
    /// Everything printed; it borrows nothing, so `solve` can move the problem's vectors into it.
    type Answer: Serialize;

    /// The method the problem chose and every optional field and option that method uses.
    fn uses(problem: &Self::Problem, options: &Self::Options) -> Uses;

    /// Solves a problem.
    ///
    /// # Errors
    /// A message for the learner: a shape that does not fit, a value out of range, or a result that is not
    /// finite ([`check_finite`]).
    fn solve(problem: Self::Problem, options: &Self::Options) -> Result<Self::Answer>;
}

/// The optional problem fields and options a method uses: `fields` lists field names and `--option` names.
#[derive(Debug, Clone)]
pub struct Uses {
    /// The method, as the learner named it (`adam`, `layernorm`).
    pub method: &'static str,
    /// The optional fields and `--options` it reads.
    pub fields: Vec<&'static str>,
}

/// Which optional fields (or options) a problem (or the command line) gave.
pub trait Given {
    /// Their names, as the learner writes them.
    fn given(&self) -> Vec<&'static str>;
}

/// The names among `fields` that are present.
pub fn given(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| *name)
        .collect()
}

/// A problem struct: `required { ... }` fields, then `optional { ... }` fields that become `Option`s. Unknown
/// fields are refused, and [`Given`] lists the optional fields present, from the same names.
macro_rules! problem {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            required { $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )* }
            optional { $( $(#[$ometa:meta])* $opt:ident : $oty:ty, )* }
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $( $(#[$ometa])* pub $opt: Option<$oty>, )*
        }

        impl $crate::calc::Given for $name {
            fn given(&self) -> Vec<&'static str> {
                $crate::calc::given(&[$( (stringify!($opt), self.$opt.is_some()) ),*])
            }
        }
    };
}

/// Runs one topic: reads the problem from stdin, refuses what the method does not use, solves, prints.
fn run_topic<T: Topic>(options: T::Options) -> Result<()> {
    // The text is read whole and parsed from memory, which is twice as fast as parsing from the stream and
    // costs one copy of the input; it is dropped once the problem holds its numbers.
    let mut text = Vec::new();
    io::stdin()
        .lock()
        .read_to_end(&mut text)
        .context("could not read stdin")?;
    let problem: T::Problem = serde_json::from_slice(&text).map_err(|e| {
        anyhow!(
            "the problem is not valid: {e} (see `dlf calc {} --help` for the expected fields)",
            T::NAME
        )
    })?;
    drop(text);
    let uses = T::uses(&problem, &options);
    for name in problem.given().into_iter().chain(options.given()) {
        if !uses.fields.contains(&name) {
            bail!(
                "{} does not use {name}; it uses {}",
                uses.method,
                used_list(&uses.fields)
            );
        }
    }
    let answer = T::solve(problem, &options)?;
    print(T::NAME, &answer, io::stdout().lock())
}

/// `lr, beta1 and --eps-placement`.
fn used_list(fields: &[&str]) -> String {
    if fields.is_empty() {
        "no optional fields".to_string()
    } else {
        one_of(fields, "and")
    }
}

/// `a, b or c` (with `word` = "or").
fn one_of(items: &[impl AsRef<str>], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} {word} {}", rest.join(", "), last.as_ref())
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Names: the engine's enums as the command line and the problems spell them.

/// An enum a problem field or an option names, with the list of every name in one place.
pub trait Named: Copy + Send + Sync + 'static {
    /// What it is, for messages (`optimizer`).
    const WHAT: &'static str;
    /// Every value, in the order messages and `--help` list them.
    const ALL: &'static [Self];
    /// The canonical name.
    fn name(self) -> &'static str;
    /// The value a name (or an alias the engine accepts) stands for.
    fn parse(s: &str) -> Option<Self>;
}

/// Implements [`Named`] for an engine enum with `name` and `parse` from the engine and the list of its
/// variants written once here; the `match` makes a variant the engine adds a build error until it is listed.
macro_rules! named {
    ($($ty:ty, $what:literal, [$($variant:path),+ $(,)?];)*) => {$(
        impl Named for $ty {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$($variant),+];
            fn name(self) -> &'static str {
                <$ty>::name(self)
            }
            fn parse(s: &str) -> Option<Self> {
                let value = <$ty>::parse(s)?;
                match value {
                    $($variant)|+ => Some(value),
                }
            }
        }
    )*};
}

named! {
    Activation, "activation", [Activation::Relu, Activation::Tanh, Activation::Gelu, Activation::Sigmoid];
    Kind, "optimizer", [Kind::Sgd, Kind::RmsProp, Kind::Adam, Kind::AdamW, Kind::Lion, Kind::Lamb];
    MomentumStyle, "momentum style", [MomentumStyle::Accumulate, MomentumStyle::Ema];
    OptimEps, "eps placement", [OptimEps::Outside, OptimEps::Inside, OptimEps::Hat];
    DecayScaling, "decay scaling", [DecayScaling::Lr, DecayScaling::Schedule];
    NormKind, "norm", [NormKind::Batch, NormKind::Layer, NormKind::Rms];
    MomentumConvention, "momentum convention", [MomentumConvention::PyTorch, MomentumConvention::Keras];
    RunningVariance, "running variance", [RunningVariance::Unbiased, RunningVariance::Biased];
    NormEps, "eps placement", [NormEps::Inside, NormEps::Outside];
    CausalAlign, "causal alignment", [CausalAlign::TopLeft, CausalAlign::BottomRight];
    MaskFill, "mask fill", [MaskFill::NegInf, MaskFill::MaskedFill, MaskFill::Additive];
    QkvLayout, "qkv layout", [QkvLayout::Blocks, QkvLayout::PerHead];
    Preset, "preset", [Preset::Gpt2Small, Preset::Gpt2Medium, Preset::Gpt2Large, Preset::Gpt2Xl, Preset::Llama2_7b, Preset::Llama2_13b, Preset::Llama2_70b, Preset::Llama3_8b];
    MlpKind, "mlp", [MlpKind::Gelu, MlpKind::SwiGlu];
    Recompute, "recomputation", [Recompute::None, Recompute::Selective, Recompute::Full];
    SinusoidLayout, "sinusoid layout", [SinusoidLayout::Interleaved, SinusoidLayout::Tensor2Tensor];
    Pairing, "pairing", [Pairing::Interleaved, Pairing::RotateHalf];
    Scaling, "scaling", [Scaling::None, Scaling::Linear, Scaling::Ntk, Scaling::Yarn];
    Score, "score function", [Score::Softmax, Score::Sigmoid];
    CapacityRounding, "capacity rounding", [CapacityRounding::Floor, CapacityRounding::Round, CapacityRounding::Ceil];
    MoePreset, "preset", [MoePreset::Mixtral, MoePreset::DeepSeekV3, MoePreset::SwitchBase, MoePreset::Brief50b];
    Binning, "binning", [Binning::RightClosed, Binning::LeftClosed, Binning::LeftClosedOwnOne, Binning::EqualMass];
    Reduction, "reliability", [Reduction::TopLabel, Reduction::ClassWise];
    StdError, "standard error", [StdError::Pooled, StdError::Unpooled];
    Alternative, "alternative", [Alternative::TwoSided, Alternative::Larger, Alternative::Smaller];
    TTestVariance, "t-test variance", [TTestVariance::Welch, TTestVariance::Student];
    SampleSizeFormula, "sample-size formula", [SampleSizeFormula::Pooled, SampleSizeFormula::Unpooled, SampleSizeFormula::CohenH, SampleSizeFormula::Statsmodels, SampleSizeFormula::Lehr];
    Boundary, "boundary", [Boundary::Fixed, Boundary::Pocock, Boundary::OBrienFleming];
    InitLayout, "layout", [InitLayout::PyTorch, InitLayout::Keras];
    FanMode, "fan mode", [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg];
    Scheme, "scheme", [Scheme::XavierUniform, Scheme::XavierNormal, Scheme::KaimingUniform, Scheme::KaimingNormal, Scheme::LecunUniform, Scheme::LecunNormal];
    ConstantSet, "constant set", [ConstantSet::Chinchilla, ConstantSet::ChinchillaUnrounded, ConstantSet::Epoch];
}

/// The engine's [`Loss`] has no names; they are given here.
impl Named for Loss {
    const WHAT: &'static str = "loss";
    const ALL: &'static [Self] = &[Loss::SoftmaxCrossEntropy, Loss::MeanSquaredError];
    fn name(self) -> &'static str {
        match self {
            Loss::SoftmaxCrossEntropy => "cross_entropy",
            Loss::MeanSquaredError => "mse",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "softmax_cross_entropy" | "ce" => Some(Loss::SoftmaxCrossEntropy),
            "mean_squared_error" => Some(Loss::MeanSquaredError),
            other => Self::ALL.iter().copied().find(|v| v.name() == other),
        }
    }
}

/// A name in a problem, read straight into the enum; an unknown name lists the known ones.
#[derive(Debug, Clone, Copy)]
pub struct Name<T>(pub T);

impl<'de, T: Named> Deserialize<'de> for Name<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::parse(&text).map(Name).ok_or_else(|| {
            let names: Vec<String> = T::ALL.iter().map(|v| format!("{:?}", v.name())).collect();
            de::Error::custom(format!(
                "unknown {} {text:?}: use {}",
                T::WHAT,
                one_of(&names, "or")
            ))
        })
    }
}

/// The value parser of an option naming a [`Named`] enum: `--help` and errors list [`Named::ALL`].
pub fn named<T: Named>() -> NamedParser<T> {
    NamedParser(PhantomData)
}

/// See [`named`].
#[derive(Debug, Clone, Copy)]
pub struct NamedParser<T>(PhantomData<T>);

impl<T: Named> clap::builder::TypedValueParser for NamedParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        if let Some(v) = value.to_str().and_then(T::parse) {
            return Ok(v);
        }
        // Not a name: clap's own parser of the names reports it, with the list.
        let names = clap::builder::PossibleValuesParser::new(T::ALL.iter().map(|v| v.name()));
        names.parse_ref(cmd, arg, value)?;
        Err(clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            T::ALL
                .iter()
                .map(|v| clap::builder::PossibleValue::new(v.name())),
        ))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Numbers: arrays of numbers or of arrays of numbers, read into one flat vector.

/// A JSON array of numbers, or an array of arrays of numbers (rows of a matrix, or groups), read straight
/// into one flat vector; [`Numbers::matrix`] and [`Numbers::groups`] check the shape with the field's name.
#[derive(Debug, Default)]
pub struct Numbers {
    values: Vec<f64>,
    /// The length of each inner array, or `None` when the items are numbers.
    rows: Option<Vec<usize>>,
    /// The first item that is a number where the first item was an array, or the other way round.
    mixed: Option<usize>,
}

/// How items of a [`Numbers`] array are laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    /// The size of each group (one group for a flat array).
    pub sizes: Vec<usize>,
    /// Whether the JSON gave an array of arrays (and the output should too).
    pub nested: bool,
}

impl Numbers {
    /// How many items (numbers or inner arrays) the outer array has.
    fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.values.len(), Vec::len)
    }

    fn check_mixed(&self, name: &str) -> Result<()> {
        if let Some(i) = self.mixed {
            let (first, this) = if self.rows.is_some() {
                ("an array", "a number")
            } else {
                ("a number", "an array")
            };
            bail!("{name}[{i}] is {this} but {name}[0] is {first}: give numbers, or arrays of numbers");
        }
        Ok(())
    }

    /// A matrix: a non-empty array of non-empty rows of equal length.
    ///
    /// # Errors
    /// Naming `name` when it is empty, flat, ragged or has an empty first row.
    pub fn matrix(self, name: &str) -> Result<Tensor> {
        self.check_mixed(name)?;
        let rows = match self.rows {
            None if self.values.is_empty() => bail!("{name} is empty: it needs at least one row"),
            None => bail!("{name} must be a matrix (an array of rows), not an array of numbers"),
            Some(rows) => rows,
        };
        let c = rows[0];
        if c == 0 {
            bail!("{name} has an empty first row");
        }
        if let Some((i, n)) = rows.iter().enumerate().find(|(_, &n)| n != c) {
            bail!("{name} is ragged: row 0 has {c} entries but row {i} has {n}");
        }
        Tensor::new(&[rows.len(), c], self.values).map_err(|e| anyhow!("{name}: {e}"))
    }

    /// Parameter groups: an array of numbers (one group) or of non-empty arrays of numbers.
    ///
    /// # Errors
    /// Naming `name` when it is empty, mixes numbers and arrays, or has an empty group.
    pub fn groups(self, name: &str) -> Result<(Vec<f64>, Groups)> {
        self.check_mixed(name)?;
        if self.len() == 0 {
            bail!("{name} is empty");
        }
        let groups = match self.rows {
            None => Groups {
                sizes: vec![self.values.len()],
                nested: false,
            },
            Some(sizes) => {
                if let Some(i) = sizes.iter().position(|&n| n == 0) {
                    bail!("{name}[{i}] is an empty group");
                }
                Groups {
                    sizes,
                    nested: true,
                }
            }
        };
        Ok((self.values, groups))
    }

    /// The numbers of a flat array, or the `Numbers` back when its items are arrays (or mixed).
    pub fn flat(self) -> Result<Vec<f64>, Numbers> {
        if self.rows.is_none() && self.mixed.is_none() {
            Ok(self.values)
        } else {
            Err(self)
        }
    }
}

impl<'de> Deserialize<'de> for Numbers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(NumbersVisitor)
    }
}

struct NumbersVisitor;

impl<'de> Visitor<'de> for NumbersVisitor {
    type Value = Numbers;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers or of arrays of numbers")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Numbers, A::Error> {
        let mut out = Numbers::default();
        let mut index = 0;
        while let Some(item) = seq.next_element_seed(Item(&mut out.values))? {
            match (index, item, &mut out.rows) {
                (0, Some(n), rows) => *rows = Some(vec![n]),
                (_, Some(n), Some(rows)) => rows.push(n),
                (0, None, _) | (_, None, None) => {}
                _ => {
                    out.mixed = out.mixed.or(Some(index));
                }
            }
            index += 1;
        }
        Ok(out)
    }
}

/// One item of a [`Numbers`] array, pushed onto the flat vector: `None` for a number, `Some(n)` for an array
/// of `n` numbers.
struct Item<'a>(&'a mut Vec<f64>);

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or an array of numbers")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.push(v);
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        // `as` rounds to the nearest double, as parsing the digits as a float would.
        self.visit_f64(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.visit_f64(v as f64)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let start = self.0.len();
        while let Some(v) = seq.next_element::<f64>()? {
            self.0.push(v);
        }
        Ok(Some(self.0.len() - start))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Finiteness: every printed number is finite, or the run is an error that says why.

/// A computed quantity's layout, to name an entry as `[i]`, `[r][c]` or not at all.
#[derive(Debug, Clone, Copy)]
pub enum Shape<'a> {
    /// One number.
    Scalar,
    /// A vector.
    Vector,
    /// A row-major matrix with this many columns.
    Matrix(usize),
    /// Groups of these sizes, printed nested when `nested`.
    Groups(&'a Groups),
}

/// One computed quantity, as [`check_finite`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Quantity<'a> {
    /// Its name in the output (`z1`, `exp_avg_sq`).
    pub name: &'a str,
    /// Its values, row-major.
    pub values: &'a [f64],
    /// How to name one entry.
    pub shape: Shape<'a>,
    /// How it is computed, for the message (`X·W1 + b1`).
    pub formula: &'a str,
}

impl<'a> Quantity<'a> {
    /// A matrix quantity.
    pub fn matrix(name: &'a str, t: &'a Tensor, formula: &'a str) -> Self {
        Quantity {
            name,
            values: t.data(),
            shape: Shape::Matrix(t.cols()),
            formula,
        }
    }

    /// A vector quantity.
    pub fn vector(name: &'a str, values: &'a [f64], formula: &'a str) -> Self {
        Quantity {
            name,
            values,
            shape: Shape::Vector,
            formula,
        }
    }

    /// A single number.
    pub fn scalar(name: &'a str, value: &'a f64, formula: &'a str) -> Self {
        Quantity {
            name,
            values: std::slice::from_ref(value),
            shape: Shape::Scalar,
            formula,
        }
    }

    /// `name[i]`, `name[r][c]` or `name`, for the flat index `i`.
    pub fn entry(&self, i: usize) -> String {
        match self.shape {
            Shape::Scalar => self.name.to_string(),
            Shape::Vector => format!("{}[{i}]", self.name),
            Shape::Matrix(cols) => format!("{}[{}][{}]", self.name, i / cols, i % cols),
            Shape::Groups(g) if !g.nested => format!("{}[{i}]", self.name),
            Shape::Groups(g) => {
                let mut start = 0;
                for (k, &n) in g.sizes.iter().enumerate() {
                    if i < start + n {
                        return format!("{}[{k}][{}]", self.name, i - start);
                    }
                    start += n;
                }
                format!("{}[{i}]", self.name)
            }
        }
    }
}

/// Checks `quantities`, given in the order they were computed, and errors on the first entry that is not
/// finite: `topic: step: name[i] is NaN: cause`. Every quantity before it is finite, so unless `explain`
/// knows better (a zero denominator, given the quantity and the entry), the cause is an overflow in its own
/// formula.
///
/// # Errors
/// The message above.
pub fn check_finite(
    topic: &str,
    step: &str,
    quantities: &[Quantity],
    explain: impl Fn(&Quantity, usize) -> Option<String>,
) -> Result<()> {
    for q in quantities {
        if let Some(i) = q.values.iter().position(|v| !v.is_finite()) {
            let value = q.values[i];
            let cause = explain(q, i).unwrap_or_else(|| {
                if value.is_nan() {
                    format!(
                        "{} is undefined: terms within it overflow to ±∞ and meet as ∞ − ∞ or 0·∞, \
                         although everything it is computed from is finite",
                        q.formula
                    )
                } else {
                    format!(
                        "{} overflows: everything it is computed from is finite, but the result passes the \
                         largest double, about 1.8e308",
                        q.formula
                    )
                }
            });
            bail!("{topic}: {step}: {} is {value}: {cause}", q.entry(i));
        }
    }
    Ok(())
}

/// Serialises a matrix as an array of rows.
///
/// # Errors
/// The serializer's.
pub fn rows<S: Serializer>(t: &Tensor, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq((0..t.rows()).map(|r| t.row_slice(r)))
}

/// A JSON object with keys known at run time, in order.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(&'static str, Scalar)>);

/// A scalar value of a [`Pairs`] object.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A number.
    Number(f64),
    /// A flag.
    Flag(bool),
    /// A name.
    Text(&'static str),
}

impl Serialize for Pairs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

// ---------------------------------------------------------------------------------------------------------
// Printing.

/// Prints `answer` as pretty JSON in which every array of scalars (a vector, or a row of a matrix) stays on
/// one line, so a matrix reads as rows, as it would on paper. The answer is streamed, never built as a
/// string; a first pass that writes nothing makes sure no number in it is NaN or infinite (which JSON
/// would print as `null`), so stdout gets either the whole answer or nothing.
///
/// # Errors
/// A number that is not finite (naming where it is in the answer), or a failed write.
pub fn print<A: Serialize>(topic: &str, answer: &A, out: impl Write) -> Result<()> {
    let mut check = serde_json::Serializer::with_formatter(io::sink(), NullFinder::default());
    if let Err(e) = answer.serialize(&mut check) {
        let e = io::Error::from(e);
        bail!(
            "{topic}: {} is not a finite number (an overflow past ±1.8e308, or 0/0, ∞ − ∞ or 0·∞)",
            e.into_inner()
                .map_or_else(|| "a value".to_string(), |p| p.to_string())
        );
    }
    let mut out = io::BufWriter::new(out);
    answer
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            Layout::default(),
        ))
        .map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// An array's layout, decided by its first item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayLayout {
    /// No item yet.
    Empty,
    /// Scalars: on one line, `[1.0, 2.0]`.
    Inline,
    /// Arrays or objects: one per line, indented.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Object,
    Array(ArrayLayout),
}

/// The printer's formatter: objects one field per line, arrays of scalars on one line, other arrays one
/// item per line; two spaces per level.
#[derive(Debug, Default)]
struct Layout {
    open: Vec<Open>,
    /// An array's first item is about to be written: its kind decides the array's layout.
    first_item: bool,
}

fn indent<W: ?Sized + Write>(w: &mut W, depth: usize) -> io::Result<()> {
    for _ in 0..depth {
        w.write_all(b"  ")?;
    }
    Ok(())
}

impl Layout {
    /// Called before every value; `container` is true for an array or object.
    fn value<W: ?Sized + Write>(&mut self, w: &mut W, container: bool) -> io::Result<()> {
        if std::mem::take(&mut self.first_item) {
            let depth = self.open.len();
            if let Some(Open::Array(layout)) = self.open.last_mut() {
                if container {
                    *layout = ArrayLayout::Block;
                    w.write_all(b"\n")?;
                    indent(w, depth)?;
                } else {
                    *layout = ArrayLayout::Inline;
                }
            }
        }
        Ok(())
    }
}

/// Scalar writers of [`Layout`]: settle the enclosing array's layout, then write as serde_json does.
macro_rules! layout_scalars {
    ($($method:ident($ty:ty)),*) => {$(
        fn $method<W: ?Sized + Write>(&mut self, w: &mut W, value: $ty) -> io::Result<()> {
            self.value(w, false)?;
            CompactFormatter.$method(w, value)
        }
    )*};
}

impl Formatter for Layout {
    layout_scalars!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        write_number_str(&str)
    );

    fn write_null<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.value(w, false)?;
        w.write_all(b"null")
    }

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.value(w, false)?;
        w.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.value(w, true)?;
        self.open.push(Open::Array(ArrayLayout::Empty));
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.first_item = false;
        if self.open.pop() == Some(Open::Array(ArrayLayout::Block)) {
            w.write_all(b"\n")?;
            indent(w, self.open.len())?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first {
            self.first_item = true;
            return Ok(());
        }
        match self.open.last() {
            Some(Open::Array(ArrayLayout::Block)) => {
                w.write_all(b",\n")?;
                indent(w, self.open.len())
            }
            _ => w.write_all(b", "),
        }
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.value(w, true)?;
        self.open.push(Open::Object);
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open.pop();
        w.write_all(b"\n")?;
        indent(w, self.open.len())?;
        w.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.open.len())
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        Ok(())
    }
}

/// A formatter that writes nothing and fails at the first `null` (serde_json writes a NaN or infinite
/// number as `null`), with the path to it (`steps[0].params[1]`) as the error's message.
#[derive(Debug, Default)]
struct NullFinder {
    path: Vec<PathPart>,
    in_key: bool,
}

#[derive(Debug)]
enum PathPart {
    Key(String),
    Index(usize),
}

impl Formatter for NullFinder {
    fn write_null<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        let mut path = String::new();
        for part in &self.path {
            match part {
                PathPart::Key(k) if path.is_empty() => path.push_str(k),
                PathPart::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                PathPart::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        Err(io::Error::other(path))
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, _w: &mut W, s: &str) -> io::Result<()> {
        if let (true, Some(PathPart::Key(k))) = (self.in_key, self.path.last_mut()) {
            k.push_str(s);
        }
        Ok(())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.path.push(PathPart::Index(0));
        Ok(())
    }

    fn end_array<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.path.pop();
        Ok(())
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, _w: &mut W, first: bool) -> io::Result<()> {
        if let (false, Some(PathPart::Index(i))) = (first, self.path.last_mut()) {
            *i += 1;
        }
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.path.push(PathPart::Key(String::new()));
        Ok(())
    }

    fn end_object<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.path.pop();
        Ok(())
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, _w: &mut W, _first: bool) -> io::Result<()> {
        if let Some(PathPart::Key(k)) = self.path.last_mut() {
            k.clear();
        }
        self.in_key = true;
        Ok(())
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// The topics: one line each.

/// Declares each topic's module and its `dlf calc` subcommand, named, described and optioned by its
/// [`Topic`] implementation.
macro_rules! topics {
    ($($module:ident :: $topic:ident,)*) => {
        $(mod $module;)*

        /// The topics of `dlf calc`.
        #[derive(Debug, clap::Subcommand)]
        pub enum CalcTopic {
            $(
                #[command(
                    name = <$module::$topic as Topic>::NAME,
                    about = <$module::$topic as Topic>::ABOUT,
                    long_about = <$module::$topic as Topic>::CONVENTIONS
                )]
                $topic(<$module::$topic as Topic>::Options),
            )*
        }

        /// Runs `dlf calc TOPIC` on stdin and stdout.
        ///
        /// # Errors
        /// A message for the learner (exit code 2).
        pub fn run(topic: CalcTopic) -> Result<()> {
            match topic {
                $(CalcTopic::$topic(options) => run_topic::<$module::$topic>(options),)*
            }
        }
    };
}

topics! {
    backprop::Backprop,
    optim::Optim,
    norm::Norm,
    attention::Attention,
    posenc::Posenc,
    transformer::Transformer,
    scaling::Scaling,
    calibration::Calibration,
    ab::Ab,
    init::Init,
    moe::Moe,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn printed(value: &serde_json::Value) -> Result<String> {
        let mut out = Vec::new();
        print("test", value, &mut out)?;
        Ok(String::from_utf8(out).expect("UTF-8"))
    }

    #[test]
    fn the_printer_keeps_vectors_and_rows_on_one_line() {
        let text = printed(&json!({
            "a": [1.0, -0.0, 5e-324],
            "m": [[1.0, 2.0], [3.0, 4.0]],
            "empty": {},
            "none": [],
            "list": [{"t": 1}],
            "s": "x",
        }))
        .expect("printed");
        let want = "{\n  \"a\": [1.0, -0.0, 5e-324],\n  \"m\": [\n    [1.0, 2.0],\n    [3.0, 4.0]\n  ],\n  \
                    \"empty\": {\n  },\n  \"none\": [],\n  \"list\": [\n    {\n      \"t\": 1\n    }\n  ],\n  \
                    \"s\": \"x\"\n}\n";
        assert_eq!(text, want);
    }

    /// An answer with a NaN where no topic check looked.
    #[derive(Serialize)]
    struct Unchecked {
        steps: Vec<Pairs>,
    }

    #[test]
    fn a_number_that_is_not_finite_is_never_printed() {
        let answer = Unchecked {
            steps: vec![
                Pairs(vec![("lr", Scalar::Number(0.1))]),
                Pairs(vec![("lr", Scalar::Number(f64::NAN))]),
            ],
        };
        let mut out = Vec::new();
        let e = print("test", &answer, &mut out).expect_err("NaN refused");
        assert!(out.is_empty(), "nothing printed");
        assert!(
            e.to_string()
                .starts_with("test: steps[1].lr is not a finite number"),
            "{e}"
        );
    }

    #[test]
    fn check_finite_names_the_entry_and_step() {
        let groups = Groups {
            sizes: vec![1, 2],
            nested: true,
        };
        let values = [1.0, 2.0, f64::INFINITY];
        let q = Quantity {
            name: "params",
            values: &values,
            shape: Shape::Groups(&groups),
            formula: "p − lr·b",
        };
        let e = check_finite("optim", "step 3", &[q], |_, _| None).expect_err("inf");
        assert!(
            e.to_string()
                .starts_with("optim: step 3: params[1][1] is inf: p − lr·b overflows"),
            "{e}"
        );
        let t = Tensor::new(&[2, 2], vec![0.0, 0.0, f64::NAN, 0.0]).expect("a matrix");
        let e = check_finite(
            "norm",
            "forward",
            &[Quantity::matrix("y", &t, "γ·x̂ + β")],
            |_, _| Some("the cause".into()),
        )
        .expect_err("NaN");
        assert_eq!(e.to_string(), "norm: forward: y[1][0] is NaN: the cause");
    }

    #[test]
    fn names_are_listed_from_one_place() {
        assert_eq!(
            one_of(
                &Activation::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
                "or"
            ),
            "relu, tanh, gelu or sigmoid"
        );
        for kind in Kind::ALL {
            assert_eq!(<Kind as Named>::parse(kind.name()), Some(kind));
        }
        assert_eq!(
            <Loss as Named>::parse("ce"),
            Some(Loss::SoftmaxCrossEntropy)
        );
    }
}

//! Named quantities: the numbers lessons quote (`{{num}}`) and check (`:::claim`), computed on demand.
//!
//! A quantity has a dotted name `lesson.what`, a one-line description, and named arguments with default
//! values. Arguments arrive as strings (from lesson directives or the CLI): numbers are parsed as `f64`,
//! counts must be whole numbers within a stated range, and names (activation `"relu"`, dataset `"moons"`,
//! difference `"central"`, ...) are parsed by the corresponding type. Every error names the quantity and the
//! argument.
//!
//! Each lesson keeps its quantities in its own folder (`lessons/backprop/quantities.rs` for lesson 01): a
//! `SPECS` table whose every entry carries the function that computes it, so a name is written once and a
//! quantity without a function does not compile. [`catalogue`] joins the lessons' tables at compile time, in
//! the order of [`crate::lessons::ALL`].

use crate::activation::Activation;
use crate::error::QuantityError;
use crate::lessons::backprop::datasets::DatasetKind;
use crate::lessons::backprop::mlp::Init;
use crate::lessons::backprop::Difference;

/// Description of one quantity: its name, what it measures, its arguments with their defaults, and the
/// function that computes it.
#[derive(Debug, Clone, Copy)]
pub struct QuantitySpec {
    /// Dotted name, e.g. `"backprop.param_count"`.
    pub name: &'static str,
    /// One line saying what is computed and how.
    pub description: &'static str,
    /// `(argument, default value)` pairs.
    pub args: &'static [(&'static str, &'static str)],
    /// Computes the quantity from validated arguments (missing ones take their defaults).
    pub eval: fn(&Args) -> Result<f64, QuantityError>,
}

/// An empty spec, used only to initialise the array that `table::concat` then fills completely.
const BLANK: QuantitySpec = QuantitySpec {
    name: "",
    description: "",
    args: &[],
    eval: |a| Err(a.failed("a blank table entry")),
};

const LESSONS: &[&[QuantitySpec]] = crate::lessons::QUANTITIES;

const CATALOGUE_LEN: usize = crate::table::total_len(LESSONS);

static CATALOGUE: [QuantitySpec; CATALOGUE_LEN] = crate::table::concat(LESSONS, BLANK);

/// Every quantity the engine can compute.
pub fn catalogue() -> &'static [QuantitySpec] {
    &CATALOGUE
}

/// Looks up a quantity by name.
pub fn find(name: &str) -> Option<&'static QuantitySpec> {
    CATALOGUE.iter().find(|q| q.name == name)
}

/// Computes the quantity `name` with the given `(argument, value)` pairs; missing arguments take their
/// defaults.
///
/// # Errors
/// [`QuantityError::UnknownQuantity`], [`QuantityError::UnknownArgument`], [`QuantityError::InvalidValue`]
/// for bad input, [`QuantityError::Failed`] if the experiment itself cannot run.
pub fn evaluate(name: &str, args: &[(&str, &str)]) -> Result<f64, QuantityError> {
    let spec = find(name).ok_or_else(|| QuantityError::UnknownQuantity {
        name: name.to_string(),
    })?;
    let args = Args::new(spec, args)?;
    (spec.eval)(&args)
}

/// The arguments of one evaluation, validated against the spec, with typed accessors.
#[derive(Debug)]
pub struct Args<'a> {
    spec: &'static QuantitySpec,
    given: &'a [(&'a str, &'a str)],
}

impl<'a> Args<'a> {
    fn new(
        spec: &'static QuantitySpec,
        given: &'a [(&'a str, &'a str)],
    ) -> Result<Args<'a>, QuantityError> {
        for (arg, _) in given {
            if !spec.args.iter().any(|(known, _)| known == arg) {
                return Err(QuantityError::UnknownArgument {
                    quantity: spec.name.to_string(),
                    argument: arg.to_string(),
                    known: spec
                        .args
                        .iter()
                        .map(|(a, _)| *a)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(Args { spec, given })
    }

    /// The name of the quantity being computed (for a function shared by several quantities).
    pub(crate) fn name(&self) -> &'static str {
        self.spec.name
    }

    /// The raw string value: the last one given, else the default.
    pub(crate) fn raw(&self, arg: &str) -> &str {
        if let Some((_, v)) = self.given.iter().rev().find(|(a, _)| *a == arg) {
            return v;
        }
        self.spec
            .args
            .iter()
            .find(|(a, _)| *a == arg)
            .map(|(_, d)| *d)
            .unwrap_or_else(|| panic!("quantity {} uses undeclared argument {arg}", self.spec.name))
    }

    pub(crate) fn invalid(&self, arg: &str, expected: String) -> QuantityError {
        QuantityError::InvalidValue {
            quantity: self.spec.name.to_string(),
            argument: arg.to_string(),
            value: self.raw(arg).to_string(),
            expected,
        }
    }

    /// A finite number in `[min, max]`.
    pub(crate) fn f64_in(&self, arg: &str, min: f64, max: f64) -> Result<f64, QuantityError> {
        match self.raw(arg).trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(v),
            _ => Err(self.invalid(arg, format!("a number between {min} and {max}"))),
        }
    }

    /// A whole number in `[min, max]` (written as `64` or `64.0`).
    pub(crate) fn usize_in(
        &self,
        arg: &str,
        min: usize,
        max: usize,
    ) -> Result<usize, QuantityError> {
        match self.raw(arg).trim().parse::<f64>() {
            Ok(v) if v.fract() == 0.0 && v >= min as f64 && v <= max as f64 => Ok(v as usize),
            _ => Err(self.invalid(arg, format!("a whole number between {min} and {max}"))),
        }
    }

    /// A seed: any whole number in `[0, 2^53]` (the integers an `f64` represents exactly).
    pub(crate) fn seed(&self, arg: &str) -> Result<u64, QuantityError> {
        // 2^53 = 9007199254740992; written as an f64 so the bound also fits on 32-bit targets (wasm32).
        const MAX_SEED: f64 = 9_007_199_254_740_992.0;
        match self.raw(arg).trim().parse::<f64>() {
            Ok(v) if v.fract() == 0.0 && (0.0..=MAX_SEED).contains(&v) => Ok(v as u64),
            _ => Err(self.invalid(arg, "a whole number between 0 and 2^53".into())),
        }
    }

    /// A flag: `1`/`0` or `true`/`false`.
    pub(crate) fn flag(&self, arg: &str) -> Result<bool, QuantityError> {
        match self.raw(arg).trim() {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            _ => Err(self.invalid(arg, "1 or 0 (true or false)".into())),
        }
    }

    /// An activation name.
    pub(crate) fn activation(&self, arg: &str) -> Result<Activation, QuantityError> {
        Activation::parse(self.raw(arg))
            .ok_or_else(|| self.invalid(arg, one_of(Activation::ALL.map(Activation::name))))
    }

    /// A dataset name.
    pub(crate) fn dataset(&self, arg: &str) -> Result<DatasetKind, QuantityError> {
        DatasetKind::parse(self.raw(arg))
            .ok_or_else(|| self.invalid(arg, one_of(DatasetKind::ALL.map(DatasetKind::name))))
    }

    /// A finite-difference formula name.
    pub(crate) fn difference(&self, arg: &str) -> Result<Difference, QuantityError> {
        Difference::parse(self.raw(arg))
            .ok_or_else(|| self.invalid(arg, "central or forward".into()))
    }

    /// An initialisation name: `he`, `glorot`, or `normal1` (`N(0, 1)` weights).
    pub(crate) fn init(&self, arg: &str) -> Result<Init, QuantityError> {
        match self.raw(arg).trim().to_ascii_lowercase().as_str() {
            "he" => Ok(Init::He),
            "glorot" | "xavier" => Ok(Init::Glorot),
            "normal1" => Ok(Init::Normal { std: 1.0 }),
            _ => Err(self.invalid(arg, "one of he, glorot, normal1".into())),
        }
    }

    /// A [`QuantityError::Failed`] for this quantity.
    pub(crate) fn failed(&self, message: impl std::fmt::Display) -> QuantityError {
        QuantityError::Failed {
            quantity: self.spec.name.to_string(),
            message: message.to_string(),
        }
    }
}

/// `"one of a, b, c"`: the expected values of an argument, from the enum's list of names.
pub(crate) fn one_of<const N: usize>(names: [&str; N]) -> String {
    format!("one of {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_well_formed_and_every_default_evaluates() {
        let names: Vec<&str> = catalogue().iter().map(|q| q.name).collect();
        for (i, q) in catalogue().iter().enumerate() {
            assert!(
                q.name.contains('.') && !q.description.is_empty(),
                "{}",
                q.name
            );
            assert!(!names[..i].contains(&q.name), "duplicate {}", q.name);
            let v = evaluate(q.name, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert!(v.is_finite(), "{} = {v}", q.name);
        }
    }

    #[test]
    fn errors_name_the_quantity_and_argument() {
        assert_eq!(
            evaluate("backprop.nope", &[]),
            Err(QuantityError::UnknownQuantity {
                name: "backprop.nope".into()
            })
        );
        let e = evaluate("backprop.param_count", &[("widht", "3")]).unwrap_err();
        assert!(
            matches!(&e, QuantityError::UnknownArgument { argument, .. } if argument == "widht")
        );
        assert!(e.to_string().contains("d_in, hidden, classes"), "{e}");
        let e = evaluate("backprop.param_count", &[("hidden", "2.5")]).unwrap_err();
        assert_eq!(
            e,
            QuantityError::InvalidValue {
                quantity: "backprop.param_count".into(),
                argument: "hidden".into(),
                value: "2.5".into(),
                expected: "a whole number between 1 and 100000".into(),
            }
        );
        let e = evaluate("backprop.grad_norm_ratio", &[("activation", "swish")]).unwrap_err();
        assert!(e.to_string().contains("`activation` = `swish`"), "{e}");
        let e = evaluate("backprop.mlp_train_accuracy", &[("dataset", "mnist")]).unwrap_err();
        assert!(e.to_string().contains("moons"), "{e}");
        let e = evaluate(
            "backprop.gradcheck_rel_error",
            &[("difference", "backward")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("central or forward"), "{e}");
    }
}

//! A widget's parameter spec and the validation of user-supplied values against it.
//!
//! The spec is static data: the lesson renderer turns each [`ParamSpec`] into a native HTML control,
//! the query parser validates URL values against it, and the widget reads the validated [`Params`].
//! Because the widget names its own parameters, asking [`Params`] for a name the spec does not declare
//! is a programming error, reported by a panic that the crate's tests would catch at the first render.

use thiserror::Error;

use crate::number_format;

/// Everything the outside world needs to know about a widget before rendering it.
#[derive(Debug)]
pub struct WidgetSpec {
    /// Stable identifier used in lessons (`widget=...`), URLs and the wasm query.
    pub id: &'static str,
    /// Human-readable title shown above the figure.
    pub title: &'static str,
    /// One sentence saying what the widget lets the learner see.
    pub summary: &'static str,
    /// The parameters, in the order the controls are laid out.
    pub params: &'static [ParamSpec],
    /// The most expensive parameter settings, which the benchmarks time beside the defaults (the criterion
    /// bench, the wasm bench under node and the in-browser bench all read this list).
    pub bench: &'static [BenchCase],
}

/// One benchmark case of a widget: a name and the parameters as a query (without `widget=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchCase {
    /// A short name, e.g. `"worst-gelu"`; the bench reports it as `ID/NAME`.
    pub name: &'static str,
    /// The parameters, `name=value&...`, validated by the widget tests.
    pub query: &'static str,
}

impl WidgetSpec {
    /// The parameter called `name`, if the widget declares one.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// One control of a widget.
#[derive(Debug)]
pub struct ParamSpec {
    /// Name used in queries and in [`Params`] accessors.
    pub name: &'static str,
    /// Short label shown next to the control.
    pub label: &'static str,
    /// One sentence explaining what the parameter changes.
    pub help: &'static str,
    /// Kind of control and its range or options.
    pub kind: ParamKind,
}

impl ParamSpec {
    /// A slider over `bounds` starting at `default`, moving in steps of 1 (change with [`ParamSpec::step`]).
    pub const fn range(
        name: &'static str,
        label: &'static str,
        bounds: std::ops::RangeInclusive<f64>,
        default: f64,
    ) -> ParamSpec {
        ParamSpec {
            name,
            label,
            help: "",
            kind: ParamKind::Range {
                min: *bounds.start(),
                max: *bounds.end(),
                step: 1.0,
                default,
            },
        }
    }

    /// A drop-down of `(value, label)` options starting at the option `default`.
    pub const fn select(
        name: &'static str,
        label: &'static str,
        options: &'static [(&'static str, &'static str)],
        default: &'static str,
    ) -> ParamSpec {
        ParamSpec {
            name,
            label,
            help: "",
            kind: ParamKind::Select { options, default },
        }
    }

    /// A checkbox, on or off at first.
    pub const fn toggle(name: &'static str, label: &'static str, default: bool) -> ParamSpec {
        ParamSpec {
            name,
            label,
            help: "",
            kind: ParamKind::Toggle { default },
        }
    }

    /// An editable text of at most `max_len` characters (Unicode scalar values), shown as a text area.
    pub const fn text(
        name: &'static str,
        label: &'static str,
        default: &'static str,
        max_len: usize,
    ) -> ParamSpec {
        ParamSpec {
            name,
            label,
            help: "",
            kind: ParamKind::Text { default, max_len },
        }
    }

    /// The slider's increment (a range parameter only; other kinds are returned unchanged).
    pub const fn step(self, step: f64) -> ParamSpec {
        match self.kind {
            ParamKind::Range {
                min, max, default, ..
            } => ParamSpec {
                kind: ParamKind::Range {
                    min,
                    max,
                    step,
                    default,
                },
                ..self
            },
            kind => ParamSpec { kind, ..self },
        }
    }

    /// The one-sentence explanation shown with the control.
    pub const fn help(self, help: &'static str) -> ParamSpec {
        ParamSpec { help, ..self }
    }
}

/// The kind of control and the values it admits.
#[derive(Debug)]
pub enum ParamKind {
    /// A number in `[min, max]`, shown as a slider that moves in increments of `step`.
    Range {
        /// Smallest admitted value.
        min: f64,
        /// Largest admitted value.
        max: f64,
        /// Slider increment. Values off this grid are accepted; integer parameters round.
        step: f64,
        /// Value used when the query omits the parameter.
        default: f64,
    },
    /// One of a fixed list of options, shown as a drop-down.
    Select {
        /// `(value, label)` pairs; the value goes into queries, the label onto the page.
        options: &'static [(&'static str, &'static str)],
        /// Value used when the query omits the parameter; must be one of the option values.
        default: &'static str,
    },
    /// On or off, shown as a checkbox.
    Toggle {
        /// Value used when the query omits the parameter.
        default: bool,
    },
    /// Free text (a corpus, a sentence), shown as a text area. Any Unicode text of at most `max_len`
    /// characters is admitted except control characters other than newline and tab; it is carried in the
    /// query percent-encoded like every value, and is not trimmed.
    Text {
        /// Value used when the query omits the parameter; at most `max_len` characters.
        default: &'static str,
        /// Most characters (Unicode scalar values) admitted; it bounds the widget's worst-case cost.
        max_len: usize,
    },
}

impl ParamKind {
    /// The value a missing parameter takes.
    pub fn default_value(&self) -> Value {
        match *self {
            ParamKind::Range { default, .. } => Value::Number(default),
            ParamKind::Select { default, .. } => Value::Choice(default),
            ParamKind::Toggle { default } => Value::Flag(default),
            ParamKind::Text { default, .. } => Value::Text(default.to_string()),
        }
    }
}

/// The longest admitted text like `default`: `default` repeated on successive lines and cut at `max_len`
/// characters (`x`s when the default is empty). Text cost usually grows with length, so this is what the
/// benches and the corner tests use as a text parameter's worst case.
pub fn longest_text(default: &str, max_len: usize) -> String {
    let unit = if default.is_empty() { "x" } else { default };
    std::iter::repeat(unit)
        .flat_map(|u| u.chars().chain(std::iter::once('\n')))
        .take(max_len)
        .collect()
}

/// A validated parameter value.
///
/// Not `Copy`, because a text value owns its string; every other variant is cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The value of a [`ParamKind::Range`].
    Number(f64),
    /// The value of a [`ParamKind::Select`]: always one of the spec's option values.
    Choice(&'static str),
    /// The value of a [`ParamKind::Toggle`].
    Flag(bool),
    /// The value of a [`ParamKind::Text`]: at most `max_len` characters, no control characters but `\n`, `\t`.
    Text(String),
}

impl Value {
    /// The value as it would be written in a query or an HTML `value` attribute: numbers in the
    /// shortest decimal form (up to 10 decimals), toggles as `true`/`false`.
    pub fn to_query_value(&self) -> String {
        match self {
            Value::Number(x) => number_format::fixed(*x, 10),
            Value::Choice(s) => s.to_string(),
            Value::Flag(b) => if *b { "true" } else { "false" }.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// The validated values of every parameter a widget declares, in spec order.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    widget: &'static str,
    values: Vec<(&'static str, Value)>,
}

impl Params {
    /// Every parameter at its default.
    pub fn defaults(spec: &WidgetSpec) -> Params {
        Params {
            widget: spec.id,
            values: spec
                .params
                .iter()
                .map(|p| (p.name, p.kind.default_value()))
                .collect(),
        }
    }

    /// The id of the widget these values belong to.
    pub fn widget(&self) -> &'static str {
        self.widget
    }

    /// The value of `name`, if the widget declares it.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    /// All values in spec order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Value)> + '_ {
        self.values.iter().cloned()
    }

    fn expect(&self, name: &str) -> &Value {
        match self.values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => v,
            None => panic!(
                "widget `{}` read parameter `{name}`, which its spec does not declare",
                self.widget
            ),
        }
    }

    /// The value of the range parameter `name`.
    ///
    /// # Panics
    /// If the widget's spec has no range parameter called `name` (a bug in the widget).
    pub fn f64(&self, name: &str) -> f64 {
        match *self.expect(name) {
            Value::Number(x) => x,
            _ => panic!("parameter `{name}` is not a range"),
        }
    }

    /// The range parameter `name` rounded to the nearest non-negative integer.
    ///
    /// # Panics
    /// As [`Params::f64`].
    pub fn usize(&self, name: &str) -> usize {
        let x = self.f64(name).round();
        // Validation keeps the value inside the spec's [min, max], which for integer parameters is
        // far below usize::MAX; negative values clamp to zero rather than wrapping.
        if x <= 0.0 {
            0
        } else {
            x as usize
        }
    }

    /// The select parameter `name`: one of its option values.
    ///
    /// # Panics
    /// If the widget's spec has no select parameter called `name`.
    pub fn str(&self, name: &str) -> &'static str {
        match *self.expect(name) {
            Value::Choice(s) => s,
            _ => panic!("parameter `{name}` is not a select"),
        }
    }

    /// The toggle parameter `name`.
    ///
    /// # Panics
    /// If the widget's spec has no toggle parameter called `name`.
    pub fn bool(&self, name: &str) -> bool {
        match *self.expect(name) {
            Value::Flag(b) => b,
            _ => panic!("parameter `{name}` is not a toggle"),
        }
    }

    /// The text parameter `name`: at most its `max_len` characters, no control characters but `\n` and `\t`.
    ///
    /// # Panics
    /// If the widget's spec has no text parameter called `name`.
    pub fn text(&self, name: &str) -> &str {
        match self.expect(name) {
            Value::Text(s) => s,
            _ => panic!("parameter `{name}` is not a text"),
        }
    }

    /// The values as a URL query `widget=ID&name=value&...` that [`crate::render_query`] accepts and
    /// that reproduces exactly these values.
    pub fn to_query(&self) -> String {
        let mut q = String::from("widget=");
        crate::query::push_encoded(&mut q, self.widget);
        for (name, value) in &self.values {
            q.push('&');
            crate::query::push_encoded(&mut q, name);
            q.push('=');
            crate::query::push_encoded(&mut q, &value.to_query_value());
        }
        q
    }
}

/// Why a parameter value was rejected. Every variant names the widget and the parameter.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamError {
    /// The widget has no parameter with this name.
    #[error("widget `{widget}` has no parameter `{name}`")]
    Unknown {
        /// Widget id.
        widget: &'static str,
        /// The name that was given.
        name: String,
    },
    /// The parameter was given more than once.
    #[error("widget `{widget}`: parameter `{name}` is given more than once")]
    Duplicate {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
    },
    /// A range parameter's value is not a finite number.
    #[error("widget `{widget}`: parameter `{name}` must be a number, got `{value}`")]
    NotANumber {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The rejected text.
        value: String,
    },
    /// A range parameter's value lies outside `[min, max]`.
    #[error(
        "widget `{widget}`: parameter `{name}` = {} is outside [{}, {}]",
        number_format::sig(*.value, 6),
        number_format::sig(*.min, 6),
        number_format::sig(*.max, 6)
    )]
    OutOfRange {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// Smallest admitted value.
        min: f64,
        /// Largest admitted value.
        max: f64,
    },
    /// A select parameter's value is not one of its options.
    #[error("widget `{widget}`: parameter `{name}` must be one of {expected}, got `{value}`")]
    UnknownOption {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The rejected text.
        value: String,
        /// The admitted values, comma-separated.
        expected: String,
    },
    /// A text parameter's value has more characters than the spec admits.
    #[error(
        "widget `{widget}`: parameter `{name}` has {len} characters, more than the {max} it admits"
    )]
    TooLong {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
        /// Characters (Unicode scalar values) given.
        len: usize,
        /// Most characters admitted.
        max: usize,
    },
    /// A text parameter's value contains a control character other than newline or tab.
    #[error(
        "widget `{widget}`: parameter `{name}` contains the control character U+{code:04X} at character {position}; only newline and tab are allowed"
    )]
    ControlCharacter {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The character's code point.
        code: u32,
        /// Its position, counted in characters from 0.
        position: usize,
    },
    /// A toggle parameter's value is not a recognised boolean.
    #[error("widget `{widget}`: parameter `{name}` must be true or false, got `{value}`")]
    NotABool {
        /// Widget id.
        widget: &'static str,
        /// Parameter name.
        name: &'static str,
        /// The rejected text.
        value: String,
    },
}

/// Validates `pairs` (already percent-decoded `name=value` pairs) against `spec`.
///
/// A missing parameter takes its default. An unknown name, a repeated name, a range value that is not a
/// finite number or lies outside `[min, max]`, an unknown select option, or a toggle value other than
/// `true`/`false`/`on`/`off`/`1`/`0`, or a text longer than its `max_len` characters or containing a control
/// character other than newline and tab is rejected with a [`ParamError`] naming the parameter. The first
/// problem in `pairs` order is reported. Values are trimmed of surrounding white space, except texts, which
/// are taken as given.
pub fn parse_params(spec: &WidgetSpec, pairs: &[(&str, &str)]) -> Result<Params, ParamError> {
    let mut params = Params::defaults(spec);
    let mut seen = vec![false; spec.params.len()];
    for &(name, raw) in pairs {
        let Some(index) = spec.params.iter().position(|p| p.name == name) else {
            return Err(ParamError::Unknown {
                widget: spec.id,
                name: name.to_string(),
            });
        };
        let p = &spec.params[index];
        if seen[index] {
            return Err(ParamError::Duplicate {
                widget: spec.id,
                name: p.name,
            });
        }
        seen[index] = true;
        let raw = if matches!(p.kind, ParamKind::Text { .. }) {
            raw
        } else {
            raw.trim()
        };
        params.values[index].1 = parse_value(spec.id, p, raw)?;
    }
    Ok(params)
}

fn parse_value(widget: &'static str, p: &ParamSpec, raw: &str) -> Result<Value, ParamError> {
    match p.kind {
        ParamKind::Range { min, max, .. } => {
            let value = match raw.parse::<f64>() {
                Ok(x) if x.is_finite() => x,
                _ => {
                    return Err(ParamError::NotANumber {
                        widget,
                        name: p.name,
                        value: raw.to_string(),
                    })
                }
            };
            // Slider values arrive as decimal text, and the decimal for a grid point such as 0.1·k can
            // round a hair past the end of the range; a relative slack of 1e-9 absorbs that without
            // admitting any value a user could meaningfully distinguish from the bound.
            let slack = 1e-9 * (max - min).abs().max(1.0);
            if value < min - slack || value > max + slack {
                return Err(ParamError::OutOfRange {
                    widget,
                    name: p.name,
                    value,
                    min,
                    max,
                });
            }
            Ok(Value::Number(value.clamp(min, max)))
        }
        ParamKind::Select { options, .. } => options
            .iter()
            .find(|(v, _)| *v == raw)
            .map(|&(v, _)| Value::Choice(v))
            .ok_or_else(|| ParamError::UnknownOption {
                widget,
                name: p.name,
                value: raw.to_string(),
                expected: options
                    .iter()
                    .map(|(v, _)| *v)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        ParamKind::Toggle { .. } => match raw {
            "true" | "on" | "1" => Ok(Value::Flag(true)),
            "false" | "off" | "0" => Ok(Value::Flag(false)),
            _ => Err(ParamError::NotABool {
                widget,
                name: p.name,
                value: raw.to_string(),
            }),
        },
        ParamKind::Text { max_len, .. } => {
            let mut len = 0;
            for (position, c) in raw.chars().enumerate() {
                // Newline and tab are how a text is laid out; any other control character (a carriage return
                // included: a browser's text area gives its lines with `\n` alone) is a paste accident.
                if c.is_control() && c != '\n' && c != '\t' {
                    return Err(ParamError::ControlCharacter {
                        widget,
                        name: p.name,
                        code: u32::from(c),
                        position,
                    });
                }
                len += 1;
            }
            if len > max_len {
                return Err(ParamError::TooLong {
                    widget,
                    name: p.name,
                    len,
                    max: max_len,
                });
            }
            Ok(Value::Text(raw.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: WidgetSpec = WidgetSpec {
        id: "demo",
        title: "Demo",
        summary: "A spec used only by these tests.",
        params: &[
            ParamSpec {
                name: "width",
                label: "Width",
                help: "Hidden units.",
                kind: ParamKind::Range {
                    min: 2.0,
                    max: 32.0,
                    step: 1.0,
                    default: 8.0,
                },
            },
            ParamSpec {
                name: "act",
                label: "Activation",
                help: "Non-linearity.",
                kind: ParamKind::Select {
                    options: &[("relu", "ReLU"), ("tanh", "tanh")],
                    default: "relu",
                },
            },
            ParamSpec {
                name: "central",
                label: "Central",
                help: "Central differences.",
                kind: ParamKind::Toggle { default: true },
            },
        ],
        bench: &[],
    };

    #[test]
    fn missing_parameters_take_defaults() {
        let p = parse_params(&SPEC, &[]).unwrap();
        assert!((p.f64("width") - 8.0).abs() < 1e-12);
        assert_eq!(p.usize("width"), 8);
        assert_eq!(p.str("act"), "relu");
        assert!(p.bool("central"));
    }

    #[test]
    fn given_values_override_defaults() {
        let p = parse_params(
            &SPEC,
            &[("central", "off"), ("width", " 31.6 "), ("act", "tanh")],
        )
        .unwrap();
        assert_eq!(p.usize("width"), 32);
        assert_eq!(p.str("act"), "tanh");
        assert!(!p.bool("central"));
    }

    #[test]
    fn each_bad_input_names_the_parameter() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[("depth", "3")], "depth"),
            (&[("width", "wide")], "width"),
            (&[("width", "NaN")], "width"),
            (&[("width", "33")], "width"),
            (&[("act", "swish")], "act"),
            (&[("central", "maybe")], "central"),
        ];
        for (pairs, name) in cases {
            let err = parse_params(&SPEC, pairs).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(&format!("`{name}`")), "{msg}");
            assert!(msg.contains("`demo`"), "{msg}");
        }
    }

    #[test]
    fn out_of_range_reports_the_bounds() {
        let err = parse_params(&SPEC, &[("width", "1.5")]).unwrap_err();
        assert_eq!(
            err,
            ParamError::OutOfRange {
                widget: "demo",
                name: "width",
                value: 1.5,
                min: 2.0,
                max: 32.0
            }
        );
        assert_eq!(
            err.to_string(),
            "widget `demo`: parameter `width` = 1.5 is outside [2, 32]"
        );
    }

    #[test]
    fn duplicates_are_rejected() {
        let err = parse_params(&SPEC, &[("width", "3"), ("width", "4")]).unwrap_err();
        assert_eq!(
            err,
            ParamError::Duplicate {
                widget: "demo",
                name: "width"
            }
        );
    }

    #[test]
    fn query_string_reproduces_the_values() {
        let p = parse_params(&SPEC, &[("width", "2.5"), ("central", "0")]).unwrap();
        assert_eq!(p.to_query(), "widget=demo&width=2.5&act=relu&central=false");
    }

    static TEXT_SPEC: WidgetSpec = WidgetSpec {
        id: "demo-text",
        title: "Demo text",
        summary: "A spec with a text parameter, used only by these tests.",
        params: &[ParamSpec::text("corpus", "Corpus", "low lower", 9).help("The training text.")],
        bench: &[],
    };

    #[test]
    fn text_is_taken_untrimmed_and_round_trips_through_a_query() {
        let p = parse_params(&TEXT_SPEC, &[]).unwrap();
        assert_eq!(p.text("corpus"), "low lower");
        // Nine characters, four of them outside ASCII, with a newline, a tab and surrounding spaces kept.
        let given = " é\tœ\n→ ▁ ";
        let p = parse_params(&TEXT_SPEC, &[("corpus", given)]).unwrap();
        assert_eq!(p.text("corpus"), given);
        let q = p.to_query();
        assert_eq!(
            q,
            "widget=demo-text&corpus=%20%C3%A9%09%C5%93%0A%E2%86%92%20%E2%96%81%20"
        );
        let parsed = crate::query::parse_query(&q).unwrap();
        assert_eq!(parse_params(&TEXT_SPEC, &parsed.pair_refs()).unwrap(), p);
        // A browser's form encoding writes spaces as `+`; the decoder reads them back.
        let browser = crate::query::parse_query("widget=demo-text&corpus=a+b%0Ac").unwrap();
        let p = parse_params(&TEXT_SPEC, &browser.pair_refs()).unwrap();
        assert_eq!(p.text("corpus"), "a b\nc");
        assert!(parse_params(&TEXT_SPEC, &[("corpus", "")]).is_ok());
    }

    #[test]
    fn the_longest_text_repeats_the_default_up_to_the_limit() {
        assert_eq!(longest_text("ab", 7), "ab\nab\na");
        assert_eq!(longest_text("", 3), "x\nx");
        assert_eq!(longest_text("é", 1), "é");
        let long = longest_text("low lower", 9);
        assert!(parse_params(&TEXT_SPEC, &[("corpus", long.as_str())]).is_ok());
    }

    #[test]
    fn text_too_long_or_with_control_characters_is_refused_naming_the_parameter() {
        let err = parse_params(&TEXT_SPEC, &[("corpus", "éééééééééé")]).unwrap_err();
        assert_eq!(
            err,
            ParamError::TooLong {
                widget: "demo-text",
                name: "corpus",
                len: 10,
                max: 9
            }
        );
        assert_eq!(
            err.to_string(),
            "widget `demo-text`: parameter `corpus` has 10 characters, more than the 9 it admits"
        );
        for (bad, code, position) in [
            ("ab\rc", 0x0d, 2),
            ("\u{0}", 0, 0),
            ("x\u{85}", 0x85, 1),
            ("\u{7f}", 0x7f, 0),
        ] {
            let err = parse_params(&TEXT_SPEC, &[("corpus", bad)]).unwrap_err();
            assert_eq!(
                err,
                ParamError::ControlCharacter {
                    widget: "demo-text",
                    name: "corpus",
                    code,
                    position
                }
            );
            assert!(err.to_string().contains("`corpus`"), "{err}");
        }
        assert_eq!(
            parse_params(&TEXT_SPEC, &[("corpus", "a\u{1}")]).unwrap_err().to_string(),
            "widget `demo-text`: parameter `corpus` contains the control character U+0001 at character 1; only newline and tab are allowed"
        );
    }
}

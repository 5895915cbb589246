//! The output of a widget: an SVG, the numbers it measured, and a text description.

/// What a widget renders for one set of parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// A self-contained `<svg>` element (see [`crate::svg`]).
    pub svg: String,
    /// `(label, formatted value)` pairs shown beside the figure, every value computed by the engine.
    pub numbers: Vec<(String, String)>,
    /// One or two sentences saying what the figure shows, for screen readers and for the page text.
    pub description: String,
}

impl Figure {
    /// The value shown under `label` in the numbers panel, parsed back to a number: the typographic minus
    /// `−` is read as `-` and a trailing `×` (a ratio) is dropped. `None` when there is no such label or the
    /// value is not a number (for example "not reached"). Tests use this to check what a figure says.
    pub fn number(&self, label: &str) -> Option<f64> {
        let (_, value) = self.numbers.iter().find(|(l, _)| l == label)?;
        value
            .replace('−', "-")
            .trim_end_matches('×')
            .trim()
            .parse()
            .ok()
    }

    /// [`Figure::number`] for a label the figure must show, panicking with the label otherwise: for tests.
    pub fn expect_number(&self, label: &str) -> f64 {
        self.number(label)
            .unwrap_or_else(|| panic!("the figure shows a number labelled `{label}`"))
    }

    /// The figure as one JSON object: `{"svg":"...","numbers":[["label","value"],...],"description":"..."}`.
    ///
    /// Strings are escaped by [`push_json_string`], so the result can be embedded in HTML as is.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.svg.len() + self.description.len() + 256);
        out.push_str("{\"svg\":");
        push_json_string(&mut out, &self.svg);
        out.push_str(",\"numbers\":[");
        for (i, (label, value)) in self.numbers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            push_json_string(&mut out, label);
            out.push(',');
            push_json_string(&mut out, value);
            out.push(']');
        }
        out.push_str("],\"description\":");
        push_json_string(&mut out, &self.description);
        out.push('}');
        out
    }
}

impl Figure {
    /// [`Figure::to_json`] with a `"done"` member saying whether a progressive computation is finished (see
    /// [`crate::Stepped`]): the page keeps advancing it, one slice per frame, until `"done":true`.
    pub fn to_json_progress(&self, done: bool) -> String {
        let mut out = self.to_json();
        out.pop();
        out.push_str(if done {
            ",\"done\":true}"
        } else {
            ",\"done\":false}"
        });
        out
    }
}

/// The JSON object `{"error":"message"}` that the wasm entry point returns when a query is rejected.
pub fn error_json(message: &str) -> String {
    let mut out = String::from("{\"error\":");
    push_json_string(&mut out, message);
    out.push('}');
    out
}

/// Appends `s` as a JSON string literal (RFC 8259, section 7), quotes included.
///
/// Beyond what JSON requires (`"`, `\` and the control characters below U+0020), this also escapes
/// `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026` so that the output can sit inside an HTML
/// `<script>` element without a `</script>` in the SVG closing it early, and U+2028/U+2029, which
/// older JavaScript parsers treat as line terminators inside string literals.
pub fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                let code = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[((code >> shift) & 0xf) as usize]));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_quotes_newlines_and_markup() {
        let fig = Figure {
            svg: "<svg a=\"1\">\n</svg>".to_string(),
            numbers: vec![("loss \\ \"CE\"".to_string(), "0.05".to_string())],
            description: "tab\there & \u{1} \u{2028}é".to_string(),
        };
        assert_eq!(
            fig.to_json(),
            concat!(
                r#"{"svg":"\u003csvg a=\"1\"\u003e\n\u003c/svg\u003e","#,
                r#""numbers":[["loss \\ \"CE\"","0.05"]],"#,
                r#""description":"tab\there \u0026 \u0001 \u2028é"}"#
            )
        );
    }

    #[test]
    fn empty_figure_is_valid_json_shape() {
        let fig = Figure {
            svg: String::new(),
            numbers: Vec::new(),
            description: String::new(),
        };
        assert_eq!(fig.to_json(), r#"{"svg":"","numbers":[],"description":""}"#);
        assert_eq!(error_json("bad \"x\""), r#"{"error":"bad \"x\""}"#);
    }
}

//! Parsing `widget=ID&name=value&...` queries (the URL state of a widget) and rendering them.
//!
//! The encoding is `application/x-www-form-urlencoded` as browsers produce it (WHATWG URL Standard,
//! section 5): pairs separated by `&`, name and value by the first `=`, `+` meaning a space and `%XY`
//! a byte in hexadecimal; the decoded bytes must be UTF-8. Unlike a browser, which replaces malformed
//! escapes silently, this parser rejects them, because a widget query is produced by our own code and a
//! malformed one is a bug worth seeing.

use thiserror::Error;

use crate::figure::Figure;
use crate::registry::{find_in, registry, Session, Widget};
use crate::spec::{parse_params, ParamError};

/// Why a query could not be rendered.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum WidgetError {
    /// The query has no `widget=` pair.
    #[error("the query names no widget (expected `widget=ID&...`)")]
    MissingWidget,
    /// `widget=` appears more than once.
    #[error("the query names the widget more than once")]
    DuplicateWidget,
    /// No registered widget has this id.
    #[error("unknown widget `{id}`")]
    UnknownWidget {
        /// The id that was asked for.
        id: String,
    },
    /// A `%` escape is malformed or the decoded bytes are not UTF-8.
    #[error("malformed query text `{text}`: {reason}")]
    BadEncoding {
        /// The raw name or value that failed to decode.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A parameter value was rejected by the widget's spec.
    #[error(transparent)]
    Param(#[from] ParamError),
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` becomes a space, `%XY` the byte
/// `0xXY`; the result must be valid UTF-8.
pub fn percent_decode(s: &str) -> Result<String, WidgetError> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let pair = bytes
                    .get(i + 1)
                    .and_then(|&h| hex(h))
                    .zip(bytes.get(i + 2).and_then(|&l| hex(l)));
                let Some((high, low)) = pair else {
                    return Err(WidgetError::BadEncoding {
                        text: s.to_string(),
                        reason: "`%` must be followed by two hexadecimal digits",
                    });
                };
                out.push(high << 4 | low);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| WidgetError::BadEncoding {
        text: s.to_string(),
        reason: "the decoded bytes are not UTF-8",
    })
}

/// Appends `s` percent-encoded so that [`percent_decode`] returns it unchanged: ASCII letters, digits
/// and `-._~` stay as they are (the unreserved set of RFC 3986, section 2.3); every other byte is `%XY`.
pub fn push_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// A parsed query: the widget id and the decoded parameter pairs, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The `widget=` value.
    pub widget: String,
    /// Every other `name=value` pair, decoded.
    pub pairs: Vec<(String, String)>,
}

impl Query {
    /// The parameter pairs as borrowed strings, the form [`parse_params`] takes.
    pub fn pair_refs(&self) -> Vec<(&str, &str)> {
        self.pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

/// Splits and decodes a query. A leading `?` is ignored, as are empty segments (`a=1&&b=2`); a segment
/// without `=` is a name with an empty value.
pub fn parse_query(query: &str) -> Result<Query, WidgetError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut widget = None;
    let mut pairs = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
        let name = percent_decode(name)?;
        let value = percent_decode(value)?;
        if name == "widget" {
            if widget.is_some() {
                return Err(WidgetError::DuplicateWidget);
            }
            widget = Some(value);
        } else {
            pairs.push((name, value));
        }
    }
    Ok(Query {
        widget: widget.ok_or(WidgetError::MissingWidget)?,
        pairs,
    })
}

/// Renders the widget a query names with the parameters it gives (the rest at their defaults).
pub fn render_query(query: &str) -> Result<Figure, WidgetError> {
    render_query_in(registry(), query)
}

/// [`render_query`] for a widget among `widgets` (one lesson's, in that lesson's WebAssembly module); any other
/// id is an unknown widget.
pub fn render_query_in(
    widgets: &[&'static dyn Widget],
    query: &str,
) -> Result<Figure, WidgetError> {
    let q = parse_query(query)?;
    let widget = find_in(widgets, &q.widget).ok_or_else(|| WidgetError::UnknownWidget {
        id: q.widget.clone(),
    })?;
    let params = parse_params(widget.spec(), &q.pair_refs())?;
    Ok(widget.render(&params))
}

/// What a progressive redraw starts from a query (see [`crate::Stepped`]).
pub enum Redraw {
    /// The finished figure, for a widget whose render fits one frame.
    Done(Figure),
    /// The computation of a widget that works across frames, not yet advanced.
    Session(Box<dyn Session>),
}

impl std::fmt::Debug for Redraw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Redraw::Done(figure) => f.debug_tuple("Done").field(figure).finish(),
            Redraw::Session(_) => f.write_str("Session(..)"),
        }
    }
}

/// Like [`render_query`], but for a [`crate::Stepped`] widget returns its computation instead of running it to
/// the end, so the caller (the page, through the wasm export `dlf_step`) can advance it one slice per frame.
///
/// # Errors
/// As [`render_query`].
pub fn start_query(query: &str) -> Result<Redraw, WidgetError> {
    start_query_in(registry(), query)
}

/// [`start_query`] for a widget among `widgets` (one lesson's, in that lesson's WebAssembly module).
///
/// # Errors
/// As [`render_query`].
pub fn start_query_in(widgets: &[&'static dyn Widget], query: &str) -> Result<Redraw, WidgetError> {
    let q = parse_query(query)?;
    let widget = find_in(widgets, &q.widget).ok_or_else(|| WidgetError::UnknownWidget {
        id: q.widget.clone(),
    })?;
    let params = parse_params(widget.spec(), &q.pair_refs())?;
    Ok(match widget.session(&params) {
        Some(session) => Redraw::Session(session),
        None => Redraw::Done(widget.render(&params)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        assert_eq!(percent_decode("a+b%2Bc%3d%C3%A9").unwrap(), "a b+c=é");
        assert_eq!(percent_decode("-2.5").unwrap(), "-2.5");
    }

    #[test]
    fn rejects_malformed_escapes() {
        for bad in ["%", "%4", "%zz", "%FF"] {
            assert!(
                matches!(percent_decode(bad), Err(WidgetError::BadEncoding { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn encoding_round_trips() {
        let original = "a b&c=d/é%+~";
        let mut encoded = String::new();
        push_encoded(&mut encoded, original);
        assert_eq!(encoded, "a%20b%26c%3Dd%2F%C3%A9%25%2B~");
        assert_eq!(percent_decode(&encoded).unwrap(), original);
    }

    #[test]
    fn splits_pairs_and_finds_the_widget() {
        let q = parse_query("?steps=100&&widget=mlp%2Dtrainer&flag&lr=%2D1.5").unwrap();
        assert_eq!(q.widget, "mlp-trainer");
        assert_eq!(
            q.pair_refs(),
            vec![("steps", "100"), ("flag", ""), ("lr", "-1.5")]
        );
        assert_eq!(parse_query("a=1"), Err(WidgetError::MissingWidget));
        assert_eq!(
            parse_query("widget=a&widget=b"),
            Err(WidgetError::DuplicateWidget)
        );
    }

    #[test]
    fn unknown_widget_is_named() {
        let err = render_query("widget=no-such-thing").unwrap_err();
        assert_eq!(err.to_string(), "unknown widget `no-such-thing`");
    }
}

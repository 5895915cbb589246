//! Problems found in the course, each pointing at a file and a line.
//!
//! The loader never stops at the first problem: every stage (track file, front matter, directive grammar,
//! Markdown and maths, widgets, claims) appends to one list so that `dlf check` can show an author everything
//! that needs fixing in one run. A [`Diagnostic`] displays as `file:line: [directive] message`, the shape
//! compilers use, so editors can jump to it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One problem in one file.
///
/// `line` is 1-based. Problems that concern a whole file (a missing `:::sources`, a lesson that is not in the
/// track) point at line 1. `directive` names the directive the problem is in, as `name id` (for example
/// `prompt why-transpose`) or just `name` when the directive has no id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file, as the loader was given it (the content directory joined with the relative path).
    pub file: PathBuf,
    /// The 1-based line the problem is on.
    pub line: usize,
    /// The directive the problem belongs to, if any.
    pub directive: Option<String>,
    /// What is wrong, in a sentence an author can act on.
    pub message: String,
}

impl Diagnostic {
    /// A problem that belongs to no directive.
    pub fn new(file: &Path, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            directive: None,
            message: message.into(),
        }
    }

    /// A problem inside the directive labelled `directive` (for example `claim adam-memory`).
    pub fn in_directive(
        file: &Path,
        line: usize,
        directive: Option<&str>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            directive: directive.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if let Some(directive) = &self.directive {
            write!(f, "[{directive}] ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found while loading the course, in the order files were read and lines appear.
///
/// This is the error type of [`crate::Site::load`]; its `Display` prints one diagnostic per line followed by a
/// count, which is what `dlf check` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_list(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn render_list(list: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in list {
        out.push_str(&diagnostic.to_string());
        out.push('\n');
    }
    let noun = if list.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    out.push_str(&format!("{} {noun} in the course", list.len()));
    out
}

impl Diagnostics {
    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The lines of a text, indexed once, so that finding the line of an offset costs a binary search instead
/// of a count of the newlines before it (which made checking a lesson quadratic in its number of Markdown
/// events: 80,000 `*a*` spans took 41 s).
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    /// The byte offset of every `\n`, in order.
    newlines: Vec<usize>,
    first_line: usize,
}

impl LineIndex {
    /// Indexes `text`, whose first line is line `first_line` of its file.
    pub(crate) fn new(text: &str, first_line: usize) -> LineIndex {
        LineIndex {
            newlines: text
                .bytes()
                .enumerate()
                .filter_map(|(i, b)| (b == b'\n').then_some(i))
                .collect(),
            first_line,
        }
    }

    /// The line of byte `offset`: `first_line` plus the number of newlines before it. The same as
    /// [`line_at`], in O(log n).
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.first_line + self.newlines.partition_point(|&at| at < offset)
    }
}

/// The 1-based line of byte `offset` in `text`, where `text`'s first line is line `first_line`. Counts from
/// the start: for many lookups in one text use [`LineIndex`].
pub(crate) fn line_at(text: &str, offset: usize, first_line: usize) -> usize {
    let end = offset.min(text.len());
    first_line
        + text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
}

//! Reading text for `dlf tokenize`: a file or standard input (`-`), which must be UTF-8. An unreadable file
//! names the file; bytes that are not UTF-8 name the file, the byte offset, the line and the column.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// A text and the name to use for it in messages.
#[derive(Debug)]
pub struct Text {
    /// The file's name as given, or `standard input`.
    pub name: String,
    /// Its contents.
    pub text: String,
}

/// Reads `path` (`-` is standard input) as UTF-8.
///
/// # Errors
/// The file cannot be read (naming it), or its bytes are not UTF-8 (naming the offset, line and column).
pub fn read(path: &Path) -> Result<Text> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("could not read standard input")?;
        ("standard input".to_string(), bytes)
    } else {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).with_context(|| format!("could not read {name}"))?;
        (name, bytes)
    };
    let text = utf8(&name, bytes)?;
    Ok(Text { name, text })
}

/// `bytes` as a string, or an error naming where the first byte that is not UTF-8 is.
///
/// # Errors
/// `NAME: not UTF-8: byte 0xff at offset 12 (line 2, column 5) …`.
pub fn utf8(name: &str, bytes: Vec<u8>) -> Result<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let before = &bytes[..at];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            // Columns count characters, which the bytes before `at` on this line are (they are valid UTF-8).
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            let what = match e.utf8_error().error_len() {
                Some(_) => format!("byte 0x{:02x}", bytes[at]),
                None => "a truncated multi-byte character at the end".to_string(),
            };
            bail!(
                "{name}: not UTF-8: {what} at byte offset {at} (line {line}, column {column}); dlf tokenize \
                 reads UTF-8 text (convert the file first, e.g. iconv -f latin1 -t utf-8)"
            )
        }
    }
}

/// The lines of `text`, each with its line ending, as Hugging Face `tokenizers` feeds a file to its
/// trainers (one sequence per line, the newline kept: byte-level BPE learns `Ċ`).
pub fn lines_with_endings(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

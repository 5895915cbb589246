//! `dlf calc norm`: being written (issue 3).

use std::io::Read;

use anyhow::{bail, Result};

/// The conventions of `dlf calc norm`, printed by `--help`.
pub const CONVENTIONS: &str = "Being written.";

/// Options of `dlf calc norm`.
#[derive(Debug, clap::Args)]
pub struct NormArgs {}

/// Reads a problem from `input` and returns the answer as pretty JSON.
pub fn run(_args: &NormArgs, _input: impl Read) -> Result<String> {
    bail!("dlf calc norm is being written")
}

//! `dlf calc optim`: being written (issue 3).

use std::io::Read;

use anyhow::{bail, Result};

/// The conventions of `dlf calc optim`, printed by `--help`.
pub const CONVENTIONS: &str = "Being written.";

/// Options of `dlf calc optim`.
#[derive(Debug, clap::Args)]
pub struct OptimArgs {}

/// Reads a problem from `input` and returns the answer as pretty JSON.
pub fn run(_args: &OptimArgs, _input: impl Read) -> Result<String> {
    bail!("dlf calc optim is being written")
}

//! `dlf`: the Deep Learning Foundations course in one binary.
//!
//! - `dlf serve` serves the course (embedded in this binary) on 127.0.0.1 and prints the URL.
//! - `dlf check` validates the whole course and runs every claim against the engine.
//! - `dlf build DIR` writes a static export that works from any static file host.
//! - `dlf calc TOPIC` checks a hand computation: a JSON problem on stdin, every intermediate on stdout.
//! - `dlf drill` practises the queue of due cards in the terminal, on the same progress file as `dlf serve`.
//! - `dlf progress ACTION` shows, marks, exports and imports the learner's progress (`--data FILE`).
//! - `dlf anki FILE` writes every practice card as a file Anki imports, maths included.
//! - `dlf tokenize ACTION` trains, applies and inspects subword tokenizers (Hugging Face tokenizer.json).
//!
//! Errors are printed with their chain and exit with status 2, as ripgrep does; a closed stdout is not an error.

mod calc;
mod drill;
mod progress;
mod tokenize;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "dlf",
    version,
    about = "Deep Learning Foundations: an offline, interactive interview-prep track for the maths behind transformers."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The progress file (SQLite) shared by `serve`, `drill` and `progress`; default
    /// $XDG_DATA_HOME/dlf/progress.sqlite3, else ~/.local/share/dlf/progress.sqlite3.
    #[arg(long, global = true, value_name = "FILE")]
    data: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the course on a local address and print its URL.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Address to bind. The default serves this machine only.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        host: IpAddr,
        /// Serve the course from this directory instead of the copy embedded in the binary.
        #[arg(long, value_name = "DIR")]
        content: Option<PathBuf>,
    },
    /// Validate the whole course: structure, linear order, maths, directives, widget parameters, claims.
    Check {
        /// Print a machine-readable report instead of text.
        #[arg(long)]
        json: bool,
        /// Check the course in this directory instead of the copy embedded in the binary.
        #[arg(long, value_name = "DIR")]
        content: Option<PathBuf>,
    },
    /// Write a static export (HTML, CSS, wasm, fonts) to DIR; widgets stay live.
    Build {
        /// The output directory (created if missing; files in it are overwritten).
        dir: PathBuf,
        /// Build the course in this directory instead of the copy embedded in the binary.
        #[arg(long, value_name = "DIR")]
        content: Option<PathBuf>,
    },
    /// Practise the cards that are due, from the lessons marked done, in the terminal.
    Drill(drill::DrillArgs),
    /// Show, mark, export or import progress: lessons done and every practice answer.
    Progress {
        #[command(subcommand)]
        action: progress::Action,
    },
    /// Write every practice card to FILE as a text file Anki imports (File > Import), maths included.
    Anki {
        /// The file to write (replaced if it exists), e.g. dlf-cards.txt.
        out: PathBuf,
    },
    /// Check a hand computation: reads a JSON problem on stdin, prints every intermediate as JSON.
    Calc {
        #[command(subcommand)]
        topic: calc::CalcTopic,
    },
    /// Train, encode, decode with subword tokenizers (BPE, WordPiece, Unigram); show a Unigram lattice.
    #[command(long_about = tokenize::CONVENTIONS)]
    Tokenize {
        #[command(subcommand)]
        action: tokenize::Action,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut message = format!("dlf: error: {err}");
            for cause in err.chain().skip(1) {
                message.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load_site(content: Option<PathBuf>) -> Result<dlf_content::Site, dlf_content::Diagnostics> {
    match content {
        Some(dir) => dlf_content::Site::load(&dir),
        None => dlf_content::Site::load_embedded(),
    }
}

/// The course embedded in the binary, which `drill` and `progress` practise and report on.
fn embedded_site() -> Result<dlf_content::Site> {
    load_site(None).map_err(|d| anyhow::anyhow!("the course does not validate:\n{d}"))
}

/// Opens the progress file named by `--data`, or the default one in the user's data directory.
fn open_store(data: Option<PathBuf>) -> Result<dlf_store::Store> {
    let path = match data {
        Some(path) => path,
        None => dlf_store::default_path()?,
    };
    Ok(dlf_store::Store::open(&path)?)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve {
            port,
            host,
            content,
        } => {
            let site = load_site(content)
                .map_err(|d| anyhow::anyhow!("the course does not validate:\n{d}"))?;
            let store = Arc::new(open_store(cli.data)?);
            let data_path = store.path().to_path_buf();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("could not start the async runtime")?;
            runtime.block_on(async move {
                let listener = dlf_server::bind(SocketAddr::new(host, port)).await?;
                let addr = listener.local_addr()?;
                let mut state = dlf_server::AppState::with_store(&site, store);
                // Local names are always accepted for writes; an address given with --host is accepted too.
                if !addr.ip().is_loopback() {
                    state = state.allow_host(&addr.to_string());
                }
                let state = Arc::new(state);
                // The banner is for a person; if nobody reads it any more (stdout piped into `head -1`, or a
                // closed terminal) the server must keep serving, so write errors here are ignored.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "dlf is serving {} pages at http://{addr}/  (Ctrl-C to stop)",
                    state.page_count()
                );
                let _ = writeln!(out, "progress is kept in {}", data_path.display());
                let _ = out.flush();
                drop(out);
                dlf_server::serve(listener, state).await?;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { json, content } => {
            let report = dlf_content::check(content.as_deref());
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                write!(out, "{}", report.to_text())?;
            }
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Build { dir, content } => {
            let site = load_site(content)
                .map_err(|d| anyhow::anyhow!("the course does not validate:\n{d}"))?;
            let written = dlf_server::export::write(&site, &dir)?;
            println!("wrote {written} files to {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Drill(args) => {
            let store = open_store(cli.data)?;
            let deck = || Ok(dlf_content::practice::Deck::from_site(&embedded_site()?));
            let color = drill::use_color();
            let stdin = std::io::stdin().lock();
            let mut out = std::io::stdout().lock();
            drill::run(&args, &store, deck, stdin, &mut out, color)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Progress { action } => {
            let store = open_store(cli.data)?;
            progress::run(action, &store, embedded_site, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Anki { out } => {
            let deck = dlf_content::practice::Deck::from_site(&embedded_site()?);
            progress::write_replacing(&out, &dlf_content::anki::anki_export(&deck))?;
            println!(
                "wrote {} cards to {}; import it in Anki with File > Import",
                deck.cards.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Calc { topic } => {
            calc::run(topic)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Tokenize { action } => {
            tokenize::run(action)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

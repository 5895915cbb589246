//! `cargo xtask test [ARGS…]`: the README's test command. A fresh machine with only rustup and cargo lacks three
//! things the tests need: the `wasm32-unknown-unknown` standard library (the widget module is built for it),
//! headless Chromium and chromedriver (the browser tests). This installs whichever is missing, then runs
//! `cargo test --workspace ARGS…` and exits with its status. `cargo xtask provision` installs and stops.
//!
//! Installing needs rustup for the target and root with apt-get (Debian, as in CI) for Chromium. Where either is
//! not available, it stops before testing with the exact command that would install the missing piece.
//! (`cargo` is an alias in `.cargo/config.toml`; the dlf-server build script adds the wasm target on its own
//! too, so `cargo run -p dlf-cli -- serve` on a fresh machine also serves live widgets.)

mod bench_tokenize;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Debian's packages for the browser tests, and a font so screenshots have glyphs.
const BROWSER_PACKAGES: [&str; 3] = ["chromium", "chromium-driver", "fonts-dejavu-core"];

fn main() {
    let mut args = env::args_os().skip(1);
    let command = args.next().and_then(|a| a.into_string().ok());
    let rest: Vec<OsString> = args.collect();
    let outcome = match command.as_deref() {
        Some("test") => provision().and_then(|()| cargo_test(&rest)),
        Some("provision") => provision().map(|()| 0),
        Some("bench-tokenize") => bench_tokenize::main(
            &rest
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        ),
        _ => {
            eprintln!("usage: cargo xtask test [ARGS passed to `cargo test --workspace`]\n       cargo xtask provision   (install the wasm32 target and Chromium, run nothing)\n       cargo xtask bench-tokenize [--repeat N]   (BPE training: the engine vs Hugging Face tokenizers, then fertility)");
            Ok(2)
        }
    };
    match outcome {
        Ok(code) => exit(code),
        Err(message) => {
            eprintln!("xtask: {message}");
            exit(1);
        }
    }
}

/// Installs the wasm32 target and the browser, each only when missing.
fn provision() -> Result<(), String> {
    wasm_target()?;
    browser()
}

fn wasm_target() -> Result<(), String> {
    if wasm_target_installed() {
        return Ok(());
    }
    if find_on_path("rustup").is_none() {
        return Err(format!(
            "the {WASM_TARGET} target is not installed and rustup is not on PATH. Install Rust with rustup, then run \
             `rustup target add {WASM_TARGET}` (or install your distribution's wasm32 Rust standard library), \
             and run `cargo xtask test` again"
        ));
    }
    eprintln!("xtask: installing the {WASM_TARGET} target (rustup target add {WASM_TARGET})");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        .map_err(|e| format!("{e}; run `rustup target add {WASM_TARGET}` yourself"))
}

/// Whether the active toolchain's sysroot holds the wasm32 standard library.
fn wasm_target_installed() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
}

fn browser() -> Result<(), String> {
    // The browser tests start /usr/bin/chromium (Debian's path) through chromedriver found on PATH.
    let present = Path::new("/usr/bin/chromium").exists() && find_on_path("chromedriver").is_some();
    if present {
        return Ok(());
    }
    let packages = BROWSER_PACKAGES.join(" ");
    if find_on_path("apt-get").is_none() {
        return Err(format!(
            "Chromium and chromedriver are missing and this is not a Debian-like system: install Chromium at \
             /usr/bin/chromium and chromedriver on PATH (Debian: `apt-get install {packages}`), then run \
             `cargo xtask test` again"
        ));
    }
    if !is_root() {
        return Err(format!(
            "Chromium and chromedriver are missing; installing them needs root. Run \
             `sudo apt-get update && sudo apt-get install -y --no-install-recommends {packages}`, then \
             `cargo xtask test` again"
        ));
    }
    eprintln!("xtask: installing {packages} (apt-get)");
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        run(&mut cmd)
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(BROWSER_PACKAGES);
    apt(&install)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn cargo_test(args: &[OsString]) -> Result<i32, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace"])
        .args(args)
        .status()
        .map_err(|e| format!("could not run cargo test: {e}"))?;
    Ok(status.code().unwrap_or(1))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

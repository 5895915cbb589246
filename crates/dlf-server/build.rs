//! Builds the widget WebAssembly module (`dlf-widgets` for `wasm32-unknown-unknown`) with a nested cargo
//! invocation, so the server binary can embed it and the page can render every widget in the browser.
//!
//! The nested build has its own target directory inside OUT_DIR and runs with the outer build's compiler
//! wrappers and flags removed (clippy's driver, RUSTFLAGS, the jobserver), which would otherwise leak into a
//! build for another target. Where the wasm32 target is not installed, the build installs it with
//! `rustup target add wasm32-unknown-unknown` (a toolchain's `rust-toolchain.toml` `targets` are only added when
//! rustup installs the toolchain itself, not to one already installed), so the README's run command serves live
//! widgets on a fresh machine. Where that is impossible (no rustup), it prints a warning naming the command to run
//! and embeds an empty module: pages then render widgets through the server route `/api/widgets/{id}` instead.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let crates = manifest_dir
        .parent()
        .expect("the server crate lives in crates/");
    let widgets_manifest = crates.join("dlf-widgets/Cargo.toml");
    for watched in [
        "dlf-widgets/src",
        "dlf-widgets/Cargo.toml",
        "dlf-engine/src",
        "dlf-engine/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", crates.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=DLF_SKIP_WASM");

    let dest = out_dir.join("dlf_widgets.wasm");
    if env::var_os("DLF_SKIP_WASM").is_some() {
        println!(
            "cargo:warning=DLF_SKIP_WASM is set: widgets will render through the server route only"
        );
        write_empty(&dest);
        return;
    }
    if let Err(reason) = ensure_wasm_target() {
        println!("cargo:warning={reason}; pages will render widgets through the server route");
        write_empty(&dest);
        return;
    }
    match build_wasm(&widgets_manifest, &out_dir.join("wasm-target")) {
        Ok(built) => {
            fs::copy(&built, &dest).expect("copy the widget wasm into OUT_DIR");
        }
        Err(reason) => {
            println!("cargo:warning=the widget wasm was not built ({reason}); pages will render widgets through the server route. Install the target with `rustup target add wasm32-unknown-unknown`.");
            write_empty(&dest);
        }
    }
}

/// Installs the wasm32 standard library through rustup when the active toolchain lacks it.
fn ensure_wasm_target() -> Result<(), String> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .map_err(|e| format!("could not ask rustc for its sysroot: {e}"))?;
    let target_lib = Path::new(&sysroot).join("lib/rustlib/wasm32-unknown-unknown/lib");
    if target_lib.is_dir() {
        return Ok(());
    }
    let added = Command::new("rustup")
        .args(["target", "add", "wasm32-unknown-unknown"])
        .output();
    match added {
        Ok(out) if out.status.success() && target_lib.is_dir() => {
            println!("cargo:warning=installed the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown) to build the widget module");
            Ok(())
        }
        Ok(out) => Err(format!(
            "`rustup target add wasm32-unknown-unknown` failed ({}): run it yourself and rebuild",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(_) => Err("the wasm32-unknown-unknown target is missing and rustup is not on PATH: install Rust with rustup and run `rustup target add wasm32-unknown-unknown` (or install your distribution's wasm32 Rust standard library), then rebuild".to_owned()),
    }
}

fn write_empty(dest: &Path) {
    fs::write(dest, b"").expect("write an empty wasm placeholder into OUT_DIR");
}

fn build_wasm(manifest: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--manifest-path",
    ])
    .arg(manifest)
    .arg("--target-dir")
    .arg(target_dir);
    // Remove everything the outer cargo set for itself: flags, wrappers and the jobserver belong to the host build.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let outer = (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || (key.starts_with("RUST") && !key.starts_with("RUSTUP_"))
            || key == "CLIPPY_ARGS"
            || key == "CLIPPY_CONF_DIR";
        if outer {
            cmd.env_remove(&key);
        }
    }
    // Speed over size: widgets must render within a frame while a slider is dragged.
    cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true");
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("nested cargo failed: {}", tail.join(" | ")));
    }
    let built = target_dir.join("wasm32-unknown-unknown/release/dlf_widgets.wasm");
    if built.exists() {
        Ok(built)
    } else {
        Err(format!("{} was not produced", built.display()))
    }
}

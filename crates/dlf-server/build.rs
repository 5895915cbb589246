//! Builds the widget WebAssembly modules, one per lesson topic, with a nested cargo invocation, so the server
//! binary can embed them and each page loads only the code of its own lesson's widgets.
//!
//! The topics are read from the `lessons!` list of `dlf-widgets/src/lessons/mod.rs` (the list that registers
//! each lesson's widgets), so adding a lesson there adds its module with no other change. For them this script
//! writes a small crate into OUT_DIR, `dlf-widget-modules`, whose examples are `cdylib`s of one line each,
//! `dlf_widgets::wasm_module!("topic");` (the exports over that lesson's widgets alone), and builds them all in one
//! `cargo build --release --examples --target wasm32-unknown-unknown`: the engine and the widgets library are
//! compiled once, and each module's link (fat LTO, then wasm-ld's `--gc-sections`) keeps only what its widgets
//! reach. ARCHITECTURE.md ("Per-lesson widget modules") has the measurements behind this and the profile.
//!
//! The nested build has its own target directory inside OUT_DIR and runs with the outer build's compiler
//! wrappers and flags removed (clippy's driver, RUSTFLAGS, the jobserver), which would otherwise leak into a
//! build for another target. Where the wasm32 target is not installed, the build installs it with
//! `rustup target add wasm32-unknown-unknown` (a toolchain's `rust-toolchain.toml` `targets` are only added when
//! rustup installs the toolchain itself, not to one already installed), so the README's run command serves live
//! widgets on a fresh machine. Where that is impossible (no rustup), it prints a warning naming the command to run
//! and embeds empty modules: pages then render widgets through the server route `/api/widgets/{id}` instead.
//!
//! Output: `OUT_DIR/widget_modules.rs`, the table `[(topic, module bytes)]` that `dlf_server::WIDGET_MODULES`
//! includes.

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
    for watched in [
        "dlf-widgets/src",
        "dlf-widgets/Cargo.toml",
        "dlf-engine/src",
        "dlf-engine/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", crates.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=DLF_SKIP_WASM");

    let list = crates.join("dlf-widgets/src/lessons/mod.rs");
    let topics = fs::read_to_string(&list)
        .map_err(|e| e.to_string())
        .and_then(|text| lesson_topics(&text))
        .unwrap_or_else(|e| panic!("reading the `lessons!` list of {}: {e}", list.display()));

    let skipped = if env::var_os("DLF_SKIP_WASM").is_some() {
        Some("DLF_SKIP_WASM is set".to_owned())
    } else if let Err(reason) = ensure_wasm_target() {
        Some(reason)
    } else {
        let workspace = crates.parent().expect("crates/ lives in the workspace");
        match build_modules(workspace, &topics, &out_dir) {
            Ok(built) => {
                write_table(&out_dir, &topics, Some(&built));
                None
            }
            Err(reason) => Some(format!("the widget modules were not built ({reason}). Install the target with `rustup target add wasm32-unknown-unknown`")),
        }
    };
    if let Some(reason) = skipped {
        println!("cargo:warning={reason}; pages will render widgets through the server route");
        write_table(&out_dir, &topics, None);
    }
}

/// The topics of the `lessons!` invocation in `dlf-widgets/src/lessons/mod.rs`, in course order: the identifiers
/// between `lessons! {` and `}`, comments ignored.
fn lesson_topics(text: &str) -> Result<Vec<String>, String> {
    let start = text
        .lines()
        .position(|line| line.trim_start().starts_with("lessons! {"))
        .ok_or("no line starting with `lessons! {`")?;
    let mut topics = Vec::new();
    for line in text.lines().skip(start + 1) {
        let line = line.split("//").next().unwrap_or("").trim();
        if line.starts_with('}') {
            return Ok(topics);
        }
        for name in line.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
                return Err(format!("`{name}` is not a topic name"));
            }
            topics.push(name.to_owned());
        }
    }
    Err("the `lessons! {` list is not closed".to_owned())
}

/// Writes `OUT_DIR/widget_modules.rs`: each topic with its built module, or with an empty module when nothing
/// was built (the page reads an empty module as "no module" and renders through the server route).
fn write_table(out_dir: &Path, topics: &[String], built: Option<&[PathBuf]>) {
    let mut table = String::from("&[\n");
    for (i, topic) in topics.iter().enumerate() {
        let bytes = match built {
            Some(paths) => format!("include_bytes!({:?})", paths[i].display().to_string()),
            None => "b\"\"".to_owned(),
        };
        table.push_str(&format!("    ({topic:?}, {bytes}),\n"));
    }
    table.push(']');
    write_if_changed(&out_dir.join("widget_modules.rs"), &table);
}

/// Writes `path` unless it already holds `text`, so that cargo's timestamps see no change and nothing rebuilds.
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create a folder in OUT_DIR");
        }
        fs::write(path, text).expect("write into OUT_DIR");
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

/// The manifest of the crate whose examples are the per-lesson modules.
///
/// The profile is the size-and-speed one ARCHITECTURE.md measures: `opt-level = 3` (renders must fit a frame;
/// "s" and "z" were 1.3–2.7× slower), fat LTO with one codegen unit (cross-crate inlining, and dead code removed
/// before the linker sees it), `panic = "abort"` (no unwinding tables or landing pads), no debug information and
/// a stripped name section.
fn modules_manifest(widgets: &Path, topics: &[String]) -> String {
    let mut toml = format!(
        "# Written by crates/dlf-server/build.rs: one WebAssembly module per lesson topic.\n\
         [package]\nname = \"dlf-widget-modules\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n\
         [dependencies]\ndlf-widgets = {{ path = {:?} }}\n\n\
         [profile.release]\nopt-level = 3\nlto = \"fat\"\ncodegen-units = 1\npanic = \"abort\"\n\
         debug = false\nstrip = true\nincremental = false\n",
        widgets.display().to_string()
    );
    for topic in topics {
        toml.push_str(&format!(
            "\n[[example]]\nname = {topic:?}\ncrate-type = [\"cdylib\"]\n"
        ));
    }
    toml
}

/// Writes the modules crate into OUT_DIR and builds every topic's module; returns their paths, in `topics` order.
fn build_modules(
    workspace: &Path,
    topics: &[String],
    out_dir: &Path,
) -> Result<Vec<PathBuf>, String> {
    let dir = out_dir.join("widget-modules");
    let widgets = workspace.join("crates/dlf-widgets");
    write_if_changed(&dir.join("Cargo.toml"), &modules_manifest(&widgets, topics));
    write_if_changed(
        &dir.join("src/lib.rs"),
        "//! Nothing: the examples are the modules.\n#![no_std]\n",
    );
    for topic in topics {
        write_if_changed(
            &dir.join(format!("examples/{topic}.rs")),
            &format!(
                "//! Lesson `{topic}`'s widget module.\ndlf_widgets::wasm_module!({topic:?});\n"
            ),
        );
    }
    // The workspace's lock file pins every dependency, so the nested build resolves nothing anew (it works offline)
    // and compiles the same versions as the native build (the same `libm`, hence the same figures).
    if let Ok(lock) = fs::read_to_string(workspace.join("Cargo.lock")) {
        write_if_changed(&dir.join("Cargo.lock"), &lock);
    }
    let target_dir = out_dir.join("wasm-target");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--examples",
        "--target",
        "wasm32-unknown-unknown",
        "--manifest-path",
    ])
    .arg(dir.join("Cargo.toml"))
    .arg("--target-dir")
    .arg(&target_dir);
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
    let output = cmd
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!("nested cargo failed: {}", tail.join(" | ")));
    }
    topics
        .iter()
        .map(|topic| {
            let built = target_dir.join(format!(
                "wasm32-unknown-unknown/release/examples/{topic}.wasm"
            ));
            if built.exists() {
                Ok(built)
            } else {
                Err(format!("{} was not produced", built.display()))
            }
        })
        .collect()
}

//! Embeds the course (`content/` at the workspace root) into the library, so the `dlf` binary serves, checks and
//! exports it with no files beside it. Generates `embedded_content.rs` in OUT_DIR: a sorted table of
//! (path relative to content/, text) pairs, each an `include_str!` so cargo rebuilds when a lesson changes.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let content = manifest_dir.join("../../content");
    let content = content.canonicalize().unwrap_or(content);
    println!("cargo:rerun-if-changed={}", content.display());
    let mut files = Vec::new();
    collect(&content, &content, &mut files);
    files.sort();
    let mut out = String::from("/// The course as it was when this binary was built: (path below content/, text).\npub static FILES: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        out.push_str(&format!(
            "    ({relative:?}, include_str!({absolute:?})),\n"
        ));
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_content.rs");
    fs::write(dest, out).expect("write embedded_content.rs");
}

/// Collects the course's source files: TOML and Markdown below `dir`, except the format's own documentation.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(root, &path, files);
            continue;
        }
        let is_source = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("md" | "toml")
        );
        let relative = path
            .strip_prefix(root)
            .expect("collected paths are below the root")
            .to_string_lossy()
            .replace('\\', "/");
        if is_source && relative != "FORMAT.md" {
            files.push((relative, path.to_string_lossy().into_owned()));
        }
    }
}

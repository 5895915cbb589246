//! `dlf build`: the static export. Every page becomes `index.html` in a folder named like its URL, so the
//! relative links the theme writes resolve on any static host, under any sub-path.

use std::fs;
use std::path::Path;

/// A file of the export that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write {path}: {source}")]
pub struct ExportError {
    /// The file or folder that failed.
    pub path: String,
    /// Why.
    pub source: std::io::Error,
}

/// Writes every page and asset of `site` below `dir`; returns the number of files written.
pub fn write(site: &dlf_content::Site, dir: &Path) -> Result<usize, ExportError> {
    let mut written = 0;
    for page in dlf_content::pages::render_all(site) {
        let relative = page.url.trim_start_matches('/');
        let path = dir.join(relative).join("index.html");
        put(&path, page.html.as_bytes())?;
        written += 1;
    }
    for asset in dlf_content::theme::assets(dlf_content::math_css()) {
        put(&dir.join("assets").join(asset.path), &asset.bytes)?;
        written += 1;
    }
    if !crate::WIDGETS_WASM.is_empty() {
        put(&dir.join("assets/dlf_widgets.wasm"), crate::WIDGETS_WASM)?;
        written += 1;
    }
    Ok(written)
}

fn put(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let failed = |at: &Path| {
        let path = at.display().to_string();
        move |source| ExportError { path, source }
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(failed(parent))?;
    }
    fs::write(path, bytes).map_err(failed(path))
}

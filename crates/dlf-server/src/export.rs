//! `dlf build`: the static export. Every page becomes `index.html` in a folder named like its URL, so the
//! relative links the theme writes resolve on any static host, under any sub-path.
//!
//! The export holds the same bytes `dlf serve` sends ([`crate::bundle`]): assets under their content-hashed
//! names, and beside every file its brotli (`.br`) and gzip (`.gz`) compressions, so a file host that serves
//! pre-compressed siblings (nginx `gzip_static` / `brotli_static`, Caddy `precompressed`) sends them as is.

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

/// Writes every page and asset of `site` below `dir`, each with its `.br` and `.gz` siblings; returns the
/// number of files written.
pub fn write(site: &dlf_content::Site, dir: &Path) -> Result<usize, ExportError> {
    let mut written = 0;
    let pages = dlf_content::pages::render_all(site);
    let search = crate::bundle::search_index(&pages);
    let bodies = crate::bundle::compress_all(
        pages
            .iter()
            .map(|page| crate::bundle::link_page(&page.html, &[&search]).into_bytes())
            .collect(),
    );
    for (page, body) in pages.iter().zip(&bodies) {
        let relative = page.url.trim_start_matches('/');
        written += put_encoded(&dir.join(relative).join("index.html"), body)?;
    }
    written += put_encoded(&dir.join("assets").join(&search.path), &search.body)?;
    for asset in crate::bundle::assets() {
        // No widget module was built (the wasm32 target was missing): pages fall back to the server route.
        if crate::bundle::is_wasm_source(&asset.source) && asset.body.identity.is_empty() {
            continue;
        }
        written += put_encoded(&dir.join("assets").join(&asset.path), &asset.body)?;
    }
    Ok(written)
}

/// Writes `body` at `path`, and its compressions at `path.br` and `path.gz` where they are smaller.
fn put_encoded(path: &Path, body: &crate::bundle::Body) -> Result<usize, ExportError> {
    put(path, &body.identity)?;
    let mut written = 1;
    for (suffix, bytes) in [("br", &body.brotli), ("gz", &body.gzip)] {
        if let Some(bytes) = bytes {
            let mut sibling = path.as_os_str().to_owned();
            sibling.push(".");
            sibling.push(suffix);
            put(Path::new(&sibling), bytes)?;
            written += 1;
        }
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

//! What goes over the wire: every page and asset as bytes ready to send, each compressed once (brotli and gzip)
//! when the pages are rendered, never per request, and every asset under a name that carries its content hash
//! (`style.3f9c….css`) so it can be cached forever (`immutable`) while a page, revalidated with its `ETag`, always
//! names the current files.
//!
//! The served app ([`crate::AppState`]) and the static export ([`crate::export`]) both take their bytes from here,
//! so a plain file host serving the export's `.br`/`.gz` siblings sends exactly what `dlf serve` sends.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;

/// Brotli's densest setting: bodies are compressed once per process, so the time is spent once.
const BROTLI_QUALITY: i32 = 11;
/// Brotli's window, 2²² bytes: larger than any page, so the whole body is one match window.
const BROTLI_WINDOW_BITS: i32 = 22;

/// One response body in every encoding we send, and the validator that names its content.
#[derive(Debug)]
pub struct Body {
    /// The bytes as they are.
    pub identity: Bytes,
    /// Brotli-compressed, when that is smaller than `identity`.
    pub brotli: Option<Bytes>,
    /// Gzip-compressed, when that is smaller than `identity`.
    pub gzip: Option<Bytes>,
    /// 16 hex digits of the content hash of `identity`; the `ETag` of each encoding is derived from it.
    pub hash: String,
}

/// A content coding of a [`Body`], as the client asked for it in `Accept-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `br`.
    Brotli,
    /// `gzip`.
    Gzip,
    /// No compression.
    Identity,
}

impl Body {
    /// Compresses `bytes` both ways (once).
    pub fn new(bytes: Vec<u8>) -> Body {
        let hash = content_hash(&bytes);
        let smaller =
            |compressed: Vec<u8>| (compressed.len() < bytes.len()).then(|| Bytes::from(compressed));
        let brotli = smaller(brotli(&bytes));
        let gzip = smaller(gzip(&bytes));
        Body {
            identity: Bytes::from(bytes),
            brotli,
            gzip,
            hash,
        }
    }

    /// The representation to send for an `Accept-Encoding` header: brotli when accepted, else gzip, else as is.
    pub fn negotiate(&self, accept_encoding: &str) -> (Coding, &Bytes) {
        let accepts = |coding: &str| accepts_coding(accept_encoding, coding);
        match (&self.brotli, &self.gzip) {
            (Some(br), _) if accepts("br") => (Coding::Brotli, br),
            (_, Some(gz)) if accepts("gzip") => (Coding::Gzip, gz),
            _ => (Coding::Identity, &self.identity),
        }
    }

    /// The strong `ETag` of one representation: each coding's bytes differ, so each has its own tag.
    pub fn etag(&self, coding: Coding) -> String {
        match coding {
            Coding::Brotli => format!("\"{}-br\"", self.hash),
            Coding::Gzip => format!("\"{}-gz\"", self.hash),
            Coding::Identity => format!("\"{}\"", self.hash),
        }
    }

    /// Whether an `If-None-Match` header names any representation of this body (so the client's copy is
    /// current, whichever coding it was sent in), or is `*`.
    pub fn matches(&self, if_none_match: &str) -> bool {
        if_none_match.split(',').any(|tag| {
            let tag = tag.trim();
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*"
                || [Coding::Brotli, Coding::Gzip, Coding::Identity]
                    .iter()
                    .any(|&c| self.etag(c) == tag)
        })
    }
}

/// Whether `header` (an `Accept-Encoding` value) accepts `coding` with a non-zero quality, directly or via `*`.
fn accepts_coding(header: &str, coding: &str) -> bool {
    let mut star = false;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case(coding) {
            return !refused;
        }
        if name == "*" {
            star = !refused;
        }
    }
    star
}

/// FNV-1a, 64 bits, as 16 hex digits: a stable name for content (cache busting and validators, not security).
pub fn content_hash(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_WINDOW_BITS,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(bytes.len() / 4);
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)
        .expect("brotli into memory cannot fail");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    encoder
        .write_all(bytes)
        .expect("gzip into memory cannot fail");
    encoder.finish().expect("gzip into memory cannot fail")
}

/// Bodies already compressed in this process, by content hash: the tests build many servers over the same
/// pages, and `dlf serve` builds one; either way each distinct body is compressed once.
fn compressed(bytes: Vec<u8>) -> Arc<Body> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Body>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let hash = content_hash(&bytes);
    if let Some(found) = cache
        .lock()
        .expect("no panic while holding the cache")
        .get(&hash)
    {
        return found.clone();
    }
    let body = Arc::new(Body::new(bytes));
    cache
        .lock()
        .expect("no panic while holding the cache")
        .insert(hash, body.clone());
    body
}

/// Compresses many bodies at once, one thread each (they are independent, and brotli's densest setting is slow).
pub fn compress_all(bodies: Vec<Vec<u8>>) -> Vec<Arc<Body>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = bodies
            .into_iter()
            .map(|bytes| scope.spawn(move || compressed(bytes)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("compression does not panic"))
            .collect()
    })
}

/// One file below `assets/`, under its hashed name.
#[derive(Debug)]
pub struct HashedAsset {
    /// The theme's name for it, below `assets/` (`style.css`).
    pub source: String,
    /// The name it is served under, below `assets/` (`style.0123456789abcdef.css`).
    pub path: String,
    /// Its `Content-Type`.
    pub mime: &'static str,
    /// Its bytes, in every encoding.
    pub body: Arc<Body>,
}

/// Every asset of the binary, hashed and compressed (once per process: they depend on nothing but the build).
pub fn assets() -> &'static [HashedAsset] {
    static ASSETS: OnceLock<Vec<HashedAsset>> = OnceLock::new();
    ASSETS.get_or_init(build_assets)
}

fn build_assets() -> Vec<HashedAsset> {
    let mut sources: Vec<(String, &'static str, Vec<u8>)> =
        dlf_content::theme::assets(dlf_content::math_css())
            .into_iter()
            .map(|a| (a.path.to_owned(), a.mime, a.bytes.into_owned()))
            .collect();
    // One module per lesson topic. Served even when empty (the wasm32 target was missing at build time): the page
    // reads an empty module as "no module" and renders through /api/widgets, with no failed request in the console.
    for (topic, module) in crate::WIDGET_MODULES {
        sources.push((wasm_source(topic), "application/wasm", module.to_vec()));
    }
    // Files that name no other asset are hashed first; the stylesheet names the font, so its references are
    // rewritten to the hashed names before its own hash is taken.
    let names: Vec<(String, String)> = sources
        .iter()
        .filter(|(path, _, _)| !path.ends_with(".css"))
        .map(|(path, _, bytes)| (path.clone(), hashed_name(path, bytes)))
        .collect();
    for (path, _, bytes) in &mut sources {
        if path.ends_with(".css") {
            let mut text =
                String::from_utf8(std::mem::take(bytes)).expect("the stylesheet is UTF-8");
            for (from, to) in &names {
                text = text.replace(&format!("\"{from}\""), &format!("\"{to}\""));
            }
            *bytes = text.into_bytes();
        }
    }
    let paths: Vec<String> = sources.iter().map(|(p, _, b)| hashed_name(p, b)).collect();
    let mimes: Vec<(&'static str, String)> =
        sources.iter().map(|(p, m, _)| (*m, p.clone())).collect();
    let bodies = compress_all(sources.into_iter().map(|(_, _, b)| b).collect());
    mimes
        .into_iter()
        .zip(paths)
        .zip(bodies)
        .map(|(((mime, source), path), body)| HashedAsset {
            source,
            path,
            mime,
            body,
        })
        .collect()
}

/// The hashed name below `assets/` of the asset the theme calls `source` (`style.css` → `style.HASH.css`).
pub fn asset_path(source: &str) -> Option<&'static str> {
    assets()
        .iter()
        .find(|a| a.source == source)
        .map(|a| a.path.as_str())
}

/// The unhashed name below `assets/` of the widget module of lesson topic `topic` (`widgets/optim.wasm`).
pub fn wasm_source(topic: &str) -> String {
    format!("widgets/{topic}.wasm")
}

/// Whether `source` (an unhashed name below `assets/`) is a widget module.
pub fn is_wasm_source(source: &str) -> bool {
    source.starts_with("widgets/") && source.ends_with(".wasm")
}

/// The lesson topics of the widgets a rendered page shows (its `data-widget="ID"` figures), each once, in order of
/// first appearance.
pub fn page_topics(html: &str) -> Vec<&'static str> {
    let mut topics = Vec::new();
    for piece in html.split(" data-widget=\"").skip(1) {
        let id = piece.split('"').next().unwrap_or("");
        if let Some(topic) = dlf_widgets::topic_of(id) {
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
    }
    topics
}

/// `fonts/x.woff2` → `fonts/x.0123456789abcdef.woff2`.
fn hashed_name(path: &str, bytes: &[u8]) -> String {
    let hash = content_hash(bytes);
    let (dir, file) = path.rsplit_once('/').map_or(("", path), |(d, f)| (d, f));
    let named = match file.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{file}.{hash}"),
    };
    if dir.is_empty() {
        named
    } else {
        format!("{dir}/{named}")
    }
}

/// The search index of the course in `pages` ([`dlf_content::search`]), under its hashed name.
pub fn search_index(pages: &[dlf_content::pages::Page]) -> HashedAsset {
    let json = dlf_content::search::index_json(pages).into_bytes();
    let source = dlf_content::theme::SEARCH_INDEX.to_owned();
    HashedAsset {
        path: hashed_name(&source, &json),
        source,
        mime: "application/json",
        body: compressed(json),
    }
}

/// Points a rendered page at the hashed assets (the binary's, and `site`'s: the search index): every
/// `assets/NAME` it links becomes `assets/NAME.HASH.EXT`, and the root element of a page that shows widgets names
/// the module of their lesson (`data-wasm`), which the script loads; a page without widgets names none.
///
/// A page loads one module, which holds one lesson's widgets, so a page showing widgets of several lessons names
/// none and renders them through the server route (the test `budget.rs` requires one module on every page with
/// widgets, so the course never does this).
pub fn link_page(html: &str, site: &[&HashedAsset]) -> String {
    let mut html = html.to_owned();
    for asset in assets().iter().chain(site.iter().copied()) {
        html = html.replace(
            &format!("assets/{}\"", asset.source),
            &format!("assets/{}\"", asset.path),
        );
    }
    let topics = page_topics(&html);
    let single = match topics.as_slice() {
        [topic] => Some(*topic),
        _ => None,
    };
    if let Some(module) = single.and_then(|t| asset_path(&wasm_source(t))) {
        html = html.replacen(
            "data-root=\"",
            &format!("data-wasm=\"assets/{module}\" data-root=\""),
            1,
        );
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_qualities() {
        assert!(accepts_coding("gzip, deflate, br, zstd", "br"));
        assert!(accepts_coding("gzip;q=1.0, br;q=0.5", "br"));
        assert!(!accepts_coding("gzip, br;q=0", "br"));
        assert!(accepts_coding("*", "gzip"));
        assert!(!accepts_coding("*;q=0", "gzip"));
        assert!(!accepts_coding("", "gzip"));
        assert!(!accepts_coding("identity", "br"));
    }

    #[test]
    fn bodies_round_trip_through_both_codings() {
        let text = "the same sentence again and again. "
            .repeat(200)
            .into_bytes();
        let body = Body::new(text.clone());
        let br = body.brotli.as_ref().expect("repetitive text compresses");
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut unbrotli).expect("valid brotli");
        assert_eq!(unbrotli, text);
        let gz = body.gzip.as_ref().expect("repetitive text compresses");
        let mut ungzip = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut ungzip)
            .expect("valid gzip");
        assert_eq!(ungzip, text);
        assert_eq!(body.negotiate("gzip, br").0, Coding::Brotli);
        assert_eq!(body.negotiate("gzip").0, Coding::Gzip);
        assert_eq!(body.negotiate("").0, Coding::Identity);
        assert!(body.matches(&body.etag(Coding::Gzip)));
        assert!(body.matches(&format!("W/{}, \"other\"", body.etag(Coding::Identity))));
        assert!(!body.matches("\"0000000000000000\""));
    }

    #[test]
    fn hashed_names_keep_folder_and_extension() {
        let name = hashed_name("fonts/latinmodern-math.woff2", b"x");
        assert!(name.starts_with("fonts/latinmodern-math."));
        assert!(name.ends_with(".woff2"));
        assert_eq!(
            name.len(),
            "fonts/latinmodern-math.".len() + 16 + ".woff2".len()
        );
    }
}

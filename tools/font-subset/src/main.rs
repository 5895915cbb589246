//! Writes `crates/dlf-content/front-end/fonts/latinmodern-math.otf`: Latin Modern Math subset (HarfBuzz's
//! `hb-subset`) to every character of the course's rendered maths plus `dlf_content::maths_font::ALWAYS_KEPT`.
//! Run it when the content test says a character is missing:
//!
//! ```sh
//! cargo run --release --manifest-path tools/font-subset/Cargo.toml
//! ```
//!
//! It builds HarfBuzz from source (a C++ compiler) and its bindings with bindgen (libclang: on Debian
//! `apt-get install libclang1-14` or newer). The whole font is `tools/font-subset/latinmodern-math.otf`.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let source = root.join("tools/font-subset/latinmodern-math.otf");
    let dest = root.join("crates/dlf-content/front-end/fonts/latinmodern-math.otf");
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let pages = dlf_content::pages::render_all(&site);
    let mut chars = dlf_content::maths_font::maths_characters(pages.iter().map(|p| p.html.as_str()));
    chars.extend(dlf_content::maths_font::ALWAYS_KEPT.chars());
    let font = std::fs::read(&source).expect("read the whole font");
    let subset = hb_subset::subset(&font, chars.iter().copied()).expect("hb-subset subsets the font");
    std::fs::write(&dest, &subset).expect("write the subset");
    println!(
        "{} characters, {} → {} bytes: {}",
        chars.len(),
        font.len(),
        subset.len(),
        dest.display()
    );
}

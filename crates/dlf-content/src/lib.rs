//! dlf-content: the course, from Markdown files to validated, rendered lessons.
//!
//! The pipeline, in the order a lesson goes through it:
//!
//! 1. [`track`]: `content/track.toml` fixes the stages and the strict order of the twelve lessons.
//! 2. [`front_matter`]: each `lessons/NN-slug.md` starts with TOML between `+++` lines.
//! 3. [`directive`]: the directive grammar (`:::name key=value` blocks with `::section` lines) is parsed
//!    before Markdown, with line numbers, and validated against a registry of names, keys and sections.
//! 4. [`markdown`] + [`math`] + [`number`]: the Markdown (GFM tables, footnotes, smart punctuation) is
//!    rendered with `pulldown-cmark`; `$...$` and `$$...$$` become MathML through `pulldown-latex`;
//!    `{{num q=...}}` becomes the engine's value.
//! 5. [`body`] + [`claims`] + [`widget_html`]: each directive becomes HTML; claims are measured by the
//!    engine; widgets draw their default figure at build time.
//! 6. [`lesson`] + [`site`]: the lesson is checked for its required parts and against the track;
//!    [`Site::load`] returns the whole course or every [`Diagnostic`] found.
//! 7. [`report`] and [`pages`]: `dlf check` and the rendered pages, wrapped in the [`theme`].
//! 8. [`practice`] and [`anki`]: every derive box, interview prompt and `:::estimate` of the written lessons
//!    as practice cards ([`Deck::from_site`]), and the deck as a file Anki imports ([`anki_export`]).
//!
//! ```no_run
//! let site = dlf_content::Site::load(std::path::Path::new("content")).map_err(|problems| {
//!     eprintln!("{problems}");
//! });
//! ```

pub mod anki;
pub mod answer;
pub mod body;
pub mod claims;
pub mod diagnostic;
pub mod directive;
pub mod front_matter;
pub mod html;
pub mod lesson;
pub mod markdown;
pub mod math;
pub mod maths_font;
pub mod number;
pub mod pages;
pub mod plain_maths;
pub mod practice;
pub mod report;
pub mod search;
pub mod site;
pub mod theme;
pub mod track;
pub mod widget_html;

pub use anki::anki_export;
pub use body::{render_body, Body};
pub use claims::{ClaimResult, Comparison, Tolerance};
pub use diagnostic::{Diagnostic, Diagnostics};
pub use front_matter::LessonMeta;
pub use lesson::{
    Derive, Fragment, Lesson, LessonEstimate, Note, Prompt, PromptLevel, WidgetInstance,
};
pub use markdown::Heading;
pub use math::MATH_CSS;
pub use practice::{
    render_estimate, Card, CardKind, Deck, DeriveCard, EstimateCard, PromptCard, RenderedEstimate,
};
pub use report::{check, CheckReport};
pub use site::Site;
pub use track::{Stage, Track, TrackEntry};

/// The MathML style sheet ([`MATH_CSS`]); the theme appends it to its own.
pub fn math_css() -> &'static str {
    MATH_CSS
}

/// Every widget's spec as JSON, for `/api/widgets`: an array of
/// `{id, title, summary, params: [{name, label, help, kind, ...}]}` where a range has `min`, `max`, `step`,
/// `default`; a select has `options: [[value, label], ...]` and `default`; a toggle has `default`; a text has `default` and `max_len` (characters).
pub fn widget_specs_json() -> String {
    use dlf_widgets::ParamKind;
    let specs: Vec<serde_json::Value> = dlf_widgets::registry()
        .iter()
        .map(|widget| {
            let spec = widget.spec();
            let params: Vec<serde_json::Value> = spec
                .params
                .iter()
                .map(|p| {
                    let mut value = serde_json::json!({ "name": p.name, "label": p.label, "help": p.help });
                    let extra = match &p.kind {
                        ParamKind::Range { min, max, step, default } => serde_json::json!({
                            "kind": "range", "min": min, "max": max, "step": step, "default": default
                        }),
                        ParamKind::Select { options, default } => serde_json::json!({
                            "kind": "select", "options": options, "default": default
                        }),
                        ParamKind::Toggle { default } => serde_json::json!({ "kind": "toggle", "default": default }),
                        ParamKind::Text { default, max_len } => serde_json::json!({
                            "kind": "text", "default": default, "max_len": max_len
                        }),
                    };
                    if let (Some(target), serde_json::Value::Object(fields)) = (value.as_object_mut(), extra) {
                        target.extend(fields);
                    }
                    value
                })
                .collect();
            serde_json::json!({ "id": spec.id, "title": spec.title, "summary": spec.summary, "params": params })
        })
        .collect();
    serde_json::Value::Array(specs).to_string()
}

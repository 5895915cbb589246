//! The theme: page chrome around rendered lesson bodies, the track page, and the static assets (stylesheet,
//! the front-end script, the maths font) compiled into the binary with `include_bytes!`, as mdBook does.
//!
//! Every page is written with links relative to the site root (`root` is `"./"` on the track page and
//! `"../../"` on a lesson page) so that a static export works from any file host and any sub-path.

use std::borrow::Cow;
use std::fmt::Write as _;

/// One file served under `assets/`.
#[derive(Debug, Clone)]
pub struct Asset {
    /// Path below `assets/`, e.g. `style.css` or `fonts/latinmodern-math.otf`.
    pub path: &'static str,
    /// The `Content-Type` to serve it with.
    pub mime: &'static str,
    /// The file's bytes.
    pub bytes: Cow<'static, [u8]>,
}

const STYLE_CSS: &str = include_str!("../front-end/style.css");
const SCRIPT_JS: &[u8] = include_bytes!("../front-end/dlf.js");
const PRACTICE_JS: &[u8] = include_bytes!("../front-end/practice.js");
const MATH_FONT: &[u8] = include_bytes!("../front-end/fonts/latinmodern-math.otf");
const FAVICON: &[u8] = include_bytes!("../front-end/favicon.svg");
const SEARCH_JS: &[u8] = include_bytes!("../front-end/search.js");
const MINISEARCH_JS: &[u8] = include_bytes!("../front-end/vendor/minisearch.js");

/// The search index's name below `assets/` as the theme writes it; the server and the export serve the index of
/// the course they render under a content-hashed name (see `dlf_server::bundle`).
pub const SEARCH_INDEX: &str = "search-index.json";

/// The stylesheet: the theme plus the MathML rules of the maths renderer (`math_css`). The maths font is
/// referenced relative to the stylesheet, which lives in `assets/`.
pub fn stylesheet(math_css: &str) -> String {
    let math = math_css.replace("/assets/fonts/", "fonts/");
    format!("{STYLE_CSS}\n/* Maths */\n{math}")
}

/// Every static asset of the theme. The widget WebAssembly module is not here: the server crate builds it.
pub fn assets(math_css: &str) -> Vec<Asset> {
    vec![
        Asset {
            path: "style.css",
            mime: "text/css; charset=utf-8",
            bytes: Cow::Owned(stylesheet(math_css).into_bytes()),
        },
        Asset {
            path: "dlf.js",
            mime: "text/javascript; charset=utf-8",
            bytes: Cow::Borrowed(SCRIPT_JS),
        },
        Asset {
            path: "practice.js",
            mime: "text/javascript; charset=utf-8",
            bytes: Cow::Borrowed(PRACTICE_JS),
        },
        Asset {
            path: "search.js",
            mime: "text/javascript; charset=utf-8",
            bytes: Cow::Borrowed(SEARCH_JS),
        },
        Asset {
            path: "vendor/minisearch.js",
            mime: "text/javascript; charset=utf-8",
            bytes: Cow::Borrowed(MINISEARCH_JS),
        },
        Asset {
            path: "favicon.svg",
            mime: "image/svg+xml",
            bytes: Cow::Borrowed(FAVICON),
        },
        Asset {
            path: "fonts/latinmodern-math.otf",
            mime: "font/otf",
            bytes: Cow::Borrowed(MATH_FONT),
        },
    ]
}

pub use crate::html::escape;

/// What the page chrome needs to know about a page.
#[derive(Debug, Clone, Copy)]
pub struct PageMeta<'a> {
    /// The `<title>` and the page's heading subject.
    pub title: &'a str,
    /// The meta description.
    pub description: &'a str,
    /// The relative path from this page to the site root, ending in `/` (`"./"` or `"../../"`).
    pub root: &'a str,
}

/// The opening of every page's root element, as [`layout`] writes it; [`mark_live`] extends it.
const HTML_OPEN: &str = r#"<html lang="en" data-root=""#;

/// Marks a page as served by a server with a progress store (`<html data-live …>`), so its script may ask the
/// progress API and the stylesheet shows the controls that need it (`.live-only`: the Practice and Progress
/// links, "mark done", the track's progress line). A static export, or a server without a store, is never
/// marked: its pages make no API request and show no control that cannot work.
pub fn mark_live(html: &str) -> String {
    html.replacen(HTML_OPEN, r#"<html lang="en" data-live="" data-root=""#, 1)
}

/// Wraps a page's `<main>` content in the shared chrome.
pub fn layout(meta: &PageMeta<'_>, main: &str) -> String {
    let root = meta.root;
    let title = escape(meta.title);
    let description = escape(meta.description);
    format!(
        r##"<!DOCTYPE html>
<html lang="en" data-root="{root}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · dlf</title>
<meta name="description" content="{description}">
<link rel="icon" href="{root}assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{root}assets/style.css">
<link rel="preload" href="{root}assets/fonts/latinmodern-math.otf" as="font" type="font/otf" crossorigin>
<script src="{root}assets/dlf.js" defer></script>
<script src="{root}assets/practice.js" defer></script>
<script src="{root}assets/search.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><nav aria-label="Site">
<a class="brand" href="{root}">dlf <span>Deep Learning Foundations</span></a>
<a href="{root}#lessons">Lessons</a>
<a class="live-only" href="{root}practice/">Practice</a>
<a class="live-only" href="{root}progress/">Progress</a>
<div class="search" role="search"><input type="search" id="search" placeholder="Search lessons ( / )" aria-label="Search every lesson" aria-controls="search-results" autocomplete="off" data-index="{root}assets/search-index.json" data-engine="{root}assets/vendor/minisearch.js"><ol id="search-results" class="search-results" hidden></ol></div>
</nav></header>
<main id="main">
{main}
</main>
<footer class="site"><p>dlf — every number on these pages is computed by the course's own engine. Runs offline.</p></footer>
</body>
</html>
"##
    )
}

/// A link to a neighbouring lesson.
#[derive(Debug, Clone, Copy)]
pub struct LessonLink<'a> {
    /// Lesson id, e.g. `01-backprop`.
    pub id: &'a str,
    /// Lesson title.
    pub title: &'a str,
}

/// A table-of-contents entry.
#[derive(Debug, Clone, Copy)]
pub struct TocEntry<'a> {
    /// Heading level (2 or 3).
    pub level: u8,
    /// The heading's anchor id.
    pub anchor: &'a str,
    /// The heading's content as HTML (formulas as MathML), already escaped by the Markdown renderer.
    pub html: &'a str,
}

/// Everything a lesson page shows around its body.
#[derive(Debug, Clone)]
pub struct LessonView<'a> {
    /// Position in the track, 1-based.
    pub number: usize,
    /// Lesson title.
    pub title: &'a str,
    /// One-sentence summary.
    pub summary: &'a str,
    /// Title of the lesson's stage.
    pub stage_title: &'a str,
    /// Estimated minutes.
    pub minutes: u32,
    /// The rendered body.
    pub body_html: &'a str,
    /// Headings for the table of contents.
    pub toc: Vec<TocEntry<'a>>,
    /// The previous lesson in the strict linear order, if written.
    pub prev: Option<LessonLink<'a>>,
    /// The next lesson, if written.
    pub next: Option<LessonLink<'a>>,
    /// The next lesson's title when it is not written yet.
    pub next_unwritten: Option<&'a str>,
}

/// Renders a whole lesson page.
pub fn lesson_page(view: &LessonView<'_>) -> String {
    let root = "../../";
    let mut main = String::new();
    let _ = write!(
        main,
        r#"<div class="lesson-layout"><article class="prose lesson">
<p class="meta">Lesson {number:02} · {stage} · about {minutes} minutes</p>
<h1>{title}</h1>
<p class="lede">{summary}</p>
{body}
"#,
        number = view.number,
        stage = escape(view.stage_title),
        minutes = view.minutes,
        title = escape(view.title),
        summary = escape(view.summary),
        body = view.body_html,
    );
    // Filled in by practice.js from /api/progress; it stays hidden in a static export, where nothing can store
    // the mark, and when the server has no progress store.
    main.push_str(
        r#"<section class="lesson-done live-only" aria-label="Your progress" hidden><button type="button" class="mark-done" aria-pressed="false">Mark lesson done</button> <span class="done-status" role="status"></span></section>"#,
    );
    main.push_str(r#"<nav class="pager" aria-label="Lessons">"#);
    match view.prev {
        Some(prev) => {
            let _ = write!(
                main,
                r#"<a rel="prev" href="{root}lessons/{id}/"><span class="label">Previous</span>{title}</a>"#,
                id = escape(prev.id),
                title = escape(prev.title)
            );
        }
        None => {
            let _ = write!(
                main,
                r#"<a href="{root}"><span class="label">Back to</span>The track</a>"#
            );
        }
    }
    match (view.next, view.next_unwritten) {
        (Some(next), _) => {
            let _ = write!(
                main,
                r#"<a rel="next" href="{root}lessons/{id}/"><span class="label">Next</span>{title}</a>"#,
                id = escape(next.id),
                title = escape(next.title)
            );
        }
        (None, Some(title)) => {
            let _ = write!(
                main,
                r#"<span><span class="label">Next in the track (not written yet)</span>{}</span>"#,
                escape(title)
            );
        }
        (None, None) => {}
    }
    main.push_str("</nav></article>\n");
    if !view.toc.is_empty() {
        main.push_str(r#"<aside class="toc"><nav aria-label="On this page"><p class="box-label">On this page</p><ol>"#);
        for entry in &view.toc {
            let _ = write!(
                main,
                r##"<li class="toc-{level}"><a href="#{anchor}">{html}</a></li>"##,
                level = entry.level,
                anchor = escape(entry.anchor),
                html = entry.html
            );
        }
        main.push_str("</ol></nav></aside>");
    }
    main.push_str("</div>");
    let meta = PageMeta {
        title: view.title,
        description: view.summary,
        root,
    };
    layout(&meta, &main)
}

/// A lesson as listed on the track page.
#[derive(Debug, Clone, Copy)]
pub struct TrackLessonView<'a> {
    /// Position in the track, 1-based.
    pub number: usize,
    /// Lesson id.
    pub id: &'a str,
    /// Lesson title.
    pub title: &'a str,
    /// One-sentence summary, when the lesson is written.
    pub summary: Option<&'a str>,
    /// Whether the lesson exists (only written lessons are linked).
    pub written: bool,
}

/// A stage as listed on the track page.
#[derive(Debug, Clone)]
pub struct TrackStageView<'a> {
    /// Stage title.
    pub title: &'a str,
    /// What the learner can do after the stage.
    pub outcome: &'a str,
    /// The stage's lessons in order.
    pub lessons: Vec<TrackLessonView<'a>>,
}

/// Renders the landing page: the stages with their lessons, then the track's own prose (`track.md`).
pub fn track_page(stages: &[TrackStageView<'_>], intro_html: &str, body_html: &str) -> String {
    let root = "./";
    let mut main = String::new();
    let _ = write!(
        main,
        r#"<section class="hero prose">{intro_html}</section>"#
    );
    main.push_str(r#"<section id="lessons" aria-labelledby="lessons-h"><h2 id="lessons-h">The track: twelve lessons in five stages</h2>"#);
    // Filled in by practice.js from /api/progress on a served page: lessons done and the recommended next one.
    main.push_str(
        r#"<p class="track-progress live-only" role="status" hidden></p><div class="stages">"#,
    );
    for stage in stages {
        let _ = write!(
            main,
            r#"<section class="stage"><h3>{title}</h3><p class="outcome"><span class="box-label">After this stage</span>{outcome}</p><ol>"#,
            title = escape(stage.title),
            outcome = escape(stage.outcome)
        );
        for lesson in &stage.lessons {
            if lesson.written {
                let _ = write!(
                    main,
                    r#"<li value="{n}" data-lesson="{id}"><a href="{root}lessons/{id}/">{title}</a>{summary}</li>"#,
                    n = lesson.number,
                    id = escape(lesson.id),
                    title = escape(lesson.title),
                    summary = lesson
                        .summary
                        .map(|s| format!(r#"<br><span class="meta">{}</span>"#, escape(s)))
                        .unwrap_or_default(),
                );
            } else {
                let _ = write!(
                    main,
                    r#"<li value="{n}" class="unwritten">{title} <span class="soon-tag">(not written yet)</span></li>"#,
                    n = lesson.number,
                    title = escape(lesson.title),
                );
            }
        }
        main.push_str("</ol></section>");
    }
    main.push_str("</div></section>");
    let _ = write!(
        main,
        r#"<section class="track-body prose">{body_html}</section>"#
    );
    let meta = PageMeta {
        title: "Deep Learning Foundations",
        description:
            "An interactive, offline interview-prep track for the maths behind transformers.",
        root,
    };
    layout(&meta, &main)
}

/// The page served for an unknown address.
pub fn not_found_page(root: &str, path: &str) -> String {
    let main = format!(
        r#"<article class="prose"><h1>Not found</h1><p>There is no page at <code>{}</code>.</p><p><a href="{root}">Back to the track</a></p></article>"#,
        escape(path)
    );
    layout(
        &PageMeta {
            title: "Not found",
            description: "No such page.",
            root,
        },
        &main,
    )
}

/// The practice page (`/practice/`, served by `dlf serve` only): a shell that practice.js fills with the queue
/// from `/api/practice/queue`, one card at a time. The cards' text comes from the lessons; what the learner
/// types is only ever inserted as text, never as HTML.
pub fn practice_page() -> String {
    let root = "../";
    let main = r#"<article class="prose practice-page" id="practice" data-practice="">
<p class="meta">Practice</p>
<h1>Practice</h1>
<p class="lede">Cards from the lessons you have marked done: interview prompts graded from the rubric points you tick, derivation drills against the clock, and estimation problems with fresh numbers each time. Cards that are due come first, then new ones; the schedule is FSRS.</p>
<noscript><p class="practice-error">Practice runs in the browser and needs JavaScript; <code>dlf drill</code> offers the same queue in a terminal.</p></noscript>
<p class="practice-status" role="status" aria-live="polite" tabindex="-1">Loading your queue…</p>
<div class="practice-card" tabindex="-1"></div>
</article>"#;
    layout(
        &PageMeta {
            title: "Practice",
            description: "Spaced-repetition practice of the lessons' interview prompts, derivations and estimates.",
            root,
        },
        main,
    )
}

/// The progress page (`/progress/`, served by `dlf serve` only): lessons done, the recommended next lesson,
/// the readiness map per lesson and the cards reviewed so far, filled by practice.js from `/api/progress`.
pub fn progress_page() -> String {
    let root = "../";
    let main = r#"<article class="prose progress-page" id="progress" data-progress="">
<p class="meta">Progress</p>
<h1>Progress</h1>
<p class="lede">What you have done, what is due, and how well it sticks: retention is the mean probability (FSRS) that you would recall a card you have seen if asked today, accuracy the share of your answers graded good or easy.</p>
<noscript><p class="practice-error">This page is filled in by JavaScript from the progress store.</p></noscript>
<p class="progress-status" role="status" aria-live="polite">Loading your progress…</p>
<p class="progress-next" hidden></p>
<section aria-labelledby="readiness-h"><h2 id="readiness-h">Readiness by lesson</h2><div class="readiness"></div></section>
<section aria-labelledby="reviewed-h"><h2 id="reviewed-h">Cards you have reviewed</h2><div class="reviewed"></div></section>
<p><a class="button" href="../practice/">Practise now</a></p>
</article>"#;
    layout(
        &PageMeta {
            title: "Progress",
            description: "Lessons done, the next lesson, and readiness per lesson.",
            root,
        },
        main,
    )
}

//! Whole pages: the track page and one page per written lesson, wrapped in the theme's chrome.
//!
//! Pages are produced once from a loaded [`Site`]; the server keeps them in memory and `dlf build` writes
//! them to disk as `URL/index.html`.

use crate::site::Site;
use crate::theme::{self, LessonLink, LessonView, TocEntry, TrackLessonView, TrackStageView};

/// The marker in `track.md` where the list of stages and lessons goes: the prose before it introduces the
/// track, the prose after it follows the list.
pub const STAGES_MARKER: &str = "<!-- stages -->";

/// One rendered page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page's address, starting and ending with `/` (`/`, `/lessons/01-backprop/`).
    pub url: String,
    /// The whole HTML document.
    pub html: String,
}

/// Renders every page of `site`: the track page first, then the written lessons in order.
pub fn render_all(site: &Site) -> Vec<Page> {
    let mut pages = vec![Page {
        url: "/".to_owned(),
        html: track_page(site),
    }];
    for lesson in site.lessons() {
        let id = lesson.id();
        let number = site.track.position(id).map_or(0, |p| p + 1);
        let stage_title = site
            .track
            .stage(&lesson.meta.stage)
            .map_or(lesson.meta.stage.as_str(), |s| s.title.as_str());
        let link = |entry: &crate::track::TrackEntry| {
            site.lesson(&entry.id).map(|l| LessonLink {
                id: l.id(),
                title: &l.meta.title,
            })
        };
        let next_entry = site.next(id);
        let view = LessonView {
            number,
            title: &lesson.meta.title,
            summary: &lesson.meta.summary,
            stage_title,
            minutes: lesson.meta.minutes,
            body_html: &lesson.body.html,
            toc: lesson
                .body
                .headings
                .iter()
                .filter(|h| (2..=3).contains(&h.level))
                .map(|h| TocEntry {
                    level: h.level,
                    anchor: &h.id,
                    html: &h.html,
                })
                .collect(),
            prev: site.previous(id).and_then(link),
            next: next_entry.and_then(link),
            next_unwritten: next_entry
                .filter(|e| site.lesson(&e.id).is_none())
                .map(|e| e.title.as_str()),
        };
        pages.push(Page {
            url: format!("/lessons/{id}/"),
            html: scrollable_inline_maths(&theme::lesson_page(&view)),
        });
    }
    pages
}

/// An inline formula whose TeX source is at least this long may be wider than a 360 px phone screen.
const LONG_INLINE_FORMULA: usize = 28;

/// Wraps each long inline formula in `<span class="math-scroll">`: on a narrow screen the stylesheet lets that
/// box scroll sideways, since MathML does not break a formula across lines and a long one would otherwise push
/// the whole page past the screen's edge. Short formulas stay bare, keeping their baseline in the sentence.
pub fn scrollable_inline_maths(html: &str) -> String {
    const OPEN: &str = "<math display=\"inline\">";
    const CLOSE: &str = "</math>";
    let mut out = String::with_capacity(html.len() + html.len() / 50);
    let mut rest = html;
    while let Some(start) = rest.find(OPEN) {
        let Some(len) = rest[start..].find(CLOSE) else {
            break;
        };
        let element = &rest[start..start + len + CLOSE.len()];
        let source_len = element
            .split_once("<annotation encoding=\"application/x-tex\">")
            .and_then(|(_, after)| after.split_once("</annotation>"))
            .map_or(0, |(tex, _)| tex.chars().count());
        out.push_str(&rest[..start]);
        if source_len >= LONG_INLINE_FORMULA {
            out.push_str("<span class=\"math-scroll\">");
            out.push_str(element);
            out.push_str("</span>");
        } else {
            out.push_str(element);
        }
        rest = &rest[start + element.len()..];
    }
    out.push_str(rest);
    out
}

fn track_page(site: &Site) -> String {
    let stages: Vec<TrackStageView<'_>> = site
        .track
        .stages
        .iter()
        .map(|stage| TrackStageView {
            title: &stage.title,
            outcome: &stage.outcome,
            lessons: site
                .entries()
                .enumerate()
                .filter(|(_, (entry, _))| entry.stage == stage.id)
                .map(|(index, (entry, lesson))| TrackLessonView {
                    number: index + 1,
                    id: &entry.id,
                    title: &entry.title,
                    summary: lesson.map(|l| l.meta.summary.as_str()),
                    written: lesson.is_some(),
                })
                .collect(),
        })
        .collect();
    let (intro, body) = site
        .track_html
        .split_once(STAGES_MARKER)
        .unwrap_or((site.track_html.as_str(), ""));
    theme::track_page(&stages, intro, body)
}

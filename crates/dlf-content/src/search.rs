//! The offline search index: every section of every lesson (its title, the section's heading, and the text under
//! it: prose, derive boxes, prompts with their rubrics, estimates), as JSON documents for the page's search box.
//!
//! A section starts at each `<h2 id>` or `<h3 id>` of the rendered lesson page, so a result links straight to
//! it (`lessons/01-backprop/#derive-softmax-ce-title`). Formulas are indexed as readable text
//! ([`crate::plain_maths`], from their TeX annotation), never as MathML. The page searches the documents with
//! MiniSearch (see `front-end/search.js`).

use serde::Serialize;

/// One searchable section.
#[derive(Debug, Clone, Serialize)]
pub struct SearchDoc {
    /// A unique number, as MiniSearch wants.
    pub id: usize,
    /// Address relative to the site root, with the section's anchor.
    pub url: String,
    /// The lesson's title.
    pub lesson: String,
    /// The section's heading, as text.
    pub heading: String,
    /// The section's text.
    pub text: String,
}

/// The index of every lesson page among `pages`, as JSON.
pub fn index_json(pages: &[crate::pages::Page]) -> String {
    let mut docs = Vec::new();
    for page in pages.iter().filter(|p| p.url.starts_with("/lessons/")) {
        let lesson = between(&page.html, "<h1>", "</h1>")
            .map(text_of)
            .unwrap_or_default();
        let article = between(&page.html, "<article", "</article>")
            .and_then(|inside| inside.split_once('>').map(|(_, content)| content))
            .unwrap_or(&page.html);
        let url = page.url.trim_start_matches('/');
        // The part before the first heading: the lesson's lede.
        let mut sections = split_sections(article);
        if let Some(first) = sections.first_mut() {
            if first.0.is_empty() {
                first.1 = lesson.clone();
            }
        }
        for (anchor, heading, html) in sections {
            let text = text_of(html);
            if text.is_empty() && heading.is_empty() {
                continue;
            }
            docs.push(SearchDoc {
                id: docs.len(),
                url: if anchor.is_empty() {
                    url.to_owned()
                } else {
                    format!("{url}#{anchor}")
                },
                lesson: lesson.clone(),
                heading,
                text,
            });
        }
    }
    serde_json::to_string(&docs).expect("the index serialises")
}

fn between<'a>(html: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = html.find(open)? + open.len();
    let end = html[start..].find(close)? + start;
    Some(&html[start..end])
}

/// (anchor, heading text, HTML of the section) for each `<h2 id=…>`/`<h3 id=…>` of `html`, and the part before
/// the first one (empty anchor).
fn split_sections(html: &str) -> Vec<(String, String, &str)> {
    let mut starts: Vec<usize> = Vec::new();
    for tag in ["<h2 id=\"", "<h3 id=\""] {
        starts.extend(html.match_indices(tag).map(|(i, _)| i));
    }
    starts.sort_unstable();
    let mut out = Vec::new();
    let first = starts.first().copied().unwrap_or(html.len());
    out.push((String::new(), String::new(), &html[..first]));
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(html.len());
        let section = &html[start..end];
        let anchor = between(section, "id=\"", "\"").unwrap_or("").to_owned();
        let heading_end = section.find("</h").unwrap_or(section.len());
        let heading = text_of(&section[..heading_end]);
        out.push((anchor, heading, &section[heading_end..]));
    }
    out
}

/// The readable text of an HTML fragment: tags dropped, character references decoded, formulas as Unicode text
/// from their TeX source, whitespace collapsed. Scripts, SVG figures and buttons are left out.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 3);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        let after = &rest[lt..];
        let skip_element = |name: &str| -> Option<usize> {
            let close = format!("</{name}>");
            after
                .starts_with(&format!("<{name}"))
                .then(|| after.find(&close).map(|e| e + close.len()))
                .flatten()
        };
        if let Some(end) = skip_element("math") {
            let element = &after[..end];
            if let Some(tex) = between(
                element,
                "<annotation encoding=\"application/x-tex\">",
                "</annotation>",
            ) {
                out.push(' ');
                out.push_str(&crate::plain_maths::to_unicode(&decode(tex)));
                out.push(' ');
            }
            rest = &after[end..];
            continue;
        }
        if let Some(end) = ["svg", "button", "script", "select"]
            .iter()
            .find_map(|name| skip_element(name))
        {
            rest = &after[end..];
            continue;
        }
        let Some(gt) = after.find('>') else {
            break;
        };
        // Block-level boundaries separate words.
        out.push(' ');
        rest = &after[gt + 1..];
    }
    push_text(&mut out, rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn push_text(out: &mut String, text: &str) {
    out.push_str(&decode(text));
}

fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[1..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_link_to_their_headings() {
        let page = crate::pages::Page {
            url: "/lessons/01-x/".to_owned(),
            html: "<article><h1>Backprop</h1><p>lede &amp; more</p><h2 id=\"a\">Chain <em>rule</em></h2><p>text <math display=\"inline\"><mi>x</mi><annotation encoding=\"application/x-tex\">\\frac{1}{2}</annotation></math></p><svg><text>no</text></svg><h3 id=\"b\">Box</h3><p>steps</p></article>".to_owned(),
        };
        let json = index_json(&[page]);
        let docs: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(docs[0]["url"], "lessons/01-x/");
        assert_eq!(docs[0]["text"], "Backprop lede & more");
        assert_eq!(docs[1]["url"], "lessons/01-x/#a");
        assert_eq!(docs[1]["heading"], "Chain rule");
        assert_eq!(docs[1]["text"], "text 1/2");
        assert_eq!(docs[2]["heading"], "Box");
        assert_eq!(docs[2]["lesson"], "Backprop");
    }
}

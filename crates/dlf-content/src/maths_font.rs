//! The maths font, subset to the characters the course's maths uses.
//!
//! Latin Modern Math (GUST Font License) is 718 KB as an OpenType file; the course's formulas use a few hundred of
//! its 4,802 glyphs. `tools/font-subset` (HarfBuzz's `hb-subset`, through the `hb-subset` crate: it keeps the
//! MATH table's size variants and assembly parts of every kept glyph, which stretchy fences, radicals and large
//! operators need) writes `front-end/fonts/latinmodern-math.otf` from [`maths_characters`] plus [`ALWAYS_KEPT`].
//! The content test checks that every character of the rendered maths is in that file, and names the command to
//! run when a lesson starts using a new one.

use std::collections::BTreeSet;

/// Characters kept whatever the course uses today, so that a new lesson seldom needs the font rebuilt: printable
/// ASCII, the Greek alphabet, and the operators, relations, arrows and letter-like symbols of everyday maths.
pub const ALWAYS_KEPT: &str = concat!(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    "\u{a0}¬±·×÷ΓΔΘΛΞΠΣΥΦΨΩαβγδεζηθικλμνξοπρστυφχψωϑϕϵ",
    "′″‖…−∓∕∗∘∙√∝∞∣∥∧∨∩∪∫∬∮∼≃≅≈≠≡≤≥≪≫⊂⊃⊆⊇⊕⊗⊙⊤⊥⋅⋯⋮⋱⌈⌉⌊⌋⟨⟩⟦⟧",
    "←↑→↓↔↦⇐⇒⇔∀∂∃∄∅∆∇∈∉∋∏∑ℓℕℝℤℚℂ℘ℑℜ",
    "𝔼𝟙",
);

/// Every character inside a `<math>` element of `html` (text between tags, with character references decoded).
pub fn maths_characters<'a>(html: impl IntoIterator<Item = &'a str>) -> BTreeSet<char> {
    let mut chars = BTreeSet::new();
    for page in html {
        let mut rest = page;
        while let Some(start) = rest.find("<math") {
            let after = &rest[start..];
            let end = after
                .find("</math>")
                .map_or(after.len(), |e| e + "</math>".len());
            collect_text(&after[..end], &mut chars);
            rest = &after[end..];
        }
    }
    chars
}

fn collect_text(element: &str, chars: &mut BTreeSet<char>) {
    let mut in_tag = false;
    let mut entity: Option<String> = None;
    for c in element.chars() {
        match (in_tag, c) {
            (true, '>') => in_tag = false,
            (true, _) => {}
            (false, '<') => in_tag = true,
            (false, '&') => entity = Some(String::new()),
            (false, ';') if entity.is_some() => {
                let name = entity.take().unwrap_or_default();
                if let Some(decoded) = decode_entity(&name) {
                    chars.insert(decoded);
                }
            }
            (false, c) => match &mut entity {
                Some(name) => name.push(c),
                None => {
                    if !c.is_whitespace() || c == '\u{a0}' {
                        chars.insert(c);
                    }
                }
            },
        }
    }
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_references_inside_maths_only() {
        let html = r#"<p>outside ß</p><math display="block"><mi>x</mi><mo>&lt;</mo><mi>&#x3b1;</mi><mn>2</mn></math> z"#;
        let chars: String = maths_characters([html]).into_iter().collect();
        assert_eq!(chars, "2<xα");
    }
}

//! Escaping text for HTML, and the slugs used as HTML ids.

use std::collections::HashSet;

/// Escapes `&`, `<`, `>`, `"` and `'` so `text` is safe both as element content and as a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A URL-fragment-friendly id for a heading's text: lowercase letters and digits, words joined by `-`.
///
/// Non-ASCII letters are kept (lowercased); everything else separates words. An empty result becomes
/// `section`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.extend(c.to_lowercase());
        } else if c != '\'' && c != '\u{2019}' {
            // Apostrophes join ("what's" -> "whats"); every other character separates words.
            pending_dash = true;
        }
    }
    if slug.is_empty() {
        slug.push_str("section");
    }
    slug
}

/// The ids already used in one page, so every new id is unique.
#[derive(Debug, Default, Clone)]
pub struct IdSet {
    used: HashSet<String>,
    /// For each base that was taken, the last suffix tried: a page with many headings of one name costs
    /// one lookup per heading, not one per earlier heading.
    next: std::collections::HashMap<String, usize>,
}

impl IdSet {
    /// Reserves `id` as is (directive ids such as `derive-chain-rule` are checked for duplicates elsewhere).
    pub fn reserve(&mut self, id: &str) {
        self.used.insert(id.to_owned());
    }

    /// Returns `base` if it is free, otherwise `base-1`, `base-2`, ...; the result is reserved.
    pub fn unique(&mut self, base: &str) -> String {
        if self.used.insert(base.to_owned()) {
            return base.to_owned();
        }
        // Every suffix up to `n` is taken (ids are never released), so the search resumes after it.
        let n = self.next.entry(base.to_owned()).or_insert(0);
        loop {
            *n += 1;
            let candidate = format!("{base}-{n}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"a<b & "c" 'd'"#),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;"
        );
    }

    #[test]
    fn slugs_for_headings() {
        assert_eq!(slugify("Why the transpose?"), "why-the-transpose");
        assert_eq!(slugify("  What's P − Y  "), "whats-p-y");
        assert_eq!(slugify("Größe"), "größe");
        assert_eq!(slugify("???"), "section");
    }

    #[test]
    fn unique_ids_get_suffixes() {
        let mut ids = IdSet::default();
        ids.reserve("sources");
        assert_eq!(ids.unique("intro"), "intro");
        assert_eq!(ids.unique("intro"), "intro-1");
        assert_eq!(ids.unique("sources"), "sources-1");
    }
}

//! The list of every widget, looked up by id.

use crate::figure::Figure;
use crate::lessons::LESSONS;
use crate::spec::{Params, WidgetSpec};

/// A widget: a static parameter spec and a pure, deterministic render function.
///
/// `render` receives parameters that [`crate::parse_params`] has already validated against `spec()`,
/// so it may read them without further checks. It must not panic for any valid parameters and must
/// return the same figure for the same parameters on every platform.
pub trait Widget: Sync {
    /// The widget's id, title, summary and parameters.
    fn spec(&self) -> &'static WidgetSpec;
    /// The figure for one set of validated parameters.
    fn render(&self, p: &Params) -> Figure;
}

const COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < LESSONS.len() {
        n += LESSONS[i].1.len();
        i += 1;
    }
    n
};

/// Every lesson's widgets joined at compile time, in course order.
static REGISTRY: [&dyn Widget; COUNT] = {
    let mut out: [&dyn Widget; COUNT] = [LESSONS[0].1[0]; COUNT];
    let (mut k, mut i) = (0, 0);
    while i < LESSONS.len() {
        let mut j = 0;
        while j < LESSONS[i].1.len() {
            out[k] = LESSONS[i].1[j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
};

/// Every widget, in the order the lessons introduce them.
pub fn registry() -> &'static [&'static dyn Widget] {
    &REGISTRY
}

/// The topic of the lesson whose folder holds the widget `id` (`"optim"` for `optimizer-race`).
pub fn topic_of(id: &str) -> Option<&'static str> {
    LESSONS
        .iter()
        .find(|(_, widgets)| widgets.iter().any(|w| w.spec().id == id))
        .map(|(topic, _)| *topic)
}

/// The widget with this id.
pub fn find(id: &str) -> Option<&'static dyn Widget> {
    registry().iter().copied().find(|w| w.spec().id == id)
}

/// Every benchmark case of every widget as `(name, query)`, in registry order: `ID/default` with the bare
/// query `widget=ID`, then `ID/CASE` for each of the spec's [`crate::BenchCase`]s. The criterion bench, the
/// wasm bench (through the module's `dlf_bench_cases` export) and the widget tests all read this one list.
pub fn bench_cases() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in registry() {
        let spec = w.spec();
        out.push((
            format!("{}/default", spec.id),
            format!("widget={}", spec.id),
        ));
        for case in spec.bench {
            out.push((
                format!("{}/{}", spec.id, case.name),
                format!("widget={}&{}", spec.id, case.query),
            ));
        }
    }
    out
}

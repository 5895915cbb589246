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
    /// For a widget whose work does not fit one frame, the computation as a [`Session`] that the page advances
    /// one slice per animation frame, drawing as it goes; `None` (the default) for a widget whose `render`
    /// fits one frame.
    fn session<'a>(&'a self, _p: &Params) -> Option<Box<dyn Session + 'a>> {
        None
    }
}

/// A computation in progress, advanced one slice at a time (see [`Stepped`]).
pub trait Session {
    /// Does one slice of the work; returns `true` once the computation is finished.
    fn advance(&mut self) -> bool;
    /// The figure for the work done so far.
    fn draw(&self) -> Figure;
}

/// A widget whose computation is too long for one 4 ms redraw (one that trains a model, say), written as a
/// resumable state: [`Stepped::start`] is cheap, each [`Stepped::advance`] does one bounded slice of the work,
/// and [`Stepped::draw`] draws whatever has been computed so far.
///
/// Every `Stepped` type is a [`Widget`]: its `render` starts, advances until finished and draws, so the
/// figure built into the page, the server route and the tests all see the final figure, and the page (through
/// the wasm export `dlf_step`) calls `advance` + `draw` once per animation frame, so no redraw blocks a frame.
/// The final figure must not depend on how the work was sliced.
pub trait Stepped: Sync {
    /// Everything the computation carries from one slice to the next.
    type State;
    /// The widget's id, title, summary and parameters.
    fn spec(&self) -> &'static WidgetSpec;
    /// Starts the computation for validated parameters.
    fn start(&self, p: &Params) -> Self::State;
    /// One slice of the work (its worst case within the 4 ms budget in wasm); `true` once finished.
    fn advance(&self, p: &Params, state: &mut Self::State) -> bool;
    /// The figure for the work done so far, intermediate or final.
    fn draw(&self, p: &Params, state: &Self::State) -> Figure;
}

impl<T: Stepped> Widget for T {
    fn spec(&self) -> &'static WidgetSpec {
        Stepped::spec(self)
    }

    fn render(&self, p: &Params) -> Figure {
        let mut state = self.start(p);
        while !self.advance(p, &mut state) {}
        self.draw(p, &state)
    }

    fn session<'a>(&'a self, p: &Params) -> Option<Box<dyn Session + 'a>> {
        Some(Box::new(StepSession {
            widget: self,
            state: self.start(p),
            params: p.clone(),
        }))
    }
}

/// A [`Stepped`] widget's computation with its parameters.
struct StepSession<'a, T: Stepped> {
    widget: &'a T,
    params: Params,
    state: T::State,
}

impl<T: Stepped> Session for StepSession<'_, T> {
    fn advance(&mut self) -> bool {
        self.widget.advance(&self.params, &mut self.state)
    }

    fn draw(&self) -> Figure {
        self.widget.draw(&self.params, &self.state)
    }
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

/// The topics of the lessons that have widgets, in course order: one WebAssembly module is built per topic, holding
/// only that lesson's widgets (see `wasm_module!` in `wasm_abi.rs`).
pub fn topics() -> impl Iterator<Item = &'static str> {
    LESSONS.iter().map(|(topic, _)| *topic)
}

/// The widgets of the lesson `topic`, in the order it introduces them; empty for a topic without widgets.
///
/// A `const fn`, so that a lesson's WebAssembly module names its widgets in a constant: the module then refers
/// to that lesson's widgets alone, and the linker drops every other lesson's code.
pub const fn lesson_widgets(topic: &str) -> &'static [&'static dyn Widget] {
    let mut i = 0;
    while i < LESSONS.len() {
        if same(LESSONS[i].0, topic) {
            return LESSONS[i].1;
        }
        i += 1;
    }
    &[]
}

/// `a == b` for strings, usable in a `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
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
    find_in(registry(), id)
}

/// The widget with this id among `widgets` (one lesson's, in that lesson's WebAssembly module).
pub fn find_in(widgets: &[&'static dyn Widget], id: &str) -> Option<&'static dyn Widget> {
    widgets.iter().copied().find(|w| w.spec().id == id)
}

/// Every benchmark case of every widget as `(name, query)`, in registry order: `ID/default` with the bare
/// query `widget=ID`, then `ID/CASE` for each of the spec's [`crate::BenchCase`]s. The criterion bench, the
/// wasm bench (through the module's `dlf_bench_cases` export) and the widget tests all read this one list.
pub fn bench_cases() -> Vec<(String, String)> {
    bench_cases_in(registry())
}

/// [`bench_cases`] of `widgets` alone (one lesson's, in that lesson's WebAssembly module).
pub fn bench_cases_in(widgets: &[&'static dyn Widget]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for w in widgets {
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

//! The WebAssembly entry points: a pointer/length ABI with no JavaScript glue generator.
//!
//! Each lesson has a module of its own holding only its widgets: [`crate::wasm_module!`]`("topic")` defines the
//! exports below over [`crate::registry::lesson_widgets`] of that topic, and the server's build script links one
//! such module per topic of the `lessons!` list (so a page loads only its own lesson's code). Every module has the
//! same exports, and the browser side works like this:
//!
//! 1. Encode the query (`widget=ID&name=value&...`) as UTF-8, call `dlf_alloc(len)` to get a buffer
//!    in the module's memory, and copy the bytes into it.
//! 2. Call `dlf_render(ptr, len)`. It reads the query (without taking ownership of the buffer) and
//!    returns a `u64` (a JavaScript `BigInt`) packing the output buffer as `(out_ptr << 32) | out_len`.
//!    The output is UTF-8 JSON: a figure as [`crate::Figure::to_json`] writes it, or `{"error":"..."}`
//!    when the query is rejected (a widget of another lesson is an unknown widget here).
//! 3. Copy the output bytes out, then call `dlf_free(out_ptr, out_len)` and `dlf_free(ptr, len)`.
//!
//! `dlf_step(slot, ptr, len)` is the same with a slot number per widget on the page, for widgets whose work is
//! spread over several frames ([`crate::Stepped`]): its JSON carries `"done"`, and the page calls it again with
//! the same query on the next frame until `"done":true`.
//!
//! `dlf_bench_cases()` returns, packed the same way, the JSON list of the module's benchmark queries, which the
//! benches time.
//!
//! Every buffer, input or output, is allocated by the global allocator with the layout of a `[u8]` of
//! its length (size `len`, alignment 1), so `dlf_free` can release either kind with that same layout.
//! A zero-length buffer is a dangling, never-dereferenced pointer and is not freed.
//!
//! This is the one module of the workspace that contains `unsafe` code; each block states why it is
//! sound.

#![allow(unsafe_code)]

use std::alloc::{alloc, dealloc, Layout};
use std::cell::RefCell;

use crate::{Session, Widget};

/// Defines a lesson's WebAssembly module: the exports `dlf_alloc`, `dlf_free`, `dlf_render`, `dlf_step` and
/// `dlf_bench_cases` (see [`crate::wasm_abi`]) over the widgets of the lesson `topic` alone. The widget list is a
/// constant ([`crate::registry::lesson_widgets`] is a `const fn`), so nothing refers to other lessons' widgets
/// and the linker leaves their code out. The server's build script writes one crate per topic holding just
/// `dlf_widgets::wasm_module!("topic");`.
#[macro_export]
macro_rules! wasm_module {
    ($topic:literal) => {
        const WIDGETS: &[&dyn $crate::Widget] = $crate::registry::lesson_widgets($topic);
        const _: () = assert!(!WIDGETS.is_empty(), "no widgets registered for this topic");

        /// See `dlf_widgets::wasm_abi::dlf_alloc`.
        #[no_mangle]
        pub extern "C" fn dlf_alloc(len: usize) -> *mut u8 {
            $crate::wasm_abi::dlf_alloc(len)
        }

        /// See `dlf_widgets::wasm_abi::dlf_free`.
        ///
        /// # Safety
        /// As `dlf_widgets::wasm_abi::dlf_free`.
        #[no_mangle]
        pub unsafe extern "C" fn dlf_free(ptr: *mut u8, len: usize) {
            // SAFETY: the caller's contract is the one `dlf_free` states.
            unsafe { $crate::wasm_abi::dlf_free(ptr, len) }
        }

        /// See `dlf_widgets::wasm_abi::render`.
        ///
        /// # Safety
        /// As `dlf_widgets::wasm_abi::render`.
        #[no_mangle]
        pub unsafe extern "C" fn dlf_render(ptr: *const u8, len: usize) -> u64 {
            // SAFETY: the caller's contract is the one `render` states.
            unsafe { $crate::wasm_abi::render(WIDGETS, ptr, len) }
        }

        /// See `dlf_widgets::wasm_abi::step`.
        ///
        /// # Safety
        /// As `dlf_widgets::wasm_abi::step`.
        #[no_mangle]
        pub unsafe extern "C" fn dlf_step(slot: u32, ptr: *const u8, len: usize) -> u64 {
            // SAFETY: the caller's contract is the one `step` states.
            unsafe { $crate::wasm_abi::step(WIDGETS, slot, ptr, len) }
        }

        /// See `dlf_widgets::wasm_abi::bench_cases`.
        #[no_mangle]
        pub extern "C" fn dlf_bench_cases() -> u64 {
            $crate::wasm_abi::bench_cases(WIDGETS)
        }
    };
}

/// Allocates `len` bytes for the caller to fill; release them with [`dlf_free`].
/// Returns a null pointer if the allocation fails.
pub fn dlf_alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return core::ptr::NonNull::<u8>::dangling().as_ptr();
    }
    match Layout::array::<u8>(len) {
        // SAFETY: the layout has non-zero size, as `alloc` requires.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// Releases a buffer returned by [`dlf_alloc`], [`render`], [`step`] or [`bench_cases`].
///
/// # Safety
/// `ptr` and `len` must describe a buffer returned by one of those functions and not yet freed.
pub unsafe fn dlf_free(ptr: *mut u8, len: usize) {
    if len == 0 || ptr.is_null() {
        return;
    }
    if let Ok(layout) = Layout::array::<u8>(len) {
        // SAFETY: by the caller's contract the buffer was allocated with exactly this layout, either
        // by `dlf_alloc` or as the boxed `[u8]` that `dlf_render` leaked, and is freed only once.
        unsafe { dealloc(ptr, layout) }
    }
}

/// Renders the query in `ptr[..len]` with one of `widgets` and returns `(out_ptr << 32) | out_len` for the JSON
/// result (`dlf_render`).
///
/// # Safety
/// `ptr[..len]` must be a readable buffer (normally one from [`dlf_alloc`] that the caller filled).
pub unsafe fn render(widgets: &[&'static dyn Widget], ptr: *const u8, len: usize) -> u64 {
    let input: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: by the caller's contract `ptr` points to `len` initialised bytes that stay valid
        // and unmodified for the duration of this call.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    };
    let json = match core::str::from_utf8(input) {
        Ok(query) => match crate::query::render_query_in(widgets, query) {
            Ok(figure) => figure.to_json(),
            Err(e) => crate::figure::error_json(&e.to_string()),
        },
        Err(_) => crate::figure::error_json("the query is not valid UTF-8"),
    };
    hand_out(json)
}

thread_local! {
    /// The computations in progress, one per slot (the page gives each widget on it a slot), with the query
    /// that started each. The module is single-threaded, so this is one table.
    static SESSIONS: RefCell<Vec<Option<(String, Box<dyn Session>)>>> = const { RefCell::new(Vec::new()) };
}

/// Slots a page may use: one per widget on it (far fewer than 1000), and from 1000 up the benchmark's.
const MAX_SLOTS: usize = 2048;

/// One progressive redraw of the widget (one of `widgets`) in `slot` for the query in `ptr[..len]`, returning
/// the figure's JSON with `"done"` ([`crate::Figure::to_json_progress`]) packed like [`render`]'s result
/// (`dlf_step`).
///
/// A widget that renders within a frame is rendered and is `"done":true`. For a [`crate::Stepped`] widget the
/// first call with a new query starts its computation and does one slice; each later call with the same query
/// does the next slice, until the figure is final and `"done":true`. A different query in the slot abandons
/// the computation in progress and starts the new one, so a dragged slider never waits for a stale run.
///
/// # Safety
/// `ptr[..len]` must be a readable buffer (normally one from [`dlf_alloc`] that the caller filled).
pub unsafe fn step(widgets: &[&'static dyn Widget], slot: u32, ptr: *const u8, len: usize) -> u64 {
    let input: &[u8] = if len == 0 {
        &[]
    } else {
        // SAFETY: by the caller's contract `ptr` points to `len` initialised bytes that stay valid
        // and unmodified for the duration of this call.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    };
    let slot = slot as usize;
    let json = match core::str::from_utf8(input) {
        Err(_) => crate::figure::error_json("the query is not valid UTF-8"),
        Ok(_) if slot >= MAX_SLOTS => crate::figure::error_json("widget slot out of range"),
        Ok(query) => SESSIONS.with(|cell| {
            let mut sessions = cell.borrow_mut();
            if sessions.len() <= slot {
                sessions.resize_with(slot + 1, || None);
            }
            let entry = &mut sessions[slot];
            let mut session = match entry.take() {
                Some((running, session)) if running == query => session,
                _ => match crate::query::start_query_in(widgets, query) {
                    Err(e) => return crate::figure::error_json(&e.to_string()),
                    Ok(crate::Redraw::Done(figure)) => return figure.to_json_progress(true),
                    Ok(crate::Redraw::Session(session)) => session,
                },
            };
            let done = session.advance();
            let json = session.draw().to_json_progress(done);
            if !done {
                *entry = Some((query.to_owned(), session));
            }
            json
        }),
    };
    hand_out(json)
}

/// The benchmark cases of `widgets` as JSON, `[["ID/NAME", "widget=ID&..."], ...]`
/// ([`crate::registry::bench_cases_in`]), packed as `(out_ptr << 32) | out_len` like [`render`]'s result; release
/// it with [`dlf_free`] (`dlf_bench_cases`). The wasm bench (`bench-wasm/bench.mjs`) times exactly these.
pub fn bench_cases(widgets: &[&'static dyn Widget]) -> u64 {
    let mut json = String::from("[");
    for (i, (name, query)) in crate::registry::bench_cases_in(widgets).iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push('[');
        crate::figure::push_json_string(&mut json, name);
        json.push(',');
        crate::figure::push_json_string(&mut json, query);
        json.push(']');
    }
    json.push(']');
    hand_out(json)
}

/// Leaks `json` as a boxed byte slice for the caller to copy and [`dlf_free`], packed as
/// `(out_ptr << 32) | out_len`.
fn hand_out(json: String) -> u64 {
    // A boxed slice has exactly `len` bytes of capacity, so its layout is `[u8; len]` as `dlf_free`
    // assumes.
    let bytes = json.into_bytes().into_boxed_slice();
    let out_len = bytes.len();
    let out_ptr = Box::into_raw(bytes).cast::<u8>();
    // wasm32 pointers and lengths are 32 bits wide, so both halves fit without loss.
    ((out_ptr as usize as u64) << 32) | (out_len as u64)
}

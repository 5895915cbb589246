//! A small SVG plotting kit: a document builder, axes with nice ticks (linear or log), line plots,
//! scatter plots, a decision-region raster, bar charts, and labelled boxes with arrows.
//!
//! Every figure is a self-contained `<svg viewBox=... role="img">` whose first child is a `<title>`.
//! It carries its own `<style>` that maps a handful of class names (all prefixed `dlf-`) to the page's
//! CSS custom properties — `--fg`, `--bg`, `--grid`, `--accent` and the class colours `--c0`..`--c3` —
//! each with a fallback, so the figure follows the page theme and still reads when shown on its own.
//! The fallback class colours are the first four of Okabe and Ito's colour-blind-safe palette
//! (Okabe & Ito, "Color Universal Design", 2008). The document has no external references, and its only
//! ids are those of the masks of [`Plot::smooth_raster`], which are named after a hash of their content
//! (`dlf-m` and 16 hex digits): two figures on one page can only share an id by carrying the same mask,
//! so several figures can sit on one page.
//!
//! Coordinates are written with one decimal: the figures are a few hundred pixels across, so a tenth
//! of a pixel is below what a screen shows, and the short numbers keep the SVG small. Output depends
//! only on the inputs, so the same parameters give byte-identical figures.

use crate::number_format::{push_fixed, sig};
use crate::png::{fnv1a64, greyscale_png, push_base64};

/// Fallback colours of `--c0`..`--c3`: Okabe–Ito blue, vermillion, bluish green and reddish purple.
pub const CLASS_FALLBACK: [&str; 4] = ["#0072b2", "#d55e00", "#009e73", "#cc79a7"];

/// The stylesheet every figure carries. It contains no `<` or `&`, so it needs no CDATA section.
const STYLE: &str = concat!(
    ".dlf-t{fill:var(--fg,#1a1a1a);font:11px sans-serif}",
    ".dlf-ts{fill:var(--fg,#1a1a1a);font:9.5px sans-serif}",
    ".dlf-th{fill:var(--fg,#1a1a1a);font:bold 11.5px sans-serif}",
    ".dlf-ax{stroke:var(--fg,#1a1a1a);fill:none}",
    ".dlf-gr{stroke:var(--grid,#d9d9d9);stroke-width:.5;fill:none}",
    ".dlf-box{fill:var(--bg,#fff);stroke:var(--fg,#1a1a1a)}",
    ".dlf-fbox{fill:var(--box,#eef3f8);stroke:var(--fg,#1a1a1a)}",
    ".dlf-arw{stroke:var(--fg,#1a1a1a);fill:none;stroke-width:1.2}",
    ".dlf-arh{fill:var(--fg,#1a1a1a)}",
    ".dlf-acc{stroke:var(--accent,#e69f00);fill:none;stroke-width:1.5;stroke-dasharray:4 3}",
    ".dlf-facc{fill:var(--accent,#e69f00)}",
    ".dlf-f0{fill:var(--c0,#0072b2)}.dlf-f1{fill:var(--c1,#d55e00)}",
    ".dlf-f2{fill:var(--c2,#009e73)}.dlf-f3{fill:var(--c3,#cc79a7)}",
    ".dlf-s0{stroke:var(--c0,#0072b2)}.dlf-s1{stroke:var(--c1,#d55e00)}",
    ".dlf-s2{stroke:var(--c2,#009e73)}.dlf-s3{stroke:var(--c3,#cc79a7)}",
    ".dlf-ln{fill:none;stroke-width:1.6;stroke-linejoin:round}",
    ".dlf-thin{stroke-width:.8;opacity:.45}",
    ".dlf-pt{stroke:var(--bg,#fff);stroke-width:.7}",
);

/// Class names for filling with the colour of class `i` (cycled over the four class colours).
pub fn fill_class(i: usize) -> &'static str {
    ["dlf-f0", "dlf-f1", "dlf-f2", "dlf-f3"][i % 4]
}

/// Class names for a data line in the colour of series `i` (cycled over the four class colours).
pub fn line_class(i: usize) -> &'static str {
    [
        "dlf-ln dlf-s0",
        "dlf-ln dlf-s1",
        "dlf-ln dlf-s2",
        "dlf-ln dlf-s3",
    ][i % 4]
}

/// An axis-aligned rectangle in pixel coordinates (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// A rectangle from its left, top, width and height.
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x, y, w, h }
    }

    /// Horizontal centre.
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }

    /// Vertical centre.
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

/// Horizontal alignment of a text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Text starts at x.
    Start,
    /// Text is centred on x.
    Middle,
    /// Text ends at x.
    End,
}

/// Appends `s` with the five XML special characters escaped, safe in text and attribute values.
pub fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Appends a pixel coordinate rounded to one decimal.
fn push_coord(out: &mut String, v: f64) {
    push_fixed(out, v, 1);
}

/// An SVG document under construction.
#[derive(Debug)]
pub struct Svg {
    out: String,
}

impl Svg {
    /// Starts a `width`×`height` document whose accessible name is `title`.
    pub fn new(width: f64, height: f64, title: &str) -> Svg {
        let mut out = String::with_capacity(16 * 1024);
        out.push_str("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
        push_coord(&mut out, width);
        out.push(' ');
        push_coord(&mut out, height);
        out.push_str("\" role=\"img\"><title>");
        push_escaped(&mut out, title);
        out.push_str("</title><style>");
        out.push_str(STYLE);
        out.push_str("</style>");
        Svg { out }
    }

    /// Closes the document and returns its text.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }

    fn attr(&mut self, name: &str, v: f64) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        push_coord(&mut self.out, v);
        self.out.push('"');
    }

    fn class(&mut self, class: &str) {
        if !class.is_empty() {
            self.out.push_str(" class=\"");
            push_escaped(&mut self.out, class);
            self.out.push('"');
        }
    }

    /// Opens a `<g>` with the given class; close it with [`Svg::close_group`].
    pub fn open_group(&mut self, class: &str) {
        self.out.push_str("<g");
        self.class(class);
        self.out.push('>');
    }

    /// Closes the innermost open `<g>`.
    pub fn close_group(&mut self) {
        self.out.push_str("</g>");
    }

    /// A rectangle.
    pub fn rect(&mut self, r: Rect, class: &str) {
        self.rect_with_opacity(r, class, 1.0);
    }

    /// A rectangle whose fill is drawn at `opacity` (0 to 1, written with two decimals).
    pub fn rect_with_opacity(&mut self, r: Rect, class: &str, opacity: f64) {
        self.out.push_str("<rect");
        self.attr("x", r.x);
        self.attr("y", r.y);
        self.attr("width", r.w.max(0.0));
        self.attr("height", r.h.max(0.0));
        self.class(class);
        if opacity < 1.0 {
            self.out.push_str(" fill-opacity=\"");
            push_fixed(&mut self.out, opacity.max(0.0), 2);
            self.out.push('"');
        }
        self.out.push_str("/>");
    }

    /// A straight line segment.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        self.out.push_str("<line");
        self.attr("x1", x1);
        self.attr("y1", y1);
        self.attr("x2", x2);
        self.attr("y2", y2);
        self.class(class);
        self.out.push_str("/>");
    }

    /// A `<polyline>` or `<polygon>` element through `points`.
    fn points(&mut self, element: &str, points: &[(f64, f64)], class: &str) {
        self.out.push('<');
        self.out.push_str(element);
        self.out.push_str(" points=\"");
        for (i, &(x, y)) in points.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            push_coord(&mut self.out, x);
            self.out.push(',');
            push_coord(&mut self.out, y);
        }
        self.out.push('"');
        self.class(class);
        self.out.push_str("/>");
    }

    /// A polyline through `points`; nothing is drawn for fewer than two points.
    pub fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        if points.len() < 2 {
            return;
        }
        self.points("polyline", points, class);
    }

    /// A closed polygon.
    pub fn polygon(&mut self, points: &[(f64, f64)], class: &str) {
        self.points("polygon", points, class);
    }

    /// A circle.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, class: &str) {
        self.out.push_str("<circle");
        self.attr("cx", cx);
        self.attr("cy", cy);
        self.attr("r", r);
        self.class(class);
        self.out.push_str("/>");
    }

    /// A line of text.
    pub fn text(&mut self, x: f64, y: f64, anchor: Anchor, class: &str, text: &str) {
        self.out.push_str("<text");
        self.attr("x", x);
        self.attr("y", y);
        match anchor {
            Anchor::Start => {}
            Anchor::Middle => self.out.push_str(" text-anchor=\"middle\""),
            Anchor::End => self.out.push_str(" text-anchor=\"end\""),
        }
        self.class(class);
        self.out.push('>');
        push_escaped(&mut self.out, text);
        self.out.push_str("</text>");
    }

    /// A line of text rotated a quarter turn anticlockwise about its anchor (for vertical axis labels).
    pub fn vertical_text(&mut self, x: f64, y: f64, class: &str, text: &str) {
        self.out
            .push_str("<text text-anchor=\"middle\" transform=\"translate(");
        push_coord(&mut self.out, x);
        self.out.push(',');
        push_coord(&mut self.out, y);
        self.out.push_str(") rotate(-90)\"");
        self.class(class);
        self.out.push('>');
        push_escaped(&mut self.out, text);
        self.out.push_str("</text>");
    }

    /// An arrow from `(x1, y1)` to `(x2, y2)` with a filled triangular head at the end. The head is a
    /// polygon rather than an SVG marker because markers need document-unique ids.
    pub fn arrow(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1e-9 {
            return;
        }
        let (ux, uy) = (dx / len, dy / len);
        // The head is 7 px long and 6 px wide; the shaft stops at the head's base.
        let (hl, hw) = (7.0, 3.0);
        let (bx, by) = (x2 - ux * hl, y2 - uy * hl);
        self.line(x1, y1, bx, by, "dlf-arw");
        self.polygon(
            &[
                (x2, y2),
                (bx - uy * hw, by + ux * hw),
                (bx + uy * hw, by - ux * hw),
            ],
            "dlf-arh",
        );
    }

    /// A box with one or more centred lines of text; the first line is set in bold.
    pub fn labelled_box(&mut self, r: Rect, lines: &[&str], class: &str) {
        self.rect(r, class);
        let line_height = 13.0;
        let first_baseline = r.cy() - line_height * (lines.len() as f64 - 1.0) / 2.0 + 4.0;
        for (i, line) in lines.iter().enumerate() {
            let class = if i == 0 { "dlf-th" } else { "dlf-ts" };
            self.text(
                r.cx(),
                first_baseline + line_height * i as f64,
                Anchor::Middle,
                class,
                line,
            );
        }
    }

    /// A legend: one coloured swatch and label per entry, laid out left to right from `(x, y)`.
    /// `entries` are `(label, fill class)`; the spacing assumes about 6 px per character.
    pub fn legend(&mut self, x: f64, y: f64, entries: &[(&str, &str)]) {
        let mut cx = x;
        for (label, class) in entries {
            self.rect(Rect::new(cx, y - 8.0, 10.0, 10.0), class);
            self.text(cx + 13.0, y + 1.0, Anchor::Start, "dlf-ts", label);
            cx += 22.0 + 5.5 * label.chars().count() as f64;
        }
    }

    /// The text built so far (for tests and size checks).
    pub fn as_str(&self) -> &str {
        &self.out
    }
}

/// Whether an axis maps values linearly or by their base-10 logarithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Position proportional to the value.
    Linear,
    /// Position proportional to `log10(value)`; only positive values are plotted.
    Log10,
}

/// A data range, its scale and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Value at the start of the axis (left or bottom).
    pub lo: f64,
    /// Value at the end of the axis (right or top).
    pub hi: f64,
    /// Linear or logarithmic.
    pub scale: Scale,
    /// Label written along the axis.
    pub label: String,
}

/// Heckbert's "nice number": the value among 1, 2, 5 and 10 times a power of ten closest to `x`
/// (`round`) or the smallest one not below it (`!round`). From P. Heckbert, "Nice numbers for graph
/// labels", Graphics Gems, 1990.
fn nice_number(x: f64, round: bool) -> f64 {
    let exponent = dlf_engine::math::log10(x).floor();
    let fraction = x / dlf_engine::math::powf(10f64, exponent);
    let nice = if round {
        if fraction < 1.5 {
            1.0
        } else if fraction < 3.0 {
            2.0
        } else if fraction < 7.0 {
            5.0
        } else {
            10.0
        }
    } else if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * dlf_engine::math::powf(10f64, exponent)
}

/// The tick spacing Heckbert's method chooses for about `count` ticks over `[lo, hi]`.
fn nice_step(lo: f64, hi: f64, count: usize) -> f64 {
    let range = nice_number((hi - lo).abs().max(1e-300), false);
    nice_number(range / (count.max(2) - 1) as f64, true)
}

impl Axis {
    /// A linear axis over `[lo, hi]` exactly.
    pub fn linear(lo: f64, hi: f64, label: &str) -> Axis {
        Axis {
            lo,
            hi,
            scale: Scale::Linear,
            label: label.to_string(),
        }
    }

    /// A logarithmic axis over `[lo, hi]` exactly; both must be positive.
    pub fn log10(lo: f64, hi: f64, label: &str) -> Axis {
        Axis {
            lo,
            hi,
            scale: Scale::Log10,
            label: label.to_string(),
        }
    }

    /// A linear axis covering the finite `values` (and zero, if `include_zero`), widened outward to
    /// multiples of a nice tick step. Without finite values it spans `[0, 1]`.
    pub fn fit_linear(
        values: impl IntoIterator<Item = f64>,
        include_zero: bool,
        label: &str,
    ) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if include_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if lo > hi {
            return Axis::linear(0.0, 1.0, label);
        }
        if hi - lo < 1e-12 * (1.0 + lo.abs()) {
            // A flat series still needs a visible range; one unit of its own magnitude around it.
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
            lo -= pad;
            hi += pad;
        }
        let step = nice_step(lo, hi, 5);
        Axis::linear((lo / step).floor() * step, (hi / step).ceil() * step, label)
    }

    /// A logarithmic axis from the decade at or below the smallest positive finite value to the
    /// decade at or above the largest. Without positive values it spans `[1e-3, 1]`.
    pub fn fit_log10(values: impl IntoIterator<Item = f64>, label: &str) -> Axis {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite() && *v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if lo > hi {
            return Axis::log10(1e-3, 1.0, label);
        }
        let mut lo_exp = dlf_engine::math::log10(lo).floor();
        let mut hi_exp = dlf_engine::math::log10(hi).ceil();
        if hi_exp <= lo_exp {
            lo_exp -= 1.0;
            hi_exp += 1.0;
        }
        Axis::log10(
            dlf_engine::math::powf(10f64, lo_exp),
            dlf_engine::math::powf(10f64, hi_exp),
            label,
        )
    }

    /// The position of `v` along the axis as a fraction (0 at `lo`, 1 at `hi`), or `None` if `v`
    /// cannot be placed (not finite, or not positive on a log axis).
    pub fn fraction(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        let f = match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log10 => {
                if v <= 0.0 {
                    return None;
                }
                (dlf_engine::math::log10(v) - dlf_engine::math::log10(self.lo))
                    / (dlf_engine::math::log10(self.hi) - dlf_engine::math::log10(self.lo))
            }
        };
        f.is_finite().then_some(f)
    }

    /// Tick positions and their labels. Linear axes get Heckbert ticks (about five); log axes get
    /// powers of ten, thinned to at most seven.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        match self.scale {
            Scale::Linear => {
                let step = nice_step(self.lo, self.hi, 5);
                // Enough decimals to tell neighbouring ticks apart: a step of 0.05 needs two.
                let decimals = (-dlf_engine::math::log10(step).floor()).max(0.0) as u32;
                let first = (self.lo / step - 1e-9).ceil() as i64;
                let last = (self.hi / step + 1e-9).floor() as i64;
                (first..=last)
                    .map(|k| {
                        let v = k as f64 * step;
                        (v, crate::number_format::fixed(v, decimals))
                    })
                    .collect()
            }
            Scale::Log10 => {
                let first = (dlf_engine::math::log10(self.lo) - 1e-9).ceil() as i64;
                let last = (dlf_engine::math::log10(self.hi) + 1e-9).floor() as i64;
                let decades = (last - first).max(0) + 1;
                let stride = (decades + 6) / 7;
                (first..=last)
                    .filter(|k| (k - first) % stride == 0)
                    .map(|k| {
                        let v = 10f64.powi(k as i32);
                        (v, sig(v, 1))
                    })
                    .collect()
            }
        }
    }
}

/// A plotting frame: a pixel rectangle and the two axes it maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// The data area in pixels.
    pub frame: Rect,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis (values grow upwards).
    pub y: Axis,
}

impl Plot {
    /// A plot of `x` against `y` drawn in `frame`.
    pub fn new(frame: Rect, x: Axis, y: Axis) -> Plot {
        Plot { frame, x, y }
    }

    /// Pixel x of data value `v`, clamped to the frame; `None` if `v` cannot be placed.
    pub fn px(&self, v: f64) -> Option<f64> {
        self.x
            .fraction(v)
            .map(|f| self.frame.x + f.clamp(0.0, 1.0) * self.frame.w)
    }

    /// Pixel y of data value `v`, clamped to the frame; `None` if `v` cannot be placed.
    pub fn py(&self, v: f64) -> Option<f64> {
        self.y
            .fraction(v)
            .map(|f| self.frame.y + self.frame.h - f.clamp(0.0, 1.0) * self.frame.h)
    }

    /// Grid lines, the frame, tick labels, axis labels and a title above the frame.
    pub fn draw_axes(&self, svg: &mut Svg, title: &str) {
        let f = self.frame;
        svg.open_group("");
        let x_ticks = self.x.ticks();
        let y_ticks = self.y.ticks();
        for (v, _) in &x_ticks {
            if let Some(x) = self.px(*v) {
                svg.line(x, f.y, x, f.y + f.h, "dlf-gr");
            }
        }
        for (v, _) in &y_ticks {
            if let Some(y) = self.py(*v) {
                svg.line(f.x, y, f.x + f.w, y, "dlf-gr");
            }
        }
        svg.rect(f, "dlf-ax");
        for (v, label) in &x_ticks {
            if let Some(x) = self.px(*v) {
                svg.line(x, f.y + f.h, x, f.y + f.h + 3.0, "dlf-ax");
                svg.text(x, f.y + f.h + 13.0, Anchor::Middle, "dlf-ts", label);
            }
        }
        for (v, label) in &y_ticks {
            if let Some(y) = self.py(*v) {
                svg.line(f.x - 3.0, y, f.x, y, "dlf-ax");
                svg.text(f.x - 5.0, y + 3.0, Anchor::End, "dlf-ts", label);
            }
        }
        if !self.x.label.is_empty() {
            svg.text(
                f.cx(),
                f.y + f.h + 26.0,
                Anchor::Middle,
                "dlf-t",
                &self.x.label,
            );
        }
        if !self.y.label.is_empty() {
            svg.vertical_text(f.x - 34.0, f.cy(), "dlf-t", &self.y.label);
        }
        if !title.is_empty() {
            svg.text(f.x, f.y - 7.0, Anchor::Start, "dlf-th", title);
        }
        svg.close_group();
    }

    /// A line through the data points `(x, y)`. Points that cannot be placed (NaN, or non-positive on
    /// a log axis) break the line rather than being joined across.
    pub fn line(&self, svg: &mut Svg, points: &[(f64, f64)], class: &str) {
        let mut run: Vec<(f64, f64)> = Vec::with_capacity(points.len());
        for &(x, y) in points {
            match (self.px(x), self.py(y)) {
                (Some(px), Some(py)) => run.push((px, py)),
                _ => {
                    svg.polyline(&run, class);
                    run.clear();
                }
            }
        }
        svg.polyline(&run, class);
    }

    /// One circle of radius `r` per point that can be placed.
    pub fn scatter(&self, svg: &mut Svg, points: &[(f64, f64)], r: f64, class: &str) {
        for &(x, y) in points {
            if let (Some(px), Some(py)) = (self.px(x), self.py(y)) {
                svg.circle(px, py, r, class);
            }
        }
    }

    /// A vertical marker line at data value `x` across the frame, with a label at its top.
    pub fn vline(&self, svg: &mut Svg, x: f64, label: &str) {
        if let Some(px) = self.px(x) {
            let f = self.frame;
            svg.line(px, f.y, px, f.y + f.h, "dlf-acc");
            if !label.is_empty() {
                svg.text(px + 3.0, f.y + 10.0, Anchor::Start, "dlf-ts", label);
            }
        }
    }

    /// The data coordinates of the centre of cell `(i, j)` of an `nx`×`ny` raster over a linear frame;
    /// `i` counts columns from the left, `j` rows from the bottom.
    pub fn cell_centre(&self, i: usize, j: usize, nx: usize, ny: usize) -> [f64; 2] {
        [
            self.x.lo + (i as f64 + 0.5) * (self.x.hi - self.x.lo) / nx as f64,
            self.y.lo + (j as f64 + 0.5) * (self.y.hi - self.y.lo) / ny as f64,
        ]
    }

    /// The contour of `values` at `level`, as line segments in data coordinates appended to `out`: `values` is
    /// an `n`×`n` grid of samples at the cell centres of [`Plot::cell_centre`] (row `j` from the bottom, index
    /// `j·n + i`), contoured by marching squares with linear interpolation along cell edges (Lorensen & Cline
    /// 1987). A saddle cell's four crossings are paired in edge order.
    pub fn contour(&self, values: &[f64], n: usize, level: f64, out: &mut Vec<[(f64, f64); 2]>) {
        let at = |i: usize, j: usize| values[j * n + i];
        let pos = |i: usize, j: usize| self.cell_centre(i, j, n, n);
        for j in 0..n.saturating_sub(1) {
            for i in 0..n - 1 {
                let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
                let mut crossings: Vec<(f64, f64)> = Vec::with_capacity(4);
                for k in 0..4 {
                    let (a, b) = (corners[k], corners[(k + 1) % 4]);
                    let (va, vb) = (at(a.0, a.1), at(b.0, b.1));
                    if (va < level) != (vb < level) {
                        let s = (level - va) / (vb - va);
                        let (pa, pb) = (pos(a.0, a.1), pos(b.0, b.1));
                        crossings.push((pa[0] + s * (pb[0] - pa[0]), pa[1] + s * (pb[1] - pa[1])));
                    }
                }
                for pair in crossings.chunks_exact(2) {
                    out.push([pair[0], pair[1]]);
                }
            }
        }
    }

    /// A raster of `nx`×`ny` cells over the frame (cell indices as in [`Plot::cell_centre`]). `cell`
    /// returns a class index and an opacity for each cell; opacities are quantised to sixteenths and
    /// horizontally adjacent cells with the same class and quantised opacity are merged into one
    /// `<rect>`, which keeps a 40×40 decision map to a few hundred elements.
    pub fn raster(
        &self,
        svg: &mut Svg,
        nx: usize,
        ny: usize,
        mut cell: impl FnMut(usize, usize) -> (usize, f64),
    ) {
        if nx == 0 || ny == 0 {
            return;
        }
        let f = self.frame;
        let (cw, ch) = (f.w / nx as f64, f.h / ny as f64);
        svg.open_group("");
        for j in 0..ny {
            let top = f.y + f.h - (j as f64 + 1.0) * ch;
            let mut start = 0;
            let mut current: Option<(usize, u32)> = None;
            for i in 0..=nx {
                let key = (i < nx).then(|| {
                    let (class, opacity) = cell(i, j);
                    let level = (opacity.clamp(0.0, 1.0) * 16.0).round() as u32;
                    (class, level)
                });
                if key != current {
                    if let Some((class, level)) = current {
                        if level > 0 {
                            svg.rect_with_opacity(
                                Rect::new(
                                    f.x + start as f64 * cw,
                                    top,
                                    (i - start) as f64 * cw,
                                    ch,
                                ),
                                fill_class(class),
                                f64::from(level) / 16.0,
                            );
                        }
                    }
                    start = i;
                    current = key;
                }
            }
        }
        svg.close_group();
    }

    /// A smooth map of `nx`×`ny` cells over the frame (cell indices as in [`Plot::cell_centre`]): `cell`
    /// returns a class index below `classes` and an opacity for each cell, as for [`Plot::raster`].
    ///
    /// Each class gets an `nx`×`ny` greyscale PNG whose pixel is the cell's opacity where the class
    /// wins and 0 elsewhere, embedded as a `data:` URI in an `<image>` stretched over the frame
    /// (`preserveAspectRatio="none"`); the browser interpolates it smoothly when it scales it up. The
    /// image is the luminance mask of a frame-sized `<rect>` in the class colour, so the colour still
    /// comes from the page theme's `--c0`..`--c3`. The mask's id is `dlf-m` and the FNV-1a hash of its
    /// PNG, so identical masks share an id and different ones (practically) never do. A class that wins
    /// no cell is not drawn.
    pub fn smooth_raster(
        &self,
        svg: &mut Svg,
        nx: usize,
        ny: usize,
        classes: usize,
        mut cell: impl FnMut(usize, usize) -> (usize, f64),
    ) {
        if nx == 0 || ny == 0 || classes == 0 {
            return;
        }
        let mut masks = vec![vec![0u8; nx * ny]; classes];
        for j in 0..ny {
            // Image rows run top to bottom, cell rows bottom to top (y grows upwards).
            let row = ny - 1 - j;
            for i in 0..nx {
                let (class, opacity) = cell(i, j);
                if let Some(mask) = masks.get_mut(class) {
                    mask[row * nx + i] = (opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
                }
            }
        }
        let f = self.frame;
        svg.open_group("");
        for (class, mask) in masks.iter().enumerate() {
            if mask.iter().all(|&v| v == 0) {
                continue;
            }
            let png = greyscale_png(nx, ny, mask);
            let mut id = String::from("dlf-m");
            let hash = fnv1a64(&png);
            for shift in (0..16).rev() {
                let digit = ((hash >> (4 * shift)) & 0xf) as u32;
                id.push(char::from_digit(digit, 16).expect("a nibble is a hex digit"));
            }
            let out = &mut svg.out;
            out.push_str("<mask id=\"");
            out.push_str(&id);
            out.push_str("\"><image");
            svg.attr("x", f.x);
            svg.attr("y", f.y);
            svg.attr("width", f.w);
            svg.attr("height", f.h);
            let out = &mut svg.out;
            out.push_str(" preserveAspectRatio=\"none\" href=\"data:image/png;base64,");
            push_base64(out, &png);
            out.push_str("\"/></mask><rect");
            svg.attr("x", f.x);
            svg.attr("y", f.y);
            svg.attr("width", f.w);
            svg.attr("height", f.h);
            svg.class(fill_class(class));
            let out = &mut svg.out;
            out.push_str(" mask=\"url(#");
            out.push_str(&id);
            out.push_str(")\"/>");
        }
        svg.close_group();
    }

    /// A bar per value, evenly spaced across the frame, labelled underneath. Bars rise from the bottom
    /// of the frame; values that cannot be placed are skipped. Bar `i` uses class colour `i`.
    pub fn bars(&self, svg: &mut Svg, values: &[f64], labels: &[&str]) {
        if values.is_empty() {
            return;
        }
        let f = self.frame;
        let slot = f.w / values.len() as f64;
        let bottom = f.y + f.h;
        for (i, &v) in values.iter().enumerate() {
            let x = f.x + slot * i as f64 + slot * 0.15;
            if let Some(top) = self.py(v) {
                svg.rect(Rect::new(x, top, slot * 0.7, bottom - top), fill_class(i));
            }
            if let Some(label) = labels.get(i) {
                svg.text(
                    x + slot * 0.35,
                    bottom + 13.0,
                    Anchor::Middle,
                    "dlf-ts",
                    label,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_numbers_follow_heckbert() {
        // Heckbert's table: 1, 2, 5, 10 times a power of ten.
        assert!((nice_number(0.73, true) - 1.0).abs() < 1e-12);
        assert!((nice_number(2.6, true) - 2.0).abs() < 1e-12);
        assert!((nice_number(2.6, false) - 5.0).abs() < 1e-12);
        assert!((nice_number(0.031, true) - 0.05).abs() < 1e-12);
        assert!((nice_number(87.0, false) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn linear_fit_snaps_outward_to_ticks() {
        let axis = Axis::fit_linear([0.03, 0.69], true, "loss");
        assert!(
            axis.lo.abs() < 1e-12 && (axis.hi - 0.8).abs() < 1e-12,
            "{axis:?}"
        );
        let labels: Vec<String> = axis.ticks().into_iter().map(|(_, l)| l).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8"]);
    }

    #[test]
    fn flat_and_empty_series_still_get_a_range() {
        let flat = Axis::fit_linear([2.0, 2.0], false, "");
        assert!(flat.lo < 2.0 && flat.hi > 2.0);
        let empty = Axis::fit_linear([f64::NAN], false, "");
        assert_eq!((empty.lo, empty.hi), (0.0, 1.0));
    }

    #[test]
    fn log_fit_spans_whole_decades_and_thins_ticks() {
        let axis = Axis::fit_log10([3e-13, 0.0, 0.05], "eps");
        assert!(
            (dlf_engine::math::log10(axis.lo) + 13.0).abs() < 1e-9
                && (dlf_engine::math::log10(axis.hi) + 1.0).abs() < 1e-9
        );
        let labels: Vec<String> = axis.ticks().into_iter().map(|(_, l)| l).collect();
        // 13 decades thin to every second one.
        assert_eq!(
            labels,
            ["1e-13", "1e-11", "1e-9", "1e-7", "1e-5", "0.001", "0.1"]
        );
    }

    #[test]
    fn unplaceable_points_break_lines() {
        let plot = Plot::new(
            Rect::new(0.0, 0.0, 100.0, 100.0),
            Axis::linear(0.0, 10.0, ""),
            Axis::log10(1e-2, 1.0, ""),
        );
        let mut svg = Svg::new(100.0, 100.0, "t");
        plot.line(
            &mut svg,
            &[
                (0.0, 0.1),
                (1.0, 0.2),
                (2.0, 0.0),
                (3.0, 0.5),
                (4.0, f64::NAN),
                (5.0, 1.0),
                (6.0, 1.0),
            ],
            "c",
        );
        let s = svg.finish();
        assert_eq!(s.matches("<polyline").count(), 2, "{s}");
        assert!(!s.contains("NaN"));
        assert_eq!(plot.py(1.0), Some(0.0));
        assert_eq!(plot.py(0.1), Some(50.0));
    }

    #[test]
    fn raster_merges_equal_neighbours() {
        let plot = Plot::new(
            Rect::new(0.0, 0.0, 40.0, 20.0),
            Axis::linear(0.0, 1.0, ""),
            Axis::linear(0.0, 1.0, ""),
        );
        let mut svg = Svg::new(40.0, 20.0, "t");
        // Left half class 0 fully opaque, right half class 1 at opacity 0.5, on both rows.
        plot.raster(
            &mut svg,
            4,
            2,
            |i, _| if i < 2 { (0, 1.0) } else { (1, 0.5) },
        );
        let s = svg.finish();
        assert_eq!(s.matches("<rect").count(), 4, "{s}");
        assert!(
            s.contains(r#"<rect x="0" y="10" width="20" height="10" class="dlf-f0"/>"#),
            "{s}"
        );
        assert!(
            s.contains(
                r#"<rect x="20" y="0" width="20" height="10" class="dlf-f1" fill-opacity="0.5"/>"#
            ),
            "{s}"
        );
    }

    #[test]
    fn smooth_raster_masks_each_class_with_its_own_png() {
        let plot = Plot::new(
            Rect::new(0.0, 0.0, 40.0, 20.0),
            Axis::linear(0.0, 1.0, ""),
            Axis::linear(0.0, 1.0, ""),
        );
        let mut svg = Svg::new(40.0, 20.0, "t");
        // 2×2 cells: class 0 at opacity 1 on the bottom row (j = 0), class 1 at opacity 0.5 on the top
        // row; class 2 wins nowhere and must not be drawn.
        plot.smooth_raster(
            &mut svg,
            2,
            2,
            3,
            |_, j| if j == 0 { (0, 1.0) } else { (1, 0.5) },
        );
        let s = svg.finish();
        assert_eq!(s.matches("<mask id=\"dlf-m").count(), 2, "{s}");
        assert_eq!(s.matches("mask=\"url(#dlf-m").count(), 2, "{s}");
        assert!(!s.contains("class=\"dlf-f2\""), "{s}");
        // Image rows run top to bottom, so class 0's mask is dark on top and white at the bottom;
        // 0.5 · 255 = 127.5 rounds to 128.
        for (class, pixels) in [(0, [0u8, 0, 255, 255]), (1, [128, 128, 0, 0])] {
            let png = greyscale_png(2, 2, &pixels);
            let mut uri = String::from("href=\"data:image/png;base64,");
            push_base64(&mut uri, &png);
            assert!(s.contains(&uri), "class {class}: {s}");
            let mut id = String::new();
            for shift in (0..16).rev() {
                let digit = ((fnv1a64(&png) >> (4 * shift)) & 0xf) as u32;
                id.push(char::from_digit(digit, 16).unwrap());
            }
            let mut use_site = String::from("class=\"");
            use_site.push_str(fill_class(class));
            use_site.push_str("\" mask=\"url(#dlf-m");
            use_site.push_str(&id);
            assert!(s.contains(&use_site), "class {class}: {s}");
        }
        assert!(s.contains("preserveAspectRatio=\"none\""));
    }

    #[test]
    fn text_is_escaped_and_document_is_closed() {
        let mut svg = Svg::new(10.0, 10.0, "a < b & \"c\"");
        svg.text(1.0, 2.0, Anchor::Middle, "dlf-t", "x<y");
        svg.labelled_box(Rect::new(0.0, 0.0, 5.0, 5.0), &["Z1", "B×H"], "dlf-box");
        svg.arrow(0.0, 0.0, 10.0, 0.0);
        svg.legend(0.0, 9.0, &[("W1", "dlf-f0")]);
        let s = svg.finish();
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\" role=\"img\"><title>a &lt; b &amp; &quot;c&quot;</title>"));
        assert!(s.contains(">x&lt;y</text>"));
        assert!(s.ends_with("</svg>"));
    }

    #[test]
    fn bars_rise_from_the_bottom() {
        let plot = Plot::new(
            Rect::new(0.0, 0.0, 100.0, 100.0),
            Axis::linear(0.0, 10.0, ""),
            Axis::linear(0.0, 10.0, ""),
        );
        let mut svg = Svg::new(100.0, 100.0, "t");
        plot.bars(&mut svg, &[5.0, 10.0], &["a", "b"]);
        let s = svg.finish();
        assert!(
            s.contains(r#"<rect x="7.5" y="50" width="35" height="50" class="dlf-f0"/>"#),
            "{s}"
        );
        assert!(
            s.contains(r#"<rect x="57.5" y="0" width="35" height="100" class="dlf-f1"/>"#),
            "{s}"
        );
    }
}

//! "Peeking at an A/A test": the false-positive rate of a two-sided z test checked at K equally spaced
//! looks, by the engine's Armitage–McPherson–Rowe recursion and by simulated A/A experiments
//! (`dlf_engine::lessons::ab::sequential`), with Pocock and O'Brien–Fleming boundaries that hold it at α.
//!
//! Left: the rate against the number of looks (1 to 20) for the fixed critical value, integrated (line)
//! and simulated (dots), against the one-look level. Right: the z paths of 40 simulated A/A experiments
//! over the chosen number of looks, with the chosen boundary.
//!
//! Cost: one recursion over 20 looks, two simulations of up to 2 000 experiments × 20 looks, and for a
//! Pocock or O'Brien–Fleming boundary a regula-falsi search for its constant (about 6 recursions over K
//! looks on a coarser grid).

use dlf_engine::lessons::ab::sequential::{
    aa_paths, crossing_probabilities, simulate_normal, Boundary, BoundarySearch, PeekingSimulation,
    POINTS_PER_SD,
};

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The peeking widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AbPeeking;

static SPEC: WidgetSpec = WidgetSpec {
    id: "ab-peeking",
    title: "Peeking at an A/A test",
    summary: "How often an experiment with no effect looks significant when you check it K times and stop at \
              the first significant look, and the sequential boundaries that fix it.",
    params: &[
        ParamSpec::range("looks", "Looks K", 1.0..=20.0, 5.0)
            .help("Equally spaced checks of the running z statistic (e.g. once a day)."),
        ParamSpec::range("alpha", "α (two-sided)", 0.01..=0.2, 0.05)
            .step(0.01)
            .help("The level a single look is run at; the fixed boundary is z_{α/2}."),
        ParamSpec::select(
            "boundary",
            "Boundary",
            &[
                ("fixed", "fixed z (naive peeking)"),
                ("pocock", "Pocock"),
                ("obrien-fleming", "O'Brien–Fleming"),
            ],
            "fixed",
        )
        .help("The boundary applied at each look in the right panel and in the numbers."),
        ParamSpec::range("trials", "Simulated A/A tests", 500.0..=2000.0, 1000.0)
            .step(250.0)
            .help("Experiments simulated for the dots; the Monte-Carlo error is about √(r(1−r)/trials)."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0).help("Draws every simulated experiment."),
    ],
    bench: &[
        BenchCase {
            name: "worst-pocock-20-looks",
            query: "looks=20&boundary=pocock&trials=2000",
        },
        BenchCase {
            name: "worst-obf-20-looks",
            query: "looks=20&boundary=obrien-fleming&trials=2000&alpha=0.01",
        },
    ],
};

/// The most looks drawn on the left.
const MAX_LOOKS: usize = 20;

/// Grid points per unit for the boundary search.
const COARSE: usize = 4;

/// The computation so far: the fixed-z curve and its simulation (first frame), the boundary's constant (one
/// or two recursions per frame: at 20 looks each costs about 1 ms natively, and the search needs up to ten),
/// then the chosen boundary's rate and simulation (last frame).
#[derive(Debug)]
pub(crate) struct Progress {
    fixed: Option<(Vec<f64>, PeekingSimulation)>,
    search: BoundarySearch,
    chosen: Option<(f64, PeekingSimulation)>,
}

/// Recursions of the boundary search per frame.
const SEARCH_STEPS_PER_SLICE: usize = 2;

/// The looks, level and boundary shape the parameters choose.
fn choice(p: &Params) -> (usize, f64, Boundary) {
    (
        p.usize("looks").clamp(1, MAX_LOOKS),
        p.f64("alpha"),
        Boundary::parse(p.str("boundary")).unwrap_or(Boundary::Fixed),
    )
}

/// Peeking at 20 looks with a boundary searched for costs up to about 10 ms natively, so the widget is
/// [`Stepped`]: the fixed-z panel first, then the search a couple of recursions per frame, then the boundary's
/// own rate.
impl Stepped for AbPeeking {
    type State = Progress;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> Progress {
        let (k, alpha, boundary) = choice(p);
        // The boundary's constant on a grid of 4 points per unit: its total is within about 1e-5 of the
        // 8-point grid's (Simpson's error falls like h⁴), and the search costs a quarter as much.
        Progress {
            fixed: None,
            search: BoundarySearch::new(boundary, k, alpha, COARSE),
            chosen: None,
        }
    }

    fn advance(&self, p: &Params, state: &mut Progress) -> bool {
        let (k, alpha, boundary) = choice(p);
        let trials = p.usize("trials");
        let seed = p.usize("seed") as u64;
        if state.fixed.is_none() {
            let z = dlf_engine::normal::upper_quantile(alpha / 2.0);
            let first = crossing_probabilities(&[z; MAX_LOOKS], POINTS_PER_SD);
            let sim = simulate_normal(&[z; MAX_LOOKS], trials, seed);
            state.fixed = Some((first, sim));
        } else if !state.search.done() {
            for _ in 0..SEARCH_STEPS_PER_SLICE {
                if state.search.step() {
                    break;
                }
            }
        } else if state.chosen.is_none() {
            let bounds = boundary.z_bounds(state.search.constant(), k);
            let rate: f64 = crossing_probabilities(&bounds, POINTS_PER_SD).iter().sum();
            let sim = simulate_normal(&bounds, trials, seed.wrapping_add(1000));
            state.chosen = Some((rate, sim));
        }
        state.chosen.is_some()
    }

    fn draw(&self, p: &Params, state: &Progress) -> Figure {
        let (k, alpha, boundary) = choice(p);
        let empty = (Vec::new(), PeekingSimulation { first: vec![0; MAX_LOOKS], trials: 1 });
        let (first, sim) = state.fixed.as_ref().unwrap_or(&empty);
        let mut cumulative = Vec::with_capacity(MAX_LOOKS);
        let mut total = 0.0;
        for (i, f) in first.iter().enumerate() {
            total += f;
            cumulative.push(((i + 1) as f64, total));
        }
        if cumulative.len() < MAX_LOOKS {
            cumulative = (1..=MAX_LOOKS).map(|i| (i as f64, 0.0)).collect();
        }
        let simulated: Vec<(f64, f64)> = (1..=MAX_LOOKS)
            .map(|j| (j as f64, sim.rate_by(j)))
            .collect();
        // While the search runs, the boundary drawn is its latest iterate.
        let c = state.search.constant();
        let bounds = boundary.z_bounds(c, k);
        let (chosen_rate, chosen_sim_rate) = match &state.chosen {
            Some((rate, sim)) => (*rate, Some(sim.rate_by(k))),
            None => (f64::NAN, None),
        };

        let mut svg = Svg::new(724.0, 352.0, SPEC.title);
        let left = Plot::new(
            Rect::new(64.0, 44.0, 272.0, 250.0),
            Axis::linear(0.0, MAX_LOOKS as f64, "number of looks K"),
            Axis::fit_linear(
                cumulative.iter().chain(&simulated).map(|q| q.1),
                true,
                "P(some look significant)",
            ),
        );
        left.draw_axes(&mut svg, "A/A false-positive rate, fixed z");
        let mut thin = String::from(line_class(1));
        thin.push_str(" dlf-thin");
        left.line(&mut svg, &[(0.0, alpha), (MAX_LOOKS as f64, alpha)], &thin);
        left.line(&mut svg, &cumulative, line_class(0));
        left.scatter(&mut svg, &simulated, 3.0, fill_class(2));
        left.vline(&mut svg, k as f64, "chosen K");

        let paths = aa_paths(k, 40, (p.usize("seed") as u64).wrapping_add(2000));
        let top = bounds.iter().copied().fold(3.5f64, f64::max);
        let right = Plot::new(
            Rect::new(432.0, 44.0, 272.0, 250.0),
            Axis::linear(0.5, k as f64 + 0.5, "look k"),
            Axis::linear(-top - 0.5, top + 0.5, "z at look k"),
        );
        right.draw_axes(&mut svg, "40 A/A z paths and the boundary");
        for path in &paths {
            let pts: Vec<(f64, f64)> = path
                .iter()
                .enumerate()
                .map(|(i, v)| ((i + 1) as f64, *v))
                .collect();
            right.line(&mut svg, &pts, &thin);
        }
        let upper: Vec<(f64, f64)> = bounds.iter().enumerate().map(|(i, b)| ((i + 1) as f64, *b)).collect();
        let lower: Vec<(f64, f64)> = upper.iter().map(|&(x, b)| (x, -b)).collect();
        right.line(&mut svg, &upper, line_class(3));
        right.line(&mut svg, &lower, line_class(3));
        right.scatter(&mut svg, &upper, 3.0, fill_class(3));
        right.scatter(&mut svg, &lower, 3.0, fill_class(3));
        svg.legend(
            64.0,
            16.0,
            &[
                ("integrated", fill_class(0)),
                ("α of one look", fill_class(1)),
                ("simulated", fill_class(2)),
                ("boundary", fill_class(3)),
            ],
        );
        let svg = svg.finish();

        let fixed_rate = cumulative[k - 1].1;
        let numbers = vec![
            ("looks K".to_string(), int(k as i64)),
            ("fixed-z false-positive rate (integrated)".to_string(), sig(fixed_rate, 4)),
            ("fixed-z false-positive rate (simulated)".to_string(), sig(sim.rate_by(k), 3)),
            ("Monte-Carlo standard error".to_string(), sig(sim.standard_error_by(k), 2)),
            ("boundary constant".to_string(), sig(c, 4)),
            ("first-look z boundary".to_string(), sig(bounds[0], 4)),
            ("last-look z boundary".to_string(), sig(bounds[k - 1], 4)),
            (
                "boundary's false-positive rate (integrated)".to_string(),
                pending(chosen_rate.is_finite().then_some(chosen_rate), 4),
            ),
            (
                "boundary's false-positive rate (simulated)".to_string(),
                pending(chosen_sim_rate, 3),
            ),
        ];
        let mut d = String::new();
        d.push_str("Checking a two-sided test at α = ");
        d.push_str(&sig(alpha, 2));
        d.push_str(" at each of ");
        d.push_str(&int(k as i64));
        d.push_str(" equally spaced looks and stopping at the first significant one gives a false-positive rate of ");
        d.push_str(&sig(fixed_rate, 3));
        d.push_str(" (simulated: ");
        d.push_str(&sig(sim.rate_by(k), 3));
        d.push_str("). The ");
        d.push_str(match boundary {
            Boundary::Fixed => "fixed boundary",
            Boundary::Pocock => "Pocock boundary",
            Boundary::OBrienFleming => "O'Brien–Fleming boundary",
        });
        d.push_str(" runs from z = ");
        d.push_str(&sig(bounds[0], 3));
        d.push_str(" at the first look to z = ");
        d.push_str(&sig(bounds[k - 1], 3));
        if chosen_rate.is_finite() {
            d.push_str(" at the last, for an overall rate of ");
            d.push_str(&sig(chosen_rate, 3));
            d.push('.');
        } else {
            d.push_str(" at the last (still searching for its constant).");
        }
        Figure {
            svg,
            numbers,
            description: d,
        }
    }
}

/// A number once computed, "computing…" before.
fn pending(value: Option<f64>, digits: u32) -> String {
    value.map_or_else(|| "computing…".to_string(), |v| sig(v, digits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Widget;
    use crate::spec::parse_params;

    #[test]
    fn the_figure_quotes_the_engine_and_the_boundaries_hold_alpha() {
        let fig = AbPeeking.render(&parse_params(&SPEC, &[]).unwrap());
        let want = dlf_engine::lessons::ab::sequential::fixed_z_false_positive_rate(
            dlf_engine::normal::upper_quantile(0.025),
            5,
        );
        let shown = fig.expect_number("fixed-z false-positive rate (integrated)");
        assert!((shown - want).abs() < 1e-3, "{shown} vs {want}");
        for b in ["pocock", "obrien-fleming"] {
            let fig = AbPeeking.render(&parse_params(&SPEC, &[("boundary", b)]).unwrap());
            let r = fig.expect_number("boundary's false-positive rate (integrated)");
            assert!((r - 0.05).abs() < 1e-4, "{b}: {r}");
        }
    }
}

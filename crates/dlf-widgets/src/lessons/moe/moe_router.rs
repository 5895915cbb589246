//! "A router learning to route": the engine's toy MoE layer (`dlf_engine::lessons::moe::router_sim`) trained
//! by full-batch gradient descent, with the Switch auxiliary loss (coefficient α), auxiliary-loss-free bias
//! balancing (rate γ) and the router z-loss (coefficient β) each switchable. The left panel shows each
//! expert's demand at the last step against its capacity `⌈cf·k·T/E⌉` (the part above the line is dropped);
//! the right panels show, step by step, the fraction of assignments dropped and the auxiliary loss
//! `E Σ f_i P_i` (1 at balance) next to the task loss.
//!
//! Cost: `steps` full-batch passes over `T` tokens, each `O(T·E·4 + T·k·16)` multiply-adds plus `T·E`
//! exponentials. The widget is [`Stepped`]: each slice runs as many steps as fit `WORK_PER_SLICE`
//! token–expert products, and the page draws the curves growing frame by frame; the final figure does not
//! depend on the slicing (the engine test `stepping_in_slices_gives_the_same_run`).

use dlf_engine::lessons::moe::router_sim::{RouterSim, SimConfig};

use crate::figure::Figure;
use crate::number_format::{int, percent, sig};
use crate::registry::Stepped;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Anchor, Axis, Plot, Rect, Svg};

/// The "A router learning to route" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoeRouter;

/// Its parameter spec.
static SPEC: WidgetSpec = WidgetSpec {
    id: "moe-router",
    title: "A router learning to route",
    summary: "A toy MoE layer trained live: each expert's load against its capacity, the dropped \
              assignments and the balancing losses, with the Switch auxiliary loss, bias balancing and the \
              router z-loss switchable.",
    params: &[
        ParamSpec::range("tokens", "Tokens T", 64.0..=512.0, 256.0)
            .step(64.0)
            .help("Tokens in the batch (the same batch at every step)."),
        ParamSpec::range("experts", "Experts E", 2.0..=16.0, 8.0)
            .step(2.0)
            .help("Routed experts in the layer."),
        ParamSpec::range("k", "Experts per token k", 1.0..=4.0, 1.0)
            .help("Top-k routing: each token's output mixes its k best experts (k is capped at E)."),
        ParamSpec::range("capacity_factor", "Capacity factor cf", 0.5..=3.0, 1.25)
            .step(0.25)
            .help("Slots per expert as a multiple of an even share kT/E, rounded up; the rest are dropped in batch order."),
        ParamSpec::range("aux_coef", "Aux-loss coefficient α", 0.0..=2.0, 0.0)
            .step(0.05)
            .help("Weight of the Switch loss E·Σ f_i P_i. The toy's task gradients are large, so α near 1 is needed here, where Switch used 0.01 against a language-model loss."),
        ParamSpec::range("bias_rate", "Bias update rate γ", 0.0..=0.05, 0.0)
            .step(0.005)
            .help("Auxiliary-loss-free balancing: after each step an overloaded expert's selection bias drops by γ, an underloaded one's rises by γ."),
        ParamSpec::range("z_coef", "z-loss coefficient β", 0.0..=0.1, 0.0)
            .step(0.01)
            .help("Weight of the router z-loss mean (log Σ e^z)², which keeps the logits small."),
        ParamSpec::range("steps", "Training steps", 20.0..=200.0, 120.0)
            .step(20.0)
            .help("Full-batch gradient steps (learning rate 0.5)."),
        ParamSpec::range("seed", "Seed", 1.0..=20.0, 1.0)
            .help("Draws the tokens, their targets and the initial weights."),
    ],
    bench: &[
        BenchCase {
            name: "worst-512-tokens-16-experts-k4-200-steps",
            query: "tokens=512&experts=16&k=4&steps=200&aux_coef=1&z_coef=0.1",
        },
        BenchCase {
            name: "worst-bias-512-tokens-200-steps",
            query: "tokens=512&experts=16&k=2&steps=200&bias_rate=0.01",
        },
    ],
};

/// The simulation's settings from validated parameters.
pub(crate) fn config(p: &Params) -> SimConfig {
    let experts = p.usize("experts").max(2);
    SimConfig {
        tokens: p.usize("tokens"),
        experts,
        k: p.usize("k").clamp(1, experts),
        capacity_factor: p.f64("capacity_factor"),
        aux_coef: p.f64("aux_coef"),
        bias_rate: p.f64("bias_rate"),
        z_coef: p.f64("z_coef"),
        steps: p.usize("steps"),
        ..SimConfig::new(0.0, 0.0, p.usize("seed") as u64)
    }
}

/// The figure for a simulation run so far.
pub(crate) fn draw(sim: &RouterSim) -> Figure {
    let cfg = sim.cfg;
    let mut svg = Svg::new(724.0, 372.0, SPEC.title);
    let bars = Plot::new(
        Rect::new(56.0, 44.0, 280.0, 270.0),
        Axis::linear(0.0, cfg.experts as f64, "expert"),
        Axis::fit_linear(
            sim.demand
                .iter()
                .map(|&d| d as f64)
                .chain([sim.capacity as f64 * 1.2]),
            true,
            "assignments at the last step",
        ),
    );
    bars.draw_axes(&mut svg, "Load per expert and capacity");
    let slot = 280.0 / cfg.experts as f64;
    let bottom = 44.0 + 270.0;
    for (e, (&demand, &load)) in sim.demand.iter().zip(&sim.load).enumerate() {
        let x = 56.0 + slot * e as f64 + slot * 0.15;
        if let Some(top) = bars.py(demand as f64) {
            svg.rect(Rect::new(x, top, slot * 0.7, bottom - top), fill_class(1));
        }
        if let Some(top) = bars.py(load as f64) {
            svg.rect(Rect::new(x, top, slot * 0.7, bottom - top), fill_class(0));
        }
    }
    if let Some(y) = bars.py(sim.capacity as f64) {
        svg.line(56.0, y, 336.0, y, "dlf-ln dlf-s3");
        svg.text(334.0, y - 4.0, Anchor::End, "dlf-ts", "capacity");
    }

    let steps: Vec<f64> = (0..sim.history.len()).map(|i| i as f64).collect();
    let x_axis = || Axis::linear(0.0, cfg.steps.max(1) as f64, "step");
    let dropped: Vec<(f64, f64)> = sim
        .history
        .iter()
        .zip(&steps)
        .map(|(r, &s)| (s, r.dropped))
        .collect();
    let top = Plot::new(
        Rect::new(432.0, 44.0, 272.0, 110.0),
        x_axis(),
        Axis::linear(0.0, 1.0, "dropped"),
    );
    top.draw_axes(&mut svg, "Fraction of assignments dropped");
    top.line(&mut svg, &dropped, line_class(0));

    let aux: Vec<(f64, f64)> = sim
        .history
        .iter()
        .zip(&steps)
        .map(|(r, &s)| (s, r.aux_loss))
        .collect();
    let task: Vec<(f64, f64)> = sim
        .history
        .iter()
        .zip(&steps)
        .map(|(r, &s)| (s, r.task_loss))
        .collect();
    let bottom_plot = Plot::new(
        Rect::new(432.0, 204.0, 272.0, 110.0),
        x_axis(),
        Axis::fit_linear(
            aux.iter().chain(&task).map(|q| q.1).chain([1.0]),
            true,
            "loss",
        ),
    );
    bottom_plot.draw_axes(&mut svg, "Aux loss E·Σ f·P and task loss");
    let one = [(0.0, 1.0), (cfg.steps as f64, 1.0)];
    let mut thin = String::from(line_class(2));
    thin.push_str(" dlf-thin");
    bottom_plot.line(&mut svg, &one, &thin);
    bottom_plot.line(&mut svg, &aux, line_class(1));
    bottom_plot.line(&mut svg, &task, line_class(2));
    svg.legend(
        56.0,
        16.0,
        &[
            ("processed", fill_class(0)),
            ("dropped (demand above capacity)", fill_class(1)),
            ("aux loss", fill_class(1)),
            ("task loss", fill_class(2)),
        ],
    );
    let svg = svg.finish();

    let last = sim.last();
    let drop_tail = sim.tail_mean(20, |r| r.dropped);
    let first_drop = sim.history.first().map_or(0.0, |r| r.dropped);
    let mut numbers = vec![
        ("steps done".to_string(), int(sim.history.len() as i64)),
        ("capacity per expert".to_string(), int(sim.capacity as i64)),
        ("fraction dropped at the first step".to_string(), sig(first_drop, 3)),
        ("fraction dropped, last 20 steps".to_string(), sig(drop_tail, 3)),
        (
            "largest load / mean load".to_string(),
            sig(last.max_load_ratio, 3),
        ),
        ("aux loss E·Σ f·P".to_string(), sig(last.aux_loss, 3)),
        ("router z-loss".to_string(), sig(last.z_loss, 3)),
        ("task loss".to_string(), sig(last.task_loss, 3)),
    ];
    if cfg.bias_rate > 0.0 {
        let spread = sim.bias().iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - sim.bias().iter().copied().fold(f64::INFINITY, f64::min);
        numbers.push(("bias spread max − min".to_string(), sig(spread, 3)));
    }
    let mut d = String::new();
    d.push_str("After ");
    d.push_str(&int(sim.history.len() as i64));
    d.push_str(" steps with ");
    d.push_str(&int(cfg.tokens as i64));
    d.push_str(" tokens, ");
    d.push_str(&int(cfg.experts as i64));
    d.push_str(" experts and top-");
    d.push_str(&int(cfg.k as i64));
    d.push_str(", the busiest expert gets ");
    d.push_str(&sig(last.max_load_ratio, 3));
    d.push_str(" times an even share; ");
    d.push_str(&percent(drop_tail));
    d.push_str(" of assignments are dropped over the last 20 steps (");
    d.push_str(&percent(first_drop));
    d.push_str(" at the first step), the aux loss is ");
    d.push_str(&sig(last.aux_loss, 3));
    d.push_str(" (1 at balance) and the z-loss ");
    d.push_str(&sig(last.z_loss, 3));
    d.push('.');
    Figure {
        svg,
        numbers,
        description: d,
    }
}

/// Token–expert products (`T·(E + k)`) one slice may process: a step's cost grows with both, and this keeps
/// the worst slice (512 tokens, 16 experts, top-4: 4 steps) near a millisecond natively.
const WORK_PER_SLICE: usize = 40_000;

impl Stepped for MoeRouter {
    type State = RouterSim;

    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn start(&self, p: &Params) -> RouterSim {
        RouterSim::new(config(p))
    }

    fn advance(&self, _p: &Params, sim: &mut RouterSim) -> bool {
        let per_step = sim.cfg.tokens * (sim.cfg.experts + sim.cfg.k);
        let steps = (WORK_PER_SLICE / per_step.max(1)).max(1);
        for _ in 0..steps {
            sim.step();
        }
        sim.finished()
    }

    fn draw(&self, _p: &Params, sim: &RouterSim) -> Figure {
        draw(sim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Widget;
    use crate::spec::parse_params;

    #[test]
    fn the_figure_reports_the_engine_run() {
        let p = parse_params(&SPEC, &[("aux_coef", "1")]).unwrap();
        let fig = MoeRouter.render(&p);
        let sim = RouterSim::run(config(&p));
        let want = sim.last().aux_loss;
        assert!((fig.expect_number("aux loss E·Σ f·P") - want).abs() <= 0.005 * want);
        assert_eq!(fig.expect_number("capacity per expert"), 40.0);
    }

    #[test]
    fn balancing_lowers_the_drops_shown() {
        let none = MoeRouter.render(&parse_params(&SPEC, &[]).unwrap());
        let aux = MoeRouter.render(&parse_params(&SPEC, &[("aux_coef", "1")]).unwrap());
        assert!(
            aux.expect_number("fraction dropped, last 20 steps") < none.expect_number("fraction dropped, last 20 steps")
        );
    }
}

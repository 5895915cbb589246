//! "How long does the run take?": days to train `N` parameters on `D` tokens (`C = 6ND`) on a cluster, against
//! the model FLOPs utilisation, for the chosen accelerator and the other one (`dlf_engine::lessons::scaling`:
//! [`training_flops`], [`training_seconds`]), with the GPU-hours the run bills. MFU — the fraction of the
//! accelerators' peak that the model's own 6ND FLOPs achieve (Chowdhery et al. 2022, PaLM, appendix B) — is
//! well under 1 in practice: communication, the pipeline bubble, memory-bound kernels (norms, softmax, the
//! optimizer step), recomputation (which does FLOPs the model does not count) and failures.
//!
//! Cost: closed forms, under a millisecond.

use dlf_engine::lessons::scaling::{training_flops, training_seconds, A100_BF16_DENSE, H100_BF16_DENSE};
use dlf_engine::math;

use crate::figure::Figure;
use crate::number_format::{int, sig};
use crate::registry::Widget;
use crate::spec::{BenchCase, ParamSpec, Params, WidgetSpec};
use crate::svg::{fill_class, line_class, Axis, Plot, Rect, Svg};

/// The "How long does the run take?" widget.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrainingCost;

static SPEC: WidgetSpec = WidgetSpec {
    id: "training-cost",
    title: "How long does the run take?",
    summary: "Days and GPU-hours of a 6ND-FLOP training run on a cluster, against model FLOPs utilisation.",
    params: &[
        ParamSpec::range("log10_n", "log₁₀ parameters N", 8.0..=12.0, 10.845)
            .step(0.005)
            .help("Model size; 70B is 10^10.845."),
        ParamSpec::range("log10_d", "log₁₀ tokens D", 9.0..=14.0, 12.146)
            .step(0.002)
            .help("Training tokens; 1.4T is 10^12.146."),
        ParamSpec::range("log2_gpus", "log₂ accelerators", 3.0..=15.0, 9.966)
            .step(0.001)
            .help("Cluster size as a power of two; 1,000 is 2^9.966."),
        ParamSpec::select(
            "chip",
            "Accelerator",
            &[("h100", "H100 SXM (989 TFLOP/s BF16 dense)"), ("a100", "A100 (312 TFLOP/s BF16 dense)")],
            "h100",
        )
        .help("Peak dense BF16 throughput per accelerator."),
        ParamSpec::range("mfu", "MFU", 0.05..=1.0, 0.4)
            .step(0.01)
            .help("Model FLOPs utilisation: the fraction of peak the model's 6ND FLOPs achieve."),
    ],
    bench: &[BenchCase {
        name: "largest",
        query: "log10_n=12&log10_d=14&log2_gpus=3&chip=a100&mfu=0.05",
    }],
};

impl Widget for TrainingCost {
    fn spec(&self) -> &'static WidgetSpec {
        &SPEC
    }

    fn render(&self, p: &Params) -> Figure {
        let n = math::powf(10.0, p.f64("log10_n"));
        let d = math::powf(10.0, p.f64("log10_d"));
        let gpus = math::powf(2.0, p.f64("log2_gpus")).round().max(1.0);
        let mfu = p.f64("mfu");
        let (peak, other_peak, chip, other) = if p.str("chip") == "a100" {
            (A100_BF16_DENSE, H100_BF16_DENSE, "A100", "H100")
        } else {
            (H100_BF16_DENSE, A100_BF16_DENSE, "H100", "A100")
        };
        let flops = training_flops(n, d);
        let days_at = |peak: f64, u: f64| training_seconds(flops, gpus, peak, u) / 86_400.0;
        let days = days_at(peak, mfu);
        let ideal = days_at(peak, 1.0);
        let gpu_hours = days * 24.0 * gpus;

        let curve = |peak: f64| -> Vec<(f64, f64)> {
            (0..=95).map(|k| {
                let u = 0.05 + 0.01 * k as f64;
                (u, days_at(peak, u))
            }).collect()
        };
        let (mine, theirs) = (curve(peak), curve(other_peak));
        let mut svg = Svg::new(724.0, 330.0, SPEC.title);
        let plot = Plot::new(
            Rect::new(70.0, 40.0, 600.0, 240.0),
            Axis::linear(0.0, 1.0, "model FLOPs utilisation"),
            Axis::fit_log10(mine.iter().chain(&theirs).map(|q| q.1), "days"),
        );
        plot.draw_axes(&mut svg, "Wall-clock days against MFU");
        plot.line(&mut svg, &theirs, &{
            let mut c = String::from(line_class(1));
            c.push_str(" dlf-thin");
            c
        });
        plot.line(&mut svg, &mine, line_class(0));
        plot.scatter(&mut svg, &[(mfu, days)], 4.0, fill_class(0));
        plot.vline(&mut svg, mfu, "chosen MFU");
        svg.legend(70.0, 16.0, &[(chip, fill_class(0)), (other, fill_class(1))]);
        let svg = svg.finish();

        let numbers = vec![
            ("training FLOPs 6ND".to_string(), sig(flops, 3)),
            ("accelerators".to_string(), int(gpus as i64)),
            ("days at this MFU".to_string(), sig(days, 3)),
            ("days at 100% MFU".to_string(), sig(ideal, 3)),
            ("GPU-hours".to_string(), sig(gpu_hours, 3)),
            ("tokens per parameter".to_string(), sig(d / n, 3)),
        ];
        let mut description = String::from("Training ");
        description.push_str(&sig(n, 3));
        description.push_str(" parameters on ");
        description.push_str(&sig(d, 3));
        description.push_str(" tokens costs ");
        description.push_str(&sig(flops, 3));
        description.push_str(" FLOPs: on ");
        description.push_str(&int(gpus as i64));
        description.push(' ');
        description.push_str(chip);
        description.push_str("s at ");
        description.push_str(&sig(100.0 * mfu, 3));
        description.push_str("% MFU that is ");
        description.push_str(&sig(days, 3));
        description.push_str(" days (");
        description.push_str(&sig(ideal, 3));
        description.push_str(" at full utilisation), ");
        description.push_str(&sig(gpu_hours, 3));
        description.push_str(" GPU-hours.");
        Figure {
            svg,
            numbers,
            description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_params;

    #[test]
    fn the_default_is_the_brief_s_70b_run() {
        // 70B on 1.4T tokens on 1,000 H100s: 6.88 days at 100% MFU, 17.2 at 40%.
        let fig = TrainingCost.render(&parse_params(&SPEC, &[]).unwrap());
        assert!((fig.expect_number("days at 100% MFU") - 6.88).abs() < 0.02);
        assert!((fig.expect_number("days at this MFU") - 17.2).abs() < 0.05);
        assert_eq!(fig.expect_number("accelerators"), 1000.0);
    }
}

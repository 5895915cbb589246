//! Estimation problems of the lesson on initialization (ids start with `init.`). Every answer comes from
//! [`crate::lessons::init`]: the fans of [`fans`], the statistics of [`init_stats`] with PyTorch's gains, and
//! the mean-field length map of [`MeanField`].

use crate::estimate::format::tex_number;
use crate::estimate::{GeneratorSpec, Problem};
use crate::lessons::init::mean_field::MeanField;
use crate::lessons::init::{fans, init_stats, FanMode, Layout, Nonlin};
use crate::rng::Rng;

/// The generators this lesson offers.
pub(crate) const SPECS: &[GeneratorSpec] = &[
    GeneratorSpec {
        id: "init.conv_bound",
        title: "The uniform bound of a convolution kernel's initialisation",
        description: "kaiming_uniform_ or xavier_uniform_ bound for a conv kernel given in PyTorch's (out, in, kh, kw) or Keras's (kh, kw, in, out) layout",
        generate: conv_bound,
    },
    GeneratorSpec {
        id: "init.depth_signal",
        title: "How far the signal drifts through a deep ReLU network",
        description: "Factor by which the second moment of the pre-activations changes over L ReLU layers initialised with σ_w² ≠ 2",
        generate: |rng| Some(depth_signal(rng)),
    },
    GeneratorSpec {
        id: "init.mup_lr",
        title: "μP learning rates and multipliers at a new width",
        description: "Adam learning rate of the hidden weights, or the output multiplier, of a μP model widened from a tuned base width",
        generate: |rng| Some(mup_lr(rng)),
    },
];

fn conv_bound(rng: &mut Rng) -> Option<Problem> {
    let out = rng.pick(&[32usize, 64, 128, 256]);
    let cin = rng.pick(&[3usize, 16, 64, 128]);
    let k = rng.pick(&[1usize, 3, 5, 7]);
    let layout = rng.pick(&[Layout::PyTorch, Layout::Keras]);
    let (scheme, relu) = rng.pick(&[("kaiming_uniform_", true), ("xavier_uniform_", false)]);
    let shape = match layout {
        Layout::PyTorch => [out, cin, k, k],
        Layout::Keras => [k, k, cin, out],
    };
    let f = fans(&shape, layout).ok()?;
    let (mode, gain, rule) = if relu {
        (FanMode::FanIn, Nonlin::Relu.pytorch_gain()?, "bound $= \\text{gain}\\cdot\\sqrt{3/\\text{fan\\_in}}$ with gain $\\sqrt 2$ (ReLU)")
    } else {
        (FanMode::FanAvg, 1.0, "bound $= \\sqrt{6/(\\text{fan\\_in} + \\text{fan\\_out})}$")
    };
    let s = init_stats(f, mode, gain, false);
    let layout_words = match layout {
        Layout::PyTorch => "PyTorch's layout $(\\text{out}, \\text{in}, k_h, k_w)$",
        Layout::Keras => "Keras's layout $(k_h, k_w, \\text{in}, \\text{out})$",
    };
    Some(Problem {
        question: format!(
            "A convolution kernel has shape $({}, {}, {}, {})$ in {layout_words}. What is the bound $a$ of \
             `{scheme}` (uniform on $[-a, a]$){}?",
            shape[0],
            shape[1],
            shape[2],
            shape[3],
            if relu { " for a ReLU network" } else { "" }
        ),
        answer: s.uniform_bound,
        unit: String::new(),
        rel_tolerance: 0.05,
        solution: vec![
            format!(
                "Receptive field $k_h k_w = {}$; in channels {cin}, out channels {out}.",
                f.receptive_field
            ),
            format!(
                "fan_in $= {cin}\\cdot{} = {}$, fan_out $= {out}\\cdot{} = {}$.",
                f.receptive_field, f.fan_in, f.receptive_field, f.fan_out
            ),
            format!("{rule}: $a = {}$.", tex_number(s.uniform_bound, 4)),
        ],
    })
}

fn depth_signal(rng: &mut Rng) -> Problem {
    let sw2 = rng.pick(&[1.0, 1.5, 2.5, 3.0]);
    let layers = rng.pick(&[10usize, 20, 30, 50]);
    let mf = MeanField::new(Nonlin::Relu, sw2, 0.0);
    let q = mf.trajectory(1.0, layers + 1);
    let factor = q[layers] / q[0];
    let per_layer = sw2 / 2.0;
    Problem {
        question: format!(
            "A bias-free ReLU MLP of width 1024 is initialised with weight variance $\\sigma_w^2/n$, \
             $\\sigma_w^2 = {sw2}$. By what factor does the second moment of the pre-activations change over \
             the next {layers} layers?"
        ),
        answer: factor,
        unit: String::new(),
        rel_tolerance: 0.05,
        solution: vec![
            "For ReLU, $E[\\mathrm{relu}(h)^2] = q/2$ for $h \\sim N(0, q)$: half of the Gaussian's second \
             moment survives."
                .to_string(),
            format!("So $q^{{l+1}} = \\sigma_w^2 q^l/2 = {} \\, q^l$ per layer.", tex_number(per_layer, 3)),
            format!(
                "Over {layers} layers: ${}^{{{layers}}} \\approx {}$.",
                tex_number(per_layer, 3),
                crate::estimate::format::tex_sci(factor)
            ),
        ],
    }
}

fn mup_lr(rng: &mut Rng) -> Problem {
    let base = rng.pick(&[128usize, 256, 512]);
    let mult = rng.pick(&[4usize, 8, 16, 32]);
    let width = base * mult;
    let lr = rng.pick(&[1e-3, 3e-3, 1e-2]);
    let ask_output = rng.below(2) == 1;
    let ratio = base as f64 / width as f64;
    let (question, answer, how) = if ask_output {
        (
            format!(
                "A μP MLP was tuned at width {base} with output multiplier 1. It is widened to {width}. What \
                 output multiplier (the factor on the readout's logits) does μP prescribe?"
            ),
            ratio,
            format!("The readout's multiplier scales like $1/\\text{{width}}$: ${base}/{width} = {}$.", tex_number(ratio, 3)),
        )
    } else {
        (
            format!(
                "A μP MLP trained with Adam was tuned at width {base} with learning rate ${}$. It is widened \
                 to {width}. What Adam learning rate do its hidden (width × width) weights get?",
                tex_number(lr, 3)
            ),
            lr * ratio,
            format!(
                "Hidden weights' Adam learning rate scales like $1/\\text{{fan\\_in}}$: ${} \\cdot {base}/{width} = {}$.",
                tex_number(lr, 3),
                crate::estimate::format::tex_sci(lr * ratio)
            ),
        )
    };
    Problem {
        question,
        answer,
        unit: String::new(),
        rel_tolerance: 0.02,
        solution: vec![
            "μP (Yang et al. 2022, Table 3) keeps every layer's update Θ(1) in its effect on the activations as \
             the width grows."
                .to_string(),
            how,
        ],
    }
}

//! A toy MoE layer trained live: how balancing changes the load, the dropped tokens and the losses.
//!
//! `T` tokens `x_t ∈ R⁴` come from 8 clusters of unequal size (cluster `c` has weight `∝ 1/(c + 1)`); a
//! token of cluster `c` has the target `y_t = A_c x_t` for a fixed random `A_c`. The layer has `E` linear
//! experts `M_e` (4 × 4) and a linear router `W` (4 × E): the scores are `p_t = softmax(Wᵀx_t)`, the token
//! goes to its top-`k` experts (by `p + b`, `b` the balancing bias), the gates are the selected `p_te`
//! unnormalised (Switch's convention), each expert keeps at most `C = ⌈cf · k · T / E⌉` assignments in
//! batch order, and the output is `ŷ_t = Σ_{kept} p_te M_e x_t` (a dropped assignment contributes nothing:
//! the token rides the residual connection).
//!
//! One full-batch gradient step minimises `mean_t ‖ŷ_t − y_t‖²/4 + α · L_aux + β · L_z`, with the Switch loss
//! `L_aux = E Σ_i f_i P_i` (`f` counted over every choice and divided by `k`, so 1 at balance) and the router
//! z-loss `L_z = mean_t (log Σ_j e^{z_tj})²`. With a bias rate `γ > 0` (usually with `α = 0`), after each step
//! every expert's bias moves by `γ` towards balance: down if it received more than `kT/E` assignments, up if
//! fewer (Wang et al. 2024, DeepSeek-V3). The experts train on what they receive, so an expert that gets more
//! tokens improves faster and the router sends it still more — the rich-get-richer loop that balancing breaks.
//!
//! The state is resumable: [`RouterSim::step`] does one step, so a widget can spread the run over frames.

use crate::lessons::moe::{dispatch, logsumexp, route, AuxConvention, Priority, Score, TopKNorm};
use crate::rng::Rng;

/// Token feature width.
pub const DIM: usize = 4;
/// Token clusters.
pub const CLUSTERS: usize = 8;

/// The experiment's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// Tokens per batch `T` (the same batch every step).
    pub tokens: usize,
    /// Experts `E`.
    pub experts: usize,
    /// Experts per token `k`.
    pub k: usize,
    /// Capacity factor `cf`.
    pub capacity_factor: f64,
    /// Coefficient `α` of the Switch auxiliary loss (0: off).
    pub aux_coef: f64,
    /// Bias update rate `γ` of auxiliary-loss-free balancing (0: off).
    pub bias_rate: f64,
    /// z-loss coefficient `β`.
    pub z_coef: f64,
    /// Gradient steps.
    pub steps: usize,
    /// Learning rate of plain gradient descent.
    pub lr: f64,
    /// Draws the data and the initial weights.
    pub seed: u64,
}

impl SimConfig {
    /// The lesson's defaults: 256 tokens, 8 experts, top-1, cf 1.25, 120 steps, the given balancing.
    pub fn new(aux_coef: f64, bias_rate: f64, seed: u64) -> SimConfig {
        SimConfig {
            tokens: 256,
            experts: 8,
            k: 1,
            capacity_factor: 1.25,
            aux_coef,
            bias_rate,
            z_coef: 0.0,
            steps: 120,
            lr: 0.5,
            seed,
        }
    }
}

/// What one step measured (before its update).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRecord {
    /// `mean ‖ŷ − y‖²/4`.
    pub task_loss: f64,
    /// `E Σ f_i P_i` (1 at balance).
    pub aux_loss: f64,
    /// `mean (log Σ e^z)²`.
    pub z_loss: f64,
    /// Fraction of the `kT` assignments dropped by the capacity.
    pub dropped: f64,
    /// Largest expert demand over the mean `kT/E`.
    pub max_load_ratio: f64,
}

/// One forward and backward pass.
#[derive(Debug, Clone)]
pub struct Pass {
    /// `task + α·L_aux + β·L_z`.
    pub objective: f64,
    /// Gradient with respect to the router weights.
    pub d_router: Vec<f64>,
    /// Gradient with respect to the expert weights.
    pub d_experts: Vec<f64>,
    /// The measurements.
    pub record: StepRecord,
    /// Demand per expert.
    pub demand: Vec<usize>,
    /// Processed load per expert.
    pub load: Vec<usize>,
}

/// The resumable experiment.
#[derive(Debug, Clone)]
pub struct RouterSim {
    /// The settings.
    pub cfg: SimConfig,
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    experts: Vec<f64>,
    bias: Vec<f64>,
    /// One record per step done.
    pub history: Vec<StepRecord>,
    /// Each expert's demand (assignments before the cap) at the last step.
    pub demand: Vec<usize>,
    /// Each expert's processed load at the last step.
    pub load: Vec<usize>,
    /// The capacity `C`.
    pub capacity: usize,
}

impl RouterSim {
    /// Draws the data and the initial weights.
    ///
    /// # Panics
    /// If `k` is 0 or above `E`, or there are no tokens (callers validate).
    pub fn new(cfg: SimConfig) -> RouterSim {
        assert!(cfg.tokens > 0 && (1..=cfg.experts).contains(&cfg.k));
        let mut rng = Rng::new(cfg.seed);
        let maps: Vec<f64> = (0..CLUSTERS * DIM * DIM).map(|_| rng.normal()).collect();
        let centres: Vec<f64> = (0..CLUSTERS * DIM).map(|_| rng.normal()).collect();
        // Zipf-like cluster sizes: weight 1/(c + 1).
        let weights: Vec<f64> = (0..CLUSTERS).map(|c| 1.0 / (c + 1) as f64).collect();
        let total: f64 = weights.iter().sum();
        let mut x = Vec::with_capacity(cfg.tokens * DIM);
        let mut y = Vec::with_capacity(cfg.tokens * DIM);
        for _ in 0..cfg.tokens {
            let mut u = rng.uniform() * total;
            let mut c = 0;
            while c + 1 < CLUSTERS && u >= weights[c] {
                u -= weights[c];
                c += 1;
            }
            let xt: Vec<f64> = (0..DIM)
                .map(|i| centres[c * DIM + i] + rng.normal())
                .collect();
            for r in 0..DIM {
                let a = &maps[(c * DIM + r) * DIM..(c * DIM + r + 1) * DIM];
                y.push(a.iter().zip(&xt).map(|(p, q)| p * q).sum::<f64>() / 2.0);
            }
            x.extend(xt);
        }
        let w = (0..DIM * cfg.experts).map(|_| 0.1 * rng.normal()).collect();
        let experts = (0..cfg.experts * DIM * DIM)
            .map(|_| 0.1 * rng.normal())
            .collect();
        let capacity = crate::lessons::moe::capacity(
            cfg.tokens,
            cfg.experts,
            cfg.k,
            cfg.capacity_factor,
            crate::lessons::moe::CapacityRounding::Ceil,
        );
        RouterSim {
            cfg,
            x,
            y,
            w,
            experts,
            bias: vec![0.0; cfg.experts],
            history: Vec::with_capacity(cfg.steps),
            demand: vec![0; cfg.experts],
            load: vec![0; cfg.experts],
            capacity,
        }
    }

    /// Whether every step is done.
    pub fn finished(&self) -> bool {
        self.history.len() >= self.cfg.steps
    }

    /// The balancing bias now.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }

    /// Runs every remaining step.
    pub fn run(cfg: SimConfig) -> RouterSim {
        let mut sim = RouterSim::new(cfg);
        while !sim.finished() {
            sim.step();
        }
        sim
    }

    /// One full-batch gradient step (a no-op once finished).
    pub fn step(&mut self) {
        if self.finished() {
            return;
        }
        let pass = self.forward_backward(&self.w, &self.experts);
        for (w, g) in self.w.iter_mut().zip(&pass.d_router) {
            *w -= self.cfg.lr * g;
        }
        for (m, g) in self.experts.iter_mut().zip(&pass.d_experts) {
            *m -= self.cfg.lr * g;
        }
        let (k, t_n, e_n) = (self.cfg.k, self.cfg.tokens, self.cfg.experts);
        let mean_load = (k * t_n) as f64 / e_n as f64;
        let gamma = self.cfg.bias_rate;
        if gamma > 0.0 {
            for (b, &n) in self.bias.iter_mut().zip(&pass.demand) {
                let n = n as f64;
                if n > mean_load {
                    *b -= gamma;
                } else if n < mean_load {
                    *b += gamma;
                }
            }
        }
        self.history.push(pass.record);
        self.demand = pass.demand;
        self.load = pass.load;
    }

    /// The objective `task + α·L_aux + β·L_z` and its gradients for router weights `w` (4 × E, row-major)
    /// and expert weights `m` (E × 4 × 4), with the selection, the counts `f` and the capacity mask held at
    /// their values for these weights (they are piecewise constant).
    pub fn forward_backward(&self, w: &[f64], m_all: &[f64]) -> Pass {
        let (t_n, e_n, k) = (self.cfg.tokens, self.cfg.experts, self.cfg.k);
        let mut logits = vec![0.0; t_n * e_n];
        for t in 0..t_n {
            let xt = &self.x[t * DIM..(t + 1) * DIM];
            for e in 0..e_n {
                logits[t * e_n + e] = (0..DIM).map(|i| xt[i] * w[i * e_n + e]).sum();
            }
        }
        let bias: &[f64] = if self.cfg.bias_rate > 0.0 { &self.bias } else { &[] };
        let r = route(&logits, e_n, k, Score::Softmax, TopKNorm::None, bias, 1.0);
        let d = dispatch(&r, self.capacity, Priority::InOrder);
        let f = r.load_fractions(AuxConvention::AllChoicesOverK);
        let aux = r.aux_loss(AuxConvention::AllChoicesOverK);

        let mut d_logits = vec![0.0; t_n * e_n];
        let mut d_experts = vec![0.0; m_all.len()];
        let mut task = 0.0;
        let mut z_total = 0.0;
        let inv_t = 1.0 / t_n as f64;
        let mut outs = vec![[0.0; DIM]; k];
        for t in 0..t_n {
            let xt = &self.x[t * DIM..(t + 1) * DIM];
            let p = &r.probs[t * e_n..(t + 1) * e_n];
            // Expert outputs h_j = M_e x_t of the kept assignments, and ŷ_t.
            let mut y_hat = [0.0; DIM];
            for (j, out) in outs.iter_mut().enumerate() {
                let a = t * k + j;
                if !d.kept[a] {
                    continue;
                }
                let e = r.chosen[a];
                let m = &m_all[e * DIM * DIM..(e + 1) * DIM * DIM];
                for row in 0..DIM {
                    let h: f64 = (0..DIM).map(|i| m[row * DIM + i] * xt[i]).sum();
                    out[row] = h;
                    y_hat[row] += r.gates[a] * h;
                }
            }
            let yt = &self.y[t * DIM..(t + 1) * DIM];
            let mut resid = [0.0; DIM];
            for i in 0..DIM {
                let diff = y_hat[i] - yt[i];
                task += diff * diff;
                resid[i] = 2.0 * diff * inv_t / DIM as f64;
            }
            let dz = &mut d_logits[t * e_n..(t + 1) * e_n];
            for (j, out) in outs.iter().enumerate() {
                let a = t * k + j;
                if !d.kept[a] {
                    continue;
                }
                let e = r.chosen[a];
                let g = r.gates[a];
                let dg: f64 = (0..DIM).map(|i| resid[i] * out[i]).sum();
                // g = p_e, and ∂p_e/∂z_j = p_e(δ_ej − p_j).
                for (jj, dzj) in dz.iter_mut().enumerate() {
                    let delta = if jj == e { 1.0 } else { 0.0 };
                    *dzj += dg * p[e] * (delta - p[jj]);
                }
                let dm = &mut d_experts[e * DIM * DIM..(e + 1) * DIM * DIM];
                for row in 0..DIM {
                    for i in 0..DIM {
                        dm[row * DIM + i] += g * resid[row] * xt[i];
                    }
                }
            }
            let alpha = self.cfg.aux_coef;
            if alpha > 0.0 {
                // ∂(E Σ_i f_i P_i)/∂z_tj = (E/T) p_tj (f_j − Σ_i f_i p_ti); f is a count and has no gradient.
                let fp: f64 = f.iter().zip(p).map(|(a, b)| a * b).sum();
                for (jj, dzj) in dz.iter_mut().enumerate() {
                    *dzj += alpha * e_n as f64 * inv_t * p[jj] * (f[jj] - fp);
                }
            }
            let lse = logsumexp(&logits[t * e_n..(t + 1) * e_n]);
            z_total += lse * lse;
            if self.cfg.z_coef > 0.0 {
                // ∂(lse²)/∂z_j = 2 lse p_j.
                for (jj, dzj) in dz.iter_mut().enumerate() {
                    *dzj += self.cfg.z_coef * 2.0 * lse * p[jj] * inv_t;
                }
            }
        }
        let mut d_router = vec![0.0; w.len()];
        for i in 0..DIM {
            for e in 0..e_n {
                d_router[i * e_n + e] = (0..t_n)
                    .map(|t| self.x[t * DIM + i] * d_logits[t * e_n + e])
                    .sum();
            }
        }
        let task_loss = task * inv_t / DIM as f64;
        let z = z_total * inv_t;
        let mean_load = (k * t_n) as f64 / e_n as f64;
        let max_demand = d.demand.iter().copied().max().unwrap_or(0) as f64;
        Pass {
            objective: task_loss + self.cfg.aux_coef * aux + self.cfg.z_coef * z,
            d_router,
            d_experts,
            record: StepRecord {
                task_loss,
                aux_loss: aux,
                z_loss: z,
                dropped: d.dropped as f64 / (k * t_n) as f64,
                max_load_ratio: max_demand / mean_load,
            },
            demand: d.demand,
            load: d.load,
        }
    }

    /// The router weights now (4 × E, row-major).
    pub fn router_weights(&self) -> &[f64] {
        &self.w
    }

    /// The expert weights now (E × 4 × 4).
    pub fn expert_weights(&self) -> &[f64] {
        &self.experts
    }

    /// The last record (zeros before the first step).
    pub fn last(&self) -> StepRecord {
        self.history.last().copied().unwrap_or(StepRecord {
            task_loss: 0.0,
            aux_loss: 0.0,
            z_loss: 0.0,
            dropped: 0.0,
            max_load_ratio: 0.0,
        })
    }

    /// Mean of a field over the last `n` steps (a less noisy summary than the last step).
    pub fn tail_mean(&self, n: usize, field: fn(&StepRecord) -> f64) -> f64 {
        let n = n.min(self.history.len()).max(1);
        let tail = &self.history[self.history.len().saturating_sub(n)..];
        tail.iter().map(field).sum::<f64>() / n as f64
    }
}

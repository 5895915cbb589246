//! `dlf calc attention`: scaled dot-product attention, one head or several, from `Q, K, V` or from the input
//! `X` with projection weights — scores, weights, output and, given an upstream gradient, every gradient —
//! so a learner can check a hand computation line by line (lesson 04). The maths is the engine's
//! (`dlf_engine::lessons::attention`); where libraries differ the choice is a command-line option.

use anyhow::{anyhow, bail, Result};
use dlf_engine::lessons::attention::{
    affine, column_sums, multi_head, multi_head_backward, CausalAlign, Mask, MaskFill, QkvLayout,
    SdpaForward, SdpaGrads, SdpaOptions,
};
use dlf_engine::tensor::Tensor;
use serde::Serialize;

use super::{check_finite, given, named, rows, Given, Name, Named, Numbers, Pairs, Quantity, Scalar, Topic, Uses};

/// `dlf calc attention`.
#[derive(Debug)]
pub struct Attention;

/// Options of `dlf calc attention`.
#[derive(Debug, clap::Args)]
pub struct Options {
    /// Where a causal mask's diagonal sits when there are more keys than queries: top-left (PyTorch
    /// scaled_dot_product_attention is_causal=True; the default) or bottom-right (FlashAttention ≥ 2.1,
    /// PyTorch causal_lower_right).
    #[arg(long, value_parser = named::<CausalAlign>())]
    pub causal_align: Option<CausalAlign>,
    /// How a hidden score enters the softmax: neg-inf (the default; PyTorch SDPA with a boolean mask),
    /// masked-fill (replaced by fill_value, as The Annotated Transformer's -1e9) or additive (fill_value
    /// added, as BERT's -10000 and Hugging Face's extended attention mask).
    #[arg(long, value_parser = named::<MaskFill>())]
    pub mask_fill: Option<MaskFill>,
    /// How a fused w_qkv's columns are assigned: blocks ([Q|K|V], GPT-2 c_attn, PyTorch in_proj_weight;
    /// the default) or per-head ([q₀k₀v₀|q₁k₁v₁|…], GPT-NeoX, BLOOM, Megatron-LM).
    #[arg(long, value_parser = named::<QkvLayout>())]
    pub qkv_layout: Option<QkvLayout>,
}

impl Given for Options {
    fn given(&self) -> Vec<&'static str> {
        given(&[
            ("--causal-align", self.causal_align.is_some()),
            ("--mask-fill", self.mask_fill.is_some()),
            ("--qkv-layout", self.qkv_layout.is_some()),
        ])
    }
}

/// The base mask of a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskKind {
    /// Every key visible.
    None,
    /// No query sees a later key.
    Causal,
}

impl Named for MaskKind {
    const WHAT: &'static str = "mask";
    const ALL: &'static [Self] = &[MaskKind::None, MaskKind::Causal];
    fn name(self) -> &'static str {
        match self {
            MaskKind::None => "none",
            MaskKind::Causal => "causal",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
    }
}

problem! {
    /// An attention problem as the learner writes it: `q`, `k`, `v`; or `x` with `wq`, `wk`, `wv`; or `x`
    /// with a fused `w_qkv`.
    pub struct Problem {
        required {}
        optional {
            q: Numbers,
            k: Numbers,
            v: Numbers,
            x: Numbers,
            wq: Numbers,
            wk: Numbers,
            wv: Numbers,
            bq: Vec<f64>,
            bk: Vec<f64>,
            bv: Vec<f64>,
            w_qkv: Numbers,
            b_qkv: Vec<f64>,
            wo: Numbers,
            bo: Vec<f64>,
            heads: usize,
            scale: f64,
            mask: Name<MaskKind>,
            key_length: usize,
            mask_matrix: Numbers,
            fill_value: f64,
            dout: Numbers,
        }
    }
}

const CONVENTIONS: &str = "\
Reads one JSON object on stdin, runs scaled dot-product attention (one head or several) forward, and
backward if dout is given, and prints every intermediate quantity.

Input (matrices are arrays of rows; a row is a token):
  either  q (T×d), k (S×d), v (S×d_v)                        queries, keys, values given directly
  or      x (T×d_model) with wq, wk (d_model×d), wv (d_model×d_v) and optional biases bq, bk, bv
  or      x with a fused w_qkv (d_model×3d) and optional b_qkv (3d), split by --qkv-layout
  with x: optional wo (d_v×d_out) and bo: the output projection
  heads        default 1; head h owns columns h·d/H .. (h+1)·d/H of Q and K and h·d_v/H .. of V
               (PyTorch nn.MultiheadAttention and Hugging Face reshape the same way)
  scale        default 1/√(d/H), the head width (Vaswani et al. 2017); any number to override
  mask         \"none\" (default) | \"causal\"
  key_length   optional: keys j ≥ key_length are padding, hidden from every query
  mask_matrix  optional T×S of 1 (may attend) and 0 (hidden), combined with the above
  fill_value   the constant of --mask-fill masked-fill or additive (default -1e9)
  dout         optional upstream gradient dL/d(output): T×d_out with wo, else T×d_v
Weights are d_in×d_out and multiply on the right (y = x·W + b, as GPT-2's Conv1D stores them); PyTorch's
nn.Linear stores d_out×d_in: transpose its weight first.

Formulas (per head):
  Z = s·Q Kᵀ;  P = softmax over each row of Z with hidden entries handled by --mask-fill;  O = P V
  backward: dV = Pᵀ dO;  dP = dO Vᵀ;  dZ_ij = P_ij (dP_ij − Σ_k P_ik dP_ik);  dQ = s·dZ K;  dK = s·dZᵀ Q
  with x: Q = x·Wq + bq etc.; Y = concat(O_h)·Wo + bo;  dWq = xᵀ dQ, dbq = Σ_rows dQ,
  dx = dQ Wqᵀ + dK Wkᵀ + dV Wvᵀ;  dWo = concat(O_h)ᵀ dY, dbo = Σ_rows dY, d(concat) = dY Woᵀ

Where libraries differ (options):
  --causal-align top-left|bottom-right   with T queries and S ≠ T keys, query i sees keys j ≤ i (top-left:
                   PyTorch SDPA is_causal=True, causal_upper_left) or j ≤ i + S − T (bottom-right:
                   FlashAttention ≥ 2.1, PyTorch causal_lower_right, decoding with a KV cache)
  --mask-fill neg-inf|masked-fill|additive   neg-inf: hidden weight exactly 0, and a query that sees no key
                   gets all-zero weights and output (PyTorch SDPA ≥ 2.5; a plain softmax gives NaN);
                   masked-fill: the score is replaced by fill_value (The Annotated Transformer, -1e9): a
                   fully hidden row becomes uniform 1/S; additive: fill_value is added (BERT -10000, Hugging
                   Face dtype-minimum masks): a fully hidden row becomes the softmax of its raw scores
  --qkv-layout blocks|per-head   a fused w_qkv's columns are [Q|K|V] (GPT-2, PyTorch in_proj_weight) or
                   per head [q_h k_h v_h] (GPT-NeoX, BLOOM, Megatron-LM)

Output: {\"topic\", \"method\", \"conventions\", \"shapes\", \"projections\" {q, k, v} (with x), \"mask\" (1 = may
attend; when any entry is hidden), \"heads\": [{scores Z, weights P, out O}], \"output\" (concat of O),
\"y\" (with wo), \"backward\": {heads: [{d_weights, d_scores, dq, dk, dv}], dq, dk, dv, and with x: dx, dwq,
dwk, dwv (or dw_qkv), their biases' gradients when biases were given, dwo, dbo}}. Scores are printed before
masking (a hidden entry's score is what the mask hides).

Example:
  echo '{\"q\":[[1,0],[0,1]],\"k\":[[1,0],[1,1]],\"v\":[[1,2],[3,4]],\"mask\":\"causal\",\"dout\":[[1,0],[0,1]]}' | dlf calc attention";

/// Which inputs the problem gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Qkv,
    Separate,
    Fused,
}

fn method(p: &Problem) -> Method {
    if p.w_qkv.is_some() {
        Method::Fused
    } else if p.x.is_some() {
        Method::Separate
    } else {
        Method::Qkv
    }
}

/// One head's forward pass as printed.
#[derive(Debug, Serialize)]
struct HeadOut {
    #[serde(serialize_with = "rows")]
    scores: Tensor,
    #[serde(serialize_with = "rows")]
    weights: Tensor,
    #[serde(serialize_with = "rows")]
    out: Tensor,
}

/// One head's gradients as printed.
#[derive(Debug, Serialize)]
struct HeadGrads {
    #[serde(serialize_with = "rows")]
    d_weights: Tensor,
    #[serde(serialize_with = "rows")]
    d_scores: Tensor,
    #[serde(serialize_with = "rows")]
    dq: Tensor,
    #[serde(serialize_with = "rows")]
    dk: Tensor,
    #[serde(serialize_with = "rows")]
    dv: Tensor,
}

#[derive(Debug, Serialize)]
struct Projections {
    #[serde(serialize_with = "rows")]
    q: Tensor,
    #[serde(serialize_with = "rows")]
    k: Tensor,
    #[serde(serialize_with = "rows")]
    v: Tensor,
}

#[derive(Debug, Serialize)]
struct Shapes {
    q: [usize; 2],
    k: [usize; 2],
    v: [usize; 2],
    heads: usize,
    head_width: usize,
}

/// A matrix printed as rows.
#[derive(Debug, Serialize)]
struct Matrix(#[serde(serialize_with = "rows")] Tensor);

#[derive(Debug, Serialize)]
struct Backward {
    heads: Vec<HeadGrads>,
    #[serde(serialize_with = "rows")]
    dq: Tensor,
    #[serde(serialize_with = "rows")]
    dk: Tensor,
    #[serde(serialize_with = "rows")]
    dv: Tensor,
    #[serde(skip_serializing_if = "Option::is_none")]
    d_output: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dx: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dwq: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dwk: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dwv: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dbq: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dbk: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dbv: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dw_qkv: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    db_qkv: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dwo: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dbo: Option<Vec<f64>>,
}

/// Everything printed, in this order.
#[derive(Debug, Serialize)]
pub struct Answer {
    topic: &'static str,
    method: &'static str,
    conventions: Pairs,
    shapes: Shapes,
    #[serde(skip_serializing_if = "Option::is_none")]
    projections: Option<Projections>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mask: Option<Vec<Vec<u8>>>,
    heads: Vec<HeadOut>,
    #[serde(serialize_with = "rows")]
    output: Tensor,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backward: Option<Backward>,
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Qkv => "qkv",
        Method::Separate => "x",
        Method::Fused => "x-fused",
    }
}

fn has_mask(p: &Problem) -> bool {
    p.mask.is_some_and(|m| m.0 == MaskKind::Causal) || p.key_length.is_some() || p.mask_matrix.is_some()
}

fn matrix(n: Option<Numbers>, name: &str, needed_by: &str) -> Result<Tensor> {
    match n {
        Some(n) => n.matrix(name),
        None => bail!("{needed_by} needs {name}"),
    }
}

fn bias(b: Option<Vec<f64>>, name: &str, cols: usize) -> Result<Option<Vec<f64>>> {
    match b {
        Some(b) if b.len() != cols => bail!("{name} has {} entries but its weight has {cols} columns", b.len()),
        other => Ok(other),
    }
}

fn need_rows(m: &Tensor, name: &str, rows: usize, of: &str) -> Result<()> {
    if m.rows() != rows {
        bail!("{name} has {} rows but {of} has {rows}", m.rows());
    }
    Ok(())
}

impl Topic for Attention {
    const NAME: &'static str = "attention";
    const ABOUT: &'static str =
        "Scaled dot-product and multi-head attention: scores, weights, output and gradients (lesson 04)";
    const CONVENTIONS: &'static str = CONVENTIONS;
    type Options = Options;
    type Problem = Problem;
    type Answer = Answer;

    fn uses(problem: &Problem, options: &Options) -> Uses {
        let m = method(problem);
        let mut fields = vec!["heads", "scale", "mask", "key_length", "mask_matrix", "dout"];
        match m {
            Method::Qkv => fields.extend(["q", "k", "v"]),
            Method::Separate => fields.extend(["x", "wq", "wk", "wv", "bq", "bk", "bv", "wo", "bo"]),
            Method::Fused => fields.extend(["x", "w_qkv", "b_qkv", "wo", "bo", "--qkv-layout"]),
        }
        if problem.mask.is_some_and(|k| k.0 == MaskKind::Causal) {
            fields.push("--causal-align");
        }
        if has_mask(problem) {
            fields.push("--mask-fill");
            if options.mask_fill.is_some_and(|f| f != MaskFill::NegInf) {
                fields.push("fill_value");
            }
        }
        Uses {
            method: method_name(m),
            fields,
        }
    }

    fn solve(raw: Problem, options: &Options) -> Result<Answer> {
        let m = method(&raw);
        let heads = raw.heads.unwrap_or(1);
        if heads == 0 {
            bail!("heads must be at least 1");
        }
        let fill = options.mask_fill.unwrap_or(MaskFill::NegInf);
        let align = options.causal_align.unwrap_or(CausalAlign::TopLeft);
        let layout = options.qkv_layout.unwrap_or(QkvLayout::Blocks);
        let fill_value = raw.fill_value.unwrap_or(-1e9);
        if !fill_value.is_finite() {
            bail!("fill_value must be a finite number (use --mask-fill neg-inf for −∞)");
        }
        let mask_given = has_mask(&raw);

        // The inputs: Q, K, V directly, or X and the projections.
        let mut x_parts = None;
        let (q, k, v) = match m {
            Method::Qkv => {
                let q = matrix(raw.q, "q", "the qkv method")?;
                let k = matrix(raw.k, "k", "q")?;
                let v = matrix(raw.v, "v", "q")?;
                if k.cols() != q.cols() {
                    bail!("k has width {} but q has {}: queries and keys are compared by a dot product", k.cols(), q.cols());
                }
                need_rows(&v, "v", k.rows(), "k")?;
                (q, k, v)
            }
            Method::Separate | Method::Fused => {
                let x = matrix(raw.x, "x", "this method")?;
                let (ws, bs) = if m == Method::Separate {
                    let wq = matrix(raw.wq, "wq", "x")?;
                    let wk = matrix(raw.wk, "wk", "x")?;
                    let wv = matrix(raw.wv, "wv", "x")?;
                    for (w, name) in [(&wq, "wq"), (&wk, "wk"), (&wv, "wv")] {
                        need_rows(w, name, x.cols(), "x's width (columns)")?;
                    }
                    if wk.cols() != wq.cols() {
                        bail!("wk has {} columns but wq has {}: queries and keys need the same width", wk.cols(), wq.cols());
                    }
                    let bq = bias(raw.bq, "bq", wq.cols())?;
                    let bk = bias(raw.bk, "bk", wk.cols())?;
                    let bv = bias(raw.bv, "bv", wv.cols())?;
                    ([wq, wk, wv], [bq, bk, bv])
                } else {
                    let w = matrix(raw.w_qkv, "w_qkv", "x")?;
                    need_rows(&w, "w_qkv", x.cols(), "x's width (columns)")?;
                    if w.cols() % 3 != 0 || (w.cols() / 3) % heads != 0 {
                        bail!("w_qkv has {} columns: it needs 3·d with d a multiple of heads = {heads}", w.cols());
                    }
                    let parts = layout.split(&w, heads).map_err(|e| anyhow!("{e}"))?;
                    let b = match bias(raw.b_qkv, "b_qkv", w.cols())? {
                        None => [None, None, None],
                        Some(b) => {
                            let t = Tensor::new(&[1, b.len()], b).map_err(|e| anyhow!("{e}"))?;
                            let [a, b2, c] = layout.split(&t, heads).map_err(|e| anyhow!("{e}"))?;
                            [Some(a.into_data()), Some(b2.into_data()), Some(c.into_data())]
                        }
                    };
                    (parts, b)
                };
                let q = affine(&x, &ws[0], bs[0].as_deref()).map_err(|e| anyhow!("{e}"))?;
                let k = affine(&x, &ws[1], bs[1].as_deref()).map_err(|e| anyhow!("{e}"))?;
                let v = affine(&x, &ws[2], bs[2].as_deref()).map_err(|e| anyhow!("{e}"))?;
                x_parts = Some((x, ws, bs));
                (q, k, v)
            }
        };
        let (t, s) = (q.rows(), k.rows());
        if q.cols() % heads != 0 || v.cols() % heads != 0 {
            bail!(
                "heads = {heads} must divide the query/key width {} and the value width {}",
                q.cols(),
                v.cols()
            );
        }
        let dh = q.cols() / heads;

        // The output projection, with X only.
        let wo = match raw.wo {
            None => None,
            Some(w) => {
                let w = w.matrix("wo")?;
                need_rows(&w, "wo", v.cols(), "the value width (the heads' concatenated output)")?;
                Some(w)
            }
        };
        let bo = match (&wo, raw.bo) {
            (None, Some(_)) => bail!("bo needs wo"),
            (Some(w), b) => bias(b, "bo", w.cols())?,
            (None, None) => None,
        };

        // The mask.
        let mut mask = match raw.mask.map_or(MaskKind::None, |k| k.0) {
            MaskKind::None => Mask::none(t, s),
            MaskKind::Causal => Mask::causal(t, s, align),
        };
        if let Some(len) = raw.key_length {
            if len > s {
                bail!("key_length {len} exceeds the {s} keys");
            }
            mask = mask.with_key_length(len);
        }
        if let Some(mm) = raw.mask_matrix {
            let mm = mm.matrix("mask_matrix")?;
            if mm.rows() != t || mm.cols() != s {
                bail!("mask_matrix is {}×{} but there are {t} queries and {s} keys", mm.rows(), mm.cols());
            }
            if let Some(i) = mm.data().iter().position(|&v| v != 0.0 && v != 1.0) {
                bail!("mask_matrix[{}][{}] is {}: use 1 (may attend) or 0 (hidden)", i / s, i % s, mm.data()[i]);
            }
            let explicit = Mask {
                t,
                s,
                visible: mm.data().iter().map(|&v| v == 1.0).collect(),
            };
            mask = mask.and(&explicit);
        }

        let opts = SdpaOptions {
            scale: raw.scale,
            fill,
            fill_value,
        };
        if let Some(sc) = raw.scale {
            if !sc.is_finite() {
                bail!("scale must be a finite number");
            }
        }
        let (per_head, output) =
            multi_head(&q, &k, &v, heads, &mask, &opts).map_err(|e| anyhow!("{e}"))?;
        for (h, f) in per_head.iter().enumerate() {
            check_head(h, f)?;
        }
        let y = match &wo {
            None => None,
            Some(w) => Some(affine(&output, w, bo.as_deref()).map_err(|e| anyhow!("{e}"))?),
        };
        if let Some(y) = &y {
            check_finite(Attention::NAME, "output projection", &[Quantity::matrix("y", y, "concat(O_h)·Wo + bo")], |_, _| None)?;
        }

        let backward = match raw.dout {
            None => None,
            Some(d) => {
                let d = d.matrix("dout")?;
                let (want_r, want_c) = y.as_ref().map_or((output.rows(), output.cols()), |y| (y.rows(), y.cols()));
                if d.rows() != want_r || d.cols() != want_c {
                    bail!(
                        "dout is {}×{} but the output is {want_r}×{want_c}: the upstream gradient has the output's shape",
                        d.rows(),
                        d.cols()
                    );
                }
                let d_output = match &wo {
                    None => d.clone(),
                    Some(w) => d.matmul_nt(w).map_err(|e| anyhow!("{e}"))?,
                };
                let (grads, [dq, dk, dv]) = multi_head_backward(&per_head, &q, &k, &v, &mask, fill, &d_output)
                    .map_err(|e| anyhow!("{e}"))?;
                let mut b = Backward {
                    heads: grads.into_iter().map(head_grads).collect(),
                    dq,
                    dk,
                    dv,
                    d_output: wo.as_ref().map(|_| Matrix(d_output)),
                    dx: None,
                    dwq: None,
                    dwk: None,
                    dwv: None,
                    dbq: None,
                    dbk: None,
                    dbv: None,
                    dw_qkv: None,
                    db_qkv: None,
                    dwo: None,
                    dbo: None,
                };
                if wo.is_some() {
                    b.dwo = Some(Matrix(output.matmul_tn(&d).map_err(|e| anyhow!("{e}"))?));
                    if bo.is_some() {
                        b.dbo = Some(column_sums(&d));
                    }
                }
                if let Some((x, ws, bs)) = &x_parts {
                    let dws = [&b.dq, &b.dk, &b.dv].map(|g| x.matmul_tn(g).expect("x and the gradients share rows"));
                    let mut dx = Tensor::zeros(x.shape());
                    for (g, w) in [&b.dq, &b.dk, &b.dv].into_iter().zip(ws) {
                        let part = g.matmul_nt(w).map_err(|e| anyhow!("{e}"))?;
                        dx = dx.zip_map(&part, |a, c| a + c).map_err(|e| anyhow!("{e}"))?;
                    }
                    b.dx = Some(Matrix(dx));
                    let dbs = [&b.dq, &b.dk, &b.dv].map(column_sums);
                    if m == Method::Fused {
                        b.dw_qkv = Some(Matrix(layout.merge(&dws, heads)));
                        if bs[0].is_some() {
                            let rows = dbs.map(|v| Tensor::new(&[1, v.len()], v).expect("one row"));
                            b.db_qkv = Some(layout.merge(&rows, heads).into_data());
                        }
                    } else {
                        let [dwq, dwk, dwv] = dws;
                        b.dwq = Some(Matrix(dwq));
                        b.dwk = Some(Matrix(dwk));
                        b.dwv = Some(Matrix(dwv));
                        let [dbq, dbk, dbv] = dbs;
                        b.dbq = bs[0].is_some().then_some(dbq);
                        b.dbk = bs[1].is_some().then_some(dbk);
                        b.dbv = bs[2].is_some().then_some(dbv);
                    }
                }
                Some(b)
            }
        };

        let mut conventions = vec![
            ("scale", Scalar::Number(per_head[0].scale)),
            ("scale_source", Scalar::Text(if raw.scale.is_some() { "given" } else { "1/sqrt(head width)" })),
            ("heads", Scalar::Number(heads as f64)),
            ("head_columns", Scalar::Text("contiguous")),
        ];
        if raw.mask.is_some_and(|k| k.0 == MaskKind::Causal) {
            conventions.push(("causal_align", Scalar::Text(align.name())));
        }
        if mask_given {
            conventions.push(("mask_fill", Scalar::Text(fill.name())));
            if fill != MaskFill::NegInf {
                conventions.push(("fill_value", Scalar::Number(fill_value)));
            }
        }
        if m == Method::Fused {
            conventions.push(("qkv_layout", Scalar::Text(layout.name())));
        }
        let mask_out = mask_given.then(|| {
            (0..t)
                .map(|i| (0..s).map(|j| u8::from(mask.sees(i, j))).collect())
                .collect()
        });
        Ok(Answer {
            topic: Attention::NAME,
            method: method_name(m),
            conventions: Pairs(conventions),
            shapes: Shapes {
                q: [t, q.cols()],
                k: [s, k.cols()],
                v: [s, v.cols()],
                heads,
                head_width: dh,
            },
            projections: x_parts.as_ref().map(|_| Projections {
                q: q.clone(),
                k: k.clone(),
                v: v.clone(),
            }),
            mask: mask_out,
            heads: per_head
                .into_iter()
                .map(|f| HeadOut {
                    scores: f.scores,
                    weights: f.weights,
                    out: f.out,
                })
                .collect(),
            output,
            y: y.map(Matrix),
            backward,
        })
    }
}

fn head_grads(g: SdpaGrads) -> HeadGrads {
    HeadGrads {
        d_weights: g.d_weights,
        d_scores: g.d_scores,
        dq: g.dq,
        dk: g.dk,
        dv: g.dv,
    }
}

/// Names the first score, weight or output of head `h` that is not finite.
fn check_head(h: usize, f: &SdpaForward) -> Result<()> {
    let step = format!("head {h}");
    check_finite(
        Attention::NAME,
        &step,
        &[
            Quantity::matrix("scores", &f.scores, "s·Q Kᵀ"),
            Quantity::matrix("weights", &f.weights, "softmax of the scores"),
            Quantity::matrix("out", &f.out, "P V"),
        ],
        |_, _| None,
    )
}

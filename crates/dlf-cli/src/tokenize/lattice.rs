//! `dlf tokenize lattice`: a Unigram model's segmentation lattice of a word (Kudo 2018) — every piece that
//! matches, with its span and log-probability; the Viterbi segmentation; log Z by the forward algorithm; each
//! node's marginal by forward–backward; the n best segmentations; samples for subword regularisation.

use std::io::Write;

use anyhow::{bail, Result};
use dlf_engine::lessons::tokenize::pretokenize::pre_tokenize;
use dlf_engine::lessons::tokenize::unigram::{Lattice, Unigram};
use dlf_engine::math;
use dlf_engine::rng::Rng;
use serde::Serialize;

use super::names::show;
use super::tokenizer_json::Model;
use super::train::format_sig;
use super::{load, TokenizerFile};

/// `dlf tokenize lattice --help`.
pub const LONG_HELP: &str = "\
The segmentation lattice of TEXT under a Unigram tokenizer.json (Kudo 2018): the text is pre-tokenised as
the tokenizer says (metaspace: 'lowest' becomes '▁lowest'; --raw skips this) and each piece gets a lattice.

  nodes     every vocabulary piece found in the text: start and end (character offsets, end exclusive), id,
            log p (the piece's log-probability; an unknown character gets min log p − 10, as SentencePiece
            and Hugging Face), and its marginal P(node on the path | text) by forward–backward
  Viterbi   the most probable segmentation (what encode gives) and its log-probability Σ log p
  log Z     log Σ over every segmentation of exp(Σ log p), by the forward algorithm (log-sum-exp);
            P(Viterbi | text) = exp(log p − log Z)
  n best    the K most probable segmentations (--n-best K, default 5) with log p and P(· | text)
  samples   --sample N draws N segmentations with probability ∝ P(segmentation)^alpha (--alpha, default 1:
            the model's own posterior; SentencePiece's subword regularisation uses e.g. 0.1), forward-filtering
            backward-sampling, seeded by --seed (default 0) so a run can be repeated

A hand-made model needs only {\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", -1.2], [\"b\", -1.6], …]}}
(with no pre_tokenizer the text is used as it is).

  dlf tokenize lattice --tokenizer unigram.json lowest --n-best 3 --sample 5 --alpha 0.1 --seed 7";

/// Options of `dlf tokenize lattice`.
#[derive(Debug, clap::Args)]
pub struct LatticeArgs {
    #[command(flatten)]
    pub tokenizer: TokenizerFile,
    /// The word (or text) to segment.
    pub text: String,
    /// Use TEXT as it is, without the tokenizer's pre-tokenizer.
    #[arg(long)]
    pub raw: bool,
    /// How many of the best segmentations to list.
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub n_best: usize,
    /// Draw this many segmentations by subword-regularisation sampling.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// Sampling sharpness: P(segmentation)^alpha (1: the posterior; towards 0: uniform over segmentations).
    #[arg(long, value_name = "A", requires = "sample")]
    pub alpha: Option<f64>,
    /// The sampler's seed.
    #[arg(long, value_name = "S", requires = "sample")]
    pub seed: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct NodeOut {
    start: usize,
    end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    piece: String,
    unknown: bool,
    log_prob: f64,
    marginal: f64,
}

#[derive(Debug, Serialize)]
struct Segmentation {
    pieces: Vec<String>,
    ids: Vec<u32>,
    log_prob: f64,
    probability: f64,
}

#[derive(Debug, Serialize)]
struct Sample {
    pieces: Vec<String>,
    ids: Vec<u32>,
}

#[derive(Debug, Serialize)]
struct LatticeOut {
    text: String,
    chars: usize,
    nodes: Vec<NodeOut>,
    viterbi: Segmentation,
    log_z: f64,
    n_best: Vec<Segmentation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<Vec<Sample>>,
}

#[derive(Debug, Serialize)]
struct Out {
    #[serde(skip_serializing_if = "Option::is_none")]
    alpha: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    lattices: Vec<LatticeOut>,
}

/// Runs `dlf tokenize lattice`.
///
/// # Errors
/// See [`super::run`]; also a tokenizer that is not Unigram, an empty text, a text with no segmentation.
pub fn run(args: &LatticeArgs, out: &mut impl Write) -> Result<()> {
    let tok = load(&args.tokenizer.tokenizer)?;
    let uni = match &tok.model {
        Model::Unigram(u) => u,
        other => bail!(
            "{} holds a {} model; a lattice needs a Unigram model (BPE segments by merge rank and WordPiece by \
             longest match, neither with probabilities)",
            args.tokenizer.tokenizer.display(),
            other.type_name()
        ),
    };
    let alpha = args.alpha.unwrap_or(1.0);
    if !(alpha.is_finite() && alpha >= 0.0) {
        bail!("--alpha {alpha} must be a finite number ≥ 0 (1 samples from the model's posterior)");
    }
    if args.n_best == 0 {
        bail!("--n-best 0 lists nothing: give K ≥ 1");
    }
    let pieces = match (tok.pre, args.raw) {
        (Some(pre), false) => pre_tokenize(&args.text, pre),
        _ => vec![args.text.clone()],
    };
    let pieces: Vec<String> = pieces.into_iter().filter(|p| !p.is_empty()).collect();
    if pieces.is_empty() {
        bail!(
            "nothing to segment: the text {:?} has no characters after pre-tokenisation",
            args.text
        );
    }
    let mut rng = Rng::new(args.seed.unwrap_or(0));
    let mut lattices = Vec::new();
    for p in &pieces {
        lattices.push(one(uni, p, args, alpha, &mut rng)?);
    }
    let result = Out {
        alpha: args.sample.map(|_| alpha),
        seed: args.sample.map(|_| args.seed.unwrap_or(0)),
        lattices,
    };
    if args.json {
        return crate::calc::print("tokenize lattice", &result, out);
    }
    print_text(&result, out)
}

fn one(
    uni: &Unigram,
    text: &str,
    args: &LatticeArgs,
    alpha: f64,
    rng: &mut Rng,
) -> Result<LatticeOut> {
    let lattice: Lattice = uni.lattice(text);
    if uni.unk_id().is_none() {
        if let Some(n) = lattice.nodes.iter().find(|n| n.id == u32::MAX) {
            bail!(
                "{text:?} has no segmentation: no piece starts at character {} ({:?}), and the model has no \
                 unknown token (model.unk_id) to cover it (Hugging Face refuses to encode it too)",
                n.start,
                n.piece
            );
        }
    }
    let (path, best) = lattice.viterbi();
    if path.is_empty() || !best.is_finite() {
        let missing = text
            .chars()
            .enumerate()
            .find(|(i, _)| !lattice.nodes.iter().any(|n| n.start == *i))
            .map_or_else(String::new, |(i, c)| {
                format!(": no piece starts at character {i} ({c:?})")
            });
        bail!(
            "{text:?} has no segmentation{missing}, and the model has no unknown token (unk_id) to cover it"
        );
    }
    let log_z = lattice.log_partition();
    let marginals = lattice.marginals();
    let unknown = |n: &dlf_engine::lessons::tokenize::unigram::LatticeNode| {
        n.id == u32::MAX || Some(n.id) == uni.unk_id() || uni.token_to_id(&n.piece) != Some(n.id)
    };
    let nodes: Vec<NodeOut> = lattice
        .nodes
        .iter()
        .zip(&marginals)
        .map(|(n, &m)| NodeOut {
            start: n.start,
            end: n.end,
            id: (n.id != u32::MAX).then_some(n.id),
            piece: n.piece.clone(),
            unknown: unknown(n),
            log_prob: n.log_prob,
            marginal: m,
        })
        .collect();
    let seg = |path: &[usize], lp: f64| Segmentation {
        pieces: path
            .iter()
            .map(|&i| lattice.nodes[i].piece.clone())
            .collect(),
        ids: path.iter().map(|&i| lattice.nodes[i].id).collect(),
        log_prob: lp,
        probability: math::exp(lp - log_z),
    };
    let viterbi = seg(&path, best);
    let n_best = lattice
        .n_best(args.n_best)
        .iter()
        .map(|(p, lp)| seg(p, *lp))
        .collect();
    let samples = args.sample.map(|n| {
        (0..n)
            .map(|_| {
                let ids = uni.sample(text, alpha, rng);
                Sample {
                    pieces: ids
                        .iter()
                        .map(|&id| {
                            uni.pieces()
                                .get(id as usize)
                                .map_or_else(|| "<unknown>".to_string(), |(p, _)| p.clone())
                        })
                        .collect(),
                    ids,
                }
            })
            .collect()
    });
    Ok(LatticeOut {
        text: text.to_string(),
        chars: lattice.len,
        nodes,
        viterbi,
        log_z,
        n_best,
        samples,
    })
}

fn print_text(result: &Out, out: &mut impl Write) -> Result<()> {
    for (k, l) in result.lattices.iter().enumerate() {
        if k > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "lattice of {} ({} characters, {} nodes)",
            show(&l.text),
            l.chars,
            l.nodes.len()
        )?;
        let w = l
            .nodes
            .iter()
            .map(|n| show(&n.piece).chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            out,
            "{:>5}  {:>3}  {:>7}  {}  {:>12}  {:>10}",
            "start",
            "end",
            "id",
            pad("piece", w),
            "log p",
            "marginal"
        )?;
        for n in &l.nodes {
            let id = match (n.id, n.unknown) {
                (Some(id), false) => id.to_string(),
                (Some(id), true) => format!("{id} unk"),
                (None, _) => "unk".to_string(),
            };
            writeln!(
                out,
                "{:>5}  {:>3}  {:>7}  {}  {:>12}  {:>10}",
                n.start,
                n.end,
                id,
                pad(&show(&n.piece), w),
                format_sig(n.log_prob),
                format_sig(n.marginal)
            )?;
        }
        writeln!(
            out,
            "Viterbi: {}  (ids {})  log p = {}",
            joined(&l.viterbi.pieces),
            ids(&l.viterbi.ids),
            format_sig(l.viterbi.log_prob)
        )?;
        writeln!(
            out,
            "log Z = {}  P(Viterbi | text) = exp(log p − log Z) = {}",
            format_sig(l.log_z),
            format_sig(l.viterbi.probability)
        )?;
        writeln!(out, "{} best:", l.n_best.len())?;
        for (i, s) in l.n_best.iter().enumerate() {
            writeln!(
                out,
                "  {:>2}  log p {:>12}  P {:>10}  {}",
                i + 1,
                format_sig(s.log_prob),
                format_sig(s.probability),
                joined(&s.pieces)
            )?;
        }
        if let Some(samples) = &l.samples {
            writeln!(
                out,
                "{} samples (alpha {}, seed {}):",
                samples.len(),
                result.alpha.unwrap_or(1.0),
                result.seed.unwrap_or(0)
            )?;
            for s in samples {
                writeln!(out, "  {}  (ids {})", joined(&s.pieces), ids(&s.ids))?;
            }
        }
    }
    Ok(())
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())))
}

fn joined(pieces: &[String]) -> String {
    pieces
        .iter()
        .map(|p| show(p))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn ids(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

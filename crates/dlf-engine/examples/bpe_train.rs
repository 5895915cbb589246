//! Trains a BPE vocabulary on text files with the engine's trainer and reports how long each phase took — the
//! engine half of `cargo xtask bench-tokenize` (the other half runs Hugging Face `tokenizers` on the same files).
//!
//! ```text
//! cargo run --release -p dlf-engine --example bpe_train -- --vocab-size 32000 [--pre gpt2] [--alphabet bytes]
//!     [--min-frequency 0] [--tie-break huggingface] [--merges-out merges.txt] [--encode FILE…] FILE…
//! ```
//! Input is read as HF's `train(files)` reads it: line by line, each line keeping its `\n`. Prints one line of
//! `key=value` pairs: words (distinct, total), CPU seconds of each phase (from `/proc/self/schedstat`, so that the
//! other jobs on a shared machine do not count; wall-clock seconds where that file is missing), merges, and the
//! trainer's work counters. `--merges-out` writes the merges, one `left right` per line (HF's merges.txt). With
//! `--encode`, the files after it are encoded with the trained model and `bytes=… tokens=… words=…` is printed
//! for each (for fertility).

use dlf_engine::lessons::tokenize::bpe::{Alphabet, BpeConfig, BpeTrainer, TieBreak};
use dlf_engine::lessons::tokenize::pretokenize::{count_words, for_each_word, PreTokenizer};
use std::time::Instant;

/// Seconds this process has spent on a CPU (Linux: first field of /proc/self/schedstat, in ns).
fn cpu_seconds(wall: &Instant) -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok())
        })
        .map_or_else(|| wall.elapsed().as_secs_f64(), |ns| ns * 1e-9)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cfg = BpeConfig {
        vocab_size: 32000,
        tie_break: TieBreak::HuggingFace,
        alphabet: Alphabet::Bytes,
        ..BpeConfig::default()
    };
    let mut pre = PreTokenizer::Gpt2;
    let mut files = Vec::new();
    let mut encode_files = Vec::new();
    let mut merges_out = None;
    let mut encoding = false;
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--vocab-size" => cfg.vocab_size = value().parse().expect("--vocab-size is a number"),
            "--min-frequency" => {
                cfg.min_frequency = value().parse().expect("--min-frequency is a number")
            }
            "--pre" => {
                pre = PreTokenizer::from_name(&value())
                    .expect("--pre: bert, whitespace, gpt2 or metaspace")
            }
            "--alphabet" => {
                cfg.alphabet = match value().as_str() {
                    "bytes" => Alphabet::Bytes,
                    "chars" => Alphabet::Chars,
                    other => panic!("--alphabet {other}: bytes or chars"),
                }
            }
            "--tie-break" => {
                cfg.tie_break = TieBreak::from_name(&value())
                    .expect("--tie-break: huggingface, lexicographic or first-seen")
            }
            "--merges-out" => merges_out = Some(value()),
            "--encode" => encoding = true,
            _ if encoding => encode_files.push(a),
            _ => files.push(a),
        }
    }
    assert!(!files.is_empty(), "name at least one input file");
    let wall = Instant::now();
    let texts: Vec<String> = files
        .iter()
        .map(|f| {
            String::from_utf8_lossy(&std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}")))
                .into_owned()
        })
        .collect();

    let t0 = cpu_seconds(&wall);
    let lines = texts.iter().flat_map(|t| t.split_inclusive('\n'));
    let words = count_words(lines, pre);
    let t1 = cpu_seconds(&wall);
    let mut trainer = BpeTrainer::new(&words, &cfg);
    let t2 = cpu_seconds(&wall);
    let mut merges = 0usize;
    while trainer.step().is_some() {
        merges += 1;
    }
    let work = trainer.work();
    // Building the model (vocabulary map, merge ranks) counts as training, as it does in HF's `train`.
    let bpe = trainer.finish();
    let t3 = cpu_seconds(&wall);
    let total_words: u64 = words.iter().map(|(_, c)| c).sum();
    println!(
        "words_distinct={} words_total={} count_s={:.4} init_s={:.4} merge_s={:.4} merges={} vocab={} \
         words_visited={} symbols_scanned={} pair_updates={} heap_operations={} textbook_symbols={}",
        words.len(),
        total_words,
        t1 - t0,
        t2 - t1,
        t3 - t2,
        merges,
        bpe.vocab().len(),
        work.words_visited,
        work.symbols_scanned,
        work.pair_updates,
        work.heap_operations,
        work.textbook_symbols
    );
    if let Some(path) = merges_out {
        let mut out = String::new();
        for (l, r) in bpe.merges() {
            out.push_str(l);
            out.push(' ');
            out.push_str(r);
            out.push('\n');
        }
        std::fs::write(&path, out).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    for f in encode_files {
        let text =
            String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_else(|e| panic!("{f}: {e}")))
                .into_owned();
        let mut tokens = 0usize;
        for line in text.split_inclusive('\n') {
            tokens += bpe.encode(line, pre).len();
        }
        // Words in the everyday sense (runs of non-whitespace), the denominator of fertility.
        let mut n_words = 0usize;
        for_each_word(&text, PreTokenizer::Whitespace, |_| n_words += 1);
        println!(
            "file={f} bytes={} tokens={tokens} words={n_words}",
            text.len()
        );
    }
}

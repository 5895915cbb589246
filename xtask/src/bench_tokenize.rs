//! `cargo xtask bench-tokenize [--repeat N]`: the engine's BPE trainer against Hugging Face `tokenizers` (Rust
//! core, through its Python wheel) on the same real corpus, single-threaded on both sides, then fertility.
//!
//! 1. Fetches Debian packages with `apt-get download` and unpacks them with `dpkg-deb -x` into
//!    `target/bench-tokenize/`: the Python documentation (`python3.N-doc`; its `_sources/*.txt` are the English
//!    reStructuredText corpus) and the `fortunes*` packages (English, German, Spanish, Italian, Brazilian
//!    Portuguese, Russian, Polish, Czech) for fertility.
//! 2. Creates a venv there with `tokenizers` (pinned to the version the engine's tests were checked against).
//! 3. For each vocabulary size, trains byte-level BPE with the GPT-2 pre-tokeniser on the corpus with both
//!    trainers (each in its own process; HF with `TOKENIZERS_PARALLELISM=false` — the switch its `maybe_par_iter`
//!    wrapper reads — and `RAYON_NUM_THREADS=1` / `RAYON_RS_NUM_CPUS=1` for rayon's pool), checks that the merge
//!    lists are identical (or prints the first divergence), and prints words counted, CPU time to count (everything
//!    before the first merge), CPU time to merge, total, merges per second and peak memory (`/usr/bin/time`).
//!    Times are process CPU time from `/proc/self/schedstat` (the machine may be shared; CPU time is what each
//!    trainer cost), best of `--repeat` runs (default 3).
//! 4. Fertility: bytes per token and tokens per word of held-out fortunes in each language, for a byte-level
//!    vocabulary trained on the English corpus and one trained on a mix of all the languages.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `tokenizers` release whose output the engine's tests reproduce.
const TOKENIZERS_VERSION: &str = "0.23.3";
const VOCAB_SIZES: [usize; 2] = [8000, 32000];
/// (pre-tokeniser, alphabet): GPT-2's byte-level BPE, and character-level BPE on SentencePiece-style pieces
/// (no split at spaces inside the line's pieces: longer words, so merging weighs more than counting).
const SETUPS: [(&str, &str); 2] = [("gpt2", "bytes"), ("metaspace", "chars")];
const FERTILITY_VOCAB: usize = 32000;
/// (language, Debian package, directory under /usr/share/games/fortunes or a single file there; "" = top level).
const FORTUNES: [(&str, &str, &str); 8] = [
    ("en", "fortunes", ""),
    ("de", "fortunes-de", "de"),
    ("es", "fortunes-es", "es"),
    ("it", "fortunes-it", "it"),
    ("pt", "fortunes-br", "brasil"),
    ("ru", "fortunes-ru", "ru"),
    ("pl", "fortunes-pl", "pl"),
    ("cs", "fortunes-cs", "cs"),
];
/// Per language: at most this many bytes of fortunes go into the mixed training set (the first 80% of lines) …
const MIX_BYTES: usize = 1_000_000;
/// … and at most this many into the held-out text (the last 20%).
const EVAL_BYTES: usize = 250_000;

/// HF's side: train twice (no merges, to time everything before the first merge; then the full vocabulary),
/// print CPU times, write the merges.
const HF_SCRIPT: &str = r#"
import json, sys
from tokenizers import Tokenizer, models, trainers, pre_tokenizers
def cpu():  # this process's CPU seconds, as the engine's example measures them
    with open("/proc/self/schedstat") as f:
        return int(f.read().split()[0]) * 1e-9
def train(files, vocab_size):
    tok = Tokenizer(models.BPE())
    extra = {}
    if pre == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        extra["initial_alphabet"] = pre_tokenizers.ByteLevel.alphabet()
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=0, show_progress=False, **extra)
    t = cpu()
    tok.train(files, trainer)
    return cpu() - t, tok
pre, vocab_size, merges_out, files = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
count_s, _ = train(files, 1)            # a vocabulary already full: stops before the first merge
total_s, tok = train(files, vocab_size)
merges = json.loads(tok.to_str())["model"]["merges"]
with open(merges_out, "w", encoding="utf-8") as f:
    f.write("".join(f"{a} {b}\n" for a, b in merges))
print(f"count_s={count_s:.4f} merge_s={total_s - count_s:.4f} total_s={total_s:.4f} merges={len(merges)} vocab={tok.get_vocab_size()}")
"#;

pub fn main(args: &[String]) -> Result<i32, String> {
    let mut repeat = 3usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--repeat" => {
                repeat = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--repeat needs a positive number")?;
            }
            other => {
                return Err(format!(
                    "bench-tokenize: unknown argument {other:?} (only --repeat N)"
                ))
            }
        }
    }
    let root = workspace_root();
    let work = root.join("target/bench-tokenize");
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let unpacked = fetch_packages(&work)?;
    let corpus = build_corpus(&work, &unpacked)?;
    let langs = build_fortunes(&work, &unpacked)?;
    let python = venv(&work)?;
    let script = work.join("hf_train.py");
    fs::write(&script, HF_SCRIPT).map_err(|e| e.to_string())?;
    eprintln!("bench-tokenize: building the engine's example (release)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_ok(Command::new(&cargo).current_dir(&root).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "dlf-engine",
        "--example",
        "bpe_train",
    ]))?;
    let ours_bin = root.join("target/release/examples/bpe_train");
    let corpus_bytes = fs::metadata(&corpus).map_err(|e| e.to_string())?.len();

    println!();
    println!(
        "BPE training, min_frequency 0, one thread each; corpus: {} ({:.1} MB); CPU seconds, best of {repeat}",
        corpus.strip_prefix(&root).unwrap_or(&corpus).display(),
        corpus_bytes as f64 / 1e6
    );
    println!();
    println!(
        "| trainer | pre-tokeniser / alphabet | vocab | merges | words counted (distinct) | count s | merge s | total s | merges/s | peak RSS MB |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut all_agree = true;
    let mut work_lines = Vec::new();
    for (pre, alphabet) in SETUPS {
        let setup = format!("{pre} / {alphabet}");
        for vocab in VOCAB_SIZES {
            let ours_merges = work.join(format!("merges-ours-{pre}-{vocab}.txt"));
            let hf_merges = work.join(format!("merges-hf-{pre}-{vocab}.txt"));
            let mut ours: Option<Run> = None;
            let mut hf: Option<Run> = None;
            for _ in 0..repeat {
                let mut cmd = Command::new(&ours_bin);
                cmd.args([
                    "--pre",
                    pre,
                    "--alphabet",
                    alphabet,
                    "--vocab-size",
                    &vocab.to_string(),
                    "--merges-out",
                ])
                .arg(&ours_merges)
                .arg(&corpus);
                let r = measured(&mut cmd)?;
                ours = Some(best(ours, r));
                let mut cmd = Command::new(&python);
                cmd.env("TOKENIZERS_PARALLELISM", "false")
                    .env("RAYON_NUM_THREADS", "1")
                    .env("RAYON_RS_NUM_CPUS", "1")
                    .arg(&script)
                    .arg(pre)
                    .arg(vocab.to_string())
                    .arg(&hf_merges)
                    .arg(&corpus);
                let r = measured(&mut cmd)?;
                hf = Some(best(hf, r));
            }
            let (ours, hf) = (ours.expect("repeat > 0"), hf.expect("repeat > 0"));
            let words = format!(
                "{} ({})",
                ours.get("words_total"),
                ours.get("words_distinct")
            );
            print_row("dlf-engine", &setup, vocab, &ours, &words);
            print_row(
                &format!("HF tokenizers {TOKENIZERS_VERSION}"),
                &setup,
                vocab,
                &hf,
                "same input",
            );
            match first_divergence(&ours_merges, &hf_merges)? {
                None => println!("|  | {setup} | {vocab} | merge lists identical | | | | | | |"),
                Some(d) => {
                    all_agree = false;
                    println!("|  | {setup} | {vocab} | merge lists DIFFER: {d} | | | | | | |");
                }
            }
            let merges = ours.num("merges");
            work_lines.push(format!(
            "{setup}, {vocab}: {:.1} word visits and {:.0} symbols read per merge; a textbook recount reads {:.0} \
             symbols per merge ({:.0}x more)",
            ours.num("words_visited") / merges,
            ours.num("symbols_scanned") / merges,
            ours.num("textbook_symbols") / merges,
            ours.num("textbook_symbols") / ours.num("symbols_scanned"),
        ));
        }
    }
    println!();
    println!("(count = everything before the first merge: reading lines, pre-tokenising, counting words, the");
    println!(" initial pair counts; HF's is a run with vocab_size 1. RSS of HF includes the Python interpreter.)");
    println!();
    println!("Work of the engine's incremental trainer (set-up included) against the textbook loop's recounts:");
    println!();
    for l in work_lines {
        println!("- {l}");
    }

    fertility(&ours_bin, &work, &corpus, &langs)?;
    Ok(if all_agree { 0 } else { 1 })
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// One measured run: the `key=value` pairs it printed, plus `rss_mb` from /usr/bin/time when available.
#[derive(Debug, Clone)]
struct Run(BTreeMap<String, String>);

impl Run {
    fn get(&self, k: &str) -> &str {
        self.0.get(k).map_or("?", String::as_str)
    }
    fn num(&self, k: &str) -> f64 {
        self.get(k).parse().unwrap_or(f64::NAN)
    }
    fn total(&self) -> f64 {
        let t = self.num("total_s");
        if t.is_nan() {
            self.num("count_s") + self.num("init_s") + self.num("merge_s")
        } else {
            t
        }
    }
}

/// Keeps the faster of two runs (by total CPU time).
fn best(prev: Option<Run>, r: Run) -> Run {
    match prev {
        Some(p) if p.total() <= r.total() => p,
        _ => r,
    }
}

fn print_row(name: &str, setup: &str, vocab: usize, r: &Run, words: &str) {
    // Our "count" is counting words plus the trainer's set-up (initial pair counts), HF's is its no-merge run.
    let count = if r.0.contains_key("init_s") {
        r.num("count_s") + r.num("init_s")
    } else {
        r.num("count_s")
    };
    let merge = r.num("merge_s");
    let merges: f64 = r.num("merges");
    println!(
        "| {name} | {setup} | {vocab} | {} | {words} | {count:.3} | {merge:.3} | {:.3} | {:.0} | {} |",
        r.get("merges"),
        r.total(),
        merges / merge,
        r.get("rss_mb")
    );
}

/// Runs a command under `/usr/bin/time -f %M` (peak RSS in KB) when that exists, parsing its last stdout line.
fn measured(cmd: &mut Command) -> Result<Run, String> {
    let time = Path::new("/usr/bin/time");
    let mut full = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f")
            .arg("rss_kb=%M")
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c
    } else {
        let mut c = Command::new(cmd.get_program());
        c.args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c
    };
    let shown = format!("{full:?}");
    let out = full
        .output()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut map = BTreeMap::new();
    if let Some(line) = stdout.lines().find(|l| l.contains("merge_s=")) {
        map.extend(parse_kv(line));
    }
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        if let Some(kb) = line.strip_prefix("rss_kb=") {
            let kb: f64 = kb.trim().parse().unwrap_or(f64::NAN);
            map.insert("rss_mb".to_string(), format!("{:.0}", kb / 1024.0));
        }
    }
    Ok(Run(map))
}

fn parse_kv(line: &str) -> impl Iterator<Item = (String, String)> + '_ {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
}

fn first_divergence(a: &Path, b: &Path) -> Result<Option<String>, String> {
    let read = |p: &Path| fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let (a, b) = (read(a)?, read(b)?);
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    for (i, (x, y)) in la.iter().zip(&lb).enumerate() {
        if x != y {
            return Ok(Some(format!("first at merge {i}: ours {x:?}, HF {y:?}")));
        }
    }
    Ok((la.len() != lb.len()).then(|| format!("ours has {} merges, HF {}", la.len(), lb.len())))
}

fn run_ok(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Downloads and unpacks the packages once; returns the unpacked root.
fn fetch_packages(work: &Path) -> Result<PathBuf, String> {
    let debs = work.join("debs");
    let unpacked = work.join("root");
    let done = work.join("root/.unpacked");
    if done.exists() {
        return Ok(unpacked);
    }
    fs::create_dir_all(&debs).map_err(|e| e.to_string())?;
    let doc = python_doc_package()?;
    let mut packages = vec![doc];
    packages.extend(FORTUNES.iter().map(|(_, p, _)| p.to_string()));
    eprintln!("bench-tokenize: apt-get download {}", packages.join(" "));
    let download = |pkgs: &[String]| {
        run_ok(
            Command::new("apt-get")
                .current_dir(&debs)
                .arg("download")
                .args(pkgs),
        )
    };
    if download(&packages).is_err() {
        eprintln!("bench-tokenize: download failed; running apt-get update once and retrying");
        run_ok(Command::new("apt-get").args(["update", "-qq"]))?;
        download(&packages)?;
    }
    fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
    for entry in fs::read_dir(&debs).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "deb") {
            run_ok(Command::new("dpkg-deb").arg("-x").arg(&path).arg(&unpacked))?;
        }
    }
    fs::write(&done, "").map_err(|e| e.to_string())?;
    Ok(unpacked)
}

/// The newest `python3.N-doc` apt knows.
fn python_doc_package() -> Result<String, String> {
    let out = Command::new("apt-cache")
        .args(["search", "--names-only", r"^python3\.[0-9]+-doc$"])
        .output()
        .map_err(|e| format!("apt-cache: {e} (this benchmark needs Debian's apt)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<(u32, String)> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|n| {
            let minor = n
                .strip_prefix("python3.")?
                .strip_suffix("-doc")?
                .parse()
                .ok()?;
            Some((minor, n.to_string()))
        })
        .collect();
    names.sort();
    names
        .pop()
        .map(|(_, n)| n)
        .ok_or_else(|| "apt knows no python3.N-doc package (run apt-get update)".to_string())
}

fn sorted_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    pred: &dyn Fn(&Path) -> bool,
    recurse: bool,
) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let meta = fs::symlink_metadata(&p).map_err(|e| e.to_string())?;
        if meta.is_dir() {
            if recurse {
                sorted_files(&p, out, pred, recurse)?;
            }
        } else if meta.is_file() && pred(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Concatenates the documentation's `_sources/**/*.txt` (sorted by path) into one file.
fn build_corpus(work: &Path, unpacked: &Path) -> Result<PathBuf, String> {
    let out = work.join("python-docs.txt");
    if out.exists() {
        return Ok(out);
    }
    let doc_root = unpacked.join("usr/share/doc");
    let mut sources = None;
    for e in fs::read_dir(&doc_root).map_err(|e| format!("{}: {e}", doc_root.display()))? {
        let p = e.map_err(|e| e.to_string())?.path().join("html/_sources");
        if p.is_dir() {
            sources = Some(p);
        }
    }
    let sources = sources.ok_or("no html/_sources in the unpacked Python documentation")?;
    let mut files = Vec::new();
    sorted_files(
        &sources,
        &mut files,
        &|p| p.extension().is_some_and(|e| e == "txt"),
        true,
    )?;
    let mut text = Vec::new();
    for f in files {
        text.extend(fs::read(&f).map_err(|e| e.to_string())?);
    }
    fs::write(&out, text).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Per language: held-out fortunes (`eval-LANG.txt`) and training fortunes; returns (language, eval file) and
/// writes `mix.txt`, the training parts of every language.
fn build_fortunes(work: &Path, unpacked: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let base = unpacked.join("usr/share/games/fortunes");
    let mut mix = String::new();
    let mut out = Vec::new();
    for (lang, _, place) in FORTUNES {
        let mut files = Vec::new();
        let is_text = |p: &Path| !p.extension().is_some_and(|e| e == "dat" || e == "u8");
        if place.is_empty() {
            sorted_files(&base, &mut files, &is_text, false)?;
        } else if base.join(place).is_dir() {
            sorted_files(&base.join(place), &mut files, &is_text, false)?;
        } else {
            files.push(base.join(place));
        }
        let mut lines: Vec<String> = Vec::new();
        for f in files {
            // Files that are not UTF-8 (a few legacy encodings remain in these packages) are left out.
            let Ok(text) =
                String::from_utf8(fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?)
            else {
                continue;
            };
            lines.extend(
                text.lines()
                    .filter(|l| l.trim() != "%" && !l.trim().is_empty())
                    .map(|l| format!("{l}\n")),
            );
        }
        let cut = lines.len() * 4 / 5;
        let take = |ls: &[String], cap: usize| {
            let mut s = String::new();
            for l in ls {
                if s.len() + l.len() > cap {
                    break;
                }
                s.push_str(l);
            }
            s
        };
        mix.push_str(&take(&lines[..cut], MIX_BYTES));
        let eval = work.join(format!("eval-{lang}.txt"));
        fs::write(&eval, take(&lines[cut..], EVAL_BYTES)).map_err(|e| e.to_string())?;
        out.push((lang.to_string(), eval));
    }
    fs::write(work.join("mix.txt"), mix).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The venv with `tokenizers`, created once; returns its python.
fn venv(work: &Path) -> Result<PathBuf, String> {
    let dir = work.join("venv");
    let python = dir.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", &format!("import tokenizers, sys; sys.exit(tokenizers.__version__ != '{TOKENIZERS_VERSION}')")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "bench-tokenize: creating {} with tokenizers=={TOKENIZERS_VERSION}",
            dir.display()
        );
        run_ok(Command::new("python3").arg("-m").arg("venv").arg(&dir))?;
        run_ok(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "-q",
            &format!("tokenizers=={TOKENIZERS_VERSION}"),
        ]))?;
    }
    Ok(python)
}

fn fertility(
    ours_bin: &Path,
    work: &Path,
    corpus: &Path,
    langs: &[(String, PathBuf)],
) -> Result<(), String> {
    let mix = work.join("mix.txt");
    let mut tables = Vec::new();
    for train in [corpus, mix.as_path()] {
        let mut cmd = Command::new(ours_bin);
        cmd.arg("--vocab-size")
            .arg(FERTILITY_VOCAB.to_string())
            .arg(train)
            .arg("--encode");
        for (_, f) in langs {
            cmd.arg(f);
        }
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let rows: Vec<BTreeMap<String, String>> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("file="))
            .map(|l| parse_kv(l).collect())
            .collect();
        tables.push(rows);
    }
    println!();
    println!(
        "Fertility: held-out fortunes (last 20% of each language's lines), byte-level BPE, {FERTILITY_VOCAB} tokens, \
         GPT-2 pre-tokeniser; vocabulary trained on the English corpus vs on a mix of every language's first 80%"
    );
    println!();
    println!("| language | bytes | words | bytes/token (English vocab) | tokens/word (English) | bytes/token (mix vocab) | tokens/word (mix) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (i, (lang, _)) in langs.iter().enumerate() {
        let num = |t: &BTreeMap<String, String>, k: &str| {
            t.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        let (en, mx) = (&tables[0][i], &tables[1][i]);
        println!(
            "| {lang} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            num(en, "bytes"),
            num(en, "words"),
            num(en, "bytes") / num(en, "tokens"),
            num(en, "tokens") / num(en, "words"),
            num(mx, "bytes") / num(mx, "tokens"),
            num(mx, "tokens") / num(mx, "words"),
        );
    }
    Ok(())
}

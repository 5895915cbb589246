//! `dlf drill`: the practice queue in the terminal, on the same progress file as `dlf serve`.
//!
//! One card at a time, plain lines in and out (so it works in any terminal, over ssh and through a pipe):
//!
//! - a prompt card shows the question; the learner answers aloud or types an answer, then sees the rubric
//!   as numbered points (what a hire says, then what a strong hire adds) and types the numbers covered;
//!   [`dlf_store::grade_prompt`] turns the ticks into a rating;
//! - a derivation drill shows the prompt and the time budget; the clock runs until the first Enter, which
//!   reveals the first step, and each Enter reveals the next; the learner then self-checks (got it, partly,
//!   missed) and [`dlf_store::grade_derive`] rates it against the time taken;
//! - an estimation card draws a fresh problem from the engine, reads a number (`1.2e9`, `1.2G`, `1,200`),
//!   shows the verdict, the truth and the worked solution; [`dlf_store::grade_estimate`] rates it.
//!
//! Each answer is committed to the store before the next card is shown, so quitting (`q` at any prompt,
//! Ctrl-D, or closing the terminal) loses nothing that was acknowledged. Maths is shown as its LaTeX source.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Instant;

use anyhow::{bail, Result};
use dlf_content::practice::{
    tolerance_text, Card, CardKind, Deck, DeriveCard, EstimateCard, PromptCard,
};
use dlf_store::chrono::{DateTime, Utc};
use dlf_store::{grade_derive, grade_estimate, grade_prompt, NewReview, Rating, SelfCheck, Store};
use serde_json::json;

use crate::progress::card_refs;

/// The options of `dlf drill`.
#[derive(Debug, clap::Args)]
pub struct DrillArgs {
    /// Practise only the cards of this lesson (it must be marked done).
    #[arg(long, value_name = "ID")]
    pub lesson: Option<String>,
    /// Review at most N cards in this session.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Practise only cards of this kind.
    #[arg(long, value_enum, value_name = "KIND")]
    pub kind: Option<Kind>,
    /// Seed of the first estimation problem (each later one adds 1), to replay a problem; without it every
    /// problem is drawn fresh.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// The three kinds of card, for `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Interview prompts graded by rubric points.
    Prompt,
    /// Timed derivation drills.
    Derive,
    /// Estimation problems with fresh numbers.
    Estimate,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Prompt => "prompt",
            Kind::Derive => "derive",
            Kind::Estimate => "estimate",
        }
    }
}

/// Whether to colour the output: only on a terminal, and never when `NO_COLOR` is set to anything non-empty
/// (https://no-color.org).
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A line from the learner, or the wish to stop.
enum Reply {
    Line(String),
    Quit,
}

/// The session's input and output.
struct Session<'a, R, W> {
    input: R,
    out: &'a mut W,
    color: bool,
    /// Whether to show a live countdown during a derivation (on standard error, when it and standard input
    /// are terminals).
    countdown: bool,
    /// Columns to wrap text at: [`terminal_width`].
    width: usize,
}

/// The width to wrap at: `COLUMNS` when set (as `ls` and `man` honour it), else the terminal's own width when
/// standard output is one, else 80.
pub fn terminal_width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return columns;
    }
    terminal_size::terminal_size()
        .map(|(w, _)| usize::from(w.0))
        .filter(|w| *w > 0)
        .unwrap_or(80)
}

/// A live "N s left" line on standard error, redrawn every second until dropped. Standard error is used
/// because standard output stays locked by the session; the line is only drawn while the learner is thinking
/// (no typing expected), so it cannot mix with their input.
struct Countdown {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Countdown {
    fn start(started: Instant, allowed: u32) -> Countdown {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut shown = u64::MAX;
            while !flag.load(Ordering::Relaxed) {
                let elapsed = started.elapsed().as_secs();
                if elapsed != shown {
                    shown = elapsed;
                    let line = match u64::from(allowed).checked_sub(elapsed) {
                        Some(left) => format!("\r  {left:>3} s left   "),
                        None => format!("\r  {:>3} s over  ", elapsed - u64::from(allowed)),
                    };
                    let mut err = std::io::stderr().lock();
                    // A failed write to the terminal only loses the countdown, never the answer.
                    let _ = err.write_all(line.as_bytes());
                    let _ = err.flush();
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        });
        Countdown {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Countdown {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<R: BufRead, W: Write> Session<'_, R, W> {
    /// Prints `prompt` and reads one line; `q`/`quit` or the end of input means quit.
    fn ask(&mut self, prompt: &str) -> Result<Reply> {
        write!(self.out, "{prompt}")?;
        self.out.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            // Ctrl-D: finish the prompt's line so the shell prompt starts on a fresh one.
            writeln!(self.out)?;
            return Ok(Reply::Quit);
        }
        let line = line.trim_end_matches(['\n', '\r']).to_owned();
        if matches!(line.trim().to_ascii_lowercase().as_str(), "q" | "quit") {
            return Ok(Reply::Quit);
        }
        Ok(Reply::Line(line))
    }

    fn style(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn heading(&mut self, text: &str) -> Result<()> {
        let styled = self.style("1", text);
        writeln!(self.out, "{styled}")?;
        Ok(())
    }

    /// Prints Markdown source as terminal text after `prefix`, wrapped at word boundaries to the terminal's
    /// width; later lines are indented to line up with the first.
    fn text(&mut self, markdown: &str, prefix: &str) -> Result<()> {
        let indent = " ".repeat(prefix.chars().count());
        let room = self.width.saturating_sub(indent.len()).max(20);
        let mut first = true;
        for paragraph in reflow(&terminal_text(markdown)) {
            for line in wrap(&paragraph, room) {
                let lead = if first { prefix } else { &indent };
                first = false;
                writeln!(self.out, "{lead}{line}")?;
            }
        }
        Ok(())
    }
}

/// What a card's answer came to: the rating and what to store about it.
struct Answer {
    rating: Rating,
    detail: serde_json::Value,
}

/// Runs a drill session. `input` is the learner's keyboard (standard input), `out` the terminal.
pub fn run(
    args: &DrillArgs,
    store: &Store,
    deck: impl FnOnce() -> Result<Deck>,
    input: impl BufRead,
    out: &mut impl Write,
    color: bool,
) -> Result<()> {
    let countdown = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut session = Session {
        input,
        out,
        color,
        countdown,
        width: terminal_width(),
    };
    let done = store.lessons_done()?;
    if done.is_empty() {
        writeln!(
            session.out,
            "No lesson is marked done yet, so there is nothing to practise.\n\
             Mark one with `dlf progress done 01-backprop`, or press \"Mark done\" at the end of a lesson in `dlf serve`."
        )?;
        return Ok(());
    }
    // The course is loaded only once there is something to practise: rendering every lesson takes a moment.
    let deck = &deck()?;
    let mut refs = card_refs(deck);
    if let Some(lesson) = &args.lesson {
        if !deck.cards.iter().any(|c| &c.lesson == lesson) {
            let mut lessons: Vec<&str> = deck.cards.iter().map(|c| c.lesson.as_str()).collect();
            lessons.dedup();
            bail!(
                "no lesson {lesson:?} has practice cards; lessons with cards: {}",
                lessons.join(", ")
            );
        }
        if !done.iter().any(|d| &d.lesson == lesson) {
            writeln!(
                session.out,
                "Lesson {lesson} is not marked done, so its cards are not in the queue.\n\
                 Mark it with `dlf progress done {lesson}`, or in the browser."
            )?;
            return Ok(());
        }
        refs.retain(|r| r.lesson == lesson);
    }
    if let Some(kind) = args.kind {
        refs.retain(|r| {
            deck.card(r.id)
                .is_some_and(|c| c.kind.name() == kind.name())
        });
    }
    let queue = store.queue(&refs, Utc::now(), args.limit)?;
    if queue.is_empty() {
        let next = refs
            .iter()
            .filter(|r| done.iter().any(|d| d.lesson == r.lesson))
            .filter_map(|r| store.schedule(r.id).transpose())
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min_by_key(|s| s.due);
        match next {
            Some(s) => writeln!(
                session.out,
                "Nothing is due now. The next card ({}) is due {}.",
                s.card,
                when(s.due, Utc::now())
            )?,
            None => writeln!(
                session.out,
                "The lessons marked done have no practice cards yet."
            )?,
        }
        return Ok(());
    }
    let due = queue.iter().filter(|e| e.due.is_some()).count();
    writeln!(
        session.out,
        "{} card{}: {due} due, {} new. Type q at any prompt (or press Ctrl-D) to stop; every answer is saved as you go.",
        queue.len(),
        if queue.len() == 1 { "" } else { "s" },
        queue.len() - due
    )?;
    let mut reviewed = 0;
    let mut estimates = 0u64;
    for (i, entry) in queue.iter().enumerate() {
        let Some(card) = deck.card(&entry.card) else {
            continue;
        };
        writeln!(session.out)?;
        let header = format!("[{}/{}] {}", i + 1, queue.len(), card.id);
        session.heading(&header)?;
        // A prompt card's title is its question, which the card prints in full next, so name the kind instead.
        match &card.kind {
            CardKind::Prompt(prompt) => writeln!(
                session.out,
                "{}: {} interview prompt",
                card.lesson_title,
                prompt.level.name()
            )?,
            _ => writeln!(
                session.out,
                "{}: {}",
                card.lesson_title,
                terminal_text(&card.title)
            )?,
        }
        let answer = match &card.kind {
            CardKind::Prompt(prompt) => prompt_card(&mut session, prompt)?,
            CardKind::Derive(derive) => derive_card(&mut session, derive)?,
            CardKind::Estimate(estimate) => {
                let seed = match args.seed {
                    Some(seed) => seed.wrapping_add(estimates),
                    None => fresh_seed(),
                };
                estimates += 1;
                estimate_card(&mut session, estimate, seed)?
            }
        };
        let Some(answer) = answer else {
            break;
        };
        let recorded = record(store, card, answer.rating, answer.detail)?;
        reviewed += 1;
        let rating = session.style("1", answer.rating.name());
        writeln!(
            session.out,
            "Rated {rating}; saved. Next review {}.",
            when(recorded.schedule.due, Utc::now())
        )?;
    }
    writeln!(session.out)?;
    writeln!(
        session.out,
        "Session over: {reviewed} card{} reviewed and saved to {}.",
        if reviewed == 1 { "" } else { "s" },
        store.path().display()
    )?;
    Ok(())
}

fn record(
    store: &Store,
    card: &Card,
    rating: Rating,
    detail: serde_json::Value,
) -> Result<dlf_store::Recorded> {
    Ok(store.record_review(&NewReview {
        card: card.id.clone(),
        lesson: card.lesson.clone(),
        rating,
        at: Utc::now(),
        detail,
    })?)
}

/// A seed no earlier session used: the clock's nanoseconds mixed with the process id.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32)
}

fn prompt_card<R: BufRead, W: Write>(
    s: &mut Session<'_, R, W>,
    card: &PromptCard,
) -> Result<Option<Answer>> {
    s.text(&card.question.markdown, "  ")?;
    writeln!(s.out)?;
    let typed =
        match s.ask("Answer aloud, or type your answer; press Enter to see the rubric.\n> ")? {
            Reply::Quit => return Ok(None),
            Reply::Line(line) => line,
        };
    writeln!(s.out)?;
    s.heading("What a hire says:")?;
    let mut number = 0;
    for point in &card.hire {
        number += 1;
        s.text(&point.markdown, &format!("  {number:>2}. "))?;
    }
    s.heading("What a strong hire adds:")?;
    for point in &card.strong {
        number += 1;
        s.text(&point.markdown, &format!("  {number:>2}. "))?;
    }
    let total = number;
    let ticked = loop {
        let line = match s.ask(
            "Which points did you cover? Type their numbers (like \"1 3\"), or press Enter for none.\n> ",
        )? {
            Reply::Quit => return Ok(None),
            Reply::Line(line) => line,
        };
        match parse_ticks(&line, total) {
            Ok(ticked) => break ticked,
            Err(message) => writeln!(s.out, "{message}")?,
        }
    };
    let hire: Vec<bool> = (1..=card.hire.len()).map(|n| ticked.contains(&n)).collect();
    let strong: Vec<bool> = (card.hire.len() + 1..=total)
        .map(|n| ticked.contains(&n))
        .collect();
    let count = |v: &[bool]| v.iter().filter(|&&t| t).count();
    let rating = grade_prompt(count(&hire), hire.len(), count(&strong), strong.len());
    writeln!(
        s.out,
        "You covered {} of {} hire points and {} of {} strong points.",
        count(&hire),
        hire.len(),
        count(&strong),
        strong.len()
    )?;
    if !card.weak.markdown.is_empty() {
        s.heading("A weak answer, for contrast:")?;
        s.text(&card.weak.markdown, "  ")?;
    }
    if !card.followups.markdown.is_empty() {
        s.heading("Follow-ups an interviewer may ask:")?;
        s.text(&card.followups.markdown, "  ")?;
    }
    let mut detail = json!({"hire": hire, "strong": strong});
    if !typed.trim().is_empty() {
        detail["answer"] = json!(typed.trim());
    }
    Ok(Some(Answer { rating, detail }))
}

/// Parses rubric point numbers separated by spaces or commas; each must be between 1 and `total`.
fn parse_ticks(line: &str, total: usize) -> Result<Vec<usize>, String> {
    let mut ticked = Vec::new();
    for word in line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
    {
        match word.parse::<usize>() {
            Ok(n) if (1..=total).contains(&n) => {
                if !ticked.contains(&n) {
                    ticked.push(n);
                }
            }
            _ => {
                return Err(format!(
                    "{word:?} is not a point number; type numbers from 1 to {total} separated by spaces."
                ))
            }
        }
    }
    Ok(ticked)
}

fn derive_card<R: BufRead, W: Write>(
    s: &mut Session<'_, R, W>,
    card: &DeriveCard,
) -> Result<Option<Answer>> {
    s.text(&card.prompt.markdown, "  ")?;
    writeln!(s.out)?;
    let allowed = f64::from(card.seconds);
    let started = Instant::now();
    let ticker = s.countdown.then(|| Countdown::start(started, card.seconds));
    let reply = s.ask(&format!(
        "You have {} s: derive it on paper or aloud. The clock stops when you press Enter to reveal the first step.\n> ",
        card.seconds
    ))?;
    let seconds = started.elapsed().as_secs_f64();
    drop(ticker);
    if let Reply::Quit = reply {
        return Ok(None);
    }
    let verdict = if seconds <= allowed {
        format!("{seconds:.0} s of your {} s", card.seconds)
    } else {
        format!("{seconds:.0} s, over the {} s budget", card.seconds)
    };
    writeln!(s.out, "Time: {verdict}.")?;
    let steps = card.steps.len();
    for (i, step) in card.steps.iter().enumerate() {
        s.text(&step.markdown, &format!("  step {}/{steps}: ", i + 1))?;
        if i + 1 < steps {
            if let Reply::Quit = s.ask("  (Enter for the next step) ")? {
                return Ok(None);
            }
        }
    }
    if let Some(answer) = &card.answer {
        s.heading("Result:")?;
        s.text(&answer.markdown, "  ")?;
    }
    let self_check = loop {
        let line = match s.ask("Did you get it? (g)ot it, (p)artly, (m)issed\n> ")? {
            Reply::Quit => return Ok(None),
            Reply::Line(line) => line,
        };
        match line.trim().to_ascii_lowercase().as_str() {
            "g" | "got" | "got it" => break SelfCheck::Got,
            "p" | "partly" => break SelfCheck::Partly,
            "m" | "missed" => break SelfCheck::Missed,
            _ => writeln!(s.out, "Type g, p or m.")?,
        }
    };
    let rating = grade_derive(self_check, seconds, allowed);
    let detail = json!({"self_check": self_check.name(), "seconds": seconds, "allowed": allowed});
    Ok(Some(Answer { rating, detail }))
}

fn estimate_card<R: BufRead, W: Write>(
    s: &mut Session<'_, R, W>,
    card: &EstimateCard,
    seed: u64,
) -> Result<Option<Answer>> {
    let problem = dlf_engine::estimate::generate(card.generator, seed)?;
    s.text(&problem.question, "  ")?;
    writeln!(s.out)?;
    let unit = if problem.unit.is_empty() {
        String::new()
    } else {
        format!(" in {}", problem.unit)
    };
    let value = loop {
        let line = match s.ask(&format!(
            "Your answer{unit}, accepted {}. Type the number, like 2500, 2.5e3 or 2.5 × 10^3:\n> ",
            tolerance_text(problem.rel_tolerance)
        ))? {
            Reply::Quit => return Ok(None),
            Reply::Line(line) => line,
        };
        match dlf_content::answer::parse_answer(&line, &problem.unit) {
            Ok(value) => break value,
            Err(why) => writeln!(s.out, "{why}.")?,
        }
    };
    let verdict = problem.check(value);
    let rating = grade_estimate(verdict.within, verdict.rel_error, problem.rel_tolerance);
    let headline = if verdict.within {
        s.style("32", "Within tolerance.")
    } else {
        s.style("31", "Outside tolerance.")
    };
    let unit_suffix = if problem.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", problem.unit)
    };
    writeln!(
        s.out,
        "{headline} Truth: {}{unit_suffix}; you said {}{unit_suffix} (off by {:.1} %).",
        show_number(problem.answer),
        show_number(value),
        100.0 * verdict.rel_error
    )?;
    s.heading("Worked solution:")?;
    for (i, step) in problem.solution.iter().enumerate() {
        s.text(step, &format!("  {}. ", i + 1))?;
    }
    let detail = json!({
        "generator": problem.generator,
        "seed": seed,
        "value": value,
        "answer": problem.answer,
        "rel_error": verdict.rel_error,
        "within": verdict.within,
    });
    Ok(Some(Answer { rating, detail }))
}

/// A number for the terminal: up to six significant figures, scientific notation outside [10⁻³, 10⁶).
fn show_number(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        let text = format!("{x:.6}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_owned()
    } else {
        let text = format!("{x:.5e}");
        match text.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => text,
        }
    }
}

/// When `due` is, relative to `now`, in words: "in 10 min (21:45 UTC)", "in 3 days (2026-12-01)".
fn when(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (due - now).num_minutes();
    if minutes <= 0 {
        "now".to_owned()
    } else if minutes < 60 {
        format!("in {minutes} min ({} UTC)", due.format("%H:%M"))
    } else if minutes < 48 * 60 {
        format!(
            "in {} h ({} UTC)",
            minutes / 60,
            due.format("%Y-%m-%d %H:%M")
        )
    } else {
        format!(
            "in {} days ({})",
            minutes / (24 * 60),
            due.format("%Y-%m-%d")
        )
    }
}

/// Joins the source lines of each Markdown paragraph into one line (a line break inside a paragraph is only
/// where the author's editor wrapped), keeping blank lines, list items and indented lines as line starts.
fn reflow(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut joining = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let starts_item = trimmed.starts_with("* ")
            || trimmed.starts_with("- ")
            || trimmed
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if line.trim().is_empty() {
            out.push(String::new());
            joining = false;
        } else if joining && !starts_item && !line.starts_with(' ') {
            let last = out.last_mut().expect("joining follows a line");
            last.push(' ');
            last.push_str(trimmed);
        } else {
            out.push(line.to_owned());
            joining = true;
        }
    }
    out
}

/// Columns a string takes in a terminal: one per character, none for combining marks (the hat of `ŷ`).
fn columns(text: &str) -> usize {
    text.chars()
        .filter(|c| !matches!(*c as u32, 0x300..=0x36f | 0x20d0..=0x20ff))
        .count()
}

/// Splits one line into lines of at most `width` columns, breaking only at spaces; a word longer than the
/// width (a long formula without spaces) gets a line of its own rather than being cut.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    // Keep the line's own indentation (list items, nested text).
    let lead: String = line.chars().take_while(|c| *c == ' ').collect();
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        let needed = if current.is_empty() {
            columns(&lead) + columns(word)
        } else {
            columns(&current) + 1 + columns(word)
        };
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if current.is_empty() {
            current.push_str(&lead);
        } else {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Markdown source as terminal text: Markdown emphasis (`*`, `_` around words) is removed; maths (`$...$`,
/// `$$...$$`) becomes readable Unicode ([`dlf_content::plain_maths`]: `∂ℓ/∂p = −(1/p_y)·e_y`, never LaTeX
/// source); code spans are kept exactly.
pub fn terminal_text(markdown: &str) -> String {
    let chars: Vec<char> = markdown.chars().collect();
    let mut out = String::with_capacity(markdown.len());
    let mut math: Option<String> = None;
    let mut in_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        i += 1;
        if let Some(formula) = &mut math {
            if c == '$' && prev != Some('\\') {
                // `$$` closes display maths as one delimiter, `$` inline maths.
                if next == Some('$') {
                    i += 1;
                }
                out.push_str(&dlf_content::plain_maths::to_unicode(formula));
                math = None;
            } else {
                formula.push(c);
            }
            continue;
        }
        match c {
            '$' if !in_code && prev != Some('\\') => {
                if next == Some('$') {
                    i += 1;
                }
                math = Some(String::new());
                continue;
            }
            '`' => in_code = !in_code,
            '*' if !in_code => {
                // A list bullet "* " at the start of a line stays; emphasis markers go.
                let line_start = prev.is_none_or(|p| p == '\n');
                if !(line_start && next == Some(' ')) {
                    continue;
                }
            }
            '_' if !in_code => {
                // Intra-word underscores (snake_case names) stay; emphasis underscores touch a non-word side.
                let word = |ch: Option<char>| ch.is_some_and(|ch| ch.is_alphanumeric());
                if !(word(prev) && word(next)) {
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
    }
    // An unclosed `$`: the rest is maths all the same.
    if let Some(formula) = math {
        out.push_str(&dlf_content::plain_maths::to_unicode(&formula));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emphasis_goes_maths_reads_as_unicode() {
        assert_eq!(
            terminal_text(
                "The **fused** form keeps _every_ term: $x_i^* = a_{ij} * b$, see `snake_case`."
            ),
            "The fused form keeps every term: xᵢ* = aᵢⱼ ∗ b, see `snake_case`."
        );
        assert_eq!(
            terminal_text("* item with $p_y$\n* next"),
            "* item with p_y\n* next"
        );
        assert_eq!(terminal_text("max_norm stays"), "max_norm stays");
        assert_eq!(
            terminal_text("$$\\frac{\\partial L}{\\partial z_i} = p_i - y_i$$ *done*"),
            "∂L/∂zᵢ = pᵢ − yᵢ done"
        );
    }

    #[test]
    fn wraps_at_word_boundaries() {
        let text = "the derivative of the loss with respect to the logits is p minus y";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| columns(l) <= 20), "{lines:?}");
        assert_eq!(lines.join(" "), text, "no word is cut");
        assert_eq!(
            wrap("a_very_long_formula_without_spaces x", 10)[0],
            "a_very_long_formula_without_spaces"
        );
    }

    #[test]
    fn ticks_parse_and_reject() {
        assert_eq!(parse_ticks("1 3, 4", 5), Ok(vec![1, 3, 4]));
        assert_eq!(parse_ticks("", 5), Ok(vec![]));
        assert_eq!(parse_ticks("2 2", 5), Ok(vec![2]));
        assert!(parse_ticks("6", 5).is_err());
        assert!(parse_ticks("0", 5).is_err());
        assert!(parse_ticks("one", 5).is_err());
    }

    #[test]
    fn numbers_shown_briefly() {
        assert_eq!(show_number(1_234_567_890.0), "1.23457e9");
        assert_eq!(show_number(12.5), "12.5");
        assert_eq!(show_number(1536.0), "1536");
        assert_eq!(show_number(0.0), "0");
        assert_eq!(show_number(2.5e-5), "2.5e-5");
    }
}

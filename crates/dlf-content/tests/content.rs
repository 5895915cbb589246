//! Integration tests of the lesson pipeline: every kind of diagnostic with its file and line (fixtures under
//! tests/fixtures/), golden files of rendered bodies (tests/golden/<case>/{input.md, expected.html}; rewrite
//! them with `DLF_BLESS=1 cargo test -p dlf-content`), and the real course under content/.

use std::fs;
use std::path::{Path, PathBuf};

use dlf_content::{render_body, Diagnostic, Lesson, Site};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(relative: &str) -> PathBuf {
    manifest_dir().join("tests/fixtures").join(relative)
}

/// Renders a body-only fixture and returns its problems as (line, directive, message).
fn body_problems(relative: &str) -> Vec<(usize, Option<String>, String)> {
    body_problems_in(relative, None)
}

/// [`body_problems`] for the body of a lesson whose front matter declares `topic`.
fn body_problems_in(relative: &str, topic: Option<&str>) -> Vec<(usize, Option<String>, String)> {
    let path = fixture(relative);
    let text = fs::read_to_string(&path).expect("fixture exists");
    let (_, problems) = render_body(&path, &text, 1, topic);
    for problem in &problems {
        assert_eq!(
            problem.file, path,
            "every diagnostic names the file it is about"
        );
    }
    problems
        .into_iter()
        .map(|d| (d.line, d.directive, d.message))
        .collect()
}

/// Asserts that `actual` is exactly the `expected` list of (line, directive, message fragment), in order.
fn assert_problems(
    actual: &[(usize, Option<String>, String)],
    expected: &[(usize, Option<&str>, &str)],
) {
    let show = || {
        actual
            .iter()
            .map(|(l, d, m)| format!("  {l}: [{}] {m}", d.as_deref().unwrap_or("-")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(actual.len(), expected.len(), "got:\n{}", show());
    for ((line, directive, message), (want_line, want_directive, fragment)) in
        actual.iter().zip(expected)
    {
        assert_eq!(
            (line, directive.as_deref()),
            (want_line, *want_directive),
            "for `{fragment}`; got:\n{}",
            show()
        );
        assert!(
            message.contains(fragment),
            "message `{message}` lacks `{fragment}`; got:\n{}",
            show()
        );
    }
}

#[test]
fn diagnostic_display_is_file_line_directive_message() {
    let diagnostic = Diagnostic::in_directive(
        Path::new("content/lessons/01-backprop.md"),
        42,
        Some("prompt why-transpose"),
        "missing section `::weak`",
    );
    assert_eq!(
        diagnostic.to_string(),
        "content/lessons/01-backprop.md:42: [prompt why-transpose] missing section `::weak`"
    );
    let plain = Diagnostic::new(Path::new("content/track.toml"), 3, "duplicate stage id `a`");
    assert_eq!(
        plain.to_string(),
        "content/track.toml:3: duplicate stage id `a`"
    );
}

#[test]
fn grammar_problems_are_all_reported_with_lines() {
    assert_problems(
        &body_problems("grammar/grammar.md"),
        &[
            (3, Some("quiz q1"), "unknown directive `:::quiz`; known: `derive`, `widget`, `prompt`, `claim`, `sources`, `estimate`, `note`"),
            (7, Some("note"), "unknown key `colour` for `:::note`; known keys: `kind`"),
            (11, None, "`:::` closes no open directive"),
            (13, None, "malformed directive line `:::Derive id=x title=T`"),
            // The malformed line's own `:::` on line 14 is consumed with it, not reported again.
            (16, Some("derive"), "attribute `title`: the quoted value is never closed"),
            (23, Some("prompt p1"), "missing section `::strong`"),
            (23, Some("prompt p1"), "missing section `::weak`"),
            (23, Some("prompt p1"), "missing section `::followups`"),
            (27, Some("prompt p1"), "`::hire` must be one Markdown bullet list"),
            (28, Some("prompt p1"), "`:::claim` opened inside `:::prompt` (line 23): directives do not nest"),
            (28, Some("claim c1"), "quantity `x`"),
            (32, Some("note"), "`:::note` is never closed: end it with a line `:::`"),
        ],
    );
}

#[test]
fn section_and_value_problems_name_their_directive() {
    assert_problems(
        &body_problems("grammar/sections.md"),
        &[
            (
                1,
                Some("prompt why-transpose"),
                "bad value `hard` for key `level`: must be one of `core`, `stretch`",
            ),
            (1, Some("prompt why-transpose"), "missing section `::weak`"),
            (
                5,
                Some("prompt why-transpose"),
                "`::hire` must be one Markdown bullet list (lines starting with `- `), one rubric point per item",
            ),
            (
                7,
                Some("prompt why-transpose"),
                "`::strong` needs at least 2 rubric points (list items); found 1",
            ),
            (8, Some("prompt why-transpose"), "unknown section `::hint`"),
            (
                11,
                Some("prompt why-transpose"),
                "`::followups` must be a Markdown list",
            ),
            (
                14,
                Some("derive d"),
                "bad value `0` for key `seconds`: must be a whole number of at least 1",
            ),
            (
                15,
                Some("derive d"),
                "text before the first section of `:::derive`",
            ),
            (
                18,
                Some("derive d"),
                "duplicate section `::prompt` (first on line 16)",
            ),
            (
                24,
                Some("derive d"),
                "duplicate id `d`: `:::derive` on line 14 already uses it",
            ),
            (31, Some("note"), "missing key `kind`"),
            (35, Some("sources"), "`:::sources` needs a body"),
        ],
    );
}

#[test]
fn estimate_problems_name_their_line_and_generator() {
    // The lesson's topic is `optim`, so every `backprop.` generator is out of place; the unknown generator's
    // message lists the known ones.
    assert_problems(
        &body_problems_in("grammar/estimates.md", Some("optim")),
        &[
            (1, Some("claim c"), "`optim.made_up`"),
            (
                5,
                Some("estimate backprop.param_count"),
                "generator `backprop.param_count` belongs to the lesson whose topic is `backprop`, not this one: this lesson's topic is `optim` (its front matter), so its generators start with `optim.`",
            ),
            (
                8,
                Some("estimate backprop.no_such_thing"),
                "unknown estimation generator `backprop.no_such_thing`; known generators: `backprop.linear_backward_flops`, `backprop.mlp_step_flops`, `backprop.activation_memory`, `backprop.param_count`",
            ),
            (
                11,
                Some("estimate backprop.param_count"),
                "duplicate generator `backprop.param_count`: the `:::estimate` on line 5 already offers it",
            ),
            (11, Some("estimate backprop.param_count"), "belongs to the lesson whose topic is `backprop`"),
            (14, Some("estimate"), "missing key `generator`"),
            (15, Some("estimate"), "`:::estimate` has no sections, but found `::step`"),
            (19, Some("estimate backprop.linear_backward_flops"), "belongs to the lesson whose topic is `backprop`"),
            (20, Some("estimate backprop.linear_backward_flops"), "an estimate's introduction must be one paragraph"),
        ],
    );
}

#[test]
fn maths_and_shortcode_problems_point_at_their_line() {
    assert_problems(
        &body_problems("grammar/maths.md"),
        &[
            (3, None, "LaTeX error: unknown primitive command found in `x + \\foo`"),
            // The display formula opens on line 5; the bad command is on line 8.
            (8, None, "LaTeX error: unknown primitive command found in `b &= \\fract{1}{2}"),
            (12, None, "a `$` that does not delimit a formula: check that the formula's braces are balanced"),
            (14, None, "a `$` that does not delimit a formula"),
            (18, None, "`{{num}}` needs `q=\"quantity.name\"`"),
            (18, None, "unknown inline shortcode `{{nmu}}`"),
            (18, None, "digits must be a whole number from 1 to 17, not `99`"),
        ],
    );
}

#[test]
fn lesson_level_problems_front_matter_and_counts() {
    // The fixture course has one valid lesson, one that disagrees with the track, one incomplete lesson and
    // one file that is not in the track.
    let dir = fixture("site");
    let problems = Site::load(&dir).expect_err("the fixture course has problems");
    let lessons = dir.join("lessons");
    let actual: Vec<(PathBuf, usize, String)> = problems
        .iter()
        .map(|d| (d.file.clone(), d.line, d.message.clone()))
        .collect();
    let expected: Vec<(PathBuf, usize, &str)> = vec![
        (lessons.join("02-second.md"), 3, "title `Second lesson` differs from the track's title `Second`"),
        (lessons.join("02-second.md"), 4, "stage `two` differs from the track, which puts `02-second` in stage `one`"),
        (lessons.join("02-second.md"), 5, "prerequisites must be [\"01-first\"] (the previous lesson in the track)"),
        (lessons.join("03-third.md"), 1, "a lesson needs at least 1 `:::derive`; found 0"),
        (lessons.join("03-third.md"), 1, "a lesson needs at least 1 `:::widget`; found 0"),
        (lessons.join("03-third.md"), 1, "a lesson needs at least 6 `:::prompt`; found 0"),
        (lessons.join("03-third.md"), 1, "a lesson needs at least 3 `:::claim`; found 1"),
        (lessons.join("03-third.md"), 1, "a lesson needs at least 2 `:::estimate`; found 0"),
        (lessons.join("03-third.md"), 1, "a lesson needs a `:::sources` list"),
        (lessons.join("03-third.md"), 7, "minutes must be at least 1"),
        // 2·3 + 3 + 3·2 + 2 = 17 parameters, not 18.
        (lessons.join("03-third.md"), 11, "claim does not hold: the engine measured 17 for `backprop.param_count`, but the lesson stated 18 ± 0.5"),
        (lessons.join("07-stray.md"), 2, "lesson `07-stray` is not in track.toml"),
        (lessons.join("07-stray.md"), 8, "topic `backprop` is already the topic of lesson `01-first`"),
    ];
    let show = || problems.to_string();
    assert_eq!(actual.len(), expected.len(), "{}", show());
    for ((file, line, message), (want_file, want_line, fragment)) in actual.iter().zip(&expected) {
        assert_eq!(
            (file, *line),
            (want_file, *want_line),
            "for `{fragment}`:\n{}",
            show()
        );
        assert!(message.contains(fragment), "`{message}` lacks `{fragment}`");
    }
    let failed_claim = problems
        .iter()
        .find(|d| d.line == 11)
        .expect("the failed claim");
    assert_eq!(failed_claim.directive.as_deref(), Some("claim wrong"));
}

#[test]
fn front_matter_problems() {
    let path = fixture("lessons/05-broken-front-matter.md");
    let text = fs::read_to_string(&path).expect("fixture");
    let (lesson, problems) = Lesson::parse(&path, &text);
    assert!(
        lesson.is_none(),
        "a front matter that does not parse gives no lesson"
    );
    let first = &problems[0];
    assert_eq!(
        (first.line, first.message.contains("invalid front matter")),
        (4, true),
        "{first}"
    );

    let path = fixture("lessons/06-no-front-matter.md");
    let (_, problems) = Lesson::parse(&path, &fs::read_to_string(&path).expect("fixture"));
    assert_eq!(problems[0].line, 1);
    assert!(
        problems[0].message.contains("must start with a `+++` line"),
        "{}",
        problems[0]
    );

    let path = fixture("lessons/08-wrong-id.md");
    let (lesson, problems) = Lesson::parse(&path, &fs::read_to_string(&path).expect("fixture"));
    assert!(lesson.is_some());
    assert_eq!(problems[0].line, 2);
    assert_eq!(
        problems[0].message,
        "front matter id `08-right-id` must equal the file name `08-wrong-id`"
    );
}

#[test]
fn track_problems() {
    let path = fixture("track/track.toml");
    let text = fs::read_to_string(&path).expect("fixture");
    let problems =
        dlf_content::Track::parse(&path, &text).expect_err("the fixture track is invalid");
    let actual: Vec<(usize, &str)> = problems
        .iter()
        .map(|d| (d.line, d.message.as_str()))
        .collect();
    assert_eq!(
        actual,
        [
            (7, "duplicate stage id `a`"),
            (19, "lesson `01-b` names unknown stage `zzz`"),
            (
                22,
                "lesson id `03-c` must be `02-slug`: its number is its place in the track"
            ),
            (
                29,
                "lesson `03-d` goes back to stage `a` after stage `b`: stages are visited in order"
            ),
        ],
        "{problems:?}"
    );
}

#[test]
fn a_valid_course_loads_renders_and_reports() {
    let site = Site::load(&fixture("site-ok")).unwrap_or_else(|problems| panic!("{problems}"));
    assert_eq!(site.lessons().len(), 1);
    let lesson = site.lesson("01-first").expect("lesson 01");
    assert_eq!(lesson.body.prompts.len(), 6);
    assert_eq!(lesson.body.derives[0].steps.len(), 2);
    assert_eq!(lesson.body.widgets[0].widget, "backprop-walk");
    let measured: Vec<(&str, f64, bool)> = lesson
        .body
        .claims
        .iter()
        .map(|c| (c.id.as_str(), c.measured, c.passed))
        .collect();
    // Parameter counts D·H + H + H·C + C: 2·3+3+3·2+2 = 17 and 784·256+256+256·10+10 = 203530.
    assert_eq!(
        measured,
        [
            ("small", 17.0, true),
            ("mnist", 203_530.0, true),
            ("bound", 17.0, true)
        ]
    );
    let toc: Vec<&str> = lesson.body.headings.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(toc, ["counting-parameters", "sources"]);
    assert!(
        lesson.body.html.contains("network below has\n17 of them"),
        "{{num}} is expanded in prose"
    );
    assert!(
        site.next("01-first").is_some_and(|e| e.id == "02-second"),
        "the next lesson is listed, unwritten"
    );

    let pages = dlf_content::pages::render_all(&site);
    let urls: Vec<&str> = pages.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(urls, ["/", "/lessons/01-first/"]);
    assert!(
        pages[0].html.contains("Second"),
        "unwritten lessons are listed on the track page"
    );
    assert!(pages[1]
        .html
        .contains(r#"id="claim-small" data-passed="true""#));

    let report = dlf_content::check(Some(&fixture("site-ok")));
    assert!(report.ok);
    let json = serde_json::to_value(&report).expect("the report serialises");
    assert_eq!(
        json["lessons"][0]["claims"][1]["tol"],
        serde_json::json!({ "rel": 0.001 })
    );
    assert_eq!(json["lessons"][0]["claims"][2]["cmp"], "lt");
    assert_eq!(
        json["lessons"][0]["widgets"][0],
        serde_json::json!({ "id": "walk", "widget": "backprop-walk" })
    );
}

#[test]
fn check_report_lists_lessons_even_when_the_course_fails() {
    let report = dlf_content::check(Some(&fixture("site")));
    assert!(!report.ok);
    let ids: Vec<&str> = report.lessons.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["01-first", "02-second", "03-third", "07-stray"]);
    let third = &report.lessons[2];
    assert_eq!(
        (third.claims[0].passed, third.claims[0].measured),
        (false, 17.0)
    );
    assert!(
        report.to_text().ends_with("failed: 13 problems\n"),
        "{}",
        report.to_text()
    );
}

/// Golden files of rendered bodies, in mdBook's shape: `tests/golden/<case>/input.md` is rendered and compared
/// with `expected.html`. `DLF_BLESS=1` rewrites the expected files instead.
#[test]
fn golden_bodies() {
    let bless = std::env::var_os("DLF_BLESS").is_some_and(|v| v == "1");
    let root = manifest_dir().join("tests/golden");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/golden")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "the golden cases are present");
    let mut mismatches = Vec::new();
    for case in &cases {
        let input = fs::read_to_string(case.join("input.md")).expect("input.md");
        let (body, problems) = render_body(Path::new("input.md"), &input, 1, None);
        assert!(problems.is_empty(), "{}: {problems:?}", case.display());
        let expected_path = case.join("expected.html");
        if bless {
            fs::write(&expected_path, &body.html).expect("write expected.html");
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run DLF_BLESS=1 cargo test -p dlf-content",
                expected_path.display()
            )
        });
        if expected != body.html {
            mismatches.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{}",
                case.display(),
                body.html
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatches (re-bless with DLF_BLESS=1 if intended):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn the_real_course_validates() {
    let content = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content");
    let site = Site::load(Path::new(content)).unwrap_or_else(|problems| panic!("{problems}"));
    assert_eq!(
        site.track.lessons.len(),
        12,
        "the track lists twelve lessons"
    );
    assert_eq!(site.track.stages.len(), 5, "in five stages");
    // Each crate's lesson folders and the written lessons agree: every engine lesson folder has its written
    // lesson (by topic), every registered widget is shown by the lesson of the folder that holds it, and every
    // generator is offered by its lesson. (A failed claim or an unknown name already makes `Site::load` fail.)
    let by_topic = |topic: &str| site.lessons().iter().find(|l| l.meta.topic == topic);
    for engine_lesson in dlf_engine::lessons::ALL {
        let lesson = by_topic(engine_lesson.topic).unwrap_or_else(|| {
            panic!(
                "crates/dlf-engine/src/lessons/{}/ has no written lesson with that topic",
                engine_lesson.topic
            )
        });
        for g in engine_lesson.estimates {
            assert!(
                lesson.body.estimates.iter().any(|e| e.generator == g.id),
                "generator `{}` is offered by no `:::estimate` of {}",
                g.id,
                lesson.meta.id
            );
        }
    }
    for widget in dlf_widgets::registry() {
        let id = widget.spec().id;
        let topic = dlf_widgets::topic_of(id).expect("a registered widget has a folder");
        let lesson = by_topic(topic).unwrap_or_else(|| {
            panic!("widget `{id}` lives in crates/dlf-widgets/src/lessons/{topic}/, which no written lesson has as its topic")
        });
        assert!(
            lesson.body.widgets.iter().any(|w| w.widget == id),
            "widget `{id}` is registered in lesson `{}`'s folder but its lesson shows no `:::widget id=\"{id}\"`",
            lesson.meta.id
        );
    }
    // The embedded copy is the same course.
    let embedded = Site::load_embedded().unwrap_or_else(|problems| panic!("{problems}"));
    assert_eq!(embedded.lessons().len(), site.lessons().len());
}

/// Mutations of the real lesson, in the spirit of a fuzzer: whatever an author's half-finished edit looks like,
/// the parser never panics, and every problem it reports points at a line of the file. Claims are pointed at a
/// cheap quantity first, so that the test measures the parser rather than the engine's experiments.
#[test]
fn mangled_lessons_never_panic_and_problems_point_into_the_file() {
    let real = fs::read_to_string(manifest_dir().join("../../content/lessons/01-backprop.md"))
        .expect("read lesson 01");
    let cheap: String = real
        .lines()
        .map(|line| {
            if line.starts_with(":::claim") || line.contains("{{num") {
                line.replace("backprop.", "backprop.param_count.unknown.")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let inserts = [
        ":::",
        ":::derive",
        ":::prompt id=\"x\"",
        "::step",
        "::hire",
        "$$",
        "$\\frac{1}{",
        "{{num q=\"x\"",
        "+++",
        ":::widget id=\"w\" widget=\"mlp-trainer\" width=999",
        "::",
        "\\begin{aligned}",
        "| a | b |",
        ":::claim id=\"c\" q=\"backprop.param_count\" expected=1 tol=",
        "```",
        "<script>",
        "é\u{301}",
    ];
    let mut rng = dlf_engine::rng::Rng::new(2026);
    let path = Path::new("content/lessons/01-backprop.md");
    for round in 0..60 {
        let mut lines: Vec<String> = cheap.lines().map(str::to_owned).collect();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(lines.len());
            match rng.below(5) {
                0 => {
                    lines.remove(at);
                }
                1 => lines.insert(at, inserts[rng.below(inserts.len())].to_owned()),
                2 => {
                    let copy = lines[rng.below(lines.len())].clone();
                    lines.insert(at, copy);
                }
                3 => {
                    let other = rng.below(lines.len());
                    lines.swap(at, other);
                }
                _ => {
                    let line = &lines[at];
                    let cut = line
                        .char_indices()
                        .map(|(i, _)| i)
                        .nth(rng.below(line.chars().count().max(1)));
                    if let Some(cut) = cut {
                        lines[at] = line[..cut].to_owned();
                    }
                }
            }
        }
        let text = lines.join("\n");
        let line_count = text.lines().count().max(1);
        let (_, problems) = Lesson::parse(path, &text);
        for problem in &problems {
            assert!(
                problem.line >= 1 && problem.line <= line_count + 1,
                "round {round}: a problem points outside the file ({} lines): {problem}",
                line_count
            );
        }
    }
}

/// The maths font is subset (`tools/font-subset`) to the characters the course's maths uses: every character of
/// every rendered formula must have a glyph in it, or the browser would draw it in a fallback font.
#[test]
fn every_rendered_maths_character_is_in_the_subset_font() {
    let site = Site::load_embedded().expect("the embedded course validates");
    let pages = dlf_content::pages::render_all(&site);
    let used = dlf_content::maths_font::maths_characters(pages.iter().map(|p| p.html.as_str()));
    assert!(used.len() > 50, "the course's maths uses many characters");
    let font = fs::read(manifest_dir().join("front-end/fonts/latinmodern-math.otf"))
        .expect("the subset font");
    let face = ttf_parser::Face::parse(&font, 0).expect("the subset font parses");
    // The whole font, which the subset is cut from: a character Latin Modern Math itself lacks (U+203E, the
    // overline pulldown-latex writes for `\bar`) was drawn by the browser's fallback maths font before subsetting
    // too, so only characters the whole font has must be in the subset.
    let whole = fs::read(manifest_dir().join("../../tools/font-subset/latinmodern-math.otf"))
        .expect("the whole font");
    let whole = ttf_parser::Face::parse(&whole, 0).expect("the whole font parses");
    let missing: String = used
        .iter()
        .filter(|c| whole.glyph_index(**c).is_some() && face.glyph_index(**c).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the maths font lacks {missing:?}: run `cargo run --release --manifest-path tools/font-subset/Cargo.toml` to subset it again"
    );
    // The subset keeps the MATH table (stretchy fences, radicals and large operators are drawn from it).
    assert!(
        face.tables().math.is_some(),
        "the subset keeps the MATH table"
    );
    assert!(
        font.len() < 200_000,
        "subset, not the whole font: {} bytes",
        font.len()
    );
}

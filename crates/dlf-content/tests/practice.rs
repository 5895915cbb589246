//! The practice deck of the real course (content/), its Anki export parsed back, and every estimation
//! generator rendered through the lesson pipeline.

use std::path::PathBuf;

use dlf_content::anki::ANKI_HEADER;
use dlf_content::practice::{render_estimate_checked, SAMPLE_SEED};
use dlf_content::{anki_export, CardKind, Deck, Site};

fn content_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../content")
}

/// The course as far as it loads: lessons being written by others may have problems that are not this
/// test's concern, and every written lesson whose front matter parses is still in the site.
fn site() -> Site {
    Site::load_with_diagnostics(&content_dir()).0
}

#[test]
fn the_deck_of_lesson_01_has_every_card_in_course_order() {
    let site = site();
    let deck = Deck::from_site(&site);
    let lesson = site.lesson("01-backprop").expect("lesson 01 is written");
    let cards: Vec<_> = deck.lesson_cards("01-backprop").collect();
    let body = &lesson.body;
    assert_eq!(
        cards.len(),
        body.derives.len() + body.prompts.len() + body.estimates.len()
    );
    // Lesson 01 has 2 derive boxes, 8 prompts and 4 estimates (content/lessons/01-backprop.md).
    let kinds: Vec<&str> = cards.iter().map(|c| c.kind.name()).collect();
    let mut expected = vec!["derive"; 2];
    expected.extend(["prompt"; 8]);
    expected.extend(["estimate"; 4]);
    assert_eq!(kinds, expected);
    assert_eq!(cards[0].id, "01-backprop/derive/softmax-ce");
    assert_eq!(cards[2].id, "01-backprop/prompt/p-softmax-ce");
    assert_eq!(cards[10].id, "01-backprop/estimate/backprop.param_count");
    for card in &cards {
        assert!(
            card.id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)),
            "{}",
            card.id
        );
        assert_eq!(card.lesson_title, "Backpropagation");
        assert!(!card.title.is_empty(), "{}", card.id);
        assert_eq!(deck.card(&card.id), Some(*card));
        match &card.kind {
            CardKind::Prompt(p) => {
                assert!(p.hire.len() >= 2 && p.strong.len() >= 2, "{}", card.id);
                for point in p.hire.iter().chain(&p.strong) {
                    // Each point is one item's Markdown, without its list marker, rendered on its own.
                    assert!(!point.markdown.starts_with("- "), "{}", point.markdown);
                    assert!(point.html.starts_with("<p>"), "{}", point.html);
                }
            }
            CardKind::Derive(d) => assert!(!d.steps.is_empty() && d.seconds > 0),
            CardKind::Estimate(e) => {
                assert!(dlf_engine::estimate::find(e.generator).is_some());
                assert_eq!(card.id, format!("01-backprop/estimate/{}", e.generator));
            }
        }
    }
    // The first rubric point of the softmax prompt is the first bullet of its `::hire` list.
    let CardKind::Prompt(p) = &cards[2].kind else {
        panic!("card 2 is a prompt");
    };
    assert!(
        p.hire[0].markdown.starts_with("Writes $\\ell = -z_y"),
        "{}",
        p.hire[0].markdown
    );
    assert_eq!(p.hire.len(), 3);
    assert_eq!(p.strong.len(), 4);
    assert!(deck.card("01-backprop/prompt/no-such-prompt").is_none());
}

#[test]
fn the_anki_export_parses_back_to_one_note_per_card() {
    let deck = Deck::from_site(&site());
    let text = anki_export(&deck);
    assert!(text.starts_with(ANKI_HEADER));
    assert_eq!(
        ANKI_HEADER.lines().collect::<Vec<_>>(),
        [
            "#separator:tab",
            "#html:true",
            "#notetype:Basic",
            "#deck:dlf",
            "#tags column:3"
        ]
    );
    let notes: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(notes.len(), deck.cards.len());
    for (note, card) in notes.iter().zip(&deck.cards) {
        let fields: Vec<&str> = note.split('\t').collect();
        assert_eq!(fields.len(), 3, "{}: {note}", card.id);
        assert_eq!(
            fields[2],
            format!("dlf lesson::{} kind::{}", card.lesson, card.kind.name())
        );
        for field in &fields[..2] {
            assert!(!field.is_empty(), "{}", card.id);
            assert!(
                !field.contains('$'),
                "{}: a `$` is left in {field}",
                card.id
            );
            assert!(!field.contains("<math"), "{}: MathML in {field}", card.id);
            assert!(!field.starts_with('"'), "{}", card.id);
            assert_eq!(
                field.matches("\\(").count(),
                field.matches("\\)").count(),
                "{}: unbalanced inline maths in {field}",
                card.id
            );
            assert_eq!(
                field.matches("\\[").count(),
                field.matches("\\]").count(),
                "{}: unbalanced display maths in {field}",
                card.id
            );
        }
    }
    // The softmax prompt's front has its question, its back every rubric point, maths as MathJax.
    let softmax = notes
        .iter()
        .find(|n| n.contains("Derive the gradient of the softmax cross-entropy loss"))
        .expect("the softmax prompt's note");
    assert!(
        softmax.contains("\\(\\ell = -z_y + \\log\\sum_j e^{z_j}\\)"),
        "{softmax}"
    );
    assert_eq!(
        softmax.split('\t').nth(1).unwrap().matches("<li>").count(),
        3 + 4 + 3
    );
    assert!(softmax.ends_with("kind::prompt"));
    // An estimate's note carries the sample problem and its worked solution.
    let estimate = notes
        .iter()
        .find(|n| n.ends_with("kind::estimate"))
        .expect("an estimate note");
    assert!(
        estimate.contains("Back-of-envelope") && estimate.contains("<ol><li>"),
        "{estimate}"
    );
    // The vanishing-gradients rubric has a `{{num}}` shortcode: the engine's number is in the note.
    assert!(!text.contains("{{num"), "a shortcode was left unexpanded");
}

#[test]
fn every_generator_renders_to_mathml_without_problems() {
    for spec in dlf_engine::estimate::generators() {
        for seed in [SAMPLE_SEED, 2, 3, 99, 12_345] {
            let estimate =
                dlf_engine::estimate::generate(spec.id, seed).expect("listed generators exist");
            let steps = estimate.solution.len();
            let has_maths = estimate.question.contains('$');
            let (rendered, problems) = render_estimate_checked(estimate);
            assert!(problems.is_empty(), "{} seed {seed}: {problems:?}", spec.id);
            // Every formula of the question became MathML (a question may also have none).
            assert_eq!(
                rendered.question_html.contains("<math"),
                has_maths,
                "{} seed {seed}",
                spec.id
            );
            assert!(
                !rendered.question_html.contains('$'),
                "{} seed {seed}",
                spec.id
            );
            assert_eq!(rendered.solution_html.len(), steps);
            assert!(rendered.solution_html.iter().all(|s| !s.contains('$')));
        }
    }
}

//! Fuzzing the policy parser with proptest: `parse` never panics on arbitrary text or on
//! random mutations of the example policy, every diagnostic span lies within the source,
//! and `to_toml` → `parse` gives back any valid policy (the example with random names,
//! titles, texts and weights).

use proptest::prelude::*;
use steward_policy::{parse, Diagnostic, Policy};

const EXAMPLE: &str = include_str!("../../../examples/policy.toml");

fn example() -> Policy {
    parse(EXAMPLE).valid().expect("the example policy is valid").0
}

/// Every diagnostic's span is a range of the source, and rendering it does not panic.
fn check_diagnostics(source: &str, diagnostics: &[Diagnostic]) -> Result<(), TestCaseError> {
    for d in diagnostics {
        if let Some(span) = &d.span {
            prop_assert!(span.start <= span.end, "{d:?}");
            prop_assert!(span.end <= source.len(), "{d:?} beyond {} bytes", source.len());
            prop_assert!(
                source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
                "{d:?} splits a character"
            );
        }
        let line = d.render("policy.toml", source);
        prop_assert!(line.starts_with("policy.toml:"), "{line}");
        prop_assert!(!d.message.is_empty(), "{d:?}");
    }
    Ok(())
}

/// One edit of a text: what to do, where (a share of the text's characters) and what to put.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: f64, len: usize },
    Insert { at: f64, text: String },
    Replace { at: f64, len: usize, text: String },
}

/// Snippets that matter to TOML and to the policy schema, and some multibyte text.
fn snippet() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("'''".to_string()),
        Just("[[topics]]\n".to_string()),
        Just("[[roles]]\nid = \"x\"\n".to_string()),
        Just("\n[sla]\n".to_string()),
        Just(" = ".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\n".to_string()),
        Just("#".to_string()),
        Just("\\".to_string()),
        Just("responders = [\"nobody\"]\n".to_string()),
        Just("weight = nan\n".to_string()),
        Just("first_response = \"9999999999w\"\n".to_string()),
        Just("patterns = ['(']\n".to_string()),
        Just("é日本🚨\u{301}".to_string()),
        "[a-z_=\\[\\]{}\"'., \n0-9-]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0f64, 0usize..80).prop_map(|(at, len)| Edit::Delete { at, len }),
        (0.0..1.0f64, snippet()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (0.0..1.0f64, 0usize..40, snippet()).prop_map(|(at, len, text)| Edit::Replace {
            at,
            len,
            text
        }),
    ]
}

/// The byte offset of the character at `share` of the text, and of `len` characters later.
fn char_range(text: &str, share: f64, len: usize) -> (usize, usize) {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    let first = ((bounds.len() - 1) as f64 * share) as usize;
    let last = (first + len).min(bounds.len() - 1);
    (bounds[first], bounds[last])
}

fn apply(text: &mut String, edit: &Edit) {
    match edit {
        Edit::Delete { at, len } => {
            let (s, e) = char_range(text, *at, *len);
            text.replace_range(s..e, "");
        }
        Edit::Insert { at, text: t } => {
            let (s, _) = char_range(text, *at, 0);
            text.insert_str(s, t);
        }
        Edit::Replace { at, len, text: t } => {
            let (s, e) = char_range(text, *at, *len);
            text.replace_range(s..e, t);
        }
    }
}

/// Printable text with the characters that need escaping in TOML strings.
fn any_text(min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9 \"'\\\\\\n\\t#=\\[\\]{{}}é日🚨-]{{{min},24}}"
    ))
    .expect("a valid regex")
}

fn weight() -> impl Strategy<Value = f64> {
    prop_oneof![-10.0..-0.001f64, 0.001..10.0f64, Just(1e-300), Just(-1e300), Just(0.1 + 0.2)]
}

/// `PROPTEST_CASES` when set, else `default`: parsing the whole example policy takes a
/// tenth of a second in a debug build, so the suites that do it keep their counts low.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_text(source in any::<String>()) {
        let outcome = parse(&source);
        check_diagnostics(&source, &outcome.diagnostics)?;
        prop_assert!(outcome.policy.is_some() || outcome.has_errors());
    }

    #[test]
    fn never_panics_on_toml_like_text(source in "[a-z_=\\[\\]\"'., \n0-9#{}-]{0,200}") {
        let outcome = parse(&source);
        check_diagnostics(&source, &outcome.diagnostics)?;
        prop_assert!(outcome.policy.is_some() || outcome.has_errors());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(96), ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_mutations_of_the_example(edits in proptest::collection::vec(edit(), 1..6)) {
        let mut source = EXAMPLE.to_string();
        for e in &edits {
            apply(&mut source, e);
        }
        let outcome = parse(&source);
        check_diagnostics(&source, &outcome.diagnostics)?;
        // Without errors there is a policy; with a syntax error there is none.
        prop_assert!(outcome.has_errors() || outcome.policy.is_some());
    }
}

proptest! {
    // Each case parses the whole example policy twice (regexes compiled by validation).
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    #[test]
    fn to_toml_round_trips_a_valid_policy(
        name in any_text(1),
        version in "[a-zA-Z0-9.-]{1,10}",
        description in any_text(0),
        title in any_text(1),
        template in proptest::option::of(any_text(1)),
        topic_share in 0.0..1.0f64,
        weights in proptest::collection::vec(weight(), 1..8),
        threshold in 0.01..20.0f64,
        model_weight in 0.0..5.0f64,
        person_name in any_text(1),
    ) {
        let mut p = example();
        p.name = name;
        p.version = version;
        p.model_weight = model_weight;
        let ti = ((p.topics.len() - 1) as f64 * topic_share) as usize;
        let topic = &mut p.topics[ti];
        topic.description = description;
        topic.title = title;
        topic.template = template;
        topic.threshold = threshold;
        for (cue, w) in topic.cues.iter_mut().zip(&weights) {
            cue.weight = *w;
        }
        let people = p.people.len();
        p.people[ti % people].name = person_name;
        prop_assume!(!p.name.trim().is_empty());

        let text = p.to_toml();
        let outcome = parse(&text);
        check_diagnostics(&text, &outcome.diagnostics)?;
        prop_assert!(!outcome.has_errors(), "{:?}", outcome.diagnostics);
        prop_assert_eq!(outcome.policy.as_ref(), Some(&p));
    }
}

#[test]
fn the_example_round_trips_exactly() {
    let p = example();
    let again = parse(&p.to_toml());
    assert!(!again.has_errors(), "{:?}", again.diagnostics);
    assert_eq!(again.policy, Some(p));
}

#[test]
fn char_range_stays_on_char_boundaries() {
    let text = "aé日🚨b";
    for share in [0.0, 0.3, 0.5, 0.99] {
        for len in 0..6 {
            let (s, e) = char_range(text, share, len);
            assert!(s <= e && text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }
    assert_eq!(char_range(text, 0.0, 2), (0, 3));
}

/// Found by the property above (`_=`): the toml crate gives no message for a missing value,
/// and several lines for others; every diagnostic is one line that says something.
#[test]
fn syntax_errors_are_one_line_that_says_something() {
    for (source, want) in [("_=", "value is missing"), ("a = [", "invalid array: expected `]`")] {
        let outcome = parse(source);
        assert_eq!(outcome.diagnostics.len(), 1, "{source:?}");
        let line = outcome.diagnostics[0].render("policy.toml", source);
        assert!(line.contains(want), "{source:?}: {line}");
        assert!(!line.trim_end().contains('\n'), "{source:?}: {line}");
    }
}

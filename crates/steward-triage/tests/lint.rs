//! Checking drafts against the response-writing tips of `testdata/tips.toml`, the tips of the
//! shipped example policy.

use steward_policy::{Policy, Tip};
use steward_triage::lint::{LintError, LintFinding, Linter};

const POLICY_HEAD: &str = r#"
name = "Test policy"
version = "1"
effective = "2024-01-01"
allow_domains = ["example.org"]
topics = []
roles = []
people = []
"#;

fn policy() -> Policy {
    let source = format!("{POLICY_HEAD}\n{}", include_str!("../testdata/tips.toml"));
    let outcome = steward_policy::parse(&source);
    outcome.policy.unwrap_or_else(|| panic!("policy does not parse: {:?}", outcome.diagnostics))
}

fn linter() -> Linter {
    Linter::new(&policy()).expect("the shipped tips compile")
}

/// A draft that follows every tip.
const GOOD: &str = "Hi Ana, thanks for the detailed report!\n\
    This is covered in the docs: https://docs.example.org/configuration#smtp.\n\
    If it still fails, please share the server logs; for ideas, the feature board is the \
    place to upvote them.";

fn rules(findings: &[LintFinding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn shipped_tips_are_all_there() {
    let ids: Vec<_> = policy().tips.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        ids,
        [
            "no_false_promises",
            "positivity",
            "link_documentation",
            "secure_user_info",
            "be_thankful",
            "no_opinions"
        ]
    );
}

#[test]
fn good_draft_has_no_findings() {
    let findings = linter().check(GOOD);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn empty_draft_misses_the_required_tips() {
    let findings = linter().check("");
    assert_eq!(rules(&findings), ["link_documentation", "be_thankful"]);
    for f in &findings {
        assert_eq!((f.line, f.col, f.start, f.end), (1, 1, 0, 0));
    }
    assert_eq!(
        findings[1].to_string(),
        "1:1: be_thankful: does not thank the person (Be thankful)"
    );
}

/// The one finding of `rule` in `GOOD` with `bad` appended as a new line.
fn single(rule: &str, bad: &str) -> LintFinding {
    let draft = format!("{GOOD}\n{bad}");
    let findings = linter().check(&draft);
    let of_rule: Vec<_> = findings.iter().filter(|f| f.rule == rule).cloned().collect();
    assert_eq!(of_rule.len(), 1, "{rule} in {bad:?}: {findings:#?}");
    assert_eq!(findings.len(), 1, "only {rule} in {bad:?}: {findings:#?}");
    of_rule.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn false_promises() {
    let last_line = GOOD.lines().count() + 1;
    for (bad, words) in [
        ("Good idea, we'll add it soon.", "we'll add"),
        ("We’ll work on feature X.", "We’ll work on"),
        ("I will definitely implement this.", "I will definitely implement"),
        ("We are going to ship it.", "We are going to ship"),
        ("This will be in the next release.", "will be in the next release"),
        (
            "It will be included in the upcoming version.",
            "will be included in the upcoming version",
        ),
        ("I promise!", "I promise"),
        ("It is definitely coming.", "definitely coming"),
        ("Guaranteed.", "Guaranteed"),
        ("Dark mode is coming soon.", "coming soon"),
    ] {
        let f = single("no_false_promises", bad);
        let draft = format!("{GOOD}\n{bad}");
        assert_eq!(&draft[f.start..f.end], words, "in {bad:?}");
        assert_eq!(f.line, last_line);
        assert_eq!(f.col, bad[..bad.find(words).unwrap_or(0)].chars().count() + 1);
        assert!(f.message.starts_with("sets an expectation the team may not meet: \""), "{f}");
        assert!(f.message.ends_with("(Don't make false promises or assumptions)"), "{f}");
    }
}

#[test]
fn no_promise_in_neutral_wording() {
    for ok in [
        "We won't add this, but a plugin can do it.",
        "We will not implement this.",
        "I'll ask the team and get back to you.",
        "Feel free to add it to the feature board.",
    ] {
        let findings = linter().check(&format!("{GOOD}\n{ok}"));
        assert!(findings.is_empty(), "{ok:?}: {findings:#?}");
    }
}

#[test]
fn excuses() {
    for (bad, words) in [
        ("Sorry, we're busy.", "we're busy"),
        ("We are really swamped right now.", "We are really swamped"),
        ("Our team is small.", "Our team is small"),
        ("Our team is very small, sorry.", "Our team is very small"),
        ("We don't have the resources for it.", "We don't have the resources"),
        ("We don’t have time.", "We don’t have time"),
        ("It's not a priority.", "not a priority"),
        ("Everyone is too busy.", "too busy"),
        ("We're short-staffed.", "We're short-staffed"),
        ("The project is understaffed.", "understaffed"),
    ] {
        let f = single("positivity", bad);
        let draft = format!("{GOOD}\n{bad}");
        assert_eq!(&draft[f.start..f.end], words, "in {bad:?}");
        assert!(f.message.contains("sounds like an excuse"), "{f}");
    }
}

#[test]
fn opinions() {
    for (bad, words) in [
        ("In my opinion this is fine.", "In my opinion"),
        ("IMHO it works.", "IMHO"),
        ("Personally, I would not.", "Personally, I"),
        ("I think Postgres is better.", "I think Postgres is better"),
        (
            "I think the Enterprise edition is far better.",
            "I think the Enterprise edition is far better",
        ),
        ("I prefer MySQL over Postgres.", "I prefer MySQL over"),
    ] {
        let f = single("no_opinions", bad);
        let draft = format!("{GOOD}\n{bad}");
        assert_eq!(&draft[f.start..f.end], words, "in {bad:?}");
        assert!(f.message.contains("states a personal opinion"), "{f}");
    }
}

#[test]
fn personal_data_is_flagged_with_its_kind() {
    let f = single("secure_user_info", "Your server at 203.0.113.7 logged it.");
    assert_eq!(f.message, "contains personal data (ipv4): remove it before posting");
    let f = single("secure_user_info", "I emailed jane@acme.com.");
    assert_eq!(f.message, "contains personal data (email): remove it before posting");
    // Allow-listed domains are the project's own.
    let ok = linter().check(&format!("{GOOD}\nWrite to security@example.org."));
    assert!(ok.is_empty(), "{ok:#?}");
}

#[test]
fn missing_link_and_thanks() {
    let findings = linter().check("Please check the settings page.");
    assert_eq!(rules(&findings), ["link_documentation", "be_thankful"]);
    assert_eq!(
        findings[0].to_string(),
        "1:1: link_documentation: links no documentation \
         (Do your best to link documentation as answers)"
    );
    // Any of the thankful words will do.
    for thanks in ["Thank you!", "We appreciate it.", "Grateful for this.", "Thanks"] {
        let findings = linter().check(&format!("{thanks} https://docs.example.org"));
        assert!(findings.is_empty(), "{thanks:?}: {findings:#?}");
    }
}

#[test]
fn positions_count_characters_across_lines() {
    // Line 3, after non-ASCII text: the column counts characters, not bytes.
    let draft = "Thanks! https://docs.example.org\n\nÜber → naïve: we’ll add it.\r\nMore.";
    let findings = linter().check(draft);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!((f.line, f.col), (3, 15));
    assert_eq!(&draft[f.start..f.end], "we’ll add");
    assert_eq!(
        f.to_string(),
        "3:15: no_false_promises: sets an expectation the team may not meet: \"we’ll add\" \
         (Don't make false promises or assumptions)"
    );
    // Findings come in text order; at the same place, in tip order.
    let draft = "Our team is small.\nI promise we'll fix it.\nMail bob@corp.net";
    let found: Vec<_> =
        linter().check(draft).iter().map(|f| (f.rule.clone(), f.line, f.col)).collect();
    assert_eq!(
        found,
        [
            ("positivity".to_string(), 1, 1),
            ("link_documentation".to_string(), 1, 1),
            ("be_thankful".to_string(), 1, 1),
            ("no_false_promises".to_string(), 2, 1),
            ("no_false_promises".to_string(), 2, 11),
            ("secure_user_info".to_string(), 3, 6),
        ]
    );
}

#[test]
fn overlapping_matches_of_one_tip_are_reported_once() {
    // Two patterns match overlapping words: "will definitely be shipped in the next release"
    // and "definitely be shipped". The longer, earlier one is reported.
    let f = single("no_false_promises", "It will definitely be shipped in the next release.");
    assert_eq!(f.col, 4);
    assert!(f.message.contains("\"will definitely be shipped in the next release\""), "{f}");
}

#[test]
fn findings_serialise() {
    let findings = linter().check("hello");
    let json = serde_json::to_value(&findings[0]).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({
            "rule": "link_documentation", "line": 1, "col": 1, "start": 0, "end": 0,
            "message": "links no documentation (Do your best to link documentation as answers)"
        })
    );
}

fn tip(id: &str) -> Tip {
    Tip {
        id: id.to_string(),
        title: id.to_string(),
        text: String::new(),
        avoid: Vec::new(),
        require: Vec::new(),
        check: None,
    }
}

#[test]
fn bad_patterns_and_checks_are_errors() {
    let mut p = policy();
    p.tips = vec![Tip { avoid: vec!["(unclosed".to_string()], ..tip("broken") }];
    let err = Linter::new(&p).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.starts_with("tip `broken`: bad pattern `(unclosed`"), "{err}");
    p.tips = vec![Tip { check: Some("spelling".to_string()), ..tip("odd") }];
    assert!(matches!(Linter::new(&p), Err(LintError::UnknownCheck { .. })));
    // Tips with other ids get the generic wording.
    p.tips =
        vec![Tip { avoid: vec!["lol".to_string()], require: vec!["bye".into()], ..tip("custom") }];
    let findings = Linter::new(&p).map(|l| l.check("LOL")).unwrap_or_default();
    let messages: Vec<_> = findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "1:1: custom: goes against this tip: \"LOL\" (custom)",
            "1:1: custom: contains none of the required wording (custom)"
        ]
    );
}

//! Diffing policy versions: the Example Foundation's Markdown page against its later
//! plain-text version, a policy against itself, and single changes.

use steward_policy::diff::{diff, Change, CueChanges};
use steward_policy::handbook::import;
use steward_policy::{Cue, HandleKind, Policy};

const V1: &str = include_str!("../testdata/example_v1.md");
const V2: &str = include_str!("../testdata/example_v2.txt");

fn versions() -> (Policy, Policy) {
    let mut old = import(V1, None).policy;
    old.version = "1".into();
    old.effective = "2024-01-01".into();
    let mut new = import(V2, None).policy;
    new.version = "2".into();
    new.effective = "2024-06-01".into();
    (old, new)
}

#[test]
fn the_two_fixture_versions_differ_where_expected() {
    let (old, new) = versions();
    let d = diff(&old, &new);
    assert!(!d.is_empty());
    let text = d.to_string();
    let lines: Vec<&str> = text.lines().collect();
    for expected in [
        "policy 1 → 2",
        "version changed from 1 to 2",
        "effective date changed from 2024-01-01 to 2024-06-01",
        "privacy_telemetry: title changed from \"Telemetry and privacy\" to \"Telemetry and privacy opinions\"",
        "privacy_telemetry: loop-in added: board_liaison (Board Liaison)",
        "product_regulation: approved responders reordered from community_lead, legal_counsel, executive_director to legal_counsel, community_lead, executive_director",
        "licensing: approved responder added: board_liaison (Board Liaison)",
        "licensing: approved responders changed from legal_counsel, community_lead to legal_counsel, board_liaison, community_lead",
        "licensing: people who may respond: removed hiroshi_tanaka (Hiroshi Tanaka)",
        "packaging: approved responder added: finance_lead (Finance Lead)",
        "packaging: first-response target changed from 3d to 2d",
        "security_vulnerability: approved responder removed: release_manager (Release Manager)",
        "security_vulnerability: loop-in added: release_manager (Release Manager)",
        "security_vulnerability: people looped in: added mei_chen (Mei Chen)",
        "topic removed: trademark_use (Trademark use)",
        "role release_manager (Release Manager): member added: mei_chen (Mei Chen)",
        "role legal_counsel (Legal Counsel): member removed: hiroshi_tanaka (Hiroshi Tanaka)",
        "role added: board_liaison (Board Liaison), held by nobody",
        "person added: mei_chen (Mei Chen)",
        "person removed: hiroshi_tanaka (Hiroshi Tanaka)",
        "person amara_okafor (Amara Okafor): chat handle changed from amara to amara.okafor",
        "person amara_okafor (Amara Okafor): GitHub handle changed from amarao to (none)",
        "tip added: thank_people (Thank people)",
    ] {
        assert!(lines.contains(&expected), "missing `{expected}` in:\n{text}");
    }
    // Topics whose roles stayed the same only report the people those roles lost.
    for topic in ["workplace", "illicit_use", "marketing_regulation", "government_request"] {
        let of_topic: Vec<&&str> =
            lines.iter().filter(|l| l.starts_with(&format!("{topic}:"))).collect();
        assert!(!of_topic.is_empty(), "{text}");
        assert!(
            of_topic.iter().all(|l| l.ends_with(": removed hiroshi_tanaka (Hiroshi Tanaka)")),
            "{text}"
        );
    }
    assert!(!text.contains("role added: release_manager"), "{text}");
    // Removals come after the topics that are still there.
    let removed = lines.iter().position(|l| l.starts_with("topic removed")).expect("a removal");
    assert!(lines[..removed].iter().any(|l| l.starts_with("security_vulnerability:")));

    assert!(d.changes.contains(&Change::Responders {
        topic: "licensing".into(),
        old: vec!["legal_counsel".into(), "community_lead".into()],
        new: vec!["legal_counsel".into(), "board_liaison".into(), "community_lead".into()],
    }));
    assert!(d.changes.iter().any(|c| matches!(
        c,
        Change::PersonHandle { person, channel: HandleKind::Github, new: None, .. } if person.id == "amara_okafor"
    )));
}

#[test]
fn a_policy_against_itself_has_no_changes() {
    for page in [V1, V2] {
        let policy = import(page, None).policy;
        let d = diff(&policy, &policy.clone());
        assert!(d.is_empty(), "{d}");
        assert_eq!(d.to_string(), "policy imported → imported\nno changes\n");
    }
}

#[test]
fn diffing_back_reverses_additions_and_removals() {
    let (old, new) = versions();
    let back = diff(&new, &old).to_string();
    assert!(
        back.lines().any(|l| l == "topic added: trademark_use (Trademark use), sensitive"),
        "{back}"
    );
    assert!(
        back.lines()
            .any(|l| l == "licensing: approved responder removed: board_liaison (Board Liaison)"),
        "{back}"
    );
    assert!(back.lines().any(|l| l == "role removed: board_liaison (Board Liaison)"), "{back}");
}

#[test]
fn cue_changes_are_summarised() {
    let old = import(V1, None).policy;
    let mut new = old.clone();
    let cue = |weight: f64, phrases: &[&str], patterns: &[&str]| Cue {
        weight,
        phrases: phrases.iter().map(|p| p.to_string()).collect(),
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
        title_only: false,
        cap: None,
    };
    let mut old = old;
    for (policy, cues) in [
        (&mut old, vec![cue(2.0, &["license", "gpl"], &[]), cue(1.0, &["open core"], &[])]),
        (
            &mut new,
            vec![
                cue(2.0, &["license", "agpl", "apache", "copyleft"], &[r"\bcla\b"]),
                cue(0.5, &["open core"], &[]),
            ],
        ),
    ] {
        if let Some(t) = policy.topics.iter_mut().find(|t| t.id == "licensing") {
            t.cues = cues;
        }
    }
    let d = diff(&old, &new);
    assert_eq!(
        d.changes,
        [Change::Cues {
            topic: "licensing".into(),
            changes: CueChanges {
                phrases_added: 3,
                phrases_removed: 1,
                patterns_added: 1,
                patterns_removed: 0,
                reweighted: 1,
            },
        }]
    );
    assert_eq!(
        d.changes[0].to_string(),
        "licensing: triage cues changed: 3 phrases added, 1 removed; 1 pattern added, 0 removed; 1 reweighted"
    );
}

#[test]
fn settings_and_topic_fields_are_compared() {
    let old = import(V1, None).policy;
    let mut new = old.clone();
    new.sla.first_response = steward_policy::Minutes(12 * 60);
    new.allow_domains.push("example.org".into());
    if let Some(t) = new.topics.iter_mut().find(|t| t.id == "workplace") {
        t.sensitive = false;
        t.template = Some("We hire worldwide.".into());
        t.position_url = Some("https://example.org/jobs".into());
    }
    if let Some(r) = new.roles.iter_mut().find(|r| r.id == "people_lead") {
        r.title = "Head of People".into();
    }
    if let Some(t) = new.tips.first_mut() {
        t.text.push_str(" More.");
    }
    let text = diff(&old, &new).to_string();
    for expected in [
        "allowed domain added: example.org",
        "sla.first_response changed from 2d to 12h",
        "workplace: changed from sensitive to non-sensitive",
        "workplace: template response added",
        "workplace: official position changed from (none) to https://example.org/jobs",
        "role people_lead: title changed from \"People Lead\" to \"Head of People\"",
    ] {
        assert!(text.lines().any(|l| l == expected), "missing `{expected}` in:\n{text}");
    }
}

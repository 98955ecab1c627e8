//! Fuzzing triage with proptest: on arbitrary UTF-8 titles and bodies (multibyte text, very
//! long words, empty fields, cue words and personal data glued to anything) triage never
//! panics, every evidence and PII offset is a char-boundary range of its field, and the
//! redacted text keeps none of the IPs and emails the redactor found.

use std::sync::OnceLock;

use proptest::prelude::*;
use steward_triage::redact::PiiKind;
use steward_triage::{Field, Post, Triage, Triager};

const POLICY: &str = include_str!("../../../examples/policy.toml");

/// Built once: the default model takes seconds to train in a debug build.
fn triager() -> &'static Triager {
    static TRIAGER: OnceLock<Triager> = OnceLock::new();
    TRIAGER.get_or_init(|| {
        let (policy, _) = steward_policy::parse(POLICY).valid().expect("valid example");
        steward_triage::default_triager(&policy).expect("default triager")
    })
}

/// Words that drive the classifier and the redactor, and awkward characters.
const PIECES: &[&str] = &[
    "phone home",
    "telemetry",
    "opt-out",
    "license",
    "GPL",
    "relicens",
    "subpoena",
    "XSS",
    "CVE-2024-1234",
    "hiring",
    "unsubscribe",
    "enterprise",
    "paywall",
    "crash",
    "how do I",
    "thank you",
    "user@example.org",
    "jo.lee@mail-example.net",
    "203.0.113.7",
    "10.0.0.1:8080",
    "2001:db8::1",
    "https://example.com/a?b=c",
    "github.com",
    "+1 415 555 0132",
    "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "version 1.2.3.4",
    "é",
    "日本語",
    "🚨",
    "\u{301}",
    "«",
    "“",
    "—",
    "\u{200b}",
    "ß",
    "İ",
    "'",
    "*",
    "@",
    ".",
    ":",
    "\n",
    "\t",
    "",
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_string),
        2 => any::<String>().prop_map(|s| s.chars().take(16).collect()),
        1 => (proptest::sample::select(&["a", "é", "日", "1", "-", "@"][..]), 200usize..1500)
            .prop_map(|(c, n)| c.repeat(n)),
    ]
}

/// A field: pieces glued together or separated by spaces.
fn field() -> impl Strategy<Value = String> {
    let separator = proptest::sample::select(&["", " ", " ", "\n", ", "][..]);
    prop_oneof![
        1 => Just(String::new()),
        1 => any::<String>(),
        6 => proptest::collection::vec((piece(), separator), 0..24)
            .prop_map(|parts| parts.into_iter().map(|(p, sep)| p + sep).collect()),
    ]
}

fn check_offsets(post: &Post, t: &Triage) -> Result<(), TestCaseError> {
    prop_assert_eq!(&t.id, &post.id);
    prop_assert_eq!(t.sensitive, !t.topics.is_empty());
    prop_assert_eq!(t.kind.is_none(), t.sensitive);
    for m in &t.topics {
        prop_assert!(m.score.is_finite(), "{:?}", m);
        for e in &m.evidence {
            let text = post.field(e.field);
            prop_assert!(e.start <= e.end && e.end <= text.len(), "{:?}", e);
            prop_assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end), "{:?}", e);
            // The evidence is the original words, personal data inside them replaced by
            // its placeholder (a finding cut by the evidence's edge is replaced whole).
            let mut expected = String::new();
            let mut at = e.start;
            let mut inside: Vec<_> = t
                .pii
                .iter()
                .filter(|p| p.field == e.field && p.start < e.end && p.end > e.start)
                .collect();
            inside.sort_by_key(|p| p.start);
            for p in inside {
                expected.push_str(&text[at..p.start.max(at)]);
                expected.push_str(p.kind.placeholder());
                at = p.end.min(e.end);
            }
            expected.push_str(&text[at..e.end]);
            prop_assert_eq!(expected, e.text.as_str());
        }
    }
    for p in &t.pii {
        let text = post.field(p.field);
        prop_assert!(p.start < p.end && p.end <= text.len(), "{:?}", p);
        prop_assert!(text.is_char_boundary(p.start) && text.is_char_boundary(p.end), "{:?}", p);
    }
    Ok(())
}

/// The redacted field is the original with each finding replaced by its placeholder, and
/// an IP or email the redactor found is gone (unless the same text also occurs somewhere it
/// was not found, e.g. after the word "version").
fn check_redacted(post: &Post, t: &Triage, field: Field) -> Result<(), TestCaseError> {
    let original = post.field(field);
    let redacted = match field {
        Field::Title => &t.redacted.title,
        Field::Body => &t.redacted.body,
    };
    let mut findings: Vec<_> = t.pii.iter().filter(|p| p.field == field).collect();
    findings.sort_by_key(|p| p.start);
    let mut expected = String::new();
    let mut last = 0;
    for p in &findings {
        prop_assert!(p.start >= last, "findings overlap: {:?}", findings);
        expected.push_str(&original[last..p.start]);
        expected.push_str(p.kind.placeholder());
        last = p.end;
    }
    expected.push_str(&original[last..]);
    prop_assert_eq!(redacted, &expected);
    for p in &findings {
        if !matches!(p.kind, PiiKind::Ipv4 | PiiKind::Ipv6 | PiiKind::Email) {
            continue;
        }
        let found = &original[p.start..p.end];
        let same = findings.iter().filter(|q| &original[q.start..q.end] == found).count();
        if original.matches(found).count() == same {
            prop_assert!(!redacted.contains(found), "{found:?} left in {redacted:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn triage_never_panics_and_offsets_are_sound(title in field(), body in field()) {
        let post = Post { id: "fuzz".into(), title, body, ..Post::default() };
        let t = triager().triage(&post);
        check_offsets(&post, &t)?;
        check_redacted(&post, &t, Field::Title)?;
        check_redacted(&post, &t, Field::Body)?;
        for s in triager().score(&post) {
            prop_assert!(s.score.is_finite());
            for e in &s.evidence {
                // The words as the post has them, unless personal data falls inside: then
                // none of it is left.
                let field = post.field(e.field);
                let raw = field.get(e.start..e.end);
                prop_assert!(raw.is_some(), "{:?} is not a span of {:?}", e, field);
                let found = triager().redactor().find(field);
                let inside: Vec<&str> = found
                    .iter()
                    .filter(|(_, r)| r.start < e.end && r.end > e.start)
                    .map(|(_, r)| &field[r.clone()])
                    .collect();
                if inside.is_empty() {
                    prop_assert_eq!(raw, Some(e.text.as_str()));
                } else {
                    for pii in inside {
                        prop_assert!(!e.text.contains(pii), "{:?} left in {:?}", pii, e.text);
                    }
                }
            }
        }
    }

    #[test]
    fn ips_and_emails_never_survive_redaction(
        user in "[a-z][a-z0-9]{0,6}([._-][a-z0-9]{1,6})?",
        host in "[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?",
        tld in proptest::sample::select(&["com", "net", "io", "de", "co.uk"][..]),
        octets in proptest::array::uniform4(0u8..=255),
        before in field(),
        after in field(),
    ) {
        let email = format!("{user}@{host}.{tld}");
        let ip = format!("{}.{}.{}.{}", octets[0], octets[1], octets[2], octets[3]);
        let body = format!("{before} mail {email} or {ip} please {after}");
        let post = Post { id: "pii".into(), title: format!("from {ip}"), body, ..Post::default() };
        let t = triager().triage(&post);
        check_offsets(&post, &t)?;
        prop_assert!(!t.redacted.title.contains(&ip), "{:?}", t.redacted.title);
        let body = &t.redacted.body;
        prop_assert!(body.contains("mail [email] or [ip] please"), "{:?}", body);
        check_redacted(&post, &t, Field::Body)?;
        for e in t.topics.iter().flat_map(|m| &m.evidence) {
            prop_assert!(!e.text.contains(&email) && !e.text.contains(&ip), "{:?}", e);
        }
    }
}

//! Importing and exporting handbook pages: the two fixture pages of the Example Foundation
//! (a Markdown page and a later plain-text version), round trips, and generated policies.

use proptest::prelude::*;
use steward_policy::handbook::{self, export, import, snake_id};
use steward_policy::{Cue, Minutes, Person, Policy, Role, Severity, Sla, Tip, Topic};

const V1: &str = include_str!("../testdata/example_v1.md");
const V2: &str = include_str!("../testdata/example_v2.txt");

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<&str> {
    items.iter().map(id).collect()
}

fn topic<'a>(policy: &'a Policy, id: &str) -> &'a Topic {
    policy.topic(id).unwrap_or_else(|| panic!("no topic `{id}`"))
}

fn roles_of(policy: &Policy) -> Vec<(&str, &str, Vec<&str>)> {
    policy
        .roles
        .iter()
        .map(|r| (r.id.as_str(), r.title.as_str(), r.members.iter().map(String::as_str).collect()))
        .collect()
}

fn warnings(diagnostics: &[steward_policy::Diagnostic]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| d.message.as_str())
        .collect()
}

#[test]
fn imports_the_markdown_page() {
    let imported = import(V1, None);
    assert!(!imported.has_errors(), "{:#?}", imported.diagnostics);
    let p = &imported.policy;

    assert_eq!(
        ids(&p.topics, |t| &t.id),
        [
            "privacy_telemetry",
            "product_regulation",
            "licensing",
            "packaging",
            "workplace",
            "security_vulnerability",
            "illicit_use",
            "marketing_regulation",
            "government_request",
            "trademark_use",
            "feature_request",
            "troubleshooting",
            "bug_report",
            "feedback",
        ]
    );
    assert_eq!(p.topics.iter().filter(|t| t.sensitive).count(), 10);
    let expect = |id: &str, title: &str, responders: &[&str], loop_in: &[&str]| {
        let t = topic(p, id);
        assert_eq!(t.title, title, "{id}");
        assert!(t.sensitive, "{id}");
        assert_eq!(t.responders, responders, "{id} responders");
        assert_eq!(t.loop_in, loop_in, "{id} loop-ins");
    };
    expect(
        "privacy_telemetry",
        "Telemetry and privacy",
        &["community_lead", "product_director", "executive_director"],
        &["executive_director"],
    );
    expect(
        "product_regulation",
        "Product-related Regulations/GDPR",
        &["community_lead", "legal_counsel", "executive_director"],
        &["legal_counsel"],
    );
    expect("licensing", "Licensing", &["legal_counsel", "community_lead"], &[]);
    expect("packaging", "Packaging", &["product_director"], &["finance_lead"]);
    expect("workplace", "Workplace policies", &["people_lead", "legal_counsel"], &[]);
    expect(
        "security_vulnerability",
        "Security vulnerabilities",
        &["security_lead", "release_manager", "community_lead"],
        &["security_lead", "executive_director"],
    );
    expect(
        "illicit_use",
        "Illicit use",
        &["legal_counsel", "executive_director"],
        &["legal_counsel"],
    );
    expect(
        "marketing_regulation",
        "Marketing-related Regulations/GDPR",
        &["marketing_lead", "legal_counsel"],
        &["marketing_lead"],
    );
    expect(
        "government_request",
        "Governmental data request",
        &["legal_counsel", "executive_director"],
        &["legal_counsel"],
    );
    expect("trademark_use", "Trademark use", &["marketing_lead", "executive_director"], &[]);

    let privacy = topic(p, "privacy_telemetry");
    assert_eq!(
        privacy.description,
        "Non-legal Telemetry and privacy opinions, for example what the server reports home"
    );
    assert_eq!(privacy.template, None, "`To be added` is no template");
    let licensing = topic(p, "licensing");
    assert_eq!(
        licensing.template.as_deref(),
        Some("We publish our licensing FAQ at https://example.org/licensing.")
    );
    assert_eq!(licensing.position_url.as_deref(), Some("https://example.org/licensing"));
    assert_eq!(topic(p, "packaging").first_response, Some(Minutes(3 * 24 * 60)));
    assert_eq!(topic(p, "security_vulnerability").first_response, Some(Minutes(24 * 60)));
    assert_eq!(topic(p, "security_vulnerability").description, "");
    for kind in ["feature_request", "troubleshooting", "bug_report", "feedback"] {
        let t = topic(p, kind);
        assert!(!t.sensitive && t.responders.is_empty(), "{kind}");
    }

    assert_eq!(
        roles_of(p),
        [
            ("executive_director", "Executive Director", vec!["rosa_delgado"]),
            ("product_director", "Product Director", vec!["tomasz_nowak"]),
            ("community_lead", "Community Lead", vec!["amara_okafor"]),
            ("legal_counsel", "Legal Counsel", vec!["hiroshi_tanaka", "priya_raman"]),
            ("security_lead", "Security Lead", vec!["lukas_becker"]),
            ("release_manager", "Release Manager", vec!["lukas_becker"]),
            ("people_lead", "People Lead", vec!["priya_raman"]),
            ("marketing_lead", "Marketing Lead", vec!["sofia_rossi"]),
            ("finance_lead", "Finance Lead", vec!["tomasz_nowak"]),
        ]
    );
    let person = |id: &str, name: &str, chat: &str, github: Option<&str>| Person {
        id: id.into(),
        name: name.into(),
        chat: Some(chat.into()),
        github: github.map(Into::into),
        email: None,
    };
    assert_eq!(
        p.people,
        [
            person("rosa_delgado", "Rosa Delgado", "rosa.delgado", None),
            person("tomasz_nowak", "Tomasz Nowak", "tomasz.nowak", None),
            person("amara_okafor", "Amara Okafor", "amara", Some("amarao")),
            person("hiroshi_tanaka", "Hiroshi Tanaka", "hiroshi.tanaka", None),
            person("priya_raman", "Priya Raman", "priya.raman", None),
            person("lukas_becker", "Lukas Becker", "lukas.becker", None),
            person("sofia_rossi", "Sofia Rossi", "sofia.rossi", None),
        ]
    );
    assert!(p.tips.is_empty());

    let w = warnings(&imported.diagnostics);
    assert!(
        w.contains(
            &"`Trademark use` is not a standard sensitive topic; imported as `trademark_use`"
        ),
        "{w:#?}"
    );
    assert!(!w.iter().any(|m| m.contains("has no person")), "{w:#?}");
}

#[test]
fn imports_the_plain_text_page() {
    let imported = import(V2, None);
    assert!(!imported.has_errors(), "{:#?}", imported.diagnostics);
    let p = &imported.policy;

    assert_eq!(
        ids(&p.topics, |t| &t.id),
        [
            "privacy_telemetry",
            "product_regulation",
            "licensing",
            "packaging",
            "workplace",
            "security_vulnerability",
            "illicit_use",
            "marketing_regulation",
            "government_request",
            "feature_request",
            "troubleshooting",
            "bug_report",
            "feedback",
        ]
    );
    let expect = |id: &str, title: &str, responders: &[&str], loop_in: &[&str]| {
        let t = topic(p, id);
        assert_eq!(t.title, title, "{id}");
        assert_eq!(t.responders, responders, "{id} responders");
        assert_eq!(t.loop_in, loop_in, "{id} loop-ins");
    };
    expect(
        "privacy_telemetry",
        "Telemetry and privacy opinions",
        &["community_lead", "product_director", "executive_director"],
        &["executive_director", "board_liaison"],
    );
    expect(
        "product_regulation",
        "Product-related Regulations/GDPR",
        &["legal_counsel", "community_lead", "executive_director"],
        &["legal_counsel"],
    );
    expect("licensing", "Licensing", &["legal_counsel", "board_liaison", "community_lead"], &[]);
    expect("packaging", "Packaging", &["product_director", "finance_lead"], &["finance_lead"]);
    expect("workplace", "Workplace policies", &["people_lead", "legal_counsel"], &[]);
    expect(
        "security_vulnerability",
        "Security vulnerabilities",
        &["security_lead", "community_lead"],
        &["security_lead", "executive_director", "release_manager"],
    );
    expect(
        "illicit_use",
        "Illicit use",
        &["legal_counsel", "executive_director"],
        &["legal_counsel"],
    );
    expect(
        "marketing_regulation",
        "Marketing-related Regulations/GDPR",
        &["marketing_lead", "legal_counsel"],
        &["marketing_lead"],
    );
    expect(
        "government_request",
        "Governmental data request",
        &["legal_counsel", "executive_director"],
        &["legal_counsel"],
    );
    assert_eq!(topic(p, "packaging").first_response, Some(Minutes(2 * 24 * 60)));
    assert_eq!(topic(p, "illicit_use").description, "Illicit use of the software");

    assert_eq!(
        roles_of(p),
        [
            ("executive_director", "Executive Director", vec!["rosa_delgado"]),
            ("product_director", "Product Director", vec!["tomasz_nowak"]),
            ("community_lead", "Community Lead", vec!["amara_okafor"]),
            ("legal_counsel", "Legal Counsel", vec!["priya_raman"]),
            ("security_lead", "Security Lead", vec!["lukas_becker"]),
            ("release_manager", "Release Manager", vec!["lukas_becker", "mei_chen"]),
            ("people_lead", "People Lead", vec!["priya_raman"]),
            ("marketing_lead", "Marketing Lead", vec!["sofia_rossi"]),
            ("finance_lead", "Finance Lead", vec!["tomasz_nowak"]),
            ("board_liaison", "Board Liaison", vec![]),
        ]
    );
    assert_eq!(
        ids(&p.people, |x| &x.id),
        [
            "rosa_delgado",
            "tomasz_nowak",
            "amara_okafor",
            "priya_raman",
            "lukas_becker",
            "mei_chen",
            "sofia_rossi"
        ]
    );
    let amara = p.person("amara_okafor").expect("Amara is listed");
    assert_eq!(amara.chat.as_deref(), Some("amara.okafor"));
    assert_eq!((amara.github.as_deref(), amara.email.as_deref()), (None, None));

    assert_eq!(
        p.tips,
        [
            tip(
                "promise_only_what_is_planned",
                "Promise only what is planned",
                "If a feature is not on the roadmap, say so. Never hint at a date nobody has agreed to."
            ),
            tip(
                "point_to_the_documentation",
                "Point to the documentation",
                "Link the page that answers the question, so the answer stays current as the docs change.\n\
                 If the docs do not answer it but should, file an issue for the docs and link it in your reply."
            ),
            tip(
                "protect_personal_details",
                "Protect personal details",
                "If a post shows someone's email address or server address, edit it out before you reply."
            ),
            tip("thank_people", "Thank people", "Contributors who are thanked come back."),
        ]
    );
}

fn tip(id: &str, title: &str, text: &str) -> Tip {
    Tip {
        id: id.into(),
        title: title.into(),
        text: text.into(),
        avoid: Vec::new(),
        require: Vec::new(),
        check: None,
    }
}

#[test]
fn a_role_named_but_never_mapped_is_a_role_with_no_person() {
    let imported = import(V2, None);
    let warning = imported
        .diagnostics
        .iter()
        .find(|d| d.message.contains("role `board_liaison` (Board Liaison) has no person"))
        .expect("a warning about the unmapped Board Liaison");
    assert_eq!(warning.severity, Severity::Warning);
    // It points at the first line that names the role: the privacy topic's loop-ins.
    assert_eq!(warning.render("v2.txt", V2), format!("v2.txt:13:1: warning: {}", warning.message));
}

#[test]
fn windows_line_endings_read_the_same() {
    for page in [V1, V2] {
        let crlf = page.replace('\n', "\r\n");
        assert_eq!(import(&crlf, None).policy, import(page, None).policy);
    }
}

#[test]
fn export_then_import_gives_the_same_policy() {
    for page in [V1, V2] {
        let first = import(page, None).policy;
        let page = export(&first);
        assert_eq!(export(&first), page, "export is deterministic");
        let again = import(&page, None);
        assert_eq!(again.policy, first, "page:\n{page}");
        assert_eq!(again.stated, Some((first.version.clone(), first.effective.clone())));
        assert!(
            !again.diagnostics.iter().any(|d| d.message.contains("skipped")),
            "{:#?}",
            again.diagnostics
        );
    }
}

/// A page states its version in the sentence `export` opens it with; a label may have spaces.
#[test]
fn the_version_a_page_states_is_read_back() {
    let mut policy = import(V1, None).policy;
    policy.version = "2024.3 draft".into();
    policy.effective = "2024-02-29".into();
    let again = import(&export(&policy), None);
    assert_eq!(again.stated, Some(("2024.3 draft".into(), "2024-02-29".into())));
    assert_eq!(
        (again.policy.version.as_str(), again.policy.effective.as_str()),
        ("2024.3 draft", "2024-02-29")
    );
    assert_eq!(import(V1, None).stated, None, "the fixture page states no version");
    // Only that sentence, at the start of a line: a version mentioned in passing is not one.
    let page = "# Policy\n\nOur Version 2, effective 2024-01-01. is not a statement.\n";
    assert_eq!(import(page, None).stated, None);
}

#[test]
fn the_exported_page_has_the_handbook_shape() {
    let page = export(&import(V2, None).policy);
    for line in [
        "## Sensitive topics",
        "1 - **Telemetry and privacy opinions**, for example what the server reports home",
        "* Approved Responders: Legal Counsel, Board Liaison, Community Lead",
        "* Loop in: Security Lead, Executive Director, Release Manager",
        "* Template Response: To be added",
        "* Official position: https://example.org/licensing",
        "* First response within: 1d",
        "### Non-sensitive topics",
        "* **Feature requests**",
        "## Response writing tips",
        "### Thank people",
        "### Roles",
        "* Release Manager: Lukas Becker, Mei Chen",
        "* Board Liaison: (nobody)",
    ] {
        assert!(page.lines().any(|l| l == line), "missing `{line}` in:\n{page}");
    }
}

fn base_policy() -> Policy {
    let mut base = import(V2, None).policy;
    base.name = "Example Foundation Response Policy".into();
    base.version = "7".into();
    base.effective = "2024-03-01".into();
    base.allow_domains = vec!["example.org".into()];
    base.sla = Sla { first_response: Minutes(24 * 60), reminder_before: Minutes(60) };
    base.model_weight = 0.5;
    for t in &mut base.topics {
        t.cues = vec![Cue {
            weight: 2.0,
            phrases: vec![t.title.to_lowercase()],
            patterns: Vec::new(),
            title_only: false,
            cap: None,
        }];
        t.threshold = 1.5;
        t.responders = vec!["executive_director".into()];
    }
    let security = base.topics.iter_mut().find(|t| t.id == "security_vulnerability");
    if let Some(t) = security {
        t.description = "Reports of weaknesses in our software".into();
    }
    let privacy = base.topics.iter_mut().find(|t| t.id == "privacy_telemetry");
    if let Some(t) = privacy {
        t.position_url = Some("https://example.org/telemetry".into());
        t.first_response = Some(Minutes(4 * 60));
    }
    base.tips[2].check = Some("personal_data".into());
    base.tips[0].id = "no_false_promises".into();
    base.tips[0].avoid = vec![r"we'?ll (add|ship)".into()];
    base.people[0].github = Some("rdelgado".into());
    base.people[0].email = Some("rosa@example.org".into());
    base
}

#[test]
fn what_the_page_does_not_say_comes_from_the_base_policy() {
    let base = base_policy();
    let imported = import(V1, Some(&base));
    let p = &imported.policy;
    assert_eq!(
        (p.name.as_str(), p.version.as_str(), p.effective.as_str()),
        ("Example Foundation Response Policy", "7", "2024-03-01")
    );
    assert_eq!(p.allow_domains, ["example.org"]);
    assert_eq!(p.sla, base.sla);
    assert_eq!(p.model_weight, 0.5);

    let security = topic(p, "security_vulnerability");
    assert_eq!(security.description, "Reports of weaknesses in our software", "page gives none");
    assert_eq!(security.threshold, 1.5);
    assert_eq!(security.cues, topic(&base, "security_vulnerability").cues);
    assert_eq!(security.first_response, Some(Minutes(24 * 60)), "the page's own target wins");
    assert_eq!(
        security.responders,
        ["security_lead", "release_manager", "community_lead"],
        "the page's responders win"
    );
    let privacy = topic(p, "privacy_telemetry");
    assert_eq!(privacy.position_url.as_deref(), Some("https://example.org/telemetry"));
    assert_eq!(privacy.first_response, Some(Minutes(4 * 60)));
    assert!(privacy.description.starts_with("Non-legal"), "the page's description wins");
    assert!(topic(p, "trademark_use").cues.is_empty(), "not in the base");
    assert!(!imported
        .diagnostics
        .iter()
        .any(|d| d.message.contains("no triage cues: it is only ever escalated by hand")
            && !d.message.contains("trademark_use")));

    let rosa = p.person("rosa_delgado").expect("Rosa is listed");
    assert_eq!(rosa.github.as_deref(), Some("rdelgado"));
    assert_eq!(rosa.email.as_deref(), Some("rosa@example.org"));
    let amara = p.person("amara_okafor").expect("Amara is listed");
    assert_eq!(
        (amara.chat.as_deref(), amara.github.as_deref()),
        (Some("amara"), Some("amarao")),
        "the page's handles win"
    );
    assert!(p.person("hiroshi_tanaka").is_some(), "people come from the page");
    assert!(p.role("board_liaison").is_none(), "roles come from the page");

    let tips = import(V2, Some(&base)).policy.tips;
    assert_eq!(tips[0].id, "no_false_promises", "matched by title, keeps the base id");
    assert_eq!(tips[0].avoid, base.tips[0].avoid);
    assert_eq!(tips[2].check.as_deref(), Some("personal_data"));
    assert!(tips[1].avoid.is_empty() && tips[1].check.is_none());
}

#[test]
fn import_is_stable_with_a_base_policy_too() {
    let base = base_policy();
    for page in [V1, V2] {
        let first = import(page, Some(&base)).policy;
        assert_eq!(import(&export(&first), Some(&base)).policy, first);
    }
}

#[test]
fn a_page_without_the_non_sensitive_sentence_still_gets_the_four_kinds() {
    let page =
        "Sensitive topics\nLicensing questions:\nApproved Responders: CEO\nRoles\nCEO: Jo Park\n";
    let imported = import(page, None);
    let p = &imported.policy;
    assert_eq!(
        ids(&p.topics, |t| &t.id),
        ["licensing", "feature_request", "troubleshooting", "bug_report", "feedback"]
    );
    assert_eq!(
        p.roles,
        [Role { id: "ceo".into(), title: "CEO".into(), members: vec!["jo_park".into()] }]
    );
    assert!(!imported.has_errors(), "{:#?}", imported.diagnostics);
}

#[test]
fn skipped_lines_that_look_meaningful_are_reported() {
    let page = "\
## Sensitive topics

1 - **Licensing**
* Approved Responders: CEO
* Escalate to: CTO
* First response within: soon-ish

2 - **Packaging**

### Roles

* CEO: Jo Park
* just a stray bullet
";
    let imported = import(page, None);
    let w = warnings(&imported.diagnostics);
    assert!(w.iter().any(|m| m.starts_with("unknown topic field `Escalate to`")), "{w:#?}");
    assert!(w.iter().any(|m| m.contains("`soon-ish` is not a duration")), "{w:#?}");
    assert!(w.iter().any(|m| m.starts_with("`Packaging` looks like a topic but has no")), "{w:#?}");
    assert!(
        w.iter().any(|m| m.starts_with("`just a stray bullet` is not a `Role: names` line")),
        "{w:#?}"
    );
    assert_eq!(imported.policy.topic("packaging"), None);
    let unknown =
        imported.diagnostics.iter().find(|d| d.message.contains("Escalate to")).expect("reported");
    assert!(unknown.render("p.md", page).starts_with("p.md:5:1:"));
}

// --- generated policies ------------------------------------------------------------------------

const WORDS: [&str; 16] = [
    "alpha", "bravo", "delta", "echo", "golf", "hotel", "kilo", "lima", "oscar", "papa", "quebec",
    "romeo", "sierra", "tango", "victor", "zulu",
];

fn words(range: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(&WORDS[..]), range)
}

fn capitalised(words: &[&str]) -> String {
    let text = words.join(" ");
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn title(range: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    words(range).prop_map(|w| capitalised(&w))
}

fn name() -> impl Strategy<Value = String> {
    words(2..=2).prop_map(|w| w.iter().map(|x| capitalised(&[x])).collect::<Vec<_>>().join(" "))
}

/// A person's handles: 0 = the default chat handle, 1 = another, 2 = none; optional GitHub
/// login and email.
type Handles = (u8, Option<&'static str>, Option<&'static str>);

fn handles() -> impl Strategy<Value = Handles> {
    (
        0u8..3,
        prop::option::of(prop::sample::select(&WORDS[..])),
        prop::option::of(prop::sample::select(&WORDS[..])),
    )
}

#[derive(Debug, Clone)]
struct TopicSpec {
    title: String,
    sensitive: bool,
    description: (u8, Vec<&'static str>),
    responders: Vec<prop::sample::Index>,
    loop_in: Vec<prop::sample::Index>,
    template: Option<String>,
    position: Option<&'static str>,
    first_response: Option<u32>,
}

fn topic_spec() -> impl Strategy<Value = TopicSpec> {
    (
        title(1..=3),
        any::<bool>(),
        (0u8..4, words(1..=5)),
        prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        prop::option::of(title(1..=8).prop_map(|t| format!("{t}."))),
        prop::option::of(prop::sample::select(&WORDS[..])),
        prop::option::of(1u32..50_000),
    )
        .prop_map(
            |(
                title,
                sensitive,
                description,
                responders,
                loop_in,
                template,
                position,
                first_response,
            )| {
                TopicSpec {
                    title,
                    sensitive,
                    description,
                    responders,
                    loop_in,
                    template,
                    position,
                    first_response,
                }
            },
        )
}

fn description(title: &str, (kind, words): &(u8, Vec<&str>)) -> String {
    let words = words.join(" ");
    match kind {
        0 => String::new(),
        1 => format!("{title}, {words}"),
        2 => format!("{words} {title} {words}"),
        _ => words,
    }
}

fn pick(from: &[String], picks: &[prop::sample::Index]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if from.is_empty() {
        return out;
    }
    for i in picks {
        let id = i.get(from).clone();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

prop_compose! {
    fn policy()(
        people in prop::collection::vec((name(), handles()), 1..6),
        roles in prop::collection::vec((title(1..=3), prop::collection::vec(any::<prop::sample::Index>(), 0..3)), 1..6),
        topics in prop::collection::vec(topic_spec(), 1..6),
        tips in prop::collection::vec((title(1..=5), prop::collection::vec(title(2..=8), 1..4), any::<bool>()), 0..4),
    ) -> Policy {
        let mut pool: Vec<Person> = Vec::new();
        for (name, (chat, github, email)) in people {
            let id = snake_id(&name);
            if pool.iter().any(|p| p.id == id) {
                continue;
            }
            let chat = match chat {
                0 => Some(handbook::chat_placeholder(&name)),
                1 => Some(format!("{id}_chat")),
                _ => None,
            };
            pool.push(Person {
                id,
                name,
                chat,
                github: github.map(|g| format!("{g}-gh")),
                email: email.map(|e| format!("{e}@example.org")),
            });
        }
        let pool_ids: Vec<String> = pool.iter().map(|p| p.id.clone()).collect();

        let mut policy_roles: Vec<Role> = Vec::new();
        for (title, members) in roles {
            let id = snake_id(&title);
            if !policy_roles.iter().any(|r| r.id == id) {
                policy_roles.push(Role { id, title, members: pick(&pool_ids, &members) });
            }
        }
        // Only people who hold a role appear on a handbook page, in the order they appear.
        let mut people: Vec<Person> = Vec::new();
        for member in policy_roles.iter().flat_map(|r| &r.members) {
            if !people.iter().any(|p| &p.id == member) {
                people.extend(pool.iter().find(|p| &p.id == member).cloned());
            }
        }
        let role_ids: Vec<String> = policy_roles.iter().map(|r| r.id.clone()).collect();

        let kinds = [
            ("feature_request", "Feature requests"),
            ("troubleshooting", "Troubleshooting questions"),
            ("bug_report", "Bug reports"),
            ("feedback", "User feedback"),
        ];
        let mut sensitive: Vec<Topic> = Vec::new();
        let mut other: Vec<Topic> = kinds
            .iter()
            .map(|(id, title)| Topic {
                id: (*id).into(),
                title: (*title).into(),
                sensitive: false,
                description: String::new(),
                responders: Vec::new(),
                loop_in: Vec::new(),
                template: None,
                position_url: None,
                first_response: None,
                threshold: 1.0,
                cues: Vec::new(),
            })
            .collect();
        for spec in topics {
            let id = snake_id(&spec.title);
            if sensitive.iter().chain(&other).any(|t| t.id == id) {
                continue;
            }
            let mut description = description(&spec.title, &spec.description);
            if description == spec.title {
                description.clear();
            }
            let mut topic = Topic {
                id,
                title: spec.title,
                sensitive: spec.sensitive,
                description,
                responders: Vec::new(),
                loop_in: Vec::new(),
                template: None,
                position_url: None,
                first_response: None,
                threshold: 1.0,
                cues: Vec::new(),
            };
            if spec.sensitive {
                topic.responders = pick(&role_ids, &spec.responders);
                topic.loop_in = pick(&role_ids, &spec.loop_in);
                topic.template = spec.template;
                topic.position_url = spec.position.map(|p| format!("https://example.org/{p}"));
                topic.first_response = spec.first_response.map(Minutes);
                sensitive.push(topic);
            } else {
                other.push(topic);
            }
        }

        let mut policy_tips: Vec<Tip> = Vec::new();
        for (title, lines, paragraphs) in tips {
            let id = snake_id(&title);
            if policy_tips.iter().any(|t| t.id == id) {
                continue;
            }
            let lines: Vec<String> = lines.into_iter().map(|l| format!("{l}.")).collect();
            let text = lines.join(if paragraphs { "\n\n" } else { "\n" });
            policy_tips.push(Tip { id, title, text, avoid: Vec::new(), require: Vec::new(), check: None });
        }

        Policy {
            name: "Generated Policy".into(),
            version: "1".into(),
            effective: "2024-01-01".into(),
            allow_domains: Vec::new(),
            sla: Sla::default(),
            model_weight: 1.0,
            topics: sensitive.into_iter().chain(other).collect(),
            roles: policy_roles,
            people,
            tips: policy_tips,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_imports_without_panicking(page in "(?s)[\\PC\n\r*#:,()<>\\-]{0,400}") {
        let imported = import(&page, None);
        for d in &imported.diagnostics {
            let _ = d.render("page", &page);
        }
        let _ = import(&export(&imported.policy), None);
    }

    #[test]
    fn pages_made_of_handbook_lines_import_without_panicking(
        lines in prop::collection::vec(prop::sample::select(&[
            "## Sensitive topics", "Sensitive topics", "Roles", "### Roles", "Response writing tips",
            "Non-sensitive topics include bug reports and feedback.", "1 - **Licensing**, more",
            "* Approved Responders: CEO, CTO and CFO", "Loop in: CEO", "Template Response: To be added",
            "  continued", "", "* CEO: Ian Tien (@ian, x)", "CRO: (nobody)", "Be thankful",
            "Thank people.", "First response within: 2x", "Official position: [faq](https://x.org)",
            "\u{feff}Last updated: today", "### Tip", "**Bold tip**", "Escalate to: CEO",
        ][..]), 0..40)
    ) {
        let page = lines.join("\n");
        let imported = import(&page, None);
        for d in &imported.diagnostics {
            let _ = d.render("page", &page);
        }
        let again = import(&export(&imported.policy), None).policy;
        prop_assert_eq!(&again.roles, &imported.policy.roles);
        prop_assert_eq!(&again.people, &imported.policy.people);
    }

    #[test]
    fn exported_policies_import_back_the_same(policy in policy()) {
        let page = export(&policy);
        let imported = import(&page, None);
        prop_assert_eq!(&imported.policy.topics, &policy.topics, "page:\n{}", page);
        prop_assert_eq!(&imported.policy.roles, &policy.roles, "page:\n{}", page);
        prop_assert_eq!(&imported.policy.people, &policy.people, "page:\n{}", page);
        prop_assert_eq!(&imported.policy.tips, &policy.tips, "page:\n{}", page);
        prop_assert!(
            !imported.diagnostics.iter().any(|d| d.message.contains("skipped")),
            "{:#?}", imported.diagnostics
        );
        prop_assert_eq!(export(&imported.policy), export(&Policy {
            name: imported.policy.name.clone(),
            version: imported.policy.version.clone(),
            effective: imported.policy.effective.clone(),
            ..policy.clone()
        }));
    }
}

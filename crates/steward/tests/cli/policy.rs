//! `steward policy check|import|export|diff`.

use crate::{at, root, steward, write, Run};

/// A small valid policy; each bad file below is this one with one thing broken.
pub const TINY: &str = r#"name = "Tiny Project Policy"
version = "1"
effective = "2024-06-01"

[[topics]]
id = "licensing"
title = "Licensing"
sensitive = true
responders = ["legal", "maintainers"]
first_response = "2d"

[[topics.cues]]
weight = 1.0
phrases = ["license"]
patterns = ['''\bcopyleft\b''']

[[topics]]
id = "bug_report"
title = "Bug reports"
sensitive = false

[[roles]]
id = "legal"
title = "Legal"
members = ["ann"]

[[roles]]
id = "maintainers"
title = "Maintainers"
members = ["ann", "bo"]

[[people]]
id = "ann"
name = "Ann Example"

[[people]]
id = "bo"
name = "Bo Example"
"#;

const V1: &str = "crates/steward-policy/testdata/example_v1.md";
const V2: &str = "crates/steward-policy/testdata/example_v2.txt";

/// `TINY` with `from` (which must occur exactly once) replaced by `to`.
#[track_caller]
fn tiny_with(from: &str, to: &str) -> String {
    assert_eq!(TINY.matches(from).count(), 1, "{from:?} must occur once in TINY");
    TINY.replacen(from, to, 1)
}

fn errors(run: &Run) -> Vec<&str> {
    run.stdout.lines().filter(|l| l.contains(": error: ")).collect()
}

/// Checks one file and returns the run and the path as printed.
fn check(name: &str, src: &str) -> (Run, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), name, src);
    (steward(&["policy", "check", &path]), path)
}

#[test]
fn the_example_policy_passes_with_its_warning() {
    let run = steward(&["policy", "check", "examples/policy.toml"]);
    run.expect_code(0);
    let src = std::fs::read_to_string(root().join("examples/policy.toml")).expect("example");
    let cro = at(&src, "id = \"cro\"", "\"cro\"");
    let warning = format!(
        "examples/policy.toml:{cro}: warning: role `cro` (CRO) has no person: responders and \
         loop-ins through it reach nobody"
    );
    assert!(run.stdout_lines().contains(&warning.as_str()), "{warning}\nnot in:\n{}", run.stdout);
    assert!(errors(&run).is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("examples/policy.toml: ok: policy"), "{}", run.stderr);
}

#[test]
fn the_tiny_policy_is_valid() {
    let (run, _) = check("tiny.toml", TINY);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "no diagnostics for a clean file");
    assert!(run.stderr.contains(": ok: policy `Tiny Project Policy` version 1"), "{}", run.stderr);
}

/// Each broken file reports exactly one error, at the place in the file named by
/// `(context, inner)`: the start of `inner` within the unique text `context`.
#[test]
fn each_problem_is_one_error_at_its_place() {
    struct Case {
        what: &'static str,
        src: String,
        context: &'static str,
        inner: &'static str,
        message: &'static str,
    }
    let cases = [
        Case {
            what: "unknown role in responders",
            src: tiny_with(r#"["legal", "maintainers"]"#, r#"["legal", "maintainerz"]"#),
            context: r#""maintainerz""#,
            inner: r#""maintainerz""#,
            message: "topic `licensing` names unknown role `maintainerz` (known roles: legal, maintainers)",
        },
        Case {
            what: "role mapped to an unknown person",
            src: tiny_with(r#"members = ["ann", "bo"]"#, r#"members = ["ann", "bob"]"#),
            context: r#""bob""#,
            inner: r#""bob""#,
            message: "role `maintainers` names unknown person `bob`",
        },
        Case {
            what: "sensitive topic without approved responders",
            src: tiny_with("responders = [\"legal\", \"maintainers\"]\n", ""),
            context: r#"id = "licensing""#,
            inner: r#""licensing""#,
            message: "sensitive topic `licensing` has no approved responders",
        },
        Case {
            what: "duplicate topic id",
            src: tiny_with(r#"id = "bug_report""#, r#"id = "licensing""#),
            context: "id = \"licensing\"\ntitle = \"Bug reports\"",
            inner: r#""licensing""#,
            message: "duplicate topic id `licensing` (also topic number 1)",
        },
        Case {
            what: "duplicate role id",
            src: tiny_with(
                "[[people]]\nid = \"ann\"",
                "[[roles]]\nid = \"legal\"\ntitle = \"Legal again\"\nmembers = [\"bo\"]\n\n\
                 [[people]]\nid = \"ann\"",
            ),
            context: "id = \"legal\"\ntitle = \"Legal again\"",
            inner: r#""legal""#,
            message: "duplicate role id `legal` (also role number 1)",
        },
        Case {
            what: "bad regex in a cue pattern",
            src: tiny_with(r"'''\bcopyleft\b'''", r"'''\bcopyleft(\b'''"),
            context: r"'''\bcopyleft(\b'''",
            inner: "'''",
            message: r"bad regular expression `\bcopyleft(\b`: error: unclosed group",
        },
        Case {
            what: "unknown key",
            src: tiny_with("responders = [", "respondrs = ["),
            context: "respondrs = [",
            inner: "respondrs",
            message: "unknown field `respondrs`, expected one of `id`, `title`, `sensitive`, \
                      `description`, `responders`, `loop_in`, `template`, `position_url`, \
                      `first_response`, `threshold`, `cues`",
        },
        Case {
            what: "bad duration",
            src: tiny_with(r#"first_response = "2d""#, r#"first_response = "2 fortnights""#),
            context: r#""2 fortnights""#,
            inner: r#""2 fortnights""#,
            message: "`2 fortnights` is not a duration: write a whole number and a unit, like \
                      `30m`, `24h`, `3d` or `1w`",
        },
        Case {
            what: "TOML syntax error (unterminated string)",
            src: tiny_with(r#"title = "Licensing""#, r#"title = "Licensing"#),
            // The string runs into the end of the line: the error is at the newline.
            context: "title = \"Licensing\n",
            inner: "\n",
            message: "invalid basic string",
        },
        Case {
            what: "sensitive topic whose roles hold nobody",
            src: tiny_with(r#"members = ["ann"]"#, "members = []")
                .replacen(r#"members = ["ann", "bo"]"#, "members = []", 1),
            context: r#"responders = ["legal", "maintainers"]"#,
            inner: "[",
            message: "sensitive topic `licensing` has no approved responder: none of its roles \
                      (legal, maintainers) has a person",
        },
    ];
    for case in &cases {
        let (run, path) = check("bad.toml", &case.src);
        run.expect_code(1);
        let expected =
            format!("{path}:{}: error: {}", at(&case.src, case.context, case.inner), case.message);
        assert_eq!(errors(&run), [expected.as_str()], "{}:\n{}", case.what, run.stdout);
        assert!(!run.stderr.contains(": ok: policy"), "{}: {}", case.what, run.stderr);
    }
}

#[test]
fn a_syntax_error_points_at_the_offending_character() {
    let src = tiny_with("weight = 1.0", "weight = = 1.0");
    let (run, path) = check("syntax.toml", &src);
    run.expect_code(1);
    let first = run.stdout.lines().next().expect("a diagnostic");
    let place = at(&src, "weight = = 1.0", "= 1.0");
    assert_eq!(
        first,
        format!("{path}:{place}: error: invalid string: expected `\"`, `'`"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1, "one line per problem: {}", run.stdout);
}

#[test]
fn a_file_with_several_problems_reports_all_of_them() {
    let src = tiny_with(r#"["legal", "maintainers"]"#, r#"["legal", "maintainerz", "press"]"#)
        .replacen(r#"members = ["ann", "bo"]"#, r#"members = ["ann", "bob"]"#, 1)
        .replacen(r"'''\bcopyleft\b'''", r"'''\bcopyleft(\b'''", 1)
        .replacen(r#"id = "bug_report""#, r#"id = "licensing""#, 1)
        .replacen(r#"effective = "2024-06-01""#, r#"effective = "June 2024""#, 1);
    let (run, path) = check("several.toml", &src);
    run.expect_code(1);
    let expect = [
        (
            at(&src, r#""maintainerz""#, "\""),
            "topic `licensing` names unknown role `maintainerz` (known roles: legal, maintainers)",
        ),
        (
            at(&src, r#""press""#, "\""),
            "topic `licensing` names unknown role `press` (known roles: legal, maintainers)",
        ),
        (at(&src, r#""bob""#, "\""), "role `maintainers` names unknown person `bob`"),
        (
            at(&src, r"'''\bcopyleft(\b'''", "'"),
            r"bad regular expression `\bcopyleft(\b`: error: unclosed group",
        ),
        (
            at(&src, "id = \"licensing\"\ntitle = \"Bug", "\"licensing\""),
            "duplicate topic id `licensing` (also topic number 1)",
        ),
        (
            at(&src, r#""June 2024""#, "\""),
            "effective date `June 2024` is not a date like 2024-06-01",
        ),
    ];
    let got = errors(&run);
    for (place, message) in &expect {
        let line = format!("{path}:{place}: error: {message}");
        assert!(got.contains(&line.as_str()), "missing {line}\nin:\n{}", run.stdout);
    }
    assert_eq!(got.len(), expect.len(), "{}", run.stdout);
}

#[test]
fn checking_several_files_reports_each_and_fails_if_any_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(dir.path(), "good.toml", TINY);
    let bad = write(dir.path(), "bad.toml", &tiny_with(r#""bo"]"#, r#""bob"]"#));
    let run = steward(&["policy", "check", &good, &bad]);
    run.expect_code(1);
    assert!(run.stdout.lines().all(|l| l.starts_with(&bad)), "{}", run.stdout);
    assert_eq!(errors(&run).len(), 1, "{}", run.stdout);
    assert!(run.stderr.contains(&format!("{good}: ok: policy")), "{}", run.stderr);

    // `--deny-warnings` turns the example's warning into a failure.
    steward(&["policy", "check", "--deny-warnings", "examples/policy.toml"]).expect_code(1);
}

fn toml_value(text: &str) -> toml::Value {
    text.parse().unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"))
}

#[test]
fn imported_pages_are_valid_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    for page in [V1, V2] {
        let run = steward(&["policy", "import", page]);
        run.expect_code(0);
        let value = toml_value(&run.stdout);
        let topics = value["topics"].as_array().expect("topics");
        assert!(topics.iter().any(|t| t["id"].as_str() == Some("security_vulnerability")));
        let path = write(dir.path(), "imported.toml", &run.stdout);
        let check = steward(&["policy", "check", &path]);
        check.expect_code(0);
        assert!(errors(&check).is_empty(), "{page}: {}", check.stdout);
    }
}

/// A page that is not a handbook page (a security policy, a README) names no topic: that is
/// an error at its first line, and nothing is printed.
#[test]
fn a_page_without_topics_is_an_error_and_prints_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = write(
        dir.path(),
        "SECURITY.md",
        "# Security policy\n\n## Supported versions\n\n| Version | Supported |\n|---|---|\n\
         | 2.x | yes |\n\n## Reporting\n\nMail security@example.org with the details.\n",
    );
    let run = steward(&["policy", "import", &page]);
    run.expect_code(1);
    assert_eq!(run.stdout, "", "nothing printed on error");
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("{page}:1:1: error: no sensitive topic found")),
        "{}",
        run.stderr
    );
}

#[test]
fn importing_the_plain_text_page_warns_about_the_role_without_a_person() {
    let run = steward(&["policy", "import", V2]);
    run.expect_code(0);
    let page = std::fs::read_to_string(root().join(V2)).expect("fixture");
    // The warning points at the line where the role is first named.
    let line = page.lines().position(|l| l.contains("Board Liaison")).expect("named") + 1;
    let warning = format!(
        "{V2}:{line}:1: warning: role `board_liaison` (Board Liaison) has no person: \
         responders and loop-ins through it reach nobody"
    );
    assert!(run.stderr.lines().any(|l| l == warning), "{warning}\nnot in:\n{}", run.stderr);
    // The Markdown page maps every role to a person: no such warning.
    let v1 = steward(&["policy", "import", V1]);
    assert!(!v1.stderr.contains("has no person"), "{}", v1.stderr);
}

#[test]
fn import_export_import_is_stable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixed = ["--version", "7", "--effective", "2024-02-29"];
    for page in [V1, V2] {
        let first = steward(&[&["policy", "import", page][..], &fixed[..]].concat());
        first.expect_code(0);
        let toml1 = write(dir.path(), "first.toml", &first.stdout);
        let export = steward(&["policy", "export", &toml1]);
        export.expect_code(0);
        assert!(export.stdout.starts_with("# "), "a Markdown page:\n{}", export.stdout);
        let md = write(dir.path(), "exported.md", &export.stdout);
        let second = steward(&[&["policy", "import", &md][..], &fixed[..]].concat());
        second.expect_code(0);
        assert_eq!(toml_value(&first.stdout), toml_value(&second.stdout), "{page}");
        assert_eq!(toml_value(&first.stdout)["version"].as_str(), Some("7"));
        assert_eq!(toml_value(&first.stdout)["effective"].as_str(), Some("2024-02-29"));
        // The exported page states its version and date, and an import without flags
        // keeps them: the round trip needs no `--version`.
        let unflagged = steward(&["policy", "import", &md]);
        unflagged.expect_code(0);
        assert_eq!(toml_value(&first.stdout), toml_value(&unflagged.stdout), "{page}");
        // A flag still wins over what the page states.
        let relabeled = steward(&["policy", "import", &md, "--version", "8"]);
        assert_eq!(toml_value(&relabeled.stdout)["version"].as_str(), Some("8"));
        assert_eq!(toml_value(&relabeled.stdout)["effective"].as_str(), Some("2024-02-29"));
    }
    // A page that states no version (the fixtures, like the seeds) is labelled "imported".
    let plain = steward(&["policy", "import", V1]);
    assert_eq!(toml_value(&plain.stdout)["version"].as_str(), Some("imported"));
}

#[test]
fn diff_of_the_two_fixture_pages() {
    let run = steward(&["policy", "diff", V1, V2]);
    run.expect_code(0);
    let lines = run.stdout_lines();
    for expected in [
        "privacy_telemetry: loop-in added: board_liaison (Board Liaison)",
        "product_regulation: approved responders reordered from community_lead, legal_counsel, \
         executive_director to legal_counsel, community_lead, executive_director",
        "licensing: approved responder added: board_liaison (Board Liaison)",
        "packaging: first-response target changed from 3d to 2d",
        "security_vulnerability: approved responder removed: release_manager (Release Manager)",
        "security_vulnerability: loop-in added: release_manager (Release Manager)",
        "topic removed: trademark_use (Trademark use)",
        "role legal_counsel (Legal Counsel): member removed: hiroshi_tanaka (Hiroshi Tanaka)",
        "role release_manager (Release Manager): member added: mei_chen (Mei Chen)",
        "role added: board_liaison (Board Liaison), held by nobody",
        "person added: mei_chen (Mei Chen)",
        "person removed: hiroshi_tanaka (Hiroshi Tanaka)",
    ] {
        assert!(lines.contains(&expected), "missing `{expected}` in:\n{}", run.stdout);
    }
    // Both pages carry the shipped policy's version label: the header names the files.
    let header = lines.first().copied().unwrap_or_default();
    assert!(
        header.starts_with("policy ")
            && header.contains(&format!(" ({V1}) → "))
            && header.ends_with(&format!(" ({V2})")),
        "{header}"
    );
    let same = steward(&["policy", "diff", "examples/policy.toml", "examples/policy.toml"]);
    same.expect_code(0);
    assert_eq!(same.stdout_lines().last(), Some(&"no changes"), "{}", same.stdout);
}

#[test]
fn diff_as_json() {
    let run = steward(&["policy", "diff", "--json", V1, V2]);
    run.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("valid JSON");
    let changes = v["changes"].as_array().expect("a list of changes");
    assert!(changes.len() >= 10, "{} changes", changes.len());
    assert!(changes.iter().all(|c| c["kind"].is_string()), "every change has a kind");
    assert!(
        changes.iter().any(|c| c["kind"] == "loop_in_added"
            && c["topic"] == "privacy_telemetry"
            && c["role"]["id"] == "board_liaison"),
        "{}",
        run.stdout
    );
}

#[test]
fn export_of_the_example_names_every_sensitive_topic() {
    let run = steward(&["policy", "export", "examples/policy.toml"]);
    run.expect_code(0);
    let src = std::fs::read_to_string(root().join("examples/policy.toml")).expect("example");
    let (policy, _) = steward_policy::parse(&src).valid().expect("valid example");
    let sensitive: Vec<_> = policy.topics.iter().filter(|t| t.sensitive).collect();
    assert_eq!(sensitive.len(), steward_policy::SENSITIVE_TOPICS.len());
    for topic in sensitive {
        assert!(run.stdout.contains(&topic.title), "{} missing from the page", topic.title);
    }
    // A missing file is an error, not a panic.
    let missing = steward(&["policy", "export", "no/such/policy.toml"]);
    missing.expect_code(2);
    assert!(missing.stderr.contains("cannot read no/such/policy.toml"), "{}", missing.stderr);
}

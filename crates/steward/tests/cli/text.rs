//! `steward redact` and `steward lint-response`.

use crate::{first_line_then_close, root, steward, steward_with_stdin, write};

/// `redact` writes the whole text in one piece: a reader that stops after one line of far
/// more than a pipe holds (`steward redact < big.txt | head -1`) ends it quietly, no panic.
#[test]
fn redact_ends_quietly_when_its_reader_stops_early() {
    let text = "reach me at dana@example-mail.net from 198.51.100.24\n".repeat(20_000);
    let (first, stderr, status) = first_line_then_close(&["redact"], &text);
    assert_eq!(first, "reach me at [email] from [ip]\n");
    assert_eq!(stderr, "");
    assert!(status.success(), "{status:?}");
}

#[test]
fn redact_replaces_emails_and_ips_and_keeps_allow_listed_domains() {
    let input = "Mail kim@acme-example.net or 198.51.100.23, not admin@github.com.\n\
                 Logs: https://github.com/example/app/issues/9 and 2001:db8::42 → fine.\n";
    let run = steward_with_stdin(&["redact"], input);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "Mail [email] or [ip], not admin@github.com.\n\
         Logs: https://github.com/example/app/issues/9 and [ip] → fine.\n"
    );
}

#[test]
fn redact_uses_the_allow_list_of_the_given_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = std::fs::read_to_string(root().join("examples/policy.toml")).expect("example");
    let ours = example.replacen(
        r#"allow_domains = ["mattermost.com", "mattermost.org", "github.com"]"#,
        r#"allow_domains = ["acme-example.net"]"#,
        1,
    );
    assert_ne!(ours, example, "the example's allow-list line was found");
    let policy = write(dir.path(), "policy.toml", &ours);
    let run = steward_with_stdin(
        &["redact", "--policy", &policy],
        "kim@acme-example.net and admin@github.com",
    );
    run.expect_code(0);
    assert_eq!(run.stdout, "kim@acme-example.net and [email]");
}

/// A draft that goes against every tip: promises, excuses, an opinion, personal data, no
/// link and no thanks.
const BAD_DRAFT: &str = "Hi,\n\
\n\
We're too busy right now, but we'll add this soon.\n\
In my opinion the old sidebar is better anyway. Ping kim@acme-example.net.\n";

/// A draft that follows every tip.
const GOOD_DRAFT: &str = "Thanks a lot for taking the time to write this up!\n\
\n\
The setting is documented at https://docs.mattermost.com/configure/site-configuration.html \
and you can upvote the idea on the feature board.\n";

/// The response-writing tips used when the test brings its own policy.
const TIPS: &str = r#"
[[tips]]
id = "no_false_promises"
title = "Don't make false promises or assumptions"
avoid = ['''\bwe(?:['’]ll|\s+will)\s+add\b''', '''\bsoon\b''']

[[tips]]
id = "link_documentation"
title = "Do your best to link documentation as answers"
require = ['''\bhttps?://\S+''']

[[tips]]
id = "be_thankful"
title = "Be thankful"
require = ['''\bthank''']

[[tips]]
id = "keep_user_information_secure"
title = "Keep community end user information secure"
check = "personal_data"
"#;

#[test]
fn lint_response_with_a_policy_of_our_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The project's own domain is allow-listed, so the good draft's documentation link is
    // not personal data.
    let policy = format!("allow_domains = [\"mattermost.com\"]\n{}\n{TIPS}", crate::policy::TINY);
    let policy = write(dir.path(), "policy.toml", &policy);
    let bad = write(dir.path(), "bad.md", BAD_DRAFT);
    let run = steward(&["lint-response", "--policy", &policy, &bad]);
    run.expect_code(1);
    assert_eq!(
        run.stdout_lines(),
        [
            "1:1: link_documentation: links no documentation (Do your best to link documentation as answers)",
            "1:1: be_thankful: does not thank the person (Be thankful)",
            "3:31: no_false_promises: sets an expectation the team may not meet: \"we'll add\" (Don't make false promises or assumptions)",
            "3:46: no_false_promises: sets an expectation the team may not meet: \"soon\" (Don't make false promises or assumptions)",
            "4:54: keep_user_information_secure: contains personal data (email): remove it before posting",
        ],
        "{}",
        run.stdout
    );
    let good = write(dir.path(), "good.md", GOOD_DRAFT);
    let run = steward(&["lint-response", "--policy", &policy, &good]);
    run.expect_code(0);
    assert_eq!(run.stdout, "");
    // Standard input when no file is given.
    let run = steward_with_stdin(&["lint-response", "--policy", &policy], BAD_DRAFT);
    run.expect_code(1);
    assert_eq!(run.stdout_lines().len(), 5, "{}", run.stdout);
}

#[test]
fn lint_response_ends_quietly_when_its_reader_stops_early() {
    // Thousands of findings: more than a pipe holds, so the writer meets the closed pipe.
    let draft = "We're too busy to look. In my opinion it is fine.\n".repeat(5_000);
    let (first, stderr, status) = first_line_then_close(&["lint-response"], &draft);
    assert!(first.starts_with("1:1: "), "{first}");
    assert_eq!(stderr, "");
    assert!(status.success(), "{status:?}");
}

/// Against the shipped policy's tips (`examples/policy.toml`): no_false_promises,
/// positivity, link_documentation, secure_user_info, be_thankful, no_opinions.
#[test]
fn lint_response_with_the_shipped_tips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(dir.path(), "bad.md", BAD_DRAFT);
    let run = steward(&["lint-response", &bad]);
    run.expect_code(1);
    assert_eq!(
        run.stdout_lines(),
        [
            "1:1: link_documentation: links no documentation (Do your best to link documentation as answers)",
            "1:1: be_thankful: does not thank the person (Be thankful)",
            "3:1: positivity: sounds like an excuse: \"We're too busy\" (Choose positivity over negativity)",
            "3:31: no_false_promises: sets an expectation the team may not meet: \"we'll add\" (Don't make false promises or assumptions)",
            "4:1: no_opinions: states a personal opinion: \"In my opinion\" (Do not focus on opinions)",
            "4:54: secure_user_info: contains personal data (email): remove it before posting",
        ],
        "{}",
        run.stdout
    );
    let good = write(dir.path(), "good.md", GOOD_DRAFT);
    let run = steward(&["lint-response", &good]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "a good draft has no findings");
}

//! Triage of the shipped policy with the default model: one `#[test]` per hand-written post
//! (every sensitive topic and non-sensitive kind, and the known hard cases), evidence
//! offsets, the shipped labeled set running without panics, and bad patterns rejected.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use steward_policy::{Cue, Policy};
use steward_triage::{Field, Post, Triager, TriagerError};

const POLICY: &str = include_str!("../../../examples/policy.toml");

fn policy() -> Policy {
    let (policy, _warnings) = steward_policy::parse(POLICY).valid().expect("the example is valid");
    policy
}

/// Built once: training the default model takes a few seconds in a debug build.
fn triager() -> &'static Triager {
    static TRIAGER: OnceLock<Triager> = OnceLock::new();
    TRIAGER.get_or_init(|| steward_triage::default_triager(&policy()).expect("default triager"))
}

fn post(title: &str, body: &str) -> Post {
    Post { id: "t".into(), title: title.into(), body: body.into(), ..Post::default() }
}

/// Triage's labels for the post must be exactly `expected`.
fn check(title: &str, body: &str, expected: &[&str]) {
    let t = triager().triage(&post(title, body));
    let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(t.sensitive, !t.topics.is_empty(), "sensitive flag and topics disagree");
    assert_eq!(t.kind.is_none(), t.sensitive, "a post has topics or a kind, never both");
    let scores: Vec<(String, f32)> = triager()
        .score(&post(title, body))
        .into_iter()
        .filter(|s| s.score != 0.0)
        .map(|s| (s.id, s.score))
        .collect();
    let evidence: Vec<(&str, Vec<&str>)> = t
        .topics
        .iter()
        .map(|m| (m.id.as_str(), m.evidence.iter().map(|e| e.text.as_str()).collect()))
        .collect();
    let got: BTreeSet<String> = t.labels().into_iter().collect();
    assert_eq!(got, want, "post {title:?}\n  scores: {scores:?}\n  evidence: {evidence:?}");
}

/// One `#[test]` per case, so that each misclassification is reported on its own.
macro_rules! cases {
    ($(
        $(#[$meta:meta])*
        $name:ident: $title:expr, $body:expr $(,)? => [$($label:expr),+ $(,)?];
    )+) => {
        $(
            #[test]
            $(#[$meta])*
            fn $name() {
                check($title, $body, &[$($label),+]);
            }
        )+
    };
}

cases! {
    // --- privacy_telemetry ---------------------------------------------------------------
    telemetry_switch_that_does_not_stay_off:
        "Usage data toggle turns itself on again after every restart",
        "I untick \"Send usage data\" in Preferences > Privacy. After I quit and reopen the \
         app, the checkbox is ticked again and my firewall shows the upload going out.",
        => ["privacy_telemetry"];
    client_contacts_vendor_servers_on_launch:
        "Why does the desktop client contact your servers every time it starts?",
        "No account is configured, yet on each launch the client opens a connection to a \
         remote host of yours. What exactly is being sent, and can I stop it?",
        => ["privacy_telemetry"];
    telemetry_should_be_opt_in_opinion:
        "Analytics should be opt-in",
        "Collecting anonymous usage statistics by default without asking feels wrong for a \
         tool that people run on work machines. Please ask first.",
        => ["privacy_telemetry"];

    // --- product_regulation --------------------------------------------------------------
    hipaa_question_from_a_clinic:
        "Is the self-hosted edition HIPAA compliant?",
        "We're a small clinic looking at this for staff chat. Before we can install it our \
         compliance officer needs to know whether you sign a BAA.",
        => ["product_regulation"];
    data_residency_for_cloud_plan:
        "Where is customer data stored on the cloud plan?",
        "Our legal department requires all data to stay inside the EU. Which region do you \
         host in, and do you offer a data processing agreement?",
        => ["product_regulation"];

    // --- licensing -----------------------------------------------------------------------
    ship_inside_paid_app_without_publishing_code:
        "Can we ship this inside our paid app without publishing our code?",
        "We build a commercial desktop product and would like to bundle your library in it. \
         Do we have to release our own source if we do?",
        => ["licensing"];
    move_to_source_available_license:
        "Why did the project move from MIT to a source-available license?",
        "The last release changed the license file. Does the old MIT version stay usable for \
         forks, and what does the new one allow?",
        => ["licensing"];
    license_checker_crash_is_a_bug:
        "license-checker crashes on packages without a license field",
        "Running `license-checker --json` in our monorepo throws TypeError: Cannot read \
         properties of undefined (reading 'split'). Steps to reproduce: add a package.json \
         without the field and run the tool. Expected: it lists the package as UNKNOWN.",
        => ["bug_report"];
    licence_mentioned_in_passing_in_a_crash:
        "App crashes on startup after updating to 9.2",
        "We're on the paid licence, in case that matters. Since the update the desktop app \
         crashes right after the splash screen with a segfault. Steps to reproduce: install \
         9.2 over 9.1 and launch it.",
        => ["bug_report"];

    // --- packaging -----------------------------------------------------------------------
    sso_should_be_in_free_edition:
        "Please make SAML single sign-on part of the free edition",
        "Locking SSO behind the Enterprise plan hurts small nonprofits like ours that can't \
         afford the paid tier. Could it move to the free edition?",
        => ["packaging"];
    why_is_feature_enterprise_only:
        "Why are guest accounts an enterprise-only feature?",
        "Guest accounts are basic functionality for a community server. Putting them behind \
         the paid subscription seems like a strange choice.",
        => ["packaging"];

    // --- workplace -----------------------------------------------------------------------
    do_you_hire_from_brazil:
        "do you hire people from Brazil?",
        "I'm a backend developer living in Recife. Are your remote positions open to people \
         outside the US, or only to residents?",
        => ["workplace"];
    parental_leave_at_the_company:
        "What's the parental leave policy for employees?",
        "I'm interviewing for an engineering job with you next week and would like to know \
         how much parental leave staff get and whether it applies to contractors.",
        => ["workplace"];

    // --- security_vulnerability ----------------------------------------------------------
    idor_without_the_word_vulnerability:
        "Changing the number in /api/v4/invoices/<n> shows other customers' invoices",
        "Logged in as an ordinary user, I can replace the invoice number in the URL and read \
         invoices of other accounts, with their names and postal addresses. No admin rights \
         are needed.",
        => ["security_vulnerability"];
    stored_xss_in_channel_header:
        "Stored XSS in the channel header",
        "Putting <img src=x onerror=alert(document.cookie)> in a channel header runs the \
         script for every member who opens the channel.",
        => ["security_vulnerability"];

    // --- illicit_use ---------------------------------------------------------------------
    bot_used_for_a_crypto_scam:
        "Your bot framework is being used to run a crypto scam",
        "A group runs a server built on your open-source bot that phishes people and drains \
         their wallets. Can you do anything to stop them?",
        => ["illicit_use"];
    server_used_to_share_pirated_films:
        "Someone hosts pirated films on a server running your software",
        "A public instance of your file sharing server is distributing pirated movies and \
         cracked games. Who do I report this to?",
        => ["illicit_use"];

    // --- marketing_regulation ------------------------------------------------------------
    newsletter_without_unsubscribe:
        "Your newsletter has no way to get off it",
        "After registering for one webinar I now get your product newsletter every week. \
         There is no link at the bottom to leave the list and I never agreed to it.",
        => ["marketing_regulation"];
    docs_site_sets_analytics_cookies_before_consent:
        "Docs website sets Google Analytics cookies before I accept anything",
        "Opening the documentation site drops _ga and _gid cookies straight away, before the \
         cookie banner even shows.",
        => ["marketing_regulation"];

    // --- government_request --------------------------------------------------------------
    would_you_hand_my_data_to_the_police:
        "would you hand my data to the police?",
        "If the police in my country asked you for my messages on your cloud service, would \
         you give them up? Do you tell users when that happens?",
        => ["government_request"];
    transparency_report:
        "Do you publish a transparency report?",
        "I'd like to know how many requests for user data you have received from governments \
         and how many you complied with.",
        => ["government_request"];

    // --- feature_request -----------------------------------------------------------------
    dark_mode_for_mobile:
        "Add a dark theme to the mobile app",
        "It would be great to have a dark theme on Android, ideally following the system \
         setting automatically.",
        => ["feature_request"];
    export_channel_as_markdown:
        "Feature request: export a channel as Markdown",
        "Please add an option to export a whole channel, with threads, as a Markdown file so we \
         can archive discussions in our wiki.",
        => ["feature_request"];

    // --- troubleshooting -----------------------------------------------------------------
    spring_security_config_question:
        "How do I permit /actuator/health in Spring Security?",
        "I have a SecurityFilterChain bean and want the health endpoint reachable without \
         login while everything else needs authentication. How do I set that up with the \
         lambda DSL?",
        => ["troubleshooting"];
    behind_nginx_question:
        "How can I run the server behind nginx with a sub-path?",
        "I'm trying to serve it at example.org/chat but the websocket keeps disconnecting. \
         Is there a recommended nginx config for this setup?",
        => ["troubleshooting"];

    // --- bug_report ----------------------------------------------------------------------
    opentelemetry_exporter_bug_is_not_privacy:
        "OTLP exporter drops spans when a batch has more than 512",
        "With the OpenTelemetry exporter pointed at our collector, traces with more than 512 \
         spans are silently dropped. Expected: every span is exported. Actual: the exporter \
         logs nothing and the trace is incomplete.",
        => ["bug_report"];
    paste_large_image_crash:
        "Crash when pasting an image larger than 10 MB",
        "Steps to reproduce: copy a 12 MB PNG, paste it into the message box. Expected \
         behavior: upload starts. Actual behavior: the app freezes, then crashes.",
        => ["bug_report"];

    // --- feedback ------------------------------------------------------------------------
    redesign_complaint:
        "The new sidebar is a step backwards",
        "In my opinion the redesign makes it harder to find unread channels. It's frustrating \
         to relearn the layout after years of using it.",
        => ["feedback"];

    // --- sensitive posts without their topic's usual words, and ordinary posts with them ---
    session_survives_logout_is_a_vulnerability:
        "Old session keeps working after I log out",
        "I copied my cookies before pressing Log out. Pasting them into another browser \
         afterwards, I am still logged in after logging out and can change my settings.",
        => ["security_vulnerability"];
    upload_type_check_can_be_got_around:
        "Attachment filter can be tricked with a second extension",
        "Naming the file report.php;.png gets past the extension check and the server keeps \
         it as report.php in the public folder.",
        => ["security_vulnerability"];
    mining_in_our_ci_through_forks:
        "Strange pull requests that only change the workflow file",
        "Several forks opened PRs that rewrite our CI workflow to download and run a crypto \
         miner on every push. We closed them but they keep coming.",
        => ["illicit_use"];
    my_photo_on_another_profile:
        "Please remove a profile using my picture",
        "The account 'sunny_days_22' uses my photos as their profile picture and messages \
         people pretending to be me.",
        => ["illicit_use"];
    extension_sends_every_site_i_visit:
        "Does the add-on send every URL I visit somewhere?",
        "Looking at the network tab, each page I open triggers a request from the add-on. \
         Is it uploading every site I visit, and can I stop that?",
        => ["privacy_telemetry"];
    hiring_test_task_with_no_answer:
        "Sent the test task two weeks ago",
        "I finished the test task for the backend role and pushed it to my fork, but nobody \
         has replied yet. Is the position still open?",
        => ["workplace"];
    csrf_token_mismatch_is_configuration:
        "CSRF token mismatch after deploying behind a proxy",
        "Locally login works. In production behind our proxy every login answers 419 CSRF \
         token mismatch. Which setting am I missing? Any idea?",
        => ["troubleshooting"];
    scanner_false_positive_is_a_bug:
        "Scanner reports patched openssl as vulnerable (false positive)",
        "Since 2.3 the scan flags hosts with the distro's patched openssl build as vulnerable \
         to CVE-2023-0286. The package version includes the fix, so these are false \
         positives. Steps to reproduce: scan an up-to-date Debian 12 host.",
        => ["bug_report"];
    sync_job_on_a_team_server_is_a_bug:
        "Sync fails against a remote host",
        "We run the latest release on a small team server. When the remote host is \
         unreachable the sync job hangs instead of failing. Steps to reproduce: stop the \
         remote, run sync.",
        => ["bug_report"];
    other_customers_orders_show_up:
        "Receipts of other customers appear after a reload",
        "Opening the receipt page directly and pressing reload shows other customers' orders \
         with their names and totals.",
        => ["security_vulnerability"];
    our_app_resold_on_a_marketplace:
        "Someone is selling your app on a code marketplace",
        "Heads up: your app's full source is listed for $49 on a template marketplace under \
         someone else's name, with no credit given.",
        => ["illicit_use"];
    docs_blocked_in_a_country_by_its_regulator:
        "Docs unreachable from Russia",
        "The docs domain's IP address was added to the regulator's block list, so it is \
         blocked in Russia for everyone without a VPN.",
        => ["government_request"];
    offer_to_pay_is_not_an_open_core_complaint:
        "Please make a pro version",
        "I use this every day and would love to support you. A pro version or a donate \
         button would let me pay for your work.",
        => ["feature_request"];
    great_job_to_the_team_is_feedback:
        "Thank you!",
        "Please pass a big thank-you on to the whole team. Great job on the 3.0 release, it \
         made my work so much easier.",
        => ["feedback"];
}

#[test]
fn personal_data_inside_evidence_is_redacted_and_offsets_stay_the_originals() {
    let p = post(
        "Telemetry",
        "The app uploads to 2001:db8::8a2e:370:7334 our usage data without consent.",
    );
    let t = triager().triage(&p);
    let privacy = t.topics.iter().find(|m| m.id == "privacy_telemetry").expect("privacy");
    let window = privacy
        .evidence
        .iter()
        .find(|e| e.text.starts_with("uploads"))
        .unwrap_or_else(|| panic!("a window from `uploads`: {:?}", privacy.evidence));
    assert_eq!(window.text, "uploads to [ip] our usage data");
    assert_eq!(
        &p.body[window.start..window.end],
        "uploads to 2001:db8::8a2e:370:7334 our usage data"
    );
    let json = serde_json::to_string(&t).unwrap();
    assert!(!json.contains("2001:db8"), "the address left triage's output: {json}");
}

#[test]
fn evidence_offsets_are_char_boundaries_and_slice_to_the_text() {
    let cases = [
        post(
            "Télémetrie: l'app 'phones home' 🚨 even with telemetry disabled",
            "Ünïcödé first — then the client keeps sending usage data to your servers. \
             日本語 text, then: spyware? Also a license question and a subpoena.",
        ),
        post("", "phone home"),
        post("phone home", ""),
        post("ß phone homeé", "é telemetry"),
    ];
    let mut seen = 0;
    for p in &cases {
        let t = triager().triage(p);
        for m in &t.topics {
            for e in &m.evidence {
                let field = p.field(e.field);
                assert!(e.start < e.end && e.end <= field.len(), "{e:?} out of {field:?}");
                assert!(field.is_char_boundary(e.start) && field.is_char_boundary(e.end), "{e:?}");
                assert_eq!(&field[e.start..e.end], e.text, "{e:?} (no personal data here)");
                seen += 1;
            }
        }
        for s in triager().score(p) {
            for e in &s.evidence {
                assert_eq!(p.field(e.field).get(e.start..e.end), Some(e.text.as_str()));
            }
        }
    }
    assert!(seen >= 4, "the cases produce evidence ({seen} spans)");
    // The first case's evidence points at the title words where they are, after the
    // multibyte characters.
    let t = triager().triage(&cases[0]);
    let privacy = t.topics.iter().find(|m| m.id == "privacy_telemetry").expect("privacy");
    let title_ev: Vec<&str> = privacy
        .evidence
        .iter()
        .filter(|e| e.field == Field::Title)
        .map(|e| e.text.as_str())
        .collect();
    assert!(title_ev.contains(&"phones home"), "{title_ev:?}");
}

/// A topic keeps at most 12 evidence spans: the first ones in reading order, title first,
/// each once, however many cues found the same words.
#[test]
fn evidence_is_the_first_distinct_spans_in_reading_order() {
    let mut p = policy();
    let topic = p.topics.iter_mut().find(|t| t.id == "privacy_telemetry").expect("topic");
    // Twenty cue groups that all find the same word.
    for _ in 0..20 {
        topic.cues.push(Cue {
            weight: 0.1,
            phrases: vec!["telemetry".into()],
            patterns: vec![],
            title_only: false,
            cap: None,
        });
    }
    let t = Triager::new(&p).expect("triager");
    let body = "telemetry again and again: the app phones home, sends usage data, \
                tracks users, and has no opt-out";
    let scored = t.score(&post("Remove the telemetry", body));
    let privacy = scored.iter().find(|s| s.id == "privacy_telemetry").expect("topic");
    let spans: Vec<(Field, usize, usize)> =
        privacy.evidence.iter().map(|e| (e.field, e.start, e.end)).collect();
    let mut distinct = spans.clone();
    distinct.dedup();
    assert_eq!(spans, distinct, "each span once: {:?}", privacy.evidence);
    assert!(spans.len() <= 12, "{spans:?}");
    assert_eq!(spans[0].0, Field::Title, "title first: {spans:?}");
    let texts: Vec<&str> = privacy.evidence.iter().map(|e| e.text.as_str()).collect();
    assert!(texts.contains(&"phones home"), "the later cues are not crowded out: {texts:?}");
    let body_starts: Vec<usize> =
        spans.iter().filter(|s| s.0 == Field::Body).map(|s| s.1).collect();
    assert!(body_starts.windows(2).all(|w| w[0] <= w[1]), "reading order: {spans:?}");
}

/// Phrases next to non-ASCII punctuation (curly quotes, guillemets, dashes, emoji) must
/// still match: real posts quote words with “ ” all the time.
#[test]
fn phrases_next_to_non_ascii_punctuation_match() {
    for title in [
        "Why does it “phone home”?",
        "l'app «phone home»",
        "it—phones home—daily",
        "🚨phones home🚨",
    ] {
        let scored = triager().score(&post(title, ""));
        let privacy = scored.iter().find(|s| s.id == "privacy_telemetry").expect("topic");
        assert!(
            privacy.evidence.iter().any(|e| e.text.starts_with("phone")),
            "{title:?}: {:?}",
            privacy.evidence
        );
    }
}

#[test]
fn the_shipped_labeled_set_triages_without_panics() {
    let posts = steward_triage::labeled::builtin();
    assert!(posts.len() >= 150);
    let mut sensitive = 0;
    for p in &posts {
        let t = triager().triage(&Post {
            id: p.id.clone(),
            title: p.title.clone(),
            body: p.body.clone(),
            ..Post::default()
        });
        assert_eq!(t.id, p.id);
        assert_eq!(t.sensitive, !t.topics.is_empty());
        assert!(t.sensitive || t.kind.is_some(), "{}: neither topic nor kind", p.id);
        sensitive += usize::from(t.sensitive);
    }
    assert!(sensitive > 0 && sensitive < posts.len(), "{sensitive} of {} sensitive", posts.len());
}

#[test]
fn a_bad_pattern_is_a_clear_error() {
    let mut p = policy();
    let topic = p.topics.iter_mut().find(|t| t.id == "licensing").expect("licensing topic");
    topic.cues.push(Cue {
        weight: 1.0,
        phrases: vec![],
        patterns: vec![r"\bfork(ed|ing\b".into()],
        title_only: false,
        cap: None,
    });
    let err = Triager::new(&p).expect_err("an unclosed group must not compile");
    assert!(matches!(&err, TriagerError::Pattern { topic, .. } if topic == "licensing"), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("topic `licensing`: bad pattern `\\bfork(ed|ing\\b`:"),
        "{message}"
    );
    assert!(message.contains("unclosed group"), "{message}");
}

#[test]
fn the_example_policy_alone_builds_a_triager() {
    let t = Triager::new(&policy()).expect("rules-only triager");
    assert!(!t.has_model());
    let out = t.triage(&post("Stored XSS in the search box", "alert(1) runs for everyone"));
    assert_eq!(out.topics.first().map(|m| m.id.as_str()), Some("security_vulnerability"));
}

/// `testdata/hard-positives.jsonl`: sensitive posts of our own that avoid their topic's
/// usual words, kept out of the training set to measure how many the desk still escalates
/// (`steward triage eval crates/steward-triage/testdata/hard-positives.jsonl`). A floor
/// below today's figure (0.70) catches a change that loses them.
#[test]
fn most_sensitive_posts_without_their_usual_words_are_escalated() {
    let posts =
        steward_triage::labeled::parse_jsonl(include_str!("../testdata/hard-positives.jsonl"))
            .expect("valid");
    let builtin: BTreeSet<String> =
        steward_triage::labeled::builtin().into_iter().map(|p| p.id).collect();
    assert!(posts.len() >= 80);
    let mut escalated = 0;
    for p in &posts {
        assert!(!builtin.contains(&p.id), "{} is also in the training set", p.id);
        assert!(
            p.labels.iter().all(|l| steward_policy::SENSITIVE_TOPICS.contains(&l.as_str())),
            "{}: only sensitive posts here",
            p.id
        );
        if triager().triage(&post(&p.title, &p.body)).sensitive {
            escalated += 1;
        }
    }
    let recall = escalated as f64 / posts.len() as f64;
    assert!(recall >= 0.6, "escalated {escalated} of {} ({recall:.2})", posts.len());
}

/// Escalation recall and precision of the default triager on a labeled set.
fn escalation(posts: &[steward_triage::labeled::LabeledPost]) -> (f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for p in posts {
        let want = p.labels.iter().any(|l| steward_policy::SENSITIVE_TOPICS.contains(&l.as_str()));
        let got = triager().triage(&post(&p.title, &p.body)).sensitive;
        match (want, got) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    (tp as f64 / (tp + fn_) as f64, tp as f64 / (tp + fp) as f64)
}

/// `testdata/tuning.jsonl` and `testdata/fresh.jsonl`: paraphrases of real public posts
/// (each with its source URL), about half sensitive, the other half ordinary posts that use
/// sensitive words in passing. Neither is in the training set. The policy's newer rule
/// families were written from the posts of `tuning`; `fresh` was only ever measured. The
/// floors sit a little under today's figures (tuning 0.94 / 0.83, fresh 0.82 / 0.81;
/// `steward triage eval FILE`), so a change that loses real posts fails here.
#[test]
fn paraphrased_real_posts_are_escalated_with_few_false_alarms() {
    let parse = |text: &str| steward_triage::labeled::parse_jsonl(text).expect("valid");
    let tuning = parse(include_str!("../testdata/tuning.jsonl"));
    let fresh = parse(include_str!("../testdata/fresh.jsonl"));
    let hard = parse(include_str!("../testdata/hard-positives.jsonl"));
    let builtin = steward_triage::labeled::builtin();
    // The sets share no post and no source: a real post behind two sets would measure the
    // training data.
    let source = |p: &steward_triage::labeled::LabeledPost| {
        let s = p.source.clone().unwrap_or_else(|| panic!("{}: no source", p.id));
        s.trim_end_matches('/').to_string()
    };
    let mut ids = BTreeSet::new();
    for p in builtin.iter().chain(&hard).chain(&tuning).chain(&fresh) {
        assert!(ids.insert(p.id.clone()), "{}: id used twice", p.id);
    }
    let mut earlier: BTreeSet<String> = builtin.iter().chain(&hard).map(source).collect();
    for set in [&tuning, &fresh] {
        let own: Vec<String> = set.iter().map(source).collect();
        for (p, s) in set.iter().zip(&own) {
            assert!(!earlier.contains(s), "{}: {s} is behind another set's post", p.id);
        }
        let distinct: BTreeSet<&String> = own.iter().collect();
        assert_eq!(distinct.len(), own.len(), "one post per source");
        earlier.extend(own);
    }
    for p in tuning.iter().chain(&fresh) {
        let sensitive = p
            .labels
            .iter()
            .filter(|l| steward_policy::SENSITIVE_TOPICS.contains(&l.as_str()))
            .count();
        let kinds = p
            .labels
            .iter()
            .filter(|l| steward_policy::NON_SENSITIVE_KINDS.contains(&l.as_str()))
            .count();
        assert_eq!(sensitive + kinds, p.labels.len(), "{}: unknown label", p.id);
        assert!(sensitive > 0 || kinds == 1, "{}: one kind or some topics", p.id);
        assert!(sensitive == 0 || kinds == 0, "{}: a topic and a kind", p.id);
    }
    for (name, posts, floor) in [("tuning", &tuning, (0.9, 0.8)), ("fresh", &fresh, (0.78, 0.78))] {
        assert!(posts.len() >= 130, "{name}: {} posts", posts.len());
        let (recall, precision) = escalation(posts);
        assert!(
            recall >= floor.0 && precision >= floor.1,
            "{name}: escalation recall {recall:.3} precision {precision:.3}, floors {floor:?}"
        );
    }
}

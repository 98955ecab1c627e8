//! `steward triage`, `triage eval` and `triage train`.

use serde_json::{json, Value};

use crate::{first_line_then_close, steward, steward_with_stdin, write};

/// Three posts: a sensitive one with personal data after multibyte text, a plain bug report,
/// and a licensing question with non-ASCII characters before its cue words.
fn posts() -> Vec<Value> {
    vec![
        json!({
            "id": "p1",
            "title": "Télémetrie: the app phones home even with telemetry disabled",
            "body": "Ünïcödé — I switched off usage statistics but the client still sends usage \
                     data to your servers from 203.0.113.77. Write to me at jo.lee@mail-example.net.",
            "source": "github",
            "url": "https://github.com/example/app/issues/1",
            "author": "jo"
        }),
        json!({
            "id": "p2",
            "title": "Crash when opening settings",
            "body": "Steps to reproduce: open Settings. The app crashes with a segfault."
        }),
        json!({
            "id": "p3",
            "title": "Can we ship this in our paid app without publishing our code? 🤔",
            "body": "日本の会社です. We want to bundle the library in a commercial product; which license terms apply?"
        }),
    ]
}

fn jsonl(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

fn parse_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// Every offset in a triage line slices the original post's field as documented.
fn check_shape(out: &Value, post: &Value) {
    assert_eq!(keys(out), ["id", "kind", "pii", "redacted", "sensitive", "topics"], "{out}");
    assert_eq!(out["id"], post["id"]);
    let field = |name: &str| post[name].as_str().unwrap_or("").to_string();
    let sensitive = out["sensitive"].as_bool().expect("sensitive is a bool");
    let topics = out["topics"].as_array().expect("topics");
    assert_eq!(sensitive, !topics.is_empty(), "{out}");
    assert_eq!(out["kind"].is_null(), sensitive, "kind is null exactly when sensitive: {out}");
    if !sensitive {
        let kind = out["kind"].as_str().expect("kind is a string");
        assert!(steward_policy::NON_SENSITIVE_KINDS.contains(&kind), "{kind}");
    }
    for topic in topics {
        assert_eq!(keys(topic), ["evidence", "id", "score"], "{topic}");
        assert!(topic["score"].as_f64().expect("score") > 0.0);
        let evidence = topic["evidence"].as_array().expect("evidence");
        assert!(!evidence.is_empty(), "{topic}");
        for e in evidence {
            assert_eq!(keys(e), ["end", "field", "start", "text"], "{e}");
            let text = field(e["field"].as_str().expect("field"));
            let (s, t) =
                (e["start"].as_u64().unwrap() as usize, e["end"].as_u64().unwrap() as usize);
            assert_eq!(text.get(s..t), e["text"].as_str(), "evidence {e} in {text:?}");
        }
    }
    for p in out["pii"].as_array().expect("pii") {
        assert_eq!(keys(p), ["end", "field", "kind", "start"], "{p}");
        let text = field(p["field"].as_str().expect("field"));
        let (s, t) = (p["start"].as_u64().unwrap() as usize, p["end"].as_u64().unwrap() as usize);
        assert!(text.get(s..t).is_some(), "pii {p} is not a slice of {text:?}");
    }
    assert_eq!(keys(&out["redacted"]), ["body", "title"]);
}

#[test]
fn triage_writes_one_line_per_post_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = posts();
    let input = write(dir.path(), "posts.jsonl", &jsonl(&posts));
    let run = steward(&["triage", &input]);
    run.expect_code(0);
    assert_eq!(run.stderr, "");
    let out = parse_lines(&run.stdout);
    assert_eq!(out.len(), posts.len());
    for (o, p) in out.iter().zip(&posts) {
        check_shape(o, p);
    }
    let (p1, p2, p3) = (&out[0], &out[1], &out[2]);

    assert_eq!(p1["sensitive"], true);
    assert_eq!(p1["topics"][0]["id"], "privacy_telemetry", "{p1}");
    let texts: Vec<&str> = p1["topics"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert!(texts.contains(&"phones home"), "{texts:?}");
    let pii: Vec<(&str, &str)> = p1["pii"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap(), p["field"].as_str().unwrap()))
        .collect();
    assert_eq!(pii, [("ipv4", "body"), ("email", "body")]);
    let body = posts[0]["body"].as_str().unwrap();
    let ip = &p1["pii"][0];
    assert_eq!(
        &body[ip["start"].as_u64().unwrap() as usize..ip["end"].as_u64().unwrap() as usize],
        "203.0.113.77"
    );
    let redacted = p1["redacted"]["body"].as_str().unwrap();
    assert!(redacted.contains("from [ip]. Write to me at [email]."), "{redacted}");
    assert!(!redacted.contains("203.0.113.77") && !redacted.contains("jo.lee@"), "{redacted}");
    assert_eq!(p1["redacted"]["title"], posts[0]["title"]);

    assert_eq!(p2["sensitive"], false);
    assert_eq!(p2["kind"], "bug_report");
    assert_eq!(p2["topics"], json!([]));
    assert_eq!(p2["pii"], json!([]));

    assert_eq!(p3["topics"][0]["id"], "licensing", "{p3}");
}

#[test]
fn a_malformed_line_is_named_and_the_rest_still_processed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = posts();
    let text =
        format!("{}\n{{\"id\": \"broken\", \"title\": \n{}\n\n{}\n", posts[0], posts[1], posts[2]);
    let input = write(dir.path(), "posts.jsonl", &text);
    let run = steward(&["triage", "--no-model", &input]);
    run.expect_code(1);
    let ids: Vec<Value> = parse_lines(&run.stdout).iter().map(|o| o["id"].clone()).collect();
    assert_eq!(ids, [json!("p1"), json!("p2"), json!("p3")]);
    let problems: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(problems.len(), 1, "{}", run.stderr);
    // FILE:LINE:COL: error: …, as `policy check` reports, without serde's own position.
    let want = format!("{input}:2:");
    assert!(problems[0].starts_with(&want), "{}", run.stderr);
    assert!(problems[0].contains(": error: EOF while parsing"), "{}", run.stderr);
    assert!(!problems[0].contains("at line"), "{}", run.stderr);

    // A line that is JSON but not a post (no id) is a problem too, with its own number.
    let text = format!("{}\n{}\n{{\"title\": \"no id\"}}\n", posts[1], posts[2]);
    let input = write(dir.path(), "no-id.jsonl", &text);
    let run = steward(&["triage", "--no-model", &input]);
    run.expect_code(1);
    assert_eq!(parse_lines(&run.stdout).len(), 2);
    let want = format!("{input}:3:");
    assert!(run.stderr.starts_with(&want), "{}", run.stderr);
    assert!(run.stderr.contains("missing field `id`"), "{}", run.stderr);
}

/// Posts of the shipped labeled set, each with its line number as id, over several batches
/// of the threads' hand-over (256 lines), with malformed lines at `bad` and blank lines
/// after them.
fn many_posts(lines: usize, bad: &[usize]) -> String {
    let labeled =
        std::fs::read_to_string(crate::root().join("crates/steward-triage/data/labeled.jsonl"))
            .expect("the shipped labeled set");
    let posts: Vec<Value> = labeled.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut text = String::new();
    for number in 1..=lines {
        if bad.contains(&number) {
            text.push_str(&format!("{{\"id\": \"{number}\", \"title\": \n"));
        } else if number % 97 == 0 {
            text.push('\n');
        } else {
            let mut post = posts[number % posts.len()].clone();
            post["id"] = json!(number.to_string());
            text.push_str(&format!("{post}\n"));
        }
    }
    text
}

/// On several threads the output is the same as on one, line for line and in input order,
/// and so are the problems reported for malformed lines and the exit code.
#[test]
fn threads_keep_input_order_and_report_the_same_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = [2, 700, 1400];
    let input = write(dir.path(), "many.jsonl", &many_posts(1500, &bad));
    let one = steward(&["triage", "--no-model", "--jobs", "1", &input]);
    one.expect_code(1);
    let ids: Vec<usize> = parse_lines(&one.stdout)
        .iter()
        .map(|o| o["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let want: Vec<usize> = (1..=1500).filter(|n| !bad.contains(n) && n % 97 != 0).collect();
    assert_eq!(ids, want, "one line per good post, in input order");
    let problems: Vec<String> = bad.iter().map(|n| format!("{input}:{n}:")).collect();
    let reported: Vec<&str> = one.stderr.lines().collect();
    assert_eq!(reported.len(), bad.len(), "{}", one.stderr);
    for (line, want) in reported.iter().zip(&problems) {
        assert!(line.starts_with(want.as_str()), "{line} should start with {want}");
    }
    let explained_one = steward(&["triage", "explain", "--no-model", "-j", "1", &input]);
    for jobs in ["2", "3"] {
        let many = steward(&["triage", "--no-model", "-j", jobs, &input]);
        many.expect_code(1);
        assert!(many.stdout == one.stdout, "--jobs {jobs} changed the output");
        assert_eq!(many.stderr, one.stderr, "--jobs {jobs}");
        let explained = steward(&["triage", "explain", "--no-model", "-j", jobs, &input]);
        explained.expect_code(1);
        assert!(
            explained.stdout == explained_one.stdout,
            "explain --jobs {jobs} changed the output"
        );
    }
    let zero = steward(&["triage", "--jobs", "0", &input]);
    zero.expect_code(2);
    assert!(zero.stderr.contains("--jobs"), "{}", zero.stderr);
    assert_eq!(zero.stdout, "");
}

/// A reader that stops early (`steward triage big.jsonl | head -1`) ends the run quietly:
/// no "Broken pipe" error, exit code 0.
#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Far more output than a pipe holds, so the run is still writing when the pipe closes.
    let input = write(dir.path(), "many.jsonl", &many_posts(3000, &[]));
    let (first, stderr, status) = first_line_then_close(&["triage", "--no-model", &input], "");
    assert_eq!(parse_lines(&first)[0]["id"], "1");
    assert_eq!(stderr, "");
    assert!(status.success(), "{status:?}");
}

#[test]
fn triage_reads_stdin_when_no_file_is_given() {
    let posts = posts();
    let run = steward_with_stdin(&["triage", "--no-model"], &jsonl(&posts));
    run.expect_code(0);
    let out = parse_lines(&run.stdout);
    assert_eq!(out.len(), 3);
    for (o, p) in out.iter().zip(&posts) {
        check_shape(o, p);
    }
    // Empty input: no output, success.
    let empty = steward_with_stdin(&["triage", "--no-model"], "");
    empty.expect_code(0);
    assert_eq!(empty.stdout, "");
}

/// `triage explain` gives, per post, every topic that scored, highest first, with its
/// threshold, the model's part and evidence, personal data redacted; it agrees with the
/// verdict `triage` gives.
#[test]
fn explain_lists_the_topics_that_scored_highest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = posts();
    let input = write(dir.path(), "posts.jsonl", &jsonl(&posts));
    let run = steward(&["triage", "explain", &input]);
    run.expect_code(0);
    let explained = parse_lines(&run.stdout);
    let verdicts = parse_lines(&steward(&["triage", &input]).expect_code(0).stdout);
    assert_eq!(explained.len(), posts.len());
    for ((e, v), p) in explained.iter().zip(&verdicts).zip(&posts) {
        assert_eq!(keys(e), ["id", "topics"], "{e}");
        assert_eq!(e["id"], p["id"]);
        let topics = e["topics"].as_array().expect("topics");
        assert!(!topics.is_empty(), "{e}");
        let scores: Vec<f64> = topics.iter().map(|t| t["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest first: {scores:?}");
        for t in topics {
            assert_eq!(keys(t), ["evidence", "id", "model", "score", "sensitive", "threshold"]);
            let (score, model) = (t["score"].as_f64().unwrap(), t["model"].as_f64().unwrap());
            assert!(model.abs() <= 1.0 + 1e-6 && score.is_finite(), "{t}");
        }
        // Every topic the verdict escalates to reached its threshold here.
        for m in v["topics"].as_array().unwrap() {
            let t = topics.iter().find(|t| t["id"] == m["id"]).expect("escalated topic explained");
            assert!(t["score"].as_f64().unwrap() >= t["threshold"].as_f64().unwrap(), "{t}");
            assert_eq!(t["sensitive"], true);
        }
    }
    // Personal data inside evidence is redacted (the marketing word "mail" is found inside
    // the first post's email address).
    assert!(run.stdout.contains("[email]"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("203.0.113.77") && !run.stdout.contains("jo.lee@"),
        "{}",
        run.stdout
    );
    // Rules only: the model's part is zero.
    let rules =
        parse_lines(&steward(&["triage", "explain", "--no-model", &input]).expect_code(0).stdout);
    assert!(rules.iter().flat_map(|e| e["topics"].as_array().unwrap()).all(|t| t["model"] == 0.0));
    // A malformed line is named; the others are still explained.
    let bad = steward_with_stdin(&["triage", "explain"], &format!("{}\nnot json\n", posts[1]));
    bad.expect_code(1);
    assert_eq!(parse_lines(&bad.stdout).len(), 1);
    assert!(bad.stderr.starts_with("<stdin>:2:2: error: expected ident"), "{}", bad.stderr);
}

/// A small labeled set of our own: a few posts per topic, written for this test.
const LABELED: &[(&str, &str, &str)] = &[
    (
        "privacy_telemetry",
        "Stop the app from phoning home",
        "It contacts your servers on every start even though I disabled telemetry.",
    ),
    (
        "privacy_telemetry",
        "Make usage statistics opt-in",
        "Data collection should never be on by default.",
    ),
    (
        "product_regulation",
        "Is the cloud edition GDPR compliant?",
        "Our DPO needs a data processing agreement before we can sign.",
    ),
    (
        "product_regulation",
        "Data residency in the EU",
        "Is customer data stored in the EU? Our compliance team asks.",
    ),
    (
        "licensing",
        "Can I use this library in a closed-source product?",
        "Which license terms apply if we ship it commercially?",
    ),
    (
        "licensing",
        "Relicensing from MIT to AGPL?",
        "The license file changed in the last release. Why?",
    ),
    (
        "packaging",
        "Please move LDAP to the free edition",
        "Locking it behind the Enterprise paywall hurts small teams.",
    ),
    (
        "packaging",
        "Why is SSO only in the paid tier?",
        "Single sign-on should not be an enterprise-only feature.",
    ),
    (
        "workplace",
        "Are you hiring in Portugal?",
        "Do you hire remote engineers from outside the US?",
    ),
    ("workplace", "Internship positions", "Does the company offer internships for students?"),
    (
        "security_vulnerability",
        "Stored XSS in user profile",
        "A script in the nickname field runs for every viewer.",
    ),
    (
        "security_vulnerability",
        "Other users' files readable by changing the id in the URL",
        "Any logged-in user can download anyone's attachments.",
    ),
    (
        "illicit_use",
        "Your server software is used to sell stolen cards",
        "An instance hosts a marketplace for stolen credit cards.",
    ),
    (
        "illicit_use",
        "Bot used for phishing",
        "Someone runs your bot to phish people for their passwords.",
    ),
    (
        "marketing_regulation",
        "Newsletter I never signed up for",
        "I keep getting marketing emails and there is no unsubscribe link.",
    ),
    (
        "marketing_regulation",
        "Cookies on the docs site before consent",
        "The documentation site sets tracking cookies before I accept.",
    ),
    (
        "government_request",
        "Would you give my messages to the police?",
        "If law enforcement asked for my data, would you hand it over?",
    ),
    (
        "government_request",
        "Warrant canary",
        "Do you publish a transparency report about government requests?",
    ),
    ("feature_request", "Add dark mode", "It would be great to have a dark theme option."),
    (
        "troubleshooting",
        "How do I configure the SMTP server?",
        "I'm trying to set up email notifications but can't get it to work.",
    ),
    (
        "bug_report",
        "Crash when uploading a large file",
        "Steps to reproduce: upload 2 GB. Expected: upload. Actual: the app crashes.",
    ),
    (
        "feedback",
        "Thanks for the great release",
        "Just wanted to say the new editor is fantastic. Great job!",
    ),
];

fn labeled_jsonl() -> String {
    LABELED
        .iter()
        .enumerate()
        .map(|(i, (label, title, body))| {
            format!(
                "{}\n",
                json!({"id": format!("l{i}"), "title": title, "body": body, "labels": [label]})
            )
        })
        .collect()
}

#[test]
fn eval_prints_the_figures_and_json_agrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "labeled.jsonl", &labeled_jsonl());
    let run = steward(&["triage", "eval", &path]);
    run.expect_code(0);
    let lines = run.stdout_lines();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    for needle in ["escalation: recall", "precision", "macro-F1"] {
        assert!(has(needle), "no line with {needle:?} in:\n{}", run.stdout);
    }
    assert!(lines.contains(&"posts: 22"), "{}", run.stdout);
    for (label, _, _) in LABELED {
        assert!(lines.iter().any(|l| l.starts_with(label)), "no row for {label}:\n{}", run.stdout);
    }

    let json = steward(&["triage", "eval", "--json", "--no-model", &path]);
    json.expect_code(0);
    let report: Value = serde_json::from_str(&json.stdout).expect("eval --json is JSON");
    assert_eq!(report["posts"], LABELED.len());
    let e = &report["escalation"];
    let sensitive =
        LABELED.iter().filter(|(l, _, _)| steward_policy::SENSITIVE_TOPICS.contains(l)).count()
            as u64;
    // Every sensitive post is either caught (tp) or missed (fn).
    assert_eq!(e["tp"].as_u64().unwrap() + e["fn_"].as_u64().unwrap(), sensitive, "{e}");
    assert!(report["labels"]["licensing"]["tp"].is_u64(), "{report}");

    // A labeled file with a bad line fails with its line number.
    let bad = write(dir.path(), "bad.jsonl", &format!("{}not json\n", labeled_jsonl()));
    let run = steward(&["triage", "eval", "--no-model", &bad]);
    run.expect_code(2);
    assert!(run.stderr.contains("line 23"), "{}", run.stderr);
}

#[test]
fn train_writes_a_model_that_triage_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labeled = write(dir.path(), "labeled.jsonl", &labeled_jsonl());
    let model = dir.path().join("model.json");
    let model = model.to_str().unwrap();
    let run = steward(&["triage", "train", "--without-builtin", &labeled, "--out", model]);
    run.expect_code(0);
    assert!(run.stderr.contains("trained on 22 posts"), "{}", run.stderr);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(model).expect("model written"))
            .expect("JSON");
    assert_eq!(saved["labels"].as_array().map(Vec::len), Some(13), "one classifier per label");

    let posts = jsonl(&posts());
    let with_model = steward_with_stdin(&["triage", "--model", model], &posts);
    with_model.expect_code(0);
    let rules_only = steward_with_stdin(&["triage", "--no-model"], &posts);
    rules_only.expect_code(0);
    let (a, b) = (parse_lines(&with_model.stdout), parse_lines(&rules_only.stdout));
    assert_eq!(a.len(), 3);
    assert_eq!(b.len(), 3);
    // The model's votes move the score of the same topic.
    assert_eq!(a[0]["topics"][0]["id"], b[0]["topics"][0]["id"]);
    assert_ne!(a[0]["topics"][0]["score"], b[0]["topics"][0]["score"], "the model was not used");

    // Not a model: refused with a clear message.
    let junk = write(dir.path(), "junk.json", "{\"weights\": 3}");
    let run = steward_with_stdin(&["triage", "--model", &junk], &posts);
    run.expect_code(2);
    assert!(run.stderr.contains("is not a model file"), "{}", run.stderr);
    // --model and --no-model exclude each other.
    steward_with_stdin(&["triage", "--model", model, "--no-model"], &posts).expect_code(2);
}

//! Intake and escalation end to end: a sensitive post opens a case whose escalation reaches
//! every configured channel of the real receiver with the right @-mentions, owner, redacted
//! excerpt and links; intake is idempotent; posts of one thread join one case.

use serde_json::{json, Value};
use steward_policy::SENSITIVE_TOPICS;
use steward_testkit::{HttpRequest, Record};

use crate::helpers::*;

both!(
    every_sensitive_topic_escalates_to_its_approved_responders,
    a_post_touching_no_sensitive_topic_opens_no_case,
    intake_is_idempotent_on_source_and_external_id,
    posts_of_one_thread_join_one_case,
);

/// The chat text of one topic's escalation must name exactly the topic's people.
fn check_chat_text(text: &str, topic: &str, case_id: &str, post: &Value) {
    let policy = policy();
    let title = &policy.topic(topic).unwrap().title;
    let responders = policy.responders_of(topic);
    let loop_ins = policy.loop_ins_of(topic);
    let ctx = format!("topic {topic}, text:\n{text}");

    assert!(text.contains(&format!("Sensitive post escalated: {title}")), "{ctx}");
    assert!(text.contains(case_id), "{ctx}");
    assert_eq!(
        line_after(text, "Approved responders: "),
        Some(chat_mentions(&responders).join(", ").as_str()),
        "{ctx}"
    );
    match loop_ins.is_empty() {
        true => assert_eq!(line_after(text, "Loop in: "), None, "{ctx}"),
        false => assert_eq!(
            line_after(text, "Loop in: "),
            Some(chat_mentions(&loop_ins).join(", ").as_str()),
            "{ctx}"
        ),
    }
    let owner = chat_mentions(&responders[..1]).remove(0);
    assert_eq!(line_after(text, "Owner: "), Some(owner.as_str()), "{ctx}");
    // Every @-mention in the text belongs to a responder or loop-in of this topic.
    let allowed: Vec<String> =
        chat_mentions(&responders).into_iter().chain(chat_mentions(&loop_ins)).collect();
    for word in text.split([' ', ',', '\n']).filter(|w| w.starts_with('@')) {
        assert!(allowed.iter().any(|a| a == word), "unexpected mention {word}; {ctx}");
    }
    // The redacted excerpt, never the address itself.
    assert!(text.contains("[email]"), "{ctx}");
    assert!(!text.contains(SECRET_EMAIL), "{ctx}");
    assert!(text.contains(&format!("<{}>", post["url"].as_str().unwrap())), "{ctx}");
    assert!(text.contains(&format!("Case: {PUBLIC_URL}/api/v1/cases/{case_id}")), "{ctx}");
}

fn by_path<'a>(requests: &'a [&'a HttpRequest], path: &str) -> Vec<&'a HttpRequest> {
    requests.iter().copied().filter(|r| r.path == path).collect()
}

async fn every_sensitive_topic_escalates_to_its_approved_responders(app: TestApp) {
    let policy = policy();
    // The nine sensitive topics of the standard policy are those of the example policy.
    let sensitive: Vec<&str> =
        policy.topics.iter().filter(|t| t.sensitive).map(|t| t.id.as_str()).collect();
    assert_eq!(sensitive, SENSITIVE_TOPICS);

    for topic in SENSITIVE_TOPICS {
        let seen = app.receiver.records().len();
        let post = topic_post(Some(topic), &format!("esc-{topic}"));
        let body = app.post_post(&app.tokens.triager, &post).await.expect(201).body;
        let case_id = body["case_id"].as_str().unwrap_or_else(|| panic!("{topic}: {body:#}"));
        let triaged: Vec<&str> = body["triage"]["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(triaged, [topic], "the test post must be about {topic} only");
        assert_eq!(body["post"]["case_id"], case_id);
        assert!(!body["post"]["body"].as_str().unwrap().contains(SECRET_EMAIL));

        // The case, as stored: owner, responders and loop-ins resolved from the policy.
        let responders = policy.responders_of(topic);
        let loop_ins = policy.loop_ins_of(topic);
        let case = app.case(case_id).await;
        let owner = responders.first().map(|p| p.id.as_str());
        assert_eq!(case["owner"].as_str(), owner, "{topic}: default owner");
        let ids = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|p| p["person"].as_str().unwrap().to_string())
                .collect()
        };
        let expected: Vec<String> = responders.iter().map(|p| p.id.clone()).collect();
        assert_eq!(ids(&case["responders"]), expected, "{topic}: responders");
        let expected: Vec<String> = loop_ins.iter().map(|p| p.id.clone()).collect();
        assert_eq!(ids(&case["loop_ins"]), expected, "{topic}: loop-ins");
        assert_eq!(case["topics"], json!([topic]));
        assert_eq!(case["policy_version"], policy.version.as_str());
        assert!(!case.to_string().contains(SECRET_EMAIL), "{topic}: the case leaks the address");

        // One notification per channel that wants the topic, all delivered in one step.
        let wanted = if topic == WEBHOOK_TOPIC { 4 } else { 3 };
        assert_eq!(app.deliver_now().await, wanted, "{topic}: outbox items");
        let records: Vec<Record> = app.receiver.records().split_off(seen);
        assert_eq!(records.len(), wanted, "{topic}: received {records:#?}");
        let http: Vec<&HttpRequest> = records
            .iter()
            .filter_map(|r| match r {
                Record::Http(h) => Some(h),
                Record::Smtp(_) => None,
            })
            .collect();

        let mattermost = by_path(&http, HOOK_MATTERMOST);
        assert_eq!(mattermost.len(), 1, "{topic}: mattermost");
        let m = mattermost[0].json();
        assert_eq!(m["channel"], "community-escalations");
        assert_eq!(m["username"], "steward");
        check_chat_text(m["text"].as_str().unwrap(), topic, case_id, &post);

        let slack = by_path(&http, HOOK_SLACK);
        assert_eq!(slack.len(), 1, "{topic}: slack");
        check_chat_text(slack[0].json()["text"].as_str().unwrap(), topic, case_id, &post);

        // Email: mentions are `Name <email>`.
        let mails: Vec<_> = records
            .iter()
            .filter_map(|r| match r {
                Record::Smtp(m) => Some(m),
                Record::Http(_) => None,
            })
            .collect();
        assert_eq!(mails.len(), 1, "{topic}: mails");
        let mail = mails[0];
        let title = &policy.topic(topic).unwrap().title;
        let subject = mail.subject.as_deref().unwrap_or_default();
        assert!(subject.contains(&format!("Escalation: {title}")), "{topic}: subject {subject}");
        assert_eq!(mail.rcpt_to, ["responders@example.org"]);
        assert_eq!(
            line_after(&mail.body, "Approved responders: ").map(str::trim_end),
            Some(email_mentions(&responders).join(", ").as_str()),
            "{topic}: mail body:\n{}",
            mail.body
        );
        if !loop_ins.is_empty() {
            assert_eq!(
                line_after(&mail.body, "Loop in: ").map(str::trim_end),
                Some(email_mentions(&loop_ins).join(", ").as_str()),
                "{topic}: mail body:\n{}",
                mail.body
            );
        }
        assert!(mail.body.contains("[email]") && !mail.data.contains(SECRET_EMAIL), "{topic}");
        assert!(mail.body.contains(case_id), "{topic}");

        // The signed webhook wants only its topic; its signature verifies.
        let signed = by_path(&http, HOOK_SIGNED);
        if topic == WEBHOOK_TOPIC {
            assert_eq!(signed.len(), 1, "{topic}: signed webhook");
            let hook = signed[0];
            let signature =
                hook.header(steward_delivery::SIGNATURE_HEADER).expect("a signature header");
            assert!(steward_delivery::verify_signature(
                WEBHOOK_SECRET.as_bytes(),
                hook.body.as_bytes(),
                signature
            ));
            assert!(!steward_delivery::verify_signature(
                b"another secret",
                hook.body.as_bytes(),
                signature
            ));
            let event = hook.json();
            assert_eq!(event["event"], "case.escalated");
            assert_eq!(event["case"]["id"], case_id);
            assert_eq!(event["case"]["topics"], json!([topic]));
            assert_eq!(event["case"]["owner"].as_str(), owner);
            assert!(!hook.body.contains(SECRET_EMAIL));
        } else {
            assert!(signed.is_empty(), "{topic}: the signed webhook wants only {WEBHOOK_TOPIC}");
        }

        // The case shows every delivery as delivered.
        let case = app.case(case_id).await;
        let deliveries = case["deliveries"].as_array().unwrap();
        assert_eq!(deliveries.len(), wanted);
        assert!(
            deliveries.iter().all(|d| d["status"] == "delivered" && d["attempts"] == 1),
            "{case:#}"
        );
    }
}

async fn a_post_touching_no_sensitive_topic_opens_no_case(app: TestApp) {
    let body = app.submit(&topic_post(None, "dark-mode")).await;
    assert_eq!(body["case_id"], Value::Null, "{body:#}");
    assert_eq!(body["triage"]["sensitive"], false);
    assert_eq!(body["triage"]["kind"], "feature_request");
    assert_eq!(app.counts().await, (1, 0));
    assert_eq!(app.deliver_now().await, 0);
    assert!(app.receiver.records().is_empty());
}

async fn intake_is_idempotent_on_source_and_external_id(app: TestApp) {
    let post = topic_post(Some("licensing"), "dup-1");
    let first = app.post_post(&app.tokens.triager, &post).await.expect(201);
    assert_eq!(first.header("idempotent-replay"), Some("false"));
    let (posts, cases) = app.counts().await;
    assert_eq!((posts, cases), (1, 1));

    // The same post again, and the same ids with other text: the first result, nothing new.
    let mut changed = post.clone();
    changed["body"] = json!("Something else entirely about our GPL license.");
    for again in [&post, &changed] {
        let second = app.post_post(&app.tokens.triager, again).await.expect(201);
        assert_eq!(second.header("idempotent-replay"), Some("true"));
        assert_eq!(second.body["post"]["id"], first.body["post"]["id"]);
        assert_eq!(second.body["case_id"], first.body["case_id"]);
        assert_eq!(second.body["post"]["body"], first.body["post"]["body"]);
        assert_eq!(app.counts().await, (posts, cases));
    }
    // Another source with the same external id is another post.
    let mut other = post.clone();
    other["source"] = json!("github");
    let third = app.post_post(&app.tokens.triager, &other).await.expect(201);
    assert_eq!(third.header("idempotent-replay"), Some("false"));
    assert_ne!(third.body["post"]["id"], first.body["post"]["id"]);

    // Exactly one escalation for the repeated post (plus one for the other source's).
    assert_eq!(app.deliver_now().await, 6);
    assert_eq!(app.deliver_now().await, 0);
    let case_id = first.body["case_id"].as_str().unwrap();
    let about_case = app
        .receiver
        .records()
        .iter()
        .filter(|r| match r {
            Record::Http(h) => h.body.contains(case_id),
            Record::Smtp(m) => m.body.contains(case_id),
        })
        .count();
    assert_eq!(about_case, 3, "one escalation per channel");
    assert_eq!(app.case(case_id).await["deliveries"].as_array().unwrap().len(), 3);
}

async fn posts_of_one_thread_join_one_case(app: TestApp) {
    let mut first = topic_post(Some("security_vulnerability"), "issue-7");
    first["thread"] = json!("issue-7");
    let mut second = topic_post(Some("security_vulnerability"), "issue-7-comment-1");
    second["thread"] = json!("issue-7");
    second["body"] = json!(
        "Same here: the upload endpoint allows remote code execution, a security vulnerability."
    );
    let a = app.submit(&first).await;
    // A comment comes later than its issue (the case lists its posts oldest first).
    app.clock.advance(60_000);
    let b = app.submit(&second).await;
    assert_ne!(a["post"]["id"], b["post"]["id"]);
    let case_id = a["case_id"].as_str().expect("a case");
    assert_eq!(b["case_id"], case_id, "the second post joins the open case of its thread");
    assert_eq!(app.counts().await, (2, 1));

    let case = app.case(case_id).await;
    let posts: Vec<&Value> = case["posts"].as_array().unwrap().iter().map(|p| &p["id"]).collect();
    assert_eq!(posts, [&a["post"]["id"], &b["post"]["id"]]);

    // One escalation: one message per channel that wants the topic (webhook included).
    assert_eq!(app.deliver_now().await, 4);
    assert_eq!(app.receiver.records().len(), 4);
    assert_eq!(app.case(case_id).await["deliveries"].as_array().unwrap().len(), 4);

    // A post of another thread opens another case.
    let mut third = topic_post(Some("security_vulnerability"), "issue-8");
    third["thread"] = json!("issue-8");
    let c = app.submit(&third).await;
    assert_ne!(c["case_id"], case_id);
    assert_eq!(app.counts().await, (3, 2));
}

//! Response clocks driven by a manual clock: a reminder to the owner before the target, a
//! missed-target notice to the next approved responder and the loop-ins after it, each
//! sent once, and nothing for a case whose response was approved.

use serde_json::Value;
use steward_testkit::Record;

use crate::helpers::*;

both!(reminders_then_missed_targets_fire_once_and_only_for_unanswered_cases);

const HOUR: i64 = 3_600_000;

/// The chat and mail texts received since `seen` records.
fn texts_since(app: &TestApp, seen: usize) -> (Vec<String>, Vec<String>) {
    let mut chat = Vec::new();
    let mut mail = Vec::new();
    for r in app.receiver.records().split_off(seen) {
        match r {
            Record::Http(h) => chat.push(h.json()["text"].as_str().unwrap_or_default().to_string()),
            Record::Smtp(m) => mail.push(m.body),
        }
    }
    (chat, mail)
}

async fn reminders_then_missed_targets_fire_once_and_only_for_unanswered_cases(app: TestApp) {
    let policy = policy();
    // Privacy/Telemetry: first response within 1 day, reminder 4 hours before.
    let late = app.submit_case(&topic_post(Some("privacy_telemetry"), "timer-late")).await;
    // Licensing (2 days) is answered at once: its clock stops.
    let answered = app.submit_case(&topic_post(Some("licensing"), "timer-answered")).await;
    let jason = app.person("jason_blais").await;
    let draft =
        app.draft(&jason, &answered, "Thank you! See https://docs.example.org.").await.expect(201);
    let rid = draft.body["response"]["id"].as_str().unwrap().to_string();
    app.approve(&jason, &answered, &rid).await.expect(200);

    let case = app.case(&late).await;
    assert_eq!(case["due_at"], T0 + 24 * HOUR);
    assert_eq!(case["remind_at"], T0 + 20 * HOUR);
    assert_eq!(app.deliver_now().await, 6, "the two escalations");
    assert_eq!(app.fire_timers_now().await, 0, "nothing is due yet");

    // Just before the reminder: nothing.
    app.clock.set(T0 + 20 * HOUR - 1);
    assert_eq!(app.fire_timers_now().await, 0);

    // The reminder goes to the owner (the first approved responder).
    app.clock.set(T0 + 20 * HOUR);
    let seen = app.receiver.records().len();
    assert_eq!(app.fire_timers_now().await, 1);
    assert_eq!(app.fire_timers_now().await, 0, "a reminder fires once");
    assert_eq!(app.deliver_now().await, 3);
    let (chat, mail) = texts_since(&app, seen);
    assert_eq!((chat.len(), mail.len()), (2, 1));
    let owner = policy.person("jason_blais").unwrap();
    for text in &chat {
        assert!(text.starts_with("@jason.blais: "), "{text}");
        assert!(text.contains(&late) && text.contains("no first response yet"), "{text}");
        assert!(!text.contains(&answered), "{text}");
    }
    assert!(
        mail[0].contains(&format!("{} <{}>:", owner.name, owner.email.as_deref().unwrap())),
        "{}",
        mail[0]
    );

    // The target is missed: the next approved responder and the loop-ins are told.
    app.clock.set(T0 + 24 * HOUR);
    let seen = app.receiver.records().len();
    assert_eq!(app.fire_timers_now().await, 1);
    assert_eq!(app.fire_timers_now().await, 0, "a missed target fires once");
    assert_eq!(app.deliver_now().await, 3);
    let (chat, mail) = texts_since(&app, seen);
    assert_eq!((chat.len(), mail.len()), (2, 1));
    let responders = policy.responders_of("privacy_telemetry");
    let mut told = vec![responders[1]];
    for p in policy.loop_ins_of("privacy_telemetry") {
        if !told.iter().any(|q| q.id == p.id) {
            told.push(p);
        }
    }
    assert_eq!(
        told.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["katie_wiersgalla", "ian_tien"]
    );
    let chat_to = format!("{}: ", chat_mentions(&told).join(", "));
    for text in &chat {
        assert!(text.starts_with(&chat_to), "expected {chat_to:?} first: {text}");
        assert!(
            text.contains(&late) && text.contains("missed its first-response target"),
            "{text}"
        );
        assert!(text.contains("Owner: @jason.blais"), "{text}");
    }
    let mail_to = format!("{}:", email_mentions(&told).join(", "));
    assert!(mail[0].contains(&mail_to), "expected {mail_to:?}: {}", mail[0]);

    // Much later: nothing more, for either case.
    app.clock.set(T0 + 30 * 24 * HOUR);
    assert_eq!(app.fire_timers_now().await, 0);
    assert_eq!(app.deliver_now().await, 0);

    let case = app.case(&late).await;
    assert_eq!(case["reminded_at"], T0 + 20 * HOUR);
    assert_eq!(case["breached_at"], T0 + 24 * HOUR);
    let kinds: Vec<&str> =
        case["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "reminder_sent").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "target_missed").count(), 1, "{kinds:?}");
    let purposes: Vec<&str> = case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(purposes.iter().filter(|p| **p == "reminder").count(), 3);
    assert_eq!(purposes.iter().filter(|p| **p == "breach").count(), 3);

    let case = app.case(&answered).await;
    assert_eq!(case["reminded_at"], Value::Null);
    assert_eq!(case["breached_at"], Value::Null);
    assert_eq!(case["deliveries"].as_array().unwrap().len(), 3, "only the escalation");
}

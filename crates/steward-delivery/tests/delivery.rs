//! Delivery against a real receiver process (`steward-receiver`): the channel senders over
//! real HTTP and SMTP, and the outbox worker end to end on SQLite and PostgreSQL.
//!
//! The receiver binary is found (and built when needed) by `Receiver::binary_path`, so
//! `cargo test -p steward-delivery` works from a clean target directory.

use std::time::Duration;

use serde_json::json;
use steward_delivery::{
    verify_signature, Backoff, ChannelConfig, DeliveryError, Message, Secret, Sender, Worker,
};
use steward_store::{
    CaseRecord, DeliveryRecord, NewCase, NewEscalation, NewNotification, NewPost, Store,
};
use steward_testkit::{Receiver, ReceiverOptions, TestDatabase};

const WAIT: Duration = Duration::from_secs(10);
/// A fixed clock start: tests pass time explicitly and never sleep for it.
const T0: i64 = 1_700_000_000_000;

fn receiver() -> Receiver {
    Receiver::start(ReceiverOptions::default())
}

fn receiver_with(options: ReceiverOptions) -> Receiver {
    Receiver::start(options)
}

fn message() -> Message {
    Message {
        subject: "[steward] licensing: Can I ship this in my product?".into(),
        text: "**Topic:** licensing\n> Can I ship this…\ncc @alice @bob — owner @alice".into(),
        event: json!({"type": "escalation", "case_id": "case-1", "topics": ["licensing"],
                      "mentions": ["alice", "bob"]}),
    }
}

fn mattermost(receiver: &Receiver, topics: &[&str]) -> ChannelConfig {
    ChannelConfig::Mattermost {
        id: "mm".into(),
        url: Secret::new(receiver.http_url("/hooks/mm-secret-key")),
        channel: Some("escalations".into()),
        username: Some("steward".into()),
        topics: topics.iter().map(|t| t.to_string()).collect(),
    }
}

fn email(receiver: &Receiver) -> ChannelConfig {
    ChannelConfig::Email {
        id: "mail".into(),
        smtp: receiver.smtp_url(),
        from: "Steward <steward@example.org>".into(),
        to: vec!["legal@example.org".into(), "Team <team@example.org>".into()],
        topics: vec![],
    }
}

fn webhook(receiver: &Receiver, secret: &str) -> ChannelConfig {
    ChannelConfig::Webhook {
        id: "hook".into(),
        url: receiver.http_url("/steward/events"),
        secret: Secret::new(secret),
        topics: vec![],
    }
}

fn sender() -> Sender {
    Sender::new().expect("build the HTTP client")
}

// ---------------------------------------------------------------------------------------
// Channel senders against the real receiver.

#[tokio::test]
async fn mattermost_gets_text_channel_username_and_delivery_header() {
    let receiver = receiver();
    sender().send(&mattermost(&receiver, &[]), &message(), "17").await.unwrap();
    let requests = receiver.wait_for_http(1, WAIT).await;
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/mm-secret-key");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-steward-delivery"), Some("17"));
    assert_eq!(
        request.json(),
        json!({"text": message().text, "channel": "escalations", "username": "steward"})
    );
}

#[tokio::test]
async fn slack_payload_omits_absent_channel_and_username() {
    let receiver = receiver();
    let slack = ChannelConfig::Slack {
        id: "slack".into(),
        url: Secret::new(receiver.http_url("/services/T0/B0/secret")),
        channel: None,
        username: None,
        topics: vec![],
    };
    sender().send(&slack, &message(), "18").await.unwrap();
    let requests = receiver.wait_for_http(1, WAIT).await;
    assert_eq!(requests[0].json(), json!({"text": message().text}));
    assert_eq!(requests[0].header("x-steward-delivery"), Some("18"));
}

#[tokio::test]
async fn email_arrives_with_subject_recipients_body_and_delivery_header() {
    let receiver = receiver();
    let mut msg = message();
    msg.subject = "[steward] données personnelles: télémétrie".into();
    sender().send(&email(&receiver), &msg, "19").await.unwrap();
    let mails = receiver.wait_for_mails(1, WAIT).await;
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "steward@example.org");
    assert_eq!(mail.rcpt_to, ["legal@example.org", "team@example.org"]);
    assert_eq!(mail.subject.as_deref(), Some(msg.subject.as_str()));
    assert_eq!(mail.delivery_id.as_deref(), Some("19"));
    assert_eq!(mail.body.replace("\r\n", "\n").trim_end(), msg.text.as_str());
}

#[tokio::test]
async fn webhook_signature_verifies_with_the_secret_only() {
    let receiver = receiver();
    sender().send(&webhook(&receiver, "s3cret"), &message(), "20").await.unwrap();
    let requests = receiver.wait_for_http(1, WAIT).await;
    let request = &requests[0];
    assert_eq!(request.path, "/steward/events");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-steward-delivery"), Some("20"));
    // The body is the event, compact.
    assert_eq!(request.body, serde_json::to_string(&message().event).unwrap());
    let signature = request.header("x-steward-signature").unwrap();
    assert!(signature.starts_with("sha256="), "{signature}");
    assert!(verify_signature(b"s3cret", request.body.as_bytes(), signature));
    assert!(!verify_signature(b"wrong", request.body.as_bytes(), signature));
    assert!(!verify_signature(b"s3cret", format!("{} ", request.body).as_bytes(), signature));
}

#[tokio::test]
async fn status_codes_are_classified_permanent_or_retryable() {
    for (status, permanent) in [(400, true), (404, true), (408, false), (429, false), (503, false)]
    {
        let receiver =
            receiver_with(ReceiverOptions { status: Some(status), ..Default::default() });
        let err = sender().send(&mattermost(&receiver, &[]), &message(), "21").await.unwrap_err();
        match &err {
            DeliveryError::Http { status: got, body } => {
                assert_eq!(*got, status);
                assert!(body.len() <= 200, "{body}");
            }
            other => panic!("expected an HTTP error, got {other:?}"),
        }
        assert_eq!(err.is_permanent(), permanent, "{status}");
    }
}

#[tokio::test]
async fn transport_errors_are_retryable_and_do_not_leak_the_hook_url() {
    let mut receiver = receiver();
    let channel = mattermost(&receiver, &[]);
    receiver.stop();
    let err = sender().send(&channel, &message(), "22").await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transport(_)), "{err:?}");
    assert!(!err.is_permanent());
    assert!(!err.to_string().contains("mm-secret-key"), "{err}");
    assert!(!format!("{channel:?}").contains("mm-secret-key"));

    let mail_err = sender().send(&email(&receiver), &message(), "23").await.unwrap_err();
    assert!(matches!(mail_err, DeliveryError::Smtp(_)), "{mail_err:?}");
    assert!(!mail_err.is_permanent());
}

// ---------------------------------------------------------------------------------------
// The worker on the store: one story, every backend.

/// Runs a storage story on a fresh SQLite database and on a fresh PostgreSQL database.
macro_rules! on_every_backend {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $story() {
                    let db = steward_testkit::TestDatabase::sqlite();
                    super::$story(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $story() {
                    let db = steward_testkit::TestDatabase::postgres().await;
                    super::$story(&db).await;
                }
            )*
        }
    };
}

on_every_backend!(
    worker_delivers_each_notification_exactly_once,
    worker_retries_while_receiver_is_down_then_delivers,
    worker_gives_up_on_4xx,
    worker_gives_up_after_max_attempts,
    worker_gives_up_on_unknown_channel,
    two_workers_share_the_outbox_without_double_sending,
);

async fn connect(db: &TestDatabase) -> Store {
    Store::connect(db.url()).await.expect("connect the store")
}

fn backoff() -> Backoff {
    Backoff { base_ms: 1_000, max_ms: 60_000, max_attempts: 5 }
}

fn worker(store: &Store, channels: Vec<ChannelConfig>, id: &str) -> Worker {
    Worker::new(store.clone(), sender(), channels, backoff()).with_id(id)
}

fn notification(channel: &str) -> NewNotification {
    NewNotification {
        channel: channel.into(),
        purpose: "escalation".into(),
        payload: serde_json::to_value(message()).unwrap(),
    }
}

/// Stores a sensitive post that opens a case with `notifications`; returns the case id.
async fn escalate(store: &Store, n: u32, notifications: Vec<NewNotification>) -> String {
    let case_id = format!("case-{n}");
    let post = NewPost {
        id: format!("post-{n}"),
        source: "forum".into(),
        external_id: format!("ext-{n}"),
        url: Some(format!("https://forum.example.org/t/{n}")),
        author: Some("someone".into()),
        thread_key: format!("forum:thread-{n}"),
        title: "Can I ship this in my product?".into(),
        body: "We want to bundle it.".into(),
        original_title: "Can I ship this in my product?".into(),
        original_body: "We want to bundle it.".into(),
        triage: json!({"topics": ["licensing"]}),
        sensitive: true,
        topics: vec!["licensing".into()],
        kind: None,
    };
    let escalation = NewEscalation {
        case: NewCase {
            id: case_id.clone(),
            thread_key: format!("forum:thread-{n}"),
            topics: vec!["licensing".into()],
            policy_version: "test".into(),
            owner: Some("alice".into()),
            responders: json!([]),
            loop_ins: json!([]),
            opened_by: "triage".into(),
            due_at: None,
            remind_at: None,
        },
        notifications,
    };
    let intake = store.intake(post, Some(escalation), vec![], T0).await.expect("intake");
    assert_eq!(intake.case_id.as_deref(), Some(case_id.as_str()));
    case_id
}

async fn deliveries(store: &Store, case_id: &str) -> Vec<DeliveryRecord> {
    let case: CaseRecord = store.get_case(case_id).await.expect("get the case");
    case.deliveries
}

async fn worker_delivers_each_notification_exactly_once(db: &TestDatabase) {
    let store = connect(db).await;
    let receiver = receiver();
    let worker =
        worker(&store, vec![mattermost(&receiver, &["licensing"]), email(&receiver)], "w1");
    let case_id = escalate(&store, 1, vec![notification("mm"), notification("mail")]).await;

    assert_eq!(worker.run_once(T0).await.unwrap(), 2);
    let http = receiver.wait_for_http(1, WAIT).await;
    let mails = receiver.wait_for_mails(1, WAIT).await;
    assert_eq!(http[0].json()["text"], json!(message().text));
    assert_eq!(mails[0].subject.as_deref(), Some(message().subject.as_str()));

    // Nothing is due any more, now or much later: exactly once.
    assert_eq!(worker.run_once(T0).await.unwrap(), 0);
    assert_eq!(worker.run_once(T0 + 86_400_000).await.unwrap(), 0);
    assert_eq!(receiver.records().len(), 2);

    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 2, 0));
    let ds = deliveries(&store, &case_id).await;
    assert_eq!(ds.len(), 2);
    for d in &ds {
        assert_eq!(d.status, "delivered", "{d:?}");
        assert_eq!(d.attempts, 1);
        assert_eq!(d.delivered_at, Some(T0));
        assert_eq!(d.attempt_log.len(), 1);
        assert!(d.attempt_log[0].ok);
    }
    // The delivery header carries the outbox id, the receiver's key to drop duplicates.
    let mm = ds.iter().find(|d| d.channel == "mm").unwrap();
    assert_eq!(http[0].header("x-steward-delivery"), Some(mm.id.to_string().as_str()));
    store.close().await;
}

async fn worker_retries_while_receiver_is_down_then_delivers(db: &TestDatabase) {
    let store = connect(db).await;
    let mut receiver = receiver();
    let worker = worker(&store, vec![mattermost(&receiver, &[])], "w1");
    let case_id = escalate(&store, 2, vec![notification("mm")]).await;

    receiver.stop();
    assert_eq!(worker.run_once(T0).await.unwrap(), 1);
    let d = &deliveries(&store, &case_id).await[0];
    assert_eq!(d.status, "pending");
    assert_eq!(d.attempts, 1);
    // The first retry comes after the backoff's base delay.
    assert_eq!(d.next_attempt_at, T0 + backoff().base_ms);
    assert_eq!(d.attempt_log.len(), 1);
    assert!(!d.attempt_log[0].ok);
    let error = d.attempt_log[0].error.as_deref().unwrap();
    assert!(error.starts_with("transport:"), "{error}");
    assert!(!error.contains("mm-secret-key"), "{error}");

    // Not due before its time.
    assert_eq!(worker.run_once(T0 + backoff().base_ms - 1).await.unwrap(), 0);

    receiver.restart_on_same_ports();
    let retry_at = T0 + backoff().base_ms;
    assert_eq!(worker.run_once(retry_at).await.unwrap(), 1);
    let requests = receiver.wait_for_http(1, WAIT).await;
    assert_eq!(requests.len(), 1);

    let d = &deliveries(&store, &case_id).await[0];
    assert_eq!(d.status, "delivered");
    assert_eq!(d.attempts, 2);
    assert_eq!(d.delivered_at, Some(retry_at));
    let log: Vec<(i64, bool)> = d.attempt_log.iter().map(|a| (a.at, a.ok)).collect();
    assert_eq!(log, [(T0, false), (retry_at, true)]);
    assert_eq!(worker.run_once(retry_at + 3_600_000).await.unwrap(), 0);
    assert_eq!(receiver.http_requests().len(), 1);
    store.close().await;
}

async fn worker_gives_up_on_4xx(db: &TestDatabase) {
    let store = connect(db).await;
    let receiver = receiver_with(ReceiverOptions { status: Some(410), ..Default::default() });
    let worker = worker(&store, vec![webhook(&receiver, "k")], "w1");
    let case_id = escalate(&store, 3, vec![notification("hook")]).await;

    assert_eq!(worker.run_once(T0).await.unwrap(), 1);
    let d = &deliveries(&store, &case_id).await[0];
    assert_eq!(d.status, "failed");
    assert_eq!(d.attempts, 1);
    assert!(d.last_error.as_deref().unwrap().starts_with("HTTP 410"), "{d:?}");
    assert_eq!(worker.run_once(T0 + 86_400_000).await.unwrap(), 0);
    assert_eq!(receiver.http_requests().len(), 1);
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.failed), (0, 0, 1));
    store.close().await;
}

async fn worker_gives_up_after_max_attempts(db: &TestDatabase) {
    let store = connect(db).await;
    let receiver = receiver_with(ReceiverOptions { status: Some(503), ..Default::default() });
    let worker = worker(&store, vec![mattermost(&receiver, &[])], "w1");
    let case_id = escalate(&store, 4, vec![notification("mm")]).await;

    // Doubling delays: 1 s, 2 s, 4 s, 8 s, then the fifth failure is the last.
    let mut now = T0;
    for expected_delay in [1_000, 2_000, 4_000, 8_000] {
        assert_eq!(worker.run_once(now).await.unwrap(), 1);
        let d = &deliveries(&store, &case_id).await[0];
        assert_eq!(d.status, "pending");
        assert_eq!(d.next_attempt_at, now + expected_delay);
        now += expected_delay;
    }
    assert_eq!(worker.run_once(now).await.unwrap(), 1);
    let d = &deliveries(&store, &case_id).await[0];
    assert_eq!(d.status, "failed");
    assert_eq!(d.attempts, 5);
    assert_eq!(d.attempt_log.len(), 5);
    assert!(d.last_error.as_deref().unwrap().contains("giving up after 5 attempts"));
    assert_eq!(worker.run_once(now + 86_400_000).await.unwrap(), 0);
    store.close().await;
}

async fn worker_gives_up_on_unknown_channel(db: &TestDatabase) {
    let store = connect(db).await;
    let worker = worker(&store, vec![], "w1");
    let case_id = escalate(&store, 5, vec![notification("removed-channel")]).await;
    assert_eq!(worker.run_once(T0).await.unwrap(), 1);
    let d = &deliveries(&store, &case_id).await[0];
    assert_eq!(d.status, "failed");
    assert!(d.last_error.as_deref().unwrap().contains("unknown channel"));
    store.close().await;
}

async fn two_workers_share_the_outbox_without_double_sending(db: &TestDatabase) {
    let store = connect(db).await;
    let receiver = receiver();
    let channels = vec![webhook(&receiver, "k")];
    let a = worker(&store, channels.clone(), "a").with_batch(4, 4);
    let b = worker(&store, channels, "b").with_batch(4, 4);
    for n in 0..12 {
        escalate(&store, 100 + n, vec![notification("hook")]).await;
    }
    let mut total = 0;
    loop {
        let (x, y) = tokio::join!(a.run_once(T0), b.run_once(T0));
        let claimed = x.unwrap() + y.unwrap();
        if claimed == 0 {
            break;
        }
        total += claimed;
    }
    assert_eq!(total, 12);
    let requests = receiver.wait_for_http(12, WAIT).await;
    let mut ids: Vec<&str> =
        requests.iter().map(|r| r.header("x-steward-delivery").unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 12, "every item sent exactly once");
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.delivered), (0, 12));
    store.close().await;
}

#[tokio::test]
async fn run_loop_delivers_and_stops_on_shutdown() {
    let db = TestDatabase::sqlite();
    let store = connect(&db).await;
    let receiver = receiver_with(ReceiverOptions { fail_first: 1, ..Default::default() });
    let worker = Worker::new(
        store.clone(),
        sender(),
        vec![mattermost(&receiver, &[])],
        Backoff { base_ms: 0, max_ms: 0, max_attempts: 3 },
    )
    .with_poll_interval(Duration::from_millis(20));
    let waker = worker.waker();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker.run(|| T0, shutdown));
    escalate(&store, 6, vec![notification("mm")]).await;
    waker.notify_one();
    // The first request gets 503, the immediate retry (zero backoff) gets through.
    let requests = receiver.wait_for_http(2, WAIT).await;
    assert_eq!(requests.iter().map(|r| r.status).collect::<Vec<_>>(), [503, 200]);
    stop.send(true).unwrap();
    tokio::time::timeout(WAIT, task).await.expect("the worker stops").unwrap();
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!(counts.delivered, 1);
    store.close().await;
}

//! The receiver process, driven by real clients: reqwest for HTTP, lettre for SMTP.

use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use steward_testkit::{Receiver, ReceiverOptions};

const WAIT: Duration = Duration::from_secs(10);

fn start(options: ReceiverOptions) -> Receiver {
    Receiver::start(ReceiverOptions {
        binary: Some(env!("CARGO_BIN_EXE_steward-receiver").into()),
        ..options
    })
}

#[tokio::test]
async fn records_http_requests_and_fails_first_n() {
    let receiver = start(ReceiverOptions { fail_first: 1, ..Default::default() });
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let response = client
            .post(receiver.http_url("/hooks/x?y=1"))
            .header("X-Custom", "Value")
            .body("{\"a\":1}")
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [503, 200]);
    let requests = receiver.wait_for_http(2, WAIT).await;
    assert_eq!(requests[0].status, 503);
    assert_eq!(requests[1].status, 200);
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].path, "/hooks/x?y=1");
    assert_eq!(requests[1].header("x-custom"), Some("Value"));
    assert_eq!(requests[1].json(), serde_json::json!({"a": 1}));
}

#[tokio::test]
async fn records_mail_with_dot_unstuffing_and_encoded_subject() {
    let receiver = start(ReceiverOptions::default());
    let email = lettre::Message::builder()
        .from("Desk <desk@example.org>".parse().unwrap())
        .to("team@example.org".parse().unwrap())
        .to("other@example.org".parse().unwrap())
        .subject("Escalade: données")
        .raw_header(lettre::message::header::HeaderValue::new(
            lettre::message::header::HeaderName::new_from_ascii_str("X-Steward-Delivery"),
            "42".into(),
        ))
        .body(String::from("first\n.dot line\n..two dots\nlast"))
        .unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(receiver.smtp_addr().port())
        .build();
    transport.send(email).await.unwrap();
    let mails = receiver.wait_for_mails(1, WAIT).await;
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "desk@example.org");
    assert_eq!(mail.rcpt_to, ["team@example.org", "other@example.org"]);
    assert_eq!(mail.subject.as_deref(), Some("Escalade: données"));
    assert_eq!(mail.delivery_id.as_deref(), Some("42"));
    assert_eq!(mail.body.replace("\r\n", "\n").trim_end(), "first\n.dot line\n..two dots\nlast");
}

#[tokio::test]
async fn smtp_fail_first_answers_451() {
    let receiver = start(ReceiverOptions { smtp_fail_first: 1, ..Default::default() });
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(receiver.smtp_addr().port())
        .build();
    let email = || {
        lettre::Message::builder()
            .from("desk@example.org".parse().unwrap())
            .to("team@example.org".parse().unwrap())
            .subject("s")
            .body(String::from("b"))
            .unwrap()
    };
    let err = transport.send(email()).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    transport.send(email()).await.unwrap();
    assert_eq!(receiver.wait_for_mails(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn stop_refuses_connections_and_restart_keeps_ports_and_log() {
    let mut receiver = start(ReceiverOptions::default());
    let client = reqwest::Client::new();
    let url = receiver.http_url("/a");
    client.post(&url).send().await.unwrap();
    receiver.stop();
    assert!(!receiver.is_running());
    // A fresh client: the old one's pooled connection fails differently (reset, not refused).
    let refused = reqwest::Client::new().post(&url).send().await.unwrap_err();
    assert!(refused.is_connect(), "{refused}");
    receiver.restart_on_same_ports();
    assert_eq!(receiver.http_url("/a"), url);
    client.post(&url).send().await.unwrap();
    assert_eq!(receiver.wait_for(2, WAIT).await.len(), 2);
}

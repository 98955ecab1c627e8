//! Durable delivery: while the receiver is down every attempt is recorded on the case and
//! retried after the backoff; once it is up again each escalation arrives exactly once.

use serde_json::{json, Value};
use steward_server::settings::DeliverySettings;

use crate::helpers::*;

both!(escalations_wait_for_a_receiver_that_is_down_then_arrive_once);

async fn escalations_wait_for_a_receiver_that_is_down_then_arrive_once(mut app: TestApp) {
    let backoff = DeliverySettings::default().base_backoff_ms;
    app.receiver.stop();
    let case_id = app.submit_case(&topic_post(Some("licensing"), "retry-1")).await;

    // First attempt: every channel fails, the case shows it, nothing is lost.
    assert_eq!(app.deliver_now().await, 3);
    let case = app.case(&case_id).await;
    let deliveries = case["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "{case:#}");
    for d in deliveries {
        assert_eq!(d["status"], "pending", "{d:#}");
        assert_eq!(d["attempts"], 1, "{d:#}");
        assert_eq!(d["purpose"], "escalation");
        assert!(d["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{d:#}");
        assert_eq!(d["next_attempt_at"], T0 + backoff, "{d:#}");
        assert_eq!(d["delivered_at"], Value::Null);
        let log = d["attempt_log"].as_array().unwrap();
        assert_eq!(log.len(), 1, "{d:#}");
        assert_eq!(log[0]["ok"], false);
        assert_eq!(log[0]["at"], T0);
        assert!(log[0]["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    let mut channels: Vec<&str> =
        deliveries.iter().map(|d| d["channel"].as_str().unwrap()).collect();
    channels.sort_unstable();
    assert_eq!(channels, ["email", "mattermost", "slack"]);

    // Not due again before the backoff has passed.
    app.clock.advance(backoff - 1);
    assert_eq!(app.deliver_now().await, 0);

    // The receiver is back on the same ports; past the backoff each item goes out once.
    app.receiver.restart_on_same_ports();
    app.clock.advance(1);
    assert_eq!(app.deliver_now().await, 3);
    assert_eq!(app.deliver_now().await, 0);
    let records = app.receiver.records();
    assert_eq!(records.len(), 3, "exactly one message per channel: {records:#?}");
    assert_eq!(app.receiver.http_requests().len(), 2);
    assert_eq!(app.receiver.mails().len(), 1);
    assert!(app
        .receiver
        .http_requests()
        .iter()
        .all(|r| r.status == 200 && r.body.contains(&case_id)));

    let case = app.case(&case_id).await;
    for d in case["deliveries"].as_array().unwrap() {
        assert_eq!(d["status"], "delivered", "{d:#}");
        assert_eq!(d["attempts"], 2, "{d:#}");
        assert_eq!(d["delivered_at"], T0 + backoff);
        let log = d["attempt_log"].as_array().unwrap();
        let oks: Vec<Value> = log.iter().map(|a| json!([a["at"], a["ok"]])).collect();
        assert_eq!(oks, [json!([T0, false]), json!([T0 + backoff, true])], "{d:#}");
    }

    // Much later: nothing is sent again.
    app.clock.advance(24 * 3_600_000);
    assert_eq!(app.deliver_now().await, 0);
    assert_eq!(app.receiver.records().len(), 3);
    let health = app.get("/api/v1/health", None).await.expect(200);
    assert_eq!(health.body["outbox"]["delivered"], 3);
    assert_eq!(health.body["outbox"]["pending"], 0);
}

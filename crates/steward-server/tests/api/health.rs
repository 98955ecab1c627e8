//! `/health`, what monitoring sees: it needs no token, counts the outbox at most once a
//! second, and answers 503 when the desk cannot read its database.

use serde_json::json;

use crate::helpers::*;

both!(
    health_counts_the_outbox_at_most_once_a_second,
    health_answers_503_once_the_store_cannot_be_read,
);

/// `/health` needs no token, so its outbox counts (a scan of the outbox) are remembered for
/// a second: calls within it show the last count, the first call after it counts again.
async fn health_counts_the_outbox_at_most_once_a_second(app: TestApp) {
    let pending = |health: &Resp| health.body["outbox"]["pending"].clone();
    let before = app.get("/api/v1/health", None).await.expect(200);
    assert_eq!(pending(&before), 0, "{:#}", before.body);
    app.submit_case(&topic_post(Some("licensing"), "health-1")).await;
    let within = app.get("/api/v1/health", None).await.expect(200);
    assert_eq!(pending(&within), 0, "counted less than a second ago: {:#}", within.body);
    app.clock.advance(999);
    let still = app.get("/api/v1/health", None).await.expect(200);
    assert_eq!(pending(&still), 0, "{:#}", still.body);
    app.clock.advance(1);
    let after = app.get("/api/v1/health", None).await.expect(200);
    assert_eq!(pending(&after), 3, "a second later it counts again: {:#}", after.body);
}

/// A closed store (every query fails at once) is reported as soon as the last good count
/// is a second old; the answer still names the policy in force.
async fn health_answers_503_once_the_store_cannot_be_read(app: TestApp) {
    let up = app.get("/api/v1/health", None).await.expect(200);
    assert_eq!((&up.body["status"], &up.body["database"]), (&json!("ok"), &json!("ok")));
    app.store.close().await;
    // Within the second, the last good count still answers.
    app.get("/api/v1/health", None).await.expect(200);
    app.clock.advance(1_000);
    let down = app.get("/api/v1/health", None).await.expect(503);
    assert_eq!(down.body, unavailable(), "{}", down.text);
}

/// A real outage: the PostgreSQL database is dropped under the running desk (its
/// connections ended by the server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_503_when_the_postgres_database_is_gone() {
    let app = spawn_app(Backend::Postgres).await;
    app.get("/api/v1/health", None).await.expect(200);
    app.drop_database_now().await;
    app.clock.advance(1_000);
    let down = app.get("/api/v1/health", None).await.expect(503);
    assert_eq!(down.body, unavailable(), "{}", down.text);
}

fn unavailable() -> serde_json::Value {
    json!({
        "status": "unavailable",
        "database": "unreachable",
        "policy_version": policy().version,
        "outbox": null,
    })
}

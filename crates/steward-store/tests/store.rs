//! The storage story, run against every backend: each test body runs once on SQLite (a
//! file in a temporary directory) and once on PostgreSQL (a fresh database per test,
//! created from the admin URL in `STEWARD_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, and dropped afterwards unless
//! `STEWARD_KEEP_TEST_DB=1`). PostgreSQL is not optional: when it cannot be reached the
//! PostgreSQL half of every test fails, saying so.

use std::collections::HashSet;
use std::future::Future;

use serde_json::json;
use sqlx::Connection as _;
use steward_store::*;

const T0: i64 = 1_700_000_000_000;

// ---------------------------------------------------------------------------------------
// Harness

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Postgres,
}

fn admin_url() -> String {
    std::env::var("STEWARD_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..].find('/').map(|i| after_scheme + i).unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn admin_connection() -> sqlx::PgConnection {
    let url = admin_url();
    match sqlx::PgConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(e) => panic!(
            "PostgreSQL is required by the store tests and could not be reached at {url}: {e}. \
             Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or point \
             STEWARD_TEST_DATABASE_URL at a server where the user may CREATE DATABASE."
        ),
    }
}

/// Runs `body` on a fresh store of `kind`, then removes the database, even when the body
/// panicked (the panic is re-raised afterwards).
async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/nested/steward.db", dir.path().display());
            let store = Store::connect(&url).await.expect("connect sqlite");
            assert_eq!(store.backend(), Backend::Sqlite);
            let outcome = tokio::spawn(body(store.clone())).await;
            store.close().await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        Kind::Postgres => {
            let name = format!("steward_t_{:016x}", rand::random::<u64>());
            let mut admin = admin_connection().await;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let store = Store::connect(&with_database(&admin_url(), &name))
                .await
                .expect("connect postgres");
            assert_eq!(store.backend(), Backend::Postgres);
            let outcome = tokio::spawn(body(store.clone())).await;
            store.close().await;
            if std::env::var("STEWARD_KEEP_TEST_DB").as_deref() == Ok("1") {
                eprintln!("kept test database {name}");
            } else {
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .expect("drop test database");
            }
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// `both!(story)` runs `async fn story(store: Store)` as `story::sqlite` and
/// `story::postgres`.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::run(super::Kind::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::run(super::Kind::Postgres, super::$name).await
            }
        }
    )*};
}

both!(
    idempotent_intake,
    concurrent_duplicate_intake,
    one_bad_post_in_a_group_commit_fails_alone,
    thread_join,
    concurrent_escalations_of_one_thread_open_one_case,
    hand_escalation_of_a_stored_post,
    hidden_revision_is_never_returned,
    relabels_are_kept,
    ownership_change_is_audited,
    list_cases_filters_and_pages,
    approval_stops_the_clock,
    closing_twice_conflicts,
    concurrent_workers_never_share_a_row,
    expired_lease_can_be_reclaimed,
    a_step_records_its_attempts_together,
    retry_and_give_up_keep_every_attempt,
    timers_fire_once,
    overdue_case_gets_only_the_breach,
    tokens,
    audit_chain_detects_tampering,
    audit_chain_detects_a_cut_tail,
);

// ---------------------------------------------------------------------------------------
// Builders

fn post(id: &str, external_id: &str, thread: &str, topics: &[&str]) -> NewPost {
    NewPost {
        id: id.into(),
        source: "github".into(),
        external_id: external_id.into(),
        url: Some(format!("https://github.com/acme/app/issues/{external_id}")),
        author: Some("octocat".into()),
        thread_key: thread.into(),
        title: "Telemetry sends [email]".into(),
        body: "Why does it phone home to [ip]?".into(),
        original_title: "Telemetry sends jane@example.com".into(),
        original_body: "Why does it phone home to 203.0.113.9?".into(),
        triage: json!({"topics": [{"id": topics.first(), "score": 0.9}]}),
        sensitive: !topics.is_empty(),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        kind: None,
    }
}

fn escalation(case_id: &str, thread: &str, topics: &[&str]) -> NewEscalation {
    NewEscalation {
        case: NewCase {
            id: case_id.into(),
            thread_key: thread.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            policy_version: "2024-05-01".into(),
            owner: Some("ana".into()),
            responders: json!([{"role": "privacy_lead", "people": ["ana", "ben"]}]),
            loop_ins: json!([{"role": "legal", "people": ["lea"]}]),
            opened_by: "steward".into(),
            due_at: Some(T0 + 60_000),
            remind_at: Some(T0 + 30_000),
        },
        notifications: vec![
            NewNotification {
                channel: "mattermost".into(),
                purpose: "escalation".into(),
                payload: json!({"text": "@ana @ben new case"}),
            },
            NewNotification {
                channel: "email".into(),
                purpose: "escalation".into(),
                payload: json!({"to": ["ana@acme.test"], "subject": "new case"}),
            },
        ],
    }
}

async fn escalate(store: &Store, n: u32, thread: &str, topics: &[&str], now: i64) -> Intake {
    store
        .intake(
            post(&format!("p_{n}"), &n.to_string(), thread, topics),
            Some(escalation(&format!("c_{n}"), thread, topics)),
            vec![],
            now,
        )
        .await
        .expect("intake")
}

fn everything() -> Page {
    Page { limit: 200, offset: 0 }
}

async fn audit_len(store: &Store) -> usize {
    store.list_audit(everything()).await.expect("audit").len()
}

// ---------------------------------------------------------------------------------------
// Intake

async fn idempotent_intake(store: Store) {
    let first = escalate(&store, 1, "gh:acme/app#1", &["privacy_telemetry"], T0).await;
    assert!(first.created && first.case_created);
    assert_eq!(first.case_id.as_deref(), Some("c_1"));
    assert_eq!(first.post.case_id.as_deref(), Some("c_1"));
    assert_eq!(first.post.created_at, T0);

    let outbox = store.outbox_counts().await.expect("counts");
    let audit = audit_len(&store).await;
    assert_eq!(outbox.pending, 2);

    // Same (source, external_id), a different post id and case id: nothing changes.
    let mut again = post("p_other", "1", "gh:acme/app#1", &["licensing"]);
    again.body = "changed".into();
    let second = store
        .intake(
            again,
            Some(escalation("c_other", "gh:acme/app#1", &["licensing"])),
            vec![NewAudit {
                actor: "x".into(),
                action: "y".into(),
                subject: "z".into(),
                before: None,
                after: None,
            }],
            T0 + 5,
        )
        .await
        .expect("repeat intake");
    assert!(!second.created && !second.case_created);
    assert_eq!(second.post, first.post);
    assert_eq!(second.case_id, first.case_id);
    assert_eq!(store.outbox_counts().await.expect("counts"), outbox);
    assert_eq!(audit_len(&store).await, audit);
    assert_eq!(store.list_posts(everything()).await.expect("posts").len(), 1);
    let cases = store.list_cases(CaseFilter::default(), everything()).await.expect("cases");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].topics, vec!["privacy_telemetry"]);

    // The very same post again (same id too).
    let third = escalate(&store, 1, "gh:acme/app#1", &["privacy_telemetry"], T0 + 9).await;
    assert!(!third.created);
    assert_eq!(third.post, first.post);
    assert_eq!(audit_len(&store).await, audit);

    // A post that does not escalate is stored without a case.
    let plain = store
        .intake(post("p_2", "2", "gh:acme/app#2", &[]), None, vec![], T0)
        .await
        .expect("plain intake");
    assert!(plain.created && !plain.case_created);
    assert_eq!(plain.case_id, None);
    assert!(matches!(
        store.get_post("p_nope").await,
        Err(StoreError::NotFound { what: "post", .. })
    ));

    // Reusing a post id under another external id is a conflict, not a silent overwrite.
    let clash = store.intake(post("p_2", "3", "gh:acme/app#3", &[]), None, vec![], T0).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
}

async fn concurrent_duplicate_intake(store: Store) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .intake(
                    post(&format!("p_{i}"), "42", "gh:acme/app#42", &["licensing"]),
                    Some(escalation(&format!("c_{i}"), "gh:acme/app#42", &["licensing"])),
                    vec![],
                    T0,
                )
                .await
                .expect("intake")
        }));
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    for t in tasks {
        let outcome = t.await.expect("task");
        created += usize::from(outcome.created);
        ids.insert(outcome.post.id.clone());
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
    assert_eq!(store.outbox_counts().await.expect("counts").pending, 2);
}

async fn one_bad_post_in_a_group_commit_fails_alone(store: Store) {
    escalate(&store, 0, "t0", &["licensing"], T0).await;
    let mut tasks = Vec::new();
    for i in 1..=40u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Every tenth reuses the id of post p_0 under a new external id.
            let id = if i % 10 == 0 { "p_0".to_string() } else { format!("p_{i}") };
            let thread = format!("t{}", i % 3);
            let outcome = store
                .intake(
                    post(&id, &i.to_string(), &thread, &["licensing"]),
                    Some(escalation(&format!("c_{i}"), &thread, &["licensing"])),
                    vec![],
                    T0 + i64::from(i),
                )
                .await;
            (i, outcome)
        }));
    }
    for t in tasks {
        let (i, outcome) = t.await.expect("task");
        if i % 10 == 0 {
            assert!(matches!(outcome, Err(StoreError::Conflict(_))), "{i}: {outcome:?}");
        } else {
            let outcome = outcome.expect("intake");
            assert!(outcome.created, "{i}");
            assert_eq!(outcome.post, store.get_post(&format!("p_{i}")).await.expect("post"));
        }
    }
    assert_eq!(store.list_posts(everything()).await.expect("posts").len(), 37);
    // Three threads, three open cases, whatever the batching.
    let open = store
        .list_cases(
            CaseFilter { state: Some("open".into()), ..CaseFilter::default() },
            everything(),
        )
        .await
        .expect("cases");
    assert_eq!(open.len(), 3);
    assert_eq!(open.iter().map(|c| c.post_count).sum::<i64>(), 37);
    assert!(store.verify_audit().await.expect("verify").ok);
}

async fn thread_join(store: Store) {
    let first = escalate(&store, 1, "gh:acme/app#7", &["privacy_telemetry"], T0).await;
    let second =
        escalate(&store, 2, "gh:acme/app#7", &["privacy_telemetry", "licensing"], T0 + 1).await;
    assert!(second.created);
    assert!(!second.case_created);
    assert_eq!(second.case_id, first.case_id);
    assert_eq!(second.post.case_id, first.case_id);

    let case = store.get_case("c_1").await.expect("case");
    assert_eq!(case.topics, vec!["privacy_telemetry", "licensing"]);
    assert_eq!(case.posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec!["p_1", "p_2"]);
    let kinds: Vec<&str> = case.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["escalated", "post_joined"]);
    assert_eq!(case.timeline[1].detail["added_topics"], json!(["licensing"]));
    // Joining enqueues nothing.
    assert_eq!(case.deliveries.len(), 2);
    assert_eq!(store.outbox_counts().await.expect("counts").pending, 2);
    assert!(matches!(store.get_case("c_2").await, Err(StoreError::NotFound { .. })));
    let by_topic = store
        .list_cases(
            CaseFilter { topic: Some("licensing".into()), ..CaseFilter::default() },
            everything(),
        )
        .await
        .expect("cases");
    assert_eq!(by_topic.len(), 1);
    assert_eq!(by_topic[0].post_count, 2);

    // Once the case is closed, the thread opens a new one.
    store.close_case("c_1", "answered", "ana", T0 + 2).await.expect("close");
    let third = escalate(&store, 3, "gh:acme/app#7", &["licensing"], T0 + 3).await;
    assert!(third.case_created);
    assert_eq!(third.case_id.as_deref(), Some("c_3"));
}

async fn concurrent_escalations_of_one_thread_open_one_case(store: Store) {
    let mut tasks = Vec::new();
    for i in 0..8u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            escalate(&store, i, "chat:town-square", &["workplace"], T0).await
        }));
    }
    let mut cases = HashSet::new();
    let mut opened = 0;
    for t in tasks {
        let outcome = t.await.expect("task");
        opened += usize::from(outcome.case_created);
        cases.insert(outcome.case_id.expect("case id"));
    }
    assert_eq!(opened, 1);
    assert_eq!(cases.len(), 1);
    let case_id = cases.into_iter().next().expect("one case");
    let case = store.get_case(&case_id).await.expect("case");
    assert_eq!(case.posts.len(), 8);
    assert_eq!(case.deliveries.len(), 2);
}

async fn hand_escalation_of_a_stored_post(store: Store) {
    store.intake(post("p_1", "1", "gh:acme/app#1", &[]), None, vec![], T0).await.expect("intake");
    let case_id = store
        .open_case_for_post(
            "p_1",
            escalation("c_1", "gh:acme/app#1", &["licensing"]),
            vec![],
            T0 + 1,
        )
        .await
        .expect("escalate");
    assert_eq!(case_id, "c_1");
    assert_eq!(store.get_post("p_1").await.expect("post").case_id.as_deref(), Some("c_1"));
    assert_eq!(store.outbox_counts().await.expect("counts").pending, 2);

    // Escalating it again returns the same case and enqueues nothing.
    let again = store
        .open_case_for_post(
            "p_1",
            escalation("c_9", "gh:acme/app#1", &["licensing"]),
            vec![],
            T0 + 2,
        )
        .await
        .expect("escalate again");
    assert_eq!(again, "c_1");
    assert_eq!(store.outbox_counts().await.expect("counts").pending, 2);

    // Another stored post of the same thread joins the open case.
    store.intake(post("p_2", "2", "gh:acme/app#1", &[]), None, vec![], T0).await.expect("intake");
    let joined = store
        .open_case_for_post(
            "p_2",
            escalation("c_2", "gh:acme/app#1", &["packaging"]),
            vec![],
            T0 + 3,
        )
        .await
        .expect("join");
    assert_eq!(joined, "c_1");
    let case = store.get_case("c_1").await.expect("case");
    assert_eq!(case.topics, vec!["licensing", "packaging"]);
    assert!(matches!(
        store.open_case_for_post("p_x", escalation("c_x", "t", &["licensing"]), vec![], T0).await,
        Err(StoreError::NotFound { what: "post", .. })
    ));
}

async fn hidden_revision_is_never_returned(store: Store) {
    escalate(&store, 1, "gh:acme/app#1", &["privacy_telemetry"], T0).await;
    let shown = [
        serde_json::to_string(&store.get_post("p_1").await.expect("post")).expect("json"),
        serde_json::to_string(&store.list_posts(everything()).await.expect("posts")).expect("json"),
        serde_json::to_string(&store.get_case("c_1").await.expect("case")).expect("json"),
        serde_json::to_string(&store.list_audit(everything()).await.expect("audit")).expect("json"),
    ];
    for text in &shown {
        assert!(!text.contains("jane@example.com"), "{text}");
        assert!(!text.contains("203.0.113.9"), "{text}");
    }
    assert!(shown[0].contains("[email]"));
    // The original is kept, in its own table.
    let kept = store
        .raw_execute_for_tests(
            "UPDATE post_revisions SET original_body = original_body \
             WHERE post_id = 'p_1' AND original_body LIKE '%203.0.113.9%' \
               AND original_title LIKE '%jane@example.com%'",
        )
        .await
        .expect("raw");
    assert_eq!(kept, 1);
}

async fn relabels_are_kept(store: Store) {
    store.intake(post("p_1", "1", "gh:acme/app#1", &[]), None, vec![], T0).await.expect("intake");
    store
        .relabel_post("p_1", vec!["licensing".into()], None, "tess", T0 + 1)
        .await
        .expect("relabel");
    store
        .relabel_post("p_1", vec![], Some("feature_request".into()), "tess", T0 + 2)
        .await
        .expect("relabel");
    let post = store.get_post("p_1").await.expect("post");
    assert!(post.topics.is_empty());
    assert_eq!(post.kind.as_deref(), Some("feature_request"));
    let history = store.list_relabels().await.expect("relabels");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].topics, vec!["licensing"]);
    assert!(history[0].previous_topics.is_empty());
    assert_eq!(history[1].previous_topics, vec!["licensing"]);
    assert_eq!(history[1].kind.as_deref(), Some("feature_request"));
    assert_eq!(history[1].actor, "tess");
    assert_eq!(history[1].at, T0 + 2);
    assert!(matches!(
        store.relabel_post("p_x", vec![], None, "tess", T0).await,
        Err(StoreError::NotFound { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Cases

async fn ownership_change_is_audited(store: Store) {
    escalate(&store, 1, "gh:acme/app#1", &["privacy_telemetry"], T0).await;
    let case = store.set_owner("c_1", "ben", "ana", T0 + 10).await.expect("owner");
    assert_eq!(case.owner.as_deref(), Some("ben"));
    let event = case.timeline.last().expect("event");
    assert_eq!(event.kind, "owner_changed");
    assert_eq!(event.actor, "ana");
    assert_eq!(event.detail, json!({"before": "ana", "after": "ben"}));
    let audit = store.list_audit(everything()).await.expect("audit");
    let entry = &audit[0];
    assert_eq!(entry.action, "case.owner");
    assert_eq!(entry.actor, "ana");
    assert_eq!(entry.subject, "c_1");
    assert_eq!(entry.at, T0 + 10);
    assert_eq!(entry.before, Some(json!({"owner": "ana"})));
    assert_eq!(entry.after, Some(json!({"owner": "ben"})));
    assert!(matches!(
        store.set_owner("c_x", "ben", "ana", T0).await,
        Err(StoreError::NotFound { what: "case", .. })
    ));
}

async fn list_cases_filters_and_pages(store: Store) {
    escalate(&store, 1, "t1", &["privacy_telemetry"], T0).await;
    escalate(&store, 2, "t2", &["licensing", "packaging"], T0 + 1).await;
    escalate(&store, 3, "t3", &["licensing"], T0 + 2).await;
    store.set_owner("c_3", "ben", "ana", T0 + 3).await.expect("owner");
    store.close_case("c_1", "done", "ana", T0 + 4).await.expect("close");

    let ids = |cases: Vec<CaseSummary>| cases.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let all = store.list_cases(CaseFilter::default(), everything()).await.expect("all");
    assert_eq!(ids(all), vec!["c_3", "c_2", "c_1"]);
    let filter = |topic: Option<&str>, state: Option<&str>, owner: Option<&str>| CaseFilter {
        topic: topic.map(Into::into),
        state: state.map(Into::into),
        owner: owner.map(Into::into),
    };
    let licensing =
        store.list_cases(filter(Some("licensing"), None, None), everything()).await.expect("topic");
    assert_eq!(ids(licensing), vec!["c_3", "c_2"]);
    let packaging = store
        .list_cases(filter(Some("packaging"), Some("open"), Some("ana")), everything())
        .await
        .expect("all three");
    assert_eq!(ids(packaging), vec!["c_2"]);
    let closed =
        store.list_cases(filter(None, Some("closed"), None), everything()).await.expect("closed");
    assert_eq!(ids(closed), vec!["c_1"]);
    let bens =
        store.list_cases(filter(None, None, Some("ben")), everything()).await.expect("owner");
    assert_eq!(ids(bens), vec!["c_3"]);
    let second_page =
        store.list_cases(CaseFilter::default(), Page { limit: 1, offset: 1 }).await.expect("page");
    assert_eq!(ids(second_page), vec!["c_2"]);
    let posts = store.list_posts(Page { limit: 2, offset: 0 }).await.expect("posts");
    assert_eq!(posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec!["p_3", "p_2"]);
}

async fn approval_stops_the_clock(store: Store) {
    escalate(&store, 1, "t1", &["privacy_telemetry"], T0).await;
    let draft = store
        .add_response(
            "c_1",
            NewResponse {
                id: "r_1".into(),
                author: "ben".into(),
                body: "Thanks for asking; see the telemetry docs.".into(),
                findings: json!([]),
            },
            T0 + 5,
        )
        .await
        .expect("draft");
    assert_eq!(draft.state, "draft");
    assert_eq!(draft.approved_by, None);
    assert_eq!(store.get_case("c_1").await.expect("case").first_response_at, None);

    let approved = store.approve_response("c_1", "r_1", "ana", T0 + 20).await.expect("approve");
    assert_eq!(approved.state, "approved");
    assert_eq!(approved.approved_by.as_deref(), Some("ana"));
    assert_eq!(approved.approved_at, Some(T0 + 20));
    let case = store.get_case("c_1").await.expect("case");
    assert_eq!(case.first_response_at, Some(T0 + 20));
    assert_eq!(case.responses, vec![approved]);
    assert_eq!(
        case.timeline.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec!["escalated", "response_drafted", "response_approved"]
    );
    // The clock stopped: nothing is due, even long after the target.
    assert!(store.due_timers(T0 + 1_000_000).await.expect("due").is_empty());
    assert!(!store
        .fire_timer("c_1", TimerKind::Breach, vec![], T0 + 1_000_000)
        .await
        .expect("fire"));

    assert!(matches!(
        store.approve_response("c_1", "r_1", "ana", T0 + 30).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.approve_response("c_1", "r_x", "ana", T0 + 30).await,
        Err(StoreError::NotFound { what: "response", .. })
    ));
    // A later approval does not move the first-response time.
    store
        .add_response(
            "c_1",
            NewResponse {
                id: "r_2".into(),
                author: "ben".into(),
                body: "Follow-up.".into(),
                findings: json!([{"rule": "thank", "span": [0, 3]}]),
            },
            T0 + 40,
        )
        .await
        .expect("draft");
    store.approve_response("c_1", "r_2", "ana", T0 + 50).await.expect("approve");
    let case = store.get_case("c_1").await.expect("case");
    assert_eq!(case.first_response_at, Some(T0 + 20));
    assert_eq!(case.responses[1].findings, json!([{"rule": "thank", "span": [0, 3]}]));
    let audit = store.list_audit(everything()).await.expect("audit");
    assert!(audit.iter().any(|a| a.action == "response.approve" && a.subject == "r_1"));
}

async fn closing_twice_conflicts(store: Store) {
    escalate(&store, 1, "t1", &["licensing"], T0).await;
    let closed = store.close_case("c_1", "answered in thread", "ana", T0 + 1).await.expect("close");
    assert_eq!(closed.state, "closed");
    assert_eq!(closed.closed_at, Some(T0 + 1));
    assert_eq!(closed.close_reason.as_deref(), Some("answered in thread"));
    assert!(matches!(
        store.close_case("c_1", "again", "ana", T0 + 2).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.set_owner("c_1", "ben", "ana", T0 + 2).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.close_case("c_x", "again", "ana", T0 + 2).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.due_timers(T0 + 1_000_000).await.expect("due").is_empty());
}

// ---------------------------------------------------------------------------------------
// Outbox

fn notifications(n: usize) -> Vec<NewNotification> {
    (0..n)
        .map(|i| NewNotification {
            channel: "hook".into(),
            purpose: "escalation".into(),
            payload: json!({"n": i}),
        })
        .collect()
}

async fn concurrent_workers_never_share_a_row(store: Store) {
    const ROWS: usize = 120;
    store.enqueue(None, notifications(ROWS), T0).await.expect("enqueue");
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let worker = format!("w{w}");
            let mut seen = Vec::new();
            loop {
                let batch =
                    store.claim_deliveries(&worker, T0 + 1, 60_000, 7).await.expect("claim");
                if batch.is_empty() {
                    break;
                }
                for item in batch {
                    store
                        .record_attempt(item.id, &worker, T0 + 2, AttemptOutcome::Delivered)
                        .await
                        .expect("record");
                    seen.push(item.id);
                }
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), ROWS, "a row was handed out twice or lost");
    assert_eq!(unique.len(), ROWS);
    assert_eq!(
        store.outbox_counts().await.expect("counts"),
        OutboxCounts { pending: 0, delivered: ROWS as i64, failed: 0 }
    );

    // Racing claims without recording: the leased sets are disjoint.
    store.enqueue(None, notifications(60), T0 + 10).await.expect("enqueue");
    let mut claims = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        claims.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.extend(
                    store
                        .claim_deliveries(&format!("r{w}"), T0 + 11, 60_000, 5)
                        .await
                        .expect("claim")
                        .into_iter()
                        .map(|i| i.id),
                );
            }
            got
        }));
    }
    let mut leased = Vec::new();
    for c in claims {
        leased.extend(c.await.expect("claimer"));
    }
    let unique: HashSet<i64> = leased.iter().copied().collect();
    assert_eq!(unique.len(), leased.len(), "a live lease was handed out twice");
    assert_eq!(leased.len(), 60);
}

async fn expired_lease_can_be_reclaimed(store: Store) {
    store.enqueue(None, notifications(1), T0).await.expect("enqueue");
    let first = store.claim_deliveries("w1", T0, 1_000, 10).await.expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].payload, json!({"n": 0}));
    assert!(store.claim_deliveries("w2", T0 + 500, 1_000, 10).await.expect("claim").is_empty());
    assert_eq!(store.next_delivery_at().await.expect("next"), Some(T0 + 1_000));
    let second = store.claim_deliveries("w2", T0 + 1_000, 1_000, 10).await.expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, first[0].id);
    // w1's lease is gone: its result is refused.
    let late = store.record_attempt(first[0].id, "w1", T0 + 1_100, AttemptOutcome::Delivered).await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    store
        .record_attempt(second[0].id, "w2", T0 + 1_200, AttemptOutcome::Delivered)
        .await
        .expect("record");
    assert_eq!(store.outbox_counts().await.expect("counts").delivered, 1);
    assert_eq!(store.next_delivery_at().await.expect("next"), None);
    // Recording twice, or on a row that does not exist.
    assert!(matches!(
        store.record_attempt(second[0].id, "w2", T0 + 1_300, AttemptOutcome::Delivered).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.record_attempt(9_999, "w2", T0, AttemptOutcome::Delivered).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn a_step_records_its_attempts_together(store: Store) {
    store.enqueue(None, notifications(3), T0).await.expect("enqueue");
    let mine = store.claim_deliveries("w1", T0, 1_000, 2).await.expect("claim");
    let theirs = store.claim_deliveries("w2", T0, 1_000, 10).await.expect("claim");
    assert_eq!((mine.len(), theirs.len()), (2, 1));
    // One of w1's rows, one that w2 holds, and one that does not exist: the first is
    // recorded, the other two fail alone.
    let results = store
        .record_attempts(
            "w1",
            T0 + 10,
            &[
                (mine[0].id, AttemptOutcome::Delivered),
                (theirs[0].id, AttemptOutcome::Delivered),
                (9_999, AttemptOutcome::Delivered),
            ],
        )
        .await
        .expect("the step's transaction");
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(StoreError::Conflict(_))), "{:?}", results[1]);
    assert!(matches!(results[2], Err(StoreError::NotFound { .. })), "{:?}", results[2]);
    let counts = store.outbox_counts().await.expect("counts");
    assert_eq!((counts.delivered, counts.pending), (1, 2));
    // w1's other row is still leased to w1 and can be recorded later.
    let retry = AttemptOutcome::Retry { error: "503".into(), next_attempt_at: T0 + 5_000 };
    store.record_attempt(mine[1].id, "w1", T0 + 20, retry).await.expect("record");
    assert_eq!(store.next_delivery_at().await.expect("next"), Some(T0 + 1_000));
}

async fn retry_and_give_up_keep_every_attempt(store: Store) {
    escalate(&store, 1, "t1", &["licensing"], T0).await;
    let items = store.claim_deliveries("w", T0, 30_000, 10).await.expect("claim");
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.case_id.as_deref() == Some("c_1") && i.attempts == 0));
    let (mm, mail) = (&items[0], &items[1]);
    assert_eq!(mm.channel, "mattermost");
    store.record_attempt(mm.id, "w", T0 + 1, AttemptOutcome::Delivered).await.expect("delivered");
    store
        .record_attempt(
            mail.id,
            "w",
            T0 + 1,
            AttemptOutcome::Retry {
                error: "connection refused".into(),
                next_attempt_at: T0 + 5_000,
            },
        )
        .await
        .expect("retry");
    assert!(store.claim_deliveries("w", T0 + 4_999, 30_000, 10).await.expect("claim").is_empty());
    let again = store.claim_deliveries("w", T0 + 5_000, 30_000, 10).await.expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, mail.id);
    assert_eq!(again[0].attempts, 1);
    store
        .record_attempt(
            mail.id,
            "w",
            T0 + 5_001,
            AttemptOutcome::GiveUp { error: "550 mailbox unavailable".into() },
        )
        .await
        .expect("give up");
    assert!(store.claim_deliveries("w", T0 + 999_999, 30_000, 10).await.expect("claim").is_empty());
    assert_eq!(
        store.outbox_counts().await.expect("counts"),
        OutboxCounts { pending: 0, delivered: 1, failed: 1 }
    );
    let case = store.get_case("c_1").await.expect("case");
    let mm = &case.deliveries[0];
    assert_eq!((mm.status.as_str(), mm.attempts, mm.delivered_at), ("delivered", 1, Some(T0 + 1)));
    assert_eq!(mm.attempt_log, vec![AttemptRecord { at: T0 + 1, ok: true, error: None }]);
    let mail = &case.deliveries[1];
    assert_eq!(mail.status, "failed");
    assert_eq!(mail.attempts, 2);
    assert_eq!(mail.last_error.as_deref(), Some("550 mailbox unavailable"));
    assert_eq!(
        mail.attempt_log,
        vec![
            AttemptRecord { at: T0 + 1, ok: false, error: Some("connection refused".into()) },
            AttemptRecord {
                at: T0 + 5_001,
                ok: false,
                error: Some("550 mailbox unavailable".into())
            },
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Timers

async fn timers_fire_once(store: Store) {
    escalate(&store, 1, "t1", &["privacy_telemetry"], T0).await; // remind +30 s, due +60 s
    assert!(store.due_timers(T0 + 29_999).await.expect("due").is_empty());
    assert_eq!(store.next_timer_at().await.expect("next"), Some(T0 + 30_000));
    let due = store.due_timers(T0 + 30_000).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].case_id, "c_1");
    assert_eq!(due[0].kind, TimerKind::Reminder);
    assert_eq!(due[0].owner.as_deref(), Some("ana"));
    assert_eq!(due[0].topics, vec!["privacy_telemetry"]);
    assert_eq!(due[0].due_at, Some(T0 + 60_000));

    let pending_before = store.outbox_counts().await.expect("counts").pending;
    let mut racers = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        racers.push(tokio::spawn(async move {
            store
                .fire_timer(
                    "c_1",
                    TimerKind::Reminder,
                    vec![NewNotification {
                        channel: "mattermost".into(),
                        purpose: "reminder".into(),
                        payload: json!({"text": "@ana reminder"}),
                    }],
                    T0 + 30_000,
                )
                .await
                .expect("fire")
        }));
    }
    let mut fired = 0;
    for r in racers {
        fired += usize::from(r.await.expect("racer"));
    }
    assert_eq!(fired, 1, "exactly one instance may fire a timer");
    assert_eq!(store.outbox_counts().await.expect("counts").pending, pending_before + 1);
    assert!(store.due_timers(T0 + 59_999).await.expect("due").is_empty());
    // Not due yet: refused.
    assert!(!store.fire_timer("c_1", TimerKind::Breach, vec![], T0 + 59_999).await.expect("early"));

    let due = store.due_timers(T0 + 60_000).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].kind, TimerKind::Breach);
    assert!(store
        .fire_timer("c_1", TimerKind::Breach, notifications(2), T0 + 60_000)
        .await
        .expect("breach"));
    assert!(!store
        .fire_timer("c_1", TimerKind::Breach, notifications(2), T0 + 60_001)
        .await
        .expect("again"));
    assert!(store.due_timers(T0 + 999_999).await.expect("due").is_empty());
    assert_eq!(store.next_timer_at().await.expect("next"), None);

    let case = store.get_case("c_1").await.expect("case");
    assert_eq!(case.reminded_at, Some(T0 + 30_000));
    assert_eq!(case.breached_at, Some(T0 + 60_000));
    let kinds: Vec<&str> = case.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["escalated", "reminder_sent", "target_missed"]);
    assert_eq!(
        case.deliveries.iter().map(|d| d.purpose.as_str()).collect::<Vec<_>>(),
        vec!["escalation", "escalation", "reminder", "escalation", "escalation"]
    );
    assert!(matches!(
        store.fire_timer("c_x", TimerKind::Reminder, vec![], T0).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn overdue_case_gets_only_the_breach(store: Store) {
    escalate(&store, 1, "t1", &["licensing"], T0).await;
    // The desk was down past both the reminder and the target.
    let due = store.due_timers(T0 + 100_000).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].kind, TimerKind::Breach);
    assert!(store.fire_timer("c_1", TimerKind::Breach, vec![], T0 + 100_000).await.expect("fire"));
    assert!(store.due_timers(T0 + 200_000).await.expect("due").is_empty());
    assert!(!store
        .fire_timer("c_1", TimerKind::Reminder, vec![], T0 + 200_000)
        .await
        .expect("reminder after breach"));
}

// ---------------------------------------------------------------------------------------
// Tokens and audit

async fn tokens(store: Store) {
    assert_eq!(store.count_tokens().await.expect("count"), 0);
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    store
        .create_token(
            NewToken {
                id: "t_1".into(),
                person: "admin".into(),
                role: "admin".into(),
                hash: hash.into(),
                label: "first start".into(),
            },
            T0,
        )
        .await
        .expect("create");
    assert_eq!(store.count_tokens().await.expect("count"), 1);
    let found = store.find_token(hash).await.expect("find").expect("token");
    assert_eq!(
        found,
        TokenRecord {
            id: "t_1".into(),
            person: "admin".into(),
            role: "admin".into(),
            label: "first start".into(),
            created_at: T0
        }
    );
    assert_eq!(store.find_token("00").await.expect("find"), None);
    let dup = store
        .create_token(
            NewToken {
                id: "t_2".into(),
                person: "ben".into(),
                role: "viewer".into(),
                hash: hash.into(),
                label: "dup".into(),
            },
            T0,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(store.list_tokens().await.expect("list").len(), 1);
    store.revoke_token("t_1", "admin", T0 + 1).await.expect("revoke");
    assert_eq!(store.find_token(hash).await.expect("find"), None);
    assert_eq!(store.count_tokens().await.expect("count"), 1);
    assert!(matches!(
        store.revoke_token("t_1", "admin", T0 + 2).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn audited_history(store: &Store) {
    escalate(store, 1, "t1", &["licensing"], T0).await;
    store.set_owner("c_1", "ben", "ana", T0 + 1).await.expect("owner");
    store
        .append_audit(
            NewAudit {
                actor: "admin".into(),
                action: "policy.import".into(),
                subject: "2024-05-01".into(),
                before: None,
                after: Some(json!({"topics": 13, "nested": {"b": 1, "a": [1.5, "x", null]}})),
            },
            T0 + 2,
        )
        .await
        .expect("append");
    store.close_case("c_1", "done", "ben", T0 + 3).await.expect("close");
}

async fn audit_chain_detects_tampering(store: Store) {
    audited_history(&store).await;
    let verification = store.verify_audit().await.expect("verify");
    assert!(verification.ok, "{verification:?}");
    let entries = store.list_audit(everything()).await.expect("audit");
    assert_eq!(verification.entries, entries.len() as i64);
    assert!(entries.len() >= 5);
    // Newest first, chained.
    for pair in entries.windows(2) {
        assert_eq!(pair[0].seq, pair[1].seq + 1);
        assert_eq!(pair[0].prev_hash, pair[1].hash);
    }

    store
        .raw_execute_for_tests("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
        .await
        .expect("tamper");
    let verification = store.verify_audit().await.expect("verify");
    assert!(!verification.ok);
    assert_eq!(verification.first_broken, Some(3));
    assert_eq!(verification.entries, 2);
    assert!(verification.reason.is_some());
}

async fn audit_chain_detects_a_cut_tail(store: Store) {
    audited_history(&store).await;
    let last = store.list_audit(Page { limit: 1, offset: 0 }).await.expect("audit")[0].seq;
    store
        .raw_execute_for_tests(&format!("DELETE FROM audit WHERE seq = {last}"))
        .await
        .expect("tamper");
    let verification = store.verify_audit().await.expect("verify");
    assert!(!verification.ok);
    assert_eq!(verification.first_broken, Some(last));
}

// ---------------------------------------------------------------------------------------
// Connecting

#[tokio::test]
async fn unknown_schemes_are_refused() {
    for url in ["mysql://root@localhost/db", "steward.db", "http://x"] {
        assert!(matches!(Store::connect(url).await, Err(StoreError::BadUrl(_))), "{url}");
    }
}

#[tokio::test]
async fn sqlite_file_and_directory_are_created_and_reopened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a/b/steward.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.expect("connect");
    escalate(&store, 1, "t1", &["licensing"], T0).await;
    store.close().await;
    assert!(path.exists());
    // Reopening runs no migration twice and keeps the data.
    let store = Store::connect(&url).await.expect("reconnect");
    assert_eq!(store.get_case("c_1").await.expect("case").posts.len(), 1);
    store.close().await;
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let store = Store::connect("sqlite::memory:").await.expect("connect");
    escalate(&store, 1, "t1", &["licensing"], T0).await;
    assert_eq!(store.get_case("c_1").await.expect("case").posts.len(), 1);
}

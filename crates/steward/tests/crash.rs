//! Crash test: `kill -9` the real `steward serve` while posts are coming in, start it again
//! on the same database, and check what the desk promised.
//!
//! For each backend (SQLite in a temporary directory; PostgreSQL in a fresh database on the
//! server of `STEWARD_TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`,
//! dropped afterwards; the test fails when PostgreSQL is unreachable):
//!
//! 1. A real `steward-receiver` process listens on loopback; the desk's configuration has a
//!    Mattermost channel and a signed webhook channel pointing at it.
//! 2. The real binary (`steward serve --listen 127.0.0.1:0`) starts; its admin token is
//!    read from its standard output.
//! 3. A client sends [`POSTS`] posts, [`IN_FLIGHT`] at a time, a third of them sensitive,
//!    each in its own thread, and records which got a 2xx. After [`KILL_AFTER`] 2xx
//!    answers the server gets SIGKILL; the client retries nothing.
//! 4. The server starts again on the same database and a new port. Every post that got a
//!    2xx is stored, with the post id and case id it was answered with; re-sending every
//!    other post answers 201 (a replay for those that were committed but not answered),
//!    and then each post is stored exactly once.
//! 5. Polling with a deadline until every outbox row is delivered: each stored case reached
//!    the receiver on both channels, identified by the `X-Steward-Delivery` header (the
//!    outbox row id) and by the case id in the text (chat) or the event (webhook).
//!
//! # What is asserted about "exactly once"
//!
//! No escalation is lost, none goes to a case that is not stored, and each (case, channel)
//! has exactly one outbox row, so one `X-Steward-Delivery` id. Each id arrives exactly once
//! *except* in one window the design leaves open (see `steward-delivery`'s worker): the
//! process dies after the receiver took the request but before the attempt was recorded.
//! That row is still leased to the dead worker; once its lease runs out the restarted desk
//! sends it again, under the same id. So the test allows a repeat only of that shape: the
//! same id, received once from the killed process (before the restart: the receiver may
//! read a request it sent a moment after the kill) and once after the restart, never twice
//! on either side. Set `STEWARD_CRASH_STRICT=1` to demand no repeat at all.
//!
//! The lease is configured at its minimum (just over twice the 15 s send timeout), so a row
//! the killed process had claimed waits about 30 s: the test takes 35 to 50 s per backend.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use steward_testkit::{HttpRequest, Receiver, ReceiverOptions, TestDatabase};
use tokio::sync::Semaphore;

#[path = "support/desk.rs"]
mod desk;
use desk::Desk;

/// Posts sent in all; every third one is sensitive.
const POSTS: usize = 300;
/// Requests in flight at once.
const IN_FLIGHT: usize = 16;
/// The server is killed once this many posts got a 2xx.
const KILL_AFTER: usize = 100;
/// How long to wait, after [`KILL_AFTER`] 2xx, for an escalation to reach the receiver
/// before killing the server anyway.
const AIM_FOR: Duration = Duration::from_secs(3);
/// The webhook channel's HMAC secret.
const HOOK_SECRET: &str = "crash-test-secret";
/// The smallest lease the worker accepts (more than twice its 15 s send timeout).
const LEASE_MS: i64 = 30_001;
/// How long, after the restart, every outbox row may take to be delivered.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(50);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

const CHAT_PATH: &str = "/hooks/chat";
const EVENT_PATH: &str = "/hooks/event";

/// Texts the example policy's triage escalates, one per sensitive topic family.
const SENSITIVE: &[(&str, &str)] = &[
    (
        "Does the desktop app phone home?",
        "I noticed with OpenSnitch that the app phones home with usage data without my consent. \
         How do I disable telemetry completely? This is a privacy violation in my opinion.",
    ),
    (
        "Security vulnerability: remote code execution in the upload handler",
        "I found a security vulnerability that allows remote code execution through a crafted \
         file upload. How do I report it privately before I request a CVE?",
    ),
    (
        "Can we relicense the AGPL server code?",
        "We want to ship a fork under a proprietary license. Is that a GPL violation, and do we \
         need a commercial license to avoid the AGPL copyleft obligations?",
    ),
];

/// Texts triage leaves alone.
const ORDINARY: &[(&str, &str)] = &[
    (
        "Dark theme button misaligned",
        "After the last update the dark theme toggle on the settings page sits two pixels \
         lower than the other buttons. Screenshot attached.",
    ),
    (
        "How to configure websockets behind nginx?",
        "I run the server behind nginx and the websocket connection drops every minute. \
         Which proxy settings do I need for the upgrade headers?",
    ),
];

/// Filler that brings a body to about a kilobyte, like a real forum post.
const FILLER: &str = " Some more context: we run the latest release on a small team server, \
    upgraded last week from the previous minor version, and nothing else changed since then.";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_sqlite() {
    let db = TestDatabase::sqlite();
    crash_and_recover("sqlite", db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_postgres() {
    let db = TestDatabase::postgres().await;
    crash_and_recover("postgres", db.url()).await;
}

/// The whole story on one database.
async fn crash_and_recover(backend: &str, database: &str) {
    let started = Instant::now();
    let receiver = Receiver::start(ReceiverOptions::default());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("steward.toml");
    std::fs::write(&config, config_text(&receiver)).expect("write the configuration");

    let (mut desk, token) = Desk::start(&config, database).await;
    let token = token.expect("the first start prints an admin token");
    let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().expect("a client");
    let run = format!("{backend}-{:x}", now_ms());
    let posts: Arc<Vec<Value>> = Arc::new((0..POSTS).map(|i| post(&run, i)).collect());

    // Phase 1: send everything, kill -9 partway.
    let acked = Arc::new(AtomicUsize::new(0));
    let sending = tokio::spawn(send_all(
        client.clone(),
        desk.base.clone(),
        token.clone(),
        Arc::clone(&posts),
        (0..POSTS).collect(),
        Arc::clone(&acked),
    ));
    let kill_deadline = Instant::now() + Duration::from_secs(30);
    while acked.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(
            !sending.is_finished(),
            "{backend}: all posts were answered before {KILL_AFTER} got a 2xx"
        );
        assert!(Instant::now() < kill_deadline, "{backend}: too slow to reach {KILL_AFTER} 2xx");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Aim at the worst moment: right after the receiver logged an escalation (it logs
    // before it answers), when the desk has most likely not yet recorded it as delivered.
    let log_len = || std::fs::metadata(receiver.log_path()).map_or(0, |m| m.len());
    let (logged, aim_deadline) = (log_len(), Instant::now() + AIM_FOR);
    while log_len() == logged && Instant::now() < aim_deadline && !sending.is_finished() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let aimed = log_len() != logged;
    desk.kill9();
    let killed_at = now_ms();
    let first = sending.await.expect("the client task");
    let mut unanswered = Vec::new();
    for (i, answer) in &first {
        match answer {
            Answer::Status(status, body) => {
                panic!("{backend}: post {i} was refused before the crash: {status} {body}")
            }
            Answer::Transport(error) => unanswered.push(error.as_str()),
            Answer::Created(_) => {}
        }
    }
    let acked_posts: BTreeMap<usize, Option<Value>> = first
        .iter()
        .filter_map(|(i, a)| match a {
            Answer::Created(body) => Some((*i, body.clone())),
            _ => None,
        })
        .collect();
    assert!(
        acked_posts.len() >= KILL_AFTER && acked_posts.len() < POSTS,
        "{backend}: {acked_posts:?}"
    );

    // Phase 2: the same database, a new process and port. No second token.
    let restarted_at = now_ms();
    let (desk, second_token) = Desk::start(&config, database).await;
    assert_eq!(second_token, None, "{backend}: a restart must not create another admin token");

    // Every post that got a 2xx is stored, as it was answered.
    let before = stored_posts(&client, &desk.base, &token, &run).await;
    for (i, body) in &acked_posts {
        let eid = external_id(&run, *i);
        let stored = before
            .get(&eid)
            .unwrap_or_else(|| panic!("{backend}: post {eid} got a 2xx but is not stored"));
        if let Some(body) = body {
            assert_eq!(stored["id"], body["post"]["id"], "{backend}: post {eid}");
            assert_eq!(stored["case_id"], body["case_id"], "{backend}: post {eid}");
        }
    }
    let unacked: Vec<usize> = (0..POSTS).filter(|i| !acked_posts.contains_key(i)).collect();
    let committed_unanswered: HashSet<usize> =
        unacked.iter().copied().filter(|i| before.contains_key(&external_id(&run, *i))).collect();

    // Re-sending the others works: a replay for what was committed, a new post otherwise.
    let resent = send_all(
        client.clone(),
        desk.base.clone(),
        token.clone(),
        Arc::clone(&posts),
        unacked.clone(),
        Arc::new(AtomicUsize::new(0)),
    )
    .await;
    for (i, answer) in &resent {
        let eid = external_id(&run, *i);
        match answer {
            Answer::Created(Some(body)) => {
                let was_stored = committed_unanswered.contains(i);
                assert_eq!(body["created"], json!(!was_stored), "{backend}: re-sent post {eid}");
                if was_stored {
                    assert_eq!(body["post"]["id"], before[&eid]["id"], "{backend}: {eid}");
                }
            }
            other => panic!("{backend}: re-sending post {eid} failed: {other:?}"),
        }
    }
    let stored = stored_posts(&client, &desk.base, &token, &run).await;
    assert_eq!(stored.len(), POSTS, "{backend}: every post is stored once");
    for i in (0..POSTS).step_by(3) {
        let eid = external_id(&run, i);
        assert!(
            stored[&eid]["case_id"].is_string(),
            "{backend}: sensitive post {eid} opened no case (triage: {})",
            stored[&eid]["triage"]
        );
    }
    let cases: BTreeSet<String> =
        stored.values().filter_map(|p| p["case_id"].as_str().map(str::to_owned)).collect();

    // Wait until every outbox row of every case is delivered.
    let deadline = Instant::now() + DELIVERY_DEADLINE;
    let records = loop {
        let receipts: Vec<Receipt> = receiver.http_requests().iter().map(receipt).collect();
        let got: HashSet<(&str, &str)> = receipts
            .iter()
            .filter(|r| r.status < 300)
            .map(|r| (r.case_id.as_str(), r.channel))
            .collect();
        let missing = cases
            .iter()
            .flat_map(|c| [(c.as_str(), CHAT_PATH), (c.as_str(), EVENT_PATH)])
            .filter(|k| !got.contains(k))
            .count();
        let mut pending = usize::MAX;
        let mut records = Vec::new();
        if missing == 0 {
            records = case_records(&client, &desk.base, &token, &cases).await;
            pending = records
                .iter()
                .flat_map(|c| c["deliveries"].as_array().cloned().unwrap_or_default())
                .filter(|d| d["status"] != "delivered")
                .inspect(|d| assert_ne!(d["status"], "failed", "{backend}: {d}"))
                .count();
        }
        if missing == 0 && pending == 0 {
            break records;
        }
        assert!(
            Instant::now() < deadline,
            "{backend}: after {DELIVERY_DEADLINE:?}, {missing} escalations never reached the \
             receiver and {pending} outbox rows are not delivered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    // Each (case, channel) has one outbox row; its id is the X-Steward-Delivery header.
    let mut row_of: HashMap<i64, (String, &str)> = HashMap::new();
    for case in &records {
        let id = case["id"].as_str().expect("a case id").to_owned();
        let mut channels = Vec::new();
        for d in case["deliveries"].as_array().expect("deliveries") {
            assert_eq!(d["purpose"], "escalation", "{backend}: case {id}: {d}");
            let channel = match d["channel"].as_str() {
                Some("chat") => CHAT_PATH,
                Some("hook") => EVENT_PATH,
                other => panic!("{backend}: case {id}: unknown channel {other:?}"),
            };
            channels.push(channel);
            row_of.insert(d["id"].as_i64().expect("an outbox id"), (id.clone(), channel));
        }
        channels.sort_unstable();
        assert_eq!(channels, [CHAT_PATH, EVENT_PATH], "{backend}: case {id}: one row per channel");
    }

    let receipts: Vec<Receipt> = receiver.http_requests().iter().map(receipt).collect();
    let mut by_delivery: BTreeMap<i64, Vec<&Receipt>> = BTreeMap::new();
    for r in &receipts {
        assert!(r.status < 300, "{backend}: the receiver refused {r:?}");
        let (case, channel) = row_of
            .get(&r.delivery)
            .unwrap_or_else(|| panic!("{backend}: {r:?} is no outbox row of a stored case"));
        assert_eq!((case.as_str(), *channel), (r.case_id.as_str(), r.channel), "{backend}");
        by_delivery.entry(r.delivery).or_default().push(r);
    }
    assert_eq!(by_delivery.len(), row_of.len(), "{backend}: every outbox row reached the receiver");
    let strict = std::env::var("STEWARD_CRASH_STRICT").is_ok_and(|v| v == "1");
    let mut repeated = Vec::new();
    for (delivery, got) in &by_delivery {
        if got.len() == 1 {
            continue;
        }
        // Everything received before the restart was sent by the killed process; the
        // receiver may read a request it sent only after the kill (seen: 1 ms after).
        let from_killed = got.iter().filter(|r| r.at_ms < restarted_at).count();
        let after_restart = got.len() - from_killed;
        assert!(
            got.len() == 2 && from_killed == 1 && after_restart == 1 && !strict,
            "{backend}: delivery {delivery} reached the receiver {} times ({from_killed} from \
             the process killed at {killed_at}, {after_restart} after the restart at \
             {restarted_at}): {got:#?}",
            got.len()
        );
        repeated.push(*delivery);
    }

    println!(
        "{backend}: {POSTS} posts, {} answered 2xx before the kill, {} unanswered (first: {:?}), \
         {} of them committed, all re-sent; {} cases, {} outbox rows, {} requests received, \
         repeated after the crash (same X-Steward-Delivery id): {repeated:?}; killed {} a \
         delivery; {:.1} s",
        acked_posts.len(),
        unanswered.len(),
        unanswered.first(),
        committed_unanswered.len(),
        cases.len(),
        row_of.len(),
        receipts.len(),
        if aimed { "right after" } else { "without waiting for" },
        started.elapsed().as_secs_f64()
    );
    drop(desk);
}

/// The configuration file: two channels on the receiver, fast retries, the shortest lease.
fn config_text(receiver: &Receiver) -> String {
    format!(
        r#"
[[channels]]
kind = "mattermost"
id = "chat"
url = "{chat}"
channel = "escalations"
username = "steward"

[[channels]]
kind = "webhook"
id = "hook"
url = "{event}"
secret = "{HOOK_SECRET}"

[delivery]
base_backoff_ms = 200
max_backoff_ms = 1000
max_attempts = 100
lease_ms = {LEASE_MS}
poll_ms = 100

[timers]
tick_ms = 1000
"#,
        chat = receiver.http_url(CHAT_PATH),
        event = receiver.http_url(EVENT_PATH),
    )
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn external_id(run: &str, i: usize) -> String {
    format!("{run}-{i}")
}

/// Post `i` of a run: every third one sensitive; each in a thread of its own.
fn post(run: &str, i: usize) -> Value {
    let (title, text) = if i.is_multiple_of(3) {
        SENSITIVE[(i / 3) % SENSITIVE.len()]
    } else {
        ORDINARY[i % ORDINARY.len()]
    };
    let mut body = text.to_string();
    while body.len() < 900 {
        body.push_str(FILLER);
    }
    json!({
        "source": "crash",
        "external_id": external_id(run, i),
        "url": format!("https://forum.example.org/t/{run}/{i}"),
        "author": format!("user{}", i % 17),
        "title": title,
        "body": body,
        "thread": format!("{run}-thread-{i}"),
    })
}

/// What one submission got.
#[derive(Debug)]
enum Answer {
    /// A 2xx, with its JSON body when it could be read whole.
    Created(Option<Value>),
    /// Any other status.
    Status(u16, String),
    /// No answer: refused, reset, timed out.
    Transport(String),
}

/// Sends the posts `indices`, at most [`IN_FLIGHT`] at a time, once each; counts 2xx
/// answers in `acked` as they come.
async fn send_all(
    client: reqwest::Client,
    base: String,
    token: String,
    posts: Arc<Vec<Value>>,
    indices: Vec<usize>,
    acked: Arc<AtomicUsize>,
) -> Vec<(usize, Answer)> {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for i in indices {
        let permit = Arc::clone(&permits).acquire_owned().await.expect("the semaphore is open");
        let (client, posts, acked) = (client.clone(), Arc::clone(&posts), Arc::clone(&acked));
        let url = format!("{base}/api/v1/posts");
        let token = token.clone();
        tasks.spawn(async move {
            let answer = match client.post(url).bearer_auth(token).json(&posts[i]).send().await {
                Err(e) => Answer::Transport(e.to_string()),
                Ok(response) if response.status().is_success() => {
                    acked.fetch_add(1, Ordering::SeqCst);
                    Answer::Created(response.json::<Value>().await.ok())
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    Answer::Status(status, response.text().await.unwrap_or_default())
                }
            };
            drop(permit);
            (i, answer)
        });
    }
    let mut answers = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        answers.push(joined.expect("a sender task"));
    }
    answers.sort_by_key(|(i, _)| *i);
    answers
}

async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let response = client.get(url).bearer_auth(token).send().await.expect("GET");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON answer");
    assert!(status.is_success(), "GET {url}: {status} {body}");
    body
}

/// This run's stored posts by external id, read page by page; a post twice is a failure.
async fn stored_posts(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    run: &str,
) -> HashMap<String, Value> {
    let mut posts = HashMap::new();
    let mut offset = 0;
    loop {
        let url = format!("{base}/api/v1/posts?limit=200&offset={offset}");
        let page = get_json(client, &url, token).await["posts"].as_array().cloned().expect("posts");
        if page.is_empty() {
            return posts;
        }
        offset += page.len();
        for p in page {
            let eid = p["external_id"].as_str().expect("an external id").to_owned();
            if p["source"] == "crash" && eid.starts_with(run) {
                assert!(!posts.contains_key(&eid), "post {eid} is stored twice");
                posts.insert(eid, p);
            }
        }
    }
}

async fn case_records(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    cases: &BTreeSet<String>,
) -> Vec<Value> {
    let mut records = Vec::with_capacity(cases.len());
    for id in cases {
        let url = format!("{base}/api/v1/cases/{id}");
        records.push(get_json(client, &url, token).await["case"].clone());
    }
    records
}

/// One escalation as the receiver got it.
#[derive(Debug)]
struct Receipt {
    /// The `X-Steward-Delivery` header: the outbox row id.
    delivery: i64,
    /// [`CHAT_PATH`] or [`EVENT_PATH`].
    channel: &'static str,
    case_id: String,
    at_ms: i64,
    status: u16,
}

/// Reads a request the desk sent: its delivery id and its case, from the chat text or the
/// signed event.
fn receipt(request: &HttpRequest) -> Receipt {
    let delivery = request
        .header("x-steward-delivery")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric X-Steward-Delivery on {request:?}"));
    let body = request.json();
    let (channel, case_id) = match request.path.as_str() {
        CHAT_PATH => {
            assert_eq!(body["channel"], "escalations", "{body}");
            assert_eq!(body["username"], "steward", "{body}");
            let text = body["text"].as_str().expect("a text");
            assert!(text.starts_with("**Sensitive post escalated"), "{text}");
            let case_id = text
                .split_once("(case `")
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(id, _)| id.to_owned())
                .unwrap_or_else(|| panic!("no case id in {text:?}"));
            (CHAT_PATH, case_id)
        }
        EVENT_PATH => {
            let signature = request.header("x-steward-signature").expect("a signature");
            assert!(
                steward_delivery::verify_signature(
                    HOOK_SECRET.as_bytes(),
                    request.body.as_bytes(),
                    signature
                ),
                "bad signature on {request:?}"
            );
            assert_eq!(body["event"], "case.escalated", "{body}");
            (EVENT_PATH, body["case"]["id"].as_str().expect("a case id").to_owned())
        }
        other => panic!("unexpected request to {other}"),
    };
    Receipt { delivery, channel, case_id, at_ms: request.at_ms, status: request.status }
}

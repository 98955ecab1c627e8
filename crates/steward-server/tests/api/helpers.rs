//! The `spawn_app` harness: the real router on a loopback port against a fresh database
//! (SQLite in a temporary directory or a new PostgreSQL database), channels pointing at a
//! real `steward-receiver` process, tokens per role, typed helpers per endpoint, and the
//! background work (delivery, timers) driven one step at a time with a manual clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use steward_delivery::{ChannelConfig, Secret, Worker};
use steward_desk::{Clock, ManualClock};
use steward_policy::Policy;
pub use steward_server::auth::token_id;
use steward_server::auth::{new_token_secret, token_hash};
use steward_server::{AppState, Settings};
use steward_store::{NewToken, Store};
use steward_testkit::{Receiver, ReceiverOptions, TestDatabase};

/// The moment every test starts at (2023-11-14 22:13:20 UTC).
pub const T0: i64 = 1_700_000_000_000;
/// Base of the links the desk writes into its messages.
pub const PUBLIC_URL: &str = "http://steward.test";
/// The secret of the signed webhook channel.
pub const WEBHOOK_SECRET: &str = "webhook-test-secret";
/// The only topic the signed webhook channel wants.
pub const WEBHOOK_TOPIC: &str = "security_vulnerability";

pub const HOOK_MATTERMOST: &str = "/hooks/mattermost";
pub const HOOK_SLACK: &str = "/hooks/slack";
pub const HOOK_SIGNED: &str = "/hooks/signed";

const EXAMPLE_POLICY: &str = include_str!("../../../../examples/policy.toml");

/// The example policy, parsed once per process.
pub fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        steward_policy::parse(EXAMPLE_POLICY)
            .valid()
            .unwrap_or_else(|d| panic!("the example policy is invalid: {d:?}"))
            .0
    })
}

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `both!(story, …)` runs each `async fn story(app: TestApp)` as `story::sqlite` and
/// `story::postgres`, each on its own fresh database and receiver.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                super::$name(app).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                super::$name(app).await
            }
        }
    )*};
}
pub(crate) use both;

/// An answer of the API: status, headers and the JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// Panics, showing the body, unless the status is `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Resp {
        assert_eq!(self.status, expected, "unexpected status; body: {}", self.text);
        self
    }

    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The error message of an error body.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts an API error: the status, the code, a non-empty message and nothing else.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Resp {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        assert_eq!(self.code(), code, "unexpected error code; body: {}", self.text);
        assert!(!self.message().is_empty(), "the error has no message: {}", self.text);
        let keys: Vec<&String> =
            self.body.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["error"], "error body has other keys: {}", self.text);
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Tokens for the non-person roles.
pub struct Tokens {
    pub admin: String,
    pub triager: String,
    pub viewer: String,
}

/// A running desk with its database, receiver, clock and tokens.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub store: Store,
    pub clock: ManualClock,
    pub receiver: Receiver,
    pub tokens: Tokens,
    pub client: reqwest::Client,
    worker: Worker,
    people: Mutex<HashMap<String, String>>,
    server: tokio::task::JoinHandle<()>,
    // Dropped last: the database outlives every handle on it.
    db: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The channels of a test desk: Mattermost, Slack and email for every topic, and the signed
/// webhook only for [`WEBHOOK_TOPIC`], all at `receiver`.
pub fn channels(receiver: &Receiver) -> Vec<ChannelConfig> {
    vec![
        ChannelConfig::Mattermost {
            id: "mattermost".into(),
            url: Secret::new(receiver.http_url(HOOK_MATTERMOST)),
            channel: Some("community-escalations".into()),
            username: Some("steward".into()),
            topics: vec![],
        },
        ChannelConfig::Slack {
            id: "slack".into(),
            url: Secret::new(receiver.http_url(HOOK_SLACK)),
            channel: None,
            username: None,
            topics: vec![],
        },
        ChannelConfig::Email {
            id: "email".into(),
            smtp: receiver.smtp_url(),
            from: "Steward <desk@example.org>".into(),
            to: vec!["Responders <responders@example.org>".into()],
            topics: vec![],
        },
        ChannelConfig::Webhook {
            id: "signed".into(),
            url: receiver.http_url(HOOK_SIGNED),
            secret: Secret::new(WEBHOOK_SECRET),
            topics: vec![WEBHOOK_TOPIC.into()],
        },
    ]
}

/// Starts the desk on a fresh database of `backend`.
///
/// # Panics
/// When PostgreSQL cannot be reached (the PostgreSQL half of a test fails, it is not
/// skipped), or when the receiver or the desk cannot start.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => TestDatabase::postgres().await,
    };
    let store = Store::connect(db.url())
        .await
        .unwrap_or_else(|e| panic!("connect to the test database {}: {e}", db.url()));
    let expected = match backend {
        Backend::Sqlite => steward_store::Backend::Sqlite,
        Backend::Postgres => steward_store::Backend::Postgres,
    };
    assert_eq!(store.backend(), expected, "the test database is of the wrong backend");
    let receiver = Receiver::start(ReceiverOptions::default());
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        database: db.url().to_string(),
        public_url: Some(PUBLIC_URL.into()),
        channels: channels(&receiver),
        ..Settings::default()
    };
    for c in &settings.channels {
        c.validate().expect("test channels are valid");
    }
    let clock = ManualClock::new(T0);
    let state = AppState::new(store.clone(), policy().clone(), settings, Arc::new(clock.clone()))
        .expect("build the app state");
    let worker = steward_server::delivery_worker(&state).expect("build the delivery worker");

    // Bound before serving: the first request cannot race the listener.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let router = steward_server::router(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });

    let mut app = TestApp {
        address,
        state,
        store,
        clock,
        receiver,
        tokens: Tokens { admin: String::new(), triager: String::new(), viewer: String::new() },
        client: reqwest::Client::new(),
        worker,
        people: Mutex::new(HashMap::new()),
        server,
        db,
    };
    app.tokens = Tokens {
        admin: app.create_token("", "admin").await,
        triager: app.create_token("", "triager").await,
        viewer: app.create_token("", "viewer").await,
    };
    app
}

impl TestApp {
    /// Drops the PostgreSQL database under the running desk (see
    /// [`TestDatabase::drop_postgres_now`]).
    pub async fn drop_database_now(&self) {
        self.db.drop_postgres_now().await;
    }

    /// Stores a new token for `person` (empty for none) with `role`; returns its secret.
    pub async fn create_token(&self, person: &str, role: &str) -> String {
        let secret = new_token_secret();
        let id = token_id(&secret);
        let new = NewToken {
            id,
            person: person.into(),
            role: role.into(),
            hash: token_hash(&secret),
            label: format!("test {role} {person}"),
        };
        self.store.create_token(new, self.clock.now_ms()).await.expect("create a token");
        secret
    }

    /// The responder token of a person of the policy, created on first use.
    pub async fn person(&self, id: &str) -> String {
        assert!(policy().person(id).is_some(), "`{id}` is not a person of the example policy");
        if let Some(t) = self.people.lock().unwrap().get(id) {
            return t.clone();
        }
        let token = self.create_token(id, "responder").await;
        self.people.lock().unwrap().entry(id.to_string()).or_insert(token).clone()
    }

    /// Runs one delivery step now; returns how many outbox items it attempted.
    pub async fn deliver_now(&self) -> usize {
        self.worker.run_once(self.clock.now_ms()).await.expect("delivery step")
    }

    /// Fires every due timer now; returns how many fired.
    pub async fn fire_timers_now(&self) -> usize {
        steward_server::timers::run_once(&self.state, self.clock.now_ms())
            .await
            .expect("timer step")
    }

    /// Any request. `body` is sent as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        Self::read(req).await
    }

    /// Sends a prepared request and reads the answer.
    pub async fn read(req: reqwest::RequestBuilder) -> Resp {
        let response = req.send().await.expect("send the request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read the body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    /// A raw request builder on the app (for malformed bodies and odd headers).
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.request(Method::POST, path, token, Some(body)).await
    }

    // ---- typed helpers, one per endpoint -------------------------------------------------

    /// `POST /api/v1/posts`.
    pub async fn post_post(&self, token: &str, post: &Value) -> Resp {
        self.post("/api/v1/posts", Some(token), post).await
    }

    /// Submits a post as the triager and returns its body, asserting `201`.
    pub async fn submit(&self, post: &Value) -> Value {
        self.post_post(&self.tokens.triager, post).await.expect(201).body
    }

    /// Submits a post that must open (or join) a case; returns the case id.
    pub async fn submit_case(&self, post: &Value) -> String {
        let body = self.submit(post).await;
        body["case_id"]
            .as_str()
            .unwrap_or_else(|| panic!("the post opened no case: {body:#}"))
            .to_string()
    }

    pub async fn get_posts(&self, token: &str) -> Resp {
        self.get("/api/v1/posts?limit=200", Some(token)).await
    }

    pub async fn get_post(&self, token: &str, id: &str) -> Resp {
        self.get(&format!("/api/v1/posts/{id}"), Some(token)).await
    }

    pub async fn relabel(&self, token: &str, post_id: &str, body: &Value) -> Resp {
        self.post(&format!("/api/v1/posts/{post_id}/relabel"), Some(token), body).await
    }

    pub async fn escalate(&self, token: &str, body: &Value) -> Resp {
        self.post("/api/v1/cases", Some(token), body).await
    }

    pub async fn get_cases(&self, token: &str, query: &str) -> Resp {
        self.get(&format!("/api/v1/cases?limit=200&{query}"), Some(token)).await
    }

    pub async fn get_case(&self, token: &str, id: &str) -> Resp {
        self.get(&format!("/api/v1/cases/{id}"), Some(token)).await
    }

    /// The case as the admin sees it (asserting `200`).
    pub async fn case(&self, id: &str) -> Value {
        self.get_case(&self.tokens.admin, id).await.expect(200).body["case"].clone()
    }

    /// `POST /cases/{id}/owner`: take ownership (`None`) or hand it over.
    pub async fn set_owner(&self, token: &str, case_id: &str, owner: Option<&str>) -> Resp {
        let body = match owner {
            Some(o) => json!({"owner": o}),
            None => json!({}),
        };
        self.post(&format!("/api/v1/cases/{case_id}/owner"), Some(token), &body).await
    }

    pub async fn draft(&self, token: &str, case_id: &str, text: &str) -> Resp {
        self.post(
            &format!("/api/v1/cases/{case_id}/responses"),
            Some(token),
            &json!({"body": text}),
        )
        .await
    }

    pub async fn approve(&self, token: &str, case_id: &str, response_id: &str) -> Resp {
        let path = format!("/api/v1/cases/{case_id}/responses/{response_id}/approve");
        self.request(Method::POST, &path, Some(token), None).await
    }

    pub async fn close(&self, token: &str, case_id: &str, reason: &str) -> Resp {
        self.post(
            &format!("/api/v1/cases/{case_id}/close"),
            Some(token),
            &json!({"reason": reason}),
        )
        .await
    }

    pub async fn audit(&self, token: &str) -> Resp {
        self.get("/api/v1/audit?limit=200", Some(token)).await
    }

    /// How many posts and cases the desk holds, as the admin sees them through the API.
    pub async fn counts(&self) -> (usize, usize) {
        let posts = self.get_posts(&self.tokens.admin).await.expect(200).body["posts"]
            .as_array()
            .expect("posts list")
            .len();
        let cases = self.get_cases(&self.tokens.admin, "").await.expect(200).body["cases"]
            .as_array()
            .expect("cases list")
            .len();
        (posts, cases)
    }

    /// Everything written so far: posts, cases and audit entries, for "nothing written"
    /// checks.
    pub async fn written(&self) -> (usize, usize, usize) {
        let (posts, cases) = self.counts().await;
        let audit = self.audit(&self.tokens.admin).await.expect(200).body["entries"]
            .as_array()
            .expect("audit entries")
            .len();
        (posts, cases, audit)
    }
}

/// A post about `topic` (one of the nine sensitive topics of the example policy, or `None`
/// for a harmless feature request), written so that triage finds exactly that topic. Each
/// body carries an email address, which must never leave the desk.
pub fn topic_post(topic: Option<&str>, external_id: &str) -> Value {
    let (title, body) = match topic {
        Some("privacy_telemetry") => (
            "Telemetry keeps phoning home",
            "The desktop app phones home with usage statistics even after I disabled telemetry. \
             This is a privacy concern: please let us opt out of data collection.",
        ),
        Some("product_regulation") => (
            "GDPR compliance and data residency",
            "Our legal department needs to know whether the product is GDPR compliant, whether \
             you sign a data processing agreement, and where the data is stored in the EU.",
        ),
        Some("licensing") => (
            "Question about relicensing",
            "Can we use this under a commercial license in our proprietary product without \
             releasing our source? Is the AGPL license compatible with that?",
        ),
        Some("packaging") => (
            "SSO moved behind a paywall",
            "Why do we have to pay for SSO? It used to be free in the community edition and is \
             now only available in the enterprise edition. Please make it free for everyone.",
        ),
        Some("workplace") => (
            "Are you hiring remote engineers?",
            "Are you hiring in Brazil? I would like to join your team and work remotely; do you \
             offer visa sponsorship or a relocation package?",
        ),
        Some("security_vulnerability") => (
            "Security vulnerability: remote code execution",
            "I found a remote code execution vulnerability in the upload endpoint, a possible \
             CVE. How do I report it responsibly before public disclosure?",
        ),
        Some("illicit_use") => (
            "Your software is used for piracy",
            "Someone is using your platform to distribute pirated content and run a scam \
             selling stolen credit cards. This is illegal activity.",
        ),
        Some("marketing_regulation") => (
            "Unsolicited marketing emails",
            "I keep receiving marketing emails from you that I never subscribed to; there is no \
             unsubscribe link. This is spam and violates CAN-SPAM and GDPR consent for marketing.",
        ),
        Some("government_request") => (
            "Law enforcement data request",
            "Has your company ever received a subpoena or a government request for user data? Do \
             you publish a transparency report about law enforcement requests?",
        ),
        Some(other) => panic!("no test post for topic `{other}`"),
        None => (
            "Dark mode toggle",
            "It would be great to add a dark mode option to the settings page. Thanks for the \
             great work!",
        ),
    };
    json!({
        "source": "forum",
        "external_id": external_id,
        "url": format!("https://forum.example.org/t/{external_id}"),
        "author": "community-member",
        "title": title,
        "body": format!("{body} Reach me at {SECRET_EMAIL}."),
    })
}

/// The address in every test post's body; it must be redacted everywhere it leaves the desk.
pub const SECRET_EMAIL: &str = "alice.private@example.net";

/// The chat mentions of a list of people: `@handle`, or the name when there is none.
pub fn chat_mentions(people: &[&steward_policy::Person]) -> Vec<String> {
    people
        .iter()
        .map(|p| p.chat.as_ref().map_or_else(|| p.name.clone(), |h| format!("@{h}")))
        .collect()
}

/// The email mentions of a list of people: `Name <email>`, or the name when there is none.
pub fn email_mentions(people: &[&steward_policy::Person]) -> Vec<String> {
    people
        .iter()
        .map(|p| p.email.as_ref().map_or_else(|| p.name.clone(), |e| format!("{} <{e}>", p.name)))
        .collect()
}

/// The value after `prefix` on the line that starts with it.
pub fn line_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(prefix))
}

//! Plain records going into and coming out of the store: strings, integers, JSON values.
//! The pure domain crates compute them; the store only keeps them.
//!
//! Times are `i64` unix milliseconds chosen by the caller; ids are strings chosen by the
//! caller, except the integer ids of outbox rows, relabels and audit entries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A post as it arrives, redacted, with its hidden original text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewPost {
    pub id: String,
    pub source: String,
    pub external_id: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub thread_key: String,
    /// Redacted title.
    pub title: String,
    /// Redacted body.
    pub body: String,
    /// Unredacted title; kept in `post_revisions`, never returned by post or case reads.
    pub original_title: String,
    /// Unredacted body; kept in `post_revisions`, never returned by post or case reads.
    pub original_body: String,
    pub triage: Value,
    pub sensitive: bool,
    pub topics: Vec<String>,
    pub kind: Option<String>,
}

/// A stored post: redacted fields only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PostRecord {
    pub id: String,
    pub source: String,
    pub external_id: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub thread_key: String,
    pub title: String,
    pub body: String,
    pub triage: Value,
    pub sensitive: bool,
    pub topics: Vec<String>,
    pub kind: Option<String>,
    pub case_id: Option<String>,
    pub created_at: i64,
}

/// What to do when a post escalates: the case to open (unless the thread already has an
/// open one) and the notifications to enqueue with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewEscalation {
    pub case: NewCase,
    pub notifications: Vec<NewNotification>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewCase {
    pub id: String,
    pub thread_key: String,
    pub topics: Vec<String>,
    pub policy_version: String,
    pub owner: Option<String>,
    /// Approved responders as resolved at escalation.
    pub responders: Value,
    /// Loop-ins as resolved at escalation.
    pub loop_ins: Value,
    pub opened_by: String,
    pub due_at: Option<i64>,
    pub remind_at: Option<i64>,
}

/// One message for the outbox.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewNotification {
    /// Channel id from the configuration.
    pub channel: String,
    /// "escalation", "reminder", "breach", ...
    pub purpose: String,
    /// The rendered message.
    pub payload: Value,
}

/// The outcome of `Store::intake`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Intake {
    pub post: PostRecord,
    pub case_id: Option<String>,
    /// False when (source, external_id) was already stored; nothing was changed then.
    pub created: bool,
    /// True when this call opened a new case (false when it joined an open one).
    pub case_created: bool,
}

/// One manual relabel of a post.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RelabelRecord {
    pub id: i64,
    pub post_id: String,
    pub topics: Vec<String>,
    pub kind: Option<String>,
    pub previous_topics: Vec<String>,
    pub previous_kind: Option<String>,
    pub actor: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEvent {
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub detail: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttemptRecord {
    pub at: i64,
    pub ok: bool,
    pub error: Option<String>,
}

/// An outbox row as shown on its case, with every attempt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub channel: String,
    pub purpose: String,
    /// "pending", "delivered" or "failed".
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub next_attempt_at: i64,
    pub attempt_log: Vec<AttemptRecord>,
}

/// A case with everything shown on its page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseRecord {
    pub id: String,
    /// "open" or "closed".
    pub state: String,
    pub thread_key: String,
    pub topics: Vec<String>,
    pub policy_version: String,
    pub owner: Option<String>,
    pub responders: Value,
    pub loop_ins: Value,
    pub opened_by: String,
    pub created_at: i64,
    pub due_at: Option<i64>,
    pub remind_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub breached_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
    /// Oldest first.
    pub posts: Vec<PostRecord>,
    /// Oldest first.
    pub timeline: Vec<TimelineEvent>,
    /// Oldest first.
    pub responses: Vec<ResponseRecord>,
    /// Oldest first.
    pub deliveries: Vec<DeliveryRecord>,
}

/// A case in a list: no nested lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CaseSummary {
    pub id: String,
    pub state: String,
    pub thread_key: String,
    pub topics: Vec<String>,
    pub policy_version: String,
    pub owner: Option<String>,
    pub opened_by: String,
    pub created_at: i64,
    pub due_at: Option<i64>,
    pub remind_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub breached_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub close_reason: Option<String>,
    pub post_count: i64,
}

/// Filters for `Store::list_cases`; `None` matches everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CaseFilter {
    /// The case has this topic among its topics.
    pub topic: Option<String>,
    /// "open" or "closed".
    pub state: Option<String>,
    pub owner: Option<String>,
}

/// A page of a list. `limit` is clamped to 1..=200, `offset` to >= 0.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub const MAX_LIMIT: i64 = 200;

    pub(crate) fn clamped(self) -> (i64, i64) {
        (self.limit.clamp(1, Self::MAX_LIMIT), self.offset.max(0))
    }
}

impl Default for Page {
    fn default() -> Self {
        Page { limit: 50, offset: 0 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewResponse {
    pub id: String,
    pub author: String,
    pub body: String,
    pub findings: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResponseRecord {
    pub id: String,
    pub case_id: String,
    pub author: String,
    pub body: String,
    pub findings: Value,
    /// "draft" or "approved".
    pub state: String,
    pub approved_by: Option<String>,
    pub created_at: i64,
    pub approved_at: Option<i64>,
}

/// A claimed outbox row, handed to a delivery worker.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub case_id: Option<String>,
    pub channel: String,
    pub purpose: String,
    pub payload: Value,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What happened when a worker tried to deliver a claimed row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum AttemptOutcome {
    Delivered,
    Retry { error: String, next_attempt_at: i64 },
    GiveUp { error: String },
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewAudit {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of recomputing the audit hash chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditVerification {
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// The seq of the first entry whose hash or link does not match, if any.
    pub first_broken: Option<i64>,
    /// Why it does not match.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NewToken {
    pub id: String,
    pub person: String,
    pub role: String,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub person: String,
    pub role: String,
    pub label: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// The reminder before the first-response target.
    Reminder,
    /// The first-response target was missed.
    Breach,
}

impl TimerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerKind::Reminder => "reminder",
            TimerKind::Breach => "breach",
        }
    }
}

/// A case whose clock is due.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DueTimer {
    pub case_id: String,
    pub kind: TimerKind,
    pub owner: Option<String>,
    pub topics: Vec<String>,
    pub due_at: Option<i64>,
    pub remind_at: Option<i64>,
    pub thread_key: String,
    pub policy_version: String,
    pub responders: Value,
    pub loop_ins: Value,
}

//! Intake and escalation: a post is triaged, stored with its hidden original, and, when it
//! touches a sensitive topic, opens a case (or joins the open case of its thread) with its
//! escalation notices written to the outbox in the same transaction.

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};
use steward_desk::access::Actor;
use steward_desk::case::{self, CasePlan};
use steward_desk::notice::{self, PostBrief};
use steward_store::{
    Intake, NewAudit, NewCase, NewEscalation, NewNotification, NewPost, PostRecord,
};
use steward_triage::{Post, TopicMatch, Triage};
use utoipa::ToSchema;

use crate::error::AppError;
use crate::state::AppState;

/// A post submitted to the desk.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostSubmission {
    /// Where it comes from: `github`, `forum`, `chat`, `email`, …
    pub source: String,
    /// The source's own id of the post; (`source`, `external_id`) is unique.
    pub external_id: String,
    pub url: Option<String>,
    pub author: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Posts of one thread (an issue and its comments) join one case.
    pub thread: Option<String>,
}

const MAX_SHORT: usize = 512;

impl PostSubmission {
    fn check(&self) -> Result<(), AppError> {
        for (name, value) in [("source", &self.source), ("external_id", &self.external_id)] {
            if value.trim().is_empty() {
                return Err(AppError::Validation(format!("`{name}` must not be empty")));
            }
        }
        for (name, value) in [
            ("source", Some(&self.source)),
            ("external_id", Some(&self.external_id)),
            ("url", self.url.as_ref()),
            ("author", self.author.as_ref()),
            ("thread", self.thread.as_ref()),
        ] {
            if value.is_some_and(|v| v.chars().count() > MAX_SHORT) {
                return Err(AppError::Validation(format!(
                    "`{name}` is longer than {MAX_SHORT} characters"
                )));
            }
        }
        if self.title.trim().is_empty() && self.body.trim().is_empty() {
            return Err(AppError::Validation("a post needs a `title` or a `body`".into()));
        }
        Ok(())
    }

    fn thread_key(&self) -> String {
        let thread = self.thread.as_deref().or(self.url.as_deref()).unwrap_or(&self.external_id);
        format!("{}:{thread}", self.source)
    }
}

/// A fresh id: a prefix and 16 random lowercase alphanumerics.
pub fn new_id(prefix: &str) -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .filter(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        .take(16)
        .map(char::from)
        .collect();
    format!("{prefix}_{tail}")
}

/// What triage says, as stored with the post (the redacted text is the post's own fields).
fn triage_record(t: &Triage) -> Value {
    json!({
        "sensitive": t.sensitive,
        "topics": t.topics,
        "kind": t.kind,
        "pii": t.pii,
    })
}

/// The case and its escalation notices, one per channel that wants any of the topics.
fn escalation(
    state: &AppState,
    actor: &Actor,
    case_id: &str,
    thread_key: &str,
    plan: &CasePlan,
    post: &PostBrief,
    evidence: &[TopicMatch],
) -> Result<NewEscalation, AppError> {
    let policy = state.policy();
    let case_url = format!("{}/api/v1/cases/{case_id}", state.settings().public_url());
    let mut notifications = Vec::new();
    for channel in &state.settings().channels {
        if !plan.topics.iter().any(|t| channel.wants_topic(t)) {
            continue;
        }
        let n = notice::escalation(
            policy,
            case_id,
            &case_url,
            plan,
            post,
            evidence,
            channel.handle_kind(),
        );
        notifications.push(NewNotification {
            channel: channel.id().to_string(),
            purpose: "escalation".into(),
            payload: serde_json::to_value(n).map_err(AppError::internal)?,
        });
    }
    Ok(NewEscalation {
        case: NewCase {
            id: case_id.to_string(),
            thread_key: thread_key.to_string(),
            topics: plan.topics.clone(),
            policy_version: plan.policy_version.clone(),
            owner: plan.owner.clone(),
            responders: serde_json::to_value(&plan.responders).map_err(AppError::internal)?,
            loop_ins: serde_json::to_value(&plan.loop_ins).map_err(AppError::internal)?,
            opened_by: actor.label.clone(),
            due_at: Some(plan.due_at),
            remind_at: plan.remind_at,
        },
        notifications,
    })
}

/// Checks hand-given topics against the policy: known and sensitive.
pub fn check_sensitive_topics(state: &AppState, topics: &[String]) -> Result<(), AppError> {
    for t in topics {
        match state.policy().topic(t) {
            Some(topic) if topic.sensitive => {}
            Some(_) => {
                return Err(AppError::Validation(format!(
                    "`{t}` is not a sensitive topic: only sensitive topics are escalated"
                )))
            }
            None => return Err(AppError::Validation(format!("unknown topic `{t}`"))),
        }
    }
    Ok(())
}

/// Takes a post: triage, store, and escalate when sensitive (or when `force_topics` names
/// topics, for escalation by hand). Idempotent on (`source`, `external_id`).
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    sub: PostSubmission,
    force_topics: Option<Vec<String>>,
) -> Result<Intake, AppError> {
    sub.check()?;
    let now = state.now_ms();
    let post_id = new_id("p");
    let triage = state.triager().triage(&Post {
        id: post_id.clone(),
        title: sub.title.clone(),
        body: sub.body.clone(),
        source: Some(sub.source.clone()),
        url: sub.url.clone(),
        author: sub.author.clone(),
    });
    let triaged: Vec<String> = triage.topics.iter().map(|m| m.id.clone()).collect();
    let force_topics_given = force_topics.is_some();
    let topics = match force_topics {
        Some(t) if !t.is_empty() => {
            check_sensitive_topics(state, &t)?;
            t
        }
        _ => triaged.clone(),
    };
    // Escalation by hand of a post that triage finds harmless needs named topics; refuse
    // before anything is stored, so a refused request writes nothing.
    if force_topics_given && topics.is_empty() {
        return Err(AppError::Validation(
            "the post touches no sensitive topic: name the `topics` to escalate it under".into(),
        ));
    }
    let thread_key = sub.thread_key();
    let brief = PostBrief {
        id: post_id.clone(),
        source: sub.source.clone(),
        url: sub.url.clone(),
        author: sub.author.clone(),
        title: triage.redacted.title.clone(),
        body: triage.redacted.body.clone(),
    };
    let escalation = if topics.is_empty() {
        None
    } else {
        let case_id = new_id("c");
        let plan = case::plan(state.policy(), &topics, now);
        // Triage already replaced personal data inside the evidence.
        let evidence = &triage.topics;
        Some(escalation(state, actor, &case_id, &thread_key, &plan, &brief, evidence)?)
    };
    let new = NewPost {
        id: post_id,
        source: sub.source,
        external_id: sub.external_id,
        url: sub.url,
        author: sub.author,
        thread_key,
        title: triage.redacted.title.clone(),
        body: triage.redacted.body.clone(),
        original_title: sub.title,
        original_body: sub.body,
        triage: triage_record(&triage),
        sensitive: !topics.is_empty(),
        topics,
        kind: triage.kind.clone(),
    };
    // The store writes the audit entries of the intake itself (post.create, case.open).
    let intake = state.store().intake(new, escalation, Vec::new(), now).await?;
    if intake.case_created {
        state.wake_delivery();
    }
    Ok(intake)
}

/// Escalates a stored post by hand, with the given topics or else its triaged ones. Joins
/// the open case of its thread when there is one.
pub async fn escalate_post(
    state: &AppState,
    actor: &Actor,
    post: &PostRecord,
    topics: Vec<String>,
) -> Result<String, AppError> {
    let topics = if topics.is_empty() { post.topics.clone() } else { topics };
    if topics.is_empty() {
        return Err(AppError::Validation(format!(
            "post `{}` touches no sensitive topic: name the `topics` to escalate it under",
            post.id
        )));
    }
    check_sensitive_topics(state, &topics)?;
    let now = state.now_ms();
    let case_id = new_id("c");
    let plan = case::plan(state.policy(), &topics, now);
    let evidence: Vec<TopicMatch> = post
        .triage
        .get("topics")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let brief = PostBrief {
        id: post.id.clone(),
        source: post.source.clone(),
        url: post.url.clone(),
        author: post.author.clone(),
        title: post.title.clone(),
        body: post.body.clone(),
    };
    let esc = escalation(state, actor, &case_id, &post.thread_key, &plan, &brief, &evidence)?;
    let audit = vec![NewAudit {
        actor: actor.label.clone(),
        action: "case.escalate_by_hand".into(),
        subject: post.id.clone(),
        before: None,
        after: Some(json!({"topics": topics})),
    }];
    let id = state.store().open_case_for_post(&post.id, esc, audit, now).await?;
    state.wake_delivery();
    Ok(id)
}

//! The text of what the desk sends: escalation, reminder and missed-target notices.
//!
//! Each notice is rendered once per channel, with @-mentions in that channel's handle
//! (chat username, GitHub login or email), and stored in the outbox as it will be sent. The
//! post's text here is always the redacted text.

use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_policy::{HandleKind, Policy};
use steward_triage::TopicMatch;

use crate::case::{next_responder, CasePlan, ResolvedPerson};
use crate::clock::format_ms;

/// A rendered notice: a subject (email), Markdown text (chat, email body) and the structured
/// event (signed webhooks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub subject: String,
    pub text: String,
    pub event: serde_json::Value,
}

/// The post behind a case, already redacted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostBrief {
    pub id: String,
    pub source: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub title: String,
    pub body: String,
}

/// A case as the timers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseBrief {
    pub id: String,
    pub url: String,
    pub topics: Vec<String>,
    pub owner: Option<String>,
    pub responders: Vec<ResolvedPerson>,
    pub loop_ins: Vec<ResolvedPerson>,
    pub due_at: i64,
}

const EXCERPT_CHARS: usize = 400;

fn titles(policy: &Policy, topics: &[String]) -> String {
    topics
        .iter()
        .map(|t| policy.topic(t).map_or(t.as_str(), |x| x.title.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mentions(people: &[ResolvedPerson], kind: HandleKind) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for p in people {
        if !seen.contains(&p.person.as_str()) {
            seen.push(&p.person);
            out.push(p.mention(kind));
        }
    }
    if out.is_empty() {
        "nobody (the policy maps no person)".to_string()
    } else {
        out.join(", ")
    }
}

fn person<'a>(people: &'a [ResolvedPerson], id: Option<&str>) -> Option<&'a ResolvedPerson> {
    id.and_then(|id| people.iter().find(|p| p.person == id))
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    out.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n")
}

/// The escalation notice for a new case.
pub fn escalation(
    policy: &Policy,
    case_id: &str,
    case_url: &str,
    plan: &CasePlan,
    post: &PostBrief,
    evidence: &[TopicMatch],
    kind: HandleKind,
) -> Notice {
    let topic_titles = titles(policy, &plan.topics);
    let owner = person(&plan.responders, plan.owner.as_deref());
    let mut text = format!("**Sensitive post escalated: {topic_titles}** (case `{case_id}`)\n");
    text += &format!("Approved responders: {}\n", mentions(&plan.responders, kind));
    if !plan.loop_ins.is_empty() {
        text += &format!("Loop in: {}\n", mentions(&plan.loop_ins, kind));
    }
    text += &format!("Owner: {}\n", owner.map_or("nobody yet".to_string(), |p| p.mention(kind)));
    let link = post.url.as_deref().map_or(String::new(), |u| format!(" <{u}>"));
    let by = post.author.as_deref().map_or(String::new(), |a| format!(" by {a}"));
    text += &format!("Post on {}{by}:{link}\n", post.source);
    if !post.title.is_empty() {
        text += &format!("**{}**\n", post.title);
    }
    if !post.body.is_empty() {
        text += &excerpt(&post.body);
        text.push('\n');
    }
    let words: Vec<String> = evidence
        .iter()
        .flat_map(|m| m.evidence.iter().take(4).map(move |e| format!("{}: “{}”", m.id, e.text)))
        .collect();
    if !words.is_empty() {
        text += &format!("Evidence: {}\n", words.join("; "));
    }
    text += &format!("First response due: {}\n", format_ms(plan.due_at));
    text += &format!("Case: {case_url}\n");
    Notice {
        subject: format!("[Steward] Escalation: {topic_titles} — {}", short(&post.title)),
        text,
        event: json!({
            "event": "case.escalated",
            "case": {
                "id": case_id,
                "url": case_url,
                "topics": plan.topics,
                "policy_version": plan.policy_version,
                "owner": plan.owner,
                "responders": plan.responders,
                "loop_ins": plan.loop_ins,
                "due_at": plan.due_at,
            },
            "post": post,
            "evidence": evidence,
        }),
    }
}

/// The reminder to the owner before the first-response target.
pub fn reminder(policy: &Policy, case: &CaseBrief, kind: HandleKind) -> Notice {
    let topic_titles = titles(policy, &case.topics);
    let owner = person(&case.responders, case.owner.as_deref());
    let who = owner.map_or_else(|| mentions(&case.responders, kind), |p| p.mention(kind));
    let text = format!(
        "{who}: case `{}` ({topic_titles}) has no first response yet; the target is {}.\nCase: {}\n",
        case.id,
        format_ms(case.due_at),
        case.url
    );
    Notice {
        subject: format!("[Steward] Reminder: first response due on case {}", case.id),
        text,
        event: json!({"event": "case.reminder", "case": case}),
    }
}

/// The notice when the first-response target is missed: to the next approved responder and
/// the loop-ins.
pub fn missed(policy: &Policy, case: &CaseBrief, kind: HandleKind) -> Notice {
    let topic_titles = titles(policy, &case.topics);
    let next = next_responder(&case.responders, case.owner.as_deref());
    let mut to: Vec<ResolvedPerson> = next.into_iter().cloned().collect();
    to.extend(case.loop_ins.iter().cloned());
    let owner = person(&case.responders, case.owner.as_deref())
        .map_or("nobody".to_string(), |p| p.mention(kind));
    let text = format!(
        "{}: case `{}` ({topic_titles}) missed its first-response target of {}. Owner: {owner}. Please take it over or answer.\nCase: {}\n",
        mentions(&to, kind),
        case.id,
        format_ms(case.due_at),
        case.url
    );
    Notice {
        subject: format!("[Steward] Target missed on case {}", case.id),
        text,
        event: json!({
            "event": "case.target_missed",
            "case": case,
            "next_responder": next.map(|p| &p.person),
        }),
    }
}

fn short(title: &str) -> String {
    let t: String = title.chars().take(80).collect();
    if t.is_empty() {
        "(untitled)".to_string()
    } else {
        t
    }
}

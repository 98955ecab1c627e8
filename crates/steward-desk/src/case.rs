//! What a case is made of when a post is escalated, and the rules on owning and answering it.
//!
//! A case keeps the approved responders and loop-ins *as resolved at escalation* under the
//! policy version of that moment: a later policy change does not silently change who may
//! answer an open case.

use serde::{Deserialize, Serialize};
use steward_policy::{HandleKind, Person, Policy};

use crate::clock;

/// A person as resolved at escalation: why they are on the case, and their handles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedPerson {
    pub topic: String,
    pub role: String,
    pub role_title: String,
    pub person: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl ResolvedPerson {
    /// How to mention this person on a channel that uses the given handle.
    pub fn mention(&self, kind: HandleKind) -> String {
        match kind {
            HandleKind::Chat => self.chat.as_ref().map(|h| format!("@{h}")),
            HandleKind::Github => self.github.as_ref().map(|h| format!("@{h}")),
            HandleKind::Email => self.email.as_ref().map(|e| format!("{} <{e}>", self.name)),
        }
        .unwrap_or_else(|| self.name.clone())
    }
}

/// Everything the desk decides when it opens a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CasePlan {
    /// Sensitive topics, the strongest first.
    pub topics: Vec<String>,
    pub policy_version: String,
    /// Approved responders, topic by topic, in policy order, each person once per topic.
    pub responders: Vec<ResolvedPerson>,
    pub loop_ins: Vec<ResolvedPerson>,
    /// The first approved responder's first person, when the policy names anyone.
    pub owner: Option<String>,
    pub due_at: i64,
    pub remind_at: Option<i64>,
}

fn resolve(policy: &Policy, topic: &str, roles: &[String]) -> Vec<ResolvedPerson> {
    let mut out: Vec<ResolvedPerson> = Vec::new();
    for role in roles.iter().filter_map(|r| policy.role(r)) {
        for person in role.members.iter().filter_map(|m| policy.person(m)) {
            if out.iter().any(|p| p.person == person.id) {
                continue;
            }
            out.push(resolved(topic, &role.id, &role.title, person));
        }
    }
    out
}

fn resolved(topic: &str, role: &str, role_title: &str, p: &Person) -> ResolvedPerson {
    ResolvedPerson {
        topic: topic.to_string(),
        role: role.to_string(),
        role_title: role_title.to_string(),
        person: p.id.clone(),
        name: p.name.clone(),
        chat: p.chat.clone(),
        github: p.github.clone(),
        email: p.email.clone(),
    }
}

/// Plans a case for a post touching `topics` (strongest first), opened at `now`.
pub fn plan(policy: &Policy, topics: &[String], now: i64) -> CasePlan {
    let mut responders = Vec::new();
    let mut loop_ins = Vec::new();
    for topic in topics.iter().filter_map(|t| policy.topic(t)) {
        responders.extend(resolve(policy, &topic.id, &topic.responders));
        loop_ins.extend(resolve(policy, &topic.id, &topic.loop_in));
    }
    let owner = responders.first().map(|p| p.person.clone());
    let due_at = clock::first_response_due(policy, topics, now);
    CasePlan {
        topics: topics.to_vec(),
        policy_version: policy.version.clone(),
        responders,
        loop_ins,
        owner,
        remind_at: clock::reminder_at(policy, now, due_at),
        due_at,
    }
}

/// Why the desk refuses an action on a case. The message names the topic and its roles so
/// the person knows whom to ask.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only approved responders of {topics} may {action} on this case (approved roles: {roles}); ask one of them or the case owner")]
    NotApprovedResponder { action: &'static str, topics: String, roles: String },
    #[error("{person} is not an approved responder of {topics} (approved roles: {roles}), so cannot own this case")]
    OwnerNotApproved { person: String, topics: String, roles: String },
    #[error("the case is closed")]
    Closed,
}

/// The approved responders stored on a case.
pub fn is_case_responder(responders: &[ResolvedPerson], person: &str) -> bool {
    responders.iter().any(|p| p.person == person)
}

fn describe(responders: &[ResolvedPerson], topics: &[String]) -> (String, String) {
    let mut roles: Vec<String> = Vec::new();
    for p in responders {
        if !roles.contains(&p.role_title) {
            roles.push(p.role_title.clone());
        }
    }
    let roles = if roles.is_empty() { "none".to_string() } else { roles.join(", ") };
    (topics.join(", "), roles)
}

/// Whether `person` may draft, approve or close on a case with these responders. `None`
/// (a token without a person, or a role that may not answer at all) is refused like anyone
/// else who is not an approved responder: the refusal names the topics and their roles so
/// the caller knows whom to ask.
pub fn may_answer(
    responders: &[ResolvedPerson],
    topics: &[String],
    person: Option<&str>,
    action: &'static str,
) -> Result<(), Refusal> {
    if person.is_some_and(|person| is_case_responder(responders, person)) {
        return Ok(());
    }
    let (topics, roles) = describe(responders, topics);
    Err(Refusal::NotApprovedResponder { action, topics, roles })
}

/// Whether ownership may go to `new_owner`: only an approved responder of the case may own
/// it. (Who may *ask* is the server's `owner` handler: approved responders, or an admin.)
pub fn may_own(
    responders: &[ResolvedPerson],
    topics: &[String],
    new_owner: &str,
) -> Result<(), Refusal> {
    if is_case_responder(responders, new_owner) {
        return Ok(());
    }
    let (topics, roles) = describe(responders, topics);
    Err(Refusal::OwnerNotApproved { person: new_owner.to_string(), topics, roles })
}

/// Who is told when the first-response target is missed: the next approved responder after
/// the owner (the first one when the owner is last or not on the list).
pub fn next_responder<'a>(
    responders: &'a [ResolvedPerson],
    owner: Option<&str>,
) -> Option<&'a ResolvedPerson> {
    let mut people: Vec<&ResolvedPerson> = Vec::new();
    for p in responders {
        if !people.iter().any(|q| q.person == p.person) {
            people.push(p);
        }
    }
    let at = owner.and_then(|o| people.iter().position(|p| p.person == o));
    match at {
        Some(i) => people.iter().skip(i + 1).chain(people.iter().take(i)).next().copied(),
        None => people.first().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
name = "t"
version = "7"
effective = "2024-01-01"
[sla]
first_response = "2d"
reminder_before = "4h"
[[topics]]
id = "licensing"
title = "Licensing"
sensitive = true
responders = ["lead", "ceo"]
loop_in = ["legal"]
first_response = "1d"
[[topics]]
id = "bug_report"
title = "Bugs"
sensitive = false
[[roles]]
id = "lead"
title = "Lead PM"
members = ["ann", "bob"]
[[roles]]
id = "ceo"
title = "CEO"
members = ["cy", "ann"]
[[roles]]
id = "legal"
title = "VP Legal"
members = ["dee"]
[[people]]
id = "ann"
name = "Ann A"
chat = "ann.a"
email = "ann@example.org"
[[people]]
id = "bob"
name = "Bob B"
[[people]]
id = "cy"
name = "Cy C"
chat = "cy"
[[people]]
id = "dee"
name = "Dee D"
chat = "dee"
"#;

    fn policy() -> Policy {
        steward_policy::parse(POLICY).valid().unwrap().0
    }

    #[test]
    fn plan_resolves_people_in_order_with_the_first_as_owner() {
        let p = plan(&policy(), &["licensing".to_string()], 1_000);
        let people: Vec<&str> = p.responders.iter().map(|r| r.person.as_str()).collect();
        assert_eq!(people, ["ann", "bob", "cy"]);
        assert_eq!(p.owner.as_deref(), Some("ann"));
        assert_eq!(p.loop_ins[0].person, "dee");
        assert_eq!(p.due_at, 1_000 + 24 * 3_600_000);
        assert_eq!(p.remind_at, Some(1_000 + 20 * 3_600_000));
        assert_eq!(p.policy_version, "7");
    }

    #[test]
    fn mentions_use_the_channel_handle_or_fall_back_to_the_name() {
        let p = plan(&policy(), &["licensing".to_string()], 0);
        assert_eq!(p.responders[0].mention(HandleKind::Chat), "@ann.a");
        assert_eq!(p.responders[0].mention(HandleKind::Email), "Ann A <ann@example.org>");
        assert_eq!(p.responders[1].mention(HandleKind::Chat), "Bob B");
    }

    #[test]
    fn only_approved_responders_answer_or_own() {
        let p = plan(&policy(), &["licensing".to_string()], 0);
        assert!(may_answer(&p.responders, &p.topics, Some("cy"), "respond").is_ok());
        let refused = may_answer(&p.responders, &p.topics, Some("dee"), "respond").unwrap_err();
        let text = refused.to_string();
        assert!(text.contains("licensing") && text.contains("Lead PM, CEO"), "{text}");
        let nobody = may_answer(&p.responders, &p.topics, None, "respond").unwrap_err();
        assert!(matches!(nobody, Refusal::NotApprovedResponder { .. }), "{nobody:?}");
        assert!(may_own(&p.responders, &p.topics, "bob").is_ok());
        assert!(may_own(&p.responders, &p.topics, "dee").is_err());
    }

    #[test]
    fn next_responder_follows_the_owner_and_wraps() {
        let p = plan(&policy(), &["licensing".to_string()], 0);
        assert_eq!(next_responder(&p.responders, Some("ann")).unwrap().person, "bob");
        assert_eq!(next_responder(&p.responders, Some("cy")).unwrap().person, "ann");
        assert_eq!(next_responder(&p.responders, None).unwrap().person, "ann");
    }
}

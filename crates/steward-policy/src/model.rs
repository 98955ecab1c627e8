//! The policy's domain types, in the shape of the TOML file.

use serde::{Deserialize, Serialize};

use crate::Minutes;

/// A community response policy: one version of it, effective from a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Whose policy this is, e.g. "Example Community Response Policy".
    pub name: String,
    /// A version label, unique per policy history ("2", "2024-06", …).
    pub version: String,
    /// The day from which this version applies, `YYYY-MM-DD`.
    pub effective: String,
    /// The project's own domains: URLs and domain names under them are not redacted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_domains: Vec<String>,
    #[serde(default)]
    pub sla: Sla,
    /// Scores of the learned model are added to the rule scores with this weight
    /// (0 turns the model off).
    #[serde(default = "default_model_weight")]
    pub model_weight: f64,
    pub topics: Vec<Topic>,
    pub roles: Vec<Role>,
    pub people: Vec<Person>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tips: Vec<Tip>,
}

fn default_model_weight() -> f64 {
    1.0
}

/// Response clocks that apply when a topic sets none of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    /// First-response target for sensitive topics without their own.
    #[serde(with = "minutes_str")]
    pub first_response: Minutes,
    /// The owner is reminded this long before the target is missed.
    #[serde(with = "minutes_str")]
    pub reminder_before: Minutes,
}

impl Default for Sla {
    fn default() -> Self {
        Self { first_response: Minutes(48 * 60), reminder_before: Minutes(4 * 60) }
    }
}

/// A kind of post: a sensitive topic that only approved responders may answer, or a
/// non-sensitive kind anyone may answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub id: String,
    pub title: String,
    pub sensitive: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Approved-responder roles, in order: the first role's first person owns by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responders: Vec<String>,
    /// Roles kept informed of every case on this topic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loop_in: Vec<String>,
    /// The standard answer, when one has been agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Link to the official position, when one is documented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_url: Option<String>,
    /// First-response target; the policy's `sla.first_response` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_minutes_str")]
    pub first_response: Option<Minutes>,
    /// Score a post needs on this topic's cues to be classified under it.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Triage cues: weighted phrases and patterns; negative weights are negative cues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<Cue>,
}

fn default_threshold() -> f64 {
    1.0
}

/// A group of triage cues sharing one weight.
///
/// Phrases match whole words, ignoring ASCII case. Patterns are regular expressions (the
/// `regex` crate's syntax), case-insensitive. Each distinct phrase or pattern counts once
/// per post, however often it occurs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cue {
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// Only the title is searched for this cue when set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub title_only: bool,
    /// The most this group may add to (or, for negative cues, take from) a topic's score,
    /// however many of its cues match: weak words piling up should not escalate a post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
}

/// A role named in the policy (CEO, Head of Security, …) and the people who hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A person and their handle on each channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// Chat username (Mattermost/Slack), without the `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// GitHub login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A response-writing tip, with what a draft must avoid or contain to follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Patterns (case-insensitive regex) a draft must not contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub avoid: Vec<String>,
    /// Patterns of which a draft must contain at least one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<String>,
    /// A built-in check: `"personal_data"` flags anything the redactor would redact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

/// A channel on which a person has a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandleKind {
    Chat,
    Github,
    Email,
}

impl Person {
    pub fn handle(&self, kind: HandleKind) -> Option<&str> {
        match kind {
            HandleKind::Chat => self.chat.as_deref(),
            HandleKind::Github => self.github.as_deref(),
            HandleKind::Email => self.email.as_deref(),
        }
    }
}

impl Policy {
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.id == id)
    }

    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// The people holding the given roles, in role order, each once.
    pub fn people_of<'a>(&'a self, roles: &[String]) -> Vec<&'a Person> {
        let mut out: Vec<&Person> = Vec::new();
        for role in roles.iter().filter_map(|r| self.role(r)) {
            for person in role.members.iter().filter_map(|m| self.person(m)) {
                if !out.iter().any(|p| p.id == person.id) {
                    out.push(person);
                }
            }
        }
        out
    }

    /// The approved responders of a topic, in order; the first is the default owner.
    pub fn responders_of(&self, topic: &str) -> Vec<&Person> {
        self.topic(topic).map_or_else(Vec::new, |t| self.people_of(&t.responders))
    }

    /// The people looped in on a topic.
    pub fn loop_ins_of(&self, topic: &str) -> Vec<&Person> {
        self.topic(topic).map_or_else(Vec::new, |t| self.people_of(&t.loop_in))
    }

    /// Whether the person holds a role approved to respond on the topic.
    pub fn is_approved_responder(&self, person: &str, topic: &str) -> bool {
        self.responders_of(topic).iter().any(|p| p.id == person)
    }

    /// The first-response target of a topic.
    pub fn first_response(&self, topic: &str) -> Minutes {
        self.topic(topic).and_then(|t| t.first_response).unwrap_or(self.sla.first_response)
    }

    /// Serialises to the TOML file format.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a policy always serialises to TOML")
    }
}

mod minutes_str {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Minutes;

    pub fn serialize<S: Serializer>(m: &Minutes, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(m)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Minutes, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

mod opt_minutes_str {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Minutes;

    pub fn serialize<S: Serializer>(m: &Option<Minutes>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            Some(m) => s.collect_str(m),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Minutes>, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

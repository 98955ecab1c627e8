//! A post as triage sees it, and what triage says about it.

use serde::{Deserialize, Serialize};

use crate::redact::PiiFinding;

/// A community post: an issue, a forum topic, a chat message, an email.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// Which part of a post a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Body,
}

impl Post {
    pub fn field(&self, field: Field) -> &str {
        match field {
            Field::Title => &self.title,
            Field::Body => &self.body,
        }
    }
}

/// A matched cue: the words and where they are. Offsets are UTF-8 byte offsets into the
/// field, always on character boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub field: Field,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// A sensitive topic a post touches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMatch {
    pub id: String,
    /// The topic's score, rounded to two decimals.
    pub score: f64,
    pub evidence: Vec<Evidence>,
}

/// The post's title and body with personal data replaced by typed placeholders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Redacted {
    pub title: String,
    pub body: String,
}

/// What triage says about one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    pub id: String,
    pub sensitive: bool,
    /// Sensitive topics, highest score first; empty when the post is not sensitive.
    pub topics: Vec<TopicMatch>,
    /// The non-sensitive kind, when no sensitive topic applies.
    pub kind: Option<String>,
    pub pii: Vec<PiiFinding>,
    pub redacted: Redacted,
}

impl Triage {
    /// The labels the verdict gives the post, as labeled sets write them (see `eval`): its
    /// sensitive topics, highest score first, or else its one kind.
    pub fn labels(&self) -> Vec<String> {
        if self.sensitive {
            self.topics.iter().map(|m| m.id.clone()).collect()
        } else {
            self.kind.iter().cloned().collect()
        }
    }
}

//! Labeled posts: the JSON Lines format used for evaluation and training, and the project's
//! own labeled set, shipped inside the binary to train the default model.

use serde::{Deserialize, Serialize};

use crate::model::Example;
use crate::post::Post;

/// One labeled post: `{"id", "title", "body", "labels": [...]}` plus optional `source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledPost {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub labels: Vec<String>,
}

/// A line that is not a labeled post.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct BadLine {
    pub line: usize,
    pub message: String,
}

/// Parses JSON Lines of labeled posts; blank lines are skipped.
pub fn parse_jsonl(text: &str) -> Result<Vec<LabeledPost>, BadLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<LabeledPost>(l)
                .map_err(|e| BadLine { line: i + 1, message: e.to_string() })
        })
        .collect()
}

/// The project's own labeled set: posts written for Steward in the manner of real public
/// community posts, each a paraphrase of the post named in its `source`.
pub const BUILTIN_JSONL: &str = include_str!("../data/labeled.jsonl");

/// The project's own labeled set, parsed.
pub fn builtin() -> Vec<LabeledPost> {
    parse_jsonl(BUILTIN_JSONL).expect("the shipped labeled set is valid (checked by a test)")
}

/// The post as triage reads it (its labels left out).
impl From<&LabeledPost> for Post {
    fn from(p: &LabeledPost) -> Self {
        Post {
            id: p.id.clone(),
            title: p.title.clone(),
            body: p.body.clone(),
            source: p.source.clone(),
            ..Post::default()
        }
    }
}

impl From<&LabeledPost> for Example {
    fn from(p: &LabeledPost) -> Self {
        Example { title: p.title.clone(), body: p.body.clone(), labels: p.labels.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_set_is_valid_and_covers_every_label() {
        let posts = parse_jsonl(BUILTIN_JSONL).unwrap();
        assert!(posts.len() >= 150, "only {} posts", posts.len());
        for label in
            steward_policy::SENSITIVE_TOPICS.iter().chain(&steward_policy::NON_SENSITIVE_KINDS)
        {
            let n = posts.iter().filter(|p| p.labels.iter().any(|l| l == label)).count();
            assert!(n >= 10, "label {label} has only {n} posts");
        }
        for p in &posts {
            assert!(p.source.as_deref().is_some_and(|s| s.starts_with("https://")), "{}", p.id);
            let sensitive = p
                .labels
                .iter()
                .filter(|l| steward_policy::SENSITIVE_TOPICS.contains(&l.as_str()))
                .count();
            assert!(sensitive == p.labels.len() || p.labels.len() == 1, "{}: mixed labels", p.id);
        }
    }

    #[test]
    fn bad_line_names_its_number() {
        let err = parse_jsonl("{\"id\":\"a\",\"labels\":[]}\n\nnot json\n").unwrap_err();
        assert_eq!(err.line, 3);
    }
}

//! Triage of community posts.
//!
//! [`Triager`] is built once from a [`Policy`] and classifies posts:
//! which sensitive topics a post touches (each with a score and the evidence, the matched
//! words and their offsets), or else which non-sensitive kind it is. [`redact`] finds and
//! replaces personal data; [`lint`] checks a draft response against the policy's tips;
//! [`eval`] measures a triager against labeled posts. Nothing here does I/O.

pub mod classify;
pub mod eval;
pub mod labeled;
pub mod lint;
pub mod model;
mod patterns;
mod phrases;
pub mod post;
pub mod redact;

pub use classify::{Triager, TriagerError};
pub use post::{Evidence, Field, Post, Redacted, TopicMatch, Triage};

use steward_policy::Policy;

/// The model trained on the project's own labeled set, trained once per process.
pub fn builtin_model() -> &'static model::Model {
    static MODEL: std::sync::OnceLock<model::Model> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let examples: Vec<model::Example> = labeled::builtin().iter().map(Into::into).collect();
        model::Model::train(&examples)
    })
}

/// The triager a fresh desk uses: the policy's cues plus the model trained on the project's
/// own labeled set.
pub fn default_triager(policy: &Policy) -> Result<Triager, TriagerError> {
    Ok(Triager::new(policy)?.with_model(builtin_model()))
}

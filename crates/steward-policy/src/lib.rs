//! The community response policy as code.
//!
//! A [`Policy`] names the topics a community post can touch, which roles may answer each
//! sensitive topic (in order: the first is the default owner), who is looped in, the people
//! behind each role and their handles per channel, the response-writing tips, the triage
//! cues per topic and the response clocks. This crate parses it from TOML with exact
//! positions ([`parse`]), validates it ([`validate`]), imports and exports handbook pages
//! ([`handbook`]) and diffs two versions ([`diff`]). It does no I/O: callers hand it text.

pub mod diff;
pub mod duration;
pub mod handbook;
mod model;
mod parse;
pub mod source;
mod validate;

pub use duration::Minutes;
pub use model::*;
pub use parse::{parse, ParseOutcome};
pub use source::{Diagnostic, Seg, Severity, Span};
pub use validate::validate;

/// The sensitive topic ids of the standard policy, in handbook order.
pub const SENSITIVE_TOPICS: [&str; 9] = [
    "privacy_telemetry",
    "product_regulation",
    "licensing",
    "packaging",
    "workplace",
    "security_vulnerability",
    "illicit_use",
    "marketing_regulation",
    "government_request",
];

/// The non-sensitive kinds a post falls into when it touches no sensitive topic.
pub const NON_SENSITIVE_KINDS: [&str; 4] =
    ["feature_request", "troubleshooting", "bug_report", "feedback"];

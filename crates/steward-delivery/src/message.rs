//! The rendered message an outbox item carries.

use serde::{Deserialize, Serialize};

/// A notification rendered for one channel, stored as the outbox item's payload.
///
/// The desk renders it when it writes the outbox (in the case's transaction), so a retry
/// days later sends exactly what was decided then, whatever the policy says by now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Email subject; chat channels do not show it.
    pub subject: String,
    /// Markdown, with the @-mentions already resolved to this channel's handles.
    pub text: String,
    /// Structured data for the generic webhook, sent as its JSON body.
    #[serde(default)]
    pub event: serde_json::Value,
}

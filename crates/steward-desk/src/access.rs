//! Access roles and the one table that says which role may do which action.
//!
//! Case-level rules (only approved responders of a case's topics may answer it) are in
//! [`crate::case`]; this table is the coarse gate every endpoint goes through first.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an API token lets its holder do on the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessRole {
    /// Policy, people, tokens, audit log: everything.
    Admin,
    /// Sees incoming posts, escalates, relabels.
    Triager,
    /// A person holding a policy role: owns and answers cases on their topics.
    Responder,
    /// Reads posts and cases.
    Viewer,
}

impl AccessRole {
    pub const ALL: [AccessRole; 4] =
        [AccessRole::Admin, AccessRole::Triager, AccessRole::Responder, AccessRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Admin => "admin",
            AccessRole::Triager => "triager",
            AccessRole::Responder => "responder",
            AccessRole::Viewer => "viewer",
        }
    }
}

impl fmt::Display for AccessRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown access role `{0}` (known: admin, triager, responder, viewer)")]
pub struct UnknownRole(pub String);

impl FromStr for AccessRole {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// Everything an endpoint can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ReadPosts,
    SubmitPost,
    Relabel,
    ReadCases,
    Escalate,
    /// Take or hand over ownership; the case rules then require an approved responder.
    ChangeOwner,
    /// Draft, approve or close; the case rules then require an approved responder.
    Answer,
    ReadAudit,
    ReadPolicy,
    /// List and revoke API tokens.
    ManageTokens,
}

/// Who is asking: the person behind the token (admins and bots may have none) and the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub person: Option<String>,
    pub role: AccessRole,
    /// A short label for logs and the audit trail (`person`, or `token:<id>`).
    pub label: String,
}

/// Whether the role may attempt the action at all.
pub fn permits(role: AccessRole, action: Action) -> bool {
    use AccessRole::*;
    use Action::*;
    match action {
        ReadPosts | ReadCases | ReadPolicy => true,
        SubmitPost | Relabel | Escalate => matches!(role, Admin | Triager | Responder),
        ChangeOwner | Answer => matches!(role, Admin | Triager | Responder),
        ReadAudit | ManageTokens => role == Admin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_only_read_and_only_admins_read_the_audit_log() {
        for role in AccessRole::ALL {
            assert!(permits(role, Action::ReadCases));
            assert_eq!(permits(role, Action::ReadAudit), role == AccessRole::Admin);
            assert_eq!(permits(role, Action::ManageTokens), role == AccessRole::Admin);
            assert_eq!(permits(role, Action::SubmitPost), role != AccessRole::Viewer);
        }
        assert_eq!("triager".parse::<AccessRole>().unwrap(), AccessRole::Triager);
        assert!("root".parse::<AccessRole>().is_err());
    }
}

//! Time as the desk sees it: milliseconds since the Unix epoch from a [`Clock`] the caller
//! provides, so tests drive timers by moving a [`ManualClock`] instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use steward_policy::{Minutes, Policy};

pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// A clock that only moves when told to.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_ms)))
    }

    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// When the first response is due on a case about these topics: the tightest target.
pub fn first_response_due(policy: &Policy, topics: &[String], opened_at: i64) -> i64 {
    let target =
        topics.iter().map(|t| policy.first_response(t)).min().unwrap_or(policy.sla.first_response);
    opened_at + minutes_ms(target)
}

/// When to remind the owner: `reminder_before` ahead of the target, if that is still ahead.
pub fn reminder_at(policy: &Policy, opened_at: i64, due_at: i64) -> Option<i64> {
    let at = due_at - minutes_ms(policy.sla.reminder_before);
    (at > opened_at).then_some(at)
}

pub fn minutes_ms(m: Minutes) -> i64 {
    m.as_secs() * 1000
}

/// Milliseconds as `YYYY-MM-DD HH:MM UTC`, for messages.
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

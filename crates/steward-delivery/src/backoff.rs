//! When to try again after a failed attempt.
//!
//! The delay doubles from `base_ms` and is capped at `max_ms`; after `max_attempts` failed
//! attempts the item is given up. There is deliberately no jitter: tests and operators can
//! predict `next_attempt_at` exactly, and jitter buys little here because items fail at
//! different moments anyway (they were written at different times), each worker claims a
//! bounded batch under a lease, and a receiver coming back up is hit by at most
//! `batch` requests per worker per poll, not by a synchronized herd.

use serde::{Deserialize, Serialize};

/// Exponential backoff: `base_ms * 2^(failures - 1)`, capped at `max_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backoff {
    pub base_ms: i64,
    pub max_ms: i64,
    pub max_attempts: i64,
}

impl Default for Backoff {
    /// 5 s, 10 s, 20 s, … capped at one hour, 20 attempts: about 14 hours of retries.
    fn default() -> Self {
        Backoff { base_ms: 5_000, max_ms: 3_600_000, max_attempts: 20 }
    }
}

impl Backoff {
    /// The delay before the next attempt after `failures` failed attempts (the one that just
    /// failed included, so the first call has `failures == 1`), or `None` when that was
    /// the last attempt allowed.
    pub fn next_delay(&self, failures: i64) -> Option<i64> {
        if failures >= self.max_attempts {
            return None;
        }
        let exponent = failures.saturating_sub(1).clamp(0, 62) as u32;
        let delay = self.base_ms.max(0).saturating_mul(1_i64 << exponent.min(62));
        Some(delay.min(self.max_ms).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_then_gives_up() {
        let b = Backoff { base_ms: 100, max_ms: 1_000, max_attempts: 6 };
        let delays: Vec<_> = (1..=7).map(|n| b.next_delay(n)).collect();
        assert_eq!(delays, [Some(100), Some(200), Some(400), Some(800), Some(1_000), None, None]);
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let b = Backoff { base_ms: i64::MAX / 2, max_ms: i64::MAX, max_attempts: i64::MAX };
        assert_eq!(b.next_delay(1_000), Some(i64::MAX));
        assert_eq!(b.next_delay(0), Some(i64::MAX / 2));
    }
}

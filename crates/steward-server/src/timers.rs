//! Response clocks: one step finds cases whose reminder or first-response target is due and
//! sends the notices. Firing is claimed in the store, so several desk instances sharing a
//! database send each notice once.

use steward_desk::case::ResolvedPerson;
use steward_desk::notice::{self, CaseBrief};
use steward_store::{NewNotification, TimerKind};

use crate::error::AppError;
use crate::state::AppState;

/// Fires every due timer at `now`; returns how many fired.
pub async fn run_once(state: &AppState, now: i64) -> Result<usize, AppError> {
    let mut fired = 0;
    for timer in state.store().due_timers(now).await? {
        let responders: Vec<ResolvedPerson> =
            serde_json::from_value(timer.responders.clone()).map_err(AppError::internal)?;
        let loop_ins: Vec<ResolvedPerson> =
            serde_json::from_value(timer.loop_ins.clone()).map_err(AppError::internal)?;
        let brief = CaseBrief {
            id: timer.case_id.clone(),
            url: format!("{}/api/v1/cases/{}", state.settings().public_url(), timer.case_id),
            topics: timer.topics.clone(),
            owner: timer.owner.clone(),
            responders,
            loop_ins,
            due_at: timer.due_at.unwrap_or(now),
        };
        let mut notifications = Vec::new();
        for channel in &state.settings().channels {
            if !brief.topics.iter().any(|t| channel.wants_topic(t)) {
                continue;
            }
            let n = match timer.kind {
                TimerKind::Reminder => {
                    notice::reminder(state.policy(), &brief, channel.handle_kind())
                }
                TimerKind::Breach => notice::missed(state.policy(), &brief, channel.handle_kind()),
            };
            notifications.push(NewNotification {
                channel: channel.id().to_string(),
                purpose: timer.kind.as_str().to_string(),
                payload: serde_json::to_value(n).map_err(AppError::internal)?,
            });
        }
        if state.store().fire_timer(&timer.case_id, timer.kind, notifications, now).await? {
            fired += 1;
        }
    }
    if fired > 0 {
        state.wake_delivery();
    }
    Ok(fired)
}

//! Case timers: which open, unanswered cases have a reminder or a missed target due, and
//! firing one exactly once even when several instances race for it.
//!
//! Firing is one `UPDATE … WHERE reminded_at IS NULL` (or `breached_at`): the instance
//! whose update changes the row enqueues the notifications in the same transaction; every
//! other instance sees zero rows changed (PostgreSQL re-checks the condition after waiting
//! for the winner) and sends nothing.

use serde_json::json;

use crate::cases::{add_timeline, CASE_COLS};
use crate::outbox::enqueue_in_tx;
use crate::{audit, rows, DueTimer, NewAudit, NewNotification, Store, StoreError, TimerKind};

/// Most timers returned by one `due_timers` call; the rest come on the next tick.
const DUE_BATCH: i64 = 500;

impl Store {
    /// Open cases with no first response whose reminder (`remind_at <= now`, not yet
    /// reminded) or target (`due_at <= now`, not yet breached) is due. When both are due
    /// only the breach is returned: a reminder after the target was missed helps no one,
    /// and firing the breach marks the reminder done.
    #[tracing::instrument(skip_all, fields(now = now))]
    pub async fn due_timers(&self, now: i64) -> Result<Vec<DueTimer>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLS} FROM cases \
             WHERE state = 'open' AND first_response_at IS NULL \
               AND ((remind_at IS NOT NULL AND remind_at <= $1 AND reminded_at IS NULL) \
                 OR (due_at IS NOT NULL AND due_at <= $1 AND breached_at IS NULL)) \
             ORDER BY created_at, id LIMIT $2"
        );
        let found = sqlx::query(&sql).bind(now).bind(DUE_BATCH).fetch_all(&self.reader).await?;
        let mut due = Vec::with_capacity(found.len());
        for row in &found {
            let due_at = rows::opt_int(row, "due_at")?;
            let breach_due =
                due_at.is_some_and(|t| t <= now) && rows::opt_int(row, "breached_at")?.is_none();
            let kind = if breach_due { TimerKind::Breach } else { TimerKind::Reminder };
            due.push(DueTimer {
                case_id: rows::text(row, "id")?,
                kind,
                owner: rows::opt_text(row, "owner")?,
                topics: rows::strings(row, "topics")?,
                due_at,
                remind_at: rows::opt_int(row, "remind_at")?,
                thread_key: rows::text(row, "thread_key")?,
                policy_version: rows::text(row, "policy_version")?,
                responders: rows::json(row, "responders")?,
                loop_ins: rows::json(row, "loop_ins")?,
            });
        }
        Ok(due)
    }

    /// Marks the timer fired and enqueues `notifications`, in one transaction. Returns
    /// `false`, and writes nothing, when it is not due, was already fired (by this or
    /// another instance), or the case was answered or closed meanwhile.
    #[tracing::instrument(skip_all, fields(case_id = %case_id, kind = kind.as_str()))]
    pub async fn fire_timer(
        &self,
        case_id: &str,
        kind: TimerKind,
        notifications: Vec<NewNotification>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = match kind {
            TimerKind::Reminder => {
                "UPDATE cases SET reminded_at = $1 \
                 WHERE id = $2 AND state = 'open' AND first_response_at IS NULL \
                   AND reminded_at IS NULL AND remind_at IS NOT NULL AND remind_at <= $1"
            }
            TimerKind::Breach => {
                "UPDATE cases SET breached_at = $1, reminded_at = COALESCE(reminded_at, $1) \
                 WHERE id = $2 AND state = 'open' AND first_response_at IS NULL \
                   AND breached_at IS NULL AND due_at IS NOT NULL AND due_at <= $1"
            }
        };
        let mut tx = self.begin_write().await?;
        let fired =
            sqlx::query(sql).bind(now).bind(case_id).execute(&mut *tx).await?.rows_affected();
        if fired == 0 {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?;
            return match exists {
                None => Err(StoreError::not_found("case", case_id)),
                Some(_) => Ok(false),
            };
        }
        enqueue_in_tx(&mut tx, Some(case_id), &notifications, now).await?;
        let (event, action) = match kind {
            TimerKind::Reminder => ("reminder_sent", "case.reminder"),
            TimerKind::Breach => ("target_missed", "case.breach"),
        };
        let channels: Vec<&str> = notifications.iter().map(|n| n.channel.as_str()).collect();
        add_timeline(
            &mut tx,
            case_id,
            now,
            "steward",
            event,
            json!({"notifications": notifications.len(), "channels": channels}),
        )
        .await?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: "steward".into(),
                action: action.into(),
                subject: case_id.into(),
                before: None,
                after: Some(json!({"at": now, "notifications": notifications.len()})),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The earliest pending reminder or target among open, unanswered cases, so a timer
    /// loop knows how long it may sleep.
    #[tracing::instrument(skip_all)]
    pub async fn next_timer_at(&self) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(CASE WHEN reminded_at IS NULL THEN remind_at END) AS r, \
                    MIN(CASE WHEN breached_at IS NULL THEN due_at END) AS d \
             FROM cases WHERE state = 'open' AND first_response_at IS NULL",
        )
        .fetch_one(&self.reader)
        .await?;
        let r = rows::opt_int(&row, "r")?;
        let d = rows::opt_int(&row, "d")?;
        Ok(match (r, d) {
            (Some(r), Some(d)) => Some(r.min(d)),
            (r, d) => r.or(d),
        })
    }
}

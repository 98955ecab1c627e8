//! The durable outbox: notifications written in the same transaction as the change that
//! causes them, claimed by delivery workers under a lease, and every attempt kept.
//!
//! A claim sets `lease_until = now + lease_ms` and `leased_by = worker` on rows that are
//! pending, due, and not leased (or whose lease has run out). The guarding condition is in
//! the `UPDATE`'s own `WHERE`, so on PostgreSQL a worker that waited for a concurrent claim
//! re-checks it against the new row version and skips the row; `FOR UPDATE SKIP LOCKED`
//! in the candidate query keeps workers from waiting on each other at all. On SQLite the
//! single writer connection serializes claims. A worker that outlives its lease loses the
//! row to whoever claims it next, and its `record_attempt` is refused with `Conflict`.

use sqlx::AnyConnection;

use crate::{
    rows, AttemptOutcome, AttemptRecord, Backend, DeliveryRecord, NewNotification, OutboxCounts,
    OutboxItem, Store, StoreError,
};

/// Inserts pending rows, due now, in one statement.
pub(crate) async fn enqueue_in_tx(
    conn: &mut AnyConnection,
    case_id: Option<&str>,
    notifications: &[NewNotification],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in notifications.chunks(ENQUEUE_CHUNK) {
        let sql = format!(
            "INSERT INTO outbox (case_id, channel, purpose, payload, status, attempts, \
             next_attempt_at, created_at) VALUES {}",
            rows::values_placeholders(conn, chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql).persistent(chunk.len() <= 4);
        for n in chunk {
            query = query
                .bind(case_id)
                .bind(&n.channel)
                .bind(&n.purpose)
                .bind(n.payload.to_string())
                .bind("pending")
                .bind(0_i64)
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Notifications per insert statement.
const ENQUEUE_CHUNK: usize = 200;

/// A case's outbox rows with their attempts, oldest first.
pub(crate) async fn load_deliveries(
    conn: &mut AnyConnection,
    case_id: &str,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, channel, purpose, status, attempts, last_error, created_at, delivered_at, next_attempt_at \
         FROM outbox WHERE case_id = $1 ORDER BY id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let attempts = sqlx::query(
        "SELECT a.outbox_id, a.at, a.ok, a.error FROM delivery_attempts a \
         JOIN outbox o ON o.id = a.outbox_id WHERE o.case_id = $1 ORDER BY a.id",
    )
    .bind(case_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut deliveries = rows
        .iter()
        .map(|row| {
            Ok(DeliveryRecord {
                id: rows::int(row, "id")?,
                channel: rows::text(row, "channel")?,
                purpose: rows::text(row, "purpose")?,
                status: rows::text(row, "status")?,
                attempts: rows::int(row, "attempts")?,
                last_error: rows::opt_text(row, "last_error")?,
                created_at: rows::int(row, "created_at")?,
                delivered_at: rows::opt_int(row, "delivered_at")?,
                next_attempt_at: rows::int(row, "next_attempt_at")?,
                attempt_log: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    for row in &attempts {
        let outbox_id = rows::int(row, "outbox_id")?;
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == outbox_id) {
            d.attempt_log.push(AttemptRecord {
                at: rows::int(row, "at")?,
                ok: rows::flag(row, "ok")?,
                error: rows::opt_text(row, "error")?,
            });
        }
    }
    Ok(deliveries)
}

impl Store {
    /// Enqueues notifications outside any other change (e.g. a non-compliance notice).
    #[tracing::instrument(skip_all, fields(case_id = ?case_id, count = notifications.len()))]
    pub async fn enqueue(
        &self,
        case_id: Option<&str>,
        notifications: Vec<NewNotification>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        enqueue_in_tx(&mut tx, case_id, &notifications, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Leases up to `limit` due rows to `worker` until `now + lease_ms`. A row is never
    /// handed to two workers while a lease on it is live. Returned oldest first.
    #[tracing::instrument(skip_all, fields(worker = %worker, limit = limit))]
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let skip_locked = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // The picked ids are materialized first: as a plain `IN (SELECT … LIMIT n)`,
        // PostgreSQL may run the subquery again per row and lease more than `limit` rows.
        let sql = format!(
            "WITH picked AS MATERIALIZED (SELECT id FROM outbox \
                          WHERE status = 'pending' AND next_attempt_at <= $3 \
                            AND (lease_until IS NULL OR lease_until <= $3) \
                          ORDER BY next_attempt_at, id LIMIT $4 {skip_locked}) \
             UPDATE outbox SET lease_until = $1, leased_by = $2 \
             WHERE id IN (SELECT id FROM picked) \
               AND status = 'pending' AND next_attempt_at <= $3 \
               AND (lease_until IS NULL OR lease_until <= $3) \
             RETURNING id, case_id, channel, purpose, payload, attempts"
        );
        let claimed = sqlx::query(&sql)
            .bind(now.saturating_add(lease_ms.max(0)))
            .bind(worker)
            .bind(now)
            .bind(limit.clamp(0, 1000))
            .fetch_all(&self.writer)
            .await?;
        let mut items = claimed
            .iter()
            .map(|row| {
                Ok(OutboxItem {
                    id: rows::int(row, "id")?,
                    case_id: rows::opt_text(row, "case_id")?,
                    channel: rows::text(row, "channel")?,
                    purpose: rows::text(row, "purpose")?,
                    payload: rows::json(row, "payload")?,
                    attempts: rows::int(row, "attempts")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        items.sort_by_key(|item| item.id);
        Ok(items)
    }

    /// Records one delivery attempt on a row leased by `worker` and releases the lease.
    /// `Conflict` when the row is no longer leased by `worker` (the lease ran out and
    /// another worker took it) or is no longer pending.
    #[tracing::instrument(skip_all, fields(outbox_id = outbox_id, worker = %worker))]
    pub async fn record_attempt(
        &self,
        outbox_id: i64,
        worker: &str,
        now: i64,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let recorded = record_in_tx(&mut tx, outbox_id, worker, now, &outcome).await?;
        tx.commit().await?;
        recorded
    }

    /// Records the attempts of one delivery step in one transaction (one disk flush for
    /// the whole step instead of one per message). Each attempt gets its own outcome, as
    /// [`Store::record_attempt`] gives it: a row whose lease was lost is left alone and the
    /// others are recorded all the same. The error is for the transaction as a whole.
    #[tracing::instrument(skip_all, fields(worker = %worker, count = attempts.len()))]
    pub async fn record_attempts(
        &self,
        worker: &str,
        now: i64,
        attempts: &[(i64, AttemptOutcome)],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut results = Vec::with_capacity(attempts.len());
        for (outbox_id, outcome) in attempts {
            results.push(record_in_tx(&mut tx, *outbox_id, worker, now, outcome).await?);
        }
        tx.commit().await?;
        Ok(results)
    }

    #[tracing::instrument(skip_all)]
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
            .fetch_all(&self.reader)
            .await?;
        let mut counts = OutboxCounts::default();
        for row in &rows {
            let n = rows::int(row, "n")?;
            match rows::text(row, "status")?.as_str() {
                "pending" => counts.pending = n,
                "delivered" => counts.delivered = n,
                "failed" => counts.failed = n,
                other => return Err(StoreError::Corrupt(format!("unknown outbox status {other}"))),
            }
        }
        Ok(counts)
    }

    /// When the next pending row can be claimed (its `next_attempt_at`, or the end of its
    /// lease if later), so a worker knows how long it may sleep.
    #[tracing::instrument(skip_all)]
    pub async fn next_delivery_at(&self) -> Result<Option<i64>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
             THEN lease_until ELSE next_attempt_at END) FROM outbox WHERE status = 'pending'",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(next)
    }
}

/// One attempt, inside the caller's transaction. The outer error fails the transaction;
/// the inner one is this attempt's alone (its row is gone, or leased by another worker).
async fn record_in_tx(
    conn: &mut AnyConnection,
    outbox_id: i64,
    worker: &str,
    now: i64,
    outcome: &AttemptOutcome,
) -> Result<Result<(), StoreError>, StoreError> {
    let (status, error, next_attempt_at, delivered_at) = match outcome {
        AttemptOutcome::Delivered => ("delivered", None, None, Some(now)),
        AttemptOutcome::Retry { error, next_attempt_at } => {
            ("pending", Some(error.as_str()), Some(*next_attempt_at), None)
        }
        AttemptOutcome::GiveUp { error } => ("failed", Some(error.as_str()), None, None),
    };
    let updated = sqlx::query(
        "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, \
         next_attempt_at = COALESCE($3, next_attempt_at), delivered_at = $4, \
         lease_until = NULL, leased_by = NULL \
         WHERE id = $5 AND leased_by = $6 AND status = 'pending'",
    )
    .bind(status)
    .bind(error)
    .bind(next_attempt_at)
    .bind(delivered_at)
    .bind(outbox_id)
    .bind(worker)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE id = $1")
            .bind(outbox_id)
            .fetch_optional(&mut *conn)
            .await?;
        return Ok(Err(match exists {
            None => StoreError::not_found("outbox row", outbox_id.to_string()),
            Some(_) => StoreError::Conflict(format!(
                "outbox row {outbox_id} is not leased by {worker}: the lease was lost"
            )),
        }));
    }
    sqlx::query(
        "INSERT INTO delivery_attempts (outbox_id, at, worker, ok, error) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(outbox_id)
    .bind(now)
    .bind(worker)
    .bind(rows::flag_int(matches!(outcome, AttemptOutcome::Delivered)))
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(Ok(()))
}

//! The append-only, hash-chained audit log: appending inside a caller's transaction,
//! listing, and verifying the chain.
//!
//! Entry `n` stores `prev_hash` (the hash of entry `n-1`, or 64 zeros for the first) and
//! `hash = hex(sha256(prev_hash || canonical_json(entry)))`, where the entry is the object
//! `{seq, at, actor, action, subject, before, after}` written with sorted keys and no
//! whitespace. Changing, removing or reordering any entry breaks the chain from there on;
//! `audit_head` remembers the last seq and hash so that cutting off the tail is caught too.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use crate::{rows, AuditRecord, AuditVerification, NewAudit, Page, Row, Store, StoreError};

pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Writes `v` with object keys sorted and no whitespace, so the same value always has the
/// same bytes whatever map order serde_json was built with.
pub(crate) fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(value) = map.get(key) {
                    write_canonical(value, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> String {
    let entry = json!({
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "before": before,
        "after": after,
    });
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(canonical_json(&entry).as_bytes());
    hex::encode(hasher.finalize())
}

/// Appends entries, each with its own time, inside the caller's transaction. Call it
/// last in the transaction: it locks the `audit_head` row until commit, which serializes
/// appends across connections and instances, so keep what follows it short.
pub(crate) async fn append_entries(
    conn: &mut AnyConnection,
    entries: &[(&NewAudit, i64)],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    // A no-op update takes the row lock on PostgreSQL (SQLite's writer lock is held already).
    let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let mut seq = rows::int(&head, "seq")?;
    let mut prev_hash = rows::text(&head, "hash")?;
    let mut chained = Vec::with_capacity(entries.len());
    for &(entry, at) in entries {
        seq += 1;
        let hash = entry_hash(
            &prev_hash,
            seq,
            at,
            &entry.actor,
            &entry.action,
            &entry.subject,
            entry.before.as_ref(),
            entry.after.as_ref(),
        );
        chained.push((seq, at, entry, std::mem::replace(&mut prev_hash, hash.clone()), hash));
    }
    // Many rows per statement: one round trip for a whole group commit.
    for chunk in chained.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO audit (seq, at, actor, action, subject, before_json, after_json, prev_hash, hash) \
             VALUES {}",
            rows::values_placeholders(conn, chunk.len(), 9)
        );
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for (seq, at, entry, prev, hash) in chunk {
            query = query
                .bind(*seq)
                .bind(*at)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.subject)
                .bind(entry.before.as_ref().map(canonical_json))
                .bind(entry.after.as_ref().map(canonical_json))
                .bind(prev)
                .bind(hash);
        }
        query.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends one entry inside the caller's transaction; see [`append_entries`].
pub(crate) async fn append_in_tx(
    conn: &mut AnyConnection,
    entry: &NewAudit,
    now: i64,
) -> Result<(), StoreError> {
    append_entries(conn, &[(entry, now)]).await
}

/// Appends entries that share one time; see [`append_entries`].
pub(crate) async fn append_all_in_tx(
    conn: &mut AnyConnection,
    entries: &[NewAudit],
    now: i64,
) -> Result<(), StoreError> {
    let entries: Vec<(&NewAudit, i64)> = entries.iter().map(|e| (e, now)).collect();
    append_entries(conn, &entries).await
}

fn audit_record(row: &Row) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: rows::int(row, "seq")?,
        at: rows::int(row, "at")?,
        actor: rows::text(row, "actor")?,
        action: rows::text(row, "action")?,
        subject: rows::text(row, "subject")?,
        before: rows::opt_json(row, "before_json")?,
        after: rows::opt_json(row, "after_json")?,
        prev_hash: rows::text(row, "prev_hash")?,
        hash: rows::text(row, "hash")?,
    })
}

const AUDIT_COLS: &str =
    "seq, at, actor, action, subject, before_json, after_json, prev_hash, hash";

/// Entries written per statement.
const INSERT_CHUNK: usize = 200;

/// Rows read per round trip while verifying.
const VERIFY_BATCH: i64 = 1000;

impl Store {
    /// Appends one entry on its own.
    #[tracing::instrument(skip_all, fields(action = %entry.action, subject = %entry.subject))]
    pub async fn append_audit(&self, entry: NewAudit, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        append_in_tx(&mut tx, &entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Newest first.
    #[tracing::instrument(skip_all, fields(limit = page.limit, offset = page.offset))]
    pub async fn list_audit(&self, page: Page) -> Result<Vec<AuditRecord>, StoreError> {
        let (limit, offset) = page.clamped();
        let sql = format!("SELECT {AUDIT_COLS} FROM audit ORDER BY seq DESC LIMIT $1 OFFSET $2");
        sqlx::query(&sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(audit_record)
            .collect()
    }

    /// Recomputes the whole chain and reports the first entry that does not match.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        let broken = |entries: i64, seq: i64, reason: String| AuditVerification {
            ok: false,
            entries,
            first_broken: Some(seq),
            reason: Some(reason),
        };
        let sql = format!("SELECT {AUDIT_COLS} FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2");
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut expected_seq = 1;
        let mut checked = 0;
        loop {
            let batch = sqlx::query(&sql)
                .bind(expected_seq - 1)
                .bind(VERIFY_BATCH)
                .fetch_all(&self.reader)
                .await?;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                let seq = rows::int(row, "seq")?;
                let record = match audit_record(row) {
                    Ok(record) => record,
                    Err(StoreError::Corrupt(why)) => return Ok(broken(checked, seq, why)),
                    Err(other) => return Err(other),
                };
                if record.seq != expected_seq {
                    return Ok(broken(
                        checked,
                        expected_seq,
                        format!("entry {expected_seq} is missing (next is {})", record.seq),
                    ));
                }
                if record.prev_hash != prev_hash {
                    return Ok(broken(
                        checked,
                        record.seq,
                        "prev_hash does not match the previous entry's hash".into(),
                    ));
                }
                let hash = entry_hash(
                    &prev_hash,
                    record.seq,
                    record.at,
                    &record.actor,
                    &record.action,
                    &record.subject,
                    record.before.as_ref(),
                    record.after.as_ref(),
                );
                if hash != record.hash {
                    return Ok(broken(
                        checked,
                        record.seq,
                        "hash does not match the entry's contents".into(),
                    ));
                }
                checked += 1;
                expected_seq += 1;
                prev_hash = hash;
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.reader)
            .await?;
        let head_seq = rows::int(&head, "seq")?;
        let head_hash = rows::text(&head, "hash")?;
        if head_seq != checked || head_hash != prev_hash {
            return Ok(broken(
                checked,
                checked + 1,
                format!("the log ends at entry {checked} but the head records entry {head_seq}"),
            ));
        }
        Ok(AuditVerification { ok: true, entries: checked, first_broken: None, reason: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": null, "y": "x"}], "c": true}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":true,"d":[1,{"y":"x","z":null}]},"b":1}"#);
    }

    #[test]
    fn hash_depends_on_prev_hash_and_contents() {
        let a = entry_hash(GENESIS_HASH, 1, 10, "ann", "x", "s", None, None);
        let b = entry_hash(GENESIS_HASH, 1, 10, "ann", "x", "t", None, None);
        let c = entry_hash(&a, 1, 10, "ann", "x", "s", None, None);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}

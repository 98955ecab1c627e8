//! Cases: opening or joining one on escalation, the case page (posts, timeline, responses,
//! deliveries), lists with filters, ownership, responses and their approval (which stops
//! the first-response clock), and closing.

use serde_json::{json, Value};
use sqlx::AnyConnection;

use crate::outbox::{enqueue_in_tx, load_deliveries};
use crate::posts::{post_record, POST_COLS};
use crate::{
    audit, rows, CaseFilter, CaseRecord, CaseSummary, NewAudit, NewEscalation, NewResponse, Page,
    ResponseRecord, Row, Store, StoreError, TimelineEvent,
};

pub(crate) const CASE_COLS: &str = "id, state, thread_key, topics, policy_version, owner, \
     responders, loop_ins, opened_by, created_at, due_at, remind_at, first_response_at, \
     reminded_at, breached_at, closed_at, close_reason";

const RESPONSE_COLS: &str =
    "id, case_id, author, body, findings, state, approved_by, created_at, approved_at";

pub(crate) async fn add_timeline(
    conn: &mut AnyConnection,
    case_id: &str,
    at: i64,
    actor: &str,
    kind: &str,
    detail: Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO timeline (case_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(case_id)
    .bind(at)
    .bind(actor)
    .bind(kind)
    .bind(detail.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn open_case_of_thread(
    conn: &mut AnyConnection,
    thread_key: &str,
) -> Result<Option<(String, Vec<String>)>, StoreError> {
    let row = sqlx::query("SELECT id, topics FROM cases WHERE thread_key = $1 AND state = 'open'")
        .bind(thread_key)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| Ok((rows::text(&row, "id")?, rows::strings(&row, "topics")?))).transpose()
}

/// Links `post_id` to the open case of the escalation's thread, adding new topics to it, or
/// opens the escalation's case and enqueues its notifications. Returns the case id and
/// whether it was opened now. Pushes the audit entries to write (the caller writes them
/// last in the transaction).
pub(crate) async fn attach_to_case(
    conn: &mut AnyConnection,
    post_id: &str,
    escalation: &NewEscalation,
    now: i64,
    audit: &mut Vec<NewAudit>,
) -> Result<(String, bool), StoreError> {
    let case = &escalation.case;
    if open_case_of_thread(conn, &case.thread_key).await?.is_none() {
        // On PostgreSQL a concurrent escalation of the same thread may win the partial
        // unique index; then this inserts nothing and the post joins that case below.
        let inserted = sqlx::query(
            "INSERT INTO cases (id, state, thread_key, topics, policy_version, owner, responders, \
             loop_ins, opened_by, created_at, due_at, remind_at) \
             VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (thread_key) WHERE state = 'open' DO NOTHING",
        )
        .bind(&case.id)
        .bind(&case.thread_key)
        .bind(rows::strings_text(&case.topics))
        .bind(&case.policy_version)
        .bind(&case.owner)
        .bind(case.responders.to_string())
        .bind(case.loop_ins.to_string())
        .bind(&case.opened_by)
        .bind(now)
        .bind(case.due_at)
        .bind(case.remind_at)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("case {}", case.id)))?
        .rows_affected();
        if inserted == 1 {
            let mut topics = case.topics.clone();
            topics.dedup();
            for topic in &topics {
                insert_case_topic(conn, &case.id, topic).await?;
            }
            sqlx::query("UPDATE posts SET case_id = $1 WHERE id = $2")
                .bind(&case.id)
                .bind(post_id)
                .execute(&mut *conn)
                .await?;
            add_timeline(
                conn,
                &case.id,
                now,
                &case.opened_by,
                "escalated",
                json!({"post_id": post_id, "topics": case.topics, "owner": case.owner}),
            )
            .await?;
            enqueue_in_tx(conn, Some(&case.id), &escalation.notifications, now).await?;
            audit.push(NewAudit {
                actor: case.opened_by.clone(),
                action: "case.open".into(),
                subject: case.id.clone(),
                before: None,
                after: Some(json!({
                    "post_id": post_id,
                    "thread_key": case.thread_key,
                    "topics": case.topics,
                    "policy_version": case.policy_version,
                    "owner": case.owner,
                    "due_at": case.due_at,
                    "remind_at": case.remind_at,
                    "notifications": escalation.notifications.len(),
                })),
            });
            return Ok((case.id.clone(), true));
        }
    }
    let (case_id, mut topics) =
        open_case_of_thread(conn, &case.thread_key).await?.ok_or_else(|| {
            StoreError::Conflict(format!("thread {} changed meanwhile", case.thread_key))
        })?;
    let before_topics = topics.clone();
    let mut added = Vec::new();
    for topic in &case.topics {
        if !topics.contains(topic) {
            topics.push(topic.clone());
            added.push(topic.clone());
            insert_case_topic(conn, &case_id, topic).await?;
        }
    }
    if !added.is_empty() {
        sqlx::query("UPDATE cases SET topics = $1 WHERE id = $2")
            .bind(rows::strings_text(&topics))
            .bind(&case_id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE posts SET case_id = $1 WHERE id = $2")
        .bind(&case_id)
        .bind(post_id)
        .execute(&mut *conn)
        .await?;
    add_timeline(
        conn,
        &case_id,
        now,
        &case.opened_by,
        "post_joined",
        json!({"post_id": post_id, "added_topics": added}),
    )
    .await?;
    audit.push(NewAudit {
        actor: case.opened_by.clone(),
        action: "case.join".into(),
        subject: case_id.clone(),
        before: Some(json!({"topics": before_topics})),
        after: Some(json!({"post_id": post_id, "topics": topics})),
    });
    Ok((case_id, false))
}

async fn insert_case_topic(
    conn: &mut AnyConnection,
    case_id: &str,
    topic: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO case_topics (case_id, topic) VALUES ($1, $2) ON CONFLICT (case_id, topic) DO NOTHING",
    )
    .bind(case_id)
    .bind(topic)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn case_summary(row: &Row, post_count: i64) -> Result<CaseSummary, StoreError> {
    Ok(CaseSummary {
        id: rows::text(row, "id")?,
        state: rows::text(row, "state")?,
        thread_key: rows::text(row, "thread_key")?,
        topics: rows::strings(row, "topics")?,
        policy_version: rows::text(row, "policy_version")?,
        owner: rows::opt_text(row, "owner")?,
        opened_by: rows::text(row, "opened_by")?,
        created_at: rows::int(row, "created_at")?,
        due_at: rows::opt_int(row, "due_at")?,
        remind_at: rows::opt_int(row, "remind_at")?,
        first_response_at: rows::opt_int(row, "first_response_at")?,
        reminded_at: rows::opt_int(row, "reminded_at")?,
        breached_at: rows::opt_int(row, "breached_at")?,
        closed_at: rows::opt_int(row, "closed_at")?,
        close_reason: rows::opt_text(row, "close_reason")?,
        post_count,
    })
}

fn response_record(row: &Row) -> Result<ResponseRecord, StoreError> {
    Ok(ResponseRecord {
        id: rows::text(row, "id")?,
        case_id: rows::text(row, "case_id")?,
        author: rows::text(row, "author")?,
        body: rows::text(row, "body")?,
        findings: rows::json(row, "findings")?,
        state: rows::text(row, "state")?,
        approved_by: rows::opt_text(row, "approved_by")?,
        created_at: rows::int(row, "created_at")?,
        approved_at: rows::opt_int(row, "approved_at")?,
    })
}

async fn load_case_row(conn: &mut AnyConnection, id: &str) -> Result<Row, StoreError> {
    let sql = format!("SELECT {CASE_COLS} FROM cases WHERE id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("case", id))
}

async fn load_response(
    conn: &mut AnyConnection,
    case_id: &str,
    response_id: &str,
) -> Result<ResponseRecord, StoreError> {
    let sql = format!("SELECT {RESPONSE_COLS} FROM responses WHERE id = $1 AND case_id = $2");
    let row = sqlx::query(&sql)
        .bind(response_id)
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("response", response_id))?;
    response_record(&row)
}

/// The whole case page.
pub(crate) async fn load_case(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<CaseRecord, StoreError> {
    let row = load_case_row(conn, id).await?;
    let posts_sql =
        format!("SELECT {POST_COLS} FROM posts WHERE case_id = $1 ORDER BY created_at, id");
    let posts = sqlx::query(&posts_sql)
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(post_record)
        .collect::<Result<Vec<_>, _>>()?;
    let timeline =
        sqlx::query("SELECT at, actor, kind, detail FROM timeline WHERE case_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| {
                Ok(TimelineEvent {
                    at: rows::int(row, "at")?,
                    actor: rows::text(row, "actor")?,
                    kind: rows::text(row, "kind")?,
                    detail: rows::json(row, "detail")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
    let responses_sql =
        format!("SELECT {RESPONSE_COLS} FROM responses WHERE case_id = $1 ORDER BY created_at, id");
    let responses = sqlx::query(&responses_sql)
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(response_record)
        .collect::<Result<Vec<_>, _>>()?;
    let deliveries = load_deliveries(conn, id).await?;
    Ok(CaseRecord {
        id: rows::text(&row, "id")?,
        state: rows::text(&row, "state")?,
        thread_key: rows::text(&row, "thread_key")?,
        topics: rows::strings(&row, "topics")?,
        policy_version: rows::text(&row, "policy_version")?,
        owner: rows::opt_text(&row, "owner")?,
        responders: rows::json(&row, "responders")?,
        loop_ins: rows::json(&row, "loop_ins")?,
        opened_by: rows::text(&row, "opened_by")?,
        created_at: rows::int(&row, "created_at")?,
        due_at: rows::opt_int(&row, "due_at")?,
        remind_at: rows::opt_int(&row, "remind_at")?,
        first_response_at: rows::opt_int(&row, "first_response_at")?,
        reminded_at: rows::opt_int(&row, "reminded_at")?,
        breached_at: rows::opt_int(&row, "breached_at")?,
        closed_at: rows::opt_int(&row, "closed_at")?,
        close_reason: rows::opt_text(&row, "close_reason")?,
        posts,
        timeline,
        responses,
        deliveries,
    })
}

/// Fails with `Conflict` unless the case exists and is open.
async fn require_open(conn: &mut AnyConnection, case_id: &str) -> Result<Row, StoreError> {
    let row = load_case_row(conn, case_id).await?;
    if rows::text(&row, "state")? != "open" {
        return Err(StoreError::Conflict(format!("case {case_id} is closed")));
    }
    Ok(row)
}

impl Store {
    #[tracing::instrument(skip_all, fields(case_id = %id))]
    pub async fn get_case(&self, id: &str) -> Result<CaseRecord, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_case(&mut conn, id).await
    }

    /// Newest first (`created_at DESC, id DESC`).
    #[tracing::instrument(skip_all, fields(limit = page.limit, offset = page.offset))]
    pub async fn list_cases(
        &self,
        filter: CaseFilter,
        page: Page,
    ) -> Result<Vec<CaseSummary>, StoreError> {
        let (limit, offset) = page.clamped();
        let mut conditions = Vec::new();
        let mut binds: Vec<&str> = Vec::new();
        if let Some(topic) = &filter.topic {
            binds.push(topic);
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM case_topics t WHERE t.case_id = c.id AND t.topic = ${})",
                binds.len()
            ));
        }
        if let Some(state) = &filter.state {
            binds.push(state);
            conditions.push(format!("c.state = ${}", binds.len()));
        }
        if let Some(owner) = &filter.owner {
            binds.push(owner);
            conditions.push(format!("c.owner = ${}", binds.len()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let cols =
            CASE_COLS.split(", ").map(|c| format!("c.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {cols}, (SELECT COUNT(*) FROM posts p WHERE p.case_id = c.id) AS post_count \
             FROM cases c {where_clause} ORDER BY c.created_at DESC, c.id DESC LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = query.bind(value);
        }
        query
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| case_summary(row, rows::int(row, "post_count")?))
            .collect()
    }

    /// Hands the case to `owner`. Whether `owner` may own it is the caller's rule.
    #[tracing::instrument(skip_all, fields(case_id = %case_id, owner = %owner, actor = %actor))]
    pub async fn set_owner(
        &self,
        case_id: &str,
        owner: &str,
        actor: &str,
        now: i64,
    ) -> Result<CaseRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = require_open(&mut tx, case_id).await?;
        let before = rows::opt_text(&row, "owner")?;
        sqlx::query("UPDATE cases SET owner = $1 WHERE id = $2")
            .bind(owner)
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
        add_timeline(
            &mut tx,
            case_id,
            now,
            actor,
            "owner_changed",
            json!({"before": before, "after": owner}),
        )
        .await?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: actor.into(),
                action: "case.owner".into(),
                subject: case_id.into(),
                before: Some(json!({"owner": before})),
                after: Some(json!({"owner": owner})),
            },
            now,
        )
        .await?;
        let case = load_case(&mut tx, case_id).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Adds a draft response.
    #[tracing::instrument(skip_all, fields(case_id = %case_id, response_id = %new.id))]
    pub async fn add_response(
        &self,
        case_id: &str,
        new: NewResponse,
        now: i64,
    ) -> Result<ResponseRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        require_open(&mut tx, case_id).await?;
        sqlx::query(
            "INSERT INTO responses (id, case_id, author, body, findings, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'draft', $6)",
        )
        .bind(&new.id)
        .bind(case_id)
        .bind(&new.author)
        .bind(&new.body)
        .bind(new.findings.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("response {}", new.id)))?;
        add_timeline(
            &mut tx,
            case_id,
            now,
            &new.author,
            "response_drafted",
            json!({"response_id": new.id}),
        )
        .await?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: new.author.clone(),
                action: "response.draft".into(),
                subject: new.id.clone(),
                before: None,
                after: Some(json!({"case_id": case_id, "body": new.body})),
            },
            now,
        )
        .await?;
        let record = load_response(&mut tx, case_id, &new.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Approves a draft. The first approval on a case sets `first_response_at`, which
    /// stops its timers. Approving twice is a `Conflict`.
    #[tracing::instrument(skip_all, fields(case_id = %case_id, response_id = %response_id, approver = %approver))]
    pub async fn approve_response(
        &self,
        case_id: &str,
        response_id: &str,
        approver: &str,
        now: i64,
    ) -> Result<ResponseRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        require_open(&mut tx, case_id).await?;
        let updated = sqlx::query(
            "UPDATE responses SET state = 'approved', approved_by = $1, approved_at = $2 \
             WHERE id = $3 AND case_id = $4 AND state = 'draft'",
        )
        .bind(approver)
        .bind(now)
        .bind(response_id)
        .bind(case_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            // Tell "no such response" from "already approved".
            load_response(&mut tx, case_id, response_id).await?;
            return Err(StoreError::Conflict(format!(
                "response {response_id} is already approved"
            )));
        }
        let clock_stopped = sqlx::query(
            "UPDATE cases SET first_response_at = $1 WHERE id = $2 AND first_response_at IS NULL",
        )
        .bind(now)
        .bind(case_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        add_timeline(
            &mut tx,
            case_id,
            now,
            approver,
            "response_approved",
            json!({"response_id": response_id, "first_response": clock_stopped}),
        )
        .await?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: approver.into(),
                action: "response.approve".into(),
                subject: response_id.into(),
                before: Some(json!({"state": "draft"})),
                after: Some(json!({"state": "approved", "case_id": case_id, "first_response": clock_stopped})),
            },
            now,
        )
        .await?;
        let record = load_response(&mut tx, case_id, response_id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Closes an open case; closing a closed case is a `Conflict`.
    #[tracing::instrument(skip_all, fields(case_id = %case_id, actor = %actor))]
    pub async fn close_case(
        &self,
        case_id: &str,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<CaseRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let closed = sqlx::query(
            "UPDATE cases SET state = 'closed', closed_at = $1, close_reason = $2 \
             WHERE id = $3 AND state = 'open'",
        )
        .bind(now)
        .bind(reason)
        .bind(case_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed == 0 {
            load_case_row(&mut tx, case_id).await?;
            return Err(StoreError::Conflict(format!("case {case_id} is already closed")));
        }
        add_timeline(&mut tx, case_id, now, actor, "closed", json!({"reason": reason})).await?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: actor.into(),
                action: "case.close".into(),
                subject: case_id.into(),
                before: Some(json!({"state": "open"})),
                after: Some(json!({"state": "closed", "reason": reason})),
            },
            now,
        )
        .await?;
        let case = load_case(&mut tx, case_id).await?;
        tx.commit().await?;
        Ok(case)
    }
}

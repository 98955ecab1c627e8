//! Posts: idempotent intake (with escalation into a new or an open case in the same
//! transaction), reads that never touch the hidden revision, relabels kept as history,
//! and escalating an already stored post by hand.

use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::append_all_in_tx;
use crate::cases::attach_to_case;
use crate::{
    audit, rows, NewAudit, NewEscalation, Page, PostRecord, RelabelRecord, Row, Store, StoreError,
};

pub(crate) const POST_COLS: &str =
    "id, source, external_id, url, author, thread_key, title, body, \
     triage, sensitive, topics, kind, case_id, created_at";

pub(crate) fn post_record(row: &Row) -> Result<PostRecord, StoreError> {
    Ok(PostRecord {
        id: rows::text(row, "id")?,
        source: rows::text(row, "source")?,
        external_id: rows::text(row, "external_id")?,
        url: rows::opt_text(row, "url")?,
        author: rows::opt_text(row, "author")?,
        thread_key: rows::text(row, "thread_key")?,
        title: rows::text(row, "title")?,
        body: rows::text(row, "body")?,
        triage: rows::json(row, "triage")?,
        sensitive: rows::flag(row, "sensitive")?,
        topics: rows::strings(row, "topics")?,
        kind: rows::opt_text(row, "kind")?,
        case_id: rows::opt_text(row, "case_id")?,
        created_at: rows::int(row, "created_at")?,
    })
}

pub(crate) async fn load_post(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<PostRecord, StoreError> {
    let sql = format!("SELECT {POST_COLS} FROM posts WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("post", id))?;
    post_record(&row)
}

impl Store {
    #[tracing::instrument(skip_all, fields(post_id = %id))]
    pub async fn get_post(&self, id: &str) -> Result<PostRecord, StoreError> {
        let mut conn = self.reader.acquire().await?;
        load_post(&mut conn, id).await
    }

    /// Newest first.
    #[tracing::instrument(skip_all, fields(limit = page.limit, offset = page.offset))]
    pub async fn list_posts(&self, page: Page) -> Result<Vec<PostRecord>, StoreError> {
        let (limit, offset) = page.clamped();
        let sql = format!(
            "SELECT {POST_COLS} FROM posts ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
        );
        sqlx::query(&sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(post_record)
            .collect()
    }

    /// Sets a post's labels by hand. The previous and new labels are kept in `relabels`
    /// (training and evaluation data) and audited.
    #[tracing::instrument(skip_all, fields(post_id = %post_id, actor = %actor))]
    pub async fn relabel_post(
        &self,
        post_id: &str,
        topics: Vec<String>,
        kind: Option<String>,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let before = load_post(&mut tx, post_id).await?;
        sqlx::query("UPDATE posts SET topics = $1, kind = $2 WHERE id = $3")
            .bind(rows::strings_text(&topics))
            .bind(&kind)
            .bind(post_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO relabels (post_id, topics, kind, previous_topics, previous_kind, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(post_id)
        .bind(rows::strings_text(&topics))
        .bind(&kind)
        .bind(rows::strings_text(&before.topics))
        .bind(&before.kind)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::append_in_tx(
            &mut tx,
            &NewAudit {
                actor: actor.into(),
                action: "post.relabel".into(),
                subject: post_id.into(),
                before: Some(json!({"topics": before.topics, "kind": before.kind})),
                after: Some(json!({"topics": topics, "kind": kind})),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every relabel, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn list_relabels(&self) -> Result<Vec<RelabelRecord>, StoreError> {
        sqlx::query(
            "SELECT id, post_id, topics, kind, previous_topics, previous_kind, actor, created_at \
             FROM relabels ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|row| {
            Ok(RelabelRecord {
                id: rows::int(row, "id")?,
                post_id: rows::text(row, "post_id")?,
                topics: rows::strings(row, "topics")?,
                kind: rows::opt_text(row, "kind")?,
                previous_topics: rows::strings(row, "previous_topics")?,
                previous_kind: rows::opt_text(row, "previous_kind")?,
                actor: rows::text(row, "actor")?,
                at: rows::int(row, "created_at")?,
            })
        })
        .collect()
    }

    /// Escalates a stored post by hand. When the post already belongs to an open case that
    /// case's id is returned and nothing changes; otherwise the post joins the open case of
    /// its thread, or `escalation.case` is opened with its notifications.
    #[tracing::instrument(skip_all, fields(post_id = %post_id, case_id = %escalation.case.id))]
    pub async fn open_case_for_post(
        &self,
        post_id: &str,
        escalation: NewEscalation,
        audit: Vec<NewAudit>,
        now: i64,
    ) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let post = load_post(&mut tx, post_id).await?;
        if let Some(case_id) = &post.case_id {
            let state: Option<String> = sqlx::query_scalar("SELECT state FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?;
            if state.as_deref() == Some("open") {
                return Ok(case_id.clone());
            }
        }
        let mut entries = Vec::new();
        let (case_id, _) = attach_to_case(&mut tx, post_id, &escalation, now, &mut entries).await?;
        entries.extend(audit);
        append_all_in_tx(&mut tx, &entries, now).await?;
        tx.commit().await?;
        Ok(case_id)
    }
}

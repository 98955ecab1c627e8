//! Intake with group commit: every `Store::intake` call is handed to one writer task per
//! store, which runs whatever calls are waiting as one transaction and one fsync.
//!
//! A durable intake costs one disk flush; on this class of machine a flush takes
//! milliseconds, so one transaction per post would cap intake at a few hundred posts per
//! second on both backends (on PostgreSQL the audit-head lock serializes intakes across
//! connections too). Batching keeps every promise of a single transaction: a call
//! returns only after the commit that contains it, a batch commits all or nothing, and
//! within a batch the intakes run in arrival order, so a repeat or a second post of the
//! same thread sees the first. If anything in a batch fails, the batch is rolled back and
//! each of its intakes is retried in its own transaction, so one bad post (or a deadlock
//! with another instance) costs the others nothing but time.

use std::collections::HashSet;

use serde_json::json;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use crate::audit::append_entries;
use crate::cases::attach_to_case;
use crate::posts::{post_record, POST_COLS};
use crate::{
    rows, Backend, Intake, NewAudit, NewEscalation, NewPost, PostRecord, Store, StoreError,
};

/// Most intakes in one transaction.
const MAX_BATCH: usize = 256;
/// Posts per multi-row insert (13 parameters each, well under every backend's limit).
const POST_CHUNK: usize = 256;
/// Intakes waiting for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

pub(crate) struct IntakeJob {
    post: NewPost,
    escalation: Option<NewEscalation>,
    audit: Vec<NewAudit>,
    now: i64,
    reply: oneshot::Sender<Result<Intake, StoreError>>,
}

pub(crate) type IntakeQueue = mpsc::Sender<IntakeJob>;

/// Starts the writer task; it ends when every sender (every `Store` clone) is gone.
pub(crate) fn spawn_writer(backend: Backend, pool: AnyPool) -> IntakeQueue {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(writer(backend, pool, rx));
    tx
}

async fn writer(backend: Backend, pool: AnyPool, mut rx: mpsc::Receiver<IntakeJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        run_batch(backend, &pool, &mut batch).await;
        batch.clear();
    }
}

async fn begin(
    backend: Backend,
    pool: &AnyPool,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

#[tracing::instrument(skip_all, fields(size = batch.len()))]
async fn run_batch(backend: Backend, pool: &AnyPool, batch: &mut Vec<IntakeJob>) {
    match try_batch(backend, pool, batch).await {
        Ok(outcomes) => {
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                // The caller may have gone away; its intake is stored all the same.
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, "intake batch failed; retrying one by one");
            for job in batch.drain(..) {
                let outcome = run_one(backend, pool, &job).await;
                let _ = job.reply.send(outcome);
            }
        }
    }
}

async fn try_batch(
    backend: Backend,
    pool: &AnyPool,
    batch: &[IntakeJob],
) -> Result<Vec<Result<Intake, StoreError>>, StoreError> {
    let mut tx = begin(backend, pool).await?;
    let (outcomes, audit) = intake_many(&mut tx, batch).await?;
    let entries: Vec<(&NewAudit, i64)> = audit.iter().map(|(entry, at)| (entry, *at)).collect();
    append_entries(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(outcomes)
}

async fn run_one(backend: Backend, pool: &AnyPool, job: &IntakeJob) -> Result<Intake, StoreError> {
    try_batch(backend, pool, std::slice::from_ref(job))
        .await?
        .pop()
        .unwrap_or_else(|| Err(StoreError::Conflict("intake produced no outcome".into())))
}

/// The intakes of `jobs`, in order, inside the caller's transaction, except their audit
/// entries, which are returned for the caller to append last. One multi-row statement
/// inserts all posts and another all hidden revisions; escalations then run one by one.
/// A job that cannot be stored (its post id is taken by another post) gets its own error
/// and changes nothing; the others go on.
async fn intake_many(
    conn: &mut AnyConnection,
    jobs: &[IntakeJob],
) -> Result<(Vec<Result<Intake, StoreError>>, Vec<(NewAudit, i64)>), StoreError> {
    // 1. Posts. A post that conflicts on (source, external_id) or on its id is skipped;
    //    RETURNING names the rows that went in.
    let mut returned: HashSet<(String, String, String)> = HashSet::new();
    for chunk in jobs.chunks(POST_CHUNK) {
        let sql = format!(
            "INSERT INTO posts (id, source, external_id, url, author, thread_key, title, body, \
             triage, sensitive, topics, kind, created_at) VALUES {} \
             ON CONFLICT DO NOTHING RETURNING id, source, external_id",
            rows::values_placeholders(conn, chunk.len(), 13)
        );
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for job in chunk {
            let post = &job.post;
            query = query
                .bind(&post.id)
                .bind(&post.source)
                .bind(&post.external_id)
                .bind(&post.url)
                .bind(&post.author)
                .bind(&post.thread_key)
                .bind(&post.title)
                .bind(&post.body)
                .bind(post.triage.to_string())
                .bind(rows::flag_int(post.sensitive))
                .bind(rows::strings_text(&post.topics))
                .bind(&post.kind)
                .bind(job.now);
        }
        for row in query.fetch_all(&mut *conn).await? {
            returned.insert((
                rows::text(&row, "id")?,
                rows::text(&row, "source")?,
                rows::text(&row, "external_id")?,
            ));
        }
    }
    // The first job with a returned (id, source, external_id) is the one that inserted it;
    // identical later jobs are repeats.
    let inserted: Vec<bool> = jobs
        .iter()
        .map(|job| {
            let key = (job.post.id.clone(), job.post.source.clone(), job.post.external_id.clone());
            returned.remove(&key)
        })
        .collect();

    // 2. Hidden revisions of the new posts.
    let new_jobs: Vec<&IntakeJob> =
        jobs.iter().zip(&inserted).filter(|(_, new)| **new).map(|(job, _)| job).collect();
    for chunk in new_jobs.chunks(POST_CHUNK) {
        let sql = format!(
            "INSERT INTO post_revisions (post_id, original_title, original_body, created_at) VALUES {}",
            rows::values_placeholders(conn, chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql).persistent(chunk.len() == 1);
        for job in chunk {
            query = query
                .bind(&job.post.id)
                .bind(&job.post.original_title)
                .bind(&job.post.original_body)
                .bind(job.now);
        }
        query.execute(&mut *conn).await?;
    }

    // 3. Escalations, in arrival order, so a later post of a thread joins an earlier one's case.
    let mut outcomes: Vec<Option<Result<Intake, StoreError>>> = Vec::with_capacity(jobs.len());
    let mut audit = Vec::new();
    for (job, new) in jobs.iter().zip(&inserted) {
        if !new {
            outcomes.push(None);
            continue;
        }
        let post = &job.post;
        let mut entries = vec![NewAudit {
            actor: "steward".into(),
            action: "post.create".into(),
            subject: post.id.clone(),
            before: None,
            after: Some(json!({
                "source": post.source,
                "external_id": post.external_id,
                "thread_key": post.thread_key,
                "sensitive": post.sensitive,
                "topics": post.topics,
                "kind": post.kind,
            })),
        }];
        let (case_id, case_created) = match &job.escalation {
            Some(escalation) => {
                let (id, created) =
                    attach_to_case(conn, &post.id, escalation, job.now, &mut entries).await?;
                (Some(id), created)
            }
            None => (None, false),
        };
        entries.extend_from_slice(&job.audit);
        audit.extend(entries.into_iter().map(|entry| (entry, job.now)));
        // Exactly what a read would return, without reading it back.
        let stored = PostRecord {
            id: post.id.clone(),
            source: post.source.clone(),
            external_id: post.external_id.clone(),
            url: post.url.clone(),
            author: post.author.clone(),
            thread_key: post.thread_key.clone(),
            title: post.title.clone(),
            body: post.body.clone(),
            triage: post.triage.clone(),
            sensitive: post.sensitive,
            topics: post.topics.clone(),
            kind: post.kind.clone(),
            case_id: case_id.clone(),
            created_at: job.now,
        };
        outcomes.push(Some(Ok(Intake { post: stored, case_id, created: true, case_created })));
    }

    // 4. Repeats report what is stored (read after step 3, so a repeat within this batch
    //    sees its original's case); a post id taken by another post is a conflict.
    let select = format!("SELECT {POST_COLS} FROM posts WHERE source = $1 AND external_id = $2");
    let mut results = Vec::with_capacity(jobs.len());
    for (job, outcome) in jobs.iter().zip(outcomes) {
        if let Some(outcome) = outcome {
            results.push(outcome);
            continue;
        }
        let row = sqlx::query(&select)
            .bind(&job.post.source)
            .bind(&job.post.external_id)
            .fetch_optional(&mut *conn)
            .await?;
        results.push(match row {
            Some(row) => post_record(&row).map(|stored| Intake {
                case_id: stored.case_id.clone(),
                post: stored,
                created: false,
                case_created: false,
            }),
            None => Err(StoreError::Conflict(format!("post {} already exists", job.post.id))),
        });
    }
    Ok((results, audit))
}

impl Store {
    /// Stores a post, and when `escalation` is given opens its case (or joins the open case
    /// of the same thread) with the notifications, in one transaction (shared with other
    /// intakes waiting at the same moment; see the module doc). A post whose (source,
    /// external_id) is already stored changes nothing and comes back with
    /// `created = false`. The store writes its own audit entries (`post.create`,
    /// `case.open` or `case.join`); `audit` adds the caller's after them.
    #[tracing::instrument(skip_all, fields(post_id = %post.id, source = %post.source, escalate = escalation.is_some()))]
    pub async fn intake(
        &self,
        post: NewPost,
        escalation: Option<NewEscalation>,
        audit: Vec<NewAudit>,
        now: i64,
    ) -> Result<Intake, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let job = IntakeJob { post, escalation, audit, now, reply };
        self.intake_queue.send(job).await.map_err(|_| sqlx::Error::WorkerCrashed)?;
        outcome.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}

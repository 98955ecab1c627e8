//! Storage for the Steward desk: posts and their hidden revisions, cases with their
//! timelines and responses, the durable outbox with every delivery attempt, case timers,
//! API tokens and the hash-chained audit log. This is the only crate that knows SQL.
//!
//! # Backends
//!
//! SQLite (the default, one file) and PostgreSQL (several `steward serve` instances sharing
//! one database). The backend is chosen from the URL scheme in exactly one place,
//! [`Store::connect`]: `sqlite:PATH` / `sqlite://PATH`, or `postgres://…` /
//! `postgresql://…`; anything else is [`StoreError::BadUrl`].
//!
//! Queries go through sqlx's `Any` driver with **one SQL text for both backends**: both
//! accept `$1` placeholders, `RETURNING`, `ON CONFLICT … DO NOTHING` and partial unique
//! indexes. The schemas in `migrations/sqlite` and `migrations/postgres` use the same
//! column names and the types `Any` maps on both sides: times are `i64` unix milliseconds
//! (passed in by the caller; the store never reads the clock), JSON values are `TEXT`,
//! booleans are `0`/`1` integers. What differs per backend is small and named: how a
//! write transaction begins, the `SKIP LOCKED` suffix of the outbox claim, and the
//! placeholders of generated multi-row `VALUES` lists (`?` on SQLite, where sqlx binds
//! `$N` names by a linear scan; see `rows::values_placeholders`).
//!
//! # Durability and concurrency
//!
//! * SQLite runs in WAL mode with `synchronous=FULL`: a call that returned `Ok` has been
//!   fsynced, which is what a durable `2xx` promises (`NORMAL` would be faster but can lose
//!   the last commits on power loss). Writes go through a pool of exactly one connection
//!   and start with `BEGIN IMMEDIATE`, so writers queue in the process instead of
//!   spinning on `SQLITE_BUSY`; reads use a separate pool and never block on writers.
//!   `busy_timeout` covers a second process (an admin CLI) writing at the same time.
//! * On PostgreSQL every write is a `READ COMMITTED` transaction whose guarding condition
//!   is re-checked in the `UPDATE`'s `WHERE` (PostgreSQL re-evaluates it against the
//!   latest row version after waiting for a concurrent writer). So a timer fires once
//!   (`… WHERE reminded_at IS NULL`), a delivery lease is taken once (`… AND (lease_until
//!   IS NULL OR lease_until <= now)`; the candidate `SELECT` adds `FOR UPDATE SKIP LOCKED`
//!   so workers take different rows instead of waiting on each other), and a thread has at
//!   most one open case (a partial unique index plus `ON CONFLICT DO NOTHING`, after which
//!   the now-committed case is joined).
//! * The audit chain is extended under a lock on the single `audit_head` row, always the
//!   last statement of a transaction, so concurrent appends never fork the chain.
//! * Intake uses group commit (module `intake`): calls waiting at the same moment share
//!   one transaction and one fsync, with multi-row inserts, so durable intake is not capped
//!   at one post per disk flush. Each call still returns only after its commit.
//!
//! Every mutating call writes its own audit entries in the same transaction as the change.

mod audit;
mod cases;
mod error;
mod intake;
mod outbox;
mod posts;
mod rows;
mod timers;
mod tokens;
mod types;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use error::StoreError;
pub use types::*;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database. Cheap to clone; all clones share the pools.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Writes. On SQLite exactly one connection.
    writer: AnyPool,
    /// Reads. On SQLite a separate pool (WAL lets readers run beside the writer); on
    /// PostgreSQL the same pool as `writer`.
    reader: AnyPool,
    /// Hands intakes to the group-commit writer (see the `intake` module).
    intake_queue: intake::IntakeQueue,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Per-connection SQLite settings. `journal_mode=WAL` is persistent in the file and is set
/// once at connect; these are per connection.
const SQLITE_CONNECTION_PRAGMAS: &str =
    "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;";

const SQLITE_READERS: u32 = 4;
const POSTGRES_CONNECTIONS: u32 = 16;

/// Picks the backend from the URL scheme. The one place that does.
pub fn backend_for_url(url: &str) -> Result<Backend, StoreError> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        _ => Err(StoreError::BadUrl(format!(
            "unsupported scheme `{scheme}`; use sqlite://PATH or postgres://USER@HOST:PORT/DB"
        ))),
    }
}

/// Where a `sqlite:` URL points: `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        None
    } else {
        Some(path)
    }
}

impl Store {
    /// Opens the database named by `url`, creating the SQLite file and its directory when
    /// missing, and applies the migrations of its backend.
    #[tracing::instrument(skip_all, fields(backend))]
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = backend_for_url(url)?;
        tracing::Span::current().record("backend", tracing::field::debug(backend));
        let store = match backend {
            Backend::Sqlite => Self::connect_sqlite(url).await?,
            Backend::Postgres => Self::connect_postgres(url).await?,
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator.run(&store.writer).await?;
        Ok(store)
    }

    /// [`Store::connect`] to a database that must exist already: a command that reads or
    /// revokes (`steward admin token list`) pointed at a mistyped SQLite path says so
    /// instead of creating an empty database there.
    pub async fn connect_existing(url: &str) -> Result<Store, StoreError> {
        if backend_for_url(url)? == Backend::Sqlite {
            if let Some(path) = sqlite_path(url) {
                if !std::path::Path::new(path).exists() {
                    return Err(StoreError::BadUrl(format!("no SQLite database at {path}")));
                }
            }
        }
        Self::connect(url).await
    }

    async fn connect_sqlite(url: &str) -> Result<Store, StoreError> {
        let Some(path) = sqlite_path(url) else {
            // Every in-memory connection is its own database: use exactly one, forever.
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .after_connect(|conn, _| {
                    Box::pin(async move { conn.execute(SQLITE_CONNECTION_PRAGMAS).await.map(drop) })
                })
                .connect(url)
                .await?;
            return Ok(Store::new(Backend::Sqlite, pool.clone(), pool));
        };
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::BadUrl(format!("cannot create directory {}: {e}", dir.display()))
                })?;
            }
        }
        let url = if url.contains("mode=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _| {
                Box::pin(async move { conn.execute(SQLITE_CONNECTION_PRAGMAS).await.map(drop) })
            })
            .connect(&url)
            .await?;
        // Persistent in the file; needs the write lock, so set it before any reader exists.
        writer.execute("PRAGMA journal_mode = WAL").await?;
        let reader = AnyPoolOptions::new()
            .max_connections(SQLITE_READERS)
            .after_connect(|conn, _| {
                Box::pin(async move { conn.execute(SQLITE_CONNECTION_PRAGMAS).await.map(drop) })
            })
            .connect_lazy(&url)?;
        Ok(Store::new(Backend::Sqlite, writer, reader))
    }

    async fn connect_postgres(url: &str) -> Result<Store, StoreError> {
        let pool = AnyPoolOptions::new()
            .max_connections(POSTGRES_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        Ok(Store::new(Backend::Postgres, pool.clone(), pool))
    }

    fn new(backend: Backend, writer: AnyPool, reader: AnyPool) -> Store {
        let intake_queue = intake::spawn_writer(backend, writer.clone());
        Store { backend, writer, reader, intake_queue }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; later calls fail. Lets a test drop its database.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    /// Starts a write transaction. On SQLite `BEGIN IMMEDIATE` takes the write lock up
    /// front, so a transaction that reads before it writes can never fail to upgrade.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Runs one statement with no parameters, bypassing every invariant. For tests that
    /// need to tamper with rows.
    #[cfg(feature = "testing")]
    pub async fn raw_execute_for_tests(&self, sql: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query(sql).execute(&self.writer).await?.rows_affected())
    }
}

pub(crate) type Row = AnyRow;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert_eq!(backend_for_url("sqlite://x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(backend_for_url("sqlite::memory:").ok(), Some(Backend::Sqlite));
        assert_eq!(backend_for_url("postgres://u@h/db").ok(), Some(Backend::Postgres));
        assert_eq!(backend_for_url("postgresql://u@h/db").ok(), Some(Backend::Postgres));
        assert!(matches!(backend_for_url("mysql://u@h/db"), Err(StoreError::BadUrl(_))));
        assert!(matches!(backend_for_url("steward.db"), Err(StoreError::BadUrl(_))));
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://data/s.db"), Some("data/s.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/s.db?mode=rwc"), Some("/tmp/s.db"));
        assert_eq!(sqlite_path("sqlite:s.db"), Some("s.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}

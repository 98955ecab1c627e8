//! A fresh database per test: a SQLite file in a temporary directory, or a PostgreSQL
//! database created on the test server and dropped when the test ends.
//!
//! This is test infrastructure, so it may speak SQL (`CREATE`/`DROP DATABASE`); the
//! schema is still the store's business (its `connect` runs the migrations).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{Connection, Executor, PgConnection};

/// The PostgreSQL server tests use, overridable with `STEWARD_TEST_DATABASE_URL`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database for one test. Dropping it drops the PostgreSQL database (unless
/// `STEWARD_KEEP_TEST_DB=1`, which keeps it and prints its URL for inspection) or deletes
/// the SQLite directory.
pub struct TestDatabase {
    url: String,
    postgres: Option<PostgresDb>,
    _dir: Option<tempfile::TempDir>,
}

struct PostgresDb {
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// A SQLite file in a fresh temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::Builder::new()
            .prefix("steward-test-db-")
            .tempdir()
            .expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("steward.db").display());
        TestDatabase { url, postgres: None, _dir: Some(dir) }
    }

    /// A new, empty PostgreSQL database on the server of `STEWARD_TEST_DATABASE_URL`
    /// (default [`DEFAULT_POSTGRES_URL`]).
    ///
    /// # Panics
    /// When PostgreSQL cannot be reached: the test fails, it is not skipped.
    pub async fn postgres() -> TestDatabase {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url = std::env::var("STEWARD_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let name = format!(
            "steward_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            random_u32()
        );
        let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {admin_url} is unreachable ({e}); \
                 start it or set STEWARD_TEST_DATABASE_URL"
            )
        });
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&admin_url, &name);
        TestDatabase { url, postgres: Some(PostgresDb { admin_url, name }), _dir: None }
    }

    /// The URL to hand to `Store::connect` or `steward serve --database`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the PostgreSQL database at once, ending every connection to it: the database
    /// gone from under a running desk. Dropping `self` later finds nothing left to drop.
    ///
    /// # Panics
    /// On a SQLite database, or when the server refuses.
    pub async fn drop_postgres_now(&self) {
        let pg = self.postgres.as_ref().expect("only a PostgreSQL test database can be dropped");
        drop_database(&pg.admin_url, &pg.name)
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {}: {e}", pg.name));
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
    conn.close().await
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        if std::env::var("STEWARD_KEEP_TEST_DB").is_ok_and(|v| v == "1") {
            eprintln!("keeping test database {}", self.url);
            return;
        }
        // Drop runs outside any async context we can rely on (maybe inside a runtime that
        // is shutting down), so drop the database from a thread with its own runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(drop_database(&pg.admin_url, &pg.name))?;
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.url);
        }
    }
}

/// `admin_url` with its database name replaced by `name` (query string kept).
fn with_database(admin_url: &str, name: &str) -> String {
    let authority_start = admin_url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match admin_url[authority_start..].find('/') {
        Some(slash) => {
            let slash = authority_start + slash;
            let rest = &admin_url[slash + 1..];
            let query = rest.find('?').map_or("", |q| &rest[q..]);
            (&admin_url[..slash], query)
        }
        None => match admin_url.find('?') {
            Some(q) => (&admin_url[..q], &admin_url[q..]),
            None => (admin_url, ""),
        },
    };
    format!("{base}/{name}{query}")
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded randomly per process; mixing in the time makes names distinct
    // across processes started in the same instant.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}

//! The store's typed error: what callers can match on (not found, conflict) and what they
//! can only log (database, migration, decoding).

/// Everything a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named record does not exist.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The change contradicts the stored state: a duplicate id, a case already closed,
    /// a delivery lease lost to another worker.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database refused or failed the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL names no supported backend, or names it badly.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// A stored value could not be read back (JSON text that does not parse, an unknown
    /// enum value). Means the data was changed outside the store.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        StoreError::NotFound { what, id: id.into() }
    }

    /// Turns a unique-constraint violation into `Conflict`, leaves other errors as they are.
    pub(crate) fn from_write(err: sqlx::Error, what: &str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("{what} already exists"))
            }
            _ => StoreError::Database(err),
        }
    }
}

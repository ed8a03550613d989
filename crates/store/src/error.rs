use diesel::result::{DatabaseErrorKind, Error as DieselError};
use thiserror::Error;

/// What went wrong in the store. None of these means "not found".
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL names a backend this build does not support.
    #[error("database.url {0:?} is not supported: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl(String),
    /// No connection could be made or taken from the pool.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Every connection was busy for longer than the acquire timeout.
    #[error("timed out waiting for a database connection")]
    Busy,
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(DieselError),
    /// A unique or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A row holds a value the code cannot read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database work panicked: a bug of ours (500), not an outage (503).
    #[error("bug: database work panicked: {0}")]
    Panicked(String),
}

impl StoreError {
    /// How the message of [`StoreError::Panicked`] starts, for callers that carry errors as text.
    pub const BUG: &'static str = "bug:";
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation,
                info,
            ) => Self::Conflict(info.message().to_owned()),
            other => Self::Query(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

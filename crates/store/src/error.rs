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
    #[error("database work panicked: {0}")]
    Panicked(String),
}

/// A fault of ours as it travels past the store (cloneable: one failed load answers every
/// request that waited on it), sorted by what the caller should answer.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Fault {
    /// The database (or something it needs) does not answer now: 503 with `Retry-After`; the
    /// same request may succeed later.
    #[error("{0}")]
    Outage(String),
    /// A bug of ours or data the code cannot read: 500; retrying will not help.
    #[error("{0}")]
    Bug(String),
}

impl Fault {
    /// Whether this is an outage (503) rather than a bug (500).
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Outage(_))
    }
}

impl From<StoreError> for Fault {
    fn from(error: StoreError) -> Self {
        let message = error.to_string();
        match error {
            StoreError::UnsupportedUrl(_)
            | StoreError::Unavailable(_)
            | StoreError::Busy
            | StoreError::Query(_)
            | StoreError::Migration(_) => Self::Outage(message),
            // A constraint refusing a write where none was expected is a bug of ours, like
            // a row the code cannot read back.
            StoreError::Conflict(_) | StoreError::Corrupt(_) | StoreError::Panicked(_) => Self::Bug(message),
        }
    }
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

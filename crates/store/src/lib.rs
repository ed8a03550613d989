//! Gatepass's storage: diesel schema, rows, repositories, the r2d2 pool and the
//! migrations embedded in the binary, for SQLite (the embedded default) and PostgreSQL
//! through one `MultiConnection`.
//!
//! Every repository function takes a `&mut Conn` and returns `Result<_, StoreError>`;
//! lookups return `Result<Option<T>, StoreError>` so that a database fault is never
//! mistaken for "not found". Async callers go through [`Database::run`], which moves
//! the blocking work off the executor behind a bounded wait.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gatepass_store::StoreError> {
//! use gatepass_store::{Database, DatabaseSettings};
//!
//! let db = Database::open(&DatabaseSettings::new("sqlite://./data/gatepass.db"))?;
//! db.migrate()?;
//! let keys = db.run(|conn| gatepass_store::signing_keys::list(conn)).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod approvals;
pub mod audit;
pub mod clients;
pub mod credentials;
mod database;
mod error;
pub mod revoked_tokens;
pub mod roles;
pub mod schema;
pub mod secrets;
pub mod service_accounts;
pub mod signing_keys;
#[cfg(feature = "testing")]
pub mod testing;

pub use database::{Backend, Conn, Database, DatabaseSettings};
pub use error::StoreError;

/// Runs `work` in one write transaction: all of it or none of it. `work` may fail with its own
/// error type (an admin refusal, say): any error rolls the transaction back.
pub fn transaction<T, E: From<StoreError>>(
    conn: &mut Conn,
    work: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E> {
    /// Diesel's errors and the work's own, apart until the transaction is over.
    enum Failed<E> {
        Database(diesel::result::Error),
        Work(E),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(error: diesel::result::Error) -> Self {
            Self::Database(error)
        }
    }
    diesel::Connection::transaction(conn, |conn| {
        // SQLite: take the write lock first. A transaction that reads and then writes fails
        // at once with "database is locked" when another writer committed meanwhile (its WAL
        // snapshot is stale, and the busy timeout does not apply); one that starts by writing
        // waits its turn within the busy timeout.
        if matches!(conn, Conn::Sqlite(_)) {
            database::lock(conn, "write").map_err(|e| Failed::Work(E::from(e)))?;
        }
        work(conn).map_err(Failed::Work)
    })
    .map_err(|failed| match failed {
        Failed::Database(error) => E::from(StoreError::from(error)),
        Failed::Work(error) => error,
    })
}

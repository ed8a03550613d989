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
pub mod outbox;
pub mod revoked_tokens;
pub mod roles;
pub mod schema;
pub mod secrets;
pub mod service_accounts;
pub mod signing_keys;
#[cfg(feature = "testing")]
pub mod testing;

pub use database::{Backend, Conn, Database, DatabaseSettings};
pub use error::{Fault, StoreError};

/// A named lock that serialises one class of writes across every node sharing the database
/// (docs/architecture.md, "Invariants under concurrency").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// Every admin write (API, CLI, console): its read-check-write rules (the last admin,
    /// four-eyes decisions against a concurrent change of the target, …) see each other's
    /// commits.
    Admin,
    /// The signing-key schedule: two nodes never rotate at once.
    SigningKeys,
}

impl Lock {
    fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::SigningKeys => "signing_keys",
        }
    }
}

/// Runs `work` in one write transaction: all of it or none of it. `work` may fail with its own
/// error type (an admin refusal, say): any error rolls the transaction back.
pub fn transaction<T, E: From<StoreError>>(
    conn: &mut Conn,
    work: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E> {
    in_transaction(conn, None, work)
}

/// Like [`transaction`], holding `lock` from its first statement to its end, so a rule
/// checked by reading and then writing cannot be broken by a concurrent writer of the same
/// class: under PostgreSQL's READ COMMITTED each statement after the lock sees every
/// commit made before it was granted (without it, two transactions that each count and then
/// write never see each other's write: write skew).
pub fn transaction_holding<T, E: From<StoreError>>(
    conn: &mut Conn,
    lock: Lock,
    work: impl FnOnce(&mut Conn) -> Result<T, E>,
) -> Result<T, E> {
    in_transaction(conn, Some(lock), work)
}

fn in_transaction<T, E: From<StoreError>>(
    conn: &mut Conn,
    lock: Option<Lock>,
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
        if let Some(lock) = lock {
            database::lock(conn, lock.name()).map_err(|e| Failed::Work(E::from(e)))?;
        }
        work(conn).map_err(Failed::Work)
    })
    .map_err(|failed| match failed {
        Failed::Database(error) => E::from(StoreError::from(error)),
        Failed::Work(error) => error,
    })
}

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{CustomizeConnection, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::Semaphore;

use crate::StoreError;
use crate::schema::locks;

/// A connection to either backend; every repository function takes one. Queries are
/// written once with diesel's DSL and run on both.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    /// The embedded default.
    Sqlite(SqliteConnection),
    /// Several nodes on one database.
    Postgres(PgConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Which database a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://PATH`: the path.
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`: the URL as given.
    Postgres(String),
}

impl Backend {
    /// Parses a database URL. Anything else is refused rather than silently creating an
    /// empty `SQLite` file somewhere.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() || path == ":memory:" {
                return Err(StoreError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // libpq tries GSSAPI encryption first by default; its Kerberos library then races
            // thread-local destructors at process exit and can crash a short-lived process
            // (seen with the CLI). Disable it unless the URL asks for it.
            if url.contains("gssencmode=") {
                return Ok(Self::Postgres(url.to_owned()));
            }
            let separator = if url.contains('?') { '&' } else { '?' };
            return Ok(Self::Postgres(format!("{url}{separator}gssencmode=disable")));
        }
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// How to reach the database and how much of it to use.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    /// Most connections held open.
    pub pool_size: u32,
    /// How long a caller waits for a free connection before the request fails fast.
    pub acquire_timeout: Duration,
    /// Connections reserved for the token endpoint's reads ([`Database::run_read`]), on top
    /// of `pool_size`: admin writes waiting on a lock can never take them.
    pub token_read_pool_size: u32,
    /// Connections kept open while idle. A one-shot command wants 0: with 1, taking the idle
    /// connection makes the pool open another in the background, which a process that
    /// exits right away would interrupt mid-handshake.
    pub min_idle: u32,
}

impl DatabaseSettings {
    /// Settings with the default pool size (8, plus 4 for token reads), acquire timeout (2 s)
    /// and one idle connection.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 8,
            token_read_pool_size: 4,
            acquire_timeout: Duration::from_secs(2),
            min_idle: 1,
        }
    }
}

/// Opens connections for the one backend the URL names, and nothing else.
#[derive(Debug)]
struct Manager(Backend);

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        match &self.0 {
            Backend::Sqlite(path) => SqliteConnection::establish(path).map(Conn::Sqlite),
            Backend::Postgres(url) => PgConnection::establish(url).map(Conn::Postgres),
        }
        .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_broken()
    }
}

/// Per-connection setup. `SQLite`'s busy timeout is the acquire timeout: a caller waits for a
/// lock at most as long as it would wait for a connection, never the two added up to more.
#[derive(Debug)]
struct Session {
    busy_timeout_ms: u128,
}

impl CustomizeConnection<Conn, diesel::r2d2::Error> for Session {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        let setup = match conn {
            Conn::Sqlite(_) => format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                self.busy_timeout_ms
            ),
            // A statement that hangs (a lock held by a dead node) must not hold a worker.
            Conn::Postgres(_) => "SET statement_timeout = 10000; SET lock_timeout = 5000;".to_owned(),
        };
        conn.batch_execute(&setup).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// A pool of connections to the Gatepass database.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    permits: Arc<Semaphore>,
    read_permits: Arc<Semaphore>,
    reads: u32,
    acquire_timeout: Duration,
}

impl Database {
    /// Opens a pool for the backend the URL names.
    pub fn open(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let backend = Backend::parse(&settings.url)?;
        let (general, reads) = (settings.pool_size.max(1), settings.token_read_pool_size);
        // With WAL, readers never wait for the writer: connections of the read budget serve
        // the token endpoint while admin writes queue on the write lock in their own budget.
        let pool = Pool::builder()
            .max_size(general + reads)
            .min_idle(Some(settings.min_idle.min(general)))
            .connection_timeout(settings.acquire_timeout)
            .connection_customizer(Box::new(Session {
                busy_timeout_ms: settings.acquire_timeout.as_millis().max(1),
            }))
            .build(Manager(backend))?;
        Ok(Self {
            pool,
            permits: Arc::new(Semaphore::new(general as usize)),
            read_permits: Arc::new(Semaphore::new(reads as usize)),
            reads,
            acquire_timeout: settings.acquire_timeout,
        })
    }

    /// Applies pending migrations of the connected backend; returns those applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            Conn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| names(&v)),
            Conn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| names(&v)),
        };
        applied.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// A connection for synchronous callers (the CLI, start-up).
    pub fn conn(&self) -> Result<PooledConnection<impl ManageConnection<Connection = Conn>>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work off the async executor.
    ///
    /// At most `pool_size` tasks run at once; a caller that cannot start within the
    /// acquire timeout gets [`StoreError::Busy`] instead of queueing without bound. Work
    /// that panics is a bug, answered [`StoreError::Panicked`] (500), not an outage.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        self.run_with(&self.permits, work).await
    }

    /// Like [`Database::run`], for the token endpoint's reads: a budget of its own
    /// (`token_read_pool_size`), so they never wait behind admin writes. With no such
    /// budget configured, the shared one.
    pub async fn run_read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        if self.reads == 0 {
            return self.run_with(&self.permits, work).await;
        }
        self.run_with(&self.read_permits, work).await
    }

    async fn run_with<T, F>(&self, permits: &Arc<Semaphore>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        // One deadline for the permit and the connection together: a caller waits at most
        // the acquire timeout in all, never once for each.
        let deadline = tokio::time::Instant::now() + self.acquire_timeout;
        let permit = tokio::time::timeout_at(deadline, Arc::clone(permits).acquire_owned())
            .await
            .map_err(|_| StoreError::Busy)?
            .map_err(|_| StoreError::Busy)?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let mut conn = pool.get_timeout(left.max(Duration::from_millis(1)))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| {
            // Callers log errors with their cause; this one names itself a bug.
            if e.is_panic() {
                StoreError::Panicked(e.to_string())
            } else {
                StoreError::Unavailable(format!("database task failed: {e}"))
            }
        })?
    }

    /// The pool right now: (open connections, idle ones, the most it opens).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections, self.pool.max_size())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

fn names(versions: &[diesel::migration::MigrationVersion<'_>]) -> Vec<String> {
    versions.iter().map(ToString::to_string).collect()
}

/// Takes the named lock for the rest of the current transaction: on `SQLite` the write
/// lock, on `PostgreSQL` a row lock. Two nodes changing the same thing queue up here.
pub(crate) fn lock(conn: &mut Conn, name: &str) -> Result<(), StoreError> {
    let taken = diesel::update(locks::table.find(name))
        .set(locks::touched_at.eq(locks::touched_at + 1))
        .execute(conn)?;
    if taken == 1 {
        return Ok(());
    }
    diesel::insert_into(locks::table)
        .values((locks::name.eq(name), locks::touched_at.eq(0)))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_disable_gssapi_unless_asked() {
        assert_eq!(
            Backend::parse("postgres://u@h/db").unwrap(),
            Backend::Postgres("postgres://u@h/db?gssencmode=disable".into())
        );
        assert_eq!(
            Backend::parse("postgresql://u@h/db?sslmode=require").unwrap(),
            Backend::Postgres("postgresql://u@h/db?sslmode=require&gssencmode=disable".into())
        );
        assert_eq!(
            Backend::parse("postgres://u@h/db?gssencmode=require").unwrap(),
            Backend::Postgres("postgres://u@h/db?gssencmode=require".into())
        );
    }

    #[tokio::test]
    async fn a_panic_in_database_work_is_a_bug_not_an_outage() {
        let database = crate::testing::TestDatabase::create(crate::testing::TestBackend::Sqlite).unwrap();
        let db = Database::open(&DatabaseSettings::new(&database.url)).unwrap();
        let result: Result<(), StoreError> = db.run(|_| panic!("boom")).await;
        assert!(matches!(result, Err(StoreError::Panicked(_))), "{result:?}");
        let read: Result<(), StoreError> = db.run_read(|_| panic!("boom")).await;
        assert!(matches!(read, Err(StoreError::Panicked(_))), "{read:?}");
        assert!(db.ping().await.is_ok(), "the budget is given back");
    }

    #[test]
    fn the_token_read_budget_is_on_top_of_the_pool() {
        let database = crate::testing::TestDatabase::create(crate::testing::TestBackend::Sqlite).unwrap();
        let db = Database::open(&DatabaseSettings::new(&database.url)).unwrap();
        assert_eq!(db.pool_state().2, 12, "8 shared + 4 for token reads");
    }

    #[test]
    fn unknown_schemes_are_refused() {
        for url in [
            "",
            "gatepass.db",
            "sqlite://",
            "sqlite://:memory:",
            "mysql://x",
            "postgre://x",
        ] {
            assert!(
                matches!(
                    Database::open(&DatabaseSettings::new(url)),
                    Err(StoreError::UnsupportedUrl(_))
                ),
                "{url}"
            );
        }
    }
}

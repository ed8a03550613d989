use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{RunQueryDsl, connection::SimpleConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::Semaphore;

use crate::StoreError;

/// The connection type every repository function takes.
pub type Conn = SqliteConnection;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// How to reach the database and how much of it to use.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (`PostgreSQL` arrives in its own release).
    pub url: String,
    /// Most connections held open.
    pub pool_size: u32,
    /// How long a caller waits for a free connection before the request fails fast.
    pub acquire_timeout: Duration,
}

impl DatabaseSettings {
    /// Settings with the default pool size (8) and acquire timeout (2 s).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            pool_size: 8,
            acquire_timeout: Duration::from_secs(2),
        }
    }
}

/// A pool of connections to the Gatepass database.
#[derive(Clone)]
pub struct Database {
    pool: Pool<ConnectionManager<Conn>>,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<Conn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Database {
    /// Opens a pool. An unknown URL scheme is refused rather than silently creating an
    /// empty `SQLite` file somewhere.
    pub fn open(settings: &DatabaseSettings) -> Result<Self, StoreError> {
        let path = settings
            .url
            .strip_prefix("sqlite://")
            .filter(|path| !path.is_empty() && *path != ":memory:")
            .ok_or_else(|| StoreError::UnsupportedUrl(settings.url.clone()))?;
        let pool = Pool::builder()
            .max_size(settings.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(settings.acquire_timeout)
            .connection_customizer(Box::new(SqlitePragmas))
            .build(ConnectionManager::<Conn>::new(path))?;
        Ok(Self {
            pool,
            permits: Arc::new(Semaphore::new(settings.pool_size.max(1) as usize)),
            acquire_timeout: settings.acquire_timeout,
        })
    }

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = conn
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    }

    /// A connection for synchronous callers (the CLI, start-up).
    pub fn conn(&self) -> Result<PooledConnection<ConnectionManager<Conn>>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work off the async executor.
    ///
    /// At most `pool_size` tasks run at once; a caller that cannot start within the
    /// acquire timeout gets [`StoreError::Busy`] instead of queueing without bound.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = tokio::time::timeout(self.acquire_timeout, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| StoreError::Busy)?
            .map_err(|_| StoreError::Busy)?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_are_refused() {
        for url in [
            "",
            "gatepass.db",
            "sqlite://",
            "sqlite://:memory:",
            "mysql://x",
            "postgres://localhost/x",
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

    #[tokio::test]
    async fn migrates_and_answers_a_ping() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Database::open(&DatabaseSettings::new(url)).unwrap();
        assert_eq!(db.migrate().unwrap().len(), 1);
        assert!(db.migrate().unwrap().is_empty(), "second run applies nothing");
        db.ping().await.unwrap();
    }
}

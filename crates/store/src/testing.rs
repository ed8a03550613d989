//! Fresh databases for tests on both backends (feature `testing`).
//!
//! Each [`TestDatabase`] is a new `SQLite` file in a temporary directory or a new
//! `PostgreSQL` database on the server named by `GATEPASS_TEST_DATABASE_URL`, dropped
//! when the value is dropped, so tests run in parallel and leave nothing behind.
#![allow(
    clippy::expect_used,
    reason = "test support only: a test whose database cannot be set up must fail at once"
)]

use std::env;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;

/// The variable naming the `PostgreSQL` server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const TEST_DATABASE_URL: &str = "GATEPASS_TEST_DATABASE_URL";

/// The backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    /// A temporary `SQLite` file.
    Sqlite,
    /// A temporary database on the test `PostgreSQL` server.
    Postgres,
}

/// A database that exists for the life of this value.
pub struct TestDatabase {
    /// The URL to give Gatepass.
    pub url: String,
    /// The backend.
    pub backend: TestBackend,
    dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh database, or `None` (with a message) for `PostgreSQL` when
    /// `GATEPASS_TEST_DATABASE_URL` is not set.
    pub fn create(backend: TestBackend) -> Option<Self> {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("gatepass.db").display());
                Some(Self {
                    url,
                    backend,
                    dir: Some(dir),
                    postgres: None,
                })
            }
            TestBackend::Postgres => {
                let Ok(server) = env::var(TEST_DATABASE_URL) else {
                    assert!(
                        env::var_os("CI").is_none(),
                        "{TEST_DATABASE_URL} is not set, and under CI PostgreSQL tests must run, not skip"
                    );
                    eprintln!("SKIPPED on PostgreSQL: {TEST_DATABASE_URL} is not set");
                    return None;
                };
                Some(Self::create_on(&server))
            }
        }
    }

    /// A fresh `PostgreSQL` database on the server `server` names (the URL of a database
    /// there that exists, e.g. `postgres://postgres@127.0.0.1:5432/postgres`): for a test that
    /// runs a cluster of its own instead of the one `GATEPASS_TEST_DATABASE_URL` names.
    pub fn create_on(server: &str) -> Self {
        let name = format!("gatepass_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(&without_gssapi(server)).expect("connect to the test PostgreSQL server");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
        let url = format!("{base}/{name}");
        Self {
            url,
            backend: TestBackend::Postgres,
            dir: None,
            postgres: Some((server.to_owned(), name)),
        }
    }

    /// Kills every server-side connection to this `PostgreSQL` database, as a failover or
    /// an administrator would. Does nothing on `SQLite`.
    pub fn terminate_connections(&self) {
        if let Some((server, name)) = &self.postgres {
            let mut admin =
                PgConnection::establish(&without_gssapi(server)).expect("connect to the test PostgreSQL server");
            admin
                .batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .expect("terminate connections");
        }
    }

    /// A directory that lives as long as the database (`SQLite`: the one holding it).
    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres
            && let Ok(mut admin) = PgConnection::establish(&without_gssapi(server))
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Writes each test body once and runs it on `SQLite` and on `PostgreSQL`:
///
/// ```ignore
/// both_backends! {
///     async fn keys_survive_a_restart(backend) { let db = TestDatabase::create(backend).unwrap(); … }
/// }
/// ```
///
/// makes `keys_survive_a_restart::sqlite` and `keys_survive_a_restart::postgres`. Built
/// without `GATEPASS_TEST_DATABASE_URL`, the latter is `#[ignore]`d (the using crate's
/// `build.rs` sets `cfg(gatepass_no_postgres)`), so the runner lists it as ignored; run
/// without it but built with it, it says so and returns — and fails under `CI`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $backend = $crate::testing::TestBackend::Sqlite;
                $body
            }

            #[tokio::test]
            #[cfg_attr(gatepass_no_postgres, ignore = "needs PostgreSQL: set GATEPASS_TEST_DATABASE_URL")]
            async fn postgres() {
                if ::std::env::var($crate::testing::TEST_DATABASE_URL).is_err() {
                    assert!(::std::env::var_os("CI").is_none(), "under CI PostgreSQL tests must run, not skip");
                    eprintln!("SKIPPED on PostgreSQL: {} is not set", $crate::testing::TEST_DATABASE_URL);
                    return;
                }
                let $backend = $crate::testing::TestBackend::Postgres;
                $body
            }
        }
    )*};
}

/// The URL as Gatepass itself would use it (GSSAPI off unless asked for).
fn without_gssapi(url: &str) -> String {
    match crate::Backend::parse(url) {
        Ok(crate::Backend::Postgres(url)) => url,
        _ => url.to_owned(),
    }
}

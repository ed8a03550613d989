//! The command-level test bench: an [`AdminState`] on a fresh database (either backend), a
//! manual clock, and callers holding exactly the scopes a test gives them. The rules
//! (authorization, the last admin, four-eyes, invariants under concurrency) are tested
//! here without a process or HTTP; the server's tests keep the statuses and the API contract.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a broken setup fails the test at once"
)]

use std::pin::Pin;
use std::sync::Arc;

use gatepass_core::{ManualClock, MasterKey, ScopeSet, SecretPrefix};
use gatepass_store::testing::{TestBackend, TestDatabase};
use gatepass_store::{Conn, Database, DatabaseSettings};
use serde::Serialize;
use serde_json::Value;

use crate::access::{Caller, Capability, Operator, Principal};
use crate::keys::{KeySchedule, Rotation, SigningKey};
use crate::problem::AdminError;
use crate::{AdminState, Callers, Outcome};

/// The issuer the bench's admin API accepts as audience.
pub const ISSUER: &str = "https://gatepass.test";

/// An admin service layer on its own database.
pub struct Bench {
    /// The service layer under test.
    pub state: AdminState,
    /// The time every command sees.
    pub clock: Arc<ManualClock>,
    // Dropped last: the database outlives the pool.
    _database: TestDatabase,
}

/// Signing keys are the token service's; no rule tested here lists or rotates them.
struct NoKeys;

impl KeySchedule for NoKeys {
    fn list(&self, _: &mut Conn, _: i64) -> Result<Vec<SigningKey>, AdminError> {
        Ok(Vec::new())
    }

    fn rotate(&self, _: &mut Conn, _: i64) -> Result<Rotation, AdminError> {
        Err(AdminError::Internal("the bench has no signing keys".into()))
    }

    fn rotated(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

impl Bench {
    /// A bench on `backend` (`None` where `PostgreSQL` is not configured: the test skips, or
    /// fails under `CI`), with four-eyes on or off.
    pub fn new(backend: TestBackend, four_eyes: bool) -> Option<Self> {
        let database = TestDatabase::create(backend)?;
        let db = Database::open(&DatabaseSettings::new(&database.url)).unwrap();
        db.migrate().unwrap();
        let clock = Arc::new(ManualClock::new(time::macros::datetime!(2026-12-01 12:00 UTC)));
        let state = AdminState {
            db,
            callers: Callers::CommandLine,
            pepper: Arc::new(MasterKey::from_bytes([7; 32]).secret_pepper()),
            secret_prefix: SecretPrefix::parse("gps_").unwrap(),
            max_secrets: 3,
            max_secret_age: None,
            four_eyes,
            admin_audience: ISSUER.to_owned(),
            keys: Arc::new(NoKeys),
            clock: clock.clone(),
        };
        Some(Self {
            state,
            clock,
            _database: database,
        })
    }

    /// The operator at the command line (holds everything; four-eyes as the bench says).
    pub fn operator<C: Capability>() -> Caller<C> {
        Operator::new(&MasterKey::from_bytes([7; 32])).caller()
    }

    /// A caller identified as `client_id` (of `service_account`) holding `scopes`, as the
    /// token check would hand it out.
    pub fn caller<C: Capability>(client_id: &str, service_account: Option<&str>, scopes: &str) -> Caller<C> {
        Principal::for_tests(client_id, service_account, ScopeSet::parse(scopes).unwrap())
            .capability()
            .unwrap()
    }

    /// The caller a client's token would give now: its id, service account and effective
    /// scopes, read from the database.
    pub async fn as_client<C: Capability>(&self, client_id: &str) -> Caller<C> {
        let id = client_id.to_owned();
        let (account, scopes) = self
            .state
            .read(move |conn, _| {
                let row = crate::clients::find(conn, &id)?;
                let scopes = crate::reach::client_reach(conn, &row)?;
                Ok((row.service_account_id, scopes))
            })
            .await
            .unwrap();
        Principal::for_tests(client_id, account.as_deref(), scopes)
            .capability()
            .unwrap()
    }

    /// Runs `work` on a connection of the bench's database.
    pub async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<T, gatepass_store::StoreError> + Send + 'static,
    ) -> T {
        self.state.db.run(work).await.unwrap()
    }
}

/// A command's result as the API would render it: done, or filed for approval.
pub fn done<T: Serialize>(outcome: Result<Outcome<T>, AdminError>) -> Value {
    match outcome {
        Ok(Outcome::Done(value)) => serde_json::to_value(value).unwrap(),
        Ok(Outcome::Pending(approval)) => panic!("filed for approval, not done: {}", approval.id()),
        Err(error) => panic!("refused: {error:?}"),
    }
}

/// The id of the four-eyes request a command filed.
pub fn filed<T>(outcome: Result<Outcome<T>, AdminError>) -> String {
    match outcome {
        Ok(Outcome::Pending(approval)) => approval.id().to_owned(),
        Ok(Outcome::Done(_)) => panic!("done without approval"),
        Err(error) => panic!("refused: {error:?}"),
    }
}

/// A string field of a rendered view.
pub fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {value}"))
        .to_owned()
}

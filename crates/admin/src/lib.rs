//! Gatepass administration: API clients and their secrets (create, list, read, change,
//! delete; rotation with a grace period, revocation, deletion), roles, service accounts,
//! signing keys and the audit log; each change authorized by a Gatepass access token and
//! recorded in the audit log.
//!
//! Mount with [`configure`] under `/admin/v1` on an actix-web `App` that has an
//! [`AdminState`] as app data.
#![forbid(unsafe_code)]

pub mod access;
mod api;
pub mod audit;
pub mod clients;
mod events;
pub mod export;
pub mod fields;
pub mod four_eyes;
mod gate;
pub mod keys;
pub mod problem;
mod reach;
pub mod requests;
pub mod roles;
pub mod secrets;
pub mod service_accounts;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
pub mod views;

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use gatepass_core::{Clock, SecretPepper, SecretPrefix};
use gatepass_resource_guard::Validator;
use gatepass_store::{Conn, Database};

use crate::access::{Caller, Principal};
use crate::fields::schema::FieldRules;
use crate::problem::{AdminError, ProblemResponses};
use crate::views::Approval;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// What the admin API needs; one per process.
pub struct AdminState {
    /// The database.
    pub db: Database,
    /// How callers are identified.
    pub callers: Callers,
    /// Hashes new secrets.
    pub pepper: Arc<SecretPepper>,
    /// Prefix of new secrets.
    pub secret_prefix: SecretPrefix,
    /// Most usable secrets a client may hold at once.
    pub max_secrets: usize,
    /// Secrets older than this are due for rotation (`secrets.max_age_days`), if set.
    pub max_secret_age: Option<i64>,
    /// Four-eyes policy (docs/design.md §10): every change that creates or widens a path to a
    /// `gatepass:*` scope waits for a second admin of another identity.
    pub four_eyes: bool,
    /// The audience the admin API accepts (the issuer): a client whose tokens may carry it
    /// can use the admin plane, so a change that lets it is widening under four-eyes.
    pub admin_audience: String,
    /// The signing-key schedule (kept by the token service).
    pub keys: Arc<dyn keys::KeySchedule>,
    /// Now.
    pub clock: Arc<dyn Clock>,
}

/// How the admin API learns who is calling.
pub enum Callers {
    /// Bearer tokens, validated against the server's own keys, whose standing is read from
    /// the database on every request (`gatepass serve`).
    Tokens(Validator),
    /// None over HTTP: the command line, whose commands act as the operator through
    /// [`Operator::caller`](access::Operator::caller) (only the holder of the master key can
    /// build an [`Operator`](access::Operator)).
    CommandLine,
}

/// What a command may have done: the change, or a four-eyes request waiting for a second admin.
#[derive(Debug)]
pub enum Outcome<T> {
    /// Done; the result.
    Done(T),
    /// Filed for approval (`admin.four_eyes`).
    Pending(Box<Approval>),
}

/// What a command knows besides its input and its caller: the settings and the time.
#[derive(Clone)]
pub(crate) struct Ctx {
    now: i64,
    pepper: Arc<SecretPepper>,
    secret_prefix: SecretPrefix,
    max_secrets: usize,
    max_secret_age: Option<i64>,
    four_eyes: bool,
    admin_audience: String,
}

impl Ctx {
    fn moment(&self) -> views::Moment {
        views::Moment {
            now: self.now,
            max_secret_age: self.max_secret_age,
        }
    }
}

/// Mounts the admin routes under `/admin/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin/v1")
            .app_data(web::PayloadConfig::default().limit(64 * 1024))
            .app_data(web::QueryConfig::default().error_handler(|error, _| {
                AdminError::BadBody {
                    field: "query".into(),
                    message: error.to_string(),
                }
                .into()
            }))
            .configure(api::configure)
            .configure(audit::configure)
            .configure(export::configure)
            // A path under /admin/v1 that names no route answers like every other admin error.
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(AdminError::NotFound("route"))
            })),
    );
}

impl AdminState {
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn ctx(&self) -> Ctx {
        Ctx {
            now: self.now(),
            pepper: Arc::clone(&self.pepper),
            secret_prefix: self.secret_prefix.clone(),
            max_secrets: self.max_secrets,
            max_secret_age: self.max_secret_age,
            four_eyes: self.four_eyes,
            admin_audience: self.admin_audience.clone(),
        }
    }

    fn moment(&self) -> views::Moment {
        self.ctx().moment()
    }

    /// Reads off the executor.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn, &Ctx) -> Result<T, AdminError> + Send + 'static,
    ) -> Result<T, AdminError> {
        let ctx = self.ctx();
        self.db.run(move |conn| Ok(work(conn, &ctx))).await?
    }

    /// Runs a command in one transaction off the executor, holding the admin lock
    /// ([`Lock::Admin`](gatepass_store::Lock::Admin)) from its first statement: its checks,
    /// its change and its audit event commit together or not at all, and no other admin
    /// write on any node runs between its reads and its writes. An authorization refusal is
    /// recorded in the audit log (`action` on `target`, outcome `refused`). Every node's
    /// credential cache learns of the change from the change feed the command appended to.
    async fn write<C, T: Send + 'static>(
        &self,
        caller: &Caller<C>,
        action: &'static str,
        target: String,
        work: impl FnOnce(&mut Conn, &Ctx, &Principal) -> Result<T, AdminError> + Send + 'static,
    ) -> Result<T, AdminError> {
        let ctx = self.ctx();
        let actor = caller.principal().clone();
        let done = self
            .db
            .run(move |conn| {
                Ok(gatepass_store::transaction_holding(
                    conn,
                    gatepass_store::Lock::Admin,
                    |conn| work(conn, &ctx, &actor),
                ))
            })
            .await?;
        if let Err(error) = &done
            && error.is_refusal()
        {
            self.record_refusal(caller.principal(), action, &target, error).await;
        }
        done
    }

    /// Records a refused request (outside any rolled-back transaction).
    async fn record_refusal(&self, actor: &Principal, action: &str, target: &str, error: &AdminError) {
        let mut row = actor.event(self.now(), action, target);
        row.outcome = "refused".into();
        row.reason = Some(error.reason());
        if let Err(failure) = self
            .db
            .run(move |conn| gatepass_store::audit::append(conn, &[row]))
            .await
        {
            log::error!("could not record a refused admin request cause={failure}");
        }
    }
}

/// The admin API's `OpenAPI` document (merged with the token endpoint's by the server).
#[derive(OpenApi)]
#[openapi(
    paths(
        api::clients::create, api::clients::list, api::clients::read, api::clients::change, api::clients::remove,
        api::secrets::create, api::secrets::list, api::secrets::revoke, api::secrets::remove, api::secrets::due,
        api::roles::create, api::roles::list, api::roles::read, api::roles::change, api::roles::remove,
        api::service_accounts::create, api::service_accounts::list, api::service_accounts::read, api::service_accounts::change, api::service_accounts::remove,
        audit::list,
        export::export_clients, export::export_secrets, export::export_audit,
        api::approvals::list, api::approvals::approve, api::approvals::reject,
        api::signing_keys::list, api::signing_keys::rotate,
    ),
    components(schemas(problem::Problem)),
    modifiers(&BearerAuth, &ProblemResponses, &FieldRules),
    tags(
        (name = "clients", description = "API clients (service credentials)"),
        (name = "secrets", description = "Client secrets and rotation"),
        (name = "roles", description = "Roles: names for sets of scopes"),
        (name = "service-accounts", description = "Non-human identities whose roles bound their clients"),
        (name = "audit", description = "The append-only audit log"),
        (name = "export", description = "Bulk export as JSON or CSV"),
        (name = "approvals", description = "Four-eyes requests waiting for a second admin"),
        (name = "signing-keys", description = "The signing-key schedule"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme: a Gatepass access token.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

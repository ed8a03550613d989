//! Gatepass administration over HTTP: API clients and their secrets (create, list, read,
//! change, delete; rotation with a grace period, revocation, deletion), roles, service
//! accounts and the audit log; each change authorized by a Gatepass access token and
//! recorded in the audit log.
//!
//! Mount with [`configure`] under `/admin/v1` on an actix-web `App` that has an
//! [`AdminState`] as app data.
#![forbid(unsafe_code)]

mod approvals;
mod audit;
mod clients;
mod export;
mod labels;
pub mod principal;
pub mod problem;
mod roles;
mod secrets;
mod service_accounts;
pub mod views;

use std::sync::Arc;

use actix_web::web;
use gatepass_core::{Clock, SecretPepper, SecretPrefix};
use gatepass_resource_guard::Validator;
use gatepass_store::audit::AuditEventRow;
use gatepass_store::{Conn, Database, StoreError};

use crate::principal::Principal;
use crate::problem::AdminError;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// What the admin API needs; one per process.
pub struct AdminState {
    /// The database.
    pub db: Database,
    /// How callers are identified.
    pub callers: Callers,
    /// Hashes new secrets.
    pub pepper: SecretPepper,
    /// Prefix of new secrets.
    pub secret_prefix: SecretPrefix,
    /// Most usable secrets a client may hold at once.
    pub max_secrets: usize,
    /// Secrets older than this are due for rotation (`secrets.max_age_days`), if set.
    pub max_secret_age: Option<i64>,
    /// Four-eyes policy: creating a service account or granting a `gatepass:*` scope waits
    /// for a second, different admin.
    pub four_eyes: bool,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Called after every committed change, so this node's token endpoint stops trusting the
    /// credentials it cached (a revoked secret is refused at once).
    pub on_change: Box<dyn Fn() + Send + Sync>,
}

/// How the admin API learns who is calling.
pub enum Callers {
    /// Bearer tokens, validated against the server's own keys (`gatepass serve`).
    Tokens(Validator),
    /// The operator at the command line, who already holds the database and the master key:
    /// every request acts as actor `cli` with `gatepass:admin`. Only the CLI builds this.
    Operator,
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
            .configure(clients::configure)
            .configure(secrets::configure)
            .configure(roles::configure)
            .configure(service_accounts::configure)
            .configure(audit::configure)
            .configure(export::configure)
            .configure(approvals::configure),
    );
}

impl AdminState {
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    fn moment(&self) -> views::Moment {
        views::Moment {
            now: self.now(),
            max_secret_age: self.max_secret_age,
        }
    }
}

/// Runs a change and its one audit event in one transaction, off the executor. `change`
/// returns its result and whether it changed anything; only then is the event written.
async fn audited<T: Send + 'static>(
    state: &AdminState,
    principal: &Principal,
    action: &'static str,
    target: &str,
    change: impl FnOnce(&mut Conn) -> Result<(T, bool), StoreError> + Send + 'static,
) -> Result<T, AdminError> {
    let row = event(principal, state.now(), action, target);
    let done = state
        .db
        .run(move |conn| {
            gatepass_store::transaction(conn, |conn| {
                let (value, changed) = change(conn)?;
                if changed {
                    gatepass_store::audit::append(conn, &[row])?;
                }
                Ok(value)
            })
        })
        .await?;
    (state.on_change)();
    Ok(done)
}

/// Deletes one resource by id with its audit event: 204, or 404 naming `what`.
async fn delete_audited(
    state: &AdminState,
    principal: &Principal,
    action: &'static str,
    what: &'static str,
    id: String,
    delete: fn(&mut Conn, &str) -> Result<bool, StoreError>,
) -> Result<actix_web::HttpResponse, AdminError> {
    let target = id.clone();
    let deleted = audited(state, principal, action, &target, move |conn| {
        let deleted = delete(conn, &id)?;
        Ok((deleted, deleted))
    })
    .await?;
    if deleted {
        Ok(actix_web::HttpResponse::NoContent().finish())
    } else {
        Err(AdminError::NotFound(what))
    }
}

/// The one audit event of a change.
fn event(principal: &Principal, now: i64, action: &str, target: &str) -> AuditEventRow {
    AuditEventRow {
        id: uuid::Uuid::now_v7().to_string(),
        occurred_at: now,
        actor: principal.client_id.clone(),
        action: action.to_owned(),
        target: Some(target.to_owned()),
        outcome: "success".to_owned(),
        reason: None,
        request_id: principal.request_id.clone(),
        source_addr: principal.source_addr.clone(),
        details: None,
    }
}

/// The admin API's `OpenAPI` document (merged with the token endpoint's by the server).
#[derive(OpenApi)]
#[openapi(
    paths(
        clients::create, clients::list, clients::read, clients::change, clients::remove,
        secrets::create, secrets::list, secrets::revoke, secrets::remove, secrets::due,
        roles::create, roles::list, roles::read, roles::change, roles::remove,
        service_accounts::create, service_accounts::list, service_accounts::read, service_accounts::change, service_accounts::remove,
        audit::list,
        export::export_clients, export::export_secrets, export::export_audit,
        approvals::list, approvals::approve, approvals::reject,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "clients", description = "API clients (service credentials)"),
        (name = "secrets", description = "Client secrets and rotation"),
        (name = "roles", description = "Roles: names for sets of scopes"),
        (name = "service-accounts", description = "Non-human identities whose roles bound their clients"),
        (name = "audit", description = "The append-only audit log"),
        (name = "export", description = "Bulk export as JSON or CSV"),
        (name = "approvals", description = "Four-eyes requests waiting for a second admin"),
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

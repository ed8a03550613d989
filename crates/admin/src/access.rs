//! Who is calling and what they may do. The admin API is a resource server of Gatepass:
//! a caller is identified by its access token, which must still *stand* (docs/design.md §10: its secret,
//! client and service account usable, its `jti` not revoked), and its scopes are those of
//! the token narrowed to what the client holds *now*.
//!
//! Authorization is by construction: every write in this crate takes a [`Caller<C>`], and
//! the only way to get one is the scope check in [`Caller::from_request`] (or
//! [`Principal::capability`], the same check). Acting on an existing object additionally
//! goes through [`Principal::may_act_on`], inside the write's transaction.

use std::marker::PhantomData;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use gatepass_core::{MasterKey, RequestId, ScopeSet};
use gatepass_store::audit::AuditEventRow;

use crate::problem::AdminError;
use crate::{AdminState, Callers};

/// Everything, including every finer scope.
pub const ADMIN: &str = gatepass_core::ADMIN_SCOPE;
/// Read clients and secrets metadata.
pub const CLIENTS_READ: &str = "gatepass:clients:read";
/// Create, change, rotate and delete clients and secrets.
pub const CLIENTS_WRITE: &str = "gatepass:clients:write";
/// Create and change roles and service accounts.
pub const SERVICE_ACCOUNTS_WRITE: &str = "gatepass:service-accounts:write";
/// Rotate signing keys.
pub const KEYS_WRITE: &str = "gatepass:keys:write";
/// Read the audit log.
pub const AUDIT_READ: &str = "gatepass:audit:read";
/// The operator at the command line, as the audit log and four-eyes requests name it.
pub const OPERATOR: &str = "cli";

/// An identified caller: a client whose token still stands, or the operator at the CLI.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The caller's client id (the audit log's actor; `cli` for the operator).
    pub client_id: String,
    /// The caller's service account, if its client belongs to one.
    service_account_id: Option<String>,
    /// The token's scopes ∩ the client's effective scopes now.
    scopes: ScopeSet,
    /// The request id, for the audit log.
    pub request_id: Option<String>,
    /// The caller's address, for the audit log.
    pub source_addr: Option<String>,
}

/// Proof that the caller at the command line is the operator, who already holds the
/// database and the master key: made only from the master key, by the CLI.
pub struct Operator(());

impl Operator {
    /// The operator of an installation whose master key the caller holds.
    pub fn new(_master_key: &MasterKey) -> Self {
        Self(())
    }

    /// The operator as a caller holding `C`: the operator holds `gatepass:admin`, which
    /// grants every capability.
    pub fn caller<C: Capability>(&self) -> Caller<C> {
        Caller {
            principal: Principal::operator(),
            granted: PhantomData,
        }
    }
}

impl Principal {
    /// The operator at the command line (audit actor `cli`), who holds every scope.
    fn operator() -> Self {
        Self {
            client_id: OPERATOR.to_owned(),
            service_account_id: None,
            scopes: ScopeSet::parse(ADMIN).unwrap_or_default(),
            request_id: None,
            source_addr: None,
        }
    }

    /// Identifies the caller of a request: its bearer token validated locally, then its
    /// standing read from the database (so revoking, disabling or deleting an admin ends
    /// its power at once, on every node).
    pub async fn identify(req: &HttpRequest, state: &AdminState) -> Result<Self, AdminError> {
        Self::of_request(req, state, bearer(req)?).await
    }

    /// The caller of `req` presenting `token`, with the request's id and address for the
    /// audit log.
    async fn of_request(req: &HttpRequest, state: &AdminState, token: &str) -> Result<Self, AdminError> {
        let mut principal = Self::of_bearer_token(state, token).await?;
        principal.request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
        principal.source_addr = req.peer_addr().map(|a| a.ip().to_string());
        Ok(principal)
    }

    /// The caller an access token stands for, if it still stands (the console checks its
    /// session's token with this on every page).
    pub async fn of_bearer_token(state: &AdminState, token: &str) -> Result<Self, AdminError> {
        match &state.callers {
            Callers::CommandLine => Err(AdminError::Unauthenticated),
            Callers::Tokens(validator) => Self::of_token(state, validator, token).await,
        }
    }

    async fn of_token(
        state: &AdminState,
        validator: &gatepass_resource_guard::Validator,
        token: &str,
    ) -> Result<Self, AdminError> {
        let claims = validator
            .validate(token)
            .await
            .map_err(|_| AdminError::Unauthenticated)?;
        let (jti, client_id, secret_id, now) = (
            claims.jti.clone(),
            claims.client_id.clone(),
            claims.secret_id.clone(),
            state.now(),
        );
        let standing = state
            .db
            .run(move |conn| {
                Ok(
                    match gatepass_store::credentials::token_standing(
                        conn,
                        &jti,
                        &client_id,
                        secret_id.as_deref(),
                        now,
                    )? {
                        Ok(record) => Ok((record.effective_scopes()?, record.client.service_account_id)),
                        Err(lapse) => Err(lapse),
                    },
                )
            })
            .await?;
        let (held, service_account_id) = standing.map_err(|lapse| {
            log::info!(
                "admin token refused client_id={} reason={}",
                claims.client_id,
                lapse.as_str()
            );
            AdminError::Unauthenticated
        })?;
        let granted = ScopeSet::parse(&claims.scope).unwrap_or_default();
        Ok(Self {
            client_id: claims.client_id.clone(),
            service_account_id,
            scopes: granted.intersection(&held),
            request_id: None,
            source_addr: None,
        })
    }

    /// A caller made by the command-level test bench (`crate::testing`).
    #[cfg(test)]
    pub(crate) fn for_tests(client_id: &str, service_account_id: Option<&str>, scopes: ScopeSet) -> Self {
        Self {
            client_id: client_id.to_owned(),
            service_account_id: service_account_id.map(str::to_owned),
            scopes,
            request_id: None,
            source_addr: None,
        }
    }

    /// The author of an approved four-eyes request, acting with the approver's authority
    /// (the approver holds `gatepass:admin`) and recorded under the author's name.
    pub(crate) fn on_behalf_of(requester: &str, approver: &Principal) -> Self {
        Self {
            client_id: requester.to_owned(),
            ..approver.clone()
        }
    }

    /// The caller's service account, if its client belongs to one.
    pub(crate) fn service_account_id(&self) -> Option<&str> {
        self.service_account_id.as_deref()
    }

    /// Whether the caller holds `scope` (directly or through `gatepass:admin`).
    pub fn holds(&self, scope: &str) -> bool {
        self.scopes.grants(scope)
    }

    /// The scope check: the only way to a [`Caller<C>`].
    pub fn capability<C: Capability>(self) -> Result<Caller<C>, AdminError> {
        if C::ALSO.iter().chain([&C::SCOPE]).any(|scope| self.holds(scope)) {
            Ok(Caller {
                principal: self,
                granted: PhantomData,
            })
        } else {
            Err(AdminError::MissingScope(C::SCOPE))
        }
    }

    /// No escalation: nobody grants a scope they do not hold.
    pub(crate) fn may_grant(&self, scopes: &ScopeSet) -> Result<(), AdminError> {
        match scopes.iter().find(|s| !self.holds(s.as_str())) {
            Some(scope) => Err(AdminError::Escalation(scope.as_str().to_owned())),
            None => Ok(()),
        }
    }

    /// The target check of every write on an existing object: the caller could grant
    /// everything the object can reach (`reach`: a client's effective scopes, a role's
    /// scopes, a service account's roles' scopes).
    pub(crate) fn may_act_on(&self, reach: &ScopeSet) -> Result<(), AdminError> {
        match reach.iter().find(|s| !self.holds(s.as_str())) {
            Some(scope) => Err(AdminError::Outranked(scope.as_str().to_owned())),
            None => Ok(()),
        }
    }

    /// Whether `client_id` (of `service_account_id`) is another identity than the caller:
    /// a different client and, where both belong to service accounts, a different one.
    pub(crate) fn is_other_than(&self, client_id: &str, service_account_id: Option<&str>) -> bool {
        let same_account = matches!(
            (self.service_account_id.as_deref(), service_account_id),
            (Some(mine), Some(theirs)) if mine == theirs
        );
        self.client_id != client_id && !same_account
    }

    /// An audit event by this caller.
    pub fn event(&self, now: i64, action: &str, target: &str) -> AuditEventRow {
        AuditEventRow {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: now,
            actor: self.client_id.clone(),
            action: action.to_owned(),
            target: Some(target.to_owned()),
            outcome: "success".to_owned(),
            reason: None,
            request_id: self.request_id.clone(),
            source_addr: self.source_addr.clone(),
            details: None,
        }
    }
}

/// The one bearer token of a request. A second `Authorization` header is refused
/// (RFC 6750 §3.1 `invalid_request`), not silently ignored.
fn bearer(req: &HttpRequest) -> Result<&str, AdminError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(AdminError::NoToken);
    };
    if values.next().is_some() {
        return Err(AdminError::MalformedAuthorization);
    }
    let value = value.to_str().map_err(|_| AdminError::Unauthenticated)?;
    value
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("bearer "))
        .map(|_| value[7..].trim())
        .ok_or(AdminError::NoToken)
}

/// A permission a handler needs, named by its scope (`gatepass:admin` holds every one).
pub trait Capability {
    /// The scope that grants it.
    const SCOPE: &'static str;
    /// Other scopes that grant it too (a write scope grants the matching reads).
    const ALSO: &'static [&'static str] = &[];
}

/// Read clients and secrets (`clients:read` or `clients:write`).
pub struct ClientsRead;
/// Create, change, rotate, revoke and delete clients and secrets.
pub struct ClientsWrite;
/// Read roles, service accounts and approvals (any admin read or write scope).
pub struct DirectoryRead;
/// Create, change and delete roles and service accounts.
pub struct ServiceAccountsWrite;
/// Read the audit log.
pub struct AuditRead;
/// See the signing-key schedule.
pub struct KeysRead;
/// Rotate signing keys.
pub struct KeysWrite;
/// Everything: decide four-eyes requests.
pub struct Admin;

impl Capability for ClientsRead {
    const SCOPE: &'static str = CLIENTS_READ;
    const ALSO: &'static [&'static str] = &[CLIENTS_WRITE];
}
impl Capability for ClientsWrite {
    const SCOPE: &'static str = CLIENTS_WRITE;
}
impl Capability for DirectoryRead {
    const SCOPE: &'static str = CLIENTS_READ;
    const ALSO: &'static [&'static str] = &[CLIENTS_WRITE, SERVICE_ACCOUNTS_WRITE];
}
impl Capability for ServiceAccountsWrite {
    const SCOPE: &'static str = SERVICE_ACCOUNTS_WRITE;
}
impl Capability for AuditRead {
    const SCOPE: &'static str = AUDIT_READ;
}
impl Capability for KeysRead {
    const SCOPE: &'static str = KEYS_WRITE;
    const ALSO: &'static [&'static str] = &[CLIENTS_READ, CLIENTS_WRITE, SERVICE_ACCOUNTS_WRITE];
}
impl Capability for KeysWrite {
    const SCOPE: &'static str = KEYS_WRITE;
}
impl Capability for Admin {
    const SCOPE: &'static str = ADMIN;
}

/// A caller holding capability `C`: what every admin handler takes before it can reach
/// the command it serves. Only [`Principal::capability`] makes one.
pub struct Caller<C> {
    principal: Principal,
    granted: PhantomData<C>,
}

impl<C> Caller<C> {
    /// Who is calling.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

impl<C: Capability + 'static> FromRequest for Caller<C> {
    type Error = AdminError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AdminState>>()
                .ok_or_else(|| AdminError::Internal("the admin API is mounted without its state".into()))?
                .clone();
            let principal = Principal::identify(&req, &state).await?;
            authorize(&state, principal, req.path()).await
        })
    }
}

/// The caller of `req` presenting `token` (a console session's), if the token still stands
/// and its client holds `C`; a missing capability is audited as on the API.
pub async fn with_token<C: Capability>(
    state: &AdminState,
    req: &HttpRequest,
    token: &str,
) -> Result<Caller<C>, AdminError> {
    let principal = Principal::of_request(req, state, token).await?;
    authorize(state, principal, req.path()).await
}

/// The scope check for a request to `path`; a refusal is recorded in the audit log.
async fn authorize<C: Capability>(
    state: &AdminState,
    principal: Principal,
    path: &str,
) -> Result<Caller<C>, AdminError> {
    let refused = principal.clone();
    match principal.capability::<C>() {
        Ok(caller) => Ok(caller),
        Err(error) => {
            state.record_refusal(&refused, "admin.denied", path, &error).await;
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scopes: &str, service_account: Option<&str>) -> Principal {
        Principal {
            client_id: "gpc_me".into(),
            service_account_id: service_account.map(str::to_owned),
            scopes: ScopeSet::parse(scopes).unwrap(),
            request_id: None,
            source_addr: None,
        }
    }

    #[test]
    fn a_capability_is_handed_out_only_for_its_scope() {
        assert!(principal(CLIENTS_WRITE, None).capability::<ClientsWrite>().is_ok());
        assert!(principal(CLIENTS_WRITE, None).capability::<ClientsRead>().is_ok());
        assert!(principal(CLIENTS_READ, None).capability::<ClientsWrite>().is_err());
        assert!(
            principal(SERVICE_ACCOUNTS_WRITE, None)
                .capability::<ClientsWrite>()
                .is_err()
        );
        assert!(principal(AUDIT_READ, None).capability::<DirectoryRead>().is_err());
        assert!(principal(CLIENTS_WRITE, None).capability::<Admin>().is_err());
        assert!(principal(ADMIN, None).capability::<Admin>().is_ok());
        assert!(principal(ADMIN, None).capability::<KeysWrite>().is_ok());
    }

    #[test]
    fn acting_on_a_target_needs_everything_it_reaches() {
        let writer = principal("gatepass:clients:write sites:read", None);
        assert!(writer.may_act_on(&ScopeSet::parse("sites:read").unwrap()).is_ok());
        assert!(matches!(
            writer.may_act_on(&ScopeSet::parse("gatepass:admin").unwrap()),
            Err(AdminError::Outranked(s)) if s == ADMIN
        ));
        assert!(
            writer
                .may_act_on(&ScopeSet::parse("gatepass:clients:write").unwrap())
                .is_ok()
        );
        assert!(
            principal(ADMIN, None)
                .may_act_on(&ScopeSet::parse("gatepass:admin x:y").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn another_identity_is_another_client_and_another_service_account() {
        let me = principal(ADMIN, Some("sa-1"));
        assert!(!me.is_other_than("gpc_me", None));
        assert!(!me.is_other_than("gpc_other", Some("sa-1")));
        assert!(me.is_other_than("gpc_other", Some("sa-2")));
        assert!(me.is_other_than("gpc_other", None));
        assert!(principal(ADMIN, None).is_other_than("gpc_other", Some("sa-1")));
    }
}

//! Who is calling and what they may do: the admin API is a resource server of Gatepass.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest};
use gatepass_core::{RequestId, ScopeSet};

use crate::problem::AdminError;
use crate::{AdminState, Callers};

/// Everything, including every finer scope.
pub const ADMIN: &str = "gatepass:admin";
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

/// A caller with a verified token.
pub struct Principal {
    /// The caller's client id (the audit log's actor).
    pub client_id: String,
    scopes: ScopeSet,
    /// The request id, for the audit log.
    pub request_id: Option<String>,
    /// The caller's address, for the audit log.
    pub source_addr: Option<String>,
}

impl Principal {
    /// Verifies the request's bearer token.
    pub async fn from_request(req: &HttpRequest, state: &AdminState) -> Result<Self, AdminError> {
        let validator = match &state.callers {
            Callers::Operator => return Ok(Self::cli()),
            Callers::Tokens(validator) => validator,
        };
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.get(..7)
                    .filter(|s| s.eq_ignore_ascii_case("bearer "))
                    .map(|_| v[7..].trim())
            })
            .ok_or(AdminError::NoToken)?;
        let claims = validator
            .validate(token)
            .await
            .map_err(|_| AdminError::Unauthenticated)?;
        Ok(Self {
            client_id: claims.client_id.clone(),
            scopes: ScopeSet::parse(&claims.scope).unwrap_or_default(),
            request_id: req.extensions().get::<RequestId>().map(ToString::to_string),
            source_addr: req.peer_addr().map(|a| a.ip().to_string()),
        })
    }

    /// The command line, which works on the database directly (audit actor `cli`).
    fn cli() -> Self {
        Self {
            client_id: "cli".to_owned(),
            scopes: ScopeSet::parse(ADMIN).unwrap_or_default(),
            request_id: None,
            source_addr: None,
        }
    }

    /// The author of an approved four-eyes request, acting through the approver's request.
    pub(crate) fn on_behalf_of(requester: &str, approver: &Principal) -> Self {
        Self {
            client_id: requester.to_owned(),
            scopes: ScopeSet::default(),
            request_id: approver.request_id.clone(),
            source_addr: approver.source_addr.clone(),
        }
    }

    /// Whether the caller holds `scope` (directly or through `gatepass:admin`).
    pub fn holds(&self, scope: &str) -> bool {
        self.scopes.contains(ADMIN) || self.scopes.contains(scope)
    }

    /// Demands a scope: the first line of every handler.
    pub fn require(&self, scope: &'static str) -> Result<(), AdminError> {
        if self.holds(scope) {
            Ok(())
        } else {
            Err(AdminError::MissingScope(scope))
        }
    }

    /// Reading roles and service accounts: any admin read or write scope.
    pub fn require_directory_read(&self) -> Result<(), AdminError> {
        if [CLIENTS_READ, CLIENTS_WRITE, SERVICE_ACCOUNTS_WRITE]
            .iter()
            .any(|s| self.holds(s))
        {
            Ok(())
        } else {
            Err(AdminError::MissingScope(CLIENTS_READ))
        }
    }

    /// Reading needs the read scope or the write scope.
    pub fn require_read(&self) -> Result<(), AdminError> {
        if self.holds(CLIENTS_READ) || self.holds(CLIENTS_WRITE) {
            Ok(())
        } else {
            Err(AdminError::MissingScope(CLIENTS_READ))
        }
    }

    /// No escalation: nobody grants a scope they do not hold.
    pub fn may_grant(&self, scopes: &ScopeSet) -> Result<(), AdminError> {
        match scopes.iter().find(|s| !self.holds(s.as_str())) {
            Some(scope) => Err(AdminError::Escalation(scope.as_str().to_owned())),
            None => Ok(()),
        }
    }
}

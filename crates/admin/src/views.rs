//! What the admin API shows: rows turned into the contract's JSON objects.

use gatepass_core::format_utc;
use gatepass_store::approvals::ApprovalRow;
use gatepass_store::audit::AuditEventRow;
use gatepass_store::clients::ClientRow;
use gatepass_store::roles::RoleRow;
use gatepass_store::secrets::SecretRow;
use gatepass_store::service_accounts::ServiceAccountRow;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::fields;

/// `yyyy-MM-ddTHH:mm:ssZ`.
pub fn date(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds).map_or_else(|_| seconds.to_string(), format_utc)
}

/// A client as the API shows it.
#[derive(Serialize, ToSchema)]
#[allow(clippy::struct_field_names)] // `client_id` is the contract's field name
pub struct Client {
    client_id: String,
    name: String,
    service_account_id: Option<String>,
    scopes: Vec<String>,
    audiences: Vec<String>,
    labels: BTreeMap<String, String>,
    status: &'static str,
    token_ttl_seconds: Option<i64>,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
}

impl Client {
    /// The view of a row at `now`.
    pub fn of(row: &ClientRow, now: i64) -> Self {
        let status = if row.disabled {
            "disabled"
        } else if row.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            client_id: row.client_id.clone(),
            name: row.name.clone(),
            service_account_id: row.service_account_id.clone(),
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            audiences: row.audiences.split_whitespace().map(str::to_owned).collect(),
            labels: fields::labels_of(&row.labels),
            status,
            token_ttl_seconds: row.token_ttl_seconds,
            created_at: date(row.created_at),
            expires_at: row.expires_at.map(date),
            last_used_at: row.last_used_at.map(date),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// A secret's metadata; never the secret.
#[derive(Serialize, ToSchema)]
pub struct Secret {
    /// Only in exports, where secrets of every client are listed together.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    id: String,
    key_prefix: String,
    label: Option<String>,
    status: &'static str,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    use_count: i64,
    /// Usable and older than the rotation policy's maximum age.
    due_for_rotation: bool,
}

/// When a secret view is taken, and the rotation policy it is judged by.
#[derive(Clone, Copy, Debug)]
pub struct Moment {
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// `secrets.max_age_days` in seconds, if a policy is set.
    pub max_secret_age: Option<i64>,
}

impl Secret {
    /// The view of a row at `moment`.
    pub fn of(row: &SecretRow, moment: Moment) -> Self {
        let now = moment.now;
        let status = if row.revoked_at.is_some() {
            "revoked"
        } else if row.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            client_id: None,
            id: row.id.clone(),
            key_prefix: row.key_prefix.clone(),
            label: row.label.clone(),
            status,
            created_at: date(row.created_at),
            expires_at: row.expires_at.map(date),
            last_used_at: row.last_used_at.map(date),
            use_count: row.use_count,
            due_for_rotation: status == "active"
                && moment.max_secret_age.is_some_and(|age| row.created_at + age <= now),
        }
    }
}

impl Secret {
    /// The view of a row with its client id, for exports.
    pub fn with_client(row: &SecretRow, moment: Moment) -> Self {
        Self {
            client_id: Some(row.client_id.clone()),
            ..Self::of(row, moment)
        }
    }

    /// Whether the policy says to rotate it.
    pub fn is_due(&self) -> bool {
        self.due_for_rotation
    }
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// A role as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct Role {
    name: String,
    description: String,
    scopes: Vec<String>,
}

impl Role {
    /// The view of a row.
    pub fn of(row: &RoleRow) -> Self {
        Self {
            name: row.name.clone(),
            description: row.description.clone(),
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
        }
    }
}

/// A service account as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct ServiceAccount {
    id: String,
    name: String,
    description: String,
    roles: Vec<String>,
    status: &'static str,
    created_at: String,
}

impl ServiceAccount {
    /// The view of a row and its role names.
    pub fn of(row: &ServiceAccountRow, roles: Vec<String>) -> Self {
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            roles,
            status: if row.disabled { "disabled" } else { "active" },
            created_at: date(row.created_at),
        }
    }
}

/// An audit event as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    id: String,
    occurred_at: String,
    actor: String,
    action: String,
    target: Option<String>,
    outcome: String,
    reason: Option<String>,
    request_id: Option<String>,
    source_addr: Option<String>,
    /// More about the event, e.g. `{"count", "throttled", "first_at", "last_at"}` of an
    /// aggregated `token.auth_failed`.
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

impl AuditEvent {
    /// The view of a row.
    pub fn of(row: &AuditEventRow) -> Self {
        Self {
            id: row.id.clone(),
            occurred_at: date(row.occurred_at),
            actor: row.actor.clone(),
            action: row.action.clone(),
            target: row.target.clone(),
            outcome: row.outcome.clone(),
            reason: row.reason.clone(),
            request_id: row.request_id.clone(),
            source_addr: row.source_addr.clone(),
            details: row.details.as_deref().and_then(|d| serde_json::from_str(d).ok()),
        }
    }
}

/// A new client and its first secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    /// The client.
    pub client: Client,
    /// The first secret's metadata.
    pub secret: Secret,
    /// The secret itself: store it now, it is never shown again.
    #[schema(example = "gps_2bYV3hQ8pT0kXcLmN4rS7uW9yA1dF6gJ5eH0iK3oP8qR2sT4v5wXz1")]
    pub client_secret: String,
}

/// A new secret, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedSecret {
    /// Its metadata.
    pub secret: Secret,
    /// The secret itself: store it now, it is never shown again.
    pub client_secret: String,
}

/// A four-eyes request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Approval {
    id: String,
    /// `client.create`, `client.change`, `secret.create`, `service_account.create`,
    /// `service_account.change`, `role.create` or `role.change`.
    action: String,
    /// The request that waits, as sent.
    #[schema(value_type = Object)]
    request: Value,
    requested_by: String,
    requested_at: String,
    /// The requester's service account when the request was filed.
    requested_by_service_account: Option<String>,
    /// `pending`, `approved` or `rejected`.
    status: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    /// Why the requester no longer stands (`client_deleted`, `client_disabled`,
    /// `client_expired`, `service_account_disabled`), if it does not: such a pending request
    /// can only be rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    requester_lapsed: Option<&'static str>,
}

impl Approval {
    pub(crate) fn of(row: &ApprovalRow, requester_lapsed: Option<&'static str>) -> Self {
        Self {
            id: row.id.clone(),
            action: row.action.clone(),
            request: serde_json::from_str(&row.payload).unwrap_or_default(),
            requested_by: row.requested_by.clone(),
            requested_at: date(row.requested_at),
            requested_by_service_account: row.requested_by_service_account.clone(),
            status: row.status.clone(),
            decided_by: row.decided_by.clone(),
            decided_at: row.decided_at.map(date),
            requester_lapsed,
        }
    }

    /// The request's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

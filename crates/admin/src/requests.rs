//! What the admin commands take as input, and the union of those that four-eyes can hold
//! ([`PendingChange`]): one module, so the commands, the four-eyes gate and the decisions
//! share them without importing each other.

use std::collections::BTreeMap;

use gatepass_store::approvals::ApprovalRow;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::fields;
use crate::problem::AdminError;

/// A new client.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// Defaults to `<service account>-<dd_mm_yyyy>-<hh_mm>`.
    pub name: Option<String>,
    /// The service account whose roles bound the client's scopes.
    pub service_account_id: Option<String>,
    /// Scopes the client may ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Audiences the client may ask for.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Labels, `key: value`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Token lifetime override, 60 to 86400.
    #[serde(default, deserialize_with = "fields::whole")]
    pub token_ttl_seconds: Option<i64>,
    /// `yyyy-MM-ddTHH:mm:ssZ`, in the future.
    pub expires_at: Option<String>,
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
#[allow(clippy::option_option)] // the three states are the point
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to a client; absent fields stay as they are, `null` clears.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)] // absent = unchanged, null = cleared
pub struct ChangeClient {
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new scope list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The new audience list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// The new labels (replacing all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The token lifetime override; `null` clears it.
    #[serde(
        default,
        deserialize_with = "fields::present_whole",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_ttl_seconds: Option<Option<i64>>,
    /// The expiry; `null` clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Option<String>>,
    /// `active` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A change to one client, as a four-eyes request stores it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ClientChange {
    pub(crate) client_id: String,
    pub(crate) change: ChangeClient,
}

/// A new secret; with a grace period, older usable secrets expire after it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSecret {
    /// A label for people, 1–128 characters, not only spaces.
    pub label: Option<String>,
    /// `yyyy-MM-ddTHH:mm:ssZ`, in the future.
    pub expires_at: Option<String>,
    /// The older usable secrets expire this many seconds from now (0 to 7776000).
    #[serde(default, deserialize_with = "fields::whole")]
    pub grace_period_seconds: Option<i64>,
}

/// A new secret for one client, as a four-eyes request stores it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SecretRequest {
    pub(crate) client_id: String,
    pub(crate) secret: CreateSecret,
}

/// A new role.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    /// 1–63 of `a-z0-9._-`.
    pub name: String,
    /// At most 512 characters.
    #[serde(default)]
    pub description: String,
    /// The scopes the role grants.
    pub scopes: Vec<String>,
}

/// Changes to a role.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// A new description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new scope list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// A change to one role, as a four-eyes request stores it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RoleChange {
    pub(crate) name: String,
    pub(crate) change: ChangeRole,
}

/// A new service account.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccount {
    /// 1–63 of `a-z0-9._-`.
    pub name: String,
    /// At most 512 characters.
    #[serde(default)]
    pub description: String,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Changes to a service account.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeServiceAccount {
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new role names (replacing all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// `active` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A change to one service account, as a four-eyes request stores it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AccountChange {
    pub(crate) id: String,
    pub(crate) change: ChangeServiceAccount,
}

/// A change waiting for a second admin: the request as it was sent, validated and
/// authorized again when it is approved.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(tag = "action", content = "request")]
pub enum PendingChange {
    /// A new client that can reach a `gatepass:*` scope.
    #[serde(rename = "client.create")]
    CreateClient(CreateClient),
    /// A change that widens a client's `gatepass:*` reach or re-enables such a client.
    #[serde(rename = "client.change")]
    ChangeClient(ClientChange),
    /// A new secret for a client that can reach a `gatepass:*` scope.
    #[serde(rename = "secret.create")]
    CreateSecret(SecretRequest),
    /// A new service account.
    #[serde(rename = "service_account.create")]
    CreateServiceAccount(CreateServiceAccount),
    /// Roles that widen a service account's `gatepass:*` reach, or re-enabling such an account.
    #[serde(rename = "service_account.change")]
    ChangeServiceAccount(AccountChange),
    /// A new role with a `gatepass:*` scope.
    #[serde(rename = "role.create")]
    CreateRole(CreateRole),
    /// A role change that adds a `gatepass:*` scope.
    #[serde(rename = "role.change")]
    ChangeRole(RoleChange),
}

impl PendingChange {
    /// The request as an approval row stores it: its action and its JSON document.
    pub(crate) fn stored(&self) -> Result<(String, String), AdminError> {
        let doc = serde_json::to_value(self).map_err(|e| AdminError::Internal(format!("approval request: {e}")))?;
        let action = doc["action"].as_str().unwrap_or_default().to_owned();
        Ok((action, doc["request"].to_string()))
    }

    /// The request an approval row stores.
    pub(crate) fn of_row(row: &ApprovalRow) -> Result<Self, AdminError> {
        let unreadable =
            |e: serde_json::Error| AdminError::Internal(format!("stored approval {} is unreadable: {e}", row.id));
        let request: Value = serde_json::from_str(&row.payload).map_err(unreadable)?;
        serde_json::from_value(serde_json::json!({ "action": row.action, "request": request })).map_err(unreadable)
    }
}

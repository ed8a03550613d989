//! Four-eyes policy (`admin.four_eyes`, docs/design.md §10): every change that creates or widens a
//! path to a `gatepass:*` scope is filed as a [`PendingChange`] and waits for a second admin
//! of another identity. Approving runs the change and marks the request approved in one
//! transaction: a change that can no longer be made answers 409 and leaves the request
//! pending, to be retried or rejected.

use gatepass_core::Standing;
use gatepass_store::approvals::{self, ApprovalRow};
use gatepass_store::{Conn, audit, clients, service_accounts as accounts};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::access::{Admin, Caller, DirectoryRead, Principal};
use crate::clients::{ClientChange, CreateClient};
use crate::problem::AdminError;
use crate::roles::{CreateRole, RoleChange};
use crate::secrets::SecretRequest;
use crate::service_accounts::{AccountChange, CreateServiceAccount};
use crate::views::{Page, date};
use crate::{AdminState, Ctx, Outcome, clients as client_commands, fields, roles, secrets, service_accounts};

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

/// Whether a command may be filed for approval (a request as sent) or runs now (an
/// approved request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Sent by a caller: four-eyes applies.
    Check,
    /// Approved by a second admin: run it.
    Approved,
}

impl Gate {
    /// Whether a change that `widens` a `gatepass:*` path waits for a second admin.
    pub(crate) fn waits(self, ctx: &Ctx, widens: bool) -> bool {
        self == Self::Check && ctx.four_eyes && widens
    }
}

impl PendingChange {
    fn stored(&self) -> Result<(String, String), AdminError> {
        let doc = serde_json::to_value(self).map_err(|e| AdminError::Internal(format!("approval request: {e}")))?;
        let action = doc["action"].as_str().unwrap_or_default().to_owned();
        Ok((action, doc["request"].to_string()))
    }

    fn of_row(row: &ApprovalRow) -> Result<Self, AdminError> {
        let unreadable =
            |e: serde_json::Error| AdminError::Internal(format!("stored approval {} is unreadable: {e}", row.id));
        let request: Value = serde_json::from_str(&row.payload).map_err(unreadable)?;
        serde_json::from_value(serde_json::json!({ "action": row.action, "request": request })).map_err(unreadable)
    }

    /// Runs the change as `author` (the requester, with the approver's authority): the one
    /// exhaustive list of what four-eyes can hold.
    fn apply(self, conn: &mut Conn, ctx: &Ctx, author: &Principal) -> Result<Value, AdminError> {
        let gate = Gate::Approved;
        match self {
            Self::CreateClient(input) => done(client_commands::create_in(conn, ctx, author, gate, input)?),
            Self::ChangeClient(request) => done(client_commands::change_in(conn, ctx, author, gate, request)?),
            Self::CreateSecret(request) => done(secrets::create_in(conn, ctx, author, gate, request)?),
            Self::CreateServiceAccount(input) => done(service_accounts::create_in(conn, ctx, author, gate, input)?),
            Self::ChangeServiceAccount(request) => done(service_accounts::change_in(conn, ctx, author, gate, request)?),
            Self::CreateRole(input) => done(roles::create_in(conn, ctx, author, gate, input)?),
            Self::ChangeRole(request) => done(roles::change_in(conn, ctx, author, gate, request)?),
        }
    }
}

fn done<T: Serialize>(outcome: Outcome<T>) -> Result<Value, AdminError> {
    match outcome {
        Outcome::Done(value) => serde_json::to_value(value).map_err(|e| AdminError::Internal(e.to_string())),
        Outcome::Pending(_) => Err(AdminError::Internal("an approved change was filed again".into())),
    }
}

/// Files `change` instead of carrying it out, with its audit event.
pub(crate) fn file<T>(
    conn: &mut Conn,
    ctx: &Ctx,
    actor: &Principal,
    change: &PendingChange,
) -> Result<Outcome<T>, AdminError> {
    let (action, payload) = change.stored()?;
    let row = ApprovalRow {
        id: uuid::Uuid::now_v7().to_string(),
        action,
        payload,
        requested_by: actor.client_id.clone(),
        requested_at: ctx.now,
        status: "pending".to_owned(),
        decided_by: None,
        decided_at: None,
        requested_by_service_account: actor.service_account_id().map(str::to_owned),
    };
    approvals::insert(conn, &row)?;
    audit::append(conn, &[actor.event(ctx.now, "approval.requested", &row.id)])?;
    Ok(Outcome::Pending(Box::new(Approval::of(&row, None))))
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
    fn of(row: &ApprovalRow, requester_lapsed: Option<&'static str>) -> Self {
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

/// Filter of the approvals list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    /// `pending`, `approved` or `rejected`.
    pub status: Option<String>,
}

/// Pending (or decided) requests, newest first.
pub async fn list(
    state: &AdminState,
    _: &Caller<DirectoryRead>,
    query: ApprovalQuery,
) -> Result<Page<Approval>, AdminError> {
    let status = query.status;
    if let Some(status) = &status {
        fields::one_of("status", status, &fields::APPROVAL_STATUSES)?;
    }
    state
        .read(move |conn, ctx| {
            let mut items = Vec::new();
            for row in approvals::list(conn, status.as_deref())? {
                let lapsed = if row.status == "pending" {
                    requester_lapse(conn, &row, ctx.now)?
                } else {
                    None
                };
                items.push(Approval::of(&row, lapsed));
            }
            Ok(Page {
                items,
                next_cursor: None,
            })
        })
        .await
}

/// Why the requester of `row` no longer stands, if it does not: its client deleted,
/// disabled or expired, or its service account (as recorded when it filed) disabled or
/// deleted. The operator at the command line always stands.
fn requester_lapse(conn: &mut Conn, row: &ApprovalRow, now: i64) -> Result<Option<&'static str>, AdminError> {
    if row.requested_by == crate::access::OPERATOR {
        return Ok(None);
    }
    let Some(client) = clients::get(conn, &row.requested_by)? else {
        return Ok(Some("client_deleted"));
    };
    let service_account_disabled = match &row.requested_by_service_account {
        None => false,
        Some(id) => accounts::get(conn, id)?.is_none_or(|account| account.disabled),
    };
    let standing = Standing {
        client_disabled: client.disabled,
        client_expires_at: client.expires_at,
        service_account_disabled,
        ..Standing::default()
    };
    Ok(standing.check(now).err().map(gatepass_core::Lapse::as_str))
}

/// Loads a pending request that `decider` may decide: another identity's, judged against
/// the requester's client and service account as recorded when the request was filed (the
/// live rows may be gone: deleting the requester must not make its request approvable by
/// its own service account).
fn decidable(conn: &mut Conn, decider: &Principal, id: &str) -> Result<ApprovalRow, AdminError> {
    let row = approvals::get(conn, id)?.ok_or(AdminError::NotFound("approval"))?;
    if row.status != "pending" {
        return Err(AdminError::Conflict(format!("the request is already {}", row.status)));
    }
    if !decider.is_other_than(&row.requested_by, row.requested_by_service_account.as_deref()) {
        return Err(AdminError::OwnRequest);
    }
    Ok(row)
}

/// Approves a request made by another identity and carries it out, in one transaction.
pub async fn approve(state: &AdminState, caller: &Caller<Admin>, id: String) -> Result<Value, AdminError> {
    state
        .write(caller, "approval.approved", id.clone(), move |conn, ctx, actor| {
            let row = decidable(conn, actor, &id)?;
            if let Some(lapse) = requester_lapse(conn, &row, ctx.now)? {
                return Err(AdminError::Conflict(format!(
                    "the requester no longer stands ({lapse}); the request can only be rejected"
                )));
            }
            let change = PendingChange::of_row(&row)?;
            if !approvals::decide(conn, &id, "approved", &actor.client_id, ctx.now)? {
                return Err(AdminError::Conflict("the request was decided meanwhile".into()));
            }
            let author = Principal::on_behalf_of(&row.requested_by, actor);
            let result = change.apply(conn, ctx, &author).map_err(|error| match error {
                AdminError::Store(ref store) if !matches!(store, gatepass_store::StoreError::Conflict(_)) => error,
                AdminError::Internal(_) => error,
                other => AdminError::Conflict(format!(
                    "the change can no longer be made ({other}); the request stays pending"
                )),
            })?;
            audit::append(conn, &[actor.event(ctx.now, "approval.approved", &id)])?;
            Ok(serde_json::json!({ "approval": id, "status": "approved", "result": result }))
        })
        .await
}

/// Rejects a request made by another identity.
pub async fn reject(state: &AdminState, caller: &Caller<Admin>, id: String) -> Result<Approval, AdminError> {
    state
        .write(caller, "approval.rejected", id.clone(), move |conn, ctx, actor| {
            let mut row = decidable(conn, actor, &id)?;
            if !approvals::decide(conn, &id, "rejected", &actor.client_id, ctx.now)? {
                return Err(AdminError::Conflict("the request was decided meanwhile".into()));
            }
            audit::append(conn, &[actor.event(ctx.now, "approval.rejected", &id)])?;
            row.status = "rejected".into();
            row.decided_by = Some(actor.client_id.clone());
            row.decided_at = Some(ctx.now);
            Ok(Approval::of(&row, None))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_change_is_stored_as_action_and_request_and_read_back() {
        let change = PendingChange::ChangeClient(ClientChange {
            client_id: "gpc_x".into(),
            change: crate::clients::ChangeClient {
                scopes: Some(vec!["gatepass:admin".into()]),
                token_ttl_seconds: Some(None),
                ..Default::default()
            },
        });
        let (action, payload) = change.stored().unwrap();
        assert_eq!(action, "client.change");
        let doc: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(doc["client_id"], "gpc_x");
        assert_eq!(doc["change"]["scopes"][0], "gatepass:admin");
        assert!(doc["change"]["token_ttl_seconds"].is_null() && doc["change"].get("token_ttl_seconds").is_some());
        let row = ApprovalRow {
            id: "a".into(),
            action,
            payload,
            requested_by: "gpc_me".into(),
            requested_at: 0,
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            requested_by_service_account: None,
        };
        let back = PendingChange::of_row(&row).unwrap();
        assert!(matches!(back, PendingChange::ChangeClient(c) if c.change.token_ttl_seconds == Some(None)));
    }

    #[test]
    fn an_unknown_stored_action_is_an_internal_error_not_a_conflict() {
        let row = ApprovalRow {
            id: "a".into(),
            action: "client.teleport".into(),
            payload: "{}".into(),
            requested_by: "gpc_me".into(),
            requested_at: 0,
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            requested_by_service_account: None,
        };
        assert!(matches!(PendingChange::of_row(&row), Err(AdminError::Internal(_))));
    }
}

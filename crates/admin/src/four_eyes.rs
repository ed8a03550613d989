//! Four-eyes decisions (`admin.four_eyes`, docs/design.md §10): a change that creates or
//! widens a path to a `gatepass:*` scope is filed by the gate ([`crate::gate`]) as a
//! [`PendingChange`] and waits here for a second admin of another identity. Approving runs
//! the change and marks the request approved in one transaction: a change that can no
//! longer be made answers 409 and leaves the request pending, to be retried or rejected.

use gatepass_core::Standing;
use gatepass_store::approvals::{self, ApprovalRow};
use gatepass_store::{Conn, clients, service_accounts as accounts};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::IntoParams;

use crate::access::{Admin, Caller, DirectoryRead, Principal};
use crate::events::{self, Event};
use crate::gate::Gate;
use crate::problem::AdminError;
use crate::requests::PendingChange;
use crate::views::{Approval, Page};
use crate::{AdminState, Ctx, Outcome, clients as client_commands, fields, roles, secrets, service_accounts};

impl PendingChange {
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
            events::record(conn, ctx.now, actor, Event::ApprovalApproved(&id))?;
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
            events::record(conn, ctx.now, actor, Event::ApprovalRejected(&id))?;
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
        let change = PendingChange::ChangeClient(crate::requests::ClientChange {
            client_id: "gpc_x".into(),
            change: crate::requests::ChangeClient {
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

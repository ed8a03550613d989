//! Four-eyes policy (`admin.four_eyes`): creating a service account, or granting any
//! `gatepass:*` scope (to a new client, an existing one, or a new role), waits for a second,
//! different admin. `/admin/v1/approvals` lists the
//! requests; approving one carries it out, rejecting one closes it.

use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_core::ScopeSet;
use gatepass_store::approvals::{self, ApprovalRow};
use gatepass_store::audit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::principal::{ADMIN, Principal};
use crate::problem::{AdminError, Problem, invalid};
use crate::views::{Page, date};
use crate::{AdminState, clients, event, roles, service_accounts};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/approvals").route(web::get().to(list)))
        .service(web::resource("/approvals/{id}/approve").route(web::post().to(approve)))
        .service(web::resource("/approvals/{id}/reject").route(web::post().to(reject)));
}

/// A four-eyes request.
#[derive(Serialize, ToSchema)]
pub struct Approval {
    id: String,
    /// `client.create`, `client.change`, `service_account.create`, `role.create` or `role.change`.
    action: String,
    /// The request that waits, as sent.
    #[schema(value_type = Object)]
    request: serde_json::Value,
    requested_by: String,
    requested_at: String,
    /// `pending`, `approved` or `rejected`.
    status: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
}

impl Approval {
    fn of(row: &ApprovalRow) -> Self {
        Self {
            id: row.id.clone(),
            action: row.action.clone(),
            request: serde_json::from_str(&row.payload).unwrap_or_default(),
            requested_by: row.requested_by.clone(),
            requested_at: date(row.requested_at),
            status: row.status.clone(),
            decided_by: row.decided_by.clone(),
            decided_at: row.decided_at.map(date),
        }
    }
}

/// Filter of the approvals list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApprovalQuery {
    /// `pending`, `approved` or `rejected`.
    status: Option<String>,
}

/// Whether granting these scopes needs a second admin.
pub fn grants_gatepass_scope(scopes: &ScopeSet) -> bool {
    scopes.iter().any(|s| s.as_str().starts_with("gatepass:"))
}

/// Files a request instead of carrying it out: 202 with the pending approval.
pub async fn request(
    state: &AdminState,
    principal: Principal,
    action: &'static str,
    payload: &impl Serialize,
) -> Result<HttpResponse, AdminError> {
    let now = state.now();
    let row = ApprovalRow {
        id: uuid::Uuid::now_v7().to_string(),
        action: action.to_owned(),
        payload: serde_json::to_string(payload).map_err(|e| AdminError::Conflict(e.to_string()))?,
        requested_by: principal.client_id.clone(),
        requested_at: now,
        status: "pending".to_owned(),
        decided_by: None,
        decided_at: None,
    };
    let saved = row.clone();
    state
        .db
        .run(move |conn| {
            gatepass_store::transaction(conn, |conn| {
                approvals::insert(conn, &saved)?;
                audit::append(conn, &[event(&principal, now, "approval.requested", &saved.id)])
            })
        })
        .await?;
    Ok(HttpResponse::Accepted().json(Approval::of(&row)))
}

/// Pending (or decided) four-eyes requests.
#[utoipa::path(get, path = "/admin/v1/approvals", tag = "approvals", params(ApprovalQuery),
    responses((status = 200, description = "Requests, newest first", body = Page<Approval>),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "Missing scope", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn list(
    req: HttpRequest,
    state: web::Data<AdminState>,
    query: web::Query<ApprovalQuery>,
) -> Result<HttpResponse, AdminError> {
    Principal::from_request(&req, &state).await?.require_directory_read()?;
    let status = query.into_inner().status;
    if status
        .as_deref()
        .is_some_and(|s| !["pending", "approved", "rejected"].contains(&s))
    {
        return Err(invalid("status", "must be pending, approved or rejected"));
    }
    let rows = state
        .db
        .run(move |conn| approvals::list(conn, status.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows.iter().map(Approval::of).collect(),
        next_cursor: None,
    }))
}

/// Loads a pending request and checks the decider is someone else with `gatepass:admin`.
async fn pending(req: &HttpRequest, state: &AdminState, id: String) -> Result<(Principal, ApprovalRow), AdminError> {
    let principal = Principal::from_request(req, state).await?;
    principal.require(ADMIN)?;
    let row = state
        .db
        .run(move |conn| approvals::get(conn, &id))
        .await?
        .ok_or(AdminError::NotFound("approval"))?;
    if row.status != "pending" {
        return Err(AdminError::Conflict(format!("the request is already {}", row.status)));
    }
    if row.requested_by == principal.client_id {
        return Err(AdminError::OwnRequest);
    }
    Ok((principal, row))
}

async fn decide(
    state: &AdminState,
    principal: &Principal,
    row: &ApprovalRow,
    status: &'static str,
) -> Result<(), AdminError> {
    let now = state.now();
    let (id, by) = (row.id.clone(), principal.client_id.clone());
    let action = if status == "approved" {
        "approval.approved"
    } else {
        "approval.rejected"
    };
    let actor = Principal::on_behalf_of(&principal.client_id, principal);
    let decided = state
        .db
        .run(move |conn| {
            gatepass_store::transaction(conn, |conn| {
                let decided = approvals::decide(conn, &id, status, &by, now)?;
                if decided {
                    audit::append(conn, &[event(&actor, now, action, &id)])?;
                }
                Ok(decided)
            })
        })
        .await?;
    if decided {
        Ok(())
    } else {
        Err(AdminError::Conflict("the request was decided meanwhile".into()))
    }
}

/// Approve a request made by another admin, and carry it out.
#[utoipa::path(post, path = "/admin/v1/approvals/{id}/approve", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, description = "Approved; the result of the change (a created client includes its secret, shown once)", body = Object),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "Not gatepass:admin, or the caller's own request", body = Problem),
        (status = 404, description = "No such request", body = Problem),
        (status = 409, description = "Already decided", body = Problem)),
    security(("bearer" = ["gatepass:admin"])))]
async fn approve(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let (principal, row) = pending(&req, &state, path.into_inner()).await?;
    decide(&state, &principal, &row, "approved").await?;
    let author = Principal::on_behalf_of(&row.requested_by, &principal);
    let bad = |e: serde_json::Error| AdminError::Conflict(format!("stored request unreadable: {e}"));
    let result = match row.action.as_str() {
        "client.create" => {
            let body = serde_json::from_str(&row.payload).map_err(bad)?;
            serde_json::to_value(clients::perform_create(&state, author, body).await?)
        }
        "client.change" => {
            let request: clients::ClientChange = serde_json::from_str(&row.payload).map_err(bad)?;
            serde_json::to_value(clients::perform_change(&state, author, request.client_id, request.change).await?)
        }
        "service_account.create" => {
            let body = serde_json::from_str(&row.payload).map_err(bad)?;
            serde_json::to_value(service_accounts::perform_create(&state, author, body).await?)
        }
        "role.change" => {
            let request: roles::RoleChange = serde_json::from_str(&row.payload).map_err(bad)?;
            serde_json::to_value(roles::perform_change(&state, author, request.name, request.change).await?)
        }
        "role.create" => {
            let body = serde_json::from_str(&row.payload).map_err(bad)?;
            serde_json::to_value(roles::perform_create(&state, author, body).await?)
        }
        other => return Err(AdminError::Conflict(format!("unknown action {other}"))),
    }
    .map_err(|e| AdminError::Conflict(e.to_string()))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "approval": row.id, "status": "approved", "result": result })))
}

/// Reject a request made by another admin.
#[utoipa::path(post, path = "/admin/v1/approvals/{id}/reject", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, description = "Rejected", body = Approval),
        (status = 401, description = "No valid bearer token", body = Problem),
        (status = 403, description = "Not gatepass:admin, or the caller's own request", body = Problem),
        (status = 404, description = "No such request", body = Problem),
        (status = 409, description = "Already decided", body = Problem)),
    security(("bearer" = ["gatepass:admin"])))]
async fn reject(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let (principal, mut row) = pending(&req, &state, path.into_inner()).await?;
    decide(&state, &principal, &row, "rejected").await?;
    row.status = "rejected".into();
    row.decided_by = Some(principal.client_id.clone());
    row.decided_at = Some(state.now());
    Ok(HttpResponse::Ok().json(Approval::of(&row)))
}

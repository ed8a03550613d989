//! `/admin/v1/approvals`: four-eyes requests, approve, reject.

use actix_web::{HttpResponse, web};

use crate::AdminState;
use crate::access::{Admin, Caller, DirectoryRead};
use crate::four_eyes::{self, ApprovalQuery};
use crate::problem::AdminError;
use crate::views::Approval;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/approvals").route(web::get().to(list)))
        .service(web::resource("/approvals/{id}/approve").route(web::post().to(approve)))
        .service(web::resource("/approvals/{id}/reject").route(web::post().to(reject)));
}

/// Pending (or decided) four-eyes requests.
#[utoipa::path(get, path = "/admin/v1/approvals", operation_id = "list_approvals", tag = "approvals", params(ApprovalQuery),
    responses((status = 200, description = "Requests, newest first", body = Page<Approval>),
        (status = 400, description = "Malformed query"),
        (status = 422, description = "`status` is not pending, approved or rejected")),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn list(
    state: web::Data<AdminState>,
    caller: Caller<DirectoryRead>,
    query: web::Query<ApprovalQuery>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(four_eyes::list(&state, &caller, query.into_inner()).await?))
}

/// Approve a request made by another identity, and carry it out.
#[utoipa::path(post, path = "/admin/v1/approvals/{id}/approve", operation_id = "approve", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, description = "Approved; the result of the change (a created client includes its secret, shown once)", body = Object),
        (status = 403, description = "Not gatepass:admin, or the caller's own request (same client or service account)"),
        (status = 404, description = "No such request"),
        (status = 409, description = "Already decided, or the change can no longer be made (the request stays pending)")),
    security(("bearer" = ["gatepass:admin"])))]
pub(crate) async fn approve(
    state: web::Data<AdminState>,
    caller: Caller<Admin>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(four_eyes::approve(&state, &caller, path.into_inner()).await?))
}

/// Reject a request made by another identity.
#[utoipa::path(post, path = "/admin/v1/approvals/{id}/reject", operation_id = "reject", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, description = "Rejected", body = Approval),
        (status = 403, description = "Not gatepass:admin, or the caller's own request (same client or service account)"),
        (status = 404, description = "No such request"),
        (status = 409, description = "Already decided")),
    security(("bearer" = ["gatepass:admin"])))]
pub(crate) async fn reject(
    state: web::Data<AdminState>,
    caller: Caller<Admin>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(four_eyes::reject(&state, &caller, path.into_inner()).await?))
}

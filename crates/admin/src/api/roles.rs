//! `/admin/v1/roles`.

use actix_web::{HttpResponse, web};

use super::{changed, created};
use crate::AdminState;
use crate::access::{Caller, DirectoryRead, ServiceAccountsWrite};
use crate::problem::{AdminError, Body};
use crate::requests::{ChangeRole, CreateRole};
use crate::roles;
use crate::views::Approval;
use crate::views::{Page, Role};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/roles")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/roles/{name}")
            .route(web::get().to(read))
            .route(web::patch().to(change))
            .route(web::delete().to(remove)),
    );
}

/// Create a role.
#[utoipa::path(post, path = "/admin/v1/roles", operation_id = "create_role", tag = "roles", request_body = CreateRole,
    responses((status = 201, description = "Created", body = Role),
        (status = 202, description = "A role with a gatepass:* scope waits for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, or a scope the caller may not grant"),
        (status = 409, description = "A role of that name exists"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
pub(crate) async fn create(
    state: web::Data<AdminState>,
    caller: Caller<ServiceAccountsWrite>,
    Body(body): Body<CreateRole>,
) -> Result<HttpResponse, AdminError> {
    Ok(created(roles::create(&state, &caller, body).await?))
}

/// Every role.
#[utoipa::path(get, path = "/admin/v1/roles", operation_id = "list_roles", tag = "roles",
    responses((status = 200, description = "The roles", body = Page<Role>)),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn list(
    state: web::Data<AdminState>,
    caller: Caller<DirectoryRead>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(roles::list(&state, &caller).await?))
}

/// Read a role.
#[utoipa::path(get, path = "/admin/v1/roles/{name}", operation_id = "read_role", tag = "roles", params(("name" = String, Path)),
    responses((status = 200, description = "The role", body = Role), (status = 404, description = "No such role")),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn read(
    state: web::Data<AdminState>,
    caller: Caller<DirectoryRead>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(roles::read(&state, &caller, path.into_inner()).await?))
}

/// Change a role's description or scopes.
#[utoipa::path(patch, path = "/admin/v1/roles/{name}", operation_id = "change_role", tag = "roles", request_body = ChangeRole, params(("name" = String, Path)),
    responses((status = 200, description = "The changed role", body = Role),
        (status = 202, description = "Adding a gatepass:* scope waits for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, a scope the caller may not grant, or a role that holds more than the caller"),
        (status = 404, description = "No such role"),
        (status = 409, description = "The last admin client would lose gatepass:admin (`last-admin`)"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
pub(crate) async fn change(
    state: web::Data<AdminState>,
    caller: Caller<ServiceAccountsWrite>,
    path: web::Path<String>,
    Body(body): Body<ChangeRole>,
) -> Result<HttpResponse, AdminError> {
    Ok(changed(roles::change(&state, &caller, path.into_inner(), body).await?))
}

/// Delete a role.
#[utoipa::path(delete, path = "/admin/v1/roles/{name}", operation_id = "delete_role", tag = "roles", params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Missing scope, or a role that holds more than the caller"),
        (status = 404, description = "No such role"),
        (status = 409, description = "The last admin client would lose gatepass:admin (`last-admin`)")),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
pub(crate) async fn remove(
    state: web::Data<AdminState>,
    caller: Caller<ServiceAccountsWrite>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    roles::delete(&state, &caller, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

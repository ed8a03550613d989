//! `/admin/v1/service-accounts`.

use actix_web::{HttpResponse, web};

use super::{changed, created};
use crate::AdminState;
use crate::access::{Caller, DirectoryRead, ServiceAccountsWrite};
use crate::problem::{AdminError, Body};
use crate::requests::{ChangeServiceAccount, CreateServiceAccount};
use crate::service_accounts;
use crate::views::Approval;
use crate::views::{Page, ServiceAccount};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/service-accounts")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/service-accounts/{id}")
            .route(web::get().to(read))
            .route(web::patch().to(change))
            .route(web::delete().to(remove)),
    );
}

/// Create a service account.
#[utoipa::path(post, path = "/admin/v1/service-accounts", operation_id = "create_service_account", tag = "service-accounts", request_body = CreateServiceAccount,
    responses((status = 201, description = "Created", body = ServiceAccount),
        (status = 202, description = "Waiting for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, or a role scope the caller may not grant"),
        (status = 409, description = "A service account of that name exists"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
pub(crate) async fn create(
    state: web::Data<AdminState>,
    caller: Caller<ServiceAccountsWrite>,
    Body(body): Body<CreateServiceAccount>,
) -> Result<HttpResponse, AdminError> {
    Ok(created(service_accounts::create(&state, &caller, body).await?))
}

/// Every service account.
#[utoipa::path(get, path = "/admin/v1/service-accounts", operation_id = "list_service_accounts", tag = "service-accounts",
    responses((status = 200, description = "The service accounts", body = Page<ServiceAccount>)),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn list(
    state: web::Data<AdminState>,
    caller: Caller<DirectoryRead>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(service_accounts::list(&state, &caller).await?))
}

/// Read a service account.
#[utoipa::path(get, path = "/admin/v1/service-accounts/{id}", operation_id = "read_service_account", tag = "service-accounts", params(("id" = String, Path)),
    responses((status = 200, description = "The service account", body = ServiceAccount), (status = 404, description = "No such service account")),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn read(
    state: web::Data<AdminState>,
    caller: Caller<DirectoryRead>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(service_accounts::read(&state, &caller, path.into_inner()).await?))
}

/// Change a service account (name, description, roles, status).
#[utoipa::path(patch, path = "/admin/v1/service-accounts/{id}", operation_id = "change_service_account", tag = "service-accounts", request_body = ChangeServiceAccount, params(("id" = String, Path)),
    responses((status = 200, description = "The changed service account", body = ServiceAccount),
        (status = 202, description = "Widening a gatepass:* path waits for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, a role scope the caller may not grant, or an account that reaches more than the caller"),
        (status = 404, description = "No such service account"),
        (status = 409, description = "Conflict, or the last admin client would lose gatepass:admin (`last-admin`)"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
pub(crate) async fn change(
    state: web::Data<AdminState>,
    caller: Caller<ServiceAccountsWrite>,
    path: web::Path<String>,
    Body(body): Body<ChangeServiceAccount>,
) -> Result<HttpResponse, AdminError> {
    Ok(changed(
        service_accounts::change(&state, &caller, path.into_inner(), body).await?,
    ))
}

/// Delete a service account that has no clients.
#[utoipa::path(delete, path = "/admin/v1/service-accounts/{id}", operation_id = "delete_service_account", tag = "service-accounts", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Missing scope, or an account that reaches more than the caller"),
        (status = 404, description = "No such service account"),
        (status = 409, description = "It still has clients")),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
pub(crate) async fn remove(
    state: web::Data<AdminState>,
    caller: Caller<ServiceAccountsWrite>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    service_accounts::delete(&state, &caller, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/admin/v1/clients/{client_id}/secrets` and `/admin/v1/secrets/due`.

use actix_web::{HttpResponse, web};

use super::created;
use crate::AdminState;
use crate::access::{Caller, ClientsRead, ClientsWrite};
use crate::problem::{AdminError, Body};
use crate::requests::CreateSecret;
use crate::secrets::{self, DeleteQuery};
use crate::views::Approval;
use crate::views::{CreatedSecret, Page, Secret};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/clients/{client_id}/secrets")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(web::resource("/clients/{client_id}/secrets/{secret_id}/revoke").route(web::post().to(revoke)))
    .service(web::resource("/clients/{client_id}/secrets/{secret_id}").route(web::delete().to(remove)))
    .service(web::resource("/secrets/due").route(web::get().to(due)));
}

/// Rotate: add a secret, shown once; `grace_period_seconds` lets older ones expire after it.
#[utoipa::path(post, path = "/admin/v1/clients/{client_id}/secrets", operation_id = "create_secret", tag = "secrets", request_body = CreateSecret, params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 201, description = "Created", body = CreatedSecret),
        (status = 202, description = "A secret for a client that reaches a gatepass:* scope waits for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, or a client that can reach more than the caller"),
        (status = 404, description = "No such client"),
        (status = 409, description = "The client holds the maximum of usable secrets"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:clients:write"])))]
pub(crate) async fn create(
    state: web::Data<AdminState>,
    caller: Caller<ClientsWrite>,
    path: web::Path<String>,
    Body(body): Body<CreateSecret>,
) -> Result<HttpResponse, AdminError> {
    Ok(created(
        secrets::create(&state, &caller, path.into_inner(), body).await?,
    ))
}

/// A client's secrets: metadata only, never a secret.
#[utoipa::path(get, path = "/admin/v1/clients/{client_id}/secrets", operation_id = "list_secrets", tag = "secrets", params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 200, description = "The secrets", body = Page<Secret>), (status = 404, description = "No such client")),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn list(
    state: web::Data<AdminState>,
    caller: Caller<ClientsRead>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(secrets::list(&state, &caller, path.into_inner()).await?))
}

/// Revoke a secret now.
#[utoipa::path(post, path = "/admin/v1/clients/{client_id}/secrets/{secret_id}/revoke", operation_id = "revoke_secret", tag = "secrets", params(("client_id" = String, Path), ("secret_id" = String, Path)),
    responses((status = 200, description = "The revoked secret", body = Secret),
        (status = 403, description = "Missing scope, or a client that can reach more than the caller"),
        (status = 404, description = "No such client or secret"),
        (status = 409, description = "The last admin client's last secret (`last-admin`)")),
    security(("bearer" = ["gatepass:clients:write"])))]
pub(crate) async fn revoke(
    state: web::Data<AdminState>,
    caller: Caller<ClientsWrite>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (client_id, secret_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(secrets::revoke(&state, &caller, client_id, secret_id).await?))
}

/// Delete a secret for good (`force=true` if used in the last 24 hours).
#[utoipa::path(delete, path = "/admin/v1/clients/{client_id}/secrets/{secret_id}", operation_id = "delete_secret", tag = "secrets", params(("client_id" = String, Path), ("secret_id" = String, Path), DeleteQuery),
    responses((status = 204, description = "Deleted"),
        (status = 400, description = "Malformed query"),
        (status = 403, description = "Missing scope, or a client that can reach more than the caller"),
        (status = 404, description = "No such client or secret"),
        (status = 409, description = "Used in the last 24 hours (pass force=true), or the last admin client's last secret (`last-admin`)")),
    security(("bearer" = ["gatepass:clients:write"])))]
pub(crate) async fn remove(
    state: web::Data<AdminState>,
    caller: Caller<ClientsWrite>,
    path: web::Path<(String, String)>,
    query: web::Query<DeleteQuery>,
) -> Result<HttpResponse, AdminError> {
    let (client_id, secret_id) = path.into_inner();
    secrets::delete(&state, &caller, client_id, secret_id, query.force).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every usable secret older than the rotation policy allows (empty when no policy is set).
#[utoipa::path(get, path = "/admin/v1/secrets/due", operation_id = "list_secrets_due", tag = "secrets",
    responses((status = 200, description = "Secrets due for rotation", body = Page<Secret>)),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn due(state: web::Data<AdminState>, caller: Caller<ClientsRead>) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(secrets::due(&state, &caller).await?))
}

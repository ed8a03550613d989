//! `/admin/v1/clients`.

use actix_web::{HttpResponse, web};

use super::{changed, created};
use crate::AdminState;
use crate::access::{Caller, ClientsRead, ClientsWrite};
use crate::clients::{self, ListQuery};
use crate::problem::{AdminError, Body};
use crate::requests::{ChangeClient, CreateClient};
use crate::views::Approval;
use crate::views::{Client, CreatedClient, Page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/clients")
            .route(web::post().to(create))
            .route(web::get().to(list)),
    )
    .service(
        web::resource("/clients/{client_id}")
            .route(web::get().to(read))
            .route(web::patch().to(change))
            .route(web::delete().to(remove)),
    );
}

/// Create a client; the answer holds its first secret, shown once.
#[utoipa::path(post, path = "/admin/v1/clients", operation_id = "create_client", tag = "clients", request_body = CreateClient,
    responses((status = 201, description = "Created", body = CreatedClient),
        (status = 202, description = "Waiting for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, or a scope the caller may not grant"),
        (status = 409, description = "Conflict"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:clients:write"])))]
pub(crate) async fn create(
    state: web::Data<AdminState>,
    caller: Caller<ClientsWrite>,
    Body(body): Body<CreateClient>,
) -> Result<HttpResponse, AdminError> {
    Ok(created(clients::create(&state, &caller, body).await?))
}

/// List clients, cursor-paginated, filtered by label and status.
#[utoipa::path(get, path = "/admin/v1/clients", operation_id = "list_clients", tag = "clients", params(ListQuery),
    responses((status = 200, description = "A page of clients", body = Page<Client>),
        (status = 400, description = "Malformed query"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn list(
    state: web::Data<AdminState>,
    caller: Caller<ClientsRead>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(clients::list(&state, &caller, query.into_inner()).await?))
}

/// Read a client.
#[utoipa::path(get, path = "/admin/v1/clients/{client_id}", operation_id = "read_client", tag = "clients", params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 200, description = "The client", body = Client), (status = 404, description = "No such client")),
    security(("bearer" = ["gatepass:clients:read"])))]
pub(crate) async fn read(
    state: web::Data<AdminState>,
    caller: Caller<ClientsRead>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(clients::read(&state, &caller, path.into_inner()).await?))
}

/// Change a client (name, scopes, audiences, labels, TTL, expiry, status).
#[utoipa::path(patch, path = "/admin/v1/clients/{client_id}", operation_id = "change_client", tag = "clients", request_body = ChangeClient, params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 200, description = "The changed client", body = Client),
        (status = 202, description = "Widening a gatepass:* path waits for a second admin (four-eyes)", body = Approval),
        (status = 400, description = "Malformed body (wrong type, unknown field)"),
        (status = 403, description = "Missing scope, a scope the caller may not grant, or a client that can reach more than the caller"),
        (status = 404, description = "No such client"),
        (status = 409, description = "Conflict, or the last admin client (`last-admin`)"),
        (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:clients:write"])))]
pub(crate) async fn change(
    state: web::Data<AdminState>,
    caller: Caller<ClientsWrite>,
    path: web::Path<String>,
    Body(body): Body<ChangeClient>,
) -> Result<HttpResponse, AdminError> {
    Ok(changed(
        clients::change(&state, &caller, path.into_inner(), body).await?,
    ))
}

/// Delete a client and its secrets.
#[utoipa::path(delete, path = "/admin/v1/clients/{client_id}", operation_id = "delete_client", tag = "clients", params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Missing scope, or a client that can reach more than the caller"),
        (status = 404, description = "No such client"),
        (status = 409, description = "The last admin client (`last-admin`)")),
    security(("bearer" = ["gatepass:clients:write"])))]
pub(crate) async fn remove(
    state: web::Data<AdminState>,
    caller: Caller<ClientsWrite>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    clients::delete(&state, &caller, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

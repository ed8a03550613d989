//! `/admin/v1/service-accounts`: non-human identities whose roles bound their clients' scopes.

use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_core::ScopeSet;
use gatepass_store::service_accounts::{self, ServiceAccountRow};
use gatepass_store::{Conn, StoreError, roles};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::principal::{Principal, SERVICE_ACCOUNTS_WRITE};
use crate::problem::{AdminError, Body, Problem, invalid};
use crate::views::{Page, ServiceAccount};
use crate::{AdminState, approvals, audited, delete_audited};

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

/// A new service account.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccount {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// Changes to a service account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeServiceAccount {
    name: Option<String>,
    description: Option<String>,
    roles: Option<Vec<String>>,
    status: Option<String>,
}

fn account_name(value: &str) -> Result<String, AdminError> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid("name", "must be 1-63 characters of a-z, 0-9, '.', '_', '-'"))
    }
}

/// The scopes the roles carry; an unknown role is a refusal naming `roles`.
fn role_scopes(conn: &mut Conn, names: &[String]) -> Result<Result<ScopeSet, String>, StoreError> {
    let mut all = Vec::new();
    for name in names {
        match roles::get(conn, name)? {
            None => return Ok(Err(name.clone())),
            Some(role) => all.extend(ScopeSet::parse(&role.scopes).unwrap_or_default().iter().cloned()),
        }
    }
    Ok(Ok(all.into_iter().collect()))
}

async fn role_set(state: &AdminState, names: &[String]) -> Result<ScopeSet, AdminError> {
    let lookup = names.to_vec();
    state
        .db
        .run(move |conn| role_scopes(conn, &lookup))
        .await?
        .map_err(|unknown| invalid("roles", format!("no role named {unknown:?}")))
}

/// The roles exist and the caller may grant every scope they carry.
async fn checked_roles(
    state: &AdminState,
    principal: &Principal,
    names: Vec<String>,
) -> Result<Vec<String>, AdminError> {
    principal.may_grant(&role_set(state, &names).await?)?;
    Ok(names)
}

/// The roles exist (for an approved request, whose escalation check ran when it was made).
async fn known_roles(state: &AdminState, names: Vec<String>) -> Result<Vec<String>, AdminError> {
    role_set(state, &names).await?;
    Ok(names)
}

/// Create a service account.
#[utoipa::path(post, path = "/admin/v1/service-accounts", tag = "service-accounts", request_body = CreateServiceAccount,
    responses((status = 201, description = "Created", body = ServiceAccount), (status = 202, description = "Waiting for a second admin (four-eyes)", body = crate::approvals::Approval), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 409, description = "Conflict", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
async fn create(
    req: HttpRequest,
    state: web::Data<AdminState>,
    Body(body): Body<CreateServiceAccount>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(SERVICE_ACCOUNTS_WRITE)?;
    account_name(&body.name)?;
    checked_roles(&state, &principal, body.roles.clone()).await?;
    if state.four_eyes {
        return approvals::request(&state, principal, "service_account.create", &body).await;
    }
    Ok(HttpResponse::Created().json(perform_create(&state, principal, body).await?))
}

/// Creates a service account (validated here again, so an approved request is checked as it is run).
pub(crate) async fn perform_create(
    state: &AdminState,
    principal: Principal,
    body: CreateServiceAccount,
) -> Result<ServiceAccount, AdminError> {
    let name = account_name(&body.name)?;
    if body.description.chars().count() > 512 {
        return Err(invalid("description", "at most 512 characters"));
    }
    let roles = known_roles(state, body.roles).await?;
    let now = state.now();
    let row = ServiceAccountRow {
        id: uuid::Uuid::now_v7().to_string(),
        name,
        description: body.description.trim().to_owned(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    let (saved, assigned) = (row.clone(), roles.clone());
    audited(state, &principal, "service_account.created", &row.id, move |conn| {
        service_accounts::insert(conn, &saved, &assigned)?;
        Ok(((), true))
    })
    .await?;
    Ok(ServiceAccount::of(&row, roles))
}

/// Every service account.
#[utoipa::path(get, path = "/admin/v1/service-accounts", tag = "service-accounts",
    responses((status = 200, description = "The service accounts", body = Page<ServiceAccount>), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn list(req: HttpRequest, state: web::Data<AdminState>) -> Result<HttpResponse, AdminError> {
    Principal::from_request(&req, &state).await?.require_directory_read()?;
    let rows = state.db.run(service_accounts::list).await?;
    let items = rows
        .into_iter()
        .map(|(row, roles)| ServiceAccount::of(&row, roles))
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

async fn find(state: &AdminState, id: String) -> Result<(ServiceAccountRow, Vec<String>), AdminError> {
    state
        .db
        .run(move |conn| {
            let Some(row) = service_accounts::get(conn, &id)? else {
                return Ok(None);
            };
            let roles = service_accounts::role_names(conn, &id)?;
            Ok(Some((row, roles)))
        })
        .await?
        .ok_or(AdminError::NotFound("service account"))
}

/// Read a service account.
#[utoipa::path(get, path = "/admin/v1/service-accounts/{id}", tag = "service-accounts", params(("id" = String, Path)),
    responses((status = 200, description = "The service account", body = ServiceAccount), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn read(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Principal::from_request(&req, &state).await?.require_directory_read()?;
    let (row, roles) = find(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ServiceAccount::of(&row, roles)))
}

/// Change a service account (name, description, roles, status).
#[utoipa::path(patch, path = "/admin/v1/service-accounts/{id}", tag = "service-accounts", request_body = ChangeServiceAccount, params(("id" = String, Path)),
    responses((status = 200, description = "The changed service account", body = ServiceAccount), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem), (status = 409, description = "Conflict", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
async fn change(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
    Body(body): Body<ChangeServiceAccount>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(SERVICE_ACCOUNTS_WRITE)?;
    let (mut row, mut roles) = find(&state, path.into_inner()).await?;
    if let Some(value) = &body.name {
        row.name = account_name(value)?;
    }
    if let Some(value) = &body.description {
        if value.chars().count() > 512 {
            return Err(invalid("description", "at most 512 characters"));
        }
        row.description = value.trim().to_owned();
    }
    if let Some(values) = body.roles {
        roles = checked_roles(&state, &principal, values).await?;
    }
    match body.status.as_deref() {
        None => {}
        Some("active") => row.disabled = false,
        Some("disabled") => row.disabled = true,
        Some(_) => return Err(invalid("status", "must be active or disabled")),
    }
    let now = state.now();
    row.updated_at = now;
    let (saved, assigned) = (row.clone(), roles.clone());
    audited(&state, &principal, "service_account.changed", &row.id, move |conn| {
        Ok(((), service_accounts::update(conn, &saved, &assigned)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ServiceAccount::of(&row, roles)))
}

/// Delete a service account that has no clients.
#[utoipa::path(delete, path = "/admin/v1/service-accounts/{id}", tag = "service-accounts", params(("id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem), (status = 409, description = "It still has clients", body = Problem)),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
async fn remove(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(SERVICE_ACCOUNTS_WRITE)?;
    let id = path.into_inner();
    delete_audited(
        &state,
        &principal,
        "service_account.deleted",
        "service account",
        id,
        service_accounts::delete,
    )
    .await
    .map_err(|e| match e {
        AdminError::Store(StoreError::Conflict(_)) => {
            AdminError::Conflict("the service account still has clients; move or delete them first".into())
        }
        other => other,
    })
}

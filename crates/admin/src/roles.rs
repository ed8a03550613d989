//! `/admin/v1/roles`: a name and a set of scopes, assigned to service accounts.

use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_core::ScopeSet;
use gatepass_store::roles::{self, RoleRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::approvals::{self, grants_gatepass_scope};
use crate::clients::scopes;
use crate::principal::{Principal, SERVICE_ACCOUNTS_WRITE};
use crate::problem::{AdminError, Body, Problem, invalid};
use crate::views::{Page, Role};
use crate::{AdminState, audited, delete_audited};

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

/// A new role.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    name: String,
    #[serde(default)]
    description: String,
    scopes: Vec<String>,
}

/// Changes to a role.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
}

/// A change to one role, as a four-eyes request stores it.
#[derive(Deserialize, Serialize)]
pub struct RoleChange {
    pub(crate) name: String,
    pub(crate) change: ChangeRole,
}

/// Role names: 1–63 of `a-z0-9._-`.
pub fn role_name(value: &str) -> Result<(), AdminError> {
    let ok = (1..=63).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid("name", "must be 1-63 characters of a-z, 0-9, '.', '_', '-'"))
    }
}

fn description(value: &str) -> Result<String, AdminError> {
    if value.chars().count() > 512 {
        return Err(invalid("description", "at most 512 characters"));
    }
    Ok(value.trim().to_owned())
}

/// Create a role.
#[utoipa::path(post, path = "/admin/v1/roles", tag = "roles", request_body = CreateRole,
    responses((status = 201, description = "Created", body = Role), (status = 202, description = "Waiting for a second admin (four-eyes)", body = crate::approvals::Approval), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 409, description = "Conflict", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
async fn create(
    req: HttpRequest,
    state: web::Data<AdminState>,
    Body(body): Body<CreateRole>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(SERVICE_ACCOUNTS_WRITE)?;
    role_name(&body.name)?;
    let set = scopes(&body.scopes)?;
    principal.may_grant(&set)?;
    if state.four_eyes && grants_gatepass_scope(&set) {
        return approvals::request(&state, principal, "role.create", &body).await;
    }
    Ok(HttpResponse::Created().json(perform_create(&state, principal, body).await?))
}

/// Creates a role (validated here again, so an approved request is checked as it is run).
pub(crate) async fn perform_create(
    state: &AdminState,
    principal: Principal,
    body: CreateRole,
) -> Result<Role, AdminError> {
    role_name(&body.name)?;
    let set = scopes(&body.scopes)?;
    let now = state.now();
    let row = RoleRow {
        name: body.name,
        description: description(&body.description)?,
        scopes: set.to_string(),
        created_at: now,
        updated_at: now,
    };
    let saved = row.clone();
    audited(state, &principal, "role.created", &row.name, move |conn| {
        roles::insert(conn, &saved)?;
        Ok(((), true))
    })
    .await?;
    Ok(Role::of(&row))
}

/// Every role.
#[utoipa::path(get, path = "/admin/v1/roles", tag = "roles",
    responses((status = 200, description = "The roles", body = Page<Role>), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn list(req: HttpRequest, state: web::Data<AdminState>) -> Result<HttpResponse, AdminError> {
    Principal::from_request(&req, &state).await?.require_directory_read()?;
    let rows = state.db.run(roles::list).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows.iter().map(Role::of).collect(),
        next_cursor: None,
    }))
}

async fn find(state: &AdminState, name: String) -> Result<RoleRow, AdminError> {
    state
        .db
        .run(move |conn| roles::get(conn, &name))
        .await?
        .ok_or(AdminError::NotFound("role"))
}

/// Read a role.
#[utoipa::path(get, path = "/admin/v1/roles/{name}", tag = "roles", params(("name" = String, Path)),
    responses((status = 200, description = "The role", body = Role), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn read(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    Principal::from_request(&req, &state).await?.require_directory_read()?;
    Ok(HttpResponse::Ok().json(Role::of(&find(&state, path.into_inner()).await?)))
}

/// Change a role's description or scopes.
#[utoipa::path(patch, path = "/admin/v1/roles/{name}", tag = "roles", request_body = ChangeRole, params(("name" = String, Path)),
    responses((status = 200, description = "The changed role", body = Role), (status = 202, description = "Granting a gatepass:* scope waits for a second admin (four-eyes)", body = crate::approvals::Approval), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
async fn change(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
    Body(body): Body<ChangeRole>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(SERVICE_ACCOUNTS_WRITE)?;
    let name = path.into_inner();
    if let Some(values) = &body.scopes {
        let set = scopes(values)?;
        principal.may_grant(&set)?;
        if state.four_eyes && grants_gatepass_scope(&set) {
            let held = ScopeSet::parse(&find(&state, name.clone()).await?.scopes).unwrap_or_default();
            if !set.is_subset(&held) {
                return approvals::request(&state, principal, "role.change", &RoleChange { name, change: body }).await;
            }
        }
    }
    Ok(HttpResponse::Ok().json(perform_change(&state, principal, name, body).await?))
}

/// Changes a role (validated here again, so an approved request is checked as it is run).
pub(crate) async fn perform_change(
    state: &AdminState,
    principal: Principal,
    name: String,
    body: ChangeRole,
) -> Result<Role, AdminError> {
    let mut row = find(state, name).await?;
    if let Some(value) = &body.description {
        row.description = description(value)?;
    }
    if let Some(values) = &body.scopes {
        row.scopes = scopes(values)?.to_string();
    }
    row.updated_at = state.now();
    let saved = row.clone();
    audited(state, &principal, "role.changed", &row.name, move |conn| {
        Ok(((), roles::update(conn, &saved)?))
    })
    .await?;
    Ok(Role::of(&row))
}

/// Delete a role.
#[utoipa::path(delete, path = "/admin/v1/roles/{name}", tag = "roles", params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:service-accounts:write"])))]
async fn remove(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(SERVICE_ACCOUNTS_WRITE)?;
    delete_audited(
        &state,
        &principal,
        "role.deleted",
        "role",
        path.into_inner(),
        roles::delete,
    )
    .await
}

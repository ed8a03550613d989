//! `/admin/v1/clients/{client_id}/secrets`: rotate (with a grace period), list, revoke, delete.

use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_core::{ClientSecret, parse_utc};
use gatepass_store::secrets::{self, RotationRefused, SecretRow};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::clients::find;
use crate::principal::{CLIENTS_WRITE, Principal};
use crate::problem::Problem;
use crate::problem::{AdminError, Body, invalid};
use crate::views::{CreatedSecret, Page, Secret};
use crate::{AdminState, audited};

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

/// A secret used this recently needs `force=true` to be deleted.
const RECENT_USE: i64 = 24 * 3600;

/// A new secret; with a grace period, older usable secrets expire after it.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSecret {
    label: Option<String>,
    expires_at: Option<String>,
    grace_period_seconds: Option<i64>,
}

/// `force=true` deletes a secret used in the last 24 hours.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    #[serde(default)]
    force: bool,
}

/// Rotate: add a secret, shown once; `grace_period_seconds` lets older ones expire after it.
#[utoipa::path(post, path = "/admin/v1/clients/{client_id}/secrets", tag = "secrets", request_body = CreateSecret, params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 201, description = "Created", body = CreatedSecret), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem), (status = 409, description = "The client holds the maximum of usable secrets", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:clients:write"])))]
async fn create(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
    Body(body): Body<CreateSecret>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(CLIENTS_WRITE)?;
    let client_id = path.into_inner();
    let now = state.now();
    if let Some(label) = &body.label
        && (label.trim().is_empty() || label.chars().count() > 128)
    {
        return Err(invalid("label", "must be 1-128 characters"));
    }
    let expires_at = match &body.expires_at {
        None => None,
        Some(text) => {
            let at = parse_utc(text)
                .map_err(|e| invalid("expires_at", e.to_string()))?
                .unix_timestamp();
            if at <= now {
                return Err(invalid("expires_at", "must be in the future"));
            }
            Some(at)
        }
    };
    let others_expire_at = match body.grace_period_seconds {
        None => None,
        Some(grace) if (0..=90 * 86_400).contains(&grace) => Some(now + grace),
        Some(_) => return Err(invalid("grace_period_seconds", "must be between 0 and 7776000")),
    };
    let secret = ClientSecret::generate(&state.secret_prefix)
        .map_err(|_| AdminError::Conflict("no randomness available".into()))?;
    let row = SecretRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client_id.clone(),
        secret_hash: state.pepper.hash(&secret).0.to_vec(),
        key_prefix: secret.key_prefix().to_owned(),
        label: body.label.map(|l| l.trim().to_owned()),
        created_at: now,
        expires_at,
        revoked_at: None,
        last_used_at: None,
        use_count: 0,
    };
    let max = state.max_secrets;
    let saved = row.clone();
    let outcome = audited(&state, &principal, "secret.created", &client_id, move |conn| {
        let outcome = secrets::rotate(conn, &saved, max, others_expire_at, now)?;
        let created = outcome.is_ok();
        Ok((outcome, created))
    })
    .await?;
    match outcome {
        Ok(()) => Ok(HttpResponse::Created().json(CreatedSecret {
            secret: Secret::of(&row, state.moment()),
            client_secret: secret.expose().to_owned(),
        })),
        Err(RotationRefused::UnknownClient) => Err(AdminError::NotFound("client")),
        Err(RotationRefused::LimitReached(max)) => Err(AdminError::Conflict(format!(
            "the client already has {max} usable secrets; revoke one or rotate with a grace period that lets older ones expire first"
        ))),
    }
}

/// A client's secrets: metadata only, never a secret.
#[utoipa::path(get, path = "/admin/v1/clients/{client_id}/secrets", tag = "secrets", params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 200, description = "The secrets", body = Page<Secret>), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn list(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require_read()?;
    let client = find(&state, path.into_inner()).await?;
    let rows = state
        .db
        .run(move |conn| secrets::list_for_client(conn, &client.client_id))
        .await?;
    Ok(HttpResponse::Ok().json(Page {
        items: rows.iter().map(|r| Secret::of(r, state.moment())).collect(),
        next_cursor: None,
    }))
}

/// Revoke a secret now.
#[utoipa::path(post, path = "/admin/v1/clients/{client_id}/secrets/{secret_id}/revoke", tag = "secrets", params(("client_id" = String, Path), ("secret_id" = String, Path)),
    responses((status = 200, description = "The revoked secret", body = Secret), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:clients:write"])))]
async fn revoke(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(CLIENTS_WRITE)?;
    let (client_id, secret_id) = path.into_inner();
    let now = state.now();
    let target = client_id.clone();
    let row = audited(&state, &principal, "secret.revoked", &target, move |conn| {
        let Some(row) = secrets::get(conn, &client_id, &secret_id)? else {
            return Ok((None, false));
        };
        let revoked = secrets::revoke(conn, &secret_id, now)?;
        Ok((secrets::get(conn, &client_id, &secret_id)?.or(Some(row)), revoked))
    })
    .await?
    .ok_or(AdminError::NotFound("secret"))?;
    Ok(HttpResponse::Ok().json(Secret::of(&row, state.moment())))
}

/// Delete a secret for good (`force=true` if used in the last 24 hours).
#[utoipa::path(delete, path = "/admin/v1/clients/{client_id}/secrets/{secret_id}", tag = "secrets", params(("client_id" = String, Path), ("secret_id" = String, Path), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem), (status = 409, description = "Used in the last 24 hours; pass force=true", body = Problem)),
    security(("bearer" = ["gatepass:clients:write"])))]
async fn remove(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
    query: web::Query<DeleteQuery>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(CLIENTS_WRITE)?;
    let (client_id, secret_id) = path.into_inner();
    let force = query.force;
    let now = state.now();
    let target = client_id.clone();
    let outcome = audited(&state, &principal, "secret.deleted", &target, move |conn| {
        let Some(row) = secrets::get(conn, &client_id, &secret_id)? else {
            return Ok((Err(AdminError::NotFound("secret")), false));
        };
        if !force && row.last_used_at.is_some_and(|at| now - at < RECENT_USE) {
            return Ok((
                Err(AdminError::Conflict(
                    "this secret was used in the last 24 hours; pass force=true to delete it anyway".into(),
                )),
                false,
            ));
        }
        secrets::delete(conn, &client_id, &secret_id)?;
        Ok((Ok(()), true))
    })
    .await?;
    outcome.map(|()| HttpResponse::NoContent().finish())
}

/// Every usable secret older than the rotation policy allows (empty when no policy is set).
#[utoipa::path(get, path = "/admin/v1/secrets/due", tag = "secrets",
    responses((status = 200, description = "Secrets due for rotation", body = Page<Secret>), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn due(req: HttpRequest, state: web::Data<AdminState>) -> Result<HttpResponse, AdminError> {
    Principal::from_request(&req, &state).await?.require_read()?;
    let moment = state.moment();
    let rows = state.db.run(secrets::list_all).await?;
    let items: Vec<Secret> = rows
        .iter()
        .map(|r| Secret::with_client(r, moment))
        .filter(Secret::is_due)
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

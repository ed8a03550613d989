//! `/admin/v1/clients`: create (with the first secret, shown once), list, read, change, delete.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::{Audience, ClientId, ClientSecret, Scope, ScopeSet, parse_utc};
use gatepass_store::clients::{self, ClientFilter, ClientRow};
use gatepass_store::secrets::SecretRow;
use gatepass_store::{audit, service_accounts};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::approvals::{self, grants_gatepass_scope};
use crate::principal::{CLIENTS_WRITE, Principal};
use crate::problem::Problem;
use crate::problem::{AdminError, Body, invalid};
use crate::views::{Client, CreatedClient, Page, Secret};
use crate::{AdminState, audited, delete_audited, event, labels};

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

/// Token lifetimes a client may set.
const TTL_RANGE: std::ops::RangeInclusive<i64> = 60..=86_400;

/// A new client.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    name: Option<String>,
    service_account_id: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    token_ttl_seconds: Option<i64>,
    expires_at: Option<String>,
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
#[allow(clippy::option_option)] // the three states are the point
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to a client; absent fields stay as they are, `null` clears.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)] // absent = unchanged, null = cleared
pub struct ChangeClient {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audiences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    token_ttl_seconds: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    expires_at: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

/// A change to one client, as a four-eyes request stores it.
#[derive(Deserialize, Serialize)]
pub struct ClientChange {
    pub(crate) client_id: String,
    pub(crate) change: ChangeClient,
}

/// Filters and pagination of the client list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    label: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn name(value: &str) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 128 || trimmed.chars().any(char::is_control) {
        return Err(invalid("name", "must be 1-128 printable characters"));
    }
    Ok(trimmed.to_owned())
}

pub fn scopes(values: &[String]) -> Result<ScopeSet, AdminError> {
    values
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<ScopeSet, _>>()
        .map_err(|e| invalid("scopes", e.to_string()))
}

fn audiences(values: &[String]) -> Result<String, AdminError> {
    let parsed = values
        .iter()
        .map(|a| Audience::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("audiences", e.to_string()))?;
    Ok(parsed.iter().map(Audience::as_str).collect::<Vec<_>>().join(" "))
}

fn ttl(value: Option<i64>) -> Result<Option<i64>, AdminError> {
    match value {
        Some(ttl) if !TTL_RANGE.contains(&ttl) => Err(invalid("token_ttl_seconds", "must be between 60 and 86400")),
        other => Ok(other),
    }
}

fn expiry(value: Option<&str>, now: i64) -> Result<Option<i64>, AdminError> {
    let Some(text) = value else { return Ok(None) };
    let at = parse_utc(text)
        .map_err(|e| invalid("expires_at", e.to_string()))?
        .unix_timestamp();
    if at <= now {
        return Err(invalid("expires_at", "must be in the future"));
    }
    Ok(Some(at))
}

/// Create a client; the answer holds its first secret, shown once.
#[utoipa::path(post, path = "/admin/v1/clients", tag = "clients", request_body = CreateClient,
    responses((status = 201, description = "Created", body = CreatedClient), (status = 202, description = "Waiting for a second admin (four-eyes)", body = crate::approvals::Approval), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 409, description = "Conflict", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:clients:write"])))]
async fn create(
    req: HttpRequest,
    state: web::Data<AdminState>,
    Body(body): Body<CreateClient>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(CLIENTS_WRITE)?;
    let granted = scopes(&body.scopes)?;
    principal.may_grant(&granted)?;
    if state.four_eyes && grants_gatepass_scope(&granted) {
        return approvals::request(&state, principal, "client.create", &body).await;
    }
    Ok(HttpResponse::Created().json(perform_create(&state, principal, body).await?))
}

/// Creates a client (validated here again, so an approved request is checked as it is run).
pub(crate) async fn perform_create(
    state: &AdminState,
    principal: Principal,
    body: CreateClient,
) -> Result<CreatedClient, AdminError> {
    let now = state.now();
    let scopes = scopes(&body.scopes)?;
    let audiences = audiences(&body.audiences)?;
    labels::validate(&body.labels)?;
    let token_ttl_seconds = ttl(body.token_ttl_seconds)?;
    let expires_at = expiry(body.expires_at.as_deref(), now)?;
    let given_name = body.name.as_deref().map(name).transpose()?;
    let secret = ClientSecret::generate(&state.secret_prefix)
        .map_err(|_| AdminError::Conflict("no randomness available".into()))?;
    let hash = state.pepper.hash(&secret);
    let key_prefix = secret.key_prefix().to_owned();
    let client_id = ClientId::generate().to_string();
    let account = body.service_account_id.clone();
    let (client, secret_row) = state
        .db
        .run(move |conn| {
            let prefix = match &account {
                None => "client".to_owned(),
                Some(id) => service_accounts::get(conn, id)?
                    .map(|sa| sa.name)
                    .ok_or_else(|| gatepass_store::StoreError::Corrupt(format!("unknown service account {id}")))?,
            };
            let at = time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let default_name = format!(
                "{prefix}-{:02}_{:02}_{}-{:02}_{:02}",
                at.day(),
                u8::from(at.month()),
                at.year(),
                at.hour(),
                at.minute()
            );
            let client = ClientRow {
                client_id: client_id.clone(),
                name: given_name.unwrap_or(default_name),
                service_account_id: account,
                scopes: scopes.to_string(),
                audiences,
                labels: labels::to_json(&body.labels),
                token_ttl_seconds,
                disabled: false,
                expires_at,
                created_at: now,
                updated_at: now,
                last_used_at: None,
            };
            let secret_row = SecretRow {
                id: uuid::Uuid::now_v7().to_string(),
                client_id: client_id.clone(),
                secret_hash: hash.0.to_vec(),
                key_prefix,
                label: None,
                created_at: now,
                expires_at: None,
                revoked_at: None,
                last_used_at: None,
                use_count: 0,
            };
            gatepass_store::transaction(conn, |conn| {
                clients::insert(conn, &client)?;
                gatepass_store::secrets::insert(conn, &secret_row)?;
                audit::append(conn, &[event(&principal, now, "client.created", &client_id)])
            })?;
            Ok((client, secret_row))
        })
        .await
        .map_err(|e| match e {
            gatepass_store::StoreError::Corrupt(message) => invalid("service_account_id", message),
            other => other.into(),
        })?;
    Ok(CreatedClient {
        client: Client::of(&client, now),
        secret: Secret::of(&secret_row, state.moment()),
        client_secret: secret.expose().to_owned(),
    })
}

/// List clients, cursor-paginated, filtered by label and status.
#[utoipa::path(get, path = "/admin/v1/clients", tag = "clients", params(ListQuery),
    responses((status = 200, description = "A page of clients", body = Page<Client>), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn list(
    req: HttpRequest,
    state: web::Data<AdminState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require_read()?;
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 500"));
    }
    let after = query
        .cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid("cursor", "not a cursor from this API"))
        })
        .transpose()?;
    let label = query.label.as_deref().map(labels::parse_filter).transpose()?;
    let now = state.now();
    let (disabled, expired) = match query.status.as_deref() {
        None => (None, None),
        Some("active") => (Some(false), Some(false)),
        Some("disabled") => (Some(true), None),
        Some("expired") => (Some(false), Some(true)),
        Some(_) => return Err(invalid("status", "must be active, disabled or expired")),
    };
    let filter = ClientFilter { label, disabled, after };
    let mut rows = state
        .db
        .run(move |conn| clients::list(conn, &filter, limit + 1))
        .await?;
    let next_cursor = (rows.len() > usize::try_from(limit).unwrap_or(usize::MAX)).then(|| {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        URL_SAFE_NO_PAD.encode(rows.last().map(|r| r.client_id.as_str()).unwrap_or_default())
    });
    let items = rows
        .iter()
        .filter(|row| expired.is_none_or(|want| row.expires_at.is_some_and(|at| at <= now) == want))
        .map(|row| Client::of(row, now))
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

pub async fn find(state: &AdminState, client_id: String) -> Result<ClientRow, AdminError> {
    state
        .db
        .run(move |conn| clients::get(conn, &client_id))
        .await?
        .ok_or(AdminError::NotFound("client"))
}

/// Read a client.
#[utoipa::path(get, path = "/admin/v1/clients/{client_id}", tag = "clients", params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 200, description = "The client", body = Client), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn read(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require_read()?;
    let row = find(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Client::of(&row, state.now())))
}

/// Change a client (name, scopes, audiences, labels, TTL, expiry, status).
#[utoipa::path(patch, path = "/admin/v1/clients/{client_id}", tag = "clients", request_body = ChangeClient, params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 200, description = "The changed client", body = Client), (status = 202, description = "Granting a gatepass:* scope waits for a second admin (four-eyes)", body = crate::approvals::Approval), (status = 400, description = "Malformed body (wrong type, unknown field)", body = Problem), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem), (status = 409, description = "Conflict", body = Problem), (status = 422, description = "A field failed validation; `field` names it", body = Problem)),
    security(("bearer" = ["gatepass:clients:write"])))]
async fn change(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
    Body(body): Body<ChangeClient>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(CLIENTS_WRITE)?;
    let client_id = path.into_inner();
    if let Some(values) = &body.scopes {
        let set = scopes(values)?;
        principal.may_grant(&set)?;
        if state.four_eyes && grants_gatepass_scope(&set) {
            let current = find(&state, client_id.clone()).await?;
            let held = ScopeSet::parse(&current.scopes).unwrap_or_default();
            if !set.is_subset(&held) {
                let request = ClientChange {
                    client_id,
                    change: body,
                };
                return approvals::request(&state, principal, "client.change", &request).await;
            }
        }
    }
    Ok(HttpResponse::Ok().json(perform_change(&state, principal, client_id, body).await?))
}

/// Changes a client (validated here again, so an approved request is checked as it is run).
pub(crate) async fn perform_change(
    state: &AdminState,
    principal: Principal,
    client_id: String,
    body: ChangeClient,
) -> Result<Client, AdminError> {
    let now = state.now();
    let mut row = find(state, client_id).await?;
    if let Some(value) = &body.name {
        row.name = name(value)?;
    }
    if let Some(values) = &body.scopes {
        row.scopes = scopes(values)?.to_string();
    }
    if let Some(values) = &body.audiences {
        row.audiences = audiences(values)?;
    }
    if let Some(values) = &body.labels {
        labels::validate(values)?;
        row.labels = labels::to_json(values);
    }
    if let Some(value) = body.token_ttl_seconds {
        row.token_ttl_seconds = ttl(value)?;
    }
    if let Some(value) = &body.expires_at {
        row.expires_at = expiry(value.as_deref(), now)?;
    }
    match body.status.as_deref() {
        None => {}
        Some("active") => row.disabled = false,
        Some("disabled") => row.disabled = true,
        Some(_) => return Err(invalid("status", "must be active or disabled")),
    }
    row.updated_at = now;
    let saved = row.clone();
    audited(state, &principal, "client.changed", &row.client_id, move |conn| {
        Ok(((), clients::update(conn, &saved)?))
    })
    .await?;
    Ok(Client::of(&row, now))
}

/// Delete a client and its secrets.
#[utoipa::path(delete, path = "/admin/v1/clients/{client_id}", tag = "clients", params(("client_id" = String, Path, description = "The client id, gpc_…")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid bearer token", body = Problem), (status = 403, description = "Missing scope, or a scope the caller may not grant", body = Problem), (status = 404, description = "No such resource", body = Problem)),
    security(("bearer" = ["gatepass:clients:write"])))]
async fn remove(
    req: HttpRequest,
    state: web::Data<AdminState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let principal = Principal::from_request(&req, &state).await?;
    principal.require(CLIENTS_WRITE)?;
    delete_audited(
        &state,
        &principal,
        "client.deleted",
        "client",
        path.into_inner(),
        clients::delete,
    )
    .await
}

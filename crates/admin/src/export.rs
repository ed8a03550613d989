//! `/admin/v1/export/{clients,secrets,audit-events}`: everything, as JSON or — with
//! `Accept: text/csv` — as CSV with a header row.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_store::audit::{self, AuditFilter};
use gatepass_store::clients::{self, ClientFilter};
use gatepass_store::secrets;
use serde::Serialize;

use crate::AdminState;
use crate::access::{AuditRead, Caller, ClientsRead};
use crate::problem::AdminError;
use crate::views::{AuditEvent, Client, Secret, date};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/export/clients").route(web::get().to(export_clients)))
        .service(web::resource("/export/secrets").route(web::get().to(export_secrets)))
        .service(web::resource("/export/audit-events").route(web::get().to(export_audit)));
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

fn csv_response<T: Serialize>(name: &str, rows: &[T]) -> Result<HttpResponse, AdminError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .map_err(|e| AdminError::Internal(format!("CSV export failed: {e}")))?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| AdminError::Internal(format!("CSV export failed: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(body))
}

/// One client as a CSV row: lists space-separated, labels as JSON.
#[derive(Serialize)]
struct ClientCsv {
    client_id: String,
    name: String,
    service_account_id: String,
    scopes: String,
    audiences: String,
    labels: String,
    status: String,
    token_ttl_seconds: String,
    created_at: String,
    expires_at: String,
    last_used_at: String,
}

/// Everything, as JSON or (with `Accept: text/csv`) CSV with a header row.
#[utoipa::path(get, path = "/admin/v1/export/clients", tag = "export",
    responses((status = 200, description = "JSON array, or CSV", body = Vec<Client>)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn export_clients(
    req: HttpRequest,
    state: web::Data<AdminState>,
    _: Caller<ClientsRead>,
) -> Result<HttpResponse, AdminError> {
    let rows = state
        .db
        .run(|conn| clients::list(conn, &ClientFilter::default(), i64::MAX))
        .await?;
    let now = state.now();
    if !wants_csv(&req) {
        return Ok(HttpResponse::Ok().json(rows.iter().map(|r| Client::of(r, now)).collect::<Vec<_>>()));
    }
    let csv_rows: Vec<ClientCsv> = rows
        .iter()
        .map(|r| {
            let view = serde_json::to_value(Client::of(r, now)).unwrap_or_default();
            ClientCsv {
                client_id: r.client_id.clone(),
                name: r.name.clone(),
                service_account_id: r.service_account_id.clone().unwrap_or_default(),
                scopes: r.scopes.clone(),
                audiences: r.audiences.clone(),
                labels: r.labels.clone(),
                status: view["status"].as_str().unwrap_or_default().to_owned(),
                token_ttl_seconds: r.token_ttl_seconds.map(|t| t.to_string()).unwrap_or_default(),
                created_at: date(r.created_at),
                expires_at: r.expires_at.map(date).unwrap_or_default(),
                last_used_at: r.last_used_at.map(date).unwrap_or_default(),
            }
        })
        .collect();
    csv_response("clients", &csv_rows)
}

/// Everything, as JSON or (with `Accept: text/csv`) CSV with a header row.
#[utoipa::path(get, path = "/admin/v1/export/secrets", tag = "export",
    responses((status = 200, description = "JSON array, or CSV", body = Vec<Secret>)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn export_secrets(
    req: HttpRequest,
    state: web::Data<AdminState>,
    _: Caller<ClientsRead>,
) -> Result<HttpResponse, AdminError> {
    let rows = state.db.run(secrets::list_all).await?;
    let items: Vec<Secret> = rows.iter().map(|r| Secret::with_client(r, state.moment())).collect();
    if wants_csv(&req) {
        csv_response("secrets", &items)
    } else {
        Ok(HttpResponse::Ok().json(items))
    }
}

/// Everything, as JSON or (with `Accept: text/csv`) CSV with a header row.
#[utoipa::path(get, path = "/admin/v1/export/audit-events", tag = "export",
    responses((status = 200, description = "JSON array, or CSV", body = Vec<AuditEvent>)),
    security(("bearer" = ["gatepass:audit:read"])))]
async fn export_audit(
    req: HttpRequest,
    state: web::Data<AdminState>,
    _: Caller<AuditRead>,
) -> Result<HttpResponse, AdminError> {
    let rows = state
        .db
        .run(|conn| audit::search(conn, &AuditFilter::default(), i64::MAX))
        .await?;
    let items: Vec<AuditEvent> = rows.iter().map(AuditEvent::of).collect();
    if wants_csv(&req) {
        csv_response("audit-events", &items)
    } else {
        Ok(HttpResponse::Ok().json(items))
    }
}

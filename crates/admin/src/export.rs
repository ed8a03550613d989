//! `/admin/v1/export/{clients,secrets,audit-events}`: everything, as JSON or — with
//! `Accept: text/csv` — as CSV with a header row.
//!
//! Exports stream: rows are read in pages (keyset pagination, [`PAGE`] rows at a time) and
//! each page is written out before the next is read, through a channel of two pages, so
//! memory stays constant whatever the size. A database fault before the first page answers
//! with a problem; one later ends the body early (the transfer is then incomplete, never
//! silently short). CSV cells that a spreadsheet would run as a formula (starting with `=`,
//! `+`, `-`, `@`, a tab or a carriage return) are prefixed with `'`.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_store::audit::{self, AuditFilter};
use gatepass_store::clients::{self, ClientFilter};
use gatepass_store::secrets;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::AdminState;
use crate::access::{AuditRead, Caller, ClientsRead};
use crate::problem::AdminError;
use crate::views::{AuditEvent, Client, Secret, date};

/// Rows read per page.
pub const PAGE: i64 = 500;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
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

fn csv_failed(error: impl std::fmt::Display) -> AdminError {
    AdminError::Internal(format!("CSV export failed: {error}"))
}

/// A cell a spreadsheet will not run as a formula.
fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// `rows` as CSV records (with the header row first when `header`), every cell neutralised.
fn csv_page<T: Serialize>(rows: &[T], header: bool) -> Result<Vec<u8>, AdminError> {
    let mut plain = csv::WriterBuilder::new().has_headers(header).from_writer(Vec::new());
    for row in rows {
        plain.serialize(row).map_err(csv_failed)?;
    }
    let plain = plain.into_inner().map_err(csv_failed)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(plain.as_slice());
    let mut out = csv::Writer::from_writer(Vec::new());
    for record in reader.records() {
        let record = record.map_err(csv_failed)?;
        out.write_record(record.iter().map(|cell| neutralise(cell).into_owned()))
            .map_err(csv_failed)?;
    }
    out.into_inner().map_err(csv_failed)
}

/// `items` as JSON values separated by commas (the array's brackets are the stream's).
fn json_page<T: Serialize>(items: impl Iterator<Item = T>) -> Result<Vec<u8>, AdminError> {
    let mut out = Vec::new();
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &item).map_err(|e| AdminError::Internal(format!("export failed: {e}")))?;
    }
    Ok(out)
}

/// One rendered page and the cursor of the next, if there may be one.
struct Page<C> {
    body: Vec<u8>,
    rows: usize,
    next: Option<C>,
}

impl<C> Page<C> {
    fn new(body: Vec<u8>, rows: usize, last: Option<C>) -> Self {
        let full = i64::try_from(rows).unwrap_or(i64::MAX) >= PAGE;
        Self {
            body,
            rows,
            next: last.filter(|_| full),
        }
    }
}

/// The response body: chunks from the page producer.
struct Chunks(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// An export under way: its chunks, read page by page as they are taken.
pub struct Export {
    name: &'static str,
    csv: bool,
    chunks: Chunks,
}

impl Export {
    /// The next chunk of the body; `None` at the end, an error if the export stopped early.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        self.chunks.0.recv().await
    }

    /// The HTTP answer: the body streamed, CSV as an attachment.
    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        if self.csv {
            response.content_type("text/csv; charset=utf-8").insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.csv\"", self.name),
            ));
        } else {
            response.content_type("application/json");
        }
        response.streaming(self.chunks)
    }
}

/// Every client, as JSON or CSV with a header row.
pub async fn all_clients(
    state: web::Data<AdminState>,
    _: &Caller<ClientsRead>,
    csv: bool,
) -> Result<Export, AdminError> {
    stream(state, "clients", csv, clients_page).await
}

/// Every secret's metadata, as JSON or CSV with a header row.
pub async fn all_secrets(
    state: web::Data<AdminState>,
    _: &Caller<ClientsRead>,
    csv: bool,
) -> Result<Export, AdminError> {
    stream(state, "secrets", csv, secrets_page).await
}

/// Every audit event, as JSON or CSV with a header row.
pub async fn all_audit_events(
    state: web::Data<AdminState>,
    _: &Caller<AuditRead>,
    csv: bool,
) -> Result<Export, AdminError> {
    stream(state, "audit-events", csv, audit_page).await
}

/// Streams every page `page(state, cursor, csv, header)` gives, as a JSON array or CSV.
async fn stream<C, F, Fut>(
    state: web::Data<AdminState>,
    name: &'static str,
    csv: bool,
    page: F,
) -> Result<Export, AdminError>
where
    C: 'static,
    F: Fn(web::Data<AdminState>, Option<C>, bool, bool) -> Fut + 'static,
    Fut: Future<Output = Result<Page<C>, AdminError>> + 'static,
{
    let first = page(state.clone(), None, csv, true).await?;
    let (chunks, receiver) = mpsc::channel(2);
    actix_web::rt::spawn(async move {
        let mut current = first;
        let mut started = false;
        loop {
            let mut chunk = Vec::new();
            if current.rows > 0 {
                if !csv {
                    chunk.push(if started { b',' } else { b'[' });
                }
                chunk.append(&mut current.body);
                started = true;
            }
            let Some(cursor) = current.next.take() else {
                if !csv {
                    chunk.extend_from_slice(if started { b"]" } else { b"[]" });
                }
                let _ = chunks.send(Ok(Bytes::from(chunk))).await;
                return;
            };
            if chunks.send(Ok(Bytes::from(chunk))).await.is_err() {
                return; // the caller went away
            }
            current = match page(state.clone(), Some(cursor), csv, !started).await {
                Ok(next) => next,
                Err(error) => {
                    log::error!("export {name} stopped early: {error}");
                    let _ = chunks.send(Err(std::io::Error::other("export stopped early"))).await;
                    return;
                }
            };
        }
    });
    Ok(Export {
        name,
        csv,
        chunks: Chunks(receiver),
    })
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

impl ClientCsv {
    fn of(r: &clients::ClientRow, now: i64) -> Self {
        let view = serde_json::to_value(Client::of(r, now)).unwrap_or_default();
        Self {
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
    }
}

/// One audit event as a CSV row: `details` as its JSON text.
#[derive(Serialize)]
struct AuditCsv {
    id: String,
    occurred_at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    reason: String,
    request_id: String,
    source_addr: String,
    details: String,
}

impl AuditCsv {
    fn of(r: &audit::AuditEventRow) -> Self {
        Self {
            id: r.id.clone(),
            occurred_at: date(r.occurred_at),
            actor: r.actor.clone(),
            action: r.action.clone(),
            target: r.target.clone().unwrap_or_default(),
            outcome: r.outcome.clone(),
            reason: r.reason.clone().unwrap_or_default(),
            request_id: r.request_id.clone().unwrap_or_default(),
            source_addr: r.source_addr.clone().unwrap_or_default(),
            details: r.details.clone().unwrap_or_default(),
        }
    }
}

async fn clients_page(
    state: web::Data<AdminState>,
    after: Option<String>,
    csv: bool,
    header: bool,
) -> Result<Page<String>, AdminError> {
    let filter = ClientFilter {
        after,
        ..ClientFilter::default()
    };
    let rows = state.db.run(move |conn| clients::list(conn, &filter, PAGE)).await?;
    let now = state.now();
    let body = if csv {
        csv_page(&rows.iter().map(|r| ClientCsv::of(r, now)).collect::<Vec<_>>(), header)?
    } else {
        json_page(rows.iter().map(|r| Client::of(r, now)))?
    };
    Ok(Page::new(body, rows.len(), rows.last().map(|r| r.client_id.clone())))
}

async fn secrets_page(
    state: web::Data<AdminState>,
    after: Option<(String, String)>,
    csv: bool,
    header: bool,
) -> Result<Page<(String, String)>, AdminError> {
    let rows = state.db.run(move |conn| secrets::list_page(conn, after, PAGE)).await?;
    let items: Vec<Secret> = rows.iter().map(|r| Secret::with_client(r, state.moment())).collect();
    let body = if csv {
        csv_page(&items, header)?
    } else {
        json_page(items.iter())?
    };
    let last = rows.last().map(|r| (r.client_id.clone(), r.id.clone()));
    Ok(Page::new(body, rows.len(), last))
}

async fn audit_page(
    state: web::Data<AdminState>,
    before_id: Option<String>,
    csv: bool,
    header: bool,
) -> Result<Page<String>, AdminError> {
    let filter = AuditFilter {
        before_id,
        ..AuditFilter::default()
    };
    let rows = state.db.run(move |conn| audit::search(conn, &filter, PAGE)).await?;
    let body = if csv {
        csv_page(&rows.iter().map(AuditCsv::of).collect::<Vec<_>>(), header)?
    } else {
        json_page(rows.iter().map(AuditEvent::of))?
    };
    Ok(Page::new(body, rows.len(), rows.last().map(|r| r.id.clone())))
}

/// Everything, as JSON or (with `Accept: text/csv`) CSV with a header row.
#[utoipa::path(get, path = "/admin/v1/export/clients", tag = "export",
    responses((status = 200, description = "JSON array, or CSV", body = Vec<Client>)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn export_clients(
    req: HttpRequest,
    state: web::Data<AdminState>,
    caller: Caller<ClientsRead>,
) -> Result<HttpResponse, AdminError> {
    Ok(all_clients(state, &caller, wants_csv(&req)).await?.into_response())
}

/// Everything, as JSON or (with `Accept: text/csv`) CSV with a header row.
#[utoipa::path(get, path = "/admin/v1/export/secrets", tag = "export",
    responses((status = 200, description = "JSON array, or CSV", body = Vec<Secret>)),
    security(("bearer" = ["gatepass:clients:read"])))]
async fn export_secrets(
    req: HttpRequest,
    state: web::Data<AdminState>,
    caller: Caller<ClientsRead>,
) -> Result<HttpResponse, AdminError> {
    Ok(all_secrets(state, &caller, wants_csv(&req)).await?.into_response())
}

/// Everything, as JSON or (with `Accept: text/csv`) CSV with a header row.
#[utoipa::path(get, path = "/admin/v1/export/audit-events", tag = "export",
    responses((status = 200, description = "JSON array, or CSV", body = Vec<AuditEvent>)),
    security(("bearer" = ["gatepass:audit:read"])))]
async fn export_audit(
    req: HttpRequest,
    state: web::Data<AdminState>,
    caller: Caller<AuditRead>,
) -> Result<HttpResponse, AdminError> {
    Ok(all_audit_events(state, &caller, wants_csv(&req)).await?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn a_csv_page_keeps_its_columns_and_neutralises_every_cell() {
        #[derive(Serialize)]
        struct Row {
            name: &'static str,
            note: &'static str,
        }
        let rows = [
            Row {
                name: "=cmd|' /C calc'!A0",
                note: "ok, quoted",
            },
            Row { name: "b", note: "-2" },
        ];
        let text = String::from_utf8(csv_page(&rows, true).unwrap()).unwrap();
        assert_eq!(text, "name,note\n'=cmd|' /C calc'!A0,\"ok, quoted\"\nb,'-2\n");
        let text = String::from_utf8(csv_page(&rows[1..], false).unwrap()).unwrap();
        assert_eq!(text, "b,'-2\n", "no header after the first page");
    }
}

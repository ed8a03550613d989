//! `/admin/v1/audit-events`: the append-only log, filtered and paginated, newest first.

use actix_web::{HttpResponse, web};
use gatepass_store::audit::{self, AuditFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AdminState;
use crate::access::{AuditRead, Caller};
use crate::fields;
use crate::problem::AdminError;
use crate::views::{AuditEvent, Page};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/audit-events").route(web::get().to(list)));
}

/// Filters (all narrow) and pagination; times are `yyyy-MM-ddTHH:mm:ssZ`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the names say it
pub struct AuditQuery {
    pub since: Option<String>,
    pub until: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/admin/v1/audit-events", operation_id = "list_audit_events", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of events", body = Page<AuditEvent>), (status = 422, description = "A field failed validation; `field` names it")),
    security(("bearer" = ["gatepass:audit:read"])))]
async fn list(
    state: web::Data<AdminState>,
    caller: Caller<AuditRead>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(search(&state, &caller, query.into_inner()).await?))
}

/// The audit log, newest first, filtered and paginated.
pub async fn search(
    state: &AdminState,
    _: &Caller<AuditRead>,
    query: AuditQuery,
) -> Result<Page<AuditEvent>, AdminError> {
    let limit = fields::limit(query.limit, fields::AUDIT_PAGE)?;
    let filter = AuditFilter {
        since: query.since.as_deref().map(|v| fields::moment("since", v)).transpose()?,
        until: query.until.as_deref().map(|v| fields::moment("until", v)).transpose()?,
        actor: query.actor,
        action: query.action,
        target: query.target,
        before_id: query.cursor,
    };
    let mut rows = state
        .db
        .run(move |conn| audit::search(conn, &filter, limit + 1))
        .await?;
    let full = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = (rows.len() > full).then(|| {
        rows.truncate(full);
        rows.last().map(|r| r.id.clone()).unwrap_or_default()
    });
    Ok(Page {
        items: rows.iter().map(AuditEvent::of).collect(),
        next_cursor,
    })
}

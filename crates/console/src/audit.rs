//! The audit log, filtered, and its CSV export.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use maud::html;
use serde::Deserialize;

use super::pages::{Flash, Nav, items, page, table};
use super::{Answer, Console, SignedIn, query};
use gatepass_admin::access::AuditRead;
use gatepass_admin::audit::{self as events, AuditQuery};
use gatepass_admin::export;

#[derive(Deserialize, Default)]
pub(super) struct AuditFilter {
    since: Option<String>,
    until: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
}

impl AuditFilter {
    /// The filters that are set, as query pairs.
    fn pairs(&self) -> Vec<(&'static str, Option<&str>)> {
        [
            ("since", &self.since),
            ("until", &self.until),
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.as_deref().filter(|v| !v.is_empty())))
        .collect()
    }
}

pub(super) async fn audit(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
    filter: web::Query<AuditFilter>,
) -> HttpResponse {
    let set = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let search = AuditQuery {
        since: set(&filter.since),
        until: set(&filter.until),
        actor: set(&filter.actor),
        action: set(&filter.action),
        target: set(&filter.target),
        limit: Some(200),
        cursor: None,
    };
    let answer = Answer::of(
        console
            .run::<AuditRead, _>(&req, &session, async |state, caller| {
                events::search(state, caller, search).await
            })
            .await,
    );
    let flash = if answer.status.is_success() {
        Flash::None
    } else {
        Flash::Error(answer.detail())
    };
    let doc = answer.json();
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let body = html! {
        form.filters method="get" action="/console/audit" {
            label for="actor" { "Actor" } input #actor name="actor" value=(value(&filter.actor));
            label for="action" { "Action" } input #action name="action" value=(value(&filter.action)) placeholder="secret.revoked";
            label for="target" { "Target" } input #target name="target" value=(value(&filter.target));
            label for="since" { "Since" } input #since name="since" value=(value(&filter.since)) placeholder="2026-11-01T00:00:00Z";
            label for="until" { "Until" } input #until name="until" value=(value(&filter.until));
            button type="submit" { "Filter" }
        }
        p { a href={ "/console/audit.csv" (query(&filter.pairs())) } download="audit-events.csv" { "Export CSV" } }
        (table("Audit events, newest first", items(&doc), &[("Time", "occurred_at"), ("Action", "action"), ("Actor", "actor"), ("Target", "target"), ("Outcome", "outcome"), ("Reason", "reason"), ("Source", "source_addr"), ("Request id", "request_id")], None))
    };
    super::html(StatusCode::OK, &page(&session, Nav::Audit, "Audit log", &flash, &body))
}

/// Every audit event as CSV (the export ignores the page's filters: it is the whole log).
pub(super) async fn audit_csv(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
) -> HttpResponse {
    let exported = console
        .run::<AuditRead, _>(&req, &session, async |state, caller| {
            export::all_audit_events(state.clone(), caller, true).await
        })
        .await;
    match exported {
        Ok(export) => export.into_response(),
        Err(error) => error.error_response(),
    }
}

//! Four-eyes requests: see, approve, reject.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::pages::{Flash, Nav, button_form, items, page, text};
use super::session::Session;
use super::{Action, Answer, Console, SignedIn, flash_of, segment};
use gatepass_admin::access::{Admin, DirectoryRead};
use gatepass_admin::four_eyes::{self, ApprovalQuery};

pub(super) async fn approvals(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
) -> HttpResponse {
    approvals_page(&req, &console, &session, Flash::None).await
}

async fn approvals_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let query = ApprovalQuery {
        status: Some("pending".into()),
    };
    let pending = Answer::of(
        console
            .run::<DirectoryRead, _>(req, session, async |state, caller| {
                four_eyes::list(state, caller, query).await
            })
            .await,
    )
    .json();
    let body = html! {
        p { "With the four-eyes policy on, creating a service account or granting a gatepass:* scope waits here until a different administrator approves it." }
        div.scroll {
            table {
                caption { "Pending requests" }
                thead { tr { th scope="col" { "Action" } th scope="col" { "Requested by" } th scope="col" { "Requested at" } th scope="col" { "Request" } th scope="col" { "Decide" } } }
                tbody {
                    @if items(&pending).is_empty() { tr { td colspan="5" { "Nothing is waiting." } } }
                    @for request in items(&pending) {
                        @let base = format!("/console/approvals/{}", segment(request["id"].as_str().unwrap_or_default()));
                        tr {
                            td { (text(&request["action"])) }
                            td {
                                code { (text(&request["requested_by"])) }
                                @if let Some(lapse) = request["requester_lapsed"].as_str() {
                                    br; strong { "No longer stands (" (lapse.replace('_', " ")) "): it can only be rejected." }
                                }
                            }
                            td { (text(&request["requested_at"])) }
                            td { code { (request["request"].to_string()) } }
                            td.actions {
                                (button_form(session, &format!("{base}/approve"), "Approve", Some("Approve and carry out this change?"), &html! {}))
                                (button_form(session, &format!("{base}/reject"), "Reject", None, &html! {}))
                            }
                        }
                    }
                }
            }
        }
    };
    super::html(
        StatusCode::OK,
        &page(session, Nav::Approvals, "Approvals", &flash, &body),
    )
}

pub(super) async fn decide(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<(String, String)>,
    Action { session, .. }: Action,
) -> HttpResponse {
    let (id, decision) = path.into_inner();
    if decision != "approve" && decision != "reject" {
        return HttpResponse::NotFound().finish();
    }
    let answer = if decision == "approve" {
        Answer::of(
            console
                .run::<Admin, _>(&req, &session, async |state, caller| {
                    four_eyes::approve(state, caller, id).await
                })
                .await,
        )
    } else {
        Answer::of(
            console
                .run::<Admin, _>(&req, &session, async |state, caller| {
                    four_eyes::reject(state, caller, id).await
                })
                .await,
        )
    };
    approvals_page(
        &req,
        &console,
        &session,
        flash_of(&answer, &format!("Request {decision}d.")),
    )
    .await
}

//! Service accounts and roles.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_admin::access::{DirectoryRead, ServiceAccountsWrite};
use gatepass_admin::requests::{ChangeServiceAccount, CreateRole, CreateServiceAccount};
use gatepass_admin::roles;
use gatepass_admin::service_accounts;
use maud::html;

use super::pages::{Flash, Nav, button_form, csrf, items, page, table, text};
use super::session::Session;
use super::{Action, Answer, Console, SignedIn, field, flash_of, segment, words};

/// The roles, for the pages that show or pick them.
async fn all_roles(req: &HttpRequest, console: &Console, session: &Session) -> serde_json::Value {
    Answer::of(
        console
            .run::<DirectoryRead, _>(req, session, async |state, caller| roles::list(state, caller).await)
            .await,
    )
    .json()
}

pub(super) async fn service_accounts(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
) -> HttpResponse {
    service_accounts_page(&req, &console, &session, Flash::None).await
}

async fn service_accounts_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let accounts = Answer::of(
        console
            .run::<DirectoryRead, _>(req, session, async |state, caller| {
                service_accounts::list(state, caller).await
            })
            .await,
    )
    .json();
    let roles = all_roles(req, console, session).await;
    let body = html! {
        div.scroll {
            table {
                caption { "Service accounts" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Description" } th scope="col" { "Roles" } th scope="col" { "Status" } th scope="col" { "Created" } th scope="col" { "Actions" } } }
                tbody {
                    @for account in items(&accounts) {
                        @let action = format!("/console/service-accounts/{}/status", segment(account["id"].as_str().unwrap_or_default()));
                        tr {
                            td { (text(&account["name"])) }
                            td { (text(&account["description"])) }
                            td { (text(&account["roles"])) }
                            td { (text(&account["status"])) }
                            td { (text(&account["created_at"])) }
                            td {
                                @if account["status"] == "disabled" {
                                    (button_form(session, &action, "Enable", None, &html! { input type="hidden" name="status" value="active"; }))
                                } @else {
                                    (button_form(session, &action, "Disable", Some("Disable this service account? All its keys stop working at once."), &html! { input type="hidden" name="status" value="disabled"; }))
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="create-sa" {
            h2 #create-sa { "Create a service account" }
            form.stack method="post" action="/console/service-accounts" {
                (csrf(session))
                label for="sa-name" { "Name (a-z, 0-9, . _ -)" }
                input #sa-name name="name" required;
                label for="sa-description" { "Description" }
                input #sa-description name="description";
                fieldset {
                    legend { "Roles" }
                    @for role in items(&roles) {
                        @let name = role["name"].as_str().unwrap_or_default();
                        div.check {
                            input type="checkbox" id={ "role-" (name) } name={ "role:" (name) } value="on";
                            label for={ "role-" (name) } { (name) " (" (text(&role["scopes"])) ")" }
                        }
                    }
                }
                button type="submit" { "Create service account" }
            }
        }
    };
    super::html(
        StatusCode::OK,
        &page(session, Nav::ServiceAccounts, "Service accounts", &flash, &body),
    )
}

pub(super) async fn create_service_account(
    req: HttpRequest,
    console: web::Data<Console>,
    Action { session, form }: Action,
) -> HttpResponse {
    let input = CreateServiceAccount {
        name: field(&form, "name").to_owned(),
        description: field(&form, "description").to_owned(),
        roles: form
            .keys()
            .filter_map(|k| k.strip_prefix("role:"))
            .map(str::to_owned)
            .collect(),
    };
    let answer = Answer::created(
        console
            .run::<ServiceAccountsWrite, _>(&req, &session, async |state, caller| {
                service_accounts::create(state, caller, input).await
            })
            .await,
    );
    let flash = if answer.status == StatusCode::ACCEPTED {
        Flash::Notice("A second administrator must approve this service account (four-eyes): see Approvals.".into())
    } else {
        flash_of(&answer, "Created the service account.")
    };
    service_accounts_page(&req, &console, &session, flash).await
}

pub(super) async fn service_account_status(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<String>,
    Action { session, form }: Action,
) -> HttpResponse {
    let status = field(&form, "status");
    let change = ChangeServiceAccount {
        status: Some(status.to_owned()),
        ..ChangeServiceAccount::default()
    };
    let id = path.into_inner();
    let answer = Answer::changed(
        console
            .run::<ServiceAccountsWrite, _>(&req, &session, async |state, caller| {
                service_accounts::change(state, caller, id, change).await
            })
            .await,
    );
    service_accounts_page(
        &req,
        &console,
        &session,
        flash_of(&answer, &format!("The service account is now {status}.")),
    )
    .await
}

pub(super) async fn roles(req: HttpRequest, console: web::Data<Console>, SignedIn(session): SignedIn) -> HttpResponse {
    roles_page(&req, &console, &session, Flash::None).await
}

async fn roles_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let roles = all_roles(req, console, session).await;
    let body = html! {
        (table("Roles", items(&roles), &[("Name", "name"), ("Scopes", "scopes"), ("Description", "description")], None))
        section aria-labelledby="create-role" {
            h2 #create-role { "Create a role" }
            form.stack method="post" action="/console/roles" {
                (csrf(session))
                label for="role-name" { "Name (a-z, 0-9, . _ -)" }
                input #role-name name="name" required;
                label for="role-scopes" { "Scopes (space-separated)" }
                input #role-scopes name="scopes" placeholder="sites:read scripts:write";
                label for="role-description" { "Description" }
                input #role-description name="description";
                button type="submit" { "Create role" }
            }
        }
    };
    super::html(StatusCode::OK, &page(session, Nav::Roles, "Roles", &flash, &body))
}

pub(super) async fn create_role(
    req: HttpRequest,
    console: web::Data<Console>,
    Action { session, form }: Action,
) -> HttpResponse {
    let input = CreateRole {
        name: field(&form, "name").to_owned(),
        description: field(&form, "description").to_owned(),
        scopes: words(field(&form, "scopes")),
    };
    let answer = Answer::created(
        console
            .run::<ServiceAccountsWrite, _>(&req, &session, async |state, caller| {
                roles::create(state, caller, input).await
            })
            .await,
    );
    let flash = if answer.status == StatusCode::ACCEPTED {
        Flash::Notice("A second administrator must approve this role (four-eyes): see Approvals.".into())
    } else {
        flash_of(&answer, "Created the role.")
    };
    roles_page(&req, &console, &session, flash).await
}

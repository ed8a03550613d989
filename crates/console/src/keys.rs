//! API keys: list, create (the secret shown once), one key with its secrets, rotate, revoke, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_admin::access::{ClientsRead, ClientsWrite};
use gatepass_admin::clients::{self, ListQuery};
use gatepass_admin::problem::{AdminError, invalid};
use gatepass_admin::requests::{ChangeClient, CreateClient, CreateSecret};
use gatepass_admin::secrets;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::pages::{Flash, Nav, button_form, csrf, items, page, secret_once, table, text};
use super::session::Session;
use super::{Action, Answer, Console, SignedIn, field, flash_of, label_map, query, segment, words};

#[derive(Deserialize, Default)]
pub(super) struct KeyFilter {
    label: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

pub(super) async fn keys(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
    filter: web::Query<KeyFilter>,
) -> HttpResponse {
    keys_page(&req, &console, &session, &filter, Flash::None, None).await
}

async fn keys_page(
    req: &HttpRequest,
    console: &Console,
    session: &Session,
    filter: &KeyFilter,
    flash: Flash,
    created: Option<Markup>,
) -> HttpResponse {
    let label = filter.label.clone().filter(|l| !l.is_empty());
    let status = filter.status.clone().filter(|s| !s.is_empty());
    let listing = ListQuery {
        label: label.clone(),
        status: status.clone(),
        limit: Some(50),
        cursor: filter.cursor.clone(),
    };
    let answer = Answer::of(
        console
            .run::<ClientsRead, _>(req, session, async |state, caller| {
                clients::list_with_key_prefixes(state, caller, listing).await
            })
            .await,
    );
    let flash = match flash {
        Flash::None if !answer.status.is_success() => Flash::Error(answer.detail()),
        other => other,
    };
    // The page, each key with its usable secrets' prefixes, so people can tell keys apart.
    let (mut doc, prefixes) = match answer.json() {
        Value::Array(mut pair) if pair.len() == 2 => {
            let prefixes = pair.pop().unwrap_or_default();
            (pair.pop().unwrap_or_default(), prefixes)
        }
        _ => (Value::Null, Value::Null),
    };
    if let (Some(list), Some(prefixes)) = (doc["items"].as_array_mut(), prefixes.as_array()) {
        for (item, prefixes) in list.iter_mut().zip(prefixes) {
            item["key_prefixes"] = prefixes.clone();
        }
    }
    let link = |item: &Value| {
        format!(
            "/console/keys/{}",
            segment(item["client_id"].as_str().unwrap_or_default())
        )
    };
    let body = html! {
        @if let Some(created) = created { (created) }
        section aria-labelledby="filter-title" {
            h2 #filter-title { "Filter" }
            form.filters method="get" action="/console/keys" {
                label for="label" { "Label (key:value)" }
                input #label name="label" value=[label.as_deref()] placeholder="team:billing";
                label for="status" { "Status" }
                select #status name="status" {
                    @for option in ["", "active", "disabled", "expired"] {
                        option value=(option) selected[status.as_deref().unwrap_or("") == option] { @if option.is_empty() { "any" } @else { (option) } }
                    }
                }
                button type="submit" { "Filter" }
            }
        }
        (table("API keys", items(&doc), &[("Name", "name"), ("Client id", "client_id"), ("Key prefixes", "key_prefixes"), ("Labels", "labels"), ("Status", "status"), ("Scopes", "scopes"), ("Created", "created_at"), ("Expires", "expires_at"), ("Last used", "last_used_at")], Some(&link)))
        @if let Some(next) = doc["next_cursor"].as_str() {
            p { a href={ "/console/keys" (query(&[("label", label.as_deref()), ("status", status.as_deref()), ("cursor", Some(next))])) } { "Next page" } }
        }
        section aria-labelledby="create-title" {
            h2 #create-title { "Create an API key" }
            form.stack method="post" action="/console/keys" {
                (csrf(session))
                label for="name" { "Name (empty: a default name)" }
                input #name name="name";
                label for="scopes" { "Scopes (space-separated)" }
                input #scopes name="scopes" placeholder="sites:read scripts:write";
                label for="audiences" { "Audiences (space-separated)" }
                input #audiences name="audiences" placeholder="https://api.example.com";
                label for="labels" { "Labels (key=value, comma-separated)" }
                input #labels name="labels" placeholder="team=billing, env=prod";
                label for="ttl" { "Token lifetime in seconds (empty: the default)" }
                input #ttl name="token_ttl_seconds" inputmode="numeric";
                label for="expires" { "Expires at (yyyy-MM-ddTHH:mm:ssZ, empty: never)" }
                input #expires name="expires_at" placeholder="2027-01-01T00:00:00Z";
                button type="submit" { "Create key" }
            }
        }
    };
    super::html(StatusCode::OK, &page(session, Nav::Keys, "API keys", &flash, &body))
}

pub(super) async fn create_key(
    req: HttpRequest,
    console: web::Data<Console>,
    Action { session, form }: Action,
) -> HttpResponse {
    let no_filter = KeyFilter::default();
    let labels = match label_map(field(&form, "labels")) {
        Ok(labels) => labels,
        Err(message) => return keys_page(&req, &console, &session, &no_filter, Flash::Error(message), None).await,
    };
    let token_ttl_seconds = match whole_seconds("token_ttl_seconds", field(&form, "token_ttl_seconds")) {
        Ok(ttl) => ttl,
        Err(error) => {
            return keys_page(&req, &console, &session, &no_filter, Flash::Error(error.detail()), None).await;
        }
    };
    let optional = |name: &str| Some(field(&form, name).to_owned()).filter(|v| !v.is_empty());
    let input = CreateClient {
        name: optional("name"),
        service_account_id: None,
        scopes: words(field(&form, "scopes")),
        audiences: words(field(&form, "audiences")),
        labels,
        token_ttl_seconds,
        expires_at: optional("expires_at"),
    };
    let answer = Answer::created(
        console
            .run::<ClientsWrite, _>(&req, &session, async |state, caller| {
                clients::create(state, caller, input).await
            })
            .await,
    );
    let doc = answer.json();
    match answer.status {
        StatusCode::CREATED => {
            let client_id = doc["client"]["client_id"].as_str().unwrap_or_default();
            let once = secret_once(
                client_id,
                doc["client_secret"].as_str().unwrap_or_default(),
                "Your new API key",
            );
            let flash = Flash::Notice(format!("Created {}.", text(&doc["client"]["name"])));
            keys_page(&req, &console, &session, &no_filter, flash, Some(once)).await
        }
        StatusCode::ACCEPTED => {
            let flash =
                Flash::Notice("A second administrator must approve this key (four-eyes): see Approvals.".into());
            keys_page(&req, &console, &session, &no_filter, flash, None).await
        }
        _ => {
            keys_page(
                &req,
                &console,
                &session,
                &no_filter,
                Flash::Error(answer.detail()),
                None,
            )
            .await
        }
    }
}

/// A form's field of whole seconds: nothing, or a number.
fn whole_seconds(name: &'static str, value: &str) -> Result<Option<i64>, AdminError> {
    if value.is_empty() {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| invalid(name, "must be a whole number of seconds"))
}

pub(super) async fn key(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
    path: web::Path<String>,
) -> HttpResponse {
    key_page(&req, &console, &session, &path, Flash::None, None).await
}

async fn key_page(
    req: &HttpRequest,
    console: &Console,
    session: &Session,
    id: &str,
    flash: Flash,
    created: Option<Markup>,
) -> HttpResponse {
    let found = console
        .run::<ClientsRead, _>(req, session, async |state, caller| {
            let client = clients::read(state, caller, id.to_owned()).await?;
            let secrets = secrets::list(state, caller, id.to_owned()).await?;
            Ok((client, secrets))
        })
        .await;
    if matches!(found, Err(AdminError::NotFound(_))) {
        let body = html! { p { "No such key. " a href="/console/keys" { "Back to API keys" } } };
        return super::html(
            StatusCode::NOT_FOUND,
            &page(session, Nav::Keys, "API key not found", &flash, &body),
        );
    }
    let (flash, (client, secret_list)) = match Answer::of(found) {
        answer if answer.status.is_success() => match answer.json() {
            Value::Array(mut pair) if pair.len() == 2 => {
                let secrets = pair.pop().unwrap_or_default();
                (flash, (pair.pop().unwrap_or_default(), secrets))
            }
            _ => (flash, (Value::Null, Value::Null)),
        },
        answer => (Flash::Error(answer.detail()), (Value::Null, Value::Null)),
    };
    let base = format!("/console/keys/{}", segment(id));
    let disabled = client["status"] == "disabled";
    let body = html! {
        @if let Some(created) = created { (created) }
        dl.facts {
            dt { "Client id" } dd { code { (text(&client["client_id"])) } }
            dt { "Status" } dd { (text(&client["status"])) }
            dt { "Scopes" } dd { (text(&client["scopes"])) }
            dt { "Audiences" } dd { (text(&client["audiences"])) }
            dt { "Labels" } dd { (text(&client["labels"])) }
            dt { "Token lifetime" } dd { (text(&client["token_ttl_seconds"])) }
            dt { "Created" } dd { (text(&client["created_at"])) }
            dt { "Expires" } dd { (text(&client["expires_at"])) }
            dt { "Last used" } dd { (text(&client["last_used_at"])) }
        }
        div.actions {
            @if disabled {
                (button_form(session, &format!("{base}/status"), "Enable", None, &html! { input type="hidden" name="status" value="active"; }))
            } @else {
                (button_form(session, &format!("{base}/status"), "Disable", Some("Disable this key? Its secrets stop working at once."), &html! { input type="hidden" name="status" value="disabled"; }))
            }
            @if used_recently(&client, console.now()) {
                (button_form(session, &format!("{base}/delete"), "Delete key", Some("This key was used in the last 24 hours: deleting it breaks whoever still uses it. Delete it and all its secrets for good?"), &html! { span.warning { "used in the last 24 h" } }))
            } @else {
                (button_form(session, &format!("{base}/delete"), "Delete key", Some("Delete this key and all its secrets for good?"), &html! {}))
            }
        }
        (secrets_table(session, &base, &secret_list, console.now()))
        section aria-labelledby="rotate-title" {
            h2 #rotate-title { "Rotate: add a secret" }
            p { "Both the old and the new secret work during the grace period; after it the older secrets expire. Without a grace period the old secrets stay until you revoke them." }
            form.stack method="post" action={ (base) "/secrets" } {
                (csrf(session))
                label for="secret-label" { "Label (optional)" }
                input #secret-label name="label" placeholder="2026-q4";
                label for="grace" { "Grace period in seconds (optional, up to 7776000)" }
                input #grace name="grace_period_seconds" inputmode="numeric" placeholder="86400";
                button type="submit" { "Rotate" }
            }
        }
        p { a href="/console/keys" { "Back to API keys" } }
    };
    let title = format!("API key {}", text(&client["name"]));
    super::html(StatusCode::OK, &page(session, Nav::Keys, &title, &flash, &body))
}

/// Whether a client or secret view was used in the 24 hours before `now`.
fn used_recently(item: &Value, now: i64) -> bool {
    item["last_used_at"]
        .as_str()
        .and_then(|at| gatepass_core::parse_utc(at).ok())
        .is_some_and(|at| now - at.unix_timestamp() < 24 * 3600)
}

/// A key's secrets with revoke and delete buttons.
fn secrets_table(session: &Session, base: &str, secret_list: &Value, now: i64) -> Markup {
    html! {
        div.scroll {
            table {
                caption { "Secrets" }
                thead { tr { th scope="col" { "Key prefix" } th scope="col" { "Label" } th scope="col" { "Status" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "Uses" } th scope="col" { "Actions" } } }
                tbody {
                    @for secret in items(secret_list) {
                        @let secret_path = format!("{base}/secrets/{}", segment(secret["id"].as_str().unwrap_or_default()));
                        @let recent = used_recently(secret, now);
                        tr {
                            td { code { (text(&secret["key_prefix"])) } }
                            td { (text(&secret["label"])) }
                            td { (text(&secret["status"])) @if secret["due_for_rotation"] == true { " (due for rotation)" } }
                            td { (text(&secret["created_at"])) }
                            td { (text(&secret["expires_at"])) }
                            td { (text(&secret["last_used_at"])) }
                            td { (text(&secret["use_count"])) }
                            td.actions {
                                @if secret["status"] == "active" {
                                    (button_form(session, &format!("{secret_path}/revoke"), "Revoke", Some("Revoke this secret? Callers using it are refused at once."), &html! {}))
                                }
                                @if recent {
                                    (button_form(session, &format!("{secret_path}/delete"), "Delete", Some("This secret was used in the last 24 hours: deleting it breaks whoever still uses it. Delete anyway?"), &html! {
                                        input type="hidden" name="force" value="true";
                                        span.warning { "used in the last 24 h" }
                                    }))
                                } @else {
                                    (button_form(session, &format!("{secret_path}/delete"), "Delete", Some("Delete this secret for good?"), &html! {}))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn key_status(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<String>,
    Action { session, form }: Action,
) -> HttpResponse {
    let status = field(&form, "status");
    let change = ChangeClient {
        status: Some(status.to_owned()),
        ..ChangeClient::default()
    };
    let id = path.to_string();
    let answer = Answer::changed(
        console
            .run::<ClientsWrite, _>(&req, &session, async |state, caller| {
                clients::change(state, caller, id, change).await
            })
            .await,
    );
    key_page(
        &req,
        &console,
        &session,
        &path,
        flash_of(&answer, &format!("The key is now {status}.")),
        None,
    )
    .await
}

pub(super) async fn delete_key(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<String>,
    Action { session, .. }: Action,
) -> HttpResponse {
    let id = path.to_string();
    let answer = Answer::of(
        console
            .run::<ClientsWrite, _>(&req, &session, async |state, caller| {
                clients::delete(state, caller, id).await
            })
            .await,
    );
    let no_filter = KeyFilter::default();
    keys_page(
        &req,
        &console,
        &session,
        &no_filter,
        flash_of(&answer, "Deleted the key and its secrets."),
        None,
    )
    .await
}

pub(super) async fn rotate(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<String>,
    Action { session, form }: Action,
) -> HttpResponse {
    let grace_period_seconds = match whole_seconds("grace_period_seconds", field(&form, "grace_period_seconds")) {
        Ok(grace) => grace,
        Err(error) => return key_page(&req, &console, &session, &path, Flash::Error(error.detail()), None).await,
    };
    let input = CreateSecret {
        label: Some(field(&form, "label").to_owned()).filter(|l| !l.is_empty()),
        expires_at: None,
        grace_period_seconds,
    };
    let id = path.to_string();
    let answer = Answer::created(
        console
            .run::<ClientsWrite, _>(&req, &session, async |state, caller| {
                secrets::create(state, caller, id, input).await
            })
            .await,
    );
    if answer.status == StatusCode::CREATED {
        let doc = answer.json();
        let once = secret_once(
            &path,
            doc["client_secret"].as_str().unwrap_or_default(),
            "Your new secret",
        );
        key_page(
            &req,
            &console,
            &session,
            &path,
            Flash::Notice("Rotated: a new secret was added.".into()),
            Some(once),
        )
        .await
    } else {
        key_page(&req, &console, &session, &path, Flash::Error(answer.detail()), None).await
    }
}

pub(super) async fn revoke_secret(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<(String, String)>,
    Action { session, .. }: Action,
) -> HttpResponse {
    let (id, secret) = path.into_inner();
    let client_id = id.clone();
    let answer = Answer::of(
        console
            .run::<ClientsWrite, _>(&req, &session, async |state, caller| {
                secrets::revoke(state, caller, client_id, secret).await
            })
            .await,
    );
    key_page(
        &req,
        &console,
        &session,
        &id,
        flash_of(&answer, "Revoked: every node refuses the secret within a second."),
        None,
    )
    .await
}

pub(super) async fn delete_secret(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<(String, String)>,
    Action { session, form }: Action,
) -> HttpResponse {
    let (id, secret) = path.into_inner();
    let force = field(&form, "force") == "true";
    let client_id = id.clone();
    let answer = Answer::of(
        console
            .run::<ClientsWrite, _>(&req, &session, async |state, caller| {
                secrets::delete(state, caller, client_id, secret, force).await
            })
            .await,
    );
    key_page(
        &req,
        &console,
        &session,
        &id,
        flash_of(&answer, "Deleted the secret for good."),
        None,
    )
    .await
}

//! API keys: list, create (the secret shown once), one key with its secrets, rotate, revoke, delete.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pages::{Flash, Nav, button_form, csrf, items, page, secret_once, table, text};
use super::session::Session;
use super::{Action, Console, SignedIn, field, flash_of, label_map, segment, words};
use crate::in_process::{Call, query};

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
    let listing = query(&[
        ("limit", Some("50")),
        ("label", label.as_deref()),
        ("status", status.as_deref()),
        ("cursor", filter.cursor.as_deref()),
    ]);
    let answer = console
        .admin(req, session, Call::get(format!("/admin/v1/clients{listing}")))
        .await;
    let flash = match flash {
        Flash::None if !answer.status.is_success() => Flash::Error(answer.detail()),
        other => other,
    };
    let mut doc = answer.json();
    // Each key's usable secrets' prefixes, so people can tell keys apart.
    if let Some(list) = doc["items"].as_array_mut() {
        for item in list {
            let id = segment(item["client_id"].as_str().unwrap_or_default());
            let call = Call::get(format!("/admin/v1/clients/{id}/secrets"));
            let secrets = console.admin(req, session, call).await.json();
            let prefixes = items(&secrets)
                .iter()
                .filter(|s| s["status"] == "active")
                .map(|s| s["key_prefix"].clone())
                .collect();
            item["key_prefixes"] = Value::Array(prefixes);
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
    let mut body = json!({
        "scopes": words(field(&form, "scopes")),
        "audiences": words(field(&form, "audiences")),
        "labels": labels,
    });
    if !field(&form, "name").is_empty() {
        body["name"] = field(&form, "name").into();
    }
    if !field(&form, "token_ttl_seconds").is_empty() {
        body["token_ttl_seconds"] = field(&form, "token_ttl_seconds")
            .parse::<i64>()
            .map_or(Value::String(field(&form, "token_ttl_seconds").to_owned()), Value::from);
    }
    if !field(&form, "expires_at").is_empty() {
        body["expires_at"] = field(&form, "expires_at").into();
    }
    let answer = console
        .admin(&req, &session, Call::new(Method::POST, "/admin/v1/clients").json(body))
        .await;
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
    let client = console
        .admin(req, session, Call::get(format!("/admin/v1/clients/{}", segment(id))))
        .await;
    if client.status == StatusCode::NOT_FOUND {
        let body = html! { p { "No such key. " a href="/console/keys" { "Back to API keys" } } };
        return super::html(
            StatusCode::NOT_FOUND,
            &page(session, Nav::Keys, "API key not found", &flash, &body),
        );
    }
    let secrets = console
        .admin(
            req,
            session,
            Call::get(format!("/admin/v1/clients/{}/secrets", segment(id))),
        )
        .await;
    let (client, secret_list) = (client.json(), secrets.json());
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
            @if used_recently(&client) {
                (button_form(session, &format!("{base}/delete"), "Delete key", Some("This key was used in the last 24 hours: deleting it breaks whoever still uses it. Delete it and all its secrets for good?"), &html! { span.warning { "used in the last 24 h" } }))
            } @else {
                (button_form(session, &format!("{base}/delete"), "Delete key", Some("Delete this key and all its secrets for good?"), &html! {}))
            }
        }
        (secrets_table(session, &base, &secret_list))
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

/// Whether a client or secret view was used in the last 24 hours.
fn used_recently(item: &Value) -> bool {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    item["last_used_at"]
        .as_str()
        .and_then(|at| gatepass_core::parse_utc(at).ok())
        .is_some_and(|at| now - at.unix_timestamp() < 24 * 3600)
}

/// A key's secrets with revoke and delete buttons.
fn secrets_table(session: &Session, base: &str, secret_list: &Value) -> Markup {
    html! {
        div.scroll {
            table {
                caption { "Secrets" }
                thead { tr { th scope="col" { "Key prefix" } th scope="col" { "Label" } th scope="col" { "Status" } th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "Uses" } th scope="col" { "Actions" } } }
                tbody {
                    @for secret in items(secret_list) {
                        @let secret_path = format!("{base}/secrets/{}", segment(secret["id"].as_str().unwrap_or_default()));
                        @let recent = used_recently(secret);
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
    let call =
        Call::new(Method::PATCH, format!("/admin/v1/clients/{}", segment(&path))).json(json!({"status": status}));
    let answer = console.admin(&req, &session, call).await;
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
    let answer = console
        .admin(
            &req,
            &session,
            Call::new(Method::DELETE, format!("/admin/v1/clients/{}", segment(&path))),
        )
        .await;
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
    let mut body = json!({});
    if !field(&form, "label").is_empty() {
        body["label"] = field(&form, "label").into();
    }
    let grace = field(&form, "grace_period_seconds");
    if !grace.is_empty() {
        body["grace_period_seconds"] = grace
            .parse::<i64>()
            .map_or(Value::String(grace.to_owned()), Value::from);
    }
    let answer = console
        .admin(
            &req,
            &session,
            Call::new(Method::POST, format!("/admin/v1/clients/{}/secrets", segment(&path))).json(body),
        )
        .await;
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
    let call = Call::new(
        Method::POST,
        format!("/admin/v1/clients/{}/secrets/{}/revoke", segment(&id), segment(&secret)),
    );
    let answer = console.admin(&req, &session, call).await;
    key_page(
        &req,
        &console,
        &session,
        &id,
        flash_of(&answer, "Revoked: the secret is refused from now on."),
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
    let force = if field(&form, "force") == "true" {
        "?force=true"
    } else {
        ""
    };
    let call = Call::new(
        Method::DELETE,
        format!("/admin/v1/clients/{}/secrets/{}{force}", segment(&id), segment(&secret)),
    );
    let answer = console.admin(&req, &session, call).await;
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

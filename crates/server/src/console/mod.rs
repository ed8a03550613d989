//! `/console`: the web console. Server-rendered pages on top of the admin API: every action is
//! a request to the admin API's own handlers (in process, with the signed-in admin's access
//! token), so the console can do exactly what that admin may do through the API, and every
//! change is audited under the admin's client id. A little JavaScript adds copy buttons and
//! confirmation dialogs; everything works without it.

mod pages;
mod session;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatepass_core::RequestId;
use maud::{Markup, html};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::in_process::{Answer, Call};
use crate::serve::{Parts, api};
use pages::{Flash, Nav, button_form, csrf, items, page, secret_once, table, text};
use session::{Session, Sessions};

/// What the console needs: the server's parts (to call its own API) and the sessions.
pub struct Console {
    parts: Parts,
    sessions: Sessions,
}

impl Console {
    /// The console of a server whose issuer is `issuer` (`https://` makes cookies `Secure`).
    pub fn new(parts: Parts, issuer: &str) -> Self {
        Self {
            parts,
            sessions: Sessions::new(issuer.starts_with("https://")),
        }
    }

    /// Runs a request against this server's own routes, as the request's caller.
    async fn call(&self, req: &HttpRequest, call: Call) -> Answer {
        let parts = self.parts.clone();
        let mut call = call.peer(req.peer_addr());
        if let Some(id) = req.extensions().get::<RequestId>() {
            call = call.header("x-request-id", id.to_string());
        }
        call.send(move |cfg| api(cfg, &parts, true, true)).await
    }

    /// Runs an admin API request with the session's token.
    async fn admin(&self, req: &HttpRequest, session: &Session, call: Call) -> Answer {
        self.call(req, call.header("authorization", format!("Bearer {}", session.token)))
            .await
    }
}

/// Mounts `/console`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .route("", web::get().to(|| async { see_other("/console/keys") }))
            .route("/", web::get().to(|| async { see_other("/console/keys") }))
            .route(
                "/assets/console.css",
                web::get().to(|| async { asset("text/css; charset=utf-8", include_str!("console.css")) }),
            )
            .route(
                "/assets/console.js",
                web::get().to(|| async { asset("text/javascript; charset=utf-8", include_str!("console.js")) }),
            )
            .route("/login", web::get().to(login_page))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
            .route("/keys", web::get().to(keys))
            .route("/keys", web::post().to(create_key))
            .route("/keys/{id}", web::get().to(key))
            .route("/keys/{id}/status", web::post().to(key_status))
            .route("/keys/{id}/delete", web::post().to(delete_key))
            .route("/keys/{id}/secrets", web::post().to(rotate))
            .route("/keys/{id}/secrets/{secret}/revoke", web::post().to(revoke_secret))
            .route("/keys/{id}/secrets/{secret}/delete", web::post().to(delete_secret))
            .route("/service-accounts", web::get().to(service_accounts))
            .route("/service-accounts", web::post().to(create_service_account))
            .route("/service-accounts/{id}/status", web::post().to(service_account_status))
            .route("/roles", web::get().to(roles))
            .route("/roles", web::post().to(create_role))
            .route("/audit", web::get().to(audit))
            .route("/audit.csv", web::get().to(audit_csv))
            .route("/signing-keys", web::get().to(signing_keys))
            .route("/signing-keys/rotate", web::post().to(rotate_signing_key))
            .route("/approvals", web::get().to(approvals))
            .route("/approvals/{id}/{decision}", web::post().to(decide)),
    );
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

fn html(status: StatusCode, markup: &Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header((
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
        .body(markup.clone().into_string())
}

fn segment(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// Why a console request goes no further.
#[derive(Debug, thiserror::Error)]
enum Denied {
    /// No live session: to the sign-in page.
    #[error("signed out")]
    SignedOut,
    /// A form without its session's CSRF token.
    #[error("missing CSRF token")]
    NoCsrf,
    /// The form could not be read.
    #[error("unreadable form")]
    BadForm,
}

impl actix_web::ResponseError for Denied {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignedOut => StatusCode::SEE_OTHER,
            Self::NoCsrf => StatusCode::FORBIDDEN,
            Self::BadForm => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignedOut => see_other("/console/login"),
            Self::NoCsrf => HttpResponse::Forbidden()
                .content_type("text/plain; charset=utf-8")
                .body("This form is missing its CSRF token: reload the page and try again."),
            Self::BadForm => HttpResponse::BadRequest()
                .content_type("text/plain; charset=utf-8")
                .body("The form could not be read."),
        }
    }
}

fn current_session(req: &HttpRequest) -> Result<Arc<Session>, Denied> {
    req.app_data::<web::Data<Console>>()
        .and_then(|console| console.sessions.current(req))
        .ok_or(Denied::SignedOut)
}

/// A request of a signed-in administrator (else: a redirect to the sign-in page).
struct SignedIn(Arc<Session>);

impl FromRequest for SignedIn {
    type Error = Denied;
    type Future = std::future::Ready<Result<Self, Denied>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(current_session(req).map(SignedIn))
    }
}

/// A form posted by a signed-in administrator with the session's CSRF token (else 403).
struct Action {
    session: Arc<Session>,
    form: BTreeMap<String, String>,
}

impl FromRequest for Action {
    type Error = Denied;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, Denied>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = Form::from_request(&req, payload);
        Box::pin(async move {
            let session = current_session(&req)?;
            let form = form.await.map_err(|_| Denied::BadForm)?.into_inner();
            if form.get("csrf").is_some_and(|token| session.csrf_matches(token)) {
                Ok(Action { session, form })
            } else {
                log::warn!(
                    "console form without a valid CSRF token refused client_id={}",
                    session.client_id
                );
                Err(Denied::NoCsrf)
            }
        })
    }
}

type Form = web::Form<BTreeMap<String, String>>;

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

/// `a b c` → `["a","b","c"]`.
fn words(value: &str) -> Vec<String> {
    value.split_whitespace().map(str::to_owned).collect()
}

/// `k=v, k2=v2` → `{"k":"v","k2":"v2"}`; a pair without `=` is an error naming it.
fn label_map(value: &str) -> Result<serde_json::Map<String, Value>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), Value::String(v.trim().to_owned())))
                .ok_or_else(|| format!("labels: {pair:?} is not key=value"))
        })
        .collect()
}

fn flash_of(answer: &Answer, done: &str) -> Flash {
    if answer.status.is_success() {
        Flash::Notice(done.to_owned())
    } else {
        Flash::Error(answer.detail())
    }
}

// --- sign-in ---------------------------------------------------------------------------

async fn login_page(req: HttpRequest, console: web::Data<Console>) -> HttpResponse {
    if console.sessions.current(&req).is_some() {
        return see_other("/console/keys");
    }
    html(StatusCode::OK, &pages::login(&Flash::None))
}

async fn login(req: HttpRequest, console: web::Data<Console>, form: Form) -> HttpResponse {
    let (client_id, secret) = (field(&form, "client_id"), field(&form, "client_secret"));
    let basic = STANDARD.encode(format!("{client_id}:{secret}"));
    let call = Call::new(Method::POST, "/oauth2/token")
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")]);
    let answer = console.call(&req, call).await;
    let refused = |message: &str, status| html(status, &pages::login(&Flash::Error(message.to_owned())));
    if answer.status == StatusCode::TOO_MANY_REQUESTS {
        return refused(
            "Too many failed sign-ins; wait a minute and try again.",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    if !answer.status.is_success() {
        return refused(
            "Sign-in failed: check the client id and secret.",
            StatusCode::UNAUTHORIZED,
        );
    }
    let doc = answer.json();
    let scopes = words(doc["scope"].as_str().unwrap_or_default());
    if !scopes.iter().any(|s| s.starts_with("gatepass:")) {
        return refused(
            "This client holds no gatepass:* scope, so it cannot administer anything.",
            StatusCode::FORBIDDEN,
        );
    }
    let (Some(token), Some(lifetime)) = (doc["access_token"].as_str(), doc["expires_in"].as_u64()) else {
        return refused(
            "Sign-in failed: the token endpoint gave no token.",
            StatusCode::SERVICE_UNAVAILABLE,
        );
    };
    match console
        .sessions
        .start(client_id.to_owned(), token.to_owned(), Duration::from_secs(lifetime))
    {
        Some(cookie) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/console/keys"))
            .cookie(cookie)
            .finish(),
        None => refused("No randomness available; try again.", StatusCode::SERVICE_UNAVAILABLE),
    }
}

async fn logout(req: HttpRequest, console: web::Data<Console>, _: Action) -> HttpResponse {
    let cookie = console.sessions.end(&req);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/login"))
        .cookie(cookie)
        .finish()
}

// --- API keys --------------------------------------------------------------------------

#[derive(Deserialize)]
struct KeyFilter {
    label: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

async fn keys(
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
    let query = serde_urlencoded::to_string([
        ("label", label.as_deref()),
        ("status", status.as_deref()),
        ("cursor", filter.cursor.as_deref()),
    ])
    .unwrap_or_default();
    let answer = console
        .admin(req, session, Call::get(format!("/admin/v1/clients?limit=50&{query}")))
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
            p { a href={ "/console/keys?" (serde_urlencoded::to_string([("label", label.as_deref()), ("status", status.as_deref()), ("cursor", Some(next))]).unwrap_or_default()) } { "Next page" } }
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
    html(StatusCode::OK, &page(session, Nav::Keys, "API keys", &flash, &body))
}

async fn create_key(req: HttpRequest, console: web::Data<Console>, Action { session, form }: Action) -> HttpResponse {
    let no_filter = KeyFilter {
        label: None,
        status: None,
        cursor: None,
    };
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

async fn key(
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
        return html(
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
    html(StatusCode::OK, &page(session, Nav::Keys, &title, &flash, &body))
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

async fn key_status(
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

async fn delete_key(
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
    let no_filter = KeyFilter {
        label: None,
        status: None,
        cursor: None,
    };
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

async fn rotate(
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

async fn revoke_secret(
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

async fn delete_secret(
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

// --- service accounts and roles -----------------------------------------------------------

async fn service_accounts(req: HttpRequest, console: web::Data<Console>, SignedIn(session): SignedIn) -> HttpResponse {
    service_accounts_page(&req, &console, &session, Flash::None).await
}

async fn service_accounts_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let accounts = console
        .admin(req, session, Call::get("/admin/v1/service-accounts"))
        .await
        .json();
    let roles = console.admin(req, session, Call::get("/admin/v1/roles")).await.json();
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
    html(
        StatusCode::OK,
        &page(session, Nav::ServiceAccounts, "Service accounts", &flash, &body),
    )
}

async fn create_service_account(
    req: HttpRequest,
    console: web::Data<Console>,
    Action { session, form }: Action,
) -> HttpResponse {
    let roles: Vec<&str> = form.keys().filter_map(|k| k.strip_prefix("role:")).collect();
    let body = json!({"name": field(&form, "name"), "description": field(&form, "description"), "roles": roles});
    let answer = console
        .admin(
            &req,
            &session,
            Call::new(Method::POST, "/admin/v1/service-accounts").json(body),
        )
        .await;
    let flash = if answer.status == StatusCode::ACCEPTED {
        Flash::Notice("A second administrator must approve this service account (four-eyes): see Approvals.".into())
    } else {
        flash_of(&answer, "Created the service account.")
    };
    service_accounts_page(&req, &console, &session, flash).await
}

async fn service_account_status(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<String>,
    Action { session, form }: Action,
) -> HttpResponse {
    let status = field(&form, "status");
    let call = Call::new(Method::PATCH, format!("/admin/v1/service-accounts/{}", segment(&path)))
        .json(json!({"status": status}));
    let answer = console.admin(&req, &session, call).await;
    service_accounts_page(
        &req,
        &console,
        &session,
        flash_of(&answer, &format!("The service account is now {status}.")),
    )
    .await
}

async fn roles(req: HttpRequest, console: web::Data<Console>, SignedIn(session): SignedIn) -> HttpResponse {
    roles_page(&req, &console, &session, Flash::None).await
}

async fn roles_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let roles = console.admin(req, session, Call::get("/admin/v1/roles")).await.json();
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
    html(StatusCode::OK, &page(session, Nav::Roles, "Roles", &flash, &body))
}

async fn create_role(req: HttpRequest, console: web::Data<Console>, Action { session, form }: Action) -> HttpResponse {
    let body = json!({"name": field(&form, "name"), "description": field(&form, "description"), "scopes": words(field(&form, "scopes"))});
    let answer = console
        .admin(&req, &session, Call::new(Method::POST, "/admin/v1/roles").json(body))
        .await;
    let flash = if answer.status == StatusCode::ACCEPTED {
        Flash::Notice("A second administrator must approve this role (four-eyes): see Approvals.".into())
    } else {
        flash_of(&answer, "Created the role.")
    };
    roles_page(&req, &console, &session, flash).await
}

// --- audit log, signing keys, approvals -------------------------------------------------

#[derive(Deserialize, Default)]
struct AuditFilter {
    since: Option<String>,
    until: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
}

impl AuditFilter {
    fn query(&self) -> String {
        let pairs = [
            ("since", &self.since),
            ("until", &self.until),
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
        ];
        let given: Vec<(&str, &str)> = pairs
            .iter()
            .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (*k, v)))
            .collect();
        serde_urlencoded::to_string(given).unwrap_or_default()
    }
}

async fn audit(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
    filter: web::Query<AuditFilter>,
) -> HttpResponse {
    let query = filter.query();
    let answer = console
        .admin(
            &req,
            &session,
            Call::get(format!("/admin/v1/audit-events?limit=200&{query}")),
        )
        .await;
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
        p { a href={ "/console/audit.csv?" (query) } download="audit-events.csv" { "Export CSV" } }
        (table("Audit events, newest first", items(&doc), &[("Time", "occurred_at"), ("Action", "action"), ("Actor", "actor"), ("Target", "target"), ("Outcome", "outcome"), ("Reason", "reason"), ("Source", "source_addr"), ("Request id", "request_id")], None))
    };
    html(StatusCode::OK, &page(&session, Nav::Audit, "Audit log", &flash, &body))
}

async fn audit_csv(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
    filter: web::Query<AuditFilter>,
) -> HttpResponse {
    let call = Call::get(format!("/admin/v1/export/audit-events?{}", filter.query())).header("accept", "text/csv");
    let answer = console.admin(&req, &session, call).await;
    HttpResponse::build(answer.status)
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"audit-events.csv\""))
        .body(answer.body)
}

async fn signing_keys(req: HttpRequest, console: web::Data<Console>, SignedIn(session): SignedIn) -> HttpResponse {
    signing_keys_page(&req, &console, &session, Flash::None).await
}

async fn signing_keys_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let keys = console
        .admin(req, session, Call::get("/admin/v1/signing-keys"))
        .await
        .json();
    let body = html! {
        p { "Each key is published in the JWKS before it signs, and stays published until every token it signed has expired, so rotation never fails a validation." }
        (table("Signing keys", items(&keys), &[("Key id", "kid"), ("Algorithm", "algorithm"), ("State", "state"), ("Created", "created_at"), ("Signs from", "activates_at"), ("Retires", "retires_at")], None))
        (button_form(session, "/console/signing-keys/rotate", "Rotate now", Some("Publish a new signing key now? It starts signing after the publication delay."), &html! {}))
    };
    html(
        StatusCode::OK,
        &page(session, Nav::SigningKeys, "Signing keys", &flash, &body),
    )
}

async fn rotate_signing_key(
    req: HttpRequest,
    console: web::Data<Console>,
    Action { session, .. }: Action,
) -> HttpResponse {
    let answer = console
        .admin(&req, &session, Call::new(Method::POST, "/admin/v1/signing-keys/rotate"))
        .await;
    let flash = flash_of(&answer, &format!("Rotation: {}.", text(&answer.json()["status"])));
    signing_keys_page(&req, &console, &session, flash).await
}

async fn approvals(req: HttpRequest, console: web::Data<Console>, SignedIn(session): SignedIn) -> HttpResponse {
    approvals_page(&req, &console, &session, Flash::None).await
}

async fn approvals_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let pending = console
        .admin(req, session, Call::get("/admin/v1/approvals?status=pending"))
        .await
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
                            td { code { (text(&request["requested_by"])) } }
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
    html(
        StatusCode::OK,
        &page(session, Nav::Approvals, "Approvals", &flash, &body),
    )
}

async fn decide(
    req: HttpRequest,
    console: web::Data<Console>,
    path: web::Path<(String, String)>,
    Action { session, .. }: Action,
) -> HttpResponse {
    let (id, decision) = path.into_inner();
    if decision != "approve" && decision != "reject" {
        return HttpResponse::NotFound().finish();
    }
    let answer = console
        .admin(
            &req,
            &session,
            Call::new(Method::POST, format!("/admin/v1/approvals/{}/{decision}", segment(&id))),
        )
        .await;
    approvals_page(
        &req,
        &console,
        &session,
        flash_of(&answer, &format!("Request {decision}d.")),
    )
    .await
}

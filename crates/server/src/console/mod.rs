//! `/console`: the web console. Server-rendered pages on top of the admin API: every action is
//! a request to the admin API's own handlers (in process, with the signed-in admin's access
//! token), so the console can do exactly what that admin may do through the API, and every
//! change is audited under the admin's client id. A little JavaScript adds copy buttons and
//! confirmation dialogs; everything works without it.

mod accounts;
mod approvals;
mod audit;
mod keys;
mod pages;
mod session;
mod sign_in;
mod signing_keys;

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use gatepass_admin::access::Principal;
use gatepass_admin::problem::AdminError;
use gatepass_core::RequestId;
use maud::Markup;
use serde_json::Value;

use crate::in_process::{Answer, Call, segment};
use crate::serve::{Parts, api};
use pages::Flash;
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
            .route("/login", web::get().to(sign_in::login_page))
            .route("/login", web::post().to(sign_in::login))
            .route("/logout", web::post().to(sign_in::logout))
            .route("/keys", web::get().to(keys::keys))
            .route("/keys", web::post().to(keys::create_key))
            .route("/keys/{id}", web::get().to(keys::key))
            .route("/keys/{id}/status", web::post().to(keys::key_status))
            .route("/keys/{id}/delete", web::post().to(keys::delete_key))
            .route("/keys/{id}/secrets", web::post().to(keys::rotate))
            .route(
                "/keys/{id}/secrets/{secret}/revoke",
                web::post().to(keys::revoke_secret),
            )
            .route(
                "/keys/{id}/secrets/{secret}/delete",
                web::post().to(keys::delete_secret),
            )
            .route("/service-accounts", web::get().to(accounts::service_accounts))
            .route("/service-accounts", web::post().to(accounts::create_service_account))
            .route(
                "/service-accounts/{id}/status",
                web::post().to(accounts::service_account_status),
            )
            .route("/roles", web::get().to(accounts::roles))
            .route("/roles", web::post().to(accounts::create_role))
            .route("/audit", web::get().to(audit::audit))
            .route("/audit.csv", web::get().to(audit::audit_csv))
            .route("/signing-keys", web::get().to(signing_keys::signing_keys))
            .route("/signing-keys/rotate", web::post().to(signing_keys::rotate_signing_key))
            .route("/approvals", web::get().to(approvals::approvals))
            .route("/approvals/{id}/{decision}", web::post().to(approvals::decide)),
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
    /// A form posted from another site (login CSRF).
    #[error("cross-site form")]
    CrossSite,
    /// Whether the admin still stands could not be checked (storage down).
    #[error("unavailable")]
    Unavailable,
}

impl actix_web::ResponseError for Denied {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignedOut => StatusCode::SEE_OTHER,
            Self::NoCsrf | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::BadForm => StatusCode::BAD_REQUEST,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
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
            Self::CrossSite => HttpResponse::Forbidden()
                .content_type("text/plain; charset=utf-8")
                .body("This form was posted from another site; sign in from this server's own page."),
            Self::Unavailable => HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .content_type("text/plain; charset=utf-8")
                .body("The console cannot check your session right now; try again in a moment."),
        }
    }
}

/// The request's live session, if its admin still stands (DESIGN §10: a session ends with
/// the standing of its client — revoked token or secret, disabled or deleted client or
/// service account). A session whose admin no longer stands is ended here.
async fn current_session(req: &HttpRequest) -> Result<Arc<Session>, Denied> {
    let console = req.app_data::<web::Data<Console>>().ok_or(Denied::SignedOut)?;
    let session = console.sessions.current(req).ok_or(Denied::SignedOut)?;
    match Principal::of_bearer_token(&console.parts.admin(), &session.token).await {
        Ok(_) => Ok(session),
        Err(AdminError::Unauthenticated) => {
            log::info!(
                "console session ended: its admin no longer stands client_id={}",
                session.client_id
            );
            console.sessions.end(req);
            Err(Denied::SignedOut)
        }
        Err(error) => {
            log::warn!("console session standing unknown cause={error}");
            Err(Denied::Unavailable)
        }
    }
}

/// A request of a signed-in administrator (else: a redirect to the sign-in page).
struct SignedIn(Arc<Session>);

impl FromRequest for SignedIn {
    type Error = Denied;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, Denied>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { current_session(&req).await.map(SignedIn) })
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
            let session = current_session(&req).await?;
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

/// Refuses a form another site made the browser post (before any session exists, so no
/// CSRF token can protect it: login CSRF). Browsers send `Sec-Fetch-Site`; older ones
/// `Origin`, which must name this very host.
fn same_site(req: &HttpRequest) -> Result<(), Denied> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Err(Denied::CrossSite);
    }
    if let Some(origin) = header("origin") {
        let host = header("host").unwrap_or_default();
        let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
        if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
            return Err(Denied::CrossSite);
        }
    }
    Ok(())
}

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

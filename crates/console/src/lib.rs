//! `/console`: the web console. Server-rendered pages on the admin service layer: every
//! action calls the same command as the admin API (`gatepass_admin`), as the signed-in
//! admin (a caller made from the session's access token, whose standing is checked on every
//! page), so the console can do exactly what that admin may do through the API, and every
//! change is audited under the admin's client id. A little JavaScript adds copy buttons and
//! confirmation dialogs; everything works without it.
#![forbid(unsafe_code)]

mod accounts;
mod approvals;
mod audit;
mod keys;
mod pages;
mod session;
mod sign_in;
mod signing_keys;

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use gatepass_admin::access::{self, Caller, Capability, Principal};
use gatepass_admin::problem::AdminError;
use gatepass_admin::{AdminState, Outcome};
use gatepass_core::Clock;
use maud::Markup;
use serde::Serialize;
use serde_json::Value;

use pages::Flash;
use session::{Session, Sessions};

/// What a sign-in form's credentials got from the token endpoint.
pub enum SignInAnswer {
    /// An access token for the client.
    Token {
        /// The JWT.
        access_token: String,
        /// Seconds it lives.
        expires_in: i64,
        /// The granted scopes, space-separated.
        scope: String,
    },
    /// Wrong credentials, or a client that may not have a token.
    Refused,
    /// Too many failures from this client or address: wait.
    Throttled,
    /// The token service cannot answer now.
    Unavailable,
}

/// How the console gets an access token for the credentials of its sign-in form: the token
/// endpoint's grant, failure limits and audit (the server implements it on its token service).
pub trait SignIn: Send + Sync {
    /// A token for `client_id` presenting `client_secret`, on behalf of the caller of `req`.
    fn sign_in<'a>(
        &'a self,
        req: &'a HttpRequest,
        client_id: &'a str,
        client_secret: &'a str,
    ) -> Pin<Box<dyn Future<Output = SignInAnswer> + 'a>>;
}

/// What the console needs: the admin service layer, the sign-in and the sessions.
pub struct Console {
    admin: web::Data<AdminState>,
    sign_in: Arc<dyn SignIn>,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
}

impl Console {
    /// The console of a server whose issuer is `issuer` (`https://` makes cookies `Secure`);
    /// sessions end on `clock`.
    pub fn new(admin: web::Data<AdminState>, sign_in: Arc<dyn SignIn>, clock: Arc<dyn Clock>, issuer: &str) -> Self {
        Self {
            admin,
            sign_in,
            sessions: Sessions::new(issuer.starts_with("https://"), Arc::clone(&clock)),
            clock,
        }
    }

    /// Runs `work` as the session's admin, if it holds `C`.
    async fn run<C: Capability, T>(
        &self,
        req: &HttpRequest,
        session: &Session,
        work: impl AsyncFnOnce(&web::Data<AdminState>, &Caller<C>) -> Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        let caller = access::with_token::<C>(&self.admin, req, &session.token).await?;
        work(&self.admin, &caller).await
    }

    /// Now, in seconds since the epoch.
    fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }
}

/// What a command answered, as the pages read it: its view as JSON and the status the API
/// would have answered with, or the refusal.
struct Answer {
    status: StatusCode,
    doc: Value,
    error: Option<AdminError>,
}

impl Answer {
    /// A read or a change without four-eyes: 200.
    fn of<T: Serialize>(result: Result<T, AdminError>) -> Self {
        Self::with(StatusCode::OK, result)
    }

    /// A creation: 201, or 202 when it waits for a second admin.
    fn created<T: Serialize>(result: Result<Outcome<T>, AdminError>) -> Self {
        match result {
            Ok(Outcome::Done(value)) => Self::with(StatusCode::CREATED, Ok(value)),
            Ok(Outcome::Pending(approval)) => Self::with(StatusCode::ACCEPTED, Ok(approval)),
            Err(error) => Self::with::<()>(StatusCode::OK, Err(error)),
        }
    }

    /// A change: 200, or 202 when it waits for a second admin.
    fn changed<T: Serialize>(result: Result<Outcome<T>, AdminError>) -> Self {
        match result {
            Ok(Outcome::Done(value)) => Self::with(StatusCode::OK, Ok(value)),
            Ok(Outcome::Pending(approval)) => Self::with(StatusCode::ACCEPTED, Ok(approval)),
            Err(error) => Self::with::<()>(StatusCode::OK, Err(error)),
        }
    }

    fn with<T: Serialize>(status: StatusCode, result: Result<T, AdminError>) -> Self {
        match result.and_then(|value| {
            serde_json::to_value(value).map_err(|e| AdminError::Internal(format!("console view: {e}")))
        }) {
            Ok(doc) => Self {
                status,
                doc,
                error: None,
            },
            Err(error) => Self {
                status: error.status_code(),
                doc: Value::Null,
                error: Some(error),
            },
        }
    }

    /// The view (`null` after a refusal).
    fn json(&self) -> Value {
        self.doc.clone()
    }

    /// The refusal, for a person.
    fn detail(&self) -> String {
        self.error.as_ref().map_or_else(String::new, AdminError::detail)
    }
}

/// A path segment, encoded so an id cannot leave its place in the path.
fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A query string (`?a=1&b=2`, or nothing) of the pairs that have a value.
fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let given: Vec<(&str, &str)> = pairs.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
    if given.is_empty() {
        String::new()
    } else {
        format!("?{}", serde_urlencoded::to_string(given).unwrap_or_default())
    }
}

/// Mounts `/console`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            // Every console answer (pages, redirects, styles, errors): never sniffed as
            // another type than the one it says.
            .wrap(actix_web::middleware::DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
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

impl ResponseError for Denied {
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

/// The request's live session, if its admin still stands (docs/design.md §10: a session ends with
/// the standing of its client — revoked token or secret, disabled or deleted client or
/// service account). A session whose admin no longer stands is ended here.
async fn current_session(req: &HttpRequest) -> Result<Arc<Session>, Denied> {
    let console = req.app_data::<web::Data<Console>>().ok_or(Denied::SignedOut)?;
    let session = console.sessions.current(req).ok_or(Denied::SignedOut)?;
    match Principal::of_bearer_token(&console.admin, &session.token).await {
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
fn label_map(value: &str) -> Result<BTreeMap<String, String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
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

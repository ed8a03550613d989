//! The HTTP endpoints of the token service: thin handlers over [`crate::grant`].

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use gatepass_core::{ClientId, RequestId};
use oxide_auth::endpoint::{NormalizedParameter, QueryParameter};
use serde::Serialize;
use utoipa::OpenApi;

use crate::TokenService;
use crate::audit::Write;
use crate::client_auth::{self, Failure, NotPresented};
use crate::credentials::{Credential, Rejection};
use crate::error::TokenError;
use crate::failures::Failure as Failed;
use crate::grant::{self, Lookup, Outcome, TokenRequest};
use crate::metadata::Metadata;
use crate::throttle::address_bucket;

/// Mounts `/oauth2/token`, `/oauth2/introspect`, `/oauth2/revoke`, `/.well-known/jwks.json`
/// and the metadata documents.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/oauth2/token")
            .route(web::post().to(token))
            .default_service(web::to(|| async { TokenError::MethodNotAllowed.to_response() })),
    )
    .service(
        web::resource("/oauth2/introspect")
            .route(web::post().to(crate::introspection::introspect))
            .default_service(web::to(|| async { TokenError::MethodNotAllowed.to_response() })),
    )
    .service(
        web::resource("/oauth2/revoke")
            .route(web::post().to(crate::revocation::revoke))
            .default_service(web::to(|| async { TokenError::MethodNotAllowed.to_response() })),
    )
    .service(web::resource("/.well-known/jwks.json").route(web::get().to(jwks)))
    .service(web::resource("/.well-known/oauth-authorization-server").route(web::get().to(metadata)))
    .service(web::resource("/.well-known/openid-configuration").route(web::get().to(metadata)));
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize, utoipa::ToSchema)]
struct TokenBody<'a> {
    /// The JWT access token (RFC 9068).
    access_token: &'a str,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Lifetime in seconds; equals `exp - iat`.
    expires_in: i64,
    /// The granted scopes, space-separated.
    scope: &'a str,
}

/// The token request (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handler parses the form itself
struct TokenForm {
    /// Must be `client_credentials`.
    grant_type: GrantType,
    /// Space-separated scopes; none: every scope the client may have.
    scope: Option<String>,
    /// The audience wanted; none: the client's audiences. Not together with `resource`.
    audience: Option<String>,
    /// RFC 8707 §2: the resource(s) wanted, a parameter that may be repeated; the token's
    /// `aud` then names each, and each must be one of the client's audiences.
    resource: Option<Vec<String>>,
    /// For `client_secret_post` (else HTTP Basic).
    client_id: Option<String>,
    /// For `client_secret_post` (else HTTP Basic).
    client_secret: Option<String>,
}

/// The one grant type (RFC 6749 §4.4).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only
enum GrantType {
    #[schema(rename = "client_credentials")]
    ClientCredentials,
}

/// An introspection (RFC 7662 §2.1) or revocation (RFC 7009 §2.1) request
/// (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handlers parse the form themselves
pub(crate) struct TokenReference {
    /// The token (an empty or unknown one is inactive, RFC 7662 §2.2; RFC 7009 §2.2).
    token: String,
    /// `access_token` or `refresh_token`; a hint only.
    token_type_hint: Option<String>,
    /// For `client_secret_post` (else HTTP Basic).
    client_id: Option<String>,
    /// For `client_secret_post` (else HTTP Basic).
    client_secret: Option<String>,
}

/// An error response (RFC 6749 §5.2).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: rendered by `TokenError::to_response`
struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`, `unsupported_grant_type`,
    /// `invalid_scope`, `invalid_target` or `temporarily_unavailable`.
    error: String,
    /// For a person.
    error_description: String,
}

/// The `OpenAPI` document of the token endpoint and discovery.
#[derive(OpenApi)]
#[openapi(paths(token, crate::introspection::introspect, crate::revocation::revoke, jwks, metadata), tags((name = "oauth2", description = "Token endpoint and discovery")))]
pub struct ApiDoc;

/// `POST /oauth2/token` (RFC 6749 §4.4): a client-credentials token.
#[utoipa::path(post, path = "/oauth2/token", tag = "oauth2",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token; Cache-Control: no-store", body = TokenBody),
        (status = 400, description = "invalid_request (also: a repeated parameter other than resource, two Authorization headers, a body client_id that is not the Basic one), unsupported_grant_type, invalid_scope, invalid_target", body = OAuthError),
        (status = 401, description = "invalid_client (WWW-Authenticate: Basic after Basic)", body = OAuthError),
        (status = 405, description = "Not POST", body = OAuthError),
        (status = 413, description = "Body over the limit", body = OAuthError),
        (status = 503, description = "temporarily_unavailable, with Retry-After", body = OAuthError),
    ),
    security(("basic" = []), ()))]
async fn token(req: HttpRequest, payload: web::Payload, service: web::Data<TokenService>) -> HttpResponse {
    let mut pairs = match read_pairs(&req, payload, service.settings.body_limit, Some("resource")).await {
        Ok(pairs) => pairs,
        Err(error) => return error.to_response(),
    };
    let authorization = match authorization(&req) {
        Ok(value) => value.map(str::to_owned),
        Err(error) => return error.to_response(),
    };
    // RFC 6749 §2.3.1/§3.2.1: a client_id in the body beside Basic credentials (as
    // requests-oauthlib sends with include_client_id=True) is no second authentication
    // method when it names the same client; a different one is refused.
    if let Some(header) = authorization.as_deref() {
        let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        if let (Some(body_id), None) = (value("client_id"), value("client_secret")) {
            match client_auth::presented(Some(header), Some(body_id), None) {
                Ok(_) => pairs.retain(|(k, _)| k != "client_id"),
                Err(NotPresented::Malformed(why)) => return TokenError::InvalidRequest(why).to_response(),
                Err(NotPresented::Nothing | NotPresented::Both) => {}
            }
        }
    }
    let (form, resources) = into_form(pairs, Some("resource"));
    if authorization.is_none() && form.unique_value("client_secret").is_none() {
        let client_id = form.unique_value("client_id");
        let error = refuse(&service, &req, Rejection::NoCredentials, client_id.as_deref(), false).await;
        service.metrics.refused(error.code());
        return error.to_response();
    }
    let request = TokenRequest {
        form,
        resources,
        authorization,
    };
    let now = service.clock.now().unix_timestamp();
    let mut outcome = grant::run(&service, &request, &Lookup::Cache, now);
    if let Outcome::NeedsLookup(hash) = outcome {
        outcome = match service.credential(&hash).await {
            Ok(credential) => grant::run(&service, &request, &Lookup::Fetched(credential), now),
            Err(cause) => Outcome::Fault(cause),
        };
    }
    match outcome {
        Outcome::Issued(issued) => {
            service.usage.record(&issued.client_id, &issued.secret_id, now);
            service.metrics.issued();
            log::debug!(
                "token issued client_id={} secret_id={}",
                issued.client_id,
                issued.secret_id
            );
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
                .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
                .json(TokenBody {
                    access_token: &issued.token,
                    token_type: "Bearer",
                    expires_in: issued.expires_in,
                    scope: &issued.scope,
                })
        }
        Outcome::Refused {
            error,
            rejection: Some(rejection),
            client_id,
        } => {
            let basic = matches!(error, TokenError::InvalidClient { basic: true });
            let error = refuse(&service, &req, rejection, client_id.as_deref(), basic).await;
            service.metrics.refused(error.code());
            error.to_response()
        }
        Outcome::Refused {
            error, rejection: None, ..
        } => {
            log::debug!("token refused error={}", error.code());
            service.metrics.refused(error.code());
            error.to_response()
        }
        Outcome::NeedsLookup(_) | Outcome::Fault(_) => {
            let mut error = TokenError::TemporarilyUnavailable;
            if let Outcome::Fault(cause) = outcome {
                log::error!("token endpoint fault cause={cause}");
                error = TokenError::fault(&cause);
            }
            service.metrics.refused(error.code());
            error.to_response()
        }
    }
}

/// The `Authorization` header, if one was sent; two are refused rather than one of them
/// picked (RFC 6749 §3.2: parameters must not be included more than once).
fn authorization(req: &HttpRequest) -> Result<Option<&str>, TokenError> {
    let mut all = req.headers().get_all(header::AUTHORIZATION);
    let first = all.next();
    if all.next().is_some() {
        return Err(TokenError::InvalidRequest("send one Authorization header, not several"));
    }
    first
        .map(HeaderValue::to_str)
        .transpose()
        .map_err(|_| TokenError::InvalidRequest("malformed Authorization header"))
}

/// Reads a form body of at most `limit` bytes; a repeated parameter is refused (RFC 6749 §3.2).
async fn read_form(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<NormalizedParameter, TokenError> {
    let pairs = read_pairs(req, payload, limit, None).await?;
    Ok(into_form(pairs, None).0)
}

/// Reads a form body of at most `limit` bytes as its parameters in order; a repeated
/// parameter other than `repeatable` is refused (RFC 6749 §3.2).
async fn read_pairs(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    repeatable: Option<&str>,
) -> Result<Vec<(String, String)>, TokenError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(TokenError::PayloadTooLarge);
    }
    let body = match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return Err(TokenError::InvalidRequest("the request body could not be read")),
        Err(_) => return Err(TokenError::PayloadTooLarge),
    };
    if !is_form(req) {
        return Err(TokenError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    parse_pairs(&body, repeatable).ok_or(TokenError::InvalidRequest("a parameter is repeated or malformed"))
}

/// The answer to a failed client authentication: `invalid_client`, or 429 once the client id
/// or address is over its failure limit. The real reason goes to the audit log, aggregated
/// per (client id or address, reason) and window ([`crate::failures`]).
pub(crate) async fn refuse(
    service: &TokenService,
    req: &HttpRequest,
    why: Rejection,
    client_id: Option<&str>,
    basic: bool,
) -> TokenError {
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let address = req.peer_addr().map(|a| a.ip());
    let by_address = address.and_then(|a| service.throttle.fail_address(a));
    // Only a client id that exists is counted by id: random ids are counted by address.
    let client = client_id
        .and_then(|id| ClientId::parse(id).ok())
        .map(|id| id.to_string());
    let real = match client {
        Some(id) if why.proves_client() || service.known.contains(&id) => Some(id),
        // Not known yet (created a moment ago elsewhere): ask the database, but only for a
        // caller whose address is still within its budget, so a flood costs no extra reads.
        Some(id) if by_address.is_none() => service.client_exists(&id).await.then_some(id),
        _ => None,
    };
    let by_client = real.as_deref().and_then(|id| service.throttle.fail_client(id));
    let throttled = by_client.into_iter().chain(by_address).max();
    let failure = Failed {
        client_id: real.as_deref(),
        address,
        reason: why.as_str(),
        throttled: throttled.is_some(),
        request_id,
    };
    let noted = service.failures.note(&failure, service.clock.now());
    if noted.opened.is_some() {
        log::info!(
            "client authentication failed reason={} client_id={} address={} throttled={} \
             (more failures of this key in the window are counted in its audit event)",
            why.as_str(),
            real.as_deref().unwrap_or("-"),
            address.map_or_else(|| "-".to_owned(), |a| address_bucket(a).to_string()),
            throttled.is_some(),
        );
    }
    for (written, write) in noted
        .closed
        .into_iter()
        .map(|w| (w, Write::Amend))
        .chain(noted.opened.into_iter().map(|w| (w, Write::Insert)))
    {
        service.audit.queue(written.row, write, written.real);
    }
    service.metrics.authentication_failed(throttled.is_some());
    match throttled {
        Some(retry_after) => TokenError::TooManyFailures { retry_after },
        None => TokenError::InvalidClient { basic },
    }
}

/// Introspection's and revocation's request: the authenticated caller and the `token`
/// parameter, or the answer to give.
pub(crate) async fn token_form(
    req: &HttpRequest,
    payload: web::Payload,
    service: &TokenService,
) -> Result<(std::sync::Arc<Credential>, String), HttpResponse> {
    let form = read_form(req, payload, service.settings.body_limit)
        .await
        .map_err(TokenError::to_response)?;
    let caller = caller(service, req, &form).await?;
    let token = form
        .unique_value("token")
        .map(std::borrow::Cow::into_owned)
        .ok_or_else(|| TokenError::InvalidRequest("token is required").to_response())?;
    Ok((caller, token))
}

/// The authenticated client calling introspection or revocation, or the answer to give.
async fn caller(
    service: &TokenService,
    req: &HttpRequest,
    form: &NormalizedParameter,
) -> Result<std::sync::Arc<Credential>, HttpResponse> {
    let authorization = authorization(req).map_err(TokenError::to_response)?;
    let (client_id, client_secret) = (form.unique_value("client_id"), form.unique_value("client_secret"));
    let presented = match client_auth::presented(authorization, client_id.as_deref(), client_secret.as_deref()) {
        Ok(presented) => presented,
        Err(NotPresented::Nothing) => {
            return Err(refuse(service, req, Rejection::NoCredentials, None, false)
                .await
                .to_response());
        }
        Err(NotPresented::Both) => {
            return Err(TokenError::InvalidRequest("use one client authentication method, not both").to_response());
        }
        Err(NotPresented::Malformed(why)) => return Err(TokenError::InvalidRequest(why).to_response()),
    };
    let now = service.clock.now().unix_timestamp();
    match service.authenticate(&presented, now).await {
        Ok(credential) => Ok(credential),
        Err(Failure::Rejected(why)) => Err(refuse(service, req, why, Some(&presented.client_id), presented.basic)
            .await
            .to_response()),
        Err(Failure::Fault(cause)) => {
            log::error!("client authentication fault cause={cause}");
            Err(TokenError::fault(&cause).to_response())
        }
    }
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Parses a form body; a repeated parameter (RFC 6749 §3.2) gives `None`.
pub fn parse_form(body: &[u8]) -> Option<NormalizedParameter> {
    parse_pairs(body, None).map(|pairs| into_form(pairs, None).0)
}

/// A form body's parameters in order; a repeated one other than `repeatable` gives `None`.
fn parse_pairs(body: &[u8], repeatable: Option<&str>) -> Option<Vec<(String, String)>> {
    let mut seen = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    for (key, value) in form_urlencoded::parse(body) {
        if Some(key.as_ref()) != repeatable && !seen.insert(key.clone()) {
            return None;
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Some(pairs)
}

/// The parameters as a form, with the values of `apart` (each, in order) taken out.
fn into_form(pairs: Vec<(String, String)>, apart: Option<&str>) -> (NormalizedParameter, Vec<String>) {
    let mut form = NormalizedParameter::new();
    let mut taken = Vec::new();
    for (key, value) in pairs {
        if Some(key.as_str()) == apart {
            taken.push(value);
        } else {
            form.insert_or_poison(key.into(), value.into());
        }
    }
    (form, taken)
}

/// `GET /.well-known/jwks.json`: the public signing keys (pending, active, retired).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth2",
    responses((status = 200, description = "A JWK Set; Cache-Control: max-age per the key schedule", body = serde_json::Value)))]
async fn jwks(service: web::Data<TokenService>) -> HttpResponse {
    let jwks = service.keys.ring().jwks_json(service.clock.now().unix_timestamp());
    let max_age = service.keys.settings().jwks_max_age.as_secs();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .content_type("application/json")
        .body(jwks)
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414), also at `/.well-known/openid-configuration`.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth2",
    responses((status = 200, description = "Authorization server metadata", body = serde_json::Value)))]
async fn metadata(service: web::Data<TokenService>) -> HttpResponse {
    let max_age = service.keys.settings().jwks_max_age.as_secs();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .json(Metadata::new(&service.settings.issuer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(parse_form(b"grant_type=client_credentials&scope=a").is_some());
        assert!(parse_form(b"grant_type=client_credentials&grant_type=client_credentials").is_none());
        assert!(parse_form(b"scope=a&scope=b").is_none());
        assert!(
            parse_form(b"resource=a&resource=b").is_none(),
            "only the token endpoint takes several"
        );
    }

    #[test]
    fn several_resources_are_kept_in_order_and_other_repeats_refused() {
        // RFC 8707 §2: `resource` may be repeated; RFC 6749 §3.2: nothing else may.
        let pairs = parse_pairs(b"resource=a&grant_type=x&resource=b", Some("resource")).unwrap();
        let (form, resources) = into_form(pairs, Some("resource"));
        assert_eq!(resources, ["a", "b"]);
        assert_eq!(form.unique_value("grant_type").as_deref(), Some("x"));
        assert!(form.unique_value("resource").is_none());
        assert!(parse_pairs(b"resource=a&scope=a&scope=b", Some("resource")).is_none());
        // Nothing is set apart when nothing is named, not even a nameless parameter.
        let form = parse_form(b"=x&grant_type=y").unwrap();
        assert_eq!(form.unique_value("").as_deref(), Some("x"));
    }
}

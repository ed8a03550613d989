//! The HTTP endpoints of the token service: the token endpoint's one pass (read the body,
//! parse it into a [`TokenRequest`], validate the grant, authenticate once, sign) and the
//! discovery documents.

use std::fmt::Write as _;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::OpenApi;

use crate::TokenService;
use crate::client_auth::Head;
use crate::error::TokenError;
use crate::form::{authorization_headers, read_body};
use crate::grant::{self, Issued, Stopped};
use crate::json;
use crate::metadata::Metadata;
use crate::schemas::{OAuthError, TokenForm};
use crate::token_request::TokenRequest;

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

impl TokenBody<'_> {
    /// The JSON document, as serde would write it ([`crate::json`]: the token is most of
    /// the response, and neither it nor an RFC 6749 scope ever needs escaping).
    fn to_json(&self) -> String {
        if !(json::plain(self.access_token) && json::plain(self.scope) && json::plain(self.token_type)) {
            return serde_json::to_string(self).unwrap_or_default();
        }
        let mut out = String::with_capacity(self.access_token.len() + self.scope.len() + 80);
        json::field(&mut out, '{', "access_token", self.access_token);
        json::field(&mut out, ',', "token_type", self.token_type);
        // Writing to a String cannot fail.
        let _ = write!(out, r#","expires_in":{}"#, self.expires_in);
        json::field(&mut out, ',', "scope", self.scope);
        out.push('}');
        out
    }
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
    let answer = match issue(&req, payload, &service).await {
        Ok(issued) => {
            service.metrics.issued();
            let body = TokenBody {
                access_token: &issued.token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                scope: &issued.scope,
            };
            return HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
                .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
                .content_type(HeaderValue::from_static("application/json"))
                .body(body.to_json());
        }
        Err(error) => error,
    };
    log::debug!("token refused error={}", answer.code());
    service.metrics.refused(answer.code());
    answer.to_response()
}

/// The token endpoint's one pass: read and parse the request, validate the grant,
/// authenticate the client (one keyed hash), decide the policy, sign.
async fn issue(req: &HttpRequest, payload: web::Payload, service: &TokenService) -> Result<Issued, TokenError> {
    let body = read_body(req, payload, service.settings.body_limit).await?;
    let authorization = authorization_headers(req);
    let head = Head {
        content_type: req.headers().get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
        authorization: &authorization,
    };
    let request = match TokenRequest::parse(head, &body) {
        Ok(request) => request,
        Err(refused) => return Err(service.refused(req, refused).await),
    };
    grant_parsed(req, &request, service).await
}

/// The rest of the pass for a request already parsed (by the endpoint, or built by the
/// console's sign-in): validate the grant, authenticate the client, decide, sign, count.
pub(crate) async fn grant_parsed(
    req: &HttpRequest,
    request: &TokenRequest,
    service: &TokenService,
) -> Result<Issued, TokenError> {
    let validated = grant::validate(request).map_err(fault)?;
    let now = service.clock.now().unix_timestamp();
    let credential = service.authenticate_caller(req, &request.presented, now).await?;
    let issued = validated.issue(service, request, &credential, now).map_err(fault)?;
    service.usage.record(&credential.client_id, &credential.secret_id, now);
    log::debug!(
        "token issued client_id={} secret_id={}",
        credential.client_id,
        credential.secret_id
    );
    Ok(issued)
}

fn fault(stopped: Stopped) -> TokenError {
    match stopped {
        Stopped::Refused(error) => error,
        Stopped::Fault(cause) => {
            log::error!("token endpoint fault cause={cause}");
            TokenError::fault(&cause)
        }
    }
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

    fn body<'a>(token: &'a str, scope: &'a str) -> TokenBody<'a> {
        TokenBody {
            access_token: token,
            token_type: "Bearer",
            expires_in: 900,
            scope,
        }
    }

    #[test]
    fn the_token_response_is_the_json_serde_writes() {
        let cases = [
            body(
                "eyJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJncGNfYSJ9.c2lnLV8",
                "sites:read scripts:write",
            ),
            body("a.b.c", ""),
            body("a.b.c", "!#[]~"),
            // Never produced, but if it were: escaped like serde does, still valid JSON.
            body("a\"b", "x\\y"),
            body("a\nb", "\u{7f}\u{e9}"),
        ];
        for case in cases {
            let json = case.to_json();
            assert_eq!(json, serde_json::to_string(&case).unwrap());
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed["access_token"], case.access_token);
            assert_eq!(parsed["scope"], case.scope);
            assert_eq!(parsed["expires_in"], 900);
        }
    }
}

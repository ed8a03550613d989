//! `POST /oauth2/introspect` (RFC 7662), for clients holding `gatepass:introspect`.
//!
//! A token is active when one of our published keys signed it as an access token of this
//! issuer, it is inside `nbf`..`exp`, its `jti` was not revoked (RFC 7009), and the secret
//! that obtained it, its client and the client's service account are all still usable. So
//! revoking a secret or disabling a client makes its tokens inactive here at once, on every
//! node, while local validators keep accepting them until `exp` (docs/security.md).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_core::{AccessTokenClaims, Audiences};
use serde::Serialize;

use crate::TokenService;
use crate::client_auth::token_form;
use crate::error::TokenError;

/// The scope a client needs to introspect (or `gatepass:admin`).
pub const INTROSPECT_SCOPE: &str = "gatepass:introspect";

/// An introspection answer (RFC 7662 §2.2); only `active` when inactive.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Introspection {
    /// Whether the token is valid right now.
    active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    details: Option<Details>,
}

/// The claims of an active token.
#[derive(Serialize)]
struct Details {
    scope: String,
    client_id: String,
    token_type: &'static str,
    exp: i64,
    iat: i64,
    nbf: i64,
    sub: String,
    aud: Audiences,
    iss: String,
    jti: String,
}

fn answer(claims: Option<AccessTokenClaims>) -> HttpResponse {
    let details = claims.map(|c| Details {
        scope: c.scope,
        client_id: c.client_id,
        token_type: "Bearer",
        exp: c.exp,
        iat: c.iat,
        nbf: c.nbf,
        sub: c.sub,
        aud: c.aud,
        iss: c.iss,
        jti: c.jti,
    });
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .json(Introspection {
            active: details.is_some(),
            details,
        })
}

/// Introspect a token: `token` (and an optional `token_type_hint`, not needed) in a form,
/// the caller authenticated as a client with `gatepass:introspect`.
#[utoipa::path(post, path = "/oauth2/introspect", tag = "oauth2",
    request_body(content = crate::schemas::TokenReference, content_type = "application/x-www-form-urlencoded", description = "`token`, optional `token_type_hint`; client credentials by Basic or in the body"),
    responses(
        (status = 200, description = "RFC 7662 answer: `{\"active\": false}`, or `active: true` with scope, client_id, token_type, exp, iat, nbf, sub, aud, iss, jti", body = Introspection),
        (status = 400, description = "invalid_request (no token, repeated parameter, not a form)"),
        (status = 401, description = "invalid_client"),
        (status = 403, description = "unauthorized_client: the caller lacks gatepass:introspect"),
        (status = 429, description = "Too many failed client authentications; Retry-After"),
        (status = 503, description = "temporarily_unavailable, with Retry-After"),
    ),
    security(("basic" = []), ()))]
pub(crate) async fn introspect(
    req: HttpRequest,
    payload: web::Payload,
    service: web::Data<TokenService>,
) -> HttpResponse {
    let (caller, token) = match token_form(&req, payload, &service).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    if !caller.allowance.scopes.grants(INTROSPECT_SCOPE) {
        return TokenError::NotPermitted.to_response();
    }
    let now = service.clock.now().unix_timestamp();
    let Some(claims) = service.keys.ring().verify(&token, &service.settings.issuer, now) else {
        return answer(None);
    };
    let (jti, client_id, secret_id) = (claims.jti.clone(), claims.client_id.clone(), claims.secret_id.clone());
    let standing = service
        .db
        .run_read(move |conn| {
            gatepass_store::credentials::token_standing(conn, &jti, &client_id, secret_id.as_deref(), now)
        })
        .await;
    match standing {
        Ok(Ok(_)) => answer(Some(claims)),
        Ok(Err(_)) => answer(None),
        Err(error) => {
            log::error!("introspection fault cause={error}");
            TokenError::fault(&error.into()).to_response()
        }
    }
}

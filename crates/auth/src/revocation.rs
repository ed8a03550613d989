//! `POST /oauth2/revoke` (RFC 7009): a client revokes its own access tokens.
//!
//! The token's `jti` goes on a denylist kept until its `exp`; introspection then answers
//! `active: false`. A valid token of another client is refused with 400
//! `unauthorized_client` and stays active (RFC 7009 §2.1); an expired, foreign or malformed
//! token is answered 200 all the same and changes nothing (RFC 7009 §2.2).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use gatepass_core::RequestId;
use gatepass_store::revoked_tokens::{self, RevokedTokenRow};

use crate::TokenService;
use crate::audit::AuditEvent;
use crate::client_auth::token_form;
use crate::error::TokenError;

fn done() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .finish()
}

/// Revoke one of the caller's own access tokens.
#[utoipa::path(post, path = "/oauth2/revoke", tag = "oauth2",
    request_body(content = crate::schemas::TokenReference, content_type = "application/x-www-form-urlencoded", description = "`token`, optional `token_type_hint`; client credentials by Basic or in the body"),
    responses(
        (status = 200, description = "Revoked, or nothing to do (expired, unknown or malformed token: RFC 7009 §2.2)"),
        (status = 400, description = "invalid_request (no token, repeated parameter, not a form, two Authorization headers); unauthorized_client (a token of another client: RFC 7009 §2.1)"),
        (status = 401, description = "invalid_client"),
        (status = 429, description = "Too many failed client authentications; Retry-After"),
        (status = 503, description = "temporarily_unavailable, with Retry-After"),
    ),
    security(("basic" = []), ()))]
pub(crate) async fn revoke(req: HttpRequest, payload: web::Payload, service: web::Data<TokenService>) -> HttpResponse {
    let (caller, token) = match token_form(&req, payload, &service).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let now = service.clock.now().unix_timestamp();
    let Some(claims) = service.keys.ring().verify(&token, &service.settings.issuer, now) else {
        return done();
    };
    if claims.client_id != caller.client_id {
        log::info!(
            "revocation of another client's token refused caller={}",
            caller.client_id
        );
        return TokenError::NotTokenOwner.to_response();
    }
    let row = RevokedTokenRow {
        jti: claims.jti,
        client_id: claims.client_id,
        expires_at: claims.exp,
        revoked_at: now,
    };
    let target = row.client_id.clone();
    match service.db.run(move |conn| revoked_tokens::insert(conn, &row)).await {
        Ok(added) => {
            if added {
                service.audit.record(AuditEvent {
                    actor: target.clone(),
                    action: "token.revoked".to_owned(),
                    target: Some(target),
                    outcome: "success",
                    reason: None,
                    request_id: req.extensions().get::<RequestId>().map(ToString::to_string),
                    source_addr: req.peer_addr().map(|a| a.ip().to_string()),
                });
            }
            done()
        }
        Err(error) => {
            log::error!("revocation fault cause={error}");
            TokenError::fault(&error.into()).to_response()
        }
    }
}

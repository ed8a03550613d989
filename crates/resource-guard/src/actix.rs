//! actix-web middleware and extractor with RFC 6750 answers.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use gatepass_core::AccessTokenClaims;

use crate::{ValidationError, Validator};

/// Protects a scope of routes: the request needs a valid bearer token holding every
/// listed scope. Verified claims are then available through [`VerifiedToken`].
#[derive(Clone)]
pub struct RequireScopes {
    validator: Validator,
    scopes: Rc<[String]>,
    realm: Rc<str>,
    introspected: bool,
}

impl RequireScopes {
    /// Requires `scopes` (none: any valid token).
    pub fn new(validator: &Validator, scopes: &[&str]) -> Self {
        Self {
            validator: validator.clone(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            realm: "api".into(),
            introspected: false,
        }
    }

    /// Also asks the issuer whether each token is still active (RFC 7662), so revocation is
    /// seen at once on these routes; needs `GuardConfig::with_introspection`.
    #[must_use]
    pub fn introspected(mut self) -> Self {
        self.introspected = true;
        self
    }

    /// The `realm` named in `WWW-Authenticate` (default `api`).
    #[must_use]
    pub fn realm(mut self, realm: &str) -> Self {
        self.realm = realm.into();
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireScopes
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = RequireScopesMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireScopesMiddleware {
            service: Rc::new(service),
            guard: self.clone(),
        }))
    }
}

/// The middleware [`RequireScopes`] builds.
pub struct RequireScopesMiddleware<S> {
    service: Rc<S>,
    guard: RequireScopes,
}

impl<S, B> Service<ServiceRequest> for RequireScopesMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let guard = self.guard.clone();
        Box::pin(async move {
            match authorize(&req, &guard).await {
                Ok(claims) => {
                    req.extensions_mut().insert(VerifiedToken(claims));
                    Ok(service.call(req).await?.map_into_left_body())
                }
                Err(refusal) => Ok(req.into_response(refusal.map_into_right_body())),
            }
        })
    }
}

async fn authorize(req: &ServiceRequest, guard: &RequireScopes) -> Result<Arc<AccessTokenClaims>, HttpResponse> {
    let realm = &guard.realm;
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, format!("Bearer realm=\"{realm}\"")))
            .json(serde_json::json!({"error": "unauthorized", "error_description": "a bearer token is required"})));
    };
    // Two Authorization headers: refuse rather than pick one (RFC 6750 §3.1 invalid_request).
    if req.headers().get_all(header::AUTHORIZATION).nth(1).is_some() {
        return Err(refuse(
            realm,
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_request",
            "send one Authorization header, not several",
            None,
        ));
    }
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
                .map(|_| v[7..].trim())
        })
        .filter(|t| !t.is_empty() && !t.contains(' '));
    let Some(token) = token else {
        return Err(refuse(
            realm,
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_request",
            "malformed Authorization header",
            None,
        ));
    };
    let verdict = if guard.introspected {
        guard.validator.validate_introspected(token, &guard.scopes).await
    } else {
        guard.validator.validate_with_scopes(token, &guard.scopes).await
    };
    match verdict {
        Ok(claims) => Ok(claims),
        Err(ValidationError::InsufficientScope) => {
            let scope = guard.scopes.join(" ");
            Err(refuse(realm, actix_web::http::StatusCode::FORBIDDEN, "insufficient_scope", "the token lacks a required scope", Some(&scope)))
        }
        Err(ValidationError::NotReady | ValidationError::IntrospectionUnavailable) => Err(HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "5"))
            .json(serde_json::json!({"error": "temporarily_unavailable", "error_description": "token validation is not ready"}))),
        Err(other) => {
            log::debug!("bearer token refused: {other}");
            Err(refuse(realm, actix_web::http::StatusCode::UNAUTHORIZED, "invalid_token", &other.to_string(), None))
        }
    }
}

fn refuse(
    realm: &str,
    status: actix_web::http::StatusCode,
    error: &str,
    description: &str,
    scope: Option<&str>,
) -> HttpResponse {
    let challenge = match scope {
        Some(scope) => {
            format!(
                "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\", scope=\"{scope}\""
            )
        }
        None => format!("Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\""),
    };
    HttpResponse::build(status)
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .json(serde_json::json!({"error": error, "error_description": description}))
}

/// The verified claims of the request's token, for handlers behind [`RequireScopes`].
#[derive(Clone, Debug)]
pub struct VerifiedToken(Arc<AccessTokenClaims>);

impl VerifiedToken {
    /// The claims.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.0
    }
}

impl FromRequest for VerifiedToken {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<VerifiedToken>().cloned().ok_or_else(|| {
            // A handler asked for claims on a route no RequireScopes protects: a wiring bug.
            actix_web::error::ErrorInternalServerError("route is not protected by RequireScopes")
        }))
    }
}

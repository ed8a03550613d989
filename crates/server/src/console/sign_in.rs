//! Sign-in and sign-out: the token endpoint checks the credentials, the session keeps the token.

use std::time::Duration;

use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::pages::{self, Flash};
use super::{Action, Console, Form, field, see_other, words};
use crate::in_process::Call;

pub(super) async fn login_page(req: HttpRequest) -> HttpResponse {
    if super::current_session(&req).await.is_ok() {
        return see_other("/console/keys");
    }
    super::html(StatusCode::OK, &pages::login(&Flash::None))
}

pub(super) async fn login(req: HttpRequest, console: web::Data<Console>, form: Form) -> HttpResponse {
    if let Err(refused) = super::same_site(&req) {
        log::warn!("console sign-in posted from another site refused");
        return actix_web::ResponseError::error_response(&refused);
    }
    let (client_id, secret) = (field(&form, "client_id"), field(&form, "client_secret"));
    let basic = STANDARD.encode(format!("{client_id}:{secret}"));
    let call = Call::new(Method::POST, "/oauth2/token")
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")]);
    let answer = console.call(&req, call).await;
    let refused = |message: &str, status| super::html(status, &pages::login(&Flash::Error(message.to_owned())));
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

pub(super) async fn logout(req: HttpRequest, console: web::Data<Console>, _: Action) -> HttpResponse {
    let cookie = console.sessions.end(&req);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/login"))
        .cookie(cookie)
        .finish()
}

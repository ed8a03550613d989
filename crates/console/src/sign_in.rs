//! Sign-in and sign-out: the token endpoint's grant checks the credentials, the session keeps
//! the token.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::pages::{self, Flash};
use super::{Action, Console, Form, SignInAnswer, field, see_other, words};

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
    let refused = |message: &str, status| super::html(status, &pages::login(&Flash::Error(message.to_owned())));
    let (token, lifetime, scope) = match console.sign_in.sign_in(&req, client_id, secret).await {
        SignInAnswer::Token {
            access_token,
            expires_in,
            scope,
        } => (access_token, expires_in, scope),
        SignInAnswer::Throttled => {
            return refused(
                "Too many failed sign-ins; wait a minute and try again.",
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        SignInAnswer::Refused => {
            return refused(
                "Sign-in failed: check the client id and secret.",
                StatusCode::UNAUTHORIZED,
            );
        }
        SignInAnswer::Unavailable => {
            return refused(
                "Sign-in failed: the token service is unavailable; try again in a moment.",
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    if !words(&scope).iter().any(|s| s.starts_with("gatepass:")) {
        return refused(
            "This client holds no gatepass:* scope, so it cannot administer anything.",
            StatusCode::FORBIDDEN,
        );
    }
    match console.sessions.start(client_id.to_owned(), token, lifetime) {
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

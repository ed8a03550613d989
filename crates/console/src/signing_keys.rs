//! The signing-key schedule and rotation.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::pages::{Flash, Nav, button_form, items, page, table, text};
use super::session::Session;
use super::{Action, Answer, Console, SignedIn, flash_of};
use gatepass_admin::access::{KeysRead, KeysWrite};
use gatepass_admin::keys;
use gatepass_admin::views::Page;

pub(super) async fn signing_keys(
    req: HttpRequest,
    console: web::Data<Console>,
    SignedIn(session): SignedIn,
) -> HttpResponse {
    signing_keys_page(&req, &console, &session, Flash::None).await
}

async fn signing_keys_page(req: &HttpRequest, console: &Console, session: &Session, flash: Flash) -> HttpResponse {
    let keys = Answer::of(
        console
            .run::<KeysRead, _>(req, session, async |state, caller| {
                let items = keys::list(state, caller).await?;
                Ok(Page {
                    items,
                    next_cursor: None,
                })
            })
            .await,
    )
    .json();
    let body = html! {
        p { "Each key is published in the JWKS before it signs, and stays published until every token it signed has expired, so rotation never fails a validation." }
        (table("Signing keys", items(&keys), &[("Key id", "kid"), ("Algorithm", "algorithm"), ("State", "state"), ("Created", "created_at"), ("Signs from", "activates_at"), ("Retires", "retires_at")], None))
        (button_form(session, "/console/signing-keys/rotate", "Rotate now", Some("Publish a new signing key now? It starts signing after the publication delay."), &html! {}))
    };
    super::html(
        StatusCode::OK,
        &page(session, Nav::SigningKeys, "Signing keys", &flash, &body),
    )
}

pub(super) async fn rotate_signing_key(
    req: HttpRequest,
    console: web::Data<Console>,
    Action { session, .. }: Action,
) -> HttpResponse {
    let answer = Answer::of(
        console
            .run::<KeysWrite, _>(&req, &session, async |state, caller| keys::rotate(state, caller).await)
            .await,
    );
    let flash = flash_of(&answer, &format!("Rotation: {}.", text(&answer.json()["status"])));
    signing_keys_page(&req, &console, &session, flash).await
}

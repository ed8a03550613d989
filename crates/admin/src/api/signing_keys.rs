//! `/admin/v1/signing-keys`: the key schedule, and rotation on demand.

use actix_web::{HttpResponse, web};

use crate::AdminState;
use crate::access::{Caller, KeysRead, KeysWrite};
use crate::keys::{self, Rotated, SigningKey};
use crate::problem::AdminError;
use crate::views::Page;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/signing-keys").route(web::get().to(list)))
        .service(web::resource("/signing-keys/rotate").route(web::post().to(rotate)));
}

/// The signing-key schedule: every key and its state.
#[utoipa::path(get, path = "/admin/v1/signing-keys", operation_id = "list_signing_keys", tag = "signing-keys",
    responses((status = 200, description = "Every key with its state", body = Page<SigningKey>)),
    security(("bearer" = ["gatepass:keys:write"])))]
pub(crate) async fn list(state: web::Data<AdminState>, caller: Caller<KeysRead>) -> Result<HttpResponse, AdminError> {
    let items = keys::list(&state, &caller).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Publish the next signing key now; it signs after `keys.publish_ahead_seconds`.
#[utoipa::path(post, path = "/admin/v1/signing-keys/rotate", operation_id = "rotate_signing_keys", tag = "signing-keys",
    responses((status = 200, description = "`scheduled`, `already_pending` or `unchanged`, with `activates_at`", body = Rotated)),
    security(("bearer" = ["gatepass:keys:write"])))]
pub(crate) async fn rotate(
    state: web::Data<AdminState>,
    caller: Caller<KeysWrite>,
) -> Result<HttpResponse, AdminError> {
    Ok(HttpResponse::Ok().json(keys::rotate(&state, &caller).await?))
}

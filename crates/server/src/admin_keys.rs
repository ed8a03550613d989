//! `/admin/v1/signing-keys`: the key schedule, and rotation on demand. Wired here because
//! the keys belong to the token service (`gatepass-auth`) and callers are authorized the
//! admin API's way (`gatepass-admin`).

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use gatepass_admin::AdminState;
use gatepass_admin::access::{Caller, KeysRead, KeysWrite};
use gatepass_admin::problem::AdminError;
use gatepass_auth::keys::{KeyManager, Plan};
use gatepass_core::format_utc;
use gatepass_store::audit;

/// The key manager, as app data for these routes.
pub struct Keys(pub Arc<KeyManager>);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/admin/v1/signing-keys").route(web::get().to(list)))
        .service(web::resource("/admin/v1/signing-keys/rotate").route(web::post().to(rotate)));
}

fn unavailable(error: &gatepass_auth::keys::KeyError) -> AdminError {
    log::error!("signing key operation failed: {error}");
    AdminError::Store(gatepass_store::StoreError::Unavailable(error.to_string()))
}

/// The signing-key schedule: every key and its state.
#[utoipa::path(get, path = "/admin/v1/signing-keys", tag = "signing-keys",
    responses((status = 200, description = "Every key with its state", body = serde_json::Value),
),
    security(("bearer" = ["gatepass:keys:write"])))]
async fn list(_: Caller<KeysRead>, keys: web::Data<Keys>) -> Result<HttpResponse, AdminError> {
    let items = keys.0.summaries().await.map_err(|e| unavailable(&e))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items, "next_cursor": null })))
}

/// Publish the next signing key now; it signs after `keys.publish_ahead_seconds`.
#[utoipa::path(post, path = "/admin/v1/signing-keys/rotate", tag = "signing-keys",
    responses((status = 200, description = "`scheduled`, `already_pending` or `unchanged`, with `activates_at`", body = serde_json::Value),
),
    security(("bearer" = ["gatepass:keys:write"])))]
async fn rotate(
    state: web::Data<AdminState>,
    caller: Caller<KeysWrite>,
    keys: web::Data<Keys>,
) -> Result<HttpResponse, AdminError> {
    let principal = caller.principal();
    let plan = keys.0.rotate_now().await.map_err(|e| unavailable(&e))?;
    let at = |t: i64| time::OffsetDateTime::from_unix_timestamp(t).map_or_else(|_| t.to_string(), format_utc);
    let (status, activates_at) = match plan {
        Plan::Create { activates_at, .. } => {
            let row = principal.event(
                state.clock.now().unix_timestamp(),
                "signing_key.rotated",
                "signing-keys",
            );
            state.db.run(move |conn| audit::append(conn, &[row])).await?;
            ("scheduled", Some(at(activates_at)))
        }
        Plan::AlreadyPending(activates_at) => ("already_pending", Some(at(activates_at))),
        Plan::Keep => ("unchanged", None),
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": status, "activates_at": activates_at })))
}

//! The route table: every path the server answers, and on which listener.

use actix_web::{HttpResponse, web};
use gatepass_admin::AdminState;
use gatepass_auth::TokenService;
use gatepass_console::Console;

use crate::metrics::{self, Metrics, Sources};

/// What a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mount {
    /// The token service: `/oauth2/*` and discovery (the public listener when the admin API
    /// has its own).
    Public,
    /// The admin API, the console, `/openapi.json` and `/docs`, and `/metrics` (a separate
    /// admin listener).
    Admin,
    /// Both (one listener).
    All,
}

impl Mount {
    fn public(self) -> bool {
        matches!(self, Self::Public | Self::All)
    }

    fn admin(self) -> bool {
        matches!(self, Self::Admin | Self::All)
    }
}

/// What the route handlers need, shared by the listeners.
#[derive(Clone)]
pub struct Parts {
    pub service: web::Data<TokenService>,
    pub admin: web::Data<AdminState>,
    pub console: web::Data<Console>,
    pub metrics: web::Data<Metrics>,
    pub sources: web::Data<Sources>,
}

/// Mounts what `mount` serves, plus the health checks every listener answers.
pub fn configure(cfg: &mut web::ServiceConfig, parts: &Parts, mount: Mount) {
    cfg.app_data(parts.service.clone())
        .app_data(parts.metrics.clone())
        .app_data(parts.sources.clone());
    if mount.public() {
        cfg.configure(gatepass_auth::http::configure);
    }
    if mount.admin() {
        cfg.app_data(parts.admin.clone())
            .app_data(parts.console.clone())
            .configure(gatepass_admin::configure)
            .configure(gatepass_console::configure)
            .configure(crate::openapi::configure)
            .route("/metrics", web::get().to(metrics::scrape));
    }
    cfg.route(
        "/healthz",
        web::get().to(|| async { HttpResponse::Ok().json(serde_json::json!({"status": "ok"})) }),
    )
    .route("/readyz", web::get().to(readyz));
}

async fn readyz(service: web::Data<TokenService>) -> HttpResponse {
    if !service.is_ready().await {
        return HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}));
    }
    if service.serving_stale() {
        // The database does not answer; cached credentials still get tokens (stale-if-error).
        return HttpResponse::Ok().json(serde_json::json!({
            "status": "degraded",
            "reason": "database_unreachable",
            "database_writable": false,
        }));
    }
    // Tokens are still issued when writes fail (disk full): ready, but say so.
    let writable = service.database_writable().await;
    let body = if writable {
        serde_json::json!({"status": "ready", "database_writable": true})
    } else {
        serde_json::json!({"status": "degraded", "reason": "database_read_only", "database_writable": false})
    };
    HttpResponse::Ok().json(body)
}

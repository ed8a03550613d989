//! A downstream service protected by `gatepass-resource-guard`.
//!
//! `GET /` is public, `GET /sites` needs `sites:read`, `POST /scripts` needs
//! `scripts:write`. Configure with `GATEPASS_ISSUER` (default `http://127.0.0.1:8080`),
//! `AUDIENCE` (default `https://api.example.com`) and `BIND` (default `127.0.0.1:9000`).

use std::env;

use actix_web::{App, HttpResponse, HttpServer, web};
use gatepass_resource_guard::actix::{RequireScopes, VerifiedToken};
use gatepass_resource_guard::{GuardConfig, Validator};
use serde_json::json;

async fn public() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn list_sites(token: VerifiedToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({"sites": ["alpha", "beta"], "caller": token.claims().client_id}))
}

async fn create_script(token: VerifiedToken) -> HttpResponse {
    HttpResponse::Created().json(json!({"script": "created", "caller": token.claims().client_id}))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    env_logger::init();
    let issuer = env::var("GATEPASS_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let audience = env::var("AUDIENCE").unwrap_or_else(|_| "https://api.example.com".into());
    let bind = env::var("BIND").unwrap_or_else(|_| "127.0.0.1:9000".into());
    let validator = Validator::discover(GuardConfig::new(issuer, audience)).await;
    let server = HttpServer::new(move || {
        App::new()
            .route("/", web::get().to(public))
            .service(
                web::scope("/sites")
                    .wrap(RequireScopes::new(&validator, &["sites:read"]))
                    .route("", web::get().to(list_sites)),
            )
            .service(
                web::scope("/scripts")
                    .wrap(RequireScopes::new(&validator, &["scripts:write"]))
                    .route("", web::post().to(create_script)),
            )
    })
    .bind(&bind)?;
    for address in server.addrs() {
        println!("downstream service listening on http://{address}");
    }
    server.run().await
}

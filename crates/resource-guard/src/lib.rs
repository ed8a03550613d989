//! Validate Gatepass access tokens in your own service.
//!
//! A [`Validator`] discovers the issuer's `jwks_uri` from its metadata, keeps the JWKS in
//! memory (refreshed in the background as `Cache-Control` says, and at once — rate-limited —
//! when a token names an unknown `kid`), and checks every token locally: no network on the
//! hot path. A token seen before is answered from a bounded cache until it expires.
//!
//! With the `actix-web` feature (on by default), [`actix::RequireScopes`] protects a scope
//! of routes and [`actix::VerifiedToken`] hands the claims to a handler:
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use gatepass_resource_guard::actix::{RequireScopes, VerifiedToken};
//! use gatepass_resource_guard::{GuardConfig, Validator};
//!
//! async fn sites(token: VerifiedToken) -> String {
//!     format!("hello {}", token.claims().client_id)
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let validator = Validator::discover(GuardConfig::new("http://127.0.0.1:8080", "https://api.example.com")).await;
//! HttpServer::new(move || {
//!     App::new().service(
//!         web::scope("/sites")
//!             .wrap(RequireScopes::new(&validator, &["sites:read"]))
//!             .route("", web::get().to(sites)),
//!     )
//! })
//! .bind("127.0.0.1:9000")?
//! .run()
//! .await
//! # }
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "actix-web")]
pub mod actix;
mod config;
mod error;
mod introspection;
mod jwks;
mod validator;

pub use config::GuardConfig;
pub use error::ValidationError;
pub use gatepass_core::AccessTokenClaims;
pub use introspection::IntrospectionClient;
pub use validator::Validator;

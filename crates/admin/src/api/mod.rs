//! The admin HTTP API: thin handlers. Each takes the [`Caller`](crate::access::Caller)
//! capability its route needs, parses the request, calls one command and renders its result.
//! Error answers are documented once, by [`ProblemResponses`](crate::problem::ProblemResponses).

pub mod approvals;
pub mod clients;
pub mod roles;
pub mod secrets;
pub mod service_accounts;
pub mod signing_keys;

use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::Outcome;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(clients::configure)
        .configure(secrets::configure)
        .configure(roles::configure)
        .configure(service_accounts::configure)
        .configure(approvals::configure)
        .configure(signing_keys::configure);
}

/// 201 with what was created, or 202 with the four-eyes request.
fn created<T: Serialize>(outcome: Outcome<T>) -> HttpResponse {
    match outcome {
        Outcome::Done(value) => HttpResponse::Created().json(value),
        Outcome::Pending(approval) => HttpResponse::Accepted().json(approval),
    }
}

/// 200 with what was changed, or 202 with the four-eyes request.
fn changed<T: Serialize>(outcome: Outcome<T>) -> HttpResponse {
    match outcome {
        Outcome::Done(value) => HttpResponse::Ok().json(value),
        Outcome::Pending(approval) => HttpResponse::Accepted().json(approval),
    }
}

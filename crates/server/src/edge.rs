//! The request edge: what every request passes before its route, on every listener, as one
//! middleware (one layer costs one boxed future per request; five cost five). In order:
//!
//! 1. a request id: the caller's `X-Request-Id` if plain, else a new one; on every log line
//!    about the request ([`crate::logging`]) and echoed on the answer;
//! 2. the latency histogram, by route pattern ([`crate::metrics`]);
//! 3. the per-address connection cap: a connection over it is answered 503 and closed
//!    ([`crate::connections`]);
//! 4. the head limits: a URL (414) or headers (431) over `server.max_url_bytes` /
//!    `server.max_header_bytes` are refused before any handler sees them;
//! 5. the body deadline (`server.body_timeout_ms`): a body still arriving when it passes is
//!    answered 408 and the connection closed ([`crate::deadlines`]).

use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use gatepass_core::RequestId;

use crate::config::HeadLimits;
use crate::metrics::Metrics;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The edge's settings, as app data.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub head: HeadLimits,
    pub body_deadline: Duration,
}

/// The middleware (`from_fn(edge)`).
pub async fn edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::from_header)
        .unwrap_or_else(RequestId::generate);
    req.extensions_mut().insert(id.clone());
    let method = req.method().clone();
    let settings = req.app_data::<web::Data<Edge>>().map(|edge| *edge.get_ref());
    crate::logging::CURRENT_REQUEST
        .scope(id.clone(), async move {
            let refusal =
                crate::connections::refusal(&req).or_else(|| settings.and_then(|edge| head_refusal(&req, edge.head)));
            let mut res = if let Some(refusal) = refusal {
                req.into_response(refusal).map_into_right_body()
            } else {
                let armed = settings.and_then(|edge| crate::deadlines::arm(&mut req, edge.body_deadline));
                let res = next.call(req).await?;
                match armed {
                    Some(armed) if armed.passed() => {
                        let timeout = armed.answer(res.request());
                        res.into_response(timeout).map_into_right_body()
                    }
                    _ => res.map_into_left_body(),
                }
            };
            if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
                metrics.observe(&method, res.request(), res.status(), started);
            }
            if let Ok(value) = HeaderValue::from_str(id.as_str()) {
                res.headers_mut().insert(REQUEST_ID, value);
            }
            // The path only: a query string could carry a credential.
            log::debug!(
                "request method={method} path={} status={} micros={}",
                res.request().path(),
                res.status().as_u16(),
                started.elapsed().as_micros()
            );
            Ok(res)
        })
        .await
}

/// The answer for a request whose URL (414) or headers (431) are larger than `limits`.
fn head_refusal(req: &ServiceRequest, limits: HeadLimits) -> Option<HttpResponse> {
    let url = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let (status, why) = if url > limits.max_url_bytes {
        (StatusCode::URI_TOO_LONG, "the URL is too long")
    } else if headers > limits.max_header_bytes {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request headers are too large",
        )
    } else {
        return None;
    };
    Some(HttpResponse::build(status).json(serde_json::json!({"error": "invalid_request", "error_description": why})))
}

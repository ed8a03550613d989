//! A total deadline for reading a request body (`server.body_timeout_ms`).
//!
//! `server.request_timeout_ms` covers only the request head: without this, a connection
//! that sends a head with `Content-Length: 60000` and then a byte every few seconds holds its
//! slot forever. The middleware wraps the body stream with a deadline counted from when the
//! head was read; when it passes, reading the body fails, and whatever the handler answered is
//! replaced by 408 with `Connection: close`. The timer is armed only when the body is not
//! already there (a token request's body usually arrives with its head, so the hot path sets
//! no timer). Real (I/O) time, not the application `Clock`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use futures_core::Stream;

/// The body deadline, as app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyDeadline(pub Duration);

/// A body stream that fails once its deadline has passed.
struct Deadlined {
    inner: Payload,
    /// When the body must have arrived.
    until: tokio::time::Instant,
    /// Armed the first time the body is not ready.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(next) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(next);
        }
        let until = self.until;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
        if timer.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "request body deadline passed",
            )))));
        }
        Poll::Pending
    }
}

/// Gives the request body a total deadline; a body still arriving when it passes gets 408
/// and the connection is closed.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(deadline) = req.app_data::<web::Data<BodyDeadline>>().map(|d| d.0) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    // No body announced (GET, or `Content-Length: 0`): nothing to time.
    let headers = req.headers();
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if !chunked && length.unwrap_or(0) == 0 {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let expired = Arc::new(AtomicBool::new(false));
    let stream = Deadlined {
        inner: req.take_payload(),
        until: tokio::time::Instant::now() + deadline,
        timer: None,
        expired: Arc::clone(&expired),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(stream),
    });
    let res = next.call(req).await?;
    if !expired.load(Ordering::Relaxed) {
        return Ok(res.map_into_left_body());
    }
    log::info!(
        "request body not received within deadline ms={} path={}",
        deadline.as_millis(),
        res.request().path()
    );
    // The admin API answers with its problem documents; everything else the OAuth way.
    let mut timeout = if res.request().path().starts_with("/admin/") {
        actix_web::ResponseError::error_response(&gatepass_admin::problem::AdminError::BodyTimedOut)
    } else {
        HttpResponse::build(StatusCode::REQUEST_TIMEOUT).json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "the request body did not arrive in time",
        }))
    };
    timeout
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    timeout.head_mut().set_connection_type(ConnectionType::Close);
    Ok(res.into_response(timeout).map_into_right_body())
}

//! A total deadline for reading a request body (`server.body_timeout_ms`).
//!
//! `server.request_timeout_ms` covers only the request head: without this, a connection
//! that sends a head with `Content-Length: 60000` and then a byte every few seconds holds its
//! slot forever. The request edge ([`crate::edge`]) wraps the body stream with a deadline
//! counted from when the head was read; when it passes, reading the body fails, and whatever
//! the handler answered is replaced by 408 with `Connection: close`. The timer is armed only when the body is still
//! not there on the second look: actix-web polls the handler once before it hands over the
//! body that arrived with the head (every token request's), so the first look asks to be
//! polled again instead of arming a timer, and the hot path sets none. Real (I/O) time, not
//! the application `Clock`.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use futures_core::Stream;

/// A body stream that fails once its deadline has passed.
struct Deadlined {
    inner: Payload,
    /// When the body must have arrived.
    until: tokio::time::Instant,
    /// Whether the body was found missing once already (the next miss arms the timer).
    missed: bool,
    /// Armed the second time the body is not ready.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(next) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(next);
        }
        if !self.missed {
            // The body that came with the head is handed over right after this first poll:
            // look again then (the wake is cheap) before paying for a timer.
            self.missed = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
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

/// A request body's deadline, armed by [`arm`].
pub struct Armed {
    expired: Arc<AtomicBool>,
    deadline: Duration,
}

/// Gives the request body of `req` a total deadline counted from now, if it announces one
/// (`Content-Length` above 0, or chunked). Once the deadline passed while the body was read,
/// [`Armed::passed`] is true and [`Armed::answer`] replaces the handler's answer.
pub fn arm(req: &mut ServiceRequest, deadline: Duration) -> Option<Armed> {
    // No body announced (GET, or `Content-Length: 0`): nothing to time.
    let headers = req.headers();
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if !chunked && length.unwrap_or(0) == 0 {
        return None;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let stream = Deadlined {
        inner: req.take_payload(),
        until: tokio::time::Instant::now() + deadline,
        missed: false,
        timer: None,
        expired: Arc::clone(&expired),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(stream),
    });
    Some(Armed { expired, deadline })
}

impl Armed {
    /// Whether the deadline passed while the body was read.
    pub fn passed(&self) -> bool {
        self.expired.load(Ordering::Relaxed)
    }

    /// The answer for a request whose body missed its deadline: 408, and the connection closed.
    pub fn answer(&self, request: &HttpRequest) -> HttpResponse {
        log::info!(
            "request body not received within deadline ms={} path={}",
            self.deadline.as_millis(),
            request.path()
        );
        // The admin API answers with its problem documents; everything else the OAuth way.
        let mut timeout = if request.path().starts_with("/admin/") {
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
        timeout
    }
}

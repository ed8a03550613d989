//! The errors of the token endpoint (RFC 6749 §5.2, RFC 8707 §2) and their HTTP form.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use gatepass_store::Fault;
use serde::Serialize;

/// Every answer the token endpoint gives that is not a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Malformed request: missing or repeated parameter, wrong content type, both
    /// authentication methods at once, a malformed Basic header.
    InvalidRequest(&'static str),
    /// Client authentication failed; one answer for every reason.
    InvalidClient {
        /// Whether the client tried HTTP Basic (then a challenge is sent).
        basic: bool,
    },
    /// The client may not use this grant.
    UnauthorizedClient,
    /// A `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
    /// A requested scope is not allowed.
    InvalidScope,
    /// The requested audience/resource is not allowed.
    InvalidTarget,
    /// A fault of ours (database, keys): try again later.
    TemporarilyUnavailable,
    /// A bug of ours (database work panicked): 500, not an outage.
    ServerError,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// Not a POST.
    MethodNotAllowed,
    /// Too many failed client authentications from this client id or address; retry after
    /// this many seconds. Valid credentials are never answered this.
    TooManyFailures {
        /// Seconds until the window ends.
        retry_after: u64,
    },
    /// The authenticated client may not call this endpoint (introspection without
    /// `gatepass:introspect`).
    NotPermitted,
    /// Revocation of a token issued to another client (RFC 7009 §2.1: refused, and the
    /// client told so).
    NotTokenOwner,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl TokenError {
    /// The answer to a fault: 503 `temporarily_unavailable` for an outage, 500 for a bug.
    pub fn fault(fault: &Fault) -> Self {
        match fault {
            Fault::Outage(_) => Self::TemporarilyUnavailable,
            Fault::Bug(_) => Self::ServerError,
        }
    }

    /// The RFC error code.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest(_) | Self::PayloadTooLarge | Self::MethodNotAllowed => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::UnauthorizedClient | Self::NotPermitted | Self::NotTokenOwner => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::TemporarilyUnavailable | Self::TooManyFailures { .. } => "temporarily_unavailable",
            Self::ServerError => "server_error",
        }
    }

    fn status_and_description(self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidRequest(why) => (StatusCode::BAD_REQUEST, why),
            Self::InvalidClient { .. } => (StatusCode::UNAUTHORIZED, "client authentication failed"),
            Self::UnauthorizedClient => (StatusCode::BAD_REQUEST, "the client may not use this grant type"),
            Self::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "only grant_type=client_credentials is supported",
            ),
            Self::InvalidScope => (
                StatusCode::BAD_REQUEST,
                "a requested scope is not allowed for this client",
            ),
            Self::InvalidTarget => (
                StatusCode::BAD_REQUEST,
                "the requested audience is not allowed for this client",
            ),
            Self::TemporarilyUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the server can not issue tokens right now; retry later",
            ),
            Self::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "use POST"),
            Self::TooManyFailures { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed client authentications; retry after Retry-After seconds",
            ),
            Self::NotPermitted => (StatusCode::FORBIDDEN, "this client may not use this endpoint"),
            Self::NotTokenOwner => (StatusCode::BAD_REQUEST, "the token was not issued to this client"),
        }
    }

    /// The HTTP answer: JSON body, `no-store`, and the headers the RFCs ask for.
    pub fn to_response(self) -> HttpResponse {
        let (status, description) = self.status_and_description();
        let mut response = HttpResponse::build(status);
        response
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
        match self {
            Self::InvalidClient { basic: true } => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"gatepass\""),
                ));
            }
            Self::TemporarilyUnavailable => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            Self::MethodNotAllowed => {
                response.insert_header((header::ALLOW, HeaderValue::from_static("POST")));
            }
            Self::TooManyFailures { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.max(1)));
            }
            Self::InvalidClient { basic: false }
            | Self::InvalidRequest(_)
            | Self::UnauthorizedClient
            | Self::UnsupportedGrantType
            | Self::InvalidScope
            | Self::InvalidTarget
            | Self::PayloadTooLarge
            | Self::ServerError
            | Self::NotPermitted
            | Self::NotTokenOwner => {}
        }
        response.json(Body {
            error: self.code(),
            error_description: description,
        })
    }
}

#[cfg(test)]
mod tests {
    use gatepass_store::StoreError;

    use super::*;

    #[test]
    fn a_panic_in_database_work_answers_500_and_an_outage_503() {
        for bug in [
            StoreError::Panicked("boom".into()),
            StoreError::Corrupt("unreadable".into()),
        ] {
            let bug = TokenError::fault(&Fault::from(bug));
            assert_eq!(bug, TokenError::ServerError);
            assert_eq!(bug.to_response().status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
        for outage in [StoreError::Busy, StoreError::Unavailable("down".into())] {
            let error = TokenError::fault(&Fault::from(outage));
            assert_eq!(error, TokenError::TemporarilyUnavailable);
            assert_eq!(error.to_response().status(), StatusCode::SERVICE_UNAVAILABLE);
        }
    }
}

//! Admin API errors as RFC 9457 `application/problem+json`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use gatepass_store::StoreError;
use serde::Serialize;
use thiserror::Error;

/// Everything an admin request can fail with; one exhaustive mapping to HTTP below.
#[derive(Debug, Error)]
pub enum AdminError {
    /// No bearer token at all (RFC 6750 §3.1: the challenge then names no error).
    #[error("a bearer token is required")]
    NoToken,
    /// A bearer token that does not validate.
    #[error("a valid bearer token is required")]
    Unauthenticated,
    /// The token lacks the scope the operation needs.
    #[error("this operation needs the {0} scope")]
    MissingScope(&'static str),
    /// The caller asked to grant a scope it does not hold itself.
    #[error("you can not grant {0}: you do not hold it")]
    Escalation(String),
    /// The requester of a four-eyes request tried to decide it.
    #[error("you can not decide your own request: a different admin must")]
    OwnRequest,
    /// A field failed validation.
    #[error("{field}: {message}")]
    InvalidField {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The body is not the JSON the route expects (wrong type, unknown field).
    #[error("{message}")]
    BadBody {
        /// Where in the body, e.g. `scopes` or `labels.team` (`.` for the whole body).
        field: String,
        /// What serde said.
        message: String,
    },
    /// No such resource.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A fault of ours.
    #[error("storage unavailable")]
    Store(#[from] StoreError),
}

/// An RFC 9457 problem document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    kind: &'a str,
    /// A short summary.
    title: &'a str,
    /// The HTTP status.
    status: u16,
    /// What happened, for a person.
    detail: String,
    /// The offending field, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NoToken | Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::MissingScope(_) | Self::Escalation(_) | Self::OwnRequest => StatusCode::FORBIDDEN,
            Self::InvalidField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadBody { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            Self::Store(StoreError::Panicked(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (kind, title, field) = match self {
            Self::NoToken | Self::Unauthenticated => ("about:blank", "Unauthorized", None),
            Self::MissingScope(_) => (
                "https://gatepass.dev/problems/insufficient-scope",
                "Insufficient scope",
                None,
            ),
            Self::Escalation(_) => (
                "https://gatepass.dev/problems/escalation",
                "Privilege escalation refused",
                None,
            ),
            Self::OwnRequest => (
                "https://gatepass.dev/problems/four-eyes",
                "A second admin must decide",
                None,
            ),
            Self::InvalidField { field, .. } => (
                "https://gatepass.dev/problems/invalid-field",
                "Invalid field",
                Some(*field),
            ),
            Self::BadBody { field, .. } => (
                "https://gatepass.dev/problems/bad-body",
                "Malformed request body",
                Some(field.as_str()),
            ),
            Self::NotFound(_) => ("about:blank", "Not Found", None),
            Self::Conflict(_) | Self::Store(StoreError::Conflict(_)) => ("about:blank", "Conflict", None),
            Self::Store(StoreError::Panicked(_)) => ("about:blank", "Internal Server Error", None),
            Self::Store(_) => ("about:blank", "Service Unavailable", None),
        };
        let detail = match self {
            Self::Store(StoreError::Conflict(_)) => {
                "the change conflicts with an existing resource (duplicate name?)".to_owned()
            }
            Self::Store(error @ StoreError::Panicked(_)) => {
                log::error!("admin storage bug: {error}");
                "internal error".to_owned()
            }
            Self::Store(error) => {
                log::error!("admin storage fault: {error}");
                "storage unavailable; retry later".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(status);
        match self {
            Self::NoToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"gatepass-admin\""),
                ));
            }
            Self::Unauthenticated => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"gatepass-admin\", error=\"invalid_token\""),
                ));
            }
            Self::MissingScope(scope) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"gatepass-admin\", error=\"insufficient_scope\", scope=\"{scope}\""),
                ));
            }
            Self::Store(StoreError::Conflict(_) | StoreError::Panicked(_))
            | Self::Escalation(_)
            | Self::OwnRequest
            | Self::InvalidField { .. }
            | Self::BadBody { .. }
            | Self::NotFound(_)
            | Self::Conflict(_) => {}
            Self::Store(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
        }
        let body = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail,
            field,
        };
        response
            .content_type("application/problem+json")
            .body(serde_json::to_string(&body).unwrap_or_default())
    }
}

/// `field: message`.
pub fn invalid(field: &'static str, message: impl Into<String>) -> AdminError {
    AdminError::InvalidField {
        field,
        message: message.into(),
    }
}

/// A JSON body whose errors name the offending field (RFC 9457 problem with `field`).
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Body<T> {
    type Error = AdminError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let bytes = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| AdminError::BadBody {
                field: ".".into(),
                message: e.to_string(),
            })?;
            let bytes = if bytes.is_empty() {
                actix_web::web::Bytes::from_static(b"{}")
            } else {
                bytes
            };
            let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
            serde_path_to_error::deserialize(&mut deserializer)
                .map(Body)
                .map_err(|error| {
                    let field = error.path().to_string();
                    AdminError::BadBody {
                        field,
                        message: error.inner().to_string(),
                    }
                })
        })
    }
}

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
    /// The target of a write can reach a scope the caller does not hold.
    #[error("you can not act on this: it can reach {0}, which you do not hold")]
    Outranked(String),
    /// The requester of a four-eyes request (or its service account) tried to decide it.
    #[error("you can not decide your own request: a different admin must (another client of another service account)")]
    OwnRequest,
    /// The change would leave no client standing with `gatepass:admin`.
    #[error("this would leave no active client holding gatepass:admin; create another admin first")]
    LastAdmin,
    /// More than one `Authorization` header.
    #[error("send one Authorization header")]
    MalformedAuthorization,
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
    /// The request body did not arrive within `server.body_timeout_ms`.
    #[error("the request body did not arrive in time")]
    BodyTimedOut,
    /// The change conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// A fault of ours in storage: 503, retry later (500 for a bug: corrupt data, a panic).
    #[error("storage unavailable")]
    Store(#[from] StoreError),
    /// A bug of ours (randomness, serialization, unreadable stored data): 500, logged.
    #[error("internal error: {0}")]
    Internal(String),
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

/// How one error is answered.
struct Answer<'a> {
    status: StatusCode,
    kind: &'a str,
    title: &'a str,
    field: Option<&'a str>,
    detail: String,
    /// The `WWW-Authenticate` challenge.
    challenge: Option<String>,
    /// A fault of ours the caller may retry (`Retry-After`).
    retry: bool,
}

impl AdminError {
    /// The one exhaustive mapping of admin errors to HTTP.
    fn answer(&self) -> Answer<'_> {
        let plain = |status: StatusCode, kind: &'static str, title: &'static str| Answer {
            status,
            kind,
            title,
            field: None,
            detail: self.to_string(),
            challenge: None,
            retry: false,
        };
        match self {
            Self::NoToken => Answer {
                challenge: Some("Bearer realm=\"gatepass-admin\"".into()),
                ..plain(StatusCode::UNAUTHORIZED, "about:blank", "Unauthorized")
            },
            Self::Unauthenticated => Answer {
                challenge: Some("Bearer realm=\"gatepass-admin\", error=\"invalid_token\"".into()),
                ..plain(StatusCode::UNAUTHORIZED, "about:blank", "Unauthorized")
            },
            Self::MalformedAuthorization => Answer {
                challenge: Some("Bearer realm=\"gatepass-admin\", error=\"invalid_request\"".into()),
                ..plain(StatusCode::BAD_REQUEST, "about:blank", "Bad Request")
            },
            Self::MissingScope(scope) => Answer {
                challenge: Some(format!(
                    "Bearer realm=\"gatepass-admin\", error=\"insufficient_scope\", scope=\"{scope}\""
                )),
                ..plain(
                    StatusCode::FORBIDDEN,
                    "https://gatepass.dev/problems/insufficient-scope",
                    "Insufficient scope",
                )
            },
            Self::Escalation(_) => plain(
                StatusCode::FORBIDDEN,
                "https://gatepass.dev/problems/escalation",
                "Privilege escalation refused",
            ),
            Self::Outranked(_) => plain(
                StatusCode::FORBIDDEN,
                "https://gatepass.dev/problems/outranked",
                "The target holds more than you",
            ),
            Self::OwnRequest => plain(
                StatusCode::FORBIDDEN,
                "https://gatepass.dev/problems/four-eyes",
                "A second admin must decide",
            ),
            Self::LastAdmin => plain(
                StatusCode::CONFLICT,
                "https://gatepass.dev/problems/last-admin",
                "The last admin stays",
            ),
            Self::InvalidField { field, .. } => Answer {
                field: Some(field),
                ..plain(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "https://gatepass.dev/problems/invalid-field",
                    "Invalid field",
                )
            },
            Self::BadBody { field, .. } => Answer {
                field: Some(field.as_str()),
                ..plain(
                    StatusCode::BAD_REQUEST,
                    "https://gatepass.dev/problems/bad-body",
                    "Malformed request body",
                )
            },
            Self::NotFound(_) => plain(StatusCode::NOT_FOUND, "about:blank", "Not Found"),
            Self::BodyTimedOut => plain(StatusCode::REQUEST_TIMEOUT, "about:blank", "Request Timeout"),
            Self::Conflict(_) => plain(StatusCode::CONFLICT, "about:blank", "Conflict"),
            Self::Store(StoreError::Conflict(_)) => Answer {
                detail: "the change conflicts with an existing resource (duplicate name?)".to_owned(),
                ..plain(StatusCode::CONFLICT, "about:blank", "Conflict")
            },
            Self::Store(
                StoreError::UnsupportedUrl(_)
                | StoreError::Unavailable(_)
                | StoreError::Busy
                | StoreError::Query(_)
                | StoreError::Migration(_),
            ) => Answer {
                detail: "storage unavailable; retry later".to_owned(),
                retry: true,
                ..plain(StatusCode::SERVICE_UNAVAILABLE, "about:blank", "Service Unavailable")
            },
            Self::Internal(_) | Self::Store(StoreError::Panicked(_) | StoreError::Corrupt(_)) => Answer {
                detail: "an internal error occurred; it has been logged".to_owned(),
                ..plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "about:blank",
                    "Internal Server Error",
                )
            },
        }
    }

    /// What happened, for a person: the problem document's `detail`.
    pub fn detail(&self) -> String {
        self.answer().detail
    }

    /// The offending field of a validation problem: the problem document's `field`.
    pub fn field(&self) -> Option<&str> {
        self.answer().field
    }

    /// A short machine name of a refusal, for the audit log's `reason`.
    pub fn reason(&self) -> String {
        match self {
            Self::MissingScope(scope) => format!("missing_scope {scope}"),
            Self::Escalation(scope) => format!("escalation {scope}"),
            Self::Outranked(scope) => format!("outranked {scope}"),
            Self::OwnRequest => "own_request".into(),
            Self::LastAdmin => "last_admin".into(),
            other => other.to_string(),
        }
    }

    /// Whether this is an authorization refusal the audit log records.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::MissingScope(_) | Self::Escalation(_) | Self::Outranked(_) | Self::OwnRequest | Self::LastAdmin
        )
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.answer().status
    }

    fn error_response(&self) -> HttpResponse {
        let answer = self.answer();
        let mut response = HttpResponse::build(answer.status);
        if let Some(challenge) = answer.challenge {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        if answer.retry {
            // The cause goes to the log only.
            log::error!("admin storage fault: {self:?}");
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        match self {
            Self::Internal(cause) => log::error!("admin internal error: {cause}"),
            Self::Store(error @ (StoreError::Panicked(_) | StoreError::Corrupt(_))) => {
                log::error!("admin storage bug: {error}");
            }
            _ => {}
        }
        let body = Problem {
            kind: answer.kind,
            title: answer.title,
            status: answer.status.as_u16(),
            detail: answer.detail,
            field: answer.field,
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
            // serde reads a struct from an array too (`[null, null]`): only an object is a body.
            if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(AdminError::BadBody {
                    field: ".".into(),
                    message: "the body must be a JSON object".into(),
                });
            }
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

/// Documents the admin API's error answers once, for every `/admin/v1` operation: each
/// 4xx/5xx answer is `application/problem+json` with the [`Problem`] schema, and every
/// operation lists the answers any request can get (401 without a standing token, 403
/// without the scope, 500 for a bug, 503 while storage is down). It also says what [`Body`]
/// does with an empty body (reads it as `{}`): the body is optional where `{}` is a valid one.
pub struct ProblemResponses;

/// Whether `{}` is a valid body: the request body's schema requires no property.
fn empty_body_valid(body: &utoipa::openapi::request_body::RequestBody, openapi: &utoipa::openapi::OpenApi) -> bool {
    use utoipa::openapi::{RefOr, schema::Schema};
    let Some(RefOr::T(content)) = body.content.get("application/json") else {
        return false;
    };
    let Some(RefOr::Ref(reference)) = content.schema.as_ref() else {
        return false;
    };
    let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
    matches!(
        openapi.components.as_ref().and_then(|c| c.schemas.get(name)),
        Some(RefOr::T(Schema::Object(object))) if object.required.is_empty()
    )
}

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
        let common = [
            (
                "400",
                "Malformed request: a repeated Authorization header, or a query or body the route cannot read",
            ),
            (
                "401",
                "No bearer token, or one that is invalid, expired, revoked, or whose secret, client or service account no longer stands",
            ),
            ("403", "The token lacks the scope this operation needs"),
            ("404", "No such route (and, where the path names one, no such resource)"),
            ("500", "A bug of ours; logged"),
            ("503", "Storage unavailable; retry after Retry-After"),
        ];
        let snapshot = openapi.clone();
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/admin/v1") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                if let Some(RefOr::T(body)) = &mut operation.request_body {
                    body.required = Some(if empty_body_valid(body, &snapshot) {
                        utoipa::openapi::Required::False
                    } else {
                        utoipa::openapi::Required::True
                    });
                }
                let responses = &mut operation.responses.responses;
                if operation.request_body.is_some() {
                    responses.entry("408".to_owned()).or_insert_with(|| {
                        RefOr::T(
                            ResponseBuilder::new()
                                .description("The request body did not arrive within server.body_timeout_ms; the connection is closed")
                                .build(),
                        )
                    });
                }
                for (status, description) in common {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
                }
                for (status, response) in responses.iter_mut() {
                    if let (Some('4' | '5'), RefOr::T(response)) = (status.chars().next(), response) {
                        response.content.clear();
                        response.content.insert(
                            "application/problem+json".to_owned(),
                            RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_outages_answer_503_with_retry_after_and_bugs_500_without() {
        for outage in [StoreError::Busy, StoreError::Unavailable("down".into())] {
            let response = AdminError::Store(outage).error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(response.headers().contains_key(header::RETRY_AFTER));
        }
        for bug in [
            StoreError::Corrupt("unreadable".into()),
            StoreError::Panicked("boom".into()),
        ] {
            let response = AdminError::Store(bug).error_response();
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert!(!response.headers().contains_key(header::RETRY_AFTER));
        }
    }
}

//! Client authentication for the token, introspection and revocation endpoints: the one
//! parser of the credentials a request presents (RFC 6749 §2.3.1), their one check (one
//! keyed hash per request), and the answer to a failed one (throttle, aggregated audit).

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatepass_core::{ClientId, ClientSecret, RequestId, SecretHash};
use gatepass_store::Fault;

use crate::TokenService;
use crate::audit::Write;
use crate::credentials::{Credential, Rejection};
use crate::error::TokenError;
use crate::failures::Failure as Failed;
use crate::form::{Form, authorization_headers, read_body};
use crate::throttle::address_bucket;

/// What a request's head says that its parsers need: the content type and every
/// `Authorization` header (more than one is refused).
#[derive(Clone, Copy, Debug, Default)]
pub struct Head<'a> {
    /// The `Content-Type` header, if sent.
    pub content_type: Option<&'a [u8]>,
    /// Every `Authorization` header, in order.
    pub authorization: &'a [&'a [u8]],
}

/// The client credentials a request presents. One kind today; client assertions (RFC 7523
/// `private_key_jwt`) and federated workload tokens will be further variants, checked by
/// [`TokenService::authenticate`] beside this one.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented {
    /// A client secret: `client_secret_basic` or `client_secret_post`.
    Secret {
        /// The client id, decoded.
        client_id: String,
        /// The secret, decoded; not yet checked.
        secret: Vec<u8>,
        /// Whether they came in an `Authorization: Basic` header (a refusal then carries a
        /// `WWW-Authenticate` challenge).
        basic: bool,
    },
}

impl Presented {
    /// The client id the credentials claim.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Secret { client_id, .. } => client_id,
        }
    }

    /// Whether a refusal should carry a Basic challenge.
    pub fn basic(&self) -> bool {
        match self {
            Self::Secret { basic, .. } => *basic,
        }
    }
}

/// Why a request presents no usable credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotPresented {
    /// No authentication method at all (perhaps a `client_id` alone, which is no method:
    /// RFC 6749 §2.3.1, §3.2.1); answered `invalid_client` and counted as a failure.
    Nothing {
        /// The `client_id` of the body, if any.
        client_id: Option<String>,
    },
    /// A malformed or doubled method: `invalid_request`.
    Malformed(&'static str),
}

/// The one `Authorization` header of a request, if it sent one; several are refused
/// rather than one of them picked (RFC 6749 §3.2).
pub fn authorization<'a>(values: &[&'a [u8]]) -> Result<Option<&'a str>, &'static str> {
    match values {
        [] => Ok(None),
        [one] => std::str::from_utf8(one)
            .ok()
            .filter(|v| v.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)))
            .map(Some)
            .ok_or("malformed Authorization header"),
        [_, _, ..] => Err("send one Authorization header, not several"),
    }
}

/// The credentials of a request: its `Authorization` header (already the only one) and its
/// form's `client_id` and `client_secret`.
///
/// A `client_id` beside Basic credentials (as requests-oauthlib sends with
/// `include_client_id=True`) is no second method when it names the same client; another one
/// is refused.
pub fn presented(authorization: Option<&str>, form: &Form) -> Result<Presented, NotPresented> {
    let (body_id, body_secret) = (form.get("client_id"), form.get("client_secret"));
    match (authorization, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(NotPresented::Malformed(
            "use one client authentication method, not both",
        )),
        (Some(header), body_id, None) => match decode_basic(header) {
            None => Err(NotPresented::Malformed(
                "only the Basic authorization scheme is accepted",
            )),
            Some(Err(why)) => Err(NotPresented::Malformed(why)),
            Some(Ok((client_id, _))) if body_id.is_some_and(|id| id != client_id) => Err(NotPresented::Malformed(
                "the client_id in the body is not the client of the Basic credentials",
            )),
            Some(Ok((client_id, secret))) => Ok(Presented::Secret {
                client_id,
                secret,
                basic: true,
            }),
        },
        (None, Some(client_id), Some(secret)) => Ok(Presented::Secret {
            client_id: client_id.to_owned(),
            secret: secret.as_bytes().to_vec(),
            basic: false,
        }),
        (None, client_id, None) => Err(NotPresented::Nothing {
            client_id: client_id.map(str::to_owned),
        }),
        (None, None, Some(_)) => Err(NotPresented::Malformed("client_id and client_secret are both required")),
    }
}

/// Introspection's and revocation's request, parsed: the caller's credentials and the
/// `token` parameter.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientRequest {
    /// The caller's credentials, not yet checked.
    pub presented: Presented,
    /// The `token` parameter.
    pub token: String,
}

/// Why a request was refused before any credential was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Malformed: answered as is.
    Request(TokenError),
    /// No credentials: answered `invalid_client` and counted as a failed authentication.
    NoCredentials {
        /// The body's `client_id`, if any.
        client_id: Option<String>,
    },
}

impl From<NotPresented> for Refused {
    fn from(not: NotPresented) -> Self {
        match not {
            NotPresented::Nothing { client_id } => Self::NoCredentials { client_id },
            NotPresented::Malformed(why) => Self::Request(TokenError::InvalidRequest(why)),
        }
    }
}

impl ClientRequest {
    /// Parses an introspection or revocation request (no parameter may repeat).
    pub fn parse(head: Head<'_>, body: &[u8]) -> Result<Self, Refused> {
        let form = Form::parse(head.content_type, body, None)
            .map_err(|why| Refused::Request(TokenError::InvalidRequest(why)))?;
        let authorization =
            authorization(head.authorization).map_err(|why| Refused::Request(TokenError::InvalidRequest(why)))?;
        let presented = presented(authorization, &form)?;
        let token = form
            .get("token")
            .ok_or(Refused::Request(TokenError::InvalidRequest("token is required")))?;
        Ok(Self {
            presented,
            token: token.to_owned(),
        })
    }
}

/// Decodes `Authorization: Basic …`: base64 of `id:secret`, each form-urlencoded first
/// (RFC 6749 §2.3.1). `None` when the header is not the Basic scheme at all.
pub fn decode_basic(header: &str) -> Option<Result<(String, Vec<u8>), &'static str>> {
    let scheme = header.get(..6)?;
    if !scheme.eq_ignore_ascii_case("basic ") {
        return None;
    }
    Some(decode_basic_value(header[6..].trim()))
}

fn decode_basic_value(value: &str) -> Result<(String, Vec<u8>), &'static str> {
    let decoded = STANDARD
        .decode(value)
        .map_err(|_| "the Basic credentials are not base64")?;
    let colon = decoded
        .iter()
        .position(|&b| b == b':')
        .ok_or("the Basic credentials have no ':'")?;
    let client_id = form_decode(&decoded[..colon]);
    let client_id = String::from_utf8(client_id.into_owned()).map_err(|_| "the client id is not UTF-8")?;
    Ok((client_id, form_decode(&decoded[colon + 1..]).into_owned()))
}

/// `application/x-www-form-urlencoded` decoding of one Basic half: `+` is a space, `%XX` a byte.
pub fn form_decode(raw: &[u8]) -> Cow<'_, [u8]> {
    if raw.iter().any(|&b| b == b'%' || b == b'+') {
        let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        Cow::Owned(percent_encoding::percent_decode(&spaced).collect())
    } else {
        Cow::Borrowed(raw)
    }
}

/// Introspection's and revocation's request: the authenticated caller and the `token`
/// parameter, or the answer to give.
pub(crate) async fn token_form(
    req: &HttpRequest,
    payload: web::Payload,
    service: &TokenService,
) -> Result<(Arc<Credential>, String), HttpResponse> {
    let body = read_body(req, payload, service.settings.body_limit)
        .await
        .map_err(TokenError::to_response)?;
    let authorization = authorization_headers(req);
    let head = Head {
        content_type: req.headers().get(header::CONTENT_TYPE).map(HeaderValue::as_bytes),
        authorization: &authorization,
    };
    let parsed = match ClientRequest::parse(head, &body) {
        Ok(parsed) => parsed,
        Err(refused) => return Err(service.refused(req, refused).await.to_response()),
    };
    let now = service.clock.now().unix_timestamp();
    let caller = service
        .authenticate_caller(req, &parsed.presented, now)
        .await
        .map_err(TokenError::to_response)?;
    Ok((caller, parsed.token))
}

/// How an authentication ended when it did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The credentials are wrong; the reason is for the audit log only.
    Rejected(Rejection),
    /// A fault of ours (database): 503 for an outage, 500 for a bug.
    Fault(Fault),
}

impl TokenService {
    /// The stored credential whose keyed hash is `hash`, through the credential cache (one
    /// database read shared by concurrent misses); `Err` is a fault of ours.
    pub(crate) async fn credential(&self, hash: &SecretHash) -> Result<Option<Arc<Credential>>, Fault> {
        let db = self.db.clone();
        let key = hash.0;
        let (known, metrics) = (&self.known, &self.metrics);
        self.credentials
            .get_or_load(hash, || async move {
                metrics.credential_read();
                let record = db
                    .run_read(move |conn| gatepass_store::credentials::find_by_hash(conn, &key))
                    .await?;
                // Learned when read from the database, not on every cache hit (the hot path).
                if let Some(record) = &record {
                    known.learn(&record.client.client_id);
                }
                record.as_ref().map(Credential::from_record).transpose()
            })
            .await
    }

    /// Checks presented credentials at `now`, through the credential cache: the secret is
    /// hashed once (HMAC-SHA-256 with the pepper) and looked up by that hash.
    pub async fn authenticate(&self, presented: &Presented, now: i64) -> Result<Arc<Credential>, Failure> {
        match presented {
            Presented::Secret { client_id, secret, .. } => {
                let Some(secret) = std::str::from_utf8(secret)
                    .ok()
                    .and_then(|s| ClientSecret::parse(s).ok())
                else {
                    return Err(Failure::Rejected(Rejection::MalformedSecret));
                };
                self.metrics.secret_checked();
                let hash = self.pepper.hash(&secret);
                let credential = self
                    .credential(&hash)
                    .await
                    .map_err(Failure::Fault)?
                    .ok_or(Failure::Rejected(Rejection::UnknownSecret))?;
                credential.verify(client_id, &hash, now).map_err(Failure::Rejected)?;
                Ok(credential)
            }
        }
    }

    /// Authenticates the caller of `req`, or gives the answer to send: `invalid_client` (or
    /// 429) through [`TokenService::refuse`], 503/500 for a fault of ours.
    pub(crate) async fn authenticate_caller(
        &self,
        req: &HttpRequest,
        presented: &Presented,
        now: i64,
    ) -> Result<Arc<Credential>, TokenError> {
        match self.authenticate(presented, now).await {
            Ok(credential) => Ok(credential),
            Err(Failure::Rejected(why)) => Err(self
                .refuse(req, why, Some(presented.client_id()), presented.basic())
                .await),
            Err(Failure::Fault(cause)) => {
                log::error!("client authentication fault cause={cause}");
                Err(TokenError::fault(&cause))
            }
        }
    }

    /// The answer to a failed client authentication: `invalid_client`, or 429 once the
    /// client id or address is over its failure limit. The real reason goes to the audit log,
    /// aggregated per (client id or address, reason) and window ([`crate::failures`]).
    pub(crate) async fn refuse(
        &self,
        req: &HttpRequest,
        why: Rejection,
        client_id: Option<&str>,
        basic: bool,
    ) -> TokenError {
        let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
        let address = req.peer_addr().map(|a| a.ip());
        let by_address = address.and_then(|a| self.throttle.fail_address(a));
        // Only a client id that exists is counted by id: random ids are counted by address.
        let client = client_id
            .and_then(|id| ClientId::parse(id).ok())
            .map(|id| id.to_string());
        let real = match client {
            Some(id) if why.proves_client() || self.known.contains(&id) => Some(id),
            // Not known yet (created a moment ago elsewhere): ask the database, but only for a
            // caller whose address is still within its budget, so a flood costs no extra reads.
            Some(id) if by_address.is_none() => self.client_exists(&id).await.then_some(id),
            _ => None,
        };
        let by_client = real.as_deref().and_then(|id| self.throttle.fail_client(id));
        let throttled = by_client.into_iter().chain(by_address).max();
        let failure = Failed {
            client_id: real.as_deref(),
            address,
            reason: why.as_str(),
            throttled: throttled.is_some(),
            request_id,
        };
        let noted = self.failures.note(&failure, self.clock.now());
        if noted.opened.is_some() {
            log::info!(
                "client authentication failed reason={} client_id={} address={} throttled={} \
                 (more failures of this key in the window are counted in its audit event)",
                why.as_str(),
                real.as_deref().unwrap_or("-"),
                address.map_or_else(|| "-".to_owned(), |a| address_bucket(a).to_string()),
                throttled.is_some(),
            );
        }
        for (written, write) in noted
            .closed
            .into_iter()
            .map(|w| (w, Write::Amend))
            .chain(noted.opened.into_iter().map(|w| (w, Write::Insert)))
        {
            self.audit.queue(written.row, write, written.real);
        }
        self.metrics.authentication_failed(throttled.is_some());
        match throttled {
            Some(retry_after) => TokenError::TooManyFailures { retry_after },
            None => TokenError::InvalidClient { basic },
        }
    }

    /// The answer to a request that was refused before any credential was checked.
    pub(crate) async fn refused(&self, req: &HttpRequest, refused: Refused) -> TokenError {
        match refused {
            Refused::Request(error) => error,
            Refused::NoCredentials { client_id } => {
                self.refuse(req, Rejection::NoCredentials, client_id.as_deref(), false)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn basic_credentials_are_form_decoded_halves() {
        assert_eq!(
            decode_basic(&basic("gpc_a%3Ab:s+e%25c")),
            Some(Ok(("gpc_a:b".to_owned(), b"s e%c".to_vec())))
        );
        assert_eq!(
            decode_basic(&basic("id:sec:ret")),
            Some(Ok(("id".to_owned(), b"sec:ret".to_vec())))
        );
        assert_eq!(
            decode_basic("bAsIc aWQ6cw=="),
            Some(Ok(("id".to_owned(), b"s".to_vec())))
        );
    }

    #[test]
    fn malformed_basic_headers_are_named() {
        assert_eq!(decode_basic("Bearer x"), None);
        assert_eq!(decode_basic("Basi"), None);
        assert_eq!(
            decode_basic(&basic("no-colon")),
            Some(Err("the Basic credentials have no ':'"))
        );
        assert_eq!(
            decode_basic("Basic %%%"),
            Some(Err("the Basic credentials are not base64"))
        );
        assert_eq!(
            decode_basic(&format!("Basic {}", STANDARD.encode(b"\xff\xfe:x"))),
            Some(Err("the client id is not UTF-8"))
        );
    }

    const FORM: Option<&[u8]> = Some(b"application/x-www-form-urlencoded");

    fn form(body: &str) -> Form<'_> {
        Form::parse(FORM, body.as_bytes(), None).unwrap()
    }

    fn secret(client_id: &str, secret: &str, basic: bool) -> Presented {
        Presented::Secret {
            client_id: client_id.into(),
            secret: secret.as_bytes().to_vec(),
            basic,
        }
    }

    #[test]
    fn one_method_at_a_time() {
        let header = basic("a:b");
        let both = Err(NotPresented::Malformed(
            "use one client authentication method, not both",
        ));
        assert_eq!(presented(Some(&header), &form("client_secret=b")), both);
        assert_eq!(presented(Some(&header), &form("client_id=a&client_secret=b")), both);
        // RFC 6749 §2.3.1: the same client_id beside Basic is fine, another one is not.
        assert_eq!(
            presented(Some(&header), &form("client_id=a")),
            Ok(secret("a", "b", true))
        );
        assert_eq!(
            presented(Some(&basic("a%20b:s")), &form("client_id=a+b")),
            Ok(secret("a b", "s", true)),
            "compared decoded"
        );
        assert!(matches!(
            presented(Some(&header), &form("client_id=x")),
            Err(NotPresented::Malformed(_))
        ));
        assert!(matches!(
            presented(Some(&header), &form("client_id=")),
            Err(NotPresented::Malformed(_))
        ));
        assert_eq!(
            presented(None, &form("")),
            Err(NotPresented::Nothing { client_id: None })
        );
        assert_eq!(
            presented(None, &form("client_id=a")),
            Err(NotPresented::Nothing {
                client_id: Some("a".into())
            }),
            "a client_id alone is no method"
        );
        assert!(matches!(
            presented(None, &form("client_secret=b")),
            Err(NotPresented::Malformed(_))
        ));
        assert!(matches!(
            presented(Some("Digest x"), &form("")),
            Err(NotPresented::Malformed(_))
        ));
        assert_eq!(
            presented(None, &form("client_id=a&client_secret=b")),
            Ok(secret("a", "b", false))
        );
        // Empty values are presented (and then fail authentication), not refused as malformed.
        assert_eq!(
            presented(None, &form("client_id=&client_secret=")),
            Ok(secret("", "", false))
        );
        assert_eq!(presented(Some(&basic(":")), &form("")), Ok(secret("", "", true)));
    }

    #[test]
    fn one_authorization_header_of_visible_ascii() {
        assert_eq!(authorization(&[]), Ok(None));
        assert_eq!(authorization(&[b"Basic x"]), Ok(Some("Basic x")));
        assert!(authorization(&[b"Basic x", b"Basic x"]).is_err());
        assert!(authorization(&[b"Basic \xc3\xa9"]).is_err());
        assert!(authorization(&[b"Basic x\n"]).is_err());
    }

    #[test]
    fn introspection_and_revocation_requests_parse_with_the_same_rules() {
        let head = |authorization| Head {
            content_type: FORM,
            authorization,
        };
        let header = basic("a:b");
        let headers = [header.as_bytes()];
        assert_eq!(
            ClientRequest::parse(head(&headers), b"token=t"),
            Ok(ClientRequest {
                presented: secret("a", "b", true),
                token: "t".into()
            })
        );
        assert_eq!(
            ClientRequest::parse(head(&[]), b"token=t&client_id=a"),
            Err(Refused::NoCredentials {
                client_id: Some("a".into())
            })
        );
        for (authorization, body) in [
            (&headers[..], &b"client_id=a"[..]),
            (&headers, b"token=t&token=t"),
            (&[header.as_bytes(), header.as_bytes()], b"token=t"),
            (&[b"Basic %%%"], b"token=t"),
            (&headers, b"token=t&client_id=z"),
        ] {
            assert!(
                matches!(
                    ClientRequest::parse(head(authorization), body),
                    Err(Refused::Request(TokenError::InvalidRequest(_)))
                ),
                "{body:?}"
            );
        }
        let json = Head {
            content_type: Some(b"application/json"),
            authorization: &headers,
        };
        assert!(ClientRequest::parse(json, b"token=t").is_err());
    }
}

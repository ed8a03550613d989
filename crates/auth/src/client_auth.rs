//! Client authentication outside the grant flow (introspection, revocation, rate limits):
//! the credentials a request presents (RFC 6749 §2.3.1) and what they prove.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatepass_core::{ClientSecret, SecretHash};

use crate::TokenService;
use crate::credentials::{Credential, Rejection};

/// Credentials as presented: `client_secret_basic` or `client_secret_post`.
#[derive(Debug, PartialEq, Eq)]
pub struct Presented {
    /// The client id, decoded.
    pub client_id: String,
    /// The secret, decoded; not yet checked.
    pub secret: Vec<u8>,
    /// Whether they came in an `Authorization: Basic` header.
    pub basic: bool,
}

/// Why a request presents no usable credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotPresented {
    /// Neither a Basic header nor body credentials.
    Nothing,
    /// Basic and body credentials at once.
    Both,
    /// An `Authorization` header that is not a well-formed Basic one, or body credentials
    /// with only one half.
    Malformed(&'static str),
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

/// The credentials of a request from its `Authorization` header and its form's
/// `client_id` and `client_secret` (each given at most once; the form parser refuses repeats).
///
/// A `client_id` alone is no authentication method (RFC 6749 §2.3.1, §3.2.1): beside Basic
/// credentials it is accepted when it names the same client and refused when it does not.
pub fn presented(
    authorization: Option<&str>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Result<Presented, NotPresented> {
    match (authorization, client_id, client_secret) {
        (Some(_), _, Some(_)) => Err(NotPresented::Both),
        (Some(header), body_id, None) => match decode_basic(header) {
            None => Err(NotPresented::Malformed(
                "only the Basic authorization scheme is accepted",
            )),
            Some(Err(why)) => Err(NotPresented::Malformed(why)),
            Some(Ok((client_id, _))) if body_id.is_some_and(|id| id != client_id) => Err(NotPresented::Malformed(
                "the client_id in the body is not the client of the Basic credentials",
            )),
            Some(Ok((client_id, secret))) => Ok(Presented {
                client_id,
                secret,
                basic: true,
            }),
        },
        (None, Some(client_id), Some(secret)) => Ok(Presented {
            client_id: client_id.to_owned(),
            secret: secret.as_bytes().to_vec(),
            basic: false,
        }),
        (None, None, None) => Err(NotPresented::Nothing),
        (None, _, _) => Err(NotPresented::Malformed("client_id and client_secret are both required")),
    }
}

/// How an authentication ended when it did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The credentials are wrong; the reason is for the audit log only.
    Rejected(Rejection),
    /// A fault of ours (database): answer 503.
    Fault(String),
}

impl TokenService {
    /// The stored credential whose keyed hash is `hash`, through the credential cache (one
    /// database read shared by concurrent misses); `Err` is a fault of ours.
    pub(crate) async fn credential(&self, hash: &SecretHash) -> Result<Option<Arc<Credential>>, String> {
        let db = self.db.clone();
        let key = hash.0;
        let known = &self.known;
        self.credentials
            .get_or_load(hash, || async move {
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

    /// Checks presented credentials at `now`, through the credential cache.
    pub async fn authenticate(&self, presented: &Presented, now: i64) -> Result<Arc<Credential>, Failure> {
        let Some(secret) = std::str::from_utf8(&presented.secret)
            .ok()
            .and_then(|s| ClientSecret::parse(s).ok())
        else {
            return Err(Failure::Rejected(Rejection::MalformedSecret));
        };
        let hash = self.pepper.hash(&secret);
        let credential = self
            .credential(&hash)
            .await
            .map_err(Failure::Fault)?
            .ok_or(Failure::Rejected(Rejection::UnknownSecret))?;
        credential
            .verify(&presented.client_id, &hash, now)
            .map_err(Failure::Rejected)?;
        Ok(credential)
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

    #[test]
    fn one_method_at_a_time() {
        let header = basic("a:b");
        assert_eq!(presented(Some(&header), None, Some("b")), Err(NotPresented::Both));
        assert_eq!(presented(Some(&header), Some("a"), Some("b")), Err(NotPresented::Both));
        // RFC 6749 §2.3.1: the same client_id beside Basic is fine, another one is not.
        assert_eq!(
            presented(Some(&header), Some("a"), None),
            Ok(Presented {
                client_id: "a".into(),
                secret: b"b".to_vec(),
                basic: true
            })
        );
        assert!(matches!(
            presented(Some(&header), Some("x"), None),
            Err(NotPresented::Malformed(_))
        ));
        assert_eq!(presented(None, None, None), Err(NotPresented::Nothing));
        assert!(matches!(
            presented(None, Some("a"), None),
            Err(NotPresented::Malformed(_))
        ));
        assert!(matches!(
            presented(Some("Digest x"), None, None),
            Err(NotPresented::Malformed(_))
        ));
        assert_eq!(
            presented(None, Some("a"), Some("b")),
            Ok(Presented {
                client_id: "a".into(),
                secret: b"b".to_vec(),
                basic: false
            })
        );
    }
}

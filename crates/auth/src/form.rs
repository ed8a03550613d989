//! The `application/x-www-form-urlencoded` bodies of the token, introspection and revocation
//! endpoints: read with a size limit, parsed by one parser, a repeated parameter refused
//! (RFC 6749 §3.2).

use std::borrow::Cow;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, web};

use crate::error::TokenError;

/// A parsed form body: its parameters in order, each name at most once (apart from the one
/// name the caller allows to repeat).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Form<'a> {
    /// Borrowed from the body unless decoding changed them.
    pairs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Form<'a> {
    /// Parses `body`; a repeated parameter other than `repeatable` is refused, as is a body
    /// whose `Content-Type` is not a form.
    pub fn parse(content_type: Option<&[u8]>, body: &'a [u8], repeatable: Option<&str>) -> Result<Self, &'static str> {
        if !is_form(content_type) {
            return Err("the body must be application/x-www-form-urlencoded");
        }
        let pairs: Vec<(Cow<'a, str>, Cow<'a, str>)> = form_urlencoded::parse(body).collect();
        let mut names: Vec<&str> = pairs
            .iter()
            .map(|(k, _)| k.as_ref())
            .filter(|k| Some(*k) != repeatable)
            .collect();
        // Sorted, so a body of many parameters costs n log n, not n².
        names.sort_unstable();
        if names.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err("a parameter is repeated");
        }
        Ok(Self { pairs })
    }

    /// The value of `key` (the first one, for the repeatable name: use [`Form::all`]).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_ref())
    }

    /// Every value of `key`, in order.
    pub fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }
}

/// Every `Authorization` header of `req`, in order.
pub(crate) fn authorization_headers(req: &HttpRequest) -> Vec<&[u8]> {
    req.headers()
        .get_all(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
        .collect()
}

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, TokenError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(TokenError::PayloadTooLarge);
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(TokenError::InvalidRequest("the request body could not be read")),
        Err(_) => Err(TokenError::PayloadTooLarge),
    }
}

fn is_form(content_type: Option<&[u8]>) -> bool {
    content_type
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&[u8]> = Some(b"application/x-www-form-urlencoded");

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Form::parse(FORM, b"grant_type=client_credentials&scope=a", None).is_ok());
        assert!(
            Form::parse(
                FORM,
                b"grant_type=client_credentials&grant_type=client_credentials",
                None
            )
            .is_err()
        );
        assert!(Form::parse(FORM, b"scope=a&scope=b", None).is_err());
        assert!(
            Form::parse(FORM, b"resource=a&resource=b", None).is_err(),
            "only the token endpoint takes several"
        );
        // Percent-encoding does not hide a repeat.
        assert!(Form::parse(FORM, b"scope=a&sc%6Fpe=b", None).is_err());
    }

    #[test]
    fn the_repeatable_parameter_keeps_its_values_in_order() {
        let form = Form::parse(FORM, b"resource=a&grant_type=x&resource=b", Some("resource")).unwrap();
        assert_eq!(form.all("resource").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(form.get("grant_type"), Some("x"));
        assert!(Form::parse(FORM, b"resource=a&scope=a&scope=b", Some("resource")).is_err());
        // A nameless parameter is a parameter like any other.
        assert_eq!(Form::parse(FORM, b"=x&grant_type=y", None).unwrap().get(""), Some("x"));
    }

    #[test]
    fn values_are_form_decoded_and_may_be_empty() {
        let form = Form::parse(FORM, b"a=%41+b&b=&c", None).unwrap();
        assert_eq!(form.get("a"), Some("A b"));
        assert_eq!(form.get("b"), Some(""));
        assert_eq!(form.get("c"), Some(""));
        // Invalid escapes and bytes are kept (lossily), never a panic.
        assert_eq!(Form::parse(FORM, b"a=%zz%", None).unwrap().get("a"), Some("%zz%"));
        assert!(Form::parse(FORM, b"a=\xff", None).is_ok());
    }

    #[test]
    fn only_a_form_content_type_is_read() {
        assert!(Form::parse(Some(b"Application/X-WWW-Form-Urlencoded; charset=utf-8"), b"a=b", None).is_ok());
        for other in [None, Some(&b"application/json"[..]), Some(b"\xff"), Some(b"")] {
            assert!(Form::parse(other, b"a=b", None).is_err(), "{other:?}");
        }
    }
}

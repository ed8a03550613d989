//! The token request (RFC 6749 §4.4.2, RFC 8707 §2), parsed once into a typed value: a pure
//! function of the request head and body, so it is unit-tested and fuzzed as the endpoint
//! runs it (`fuzz/fuzz_targets/token_request.rs`).
//!
//! The order of refusals: a body that is not a form or repeats a parameter other than
//! `resource`, a doubled or unreadable `Authorization` header, malformed or doubled client
//! credentials (`invalid_request`); then no credentials at all (`invalid_client`, counted as a
//! failed authentication); then the target (`audience` or `resource`: `invalid_request` for
//! both at once, `invalid_target` for a malformed one) and the scope (`invalid_scope`). The
//! grant type is checked by the grant ([`crate::grant`]), the credentials by
//! [`crate::TokenService::authenticate`], the policy after that.

use gatepass_core::{Audience, ScopeSet};

use crate::client_auth::{self, Head, Presented, Refused};
use crate::error::TokenError;
use crate::form::Form;

/// A token request, parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `grant_type` parameter as sent (the grant decides whether it is supported).
    pub grant_type: Option<String>,
    /// The scopes asked for; `None` (no `scope`, or only spaces): every scope the client may have.
    pub scope: Option<ScopeSet>,
    /// The audiences asked for (`audience`, or each `resource` in order); empty: the client's.
    pub audiences: Vec<Audience>,
    /// The client's credentials, not yet checked.
    pub presented: Presented,
}

impl TokenRequest {
    /// Parses a token request from its head and body.
    pub fn parse(head: Head<'_>, body: &[u8]) -> Result<Self, Refused> {
        let invalid = |why| Refused::Request(TokenError::InvalidRequest(why));
        let form = Form::parse(head.content_type, body, Some("resource")).map_err(invalid)?;
        let authorization = client_auth::authorization(head.authorization).map_err(invalid)?;
        let presented = client_auth::presented(authorization, &form)?;
        let targets: Vec<&str> = match (form.get("audience"), form.all("resource")) {
            (Some(audience), mut resources) => {
                if resources.next().is_some() {
                    return Err(invalid("send either audience or resource, not both"));
                }
                vec![audience]
            }
            (None, resources) => resources.collect(),
        };
        let audiences = targets
            .into_iter()
            .map(Audience::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Refused::Request(TokenError::InvalidTarget))?;
        // RFC 6749 §5.2: a malformed scope is `invalid_scope`, not `invalid_request`.
        let scope = match form.get("scope") {
            None => None,
            Some(spaces) if spaces.bytes().all(|b| b == b' ') => None,
            Some(scope) => Some(ScopeSet::parse(scope).map_err(|_| Refused::Request(TokenError::InvalidScope))?),
        };
        Ok(Self {
            grant_type: form.get("grant_type").map(str::to_owned),
            scope,
            audiences,
            presented,
        })
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const FORM: Option<&[u8]> = Some(b"application/x-www-form-urlencoded");

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    fn parse(authorization: &[&str], body: &str) -> Result<TokenRequest, Refused> {
        let headers: Vec<&[u8]> = authorization.iter().map(|h| h.as_bytes()).collect();
        let head = Head {
            content_type: FORM,
            authorization: &headers,
        };
        TokenRequest::parse(head, body.as_bytes())
    }

    fn invalid_request(result: Result<TokenRequest, Refused>) -> &'static str {
        match result {
            Err(Refused::Request(TokenError::InvalidRequest(why))) => why,
            other => panic!("not invalid_request: {other:?}"),
        }
    }

    #[test]
    fn a_basic_request_parses_into_its_parts() {
        let request = parse(
            &[&basic("gpc_a:gps_b")],
            "grant_type=client_credentials&scope=a+b&resource=https%3A%2F%2Fx.example&resource=https://y.example",
        )
        .unwrap();
        assert_eq!(request.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(request.scope.unwrap().to_string(), "a b");
        let audiences: Vec<&str> = request.audiences.iter().map(Audience::as_str).collect();
        assert_eq!(
            audiences,
            ["https://x.example", "https://y.example"],
            "RFC 8707: several, in order"
        );
        assert_eq!(
            request.presented,
            Presented::Secret {
                client_id: "gpc_a".into(),
                secret: b"gps_b".to_vec(),
                basic: true
            }
        );
    }

    #[test]
    fn body_credentials_and_the_same_client_id_beside_basic_are_accepted() {
        let post = parse(
            &[],
            "grant_type=client_credentials&client_id=gpc_a&client_secret=gps_%2Bb",
        )
        .unwrap();
        assert_eq!(
            post.presented,
            Presented::Secret {
                client_id: "gpc_a".into(),
                secret: b"gps_+b".to_vec(),
                basic: false
            }
        );
        let beside = parse(&[&basic("gpc_a:s")], "grant_type=client_credentials&client_id=gpc_a").unwrap();
        assert_eq!(beside.presented.client_id(), "gpc_a");
        assert!(beside.presented.basic());
    }

    #[test]
    fn malformed_requests_are_refused_with_their_reason() {
        let header = basic("gpc_a:s");
        let grant = "grant_type=client_credentials";
        assert_eq!(
            invalid_request(parse(&[&header], &format!("{grant}&client_id=gpc_b"))),
            "the client_id in the body is not the client of the Basic credentials"
        );
        assert_eq!(
            invalid_request(parse(&[&header, &header], grant)),
            "send one Authorization header, not several"
        );
        assert_eq!(
            invalid_request(parse(&["Basic %%%"], grant)),
            "the Basic credentials are not base64"
        );
        assert_eq!(
            invalid_request(parse(&[&basic("nocolon")], grant)),
            "the Basic credentials have no ':'"
        );
        assert_eq!(
            invalid_request(parse(&["Bearer x"], grant)),
            "only the Basic authorization scheme is accepted"
        );
        assert_eq!(
            invalid_request(parse(&[&header], &format!("{grant}&client_secret=s"))),
            "use one client authentication method, not both"
        );
        assert_eq!(
            invalid_request(parse(&[], &format!("{grant}&client_secret=s"))),
            "client_id and client_secret are both required"
        );
        assert_eq!(
            invalid_request(parse(&[&header], &format!("{grant}&scope=a&scope=a"))),
            "a parameter is repeated"
        );
        assert_eq!(
            invalid_request(parse(
                &[&header],
                "grant_type=client_credentials&grant_type=client_credentials"
            )),
            "a parameter is repeated"
        );
        assert_eq!(
            invalid_request(parse(&[&header], &format!("{grant}&audience=a&resource=a"))),
            "send either audience or resource, not both"
        );
        let json = Head {
            content_type: Some(b"application/json"),
            authorization: &[header.as_bytes()],
        };
        assert_eq!(
            invalid_request(TokenRequest::parse(json, grant.as_bytes())),
            "the body must be application/x-www-form-urlencoded"
        );
    }

    #[test]
    fn no_credentials_is_a_failed_authentication_not_a_malformed_request() {
        assert_eq!(
            parse(&[], "grant_type=client_credentials"),
            Err(Refused::NoCredentials { client_id: None })
        );
        assert_eq!(
            parse(
                &[],
                "grant_type=client_credentials&client_id=gpc_a&audience=a&resource=b"
            ),
            Err(Refused::NoCredentials {
                client_id: Some("gpc_a".into())
            }),
            "credentials are looked at before the target"
        );
    }

    #[test]
    fn scope_and_target_are_checked_for_shape() {
        let header = basic("gpc_a:s");
        let refused = |body: &str| parse(&[&header], body).err();
        let invalid_scope = Some(Refused::Request(TokenError::InvalidScope));
        assert_eq!(refused("grant_type=client_credentials&scope=a%00"), invalid_scope);
        assert_eq!(refused("grant_type=client_credentials&scope=a%22b"), invalid_scope);
        assert_eq!(
            refused("grant_type=client_credentials&scope=a++b"),
            invalid_scope,
            "two spaces"
        );
        assert_eq!(refused("grant_type=client_credentials&scope=%09"), invalid_scope);
        let invalid_target = Some(Refused::Request(TokenError::InvalidTarget));
        assert_eq!(
            refused("grant_type=client_credentials&audience=a%0d%0ab"),
            invalid_target
        );
        assert_eq!(
            refused("grant_type=client_credentials&resource=ok&resource="),
            invalid_target
        );
        // Nothing (or only spaces) asked: everything the client may have.
        for body in [
            "grant_type=client_credentials&scope=",
            "grant_type=client_credentials&scope=+",
        ] {
            let request = parse(&[&header], body).unwrap();
            assert_eq!(request.scope, None, "{body}");
            assert!(request.audiences.is_empty());
        }
        // The grant type is the grant's to judge.
        assert_eq!(parse(&[&header], "scope=a").unwrap().grant_type, None);
        assert_eq!(
            parse(&[&header], "grant_type=password").unwrap().grant_type.as_deref(),
            Some("password")
        );
    }
}

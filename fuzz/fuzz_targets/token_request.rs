//! The token endpoint's request path as it runs: `Content-Type` and `Authorization` headers
//! plus the body → `TokenRequest::parse` (the one form and credential parser) → the grant's
//! validation; the same input through introspection's and revocation's `ClientRequest::parse`.
//!
//! Input: `content-type LF authorization LF authorization … NUL body` (an empty first line
//! is no content type; no NUL: no body).
#![no_main]

use gatepass_auth::client_auth::{ClientRequest, Head, Presented, Refused};
use gatepass_auth::error::TokenError;
use gatepass_auth::grant::{self, Stopped};
use gatepass_auth::token_request::TokenRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (head, body) = (&data[..cut], data.get(cut + 1..).unwrap_or_default());
    let mut lines = head.split(|&b| b == b'\n');
    let content_type = lines.next().filter(|line| !line.is_empty());
    let authorization: Vec<&[u8]> = lines.collect();
    let head = Head { content_type, authorization: &authorization };

    let token = TokenRequest::parse(head, body);
    let client = ClientRequest::parse(head, body);
    if let Ok(request) = &token {
        // Basic credentials come only from the one Authorization header, body ones only without it.
        let Presented::Secret { basic, .. } = &request.presented;
        assert_eq!(*basic, authorization.len() == 1);
        // The grant judges the grant type and nothing else: everything else was refused
        // (with its own description) by the parser.
        match (grant::validate(request), request.grant_type.as_deref()) {
            (Ok(_), Some("client_credentials")) => {}
            (Err(Stopped::Refused(TokenError::UnsupportedGrantType)), Some(other)) => {
                assert_ne!(other, "client_credentials");
            }
            (Err(Stopped::Refused(TokenError::InvalidRequest("grant_type is required"))), None) => {}
            (outcome, grant_type) => panic!("grant validation {:?} for grant_type {grant_type:?}", outcome.err()),
        }
        // Where both endpoints' parsers accept a request, they read the same credentials.
        if let Ok(client) = &client {
            assert_eq!(client.presented, request.presented);
        }
    }
    // Missing credentials are told apart from malformed ones the same way by both.
    if let (Err(Refused::NoCredentials { client_id: a }), Err(Refused::NoCredentials { client_id: b })) = (&token, &client) {
        assert_eq!(a, b);
    }
});

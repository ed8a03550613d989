//! The authorization server metadata document (RFC 8414).

use serde::Serialize;

/// What `/.well-known/oauth-authorization-server` (and the `OpenID` Connect alias) says.
#[derive(Serialize)]
pub(crate) struct Metadata<'a> {
    issuer: &'a str,
    token_endpoint: String,
    jwks_uri: String,
    grant_types_supported: [&'static str; 1],
    response_types_supported: [&'static str; 0],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    access_token_signing_alg_values_supported: [&'static str; 2],
}

impl<'a> Metadata<'a> {
    pub(crate) fn new(issuer: &'a str) -> Self {
        let base = issuer.trim_end_matches('/');
        Self {
            issuer,
            token_endpoint: format!("{base}/oauth2/token"),
            jwks_uri: format!("{base}/.well-known/jwks.json"),
            grant_types_supported: ["client_credentials"],
            response_types_supported: [],
            token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
            introspection_endpoint: format!("{base}/oauth2/introspect"),
            introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
            revocation_endpoint: format!("{base}/oauth2/revoke"),
            revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
            access_token_signing_alg_values_supported: ["ES256", "EdDSA"],
        }
    }
}

//! The forms the OAuth endpoints read, as the `OpenAPI` document describes them. The handlers
//! parse their forms themselves (one pass, `token_request`, `client_auth`); these types exist
//! only for the document, so the endpoints' modules can share them without importing each
//! other.

/// The token request (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handler parses the form itself
pub(crate) struct TokenForm {
    /// Must be `client_credentials`.
    grant_type: GrantType,
    /// Space-separated scopes; none: every scope the client may have.
    scope: Option<String>,
    /// The audience wanted; none: the client's audiences. Not together with `resource`.
    audience: Option<String>,
    /// RFC 8707 §2: the resource(s) wanted, a parameter that may be repeated; the token's
    /// `aud` then names each, and each must be one of the client's audiences.
    resource: Option<Vec<String>>,
    /// For `client_secret_post` (else HTTP Basic).
    client_id: Option<String>,
    /// For `client_secret_post` (else HTTP Basic).
    client_secret: Option<String>,
}

/// The one grant type (RFC 6749 §4.4).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only
enum GrantType {
    #[schema(rename = "client_credentials")]
    ClientCredentials,
}

/// An introspection (RFC 7662 §2.1) or revocation (RFC 7009 §2.1) request
/// (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: the handlers parse the form themselves
pub(crate) struct TokenReference {
    /// The token (an empty or unknown one is inactive, RFC 7662 §2.2; RFC 7009 §2.2).
    token: String,
    /// `access_token` or `refresh_token`; a hint only.
    token_type_hint: Option<String>,
    /// For `client_secret_post` (else HTTP Basic).
    client_id: Option<String>,
    /// For `client_secret_post` (else HTTP Basic).
    client_secret: Option<String>,
}

/// An error response (RFC 6749 §5.2).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documentation only: rendered by `TokenError::to_response`
pub(crate) struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unauthorized_client`, `unsupported_grant_type`,
    /// `invalid_scope`, `invalid_target` or `temporarily_unavailable`.
    error: String,
    /// For a person.
    error_description: String,
}

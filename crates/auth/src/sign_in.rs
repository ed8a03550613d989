//! A token for credentials handed over in process: the web console's sign-in form. The
//! same one pass, failure limits and audit as `POST /oauth2/token` with
//! `client_secret_post`, with the request built typed instead of parsed from a body.

use actix_web::HttpRequest;

use crate::TokenService;
use crate::client_auth::Presented;
use crate::error::TokenError;
use crate::token_request::TokenRequest;

/// An access token issued at sign-in.
pub struct SignedIn {
    /// The JWT.
    pub access_token: String,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// Issues a client-credentials token to `client_id` presenting `client_secret`, as the
/// token endpoint would to the caller of `req` (its address counts for the failure limits).
pub async fn client_credentials(
    service: &TokenService,
    req: &HttpRequest,
    client_id: &str,
    client_secret: &str,
) -> Result<SignedIn, TokenError> {
    let request = TokenRequest {
        grant_type: Some("client_credentials".to_owned()),
        scope: None,
        audiences: Vec::new(),
        presented: Presented::Secret {
            client_id: client_id.to_owned(),
            secret: client_secret.as_bytes().to_vec(),
            basic: false,
        },
    };
    match crate::http::grant_parsed(req, &request, service).await {
        Ok(issued) => {
            service.metrics.issued();
            Ok(SignedIn {
                access_token: issued.token,
                expires_in: issued.expires_in,
                scope: issued.scope,
            })
        }
        Err(error) => {
            service.metrics.refused(error.code());
            Err(error)
        }
    }
}

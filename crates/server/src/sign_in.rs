//! The console's sign-in, on this server's token service.

use std::pin::Pin;

use actix_web::{HttpRequest, web};
use gatepass_auth::TokenService;
use gatepass_auth::error::TokenError;
use gatepass_console::{SignIn, SignInAnswer};

/// The token endpoint's grant, for the console's sign-in form.
pub struct TokenEndpoint(pub web::Data<TokenService>);

impl SignIn for TokenEndpoint {
    fn sign_in<'a>(
        &'a self,
        req: &'a HttpRequest,
        client_id: &'a str,
        client_secret: &'a str,
    ) -> Pin<Box<dyn Future<Output = SignInAnswer> + 'a>> {
        Box::pin(async move {
            match gatepass_auth::sign_in::client_credentials(&self.0, req, client_id, client_secret).await {
                Ok(token) => SignInAnswer::Token {
                    access_token: token.access_token,
                    expires_in: token.expires_in,
                    scope: token.scope,
                },
                Err(TokenError::TooManyFailures { .. }) => SignInAnswer::Throttled,
                Err(TokenError::TemporarilyUnavailable | TokenError::ServerError) => SignInAnswer::Unavailable,
                Err(
                    TokenError::InvalidRequest(_)
                    | TokenError::InvalidClient { .. }
                    | TokenError::UnauthorizedClient
                    | TokenError::UnsupportedGrantType
                    | TokenError::InvalidScope
                    | TokenError::InvalidTarget
                    | TokenError::PayloadTooLarge
                    | TokenError::MethodNotAllowed
                    | TokenError::NotPermitted
                    | TokenError::NotTokenOwner,
                ) => SignInAnswer::Refused,
            }
        })
    }
}

//! A token for credentials handed over in process: the web console's sign-in form. The
//! same grant, failure limits and audit as `POST /oauth2/token` with `client_secret_post`,
//! without an HTTP request to build.

use actix_web::HttpRequest;
use oxide_auth::endpoint::NormalizedParameter;

use crate::TokenService;
use crate::error::TokenError;
use crate::grant::{self, Lookup, Outcome, TokenRequest};

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
    let mut form = NormalizedParameter::new();
    form.insert_or_poison("grant_type".into(), "client_credentials".into());
    form.insert_or_poison("client_id".into(), client_id.to_owned().into());
    form.insert_or_poison("client_secret".into(), client_secret.to_owned().into());
    let request = TokenRequest {
        form,
        resources: Vec::new(),
        authorization: None,
    };
    let now = service.clock.now().unix_timestamp();
    let mut outcome = grant::run(service, &request, &Lookup::Cache, now);
    if let Outcome::NeedsLookup(hash) = outcome {
        outcome = match service.credential(&hash).await {
            Ok(credential) => grant::run(service, &request, &Lookup::Fetched(credential), now),
            Err(cause) => Outcome::Fault(cause),
        };
    }
    let error = match outcome {
        Outcome::Issued(issued) => {
            service.usage.record(&issued.client_id, &issued.secret_id, now);
            service.metrics.issued();
            return Ok(SignedIn {
                access_token: issued.token,
                expires_in: issued.expires_in,
                scope: issued.scope,
            });
        }
        Outcome::Refused {
            rejection: Some(rejection),
            client_id,
            ..
        } => crate::http::refuse(service, req, rejection, client_id.as_deref(), false).await,
        Outcome::Refused {
            error, rejection: None, ..
        } => error,
        Outcome::NeedsLookup(_) => TokenError::TemporarilyUnavailable,
        Outcome::Fault(cause) => {
            log::error!("console sign-in fault cause={cause}");
            TokenError::fault(&cause)
        }
    };
    service.metrics.refused(error.code());
    Err(error)
}

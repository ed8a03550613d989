//! Introspection mode: after local validation, ask the issuer (RFC 7662) whether the token is
//! still active, for routes that must see a revoked secret, a disabled client or a revoked
//! token at once instead of at the token's `exp`.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::ValidationError;

/// The client the guard introspects as (it must hold `gatepass:introspect`).
#[derive(Clone)]
pub struct IntrospectionClient {
    /// Its client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
}

impl fmt::Debug for IntrospectionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .finish()
    }
}

#[derive(Deserialize)]
struct Answer {
    active: bool,
}

/// Asks `<issuer>/oauth2/introspect`.
pub(crate) struct Introspector {
    http: reqwest::Client,
    endpoint: String,
    client: IntrospectionClient,
}

impl Introspector {
    pub(crate) fn new(issuer: &str, client: IntrospectionClient, timeout: Duration) -> Self {
        #[cfg(feature = "tls")]
        {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        Self {
            http: reqwest::Client::builder().timeout(timeout).build().unwrap_or_default(),
            endpoint: format!("{}/oauth2/introspect", issuer.trim_end_matches('/')),
            client,
        }
    }

    /// `Ok` if the issuer says the token is active; [`ValidationError::Revoked`] if not;
    /// [`ValidationError::IntrospectionUnavailable`] if it could not be asked.
    pub(crate) async fn check(&self, token: &str) -> Result<(), ValidationError> {
        let response = self
            .http
            .post(&self.endpoint)
            .basic_auth(&self.client.client_id, Some(&self.client.client_secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|e| {
                log::warn!("introspection failed: {e}");
                ValidationError::IntrospectionUnavailable
            })?;
        if !response.status().is_success() {
            log::warn!("introspection answered {}", response.status());
            return Err(ValidationError::IntrospectionUnavailable);
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|_| ValidationError::IntrospectionUnavailable)?;
        if answer.active {
            Ok(())
        } else {
            Err(ValidationError::Revoked)
        }
    }
}

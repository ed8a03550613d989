//! A token source for backend services that call APIs protected by Gatepass.
//!
//! [`TokenSource::token`] returns a cached access token while it has comfortably more than
//! the refresh margin left; otherwise one caller fetches a new one with client credentials
//! while concurrent callers wait for that same fetch. Network errors and 5xx answers are
//! retried with exponential backoff; 4xx answers (`invalid_client`, `invalid_scope`, …)
//! are returned at once as [`TokenError::Refused`], never retried.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gatepass_client::TokenError> {
//! use gatepass_client::TokenSource;
//!
//! let tokens = TokenSource::new("http://127.0.0.1:8080/oauth2/token", "gpc_…", "gps_…").with_scope("sites:read");
//! let token = tokens.token().await?;
//! let response = reqwest::Client::new().get("http://127.0.0.1:9000/sites").bearer_auth(&token).send().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gatepass_core::{Clock, SystemClock};
use serde::Deserialize;
use thiserror::Error;
use time::OffsetDateTime;

/// Why no token could be had.
#[derive(Clone, Debug, Error)]
pub enum TokenError {
    /// The authorization server refused the request (a 4xx answer): not retried.
    #[error("token request refused: {error} ({description})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The OAuth error code, e.g. `invalid_client`.
        error: String,
        /// The server's description.
        description: String,
    },
    /// The server could not be reached or kept failing (network errors, 5xx) after retries.
    #[error("token endpoint unavailable after {attempts} attempts: {last}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize, Default)]
struct ErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Clone)]
struct Cached {
    token: Arc<str>,
    refresh_at: OffsetDateTime,
}

/// Gets and caches client-credentials tokens. Cheap to clone; clones share the cache.
/// Configure it before cloning: a `with_…` call on a clone makes a source of its own.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

/// What a source asks for and how.
#[derive(Clone)]
struct Config {
    http: reqwest::Client,
    token_endpoint: String,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    audience: Option<String>,
    max_attempts: u32,
    first_backoff: Duration,
    refresh_margin: Option<Duration>,
    clock: Arc<dyn Clock>,
}

struct Inner {
    config: Config,
    cached: Mutex<Option<Cached>>,
    fetching: tokio::sync::Mutex<()>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_endpoint", &self.inner.config.token_endpoint)
            .field("client_id", &self.inner.config.client_id)
            .field("client_secret", &"<hidden>")
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source for `token_endpoint` (e.g. `https://auth.example.com/oauth2/token`).
    pub fn new(
        token_endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        #[cfg(feature = "tls")]
        {
            // reqwest is built without a TLS provider: use ring.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self::with_config(Config {
            http,
            token_endpoint: token_endpoint.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scope: None,
            audience: None,
            max_attempts: 4,
            first_backoff: Duration::from_millis(100),
            refresh_margin: None,
            clock: Arc::new(SystemClock),
        })
    }

    fn with_config(config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                cached: Mutex::new(None),
                fetching: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// This source with `change` made to its configuration (and, if it had been cloned, a
    /// cache of its own).
    fn configured(mut self, change: impl FnOnce(&mut Config)) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            change(&mut inner.config);
            return self;
        }
        let mut config = self.inner.config.clone();
        change(&mut config);
        Self::with_config(config)
    }

    /// Asks for these space-separated scopes (default: all the client may have).
    #[must_use]
    pub fn with_scope(self, scope: &str) -> Self {
        self.configured(|c| c.scope = Some(scope.to_owned()))
    }

    /// Asks for a token for this audience (default: the client's audiences).
    #[must_use]
    pub fn with_audience(self, audience: &str) -> Self {
        self.configured(|c| c.audience = Some(audience.to_owned()))
    }

    /// Attempts per fetch (default 4) and the first backoff (default 100 ms, doubling).
    #[must_use]
    pub fn with_retries(self, max_attempts: u32, first_backoff: Duration) -> Self {
        self.configured(|c| {
            c.max_attempts = max_attempts.max(1);
            c.first_backoff = first_backoff;
        })
    }

    /// Renews the token when this much of its lifetime is left (default: a tenth of the
    /// lifetime, between 5 and 60 s).
    #[must_use]
    pub fn with_refresh_margin(self, margin: Duration) -> Self {
        self.configured(|c| c.refresh_margin = Some(margin))
    }

    /// Reads the time from `clock` instead of the system clock (for tests that move time).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.configured(|c| c.clock = clock)
    }

    /// A valid access token: the cached one, or a new one.
    pub async fn token(&self) -> Result<Arc<str>, TokenError> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        // Single flight: one caller fetches, the others wait and then find it cached.
        let _fetching = self.inner.fetching.lock().await;
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let (token, lifetime) = self.fetch().await?;
        let margin = self
            .inner
            .config
            .refresh_margin
            .unwrap_or_else(|| (lifetime / 10).clamp(Duration::from_secs(5), Duration::from_secs(60)))
            .min(lifetime.saturating_sub(Duration::from_secs(1)));
        let cached = Cached {
            token: token.into(),
            refresh_at: self.inner.config.clock.now() + lifetime.saturating_sub(margin),
        };
        let token = Arc::clone(&cached.token);
        *self.inner.cached.lock().unwrap_or_else(PoisonError::into_inner) = Some(cached);
        Ok(token)
    }

    /// Forgets the cached token (e.g. after a resource server answered 401).
    pub fn invalidate(&self) {
        *self.inner.cached.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn cached(&self) -> Option<Arc<str>> {
        let now = self.inner.config.clock.now();
        let cached = self.inner.cached.lock().unwrap_or_else(PoisonError::into_inner);
        cached
            .as_ref()
            .filter(|c| now < c.refresh_at)
            .map(|c| Arc::clone(&c.token))
    }

    async fn fetch(&self) -> Result<(String, Duration), TokenError> {
        let inner = &self.inner.config;
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &inner.scope {
            form.push(("scope", scope));
        }
        if let Some(audience) = &inner.audience {
            form.push(("audience", audience));
        }
        let mut backoff = inner.first_backoff;
        let mut last = String::new();
        for attempt in 1..=inner.max_attempts {
            let sent = inner
                .http
                .post(&inner.token_endpoint)
                .basic_auth(&inner.client_id, Some(&inner.client_secret))
                .form(&form)
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    let body: TokenResponse = response.json().await.map_err(|e| TokenError::Unavailable {
                        attempts: attempt,
                        last: format!("unreadable token response: {e}"),
                    })?;
                    return Ok((body.access_token, Duration::from_secs(body.expires_in)));
                }
                Ok(response) if response.status().is_client_error() => {
                    let status = response.status().as_u16();
                    let body: ErrorResponse = response.json().await.unwrap_or_default();
                    return Err(TokenError::Refused {
                        status,
                        error: body.error,
                        description: body.error_description,
                    });
                }
                Ok(response) => last = format!("HTTP {}", response.status()),
                Err(error) => last = error.to_string(),
            }
            if attempt < inner.max_attempts {
                log::debug!("token request failed (attempt {attempt}), retrying in {backoff:?}: {last}");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        Err(TokenError::Unavailable {
            attempts: inner.max_attempts,
            last,
        })
    }
}

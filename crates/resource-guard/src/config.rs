use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gatepass_core::{Clock, SystemClock};
use jsonwebtoken::Algorithm;

use crate::introspection::IntrospectionClient;

/// How a [`crate::Validator`] checks tokens.
#[derive(Clone)]
pub struct GuardConfig {
    /// The issuer URL, compared exactly with `iss`; its metadata names the `jwks_uri`.
    pub issuer: String,
    /// The audience this service expects in `aud`.
    pub audience: String,
    /// Accepted signing algorithms; a key's own algorithm must also match the header.
    pub algorithms: Vec<Algorithm>,
    /// Clock-skew allowance for `exp` and `nbf` (default 60 s, at most 300 s).
    pub leeway: Duration,
    /// Least time between two JWKS fetches caused by unknown `kid`s (default 10 s), so
    /// junk tokens cannot make the guard hammer the issuer.
    pub unknown_kid_refresh_interval: Duration,
    /// JWKS refresh period when the issuer sends no `Cache-Control: max-age` (default 300 s).
    pub default_refresh_interval: Duration,
    /// How many verified tokens are remembered (default 10 000).
    pub token_cache_capacity: u64,
    /// Longest token accepted, in bytes (default 8 KiB).
    pub max_token_length: usize,
    /// Timeout of each request to the issuer (default 5 s).
    pub http_timeout: Duration,
    /// The client to introspect as, for [`crate::Validator::validate_introspected`] and
    /// `RequireScopes::introspected` (none by default).
    pub introspection: Option<IntrospectionClient>,
    /// The source of "now" for `exp`, `nbf` and the unknown-`kid` rate limit (the system
    /// clock by default; tests pass a manual one).
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for GuardConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("unknown_kid_refresh_interval", &self.unknown_kid_refresh_interval)
            .field("default_refresh_interval", &self.default_refresh_interval)
            .field("token_cache_capacity", &self.token_cache_capacity)
            .field("max_token_length", &self.max_token_length)
            .field("http_timeout", &self.http_timeout)
            .field("introspection", &self.introspection)
            .finish_non_exhaustive()
    }
}

impl GuardConfig {
    /// Defaults for an issuer and an expected audience.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: vec![Algorithm::ES256, Algorithm::EdDSA],
            leeway: Duration::from_secs(60),
            unknown_kid_refresh_interval: Duration::from_secs(10),
            default_refresh_interval: Duration::from_secs(300),
            token_cache_capacity: 10_000,
            max_token_length: 8 * 1024,
            http_timeout: Duration::from_secs(5),
            introspection: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads the time from `clock` instead of the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Introspects as this client (holding `gatepass:introspect`) where asked to.
    #[must_use]
    pub fn with_introspection(mut self, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.introspection = Some(IntrospectionClient {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        });
        self
    }

    /// The leeway, capped at 300 s.
    pub(crate) fn leeway_secs(&self) -> u64 {
        self.leeway.as_secs().min(300)
    }
}

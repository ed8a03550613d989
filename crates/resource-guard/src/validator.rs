//! The framework-neutral validator.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use gatepass_core::AccessTokenClaims;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use time::OffsetDateTime;

use crate::introspection::Introspector;
use crate::jwks::{KeySet, Source};
use crate::{GuardConfig, ValidationError};

/// Validates Gatepass access tokens against the issuer's JWKS. Cheap to clone.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    config: GuardConfig,
    /// `None` for a validator with fixed keys.
    source: Option<Source>,
    /// `None` until the first successful fetch.
    keys: RwLock<Option<Arc<KeySet>>>,
    /// When the last fetch started, by the configured clock; one fetch at a time.
    refresh: tokio::sync::Mutex<Option<OffsetDateTime>>,
    /// Verified tokens by SHA-256 of the token.
    verified: moka::sync::Cache<[u8; 32], Arc<AccessTokenClaims>>,
    fetches: AtomicU64,
    /// Set when the configuration names an introspection client.
    introspector: Option<Introspector>,
}

impl Validator {
    /// Builds a validator, tries a first fetch of the issuer's keys, and keeps them fresh
    /// in the background. If the issuer cannot be reached yet, the validator answers
    /// [`ValidationError::NotReady`] until a fetch succeeds.
    pub async fn discover(config: GuardConfig) -> Self {
        gatepass_core::jwt_crypto::install();
        let inner = Arc::new(Inner::new(
            Some(Source::new(&config.issuer, config.http_timeout)),
            None,
            config,
        ));
        let wait = inner.refresh(Duration::ZERO).await;
        tokio::spawn(refresh_in_background(Arc::downgrade(&inner), wait));
        Self { inner }
    }

    /// A validator with fixed keys from a JWKS document and no network at all: for
    /// pinned keys, air-gapped services and tests.
    pub fn from_jwks(config: GuardConfig, jwks: &str) -> Result<Self, serde_json::Error> {
        gatepass_core::jwt_crypto::install();
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks)?;
        let keys = KeySet::from_jwks(&set, &config.algorithms);
        Ok(Self {
            inner: Arc::new(Inner::new(None, Some(keys), config)),
        })
    }

    /// Replaces the keys of a validator made with [`Validator::from_jwks`] (for a process
    /// that holds the keys itself, such as Gatepass's own admin API after a rotation).
    pub fn update_jwks(&self, jwks: &str) -> Result<(), serde_json::Error> {
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks)?;
        let keys = KeySet::from_jwks(&set, &self.inner.config.algorithms);
        *self.inner.keys.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(keys));
        Ok(())
    }

    /// How many times the JWKS has been fetched (for monitoring and tests).
    pub fn jwks_fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Whether the keys have been loaded at least once.
    pub fn is_ready(&self) -> bool {
        self.inner.keys.read().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Validates a token and checks that it holds every scope in `required`.
    pub async fn validate_with_scopes(
        &self,
        token: &str,
        required: &[impl AsRef<str>],
    ) -> Result<Arc<AccessTokenClaims>, ValidationError> {
        holds(self.validate(token).await?, required)
    }

    /// Validates a token locally, then asks the issuer whether it is still active (RFC 7662):
    /// a revoked token, or one whose secret or client was revoked or disabled, is refused at
    /// once. Costs a request to the issuer each time; needs
    /// [`GuardConfig::with_introspection`](crate::GuardConfig::with_introspection).
    pub async fn validate_introspected(
        &self,
        token: &str,
        required: &[impl AsRef<str>],
    ) -> Result<Arc<AccessTokenClaims>, ValidationError> {
        let claims = holds(self.validate(token).await?, required)?;
        let introspector = self
            .inner
            .introspector
            .as_ref()
            .ok_or(ValidationError::IntrospectionUnavailable)?;
        introspector.check(token).await?;
        Ok(claims)
    }

    /// Validates a token: signature with the key named by `kid`, `alg` allowed and equal
    /// to the key's, `typ` = `at+jwt`, `iss`, `aud`, `exp` and `nbf` with the leeway.
    pub async fn validate(&self, token: &str) -> Result<Arc<AccessTokenClaims>, ValidationError> {
        let config = &self.inner.config;
        if token.len() > config.max_token_length {
            return Err(ValidationError::Malformed);
        }
        let fingerprint = fingerprint(token);
        if let Some(claims) = self.inner.verified.get(&fingerprint) {
            return self.in_time(claims);
        }
        if !self.is_ready() {
            // Never loaded the keys: every answer would be a guess, so say "not ready".
            self.inner.refresh(config.unknown_kid_refresh_interval).await;
            if !self.is_ready() {
                return Err(ValidationError::NotReady);
            }
        }
        if token.split('.').count() != 3 {
            return Err(ValidationError::Malformed);
        }
        let header = decode_header(token).map_err(|_| ValidationError::Malformed)?;
        if !config.algorithms.contains(&header.alg) {
            return Err(ValidationError::DisallowedAlgorithm);
        }
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt"))
        {
            return Err(ValidationError::WrongType);
        }
        let kid = header.kid.ok_or(ValidationError::MissingKid)?;
        let keys = match self.keys() {
            Some(keys) if keys.get(&kid).is_some() => keys,
            _ => {
                // Unknown kid (a rotation we have not seen) or never loaded: refresh, rate-limited.
                self.inner.refresh(config.unknown_kid_refresh_interval).await;
                self.keys().ok_or(ValidationError::NotReady)?
            }
        };
        let (key, algorithm) = keys.get(&kid).ok_or(ValidationError::UnknownKid)?;
        if *algorithm != header.alg {
            return Err(ValidationError::AlgorithmMismatch);
        }
        // The verifying algorithm comes from the key, never from the header.
        let mut validation = Validation::new(*algorithm);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // `exp` and `nbf` are checked against the configured clock below, for fresh and
        // cached tokens alike; jsonwebtoken would read the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let data = decode::<AccessTokenClaims>(token, key, &validation).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => ValidationError::BadSignature,
            ErrorKind::InvalidIssuer => ValidationError::WrongIssuer,
            ErrorKind::InvalidAudience => ValidationError::WrongAudience,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
                ValidationError::BadClaims
            }
            _ => ValidationError::Malformed,
        })?;
        let claims = self.in_time(Arc::new(data.claims))?;
        self.inner.verified.insert(fingerprint, Arc::clone(&claims));
        Ok(claims)
    }

    /// `claims` if `exp` and `nbf` hold now, within the leeway; a cached token is
    /// re-checked against the clock only.
    fn in_time(&self, claims: Arc<AccessTokenClaims>) -> Result<Arc<AccessTokenClaims>, ValidationError> {
        let config = &self.inner.config;
        let now = config.clock.now().unix_timestamp();
        let leeway = config.leeway_secs() as i64;
        if claims.exp + leeway <= now {
            Err(ValidationError::Expired)
        } else if claims.nbf - leeway > now {
            Err(ValidationError::NotYetValid)
        } else {
            Ok(claims)
        }
    }

    fn keys(&self) -> Option<Arc<KeySet>> {
        self.inner.keys.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// `claims` if they hold every scope in `required`.
fn holds(
    claims: Arc<AccessTokenClaims>,
    required: &[impl AsRef<str>],
) -> Result<Arc<AccessTokenClaims>, ValidationError> {
    let granted: Vec<&str> = claims.scope.split(' ').collect();
    if required.iter().all(|scope| granted.contains(&scope.as_ref())) {
        Ok(claims)
    } else {
        Err(ValidationError::InsufficientScope)
    }
}

impl Inner {
    fn new(source: Option<Source>, keys: Option<KeySet>, config: GuardConfig) -> Self {
        let introspector = config
            .introspection
            .clone()
            .map(|client| Introspector::new(&config.issuer, client, config.http_timeout));
        Self {
            introspector,
            verified: moka::sync::Cache::builder()
                .max_capacity(config.token_cache_capacity)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            source,
            config,
            keys: RwLock::new(keys.map(Arc::new)),
            refresh: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Fetches the JWKS unless a fetch started less than `min_interval` ago. Returns how
    /// long to wait before the next scheduled refresh.
    async fn refresh(&self, min_interval: Duration) -> Duration {
        let Some(source) = &self.source else {
            return self.config.default_refresh_interval;
        };
        let mut last = self.refresh.lock().await;
        let now = self.config.clock.now();
        if last.is_some_and(|at| now - at < min_interval) {
            return self.config.default_refresh_interval;
        }
        *last = Some(now);
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match source.fetch().await {
            Ok((set, max_age)) => {
                let keys = KeySet::from_jwks(&set, &self.config.algorithms);
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(keys));
                max_age
                    .unwrap_or(self.config.default_refresh_interval)
                    .clamp(Duration::from_secs(1), Duration::from_secs(3600))
            }
            Err(error) => {
                log::warn!("could not refresh the issuer's keys (cached keys stay in use): {error}");
                Duration::from_secs(5)
            }
        }
    }
}

/// Refreshes on the issuer's schedule until the validator is dropped.
async fn refresh_in_background(inner: Weak<Inner>, mut wait: Duration) {
    loop {
        tokio::time::sleep(wait).await;
        let Some(inner) = inner.upgrade() else { return };
        wait = inner.refresh(Duration::ZERO).await;
    }
}

fn fingerprint(token: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

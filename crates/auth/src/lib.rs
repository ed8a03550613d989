//! Gatepass's token service: client authentication, the `client_credentials` grant,
//! JWT issuance, signing keys, the JWKS and the discovery document.
//!
//! The HTTP side lives in [`http`]: mount it with [`http::configure`] on an actix-web
//! `App` that has a [`TokenService`] as app data.
//!
//! ```no_run
//! # async fn demo(service: actix_web::web::Data<gatepass_auth::TokenService>) {
//! use actix_web::{App, HttpServer};
//!
//! HttpServer::new(move || App::new().app_data(service.clone()).configure(gatepass_auth::http::configure))
//!     .bind("127.0.0.1:8080").unwrap().run().await.unwrap();
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod audit;
pub mod change_feed;
pub mod client_auth;
pub mod credential_cache;
pub mod credentials;
pub mod error;
pub mod failures;
pub mod form;
pub mod grant;
pub mod http;
mod introspection;
mod json;
pub mod keys;
pub mod known_clients;
pub mod master_key;
mod metadata;
pub mod metrics;
mod revocation;
mod schemas;
pub mod sign_in;
pub mod throttle;
pub mod token_request;
pub mod usage;

use std::sync::Arc;
use std::time::Duration;

use gatepass_core::{Audience, Clock, MasterKey, SecretPepper};
use gatepass_store::Database;
use oxide_auth::primitives::registrar::RegisteredUrl;

use crate::audit::AuditLog;
use crate::change_feed::{FeedPosition, FeedSettings};
use crate::credential_cache::{CacheSettings, CredentialCache};
use crate::failures::FailureAggregator;
use crate::keys::KeyManager;
use crate::known_clients::KnownClients;
use crate::metrics::TokenMetrics;
use crate::throttle::{FailureLimits, Throttle};
use crate::usage::UsageRecorder;

/// Settings of the token endpoint.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// The `iss` of every token and the metadata's `issuer`.
    pub issuer: String,
    /// Token lifetime when the client has no override (seconds).
    pub default_ttl_seconds: i64,
    /// The credential cache: how long entries live, how many, how long they serve stale.
    pub cache: CacheSettings,
    /// The change feed: how often it is read, how long it is kept.
    pub feed: FeedSettings,
    /// Largest token request body accepted (bytes).
    pub body_limit: usize,
    /// Limits on failed client authentication.
    pub failure_limits: FailureLimits,
}

/// Everything the token endpoint needs; one per process, shared by all workers.
pub struct TokenService {
    db: Database,
    keys: Arc<KeyManager>,
    pepper: SecretPepper,
    credentials: CredentialCache,
    feed: FeedSettings,
    feed_position: FeedPosition,
    audit: AuditLog,
    usage: Arc<UsageRecorder>,
    throttle: Throttle,
    failures: FailureAggregator,
    known: KnownClients,
    reload_known: std::sync::atomic::AtomicBool,
    writable: std::sync::Mutex<Option<(std::time::Instant, bool)>>,
    metrics: TokenMetrics,
    settings: TokenSettings,
    issuer_audience: Audience,
    clock: Arc<dyn Clock>,
    redirect_placeholder: RegisteredUrl,
}

/// Why the token service could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The issuer is not usable as an audience (too long or has spaces).
    #[error("issuer {0:?} is not a valid URL without spaces")]
    Issuer(String),
    /// The grant's placeholder redirect URI does not parse (a bug of ours).
    #[error("the grant's redirect placeholder does not parse: {0}")]
    Placeholder(#[from] url::ParseError),
}

impl TokenService {
    /// Builds the service. The key manager should have been maintained once already.
    #[allow(clippy::too_many_arguments)] // each is a separate, owned part of the service
    pub fn new(
        db: Database,
        keys: Arc<KeyManager>,
        master_key: &MasterKey,
        audit: AuditLog,
        usage: Arc<UsageRecorder>,
        settings: TokenSettings,
        metrics: TokenMetrics,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SetupError> {
        let issuer_audience =
            Audience::parse(&settings.issuer).map_err(|_| SetupError::Issuer(settings.issuer.clone()))?;
        let redirect_placeholder = grant::placeholder_redirect()?;
        Ok(Self {
            db,
            keys,
            pepper: master_key.secret_pepper(),
            credentials: CredentialCache::new(settings.cache, Arc::clone(&clock)),
            feed: settings.feed,
            feed_position: FeedPosition::default(),
            throttle: Throttle::new(settings.failure_limits, Arc::clone(&clock)),
            failures: FailureAggregator::new(settings.failure_limits.window),
            known: KnownClients::default(),
            reload_known: std::sync::atomic::AtomicBool::new(true),
            writable: std::sync::Mutex::new(None),
            metrics,
            audit,
            usage,
            settings,
            issuer_audience,
            clock,
            redirect_placeholder,
        })
    }

    /// Runs until aborted: every second writes the running counts of aggregated
    /// authentication failures to the audit log (and closes ended windows); reloads the set
    /// of client ids that exist every 30 s and after an admin change.
    pub async fn maintain_failures(&self) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut since_reload = 0u32;
        loop {
            tick.tick().await;
            since_reload += 1;
            if self.reload_known.swap(false, std::sync::atomic::Ordering::Relaxed) || since_reload >= 30 {
                since_reload = 0;
                if let Err(error) = self.known.reload(&self.db).await {
                    log::warn!("could not reload the client ids error={error}");
                    self.reload_known.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            self.write_failures(false);
        }
    }

    /// Queues the pending counts of aggregated failures (`all`: every open window too, at
    /// shutdown).
    pub fn write_failures(&self, all: bool) {
        for written in self.failures.sweep(self.clock.now(), all) {
            self.audit.queue(written.row, crate::audit::Write::Amend, written.real);
        }
    }

    /// Forgets revocations of tokens that have expired anyway; returns how many.
    pub async fn prune_revocations(&self) -> Result<usize, gatepass_store::StoreError> {
        let now = self.clock.now().unix_timestamp();
        self.db
            .run(move |conn| gatepass_store::revoked_tokens::prune(conn, now))
            .await
    }

    /// Whether a client with this id exists (a database read; the answer is remembered
    /// when it does). A database fault counts as "no": the failure is then counted by address.
    pub(crate) async fn client_exists(&self, client_id: &str) -> bool {
        let id = client_id.to_owned();
        match self.db.run(move |conn| gatepass_store::clients::get(conn, &id)).await {
            Ok(Some(_)) => {
                self.known.learn(client_id);
                true
            }
            Ok(None) => false,
            Err(error) => {
                log::debug!("client id check failed error={error}");
                false
            }
        }
    }

    /// Whether the database takes writes (a committed one-row write at most every 5 s; the
    /// answer is remembered meanwhile). The token endpoint keeps issuing for readable
    /// credentials without it; admin changes, audit and usage counts need it.
    pub async fn database_writable(&self) -> bool {
        let remembered = *self.writable.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, writable)) = remembered
            && at.elapsed() < Duration::from_secs(5)
        {
            return writable;
        }
        let now = self.clock.now().unix_timestamp();
        let probe = self
            .db
            .run(move |conn| gatepass_store::audit::probe_write(conn, now))
            .await;
        if let Err(error) = &probe {
            log::warn!("the database does not take writes error={error}");
        }
        let writable = probe.is_ok();
        *self.writable.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((std::time::Instant::now(), writable));
        writable
    }

    /// Whether the service can issue tokens: a key signs, and the database answers or
    /// cached credentials still serve (stale-if-error).
    pub async fn is_ready(&self) -> bool {
        self.keys.ring().is_ready(self.clock.now().unix_timestamp())
            && (self.serving_stale() || self.db.ping().await.is_ok())
    }

    /// Whether cached credentials are serving while the database does not answer.
    pub fn serving_stale(&self) -> bool {
        self.credentials.serving_stale()
    }
}

//! The token service's Prometheus metrics (served at `/metrics` by the server).

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// Counters of the token, introspection and revocation endpoints.
#[derive(Clone)]
pub struct TokenMetrics {
    issued: IntCounter,
    refused: IntCounterVec,
    authentication_failures: IntCounterVec,
    secret_checks: IntCounter,
    credential_reads: IntCounter,
    cache_resets: IntCounter,
    usage_dropped: IntCounter,
    database_up: IntGauge,
    stale_seconds: Gauge,
    cache_evictions: IntCounter,
    served_stale: IntCounter,
}

impl TokenMetrics {
    /// The counters, registered in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let issued = IntCounter::new("gatepass_tokens_issued_total", "Access tokens issued")?;
        let refused = IntCounterVec::new(
            Opts::new(
                "gatepass_tokens_refused_total",
                "Token requests refused, by RFC 6749 error code",
            ),
            &["error"],
        )?;
        let authentication_failures = IntCounterVec::new(
            Opts::new(
                "gatepass_client_authentication_failures_total",
                "Failed client authentications (token, introspection, revocation); \
                 throttled=true when answered 429 (why each one failed is in the audit log only)",
            ),
            &["throttled"],
        )?;
        let secret_checks = IntCounter::new(
            "gatepass_client_secret_checks_total",
            "Presented client secrets hashed and looked up (token, introspection, revocation): \
             one per request that presents a well-formed secret",
        )?;
        let credential_reads = IntCounter::new(
            "gatepass_credential_reads_total",
            "Stored credentials read from the database (credential cache misses)",
        )?;
        registry.register(Box::new(credential_reads.clone()))?;
        let cache_resets = IntCounter::new(
            "gatepass_credential_cache_resets_total",
            "Times this node dropped every cached credential because it lost its place in the change feed \
             (slept past the retention, a feed that went back or ran more than a batch ahead)",
        )?;
        registry.register(Box::new(cache_resets.clone()))?;
        let usage_dropped = IntCounter::new(
            "gatepass_usage_dropped_total",
            "Token uses not counted in use_count/last_used_at because the write-behind buffer was full \
             (the database not answering for long, with very many secrets in use)",
        )?;
        registry.register(Box::new(usage_dropped.clone()))?;
        let database_up = IntGauge::new(
            "gatepass_database_up",
            "1 while this node's last read of the change feed succeeded, 0 while the database does not answer",
        )?;
        let stale_seconds = Gauge::new(
            "gatepass_credentials_stale_seconds",
            "Seconds since this node last read the change feed, while it is behind (0 while current): \
             cached credentials serve stale for up to cache.stale_if_error_seconds",
        )?;
        let cache_evictions = IntCounter::new(
            "gatepass_credential_cache_evictions_total",
            "Cached credentials dropped for room (cache.max_entries)",
        )?;
        let served_stale = IntCounter::new(
            "gatepass_credentials_served_stale_total",
            "Token requests authenticated from a cached credential while the database did not answer",
        )?;
        registry.register(Box::new(database_up.clone()))?;
        registry.register(Box::new(stale_seconds.clone()))?;
        registry.register(Box::new(cache_evictions.clone()))?;
        registry.register(Box::new(served_stale.clone()))?;
        registry.register(Box::new(issued.clone()))?;
        registry.register(Box::new(secret_checks.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(authentication_failures.clone()))?;
        Ok(Self {
            issued,
            refused,
            authentication_failures,
            secret_checks,
            credential_reads,
            cache_resets,
            usage_dropped,
            database_up,
            stale_seconds,
            cache_evictions,
            served_stale,
        })
    }

    /// Sets the freshness gauges; `evicted`, `stale` and `usage_dropped` are running totals.
    pub(crate) fn freshness(&self, database_up: bool, stale_seconds: f64, [evicted, stale, usage_dropped]: [u64; 3]) {
        self.usage_dropped
            .inc_by(usage_dropped.saturating_sub(self.usage_dropped.get()));
        self.database_up.set(i64::from(database_up));
        self.stale_seconds.set(stale_seconds);
        self.cache_evictions
            .inc_by(evicted.saturating_sub(self.cache_evictions.get()));
        self.served_stale.inc_by(stale.saturating_sub(self.served_stale.get()));
    }

    pub(crate) fn issued(&self) {
        self.issued.inc();
    }

    pub(crate) fn refused(&self, error: &str) {
        self.refused.with_label_values(&[error]).inc();
    }

    pub(crate) fn credential_read(&self) {
        self.credential_reads.inc();
    }

    pub(crate) fn cache_reset(&self) {
        self.cache_resets.inc();
    }

    pub(crate) fn secret_checked(&self) {
        self.secret_checks.inc();
    }

    pub(crate) fn authentication_failed(&self, throttled: bool) {
        let throttled = if throttled { "true" } else { "false" };
        self.authentication_failures.with_label_values(&[throttled]).inc();
    }
}

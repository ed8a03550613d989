//! The token service's Prometheus metrics (served at `/metrics` by the server).

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

/// Counters of the token, introspection and revocation endpoints.
#[derive(Clone)]
pub struct TokenMetrics {
    issued: IntCounter,
    refused: IntCounterVec,
    authentication_failures: IntCounterVec,
    secret_checks: IntCounter,
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
        registry.register(Box::new(issued.clone()))?;
        registry.register(Box::new(secret_checks.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(authentication_failures.clone()))?;
        Ok(Self {
            issued,
            refused,
            authentication_failures,
            secret_checks,
        })
    }

    pub(crate) fn issued(&self) {
        self.issued.inc();
    }

    pub(crate) fn refused(&self, error: &str) {
        self.refused.with_label_values(&[error]).inc();
    }

    pub(crate) fn secret_checked(&self) {
        self.secret_checks.inc();
    }

    pub(crate) fn authentication_failed(&self, throttled: bool) {
        let throttled = if throttled { "true" } else { "false" };
        self.authentication_failures.with_label_values(&[throttled]).inc();
    }
}

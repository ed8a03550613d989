//! `/metrics` in the Prometheus text format: the token service's counters, request latency,
//! the database pool and the signing-key schedule.

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use gatepass_auth::keys::{KeyManager, KeyState};
use gatepass_core::Clock;
use gatepass_store::Database;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

/// Every metric of a node.
pub struct Metrics {
    /// Where the token service registers its counters too.
    pub registry: Registry,
    requests: HistogramVec,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    keys: IntGaugeVec,
}

/// What a scrape reads at the moment it happens.
pub struct Sources {
    pub db: Database,
    pub keys: Arc<KeyManager>,
    pub clock: Arc<dyn Clock>,
}

impl Metrics {
    /// A registry with the server's own metrics.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = HistogramVec::new(
            HistogramOpts::new(
                "gatepass_http_request_duration_seconds",
                "Time from request head to response, by route pattern, method and status",
            )
            .buckets(prometheus::exponential_buckets(0.000_25, 2.0, 14)?),
            &["route", "method", "status"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("gatepass_db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let pool_max = IntGauge::new("gatepass_db_pool_max_connections", "Most connections the pool opens")?;
        let keys = IntGaugeVec::new(
            Opts::new(
                "gatepass_signing_keys",
                "Signing keys by schedule state (pending, active, retired)",
            ),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(keys.clone()))?;
        Ok(Self {
            registry,
            requests,
            pool,
            pool_max,
            keys,
        })
    }

    /// The text document, with the gauges read now.
    fn render(&self, sources: &Sources) -> String {
        let (open, idle, max) = sources.db.pool_state();
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(open.saturating_sub(idle)));
        self.pool_max.set(i64::from(max));
        let states = sources.keys.ring().states(sources.clock.now().unix_timestamp());
        for (state, name) in [
            (KeyState::Pending, "pending"),
            (KeyState::Active, "active"),
            (KeyState::Retired, "retired"),
        ] {
            let count = states.iter().filter(|s| **s == state).count();
            self.keys
                .with_label_values(&[name])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let mut text = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            log::error!("metrics could not be encoded: {error}");
        }
        String::from_utf8(text).unwrap_or_default()
    }

    /// Records one answered request in the latency histogram, labelled by the route pattern
    /// (never the raw path, which would let callers mint labels).
    pub fn observe(&self, method: &Method, request: &HttpRequest, status: StatusCode, started: Instant) {
        let route = request.match_pattern();
        let known = matches!(
            method.as_str(),
            "GET" | "POST" | "PATCH" | "PUT" | "DELETE" | "HEAD" | "OPTIONS"
        );
        self.requests
            .with_label_values(&[
                route.as_deref().unwrap_or("unmatched"),
                if known { method.as_str() } else { "other" },
                status.as_str(),
            ])
            .observe(started.elapsed().as_secs_f64());
    }
}

/// `GET /metrics`.
pub async fn scrape(metrics: web::Data<Metrics>, sources: web::Data<Sources>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, TextEncoder::new().format_type()))
        .body(metrics.render(&sources))
}

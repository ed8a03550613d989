//! Configuration: `config/default.toml` < `--config FILE` < `GATEPASS__SECTION__KEY`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use gatepass_auth::change_feed::FeedSettings;
use gatepass_auth::credential_cache::CacheSettings;
use gatepass_auth::keys::{KeySettings, SigningAlgorithm};
use gatepass_auth::throttle::FailureLimits;
use gatepass_core::SecretPrefix;
use gatepass_store::DatabaseSettings;
use serde::Deserialize;
use thiserror::Error;

/// The defaults, documented, built into the binary.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// A configuration problem, naming the key.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// figment could not read or type-check a layer (its message names the key and source).
    #[error("configuration: {0}")]
    Load(Box<figment::Error>),
    /// A value has the right type but is not acceptable.
    #[error("configuration: {key}: {message}")]
    Invalid {
        /// The dotted key, e.g. `tokens.default_ttl_seconds`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// The whole configuration, as read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub issuer: String,
    pub data_dir: PathBuf,
    pub server: ServerSection,
    pub database: DatabaseSection,
    pub secrets: SecretsSection,
    pub tokens: TokensSection,
    pub cache: CacheSection,
    pub limits: LimitsSection,
    pub keys: KeysSection,
    pub admin: AdminSection,
    pub audit: AuditSection,
    pub log: LogSection,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    pub retention_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub four_eyes: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub bind: String,
    pub admin_bind: String,
    pub workers: usize,
    pub max_connections: usize,
    pub request_timeout_ms: u64,
    pub keep_alive_seconds: u64,
    pub shutdown_timeout_seconds: u64,
    pub max_url_bytes: usize,
    pub max_header_bytes: usize,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    pub admin_tls_cert_file: String,
    pub admin_tls_key_file: String,
    pub body_timeout_ms: u64,
    pub max_connections_per_address: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub failed_auth_per_client: u32,
    pub failed_auth_per_address: u32,
    pub failed_auth_window_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub url: String,
    pub pool_size: u32,
    pub token_read_pool_size: u32,
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSection {
    pub prefix: String,
    pub master_key_file: String,
    pub generate_master_key: bool,
    pub max_per_client: usize,
    pub max_age_days: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensSection {
    pub default_ttl_seconds: i64,
    pub body_limit_bytes: usize,
    pub usage_flush_interval_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    pub max_age_seconds: u64,
    pub max_entries: u64,
    pub change_poll_ms: u64,
    pub change_feed_retention_seconds: u64,
    pub stale_if_error_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSection {
    pub algorithm: SigningAlgorithm,
    pub rotation_interval_seconds: u64,
    pub publish_ahead_seconds: u64,
    pub jwks_max_age_seconds: u64,
    pub refresh_interval_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub level: String,
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line each.
    Text,
    /// One JSON object each.
    Json,
}

/// `server.*` limits, as the HTTP server takes them.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub request_timeout: Duration,
    pub keep_alive: Duration,
    pub shutdown_timeout: u64,
}

/// Largest request line and headers accepted.
#[derive(Clone, Copy, Debug)]
pub struct HeadLimits {
    pub max_url_bytes: usize,
    pub max_header_bytes: usize,
}

impl Settings {
    /// `secrets.max_age_days` in seconds; `None` when no rotation policy is set.
    pub fn max_secret_age(&self) -> Option<i64> {
        (self.secrets.max_age_days > 0).then(|| i64::from(self.secrets.max_age_days) * 86_400)
    }

    /// Reads the layers and validates the result.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(file) = file {
            if !file.exists() {
                return Err(invalid("--config", format!("{} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        let figment = figment.merge(Env::prefixed("GATEPASS__").split("__"));
        let settings: Self = figment.extract().map_err(|e| ConfigError::Load(Box::new(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        self.admin_bind_addr()?;
        if !self.issuer.is_empty() && !self.issuer.starts_with("https://") && !self.issuer.starts_with("http://") {
            return Err(invalid("issuer", "must be an http:// or https:// URL"));
        }
        if self.issuer.chars().any(char::is_whitespace) {
            return Err(invalid("issuer", "must not contain whitespace"));
        }
        SecretPrefix::parse(&self.secrets.prefix).map_err(|e| invalid("secrets.prefix", e.to_string()))?;
        if !gatepass_core::TOKEN_TTL_SECONDS.contains(&self.tokens.default_ttl_seconds) {
            return Err(invalid("tokens.default_ttl_seconds", "must be between 60 and 86400"));
        }
        if self.tokens.body_limit_bytes < 1024 {
            return Err(invalid("tokens.body_limit_bytes", "must be at least 1024"));
        }
        if !(100..=60_000).contains(&self.tokens.usage_flush_interval_ms) {
            return Err(invalid(
                "tokens.usage_flush_interval_ms",
                "must be between 100 and 60000",
            ));
        }
        self.validate_cache()?;
        if !(1..=20).contains(&self.secrets.max_per_client) {
            return Err(invalid("secrets.max_per_client", "must be between 1 and 20"));
        }
        if self.server.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be at least 1"));
        }
        if self.server.max_url_bytes < 256 {
            return Err(invalid("server.max_url_bytes", "must be at least 256"));
        }
        if self.server.max_header_bytes < 1024 {
            return Err(invalid("server.max_header_bytes", "must be at least 1024"));
        }
        if self.server.request_timeout_ms == 0 {
            return Err(invalid("server.request_timeout_ms", "must be at least 1"));
        }
        self.validate_tls()?;
        if self.server.body_timeout_ms == 0 {
            return Err(invalid("server.body_timeout_ms", "must be at least 1"));
        }
        if self.limits.failed_auth_window_seconds == 0 {
            return Err(invalid("limits.failed_auth_window_seconds", "must be at least 1"));
        }
        if self.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1"));
        }
        let keys = &self.keys;
        if keys.refresh_interval_seconds == 0 {
            return Err(invalid("keys.refresh_interval_seconds", "must be at least 1"));
        }
        if keys.publish_ahead_seconds < keys.jwks_max_age_seconds + keys.refresh_interval_seconds {
            return Err(invalid(
                "keys.publish_ahead_seconds",
                "must be at least keys.jwks_max_age_seconds + keys.refresh_interval_seconds",
            ));
        }
        if keys.rotation_interval_seconds <= keys.publish_ahead_seconds {
            return Err(invalid(
                "keys.rotation_interval_seconds",
                "must be longer than keys.publish_ahead_seconds",
            ));
        }
        if !["error", "warn", "info", "debug", "trace", "off"].contains(&self.log.level.as_str()) {
            return Err(invalid(
                "log.level",
                "must be one of error, warn, info, debug, trace, off",
            ));
        }
        Ok(())
    }

    /// TLS keys come in pairs; admin TLS needs the separate admin listener. The files
    /// themselves are read when the server starts (`crate::tls`).
    fn validate_tls(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        if server.tls_cert_file.is_empty() != server.tls_key_file.is_empty() {
            return Err(invalid(
                "server.tls_cert_file",
                "server.tls_cert_file and server.tls_key_file go together",
            ));
        }
        if server.admin_tls_cert_file.is_empty() != server.admin_tls_key_file.is_empty() {
            return Err(invalid(
                "server.admin_tls_cert_file",
                "server.admin_tls_cert_file and server.admin_tls_key_file go together",
            ));
        }
        if !server.admin_tls_cert_file.is_empty() && server.admin_bind.is_empty() {
            return Err(invalid(
                "server.admin_tls_cert_file",
                "needs server.admin_bind (without it the admin API is on server.bind and uses server.tls_*)",
            ));
        }
        Ok(())
    }

    /// The public listener's certificate files, when it serves HTTPS.
    pub fn public_tls(&self) -> Option<TlsFiles> {
        (!self.server.tls_cert_file.is_empty()).then(|| TlsFiles {
            cert: PathBuf::from(&self.server.tls_cert_file),
            key: PathBuf::from(&self.server.tls_key_file),
            cert_setting: "server.tls_cert_file",
            key_setting: "server.tls_key_file",
        })
    }

    /// The separate admin listener's certificate files, when it serves HTTPS.
    pub fn admin_tls(&self) -> Option<TlsFiles> {
        (!self.server.admin_tls_cert_file.is_empty()).then(|| TlsFiles {
            cert: PathBuf::from(&self.server.admin_tls_cert_file),
            key: PathBuf::from(&self.server.admin_tls_key_file),
            cert_setting: "server.admin_tls_cert_file",
            key_setting: "server.admin_tls_key_file",
        })
    }

    /// The limits on failed client authentication.
    pub fn failure_limits(&self) -> FailureLimits {
        FailureLimits {
            per_client: self.limits.failed_auth_per_client,
            per_address: self.limits.failed_auth_per_address,
            window: Duration::from_secs(self.limits.failed_auth_window_seconds),
        }
    }

    /// Connection limits and timeouts of the listeners.
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.server.max_connections,
            request_timeout: Duration::from_millis(self.server.request_timeout_ms),
            keep_alive: Duration::from_secs(self.server.keep_alive_seconds),
            shutdown_timeout: self.server.shutdown_timeout_seconds,
        }
    }

    /// The total time a request body may take to arrive.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.server.body_timeout_ms)
    }

    /// The URL and header size limits.
    pub fn head_limits(&self) -> HeadLimits {
        HeadLimits {
            max_url_bytes: self.server.max_url_bytes,
            max_header_bytes: self.server.max_header_bytes,
        }
    }

    /// The public listener's address.
    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server
            .bind
            .parse()
            .map_err(|_| invalid("server.bind", "must be HOST:PORT, e.g. 127.0.0.1:8080"))
    }

    /// The separate admin listener's address, if one is configured.
    pub fn admin_bind_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if self.server.admin_bind.is_empty() {
            return Ok(None);
        }
        self.server
            .admin_bind
            .parse()
            .map(Some)
            .map_err(|_| invalid("server.admin_bind", "must be empty or HOST:PORT, e.g. 127.0.0.1:8081"))
    }

    /// Database settings; the URL defaults to `SQLite` in the data directory.
    pub fn database(&self) -> DatabaseSettings {
        let url = if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("gatepass.db").display())
        } else {
            self.database.url.clone()
        };
        DatabaseSettings {
            url,
            pool_size: self.database.pool_size,
            token_read_pool_size: self.database.token_read_pool_size,
            acquire_timeout: Duration::from_millis(self.database.acquire_timeout_ms),
            min_idle: 1,
        }
    }

    /// The issuer: configured, or `http://` (`https://` with TLS) followed by the listening
    /// address.
    pub fn issuer(&self, listening: SocketAddr) -> String {
        if self.issuer.is_empty() {
            let scheme = if self.public_tls().is_some() { "https" } else { "http" };
            format!("{scheme}://{listening}")
        } else {
            self.issuer.clone()
        }
    }

    fn validate_cache(&self) -> Result<(), ConfigError> {
        let cache = &self.cache;
        if !(1..=86_400).contains(&cache.max_age_seconds) {
            return Err(invalid("cache.max_age_seconds", "must be between 1 and 86400"));
        }
        if !(100..=10_000_000).contains(&cache.max_entries) {
            return Err(invalid("cache.max_entries", "must be between 100 and 10000000"));
        }
        // The feed is current for a second after a read: a slower poll would read the
        // database on every request in between.
        if !(50..=500).contains(&cache.change_poll_ms) {
            return Err(invalid("cache.change_poll_ms", "must be between 50 and 500"));
        }
        if !(60..=604_800).contains(&cache.change_feed_retention_seconds) {
            return Err(invalid(
                "cache.change_feed_retention_seconds",
                "must be between 60 and 604800",
            ));
        }
        if cache.stale_if_error_seconds > 86_400 {
            return Err(invalid(
                "cache.stale_if_error_seconds",
                "must be at most 86400 (0: off)",
            ));
        }
        Ok(())
    }

    /// The credential cache.
    pub fn cache_settings(&self) -> CacheSettings {
        CacheSettings {
            max_age: Duration::from_secs(self.cache.max_age_seconds),
            max_entries: self.cache.max_entries,
            stale_if_error: Duration::from_secs(self.cache.stale_if_error_seconds),
        }
    }

    /// The change feed.
    pub fn feed_settings(&self) -> FeedSettings {
        FeedSettings {
            poll: Duration::from_millis(self.cache.change_poll_ms),
            retention: Duration::from_secs(self.cache.change_feed_retention_seconds),
        }
    }

    /// The key schedule.
    pub fn key_settings(&self) -> KeySettings {
        KeySettings {
            algorithm: self.keys.algorithm,
            rotation_interval: Duration::from_secs(self.keys.rotation_interval_seconds),
            publish_ahead: Duration::from_secs(self.keys.publish_ahead_seconds),
            jwks_max_age: Duration::from_secs(self.keys.jwks_max_age_seconds),
            refresh_interval: Duration::from_secs(self.keys.refresh_interval_seconds),
            max_token_ttl: Duration::from_secs(gatepass_core::TOKEN_TTL_SECONDS.end().unsigned_abs()),
        }
    }

    /// The secret prefix (validated at load).
    pub fn secret_prefix(&self) -> SecretPrefix {
        SecretPrefix::parse(&self.secrets.prefix).unwrap_or_else(|_| unreachable!("validated at load"))
    }

    /// The configured master key file, if any.
    pub fn master_key_file(&self) -> Option<&Path> {
        (!self.secrets.master_key_file.is_empty()).then(|| Path::new(&self.secrets.master_key_file))
    }
}

/// Where a listener's certificate chain and key are, and the configuration keys naming them.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// PEM file with the certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The configuration key of `cert`, for messages, e.g. `server.tls_cert_file`.
    pub cert_setting: &'static str,
    /// The configuration key of `key`, for messages, e.g. `server.tls_key_file`.
    pub key_setting: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(toml: &str) -> Result<Settings, ConfigError> {
        let settings: Settings = Figment::from(Toml::string(DEFAULTS))
            .merge(Toml::string(toml))
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        settings.validate().map(|()| settings)
    }

    #[test]
    fn defaults_are_valid() {
        let settings = with("").unwrap();
        assert_eq!(settings.server.bind, "127.0.0.1:8080");
        assert_eq!(settings.database().url, "sqlite://./data/gatepass.db");
        assert_eq!(
            settings.issuer("127.0.0.1:9000".parse().unwrap()),
            "http://127.0.0.1:9000"
        );
        let tls = with("[server]\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"").unwrap();
        assert_eq!(tls.issuer("127.0.0.1:9000".parse().unwrap()), "https://127.0.0.1:9000");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[server]\nbind = \"nowhere\"", "server.bind"),
            ("[tokens]\ndefault_ttl_seconds = 5", "tokens.default_ttl_seconds"),
            ("[secrets]\nprefix = \"GPS\"", "secrets.prefix"),
            ("[keys]\npublish_ahead_seconds = 10", "keys.publish_ahead_seconds"),
            ("[keys]\nalgorithm = \"HS256\"", "algorithm"),
            ("[server]\nbindd = \"x\"", "bindd"),
            ("[tokens]\ndefault_ttl_seconds = \"soon\"", "default_ttl_seconds"),
            ("issuer = \"ftp://x\"", "issuer"),
            ("[server]\ntls_cert_file = \"c.pem\"", "server.tls_cert_file"),
            ("[server]\nadmin_tls_key_file = \"k.pem\"", "server.admin_tls_cert_file"),
            (
                "[server]\nadmin_tls_cert_file = \"c.pem\"\nadmin_tls_key_file = \"k.pem\"",
                "server.admin_tls_cert_file",
            ),
        ];
        for (toml, key) in cases {
            let message = with(toml).unwrap_err().to_string();
            assert!(message.contains(key), "{toml:?} gave {message:?}");
        }
    }
}

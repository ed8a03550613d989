//! Fetching the issuer's metadata and JWKS, and holding the keys.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// The verification keys by `kid`, each with the one algorithm it may be used with.
#[derive(Default)]
pub(crate) struct KeySet(HashMap<String, (DecodingKey, Algorithm)>);

impl KeySet {
    /// Keeps only signing keys with a `kid` whose algorithm is allowed.
    pub(crate) fn from_jwks(set: &JwkSet, allowed: &[Algorithm]) -> Self {
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = &jwk.common.key_id else { continue };
            if matches!(&jwk.common.public_key_use, Some(usage) if *usage != PublicKeyUse::Signature) {
                continue;
            }
            let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                (Some(KeyAlgorithm::ES256), _) => Algorithm::ES256,
                (Some(KeyAlgorithm::EdDSA), _) => Algorithm::EdDSA,
                (None, AlgorithmParameters::EllipticCurve(p)) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
                (None, AlgorithmParameters::OctetKeyPair(p)) if p.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
                _ => continue,
            };
            if !allowed.contains(&algorithm) {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid.clone(), (key, algorithm));
            }
        }
        Self(keys)
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&(DecodingKey, Algorithm)> {
        self.0.get(kid)
    }
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

/// Why the issuer could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request to the issuer failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the issuer's metadata names issuer {0:?}, not the configured one")]
    IssuerMismatch(String),
}

/// Where the keys come from.
pub(crate) struct Source {
    http: reqwest::Client,
    issuer: String,
}

impl Source {
    pub(crate) fn new(issuer: &str, timeout: Duration) -> Self {
        #[cfg(feature = "tls")]
        {
            // reqwest is built without a TLS provider: use ring, like the rest of the stack.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let http = reqwest::Client::builder().timeout(timeout).build().unwrap_or_default();
        Self {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
        }
    }

    /// Reads the metadata (RFC 8414, then OpenID discovery) for `jwks_uri`, then the JWKS.
    /// Returns the keys and the `max-age` the issuer asked for.
    pub(crate) async fn fetch(&self) -> Result<(JwkSet, Option<Duration>), FetchError> {
        let metadata: Metadata = match self
            .get_json(&format!("{}/.well-known/oauth-authorization-server", self.issuer))
            .await
        {
            Ok((metadata, _)) => metadata,
            Err(_) => {
                self.get_json(&format!("{}/.well-known/openid-configuration", self.issuer))
                    .await?
                    .0
            }
        };
        if metadata.issuer.trim_end_matches('/') != self.issuer {
            return Err(FetchError::IssuerMismatch(metadata.issuer));
        }
        Ok(self.get_json(&metadata.jwks_uri).await?)
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(&self, url: &str) -> Result<(T, Option<Duration>), reqwest::Error> {
        let response = self.http.get(url).send().await?.error_for_status()?;
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        Ok((response.json().await?, max_age))
    }
}

/// `max-age=N` from a `Cache-Control` value.
fn max_age(value: &str) -> Option<Duration> {
    value
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|seconds| seconds.trim_matches('"').parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_max_age() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("max-age=\"5\""), Some(Duration::from_secs(5)));
        assert_eq!(max_age("no-store"), None);
    }

    #[test]
    fn keeps_only_allowed_signing_keys_with_a_kid() {
        let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "kid": "a", "alg": "ES256", "use": "sig",
             "x": "F0BDPpLX9WKp3TGJ87SyyzfjYf1FVGKd5VaEdlsPc9U", "y": "D_WMyGqvZI7YOgQLMxMrcuPpQMoBiZAWRjGoDAiEGmQ"},
            {"kty": "EC", "crv": "P-256", "alg": "ES256",
             "x": "F0BDPpLX9WKp3TGJ87SyyzfjYf1FVGKd5VaEdlsPc9U", "y": "D_WMyGqvZI7YOgQLMxMrcuPpQMoBiZAWRjGoDAiEGmQ"},
            {"kty": "EC", "crv": "P-256", "kid": "enc", "use": "enc",
             "x": "F0BDPpLX9WKp3TGJ87SyyzfjYf1FVGKd5VaEdlsPc9U", "y": "D_WMyGqvZI7YOgQLMxMrcuPpQMoBiZAWRjGoDAiEGmQ"},
            {"kty": "oct", "kid": "hmac", "alg": "HS256", "k": "c2VjcmV0"}
        ]}))
        .unwrap();
        let keys = KeySet::from_jwks(&set, &[Algorithm::ES256, Algorithm::EdDSA]);
        assert!(keys.get("a").is_some_and(|(_, alg)| *alg == Algorithm::ES256));
        assert!(keys.get("enc").is_none());
        assert!(keys.get("hmac").is_none());
        assert!(KeySet::from_jwks(&set, &[Algorithm::EdDSA]).get("a").is_none());
    }
}

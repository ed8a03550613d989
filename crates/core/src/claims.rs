use serde::{Deserialize, Serialize};

use crate::Audience;

/// The lifetimes an access token may have, in seconds (60 s to 24 h): the bound for a
/// client's override and the server's default alike, and what the key schedule keeps a
/// retired key published for, so no key leaves the JWKS before a token it signed expires.
pub const TOKEN_TTL_SECONDS: std::ops::RangeInclusive<i64> = 60..=86_400;

/// The claims of a Gatepass access token (RFC 9068 §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer: the server's configured issuer URL.
    pub iss: String,
    /// Subject: the client id (RFC 9068 §2.2 for client-credentials tokens).
    pub sub: String,
    /// Audience(s) the token is for.
    pub aud: Audiences,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Not before, seconds since the epoch (equal to `iat`).
    pub nbf: i64,
    /// Unique token id, the handle for revocation.
    pub jti: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The service account the client belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Role names of that service account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The id of the client secret that obtained the token (never the secret): introspection
    /// answers `active: false` once that secret is revoked or deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_id: Option<String>,
}

/// `aud`: a single string when there is one audience, an array otherwise (RFC 7519 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audiences {
    /// Exactly one audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audiences {
    /// The `aud` value for a list of audiences.
    pub fn from_list(list: &[Audience]) -> Self {
        match list {
            [one] => Self::One(one.as_str().to_owned()),
            many => Self::Many(many.iter().map(|a| a.as_str().to_owned()).collect()),
        }
    }

    /// Whether `audience` is among them.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(one) => one == audience,
            Self::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aud_is_a_string_for_one_and_an_array_for_many() {
        let one = Audiences::from_list(&[Audience::parse("a").unwrap()]);
        assert_eq!(serde_json::to_string(&one).unwrap(), r#""a""#);
        let many = Audiences::from_list(&[Audience::parse("a").unwrap(), Audience::parse("b").unwrap()]);
        assert_eq!(serde_json::to_string(&many).unwrap(), r#"["a","b"]"#);
        assert!(many.contains("b") && !many.contains("c"));
    }
}

use thiserror::Error;

/// Why a value from outside (a request, a config file, a database row) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Not a `gpc_…` client id.
    #[error("not a valid client id")]
    ClientId,
    /// Not a well-formed key id.
    #[error("not a valid key id")]
    Kid,
    /// The secret does not have the Gatepass shape (prefix, body, checksum).
    #[error("not a valid client secret")]
    SecretFormat,
    /// The secret has the right shape but its checksum does not match: a typo.
    #[error("client secret checksum mismatch")]
    SecretChecksum,
    /// A secret prefix must be 1–16 characters of `a-z0-9_` ending in `_`.
    #[error("secret prefix must be 1-16 characters of a-z, 0-9 and _, ending in _")]
    SecretPrefix,
    /// A scope token with characters RFC 6749 §3.3 does not allow, or an empty one.
    #[error("invalid scope token {0:?}")]
    Scope(String),
    /// An audience that is empty, too long or contains whitespace or control characters.
    #[error("invalid audience {0:?}")]
    Audience(String),
    /// A master key that is not 32 bytes of base64.
    #[error("master key must be 32 bytes, base64-encoded")]
    MasterKey,
    /// A timestamp not in `yyyy-MM-ddTHH:mm:ssZ`.
    #[error("timestamp must look like 2026-01-31T23:59:59Z")]
    Timestamp,
}

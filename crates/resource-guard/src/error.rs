use thiserror::Error;

/// Why a token was refused. Each maps to one RFC 6750 answer in [`crate::actix`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// Too long, not three segments, or undecodable.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not in the allow-list (this includes `none` and every HMAC).
    #[error("algorithm not allowed")]
    DisallowedAlgorithm,
    /// `typ` is not `at+jwt`.
    #[error("not an access token (typ must be at+jwt)")]
    WrongType,
    /// No `kid` in the header.
    #[error("token names no key")]
    MissingKid,
    /// The `kid` is not in the issuer's JWKS, even after a refresh.
    #[error("unknown signing key")]
    UnknownKid,
    /// The header's `alg` differs from the key's.
    #[error("algorithm does not match the key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the expected audience.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim is missing or has the wrong type.
    #[error("missing or malformed claim")]
    BadClaims,
    /// The token is valid but lacks a required scope.
    #[error("insufficient scope")]
    InsufficientScope,
    /// The guard has never managed to load the issuer's keys: answer 503, not 401.
    #[error("signing keys not loaded yet")]
    NotReady,
    /// Introspection says the token is no longer active (revoked, or its secret or client was).
    #[error("token revoked")]
    Revoked,
    /// Introspection was asked for but the issuer could not answer (or none is configured):
    /// answer 503, not 401.
    #[error("introspection unavailable")]
    IntrospectionUnavailable,
}

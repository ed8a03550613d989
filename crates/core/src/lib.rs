//! Gatepass's domain types, free of I/O.
//!
//! This crate owns what every other crate agrees on: client identifiers
//! ([`ClientId`]), the client secret format ([`ClientSecret`]) and its keyed hash
//! ([`SecretPepper`]), the master key and what is derived from it ([`MasterKey`]),
//! scopes and audiences ([`ScopeSet`], [`Audience`]), access-token claims
//! ([`AccessTokenClaims`]), the grant policy ([`policy::decide`]) and the [`Clock`].
//!
//! ```
//! use gatepass_core::{ClientSecret, SecretPrefix};
//!
//! let prefix = SecretPrefix::parse("gps_").unwrap();
//! let secret = ClientSecret::generate(&prefix).unwrap();
//! assert!(secret.expose().starts_with("gps_"));
//! // A typo is caught offline by the checksum.
//! let mut typo = secret.expose().to_owned();
//! typo.replace_range(10..11, if &typo[10..11] == "a" { "b" } else { "a" });
//! assert!(ClientSecret::parse(&typo).is_err());
//! ```
#![forbid(unsafe_code)]

mod audience;
mod base;
mod claims;
mod clock;
mod error;
mod ids;
pub mod jwt_crypto;
mod master_key;
pub mod policy;
mod request_id;
mod scopes;
mod secrets;
mod standing;
mod timestamps;

pub use audience::Audience;
pub use claims::{AccessTokenClaims, Audiences, TOKEN_TTL_SECONDS};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ParseError;
pub use ids::{ClientId, Kid};
pub use master_key::MasterKey;
pub use request_id::RequestId;
pub use scopes::{ADMIN_SCOPE, Scope, ScopeSet};
pub use secrets::{ClientSecret, KEY_PREFIX_LEN, SecretHash, SecretPepper, SecretPrefix};
pub use standing::{Lapse, Standing};
pub use timestamps::{format_utc, parse_utc};

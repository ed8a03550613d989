use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use crate::{ParseError, base};

/// A client id: `gpc_` + 26 lowercase Crockford base32 characters of a `UUIDv7`.
///
/// Sortable by creation time and safe in URLs and form bodies without escaping.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// The fixed prefix of every client id.
    pub const PREFIX: &'static str = "gpc_";

    /// A new id from a fresh `UUIDv7`.
    pub fn generate() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }

    /// The id that encodes `uuid`.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(format!("{}{}", Self::PREFIX, base::crockford_u128(uuid.as_u128())))
    }

    /// Parses a client id, refusing anything that is not exactly the Gatepass shape.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let body = value.strip_prefix(Self::PREFIX).ok_or(ParseError::ClientId)?;
        let valid =
            body.len() == 26 && body.bytes().all(|b| base::CROCKFORD.contains(&b)) && body.as_bytes()[0] <= b'7';
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::ClientId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

impl<'de> Deserialize<'de> for ClientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A signing key id (`kid`): `gpk_` + 26 Crockford base32 characters of a `UUIDv7`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Kid(String);

impl Kid {
    /// The fixed prefix of every key id.
    pub const PREFIX: &'static str = "gpk_";

    /// A new key id, sortable by creation time.
    pub fn generate() -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            base::crockford_u128(Uuid::now_v7().as_u128())
        ))
    }

    /// Parses a key id.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let body = value.strip_prefix(Self::PREFIX).ok_or(ParseError::Kid)?;
        if body.len() == 26 && body.bytes().all(|b| base::CROCKFORD.contains(&b)) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::Kid)
        }
    }

    /// The key id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_client_ids_parse_and_sort_by_creation() {
        let first = ClientId::generate();
        // UUIDv7 orders by the real millisecond it is made in; ids take no clock.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = ClientId::generate();
        assert_eq!(ClientId::parse(first.as_str()).unwrap(), first);
        assert_eq!(first.as_str().len(), 30);
        assert!(first < second);
    }

    #[test]
    fn client_id_parse_refuses_other_shapes() {
        let good = ClientId::generate().to_string();
        let cases = [
            String::new(),
            "gpc_".to_owned(),
            good.to_uppercase(),
            good.replace("gpc_", "gps_"),
            format!("{good}0"),
            good[..good.len() - 1].to_owned(),
            format!("gpc_{}", "i".repeat(26)),
            format!("gpc_8{}", "0".repeat(25)),
            format!("gpc_{}\0", "0".repeat(25)),
        ];
        for case in cases {
            assert_eq!(ClientId::parse(&case), Err(ParseError::ClientId), "{case:?}");
        }
    }

    #[test]
    fn kid_roundtrips() {
        let kid = Kid::generate();
        assert_eq!(Kid::parse(kid.as_str()).unwrap(), kid);
        assert!(Kid::parse("../../etc/passwd").is_err());
    }
}

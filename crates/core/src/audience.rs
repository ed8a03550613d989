use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ParseError;

/// An audience value: the resource server a token is meant for (`aud`, RFC 8707 `resource`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Audience(String);

impl Audience {
    /// Longest audience accepted.
    pub const MAX_LEN: usize = 255;

    /// Parses an audience: 1–255 visible ASCII characters, no whitespace.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let valid = !value.is_empty() && value.len() <= Self::MAX_LEN && value.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::Audience(value.to_owned()))
        }
    }

    /// The audience as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_rules() {
        assert!(Audience::parse("https://api.example.com").is_ok());
        assert!(Audience::parse("billing").is_ok());
        for bad in ["", "a b", "a\nb", "é", &"a".repeat(256)] {
            assert!(Audience::parse(bad).is_err(), "{bad:?}");
        }
    }
}

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ParseError;

/// One scope token (RFC 6749 §3.3): printable ASCII except space, `"` and `\`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(String);

impl Scope {
    /// Longest scope token accepted.
    pub const MAX_LEN: usize = 128;

    /// Parses a single scope token.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let valid = !value.is_empty()
            && value.len() <= Self::MAX_LEN
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::Scope(value.to_owned()))
        }
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Gatepass's own top scope: it grants every scope (every admin operation, and the power
/// to grant any scope to others).
pub const ADMIN_SCOPE: &str = "gatepass:admin";

/// A set of scopes; written as space-separated tokens (the `scope` parameter and claim).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-separated list (RFC 6749 §3.3). Empty text is the empty set;
    /// empty tokens (double, leading or trailing spaces) are refused.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        if value.is_empty() {
            return Ok(Self::default());
        }
        value.split(' ').map(Scope::parse).collect::<Result<_, _>>().map(Self)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both sets.
    #[must_use]
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.intersection(&other.0).cloned().collect())
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.0 == scope)
    }

    /// Whether the set grants `scope`: holds it, or holds [`ADMIN_SCOPE`].
    pub fn grants(&self, scope: &str) -> bool {
        self.contains(scope) || self.contains(ADMIN_SCOPE)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<T: IntoIterator<Item = Scope>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&scope.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_space_separated_scopes_in_order() {
        let set = ScopeSet::parse("sites:read scripts:write gatepass:admin").unwrap();
        assert_eq!(set.to_string(), "gatepass:admin scripts:write sites:read");
        assert_eq!(ScopeSet::parse("").unwrap(), ScopeSet::default());
    }

    #[test]
    fn a_set_grants_what_it_holds_and_the_admin_scope_grants_everything() {
        let reader = ScopeSet::parse("gatepass:introspect sites:read").unwrap();
        assert!(reader.grants("gatepass:introspect") && reader.grants("sites:read"));
        assert!(!reader.grants("gatepass:clients:read"));
        let admin = ScopeSet::parse(ADMIN_SCOPE).unwrap();
        assert!(admin.grants("gatepass:introspect") && admin.grants("sites:read"));
    }

    #[test]
    fn refuses_tokens_rfc6749_does_not_allow() {
        for bad in [" a", "a ", "a  b", "a\"b", "a\\b", "a\tb", "é", "a\0", &"x".repeat(129)] {
            assert!(ScopeSet::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn subset_and_intersection() {
        let all = ScopeSet::parse("a b c").unwrap();
        let some = ScopeSet::parse("a c").unwrap();
        assert!(some.is_subset(&all));
        assert!(!all.is_subset(&some));
        assert_eq!(all.intersection(&ScopeSet::parse("c d").unwrap()).to_string(), "c");
    }
}

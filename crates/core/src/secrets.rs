use std::fmt;

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{ParseError, base};

/// Random body length in base62 characters: 43 digits hold 256 bits.
const BODY_LEN: usize = 43;
/// Checksum length in base62 characters: 6 digits hold a CRC32.
const CHECKSUM_LEN: usize = 6;
/// How many leading characters of a secret are shown in listings.
pub const KEY_PREFIX_LEN: usize = 12;

/// The configurable prefix of new secrets (`secrets.prefix`), e.g. `gps_` or `gps_test_`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretPrefix(String);

impl SecretPrefix {
    /// Parses a prefix: 1–16 characters of `a-z0-9_`, ending in `_`.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let valid = (1..=16).contains(&value.len())
            && value.ends_with('_')
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::SecretPrefix)
        }
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client secret: `<prefix>` + 43 base62 characters (256 random bits) + 6 base62
/// characters of a CRC32 of everything before them.
///
/// The value is wiped from memory on drop and never printed by `Debug`.
#[derive(Clone)]
pub struct ClientSecret(Zeroizing<String>);

impl ClientSecret {
    /// A fresh secret with 256 bits from the operating system's CSPRNG (via ring).
    pub fn generate(prefix: &SecretPrefix) -> Result<Self, ring::error::Unspecified> {
        let mut random = Zeroizing::new([0u8; 32]);
        SystemRandom::new().fill(random.as_mut())?;
        let mut value = Zeroizing::new(String::with_capacity(prefix.0.len() + BODY_LEN + CHECKSUM_LEN));
        value.push_str(&prefix.0);
        value.push_str(&base::base62_fixed(random.as_ref(), BODY_LEN));
        let checksum = checksum(&value);
        value.push_str(&checksum);
        Ok(Self(value))
    }

    /// Parses a presented secret and checks its checksum, so a typo or a foreign string
    /// is refused without touching the database.
    ///
    /// The prefix is not compared with the configured one: secrets issued before a
    /// prefix change keep working.
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let len = value.len();
        if len <= BODY_LEN + CHECKSUM_LEN || len > BODY_LEN + CHECKSUM_LEN + 16 || !value.is_ascii() {
            return Err(ParseError::SecretFormat);
        }
        let (head, sum) = value.split_at(len - CHECKSUM_LEN);
        let (prefix, body) = head.split_at(head.len() - BODY_LEN);
        if SecretPrefix::parse(prefix).is_err() || !base::is_base62(body) || !base::is_base62(sum) {
            return Err(ParseError::SecretFormat);
        }
        if checksum(head).as_bytes().ct_eq(sum.as_bytes()).into() {
            Ok(Self(Zeroizing::new(value.to_owned())))
        } else {
            Err(ParseError::SecretChecksum)
        }
    }

    /// The first characters of the secret, safe to show in listings to tell keys apart.
    pub fn key_prefix(&self) -> &str {
        &self.0[..KEY_PREFIX_LEN]
    }

    /// The secret itself. Only for the one response that shows it, and for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientSecret({}…<hidden>)", self.key_prefix())
    }
}

fn checksum(head: &str) -> String {
    base::base62_fixed(&crc32fast::hash(head.as_bytes()).to_be_bytes(), CHECKSUM_LEN)
}

/// The key of the keyed hash under which secrets are stored (`HMAC-SHA256(pepper, secret)`).
///
/// Derived from the master key, so a stolen database alone cannot be used to test guesses.
pub struct SecretPepper(hmac::Key);

impl SecretPepper {
    /// A pepper from 32 bytes of key material.
    pub(crate) fn new(material: &[u8; 32]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, material))
    }

    /// The keyed hash of a secret: what the store keeps and looks up by.
    pub fn hash(&self, secret: &ClientSecret) -> SecretHash {
        let tag = hmac::sign(&self.0, secret.expose().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        SecretHash(out)
    }
}

impl fmt::Debug for SecretPepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPepper(<hidden>)")
    }
}

/// `HMAC-SHA256(pepper, secret)`: the only form in which a secret is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl SecretHash {
    /// Constant-time equality, for comparing a stored hash with a presented one.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.0.as_slice().ct_eq(other).into()
    }

    /// A hash read back from the database.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix() -> SecretPrefix {
        SecretPrefix::parse("gps_").unwrap()
    }

    #[test]
    fn generated_secret_has_the_documented_shape() {
        let secret = ClientSecret::generate(&prefix()).unwrap();
        let s = secret.expose();
        assert_eq!(s.len(), 4 + 43 + 6);
        assert!(s.starts_with("gps_"));
        assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(secret.key_prefix(), &s[..12]);
        assert_eq!(ClientSecret::parse(s).unwrap().expose(), s);
    }

    #[test]
    fn secrets_are_unique() {
        let a = ClientSecret::generate(&prefix()).unwrap();
        let b = ClientSecret::generate(&prefix()).unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn custom_prefix_is_used_and_accepted() {
        let test_prefix = SecretPrefix::parse("gps_test_").unwrap();
        let secret = ClientSecret::generate(&test_prefix).unwrap();
        assert!(secret.expose().starts_with("gps_test_"));
        assert!(ClientSecret::parse(secret.expose()).is_ok());
    }

    #[test]
    fn every_single_character_typo_is_caught_by_the_checksum() {
        let secret = ClientSecret::generate(&prefix()).unwrap();
        let s = secret.expose();
        for i in 4..s.len() {
            let mut bytes = s.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert!(ClientSecret::parse(&typo).is_err(), "typo at {i} accepted");
        }
    }

    #[test]
    fn malformed_secrets_are_refused() {
        let good = ClientSecret::generate(&prefix()).unwrap().expose().to_owned();
        let cases = [
            String::new(),
            "gps_".to_owned(),
            "x".repeat(100_000),
            good[..good.len() - 1].to_owned(),
            format!("{good}a"),
            good.replacen("gps_", "GPS_", 1),
            good.replacen("gps_", "", 1),
            format!("{}\0{}", &good[..10], &good[11..]),
            format!("{}é{}", &good[..10], &good[12..]),
        ];
        for case in cases {
            assert!(ClientSecret::parse(&case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = ClientSecret::generate(&prefix()).unwrap();
        let shown = format!("{secret:?}");
        assert!(!shown.contains(&secret.expose()[12..]));
        assert!(shown.contains("hidden"));
    }

    #[test]
    fn prefix_rules() {
        for good in ["gps_", "gps_test_", "a_"] {
            assert!(SecretPrefix::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "gps", "GPS_", "gps-", "a_very_long_prefix_", "gps _"] {
            assert!(SecretPrefix::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_depends_on_pepper_and_equality_needs_every_byte() {
        let secret = ClientSecret::generate(&prefix()).unwrap();
        let a = SecretPepper::new(&[1; 32]).hash(&secret);
        let b = SecretPepper::new(&[2; 32]).hash(&secret);
        assert_ne!(a, b);
        assert!(a.ct_eq(&a.0));
        assert!(!a.ct_eq(&b.0));
        assert!(!a.ct_eq(&a.0[..31]));
    }
}

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hkdf;
use zeroize::Zeroizing;

use crate::{ParseError, SecretPepper};

/// The 32-byte root secret of an installation.
///
/// Nothing uses it directly: the secret pepper, the key that encrypts signing keys and
/// the master key's own id are derived from it with HKDF-SHA256 under distinct labels.
pub struct MasterKey(Zeroizing<[u8; 32]>);

const PEPPER_INFO: &[u8] = b"gatepass/v1/secret-pepper";
const KEY_ENCRYPTION_INFO: &[u8] = b"gatepass/v1/signing-key-encryption";
const ID_INFO: &[u8] = b"gatepass/v1/master-key-id";

impl MasterKey {
    /// A master key from raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A master key from standard base64 (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, ParseError> {
        let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| ParseError::MasterKey)?);
        let array = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| ParseError::MasterKey)?;
        Ok(Self::from_bytes(array))
    }

    /// The pepper for hashing client secrets.
    pub fn secret_pepper(&self) -> SecretPepper {
        SecretPepper::new(&self.derive(PEPPER_INFO))
    }

    /// The AES-256-GCM key that encrypts signing keys at rest.
    pub fn key_encryption_key(&self) -> Zeroizing<[u8; 32]> {
        self.derive(KEY_ENCRYPTION_INFO)
    }

    /// A short public id of this master key, stored beside everything it encrypted, so
    /// the master key can be rotated later.
    pub fn id(&self) -> String {
        use std::fmt::Write;
        self.derive(ID_INFO)[..8]
            .iter()
            .fold(String::with_capacity(16), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            })
    }

    fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"gatepass").extract(self.0.as_ref());
        let mut out = Zeroizing::new([0u8; 32]);
        let info = [info];
        // Expanding 32 bytes of SHA-256 output can not fail.
        if let Ok(okm) = prk.expand(&info, hkdf::HKDF_SHA256) {
            let _ = okm.fill(out.as_mut());
        }
        out
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_distinct_and_stable() {
        let key = MasterKey::from_bytes([7; 32]);
        let again = MasterKey::from_base64(&STANDARD.encode([7; 32])).unwrap();
        assert_eq!(key.id(), again.id());
        assert_eq!(key.id().len(), 16);
        assert_ne!(*key.key_encryption_key(), [7; 32]);
        assert_ne!(MasterKey::from_bytes([8; 32]).id(), key.id());
    }

    #[test]
    fn bad_master_keys_are_refused() {
        for bad in ["", "not base64!", &STANDARD.encode([1; 31]), &STANDARD.encode([1; 33])] {
            assert_eq!(MasterKey::from_base64(bad).unwrap_err(), ParseError::MasterKey);
        }
    }
}

//! Key material: generating signing keys, their public JWK, and encryption at rest.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::Kid;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::KeyError;

/// The JWS algorithms Gatepass signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// ECDSA P-256 with SHA-256: the default, understood by every JWT library.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl SigningAlgorithm {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The jsonwebtoken algorithm.
    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl FromStr for SigningAlgorithm {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ES256" => Ok(Self::ES256),
            "EdDSA" => Ok(Self::EdDSA),
            other => Err(KeyError::Corrupt(format!("unknown algorithm {other:?}"))),
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A public key as published in the JWKS (RFC 7517).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// `EC` or `OKP`.
    pub kty: String,
    /// `P-256` or `Ed25519`.
    pub crv: String,
    /// The x coordinate (or the Ed25519 public key), base64url.
    pub x: String,
    /// The y coordinate for EC keys, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// The key id.
    pub kid: String,
    /// The algorithm this key signs with.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

/// A freshly made key pair: its PKCS#8 document (secret) and public JWK.
pub struct GeneratedKey {
    /// The private key, PKCS#8 v1/v2 DER.
    pub pkcs8: Zeroizing<Vec<u8>>,
    /// The public half.
    pub jwk: PublicJwk,
}

/// Makes a new key pair with ring's CSPRNG.
pub fn generate(algorithm: SigningAlgorithm, kid: &Kid) -> Result<GeneratedKey, KeyError> {
    let rng = SystemRandom::new();
    let (pkcs8, public, kty, crv) = match algorithm {
        SigningAlgorithm::ES256 => {
            let doc =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| KeyError::Crypto)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng)
                .map_err(|_| KeyError::Crypto)?;
            (
                doc.as_ref().to_vec(),
                pair.public_key().as_ref().to_vec(),
                "EC",
                "P-256",
            )
        }
        SigningAlgorithm::EdDSA => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Crypto)?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|_| KeyError::Crypto)?;
            (
                doc.as_ref().to_vec(),
                pair.public_key().as_ref().to_vec(),
                "OKP",
                "Ed25519",
            )
        }
    };
    let (x, y) = match algorithm {
        // Uncompressed point: 0x04 || x || y.
        SigningAlgorithm::ES256 => (
            URL_SAFE_NO_PAD.encode(&public[1..33]),
            Some(URL_SAFE_NO_PAD.encode(&public[33..])),
        ),
        SigningAlgorithm::EdDSA => (URL_SAFE_NO_PAD.encode(&public), None),
    };
    Ok(GeneratedKey {
        pkcs8: Zeroizing::new(pkcs8),
        jwk: PublicJwk {
            kty: kty.to_owned(),
            crv: crv.to_owned(),
            x,
            y,
            kid: kid.to_string(),
            alg: algorithm.as_str().to_owned(),
            use_: "sig".to_owned(),
        },
    })
}

/// Encrypts a private key under the key-encryption key: `nonce || AES-256-GCM(pkcs8)`,
/// with the key id as associated data so a blob cannot be moved to another key's row.
pub fn seal(kek: &[u8; 32], kid: &Kid, pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, kek).map_err(|_| KeyError::Crypto)?);
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| KeyError::Crypto)?;
    let mut sealed = pkcs8.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(kid.as_str().as_bytes()),
        &mut sealed,
    )
    .map_err(|_| KeyError::Crypto)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts what [`seal`] made. A wrong master key or a tampered row is an error.
pub fn open(kek: &[u8; 32], kid: &str, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if blob.len() < NONCE_LEN {
        return Err(KeyError::Decrypt(kid.to_owned()));
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, kek).map_err(|_| KeyError::Crypto)?);
    let (nonce, sealed) = blob.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Decrypt(kid.to_owned()))?;
    let mut buffer = Zeroizing::new(sealed.to_vec());
    let plain_len = key
        .open_in_place(nonce, Aad::from(kid.as_bytes()), buffer.as_mut_slice())
        .map_err(|_| KeyError::Decrypt(kid.to_owned()))?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_right_key_and_kid() {
        let kid = Kid::generate();
        let key = generate(SigningAlgorithm::ES256, &kid).unwrap();
        let blob = seal(&[1; 32], &kid, &key.pkcs8).unwrap();
        assert_eq!(*open(&[1; 32], kid.as_str(), &blob).unwrap(), *key.pkcs8);
        assert!(open(&[2; 32], kid.as_str(), &blob).is_err());
        assert!(open(&[1; 32], Kid::generate().as_str(), &blob).is_err());
        assert!(open(&[1; 32], kid.as_str(), &blob[..5]).is_err());
        assert!(
            !blob.windows(16).any(|w| key.pkcs8.windows(16).any(|k| k == w)),
            "plaintext leaked"
        );
    }

    #[test]
    fn jwks_have_the_right_shape() {
        let es = generate(SigningAlgorithm::ES256, &Kid::generate()).unwrap().jwk;
        assert_eq!(
            (es.kty.as_str(), es.crv.as_str(), es.alg.as_str()),
            ("EC", "P-256", "ES256")
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&es.x).unwrap().len(), 32);
        assert_eq!(URL_SAFE_NO_PAD.decode(es.y.unwrap()).unwrap().len(), 32);
        let ed = generate(SigningAlgorithm::EdDSA, &Kid::generate()).unwrap().jwk;
        assert_eq!(
            (ed.kty.as_str(), ed.crv.as_str(), ed.alg.as_str()),
            ("OKP", "Ed25519", "EdDSA")
        );
        assert!(ed.y.is_none());
    }
}

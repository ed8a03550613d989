//! A ring-backed `CryptoProvider` for jsonwebtoken, so ring does the cryptography, for
//! the server (signing) and for resource servers (verifying) alike.
//!
//! jsonwebtoken asks its provider for a fresh signer on every `encode`. Parsing a
//! PKCS#8 key pair in ring costs about as much as a signature (it checks the public
//! key), so parsed key pairs are kept in a small process-wide cache keyed by the
//! PKCS#8 document; signing a token then costs one ring signature.

use std::sync::{Arc, PoisonError, RwLock};

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as ring_sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use signature::{Signer, Verifier};

/// The provider; installed once per process by [`install`].
static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(ErrorKind::UnsupportedAlgorithm.into()),
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::UnsupportedAlgorithm.into()),
        ec_pub_components_from_private_key: ec_components_from_private_key,
        ed_pub_components_from_private_key: ed_components_from_private_key,
        compute_digest,
    },
};

/// Most parsed key pairs kept; a handful of keys are live at any time.
const CACHE_LIMIT: usize = 16;

enum ParsedKey {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

type SignerCache = RwLock<Vec<(Box<[u8]>, Arc<ParsedKey>)>>;
static SIGNERS: SignerCache = RwLock::new(Vec::new());

/// Makes ring jsonwebtoken's crypto provider for this process. Idempotent.
pub fn install() {
    // A second call finds it installed already, which is what we want.
    let _ = RING_PROVIDER.install_default();
}

fn parsed(algorithm: Algorithm, pkcs8: &[u8]) -> Result<Arc<ParsedKey>, Error> {
    {
        let cache = SIGNERS.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, key)) = cache.iter().find(|(der, _)| der.as_ref() == pkcs8) {
            return Ok(Arc::clone(key));
        }
    }
    let key = Arc::new(match algorithm {
        Algorithm::ES256 => ParsedKey::Ecdsa(
            EcdsaKeyPair::from_pkcs8(&ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?,
        ),
        Algorithm::EdDSA => {
            ParsedKey::Ed25519(Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| Error::from(ErrorKind::InvalidEddsaKey))?)
        }
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    });
    let mut cache = SIGNERS.write().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CACHE_LIMIT {
        cache.clear();
    }
    cache.push((pkcs8.into(), Arc::clone(&key)));
    Ok(key)
}

struct RingSigner {
    algorithm: Algorithm,
    key: Arc<ParsedKey>,
}

impl Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        match self.key.as_ref() {
            ParsedKey::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
            ParsedKey::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // the signature jsonwebtoken's factory type fixes
fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Ok(Box::new(RingSigner {
        algorithm: *algorithm,
        key: parsed(*algorithm, key.as_bytes())?,
    }))
}

struct RingVerifier {
    algorithm: Algorithm,
    public_key: Vec<u8>,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, message: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let verification: &dyn ring_sig::VerificationAlgorithm = match self.algorithm {
            Algorithm::ES256 => &ring_sig::ECDSA_P256_SHA256_FIXED,
            _ => &ring_sig::ED25519,
        };
        ring_sig::UnparsedPublicKey::new(verification, &self.public_key)
            .verify(message, sig)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // the signature jsonwebtoken's factory type fixes
fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    // The algorithm must match the key's family: never HMAC with a public key.
    let family_ok = match algorithm {
        Algorithm::ES256 => key.family() == jsonwebtoken::AlgorithmFamily::Ec,
        Algorithm::EdDSA => key.family() == jsonwebtoken::AlgorithmFamily::Ed,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    if !family_ok {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        public_key: key.try_get_as_bytes()?.to_vec(),
    }))
}

fn ec_components_from_private_key(
    pkcs8: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), Error> {
    let key = parsed(algorithm, pkcs8)?;
    let ParsedKey::Ecdsa(pair) = key.as_ref() else {
        return Err(ErrorKind::InvalidEcdsaKey.into());
    };
    let point = pair.public_key().as_ref();
    let (x, y) = point[1..].split_at(32);
    Ok((EllipticCurve::P256, x.to_vec(), y.to_vec()))
}

fn ed_components_from_private_key(pkcs8: &[u8], curve: &EllipticCurve) -> Result<Vec<u8>, Error> {
    if *curve != EllipticCurve::Ed25519 {
        return Err(ErrorKind::InvalidEddsaKey.into());
    }
    let key = parsed(Algorithm::EdDSA, pkcs8)?;
    let ParsedKey::Ed25519(pair) = key.as_ref() else {
        return Err(ErrorKind::InvalidEddsaKey.into());
    };
    Ok(pair.public_key().as_ref().to_vec())
}

#[allow(clippy::needless_pass_by_value)] // the signature jsonwebtoken's KeyUtils fixes
fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

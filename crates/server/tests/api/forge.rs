//! Tokens only a broken validator would accept: signed with the server's own key (decrypted
//! with the test master key), with a foreign key, or not at all.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::MasterKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::Value;

use crate::helpers::{MASTER_KEY, TestApp};

/// The server's active signing key, decrypted with the master key, to forge claims that
/// only a broken validator would accept.
pub fn server_key(app: &TestApp) -> (String, EncodingKey) {
    let rows = gatepass_store::signing_keys::list(&mut app.db().conn().unwrap()).unwrap();
    let row = rows.last().unwrap();
    let pkcs8 = gatepass_auth::keys::decrypt_private_key(&MasterKey::from_bytes(MASTER_KEY), row).unwrap();
    (row.kid.clone(), EncodingKey::from_ec_der(&pkcs8))
}

pub fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    gatepass_core::jwt_crypto::install();
    jsonwebtoken::encode(header, claims, key).unwrap()
}

pub fn at_jwt(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    header
}

pub fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        part(header),
        part(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

pub fn foreign_key() -> EncodingKey {
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    EncodingKey::from_ec_der(doc.as_ref())
}

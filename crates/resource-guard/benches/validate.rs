//! Validation cost: raw ring ES256 verification vs the guard on a fresh token (every
//! check, no cache) and on a repeated token (the verified-token cache).
//! Run: `cargo bench -p gatepass-resource-guard`.
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use gatepass_resource_guard::{GuardConfig, Validator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, UnparsedPublicKey,
};

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "https://api.example.com";

fn setup() -> (Vec<String>, String, Vec<u8>) {
    gatepass_core::jwt_crypto::install();
    let rng = SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
    let public = pair.public_key().as_ref().to_vec();
    let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&public[1..33]), "y": URL_SAFE_NO_PAD.encode(&public[33..])}]})
    .to_string();
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some("k1".into());
    let key = EncodingKey::from_ec_der(doc.as_ref());
    let now = gatepass_core::Clock::now(&gatepass_core::SystemClock).unix_timestamp();
    let tokens = (0..4096)
        .map(|i| {
            let claims = serde_json::json!({"iss": ISSUER, "sub": "gpc_x", "aud": AUDIENCE, "exp": now + 3600, "iat": now,
                "nbf": now, "jti": format!("j{i}"), "client_id": "gpc_x", "scope": "sites:read"});
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        })
        .collect();
    (tokens, jwks, public)
}

fn validation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let (tokens, jwks, public) = setup();
    let fresh = {
        let mut config = GuardConfig::new(ISSUER, AUDIENCE);
        config.token_cache_capacity = 0;
        Validator::from_jwks(config, &jwks).unwrap()
    };
    let cached = Validator::from_jwks(GuardConfig::new(ISSUER, AUDIENCE), &jwks).unwrap();

    let (signed, signature) = tokens[0].rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public);
    c.bench_function("raw ring ES256 verify", |b| {
        b.iter(|| key.verify(signed.as_bytes(), &signature).unwrap());
    });

    let mut i = 0;
    c.bench_function("guard: fresh token", |b| {
        b.iter(|| {
            i = (i + 1) % tokens.len();
            runtime.block_on(fresh.validate(&tokens[i])).unwrap()
        });
    });

    runtime.block_on(cached.validate(&tokens[0])).unwrap();
    c.bench_function("guard: repeated token", |b| {
        b.iter(|| runtime.block_on(cached.validate(&tokens[0])).unwrap());
    });
}

criterion_group!(benches, validation);
criterion_main!(benches);

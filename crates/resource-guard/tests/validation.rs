//! The validator's answer for every kind of good, forged and broken token, against fixed
//! keys (`Validator::from_jwks`) and a manual clock: no issuer, no network, no waiting.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly where its setup or check does"
)]

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_core::{Clock, ManualClock};
use gatepass_resource_guard::{GuardConfig, ValidationError, Validator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use time::macros::datetime;

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "https://api.example.com";
const ES_KID: &str = "gpk_es";
const ED_KID: &str = "gpk_ed";

/// A P-256 key: its signing half and its public JWK.
fn p256() -> (EncodingKey, Value, Vec<u8>) {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &SystemRandom::new()).unwrap();
    // An uncompressed point: 0x04 || x || y.
    let point = pair.public_key().as_ref().to_vec();
    let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": ES_KID,
                     "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
    (EncodingKey::from_ec_der(pkcs8.as_ref()), jwk, point[1..].to_vec())
}

fn ed25519() -> (EncodingKey, Value) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": ED_KID,
                     "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())});
    (EncodingKey::from_ed_der(pkcs8.as_ref()), jwk)
}

fn header(alg: Algorithm, kid: &str) -> Header {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    header
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).unwrap()
}

fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.{}",
        part(header),
        part(claims),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

struct Setup {
    clock: Arc<ManualClock>,
    validator: Validator,
    es: EncodingKey,
    es_public: Vec<u8>,
    ed: EncodingKey,
}

fn setup() -> Setup {
    gatepass_core::jwt_crypto::install();
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-01 12:00 UTC)));
    let (es, p256_jwk, es_public) = p256();
    let (ed, ed25519_jwk) = ed25519();
    let jwks = json!({"keys": [p256_jwk, ed25519_jwk]}).to_string();
    let config = GuardConfig::new(ISSUER, AUDIENCE).with_clock(clock.clone());
    let validator = Validator::from_jwks(config, &jwks).unwrap();
    Setup {
        clock,
        validator,
        es,
        es_public,
        ed,
    }
}

fn claims(now: i64) -> Value {
    json!({"iss": ISSUER, "sub": "gpc_x", "aud": AUDIENCE, "exp": now + 300, "iat": now, "nbf": now,
           "jti": "j", "client_id": "gpc_x", "scope": "sites:read"})
}

#[tokio::test]
#[allow(clippy::too_many_lines, reason = "one table of cases reads best in one place")]
async fn every_forged_or_broken_token_gets_its_own_answer() {
    let Setup {
        clock,
        validator,
        es,
        es_public,
        ed,
    } = setup();
    let now = clock.now().unix_timestamp();
    let good = claims(now);
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let without = |field: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(field);
        c
    };
    let foreign = p256().0;
    let real = sign(&header(Algorithm::ES256, ES_KID), &good, &es);
    let mut plain_jwt = header(Algorithm::ES256, ES_KID);
    plain_jwt.typ = Some("JWT".into());
    // HS256 keyed with the ES256 public key: the classic algorithm-confusion forgery.
    let hs256 = {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": ES_KID}).to_string()),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &es_public),
            signing_input.as_bytes(),
        );
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    // An allowed algorithm that is not the key's: the header says EdDSA, the key under that
    // kid is ES256, and the signature really is ES256 by that key.
    let eddsa_header_on_es256 = {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": ES_KID}).to_string()),
            URL_SAFE_NO_PAD.encode(good.to_string())
        );
        let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &es, Algorithm::ES256).unwrap();
        format!("{signing_input}.{signature}")
    };

    // Controls: good tokens under both key types are accepted.
    assert!(validator.validate(&real).await.is_ok());
    assert!(
        validator
            .validate(&sign(&header(Algorithm::EdDSA, ED_KID), &good, &ed))
            .await
            .is_ok()
    );

    let cases: Vec<(&str, String, ValidationError)> = vec![
        (
            "EdDSA header on an ES256 key",
            eddsa_header_on_es256,
            ValidationError::AlgorithmMismatch,
        ),
        (
            "ES256 header on the EdDSA key",
            sign(&header(Algorithm::ES256, ED_KID), &good, &es),
            ValidationError::AlgorithmMismatch,
        ),
        (
            "wrong aud",
            sign(
                &header(Algorithm::ES256, ES_KID),
                &with("aud", json!("https://other.example.com")),
                &es,
            ),
            ValidationError::WrongAudience,
        ),
        (
            "wrong iss",
            sign(
                &header(Algorithm::ES256, ES_KID),
                &with("iss", json!("https://evil.example.com")),
                &es,
            ),
            ValidationError::WrongIssuer,
        ),
        ("wrong typ", sign(&plain_jwt, &good, &es), ValidationError::WrongType),
        (
            "expired beyond the leeway",
            sign(&header(Algorithm::ES256, ES_KID), &with("exp", json!(now - 61)), &es),
            ValidationError::Expired,
        ),
        (
            "nbf beyond the leeway",
            sign(&header(Algorithm::ES256, ES_KID), &with("nbf", json!(now + 61)), &es),
            ValidationError::NotYetValid,
        ),
        (
            "alg none",
            unsigned(&json!({"alg": "none", "typ": "at+jwt", "kid": ES_KID}), &good, b""),
            ValidationError::Malformed,
        ),
        (
            "HS256 with the public key as secret",
            hs256,
            ValidationError::DisallowedAlgorithm,
        ),
        (
            "foreign key under a known kid",
            sign(&header(Algorithm::ES256, ES_KID), &good, &foreign),
            ValidationError::BadSignature,
        ),
        (
            "unknown kid",
            sign(&header(Algorithm::ES256, "gpk_unknown"), &good, &foreign),
            ValidationError::UnknownKid,
        ),
        (
            "no kid",
            unsigned(&json!({"alg": "ES256", "typ": "at+jwt"}), &good, &[0; 64]),
            ValidationError::MissingKid,
        ),
        (
            "truncated signature",
            real[..real.len() - 10].to_owned(),
            ValidationError::BadSignature,
        ),
        ("garbage", "abc.def.ghi".to_owned(), ValidationError::Malformed),
        ("not a JWT", "hello".to_owned(), ValidationError::Malformed),
        (
            "huge header",
            unsigned(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": ES_KID, "pad": "x".repeat(10_000)}),
                &good,
                &[0; 64],
            ),
            ValidationError::Malformed,
        ),
        (
            "missing sub",
            sign(&header(Algorithm::ES256, ES_KID), &without("sub"), &es),
            ValidationError::BadClaims,
        ),
        (
            "missing exp",
            sign(&header(Algorithm::ES256, ES_KID), &without("exp"), &es),
            ValidationError::BadClaims,
        ),
        (
            "exp not a number",
            sign(&header(Algorithm::ES256, ES_KID), &with("exp", json!("soon")), &es),
            ValidationError::BadClaims,
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(validator.validate(&token).await.unwrap_err(), expected, "{name}");
    }
}

#[tokio::test]
async fn exp_and_nbf_follow_the_configured_clock_with_the_leeway() {
    let Setup {
        clock, validator, es, ..
    } = setup();
    let now = clock.now().unix_timestamp();
    let token = sign(&header(Algorithm::ES256, ES_KID), &claims(now), &es);
    let early = sign(
        &header(Algorithm::ES256, ES_KID),
        &json!({"iss": ISSUER, "sub": "gpc_x", "aud": AUDIENCE, "exp": now + 600, "iat": now, "nbf": now + 100,
                "jti": "k", "client_id": "gpc_x", "scope": ""}),
        &es,
    );

    assert!(validator.validate(&token).await.is_ok(), "valid now (and cached)");
    assert_eq!(
        validator.validate(&early).await.unwrap_err(),
        ValidationError::NotYetValid,
        "nbf 100 s ahead is beyond the 60 s leeway"
    );

    // exp is now + 300; the leeway is 60 s. Just inside it, both the cached token and a
    // first validation of an identical fresh one still pass.
    clock.advance(time::Duration::seconds(359));
    assert!(validator.validate(&token).await.is_ok(), "cached, within the leeway");
    assert!(validator.validate(&early).await.is_ok(), "nbf has come");

    clock.advance(time::Duration::seconds(1));
    assert_eq!(
        validator.validate(&token).await.unwrap_err(),
        ValidationError::Expired,
        "the cached token expires by the clock"
    );
    let fresh_copy = sign(&header(Algorithm::ES256, ES_KID), &claims(now), &es);
    assert_ne!(fresh_copy, token, "ECDSA signatures are randomised: not a cache hit");
    assert_eq!(
        validator.validate(&fresh_copy).await.unwrap_err(),
        ValidationError::Expired,
        "a token never seen before expires by the same clock"
    );
}

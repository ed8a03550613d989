//! The resource guard's token validation: a raw token, or a valid token with a fuzzed splice,
//! is refused without a panic unless it is exactly a token the key signed.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_resource_guard::{GuardConfig, Validator};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    validator: Validator,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        gatepass_core::jwt_crypto::install();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        let jwks = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])}]});
        let validator =
            Validator::from_jwks(GuardConfig::new("https://issuer.test", "https://api.test"), &jwks.to_string()).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some("k1".into());
        let claims = serde_json::json!({"iss": "https://issuer.test", "sub": "gpc_x", "aud": "https://api.test",
            "exp": 4_102_444_800_i64, "iat": 0, "nbf": 0, "jti": "j", "client_id": "gpc_x", "scope": "a"});
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(pkcs8.as_ref())).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Fixture { runtime, validator, token }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let candidate = if mode % 2 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        // Splice the input into the valid token at a position the first two bytes choose.
        let Some((&at, splice)) = rest.split_first() else {
            return;
        };
        let valid = fixture.token.as_bytes();
        let at = usize::from(at) * valid.len() / 256;
        let mut bytes = valid[..at].to_vec();
        bytes.extend_from_slice(splice);
        bytes.extend_from_slice(&valid[(at + splice.len()).min(valid.len())..]);
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let result = fixture.runtime.block_on(fixture.validator.validate(&candidate));
    if result.is_ok() {
        // ES256 signatures are not malleable here: only the token the key signed verifies.
        assert_eq!(candidate, fixture.token, "a changed token validated");
    }
});

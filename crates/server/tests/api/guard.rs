//! The resource guard against a real Gatepass: every RFC 6750 answer, forged and broken
//! tokens, key rotation under load, an issuer that goes away.

use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, test, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_resource_guard::actix::{RequireScopes, VerifiedToken};
use gatepass_resource_guard::{GuardConfig, ValidationError, Validator};
use gatepass_store::testing::TestBackend;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::forge::{at_jwt, foreign_key, server_key, sign, unsigned};
use crate::helpers::{ClientSpec, Credentials, TestApp, now, spawn_app, spawn_app_with};

const AUDIENCE: &str = "https://api.example.com";

async fn issue(app: &TestApp, creds: &Credentials) -> String {
    let body: Value = app.token_body(creds, &[("grant_type", "client_credentials")]).await;
    body["access_token"].as_str().unwrap().to_owned()
}

async fn validator(app: &TestApp) -> Validator {
    Validator::discover(GuardConfig::new(&app.address, AUDIENCE)).await
}

async fn sites(token: VerifiedToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({"client_id": token.claims().client_id, "scope": token.claims().scope}))
}

fn claims(app: &TestApp) -> Value {
    let now = now();
    json!({"iss": app.address, "sub": "gpc_x", "aud": AUDIENCE, "exp": now + 300, "iat": now, "nbf": now,
           "jti": "j", "client_id": "gpc_x", "scope": "sites:read"})
}

#[actix_web::test]
async fn the_middleware_answers_as_rfc_6750_says() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let reader = app.seed_client(&ClientSpec {
        scopes: "sites:read",
        ..ClientSpec::default()
    });
    let validator = validator(&app).await;
    let service = test::init_service(
        App::new()
            .route("/public", web::get().to(|| async { HttpResponse::Ok().body("hello") }))
            .service(
                web::scope("/sites")
                    .wrap(RequireScopes::new(&validator, &["sites:read"]))
                    .route("", web::get().to(sites)),
            )
            .service(
                web::scope("/scripts")
                    .wrap(RequireScopes::new(&validator, &["scripts:write"]))
                    .route("", web::post().to(sites)),
            ),
    )
    .await;
    let token = issue(&app, &reader).await;

    let ok = test::call_service(
        &service,
        test::TestRequest::get()
            .uri("/sites")
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request(),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let body: Value = test::read_body_json(ok).await;
    assert_eq!(body["client_id"], reader.client_id.as_str());

    let public = test::call_service(&service, test::TestRequest::get().uri("/public").to_request()).await;
    assert_eq!(public.status(), 200);

    let cases: [(Option<String>, &str, u16, &str); 5] = [
        (None, "/sites", 401, "Bearer realm=\"api\""),
        (Some("Basic abc".into()), "/sites", 400, "error=\"invalid_request\""),
        (Some("Bearer".into()), "/sites", 400, "error=\"invalid_request\""),
        (
            Some("Bearer not.a.token".into()),
            "/sites",
            401,
            "error=\"invalid_token\"",
        ),
        (
            Some(format!("Bearer {token}")),
            "/scripts",
            403,
            "error=\"insufficient_scope\", error_description=\"the token lacks a required scope\", scope=\"scripts:write\"",
        ),
    ];
    for (authorization, path, status, challenge) in cases {
        let mut request = if path == "/scripts" {
            test::TestRequest::post()
        } else {
            test::TestRequest::get()
        }
        .uri(path);
        if let Some(value) = &authorization {
            request = request.insert_header(("authorization", value.as_str()));
        }
        let response = test::call_service(&service, request.to_request()).await;
        assert_eq!(response.status().as_u16(), status, "{authorization:?} {path}");
        let www = response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(www.starts_with("Bearer realm=\"api\""), "{www}");
        assert!(www.contains(challenge), "{authorization:?}: {www}");
    }

    // Two Authorization headers, even two good ones, are refused, not one of them picked.
    let twice = test::call_service(
        &service,
        test::TestRequest::get()
            .uri("/sites")
            .append_header(("authorization", format!("Bearer {token}")))
            .append_header(("authorization", format!("Bearer {token}")))
            .to_request(),
    )
    .await;
    assert_eq!(twice.status(), 400);
    let www = twice
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(www.contains("error=\"invalid_request\""), "{www}");
}

#[actix_web::test]
async fn forged_and_broken_tokens_are_refused() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let other = app.seed_client(&ClientSpec {
        audiences: "https://other.example.com",
        ..ClientSpec::default()
    });
    let validator = validator(&app).await;
    let (kid, key) = server_key(&app);
    let good = claims(&app);
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let jwk: Value = app.jwks().await["keys"][0].clone();
    let public_bytes = [
        URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap(),
        URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap(),
    ]
    .concat();
    let hs256 = {
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": kid});
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let signed = format!("{}.{}", part(&header), part(&good));
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public_bytes),
            signed.as_bytes(),
        );
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    let mut plain_jwt = at_jwt(&kid);
    plain_jwt.typ = Some("JWT".into());
    // An allowed algorithm that is not the key's: the header says EdDSA, the key is ES256
    // (and the signature really is ES256 by that key).
    let eddsa_header = {
        let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid});
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let signed = format!("{}.{}", part(&header), part(&good));
        let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), &key, Algorithm::ES256).unwrap();
        format!("{signed}.{signature}")
    };
    let real = issue(&app, &other).await;

    // Control: a forged token with good claims and the real key is accepted.
    assert!(validator.validate(&sign(&at_jwt(&kid), &good, &key)).await.is_ok());

    let cases: Vec<(&str, String, ValidationError)> = vec![
        (
            "EdDSA header on an ES256 key",
            eddsa_header,
            ValidationError::AlgorithmMismatch,
        ),
        (
            "wrong aud (real token for another audience)",
            real.clone(),
            ValidationError::WrongAudience,
        ),
        (
            "wrong iss",
            sign(&at_jwt(&kid), &with("iss", json!("http://evil.example.com")), &key),
            ValidationError::WrongIssuer,
        ),
        ("wrong typ", sign(&plain_jwt, &good, &key), ValidationError::WrongType),
        (
            "expired beyond leeway",
            sign(&at_jwt(&kid), &with("exp", json!(now() - 120)), &key),
            ValidationError::Expired,
        ),
        (
            "nbf in the future",
            sign(&at_jwt(&kid), &with("nbf", json!(now() + 120)), &key),
            ValidationError::NotYetValid,
        ),
        (
            "alg none",
            unsigned(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &good, b""),
            ValidationError::Malformed,
        ),
        (
            "HS256 with the public key as secret",
            hs256,
            ValidationError::DisallowedAlgorithm,
        ),
        (
            "foreign key under a known kid",
            sign(&at_jwt(&kid), &good, &foreign_key()),
            ValidationError::BadSignature,
        ),
        (
            "EdDSA header on an ES256 key",
            unsigned(&json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}), &good, &[0; 64]),
            ValidationError::AlgorithmMismatch,
        ),
        (
            "unknown kid",
            sign(&at_jwt("gpk_unknown"), &good, &foreign_key()),
            ValidationError::UnknownKid,
        ),
        (
            "no kid",
            unsigned(&json!({"alg": "ES256", "typ": "at+jwt"}), &good, &[0; 64]),
            ValidationError::MissingKid,
        ),
        (
            "truncated",
            real[..real.len() - 10].to_owned(),
            ValidationError::BadSignature,
        ),
        ("garbage", "abc.def.ghi".to_owned(), ValidationError::Malformed),
        ("not a JWT", "hello".to_owned(), ValidationError::Malformed),
        (
            "huge header",
            unsigned(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": kid, "pad": "x".repeat(10_000)}),
                &good,
                &[0; 64],
            ),
            ValidationError::Malformed,
        ),
        (
            "missing sub",
            sign(
                &at_jwt(&kid),
                &{
                    let mut c = good.clone();
                    c.as_object_mut().unwrap().remove("sub");
                    c
                },
                &key,
            ),
            ValidationError::BadClaims,
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(validator.validate(&token).await.unwrap_err(), expected, "{name}");
    }
}

#[actix_web::test]
async fn signing_key_rotation_fails_no_validation() {
    let app = spawn_app_with(
        TestBackend::Sqlite,
        &[
            ("GATEPASS__KEYS__PUBLISH_AHEAD_SECONDS", "3"),
            ("GATEPASS__KEYS__JWKS_MAX_AGE_SECONDS", "1"),
            ("GATEPASS__KEYS__REFRESH_INTERVAL_SECONDS", "1"),
        ],
    )
    .await;
    let creds = app.seed_client(&ClientSpec::default());
    let validator = validator(&app).await;
    let first_kid = app.jwks().await["keys"][0]["kid"].clone();
    assert!(app.cli(&["keys", "rotate"]).status.success());
    let (mut validated, mut failures, mut new_key_seen) = (0, Vec::new(), false);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        let token = issue(&app, &creds).await;
        match validator.validate(&token).await {
            Ok(_) => validated += 1,
            Err(e) => failures.push(e),
        }
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
        new_key_seen |= header["kid"] != first_kid;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert!(new_key_seen, "the rotation happened during the test");
    assert!(validated > 20);
}

#[actix_web::test]
async fn cached_keys_outlive_the_issuer_and_an_unknown_kid_flood_is_rate_limited() {
    let mut app = spawn_app(TestBackend::Sqlite).await;
    let creds = app.seed_client(&ClientSpec::default());
    let validator = validator(&app).await;
    let seen = issue(&app, &creds).await;
    let unseen = issue(&app, &creds).await;
    assert!(validator.validate(&seen).await.is_ok());
    app.stop();

    assert!(
        validator.validate(&unseen).await.is_ok(),
        "a token never validated before verifies with the cached keys"
    );
    let before = validator.jwks_fetches();
    let (_, key) = server_key(&app);
    for i in 0..200 {
        let junk = sign(&at_jwt(&format!("gpk_junk{i}")), &claims(&app), &key);
        assert_eq!(
            validator.validate(&junk).await.unwrap_err(),
            ValidationError::UnknownKid
        );
    }
    assert!(
        validator.jwks_fetches() - before <= 1,
        "{} fetches for 200 unknown kids",
        validator.jwks_fetches() - before
    );
}

#[actix_web::test]
async fn a_guard_that_never_loaded_keys_answers_503() {
    let validator = Validator::discover(GuardConfig::new("http://127.0.0.1:9", AUDIENCE)).await;
    assert!(!validator.is_ready());
    let service = test::init_service(
        App::new().service(
            web::scope("/sites")
                .wrap(RequireScopes::new(&validator, &[]))
                .route("", web::get().to(sites)),
        ),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/sites")
        .insert_header(("authorization", "Bearer a.b.c"))
        .to_request();
    let response = test::call_service(&service, request).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}

#[actix_web::test]
async fn introspected_routes_see_revocation_at_once_local_ones_at_exp() {
    let mut app = spawn_app(TestBackend::Sqlite).await;
    let introspector = app.seed_client(&ClientSpec {
        scopes: "gatepass:introspect",
        ..ClientSpec::default()
    });
    let caller = app.seed_client(&ClientSpec::default());
    let config =
        GuardConfig::new(&app.address, AUDIENCE).with_introspection(&introspector.client_id, &introspector.secret);
    let validator = Validator::discover(config).await;
    let service = test::init_service(
        App::new()
            .service(
                web::resource("/local")
                    .wrap(RequireScopes::new(&validator, &["sites:read"]))
                    .route(web::get().to(sites)),
            )
            .service(
                web::resource("/fresh")
                    .wrap(RequireScopes::new(&validator, &["sites:read"]).introspected())
                    .route(web::get().to(sites)),
            ),
    )
    .await;
    let token = issue(&app, &caller).await;
    let get = |path: &'static str, token: &str| {
        test::TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request()
    };
    assert_eq!(test::call_service(&service, get("/local", &token)).await.status(), 200);
    assert_eq!(test::call_service(&service, get("/fresh", &token)).await.status(), 200);

    // The client revokes its token (RFC 7009).
    let revoked = app
        .http
        .post(app.url("/oauth2/revoke"))
        .basic_auth(&caller.client_id, Some(&caller.secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let response = test::call_service(&service, get("/fresh", &token)).await;
    assert_eq!(response.status(), 401, "refused at once where introspected");
    assert!(
        response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(
        test::call_service(&service, get("/local", &token)).await.status(),
        200,
        "local validation keeps it until exp"
    );

    // A token whose secret is revoked afterwards, likewise.
    let other = issue(&app, &caller).await;
    assert_eq!(test::call_service(&service, get("/fresh", &other)).await.status(), 200);
    let mut conn = app.db().conn().unwrap();
    let secret = gatepass_store::secrets::list_for_client(&mut conn, &caller.client_id)
        .unwrap()
        .remove(0);
    gatepass_store::secrets::revoke(&mut conn, &secret.id, now()).unwrap();
    assert_eq!(test::call_service(&service, get("/fresh", &other)).await.status(), 401);

    // No issuer to ask: 503, never a guess.
    let third = app.seed_client(&ClientSpec::default());
    let live = issue(&app, &third).await;
    app.stop();
    let response = test::call_service(&service, get("/fresh", &live)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(test::call_service(&service, get("/local", &live)).await.status(), 200);
}

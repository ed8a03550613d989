//! The resource guard against a real Gatepass: every RFC 6750 answer, forged and broken
//! tokens, key rotation under load, an issuer that goes away.

use std::time::Duration;

use actix_web::{App, HttpResponse, test, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_resource_guard::actix::{RequireScopes, VerifiedToken};
use gatepass_resource_guard::{GuardConfig, ValidationError, Validator};
use gatepass_store::testing::TestBackend;
use serde_json::{Value, json};

use crate::forge::{at_jwt, foreign_key, server_key, sign, unsigned};
use crate::helpers::{ClientSpec, Credentials, TestApp, eventually, now, spawn_app, spawn_with_clock_and};

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

/// The whole table of forged and broken tokens runs against fixed keys in
/// `crates/resource-guard/tests/validation.rs`; these are the cases that need the real issuer:
/// its discovered keys, its tokens, its signing key.
#[actix_web::test]
async fn the_issuers_tokens_validate_and_forgeries_of_them_do_not() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let reader = app.seed_client(&ClientSpec::default());
    let other = app.seed_client(&ClientSpec {
        audiences: "https://other.example.com",
        ..ClientSpec::default()
    });
    let validator = validator(&app).await;
    let (kid, key) = server_key(&app);
    let good = claims(&app);
    let real = issue(&app, &reader).await;
    assert!(validator.validate(&real).await.is_ok(), "a token the issuer made");
    assert!(
        validator.validate(&sign(&at_jwt(&kid), &good, &key)).await.is_ok(),
        "control: good claims signed with the issuer's own key"
    );
    let mut wrong_issuer = good.clone();
    wrong_issuer["iss"] = json!("http://evil.example.com");
    let cases: Vec<(&str, String, ValidationError)> = vec![
        (
            "a real token for another audience",
            issue(&app, &other).await,
            ValidationError::WrongAudience,
        ),
        (
            "the issuer's key, another issuer",
            sign(&at_jwt(&kid), &wrong_issuer, &key),
            ValidationError::WrongIssuer,
        ),
        (
            "a foreign key under the issuer's kid",
            sign(&at_jwt(&kid), &good, &foreign_key()),
            ValidationError::BadSignature,
        ),
        (
            "a real token, truncated",
            real[..real.len() - 10].to_owned(),
            ValidationError::BadSignature,
        ),
        (
            "alg none under the issuer's kid",
            unsigned(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &good, b""),
            ValidationError::Malformed,
        ),
    ];
    for (name, token, expected) in cases {
        assert_eq!(validator.validate(&token).await.unwrap_err(), expected, "{name}");
    }
}

#[actix_web::test]
async fn signing_key_rotation_fails_no_validation() {
    // The server and the guard read the same manual clock: the new key signs exactly when
    // the test moves time past the pre-publication window, and the guard's unknown-kid
    // refresh (10 s on that clock) cannot rescue it, so only the scheduled refresh of the
    // published-ahead key can make every validation pass.
    let (app, clock) = spawn_with_clock_and(
        TestBackend::Sqlite,
        "[keys]\npublish_ahead_seconds = 3\njwks_max_age_seconds = 1\nrefresh_interval_seconds = 1\n",
    )
    .await;
    let creds = app.seed_client(&ClientSpec::default());
    let validator = Validator::discover(GuardConfig::new(&app.address, AUDIENCE).with_clock(clock.clone())).await;
    let kid = |token: &str| -> Value {
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
            ["kid"]
            .clone()
    };
    let before = issue(&app, &creds).await;
    let first_kid = kid(&before);
    assert!(validator.validate(&before).await.is_ok());

    let admin = crate::admin::admin_token(&app).await;
    let (status, _) = crate::admin::call(
        &app,
        &admin,
        reqwest::Method::POST,
        "/admin/v1/signing-keys/rotate",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let published = eventually(Duration::from_secs(10), || async {
        (app.jwks().await["keys"].as_array().unwrap().len() == 2).then_some(())
    })
    .await;
    assert!(published.is_some(), "the new key is published ahead");
    // Two more scheduled fetches: the first of them started after publication, and the
    // second cannot start before the first has finished.
    let fetched = validator.jwks_fetches();
    let refreshed = eventually(Duration::from_secs(10), || async {
        (validator.jwks_fetches() >= fetched + 2).then_some(())
    })
    .await;
    assert!(refreshed.is_some(), "the guard refreshes on the issuer's max-age");

    let mut failures = Vec::new();
    for _ in 0..5 {
        let token = issue(&app, &creds).await;
        assert_eq!(kid(&token), first_kid, "the new key does not sign before its time");
        if let Err(e) = validator.validate(&token).await {
            failures.push(e);
        }
    }
    clock.advance(time::Duration::seconds(4));
    let switched = eventually(Duration::from_secs(10), || async {
        let token = issue(&app, &creds).await;
        (kid(&token) != first_kid).then_some(token)
    })
    .await
    .expect("the new key signs after the pre-publication window");
    for token in [switched, issue(&app, &creds).await, before] {
        if let Err(e) = validator.validate(&token).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
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

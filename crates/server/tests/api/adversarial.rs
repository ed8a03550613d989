//! The adversarial suite: requests an attacker sends, drawn from RFC 6749 §2.3/§3.2/§5.2,
//! RFC 8725, RFC 9068 §4 and RFC 9700, each with the status and error code it must get.
//! Token-endpoint cases go to `/oauth2/token`; token-validation cases go to the admin API (a
//! resource server of Gatepass) and to introspection, which must both refuse them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::forge::{at_jwt, foreign_key, server_key, sign, unsigned};
use crate::helpers::{ClientSpec, Credentials, TestApp, fresh_secret, now, spawn_app, spawn_app_with};
use crate::token_errors::{Expect, check, expect, raw};

const GRANT: (&str, &str) = ("grant_type", "client_credentials");

fn basic_header(value: &str) -> String {
    format!("Basic {}", STANDARD.encode(value))
}

fn form(app: &TestApp, body: &str) -> reqwest::RequestBuilder {
    raw(app)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
}

/// The token-endpoint cases: (name, request, expected answer).
#[allow(clippy::too_many_lines)] // one table
fn token_cases(
    app: &TestApp,
    good: &Credentials,
    other: &Credentials,
) -> Vec<(&'static str, reqwest::RequestBuilder, Expect)> {
    let (id, secret) = (good.client_id.as_str(), good.secret.as_str());
    let post = |extra: &str| {
        form(
            app,
            &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}{extra}"),
        )
    };
    let basic = |builder: reqwest::RequestBuilder| builder.basic_auth(id, Some(secret));
    let bad_checksum = {
        let mut s = secret.to_owned();
        let last = s.pop().unwrap();
        s.push(if last == 'A' { 'B' } else { 'A' });
        s
    };
    let homoglyph = id.replacen('c', "\u{0441}", 1); // Cyrillic es
    let invalid_client = || expect(401, "invalid_client", false);
    let invalid_client_basic = || expect(401, "invalid_client", true);
    let invalid_request = || expect(400, "invalid_request", false);
    vec![
        // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
        (
            "repeated client_id",
            post(&format!("&client_id={id}")),
            invalid_request(),
        ),
        (
            "repeated client_secret",
            post(&format!("&client_secret={secret}")),
            invalid_request(),
        ),
        (
            "repeated scope",
            basic(form(
                app,
                "grant_type=client_credentials&scope=sites:read&scope=sites:read",
            )),
            invalid_request(),
        ),
        (
            "repeated audience",
            basic(form(app, "grant_type=client_credentials&audience=a&audience=a")),
            invalid_request(),
        ),
        (
            "grant_type spelled with capitals",
            basic(form(app, "Grant_Type=client_credentials")),
            invalid_request(),
        ),
        // RFC 6749 §2.3.1: one authentication method; Basic halves are form-encoded.
        (
            "Basic and a body secret",
            basic(form(
                app,
                &format!("grant_type=client_credentials&client_secret={secret}"),
            )),
            invalid_request(),
        ),
        // RFC 6749 §2.3.1: Basic plus the *same* client_id is fine (standards.rs); another is not.
        (
            "Basic and another client_id in the body",
            basic(form(
                app,
                "grant_type=client_credentials&client_id=gpc_01m85tb01me5drr7wnn5zekyn0",
            )),
            invalid_request(),
        ),
        (
            "Basic and a homoglyph of its client_id in the body",
            basic(form(
                app,
                &format!("grant_type=client_credentials&client_id={homoglyph}"),
            )),
            invalid_request(),
        ),
        (
            "Basic without a colon",
            form(app, "grant_type=client_credentials").header("authorization", basic_header(id)),
            invalid_request(),
        ),
        (
            "Basic that is not base64",
            form(app, "grant_type=client_credentials").header("authorization", "Basic %%%%"),
            invalid_request(),
        ),
        (
            "Basic with empty halves",
            form(app, "grant_type=client_credentials").header("authorization", basic_header(":")),
            invalid_client_basic(),
        ),
        (
            "Bearer instead of Basic",
            form(app, "grant_type=client_credentials").header("authorization", "Bearer abc"),
            invalid_request(),
        ),
        (
            "Digest scheme",
            form(app, "grant_type=client_credentials").header("authorization", "Digest username=x"),
            invalid_request(),
        ),
        (
            "no credentials",
            form(app, "grant_type=client_credentials"),
            invalid_client(),
        ),
        (
            "client_id without a secret",
            form(app, &format!("grant_type=client_credentials&client_id={id}")),
            invalid_client(),
        ),
        (
            "credentials in the query string only",
            app.http
                .post(app.url(&format!("/oauth2/token?client_id={id}&client_secret={secret}")))
                .form(&[GRANT]),
            invalid_client(),
        ),
        (
            "empty secret",
            form(
                app,
                &format!("grant_type=client_credentials&client_id={id}&client_secret="),
            ),
            invalid_client(),
        ),
        (
            "empty client id",
            form(
                app,
                &format!("grant_type=client_credentials&client_id=&client_secret={secret}"),
            ),
            invalid_client(),
        ),
        (
            "NUL byte in the client id",
            form(
                app,
                &format!("grant_type=client_credentials&client_id={id}%00&client_secret={secret}"),
            ),
            invalid_client(),
        ),
        (
            "NUL byte in the secret",
            form(
                app,
                &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}%00"),
            ),
            invalid_client(),
        ),
        (
            "CRLF in the secret",
            form(
                app,
                &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}%0d%0aX-Injected:%201"),
            ),
            invalid_client(),
        ),
        (
            "Unicode homoglyph client id",
            raw(app).basic_auth(&homoglyph, Some(secret)).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "upper-case client id",
            raw(app).basic_auth(id.to_uppercase(), Some(secret)).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "client id with a trailing space",
            raw(app).basic_auth(format!("{id} "), Some(secret)).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "SQL in the client id",
            raw(app).basic_auth("' OR '1'='1' --", Some(secret)).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "SQL in the secret",
            raw(app).basic_auth(id, Some("' OR '1'='1' --")).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "a secret whose checksum is wrong",
            raw(app).basic_auth(id, Some(&bad_checksum)).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "another client's secret",
            raw(app).basic_auth(id, Some(&other.secret)).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "a well-formed secret stored nowhere",
            raw(app).basic_auth(id, Some(fresh_secret())).form(&[GRANT]),
            invalid_client_basic(),
        ),
        (
            "a 100 KB secret in the body",
            form(
                app,
                &format!(
                    "grant_type=client_credentials&client_id={id}&client_secret={}",
                    "a".repeat(100_000)
                ),
            ),
            expect(413, "invalid_request", false),
        ),
        (
            "a 60 KB secret under the body limit",
            form(
                app,
                &format!(
                    "grant_type=client_credentials&client_id={id}&client_secret={}",
                    "a".repeat(60_000)
                ),
            ),
            invalid_client(),
        ),
        // RFC 6749 §5.2: the grant and the request's shape.
        (
            "grant_type=password",
            basic(raw(app)).form(&[("grant_type", "password"), ("username", "u"), ("password", "p")]),
            expect(400, "unsupported_grant_type", false),
        ),
        (
            "grant_type=authorization_code",
            basic(raw(app)).form(&[("grant_type", "authorization_code"), ("code", "x")]),
            expect(400, "unsupported_grant_type", false),
        ),
        (
            "grant type in other case",
            basic(raw(app)).form(&[("grant_type", "Client_Credentials")]),
            expect(400, "unsupported_grant_type", false),
        ),
        (
            "a JSON body",
            basic(raw(app)).json(&json!({"grant_type": "client_credentials"})),
            invalid_request(),
        ),
        (
            "no content type",
            basic(raw(app)).body("grant_type=client_credentials"),
            invalid_request(),
        ),
        (
            "a NUL in the scope",
            basic(form(app, "grant_type=client_credentials&scope=sites:read%00")),
            expect(400, "invalid_scope", false),
        ),
        (
            "a scope the client may not have",
            basic(raw(app)).form(&[GRANT, ("scope", "gatepass:admin")]),
            expect(400, "invalid_scope", false),
        ),
        (
            "an audience with a line break",
            basic(raw(app)).form(&[GRANT, ("audience", "https://api.example.com\r\nx")]),
            expect(400, "invalid_target", false),
        ),
        (
            "an audience of someone else",
            basic(raw(app)).form(&[GRANT, ("resource", "https://evil.example")]),
            expect(400, "invalid_target", false),
        ),
        // RFC 9700 §4.14 / RFC 6749 §3.2: only POST.
        (
            "GET",
            app.http.get(app.url("/oauth2/token")).basic_auth(id, Some(secret)),
            expect(405, "invalid_request", false),
        ),
        (
            "PUT",
            app.http
                .put(app.url("/oauth2/token"))
                .basic_auth(id, Some(secret))
                .form(&[GRANT]),
            expect(405, "invalid_request", false),
        ),
    ]
}

gatepass_store::both_backends! {
    async fn the_token_endpoint_refuses_what_attackers_send(backend) {
        // Failure rate limits would turn later 401s into 429s; they have their own tests.
        let app = spawn_app_with(backend, &[("GATEPASS__LIMITS__FAILED_AUTH_PER_CLIENT", "0"), ("GATEPASS__LIMITS__FAILED_AUTH_PER_ADDRESS", "0")]).await;
        let good = app.seed_client(&ClientSpec::default());
        let other = app.seed_client(&ClientSpec::default());
        let cases = token_cases(&app, &good, &other);
        assert!(cases.len() >= 40, "{} cases", cases.len());
        for (name, request, want) in cases {
            check(name, request.send().await.unwrap(), &want).await;
        }

        // What the RFCs say must work still does, after all that.
        let (id, secret) = (good.client_id.as_str(), good.secret.as_str());
        let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string();
        for (name, request) in [
            ("a percent-encoded client id in Basic (RFC 6749 §2.3.1)", form(&app, "grant_type=client_credentials").header("authorization", basic_header(&format!("{encoded}:{secret}")))),
            ("a percent-encoded client id in the body", form(&app, &format!("grant_type=client_credentials&client_id={encoded}&client_secret={secret}"))),
            ("unknown extension parameters are ignored", form(&app, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&x-extra=1&foo=bar"))),
            ("a parameter without a value counts as omitted", form(&app, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}&scope="))),
        ] {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{name}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["scope"], "scripts:write sites:read", "{name}");
        }
    }
}

/// Signs with the server's own key but a header of our making.
fn with_header(header: &Value, claims: &Value, key: &EncodingKey) -> String {
    let header_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    let claims_b64 = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let message = format!("{header_b64}.{claims_b64}");
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::ES256).unwrap();
    format!("{message}.{signature}")
}

gatepass_store::both_backends! {
    async fn forged_tokens_are_refused_by_the_admin_api_and_inactive_in_introspection(backend) {
        gatepass_core::jwt_crypto::install();
        let app = spawn_app(backend).await;
        let introspector = app.seed_client(&ClientSpec { scopes: "gatepass:introspect", ..ClientSpec::default() });
        let admin = crate::admin::admin_token(&app).await;
        let admin_claims: Value = crate::helpers::verify_with_jwks(&admin, &app.jwks().await).unwrap().claims;
        let (kid, key) = server_key(&app);
        let t = now();
        let claims = |changes: Value| {
            let mut c = admin_claims.clone();
            c["iat"] = t.into();
            c["nbf"] = t.into();
            c["exp"] = (t + 300).into();
            for (k, v) in changes.as_object().unwrap() {
                c[k] = v.clone();
            }
            c
        };
        let base = claims(json!({}));
        let attacker = foreign_key();
        let jwk_of_attacker = json!({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let public_key_as_hmac = serde_json::to_vec(&app.jwks().await["keys"][0]).unwrap();
        let hs256 = {
            // Our crypto provider has no HMAC at all; ring signs the confused token directly.
            let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json!({"alg": "HS256", "typ": "at+jwt", "kid": kid})).unwrap());
            let message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&base).unwrap()));
            let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public_key_as_hmac), message.as_bytes());
            format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        };
        let valid = sign(&at_jwt(&kid), &base, &key);
        let parts: Vec<&str> = valid.split('.').collect();
        let cases: Vec<(&str, String)> = vec![
            // RFC 8725 §2.1/§3.1: alg none and algorithm confusion.
            ("alg none", unsigned(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &base, b"")),
            ("alg none, no signature part", format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#), parts[1])),
            ("HS256 keyed with the public key", hs256),
            ("ES384 in the header of an ES256 key", with_header(&json!({"alg": "ES384", "typ": "at+jwt", "kid": kid}), &base, &key)),
            ("EdDSA in the header of an ES256 key", with_header(&json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid}), &base, &key)),
            // RFC 8725 §3.10: kid is data, never a path or a query.
            ("kid with path traversal", sign(&at_jwt("../../../../etc/passwd"), &base, &key)),
            ("kid with SQL", sign(&at_jwt("' OR '1'='1"), &base, &key)),
            ("no kid", with_header(&json!({"alg": "ES256", "typ": "at+jwt"}), &base, &key)),
            // RFC 8725 §3.8 / RFC 7515: keys named or carried by the token are ignored.
            ("jku to the attacker's keys", with_header(&json!({"alg": "ES256", "typ": "at+jwt", "kid": kid, "jku": "https://evil.example/jwks"}), &base, &attacker)),
            ("x5u to the attacker's certificate", with_header(&json!({"alg": "ES256", "typ": "at+jwt", "kid": kid, "x5u": "https://evil.example/cert"}), &base, &attacker)),
            ("embedded jwk of the attacker", with_header(&json!({"alg": "ES256", "typ": "at+jwt", "kid": kid, "jwk": jwk_of_attacker}), &base, &attacker)),
            ("signed by a foreign key under our kid", sign(&at_jwt(&kid), &base, &attacker)),
            // RFC 9068 §4: typ, iss, aud, exp.
            ("typ JWT", with_header(&json!({"alg": "ES256", "typ": "JWT", "kid": kid}), &base, &key)),
            ("no typ", with_header(&json!({"alg": "ES256", "kid": kid}), &base, &key)),
            ("another issuer", sign(&at_jwt(&kid), &claims(json!({"iss": "https://evil.example"})), &key)),
            ("expired beyond the leeway", sign(&at_jwt(&kid), &claims(json!({"exp": t - 120, "iat": t - 1000, "nbf": t - 1000})), &key)),
            ("not valid for ten minutes (clock skew beyond leeway)", sign(&at_jwt(&kid), &claims(json!({"nbf": t + 600, "iat": t + 600, "exp": t + 900})), &key)),
            ("no exp", sign(&at_jwt(&kid), &{ let mut c = base.clone(); c.as_object_mut().unwrap().remove("exp"); c }, &key)),
            // Tampering.
            ("scope raised after signing", format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(json!({"scope": "gatepass:admin gatepass:keys:write"}))).unwrap()), parts[2])),
            ("signature stripped", format!("{}.{}.", parts[0], parts[1])),
            ("four segments", format!("{valid}.{}", parts[2])),
            ("not base64", "@@@.@@@.@@@".to_owned()),
        ];
        for (name, token) in &cases {
            let response = app.http.get(app.url("/admin/v1/clients")).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 401, "admin API: {name}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
            assert!(challenge.contains("error=\"invalid_token\""), "admin API: {name}: {challenge}");
            let inactive: Value = app.http.post(app.url("/oauth2/introspect"))
                .basic_auth(&introspector.client_id, Some(&introspector.secret))
                .form(&[("token", token.as_str())]).send().await.unwrap().json().await.unwrap();
            assert_eq!(inactive, json!({"active": false}), "introspection: {name}");
        }
        // The control: the same key and claims, as the server signs them, are accepted.
        let response = app.http.get(app.url("/admin/v1/clients")).bearer_auth(&valid).send().await.unwrap();
        assert_eq!(response.status(), 200, "the unforged token works");
    }
}

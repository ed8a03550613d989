//! Every error of the token endpoint, with its status, code and headers.

use serde_json::Value;

use crate::helpers::{ClientSpec, Credentials, TestApp, fresh_secret, now, spawn_app};

pub struct Expect {
    status: u16,
    error: &'static str,
    basic_challenge: bool,
}

pub const fn expect(status: u16, error: &'static str, basic_challenge: bool) -> Expect {
    Expect {
        status,
        error,
        basic_challenge,
    }
}

pub async fn check(name: &str, response: reqwest::Response, want: &Expect) -> Value {
    assert_eq!(response.status().as_u16(), want.status, "{name}: status");
    assert_eq!(response.headers()["cache-control"], "no-store", "{name}: cache-control");
    assert!(response.headers().contains_key("x-request-id"), "{name}: request id");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    if want.basic_challenge {
        assert_eq!(
            challenge.as_deref(),
            Some("Basic realm=\"gatepass\""),
            "{name}: challenge"
        );
    } else {
        assert_eq!(challenge, None, "{name}: no challenge");
    }
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], want.error, "{name}: error code");
    assert!(body["error_description"].is_string(), "{name}: description");
    body
}

pub fn raw(app: &TestApp) -> reqwest::RequestBuilder {
    app.http.post(app.url("/oauth2/token"))
}

gatepass_store::both_backends! {
    async fn every_error_of_the_token_endpoint(backend) {
        let app = spawn_app(backend).await;
        let good = app.seed_client(&ClientSpec::default());
        let expired = app.seed_client(&ClientSpec {
            secret_expires_at: Some(now() - 10),
            ..ClientSpec::default()
        });
        let disabled = app.seed_client(&ClientSpec {
            disabled: true,
            ..ClientSpec::default()
        });
        let wrong = Credentials {
            client_id: good.client_id.clone(),
            secret: fresh_secret(),
        };
        let grant = [("grant_type", "client_credentials")];

        let cases: Vec<(&str, reqwest::RequestBuilder, Expect)> = vec![
            (
                "missing grant_type",
                raw(&app)
                    .basic_auth(&good.client_id, Some(&good.secret))
                    .form(&[("scope", "sites:read")]),
                expect(400, "invalid_request", false),
            ),
            (
                "unknown grant_type",
                raw(&app)
                    .basic_auth(&good.client_id, Some(&good.secret))
                    .form(&[("grant_type", "password")]),
                expect(400, "unsupported_grant_type", false),
            ),
            (
                "both auth methods",
                raw(&app).basic_auth(&good.client_id, Some(&good.secret)).form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", good.client_id.as_str()),
                    ("client_secret", good.secret.as_str()),
                ]),
                expect(400, "invalid_request", false),
            ),
            (
                "malformed Basic header",
                raw(&app).header("authorization", "Basic !!!notbase64").form(&grant),
                expect(400, "invalid_request", false),
            ),
            (
                "Basic without colon",
                raw(&app)
                    .header("authorization", format!("Basic {}", base64_of("nocolon")))
                    .form(&grant),
                expect(400, "invalid_request", false),
            ),
            (
                "Bearer scheme",
                raw(&app).bearer_auth("abc").form(&grant),
                expect(400, "invalid_request", false),
            ),
            (
                "no credentials",
                raw(&app).form(&grant),
                expect(401, "invalid_client", false),
            ),
            (
                "client_id without secret",
                raw(&app).form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", good.client_id.as_str()),
                ]),
                expect(401, "invalid_client", false),
            ),
            (
                "unknown client (Basic)",
                raw(&app)
                    .basic_auth("gpc_01m85tb01me5drr7wnn5zekyn0", Some(fresh_secret()))
                    .form(&grant),
                expect(401, "invalid_client", true),
            ),
            (
                "wrong secret (Basic)",
                raw(&app).basic_auth(&wrong.client_id, Some(&wrong.secret)).form(&grant),
                expect(401, "invalid_client", true),
            ),
            (
                "wrong secret (post)",
                app_post(&app, &wrong),
                expect(401, "invalid_client", false),
            ),
            (
                "malformed secret",
                raw(&app).basic_auth(&good.client_id, Some("gps_short")).form(&grant),
                expect(401, "invalid_client", true),
            ),
            (
                "secret of another client",
                raw(&app)
                    .basic_auth(&disabled.client_id, Some(&good.secret))
                    .form(&grant),
                expect(401, "invalid_client", true),
            ),
            (
                "expired secret",
                raw(&app)
                    .basic_auth(&expired.client_id, Some(&expired.secret))
                    .form(&grant),
                expect(401, "invalid_client", true),
            ),
            (
                "disabled client",
                raw(&app)
                    .basic_auth(&disabled.client_id, Some(&disabled.secret))
                    .form(&grant),
                expect(401, "invalid_client", true),
            ),
            (
                "scope not allowed",
                raw(&app).basic_auth(&good.client_id, Some(&good.secret)).form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "sites:read gatepass:admin"),
                ]),
                expect(400, "invalid_scope", false),
            ),
            (
                "malformed scope",
                raw(&app)
                    .basic_auth(&good.client_id, Some(&good.secret))
                    .form(&[("grant_type", "client_credentials"), ("scope", "a\"b")]),
                expect(400, "invalid_scope", false),
            ),
            (
                "audience not allowed",
                raw(&app).basic_auth(&good.client_id, Some(&good.secret)).form(&[
                    ("grant_type", "client_credentials"),
                    ("audience", "https://evil.example.com"),
                ]),
                expect(400, "invalid_target", false),
            ),
            (
                "audience and resource",
                raw(&app).basic_auth(&good.client_id, Some(&good.secret)).form(&[
                    ("grant_type", "client_credentials"),
                    ("audience", "https://api.example.com"),
                    ("resource", "https://api.example.com"),
                ]),
                expect(400, "invalid_request", false),
            ),
            (
                "repeated parameter",
                raw(&app)
                    .basic_auth(&good.client_id, Some(&good.secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("grant_type=client_credentials&grant_type=client_credentials"),
                expect(400, "invalid_request", false),
            ),
            (
                "JSON instead of form",
                raw(&app)
                    .basic_auth(&good.client_id, Some(&good.secret))
                    .json(&serde_json::json!({"grant_type": "client_credentials"})),
                expect(400, "invalid_request", false),
            ),
            (
                "2 MB body",
                raw(&app)
                    .basic_auth(&good.client_id, Some(&good.secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!(
                        "grant_type=client_credentials&pad={}",
                        "a".repeat(2 * 1024 * 1024)
                    )),
                expect(413, "invalid_request", false),
            ),
        ];
        for (name, request, want) in cases {
            check(name, request.send().await.unwrap(), &want).await;
        }

        for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE] {
            let response = app
                .http
                .request(method.clone(), app.url("/oauth2/token"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["allow"], "POST");
            check(method.as_str(), response, &expect(405, "invalid_request", false)).await;
        }

        // The good client still works after all that.
        assert_eq!(app.token_basic(&good, &grant).await.status(), 200);
    }

    async fn unknown_client_and_wrong_secret_answer_byte_identically_and_the_audit_log_knows_why(backend) {
        let app = spawn_app(backend).await;
        let good = app.seed_client(&ClientSpec::default());
        let disabled = app.seed_client(&ClientSpec {
            disabled: true,
            ..ClientSpec::default()
        });
        let expired = app.seed_client(&ClientSpec {
            secret_expires_at: Some(now() - 1),
            ..ClientSpec::default()
        });
        let attempts = [
            (
                "unknown_secret",
                Credentials {
                    client_id: "gpc_01m85tb01me5drr7wnn5zekyn0".into(),
                    secret: fresh_secret(),
                },
            ),
            (
                "unknown_secret",
                Credentials {
                    client_id: good.client_id.clone(),
                    secret: fresh_secret(),
                },
            ),
            ("client_disabled", disabled),
            ("secret_expired", expired),
            (
                "client_mismatch",
                Credentials {
                    client_id: "gpc_01m85tb01me5drr7wnn5zekyn0".into(),
                    secret: good.secret.clone(),
                },
            ),
            (
                "malformed_secret",
                Credentials {
                    client_id: good.client_id.clone(),
                    secret: "hunter2".into(),
                },
            ),
        ];
        let mut bodies = Vec::new();
        for (reason, creds) in &attempts {
            let response = app.token_basic(creds, &[("grant_type", "client_credentials")]).await;
            assert_eq!(response.status(), 401, "{reason}");
            bodies.push(response.bytes().await.unwrap());
            assert!(app.audit_reason_recorded(reason).await, "audit log lacks {reason}");
        }
        assert!(
            bodies.windows(2).all(|pair| pair[0] == pair[1]),
            "bodies differ: {bodies:?}"
        );
    }
}

fn app_post(app: &TestApp, creds: &Credentials) -> reqwest::RequestBuilder {
    raw(app).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", creds.client_id.as_str()),
        ("client_secret", creds.secret.as_str()),
    ])
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

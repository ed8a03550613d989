//! The token endpoint's successful paths.

use serde_json::Value;

use crate::helpers::{ClientSpec, Credentials, spawn_app, verify_with_jwks};

fn assert_no_store(response: &reqwest::Response) {
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
}

gatepass_store::both_backends! {
    async fn bootstrapped_admin_gets_a_token_with_basic_auth_that_verifies_against_the_jwks(backend) {
        let app = spawn_app(backend).await;
        let output = app.cli(&["bootstrap", "--json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let boot: Value = serde_json::from_slice(&output.stdout).expect("exactly one JSON document");
        let creds = Credentials {
            client_id: boot["client_id"].as_str().unwrap().into(),
            secret: boot["client_secret"].as_str().unwrap().into(),
        };
        assert!(creds.client_id.starts_with("gpc_") && creds.secret.starts_with("gps_"));

        let response = app.token_basic(&creds, &[("grant_type", "client_credentials")]).await;
        assert_eq!(response.status(), 200);
        assert_no_store(&response);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "gatepass:admin");

        let jwt = verify_with_jwks(body["access_token"].as_str().unwrap(), &app.jwks().await).unwrap();
        assert_eq!(jwt.header["typ"], "at+jwt");
        assert_eq!(jwt.header["alg"], "ES256");
        assert!(jwt.header["kid"].as_str().unwrap().starts_with("gpk_"));
        let c = &jwt.claims;
        assert_eq!(c["iss"], app.address.as_str());
        assert_eq!(c["sub"], creds.client_id.as_str());
        assert_eq!(c["client_id"], creds.client_id.as_str());
        assert_eq!(
            c["aud"],
            app.address.as_str(),
            "a client without audiences gets the issuer"
        );
        assert_eq!(c["scope"], "gatepass:admin");
        assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));
        assert_eq!(c["nbf"], c["iat"]);
        let (exp, iat) = (c["exp"].as_i64().unwrap(), c["iat"].as_i64().unwrap());
        assert_eq!(exp - iat, body["expires_in"].as_i64().unwrap());
        assert_eq!(exp - iat, 900);
        assert!((iat - crate::helpers::now()).abs() <= 5);
    }

    async fn client_secret_post_works_and_scope_and_audience_follow_the_request(backend) {
        let app = spawn_app(backend).await;
        let creds = app.seed_client(&ClientSpec {
            audiences: "https://api.example.com https://billing.example.com",
            token_ttl: Some(120),
            ..ClientSpec::default()
        });

        let all: Value = app
            .token_post(&creds, &[("grant_type", "client_credentials")])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(all["scope"], "scripts:write sites:read");
        assert_eq!(all["expires_in"], 120);
        let jwt = verify_with_jwks(all["access_token"].as_str().unwrap(), &app.jwks().await).unwrap();
        assert_eq!(
            jwt.claims["aud"],
            serde_json::json!(["https://api.example.com", "https://billing.example.com"])
        );

        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "sites:read"),
            ("audience", "https://billing.example.com"),
        ];
        let narrowed = app.token_post(&creds, &form).await;
        assert_eq!(narrowed.status(), 200);
        let narrowed: Value = narrowed.json().await.unwrap();
        assert_eq!(narrowed["scope"], "sites:read");
        let jwt = verify_with_jwks(narrowed["access_token"].as_str().unwrap(), &app.jwks().await).unwrap();
        assert_eq!(jwt.claims["aud"], "https://billing.example.com");
        assert_eq!(
            jwt.claims["exp"].as_i64().unwrap() - jwt.claims["iat"].as_i64().unwrap(),
            120
        );

        let by_resource = [
            ("grant_type", "client_credentials"),
            ("resource", "https://api.example.com"),
        ];
        assert_eq!(app.token_basic(&creds, &by_resource).await.status(), 200);
    }

    async fn service_account_roles_narrow_what_a_client_gets(backend) {
        let app = spawn_app(backend).await;
        let creds = app.seed_client(&ClientSpec {
            role_scopes: Some("sites:read reports:read"),
            ..ClientSpec::default()
        });
        let body: Value = app.token_body(&creds, &[("grant_type", "client_credentials")]).await;
        assert_eq!(body["scope"], "sites:read");
        let jwt = verify_with_jwks(body["access_token"].as_str().unwrap(), &app.jwks().await).unwrap();
        assert!(jwt.claims["service_account"].is_string());
        assert_eq!(jwt.claims["roles"].as_array().unwrap().len(), 1);
        let denied = app
            .token_basic(
                &creds,
                &[("grant_type", "client_credentials"), ("scope", "scripts:write")],
            )
            .await;
        assert_eq!(denied.status(), 400);
    }

    async fn a_second_secret_works_beside_the_first(backend) {
        let app = spawn_app(backend).await;
        let creds = app.seed_client(&ClientSpec::default());
        let second = Credentials {
            client_id: creds.client_id.clone(),
            secret: app.add_secret(&creds.client_id, None),
        };
        for c in [&creds, &second] {
            assert_eq!(
                app.token_basic(c, &[("grant_type", "client_credentials")])
                    .await
                    .status(),
                200
            );
        }
    }

    async fn two_hundred_concurrent_requests_all_succeed_and_logs_hold_no_secret_or_token(backend) {
        let app = spawn_app(backend).await;
        let creds = app.seed_client(&ClientSpec::default());
        let mut set = tokio::task::JoinSet::new();
        for i in 0..200 {
            let (http, url) = (app.http.clone(), app.url("/oauth2/token"));
            let (id, secret) = (creds.client_id.clone(), creds.secret.clone());
            set.spawn(async move {
                let request = http.post(url);
                let request = if i % 2 == 0 {
                    request
                        .basic_auth(id, Some(secret))
                        .form(&[("grant_type", "client_credentials")])
                } else {
                    request.form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", &id),
                        ("client_secret", &secret),
                    ])
                };
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.json::<Value>().await.unwrap())
            });
        }
        let mut tokens = Vec::new();
        while let Some(done) = set.join_next().await {
            let (status, body) = done.unwrap();
            assert_eq!(status, 200, "{body}");
            tokens.push(body["access_token"].as_str().unwrap().to_owned());
        }
        assert_eq!(tokens.len(), 200);
        // A few failures too, so the failure paths log as well.
        let wrong = Credentials {
            client_id: creds.client_id.clone(),
            secret: crate::helpers::fresh_secret(),
        };
        assert_eq!(
            app.token_basic(&wrong, &[("grant_type", "client_credentials")])
                .await
                .status(),
            401
        );
        let mut typo = creds.secret.clone();
        typo.pop();
        let typo = Credentials {
            client_id: creds.client_id.clone(),
            secret: typo,
        };
        assert_eq!(
            app.token_post(&typo, &[("grant_type", "client_credentials")])
                .await
                .status(),
            401
        );

        let log = app.server_log();
        assert!(
            log.contains("token issued"),
            "debug logging is on, so issuance is logged"
        );
        assert!(log.contains("client authentication failed"));
        for secret in [&creds.secret, &wrong.secret, &typo.secret] {
            assert!(!log.contains(secret.as_str()), "a secret is in the log");
        }
        for token in &tokens {
            let signature = token.rsplit('.').next().unwrap();
            assert!(!log.contains(signature), "a token is in the log");
        }
        assert!(!log.to_lowercase().contains("authorization: basic"));
    }
}

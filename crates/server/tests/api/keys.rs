//! Signing-key rotation, JWKS and discovery.

use std::time::Duration;

use serde_json::Value;

use reqwest::Method;

use crate::admin::{admin_token, call, token_with};
use crate::helpers::{ClientSpec, eventually, spawn_app, spawn_app_with, spawn_with_clock_and, verify_with_jwks};

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

gatepass_store::both_backends! {
    async fn rotation_prepublishes_the_new_key_and_old_tokens_keep_verifying(backend) {
        // Published 5 s ahead, JWKS cached 1 s, refreshed every second; the server's clock is
        // the test's, so "before its time" is exact, not a race against a slow runner.
        let (app, clock) = spawn_with_clock_and(
            backend,
            "[keys]\npublish_ahead_seconds = 5\njwks_max_age_seconds = 1\nrefresh_interval_seconds = 1\n",
        )
        .await;
        let admin = admin_token(&app).await;
        let creds = app.seed_client(&ClientSpec::default());
        let grant = [("grant_type", "client_credentials")];
        let before: Value = app.token_body(&creds, &grant).await;
        let before = before["access_token"].as_str().unwrap().to_owned();
        let first = kids(&app.jwks().await);
        assert_eq!(first.len(), 1);

        let jwks_response = app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap();
        assert_eq!(jwks_response.headers()["cache-control"], "public, max-age=1");

        let (status, rotated) = call(&app, &admin, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
        assert_eq!((status, rotated["status"].as_str()), (200, Some("scheduled")), "{rotated}");
        let (_, again) = call(&app, &admin, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
        assert_eq!(again["status"], "already_pending");

        // Within a refresh interval both keys are published, and the old one still signs:
        // no time has passed on the server's clock.
        let both = eventually(Duration::from_secs(4), || async {
            let jwks = app.jwks().await;
            (kids(&jwks).len() == 2).then_some(jwks)
        })
        .await
        .expect("the new key is published within the refresh interval");
        for _ in 0..3 {
            let during: Value = app.token_body(&creds, &grant).await;
            let during = verify_with_jwks(during["access_token"].as_str().unwrap(), &both).unwrap();
            assert_eq!(during.header["kid"], first[0].as_str(), "the new key must not sign before its time");
        }
        clock.advance(time::Duration::seconds(4));
        let early: Value = app.token_body(&creds, &grant).await;
        let early = verify_with_jwks(early["access_token"].as_str().unwrap(), &both).unwrap();
        assert_eq!(early.header["kid"], first[0].as_str(), "one second before its time the old key still signs");

        // After the pre-publication window the new key signs; the old token still verifies.
        clock.advance(time::Duration::seconds(1));
        let after = eventually(Duration::from_secs(4), || async {
            let body: Value = app.token_body(&creds, &grant).await;
            let jwks = app.jwks().await;
            let jwt = verify_with_jwks(body["access_token"].as_str().unwrap(), &jwks).unwrap();
            (jwt.header["kid"] != first[0].as_str()).then_some(jwks)
        })
        .await
        .expect("the new key signs once the pre-publication window has passed");
        assert_eq!(kids(&after).len(), 2, "the retired key stays published");
        verify_with_jwks(&before, &after).expect("a token signed before rotation verifies after it");

        let (_, listed) = call(&app, &admin, Method::GET, "/admin/v1/signing-keys", None).await;
        let states: Vec<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["retired", "active"]);
    }

    async fn eddsa_is_selectable(backend) {
        let app = spawn_app_with(backend, &[("GATEPASS__KEYS__ALGORITHM", "EdDSA")]).await;
        let creds = app.seed_client(&ClientSpec::default());
        let body: Value = app.token_body(&creds, &[("grant_type", "client_credentials")]).await;
        let jwt = verify_with_jwks(body["access_token"].as_str().unwrap(), &app.jwks().await).unwrap();
        assert_eq!(jwt.header["alg"], "EdDSA");
    }

    async fn discovery_documents_agree_and_point_at_the_endpoints(backend) {
        let app = spawn_app(backend).await;
        let oauth = app.get_json("/.well-known/oauth-authorization-server").await;
        let oidc = app.get_json("/.well-known/openid-configuration").await;
        assert_eq!(oauth, oidc);
        assert_eq!(oauth["issuer"], app.address.as_str());
        assert_eq!(oauth["token_endpoint"], app.url("/oauth2/token"));
        assert_eq!(oauth["jwks_uri"], app.url("/.well-known/jwks.json"));
        assert_eq!(
            oauth["grant_types_supported"],
            serde_json::json!(["client_credentials"])
        );
        assert_eq!(
            oauth["token_endpoint_auth_methods_supported"],
            serde_json::json!(["client_secret_basic", "client_secret_post"])
        );
    }

    async fn health_and_readiness(backend) {
        let app = spawn_app(backend).await;
        assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    }

    async fn signing_keys_are_stored_encrypted(backend) {
        let app = spawn_app(backend).await;
        let rows = gatepass_store::signing_keys::list(&mut app.db().conn().unwrap()).unwrap();
        assert_eq!(rows.len(), 1);
        // An unencrypted PKCS#8 P-256 document starts with this DER prefix.
        assert!(!rows[0].private_key.windows(4).any(|w| w == [0x30, 0x81, 0x87, 0x02]));
        assert_eq!(
            rows[0].master_key_id,
            gatepass_core::MasterKey::from_bytes(crate::helpers::MASTER_KEY).id()
        );
    }

    async fn rotation_takes_keys_write_and_every_way_in_writes_one_audit_row(backend) {
        let app = spawn_app(backend).await;
        let audited = |action: &'static str| {
            let filter = gatepass_store::audit::AuditFilter {
                action: Some(action.to_owned()),
                ..Default::default()
            };
            gatepass_store::audit::search(&mut app.db().conn().unwrap(), &filter, 100).unwrap()
        };
        let stored = || gatepass_store::signing_keys::list(&mut app.db().conn().unwrap()).unwrap().len();

        // A caller that may see the schedule but not change it: refused, nothing changed.
        let reader = token_with(&app, &["gatepass:clients:read"]).await;
        let (status, listed) = call(&app, &reader, Method::GET, "/admin/v1/signing-keys", None).await;
        assert_eq!((status, listed["items"].as_array().map(Vec::len)), (200, Some(1)), "{listed}");
        let (status, refused) = call(&app, &reader, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
        assert_eq!(status, 403, "{refused}");
        assert_eq!(stored(), 1, "no key was made");
        assert!(audited("signing_key.rotated").is_empty(), "no rotation recorded");
        assert!(
            audited("admin.denied").iter().any(|row| row.target.as_deref() == Some("/admin/v1/signing-keys/rotate")),
            "the refusal is recorded"
        );

        // The CLI, as the operator: one key, one row.
        let output = app.cli(&["keys", "rotate", "--json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(answer["status"], "scheduled", "{answer}");
        assert_eq!(stored(), 2);
        let rows = audited("signing_key.rotated");
        assert_eq!((rows.len(), rows[0].actor.as_str()), (1, "cli"));

        // The API goes through the same command: a key is already pending, so nothing new.
        let writer = token_with(&app, &["gatepass:keys:write"]).await;
        let (status, again) = call(&app, &writer, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
        assert_eq!((status, again["status"].as_str()), (200, Some("already_pending")), "{again}");
        assert_eq!((stored(), audited("signing_key.rotated").len()), (2, 1));
        let listed: Value = serde_json::from_slice(&app.cli(&["keys", "list", "--json"]).stdout).unwrap();
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");
    }

    async fn the_console_rotates_only_for_a_keys_writer(backend) {
        let app = spawn_app(backend).await;
        let stored = || gatepass_store::signing_keys::list(&mut app.db().conn().unwrap()).unwrap().len();
        let rotations = || {
            let filter = gatepass_store::audit::AuditFilter {
                action: Some("signing_key.rotated".to_owned()),
                ..Default::default()
            };
            gatepass_store::audit::search(&mut app.db().conn().unwrap(), &filter, 100).unwrap()
        };
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // Signs in as a new client holding `scopes`; its session cookie and CSRF token.
        let sign_in = async |scopes: &[&str]| {
            let mut args = vec!["clients", "create", "--json"];
            for scope in scopes {
                args.extend(["--scope", scope]);
            }
            let created: Value = serde_json::from_slice(&app.cli(&args).stdout).unwrap();
            let form = [
                ("client_id", created["client"]["client_id"].as_str().unwrap()),
                ("client_secret", created["client_secret"].as_str().unwrap()),
            ];
            let signed_in = browser.post(app.url("/console/login")).form(&form).send().await.unwrap();
            assert_eq!(signed_in.status(), 303);
            let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
            let page = browser.get(app.url("/console/signing-keys")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
            (cookie, csrf)
        };
        let rotate = async |(cookie, csrf): &(String, String)| {
            let answer = browser.post(app.url("/console/signing-keys/rotate")).header("cookie", cookie)
                .form(&[("csrf", csrf.as_str())]).send().await.unwrap();
            assert_eq!(answer.status(), 200);
            answer.text().await.unwrap()
        };

        let reader = sign_in(&["gatepass:clients:read"]).await;
        let page = rotate(&reader).await;
        assert!(page.contains("gatepass:keys:write"), "the page names the missing scope: {page}");
        assert_eq!((stored(), rotations().len()), (1, 0), "nothing changed");

        let writer = sign_in(&["gatepass:keys:write"]).await;
        assert!(rotate(&writer).await.contains("Rotation: scheduled."));
        let rows = rotations();
        assert_eq!((stored(), rows.len()), (2, 1));
        assert_ne!(rows[0].actor, "cli", "the signed-in admin is the actor");
    }
}

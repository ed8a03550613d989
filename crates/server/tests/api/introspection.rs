//! RFC 7662 introspection and RFC 7009 revocation over HTTP.

use reqwest::Response;
use serde_json::{Value, json};

use crate::forge::{at_jwt, foreign_key, server_key, sign};
use crate::helpers::{ClientSpec, Credentials, TestApp, now, spawn_app};

const INTROSPECTOR: ClientSpec = ClientSpec {
    scopes: "gatepass:introspect",
    audiences: "",
    disabled: false,
    secret_expires_at: None,
    token_ttl: None,
    role_scopes: None,
};

async fn post(app: &TestApp, path: &str, creds: &Credentials, form: &[(&str, &str)]) -> Response {
    app.http
        .post(app.url(path))
        .basic_auth(&creds.client_id, Some(&creds.secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn introspect(app: &TestApp, caller: &Credentials, token: &str) -> Value {
    let response = post(app, "/oauth2/introspect", caller, &[("token", token)]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

async fn token_of(app: &TestApp, creds: &Credentials) -> String {
    app.token_body(creds, &[("grant_type", "client_credentials")]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

gatepass_store::both_backends! {
    async fn introspection_answers_active_only_for_live_tokens(backend) {
        let app = spawn_app(backend).await;
        let introspector = app.seed_client(&INTROSPECTOR);
        let client = app.seed_client(&ClientSpec::default());
        let token = token_of(&app, &client).await;

        let active = introspect(&app, &introspector, &token).await;
        assert_eq!(active["active"], true, "{active}");
        assert_eq!(active["client_id"], client.client_id.as_str());
        assert_eq!(active["sub"], client.client_id.as_str());
        assert_eq!(active["token_type"], "Bearer");
        assert_eq!(active["scope"], "scripts:write sites:read");
        assert_eq!(active["aud"], "https://api.example.com");
        assert_eq!(active["iss"], app.address.as_str());
        for field in ["exp", "iat", "nbf"] {
            assert!(active[field].is_i64(), "{field}");
        }
        assert!(active["jti"].is_string());

        // Unknown, malformed, foreign-key, other issuer, expired, not yet valid: inactive,
        // and nothing but `active`.
        let (kid, key) = server_key(&app);
        let base = |exp: i64, nbf: i64, iss: &str| json!({"iss": iss, "sub": client.client_id, "aud": "https://api.example.com",
            "exp": exp, "iat": nbf, "nbf": nbf, "jti": "forged", "client_id": client.client_id, "scope": "sites:read",
            "secret_id": "x"});
        let t = now();
        let mut unknown_kid = at_jwt("gpk_unknown");
        unknown_kid.kid = Some("gpk_unknown".into());
        for (what, candidate) in [
            ("garbage", "not-a-token".to_owned()),
            ("empty", String::new()),
            ("foreign key", sign(&at_jwt(&kid), &base(t + 300, t, &app.address), &foreign_key())),
            ("unknown kid", sign(&unknown_kid, &base(t + 300, t, &app.address), &key)),
            ("other issuer", sign(&at_jwt(&kid), &base(t + 300, t, "https://evil.example"), &key)),
            ("expired", sign(&at_jwt(&kid), &base(t - 1, t - 100, &app.address), &key)),
            ("not yet valid", sign(&at_jwt(&kid), &base(t + 900, t + 600, &app.address), &key)),
            ("unknown secret id", sign(&at_jwt(&kid), &base(t + 300, t, &app.address), &key)),
        ] {
            assert_eq!(introspect(&app, &introspector, &candidate).await, json!({"active": false}), "{what}");
        }

        // The caller must authenticate and hold gatepass:introspect.
        let response = post(&app, "/oauth2/introspect", &client, &[("token", &token)]).await;
        assert_eq!(response.status(), 403);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "unauthorized_client");
        let wrong = Credentials { client_id: introspector.client_id.clone(), secret: crate::helpers::fresh_secret() };
        let response = post(&app, "/oauth2/introspect", &wrong, &[("token", &token)]).await;
        assert_eq!(response.status(), 401);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
        let anonymous = app.http.post(app.url("/oauth2/introspect")).form(&[("token", &token)]).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let response = post(&app, "/oauth2/introspect", &introspector, &[]).await;
        assert_eq!(response.status(), 400, "no token parameter");
        let response = post(&app, "/oauth2/introspect", &introspector, &[("token", "a"), ("token", "b")]).await;
        assert_eq!(response.status(), 400, "a repeated parameter");

        // Revoking the secret that obtained the token makes it inactive at once.
        let mut conn = app.db().conn().unwrap();
        let secret = gatepass_store::secrets::list_for_client(&mut conn, &client.client_id).unwrap().remove(0);
        gatepass_store::secrets::revoke(&mut conn, &secret.id, now()).unwrap();
        assert_eq!(introspect(&app, &introspector, &token).await, json!({"active": false}), "secret revoked");

        // Disabling a client does too.
        let other = app.seed_client(&ClientSpec::default());
        let token = token_of(&app, &other).await;
        assert_eq!(introspect(&app, &introspector, &token).await["active"], true);
        let mut row = gatepass_store::clients::get(&mut conn, &other.client_id).unwrap().unwrap();
        row.disabled = true;
        gatepass_store::clients::update(&mut conn, &row).unwrap();
        assert_eq!(introspect(&app, &introspector, &token).await, json!({"active": false}), "client disabled");
    }

    async fn a_client_revokes_its_own_tokens_and_only_those(backend) {
        let app = spawn_app(backend).await;
        let introspector = app.seed_client(&INTROSPECTOR);
        let owner = app.seed_client(&ClientSpec::default());
        let stranger = app.seed_client(&ClientSpec::default());
        let token = token_of(&app, &owner).await;
        let kept = token_of(&app, &owner).await;

        // Another client's revocation is refused and changes nothing (RFC 7009 §2.1).
        let response = post(&app, "/oauth2/revoke", &stranger, &[("token", &token)]).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized_client");
        assert_eq!(introspect(&app, &introspector, &token).await["active"], true);

        let response = post(&app, "/oauth2/revoke", &owner, &[("token", &token), ("token_type_hint", "access_token")]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(introspect(&app, &introspector, &token).await, json!({"active": false}), "revoked");
        assert_eq!(introspect(&app, &introspector, &kept).await["active"], true, "only that token");
        assert_eq!(post(&app, "/oauth2/revoke", &owner, &[("token", &token)]).await.status(), 200, "twice is fine");

        // Invalid tokens are answered 200 too; a bad caller is not.
        assert_eq!(post(&app, "/oauth2/revoke", &owner, &[("token", "junk")]).await.status(), 200);
        assert_eq!(post(&app, "/oauth2/revoke", &owner, &[]).await.status(), 400);
        let wrong = Credentials { client_id: owner.client_id.clone(), secret: crate::helpers::fresh_secret() };
        assert_eq!(post(&app, "/oauth2/revoke", &wrong, &[("token", &kept)]).await.status(), 401);
        assert_eq!(app.http.get(app.url("/oauth2/revoke")).send().await.unwrap().status(), 405);

        assert!(crate::helpers::eventually(std::time::Duration::from_secs(5), || async {
            let events = gatepass_store::audit::list(&mut app.db().conn().unwrap(), Some("token.revoked"), 10).unwrap();
            (events.len() == 1).then_some(())
        }).await.is_some(), "one audit event for the one revocation");

        let metadata = app.get_json("/.well-known/oauth-authorization-server").await;
        assert_eq!(metadata["introspection_endpoint"], format!("{}/oauth2/introspect", app.address));
        assert_eq!(metadata["revocation_endpoint"], format!("{}/oauth2/revoke", app.address));
        assert_eq!(metadata["revocation_endpoint_auth_methods_supported"], json!(["client_secret_basic", "client_secret_post"]));
    }
}

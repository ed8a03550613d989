//! RFC details of the token, introspection and revocation endpoints, each case naming the
//! section it follows.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gatepass_store::testing::TestBackend;
use serde_json::{Value, json};

use crate::helpers::{COMMAND_DEADLINE, ClientSpec, Credentials, TestApp, output_within, spawn_app};
use crate::token_errors::{check, expect, raw};

const TWO_AUDIENCES: ClientSpec = ClientSpec {
    scopes: "sites:read gatepass:introspect",
    audiences: "https://api.example.com https://billing.example.com",
    disabled: false,
    secret_expires_at: None,
    token_ttl: None,
    role_scopes: None,
};

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

fn basic(creds: &Credentials) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", creds.client_id, creds.secret))
    )
}

/// A token request with a raw form body, so parameters can repeat.
fn token_request(app: &TestApp, creds: &Credentials, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    raw(app)
        .header("authorization", basic(creds))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(pairs))
}

#[tokio::test]
async fn several_resource_parameters_give_a_token_for_each_rfc8707_s2() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let creds = app.seed_client(&TWO_AUDIENCES);
    let (api, billing) = ("https://api.example.com", "https://billing.example.com");
    let grant = ("grant_type", "client_credentials");

    // Granted: `aud` holds each requested resource once, in request order.
    let granted = [
        ("one resource", vec![grant, ("resource", billing)], json!(billing)),
        (
            "two resources",
            vec![grant, ("resource", billing), ("resource", api)],
            json!([billing, api]),
        ),
        (
            "the same resource twice",
            vec![("resource", api), grant, ("resource", api)],
            json!(api),
        ),
        (
            "no resource: the client's audiences",
            vec![grant],
            json!([api, billing]),
        ),
    ];
    for (name, pairs, aud) in granted {
        let response = token_request(&app, &creds, &pairs).send().await.unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], aud, "{name}");
    }

    // Refused: each resource must be one of the client's audiences (invalid_target); the
    // `audience` parameter stays single, and any other parameter may not repeat (RFC 6749 §3.2).
    let refused = [
        (
            "one resource not allowed",
            vec![grant, ("resource", api), ("resource", "https://evil.example.com")],
            expect(400, "invalid_target", false),
        ),
        (
            "a malformed resource",
            vec![grant, ("resource", api), ("resource", "")],
            expect(400, "invalid_target", false),
        ),
        (
            "audience and resources",
            vec![grant, ("audience", api), ("resource", billing), ("resource", api)],
            expect(400, "invalid_request", false),
        ),
        (
            "audience twice",
            vec![grant, ("audience", api), ("audience", billing)],
            expect(400, "invalid_request", false),
        ),
        (
            "scope twice beside resources",
            vec![
                grant,
                ("resource", api),
                ("scope", "sites:read"),
                ("scope", "sites:read"),
            ],
            expect(400, "invalid_request", false),
        ),
    ];
    for (name, pairs, want) in refused {
        check(name, token_request(&app, &creds, &pairs).send().await.unwrap(), &want).await;
    }
}

#[tokio::test]
async fn basic_with_the_same_client_id_in_the_body_is_one_method_rfc6749_s2_3_1() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let creds = app.seed_client(&TWO_AUDIENCES);
    let other = app.seed_client(&ClientSpec::default());
    let grant = ("grant_type", "client_credentials");

    // requests-oauthlib's include_client_id=True: Basic plus the same client_id (§3.2.1).
    let same = vec![grant, ("client_id", creds.client_id.as_str())];
    let response = token_request(&app, &creds, &same).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["client_id"],
        creds.client_id.as_str()
    );
    let token = body["access_token"].as_str().unwrap().to_owned();

    let cases = [
        (
            "another client_id in the body",
            vec![grant, ("client_id", other.client_id.as_str())],
            expect(400, "invalid_request", false),
        ),
        (
            "client_secret in the body too (two methods, §2.3.1)",
            vec![
                grant,
                ("client_id", creds.client_id.as_str()),
                ("client_secret", creds.secret.as_str()),
            ],
            expect(400, "invalid_request", false),
        ),
        (
            "client_secret alone in the body too",
            vec![grant, ("client_secret", creds.secret.as_str())],
            expect(400, "invalid_request", false),
        ),
    ];
    for (name, pairs, want) in cases {
        check(name, token_request(&app, &creds, &pairs).send().await.unwrap(), &want).await;
    }

    // Introspection and revocation authenticate the caller the same way.
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let post = |pairs: Vec<(&str, &str)>| {
            app.http
                .post(app.url(path))
                .header("authorization", basic(&creds))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_body(&pairs))
        };
        let ok = post(vec![("token", "junk"), ("client_id", creds.client_id.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{path}: same client_id");
        let refused = post(vec![("token", "junk"), ("client_id", other.client_id.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{path}: another client_id");
        assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_request");
        // One credential parser: a client_id alone is no authentication here either (401).
        let alone = app
            .http
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("token", "junk"), ("client_id", creds.client_id.as_str())]))
            .send()
            .await
            .unwrap();
        check(path, alone, &expect(401, "invalid_client", false)).await;
    }
    // The token was not revoked by any of that ("junk" was).
    let introspection = app
        .http
        .post(app.url("/oauth2/introspect"))
        .basic_auth(&creds.client_id, Some(&creds.secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(introspection.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn revoking_another_clients_token_is_refused_rfc7009_s2_1() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let owner = app.seed_client(&TWO_AUDIENCES);
    let stranger = app.seed_client(&ClientSpec::default());
    let token = app.token_body(&owner, &[("grant_type", "client_credentials")]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = |creds: &Credentials, token: &str| {
        app.http
            .post(app.url("/oauth2/revoke"))
            .basic_auth(&creds.client_id, Some(&creds.secret))
            .form(&[("token", token)])
            .send()
    };
    let active = || async {
        let response = app
            .http
            .post(app.url("/oauth2/introspect"))
            .basic_auth(&owner.client_id, Some(&owner.secret))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()["active"].clone()
    };

    // §2.1: the server verifies the token was issued to the caller; if not, the request is
    // refused and the client informed (§2.2.1: an error response per RFC 6749 §5.2).
    let response = revoke(&stranger, &token).await.unwrap();
    check(
        "another client's token",
        response,
        &expect(400, "unauthorized_client", false),
    )
    .await;
    assert_eq!(active().await, true, "still active after the refused revocation");

    // §2.2: an invalid token (unknown, garbage) is answered 200, nothing to do.
    for junk in ["junk", "a.b.c", ""] {
        assert_eq!(revoke(&stranger, junk).await.unwrap().status(), 200, "{junk:?}");
    }
    // The owner may.
    assert_eq!(revoke(&owner, &token).await.unwrap().status(), 200);
    assert_eq!(active().await, false);
}

#[tokio::test]
async fn two_authorization_headers_are_refused_rfc6749_s3_2() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let creds = app.seed_client(&TWO_AUDIENCES);
    let other = app.seed_client(&ClientSpec::default());
    let token = app.token_body(&creds, &[("grant_type", "client_credentials")]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases = [
        ("/oauth2/token", vec![("grant_type", "client_credentials")]),
        ("/oauth2/introspect", vec![("token", token.as_str())]),
        ("/oauth2/revoke", vec![("token", token.as_str())]),
    ];
    for (path, pairs) in cases {
        // The same header twice, and two different clients' headers: neither one is picked.
        for second in [basic(&creds), basic(&other)] {
            let response = app
                .http
                .post(app.url(path))
                .header("authorization", basic(&creds))
                .header("authorization", second)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_body(&pairs))
                .send()
                .await
                .unwrap();
            check(path, response, &expect(400, "invalid_request", false)).await;
        }
    }
    // Nothing was revoked.
    let introspection = app
        .http
        .post(app.url("/oauth2/introspect"))
        .basic_auth(&creds.client_id, Some(&creds.secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(introspection.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn console_answers_are_never_sniffed_as_another_type() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The sign-in page, a redirect to it, the stylesheet, the script and a page that is not there.
    for path in [
        "/console/login",
        "/console/keys",
        "/console/assets/console.css",
        "/console/assets/console.js",
        "/console/nowhere",
    ] {
        let response = no_redirects.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{path}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn the_reference_ui_is_served_with_a_csp_and_may_not_be_framed() {
    let app = spawn_app(TestBackend::Sqlite).await;
    for path in [
        "/docs/",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
        "/docs",
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{path}"
        );
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    // The page itself has no inline script the policy would block: every script is a file.
    let page = app.get_text("/docs/").await;
    assert!(page.contains("swagger-ui-bundle.js"));
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script src=").count(),
        "an inline script: {page}"
    );
    assert!(!page.contains("<style"), "an inline style: {page}");
}

#[tokio::test]
async fn the_reference_ui_renders_in_chromium_without_a_csp_violation() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&chromium).exists() || !root.join("e2e/node_modules/playwright-core").exists() {
        assert!(
            std::env::var("CI").is_err(),
            "CI needs chromium and e2e/node_modules: run `bash e2e/setup.sh`"
        );
        eprintln!("SKIPPED: no Chromium or e2e/node_modules (bash e2e/setup.sh); /docs was not loaded in a browser");
        return;
    }
    let app = spawn_app(TestBackend::Sqlite).await;
    let address = app.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        output_within(
            std::process::Command::new("node")
                .arg("docs-csp.mjs")
                .arg(address)
                .current_dir(root.join("e2e")),
            COMMAND_DEADLINE,
        )
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(seen["title"].as_str().unwrap().starts_with("Gatepass"), "{seen}");
    assert!(seen["operations"].as_u64().unwrap() > 10, "{seen}");
    assert_eq!(seen["problems"], json!([]), "the UI needs more than the CSP allows");
}

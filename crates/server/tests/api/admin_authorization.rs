//! docs/design.md §10 over HTTP: no write reaches a target that holds more than its caller, the
//! last admin stays, four-eyes has no way around it, and an admin's power ends with its
//! standing — on both backends.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{call, creds_of};
use crate::helpers::{Credentials, TestApp, spawn_app, spawn_app_with, spawn_node};

/// A bootstrap admin: its credentials and a token.
async fn bootstrap(app: &TestApp) -> (Credentials, String) {
    let name = format!("admin-{}", uuid::Uuid::new_v4().simple());
    let boot: Value = serde_json::from_slice(&app.cli(&["bootstrap", "--json", "--name", &name]).stdout).unwrap();
    let creds = creds_of(&boot);
    let token = token_of(app, &creds).await;
    (creds, token)
}

async fn token_of(app: &TestApp, creds: &Credentials) -> String {
    let body = app.token_body(creds, &[("grant_type", "client_credentials")]).await;
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {body}"))
        .to_owned()
}

/// A client made by `admin` with `scopes`, and a token of it.
async fn caller(app: &TestApp, admin: &str, scopes: &[&str]) -> (Credentials, String) {
    let (status, created) = call(
        app,
        admin,
        Method::POST,
        "/admin/v1/clients",
        Some(json!({"scopes": scopes})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let creds = creds_of(&created);
    let token = token_of(app, &creds).await;
    (creds, token)
}

async fn ok(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, doc) = call(app, token, method.clone(), path, body).await;
    assert!((200..300).contains(&status), "{method} {path}: {status} {doc}");
    doc
}

/// Drops what the token endpoint's write-behind changes under the test (`last_used_at`,
/// `use_count`): usage is not what an escalation changes.
fn without_usage(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("last_used_at");
            map.remove("use_count");
            map.values_mut().for_each(without_usage);
        }
        Value::Array(items) => items.iter_mut().for_each(without_usage),
        _ => {}
    }
}

/// Everything an escalation could change, read by the admin.
async fn snapshot(app: &TestApp, admin: &str, admin_id: &str) -> Value {
    let mut all = serde_json::Map::new();
    for path in [
        format!("/admin/v1/clients/{admin_id}"),
        format!("/admin/v1/clients/{admin_id}/secrets"),
        "/admin/v1/clients?limit=500".to_owned(),
        "/admin/v1/roles".to_owned(),
        "/admin/v1/service-accounts".to_owned(),
        "/admin/v1/approvals".to_owned(),
        "/admin/v1/signing-keys".to_owned(),
    ] {
        all.insert(path.clone(), ok(app, admin, Method::GET, &path, None).await);
    }
    let mut all = Value::Object(all);
    without_usage(&mut all);
    all
}

async fn refusals_by(app: &TestApp, admin: &str, actor: &str) -> usize {
    let (_, events) = call(
        app,
        admin,
        Method::GET,
        &format!("/admin/v1/audit-events?actor={actor}&limit=1000"),
        None,
    )
    .await;
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "refused")
        .count()
}

/// Every admin write route as the OpenAPI document names it (method, path template).
async fn documented_writes(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut writes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if path.starts_with("/admin/v1") && item.get(method).is_some() {
                writes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    writes
}

gatepass_store::both_backends! {
    async fn no_write_route_reaches_a_target_that_holds_more_than_its_caller(backend) {
        let app = spawn_app(backend).await;
        let (root, admin) = bootstrap(&app).await;
        let root_id = root.client_id.clone();
        let root_secret = ok(&app, &admin, Method::GET, &format!("/admin/v1/clients/{root_id}/secrets"), None).await["items"][0]["id"]
            .as_str().unwrap().to_owned();
        ok(&app, &admin, Method::POST, "/admin/v1/roles", Some(json!({"name": "root", "scopes": ["gatepass:admin"]}))).await;
        let ops = ok(&app, &admin, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "ops", "roles": ["root"]}))).await;
        let ops_id = ops["id"].as_str().unwrap().to_owned();

        let kinds = [
            ("clients:write only", vec!["gatepass:clients:read", "gatepass:clients:write", "sites:read"]),
            ("service-accounts:write only", vec!["gatepass:service-accounts:write", "sites:read"]),
            ("audit:read only", vec!["gatepass:audit:read"]),
            ("a lower admin", vec!["gatepass:clients:read", "gatepass:clients:write", "gatepass:service-accounts:write", "gatepass:audit:read", "gatepass:keys:write", "sites:read"]),
        ];
        // Each write route, aimed at a target that can reach gatepass:admin.
        let cases: Vec<(Method, &str, String, Option<Value>)> = vec![
            (Method::POST, "/admin/v1/clients", "/admin/v1/clients".into(), Some(json!({"scopes": ["gatepass:admin"]}))),
            (Method::PATCH, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), Some(json!({"token_ttl_seconds": 86400}))),
            (Method::PATCH, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), Some(json!({"status": "disabled"}))),
            (Method::PATCH, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), Some(json!({"scopes": ["gatepass:clients:read"]}))),
            (Method::PATCH, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), Some(json!({"expires_at": null}))),
            (Method::PATCH, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), Some(json!({"expires_at": "2099-01-01T00:00:00Z"}))),
            (Method::PATCH, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), Some(json!({"audiences": []}))),
            (Method::DELETE, "/admin/v1/clients/{client_id}", format!("/admin/v1/clients/{root_id}"), None),
            (Method::POST, "/admin/v1/clients/{client_id}/secrets", format!("/admin/v1/clients/{root_id}/secrets"), Some(json!({}))),
            (Method::POST, "/admin/v1/clients/{client_id}/secrets/{secret_id}/revoke", format!("/admin/v1/clients/{root_id}/secrets/{root_secret}/revoke"), None),
            (Method::DELETE, "/admin/v1/clients/{client_id}/secrets/{secret_id}", format!("/admin/v1/clients/{root_id}/secrets/{root_secret}?force=true"), None),
            (Method::POST, "/admin/v1/roles", "/admin/v1/roles".into(), Some(json!({"name": "mine", "scopes": ["gatepass:admin"]}))),
            (Method::PATCH, "/admin/v1/roles/{name}", "/admin/v1/roles/root".into(), Some(json!({"description": "mine now"}))),
            (Method::DELETE, "/admin/v1/roles/{name}", "/admin/v1/roles/root".into(), None),
            (Method::POST, "/admin/v1/service-accounts", "/admin/v1/service-accounts".into(), Some(json!({"name": "mine", "roles": ["root"]}))),
            (Method::PATCH, "/admin/v1/service-accounts/{id}", format!("/admin/v1/service-accounts/{ops_id}"), Some(json!({"status": "disabled"}))),
            (Method::DELETE, "/admin/v1/service-accounts/{id}", format!("/admin/v1/service-accounts/{ops_id}"), None),
            (Method::POST, "/admin/v1/approvals/{id}/approve", "/admin/v1/approvals/any/approve".into(), None),
            (Method::POST, "/admin/v1/approvals/{id}/reject", "/admin/v1/approvals/any/reject".into(), None),
        ];
        let covered: BTreeSet<(String, String)> = cases.iter().map(|(m, t, _, _)| (m.to_string(), (*t).to_owned()))
            .chain([("POST".to_owned(), "/admin/v1/signing-keys/rotate".to_owned())])
            .collect();
        assert_eq!(covered, documented_writes(&app).await, "every admin write route is in this table");

        for (kind, scopes) in &kinds {
            let (who, token) = caller(&app, &admin, scopes).await;
            for (method, template, path, body) in &cases {
                let before = snapshot(&app, &admin, &root_id).await;
                let refused_before = refusals_by(&app, &admin, &who.client_id).await;
                let (status, problem) = call(&app, &token, method.clone(), path, body.clone()).await;
                assert_eq!(status, 403, "{kind}: {method} {template}: {problem}");
                assert_eq!(snapshot(&app, &admin, &root_id).await, before, "{kind}: {method} {template} changed something");
                assert_eq!(refusals_by(&app, &admin, &who.client_id).await, refused_before + 1, "{kind}: {method} {template}: the refusal is audited");
            }
            let signing_keys = snapshot(&app, &admin, &root_id).await;
            let (status, _) = call(&app, &token, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
            let holds_keys = scopes.contains(&"gatepass:keys:write");
            assert_eq!(status, if holds_keys { 200 } else { 403 }, "{kind}: signing-key rotation");
            if !holds_keys {
                assert_eq!(snapshot(&app, &admin, &root_id).await, signing_keys);
            }
        }

        // The same routes on ordinary targets work for a caller that holds what they reach.
        let (_, writer) = caller(&app, &admin, &kinds[0].1).await;
        let plain = ok(&app, &writer, Method::POST, "/admin/v1/clients", Some(json!({"scopes": ["sites:read"]}))).await;
        let plain_id = plain["client"]["client_id"].as_str().unwrap().to_owned();
        ok(&app, &writer, Method::PATCH, &format!("/admin/v1/clients/{plain_id}"), Some(json!({"token_ttl_seconds": 600}))).await;
        let rotated = ok(&app, &writer, Method::POST, &format!("/admin/v1/clients/{plain_id}/secrets"), Some(json!({}))).await;
        let secret_id = rotated["secret"]["id"].as_str().unwrap();
        ok(&app, &writer, Method::POST, &format!("/admin/v1/clients/{plain_id}/secrets/{secret_id}/revoke"), None).await;
        ok(&app, &writer, Method::DELETE, &format!("/admin/v1/clients/{plain_id}/secrets/{secret_id}?force=true"), None).await;
        ok(&app, &writer, Method::DELETE, &format!("/admin/v1/clients/{plain_id}"), None).await;
        let (_, directory) = caller(&app, &admin, &kinds[1].1).await;
        ok(&app, &directory, Method::POST, "/admin/v1/roles", Some(json!({"name": "reader", "scopes": ["sites:read"]}))).await;
        ok(&app, &directory, Method::PATCH, "/admin/v1/roles/reader", Some(json!({"description": "reads sites"}))).await;
        let worker = ok(&app, &directory, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "worker", "roles": ["reader"]}))).await;
        let worker_id = worker["id"].as_str().unwrap();
        ok(&app, &directory, Method::PATCH, &format!("/admin/v1/service-accounts/{worker_id}"), Some(json!({"status": "disabled"}))).await;
        ok(&app, &directory, Method::DELETE, &format!("/admin/v1/service-accounts/{worker_id}"), None).await;
        ok(&app, &directory, Method::DELETE, "/admin/v1/roles/reader", None).await;

        // The operator at the CLI holds everything, so it may act on the admin client…
        let cli = app.cli(&["clients", "update", &root_id, "--ttl", "600", "--json"]);
        assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
        assert_eq!(ok(&app, &admin, Method::GET, &format!("/admin/v1/clients/{root_id}"), None).await["token_ttl_seconds"], 600);
        // …but not lock the house either.
        let (status, _) = call(&app, &admin, Method::DELETE, &format!("/admin/v1/service-accounts/{ops_id}"), None).await;
        assert_eq!(status, 204);
        let cli = app.cli(&["clients", "delete", &root_id]);
        assert!(!cli.status.success());
        assert!(String::from_utf8_lossy(&cli.stderr).contains("gatepass:admin"), "{}", String::from_utf8_lossy(&cli.stderr));
        assert_eq!(call(&app, &admin, Method::GET, &format!("/admin/v1/clients/{root_id}"), None).await.0, 200);
    }

    async fn the_last_admin_can_not_be_disabled_deleted_or_stripped(backend) {
        let app = spawn_app(backend).await;
        let (root, admin) = bootstrap(&app).await;
        let path = format!("/admin/v1/clients/{}", root.client_id);
        let secret = ok(&app, &admin, Method::GET, &format!("{path}/secrets"), None).await["items"][0]["id"].as_str().unwrap().to_owned();
        let before = ok(&app, &admin, Method::GET, &path, None).await;
        for (method, target, body) in [
            (Method::PATCH, path.clone(), Some(json!({"status": "disabled"}))),
            (Method::PATCH, path.clone(), Some(json!({"scopes": ["gatepass:clients:read"]}))),
            (Method::PATCH, path.clone(), Some(json!({"expires_at": "2099-01-01T00:00:00Z"}))),
            (Method::DELETE, path.clone(), None),
            (Method::POST, format!("{path}/secrets/{secret}/revoke"), None),
            (Method::DELETE, format!("{path}/secrets/{secret}?force=true"), None),
        ] {
            let (status, problem) = call(&app, &admin, method.clone(), &target, body.clone()).await;
            let expected = if body.as_ref().is_some_and(|b| b.get("expires_at").is_some()) { 200 } else { 409 };
            assert_eq!(status, expected, "{method} {target} {body:?}: {problem}");
            if expected == 409 {
                assert_eq!(problem["type"], "https://gatepass.dev/problems/last-admin", "{problem}");
            }
        }
        let after = ok(&app, &admin, Method::GET, &path, None).await;
        assert_eq!((after["status"].clone(), after["scopes"].clone()), (before["status"].clone(), before["scopes"].clone()));
        assert_eq!(ok(&app, &admin, Method::GET, &format!("{path}/secrets"), None).await["items"][0]["status"], "active");

        // With a second admin standing, the first may go.
        let (_, second) = bootstrap(&app).await;
        assert_eq!(call(&app, &second, Method::PATCH, &path, Some(json!({"status": "disabled"}))).await.0, 200);
    }

    async fn four_eyes_has_no_way_around_it(backend) {
        let app = spawn_app_with(backend, &[("GATEPASS__ADMIN__FOUR_EYES", "true")]).await;
        let (alice_creds, alice) = bootstrap(&app).await;
        let (bob_creds, bob) = bootstrap(&app).await;
        let pending = |doc: &Value, action: &str| {
            assert_eq!(doc["status"], "pending", "{doc}");
            assert_eq!(doc["action"], action, "{doc}");
            doc["id"].as_str().unwrap().to_owned()
        };
        let secrets_of = |id: &str| format!("/admin/v1/clients/{id}/secrets");

        // A secret for another admin's client, or for her own, waits.
        let before = ok(&app, &alice, Method::GET, &secrets_of(&bob_creds.client_id), None).await;
        let (status, doc) = call(&app, &alice, Method::POST, &secrets_of(&bob_creds.client_id), Some(json!({}))).await;
        assert_eq!(status, 202, "{doc}");
        let for_bob = pending(&doc, "secret.create");
        assert_eq!(ok(&app, &alice, Method::GET, &secrets_of(&bob_creds.client_id), None).await, before, "no secret before approval");
        let (status, doc) = call(&app, &alice, Method::POST, &secrets_of(&alice_creds.client_id), Some(json!({}))).await;
        assert_eq!(status, 202, "{doc}");
        let own = pending(&doc, "secret.create");
        // Her own request cannot be approved by her, under any name.
        let (status, problem) = call(&app, &alice, Method::POST, &format!("/admin/v1/approvals/{for_bob}/approve"), None).await;
        assert_eq!(status, 403, "{problem}");
        let (status, approved) = call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{own}/approve"), None).await;
        assert_eq!(status, 200, "{approved}");
        assert!(approved["result"]["client_secret"].as_str().unwrap().starts_with("gps_"));

        // Undoing an expiry, or opening the admin API's audience, waits too.
        let bob_path = format!("/admin/v1/clients/{}", bob_creds.client_id);
        ok(&app, &alice, Method::PATCH, &bob_path, Some(json!({"expires_at": "2099-01-01T00:00:00Z"}))).await;
        let (status, doc) = call(&app, &alice, Method::PATCH, &bob_path, Some(json!({"expires_at": null}))).await;
        assert_eq!(status, 202, "{doc}");
        pending(&doc, "client.change");
        let (_, doc) = call(&app, &alice, Method::POST, "/admin/v1/clients", Some(json!({"scopes": ["gatepass:clients:read"], "audiences": ["billing"]}))).await;
        let reader = pending(&doc, "client.create");
        let reader = ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{reader}/approve"), None).await;
        let reader_path = format!("/admin/v1/clients/{}", reader["result"]["client"]["client_id"].as_str().unwrap());
        let (status, doc) = call(&app, &alice, Method::PATCH, &reader_path, Some(json!({"audiences": []}))).await;
        assert_eq!(status, 202, "{doc}");
        pending(&doc, "client.change");
        assert_eq!(ok(&app, &alice, Method::GET, &reader_path, None).await["audiences"], json!(["billing"]));
        assert_eq!(ok(&app, &alice, Method::GET, &bob_path, None).await["expires_at"], "2099-01-01T00:00:00Z");

        // Granting a gatepass:* role to a service account waits; so does a role with one.
        ok(&app, &alice, Method::POST, "/admin/v1/roles", Some(json!({"name": "reader", "scopes": ["sites:read"]}))).await;
        let (_, doc) = call(&app, &alice, Method::POST, "/admin/v1/roles", Some(json!({"name": "root", "scopes": ["gatepass:admin"]}))).await;
        let root_role = pending(&doc, "role.create");
        ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{root_role}/approve"), None).await;
        let (_, doc) = call(&app, &alice, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "ops", "roles": ["reader"]}))).await;
        let account = pending(&doc, "service_account.create");
        let created = ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{account}/approve"), None).await;
        let ops = created["result"]["id"].as_str().unwrap().to_owned();
        let (status, doc) = call(&app, &alice, Method::PATCH, &format!("/admin/v1/service-accounts/{ops}"), Some(json!({"roles": ["reader", "root"]}))).await;
        assert_eq!(status, 202, "{doc}");
        pending(&doc, "service_account.change");
        assert_eq!(ok(&app, &alice, Method::GET, &format!("/admin/v1/service-accounts/{ops}"), None).await["roles"], json!(["reader"]));

        // Two clients of one service account are one identity.
        let (_, doc) = call(&app, &alice, Method::PATCH, &format!("/admin/v1/service-accounts/{ops}"), Some(json!({"roles": ["root"]}))).await;
        let grant = pending(&doc, "service_account.change");
        ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{grant}/approve"), None).await;
        let (_, doc) = call(&app, &alice, Method::POST, "/admin/v1/clients", Some(json!({"service_account_id": ops, "scopes": ["gatepass:admin"]}))).await;
        let first = pending(&doc, "client.create");
        let carol = ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{first}/approve"), None).await;
        let (_, doc) = call(&app, &alice, Method::POST, "/admin/v1/clients", Some(json!({"service_account_id": ops, "scopes": ["gatepass:admin"]}))).await;
        let second = pending(&doc, "client.create");
        let dave = ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{second}/approve"), None).await;
        let carol = token_of(&app, &creds_of(&carol["result"])).await;
        let dave = token_of(&app, &creds_of(&dave["result"])).await;
        let (_, doc) = call(&app, &carol, Method::POST, "/admin/v1/roles", Some(json!({"name": "carols", "scopes": ["gatepass:audit:read"]}))).await;
        let carols = pending(&doc, "role.create");
        let (status, problem) = call(&app, &dave, Method::POST, &format!("/admin/v1/approvals/{carols}/approve"), None).await;
        assert_eq!(status, 403, "same service account: {problem}");

        // An approval whose change can no longer be made leaves the request pending.
        ok(&app, &alice, Method::POST, "/admin/v1/roles", Some(json!({"name": "carols", "scopes": ["sites:read"]}))).await;
        let (status, problem) = call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{carols}/approve"), None).await;
        assert_eq!(status, 409, "{problem}");
        let open = ok(&app, &bob, Method::GET, "/admin/v1/approvals?status=pending", None).await;
        assert!(open["items"].as_array().unwrap().iter().any(|a| a["id"] == carols.as_str()), "still pending: {open}");
        assert_eq!(ok(&app, &bob, Method::GET, "/admin/v1/roles/carols", None).await["scopes"], json!(["sites:read"]));
        let rejected = ok(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{carols}/reject"), None).await;
        assert_eq!(rejected["status"], "rejected");
    }

    async fn an_admin_loses_its_power_with_its_standing_on_every_node(backend) {
        // One issuer for both nodes, as behind a load balancer.
        let issuer = [("GATEPASS__ISSUER", "http://gatepass.test")];
        let first = spawn_app_with(backend, &issuer).await;
        let second = spawn_node(&first.database, &issuer);
        let (_, root) = bootstrap(&first).await;
        let power = |app: &TestApp, token: String| {
            let app_url = app.url("/admin/v1/clients?limit=1");
            let http = app.http.clone();
            async move { http.get(app_url).bearer_auth(token).send().await.unwrap().status().as_u16() }
        };
        let admin_scopes = ["gatepass:admin"];

        // RFC 7009: the admin revokes its own token.
        let (creds, token) = caller(&first, &root, &admin_scopes).await;
        assert_eq!(power(&second, token.clone()).await, 200);
        let revoked = first.http.post(first.url("/oauth2/revoke")).basic_auth(&creds.client_id, Some(&creds.secret))
            .form(&[("token", token.as_str())]).send().await.unwrap();
        assert_eq!(revoked.status(), 200);
        for node in [&first, &second] {
            assert_eq!(power(node, token.clone()).await, 401, "revoked token");
        }

        // Its secret revoked, its client disabled, its client deleted, its scopes narrowed.
        let (creds, token) = caller(&first, &root, &admin_scopes).await;
        let secrets = format!("/admin/v1/clients/{}/secrets", creds.client_id);
        let secret = ok(&first, &root, Method::GET, &secrets, None).await["items"][0]["id"].as_str().unwrap().to_owned();
        ok(&first, &root, Method::POST, &format!("{secrets}/{secret}/revoke"), None).await;
        for node in [&first, &second] {
            assert_eq!(power(node, token.clone()).await, 401, "revoked secret");
        }
        let (creds, token) = caller(&first, &root, &admin_scopes).await;
        ok(&first, &root, Method::PATCH, &format!("/admin/v1/clients/{}", creds.client_id), Some(json!({"status": "disabled"}))).await;
        for node in [&first, &second] {
            assert_eq!(power(node, token.clone()).await, 401, "disabled client");
        }
        let (creds, token) = caller(&first, &root, &admin_scopes).await;
        ok(&first, &root, Method::DELETE, &format!("/admin/v1/clients/{}", creds.client_id), None).await;
        for node in [&first, &second] {
            assert_eq!(power(node, token.clone()).await, 401, "deleted client");
        }
        let (creds, token) = caller(&first, &root, &admin_scopes).await;
        ok(&first, &root, Method::PATCH, &format!("/admin/v1/clients/{}", creds.client_id), Some(json!({"scopes": ["gatepass:audit:read"]}))).await;
        for node in [&first, &second] {
            assert_eq!(power(node, token.clone()).await, 403, "narrowed scopes count at once");
        }

        // A console session ends with its client.
        let (creds, _) = caller(&first, &root, &admin_scopes).await;
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let signed_in = browser.post(first.url("/console/login"))
            .form(&[("client_id", creds.client_id.as_str()), ("client_secret", creds.secret.as_str())])
            .send().await.unwrap();
        assert_eq!(signed_in.status(), 303);
        let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let page = browser.get(first.url("/console/keys")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 200);
        ok(&first, &root, Method::DELETE, &format!("/admin/v1/clients/{}", creds.client_id), None).await;
        let page = browser.get(first.url("/console/keys")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!((page.status().as_u16(), page.headers().get("location").and_then(|l| l.to_str().ok())), (303, Some("/console/login")));
    }

    async fn console_sign_in_refuses_a_cross_site_form(backend) {
        let app = spawn_app(backend).await;
        let (creds, _) = bootstrap(&app).await;
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form = [("client_id", creds.client_id.as_str()), ("client_secret", creds.secret.as_str())];
        for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")] {
            let answer = browser.post(app.url("/console/login")).header(name, value).form(&form).send().await.unwrap();
            assert_eq!(answer.status(), 403, "{name}: {value}");
            assert!(answer.headers().get("set-cookie").is_none(), "no session for {name}: {value}");
        }
        let host = app.address.trim_start_matches("http://").to_owned();
        let answer = browser.post(app.url("/console/login")).header("origin", format!("http://{host}"))
            .header("sec-fetch-site", "same-origin").form(&form).send().await.unwrap();
        assert_eq!(answer.status(), 303, "the console's own form still signs in");
    }
}

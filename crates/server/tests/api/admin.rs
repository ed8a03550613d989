//! The admin API over HTTP: clients and secrets, authorization, bad input, rotation,
//! pagination, and two nodes rotating one client at once.

use std::sync::Arc;
use std::time::Duration;

use gatepass_store::testing::{TestBackend, TestDatabase};
use serde_json::{Value, json};

use crate::helpers::{Credentials, TestApp, eventually, spawn_app, spawn_node};

/// A token for a client created by the CLI with `scopes`.
pub async fn token_with(app: &TestApp, scopes: &[&str]) -> String {
    let name = uuid::Uuid::new_v4().to_string();
    let mut args = vec!["clients", "create", "--json", "--name", name.as_str()];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    let created: Value = serde_json::from_slice(&app.cli(&args).stdout).unwrap();
    let creds = Credentials {
        client_id: created["client"]["client_id"].as_str().unwrap().into(),
        secret: created["client_secret"].as_str().unwrap().into(),
    };
    app.token_body(&creds, &[("grant_type", "client_credentials")]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn admin_token(app: &TestApp) -> String {
    let name = format!("admin-{}", uuid::Uuid::new_v4().simple());
    let boot: Value = serde_json::from_slice(&app.cli(&["bootstrap", "--json", "--name", &name]).stdout).unwrap();
    let creds = Credentials {
        client_id: boot["client_id"].as_str().unwrap().into(),
        secret: boot["client_secret"].as_str().unwrap().into(),
    };
    app.token_body(&creds, &[("grant_type", "client_credentials")]).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn call(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn creds_of(created: &Value) -> Credentials {
    Credentials {
        client_id: created["client"]["client_id"]
            .as_str()
            .unwrap_or_else(|| created["client_id"].as_str().unwrap())
            .into(),
        secret: created["client_secret"].as_str().unwrap().into(),
    }
}

pub async fn status_of(app: &TestApp, creds: &Credentials) -> u16 {
    app.token_basic(creds, &[("grant_type", "client_credentials")])
        .await
        .status()
        .as_u16()
}

/// Waits until the token endpoint answers `want` for `creds` (revocation takes ≤ 1 s).
pub async fn until_status(app: &TestApp, creds: &Credentials, want: u16) -> bool {
    eventually(Duration::from_secs(3), || async {
        (status_of(app, creds).await == want).then_some(())
    })
    .await
    .is_some()
}

use reqwest::Method;

gatepass_store::both_backends! {
    async fn a_client_lives_and_dies_over_the_admin_api(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;
        let (status, created) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({
            "name": "billing-worker", "scopes": ["sites:read"], "audiences": ["https://api.example.com"],
            "labels": {"team": "billing"}, "token_ttl_seconds": 300
        }))).await;
        assert_eq!(status, 201, "{created}");
        let client = &created["client"];
        assert_eq!(client["name"], "billing-worker");
        assert_eq!(client["status"], "active");
        assert_eq!(client["labels"]["team"], "billing");
        assert!(created["client_secret"].as_str().unwrap().starts_with("gps_"));
        let creds = creds_of(&created);
        let id = creds.client_id.clone();
        assert_eq!(status_of(&app, &creds).await, 200);

        let (status, read) = call(&app, &admin, Method::GET, &format!("/admin/v1/clients/{id}"), None).await;
        assert_eq!(status, 200);
        assert!(read.get("client_secret").is_none(), "the secret is shown once");
        let (_, listed) = call(&app, &admin, Method::GET, "/admin/v1/clients?label=team:billing", None).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        let (status, changed) = call(&app, &admin, Method::PATCH, &format!("/admin/v1/clients/{id}"), Some(json!({"status": "disabled", "token_ttl_seconds": null}))).await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["status"], "disabled");
        assert_eq!(changed["token_ttl_seconds"], Value::Null);
        assert!(until_status(&app, &creds, 401).await, "a disabled client gets no tokens");
        call(&app, &admin, Method::PATCH, &format!("/admin/v1/clients/{id}"), Some(json!({"status": "active"}))).await;
        assert!(until_status(&app, &creds, 200).await);

        assert_eq!(call(&app, &admin, Method::DELETE, &format!("/admin/v1/clients/{id}"), None).await.0, 204);
        assert_eq!(call(&app, &admin, Method::GET, &format!("/admin/v1/clients/{id}"), None).await.0, 404);
        assert_eq!(call(&app, &admin, Method::DELETE, &format!("/admin/v1/clients/{id}"), None).await.0, 404);
        assert!(until_status(&app, &creds, 401).await, "a deleted client gets no tokens");

        let events = gatepass_store::audit::list(&mut app.db().conn().unwrap(), None, 100).unwrap();
        let on_client: Vec<&str> = events
            .iter()
            .filter(|e| e.target.as_deref() == Some(id.as_str()) && e.action.starts_with("client."))
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(on_client, ["client.deleted", "client.changed", "client.changed", "client.created"], "one event per change");
    }

    async fn callers_need_a_token_the_right_scope_and_no_escalation(backend) {
        let app = spawn_app(backend).await;
        let response = app.http.get(app.url("/admin/v1/clients")).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        // RFC 6750 §3.1: no error code when no token was sent; invalid_token when one was.
        assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"gatepass-admin\"");
        let junk = app.http.get(app.url("/admin/v1/clients")).bearer_auth("not-a-token").send().await.unwrap();
        assert_eq!(junk.status(), 401);
        assert!(junk.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));

        let admin = admin_token(&app).await;
        let clients = || async { call(&app, &admin, Method::GET, "/admin/v1/clients?limit=500", None).await.1["items"].clone() };
        let reader = token_with(&app, &["gatepass:clients:read"]).await;
        assert_eq!(call(&app, &reader, Method::GET, "/admin/v1/clients", None).await.0, 200);
        let before = clients().await;
        let (status, problem) = call(&app, &reader, Method::POST, "/admin/v1/clients", Some(json!({"scopes": []}))).await;
        assert_eq!(status, 403, "{problem}");
        assert_eq!(problem["status"], 403);
        assert_eq!(clients().await, before, "a reader creates nothing");

        let writer = token_with(&app, &["gatepass:clients:write", "sites:read"]).await;
        assert_eq!(call(&app, &writer, Method::POST, "/admin/v1/clients", Some(json!({"scopes": ["sites:read"]}))).await.0, 201);
        let before = clients().await;
        let (status, problem) = call(&app, &writer, Method::POST, "/admin/v1/clients", Some(json!({"scopes": ["gatepass:admin"]}))).await;
        assert_eq!(status, 403, "escalation: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("gatepass:admin"));
        assert_eq!(clients().await, before, "no admin client was made");
        let unrelated = token_with(&app, &["sites:read"]).await;
        assert_eq!(call(&app, &unrelated, Method::GET, "/admin/v1/clients", None).await.0, 403);
    }

    async fn bad_input_is_refused_with_a_problem_naming_the_field(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;
        let cases = [
            (json!({"scopes": "sites:read"}), 400, "scopes"),
            (json!({"scopes": [], "colour": "red"}), 400, "colour"),
            (json!({"name": "  "}), 422, "name"),
            (json!({"scopes": ["sites read"]}), 422, "scopes"),
            (json!({"audiences": ["a b"]}), 422, "audiences"),
            (json!({"token_ttl_seconds": 5}), 422, "token_ttl_seconds"),
            (json!({"token_ttl_seconds": "long"}), 400, "token_ttl_seconds"),
            (json!({"expires_at": "2001-01-01T00:00:00Z"}), 422, "expires_at"),
            (json!({"expires_at": "tomorrow"}), 422, "expires_at"),
            (json!({"labels": {"Bad Key": "x"}}), 422, "labels"),
            (json!({"service_account_id": "nobody"}), 422, "service_account_id"),
            // serde reads a struct from an array too; only an object is a body.
            (json!([null, null]), 400, "object"),
            (json!({"token_ttl_seconds": 600.5}), 400, "token_ttl_seconds"),
        ];
        let clients = || async { call(&app, &admin, Method::GET, "/admin/v1/clients?limit=500", None).await.1["items"].clone() };
        let before = clients().await;
        for (body, status, field) in cases {
            let response = app.http.post(app.url("/admin/v1/clients")).bearer_auth(&admin).json(&body).send().await.unwrap();
            assert_eq!(response.status().as_u16(), status, "{body}");
            assert_eq!(response.headers()["content-type"], "application/problem+json", "{body}");
            let problem: Value = response.json().await.unwrap();
            let named = problem["field"] == field || problem["detail"].as_str().unwrap_or_default().contains(field);
            assert!(named, "{body} -> {problem}");
        }
        assert_eq!(clients().await, before, "no refused body made a client");
        let (_, created) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": "dup"}))).await;
        assert_eq!(call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": "dup"}))).await.0, 409);
        let id = created["client"]["client_id"].as_str().unwrap();
        for (method, path, body, status) in [
            (Method::GET, "/admin/v1/clients/gpc_unknown".to_owned(), None, 404),
            (Method::PATCH, "/admin/v1/clients/gpc_unknown".to_owned(), Some(json!({"name": "x"})), 404),
            (Method::POST, "/admin/v1/clients/gpc_unknown/secrets".to_owned(), Some(json!({})), 404),
            (Method::POST, format!("/admin/v1/clients/{id}/secrets/nope/revoke"), None, 404),
            (Method::DELETE, format!("/admin/v1/clients/{id}/secrets/nope"), None, 404),
            (Method::PATCH, format!("/admin/v1/clients/{id}"), Some(json!({"status": "paused"})), 422),
            (Method::POST, format!("/admin/v1/clients/{id}/secrets"), Some(json!({"grace_period_seconds": -1})), 422),
            (Method::GET, "/admin/v1/clients?limit=0".to_owned(), None, 422),
            (Method::GET, "/admin/v1/clients?cursor=!!".to_owned(), None, 422),
            (Method::GET, "/admin/v1/clients?status=asleep".to_owned(), None, 422),
        ] {
            let before = clients().await;
            assert_eq!(call(&app, &admin, method.clone(), &path, body).await.0, status, "{method} {path}");
            let unchanged = call(&app, &admin, Method::GET, &format!("/admin/v1/clients/{id}/secrets"), None).await.1;
            assert_eq!((clients().await, unchanged["items"].as_array().unwrap().len()), (before, 1), "{method} {path} changed nothing");
        }
    }

    async fn pages_hold_every_client_once_and_labels_filter(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;
        for i in 0..7 {
            let team = if i % 2 == 0 { "a" } else { "b" };
            let (status, _) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": format!("c{i}"), "labels": {"team": team}}))).await;
            assert_eq!(status, 201);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor { Some(c) => format!("/admin/v1/clients?limit=3&cursor={c}"), None => "/admin/v1/clients?limit=3".into() };
            let (status, page) = call(&app, &admin, Method::GET, &path, None).await;
            assert_eq!(status, 200);
            seen.extend(page["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()));
            // Someone creates a client between two pages.
            let (status, _) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": format!("late{}", seen.len()), "labels": {"team": "late"}}))).await;
            assert_eq!(status, 201);
            match page["next_cursor"].as_str() { Some(next) => cursor = Some(next.to_owned()), None => break }
        }
        let mut names = seen.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), seen.len(), "no client twice, also while clients are created: {seen:?}");
        assert!(["c0", "c1", "c2", "c3", "c4", "c5", "c6"].iter().all(|n| seen.contains(&(*n).to_owned())), "every client that was there: {seen:?}");
        let (_, team_a) = call(&app, &admin, Method::GET, "/admin/v1/clients?label=team:a", None).await;
        let names: Vec<&str> = team_a["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["c0", "c2", "c4", "c6"]);
        let (_, none) = call(&app, &admin, Method::GET, "/admin/v1/clients?label=team:a%25", None).await;
        assert!(none["items"].as_array().unwrap().is_empty(), "LIKE wildcards are literal");
    }
}

#[tokio::test]
#[cfg_attr(gatepass_no_postgres, ignore = "needs PostgreSQL: set GATEPASS_TEST_DATABASE_URL")]
async fn two_nodes_rotating_one_client_at_once_never_exceed_the_limit_or_lose_a_secret() {
    let Some(database) = TestDatabase::create(TestBackend::Postgres).map(Arc::new) else {
        return;
    };
    // Nodes behind one load balancer share one issuer.
    let issuer = [("GATEPASS__ISSUER", "http://gatepass.test")];
    let a = spawn_node(&database, &issuer);
    let b = spawn_node(&database, &issuer);
    let admin = admin_token(&a).await;
    let (_, created) = call(
        &a,
        &admin,
        Method::POST,
        "/admin/v1/clients",
        Some(json!({"scopes": ["sites:read"]})),
    )
    .await;
    let first = creds_of(&created);
    let path = format!("/admin/v1/clients/{}/secrets", first.client_id);
    let mut rotations = tokio::task::JoinSet::new();
    for i in 0..8 {
        let node = if i % 2 == 0 { a.url(&path) } else { b.url(&path) };
        let (http, admin) = (a.http.clone(), admin.clone());
        rotations.spawn(async move {
            let response = http
                .post(node)
                .bearer_auth(admin)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        });
    }
    let mut secrets_held = vec![first.secret.clone()];
    let mut refused = 0;
    while let Some(done) = rotations.join_next().await {
        match done.unwrap() {
            (201, body) => secrets_held.push(body["client_secret"].as_str().unwrap().to_owned()),
            (409, _) => refused += 1,
            (status, body) => panic!("unexpected {status}: {body}"),
        }
    }
    assert_eq!(
        (secrets_held.len(), refused),
        (3, 6),
        "exactly the limit of 3 usable secrets"
    );
    let stored = gatepass_store::secrets::list_for_client(&mut a.db().conn().unwrap(), &first.client_id).unwrap();
    assert_eq!(stored.len(), 3);
    for secret in secrets_held {
        let creds = Credentials {
            client_id: first.client_id.clone(),
            secret,
        };
        assert_eq!(status_of(&b, &creds).await, 200, "no secret was lost");
    }
}

#[tokio::test]
async fn whole_numbers_written_as_floats_are_integers_and_concurrent_writes_wait_their_turn() {
    let app = spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
    let admin = admin_token(&app).await;
    // JSON Schema's `integer` includes 600.0; the document says integer, so it is one.
    let (status, created) = call(
        &app,
        &admin,
        Method::POST,
        "/admin/v1/clients",
        Some(json!({"token_ttl_seconds": 600.0})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["client"]["token_ttl_seconds"], 600);
    // Writes that read first (each PATCH loads its client) used to fail at once with
    // "database is locked" (503) when another write committed meanwhile on SQLite.
    let mut ids = Vec::new();
    for n in 0..8 {
        let (_, made) = call(
            &app,
            &admin,
            Method::POST,
            "/admin/v1/clients",
            Some(json!({"name": format!("c{n}")})),
        )
        .await;
        ids.push(made["client"]["client_id"].as_str().unwrap().to_owned());
    }
    let mut writes = tokio::task::JoinSet::new();
    for id in &ids {
        for body in [json!({"status": "disabled"}), json!({"status": "active"})] {
            let request = app
                .http
                .patch(app.url(&format!("/admin/v1/clients/{id}")))
                .bearer_auth(&admin)
                .json(&body);
            writes.spawn(async move {
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap_or_default())
            });
        }
    }
    while let Some(done) = writes.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, 200, "{body}");
    }
}

gatepass_store::both_backends! {
    async fn keys_made_in_the_same_minute_without_a_name_get_distinct_default_names(backend) {
        // The server's clock stands still, so all three are made in the same minute.
        let (app, _clock) = crate::helpers::spawn_with_clock(backend).await;
        let admin = admin_token(&app).await;
        let mut names = Vec::new();
        for _ in 0..3 {
            let (status, created) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"scopes": ["sites:read"]}))).await;
            assert_eq!(status, 201, "{created}");
            names.push(created["client"]["name"].as_str().unwrap().to_owned());
        }
        let base = &names[0];
        assert!(base.starts_with("client-"), "{base}");
        assert_eq!(names[1..], [format!("{base}-2"), format!("{base}-3")]);
    }
}

#[tokio::test]
async fn a_path_under_the_admin_api_that_names_no_route_is_a_problem_404() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let admin = admin_token(&app).await;
    for (method, path) in [
        (reqwest::Method::GET, "/admin/v1/nothing-here"),
        (reqwest::Method::POST, "/admin/v1/approvals//approve"),
        (reqwest::Method::GET, "/admin/v1/clients/gpc_x/secrets/s/extra"),
    ] {
        let response = app
            .http
            .request(method.clone(), app.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 404, "{method} {path}: {problem}");
    }
}

//! Roles, service accounts and the audit log over the admin API.

use serde_json::{Value, json};

use crate::admin::{admin_token, call, creds_of, status_of, token_with, until_status};
use crate::helpers::{Credentials, spawn_app};
use reqwest::Method;

gatepass_store::both_backends! {
    async fn roles_and_service_accounts_bound_what_clients_get(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;

        let (_, roles) = call(&app, &admin, Method::GET, "/admin/v1/roles", None).await;
        let names: Vec<&str> = roles["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["admin", "auditor", "client-manager"], "default roles");

        let (status, role) = call(&app, &admin, Method::POST, "/admin/v1/roles", Some(json!({"name": "reader", "description": "reads sites", "scopes": ["sites:read"]}))).await;
        assert_eq!(status, 201, "{role}");
        assert_eq!(call(&app, &admin, Method::POST, "/admin/v1/roles", Some(json!({"name": "reader", "scopes": []}))).await.0, 409);
        assert_eq!(call(&app, &admin, Method::POST, "/admin/v1/roles", Some(json!({"name": "Bad Name", "scopes": []}))).await.0, 422);

        let (status, account) = call(&app, &admin, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "billing", "roles": ["reader"]}))).await;
        assert_eq!(status, 201, "{account}");
        assert_eq!(account["roles"], json!(["reader"]));
        assert_eq!(account["status"], "active");
        let account_id = account["id"].as_str().unwrap().to_owned();
        let (status, problem) = call(&app, &admin, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "x", "roles": ["ghost"]}))).await;
        assert_eq!((status, problem["field"].as_str()), (422, Some("roles")));

        let (status, created) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({
            "service_account_id": account_id, "scopes": ["sites:read", "scripts:write"]
        }))).await;
        assert_eq!(status, 201, "{created}");
        assert!(created["client"]["name"].as_str().unwrap().starts_with("billing-"), "default name <service_account>-<date>");
        let creds = creds_of(&created);
        let body = app.token_body(&creds, &[("grant_type", "client_credentials")]).await;
        assert_eq!(body["scope"], "sites:read", "the role narrows the client's scopes");

        let (status, _) = call(&app, &admin, Method::PATCH, &format!("/admin/v1/service-accounts/{account_id}"), Some(json!({"status": "disabled"}))).await;
        assert_eq!(status, 200);
        assert!(until_status(&app, &creds, 401).await, "disabling the service account stops its clients");
        assert_eq!(call(&app, &admin, Method::DELETE, &format!("/admin/v1/service-accounts/{account_id}"), None).await.0, 409, "it still has a client");
        let client_id = creds.client_id.clone();
        assert_eq!(call(&app, &admin, Method::DELETE, &format!("/admin/v1/clients/{client_id}"), None).await.0, 204);
        assert_eq!(call(&app, &admin, Method::DELETE, &format!("/admin/v1/service-accounts/{account_id}"), None).await.0, 204);
        assert_eq!(call(&app, &admin, Method::GET, &format!("/admin/v1/service-accounts/{account_id}"), None).await.0, 404);

        let (status, changed) = call(&app, &admin, Method::PATCH, "/admin/v1/roles/reader", Some(json!({"scopes": ["sites:read", "reports:read"]}))).await;
        assert_eq!((status, changed["scopes"].clone()), (200, json!(["reports:read", "sites:read"])));
        assert_eq!(call(&app, &admin, Method::DELETE, "/admin/v1/roles/reader", None).await.0, 204);
        assert_eq!(call(&app, &admin, Method::GET, "/admin/v1/roles/reader", None).await.0, 404);

        // No escalation through roles: a service-account manager can not hand out gatepass:admin.
        let manager = token_with(&app, &["gatepass:service-accounts:write"]).await;
        let directory = || async {
            let roles = call(&app, &admin, Method::GET, "/admin/v1/roles", None).await.1;
            let accounts = call(&app, &admin, Method::GET, "/admin/v1/service-accounts", None).await.1;
            (roles, accounts)
        };
        let before = directory().await;
        assert_eq!(call(&app, &manager, Method::POST, "/admin/v1/roles", Some(json!({"name": "root", "scopes": ["gatepass:admin"]}))).await.0, 403);
        assert_eq!(call(&app, &manager, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "sneaky", "roles": ["admin"]}))).await.0, 403);
        assert_eq!(directory().await, before, "the refusals made nothing");
        assert_eq!(call(&app, &manager, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "plain"}))).await.0, 201);
    }

    async fn the_audit_log_is_filtered_and_paginated_and_needs_its_scope(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;
        for i in 0..5 {
            call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": format!("c{i}")}))).await;
        }
        let wrong = Credentials { client_id: "gpc_01m85tb01me5drr7wnn5zekyn0".into(), secret: crate::helpers::fresh_secret() };
        assert_eq!(status_of(&app, &wrong).await, 401);

        let manager = token_with(&app, &["gatepass:clients:write"]).await;
        assert_eq!(call(&app, &manager, Method::GET, "/admin/v1/audit-events", None).await.0, 403);

        let mut seen = Vec::new();
        let mut path = "/admin/v1/audit-events?action=client.created&limit=2".to_owned();
        loop {
            let (status, page) = call(&app, &admin, Method::GET, &path, None).await;
            assert_eq!(status, 200, "{page}");
            seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/admin/v1/audit-events?action=client.created&limit=2&cursor={cursor}"),
                None => break,
            }
        }
        // Five by the admin API, plus the CLI's own (bootstrap, the manager's client).
        assert_eq!(seen.len(), 7);
        let (_, cli) = call(&app, &admin, Method::GET, "/admin/v1/audit-events?actor=cli", None).await;
        let by_cli = cli["items"].as_array().unwrap();
        assert!(!by_cli.is_empty(), "the CLI's changes are on record");
        assert!(by_cli.iter().all(|e| e["actor"] == "cli"));
        let found = crate::helpers::eventually(std::time::Duration::from_secs(3), || async {
            let (_, denied) = call(&app, &admin, Method::GET, "/admin/v1/audit-events?action=token.auth_failed", None).await;
            denied["items"].as_array().unwrap().iter().find(|e| e["reason"] == "unknown_secret").cloned()
        })
        .await
        .expect("the failed authentication is in the log with its reason");
        assert_eq!(found["outcome"], "failure");
        assert!(found["occurred_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(call(&app, &admin, Method::GET, "/admin/v1/audit-events?since=yesterday", None).await.0, 422);
        let (_, none) = call(&app, &admin, Method::GET, "/admin/v1/audit-events?until=2001-01-01T00:00:00Z", None).await;
        assert_eq!(none["items"], json!([]));
        let _: Value = none;
    }

    async fn signing_keys_are_listed_and_rotated_on_demand(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;
        let (status, keys) = call(&app, &admin, Method::GET, "/admin/v1/signing-keys", None).await;
        assert_eq!(status, 200);
        assert_eq!(keys["items"].as_array().unwrap().len(), 1);
        assert_eq!(keys["items"][0]["state"], "active");

        let manager = token_with(&app, &["gatepass:clients:write"]).await;
        assert_eq!(call(&app, &manager, Method::POST, "/admin/v1/signing-keys/rotate", None).await.0, 403);
        let (status, rotated) = call(&app, &admin, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
        assert_eq!((status, rotated["status"].as_str()), (200, Some("scheduled")));
        assert!(rotated["activates_at"].as_str().unwrap().ends_with('Z'));
        let (_, again) = call(&app, &admin, Method::POST, "/admin/v1/signing-keys/rotate", None).await;
        assert_eq!(again["status"], "already_pending");
        let (_, keys) = call(&app, &admin, Method::GET, "/admin/v1/signing-keys", None).await;
        let states: Vec<&str> = keys["items"].as_array().unwrap().iter().map(|k| k["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["active", "pending"]);
        assert_eq!(app.jwks().await["keys"].as_array().unwrap().len(), 2, "the pending key is published at once");
    }

    async fn exports_are_json_or_csv_with_a_header_row(backend) {
        let app = spawn_app(backend).await;
        let admin = admin_token(&app).await;
        for i in 0..3 {
            call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": format!("e{i}, \"quoted\""), "labels": {"team": "x"}}))).await;
        }
        let (status, clients) = call(&app, &admin, Method::GET, "/admin/v1/export/clients", None).await;
        assert_eq!(status, 200);
        let count = clients.as_array().unwrap().len();
        assert_eq!(count, 4, "three made here and the bootstrap admin");
        for (path, columns, rows) in [
            ("/admin/v1/export/clients", vec!["client_id", "name", "scopes", "labels", "status", "last_used_at"], count),
            ("/admin/v1/export/secrets", vec!["client_id", "id", "key_prefix", "status", "use_count"], count),
            ("/admin/v1/export/audit-events", vec!["id", "occurred_at", "actor", "action", "target", "outcome"], 0),
        ] {
            let response = app.http.get(app.url(path)).bearer_auth(&admin).header("accept", "text/csv").send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
            let text = response.text().await.unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
            assert!(columns.iter().all(|c| headers.contains(&(*c).to_owned())), "{path}: {headers:?}");
            let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            if rows > 0 {
                assert_eq!(records.len(), rows, "{path}");
            } else {
                assert!(!records.is_empty(), "{path}");
            }
            if path.ends_with("clients") {
                let names: Vec<&str> = records.iter().map(|r| r.get(1).unwrap()).collect();
                assert!(names.contains(&"e0, \"quoted\""), "quoting survives: {names:?}");
            }
        }
        let manager = token_with(&app, &["gatepass:clients:write"]).await;
        assert_eq!(call(&app, &manager, Method::GET, "/admin/v1/export/audit-events", None).await.0, 403);
        assert_eq!(call(&app, &manager, Method::GET, "/admin/v1/export/clients", None).await.0, 200);
    }

    async fn a_separate_admin_listener_keeps_the_admin_api_off_the_public_one(backend) {
        let app = crate::helpers::spawn_app_with(backend, &[("GATEPASS__SERVER__ADMIN_BIND", "127.0.0.1:0")]).await;
        let admin_base = app.admin_address.clone().expect("admin listener");
        let admin = admin_token(&app).await;
        let public = app.http.get(app.url("/admin/v1/clients")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(public.status(), 404, "no admin API on the public listener");
        let private = app.http.get(format!("{admin_base}/admin/v1/clients")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(private.status(), 200);
        let anonymous = app.http.get(format!("{admin_base}/admin/v1/clients")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let token = app.http.post(format!("{admin_base}/oauth2/token")).send().await.unwrap();
        assert_eq!(token.status(), 404, "no token endpoint on the admin listener");
        assert_eq!(app.http.get(format!("{admin_base}/healthz")).send().await.unwrap().status(), 200);
    }

    async fn secrets_past_the_maximum_age_are_reported_due_for_rotation(backend) {
        let app = crate::helpers::spawn_app_with(backend, &[("GATEPASS__SECRETS__MAX_AGE_DAYS", "90")]).await;
        let admin = admin_token(&app).await;
        let (_, created) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"name": "old-timer"}))).await;
        let client_id = created["client"]["client_id"].as_str().unwrap().to_owned();
        assert_eq!(created["secret"]["due_for_rotation"], false);
        // A secret made 100 days ago, straight in the database.
        let mut old = gatepass_store::secrets::list_for_client(&mut app.db().conn().unwrap(), &client_id).unwrap().remove(0);
        old.id = "old-secret".into();
        old.secret_hash = vec![1; 32];
        old.created_at -= 100 * 86_400;
        gatepass_store::secrets::insert(&mut app.db().conn().unwrap(), &old).unwrap();

        let (_, due) = call(&app, &admin, Method::GET, "/admin/v1/secrets/due", None).await;
        let ids: Vec<&str> = due["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["old-secret"]);
        assert_eq!(due["items"][0]["client_id"], client_id.as_str());
        let (_, listed) = call(&app, &admin, Method::GET, &format!("/admin/v1/clients/{client_id}/secrets"), None).await;
        let flags: Vec<bool> = listed["items"].as_array().unwrap().iter().map(|s| s["due_for_rotation"].as_bool().unwrap()).collect();
        assert_eq!(flags.iter().filter(|d| **d).count(), 1);
    }

    async fn four_eyes_requests_wait_for_a_second_different_admin(backend) {
        let app = crate::helpers::spawn_app_with(backend, &[("GATEPASS__ADMIN__FOUR_EYES", "true")]).await;
        let alice = admin_token(&app).await;
        let bob = admin_token(&app).await;

        let (status, plain) = call(&app, &alice, Method::POST, "/admin/v1/clients", Some(json!({"name": "plain", "scopes": ["sites:read"]}))).await;
        assert_eq!(status, 201, "no gatepass:* scope, no approval needed: {plain}");
        let (status, pending) = call(&app, &alice, Method::POST, "/admin/v1/clients", Some(json!({"name": "reader", "scopes": ["gatepass:clients:read"]}))).await;
        assert_eq!(status, 202, "{pending}");
        assert_eq!(pending["status"], "pending");
        assert_eq!(pending["action"], "client.create");
        let id = pending["id"].as_str().unwrap().to_owned();
        let (_, listed) = call(&app, &alice, Method::GET, "/admin/v1/clients?limit=500", None).await;
        assert!(listed["items"].as_array().unwrap().iter().all(|c| c["name"] != "reader"), "nothing made before approval");

        let (status, problem) = call(&app, &alice, Method::POST, &format!("/admin/v1/approvals/{id}/approve"), None).await;
        assert_eq!(status, 403, "self-approval refused: {problem}");
        let (status, approved) = call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{id}/approve"), None).await;
        assert_eq!(status, 200, "{approved}");
        let created = &approved["result"];
        assert_eq!(created["client"]["name"], "reader");
        let creds = creds_of(created);
        assert_eq!(app.token_body(&creds, &[("grant_type", "client_credentials")]).await["scope"], "gatepass:clients:read");
        assert_eq!(call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{id}/approve"), None).await.0, 409);

        // No way around it through PATCH: adding a gatepass:* scope to an existing client waits too.
        let plain_id = plain["client"]["client_id"].as_str().unwrap().to_owned();
        let patch = format!("/admin/v1/clients/{plain_id}");
        let (status, escalation) = call(&app, &alice, Method::PATCH, &patch, Some(json!({"scopes": ["sites:read", "gatepass:audit:read"]}))).await;
        assert_eq!((status, escalation["action"].as_str()), (202, Some("client.change")), "{escalation}");
        let (_, unchanged) = call(&app, &alice, Method::GET, &patch, None).await;
        assert_eq!(unchanged["scopes"], json!(["sites:read"]));
        assert_eq!(call(&app, &alice, Method::PATCH, &patch, Some(json!({"name": "plain-renamed"}))).await.0, 200);
        let change_id = escalation["id"].as_str().unwrap();
        let (status, done) = call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{change_id}/approve"), None).await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["result"]["scopes"], json!(["gatepass:audit:read", "sites:read"]));
        assert_eq!(done["result"]["name"], "plain-renamed", "only the requested fields change");

        // The same for a role: every service account holding it would gain the scope.
        assert_eq!(call(&app, &alice, Method::POST, "/admin/v1/roles", Some(json!({"name": "ops", "scopes": ["sites:read"]}))).await.0, 201);
        let (status, role_change) = call(&app, &alice, Method::PATCH, "/admin/v1/roles/ops", Some(json!({"scopes": ["gatepass:admin"]}))).await;
        assert_eq!((status, role_change["action"].as_str()), (202, Some("role.change")), "{role_change}");
        let role_change_id = role_change["id"].as_str().unwrap();
        let (status, done) = call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{role_change_id}/approve"), None).await;
        assert_eq!((status, done["result"]["scopes"].clone()), (200, json!(["gatepass:admin"])));

        let (status, account) = call(&app, &alice, Method::POST, "/admin/v1/service-accounts", Some(json!({"name": "batch"}))).await;
        assert_eq!(status, 202, "{account}");
        let account_request = account["id"].as_str().unwrap().to_owned();
        let (status, rejected) = call(&app, &bob, Method::POST, &format!("/admin/v1/approvals/{account_request}/reject"), None).await;
        assert_eq!((status, rejected["status"].as_str()), (200, Some("rejected")));
        let (_, accounts) = call(&app, &alice, Method::GET, "/admin/v1/service-accounts", None).await;
        assert_eq!(accounts["items"], json!([]), "a rejected request changes nothing");

        let (_, open) = call(&app, &alice, Method::GET, "/admin/v1/approvals?status=pending", None).await;
        assert_eq!(open["items"], json!([]));
        let (_, all) = call(&app, &alice, Method::GET, "/admin/v1/approvals", None).await;
        let statuses: Vec<&str> = all["items"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["rejected", "approved", "approved", "approved"]);
        let (_, events) = call(&app, &alice, Method::GET, &format!("/admin/v1/audit-events?target={id}"), None).await;
        let actions: Vec<(&str, &str)> = events["items"].as_array().unwrap().iter()
            .map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap())).collect();
        assert_eq!(actions, [("approval.approved", "success"), ("approval.approved", "refused"), ("approval.requested", "success")],
            "the refused self-approval is on record too");
    }
}

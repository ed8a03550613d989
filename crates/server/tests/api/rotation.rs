//! The rotation story end to end over HTTP, on a server whose clock the test moves: create a
//! client, rotate with a grace period, both secrets work, after the grace period only the new
//! one does; revoke refuses at once; delete removes for good.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin::{admin_token, call, creds_of, status_of};
use crate::helpers::{Credentials, TestApp, eventually, spawn_with_clock};

fn secret_of(app_client: &str, created: &Value) -> Credentials {
    Credentials {
        client_id: app_client.to_owned(),
        secret: created["client_secret"].as_str().unwrap().into(),
    }
}

async fn statuses(app: &TestApp, admin: &str, path: &str) -> Vec<String> {
    let (_, listed) = call(app, admin, Method::GET, path, None).await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("client_secret").is_none())
    );
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

gatepass_store::both_backends! {
    async fn rotation_with_a_grace_period_never_breaks_a_caller(backend) {
        let (app, clock) = spawn_with_clock(backend).await;
        let admin = admin_token(&app).await;
        let (_, created) = call(&app, &admin, Method::POST, "/admin/v1/clients", Some(json!({"scopes": ["sites:read"]}))).await;
        let old = creds_of(&created);
        let id = old.client_id.clone();
        let secrets_path = format!("/admin/v1/clients/{id}/secrets");

        let (status, rotated) = call(&app, &admin, Method::POST, &secrets_path, Some(json!({"label": "2026-q4", "grace_period_seconds": 3600}))).await;
        assert_eq!(status, 201, "{rotated}");
        assert_eq!(rotated["secret"]["label"], "2026-q4");
        let new = secret_of(&id, &rotated);
        assert_eq!(status_of(&app, &old).await, 200, "the old secret works during the grace period");
        assert_eq!(status_of(&app, &new).await, 200);

        clock.advance(time::Duration::seconds(3599));
        assert_eq!(status_of(&app, &old).await, 200, "one second before the grace period ends");
        // The admin's 15-minute token ran out meanwhile: the admin API reads the server's clock.
        assert_eq!(call(&app, &admin, Method::GET, &secrets_path, None).await.0, 401);
        let admin = admin_token(&app).await;
        assert_eq!(statuses(&app, &admin, &secrets_path).await, ["active", "active"]);

        clock.advance(time::Duration::seconds(1));
        assert_eq!(status_of(&app, &old).await, 401, "the old secret expired with the grace period");
        assert_eq!(status_of(&app, &new).await, 200, "the new one goes on");
        assert_eq!(statuses(&app, &admin, &secrets_path).await, ["expired", "active"]);

        // A third usable secret is allowed (limit 3, the expired one does not count); a fourth
        // while three are usable is not.
        let (status, third) = call(&app, &admin, Method::POST, &secrets_path, None).await;
        assert_eq!(status, 201);
        let (status, fourth) = call(&app, &admin, Method::POST, &secrets_path, None).await;
        assert_eq!(status, 201, "expired secrets do not count against the limit: {fourth}");
        assert_eq!(call(&app, &admin, Method::POST, &secrets_path, None).await.0, 409);

        // Revoke: refused at once, no waiting for a cache.
        let third_id = third["secret"]["id"].as_str().unwrap();
        let (status, revoked) = call(&app, &admin, Method::POST, &format!("{secrets_path}/{third_id}/revoke"), None).await;
        assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
        let third = secret_of(&id, &third);
        let refused = app.token_basic(&third, &[("grant_type", "client_credentials")]).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_client");

        // The new secret was used (counts are written behind): deleting it needs force.
        let new_id = rotated["secret"]["id"].as_str().unwrap().to_owned();
        let used = eventually(Duration::from_secs(5), || async {
            let (_, listed) = call(&app, &admin, Method::GET, &secrets_path, None).await;
            listed["items"].as_array().unwrap().iter()
                .any(|s| s["id"] == new_id.as_str() && !s["last_used_at"].is_null() && s["use_count"] == 2)
                .then_some(())
        })
        .await;
        assert!(used.is_some(), "last_used_at and use_count (2 tokens) move after token requests");
        assert_eq!(call(&app, &admin, Method::DELETE, &format!("{secrets_path}/{new_id}"), None).await.0, 409);
        assert_eq!(call(&app, &admin, Method::DELETE, &format!("{secrets_path}/{new_id}?force=true"), None).await.0, 204);
        assert_eq!(status_of(&app, &new).await, 401, "a deleted secret is refused at once");
        assert_eq!(statuses(&app, &admin, &secrets_path).await.len(), 3, "deleted for good");

        // Delete the client: gone from lists, and nothing brings it back.
        let client_path = format!("/admin/v1/clients/{id}");
        assert_eq!(call(&app, &admin, Method::DELETE, &client_path, None).await.0, 204);
        let (_, listed) = call(&app, &admin, Method::GET, "/admin/v1/clients?limit=500", None).await;
        assert!(listed["items"].as_array().unwrap().iter().all(|c| c["client_id"] != id.as_str()));
        assert_eq!(call(&app, &admin, Method::GET, &client_path, None).await.0, 404);
        assert_eq!(call(&app, &admin, Method::PATCH, &client_path, Some(json!({"status": "active"}))).await.0, 404);
        assert_eq!(call(&app, &admin, Method::POST, &secrets_path, None).await.0, 404);
        assert_eq!(status_of(&app, &secret_of(&id, &fourth)).await, 401);
    }
}

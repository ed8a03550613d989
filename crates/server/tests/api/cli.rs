//! The command line outside `serve`.

use crate::helpers::{COMMAND_DEADLINE, gatepass, output_within};

#[test]
fn a_bad_setting_stops_the_server_with_a_message_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, value, key) in [
        ("GATEPASS__SERVER__BIND", "nowhere", "server.bind"),
        (
            "GATEPASS__TOKENS__DEFAULT_TTL_SECONDS",
            "5",
            "tokens.default_ttl_seconds",
        ),
        ("GATEPASS__KEYS__ALGORITHM", "none", "keys.algorithm"),
        ("GATEPASS_MASTER_KEY", "c2hvcnQ=", "GATEPASS_MASTER_KEY"),
    ] {
        let output = output_within(
            gatepass()
                .arg("serve")
                .env("GATEPASS__DATA_DIR", dir.path())
                .env(variable, value),
            COMMAND_DEADLINE,
        );
        assert!(!output.status.success(), "{variable}={value} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.to_lowercase().contains(&key.to_lowercase()),
            "{variable}={value}: {stderr}"
        );
    }
}

#[test]
fn migrate_is_idempotent_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = output_within(
            gatepass()
                .args(["migrate", "--json"])
                .env("GATEPASS__DATA_DIR", dir.path()),
            COMMAND_DEADLINE,
        );
        assert!(output.status.success());
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(doc["status"], "migrated");
    }
    assert!(
        dir.path().join("master.key").exists(),
        "a development master key was generated"
    );
}

gatepass_store::both_backends! {
    async fn clients_create_makes_a_client_that_gets_the_tokens_it_was_given(backend) {
        let app = crate::helpers::spawn_app(backend).await;
        for bad in [["--scope", "a b"], ["--audience", ""], ["--ttl", "5"]] {
            let output = app.cli(&["clients", "create", bad[0], bad[1], "--json"]);
            assert!(!output.status.success(), "{bad:?} accepted");
            assert!(String::from_utf8_lossy(&output.stderr).contains(bad[0]), "{bad:?}");
        }
        let output = app.cli(&[
            "clients", "create", "--name", "svc", "--scope", "sites:read", "--scope", "scripts:write",
            "--audience", "https://api.example.com", "--ttl", "120", "--json",
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(created["client"]["scopes"], serde_json::json!(["scripts:write", "sites:read"]));
        let creds = crate::helpers::Credentials {
            client_id: created["client"]["client_id"].as_str().unwrap().into(),
            secret: created["client_secret"].as_str().unwrap().into(),
        };
        let body: serde_json::Value =
            app.token_body(&creds, &[("grant_type", "client_credentials"), ("scope", "sites:read")]).await;
        assert_eq!(body["expires_in"], 120);
        assert_eq!(body["scope"], "sites:read");
        let again = app.cli(&["clients", "create", "--name", "svc"]);
        assert!(!again.status.success(), "duplicate names are refused");
    }
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_the_reference_ui_is_served() {
    let app = crate::helpers::spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
    let doc = app.get_json("/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for route in [
        "/oauth2/token",
        "/oauth2/introspect",
        "/oauth2/revoke",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/admin/v1/clients",
        "/admin/v1/clients/{client_id}",
        "/admin/v1/clients/{client_id}/secrets",
        "/admin/v1/clients/{client_id}/secrets/{secret_id}",
        "/admin/v1/clients/{client_id}/secrets/{secret_id}/revoke",
        "/admin/v1/secrets/due",
        "/admin/v1/roles",
        "/admin/v1/roles/{name}",
        "/admin/v1/service-accounts",
        "/admin/v1/service-accounts/{id}",
        "/admin/v1/audit-events",
        "/admin/v1/export/clients",
        "/admin/v1/export/secrets",
        "/admin/v1/export/audit-events",
        "/admin/v1/signing-keys",
        "/admin/v1/signing-keys/rotate",
    ] {
        assert!(paths.contains_key(route), "{route} missing");
    }
    assert!(doc["components"]["schemas"]["CreatedClient"].is_object());
    // Generated clients name their methods after operation ids: each one names one operation.
    let ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert!(ids.len() > 30);
    assert_eq!(unique.len(), ids.len(), "repeated operation ids in {ids:?}");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        committed, doc,
        "docs/openapi.json is stale: run `gatepass openapi > docs/openapi.json`"
    );

    let page = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().to_lowercase().contains("swagger"));
    let script = app
        .http
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200, "the UI's assets ship inside the binary");
}

gatepass_store::both_backends! {
    async fn the_cli_manages_roles_service_accounts_and_reads_the_audit_log(backend) {
        let app = crate::helpers::spawn_app(backend).await;
        let json = |args: &[&str]| -> serde_json::Value {
            let output = app.cli(args);
            assert!(output.status.success(), "{args:?}: {:?} {}", output.status, String::from_utf8_lossy(&output.stderr));
            serde_json::from_slice(&output.stdout).expect("exactly one JSON document")
        };
        let role = json(&["roles", "create", "--name", "reader", "--scope", "sites:read", "--json"]);
        assert_eq!(role["scopes"], serde_json::json!(["sites:read"]));
        let roles = json(&["roles", "list", "--json"]);
        assert_eq!(roles["items"].as_array().unwrap().len(), 4, "three defaults and ours");
        let account = json(&["service-accounts", "create", "--name", "billing", "--role", "reader", "--json"]);
        assert_eq!(account["roles"], serde_json::json!(["reader"]));
        let accounts = json(&["service-accounts", "list", "--json"]);
        assert_eq!(accounts["items"][0]["name"], "billing");

        let bad = app.cli(&["roles", "create", "--name", "Bad Name"]);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("name"));
        let ghost = app.cli(&["service-accounts", "create", "--name", "x", "--role", "ghost"]);
        assert!(String::from_utf8_lossy(&ghost.stderr).contains("roles"));

        let events = json(&["audit", "list", "--actor", "cli", "--json"]);
        let actions: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["service_account.created", "role.created"]);
    }
}

fn json_of(output: &std::process::Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("exactly one JSON document")
}

gatepass_store::both_backends! {
    async fn the_cli_runs_the_whole_key_life_cycle_as_the_api_does(backend) {
        let app = crate::helpers::spawn_app(backend).await;
        let created = json_of(&app.cli(&[
            "clients", "create", "--name", "billing", "--scope", "sites:read", "--label", "team=billing", "--json",
        ]));
        let id = created["client"]["client_id"].as_str().unwrap().to_owned();
        let old = crate::helpers::Credentials { client_id: id.clone(), secret: created["client_secret"].as_str().unwrap().into() };

        let listed = json_of(&app.cli(&["clients", "list", "--label", "team:billing", "--json"]));
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(listed["items"][0]["client_id"], id.as_str());
        let shown = json_of(&app.cli(&["clients", "show", &id, "--json"]));
        assert_eq!(shown["labels"]["team"], "billing");

        let changed = json_of(&app.cli(&["clients", "update", &id, "--ttl", "300", "--label", "team=payments", "--json"]));
        assert_eq!((changed["token_ttl_seconds"].as_i64(), changed["labels"]["team"].as_str()), (Some(300), Some("payments")));
        // Errors name the option and the API field, exit non-zero, print nothing on stdout.
        let bad = app.cli(&["clients", "update", &id, "--ttl", "5", "--json"]);
        assert!(!bad.status.success() && bad.stdout.is_empty());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("--ttl (token_ttl_seconds)"), "{}", String::from_utf8_lossy(&bad.stderr));
        let missing = app.cli(&["clients", "show", "gpc_00000000000000000000000000", "--json"]);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

        let rotated = json_of(&app.cli(&["clients", "secrets", "rotate", &id, "--label", "q4", "--grace-period", "600", "--json"]));
        let new = crate::helpers::Credentials { client_id: id.clone(), secret: rotated["client_secret"].as_str().unwrap().into() };
        assert_eq!(crate::admin::status_of(&app, &old).await, 200, "both secrets work during the grace period");
        assert_eq!(crate::admin::status_of(&app, &new).await, 200);
        let secrets = json_of(&app.cli(&["clients", "secrets", "list", &id, "--json"]));
        let old_id = secrets["items"][0]["id"].as_str().unwrap().to_owned();
        assert!(!secrets["items"][0]["expires_at"].is_null(), "the old secret expires after the grace period");

        let revoked = json_of(&app.cli(&["clients", "secrets", "revoke", &id, &old_id, "--json"]));
        assert_eq!(revoked["status"], "revoked");
        assert!(crate::admin::until_status(&app, &old, 401).await, "the server refuses a secret the CLI revoked");
        json_of(&app.cli(&["clients", "secrets", "delete", &id, &old_id, "--json"]));
        let disabled = json_of(&app.cli(&["clients", "update", &id, "--status", "disabled", "--json"]));
        assert_eq!(disabled["status"], "disabled");
        assert!(crate::admin::until_status(&app, &new, 401).await);
        let csv = app.cli(&["clients", "export", "clients", "--csv"]);
        let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
        assert!(reader.headers().unwrap().iter().any(|h| h == "client_id"));
        assert_eq!(reader.records().count(), 1);
        json_of(&app.cli(&["clients", "delete", &id, "--json"]));
        assert!(json_of(&app.cli(&["clients", "list", "--json"]))["items"].as_array().unwrap().is_empty());

        let events = json_of(&app.cli(&["audit", "list", "--target", &id, "--actor", "cli", "--json"]));
        let actions: Vec<&str> = events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(
            actions,
            ["client.deleted", "client.changed", "secret.deleted", "secret.revoked", "secret.created", "client.changed", "client.created"],
            "one event per change, newest first, actor cli"
        );
    }
}

#[test]
fn production_mode_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = output_within(
        gatepass()
            .arg("serve")
            .env("GATEPASS__DATA_DIR", dir.path())
            .env("GATEPASS__SECRETS__GENERATE_MASTER_KEY", "false")
            .env_remove("GATEPASS_MASTER_KEY"),
        COMMAND_DEADLINE,
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("set GATEPASS_MASTER_KEY"));
    assert!(!dir.path().join("master.key").exists(), "no key was invented");
}

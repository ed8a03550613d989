//! The command line outside `serve`.

use crate::helpers::gatepass;

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
        let output = gatepass()
            .arg("serve")
            .env("GATEPASS__DATA_DIR", dir.path())
            .env(variable, value)
            .output()
            .unwrap();
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
        let output = gatepass()
            .args(["migrate", "--json"])
            .env("GATEPASS__DATA_DIR", dir.path())
            .output()
            .unwrap();
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
        assert_eq!(created["scopes"], serde_json::json!(["scripts:write", "sites:read"]));
        let creds = crate::helpers::Credentials {
            client_id: created["client_id"].as_str().unwrap().into(),
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

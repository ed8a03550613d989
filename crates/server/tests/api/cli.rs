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

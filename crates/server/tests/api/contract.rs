//! The API contract (issue 14): schemathesis, pinned in `e2e/schemathesis/requirements.txt`
//! and installed into a venv under target/, generates requests from `/openapi.json` for every
//! operation (`/oauth2`, `/.well-known`, `/admin/v1`) with an admin token and must find
//! nothing: every answer's status, content type, headers and body as documented, schema-valid
//! requests accepted, schema-violating ones refused. The few rules a schema cannot express
//! (unknown ids, times in the future) are allowed per operation in
//! `e2e/schemathesis/schemathesis.toml`. Skipped with a message where python3 is missing,
//! unless `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gatepass_store::testing::TestBackend;

use serde_json::{Value, json};

use crate::helpers::{ClientSpec, TestApp, available, output_within, spawn_app_with};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/schemathesis")
}

#[tokio::test]
async fn schemathesis_finds_nothing_over_the_whole_openapi_document() {
    if !available("python3", "schemathesis over /openapi.json") {
        return;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-schemathesis");
    let python = venv.join("bin/python");
    if !python.exists() {
        let made = output_within(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            Duration::from_secs(120),
        );
        assert!(
            made.status.success(),
            "python3 -m venv: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    let installed = output_within(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(suite().join("requirements.txt")),
        Duration::from_secs(600),
    );
    assert!(
        installed.status.success(),
        "pip install -r e2e/schemathesis/requirements.txt: {}",
        String::from_utf8_lossy(&installed.stderr)
    );

    // Four-eyes on, so approvals have something to decide; room for the rotations the run makes.
    let app = spawn_app_with(
        TestBackend::Sqlite,
        &[
            ("GATEPASS__ADMIN__FOUR_EYES", "true"),
            ("GATEPASS__SECRETS__MAX_PER_CLIENT", "20"),
        ],
    )
    .await;
    let admin = crate::admin::admin_token(&app).await;
    let requester = crate::admin::admin_token(&app).await;
    let ids = seed(&app, &admin, &requester).await;
    let st = |label: &str, auth: &[&str], paths: &[&str]| {
        let report = app.dir.path().join(format!("schemathesis-{label}"));
        let run = output_within(
            Command::new(venv.join("bin/st"))
                .arg("--config-file")
                .arg(suite().join("schemathesis.toml"))
                .arg("run")
                .arg(app.url("/openapi.json"))
                .args(auth)
                .args(paths)
                .args(["--phases", "examples,coverage,fuzzing", "--checks", "all"])
                .args(["--max-examples", "20", "--seed", "14", "--workers", "1"])
                .args(["--report", "junit", "--report-dir"])
                .arg(&report)
                .envs(ids.iter().map(|(k, v)| (*k, v.as_str())))
                .env("NO_COLOR", "1")
                .current_dir(app.dir.path()),
            Duration::from_secs(600),
        );
        let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(
            run.status.success(),
            "schemathesis ({label}) found something:\n{stdout}\n{}\n--- server log (tail) ---\n{}",
            String::from_utf8_lossy(&run.stderr),
            app.server_log().lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
        stdout
    };

    let bearer = format!("Authorization: Bearer {admin}");
    let admin_run = st("admin", &["--header", &bearer], &["--include-path-regex", "^/admin/v1"]);
    // The two warnings schemathesis.toml allows, each for its one operation and no other.
    for (warning, operation) in [
        (
            "Missing test data: ",
            "DELETE /admin/v1/clients/{client_id}/secrets/{secret_id}",
        ),
        (
            "Schema validation mismatch: ",
            "POST /admin/v1/clients/{client_id}/secrets",
        ),
    ] {
        if let Some(at) = admin_run.find(warning) {
            let mut lines = admin_run[at..].lines().filter(|l| !l.trim().is_empty());
            let (head, named) = (lines.next().unwrap_or_default(), lines.next().unwrap_or_default());
            assert!(
                head.starts_with(&format!("{warning}1 operation ")) && named.trim() == format!("- {operation}"),
                "{warning}only for {operation}:\n{admin_run}"
            );
        }
    }

    // The OAuth endpoints and discovery, with HTTP Basic credentials of a client that may
    // also introspect.
    let client = app.seed_client(&ClientSpec {
        scopes: "sites:read gatepass:introspect",
        ..ClientSpec::default()
    });
    let basic = format!("{}:{}", client.client_id, client.secret);
    let oauth_run = st("oauth", &["--auth", &basic], &["--exclude-path-regex", "^/admin/v1"]);
    assert!(oauth_run.contains("No issues found"), "{oauth_run}");
}

/// What the path ids of the run name (schemathesis.toml): a client with a secret, a service
/// account with a client (so it cannot be deleted), a role, and a four-eyes request made by
/// `requester` for `admin` to decide.
async fn seed(app: &TestApp, admin: &str, requester: &str) -> Vec<(&'static str, String)> {
    let post = |token: &str, path: &str, body: Value| {
        let (token, path) = (token.to_owned(), path.to_owned());
        async move {
            let (status, body) = crate::admin::call(app, &token, reqwest::Method::POST, &path, Some(body)).await;
            assert!((200..300).contains(&status), "{path}: {status} {body}");
            body
        }
    };
    let client = post(
        admin,
        "/admin/v1/clients",
        json!({"name": "target", "scopes": ["sites:read"]}),
    )
    .await;
    // A service account waits for a second admin under four-eyes.
    let pending = post(admin, "/admin/v1/service-accounts", json!({"name": "target"})).await;
    let approved = post(
        requester,
        &format!("/admin/v1/approvals/{}/approve", pending["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    let account = approved["result"]["id"].as_str().unwrap().to_owned();
    post(
        admin,
        "/admin/v1/clients",
        json!({"name": "of-the-account", "service_account_id": account}),
    )
    .await;
    let role = post(
        admin,
        "/admin/v1/roles",
        json!({"name": "target", "scopes": ["sites:read"]}),
    )
    .await;
    let approval = post(
        requester,
        "/admin/v1/clients",
        json!({"name": "wants-admin", "scopes": ["gatepass:admin"]}),
    )
    .await;
    vec![
        (
            "GATEPASS_CLIENT",
            client["client"]["client_id"].as_str().unwrap().to_owned(),
        ),
        ("GATEPASS_SECRET", client["secret"]["id"].as_str().unwrap().to_owned()),
        ("GATEPASS_SERVICE_ACCOUNT", account),
        ("GATEPASS_ROLE", role["name"].as_str().unwrap().to_owned()),
        ("GATEPASS_APPROVAL", approval["id"].as_str().unwrap().to_owned()),
    ]
}

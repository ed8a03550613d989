//! The Python (`PyJWT`) and Node (`jose`) snippets of docs/resource-servers.md, run against a
//! real Gatepass: each installs its pinned dependencies (a venv under target/, `npm ci`),
//! accepts a good token and refuses the ones a resource server must refuse. Skipped with a
//! message where python3 or node is missing, unless `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatepass_store::testing::TestBackend;
use serde_json::{Value, json};

use crate::forge::{at_jwt, foreign_key, server_key, sign, unsigned};
use crate::helpers::{COMMAND_DEADLINE, ClientSpec, TestApp, available, output_within, spawn_app};

const AUDIENCE: &str = "https://api.example.com";

fn snippets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/resource-servers")
}

/// How long installing a snippet's pinned packages (a venv and pip, or `npm ci`) may take.
const INSTALL_DEADLINE: Duration = Duration::from_secs(300);

fn run(command: &mut Command) {
    let output = output_within(command, INSTALL_DEADLINE);
    assert!(
        output.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The snippet's file appears in the documentation as it is, so what is tested is what is shown.
fn assert_documented(file: &str) {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/resource-servers.md")).unwrap();
    let snippet = std::fs::read_to_string(snippets().join(file)).unwrap();
    assert!(
        doc.contains(snippet.trim()),
        "docs/resource-servers.md does not show e2e/resource-servers/{file} as it is"
    );
}

/// Tokens a resource server for `AUDIENCE` needing `sites:read` must accept (`true`) or refuse.
async fn cases(app: &TestApp) -> Vec<(&'static str, String, &'static str, bool)> {
    let creds = app.seed_client(&ClientSpec::default());
    let other = app.seed_client(&ClientSpec {
        audiences: "https://other.example.com",
        ..ClientSpec::default()
    });
    let token = |creds| async move {
        app.token_body(creds, &[("grant_type", "client_credentials")]).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let good = token(&creds).await;
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(good.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let (kid, key) = server_key(app);
    let mut plain_jwt = at_jwt(&kid);
    plain_jwt.typ = Some("JWT".into());
    let mut tampered: Vec<char> = good.chars().collect();
    let middle = good.rfind('.').unwrap() + 20;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    vec![
        ("a good token", good.clone(), "sites:read", true),
        ("a scope the token lacks", good, "gatepass:admin", false),
        ("another audience", token(&other).await, "sites:read", false),
        (
            "a changed signature",
            tampered.into_iter().collect(),
            "sites:read",
            false,
        ),
        (
            "typ JWT, not at+jwt",
            sign(&plain_jwt, &claims, &key),
            "sites:read",
            false,
        ),
        (
            "a key not in the JWKS",
            sign(&at_jwt(&kid), &claims, &foreign_key()),
            "sites:read",
            false,
        ),
        (
            "alg none",
            unsigned(&json!({"alg": "none", "typ": "at+jwt", "kid": kid}), &claims, b""),
            "sites:read",
            false,
        ),
    ]
}

fn check_all(app: &TestApp, cases: &[(&str, String, &str, bool)], runner: &mut dyn FnMut() -> Command) {
    for (name, token, scope, accept) in cases {
        let output = output_within(
            runner()
                .arg(token)
                .arg(scope)
                .env("GATEPASS_ISSUER", &app.address)
                .env("API_AUDIENCE", AUDIENCE),
            COMMAND_DEADLINE,
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.success(),
            *accept,
            "{name}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let want = if *accept { "accepted: gpc_" } else { "refused: " };
        assert!(stdout.starts_with(want), "{name}: {stdout}");
    }
}

#[tokio::test]
async fn the_python_snippet_validates_gatepass_tokens_with_pyjwt() {
    assert_documented("validate.py");
    if !available("python3", "the Python snippet of docs/resource-servers.md") {
        return;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-python");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    }
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(snippets().join("requirements.txt")));
    let app = spawn_app(TestBackend::Sqlite).await;
    let cases = cases(&app).await;
    check_all(&app, &cases, &mut || {
        let mut command = Command::new(&python);
        command.arg(snippets().join("validate.py"));
        command
    });
}

#[tokio::test]
async fn the_node_snippet_validates_gatepass_tokens_with_jose() {
    assert_documented("validate.mjs");
    let what = "the Node snippet of docs/resource-servers.md";
    if !available("node", what) || !available("npm", what) {
        return;
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(snippets()));
    let app = spawn_app(TestBackend::Sqlite).await;
    let cases = cases(&app).await;
    check_all(&app, &cases, &mut || {
        let mut command = Command::new("node");
        command.arg(snippets().join("validate.mjs"));
        command
    });
}

//! Native TLS (docs/design.md §12) with a CA made in the test: a client that insists on HTTPS gets
//! tokens and an `https://` issuer; SIGHUP swaps the certificate for new connections while an
//! open keep-alive connection keeps working; plain HTTP on the TLS port gets no token.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use gatepass_store::testing::TestBackend;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber};

use crate::helpers::{COMMAND_DEADLINE, ClientSpec, TestApp, eventually, gatepass, output_within, spawn_app_with};

/// A certificate authority made for one test, trusted by the clients it hands out.
struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    root: reqwest::Certificate,
}

impl TestCa {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Gatepass test CA");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            root: reqwest::Certificate::from_der(cert.der()).unwrap(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Writes `<name>.crt` and `<name>.key` (a certificate for 127.0.0.1 with `serial`) in
    /// `dir`; returns the certificate's DER.
    fn issue(&self, dir: &Path, name: &str, serial: u64) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        params.serial_number = Some(SerialNumber::from(serial));
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.crt")), cert.pem()).unwrap();
        cert.der().to_vec()
    }

    /// A client that trusts only this CA and refuses plain `http://` URLs.
    fn client(&self) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .https_only(true)
            .tls_certs_only([self.root.clone()])
            .tls_info(true)
            .build()
            .unwrap()
    }
}

fn tls_env(dir: &Path, name: &str, prefix: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("GATEPASS__SERVER__{prefix}TLS_CERT_FILE"),
            dir.join(format!("{name}.crt")).display().to_string(),
        ),
        (
            format!("GATEPASS__SERVER__{prefix}TLS_KEY_FILE"),
            dir.join(format!("{name}.key")).display().to_string(),
        ),
    ]
}

async fn spawn_tls(ca: &TestCa, extra: &[(String, String)]) -> TestApp {
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut app = spawn_app_with(TestBackend::Sqlite, &extra).await;
    app.http = ca.client();
    app
}

/// The leaf certificate the server presented on the response's connection.
fn peer_certificate(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(reqwest::tls::TlsInfo::peer_certificate)
        .expect("a TLS connection")
        .to_vec()
}

#[tokio::test]
async fn a_client_that_insists_on_https_gets_tokens_and_an_https_issuer() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().unwrap();
    ca.issue(certs.path(), "public", 1);
    ca.issue(certs.path(), "admin", 2);
    let mut env = tls_env(certs.path(), "public", "");
    env.extend(tls_env(certs.path(), "admin", "ADMIN_"));
    env.push(("GATEPASS__SERVER__ADMIN_BIND".into(), "127.0.0.1:0".into()));
    let app = spawn_tls(&ca, &env).await;
    assert!(app.address.starts_with("https://127.0.0.1:"), "{}", app.address);

    let creds = app.seed_client(&ClientSpec::default());
    let response = app.token_basic(&creds, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string());

    // TLS 1.2 is accepted too (TLS 1.3 is what the clients above negotiate).
    let tls12 = reqwest::Client::builder()
        .https_only(true)
        .tls_certs_only([ca.root.clone()])
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    let response = tls12
        .post(app.url("/oauth2/token"))
        .basic_auth(&creds.client_id, Some(&creds.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "TLS 1.2");

    let metadata = app.get_json("/.well-known/oauth-authorization-server").await;
    assert_eq!(metadata["issuer"], app.address);
    for endpoint in [
        "token_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        let url = metadata[endpoint].as_str().unwrap_or_default();
        assert!(url.starts_with("https://"), "{endpoint}: {url}");
    }

    let admin = app.admin_address.clone().unwrap();
    assert!(admin.starts_with("https://"), "{admin}");
    let health = app.http.get(format!("{admin}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn sighup_swaps_the_certificate_for_new_connections_and_open_ones_keep_working() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().unwrap();
    let first = ca.issue(certs.path(), "server", 1);
    let mut env = tls_env(certs.path(), "server", "");
    env.push(("GATEPASS__SERVER__KEEP_ALIVE_SECONDS".into(), "120".into()));
    let app = spawn_tls(&ca, &env).await;
    let creds = app.seed_client(&ClientSpec::default());
    let grant = [("grant_type", "client_credentials")];

    // One connection, opened before the reload and kept alive in the client's pool.
    let response = app.token_basic(&creds, &grant).await;
    assert_eq!(response.status(), 200);
    assert_eq!(peer_certificate(&response), first);

    let second = ca.issue(certs.path(), "server", 2);
    app.signal("HUP");
    let seen = eventually(Duration::from_secs(20), || async {
        let response = ca.client().get(app.url("/healthz")).send().await.ok()?;
        (peer_certificate(&response) == second).then_some(())
    })
    .await;
    assert!(seen.is_some(), "a new connection never saw serial 2");

    // The old connection still answers, with the certificate it was opened with: it is the
    // same connection, not a new one.
    let response = app.token_basic(&creds, &grant).await;
    assert_eq!(response.status(), 200);
    assert_eq!(peer_certificate(&response), first, "the open connection was replaced");

    // A broken renewal keeps the current certificate and says so.
    std::fs::write(certs.path().join("server.crt"), "-----BEGIN CERTIFICATE-----\nbroken\n").unwrap();
    app.signal("HUP");
    let logged = eventually(Duration::from_secs(20), || async {
        app.server_log().contains("TLS certificate kept").then_some(())
    })
    .await;
    assert!(logged.is_some(), "no error logged for the broken certificate");
    let response = ca.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(peer_certificate(&response), second);
    assert!(app.server_log().contains("server.tls_cert_file"));
}

#[tokio::test]
async fn plain_http_on_the_tls_port_gets_no_token() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().unwrap();
    ca.issue(certs.path(), "server", 1);
    let app = spawn_tls(&ca, &tls_env(certs.path(), "server", "")).await;
    let creds = app.seed_client(&ClientSpec::default());

    let host = app.address.trim_start_matches("https://").to_owned();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        creds.client_id, creds.secret
    );
    let request = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.starts_with("HTTP/"), "plain HTTP was answered: {text}");
    assert!(!text.contains("access_token"));

    // A client that insists on HTTPS does not even try http://.
    let refused = app
        .http
        .get(app.url("/healthz").replace("https://", "http://"))
        .send()
        .await;
    assert!(refused.is_err());
    // And HTTPS still works after that.
    let response = app.token_basic(&creds, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 200);
}

#[test]
fn a_bad_certificate_file_stops_serve_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new();
    ca.issue(dir.path(), "server", 1);
    std::fs::write(dir.path().join("bad.crt"), "not PEM at all").unwrap();
    let cases = [
        ("missing.crt", "server.key", "server.tls_cert_file"),
        ("bad.crt", "server.key", "server.tls_cert_file"),
        ("server.crt", "missing.key", "server.tls_key_file"),
        ("server.crt", "", "server.tls_cert_file"),
    ];
    for (cert, key, named) in cases {
        let path = |file: &str| {
            if file.is_empty() {
                String::new()
            } else {
                dir.path().join(file).display().to_string()
            }
        };
        // A setting that were accepted by mistake would serve forever: bounded, it fails instead.
        let output = output_within(
            gatepass()
                .arg("serve")
                .env("GATEPASS__SERVER__BIND", "127.0.0.1:0")
                .env("GATEPASS__DATA_DIR", dir.path())
                .env("GATEPASS__SERVER__TLS_CERT_FILE", path(cert))
                .env("GATEPASS__SERVER__TLS_KEY_FILE", path(key)),
            COMMAND_DEADLINE,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{cert} {key}: served");
        assert!(stderr.contains(named), "{cert} {key}: {stderr}");
    }
}

#[tokio::test]
async fn the_per_address_connection_cap_counts_tls_connections_too() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().unwrap();
    ca.issue(certs.path(), "public", 1);
    let mut env = tls_env(certs.path(), "public", "");
    env.push(("GATEPASS__SERVER__MAX_CONNECTIONS_PER_ADDRESS".into(), "2".into()));
    let app = spawn_tls(&ca, &env).await;
    // Two clients, each keeping its TLS connection open (keep-alive), hold both places…
    let holders = [ca.client(), ca.client()];
    for holder in &holders {
        assert_eq!(holder.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    }
    // …so a third connection is refused cleanly (503 and closed), never hung.
    let refused = ca.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    drop(holders);
    let served = eventually(std::time::Duration::from_secs(5), || async {
        let response = ca.client().get(app.url("/healthz")).send().await.ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    assert!(served.is_some(), "places free up when connections close");
}

//! `spawn_app()`: a real server process, a typed helper for each thing tests do.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gatepass_core::{ClientId, ClientSecret, Clock, ManualClock, MasterKey, SecretPrefix, SystemClock};
use gatepass_server::config::Settings;
use gatepass_server::context::Context;
use gatepass_server::serve;
use gatepass_store::clients::ClientRow;
use gatepass_store::roles::RoleRow;
use gatepass_store::secrets::SecretRow;
use gatepass_store::service_accounts::ServiceAccountRow;
use gatepass_store::testing::{TestBackend, TestDatabase};
use gatepass_store::{Database, DatabaseSettings};
use serde_json::Value;
use std::sync::Arc;

pub const MASTER_KEY: [u8; 32] = [42; 32];

pub struct TestApp {
    pub address: String,
    /// The separate admin listener, when `GATEPASS__SERVER__ADMIN_BIND` was given.
    pub admin_address: Option<String>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub database: Arc<TestDatabase>,
    /// The `gatepass serve` process; `None` for a server running in this process.
    child: Option<Child>,
    /// The server running in this process, if it is one.
    in_process: Option<InProcess>,
    env: Vec<(String, String)>,
}

/// What a seeded client looks like.
#[derive(Clone)]
pub struct ClientSpec {
    pub scopes: &'static str,
    pub audiences: &'static str,
    pub disabled: bool,
    pub secret_expires_at: Option<i64>,
    pub token_ttl: Option<i64>,
    pub role_scopes: Option<&'static str>,
}

impl Default for ClientSpec {
    fn default() -> Self {
        Self {
            scopes: "sites:read scripts:write",
            audiences: "https://api.example.com",
            disabled: false,
            secret_expires_at: None,
            token_ttl: None,
            role_scopes: None,
        }
    }
}

pub struct Credentials {
    pub client_id: String,
    pub secret: String,
}

/// An HTTP client for tests. reqwest is built with rustls but no crypto provider (the
/// guard and client crates bring ring), so install ring first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub fn gatepass() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatepass"))
}

/// Whether `tool` runs; without it a test of `what` is skipped with a message, except under
/// `CI=true`, where it fails.
pub fn available(tool: &str, what: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{tool} is missing and CI=true: {what} must run"
        );
        eprintln!("SKIPPED: {tool} is not installed; {what} was not run");
    }
    found
}

/// Polls `check` every 100 ms until it gives `Some` or `within` has passed, so tests
/// wait for background work (key refresh, cache expiry) without fixed sleeps.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        // Waiting on another process or a background task of the server's: nothing of ours to
        // advance, so poll.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A well-formed secret that is stored nowhere.
pub fn fresh_secret() -> String {
    ClientSecret::generate(&SecretPrefix::parse("gps_").unwrap())
        .unwrap()
        .expose()
        .to_owned()
}

pub fn now() -> i64 {
    SystemClock.now().unix_timestamp()
}

pub async fn spawn_app(backend: TestBackend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

pub async fn spawn_app_with(backend: TestBackend, extra: &[(&str, &str)]) -> TestApp {
    let database = Arc::new(TestDatabase::create(backend).expect("test database"));
    spawn_node(&database, extra)
}

/// Starts a `gatepass serve` process on `database`; several nodes may share one.
pub fn spawn_node(database: &Arc<TestDatabase>, extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = vec![
        ("GATEPASS__SERVER__BIND".into(), "127.0.0.1:0".into()),
        ("GATEPASS__DATA_DIR".into(), dir.path().display().to_string()),
        ("GATEPASS__DATABASE__URL".into(), database.url.clone()),
        ("GATEPASS_MASTER_KEY".into(), STANDARD.encode(MASTER_KEY)),
        ("GATEPASS__SERVER__WORKERS".into(), "2".into()),
        ("RUST_LOG".into(), "debug".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = gatepass()
        .arg("serve")
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let address_in = |line: String| {
        line.split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(str::to_owned)
    };
    let wants_admin = env.iter().any(|(k, _)| k == "GATEPASS__SERVER__ADMIN_BIND");
    let addresses = rx
        .recv_timeout(Duration::from_secs(60))
        .ok()
        .and_then(address_in)
        .and_then(|address| {
            if !wants_admin {
                return Some((address, None));
            }
            let admin = rx.recv_timeout(Duration::from_secs(60)).ok().and_then(address_in)?;
            Some((address, Some(admin)))
        });
    let Some((address, admin_address)) = addresses else {
        // Not yet a TestApp, whose drop would kill it: kill it here before failing.
        let _ = child.kill();
        let _ = wait_within(&mut child, COMMAND_DEADLINE);
        panic!("the server did not report its address(es) within 60 s");
    };
    TestApp {
        address,
        admin_address,
        dir,
        http: http_client(),
        database: Arc::clone(database),
        child: Some(child),
        in_process: None,
        env,
    }
}

/// A server running on a thread of this process. Dropping it stops the server and waits for
/// its thread: no server outlives its test (one left running could still be using its
/// database driver while the process exits, which crashed the test binary after every test
/// had passed).
struct InProcess {
    /// Dropped to stop the server.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        drop(self.stop.take());
        let Some(thread) = self.thread.take() else { return };
        let deadline = std::time::Instant::now() + COMMAND_DEADLINE;
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            // Polling a thread: no clock of ours can stand in.
            std::thread::sleep(Duration::from_millis(10));
        }
        if thread.is_finished() {
            if let Ok(Err(error)) = thread.join() {
                eprintln!("the in-process server ended with an error: {error}");
            }
        } else {
            eprintln!("the in-process server did not stop within {COMMAND_DEADLINE:?}");
        }
    }
}

/// A server in this process whose clock the test moves: expiry is tested without sleeping.
/// It stops when its `TestApp` is dropped.
pub async fn spawn_with_clock(backend: TestBackend) -> (TestApp, Arc<ManualClock>) {
    spawn_with_clock_and(backend, "").await
}

/// [`spawn_with_clock`] with more configuration (`toml`: whole sections, e.g. `[keys]\n…`).
pub async fn spawn_with_clock_and(backend: TestBackend, toml: &str) -> (TestApp, Arc<ManualClock>) {
    let database = Arc::new(TestDatabase::create(backend).expect("test database"));
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    (spawn_in_process(&database, &clock, toml).await, clock)
}

/// A node in this process on `database`, reading `clock`; several may share both, as nodes
/// of one deployment share a database (and, here, a clock the test moves). It stops when
/// the `TestApp` is dropped.
pub async fn spawn_in_process(database: &Arc<TestDatabase>, clock: &Arc<ManualClock>, toml: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    // The development key file of the data directory, so the CLI (given the same key) agrees.
    std::fs::write(dir.path().join("master.key"), STANDARD.encode(MASTER_KEY)).unwrap();
    let config = dir.path().join("gatepass.toml");
    // A `[database]` section of the test's joins the one written here: TOML defines a table once.
    let (database_keys, toml) = match toml.split_once("[database]\n") {
        Some((before, after)) => {
            let end = after.find("\n[").map_or(after.len(), |at| at + 1);
            (&after[..end], format!("{before}{}", &after[end..]))
        }
        None => ("", toml.to_owned()),
    };
    let toml = format!(
        "data_dir = {:?}\n[server]\nworkers = 2\n[database]\nurl = {:?}\n{database_keys}\n{toml}",
        dir.path().display().to_string(),
        database.url
    );
    std::fs::write(&config, toml).unwrap();
    let settings = Settings::load(Some(&config)).unwrap();
    let mut context = Context::open(&settings, false).unwrap();
    context.clock = clock.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let stopped = async move {
            let _ = stopped.await;
        };
        serve::run_with(&settings, &context, listener, stopped).map_err(|e| e.to_string())
    });
    let app = TestApp {
        address,
        admin_address: None,
        env: vec![
            ("GATEPASS__DATA_DIR".into(), dir.path().display().to_string()),
            ("GATEPASS__DATABASE__URL".into(), database.url.clone()),
            ("GATEPASS_MASTER_KEY".into(), STANDARD.encode(MASTER_KEY)),
        ],
        dir,
        http: http_client(),
        database: Arc::clone(database),
        child: None,
        in_process: Some(InProcess {
            stop: Some(stop),
            thread: Some(thread),
        }),
    };
    let ready = eventually(Duration::from_secs(30), || async {
        let response = app.http.get(app.url("/readyz")).send().await.ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    assert!(ready.is_some(), "the in-process server did not get ready");
    app
}

/// How long a command the tests run may take before it counts as hung.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// Runs `command` to completion like `Command::output`, but kills it and fails the test if it
/// has not finished within `within`: a hang is a failure, not a stuck suite.
pub fn output_within(command: &mut Command, within: Duration) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut bytes).map(|_| bytes)
    });
    let status =
        wait_within(&mut child, within).unwrap_or_else(|| panic!("{command:?} did not finish within {within:?}"));
    std::process::Output {
        status,
        stdout: out.join().expect("stdout reader").unwrap_or_default(),
        stderr: err.join().expect("stderr reader").unwrap_or_default(),
    }
}

/// Waits for `child` to exit for at most `within`; past it, kills it and answers `None`.
pub fn wait_within(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + within;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)), // polling a process: no clock can stand in
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Before its data directory and database go.
        drop(self.in_process.take());
        if let Some(child) = &mut self.child {
            // A server that ignores SIGKILL cannot hold the suite: wait a bounded time.
            let _ = child.kill();
            let _ = wait_within(child, COMMAND_DEADLINE);
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Runs the CLI against this app's data directory and master key.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        output_within(gatepass().args(args).envs(self.env.iter().cloned()), COMMAND_DEADLINE)
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap()
    }

    /// The value of an unlabelled counter or gauge on `/metrics` (0 when absent).
    pub async fn counter(&self, name: &str) -> u64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .map_or(0, |v| v.trim().parse::<u64>().unwrap())
    }

    pub fn db(&self) -> Database {
        Database::open(&DatabaseSettings::new(&self.database.url)).unwrap()
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.wait()
    }

    /// Waits for the server process to exit (failing the test past [`COMMAND_DEADLINE`]).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("an in-process server does not exit");
        wait_within(child, COMMAND_DEADLINE)
            .unwrap_or_else(|| panic!("the server did not exit within {COMMAND_DEADLINE:?}"))
    }

    /// Sends the server process a signal (`TERM`, `INT`) and returns at once.
    pub fn signal(&self, name: &str) {
        let child = self
            .child
            .as_ref()
            .expect("an in-process server has no process to signal");
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status();
    }

    /// Inserts a client and a secret straight into the database.
    pub fn seed_client(&self, spec: &ClientSpec) -> Credentials {
        let db = self.db();
        let mut conn = db.conn().unwrap();
        let now = now();
        let client_id = ClientId::generate().to_string();
        let service_account_id = spec.role_scopes.map(|scopes| {
            let role = format!("role-{client_id}");
            let role_row = RoleRow {
                name: role.clone(),
                description: String::new(),
                scopes: scopes.into(),
                created_at: now,
                updated_at: now,
            };
            gatepass_store::roles::insert(&mut conn, &role_row).unwrap();
            let account = ServiceAccountRow {
                id: uuid::Uuid::now_v7().to_string(),
                name: format!("sa-{client_id}"),
                description: String::new(),
                disabled: false,
                created_at: now,
                updated_at: now,
            };
            gatepass_store::service_accounts::insert(&mut conn, &account, &[role]).unwrap();
            account.id
        });
        let client = ClientRow {
            client_id: client_id.clone(),
            name: format!("test-{client_id}"),
            service_account_id,
            scopes: spec.scopes.into(),
            audiences: spec.audiences.into(),
            labels: "{}".into(),
            token_ttl_seconds: spec.token_ttl,
            disabled: spec.disabled,
            expires_at: None,
            created_at: now,
            updated_at: now,
            last_used_at: None,
        };
        gatepass_store::clients::insert(&mut conn, &client).unwrap();
        let secret = self.add_secret(&client_id, spec.secret_expires_at);
        Credentials { client_id, secret }
    }

    pub fn add_secret(&self, client_id: &str, expires_at: Option<i64>) -> String {
        let secret = ClientSecret::generate(&SecretPrefix::parse("gps_").unwrap()).unwrap();
        let hash = MasterKey::from_bytes(MASTER_KEY).secret_pepper().hash(&secret);
        let row = SecretRow {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: client_id.into(),
            secret_hash: hash.0.to_vec(),
            key_prefix: secret.key_prefix().into(),
            label: None,
            created_at: now(),
            expires_at,
            revoked_at: None,
            last_used_at: None,
            use_count: 0,
        };
        gatepass_store::secrets::insert(&mut self.db().conn().unwrap(), &row).unwrap();
        secret.expose().to_owned()
    }

    pub async fn token_basic(&self, creds: &Credentials, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/oauth2/token"))
            .basic_auth(&creds.client_id, Some(&creds.secret))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The JSON body of a token request with Basic authentication.
    pub async fn token_body(&self, creds: &Credentials, form: &[(&str, &str)]) -> Value {
        self.token_basic(creds, form).await.json().await.unwrap()
    }

    pub async fn token_post(&self, creds: &Credentials, form: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.secret.as_str()),
        ];
        all.extend_from_slice(form);
        self.http
            .post(self.url("/oauth2/token"))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn jwks(&self) -> Value {
        self.get_json("/.well-known/jwks.json").await
    }

    /// Polls the audit log until an event with `reason` shows up.
    pub async fn audit_reason_recorded(&self, reason: &str) -> bool {
        for _ in 0..50 {
            let events =
                gatepass_store::audit::list(&mut self.db().conn().unwrap(), Some("token.auth_failed"), 1000).unwrap();
            if events.iter().any(|e| e.reason.as_deref() == Some(reason)) {
                return true;
            }
            // Polling the audit writer (another task, real I/O): no clock can stand in for it.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

/// A JWT's decoded header and claims.
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
}

/// Verifies an `ES256` or `EdDSA` JWT against a JWKS with ring directly — independent of
/// the jsonwebtoken code path the server signs with.
pub fn verify_with_jwks(token: &str, jwks: &Value) -> Result<Jwt, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("not three segments".into());
    }
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string());
    let header: Value = serde_json::from_slice(&decode(parts[0])?).map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&decode(parts[1])?).map_err(|e| e.to_string())?;
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or("unknown kid")?;
    let (algorithm, public): (&dyn ring::signature::VerificationAlgorithm, Vec<u8>) = match header["alg"].as_str() {
        Some("ES256") if jwk["kty"] == "EC" => {
            let mut point = vec![4u8];
            point.extend(decode(jwk["x"].as_str().unwrap())?);
            point.extend(decode(jwk["y"].as_str().unwrap())?);
            (&ring::signature::ECDSA_P256_SHA256_FIXED, point)
        }
        Some("EdDSA") if jwk["kty"] == "OKP" => (&ring::signature::ED25519, decode(jwk["x"].as_str().unwrap())?),
        other => return Err(format!("unexpected alg {other:?}")),
    };
    let signed = format!("{}.{}", parts[0], parts[1]);
    ring::signature::UnparsedPublicKey::new(algorithm, public)
        .verify(signed.as_bytes(), &decode(parts[2])?)
        .map_err(|_| "bad signature".to_owned())?;
    Ok(Jwt { header, claims })
}

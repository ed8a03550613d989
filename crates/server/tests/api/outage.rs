//! A PostgreSQL outage of 60 s on the test's own cluster (docs/design.md §18, stale-if-error):
//! the test runs `initdb` and `pg_ctl` itself, stops the cluster under a running server and
//! starts it again. Meanwhile credentials the node had read keep getting tokens
//! (stale-if-error), a revoked one stays refused, one never read gets 503, admin writes get 503,
//! nothing hangs or answers 500; afterwards service comes back without a restart.
//!
//! The 60 s are the server's manual clock, moved in steps; the wall clock only waits for the
//! cluster and the server's own background reads, each wait bounded.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatepass_core::{Clock, ManualClock};
use gatepass_store::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::admin::{admin_token, call};
use crate::helpers::{
    ClientSpec, Credentials, TestApp, available, eventually, output_within, spawn_in_process, verify_with_jwks,
    wait_within,
};

const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

/// The longest any one request may take: past it, it counts as a hang.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// How long `initdb` or `pg_ctl` may take.
const CLUSTER_DEADLINE: Duration = Duration::from_secs(60);

/// `program` run as the `postgres` OS user (the tests run as root, and PostgreSQL refuses root).
fn as_postgres(program: &str) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--"]).arg(server_program(program));
    command
}

/// `program` of the PostgreSQL server: on PATH, else in Debian's versioned directory
/// (`/usr/lib/postgresql/<version>/bin`, the newest), where the server package puts it.
fn server_program(program: &str) -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file());
    let debian = || {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|version| version.path().join("bin").join(program))
            .filter(|path| path.is_file())
            .collect();
        found.sort();
        found.pop()
    };
    on_path.or_else(debian).unwrap_or_else(|| program.into())
}

/// Runs `command` within [`CLUSTER_DEADLINE`] and fails the test, with its output, unless it
/// succeeds.
fn run(command: &mut Command, what: &str) {
    let output = output_within(command, CLUSTER_DEADLINE);
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A PostgreSQL cluster of this test's own: a data directory in a temporary directory owned by
/// `postgres`, listening on 127.0.0.1 only, on a free port, trust authentication. Dropping it
/// stops the server (`-m immediate`) before the directory goes, even when the test failed.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        run(Command::new("chown").arg("postgres:postgres").arg(dir.path()), "chown");
        let data = dir.path().join("data");
        run(
            as_postgres("initdb").arg("-D").arg(&data).args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]),
            "initdb",
        );
        // A free port: bound once to pick it, released for the cluster.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\n",
            dir.path().display()
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&settings);
        std::fs::write(&conf, text).unwrap();
        // The guard exists before the server does: whatever fails from here on, it is stopped.
        let cluster = Self { dir, port };
        cluster.pg_ctl(&["start"]);
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `pg_ctl -D DATA -w -t 30 ARGS` as `postgres`, within the deadline; it must succeed.
    fn pg_ctl(&self, args: &[&str]) {
        let log = self.dir.path().join("postgres.log");
        run(
            as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30"])
                .args(args),
            &format!("pg_ctl {args:?}"),
        );
    }

    /// The URL of the cluster's `postgres` database.
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Not `run`: a panic here, while a failed test unwinds, would abort the test binary. A
        // cluster already stopped makes pg_ctl fail, which is fine.
        let child = as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "-t", "30", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = child
            && wait_within(&mut child, CLUSTER_DEADLINE).is_none()
        {
            eprintln!("pg_ctl stop -m immediate did not finish within {CLUSTER_DEADLINE:?}");
        }
    }
}

/// One answer: its status (`None`: no answer within [`REQUEST_DEADLINE`], or a broken
/// connection), whether it had `Retry-After`, its content type and body, how long it took.
#[derive(Debug)]
struct Answer {
    status: Option<u16>,
    retry_after: bool,
    content_type: String,
    body: Value,
    took: Duration,
}

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let sent = Instant::now();
    match request.timeout(REQUEST_DEADLINE).send().await {
        Ok(response) => {
            let status = Some(response.status().as_u16());
            let retry_after = response.headers().contains_key("retry-after");
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = response.json().await.unwrap_or(Value::Null);
            Answer {
                status,
                retry_after,
                content_type,
                body,
                took: sent.elapsed(),
            }
        }
        Err(error) => {
            eprintln!("no answer: {error}");
            Answer {
                status: None,
                retry_after: false,
                content_type: String::new(),
                body: Value::Null,
                took: sent.elapsed(),
            }
        }
    }
}

async fn token(app: &TestApp, creds: &Credentials) -> Answer {
    answer(
        app.http
            .post(app.url("/oauth2/token"))
            .basic_auth(&creds.client_id, Some(&creds.secret))
            .form(&GRANT),
    )
    .await
}

async fn get(app: &TestApp, path: &str) -> Answer {
    answer(app.http.get(app.url(path))).await
}

/// An admin write: a new client.
async fn admin_write(app: &TestApp, admin: &str) -> Answer {
    let name = format!("outage-{}", uuid::Uuid::new_v4().simple());
    answer(
        app.http
            .post(app.url("/admin/v1/clients"))
            .bearer_auth(admin)
            .json(&json!({"name": name, "scopes": ["sites:read"]})),
    )
    .await
}

/// A gauge on `/metrics` (`None` when absent or `/metrics` does not answer).
async fn gauge(app: &TestApp, name: &str) -> Option<f64> {
    let response = app
        .http
        .get(app.url("/metrics"))
        .timeout(REQUEST_DEADLINE)
        .send()
        .await
        .ok()?;
    let text = response.text().await.ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Every status seen and the slowest answer of each kind, for the report and the "no 500, no
/// hang" check; and the warm clients' (tokens, requests).
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<String, usize>,
    slowest: BTreeMap<&'static str, Duration>,
    warm: (usize, usize),
}

impl Tally {
    fn saw(&mut self, what: &'static str, answer: &Answer) {
        let status = answer.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        *self.statuses.entry(format!("{what} {status}")).or_default() += 1;
        let slowest = self.slowest.entry(what).or_default();
        *slowest = (*slowest).max(answer.took);
        assert!(answer.status.is_some(), "{what}: no answer within {REQUEST_DEADLINE:?}");
        assert!(answer.status.is_some_and(|s| s < 500 || s == 503), "{what}: {answer:?}");
    }
}

/// The outage on the server's clock: `STEPS` steps of `STEP_SECONDS`, each with a burst of
/// `PER_CLIENT` token requests for every warm client.
const STEPS: i64 = 12;
const STEP_SECONDS: i64 = 5;
const PER_CLIENT: usize = 8;
const WARM_CLIENTS: usize = 6;

/// The clients the test watches.
struct Clients {
    /// Each has had a token, so the node holds its credential.
    warm: Vec<Credentials>,
    /// Its secret was revoked over the admin API before the outage, and refused since.
    revoked: Credentials,
    /// Exists, but this node has never read it.
    never_seen: Credentials,
}

async fn warm_up(app: &TestApp, admin: &str) -> Clients {
    let warm: Vec<Credentials> = (0..WARM_CLIENTS)
        .map(|_| app.seed_client(&ClientSpec::default()))
        .collect();
    for creds in &warm {
        assert_eq!(token(app, creds).await.status, Some(200));
    }
    let revoked = app.seed_client(&ClientSpec::default());
    assert_eq!(token(app, &revoked).await.status, Some(200));
    let secrets = format!("/admin/v1/clients/{}/secrets", revoked.client_id);
    let (status, listed) = call(app, admin, Method::GET, &secrets, None).await;
    assert_eq!(status, 200, "{listed}");
    let secret_id = listed["items"][0]["id"].as_str().unwrap();
    let (status, body) = call(app, admin, Method::POST, &format!("{secrets}/{secret_id}/revoke"), None).await;
    assert_eq!(status, 200, "{body}");
    let refused = eventually(Duration::from_secs(3), || async {
        (token(app, &revoked).await.status == Some(401)).then_some(())
    })
    .await;
    assert!(refused.is_some(), "the revoked secret was still accepted");
    Clients {
        warm,
        revoked,
        never_seen: app.seed_client(&ClientSpec::default()),
    }
}

/// One step of the outage, `simulated` seconds into it on the server's clock: a burst for the
/// warm clients (counted in `tally`; one token issued is checked against `jwks`), then every
/// other check once.
async fn outage_step(app: &TestApp, admin: &str, clients: &Clients, jwks: &Value, simulated: i64, tally: &mut Tally) {
    let mut burst = JoinSet::new();
    for creds in &clients.warm {
        for _ in 0..PER_CLIENT {
            let request = app
                .http
                .post(app.url("/oauth2/token"))
                .basic_auth(&creds.client_id, Some(&creds.secret))
                .form(&GRANT);
            burst.spawn(answer(request));
        }
    }
    let mut issued = None;
    while let Some(done) = burst.join_next().await {
        let done = done.unwrap();
        tally.saw("warm token", &done);
        tally.warm.1 += 1;
        if done.status == Some(200) {
            tally.warm.0 += 1;
            issued = done.body["access_token"].as_str().map(str::to_owned);
        }
    }
    let issued = issued.unwrap_or_else(|| panic!("no warm client got a token at {simulated} s"));
    verify_with_jwks(&issued, jwks).expect("a token issued in the outage verifies");

    let refused = token(app, &clients.revoked).await;
    tally.saw("revoked token", &refused);
    assert!(
        matches!(refused.status, Some(401 | 503)),
        "the revoked secret at {simulated} s: {refused:?}"
    );

    let unknown = token(app, &clients.never_seen).await;
    tally.saw("never-seen token", &unknown);
    assert_eq!(unknown.status, Some(503), "never seen, at {simulated} s: {unknown:?}");
    assert!(unknown.retry_after, "503 without Retry-After: {unknown:?}");
    assert_eq!(unknown.body["error"], "temporarily_unavailable");

    // The node notices within a feed poll or two (250 ms, each failing within 500 ms).
    let degraded = eventually(Duration::from_secs(5), || async {
        let ready = get(app, "/readyz").await;
        (ready.status == Some(200) && ready.body["status"] == "degraded").then_some(ready)
    })
    .await;
    let Some(degraded) = degraded else {
        panic!(
            "/readyz is not 200 degraded at {simulated} s: {:?}",
            get(app, "/readyz").await
        );
    };
    tally.saw("readyz", &degraded);
    assert_eq!(degraded.body["reason"], "database_unreachable");
    // The gauges are set at each feed poll, from the server's clock.
    let gauges = eventually(Duration::from_secs(5), || async {
        let up = gauge(app, "gatepass_database_up").await?;
        let stale = gauge(app, "gatepass_credentials_stale_seconds").await?;
        #[allow(clippy::cast_precision_loss, reason = "a few seconds")]
        let caught_up = stale >= simulated as f64;
        (up == 0.0 && caught_up).then_some(stale)
    })
    .await;
    assert!(
        gauges.is_some(),
        "at {simulated} s: gatepass_database_up {:?}, gatepass_credentials_stale_seconds {:?}",
        gauge(app, "gatepass_database_up").await,
        gauge(app, "gatepass_credentials_stale_seconds").await
    );

    if simulated % 20 == STEP_SECONDS {
        let write = admin_write(app, admin).await;
        tally.saw("admin write", &write);
        assert_eq!(write.status, Some(503), "an admin write in the outage: {write:?}");
        assert_eq!(write.content_type, "application/problem+json");
        assert!(write.retry_after, "{write:?}");
    }
}

/// After `pg_ctl start`, without restarting Gatepass: a client seeded now gets a token, an
/// admin write succeeds and `gatepass_database_up` is 1, all within 10 s. Returns how long.
async fn recovery(app: &TestApp, admin: &str, clients: &Clients) -> Duration {
    let restarted = Instant::now();
    let left = || Duration::from_secs(10).saturating_sub(restarted.elapsed());
    let fresh = app.seed_client(&ClientSpec::default());
    let healed = eventually(left(), || async {
        let issued = token(app, &fresh).await;
        assert!(matches!(issued.status, Some(200 | 503)), "{issued:?}");
        (issued.status == Some(200)).then_some(())
    })
    .await;
    assert!(healed.is_some(), "a new client got no token within 10 s of the restart");
    let written = eventually(left(), || async {
        let write = admin_write(app, admin).await;
        assert!(matches!(write.status, Some(201 | 503)), "{write:?}");
        (write.status == Some(201)).then_some(())
    })
    .await;
    assert!(written.is_some(), "no admin write succeeded within 10 s of the restart");
    let up = eventually(left(), || async {
        (gauge(app, "gatepass_database_up").await == Some(1.0)).then_some(())
    })
    .await;
    assert!(up.is_some(), "gatepass_database_up is not 1 within 10 s of the restart");
    let healed_in = restarted.elapsed();
    assert!(healed_in < Duration::from_secs(10), "healed in {healed_in:?}");
    for creds in &clients.warm {
        assert_eq!(token(app, creds).await.status, Some(200));
    }
    assert_eq!(token(app, &clients.revoked).await.status, Some(401), "still revoked");
    assert_eq!(get(app, "/readyz").await.body["status"], "ready");
    healed_in
}

// Multi-threaded: bursts of requests run while the test also waits on the cluster's commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(gatepass_no_postgres, ignore = "needs PostgreSQL: set GATEPASS_TEST_DATABASE_URL")]
async fn outage_of_60_s_on_its_own_cluster_serves_cached_credentials_and_heals_without_a_restart() {
    if !available(
        &server_program("initdb").to_string_lossy(),
        "the PostgreSQL outage test",
    ) {
        return;
    }
    let began = Instant::now();
    // Declared first, dropped last: the server and the database go before the cluster stops.
    let cluster = Cluster::start();
    let database = Arc::new(TestDatabase::create_on(&cluster.url()));
    let clock = Arc::new(ManualClock::new(gatepass_core::SystemClock.now()));
    // A short acquire timeout: a request never waits long on a database that is gone. The
    // failure limits are raised: the revoked client is refused again and again on purpose, and
    // a 429 is not what this test watches.
    let app = spawn_in_process(
        &database,
        &clock,
        "[database]\nacquire_timeout_ms = 500\n\
         [limits]\nfailed_auth_per_client = 100000\nfailed_auth_per_address = 100000\n",
    )
    .await;
    let admin = admin_token(&app).await;
    let clients = warm_up(&app, &admin).await;
    let jwks = app.jwks().await;
    assert_eq!(gauge(&app, "gatepass_database_up").await, Some(1.0));

    cluster.pg_ctl(&["stop", "-m", "fast"]);
    let outage_began = Instant::now();
    let mut tally = Tally::default();
    for step in 1..=STEPS {
        clock.advance(time::Duration::seconds(STEP_SECONDS));
        outage_step(&app, &admin, &clients, &jwks, step * STEP_SECONDS, &mut tally).await;
    }
    let (ok, all) = tally.warm;
    #[allow(clippy::cast_precision_loss, reason = "a ratio of a few hundred")]
    let rate = ok as f64 / all as f64;
    eprintln!(
        "outage: {STEPS} steps of {STEP_SECONDS} s on the server's clock in {:?} of wall time; \
         warm clients got {ok} tokens of {all} requests ({:.2} %); {:?}; slowest {:?}",
        outage_began.elapsed(),
        rate * 100.0,
        tally.statuses,
        tally.slowest
    );
    assert!(rate >= 0.99, "warm clients got tokens for {ok} of {all} requests");

    cluster.pg_ctl(&["start"]);
    let healed_in = recovery(&app, &admin, &clients).await;
    eprintln!(
        "healed {healed_in:?} after pg_ctl start; the whole test took {:?} of wall time",
        began.elapsed()
    );
}

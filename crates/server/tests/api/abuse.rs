//! Abuse resistance (docs/design.md §11): aggregated failure audit with exact counts for real
//! client ids, no failure reason on the public `/metrics`.

use std::time::Duration;

use gatepass_core::ClientId;
use serde_json::Value;

use crate::helpers::{ClientSpec, Credentials, TestApp, eventually, fresh_secret, spawn_app, spawn_with_clock};

const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

fn failures(app: &TestApp) -> Vec<(gatepass_store::audit::AuditEventRow, Value)> {
    gatepass_store::audit::list(&mut app.db().conn().unwrap(), Some("token.auth_failed"), 10_000)
        .unwrap()
        .into_iter()
        .map(|row| {
            let details = serde_json::from_str(row.details.as_deref().unwrap_or("null")).unwrap();
            (row, details)
        })
        .collect()
}

fn sum(events: &[&(gatepass_store::audit::AuditEventRow, Value)], field: &str) -> u64 {
    events.iter().map(|(_, d)| d[field].as_u64().unwrap_or(0)).sum()
}

gatepass_store::both_backends! {
    async fn a_flood_writes_one_event_per_key_and_window_and_a_real_ids_failures_add_up(backend) {
        let (app, clock) = spawn_with_clock(backend).await;
        let victim = app.seed_client(&ClientSpec::default());
        // 50 wrong secrets for a real client id (limit 10 a minute: 40 answered 429) and 60
        // random ids from the same address, all in one window.
        let mut codes = Vec::new();
        for i in 0..110 {
            let creds = if i % 2 == 0 && i < 100 {
                Credentials { client_id: victim.client_id.clone(), secret: fresh_secret() }
            } else {
                Credentials { client_id: ClientId::generate().to_string(), secret: fresh_secret() }
            };
            codes.push(app.token_basic(&creds, &GRANT).await.status().as_u16());
        }
        assert_eq!(codes.iter().filter(|c| **c == 401).count() + codes.iter().filter(|c| **c == 429).count(), 110);
        assert!(codes.contains(&429));
        assert_eq!(app.token_basic(&victim, &GRANT).await.status(), 200, "the real client still gets tokens");

        clock.advance(time::Duration::seconds(61));
        let settled = eventually(Duration::from_secs(10), || async {
            let events = failures(&app);
            let mine: Vec<_> = events.iter().filter(|(e, _)| e.target.as_deref() == Some(victim.client_id.as_str())).collect();
            (mine.len() == 1 && sum(&mine, "count") == 50).then_some(events)
        })
        .await
        .expect("one event for the real client id, counting all 50 failures");
        let mine: Vec<_> = settled.iter().filter(|(e, _)| e.target.is_some()).collect();
        assert_eq!(sum(&mine, "throttled"), 40, "throttled failures are counted too");
        assert_eq!(mine[0].0.reason.as_deref(), Some("unknown_secret"));
        assert!(mine[0].1["first_at"].as_str().unwrap().ends_with('Z'));
        let anonymous: Vec<_> = settled.iter().filter(|(e, _)| e.actor == "anonymous").collect();
        assert_eq!(anonymous.len(), 1, "random ids from one address: one event");
        assert_eq!(anonymous[0].0.source_addr.as_deref(), Some("127.0.0.1"));
        assert_eq!(sum(&anonymous, "count"), 60);
        assert!(
            gatepass_store::audit::list(&mut app.db().conn().unwrap(), Some("token.throttled"), 10).unwrap().is_empty(),
            "no row per throttled answer"
        );

        // Admins see the counts.
        let admin = crate::admin::admin_token(&app).await;
        let path = format!("/admin/v1/audit-events?action=token.auth_failed&target={}", victim.client_id);
        let (status, page) = crate::admin::call(&app, &admin, reqwest::Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["items"][0]["details"]["count"], 50, "{page}");

        // The next window opens a new event.
        let again = Credentials { client_id: victim.client_id.clone(), secret: fresh_secret() };
        assert_eq!(app.token_basic(&again, &GRANT).await.status(), 401, "a new window, a new budget");
        let reopened = eventually(Duration::from_secs(10), || async {
            let events = failures(&app);
            (events.iter().filter(|(e, _)| e.target.as_deref() == Some(victim.client_id.as_str())).count() == 2).then_some(())
        })
        .await;
        assert!(reopened.is_some());
    }
}

fn failure_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && (l.contains("authentication") || l.contains("refused")))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn public_metrics_do_not_tell_an_unknown_secret_from_a_client_mismatch() {
    let scrape = |app: &TestApp| {
        let request = app.http.get(app.url("/metrics")).send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let mut seen = Vec::new();
    for mismatch in [false, true] {
        let app = spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
        let good = app.seed_client(&ClientSpec::default());
        let other = app.seed_client(&ClientSpec::default());
        let creds = if mismatch {
            Credentials {
                client_id: other.client_id.clone(),
                secret: good.secret.clone(),
            }
        } else {
            Credentials {
                client_id: good.client_id.clone(),
                secret: fresh_secret(),
            }
        };
        assert_eq!(app.token_basic(&creds, &GRANT).await.status(), 401);
        let reason = if mismatch { "client_mismatch" } else { "unknown_secret" };
        assert!(
            app.audit_reason_recorded(reason).await,
            "the reason is in the audit log"
        );
        let text = scrape(&app).await;
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(
            samples.iter().all(|l| !l.contains("reason") && !l.contains(reason)),
            "{text}"
        );
        seen.push(failure_lines(&text));
        assert_eq!(
            app.token_basic(&good, &GRANT).await.status(),
            200,
            "nothing else changed"
        );
    }
    assert_eq!(seen[0], seen[1], "indistinguishable");
    assert!(
        seen[0]
            .iter()
            .any(|l| l.starts_with("gatepass_client_authentication_failures_total"))
    );
}

/// Sends a request head announcing a 1000-byte body, then one byte every 100 ms; the answer
/// and how long it took, or `None` if the connection was still open after 5 s.
fn trickle(app: &TestApp, path: &str, content_type: &str, headers: &str) -> Option<(String, Duration)> {
    use std::io::{Read, Write};
    let address = app.address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{headers}Content-Length: 1000\r\n\r\n"
    )
    .unwrap();
    let started = std::time::Instant::now();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..50 {
            if writer.write_all(b"a").is_err() {
                return;
            }
            // The attack itself: a byte every 100 ms against the server's real I/O deadline.
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    Some((String::from_utf8_lossy(&answer).into_owned(), started.elapsed()))
}

#[tokio::test]
async fn a_trickled_body_is_answered_408_and_closed_on_every_endpoint_that_reads_one() {
    let app = crate::helpers::spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__SERVER__BODY_TIMEOUT_MS", "300")],
    )
    .await;
    let form = "application/x-www-form-urlencoded";
    // The admin API reads a body only for a caller that may write (without a token it answers
    // 401 and closes at once), so the trickle there comes with an admin's token.
    // (Through a client of its own, so no idle keep-alive connection of `app.http` can expire
    // under the requests after the trickles.)
    let boot: serde_json::Value = serde_json::from_slice(&app.cli(&["bootstrap", "--json"]).stdout).unwrap();
    let token: serde_json::Value = crate::helpers::http_client()
        .post(app.url("/oauth2/token"))
        .basic_auth(boot["client_id"].as_str().unwrap(), boot["client_secret"].as_str())
        .form(&GRANT)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = format!("Authorization: Bearer {}\r\n", token["access_token"].as_str().unwrap());
    let before = gatepass_store::clients::ids(&mut app.db().conn().unwrap()).unwrap();
    for (path, content_type, headers) in [
        ("/oauth2/token", form, ""),
        ("/oauth2/introspect", form, ""),
        ("/oauth2/revoke", form, ""),
        ("/admin/v1/clients", "application/json", admin.as_str()),
        ("/console/login", form, ""),
    ] {
        let (answer, took) = trickle(&app, path, content_type, headers).expect("answered and closed, not held open");
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        // The admin API answers in its own problem format; the OAuth endpoints in theirs.
        let media = if path.starts_with("/admin/") {
            "application/problem+json"
        } else {
            "application/json"
        };
        assert!(
            answer.to_ascii_lowercase().contains(&format!("content-type: {media}")),
            "{path}: {answer}"
        );
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{path}: {answer}"
        );
        assert!(took < Duration::from_secs(2), "{path}: {took:?}");
    }
    let clients = gatepass_store::clients::ids(&mut app.db().conn().unwrap()).unwrap();
    assert_eq!(clients, before, "nothing was created");
    let creds = app.seed_client(&ClientSpec::default());
    assert_eq!(
        app.token_basic(&creds, &GRANT).await.status(),
        200,
        "a whole body is still fine"
    );
}

/// A connection from `source` (a loopback address) that has sent `GET /healthz`.
async fn connect_from(app: &TestApp, source: &str) -> std::net::TcpStream {
    use std::io::Write;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let target = app.address.trim_start_matches("http://").parse().unwrap();
    let stream = socket.connect(target).await.unwrap().into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    (&stream)
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
}

/// The status line of the next answer on `stream`, or what went wrong.
fn status_line(stream: &std::net::TcpStream) -> String {
    use std::io::Read;
    let mut buffer = [0u8; 1024];
    match (&*stream).read(&mut buffer) {
        Ok(0) => "closed".to_owned(),
        Ok(n) => String::from_utf8_lossy(&buffer[..n]).into_owned(),
        Err(error) => format!("error: {error}"),
    }
}

#[tokio::test]
async fn connections_over_the_per_address_cap_are_refused_cleanly_and_others_are_served() {
    let app = crate::helpers::spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[
            ("GATEPASS__SERVER__MAX_CONNECTIONS_PER_ADDRESS", "4"),
            ("GATEPASS__SERVER__KEEP_ALIVE_SECONDS", "30"),
        ],
    )
    .await;
    // A proxy-like caller holding the cap's worth of connections.
    let mut held = Vec::new();
    for _ in 0..4 {
        let stream = connect_from(&app, "127.0.0.2").await;
        assert!(status_line(&stream).starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let fifth = connect_from(&app, "127.0.0.2").await;
    let answer = status_line(&fifth);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert!(answer.contains("too many connections"), "{answer}");
    assert_eq!(status_line(&fifth), "closed", "and closed, not held");

    let honest = connect_from(&app, "127.0.0.3").await;
    assert!(
        status_line(&honest).starts_with("HTTP/1.1 200"),
        "another address is served"
    );
    let creds = app.seed_client(&ClientSpec::default());
    assert_eq!(app.token_basic(&creds, &GRANT).await.status(), 200);

    // The held connections still work, and closing one makes room.
    std::io::Write::write_all(&mut &held[0], b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(status_line(&held[0]).starts_with("HTTP/1.1 200"));
    drop(held.pop());
    let again = eventually(Duration::from_secs(5), || async {
        let stream = connect_from(&app, "127.0.0.2").await;
        status_line(&stream).starts_with("HTTP/1.1 200").then_some(stream)
    })
    .await;
    assert!(again.is_some(), "a closed connection gives its place back");
}

#[tokio::test]
async fn token_requests_that_miss_the_cache_are_answered_while_admin_writes_wait_for_a_lock() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    let app = spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
    let admin = crate::admin::admin_token(&app).await;
    let clients: Vec<Credentials> = (0..5).map(|_| app.seed_client(&ClientSpec::default())).collect();
    let mut lock = SqliteConnection::establish(app.database.url.trim_start_matches("sqlite://")).unwrap();
    // Waits its turn if the server is writing right now (usage, keys, audit), as the server's
    // own connections do; without a busy timeout it failed at once with "database is locked".
    lock.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
        .unwrap();

    let writes: Vec<_> = (0..10)
        .map(|i| {
            let request = app
                .http
                .post(app.url("/admin/v1/clients"))
                .bearer_auth(&admin)
                .json(&serde_json::json!({"name": format!("blocked-{i}"), "scopes": ["sites:read"], "audiences": ["https://api.example.com"]}))
                .send();
            tokio::spawn(async move { request.await.map_or(0, |r| r.status().as_u16()) })
        })
        .collect();
    // Wait until the admin writes hold every connection of the shared budget.
    let held = eventually(Duration::from_secs(2), || async {
        let text = app.http.get(app.url("/metrics")).send().await.ok()?.text().await.ok()?;
        let in_use = text
            .lines()
            .find(|l| l.starts_with("gatepass_db_pool_connections{state=\"in_use\"}"))?
            .rsplit(' ')
            .next()?
            .parse::<f64>()
            .ok()?;
        (in_use >= 8.0).then_some(())
    })
    .await;
    assert!(held.is_some(), "the admin writes wait for the lock");
    // Every slot of the shared budget is taken and stays taken until COMMIT: a request that
    // had to wait for one would answer 503 after the acquire timeout, never 200.
    for creds in &clients {
        let status = app.token_basic(creds, &GRANT).await.status();
        assert_eq!(
            status, 200,
            "a token request that misses the cache is answered, from its own budget"
        );
    }
    lock.batch_execute("COMMIT").unwrap();
    let mut created = 0;
    for write in writes {
        let status = write.await.unwrap();
        assert!(status == 201 || status == 503, "{status}");
        created += usize::from(status == 201);
    }
    let names: Vec<String> = gatepass_store::clients::list(
        &mut app.db().conn().unwrap(),
        &gatepass_store::clients::ClientFilter::default(),
        1000,
    )
    .unwrap()
    .into_iter()
    .map(|c| c.name)
    .filter(|n| n.starts_with("blocked-"))
    .collect();
    assert_eq!(names.len(), created, "only the answered writes happened");
}

gatepass_store::both_backends! {
    async fn exports_stream_every_row_once_across_pages_and_neutralise_csv_formulas(backend) {
        use gatepass_store::audit::AuditEventRow;
        use gatepass_store::clients::ClientRow;
        use gatepass_store::secrets::SecretRow;

        let app = spawn_app(backend).await;
        let admin = crate::admin::admin_token(&app).await;
        let rows = 1_100; // more than two pages of 500
        let now = crate::helpers::now();
        let mut conn = app.db().conn().unwrap();
        gatepass_store::transaction(&mut conn, |conn| {
            for i in 0..rows {
                let client_id = ClientId::generate().to_string();
                let name = if i == 7 { "=HYPERLINK(\"http://x\")".to_owned() } else { format!("bulk-{i}") };
                gatepass_store::clients::insert(conn, &ClientRow {
                    client_id: client_id.clone(), name, service_account_id: None, scopes: "sites:read".into(),
                    audiences: "https://api.example.com".into(), labels: "{}".into(), token_ttl_seconds: None,
                    disabled: false, expires_at: None, created_at: now, updated_at: now, last_used_at: None,
                })?;
                gatepass_store::secrets::insert(conn, &SecretRow {
                    id: uuid::Uuid::now_v7().to_string(), client_id: client_id.clone(), secret_hash: uuid::Uuid::new_v4().as_bytes().repeat(2),
                    key_prefix: "gps_bulkbulk".into(), label: None, created_at: now, expires_at: None, revoked_at: None,
                    last_used_at: None, use_count: 0,
                })?;
                gatepass_store::audit::append(conn, &[AuditEventRow {
                    id: uuid::Uuid::now_v7().to_string(), occurred_at: now, actor: "cli".into(), action: "bulk".into(),
                    target: Some(client_id), outcome: "success".into(), reason: None, request_id: None, source_addr: None, details: None,
                }])?;
            }
            Ok::<(), gatepass_store::StoreError>(())
        })
        .unwrap();

        for (path, field) in [("/admin/v1/export/clients", "client_id"), ("/admin/v1/export/secrets", "id"), ("/admin/v1/export/audit-events", "id")] {
            let response = app.http.get(app.url(path)).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.headers()["content-type"], "application/json");
            let items: Vec<Value> = response.json().await.unwrap();
            let ids: std::collections::HashSet<&str> = items.iter().map(|i| i[field].as_str().unwrap()).collect();
            assert_eq!(ids.len(), items.len(), "{path}: every row once");
            assert!(items.len() >= rows, "{path}: {} of at least {rows}", items.len());
        }

        let csv = app.http.get(app.url("/admin/v1/export/clients")).bearer_auth(&admin).header("accept", "text/csv").send().await.unwrap();
        assert_eq!(csv.status(), 200);
        let text = csv.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
        assert!(names.len() > rows, "every row, one header: {}", names.len());
        assert!(names.contains(&"'=HYPERLINK(\"http://x\")".to_owned()), "the formula is neutralised");
        assert!(!names.iter().any(|n| n.starts_with('=')));
        assert_eq!(text.lines().filter(|l| l.starts_with("client_id,")).count(), 1, "one header row");
        let stored = gatepass_store::clients::list(&mut app.db().conn().unwrap(), &gatepass_store::clients::ClientFilter::default(), 10_000).unwrap();
        assert!(stored.iter().any(|c| c.name == "=HYPERLINK(\"http://x\")"), "the stored name is unchanged");
    }
}

#[tokio::test]
async fn data_files_are_created_private_and_loose_ones_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let fresh = root.path().join("fresh/data");
    let app = crate::helpers::spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__DATA_DIR", fresh.to_str().unwrap())],
    )
    .await;
    assert_eq!(mode(&fresh), 0o700, "data directory");
    let db = std::path::PathBuf::from(app.database.url.trim_start_matches("sqlite://"));
    let creds = app.seed_client(&ClientSpec::default());
    assert_eq!(app.token_basic(&creds, &GRANT).await.status(), 200);
    assert_eq!(mode(&db), 0o600, "database file");
    for suffix in ["-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert!(side.exists(), "{suffix} exists in WAL mode");
        assert_eq!(mode(&side), 0o600, "{suffix}");
    }
    let log = app.server_log();
    assert!(!log.contains(&format!("{} has mode", fresh.display())), "{log}");
    assert!(!log.contains("database file"), "{log}");

    let loose = root.path().join("loose");
    std::fs::create_dir(&loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).unwrap();
    let app = crate::helpers::spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__DATA_DIR", loose.to_str().unwrap())],
    )
    .await;
    let warned = eventually(Duration::from_secs(5), || async {
        app.server_log()
            .contains("has mode 755: group or others may read it")
            .then_some(())
    })
    .await;
    assert!(warned.is_some(), "{}", app.server_log());
    assert_eq!(mode(&loose), 0o755, "an existing directory is left as it is");
}

#[tokio::test]
async fn readyz_reports_a_database_that_takes_no_writes_and_tokens_keep_flowing() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    let app = spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
    let creds = app.seed_client(&ClientSpec::default());
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["database_writable"], true, "{ready}");
    assert_eq!(ready["status"], "ready");
    // A write lock held elsewhere: reads work, writes fail (a real full disk: the test below).
    let mut lock = SqliteConnection::establish(app.database.url.trim_start_matches("sqlite://")).unwrap();
    // Waits its turn if the server is writing right now (usage, keys, audit), as the server's
    // own connections do; without a busy timeout it failed at once with "database is locked".
    lock.batch_execute("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
        .unwrap();
    let degraded = eventually(Duration::from_secs(15), || async {
        let response = app.http.get(app.url("/readyz")).send().await.ok()?;
        let status = response.status();
        let body: Value = response.json().await.ok()?;
        (body["database_writable"] == false).then_some((status, body))
    })
    .await
    .expect("readyz says the database takes no writes");
    assert_eq!(degraded.0, 200, "still ready for tokens");
    assert_eq!(degraded.1["status"], "degraded");
    assert_eq!(
        app.token_basic(&creds, &GRANT).await.status(),
        200,
        "tokens keep flowing"
    );
    lock.batch_execute("ROLLBACK").unwrap();
    let recovered = eventually(Duration::from_secs(15), || async {
        let body = app.get_json("/readyz").await;
        (body["database_writable"] == true).then_some(())
    })
    .await;
    assert!(recovered.is_some(), "recovers without a restart");
}

/// A tmpfs mounted on a directory for the life of the value: a real disk that fills up.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts `size` of tmpfs on `dir` (needs root or `CAP_SYS_ADMIN`). `None`, with a
    /// message, where this process may not mount; under `CI=true` that fails instead.
    fn mount(dir: &std::path::Path, size: &str) -> Option<Self> {
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(Self(dir.to_owned())),
            other => {
                let why = match other {
                    Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                    Err(error) => error.to_string(),
                };
                assert_ne!(
                    std::env::var("CI").as_deref(),
                    Ok("true"),
                    "CI=true and `mount -t tmpfs` failed ({why}): the full-disk test must run (as root)"
                );
                eprintln!("SKIPPED: cannot mount a tmpfs ({why}); the full-disk test needs root");
                None
            }
        }
    }

    /// Writes zeros to `name` until the filesystem refuses with ENOSPC.
    fn fill(&self, name: &str) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.0.join(name)).unwrap();
        let mut chunk = vec![0_u8; 1 << 20];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(error) if error.raw_os_error() == Some(28) && chunk.len() > 1 => {
                    let half = chunk.len() / 2;
                    chunk.truncate(half);
                }
                Err(error) => {
                    assert_eq!(error.raw_os_error(), Some(28), "ENOSPC, not {error}");
                    break;
                }
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: the server of the test may still hold files on it.
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn with_the_data_disk_full_tokens_keep_flowing_writes_answer_503_and_space_returning_recovers() {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    let database = std::sync::Arc::new(
        gatepass_store::testing::TestDatabase::create(gatepass_store::testing::TestBackend::Sqlite).unwrap(),
    );
    let disk_dir = database.dir().unwrap().to_owned();
    let Some(disk) = Tmpfs::mount(&disk_dir, "16m") else {
        return;
    };
    // The database and the data directory both live on the small disk.
    let data_dir = disk_dir.join("data");
    let app = crate::helpers::spawn_node(&database, &[("GATEPASS__DATA_DIR", data_dir.to_str().unwrap())]);
    let admin = crate::admin::admin_token(&app).await;
    let cached = app.seed_client(&ClientSpec::default());
    let readable = app.seed_client(&ClientSpec::default());
    assert_eq!(app.token_basic(&cached, &GRANT).await.status(), 200);
    assert_eq!(app.get_json("/readyz").await["database_writable"], true);

    // Empty the write-ahead log, so the next write must grow a file, then fill the disk.
    let mut conn = SqliteConnection::establish(database.url.trim_start_matches("sqlite://")).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    disk.fill("filler");

    let degraded = eventually(Duration::from_secs(15), || async {
        let response = app.http.get(app.url("/readyz")).send().await.ok()?;
        let status = response.status();
        let body: Value = response.json().await.ok()?;
        (body["database_writable"] == false).then_some((status, body))
    })
    .await
    .unwrap_or_else(|| panic!("readyz says the database takes no writes\n{}", app.server_log()));
    assert_eq!(degraded.0, 200, "still ready for tokens: {}", degraded.1);
    assert_eq!(degraded.1["status"], "degraded");

    for (who, creds) in [("a cached credential", &cached), ("a credential read now", &readable)] {
        let response = app.token_basic(creds, &GRANT).await;
        assert_eq!(response.status(), 200, "{who} gets a token on a full disk");
    }

    let (status, problem) = crate::admin::call(
        &app,
        &admin,
        reqwest::Method::POST,
        "/admin/v1/service-accounts",
        Some(serde_json::json!({"name": "written-on-a-full-disk"})),
    )
    .await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(problem["status"], 503);
    assert!(
        problem["detail"].as_str().unwrap().contains("retry"),
        "a clear problem: {problem}"
    );

    std::fs::remove_file(disk_dir.join("filler")).unwrap();
    let recovered = eventually(Duration::from_secs(15), || async {
        let body = app.get_json("/readyz").await;
        (body["database_writable"] == true && body["status"] == "ready").then_some(())
    })
    .await;
    assert!(recovered.is_some(), "recovers without a restart\n{}", app.server_log());
    let (status, created) = crate::admin::call(
        &app,
        &admin,
        reqwest::Method::POST,
        "/admin/v1/service-accounts",
        Some(serde_json::json!({"name": "written-after-space-returned"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    drop(app);
}

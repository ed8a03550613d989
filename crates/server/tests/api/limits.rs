//! Abuse limits over real HTTP: failed-authentication rate limits (and a good client they never
//! touch), size limits, request ids on error answers, graceful shutdown.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{
    ClientSpec, Credentials, TestApp, eventually, fresh_secret, spawn_app, spawn_app_with, spawn_with_clock_and,
};

const GRANT: [(&str, &str); 1] = [("grant_type", "client_credentials")];

async fn status(app: &TestApp, creds: &Credentials) -> (u16, Option<String>, Value) {
    let response = app.token_basic(creds, &GRANT).await;
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.json().await.unwrap_or(Value::Null))
}

gatepass_store::both_backends! {
    async fn failed_authentication_is_limited_per_client_id_and_never_stops_a_valid_caller(backend) {
        let (app, clock) = spawn_with_clock_and(
            backend,
            "[limits]\nfailed_auth_per_client = 3\nfailed_auth_per_address = 0\nfailed_auth_window_seconds = 2\n",
        ).await;
        let victim = app.seed_client(&ClientSpec::default());
        let bystander = app.seed_client(&ClientSpec::default());
        let attacker = Credentials { client_id: victim.client_id.clone(), secret: fresh_secret() };
        for _ in 0..3 {
            assert_eq!(status(&app, &attacker).await.0, 401);
        }
        let (code, retry, body) = status(&app, &attacker).await;
        assert_eq!(code, 429, "the fourth failure in the window");
        assert_eq!(body["error"], "temporarily_unavailable");
        let retry: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!((1..=2).contains(&retry), "{retry}");

        assert_eq!(status(&app, &victim).await.0, 200, "the real client is never locked out");
        assert_eq!(app.token_post(&victim, &GRANT).await.status(), 200);
        assert_eq!(status(&app, &bystander).await.0, 200, "nor is anyone else");
        let stranger = Credentials { client_id: bystander.client_id.clone(), secret: fresh_secret() };
        assert_eq!(status(&app, &stranger).await.0, 401, "another client id has its own budget");

        clock.advance(time::Duration::milliseconds(1900));
        assert_eq!(status(&app, &attacker).await.0, 429, "still the same window");
        clock.advance(time::Duration::milliseconds(200));
        assert_eq!(status(&app, &attacker).await.0, 401, "a new window after the old one ends");

        // One aggregated event per window: 5 failures (2 throttled), then 1 in the next.
        let counted = crate::helpers::eventually(Duration::from_secs(10), || async {
            let events = gatepass_store::audit::list(&mut app.db().conn().unwrap(), Some("token.auth_failed"), 100).unwrap();
            let mine: Vec<_> = events.iter().filter(|e| e.target.as_deref() == Some(victim.client_id.as_str())).collect();
            let details: Vec<Value> = mine.iter().map(|e| serde_json::from_str(e.details.as_deref().unwrap()).unwrap()).collect();
            let sum = |field: &str| details.iter().map(|d| d[field].as_u64().unwrap()).sum::<u64>();
            (mine.len() == 2 && sum("count") == 6).then(|| (sum("throttled"), mine[0].reason.clone()))
        }).await;
        assert_eq!(counted, Some((2, Some("unknown_secret".into()))), "audited with the real reason, every failure counted");
    }
}

#[tokio::test]
async fn failures_are_limited_per_address_across_client_ids() {
    let app = spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[
            ("GATEPASS__LIMITS__FAILED_AUTH_PER_CLIENT", "0"),
            ("GATEPASS__LIMITS__FAILED_AUTH_PER_ADDRESS", "5"),
        ],
    )
    .await;
    let good = app.seed_client(&ClientSpec::default());
    let mut codes = Vec::new();
    for _ in 0..7 {
        let guess = Credentials {
            client_id: gatepass_core::ClientId::generate().to_string(),
            secret: fresh_secret(),
        };
        codes.push(status(&app, &guess).await.0);
    }
    assert_eq!(codes, [401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(
        status(&app, &good).await.0,
        200,
        "valid credentials from that address still work"
    );
}

fn raw(app: &TestApp, request: &[u8]) -> String {
    let address = app.address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn oversized_requests_are_refused_with_413_414_431_and_a_request_id() {
    let app = spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
    let creds = app.seed_client(&ClientSpec::default());
    let body = format!("grant_type=client_credentials&scope={}", "a".repeat(70_000));
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&creds.client_id, Some(&creds.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert!(response.headers().contains_key("x-request-id"));

    let long_url = format!("/healthz?{}", "a".repeat(9_000));
    let response = app.http.get(app.url(&long_url)).send().await.unwrap();
    assert_eq!(response.status(), 414);
    assert!(response.headers().contains_key("x-request-id"));

    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-padding", "a".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_request");

    let headers = "X-Padding: a\r\n".repeat(150);
    let many = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
    assert!(
        raw(&app, many.as_bytes()).starts_with("HTTP/1.1 431"),
        "more headers than the parser takes"
    );

    // Every error answer names its request, and echoes a caller's plain id.
    for (method, path) in [
        ("GET", "/nowhere"),
        ("GET", "/oauth2/token"),
        ("POST", "/admin/v1/clients"),
    ] {
        let response = app
            .http
            .request(method.parse().unwrap(), app.url(path))
            .header("x-request-id", "trace-42")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{method} {path}");
        assert_eq!(response.headers()["x-request-id"], "trace-42", "{method} {path}");
    }
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_disconnected_after_the_request_timeout() {
    let app = spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__SERVER__REQUEST_TIMEOUT_MS", "300")],
    )
    .await;
    let started = std::time::Instant::now();
    let answer = raw(&app, b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\n");
    assert!(started.elapsed() < Duration::from_secs(5), "not held open");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
}

gatepass_store::both_backends! {
    async fn sigterm_finishes_the_request_in_flight_and_loses_no_count(backend) {
        let mut app = spawn_app_with(backend, &[("GATEPASS__TOKENS__USAGE_FLUSH_INTERVAL_MS", "60000")]).await;
        let creds = app.seed_client(&ClientSpec::default());
        for _ in 0..3 {
            assert_eq!(status(&app, &creds).await.0, 200);
        }
        // A request the server has certainly begun: it asks for the body with `Expect:
        // 100-continue`, and the server answers 100 once its handler starts reading it. Then
        // SIGTERM, and only then the body.
        let body = format!("grant_type=client_credentials&client_id={}&client_secret={}", creds.client_id, creds.secret);
        let address = app.address.trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(stream, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n", body.len()).unwrap();
        assert!(read_response(&mut stream).starts_with("HTTP/1.1 100"), "the server waits for the body");
        app.signal("TERM");
        let closed = eventually(Duration::from_secs(10), || async {
            std::net::TcpStream::connect(&address).is_err().then_some(())
        }).await;
        assert!(closed.is_some(), "no new connections once stopping");
        stream.write_all(body.as_bytes()).unwrap();
        assert!(read_response(&mut stream).starts_with("HTTP/1.1 200"), "the request in flight finished");
        drop(stream);
        assert!(app.stop().success(), "exit 0");
        let mut conn = app.db().conn().unwrap();
        let secret = gatepass_store::secrets::list_for_client(&mut conn, &creds.client_id).unwrap().remove(0);
        assert_eq!(secret.use_count, 4, "every token counted, the one in flight too");
    }
}

#[tokio::test]
async fn sigint_right_after_start_stops_the_server_cleanly_too() {
    let mut app = spawn_app(gatepass_store::testing::TestBackend::Sqlite).await;
    app.signal("INT");
    let status = app.wait();
    assert!(status.success(), "{status:?}\n{}", app.server_log());
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let app = spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[
            ("GATEPASS__SERVER__WORKERS", "1"),
            ("GATEPASS__SERVER__MAX_CONNECTIONS", "2"),
            ("GATEPASS__SERVER__KEEP_ALIVE_SECONDS", "30"),
        ],
    )
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let open = |address: &str| {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
        stream.write_all(request).unwrap();
        stream
    };
    let answered = |stream: &mut std::net::TcpStream| {
        let mut buffer = [0u8; 12];
        stream
            .read(&mut buffer)
            .is_ok_and(|n| buffer[..n].starts_with(b"HTTP/1.1 200"))
    };
    let (mut first, mut second) = (open(&address), open(&address));
    assert!(
        answered(&mut first) && answered(&mut second),
        "two connections are served and kept alive"
    );
    let mut third = open(&address);
    assert!(!answered(&mut third), "a third waits while two are open");
    drop(first);
    third.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(answered(&mut third), "and is served once one closes");
    drop(second);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout() {
    let app = spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__SERVER__KEEP_ALIVE_SECONDS", "1")],
    )
    .await;
    let mut stream = std::net::TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buffer = [0u8; 4096];
    let read = stream.read(&mut buffer).unwrap();
    assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
    let started = std::time::Instant::now();
    let closed = stream.read(&mut buffer).unwrap();
    assert_eq!(closed, 0, "the server closed the idle connection");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "after about a second, not never"
    );
}

/// One HTTP/1.1 response read off `stream`: the head, then `Content-Length` bytes of body.
fn read_response(stream: &mut std::net::TcpStream) -> String {
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        answer.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&answer).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

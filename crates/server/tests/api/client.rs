//! The token source against a real Gatepass.

use std::time::{Duration, Instant};

use gatepass_client::{TokenError, TokenSource};
use gatepass_store::testing::TestBackend;

use crate::helpers::{ClientSpec, TestApp, fresh_secret, spawn_app, spawn_with_clock};

/// `gatepass_tokens_refused_total` for one error code, read from `/metrics`.
async fn refusals(app: &TestApp, error: &str) -> u32 {
    app.get_text("/metrics")
        .await
        .lines()
        .filter(|line| line.starts_with("gatepass_tokens_refused_total{") && line.contains(&format!("\"{error}\"")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u32>().ok())
        .sum()
}

#[tokio::test]
async fn many_concurrent_callers_cause_one_token_request() {
    let mut app = spawn_app(TestBackend::Sqlite).await;
    let creds = app.seed_client(&ClientSpec::default());
    let source = TokenSource::new(app.url("/oauth2/token"), &creds.client_id, &creds.secret).with_scope("sites:read");
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let source = source.clone();
        callers.spawn(async move { source.token().await.unwrap() });
    }
    let mut tokens = Vec::new();
    while let Some(token) = callers.join_next().await {
        tokens.push(token.unwrap());
    }
    assert!(
        tokens.windows(2).all(|pair| pair[0] == pair[1]),
        "every caller got the same token"
    );
    // The server's own usage count agrees: one token was issued.
    assert!(app.stop().success());
    let mut conn = app.db().conn().unwrap();
    assert_eq!(
        gatepass_store::secrets::list_for_client(&mut conn, &creds.client_id).unwrap()[0].use_count,
        1
    );
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let (app, clock) = spawn_with_clock(TestBackend::Sqlite).await;
    let creds = app.seed_client(&ClientSpec {
        token_ttl: Some(60),
        ..ClientSpec::default()
    });
    let source = TokenSource::new(app.url("/oauth2/token"), &creds.client_id, &creds.secret)
        .with_refresh_margin(Duration::from_secs(58))
        .with_clock(clock.clone());
    let first = source.token().await.unwrap();
    assert_eq!(source.token().await.unwrap(), first, "cached while fresh");
    clock.advance(time::Duration::seconds(1));
    assert_eq!(source.token().await.unwrap(), first, "still cached 1 s later");
    clock.advance(time::Duration::seconds(1));
    assert_ne!(
        source.token().await.unwrap(),
        first,
        "renewed inside the refresh margin, before exp"
    );
}

#[tokio::test]
async fn invalid_client_is_an_error_without_retries() {
    let app = spawn_app(TestBackend::Sqlite).await;
    let creds = app.seed_client(&ClientSpec::default());
    let source = TokenSource::new(app.url("/oauth2/token"), &creds.client_id, fresh_secret())
        .with_retries(5, Duration::from_millis(10));
    let error = source.token().await.unwrap_err();
    assert_eq!(
        refusals(&app, "invalid_client").await,
        1,
        "a 4xx is asked once, never retried"
    );
    match error {
        TokenError::Refused { status, error, .. } => assert_eq!((status, error.as_str()), (401, "invalid_client")),
        other @ TokenError::Unavailable { .. } => panic!("{other}"),
    }
    let scope =
        TokenSource::new(app.url("/oauth2/token"), &creds.client_id, &creds.secret).with_scope("gatepass:admin");
    assert!(
        matches!(scope.token().await, Err(TokenError::Refused { status: 400, ref error, .. }) if error == "invalid_scope")
    );
}

#[tokio::test]
async fn network_errors_are_retried_with_backoff_then_reported() {
    let source = TokenSource::new("http://127.0.0.1:9/oauth2/token", "gpc_x", "gps_x")
        .with_retries(3, Duration::from_millis(100));
    let started = Instant::now();
    let error = source.token().await.unwrap_err();
    assert!(matches!(error, TokenError::Unavailable { attempts: 3, .. }), "{error}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "backed off 100 ms then 200 ms"
    );
}

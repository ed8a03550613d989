//! `/metrics` read by a Prometheus text parser, JSON logs with request ids, and nothing
//! secret in the logs.

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use serde_json::Value;

use crate::helpers::{ClientSpec, Credentials, TestApp, fresh_secret, spawn_app, spawn_app_with};

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

async fn scrape(app: &TestApp, base: &str) -> Exposition {
    let response = app.http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    parse_prometheus(&response.text().await.unwrap()).expect("Prometheus text format")
}

/// The value of the sample of `family` with exactly these label values (in label-name order).
fn value(metrics: &Exposition, family: &str, labels: &[&str]) -> Option<f64> {
    let family = metrics.families.get(family)?;
    let labels: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
    match &family.get_sample_by_label_values(&labels)?.value {
        PrometheusValue::Counter(counter) => Some(counter.value.as_f64()),
        PrometheusValue::Gauge(number) | PrometheusValue::Unknown(number) => Some(number.as_f64()),
        PrometheusValue::Histogram(histogram) => histogram.count.and_then(|c| u32::try_from(c).ok()).map(f64::from),
        PrometheusValue::Summary(_) => None,
    }
}

gatepass_store::both_backends! {
    async fn metrics_count_tokens_refusals_latency_pool_and_keys(backend) {
        let app = spawn_app(backend).await;
        let creds = app.seed_client(&ClientSpec::default());
        let grant = [("grant_type", "client_credentials")];
        for _ in 0..3 {
            assert_eq!(app.token_basic(&creds, &grant).await.status(), 200);
        }
        let wrong = Credentials { client_id: creds.client_id.clone(), secret: fresh_secret() };
        assert_eq!(app.token_basic(&wrong, &grant).await.status(), 401);
        assert_eq!(app.token_basic(&creds, &[("grant_type", "password")]).await.status(), 400);

        let metrics = scrape(&app, &app.address).await;
        assert_eq!(value(&metrics, "gatepass_tokens_issued_total", &[]), Some(3.0));
        assert_eq!(value(&metrics, "gatepass_tokens_refused_total", &["invalid_client"]), Some(1.0));
        assert_eq!(value(&metrics, "gatepass_tokens_refused_total", &["unsupported_grant_type"]), Some(1.0));
        assert_eq!(value(&metrics, "gatepass_client_authentication_failures_total", &["false"]), Some(1.0));
        // One keyed hash per request that presents a secret, on a cache miss (the first) as on
        // a hit; none for the refused grant type, which is judged before the secret is looked at.
        assert_eq!(value(&metrics, "gatepass_client_secret_checks_total", &[]), Some(4.0));
        let family = &metrics.families["gatepass_http_request_duration_seconds"];
        assert_eq!(family.family_type, PrometheusType::Histogram);
        assert_eq!(value(&metrics, "gatepass_http_request_duration_seconds", &["POST", "/oauth2/token", "200"]), Some(3.0));
        assert_eq!(value(&metrics, "gatepass_signing_keys", &["active"]), Some(1.0));
        assert_eq!(value(&metrics, "gatepass_signing_keys", &["pending"]), Some(0.0));
        assert!(value(&metrics, "gatepass_db_pool_max_connections", &[]).is_some_and(|max| max >= 1.0));
        assert!(value(&metrics, "gatepass_db_pool_connections", &["idle"]).is_some());
        assert_eq!(value(&metrics, "gatepass_audit_events_dropped_total", &[]), Some(0.0));
    }
}

#[tokio::test]
async fn metrics_live_on_the_admin_listener_when_there_is_one() {
    let app = spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__SERVER__ADMIN_BIND", "127.0.0.1:0")],
    )
    .await;
    let public = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let admin = app.admin_address.clone().unwrap();
    assert!(
        scrape(&app, &admin)
            .await
            .families
            .contains_key("gatepass_tokens_issued_total")
    );
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_never_a_secret_or_token() {
    let app = spawn_app_with(
        gatepass_store::testing::TestBackend::Sqlite,
        &[("GATEPASS__LOG__FORMAT", "json")],
    )
    .await;
    let creds = app.seed_client(&ClientSpec::default());
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .header("x-request-id", "trace-json-1")
        .basic_auth(&creds.client_id, Some(&creds.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = fresh_secret();
    let response = app
        .http
        .post(app.url("/oauth2/token"))
        .header("x-request-id", "trace-json-2")
        .basic_auth(&creds.client_id, Some(&wrong))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let found = crate::helpers::eventually(std::time::Duration::from_secs(5), || async {
        let log = app.server_log();
        let lines: Vec<Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect();
        let of = |id: &str| {
            lines
                .iter()
                .filter(|l| l["request_id"] == id)
                .map(|l| l["message"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let (first, second) = (of("trace-json-1"), of("trace-json-2"));
        (first.iter().any(|m| m.starts_with("token issued"))
            && second.iter().any(|m| m.contains("reason=unknown_secret")))
        .then_some(lines)
    })
    .await
    .expect("the token request's lines carry its request id");
    assert!(
        found
            .iter()
            .all(|l| l["time"].is_string() && l["level"].is_string() && l["target"].is_string())
    );
    let log = app.server_log();
    for secret in [creds.secret.as_str(), wrong.as_str(), token.as_str()] {
        assert!(!log.contains(secret), "a secret or token reached the log");
    }
}

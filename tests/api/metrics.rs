//! `GET /metrics`: off by default, behind its own token when on, and counting by route pattern.

use std::collections::HashSet;

use municipal_kpi::db::DatabaseSettings;
use municipal_kpi::metrics::MetricsEndpoint;
use municipal_kpi::startup::ServerSettings;

use crate::helpers::{Backend, TestApp, assert_problem, spawn_app, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    metrics_are_off_by_default,
    metrics_need_their_own_token,
    metrics_count_requests_by_route_pattern_and_show_the_pools,
    metrics_show_what_the_caches_keep_and_the_heap,
);

const METRICS_TOKEN: &str = "metrics-token-for-the-integration-tests";

async fn spawn_with_metrics(backend: Backend) -> TestApp {
    let server = ServerSettings {
        metrics_endpoint: MetricsEndpoint::from_settings(true, Some(METRICS_TOKEN)).expect("valid token"),
        ..ServerSettings::default()
    };
    spawn_app_with(backend, DatabaseSettings::default(), server).await
}

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

/// One sample of the text exposition format: `name{labels} value`.
struct Sample {
    name: String,
    labels: String,
    value: f64,
}

/// Parses the exposition text, failing on any line that is not a comment or a valid sample and
/// on a sample whose family has no `# TYPE` line before it.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut typed = HashSet::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => {
                assert!(labels.ends_with('}'), "{line}");
                (name, labels.trim_end_matches('}'))
            }
            None => (series, ""),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "{line}"
        );
        let family = ["_bucket", "_sum", "_count"].iter().find_map(|suffix| name.strip_suffix(suffix)).unwrap_or(name);
        assert!(typed.contains(name) || typed.contains(family), "no TYPE before {line}");
        samples.push(Sample { name: name.to_owned(), labels: labels.to_owned(), value });
    }
    samples
}

fn value_of(samples: &[Sample], name: &str, labels: &str) -> Option<f64> {
    samples.iter().find(|s| s.name == name && s.labels == labels).map(|s| s.value)
}

async fn metrics_are_off_by_default(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_problem(scrape(&app, None).await, 401).await;
    assert_problem(scrape(&app, Some(METRICS_TOKEN)).await, 404).await;
}

async fn metrics_need_their_own_token(backend: Backend) {
    let app = spawn_with_metrics(backend).await;
    assert_problem(scrape(&app, None).await, 401).await;
    assert_problem(scrape(&app, Some("metrics-token-for-the-integration-testz")).await, 401).await;
    // An API token is not the metrics token.
    assert_problem(scrape(&app, Some(&app.admin.token)).await, 401).await;
}

async fn metrics_count_requests_by_route_pattern_and_show_the_pools(backend: Backend) {
    let app = spawn_with_metrics(backend).await;
    for id in [424242, 434343] {
        assert_problem(app.get(&format!("/plans/{id}"), &app.viewer).await, 404).await;
    }
    assert_eq!(app.get("/plans", &app.viewer).await.status(), 200);

    let response = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    let samples = parse_exposition(&text);

    let requests = "municipal_kpi_http_requests_total";
    assert_eq!(
        value_of(&samples, requests, r#"method="GET",route="/api/v1/plans/{id}",status="404""#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(value_of(&samples, requests, r#"method="GET",route="/api/v1/plans",status="200""#), Some(1.0), "{text}");
    assert!(!text.contains("424242"), "raw paths are never labels");
    let latency = "municipal_kpi_http_request_duration_seconds_count";
    assert_eq!(value_of(&samples, latency, r#"method="GET",route="/api/v1/plans/{id}""#), Some(2.0));
    for pool in ["read", "write"] {
        let idle = value_of(&samples, "municipal_kpi_db_connections", &format!(r#"pool="{pool}",state="idle""#));
        assert!(idle.is_some_and(|idle| idle >= 0.0), "{pool}: {text}");
        assert_eq!(value_of(&samples, "municipal_kpi_db_waiting", &format!(r#"pool="{pool}""#)), Some(0.0), "{text}");
        // Each of the three requests above ran at least its caller's statement on the read pool.
        let statements = value_of(&samples, "municipal_kpi_db_statements_total", &format!(r#"pool="{pool}""#));
        let least = if pool == "read" { 3.0 } else { 0.0 };
        assert!(statements.is_some_and(|count| count >= least), "{pool}: {text}");
    }

    // The scrape itself is counted by the next one.
    let again = parse_exposition(&scrape(&app, Some(METRICS_TOKEN)).await.text().await.unwrap());
    assert_eq!(value_of(&again, requests, r#"method="GET",route="/metrics",status="200""#), Some(1.0));
}

async fn metrics_show_what_the_caches_keep_and_the_heap(backend: Backend) {
    let app = spawn_with_metrics(backend).await;
    let plan = municipal_kpi::demo::ensure_loaded(&app.db, true).expect("demo loads").plan_id();
    let gauges = |samples: &[Sample]| {
        let of = |name: &str, labels: &str| value_of(samples, name, labels);
        (
            of("municipal_kpi_cache_entries", r#"cache="responses""#),
            of("municipal_kpi_cache_size", r#"cache="responses",unit="bytes""#),
            of("municipal_kpi_cache_entries", r#"cache="plan_records""#),
            of("municipal_kpi_cache_size", r#"cache="plan_records",unit="records""#),
        )
    };
    let before = parse_exposition(&scrape(&app, Some(METRICS_TOKEN)).await.text().await.unwrap());
    assert_eq!(gauges(&before), (Some(0.0), Some(0.0), Some(0.0), Some(0.0)));

    let evaluation = app.get(&format!("/plans/{plan}/evaluation?fiscal_year=2020"), &app.hq).await;
    assert_eq!(evaluation.status(), 200);
    let body = evaluation.bytes().await.unwrap();
    let text = scrape(&app, Some(METRICS_TOKEN)).await.text().await.unwrap();
    let after = parse_exposition(&text);
    let (answers, bytes, plan_years, records) = gauges(&after);
    assert_eq!((answers, bytes, plan_years), (Some(1.0), Some(body.len() as f64), Some(1.0)), "{text}");
    assert!(records.is_some_and(|records| records > 50.0), "the demo plan's goals, measures, indicators…: {text}");
    if cfg!(target_env = "gnu") {
        let in_use = value_of(&after, "municipal_kpi_heap_bytes", r#"state="in_use""#);
        assert!(in_use.is_some_and(|bytes| bytes > body.len() as f64), "{text}");
        assert!(value_of(&after, "municipal_kpi_heap_bytes", r#"state="free""#).is_some(), "{text}");
    }
}

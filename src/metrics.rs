//! Operational metrics in the Prometheus text exposition format (version 0.0.4).
//!
//! [`Metrics`] is the registry: the server records every answered request in it by route
//! pattern (never the raw path, so the number of series stays bounded by the route table), and
//! other parts of the application register their own counters ([`Metrics::counter`]), e.g. an
//! evaluation cache counting its hits. It is a cheap handle passed in [`crate::startup::ServerSettings`],
//! not a global, so each test server has its own.
//!
//! `GET /metrics` is off by default ([`MetricsEndpoint`]); the pool figures are read from the
//! database when a scrape asks for them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::db::PoolStatus;
use crate::error::AppError;

/// The content type of the text exposition format.
pub const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Shortest accepted `METRICS_TOKEN`, in bytes (as for `JWT_SECRET`).
pub const MIN_TOKEN_BYTES: usize = 32;

/// Upper bounds of the latency histogram, in seconds: from a cached read to a bulk import.
pub const LATENCY_BUCKETS_SECONDS: [f64; 12] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The route label of a request that matched no route: unknown paths share one series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Methods recorded by name; any other (actix accepts arbitrary tokens) is recorded as `OTHER`.
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Whether `GET /metrics` answers, and the bearer token it requires.
///
/// The endpoint shares the API's listener, so whoever reaches the API reaches it: route usage and
/// pool sizes describe the installation and are not public. A scraper cannot hold the API's
/// short-lived JWTs, hence a static token of its own (Prometheus `authorization.credentials_file`).
#[derive(Clone, Default)]
pub enum MetricsEndpoint {
    /// `/metrics` answers 404 like an unknown path.
    #[default]
    Off,
    /// `/metrics` answers to `Authorization: Bearer <token>`; only the token's digest is kept.
    On { token_digest: [u8; 32] },
}

impl MetricsEndpoint {
    /// From `METRICS_ENABLED` and `METRICS_TOKEN`: enabled needs a token of at least
    /// [`MIN_TOKEN_BYTES`] bytes.
    pub fn from_settings(enabled: bool, token: Option<&str>) -> Result<Self, AppError> {
        if !enabled {
            return Ok(Self::Off);
        }
        match token {
            Some(token) if token.len() >= MIN_TOKEN_BYTES => Ok(Self::On { token_digest: digest(token) }),
            Some(_) => Err(AppError::Config(format!("METRICS_TOKEN must be at least {MIN_TOKEN_BYTES} bytes"))),
            None => Err(AppError::Config(format!(
                "METRICS_ENABLED=true needs METRICS_TOKEN (at least {MIN_TOKEN_BYTES} bytes): /metrics is served on \
                 the API's address and must not be public"
            ))),
        }
    }

    pub fn is_on(&self) -> bool {
        matches!(self, Self::On { .. })
    }

    /// Whether the `Authorization` header value carries the configured token.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let Self::On { token_digest } = self else { return false };
        let Some(token) = authorization.and_then(|value| value.strip_prefix("Bearer ")) else { return false };
        // Comparing digests of equal length, without an early exit, tells nothing through timing.
        digest(token.trim()).iter().zip(token_digest).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

impl std::fmt::Debug for MetricsEndpoint {
    // The token digest is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_on() { "MetricsEndpoint::On" } else { "MetricsEndpoint::Off" })
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The metrics registry. Cloning shares it.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Registry>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

#[derive(Default)]
struct Registry {
    requests: Mutex<BTreeMap<RequestSeries, u64>>,
    latencies: Mutex<BTreeMap<LatencySeries, Histogram>>,
    counters: Mutex<BTreeMap<&'static str, RegisteredCounter>>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RequestSeries {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LatencySeries {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Observations at or below each bound of [`LATENCY_BUCKETS_SECONDS`] (not cumulative).
    buckets: [u64; LATENCY_BUCKETS_SECONDS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(bucket) = LATENCY_BUCKETS_SECONDS.iter().position(|bound| seconds <= *bound) {
            self.buckets[bucket] += 1;
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }
}

struct RegisteredCounter {
    help: &'static str,
    value: Arc<AtomicU64>,
}

/// A monotonically increasing count registered in [`Metrics`]; cloning shares it.
#[derive(Debug, Clone)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn increment(&self) {
        self.add(1);
    }

    pub fn add(&self, amount: u64) {
        self.0.fetch_add(amount, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether `name` is a valid Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while recording cannot leave a count half-written; keep serving the figures.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Metrics {
    /// The counter called `name` (conventionally ending in `_total`), registered on first use;
    /// a second registration of the same name shares the first one's count.
    pub fn counter(&self, name: &'static str, help: &'static str) -> Result<Counter, AppError> {
        if !is_valid_metric_name(name) || name.starts_with(RESERVED_PREFIX) {
            return Err(AppError::Internal(format!("invalid metric name {name:?}")));
        }
        let mut counters = lock(&self.inner.counters);
        let registered =
            counters.entry(name).or_insert_with(|| RegisteredCounter { help, value: Arc::new(AtomicU64::new(0)) });
        Ok(Counter(Arc::clone(&registered.value)))
    }

    /// Records one answered request. `route` is the matched route pattern (`None` when no route
    /// matched), so `/plans/1` and `/plans/2` are one series.
    pub fn record_request(&self, method: &str, route: Option<&str>, status: u16, latency: Duration) {
        let method = KNOWN_METHODS.iter().copied().find(|known| *known == method).unwrap_or("OTHER");
        let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
        *lock(&self.inner.requests).entry(RequestSeries { method, route: route.clone(), status }).or_default() += 1;
        lock(&self.inner.latencies).entry(LatencySeries { method, route }).or_default().observe(latency.as_secs_f64());
    }

    /// Everything in the text exposition format, with the pools' state as of now.
    pub fn render(&self, pools: &[(&str, PoolStatus)]) -> String {
        let mut out = String::new();
        self.render_requests(&mut out);
        self.render_latencies(&mut out);
        render_pools(&mut out, pools);
        for (name, counter) in lock(&self.inner.counters).iter() {
            header(&mut out, name, counter.help, "counter");
            let _ = writeln!(out, "{name} {}", counter.value.load(Ordering::Relaxed));
        }
        out
    }

    fn render_requests(&self, out: &mut String) {
        let name = "municipal_kpi_http_requests_total";
        header(out, name, "HTTP requests answered, by method, route pattern and status", "counter");
        for (series, count) in lock(&self.inner.requests).iter() {
            let series =
                labels(&[("method", series.method), ("route", &series.route), ("status", &series.status.to_string())]);
            let _ = writeln!(out, "{name}{series} {count}");
        }
    }

    fn render_latencies(&self, out: &mut String) {
        let name = "municipal_kpi_http_request_duration_seconds";
        header(out, name, "Time from receiving a request to its response, by method and route pattern", "histogram");
        for (series, histogram) in lock(&self.inner.latencies).iter() {
            let mut cumulative = 0;
            for (bound, in_bucket) in LATENCY_BUCKETS_SECONDS.iter().zip(histogram.buckets) {
                cumulative += in_bucket;
                let bucket = labels(&[("method", series.method), ("route", &series.route), ("le", &bound.to_string())]);
                let _ = writeln!(out, "{name}_bucket{bucket} {cumulative}");
            }
            let infinity = labels(&[("method", series.method), ("route", &series.route), ("le", "+Inf")]);
            let _ = writeln!(out, "{name}_bucket{infinity} {}", histogram.count);
            let series = labels(&[("method", series.method), ("route", &series.route)]);
            let _ = writeln!(out, "{name}_sum{series} {}", histogram.sum_seconds);
            let _ = writeln!(out, "{name}_count{series} {}", histogram.count);
        }
    }
}

/// Counters registered by other modules may not take the names the server writes itself.
const RESERVED_PREFIX: &str = "municipal_kpi_http_";

fn render_pools(out: &mut String, pools: &[(&str, PoolStatus)]) {
    let name = "municipal_kpi_db_connections";
    header(out, name, "Database connections of each pool, in use by a request or idle", "gauge");
    for (pool, status) in pools {
        for (state, count) in [("in_use", status.in_use), ("idle", status.idle)] {
            let _ = writeln!(out, "{name}{} {count}", labels(&[("pool", pool), ("state", state)]));
        }
    }
    let name = "municipal_kpi_db_waiting";
    header(out, name, "Requests waiting for a connection of each pool (writes: also for their turn)", "gauge");
    for (pool, status) in pools {
        let _ = writeln!(out, "{name}{} {}", labels(&[("pool", pool)]), status.waiting);
    }
    let name = "municipal_kpi_db_statements_total";
    header(out, name, "SQL statements run on the connections of each pool", "counter");
    for (pool, status) in pools {
        let _ = writeln!(out, "{name}{} {}", labels(&[("pool", pool)]), status.statements);
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `{a="x",b="y"}` with the label values escaped as the format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(name, value)| {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            format!("{name}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|line| line.starts_with(prefix)).and_then(|line| line.rsplit_once(' ')).map(|(_, v)| v)
    }

    #[test]
    fn requests_are_counted_by_route_pattern_not_by_path() {
        let metrics = Metrics::default();
        metrics.record_request("GET", Some("/api/v1/plans/{id}"), 200, Duration::from_millis(3));
        metrics.record_request("GET", Some("/api/v1/plans/{id}"), 200, Duration::from_millis(30));
        metrics.record_request("GET", None, 404, Duration::from_millis(1));
        let text = metrics.render(&[]);
        assert_eq!(
            sample_line(
                &text,
                r#"municipal_kpi_http_requests_total{method="GET",route="/api/v1/plans/{id}",status="200"}"#
            ),
            Some("2")
        );
        assert_eq!(
            sample_line(&text, r#"municipal_kpi_http_requests_total{method="GET",route="unmatched",status="404"}"#),
            Some("1")
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_the_count() {
        let metrics = Metrics::default();
        // 3 ms falls in the 0.005 bucket, 30 ms in the 0.05 bucket.
        metrics.record_request("PUT", Some("/r"), 200, Duration::from_millis(3));
        metrics.record_request("PUT", Some("/r"), 200, Duration::from_millis(30));
        let text = metrics.render(&[]);
        let bucket = |le: &str| {
            sample_line(
                &text,
                &format!(r#"municipal_kpi_http_request_duration_seconds_bucket{{method="PUT",route="/r",le="{le}"}}"#),
            )
        };
        assert_eq!(bucket("0.0025"), Some("0"));
        assert_eq!(bucket("0.005"), Some("1"));
        assert_eq!(bucket("0.025"), Some("1"));
        assert_eq!(bucket("0.05"), Some("2"));
        assert_eq!(bucket("+Inf"), Some("2"));
        assert_eq!(
            sample_line(&text, r#"municipal_kpi_http_request_duration_seconds_count{method="PUT",route="/r"}"#),
            Some("2")
        );
        let sum = sample_line(&text, r#"municipal_kpi_http_request_duration_seconds_sum{method="PUT",route="/r"}"#);
        assert!((sum.unwrap().parse::<f64>().unwrap() - 0.033).abs() < 1e-9, "{sum:?}");
    }

    #[test]
    fn unknown_methods_share_one_series() {
        let metrics = Metrics::default();
        metrics.record_request("BREW", None, 405, Duration::ZERO);
        metrics.record_request("PROPFIND", None, 405, Duration::ZERO);
        let text = metrics.render(&[]);
        assert_eq!(
            sample_line(&text, r#"municipal_kpi_http_requests_total{method="OTHER",route="unmatched",status="405"}"#),
            Some("2")
        );
    }

    #[test]
    fn registered_counters_are_shared_by_name_and_rendered() {
        let metrics = Metrics::default();
        let hits =
            metrics.counter("municipal_kpi_evaluation_cache_hits_total", "Evaluations served from the cache").unwrap();
        let same = metrics.counter("municipal_kpi_evaluation_cache_hits_total", "ignored").unwrap();
        hits.increment();
        same.add(2);
        assert_eq!(hits.get(), 3);
        let text = metrics.render(&[]);
        assert!(text.contains("# HELP municipal_kpi_evaluation_cache_hits_total Evaluations served from the cache\n"));
        assert!(text.contains("# TYPE municipal_kpi_evaluation_cache_hits_total counter\n"));
        assert_eq!(sample_line(&text, "municipal_kpi_evaluation_cache_hits_total "), Some("3"));
    }

    #[test]
    fn invalid_or_reserved_counter_names_are_refused() {
        let metrics = Metrics::default();
        for name in ["", "9lives", "cache hits", "キャッシュ", "municipal_kpi_http_requests_total"] {
            assert!(metrics.counter(name, "x").is_err(), "{name:?}");
        }
    }

    #[test]
    fn pools_are_rendered_as_gauges() {
        let text = Metrics::default().render(&[
            ("read", PoolStatus { in_use: 1, idle: 3, waiting: 0, statements: 12 }),
            ("write", PoolStatus { in_use: 1, idle: 0, waiting: 2, statements: 5 }),
        ]);
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_connections{pool="read",state="idle"}"#), Some("3"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_connections{pool="write",state="in_use"}"#), Some("1"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_waiting{pool="write"}"#), Some("2"));
        assert!(text.contains("# TYPE municipal_kpi_db_waiting gauge\n"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_statements_total{pool="read"}"#), Some("12"));
        assert!(text.contains("# TYPE municipal_kpi_db_statements_total counter\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("route", "a\"b\\c\nd")]), r#"{route="a\"b\\c\nd"}"#);
    }

    #[test]
    fn the_endpoint_needs_a_long_token_and_admits_only_it() {
        assert!(!MetricsEndpoint::from_settings(false, None).unwrap().is_on());
        assert!(MetricsEndpoint::from_settings(true, None).is_err());
        assert!(MetricsEndpoint::from_settings(true, Some("short")).is_err());
        let token = "a-metrics-token-of-at-least-32-bytes";
        let endpoint = MetricsEndpoint::from_settings(true, Some(token)).unwrap();
        assert!(endpoint.admits(Some(&format!("Bearer {token}"))));
        assert!(!endpoint.admits(Some(&format!("Bearer {token}x"))));
        assert!(!endpoint.admits(Some(token)));
        assert!(!endpoint.admits(None));
        assert!(!MetricsEndpoint::Off.admits(Some(&format!("Bearer {token}"))));
    }
}

//! Operational metrics in the Prometheus text exposition format (version 0.0.4), kept and
//! encoded by the Prometheus project's Rust client (`prometheus-client`).
//!
//! [`Metrics`] is the registry: the server records every answered request in it by route
//! pattern (never the raw path, so the number of series stays bounded by the route table), and
//! other parts of the application register their own counters ([`Metrics::counter`]), e.g. an
//! evaluation cache counting its hits. It is a cheap handle passed in [`crate::startup::ServerSettings`],
//! not a global, so each test server has its own.
//!
//! `GET /metrics` is off by default ([`MetricsEndpoint`]); the pool figures are read from the
//! database when a scrape asks for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter as ClientCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};

use crate::db::PoolStatus;
use crate::error::AppError;

/// The content type of the text exposition format.
pub const EXPOSITION_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

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

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LatencyLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolStateLabels {
    pool: String,
    state: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheSizeLabels {
    cache: &'static str,
    unit: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct HeapLabels {
    state: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS_SECONDS)
}

/// The metrics registry. Cloning shares it.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Instruments>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

struct Instruments {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, ClientCounter>,
    latencies: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    /// Counters registered by other modules, by their full name, so that a second registration
    /// shares the first one's count.
    counters: Mutex<HashMap<&'static str, Counter>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let requests = Family::<RequestLabels, ClientCounter>::default();
        let latencies = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let mut registry = Registry::default();
        // The client appends `_total` to a counter's name and a full stop to every help text.
        registry.register(
            "municipal_kpi_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        registry.register(
            "municipal_kpi_http_request_duration_seconds",
            "Time from receiving a request to its response, by method and route pattern",
            latencies.clone(),
        );
        let inner =
            Instruments { registry: Mutex::new(registry), requests, latencies, counters: Mutex::new(HashMap::new()) };
        Self { inner: Arc::new(inner) }
    }
}

/// A monotonically increasing count registered in [`Metrics`]; cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Counter(ClientCounter);

impl Counter {
    pub fn increment(&self) {
        self.0.inc();
    }

    pub fn add(&self, amount: u64) {
        self.0.inc_by(amount);
    }

    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// Whether `name` is a valid Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub fn is_valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while registering cannot leave a count half-written; keep serving the figures.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Counters registered by other modules may not take the names the server writes itself.
const RESERVED_PREFIX: &str = "municipal_kpi_http_";

/// The suffix of every counter's name, which the exposition adds to the registered stem.
const COUNTER_SUFFIX: &str = "_total";

impl Metrics {
    /// The counter called `name` (ending in `_total`), registered on first use; a second
    /// registration of the same name shares the first one's count.
    pub fn counter(&self, name: &'static str, help: &'static str) -> Result<Counter, AppError> {
        let stem = name.strip_suffix(COUNTER_SUFFIX).filter(|stem| is_valid_metric_name(stem));
        let Some(stem) = stem.filter(|_| !name.starts_with(RESERVED_PREFIX)) else {
            return Err(AppError::Internal(format!("invalid counter name {name:?} (a valid name ending in _total)")));
        };
        let mut counters = lock(&self.inner.counters);
        if let Some(registered) = counters.get(name) {
            return Ok(registered.clone());
        }
        let counter = Counter::default();
        lock(&self.inner.registry).register(stem, help, counter.0.clone());
        counters.insert(name, counter.clone());
        Ok(counter)
    }

    /// Records one answered request. `route` is the matched route pattern (`None` when no route
    /// matched), so `/plans/1` and `/plans/2` are one series.
    pub fn record_request(&self, method: &str, route: Option<&str>, status: u16, latency: Duration) {
        let method = KNOWN_METHODS.iter().copied().find(|known| *known == method).unwrap_or("OTHER");
        let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
        self.inner.requests.get_or_create(&RequestLabels { method, route: route.clone(), status }).inc();
        self.inner.latencies.get_or_create(&LatencyLabels { method, route }).observe(latency.as_secs_f64());
    }

    /// Everything in the text exposition format, with the pools' state and the memory as of now.
    pub fn render(&self, pools: &[(&str, PoolStatus)], memory: &MemoryStatus) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &lock(&self.inner.registry));
        let _ = prometheus_text::encode(&mut out, &pool_registry(pools));
        let _ = prometheus_text::encode(&mut out, &memory_registry(memory));
        out
    }
}

/// What the process holds in memory, as of one scrape: whether the caches are full, and how much
/// of the heap is in use. A resident size that grows while these stay put is the allocator's.
#[derive(Debug, Clone, Default)]
pub struct MemoryStatus {
    pub caches: Vec<CacheUsage>,
    /// `None` where the allocator does not tell (not glibc).
    pub heap: Option<crate::heap::HeapUsage>,
}

/// One bounded cache's contents: how many entries, and their size in the cache's own unit.
#[derive(Debug, Clone)]
pub struct CacheUsage {
    /// `responses` or `plan_records`.
    pub cache: &'static str,
    pub entries: usize,
    /// The cache's bound is on this: `bytes` of answers, or `records` of plans.
    pub size_unit: &'static str,
    pub size: usize,
}

fn memory_registry(memory: &MemoryStatus) -> Registry {
    let gauge = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
    let entries = Family::<CacheLabels, Gauge>::default();
    let sizes = Family::<CacheSizeLabels, Gauge>::default();
    for usage in &memory.caches {
        entries.get_or_create(&CacheLabels { cache: usage.cache }).set(gauge(usage.entries));
        sizes.get_or_create(&CacheSizeLabels { cache: usage.cache, unit: usage.size_unit }).set(gauge(usage.size));
    }
    let mut registry = Registry::default();
    registry.register("municipal_kpi_cache_entries", "Entries kept by each bounded cache", entries);
    registry.register("municipal_kpi_cache_size", "What each bounded cache keeps, in the unit it is bounded in", sizes);
    if let Some(heap) = memory.heap {
        let heap_bytes = Family::<HeapLabels, Gauge>::default();
        heap_bytes.get_or_create(&HeapLabels { state: "in_use" }).set(gauge(heap.in_use_bytes));
        heap_bytes.get_or_create(&HeapLabels { state: "free" }).set(gauge(heap.free_bytes));
        registry.register(
            "municipal_kpi_heap_bytes",
            "The allocator's heap: bytes in use, and bytes freed but kept by the allocator",
            heap_bytes,
        );
    }
    registry
}

/// The pools' figures as of now, in a registry of their own made for one scrape.
fn pool_registry(pools: &[(&str, PoolStatus)]) -> Registry {
    let connections = Family::<PoolStateLabels, Gauge>::default();
    let waiting = Family::<PoolLabels, Gauge>::default();
    let statements = Family::<PoolLabels, ClientCounter>::default();
    for (pool, status) in pools {
        for (state, count) in [("in_use", status.in_use), ("idle", status.idle)] {
            connections.get_or_create(&PoolStateLabels { pool: (*pool).to_owned(), state }).set(i64::from(count));
        }
        let labels = PoolLabels { pool: (*pool).to_owned() };
        waiting.get_or_create(&labels).set(i64::try_from(status.waiting).unwrap_or(i64::MAX));
        statements.get_or_create(&labels).inc_by(status.statements);
    }
    let mut registry = Registry::default();
    registry.register(
        "municipal_kpi_db_connections",
        "Database connections of each pool, in use by a request or idle",
        connections,
    );
    registry.register(
        "municipal_kpi_db_waiting",
        "Requests waiting for a connection of each pool (writes: also for their turn)",
        waiting,
    );
    registry.register("municipal_kpi_db_statements", "SQL statements run on the connections of each pool", statements);
    registry
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
        let text = metrics.render(&[], &MemoryStatus::default());
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
        let text = metrics.render(&[], &MemoryStatus::default());
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
        let text = metrics.render(&[], &MemoryStatus::default());
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
        let text = metrics.render(&[], &MemoryStatus::default());
        assert!(text.contains("# HELP municipal_kpi_evaluation_cache_hits_total Evaluations served from the cache.\n"));
        assert!(text.contains("# TYPE municipal_kpi_evaluation_cache_hits_total counter\n"));
        assert_eq!(text.matches("# TYPE municipal_kpi_evaluation_cache_hits_total").count(), 1, "{text}");
        assert_eq!(sample_line(&text, "municipal_kpi_evaluation_cache_hits_total "), Some("3"));
    }

    #[test]
    fn invalid_or_reserved_counter_names_are_refused() {
        let metrics = Metrics::default();
        for name in [
            "",
            "_total",
            "9lives_total",
            "cache hits_total",
            "キャッシュ_total",
            "municipal_kpi_cache_hits",
            "municipal_kpi_http_requests_total",
        ] {
            assert!(metrics.counter(name, "x").is_err(), "{name:?}");
        }
    }

    #[test]
    fn pools_are_rendered_as_gauges() {
        let text = Metrics::default().render(
            &[
                ("read", PoolStatus { in_use: 1, idle: 3, waiting: 0, statements: 12 }),
                ("write", PoolStatus { in_use: 1, idle: 0, waiting: 2, statements: 5 }),
            ],
            &MemoryStatus::default(),
        );
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_connections{pool="read",state="idle"}"#), Some("3"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_connections{pool="write",state="in_use"}"#), Some("1"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_waiting{pool="write"}"#), Some("2"));
        assert!(text.contains("# TYPE municipal_kpi_db_waiting gauge\n"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_db_statements_total{pool="read"}"#), Some("12"));
        assert!(text.contains("# TYPE municipal_kpi_db_statements_total counter\n"));
    }

    #[test]
    fn caches_and_the_heap_are_rendered_as_gauges() {
        let memory = MemoryStatus {
            caches: vec![
                CacheUsage { cache: "responses", entries: 1_200, size_unit: "bytes", size: 10_300_000 },
                CacheUsage { cache: "plan_records", entries: 64, size_unit: "records", size: 3_950 },
            ],
            heap: Some(crate::heap::HeapUsage { in_use_bytes: 41_000_000, free_bytes: 2_500_000 }),
        };
        let text = Metrics::default().render(&[], &memory);
        assert_eq!(sample_line(&text, r#"municipal_kpi_cache_entries{cache="responses"}"#), Some("1200"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_cache_size{cache="responses",unit="bytes"}"#), Some("10300000"));
        assert_eq!(
            sample_line(&text, r#"municipal_kpi_cache_size{cache="plan_records",unit="records"}"#),
            Some("3950")
        );
        assert_eq!(sample_line(&text, r#"municipal_kpi_heap_bytes{state="in_use"}"#), Some("41000000"));
        assert_eq!(sample_line(&text, r#"municipal_kpi_heap_bytes{state="free"}"#), Some("2500000"));
        // Elsewhere than glibc the heap is not described at all, rather than as zero.
        let text = Metrics::default().render(&[], &MemoryStatus { heap: None, ..memory });
        assert!(!text.contains("municipal_kpi_heap_bytes"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.record_request("GET", Some("a\"b\\c\nd"), 200, Duration::ZERO);
        let text = metrics.render(&[], &MemoryStatus::default());
        assert_eq!(
            sample_line(&text, r#"municipal_kpi_http_requests_total{method="GET",route="a\"b\\c\nd",status="200"}"#),
            Some("1"),
            "{text}"
        );
    }

    #[test]
    fn every_family_is_described_once_in_the_0_0_4_text_format() {
        let metrics = Metrics::default();
        metrics.record_request("GET", Some("/r"), 200, Duration::ZERO);
        metrics.record_request("POST", Some("/r"), 201, Duration::ZERO);
        let memory = MemoryStatus {
            caches: vec![CacheUsage { cache: "responses", entries: 2, size_unit: "bytes", size: 300 }],
            heap: Some(crate::heap::HeapUsage { in_use_bytes: 1_000, free_bytes: 24 }),
        };
        let text = metrics.render(&[("read", PoolStatus { in_use: 0, idle: 1, waiting: 0, statements: 1 })], &memory);
        for (name, kind) in [
            ("municipal_kpi_http_requests_total", "counter"),
            ("municipal_kpi_http_request_duration_seconds", "histogram"),
            ("municipal_kpi_db_connections", "gauge"),
            ("municipal_kpi_db_waiting", "gauge"),
            ("municipal_kpi_db_statements_total", "counter"),
            ("municipal_kpi_cache_entries", "gauge"),
            ("municipal_kpi_cache_size", "gauge"),
            ("municipal_kpi_heap_bytes", "gauge"),
        ] {
            assert_eq!(text.matches(&format!("# TYPE {name} {kind}\n")).count(), 1, "{name}: {text}");
        }
        assert!(!text.contains("# EOF"), "the 0.0.4 text format has no EOF marker: {text}");
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

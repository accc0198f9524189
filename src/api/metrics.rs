//! `GET /metrics`: the registry of [`crate::metrics`] for a Prometheus scraper, when enabled.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::db::Database;
use crate::error::AppError;
use crate::evaluation::records_cache::RecordsCache;
use crate::metrics::{CacheUsage, EXPOSITION_CONTENT_TYPE, MemoryStatus, Metrics, MetricsEndpoint};
use crate::response_cache::ResponseCache;

/// Operational metrics in the Prometheus text format (0.0.4).
///
/// Off unless `METRICS_ENABLED=true`: then a request with credentials gets 404 like any unknown
/// path (one without gets 401, as everywhere). When enabled it
/// needs `Authorization: Bearer <METRICS_TOKEN>` (a static token of at least 32 bytes, not a JWT):
/// requests by method, route pattern and status, latency histograms, database connections in use,
/// idle and waiting per pool, the counters other parts register (such as cache hits), what each
/// bounded cache holds, and the heap's bytes in use and freed but kept.
#[utoipa::path(
    tag = "metrics",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "the metrics in the text exposition format", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String,
         example = "# HELP municipal_kpi_http_requests_total HTTP requests answered, by method, route pattern and status.\n# TYPE municipal_kpi_http_requests_total counter\nmunicipal_kpi_http_requests_total{method=\"GET\",route=\"/api/v1/plans/{id}\",status=\"200\"} 3\n"),
        (status = 401, description = "METRICS_TOKEN missing or wrong", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/unauthenticated", "title": "認証が必要です (authentication required)", "status": 401, "detail": "send Authorization: Bearer <METRICS_TOKEN>"})),
        (status = 404, description = "metrics are not enabled (METRICS_ENABLED)", body = crate::error::Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/not-found", "title": "見つかりません (not found)", "status": 404, "detail": "no resource at this path; see /docs for the API"})),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    request: HttpRequest,
    endpoint: web::Data<MetricsEndpoint>,
    metrics: web::Data<Metrics>,
    db: web::Data<Database>,
    responses: web::Data<ResponseCache>,
    plan_records: web::Data<RecordsCache>,
) -> Result<HttpResponse, AppError> {
    let authorization = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    // No credentials: 401 whether or not metrics are on, as for every protected path.
    if authorization.is_none() {
        return Err(AppError::Unauthenticated("send Authorization: Bearer <METRICS_TOKEN>".into()));
    }
    if !endpoint.is_on() {
        return Err(AppError::RouteNotFound);
    }
    if !endpoint.admits(authorization) {
        return Err(AppError::Unauthenticated("send Authorization: Bearer <METRICS_TOKEN>".into()));
    }
    Ok(HttpResponse::Ok()
        .content_type(EXPOSITION_CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(metrics.render(&db.pool_status(), &memory_status(&responses, &plan_records))))
}

fn memory_status(responses: &ResponseCache, plan_records: &RecordsCache) -> MemoryStatus {
    let (answers, bytes) = responses.usage();
    let (plan_years, records) = plan_records.usage();
    MemoryStatus {
        caches: vec![
            CacheUsage { cache: "responses", entries: answers, size_unit: "bytes", size: bytes },
            CacheUsage { cache: "plan_records", entries: plan_years, size_unit: "records", size: records },
        ],
        heap: crate::heap::usage(),
    }
}

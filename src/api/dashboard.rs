//! The dashboard feed: status and grades per year and 基本目標, revalidated by ETag.

use actix_web::http::header::{self, ETag};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::resolved::Resolved;
use crate::auth::Caller;
use crate::db::{Database, DbConnection};
use crate::domain::achievement::StatusCounts;
use crate::domain::ids::PlanId;
use crate::error::AppError;
use crate::evaluation::measure_year::EvaluationTally;
use crate::evaluation::plan::{self as plan_evaluation};
use crate::response_cache::{self, CacheKey, DataVersion, ResponseCache};

#[derive(Debug, Serialize, ToSchema)]
pub struct GoalStatus {
    pub goal_id: i32,
    #[schema(example = "②区民サービスの向上")]
    pub label: String,
    pub status_counts: StatusCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardYear {
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    #[schema(value_type = Option<f64>, example = 71.3)]
    pub mean_progress: Option<rust_decimal::Decimal>,
    #[schema(value_type = Option<f64>)]
    pub achieved_share: Option<rust_decimal::Decimal>,
    pub indicator_count: usize,
    pub goals: Vec<GoalStatus>,
    /// The year's 施策評価: departments' evaluations by state, measures assessed, 方向性 decided
    pub measure_evaluations: EvaluationTally,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub plan_id: i32,
    pub plan_name: String,
    pub years: Vec<DashboardYear>,
}

/// A compact feed for dashboards: per year, status counts per basic goal, the plan's mean
/// progress and the 施策評価 counted. Cacheable: send `If-None-Match` with the ETag to get 304 when nothing changed.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
    (status = 200, body = Dashboard, headers(("ETag" = String))),
    (status = 304, description = "unchanged since the ETag in If-None-Match"),
))]
#[get("/plans/{id}/dashboard")]
pub async fn dashboard(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    _caller: Caller,
    version: DataVersion,
    id: Resolved<PlanId>,
) -> Result<HttpResponse, AppError> {
    let plan_id = id.existing()?;
    let answer = cache
        .into_inner()
        .get_or_compute(&db, version, CacheKey::Dashboard { plan_id }, move |conn| {
            response_cache::json(&dashboard_of(conn, plan_id.get())?)
        })
        .await?;
    let tag = answer.etag().to_string();
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|candidate| candidate.trim().trim_start_matches("W/") == tag));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(answer.etag().clone()))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header(ETag(answer.etag().clone()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .content_type("application/json")
        .body(answer.body.clone()))
}

/// The dashboard feed: every year of the plan evaluated from one load.
fn dashboard_of(conn: &mut DbConnection, plan_id: i32) -> Result<Dashboard, AppError> {
    let records = plan_evaluation::load(conn, PlanId::new(plan_id))?;
    let now = chrono::Utc::now().naive_utc();
    let years = records
        .plan
        .years()
        .map(|year| {
            let evaluation = plan_evaluation::evaluate(&records, year, None, now);
            DashboardYear {
                fiscal_year: year,
                fiscal_year_label: evaluation.fiscal_year_label,
                mean_progress: evaluation.plan_roll_up.mean_progress,
                achieved_share: evaluation.plan_roll_up.achieved_share,
                indicator_count: evaluation.plan_roll_up.indicator_count,
                measure_evaluations: EvaluationTally::of(evaluation.measures.iter().map(|m| &m.measure_evaluation)),
                goals: evaluation
                    .goals
                    .into_iter()
                    .map(|g| GoalStatus { goal_id: g.id, label: g.label, status_counts: g.roll_up.status_counts })
                    .collect(),
            }
        })
        .collect();
    Ok(Dashboard { plan_id, plan_name: records.plan.name.clone(), years })
}

//! Actuals (実績): submission, correction, history and review; achievement of an indicator.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, MAX_UPLOAD_BYTES, Query, precondition, read_body, versioned};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::{Resolved, YearInPath};
use crate::auth::{Caller, Hq, Writer};
use crate::db::actuals;
use crate::db::{Database, DbConnection, indicators};
use crate::domain::actual::{Actual, ActualEvent};
use crate::domain::ids::{IndicatorId, PlanId};
use crate::domain::submission::{Figures, ReviewAction};
use crate::error::{AppError, Problem};
use crate::evaluation::{self, IndicatorYear};
use crate::response_cache::{CacheKey, DataVersion, ResponseCache};
use crate::spreadsheet::import::{Actuals, Table, TableFormat};
use crate::spreadsheet::{self, RowError, XLSX_MEDIA_TYPE};
use crate::submission_cycle::{self, ImportReport, SubmissionInput};
use crate::versioning::etag;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"numerator": 180000, "denominator": "570000", "note": "出張申請受付の実施により交付件数が増加"}))]
pub struct SubmitActual {
    /// Counts and percents: the value (number or decimal string)
    #[schema(value_type = Option<f64>)]
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub value: Option<Decimal>,
    /// Ratios: the numerator (≥ 0)
    #[schema(value_type = Option<f64>)]
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub numerator: Option<Decimal>,
    /// Ratios: the denominator (> 0); the API computes the percent
    #[schema(value_type = Option<f64>)]
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub denominator: Option<Decimal>,
    /// Milestones: the stage reached, by index …
    pub stage: Option<i32>,
    /// … or by name
    #[schema(example = "サービス開始", max_length = 200)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub stage_name: Option<String>,
    /// Why the value moved (進捗管理表の備考)
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "return", "comment": "人口は住民基本台帳の年度末人口で報告してください"}))]
pub struct ReviewActual {
    pub action: ReviewAction,
    /// Required to return or reopen
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AchievementQuery {
    /// One fiscal year; without it, every year of the plan in which the indicator counts
    #[param(minimum = 1989, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub fiscal_year: Option<i32>,
    /// Years per page (1–500, default 50; not used with `fiscal_year`)
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Years to skip (0–1000000, default 0)
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// Every year's actual of an indicator.
#[utoipa::path(tag = "actuals", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<Actual>),
))]
#[get("/indicators/{id}/actuals")]
pub async fn list_actuals(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let id = id.existing()?;
    let found = db
        .read(move |conn| {
            let indicator = indicators::get(conn, id)?;
            actuals::page_for_indicator(conn, id, &indicator.stages, limit, offset)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// One year's actual, with its ETag.
#[utoipa::path(tag = "actuals", security(("bearer" = [])), params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100)), responses(
    (status = 200, body = Actual, headers(("ETag" = String))),
))]
#[get("/indicators/{id}/actuals/{fiscal_year}")]
pub async fn get_actual(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    year: YearInPath,
) -> Result<HttpResponse, AppError> {
    let (id, year) = (id.existing()?, year.0);
    let actual = db
        .read(move |conn| {
            let indicator = indicators::get(conn, id)?;
            actuals::find(conn, id, year.year(), &indicator.stages)?
                .ok_or_else(|| AppError::not_found("actual", format!("{id}/{year}")))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("actual", actual.id, actual.version), &actual))
}

/// Submits or corrects an actual (department owning the measure, or hq on its behalf).
///
/// The body fits the indicator's kind: `value` (count, percent), `numerator` and `denominator`
/// (ratio), or `stage`/`stage_name` (milestone). Overwriting an existing actual needs `If-Match`
/// with its ETag: missing → 428, stale → 412. An approved actual is closed until hq reopens it (409).
#[utoipa::path(tag = "actuals", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("If-Match" = Option<String>, Header)),
    request_body = SubmitActual, responses(
    (status = 200, description = "corrected", body = Actual, headers(("ETag" = String))),
    (status = 201, description = "first submission", body = Actual, headers(("ETag" = String))),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 428, body = Problem, content_type = "application/problem+json"),
))]
#[put("/indicators/{id}/actuals/{fiscal_year}")]
pub async fn submit_actual(
    Writer(caller): Writer,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    year: YearInPath,
    body: JsonBody<SubmitActual>,
) -> Result<HttpResponse, AppError> {
    let (id, year) = (id.existing()?, year.0);
    let precondition = precondition(&req);
    let (actual, created) = db
        .write(caller.actuals_write_scope(), move |conn| {
            // Scope, then If-Match, then the body: a caller who may not write learns nothing more.
            let writable = submission_cycle::writable_actual(conn, &caller, id, year)?;
            writable.check_precondition(&precondition?)?;
            let body = body.parse()?;
            let input = SubmissionInput {
                figures: Figures {
                    value: body.value,
                    numerator: body.numerator,
                    denominator: body.denominator,
                    stage: body.stage,
                    stage_name: body.stage_name.as_deref(),
                },
                note: body.note.trim(),
            };
            writable.write(conn, &caller, &input)
        })
        .await?;
    let response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(versioned(response, etag("actual", actual.id, actual.version), &actual))
}

/// Every version of an actual, oldest first: figures, note, status, who, when.
#[utoipa::path(tag = "actuals", security(("bearer" = [])), params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), PageParams), responses(
    (status = 200, body = Page<ActualEvent>),
))]
#[get("/indicators/{id}/actuals/{fiscal_year}/history")]
pub async fn actual_history(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    year: YearInPath,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let (id, year) = (id.existing()?, year.0);
    let history = db
        .read(move |conn| {
            indicators::get(conn, id)?;
            let (events, total) = actuals::history_page(conn, id, year.year(), limit, offset)?;
            if total == 0 {
                return Err(AppError::not_found("actual", format!("{id}/{year}")));
            }
            Ok((events, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(history, limit, offset)))
}

/// hq approves an actual, returns it with a comment, or reopens an approved one.
#[utoipa::path(tag = "actuals", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("If-Match" = Option<String>, Header)),
    request_body = ReviewActual, responses(
    (status = 200, body = Actual, headers(("ETag" = String))),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/indicators/{id}/actuals/{fiscal_year}/review")]
pub async fn review_actual(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    year: YearInPath,
    body: JsonBody<ReviewActual>,
) -> Result<HttpResponse, AppError> {
    let (id, year) = (id.existing()?, year.0);
    let precondition = precondition(&req);
    let actual = db
        .write(caller.actuals_write_scope(), move |conn| {
            let reviewable = submission_cycle::reviewable_actual(conn, &caller, id, year, &precondition?)?;
            let body = body.parse()?;
            reviewable.review(conn, &caller, body.action, body.comment.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("actual", actual.id, actual.version), &actual))
}

/// One year's achievement, or the series over the plan's years.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
pub enum IndicatorAchievement {
    /// `fiscal_year` given: that year's object.
    // Boxed: it is far larger than a page's header.
    Year(Box<IndicatorYear>),
    /// No `fiscal_year`: every year of the plan in which the indicator counts, paginated.
    Series(Page<IndicatorYear>),
}

/// Achievement of an indicator (docs/achievement.md) for one fiscal year (the object), or the
/// series over the plan's years (a page), with every input used: baseline, the target revision in
/// force, the approved actual, whether a newer submission is pending, and the grading settings.
#[utoipa::path(tag = "actuals", security(("bearer" = [])), params(("id" = i32, Path), AchievementQuery), responses(
    (status = 200, body = IndicatorAchievement, description = "with `fiscal_year`: one IndicatorYear; without: a page of them", example = json!({"total": 1, "limit": 50, "offset": 0, "items": [{
        "indicator_id": 1, "fiscal_year": 2019, "fiscal_year_label": "令和元(2019)年度",
        "inputs": {"direction": "increase", "kind": "count", "unit": "データセット",
            "baseline": {"fiscal_year": 2017, "fiscal_year_label": "平成29(2017)年度", "value": 203, "stage": null, "text": "203 データセット"},
            "target": {"value": 230, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018}},
        "result": {"achieved": false, "actual_rate_or_value": 220, "expected": 221, "attainment_rate": 95.7,
            "progress_rate": 63.0, "status": "behind", "grade": "C", "grade_basis": "progress", "pending": false}
    }]})),
))]
#[get("/indicators/{id}/achievement")]
pub async fn indicator_achievement(
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    _caller: Caller,
    version: DataVersion,
    id: Resolved<IndicatorId>,
    query: Query<AchievementQuery>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(query.limit, query.offset)?;
    let (id, year) = (id.existing()?, query.fiscal_year);
    let key = CacheKey::Achievement { indicator_id: id, fiscal_year: year, limit, offset };
    cache
        .into_inner()
        .json_response(&db, version, key, move |conn| {
            let series = achievement_series(conn, id, year)?;
            let achievement = match year {
                Some(_) => IndicatorAchievement::Year(Box::new(
                    series
                        .into_iter()
                        .next()
                        .ok_or_else(|| AppError::Internal("the requested year was not evaluated".into()))?,
                )),
                None => IndicatorAchievement::Series(Page::of_all(series, limit, offset)),
            };
            Ok(achievement)
        })
        .await
}

/// The indicator's achievement in `year`, or in every year of its plan in which it counts; reads
/// only the indicator's own records.
fn achievement_series(
    conn: &mut DbConnection,
    id: IndicatorId,
    year: Option<i32>,
) -> Result<Vec<IndicatorYear>, AppError> {
    let indicator = indicators::get(conn, id)?;
    let plan = indicators::plan_of(conn, &indicator)?;
    let years: Vec<i32> = match year {
        Some(year) => vec![plan.check_year("fiscal_year", year)?.year()],
        None => plan.years().filter(|y| evaluation::indicator_counts_in(&indicator, *y, None)).collect(),
    };
    let targets = indicators::list_targets(conn, id)?;
    let definitions = indicators::list_definitions(conn, &[id.get()])?;
    let events = actuals::events_for(conn, &[id.get()])?;
    Ok(years
        .into_iter()
        .map(|y| {
            let year_events: Vec<&ActualEvent> =
                events.iter().filter(|e| e.fiscal_year == y).map(|e| &e.event).collect();
            evaluation::evaluate_year(&indicator, &targets, &definitions, &year_events, &plan.grading, y, None)
        })
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Report what would change without changing anything
    #[serde(default)]
    pub dry_run: bool,
}

/// Uploads actuals in the columns of the 進捗管理表 export (CSV or xlsx, by Content-Type).
///
/// Rows are checked and scoped exactly like single submissions; overwriting an existing actual
/// needs its version in the 版 column. A dry run reports what would change (counts, and the first
/// 100 rows) and the row errors (the first 100 with row, column and reason, and the total); a real
/// run applies all rows or none (422 with the report). Files are bounded: at most 100 000 rows
/// after the header, 64 columns, 2 000 characters a cell; xlsx workbooks also by zip entries,
/// inflated size, sheets and shared strings. A file past a bound gets a 422 naming it.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), ImportQuery),
    request_body(content(
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
    (status = 200, body = ImportReport),
    (status = 412, description = "the plan or an actual changed while the file was checked; nothing was applied", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "row errors or a file past a bound: nothing was applied; row errors carry `report` (an ImportReport)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/actuals/import")]
pub async fn import_actuals(
    Writer(caller): Writer,
    req: HttpRequest,
    mut payload: web::Payload,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    query: Query<ImportQuery>,
) -> Result<HttpResponse, AppError> {
    let file = read_upload::<Actuals>(&req, &mut payload).await?;
    let (plan_id, dry_run) = (id.existing()?, query.dry_run);
    let checker = caller.clone();
    // Every row is checked before the write transaction starts, which then only writes.
    let checked = db.read(move |conn| submission_cycle::check_import(conn, &checker, plan_id, file, dry_run)).await?;
    let report = if checked.can_apply() {
        db.bulk_write(caller.actuals_write_scope(), move |conn| {
            submission_cycle::apply_import(conn, &caller, plan_id, checked)
        })
        .await?
    } else {
        checked.report
    };
    if report.error_count > 0 {
        return Ok(rejected_import(&report, &report.errors, report.error_count));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// How a file's bytes become the table of an import.
type TableReading<R> = fn(&[u8]) -> Result<Table<R>, AppError>;

/// Reads an uploaded CSV or xlsx file (by Content-Type) as an import of the format `F`.
pub(super) async fn read_upload<F: TableFormat>(
    req: &HttpRequest,
    payload: &mut web::Payload,
) -> Result<Table<F::Row>, AppError>
where
    F::Row: Send + 'static,
{
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let read: TableReading<F::Row> = if content_type.starts_with("text/csv") {
        spreadsheet::import::read_csv_as::<F>
    } else if content_type.starts_with(XLSX_MEDIA_TYPE) {
        spreadsheet::xlsx_reader::read_xlsx_as::<F>
    } else {
        return Err(AppError::UnsupportedMediaType(format!("send text/csv or {XLSX_MEDIA_TYPE}")));
    };
    let body = read_body(payload, MAX_UPLOAD_BYTES).await?;
    // Reading a file is CPU work of up to a second: off the async workers, like database calls.
    web::block(move || read(&body)).await.map_err(|e| AppError::Internal(e.to_string()))?
}

/// Row errors: a 422 problem whose `errors` name row and column (the first ones, with the total
/// in `detail`), with the report attached (RFC 9457 extension member `report`).
pub(super) fn rejected_import(report: &impl serde::Serialize, errors: &[RowError], error_count: usize) -> HttpResponse {
    let mut problem = serde_json::to_value(AppError::Validation(spreadsheet::as_field_errors(errors)).to_problem())
        .unwrap_or_default();
    if let Some(object) = problem.as_object_mut() {
        let listed = if error_count > errors.len() {
            format!(" (the first {} are listed)", errors.len())
        } else {
            String::new()
        };
        object.insert("detail".into(), format!("{error_count} row error(s){listed}; nothing was applied").into());
        object.insert("report".into(), serde_json::to_value(report).unwrap_or_default());
    }
    HttpResponse::UnprocessableEntity().content_type(crate::error::PROBLEM_CONTENT_TYPE).json(problem)
}

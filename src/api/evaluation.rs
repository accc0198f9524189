//! What the 本部 uses: the evaluation (JSON, CSV, xlsx), collection windows and status, the
//! dashboard feed, open data, and bulk import of actuals and plans.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType, ETag};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, MAX_JSON_BODY_BYTES, Query, fiscal_year_param, read_body};
use super::pagination::{Page, PageParams, page_bounds};
use super::sliced_body::SlicedBody;
use crate::auth::{Caller, Hq, Writer};
use crate::db::audit::Actor;
use crate::db::collections::{self, Collection};
use crate::db::{Database, DbConnection, departments, plans};
use crate::domain::achievement::{StatusCounts, round_for_output};
use crate::error::{AppError, Problem};
use crate::evaluation::plan::{self as plan_evaluation, IndicatorRef, PlanEvaluation, SubmissionState};
use crate::plan_document::{LoadReport, PlanDocument};
use crate::reporting::{self, ImportReport};
use crate::response_cache::{self, CacheKey, DataVersion, ResponseCache, restamp_evaluated_at};
use crate::spreadsheet::{self, CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE};

/// Largest accepted spreadsheet or plan file.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvaluationQuery {
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// Evaluate with only what was recorded by this time: RFC 3339 (`2021-06-01T09:00:00+09:00`) or UTC without offset
    #[param(max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub as_of: Option<String>,
    /// Overrides the Accept header: json, csv or xlsx
    pub format: Option<Format>,
}

fn parse_as_of(text: Option<&str>) -> Result<Option<NaiveDateTime>, AppError> {
    let Some(text) = text else { return Ok(None) };
    let text = restore_plus_of_offset(text.trim());
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(with_offset.naive_utc()));
    }
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(Some)
        .map_err(|_| AppError::invalid("as_of", "expected an RFC 3339 time such as 2021-06-01T09:00:00+09:00"))
}

/// A `+09:00` pasted unencoded into a query string arrives as ` 09:00` (a form-encoded `+` is a
/// space): put the plus back, so the time a clerk copied from the README means what it says.
fn restore_plus_of_offset(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let offset_start = bytes.len().wrapping_sub(6);
    let is_spaced_offset = bytes.len() > 6
        && bytes[offset_start] == b' '
        && bytes[offset_start + 1..offset_start + 3].iter().all(u8::is_ascii_digit)
        && bytes[offset_start + 3] == b':'
        && bytes[offset_start + 4..].iter().all(u8::is_ascii_digit);
    if is_spaced_offset {
        std::borrow::Cow::Owned(format!("{}+{}", &text[..offset_start], &text[offset_start + 1..]))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Picks the representation: `format=` wins, then the Accept header; JSON by default.
pub(crate) fn negotiate(req: &HttpRequest, format: Option<Format>) -> Result<Format, AppError> {
    if let Some(format) = format {
        return Ok(format);
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    let offers = accept.split(',').map(|part| part.split(';').next().unwrap_or_default().trim());
    for offer in offers {
        match offer {
            "application/json" | "application/*" | "*/*" | "application/problem+json" => return Ok(Format::Json),
            "text/csv" | "text/*" => return Ok(Format::Csv),
            XLSX_MEDIA_TYPE => return Ok(Format::Xlsx),
            _ => {}
        }
    }
    Err(AppError::NotAcceptable(format!("offered: application/json, text/csv, {XLSX_MEDIA_TYPE}")))
}

pub(crate) fn attachment(name: String) -> ContentDisposition {
    ContentDisposition { disposition: DispositionType::Attachment, parameters: vec![DispositionParam::Filename(name)] }
}

/// The year's evaluation: every indicator's achievement, roll-ups per measure, ◎ basic goal,
/// strategy, department and plan, the lists to act on, and the grading settings used.
/// `Accept: text/csv` or the xlsx media type (or `format=`) gives the 進捗管理表 spreadsheet.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), EvaluationQuery), responses(
    (status = 200, body = PlanEvaluation, content(
        (PlanEvaluation = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 406, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/evaluation")]
pub async fn get_evaluation(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    _caller: Caller,
    version: DataVersion,
    id: web::Path<i32>,
    query: Query<EvaluationQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, query.format)?;
    let as_of = parse_as_of(query.as_of.as_deref())?;
    let (plan_id, year) = (id.into_inner(), query.fiscal_year);
    if format == Format::Json && as_of.is_none() {
        let now = chrono::Utc::now().naive_utc();
        let key = CacheKey::Evaluation { plan_id, fiscal_year: year, day: now.date() };
        let answer = cache
            .into_inner()
            .get_or_compute(&db, version, key, move |conn| {
                response_cache::json(&plan_evaluation::evaluate_plan_at(conn, plan_id, year, None, now)?)
            })
            .await?;
        let parts = restamp_evaluated_at(&answer.body, now)?;
        return Ok(HttpResponse::Ok().content_type(mime::APPLICATION_JSON).body(SlicedBody::new(parts)));
    }
    let evaluation = db.read(move |conn| plan_evaluation::evaluate_plan(conn, plan_id, year, as_of)).await?;
    let file = |extension: &str| format!("evaluation-{plan_id}-{year}.{extension}");
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(evaluation),
        Format::Csv => HttpResponse::Ok().content_type(CSV_MEDIA_TYPE).insert_header(attachment(file("csv"))).body(
            web::block(move || spreadsheet::evaluation_csv(&evaluation))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??,
        ),
        Format::Xlsx => HttpResponse::Ok().content_type(XLSX_MEDIA_TYPE).insert_header(attachment(file("xlsx"))).body(
            web::block(move || spreadsheet::evaluation_xlsx(&evaluation))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??,
        ),
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SubmissionCounts {
    pub missing: usize,
    pub submitted: usize,
    pub returned: usize,
    pub approved: usize,
    pub late: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorSubmission {
    #[serde(flatten)]
    pub indicator: IndicatorRef,
    pub submission: SubmissionState,
    pub late: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentSubmissions {
    pub department_id: i32,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    pub counts: SubmissionCounts,
    pub indicators: Vec<IndicatorSubmission>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionStatus {
    pub plan_id: i32,
    pub fiscal_year: i32,
    pub fiscal_year_label: String,
    pub collection: Option<Collection>,
    pub departments: Vec<DepartmentSubmissions>,
}

fn submission_status(evaluation: PlanEvaluation) -> SubmissionStatus {
    let mut by_department: std::collections::BTreeMap<i32, DepartmentSubmissions> = Default::default();
    for indicator in &evaluation.indicators {
        for (department_id, name) in indicator.department_ids.iter().zip(&indicator.department_names) {
            let entry = by_department.entry(*department_id).or_insert_with(|| DepartmentSubmissions {
                department_id: *department_id,
                department_name: name.clone(),
                counts: SubmissionCounts::default(),
                indicators: Vec::new(),
            });
            match indicator.submission {
                SubmissionState::Missing => entry.counts.missing += 1,
                SubmissionState::Submitted => entry.counts.submitted += 1,
                SubmissionState::Returned => entry.counts.returned += 1,
                SubmissionState::Approved => entry.counts.approved += 1,
            }
            entry.counts.late += usize::from(indicator.late);
            entry.indicators.push(IndicatorSubmission {
                indicator: IndicatorRef {
                    indicator_id: indicator.indicator_id,
                    measure_number: indicator.measure_number,
                    indicator_number: indicator.number,
                    name: indicator.name.clone(),
                    department_names: indicator.department_names.clone(),
                },
                submission: indicator.submission,
                late: indicator.late,
            });
        }
    }
    SubmissionStatus {
        plan_id: evaluation.plan_id,
        fiscal_year: evaluation.fiscal_year,
        fiscal_year_label: evaluation.fiscal_year_label,
        collection: evaluation.collection,
        departments: by_department.into_values().collect(),
    }
}

/// Collection status for a year: per department, which indicators lack actuals, are submitted,
/// returned or approved, and which are late.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), YearQuery), responses(
    (status = 200, body = SubmissionStatus),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/submissions")]
pub async fn submissions(
    db: web::Data<Database>,
    _caller: Caller,
    id: web::Path<i32>,
    query: Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let (plan_id, year) = (id.into_inner(), query.fiscal_year);
    let evaluation = db.read(move |conn| plan_evaluation::evaluate_plan(conn, plan_id, year, None)).await?;
    Ok(HttpResponse::Ok().json(submission_status(evaluation)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCollection {
    #[schema(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// Last day for submissions
    #[schema(example = "2021-05-31")]
    pub deadline: Option<NaiveDate>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, format = Date, example = "2021-06-15")]
    pub deadline: Option<Option<NaiveDate>>,
    pub closed: Option<bool>,
}

/// Collection windows of a plan, by fiscal year.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<Collection>),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/collections")]
pub async fn list_collections(
    db: web::Data<Database>,
    _caller: Caller,
    id: web::Path<i32>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let plan_id = id.into_inner();
    let found = db
        .read(move |conn| {
            plans::ensure_exists(conn, plan_id)?;
            collections::page(conn, plan_id, limit, offset)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// Opens collection of actuals for a fiscal year, optionally with a deadline (hq).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path)), request_body = OpenCollection, responses(
    (status = 201, body = Collection),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/collections")]
pub async fn open_collection(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: web::Path<i32>,
    body: JsonBody<OpenCollection>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let plan_id = id.into_inner();
    let opened =
        db.write(move |conn| collections::open(conn, &actor, plan_id, body.fiscal_year, body.deadline)).await?;
    Ok(HttpResponse::Created().json(opened))
}

/// Moves a deadline or closes a collection (hq).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100)),
    request_body = UpdateCollection, responses(
    (status = 200, body = Collection),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/plans/{id}/collections/{fiscal_year}")]
pub async fn update_collection(
    Hq(caller): Hq,
    db: web::Data<Database>,
    path: web::Path<(i32, i32)>,
    body: JsonBody<UpdateCollection>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let (plan_id, year) = path.into_inner();
    let year = fiscal_year_param(year)?;
    let updated =
        db.write(move |conn| collections::update(conn, &actor, plan_id, year, body.deadline, body.closed)).await?;
    Ok(HttpResponse::Ok().json(updated))
}

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
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub plan_id: i32,
    pub plan_name: String,
    pub years: Vec<DashboardYear>,
}

/// A compact feed for dashboards: per year, status counts per basic goal and the plan's mean
/// progress. Cacheable: send `If-None-Match` with the ETag to get 304 when nothing changed.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
    (status = 200, body = Dashboard, headers(("ETag" = String))),
    (status = 304, description = "unchanged since the ETag in If-None-Match"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/dashboard")]
pub async fn dashboard(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    _caller: Caller,
    version: DataVersion,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let plan_id = id.into_inner();
    let answer = cache
        .into_inner()
        .get_or_compute(&db, version, CacheKey::Dashboard { plan_id }, move |conn| {
            response_cache::json(&dashboard_of(conn, plan_id)?)
        })
        .await?;
    let tag = answer.etag.to_string();
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|candidate| candidate.trim().trim_start_matches("W/") == tag));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(answer.etag.clone()))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header(ETag(answer.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .content_type("application/json")
        .body(answer.body.clone()))
}

/// The dashboard feed: every year of the plan evaluated from one load.
fn dashboard_of(conn: &mut DbConnection, plan_id: i32) -> Result<Dashboard, AppError> {
    let records = plan_evaluation::load(conn, plan_id)?;
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

/// Approved actuals of the plan as open data (CSV, UTF-8 with BOM). Sample data is left out.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, content_type = "text/csv", body = String),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/open-data")]
pub async fn open_data(db: web::Data<Database>, _caller: Caller, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let plan_id = id.into_inner();
    let csv = db
        .read(move |conn| {
            let records = plan_evaluation::load(conn, plan_id)?;
            let municipality = departments::list_municipalities(conn)?
                .into_iter()
                .find(|m| m.id == records.plan.municipality_id)
                .ok_or_else(|| AppError::not_found("municipality", records.plan.municipality_id))?;
            let mut rows = Vec::new();
            for indicator in &records.indicators {
                let Some(measure) = records.measures.iter().find(|m| m.id == indicator.measure_id) else { continue };
                for year in records.plan.years() {
                    let events =
                        records.events.iter().filter(|e| e.indicator_id == indicator.id && e.fiscal_year == year);
                    let state = crate::db::actuals::ActualState::fold(events.map(|e| &e.event), None);
                    let Some(approved) = state.approved.filter(|e| !e.is_sample) else { continue };
                    rows.push(spreadsheet::OpenDataRow {
                        fiscal_year: year,
                        measure_number: measure.number,
                        measure_name: measure.name.clone(),
                        indicator_id: indicator.id,
                        indicator_name: indicator.name.clone(),
                        unit: indicator.unit.clone(),
                        value: approved.reported.value,
                        numerator: approved.reported.numerator,
                        denominator: approved.reported.denominator,
                        rate: approved.reported.rate().map(round_for_output),
                        stage_name: approved
                            .reported
                            .stage
                            .and_then(|s| usize::try_from(s).ok())
                            .and_then(|s| indicator.stages.get(s).cloned()),
                        approved_at: approved.recorded_at,
                    });
                }
            }
            spreadsheet::open_data_csv(&municipality.code, &municipality.name, &records.plan.name, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(CSV_MEDIA_TYPE)
        .insert_header(attachment(format!("open-data-plan-{plan_id}.csv")))
        .body(csv))
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
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 412, description = "the plan or an actual changed while the file was checked; nothing was applied", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "row errors or a file past a bound: nothing was applied; row errors carry `report` (an ImportReport)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/actuals/import")]
pub async fn import_actuals(
    Writer(caller): Writer,
    req: HttpRequest,
    mut payload: web::Payload,
    db: web::Data<Database>,
    id: web::Path<i32>,
    query: Query<ImportQuery>,
) -> Result<HttpResponse, AppError> {
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let read: fn(&[u8]) -> Result<spreadsheet::ImportFile, AppError> = if content_type.starts_with("text/csv") {
        spreadsheet::read_csv
    } else if content_type.starts_with(XLSX_MEDIA_TYPE) {
        spreadsheet::read_xlsx
    } else {
        return Err(AppError::UnsupportedMediaType(format!("send text/csv or {XLSX_MEDIA_TYPE}")));
    };
    let body = read_body(&mut payload, MAX_UPLOAD_BYTES).await?;
    // Reading a file is CPU work of up to a second: off the async workers, like database calls.
    let file = web::block(move || read(&body)).await.map_err(|e| AppError::Internal(e.to_string()))??;
    let (plan_id, dry_run) = (id.into_inner(), query.dry_run);
    let checker = caller.clone();
    // Every row is checked before the write transaction starts, which then only writes.
    let checked = db.read(move |conn| reporting::check_import(conn, &checker, plan_id, file, dry_run)).await?;
    let report = if checked.can_apply() {
        db.bulk_write(move |conn| reporting::apply_import(conn, &caller, plan_id, checked)).await?
    } else {
        checked.report
    };
    if report.error_count > 0 {
        return Ok(rejected_import(report));
    }
    Ok(HttpResponse::Ok().json(report))
}

/// Row errors: a 422 problem whose `errors` name row and column (the first ones, with the total
/// in `detail`), with the report attached (RFC 9457 extension member `report`).
fn rejected_import(report: ImportReport) -> HttpResponse {
    let mut problem =
        serde_json::to_value(AppError::Validation(spreadsheet::as_field_errors(&report.errors)).to_problem())
            .unwrap_or_default();
    if let Some(object) = problem.as_object_mut() {
        let listed = if report.error_count > report.errors.len() {
            format!(" (the first {} are listed)", report.errors.len())
        } else {
            String::new()
        };
        object.insert(
            "detail".into(),
            format!("{} row error(s){listed}; nothing was applied", report.error_count).into(),
        );
        object.insert("report".into(), serde_json::to_value(&report).unwrap_or_default());
    }
    HttpResponse::UnprocessableEntity().content_type(crate::error::PROBLEM_CONTENT_TYPE).json(problem)
}

/// Imports a whole plan from a plan document (the TOML format of `demo/itabashi-ict-2020.toml`),
/// through the same checks as the API (hq). All or nothing.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), request_body(content((String = "application/toml"))), responses(
    (status = 201, body = LoadReport),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/import")]
pub async fn import_plan(
    Hq(caller): Hq,
    mut payload: web::Payload,
    db: web::Data<Database>,
) -> Result<HttpResponse, AppError> {
    let body = read_body(&mut payload, MAX_UPLOAD_BYTES.max(MAX_JSON_BODY_BYTES)).await?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::invalid("body", "a plan document is UTF-8 text"))?;
    if text.contains('\0') {
        return Err(AppError::invalid("body", crate::domain::limits::NUL_MESSAGE));
    }
    let document = PlanDocument::from_toml(text)?;
    let actor = Actor::from(&caller);
    let report = db.bulk_write(move |conn| crate::plan_document::load(conn, &actor, &document)).await?;
    Ok(HttpResponse::Created().json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect("a UTC time")
    }

    #[test]
    fn as_of_with_an_offset_is_converted_to_utc() {
        assert_eq!(parse_as_of(Some("2021-06-01T09:00:00+09:00")).unwrap(), Some(utc("2021-06-01T00:00:00")));
    }

    #[test]
    fn as_of_whose_plus_arrived_as_a_space_means_the_same_time() {
        assert_eq!(parse_as_of(Some("2021-06-01T09:00:00 09:00")).unwrap(), Some(utc("2021-06-01T00:00:00")));
    }

    #[test]
    fn as_of_without_an_offset_is_utc_and_garbage_is_rejected() {
        assert_eq!(parse_as_of(Some("2021-06-01T09:00:00")).unwrap(), Some(utc("2021-06-01T09:00:00")));
        assert!(parse_as_of(Some("2021-06-01 09:00")).is_err());
        assert!(parse_as_of(Some("yesterday 09:00")).is_err());
    }
}

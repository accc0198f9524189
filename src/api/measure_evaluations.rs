//! 施策評価 (measure evaluations): each owning department's evaluation of a measure's year and its
//! review, the 本部's assessment (本部評価, 方向性, 計画への反映), a plan's list of them for a year, a
//! plan's 方向性, and from a measure or an indicator the evaluations that led to its revisions.
use crate::domain::ids::{IndicatorId, MeasureId, PlanId};

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::actuals::{ImportQuery, ReviewActual, read_upload, rejected_import};
use super::evaluation::{Format, attachment, negotiate, parse_as_of};
use super::extract::{JsonBody, Query, precondition, versioned};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::{DepartmentInPath, Resolved, YearInPath};
use crate::auth::{Caller, Hq, Writer};
use crate::db::measure_evaluations::{self, EvaluationOf};
use crate::db::{Database, plans};
use crate::domain::achievement::Grade;
use crate::domain::measure_evaluation::{
    DepartmentEvaluation, DepartmentEvaluationEvent, DepartmentReport, HqAssessment, HqAssessmentEvent, HqDecision,
    LinkedRevision, PlanLink, RoadmapProgress, default_directions,
};
use crate::domain::plan::label;
use crate::error::{AppError, Problem};
use crate::evaluation::measure_year::{self, MeasureYearEvaluation};
use crate::measure_evaluation_cycle as cycle;
use crate::measure_evaluation_cycle::import::{self as evaluation_import, EvaluationImportReport};
use crate::spreadsheet::measure_evaluations as spreadsheet;
use crate::spreadsheet::measure_evaluations::MeasureEvaluations;
use crate::spreadsheet::{CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE};
use crate::versioning::etag;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"work_done": "マイナンバーカードの出張申請受付を区内12か所で実施した。", "roadmap_progress": "delayed",
    "progress_reason": "会場の確保が遅れ、下半期の実施となった。", "self_grade": "B", "issues": "交付窓口の混雑",
    "next_steps": "予約制の拡大"}))]
pub struct SubmitMeasureEvaluation {
    /// 取組実績: what was done in the year (required)
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub work_done: String,
    /// Progress of the year's roadmap step: `on_schedule` (予定どおり), `ahead` (前倒し), `delayed`
    /// (遅れ), `not_started` (未着手) or `completed` (完了); the Japanese names are accepted too
    pub roadmap_progress: RoadmapProgress,
    /// Why the step is off the plan: required for `ahead`, `delayed` and `not_started`
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub progress_reason: String,
    /// 自己評価 on the plan's grading scale: A, B, C or D
    pub self_grade: Grade,
    /// 課題
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub issues: String,
    /// 今後の方向性, as the department sees it
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub next_steps: String,
}

impl SubmitMeasureEvaluation {
    fn into_report(self) -> DepartmentReport {
        DepartmentReport {
            work_done: self.work_done,
            roadmap_progress: self.roadmap_progress,
            progress_reason: self.progress_reason,
            self_grade: self.self_grade,
            issues: self.issues,
            next_steps: self.next_steps,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"hq_grade": "B", "hq_comment": "出張申請受付の効果が出ている。", "direction": "拡充",
    "direction_reason": "国の交付目標に合わせ、受付体制を拡充する。", "plan_links": [{"kind": "target_revision", "id": 12}]}))]
pub struct AssessMeasure {
    /// 本部評価 on the plan's grading scale: A, B, C or D
    pub hq_grade: Grade,
    /// The 本部's comment on the year
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub hq_comment: String,
    /// 方向性: one of the plan's directions (`GET /plans/{id}/evaluation-directions`)
    #[serde(default, deserialize_with = "crate::domain::limits::name")]
    #[schema(max_length = 200)]
    pub direction: String,
    /// Why the 本部 decided so (required)
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub direction_reason: String,
    /// The plan revisions the decision led to (計画への反映): records of this municipality
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub plan_links: Vec<PlanLink>,
}

impl AssessMeasure {
    fn into_decision(self) -> HqDecision {
        HqDecision {
            hq_grade: self.hq_grade,
            hq_comment: self.hq_comment,
            direction: self.direction,
            direction_reason: self.direction_reason,
            plan_links: self.plan_links,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// As recorded by this time: RFC 3339 (`2021-06-01T09:00:00+09:00`) or UTC without offset
    #[param(max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub as_of: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanYearQuery {
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// As recorded by this time: RFC 3339 (`2021-06-01T09:00:00+09:00`) or UTC without offset
    #[param(max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub as_of: Option<String>,
    /// Measures per page (1–500, default 50)
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Measures to skip (0–1000000, default 0)
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
    /// Overrides the Accept header: json, csv or xlsx (the spreadsheets hold every measure)
    pub format: Option<Format>,
}

const MEASURE_EVALUATION: &str = "measure-evaluation";
const MEASURE_ASSESSMENT: &str = "measure-assessment";

/// A measure's 施策評価 of one year: the year's roadmap step, the plan's grading scale and 方向性,
/// every owning department's evaluation (or that it is missing) and the 本部's assessment; with
/// `as_of`, as they stood then.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), AsOfQuery),
    responses((status = 200, body = MeasureYearEvaluation)))]
#[get("/measures/{id}/evaluations/{fiscal_year}")]
pub async fn get_measure_year(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<MeasureId>,
    year: YearInPath,
    query: Query<AsOfQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, year) = (id.existing()?, year.0);
    let as_of = parse_as_of(query.as_of.as_deref())?;
    let evaluation = db.read(move |conn| measure_year::for_measure(conn, id, year, as_of)).await?;
    Ok(HttpResponse::Ok().json(evaluation))
}

/// The department evaluation a path names: the measure as isolation resolved it, the year, and
/// the department (one of the measure's, or no evaluation is found).
fn evaluation_of(
    measure: Resolved<MeasureId>,
    YearInPath(year): YearInPath,
    DepartmentInPath(department): DepartmentInPath,
) -> Result<EvaluationOf, AppError> {
    Ok(EvaluationOf {
        measure_id: measure.existing()?.get(),
        fiscal_year: year.year(),
        department_id: department.get(),
    })
}

fn not_found(of: &EvaluationOf) -> AppError {
    AppError::not_found("measure evaluation", format!("{}/{}/{}", of.measure_id, of.fiscal_year, of.department_id))
}

/// One department's evaluation of a measure's year, with its ETag; with `as_of`, as it stood then.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("department_id" = i32, Path), AsOfQuery),
    responses((status = 200, body = DepartmentEvaluation, headers(("ETag" = String)))))]
#[get("/measures/{id}/evaluations/{fiscal_year}/departments/{department_id}")]
pub async fn get_department_evaluation(
    db: web::Data<Database>,
    _caller: Caller,
    measure: Resolved<MeasureId>,
    year: YearInPath,
    department: DepartmentInPath,
    query: Query<AsOfQuery>,
) -> Result<HttpResponse, AppError> {
    let of = evaluation_of(measure, year, department)?;
    let as_of = parse_as_of(query.as_of.as_deref())?;
    let evaluation = db
        .read(move |conn| {
            measure_evaluations::find(conn, of.measure_id, of.fiscal_year, of.department_id, as_of)?
                .ok_or_else(|| not_found(&of))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag(MEASURE_EVALUATION, evaluation.id, evaluation.version), &evaluation))
}

/// Submits or corrects a department's evaluation of a measure's year (the department, for a
/// measure it owns that year, or hq on its behalf).
///
/// Overwriting needs `If-Match` with its ETag: missing → 428, stale → 412. An approved evaluation
/// is closed until hq reopens it (409).
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("department_id" = i32, Path),
        ("If-Match" = Option<String>, Header)),
    request_body = SubmitMeasureEvaluation, responses(
    (status = 200, description = "corrected", body = DepartmentEvaluation, headers(("ETag" = String))),
    (status = 201, description = "first submission", body = DepartmentEvaluation, headers(("ETag" = String))),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 428, body = Problem, content_type = "application/problem+json"),
))]
#[put("/measures/{id}/evaluations/{fiscal_year}/departments/{department_id}")]
pub async fn submit_department_evaluation(
    Writer(caller): Writer,
    req: HttpRequest,
    db: web::Data<Database>,
    measure: Resolved<MeasureId>,
    year: YearInPath,
    department: DepartmentInPath,
    body: JsonBody<SubmitMeasureEvaluation>,
) -> Result<HttpResponse, AppError> {
    let of = evaluation_of(measure, year, department)?;
    let precondition = precondition(&req);
    let (evaluation, created) = db
        .write(caller.write_scope(), move |conn| {
            // Scope, then If-Match, then the body: a caller who may not write learns nothing more.
            let writable = cycle::writable_evaluation(conn, &caller, of.measure_id, of.fiscal_year, of.department_id)?;
            writable.check_precondition(&precondition?)?;
            let report = body.parse()?.into_report();
            writable.write(conn, &caller, &report)
        })
        .await?;
    let response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(versioned(response, etag(MEASURE_EVALUATION, evaluation.id, evaluation.version), &evaluation))
}

/// Every version of a department's evaluation, oldest first: content, status, who, when.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("department_id" = i32, Path), PageParams),
    responses((status = 200, body = Page<DepartmentEvaluationEvent>)))]
#[get("/measures/{id}/evaluations/{fiscal_year}/departments/{department_id}/history")]
pub async fn department_evaluation_history(
    db: web::Data<Database>,
    _caller: Caller,
    measure: Resolved<MeasureId>,
    year: YearInPath,
    department: DepartmentInPath,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let of = evaluation_of(measure, year, department)?;
    let history = db
        .read(move |conn| {
            let (events, total) = measure_evaluations::history_page(
                conn,
                of.measure_id,
                of.fiscal_year,
                of.department_id,
                limit,
                offset,
            )?;
            if total == 0 {
                return Err(not_found(&of));
            }
            Ok((events, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(history, limit, offset)))
}

/// hq approves a department's evaluation, returns it with a comment, or reopens an approved one
/// (the same workflow as actuals).
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("department_id" = i32, Path),
        ("If-Match" = Option<String>, Header)),
    request_body = ReviewActual, responses(
    (status = 200, body = DepartmentEvaluation, headers(("ETag" = String))),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/measures/{id}/evaluations/{fiscal_year}/departments/{department_id}/review")]
pub async fn review_department_evaluation(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    measure: Resolved<MeasureId>,
    year: YearInPath,
    department: DepartmentInPath,
    body: JsonBody<ReviewActual>,
) -> Result<HttpResponse, AppError> {
    let of = evaluation_of(measure, year, department)?;
    let precondition = precondition(&req);
    let evaluation = db
        .write(caller.write_scope(), move |conn| {
            let reviewable = cycle::reviewable_evaluation(conn, &caller, of, &precondition?)?;
            let body = body.parse()?;
            reviewable.review(conn, &caller, body.action, body.comment.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag(MEASURE_EVALUATION, evaluation.id, evaluation.version), &evaluation))
}

/// The 本部's assessment of a measure's year (本部評価, 方向性 and its reasons, the plan revisions
/// it led to), with its ETag; with `as_of`, as it stood then.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), AsOfQuery),
    responses((status = 200, body = HqAssessment, headers(("ETag" = String)))))]
#[get("/measures/{id}/evaluations/{fiscal_year}/assessment")]
pub async fn get_assessment(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<MeasureId>,
    year: YearInPath,
    query: Query<AsOfQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, year) = (id.existing()?, year.0);
    let as_of = parse_as_of(query.as_of.as_deref())?;
    let assessment = db
        .read(move |conn| {
            measure_evaluations::find_assessment(conn, id.get(), year.year(), as_of)?
                .ok_or_else(|| AppError::not_found("measure assessment", format!("{id}/{year}")))
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag(MEASURE_ASSESSMENT, assessment.id, assessment.version), &assessment))
}

/// hq records or revises its assessment of a measure's year: 本部評価 (A–D), a comment, a 方向性
/// from the plan's list with its reasons, and the plan revisions it led to (計画への反映: a target
/// revision, an added indicator, a completed or retired measure).
///
/// Revising needs `If-Match` with its ETag: missing → 428, stale → 412.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("If-Match" = Option<String>, Header)),
    request_body = AssessMeasure, responses(
    (status = 200, description = "revised", body = HqAssessment, headers(("ETag" = String))),
    (status = 201, description = "first assessment", body = HqAssessment, headers(("ETag" = String))),
    (status = 428, body = Problem, content_type = "application/problem+json"),
))]
#[put("/measures/{id}/evaluations/{fiscal_year}/assessment")]
pub async fn assess_measure(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    year: YearInPath,
    body: JsonBody<AssessMeasure>,
) -> Result<HttpResponse, AppError> {
    let (id, year) = (id.existing()?, year.0);
    let precondition = precondition(&req);
    let (assessment, created) = db
        .write(caller.write_scope(), move |conn| {
            let writable = cycle::writable_assessment(conn, &caller, id, year)?;
            writable.check_precondition(&precondition?)?;
            let decision = body.parse()?.into_decision();
            writable.write(conn, &caller, &decision)
        })
        .await?;
    let response = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(versioned(response, etag(MEASURE_ASSESSMENT, assessment.id, assessment.version), &assessment))
}

/// Every version of the 本部's assessment of a measure's year, oldest first.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])),
    params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), PageParams),
    responses((status = 200, body = Page<HqAssessmentEvent>)))]
#[get("/measures/{id}/evaluations/{fiscal_year}/assessment/history")]
pub async fn assessment_history(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<MeasureId>,
    year: YearInPath,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let (id, year) = (id.existing()?, year.0);
    let history = db
        .read(move |conn| {
            let (events, total) =
                measure_evaluations::assessment_history_page(conn, id.get(), year.year(), limit, offset)?;
            if total == 0 {
                return Err(AppError::not_found("measure assessment", format!("{id}/{year}")));
            }
            Ok((events, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(history, limit, offset)))
}

/// The 施策評価 of every measure of the plan counting in the year, in number order: departments'
/// evaluations and the 本部's assessments; with `as_of`, as they stood then. `Accept: text/csv` or
/// the xlsx media type (or `format=`) gives them as a table, one row per measure and department.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])), params(("id" = i32, Path), PlanYearQuery),
    responses(
    (status = 200, body = Page<MeasureYearEvaluation>, content(
        (Page<MeasureYearEvaluation> = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 406, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/measure-evaluations")]
pub async fn list_plan_measure_evaluations(
    req: HttpRequest,
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    query: Query<PlanYearQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, query.format)?;
    let (limit, offset) = page_bounds(query.limit, query.offset)?;
    let as_of = parse_as_of(query.as_of.as_deref())?;
    let (plan_id, year) = (id.existing()?, query.fiscal_year);
    let (plan_name, all) = db
        .read(move |conn| {
            let name = plans::get(conn, plan_id)?.name;
            Ok::<_, AppError>((name, measure_year::for_plan(conn, plan_id.get(), year, as_of)?))
        })
        .await?;
    let file = |extension: &str| format!("measure-evaluations-{plan_id}-{year}.{extension}");
    let blocking = |error: actix_web::error::BlockingError| AppError::Internal(error.to_string());
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(Page::of_all(all, limit, offset)),
        Format::Csv => HttpResponse::Ok()
            .content_type(CSV_MEDIA_TYPE)
            .insert_header(attachment(file("csv")))
            .body(web::block(move || spreadsheet::measure_evaluations_csv(&all)).await.map_err(blocking)??),
        Format::Xlsx => {
            let title = format!("{plan_name} 施策評価 {}", label(year));
            HttpResponse::Ok().content_type(XLSX_MEDIA_TYPE).insert_header(attachment(file("xlsx"))).body(
                web::block(move || spreadsheet::measure_evaluations_xlsx(&title, &all)).await.map_err(blocking)??,
            )
        }
    })
}

/// The 方向性 a plan's assessments choose from.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationDirections {
    pub plan_id: i32,
    #[schema(example = json!(["継続", "拡充", "改善・見直し", "縮小", "完了", "廃止"]))]
    pub directions: Vec<String>,
    /// The defaults (継続 / 拡充 / 改善・見直し / 縮小 / 完了 / 廃止)
    pub is_default: bool,
}

impl EvaluationDirections {
    fn new(plan_id: i32, directions: Vec<String>) -> Self {
        let is_default = directions == default_directions();
        Self { plan_id, directions, is_default }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"directions": ["継続", "拡充", "改善・見直し", "縮小", "統合", "完了", "廃止"]}))]
pub struct SetEvaluationDirections {
    /// The 方向性 in the order forms offer them; each named once
    #[serde(deserialize_with = "crate::domain::limits::names")]
    #[schema(max_items = 100, min_items = 1)]
    pub directions: Vec<String>,
}

/// The 方向性 the plan's assessments choose from (the defaults until hq sets the plan's own).
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = EvaluationDirections)))]
#[get("/plans/{id}/evaluation-directions")]
pub async fn get_evaluation_directions(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
) -> Result<HttpResponse, AppError> {
    let plan_id = id.existing()?;
    let directions = db.read(move |conn| measure_evaluations::directions(conn, plan_id.get())).await?;
    Ok(HttpResponse::Ok().json(EvaluationDirections::new(plan_id.get(), directions)))
}

/// hq sets the plan's 方向性. Recorded assessments keep the direction they chose.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = SetEvaluationDirections, responses((status = 200, body = EvaluationDirections)))]
#[put("/plans/{id}/evaluation-directions")]
pub async fn set_evaluation_directions(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<SetEvaluationDirections>,
) -> Result<HttpResponse, AppError> {
    let plan_id = id.existing()?;
    let directions = db
        .write(caller.write_scope(), move |conn| {
            let body = body.parse()?;
            cycle::set_directions(conn, &caller, plan_id, &body.directions)
        })
        .await?;
    Ok(HttpResponse::Ok().json(EvaluationDirections::new(plan_id.get(), directions)))
}

/// A plan revision and the assessment that led to it (計画への反映, seen from the revised side).
#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionOrigin {
    /// The measure that was assessed
    pub measure_id: i32,
    #[schema(example = 2019)]
    pub fiscal_year: i32,
    #[schema(example = "令和元(2019)年度")]
    pub fiscal_year_label: String,
    pub hq_grade: Grade,
    #[schema(example = "拡充")]
    pub direction: String,
    pub direction_reason: String,
    /// The revision
    pub revision: LinkedRevision,
}

/// What was revised: a measure (with its indicators) or one indicator.
#[derive(Debug, Clone, Copy)]
enum Revised {
    Measure(i32),
    Indicator(i32),
}

impl Revised {
    fn concerns(self, revision: &LinkedRevision) -> bool {
        match self {
            Self::Measure(id) => revision.measure_id == Some(id),
            Self::Indicator(id) => revision.indicator_id == Some(id),
        }
    }
}

/// The current assessments' links to revisions of `revised`, each with its assessment (404 for a
/// missing measure or indicator).
async fn revision_origins(
    db: web::Data<Database>,
    revised: Revised,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let assessments = db
        .read(move |conn| match revised {
            Revised::Measure(id) => measure_evaluations::assessments_linking_to(conn, Some(id), None),
            Revised::Indicator(id) => measure_evaluations::assessments_linking_to(conn, None, Some(id)),
        })
        .await?;
    let found: Vec<RevisionOrigin> = assessments
        .into_iter()
        .flat_map(|assessment| {
            let revisions: Vec<LinkedRevision> =
                assessment.plan_links.iter().filter(|link| revised.concerns(link)).cloned().collect();
            revisions.into_iter().map(move |revision| RevisionOrigin {
                measure_id: assessment.measure_id,
                fiscal_year: assessment.fiscal_year,
                fiscal_year_label: assessment.fiscal_year_label.clone(),
                hq_grade: assessment.hq_grade,
                direction: assessment.direction.clone(),
                direction_reason: assessment.direction_reason.clone(),
                revision,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::of_all(found, limit, offset)))
}

/// The assessments (施策評価) that led to revisions of this measure: its completion or retirement,
/// an indicator added to it, a target of one of its indicators.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])), params(("id" = i32, Path), PageParams),
    responses((status = 200, body = Page<RevisionOrigin>)))]
#[get("/measures/{id}/revision-origins")]
pub async fn measure_revision_origins(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<MeasureId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    revision_origins(db, Revised::Measure((id.existing()?).get()), page).await
}

/// The assessments (施策評価) that led to revisions of this indicator: its addition, its target
/// revisions.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])), params(("id" = i32, Path), PageParams),
    responses((status = 200, body = Page<RevisionOrigin>)))]
#[get("/indicators/{id}/revision-origins")]
pub async fn indicator_revision_origins(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    revision_origins(db, Revised::Indicator((id.existing()?).get()), page).await
}

/// Uploads departments' 施策評価 in the columns of the 施策評価 table (`GET
/// /plans/{id}/measure-evaluations?format=csv|xlsx`; CSV or xlsx, by Content-Type; an xlsx's first
/// sheet is read).
///
/// Rows are checked and scoped exactly like single submissions (施策ID, 年度, 所管課ID, 取組実績, 進捗,
/// 進捗の理由, 自己評価, 課題, 今後の方向性; the 本部's columns are not read); overwriting an
/// existing evaluation needs its version in the 版 column; a row reporting nothing is left as it is.
/// A dry run reports what would change; a real run applies all rows or none (422 with the report).
/// Files are bounded as the actuals' import is.
#[utoipa::path(tag = "measure evaluations", security(("bearer" = [])), params(("id" = i32, Path), ImportQuery),
    request_body(content(
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
    (status = 200, body = EvaluationImportReport),
    (status = 412, description = "an evaluation changed while the file was checked; nothing was applied", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "row errors or a file past a bound: nothing was applied; row errors carry `report` (an EvaluationImportReport)", body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/measure-evaluations/import")]
pub async fn import_measure_evaluations(
    Writer(caller): Writer,
    req: HttpRequest,
    mut payload: web::Payload,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    query: Query<ImportQuery>,
) -> Result<HttpResponse, AppError> {
    let file = read_upload::<MeasureEvaluations>(&req, &mut payload).await?;
    let (plan_id, dry_run) = (id.existing()?, query.dry_run);
    let checker = caller.clone();
    // Every row is checked before the write transaction starts, which then only writes.
    let checked =
        db.read(move |conn| evaluation_import::check_import(conn, &checker, plan_id.get(), file, dry_run)).await?;
    let report = if checked.can_apply() {
        db.bulk_write(caller.write_scope(), move |conn| evaluation_import::apply_import(conn, &caller, checked)).await?
    } else {
        checked.report
    };
    if report.error_count > 0 {
        return Ok(rejected_import(&report, &report.errors, report.error_count));
    }
    Ok(HttpResponse::Ok().json(report))
}

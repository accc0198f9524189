//! Measures (推進施策): list with filters, create, edit, complete/retire, owners.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, Query, precondition, versioned};
use super::pagination::{Page, page_bounds};
use super::resolved::{DepartmentInPath, Resolved};
use crate::auth::{Caller, Hq};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::measures::{self, InitialOwner, MeasureFields, MeasureFilter};
use crate::domain::ids::{MeasureId, PlanId};
use crate::domain::measure::{Measure, RoadmapEntry};
use crate::domain::plan::{MeasureStatus, ReviewCategory};
use crate::error::{AppError, Problem};
use crate::response_cache::{CacheKey, DataVersion, ResponseCache};
use crate::versioning::{check_version, etag};

/// The query of `GET /plans/{id}/measures`: the filter and the page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MeasureQuery {
    /// Measures this department owns (lead or co-owner), now or in the past.
    pub department_id: Option<i32>,
    /// Measures whose ◎ or ○ goal is this goal.
    pub goal_id: Option<i32>,
    pub strategy_id: Option<i32>,
    pub review_category: Option<ReviewCategory>,
    pub status: Option<MeasureStatus>,
    /// Measures of this phase (measures of the whole plan are not listed)
    pub phase_id: Option<i32>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

impl MeasureQuery {
    fn to_filter(&self) -> MeasureFilter {
        MeasureFilter {
            department_id: self.department_id,
            goal_id: self.goal_id,
            strategy_id: self.strategy_id,
            review_category: self.review_category,
            status: self.status,
            phase_id: self.phase_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeasure {
    #[schema(example = 42)]
    pub number: i32,
    #[schema(example = "行政手続のオンライン化", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub summary: String,
    pub strategy_id: Option<i32>,
    /// ◎ the goal it counts under, at any level (基本目標, 基本方針, 計画の目的); leave out when the plan
    /// places the measure under none
    pub main_goal_id: Option<i32>,
    /// ○
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub secondary_goal_ids: Vec<i32>,
    /// 所管課, lead first
    #[serde(deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub owner_department_ids: Vec<i32>,
    #[serde(default)]
    pub owners_and_others: bool,
    /// 見直し区分; leave out when no source states one
    pub review_category: Option<ReviewCategory>,
    /// For a measure added mid-plan: its first fiscal year
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub added_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub change_notes: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub roadmap: Vec<RoadmapEntry>,
    /// The phase of this plan (実施計画 前期/後期) the measure belongs to; leave out for a measure
    /// that runs through the whole plan
    pub phase_id: Option<i32>,
    /// The measure of an earlier plan this one carries over
    pub predecessor_id: Option<i32>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[schema(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeasure {
    pub number: Option<i32>,
    /// A new name (推進施策名の変更); the old one stays in the audit log
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub strategy_id: Option<Option<i32>>,
    /// `null` places the measure under no goal
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub main_goal_id: Option<Option<i32>>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_list")]
    #[schema(max_items = 100)]
    pub secondary_goal_ids: Option<Vec<i32>>,
    /// Moves the measure into a phase; `null`: it runs through the whole plan
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub phase_id: Option<Option<i32>>,
    /// The measure of an earlier plan this one carries over; `null` removes the link
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub predecessor_id: Option<Option<i32>>,
    pub owners_and_others: Option<bool>,
    /// `null`: no source states one
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<ReviewCategory>)]
    pub review_category: Option<Option<ReviewCategory>>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub change_notes: Option<String>,
    /// Replaces the whole roadmap
    #[serde(default, deserialize_with = "crate::domain::limits::optional_list")]
    #[schema(max_items = 100)]
    pub roadmap: Option<Vec<RoadmapEntry>>,
    #[schema(example = "文言を統一するため名称を変更", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
    /// How this record reads its sources where they are silent or inferred; `null` removes the note
    #[schema(max_length = 2000, value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_nullable_text")]
    pub reading_note: Option<Option<String>>,
}

impl UpdateMeasure {
    /// The stored fields with what this PATCH names replaced; what it leaves out stays.
    pub fn merged_into(self, mut fields: MeasureFields) -> MeasureFields {
        fields.number = self.number.unwrap_or(fields.number);
        if let Some(name) = self.name {
            fields.name = name.trim().to_owned();
        }
        fields.summary = self.summary.unwrap_or(fields.summary);
        fields.strategy_id = self.strategy_id.unwrap_or(fields.strategy_id);
        fields.main_goal_id = self.main_goal_id.unwrap_or(fields.main_goal_id);
        fields.phase_id = self.phase_id.unwrap_or(fields.phase_id);
        fields.predecessor_id = self.predecessor_id.unwrap_or(fields.predecessor_id);
        fields.secondary_goal_ids = self.secondary_goal_ids.unwrap_or(fields.secondary_goal_ids);
        fields.owners_and_others = self.owners_and_others.unwrap_or(fields.owners_and_others);
        fields.review_category = self.review_category.unwrap_or(fields.review_category);
        fields.change_notes = self.change_notes.or(fields.change_notes);
        fields.roadmap = self.roadmap.unwrap_or(fields.roadmap);
        fields.reading_note = self.reading_note.unwrap_or(fields.reading_note);
        fields
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMeasureStatus {
    pub status: MeasureStatus,
    /// The fiscal year the measure was completed or retired (not needed to reactivate)
    #[schema(example = 2017, minimum = 1989, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub fiscal_year: Option<i32>,
    #[schema(example = "区内全街区のデータ化が完了したため完了", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddOwner {
    pub department_id: i32,
    /// First fiscal year of ownership
    #[schema(example = 2018, minimum = 1989, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub from_fiscal_year: Option<i32>,
    #[schema(example = "指標2を新設したことに併せて所管課を追加", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
    /// How this link reads its sources (a 所管課 assumed where no source names one)
    #[schema(example = "所管課を記した資料はない: IT推進課を仮定した", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

/// The body of `PATCH /measures/{id}/owners/{department_id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOwner {
    /// How this link reads its sources; `null` removes the note, leaving it out keeps it
    #[schema(max_length = 2000, value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_nullable_text")]
    pub reading_note: Option<Option<String>>,
    #[schema(example = "所管課の根拠を追記", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RemoveOwnerQuery {
    /// Last fiscal year the department owns the measure
    #[param(minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub last_fiscal_year: i32,
    #[param(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
}

/// A plan's measures in number order, filtered by department, goal, strategy, category or status.
#[utoipa::path(tag = "measures", security(("bearer" = [])), params(("id" = i32, Path), MeasureQuery), responses(
    (status = 200, body = Page<Measure>),
))]
#[get("/plans/{id}/measures")]
pub async fn list_measures(
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    _caller: Caller,
    version: DataVersion,
    id: Resolved<PlanId>,
    filter: Query<MeasureQuery>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(filter.limit, filter.offset)?;
    let plan_id = id.existing()?;
    let filter = filter.to_filter();
    let key = CacheKey::Measures { plan_id, filter, limit, offset };
    cache
        .into_inner()
        .json_response(&db, version, key, move |conn| {
            Ok(Page::new(measures::list(conn, plan_id, &filter, limit, offset)?, limit, offset))
        })
        .await
}

/// One measure with owners, goals and roadmap.
#[utoipa::path(tag = "measures", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, body = Measure, headers(("ETag" = String))),
))]
#[get("/measures/{id}")]
pub async fn get_measure(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<MeasureId>,
) -> Result<HttpResponse, AppError> {
    let id = id.existing()?;
    let measure = db.read(move |conn| measures::get(conn, id)).await?;
    Ok(versioned(HttpResponse::Ok(), etag("measure", measure.id, measure.version), &measure))
}

/// Adds a measure to a plan (hq), e.g. a 新規 measure in a 追録版.
#[utoipa::path(tag = "measures", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CreateMeasure, responses(
    (status = 201, body = Measure),
))]
#[post("/plans/{id}/measures")]
pub async fn create_measure(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<CreateMeasure>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let plan_id = id.existing()?;
    let fields = MeasureFields {
        number: body.number,
        name: body.name.trim().to_owned(),
        summary: body.summary,
        strategy_id: body.strategy_id,
        main_goal_id: body.main_goal_id,
        secondary_goal_ids: body.secondary_goal_ids,
        review_category: body.review_category,
        owners_and_others: body.owners_and_others,
        added_fiscal_year: body.added_fiscal_year,
        change_notes: body.change_notes,
        phase_id: body.phase_id,
        predecessor_id: body.predecessor_id,
        roadmap: body.roadmap,
        reading_note: body.reading_note,
    };
    let owners: Vec<InitialOwner> = body
        .owner_department_ids
        .iter()
        .map(|&department_id| InitialOwner {
            department_id,
            from_fiscal_year: body.added_fiscal_year,
            reading_note: None,
        })
        .collect();
    let actor = Actor::from(&caller);
    let measure =
        db.write(caller.write_scope(), move |conn| measures::create(conn, &actor, plan_id, &fields, &owners)).await?;
    Ok(versioned(HttpResponse::Created(), etag("measure", measure.id, measure.version), &measure))
}

/// Edits a measure (hq): rename, summary, goals, strategy, category, roadmap. `If-Match` optional.
#[utoipa::path(tag = "measures", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateMeasure, responses(
    (status = 200, body = Measure, headers(("ETag" = String))),
))]
#[patch("/measures/{id}")]
pub async fn update_measure(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    body: JsonBody<UpdateMeasure>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let measure = db
        .write(caller.write_scope(), move |conn| {
            let current = measures::get(conn, id)?;
            check_version("measure", current.version, expected)?;
            let body = body.parse()?;
            let reason = body.reason.clone();
            let fields = body.merged_into(MeasureFields::from(&current));
            measures::update(conn, &actor, id, expected, &fields, reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("measure", measure.id, measure.version), &measure))
}

/// Completes (完了) or retires a measure in a fiscal year, or reactivates it (hq).
#[utoipa::path(tag = "measures", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = ChangeMeasureStatus, responses(
    (status = 200, body = Measure),
))]
#[post("/measures/{id}/status")]
pub async fn change_measure_status(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    body: JsonBody<ChangeMeasureStatus>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let measure = db
        .write(caller.write_scope(), move |conn| {
            check_version("measure", measures::get(conn, id)?.version, expected)?;
            let body = body.parse()?;
            measures::set_status(conn, &actor, id, expected, body.status, body.fiscal_year, body.reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("measure", measure.id, measure.version), &measure))
}

/// Adds an owning department from a fiscal year (所管課の追加, hq).
#[utoipa::path(tag = "measures", security(("bearer" = [])), params(("id" = i32, Path)), request_body = AddOwner, responses(
    (status = 200, body = Measure),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/measures/{id}/owners")]
pub async fn add_owner(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    body: JsonBody<AddOwner>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let measure = db
        .write(caller.write_scope(), move |conn| {
            let owner = InitialOwner {
                department_id: body.department_id,
                from_fiscal_year: body.from_fiscal_year,
                reading_note: body.reading_note,
            };
            measures::add_owner(conn, &actor, id, &owner, body.reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("measure", measure.id, measure.version), &measure))
}

/// Changes the reading note of a department's current ownership (hq); the audit log keeps the old one.
#[utoipa::path(tag = "measures", security(("bearer" = [])),
    params(("id" = i32, Path), ("department_id" = i32, Path)), request_body = UpdateOwner, responses(
    (status = 200, body = Measure),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/measures/{id}/owners/{department_id}")]
pub async fn update_owner(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    department: DepartmentInPath,
    body: JsonBody<UpdateOwner>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let (id, DepartmentInPath(department_id)) = (id.existing()?, department);
    let measure = db
        .write(caller.write_scope(), move |conn| {
            let note = body.reading_note.as_ref().map(Option::as_deref);
            measures::set_owner_reading_note(conn, &actor, id, department_id, note, body.reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("measure", measure.id, measure.version), &measure))
}

/// Ends a department's ownership after a fiscal year (hq); the history keeps it.
#[utoipa::path(tag = "measures", security(("bearer" = [])),
    params(("id" = i32, Path), ("department_id" = i32, Path), RemoveOwnerQuery), responses(
    (status = 200, body = Measure),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/measures/{id}/owners/{department_id}")]
pub async fn remove_owner(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    department: DepartmentInPath,
    query: Query<RemoveOwnerQuery>,
) -> Result<HttpResponse, AppError> {
    let actor = Actor::from(&caller);
    let (id, DepartmentInPath(department_id)) = (id.existing()?, department);
    let query = query.into_inner();
    let measure = db
        .write(caller.write_scope(), move |conn| {
            measures::remove_owner(conn, &actor, id, department_id, query.last_fiscal_year, query.reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("measure", measure.id, measure.version), &measure))
}

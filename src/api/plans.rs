//! Plans, their basic goals (基本目標) and strategies (重点戦略).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, MAX_JSON_BODY_BYTES, MAX_UPLOAD_BYTES, Query, precondition, read_body, versioned};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::Resolved;
use crate::auth::{Caller, Hq};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::plan_making;
use crate::db::plans::{self, GoalFields, NameChange, PlanFields};
use crate::domain::achievement::GradingSettings;
use crate::domain::ids::{GoalId, PlanId, StrategyId};
use crate::domain::plan::PlanStatus;
use crate::domain::plan::{Goal, Phase, Plan, Strategy};
use crate::domain::plan_making::{GovernanceBody, Milestone, PlanMaking};
use crate::error::{AppError, Problem};
use crate::plan_document::{LoadReport, PlanDocument};
use crate::versioning::{check_version, etag};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    /// The caller's own municipality (may be omitted; another one is not found).
    pub municipality_id: Option<i32>,
    #[schema(example = "itabashi-dx-2025", max_length = 64)]
    #[serde(deserialize_with = "crate::domain::limits::code")]
    pub code: String,
    #[schema(example = "板橋区DX推進計画2025", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub description: String,
    #[schema(example = 2021, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub start_fiscal_year: i32,
    #[schema(example = 2025, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub end_fiscal_year: i32,
    #[schema(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub baseline_fiscal_year: Option<i32>,
    /// Default `draft`
    pub status: Option<PlanStatus>,
    pub predecessor_id: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub phases: Vec<Phase>,
    /// Default: progress basis, A ≥ 100, B ≥ 80, C ≥ 50; on track ≥ 0.95, behind ≥ 0.6
    pub grading: Option<GradingSettings>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[schema(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub start_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub end_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub baseline_fiscal_year: Option<i32>,
    pub status: Option<PlanStatus>,
    /// Replaces all phases; a phase sent with its `id` (or the name of an existing phase) keeps its
    /// id, so the goals and measures placed in it stay there
    #[serde(default, deserialize_with = "crate::domain::limits::optional_list")]
    #[schema(max_items = 100)]
    pub phases: Option<Vec<Phase>>,
    pub grading: Option<GradingSettings>,
    /// The plan this one succeeds (its predecessor); `null` removes the link
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub predecessor_id: Option<Option<i32>>,
    /// With a new `name`: the first fiscal year it is in force (evaluations of earlier years show the
    /// old name); without it a new name applies to every year
    #[schema(example = 2023, minimum = 1989, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub name_effective_fiscal_year: Option<i32>,
    /// Why the plan changed (名称変更の理由), kept in the history
    #[schema(example = "DXの推進を目的とする計画である旨を広く共有するため名称を変更", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
    /// How this record reads its sources where they are silent or inferred; `null` removes the note
    #[schema(max_length = 2000, value_type = Option<String>)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_nullable_text")]
    pub reading_note: Option<Option<String>>,
}

impl UpdatePlan {
    /// The stored fields with what this PATCH names replaced; what it leaves out stays.
    pub fn merged_into(self, mut fields: PlanFields) -> PlanFields {
        if let Some(name) = self.name {
            fields.name = name.trim().to_owned();
        }
        if let Some(description) = self.description {
            fields.description = description;
        }
        fields.start_fiscal_year = self.start_fiscal_year.unwrap_or(fields.start_fiscal_year);
        fields.end_fiscal_year = self.end_fiscal_year.unwrap_or(fields.end_fiscal_year);
        fields.baseline_fiscal_year = self.baseline_fiscal_year.or(fields.baseline_fiscal_year);
        fields.status = self.status.unwrap_or(fields.status);
        if let Some(phases) = self.phases {
            fields.phases = phases;
        }
        if let Some(grading) = self.grading {
            fields.grading = grading;
        }
        fields.predecessor_id = self.predecessor_id.unwrap_or(fields.predecessor_id);
        fields.reading_note = self.reading_note.unwrap_or(fields.reading_note);
        fields
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    pub status: Option<PlanStatus>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNumbered {
    #[schema(example = 2)]
    pub number: i32,
    #[schema(example = "区民サービスの向上", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
}

/// A goal at any level of the plan's structure.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGoal {
    #[schema(example = 1)]
    pub number: i32,
    #[schema(example = "区民サービスの質を高めるデジタル化", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    /// The level's name as the plan prints it (`基本目標`, `ICT活用ビジョン`, `基本方針`, `計画の目的`); default `基本目標`
    #[schema(example = "基本方針", max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub kind: Option<String>,
    /// The printed marker when not ①②… (`ア`)
    #[schema(example = "ア", max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub symbol: Option<String>,
    /// The goal of this plan this one serves (a 基本方針's ICT活用ビジョン)
    pub parent_id: Option<i32>,
    /// The phase of this plan the goal belongs to (a 基本方針 of the 前期実施計画)
    pub phase_id: Option<i32>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted)
    #[schema(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoalQuery {
    /// Only goals of this kind (`基本方針`)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    #[param(max_length = 64)]
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    #[schema(example = "官民データの利活用", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[schema(example = "官デ法に合わせて名称を変更", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
}

/// Plans, oldest first.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(PlanQuery), responses(
    (status = 200, body = Page<Plan>),
))]
#[get("/plans")]
pub async fn list_plans(
    db: web::Data<Database>,
    caller: Caller,
    query: Query<PlanQuery>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(query.limit, query.offset)?;
    let status = query.status;
    let municipality_id = caller.own_municipality(None)?;
    let found = db.read(move |conn| plans::list(conn, municipality_id, status, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// One plan with its phases and grading settings.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, body = Plan, headers(("ETag" = String))),
))]
#[get("/plans/{id}")]
pub async fn get_plan(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
) -> Result<HttpResponse, AppError> {
    let id = id.existing()?;
    let plan = db.read(move |conn| plans::get(conn, id)).await?;
    Ok(versioned(HttpResponse::Ok(), etag("plan", plan.id, plan.version), &plan))
}

/// Creates a plan (hq).
#[utoipa::path(tag = "plans", security(("bearer" = [])), request_body = CreatePlan, responses(
    (status = 201, body = Plan),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans")]
pub async fn create_plan(
    Hq(caller): Hq,
    db: web::Data<Database>,
    body: JsonBody<CreatePlan>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let municipality_id = caller.own_municipality(body.municipality_id)?;
    let fields = PlanFields {
        code: body.code.trim().to_owned(),
        name: body.name.trim().to_owned(),
        description: body.description,
        start_fiscal_year: body.start_fiscal_year,
        end_fiscal_year: body.end_fiscal_year,
        baseline_fiscal_year: body.baseline_fiscal_year,
        status: body.status.unwrap_or(PlanStatus::Draft),
        predecessor_id: body.predecessor_id,
        phases: body.phases,
        grading: body.grading.unwrap_or_default(),
        reading_note: body.reading_note,
    };
    if fields.code.is_empty() {
        return Err(AppError::invalid("code", "must not be empty"));
    }
    let actor = Actor::from(&caller);
    let plan =
        db.write(caller.write_scope(), move |conn| plans::create(conn, &actor, municipality_id, &fields)).await?;
    Ok(versioned(HttpResponse::Created(), etag("plan", plan.id, plan.version), &plan))
}

/// Changes a plan's name, period, phases, status or grading settings (hq). `If-Match` optional.
/// A rename is kept with the fiscal year it takes effect (`name_effective_fiscal_year`).
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdatePlan, responses(
    (status = 200, body = Plan, headers(("ETag" = String))),
))]
#[patch("/plans/{id}")]
pub async fn update_plan(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<UpdatePlan>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let plan = db
        .write(caller.write_scope(), move |conn| {
            let current = plans::get(conn, id)?;
            check_version("plan", current.version, expected)?;
            let body = body.parse()?;
            let name_change =
                NameChange { effective_from_fiscal_year: body.name_effective_fiscal_year, reason: body.reason.clone() };
            let fields = body.merged_into(PlanFields::from(&current));
            plans::update(conn, &actor, id, expected, &fields, &name_change)
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("plan", plan.id, plan.version), &plan))
}

/// The plan's goals at every level (基本目標, ICT活用ビジョン, 基本方針, 計画の目的): whole-plan goals
/// first, then by phase, parents before children, by number.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path), GoalQuery), responses(
    (status = 200, body = Page<Goal>),
))]
#[get("/plans/{id}/goals")]
pub async fn list_goals(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    query: Query<GoalQuery>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(query.limit, query.offset)?;
    let id = id.existing()?;
    let kind = query.into_inner().kind;
    let goals = db.read(move |conn| plans::page_goals(conn, id, kind.as_deref(), limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(goals, limit, offset)))
}

/// Adds a goal (hq): a 基本目標 by default, or any level with `kind`, its parent and its phase.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CreateGoal, responses(
    (status = 201, body = Goal),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/goals")]
pub async fn create_goal(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<CreateGoal>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let fields = GoalFields {
        number: body.number,
        name: body.name.trim().to_owned(),
        kind: body
            .kind
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|| crate::domain::plan::DEFAULT_GOAL_KIND.to_owned()),
        symbol: body.symbol.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        parent_id: body.parent_id,
        phase_id: body.phase_id,
        reading_note: body.reading_note,
    };
    let actor = Actor::from(&caller);
    let plan_id = id.existing()?;
    let goal = db.write(caller.write_scope(), move |conn| plans::create_goal(conn, &actor, plan_id, &fields)).await?;
    Ok(HttpResponse::Created().json(goal))
}

/// Renames a basic goal (hq); the old name stays in the audit log.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), request_body = Rename, responses(
    (status = 200, body = Goal),
))]
#[patch("/goals/{id}")]
pub async fn rename_goal(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<GoalId>,
    body: JsonBody<Rename>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let goal = db
        .write(caller.write_scope(), move |conn| {
            plans::rename_goal(conn, &actor, id, body.name.trim(), body.reason.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(goal))
}

/// The plan's strategies (重点戦略), by number.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<Strategy>),
))]
#[get("/plans/{id}/strategies")]
pub async fn list_strategies(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let id = id.existing()?;
    let strategies = db.read(move |conn| plans::page_strategies(conn, id, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(strategies, limit, offset)))
}

/// Adds a strategy (hq).
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CreateNumbered, responses(
    (status = 201, body = Strategy),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/strategies")]
pub async fn create_strategy(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<CreateNumbered>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let plan_id = id.existing()?;
    let strategy = db
        .write(caller.write_scope(), move |conn| {
            plans::create_strategy(conn, &actor, plan_id, body.number, body.name.trim())
        })
        .await?;
    Ok(HttpResponse::Created().json(strategy))
}

/// Renames a strategy (hq); the old name stays in the audit log.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), request_body = Rename, responses(
    (status = 200, body = Strategy),
))]
#[patch("/strategies/{id}")]
pub async fn rename_strategy(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<StrategyId>,
    body: JsonBody<Rename>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let strategy = db
        .write(caller.write_scope(), move |conn| {
            plans::rename_strategy(conn, &actor, id, body.name.trim(), body.reason.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(strategy))
}

/// Imports a whole plan from a plan document (the TOML format of `demo/itabashi-ict-2020.toml`),
/// through the same checks as the API (hq). All or nothing.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), request_body(content((String = "application/toml"))), responses(
    (status = 201, body = LoadReport),
    (status = 409, body = Problem, content_type = "application/problem+json"),
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
    let report =
        db.bulk_write(caller.write_scope(), move |conn| crate::plan_document::load(conn, &actor, &document)).await?;
    Ok(HttpResponse::Created().json(report))
}

/// The body of `PUT /plans/{id}/making`: the whole 検討・決定体制 and list of milestones.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceMaking {
    /// 検討・決定体制: the bodies the plan passes through, in order
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub governance: Vec<GovernanceBody>,
    /// The dated steps of the drafting, in order
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub milestones: Vec<Milestone>,
    #[schema(example = "seed 002 6・7 から転記", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
}

/// How the plan was made, as its sources state it: the bodies that examine and decide it, in order,
/// and the dated steps of its drafting, each with its source.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, body = PlanMaking),
))]
#[get("/plans/{id}/making")]
pub async fn get_making(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
) -> Result<HttpResponse, AppError> {
    let id = id.existing()?;
    let making = db.read(move |conn| plan_making::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(making))
}

/// Replaces the plan's 検討・決定体制 and milestones as a whole (hq); the audit log keeps the old ones.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), request_body = ReplaceMaking,
    responses((status = 200, body = PlanMaking)))]
#[put("/plans/{id}/making")]
pub async fn replace_making(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<ReplaceMaking>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let making = db
        .write(caller.write_scope(), move |conn| {
            let making = PlanMaking { governance: body.governance, milestones: body.milestones };
            plan_making::replace(conn, &actor, id, &making, body.reason.as_deref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(making))
}

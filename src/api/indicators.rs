//! Indicators (指標): definition, retirement and replacement, target and definition revisions.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{JsonBody, Query, precondition, versioned};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::Resolved;
use crate::auth::{Caller, Hq, ReadAlready};
use crate::db::audit::Actor;
use crate::db::indicators::{self, IndicatorFields, NewDefinition, NewTarget};
use crate::db::{Database, DbConnection};
use crate::domain::achievement::{Direction, GradeBasis};
use crate::domain::ids::{IndicatorId, MeasureId};
use crate::domain::indicator::{Baseline, DefinitionRevision, Indicator, TargetRevision};
use crate::domain::plan::IndicatorKind;
use crate::error::{AppError, Problem};
use crate::response_cache::{CacheKey, DataVersion, ResponseCache};
use crate::versioning::{check_version, etag};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "number": 2,
    "name": "マイナンバーカードの交付率(交付件数/人口)",
    "unit": "%",
    "kind": "ratio",
    "direction": "increase",
    "numerator_label": "交付件数",
    "denominator_label": "人口",
    "baseline": {"fiscal_year": 2017, "value": 15.2, "text": "15.2%"},
    "added_fiscal_year": 2018,
    "target": {"value": 35.1, "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018, "reason": "指標2の設定"}
}))]
pub struct CreateIndicator {
    pub number: Option<i32>,
    #[serde(deserialize_with = "crate::domain::limits::name")]
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default, deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub description: String,
    #[serde(default, deserialize_with = "crate::domain::limits::name")]
    #[schema(max_length = 200)]
    pub unit: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub numerator_label: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub denominator_label: Option<String>,
    /// Milestones: ordered stages
    #[serde(default, deserialize_with = "crate::domain::limits::names")]
    #[schema(max_items = 100)]
    pub stages: Vec<String>,
    pub department_id: Option<i32>,
    #[serde(default)]
    pub baseline: Baseline,
    pub grade_basis: Option<GradeBasis>,
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub added_fiscal_year: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub reading_note: Option<String>,
    /// The national definition this indicator implements (`GET /national-indicators`); it must
    /// be of the same kind
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    #[schema(example = "dx2-mynumber-card-issuance-rate", max_length = 64)]
    pub national_indicator_code: Option<String>,
    /// The first target, recorded as the first revision
    pub target: Option<ReviseTarget>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIndicator {
    pub number: Option<i32>,
    /// A new name (指標の修正); the old one stays in the audit log
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub unit: Option<String>,
    pub kind: Option<IndicatorKind>,
    pub direction: Option<Direction>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub numerator_label: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub denominator_label: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_names")]
    #[schema(max_items = 100)]
    pub stages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub department_id: Option<Option<i32>>,
    pub baseline: Option<Baseline>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<GradeBasis>)]
    pub grade_basis: Option<Option<GradeBasis>>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub reading_note: Option<String>,
    /// Links the indicator to a national definition (same kind), or `null` unlinks it; the change
    /// is in the audit log
    #[serde(default, deserialize_with = "crate::domain::limits::optional_nullable_code")]
    #[schema(value_type = Option<String>, example = "dx2-mynumber-card-issuance-rate", max_length = 64)]
    pub national_indicator_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

impl UpdateIndicator {
    /// The stored fields with what this PATCH names replaced; what it leaves out stays.
    pub fn merged_into(self, mut fields: IndicatorFields) -> IndicatorFields {
        fields.number = self.number.or(fields.number);
        if let Some(name) = self.name {
            fields.name = name.trim().to_owned();
        }
        fields.description = self.description.unwrap_or(fields.description);
        fields.unit = self.unit.unwrap_or(fields.unit);
        fields.kind = self.kind.unwrap_or(fields.kind);
        fields.direction = self.direction.unwrap_or(fields.direction);
        fields.numerator_label = self.numerator_label.or(fields.numerator_label);
        fields.denominator_label = self.denominator_label.or(fields.denominator_label);
        fields.stages = self.stages.unwrap_or(fields.stages);
        fields.department_id = self.department_id.unwrap_or(fields.department_id);
        fields.baseline = self.baseline.unwrap_or(fields.baseline);
        fields.grade_basis = self.grade_basis.unwrap_or(fields.grade_basis);
        fields.reading_note = self.reading_note.or(fields.reading_note);
        fields.national_indicator_code = self.national_indicator_code.unwrap_or(fields.national_indicator_code);
        fields
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "value": 230, "text": "230 データセット", "target_fiscal_year": 2020, "effective_from_fiscal_year": 2018,
    "reason": "更なるオープンデータの公開促進を行うため、目標を210データセットから230データセットに上方修正"
}))]
pub struct ReviseTarget {
    /// Target value (number or decimal string); absent for ↑ and milestones
    #[schema(value_type = Option<f64>)]
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub value: Option<Decimal>,
    /// Milestones: index of the target stage
    pub stage: Option<i32>,
    /// The target as the plan prints it
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    #[schema(max_length = 200)]
    pub text: Option<String>,
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub target_fiscal_year: i32,
    /// Evaluations of this year and later use the new target
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    #[schema(minimum = 1989, maximum = 2100)]
    pub effective_from_fiscal_year: i32,
    /// Interim targets by fiscal year ("2019": 221)
    #[serde(default, deserialize_with = "crate::domain::decimal_input::by_fiscal_year")]
    #[schema(schema_with = crate::domain::decimal_input::by_fiscal_year_schema)]
    pub interim: BTreeMap<i32, Decimal>,
    #[serde(deserialize_with = "crate::domain::limits::text")]
    #[schema(max_length = 2000)]
    pub reason: String,
}

impl ReviseTarget {
    fn into_new_target(self) -> NewTarget {
        NewTarget {
            value: self.value,
            stage: self.stage,
            text: self.text,
            target_fiscal_year: self.target_fiscal_year,
            effective_from_fiscal_year: self.effective_from_fiscal_year,
            interim: self.interim,
            reason: self.reason,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireIndicator {
    /// First fiscal year in which the indicator is no longer evaluated
    #[schema(example = 2018, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub from_fiscal_year: i32,
    #[schema(example = "No15にまとめるため削除", max_length = 2000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceIndicator {
    /// First fiscal year of the new indicator (the old one is retired from then)
    #[schema(example = 2018, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub from_fiscal_year: i32,
    #[schema(example = "国が定める標準例の充足率に変更", max_length = 2000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub reason: String,
    pub replacement: CreateIndicator,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviseDefinition {
    #[schema(example = 2024, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub effective_from_fiscal_year: i32,
    #[schema(example = "マイナンバーカードの保有率(保有枚数/人口)", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub name: String,
    #[schema(example = "保有枚数", max_length = 200)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub numerator_label: Option<String>,
    #[schema(example = "人口", max_length = 200)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub denominator_label: Option<String>,
    #[schema(example = "国の定義変更(交付枚数→保有枚数)に合わせる", max_length = 2000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub reason: String,
}

impl CreateIndicator {
    fn fields(&self, added_fiscal_year: Option<i32>) -> IndicatorFields {
        IndicatorFields {
            number: self.number,
            name: self.name.trim().to_owned(),
            description: self.description.clone(),
            unit: self.unit.clone(),
            kind: self.kind,
            direction: self.direction,
            numerator_label: self.numerator_label.clone(),
            denominator_label: self.denominator_label.clone(),
            stages: self.stages.clone(),
            department_id: self.department_id,
            baseline: self.baseline.clone(),
            grade_basis: self.grade_basis,
            added_fiscal_year: added_fiscal_year.or(self.added_fiscal_year),
            reading_note: self.reading_note.clone(),
            national_indicator_code: self.national_indicator_code.clone(),
        }
    }

    /// Creates the indicator and its first target in the caller's transaction.
    fn create(
        self,
        conn: &mut DbConnection,
        actor: &Actor,
        measure_id: i32,
        added_fiscal_year: Option<i32>,
        replaces_id: Option<i32>,
    ) -> Result<Indicator, AppError> {
        let created = indicators::create(conn, actor, measure_id, &self.fields(added_fiscal_year), replaces_id)?;
        match self.target {
            Some(target) => {
                indicators::revise_target(conn, actor, IndicatorId::new(created.id), None, &target.into_new_target())?;
                indicators::get(conn, IndicatorId::new(created.id))
            }
            None => Ok(created),
        }
    }
}

/// A measure's indicators, retired ones included (see `status`).
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<Indicator>),
))]
#[get("/measures/{id}/indicators")]
pub async fn list_indicators(
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    _caller: Caller,
    version: DataVersion,
    id: Resolved<MeasureId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let measure_id = id.existing()?;
    let key = CacheKey::MeasureIndicators { measure_id, limit, offset };
    cache
        .into_inner()
        .json_response(&db, version, key, move |conn| {
            Ok(Page::new(indicators::page_for_measure(conn, measure_id, limit, offset)?, limit, offset))
        })
        .await
}

/// One indicator with its baseline and the current target.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, body = Indicator, headers(("ETag" = String))),
))]
#[get("/indicators/{id}")]
pub async fn get_indicator(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    read_already: ReadAlready<Indicator>,
) -> Result<HttpResponse, AppError> {
    let id = id.existing()?;
    let indicator = match read_already.0 {
        Some(indicator) => indicator,
        None => db.read(move |conn| indicators::get(conn, id)).await?,
    };
    Ok(versioned(HttpResponse::Ok(), etag("indicator", indicator.id, indicator.version), &indicator))
}

/// Adds an indicator to a measure (hq), optionally with its first target.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CreateIndicator, responses(
    (status = 201, body = Indicator),
))]
#[post("/measures/{id}/indicators")]
pub async fn create_indicator(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<MeasureId>,
    body: JsonBody<CreateIndicator>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let measure_id = id.existing()?;
    let indicator =
        db.write(caller.write_scope(), move |conn| body.create(conn, &actor, measure_id.get(), None, None)).await?;
    Ok(versioned(HttpResponse::Created(), etag("indicator", indicator.id, indicator.version), &indicator))
}

/// Edits an indicator's definition (hq). `If-Match` optional.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateIndicator, responses(
    (status = 200, body = Indicator, headers(("ETag" = String))),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/indicators/{id}")]
pub async fn update_indicator(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    body: JsonBody<UpdateIndicator>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let indicator = db
        .write(caller.write_scope(), move |conn| {
            let current = indicators::get(conn, id)?;
            check_version("indicator", current.version, expected)?;
            let body = body.parse()?;
            let reason = body.reason.clone();
            let fields = body.merged_into(IndicatorFields::from(&current));
            indicators::update(conn, &actor, id, expected, &fields, reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("indicator", indicator.id, indicator.version), &indicator))
}

/// Retires an indicator from a fiscal year (指標の削除, hq); earlier years keep it.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = RetireIndicator, responses(
    (status = 200, body = Indicator),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/indicators/{id}/retire")]
pub async fn retire_indicator(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    body: JsonBody<RetireIndicator>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let indicator = db
        .write(caller.write_scope(), move |conn| {
            check_version("indicator", indicators::get(conn, id)?.version, expected)?;
            let body = body.parse()?;
            indicators::retire(conn, &actor, id, expected, body.from_fiscal_year, &body.reason)
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("indicator", indicator.id, indicator.version), &indicator))
}

/// Replaces an indicator (指標の変更, hq): the old one is retired and the new one, linked to it, starts
/// in the same fiscal year. Both happen or neither.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path)), request_body = ReplaceIndicator, responses(
    (status = 201, body = Indicator),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/indicators/{id}/replace")]
pub async fn replace_indicator(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    body: JsonBody<ReplaceIndicator>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let indicator = db
        .write(caller.write_scope(), move |conn| {
            let old = indicators::retire(conn, &actor, id, None, body.from_fiscal_year, &body.reason)?;
            body.replacement.create(conn, &actor, old.measure_id, Some(body.from_fiscal_year), Some(old.id))
        })
        .await?;
    Ok(versioned(HttpResponse::Created(), etag("indicator", indicator.id, indicator.version), &indicator))
}

/// Every target revision, oldest first: value, target year, effective-from year, reason, who, when.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<TargetRevision>),
))]
#[get("/indicators/{id}/targets")]
pub async fn list_targets(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let id = id.existing()?;
    let targets = db.read(move |conn| indicators::list_targets(conn, id)).await?;
    Ok(HttpResponse::Ok().json(Page::of_all(targets, limit, offset)))
}

/// Revises a target (hq). The old target is kept; evaluations use the revision in force for
/// each year. With `If-Match` (the indicator's ETag) a concurrent revision gets 412.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = ReviseTarget, responses(
    (status = 201, body = TargetRevision),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/indicators/{id}/targets")]
pub async fn revise_target(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    body: JsonBody<ReviseTarget>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let (revision, indicator) = db
        .write(caller.write_scope(), move |conn| {
            check_version("indicator", indicators::get(conn, id)?.version, expected)?;
            let target = body.parse()?.into_new_target();
            let revision = indicators::revise_target(conn, &actor, id, expected, &target)?;
            Ok::<_, AppError>((revision, indicators::get(conn, id)?))
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(actix_web::http::header::ETag(etag("indicator", indicator.id, indicator.version)))
        .json(revision))
}

/// Definition revisions, oldest first.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<DefinitionRevision>),
))]
#[get("/indicators/{id}/definitions")]
pub async fn list_definitions(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let id = id.existing()?;
    let definitions = db
        .read(move |conn| {
            indicators::get(conn, id)?;
            indicators::list_definitions(conn, &[id.get()])
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::of_all(definitions, limit, offset)))
}

/// Records a definition change from a fiscal year (hq), e.g. 交付枚数/人口 → 保有枚数/人口.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path)), request_body = ReviseDefinition, responses(
    (status = 201, body = DefinitionRevision),
))]
#[post("/indicators/{id}/definitions")]
pub async fn revise_definition(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    body: JsonBody<ReviseDefinition>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let revision = db
        .write(caller.write_scope(), move |conn| {
            indicators::revise_definition(
                conn,
                &actor,
                id,
                &NewDefinition {
                    effective_from_fiscal_year: body.effective_from_fiscal_year,
                    name: body.name.trim(),
                    numerator_label: body.numerator_label.as_deref(),
                    denominator_label: body.denominator_label.as_deref(),
                    reason: &body.reason,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(revision))
}

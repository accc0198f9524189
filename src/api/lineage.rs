//! Successive plans: an indicator's series across the chain of plans, the link to the indicator it
//! continues, and the references a plan follows (plans above it, national policies).

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{JsonBody, Query, precondition, versioned};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::Resolved;
use crate::auth::{Caller, Hq};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::indicators;
use crate::db::plan_references::{self, NewReference};
use crate::domain::ids::{IndicatorId, PlanId};
use crate::domain::indicator::Indicator;
use crate::domain::plan_reference::{PlanReference, ReferenceKind};
use crate::error::AppError;
use crate::evaluation::series::{self, SeriesYear};
use crate::versioning::{check_version, etag};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkPredecessor {
    /// The indicator of an earlier plan this one continues; `null` removes the link
    pub predecessor_id: Option<i32>,
    #[schema(example = "ICT推進・活用計画2020の指標を継続", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReference {
    pub kind: ReferenceKind,
    #[schema(example = "いたばし№1実現プラン2025", max_length = 200)]
    #[serde(deserialize_with = "crate::domain::limits::name")]
    pub title: String,
    /// The referenced plan, when it is kept here too
    pub referenced_plan_id: Option<i32>,
    #[schema(example = "https://www.city.itabashi.tokyo.jp/", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub url: Option<String>,
    #[schema(example = "重点戦略「DX戦略」を踏まえる", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub notes: Option<String>,
    /// Which source names the reference
    #[schema(example = "seed 000 2", max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub source: Option<String>,
    /// When the referenced law or plan was issued: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as precisely as
    /// the source dates it
    #[schema(example = "2017-05", max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub issued: Option<String>,
    /// How the reference reads its source where it is silent or inferred
    #[schema(max_length = 2000)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    pub reading_note: Option<String>,
}

/// The indicator's series across the chain of plans linked by `predecessor_id` (FY2016–2025 for an
/// indicator continued from the 2020 plan): each fiscal year with the plan and phase in force, the
/// target in force, the approved actual and the achievement. At most 20 plans; paginated by year.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<SeriesYear>, example = json!({"total": 10, "limit": 1, "offset": 5, "items": [{
        "fiscal_year": 2021, "fiscal_year_label": "令和3(2021)年度", "plan_id": 2, "plan_code": "itabashi-dx-2025",
        "plan_name": "板橋区ICT推進・活用計画2025", "phase_id": 3, "phase_name": "前期実施計画", "indicator_id": 80,
        "indicator_name": "ぴったりサービスでオンライン申請できる手続数", "target": null, "approved_actual": null,
        "result": {"achieved": null, "status": "not_assessable", "pending": false}
    }]})),
))]
#[get("/indicators/{id}/series")]
pub async fn indicator_series(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<IndicatorId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let id = id.existing()?;
    let years = db.read(move |conn| series::load(conn, id)).await?;
    Ok(HttpResponse::Ok().json(Page::of_all(years, limit, offset)))
}

/// Links an indicator to the one it continues in an earlier plan (hq), or removes the link with
/// `null`; the two series become one. `If-Match` optional.
#[utoipa::path(tag = "indicators", security(("bearer" = [])), params(("id" = i32, Path), ("If-Match" = Option<String>, Header)),
    request_body = LinkPredecessor, responses(
    (status = 200, body = Indicator, headers(("ETag" = String))),
))]
#[put("/indicators/{id}/predecessor")]
pub async fn link_predecessor(
    Hq(caller): Hq,
    req: HttpRequest,
    db: web::Data<Database>,
    id: Resolved<IndicatorId>,
    body: JsonBody<LinkPredecessor>,
) -> Result<HttpResponse, AppError> {
    let expected = precondition(&req)?.expected();
    let actor = Actor::from(&caller);
    let id = id.existing()?;
    let indicator = db
        .write(caller.write_scope(), move |conn| {
            check_version("indicator", indicators::get(conn, id)?.version, expected)?;
            let body = body.parse()?;
            indicators::link_predecessor(conn, &actor, id, body.predecessor_id, body.reason.as_deref())
        })
        .await?;
    Ok(versioned(HttpResponse::Ok(), etag("indicator", indicator.id, indicator.version), &indicator))
}

/// The plans above this one and the national policies it follows, in the order recorded.
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<PlanReference>),
))]
#[get("/plans/{id}/references")]
pub async fn list_references(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let id = id.existing()?;
    let found = db.read(move |conn| plan_references::page(conn, id, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// Records a plan above this one or a national policy it follows (hq).
#[utoipa::path(tag = "plans", security(("bearer" = [])), params(("id" = i32, Path)), request_body = CreateReference, responses(
    (status = 201, body = PlanReference),
))]
#[post("/plans/{id}/references")]
pub async fn create_reference(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<CreateReference>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let reference = NewReference {
        kind: body.kind,
        title: body.title,
        referenced_plan_id: body.referenced_plan_id,
        url: body.url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()),
        notes: body.notes,
        source: body.source,
        issued: body.issued,
        reading_note: body.reading_note,
    };
    let actor = Actor::from(&caller);
    let plan_id = id.existing()?;
    let created =
        db.write(caller.write_scope(), move |conn| plan_references::create(conn, &actor, plan_id, &reference)).await?;
    Ok(HttpResponse::Created().json(created))
}

//! Collection windows (収集期間): when a year's actuals are collected, and their deadline.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{JsonBody, Query};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::{Resolved, YearInPath};
use crate::auth::{Caller, Hq};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::collections;
use crate::domain::collection::{Collection, CollectionWarning, deadline_warning};
use crate::domain::ids::PlanId;
use crate::error::{AppError, Problem};

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

/// A collection as written, with what hq should look at again: a deadline that is already over is
/// accepted (a year may be opened late on purpose) but warned about, since everything outstanding
/// counts as late (期限超過) at once.
#[derive(Serialize, ToSchema)]
pub struct WrittenCollection {
    #[serde(flatten)]
    pub collection: Collection,
    /// Empty when nothing needs a second look; `deadline_passed` when the deadline is already over
    pub warnings: Vec<CollectionWarning>,
}

impl WrittenCollection {
    /// `set_deadline`: the request set the deadline (closing a window whose deadline is over is
    /// no cause for a warning).
    fn judged(collection: Collection, set_deadline: bool) -> Self {
        let set = collection.deadline.filter(|_| set_deadline);
        let warnings = deadline_warning(set, chrono::Utc::now().naive_utc()).into_iter().collect();
        Self { collection, warnings }
    }
}

/// Collection windows of a plan, by fiscal year.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<Collection>),
))]
#[get("/plans/{id}/collections")]
pub async fn list_collections(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let plan_id = id.existing()?;
    let found = db.read(move |conn| collections::page(conn, plan_id, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// Opens collection of actuals for a fiscal year, optionally with a deadline (hq). A deadline that
/// is already over is accepted with a `deadline_passed` warning in `warnings`.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path)), request_body = OpenCollection, responses(
    (status = 201, body = WrittenCollection),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/collections")]
pub async fn open_collection(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<OpenCollection>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let plan_id = id.existing()?;
    let opened = db
        .write(caller.write_scope(), move |conn| {
            collections::open(conn, &actor, plan_id, body.fiscal_year, body.deadline)
        })
        .await?;
    Ok(HttpResponse::Created().json(WrittenCollection::judged(opened, true)))
}

/// Moves a deadline or closes a collection (hq). A deadline that is already over is accepted with
/// a `deadline_passed` warning in `warnings`.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100)),
    request_body = UpdateCollection, responses(
    (status = 200, body = WrittenCollection),
))]
#[patch("/plans/{id}/collections/{fiscal_year}")]
pub async fn update_collection(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    year: YearInPath,
    body: JsonBody<UpdateCollection>,
) -> Result<HttpResponse, AppError> {
    let body = body.parse()?;
    let actor = Actor::from(&caller);
    let (plan_id, year) = (id.existing()?, year.0);
    let set_deadline = matches!(body.deadline, Some(Some(_)));
    let updated = db
        .write(caller.write_scope(), move |conn| {
            collections::update(conn, &actor, plan_id, year.year(), body.deadline, body.closed)
        })
        .await?;
    Ok(HttpResponse::Ok().json(WrittenCollection::judged(updated, set_deadline)))
}

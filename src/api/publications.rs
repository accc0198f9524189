//! 公表 (publication) by the 本部: publish a plan's year, list what was published.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{JsonBody, Query};
use super::pagination::{Page, PageParams, page_bounds};
use super::resolved::Resolved;
use crate::auth::{Caller, Hq};
use crate::db::Database;
use crate::db::audit::Actor;
use crate::db::departments;
use crate::db::publications::{self, PublicationSummary};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::ids::PlanId;
use crate::domain::publication::Licence;
use crate::error::{AppError, Problem};
use crate::publication::{self, PublishRequest};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fiscal_year": 2020, "correction_note": "指標3の実績値の誤りを訂正"}))]
pub struct Publish {
    #[schema(minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// SPDX identifier: `CC-BY-4.0` (default), `CC0-1.0` or `CC-BY-SA-4.0`
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    #[schema(max_length = 64, example = "CC-BY-4.0")]
    pub licence: Option<String>,
    /// Why the year is published again (required from the second version on; public)
    #[serde(default, deserialize_with = "crate::domain::limits::optional_text")]
    #[schema(max_length = 2000)]
    pub correction_note: Option<String>,
}

/// One publication, as the 本部 sees it (who published it included; the public never sees that).
#[derive(Serialize, ToSchema)]
pub struct Publication {
    pub id: i32,
    pub plan_id: i32,
    pub fiscal_year: i32,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub published_at: NaiveDateTime,
    /// The user who published it (internal)
    pub published_by: Option<i32>,
    pub licence: Licence,
    pub title: String,
    pub correction_note: Option<String>,
    /// Hex SHA-256 of the published content
    pub snapshot_sha256: String,
    /// The public page of this version
    pub html_url: String,
    /// The public JSON of this version
    pub url: String,
}

impl Publication {
    fn of(summary: PublicationSummary, municipality_code: &str) -> Result<Self, AppError> {
        let data = format!(
            "/api/v1/public/municipalities/{municipality_code}/plans/{}/years/{}/versions/{}",
            summary.plan_id, summary.fiscal_year, summary.version
        );
        let page = format!(
            "/public/{municipality_code}/plans/{}/{}/versions/{}",
            summary.plan_id, summary.fiscal_year, summary.version
        );
        Ok(Self {
            id: summary.id,
            plan_id: summary.plan_id,
            fiscal_year: summary.fiscal_year,
            version: summary.version,
            published_at: summary.published_at,
            published_by: summary.published_by,
            licence: Licence::stored(&summary.licence)?,
            title: summary.title,
            correction_note: summary.correction_note,
            snapshot_sha256: summary.snapshot_sha256,
            html_url: page,
            url: data,
        })
    }
}

fn municipality_code(conn: &mut crate::db::DbConnection, municipality_id: i32) -> Result<String, AppError> {
    departments::list_municipalities(conn)?
        .into_iter()
        .find(|m| m.id == municipality_id)
        .map(|m| m.code)
        .ok_or_else(|| AppError::not_found("municipality", municipality_id))
}

/// The 本部 publishes a plan's year: its approved figures as they stand now become the next
/// version, readable by anyone without a token. A re-publication needs a `correction_note`.
#[utoipa::path(tag = "publications", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = Publish, responses(
    (status = 201, body = Publication, headers(("Location" = String))),
    (status = 409, description = "nothing approved in the year, or too many versions", body = Problem, content_type = "application/problem+json"),
))]
#[post("/plans/{id}/publications")]
pub async fn publish(
    Hq(caller): Hq,
    db: web::Data<Database>,
    id: Resolved<PlanId>,
    body: JsonBody<Publish>,
) -> Result<HttpResponse, AppError> {
    let plan_id = id.existing()?;
    let published = db
        .write(caller.write_scope(), move |conn| {
            let body = body.parse()?;
            let fiscal_year = FiscalYear::new(body.fiscal_year).map_err(|_| {
                AppError::invalid("fiscal_year", crate::domain::fiscal_year::out_of_range_message(body.fiscal_year))
            })?;
            let request = PublishRequest {
                fiscal_year,
                licence: body.licence.as_deref(),
                correction_note: body.correction_note.as_deref(),
            };
            let summary = publication::publish(conn, &Actor::from(&caller), plan_id, &request)?;
            let code = municipality_code(conn, summary.municipality_id)?;
            Publication::of(summary, &code)
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((header::LOCATION, published.url.clone())).json(published))
}

/// Every publication of a plan, newest year and version first.
#[utoipa::path(tag = "publications", security(("bearer" = [])), params(("id" = i32, Path), PageParams), responses(
    (status = 200, body = Page<Publication>),
))]
#[get("/plans/{id}/publications")]
pub async fn list_publications(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let plan_id = id.existing()?;
    let found = db
        .read(move |conn| {
            let plan = crate::db::plans::get(conn, plan_id)?;
            let code = municipality_code(conn, plan.municipality_id)?;
            let (items, total) = publications::page_for_plan(conn, plan_id, limit, offset)?;
            let items = items.into_iter().map(|s| Publication::of(s, &code)).collect::<Result<Vec<_>, _>>()?;
            Ok::<_, AppError>((items, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

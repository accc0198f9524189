//! Editions of the 自治体DX推進計画: published reference data every authenticated caller reads; a
//! new edition is imported by the system administrator, who keeps the shared catalogue.

use actix_web::{HttpResponse, get, post, web};

use super::extract::{JsonBody, Query};
use super::pagination::{Page, PageParams, page_bounds};
use crate::auth::{Caller, SystemAdmin};
use crate::db::audit::Actor;
use crate::db::national_editions;
use crate::db::{Database, WriteScope};
use crate::domain::national_edition::{NationalEdition, NewEdition};
use crate::error::{AppError, Problem};

/// The editions entered, oldest first: each with its date as a source states it, its
/// 重点取組事項 in force and what each is to the previous entered edition (same, renamed, added;
/// `dropped` lists the previous items no item continues). Editions no source states are not listed.
#[utoipa::path(tag = "national indicators", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<NationalEdition>),
))]
#[get("/national-editions")]
pub async fn list_national_editions(
    _caller: Caller,
    db: web::Data<Database>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let found = db.read(move |conn| national_editions::page(conn, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// Imports a new edition after the latest entered one (no migration needed): its date must not
/// precede the latest's, its items are numbered 1, 2, … and `continues` names the latest edition's
/// item each one carries on. The CLI `national-edition import FILE` applies the same checks.
#[utoipa::path(tag = "national indicators", security(("bearer" = [])), request_body = NewEdition, responses(
    (status = 201, body = NationalEdition),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/national-editions")]
pub async fn import_national_edition(
    SystemAdmin(caller): SystemAdmin,
    db: web::Data<Database>,
    body: JsonBody<NewEdition>,
) -> Result<HttpResponse, AppError> {
    let edition = body.parse()?;
    let actor = Actor::from(&caller);
    let created =
        db.write(WriteScope::Installation, move |conn| national_editions::import(conn, &actor, &edition)).await?;
    Ok(HttpResponse::Created().json(created))
}

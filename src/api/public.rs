//! The public, read-only view of what the 本部 published: no token, served from stored snapshots
//! only (never from the live tables), cacheable with strong ETags, readable from any origin.
//!
//! Deliberately public, like health and the docs. An unknown municipality, plan, year or version
//! and an unpublished one answer the same 404.

use actix_web::http::header::{self, EntityTag, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, get, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::pagination::{PageParams, page_bounds};
use crate::db::{Database, publications};
use crate::domain::fiscal_year::{FiscalYear, out_of_range_message};
use crate::domain::limits::{MAX_CODE_CHARS, text_problem};
use crate::domain::publication::PublicFormat;
use crate::error::{AppError, Problem};
use crate::publication::catalogue::{self, JSON_LD_MEDIA_TYPE};
use crate::publication::page::{self, PAGE_CONTENT_SECURITY_POLICY};
use crate::publication::{PublishedYear, Served, read_published};
use crate::spreadsheet::CSV_MEDIA_TYPE;

/// Shared caches may keep a public answer this long (seconds) before revalidating with its ETag:
/// a re-publication shows within five minutes.
pub const PUBLIC_MAX_AGE_SECONDS: u32 = 300;

/// A published plan-year, as the path names it.
#[derive(Deserialize)]
pub struct YearPath {
    code: String,
    plan_id: i32,
    fiscal_year: i32,
}

/// A published version, as the path names it.
#[derive(Deserialize)]
pub struct VersionPath {
    code: String,
    plan_id: i32,
    fiscal_year: i32,
    version: i32,
}

/// The data formats of a publication.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// The published content with its licence and versions (default)
    #[default]
    Json,
    /// The open data table (UTF-8 with BOM; sample data left out)
    Csv,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `json` (default) or `csv`
    pub format: Option<DataFormat>,
}

/// The path's municipality code, within the bounds of a code (422 naming `code` otherwise, as for
/// a NUL character, which PostgreSQL cannot even compare).
fn municipality_code(code: String) -> Result<String, AppError> {
    match text_problem(&code, MAX_CODE_CHARS) {
        Some(problem) => Err(AppError::invalid("code", problem)),
        None => Ok(code),
    }
}

fn fiscal_year(year: i32) -> Result<i32, AppError> {
    FiscalYear::new(year)
        .map(FiscalYear::year)
        .map_err(|_| AppError::invalid("fiscal_year", out_of_range_message(year)))
}

/// Whether the client's cached copy (`If-None-Match`) is this one.
fn unchanged(req: &HttpRequest, tag: &EntityTag) -> bool {
    req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag.to_string())
    })
}

/// The response for a public answer tagged `tag`: 304 when the client has it, else `build`'s.
fn public_response(
    req: &HttpRequest,
    tag: EntityTag,
    build: impl FnOnce(HttpResponseBuilder) -> HttpResponse,
) -> HttpResponse {
    let mut response = if unchanged(req, &tag) { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header(header::ETag(tag.clone()))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={PUBLIC_MAX_AGE_SECONDS}")))
        // Open data: any page may read it (no credentials are involved).
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")))
        .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag, Link")));
    if unchanged(req, &tag) { response.finish() } else { build(response) }
}

fn tag(served: &Served, format: PublicFormat) -> EntityTag {
    let year = &served.year;
    EntityTag::new_strong(format.entity_tag(&year.snapshot_sha256, year.version, year.versions.len()))
}

fn data_response(req: &HttpRequest, served: Served, format: DataFormat) -> Result<HttpResponse, AppError> {
    let licence = format!("<{}>; rel=\"license\"", served.year.licence.url);
    match format {
        DataFormat::Json => {
            let tag = tag(&served, PublicFormat::Json);
            Ok(public_response(req, tag, |mut ok| ok.insert_header((header::LINK, licence)).json(&served.year)))
        }
        DataFormat::Csv => {
            let tag = tag(&served, PublicFormat::Csv);
            let csv = served.snapshot.open_data_csv()?;
            let file = format!(
                "attachment; filename=\"{}-{}-{}-v{}.csv\"",
                served.year.municipality_code, served.year.plan_id, served.year.fiscal_year, served.year.version
            );
            Ok(public_response(req, tag, |mut ok| {
                ok.insert_header((header::LINK, licence))
                    .insert_header((header::CONTENT_DISPOSITION, file))
                    .content_type(CSV_MEDIA_TYPE)
                    .body(csv)
            }))
        }
    }
}

/// The latest published version of a plan's year: content, licence, publication date and every
/// version (`?format=csv`: the open data table). No token needed.
#[utoipa::path(tag = "public", params(
    ("code" = String, Path, description = "全国地方公共団体コード", example = "131199"),
    ("plan_id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100),
    FormatQuery, ("If-None-Match" = Option<String>, Header)), responses(
    (status = 200, description = "the published year as JSON, or with `format=csv` as CSV", content(
        (PublishedYear = "application/json"),
        (String = "text/csv"),
    ), headers(("ETag" = String), ("Cache-Control" = String), ("Link" = String, description = "the licence"))),
    (status = 304, description = "the client's copy (If-None-Match) is current"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/public/municipalities/{code}/plans/{plan_id}/years/{fiscal_year}")]
pub async fn published_year(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<YearPath>,
    query: Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let YearPath { code, plan_id, fiscal_year: year } = path.into_inner();
    let (code, year) = (municipality_code(code)?, fiscal_year(year)?);
    let served = db.read(move |conn| read_published(conn, &code, plan_id, year, None)).await?;
    data_response(&req, served, query.format.unwrap_or_default())
}

/// One published version of a plan's year, as it was published (`?format=csv`: its open data
/// table). No token needed.
#[utoipa::path(tag = "public", params(
    ("code" = String, Path, description = "全国地方公共団体コード", example = "131199"),
    ("plan_id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("version" = i32, Path),
    FormatQuery, ("If-None-Match" = Option<String>, Header)), responses(
    (status = 200, description = "the published year as JSON, or with `format=csv` as CSV", content(
        (PublishedYear = "application/json"),
        (String = "text/csv"),
    ), headers(("ETag" = String), ("Cache-Control" = String), ("Link" = String, description = "the licence"))),
    (status = 304, description = "the client's copy (If-None-Match) is current"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/public/municipalities/{code}/plans/{plan_id}/years/{fiscal_year}/versions/{version}")]
pub async fn published_version(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<VersionPath>,
    query: Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { code, plan_id, fiscal_year: year, version } = path.into_inner();
    let (code, year) = (municipality_code(code)?, fiscal_year(year)?);
    let served = db.read(move |conn| read_published(conn, &code, plan_id, year, Some(version))).await?;
    data_response(&req, served, query.format.unwrap_or_default())
}

/// Every published plan-year of every municipality as a DCAT catalogue (JSON-LD), for data
/// portals to harvest (CKAN's ckanext-dcat reads it); paged with hydra:nextPage.
#[utoipa::path(tag = "public", params(PageParams, ("If-None-Match" = Option<String>, Header)), responses(
    (status = 200, content_type = "application/ld+json", body = serde_json::Value, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "the client's copy (If-None-Match) is current"),
))]
#[get("/public/catalog")]
pub async fn catalog(
    req: HttpRequest,
    db: web::Data<Database>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let (entries, total) = db.read(move |conn| publications::catalogue_page(conn, limit, offset)).await?;
    let info = req.connection_info().clone();
    let base = format!("{}://{}", info.scheme(), info.host());
    let document = catalogue::catalogue(&base, &entries, total, limit, offset)?;
    let body = document.to_string();
    let tag = EntityTag::new_strong(format!(
        "catalog-{}",
        crate::domain::publication::snapshot_digest(&body).get(..32).unwrap_or_default()
    ));
    Ok(public_response(&req, tag, |mut ok| ok.content_type(JSON_LD_MEDIA_TYPE).body(body)))
}

/// The public page of a plan's year, latest version.
#[utoipa::path(tag = "public", params(
    ("code" = String, Path, description = "全国地方公共団体コード", example = "131199"),
    ("plan_id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100),
    ("If-None-Match" = Option<String>, Header)), responses(
    (status = 200, content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "the client's copy (If-None-Match) is current"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/public/{code}/plans/{plan_id}/{fiscal_year}")]
pub async fn year_page(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<YearPath>,
) -> Result<HttpResponse, AppError> {
    let YearPath { code, plan_id, fiscal_year: year } = path.into_inner();
    let (code, year) = (municipality_code(code)?, fiscal_year(year)?);
    let served = db.read(move |conn| read_published(conn, &code, plan_id, year, None)).await?;
    Ok(page_response(&req, &served))
}

/// The public page of one published version.
#[utoipa::path(tag = "public", params(
    ("code" = String, Path, description = "全国地方公共団体コード", example = "131199"),
    ("plan_id" = i32, Path), ("fiscal_year" = i32, Path, minimum = 1989, maximum = 2100), ("version" = i32, Path),
    ("If-None-Match" = Option<String>, Header)), responses(
    (status = 200, content_type = "text/html", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "the client's copy (If-None-Match) is current"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/public/{code}/plans/{plan_id}/{fiscal_year}/versions/{version}")]
pub async fn version_page(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<VersionPath>,
) -> Result<HttpResponse, AppError> {
    let VersionPath { code, plan_id, fiscal_year: year, version } = path.into_inner();
    let (code, year) = (municipality_code(code)?, fiscal_year(year)?);
    let served = db.read(move |conn| read_published(conn, &code, plan_id, year, Some(version))).await?;
    Ok(page_response(&req, &served))
}

fn page_response(req: &HttpRequest, served: &Served) -> HttpResponse {
    let tag = tag(served, PublicFormat::Html);
    public_response(req, tag, |mut ok| {
        ok.insert_header((header::CONTENT_SECURITY_POLICY, PAGE_CONTENT_SECURITY_POLICY))
            .content_type("text/html; charset=utf-8")
            .body(page::render(&served.year, &served.snapshot))
    })
}

/// The routes of the public pages (outside `/api/v1`).
pub fn configure_pages(cfg: &mut web::ServiceConfig) {
    cfg.service(year_page).service(version_page);
}

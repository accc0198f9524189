//! The national catalogue of indicator definitions and the comparison of one of them across
//! municipalities: published data, readable by every authenticated caller, analysts included.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::evaluation::{Format, attachment, negotiate};
use super::extract::Query;
use super::pagination::{Page, PageParams, page_bounds};
use crate::auth::Caller;
use crate::db::Database;
use crate::db::national_indicators;
use crate::domain::national_indicator::NationalIndicator;
use crate::error::{AppError, Problem};
use crate::evaluation::comparison::{self, NationalComparison};
use crate::spreadsheet::{self, CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE};

/// The six 重点取組事項 of the 自治体DX推進計画 and their indicators, by priority and code.
#[utoipa::path(tag = "national indicators", security(("bearer" = [])), params(PageParams), responses(
    (status = 200, body = Page<NationalIndicator>),
))]
#[get("/national-indicators")]
pub async fn list_national_indicators(
    _caller: Caller,
    db: web::Data<Database>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (limit, offset) = page_bounds(page.limit, page.offset)?;
    let found = db.read(move |conn| national_indicators::page(conn, limit, offset)).await?;
    Ok(HttpResponse::Ok().json(Page::new(found, limit, offset)))
}

/// One national indicator definition.
#[utoipa::path(tag = "national indicators", security(("bearer" = [])),
    params(("code" = String, Path, max_length = 64, example = "dx2-mynumber-card-issuance-rate")), responses(
    (status = 200, body = NationalIndicator),
))]
#[get("/national-indicators/{code}")]
pub async fn get_national_indicator(
    _caller: Caller,
    db: web::Data<Database>,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let code = code.into_inner();
    let found = db.read(move |conn| national_indicators::get(conn, &code)).await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComparisonQuery {
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// Overrides the Accept header: json, csv or xlsx
    pub format: Option<Format>,
}

/// One national indicator across every municipality whose indicator implements it: per
/// municipality the approved value (sample figures flagged), numerator and denominator, target,
/// 達成率/進捗率 and rank; the pooled rate Σ分子 ÷ Σ分母 and the mean; how many reported, are
/// pending or missing. `Accept: text/csv` (UTF-8 with BOM) or the xlsx media type (or `format=`)
/// gives a spreadsheet.
#[utoipa::path(tag = "national indicators", security(("bearer" = [])),
    params(("code" = String, Path, max_length = 64, example = "dx2-mynumber-card-issuance-rate"), ComparisonQuery),
    responses(
    (status = 200, body = NationalComparison, content(
        (NationalComparison = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 406, body = Problem, content_type = "application/problem+json"),
))]
#[get("/national-indicators/{code}/comparison")]
pub async fn national_comparison(
    req: HttpRequest,
    _caller: Caller,
    db: web::Data<Database>,
    turns: web::Data<ComparisonTurns>,
    code: web::Path<String>,
    query: Query<ComparisonQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, query.format)?;
    let (code, year) = (code.into_inner(), query.fiscal_year);
    // Held until the body is built: what one comparison loads, evaluates and writes out is the
    // largest transient memory of any request.
    let _turn = turns.wait().await?;
    let result = {
        let code = code.clone();
        db.read(move |conn| comparison::load(conn, &code, year).map(|records| comparison::compare(&records, year)))
            .await?
    };
    // Written out on a blocking thread, JSON too: about 700 KB takes milliseconds, which on an
    // async worker would hold up every other request that worker serves.
    let body = web::block(move || render_comparison(format, &result))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    // Codes are ASCII (the catalogue's); anything else was refused by the lookup above.
    let file = |extension: &str| attachment(format!("comparison-{code}-{year}.{extension}"));
    Ok(match format {
        Format::Json => HttpResponse::Ok().content_type(mime::APPLICATION_JSON).body(body),
        Format::Csv => HttpResponse::Ok().content_type(CSV_MEDIA_TYPE).insert_header(file("csv")).body(body),
        Format::Xlsx => HttpResponse::Ok().content_type(XLSX_MEDIA_TYPE).insert_header(file("xlsx")).body(body),
    })
}

/// The comparison's body in the negotiated format.
fn render_comparison(format: Format, comparison: &NationalComparison) -> Result<Vec<u8>, AppError> {
    match format {
        Format::Json => serde_json::to_vec(comparison).map_err(|e| AppError::Internal(format!("json: {e}"))),
        Format::Csv => spreadsheet::comparison_csv(comparison),
        Format::Xlsx => spreadsheet::comparison_xlsx(comparison),
    }
}

/// Comparisons across every municipality run one at a time per server process: each holds the
/// records of all 1,741 municipalities' indicators and a body of about 700 KB while it runs, and
/// several at once took the server's memory from under 50 MB to over 70 MB. Others wait their turn,
/// at most [`ComparisonTurns::MAX_WAIT`], then get a 503.
pub struct ComparisonTurns(tokio::sync::Semaphore);

impl Default for ComparisonTurns {
    fn default() -> Self {
        Self(tokio::sync::Semaphore::new(1))
    }
}

impl ComparisonTurns {
    /// Longest wait for a turn (a comparison takes about 0.1 s on the nationwide data set).
    pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

    async fn wait(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        let busy = || AppError::Unavailable("too many national comparisons are waiting; try again shortly".into());
        actix_web::rt::time::timeout(Self::MAX_WAIT, self.0.acquire()).await.map_err(|_| busy())?.map_err(|_| busy())
    }
}

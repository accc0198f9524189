//! The 進捗状況報告書 of a plan's year: a print-ready HTML document, or the same content as xlsx.

use actix_web::http::header::{self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::resolved::Resolved;
use super::security_headers::REPORT_CONTENT_SECURITY_POLICY;
use crate::auth::Caller;
use crate::db::Database;
use crate::domain::ids::PlanId;
use crate::error::{AppError, Problem};
use crate::evaluation::progress_report;
use crate::progress_report::{RenderOptions, check_size, render_html};
use crate::spreadsheet::XLSX_MEDIA_TYPE;
use crate::spreadsheet::progress_report::progress_report_xlsx;

pub const HTML_MEDIA_TYPE: &str = "text/html; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Html,
    Xlsx,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The report's fiscal year: one of the plan's years
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// Overrides the Accept header: html or xlsx
    pub format: Option<ReportFormat>,
}

/// Picks the representation: `format=` wins, then the Accept header; HTML by default.
fn negotiate(req: &HttpRequest, format: Option<ReportFormat>) -> Result<ReportFormat, AppError> {
    if let Some(format) = format {
        return Ok(format);
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    for offer in accept.split(',').map(|part| part.split(';').next().unwrap_or_default().trim()) {
        match offer {
            "text/html" | "text/*" | "*/*" | "application/problem+json" => return Ok(ReportFormat::Html),
            XLSX_MEDIA_TYPE => return Ok(ReportFormat::Xlsx),
            _ => {}
        }
    }
    Err(AppError::NotAcceptable(format!("offered: text/html, {XLSX_MEDIA_TYPE}")))
}

/// An attachment with an ASCII file name for old clients and the Japanese one (RFC 5987
/// `filename*`) for the others.
fn attachment(ascii_name: String, japanese_name: &str) -> ContentDisposition {
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii_name),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: japanese_name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The year's 進捗状況報告書: per 基本目標 the KPI table (targets, approved actuals, grades and
/// status), each indicator's chart over the plan's years, and each measure's roadmap step, approved
/// 施策評価, 本部評価 and 方向性. HTML (A4 print stylesheet, no script, no external asset) by
/// default; `format=xlsx` or the xlsx media type in Accept gives the same content as a workbook.
/// Sample data is marked as such. The content is at most 8 MiB as JSON (a larger plan is refused
/// with 422), so both documents stay bounded.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), ReportQuery), responses(
    (status = 200, description = "The report", content(
        (String = "text/html"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 406, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/report")]
pub async fn get_report(
    req: HttpRequest,
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    query: Query<ReportQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, query.format)?;
    let (plan_id, year) = (id.existing()?, query.fiscal_year);
    let report = db.read(move |conn| progress_report::build(conn, plan_id, year)).await?;
    check_size(&report)?;
    match format {
        ReportFormat::Html => {
            let html = web::block(move || render_html(&report, &RenderOptions::default()))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(HttpResponse::Ok()
                .content_type(HTML_MEDIA_TYPE)
                .insert_header((header::CONTENT_SECURITY_POLICY, REPORT_CONTENT_SECURITY_POLICY))
                .body(html))
        }
        ReportFormat::Xlsx => {
            let japanese_name = format!("進捗状況報告書_{}_{}.xlsx", report.plan_name, report.fiscal_year_label);
            let ascii_name = format!("progress-report-{plan_id}-{year}.xlsx");
            let workbook = web::block(move || progress_report_xlsx(&report))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            Ok(HttpResponse::Ok()
                .content_type(XLSX_MEDIA_TYPE)
                .insert_header(attachment(ascii_name, &japanese_name))
                .body(workbook))
        }
    }
}

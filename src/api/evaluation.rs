//! A plan's evaluation of a year (JSON, CSV, xlsx), as it stands or `as_of` a time.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::resolved::Resolved;
use super::sliced_body::JoinedBody;
use crate::auth::Caller;
use crate::db::Database;
use crate::domain::ids::PlanId;
use crate::error::{AppError, Problem};
use crate::evaluation::measure_year;
use crate::evaluation::plan::{self as plan_evaluation, PlanEvaluation, PlanRecords};
use crate::evaluation::records_cache::RecordsCache;
use crate::response_cache::{self, CacheKey, DataVersion, ResponseCache, restamp_evaluated_at};
use crate::spreadsheet::{self, CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EvaluationQuery {
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// Evaluate with only what was recorded by this time: RFC 3339 (`2021-06-01T09:00:00+09:00`) or UTC without offset
    #[param(max_length = 64)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_code")]
    pub as_of: Option<String>,
    /// Overrides the Accept header: json, csv or xlsx
    pub format: Option<Format>,
}

pub(crate) fn parse_as_of(text: Option<&str>) -> Result<Option<NaiveDateTime>, AppError> {
    let Some(text) = text else { return Ok(None) };
    let text = restore_plus_of_offset(text.trim());
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(&text) {
        return Ok(Some(with_offset.naive_utc()));
    }
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .map(Some)
        .map_err(|_| AppError::invalid("as_of", "expected an RFC 3339 time such as 2021-06-01T09:00:00+09:00"))
}

/// A `+09:00` pasted unencoded into a query string arrives as ` 09:00` (a form-encoded `+` is a
/// space): put the plus back, so the time a clerk copied from the README means what it says.
fn restore_plus_of_offset(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let offset_start = bytes.len().wrapping_sub(6);
    let is_spaced_offset = bytes.len() > 6
        && bytes[offset_start] == b' '
        && bytes[offset_start + 1..offset_start + 3].iter().all(u8::is_ascii_digit)
        && bytes[offset_start + 3] == b':'
        && bytes[offset_start + 4..].iter().all(u8::is_ascii_digit);
    if is_spaced_offset {
        std::borrow::Cow::Owned(format!("{}+{}", &text[..offset_start], &text[offset_start + 1..]))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Picks the representation: `format=` wins, then the Accept header; JSON by default.
pub(crate) fn negotiate(req: &HttpRequest, format: Option<Format>) -> Result<Format, AppError> {
    if let Some(format) = format {
        return Ok(format);
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*");
    let offers = accept.split(',').map(|part| part.split(';').next().unwrap_or_default().trim());
    for offer in offers {
        match offer {
            "application/json" | "application/*" | "*/*" | "application/problem+json" => return Ok(Format::Json),
            "text/csv" | "text/*" => return Ok(Format::Csv),
            XLSX_MEDIA_TYPE => return Ok(Format::Xlsx),
            _ => {}
        }
    }
    Err(AppError::NotAcceptable(format!("offered: application/json, text/csv, {XLSX_MEDIA_TYPE}")))
}

pub(crate) fn attachment(name: String) -> ContentDisposition {
    ContentDisposition { disposition: DispositionType::Attachment, parameters: vec![DispositionParam::Filename(name)] }
}

/// The year's evaluation: every indicator's achievement, roll-ups per measure, ◎ basic goal,
/// strategy, department and plan, the lists to act on, and the grading settings used.
/// `Accept: text/csv` or the xlsx media type (or `format=`) gives the 進捗管理表 spreadsheet; the
/// workbook also holds the year's 施策評価 (`GET /plans/{id}/measure-evaluations` gives them as CSV).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), EvaluationQuery), responses(
    (status = 200, body = PlanEvaluation, content(
        (PlanEvaluation = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 406, body = Problem, content_type = "application/problem+json"),
))]
#[get("/plans/{id}/evaluation")]
#[expect(clippy::too_many_arguments, reason = "each is one extractor the request needs")]
pub async fn get_evaluation(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    kept_records: web::Data<RecordsCache>,
    _caller: Caller,
    version: DataVersion,
    id: Resolved<PlanId>,
    query: Query<EvaluationQuery>,
) -> Result<HttpResponse, AppError> {
    let format = negotiate(&req, query.format)?;
    let as_of = parse_as_of(query.as_of.as_deref())?;
    let (plan_id, year) = (id.existing()?, query.fiscal_year);
    let file = |extension: &str| format!("evaluation-{plan_id}-{year}.{extension}");
    if format == Format::Json && as_of.is_none() {
        let now = chrono::Utc::now().naive_utc();
        let key = CacheKey::Evaluation { plan_id, fiscal_year: year, day: now.date() };
        let answer = cache
            .into_inner()
            .get_or_compute(&db, version, key, move |conn| {
                let records = kept_records.load_year(conn, version, plan_id, year)?;
                response_cache::json(&plan_evaluation::evaluate_records(&records, year, None, now)?)
            })
            .await?;
        let parts = restamp_evaluated_at(&answer.body, now)?;
        return Ok(HttpResponse::Ok().content_type(mime::APPLICATION_JSON).body(JoinedBody::new(parts)));
    }
    if format == Format::Csv && as_of.is_none() {
        let now = chrono::Utc::now().naive_utc();
        let key = CacheKey::EvaluationCsv { plan_id, fiscal_year: year, day: now.date() };
        let answer = cache
            .into_inner()
            .get_or_compute(&db, version, key, move |conn| {
                let records = kept_records.load_year(conn, version, plan_id, year)?;
                let (evaluation, notes) = evaluation_with_notes(&records, year, None, now)?;
                spreadsheet::evaluation_csv(&evaluation, &notes)
            })
            .await?;
        return Ok(HttpResponse::Ok()
            .content_type(CSV_MEDIA_TYPE)
            .insert_header(attachment(file("csv")))
            .body(answer.body.clone()));
    }
    // The workbook's 施策評価 sheet is read with the evaluation, so both show the same moment.
    let with_measures = format == Format::Xlsx;
    let (evaluation, notes, measures) = db
        .read(move |conn| {
            let records = plan_evaluation::load_year(conn, plan_id, year)?;
            let (evaluation, notes) = evaluation_with_notes(&records, year, as_of, chrono::Utc::now().naive_utc())?;
            let measures =
                if with_measures { measure_year::for_plan(conn, plan_id.get(), year, as_of)? } else { Vec::new() };
            Ok::<_, AppError>((evaluation, notes, measures))
        })
        .await?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(evaluation),
        Format::Csv => HttpResponse::Ok().content_type(CSV_MEDIA_TYPE).insert_header(attachment(file("csv"))).body(
            web::block(move || spreadsheet::evaluation_csv(&evaluation, &notes))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??,
        ),
        Format::Xlsx => HttpResponse::Ok().content_type(XLSX_MEDIA_TYPE).insert_header(attachment(file("xlsx"))).body(
            web::block(move || spreadsheet::evaluation_xlsx(&evaluation, &notes, &measures))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??,
        ),
    })
}

/// The evaluation and, from the same records, the sheets' 注記 column: the reading notes of what
/// each row concerns.
fn evaluation_with_notes(
    records: &PlanRecords,
    year: i32,
    as_of: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<(PlanEvaluation, spreadsheet::SheetNotes), AppError> {
    let evaluation = plan_evaluation::evaluate_records(records, year, as_of, now)?;
    Ok((evaluation, spreadsheet::SheetNotes::of(records)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect("a UTC time")
    }

    #[test]
    fn as_of_with_an_offset_is_converted_to_utc() {
        assert_eq!(parse_as_of(Some("2021-06-01T09:00:00+09:00")).unwrap(), Some(utc("2021-06-01T00:00:00")));
    }

    #[test]
    fn as_of_whose_plus_arrived_as_a_space_means_the_same_time() {
        assert_eq!(parse_as_of(Some("2021-06-01T09:00:00 09:00")).unwrap(), Some(utc("2021-06-01T00:00:00")));
    }

    #[test]
    fn as_of_without_an_offset_is_utc_and_garbage_is_rejected() {
        assert_eq!(parse_as_of(Some("2021-06-01T09:00:00")).unwrap(), Some(utc("2021-06-01T09:00:00")));
        assert!(parse_as_of(Some("2021-06-01 09:00")).is_err());
        assert!(parse_as_of(Some("yesterday 09:00")).is_err());
    }
}

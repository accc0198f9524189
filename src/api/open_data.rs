//! A plan's approved actuals as open data, readable by every caller.

use actix_web::{HttpResponse, get, web};

use super::evaluation::attachment;
use super::resolved::Resolved;
use crate::auth::Caller;
use crate::db::{Database, departments};
use crate::domain::ids::PlanId;
use crate::error::AppError;
use crate::evaluation::plan::{self as plan_evaluation};
use crate::spreadsheet::{self, CSV_MEDIA_TYPE};

/// Approved actuals of the plan as open data (CSV, UTF-8 with BOM). Sample data is left out.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path)), responses(
    (status = 200, content_type = "text/csv", body = String),
))]
#[get("/plans/{id}/open-data")]
pub async fn open_data(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
) -> Result<HttpResponse, AppError> {
    let plan_id = id.existing()?;
    let csv = db
        .read(move |conn| {
            let records = plan_evaluation::load(conn, plan_id)?;
            let municipality = departments::list_municipalities(conn)?
                .into_iter()
                .find(|m| m.id == records.plan.municipality_id)
                .ok_or_else(|| AppError::not_found("municipality", records.plan.municipality_id))?;
            let years = records.plan.start_fiscal_year..=records.plan.end_fiscal_year;
            let rows: Vec<_> = records
                .approved_rows(years)
                .into_iter()
                .filter(|(_, is_sample)| !is_sample)
                .map(|(row, _)| row)
                .collect();
            spreadsheet::open_data_csv(&municipality.code, &municipality.name, &records.plan.name, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(CSV_MEDIA_TYPE)
        .insert_header(attachment(format!("open-data-plan-{plan_id}.csv")))
        .body(csv))
}

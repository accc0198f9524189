//! A plan's approved actuals as open data, readable by every caller.

use actix_web::{HttpResponse, get, web};

use super::evaluation::attachment;
use super::resolved::Resolved;
use crate::auth::Caller;
use crate::db::{Database, departments};
use crate::domain::achievement::round_for_output;
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
            let mut rows = Vec::new();
            for indicator in &records.indicators {
                let Some(measure) = records.measures.iter().find(|m| m.id == indicator.measure_id) else { continue };
                for year in records.plan.years() {
                    let events =
                        records.events.iter().filter(|e| e.indicator_id == indicator.id && e.fiscal_year == year);
                    let state = crate::domain::actual::ActualState::fold(events.map(|e| &e.event), None);
                    let Some(approved) = state.approved.filter(|e| !e.is_sample) else { continue };
                    rows.push(spreadsheet::OpenDataRow {
                        fiscal_year: year,
                        measure_number: measure.number,
                        measure_name: measure.name.clone(),
                        indicator_id: indicator.id,
                        indicator_name: indicator.name.clone(),
                        unit: indicator.unit.clone(),
                        value: approved.reported.value,
                        numerator: approved.reported.numerator,
                        denominator: approved.reported.denominator,
                        rate: approved.reported.rate().map(round_for_output),
                        stage_name: approved
                            .reported
                            .stage
                            .and_then(|s| usize::try_from(s).ok())
                            .and_then(|s| indicator.stages.get(s).cloned()),
                        approved_at: approved.recorded_at,
                    });
                }
            }
            spreadsheet::open_data_csv(&municipality.code, &municipality.name, &records.plan.name, &rows)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(CSV_MEDIA_TYPE)
        .insert_header(attachment(format!("open-data-plan-{plan_id}.csv")))
        .body(csv))
}

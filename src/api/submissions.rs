//! The collection status of a year: what each department has submitted, what is missing, late or
//! waiting for review.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::resolved::Resolved;
use crate::auth::Caller;
use crate::db::Database;
use crate::domain::collection::Collection;
use crate::domain::ids::PlanId;
use crate::error::AppError;
use crate::evaluation::plan::{self as plan_evaluation, IndicatorRef, PlanEvaluation, SubmissionState};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    #[param(example = 2020, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
}

/// How many of a department's indicators stand where. `missing + submitted + returned + approved`
/// is the number of indicators; `late` and `submitted_late` count some of them again.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SubmissionCounts {
    pub missing: usize,
    /// Awaiting review
    pub submitted: usize,
    pub returned: usize,
    pub approved: usize,
    /// 期限超過: still missing or returned after the deadline
    pub late: usize,
    /// 期限後提出: in (awaiting review or approved), but submitted after the deadline
    pub submitted_late: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorSubmission {
    #[serde(flatten)]
    pub indicator: IndicatorRef,
    pub submission: SubmissionState,
    /// 期限超過: still missing or returned after the deadline
    pub late: bool,
    /// 期限後提出: submitted after the deadline
    pub submitted_late: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentSubmissions {
    pub department_id: i32,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    pub counts: SubmissionCounts,
    pub indicators: Vec<IndicatorSubmission>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionStatus {
    pub plan_id: i32,
    pub fiscal_year: i32,
    pub fiscal_year_label: String,
    pub collection: Option<Collection>,
    pub departments: Vec<DepartmentSubmissions>,
}

fn submission_status(evaluation: PlanEvaluation) -> SubmissionStatus {
    let mut by_department: std::collections::BTreeMap<i32, DepartmentSubmissions> = Default::default();
    for indicator in &evaluation.indicators {
        for (department_id, name) in indicator.department_ids.iter().zip(&indicator.department_names) {
            let entry = by_department.entry(*department_id).or_insert_with(|| DepartmentSubmissions {
                department_id: *department_id,
                department_name: name.clone(),
                counts: SubmissionCounts::default(),
                indicators: Vec::new(),
            });
            match indicator.submission {
                SubmissionState::Missing => entry.counts.missing += 1,
                SubmissionState::Submitted => entry.counts.submitted += 1,
                SubmissionState::Returned => entry.counts.returned += 1,
                SubmissionState::Approved => entry.counts.approved += 1,
            }
            entry.counts.late += usize::from(indicator.late);
            entry.counts.submitted_late += usize::from(indicator.submitted_late);
            entry.indicators.push(IndicatorSubmission {
                indicator: IndicatorRef {
                    indicator_id: indicator.indicator_id,
                    measure_number: indicator.measure_number,
                    indicator_number: indicator.number,
                    name: indicator.name.clone(),
                    department_names: indicator.department_names.clone(),
                },
                submission: indicator.submission,
                late: indicator.late,
                submitted_late: indicator.submitted_late,
            });
        }
    }
    SubmissionStatus {
        plan_id: evaluation.plan_id,
        fiscal_year: evaluation.fiscal_year,
        fiscal_year_label: evaluation.fiscal_year_label,
        collection: evaluation.collection,
        departments: by_department.into_values().collect(),
    }
}

/// Collection status for a year: per department, which indicators lack actuals, are submitted,
/// returned or approved; which are late (期限超過: still missing or returned after the deadline)
/// and which came in after it (期限後提出).
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), YearQuery), responses(
    (status = 200, body = SubmissionStatus),
))]
#[get("/plans/{id}/submissions")]
pub async fn submissions(
    db: web::Data<Database>,
    _caller: Caller,
    id: Resolved<PlanId>,
    query: Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let (plan_id, year) = (id.existing()?, query.fiscal_year);
    let evaluation = db.read(move |conn| plan_evaluation::evaluate_plan(conn, plan_id, year, None)).await?;
    Ok(HttpResponse::Ok().json(submission_status(evaluation)))
}

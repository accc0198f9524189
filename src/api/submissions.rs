//! The collection status of a year: what each department has submitted (actuals and 施策評価), what
//! is missing, late or waiting for review.

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
use crate::evaluation::records_cache::RecordsCache;
use crate::response_cache::{CacheKey, DataVersion, ResponseCache};

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

/// Where a department's 施策評価 of one measure stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureEvaluationSubmission {
    pub measure_id: i32,
    pub measure_number: i32,
    #[schema(example = "マイナンバー制度への対応")]
    pub measure_name: String,
    pub submission: SubmissionState,
    /// Missing or returned after the collection deadline
    pub late: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentSubmissions {
    pub department_id: i32,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    pub counts: SubmissionCounts,
    pub indicators: Vec<IndicatorSubmission>,
    /// The 施策評価 of the measures the department owns in the year, counted
    pub evaluation_counts: SubmissionCounts,
    /// The 施策評価 of each measure the department owns in the year
    pub measure_evaluations: Vec<MeasureEvaluationSubmission>,
}

impl DepartmentSubmissions {
    fn new(department_id: i32, department_name: String) -> Self {
        Self {
            department_id,
            department_name,
            counts: SubmissionCounts::default(),
            indicators: Vec::new(),
            evaluation_counts: SubmissionCounts::default(),
            measure_evaluations: Vec::new(),
        }
    }
}

impl SubmissionCounts {
    fn count(&mut self, state: SubmissionState, late: bool) {
        match state {
            SubmissionState::Missing => self.missing += 1,
            SubmissionState::Submitted => self.submitted += 1,
            SubmissionState::Returned => self.returned += 1,
            SubmissionState::Approved => self.approved += 1,
        }
        self.late += usize::from(late);
    }
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
            let entry = by_department
                .entry(*department_id)
                .or_insert_with(|| DepartmentSubmissions::new(*department_id, name.clone()));
            entry.counts.count(indicator.submission, indicator.late);
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
    for measure in &evaluation.measures {
        for department in &measure.measure_evaluation.departments {
            let entry = by_department.entry(department.department_id).or_insert_with(|| {
                DepartmentSubmissions::new(department.department_id, department.department_name.clone())
            });
            entry.evaluation_counts.count(department.submission, department.late);
            entry.measure_evaluations.push(MeasureEvaluationSubmission {
                measure_id: measure.measure_id,
                measure_number: measure.number,
                measure_name: measure.name.clone(),
                submission: department.submission,
                late: department.late,
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
/// and which came in after it (期限後提出); and the same for the 施策評価 of the measures it owns.
#[utoipa::path(tag = "evaluation", security(("bearer" = [])), params(("id" = i32, Path), YearQuery), responses(
    (status = 200, body = SubmissionStatus),
))]
#[get("/plans/{id}/submissions")]
pub async fn submissions(
    db: web::Data<Database>,
    cache: web::Data<ResponseCache>,
    kept_records: web::Data<RecordsCache>,
    _caller: Caller,
    version: DataVersion,
    id: Resolved<PlanId>,
    query: Query<YearQuery>,
) -> Result<HttpResponse, AppError> {
    let (plan_id, year) = (id.existing()?, query.fiscal_year);
    // Polled by the 本部 through collection week: served from the cache until its municipality writes.
    let now = chrono::Utc::now().naive_utc();
    let key = CacheKey::Submissions { plan_id, fiscal_year: year, day: now.date() };
    cache
        .into_inner()
        .json_response(&db, version, key, move |conn| {
            let records = kept_records.load_year(conn, version, plan_id, year)?;
            let evaluation = plan_evaluation::evaluate_records(&records, year, None, now)?;
            Ok(submission_status(evaluation))
        })
        .await
}

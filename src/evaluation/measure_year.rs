//! The 施策評価 of a measure's year as a reader sees it: the year's roadmap step, the plan's grading
//! scale and 方向性, each owning department's evaluation (or that it is missing) and the 本部's
//! assessment; as it stands or as it stood at `as_of`. For one measure, or every measure of a plan
//! counting that year, in a fixed number of queries; composing is pure.
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::ids::{MeasureId, PlanId};

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use super::plan::{SubmissionState, measure_counts_in, owners_in};
use crate::db::DbConnection;
use crate::db::measure_evaluations::{self, by_evaluation};
use crate::db::{departments, measures, plans};
use crate::domain::achievement::Grade;
use crate::domain::department::Department;
use crate::domain::measure::{Measure, RoadmapEntry};
use crate::domain::measure_evaluation::{
    AssessmentKey, DepartmentEvaluation, DepartmentEvaluationEvent, EvaluationKey, GradeStep, HqAssessment,
    HqAssessmentEvent, LinkTarget, PlanLink, RoadmapProgress, grading_scale, outstanding_after_deadline,
};
use crate::domain::plan::{ActualStatus, Plan, label};
use crate::error::AppError;

/// Where one department's evaluation of the year stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentSlot {
    pub department_id: i32,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    /// The lead owner (主管)
    pub is_lead: bool,
    /// Owns the measure in the year (`false`: a former owner that evaluated it)
    pub owns: bool,
    pub submission: SubmissionState,
    /// `null` while missing
    pub evaluation: Option<DepartmentEvaluation>,
}

/// The 施策評価 of one measure and fiscal year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureYearEvaluation {
    pub plan_id: i32,
    pub measure_id: i32,
    #[schema(example = 6)]
    pub measure_number: i32,
    #[schema(example = "マイナンバー制度への対応")]
    pub measure_name: String,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    /// As recorded by this time (UTC), when given
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub as_of: Option<NaiveDateTime>,
    /// Whether the measure is part of the plan in the year (only then can it be evaluated)
    pub active: bool,
    /// The roadmap's steps for the year: what the progress is judged against
    pub roadmap: Vec<RoadmapEntry>,
    /// The plan's grading scale, on which 自己評価 and 本部評価 are given
    pub grading_scale: Vec<GradeStep>,
    /// The 方向性 the 本部 chooses from
    pub direction_options: Vec<String>,
    /// Each department owning the measure in the year (lead first), and any former owner that
    /// evaluated it
    pub departments: Vec<DepartmentSlot>,
    /// The 本部's assessment; `null` until recorded
    pub assessment: Option<HqAssessment>,
}

/// The stored evaluations and assessments of some measures, grouped by what they are of.
#[derive(Debug, Default, Clone)]
pub struct EvaluationRecords {
    pub evaluations: BTreeMap<EvaluationKey, Vec<DepartmentEvaluationEvent>>,
    pub assessments: BTreeMap<AssessmentKey, Vec<HqAssessmentEvent>>,
}

impl EvaluationRecords {
    /// The evaluations and assessments of these measures (of one year, when given): two queries.
    pub fn load(conn: &mut DbConnection, measure_ids: &[i32], fiscal_year: Option<i32>) -> Result<Self, AppError> {
        Ok(Self {
            evaluations: by_evaluation(measure_evaluations::department_events(conn, measure_ids, fiscal_year)?),
            assessments: by_evaluation(measure_evaluations::assessment_events(conn, measure_ids, fiscal_year)?),
        })
    }

    /// How many versions it holds.
    pub fn record_count(&self) -> usize {
        self.evaluations.values().map(Vec::len).sum::<usize>() + self.assessments.values().map(Vec::len).sum::<usize>()
    }
}

/// What composing needs besides the records: the plan, its departments, 方向性 and the records
/// that links name (an empty map leaves links undescribed).
pub struct Context<'a> {
    pub plan: &'a Plan,
    pub departments: &'a [Department],
    pub directions: &'a [String],
    pub targets: &'a BTreeMap<PlanLink, LinkTarget>,
}

/// The state of one department's evaluation as a collection status shows it.
pub fn submission_state(evaluation: Option<&DepartmentEvaluation>) -> SubmissionState {
    match evaluation.map(|e| e.status) {
        None => SubmissionState::Missing,
        Some(ActualStatus::Submitted) => SubmissionState::Submitted,
        Some(ActualStatus::Returned) => SubmissionState::Returned,
        Some(ActualStatus::Approved) => SubmissionState::Approved,
    }
}

/// The measure's 施策評価 of `year` as recorded at `as_of`.
pub fn compose(
    context: &Context<'_>,
    records: &EvaluationRecords,
    measure: &Measure,
    year: i32,
    as_of: Option<NaiveDateTime>,
) -> MeasureYearEvaluation {
    let name_of = |id: i32| context.departments.iter().find(|d| d.id == id).map(|d| d.name.clone()).unwrap_or_default();
    let active = measure_counts_in(measure, year, as_of);
    let owners = if active { owners_in(measure, year, as_of) } else { Vec::new() };
    let mut evaluations: BTreeMap<i32, DepartmentEvaluation> = records
        .evaluations
        .iter()
        .filter(|(key, _)| key.measure_id == measure.id && key.fiscal_year == year)
        .filter_map(|(key, events)| DepartmentEvaluation::fold(key, events, as_of))
        .map(|evaluation| (evaluation.department_id, evaluation))
        .collect();
    let is_lead = |id: i32| {
        measure.owners.iter().any(|owner| owner.department_id == id && owner.is_lead && owner.in_force(Some(year)))
    };
    let mut departments: Vec<DepartmentSlot> = owners
        .iter()
        .map(|&id| {
            let evaluation = evaluations.remove(&id);
            DepartmentSlot {
                department_id: id,
                department_name: name_of(id),
                is_lead: is_lead(id),
                owns: true,
                submission: submission_state(evaluation.as_ref()),
                evaluation,
            }
        })
        .collect();
    departments.sort_by_key(|slot| !slot.is_lead);
    departments.extend(evaluations.into_values().map(|evaluation| DepartmentSlot {
        department_id: evaluation.department_id,
        department_name: evaluation.department_name.clone(),
        is_lead: false,
        owns: false,
        submission: submission_state(Some(&evaluation)),
        evaluation: Some(evaluation),
    }));
    let assessment = records
        .assessments
        .iter()
        .find(|(key, _)| key.measure_id == measure.id && key.fiscal_year == year)
        .and_then(|(key, events)| HqAssessment::fold(*key, events, as_of, context.targets));
    MeasureYearEvaluation {
        plan_id: measure.plan_id,
        measure_id: measure.id,
        measure_number: measure.number,
        measure_name: measure.name.clone(),
        fiscal_year: year,
        fiscal_year_label: label(year),
        as_of,
        active,
        roadmap: measure.roadmap.iter().filter(|step| step.fiscal_year == year).cloned().collect(),
        grading_scale: grading_scale(&context.plan.grading),
        direction_options: context.directions.to_vec(),
        departments,
        assessment,
    }
}

/// The 施策評価 of one measure and year.
pub fn for_measure(
    conn: &mut DbConnection,
    measure_id: MeasureId,
    year: FiscalYear,
    as_of: Option<NaiveDateTime>,
) -> Result<MeasureYearEvaluation, AppError> {
    let year = year.year();
    let measure_id = measure_id.get();
    let measure = measures::get(conn, MeasureId::new(measure_id))?;
    let plan = plans::get(conn, PlanId::new(measure.plan_id))?;
    plan.check_year("fiscal_year", year)?;
    let records = EvaluationRecords::load(conn, &[measure_id], Some(year))?;
    let targets = measure_evaluations::targets_of_events(conn, records.assessments.values().flatten())?;
    let departments = departments::list_for_municipality(conn, plan.municipality_id)?;
    let directions = measure_evaluations::directions(conn, plan.id)?;
    let context = Context { plan: &plan, departments: &departments, directions: &directions, targets: &targets };
    Ok(compose(&context, &records, &measure, year, as_of))
}

/// The 施策評価 of every measure of a plan that counts in `year` (as recorded at `as_of`), in
/// number order, in a fixed number of queries.
pub fn for_plan(
    conn: &mut DbConnection,
    plan_id: i32,
    year: i32,
    as_of: Option<NaiveDateTime>,
) -> Result<Vec<MeasureYearEvaluation>, AppError> {
    let plan = plans::get(conn, PlanId::new(plan_id))?;
    plan.check_year("fiscal_year", year)?;
    let measures = measures::list_for_plan(conn, PlanId::new(plan_id))?;
    let ids: Vec<i32> = measures.iter().map(|m| m.id).collect();
    let records = EvaluationRecords::load(conn, &ids, Some(year))?;
    let targets = measure_evaluations::targets_of_events(conn, records.assessments.values().flatten())?;
    let departments = departments::list_for_municipality(conn, plan.municipality_id)?;
    let directions = measure_evaluations::directions(conn, plan.id)?;
    let context = Context { plan: &plan, departments: &departments, directions: &directions, targets: &targets };
    Ok(measures
        .iter()
        .filter(|measure| measure_counts_in(measure, year, as_of))
        .map(|measure| compose(&context, &records, measure, year, as_of))
        .collect())
}

/// Where one department's 施策評価 of a measure's year stands, as the plan's evaluation and the
/// collection status show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentEvaluationState {
    pub department_id: i32,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    pub submission: SubmissionState,
    /// Missing or returned after the collection deadline
    pub late: bool,
    pub roadmap_progress: Option<RoadmapProgress>,
    pub self_grade: Option<Grade>,
    /// The evaluation's version (its ETag's number)
    pub version: Option<i32>,
    pub is_sample: bool,
}

/// A measure's 施策評価 of the year in brief: where each owning department's evaluation stands and
/// what the 本部 assessed (the texts: `/measures/{id}/evaluations/{fiscal_year}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureEvaluationSummary {
    /// The departments owning the measure in the year, lead first
    pub departments: Vec<DepartmentEvaluationState>,
    /// 本部評価, once recorded
    pub hq_grade: Option<Grade>,
    /// 方向性, once decided
    #[schema(example = "拡充")]
    pub direction: Option<String>,
    pub assessment_version: Option<i32>,
}

impl MeasureEvaluationSummary {
    /// The brief of a measure's year; `deadline_passed`: the collection deadline has passed.
    pub fn of(evaluation: &MeasureYearEvaluation, deadline_passed: bool) -> Self {
        let departments = evaluation
            .departments
            .iter()
            .filter(|slot| slot.owns)
            .map(|slot| {
                let status = slot.evaluation.as_ref().map(|e| e.status);
                DepartmentEvaluationState {
                    department_id: slot.department_id,
                    department_name: slot.department_name.clone(),
                    submission: slot.submission,
                    late: outstanding_after_deadline(status, deadline_passed),
                    roadmap_progress: slot.evaluation.as_ref().map(|e| e.report.roadmap_progress),
                    self_grade: slot.evaluation.as_ref().map(|e| e.report.self_grade),
                    version: slot.evaluation.as_ref().map(|e| e.version),
                    is_sample: slot.evaluation.as_ref().is_some_and(|e| e.is_sample),
                }
            })
            .collect();
        let assessment = evaluation.assessment.as_ref();
        Self {
            departments,
            hq_grade: assessment.map(|a| a.hq_grade),
            direction: assessment.map(|a| a.direction.clone()),
            assessment_version: assessment.map(|a| a.version),
        }
    }
}

/// How many measures were given one 方向性.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DirectionCount {
    #[schema(example = "継続")]
    pub direction: String,
    pub count: usize,
}

/// The 施策評価 of a year counted: departments' evaluations by state, measures the 本部 assessed,
/// and its 方向性 decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct EvaluationTally {
    /// Evaluations due: one per owning department of each measure counting in the year
    pub expected: usize,
    pub missing: usize,
    pub submitted: usize,
    pub returned: usize,
    pub approved: usize,
    /// Missing or returned after the collection deadline
    pub late: usize,
    /// Measures with a 本部評価
    pub assessed: usize,
    /// 方向性 decisions, most frequent first (then by name)
    pub directions: Vec<DirectionCount>,
}

impl EvaluationTally {
    pub fn of<'a>(summaries: impl IntoIterator<Item = &'a MeasureEvaluationSummary>) -> Self {
        let mut tally = Self::default();
        let mut directions: BTreeMap<&str, usize> = BTreeMap::new();
        for summary in summaries {
            for department in &summary.departments {
                tally.expected += 1;
                match department.submission {
                    SubmissionState::Missing => tally.missing += 1,
                    SubmissionState::Submitted => tally.submitted += 1,
                    SubmissionState::Returned => tally.returned += 1,
                    SubmissionState::Approved => tally.approved += 1,
                }
                tally.late += usize::from(department.late);
            }
            tally.assessed += usize::from(summary.hq_grade.is_some());
            if let Some(direction) = &summary.direction {
                *directions.entry(direction).or_default() += 1;
            }
        }
        let mut counted: Vec<DirectionCount> = directions
            .into_iter()
            .map(|(direction, count)| DirectionCount { direction: direction.to_owned(), count })
            .collect();
        counted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.direction.cmp(&b.direction)));
        tally.directions = counted;
        tally
    }
}

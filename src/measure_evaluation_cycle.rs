//! The yearly 施策評価 of a measure: a department's evaluation (or hq's on its behalf), hq's review
//! of it, and the 本部's assessment with its 方向性 and the plan revisions it led to.
//!
//! The same order as actuals (`submission_cycle`): the record is found and the caller's scope
//! checked first (404, 403, 422 for a year it cannot be evaluated in), then `If-Match` (428, 412),
//! then the body (422) and the workflow (409); each accepted write stores one new version.

pub mod import;
use crate::domain::ids::{DepartmentId, IndicatorId, MeasureId, PlanId};

use chrono::Utc;

use crate::auth::Caller;
use crate::db::DbConnection;
use crate::db::audit::Actor;
use crate::db::measure_evaluations::{self, EvaluationOf, NewDecision, NewReport};
use crate::db::{departments, measures, plans};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::measure::Measure;
use crate::domain::measure_evaluation::{
    DepartmentEvaluation, DepartmentReport, HqAssessment, HqDecision, LinkTarget, check_decision, check_link,
    check_report,
};
use crate::domain::plan::{Plan, label};
use crate::domain::resource::OwnedResource;
use crate::domain::role::Role;
use crate::domain::submission::{self, ReviewAction, Reviewed};
use crate::error::{AppError, FieldError};
use crate::submission_cycle::review_step;
use crate::versioning::Precondition;

/// The measure with the year checked against its plan and the calendar, and the measure's plan.
struct MeasureYear {
    measure: Measure,
    municipality_id: i32,
    plan_id: i32,
    fiscal_year: i32,
}

/// 404 for a missing measure; 422 for a year outside its plan or not started yet.
fn measure_year(conn: &mut DbConnection, measure_id: i32, fiscal_year: i32) -> Result<MeasureYear, AppError> {
    let measure = measures::get(conn, MeasureId::new(measure_id))?;
    let plan = plans::get(conn, PlanId::new(measure.plan_id))?;
    check_year(&plan, fiscal_year)?;
    Ok(MeasureYear { measure, municipality_id: plan.municipality_id, plan_id: plan.id, fiscal_year })
}

/// 422 for a year outside the plan or not started yet.
fn check_year(plan: &Plan, fiscal_year: i32) -> Result<(), AppError> {
    plan.check_year("fiscal_year", fiscal_year)?;
    let current = FiscalYear::of_date(Utc::now().date_naive()).map(FiscalYear::year).unwrap_or(i32::MAX);
    if fiscal_year > current {
        return Err(AppError::invalid(
            "fiscal_year",
            format!(
                "{}はまだ始まっていません ({} has not started yet; the current fiscal year is {})",
                label(fiscal_year),
                label(fiscal_year),
                label(current)
            ),
        ));
    }
    Ok(())
}

/// 422 unless the measure is part of the plan in the year.
fn check_active(measure: &Measure, fiscal_year: i32) -> Result<(), AppError> {
    if measure.active_in(fiscal_year) {
        return Ok(());
    }
    Err(AppError::invalid(
        "fiscal_year",
        format!(
            "施策 No.{} は{}の計画に含まれていません (measure No.{} is not active in {})",
            measure.number,
            label(fiscal_year),
            measure.number,
            label(fiscal_year)
        ),
    ))
}

/// A department writes the evaluation of its own department, of a measure it owns that year
/// (403 otherwise); hq writes any owning department's on its behalf, and a department that does
/// not own the measure that year is a 422 naming `department_id` (another municipality's reads
/// the same).
fn check_scope(caller: &Caller, measure: &Measure, fiscal_year: i32, department_id: i32) -> Result<(), AppError> {
    let owns = measure.owned_by(department_id, Some(fiscal_year));
    match (caller.role, caller.department_id) {
        (Role::Hq, _) if owns => Ok(()),
        (Role::Hq, _) => Err(AppError::invalid(
            "department_id",
            format!(
                "所管課 {department_id} は{}に施策 No.{} を所管していません (department {department_id} does not own \
                 measure No.{} in {})",
                label(fiscal_year),
                measure.number,
                measure.number,
                label(fiscal_year)
            ),
        )),
        (Role::Department, Some(own)) if own != department_id => Err(AppError::Forbidden(
            "ほかの所管課の施策評価は提出できません (a department submits only its own evaluation)".into(),
        )),
        (Role::Department, Some(_)) if owns => Ok(()),
        (Role::Department, _) => Err(AppError::Forbidden(format!(
            "あなたの所管課は{}に施策 No.{} ({}) を所管していません (your department does not own measure No.{} in {})",
            label(fiscal_year),
            measure.number,
            measure.name,
            measure.number,
            label(fiscal_year)
        ))),
        (role, _) => Err(AppError::Forbidden(format!(
            "{} の役割では施策評価を提出できません (the {} role may not submit measure evaluations)",
            role.as_str(),
            role.as_str()
        ))),
    }
}

/// A department user acts for its department only while that department is active (403).
fn check_department_active(conn: &mut DbConnection, caller: &Caller) -> Result<(), AppError> {
    let department = match (caller.role, caller.department_id) {
        (Role::Department, Some(id)) => Some(departments::get(conn, DepartmentId::new(id))?),
        _ => None,
    };
    submission::check_department_active_for(
        Reviewed::MeasureEvaluation,
        department.as_ref().map(|d| (d.name.as_str(), d.active)),
    )
    .map_err(AppError::Forbidden)
}

/// Overwriting needs the version the caller read: missing → 428, stale → 412; `If-Match` on a
/// record that does not exist yet → 412.
fn check_overwrite(what: &str, path: &str, existing: Option<i32>, precondition: &Precondition) -> Result<(), AppError> {
    match (existing, precondition) {
        (None, Precondition::Version(_)) => Err(AppError::PreconditionFailed(format!(
            "この年度の{what}はまだありません (there is none for this year yet)"
        ))),
        (Some(_), Precondition::None) => Err(AppError::PreconditionRequired(format!(
            "この年度の{what}は登録済みです: GET {path} の ETag を If-Match に付けて送ってください (one exists for \
             this year: GET {path} returns it with its ETag header; send that value as If-Match to overwrite it)"
        ))),
        (Some(current), Precondition::Version(version)) if *version != current => {
            Err(AppError::PreconditionFailed(format!(
                "{what}はほかの利用者が更新しました (now version {current}): GET {path} で最新の内容と ETag を取得し、\
                 その ETag を If-Match に付けて送り直してください (it was changed since you read it)"
            )))
        }
        _ => Ok(()),
    }
}

/// A department's evaluation that the caller may write, found before the body is read.
pub struct WritableEvaluation {
    of: EvaluationOf,
    existing: Option<DepartmentEvaluation>,
}

/// Finds what a department's evaluation would write and checks the caller's scope: 404, then
/// 403, then 422. Nothing of the evaluation itself is looked at yet.
pub fn writable_evaluation(
    conn: &mut DbConnection,
    caller: &Caller,
    measure_id: i32,
    fiscal_year: i32,
    department_id: i32,
) -> Result<WritableEvaluation, AppError> {
    let year = measure_year(conn, measure_id, fiscal_year)?;
    check_department_active(conn, caller)?;
    check_scope(caller, &year.measure, fiscal_year, department_id)?;
    check_active(&year.measure, fiscal_year)?;
    let existing = measure_evaluations::find(conn, measure_id, fiscal_year, department_id, None)?;
    Ok(WritableEvaluation { of: EvaluationOf { measure_id, fiscal_year, department_id }, existing })
}

/// Where a department's evaluation is read, with its ETag.
pub fn evaluation_path(of: &EvaluationOf) -> String {
    format!("/api/v1/measures/{}/evaluations/{}/departments/{}", of.measure_id, of.fiscal_year, of.department_id)
}

impl WritableEvaluation {
    pub fn check_precondition(&self, precondition: &Precondition) -> Result<(), AppError> {
        let existing = self.existing.as_ref().map(|e| e.version);
        check_overwrite("施策評価", &evaluation_path(&self.of), existing, precondition)
    }

    /// Checks the report (422) and the evaluation's state (409), then writes one new version.
    /// Returns the evaluation and whether it is new.
    pub fn write(
        self,
        conn: &mut DbConnection,
        caller: &Caller,
        report: &DepartmentReport,
    ) -> Result<(DepartmentEvaluation, bool), AppError> {
        let report = check_report(report).map_err(AppError::Validation)?;
        let step = submission::submit_record(Reviewed::MeasureEvaluation, self.existing.as_ref().map(|e| e.status))
            .map_err(AppError::Conflict)?;
        let new = NewReport {
            event: step.event,
            report: &report,
            status: step.status,
            is_sample: false,
            comment: None,
            actor_department_id: caller.department_id,
        };
        let actor = Actor::from(caller);
        match &self.existing {
            None => {
                measure_evaluations::insert(conn, &actor, self.of, &new)?;
            }
            Some(current) => measure_evaluations::update(conn, &actor, current, &new)?,
        }
        let saved = find_written(conn, &self.of)?;
        let created = saved.version == 1;
        Ok((saved, created))
    }
}

fn find_written(conn: &mut DbConnection, of: &EvaluationOf) -> Result<DepartmentEvaluation, AppError> {
    measure_evaluations::find(conn, of.measure_id, of.fiscal_year, of.department_id, None)?
        .ok_or_else(|| AppError::Internal("the measure evaluation just written is missing".into()))
}

/// A department's evaluation hq is about to review, found and checked against `If-Match`
/// (optional here; when sent it must match) before the review itself is read.
pub struct ReviewableEvaluation {
    of: EvaluationOf,
    current: DepartmentEvaluation,
}

pub fn reviewable_evaluation(
    conn: &mut DbConnection,
    caller: &Caller,
    of: EvaluationOf,
    precondition: &Precondition,
) -> Result<ReviewableEvaluation, AppError> {
    caller.require_hq("review measure evaluations")?;
    measures::plan_id_of(conn, MeasureId::new(of.measure_id))?;
    let current =
        measure_evaluations::find(conn, of.measure_id, of.fiscal_year, of.department_id, None)?.ok_or_else(|| {
            AppError::not_found(
                "measure evaluation",
                format!("{}/{}/{}", of.measure_id, of.fiscal_year, of.department_id),
            )
        })?;
    if let Some(expected) = precondition.expected()
        && expected != current.version
    {
        return Err(AppError::PreconditionFailed(format!(
            "施策評価はほかの利用者が更新しました (the measure evaluation was changed since you read it; now version {})",
            current.version
        )));
    }
    Ok(ReviewableEvaluation { of, current })
}

impl ReviewableEvaluation {
    /// hq approves, returns or reopens the evaluation.
    pub fn review(
        self,
        conn: &mut DbConnection,
        caller: &Caller,
        action: ReviewAction,
        comment: Option<&str>,
    ) -> Result<DepartmentEvaluation, AppError> {
        let current = &self.current;
        let step = review_step(Reviewed::MeasureEvaluation, current.status, action, comment)?;
        let new = NewReport {
            event: step.event,
            report: &current.report,
            status: step.status,
            is_sample: current.is_sample,
            comment,
            actor_department_id: None,
        };
        measure_evaluations::update(conn, &Actor::from(caller), current, &new)?;
        find_written(conn, &self.of)
    }
}

/// The 本部's assessment of a measure's year that hq is about to write, found before the body is
/// read.
pub struct WritableAssessment {
    year: MeasureYear,
    existing: Option<HqAssessment>,
}

/// 404, 403 (hq only), then 422 for a year the measure cannot be evaluated in.
pub fn writable_assessment(
    conn: &mut DbConnection,
    caller: &Caller,
    measure_id: MeasureId,
    fiscal_year: FiscalYear,
) -> Result<WritableAssessment, AppError> {
    let fiscal_year = fiscal_year.year();
    let measure_id = measure_id.get();
    caller.require_hq("assess measures")?;
    let year = measure_year(conn, measure_id, fiscal_year)?;
    check_active(&year.measure, fiscal_year)?;
    let existing = measure_evaluations::find_assessment(conn, measure_id, fiscal_year, None)?;
    Ok(WritableAssessment { year, existing })
}

/// Where an assessment is read, with its ETag.
pub fn assessment_path(measure_id: i32, fiscal_year: i32) -> String {
    format!("/api/v1/measures/{measure_id}/evaluations/{fiscal_year}/assessment")
}

impl WritableAssessment {
    pub fn check_precondition(&self, precondition: &Precondition) -> Result<(), AppError> {
        let path = assessment_path(self.year.measure.id, self.year.fiscal_year);
        check_overwrite("本部評価", &path, self.existing.as_ref().map(|a| a.version), precondition)
    }

    /// Checks the decision against the plan's 方向性 and its links against the municipality's
    /// records (422), then writes one new version. Returns the assessment and whether it is new.
    pub fn write(
        self,
        conn: &mut DbConnection,
        caller: &Caller,
        decision: &HqDecision,
    ) -> Result<(HqAssessment, bool), AppError> {
        let directions = measure_evaluations::directions(conn, self.year.plan_id)?;
        let mut errors = Vec::new();
        let checked = match check_decision(decision, &directions) {
            Ok(checked) => Some(checked),
            Err(found) => {
                errors.extend(found);
                None
            }
        };
        let targets = resolve_links(conn, self.year.municipality_id, decision, &mut errors)?;
        let (Some(decision), true) = (checked, errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let new = NewDecision { decision: &decision, targets: &targets, is_sample: false };
        let actor = Actor::from(caller);
        let (measure_id, fiscal_year) = (self.year.measure.id, self.year.fiscal_year);
        match &self.existing {
            None => {
                measure_evaluations::insert_assessment(conn, &actor, measure_id, fiscal_year, &new)?;
            }
            Some(current) => measure_evaluations::update_assessment(conn, &actor, current, &new)?,
        }
        let saved = measure_evaluations::find_assessment(conn, measure_id, fiscal_year, None)?
            .ok_or_else(|| AppError::Internal("the assessment just written is missing".into()))?;
        let created = saved.version == 1;
        Ok((saved, created))
    }
}

/// The records the decision's links name, each the municipality's own and in the state its kind
/// needs; a missing record and another municipality's get the same 422 on `plan_links[i].id`.
fn resolve_links(
    conn: &mut DbConnection,
    municipality_id: i32,
    decision: &HqDecision,
    errors: &mut Vec<FieldError>,
) -> Result<Vec<LinkTarget>, AppError> {
    let found = measure_evaluations::link_targets(conn, &decision.plan_links)?;
    let mut targets = Vec::new();
    for (i, link) in decision.plan_links.iter().enumerate() {
        let field = format!("plan_links[{i}].id");
        match found.iter().find(|(target, owner)| target.link == *link && *owner == municipality_id) {
            Some((target, _)) => match check_link(target) {
                Ok(()) => targets.push(target.clone()),
                Err(message) => errors.push(FieldError::new(field, message)),
            },
            None => {
                let resource = match link.kind {
                    crate::domain::measure_evaluation::PlanLinkKind::TargetRevision => None,
                    crate::domain::measure_evaluation::PlanLinkKind::IndicatorAdded => {
                        Some(OwnedResource::Indicator(IndicatorId::new(link.id)))
                    }
                    _ => Some(OwnedResource::Measure(MeasureId::new(link.id))),
                };
                let message = match resource {
                    Some(resource) => {
                        format!(
                            "{} {} は見つかりません (no {} {})",
                            resource.entity_ja(),
                            link.id,
                            resource.entity(),
                            link.id
                        )
                    }
                    None => format!("目標の改定 {} は見つかりません (no target revision {})", link.id, link.id),
                };
                errors.push(FieldError::new(field, message));
            }
        }
    }
    Ok(targets)
}

/// hq replaces a plan's list of 方向性 (422 for an empty list, a blank or repeated name).
pub fn set_directions(
    conn: &mut DbConnection,
    caller: &Caller,
    plan_id: PlanId,
    names: &[String],
) -> Result<Vec<String>, AppError> {
    caller.require_hq("configure a plan's directions")?;
    let names = crate::domain::measure_evaluation::check_directions(names).map_err(AppError::Validation)?;
    measure_evaluations::set_directions(conn, &Actor::from(caller), plan_id.get(), &names)
}

//! The yearly cycle for one actual: submission by a department (or hq on its behalf), correction,
//! and review by hq. Each step checks scope and shape, then writes one new version.

use chrono::Utc;

use crate::auth::Caller;
use crate::db::DbConnection;
use crate::db::actuals::{self, Actual, NewVersion, Reported};
use crate::db::audit::Actor;
use crate::db::indicators::{self, Indicator};
use crate::db::measures::{self, Measure};
use crate::db::plans;
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::role::Role;
use crate::domain::submission::{self, CheckedFigures, Figures, ReviewAction};
use crate::error::AppError;
use crate::spreadsheet::{ImportRow, RowError};
use crate::versioning::Precondition;

/// A submission as received: the figures and the department's note.
pub struct SubmissionInput<'a> {
    pub figures: Figures<'a>,
    pub note: &'a str,
}

/// A department writes only the indicators of measures it owns in that year (lead or co-owner),
/// or the indicator assigned to it; hq may write any on a department's behalf.
pub fn check_scope(caller: &Caller, measure: &Measure, indicator: &Indicator, year: i32) -> Result<(), AppError> {
    match (caller.role, caller.department_id) {
        (Role::Hq, _) => Ok(()),
        (Role::Department, Some(department_id))
            if measure.owned_by(department_id, Some(year)) || indicator.department_id == Some(department_id) =>
        {
            Ok(())
        }
        (Role::Department, _) => Err(AppError::Forbidden(format!(
            "your department does not own measure No.{} ({}) in {}",
            measure.number,
            measure.name,
            plans::label(year)
        ))),
        (role, _) => Err(AppError::Forbidden(format!("the {} role may not submit actuals", role.as_str()))),
    }
}

/// The indicator, its measure and plan, with the year checked against the plan and the calendar.
fn load_for_year(
    conn: &mut DbConnection,
    indicator_id: i32,
    fiscal_year: i32,
) -> Result<(Indicator, Measure), AppError> {
    let indicator = indicators::get(conn, indicator_id)?;
    let measure = measures::get(conn, indicator.measure_id)?;
    let plan = plans::get(conn, measure.plan_id)?;
    plan.check_year("fiscal_year", fiscal_year)?;
    let current = FiscalYear::of_date(Utc::now().date_naive()).map(FiscalYear::year).unwrap_or(i32::MAX);
    if fiscal_year > current {
        return Err(AppError::invalid(
            "fiscal_year",
            format!(
                "{} has not started yet (the current fiscal year is {})",
                plans::label(fiscal_year),
                plans::label(current)
            ),
        ));
    }
    Ok((indicator, measure))
}

fn check_in_force(indicator: &Indicator, measure: &Measure, fiscal_year: i32) -> Result<(), AppError> {
    if !indicator.active_in(fiscal_year) {
        let why = match indicator.retired_from_fiscal_year {
            Some(retired) if fiscal_year >= retired => {
                format!("the indicator is retired from {}", plans::label(retired))
            }
            _ => format!("the indicator is not part of the plan in {}", plans::label(fiscal_year)),
        };
        return Err(AppError::invalid("fiscal_year", why));
    }
    if !measure.active_in(fiscal_year) {
        return Err(AppError::invalid(
            "fiscal_year",
            format!("measure No.{} is not active in {}", measure.number, plans::label(fiscal_year)),
        ));
    }
    Ok(())
}

fn reported(figures: CheckedFigures) -> Reported {
    Reported {
        value: figures.value,
        numerator: figures.numerator,
        denominator: figures.denominator,
        stage: figures.stage,
    }
}

/// The actual of one indicator and year that a caller may write, found before the body is read:
/// the indicator exists, the caller's department owns it that year (or the caller is hq), and the
/// indicator counts in that year.
pub struct WritableActual {
    indicator: Indicator,
    fiscal_year: i32,
    existing: Option<Actual>,
}

/// Finds what a submission would write and checks the caller's scope: 404, then 403, then 422 for
/// a year the indicator does not count in. Nothing of the submission itself is looked at yet.
pub fn writable_actual(
    conn: &mut DbConnection,
    caller: &Caller,
    indicator_id: i32,
    fiscal_year: i32,
) -> Result<WritableActual, AppError> {
    let (indicator, measure) = load_for_year(conn, indicator_id, fiscal_year)?;
    check_scope(caller, &measure, &indicator, fiscal_year)?;
    check_in_force(&indicator, &measure, fiscal_year)?;
    let existing = actuals::find(conn, indicator_id, fiscal_year, &indicator.stages)?;
    Ok(WritableActual { indicator, fiscal_year, existing })
}

impl WritableActual {
    /// Overwriting needs the version the caller read (`If-Match`): missing → 428, stale → 412.
    pub fn check_precondition(&self, precondition: &Precondition) -> Result<(), AppError> {
        match (&self.existing, precondition) {
            (None, Precondition::Version(_)) => {
                Err(AppError::PreconditionFailed("there is no actual for this year yet".into()))
            }
            (Some(_), Precondition::None) => Err(AppError::PreconditionRequired(
                "an actual exists for this year: send If-Match with its ETag to overwrite it".into(),
            )),
            (Some(current), Precondition::Version(version)) if *version != current.version => {
                Err(AppError::PreconditionFailed(format!(
                    "the actual was changed since you read it (now version {})",
                    current.version
                )))
            }
            _ => Ok(()),
        }
    }

    /// Checks the figures against the indicator (422) and the actual's state (409), then writes
    /// one new version. Returns the actual and whether it is new.
    pub fn write(
        self,
        conn: &mut DbConnection,
        caller: &Caller,
        input: &SubmissionInput<'_>,
    ) -> Result<(Actual, bool), AppError> {
        let indicator = &self.indicator;
        let figures = submission::check_figures(indicator.kind, &indicator.stages, &input.figures)
            .map_err(AppError::Validation)?;
        let reported = reported(figures);
        let step = submission::submit(self.existing.as_ref().map(|a| a.status)).map_err(AppError::Conflict)?;
        let actor = Actor::from(caller);
        let new = NewVersion {
            event: step.event,
            reported: &reported,
            note: input.note,
            status: step.status,
            is_sample: false,
            comment: None,
            actor_department_id: caller.department_id,
        };
        match &self.existing {
            None => {
                actuals::insert(conn, &actor, indicator.id, self.fiscal_year, &new)?;
            }
            Some(current) => {
                actuals::update(conn, &actor, current, &new)?;
            }
        }
        let saved = actuals::find(conn, indicator.id, self.fiscal_year, &indicator.stages)?
            .ok_or_else(|| AppError::Internal("the actual just written is missing".into()))?;
        let created = saved.version == 1;
        Ok((saved, created))
    }
}

/// Submits or corrects the actual of one indicator and year. Returns it and whether it is new.
///
/// Scope first (403), then the precondition (428/412), then the figures (422) and state (409).
pub fn submit(
    conn: &mut DbConnection,
    caller: &Caller,
    indicator_id: i32,
    fiscal_year: i32,
    input: &SubmissionInput<'_>,
    precondition: &Precondition,
) -> Result<(Actual, bool), AppError> {
    let writable = writable_actual(conn, caller, indicator_id, fiscal_year)?;
    writable.check_precondition(precondition)?;
    writable.write(conn, caller, input)
}

/// The actual hq is about to review, found and checked against `If-Match` (optional here; when
/// sent it must match) before the review itself is read.
pub struct ReviewableActual {
    indicator: Indicator,
    current: Actual,
}

pub fn reviewable_actual(
    conn: &mut DbConnection,
    caller: &Caller,
    indicator_id: i32,
    fiscal_year: i32,
    precondition: &Precondition,
) -> Result<ReviewableActual, AppError> {
    caller.require_hq("review actuals")?;
    let indicator = indicators::get(conn, indicator_id)?;
    let current = actuals::find(conn, indicator_id, fiscal_year, &indicator.stages)?
        .ok_or_else(|| AppError::not_found("actual", format!("{indicator_id}/{fiscal_year}")))?;
    if let Some(expected) = precondition.expected()
        && expected != current.version
    {
        return Err(AppError::PreconditionFailed(format!(
            "the actual was changed since you read it (now version {})",
            current.version
        )));
    }
    Ok(ReviewableActual { indicator, current })
}

impl ReviewableActual {
    /// hq approves, returns or reopens the actual.
    pub fn review(
        self,
        conn: &mut DbConnection,
        caller: &Caller,
        action: ReviewAction,
        comment: Option<&str>,
    ) -> Result<Actual, AppError> {
        let current = &self.current;
        let step = submission::review(current.status, action, comment).map_err(|message| match action {
            ReviewAction::Return | ReviewAction::Reopen if comment.is_none_or(|c| c.trim().is_empty()) => {
                AppError::invalid("comment", message)
            }
            _ => AppError::Conflict(message),
        })?;
        let new = NewVersion {
            event: step.event,
            reported: &current.reported,
            note: &current.note,
            status: step.status,
            is_sample: current.is_sample,
            comment,
            actor_department_id: None,
        };
        actuals::update(conn, &Actor::from(caller), current, &new)?;
        actuals::find(conn, self.indicator.id, current.fiscal_year, &self.indicator.stages)?
            .ok_or_else(|| AppError::Internal("the actual just reviewed is missing".into()))
    }
}

/// What a bulk import did (or, in a dry run, would do) with one row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RowOutcome {
    pub row: usize,
    pub indicator_id: i32,
    pub fiscal_year: i32,
    /// `create`, `correct` or `unchanged`
    #[schema(example = "correct")]
    pub action: &'static str,
    pub old: Option<Reported>,
    pub new: Reported,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// True only when every row was valid and the import was not a dry run
    pub applied: bool,
    pub rows: Vec<RowOutcome>,
    pub errors: Vec<RowError>,
}

/// Why an import transaction was rolled back: a dry run, row errors, or a failure.
pub enum ImportAbort {
    RolledBack(ImportReport),
    Failed(AppError),
}

impl From<AppError> for ImportAbort {
    fn from(error: AppError) -> Self {
        Self::Failed(error)
    }
}

impl From<diesel::result::Error> for ImportAbort {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

/// The import column a submission field is read from.
fn column_of(field: &str) -> &'static str {
    match field {
        "value" => "実績",
        "numerator" => "分子",
        "denominator" => "分母",
        "stage" | "stage_name" => "段階",
        "fiscal_year" => "年度",
        _ => "指標ID",
    }
}

/// Applies a year's rows with the same checks and scoping as single submissions, all or none:
/// any row error, or a dry run, rolls everything back and reports per row.
pub fn import_actuals(
    conn: &mut DbConnection,
    caller: &Caller,
    plan_id: i32,
    rows: &[ImportRow],
    read_errors: Vec<RowError>,
    dry_run: bool,
) -> Result<ImportReport, ImportAbort> {
    let mut report = ImportReport { dry_run, applied: false, rows: Vec::new(), errors: read_errors };
    for row in rows {
        let error = |column: &str, reason: String| RowError { row: row.row, column: column.to_owned(), reason };
        let indicator = match indicators::get(conn, row.indicator_id) {
            Ok(indicator) => indicator,
            Err(_) => {
                report.errors.push(error("指標ID", format!("no indicator {}", row.indicator_id)));
                continue;
            }
        };
        if measures::get(conn, indicator.measure_id)?.plan_id != plan_id {
            report.errors.push(error("指標ID", format!("indicator {} belongs to another plan", row.indicator_id)));
            continue;
        }
        let existing = actuals::find(conn, row.indicator_id, row.fiscal_year, &indicator.stages)?;
        let precondition = match (&existing, row.version) {
            (Some(current), None) => {
                report.errors.push(error(
                    "版",
                    format!(
                        "an actual exists (version {}): fill in 版 from a fresh export to overwrite it",
                        current.version
                    ),
                ));
                continue;
            }
            (_, Some(version)) => Precondition::Version(version),
            (None, None) => Precondition::None,
        };
        let figures = Figures {
            value: row.value,
            numerator: row.numerator,
            denominator: row.denominator,
            stage: None,
            stage_name: row.stage_name.as_deref(),
        };
        let checked = submission::check_figures(indicator.kind, &indicator.stages, &figures);
        if let (Some(current), Ok(checked)) = (&existing, &checked)
            && current.reported == reported(checked.clone())
            && current.note == row.note
        {
            report.rows.push(RowOutcome {
                row: row.row,
                indicator_id: row.indicator_id,
                fiscal_year: row.fiscal_year,
                action: "unchanged",
                old: Some(current.reported.clone()),
                new: current.reported.clone(),
            });
            continue;
        }
        let input = SubmissionInput { figures, note: &row.note };
        match submit(conn, caller, row.indicator_id, row.fiscal_year, &input, &precondition) {
            Ok((saved, created)) => report.rows.push(RowOutcome {
                row: row.row,
                indicator_id: row.indicator_id,
                fiscal_year: row.fiscal_year,
                action: if created { "create" } else { "correct" },
                old: existing.map(|a| a.reported),
                new: saved.reported,
            }),
            Err(AppError::Validation(fields)) => {
                report.errors.extend(fields.iter().map(|f| error(column_of(&f.field), f.message.clone())));
            }
            Err(AppError::Forbidden(reason) | AppError::Conflict(reason) | AppError::PreconditionFailed(reason)) => {
                report.errors.push(error(if reason.contains("version") { "版" } else { "指標ID" }, reason));
            }
            Err(other) => return Err(ImportAbort::Failed(other)),
        }
    }
    report.errors.sort_by_key(|e| e.row);
    if dry_run || !report.errors.is_empty() {
        return Err(ImportAbort::RolledBack(report));
    }
    report.applied = true;
    Ok(report)
}

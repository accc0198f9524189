//! Departments' 施策評価 imported from the exported table (CSV or xlsx): every row checked and scoped
//! exactly as a single submission ([`super::writable_evaluation`]), against the plan and its
//! evaluations read in a few queries, before any write; then all rows are written in one
//! transaction, or none.
use crate::domain::ids::PlanId;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::{check_active, check_department_active, check_scope, check_year};
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::db::audit::Actor;
use crate::db::measure_evaluations::{self, EvaluationOf, NewReport};
use crate::db::{measures, plans};
use crate::domain::measure::Measure;
use crate::domain::measure_evaluation::{DepartmentEvaluation, DepartmentReport, check_report};
use crate::domain::submission::{self, ActualEventKind, Reviewed};
use crate::error::AppError;
use crate::evaluation::measure_year::EvaluationRecords;
use crate::spreadsheet::import::Table;
use crate::spreadsheet::measure_evaluations::EvaluationImportRow;
use crate::spreadsheet::{RowCause, RowError};
use crate::submission_cycle::{ActionCounts, MAX_REPORTED_ROWS};

/// What an import did (or, in a dry run, would do) with one row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvaluationRowOutcome {
    pub row: usize,
    pub measure_id: i32,
    pub fiscal_year: i32,
    pub department_id: i32,
    /// `create`, `correct` or `unchanged`
    #[schema(example = "create")]
    pub action: &'static str,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvaluationImportReport {
    pub dry_run: bool,
    /// True only when every row was valid and the import was not a dry run
    pub applied: bool,
    /// Every valid row, by what it does (listed in `rows` or not)
    pub counts: ActionCounts,
    /// The first rows (at most 100), in file order
    pub rows: Vec<EvaluationRowOutcome>,
    /// How many row errors there were in all
    pub error_count: usize,
    /// The first row errors by row (at most 100)
    pub errors: Vec<RowError>,
}

/// One write the import will make.
enum Write {
    Create { of: EvaluationOf, report: DepartmentReport },
    Correct { current: Box<DepartmentEvaluation>, event: ActualEventKind, report: DepartmentReport },
}

/// A checked import: its report, and the writes it makes if every row was valid.
pub struct CheckedEvaluationImport {
    pub report: EvaluationImportReport,
    writes: Vec<Write>,
}

impl CheckedEvaluationImport {
    pub fn can_apply(&self) -> bool {
        !self.report.dry_run && self.report.error_count == 0 && !self.writes.is_empty()
    }
}

/// Where a refused row's cause is reported: the column and the kind of cause.
fn row_cause(error: &AppError) -> Option<(&'static str, RowCause)> {
    match error {
        AppError::Forbidden(_) => Some(("所管課ID", RowCause::OutOfScope)),
        AppError::Validation(fields) if fields.iter().any(|f| f.field == "department_id") => {
            Some(("所管課ID", RowCause::OutOfScope))
        }
        AppError::Validation(_) => Some(("取組実績", RowCause::InvalidReport)),
        AppError::Conflict(_) => Some(("施策ID", RowCause::StateConflict)),
        AppError::PreconditionRequired(_) => Some(("版", RowCause::VersionMissing)),
        AppError::PreconditionFailed(_) => Some(("版", RowCause::VersionStale)),
        _ => None,
    }
}

/// The column of an import file a field of a report is read from.
fn column_of(field: &str) -> &'static str {
    match field {
        "work_done" => "取組実績",
        "roadmap_progress" => "進捗",
        "progress_reason" => "進捗の理由",
        "self_grade" => "自己評価",
        "issues" => "課題",
        "next_steps" => "今後の方向性",
        "department_id" => "所管課ID",
        _ => "年度",
    }
}

/// The checks of a single submission for one row: the write it makes, `None` when it changes
/// nothing.
fn check_row(
    caller: &Caller,
    plan: &crate::domain::plan::Plan,
    measure: &Measure,
    row: &EvaluationImportRow,
    current: Option<DepartmentEvaluation>,
) -> Result<Option<Write>, AppError> {
    check_year(plan, row.fiscal_year)?;
    check_scope(caller, measure, row.fiscal_year, row.department_id)?;
    check_active(measure, row.fiscal_year)?;
    match (&current, row.version) {
        (None, Some(_)) => {
            return Err(AppError::PreconditionFailed(
                "この施策評価はまだありません (there is none for this year yet)".into(),
            ));
        }
        (Some(current), None) => {
            return Err(AppError::PreconditionRequired(format!(
                "施策評価は登録済みです (version {}): 最新の表を出力し、版を記入してください (fill in 版 from a fresh export \
                 to overwrite it)",
                current.version
            )));
        }
        (Some(current), Some(version)) if version != current.version => {
            return Err(AppError::PreconditionFailed(format!(
                "施策評価はほかの利用者が更新しました (now version {}): 最新の表を出力し直してください",
                current.version
            )));
        }
        _ => {}
    }
    let report = check_report(&row.report).map_err(AppError::Validation)?;
    if current.as_ref().is_some_and(|c| c.report == report) {
        return Ok(None);
    }
    let step = submission::submit_record(Reviewed::MeasureEvaluation, current.as_ref().map(|c| c.status))
        .map_err(AppError::Conflict)?;
    let of =
        EvaluationOf { measure_id: row.measure_id, fiscal_year: row.fiscal_year, department_id: row.department_id };
    Ok(Some(match current {
        None => Write::Create { of, report },
        Some(current) => Write::Correct { current: Box::new(current), event: step.event, report },
    }))
}

/// Checks every row of an import with the checks and scoping of single submissions, reading the
/// plan, its measures and their evaluations in a few queries. Nothing is written.
pub fn check_import(
    conn: &mut DbConnection,
    caller: &Caller,
    plan_id: i32,
    file: Table<EvaluationImportRow>,
    dry_run: bool,
) -> Result<CheckedEvaluationImport, AppError> {
    let plan = plans::get(conn, PlanId::new(plan_id))?;
    check_department_active(conn, caller)?;
    let measures: BTreeMap<i32, Measure> =
        measures::list_for_plan_without_roadmaps(conn, PlanId::new(plan_id))?.into_iter().map(|m| (m.id, m)).collect();
    let ids: Vec<i32> = measures.keys().copied().collect();
    let records = EvaluationRecords::load(conn, &ids, None)?;
    let mut existing: BTreeMap<(i32, i32, i32), DepartmentEvaluation> = records
        .evaluations
        .iter()
        .filter_map(|(key, events)| DepartmentEvaluation::fold(key, events, None))
        .map(|e| ((e.measure_id, e.fiscal_year, e.department_id), e))
        .collect();
    let mut errors = file.errors;
    let mut counts = ActionCounts::default();
    let mut rows = Vec::new();
    let mut writes = Vec::new();
    let mut seen = BTreeSet::new();
    for row in &file.rows {
        let mut refuse =
            |column: &str, cause: RowCause, reason: String| errors.push(RowError::new(row.row, column, cause, reason));
        let key = (row.measure_id, row.fiscal_year, row.department_id);
        if !seen.insert(key) {
            refuse("施策ID", RowCause::Duplicate, "an earlier row has the same measure, year and department".into());
            continue;
        }
        let Some(measure) = measures.get(&row.measure_id) else {
            let reason =
                format!("この計画に施策 {} はありません (no measure {} in this plan)", row.measure_id, row.measure_id);
            refuse("施策ID", RowCause::UnknownMeasure, reason);
            continue;
        };
        let action = match check_row(caller, &plan, measure, row, existing.remove(&key)) {
            Ok(None) => {
                counts.unchanged += 1;
                "unchanged"
            }
            Ok(Some(write)) => {
                let action = match write {
                    Write::Create { .. } => {
                        counts.create += 1;
                        "create"
                    }
                    Write::Correct { .. } => {
                        counts.correct += 1;
                        "correct"
                    }
                };
                writes.push(write);
                action
            }
            Err(AppError::Validation(fields)) if !fields.iter().any(|f| f.field == "department_id") => {
                fields.into_iter().for_each(|f| refuse(column_of(&f.field), RowCause::InvalidReport, f.message));
                continue;
            }
            Err(error) => match row_cause(&error) {
                Some((column, cause)) => {
                    let reason = match error {
                        AppError::Validation(fields) => {
                            fields.into_iter().map(|f| f.message).collect::<Vec<_>>().join("; ")
                        }
                        other => other.to_problem().detail,
                    };
                    refuse(column, cause, reason);
                    continue;
                }
                None => return Err(error),
            },
        };
        if rows.len() < MAX_REPORTED_ROWS {
            rows.push(EvaluationRowOutcome {
                row: row.row,
                measure_id: row.measure_id,
                fiscal_year: row.fiscal_year,
                department_id: row.department_id,
                action,
            });
        }
    }
    let error_count = errors.total();
    let report =
        EvaluationImportReport { dry_run, applied: false, counts, rows, error_count, errors: errors.into_listed() };
    Ok(CheckedEvaluationImport { report, writes })
}

/// Applies a checked import inside the caller's write transaction. Each write is conditional on
/// the version that was checked: an evaluation changed in between fails the whole import (412) and
/// the caller rolls back.
pub fn apply_import(
    conn: &mut DbConnection,
    caller: &Caller,
    checked: CheckedEvaluationImport,
) -> Result<EvaluationImportReport, AppError> {
    if !checked.can_apply() {
        return Ok(checked.report);
    }
    // Again in the write transaction: the department may have been deactivated since the check.
    check_department_active(conn, caller)?;
    let actor = Actor::from(caller);
    let changed_meanwhile = |error: AppError| {
        match error {
        AppError::PreconditionFailed(_) => AppError::PreconditionFailed(
            "施策評価が確認中に更新されたため、何も反映していません: 出力し直してください (an evaluation changed while \
             the file was checked; nothing was applied: export again)"
                .into(),
        ),
        other => other,
    }
    };
    for write in &checked.writes {
        let new = |event, report| NewReport {
            event,
            report,
            status: crate::domain::plan::ActualStatus::Submitted,
            is_sample: false,
            comment: None,
            actor_department_id: caller.department_id,
        };
        match write {
            Write::Create { of, report } => {
                measure_evaluations::insert(conn, &actor, *of, &new(ActualEventKind::Submitted, report))
                    .map_err(changed_meanwhile)?;
            }
            Write::Correct { current, event, report } => {
                measure_evaluations::update(conn, &actor, current, &new(*event, report)).map_err(changed_meanwhile)?;
            }
        }
    }
    let mut report = checked.report;
    report.applied = true;
    Ok(report)
}

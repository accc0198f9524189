//! The yearly cycle for one actual: submission by a department (or hq on its behalf), correction,
//! and review by hq. Each step checks scope and shape, then writes one new version.
//!
//! Bulk import runs the same checks for every row of a file in memory, against the plan read in a
//! few queries ([`check_import`]), before any write; only then one short transaction writes all
//! rows in batched statements ([`apply_import`]), failing if the plan or an actual changed in
//! between. A 100 000-row import thus holds the write lock for its writes alone.

use crate::domain::ids::{DepartmentId, IndicatorId, MeasureId, PlanId};
use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use diesel::prelude::*;

use crate::auth::Caller;
use crate::db::DbConnection;
use crate::db::actuals::{self, NewVersion};
use crate::db::audit::Actor;
use crate::db::departments;
use crate::db::indicators;
use crate::db::measures;
use crate::db::plans;
use crate::domain::actual::{Actual, Reported};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::indicator::Indicator;
use crate::domain::measure::Measure;
use crate::domain::plan::ActualStatus;
use crate::domain::role::Role;
use crate::domain::submission::ActualEventKind;
use crate::domain::submission::{self, CheckedFigures, Figures, ReviewAction, Reviewed, Step};
use crate::error::AppError;
use crate::spreadsheet::{ImportFile, RowCause, RowError};
use crate::versioning::Precondition;

const NO_ACTUAL_YET: &str = "この年度の実績はまだありません (there is no actual for this year yet)";

/// 412 for a version that is no longer the current one.
fn changed_since_read(current_version: i32) -> String {
    format!(
        "読み込んだ後に他の人がこの実績を変更しました（現在 版{current_version}） (the actual was changed since you \
         read it (now version {current_version}))"
    )
}

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
            "{label}の施策 No.{number}（{name}）は、あなたの所管課の担当ではありません \
             (your department does not own measure No.{number} ({name}) in {label})",
            number = measure.number,
            name = measure.name,
            label = crate::domain::plan::label(year)
        ))),
        (role, _) => Err(AppError::Forbidden(format!(
            "この権限では実績を提出できません (the {} role may not submit actuals)",
            role.as_str()
        ))),
    }
}

/// A department user acts for its department only while that department is active (403): read as
/// stored now, so a deactivation stops the very next submission or import.
fn check_department_active(conn: &mut DbConnection, caller: &Caller) -> Result<(), AppError> {
    let department = match (caller.role, caller.department_id) {
        (Role::Department, Some(id)) => Some(departments::get(conn, DepartmentId::new(id))?),
        _ => None,
    };
    submission::check_department_active(department.as_ref().map(|d| (d.name.as_str(), d.active)))
        .map_err(AppError::Forbidden)
}

/// The indicator, its measure and plan, with the year checked against the plan and the calendar.
fn load_for_year(
    conn: &mut DbConnection,
    indicator_id: IndicatorId,
    fiscal_year: i32,
) -> Result<(Indicator, Measure), AppError> {
    let indicator = indicators::get(conn, indicator_id)?;
    let measure = measures::get(conn, MeasureId::new(indicator.measure_id))?;
    let plan = plans::get(conn, PlanId::new(measure.plan_id))?;
    plan.check_year("fiscal_year", fiscal_year)?;
    check_started(fiscal_year, current_fiscal_year())?;
    Ok((indicator, measure))
}

/// Today's fiscal year in Japan.
fn current_fiscal_year() -> i32 {
    let today = crate::domain::collection::japan_date(Utc::now().naive_utc());
    FiscalYear::of_date(today).map(FiscalYear::year).unwrap_or(i32::MAX)
}

/// Actuals are reported for a year that has begun (422 otherwise).
fn check_started(fiscal_year: i32, current_year: i32) -> Result<(), AppError> {
    if fiscal_year <= current_year {
        return Ok(());
    }
    let (year, current) = (crate::domain::plan::label(fiscal_year), crate::domain::plan::label(current_year));
    Err(AppError::invalid(
        "fiscal_year",
        format!(
            "{year}はまだ始まっていません（現在は{current}です） ({year} has not started yet (the current fiscal year is \
             {current}))"
        ),
    ))
}

fn check_in_force(indicator: &Indicator, measure: &Measure, fiscal_year: i32) -> Result<(), AppError> {
    let year = crate::domain::plan::label(fiscal_year);
    if !indicator.active_in(fiscal_year) {
        let why = match indicator.retired_from_fiscal_year {
            Some(retired) if fiscal_year >= retired => {
                let retired = crate::domain::plan::label(retired);
                format!("この指標は{retired}から廃止されています (the indicator is retired from {retired})")
            }
            _ => format!("この指標は{year}の計画にはありません (the indicator is not part of the plan in {year})"),
        };
        return Err(AppError::invalid("fiscal_year", why));
    }
    if !measure.active_in(fiscal_year) {
        let number = measure.number;
        return Err(AppError::invalid(
            "fiscal_year",
            format!("施策 No.{number} は{year}には実施されていません (measure No.{number} is not active in {year})"),
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
    indicator_id: IndicatorId,
    fiscal_year: FiscalYear,
) -> Result<WritableActual, AppError> {
    let fiscal_year = fiscal_year.year();
    let (indicator, measure) = load_for_year(conn, indicator_id, fiscal_year)?;
    check_department_active(conn, caller)?;
    check_scope(caller, &measure, &indicator, fiscal_year)?;
    check_in_force(&indicator, &measure, fiscal_year)?;
    let existing = actuals::find(conn, indicator_id, fiscal_year, &indicator.stages)?;
    Ok(WritableActual { indicator, fiscal_year, existing })
}

impl WritableActual {
    /// Where the actual is read, with its ETag.
    fn actual_path(&self) -> String {
        format!("/api/v1/indicators/{}/actuals/{}", self.indicator.id, self.fiscal_year)
    }

    /// Overwriting needs the version the caller read (`If-Match`): missing → 428, stale → 412.
    pub fn check_precondition(&self, precondition: &Precondition) -> Result<(), AppError> {
        match (&self.existing, precondition) {
            (None, Precondition::Version(_)) => Err(AppError::PreconditionFailed(NO_ACTUAL_YET.into())),
            (Some(_), Precondition::None) => Err(AppError::PreconditionRequired(format!(
                "この年度の実績は既にあります。最新の内容を読み込んでから修正してください (an actual exists for this \
                 year: GET {} returns it with its current ETag header; send that value as If-Match to overwrite it)",
                self.actual_path()
            ))),
            (Some(current), Precondition::Version(version)) if *version != current.version => {
                Err(AppError::PreconditionFailed(format!(
                    "{}: GET {} for its current figures and ETag, then send your change again with that ETag as \
                     If-Match",
                    changed_since_read(current.version),
                    self.actual_path()
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
        let saved = actuals::find(conn, IndicatorId::new(indicator.id), self.fiscal_year, &indicator.stages)?
            .ok_or_else(|| AppError::Internal("the actual just written is missing".into()))?;
        let created = saved.version == 1;
        Ok((saved, created))
    }
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
    indicator_id: IndicatorId,
    fiscal_year: FiscalYear,
    precondition: &Precondition,
) -> Result<ReviewableActual, AppError> {
    caller.require_hq("review actuals")?;
    let indicator = indicators::get(conn, indicator_id)?;
    let current = actuals::find(conn, indicator_id, fiscal_year.year(), &indicator.stages)?
        .ok_or_else(|| AppError::not_found("actual", format!("{indicator_id}/{fiscal_year}")))?;
    if let Some(expected) = precondition.expected()
        && expected != current.version
    {
        return Err(AppError::PreconditionFailed(changed_since_read(current.version)));
    }
    Ok(ReviewableActual { indicator, current })
}

/// hq's review of an actual or a measure evaluation as one step of the workflow: a return or
/// reopening without a comment is a 422 on `comment`, a review the state does not allow a 409.
pub fn review_step(
    reviewed: Reviewed,
    status: ActualStatus,
    action: ReviewAction,
    comment: Option<&str>,
) -> Result<Step, AppError> {
    submission::review_record(reviewed, status, action, comment).map_err(|message| match action {
        ReviewAction::Return | ReviewAction::Reopen if comment.is_none_or(|c| c.trim().is_empty()) => {
            AppError::invalid("comment", message)
        }
        _ => AppError::Conflict(message),
    })
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
        let step = review_step(Reviewed::Actual, current.status, action, comment)?;
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
        actuals::find(conn, IndicatorId::new(self.indicator.id), current.fiscal_year, &self.indicator.stages)?
            .ok_or_else(|| AppError::Internal("the actual just reviewed is missing".into()))
    }
}

/// Most row outcomes listed in an import report (the counts cover every row).
pub const MAX_REPORTED_ROWS: usize = 100;

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

/// How many rows an import creates, corrects or leaves unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ActionCounts {
    pub create: usize,
    pub correct: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// True only when every row was valid and the import was not a dry run
    pub applied: bool,
    /// Every valid row, by what it does (listed in `rows` or not)
    pub counts: ActionCounts,
    /// The first rows (at most 100), in file order
    pub rows: Vec<RowOutcome>,
    /// How many row errors there were in all
    pub error_count: usize,
    /// The first row errors by row (at most 100)
    pub errors: Vec<RowError>,
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

/// One write an import will make.
// A correction carries the whole current actual; boxing it would add an allocation per row for
// a list that lives only while one import is applied.
#[allow(clippy::large_enum_variant)]
enum Write {
    Create { indicator_id: i32, fiscal_year: i32, reported: Reported, note: String },
    Correct { current: Actual, event: ActualEventKind, reported: Reported, note: String },
}

/// What a department may see of the plan when its import is checked, to compare when it is
/// applied: an import fails rather than apply checks made against a plan that changed since.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    plan_version: i32,
    indicator_versions: BTreeMap<i32, i32>,
    measure_versions: BTreeMap<i32, i32>,
}

impl Snapshot {
    fn load(conn: &mut DbConnection, plan_id: i32) -> Result<Self, AppError> {
        use crate::db::schema::{indicators as indicator_table, measures as measure_table, plans as plan_table};
        let plan_version: i32 = plan_table::table.find(plan_id).select(plan_table::version).first(conn)?;
        let indicator_versions = indicator_table::table
            .inner_join(measure_table::table)
            .filter(measure_table::plan_id.eq(plan_id))
            .select((indicator_table::id, indicator_table::version))
            .load::<(i32, i32)>(conn)?
            .into_iter()
            .collect();
        let measure_versions = measure_table::table
            .filter(measure_table::plan_id.eq(plan_id))
            .select((measure_table::id, measure_table::version))
            .load::<(i32, i32)>(conn)?
            .into_iter()
            .collect();
        Ok(Self { plan_version, indicator_versions, measure_versions })
    }
}

/// An import checked against the plan: the report, and the writes to make if it is applied.
pub struct CheckedImport {
    pub report: ImportReport,
    writes: Vec<Write>,
    snapshot: Snapshot,
}

impl CheckedImport {
    /// Whether applying would write anything: not a dry run and no row errors.
    pub fn can_apply(&self) -> bool {
        !self.report.dry_run && self.report.error_count == 0
    }
}

/// Indicator ids among `ids` that exist (in any plan), a few thousand per query.
/// Which of `ids` are indicators of the municipality's other plans: another municipality's read as
/// missing, exactly like ids that name nothing.
fn indicators_of_other_plans(
    conn: &mut DbConnection,
    municipality_id: i32,
    ids: &BTreeSet<i32>,
) -> Result<BTreeSet<i32>, AppError> {
    use crate::db::schema::{indicators as indicator_table, measures as measure_table, plans as plan_table};
    let ids: Vec<i32> = ids.iter().copied().collect();
    let mut found = BTreeSet::new();
    for chunk in ids.chunks(crate::db::actuals::bulk::WRITE_BATCH_ROWS) {
        found.extend(
            indicator_table::table
                .inner_join(measure_table::table.inner_join(plan_table::table))
                .filter(indicator_table::id.eq_any(chunk))
                .filter(plan_table::municipality_id.eq(municipality_id))
                .select(indicator_table::id)
                .load::<i32>(conn)?,
        );
    }
    Ok(found)
}

/// What one row is checked against: the caller, the plan and the row's indicator and measure.
struct RowContext<'a> {
    caller: &'a Caller,
    plan: &'a crate::domain::plan::Plan,
    current_year: i32,
    measure: &'a Measure,
    indicator: &'a Indicator,
}

/// The checks of a single submission, in its order (see [`submit`]), for one import row: the
/// write it makes and the figures it replaces.
fn checked_write(
    context: &RowContext<'_>,
    row: &crate::spreadsheet::ImportRow,
    checked: Result<CheckedFigures, Vec<crate::error::FieldError>>,
    current: Option<Actual>,
) -> Result<(Write, Option<Reported>), AppError> {
    let RowContext { caller, plan, current_year, measure, indicator } = *context;
    plan.check_year("fiscal_year", row.fiscal_year)?;
    check_started(row.fiscal_year, current_year)?;
    check_scope(caller, measure, indicator, row.fiscal_year)?;
    check_in_force(indicator, measure, row.fiscal_year)?;
    let reported = reported(checked.map_err(AppError::Validation)?);
    let step = submission::submit(current.as_ref().map(|a| a.status)).map_err(AppError::Conflict)?;
    let note = row.note.clone();
    match (current, row.version) {
        (None, Some(_)) => Err(AppError::PreconditionFailed(NO_ACTUAL_YET.into())),
        (None, None) => {
            Ok((Write::Create { indicator_id: row.indicator_id, fiscal_year: row.fiscal_year, reported, note }, None))
        }
        (Some(current), Some(version)) if version != current.version => {
            Err(AppError::PreconditionFailed(changed_since_read(current.version)))
        }
        (Some(current), _) => {
            let old = Some(current.reported.clone());
            Ok((Write::Correct { current, event: step.event, reported, note }, old))
        }
    }
}

/// Checks every row of an import with the same checks and scoping as single submissions,
/// reading the plan, its indicators, measures and current actuals in a few queries and checking
/// in memory. Runs outside the write transaction; nothing is written.
pub fn check_import(
    conn: &mut DbConnection,
    caller: &Caller,
    plan_id: PlanId,
    file: ImportFile,
    dry_run: bool,
) -> Result<CheckedImport, AppError> {
    let snapshot = Snapshot::load(conn, plan_id.get()).map_err(|error| match error {
        AppError::Database(diesel::result::Error::NotFound) => AppError::not_found("plan", plan_id),
        other => other,
    })?;
    let plan = plans::get(conn, plan_id)?;
    check_department_active(conn, caller)?;
    let indicators: BTreeMap<i32, Indicator> =
        indicators::list_for_plan(conn, plan_id)?.into_iter().map(|i| (i.id, i)).collect();
    let measures: BTreeMap<i32, Measure> =
        measures::list_for_plan(conn, plan_id)?.into_iter().map(|m| (m.id, m)).collect();
    let years: Vec<i32> = file.rows.iter().map(|r| r.fiscal_year).collect::<BTreeSet<_>>().into_iter().collect();
    let stages: BTreeMap<i32, Vec<String>> = indicators.values().map(|i| (i.id, i.stages.clone())).collect();
    let mut existing = actuals::bulk::for_plan_years(conn, plan_id.get(), &years, &stages)?;
    let outside_plan: BTreeSet<i32> =
        file.rows.iter().map(|r| r.indicator_id).filter(|id| !indicators.contains_key(id)).collect();
    let in_other_plans = indicators_of_other_plans(conn, plan.municipality_id, &outside_plan)?;
    let current_year = current_fiscal_year();

    let mut errors = file.errors;
    let mut report_rows = Vec::new();
    let mut counts = ActionCounts::default();
    let mut writes = Vec::new();
    let mut seen: BTreeMap<(i32, i32), usize> = BTreeMap::new();
    for row in &file.rows {
        let mut refuse =
            |column: &str, cause: RowCause, reason: String| errors.push(RowError::new(row.row, column, cause, reason));
        if let Some(first) = seen.insert((row.indicator_id, row.fiscal_year), row.row) {
            let reason = format!("row {first} already has indicator {} for the same year", row.indicator_id);
            refuse("指標ID", RowCause::Duplicate, reason);
            continue;
        }
        let Some(indicator) = indicators.get(&row.indicator_id) else {
            if in_other_plans.contains(&row.indicator_id) {
                let reason = format!("indicator {} belongs to another plan", row.indicator_id);
                refuse("指標ID", RowCause::IndicatorOfAnotherPlan, reason);
            } else {
                refuse("指標ID", RowCause::UnknownIndicator, format!("no indicator {}", row.indicator_id));
            }
            continue;
        };
        let Some(measure) = measures.get(&indicator.measure_id) else {
            return Err(AppError::Internal(format!(
                "measure {} of indicator {} is missing",
                indicator.measure_id, indicator.id
            )));
        };
        let key = (row.indicator_id, row.fiscal_year);
        let current = existing.remove(&key);
        if let (Some(current), None) = (&current, row.version) {
            refuse(
                "版",
                RowCause::VersionMissing,
                format!(
                    "an actual exists (version {}): fill in 版 from a fresh export to overwrite it",
                    current.version
                ),
            );
            continue;
        }
        let figures = Figures {
            value: row.value,
            numerator: row.numerator,
            denominator: row.denominator,
            stage: None,
            stage_name: row.stage_name.as_deref(),
        };
        let checked = submission::check_figures(indicator.kind, &indicator.stages, &figures);
        if let (Some(current), Ok(checked)) = (&current, &checked)
            && current.reported == reported(checked.clone())
            && current.note == row.note
        {
            counts.unchanged += 1;
            if report_rows.len() < MAX_REPORTED_ROWS {
                report_rows.push(RowOutcome {
                    row: row.row,
                    indicator_id: row.indicator_id,
                    fiscal_year: row.fiscal_year,
                    action: "unchanged",
                    old: Some(current.reported.clone()),
                    new: current.reported.clone(),
                });
            }
            continue;
        }
        let context = RowContext { caller, plan: &plan, current_year, measure, indicator };
        let outcome = checked_write(&context, row, checked, current);
        match outcome {
            Ok((write, old)) => {
                let (action, new) = match &write {
                    Write::Create { reported, .. } => {
                        counts.create += 1;
                        ("create", reported.clone())
                    }
                    Write::Correct { reported, .. } => {
                        counts.correct += 1;
                        ("correct", reported.clone())
                    }
                };
                if report_rows.len() < MAX_REPORTED_ROWS {
                    report_rows.push(RowOutcome {
                        row: row.row,
                        indicator_id: row.indicator_id,
                        fiscal_year: row.fiscal_year,
                        action,
                        old,
                        new,
                    });
                }
                writes.push(write);
            }
            Err(AppError::Validation(fields)) => {
                fields.iter().for_each(|f| refuse(column_of(&f.field), RowCause::InvalidFigures, f.message.clone()));
            }
            Err(AppError::Forbidden(reason)) => refuse("指標ID", RowCause::OutOfScope, reason),
            Err(AppError::Conflict(reason)) => refuse("指標ID", RowCause::StateConflict, reason),
            Err(AppError::PreconditionFailed(reason)) => refuse("版", RowCause::VersionStale, reason),
            Err(other) => return Err(other),
        }
    }
    let error_count = errors.total();
    let report =
        ImportReport { dry_run, applied: false, counts, rows: report_rows, error_count, errors: errors.into_listed() };
    Ok(CheckedImport { report, writes, snapshot })
}

/// A version a department submits (or hq on its behalf), as [`submit`] writes it.
fn submitted<'a>(
    event: ActualEventKind,
    reported: &'a Reported,
    note: &'a str,
    department_id: Option<i32>,
) -> NewVersion<'a> {
    NewVersion {
        event,
        reported,
        note,
        status: crate::domain::plan::ActualStatus::Submitted,
        is_sample: false,
        comment: None,
        actor_department_id: department_id,
    }
}

/// Applies a checked import inside the caller's write transaction, in a few batched statements.
/// Fails (412) if the plan or any actual changed since the check; the caller rolls back, so an
/// import applies all rows or none.
pub fn apply_import(
    conn: &mut DbConnection,
    caller: &Caller,
    plan_id: PlanId,
    checked: CheckedImport,
) -> Result<ImportReport, AppError> {
    if !checked.can_apply() {
        return Ok(checked.report);
    }
    // Again in the write transaction: the department may have been deactivated since the check.
    check_department_active(conn, caller)?;
    if Snapshot::load(conn, plan_id.get())? != checked.snapshot {
        return Err(AppError::PreconditionFailed(
            "the plan was changed while the import was checked; nothing was applied: send the file again".into(),
        ));
    }
    let actor = Actor::from(caller);
    let department_id = caller.department_id;
    let mut creates = Vec::new();
    let mut corrections = Vec::new();
    for write in &checked.writes {
        match write {
            Write::Create { indicator_id, fiscal_year, reported, note } => creates.push(actuals::bulk::NewActual {
                indicator_id: *indicator_id,
                fiscal_year: *fiscal_year,
                version: submitted(ActualEventKind::Submitted, reported, note, department_id),
            }),
            Write::Correct { current, event, reported, note } => {
                let version = submitted(*event, reported, note, department_id);
                corrections.push(actuals::bulk::NextVersion { current, version });
            }
        }
    }
    // A first submission made by someone else since the check hits the unique key: 412 too.
    actuals::bulk::insert_all(conn, &actor, &creates).map_err(|error| match error {
        AppError::Conflict(_) => AppError::PreconditionFailed(
            "an actual was submitted while the import was checked; nothing was applied: export again".into(),
        ),
        other => other,
    })?;
    actuals::bulk::update_all(conn, &actor, &corrections)?;
    let mut report = checked.report;
    report.applied = true;
    Ok(report)
}

//! Many new indicators of one plan with their first targets, for a plan document: the same
//! checks, rows, history and audit entries as [`create`](super::create) and
//! [`revise_target`](super::revise_target) one at a time, in a few statements per
//! [`WRITE_BATCH_ROWS`] indicators instead of about sixteen per indicator (a 20,000-indicator plan
//! took 80–90 s on PostgreSQL one by one).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{
    IndicatorFields, IndicatorRow, NewTarget, ReferenceLookups, TargetShape, assemble_with_targets, interim_column,
    stages_column, validate_target, validate_with,
};
use crate::db::audit::{self, Actor, Change};
use crate::db::batch::{IdTable, WRITE_BATCH_ROWS, insert_many, reserve_ids};
use crate::db::schema::{indicators, target_revisions};
use crate::db::{DbConnection, decimal_to_text};
use crate::domain::plan::{IndicatorStatus, Plan, to_text};
use crate::error::{AppError, FieldError};

/// A new indicator of a bulk load, with its first targets in the order they are revised.
#[derive(Debug, Clone)]
pub struct NewIndicator {
    pub measure_id: i32,
    pub fields: IndicatorFields,
    pub targets: Vec<NewTarget>,
    /// Where it stands in the caller's input (`measures[3].indicators[0]`): the fields its
    /// problems name are prefixed with it.
    pub location: String,
}

/// Creates `new`, indicators of measures of `plan`, with their targets; returns how many target
/// revisions it wrote. Checks every indicator before writing any: the first one with problems
/// fails the whole call with all of its problems.
pub fn create_all(
    conn: &mut DbConnection,
    actor: &Actor,
    plan: &Plan,
    new: &[NewIndicator],
) -> Result<usize, AppError> {
    check_all(conn, plan, new)?;
    let now = audit::now();
    let mut revisions = 0;
    for chunk in new.chunks(WRITE_BATCH_ROWS) {
        let ids = reserve_ids(conn, IdTable::Indicators, chunk.len())?;
        let rows: Vec<IndicatorInsert<'_>> =
            chunk.iter().zip(&ids).map(|(n, id)| IndicatorInsert::new(*id, n, now)).collect();
        insert_many!(&mut *conn, indicators::table, &rows)?;
        let created = assembled(conn, &ids)?;
        let changes: Vec<Change<'_>> =
            created.iter().map(|indicator| Change::created("indicator", indicator.id, indicator)).collect();
        audit::record_many(conn, actor, &changes)?;
        revisions += insert_targets(conn, actor, chunk, &ids, now)?;
    }
    Ok(revisions)
}

/// The checks of [`create`](super::create) and [`revise_target`](super::revise_target), each
/// reference read once.
fn check_all(conn: &mut DbConnection, plan: &Plan, new: &[NewIndicator]) -> Result<(), AppError> {
    let mut lookups = ReferenceLookups::default();
    for n in new {
        let at = |field: &str| format!("{}.{field}", n.location);
        validate_with(conn, plan, &n.fields, &mut lookups).map_err(|e| located(e, &at))?;
        for (t, target) in n.targets.iter().enumerate() {
            validate_target(TargetShape::from(&n.fields), plan, target)
                .map_err(|e| located(e, &|field: &str| at(&format!("targets[{t}].{field}"))))?;
        }
    }
    Ok(())
}

/// A validation error with its fields named where they stand in the input.
fn located(error: AppError, at: &dyn Fn(&str) -> String) -> AppError {
    match error {
        AppError::Validation(errors) => AppError::Validation(
            errors.into_iter().map(|e| FieldError::new(at(&e.field), e.message)).collect::<Vec<_>>(),
        ),
        other => other,
    }
}

/// The indicators with these ids as stored, in the order of `ids`.
fn assembled(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<crate::domain::indicator::Indicator>, AppError> {
    let rows: Vec<IndicatorRow> = indicators::table
        .filter(indicators::id.eq_any(ids))
        .select(IndicatorRow::as_select())
        .order(indicators::id)
        .load(conn)?;
    Ok(assemble_with_targets(conn, rows)?.0)
}

/// Writes the targets of one batch of new indicators, each with the audit entry
/// [`revise_target`](super::revise_target) writes (the target in force before, the new one), and
/// moves each indicator's version on by its revisions as that does.
fn insert_targets(
    conn: &mut DbConnection,
    actor: &Actor,
    chunk: &[NewIndicator],
    ids: &[i32],
    now: NaiveDateTime,
) -> Result<usize, AppError> {
    let rows: Vec<TargetInsert<'_>> = chunk
        .iter()
        .zip(ids)
        .flat_map(|(n, id)| n.targets.iter().map(move |target| TargetInsert::new(*id, target, actor, now)))
        .collect();
    for batch in rows.chunks(WRITE_BATCH_ROWS) {
        insert_many!(&mut *conn, target_revisions::table, batch)?;
    }
    let stages: Vec<(i32, Vec<String>)> = chunk.iter().zip(ids).map(|(n, id)| (*id, n.fields.stages.clone())).collect();
    let written = super::targets_for(conn, &stages)?;
    let mut changes = Vec::with_capacity(rows.len());
    // Indicator ids by how many revisions they got: one `UPDATE` per count.
    let mut by_count: BTreeMap<usize, Vec<i32>> = BTreeMap::new();
    for (n, id) in chunk.iter().zip(ids) {
        let revisions = written.get(id).map(Vec::as_slice).unwrap_or_default();
        for (k, (revision, target)) in revisions.iter().zip(&n.targets).enumerate() {
            let before = k.checked_sub(1).map(|previous| &revisions[previous]);
            changes.push(
                Change::updated("indicator", *id, &before, revision)
                    .with_action("revise_target")
                    .with_reason(Some(&target.reason)),
            );
        }
        if !revisions.is_empty() {
            by_count.entry(revisions.len()).or_default().push(*id);
        }
    }
    for (count, indicator_ids) in by_count {
        let version = 1 + i32::try_from(count).map_err(|_| AppError::Internal("too many targets".into()))?;
        diesel::update(indicators::table.filter(indicators::id.eq_any(&indicator_ids)))
            .set((indicators::version.eq(version), indicators::updated_at.eq(now)))
            .execute(conn)?;
    }
    audit::record_many(conn, actor, &changes)?;
    Ok(rows.len())
}

#[derive(Insertable)]
#[diesel(table_name = indicators, treat_none_as_default_value = false)]
struct IndicatorInsert<'a> {
    id: i32,
    measure_id: i32,
    number: Option<i32>,
    name: &'a str,
    description: &'a str,
    unit: &'a str,
    kind: String,
    direction: String,
    numerator_label: Option<&'a str>,
    denominator_label: Option<&'a str>,
    stages: Option<String>,
    department_id: Option<i32>,
    baseline_fiscal_year: Option<i32>,
    baseline_value: Option<String>,
    baseline_stage: Option<i32>,
    baseline_text: Option<&'a str>,
    grade_basis: Option<String>,
    status: String,
    added_fiscal_year: Option<i32>,
    replaces_id: Option<i32>,
    reading_note: Option<&'a str>,
    national_indicator_code: Option<&'a str>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> IndicatorInsert<'a> {
    /// The row [`create`](super::create) inserts.
    fn new(id: i32, new: &'a NewIndicator, now: NaiveDateTime) -> Self {
        let fields = &new.fields;
        Self {
            id,
            measure_id: new.measure_id,
            number: fields.number,
            name: &fields.name,
            description: &fields.description,
            unit: &fields.unit,
            kind: to_text(&fields.kind),
            direction: to_text(&fields.direction),
            numerator_label: fields.numerator_label.as_deref(),
            denominator_label: fields.denominator_label.as_deref(),
            stages: stages_column(&fields.stages),
            department_id: fields.department_id,
            baseline_fiscal_year: fields.baseline.fiscal_year,
            baseline_value: fields.baseline.value.map(decimal_to_text),
            baseline_stage: fields.baseline.stage,
            baseline_text: fields.baseline.text.as_deref(),
            grade_basis: fields.grade_basis.map(|b| to_text(&b)),
            status: to_text(&IndicatorStatus::Active),
            added_fiscal_year: fields.added_fiscal_year,
            replaces_id: None,
            reading_note: fields.reading_note.as_deref(),
            national_indicator_code: fields.national_indicator_code.as_deref(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = target_revisions, treat_none_as_default_value = false)]
struct TargetInsert<'a> {
    indicator_id: i32,
    value: Option<String>,
    stage: Option<i32>,
    text: Option<&'a str>,
    target_fiscal_year: i32,
    effective_from_fiscal_year: i32,
    interim: Option<String>,
    reason: &'a str,
    recorded_by: Option<i32>,
    recorded_at: NaiveDateTime,
}

impl<'a> TargetInsert<'a> {
    /// The row [`revise_target`](super::revise_target) inserts.
    fn new(indicator_id: i32, target: &'a NewTarget, actor: &Actor, now: NaiveDateTime) -> Self {
        Self {
            indicator_id,
            value: target.value.map(decimal_to_text),
            stage: target.stage,
            text: target.text.as_deref(),
            target_fiscal_year: target.target_fiscal_year,
            effective_from_fiscal_year: target.effective_from_fiscal_year,
            interim: interim_column(target),
            reason: &target.reason,
            recorded_by: actor.user_id,
            recorded_at: now,
        }
    }
}

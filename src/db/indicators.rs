//! Indicators (指標), their target revisions and definition revisions.
//!
//! Targets and definitions are append-only: a revision never overwrites the one before, so an
//! evaluation of any year can use what was in force then.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::audit::{self, Actor, Change};
use super::name_revisions::{self, Named, Rename};
use super::plans;
use super::schema::{indicator_definitions, indicators, measures, target_revisions};
use super::{DbConnection, decimal_to_text, enum_from_column, optional_decimal};
use crate::domain::achievement::{Direction, GradeBasis};
use crate::domain::ids::{DepartmentId, IndicatorId, MeasureId, PlanId, RecordId};
use crate::domain::lineage::Link;
use crate::domain::plan::{IndicatorKind, IndicatorStatus, to_text};
use crate::domain::plan::{label, optional_label};
use crate::error::{AppError, FieldError};
use crate::versioning::check_version;

use crate::domain::indicator::{Baseline, DefinitionRevision, Indicator, TargetRevision};

pub mod bulk;

#[derive(Queryable, Selectable)]
#[diesel(table_name = indicators)]
pub(super) struct IndicatorRow {
    id: i32,
    measure_id: i32,
    number: Option<i32>,
    name: String,
    description: String,
    unit: String,
    kind: String,
    direction: String,
    numerator_label: Option<String>,
    denominator_label: Option<String>,
    stages: Option<String>,
    department_id: Option<i32>,
    baseline_fiscal_year: Option<i32>,
    baseline_value: Option<String>,
    baseline_stage: Option<i32>,
    baseline_text: Option<String>,
    grade_basis: Option<String>,
    status: String,
    added_fiscal_year: Option<i32>,
    retired_fiscal_year: Option<i32>,
    retired_at: Option<NaiveDateTime>,
    retirement_reason: Option<String>,
    replaces_id: Option<i32>,
    reading_note: Option<String>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    predecessor_id: Option<i32>,
    national_indicator_code: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = target_revisions)]
pub(super) struct TargetRow {
    id: i32,
    indicator_id: i32,
    value: Option<String>,
    stage: Option<i32>,
    text: Option<String>,
    target_fiscal_year: i32,
    effective_from_fiscal_year: i32,
    interim: Option<String>,
    reason: String,
    recorded_by: Option<i32>,
    recorded_at: NaiveDateTime,
}

fn parse_stages(text: Option<&str>) -> Result<Vec<String>, AppError> {
    text.map(|t| serde_json::from_str(t).map_err(|e| AppError::Internal(format!("stored stages: {e}"))))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn target_from_row(row: TargetRow, stages: &[String]) -> Result<TargetRevision, AppError> {
    let interim: BTreeMap<i32, Decimal> = match row.interim.as_deref() {
        Some(text) => serde_json::from_str::<BTreeMap<i32, String>>(text)
            .map_err(|e| AppError::Internal(format!("stored interim targets: {e}")))?
            .into_iter()
            .map(|(year, value)| super::decimal_from_text(&value).map(|v| (year, v)))
            .collect::<Result<_, _>>()?,
        None => BTreeMap::new(),
    };
    Ok(TargetRevision {
        id: row.id,
        indicator_id: row.indicator_id,
        value: optional_decimal(row.value.as_deref())?,
        stage: row.stage,
        stage_name: row.stage.and_then(|s| usize::try_from(s).ok()).and_then(|s| stages.get(s).cloned()),
        text: row.text,
        target_fiscal_year: row.target_fiscal_year,
        target_fiscal_year_label: label(row.target_fiscal_year),
        effective_from_fiscal_year: row.effective_from_fiscal_year,
        effective_from_fiscal_year_label: label(row.effective_from_fiscal_year),
        interim,
        reason: row.reason,
        recorded_by: row.recorded_by,
        recorded_at: row.recorded_at,
    })
}

/// Target revisions of many indicators in one query, oldest first per indicator.
pub fn targets_for(
    conn: &mut DbConnection,
    indicators: &[(i32, Vec<String>)],
) -> Result<BTreeMap<i32, Vec<TargetRevision>>, AppError> {
    let ids: Vec<i32> = indicators.iter().map(|(id, _)| *id).collect();
    let stages: BTreeMap<i32, &Vec<String>> = indicators.iter().map(|(id, s)| (*id, s)).collect();
    let rows: Vec<TargetRow> = target_revisions::table
        .filter(target_revisions::indicator_id.eq_any(&ids))
        .select(TargetRow::as_select())
        .order((target_revisions::indicator_id, target_revisions::id))
        .load(conn)?;
    let mut result: BTreeMap<i32, Vec<TargetRevision>> = BTreeMap::new();
    for row in rows {
        let indicator_id = row.indicator_id;
        let stage_names = stages.get(&indicator_id).map(|s| s.as_slice()).unwrap_or_default();
        result.entry(indicator_id).or_default().push(target_from_row(row, stage_names)?);
    }
    Ok(result)
}

/// Indicators with their target revisions (all of them, oldest first per indicator).
type WithTargets = (Vec<Indicator>, BTreeMap<i32, Vec<TargetRevision>>);

fn assemble(conn: &mut DbConnection, rows: Vec<IndicatorRow>) -> Result<Vec<Indicator>, AppError> {
    assemble_with_targets(conn, rows).map(|(indicators, _)| indicators)
}

fn assemble_with_targets(conn: &mut DbConnection, rows: Vec<IndicatorRow>) -> Result<WithTargets, AppError> {
    let stages: Vec<(i32, Vec<String>)> =
        rows.iter().map(|r| parse_stages(r.stages.as_deref()).map(|s| (r.id, s))).collect::<Result<_, _>>()?;
    let targets = targets_for(conn, &stages)?;
    build(conn, rows, stages, targets)
}

/// Indicators from their rows, their stages and their target revisions.
fn build(
    conn: &mut DbConnection,
    rows: Vec<IndicatorRow>,
    stages: Vec<(i32, Vec<String>)>,
    targets: BTreeMap<i32, Vec<TargetRevision>>,
) -> Result<WithTargets, AppError> {
    let mut codes: Vec<String> = rows.iter().filter_map(|r| r.national_indicator_code.clone()).collect();
    codes.sort_unstable();
    codes.dedup();
    let national_items = super::national_indicators::items_for(conn, &codes)?;
    let indicators = rows
        .into_iter()
        .zip(stages)
        .map(|(row, (_, stages))| {
            Ok(Indicator {
                id: row.id,
                measure_id: row.measure_id,
                number: row.number,
                name: row.name,
                description: row.description,
                unit: row.unit,
                kind: enum_from_column(&row.kind)?,
                direction: enum_from_column(&row.direction)?,
                numerator_label: row.numerator_label,
                denominator_label: row.denominator_label,
                stages,
                department_id: row.department_id,
                baseline: Baseline {
                    fiscal_year: row.baseline_fiscal_year,
                    fiscal_year_label: optional_label(row.baseline_fiscal_year),
                    value: optional_decimal(row.baseline_value.as_deref())?,
                    stage: row.baseline_stage,
                    text: row.baseline_text,
                },
                grade_basis: row.grade_basis.as_deref().map(enum_from_column).transpose()?,
                status: enum_from_column(&row.status)?,
                added_fiscal_year: row.added_fiscal_year,
                retired_from_fiscal_year: row.retired_fiscal_year,
                retired_at: row.retired_at,
                retirement_reason: row.retirement_reason,
                replaces_id: row.replaces_id,
                reading_note: row.reading_note,
                predecessor_id: row.predecessor_id,
                national_item: row.national_indicator_code.as_ref().and_then(|c| national_items.get(c).cloned()),
                national_indicator_code: row.national_indicator_code,
                current_target: targets.get(&row.id).and_then(|t| t.last().cloned()),
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((indicators, targets))
}

/// One indicator with its target revisions, read in one statement: on PostgreSQL each statement
/// is a round trip, and this is the raw read of `GET /indicators/{id}`.
pub fn get(conn: &mut DbConnection, id: IndicatorId) -> Result<Indicator, AppError> {
    let joined: Vec<(IndicatorRow, Option<TargetRow>)> = indicators::table
        .left_join(target_revisions::table)
        .filter(indicators::id.eq(id.get()))
        .select((IndicatorRow::as_select(), Option::<TargetRow>::as_select()))
        .order(target_revisions::id)
        .load(conn)?;
    StoredIndicator { id, joined }.into_indicator(conn)
}

/// An indicator's row joined with each of its target revisions in the order they were recorded
/// (one row with no target when it has none), as [`get`] reads it or, for `GET /indicators/{id}`,
/// the statement that reads the caller.
pub struct StoredIndicator {
    pub(super) id: IndicatorId,
    pub(super) joined: Vec<(IndicatorRow, Option<TargetRow>)>,
}

impl StoredIndicator {
    /// The indicator as [`get`] reads it (no rows: not found).
    pub fn into_indicator(self, conn: &mut DbConnection) -> Result<Indicator, AppError> {
        let Self { id, joined } = self;
        let mut joined = joined.into_iter();
        let (row, first_target) = joined.next().ok_or_else(|| AppError::not_found("indicator", id))?;
        let stages = parse_stages(row.stages.as_deref())?;
        let revisions = first_target
            .into_iter()
            .chain(joined.filter_map(|(_, target)| target))
            .map(|target| target_from_row(target, &stages))
            .collect::<Result<Vec<_>, _>>()?;
        let targets = if revisions.is_empty() { BTreeMap::new() } else { BTreeMap::from([(row.id, revisions)]) };
        build(conn, vec![row], vec![(id.get(), stages)], targets)?
            .0
            .pop()
            .ok_or_else(|| AppError::not_found("indicator", id))
    }
}

pub fn list_for_measure(conn: &mut DbConnection, measure_id: MeasureId) -> Result<Vec<Indicator>, AppError> {
    let rows = indicators::table
        .filter(indicators::measure_id.eq(measure_id))
        .select(IndicatorRow::as_select())
        .order((indicators::number.is_null(), indicators::number, indicators::id))
        .load(conn)?;
    assemble(conn, rows)
}

/// One page of a measure's indicators (retired ones included) by number, and how many it has.
pub fn page_for_measure(
    conn: &mut DbConnection,
    measure_id: MeasureId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Indicator>, i64), AppError> {
    let total = indicators::table.filter(indicators::measure_id.eq(measure_id)).count().get_result(conn)?;
    let rows = indicators::table
        .filter(indicators::measure_id.eq(measure_id))
        .select(IndicatorRow::as_select())
        .order((indicators::number.is_null(), indicators::number, indicators::id))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((assemble(conn, rows)?, total))
}

/// Every indicator of a plan (retired ones included), in one query plus one for targets.
pub fn list_for_plan(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<Indicator>, AppError> {
    list_for_plan_with_targets(conn, plan_id).map(|(indicators, _)| indicators)
}

/// These indicators with their target revisions, in two queries.
pub fn list_by_ids_with_targets(conn: &mut DbConnection, ids: &[i32]) -> Result<WithTargets, AppError> {
    let rows = indicators::table
        .filter(indicators::id.eq_any(ids))
        .select(IndicatorRow::as_select())
        .order(indicators::id)
        .load(conn)?;
    assemble_with_targets(conn, rows)
}

/// One step of following a series across plans: the lineage links of these indicators and of the
/// indicators that continue them, each with its plan's id, in one query.
pub fn lineage_step(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<(Link, i32)>, AppError> {
    let rows: Vec<(i32, Option<i32>, i32, i32, i32)> = indicators::table
        .inner_join(measures::table.inner_join(super::schema::plans::table))
        .filter(indicators::id.eq_any(ids).or(indicators::predecessor_id.eq_any(ids)))
        .select((
            indicators::id,
            indicators::predecessor_id,
            super::schema::plans::id,
            super::schema::plans::start_fiscal_year,
            super::schema::plans::end_fiscal_year,
        ))
        .order(indicators::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(indicator_id, predecessor_id, plan_id, start_fiscal_year, end_fiscal_year)| {
            (Link { indicator_id, predecessor_id, start_fiscal_year, end_fiscal_year }, plan_id)
        })
        .collect())
}

/// Every indicator of a plan and every target revision of each, in two queries.
pub fn list_for_plan_with_targets(conn: &mut DbConnection, plan_id: PlanId) -> Result<WithTargets, AppError> {
    let rows = indicators::table
        .inner_join(measures::table)
        .filter(measures::plan_id.eq(plan_id))
        .select(IndicatorRow::as_select())
        .order((measures::number, indicators::number.is_null(), indicators::number, indicators::id))
        .load(conn)?;
    assemble_with_targets(conn, rows)
}

/// Every indicator, of any municipality, that implements this national definition, with its
/// targets and the plan it belongs to; a fixed number of queries.
pub fn list_implementing_with_targets(
    conn: &mut DbConnection,
    national_code: &str,
) -> Result<(WithTargets, BTreeMap<i32, i32>), AppError> {
    let rows: Vec<(IndicatorRow, i32)> = indicators::table
        .inner_join(measures::table)
        .filter(indicators::national_indicator_code.eq(national_code))
        .select((IndicatorRow::as_select(), measures::plan_id))
        .order(indicators::id)
        .load(conn)?;
    let plan_of: BTreeMap<i32, i32> = rows.iter().map(|(row, plan_id)| (row.id, *plan_id)).collect();
    let found = assemble_with_targets(conn, rows.into_iter().map(|(row, _)| row).collect())?;
    Ok((found, plan_of))
}

pub fn list_targets(conn: &mut DbConnection, indicator_id: IndicatorId) -> Result<Vec<TargetRevision>, AppError> {
    let indicator = get(conn, indicator_id)?;
    Ok(targets_for(conn, &[(indicator.id, indicator.stages)])?.remove(&indicator_id.get()).unwrap_or_default())
}

/// Links an indicator to the one it continues in an earlier plan (or removes the link): their
/// series become one. The predecessor must belong to another plan and must not already lead back
/// to this indicator.
pub fn link_predecessor(
    conn: &mut DbConnection,
    actor: &Actor,
    id: IndicatorId,
    predecessor_id: Option<i32>,
    reason: Option<&str>,
) -> Result<Indicator, AppError> {
    let old = get(conn, id)?;
    if let Some(predecessor_id) = predecessor_id {
        let plan_of = |conn: &mut DbConnection, measure_id: i32| -> Result<(i32, i32), AppError> {
            use super::schema::plans as plan_rows;
            Ok(measures::table
                .inner_join(plan_rows::table)
                .filter(measures::id.eq(measure_id))
                .select((plan_rows::id, plan_rows::municipality_id))
                .first(conn)?)
        };
        let (own_plan, own_municipality) = plan_of(conn, old.measure_id)?;
        // A series is one municipality's.
        super::ownership::resolve_in(conn, own_municipality, IndicatorId::new(predecessor_id), "predecessor_id")?;
        let predecessor = get(conn, IndicatorId::new(predecessor_id))?;
        let (other_plan, _) = plan_of(conn, predecessor.measure_id)?;
        if own_plan == other_plan {
            return Err(AppError::invalid(
                "predecessor_id",
                "must be an indicator of an earlier plan, not of this one",
            ));
        }
        let mut links: BTreeMap<i32, Option<i32>> = BTreeMap::new();
        let mut cursor = Some(predecessor_id);
        while let Some(current) = cursor.filter(|c| !links.contains_key(c)) {
            let next: Option<i32> = indicators::table.find(current).select(indicators::predecessor_id).first(conn)?;
            links.insert(current, next);
            if current == id || links.len() > crate::domain::lineage::MAX_CHAIN_LENGTH {
                return Err(AppError::invalid(
                    "predecessor_id",
                    "the link would make the chain of plans circular or too long",
                ));
            }
            cursor = next;
        }
    }
    diesel::update(indicators::table.find(id.get()))
        .set((indicators::predecessor_id.eq(predecessor_id), indicators::updated_at.eq(audit::now())))
        .execute(conn)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Change::updated("indicator", id.get(), &old, &new).with_action("link_predecessor").with_reason(reason),
    )?;
    Ok(new)
}

/// The plan an indicator belongs to.
pub fn plan_of(conn: &mut DbConnection, indicator: &Indicator) -> Result<crate::domain::plan::Plan, AppError> {
    let plan_id: i32 = measures::table.find(indicator.measure_id).select(measures::plan_id).first(conn)?;
    plans::get(conn, PlanId::new(plan_id))
}

/// The editable definition of an indicator.
#[derive(Debug, Clone)]
pub struct IndicatorFields {
    pub number: Option<i32>,
    pub name: String,
    pub description: String,
    pub unit: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    pub numerator_label: Option<String>,
    pub denominator_label: Option<String>,
    pub stages: Vec<String>,
    pub department_id: Option<i32>,
    pub baseline: Baseline,
    pub grade_basis: Option<GradeBasis>,
    pub added_fiscal_year: Option<i32>,
    pub reading_note: Option<String>,
    pub national_indicator_code: Option<String>,
}

impl From<&Indicator> for IndicatorFields {
    fn from(i: &Indicator) -> Self {
        Self {
            number: i.number,
            name: i.name.clone(),
            description: i.description.clone(),
            unit: i.unit.clone(),
            kind: i.kind,
            direction: i.direction,
            numerator_label: i.numerator_label.clone(),
            denominator_label: i.denominator_label.clone(),
            stages: i.stages.clone(),
            department_id: i.department_id,
            baseline: i.baseline.clone(),
            grade_basis: i.grade_basis,
            added_fiscal_year: i.added_fiscal_year,
            reading_note: i.reading_note.clone(),
            national_indicator_code: i.national_indicator_code.clone(),
        }
    }
}

fn validate(
    conn: &mut DbConnection,
    plan: &crate::domain::plan::Plan,
    fields: &IndicatorFields,
) -> Result<(), AppError> {
    validate_with(conn, plan, fields, &mut ReferenceLookups::default())
}

/// What checking indicators' references reads from the database, kept across the indicators of
/// one bulk load so that each department and national indicator is read once.
#[derive(Default)]
struct ReferenceLookups {
    /// Department id → whether it is a department of the plan's municipality.
    own_departments: std::collections::HashMap<i32, bool>,
    /// National indicator code → its kind; `None`: no such national indicator.
    national_kinds: std::collections::HashMap<String, Option<IndicatorKind>>,
}

impl ReferenceLookups {
    fn is_own_department(&mut self, conn: &mut DbConnection, municipality_id: i32, id: i32) -> Result<bool, AppError> {
        if let Some(known) = self.own_departments.get(&id) {
            return Ok(*known);
        }
        let owner = super::ownership::municipality_of(conn, DepartmentId::new(id).resource())?;
        let own = owner == Some(Some(municipality_id));
        self.own_departments.insert(id, own);
        Ok(own)
    }

    fn national_kind(&mut self, conn: &mut DbConnection, code: &str) -> Result<Option<IndicatorKind>, AppError> {
        if let Some(known) = self.national_kinds.get(code) {
            return Ok(*known);
        }
        let kind = super::national_indicators::find(conn, code)?.map(|national| national.kind);
        self.national_kinds.insert(code.to_owned(), kind);
        Ok(kind)
    }
}

fn validate_with(
    conn: &mut DbConnection,
    plan: &crate::domain::plan::Plan,
    fields: &IndicatorFields,
    lookups: &mut ReferenceLookups,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: &str| errors.push(FieldError::new(field, message));
    if fields.name.trim().is_empty() {
        push("name", "must not be empty");
    }
    if fields.number.is_some_and(|n| n < 1) {
        push("number", "must be 1 or more");
    }
    let is_milestone_kind = fields.kind == IndicatorKind::Milestone;
    let is_milestone_direction = fields.direction == Direction::Milestone;
    if is_milestone_kind != is_milestone_direction {
        push("direction", "milestone indicators, and only they, have the milestone direction");
    }
    if is_milestone_kind && fields.stages.len() < 2 {
        push("stages", "a milestone needs at least two ordered stages");
    }
    if !is_milestone_kind && !fields.stages.is_empty() {
        push("stages", "only milestone indicators have stages");
    }
    if fields.stages.iter().any(|s| s.trim().is_empty()) {
        push("stages", "stage names must not be empty");
    }
    let is_ratio = fields.kind == IndicatorKind::Ratio;
    for (field, label) in
        [("numerator_label", &fields.numerator_label), ("denominator_label", &fields.denominator_label)]
    {
        match (is_ratio, label.as_deref().map(str::trim)) {
            (true, None | Some("")) => push(field, "a ratio indicator names its numerator and denominator"),
            (false, Some(_)) => push(field, "only ratio indicators have a numerator and denominator"),
            _ => {}
        }
    }
    if let Some(value) = fields.baseline.value {
        if is_milestone_kind {
            push("baseline.value", "a milestone baseline is a stage, not a value");
        } else if value.is_sign_negative() {
            push("baseline.value", "must not be negative");
        } else if matches!(fields.kind, IndicatorKind::Percent | IndicatorKind::Ratio) && value > Decimal::ONE_HUNDRED {
            push("baseline.value", "a share is between 0 and 100");
        }
    }
    if let Some(stage) = fields.baseline.stage
        && usize::try_from(stage).map_or(true, |s| s >= fields.stages.len())
    {
        push("baseline.stage", "must be the index of one of the stages");
    }
    let mut errors_with_years = errors;
    for (field, year) in
        [("baseline.fiscal_year", fields.baseline.fiscal_year), ("added_fiscal_year", fields.added_fiscal_year)]
    {
        if let Some(year) = year {
            // The baseline year is usually the year before the plan or revision starts.
            let lower =
                if field == "baseline.fiscal_year" { plan.start_fiscal_year - 5 } else { plan.start_fiscal_year };
            if year < lower || year > plan.end_fiscal_year {
                errors_with_years.push(FieldError::new(
                    field,
                    format!("{year} is outside the plan period {}–{}", plan.start_fiscal_year, plan.end_fiscal_year),
                ));
            }
        }
    }
    if let Some(department_id) = fields.department_id
        && !lookups.is_own_department(conn, plan.municipality_id, department_id)?
    {
        let missing =
            super::ownership::not_found_in_field("department_id", DepartmentId::new(department_id).resource());
        AppError::gather(Err::<(), _>(missing), &mut errors_with_years)?;
    }
    if let Some(code) = &fields.national_indicator_code {
        // Comparable only when measured the same way: a national ratio by a ratio, and so on.
        match lookups.national_kind(conn, code)? {
            None => errors_with_years.push(FieldError::new("national_indicator_code", "no such national indicator")),
            Some(kind) if kind != fields.kind => errors_with_years.push(FieldError::new(
                "national_indicator_code",
                format!("the national indicator is of kind {}, this one is not", to_text(&kind)),
            )),
            Some(_) => {}
        }
    }
    if errors_with_years.is_empty() { Ok(()) } else { Err(AppError::Validation(errors_with_years)) }
}

fn stages_column(stages: &[String]) -> Option<String> {
    (!stages.is_empty()).then(|| serde_json::to_string(stages).unwrap_or_default())
}

/// A first target given with a new indicator.
#[derive(Debug, Clone)]
pub struct NewTarget {
    pub value: Option<Decimal>,
    pub stage: Option<i32>,
    pub text: Option<String>,
    pub target_fiscal_year: i32,
    pub effective_from_fiscal_year: i32,
    pub interim: BTreeMap<i32, Decimal>,
    pub reason: String,
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    measure_id: i32,
    fields: &IndicatorFields,
    replaces_id: Option<i32>,
) -> Result<Indicator, AppError> {
    let plan_id = super::measures::plan_id_of(conn, MeasureId::new(measure_id))?;
    let plan = plans::get(conn, PlanId::new(plan_id))?;
    validate(conn, &plan, fields)?;
    let now = audit::now();
    let id: i32 = diesel::insert_into(indicators::table)
        .values((
            indicators::measure_id.eq(measure_id),
            indicators::number.eq(fields.number),
            indicators::name.eq(&fields.name),
            indicators::description.eq(&fields.description),
            indicators::unit.eq(&fields.unit),
            indicators::kind.eq(to_text(&fields.kind)),
            indicators::direction.eq(to_text(&fields.direction)),
            indicators::numerator_label.eq(&fields.numerator_label),
            indicators::denominator_label.eq(&fields.denominator_label),
            indicators::stages.eq(stages_column(&fields.stages)),
            indicators::department_id.eq(fields.department_id),
            indicators::baseline_fiscal_year.eq(fields.baseline.fiscal_year),
            indicators::baseline_value.eq(fields.baseline.value.map(decimal_to_text)),
            indicators::baseline_stage.eq(fields.baseline.stage),
            indicators::baseline_text.eq(&fields.baseline.text),
            indicators::grade_basis.eq(fields.grade_basis.map(|b| to_text(&b))),
            indicators::status.eq(to_text(&IndicatorStatus::Active)),
            indicators::added_fiscal_year.eq(fields.added_fiscal_year),
            indicators::replaces_id.eq(replaces_id),
            indicators::reading_note.eq(&fields.reading_note),
            indicators::national_indicator_code.eq(&fields.national_indicator_code),
            indicators::version.eq(1),
            indicators::created_at.eq(now),
            indicators::updated_at.eq(now),
        ))
        .returning(indicators::id)
        .get_result(conn)?;
    let indicator = get(conn, IndicatorId::new(id))?;
    audit::record(conn, actor, Change::created("indicator", id, &indicator))?;
    Ok(indicator)
}

fn bump_version(conn: &mut DbConnection, id: i32, version: i32) -> Result<(), AppError> {
    diesel::update(indicators::table.find(id))
        .set((indicators::version.eq(version + 1), indicators::updated_at.eq(audit::now())))
        .execute(conn)?;
    Ok(())
}

/// Edits an indicator's definition; the old one stays in the audit log.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: IndicatorId,
    expected_version: Option<i32>,
    fields: &IndicatorFields,
    reason: Option<&str>,
) -> Result<Indicator, AppError> {
    let old = get(conn, id)?;
    check_version("indicator", old.version, expected_version)?;
    let plan = plan_of(conn, &old)?;
    validate(conn, &plan, fields)?;
    if fields.kind != old.kind && super::actuals::count_for_indicator(conn, id)? > 0 {
        return Err(AppError::Conflict(
            "the kind of an indicator with actuals cannot change; retire it and add a replacement".into(),
        ));
    }
    diesel::update(indicators::table.find(id.get()))
        .set((
            indicators::number.eq(fields.number),
            indicators::name.eq(&fields.name),
            indicators::description.eq(&fields.description),
            indicators::unit.eq(&fields.unit),
            indicators::kind.eq(to_text(&fields.kind)),
            indicators::direction.eq(to_text(&fields.direction)),
            indicators::numerator_label.eq(&fields.numerator_label),
            indicators::denominator_label.eq(&fields.denominator_label),
            indicators::stages.eq(stages_column(&fields.stages)),
            indicators::department_id.eq(fields.department_id),
            indicators::baseline_fiscal_year.eq(fields.baseline.fiscal_year),
            indicators::baseline_value.eq(fields.baseline.value.map(decimal_to_text)),
            indicators::baseline_stage.eq(fields.baseline.stage),
            indicators::baseline_text.eq(&fields.baseline.text),
            indicators::grade_basis.eq(fields.grade_basis.map(|b| to_text(&b))),
            indicators::added_fiscal_year.eq(fields.added_fiscal_year),
            indicators::reading_note.eq(&fields.reading_note),
            indicators::national_indicator_code.eq(&fields.national_indicator_code),
        ))
        .execute(conn)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    name_revisions::record(
        conn,
        actor,
        &Rename {
            entity: Named::Indicator(id.get()),
            created_at: old.created_at,
            old_name: &old.name,
            new_name: &new.name,
            effective_from_fiscal_year: None,
            reason,
        },
    )?;
    audit::record(conn, actor, Change::updated("indicator", id.get(), &old, &new).with_reason(reason))?;
    Ok(new)
}

/// Retires an indicator from a fiscal year (削除): it stays in the evaluations of earlier years.
pub fn retire(
    conn: &mut DbConnection,
    actor: &Actor,
    id: IndicatorId,
    expected_version: Option<i32>,
    from_fiscal_year: i32,
    reason: &str,
) -> Result<Indicator, AppError> {
    let old = get(conn, id)?;
    check_version("indicator", old.version, expected_version)?;
    if old.status == IndicatorStatus::Retired {
        return Err(AppError::Conflict(format!("indicator {id} is already retired")));
    }
    plan_of(conn, &old)?.check_year("from_fiscal_year", from_fiscal_year)?;
    if reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "say why the indicator is retired"));
    }
    diesel::update(indicators::table.find(id.get()))
        .set((
            indicators::status.eq(to_text(&IndicatorStatus::Retired)),
            indicators::retired_fiscal_year.eq(from_fiscal_year),
            indicators::retired_at.eq(audit::now()),
            indicators::retirement_reason.eq(reason),
        ))
        .execute(conn)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Change::updated("indicator", id.get(), &old, &new).with_action("retire").with_reason(Some(reason)),
    )?;
    Ok(new)
}

/// Checks a target against the indicator and plan; errors name the body fields.
/// What a target is checked against: its indicator's direction, kind and stages.
#[derive(Clone, Copy)]
struct TargetShape<'a> {
    direction: Direction,
    is_share: bool,
    stages: &'a [String],
}

impl<'a> From<&'a Indicator> for TargetShape<'a> {
    fn from(indicator: &'a Indicator) -> Self {
        Self { direction: indicator.direction, is_share: indicator.is_share(), stages: &indicator.stages }
    }
}

impl<'a> From<&'a IndicatorFields> for TargetShape<'a> {
    fn from(fields: &'a IndicatorFields) -> Self {
        Self {
            direction: fields.direction,
            is_share: matches!(fields.kind, IndicatorKind::Percent | IndicatorKind::Ratio),
            stages: &fields.stages,
        }
    }
}

/// The interim targets as stored: a JSON object of fiscal year to value, or nothing.
fn interim_column(target: &NewTarget) -> Option<String> {
    let interim: BTreeMap<i32, String> = target.interim.iter().map(|(y, v)| (*y, decimal_to_text(*v))).collect();
    (!interim.is_empty()).then(|| serde_json::to_string(&interim).unwrap_or_default())
}

fn validate_target(
    indicator: TargetShape<'_>,
    plan: &crate::domain::plan::Plan,
    target: &NewTarget,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    for (field, year) in [
        ("target_fiscal_year", target.target_fiscal_year),
        ("effective_from_fiscal_year", target.effective_from_fiscal_year),
    ] {
        AppError::gather(plan.check_year(field, year), &mut errors)?;
    }
    for year in target.interim.keys() {
        AppError::gather(plan.check_year(&format!("interim.{year}"), *year), &mut errors)?;
    }
    let needs_value = matches!(
        indicator.direction,
        Direction::Increase | Direction::Decrease | Direction::MaintainAtLeast | Direction::MaintainAtMost
    );
    match indicator.direction {
        Direction::Milestone => {
            match target.stage.and_then(|s| usize::try_from(s).ok()) {
                Some(stage) if stage < indicator.stages.len() => {}
                _ => errors
                    .push(FieldError::new("stage", "a milestone target names one of the indicator's stages (index)")),
            }
            if target.value.is_some() {
                errors.push(FieldError::new("value", "a milestone target is a stage, not a value"));
            }
        }
        _ if needs_value && target.value.is_none() => {
            errors.push(FieldError::new("value", "this direction needs a target value"))
        }
        _ => {
            if target.stage.is_some() {
                errors.push(FieldError::new("stage", "only milestone targets have a stage"));
            }
        }
    }
    if let Some(value) = target.value {
        if value.is_sign_negative() {
            errors.push(FieldError::new("value", "must not be negative"));
        } else if indicator.is_share && value > Decimal::ONE_HUNDRED {
            errors.push(FieldError::new("value", "a share is between 0 and 100"));
        }
    }
    if target.reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "say why the target is set or revised (e.g. 目標を上方修正)"));
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// Appends a target revision. The previous revisions stay; evaluations pick the one in force.
pub fn revise_target(
    conn: &mut DbConnection,
    actor: &Actor,
    indicator_id: IndicatorId,
    expected_version: Option<i32>,
    target: &NewTarget,
) -> Result<TargetRevision, AppError> {
    let indicator = get(conn, indicator_id)?;
    check_version("indicator", indicator.version, expected_version)?;
    if indicator.status == IndicatorStatus::Retired {
        return Err(AppError::Conflict(format!("indicator {indicator_id} is retired; its targets are closed")));
    }
    let plan = plan_of(conn, &indicator)?;
    validate_target(TargetShape::from(&indicator), &plan, target)?;
    let id: i32 = diesel::insert_into(target_revisions::table)
        .values((
            target_revisions::indicator_id.eq(indicator_id),
            target_revisions::value.eq(target.value.map(decimal_to_text)),
            target_revisions::stage.eq(target.stage),
            target_revisions::text.eq(&target.text),
            target_revisions::target_fiscal_year.eq(target.target_fiscal_year),
            target_revisions::effective_from_fiscal_year.eq(target.effective_from_fiscal_year),
            target_revisions::interim.eq(interim_column(target)),
            target_revisions::reason.eq(&target.reason),
            target_revisions::recorded_by.eq(actor.user_id),
            target_revisions::recorded_at.eq(audit::now()),
        ))
        .returning(target_revisions::id)
        .get_result(conn)?;
    bump_version(conn, indicator_id.get(), indicator.version)?;
    let revisions = list_targets(conn, indicator_id)?;
    let revision =
        revisions.iter().find(|r| r.id == id).cloned().ok_or_else(|| AppError::not_found("target revision", id))?;
    audit::record(
        conn,
        actor,
        Change::updated("indicator", indicator_id.get(), &indicator.current_target, &revision)
            .with_action("revise_target")
            .with_reason(Some(&target.reason)),
    )?;
    Ok(revision)
}

pub fn list_definitions(conn: &mut DbConnection, indicator_ids: &[i32]) -> Result<Vec<DefinitionRevision>, AppError> {
    type Row = (i32, i32, i32, String, Option<String>, Option<String>, String, Option<i32>, NaiveDateTime);
    let rows: Vec<Row> = indicator_definitions::table
        .filter(indicator_definitions::indicator_id.eq_any(indicator_ids))
        .select((
            indicator_definitions::id,
            indicator_definitions::indicator_id,
            indicator_definitions::effective_from_fiscal_year,
            indicator_definitions::name,
            indicator_definitions::numerator_label,
            indicator_definitions::denominator_label,
            indicator_definitions::reason,
            indicator_definitions::recorded_by,
            indicator_definitions::recorded_at,
        ))
        .order((indicator_definitions::indicator_id, indicator_definitions::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, indicator_id, year, name, numerator_label, denominator_label, reason, recorded_by, recorded_at)| {
            DefinitionRevision {
                id,
                indicator_id,
                effective_from_fiscal_year: year,
                effective_from_fiscal_year_label: label(year),
                name,
                numerator_label,
                denominator_label,
                reason,
                recorded_by,
                recorded_at,
            }
        })
        .collect())
}

/// A definition change as the API receives it.
#[derive(Clone, Copy)]
pub struct NewDefinition<'a> {
    pub effective_from_fiscal_year: i32,
    pub name: &'a str,
    pub numerator_label: Option<&'a str>,
    pub denominator_label: Option<&'a str>,
    pub reason: &'a str,
}

/// Records that an indicator measures something else from a fiscal year on (e.g. 交付枚数/人口 →
/// 保有枚数/人口); evaluations say which definition they used.
pub fn revise_definition(
    conn: &mut DbConnection,
    actor: &Actor,
    indicator_id: IndicatorId,
    definition: &NewDefinition<'_>,
) -> Result<DefinitionRevision, AppError> {
    let NewDefinition { effective_from_fiscal_year, name, numerator_label, denominator_label, reason } = *definition;
    let indicator = get(conn, indicator_id)?;
    plan_of(conn, &indicator)?.check_year("effective_from_fiscal_year", effective_from_fiscal_year)?;
    let mut errors = Vec::new();
    if name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    if reason.trim().is_empty() {
        errors.push(FieldError::new("reason", "say why the definition changes"));
    }
    if indicator.kind == IndicatorKind::Ratio && (numerator_label.is_none() || denominator_label.is_none()) {
        errors.push(FieldError::new("numerator_label", "a ratio indicator names its numerator and denominator"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id: i32 = diesel::insert_into(indicator_definitions::table)
        .values((
            indicator_definitions::indicator_id.eq(indicator_id),
            indicator_definitions::effective_from_fiscal_year.eq(effective_from_fiscal_year),
            indicator_definitions::name.eq(name),
            indicator_definitions::numerator_label.eq(numerator_label),
            indicator_definitions::denominator_label.eq(denominator_label),
            indicator_definitions::reason.eq(reason),
            indicator_definitions::recorded_by.eq(actor.user_id),
            indicator_definitions::recorded_at.eq(audit::now()),
        ))
        .returning(indicator_definitions::id)
        .get_result(conn)?;
    bump_version(conn, indicator_id.get(), indicator.version)?;
    let revision = list_definitions(conn, &[indicator_id.get()])?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| AppError::not_found("definition revision", id))?;
    audit::record(
        conn,
        actor,
        Change::created("indicator_definition", id, &revision)
            .with_action("revise_definition")
            .with_reason(Some(reason)),
    )?;
    Ok(revision)
}

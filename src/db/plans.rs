//! Plans with their phases and grading settings, basic goals (基本目標) and strategies (重点戦略).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::name_revisions::{self, Named, Rename};
use super::schema::{goals, measures, plan_phases, plans, strategies};
use super::{DbConnection, decimal_from_text, decimal_to_text, enum_from_column};
use crate::domain::achievement::{GradeBasis, GradingSettings};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::ids::{GoalId, PlanId, StrategyId};
use crate::error::AppError;

use crate::domain::plan::{DEFAULT_GOAL_KIND, Goal, Phase, Plan, PlanStatus, Strategy, label, to_text};

#[derive(Queryable, Selectable)]
#[diesel(table_name = plans)]
struct PlanRow {
    id: i32,
    municipality_id: i32,
    code: String,
    name: String,
    description: String,
    start_fiscal_year: i32,
    end_fiscal_year: i32,
    baseline_fiscal_year: Option<i32>,
    status: String,
    predecessor_id: Option<i32>,
    grade_basis: String,
    grade_a_min: String,
    grade_b_min: String,
    grade_c_min: String,
    on_track_min_ratio: String,
    behind_min_ratio: String,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    reading_note: Option<String>,
}

impl PlanRow {
    fn into_plan(self, phases: Vec<Phase>) -> Result<Plan, AppError> {
        Ok(Plan {
            id: self.id,
            municipality_id: self.municipality_id,
            code: self.code,
            name: self.name,
            description: self.description,
            start_fiscal_year: self.start_fiscal_year,
            start_fiscal_year_label: label(self.start_fiscal_year),
            end_fiscal_year: self.end_fiscal_year,
            end_fiscal_year_label: label(self.end_fiscal_year),
            baseline_fiscal_year: self.baseline_fiscal_year,
            status: enum_from_column(&self.status)?,
            predecessor_id: self.predecessor_id,
            phases,
            grading: GradingSettings {
                basis: enum_from_column::<GradeBasis>(&self.grade_basis)?,
                grade_a_min: decimal_from_text(&self.grade_a_min)?,
                grade_b_min: decimal_from_text(&self.grade_b_min)?,
                grade_c_min: decimal_from_text(&self.grade_c_min)?,
                on_track_min_ratio: decimal_from_text(&self.on_track_min_ratio)?,
                behind_min_ratio: decimal_from_text(&self.behind_min_ratio)?,
            },
            reading_note: self.reading_note,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn load_phases(conn: &mut DbConnection, plan_ids: &[i32]) -> Result<Vec<(i32, Phase)>, AppError> {
    type PhaseRow = (i32, i32, String, i32, i32, Option<String>, Option<String>, Option<String>);
    let rows: Vec<PhaseRow> = plan_phases::table
        .filter(plan_phases::plan_id.eq_any(plan_ids))
        .select((
            plan_phases::plan_id,
            plan_phases::id,
            plan_phases::name,
            plan_phases::start_fiscal_year,
            plan_phases::end_fiscal_year,
            plan_phases::reading_note,
            plan_phases::purpose,
            plan_phases::purpose_source,
        ))
        .order((plan_phases::start_fiscal_year, plan_phases::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(plan_id, id, name, start_fiscal_year, end_fiscal_year, reading_note, purpose, purpose_source)| {
            (plan_id, Phase { id, name, start_fiscal_year, end_fiscal_year, reading_note, purpose, purpose_source })
        })
        .collect())
}

pub fn get(conn: &mut DbConnection, id: PlanId) -> Result<Plan, AppError> {
    let row = plans::table
        .find(id.get())
        .select(PlanRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("plan", id))?;
    let phases = load_phases(conn, &[id.get()])?.into_iter().map(|(_, phase)| phase).collect();
    row.into_plan(phases)
}

/// These plans, in two queries whatever their number.
pub fn list_by_ids(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<Plan>, AppError> {
    let rows: Vec<PlanRow> =
        plans::table.filter(plans::id.eq_any(ids)).select(PlanRow::as_select()).order(plans::id).load(conn)?;
    // Grouped once: a comparison lists every municipality's plan.
    let mut phases: HashMap<i32, Vec<Phase>> = HashMap::new();
    for (plan_id, phase) in load_phases(conn, ids)? {
        phases.entry(plan_id).or_default().push(phase);
    }
    rows.into_iter()
        .map(|row| {
            let own = phases.remove(&row.id).unwrap_or_default();
            row.into_plan(own)
        })
        .collect()
}

/// A municipality's plan by its code (codes are unique per municipality).
pub fn find_by_code(conn: &mut DbConnection, municipality_id: i32, code: &str) -> Result<Option<Plan>, AppError> {
    let id: Option<i32> = plans::table
        .filter(plans::municipality_id.eq(municipality_id))
        .filter(plans::code.eq(code))
        .select(plans::id)
        .first(conn)
        .optional()?;
    id.map(|id| get(conn, PlanId::new(id))).transpose()
}

pub fn count(conn: &mut DbConnection) -> Result<i64, AppError> {
    Ok(plans::table.count().get_result(conn)?)
}

/// One page of a municipality's plans.
pub fn list(
    conn: &mut DbConnection,
    municipality_id: i32,
    status: Option<PlanStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Plan>, i64), AppError> {
    let query = || {
        let mut query = plans::table.filter(plans::municipality_id.eq(municipality_id)).into_boxed();
        if let Some(status) = status {
            query = query.filter(plans::status.eq(to_text(&status)));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows: Vec<PlanRow> =
        query().select(PlanRow::as_select()).order(plans::id).limit(limit).offset(offset).load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let phases = load_phases(conn, &ids)?;
    let plans = rows
        .into_iter()
        .map(|row| {
            let own = phases.iter().filter(|(plan_id, _)| *plan_id == row.id).map(|(_, p)| p.clone()).collect();
            row.into_plan(own)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((plans, total))
}

/// What a plan is made of when created or edited.
#[derive(Debug, Clone)]
pub struct PlanFields {
    pub code: String,
    pub name: String,
    pub description: String,
    pub start_fiscal_year: i32,
    pub end_fiscal_year: i32,
    pub baseline_fiscal_year: Option<i32>,
    pub status: PlanStatus,
    pub predecessor_id: Option<i32>,
    pub phases: Vec<Phase>,
    pub grading: GradingSettings,
    pub reading_note: Option<String>,
}

fn validate_fields(fields: &PlanFields) -> Result<(), AppError> {
    let mut errors = Vec::new();
    for (field, year) in [("start_fiscal_year", fields.start_fiscal_year), ("end_fiscal_year", fields.end_fiscal_year)]
    {
        if let Err(e) = FiscalYear::new(year) {
            errors.push(crate::error::FieldError::new(field, e.to_string()));
        }
    }
    if fields.start_fiscal_year > fields.end_fiscal_year {
        errors.push(crate::error::FieldError::new("end_fiscal_year", "must not be before start_fiscal_year"));
    }
    for (i, phase) in fields.phases.iter().enumerate() {
        if phase.start_fiscal_year > phase.end_fiscal_year
            || phase.start_fiscal_year < fields.start_fiscal_year
            || phase.end_fiscal_year > fields.end_fiscal_year
        {
            errors.push(crate::error::FieldError::new(
                format!("phases[{i}]"),
                "a phase must lie within the plan period and not end before it starts",
            ));
        }
    }
    if let Err(message) = crate::domain::achievement::validate_grading(&fields.grading) {
        errors.push(crate::error::FieldError::new("grading", message));
    }
    if fields.name.trim().is_empty() {
        errors.push(crate::error::FieldError::new("name", "must not be empty"));
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

/// Writes the plan's phases in place: a phase sent with its id (or, without one, with the name of
/// an existing phase) keeps its id, so goals and measures placed in it stay there; a phase left out
/// is removed unless something is still placed in it.
fn replace_phases(conn: &mut DbConnection, plan_id: i32, phases: &[Phase]) -> Result<(), AppError> {
    let existing: Vec<Phase> = load_phases(conn, &[plan_id])?.into_iter().map(|(_, phase)| phase).collect();
    let mut kept = Vec::new();
    for (i, phase) in phases.iter().enumerate() {
        let matched = existing
            .iter()
            .find(|old| (phase.id != 0 && old.id == phase.id) || (phase.id == 0 && old.name == phase.name))
            .filter(|old| !kept.contains(&old.id));
        match matched {
            Some(old) => {
                kept.push(old.id);
                diesel::update(plan_phases::table.find(old.id))
                    .set((
                        plan_phases::name.eq(&phase.name),
                        plan_phases::start_fiscal_year.eq(phase.start_fiscal_year),
                        plan_phases::end_fiscal_year.eq(phase.end_fiscal_year),
                        plan_phases::reading_note.eq(&phase.reading_note),
                        plan_phases::purpose.eq(&phase.purpose),
                        plan_phases::purpose_source.eq(&phase.purpose_source),
                    ))
                    .execute(conn)?;
            }
            None if phase.id != 0 => {
                return Err(AppError::invalid(format!("phases[{i}].id"), "not a phase of this plan"));
            }
            None => {
                diesel::insert_into(plan_phases::table)
                    .values((
                        plan_phases::plan_id.eq(plan_id),
                        plan_phases::name.eq(&phase.name),
                        plan_phases::start_fiscal_year.eq(phase.start_fiscal_year),
                        plan_phases::end_fiscal_year.eq(phase.end_fiscal_year),
                        plan_phases::reading_note.eq(&phase.reading_note),
                        plan_phases::purpose.eq(&phase.purpose),
                        plan_phases::purpose_source.eq(&phase.purpose_source),
                    ))
                    .execute(conn)?;
            }
        }
    }
    for old in existing.iter().filter(|old| !kept.contains(&old.id)) {
        let goals_in_it: i64 = goals::table.filter(goals::phase_id.eq(old.id)).count().get_result(conn)?;
        let measures_in_it: i64 = measures::table.filter(measures::phase_id.eq(old.id)).count().get_result(conn)?;
        if goals_in_it + measures_in_it > 0 {
            return Err(AppError::Conflict(format!(
                "phase {} ({}) still has goals or measures placed in it; move them before removing it",
                old.id, old.name
            )));
        }
        diesel::delete(plan_phases::table.find(old.id)).execute(conn)?;
    }
    Ok(())
}

/// The plan a plan succeeds: one of the same municipality (another's reads as none) that started
/// before it.
fn check_predecessor(
    conn: &mut DbConnection,
    municipality_id: i32,
    own_id: Option<i32>,
    fields: &PlanFields,
) -> Result<(), AppError> {
    let Some(predecessor_id) = fields.predecessor_id else { return Ok(()) };
    super::ownership::resolve_in(conn, municipality_id, PlanId::new(predecessor_id), "predecessor_id")?;
    let predecessor = get(conn, PlanId::new(predecessor_id))?;
    if Some(predecessor.id) == own_id || predecessor.start_fiscal_year >= fields.start_fiscal_year {
        return Err(AppError::invalid("predecessor_id", "must be a plan that started before this one"));
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    municipality_id: i32,
    fields: &PlanFields,
) -> Result<Plan, AppError> {
    validate_fields(fields)?;
    check_predecessor(conn, municipality_id, None, fields)?;
    let now = audit::now();
    let grading = &fields.grading;
    let id: QueryResult<i32> = diesel::insert_into(plans::table)
        .values((
            plans::municipality_id.eq(municipality_id),
            plans::code.eq(&fields.code),
            plans::name.eq(&fields.name),
            plans::description.eq(&fields.description),
            plans::start_fiscal_year.eq(fields.start_fiscal_year),
            plans::end_fiscal_year.eq(fields.end_fiscal_year),
            plans::baseline_fiscal_year.eq(fields.baseline_fiscal_year),
            plans::status.eq(to_text(&fields.status)),
            plans::predecessor_id.eq(fields.predecessor_id),
            plans::grade_basis.eq(to_text(&grading.basis)),
            plans::grade_a_min.eq(decimal_to_text(grading.grade_a_min)),
            plans::grade_b_min.eq(decimal_to_text(grading.grade_b_min)),
            plans::grade_c_min.eq(decimal_to_text(grading.grade_c_min)),
            plans::on_track_min_ratio.eq(decimal_to_text(grading.on_track_min_ratio)),
            plans::behind_min_ratio.eq(decimal_to_text(grading.behind_min_ratio)),
            plans::reading_note.eq(&fields.reading_note),
            plans::version.eq(1),
            plans::created_at.eq(now),
            plans::updated_at.eq(now),
        ))
        .returning(plans::id)
        .get_result(conn);
    let id = AppError::on_duplicate(id, "code", "a plan", &fields.code)?;
    replace_phases(conn, id, &fields.phases)?;
    let plan = get(conn, PlanId::new(id))?;
    audit::record(conn, actor, Change::created("plan", id, &plan))?;
    Ok(plan)
}

/// When a plan's new name takes effect, and why it changed.
#[derive(Debug, Clone, Default)]
pub struct NameChange {
    /// `None`: every year (a correction rather than a renaming)
    pub effective_from_fiscal_year: Option<i32>,
    pub reason: Option<String>,
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: PlanId,
    expected_version: Option<i32>,
    fields: &PlanFields,
    name_change: &NameChange,
) -> Result<Plan, AppError> {
    let old = get(conn, id)?;
    crate::versioning::check_version("plan", old.version, expected_version)?;
    validate_fields(fields)?;
    if fields.predecessor_id != old.predecessor_id {
        check_predecessor(conn, old.municipality_id, Some(id.get()), fields)?;
    }
    if let Some(year) = name_change.effective_from_fiscal_year {
        if fields.name == old.name {
            return Err(AppError::invalid("name_effective_fiscal_year", "only goes with a new name"));
        }
        if year < fields.start_fiscal_year || year > fields.end_fiscal_year {
            return Err(AppError::invalid(
                "name_effective_fiscal_year",
                format!("{year} is outside the plan period {}–{}", fields.start_fiscal_year, fields.end_fiscal_year),
            ));
        }
    }
    let grading = &fields.grading;
    diesel::update(plans::table.find(id.get()))
        .set((
            plans::name.eq(&fields.name),
            plans::description.eq(&fields.description),
            plans::start_fiscal_year.eq(fields.start_fiscal_year),
            plans::end_fiscal_year.eq(fields.end_fiscal_year),
            plans::baseline_fiscal_year.eq(fields.baseline_fiscal_year),
            plans::status.eq(to_text(&fields.status)),
            plans::predecessor_id.eq(fields.predecessor_id),
            plans::grade_basis.eq(to_text(&grading.basis)),
            plans::grade_a_min.eq(decimal_to_text(grading.grade_a_min)),
            plans::grade_b_min.eq(decimal_to_text(grading.grade_b_min)),
            plans::grade_c_min.eq(decimal_to_text(grading.grade_c_min)),
            plans::on_track_min_ratio.eq(decimal_to_text(grading.on_track_min_ratio)),
            plans::behind_min_ratio.eq(decimal_to_text(grading.behind_min_ratio)),
            plans::reading_note.eq(&fields.reading_note),
            plans::version.eq(old.version + 1),
            plans::updated_at.eq(audit::now()),
        ))
        .execute(conn)?;
    replace_phases(conn, id.get(), &fields.phases)?;
    let new = get(conn, id)?;
    name_revisions::record(
        conn,
        actor,
        &Rename {
            entity: Named::Plan(id.get()),
            created_at: old.created_at,
            old_name: &old.name,
            new_name: &new.name,
            effective_from_fiscal_year: name_change.effective_from_fiscal_year,
            reason: name_change.reason.as_deref(),
        },
    )?;
    audit::record(
        conn,
        actor,
        Change::updated("plan", id.get(), &old, &new).with_reason(name_change.reason.as_deref()),
    )?;
    Ok(new)
}

impl From<&Plan> for PlanFields {
    fn from(plan: &Plan) -> Self {
        Self {
            code: plan.code.clone(),
            name: plan.name.clone(),
            description: plan.description.clone(),
            start_fiscal_year: plan.start_fiscal_year,
            end_fiscal_year: plan.end_fiscal_year,
            baseline_fiscal_year: plan.baseline_fiscal_year,
            status: plan.status,
            predecessor_id: plan.predecessor_id,
            phases: plan.phases.clone(),
            grading: plan.grading.clone(),
            reading_note: plan.reading_note.clone(),
        }
    }
}

// ---- basic goals and strategies ----------------------------------------------------------

#[derive(Queryable, Selectable)]
#[diesel(table_name = goals)]
struct GoalRow {
    id: i32,
    plan_id: i32,
    number: i32,
    name: String,
    kind: String,
    symbol: Option<String>,
    parent_id: Option<i32>,
    phase_id: Option<i32>,
    reading_note: Option<String>,
}

impl From<GoalRow> for Goal {
    fn from(row: GoalRow) -> Self {
        Self {
            id: row.id,
            plan_id: row.plan_id,
            number: row.number,
            name: row.name,
            kind: row.kind,
            symbol: row.symbol,
            parent_id: row.parent_id,
            phase_id: row.phase_id,
            reading_note: row.reading_note,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = strategies)]
struct StrategyRow {
    id: i32,
    plan_id: i32,
    number: i32,
    name: String,
}

impl From<StrategyRow> for Strategy {
    fn from(row: StrategyRow) -> Self {
        Self { id: row.id, plan_id: row.plan_id, number: row.number, name: row.name }
    }
}

/// What a goal is made of when created.
#[derive(Debug, Clone)]
pub struct GoalFields {
    pub number: i32,
    pub name: String,
    pub kind: String,
    pub symbol: Option<String>,
    pub parent_id: Option<i32>,
    pub phase_id: Option<i32>,
    pub reading_note: Option<String>,
}

impl GoalFields {
    /// A 基本目標 with only a number and a name.
    pub fn basic(number: i32, name: &str) -> Self {
        Self {
            number,
            name: name.to_owned(),
            kind: DEFAULT_GOAL_KIND.to_owned(),
            symbol: None,
            parent_id: None,
            phase_id: None,
            reading_note: None,
        }
    }
}

pub fn list_goals(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<Goal>, AppError> {
    let rows: Vec<GoalRow> = goals::table
        .filter(goals::plan_id.eq(plan_id))
        .select(GoalRow::as_select())
        .order((
            goals::phase_id.is_not_null(),
            goals::phase_id,
            goals::parent_id.is_not_null(),
            goals::number,
            goals::id,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(Goal::from).collect())
}

/// One page of a plan's goals, whole-plan levels first, then by phase, parents before children
/// and by number; optionally only one kind (`基本方針`).
pub fn page_goals(
    conn: &mut DbConnection,
    plan_id: PlanId,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Goal>, i64), AppError> {
    let query = || {
        let mut query = goals::table.filter(goals::plan_id.eq(plan_id)).into_boxed();
        if let Some(kind) = kind {
            query = query.filter(goals::kind.eq(kind.to_owned()));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows: Vec<GoalRow> = query()
        .select(GoalRow::as_select())
        .order((
            goals::phase_id.is_not_null(),
            goals::phase_id,
            goals::parent_id.is_not_null(),
            goals::number,
            goals::id,
        ))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows.into_iter().map(Goal::from).collect(), total))
}

/// One page of a plan's strategies by number, and how many it has.
pub fn page_strategies(
    conn: &mut DbConnection,
    plan_id: PlanId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Strategy>, i64), AppError> {
    let total = strategies::table.filter(strategies::plan_id.eq(plan_id)).count().get_result(conn)?;
    let rows: Vec<StrategyRow> = strategies::table
        .filter(strategies::plan_id.eq(plan_id))
        .select(StrategyRow::as_select())
        .order(strategies::number)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows.into_iter().map(Strategy::from).collect(), total))
}

pub fn list_strategies(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<Strategy>, AppError> {
    let rows: Vec<StrategyRow> = strategies::table
        .filter(strategies::plan_id.eq(plan_id))
        .select(StrategyRow::as_select())
        .order(strategies::number)
        .load(conn)?;
    Ok(rows.into_iter().map(Strategy::from).collect())
}

pub fn get_goal(conn: &mut DbConnection, id: i32) -> Result<Goal, AppError> {
    goals::table
        .find(id)
        .select(GoalRow::as_select())
        .first(conn)
        .optional()?
        .map(Goal::from)
        .ok_or_else(|| AppError::not_found("goal", id))
}

pub fn get_strategy(conn: &mut DbConnection, id: i32) -> Result<Strategy, AppError> {
    strategies::table
        .find(id)
        .select(StrategyRow::as_select())
        .first(conn)
        .optional()?
        .map(Strategy::from)
        .ok_or_else(|| AppError::not_found("strategy", id))
}

fn check_number_and_name(number: i32, name: &str) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if number < 1 {
        errors.push(crate::error::FieldError::new("number", "must be 1 or more"));
    }
    if name.trim().is_empty() {
        errors.push(crate::error::FieldError::new("name", "must not be empty"));
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

pub fn create_goal(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    fields: &GoalFields,
) -> Result<Goal, AppError> {
    let plan = get(conn, plan_id)?;
    check_number_and_name(fields.number, &fields.name)?;
    let mut errors = Vec::new();
    if fields.kind.trim().is_empty() {
        errors.push(crate::error::FieldError::new("kind", "must not be empty"));
    }
    if let Some(parent_id) = fields.parent_id {
        let parent: Option<GoalRow> =
            goals::table.find(parent_id).select(GoalRow::as_select()).first(conn).optional()?;
        if parent.is_none_or(|p| p.plan_id != plan_id) {
            errors.push(crate::error::FieldError::new("parent_id", "not a goal of this plan"));
        }
    }
    if let Some(phase_id) = fields.phase_id
        && !plan.phases.iter().any(|p| p.id == phase_id)
    {
        errors.push(crate::error::FieldError::new("phase_id", "not a phase of this plan"));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let id: QueryResult<i32> = diesel::insert_into(goals::table)
        .values((
            goals::plan_id.eq(plan_id),
            goals::number.eq(fields.number),
            goals::name.eq(&fields.name),
            goals::kind.eq(&fields.kind),
            goals::symbol.eq(&fields.symbol),
            goals::parent_id.eq(fields.parent_id),
            goals::phase_id.eq(fields.phase_id),
            goals::reading_note.eq(&fields.reading_note),
        ))
        .returning(goals::id)
        .get_result(conn);
    let what = if fields.kind == DEFAULT_GOAL_KIND && fields.phase_id.is_none() {
        "a basic goal of this plan".to_owned()
    } else {
        format!("a {} of this plan and phase", fields.kind)
    };
    let id = AppError::on_duplicate(id, "number", &what, fields.number)?;
    let goal = get_goal(conn, id)?;
    audit::record(conn, actor, Change::created("goal", id, &goal))?;
    Ok(goal)
}

pub fn rename_goal(
    conn: &mut DbConnection,
    actor: &Actor,
    id: GoalId,
    name: &str,
    reason: Option<&str>,
) -> Result<Goal, AppError> {
    let old = get_goal(conn, id.get())?;
    check_number_and_name(old.number, name)?;
    diesel::update(goals::table.find(id.get())).set(goals::name.eq(name)).execute(conn)?;
    let new = get_goal(conn, id.get())?;
    audit::record(conn, actor, Change::updated("goal", id.get(), &old, &new).with_reason(reason))?;
    Ok(new)
}

pub fn create_strategy(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    number: i32,
    name: &str,
) -> Result<Strategy, AppError> {
    get(conn, plan_id)?;
    check_number_and_name(number, name)?;
    let id: QueryResult<i32> = diesel::insert_into(strategies::table)
        .values((strategies::plan_id.eq(plan_id), strategies::number.eq(number), strategies::name.eq(name)))
        .returning(strategies::id)
        .get_result(conn);
    let id = AppError::on_duplicate(id, "number", "a strategy of this plan", number)?;
    let strategy = get_strategy(conn, id)?;
    audit::record(conn, actor, Change::created("strategy", id, &strategy))?;
    Ok(strategy)
}

pub fn rename_strategy(
    conn: &mut DbConnection,
    actor: &Actor,
    id: StrategyId,
    name: &str,
    reason: Option<&str>,
) -> Result<Strategy, AppError> {
    let old = get_strategy(conn, id.get())?;
    check_number_and_name(old.number, name)?;
    diesel::update(strategies::table.find(id.get())).set(strategies::name.eq(name)).execute(conn)?;
    let new = get_strategy(conn, id.get())?;
    audit::record(conn, actor, Change::updated("strategy", id.get(), &old, &new).with_reason(reason))?;
    Ok(new)
}

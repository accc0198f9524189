//! Measures (推進施策): goals, strategy, owning departments over time, roadmap and status.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::name_revisions::{self, Named, Rename};
use super::plans;
use super::schema::{departments, measure_owners, measure_roadmap, measure_secondary_goals, measures, plan_phases};
use super::{DbConnection, enum_from_column};
use crate::domain::ids::{DepartmentId, MeasureId, PlanId};
use crate::domain::plan::{MeasureStatus, ReviewCategory, to_text};
use crate::domain::plan::{label, optional_label};
use crate::domain::resource::OwnedResource;
use crate::error::{AppError, FieldError};
use crate::versioning::check_version;

use crate::domain::measure::{Measure, Owner, PhaseSpan, RoadmapEntry};

#[derive(Queryable, Selectable)]
#[diesel(table_name = measures)]
struct MeasureRow {
    id: i32,
    plan_id: i32,
    number: i32,
    name: String,
    summary: String,
    strategy_id: Option<i32>,
    main_goal_id: Option<i32>,
    review_category: Option<String>,
    status: String,
    status_fiscal_year: Option<i32>,
    status_recorded_at: Option<NaiveDateTime>,
    added_fiscal_year: Option<i32>,
    owners_and_others: bool,
    change_notes: Option<String>,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    phase_id: Option<i32>,
    predecessor_id: Option<i32>,
    reading_note: Option<String>,
}

/// Which of a plan's measures [`list`] reads: every field given must match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct MeasureFilter {
    /// Measures this department owns (lead or co-owner), now or in the past.
    pub department_id: Option<i32>,
    /// Measures whose ◎ or ○ goal is this goal.
    pub goal_id: Option<i32>,
    pub strategy_id: Option<i32>,
    pub review_category: Option<ReviewCategory>,
    pub status: Option<MeasureStatus>,
    /// Measures of this phase (measures of the whole plan are not listed)
    pub phase_id: Option<i32>,
}

/// The roadmap rows of these measures, in their order.
fn measure_roadmap_rows(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<(i32, String, i32, String)>, AppError> {
    Ok(measure_roadmap::table
        .filter(measure_roadmap::measure_id.eq_any(ids))
        .select((
            measure_roadmap::measure_id,
            measure_roadmap::track,
            measure_roadmap::fiscal_year,
            measure_roadmap::activity,
        ))
        .order((measure_roadmap::measure_id, measure_roadmap::id))
        .load(conn)?)
}

/// Whether measures are read with their yearly roadmaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Roadmaps {
    Read,
    Skipped,
}

/// Loads measures with their phases, owners, goals and roadmap in five queries (four without
/// roadmaps), whatever their number.
fn assemble(conn: &mut DbConnection, rows: Vec<MeasureRow>, roadmaps: Roadmaps) -> Result<Vec<Measure>, AppError> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let phase_ids: Vec<i32> = rows.iter().filter_map(|r| r.phase_id).collect();
    let spans: BTreeMap<i32, PhaseSpan> = plan_phases::table
        .filter(plan_phases::id.eq_any(&phase_ids))
        .select((plan_phases::id, plan_phases::start_fiscal_year, plan_phases::end_fiscal_year))
        .load::<(i32, i32, i32)>(conn)?
        .into_iter()
        .map(|(id, start_fiscal_year, end_fiscal_year)| (id, PhaseSpan { start_fiscal_year, end_fiscal_year }))
        .collect();
    let mut owners: BTreeMap<i32, Vec<Owner>> = BTreeMap::new();
    type OwnerRow = (
        i32,
        i32,
        String,
        String,
        bool,
        Option<i32>,
        Option<i32>,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let owner_rows: Vec<OwnerRow> = measure_owners::table
        .inner_join(departments::table)
        .filter(measure_owners::measure_id.eq_any(&ids))
        .select((
            measure_owners::measure_id,
            measure_owners::department_id,
            departments::code,
            departments::name,
            measure_owners::is_lead,
            measure_owners::from_fiscal_year,
            measure_owners::until_fiscal_year,
            measure_owners::recorded_at,
            measure_owners::removed_at,
            measure_owners::reading_note,
        ))
        .order((measure_owners::measure_id, measure_owners::position, measure_owners::id))
        .load(conn)?;
    for (
        measure_id,
        department_id,
        department_code,
        department_name,
        is_lead,
        from,
        until,
        recorded_at,
        removed_at,
        reading_note,
    ) in owner_rows
    {
        owners.entry(measure_id).or_default().push(Owner {
            department_id,
            department_code,
            department_name,
            is_lead,
            from_fiscal_year: from,
            until_fiscal_year: until,
            recorded_at,
            removed_at,
            reading_note,
        });
    }
    let mut secondary: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    let goal_rows: Vec<(i32, i32)> = measure_secondary_goals::table
        .filter(measure_secondary_goals::measure_id.eq_any(&ids))
        .select((measure_secondary_goals::measure_id, measure_secondary_goals::goal_id))
        .order((measure_secondary_goals::measure_id, measure_secondary_goals::goal_id))
        .load(conn)?;
    for (measure_id, goal_id) in goal_rows {
        secondary.entry(measure_id).or_default().push(goal_id);
    }
    let mut roadmap: BTreeMap<i32, Vec<RoadmapEntry>> = BTreeMap::new();
    let roadmap_rows = match roadmaps {
        Roadmaps::Skipped => Vec::new(),
        Roadmaps::Read => measure_roadmap_rows(conn, &ids)?,
    };
    for (measure_id, track, fiscal_year, activity) in roadmap_rows {
        roadmap.entry(measure_id).or_default().push(RoadmapEntry {
            track,
            fiscal_year,
            fiscal_year_label: label(fiscal_year),
            activity,
        });
    }
    rows.into_iter()
        .map(|row| {
            let review_category: Option<ReviewCategory> =
                row.review_category.as_deref().map(enum_from_column).transpose()?;
            Ok(Measure {
                id: row.id,
                plan_id: row.plan_id,
                number: row.number,
                name: row.name,
                summary: row.summary,
                strategy_id: row.strategy_id,
                main_goal_id: row.main_goal_id,
                secondary_goal_ids: secondary.remove(&row.id).unwrap_or_default(),
                owners: owners.remove(&row.id).unwrap_or_default(),
                owners_and_others: row.owners_and_others,
                review_category,
                review_category_label: review_category.map(|category| category.label_ja().to_owned()),
                status: enum_from_column(&row.status)?,
                status_fiscal_year: row.status_fiscal_year,
                status_fiscal_year_label: optional_label(row.status_fiscal_year),
                status_recorded_at: row.status_recorded_at,
                added_fiscal_year: row.added_fiscal_year,
                change_notes: row.change_notes,
                phase_id: row.phase_id,
                phase_span: row.phase_id.and_then(|id| spans.get(&id).copied()),
                predecessor_id: row.predecessor_id,
                roadmap: roadmap.remove(&row.id).unwrap_or_default(),
                reading_note: row.reading_note,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

pub fn get(conn: &mut DbConnection, id: MeasureId) -> Result<Measure, AppError> {
    let row = measures::table
        .find(id.get())
        .select(MeasureRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("measure", id))?;
    assemble(conn, vec![row], Roadmaps::Read)?.pop().ok_or_else(|| AppError::not_found("measure", id))
}

/// The plan a measure belongs to, in one statement: for callers that only need the measure to
/// exist (404 otherwise) and not its owners, goals and roadmap, which [`get`] reads in four more.
pub fn plan_id_of(conn: &mut DbConnection, id: MeasureId) -> Result<i32, AppError> {
    measures::table
        .find(id.get())
        .select(measures::plan_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("measure", id))
}

/// Every measure of a plan, in number order.
pub fn list_for_plan(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<Measure>, AppError> {
    let rows = measures::table
        .filter(measures::plan_id.eq(plan_id))
        .select(MeasureRow::as_select())
        .order(measures::number)
        .load(conn)?;
    assemble(conn, rows, Roadmaps::Read)
}

/// [`list_for_plan`] without the yearly roadmaps (left empty), which the evaluation does not use.
pub fn list_for_plan_without_roadmaps(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<Measure>, AppError> {
    let rows = measures::table
        .filter(measures::plan_id.eq(plan_id))
        .select(MeasureRow::as_select())
        .order(measures::number)
        .load(conn)?;
    assemble(conn, rows, Roadmaps::Skipped)
}

pub fn list(
    conn: &mut DbConnection,
    plan_id: PlanId,
    filter: &MeasureFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Measure>, i64), AppError> {
    let query = || {
        let mut query = measures::table.filter(measures::plan_id.eq(plan_id)).into_boxed();
        if let Some(department_id) = filter.department_id {
            let owned = measure_owners::table
                .filter(measure_owners::department_id.eq(department_id))
                .select(measure_owners::measure_id);
            query = query.filter(measures::id.eq_any(owned));
        }
        if let Some(goal_id) = filter.goal_id {
            let secondary = measure_secondary_goals::table
                .filter(measure_secondary_goals::goal_id.eq(goal_id))
                .select(measure_secondary_goals::measure_id);
            query = query.filter(measures::main_goal_id.eq(goal_id).or(measures::id.eq_any(secondary)));
        }
        if let Some(strategy_id) = filter.strategy_id {
            query = query.filter(measures::strategy_id.eq(strategy_id));
        }
        if let Some(category) = filter.review_category {
            query = query.filter(measures::review_category.eq(to_text(&category)));
        }
        if let Some(status) = filter.status {
            query = query.filter(measures::status.eq(to_text(&status)));
        }
        if let Some(phase_id) = filter.phase_id {
            query = query.filter(measures::phase_id.eq(phase_id));
        }
        query
    };
    let total = query().count().get_result(conn)?;
    let rows =
        query().select(MeasureRow::as_select()).order(measures::number).limit(limit).offset(offset).load(conn)?;
    Ok((assemble(conn, rows, Roadmaps::Read)?, total))
}

/// The editable description of a measure.
#[derive(Debug, Clone)]
pub struct MeasureFields {
    pub number: i32,
    pub name: String,
    pub summary: String,
    pub strategy_id: Option<i32>,
    pub main_goal_id: Option<i32>,
    pub secondary_goal_ids: Vec<i32>,
    /// `None`: no source states one
    pub review_category: Option<ReviewCategory>,
    pub owners_and_others: bool,
    pub added_fiscal_year: Option<i32>,
    pub change_notes: Option<String>,
    pub phase_id: Option<i32>,
    pub predecessor_id: Option<i32>,
    pub roadmap: Vec<RoadmapEntry>,
    pub reading_note: Option<String>,
}

impl From<&Measure> for MeasureFields {
    fn from(m: &Measure) -> Self {
        Self {
            number: m.number,
            name: m.name.clone(),
            summary: m.summary.clone(),
            strategy_id: m.strategy_id,
            main_goal_id: m.main_goal_id,
            secondary_goal_ids: m.secondary_goal_ids.clone(),
            review_category: m.review_category,
            owners_and_others: m.owners_and_others,
            added_fiscal_year: m.added_fiscal_year,
            change_notes: m.change_notes.clone(),
            phase_id: m.phase_id,
            predecessor_id: m.predecessor_id,
            roadmap: m.roadmap.clone(),
            reading_note: m.reading_note.clone(),
        }
    }
}

fn validate(
    conn: &mut DbConnection,
    plan_id: i32,
    own_id: Option<i32>,
    fields: &MeasureFields,
) -> Result<(), AppError> {
    let plan = plans::get(conn, PlanId::new(plan_id))?;
    let mut errors = Vec::new();
    if fields.number < 1 {
        errors.push(FieldError::new("number", "must be 1 or more"));
    }
    if fields.name.trim().is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    }
    let taken: Option<i32> = measures::table
        .filter(measures::plan_id.eq(plan_id).and(measures::number.eq(fields.number)))
        .select(measures::id)
        .first(conn)
        .optional()?;
    if taken.is_some_and(|id| Some(id) != own_id) {
        errors.push(FieldError::new("number", format!("No.{} already exists in this plan", fields.number)));
    }
    let goals: Vec<i32> = plans::list_goals(conn, PlanId::new(plan_id))?.iter().map(|g| g.id).collect();
    if fields.main_goal_id.is_some_and(|id| !goals.contains(&id)) {
        errors.push(FieldError::new("main_goal_id", "not a goal of this plan"));
    }
    for (i, goal_id) in fields.secondary_goal_ids.iter().enumerate() {
        if !goals.contains(goal_id) {
            errors.push(FieldError::new(format!("secondary_goal_ids[{i}]"), "not a goal of this plan"));
        } else if Some(*goal_id) == fields.main_goal_id {
            errors.push(FieldError::new(
                format!("secondary_goal_ids[{i}]"),
                "the main goal (◎) cannot also be secondary (○)",
            ));
        }
    }
    if let Some(strategy_id) = fields.strategy_id {
        let strategies: Vec<i32> = plans::list_strategies(conn, PlanId::new(plan_id))?.iter().map(|s| s.id).collect();
        if !strategies.contains(&strategy_id) {
            errors.push(FieldError::new("strategy_id", "not a strategy of this plan"));
        }
    }
    if let Some(year) = fields.added_fiscal_year {
        AppError::gather(plan.check_year("added_fiscal_year", year), &mut errors)?;
    }
    if let Some(phase_id) = fields.phase_id {
        match plan.phases.iter().find(|p| p.id == phase_id) {
            None => errors.push(FieldError::new("phase_id", "not a phase of this plan")),
            Some(phase) => {
                if let Some(year) =
                    fields.added_fiscal_year.filter(|y| !(phase.start_fiscal_year..=phase.end_fiscal_year).contains(y))
                {
                    errors.push(FieldError::new(
                        "added_fiscal_year",
                        format!(
                            "{} is outside the phase {} ({}–{})",
                            year, phase.name, phase.start_fiscal_year, phase.end_fiscal_year
                        ),
                    ));
                }
            }
        }
    }
    if let Some(predecessor_id) = fields.predecessor_id {
        let resolved =
            super::ownership::resolve_in(conn, plan.municipality_id, MeasureId::new(predecessor_id), "predecessor_id");
        if AppError::gather(resolved, &mut errors)?.is_some() {
            let predecessor_plan: i32 = measures::table.find(predecessor_id).select(measures::plan_id).first(conn)?;
            if predecessor_plan == plan_id {
                errors.push(FieldError::new("predecessor_id", "must be a measure of an earlier plan, not of this one"))
            }
        }
    }
    for (i, entry) in fields.roadmap.iter().enumerate() {
        AppError::gather(plan.check_year(&format!("roadmap[{i}].fiscal_year"), entry.fiscal_year), &mut errors)?;
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Validation(errors)) }
}

fn write_children(conn: &mut DbConnection, id: i32, fields: &MeasureFields) -> Result<(), AppError> {
    diesel::delete(measure_secondary_goals::table.filter(measure_secondary_goals::measure_id.eq(id))).execute(conn)?;
    for goal_id in &fields.secondary_goal_ids {
        diesel::insert_into(measure_secondary_goals::table)
            .values((measure_secondary_goals::measure_id.eq(id), measure_secondary_goals::goal_id.eq(goal_id)))
            .execute(conn)?;
    }
    diesel::delete(measure_roadmap::table.filter(measure_roadmap::measure_id.eq(id))).execute(conn)?;
    for entry in &fields.roadmap {
        diesel::insert_into(measure_roadmap::table)
            .values((
                measure_roadmap::measure_id.eq(id),
                measure_roadmap::track.eq(&entry.track),
                measure_roadmap::fiscal_year.eq(entry.fiscal_year),
                measure_roadmap::activity.eq(&entry.activity),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A department that owns a measure from its creation.
pub struct InitialOwner {
    pub department_id: i32,
    pub from_fiscal_year: Option<i32>,
    /// How the link reads its sources (a 所管課 no seed names)
    pub reading_note: Option<String>,
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    fields: &MeasureFields,
    owners: &[InitialOwner],
) -> Result<Measure, AppError> {
    validate(conn, plan_id.get(), None, fields)?;
    if owners.is_empty() {
        return Err(AppError::invalid(
            "owner_department_ids",
            "a measure needs at least one owning department (所管課)",
        ));
    }
    let now = audit::now();
    let id: i32 = diesel::insert_into(measures::table)
        .values((
            measures::plan_id.eq(plan_id),
            measures::number.eq(fields.number),
            measures::name.eq(&fields.name),
            measures::summary.eq(&fields.summary),
            measures::strategy_id.eq(fields.strategy_id),
            measures::main_goal_id.eq(fields.main_goal_id),
            measures::review_category.eq(fields.review_category.as_ref().map(to_text)),
            measures::status.eq(to_text(&MeasureStatus::Active)),
            measures::added_fiscal_year.eq(fields.added_fiscal_year),
            measures::owners_and_others.eq(fields.owners_and_others),
            measures::change_notes.eq(&fields.change_notes),
            measures::phase_id.eq(fields.phase_id),
            measures::predecessor_id.eq(fields.predecessor_id),
            measures::reading_note.eq(&fields.reading_note),
            measures::version.eq(1),
            measures::created_at.eq(now),
            measures::updated_at.eq(now),
        ))
        .returning(measures::id)
        .get_result(conn)?;
    write_children(conn, id, fields)?;
    for (position, owner) in owners.iter().enumerate() {
        insert_owner(conn, id, owner, position == 0, position)?;
    }
    let measure = get(conn, MeasureId::new(id))?;
    audit::record(conn, actor, Change::created("measure", id, &measure))?;
    Ok(measure)
}

fn insert_owner(
    conn: &mut DbConnection,
    measure_id: i32,
    owner: &InitialOwner,
    is_lead: bool,
    position: usize,
) -> Result<(), AppError> {
    let department_id = owner.department_id;
    let measure_municipality =
        super::ownership::municipality_of(conn, OwnedResource::Measure(MeasureId::new(measure_id)))?
            .flatten()
            .ok_or_else(|| AppError::not_found("measure", measure_id))?;
    super::ownership::resolve_in(conn, measure_municipality, DepartmentId::new(department_id), "department_id")?;
    diesel::insert_into(measure_owners::table)
        .values((
            measure_owners::measure_id.eq(measure_id),
            measure_owners::department_id.eq(department_id),
            measure_owners::is_lead.eq(is_lead),
            measure_owners::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
            measure_owners::from_fiscal_year.eq(owner.from_fiscal_year),
            measure_owners::recorded_at.eq(audit::now()),
            measure_owners::reading_note.eq(&owner.reading_note),
        ))
        .execute(conn)?;
    Ok(())
}

fn bump_version(conn: &mut DbConnection, id: i32, version: i32) -> Result<(), AppError> {
    diesel::update(measures::table.find(id))
        .set((measures::version.eq(version + 1), measures::updated_at.eq(audit::now())))
        .execute(conn)?;
    Ok(())
}

/// Edits name, summary, goals, strategy, category or roadmap (a rename is kept in the audit log).
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: MeasureId,
    expected_version: Option<i32>,
    fields: &MeasureFields,
    reason: Option<&str>,
) -> Result<Measure, AppError> {
    let old = get(conn, id)?;
    check_version("measure", old.version, expected_version)?;
    validate(conn, old.plan_id, Some(id.get()), fields)?;
    diesel::update(measures::table.find(id.get()))
        .set((
            measures::number.eq(fields.number),
            measures::name.eq(&fields.name),
            measures::summary.eq(&fields.summary),
            measures::strategy_id.eq(fields.strategy_id),
            measures::main_goal_id.eq(fields.main_goal_id),
            measures::review_category.eq(fields.review_category.as_ref().map(to_text)),
            measures::owners_and_others.eq(fields.owners_and_others),
            measures::added_fiscal_year.eq(fields.added_fiscal_year),
            measures::change_notes.eq(&fields.change_notes),
            measures::phase_id.eq(fields.phase_id),
            measures::predecessor_id.eq(fields.predecessor_id),
            measures::reading_note.eq(&fields.reading_note),
        ))
        .execute(conn)?;
    write_children(conn, id.get(), fields)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    name_revisions::record(
        conn,
        actor,
        &Rename {
            entity: Named::Measure(id.get()),
            created_at: old.created_at,
            old_name: &old.name,
            new_name: &new.name,
            effective_from_fiscal_year: None,
            reason,
        },
    )?;
    audit::record(conn, actor, Change::updated("measure", id.get(), &old, &new).with_reason(reason))?;
    Ok(new)
}

/// Completes (完了) or retires a measure in a fiscal year, or reactivates it.
pub fn set_status(
    conn: &mut DbConnection,
    actor: &Actor,
    id: MeasureId,
    expected_version: Option<i32>,
    status: MeasureStatus,
    fiscal_year: Option<i32>,
    reason: Option<&str>,
) -> Result<Measure, AppError> {
    let old = get(conn, id)?;
    check_version("measure", old.version, expected_version)?;
    let plan = plans::get(conn, PlanId::new(old.plan_id))?;
    let fiscal_year = match (status, fiscal_year) {
        (MeasureStatus::Active, _) => None,
        (_, Some(year)) => Some(plan.check_year("fiscal_year", year)?.year()),
        (_, None) => return Err(AppError::invalid("fiscal_year", "say in which fiscal year the measure ended")),
    };
    diesel::update(measures::table.find(id.get()))
        .set((
            measures::status.eq(to_text(&status)),
            measures::status_fiscal_year.eq(fiscal_year),
            measures::status_recorded_at.eq(Some(audit::now())),
        ))
        .execute(conn)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Change::updated("measure", id.get(), &old, &new).with_action("change_status").with_reason(reason),
    )?;
    Ok(new)
}

/// Adds an owning department from a fiscal year (所管課の追加).
pub fn add_owner(
    conn: &mut DbConnection,
    actor: &Actor,
    id: MeasureId,
    owner: &InitialOwner,
    reason: Option<&str>,
) -> Result<Measure, AppError> {
    let old = get(conn, id)?;
    let department_id = owner.department_id;
    if old.owned_by(department_id, None) {
        return Err(AppError::Conflict(format!("department {department_id} already owns measure {id}")));
    }
    if let Some(year) = owner.from_fiscal_year {
        plans::get(conn, PlanId::new(old.plan_id))?.check_year("from_fiscal_year", year)?;
    }
    insert_owner(conn, id.get(), owner, false, old.owners.len())?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Change::updated("measure", id.get(), &old, &new).with_action("add_owner").with_reason(reason),
    )?;
    Ok(new)
}

/// Ends a department's ownership after `last_fiscal_year`; the row stays for history.
pub fn remove_owner(
    conn: &mut DbConnection,
    actor: &Actor,
    id: MeasureId,
    department_id: DepartmentId,
    last_fiscal_year: i32,
    reason: Option<&str>,
) -> Result<Measure, AppError> {
    let old = get(conn, id)?;
    plans::get(conn, PlanId::new(old.plan_id))?.check_year("last_fiscal_year", last_fiscal_year)?;
    let remaining = old.owners.iter().filter(|o| o.in_force(None) && o.department_id != department_id).count();
    if !old.owned_by(department_id.get(), None) {
        return Err(AppError::not_found("owner", department_id));
    }
    if remaining == 0 {
        return Err(AppError::Conflict("a measure must keep at least one owning department".into()));
    }
    diesel::update(
        measure_owners::table.filter(
            measure_owners::measure_id
                .eq(id)
                .and(measure_owners::department_id.eq(department_id))
                .and(measure_owners::until_fiscal_year.is_null()),
        ),
    )
    .set((measure_owners::until_fiscal_year.eq(last_fiscal_year), measure_owners::removed_at.eq(audit::now())))
    .execute(conn)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Change::updated("measure", id.get(), &old, &new).with_action("remove_owner").with_reason(reason),
    )?;
    Ok(new)
}

/// Replaces the reading note of a department's current ownership: `Some(None)` removes it, `None`
/// keeps it. The old and new measure go to the audit log.
pub fn set_owner_reading_note(
    conn: &mut DbConnection,
    actor: &Actor,
    id: MeasureId,
    department_id: DepartmentId,
    reading_note: Option<Option<&str>>,
    reason: Option<&str>,
) -> Result<Measure, AppError> {
    let old = get(conn, id)?;
    let current = old
        .owners
        .iter()
        .find(|owner| owner.department_id == department_id.get() && owner.in_force(None))
        .ok_or_else(|| AppError::not_found("owner", department_id))?;
    let reading_note = reading_note.map_or_else(|| current.reading_note.clone(), |note| note.map(str::to_owned));
    diesel::update(
        measure_owners::table.filter(
            measure_owners::measure_id
                .eq(id)
                .and(measure_owners::department_id.eq(department_id))
                .and(measure_owners::until_fiscal_year.is_null()),
        ),
    )
    .set(measure_owners::reading_note.eq(reading_note))
    .execute(conn)?;
    bump_version(conn, id.get(), old.version)?;
    let new = get(conn, id)?;
    audit::record(
        conn,
        actor,
        Change::updated("measure", id.get(), &old, &new).with_action("change_owner_reading_note").with_reason(reason),
    )?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::PhaseSpan;

    #[test]
    fn a_phase_holds_its_first_and_last_year_only() {
        let early = PhaseSpan { start_fiscal_year: 2021, end_fiscal_year: 2023 };
        assert!(!early.contains(2020));
        assert!(early.contains(2021));
        assert!(early.contains(2023));
        assert!(!early.contains(2024));
    }
}

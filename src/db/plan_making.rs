//! How a plan was made (`domain::plan_making`): its 検討・決定体制 and the dated steps of its drafting,
//! stored in order and replaced as a whole, the old and new lists kept in the audit log.

use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::schema::{plan_governance_bodies, plan_milestones};
use crate::domain::ids::PlanId;
use crate::domain::limits::list_problem;
use crate::domain::plan_making::{GovernanceBody, Milestone, PlanMaking, check_milestones};
use crate::error::AppError;

/// The plan's bodies and milestones, in the order recorded. Two queries.
pub fn get(conn: &mut DbConnection, plan_id: PlanId) -> Result<PlanMaking, AppError> {
    super::plans::get(conn, plan_id)?;
    let governance = plan_governance_bodies::table
        .filter(plan_governance_bodies::plan_id.eq(plan_id.get()))
        .order((plan_governance_bodies::position, plan_governance_bodies::id))
        .select((
            plan_governance_bodies::name,
            plan_governance_bodies::role,
            plan_governance_bodies::source,
            plan_governance_bodies::reading_note,
        ))
        .load::<(String, String, Option<String>, Option<String>)>(conn)?
        .into_iter()
        .map(|(name, role, source, reading_note)| GovernanceBody { name, role, source, reading_note })
        .collect();
    type MilestoneRow = (String, String, bool, Option<String>, Option<String>, Option<String>);
    let milestones = plan_milestones::table
        .filter(plan_milestones::plan_id.eq(plan_id.get()))
        .order((plan_milestones::position, plan_milestones::id))
        .select((
            plan_milestones::what,
            plan_milestones::date,
            plan_milestones::planned,
            plan_milestones::body,
            plan_milestones::source,
            plan_milestones::reading_note,
        ))
        .load::<MilestoneRow>(conn)?
        .into_iter()
        .map(|(what, date, planned, body, source, reading_note)| Milestone {
            what,
            date,
            planned,
            body,
            source,
            reading_note,
        })
        .collect();
    Ok(PlanMaking { governance, milestones })
}

fn position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

/// Replaces the plan's bodies and milestones with `making` (checked first: a refused list
/// changes nothing); the audit log keeps the old and the new.
pub fn replace(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    making: &PlanMaking,
    reason: Option<&str>,
) -> Result<PlanMaking, AppError> {
    for (field, length) in [("governance", making.governance.len()), ("milestones", making.milestones.len())] {
        if let Some(problem) = list_problem(length) {
            return Err(AppError::invalid(field, problem));
        }
    }
    check_milestones("milestones", &making.milestones).map_err(AppError::Validation)?;
    let old = get(conn, plan_id)?;
    diesel::delete(plan_governance_bodies::table.filter(plan_governance_bodies::plan_id.eq(plan_id.get())))
        .execute(conn)?;
    diesel::delete(plan_milestones::table.filter(plan_milestones::plan_id.eq(plan_id.get()))).execute(conn)?;
    for (index, body) in making.governance.iter().enumerate() {
        diesel::insert_into(plan_governance_bodies::table)
            .values((
                plan_governance_bodies::plan_id.eq(plan_id.get()),
                plan_governance_bodies::position.eq(position(index)),
                plan_governance_bodies::name.eq(body.name.trim()),
                plan_governance_bodies::role.eq(&body.role),
                plan_governance_bodies::source.eq(&body.source),
                plan_governance_bodies::reading_note.eq(&body.reading_note),
            ))
            .execute(conn)?;
    }
    for (index, milestone) in making.milestones.iter().enumerate() {
        diesel::insert_into(plan_milestones::table)
            .values((
                plan_milestones::plan_id.eq(plan_id.get()),
                plan_milestones::position.eq(position(index)),
                plan_milestones::what.eq(milestone.what.trim()),
                plan_milestones::date.eq(&milestone.date),
                plan_milestones::planned.eq(milestone.planned),
                plan_milestones::body.eq(&milestone.body),
                plan_milestones::source.eq(&milestone.source),
                plan_milestones::reading_note.eq(&milestone.reading_note),
            ))
            .execute(conn)?;
    }
    let new = get(conn, plan_id)?;
    audit::record(
        conn,
        actor,
        Change::updated("plan", plan_id.get(), &old, &new).with_action("replace_making").with_reason(reason),
    )?;
    Ok(new)
}

//! Names of plans, measures and indicators over time (see [`crate::domain::name_history`]).
//! A rename appends a revision; the first rename also records the name the entity was created with.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor};
use super::schema::name_revisions;
use crate::domain::name_history::NameRevision;
use crate::error::AppError;

/// An entity whose names are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Named {
    Plan(i32),
    Measure(i32),
    Indicator(i32),
}

impl Named {
    fn parts(self) -> (&'static str, i32) {
        match self {
            Self::Plan(id) => ("plan", id),
            Self::Measure(id) => ("measure", id),
            Self::Indicator(id) => ("indicator", id),
        }
    }
}

/// A change of name to record.
pub struct Rename<'a> {
    pub entity: Named,
    /// When the entity was created: the first name is recorded as in force since then.
    pub created_at: NaiveDateTime,
    pub old_name: &'a str,
    pub new_name: &'a str,
    /// The fiscal year the new name takes effect; `None`: every year (a correction).
    pub effective_from_fiscal_year: Option<i32>,
    pub reason: Option<&'a str>,
}

/// Records a rename; a write that keeps the name records nothing.
pub fn record(conn: &mut DbConnection, actor: &Actor, rename: &Rename<'_>) -> Result<(), AppError> {
    if rename.old_name == rename.new_name {
        return Ok(());
    }
    let (entity_type, entity_id) = rename.entity.parts();
    let recorded: i64 = name_revisions::table
        .filter(name_revisions::entity_type.eq(entity_type).and(name_revisions::entity_id.eq(entity_id)))
        .count()
        .get_result(conn)?;
    if recorded == 0 {
        diesel::insert_into(name_revisions::table)
            .values((
                name_revisions::entity_type.eq(entity_type),
                name_revisions::entity_id.eq(entity_id),
                name_revisions::name.eq(rename.old_name),
                name_revisions::effective_from_fiscal_year.eq(None::<i32>),
                name_revisions::reason.eq(""),
                name_revisions::recorded_by.eq(None::<i32>),
                name_revisions::recorded_at.eq(rename.created_at),
            ))
            .execute(conn)?;
    }
    diesel::insert_into(name_revisions::table)
        .values((
            name_revisions::entity_type.eq(entity_type),
            name_revisions::entity_id.eq(entity_id),
            name_revisions::name.eq(rename.new_name),
            name_revisions::effective_from_fiscal_year.eq(rename.effective_from_fiscal_year),
            name_revisions::reason.eq(rename.reason.unwrap_or_default()),
            name_revisions::recorded_by.eq(actor.user_id),
            name_revisions::recorded_at.eq(audit::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The name revisions of plans, measures and indicators, in one query.
pub fn for_entities(
    conn: &mut DbConnection,
    plan_ids: &[i32],
    measure_ids: &[i32],
    indicator_ids: &[i32],
) -> Result<BTreeMap<Named, Vec<NameRevision>>, AppError> {
    type Row = (String, i32, String, Option<i32>, NaiveDateTime);
    let rows: Vec<Row> = name_revisions::table
        .filter(
            (name_revisions::entity_type.eq("plan").and(name_revisions::entity_id.eq_any(plan_ids)))
                .or(name_revisions::entity_type.eq("measure").and(name_revisions::entity_id.eq_any(measure_ids)))
                .or(name_revisions::entity_type.eq("indicator").and(name_revisions::entity_id.eq_any(indicator_ids))),
        )
        .select((
            name_revisions::entity_type,
            name_revisions::entity_id,
            name_revisions::name,
            name_revisions::effective_from_fiscal_year,
            name_revisions::recorded_at,
        ))
        .order(name_revisions::id)
        .load(conn)?;
    let mut revisions: BTreeMap<Named, Vec<NameRevision>> = BTreeMap::new();
    for (entity_type, entity_id, name, effective_from_fiscal_year, recorded_at) in rows {
        let entity = match entity_type.as_str() {
            "plan" => Named::Plan(entity_id),
            "measure" => Named::Measure(entity_id),
            _ => Named::Indicator(entity_id),
        };
        revisions.entry(entity).or_default().push(NameRevision { name, effective_from_fiscal_year, recorded_at });
    }
    Ok(revisions)
}

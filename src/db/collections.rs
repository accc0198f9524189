//! Collection windows: hq opens a fiscal year for actuals, optionally with a deadline.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::plans;
use super::schema::collection_windows;
use crate::domain::ids::PlanId;
use crate::domain::plan::label;
use crate::error::AppError;

use crate::domain::collection::Collection;

#[derive(Queryable, Selectable)]
#[diesel(table_name = collection_windows)]
struct Row {
    id: i32,
    plan_id: i32,
    fiscal_year: i32,
    deadline: Option<NaiveDate>,
    opened_by: Option<i32>,
    opened_at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
}

impl From<Row> for Collection {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            plan_id: row.plan_id,
            fiscal_year: row.fiscal_year,
            fiscal_year_label: label(row.fiscal_year),
            deadline: row.deadline,
            opened_by: row.opened_by,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
        }
    }
}

pub fn list(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<Collection>, AppError> {
    let rows: Vec<Row> = collection_windows::table
        .filter(collection_windows::plan_id.eq(plan_id))
        .select(Row::as_select())
        .order(collection_windows::fiscal_year)
        .load(conn)?;
    Ok(rows.into_iter().map(Collection::from).collect())
}

/// One page of a plan's collection windows by fiscal year, and how many it has.
pub fn page(
    conn: &mut DbConnection,
    plan_id: PlanId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Collection>, i64), AppError> {
    let total = collection_windows::table.filter(collection_windows::plan_id.eq(plan_id)).count().get_result(conn)?;
    let rows: Vec<Row> = collection_windows::table
        .filter(collection_windows::plan_id.eq(plan_id))
        .select(Row::as_select())
        .order(collection_windows::fiscal_year)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows.into_iter().map(Collection::from).collect(), total))
}

pub fn find(conn: &mut DbConnection, plan_id: PlanId, fiscal_year: i32) -> Result<Option<Collection>, AppError> {
    let row: Option<Row> = collection_windows::table
        .filter(collection_windows::plan_id.eq(plan_id).and(collection_windows::fiscal_year.eq(fiscal_year)))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Collection::from))
}

/// Opens collection for a fiscal year of the plan.
pub fn open(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    fiscal_year: i32,
    deadline: Option<NaiveDate>,
) -> Result<Collection, AppError> {
    plans::get(conn, plan_id)?.check_year("fiscal_year", fiscal_year)?;
    if find(conn, plan_id, fiscal_year)?.is_some() {
        return Err(AppError::Conflict(format!("collection for {} is already open", label(fiscal_year))));
    }
    let id: i32 = diesel::insert_into(collection_windows::table)
        .values((
            collection_windows::plan_id.eq(plan_id),
            collection_windows::fiscal_year.eq(fiscal_year),
            collection_windows::deadline.eq(deadline),
            collection_windows::opened_by.eq(actor.user_id),
            collection_windows::opened_at.eq(audit::now()),
        ))
        .returning(collection_windows::id)
        .get_result(conn)?;
    let opened = find(conn, plan_id, fiscal_year)?.ok_or_else(|| AppError::not_found("collection", id))?;
    audit::record(conn, actor, Change::created("collection", id, &opened).with_action("open_collection"))?;
    Ok(opened)
}

/// Moves the deadline or closes the collection.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    fiscal_year: i32,
    deadline: Option<Option<NaiveDate>>,
    closed: Option<bool>,
) -> Result<Collection, AppError> {
    let old = find(conn, plan_id, fiscal_year)?
        .ok_or_else(|| AppError::not_found("collection", format!("{plan_id}/{fiscal_year}")))?;
    let closed_at = match closed {
        Some(true) => old.closed_at.or(Some(audit::now())),
        Some(false) => None,
        None => old.closed_at,
    };
    diesel::update(collection_windows::table.find(old.id))
        .set((
            collection_windows::deadline.eq(deadline.unwrap_or(old.deadline)),
            collection_windows::closed_at.eq(closed_at),
        ))
        .execute(conn)?;
    let new = find(conn, plan_id, fiscal_year)?.ok_or_else(|| AppError::not_found("collection", old.id))?;
    audit::record(conn, actor, Change::updated("collection", old.id, &old, &new))?;
    Ok(new)
}

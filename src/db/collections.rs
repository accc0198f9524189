//! Collection windows: hq opens a fiscal year for actuals, optionally with a deadline.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::plans;
use super::schema::collection_windows;
use crate::domain::collection::Collection;
use crate::domain::current_cycle::PlanActivity;
use crate::domain::ids::PlanId;
use crate::domain::plan::{PlanStatus, label, to_text};
use crate::error::AppError;

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
        let year = label(fiscal_year);
        return Err(AppError::Conflict(format!(
            "{year}の受付は既に開始されています (collection for {year} is already open)"
        )));
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

/// What each of a municipality's plans says about where the yearly cycle stands: its period,
/// its open collection windows and the latest year with actuals. Three queries, whatever the size.
pub fn plan_activity(conn: &mut DbConnection, municipality_id: i32) -> Result<Vec<PlanActivity>, AppError> {
    use super::schema::{actuals, indicators, measures, plans as plan_table};
    let plans: Vec<(i32, String, i32, i32)> = plan_table::table
        .filter(plan_table::municipality_id.eq(municipality_id))
        .select((plan_table::id, plan_table::status, plan_table::start_fiscal_year, plan_table::end_fiscal_year))
        .order(plan_table::id)
        .load(conn)?;
    let open: Vec<(i32, i32, NaiveDateTime)> = collection_windows::table
        .inner_join(plan_table::table)
        .filter(plan_table::municipality_id.eq(municipality_id))
        .filter(collection_windows::closed_at.is_null())
        .select((collection_windows::plan_id, collection_windows::fiscal_year, collection_windows::opened_at))
        .load(conn)?;
    let with_actuals: Vec<(i32, Option<i32>)> = actuals::table
        .inner_join(indicators::table.inner_join(measures::table.inner_join(plan_table::table)))
        .filter(plan_table::municipality_id.eq(municipality_id))
        .group_by(measures::plan_id)
        .select((measures::plan_id, diesel::dsl::max(actuals::fiscal_year)))
        .load(conn)?;
    let active = to_text(&PlanStatus::Active);
    Ok(plans
        .into_iter()
        .map(|(plan_id, status, start_fiscal_year, end_fiscal_year)| PlanActivity {
            plan_id,
            active: status == active,
            start_fiscal_year,
            end_fiscal_year,
            open_collections: open.iter().filter(|o| o.0 == plan_id).map(|o| (o.1, o.2)).collect(),
            latest_year_with_actuals: with_actuals.iter().find(|a| a.0 == plan_id).and_then(|a| a.1),
        })
        .collect())
}

//! Yearly actuals (実績): the current state per indicator and year, and every version of it.
//!
//! `actuals` holds the latest version; `actual_events` holds every version (submission,
//! correction, approval, return, reopening) with who and when, so history and `as_of`
//! evaluations never depend on overwritten rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::schema::{actual_events, actuals, indicators, measures, users};
use super::{DbConnection, decimal_to_text, enum_from_column, optional_decimal};
use crate::domain::ids::{IndicatorId, PlanId};
use crate::domain::plan::label;
use crate::domain::plan::{ActualStatus, to_text};
use crate::domain::submission::ActualEventKind;
use crate::error::AppError;

pub mod bulk;

use crate::domain::actual::{Actual, ActualEvent, Reported};

#[derive(Queryable, Selectable)]
#[diesel(table_name = actuals)]
struct ActualRow {
    id: i32,
    indicator_id: i32,
    fiscal_year: i32,
    value: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    stage: Option<i32>,
    note: String,
    status: String,
    is_sample: bool,
    version: i32,
    submitted_by: Option<i32>,
    submitted_at: NaiveDateTime,
    reviewed_by: Option<i32>,
    reviewed_at: Option<NaiveDateTime>,
    review_comment: Option<String>,
}

fn reported(
    value: Option<&str>,
    numerator: Option<&str>,
    denominator: Option<&str>,
    stage: Option<i32>,
) -> Result<Reported, AppError> {
    Ok(Reported {
        value: optional_decimal(value)?,
        numerator: optional_decimal(numerator)?,
        denominator: optional_decimal(denominator)?,
        stage,
    })
}

fn actual_from_row(row: ActualRow, stages: &[String]) -> Result<Actual, AppError> {
    let reported = reported(row.value.as_deref(), row.numerator.as_deref(), row.denominator.as_deref(), row.stage)?;
    Ok(Actual {
        id: row.id,
        indicator_id: row.indicator_id,
        fiscal_year: row.fiscal_year,
        fiscal_year_label: label(row.fiscal_year),
        rate: reported.rate(),
        stage_name: row.stage.and_then(|s| usize::try_from(s).ok()).and_then(|s| stages.get(s).cloned()),
        reported,
        note: row.note,
        status: enum_from_column(&row.status)?,
        is_sample: row.is_sample,
        version: row.version,
        submitted_by: row.submitted_by,
        submitted_at: row.submitted_at,
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at,
        review_comment: row.review_comment,
    })
}

pub fn count_for_indicator(conn: &mut DbConnection, indicator_id: IndicatorId) -> Result<i64, AppError> {
    Ok(actuals::table.filter(actuals::indicator_id.eq(indicator_id)).count().get_result(conn)?)
}

pub fn find(
    conn: &mut DbConnection,
    indicator_id: IndicatorId,
    fiscal_year: i32,
    stages: &[String],
) -> Result<Option<Actual>, AppError> {
    actuals::table
        .filter(actuals::indicator_id.eq(indicator_id).and(actuals::fiscal_year.eq(fiscal_year)))
        .select(ActualRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| actual_from_row(row, stages))
        .transpose()
}

pub fn list_for_indicator(
    conn: &mut DbConnection,
    indicator_id: i32,
    stages: &[String],
) -> Result<Vec<Actual>, AppError> {
    let rows = actuals::table
        .filter(actuals::indicator_id.eq(indicator_id))
        .select(ActualRow::as_select())
        .order(actuals::fiscal_year)
        .load(conn)?;
    rows.into_iter().map(|row| actual_from_row(row, stages)).collect()
}

/// One page of an indicator's actuals by fiscal year, and how many it has.
pub fn page_for_indicator(
    conn: &mut DbConnection,
    indicator_id: IndicatorId,
    stages: &[String],
    limit: i64,
    offset: i64,
) -> Result<(Vec<Actual>, i64), AppError> {
    let total = count_for_indicator(conn, indicator_id)?;
    let rows = actuals::table
        .filter(actuals::indicator_id.eq(indicator_id))
        .select(ActualRow::as_select())
        .order(actuals::fiscal_year)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let items = rows.into_iter().map(|row| actual_from_row(row, stages)).collect::<Result<_, _>>()?;
    Ok((items, total))
}

type EventRow = (
    i32,
    i32,
    i32,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i32>,
    String,
    String,
    bool,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<i32>,
    NaiveDateTime,
);

/// An event together with the indicator and year it belongs to, for bulk reads.
pub struct IndicatorEvent {
    pub indicator_id: i32,
    pub fiscal_year: i32,
    pub event: ActualEvent,
}

/// The columns [`event_from_row`] reads, for every query of events.
macro_rules! event_columns {
    () => {
        (
            actuals::indicator_id,
            actuals::fiscal_year,
            actual_events::version,
            actual_events::event,
            actual_events::value,
            actual_events::numerator,
            actual_events::denominator,
            actual_events::stage,
            actual_events::note,
            actual_events::status,
            actual_events::is_sample,
            actual_events::comment,
            actual_events::actor_id,
            users::username.nullable(),
            actual_events::actor_department_id,
            actual_events::recorded_at,
        )
    };
}

/// The events (with their actors' names) that pass the filters, by indicator, year and version.
macro_rules! load_events {
    ($conn:expr, $($filter:expr),+) => {{
        let rows: Vec<EventRow> = actual_events::table
            .inner_join(actuals::table)
            .left_join(users::table.on(users::id.nullable().eq(actual_events::actor_id)))
            $(.filter($filter))+
            .select(event_columns!())
            .order((actuals::indicator_id, actuals::fiscal_year, actual_events::version))
            .load($conn)?;
        rows.into_iter().map(event_from_row).collect()
    }};
}

/// Every version of every actual of these indicators, oldest first, in one query.
pub fn events_for(conn: &mut DbConnection, indicator_ids: &[i32]) -> Result<Vec<IndicatorEvent>, AppError> {
    load_events!(conn, actuals::indicator_id.eq_any(indicator_ids))
}

/// [`events_for`] limited to one fiscal year, in one query: the national comparison of many
/// municipalities' indicators.
pub fn events_in_year(
    conn: &mut DbConnection,
    indicator_ids: &[i32],
    fiscal_year: i32,
) -> Result<Vec<IndicatorEvent>, AppError> {
    load_events!(conn, actuals::indicator_id.eq_any(indicator_ids), actuals::fiscal_year.eq(fiscal_year))
}

/// The indicators of a plan's measures, as a subquery.
macro_rules! indicators_of_plan {
    ($plan_id:expr) => {
        indicators::table.inner_join(measures::table).filter(measures::plan_id.eq($plan_id)).select(indicators::id)
    };
}

/// [`events_for`] the indicators of a plan's measures. Named by a subquery, not by their ids: the
/// statement's text is then the same for every plan, so SQLite prepares it once per connection
/// (diesel prepares a list of ids afresh every time on SQLite).
pub fn events_of_plan(conn: &mut DbConnection, plan_id: PlanId) -> Result<Vec<IndicatorEvent>, AppError> {
    load_events!(conn, actuals::indicator_id.eq_any(indicators_of_plan!(plan_id)))
}

/// [`events_of_plan`] limited to one fiscal year: an evaluation of that year.
pub fn events_of_plan_in_year(
    conn: &mut DbConnection,
    plan_id: PlanId,
    fiscal_year: i32,
) -> Result<Vec<IndicatorEvent>, AppError> {
    load_events!(conn, actuals::indicator_id.eq_any(indicators_of_plan!(plan_id)), actuals::fiscal_year.eq(fiscal_year))
}

fn event_from_row(
    (
        indicator_id,
        fiscal_year,
        version,
        event,
        value,
        numerator,
        denominator,
        stage,
        note,
        status,
        is_sample,
        comment,
        actor_id,
        actor_username,
        actor_department_id,
        recorded_at,
    ): EventRow,
) -> Result<IndicatorEvent, AppError> {
    Ok(IndicatorEvent {
        indicator_id,
        fiscal_year,
        event: ActualEvent {
            version,
            event: enum_from_column(&event)?,
            reported: reported(value.as_deref(), numerator.as_deref(), denominator.as_deref(), stage)?,
            note,
            status: enum_from_column(&status)?,
            is_sample,
            comment,
            actor_id,
            actor_username,
            actor_department_id,
            recorded_at,
        },
    })
}

/// One page of the versions of one actual, oldest first, and how many there are.
pub fn history_page(
    conn: &mut DbConnection,
    indicator_id: IndicatorId,
    fiscal_year: i32,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ActualEvent>, i64), AppError> {
    let of_this_actual = actuals::indicator_id.eq(indicator_id).and(actuals::fiscal_year.eq(fiscal_year));
    let total = actual_events::table.inner_join(actuals::table).filter(of_this_actual).count().get_result(conn)?;
    let rows: Vec<EventRow> = actual_events::table
        .inner_join(actuals::table)
        .left_join(users::table.on(users::id.nullable().eq(actual_events::actor_id)))
        .filter(of_this_actual)
        .select(event_columns!())
        .order(actual_events::version)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let events = rows.into_iter().map(|row| event_from_row(row).map(|e| e.event)).collect::<Result<_, _>>()?;
    Ok((events, total))
}

/// The figures and state one version writes, to `actuals` (the current state) and to
/// `actual_events` (the history): the same columns in both tables.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = actuals, treat_none_as_null = true)]
struct StateColumns<'a> {
    value: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    stage: Option<i32>,
    note: &'a str,
    status: String,
    is_sample: bool,
}

#[derive(Insertable)]
#[diesel(table_name = actual_events)]
struct EventStateColumns<'a> {
    value: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    stage: Option<i32>,
    note: &'a str,
    status: String,
    is_sample: bool,
}

/// A new version to store.
pub struct NewVersion<'a> {
    pub event: ActualEventKind,
    pub reported: &'a Reported,
    pub note: &'a str,
    pub status: ActualStatus,
    pub is_sample: bool,
    pub comment: Option<&'a str>,
    pub actor_department_id: Option<i32>,
}

impl<'a> NewVersion<'a> {
    fn state(&self) -> StateColumns<'a> {
        StateColumns {
            value: self.reported.value.map(decimal_to_text),
            numerator: self.reported.numerator.map(decimal_to_text),
            denominator: self.reported.denominator.map(decimal_to_text),
            stage: self.reported.stage,
            note: self.note,
            status: to_text(&self.status),
            is_sample: self.is_sample,
        }
    }

    fn event_state(&self) -> EventStateColumns<'a> {
        let StateColumns { value, numerator, denominator, stage, note, status, is_sample } = self.state();
        EventStateColumns { value, numerator, denominator, stage, note, status, is_sample }
    }
}

fn insert_event(
    conn: &mut DbConnection,
    actor: &Actor,
    actual_id: i32,
    version: i32,
    new: &NewVersion<'_>,
) -> Result<(), AppError> {
    diesel::insert_into(actual_events::table)
        .values((
            actual_events::actual_id.eq(actual_id),
            actual_events::version.eq(version),
            actual_events::event.eq(new.event.as_str()),
            new.event_state(),
            actual_events::comment.eq(new.comment),
            actual_events::actor_id.eq(actor.user_id),
            actual_events::actor_department_id.eq(new.actor_department_id),
            actual_events::recorded_at.eq(audit::now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a first submission (version 1).
pub fn insert(
    conn: &mut DbConnection,
    actor: &Actor,
    indicator_id: i32,
    fiscal_year: i32,
    new: &NewVersion<'_>,
) -> Result<i32, AppError> {
    let now = audit::now();
    let id: i32 = diesel::insert_into(actuals::table)
        .values((
            actuals::indicator_id.eq(indicator_id),
            actuals::fiscal_year.eq(fiscal_year),
            new.state(),
            actuals::version.eq(1),
            actuals::submitted_by.eq(actor.user_id),
            actuals::submitted_at.eq(now),
        ))
        .returning(actuals::id)
        .get_result(conn)?;
    insert_event(conn, actor, id, 1, new)?;
    audit::record(
        conn,
        actor,
        Change::created(
            "actual",
            id,
            &serde_json::json!({
                "indicator_id": indicator_id, "fiscal_year": fiscal_year, "reported": new.reported, "note": new.note,
                "status": new.status, "is_sample": new.is_sample,
            }),
        )
        .with_action(new.event.as_str()),
    )?;
    Ok(id)
}

/// Stores the next version of `current`. The row changes only if it is still at the version that
/// was read, so two concurrent writers cannot both succeed: the second gets 412.
pub fn update(conn: &mut DbConnection, actor: &Actor, current: &Actual, new: &NewVersion<'_>) -> Result<(), AppError> {
    let version = current.version + 1;
    let now = audit::now();
    let reviewing = matches!(new.status, ActualStatus::Approved | ActualStatus::Returned);
    let changed =
        diesel::update(actuals::table.filter(actuals::id.eq(current.id).and(actuals::version.eq(current.version))))
            .set((
                actuals::value.eq(new.reported.value.map(decimal_to_text)),
                actuals::numerator.eq(new.reported.numerator.map(decimal_to_text)),
                actuals::denominator.eq(new.reported.denominator.map(decimal_to_text)),
                actuals::stage.eq(new.reported.stage),
                actuals::note.eq(new.note),
                actuals::status.eq(to_text(&new.status)),
                actuals::is_sample.eq(new.is_sample),
                actuals::version.eq(version),
            ))
            .execute(conn)?;
    if changed == 0 {
        return Err(AppError::PreconditionFailed(format!(
            "the actual was changed by someone else; it is no longer version {}",
            current.version
        )));
    }
    if reviewing {
        diesel::update(actuals::table.find(current.id))
            .set((
                actuals::reviewed_by.eq(actor.user_id),
                actuals::reviewed_at.eq(Some(now)),
                actuals::review_comment.eq(new.comment),
            ))
            .execute(conn)?;
    } else {
        diesel::update(actuals::table.find(current.id))
            .set((actuals::submitted_by.eq(actor.user_id), actuals::submitted_at.eq(now)))
            .execute(conn)?;
    }
    insert_event(conn, actor, current.id, version, new)?;
    audit::record(
        conn,
        actor,
        Change::updated(
            "actual",
            current.id,
            &serde_json::json!({"reported": current.reported, "note": current.note, "status": current.status, "version": current.version}),
            &serde_json::json!({"reported": new.reported, "note": new.note, "status": new.status, "version": version}),
        )
        .with_action(new.event.as_str())
        .with_reason(new.comment),
    )?;
    Ok(())
}

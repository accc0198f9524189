//! Many actuals in a few statements, for bulk imports: the current state of a plan's actuals in
//! one query, first submissions and their history in batches, and next versions each guarded by
//! the version that was read, so that a concurrent change makes the import fail instead of being
//! overwritten.
//!
//! Batches go through [`crate::db::batch`].

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use crate::db::batch::WRITE_BATCH_ROWS;
use crate::db::batch::{IdTable, insert_many, reserve_ids};

use super::{Actual, ActualRow, NewVersion, actual_from_row};
use crate::db::audit::{self, Actor, Change};
use crate::db::schema::{actual_events, actuals, indicators, measures};
use crate::db::{DbConnection, decimal_to_text};
use crate::domain::plan::to_text;
use crate::error::AppError;

/// A first submission (version 1) of an indicator and year.
pub struct NewActual<'a> {
    pub indicator_id: i32,
    pub fiscal_year: i32,
    pub version: NewVersion<'a>,
}

/// The next version of an actual, written only if it is still at the version read.
pub struct NextVersion<'a> {
    pub current: &'a Actual,
    pub version: NewVersion<'a>,
}

#[derive(Insertable)]
#[diesel(table_name = actuals, treat_none_as_default_value = false)]
struct ActualInsert<'a> {
    id: i32,
    indicator_id: i32,
    fiscal_year: i32,
    value: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    stage: Option<i32>,
    note: &'a str,
    status: String,
    is_sample: bool,
    version: i32,
    submitted_by: Option<i32>,
    submitted_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = actual_events, treat_none_as_default_value = false)]
struct EventInsert<'a> {
    actual_id: i32,
    version: i32,
    event: &'a str,
    value: Option<String>,
    numerator: Option<String>,
    denominator: Option<String>,
    stage: Option<i32>,
    note: &'a str,
    status: String,
    is_sample: bool,
    comment: Option<&'a str>,
    actor_id: Option<i32>,
    actor_department_id: Option<i32>,
    recorded_at: NaiveDateTime,
}

fn event_row<'a>(
    actor: &Actor,
    actual_id: i32,
    version: i32,
    new: &NewVersion<'a>,
    now: NaiveDateTime,
) -> EventInsert<'a> {
    EventInsert {
        actual_id,
        version,
        event: new.event.as_str(),
        value: new.reported.value.map(decimal_to_text),
        numerator: new.reported.numerator.map(decimal_to_text),
        denominator: new.reported.denominator.map(decimal_to_text),
        stage: new.reported.stage,
        note: new.note,
        status: to_text(&new.status),
        is_sample: new.is_sample,
        comment: new.comment,
        actor_id: actor.user_id,
        actor_department_id: new.actor_department_id,
        recorded_at: now,
    }
}

fn insert_events(conn: &mut DbConnection, events: &[EventInsert<'_>]) -> Result<(), AppError> {
    for chunk in events.chunks(WRITE_BATCH_ROWS) {
        insert_many!(&mut *conn, actual_events::table, chunk)?;
    }
    Ok(())
}

/// The current actuals of a plan's indicators in these years, by (indicator, year), in one query
/// (joined on the plan, so no list of ids is sent). `stages` names the stages per indicator.
pub fn for_plan_years(
    conn: &mut DbConnection,
    plan_id: i32,
    years: &[i32],
    stages: &BTreeMap<i32, Vec<String>>,
) -> Result<BTreeMap<(i32, i32), Actual>, AppError> {
    let rows: Vec<ActualRow> = actuals::table
        .inner_join(indicators::table.inner_join(measures::table))
        .filter(measures::plan_id.eq(plan_id).and(actuals::fiscal_year.eq_any(years)))
        .select(ActualRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let stage_names = stages.get(&row.indicator_id).map(Vec::as_slice).unwrap_or_default();
            actual_from_row(row, stage_names).map(|actual| ((actual.indicator_id, actual.fiscal_year), actual))
        })
        .collect()
}

/// Stores first submissions with their history and audit entries, [`WRITE_BATCH_ROWS`] a statement.
pub fn insert_all(conn: &mut DbConnection, actor: &Actor, new: &[NewActual<'_>]) -> Result<(), AppError> {
    let now = audit::now();
    let mut ids: BTreeMap<(i32, i32), i32> = BTreeMap::new();
    for chunk in new.chunks(WRITE_BATCH_ROWS) {
        let rows: Vec<ActualInsert<'_>> = chunk
            .iter()
            .zip(reserve_ids(conn, IdTable::Actuals, chunk.len())?)
            .map(|(n, id)| ActualInsert {
                id,
                indicator_id: n.indicator_id,
                fiscal_year: n.fiscal_year,
                value: n.version.reported.value.map(decimal_to_text),
                numerator: n.version.reported.numerator.map(decimal_to_text),
                denominator: n.version.reported.denominator.map(decimal_to_text),
                stage: n.version.reported.stage,
                note: n.version.note,
                status: to_text(&n.version.status),
                is_sample: n.version.is_sample,
                version: 1,
                submitted_by: actor.user_id,
                submitted_at: now,
            })
            .collect();
        insert_many!(&mut *conn, actuals::table, &rows)?;
        ids.extend(rows.iter().map(|row| ((row.indicator_id, row.fiscal_year), row.id)));
    }
    let id_of = |n: &NewActual<'_>| {
        ids.get(&(n.indicator_id, n.fiscal_year))
            .copied()
            .ok_or_else(|| AppError::Internal("an actual just inserted is missing".into()))
    };
    // History and audit rows are built a batch at a time: 100 000 audit entries at once would
    // hold their JSON in memory together.
    for chunk in new.chunks(WRITE_BATCH_ROWS) {
        let events = chunk
            .iter()
            .map(|n| Ok(event_row(actor, id_of(n)?, 1, &n.version, now)))
            .collect::<Result<Vec<_>, AppError>>()?;
        insert_events(conn, &events)?;
        let changes = chunk
            .iter()
            .map(|n| {
                let new = &n.version;
                Ok(Change::created(
                    "actual",
                    id_of(n)?,
                    &serde_json::json!({
                        "indicator_id": n.indicator_id, "fiscal_year": n.fiscal_year, "reported": new.reported,
                        "note": new.note, "status": new.status, "is_sample": new.is_sample,
                    }),
                )
                .with_action(new.event.as_str()))
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        audit::record_many(conn, actor, &changes)?;
    }
    Ok(())
}

/// Stores next versions (submissions and corrections, not reviews) with their history and audit
/// entries. Fails with 412, changing nothing once the caller rolls back, if any actual is no
/// longer at the version read.
pub fn update_all(conn: &mut DbConnection, actor: &Actor, next: &[NextVersion<'_>]) -> Result<(), AppError> {
    if next.is_empty() {
        return Ok(());
    }
    let now = audit::now();
    let updated = staged::update_actuals(conn, actor, next, now)?;
    if let Some(NextVersion { current, .. }) = next.iter().find(|n| !updated.contains(&n.current.id)) {
        return Err(AppError::PreconditionFailed(format!(
            "the actual of indicator {} for {} was changed by someone else; it is no longer version {}",
            current.indicator_id,
            super::label(current.fiscal_year),
            current.version
        )));
    }
    for chunk in next.chunks(WRITE_BATCH_ROWS) {
        let events: Vec<EventInsert<'_>> =
            chunk.iter().map(|n| event_row(actor, n.current.id, n.current.version + 1, &n.version, now)).collect();
        insert_events(conn, &events)?;
        let changes: Vec<Change<'_>> = chunk
            .iter()
            .map(|NextVersion { current, version: new }| {
                Change::updated(
                    "actual",
                    current.id,
                    &serde_json::json!({"reported": current.reported, "note": current.note, "status": current.status, "version": current.version}),
                    &serde_json::json!({"reported": new.reported, "note": new.note, "status": new.status, "version": current.version + 1}),
                )
                .with_action(new.event.as_str())
                .with_reason(new.comment)
            })
            .collect();
        audit::record_many(conn, actor, &changes)?;
    }
    Ok(())
}

/// Next versions written in one `UPDATE … FROM` instead of one statement per actual (100,000
/// round trips to PostgreSQL took half a minute): the rows are staged in a temporary table,
/// created and dropped inside the write's transaction, so that a failed write leaves none behind
/// on either backend.
mod staged {
    use std::collections::HashSet;

    use chrono::NaiveDateTime;
    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    use super::{NextVersion, WRITE_BATCH_ROWS, insert_many};
    use crate::db::audit::Actor;
    use crate::db::{DbConnection, decimal_to_text};
    use crate::domain::plan::to_text;
    use crate::error::AppError;

    diesel::table! {
        staged_actuals (id) {
            id -> Integer,
            expected_version -> Integer,
            value -> Nullable<Text>,
            numerator -> Nullable<Text>,
            denominator -> Nullable<Text>,
            stage -> Nullable<Integer>,
            note -> Text,
            status -> Text,
            is_sample -> Bool,
            submitted_by -> Nullable<Integer>,
            submitted_at -> Timestamp,
        }
    }

    /// The same SQL on both backends (SQLite has `UPDATE … FROM` and `RETURNING` since 3.35).
    const CREATE: &str = "CREATE TEMPORARY TABLE staged_actuals (id INTEGER PRIMARY KEY, \
        expected_version INTEGER NOT NULL, value TEXT, numerator TEXT, denominator TEXT, stage INTEGER, \
        note TEXT NOT NULL, status TEXT NOT NULL, is_sample BOOLEAN NOT NULL, submitted_by INTEGER, \
        submitted_at TIMESTAMP NOT NULL)";
    const UPDATE: &str = "UPDATE actuals SET value = s.value, numerator = s.numerator, \
        denominator = s.denominator, stage = s.stage, note = s.note, status = s.status, is_sample = s.is_sample, \
        version = s.expected_version + 1, submitted_by = s.submitted_by, submitted_at = s.submitted_at \
        FROM staged_actuals AS s WHERE actuals.id = s.id AND actuals.version = s.expected_version \
        RETURNING actuals.id";
    const DROP: &str = "DROP TABLE staged_actuals";

    #[derive(Insertable)]
    #[diesel(table_name = staged_actuals, treat_none_as_default_value = false)]
    struct StagedInsert<'a> {
        id: i32,
        expected_version: i32,
        value: Option<String>,
        numerator: Option<String>,
        denominator: Option<String>,
        stage: Option<i32>,
        note: &'a str,
        status: String,
        is_sample: bool,
        submitted_by: Option<i32>,
        submitted_at: NaiveDateTime,
    }

    #[derive(QueryableByName)]
    struct UpdatedId {
        #[diesel(sql_type = Integer)]
        id: i32,
    }

    /// Writes every next version whose actual is still at the version read; returns the ids of
    /// the actuals written.
    pub(super) fn update_actuals(
        conn: &mut DbConnection,
        actor: &Actor,
        next: &[NextVersion<'_>],
        now: NaiveDateTime,
    ) -> Result<HashSet<i32>, AppError> {
        diesel::sql_query(CREATE).execute(conn)?;
        for chunk in next.chunks(WRITE_BATCH_ROWS) {
            let rows: Vec<StagedInsert<'_>> = chunk
                .iter()
                .map(|NextVersion { current, version: new }| StagedInsert {
                    id: current.id,
                    expected_version: current.version,
                    value: new.reported.value.map(decimal_to_text),
                    numerator: new.reported.numerator.map(decimal_to_text),
                    denominator: new.reported.denominator.map(decimal_to_text),
                    stage: new.reported.stage,
                    note: new.note,
                    status: to_text(&new.status),
                    is_sample: new.is_sample,
                    submitted_by: actor.user_id,
                    submitted_at: now,
                })
                .collect();
            insert_many!(&mut *conn, staged_actuals::table, &rows)?;
        }
        let updated: Vec<UpdatedId> = diesel::sql_query(UPDATE).load(conn)?;
        diesel::sql_query(DROP).execute(conn)?;
        Ok(updated.into_iter().map(|row| row.id).collect())
    }
}

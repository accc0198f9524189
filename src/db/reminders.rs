//! What reminders are planned from (`domain::reminder::Facts`), and `sent_messages`, the log that
//! makes each message go once: a message is claimed by inserting its idempotency key (UNIQUE)
//! before it is sent.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::DbConnection;
use super::schema::{
    actual_events, actuals, collection_windows, departments, indicators, measure_evaluation_events,
    measure_evaluations, measure_owners, measures, plans, sent_messages, users,
};
use crate::domain::collection::{japan_date, japan_midnight_utc};
use crate::domain::ids::PlanId;
use crate::domain::plan::label;
use crate::domain::reminder::{
    self, DepartmentOutstanding, Facts, Message, OpenCollection, OutstandingItem, Recipient, ReturnedActual, Submission,
};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::evaluation::plan::{self as plan_evaluation, SubmissionState};

/// Everything a pass on `today` (a day in Japan) plans from; `now` is the evaluation's clock.
pub fn facts(
    conn: &mut DbConnection,
    today: NaiveDate,
    days_before: u32,
    now: NaiveDateTime,
) -> Result<Facts, AppError> {
    Ok(Facts {
        recipients: recipients(conn)?,
        collections: open_collections(conn, today, days_before, now)?,
        returned: returned_actuals(conn, today)?,
        submissions: submissions_on(conn, today - TimeDelta::days(1))?,
    })
}

/// id, municipality, display name, address, role, department.
type RecipientRow = (i32, Option<i32>, String, Option<String>, String, Option<i32>);

/// Active department and hq accounts with an address.
fn recipients(conn: &mut DbConnection) -> Result<Vec<Recipient>, AppError> {
    let rows: Vec<RecipientRow> = users::table
        .filter(users::active.eq(true))
        .filter(users::email.is_not_null())
        .filter(users::role.eq_any([Role::Department.as_str(), Role::Hq.as_str()]))
        .select((
            users::id,
            users::municipality_id,
            users::display_name,
            users::email,
            users::role,
            users::department_id,
        ))
        .order(users::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, municipality_id, display_name, email, role, department_id)| {
            let department_id = if role == Role::Department.as_str() { Some(department_id?) } else { None };
            Some(Recipient { user_id, municipality_id: municipality_id?, display_name, email: email?, department_id })
        })
        .collect())
}

/// Open collections whose deadline is close to `today`, with what each department still owes:
/// the collection status's own judgement (missing or returned), actuals and 施策評価 alike.
fn open_collections(
    conn: &mut DbConnection,
    today: NaiveDate,
    days_before: u32,
    now: NaiveDateTime,
) -> Result<Vec<OpenCollection>, AppError> {
    let rows: Vec<(i32, i32, i32, Option<NaiveDate>, i32, String)> = collection_windows::table
        .inner_join(plans::table.on(plans::id.eq(collection_windows::plan_id)))
        .filter(collection_windows::closed_at.is_null())
        .filter(collection_windows::deadline.is_not_null())
        .select((
            collection_windows::id,
            collection_windows::plan_id,
            collection_windows::fiscal_year,
            collection_windows::deadline,
            plans::municipality_id,
            plans::name,
        ))
        .order(collection_windows::id)
        .load(conn)?;
    let mut found = Vec::new();
    for (collection_id, plan_id, fiscal_year, deadline, municipality_id, plan_name) in rows {
        let Some(deadline) = deadline.filter(|d| reminder::collection_in_reach(*d, today, days_before)) else {
            continue;
        };
        let evaluation = plan_evaluation::evaluate_plan_at(conn, PlanId::new(plan_id), fiscal_year, None, now)?;
        let mut by_department: BTreeMap<i32, DepartmentOutstanding> = BTreeMap::new();
        let mut owe = |department_id: i32, department_name: &str, item: OutstandingItem| {
            by_department
                .entry(department_id)
                .or_insert_with(|| DepartmentOutstanding {
                    department_id,
                    department_name: department_name.to_owned(),
                    items: Vec::new(),
                })
                .items
                .push(item);
        };
        for indicator in &evaluation.indicators {
            let Some(returned) = outstanding(indicator.submission) else { continue };
            let label = indicator_label(indicator.measure_number, indicator.number, &indicator.name);
            for (id, name) in indicator.department_ids.iter().zip(&indicator.department_names) {
                owe(*id, name, OutstandingItem { label: label.clone(), returned });
            }
        }
        for measure in &evaluation.measures {
            for department in &measure.measure_evaluation.departments {
                let Some(returned) = outstanding(department.submission) else { continue };
                let label = format!("施策{} {} の施策評価", measure.number, measure.name);
                owe(department.department_id, &department.department_name, OutstandingItem { label, returned });
            }
        }
        found.push(OpenCollection {
            collection_id,
            municipality_id,
            plan_name,
            fiscal_year_label: evaluation.fiscal_year_label,
            deadline,
            outstanding: by_department.into_values().collect(),
        });
    }
    Ok(found)
}

/// `Some(returned?)` for what a department still owes.
fn outstanding(state: SubmissionState) -> Option<bool> {
    match state {
        SubmissionState::Missing => Some(false),
        SubmissionState::Returned => Some(true),
        SubmissionState::Submitted | SubmissionState::Approved => None,
    }
}

fn indicator_label(measure_number: i32, number: Option<i32>, name: &str) -> String {
    match number {
        Some(number) => format!("施策{measure_number} 指標{number} {name}"),
        None => format!("施策{measure_number} {name}"),
    }
}

type ActualEventRow =
    (i32, Option<String>, NaiveDateTime, i32, Option<i32>, String, Option<i32>, i32, i32, i32, String);

/// Actual events of the given kinds recorded from `from` (inclusive) to `until` (exclusive), with
/// their indicator, measure and plan.
fn actual_events_between(
    conn: &mut DbConnection,
    kinds: &[&str],
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Vec<ActualEventRow>, AppError> {
    Ok(actual_events::table
        .inner_join(actuals::table.on(actuals::id.eq(actual_events::actual_id)))
        .inner_join(indicators::table.on(indicators::id.eq(actuals::indicator_id)))
        .inner_join(measures::table.on(measures::id.eq(indicators::measure_id)))
        .inner_join(plans::table.on(plans::id.eq(measures::plan_id)))
        .filter(actual_events::event.eq_any(kinds))
        .filter(actual_events::recorded_at.ge(from))
        .filter(actual_events::recorded_at.lt(until))
        .select((
            actual_events::id,
            actual_events::comment,
            actual_events::recorded_at,
            actuals::fiscal_year,
            indicators::number,
            indicators::name,
            indicators::department_id,
            measures::id,
            measures::number,
            plans::municipality_id,
            plans::name,
        ))
        .order(actual_events::id)
        .load(conn)?)
}

/// Actuals the 本部 returned in the last days before `today` (and on it).
fn returned_actuals(conn: &mut DbConnection, today: NaiveDate) -> Result<Vec<ReturnedActual>, AppError> {
    let from = japan_midnight_utc(reminder::earliest_news(today));
    let until = japan_midnight_utc(today + TimeDelta::days(1));
    let rows = actual_events_between(conn, &["returned"], from, until)?;
    let measure_ids: Vec<i32> = rows.iter().map(|row| row.7).collect();
    let owners = current_owners(conn, &measure_ids)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                event_id,
                comment,
                recorded_at,
                year,
                number,
                name,
                department_id,
                measure_id,
                measure_number,
                municipality_id,
                plan_name,
            )| {
                ReturnedActual {
                    event_id,
                    municipality_id,
                    // The indicator's own department, else the measure's owners: as the collection status has it.
                    department_ids: department_id
                        .map_or_else(|| owners.get(&measure_id).cloned().unwrap_or_default(), |id| vec![id]),
                    plan_name,
                    fiscal_year_label: label(year),
                    indicator_label: indicator_label(measure_number, number, &name),
                    comment,
                    returned_on: japan_date(recorded_at),
                }
            },
        )
        .collect())
}

fn current_owners(conn: &mut DbConnection, measure_ids: &[i32]) -> Result<BTreeMap<i32, Vec<i32>>, AppError> {
    let rows: Vec<(i32, i32)> = measure_owners::table
        .filter(measure_owners::measure_id.eq_any(measure_ids))
        .filter(measure_owners::removed_at.is_null())
        .select((measure_owners::measure_id, measure_owners::department_id))
        .order((measure_owners::measure_id, measure_owners::position))
        .load(conn)?;
    let mut owners: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (measure_id, department_id) in rows {
        owners.entry(measure_id).or_default().push(department_id);
    }
    Ok(owners)
}

const SUBMITTING_EVENTS: [&str; 2] = ["submitted", "resubmitted"];

/// Actuals and 施策評価 submitted (first or again) on `day` in Japan, for the 本部's digest.
fn submissions_on(conn: &mut DbConnection, day: NaiveDate) -> Result<Vec<Submission>, AppError> {
    let (from, until) = (japan_midnight_utc(day), japan_midnight_utc(day + TimeDelta::days(1)));
    let department_names: BTreeMap<i32, String> = departments::table
        .select((departments::id, departments::name))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .collect();
    let name_of = |id: Option<i32>| id.and_then(|id| department_names.get(&id).cloned()).unwrap_or_default();
    let actor_departments: BTreeMap<i32, Option<i32>> = actual_events::table
        .filter(actual_events::recorded_at.ge(from))
        .filter(actual_events::recorded_at.lt(until))
        .select((actual_events::id, actual_events::actor_department_id))
        .load::<(i32, Option<i32>)>(conn)?
        .into_iter()
        .collect();
    let mut found: Vec<Submission> = actual_events_between(conn, &SUBMITTING_EVENTS, from, until)?
        .into_iter()
        .map(|(event_id, _, _, year, number, name, department_id, _, measure_number, municipality_id, plan_name)| {
            Submission {
                municipality_id,
                department_name: name_of(actor_departments.get(&event_id).copied().flatten().or(department_id)),
                plan_name,
                fiscal_year_label: label(year),
                label: indicator_label(measure_number, number, &name),
                submitted_on: day,
            }
        })
        .collect();
    let evaluations: Vec<(i32, i32, i32, String, i32, String)> = measure_evaluation_events::table
        .inner_join(measure_evaluations::table.on(measure_evaluations::id.eq(measure_evaluation_events::evaluation_id)))
        .inner_join(measures::table.on(measures::id.eq(measure_evaluations::measure_id)))
        .inner_join(plans::table.on(plans::id.eq(measures::plan_id)))
        .filter(measure_evaluation_events::event.eq_any(SUBMITTING_EVENTS))
        .filter(measure_evaluation_events::recorded_at.ge(from))
        .filter(measure_evaluation_events::recorded_at.lt(until))
        .select((
            measure_evaluations::department_id,
            measure_evaluations::fiscal_year,
            measures::number,
            measures::name,
            plans::municipality_id,
            plans::name,
        ))
        .order(measure_evaluation_events::id)
        .load(conn)?;
    found.extend(evaluations.into_iter().map(|(department_id, year, number, name, municipality_id, plan_name)| {
        Submission {
            municipality_id,
            department_name: name_of(Some(department_id)),
            plan_name,
            fiscal_year_label: label(year),
            label: format!("施策{number} {name} の施策評価"),
            submitted_on: day,
        }
    }));
    Ok(found)
}

/// Which of `keys` the log already holds (claimed, sent or failed).
pub fn claimed_keys(conn: &mut DbConnection, keys: &[String]) -> Result<Vec<String>, AppError> {
    let mut found = Vec::new();
    // Bounded IN lists: SQLite and PostgreSQL both cap bound parameters.
    for chunk in keys.chunks(500) {
        found.extend(
            sent_messages::table
                .filter(sent_messages::idempotency_key.eq_any(chunk))
                .select(sent_messages::idempotency_key)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// Claims `message` for sending: `true` if this pass inserted its key, `false` if another pass
/// (maybe another process) already has it. A race on PostgreSQL ends in the unique key; the
/// caller maps that error ([`is_lost_claim`]) to `false`.
pub fn claim(conn: &mut DbConnection, message: &Message, now: NaiveDateTime) -> Result<bool, AppError> {
    let held: i64 =
        sent_messages::table.filter(sent_messages::idempotency_key.eq(&message.key)).count().get_result(conn)?;
    if held > 0 {
        return Ok(false);
    }
    diesel::insert_into(sent_messages::table)
        .values((
            sent_messages::idempotency_key.eq(&message.key),
            sent_messages::municipality_id.eq(message.municipality_id),
            sent_messages::kind.eq(message.kind.as_str()),
            sent_messages::recipient_user_id.eq(message.recipient_user_id),
            sent_messages::recipient.eq(&message.to),
            sent_messages::subject.eq(&message.subject),
            sent_messages::status.eq(SendStatus::Sending.as_str()),
            sent_messages::attempts.eq(0),
            sent_messages::claimed_at.eq(now),
        ))
        .execute(conn)
        .map_err(|error| match error {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                AppError::Conflict(LOST_CLAIM.into())
            }
            other => other.into(),
        })?;
    Ok(true)
}

const LOST_CLAIM: &str = "another pass claimed this message first";

/// Whether `error` is [`claim`] losing a race for a key.
pub fn is_lost_claim(error: &AppError) -> bool {
    matches!(error, AppError::Conflict(message) if message == LOST_CLAIM)
}

/// Where a claimed message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SendStatus {
    /// Claimed; being sent (a pass that died here leaves it so: it is never sent twice)
    Sending,
    Sent,
    /// Every attempt failed; `last_error` says why
    Failed,
}

impl SendStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => Self::Sending,
        }
    }
}

/// Records how sending a claimed message ended.
pub fn finish(
    conn: &mut DbConnection,
    key: &str,
    attempts: i32,
    outcome: Result<NaiveDateTime, String>,
) -> Result<(), AppError> {
    let target = sent_messages::table.filter(sent_messages::idempotency_key.eq(key));
    match outcome {
        Ok(sent_at) => diesel::update(target)
            .set((
                sent_messages::status.eq(SendStatus::Sent.as_str()),
                sent_messages::attempts.eq(attempts),
                sent_messages::sent_at.eq(Some(sent_at)),
            ))
            .execute(conn)?,
        Err(error) => diesel::update(target)
            .set((
                sent_messages::status.eq(SendStatus::Failed.as_str()),
                sent_messages::attempts.eq(attempts),
                sent_messages::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// One line of the log of reminders, as admin and hq read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SentMessage {
    pub id: i32,
    #[schema(example = "deadline_approaching")]
    pub kind: String,
    pub recipient_user_id: i32,
    #[schema(example = "koseki@city.example.lg.jp")]
    pub recipient: String,
    #[schema(example = "【提出期限のお知らせ】ICT推進・活用計画 令和2(2020)年度の提出期限は2021年5月31日です")]
    pub subject: String,
    pub status: SendStatus,
    pub attempts: i32,
    /// Why the last attempt failed (the SMTP server's answer; never a credential)
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub claimed_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub sent_at: Option<NaiveDateTime>,
}

type LogRow = (i32, String, i32, String, String, String, i32, Option<String>, NaiveDateTime, Option<NaiveDateTime>);

/// One page of a municipality's log, newest first, and how many lines it has.
pub fn log_page(
    conn: &mut DbConnection,
    municipality_id: i32,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SentMessage>, i64), AppError> {
    let total =
        sent_messages::table.filter(sent_messages::municipality_id.eq(municipality_id)).count().get_result(conn)?;
    let rows: Vec<LogRow> = sent_messages::table
        .filter(sent_messages::municipality_id.eq(municipality_id))
        .select((
            sent_messages::id,
            sent_messages::kind,
            sent_messages::recipient_user_id,
            sent_messages::recipient,
            sent_messages::subject,
            sent_messages::status,
            sent_messages::attempts,
            sent_messages::last_error,
            sent_messages::claimed_at,
            sent_messages::sent_at,
        ))
        .order(sent_messages::id.desc())
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let lines = rows
        .into_iter()
        .map(|(id, kind, recipient_user_id, recipient, subject, status, attempts, last_error, claimed_at, sent_at)| {
            SentMessage {
                id,
                kind,
                recipient_user_id,
                recipient,
                subject,
                status: SendStatus::parse(&status),
                attempts,
                last_error,
                claimed_at,
                sent_at,
            }
        })
        .collect();
    Ok((lines, total))
}

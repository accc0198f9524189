//! The audit log: every write records who, when, what, the old and the new value.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::schema::audit_log;
use crate::error::AppError;

use crate::domain::audit::AuditEntry;

/// Who made a change: an API caller or a command-line tool.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i32>,
    pub username: String,
    /// The municipality the actor works in: whose data its changes are, unless the change names
    /// the record's own municipality ([`Change::in_municipality`]).
    pub municipality_id: Option<i32>,
}

impl Actor {
    pub fn system(tool: &str) -> Self {
        Self { user_id: None, username: format!("system:{tool}"), municipality_id: None }
    }

    /// The same actor, changing the data of this municipality (a tool loading a city's plan).
    pub fn within(&self, municipality_id: i32) -> Self {
        Self { municipality_id: Some(municipality_id), ..self.clone() }
    }
}

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: i32,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
    pub reason: Option<&'a str>,
    /// Whose record this is, when not the actor's own municipality's: an account's municipality, a
    /// registered municipality's own id. `None`: the actor's (every change of a municipality's
    /// users to its own data).
    pub municipality: Option<Option<i32>>,
}

impl<'a> Change<'a> {
    pub fn created(entity_type: &'a str, entity_id: i32, new: &impl Serialize) -> Self {
        Self {
            action: "create",
            entity_type,
            entity_id,
            old: None,
            new: serde_json::to_value(new).ok(),
            reason: None,
            municipality: None,
        }
    }

    pub fn updated(entity_type: &'a str, entity_id: i32, old: &impl Serialize, new: &impl Serialize) -> Self {
        Self {
            action: "update",
            entity_type,
            entity_id,
            old: serde_json::to_value(old).ok(),
            new: serde_json::to_value(new).ok(),
            reason: None,
            municipality: None,
        }
    }

    /// The change is to a record of this municipality (`None`: of none, such as a system_admin
    /// account), whoever made it: the system administrator's changes land in the audit log of the
    /// municipality they touch.
    pub fn in_municipality(mut self, municipality_id: Option<i32>) -> Self {
        self.municipality = Some(municipality_id);
        self
    }

    /// The municipality whose audit log shows this change.
    pub fn municipality_of(&self, actor: &Actor) -> Option<i32> {
        self.municipality.unwrap_or(actor.municipality_id)
    }

    pub fn with_action(mut self, action: &'a str) -> Self {
        self.action = action;
        self
    }

    pub fn with_reason(mut self, reason: Option<&'a str>) -> Self {
        self.reason = reason;
        self
    }
}

pub fn now() -> NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

pub fn record(conn: &mut DbConnection, actor: &Actor, change: Change<'_>) -> Result<(), AppError> {
    let municipality_id = change.municipality_of(actor);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::occurred_at.eq(now()),
            audit_log::actor_id.eq(actor.user_id),
            audit_log::actor_username.eq(&actor.username),
            audit_log::action.eq(change.action),
            audit_log::entity_type.eq(change.entity_type),
            audit_log::entity_id.eq(change.entity_id),
            audit_log::old_value.eq(change.old.map(|v| v.to_string())),
            audit_log::new_value.eq(change.new.map(|v| v.to_string())),
            audit_log::reason.eq(change.reason),
            audit_log::municipality_id.eq(municipality_id),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct AuditInsert<'a> {
    occurred_at: NaiveDateTime,
    actor_id: Option<i32>,
    actor_username: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<i32>,
    old_value: Option<String>,
    new_value: Option<String>,
    reason: Option<&'a str>,
    municipality_id: Option<i32>,
}

/// The entries of a bulk write, as [`record`] writes them one by one, in
/// [`WRITE_BATCH_ROWS`](super::batch::WRITE_BATCH_ROWS) a statement.
pub fn record_many(conn: &mut DbConnection, actor: &Actor, changes: &[Change<'_>]) -> Result<(), AppError> {
    let occurred_at = now();
    for chunk in changes.chunks(super::batch::WRITE_BATCH_ROWS) {
        let rows: Vec<AuditInsert<'_>> = chunk
            .iter()
            .map(|change| AuditInsert {
                occurred_at,
                actor_id: actor.user_id,
                actor_username: &actor.username,
                action: change.action,
                entity_type: change.entity_type,
                entity_id: Some(change.entity_id),
                old_value: change.old.as_ref().map(|v| v.to_string()),
                new_value: change.new.as_ref().map(|v| v.to_string()),
                reason: change.reason,
                municipality_id: change.municipality_of(actor),
            })
            .collect();
        super::batch::insert_many!(&mut *conn, audit_log::table, &rows)?;
    }
    Ok(())
}

/// Which entries [`list`] reads: every field given must match.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<i32>,
    /// The actor's username.
    pub actor: Option<String>,
    pub action: Option<String>,
    /// From this time (inclusive).
    pub from: Option<NaiveDateTime>,
    /// Until this time (exclusive).
    pub until: Option<NaiveDateTime>,
}

type AuditRow = (
    i32,
    NaiveDateTime,
    Option<i32>,
    String,
    String,
    String,
    Option<i32>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i32>,
);

/// One page of the audit log of one municipality (`Some`), or of every change (`None`: the system
/// administrator's view, accounts of no municipality included).
pub fn list(
    conn: &mut DbConnection,
    municipality_id: Option<i32>,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64), AppError> {
    let query = || {
        let mut query = audit_log::table.into_boxed();
        if let Some(municipality_id) = municipality_id {
            query = query.filter(audit_log::municipality_id.eq(municipality_id));
        }
        if let Some(entity_type) = &filter.entity_type {
            query = query.filter(audit_log::entity_type.eq(entity_type.clone()));
        }
        if let Some(entity_id) = filter.entity_id {
            query = query.filter(audit_log::entity_id.eq(entity_id));
        }
        if let Some(actor) = &filter.actor {
            query = query.filter(audit_log::actor_username.eq(actor.clone()));
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_log::action.eq(action.clone()));
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_log::occurred_at.ge(from));
        }
        if let Some(until) = filter.until {
            query = query.filter(audit_log::occurred_at.lt(until));
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<AuditRow> = query()
        .select((
            audit_log::id,
            audit_log::occurred_at,
            audit_log::actor_id,
            audit_log::actor_username,
            audit_log::action,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::old_value,
            audit_log::new_value,
            audit_log::reason,
            audit_log::municipality_id,
        ))
        .order(audit_log::id.asc())
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let entries = rows
        .into_iter()
        .map(
            |(
                id,
                occurred_at,
                actor_id,
                actor_username,
                action,
                entity_type,
                entity_id,
                old,
                new,
                reason,
                municipality_id,
            )| AuditEntry {
                id,
                occurred_at,
                actor_id,
                actor_username,
                action,
                entity_type,
                entity_id,
                old_value: parse(old),
                new_value: parse(new),
                reason,
                municipality_id,
            },
        )
        .collect();
    Ok((entries, total))
}

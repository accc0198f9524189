//! What a plan follows besides its predecessor: the plans above it (板橋区基本計画2025,
//! いたばし№1実現プラン2025) and national policies (自治体DX推進計画), as references.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, Actor, Change};
use super::schema::plan_references;
use super::{DbConnection, enum_from_column};
use crate::domain::ids::PlanId;
use crate::domain::plan::to_text;
use crate::error::AppError;

use crate::domain::plan_reference::{PlanReference, ReferenceKind};

#[derive(Queryable, Selectable)]
#[diesel(table_name = plan_references)]
struct ReferenceRow {
    id: i32,
    plan_id: i32,
    kind: String,
    title: String,
    referenced_plan_id: Option<i32>,
    url: Option<String>,
    notes: Option<String>,
    recorded_by: Option<i32>,
    recorded_at: NaiveDateTime,
    reading_note: Option<String>,
    source: Option<String>,
    issued: Option<String>,
}

impl ReferenceRow {
    fn into_reference(self) -> Result<PlanReference, AppError> {
        Ok(PlanReference {
            id: self.id,
            plan_id: self.plan_id,
            kind: enum_from_column(&self.kind)?,
            title: self.title,
            referenced_plan_id: self.referenced_plan_id,
            url: self.url,
            notes: self.notes,
            source: self.source,
            issued: self.issued,
            reading_note: self.reading_note,
            recorded_by: self.recorded_by,
            recorded_at: self.recorded_at,
        })
    }
}

/// A reference to add.
#[derive(Debug, Clone)]
pub struct NewReference {
    pub kind: ReferenceKind,
    pub title: String,
    pub referenced_plan_id: Option<i32>,
    pub url: Option<String>,
    pub notes: Option<String>,
    /// Which source names it
    pub source: Option<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`
    pub issued: Option<String>,
    pub reading_note: Option<String>,
}

/// One page of a plan's references in the order they were recorded, and how many it has.
pub fn page(
    conn: &mut DbConnection,
    plan_id: PlanId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PlanReference>, i64), AppError> {
    let total = plan_references::table.filter(plan_references::plan_id.eq(plan_id)).count().get_result(conn)?;
    let rows: Vec<ReferenceRow> = plan_references::table
        .filter(plan_references::plan_id.eq(plan_id))
        .select(ReferenceRow::as_select())
        .order(plan_references::id)
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((rows.into_iter().map(ReferenceRow::into_reference).collect::<Result<_, _>>()?, total))
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    reference: &NewReference,
) -> Result<PlanReference, AppError> {
    let plan = super::plans::get(conn, plan_id)?;
    if reference.title.trim().is_empty() {
        return Err(AppError::invalid("title", "must not be empty"));
    }
    if let Some(other) = reference.referenced_plan_id {
        super::ownership::resolve_in(conn, plan.municipality_id, PlanId::new(other), "referenced_plan_id")?;
        if other == plan_id {
            return Err(AppError::invalid("referenced_plan_id", "must be another plan kept here"));
        }
    }
    if reference.url.as_deref().is_some_and(|url| !(url.starts_with("https://") || url.starts_with("http://"))) {
        return Err(AppError::invalid("url", "must start with https:// or http://"));
    }
    if let Some(issued) = &reference.issued {
        crate::domain::plan_reference::check_issued(issued).map_err(|message| AppError::invalid("issued", message))?;
    }
    let id: i32 = diesel::insert_into(plan_references::table)
        .values((
            plan_references::plan_id.eq(plan_id),
            plan_references::kind.eq(to_text(&reference.kind)),
            plan_references::title.eq(reference.title.trim()),
            plan_references::referenced_plan_id.eq(reference.referenced_plan_id),
            plan_references::url.eq(&reference.url),
            plan_references::notes.eq(&reference.notes),
            plan_references::source.eq(&reference.source),
            plan_references::issued.eq(&reference.issued),
            plan_references::reading_note.eq(&reference.reading_note),
            plan_references::recorded_by.eq(actor.user_id),
            plan_references::recorded_at.eq(audit::now()),
        ))
        .returning(plan_references::id)
        .get_result(conn)?;
    let created = plan_references::table.find(id).select(ReferenceRow::as_select()).first(conn)?.into_reference()?;
    audit::record(conn, actor, Change::created("plan_reference", id, &created))?;
    Ok(created)
}

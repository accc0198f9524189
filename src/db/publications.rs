//! Publications (公表): stored once, never updated nor deleted. The public endpoints read only
//! this table, so nothing that was not published can appear there.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::schema::{municipalities, publications};
use crate::domain::ids::PlanId;
use crate::error::AppError;

/// A publication without its snapshot: what lists and the catalogue need.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = publications)]
pub struct PublicationSummary {
    pub id: i32,
    pub municipality_id: i32,
    pub plan_id: i32,
    pub fiscal_year: i32,
    pub version: i32,
    pub published_at: NaiveDateTime,
    /// Internal: the authenticated list shows it, the public endpoints never do.
    pub published_by: Option<i32>,
    pub licence: String,
    pub title: String,
    pub publisher: String,
    pub correction_note: Option<String>,
    pub snapshot_sha256: String,
}

/// One published version with its content.
#[derive(Debug, Clone)]
pub struct StoredPublication {
    pub summary: PublicationSummary,
    /// The snapshot's JSON text, exactly as stored (its digest is `summary.snapshot_sha256`).
    pub snapshot: String,
}

/// A publication to store.
pub struct NewPublication<'a> {
    pub municipality_id: i32,
    pub plan_id: PlanId,
    pub fiscal_year: i32,
    pub version: i32,
    pub published_at: NaiveDateTime,
    pub licence: &'a str,
    pub title: &'a str,
    pub publisher: &'a str,
    pub correction_note: Option<&'a str>,
    pub snapshot: &'a str,
    pub snapshot_sha256: &'a str,
}

/// The latest version published of a plan's year.
pub fn latest_version(conn: &mut DbConnection, plan_id: PlanId, fiscal_year: i32) -> Result<Option<i32>, AppError> {
    Ok(publications::table
        .filter(publications::plan_id.eq(plan_id.get()))
        .filter(publications::fiscal_year.eq(fiscal_year))
        .select(diesel::dsl::max(publications::version))
        .first::<Option<i32>>(conn)?)
}

/// Stores a publication and records it in the audit log (who, when, which version; the snapshot
/// itself is in the row, and only its digest is repeated in the log).
pub fn insert(
    conn: &mut DbConnection,
    actor: &Actor,
    new: &NewPublication<'_>,
) -> Result<PublicationSummary, AppError> {
    let inserted = diesel::insert_into(publications::table)
        .values((
            publications::municipality_id.eq(new.municipality_id),
            publications::plan_id.eq(new.plan_id.get()),
            publications::fiscal_year.eq(new.fiscal_year),
            publications::version.eq(new.version),
            publications::published_at.eq(new.published_at),
            publications::published_by.eq(actor.user_id),
            publications::licence.eq(new.licence),
            publications::title.eq(new.title),
            publications::publisher.eq(new.publisher),
            publications::correction_note.eq(new.correction_note),
            publications::snapshot.eq(new.snapshot),
            publications::snapshot_sha256.eq(new.snapshot_sha256),
        ))
        .returning(publications::id)
        .get_result::<i32>(conn);
    let id = AppError::on_duplicate(inserted, "version", "a publication of this plan and year", new.version)?;
    let summary = publications::table.find(id).select(PublicationSummary::as_select()).first(conn)?;
    let logged = serde_json::json!({
        "plan_id": summary.plan_id, "fiscal_year": summary.fiscal_year, "version": summary.version,
        "licence": summary.licence, "correction_note": summary.correction_note,
        "snapshot_sha256": summary.snapshot_sha256,
    });
    audit::record(
        conn,
        actor,
        Change::created("publication", summary.id, &logged)
            .with_action("publish")
            .with_reason(new.correction_note)
            .in_municipality(Some(new.municipality_id)),
    )?;
    Ok(summary)
}

/// One page of a plan's publications, newest first, and how many it has.
pub fn page_for_plan(
    conn: &mut DbConnection,
    plan_id: PlanId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PublicationSummary>, i64), AppError> {
    let total = publications::table.filter(publications::plan_id.eq(plan_id.get())).count().get_result(conn)?;
    let items = publications::table
        .filter(publications::plan_id.eq(plan_id.get()))
        .order((publications::fiscal_year.desc(), publications::version.desc()))
        .select(PublicationSummary::as_select())
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    Ok((items, total))
}

/// Every version published of a plan's year, oldest first, found by the municipality's code:
/// empty when the code, the plan or the year is unknown or unpublished, all alike.
pub fn versions_of_year(
    conn: &mut DbConnection,
    municipality_code: &str,
    plan_id: i32,
    fiscal_year: i32,
) -> Result<Vec<PublicationSummary>, AppError> {
    Ok(publications::table
        .inner_join(municipalities::table)
        .filter(municipalities::code.eq(municipality_code))
        .filter(publications::plan_id.eq(plan_id))
        .filter(publications::fiscal_year.eq(fiscal_year))
        .order(publications::version.asc())
        .select(PublicationSummary::as_select())
        .load(conn)?)
}

/// The snapshot of one published version (by its publication id, from [`versions_of_year`]).
pub fn snapshot(conn: &mut DbConnection, summary: PublicationSummary) -> Result<StoredPublication, AppError> {
    let snapshot = publications::table.find(summary.id).select(publications::snapshot).first::<String>(conn)?;
    Ok(StoredPublication { summary, snapshot })
}

/// A published plan-year in the catalogue: its latest version, and when it was first published.
#[derive(Debug, Clone)]
pub struct CatalogueEntry {
    pub municipality_code: String,
    pub latest: PublicationSummary,
    pub first_published_at: NaiveDateTime,
}

/// One page of the published plan-years of every municipality, newest publication first, and how
/// many there are.
pub fn catalogue_page(
    conn: &mut DbConnection,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CatalogueEntry>, i64), AppError> {
    // The first versions stand for the plan-years: one row each.
    let firsts = publications::table.filter(publications::version.eq(1));
    let total = firsts.count().get_result(conn)?;
    let first_rows: Vec<(String, PublicationSummary)> = firsts
        .inner_join(municipalities::table)
        .order((publications::published_at.desc(), publications::id.desc()))
        .select((municipalities::code, PublicationSummary::as_select()))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let plan_ids: Vec<i32> = first_rows.iter().map(|(_, first)| first.plan_id).collect();
    let all: Vec<PublicationSummary> = publications::table
        .filter(publications::plan_id.eq_any(&plan_ids))
        .select(PublicationSummary::as_select())
        .load(conn)?;
    let entries = first_rows
        .into_iter()
        .map(|(municipality_code, first)| {
            let latest = all
                .iter()
                .filter(|p| p.plan_id == first.plan_id && p.fiscal_year == first.fiscal_year)
                .max_by_key(|p| p.version)
                .cloned()
                .unwrap_or_else(|| first.clone());
            CatalogueEntry { municipality_code, first_published_at: first.published_at, latest }
        })
        .collect();
    Ok((entries, total))
}

//! 公表 (publication): the 本部 freezes a plan's year as a snapshot; the public endpoints serve
//! only stored snapshots, so nothing changed or approved later appears until it is re-published.
//!
//! The rules (versions, correction notes, licences, what a snapshot may hold) are in
//! [`crate::domain::publication`]; this module builds a snapshot from the database, stores it,
//! and reads it back for the public formats ([`page`], [`catalogue`], [`snapshot`]).

pub mod catalogue;
pub mod page;
pub mod snapshot;

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::audit::{self, Actor};
use crate::db::publications::{self, NewPublication, PublicationSummary, StoredPublication};
use crate::db::{DbConnection, departments};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::ids::PlanId;
use crate::domain::publication::{self as rules, Licence};
use crate::error::AppError;
use crate::evaluation::plan as plan_evaluation;
use snapshot::YearSnapshot;

/// What the 本部 asks for when publishing.
pub struct PublishRequest<'a> {
    pub fiscal_year: FiscalYear,
    pub licence: Option<&'a str>,
    pub correction_note: Option<&'a str>,
}

/// Publishes a plan's year: the next version, with the snapshot of what is approved now. The
/// body's own fields are checked first (422), then whether there is anything to publish (409).
pub fn publish(
    conn: &mut DbConnection,
    actor: &Actor,
    plan_id: PlanId,
    request: &PublishRequest<'_>,
) -> Result<PublicationSummary, AppError> {
    let year = request.fiscal_year.year();
    let licence = Licence::choose(request.licence)?;
    let version = rules::next_version(publications::latest_version(conn, plan_id, year)?)?;
    let correction_note = rules::correction_note(version, request.correction_note)?;
    let records = plan_evaluation::load_year(conn, plan_id, year)?;
    if !records.plan.years().any(|y| y == year) {
        return Err(AppError::invalid(
            "fiscal_year",
            format!(
                "{} はこの計画の期間 ({}–{}年度) に含まれません (the year is outside the plan)",
                request.fiscal_year.label(),
                records.plan.start_fiscal_year,
                records.plan.end_fiscal_year
            ),
        ));
    }
    let municipality = departments::list_municipalities(conn)?
        .into_iter()
        .find(|m| m.id == records.plan.municipality_id)
        .ok_or_else(|| AppError::not_found("municipality", records.plan.municipality_id))?;
    let snapshot = YearSnapshot::of(&records, &municipality, year);
    if snapshot.rows.is_empty() {
        return Err(AppError::Conflict(format!(
            "{} には承認済みの実績がないため公表できません。実績を承認してから公表してください \
             (nothing is approved for this year yet)",
            request.fiscal_year.label()
        )));
    }
    let value = serde_json::to_value(&snapshot).map_err(|e| AppError::Internal(format!("snapshot: {e}")))?;
    rules::ensure_public(&value)?;
    let text = value.to_string();
    rules::ensure_snapshot_size(text.len())?;
    let digest = rules::snapshot_digest(&text);
    publications::insert(
        conn,
        actor,
        &NewPublication {
            municipality_id: records.plan.municipality_id,
            plan_id,
            fiscal_year: year,
            version,
            published_at: audit::now(),
            licence: licence.id,
            title: &snapshot.title(),
            publisher: &municipality.name,
            correction_note: correction_note.as_deref(),
            snapshot: &text,
            snapshot_sha256: &digest,
        },
    )
}

/// A published version as the public sees it: never who published it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedVersion {
    pub version: i32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub published_at: NaiveDateTime,
    /// Why this version replaced the one before (`null` for the first)
    pub correction_note: Option<String>,
    /// This version's JSON
    pub url: String,
    /// This version's page
    pub html_url: String,
}

/// Where a publication's files are, relative to the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Distributions {
    pub json: String,
    pub csv: String,
    pub html: String,
}

impl Distributions {
    fn of(code: &str, plan_id: i32, fiscal_year: i32, version: Option<i32>) -> Self {
        let data = format!("/api/v1/public/municipalities/{code}/plans/{plan_id}/years/{fiscal_year}");
        let page = format!("/public/{code}/plans/{plan_id}/{fiscal_year}");
        match version {
            None => Self { json: data.clone(), csv: format!("{data}?format=csv"), html: page },
            Some(n) => Self {
                json: format!("{data}/versions/{n}"),
                csv: format!("{data}/versions/{n}?format=csv"),
                html: format!("{page}/versions/{n}"),
            },
        }
    }
}

/// One published version of a plan's year with its content, the licence and every version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedYear {
    /// 全国地方公共団体コード
    #[schema(example = "131199")]
    pub municipality_code: String,
    /// The publisher (dct:publisher): the municipality, as named when published
    #[schema(example = "板橋区")]
    pub publisher: String,
    pub plan_id: i32,
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    /// The dataset's title as published
    pub title: String,
    pub version: i32,
    pub latest_version: i32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub published_at: NaiveDateTime,
    /// Why this version replaced the one before (`null` for the first)
    pub correction_note: Option<String>,
    pub licence: Licence,
    /// Whether any figure is generated sample data (サンプル), never a real figure
    pub contains_sample: bool,
    /// Every version, oldest first
    pub versions: Vec<PublishedVersion>,
    /// This version's files (JSON, CSV, HTML page)
    pub distributions: Distributions,
    /// The published content, exactly as stored
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// Hex SHA-256 of the stored content
    pub snapshot_sha256: String,
}

/// A published version and its snapshot, read back for serving.
pub struct Served {
    pub year: PublishedYear,
    /// The snapshot's model, for the CSV and the page.
    pub snapshot: YearSnapshot,
}

/// The published version `version` (the latest when `None`) of a plan's year, by the
/// municipality's code. Unknown and unpublished answer the same 404, whichever part is missing.
pub fn read_published(
    conn: &mut DbConnection,
    municipality_code: &str,
    plan_id: i32,
    fiscal_year: i32,
    version: Option<i32>,
) -> Result<Served, AppError> {
    let missing = || {
        let which = version.map(|n| format!("/versions/{n}")).unwrap_or_default();
        AppError::not_found("publication", format!("{municipality_code}/plans/{plan_id}/years/{fiscal_year}{which}"))
    };
    let versions = publications::versions_of_year(conn, municipality_code, plan_id, fiscal_year)?;
    let latest_version = versions.last().ok_or_else(missing)?.version;
    let chosen = match version {
        None => versions.last(),
        Some(n) => versions.iter().find(|v| v.version == n),
    }
    .cloned()
    .ok_or_else(missing)?;
    let StoredPublication { summary, snapshot: text } = publications::snapshot(conn, chosen)?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| AppError::Internal(format!("stored snapshot: {e}")))?;
    let snapshot = YearSnapshot::from_value(&report)?;
    let listed = versions
        .iter()
        .map(|v| {
            let files = Distributions::of(municipality_code, plan_id, fiscal_year, Some(v.version));
            PublishedVersion {
                version: v.version,
                published_at: v.published_at,
                correction_note: v.correction_note.clone(),
                url: files.json,
                html_url: files.html,
            }
        })
        .collect();
    let files_version = version.map(|_| summary.version);
    let year = PublishedYear {
        municipality_code: municipality_code.to_owned(),
        publisher: summary.publisher,
        plan_id,
        fiscal_year,
        fiscal_year_label: crate::domain::plan::label(fiscal_year),
        title: summary.title,
        version: summary.version,
        latest_version,
        published_at: summary.published_at,
        correction_note: summary.correction_note,
        licence: Licence::stored(&summary.licence)?,
        contains_sample: snapshot.contains_sample(),
        versions: listed,
        distributions: Distributions::of(municipality_code, plan_id, fiscal_year, files_version),
        report,
        snapshot_sha256: summary.snapshot_sha256,
    };
    Ok(Served { year, snapshot })
}

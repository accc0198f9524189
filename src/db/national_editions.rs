//! Editions of the 自治体DX推進計画 and their 重点取組事項, in the order they were entered; a new
//! edition is appended by an import after [`crate::domain::national_edition::check_new_edition`].

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::audit::{self, Actor, Change};
use super::schema::{national_edition_items, national_editions};
use crate::domain::national_edition::{
    LatestEdition, NationalEdition, NewEdition, StoredItem, check_new_edition, item_history,
};
use crate::error::AppError;

#[derive(Queryable, Selectable)]
#[diesel(table_name = national_editions)]
struct EditionRow {
    id: i32,
    code: String,
    name: String,
    issued: Option<String>,
    source: String,
    reading_note: Option<String>,
    recorded_at: NaiveDateTime,
}

/// Every edition by id with its items. The catalogue holds a handful of editions (one each
/// time 総務省 revises the plan), so the list is read whole and paged in memory: each edition's
/// history needs the previous one's items.
fn all(conn: &mut DbConnection) -> Result<Vec<(EditionRow, Vec<StoredItem>)>, AppError> {
    let editions: Vec<EditionRow> =
        national_editions::table.select(EditionRow::as_select()).order(national_editions::id).load(conn)?;
    let rows: Vec<(i32, i32, String, Option<i32>)> = national_edition_items::table
        .select((
            national_edition_items::edition_id,
            national_edition_items::number,
            national_edition_items::name,
            national_edition_items::continues_number,
        ))
        .order((national_edition_items::edition_id, national_edition_items::number))
        .load(conn)?;
    let mut items: BTreeMap<i32, Vec<StoredItem>> = BTreeMap::new();
    for (edition_id, number, name, continues) in rows {
        items.entry(edition_id).or_default().push(StoredItem { number, name, continues });
    }
    Ok(editions
        .into_iter()
        .map(|edition| {
            let its = items.remove(&edition.id).unwrap_or_default();
            (edition, its)
        })
        .collect())
}

/// One page of the editions, oldest first, each with its items as history, and how many there are.
pub fn page(conn: &mut DbConnection, limit: i64, offset: i64) -> Result<(Vec<NationalEdition>, i64), AppError> {
    let editions = all(conn)?;
    let total = editions.len() as i64;
    let mut shown = Vec::new();
    for (index, (edition, items)) in editions.iter().enumerate() {
        if (index as i64) < offset || shown.len() as i64 >= limit {
            continue;
        }
        let previous = index.checked_sub(1).map(|i| &editions[i]);
        let (listed, dropped) = item_history(previous.map(|(_, items)| items.as_slice()), items);
        shown.push(NationalEdition {
            id: edition.id,
            code: edition.code.clone(),
            name: edition.name.clone(),
            issued: edition.issued.clone(),
            source: edition.source.clone(),
            reading_note: edition.reading_note.clone(),
            previous_edition: previous.map(|(p, _)| p.code.clone()),
            items: listed,
            dropped,
            recorded_at: edition.recorded_at,
        });
    }
    Ok((shown, total))
}

/// Appends an edition after the latest one, checked against it, and records it in the audit log.
pub fn import(conn: &mut DbConnection, actor: &Actor, edition: &NewEdition) -> Result<NationalEdition, AppError> {
    let editions = all(conn)?;
    let latest = editions.last().map(|(row, items)| LatestEdition { issued: row.issued.as_deref(), items });
    check_new_edition(edition, latest).map_err(AppError::Validation)?;
    let id: QueryResult<i32> = diesel::insert_into(national_editions::table)
        .values((
            national_editions::code.eq(&edition.code),
            national_editions::name.eq(edition.name.trim()),
            national_editions::issued.eq(&edition.issued),
            national_editions::source.eq(&edition.source),
            national_editions::reading_note.eq(&edition.reading_note),
            national_editions::recorded_at.eq(audit::now()),
        ))
        .returning(national_editions::id)
        .get_result(conn);
    let id = AppError::on_duplicate(id, "code", "an edition", &edition.code)?;
    // One insert per item (at most MAX_LIST_ITEMS): both backends share one statement form.
    for item in &edition.items {
        diesel::insert_into(national_edition_items::table)
            .values((
                national_edition_items::edition_id.eq(id),
                national_edition_items::number.eq(item.number),
                national_edition_items::name.eq(item.name.trim()),
                national_edition_items::continues_number.eq(item.continues),
            ))
            .execute(conn)?;
    }
    audit::record(conn, actor, Change::created("national_edition", id, edition))?;
    let (mut page, _) = page(conn, 1, editions.len() as i64)?;
    page.pop().ok_or_else(|| AppError::Internal("the edition just imported was not found".into()))
}

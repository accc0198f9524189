//! The national catalogue of indicator definitions (自治体DX推進計画の重点取組事項), shared by every
//! municipality and seeded by the migration that created it.

use std::collections::BTreeMap;

use diesel::prelude::*;

use super::schema::{national_editions, national_indicators};
use super::{DbConnection, enum_from_column};
use crate::error::AppError;

use crate::domain::national_indicator::{EditionRef, NationalIndicator, NationalItemRef};

#[derive(Queryable, Selectable)]
#[diesel(table_name = national_indicators)]
struct NationalIndicatorRow {
    code: String,
    priority_number: i32,
    priority_name: String,
    name: String,
    unit: String,
    kind: String,
    direction: String,
    numerator_definition: Option<String>,
    denominator_definition: Option<String>,
    description: String,
    source: String,
    basis: String,
    published_by: Option<String>,
    survey: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = national_editions)]
struct EditionRefRow {
    code: String,
    name: String,
    issued: Option<String>,
}

impl NationalIndicatorRow {
    fn into_definition(self, edition: EditionRefRow) -> Result<NationalIndicator, AppError> {
        Ok(NationalIndicator {
            edition: EditionRef { code: edition.code, name: edition.name, issued: edition.issued },
            kind: enum_from_column(&self.kind)?,
            direction: enum_from_column(&self.direction)?,
            basis: enum_from_column(&self.basis)?,
            published_by: self.published_by,
            survey: self.survey,
            code: self.code,
            priority_number: self.priority_number,
            priority_name: self.priority_name,
            name: self.name,
            unit: self.unit,
            numerator_definition: self.numerator_definition,
            denominator_definition: self.denominator_definition,
            description: self.description,
            source: self.source,
        })
    }
}

/// One page of the catalogue by edition, priority and code, and how many definitions it holds.
pub fn page(conn: &mut DbConnection, limit: i64, offset: i64) -> Result<(Vec<NationalIndicator>, i64), AppError> {
    let total = national_indicators::table.count().get_result(conn)?;
    let rows: Vec<(NationalIndicatorRow, EditionRefRow)> = national_indicators::table
        .inner_join(national_editions::table)
        .select((NationalIndicatorRow::as_select(), EditionRefRow::as_select()))
        .order((national_indicators::edition_id, national_indicators::priority_number, national_indicators::code))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let items = rows.into_iter().map(|(row, edition)| row.into_definition(edition)).collect::<Result<_, _>>()?;
    Ok((items, total))
}

pub fn find(conn: &mut DbConnection, code: &str) -> Result<Option<NationalIndicator>, AppError> {
    national_indicators::table
        .find(code)
        .inner_join(national_editions::table)
        .select((NationalIndicatorRow::as_select(), EditionRefRow::as_select()))
        .first::<(NationalIndicatorRow, EditionRefRow)>(conn)
        .optional()?
        .map(|(row, edition)| row.into_definition(edition))
        .transpose()
}

pub fn get(conn: &mut DbConnection, code: &str) -> Result<NationalIndicator, AppError> {
    find(conn, code)?.ok_or_else(|| AppError::not_found("national indicator", code))
}

/// For each of these definition codes, the edition item it was set under: one query, whatever the
/// number of indicators that name them.
pub fn items_for(conn: &mut DbConnection, codes: &[String]) -> Result<BTreeMap<String, NationalItemRef>, AppError> {
    if codes.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<(String, i32, String, EditionRefRow)> = national_indicators::table
        .inner_join(national_editions::table)
        .filter(national_indicators::code.eq_any(codes))
        .select((
            national_indicators::code,
            national_indicators::priority_number,
            national_indicators::priority_name,
            EditionRefRow::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(code, item_number, item_name, edition)| {
            let edition = EditionRef { code: edition.code, name: edition.name, issued: edition.issued };
            (code, NationalItemRef { edition, item_number, item_name })
        })
        .collect())
}

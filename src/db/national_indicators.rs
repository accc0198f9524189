//! The national catalogue of indicator definitions (自治体DX推進計画の重点取組事項), shared by every
//! municipality and seeded by the migration that created it.

use diesel::prelude::*;

use super::schema::national_indicators;
use super::{DbConnection, enum_from_column};
use crate::error::AppError;

use crate::domain::national_indicator::NationalIndicator;

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

impl NationalIndicatorRow {
    fn into_definition(self) -> Result<NationalIndicator, AppError> {
        Ok(NationalIndicator {
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

/// One page of the catalogue by priority and code, and how many definitions it holds.
pub fn page(conn: &mut DbConnection, limit: i64, offset: i64) -> Result<(Vec<NationalIndicator>, i64), AppError> {
    let total = national_indicators::table.count().get_result(conn)?;
    let rows: Vec<NationalIndicatorRow> = national_indicators::table
        .select(NationalIndicatorRow::as_select())
        .order((national_indicators::priority_number, national_indicators::code))
        .limit(limit)
        .offset(offset)
        .load(conn)?;
    let items = rows.into_iter().map(NationalIndicatorRow::into_definition).collect::<Result<_, _>>()?;
    Ok((items, total))
}

pub fn find(conn: &mut DbConnection, code: &str) -> Result<Option<NationalIndicator>, AppError> {
    national_indicators::table
        .find(code)
        .select(NationalIndicatorRow::as_select())
        .first(conn)
        .optional()?
        .map(NationalIndicatorRow::into_definition)
        .transpose()
}

pub fn get(conn: &mut DbConnection, code: &str) -> Result<NationalIndicator, AppError> {
    find(conn, code)?.ok_or_else(|| AppError::not_found("national indicator", code))
}

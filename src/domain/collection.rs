//! A collection window: hq opens a fiscal year of a plan for actuals, optionally until a deadline,
//! and closes it again. Pure: `db::collections` stores it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Collection {
    pub id: i32,
    pub plan_id: i32,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    /// Last day for submissions (inclusive); `null`: no deadline
    #[schema(example = "2021-05-31")]
    pub deadline: Option<NaiveDate>,
    pub opened_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub opened_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub closed_at: Option<NaiveDateTime>,
}

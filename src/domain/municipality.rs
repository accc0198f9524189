//! A municipality (自治体): the tenant whose plans, departments and accounts are kept apart from
//! every other's, known by its 全国地方公共団体コード. Pure: `db::departments` stores it.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Municipality {
    pub id: i32,
    /// 全国地方公共団体コード (6 digits, check digit included)
    #[schema(example = "131199")]
    pub code: String,
    #[schema(example = "板橋区")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub created_at: NaiveDateTime,
}

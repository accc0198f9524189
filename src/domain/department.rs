//! A department (所管課) of a municipality, possibly a sub-unit of another, which owns measures and
//! reports actuals while active. Pure: `db::departments` stores it.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Department {
    pub id: i32,
    pub municipality_id: i32,
    /// Stable code used by imports and the CLI.
    #[schema(example = "family-registry")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::code")]
    pub code: String,
    #[schema(example = "戸籍住民課")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    /// The department this sub-unit belongs to (美術館 → 文化・国際交流課).
    pub parent_id: Option<i32>,
    pub active: bool,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub updated_at: NaiveDateTime,
}

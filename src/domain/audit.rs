//! An audit entry: one recorded change, who made it and when, with the old and the new value and the
//! municipality whose record it was. Pure: `db::audit` records and reads it.

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i32>,
    #[schema(example = "hq")]
    pub actor_username: String,
    #[schema(example = "revise_target")]
    pub action: String,
    #[schema(example = "indicator")]
    pub entity_type: String,
    pub entity_id: Option<i32>,
    #[schema(value_type = Option<Object>)]
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_json")]
    pub old_value: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_json")]
    pub new_value: Option<serde_json::Value>,
    #[schema(example = "目標を上方修正")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reason: Option<String>,
    /// The municipality whose record changed; `null` for accounts of no municipality.
    pub municipality_id: Option<i32>,
}

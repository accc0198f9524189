//! A plan reference: what a plan follows besides its predecessor, a plan above it, a national policy
//! or a related plan, by title, link or the referenced plan. Pure: `db::plan_references` stores it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A plan above this one (基本計画, 実現プラン)
    HigherPlan,
    /// A national or prefectural policy the plan follows (国の方針等)
    NationalPolicy,
    /// Any other related plan (各種個別計画)
    RelatedPlan,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanReference {
    pub id: i32,
    pub plan_id: i32,
    pub kind: ReferenceKind,
    #[schema(example = "いたばし№1実現プラン2025")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub title: String,
    /// The referenced plan when it is kept here too
    pub referenced_plan_id: Option<i32>,
    #[schema(example = "https://www.city.itabashi.tokyo.jp/")]
    pub url: Option<String>,
    pub notes: Option<String>,
    pub recorded_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

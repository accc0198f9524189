//! A national indicator definition: one entry of the catalogue (自治体DX推進計画の重点取組事項) that
//! every municipality shares and may map its own indicators to. Pure: `db::national_indicators` reads it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::achievement::Direction;
use crate::domain::plan::IndicatorKind;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NationalIndicator {
    #[schema(example = "dx2-mynumber-card-issuance-rate")]
    pub code: String,
    /// 重点取組事項 1–6 of the 自治体DX推進計画
    #[schema(example = 2)]
    pub priority_number: i32,
    #[schema(example = "マイナンバーカードの普及促進")]
    pub priority_name: String,
    #[schema(example = "マイナンバーカード交付率")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    #[schema(example = "%")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub unit: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    /// Ratios: what is counted above the line
    #[schema(example = "マイナンバーカードの交付枚数(累計)")]
    pub numerator_definition: Option<String>,
    /// Ratios: what is counted below the line
    #[schema(example = "住民基本台帳人口")]
    pub denominator_definition: Option<String>,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub description: String,
    #[schema(example = "自治体DX推進計画(総務省、令和2年12月25日)重点取組事項2")]
    pub source: String,
}

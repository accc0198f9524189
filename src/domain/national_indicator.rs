//! A national indicator definition: one entry of the catalogue (自治体DX推進計画の重点取組事項) that
//! every municipality shares and may map its own indicators to. Pure: `db::national_indicators` reads it.
//!
//! The 自治体DX推進計画 names the 重点取組事項 but defines no KPI for them (seed 001), so each definition
//! says whether it is a national statistic or a definition this product proposes for comparison.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::achievement::Direction;
use crate::domain::plan::IndicatorKind;

/// Where a national definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefinitionBasis {
    /// A statistic a national body publishes (`published_by`, `survey`)
    NationalStatistic,
    /// Defined by this product so municipalities can be compared; no national body publishes it
    ProposedForComparison,
}

/// The edition of the 自治体DX推進計画 a definition was set under; its 重点取組事項 is that edition's
/// item `priority_number`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EditionRef {
    #[schema(example = "first")]
    pub code: String,
    #[schema(example = "自治体デジタル・トランスフォーメーション(DX)推進計画")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    /// As precisely as a source states it; `null`: no source states it (see the edition's note)
    #[schema(example = json!(null))]
    pub issued: Option<String>,
}

/// The edition item a municipality's indicator is linked to through its national definition.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NationalItemRef {
    pub edition: EditionRef,
    #[schema(example = 2)]
    pub item_number: i32,
    #[schema(example = "マイナンバーカードの普及促進")]
    pub item_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NationalIndicator {
    #[schema(example = "dx2-mynumber-card-issuance-rate")]
    pub code: String,
    /// The edition the definition was set under (`/national-editions`)
    pub edition: EditionRef,
    /// The number of the 重点取組事項 in that edition
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
    pub basis: DefinitionBasis,
    /// National statistics: the body that publishes it; `null` for a proposed definition
    #[schema(example = "総務省")]
    pub published_by: Option<String>,
    /// National statistics: the survey or release that publishes it; `null` for a proposed definition
    #[schema(example = "マイナンバーカード交付状況")]
    pub survey: Option<String>,
    /// Where the definition comes from and which 重点取組事項 it is mapped to
    #[schema(
        example = "総務省「マイナンバーカード交付状況」。自治体DX推進計画(seed 001)の重点取組事項2「マイナンバーカードの普及促進」に対応づける"
    )]
    pub source: String,
}

//! An indicator (指標) of a measure, its baseline and its target and definition revisions: when it
//! is evaluated and what kind of figure it is. Pure: `db::indicators` loads and stores it.

use crate::domain::national_indicator::NationalItemRef;
use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::achievement::{self, Direction, GradeBasis};
use crate::domain::plan::{IndicatorKind, IndicatorStatus};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Indicator {
    pub id: i32,
    pub measure_id: i32,
    /// 指標 No. within the measure (`null` for indicators retired before numbering).
    pub number: Option<i32>,
    #[schema(example = "マイナンバーカードの交付率(交付件数/人口)")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub description: String,
    #[schema(example = "%")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub unit: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    #[schema(example = "交付件数")]
    pub numerator_label: Option<String>,
    #[schema(example = "人口")]
    pub denominator_label: Option<String>,
    /// Ordered milestone stages, first = not started, last = the usual target.
    pub stages: Vec<String>,
    /// The department or sub-unit the indicator belongs to, where it is not the whole measure's.
    pub department_id: Option<i32>,
    pub baseline: Baseline,
    /// Overrides the plan's grading basis for this indicator.
    pub grade_basis: Option<GradeBasis>,
    pub status: IndicatorStatus,
    pub added_fiscal_year: Option<i32>,
    /// First fiscal year the indicator is no longer evaluated (削除 or replaced).
    pub retired_from_fiscal_year: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub retired_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub retirement_reason: Option<String>,
    /// The indicator this one replaced.
    pub replaces_id: Option<i32>,
    /// How an ambiguous source text was read.
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reading_note: Option<String>,
    /// The indicator of the previous plan this one continues (one series across plans)
    pub predecessor_id: Option<i32>,
    /// The national indicator definition (`/national-indicators/{code}`) this indicator
    /// implements, which makes it comparable across municipalities.
    #[schema(example = "dx2-mynumber-card-issuance-rate")]
    pub national_indicator_code: Option<String>,
    /// The 重点取組事項 of the edition that national definition was set under
    pub national_item: Option<NationalItemRef>,
    /// The latest target revision (see `/indicators/{id}/targets` for all).
    pub current_target: Option<TargetRevision>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub updated_at: NaiveDateTime,
}

impl Indicator {
    /// Whether the indicator is evaluated in `year`.
    pub fn active_in(&self, year: i32) -> bool {
        self.added_fiscal_year.is_none_or(|added| added <= year)
            && self.retired_from_fiscal_year.is_none_or(|retired| year < retired)
    }

    /// Percent and ratio indicators are shares: 0–100.
    pub fn is_share(&self) -> bool {
        matches!(self.kind, IndicatorKind::Percent | IndicatorKind::Ratio)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// 現状 year, usually the year before the revision
    #[schema(example = 2017, minimum = 1989, maximum = 2100)]
    #[serde(default, deserialize_with = "crate::domain::fiscal_year::optional_supported")]
    pub fiscal_year: Option<i32>,
    /// Computed from `fiscal_year`; a label sent in a request is ignored.
    #[serde(default, deserialize_with = "crate::domain::read_only::discard_text")]
    #[schema(read_only, example = "平成29(2017)年度")]
    pub fiscal_year_label: Option<String>,
    /// `null` when the seed prints `—`
    #[schema(value_type = Option<f64>, example = 15.2)]
    #[serde(default, deserialize_with = "crate::domain::decimal_input::optional")]
    pub value: Option<Decimal>,
    /// Milestones: index into `stages`
    pub stage: Option<i32>,
    /// The value as the plan prints it
    #[schema(example = "15.2%", max_length = 200)]
    #[serde(default, deserialize_with = "crate::domain::limits::optional_name")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetRevision {
    pub id: i32,
    pub indicator_id: i32,
    /// `null` for ↑ (trend) and milestone targets
    #[schema(value_type = Option<f64>, example = 230)]
    pub value: Option<Decimal>,
    /// Milestones: index into the indicator's stages
    pub stage: Option<i32>,
    pub stage_name: Option<String>,
    #[schema(example = "230 データセット")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub text: Option<String>,
    #[schema(example = 2020)]
    pub target_fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub target_fiscal_year_label: String,
    /// Evaluations of this fiscal year and later use this revision.
    #[schema(example = 2018)]
    pub effective_from_fiscal_year: i32,
    #[schema(example = "平成30(2018)年度")]
    pub effective_from_fiscal_year_label: String,
    /// Interim yearly targets (fiscal year → value, or stage index for milestones)
    #[schema(value_type = Object, example = json!({"2019": 221}))]
    pub interim: BTreeMap<i32, Decimal>,
    #[schema(example = "更なるオープンデータの公開促進を行うため、目標を210データセットから230データセットに上方修正")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub reason: String,
    pub recorded_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

impl TargetRevision {
    pub fn to_rule_input(&self) -> achievement::TargetRevision {
        achievement::TargetRevision {
            value: self.value,
            stage: self.stage.and_then(|s| usize::try_from(s).ok()),
            target_year: self.target_fiscal_year,
            effective_from_year: self.effective_from_fiscal_year,
            interim: self.interim.clone(),
        }
    }
}

/// A change of what an indicator measures, effective from a fiscal year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DefinitionRevision {
    pub id: i32,
    pub indicator_id: i32,
    pub effective_from_fiscal_year: i32,
    pub effective_from_fiscal_year_label: String,
    #[schema(example = "マイナンバーカードの保有率(保有枚数/人口)")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    pub numerator_label: Option<String>,
    pub denominator_label: Option<String>,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub reason: String,
    pub recorded_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indicator_counts_from_the_year_it_was_added_until_the_year_before_its_retirement() {
        let indicator = Indicator {
            id: 1,
            measure_id: 1,
            number: Some(1),
            name: "指標".into(),
            description: String::new(),
            unit: "%".into(),
            kind: IndicatorKind::Percent,
            direction: Direction::Increase,
            numerator_label: None,
            denominator_label: None,
            stages: vec![],
            department_id: None,
            baseline: Baseline::default(),
            grade_basis: None,
            status: IndicatorStatus::Retired,
            added_fiscal_year: Some(2018),
            retired_from_fiscal_year: Some(2020),
            retired_at: None,
            retirement_reason: None,
            replaces_id: None,
            reading_note: None,
            predecessor_id: None,
            national_indicator_code: None,
            national_item: None,
            current_target: None,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        };
        assert_eq!([2017, 2018, 2019, 2020].map(|y| indicator.active_in(y)), [false, true, true, false]);
        assert!(indicator.is_share());
    }
}

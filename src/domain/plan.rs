//! The vocabulary of a plan: statuses, review categories and indicator kinds.
//!
//! Stored and sent as their snake_case names; the Japanese label is what the seeds print.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::NaiveDateTime;

use crate::domain::achievement::GradingSettings;
use crate::domain::fiscal_year::FiscalYear;
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Plan {
    pub id: i32,
    pub municipality_id: i32,
    #[schema(example = "itabashi-ict-2020")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::code")]
    pub code: String,
    #[schema(example = "板橋区ICT推進・活用計画2020（追録版）")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub description: String,
    #[schema(example = 2016)]
    pub start_fiscal_year: i32,
    #[schema(example = "平成28(2016)年度")]
    pub start_fiscal_year_label: String,
    #[schema(example = 2020)]
    pub end_fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub end_fiscal_year_label: String,
    /// 現状 year of the baselines, when the plan has one.
    pub baseline_fiscal_year: Option<i32>,
    pub status: PlanStatus,
    pub predecessor_id: Option<i32>,
    pub phases: Vec<Phase>,
    /// How achievement is graded; returned with every evaluation.
    pub grading: GradingSettings,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted);
    /// `null`: it is transcribed as the source states it.
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reading_note: Option<String>,
    pub version: i32,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub updated_at: NaiveDateTime,
}

impl Plan {
    /// Rejects a fiscal year outside the plan's period.
    pub fn check_year(&self, field: &str, year: i32) -> Result<FiscalYear, AppError> {
        if year < self.start_fiscal_year || year > self.end_fiscal_year {
            return Err(AppError::invalid(
                field,
                format!(
                    "{year}年度は計画期間（{start_label}〜{end_label}）の外です ({year} is outside the plan period \
                     {start}–{end} ({start_label}–{end_label}))",
                    start = self.start_fiscal_year,
                    end = self.end_fiscal_year,
                    start_label = self.start_fiscal_year_label,
                    end_label = self.end_fiscal_year_label
                ),
            ));
        }
        FiscalYear::new(year).map_err(|e| AppError::invalid(field, e.to_string()))
    }

    pub fn years(&self) -> impl Iterator<Item = i32> + use<> {
        self.start_fiscal_year..=self.end_fiscal_year
    }
}

/// A phase of a plan (前期/後期実施計画). Unknown keys are refused, as in every other table of the
/// plan file and every JSON body, so a misspelt key is never silently dropped.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    #[serde(default)]
    pub id: i32,
    #[schema(example = "後期実施計画", max_length = 200)]
    #[serde(
        deserialize_with = "crate::domain::limits::name",
        serialize_with = "crate::domain::limits::shown_as::name"
    )]
    pub name: String,
    #[schema(example = 2024, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub start_fiscal_year: i32,
    #[schema(example = 2025, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub end_fiscal_year: i32,
    /// How the phase reads its sources where they are silent or inferred
    #[schema(max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub reading_note: Option<String>,
    /// What the phase is for, as its source states it (後期実施計画: 新サービス導入, 経営資源の効率化)
    #[schema(max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub purpose: Option<String>,
    /// Which source states the purpose (`seed 002 1`)
    #[schema(example = "seed 002 1", max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub purpose_source: Option<String>,
}

pub fn label(year: i32) -> String {
    FiscalYear::new(year).map(|fy| fy.label()).unwrap_or_else(|_| format!("{year}年度"))
}

pub fn optional_label(year: Option<i32>) -> Option<String> {
    year.map(label)
}

/// A goal of the plan at one level of its structure: a 基本目標 (①–⑤), an ICT活用ビジョン of the
/// 基本計画, a 基本方針 of one 実施計画 phase (under its vision), a 計画の目的 (ア/イ/ウ). Measures count
/// under one goal (◎); a goal's roll-up also holds the measures of the goals below it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Goal {
    pub id: i32,
    pub plan_id: i32,
    #[schema(example = 2)]
    pub number: i32,
    #[schema(example = "区民サービスの向上")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    /// The level's name as the plan prints it
    #[schema(example = "基本目標")]
    pub kind: String,
    /// The printed marker (`ア`); `null`: ① … from the number
    #[schema(example = "ア")]
    pub symbol: Option<String>,
    /// The goal this one serves (a 基本方針's ICT活用ビジョン)
    pub parent_id: Option<i32>,
    /// The phase (実施計画 前期/後期) the goal belongs to; `null`: the whole plan
    pub phase_id: Option<i32>,
    /// How this record reads its sources where they are silent or inferred (seed and section quoted);
    /// `null`: it is transcribed as the source states it.
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reading_note: Option<String>,
}

/// How plans without a kind name their top-level goals.
pub const DEFAULT_GOAL_KIND: &str = "基本目標";

impl Goal {
    /// `①`, or the printed marker when the plan numbers its goals otherwise (`ア`).
    pub fn marker(&self) -> String {
        self.symbol.clone().unwrap_or_else(|| goal_symbol(self.number))
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Strategy {
    pub id: i32,
    pub plan_id: i32,
    #[schema(example = 1)]
    pub number: i32,
    #[schema(example = "官民データの利活用")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
}

/// ① for 1 … ⑳ for 20: how the seeds number basic goals.
pub fn goal_symbol(number: i32) -> String {
    u32::try_from(number)
        .ok()
        .filter(|n| (1..=20).contains(n))
        .and_then(|n| char::from_u32(0x2460 + n - 1))
        .map(String::from)
        .unwrap_or_else(|| number.to_string())
}

/// Ⅰ for 1 … Ⅻ for 12: how the seeds number strategies.
pub fn strategy_numeral(number: i32) -> String {
    u32::try_from(number)
        .ok()
        .filter(|n| (1..=12).contains(n))
        .and_then(|n| char::from_u32(0x2160 + n - 1))
        .map(String::from)
        .unwrap_or_else(|| number.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Active,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    Active,
    /// 完了: done in `status_fiscal_year`, visible in the years before.
    Completed,
    /// Dropped from the plan in `status_fiscal_year`.
    Retired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorStatus {
    Active,
    /// 削除 or replaced: counted in the years before `retired_fiscal_year` only.
    Retired,
}

/// 見直し区分 of the 追録版.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewCategory {
    /// 継続
    #[serde(alias = "継続")]
    Continued,
    /// 変更 (計画変更)
    #[serde(alias = "変更", alias = "計画変更")]
    Changed,
    /// 完了
    #[serde(alias = "完了")]
    Completed,
    /// 新規
    #[serde(alias = "新規")]
    New,
    /// 官デ新: new under the 官民データ活用推進基本法
    #[serde(alias = "官デ新", alias = "官デ(新)")]
    DataActNew,
    /// 官デ変: changed under the 官民データ活用推進基本法
    #[serde(alias = "官デ変", alias = "官デ(変)")]
    DataActChanged,
}

impl ReviewCategory {
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Continued => "継続",
            Self::Changed => "変更",
            Self::Completed => "完了",
            Self::New => "新規",
            Self::DataActNew => "官デ新",
            Self::DataActChanged => "官デ変",
        }
    }
}

/// How an actual is entered. How it is judged is the separate `Direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// A number with a unit (203 データセット, 441,063 件).
    Count,
    /// numerator / denominator, shown as a percent; departments report both parts.
    Ratio,
    /// A percent reported directly (充足率 57%).
    Percent,
    /// A stage reached (サービス開始, 計画策定).
    Milestone,
}

impl IndicatorKind {
    /// The kind as the 進捗管理表 and the web view name it.
    pub fn name_ja(self) -> &'static str {
        match self {
            Self::Count => "件数・数値",
            Self::Ratio => "比率(分子/分母)",
            Self::Percent => "割合(%)",
            Self::Milestone => "段階",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActualStatus {
    Submitted,
    Returned,
    Approved,
}

/// Text codec for the enums above, so storage and API share one spelling: the serde name.
pub fn to_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

pub fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| format!("unknown value `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_category_accepts_the_seed_labels() {
        let category: ReviewCategory = from_text("官デ変").unwrap();
        assert_eq!(category, ReviewCategory::DataActChanged);
        assert_eq!(to_text(&category), "data_act_changed");
        assert_eq!(category.label_ja(), "官デ変");
    }

    #[test]
    fn unknown_text_is_an_error_naming_the_value() {
        let error = from_text::<IndicatorKind>("gauge").unwrap_err();
        assert!(error.contains("gauge"));
    }
}

#[cfg(test)]
mod entity_tests {
    use super::*;

    #[test]
    fn a_year_outside_the_plan_is_refused_with_both_calendars() {
        let plan = Plan {
            id: 1,
            municipality_id: 1,
            code: "p".into(),
            name: "計画".into(),
            description: String::new(),
            start_fiscal_year: 2016,
            start_fiscal_year_label: label(2016),
            end_fiscal_year: 2020,
            end_fiscal_year_label: label(2020),
            baseline_fiscal_year: None,
            status: PlanStatus::Active,
            predecessor_id: None,
            phases: vec![],
            grading: GradingSettings::default(),
            reading_note: None,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        };
        assert_eq!(plan.check_year("fiscal_year", 2020).unwrap().year(), 2020);
        let Err(AppError::Validation(errors)) = plan.check_year("fiscal_year", 2021) else { panic!("accepted") };
        assert_eq!(
            errors[0].message,
            "2021年度は計画期間（平成28(2016)年度〜令和2(2020)年度）の外です \
             (2021 is outside the plan period 2016–2020 (平成28(2016)年度–令和2(2020)年度))"
        );
        assert_eq!(plan.years().collect::<Vec<_>>(), vec![2016, 2017, 2018, 2019, 2020]);
    }
}

//! The vocabulary of a plan: statuses, review categories and indicator kinds.
//!
//! Stored and sent as their snake_case names; the Japanese label is what the seeds print.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

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
    /// Which source names the reference (`seed 000 2`)
    #[schema(example = "seed 000 2")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub source: Option<String>,
    /// When the referenced law or plan was issued, as precisely as the source dates it:
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`
    #[schema(example = "2016-12-14")]
    pub issued: Option<String>,
    /// How the reference reads its source where it is silent or inferred
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reading_note: Option<String>,
    pub recorded_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

/// Checks an issue date written as precisely as its source dates it (`2016`, `2017-05`,
/// `2016-12-14`): a source that gives only 平成29年5月 is not made to say a day.
pub fn check_issued(issued: &str) -> Result<(), String> {
    check_stated_date("発行日", "issued", issued)
}

/// Checks a date written as precisely as its source dates it, naming the field (`発行日`,
/// `issued`) in the message.
pub fn check_stated_date(label: &str, field: &str, issued: &str) -> Result<(), String> {
    let refused = || {
        format!(
            "{label}「{issued}」は YYYY、YYYY-MM、YYYY-MM-DD のいずれかで書いてください ({field} must be YYYY, YYYY-MM \
             or YYYY-MM-DD)"
        )
    };
    let parts: Vec<&str> = issued.split('-').collect();
    fn digits(part: &str, len: usize) -> bool {
        part.len() == len && part.bytes().all(|b| b.is_ascii_digit())
    }
    let well_formed = match parts.as_slice() {
        [year] => digits(year, 4),
        [year, month] => digits(year, 4) && digits(month, 2) && (1..=12).contains(&month.parse::<u32>().unwrap_or(0)),
        [year, month, day] => {
            digits(year, 4)
                && digits(month, 2)
                && digits(day, 2)
                && chrono::NaiveDate::parse_from_str(issued, "%Y-%m-%d").is_ok()
        }
        _ => false,
    };
    if well_formed { Ok(()) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::check_issued;

    #[test]
    fn an_issue_date_is_as_precise_as_its_source() {
        assert!(check_issued("2016").is_ok());
        assert!(check_issued("2017-05").is_ok());
        assert!(check_issued("2016-12-14").is_ok());
    }

    #[test]
    fn an_issue_date_that_is_no_date_is_refused() {
        for refused in ["2017-13", "2017-02-30", "平成29年5月", "17-05", "2017-5", "2016-12-14-1", ""] {
            let message = check_issued(refused).unwrap_err();
            assert!(message.contains("YYYY-MM"), "{refused}: {message}");
        }
    }
}

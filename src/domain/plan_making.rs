//! How a plan was made, as its sources state it: the bodies that examine and decide it
//! (検討・決定体制), in order, and the dated steps of its drafting (策定, パブリック・コメント, 議会報告).
//! Each record names the source it comes from. Pure: `db::plan_making` stores them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::plan_reference::check_stated_date;
use crate::error::FieldError;

/// One body of the 検討・決定体制, in the order the plan passes through them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GovernanceBody {
    #[schema(example = "情報化推進部会", max_length = 200)]
    #[serde(
        deserialize_with = "crate::domain::limits::name",
        serialize_with = "crate::domain::limits::shown_as::name"
    )]
    pub name: String,
    /// What the body does with the plan, as the source says it
    #[schema(example = "政策経営部長を部会長とし、関係課長で構成され、計画の検討を進める", max_length = 2000)]
    #[serde(
        deserialize_with = "crate::domain::limits::text",
        serialize_with = "crate::domain::limits::shown_as::text"
    )]
    pub role: String,
    /// Which source states it (`seed 000 6(1)`)
    #[schema(example = "seed 000 6(1)", max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub source: Option<String>,
    /// How this record reads its sources where they are silent or inferred
    #[schema(max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub reading_note: Option<String>,
}

/// A dated step in the making of the plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    #[schema(example = "策定報告", max_length = 200)]
    #[serde(
        deserialize_with = "crate::domain::limits::name",
        serialize_with = "crate::domain::limits::shown_as::name"
    )]
    pub what: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as precisely as the source dates it (never a made-up day)
    #[schema(example = "2024-02", max_length = 64)]
    #[serde(
        deserialize_with = "crate::domain::limits::code",
        serialize_with = "crate::domain::limits::shown_as::code"
    )]
    pub date: String,
    /// The source gives it as a schedule (予定), not as done
    #[serde(default)]
    pub planned: bool,
    /// The body it happens at (企画総務委員会), when the source names one
    #[schema(example = "企画総務委員会", max_length = 200)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_name",
        serialize_with = "crate::domain::limits::shown_as::optional_name"
    )]
    pub body: Option<String>,
    /// Which source states it (`seed 002 7`)
    #[schema(example = "seed 002 7", max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub source: Option<String>,
    /// How this record reads its sources where they are silent or inferred
    #[schema(max_length = 2000)]
    #[serde(
        default,
        deserialize_with = "crate::domain::limits::optional_text",
        serialize_with = "crate::domain::limits::shown_as::optional_text"
    )]
    pub reading_note: Option<String>,
}

/// How a plan was made: its bodies in order and its milestones in order, each with its source.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanMaking {
    /// 検討・決定体制: the bodies the plan passes through, in order (部会 → 本部 → 議会報告)
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub governance: Vec<GovernanceBody>,
    /// The dated steps of the drafting (策定, パブリック・コメント, 議会報告), in order
    #[serde(default, deserialize_with = "crate::domain::limits::list")]
    #[schema(max_items = 100)]
    pub milestones: Vec<Milestone>,
}

/// Refuses a milestone date more or less precise than a date can be (`2024-2`, `令和6年2月`),
/// naming each refused one by its place in the list (`milestones[1].date`).
pub fn check_milestones(field: &str, milestones: &[Milestone]) -> Result<(), Vec<FieldError>> {
    let errors: Vec<FieldError> = milestones
        .iter()
        .enumerate()
        .filter_map(|(i, milestone)| {
            check_stated_date("日付", "date", &milestone.date)
                .err()
                .map(|message| FieldError::new(format!("{field}[{i}].date"), message))
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milestone(date: &str) -> Milestone {
        Milestone {
            what: "策定報告".into(),
            date: date.into(),
            planned: true,
            body: Some("企画総務委員会".into()),
            source: Some("seed 002 7".into()),
            reading_note: None,
        }
    }

    #[test]
    fn a_milestone_is_dated_as_precisely_as_its_source() {
        assert!(
            check_milestones("milestones", &[milestone("2021"), milestone("2024-02"), milestone("2023-06-12")]).is_ok()
        );
    }

    #[test]
    fn a_milestone_date_that_is_no_date_is_refused_by_its_place() {
        let errors = check_milestones("milestones", &[milestone("2021"), milestone("令和6年2月"), milestone("2024-2")])
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["milestones[1].date", "milestones[2].date"]);
        assert!(errors[0].message.contains("日付「令和6年2月」"), "{}", errors[0].message);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let refused =
            serde_json::from_value::<Milestone>(serde_json::json!({"what": "策定", "date": "2021", "day": 1}));
        assert!(refused.unwrap_err().to_string().contains("unknown field `day`"));
        let refused =
            serde_json::from_value::<GovernanceBody>(serde_json::json!({"name": "部会", "role": "検討", "rank": 1}));
        assert!(refused.unwrap_err().to_string().contains("unknown field `rank`"));
    }
}

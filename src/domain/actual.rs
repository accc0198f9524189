//! An actual (実績): what a department reported for an indicator and year, each version of it,
//! and the state its versions fold to (the approved figures and the latest). Pure: `db::actuals` stores it.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::achievement::{ActualValue, round_for_output};
use crate::domain::plan::ActualStatus;
use crate::domain::submission::ActualEventKind;

/// What was reported: a value, a numerator and denominator, or a milestone stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Reported {
    #[schema(value_type = Option<f64>, example = 220)]
    pub value: Option<Decimal>,
    #[schema(value_type = Option<f64>, example = 180000)]
    pub numerator: Option<Decimal>,
    #[schema(value_type = Option<f64>, example = 570000)]
    pub denominator: Option<Decimal>,
    pub stage: Option<i32>,
}

impl Reported {
    /// The rule input: a ratio, a number or a stage.
    pub fn to_actual_value(&self) -> Option<ActualValue> {
        match (self.numerator, self.denominator, self.value, self.stage) {
            (Some(numerator), Some(denominator), _, _) => Some(ActualValue::Ratio { numerator, denominator }),
            (_, _, Some(value), _) => Some(ActualValue::Number(value)),
            (_, _, _, Some(stage)) => usize::try_from(stage).ok().map(ActualValue::Stage),
            _ => None,
        }
    }

    /// A ratio's percent, rounded for display.
    pub fn rate(&self) -> Option<Decimal> {
        match self.to_actual_value()? {
            value @ ActualValue::Ratio { .. } => value.as_rate().map(round_for_output),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Actual {
    pub id: i32,
    pub indicator_id: i32,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    #[serde(flatten)]
    pub reported: Reported,
    /// Ratios: numerator / denominator × 100, rounded to one decimal
    #[schema(value_type = Option<f64>, example = 31.6)]
    pub rate: Option<Decimal>,
    pub stage_name: Option<String>,
    #[schema(example = "出張申請受付の実施により増加")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub note: String,
    pub status: ActualStatus,
    /// Generated demo data, never a real figure
    pub is_sample: bool,
    pub version: i32,
    pub submitted_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub submitted_at: NaiveDateTime,
    pub reviewed_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub reviewed_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub review_comment: Option<String>,
}

/// One version of an actual, as the history shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActualEvent {
    pub version: i32,
    pub event: ActualEventKind,
    #[serde(flatten)]
    pub reported: Reported,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub note: String,
    pub status: ActualStatus,
    pub is_sample: bool,
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub comment: Option<String>,
    pub actor_id: Option<i32>,
    pub actor_username: Option<String>,
    /// The department the actor belonged to when acting (`null` for hq acting on its behalf)
    pub actor_department_id: Option<i32>,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
}

/// What the evaluation of one indicator-year uses, folded from its events up to `as_of`.
#[derive(Debug, Clone, Default)]
pub struct ActualState {
    /// The latest approved figures: the official value until a newer one is approved.
    pub approved: Option<ActualEvent>,
    /// The latest version, whatever its status.
    pub latest: Option<ActualEvent>,
}

impl ActualState {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a ActualEvent>, as_of: Option<NaiveDateTime>) -> Self {
        let mut state = Self::default();
        for event in events.into_iter().filter(|e| as_of.is_none_or(|t| e.recorded_at <= t)) {
            if event.status == ActualStatus::Approved {
                state.approved = Some(event.clone());
            }
            state.latest = Some(event.clone());
        }
        state
    }

    /// A submission waits for review.
    pub fn pending(&self) -> bool {
        self.latest.as_ref().is_some_and(|e| e.status == ActualStatus::Submitted)
    }

    pub fn returned(&self) -> bool {
        self.latest.as_ref().is_some_and(|e| e.status == ActualStatus::Returned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(version: i32, status: ActualStatus, day: u32) -> ActualEvent {
        ActualEvent {
            version,
            event: ActualEventKind::Submitted,
            reported: Reported { value: Some(Decimal::from(version)), ..Reported::default() },
            note: String::new(),
            status,
            is_sample: false,
            comment: None,
            actor_id: None,
            actor_username: None,
            actor_department_id: None,
            recorded_at: chrono::NaiveDate::from_ymd_opt(2021, 5, day).unwrap().and_hms_opt(0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn the_approved_figures_stay_official_until_newer_ones_are_approved() {
        let events = [
            event(1, ActualStatus::Submitted, 1),
            event(2, ActualStatus::Approved, 2),
            event(3, ActualStatus::Returned, 3),
        ];
        let state = ActualState::fold(&events, None);
        assert_eq!(state.approved.as_ref().map(|e| e.version), Some(2));
        assert_eq!(state.latest.as_ref().map(|e| e.version), Some(3));
        assert!(state.returned() && !state.pending());
        let before_approval = ActualState::fold(&events, Some(events[0].recorded_at));
        assert!(before_approval.approved.is_none() && before_approval.pending());
    }

    #[test]
    fn a_ratio_reports_its_rounded_percent() {
        let reported =
            Reported { numerator: Some(180000.into()), denominator: Some(570000.into()), ..Reported::default() };
        assert_eq!(reported.rate(), Some(Decimal::new(316, 1)));
        assert_eq!(Reported { value: Some(220.into()), ..Reported::default() }.rate(), None);
    }
}

//! A measure (推進施策) of a plan: when it is part of the plan, and which departments own it in a
//! year. Pure: `db::measures` loads and stores it.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::plan::{MeasureStatus, ReviewCategory};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Measure {
    pub id: i32,
    pub plan_id: i32,
    /// No. within the plan
    #[schema(example = 6)]
    pub number: i32,
    #[schema(example = "マイナンバー制度への対応")]
    #[serde(serialize_with = "crate::domain::limits::shown_as::name")]
    pub name: String,
    #[serde(serialize_with = "crate::domain::limits::shown_as::text")]
    pub summary: String,
    pub strategy_id: Option<i32>,
    /// ◎ the goal the measure counts under (a 基本目標, 基本方針, 計画の目的…); `null` when the plan
    /// places it under none
    pub main_goal_id: Option<i32>,
    /// ○ goals it also serves (listed, never double-counted)
    pub secondary_goal_ids: Vec<i32>,
    /// 所管課, lead first; `until_fiscal_year` is set once a department stopped owning it
    pub owners: Vec<Owner>,
    /// The seed writes 「…ほか」: more departments take part than are listed.
    pub owners_and_others: bool,
    /// 見直し区分; `null`: no source states one
    pub review_category: Option<ReviewCategory>,
    #[schema(example = "官デ変")]
    pub review_category_label: Option<String>,
    pub status: MeasureStatus,
    /// The fiscal year the measure was completed or retired.
    pub status_fiscal_year: Option<i32>,
    pub status_fiscal_year_label: Option<String>,
    /// When the status was last changed.
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub status_recorded_at: Option<NaiveDateTime>,
    /// The fiscal year a measure added mid-plan starts.
    pub added_fiscal_year: Option<i32>,
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub change_notes: Option<String>,
    /// The phase (実施計画 前期/後期) the measure belongs to; `null`: it runs through the whole plan
    pub phase_id: Option<i32>,
    /// The phase's years, when the measure belongs to one
    pub phase_span: Option<PhaseSpan>,
    /// The measure of the previous plan this one carries over
    pub predecessor_id: Option<i32>,
    pub roadmap: Vec<RoadmapEntry>,
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

impl Measure {
    /// Whether the measure is part of the plan in `year`: within its phase, added by then and not
    /// completed before.
    pub fn active_in(&self, year: i32) -> bool {
        if !self.in_phase(year) {
            return false;
        }
        let started = self.added_fiscal_year.is_none_or(|added| added <= year);
        let ended = match self.status {
            MeasureStatus::Active => false,
            // A measure completed in year Y is reported for Y and not after.
            MeasureStatus::Completed | MeasureStatus::Retired => self.status_fiscal_year.is_some_and(|end| year > end),
        };
        started && !ended
    }

    /// Whether `year` lies in the measure's phase (always, for a measure of the whole plan).
    pub fn in_phase(&self, year: i32) -> bool {
        self.phase_span.is_none_or(|span| span.contains(year))
    }

    /// Whether `department_id` owned the measure in `year` (any year when `None`).
    pub fn owned_by(&self, department_id: i32, year: Option<i32>) -> bool {
        self.owners.iter().any(|owner| owner.department_id == department_id && owner.in_force(year))
    }
}

/// The fiscal years of a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PhaseSpan {
    #[schema(example = 2021)]
    pub start_fiscal_year: i32,
    #[schema(example = 2023)]
    pub end_fiscal_year: i32,
}

impl PhaseSpan {
    pub fn contains(&self, year: i32) -> bool {
        (self.start_fiscal_year..=self.end_fiscal_year).contains(&year)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Owner {
    pub department_id: i32,
    #[schema(example = "family-registry")]
    pub department_code: String,
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    pub is_lead: bool,
    /// First fiscal year of ownership (`null`: from the start of the plan).
    pub from_fiscal_year: Option<i32>,
    /// Last fiscal year of ownership (`null`: still owns it).
    pub until_fiscal_year: Option<i32>,
    /// When the ownership was recorded, and when its end was (for evaluations `as_of` a time).
    #[serde(serialize_with = "crate::domain::timestamp::serialize_utc")]
    pub recorded_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::timestamp::serialize_optional_utc")]
    pub removed_at: Option<NaiveDateTime>,
    /// How this link reads its sources (a 所管課 assumed where no seed names one); `null`: the
    /// source names this department
    #[serde(serialize_with = "crate::domain::limits::shown_as::optional_text")]
    pub reading_note: Option<String>,
}

impl Owner {
    pub fn in_force(&self, year: Option<i32>) -> bool {
        match year {
            None => self.until_fiscal_year.is_none(),
            Some(year) => {
                self.from_fiscal_year.is_none_or(|from| from <= year)
                    && self.until_fiscal_year.is_none_or(|until| year <= until)
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoadmapEntry {
    /// The row of the roadmap (`情報連携`, `マイナンバーカード`), empty for a single row.
    #[serde(default, deserialize_with = "crate::domain::limits::name")]
    #[schema(max_length = 200)]
    pub track: String,
    #[schema(example = 2018, minimum = 1989, maximum = 2100)]
    #[serde(deserialize_with = "crate::domain::fiscal_year::supported")]
    pub fiscal_year: i32,
    /// Computed from `fiscal_year`; a label sent in a request is ignored.
    #[serde(default, deserialize_with = "crate::domain::read_only::discard_text")]
    #[schema(read_only, example = "平成30(2018)年度")]
    pub fiscal_year_label: String,
    #[schema(example = "運用", max_length = 2000)]
    #[serde(deserialize_with = "crate::domain::limits::text")]
    pub activity: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(department_id: i32, from: Option<i32>, until: Option<i32>) -> Owner {
        Owner {
            department_id,
            department_code: format!("d{department_id}"),
            department_name: "課".into(),
            is_lead: false,
            from_fiscal_year: from,
            until_fiscal_year: until,
            recorded_at: NaiveDateTime::default(),
            removed_at: None,
            reading_note: None,
        }
    }

    fn measure(
        status: MeasureStatus,
        status_year: Option<i32>,
        added: Option<i32>,
        span: Option<(i32, i32)>,
    ) -> Measure {
        Measure {
            id: 1,
            plan_id: 1,
            number: 1,
            name: "施策".into(),
            summary: String::new(),
            strategy_id: None,
            main_goal_id: None,
            secondary_goal_ids: vec![],
            owners: vec![owner(10, None, Some(2019)), owner(20, Some(2019), None)],
            owners_and_others: false,
            review_category: Some(ReviewCategory::Continued),
            review_category_label: None,
            status,
            status_fiscal_year: status_year,
            status_fiscal_year_label: None,
            status_recorded_at: None,
            added_fiscal_year: added,
            change_notes: None,
            phase_id: None,
            phase_span: span
                .map(|(start_fiscal_year, end_fiscal_year)| PhaseSpan { start_fiscal_year, end_fiscal_year }),
            predecessor_id: None,
            roadmap: vec![],
            reading_note: None,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    #[test]
    fn a_completed_measure_is_reported_in_its_last_year_and_not_after() {
        let completed = measure(MeasureStatus::Completed, Some(2018), None, None);
        assert!(completed.active_in(2017) && completed.active_in(2018));
        assert!(!completed.active_in(2019));
    }

    #[test]
    fn a_measure_added_mid_plan_or_of_a_phase_counts_only_in_its_years() {
        let added = measure(MeasureStatus::Active, None, Some(2019), None);
        assert!(!added.active_in(2018) && added.active_in(2019));
        let later_phase = measure(MeasureStatus::Active, None, None, Some((2024, 2025)));
        assert!(!later_phase.active_in(2023) && later_phase.active_in(2024) && !later_phase.active_in(2026));
    }

    #[test]
    fn ownership_follows_the_years_each_department_held_it() {
        let m = measure(MeasureStatus::Active, None, None, None);
        assert!(m.owned_by(10, Some(2018)) && m.owned_by(10, Some(2019)) && !m.owned_by(10, Some(2020)));
        assert!(!m.owned_by(20, Some(2018)) && m.owned_by(20, Some(2020)));
        assert!(!m.owned_by(10, None), "an ended ownership is not current");
        assert!(m.owned_by(20, None));
    }
}

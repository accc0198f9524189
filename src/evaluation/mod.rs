//! Achievement of recorded indicators: gathers what was in force for a year (target revision,
//! definition, approved actual), optionally as recorded at a past moment, and applies the pure
//! rules of [`crate::domain::achievement`].

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::achievement::{self, Achievement, Direction, GradingSettings, IndicatorDefinition, YearInput};
use crate::domain::actual::{ActualEvent, ActualState};
use crate::domain::indicator::{Baseline, DefinitionRevision, Indicator, TargetRevision};
use crate::domain::plan::IndicatorKind;
use crate::domain::plan::label;

/// Everything the rules used for one indicator and year, so a reader can recompute it by hand.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AchievementInputs {
    pub direction: Direction,
    pub kind: IndicatorKind,
    pub unit: String,
    pub baseline: Baseline,
    /// The target revision in force for the year (latest with effective_from ≤ year)
    pub target: Option<TargetRevision>,
    /// The definition in force, when it was revised (else the indicator's own)
    pub definition: Option<DefinitionRevision>,
    /// The approved figures used as `a`
    pub approved_actual: Option<ActualEvent>,
    /// A newer submission awaiting review: reported, never used
    pub pending_actual: Option<ActualEvent>,
    /// The plan's grading settings (thresholds and basis)
    pub grading: GradingSettings,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorYear {
    pub indicator_id: i32,
    #[schema(example = 2019)]
    pub fiscal_year: i32,
    #[schema(example = "令和元(2019)年度")]
    pub fiscal_year_label: String,
    pub inputs: AchievementInputs,
    pub result: Achievement,
}

/// Whether the indicator counts in `year`, as recorded at `as_of` (a retirement recorded later
/// did not exist yet).
pub fn indicator_counts_in(indicator: &Indicator, year: i32, as_of: Option<NaiveDateTime>) -> bool {
    let retirement_known = match (indicator.retired_at, as_of) {
        (Some(at), Some(as_of)) => at <= as_of,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let added = indicator.added_fiscal_year.is_none_or(|added| added <= year);
    let retired = retirement_known && indicator.retired_from_fiscal_year.is_some_and(|from| year >= from);
    let existed = as_of.is_none_or(|t| indicator.created_at <= t);
    added && !retired && existed
}

pub fn definition_of(indicator: &Indicator) -> IndicatorDefinition {
    IndicatorDefinition {
        direction: indicator.direction,
        baseline: indicator.baseline.value,
        baseline_year: indicator.baseline.fiscal_year,
        baseline_stage: indicator.baseline.stage.and_then(|s| usize::try_from(s).ok()),
        stage_count: indicator.stages.len(),
        grade_basis_override: indicator.grade_basis,
    }
}

/// Evaluates one indicator for one year from its records. `targets`, `definitions` and `events`
/// are the indicator's own (any order of years, oldest first within them).
pub fn evaluate_year(
    indicator: &Indicator,
    targets: &[TargetRevision],
    definitions: &[DefinitionRevision],
    events: &[&ActualEvent],
    settings: &GradingSettings,
    year: i32,
    as_of: Option<NaiveDateTime>,
) -> IndicatorYear {
    let recorded = |at: NaiveDateTime| as_of.is_none_or(|t| at <= t);
    let known_targets: Vec<&TargetRevision> = targets.iter().filter(|t| recorded(t.recorded_at)).collect();
    let rule_targets: Vec<achievement::TargetRevision> = known_targets.iter().map(|t| t.to_rule_input()).collect();
    let target_index = achievement::target_in_force(&rule_targets, year)
        .and_then(|found| rule_targets.iter().position(|t| std::ptr::eq(t, found)));
    let target = target_index.map(|i| known_targets[i].clone());
    let definition =
        definitions.iter().rfind(|d| recorded(d.recorded_at) && d.effective_from_fiscal_year <= year).cloned();
    let state = ActualState::fold(events.iter().copied(), as_of);
    let approved_value = state.approved.as_ref().and_then(|e| e.reported.to_actual_value());
    let result = achievement::evaluate(
        &definition_of(indicator),
        &YearInput {
            year,
            target: target_index.map(|i| &rule_targets[i]),
            approved: approved_value.as_ref(),
            pending: state.pending(),
        },
        settings,
    );
    IndicatorYear {
        indicator_id: indicator.id,
        fiscal_year: year,
        fiscal_year_label: label(year),
        inputs: AchievementInputs {
            direction: indicator.direction,
            kind: indicator.kind,
            unit: indicator.unit.clone(),
            baseline: indicator.baseline.clone(),
            target,
            definition,
            pending_actual: state.pending().then(|| state.latest.clone()).flatten(),
            approved_actual: state.approved,
            grading: settings.clone(),
        },
        result,
    }
}

pub mod comparison;
pub mod measure_year;
pub mod plan;
pub mod progress_report;
pub mod records_cache;
pub mod series;

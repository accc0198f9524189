//! One national indicator across municipalities for one fiscal year: the records are loaded in a
//! fixed number of queries whatever the number of municipalities, each municipality's indicator is
//! evaluated by the same rules as its own plan's evaluation, and [`crate::domain::comparison`]
//! ranks and totals them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{evaluate_year, indicator_counts_in};
use crate::db::DbConnection;
use crate::db::actuals::{self, IndicatorEvent};
use crate::db::departments;
use crate::db::indicators;
use crate::db::national_indicators;
use crate::db::plans;
use crate::domain::achievement::{Status, round_for_output};
use crate::domain::comparison::{self, ComparisonSummary, Figures, ReportState};
use crate::domain::indicator::{DefinitionRevision, Indicator, TargetRevision};
use crate::domain::municipality::Municipality;
use crate::domain::national_indicator::NationalIndicator;
use crate::domain::plan::ActualStatus;
use crate::domain::plan::{Plan, label};
use crate::error::AppError;

/// Everything recorded for one national indicator and one fiscal year.
pub struct ComparisonRecords {
    pub definition: NationalIndicator,
    pub municipalities: Vec<Municipality>,
    pub plans: Vec<Plan>,
    pub indicators: Vec<Indicator>,
    /// indicator id → plan id
    pub plan_of: BTreeMap<i32, i32>,
    pub targets: BTreeMap<i32, Vec<TargetRevision>>,
    pub definitions: Vec<DefinitionRevision>,
    pub events: Vec<IndicatorEvent>,
}

/// Loads the records with the same eight queries whatever the number of municipalities.
pub fn load(conn: &mut DbConnection, code: &str, fiscal_year: i32) -> Result<ComparisonRecords, AppError> {
    let definition = national_indicators::get(conn, code)?;
    let municipalities = departments::list_municipalities(conn)?;
    let ((indicators, targets), plan_of) = indicators::list_implementing_with_targets(conn, code)?;
    let plan_ids: Vec<i32> = {
        let mut ids: Vec<i32> = plan_of.values().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let plans = plans::list_by_ids(conn, &plan_ids)?;
    let ids: Vec<i32> = indicators.iter().map(|i| i.id).collect();
    let definitions = indicators::list_definitions(conn, &ids)?;
    let events = actuals::events_in_year(conn, &ids, fiscal_year)?;
    Ok(ComparisonRecords { definition, municipalities, plans, indicators, plan_of, targets, definitions, events })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MunicipalityRef {
    pub id: i32,
    #[schema(example = "131199")]
    pub code: String,
    #[schema(example = "板橋区")]
    pub name: String,
}

/// One municipality's line of the comparison.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComparisonRow {
    /// 1 = best in the indicator's direction; equal values share a rank; `null` without a value
    pub rank: Option<usize>,
    pub municipality: MunicipalityRef,
    pub plan_id: i32,
    pub plan_name: String,
    pub indicator_id: i32,
    #[schema(example = "マイナンバーカードの交付率(交付件数/人口)")]
    pub indicator_name: String,
    pub state: ReportState,
    /// The approved value (a ratio's percent), rounded to one decimal
    #[schema(value_type = Option<f64>, example = 25.0)]
    pub value: Option<Decimal>,
    #[schema(value_type = Option<f64>, example = 60)]
    pub numerator: Option<Decimal>,
    #[schema(value_type = Option<f64>, example = 240)]
    pub denominator: Option<Decimal>,
    /// Generated demo or synthetic data, never a real figure
    pub is_sample: bool,
    /// The municipality's target in force for the year
    #[schema(value_type = Option<f64>, example = 35.1)]
    pub target: Option<Decimal>,
    pub target_fiscal_year: Option<i32>,
    /// 達成率 (`achievement.md`), where a target is in force
    #[schema(value_type = Option<f64>)]
    pub attainment_rate: Option<Decimal>,
    /// 進捗率 (`achievement.md`), where a target and a baseline are known
    #[schema(value_type = Option<f64>)]
    pub progress_rate: Option<Decimal>,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NationalComparison {
    pub national_indicator: NationalIndicator,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    pub summary: ComparisonSummary,
    /// By rank, then by municipality code
    pub rows: Vec<ComparisonRow>,
}

/// The comparison for `year`. A municipality with several implementing indicators in force (two
/// overlapping plans) is represented by the one with an approved value, else the newest.
pub fn compare(records: &ComparisonRecords, year: i32) -> NationalComparison {
    let plans: BTreeMap<i32, &Plan> = records.plans.iter().map(|p| (p.id, p)).collect();
    let municipalities: BTreeMap<i32, &Municipality> = records.municipalities.iter().map(|m| (m.id, m)).collect();
    let mut definitions: BTreeMap<i32, Vec<DefinitionRevision>> = BTreeMap::new();
    for definition in &records.definitions {
        definitions.entry(definition.indicator_id).or_default().push(definition.clone());
    }
    let mut events: BTreeMap<i32, Vec<&crate::domain::actual::ActualEvent>> = BTreeMap::new();
    for event in &records.events {
        events.entry(event.indicator_id).or_default().push(&event.event);
    }
    let mut chosen: BTreeMap<i32, (ComparisonRow, Figures)> = BTreeMap::new();
    for indicator in &records.indicators {
        let Some(plan) = records.plan_of.get(&indicator.id).and_then(|id| plans.get(id)) else { continue };
        if year < plan.start_fiscal_year || year > plan.end_fiscal_year || !indicator_counts_in(indicator, year, None) {
            continue;
        }
        let evaluated = evaluate_year(
            indicator,
            records.targets.get(&indicator.id).map(Vec::as_slice).unwrap_or_default(),
            definitions.get(&indicator.id).map(Vec::as_slice).unwrap_or_default(),
            events.get(&indicator.id).map(Vec::as_slice).unwrap_or_default(),
            &plan.grading,
            year,
            None,
        );
        let approved = evaluated.inputs.approved_actual.as_ref();
        let reported = approved.map(|e| &e.reported);
        // Submitted or returned and not (re)approved since.
        let in_review =
            events.get(&indicator.id).and_then(|e| e.last()).is_some_and(|e| e.status != ActualStatus::Approved);
        let value = reported.and_then(|r| r.to_actual_value()).and_then(|v| v.as_rate());
        let figures = Figures { value, parts: reported.and_then(|r| r.numerator.zip(r.denominator)), in_review };
        let Some(municipality) = municipalities.get(&plan.municipality_id) else { continue };
        let row = ComparisonRow {
            rank: None,
            municipality: MunicipalityRef {
                id: municipality.id,
                code: municipality.code.clone(),
                name: municipality.name.clone(),
            },
            plan_id: plan.id,
            plan_name: plan.name.clone(),
            indicator_id: indicator.id,
            indicator_name: indicator.name.clone(),
            state: figures.state(),
            value: value.map(round_for_output),
            numerator: reported.and_then(|r| r.numerator),
            denominator: reported.and_then(|r| r.denominator),
            is_sample: approved.is_some_and(|e| e.is_sample),
            target: evaluated.inputs.target.as_ref().and_then(|t| t.value),
            target_fiscal_year: evaluated.inputs.target.as_ref().map(|t| t.target_fiscal_year),
            attainment_rate: evaluated.result.attainment_rate,
            progress_rate: evaluated.result.progress_rate,
            status: evaluated.result.status,
        };
        // Prefer a reported line; among equals the later indicator (the newer plan).
        let keep_existing = chosen
            .get(&municipality.id)
            .is_some_and(|(_, existing)| existing.value.is_some() && figures.value.is_none());
        if !keep_existing {
            chosen.insert(municipality.id, (row, figures));
        }
    }
    let (mut rows, figures): (Vec<ComparisonRow>, Vec<Figures>) = chosen.into_values().unzip();
    let values: Vec<Option<Decimal>> = figures.iter().map(|f| f.value).collect();
    for (row, rank) in rows.iter_mut().zip(comparison::ranks(&values, records.definition.direction)) {
        row.rank = rank;
    }
    rows.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.municipality.code).cmp(&(b.rank.is_none(), b.rank, &b.municipality.code))
    });
    NationalComparison {
        national_indicator: records.definition.clone(),
        fiscal_year: year,
        fiscal_year_label: label(year),
        summary: comparison::summarise(&figures, records.municipalities.len()),
        rows,
    }
}

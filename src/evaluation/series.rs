//! One indicator's series across successive plans: every fiscal year of the chain of indicators
//! linked by `predecessor_id`, each year with the plan and phase in force, the target in force, the
//! approved actual and the achievement, by the same rules as the plan evaluation.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::evaluate_year;
use crate::db::DbConnection;
use crate::db::actuals;
use crate::db::indicators;
use crate::db::name_revisions::{self, Named};
use crate::db::plans;
use crate::domain::achievement::Achievement;
use crate::domain::actual::ActualEvent;
use crate::domain::ids::{IndicatorId, PlanId};
use crate::domain::indicator::TargetRevision;
use crate::domain::lineage::{self, MAX_CHAIN_LENGTH};
use crate::domain::name_history::name_in_force;
use crate::domain::plan::{Plan, label};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesYear {
    #[schema(example = 2022)]
    pub fiscal_year: i32,
    #[schema(example = "令和4(2022)年度")]
    pub fiscal_year_label: String,
    pub plan_id: i32,
    #[schema(example = "itabashi-dx-2025")]
    pub plan_code: String,
    /// The plan's name in force that year
    #[schema(example = "板橋区ICT推進・活用計画2025")]
    pub plan_name: String,
    /// The phase in force (the latest-starting one holding the year), if the plan has phases
    pub phase_id: Option<i32>,
    #[schema(example = "前期実施計画")]
    pub phase_name: Option<String>,
    /// The indicator that speaks for the year (the successor's from its plan's first year)
    pub indicator_id: i32,
    #[schema(example = "ぴったりサービスでオンライン申請できる手続数")]
    pub indicator_name: String,
    pub target: Option<TargetRevision>,
    pub approved_actual: Option<ActualEvent>,
    pub result: Achievement,
}

/// Follows the links from `indicator_id` both ways, at most [`MAX_CHAIN_LENGTH`] steps of one query.
fn links(conn: &mut DbConnection, indicator_id: i32) -> Result<Vec<(lineage::Link, i32)>, AppError> {
    let mut found: BTreeMap<i32, (lineage::Link, i32)> = BTreeMap::new();
    let mut frontier = vec![indicator_id];
    for _ in 0..MAX_CHAIN_LENGTH {
        if frontier.is_empty() {
            break;
        }
        let step = indicators::lineage_step(conn, &frontier)?;
        let predecessors: Vec<i32> = step.iter().filter_map(|(link, _)| link.predecessor_id).collect();
        let mut next = BTreeSet::new();
        for (link, plan_id) in step {
            if found.insert(link.indicator_id, (link, plan_id)).is_none() {
                next.insert(link.indicator_id);
            }
        }
        next.extend(predecessors.into_iter().filter(|id| !found.contains_key(id)));
        frontier = next.into_iter().collect();
    }
    Ok(found.into_values().collect())
}

/// The series of the indicator, oldest year first.
pub fn load(conn: &mut DbConnection, indicator_id: IndicatorId) -> Result<Vec<SeriesYear>, AppError> {
    indicators::get(conn, indicator_id)?;
    let found = links(conn, indicator_id.get())?;
    let plan_of: BTreeMap<i32, i32> = found.iter().map(|(link, plan_id)| (link.indicator_id, *plan_id)).collect();
    let all: Vec<lineage::Link> = found.iter().map(|(link, _)| *link).collect();
    let chain = lineage::chain(&all, indicator_id.get());
    let ids: Vec<i32> = chain.iter().map(|l| l.indicator_id).collect();
    let (chain_indicators, targets) = indicators::list_by_ids_with_targets(conn, &ids)?;
    let definitions = indicators::list_definitions(conn, &ids)?;
    let events = actuals::events_for(conn, &ids)?;
    let plan_ids: BTreeSet<i32> = ids.iter().filter_map(|id| plan_of.get(id).copied()).collect();
    let plans: BTreeMap<i32, Plan> = plan_ids
        .iter()
        .map(|id| plans::get(conn, PlanId::new(*id)).map(|plan| (*id, plan)))
        .collect::<Result<_, _>>()?;
    let plan_id_list: Vec<i32> = plan_ids.into_iter().collect();
    let names = name_revisions::for_entities(conn, &plan_id_list, &[], &ids)?;
    let no_targets = Vec::new();

    let mut series = Vec::new();
    for (year, link) in lineage::years(&chain) {
        let (Some(indicator), Some(plan)) = (
            chain_indicators.iter().find(|i| i.id == link.indicator_id),
            plan_of.get(&link.indicator_id).and_then(|id| plans.get(id)),
        ) else {
            continue;
        };
        let own_definitions: Vec<_> = definitions.iter().filter(|d| d.indicator_id == indicator.id).cloned().collect();
        let own_events: Vec<&ActualEvent> = events
            .iter()
            .filter(|e| e.indicator_id == indicator.id && e.fiscal_year == year)
            .map(|e| &e.event)
            .collect();
        let targets = targets.get(&indicator.id).unwrap_or(&no_targets);
        let evaluated = evaluate_year(indicator, targets, &own_definitions, &own_events, &plan.grading, year, None);
        let phase = plan
            .phases
            .iter()
            .filter(|p| (p.start_fiscal_year..=p.end_fiscal_year).contains(&year))
            .max_by_key(|p| (p.start_fiscal_year, p.id));
        let revisions = |entity| names.get(&entity).map(Vec::as_slice).unwrap_or_default();
        series.push(SeriesYear {
            fiscal_year: year,
            fiscal_year_label: label(year),
            plan_id: plan.id,
            plan_code: plan.code.clone(),
            plan_name: name_in_force(&plan.name, revisions(Named::Plan(plan.id)), Some(year), None).to_owned(),
            phase_id: phase.map(|p| p.id),
            phase_name: phase.map(|p| p.name.clone()),
            indicator_id: indicator.id,
            indicator_name: evaluated.inputs.definition.as_ref().map_or_else(
                || {
                    name_in_force(&indicator.name, revisions(Named::Indicator(indicator.id)), Some(year), None)
                        .to_owned()
                },
                |d| d.name.clone(),
            ),
            target: evaluated.inputs.target,
            approved_actual: evaluated.inputs.approved_actual,
            result: evaluated.result,
        });
    }
    Ok(series)
}

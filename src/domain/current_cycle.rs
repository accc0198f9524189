//! Where a municipality's yearly cycle stands: the plan and fiscal year its clerks work on now, so
//! that every screen opens there (not on an empty year of the newest plan).
//!
//! In order: the newest fiscal year whose collection is open; else the latest fiscal year with any
//! actual; else the current fiscal year within the plan that runs latest (its first or last year
//! when today lies outside it).

use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::plan::label;

/// What one plan says about the cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanActivity {
    pub plan_id: i32,
    /// The plan's status is `active`
    pub active: bool,
    pub start_fiscal_year: i32,
    pub end_fiscal_year: i32,
    /// Collection windows not closed: fiscal year and when it was opened
    pub open_collections: Vec<(i32, NaiveDateTime)>,
    /// The latest fiscal year with an actual of any status
    pub latest_year_with_actuals: Option<i32>,
}

/// Why the cycle stands where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CycleBasis {
    /// The year's collection is open (the newest open year)
    CollectionOpen,
    /// No collection is open; the latest year with actuals
    LatestActuals,
    /// Nothing collected yet; the current fiscal year of the plan that runs latest
    PlanPeriod,
}

/// The plan and fiscal year to open screens on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CurrentCycle {
    pub plan_id: i32,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    pub basis: CycleBasis,
}

impl CurrentCycle {
    fn new(plan_id: i32, fiscal_year: i32, basis: CycleBasis) -> Self {
        Self { plan_id, fiscal_year, fiscal_year_label: label(fiscal_year), basis }
    }
}

/// The current cycle among a municipality's plans; `current_fiscal_year` is today's. `None`
/// without plans.
pub fn current_cycle(plans: &[PlanActivity], current_fiscal_year: i32) -> Option<CurrentCycle> {
    // The newest open year; among plans open for the same year, the one opened last.
    let open = plans
        .iter()
        .flat_map(|plan| plan.open_collections.iter().map(move |(year, opened_at)| (*year, *opened_at, plan.plan_id)))
        .max();
    if let Some((year, _, plan_id)) = open {
        return Some(CurrentCycle::new(plan_id, year, CycleBasis::CollectionOpen));
    }
    // The latest year with actuals; among plans with the same year, the one that runs latest.
    let with_actuals = plans
        .iter()
        .filter_map(|plan| plan.latest_year_with_actuals.map(|year| (year, plan.end_fiscal_year, plan.plan_id)))
        .max();
    if let Some((year, _, plan_id)) = with_actuals {
        return Some(CurrentCycle::new(plan_id, year, CycleBasis::LatestActuals));
    }
    let candidates: Vec<&PlanActivity> = if plans.iter().any(|p| p.active) {
        plans.iter().filter(|p| p.active).collect()
    } else {
        plans.iter().collect()
    };
    let running_now =
        |plan: &&PlanActivity| (plan.start_fiscal_year..=plan.end_fiscal_year).contains(&current_fiscal_year);
    let plan = candidates
        .iter()
        .copied()
        .filter(running_now)
        .max_by_key(|p| (p.start_fiscal_year, p.plan_id))
        .or_else(|| candidates.iter().copied().max_by_key(|p| (p.end_fiscal_year, p.plan_id)))?;
    let year = current_fiscal_year.clamp(plan.start_fiscal_year, plan.end_fiscal_year);
    Some(CurrentCycle::new(plan.plan_id, year, CycleBasis::PlanPeriod))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2021, 4, day).unwrap().and_hms_opt(9, 0, 0).unwrap()
    }

    /// 板橋区 as the demo holds it: the 2020 plan (FY2016–2020) with actuals up to FY2020, and its
    /// successor (FY2021–2025) with none.
    fn itabashi() -> Vec<PlanActivity> {
        vec![
            PlanActivity {
                plan_id: 1,
                active: true,
                start_fiscal_year: 2016,
                end_fiscal_year: 2020,
                open_collections: vec![],
                latest_year_with_actuals: Some(2020),
            },
            PlanActivity {
                plan_id: 2,
                active: true,
                start_fiscal_year: 2021,
                end_fiscal_year: 2025,
                open_collections: vec![],
                latest_year_with_actuals: None,
            },
        ]
    }

    #[test]
    fn an_open_collection_comes_first() {
        let mut plans = itabashi();
        plans[0].open_collections = vec![(2019, at(1)), (2020, at(2))];
        let cycle = current_cycle(&plans, 2026).unwrap();
        assert_eq!((cycle.plan_id, cycle.fiscal_year, cycle.basis), (1, 2020, CycleBasis::CollectionOpen));
        assert_eq!(cycle.fiscal_year_label, "令和2(2020)年度");
        plans[1].open_collections = vec![(2021, at(3))];
        let cycle = current_cycle(&plans, 2026).unwrap();
        assert_eq!((cycle.plan_id, cycle.fiscal_year), (2, 2021), "the newest open year, even without actuals");
    }

    #[test]
    fn without_an_open_collection_the_latest_year_with_actuals_not_an_empty_newer_plan() {
        let cycle = current_cycle(&itabashi(), 2026).unwrap();
        assert_eq!((cycle.plan_id, cycle.fiscal_year, cycle.basis), (1, 2020, CycleBasis::LatestActuals));
    }

    #[test]
    fn without_actuals_the_current_year_of_the_plan_running_now() {
        let mut plans = itabashi();
        plans[0].latest_year_with_actuals = None;
        let cycle = current_cycle(&plans, 2023).unwrap();
        assert_eq!((cycle.plan_id, cycle.fiscal_year, cycle.basis), (2, 2023, CycleBasis::PlanPeriod));
        let cycle = current_cycle(&plans, 2026).unwrap();
        assert_eq!((cycle.plan_id, cycle.fiscal_year), (2, 2025), "past the last plan: its last year");
        plans[1].active = false;
        let cycle = current_cycle(&plans, 2023).unwrap();
        assert_eq!((cycle.plan_id, cycle.fiscal_year), (1, 2020), "active plans first");
        assert_eq!(current_cycle(&[], 2023), None);
    }
}

//! A synthetic plan for load tests, a synthetic nationwide data set ([`nationwide`]), and a way to
//! count the queries of one evaluation or comparison.
//!
//! [`scaled_plan`] repeats the measures of a plan document `scale` times: each copy keeps the
//! departments, goals, strategies, indicators, baselines, targets, roadmaps and revisions of the
//! original and only the measure numbers move on (copy 2 of measure 6 is measure 41 + 6 with 41
//! measures). The result is deterministic, so every run of the benchmark evaluates the same plan.
//!
//! [`count_queries`] runs one evaluation exactly as `GET /plans/{id}/evaluation` does and counts
//! the statements the connection executes: the benchmark reports it, and a test asserts that it is
//! the same for the demo plan and for its 10× copy (no query per measure or indicator).
use crate::domain::ids::PlanId;

use std::sync::{Arc, Mutex, PoisonError};

use diesel::Connection;
use diesel::connection::{InstrumentationEvent, get_default_instrumentation};

use crate::db::audit::Actor;
use crate::db::{Database, DbConnection, WriteScope};
use crate::demo::{self, DEMO_PLAN_TOML};
use crate::error::AppError;
use crate::evaluation::comparison;
use crate::evaluation::plan::evaluate_plan;
use crate::plan_document::{self, LoadReport, PlanDocument};

pub mod nationwide;

/// The code of the demo plan scaled `scale` times.
pub fn plan_code(scale: u32) -> String {
    format!("synthetic-x{scale}")
}

/// The plan of `source` (a plan document in TOML) with its measures repeated `scale` times and
/// renumbered 1..=n×scale, under the code `synthetic-x{scale}`.
///
/// The source is parsed once per copy: the document types are not `Clone`, and parsing is the one
/// way to copy them that cannot forget a field.
pub fn scaled_plan(source: &str, scale: u32) -> Result<PlanDocument, AppError> {
    if scale == 0 {
        return Err(AppError::invalid("scale", "must be at least 1"));
    }
    let mut document = PlanDocument::from_toml(source)?;
    let per_copy = document.measures.iter().map(|m| m.number).max().unwrap_or(0);
    let mut measures = std::mem::take(&mut document.measures);
    for copy in 1..scale {
        let offset = per_copy * i32::try_from(copy).map_err(|_| AppError::invalid("scale", "too large"))?;
        measures.extend(PlanDocument::from_toml(source)?.measures.into_iter().map(|mut measure| {
            measure.number += offset;
            measure
        }));
    }
    document.measures = measures;
    document.plan.description = format!(
        "負荷試験用の合成計画: {} の推進施策と指標を{scale}回複製し、推進施策番号を振り直したもの。",
        document.plan.code
    );
    document.plan.code = plan_code(scale);
    document.plan.name = format!("{}（合成データ: 推進施策・指標 ×{scale}）", document.plan.name);
    Ok(document)
}

/// The demo plan scaled `scale` times.
pub fn scaled_demo_plan(scale: u32) -> Result<PlanDocument, AppError> {
    scaled_plan(DEMO_PLAN_TOML, scale)
}

/// Loads the demo plan scaled `scale` times (in one transaction, as the plan import does).
/// The demo plan itself goes first when both are wanted: `demo::ensure_loaded` only loads into
/// a database without other plans.
pub fn load_scaled_demo_plan(db: &Database, scale: u32) -> Result<LoadReport, AppError> {
    let document = scaled_demo_plan(scale)?;
    db.write_blocking(WriteScope::Installation, move |conn| {
        plan_document::load(conn, &Actor::system("synthetic"), &document)
    })
}

/// Adds the demo's generated FY2018–2020 actuals to a loaded plan: deterministic for given
/// indicator ids, flagged `is_sample` and noted as samples. FY2018–2019 are approved; FY2020 has
/// the demo's mix of approved, awaiting review and missing. Returns how many were added.
pub fn add_sample_actuals(db: &Database, plan_id: i32) -> Result<usize, AppError> {
    db.write_blocking(WriteScope::Installation, move |conn| {
        demo::add_sample_actuals(conn, &Actor::system("synthetic"), plan_id)
    })
}

/// The statements one evaluation of `plan_id` for `year` executes, in order (SQL without binds),
/// taken from diesel's connection instrumentation (`InstrumentationEvent::StartQuery`).
///
/// The evaluation is `evaluation::plan::evaluate_plan`, the function behind
/// `GET /plans/{id}/evaluation`; the pool's check-out test runs before the instrumentation is set
/// and is not counted. The connection goes back to the pool with the default instrumentation.
pub fn evaluation_queries(db: &Database, plan_id: i32, year: i32) -> Result<Vec<String>, AppError> {
    statements_of(db, move |conn| evaluate_plan(conn, PlanId::new(plan_id), year, None).map(drop))
}

/// The statements one national comparison for `year` executes, in order.
pub fn comparison_queries(db: &Database, code: &str, year: i32) -> Result<Vec<String>, AppError> {
    let code = code.to_owned();
    statements_of(db, move |conn| {
        comparison::load(conn, &code, year).map(|records| drop(comparison::compare(&records, year)))
    })
}

/// Runs `work` on one read connection and returns the statements it executed (binds left out).
fn statements_of(
    db: &Database,
    work: impl FnOnce(&mut DbConnection) -> Result<(), AppError>,
) -> Result<Vec<String>, AppError> {
    db.read_blocking(move |conn| {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                let sql = query.to_string();
                let sql = sql.split(" -- binds:").next().unwrap_or_default().trim().to_owned();
                sink.lock().unwrap_or_else(PoisonError::into_inner).push(sql);
            }
        });
        let outcome = work(conn);
        conn.set_instrumentation(get_default_instrumentation());
        outcome?;
        let queries = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        Ok(queries)
    })
}

/// How many statements one evaluation of `plan_id` for `year` executes.
pub fn count_queries(db: &Database, plan_id: i32, year: i32) -> Result<usize, AppError> {
    evaluation_queries(db, plan_id, year).map(|queries| queries.len())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn indicator_count(document: &PlanDocument) -> usize {
        document.measures.iter().map(|m| m.indicators.len() + m.retired_indicators.len()).sum()
    }

    #[test]
    fn scale_ten_gives_ten_times_the_measures_and_indicators() {
        let demo = PlanDocument::from_toml(DEMO_PLAN_TOML).unwrap();
        let scaled = scaled_demo_plan(10).unwrap();
        assert_eq!(demo.measures.len(), 41);
        assert_eq!(scaled.measures.len(), 410);
        assert_eq!(indicator_count(&scaled), 10 * indicator_count(&demo));
        let targets = |d: &PlanDocument| -> usize {
            d.measures.iter().flat_map(|m| &m.indicators).map(|i| i.targets.len()).sum()
        };
        assert_eq!(targets(&scaled), 10 * targets(&demo));
        let numbers: Vec<i32> = scaled.measures.iter().map(|m| m.number).collect();
        assert_eq!(numbers, (1..=410).collect::<Vec<_>>());
        assert_eq!(scaled.plan.code, "synthetic-x10");
        assert_ne!(scaled.plan.name, demo.plan.name);
        assert_eq!(scaled.departments.len(), demo.departments.len());
        assert_eq!(scaled.goals.len(), demo.goals.len());
        assert_eq!(scaled.strategies.len(), demo.strategies.len());
    }

    #[test]
    fn copies_keep_goals_owners_and_indicators() {
        let demo = PlanDocument::from_toml(DEMO_PLAN_TOML).unwrap();
        let scaled = scaled_demo_plan(3).unwrap();
        for (i, copy) in scaled.measures.iter().enumerate() {
            let original = &demo.measures[i % demo.measures.len()];
            assert_eq!(copy.number, original.number + 41 * i32::try_from(i / 41).unwrap());
            assert_eq!(copy.name, original.name);
            assert_eq!(copy.main_goal, original.main_goal);
            assert_eq!(copy.strategy, original.strategy);
            assert_eq!(copy.owners, original.owners);
            let names =
                |m: &plan_document::MeasureEntry| m.indicators.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
            assert_eq!(names(copy), names(original));
        }
        let codes: BTreeSet<&str> = scaled.measures.iter().flat_map(|m| m.owners.iter().map(String::as_str)).collect();
        assert!(codes.iter().all(|code| scaled.departments.iter().any(|d| d.code == *code)));
    }

    #[test]
    fn scale_one_is_the_demo_under_another_code_and_zero_is_refused() {
        let scaled = scaled_demo_plan(1).unwrap();
        assert_eq!(scaled.measures.len(), 41);
        assert_eq!(scaled.plan.code, "synthetic-x1");
        assert!(scaled_demo_plan(0).is_err());
    }
}

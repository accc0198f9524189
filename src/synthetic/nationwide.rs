//! A synthetic nationwide data set for scale tests: `municipalities` municipalities, each with one
//! plan of `years` fiscal years, 10 measures of 6 indicators (the first 10 indicators implement the
//! 10 national definitions, so every municipality takes part in every comparison), one target per
//! indicator, and one approved actual per indicator and year. 1,741 × 60 × 10 ≈ 1.04 M actuals.
//!
//! Everything is marked as what it is: municipalities are named 「合成団体NNNN」, plans
//! 「【合成データ】…」, every actual is `is_sample` with the note [`SYNTHETIC_NOTE`]. Codes are valid
//! 全国地方公共団体コード (check digit included) in the 700 range of each prefecture, skipping any code
//! the database already holds. The figures are deterministic, so every run loads the same set.
use crate::domain::ids::PlanId;

use std::time::Instant;

use chrono::NaiveDateTime;

use crate::db::bulk_rows::{self, Literal};
use crate::db::{Database, DbConnection, WriteScope, audit, departments};
use crate::domain::municipality_code::MunicipalityCode;
use crate::domain::submission::ActualEventKind;
use crate::error::AppError;

/// The note of every generated actual.
pub const SYNTHETIC_NOTE: &str = "合成データ(負荷試験用に自動生成した値であり、実在の団体の実績ではありません)";

const MEASURES_PER_PLAN: i32 = 10;
const INDICATORS_PER_MEASURE: i32 = 6;
/// Municipalities written per transaction: a failure loses little, and no transaction grows large.
const MUNICIPALITIES_PER_TRANSACTION: usize = 25;

/// The national definitions every generated plan implements, with their kind and direction.
const NATIONAL: [(&str, &str, &str); 10] = [
    ("dx1-standard-systems-migrated", "ratio", "increase"),
    ("dx2-mynumber-card-issuance-rate", "ratio", "increase"),
    ("dx2-mynumber-card-holding-rate", "ratio", "increase"),
    ("dx3-online-procedures", "count", "increase"),
    ("dx3-online-application-rate", "ratio", "increase"),
    ("dx4-rpa-processes", "count", "increase"),
    ("dx4-ai-services", "count", "increase"),
    ("dx5-telework-staff-rate", "ratio", "increase"),
    ("dx6-security-training-rate", "ratio", "maintain_at_least"),
    ("dx6-security-incidents", "count", "maintain_at_most"),
];

#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub municipalities: usize,
    pub years: i32,
    /// The plan's last fiscal year; its first is `last_fiscal_year - years + 1`.
    pub last_fiscal_year: i32,
}

#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub municipalities: usize,
    pub plans: Vec<i32>,
    pub indicators: usize,
    pub actuals: usize,
    pub seconds: f64,
}

/// The 5-digit bases of generated codes: prefecture 01–47, city 700 upwards.
fn code_candidates() -> impl Iterator<Item = MunicipalityCode> {
    (700..1000).flat_map(|city| {
        (1..=47).filter_map(move |prefecture| MunicipalityCode::parse(&format!("{prefecture:02}{city:03}")).ok())
    })
}

/// A deterministic figure in [0, 1) per indicator slot and year.
fn fraction(municipality: usize, slot: i32, year: i32) -> i64 {
    let mixed = (municipality as i64) * 7919 + i64::from(slot) * 104_729 + i64::from(year) * 1_299_709;
    mixed.rem_euclid(1000)
}

struct Ids {
    municipality: i32,
    department: i32,
    plan: i32,
    goal: i32,
    measure: i32,
    owner: i32,
    indicator: i32,
    target: i32,
    actual: i32,
    event: i32,
}

impl Ids {
    fn after_existing(conn: &mut DbConnection) -> Result<Self, AppError> {
        Ok(Self {
            municipality: bulk_rows::max_id(conn, "municipalities")?,
            department: bulk_rows::max_id(conn, "departments")?,
            plan: bulk_rows::max_id(conn, "plans")?,
            goal: bulk_rows::max_id(conn, "goals")?,
            measure: bulk_rows::max_id(conn, "measures")?,
            owner: bulk_rows::max_id(conn, "measure_owners")?,
            indicator: bulk_rows::max_id(conn, "indicators")?,
            target: bulk_rows::max_id(conn, "target_revisions")?,
            actual: bulk_rows::max_id(conn, "actuals")?,
            event: bulk_rows::max_id(conn, "actual_events")?,
        })
    }
}

/// Rows of one batch of municipalities, table by table.
#[derive(Default)]
struct Batch {
    municipalities: Vec<Vec<Literal>>,
    departments: Vec<Vec<Literal>>,
    plans: Vec<Vec<Literal>>,
    goals: Vec<Vec<Literal>>,
    measures: Vec<Vec<Literal>>,
    owners: Vec<Vec<Literal>>,
    indicators: Vec<Vec<Literal>>,
    targets: Vec<Vec<Literal>>,
    actuals: Vec<Vec<Literal>>,
    events: Vec<Vec<Literal>>,
}

fn add_municipality(
    batch: &mut Batch,
    ids: &mut Ids,
    index: usize,
    code: &MunicipalityCode,
    shape: Shape,
    now: &str,
) -> (i32, usize) {
    let first_year = shape.last_fiscal_year - shape.years + 1;
    ids.municipality += 1;
    let municipality = ids.municipality;
    batch.municipalities.push(vec![
        municipality.into(),
        code.as_str().into(),
        format!("合成団体{:04}", index + 1).into(),
        now.into(),
    ]);
    ids.department += 1;
    let department = ids.department;
    batch.departments.push(vec![
        department.into(),
        municipality.into(),
        format!("synthetic-{}-dx", code.as_str()).into(),
        "DX推進課(合成)".into(),
        Literal::Bool(true),
        now.into(),
        now.into(),
    ]);
    ids.plan += 1;
    let plan = ids.plan;
    batch.plans.push(vec![
        plan.into(),
        municipality.into(),
        format!("synthetic-{}", code.as_str()).into(),
        format!("【合成データ】合成団体{:04} DX推進計画", index + 1).into(),
        "負荷試験用の合成データ。実在の団体の計画ではありません。".into(),
        first_year.into(),
        shape.last_fiscal_year.into(),
        (first_year - 1).into(),
        "active".into(),
        now.into(),
        now.into(),
    ]);
    ids.goal += 1;
    let goal = ids.goal;
    batch.goals.push(vec![goal.into(), plan.into(), 1.into(), "行政のデジタル化".into()]);
    let mut actuals = 0;
    for measure_number in 1..=MEASURES_PER_PLAN {
        ids.measure += 1;
        let measure = ids.measure;
        batch.measures.push(vec![
            measure.into(),
            plan.into(),
            measure_number.into(),
            format!("合成施策{measure_number}").into(),
            goal.into(),
            "continued".into(),
            "active".into(),
            now.into(),
            now.into(),
        ]);
        ids.owner += 1;
        batch.owners.push(vec![
            ids.owner.into(),
            measure.into(),
            department.into(),
            Literal::Bool(true),
            0.into(),
            now.into(),
        ]);
        for number in 1..=INDICATORS_PER_MEASURE {
            let slot = (measure_number - 1) * INDICATORS_PER_MEASURE + number - 1;
            let national = usize::try_from(slot).ok().and_then(|s| NATIONAL.get(s));
            let (kind, direction) = national
                .map_or(if slot % 2 == 0 { ("ratio", "increase") } else { ("count", "increase") }, |n| (n.1, n.2));
            let is_ratio = kind == "ratio";
            let (baseline, target) = match direction {
                "maintain_at_least" => (100, 100),
                "maintain_at_most" => (0, 0),
                _ if is_ratio => (20, 60),
                _ => (100, 300),
            };
            ids.indicator += 1;
            let indicator = ids.indicator;
            batch.indicators.push(vec![
                indicator.into(),
                measure.into(),
                number.into(),
                format!("合成指標{}", slot + 1).into(),
                if is_ratio { "%" } else { "件" }.into(),
                kind.into(),
                direction.into(),
                is_ratio.then_some("分子(合成)").into(),
                is_ratio.then_some("分母(合成)").into(),
                (first_year - 1).into(),
                baseline.to_string().into(),
                "active".into(),
                now.into(),
                now.into(),
                national.map(|n| n.0).into(),
            ]);
            ids.target += 1;
            batch.targets.push(vec![
                ids.target.into(),
                indicator.into(),
                target.to_string().into(),
                shape.last_fiscal_year.into(),
                first_year.into(),
                "合成データの目標".into(),
                now.into(),
            ]);
            for year in first_year..=shape.last_fiscal_year {
                let share = fraction(index, slot, year);
                let elapsed = i64::from(year - first_year + 1);
                let (value, numerator, denominator) = match direction {
                    "maintain_at_least" => (None, Some(900 + share / 10), Some(1000)),
                    "maintain_at_most" => (Some(share % 3 / 2), None, None),
                    _ if is_ratio => {
                        let denominator = 50_000 + share * 500;
                        let percent = 20 + elapsed * 4 + share % 10;
                        (None, Some(denominator * percent / 100), Some(denominator))
                    }
                    _ => (Some(100 + elapsed * 20 + share % 30), None, None),
                };
                let text = |v: Option<i64>| Literal::from(v.map(|v| v.to_string()));
                ids.actual += 1;
                batch.actuals.push(vec![
                    ids.actual.into(),
                    indicator.into(),
                    year.into(),
                    text(value),
                    text(numerator),
                    text(denominator),
                    SYNTHETIC_NOTE.into(),
                    "approved".into(),
                    Literal::Bool(true),
                    1.into(),
                    now.into(),
                    now.into(),
                ]);
                ids.event += 1;
                batch.events.push(vec![
                    ids.event.into(),
                    ids.actual.into(),
                    1.into(),
                    ActualEventKind::Approved.as_str().into(),
                    text(value),
                    text(numerator),
                    text(denominator),
                    SYNTHETIC_NOTE.into(),
                    "approved".into(),
                    Literal::Bool(true),
                    now.into(),
                ]);
                actuals += 1;
            }
        }
    }
    (plan, actuals)
}

fn write(conn: &mut DbConnection, batch: &Batch) -> Result<(), AppError> {
    use bulk_rows::insert;
    insert(conn, "municipalities", &["id", "code", "name", "created_at"], &batch.municipalities)?;
    insert(
        conn,
        "departments",
        &["id", "municipality_id", "code", "name", "active", "created_at", "updated_at"],
        &batch.departments,
    )?;
    insert(
        conn,
        "plans",
        &[
            "id",
            "municipality_id",
            "code",
            "name",
            "description",
            "start_fiscal_year",
            "end_fiscal_year",
            "baseline_fiscal_year",
            "status",
            "created_at",
            "updated_at",
        ],
        &batch.plans,
    )?;
    insert(conn, "goals", &["id", "plan_id", "number", "name"], &batch.goals)?;
    insert(
        conn,
        "measures",
        &["id", "plan_id", "number", "name", "main_goal_id", "review_category", "status", "created_at", "updated_at"],
        &batch.measures,
    )?;
    insert(
        conn,
        "measure_owners",
        &["id", "measure_id", "department_id", "is_lead", "position", "recorded_at"],
        &batch.owners,
    )?;
    insert(
        conn,
        "indicators",
        &[
            "id",
            "measure_id",
            "number",
            "name",
            "unit",
            "kind",
            "direction",
            "numerator_label",
            "denominator_label",
            "baseline_fiscal_year",
            "baseline_value",
            "status",
            "created_at",
            "updated_at",
            "national_indicator_code",
        ],
        &batch.indicators,
    )?;
    insert(
        conn,
        "target_revisions",
        &["id", "indicator_id", "value", "target_fiscal_year", "effective_from_fiscal_year", "reason", "recorded_at"],
        &batch.targets,
    )?;
    insert(
        conn,
        "actuals",
        &[
            "id",
            "indicator_id",
            "fiscal_year",
            "value",
            "numerator",
            "denominator",
            "note",
            "status",
            "is_sample",
            "version",
            "submitted_at",
            "reviewed_at",
        ],
        &batch.actuals,
    )?;
    insert(
        conn,
        "actual_events",
        &[
            "id",
            "actual_id",
            "version",
            "event",
            "value",
            "numerator",
            "denominator",
            "note",
            "status",
            "is_sample",
            "recorded_at",
        ],
        &batch.events,
    )
}

const TABLES: [&str; 10] = [
    "municipalities",
    "departments",
    "plans",
    "goals",
    "measures",
    "measure_owners",
    "indicators",
    "target_revisions",
    "actuals",
    "actual_events",
];

/// Loads the data set, [`MUNICIPALITIES_PER_TRANSACTION`] municipalities per transaction, and
/// says how long it took.
pub fn load(db: &Database, shape: Shape) -> Result<Loaded, AppError> {
    if shape.municipalities == 0 || !(1..=30).contains(&shape.years) {
        return Err(AppError::invalid("shape", "at least one municipality and 1–30 years"));
    }
    let started = Instant::now();
    let existing: Vec<String> =
        db.read_blocking(departments::list_municipalities)?.into_iter().map(|m| m.code).collect();
    let codes: Vec<MunicipalityCode> = code_candidates()
        .filter(|code| !existing.iter().any(|e| e == code.as_str()))
        .take(shape.municipalities)
        .collect();
    if codes.len() < shape.municipalities {
        return Err(AppError::invalid(
            "municipalities",
            format!("at most {} synthetic codes are available", codes.len()),
        ));
    }
    let now: NaiveDateTime = audit::now();
    let now = now.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let mut loaded = Loaded { municipalities: codes.len(), ..Loaded::default() };
    for (chunk_index, chunk) in codes.chunks(MUNICIPALITIES_PER_TRANSACTION).enumerate() {
        let (plans, actuals) = db.write_blocking(WriteScope::Installation, |conn| {
            let mut ids = Ids::after_existing(conn)?;
            let mut batch = Batch::default();
            let mut plans = Vec::new();
            let mut actuals = 0;
            for (offset, code) in chunk.iter().enumerate() {
                let (plan, count) = add_municipality(
                    &mut batch,
                    &mut ids,
                    chunk_index * MUNICIPALITIES_PER_TRANSACTION + offset,
                    code,
                    shape,
                    &now,
                );
                plans.push(plan);
                actuals += count;
            }
            write(conn, &batch)?;
            Ok::<_, AppError>((plans, actuals))
        })?;
        loaded.plans.extend(plans);
        loaded.actuals += actuals;
    }
    db.write_blocking(WriteScope::Installation, |conn| {
        TABLES.iter().try_for_each(|table| bulk_rows::resync_ids(conn, table))
    })?;
    if let Err(error) = db.write_blocking(WriteScope::Installation, |conn| {
        // Fresh statistics, so the planner knows the tables' new sizes (PostgreSQL only).
        if let DbConnection::Postgresql(_) = conn {
            diesel::connection::SimpleConnection::batch_execute(conn, "ANALYZE")?;
        }
        Ok::<_, AppError>(())
    }) {
        tracing::warn!("ANALYZE failed: {error}");
    }
    loaded.indicators = loaded.plans.len() * usize::try_from(MEASURES_PER_PLAN * INDICATORS_PER_MEASURE).unwrap_or(0);
    loaded.seconds = started.elapsed().as_secs_f64();
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_valid_distinct_and_enough_for_all_of_japan() {
        let codes: Vec<MunicipalityCode> = code_candidates().take(1741).collect();
        assert_eq!(codes.len(), 1741);
        let mut texts: Vec<&str> = codes.iter().map(MunicipalityCode::as_str).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), 1741);
        assert!(codes.iter().all(|c| MunicipalityCode::parse(c.as_str()).is_ok()));
    }

    #[test]
    fn one_municipality_has_sixty_indicators_and_one_actual_per_year() {
        let mut ids = Ids {
            municipality: 0,
            department: 0,
            plan: 0,
            goal: 0,
            measure: 0,
            owner: 0,
            indicator: 0,
            target: 0,
            actual: 0,
            event: 0,
        };
        let mut batch = Batch::default();
        let code = code_candidates().next().unwrap();
        let shape = Shape { municipalities: 1, years: 10, last_fiscal_year: 2025 };
        let (_, actuals) = add_municipality(&mut batch, &mut ids, 0, &code, shape, "2026-01-01 00:00:00");
        assert_eq!((batch.indicators.len(), actuals, batch.events.len()), (60, 600, 600));
        let linked = batch.indicators.iter().filter(|row| row[14] != Literal::Null).count();
        assert_eq!(linked, NATIONAL.len());
        assert!(
            batch.actuals.iter().all(|row| row[6] == Literal::from(SYNTHETIC_NOTE) && row[8] == Literal::Bool(true))
        );
    }
}

/// Timings of the two reads that must stay fast at national scale, taken on the database layer
/// (the HTTP layer adds the caller lookup and serialisation on top).
#[derive(Debug, Clone)]
pub struct Timings {
    pub evaluation_ms: Vec<f64>,
    pub evaluation_queries: usize,
    pub comparison_ms: Vec<f64>,
    pub comparison_queries: usize,
    pub comparison_rows: usize,
}

/// The `q`-quantile (0–1) of sorted milliseconds, by nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Evaluates `plan_id` and compares `national_code` across all municipalities for `year`,
/// `runs` times each (after one warm-up run of each).
pub fn measure(db: &Database, plan_id: i32, national_code: &str, year: i32, runs: usize) -> Result<Timings, AppError> {
    use crate::evaluation::{comparison, plan::evaluate_plan};
    let time = |f: &mut dyn FnMut() -> Result<(), AppError>| -> Result<f64, AppError> {
        let started = Instant::now();
        f()?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    };
    let mut evaluate = || db.read_blocking(|conn| evaluate_plan(conn, PlanId::new(plan_id), year, None).map(drop));
    let mut rows = 0;
    let mut compare = || {
        db.read_blocking(|conn| {
            let result = comparison::compare(&comparison::load(conn, national_code, year)?, year);
            rows = result.rows.len();
            Ok::<_, AppError>(())
        })
    };
    time(&mut evaluate)?;
    time(&mut compare)?;
    let mut evaluation_ms = (0..runs).map(|_| time(&mut evaluate)).collect::<Result<Vec<_>, _>>()?;
    let mut comparison_ms = (0..runs).map(|_| time(&mut compare)).collect::<Result<Vec<_>, _>>()?;
    evaluation_ms.sort_by(f64::total_cmp);
    comparison_ms.sort_by(f64::total_cmp);
    Ok(Timings {
        evaluation_ms,
        evaluation_queries: super::evaluation_queries(db, plan_id, year)?.len(),
        comparison_ms,
        comparison_queries: super::comparison_queries(db, national_code, year)?.len(),
        comparison_rows: rows,
    })
}

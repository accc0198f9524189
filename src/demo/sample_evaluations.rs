//! Sample 施策評価 for the demo plan's FY2018–2020, so that every screen has content. Each is
//! flagged `is_sample` and every text begins with [`SAMPLE_MARK`]: none is the ward's own words.
//!
//! FY2018–2019: every owning department's evaluation is approved and the 本部 assessed every
//! measure. FY2020 ([`OPEN_YEAR`]): some approved, some waiting for review, some missing — among
//! them one measure of each department, left for its first submission — and the 本部 assessed
//! only the measures whose evaluations are all approved.
use crate::domain::ids::PlanId;

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::{OPEN_YEAR, SAMPLE_YEARS, sample_fraction};
use crate::db::DbConnection;
use crate::db::audit::{self, Actor};
use crate::db::measure_evaluations::{self, EvaluationOf, NewDecision, NewReport};
use crate::db::measures;
use crate::domain::achievement::Grade;
use crate::domain::measure::Measure;
use crate::domain::measure_evaluation::{DepartmentReport, HqDecision, RoadmapProgress};
use crate::domain::plan::{ActualStatus, MeasureStatus, label};
use crate::domain::submission::ActualEventKind;
use crate::error::AppError;
use crate::evaluation::plan as plan_evaluation;

/// Begins every sample text.
pub const SAMPLE_MARK: &str = "【サンプル】デモ用に自動生成した文章であり、区の実際の評価ではありません。";

/// How far the year's roadmap step got, varied by measure and year; a measure completed in the
/// year is complete.
fn sample_progress(measure: &Measure, year: i32, f: Decimal) -> RoadmapProgress {
    if measure.status == MeasureStatus::Completed && measure.status_fiscal_year == Some(year) {
        return RoadmapProgress::Completed;
    }
    match f {
        f if f < Decimal::new(6, 1) => RoadmapProgress::OnSchedule,
        f if f < Decimal::new(75, 2) => RoadmapProgress::Ahead,
        f if f < Decimal::new(95, 2) => RoadmapProgress::Delayed,
        _ => RoadmapProgress::NotStarted,
    }
}

/// The grade of the measure's indicators that year, or one varied by measure where they give none.
fn sample_grade(indicator_grade: Option<Grade>, f: Decimal) -> Grade {
    match indicator_grade {
        Some(grade) if grade != Grade::NotAssessable => grade,
        _ => [Grade::A, Grade::B, Grade::B, Grade::C, Grade::D][(f * Decimal::from(5)).floor().try_into().unwrap_or(1)],
    }
}

fn sample_report(measure: &Measure, year: i32, progress: RoadmapProgress, grade: Grade) -> DepartmentReport {
    let step = measure
        .roadmap
        .iter()
        .filter(|entry| entry.fiscal_year == year)
        .map(|entry| entry.activity.as_str())
        .collect::<Vec<_>>()
        .join("・");
    let step = if step.is_empty() {
        "計画に定めた取組".to_owned()
    } else {
        format!("ロードマップの「{step}」")
    };
    DepartmentReport {
        work_done: format!(
            "{SAMPLE_MARK}{}は、施策「{}」について{step}を進めた、という記入例です。",
            label(year),
            measure.name
        ),
        roadmap_progress: progress,
        progress_reason: if progress.needs_reason() {
            format!("{SAMPLE_MARK}進捗が「{}」となった理由の記入例です。", progress.label_ja())
        } else {
            String::new()
        },
        self_grade: grade,
        issues: format!("{SAMPLE_MARK}課題の記入例です。"),
        next_steps: format!("{SAMPLE_MARK}今後の方向性の記入例です。"),
    }
}

fn sample_decision(progress: RoadmapProgress, grade: Grade, f: Decimal) -> HqDecision {
    let direction = match progress {
        RoadmapProgress::Completed => "完了",
        RoadmapProgress::Delayed | RoadmapProgress::NotStarted => "改善・見直し",
        _ if f >= Decimal::new(45, 2) && grade == Grade::A => "拡充",
        _ => "継続",
    };
    HqDecision {
        hq_grade: grade,
        hq_comment: format!("{SAMPLE_MARK}本部評価のコメントの記入例です。"),
        direction: direction.to_owned(),
        direction_reason: format!("{SAMPLE_MARK}方向性を「{direction}」とした理由の記入例です。"),
        plan_links: Vec::new(),
    }
}

/// Adds the sample evaluations and assessments (after the sample actuals, whose grades the
/// departments' self-assessments follow); returns how many department evaluations were added.
pub(crate) fn add_sample_evaluations(conn: &mut DbConnection, actor: &Actor, plan_id: i32) -> Result<usize, AppError> {
    let records = plan_evaluation::load(conn, PlanId::new(plan_id))?;
    let measures = measures::list_for_plan(conn, PlanId::new(plan_id))?;
    let now = audit::now();
    let mut added = 0;
    let mut departments_with_an_open_measure = HashSet::new();
    for year in SAMPLE_YEARS {
        let evaluation = plan_evaluation::evaluate(&records, year, None, now);
        for measure in measures.iter().filter(|m| m.active_in(year)) {
            let f = sample_fraction(measure.id, year);
            let indicator_grade =
                evaluation.measures.iter().find(|m| m.measure_id == measure.id).map(|m| m.roll_up.grade);
            let progress = sample_progress(measure, year, f);
            let grade = sample_grade(indicator_grade, f);
            let report = sample_report(measure, year, progress, grade);
            let owners: Vec<i32> =
                measure.owners.iter().map(|o| o.department_id).filter(|id| measure.owned_by(*id, Some(year))).collect();
            let mut all_approved = !owners.is_empty();
            for department_id in owners {
                let left_open = year == OPEN_YEAR
                    && (departments_with_an_open_measure.insert(department_id) || f >= Decimal::new(85, 2));
                if left_open {
                    all_approved = false;
                    continue;
                }
                let approve = year < OPEN_YEAR || f < Decimal::new(5, 1);
                add_one(
                    conn,
                    actor,
                    EvaluationOf { measure_id: measure.id, fiscal_year: year, department_id },
                    &report,
                    approve,
                )?;
                all_approved &= approve;
                added += 1;
            }
            if all_approved {
                let decision = sample_decision(progress, grade, f);
                let new = NewDecision { decision: &decision, targets: &[], is_sample: true };
                measure_evaluations::insert_assessment(conn, actor, measure.id, year, &new)?;
            }
        }
    }
    Ok(added)
}

/// One department's sample evaluation, submitted and, when `approve`, approved.
fn add_one(
    conn: &mut DbConnection,
    actor: &Actor,
    of: EvaluationOf,
    report: &DepartmentReport,
    approve: bool,
) -> Result<(), AppError> {
    let submitted = NewReport {
        event: ActualEventKind::Submitted,
        report,
        status: ActualStatus::Submitted,
        is_sample: true,
        comment: None,
        actor_department_id: None,
    };
    measure_evaluations::insert(conn, actor, of, &submitted)?;
    if approve {
        let current = measure_evaluations::find(conn, of.measure_id, of.fiscal_year, of.department_id, None)?
            .ok_or_else(|| AppError::Internal("sample measure evaluation missing".into()))?;
        let approved = NewReport { event: ActualEventKind::Approved, status: ActualStatus::Approved, ..submitted };
        measure_evaluations::update(conn, actor, &current, &approved)?;
    }
    Ok(())
}

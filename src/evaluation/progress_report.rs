//! Builds the 進捗状況報告書 ([`ProgressReport`]) of a plan's year from the plan's evaluation of
//! that year (achievement by the same rules, nothing recomputed), each indicator's series over the
//! plan's years up to it, the year's roadmap steps and the approved 施策評価.
//!
//! Loading takes a fixed number of queries, whatever the plan's size; composing is pure.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, Utc};

use super::evaluate_year;
use super::measure_year::DepartmentEvaluationState;
use super::measure_year::EvaluationRecords;
use super::plan::{self as plan_evaluation, IndicatorEvaluation, PlanRecords};
use crate::db::DbConnection;
use crate::db::{departments, measures};
use crate::domain::achievement::{RollUp, Status};
use crate::domain::actual::ActualEvent;
use crate::domain::ids::PlanId;
use crate::domain::indicator::Indicator;
use crate::domain::measure::Measure;
use crate::domain::measure_evaluation::{HqAssessment, approved_version, grading_scale};
use crate::domain::plan::label;
use crate::domain::progress_report::{
    ProgressReport, ReportAssessment, ReportDepartmentEvaluation, ReportGoal, ReportGradeStep, ReportIndicator,
    ReportMeasure, ReportRoadmapStep, ReportRollUp, SeriesPoint, StatusCount, number_text, short_year_label,
};
use crate::error::AppError;

/// The report of `year`, as recorded now.
pub fn build(conn: &mut DbConnection, plan_id: PlanId, year: i32) -> Result<ProgressReport, AppError> {
    let mut records = plan_evaluation::load(conn, plan_id)?;
    records.plan.check_year("fiscal_year", year)?;
    // The evaluation reads measures without their roadmaps; the report prints the year's steps.
    records.measures = measures::list_for_plan(conn, plan_id)?;
    let municipality = departments::get_municipality(conn, records.plan.municipality_id)?;
    Ok(compose(&records, &municipality.name, year, Utc::now().naive_utc()))
}

/// The report of `year` from a plan's records (all years' actuals, measures with roadmaps).
pub fn compose(records: &PlanRecords, municipality_name: &str, year: i32, now: NaiveDateTime) -> ProgressReport {
    let evaluation = plan_evaluation::evaluate(records, year, None, now);
    let plan = &records.plan;
    let first_year = plan.start_fiscal_year.min(year);
    let series = SeriesSource::new(records);
    let mut indicators_by_measure: BTreeMap<i32, Vec<ReportIndicator>> = BTreeMap::new();
    for indicator in &evaluation.indicators {
        let points = series.points(indicator.indicator_id, first_year..=year);
        indicators_by_measure.entry(indicator.measure_id).or_default().push(report_indicator(indicator, points));
    }
    let strategy_labels: BTreeMap<i32, String> =
        evaluation.strategies.iter().map(|s| (s.id, s.label.clone())).collect();
    let department_names: BTreeMap<i32, &str> = records.departments.iter().map(|d| (d.id, d.name.as_str())).collect();
    let measures_by_id: BTreeMap<i32, &Measure> = records.measures.iter().map(|m| (m.id, m)).collect();
    let mut measures: Vec<(Option<i32>, ReportMeasure)> = evaluation
        .measures
        .iter()
        .map(|measure| {
            let evaluation_of_year = YearEvaluation {
                records: &records.measure_evaluations,
                measure_id: measure.measure_id,
                measure: measures_by_id.get(&measure.measure_id).copied(),
                year,
            };
            let (department_evaluations, departments_without_evaluation) =
                evaluation_of_year.department_evaluations(&measure.measure_evaluation.departments);
            let report = ReportMeasure {
                id: measure.measure_id,
                number: measure.number,
                name: measure.name.clone(),
                strategy_label: measure.strategy_id.and_then(|id| strategy_labels.get(&id).cloned()),
                departments: measure
                    .owner_department_ids
                    .iter()
                    .filter_map(|id| department_names.get(id).map(|name| (*name).to_owned()))
                    .collect(),
                indicators: indicators_by_measure.remove(&measure.measure_id).unwrap_or_default(),
                roadmap: evaluation_of_year.roadmap(),
                department_evaluations,
                departments_without_evaluation,
                assessment: evaluation_of_year.assessment(),
            };
            (measure.main_goal_id, report)
        })
        .collect();
    let goals: Vec<ReportGoal> = evaluation
        .goals
        .iter()
        .map(|goal| ReportGoal {
            id: goal.id,
            parent_id: records.goals.iter().find(|g| g.id == goal.id).and_then(|g| g.parent_id),
            kind: goal.kind.clone().unwrap_or_default(),
            label: goal.label.clone(),
            roll_up: report_roll_up(&goal.roll_up),
            measures: take_measures_of(&mut measures, goal.id),
        })
        .collect();
    let measures_without_goal: Vec<ReportMeasure> = measures.into_iter().map(|(_, m)| m).collect();
    let mut report = ProgressReport {
        plan_id: plan.id,
        plan_code: plan.code.clone(),
        plan_name: evaluation.plan_name.clone(),
        municipality_name: municipality_name.to_owned(),
        fiscal_year: year,
        fiscal_year_label: label(year),
        plan_period_label: format!("{}〜{}", label(plan.start_fiscal_year), label(plan.end_fiscal_year)),
        grading_scale: grading_scale(&plan.grading)
            .into_iter()
            .map(|step| ReportGradeStep { grade: step.grade, description: step.description })
            .collect(),
        summary: report_roll_up(&evaluation.plan_roll_up),
        goals,
        measures_without_goal,
        contains_sample: false,
    };
    let contains_sample = report.measures().any(ReportMeasure::shows_sample);
    report.contains_sample = contains_sample;
    report
}

/// Moves out the measures whose ◎ goal is `goal_id`, keeping their order.
fn take_measures_of(measures: &mut Vec<(Option<i32>, ReportMeasure)>, goal_id: i32) -> Vec<ReportMeasure> {
    let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(measures).into_iter().partition(|(g, _)| *g == Some(goal_id));
    *measures = kept;
    taken.into_iter().map(|(_, m)| m).collect()
}

pub fn report_roll_up(roll_up: &RollUp) -> ReportRollUp {
    ReportRollUp {
        indicator_count: roll_up.indicator_count,
        status_counts: Status::ALL
            .into_iter()
            .filter_map(|status| {
                let count = roll_up.status_counts.get(status);
                (count > 0).then(|| StatusCount { status, label: status.label_ja().to_owned(), count })
            })
            .collect(),
        achieved_share: roll_up.achieved_share,
        mean_progress: roll_up.mean_progress,
        grade: roll_up.grade,
    }
}

fn report_indicator(indicator: &IndicatorEvaluation, series: Vec<SeriesPoint>) -> ReportIndicator {
    let target = indicator.target.as_ref();
    let actual = indicator.actual.as_ref();
    ReportIndicator {
        id: indicator.indicator_id,
        number: indicator.number,
        name: indicator.name.clone(),
        unit: indicator.unit.clone(),
        baseline: indicator
            .baseline
            .text
            .clone()
            .or_else(|| indicator.baseline.value.map(number_text))
            .unwrap_or_default(),
        baseline_year_label: indicator.baseline.fiscal_year.map(label),
        baseline_value: indicator.baseline.value,
        target: target.and_then(|t| t.text.clone().or_else(|| t.value.map(number_text))).unwrap_or_default(),
        target_year_label: target.map(|t| t.target_fiscal_year_label.clone()),
        actual: actual.and_then(|a| match (a.rate, a.reported.value, &a.stage_name) {
            (Some(rate), _, _) => Some(format!("{rate:.1}")),
            (None, Some(value), _) => Some(number_text(value)),
            (None, None, Some(stage)) => Some(stage.clone()),
            _ => None,
        }),
        actual_is_sample: actual.is_some_and(|a| a.is_sample),
        attainment_rate: indicator.result.attainment_rate,
        progress_rate: indicator.result.progress_rate,
        status: indicator.result.status,
        status_label: indicator.result.status.label_ja().to_owned(),
        grade: indicator.result.grade,
        series,
    }
}

/// What the series of every indicator is evaluated from: the records grouped by indicator.
struct SeriesSource<'a> {
    records: &'a PlanRecords,
    indicators: BTreeMap<i32, &'a Indicator>,
    events: BTreeMap<(i32, i32), Vec<&'a ActualEvent>>,
}

impl<'a> SeriesSource<'a> {
    fn new(records: &'a PlanRecords) -> Self {
        let mut events: BTreeMap<(i32, i32), Vec<&ActualEvent>> = BTreeMap::new();
        for event in &records.events {
            events.entry((event.indicator_id, event.fiscal_year)).or_default().push(&event.event);
        }
        Self { records, indicators: records.indicators.iter().map(|i| (i.id, i)).collect(), events }
    }

    /// Each year's target, expected value and approved actual, by the evaluation's own rules.
    fn points(&self, indicator_id: i32, years: std::ops::RangeInclusive<i32>) -> Vec<SeriesPoint> {
        let Some(indicator) = self.indicators.get(&indicator_id) else { return Vec::new() };
        let targets = self.records.targets.get(&indicator_id).map(Vec::as_slice).unwrap_or_default();
        let definitions: Vec<_> =
            self.records.definitions.iter().filter(|d| d.indicator_id == indicator_id).cloned().collect();
        years
            .map(|year| {
                let events = self.events.get(&(indicator_id, year)).map(Vec::as_slice).unwrap_or_default();
                let evaluated =
                    evaluate_year(indicator, targets, &definitions, events, &self.records.plan.grading, year, None);
                SeriesPoint {
                    fiscal_year: year,
                    short_label: short_year_label(year),
                    target: evaluated.inputs.target.as_ref().and_then(|t| t.value.or(t.stage.map(Into::into))),
                    expected: evaluated.result.expected,
                    actual: evaluated.result.actual_rate_or_value,
                    actual_is_sample: evaluated.inputs.approved_actual.as_ref().is_some_and(|a| a.is_sample),
                }
            })
            .collect()
    }
}

/// The 施策評価 records of one measure's year.
struct YearEvaluation<'a> {
    records: &'a EvaluationRecords,
    measure_id: i32,
    /// The measure with its roadmap and owners
    measure: Option<&'a Measure>,
    year: i32,
}

impl YearEvaluation<'_> {
    fn roadmap(&self) -> Vec<ReportRoadmapStep> {
        self.measure
            .into_iter()
            .flat_map(|m| m.roadmap.iter())
            .filter(|step| step.fiscal_year == self.year)
            .map(|step| ReportRoadmapStep { track: step.track.clone(), activity: step.activity.clone() })
            .collect()
    }

    /// The 本部's assessment as last recorded (it has no review: the 本部 records its own).
    fn assessment(&self) -> Option<ReportAssessment> {
        let (key, events) = self
            .records
            .assessments
            .iter()
            .find(|(key, _)| key.measure_id == self.measure_id && key.fiscal_year == self.year)?;
        let assessment = HqAssessment::fold(*key, events, None, &BTreeMap::new())?;
        Some(ReportAssessment {
            hq_grade: assessment.hq_grade,
            hq_comment: assessment.hq_comment,
            direction: assessment.direction,
            direction_reason: assessment.direction_reason,
            is_sample: assessment.is_sample,
        })
    }

    /// Each owning department's approved evaluation (in the order given: lead first), and the
    /// names of the departments whose evaluation is not approved yet.
    fn department_evaluations(
        &self,
        owners: &[DepartmentEvaluationState],
    ) -> (Vec<ReportDepartmentEvaluation>, Vec<String>) {
        let mut approved_ones = Vec::new();
        let mut without = Vec::new();
        for owner in owners {
            let approved = self
                .records
                .evaluations
                .iter()
                .find(|(key, _)| {
                    key.measure_id == self.measure_id
                        && key.fiscal_year == self.year
                        && key.department_id == owner.department_id
                })
                .and_then(|(_, events)| approved_version(events, None));
            let Some(approved) = approved else {
                without.push(owner.department_name.clone());
                continue;
            };
            let content = &approved.report;
            approved_ones.push(ReportDepartmentEvaluation {
                department_name: owner.department_name.clone(),
                is_lead: self.is_lead(owner.department_id),
                work_done: content.work_done.clone(),
                roadmap_progress: content.roadmap_progress,
                roadmap_progress_label: content.roadmap_progress.label_ja().to_owned(),
                progress_reason: content.progress_reason.clone(),
                self_grade: content.self_grade,
                issues: content.issues.clone(),
                next_steps: content.next_steps.clone(),
                is_sample: approved.is_sample,
            });
        }
        (approved_ones, without)
    }

    /// The department leads (主管) the measure in the year.
    fn is_lead(&self, department_id: i32) -> bool {
        self.measure.is_some_and(|m| {
            m.owners.iter().any(|o| o.department_id == department_id && o.is_lead && o.in_force(Some(self.year)))
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::domain::achievement::{Grade, GradeCounts, StatusCounts};
    use crate::domain::measure_evaluation::{
        DepartmentEvaluationEvent, DepartmentReport, EvaluationKey, RoadmapProgress,
    };
    use crate::domain::plan::ActualStatus;
    use crate::domain::submission::ActualEventKind;
    use crate::evaluation::plan::SubmissionState;

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2021, 5, day).unwrap().and_hms_opt(9, 0, 0).unwrap()
    }

    fn version(number: i32, kind: ActualEventKind, status: ActualStatus, work_done: &str) -> DepartmentEvaluationEvent {
        DepartmentEvaluationEvent {
            version: number,
            event: kind,
            report: DepartmentReport {
                work_done: work_done.into(),
                roadmap_progress: RoadmapProgress::Delayed,
                progress_reason: "調達の遅れ".into(),
                self_grade: Grade::B,
                issues: "窓口の混雑".into(),
                next_steps: "予約制の拡大".into(),
            },
            status,
            is_sample: false,
            comment: (status == ActualStatus::Returned).then(|| "内部の差戻し理由".to_owned()),
            actor_id: Some(7),
            actor_username: Some("suzuki".into()),
            actor_department_id: Some(2),
            recorded_at: at(u32::try_from(number).unwrap()),
        }
    }

    fn key(department_id: i32, department_name: &str) -> EvaluationKey {
        EvaluationKey {
            id: department_id,
            measure_id: 6,
            fiscal_year: 2020,
            department_id,
            department_name: department_name.into(),
        }
    }

    fn owner(department_id: i32, department_name: &str) -> DepartmentEvaluationState {
        DepartmentEvaluationState {
            department_id,
            department_name: department_name.into(),
            submission: SubmissionState::Submitted,
            late: false,
            roadmap_progress: None,
            self_grade: None,
            version: None,
            is_sample: false,
        }
    }

    #[test]
    fn only_approved_department_words_are_reported_and_nothing_internal() {
        let mut records = EvaluationRecords::default();
        // 戸籍住民課: approved version 2, then a correction awaiting review and returned.
        records.evaluations.insert(
            key(2, "戸籍住民課"),
            vec![
                version(1, ActualEventKind::Submitted, ActualStatus::Submitted, "第1版"),
                version(2, ActualEventKind::Approved, ActualStatus::Approved, "承認された取組実績"),
                version(3, ActualEventKind::Corrected, ActualStatus::Submitted, "審査中の訂正"),
                version(4, ActualEventKind::Returned, ActualStatus::Returned, "審査中の訂正"),
            ],
        );
        // 情報政策課: only submitted, never approved.
        records.evaluations.insert(
            key(3, "情報政策課"),
            vec![version(1, ActualEventKind::Submitted, ActualStatus::Submitted, "未承認")],
        );
        let year = YearEvaluation { records: &records, measure_id: 6, measure: None, year: 2020 };
        let owners = [owner(2, "戸籍住民課"), owner(3, "情報政策課"), owner(4, "区政情報課")];
        let (approved, without) = year.department_evaluations(&owners);
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0].department_name, "戸籍住民課");
        assert_eq!(approved[0].work_done, "承認された取組実績");
        assert_eq!(approved[0].roadmap_progress_label, "遅れ");
        assert_eq!(without, ["情報政策課", "区政情報課"]);
        let shown = serde_json::to_string(&approved).unwrap();
        for internal in ["内部の差戻し理由", "suzuki", "審査中の訂正", "未承認"] {
            assert!(!shown.contains(internal), "{internal} leaked into {shown}");
        }
    }

    #[test]
    fn another_year_or_measure_is_not_this_measures_evaluation() {
        let mut records = EvaluationRecords::default();
        records.evaluations.insert(
            key(2, "戸籍住民課"),
            vec![version(1, ActualEventKind::Approved, ActualStatus::Approved, "令和2年度の実績")],
        );
        let other_year = YearEvaluation { records: &records, measure_id: 6, measure: None, year: 2021 };
        assert!(other_year.department_evaluations(&[owner(2, "戸籍住民課")]).0.is_empty());
        let other_measure = YearEvaluation { records: &records, measure_id: 7, measure: None, year: 2020 };
        assert!(other_measure.department_evaluations(&[owner(2, "戸籍住民課")]).0.is_empty());
    }

    #[test]
    fn a_roll_up_lists_the_statuses_that_occur_in_their_order_with_japanese_labels() {
        let roll_up = RollUp {
            indicator_count: 6,
            status_counts: StatusCounts { achieved: 2, off_track: 1, no_data: 3, ..StatusCounts::default() },
            grade_counts: GradeCounts::default(),
            achieved_share: Some(Decimal::new(667, 1)),
            mean_progress: Some(Decimal::new(512, 1)),
            grade: Grade::C,
            pending_count: 1,
        };
        let shown = report_roll_up(&roll_up);
        let listed: Vec<(&str, usize)> = shown.status_counts.iter().map(|c| (c.label.as_str(), c.count)).collect();
        assert_eq!(listed, [("達成", 2), ("遅れ", 1), ("実績なし", 3)]);
        assert_eq!((shown.indicator_count, shown.grade), (6, Grade::C));
    }
}

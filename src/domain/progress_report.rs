//! The 進捗状況報告書 of a plan's fiscal year as content: what the printed report, its workbook
//! and the published snapshot show, and nothing else.
//!
//! It holds only what may be made public: approved actuals, approved department evaluations and
//! the 本部's recorded assessment, with no user names, review or return comments, versions or
//! internal ids beyond those of the plan's own structure. Sample data keeps its `is_sample` flag so
//! that no renderer presents it as the municipality's real figures or words. Serialisable both ways:
//! a published snapshot is this struct stored and read back.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::achievement::{Grade, Status};
use crate::domain::fiscal_year::FiscalYear;
use crate::domain::measure_evaluation::RoadmapProgress;

/// A plan's 進捗状況報告書 for one fiscal year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgressReport {
    pub plan_id: i32,
    #[schema(example = "itabashi-ict-2020")]
    pub plan_code: String,
    /// The plan's name in force in the year
    #[schema(example = "板橋区ICT推進・活用計画2020（追録版）")]
    pub plan_name: String,
    #[schema(example = "板橋区")]
    pub municipality_name: String,
    #[schema(example = 2020)]
    pub fiscal_year: i32,
    /// 和暦 with the western year
    #[schema(example = "令和2(2020)年度")]
    pub fiscal_year_label: String,
    #[schema(example = "平成28(2016)年度〜令和2(2020)年度")]
    pub plan_period_label: String,
    /// The scale 自己評価, 本部評価 and indicator grades are given on (`A`: 進捗率 100% 以上)
    pub grading_scale: Vec<ReportGradeStep>,
    /// The plan's roll-up over every indicator counting in the year
    pub summary: ReportRollUp,
    /// 基本目標 (or ICT活用ビジョン, 基本方針) in the plan's order, each with the measures whose ◎ it is
    pub goals: Vec<ReportGoal>,
    /// Measures without a ◎ goal (none in a well-formed plan)
    pub measures_without_goal: Vec<ReportMeasure>,
    /// Some figure or text shown is sample data, not the municipality's
    pub contains_sample: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportGradeStep {
    pub grade: Grade,
    #[schema(example = "進捗率 100% 以上")]
    pub description: String,
}

/// Indicators counted by status and the group's grade (from the clamped mean progress).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportRollUp {
    pub indicator_count: usize,
    /// Each status that occurs, in the order of [`Status`], with its count
    pub status_counts: Vec<StatusCount>,
    /// Achieved indicators as a percent of those with data
    #[schema(value_type = Option<f64>)]
    pub achieved_share: Option<Decimal>,
    /// Mean of the progress rates clamped to [0, 100]
    #[schema(value_type = Option<f64>)]
    pub mean_progress: Option<Decimal>,
    pub grade: Grade,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusCount {
    pub status: Status,
    #[schema(example = "順調")]
    pub label: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportGoal {
    pub id: i32,
    /// The goal it belongs to (a 基本方針 under its ICT活用ビジョン)
    pub parent_id: Option<i32>,
    #[schema(example = "基本目標")]
    pub kind: String,
    #[schema(example = "②区民サービスの向上")]
    pub label: String,
    /// Over the measures whose ◎ is this goal or one below it
    pub roll_up: ReportRollUp,
    /// The measures whose ◎ is this very goal, in number order
    pub measures: Vec<ReportMeasure>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportMeasure {
    pub id: i32,
    #[schema(example = 6)]
    pub number: i32,
    /// The name in force in the year
    #[schema(example = "マイナンバー制度への対応")]
    pub name: String,
    #[schema(example = "Ⅰ 官民データの利活用")]
    pub strategy_label: Option<String>,
    /// Owning departments in the year
    pub departments: Vec<String>,
    pub indicators: Vec<ReportIndicator>,
    /// The year's roadmap steps
    pub roadmap: Vec<ReportRoadmapStep>,
    /// Each owning department's approved 施策評価 (lead first)
    pub department_evaluations: Vec<ReportDepartmentEvaluation>,
    /// Owning departments whose 施策評価 of the year is not approved yet
    pub departments_without_evaluation: Vec<String>,
    /// 本部評価 and 方向性, once recorded
    pub assessment: Option<ReportAssessment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportRoadmapStep {
    /// The roadmap's row (`情報連携`), empty for a single row
    pub track: String,
    #[schema(example = "運用")]
    pub activity: String,
}

/// One indicator of the year: the plan's figures, the approved actual and what the rules made
/// of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportIndicator {
    pub id: i32,
    pub number: Option<i32>,
    #[schema(example = "マイナンバーカードの交付率")]
    pub name: String,
    #[schema(example = "%")]
    pub unit: String,
    /// 現状 as the plan prints it
    #[schema(example = "15.2%")]
    pub baseline: String,
    #[schema(example = "平成29(2017)年度")]
    pub baseline_year_label: Option<String>,
    /// 現状 as a number, for the chart
    #[schema(value_type = Option<f64>)]
    pub baseline_value: Option<Decimal>,
    /// The target in force, as the plan prints it
    #[schema(example = "50%")]
    pub target: String,
    #[schema(example = "令和2(2020)年度")]
    pub target_year_label: Option<String>,
    /// The approved actual as shown (a ratio's percent, a number or a stage's name); `null`
    /// without one
    #[schema(example = "32.4")]
    pub actual: Option<String>,
    /// The approved actual is sample data
    pub actual_is_sample: bool,
    /// 達成率
    #[schema(value_type = Option<f64>)]
    pub attainment_rate: Option<Decimal>,
    /// 進捗率
    #[schema(value_type = Option<f64>)]
    pub progress_rate: Option<Decimal>,
    pub status: Status,
    #[schema(example = "順調")]
    pub status_label: String,
    pub grade: Grade,
    /// The years of the plan up to the report's, for the chart
    pub series: Vec<SeriesPoint>,
}

/// One year of an indicator's chart, by the same rules as the evaluation of that year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeriesPoint {
    pub fiscal_year: i32,
    #[schema(example = "R2")]
    pub short_label: String,
    /// The target in force's value (for milestones its stage index)
    #[schema(value_type = Option<f64>)]
    pub target: Option<Decimal>,
    /// Where the indicator should be in the year if on schedule
    #[schema(value_type = Option<f64>)]
    pub expected: Option<Decimal>,
    /// The approved actual as the rules used it (a ratio as a percent)
    #[schema(value_type = Option<f64>)]
    pub actual: Option<Decimal>,
    pub actual_is_sample: bool,
}

/// A department's approved 施策評価 of the measure's year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportDepartmentEvaluation {
    #[schema(example = "戸籍住民課")]
    pub department_name: String,
    /// 主管
    pub is_lead: bool,
    /// 取組実績
    pub work_done: String,
    pub roadmap_progress: RoadmapProgress,
    #[schema(example = "予定どおり")]
    pub roadmap_progress_label: String,
    /// Why the roadmap step is off the plan
    pub progress_reason: String,
    /// 自己評価
    pub self_grade: Grade,
    /// 課題
    pub issues: String,
    /// 今後の方向性, as the department sees it
    pub next_steps: String,
    pub is_sample: bool,
}

/// The 本部's assessment of the measure's year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportAssessment {
    /// 本部評価
    pub hq_grade: Grade,
    /// The 本部's reasons for its grade
    pub hq_comment: String,
    /// 方向性
    #[schema(example = "拡充")]
    pub direction: String,
    pub direction_reason: String,
    pub is_sample: bool,
}

impl ProgressReport {
    /// Every measure of the report, goal by goal, then those without a goal.
    pub fn measures(&self) -> impl Iterator<Item = &ReportMeasure> {
        self.goals.iter().flat_map(|g| g.measures.iter()).chain(self.measures_without_goal.iter())
    }
}

impl ReportMeasure {
    /// Whether anything shown for the measure is sample data.
    pub fn shows_sample(&self) -> bool {
        self.indicators.iter().any(|i| i.actual_is_sample || i.series.iter().any(|p| p.actual_is_sample))
            || self.department_evaluations.iter().any(|e| e.is_sample)
            || self.assessment.as_ref().is_some_and(|a| a.is_sample)
    }
}

/// A fiscal year as a chart's axis shows it: `R2`, `H30` (the western year outside the eras).
pub fn short_year_label(year: i32) -> String {
    FiscalYear::new(year).map_or_else(|_| year.to_string(), FiscalYear::short_label)
}

/// A value as a table prints it: no trailing zeros (`50`, `32.4`).
pub fn number_text(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_follow_the_eras() {
        assert_eq!(short_year_label(2019), "R1");
        assert_eq!(short_year_label(2020), "R2");
        assert_eq!(short_year_label(2018), "H30");
        assert_eq!(short_year_label(1989), "H1");
    }

    #[test]
    fn numbers_are_printed_without_trailing_zeros() {
        assert_eq!(number_text(Decimal::new(5000, 2)), "50");
        assert_eq!(number_text(Decimal::new(324, 1)), "32.4");
    }
}

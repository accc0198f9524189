//! Renders the 進捗状況報告書 ([`crate::domain::progress_report::ProgressReport`]): as one
//! print-ready HTML document ([`html::render_html`]), with inline SVG charts ([`chart`]); the
//! workbook is [`crate::spreadsheet::progress_report`]. Renderers take the content model only, so a
//! published snapshot renders the same way as the live report.

pub mod chart;
pub mod html;

pub use html::{RenderOptions, render_html};

use crate::domain::progress_report::ProgressReport;
use crate::error::AppError;

/// The most a report's content may weigh as JSON. Every text in it is already bounded (names 200,
/// free texts 2,000 characters) and each indicator's series holds one point per plan year up to
/// the report's; this caps the number of them, so the HTML (a constant factor of the content: markup,
/// one chart of at most 112 years per indicator) and the workbook stay bounded whatever the plan.
pub const MAX_REPORT_CONTENT_BYTES: usize = 8 * 1024 * 1024;

/// Refuses a report whose content exceeds [`MAX_REPORT_CONTENT_BYTES`].
pub fn check_size(report: &ProgressReport) -> Result<(), AppError> {
    let size = serde_json::to_vec(report).map_err(|e| AppError::Internal(format!("report: {e}")))?.len();
    if size > MAX_REPORT_CONTENT_BYTES {
        return Err(AppError::invalid(
            "plan",
            format!(
                "この計画は報告書として出力できる大きさ({} MiB)を超えています (the report's content would be {size} bytes, more than {MAX_REPORT_CONTENT_BYTES})",
                MAX_REPORT_CONTENT_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// A small report written by hand for the renderers' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use rust_decimal::Decimal;

    use crate::domain::achievement::{Grade, Status};
    use crate::domain::measure_evaluation::RoadmapProgress;
    use crate::domain::progress_report::*;

    fn roll_up() -> ReportRollUp {
        ReportRollUp {
            indicator_count: 2,
            status_counts: vec![
                StatusCount { status: Status::OnTrack, label: "順調".into(), count: 1 },
                StatusCount { status: Status::NoData, label: "実績なし".into(), count: 1 },
            ],
            achieved_share: Some(Decimal::ZERO),
            mean_progress: Some(Decimal::new(800, 1)),
            grade: Grade::B,
        }
    }

    fn indicator(id: i32, name: &str, actual: Option<&str>, is_sample: bool) -> ReportIndicator {
        let point = |year: i32, value: Option<i64>| SeriesPoint {
            fiscal_year: year,
            short_label: short_year_label(year),
            target: Some(Decimal::from(50)),
            expected: Some(Decimal::from(20 + (year - 2018) * 10)),
            actual: value.map(Decimal::from),
            actual_is_sample: is_sample && value.is_some(),
        };
        ReportIndicator {
            id,
            number: Some(id),
            name: name.into(),
            unit: "%".into(),
            baseline: "10%".into(),
            baseline_year_label: Some("平成29(2017)年度".into()),
            baseline_value: Some(Decimal::from(10)),
            target: "50%".into(),
            target_year_label: Some("令和2(2020)年度".into()),
            actual: actual.map(Into::into),
            actual_is_sample: is_sample && actual.is_some(),
            attainment_rate: actual.map(|_| Decimal::new(640, 1)),
            progress_rate: actual.map(|_| Decimal::new(550, 1)),
            status: if actual.is_some() { Status::OnTrack } else { Status::NoData },
            status_label: if actual.is_some() { "順調" } else { "実績なし" }.into(),
            grade: if actual.is_some() { Grade::B } else { Grade::NotAssessable },
            series: vec![point(2018, Some(15)), point(2019, Some(25)), point(2020, actual.map(|_| 32))],
        }
    }

    fn measure(id: i32, name: &str, is_sample: bool) -> ReportMeasure {
        ReportMeasure {
            id,
            number: id,
            name: name.into(),
            strategy_label: Some("Ⅰ 官民データの利活用".into()),
            departments: vec!["戸籍住民課".into(), "IT推進課".into()],
            indicators: vec![
                indicator(id * 10 + 1, "交付率 <b>&</b>", Some("32.0"), is_sample),
                indicator(id * 10 + 2, "手続数", None, false),
            ],
            roadmap: vec![ReportRoadmapStep {
                track: "マイナンバーカード".into(), activity: "交付促進".into()
            }],
            department_evaluations: vec![ReportDepartmentEvaluation {
                department_name: "戸籍住民課".into(),
                is_lead: true,
                work_done: format!("{name}の取組実績\n出張受付を実施"),
                roadmap_progress: RoadmapProgress::Delayed,
                roadmap_progress_label: "遅れ".into(),
                progress_reason: "機器調達の遅れ".into(),
                self_grade: Grade::B,
                issues: "窓口の混雑".into(),
                next_steps: "予約制の拡大".into(),
                is_sample,
            }],
            departments_without_evaluation: vec!["IT推進課".into()],
            assessment: Some(ReportAssessment {
                hq_grade: Grade::C,
                hq_comment: "交付率の伸びが鈍い".into(),
                direction: "改善・見直し".into(),
                direction_reason: "予約制で混雑を解消する".into(),
                is_sample,
            }),
        }
    }

    /// Two goals; measure 3 without a goal; sample data in measure 1 only.
    pub fn report() -> ProgressReport {
        ProgressReport {
            plan_id: 1,
            plan_code: "demo".into(),
            plan_name: "板橋区ICT推進・活用計画2020".into(),
            municipality_name: "板橋区".into(),
            fiscal_year: 2020,
            fiscal_year_label: "令和2(2020)年度".into(),
            plan_period_label: "平成28(2016)年度〜令和2(2020)年度".into(),
            grading_scale: vec![ReportGradeStep { grade: Grade::A, description: "進捗率 100% 以上".into() }],
            summary: roll_up(),
            goals: vec![
                ReportGoal {
                    id: 1,
                    parent_id: None,
                    kind: "基本目標".into(),
                    label: "①開かれた区政の実現".into(),
                    roll_up: roll_up(),
                    measures: vec![measure(1, "マイナンバー制度への対応", true)],
                },
                ReportGoal {
                    id: 2,
                    parent_id: None,
                    kind: "基本目標".into(),
                    label: "②区民サービスの向上".into(),
                    roll_up: roll_up(),
                    measures: vec![measure(2, "<script>alert('x')</script>電子申請", false)],
                },
            ],
            measures_without_goal: vec![measure(3, "庁内ネットワークの更新", false)],
            contains_sample: true,
        }
    }
}

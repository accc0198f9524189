//! The 進捗状況報告書 as a workbook: the same content as the HTML report in three sheets, 指標
//! (the KPI table), 施策評価 (each department's approved evaluation and the year's roadmap) and
//! 本部評価 (grade and 方向性). Texts are string cells, never formulas ([`super::write_cells`]).

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

use super::{write_cells, xlsx_error};
use crate::domain::progress_report::{ProgressReport, ReportMeasure};
use crate::error::AppError;

pub const INDICATOR_COLUMNS: [&str; 16] = [
    "基本目標",
    "施策No.",
    "推進施策",
    "指標No.",
    "指標",
    "単位",
    "現状",
    "現状年度",
    "目標",
    "目標年度",
    "実績",
    "達成率(%)",
    "進捗率(%)",
    "状況",
    "評価",
    "サンプル",
];

pub const EVALUATION_COLUMNS: [&str; 13] = [
    "基本目標",
    "施策No.",
    "推進施策",
    "所管課",
    "主管",
    "ロードマップ(当該年度)",
    "取組実績",
    "ロードマップの進捗",
    "進捗の理由",
    "自己評価",
    "課題",
    "今後の方向性",
    "サンプル",
];

pub const ASSESSMENT_COLUMNS: [&str; 9] = [
    "基本目標",
    "施策No.",
    "推進施策",
    "本部評価",
    "評価の理由",
    "方向性",
    "方向性の理由",
    "評価未確定の課",
    "サンプル",
];

/// Each measure with the label of its ◎ goal, in the report's order.
fn measures_with_goal(report: &ProgressReport) -> Vec<(&str, &ReportMeasure)> {
    report
        .goals
        .iter()
        .flat_map(|g| g.measures.iter().map(move |m| (g.label.as_str(), m)))
        .chain(report.measures_without_goal.iter().map(|m| ("", m)))
        .collect()
}

fn sample(is_sample: bool) -> String {
    if is_sample { "サンプル".to_owned() } else { String::new() }
}

pub fn indicator_rows(report: &ProgressReport) -> Vec<Vec<String>> {
    let rate = |v: Option<rust_decimal::Decimal>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    measures_with_goal(report)
        .into_iter()
        .flat_map(|(goal, measure)| {
            measure.indicators.iter().map(move |i| {
                vec![
                    goal.to_owned(),
                    measure.number.to_string(),
                    measure.name.clone(),
                    i.number.map(|n| n.to_string()).unwrap_or_default(),
                    i.name.clone(),
                    i.unit.clone(),
                    i.baseline.clone(),
                    i.baseline_year_label.clone().unwrap_or_default(),
                    i.target.clone(),
                    i.target_year_label.clone().unwrap_or_default(),
                    i.actual.clone().unwrap_or_default(),
                    rate(i.attainment_rate),
                    rate(i.progress_rate),
                    i.status_label.clone(),
                    i.grade.label().to_owned(),
                    sample(i.actual_is_sample),
                ]
            })
        })
        .collect()
}

pub fn evaluation_rows(report: &ProgressReport) -> Vec<Vec<String>> {
    measures_with_goal(report)
        .into_iter()
        .flat_map(|(goal, measure)| {
            let roadmap: Vec<String> = measure
                .roadmap
                .iter()
                .map(|s| if s.track.is_empty() { s.activity.clone() } else { format!("{}: {}", s.track, s.activity) })
                .collect();
            let roadmap = roadmap.join("\n");
            measure.department_evaluations.iter().map(move |e| {
                vec![
                    goal.to_owned(),
                    measure.number.to_string(),
                    measure.name.clone(),
                    e.department_name.clone(),
                    if e.is_lead { "主管".to_owned() } else { String::new() },
                    roadmap.clone(),
                    e.work_done.clone(),
                    e.roadmap_progress_label.clone(),
                    e.progress_reason.clone(),
                    e.self_grade.label().to_owned(),
                    e.issues.clone(),
                    e.next_steps.clone(),
                    sample(e.is_sample),
                ]
            })
        })
        .collect()
}

pub fn assessment_rows(report: &ProgressReport) -> Vec<Vec<String>> {
    measures_with_goal(report)
        .into_iter()
        .map(|(goal, measure)| {
            let assessment = measure.assessment.as_ref();
            vec![
                goal.to_owned(),
                measure.number.to_string(),
                measure.name.clone(),
                assessment.map(|a| a.hq_grade.label().to_owned()).unwrap_or_else(|| "未実施".to_owned()),
                assessment.map(|a| a.hq_comment.clone()).unwrap_or_default(),
                assessment.map(|a| a.direction.clone()).unwrap_or_default(),
                assessment.map(|a| a.direction_reason.clone()).unwrap_or_default(),
                measure.departments_without_evaluation.join("、"),
                sample(assessment.is_some_and(|a| a.is_sample)),
            ]
        })
        .collect()
}

/// One sheet: the report's title, a sample notice when needed, the header and the rows.
fn add_sheet(
    workbook: &mut Workbook,
    name: &str,
    report: &ProgressReport,
    columns: &[&str],
    rows: &[Vec<String>],
    numeric_columns: &[usize],
) -> Result<(), AppError> {
    let heading = Format::new().set_bold().set_font_size(14);
    let header =
        Format::new().set_bold().set_background_color("#DDEBF7").set_text_wrap().set_align(FormatAlign::Center);
    let sheet: &mut Worksheet = workbook.add_worksheet().set_name(name).map_err(xlsx_error)?;
    let title = format!(
        "{} {} {} 進捗状況報告書（{}）",
        report.municipality_name, report.plan_name, report.fiscal_year_label, name
    );
    sheet.write_string_with_format(0, 0, title, &heading).map_err(xlsx_error)?;
    if report.contains_sample {
        sheet
            .write_string(1, 0, "「サンプル」と記した行はデモ用のサンプルデータで、実際の実績や評価ではありません。")
            .map_err(xlsx_error)?;
    }
    let header_row = 3;
    for (column, label) in columns.iter().enumerate() {
        let column = u16::try_from(column).map_err(|e| AppError::Internal(e.to_string()))?;
        sheet.write_string_with_format(header_row, column, *label, &header).map_err(xlsx_error)?;
    }
    for (index, row) in rows.iter().enumerate() {
        let row_number = header_row + 1 + u32::try_from(index).map_err(|e| AppError::Internal(e.to_string()))?;
        write_cells(sheet, row_number, row, numeric_columns)?;
    }
    sheet.set_freeze_panes(header_row + 1, 0).map_err(xlsx_error)?;
    Ok(())
}

/// The report's workbook.
pub fn progress_report_xlsx(report: &ProgressReport) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    add_sheet(&mut workbook, "指標", report, &INDICATOR_COLUMNS, &indicator_rows(report), &[11, 12])?;
    add_sheet(&mut workbook, "施策評価", report, &EVALUATION_COLUMNS, &evaluation_rows(report), &[])?;
    add_sheet(&mut workbook, "本部評価", report, &ASSESSMENT_COLUMNS, &assessment_rows(report), &[])?;
    workbook.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress_report::fixture;

    #[test]
    fn every_indicator_evaluation_and_measure_has_its_row() {
        let report = fixture::report();
        assert_eq!(indicator_rows(&report).len(), 6);
        assert_eq!(evaluation_rows(&report).len(), 3);
        let assessments = assessment_rows(&report);
        assert_eq!(assessments.len(), 3);
        assert_eq!(assessments[0][5], "改善・見直し");
        assert_eq!(assessments[0][8], "サンプル");
        assert_eq!(assessments[1][8], "");
    }

    #[test]
    fn the_workbook_has_three_sheets_and_texts_that_look_like_formulas_stay_text() {
        let mut report = fixture::report();
        report.goals[0].measures[0].name = "=HYPERLINK(\"http://example.com\")".into();
        let bytes = progress_report_xlsx(&report).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let names: Vec<String> = archive.file_names().map(|name| name.unwrap().into_owned()).collect();
        assert!(names.iter().filter(|n| n.starts_with("xl/worksheets/sheet")).count() == 3, "{names:?}");
        let mut sheet = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut sheet).unwrap();
        assert!(!sheet.contains("<f>"), "a formula was written: {sheet}");
    }
}
